# Reference values for tests/test_edge_cases.py, made with R metafor.
#
# Run from the repository root:
#     Rscript tests/reference/r/make_simulated_edge_cases.R
# It writes tests/reference/simulated_edge_cases_metafor.json; the tests never call R.
#
# Every input here is INVENTED to exercise an edge case (no trial's data): k = 2, all effects
# identical, variances spanning 20 orders of magnitude, tiny and huge scales, and a
# four-arm trial read from tests/corpus/simulated_multiarm (the same CSV files the Python
# test reads). Each case stores its exact R call ("call"), evaluated in an environment
# holding the case's `yi`, `vi` (and `V` for the shared-control case).

suppressPackageStartupMessages({
  library(metafor)
  library(jsonlite)
})

fields <- function(res) {
  pred <- predict(res)
  list(estimate = unname(coef(res))[1], se = res$se[1], ci_low = res$ci.lb[1], ci_high = res$ci.ub[1],
       z = res$zval[1], p = res$pval[1], tau2 = res$tau2, i2 = res$I2, h2 = res$H2, q = res$QE,
       q_df = res$k - res$p, q_p = res$QEp,
       pi_low = if (is.null(pred$pi.lb)) NA else pred$pi.lb[1],
       pi_high = if (is.null(pred$pi.ub)) NA else pred$pi.ub[1])
}

run <- function(name, yi, vi, calls, V = NULL) {
  env <- new.env()
  env$yi <- yi; env$vi <- vi; env$V <- V
  out <- list()
  for (key in names(calls)) {
    res <- eval(parse(text = calls[[key]]), envir = env)
    out[[key]] <- c(list(call = calls[[key]]), fields(res))
  }
  if (is.null(V)) {  # the Higgins/IntHout (t, k - 2 df, at least 1) prediction interval of DL
    call <- 'predict(rma(yi, vi, method = "DL"), pi.type = "riley")'
    pred <- eval(parse(text = call), envir = env)
    out$dl_pi_t <- list(call = call, pi_low = pred$pi.lb, pi_high = pred$pi.ub)
  }
  list(yi = yi, vi = vi, V = V, fits = out)
}

# PM: metafor's uniroot stops at an absolute tolerance of .Machine$double.eps^0.25 on tau2 by
# default (useless at the tiny scale), so the PM root is asked for to 1e-12 of the smallest vi.
std <- c(fe = 'rma(yi, vi, method = "FE")',
         dl = 'rma(yi, vi, method = "DL")',
         reml = 'rma(yi, vi, method = "REML")',
         pm = 'rma(yi, vi, method = "PM", control = list(tol = 1e-12 * min(vi)))',
         dl_hksj = 'rma(yi, vi, method = "DL", test = "knha")')

cases <- list()
cases$k2 <- run("k2", c(-10, -4), c(30.6, 31.7), std)
cases$k2_heterogeneous <- run("k2_heterogeneous", c(-20, 4), c(10.5, 12.5), std)
cases$identical <- run("identical", c(2, 2, 2, 2), c(1, 2, 3, 4), std)
cases$huge_and_tiny_variances <- run("huge_and_tiny_variances", c(1, 5, 2, 3, 2.5),
                                     c(1e-10, 1e10, 0.5, 2, 1), std)
base_y <- c(1.2, 0.8, 2.1, 1.5, 3.4, 0.2)
base_v <- c(0.10, 0.20, 0.15, 0.30, 0.25, 0.12)
cases$tiny_scale <- run("tiny_scale", base_y * 1e-6, base_v * 1e-12, std)
cases$unit_scale <- run("unit_scale", base_y, base_v, std)
cases$huge_scale <- run("huge_scale", base_y * 1e6, base_v * 1e12, std)

# The four-arm trial M1 (four treatment arms, one control) and two two-arm trials.
arms <- read.csv("tests/corpus/simulated_multiarm/arms.csv")
outc <- read.csv("tests/corpus/simulated_multiarm/outcomes.csv")
d <- merge(arms, outc, by = c("study", "arm"))
tr <- d[d$role == "treatment", ]
ct <- d[d$role == "control", c("study", "mean", "sd", "n")]
names(ct) <- c("study", "m2i", "sd2i", "n2i_whole")
pairs <- merge(tr, ct, by = "study", sort = FALSE)
pairs <- pairs[order(match(pairs$study, unique(arms$study)), match(pairs$arm, arms$arm)), ]
m <- table(pairs$study)[pairs$study]  # comparisons sharing each control arm
split <- escalc(measure = "MD", m1i = pairs$mean, sd1i = pairs$sd, n1i = pairs$n,
                m2i = pairs$m2i, sd2i = pairs$sd2i, n2i = pairs$n2i_whole / as.numeric(m))
shared <- escalc(measure = "MD", m1i = pairs$mean, sd1i = pairs$sd, n1i = pairs$n,
                 m2i = pairs$m2i, sd2i = pairs$sd2i, n2i = pairs$n2i_whole)
k <- nrow(pairs)
V <- diag(as.numeric(shared$vi))
for (i in 1:k) for (j in 1:k) if (i != j && pairs$study[i] == pairs$study[j])
  V[i, j] <- pairs$sd2i[i]^2 / pairs$n2i_whole[i]  # the shared control's variance of its mean
cases$multiarm_split <- run("multiarm_split", as.numeric(split$yi), as.numeric(split$vi),
                            c(dl = 'rma(yi, vi, method = "DL")', reml = 'rma(yi, vi, method = "REML")'))
cases$multiarm_shared <- run("multiarm_shared", as.numeric(shared$yi), as.numeric(shared$vi),
                             c(reml = 'rma.mv(yi, V, random = ~ 1 | id, data = data.frame(yi = yi, id = seq_along(yi)), method = "REML")',
                               fe = 'rma.mv(yi, V, data = data.frame(yi = yi), method = "FE")'),
                             V = V)
cases$multiarm_split$comparison <- paste(pairs$study, pairs$arm)
cases$multiarm_shared$comparison <- paste(pairs$study, pairs$arm)

out <- list(generated_by = "tests/reference/r/make_simulated_edge_cases.R",
            r_version = R.version.string,
            metafor_version = as.character(packageVersion("metafor")),
            note = "Invented inputs for edge cases; no trial's data.",
            cases = cases)
writeLines(toJSON(out, auto_unbox = TRUE, digits = NA, null = "null", na = "null", pretty = TRUE),
           "tests/reference/simulated_edge_cases_metafor.json")
