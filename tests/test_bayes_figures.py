"""Every figure shows the fit it is captioned with (issue 12, point 3).

A Bayesian meta-regression figure draws the posterior mean line and the 95% credible band
of the fit's own draws (either engine; the exact engine's are independent draws of its
posterior): its slope is the fit's slope within Monte Carlo error and it passes through mu
at the covariates' reference values. The report draws it for exact fits too (no
frequentist substitute), captions it "credible band", and lists a figure that cannot be
drawn with its reason.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import bayes_msc as bm
from bayes_msc.plots.metareg import metareg_figure

SIMULATED = Path(__file__).resolve().parents[1] / "data" / "msc_knee_oa_simulated"
TERM = "log10(dose_million)"
SPEC = {
    "dataset": {"path": str(SIMULATED)},
    "analysis": {"outcomes": ["vas"], "months": [12]},
    "bayes": {"priors": ["weakly_informative"], "covariates": [[TERM, "age_mean"]]},
}


def _texts(fig) -> str:
    texts = [t.get_text() for t in fig.texts]
    for ax in fig.axes:
        legend = ax.get_legend()
        texts += [t.get_text() for t in legend.get_texts()] if legend else []
    return " ".join(texts)


@pytest.fixture(scope="module")
def vas12():
    return bm.effect_table(SIMULATED, "vas", 12)


def test_exact_meta_regression_figure_draws_the_fits_line(vas12):
    r = bm.fit(vas12, covariates=[TERM, "age_mean"], seed=6)
    assert r.engine == "exact"
    fig = metareg_figure(vas12, TERM, r)
    shown = _texts(fig)
    assert "95% credible band" in shown and "confidence" not in shown
    assert "prior weakly_informative, exact engine" in shown
    line = max(fig.axes[0].lines, key=lambda ln: len(ln.get_xdata()))
    x, y = np.log10(line.get_xdata()), line.get_ydata()
    slope = np.polyfit(x, y, 1)[0]
    n = r.draws * r.chains
    # the drawn line's slope is the posterior mean of the draws' slopes: the table's slope
    # (the quadrature's) within 4 Monte Carlo SEs; it passes through mu at the reference
    assert abs(slope - r.value(TERM)) < 4 * r.value(TERM, "sd") / np.sqrt(n)
    assert np.interp(r.covariate_at[TERM], x, y) == pytest.approx(r.draws_of("mu").mean(), rel=1e-9)


def test_report_draws_the_bayesian_fit_and_says_credible_band(tmp_path):
    from bayes_msc.report.figures import figure_plan

    res = bm.run_spec(SPEC, out=tmp_path / "report")
    jobs, skipped = figure_plan(res)
    (job,) = [j for j in jobs if j[0] == "meta-regression"]
    assert job[2].args[2] is next(f.result for f in res.fits if f.task.covariates)  # the fit itself
    assert not skipped
    html = (tmp_path / "report" / "index.html").read_text("utf-8")
    assert "posterior mean line and 95% credible band from the fit&#x27;s draws" in html
    assert (tmp_path / "report" / "figures" / f"{job[1]}.png").is_file()


def test_a_figure_that_cannot_be_drawn_is_listed_with_its_reason(tmp_path, monkeypatch):
    import bayes_msc.plots.metareg as metareg

    def refuse(*args, **kwargs):
        raise ValueError("no comparison has a value of 'dose_million'")

    monkeypatch.setattr(metareg, "metareg_figure", refuse)
    bm.run_spec(SPEC, out=tmp_path / "report")
    html = (tmp_path / "report" / "index.html").read_text("utf-8")
    assert "Figure not drawn (meta-regression vas_m12_re_weakly_informative_cov-" in html
    assert "no comparison has a value of &#x27;dose_million&#x27;" in html
    assert not list((tmp_path / "report" / "figures").glob("metareg_*"))
