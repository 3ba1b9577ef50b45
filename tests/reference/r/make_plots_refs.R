# Reference values for tests/test_plots.py (bayes_msc.presentation.plots), made with R metafor.
#
# Run from the repository root:
#     Rscript tests/reference/r/make_plots_refs.R
# It writes tests/reference/plots_metafor.json. The tests read that file and never call R.
#
# Datasets (real, published data):
#   bcg            metadat::dat.bcg, log risk ratios via escalc("RR"); covariate ablat
#                  (absolute latitude). Meta-regressions on ablat and on log10(ablat),
#                  DerSimonian-Laird; predict() gives the mean line and its 95% z interval
#                  that metareg_figure() draws from the coefficients' covariance.
#   eight_schools  Rubin (1981) SAT coaching data as printed in the bayesmeta vignette
#                  (y, se); DerSimonian-Laird pool and its weights, the frequentist
#                  reference row of posterior_forest().

suppressPackageStartupMessages({
  library(metafor)
  library(metadat)
  library(jsonlite)
})

args <- commandArgs(trailingOnly = FALSE)
script <- sub("^--file=", "", args[grep("^--file=", args)])
out_path <- file.path(dirname(normalizePath(script)), "..", "plots_metafor.json")

bcg <- escalc(measure = "RR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = dat.bcg)
grid <- c(10, 13, 20, 30, 40, 55, 60)

metareg_case <- function(call_text) {
  fit <- eval(parse(text = call_text))
  term <- rownames(fit$beta)[2]
  newx <- if (grepl("log10", call_text)) log10(grid) else grid
  pr <- predict(fit, newmods = newx)
  list(
    call = call_text,
    predict_call = "predict(fit, newmods = <transformed grid>)",
    coefficients = as.numeric(fit$beta),
    names = rownames(fit$beta),
    vcov = unname(vcov(fit)),
    tau2 = fit$tau2,
    grid = grid,
    pred = as.numeric(pr$pred),
    ci_low = as.numeric(pr$ci.lb),
    ci_high = as.numeric(pr$ci.ub)
  )
}

es <- data.frame(
  label = paste("school", LETTERS[1:8]),
  yi = c(28.39, 7.94, -2.75, 6.82, -0.64, 0.63, 18.01, 12.16),
  sei = c(14.9, 10.2, 16.3, 11.0, 9.4, 11.4, 10.4, 17.6)
)
es_call <- "rma(yi = yi, sei = sei, data = es, method = \"DL\")"
es_fit <- eval(parse(text = es_call))
es_pred <- predict(es_fit)

out <- list(
  generated_by = "tests/reference/r/make_plots_refs.R",
  r_version = R.version.string,
  metafor_version = as.character(packageVersion("metafor")),
  metadat_version = as.character(packageVersion("metadat")),
  bcg = list(
    label = paste(bcg$author, bcg$year),
    yi = as.numeric(bcg$yi), vi = as.numeric(bcg$vi), ablat = bcg$ablat,
    escalc_call = "escalc(measure = \"RR\", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = dat.bcg)",
    linear = metareg_case("rma(yi, vi, mods = ~ ablat, data = bcg, method = \"DL\")"),
    log10 = metareg_case("rma(yi, vi, mods = ~ log10(ablat), data = bcg, method = \"DL\")")
  ),
  eight_schools = list(
    label = es$label, yi = es$yi, vi = es$sei^2,
    call = es_call,
    estimate = as.numeric(es_fit$beta), se = es_fit$se,
    ci_low = es_fit$ci.lb, ci_high = es_fit$ci.ub,
    tau2 = es_fit$tau2, i2 = es_fit$I2,
    pi_low = es_pred$pi.lb, pi_high = es_pred$pi.ub,
    weights_percent = as.numeric(weights(es_fit))
  )
)

writeLines(toJSON(out, auto_unbox = TRUE, digits = NA, pretty = TRUE), out_path)
cat("wrote", normalizePath(out_path), "\n")
