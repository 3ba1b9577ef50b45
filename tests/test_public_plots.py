"""The public figure functions (``bm.plot_forest``, ``plot_priors``, ``plot_metareg``,
``plot_trace``): a Figure each, drawn from the package's own results, that a plain
``fig.savefig`` writes whole (the title inside the saved image), into a given ``ax``/``fig``
too, without dataset-specific defaults, and with errors that name the argument.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from matplotlib.figure import Figure
from matplotlib.text import Text

import bayes_msc as bm
from bayes_msc.plots.style import new_figure

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "data" / "msc_knee_oa_simulated"
REAL = ROOT / "data" / "msc_knee_oa"


@pytest.fixture(scope="module")
def cell():
    ds = bm.read_dataset(DATA)
    effects = bm.effect_table(ds, "vas", 12)
    comparison = bm.compare_priors(effects, priors=["weakly_informative", "skeptical"])
    return {
        "ds": ds,
        "effects": effects,
        "pool": bm.pool(effects),
        "comparison": comparison,
        "fit": comparison.results[0],
        "metareg": bm.metareg(effects, ["log10(dose_million)"]),
    }


def _texts(fig: Figure) -> list[Text]:
    """The figure's visible texts other than tick labels (those outside the view are not drawn)."""
    ticks = {id(t) for ax in fig.axes for t in ax.get_xticklabels() + ax.get_yticklabels()}
    return [t for t in fig.findobj(Text) if t.get_visible() and t.get_text().strip() and id(t) not in ticks]


def saved_whole(fig: Figure) -> str:
    """Save with a plain ``savefig`` (no bbox_inches) and check that every text, the title
    first, lies inside the saved image; return the title."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png")  # draws the figure (and runs a layout engine, if any)
    renderer = fig.canvas.get_renderer()
    width, height = fig.bbox.width, fig.bbox.height
    texts = _texts(fig)
    title = max(texts, key=lambda t: (t.get_fontsize(), t.get_fontweight() == "bold"))
    for t in [title, *texts]:
        box = t.get_window_extent(renderer)
        assert box.x0 >= -1 and box.y0 >= -1 and box.x1 <= width + 1 and box.y1 <= height + 1, (
            t.get_text()[:60],
            box.extents,
            (width, height),
        )
    from PIL import Image

    buf.seek(0)
    w, h = Image.open(buf).size  # the image is the figure, nothing cropped or padded
    assert abs(w - width) <= 1 and abs(h - height) <= 1
    return title.get_text()


def test_forest_from_a_comparison_saves_whole_with_the_title(cell):
    fig = bm.plot_forest(cell["comparison"], cell["effects"], cell["pool"])
    assert isinstance(fig, Figure)
    assert saved_whole(fig).startswith("SIMULATED DATA: Posterior forest plot: vas at 12 months")


def test_forest_says_what_a_reader_needs(cell):
    fig = bm.plot_forest(
        cell["fit"], cell["effects"], cell["pool"], better="lower", study_labels=cell["ds"].study_labels()
    )
    shown = [t.get_text() for t in _texts(fig)]
    # Study labels "author year" from studies.csv, not ids.
    assert "Lamo-Espinosa 2016" in shown and "lamo_espinosa_2016" not in shown
    # The arms' whole n (Gupta 2016's placebo arm of 15 is split in four for the effect sizes).
    assert "15/15" in shown and not any("3.75" in t for t in shown)
    notes = next(t for t in shown if t.startswith("12 comparisons"))
    assert "n: the arms' whole n" in notes
    # The heterogeneity line of the pool.
    pool = cell["pool"]
    assert f"Q = {pool.q:.2f} (df = {pool.q_df})" in notes and f"I\u00b2 = {pool.i2:.1f}%" in notes
    # Favours-labels from the direction that is better; the axis from the table's scale.
    assert "\u2190 favours treatment" in shown and "favours control \u2192" in shown
    assert fig.axes[0].get_xlabel() == "Mean difference (0-100 scale)"
    # No dataset-specific default columns.
    assert not any(t.startswith(("Dose", "Weight", "Risk")) for t in shown)


def test_forest_without_an_effect_table_and_a_native_scale(cell):
    fig = bm.plot_forest(cell["fit"])  # the observed effects the result keeps
    shown = [t.get_text() for t in _texts(fig)]
    assert "lamo_espinosa_2016" in shown and any(
        t.startswith("Heterogeneity: Q =") for t in "\n".join(shown).split("\n")
    )
    saved_whole(fig)
    real = bm.effect_table(REAL, "vas", 12, rescale=False)
    assert real.scale == "0-10"
    forest = bm.plot_forest(bm.fit(real), real)
    assert forest.axes[0].get_xlabel() == "Mean difference (points on the 0\u201310 scale)"
    assert bm.effect_table(REAL, "vas", 12).scale == "0-100"


def test_forest_into_a_given_axes_keeps_everything_inside(cell):
    fig = new_figure(8, 6)
    ax = fig.add_subplot()
    assert bm.plot_forest(cell["comparison"], cell["effects"], cell["pool"], ax=ax) is fig
    saved_whole(fig)


def test_prior_comparison_from_compare_priors(cell):
    fig = bm.plot_priors(cell["comparison"])
    assert saved_whole(fig).startswith("SIMULATED DATA: Posterior under each prior set")
    shown = [t.get_text() for t in _texts(fig)]
    assert {"weakly_informative", "skeptical", "Prior set"} <= set(shown)
    # Each prior set's prior is drawn (dashed) beneath its posterior in the tau panel.
    tau_ax = fig.axes[1]
    assert len([ln for ln in tau_ax.lines if ln.get_linestyle() != "-"]) == 2
    again = bm.plot_priors(list(cell["comparison"].results), table=False)
    assert "Prior set" not in [t.get_text() for t in _texts(again)]


def test_metareg_from_a_frequentist_result(cell):
    fig = bm.plot_metareg(cell["metareg"])
    assert saved_whole(fig).startswith("SIMULATED DATA: Meta-regression on log10(dose_million)")
    # The bubbles sit at the raw doses (the result keeps log10 of them).
    doses = np.sort(np.concatenate([c.get_offsets()[:, 0] for c in fig.axes[0].collections if len(c.get_offsets())]))
    assert set(np.round(cell["effects"].data["dose_million"].to_numpy(float), 6)) <= set(np.round(doses, 6))
    fig2 = new_figure(6, 4)
    assert bm.plot_metareg(cell["metareg"], ax=fig2.add_subplot()) is fig2
    saved_whole(fig2)


def test_errors_name_the_argument(cell):
    def problem(call):
        with pytest.raises(bm.InputError) as err:
            call()
        (p,) = err.value.problems
        return p.argument, p.message

    assert problem(lambda: bm.plot_forest("no"))[0] == "results"
    assert problem(lambda: bm.plot_forest(cell["fit"], better="up"))[0] == "better"
    argument, message = problem(lambda: bm.plot_trace(cell["fit"]))
    assert argument == "result" and "engine='mcmc'" in message and "exact" in message
    assert problem(lambda: bm.plot_metareg(cell["fit"]))[0] == "result"  # no covariates
    assert problem(lambda: bm.plot_metareg(cell["metareg"], "age_mean"))[0] == "term"
    other = bm.fit(bm.effect_table(DATA, "vas", 6))
    assert problem(lambda: bm.plot_forest(other, cell["effects"]))[0] == "effects"


@pytest.mark.slow
def test_trace_of_an_mcmc_fit():
    effects = bm.effect_table(DATA, "vas", 12)
    fit = bm.fit(effects, engine="mcmc", draws=200, tune=200, chains=2, seed=3)
    fig = bm.plot_trace(fit)
    assert saved_whole(fig).startswith("SIMULATED DATA: Convergence diagnostics, model re")
