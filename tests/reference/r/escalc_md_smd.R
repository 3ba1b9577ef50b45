# Reference values for bayes_msc.data.effects (escalc_md, escalc_smd, effect_table).
# Run from the repository root:  Rscript tests/reference/r/escalc_md_smd.R
# Writes tests/reference/escalc_md_smd.json. The tests read the JSON; they never call R.
#
# 1. normand1999: metadat's dat.normand1999 (9 two-arm trials), escalc "MD" and "SMD"
#    (metafor 3.8 defaults: vtype = "LS").
# 2. multiarm_inputs: test inputs whose numbers are written here (they are not trial
#    data): a three-arm study (two treatments, one control) and a 2 x 2 study (two
#    treatments, two controls). escalc on every (treatment, control) pair, once with
#    each arm's n divided by the number of comparisons it enters ("split", Cochrane
#    Handbook 23.3.4) and once with n whole (the diagonal of the "shared" vcov).
suppressPackageStartupMessages({ library(metafor); library(jsonlite) })

out <- list(
  generated_by = "tests/reference/r/escalc_md_smd.R",
  r_version = R.version.string,
  metafor_version = as.character(packageVersion("metafor")),
  metadat_version = as.character(packageVersion("metadat")),
  calls = list(
    md = 'escalc(measure="MD", m1i=m1i, sd1i=sd1i, n1i=n1i, m2i=m2i, sd2i=sd2i, n2i=n2i)',
    smd = 'escalc(measure="SMD", m1i=m1i, sd1i=sd1i, n1i=n1i, m2i=m2i, sd2i=sd2i, n2i=n2i)  # vtype="LS" (default)'
  )
)

d <- dat.normand1999
md <- escalc(measure = "MD", m1i = m1i, sd1i = sd1i, n1i = n1i, m2i = m2i, sd2i = sd2i, n2i = n2i, data = d)
smd <- escalc(measure = "SMD", m1i = m1i, sd1i = sd1i, n1i = n1i, m2i = m2i, sd2i = sd2i, n2i = n2i, data = d)
out$normand1999 <- list(
  source = "metadat::dat.normand1999",
  study = as.character(d$source),
  m1i = d$m1i, sd1i = d$sd1i, n1i = d$n1i, m2i = d$m2i, sd2i = d$sd2i, n2i = d$n2i,
  md_yi = as.numeric(md$yi), md_vi = as.numeric(md$vi),
  smd_yi = as.numeric(smd$yi), smd_vi = as.numeric(smd$vi)
)

# Arms: study, arm, role, mean, sd, n (numbers written here as test inputs).
arms <- data.frame(
  study = c("three_arm", "three_arm", "three_arm", "two_by_two", "two_by_two", "two_by_two", "two_by_two"),
  arm   = c("a", "b", "ctl", "t1", "t2", "c1", "c2"),
  role  = c("treatment", "treatment", "control", "treatment", "treatment", "control", "control"),
  mean  = c(3.1, 2.2, 4.6, 5.0, 4.2, 6.1, 5.5),
  sd    = c(2.0, 1.7, 2.3, 1.5, 1.9, 2.0, 1.2),
  n     = c(20, 21, 22, 16, 15, 14, 18),
  stringsAsFactors = FALSE
)
pairs <- do.call(rbind, lapply(split(arms, arms$study)[unique(arms$study)], function(s) {
  tr <- s[s$role == "treatment", ]; co <- s[s$role == "control", ]
  g <- expand.grid(ci = seq_len(nrow(co)), ti = seq_len(nrow(tr)))  # treatment-major order
  data.frame(study = s$study[1], treatment_arm = tr$arm[g$ti], control_arm = co$arm[g$ci],
             m1i = tr$mean[g$ti], sd1i = tr$sd[g$ti], n1i = tr$n[g$ti], n1_uses = nrow(co),
             m2i = co$mean[g$ci], sd2i = co$sd[g$ci], n2i = co$n[g$ci], n2_uses = nrow(tr),
             stringsAsFactors = FALSE)
}))
split_n1 <- pairs$n1i / pairs$n1_uses
split_n2 <- pairs$n2i / pairs$n2_uses
md_split <- escalc(measure = "MD", m1i = pairs$m1i, sd1i = pairs$sd1i, n1i = split_n1,
                   m2i = pairs$m2i, sd2i = pairs$sd2i, n2i = split_n2)
smd_split <- escalc(measure = "SMD", m1i = pairs$m1i, sd1i = pairs$sd1i, n1i = split_n1,
                    m2i = pairs$m2i, sd2i = pairs$sd2i, n2i = split_n2)
md_whole <- escalc(measure = "MD", m1i = pairs$m1i, sd1i = pairs$sd1i, n1i = pairs$n1i,
                   m2i = pairs$m2i, sd2i = pairs$sd2i, n2i = pairs$n2i)
smd_whole <- escalc(measure = "SMD", m1i = pairs$m1i, sd1i = pairs$sd1i, n1i = pairs$n1i,
                    m2i = pairs$m2i, sd2i = pairs$sd2i, n2i = pairs$n2i)
out$multiarm_inputs <- list(
  note = "numbers written in this script as test inputs; not trial data",
  arms = arms,
  comparisons = data.frame(
    study = pairs$study, treatment_arm = pairs$treatment_arm, control_arm = pairs$control_arm,
    n_treatment_split = split_n1, n_control_split = split_n2,
    md_split_yi = as.numeric(md_split$yi), md_split_vi = as.numeric(md_split$vi),
    smd_split_yi = as.numeric(smd_split$yi), smd_split_vi = as.numeric(smd_split$vi),
    md_whole_yi = as.numeric(md_whole$yi), md_whole_vi = as.numeric(md_whole$vi),
    smd_whole_yi = as.numeric(smd_whole$yi), smd_whole_vi = as.numeric(smd_whole$vi)
  )
)

writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, pretty = TRUE, dataframe = "columns"),
           "tests/reference/escalc_md_smd.json")
