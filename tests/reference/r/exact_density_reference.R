# Independent reference values of the exact engine's marginal posterior DENSITIES
# (bayes_msc.inference.exact_densities, tests/test_exact.py).
#
# The normal-normal random-effects model / meta-regression, from the conjugate formulas
# (as in tests/reference/r/exact_reference.R, not from the package's code): the density of
# tau is p(tau) L(tau) / Z, and the density of a coefficient (or of theta_new) at x is
# the integral over tau of p(tau | y) dnorm(x, m(tau), s(tau)), by R's integrate().
# Covariates are centred and scaled by their SD (divisor n), the mu prior is on the effect
# at the covariates' means, the beta prior per covariate SD; coefficients are per unit.
# Each density is evaluated at points near its 1%, 10%, 50%, 90% and 99% quantiles (found
# roughly with uniroot(): the points are recorded, and only the densities at them matter).
#
# Run from the repository root:  Rscript tests/reference/r/exact_density_reference.R
# Writes tests/reference/exact_density.json.

suppressPackageStartupMessages({library(metafor); library(jsonlite)})
TOL <- 1e-11
PROBS <- c(0.01, 0.1, 0.5, 0.9, 0.99)

dat <- escalc(measure = "RR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = dat.bcg)
schools_y <- c(28.39, 7.94, -2.75, 6.82, -0.64, 0.63, 18.01, 12.16)
schools_v <- c(14.9, 10.2, 16.3, 11.0, 9.4, 11.4, 10.4, 17.6)^2

tau_density <- function(pr, outcome_sd = 1) {
  switch(pr$dist,
    HalfNormal = function(t) 2 * dnorm(t, 0, pr$sigma),
    HalfCauchy = function(t) 2 * dcauchy(t, 0, pr$beta),
    Uniform = function(t) dunif(t, pr$lower, pr$upper),
    StudentT = function(t) {  # log(tau^2 / outcome_sd^2) ~ t_nu(mu, sigma)
      L <- 2 * log(t / outcome_sd)
      ifelse(t > 0, dt((L - pr$mu) / pr$sigma, pr$nu) / pr$sigma * 2 / t, 0)
    })
}

one_case <- function(name, y, v, X, prior_mu, prior_beta, prior_tau, tau_key = "tau",
                     outcome_sd = NULL, lower = 0, upper = Inf) {
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
  pri <- rbind(c(prior_mu$mu, 1 / prior_mu$sigma^2),
               if (p > 1) t(replicate(p - 1, c(prior_beta$mu, 1 / prior_beta$sigma^2))))
  m0 <- pri[, 1]; p0 <- pri[, 2]
  ptau <- tau_density(prior_tau, if (is.null(outcome_sd)) 1 else outcome_sd)
  cond <- function(t) {
    w <- 1 / (v + min(t, 1e50)^2)
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
  breaks <- log(c(1e-3, 1e-2, 0.1, 0.3, 1, 3, 10, 100) * sqrt(median(v)))
  integ <- function(f, lo = lower, hi = upper) {
    b <- sort(unique(c(log(lo), breaks[breaks > log(lo) & breaks < log(hi)], log(hi))))
    g <- function(u) {
      uu <- pmin(u, 115)
      ifelse(u < 115, f(exp(uu)) * exp(uu), 0)
    }
    sum(mapply(function(a, z) integrate(g, a, z, rel.tol = TOL, abs.tol = 0,
                                        subdivisions = 5000L)$value, b[-length(b)], b[-1]))
  }
  Z <- integ(post)
  tau_cdf <- function(x) integ(post, lower, x) / Z
  search <- c(max(lower * (1 + 1e-12), 1e-9), min(upper, 1e4 * sqrt(max(v))))
  tau_at <- sapply(PROBS, function(q) uniroot(function(x) tau_cdf(x) - q, search, tol = 1e-8)$root)
  res <- list(tau = list(x = tau_at, density = post(tau_at) / Z))
  mom <- function(t, j) {
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
    cdf <- function(x) integ(function(t) { mm <- mom(t, j); post(t) * pnorm((x - mm[1, ]) / mm[2, ]) }) / Z
    dens <- function(x) integ(function(t) { mm <- mom(t, j); post(t) * dnorm(x, mm[1, ], mm[2, ]) }) / Z
    width <- 200 * max(sqrt(v)) + 200 * max(c(0, sqrt(1 / p0[p0 > 0])))
    at <- sapply(PROBS, function(q) uniroot(function(x) cdf(x) - q, mean_j + c(-1, 1) * width,
                                            tol = 1e-8 * width)$root)
    res[[nm]] <- list(x = at, density = sapply(at, dens))
  }
  priors <- list(mu = prior_mu)
  priors[[tau_key]] <- prior_tau
  if (!is.null(X)) priors$beta <- prior_beta
  list(name = name, yi = y, vi = v, X = if (is.null(X)) NULL else unname(split(X, row(X))),
       names = if (is.null(X)) list() else I(colnames(X)), priors = priors,
       outcome_sd = outcome_sd, results = res)
}

N <- function(m, s) list(dist = "Normal", mu = m, sigma = s)
Xbcg <- cbind(ablat = dat$ablat, year = dat$year)
cases <- list(
  one_case("schools_halfcauchy", schools_y, schools_v, NULL, N(0, 50), NULL,
           list(dist = "HalfCauchy", beta = 25)),
  one_case("bcg_two_covariates_normal", dat$yi, dat$vi, Xbcg, N(0, 4), N(0, 1),
           list(dist = "HalfNormal", sigma = 0.5)),
  one_case("bcg_ablat_rhodes", dat$yi, dat$vi, cbind(ablat = dat$ablat), N(0, 2), N(0, 0.5),
           list(dist = "StudentT", nu = 5, mu = -3.16, sigma = 2.5), tau_key = "log_tau2_smd",
           outcome_sd = 2.0),
  one_case("schools_uniform", schools_y, schools_v, NULL, N(0, 50), NULL,
           list(dist = "Uniform", lower = 0, upper = 50), upper = 50),
  one_case("schools_k1_halfcauchy", schools_y[1], schools_v[1], NULL, N(0, 50), NULL,
           list(dist = "HalfCauchy", beta = 25))
)
out <- list(
  source = paste("tests/reference/r/exact_density_reference.R (integrate(rel.tol = 1e-11) over tau",
                 "of the conjugate formulas; data: metafor's dat.bcg via escalc(measure = 'RR'),",
                 "eight schools as in the bayesmeta vignette)"),
  r_version = R.version.string, metafor_version = as.character(packageVersion("metafor")),
  cases = cases)
write(toJSON(out, auto_unbox = TRUE, digits = NA, null = "null", na = "null", pretty = TRUE),
      "tests/reference/exact_density.json")
