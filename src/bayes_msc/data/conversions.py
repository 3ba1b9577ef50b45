"""Convert reported statistics to means and standard deviations.

Plain vectorised numpy functions (inputs broadcast; NaN in, NaN out) and
:func:`to_mean_sd`, which applies them to the rows of a normalised ``outcomes`` frame.

Default conversion (``method="luo_shi"``), the combination newer metafor versions use by
default in ``conv.fivenum`` ("luo/wan/shi"; the function is not in metafor 3.8):

- mean from quantiles: Luo et al. (2018) optimal weights;
- SD from the median and IQR, or from the median and range: Wan et al. (2014), whose
  estimators Shi et al. (2020) keep for these two cases;
- SD from the five-number summary: Shi et al. (2020).

``method="wan"`` uses Wan et al. (2014) for both mean and SD.

References
----------
Wan X, Wang W, Liu J, Tong T (2014). Estimating the sample mean and standard deviation
from the sample size, median, range and/or interquartile range. BMC Med Res Methodol
14:135. doi:10.1186/1471-2288-14-135

Luo D, Wan X, Liu J, Tong T (2018). Optimally estimating the sample mean from the sample
size, median, mid-range, and/or mid-quartile range. Stat Methods Med Res 27(6):1785-1805.
doi:10.1177/0962280216669183

Shi J, Luo D, Weng H, Zeng X-T, Lin L, Chu H, Tong T (2020). Optimally estimating the
sample standard deviation from the five-number summary. Res Synth Methods 11(5):641-654.
doi:10.1002/jrsm.1429

Higgins JPT et al. (eds). Cochrane Handbook for Systematic Reviews of Interventions,
version 6, sections 6.5.2.2-6.5.2.8 (SD from SE/CI; change from baseline).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

METHODS: tuple[str, ...] = ("luo_shi", "wan")

CONVERSION_TEXT: dict[tuple[str, str], str] = {
    ("mean_sd", "luo_shi"): "reported mean and SD",
    ("mean_se", "luo_shi"): "SD = SE * sqrt(n)",
    ("mean_ci", "luo_shi"): "SD = sqrt(n) * (ci_high - ci_low) / (2 * t(0.975, n - 1)) (Cochrane Handbook 6.5.2.2)",
    ("median_iqr", "luo_shi"): "median/IQR: mean Luo et al. 2018, SD Wan et al. 2014",
    ("median_iqr", "wan"): "median/IQR: mean and SD Wan et al. 2014",
    ("median_range", "luo_shi"): "median/range: mean Luo et al. 2018, SD Wan et al. 2014",
    ("median_range", "wan"): "median/range: mean and SD Wan et al. 2014",
    ("fivenum", "luo_shi"): "five-number summary: mean Luo et al. 2018, SD Shi et al. 2020",
    ("fivenum", "wan"): "five-number summary: mean and SD Wan et al. 2014",
    ("missing", "luo_shi"): "declared missing (no statistics)",
}


def _arr(x) -> np.ndarray:
    return np.asarray(x, dtype=float)


def _check_method(method: str) -> None:
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, not {method!r}")


def wan_xi(n):
    """Expected range of ``n`` standard normal values, Wan et al. 2014 eq. (9).

    ``xi(n) = 2 * Phi^-1((n - 0.375) / (n + 0.25))``, Blom's approximation of
    ``2 E(Z_(n))`` (Wan et al. 2014, Table 1 gives the exact values for n <= 50).
    """
    from scipy.special import ndtri

    n = _arr(n)
    return 2.0 * ndtri((n - 0.375) / (n + 0.25))


def wan_eta(n):
    """Expected interquartile range of ``n`` standard normal values, Wan et al. 2014 eq. (16).

    ``eta(n) = 2 * Phi^-1((0.75 n - 0.125) / (n + 0.25))``; tends to 1.349 (the
    "IQR / 1.35" rule of the Cochrane Handbook 6.5.2.5) as n grows.
    """
    from scipy.special import ndtri

    n = _arr(n)
    return 2.0 * ndtri((0.75 * n - 0.125) / (n + 0.25))


def median_iqr_to_mean_sd(median, q1, q3, n, method: str = "luo_shi"):
    """Mean and SD from the median, first and third quartiles (scenario {q1, m, q3}).

    Mean: Luo et al. 2018 eq. (11) (``method="luo_shi"``)
    ``(0.7 + 0.39/n) (q1 + q3)/2 + (0.3 - 0.39/n) m``, or Wan et al. 2014 eq. (14)
    (``method="wan"``) ``(q1 + m + q3) / 3``.
    SD (both methods): Wan et al. 2014 eq. (16), ``(q3 - q1) / eta(n)`` (see :func:`wan_eta`).

    Returns
    -------
    (mean, sd) : tuple of numpy arrays
    """
    _check_method(method)
    median, q1, q3, n = (_arr(v) for v in (median, q1, q3, n))
    if method == "luo_shi":
        w = 0.7 + 0.39 / n
        mean = w * (q1 + q3) / 2.0 + (1.0 - w) * median
    else:
        mean = (q1 + median + q3) / 3.0
    return mean, (q3 - q1) / wan_eta(n)


def median_range_to_mean_sd(median, minimum, maximum, n, method: str = "luo_shi"):
    """Mean and SD from the median, minimum and maximum (scenario {a, m, b}).

    Mean: Luo et al. 2018 eq. (7) (``method="luo_shi"``), weight ``w = 4 / (4 + n^0.75)``:
    ``w (a + b)/2 + (1 - w) m``; or Wan et al. 2014 (``method="wan"``) ``(a + 2m + b) / 4``
    (as metafor's ``conv.fivenum`` method "wan2014").
    SD (both methods): Wan et al. 2014 eq. (9), ``(b - a) / xi(n)`` (see :func:`wan_xi`).

    Returns
    -------
    (mean, sd) : tuple of numpy arrays
    """
    _check_method(method)
    median, a, b, n = (_arr(v) for v in (median, minimum, maximum, n))
    if method == "luo_shi":
        w = 4.0 / (4.0 + n**0.75)
        mean = w * (a + b) / 2.0 + (1.0 - w) * median
    else:
        mean = (a + 2.0 * median + b) / 4.0
    return mean, (b - a) / wan_xi(n)


def fivenum_to_mean_sd(median, q1, q3, minimum, maximum, n, method: str = "luo_shi"):
    """Mean and SD from the five-number summary {a, q1, m, q3, b}.

    ``method="luo_shi"``: mean Luo et al. 2018 eq. (15),
    ``w1 (a + b)/2 + w2 (q1 + q3)/2 + (1 - w1 - w2) m`` with ``w1 = 2.2 / (2.2 + n^0.75)``,
    ``w2 = 0.7 - 0.72 / n^0.55``; SD Shi et al. 2020 eq. (10),
    ``w (b - a)/xi(n) + (1 - w)(q3 - q1)/eta(n)`` with ``w = 1 / (1 + 0.07 n^0.6)``.
    ``method="wan"``: Wan et al. 2014 eq. (10) ``(a + 2 q1 + 2 m + 2 q3 + b) / 8`` and
    SD ``((b - a)/xi(n) + (q3 - q1)/eta(n)) / 2``.

    Returns
    -------
    (mean, sd) : tuple of numpy arrays
    """
    _check_method(method)
    median, q1, q3, a, b, n = (_arr(v) for v in (median, q1, q3, minimum, maximum, n))
    s_range = (b - a) / wan_xi(n)
    s_iqr = (q3 - q1) / wan_eta(n)
    if method == "luo_shi":
        w1 = 2.2 / (2.2 + n**0.75)
        w2 = 0.7 - 0.72 / n**0.55
        mean = w1 * (a + b) / 2.0 + w2 * (q1 + q3) / 2.0 + (1.0 - w1 - w2) * median
        w = 1.0 / (1.0 + 0.07 * n**0.6)
        sd = w * s_range + (1.0 - w) * s_iqr
    else:
        mean = (a + 2.0 * q1 + 2.0 * median + 2.0 * q3 + b) / 8.0
        sd = 0.5 * (s_range + s_iqr)
    return mean, sd


def se_to_sd(se, n):
    """SD of a group from the standard error of its mean: ``sd = se * sqrt(n)``
    (Cochrane Handbook 6.5.2.2)."""
    return _arr(se) * np.sqrt(_arr(n))


def ci_to_sd(ci_low, ci_high, n, level: float = 0.95, dist: str = "t"):
    """SD of a group from a confidence interval of its mean (Cochrane Handbook 6.5.2.2).

    ``sd = sqrt(n) * (high - low) / (2 q)`` with ``q`` the ``(1 + level)/2`` quantile of
    Student's t with ``n - 1`` degrees of freedom (``dist="t"``, the Handbook's advice
    for small groups; 2 * 2.0639 = 4.128 for n = 25) or of the normal distribution
    (``dist="normal"``: 2 * 1.96 = 3.92 for a 95% interval, for large groups).
    """
    from scipy.special import ndtri, stdtrit

    low, high, n = _arr(ci_low), _arr(ci_high), _arr(n)
    p = (1.0 + level) / 2.0
    if dist == "t":
        q = stdtrit(n - 1.0, p)
    elif dist == "normal":
        q = ndtri(p) * np.ones_like(n)
    else:
        raise ValueError(f"dist must be 't' or 'normal', not {dist!r}")
    return np.sqrt(n) * (high - low) / (2.0 * q)


def ci_to_mean_sd(mean, ci_low, ci_high, n, level: float = 0.95, dist: str = "t"):
    """Mean and SD from a confidence interval of a mean (see :func:`ci_to_sd`).

    Where ``mean`` is NaN the interval's midpoint is used (a symmetric interval is
    centred on the mean).
    """
    mean, low, high = _arr(mean), _arr(ci_low), _arr(ci_high)
    mean = np.where(np.isnan(mean), (low + high) / 2.0, mean)
    return mean, ci_to_sd(low, high, n, level=level, dist=dist)


def change_from_baseline(mean_baseline, sd_baseline, mean_final, sd_final, r=0.5):
    """Mean and SD of the change from baseline (Cochrane Handbook 6.5.2.8).

    ``mean = mean_final - mean_baseline``;
    ``sd = sqrt(sd_b^2 + sd_f^2 - 2 r sd_b sd_f)``, ``r`` the (assumed) correlation of
    baseline and follow-up values: a stated assumption, to be reported with the result.
    """
    mb, sb, mf, sf, r = (_arr(v) for v in (mean_baseline, sd_baseline, mean_final, sd_final, r))
    if np.any((r < -1) | (r > 1)):
        raise ValueError("the correlation r must lie in [-1, 1]")
    # Algebraically equal to sd_b^2 + sd_f^2 - 2 r sd_b sd_f, written so that r = 1 with
    # nearly equal SDs does not cancel to a tiny negative number (NaN after sqrt).
    return mf - mb, np.sqrt((sb - sf) ** 2 + 2.0 * (1.0 - r) * sb * sf)


def rescale_mean(x, scale_min, scale_max):
    """A value on a ``[scale_min, scale_max]`` scale mapped to 0-100:
    ``100 (x - min) / (max - min)``."""
    lo, hi = _arr(scale_min), _arr(scale_max)
    return 100.0 * (_arr(x) - lo) / (hi - lo)


def rescale_sd(sd, scale_min, scale_max):
    """An SD (or any difference, e.g. a change score) on a ``[min, max]`` scale mapped
    to 0-100: ``100 sd / (max - min)`` (the scale's offset cancels in a difference)."""
    return 100.0 * _arr(sd) / (_arr(scale_max) - _arr(scale_min))


def _fivenum_rows(df: pd.DataFrame) -> np.ndarray:
    cols = ["median", "q1", "q3", "min", "max"]
    return df[cols].notna().all(axis=1).to_numpy() & df["stat_group"].isin(["median_iqr", "median_range"]).to_numpy()


STAT_INPUTS: tuple[str, ...] = ("mean", "sd", "se", "ci_low", "ci_high", "median", "q1", "q3", "min", "max")


def mean_sd_arrays(
    group: np.ndarray,
    n: np.ndarray,
    col: dict[str, np.ndarray],
    method: str = "luo_shi",
    five: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """The conversion of :func:`to_mean_sd` on plain arrays (one element per row).

    Parameters
    ----------
    group : ndarray of str
        Each row's ``stat_group``.
    n : ndarray of float
        Each row's analysed ``n``.
    col : dict of str to ndarray of float
        The statistic columns :data:`STAT_INPUTS` (NaN when empty).
    method : {"luo_shi", "wan"}
    five : ndarray of bool, optional
        Rows giving the full five-number summary (default: computed from ``col``).

    Returns
    -------
    (mean, sd, conversion) : two float arrays and one text per row
    """
    _check_method(method)
    mean = np.full(len(group), np.nan)
    sd = np.full(len(group), np.nan)
    if five is None:
        five = ((group == "median_iqr") | (group == "median_range")) & np.logical_and.reduce(
            [~np.isnan(col[c]) for c in ("median", "q1", "q3", "min", "max")]
        )
    # each formula only on the rows it applies to, and not at all when there are none
    m = group == "mean_sd"
    if m.any():
        mean[m], sd[m] = col["mean"][m], col["sd"][m]
    m = group == "mean_se"
    if m.any():
        mean[m], sd[m] = col["mean"][m], se_to_sd(col["se"][m], n[m])
    m = group == "mean_ci"
    if m.any():
        mean[m], sd[m] = ci_to_mean_sd(col["mean"][m], col["ci_low"][m], col["ci_high"][m], n[m])
    m = (group == "median_iqr") & ~five
    if m.any():
        mean[m], sd[m] = median_iqr_to_mean_sd(col["median"][m], col["q1"][m], col["q3"][m], n[m], method)
    m = (group == "median_range") & ~five
    if m.any():
        mean[m], sd[m] = median_range_to_mean_sd(col["median"][m], col["min"][m], col["max"][m], n[m], method)
    m = five
    if m.any():
        mean[m], sd[m] = fivenum_to_mean_sd(
            col["median"][m], col["q1"][m], col["q3"][m], col["min"][m], col["max"][m], n[m], method
        )
    text = []
    for g, f in zip(group, five.tolist(), strict=True):
        key = "fivenum" if f else str(g)
        text.append(CONVERSION_TEXT.get((key, method)) or CONVERSION_TEXT.get((key, "luo_shi"), key))
    return mean, sd, text


def to_mean_sd(outcomes: pd.DataFrame, method: str = "luo_shi") -> pd.DataFrame:
    """Add ``mean_used``, ``sd_used`` and ``conversion`` to every outcomes row.

    Each row is converted according to its ``stat_group`` (see
    :data:`bayes_msc.data.dataset.STAT_GROUPS`), using its ``n``: reported mean/SD as
    they are; mean/SE by :func:`se_to_sd`; mean/CI by :func:`ci_to_mean_sd`
    (t quantile, 95%); median/IQR by :func:`median_iqr_to_mean_sd`; median/range by
    :func:`median_range_to_mean_sd`; a row giving the full five-number summary by
    :func:`fivenum_to_mean_sd`. Rows with ``stat_group == "missing"`` keep NaN.
    (:func:`mean_sd_arrays` does the same on plain arrays.)

    Parameters
    ----------
    outcomes : DataFrame
        Normalised outcomes rows (``Dataset.outcomes`` or a subset of it).
    method : {"luo_shi", "wan"}
        Quantile conversions: Luo (mean) + Wan/Shi (SD), the default; or Wan for both.

    Returns
    -------
    DataFrame
        A copy of ``outcomes`` with the three added columns; ``conversion`` names the
        formula used.
    """
    _check_method(method)
    out = outcomes.copy()
    col = {c: out[c].to_numpy(dtype=float) for c in STAT_INPUTS}
    mean, sd, text = mean_sd_arrays(
        out["stat_group"].to_numpy(), out["n"].to_numpy(dtype=float), col, method, five=_fivenum_rows(out)
    )
    out["mean_used"] = mean
    out["sd_used"] = sd
    out["conversion"] = pd.Series(np.array(text, dtype=object), index=out.index, dtype="str")
    return out


# --- One outcome cell: every arm's mean, SD and n at one month ------------------------

BASES: tuple[str, ...] = ("final", "change")
Z975 = 1.959963984540054  # Phi^-1(0.975): 95% interval half-width in standard errors


def contrast_variance(se, ci_low, ci_high):
    """Variance of a reported difference: ``se^2``, else ``((high - low) / (2 z_0.975))^2``
    from its 95% confidence interval (Cochrane Handbook 6.3.1 / 6.5.2.3, large samples)."""
    se, low, high = _arr(se), _arr(ci_low), _arr(ci_high)
    return np.where(np.isfinite(se), se**2, ((high - low) / (2.0 * Z975)) ** 2)
