# Reference values for bayes_msc.inference.reproduce (bayes-msc reproduce), made with R metafor.
#
# Run from the repository root:
#     Rscript tests/reference/r/make_reproduce_refs.R
# It writes tests/reference/reproduce_refs.json. The tests read that file and never call R.
#
# Everything is rebuilt here from the arm-level CSV values, independently of bayes_msc:
# comparisons (every treatment x control pair of a study, arms.csv order), mean differences
# with metafor::escalc("MD"), a shared arm's n split among its comparisons (Cochrane
# Handbook 23.3.4) or kept whole (the paper's double counting), and the paper's rule
# (Qu & Sun 2021: rma(method = "DL") when the fixed-effect fit has I2 > 50 or QEp < 0.1,
# otherwise rma(method = "FE")).
#
# Datasets:
#   simulated   data/msc_knee_oa_simulated (SIMULATED outcomes, 0-100 scales), pooled for
#               every row of data/msc_knee_oa/published_pooled.csv with the trials listed
#               there; plus the Table 2 design on vas: rma(yi, vi, mods = ~ covariates,
#               method = "REML", test = "knha") at months 3, 6, 12, with covariates of a
#               comparison = n-weighted mean of its arms' values where both give one, else
#               the one given (dose: the treatment arm).
#   constructed a small SIMULATED-by-construction dataset (values typed below, stored in the
#               JSON so the test writes the same CSV files): a two-arm trial, a three-arm
#               trial sharing its control, a trial on a 0-10 scale, and a trial whose values
#               are declared missing.

suppressPackageStartupMessages({
  library(metafor)
  library(jsonlite)
})

args <- commandArgs(trailingOnly = FALSE)
script <- sub("^--file=", "", args[grep("^--file=", args)])
here <- dirname(normalizePath(script))
root <- normalizePath(file.path(here, "..", "..", ".."))
out_path <- file.path(here, "..", "reproduce_refs.json")

num <- function(x) as.numeric(x)

# ---- comparisons and the paper's rule --------------------------------------------------

comparisons <- function(arms, outc, outcome, month, studies, split = TRUE, rescale = TRUE) {
  rows <- list()
  for (s in unique(arms$study[arms$study %in% studies])) {
    a <- arms[arms$study == s, ]
    val <- function(arm) {
      r <- outc[outc$study == s & outc$arm == arm & outc$outcome == outcome & outc$month == month &
                  !is.na(outc$mean), ]
      if (nrow(r) == 0) return(NULL)
      n <- if (!is.na(r$n[1])) r$n[1] else a$n[a$arm == arm]
      f <- if (rescale && !is.na(r$scale_min[1])) 100 / (r$scale_max[1] - r$scale_min[1]) else 1
      m0 <- if (rescale && !is.na(r$scale_min[1])) r$scale_min[1] else 0
      list(mean = (r$mean[1] - m0) * f, sd = r$sd[1] * f, n = n)
    }
    tr <- a$arm[a$role == "treatment"]
    co <- a$arm[a$role == "control"]
    pairs <- expand.grid(t = tr, c = co, stringsAsFactors = FALSE)
    pairs <- pairs[order(match(pairs$t, a$arm), match(pairs$c, a$arm)), ]
    ok <- sapply(seq_len(nrow(pairs)), function(i) !is.null(val(pairs$t[i])) && !is.null(val(pairs$c[i])))
    pairs <- pairs[ok, , drop = FALSE]
    if (nrow(pairs) == 0) next
    for (i in seq_len(nrow(pairs))) {
      vt <- val(pairs$t[i]); vc <- val(pairs$c[i])
      mt <- if (split) sum(pairs$t == pairs$t[i]) else 1
      mc <- if (split) sum(pairs$c == pairs$c[i]) else 1
      rows[[length(rows) + 1]] <- data.frame(study = s, t = pairs$t[i], c = pairs$c[i],
        m1i = vt$mean, sd1i = vt$sd, n1i = vt$n / mt, m2i = vc$mean, sd2i = vc$sd, n2i = vc$n / mc)
    }
  }
  if (length(rows) == 0) return(NULL)
  d <- do.call(rbind, rows)
  escalc(measure = "MD", m1i = m1i, sd1i = sd1i, n1i = n1i, m2i = m2i, sd2i = sd2i, n2i = n2i, data = d)
}

paper_rule <- function(d) {
  fe <- rma(yi, vi, data = d, method = "FE")
  method <- if (fe$k > 1 && (fe$I2 > 50 || fe$QEp < 0.1)) "DL" else "FE"
  res <- rma(yi, vi, data = d, method = method)
  list(method = tolower(method), k = res$k, estimate = num(res$beta), se = num(res$se),
       ci_lb = num(res$ci.lb), ci_ub = num(res$ci.ub), pval = num(res$pval),
       fe_I2 = num(fe$I2), fe_QEp = num(fe$QEp), studies = I(unique(d$study)))
}

read_arms <- function(path) read.csv(path, stringsAsFactors = FALSE, na.strings = "")
read_outc <- function(path) {
  o <- read.csv(path, stringsAsFactors = FALSE, na.strings = "")
  for (c in c("n", "mean", "sd", "scale_min", "scale_max")) if (!c %in% names(o)) o[[c]] <- NA
  o
}

# ---- simulated dataset: every published row --------------------------------------------

sim_arms <- read_arms(file.path(root, "data/msc_knee_oa_simulated/arms.csv"))
sim_out <- read_outc(file.path(root, "data/msc_knee_oa_simulated/outcomes.csv"))
published <- read.csv(file.path(root, "data/msc_knee_oa/published_pooled.csv"), stringsAsFactors = FALSE)

pooled <- list()
for (i in seq_len(nrow(published))) {
  p <- published[i, ]
  trials <- strsplit(p$trials, ";")[[1]]
  split <- comparisons(sim_arms, sim_out, p$outcome, p$month, trials, split = TRUE)
  whole <- comparisons(sim_arms, sim_out, p$outcome, p$month, trials, split = FALSE)
  pooled[[i]] <- list(outcome = p$outcome, month = p$month,
                      split = if (is.null(split)) NULL else paper_rule(split),
                      whole = if (is.null(whole)) NULL else paper_rule(whole))
}

# ---- simulated dataset: Table 2 design on vas ------------------------------------------

covariate <- function(arms, d, column) {
  sapply(seq_len(nrow(d)), function(i) {
    a <- arms[arms$study == d$study[i], ]
    at <- a[a$arm == d$t[i], ]; ac <- a[a$arm == d$c[i], ]
    vt <- at[[column]]; vc <- ac[[column]]
    if (!is.na(vt) && !is.na(vc)) (at$n * vt + ac$n * vc) / (at$n + ac$n)
    else if (!is.na(vt)) vt else vc
  })
}
sim_arms$female_pct <- 100 * sim_arms$female / (sim_arms$female + sim_arms$male)
sim_arms$kl_grade_mean <- (2 * sim_arms$kl2 + 3 * sim_arms$kl3 + 4 * sim_arms$kl4) /
  (sim_arms$kl2 + sim_arms$kl3 + sim_arms$kl4)
covs <- c("age_mean", "female_pct", "kl_grade_mean", "dose_million")
vas_trials <- strsplit(published$trials[published$outcome == "vas"][1], ";")[[1]]
metareg <- list()
for (month in c(3, 6, 12)) {
  d <- comparisons(sim_arms, sim_out, "vas", month, vas_trials, split = TRUE)
  for (cv in covs) d[[cv]] <- covariate(sim_arms, d, cv)
  models <- c(list(joint = covs), setNames(as.list(covs), paste0("univariable: ", covs)))
  for (m in names(models)) {
    f <- as.formula(paste("~", paste(models[[m]], collapse = " + ")))
    call <- sprintf("rma(yi, vi, mods = ~ %s, data = d, method = \"REML\", test = \"knha\")",
                    paste(models[[m]], collapse = " + "))
    res <- rma(yi, vi, mods = f, data = d, method = "REML", test = "knha")
    metareg[[length(metareg) + 1]] <- list(
      month = month, model = m, call = call, k = res$k, coef_names = I(rownames(res$beta)),
      beta = num(res$beta), se = num(res$se), tval = num(res$zval), pval = num(res$pval),
      ci_lb = num(res$ci.lb), ci_ub = num(res$ci.ub), tau2 = num(res$tau2))
  }
}

# ---- constructed dataset ---------------------------------------------------------------

c_arms <- data.frame(
  study = c("alpha_2001", "alpha_2001", "beta_2002", "beta_2002", "beta_2002", "gamma_2003",
            "gamma_2003", "delta_2004", "delta_2004"),
  arm = c("cells", "control", "low", "high", "control", "cells", "control", "cells", "control"),
  role = c("treatment", "control", "treatment", "treatment", "control", "treatment", "control",
           "treatment", "control"),
  n = c(20, 20, 15, 15, 16, 25, 25, 12, 12), stringsAsFactors = FALSE)
c_out <- data.frame(
  study = c("alpha_2001", "alpha_2001", "beta_2002", "beta_2002", "beta_2002", "gamma_2003",
            "gamma_2003", "delta_2004", "delta_2004"),
  arm = c_arms$arm, outcome = "pain", month = 6,
  mean = c(40, 50, 42, 45, 52, 4.1, 5.0, NA, NA),
  sd = c(10, 12, 11, 9, 10, 1.2, 1.5, NA, NA),
  scale_min = c(0, 0, 0, 0, 0, 0, 0, NA, NA), scale_max = c(100, 100, 100, 100, 100, 10, 10, NA, NA),
  stringsAsFactors = FALSE)
c_out$n <- NA
trials <- c("alpha_2001", "beta_2002", "gamma_2003")
constructed <- list(
  arms = c_arms, outcomes = c_out[, c("study", "arm", "outcome", "month", "mean", "sd", "scale_min", "scale_max")],
  split = paper_rule(comparisons(c_arms, c_out, "pain", 6, trials, split = TRUE)),
  whole = paper_rule(comparisons(c_arms, c_out, "pain", 6, trials, split = FALSE)),
  native = paper_rule(comparisons(c_arms, c_out, "pain", 6, trials, split = TRUE, rescale = FALSE)),
  native_whole = paper_rule(comparisons(c_arms, c_out, "pain", 6, trials, split = FALSE, rescale = FALSE)))

# Shared control kept whole with its covariance (Cochrane Handbook 23.3.4): V has the control's
# sd^2 / n off the diagonal for the two comparisons of beta_2002; the paper's rule on the
# generalised Q of the fixed-effect fit (I2 = (QE - df) / QE).
d <- comparisons(c_arms, c_out, "pain", 6, trials, split = FALSE)
V <- diag(d$vi)
for (a in seq_len(nrow(d))) for (b in seq_len(nrow(d))) {
  if (a != b && d$study[a] == d$study[b] && d$c[a] == d$c[b]) V[a, b] <- d$sd2i[a]^2 / d$n2i[a]
}
fe <- rma.mv(yi, V, data = d, method = "FE")
i2 <- max(0, 100 * (fe$QE - (fe$k - 1)) / fe$QE)
stopifnot(!(i2 > 50 || fe$QEp < 0.1))  # the rule picks the fixed-effect model here
constructed$shared <- list(call = "rma.mv(yi, V, data = d, method = \"FE\")", method = "fe", k = fe$k,
                           estimate = num(fe$beta), se = num(fe$se), ci_lb = num(fe$ci.lb),
                           ci_ub = num(fe$ci.ub), pval = num(fe$pval), QE = num(fe$QE), QEp = num(fe$QEp),
                           I2 = i2)

# ---- write ------------------------------------------------------------------------------

refs <- list(
  generated_by = "tests/reference/r/make_reproduce_refs.R",
  r_version = R.version.string,
  metafor_version = as.character(packageVersion("metafor")),
  rule_call = paste("fe <- rma(yi, vi, data = d, method = \"FE\");",
                    "rma(yi, vi, data = d, method = if (fe$I2 > 50 || fe$QEp < 0.1) \"DL\" else \"FE\")"),
  escalc_call = "escalc(measure = \"MD\", m1i, sd1i, n1i, m2i, sd2i, n2i) with n / (comparisons sharing the arm) when split",
  simulated_pooled = pooled, simulated_metareg = metareg, constructed = constructed)
write_json(refs, out_path, digits = NA, auto_unbox = TRUE, pretty = TRUE, na = "null", null = "null")
cat("wrote", normalizePath(out_path), "\n")
