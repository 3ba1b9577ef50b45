"""Property-based tests (hypothesis) of the conversions, the frequentist estimators and the
exact posterior.

The properties are mathematical facts of the methods, not results of this package:

- conversions (Wan et al. 2014, Luo et al. 2018, Shi et al. 2020; Cochrane Handbook
  6.5.2): an estimated mean does not decrease when the median or a quantile increases
  (for n >= 2, where every weight of the Luo mean is positive), an SD is >= 0 and does
  not decrease when the spread increases, rescaling to 0-100 inverts exactly;
- estimators (DerSimonian & Laird 1986; Paule & Mandel 1982; REML, Viechtbauer 2005):
  invariant to the order of the comparisons, location equivariant (adding c to every
  yi adds c to the estimate and leaves tau^2), scale equivariant (yi * c and vi * c^2
  give estimate * c and tau^2 * c^2), tau^2 >= 0, I^2 in [0, 100], the CI holds the
  estimate, and DL equals the fixed-effect model exactly when Q <= k - 1;
- exact posterior (normal-normal model, Roever 2020): quantiles are monotone in the
  probability, probabilities lie in [0, 1] and complementary ones add up to 1.

REML and PM iterate until tau^2 changes by less than metafor's absolute threshold 1e-5
(:data:`bayes_msc.frequentist.tau2.THRESHOLD`), so for them equivariance holds up to that
convergence error; DL and FE are closed forms and hold to rounding.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from bayes_msc.bayes.exact.posterior import exact_posterior, tau_posterior
from bayes_msc.data import conversions as cv
from bayes_msc.frequentist.rma import rma
from bayes_msc.priors import PriorContext, PriorSet

# Modest example counts keep the file fast (a few seconds); deadline off because the
# test machine is shared and timings vary.
# derandomize: CI runs the same examples every time (a failure is reproducible, never flaky)
FAST = settings(max_examples=40, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
SLOWER = settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])

RE_METHODS = ("dl", "reml", "pm")
CLOSED_FORM = ("fe", "dl")


def finite(lo: float, hi: float) -> st.SearchStrategy[float]:
    return st.floats(lo, hi, allow_nan=False, allow_infinity=False)


sizes = st.integers(2, 500)
scores = finite(-100.0, 100.0)
spreads = finite(0.0, 50.0)
# SDs: 0 or at least 1e-6, so that squares do not underflow to 0 (not a property of interest).
sds = st.one_of(st.just(0.0), finite(1e-6, 100.0))


@st.composite
def meta_data(draw, k_min: int = 2, k_max: int = 12):
    """k comparisons: effects in [-50, 50], sampling variances in [0.01, 100]."""
    k = draw(st.integers(k_min, k_max))
    yi = np.array(draw(st.lists(finite(-50.0, 50.0), min_size=k, max_size=k)))
    vi = np.array(draw(st.lists(finite(0.01, 100.0), min_size=k, max_size=k)))
    return yi, vi


def tolerance(method: str, scale: float = 1.0) -> dict[str, float]:
    """``pytest.approx`` tolerances: closed forms to rounding, iterative estimators to their
    convergence threshold (see the module docstring); ``scale`` is the size of the quantity."""
    if method in CLOSED_FORM:
        return {"rel": 1e-9, "abs": 1e-9 * max(1.0, scale)}
    return {"rel": 1e-3, "abs": 1e-4 * max(1.0, scale)}


# ------------------------------------------------------------------------- conversions


@FAST
@given(n=sizes, q1=scores, gaps=st.tuples(spreads, spreads), step=finite(0.0, 20.0))
def test_median_iqr_mean_monotone_in_median_and_q3_and_sd_nonnegative(n, q1, gaps, step):
    median, q3 = q1 + gaps[0], q1 + gaps[0] + gaps[1]
    for method in cv.METHODS:
        mean, sd = cv.median_iqr_to_mean_sd(median, q1, q3, n, method)
        # A larger median (still <= q3): the mean does not decrease, the SD is unchanged.
        up = min(median + step, q3)
        mean_m, sd_m = cv.median_iqr_to_mean_sd(up, q1, q3, n, method)
        assert mean_m >= mean - 1e-9 * (1 + abs(mean))
        assert sd_m == pytest.approx(sd)
        # A larger q3: mean and SD do not decrease.
        mean_q, sd_q = cv.median_iqr_to_mean_sd(median, q1, q3 + step, n, method)
        assert mean_q >= mean - 1e-9 * (1 + abs(mean))
        assert sd_q >= sd - 1e-12
        assert np.isfinite(sd) and sd >= 0
        # The estimated mean lies between q1 and q3.
        assert q1 - 1e-9 * (1 + abs(q1)) <= mean <= q3 + 1e-9 * (1 + abs(q3))


@FAST
@given(n=sizes, low=scores, gaps=st.tuples(spreads, spreads), step=finite(0.0, 20.0))
def test_median_range_mean_monotone_and_sd_nonnegative(n, low, gaps, step):
    median, high = low + gaps[0], low + gaps[0] + gaps[1]
    for method in cv.METHODS:
        mean, sd = cv.median_range_to_mean_sd(median, low, high, n, method)
        mean_m, _ = cv.median_range_to_mean_sd(min(median + step, high), low, high, n, method)
        mean_x, sd_x = cv.median_range_to_mean_sd(median, low, high + step, n, method)
        assert mean_m >= mean - 1e-9 * (1 + abs(mean))
        assert mean_x >= mean - 1e-9 * (1 + abs(mean))
        assert np.isfinite(sd) and 0 <= sd <= sd_x + 1e-12


@FAST
@given(n=sizes, low=scores, gaps=st.tuples(spreads, spreads, spreads, spreads), step=finite(0.0, 20.0))
def test_fivenum_mean_monotone_in_median_and_sd_nonnegative(n, low, gaps, step):
    q1 = low + gaps[0]
    median = q1 + gaps[1]
    q3 = median + gaps[2]
    high = q3 + gaps[3]
    for method in cv.METHODS:
        mean, sd = cv.fivenum_to_mean_sd(median, q1, q3, low, high, n, method)
        mean_m, _ = cv.fivenum_to_mean_sd(min(median + step, q3), q1, q3, low, high, n, method)
        assert mean_m >= mean - 1e-9 * (1 + abs(mean))
        assert np.isfinite(sd) and sd >= 0
        assert low - 1e-9 * (1 + abs(low)) <= mean <= high + 1e-9 * (1 + abs(high))


@FAST
@given(n=sizes, se=finite(0.0, 100.0), low=scores, width=spreads, extra=finite(0.0, 10.0))
def test_se_and_ci_give_nonnegative_sd_growing_with_the_width(n, se, low, width, extra):
    assert cv.se_to_sd(se, n) >= 0
    for dist in ("t", "normal"):
        sd = cv.ci_to_sd(low, low + width, n, dist=dist)
        wider = cv.ci_to_sd(low, low + width + extra, n, dist=dist)
        assert np.isfinite(sd) and 0 <= sd <= wider + 1e-12
        mean, _ = cv.ci_to_mean_sd(np.nan, low, low + width, n, dist=dist)
        assert mean == pytest.approx(low + width / 2)


@FAST
@given(sb=sds, sf=sds, r=finite(-1.0, 0.99), mb=scores, mf=scores)
def test_change_sd_between_difference_and_sum_of_sds(sb, sf, r, mb, mf):
    mean, sd = cv.change_from_baseline(mb, sb, mf, sf, r)
    assert mean == pytest.approx(mf - mb)
    assert np.isfinite(sd)
    # sd^2 = sb^2 + sf^2 - 2 r sb sf lies between (sb - sf)^2 (r = 1) and (sb + sf)^2 (r = -1).
    assert abs(sb - sf) - 1e-9 * (sb + sf) <= sd <= sb + sf + 1e-9 * (sb + sf)


def test_change_sd_is_finite_for_r_one():
    """r = 1 is allowed (``--r 1``): the SD is |sb - sf| and must never be NaN."""
    rng = np.random.default_rng(20210101)
    sb = rng.uniform(0.1, 100.0, 1000)
    sf = sb * (1.0 + rng.uniform(-1e-9, 1e-9, 1000))
    _, sd = cv.change_from_baseline(0.0, sb, 0.0, sf, 1.0)
    assert np.all(np.isfinite(sd))
    np.testing.assert_allclose(sd, np.abs(sb - sf), atol=1e-6)


@FAST
@given(
    lo=finite(-1000.0, 1000.0),
    width=finite(0.01, 1000.0),
    u=finite(0.0, 1.0),
    sd=finite(0.0, 500.0),
    u2=finite(0.0, 1.0),
)
def test_rescale_round_trip(lo, width, u, sd, u2):
    hi = lo + width
    x, x2 = lo + u * width, lo + u2 * width
    y = cv.rescale_mean(x, lo, hi)
    assert -1e-9 <= y <= 100 + 1e-9
    # Back from 0-100 to the native scale.
    assert lo + y * (hi - lo) / 100.0 == pytest.approx(x, rel=1e-9, abs=1e-9 * (abs(lo) + width))
    assert cv.rescale_sd(sd, lo, hi) * (hi - lo) / 100.0 == pytest.approx(sd, rel=1e-12, abs=1e-12)
    assert cv.rescale_mean(lo, lo, hi) == pytest.approx(0.0, abs=1e-9)
    assert cv.rescale_mean(hi, lo, hi) == pytest.approx(100.0)
    # A difference of two rescaled values is the rescaled difference (offsets cancel).
    diff = cv.rescale_mean(x, lo, hi) - cv.rescale_mean(x2, lo, hi)
    assert diff == pytest.approx(cv.rescale_sd(x - x2, lo, hi), abs=1e-7 * (1 + abs(lo) / width))
    # 0-100 already: rescaling is the identity.
    assert cv.rescale_mean(y, 0.0, 100.0) == pytest.approx(y)


# -------------------------------------------------------------------------- estimators


@FAST
@given(data=meta_data(), method=st.sampled_from(("fe",) + RE_METHODS), seed=st.integers(0, 2**32 - 1))
def test_estimators_do_not_depend_on_row_order(data, method, seed):
    yi, vi = data
    order = np.random.default_rng(seed).permutation(len(yi))
    a, b = rma(yi, vi, method=method), rma(yi[order], vi[order], method=method)
    tol = tolerance(method, 50.0)
    assert b.estimate == pytest.approx(a.estimate, **tol)
    assert b.tau2 == pytest.approx(a.tau2, **tol)
    assert b.se == pytest.approx(a.se, **tol)
    assert b.q == pytest.approx(a.q, rel=1e-9, abs=1e-9)
    assert list(b.weights) == pytest.approx(list(a.weights[order]), **tol)


@FAST
@given(data=meta_data(), method=st.sampled_from(("fe",) + RE_METHODS), c=finite(-100.0, 100.0))
def test_location_equivariance(data, method, c):
    yi, vi = data
    a, b = rma(yi, vi, method=method), rma(yi + c, vi, method=method)
    # Adding c loses the digits of the yi below c's rounding: tolerances scale with |c|.
    assert b.estimate == pytest.approx(a.estimate + c, **tolerance(method, 150.0))
    assert b.tau2 == pytest.approx(a.tau2, **tolerance(method, 1e3))
    assert b.se == pytest.approx(a.se, **tolerance(method, 1e3))
    assert b.i2 == pytest.approx(a.i2, abs=1e-6 if method in CLOSED_FORM else 0.5)
    assert b.q == pytest.approx(a.q, rel=1e-6, abs=1e-6)


@FAST
@given(
    data=meta_data(), method=st.sampled_from(("fe",) + RE_METHODS), c=st.one_of(finite(0.1, 10.0), finite(-10.0, -0.1))
)
def test_scale_equivariance(data, method, c):
    yi, vi = data
    a, b = rma(yi, vi, method=method), rma(yi * c, vi * c**2, method=method)
    assert b.estimate / c == pytest.approx(a.estimate, **tolerance(method, 50.0))
    assert b.tau2 / c**2 == pytest.approx(a.tau2, **tolerance(method, 1 / c**2))
    assert b.se / abs(c) == pytest.approx(a.se, **tolerance(method, 1.0))
    assert b.i2 == pytest.approx(a.i2, abs=1e-6 if method in CLOSED_FORM else 0.5)
    assert b.q == pytest.approx(a.q, rel=1e-6)
    lo, hi = (b.ci_low / c, b.ci_high / c) if c > 0 else (b.ci_high / c, b.ci_low / c)
    assert lo == pytest.approx(a.ci_low, **tolerance(method, 50.0))
    assert hi == pytest.approx(a.ci_high, **tolerance(method, 50.0))


@FAST
@given(
    data=meta_data(), method=st.sampled_from(("fe",) + RE_METHODS), hksj=st.booleans(), pi=st.sampled_from(("z", "t"))
)
def test_estimator_invariants(data, method, hksj, pi):
    yi, vi = data
    assume(not hksj or len(yi) >= 2)
    res = rma(yi, vi, method=method, hksj=hksj, pi=pi)
    assert res.tau2 >= 0 and res.tau == pytest.approx(np.sqrt(res.tau2))
    assert 0 <= res.i2 <= 100
    # H^2 = tau^2 / typical v + 1 >= 1 for random effects; Q / (k - 1) for FE (metafor).
    assert res.h2 == pytest.approx(res.q / res.q_df) if method == "fe" else res.h2 >= 1 - 1e-12
    assert res.q >= 0 and 0 <= res.q_p <= 1
    # Identical effects under Knapp-Hartung give SE 0 and z = 0/0: metafor 3.8.1 reports NaN too
    # (rma(yi=c(0,0), vi=c(1,1), method="FE", test="knha"): se 0, zval NaN, pval NaN).
    assert 0 <= res.p <= 1 or (hksj and res.se == 0 and res.estimate == 0 and np.isnan(res.p))
    assert res.se >= 0
    assert res.ci_low <= res.estimate <= res.ci_high
    if method == "fe":
        assert res.tau2 == 0
    else:  # the prediction interval holds the confidence interval
        assert res.pi_low <= res.ci_low + 1e-12 and res.pi_high >= res.ci_high - 1e-12
    assert res.weights.sum() == pytest.approx(100.0)
    assert np.all(res.weights >= 0)
    # The pooled estimate is a weighted mean: it lies within the range of the yi.
    assert yi.min() - 1e-9 <= res.estimate <= yi.max() + 1e-9


@st.composite
def homogeneous(draw):
    """Effects scattered less than their sampling error: Q is mostly below k - 1."""
    k = draw(st.integers(2, 12))
    mu = draw(finite(-50.0, 50.0))
    vi = np.array(draw(st.lists(finite(0.05, 50.0), min_size=k, max_size=k)))
    z = np.array(draw(st.lists(finite(-1.0, 1.0), min_size=k, max_size=k)))
    shrink = draw(finite(0.0, 0.5))
    return mu + shrink * z * np.sqrt(vi), vi


@FAST
@given(data=homogeneous())
def test_fixed_effect_equals_random_effects_when_tau2_is_zero(data):
    yi, vi = data
    fe = rma(yi, vi, method="fe")
    assume(fe.q < fe.q_df)  # Q < k - 1: the DL moment estimator truncates tau^2 at 0
    dl = rma(yi, vi, method="dl")
    assert dl.tau2 == 0.0 and dl.i2 == 0.0
    assert dl.estimate == pytest.approx(fe.estimate, rel=1e-12, abs=1e-12)
    assert dl.se == pytest.approx(fe.se, rel=1e-12)
    assert (dl.ci_low, dl.ci_high) == pytest.approx((fe.ci_low, fe.ci_high), rel=1e-12, abs=1e-12)
    for method in ("reml", "pm"):
        res = rma(yi, vi, method=method)
        if res.tau2 == 0.0:  # wherever an estimator gives tau^2 = 0 it is the FE model
            assert res.estimate == pytest.approx(fe.estimate, rel=1e-12, abs=1e-12)


@FAST
@given(data=meta_data(k_min=3))
def test_dl_tau2_positive_exactly_when_q_exceeds_its_df(data):
    yi, vi = data
    fe, dl = rma(yi, vi, method="fe"), rma(yi, vi, method="dl")
    assert (dl.tau2 > 0) == (fe.q > fe.q_df)


# ----------------------------------------------------------------------- exact engine


def prior_set(mu_sd: float, tau_scale: float, dist: str) -> PriorSet:
    tau = {
        "HalfNormal": {"dist": "HalfNormal", "sigma": tau_scale},
        "HalfCauchy": {"dist": "HalfCauchy", "beta": tau_scale},
        "Uniform": {"dist": "Uniform", "lower": 0.0, "upper": 4 * tau_scale},
    }[dist]
    ps = PriorSet.from_dict("property", {"mu": {"dist": "Normal", "mu": 0.0, "sigma": mu_sd}, "tau": tau})
    return ps.resolve(PriorContext(unit_info_sd=1.0, outcome_sd=1.0))


@SLOWER
@given(
    data=meta_data(k_min=1, k_max=8),
    mu_sd=finite(1.0, 100.0),
    tau_scale=finite(0.1, 20.0),
    dist=st.sampled_from(("HalfNormal", "HalfCauchy", "Uniform")),
)
def test_exact_posterior_quantiles_monotone_and_probabilities_valid(data, mu_sd, tau_scale, dist):
    yi, vi = data
    ps = prior_set(mu_sd, tau_scale, dist)
    res = exact_posterior(yi, vi, ps, mcid=-5.0)
    p = res.parameters
    for name in ("mu", "tau", "theta_new"):
        row = p.loc[name]
        assert row["eti_low"] <= row["median"] <= row["eti_high"], name
        assert row["hdi_low"] <= row["hdi_high"], name
        assert row["hdi_high"] - row["hdi_low"] <= row["eti_high"] - row["eti_low"] + 1e-6 * (
            1 + row["eti_high"] - row["eti_low"]
        ), name  # the HDI is the shortest interval
    assert p.loc["tau", "eti_low"] >= 0
    if dist == "Uniform":
        assert p.loc["tau", "eti_high"] <= 4 * tau_scale * (1 + 1e-9)
    probs = res.probabilities
    assert all(0.0 <= v <= 1.0 for v in probs.values())
    assert probs["P(mu < 0)"] + probs["P(mu > 0)"] == pytest.approx(1.0)
    assert probs["P(mu < -5)"] <= probs["P(mu < 0)"] + 1e-12
    # tau's quantile function is non-decreasing over a grid of probabilities.
    tp = tau_posterior(yi, vi, ps)
    qs = tp.quantile(np.linspace(0.01, 0.99, 25))
    assert np.all(np.diff(qs) >= -1e-9 * (1 + qs[1:]))
    cdf = tp.cdf(qs)
    assert np.all((cdf >= 0) & (cdf <= 1))
    np.testing.assert_allclose(cdf, np.linspace(0.01, 0.99, 25), atol=1e-5)
