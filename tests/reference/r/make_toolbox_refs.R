# Reference values for the metafor toolbox of bayes_msc (confint, regtest, ranktest,
# trimfill, influence, baujat, cumul), made with R metafor.
#
# Run from the repository root:
#     Rscript tests/reference/r/make_toolbox_refs.R
# It writes tests/reference/toolbox_metafor.json; tests/test_toolbox.py reads it and never
# calls R. Every case stores the exact R call ("call"), evaluated with eval(parse()) in an
# environment holding the dataset as `dat` (columns yi, vi, ni, year, label).
#
# Datasets:
#   normand1999     metadat::dat.normand1999 (9 trials, arm means/SDs), escalc("MD")
#   gibson2002      metadat::dat.gibson2002 (the trials with arm means/SDs), escalc("SMD");
#                   has publication years with ties (cumulative by year)
#   curtis1998      metadat::dat.curtis1998 (102 experiments, arm means/SDs), escalc("SMD")
#   simulated_vas_6, simulated_vas_12
#                   the SIMULATED bundled dataset data/msc_knee_oa_simulated, VAS at 6 and 12
#                   months (13 and 12 comparisons, multi-arm trials split), yi/vi as
#                   bayes_msc's effect_table computes them, written at full precision to
#                   tests/reference/r/simulated_vas_effects.csv
#
# Tolerances asked of metafor's iterative searches: confint's uniroot gets tol = 1e-12 and
# tau2.max = 1e9 (its defaults stop at an absolute 1.2e-4 on tau^2 and at max(100, 10 tau^2),
# where it reports "> upper"); PM gets tol = 1e-12 as in make_metafor_refs.R.

suppressPackageStartupMessages({
  library(metafor)
  library(metadat)
  library(jsonlite)
})

args <- commandArgs(trailingOnly = FALSE)
script <- sub("^--file=", "", args[grep("^--file=", args)])
here <- dirname(normalizePath(script))
out_path <- file.path(here, "..", "toolbox_metafor.json")

pdf(NULL)  # baujat() draws; keep no Rplots.pdf

# ---- datasets ---------------------------------------------------------------------------

nor <- escalc(measure = "MD", m1i = m1i, sd1i = sd1i, n1i = n1i, m2i = m2i, sd2i = sd2i,
              n2i = n2i, data = dat.normand1999)
nor <- data.frame(label = as.character(nor$source), yi = as.numeric(nor$yi),
                  vi = as.numeric(nor$vi), ni = nor$n1i + nor$n2i, year = seq_len(nrow(nor)))

gib <- dat.gibson2002[!is.na(dat.gibson2002$m1i), ]
gib <- escalc(measure = "SMD", m1i = m1i, sd1i = sd1i, n1i = n1i, m2i = m2i, sd2i = sd2i,
              n2i = n2i, data = gib)
gib <- data.frame(label = paste(gib$author, gib$year), yi = as.numeric(gib$yi),
                  vi = as.numeric(gib$vi), ni = gib$n1i + gib$n2i, year = gib$year)

cur <- escalc(measure = "SMD", m1i = m1i, sd1i = sd1i, n1i = n1i, m2i = m2i, sd2i = sd2i,
              n2i = n2i, data = dat.curtis1998)
cur <- data.frame(label = paste0(cur$paper, "/", cur$id), yi = as.numeric(cur$yi),
                  vi = as.numeric(cur$vi), ni = cur$n1i + cur$n2i, year = seq_len(nrow(cur)))

sim <- read.csv(file.path(here, "simulated_vas_effects.csv"), stringsAsFactors = FALSE)
sim6 <- sim[sim$cell == "vas_6", c("label", "yi", "vi", "ni", "year")]
sim12 <- sim[sim$cell == "vas_12", c("label", "yi", "vi", "ni", "year")]

datasets <- list(normand1999 = nor, gibson2002 = gib, curtis1998 = cur,
                 simulated_vas_6 = sim6, simulated_vas_12 = sim12)

# ---- helpers ----------------------------------------------------------------------------

run <- function(name, code) {
  env <- new.env()
  env$dat <- datasets[[name]]
  eval(parse(text = code), envir = env)
}
num <- function(x) as.numeric(x)
cases <- list()
add <- function(kind, dataset, options, code) {
  res <- run(dataset, code)
  cases[[length(cases) + 1]] <<- list(kind = kind, dataset = dataset, options = options,
                                      call = code, result = fields[[kind]](res))
}
r_method <- c(fe = "FE", dl = "DL", reml = "REML", pm = "PM")
model <- function(m, test = "z") {
  extra <- if (m == "pm") ", control = list(tol = 1e-12)" else ""
  sprintf('rma(yi, vi, data = dat, method = "%s", test = "%s"%s)', r_method[[m]], test, extra)
}

fields <- list(
  confint = function(ci) {
    r <- ci$random
    list(tau2 = num(r["tau^2", ]), tau = num(r["tau", ]), i2 = num(r["I^2(%)", ]),
         h2 = num(r["H^2", ]), ci_null = ci$ci.null)
  },
  regtest = function(rt) list(zval = num(rt$zval), pval = num(rt$pval), df = num(rt$dfs),
                              est = if (is.null(rt$est)) NA else num(rt$est),
                              ci_lb = if (is.null(rt$ci.lb)) NA else num(rt$ci.lb),
                              ci_ub = if (is.null(rt$ci.ub)) NA else num(rt$ci.ub)),
  ranktest = function(rk) list(tau = num(rk$tau), pval = num(rk$pval)),
  trimfill = function(tf) list(k0 = tf$k0, se_k0 = num(tf$se.k0), side = tf$side,
                               p_k0 = if (is.null(tf$p.k0)) NA else num(tf$p.k0),
                               estimate = num(tf$beta), se = num(tf$se), ci_lb = num(tf$ci.lb),
                               ci_ub = num(tf$ci.ub), tau2 = num(tf$tau2), QE = num(tf$QE),
                               k = tf$k, fill_yi = num(tf$yi[tf$fill]), fill_vi = num(tf$vi[tf$fill])),
  influence = function(inf) {
    x <- inf$inf
    list(rstudent = num(x$rstudent), dffits = num(x$dffits), cook_d = num(x$cook.d),
         cov_r = num(x$cov.r), tau2_del = num(x$tau2.del), qe_del = num(x$QE.del),
         hat = num(x$hat), weight = num(x$weight), dfbs = num(inf$dfbs$intrcpt),
         inf = inf$is.infl)
  },
  baujat = function(b) list(x = num(b$x), y = num(b$y)),
  cumul = function(cu) list(estimate = num(cu$estimate), se = num(cu$se), zval = num(if (is.null(cu$zval)) cu$tval else cu$zval),
                            pval = num(cu$pvals), ci_lb = num(cu$ci.lb), ci_ub = num(cu$ci.ub),
                            Q = num(cu$Q), Qp = num(cu$Qp), tau2 = num(cu$tau2),
                            I2 = num(cu$I2), H2 = num(cu$H2), slab = as.character(cu$slab))
)

# ---- cases ------------------------------------------------------------------------------

ci_control <- "control = list(tol = 1e-12, tau2.max = 1e9)"
for (ds in names(datasets)) {
  for (m in c("dl", "reml", "pm")) {
    add("confint", ds, list(method = m),
        sprintf("confint(%s, %s)", model(m), ci_control))
  }
  add("confint", ds, list(method = "dl", level = 0.9),
      sprintf("confint(%s, level = 90, %s)", model("dl"), ci_control))
  for (m in c("fe", "dl", "reml")) {
    add("regtest", ds, list(method = m, model = "rma", predictor = "sei"),
        sprintf("regtest(%s)", model(m)))
  }
  add("regtest", ds, list(method = "dl", model = "rma", predictor = "sei", test = "knha"),
      sprintf("regtest(%s)", model("dl", "knha")))
  add("regtest", ds, list(method = "dl", model = "lm", predictor = "sei"),
      sprintf('regtest(%s, model = "lm")', model("dl")))
  for (pr in c("vi", "ni", "ninv", "sqrtninv")) {
    add("regtest", ds, list(method = "dl", model = "rma", predictor = pr),
        sprintf('regtest(%s, predictor = "%s", ni = dat$ni)', model("dl"), pr))
  }
  add("ranktest", ds, list(), sprintf("ranktest(%s)", model("dl")))
  for (m in c("fe", "dl", "reml")) {
    for (est in c("L0", "R0")) {
      add("trimfill", ds, list(method = m, estimator = est),
          sprintf('trimfill(%s, estimator = "%s")', model(m), est))
    }
  }
  for (sd in c("left", "right")) {
    add("trimfill", ds, list(method = "dl", estimator = "L0", side = sd),
        sprintf('trimfill(%s, side = "%s")', model("dl"), sd))
  }
  for (m in c("fe", "dl", "reml")) {
    add("influence", ds, list(method = m, test = "z"), sprintf("influence(%s)", model(m)))
    add("baujat", ds, list(method = m, test = "z"), sprintf("baujat(%s)", model(m)))
    add("cumul", ds, list(method = m, test = "z", order = "year"),
        sprintf("cumul(%s, order = dat$year)", model(m)))
  }
  add("influence", ds, list(method = "dl", test = "knha"), sprintf("influence(%s)", model("dl", "knha")))
  add("cumul", ds, list(method = "dl", test = "knha", order = "year"),
      sprintf("cumul(%s, order = dat$year)", model("dl", "knha")))
  add("cumul", ds, list(method = "dl", test = "z", order = "year", decreasing = TRUE),
      sprintf("cumul(%s, order = dat$year, decreasing = TRUE)", model("dl")))
}

# ---- write ------------------------------------------------------------------------------

refs <- list(
  generated_by = "tests/reference/r/make_toolbox_refs.R",
  r_version = R.version.string,
  metafor_version = as.character(packageVersion("metafor")),
  metadat_version = as.character(packageVersion("metadat")),
  datasets = lapply(datasets, function(d) list(label = d$label, yi = d$yi, vi = d$vi,
                                                ni = d$ni, year = d$year)),
  cases = cases
)
write_json(refs, out_path, digits = NA, auto_unbox = TRUE, pretty = FALSE, na = "null")
cat("wrote", normalizePath(out_path), "with", length(cases), "cases\n")
