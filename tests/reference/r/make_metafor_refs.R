# Reference values for bayes_msc.inference.frequentist, made with R metafor.
#
# Run from the repository root:
#     Rscript tests/reference/r/make_metafor_refs.R
# It writes tests/reference/metafor_refs.json. The tests read that file and never call R.
#
# Every case stores the exact R code that produced it ("call"), evaluated with eval(parse())
# in an environment holding that dataset as `dat` (columns yi, vi, id and the covariates),
# and, for the shared-control datasets, its covariance matrix as `V`.
#
# Datasets (all real, published data):
#   kacker          Kacker (2004) interlaboratory data, as typed into statsmodels'
#                   statsmodels/stats/tests/results/results_meta.py
#   bcg             metadat::dat.bcg, log risk ratios via escalc("RR"); covariates ablat, year
#   normand1999     metadat::dat.normand1999, mean differences via escalc("MD")
#   bangertdrowns   metadat::dat.bangertdrowns2004, standardised mean differences as given;
#                   covariates length, grade (2 rows have length NA: metareg drops them)
#   hine1989        metadat::dat.hine1989, risk differences via escalc("RD") (no heterogeneity:
#                   tau2 = 0 for every estimator, so random effects equal fixed effect)
#   senn2013_placebo  metadat::dat.senn2013, every active-vs-placebo mean difference of the
#                   trials reporting change scores; Willms (1999) has two active arms against
#                   one placebo arm, so the two comparisons share the placebo's variance
#                   sd_p^2 / n_p as their covariance (Cochrane Handbook 23.3.4).

suppressPackageStartupMessages({
  library(metafor)
  library(metadat)
  library(jsonlite)
})

args <- commandArgs(trailingOnly = FALSE)
script <- sub("^--file=", "", args[grep("^--file=", args)])
out_path <- file.path(dirname(normalizePath(script)), "..", "metafor_refs.json")

# ---- datasets ---------------------------------------------------------------------------

kacker <- data.frame(
  id = 1:9,
  label = paste0("lab", 1:9),
  yi = c(61, 61.4, 62.21, 62.3, 62.34, 62.6, 62.7, 62.84, 65.9),
  vi = c(0.2025, 1.21, 0.09, 0.2025, 0.3844, 0.5625, 0.0676, 0.0225, 1.8225)
)

bcg <- escalc(measure = "RR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = dat.bcg)
bcg <- data.frame(id = bcg$trial, label = paste(bcg$author, bcg$year),
                  yi = as.numeric(bcg$yi), vi = as.numeric(bcg$vi),
                  ablat = bcg$ablat, year = bcg$year)

nor <- escalc(measure = "MD", m1i = m1i, sd1i = sd1i, n1i = n1i,
              m2i = m2i, sd2i = sd2i, n2i = n2i, data = dat.normand1999)
nor <- data.frame(id = nor$study, label = as.character(nor$source),
                  yi = as.numeric(nor$yi), vi = as.numeric(nor$vi))

bd <- dat.bangertdrowns2004
bd <- data.frame(id = bd$id, label = paste(bd$author, bd$year),
                 yi = bd$yi, vi = bd$vi, length = bd$length, grade = bd$grade)

hine <- escalc(measure = "RD", ai = ai, n1i = n1i, ci = ci, n2i = n2i, data = dat.hine1989)
hine <- data.frame(id = hine$study, label = as.character(hine$source),
                   yi = as.numeric(hine$yi), vi = as.numeric(hine$vi))

senn <- dat.senn2013[dat.senn2013$comment == "change", ]
rows <- list()
for (s in unique(senn$study)) {
  arms <- senn[senn$study == s, ]
  pl <- arms[arms$treatment == "placebo", ]
  if (nrow(pl) != 1) next
  for (j in which(arms$treatment != "placebo")) {
    rows[[length(rows) + 1]] <- data.frame(
      study = s, label = paste0(s, ": ", arms$treatment[j], " vs placebo"),
      yi = arms$mi[j] - pl$mi, vi = arms$sdi[j]^2 / arms$ni[j] + pl$sdi^2 / pl$ni,
      shared = pl$sdi^2 / pl$ni)
  }
}
senn <- do.call(rbind, rows)
senn$id <- seq_len(nrow(senn))
Vsenn <- diag(senn$vi)
for (a in seq_len(nrow(senn))) for (b in seq_len(nrow(senn))) {
  if (a != b && senn$study[a] == senn$study[b]) Vsenn[a, b] <- senn$shared[a]
}

datasets <- list(kacker = kacker, bcg = bcg, normand1999 = nor, bangertdrowns = bd,
                 hine1989 = hine, senn2013_placebo = senn)
covariates <- list(kacker = character(0), bcg = c("ablat", "year"), normand1999 = character(0),
                   bangertdrowns = c("length", "grade"), hine1989 = character(0),
                   senn2013_placebo = character(0))

# ---- helpers ----------------------------------------------------------------------------

run <- function(name, code, V = NULL) {
  env <- new.env()
  env$dat <- datasets[[name]]
  if (!is.null(V)) env$V <- V
  eval(parse(text = code), envir = env)
}

num <- function(x) as.numeric(x)

pool_fields <- function(res) {
  pr <- predict(res)
  pr_riley <- predict(res, pi.type = "riley")
  list(estimate = num(res$beta), se = num(res$se), zval = num(res$zval), pval = num(res$pval),
       ci_lb = num(res$ci.lb), ci_ub = num(res$ci.ub), tau2 = num(res$tau2),
       se_tau2 = num(res$se.tau2), I2 = num(res$I2), H2 = num(res$H2), QE = num(res$QE),
       QEp = num(res$QEp), pi_lb = num(pr$pi.lb), pi_ub = num(pr$pi.ub),
       pi_lb_riley = num(pr_riley$pi.lb), pi_ub_riley = num(pr_riley$pi.ub),
       weights = num(weights(res)), k = res$k, test = res$test)
}

metareg_fields <- function(res) {
  list(beta = num(res$beta), se = num(res$se), zval = num(res$zval), pval = num(res$pval),
       ci_lb = num(res$ci.lb), ci_ub = num(res$ci.ub), tau2 = num(res$tau2),
       I2 = num(res$I2), H2 = num(res$H2), R2 = if (is.null(res$R2)) NA else num(res$R2),
       QE = num(res$QE), QEp = num(res$QEp), QM = num(res$QM), QMp = num(res$QMp),
       QMdf = num(res$QMdf), k = res$k, coef_names = rownames(res$beta))
}

loo_fields <- function(l1) {
  list(estimate = num(l1$estimate), se = num(l1$se), pval = num(l1$pval),
       ci_lb = num(l1$ci.lb), ci_ub = num(l1$ci.ub), Q = num(l1$Q), Qp = num(l1$Qp),
       tau2 = if (is.null(l1$tau2)) NA else num(l1$tau2), I2 = num(l1$I2), H2 = num(l1$H2))
}

r_method <- c(fe = "FE", dl = "DL", reml = "REML", pm = "PM", ml = "ML", he = "HE",
              sj = "SJ", eb = "EB")
# metafor solves the Paule-Mandel equation with uniroot(tol = .Machine$double.eps^0.25),
# which leaves tau2 off by up to ~2e-4 (relative). The PM cases below ask uniroot for
# tol = 1e-12 (the exact root, as bayes_msc computes it); the cases of kind
# "pool_pm_default" keep metafor's default tolerance, to show the size of that difference.
extra <- function(m) if (m == "pm") ", control = list(tol = 1e-12)" else ""
r_test <- c(z = "z", hksj = "knha", hksj_truncate = "adhoc")

cases <- list()
add <- function(kind, dataset, method, test, code, result, covs = character(0)) {
  cases[[length(cases) + 1]] <<- list(kind = kind, dataset = dataset, method = method,
                                      test = test, covariates = I(covs), call = code,
                                      result = result)
}

# ---- pooling: every estimator, z and Knapp-Hartung ---------------------------------------

for (ds in c("kacker", "bcg", "normand1999", "bangertdrowns", "hine1989", "senn2013_placebo")) {
  for (m in names(r_method)) {
    for (tt in c("z", "hksj")) {
      code <- sprintf('rma(yi, vi, data = dat, method = "%s", test = "%s"%s)', r_method[[m]],
                      r_test[[tt]], extra(m))
      add("pool", ds, m, tt, code, pool_fields(run(ds, code)))
    }
  }
  code <- 'rma(yi, vi, data = dat, method = "PM")'
  add("pool_pm_default", ds, "pm", "z", code, pool_fields(run(ds, code)))
}
for (ds in c("kacker", "normand1999")) {
  for (m in c("dl", "reml")) {
    code <- sprintf('rma(yi, vi, data = dat, method = "%s", test = "adhoc")', r_method[[m]])
    add("pool", ds, m, "hksj_truncate", code, pool_fields(run(ds, code)))
  }
}

# k = 1: only the fixed-effect model (metafor sets Q = 0, p = 1, I2 = 0, H2 = 1).
for (ds in c("kacker", "bcg")) {
  code <- 'rma(yi, vi, data = dat[1, ], method = "FE")'
  add("pool_k1", ds, "fe", "z", code, pool_fields(run(ds, code)))
}

# ---- leave-one-out ----------------------------------------------------------------------

for (ds in c("kacker", "bcg", "normand1999")) {
  for (m in c("fe", "dl", "reml", "pm")) {
    for (tt in c("z", "hksj")) {
      if (m == "fe" && tt == "hksj") next
      code <- sprintf('leave1out(rma(yi, vi, data = dat, method = "%s", test = "%s"%s))',
                      r_method[[m]], r_test[[tt]], extra(m))
      add("leave1out", ds, m, tt, code, loo_fields(run(ds, code)))
    }
  }
}

# ---- meta-regression --------------------------------------------------------------------

mods_sets <- list(bcg = list("ablat", c("ablat", "year")),
                  bangertdrowns = list("length", c("length", "grade")))
for (ds in names(mods_sets)) {
  for (covs in mods_sets[[ds]]) {
    for (m in c("fe", "dl", "reml", "pm", "ml")) {
      for (tt in c("z", "hksj")) {
        code <- sprintf('rma(yi, vi, mods = ~ %s, data = dat, method = "%s", test = "%s"%s)',
                        paste(covs, collapse = " + "), r_method[[m]], r_test[[tt]], extra(m))
        add("metareg", ds, m, tt, code, metareg_fields(run(ds, code)), covs)
      }
    }
  }
}

# ---- shared control arm: non-diagonal V -------------------------------------------------
# FE, ML and REML are metafor's rma.mv. DL and PM with a non-diagonal V have no metafor
# function: the generalised Q with W = V^-1 is computed here in plain R (DL: moment
# equation Q = (k - p) + tau2 tr(P); PM: Q(tau2) = k - p solved by uniroot), and metafor's
# rma.mv with sigma2 fixed at that value gives the pooled estimate.

gen_q <- "
  W <- solve(V); X <- matrix(1, nrow(dat), 1); y <- dat$yi; k <- nrow(dat); p <- 1
  Pm <- function(S) { Wt <- solve(S); Wt - Wt %*% X %*% solve(t(X) %*% Wt %*% X) %*% t(X) %*% Wt }
  P0 <- Pm(V)
  Q <- c(t(y) %*% P0 %*% y)
"
v_cases <- list(
  fe = 'rma.mv(yi, V, data = dat)',
  ml = 'rma.mv(yi, V, random = ~ 1 | id, data = dat, method = "ML")',
  reml = 'rma.mv(yi, V, random = ~ 1 | id, data = dat, method = "REML")',
  dl = paste0(gen_q, '
  tau2 <- max(0, (Q - (k - p)) / sum(diag(P0)))
  rma.mv(yi, V, random = ~ 1 | id, data = dat, sigma2 = tau2)'),
  pm = paste0(gen_q, '
  f <- function(t2) c(t(y) %*% Pm(V + diag(t2, k)) %*% y) - (k - p)
  tau2 <- if (f(0) < 0) 0 else uniroot(f, c(0, 100), tol = 1e-12)$root
  rma.mv(yi, V, random = ~ 1 | id, data = dat, sigma2 = tau2)')
)
for (m in names(v_cases)) {
  res <- run("senn2013_placebo", v_cases[[m]], V = Vsenn)
  add("pool_V", "senn2013_placebo", m, "z", v_cases[[m]],
      list(estimate = num(res$beta), se = num(res$se), zval = num(res$zval),
           pval = num(res$pval), ci_lb = num(res$ci.lb), ci_ub = num(res$ci.ub),
           tau2 = if (m == "fe") 0 else num(res$sigma2), QE = num(res$QE),
           QEp = num(res$QEp), weights = num(weights(res)), k = res$k))
}

# ---- write ------------------------------------------------------------------------------

ds_json <- lapply(names(datasets), function(n) {
  d <- datasets[[n]]
  out <- list(label = as.character(d$label), yi = d$yi, vi = d$vi,
              covariates = setNames(lapply(covariates[[n]], function(cv) d[[cv]]), covariates[[n]]))
  if (n == "senn2013_placebo") out$V <- unname(lapply(seq_len(nrow(Vsenn)), function(i) Vsenn[i, ]))
  # published arm-level data, for end-to-end tests of the command line (dataset folders)
  if (n == "normand1999") out$arms <- as.list(dat.normand1999[, c("m1i", "sd1i", "n1i", "m2i", "sd2i", "n2i")])
  if (n == "bcg") out$arms <- as.list(dat.bcg[, c("tpos", "tneg", "cpos", "cneg")])
  out
})
names(ds_json) <- names(datasets)

refs <- list(
  generated_by = "tests/reference/r/make_metafor_refs.R",
  r_version = R.version.string,
  metafor_version = as.character(packageVersion("metafor")),
  metadat_version = as.character(packageVersion("metadat")),
  datasets = ds_json,
  cases = cases
)
write_json(refs, out_path, digits = NA, auto_unbox = TRUE, pretty = TRUE, na = "null",
           null = "null")
cat("wrote", normalizePath(out_path), "with", length(cases), "cases\n")
