# Reference values for a high-heterogeneity real dataset (bundled prior bounds, issue 12).
# Run from the repository root:  Rscript tests/reference/r/high_heterogeneity.R
# Writes tests/reference/high_heterogeneity.json. The tests read the JSON; they never call R.
#
# metadat's dat.normand1999 (Normand 1999, Stat Med 18:321-359): length of hospital stay
# (days) in 9 trials of specialist vs routine care for stroke. Mean difference (escalc
# "MD"); the between-trial SD is large (REML tau about 25 days) and its Q-profile 95% CI
# (metafor's confint) reaches past 50 days.
suppressPackageStartupMessages({ library(metafor); library(jsonlite) })

d <- dat.normand1999
md <- escalc(measure = "MD", m1i = m1i, sd1i = sd1i, n1i = n1i, m2i = m2i, sd2i = sd2i, n2i = n2i, data = d)
reml <- rma(yi, vi, data = md, method = "REML")
dl <- rma(yi, vi, data = md, method = "DL")
ci <- confint(reml)

out <- list(
  generated_by = "tests/reference/r/high_heterogeneity.R",
  r_version = R.version.string,
  metafor_version = as.character(packageVersion("metafor")),
  metadat_version = as.character(packageVersion("metadat")),
  source = "metadat::dat.normand1999 (Normand 1999, Stat Med 18:321-359): length of hospital stay, days",
  calls = list(
    escalc = 'escalc(measure = "MD", m1i = m1i, sd1i = sd1i, n1i = n1i, m2i = m2i, sd2i = sd2i, n2i = n2i, data = dat.normand1999)',
    reml = 'rma(yi, vi, data = md, method = "REML")',
    dl = 'rma(yi, vi, data = md, method = "DL")',
    confint = "confint(reml)  # Q-profile CI of tau^2 and tau"
  ),
  study = as.character(d$source),
  m1i = d$m1i, sd1i = d$sd1i, n1i = d$n1i, m2i = d$m2i, sd2i = d$sd2i, n2i = d$n2i,
  yi = as.numeric(md$yi), vi = as.numeric(md$vi),
  reml = list(tau2 = reml$tau2, tau = sqrt(reml$tau2), estimate = as.numeric(reml$beta), se = reml$se,
              i2 = reml$I2),
  dl = list(tau2 = dl$tau2, tau = sqrt(dl$tau2), estimate = as.numeric(dl$beta), se = dl$se),
  reml_tau_ci = list(estimate = ci$random["tau", "estimate"], lower = ci$random["tau", "ci.lb"],
                     upper = ci$random["tau", "ci.ub"])
)
writeLines(toJSON(out, auto_unbox = TRUE, digits = NA, pretty = TRUE), "tests/reference/high_heterogeneity.json")
