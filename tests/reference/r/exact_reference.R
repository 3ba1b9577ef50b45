# Independent reference values for bayes_msc.inference.exact (tests/test_exact.py).
#
# The posterior of the normal-normal random-effects model / meta-regression, written out
# here from the conjugate formulas (not from the package's code) and integrated over tau
# with R's integrate(); quantiles by uniroot() on the integrated distribution functions.
# Covariates are centred and scaled by their SD (divisor n) as in
# bayes_msc.inference.design.standardise: the mu prior is on the effect at the covariates'
# means, the beta prior per covariate SD; the intercept and slopes are reported per unit.
# Also pins metafor's rma(yi, vi, mods = ..., tau2 = <fixed>) weighted least-squares fits.
#
# Run from the repository root:  Rscript tests/reference/r/exact_reference.R
# Writes tests/reference/exact_integrate.json and tests/reference/exact_metafor.json.

suppressPackageStartupMessages({library(metafor); library(jsonlite)})
TOL <- 1e-11
options(warn = 1)  # print warnings as they happen

dat <- escalc(measure = "RR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = dat.bcg)
schools_y <- c(28.39, 7.94, -2.75, 6.82, -0.64, 0.63, 18.01, 12.16)
schools_v <- c(14.9, 10.2, 16.3, 11.0, 9.4, 11.4, 10.4, 17.6)^2

# Prior of tau as an R density, from the package's prior notation.
tau_density <- function(pr, outcome_sd = 1) {
  switch(pr$dist,
    HalfNormal = function(t) 2 * dnorm(t, 0, pr$sigma),
    HalfCauchy = function(t) 2 * dcauchy(t, 0, pr$beta),
    Uniform = function(t) dunif(t, pr$lower, pr$upper),
    HalfFlat = function(t) rep(1, length(t)),
    StudentT = function(t) {  # log(tau^2 / outcome_sd^2) ~ t_nu(mu, sigma)
      L <- 2 * log(t / outcome_sd)
      ifelse(t > 0, dt((L - pr$mu) / pr$sigma, pr$nu) / pr$sigma * 2 / t, 0)
    },
    Normal = function(t) {  # log(tau^2 / outcome_sd^2) ~ N(mu, sigma): log-normal tau^2
      L <- 2 * log(t / outcome_sd)
      ifelse(t > 0, dnorm(L, pr$mu, pr$sigma) * 2 / t, 0)
    })
}

# Shortest 95% interval of a unimodal density on [lo, hi] as its highest-density set
# {x: dens(x) >= c}: the ends for a level c by uniroot() on each side of the mode, the level
# by uniroot() on the probability between the ends. (uniroot() warns "-Inf replaced by
# maximally negative value" where the density underflows at the far end of the search
# interval: harmless, the sign is still right.)
hdi <- function(dens, prob_between, lo, hi, search, log_scale = FALSE, prob = 0.95) {
  tr <- if (log_scale) log else identity
  inv <- if (log_scale) exp else identity
  mode <- inv(optimize(function(u) -log(dens(inv(u))), tr(search))$minimum)
  ends <- function(logc) {
    a <- if (log(dens(search[1])) >= logc) lo else
      inv(uniroot(function(u) log(dens(inv(u))) - logc, c(tr(search[1]), tr(mode)), tol = 1e-13)$root)
    b <- if (is.finite(hi) && log(dens(hi * (1 - 1e-12))) >= logc) hi else
      inv(uniroot(function(u) log(dens(inv(u))) - logc, c(tr(mode), tr(search[2])), tol = 1e-13)$root)
    c(a, b)
  }
  top <- log(dens(mode))
  logc <- uniroot(function(lc) { e <- ends(lc); prob_between(e[1], e[2]) - prob },
                  c(top - 12, top - 1e-9), tol = 1e-12)$root
  ends(logc)
}

one_case <- function(name, y, v, X, prior_mu, prior_beta, prior_tau, tau_key = "tau",
                     outcome_sd = NULL, lower = 0, upper = Inf, hdi_of = character()) {
  message(name)
  k <- length(y)
  p <- if (is.null(X)) 1 else ncol(X) + 1
  if (is.null(X)) {
    D <- matrix(1, k, 1)
    tmat <- matrix(1, 1, 1)
    qnames <- "mu"
  } else {
    ctr <- colMeans(X)
    scl <- apply(X, 2, function(x) sqrt(mean((x - mean(x))^2)))
    D <- cbind(1, sweep(sweep(X, 2, ctr), 2, scl, "/"))
    tmat <- rbind(c(1, -ctr / scl), cbind(0, diag(1 / scl, ncol(X))), c(1, rep(0, ncol(X))))
    qnames <- c("mu", colnames(X), "mu_at_mean")
  }
  prec <- function(pr) if (pr$dist == "Flat") c(0, 0) else c(pr$mu, 1 / pr$sigma^2)
  pri <- rbind(prec(prior_mu), if (p > 1) t(replicate(p - 1, prec(prior_beta))))
  m0 <- pri[, 1]; p0 <- pri[, 2]
  ptau <- tau_density(prior_tau, if (is.null(outcome_sd)) 1 else outcome_sd)
  cond <- function(t) {  # given tau: log marginal likelihood, mean and covariance of b
    w <- 1 / (v + min(t, 1e50)^2)  # beyond 1e50 the posterior is 0 to double precision
    A <- crossprod(D, w * D) + diag(p0, p)
    r <- crossprod(D, w * y) + p0 * m0
    Ai <- solve(A)
    b <- drop(Ai %*% r)
    ll <- 0.5 * (sum(log(w)) - as.numeric(determinant(A)$modulus) -
                 (sum(w * y^2) + sum(p0 * m0^2) - sum(b * r)))
    list(ll = ll, b = b, V = Ai)
  }
  ll0 <- max(sapply(c(0.01, 0.1, 1, 10) * sqrt(median(v)), function(t) cond(t)$ll))
  post <- function(t) sapply(t, function(s) if (s <= 0) 0 else exp(cond(s)$ll - ll0)) * ptau(t)
  # Integrals over tau are taken on u = log(tau) (the log-t prior's density is singular at
  # tau = 0), split at fixed points so that integrate() sees the bulk.
  breaks <- log(c(1e-3, 1e-2, 0.1, 0.3, 1, 3, 10, 100) * sqrt(median(v)))
  integ <- function(f, lo = lower, hi = upper) {
    b <- sort(unique(c(log(lo), breaks[breaks > log(lo) & breaks < log(hi)], log(hi))))
    g <- function(u) {  # tau > 1e50 (u > 115) carries no posterior mass in double precision
      uu <- pmin(u, 115)
      ifelse(u < 115, f(exp(uu)) * exp(uu), 0)
    }
    sum(mapply(function(a, z) integrate(g, a, z, rel.tol = TOL, abs.tol = 0,
                                        subdivisions = 5000L)$value, b[-length(b)], b[-1]))
  }
  Z <- integ(post)
  tau_cdf <- function(x) integ(post, lower, x) / Z
  search <- c(max(lower * (1 + 1e-12), 1e-9), min(upper, 1e4 * sqrt(max(v))))
  qtau <- function(q) uniroot(function(x) tau_cdf(x) - q, search,
                              tol = 1e-13)$root
  # A moment is infinite (NA) when integrate() fails or when its integral keeps growing with
  # the upper limit (cut at tau = e^60 instead of e^115).
  finite <- function(f) {
    all <- tryCatch(integ(f), error = function(e) NA)
    part <- tryCatch(integ(f, lower, min(upper, exp(60))), error = function(e) NA)
    if (is.na(all) || is.na(part) || abs(all - part) > 1e-9 * abs(all)) NA else all
  }
  dtau <- function(t) post(t) / Z
  res <- list(tau = list(
    mean = finite(function(t) post(t) * t) / Z,
    second_moment = finite(function(t) post(t) * t^2) / Z,
    q025 = qtau(0.025), q50 = qtau(0.5), q975 = qtau(0.975),
    p_gt_1 = 1 - tau_cdf(min(1, upper)),
    hdi95 = hdi(dtau, function(a, b) integ(post, a, b) / Z, lower, upper, search,
                log_scale = TRUE)))
  # Mixture quantities: rows of tmat (then theta_new = mu_at_mean + N(0, tau^2)).
  mom <- function(t, j) {  # conditional mean and sd of quantity j at each t
    sapply(t, function(s) {
      cd <- cond(s)
      if (j <= nrow(tmat)) {
        cvec <- tmat[j, ]
        c(sum(cvec * cd$b), sqrt(drop(t(cvec) %*% cd$V %*% cvec)))
      } else c(cd$b[1], sqrt(cd$V[1, 1] + s^2))
    })
  }
  for (j in seq_len(length(qnames) + 1)) {
    nm <- if (j <= length(qnames)) qnames[j] else "theta_new"
    mean_j <- integ(function(t) post(t) * mom(t, j)[1, ]) / Z
    m2 <- finite(function(t) { mm <- mom(t, j); post(t) * (mm[1, ]^2 + mm[2, ]^2) }) / Z
    cdf <- function(x) integ(function(t) { mm <- mom(t, j); post(t) * pnorm((x - mm[1, ]) / mm[2, ]) }) / Z
    sdj <- if (is.na(m2)) Inf else sqrt(m2 - mean_j^2)
    width <- 200 * max(sqrt(v)) + 200 * max(c(0, sqrt(1 / p0[p0 > 0])))
    qf <- function(q) uniroot(function(x) cdf(x) - q, mean_j + c(-1, 1) * width, tol = 1e-13)$root
    res[[nm]] <- list(mean = mean_j, sd = if (is.finite(sdj)) sdj else NA, q025 = qf(0.025),
                      q50 = qf(0.5), q975 = qf(0.975), p_lt_0 = cdf(0))
    if (nm %in% hdi_of) {
      dens <- function(x) integ(function(t) { mm <- mom(t, j); post(t) * dnorm(x, mm[1, ], mm[2, ]) }) / Z
      res[[nm]]$hdi95 <- hdi(dens, function(a, b) cdf(b) - cdf(a), -Inf, Inf,
                             c(res[[nm]]$q025, res[[nm]]$q975) + c(-10, 10) * sdj)
    }
  }
  # Shrunken study effects: theta_i | tau ~ N(s y_i + (1 - s) d_i'b, s v_i + (1 - s)^2 d_i'V d_i)
  shr <- t(sapply(seq_len(k), function(i) {
    f <- function(t) sapply(t, function(s) {
      cd <- cond(s); sh <- s^2 / (s^2 + v[i]); fit <- sum(D[i, ] * cd$b)
      c(sh * y[i] + (1 - sh) * fit, sh * v[i] + (1 - sh)^2 * drop(D[i, ] %*% cd$V %*% D[i, ]))
    })
    m1 <- integ(function(t) post(t) * f(t)[1, ]) / Z
    m2 <- integ(function(t) { ff <- f(t); post(t) * (ff[1, ]^2 + ff[2, ]) }) / Z
    c(m1, sqrt(m2 - m1^2))
  }))
  res$study_effects <- list(mean = shr[, 1], sd = shr[, 2])
  priors <- list(mu = prior_mu)
  priors[[tau_key]] <- prior_tau
  if (!is.null(X)) priors$beta <- prior_beta
  list(name = name, yi = y, vi = v, X = if (is.null(X)) NULL else unname(split(X, row(X))),
       names = if (is.null(X)) list() else I(colnames(X)), priors = priors,
       outcome_sd = outcome_sd, results = res)
}

N <- function(m, s) list(dist = "Normal", mu = m, sigma = s)
FLAT <- list(dist = "Flat")
Xbcg <- cbind(ablat = dat$ablat, year = dat$year)
cases <- list(
  one_case("bcg_two_covariates_normal", dat$yi, dat$vi, Xbcg, N(0, 4), N(0, 1),
           list(dist = "HalfNormal", sigma = 0.5)),
  one_case("bcg_two_covariates_flat", dat$yi, dat$vi, Xbcg, FLAT, FLAT,
           list(dist = "HalfCauchy", beta = 1.0)),
  one_case("bcg_ablat_rhodes", dat$yi, dat$vi, cbind(ablat = dat$ablat), N(0, 2), N(0, 0.5),
           list(dist = "StudentT", nu = 5, mu = -3.16, sigma = 2.5), tau_key = "log_tau2_smd",
           outcome_sd = 2.0),
  one_case("bcg_log_normal_tau2", dat$yi, dat$vi, NULL, N(0, 2), NULL,
           N(-2.56, 1.74), tau_key = "log_tau2_smd", outcome_sd = 1.0),
  one_case("schools_uniform", schools_y, schools_v, NULL, N(0, 50), NULL,
           list(dist = "Uniform", lower = 0, upper = 50), upper = 50, hdi_of = "mu"),
  one_case("schools_uniform_narrow", schools_y, schools_v, NULL, N(0, 50), NULL,
           list(dist = "Uniform", lower = 2, upper = 6), lower = 2, upper = 6),
  one_case("schools_halfflat_flat_mu", schools_y, schools_v, NULL, FLAT, NULL,
           list(dist = "HalfFlat")),
  one_case("schools_k1_halfcauchy", schools_y[1], schools_v[1], NULL, N(0, 50), NULL,
           list(dist = "HalfCauchy", beta = 25))
)
out <- list(
  source = "tests/reference/r/exact_reference.R (integrate(rel.tol = 1e-11) over tau of the conjugate formulas)",
  r_version = R.version.string, metafor_version = as.character(packageVersion("metafor")),
  cases = cases)
write(toJSON(out, auto_unbox = TRUE, digits = NA, null = "null", na = "null", pretty = TRUE),
      "tests/reference/exact_integrate.json")

# metafor: meta-regression with tau^2 fixed at its REML estimate (and at 0).
reml <- rma(yi, vi, mods = ~ ablat + year, data = dat, method = "REML")
fits <- lapply(list(reml = reml$tau2, zero = 0), function(t2) {
  f <- rma(yi, vi, mods = ~ ablat + year, data = dat, tau2 = t2)
  list(tau2 = t2, call = sprintf("rma(yi, vi, mods = ~ ablat + year, data = dat, tau2 = %.17g)", t2),
       coef = as.list(coef(f)), se = as.list(setNames(f$se, names(coef(f)))))
})
write(toJSON(list(
  source = "tests/reference/r/exact_reference.R",
  data = "dat <- escalc(measure = 'RR', ai = tpos, bi = tneg, ci = cpos, di = cneg, data = dat.bcg)",
  reml_call = "rma(yi, vi, mods = ~ ablat + year, data = dat, method = 'REML')",
  r_version = R.version.string, metafor_version = as.character(packageVersion("metafor")),
  yi = as.numeric(dat$yi), vi = as.numeric(dat$vi), ablat = dat$ablat, year = dat$year,
  fits = fits), auto_unbox = TRUE, digits = NA, pretty = TRUE),
  "tests/reference/exact_metafor.json")
