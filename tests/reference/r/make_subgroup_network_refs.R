# Reference values for subgroup analyses, factor meta-regression and network meta-analysis
# (issue 16), made with R metafor.
#
# Run from the repository root:
#     Rscript tests/reference/r/make_subgroup_network_refs.R
# It writes tests/reference/subgroup_network_metafor.json (the data: yi, vi and the factor x of
# every subgroup case, then the results); tests/test_subgroups.py and
# tests/test_network.py read it and never call R.
#
# Subgroups (metafor's rma.uni): for each dataset and method (DL, REML)
#   common tau^2:   rma(yi, vi, mods = ~ factor(x), method)          (QM, coefficients, tau2)
#                   rma(yi, vi, mods = ~ factor(x) - 1, method)      (each level's estimate)
#                   the same with relevel(factor(x), ref = REF)      (a stated reference level)
#   separate tau^2: rma(yi, vi, subset = x == level, method)         (each level pooled alone)
#                   rma(est, sei = se, method = "FE")$QE              (Q between the levels)
# Datasets (metadat):
#   bcg            dat.bcg, escalc("RR"), factor alloc (alternate, random, systematic)
#   raudenbush1985 dat.raudenbush1985 (yi, vi given), factor tester (aware, blind)
#   bangertdrowns  dat.bangertdrowns2004 (yi, vi given), factor grade (1, 2, 3, 4)
#
# Network (dat.senn2013: 26 trials, arm means and SDs of HbA1c change, 10 treatments):
#   arm level:      rma.mv(mi, vi = sdi^2 / ni, mods = ~ 0 + study + treatment dummies,
#                          random = ~ 1 | arm, method)  -- random arm effects of variance
#                          sigma^2 = tau^2 / 2 around fixed study baselines
#   contrast level: each arm versus its study's first arm, V with the first arm's variance
#                   shared, rma.mv(yi, V, mods = ~ 0 + treatment dummies,
#                          random = ~ comp | study, rho = 1/2, struct = "CS", method)
#   (method "FE": no random part). Reference treatment: placebo.

suppressPackageStartupMessages({
  library(metafor)
  library(metadat)
  library(jsonlite)
})

args <- commandArgs(trailingOnly = FALSE)
script <- sub("^--file=", "", args[grep("^--file=", args)])
here <- dirname(normalizePath(script))
out_path <- file.path(here, "..", "subgroup_network_metafor.json")

bcg <- escalc(measure = "RR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = dat.bcg)
datasets <- list(
  bcg = list(yi = as.numeric(bcg$yi), vi = as.numeric(bcg$vi), x = as.character(bcg$alloc),
             ref = "random"),
  raudenbush1985 = list(yi = as.numeric(dat.raudenbush1985$yi), vi = as.numeric(dat.raudenbush1985$vi),
                        x = as.character(dat.raudenbush1985$tester), ref = "blind"),
  bangertdrowns = list(yi = as.numeric(dat.bangertdrowns2004$yi), vi = as.numeric(dat.bangertdrowns2004$vi),
                       x = as.character(dat.bangertdrowns2004$grade), ref = "3")
)

# metafor's default control (Fisher scoring stops when tau^2 changes by < 1e-5), which
# bayes_msc.frequentist.tau2 reproduces step by step: the references are metafor's defaults.
ctl <- list()
num <- function(x) as.numeric(x)
fit_of <- function(res) list(
  b = num(res$b), se = num(res$se), ci_lb = num(res$ci.lb), ci_ub = num(res$ci.ub), zval = num(res$zval),
  pval = num(res$pval), tau2 = num(res$tau2), QE = num(res$QE), QEdf = num(res$k - res$p), QEp = num(res$QEp),
  QM = num(res$QM), QMdf = num(res$QMdf[1]), QMp = num(res$QMp), I2 = num(res$I2), H2 = num(res$H2),
  coef_names = rownames(res$b))

subgroups <- list()
for (name in names(datasets)) {
  d <- datasets[[name]]
  for (method in c("DL", "REML")) {
    x <- d$x
    common <- rma(d$yi, d$vi, mods = ~ factor(x), method = method, control = ctl)
    levels_fit <- rma(d$yi, d$vi, mods = ~ factor(x) - 1, method = method, control = ctl)
    releveled <- rma(d$yi, d$vi, mods = ~ relevel(factor(x), ref = d$ref), method = method, control = ctl)
    sep <- list()
    for (lv in sort(unique(x))) {
      r <- rma(d$yi, d$vi, subset = x == lv, method = method, control = ctl)
      sep[[lv]] <- fit_of(r)
    }
    est <- sapply(sep, function(s) s$b)
    se <- sapply(sep, function(s) s$se)
    between <- rma(est, sei = se, method = "FE")
    subgroups[[paste(name, method, sep = "_")]] <- list(
      dataset = name, method = tolower(method), reference = d$ref,
      data = list(yi = d$yi, vi = d$vi, x = d$x),
      call_common = sprintf("rma(yi, vi, mods = ~ factor(x), method = \"%s\")", method),
      call_levels = sprintf("rma(yi, vi, mods = ~ factor(x) - 1, method = \"%s\")", method),
      call_relevel = sprintf("rma(yi, vi, mods = ~ relevel(factor(x), ref = \"%s\"), method = \"%s\")", d$ref, method),
      call_separate = sprintf("rma(yi, vi, subset = x == level, method = \"%s\"); rma(est, sei = se, method = \"FE\")", method),
      common = fit_of(common), levels = fit_of(levels_fit), relevel = fit_of(releveled), separate = sep,
      q_between_separate = num(between$QE), q_between_separate_df = num(between$k - 1),
      q_between_separate_p = num(between$QEp))
  }
}

# ---- network: dat.senn2013 ----------------------------------------------------------------
s <- dat.senn2013
s$vi <- s$sdi^2 / s$ni
s$arm <- seq_len(nrow(s))
s$treatment <- relevel(factor(s$treatment), ref = "placebo")
trts <- levels(s$treatment)[-1]
X <- sapply(trts, function(t) as.numeric(s$treatment == t))
arm_fit <- list()
for (method in c("FE", "REML")) {
  if (method == "FE") {
    r <- rma.mv(s$mi, s$vi, mods = ~ 0 + factor(s$study) + X, method = "REML")  # no random part: FE (GLS)
  } else {
    r <- rma.mv(s$mi, s$vi, mods = ~ 0 + factor(s$study) + X, random = ~ 1 | arm, data = s,
                method = "REML", control = list(rel.tol = 1e-10, iter.max = 10000, eval.max = 10000))
  }
  keep <- grepl("^X", rownames(r$b))
  arm_fit[[method]] <- list(b = num(r$b[keep]), se = num(r$se[keep]), sigma2 = if (method == "FE") 0 else num(r$sigma2),
                            QE = num(r$QE), QEdf = num(r$k - r$p), names = trts)
}
# contrast level: each arm versus the first arm of its study
rows <- list()
for (st in unique(s$study)) {
  a <- s[s$study == st, ]
  for (j in 2:nrow(a)) rows[[length(rows) + 1]] <- data.frame(study = st, t1 = as.character(a$treatment[1]),
    t2 = as.character(a$treatment[j]), yi = a$mi[j] - a$mi[1], v1 = a$vi[1], v2 = a$vi[j])
}
cd <- do.call(rbind, rows)
cd$id <- seq_len(nrow(cd))
V <- diag(cd$v1 + cd$v2)
for (i in seq_len(nrow(cd))) for (j in seq_len(nrow(cd))) if (i != j && cd$study[i] == cd$study[j]) V[i, j] <- cd$v1[i]
XC <- sapply(trts, function(t) as.numeric(cd$t2 == t) - as.numeric(cd$t1 == t))
cd$comp <- paste(cd$t1, cd$t2)
contrast_fit <- list()
for (method in c("FE", "REML")) {
  if (method == "FE") {
    r <- rma.mv(cd$yi, V, mods = ~ 0 + XC, method = "REML")
    contrast_fit[[method]] <- list(b = num(r$b), se = num(r$se), tau2 = 0, QE = num(r$QE), QEdf = num(r$k - r$p))
  } else {
    r <- rma.mv(cd$yi, V, mods = ~ 0 + XC, random = ~ comp | study, rho = 1 / 2, struct = "CS", data = cd,
                method = "REML", control = list(rel.tol = 1e-10, iter.max = 10000, eval.max = 10000))
    contrast_fit[[method]] <- list(b = num(r$b), se = num(r$se), tau2 = num(r$tau2), QE = num(r$QE),
                                   QEdf = num(r$k - r$p))
  }
}
network <- list(
  dataset = "dat.senn2013", reference = "placebo", treatments = trts,
  arms = list(study = s$study, treatment = as.character(s$treatment), mi = s$mi, sdi = s$sdi, ni = s$ni),
  call_arm = "rma.mv(mi, sdi^2/ni, mods = ~ 0 + factor(study) + X, random = ~ 1 | arm, method = \"REML\")",
  call_contrast = "rma.mv(yi, V, mods = ~ 0 + X, random = ~ comp | study, rho = 1/2, struct = \"CS\", method = \"REML\")",
  arm_level = arm_fit, contrast_level = contrast_fit)

out <- list(generated_by = "tests/reference/r/make_subgroup_network_refs.R",
            r_version = R.version.string, metafor_version = as.character(packageVersion("metafor")),
            metadat_version = as.character(packageVersion("metadat")),
            subgroups = subgroups, network = network)
writeLines(toJSON(out, auto_unbox = TRUE, digits = NA, pretty = TRUE), out_path)
cat("wrote", out_path, "\n")
