"""Figures: forest, prior comparison, meta-regression, diagnostics.

References: R metafor 3.8.1 (tests/reference/plots_metafor.json, made by
tests/reference/r/make_plots_refs.R: dat.bcg meta-regressions and their ``predict``
bands, the eight-schools DerSimonian-Laird pool); published bayesmeta posteriors of the
eight-schools data (Roever 2020, vignette; /work/shared/sources/methods_references.md);
scipy's distributions for densities. Posterior draws are stand-ins: independent draws of
the exact normal-normal posterior (grid over tau, conjugate normals given tau), checked
against bayesmeta's numbers below. Every figure is also checked for legibility: no two
texts overlap and none is cut off at the canvas edge.
"""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from scipy import stats

from bayes_msc.bayes.exact.posterior import exact_posterior
from bayes_msc.frequentist.rma import rma
from bayes_msc.plots import legibility, style
from bayes_msc.plots.diagnostics import (
    rank_counts,
    trace_rank_figure,
    uniform_rank_band,
)
from bayes_msc.plots.forest import posterior_forest
from bayes_msc.plots.metareg import (
    band_from_coefficients,
    band_from_draws,
    metareg_figure,
)
from bayes_msc.plots.priors import kde_density, prior_comparison_figure
from bayes_msc.priors import PriorSet
from bayes_msc.results.bayes import BayesResult, Verdict
from bayes_msc.results.frequentist import PoolResult

REF = json.loads((Path(__file__).parent / "reference" / "plots_metafor.json").read_text())
ES = REF["eight_schools"]
BCG = REF["bcg"]
Z = stats.norm.isf(0.025)


def prior_set(name, mu_sd, tau):
    return PriorSet.from_dict(name, {"mu": {"dist": "Normal", "mu": 0.0, "sigma": mu_sd}, "tau": tau})


HC25 = prior_set("half_cauchy_25", 50.0, {"dist": "HalfCauchy", "beta": 25.0})
HN5 = prior_set("half_normal_5", 50.0, {"dist": "HalfNormal", "sigma": 5.0})


# ---- stand-in posteriors ----------------------------------------------------------------


def exact_draws(yi, vi, ps, x=None, beta_sd=10.0, chains=4, draws=500, seed=1):
    """Independent draws of (tau, coefficients, theta) of the normal-normal model:
    tau from its marginal posterior on a fine grid, then the conjugate normals given tau."""
    rng = np.random.default_rng(seed)
    k = len(yi)
    d = np.ones((k, 1)) if x is None else np.column_stack([np.ones(k), x])
    p0 = np.diag([ps.mu.params["sigma"] ** 2] + [beta_sd**2] * (d.shape[1] - 1))
    grid = np.linspace(1e-4, 15 * np.sqrt(np.max(vi)), 1500)
    cov_y = (d @ p0 @ d.T)[None] + np.eye(k)[None] * (vi[None, :] + grid[:, None] ** 2)[:, None, :]
    logp = -0.5 * (np.linalg.slogdet(cov_y)[1] + np.einsum("i,gi->g", yi, np.linalg.solve(cov_y, yi)))
    w = np.exp(logp + ps.tau_logpdf(grid) - np.max(logp + ps.tau_logpdf(grid)))
    n = chains * draws
    tau = np.abs(rng.choice(grid, n, p=w / w.sum()) + rng.uniform(-0.5, 0.5, n) * (grid[1] - grid[0]))
    wt = 1 / (vi[None, :] + tau[:, None] ** 2)
    cov = np.linalg.inv(np.einsum("ki,sk,kj->sij", d, wt, d) + np.linalg.inv(p0)[None])
    mean = np.einsum("sij,kj,sk,k->si", cov, d, wt, yi)
    coef = mean + np.einsum("sij,sj->si", np.linalg.cholesky(cov), rng.normal(size=mean.shape))
    pv = 1 / (1 / vi[None, :] + 1 / tau[:, None] ** 2)
    theta = rng.normal(pv * (yi / vi + (coef @ d.T) / tau[:, None] ** 2), np.sqrt(pv))
    return tau.reshape(chains, draws), coef.reshape(chains, draws, -1), theta.reshape(chains, draws, k)


def _row(x):
    q = np.quantile(x, [0.025, 0.5, 0.975])
    return {
        "mean": x.mean(),
        "sd": x.std(ddof=1),
        "median": q[1],
        "eti_low": q[0],
        "eti_high": q[2],
        "hdi_low": np.nan,
        "hdi_high": np.nan,
        "ess_bulk": 1500.0,
        "ess_tail": 1400.0,
        "r_hat": 1.002,
    }


def standin_result(labels, yi, vi, ps, x=None, names=(), diverging=None, **kw):
    tau, coef, theta = exact_draws(np.asarray(yi, float), np.asarray(vi, float), ps, x)
    c, n = tau.shape
    post = {
        "mu": (("chain", "draw"), coef[..., 0]),
        "tau": (("chain", "draw"), tau),
        "theta": (("chain", "draw", "comparison"), theta),
    }
    params = {"mu": _row(coef[..., 0].ravel()), "tau": _row(tau.ravel())}
    if names:
        # As the fit stores them: mu at the covariates' reference values (their means),
        # per-SD slopes, per-unit slopes as "beta", the intercept at covariates 0.
        post["beta_per_sd"] = (("chain", "draw", "term"), coef[..., 1:] * np.asarray(x).std(axis=0))
        post["beta"] = (("chain", "draw", "term"), coef[..., 1:])
        params.update({nm: _row(coef[..., j + 1].ravel()) for j, nm in enumerate(names)})
        at_mean = coef[..., 0] + coef[..., 1:] @ np.asarray(x).mean(axis=0)
        post["mu"], post["intercept"] = (("chain", "draw"), at_mean), (("chain", "draw"), coef[..., 0])
        params["mu"], params["intercept"] = _row(at_mean.ravel()), _row(coef[..., 0].ravel())
        kw.setdefault("covariate_at", dict(zip(names, np.asarray(x).mean(axis=0).tolist(), strict=True)))
    div = np.zeros((c, n), bool) if diverging is None else diverging
    idata = xr.DataTree.from_dict(
        {
            "posterior": xr.Dataset(post, coords={"comparison": list(labels), "term": list(names)}),
            "sample_stats": xr.Dataset({"diverging": (("chain", "draw"), div)}),
        }
    )
    th = theta.reshape(c * n, -1)
    effects = pd.DataFrame(
        {
            "comparison": list(labels),
            "study": list(labels),
            "yi": yi,
            "sei": np.sqrt(vi),
            "mean": th.mean(0),
            "sd": th.std(0, ddof=1),
            "eti_low": np.quantile(th, 0.025, 0),
            "eti_high": np.quantile(th, 0.975, 0),
        }
    )
    return BayesResult(
        model="re",
        prior=ps.name,
        engine="mcmc",
        k=len(yi),
        parameters=pd.DataFrame.from_dict(params, orient="index"),
        verdict=Verdict(True),
        covariates=tuple(names),
        draws=n,
        chains=c,
        study_effects=effects,
        idata=idata,
        **kw,
    )


def frame_of(labels, yi, vi, **cols):
    return pd.DataFrame(
        {
            "study": labels,
            "comparison": labels,
            "treatment_arm": "coached",
            "control_arm": "uncoached",
            "yi": yi,
            "vi": vi,
            **cols,
        }
    )


@pytest.fixture(scope="module")
def schools():
    yi, vi = np.array(ES["yi"]), np.array(ES["vi"])
    pool = PoolResult(
        k=8,
        method="dl",
        estimate=ES["estimate"],
        se=ES["se"],
        ci_low=ES["ci_low"],
        ci_high=ES["ci_high"],
        z=np.nan,
        p=np.nan,
        tau2=ES["tau2"],
        tau=np.sqrt(ES["tau2"]),
        i2=ES["i2"],
        h2=np.nan,
        q=np.nan,
        q_df=7,
        q_p=np.nan,
        pi_low=ES["pi_low"],
        pi_high=ES["pi_high"],
        level=0.95,
        test="z",
        hksj=False,
        weights=np.array(ES["weights_percent"]),
        labels=tuple(ES["label"]),
        yi=yi,
        vi=vi,
    )
    exact = exact_posterior(yi, vi, HC25, labels=ES["label"])
    draws_hc = standin_result(ES["label"], yi, vi, HC25, probabilities={"P(mu > 0)": 0.95})
    draws_hn = standin_result(ES["label"], yi, vi, HN5, probabilities={"P(mu > 0)": 0.96})
    return {
        "yi": yi,
        "vi": vi,
        "frame": frame_of(ES["label"], yi, vi, n_treatment=np.nan),
        "pool": pool,
        "exact": exact,
        "hc": draws_hc,
        "hn": draws_hn,
    }


def texts(fig):
    return [t.get_text() for t in legibility.figure_texts(fig)]


def assert_legible(fig, tmp_path, name):
    assert legibility.text_overlaps(fig) == [], "overlapping texts"
    assert legibility.texts_outside(fig) == [], "texts cut off"
    png, svg = style.save_figure(fig, tmp_path / name, svg=True)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert svg.read_text().lstrip().startswith("<?xml")
    return png, svg


# ---- stand-in check ---------------------------------------------------------------------


def test_standin_draws_match_bayesmeta(schools):
    """bayesmeta (half-Cauchy 25, N(0, 50)): tau median 4.758539, mu mean 7.985729, sd 4.995762."""
    p = schools["hc"].parameters
    assert p.loc["tau", "median"] == pytest.approx(4.758539, abs=0.5)
    assert p.loc["mu", "mean"] == pytest.approx(7.985729, abs=0.35)
    assert p.loc["mu", "sd"] == pytest.approx(4.995762, rel=0.08)


# ---- style --------------------------------------------------------------------------------


def test_save_figure_atomic_and_deterministic(tmp_path, monkeypatch):
    fig = style.new_figure(3, 2)
    fig.add_subplot().plot([0, 1], [1, 0])
    png, svg = style.save_figure(fig, tmp_path / "sub" / "f.png")
    assert png.name == "f.png" and svg is None  # the PNG only, unless the SVG is asked for
    assert sorted(p.name for p in (tmp_path / "sub").iterdir()) == ["f.png"]
    first_png = png.read_bytes()
    assert b"Software" not in first_png and b"matplotlib" not in first_png
    png, svg = style.save_figure(fig, tmp_path / "sub" / "f", svg=True)
    assert (png.name, svg.name) == ("f.png", "f.svg")
    assert png.read_bytes() == first_png
    first = svg.read_bytes()
    style.save_figure(fig, tmp_path / "sub" / "f", svg=True)
    assert svg.read_bytes() == first and b"<dc:date>" not in first
    assert png.read_bytes() == first_png
    monkeypatch.setattr(fig, "savefig", lambda *a, **k: (_ for _ in ()).throw(OSError("disk full")))
    with pytest.raises(OSError, match="disk full"):
        style.save_figure(fig, tmp_path / "sub" / "f", svg=True)
    assert sorted(p.name for p in (tmp_path / "sub").iterdir()) == ["f.png", "f.svg"]
    assert svg.read_bytes() == first and png.read_bytes() == first_png


def test_save_figure_passes_pils_compression_level(tmp_path, monkeypatch):
    """The PNG is written by ``savefig`` with Pillow's ``compress_level`` 1 (matplotlib's own
    encoder, no private canvas): a figure saved at level 9 holds the same pixels."""
    from PIL import Image

    fig = style.new_figure(3, 2)
    fig.add_subplot().plot([0, 1], [1, 0])
    fig.text(0.1, 0.9, "some text")
    calls = []
    savefig = fig.savefig
    monkeypatch.setattr(fig, "savefig", lambda *a, **k: (calls.append(k), savefig(*a, **k))[1])
    png, _ = style.save_figure(fig, tmp_path / "f")
    assert calls[0]["pil_kwargs"] == {"compress_level": 1} and calls[0]["format"] == "png"
    savefig(tmp_path / "g.png", dpi=style.PNG_DPI, pil_kwargs={"compress_level": 9})
    fast, small = Image.open(png), Image.open(tmp_path / "g.png")
    assert fast.size == small.size == (300, 200)
    assert np.array_equal(np.asarray(fast), np.asarray(small))


def test_figures_use_public_matplotlib_only():
    """No private matplotlib name in the package (the old canvas subclassed Agg internals)."""
    import re

    src = Path(__file__).resolve().parents[1] / "src" / "bayes_msc"
    private = re.compile(r"_prepare_font|_renderer\.|_lastKey|_find_fonts_by_props|backend_mixed")
    found = [
        f"{path.relative_to(src)}:{n}"
        for path in sorted(src.rglob("*.py"))
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if private.search(line)
    ]
    assert found == []
    assert not (src / "plots" / "canvas.py").exists()
    fig = style.new_figure(3, 2)
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    assert type(fig.canvas) is FigureCanvasAgg


def test_overlap_check_finds_overlaps():
    fig = style.new_figure(3, 2)
    fig.text(0.1, 0.5, "first label")
    fig.text(0.15, 0.5, "second label")
    fig.text(0.9, 0.5, "cut off at the edge")
    assert legibility.text_overlaps(fig) == [("first label", "second label")]
    assert legibility.texts_outside(fig) == ["cut off at the edge"]


def test_posterior_draws_by_variable_and_by_coordinate():
    x = np.log10(np.array(BCG["ablat"], float))[:, None]
    r = standin_result(BCG["label"], np.array(BCG["yi"]), np.array(BCG["vi"]), HC25, x, ("log10(ablat)",))
    beta = style.posterior_draws(r, "log10(ablat)", by_chain=True)
    assert beta.shape == (4, 500)
    assert np.array_equal(beta, r.idata.posterior["beta"].values[..., 0])
    assert np.array_equal(style.posterior_draws(r, "tau"), r.draws_of("tau"))
    assert style.posterior_draws(r, "nope") is None


# ---- forest ---------------------------------------------------------------------------------


def test_forest_draws_observed_posterior_and_reference_rows(schools, tmp_path):
    fig = posterior_forest(
        schools["exact"],
        schools["frame"],
        schools["pool"],
        extra_columns=("weight",),
        mcid=10,
        favours=("favours control", "favours coaching"),
    )
    assert_legible(fig, tmp_path, "forest")
    shown = texts(fig)
    assert all(lab in shown for lab in ES["label"])
    # Frequentist row: metafor's DL estimate and CI; observed rows: yi +/- 1.96 sqrt(vi).
    assert style.format_interval(ES["estimate"], ES["ci_low"], ES["ci_high"], 1) in shown
    ax = fig.axes[0]
    spans = {tuple(np.round(line.get_xdata(), 6)) for line in ax.lines if len(line.get_xdata()) == 2}
    for y, v in zip(ES["yi"], ES["vi"], strict=False):
        assert tuple(np.round([y - Z * np.sqrt(v), y + Z * np.sqrt(v)], 6)) in spans
    se = schools["exact"].study_effects
    for lo, hi in zip(se["eti_low"], se["eti_high"], strict=False):
        assert tuple(np.round([lo, hi], 6)) in spans
    # Weight column: metafor's weights(), in percent.
    assert style.format_number(ES["weights_percent"][0], 1) in shown
    assert not any("SIMULATED" in t for t in shown)
    assert any("MCID 10" in t for t in shown)


def test_forest_several_results_and_row_heights(schools, tmp_path):
    fig = posterior_forest([schools["hc"], schools["hn"]], schools["frame"], schools["pool"])
    assert_legible(fig, tmp_path, "forest2")
    legend = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert any("half_cauchy_25" in t for t in legend) and any("half_normal_5" in t for t in legend)
    small = posterior_forest(schools["exact"], schools["frame"].iloc[:3], None)
    large = posterior_forest(schools["exact"], schools["frame"], None)
    assert large.get_figheight() > small.get_figheight() + 4 * 0.3


def test_forest_matches_repeated_comparison_labels_by_study(schools):
    """Comparison labels repeat across studies ("coached vs uncoached"): rows match on both."""
    frame = schools["frame"].assign(comparison="coached vs uncoached")
    exact = exact_posterior(schools["yi"], schools["vi"], HC25, labels=frame[["study", "comparison"]])
    pool = replace(schools["pool"], labels=tuple(frame["comparison"]))
    fig = posterior_forest(exact, frame, pool, extra_columns=("weight",))
    spans = [tuple(np.round(ln.get_xdata(), 6)) for ln in fig.axes[0].lines if len(ln.get_xdata()) == 2]
    want = [tuple(np.round(r, 6)) for r in exact.study_effects[["eti_low", "eti_high"]].to_numpy()]
    assert [s for s in spans if s in want] == want  # each row its own study's interval, in order
    assert style.format_number(ES["weights_percent"][4], 1) in texts(fig)


def test_forest_title_says_simulated(schools, tmp_path):
    fig = posterior_forest(replace(schools["exact"], simulated=True), schools["frame"])
    assert fig.texts[0].get_text().startswith("SIMULATED DATA")
    assert_legible(fig, tmp_path, "forest_sim")


def test_forest_refuses_mismatched_inputs(schools):
    other = replace(schools["exact"], outcome="pain")
    with pytest.raises(ValueError, match="outcome"):
        posterior_forest(other, schools["frame"].assign(outcome="vas"))
    pool = replace(schools["pool"], labels=tuple("abcdefgh"))
    with pytest.raises(ValueError, match="comparison labels"):
        posterior_forest(schools["exact"], schools["frame"], pool)


def test_forest_into_given_axes(schools, tmp_path):
    fig = style.new_figure(12, 9)
    ax = fig.add_axes((0.4, 0.22, 0.38, 0.62))
    assert posterior_forest(schools["exact"], schools["frame"], schools["pool"], ax=ax) is fig
    assert_legible(fig, tmp_path, "forest_ax")


# ---- meta-regression ----------------------------------------------------------------------


@pytest.mark.parametrize("case", ["linear", "log10"])
def test_band_from_coefficients_is_metafor_predict(case):
    ref = BCG[case]
    grid = np.array(ref["grid"], float)
    xt = np.log10(grid) if case == "log10" else grid
    mean, lo, hi = band_from_coefficients(xt, ref["coefficients"], np.array(ref["vcov"]), 1, np.array([1.0, 0.0]), Z)
    np.testing.assert_allclose(mean, ref["pred"], rtol=1e-10)
    np.testing.assert_allclose(lo, ref["ci_low"], rtol=1e-10)
    np.testing.assert_allclose(hi, ref["ci_high"], rtol=1e-10)


def test_band_from_draws_matches_normal_band():
    """Draws of N(b, V) give metafor's z band (Monte Carlo error < 1.5% of its width)."""
    ref = BCG["linear"]
    b = np.random.default_rng(7).multivariate_normal(ref["coefficients"], ref["vcov"], 200_000)
    mean, lo, hi = band_from_draws(np.array(ref["grid"], float), b[:, 0], b[:, 1])
    width = np.array(ref["ci_high"]) - np.array(ref["ci_low"])
    for got, want in ((mean, ref["pred"]), (lo, ref["ci_low"]), (hi, ref["ci_high"])):
        assert np.all(np.abs(got - np.array(want)) < 0.015 * width)


def test_metareg_figure_frequentist_line_is_metafor_fit(tmp_path):
    yi, vi, ab = np.array(BCG["yi"]), np.array(BCG["vi"]), np.array(BCG["ablat"], float)
    fit = rma(yi, vi, method="dl", X=np.log10(ab)[:, None], names=["log10(ablat)"])
    frame = pd.DataFrame({"study": BCG["label"], "comparison": BCG["label"], "yi": yi, "vi": vi, "ablat": ab})
    fig = metareg_figure(frame, "log10(ablat)", fit)
    assert_legible(fig, tmp_path, "metareg")
    line = max(fig.axes[0].lines, key=lambda ln: len(ln.get_xdata()))
    b0, b1 = BCG["log10"]["coefficients"]
    np.testing.assert_allclose(line.get_ydata(), b0 + b1 * np.log10(line.get_xdata()), rtol=1e-8)
    assert fig.axes[0].get_xscale() == "log"
    labels = [t.get_text() for t in fig.axes[0].get_xticklabels()]
    assert "20" in labels and "50" in labels
    linear = rma(yi, vi, method="dl", X=ab[:, None], names=["ablat"])
    for log_x, scale in ((None, "linear"), (True, "log")):  # a linear term: linear axis by default
        fig = metareg_figure(frame, "ablat", linear, log_x=log_x)
        assert fig.axes[0].get_xscale() == scale
        line = max(fig.axes[0].lines, key=lambda ln: len(ln.get_xdata()))
        b0, b1 = BCG["linear"]["coefficients"]
        np.testing.assert_allclose(line.get_ydata(), b0 + b1 * line.get_xdata(), rtol=1e-8)


def test_metareg_figure_bayesian_drops_missing_covariate(tmp_path):
    yi, vi, ab = np.array(BCG["yi"]), np.array(BCG["vi"]), np.array(BCG["ablat"], float)
    x = np.log10(ab)[:, None]
    r = standin_result(BCG["label"], yi, vi, HN5, x, ("log10(ablat)",), simulated=True)
    ab_missing = ab.copy()
    ab_missing[0] = np.nan
    frame = pd.DataFrame({"study": BCG["label"], "comparison": "BCG vs none", "yi": yi, "vi": vi, "ablat": ab_missing})
    fig = metareg_figure(frame, "log10(ablat)", r)
    assert_legible(fig, tmp_path, "metareg_bayes")
    line = max(fig.axes[0].lines, key=lambda ln: len(ln.get_xdata()))
    p = r.parameters  # the mean line is E[intercept] + E[slope per unit] * log10(x)
    np.testing.assert_allclose(
        line.get_ydata(),
        p.loc["intercept", "mean"] + p.loc["log10(ablat)", "mean"] * np.log10(line.get_xdata()),
        rtol=1e-9,
        atol=1e-12,
    )
    shown = " ".join(texts(fig))
    assert "SIMULATED DATA" in shown and f"Not shown (no ablat): {BCG['label'][0]}" in shown
    assert len(fig.axes[0].collections[-1].get_offsets()) == len(yi) - 1
    with pytest.raises(ValueError, match="no coefficient"):
        metareg_figure(frame, "ablat", rma(yi, vi, method="dl", X=x, names=["log10(ablat)"]))


# ---- prior comparison -----------------------------------------------------------------------


def test_kde_bounded_at_zero_matches_half_normal():
    """ArviZ's KDE (arviz_stats.kde) of half-normal draws, bounded at 0: no dip at the bound
    (an unbounded Gaussian kernel would halve the density there), no mass below it."""
    draws = np.abs(np.random.default_rng(3).normal(0, 2.0, 20_000))
    grid, dens = kde_density(draws, lower=0.0)
    want = stats.halfnorm(scale=2.0).pdf(grid)
    # Sampling noise of the estimate at the peak is ~1% of it (sqrt(f R(K) / (n h))).
    assert np.max(np.abs(dens - want)) < 0.05 * want.max()
    assert grid[0] >= 0.0 and grid[0] < 0.01
    assert dens[0] == pytest.approx(want[0], rel=0.05)
    assert np.trapezoid(dens, grid) == pytest.approx(1.0, abs=0.01)
    normal = np.random.default_rng(4).normal(1.0, 3.0, 20_000)
    g, d = kde_density(normal)
    assert np.max(np.abs(d - stats.norm(1.0, 3.0).pdf(g))) < 0.05 * stats.norm(1.0, 3.0).pdf(1.0)


def test_prior_comparison_figure(schools, tmp_path):
    comp = {"half_cauchy_25": (schools["hc"], HC25), "half_normal_5": (schools["hn"], HN5)}
    fig = prior_comparison_figure(comp)
    assert_legible(fig, tmp_path, "priors")
    tau_ax = fig.axes[1]
    dashed = [ln for ln in tau_ax.lines if ln.get_linestyle() != "-"]
    hn = next(ln for ln in dashed if ln.get_color() == style.PALETTE[1])
    np.testing.assert_allclose(hn.get_ydata(), stats.halfnorm(scale=5).pdf(hn.get_xdata()), rtol=1e-10)
    shown = texts(fig)
    assert "Prior set" in shown and "P(mu > 0)" in shown
    assert style.format_interval(*schools["hn"].parameters.loc["mu", ["mean", "eti_low", "eti_high"]], 1) in shown
    # A PriorComparison: each result keeps the prior set it used.
    from bayes_msc.results.comparison import PriorComparison

    real = PriorComparison(
        results=(
            replace(schools["hc"], prior="half_cauchy_25", prior_set=HC25),
            replace(schools["hn"], prior="half_normal_5", prior_set=HN5),
        ),
        sensitivity=pd.DataFrame(),
    )
    again = prior_comparison_figure(real)
    assert [ln.get_ydata().tolist() for ln in again.axes[1].lines] == [ln.get_ydata().tolist() for ln in tau_ax.lines]
    bare = prior_comparison_figure({"a": schools["hc"]}, table=False)
    assert "Prior set" not in texts(bare)
    given = prior_comparison_figure(comp, table=pd.DataFrame({"prior": ["x", "y"], "ESS": [1234.5, 0.5]}))
    assert {"prior", "ESS", "1230", "0.5"} <= set(texts(given))
    with pytest.raises(ValueError, match="neither posterior draws nor an exact density"):
        prior_comparison_figure({"exact": (dataclasses.replace(schools["exact"], densities=None), HC25)})
    drawn = prior_comparison_figure({"exact": (schools["exact"], HC25)}, table=False)
    assert drawn.axes[0].lines  # the exact engine's marginal densities are drawn


# ---- diagnostics ------------------------------------------------------------------------------


def test_rank_counts_detect_a_shifted_chain():
    rng = np.random.default_rng(5)
    mixed = rng.normal(size=(4, 1000))
    counts = rank_counts(mixed)
    assert counts.shape == (4, 20) and np.all(counts.sum(axis=1) == 1000)
    lo, hi = uniform_rank_band(1000)
    assert (lo, hi) == (stats.binom(1000, 0.05).ppf(0.005), stats.binom(1000, 0.05).ppf(0.995))
    assert np.mean((counts >= lo) & (counts <= hi)) > 0.9
    shifted = mixed.copy()
    shifted[0] += 1.5
    bad = rank_counts(shifted)
    assert bad[0, -1] > hi and bad[0, 0] < lo


def test_trace_rank_figure(tmp_path):
    yi, vi = np.array(BCG["yi"]), np.array(BCG["vi"])
    x = np.log10(np.array(BCG["ablat"], float))[:, None]
    div = np.zeros((4, 500), bool)
    div[1, [10, 200, 300]] = True
    r = standin_result(BCG["label"], yi, vi, HN5, x, ("log10(ablat)",), diverging=div, simulated=True)
    fig = trace_rank_figure(r)
    assert_legible(fig, tmp_path, "diagnostics")
    shown = " ".join(texts(fig))
    assert "SIMULATED DATA" in shown and "divergences: 3" in shown and "divergent draw" in shown
    assert "slope of log10(ablat): R-hat 1.002, ESS bulk 1500" in shown
    assert len(fig.axes) == 6
    with pytest.raises(ValueError, match="need posterior draws"):
        trace_rank_figure(exact_posterior(yi, vi, HC25))


# ---- plumbing -----------------------------------------------------------------------------------


def test_figures_legible_under_the_reports_settings(schools, tmp_path):
    """The report builds and saves its figures under ``style.REPORT_RC`` (unhinted text,
    narrower than hinted): no text overlaps or is cut off there either."""
    import matplotlib

    yi, vi, ab = np.array(BCG["yi"]), np.array(BCG["vi"]), np.array(BCG["ablat"], float)
    x = np.log10(ab)[:, None]
    div = np.zeros((4, 500), bool)
    div[0, 7] = True
    bcg = standin_result(BCG["label"], yi, vi, HN5, x, ("log10(ablat)",), diverging=div, simulated=True)
    frame = pd.DataFrame({"study": BCG["label"], "comparison": BCG["label"], "yi": yi, "vi": vi, "ablat": ab})
    with matplotlib.rc_context(style.REPORT_RC):
        figures = {
            "forest": posterior_forest(
                [schools["hc"], schools["hn"]], schools["frame"], schools["pool"], mcid=10, favours=("left", "right")
            ),
            "priors": prior_comparison_figure(
                {"half_cauchy_25": (schools["hc"], HC25), "half_normal_5": (schools["hn"], HN5)}
            ),
            "metareg": metareg_figure(frame, "log10(ablat)", bcg),
            "trace": trace_rank_figure(bcg),
        }
        for name, fig in figures.items():
            assert_legible(fig, tmp_path, name)


def _run_report(tmp_path, name, report):
    from bayes_msc.cli import main as cli

    base = Path(__file__).resolve().parent / "corpus" / "simulated_base"
    spec = tmp_path / f"{name}.toml"
    spec.write_text(
        f'[dataset]\npath = "{base}"\n[analysis]\noutcomes = ["vas"]\n[bayes]\nmodels = ["re"]\n'
        f'priors = ["weakly_informative", "skeptical"]\nengine = "exact"\n{report}',
        encoding="utf-8",
    )
    out = tmp_path / name
    assert cli.main(["run", str(spec), "--out", str(out), "--no-progress"]) == 0
    return out


def test_report_writes_and_links_svg_only_when_the_spec_asks(tmp_path):
    import re

    from bayes_msc.errors import InputError
    from bayes_msc.workflow.spec import load_spec

    plain = _run_report(tmp_path, "plain", "")
    both = _run_report(tmp_path, "both", "[report]\nsvg = true\n")
    pngs = sorted(p.name for p in (plain / "figures").iterdir())
    assert pngs and all(n.endswith(".png") for n in pngs)
    html = (plain / "index.html").read_text(encoding="utf-8")
    assert ".svg" not in html and all(f'src="figures/{n}"' in html for n in pngs)
    # With svg = true: every PNG gets its SVG, the PNG links it; the PNGs are the same bytes.
    files = sorted(p.name for p in (both / "figures").iterdir())
    assert files == sorted(pngs + [n[: -len(".png")] + ".svg" for n in pngs])
    links = re.findall(r'<a href="([^"]+)"><img src="([^"]+)"', (both / "index.html").read_text(encoding="utf-8"))
    assert sorted(links) == sorted((f"figures/{n[:-4]}.svg", f"figures/{n}") for n in pngs)
    for n in pngs:
        assert (both / "figures" / n).read_bytes() == (plain / "figures" / n).read_bytes()
    bad = tmp_path / "bad.toml"
    bad.write_text('[dataset]\npath = "."\n[report]\nsvg = "yes"\n', encoding="utf-8")
    with pytest.raises(InputError, match=r"report\.svg"):
        load_spec(bad)


def test_no_pyplot_and_lazy_matplotlib(schools):
    code = (
        "import sys, bayes_msc.plots.forest, bayes_msc.plots.priors, "
        "bayes_msc.plots.metareg, bayes_msc.plots.diagnostics; "
        "print('matplotlib' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
    posterior_forest(schools["exact"], schools["frame"])
    assert "matplotlib.pyplot" not in sys.modules or not sys.modules["matplotlib.pyplot"].get_fignums()


@pytest.mark.slow
def test_figures_of_a_real_mcmc_fit(tmp_path):
    """nutpie fit of dat.bcg on log10(ablat): the figures read its DataTree as written."""
    from bayes_msc.bayes.fit import fit
    from bayes_msc.data.effects import EffectTable

    yi, vi, ab = np.array(BCG["yi"]), np.array(BCG["vi"]), np.array(BCG["ablat"], float)
    data = pd.DataFrame(
        {
            "study": BCG["label"],
            "comparison": "BCG vs none",
            "treatment_arm": "BCG",
            "control_arm": "none",
            "outcome": "tb",
            "month": 0.0,
            "yi": yi,
            "vi": vi,
            "n_treatment": np.nan,
            "n_control": np.nan,
            "ablat": ab,
        }
    )
    table = EffectTable(
        data=data,
        vcov=np.diag(vi),
        outcome="tb",
        month=0.0,
        measure="md",
        multiarm="split",
        basis="final",
        r=0.5,
        rescale=False,
        simulated=False,
        dataset="bcg",
        covariates=("ablat",),
    )
    ps = PriorSet.from_dict(
        "hn",
        {
            "mu": {"dist": "Normal", "mu": 0.0, "sigma": 4.0},
            "tau": {"dist": "HalfNormal", "sigma": 0.5},
            "beta": {"dist": "Normal", "mu": 0.0, "sigma": 2.0},
        },
    )
    r = fit(table, prior=ps, covariates=["log10(ablat)"], draws=300, tune=300, chains=2, seed=3, engine="mcmc")
    slope = style.posterior_draws(r, "log10(ablat)")
    assert slope.mean() == pytest.approx(r.parameters.loc["log10(ablat)", "mean"], rel=1e-12)
    fig = metareg_figure(table, "log10(ablat)", r)
    assert_legible(fig, tmp_path, "metareg_mcmc")
    assert_legible(trace_rank_figure(r), tmp_path, "trace_mcmc")
    assert_legible(posterior_forest(r, table), tmp_path, "forest_mcmc")
    assert_legible(prior_comparison_figure({"hn": (r, ps)}), tmp_path, "priors_mcmc")
