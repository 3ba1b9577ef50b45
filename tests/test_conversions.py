"""Tests of bayes_msc.data.conversions against published numbers and exact identities.

Outside references used here:
- Wan et al. 2014, BMC Med Res Methodol 14:135, Table 1 (exact xi(n) = 2 E(Z_(n)), n <= 50),
  https://bmcmedresmethodol.biomedcentral.com/articles/10.1186/1471-2288-14-135/tables/1
- metaBLUE 1.0.0 (CRAN) documentation, printed example output of ``Wan.std`` and
  ``Luo.mean`` for X = (1, 4, 10), n = 30, type "S1" (https://rdrr.io/cran/metaBLUE/man/).
- Cochrane Handbook 5.1, 7.7.3.2 (t(0.975, 24) = 2.0639, divisor 4.128 for n = 25; 3.92
  for large samples) and 16.4.6.4 (SD of a difference with imputed correlation 0.68:
  SDs 2.38 and 2.21, n = 10, standard error 0.583); v6 6.5.2.5 (IQR ~ 1.35 SD).
- Shi et al. 2020 SD for the five-number summary in its two published forms: metafor's
  ``conv.fivenum`` (eq. 10, weight form) and R package meta (eq. 11, theta form).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from bayes_msc.data import conversions as cv

# Wan et al. 2014, Table 1: exact expected range of n standard normals.
WAN_TABLE1 = {5: 2.326, 10: 3.078, 15: 3.472, 20: 3.735, 25: 3.931, 30: 4.086, 40: 4.322, 50: 4.498}


def test_wan_xi_approximates_wan_table1():
    n = np.array(list(WAN_TABLE1))
    exact = np.array(list(WAN_TABLE1.values()))
    rel = cv.wan_xi(n) / exact - 1.0
    assert np.all(np.abs(rel) < 0.015)
    assert np.all(np.abs(rel[n >= 15]) < 0.003)


def test_metablue_documented_examples_for_range():
    # metaBLUE::Wan.std(c(1, 4, 10), 30, "S1")$sigmahat = 2.205578;
    # metaBLUE::Luo.mean(c(1, 4, 10), 30, "S1")$muhat = 4.356748
    mean, sd = cv.median_range_to_mean_sd(4.0, 1.0, 10.0, 30)
    assert sd == pytest.approx(2.205578, abs=5e-7)
    assert mean == pytest.approx(4.356748, abs=5e-7)


def test_wan_range_mean_and_luo_weight():
    mean_wan, sd_wan = cv.median_range_to_mean_sd(4.0, 1.0, 10.0, 30, method="wan")
    assert mean_wan == pytest.approx((1 + 2 * 4 + 10) / 4)
    mean_luo, sd_luo = cv.median_range_to_mean_sd(4.0, 1.0, 10.0, 30)
    assert sd_wan == sd_luo  # Wan's SD in both methods
    w = 4 / (4 + 30**0.75)
    assert mean_luo == pytest.approx(w * 5.5 + (1 - w) * 4.0, rel=1e-14)


def test_iqr_sd_tends_to_iqr_over_1_35():
    # Cochrane Handbook 6.5.2.5: for large samples the IQR is about 1.35 SDs.
    assert round(float(cv.wan_eta(10**7)), 2) == 1.35
    _, sd = cv.median_iqr_to_mean_sd(50.0, 40.0, 67.0, 10**7)
    assert sd == pytest.approx(27.0 / 1.349, rel=1e-3)


def test_median_iqr_mean_formulas():
    # Luo et al. 2018 (weight 0.7 + 0.39/n on the mid-quartile range), Wan et al. 2014 (average).
    n = np.array([10.0, 40.0])
    mean, sd = cv.median_iqr_to_mean_sd(3.0, 1.0, 6.0, n)
    w = 0.7 + 0.39 / n
    np.testing.assert_allclose(mean, w * 3.5 + (1 - w) * 3.0, rtol=1e-14)
    np.testing.assert_allclose(sd, 5.0 / cv.wan_eta(n), rtol=1e-14)
    mean_w, sd_w = cv.median_iqr_to_mean_sd(3.0, 1.0, 6.0, n, method="wan")
    np.testing.assert_allclose(mean_w, 10.0 / 3.0)
    np.testing.assert_allclose(sd_w, sd)


@pytest.mark.parametrize("method", ["luo_shi", "wan"])
def test_symmetric_quantiles_give_the_median(method):
    n = np.array([5.0, 12.0, 200.0])
    assert np.allclose(cv.median_iqr_to_mean_sd(10.0, 8.0, 12.0, n, method)[0], 10.0)
    assert np.allclose(cv.median_range_to_mean_sd(10.0, 4.0, 16.0, n, method)[0], 10.0)
    assert np.allclose(cv.fivenum_to_mean_sd(10.0, 8.0, 12.0, 4.0, 16.0, n, method)[0], 10.0)


def test_shi_sd_weight_form_equals_theta_form():
    from scipy.stats import norm

    n = np.array([7.0, 25.0, 120.0])
    a, q1, m, q3, b = 1.0, 3.5, 5.0, 7.0, 12.0
    _, sd = cv.fivenum_to_mean_sd(m, q1, q3, a, b, n)
    # meta's mean.sd.iqr.range, Shi et al. (2020) eq. (11)
    theta1 = (2 + 0.14 * n**0.6) * norm.ppf((n - 0.375) / (n + 0.25))
    theta2 = (2 + 2 / (0.07 * n**0.6)) * norm.ppf((0.75 * n - 0.125) / (n + 0.25))
    np.testing.assert_allclose(sd, (b - a) / theta1 + (q3 - q1) / theta2, rtol=1e-12)
    # both range- and IQR-based SDs equal -> Shi's weighted SD equals them too
    s = 2.0
    _, sd_eq = cv.fivenum_to_mean_sd(
        0.0, -s * cv.wan_eta(n) / 2, s * cv.wan_eta(n) / 2, -s * cv.wan_xi(n) / 2, s * cv.wan_xi(n) / 2, n
    )
    np.testing.assert_allclose(sd_eq, s, rtol=1e-12)


def test_luo_fivenum_mean_weights():
    n = 30.0
    mean, _ = cv.fivenum_to_mean_sd(5.0, 3.0, 8.0, 1.0, 15.0, n)
    w1 = 2.2 / (2.2 + n**0.75)
    w2 = 0.7 - 0.72 / n**0.55
    assert mean == pytest.approx(w1 * 8.0 + w2 * 5.5 + (1 - w1 - w2) * 5.0, rel=1e-14)
    mean_w, _ = cv.fivenum_to_mean_sd(5.0, 3.0, 8.0, 1.0, 15.0, n, method="wan")
    assert mean_w == pytest.approx((1 + 6 + 10 + 16 + 15) / 8)


def test_se_and_ci_to_sd_cochrane():
    assert cv.se_to_sd(2.0, 25) == pytest.approx(10.0)
    # Handbook 7.7.3.2: n = 25 -> divisor 2 * 2.0639 = 4.128 instead of 3.92
    sd = cv.ci_to_sd(10.0, 14.128, 25)
    assert round(float(np.sqrt(25) * 4.128 / sd), 3) == 4.128
    divisor = np.sqrt(400) * 3.92 / cv.ci_to_sd(10.0, 13.92, 400, dist="normal")
    assert round(float(divisor), 2) == 3.92
    mean, sd2 = cv.ci_to_mean_sd(np.nan, 10.0, 14.128, 25)
    assert mean == pytest.approx(12.064) and sd2 == pytest.approx(sd)
    mean3, _ = cv.ci_to_mean_sd(11.0, 10.0, 14.128, 25)
    assert mean3 == 11.0


def test_change_from_baseline_cochrane_example():
    # Handbook 5.1, 16.4.6.4: SDs 2.38 and 2.21, Corr 0.68, n = 10 -> SE 0.583
    _, sd = cv.change_from_baseline(0.0, 2.38, 0.0, 2.21, r=0.68)
    assert round(float(sd) / np.sqrt(10), 3) == 0.583
    # worked example (uniqcret.com, "Calculating Mean and SD of Change from Baseline"):
    # baseline 140 (SD 10), follow-up 125 (SD 12), r = 0.6 -> change -15, SD 10
    mean, sd = cv.change_from_baseline(140.0, 10.0, 125.0, 12.0, r=0.6)
    assert mean == -15.0 and sd == pytest.approx(10.0)
    # identities: r = 0 adds variances; r = 1 with equal SDs leaves no spread
    assert cv.change_from_baseline(0, 3.0, 0, 4.0, r=0.0)[1] == pytest.approx(5.0)
    assert cv.change_from_baseline(0, 3.0, 0, 3.0, r=1.0)[1] == pytest.approx(0.0)
    with pytest.raises(ValueError):
        cv.change_from_baseline(0, 1, 0, 1, r=1.5)


def test_rescale_identities():
    assert cv.rescale_mean(0.0, 0, 10) == 0.0
    assert cv.rescale_mean(10.0, 0, 10) == 100.0
    assert cv.rescale_mean(3.0, 1, 5) == pytest.approx(50.0)
    assert cv.rescale_sd(2.0, 0, 20) == pytest.approx(10.0)
    assert cv.rescale_sd(-2.0, 0, 20) == pytest.approx(-10.0)  # a change score keeps its sign


def test_contrast_variance():
    np.testing.assert_allclose(
        cv.contrast_variance([2.0, np.nan], [np.nan, 3.04], [np.nan, 12.26]),
        [4.0, ((12.26 - 3.04) / (2 * 1.959964)) ** 2],
        rtol=1e-6,
    )


def _outcome_rows() -> pd.DataFrame:
    rows = [
        dict(stat_group="mean_sd", n=20, mean=5.0, sd=2.0),
        dict(stat_group="mean_se", n=16, mean=4.0, se=0.5),
        dict(stat_group="mean_ci", n=25, mean=np.nan, ci_low=10.0, ci_high=14.128),
        dict(stat_group="median_iqr", n=30, median=3.0, q1=1.0, q3=6.0),
        dict(stat_group="median_range", n=30, median=4.0, min=1.0, max=10.0),
        dict(stat_group="median_iqr", n=30, median=5.0, q1=3.0, q3=8.0, min=1.0, max=15.0),
        dict(stat_group="missing", n=12),
    ]
    frame = pd.DataFrame(rows)
    for col in ("mean", "sd", "se", "ci_low", "ci_high", "median", "q1", "q3", "min", "max"):
        if col not in frame:
            frame[col] = np.nan
    return frame


@pytest.mark.parametrize("method", ["luo_shi", "wan"])
def test_to_mean_sd_every_group(method):
    out = cv.to_mean_sd(_outcome_rows(), method=method)
    expected = [
        (5.0, 2.0),
        (4.0, 2.0),
        cv.ci_to_mean_sd(np.nan, 10.0, 14.128, 25),
        cv.median_iqr_to_mean_sd(3.0, 1.0, 6.0, 30, method),
        cv.median_range_to_mean_sd(4.0, 1.0, 10.0, 30, method),
        cv.fivenum_to_mean_sd(5.0, 3.0, 8.0, 1.0, 15.0, 30, method),
    ]
    np.testing.assert_allclose(out["mean_used"].to_numpy()[:6], [float(m) for m, _ in expected], rtol=1e-14)
    np.testing.assert_allclose(out["sd_used"].to_numpy()[:6], [float(s) for _, s in expected], rtol=1e-14)
    assert np.isnan(out["mean_used"].iat[6]) and np.isnan(out["sd_used"].iat[6])
    text = out["conversion"].tolist()
    assert text[0] == "reported mean and SD"
    assert ("Luo" in text[3]) == (method == "luo_shi") and "Wan" in text[3]
    assert "Shi" in text[5] if method == "luo_shi" else "five-number" in text[5]
    assert "missing" in text[6]
    assert "mean_used" not in _outcome_rows().columns  # the input is not modified


def test_to_mean_sd_rejects_unknown_method():
    with pytest.raises(ValueError):
        cv.to_mean_sd(_outcome_rows(), method="hozo")
