"""Shared styling and plumbing of the figures: colours, labels, titles, saving.

Every figure function of :mod:`bayes_msc.plots` builds a
:class:`matplotlib.figure.Figure` directly (never through ``pyplot``), so it works under any
backend, never opens a window and never leaks into pyplot's global figure list. matplotlib
is imported inside the functions only: importing this module stays cheap.
"""

from __future__ import annotations

import math
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

# Okabe & Ito (2008) colour-blind-safe palette: one colour per result (prior set / model).
PALETTE: tuple[str, ...] = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9")
OBSERVED_COLOUR = "#1a1a1a"
FREQUENTIST_COLOUR = "#6b6b6b"
REFERENCE_LINE_COLOUR = "#4d4d4d"

FONT_SIZE = 9.0
SMALL_FONT_SIZE = 8.0
TITLE_FONT_SIZE = 11.0
PNG_DPI = 100
"""PNG resolution: 9 pt text is 12.5 px, legible on screen; the SVG beside each PNG is
for zooming and print. (150 dpi drew 2.25 times the pixels: a tall forest plot took
~2 s to rasterise and encode.)"""

SVG_RC = {"svg.hashsalt": "bayes-msc", "svg.fonttype": "none"}
"""matplotlib settings while saving (fixed SVG ids; text as text, see :func:`save_figure`)."""

SIMULATED_TAG = "SIMULATED DATA"

MEASURE_NAMES: dict[str, str] = {
    "md": "Mean difference",
    "smd": "Standardised mean difference",
}

METHOD_NAMES: dict[str, str] = {
    "fe": "fixed-effect",
    "dl": "DerSimonian-Laird",
    "reml": "REML",
    "pm": "Paule-Mandel",
}

MINUS = "\u2212"

COVARIATE_NAMES: dict[str, tuple[str, str | None]] = {
    "dose_million": ("Dose", "10\u2076 cells"),
    "risk_of_bias": ("Risk of bias", None),
    "age_mean": ("Mean age", "years"),
    "female_pct": ("Female", "%"),
    "kl_grade_mean": ("Mean K-L grade", None),
}
"""Readable name and unit of covariate columns the package knows; others show as given."""


def covariate_label(column: str, two_lines: bool = False) -> str:
    """``Dose (10^6 cells)`` for ``dose_million``; an unknown column with spaces for ``_``."""
    name, unit = COVARIATE_NAMES.get(column, (column.replace("_", " "), None))
    if unit is None:
        return name.replace(" ", "\n", 1) if two_lines and " " in name else name
    return f"{name}\n({unit})" if two_lines else f"{name} ({unit})"


def new_figure(width: float, height: float) -> Any:
    """A Figure of ``width`` x ``height`` inches on an Agg canvas (with fast text,
    :mod:`~bayes_msc.plots.canvas`), outside pyplot."""
    from bayes_msc.plots.canvas import new_figure as on_canvas

    return on_canvas(width, height)


def _umask() -> int:
    """The process's umask (read by setting and restoring it)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def save_figure(fig: Any, path_stem: str | os.PathLike[str], dpi: int = PNG_DPI) -> tuple[Path, Path]:
    """Write ``fig`` as ``<path_stem>.png`` and ``<path_stem>.svg``, each atomically.

    Each file is written to a temporary file in the target folder and then moved into place
    with :func:`os.replace`, so a reader never sees half a file. The SVG carries no date and
    fixed element ids, so the same figure gives the same bytes. Its texts are SVG text in
    DejaVu Sans (matplotlib's font; the viewer's sans-serif where it is missing), not glyph
    outlines: selectable and editable, a third of the size, and half the time to write.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
    path_stem : path-like
        Target path without suffix (a suffix ``.png``/``.svg`` given here is dropped).
    dpi : int
        Resolution of the PNG.

    Returns
    -------
    (Path, Path)
        The PNG and SVG paths written.
    """
    import matplotlib

    stem = Path(path_stem)
    if stem.suffix.lower() in (".png", ".svg"):
        stem = stem.with_suffix("")
    stem.parent.mkdir(parents=True, exist_ok=True)
    written = []
    # zlib level 1 for a PNG of a figure on matplotlib's own canvas (this package's canvas
    # encodes it so itself): a third less time than level 6 for files ~10% larger.
    with matplotlib.rc_context(SVG_RC):
        for fmt, metadata, extra in (
            ("png", {"Software": None}, {"pil_kwargs": {"compress_level": 1}}),
            ("svg", {"Date": None, "Creator": None}, {}),
        ):
            target = stem.with_name(stem.name + "." + fmt)
            fd, tmp = tempfile.mkstemp(prefix="." + target.name + ".", suffix=".tmp", dir=target.parent)
            try:
                os.chmod(tmp, 0o666 & ~_umask())  # mkstemp's 0600 would make the figure private
                with os.fdopen(fd, "wb") as handle:
                    fig.savefig(handle, format=fmt, dpi=dpi, metadata=metadata, **extra)
                os.replace(tmp, target)
            except BaseException:
                # The half-written temporary file must not stay behind; the error goes on up.
                if os.path.exists(tmp):
                    os.remove(tmp)
                raise
            written.append(target)
    return written[0], written[1]


def measure_label(measure: str | None, rescale: bool | None = None) -> str:
    """Axis label of an effect measure with its unit.

    ``md`` with ``rescale=True`` is on the 0-100 scale; ``rescale=False`` means the outcome's
    own units; ``None`` (unknown) says neither.
    """
    name = MEASURE_NAMES.get((measure or "").lower(), measure or "Effect")
    if (measure or "").lower() == "smd":
        return name + " (SD units)"
    if rescale is True:
        return name + " (0-100 scale)"
    if rescale is False:
        return name + " (outcome's own units)"
    return name


def method_name(method: str | None) -> str:
    """Readable name of a frequentist method code (``dl`` -> ``DerSimonian-Laird``)."""
    if method is None:
        return "frequentist"
    return METHOD_NAMES.get(method.lower(), method)


def figure_title(
    what: str,
    outcome: str | None = None,
    month: float | None = None,
    measure: str | None = None,
    simulated: bool = False,
) -> str:
    """One-line title: ``[SIMULATED DATA: ]what: outcome at M months (measure)``."""
    parts = [what]
    where = []
    if outcome is not None:
        where.append(str(outcome))
    if month is not None and not (isinstance(month, float) and math.isnan(month)):
        where.append(f"at {format_number(month)} months")
    if where:
        parts.append(" ".join(where))
    text = ": ".join(parts)
    if measure:
        text += f" ({MEASURE_NAMES.get(measure.lower(), measure)})"
    if simulated:
        text = f"{SIMULATED_TAG}: {text}"
    return text


def format_number(x: float, decimals: int | None = None) -> str:
    """A number for a label: whole numbers without ``.0``, a true minus sign."""
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "NA"
    if decimals is None:
        text = f"{x:g}" if float(x) != int(x) else f"{int(x)}"
    else:
        text = f"{x:.{decimals}f}"
        if float(text) == 0:
            text = text.lstrip("-")
    return text.replace("-", MINUS)


def format_interval(estimate: float, low: float, high: float, decimals: int) -> str:
    """``est [low, high]`` with ``decimals`` decimals."""
    est, lo, hi = (format_number(float(v), decimals) for v in (estimate, low, high))
    return f"{est} [{lo}, {hi}]"


def decimals_for(widths: Sequence[float] | np.ndarray) -> int:
    """Decimals that resolve intervals of these widths: about 3 significant digits of the
    typical width, between 0 and 3."""
    w = np.abs(np.asarray(widths, dtype=float))
    w = w[np.isfinite(w) & (w > 0)]
    if w.size == 0:
        return 2
    return int(np.clip(2 - math.floor(math.log10(float(np.median(w)))), 0, 3))


def series_labels(results: Sequence[Any]) -> list[str]:
    """Legend label of each Bayesian result: what differs between them (prior, model or
    both); a single result is named by its model and prior."""
    priors = [str(getattr(r, "prior", "")) for r in results]
    models = [str(getattr(r, "model", "")) for r in results]
    covs = [", ".join(getattr(r, "covariates", ()) or ()) for r in results]
    vary_prior = len(set(priors)) > 1
    vary_model = len(set(models)) > 1 or len(set(covs)) > 1
    labels = []
    for p, m, c in zip(priors, models, covs, strict=False):
        model = f"{m} + {c}" if c else m
        if vary_prior and not vary_model:
            labels.append(f"prior {p}")
        elif vary_model and not vary_prior:
            labels.append(f"model {model}")
        else:
            labels.append(f"model {model}, prior {p}")
    return labels


def posterior_draws(result: Any, name: str, by_chain: bool = False) -> np.ndarray | None:
    """Draws of parameter ``name`` from a result's ArviZ posterior, or None without draws.

    ``name`` is looked up as a posterior variable (``mu``, ``tau``) and otherwise as a
    label of the non-sample dimension of ``beta``, where the fit stores the slopes per unit
    of their terms (:func:`bayes_msc.bayes.mcmc.summary.tidy_posterior`; not
    ``beta_per_sd`` nor ``lp__beta``). Returns shape ``(chain, draw)`` when ``by_chain``,
    else the flattened draws.
    """
    idata = getattr(result, "idata", None)
    if idata is None:
        return None
    try:
        posterior = idata["posterior"]
    except (KeyError, TypeError):
        posterior = getattr(idata, "posterior", None)
    if posterior is None:
        return None
    ds = posterior.to_dataset() if hasattr(posterior, "to_dataset") else posterior
    arr = None
    if name in ds.data_vars:
        arr = ds[name]
    elif "beta" in ds.data_vars:
        var = ds["beta"]
        for dim in var.dims:
            if dim in ("chain", "draw") or dim not in var.coords:
                continue
            labels = [str(v) for v in var.coords[dim].values]
            if name in labels:
                arr = var.isel({dim: labels.index(name)})
                break
    if arr is None:
        return None
    extra = [d for d in arr.dims if d not in ("chain", "draw")]
    if extra:
        raise ValueError(f"posterior variable for {name!r} has extra dimensions {extra}")
    values = np.asarray(arr.transpose("chain", "draw").values, dtype=float)
    return values if by_chain else values.reshape(-1)


def inch_shift(fig: Any, dx: float, dy: float) -> Any:
    """A translation by ``dx``, ``dy`` inches, to add to another transform."""
    from matplotlib.transforms import ScaledTranslation

    return ScaledTranslation(dx, dy, fig.dpi_scale_trans)


def text_width_pt(texts: Sequence[Any]) -> float:
    """Width in points of the widest of ``texts`` as the renderer draws them."""
    fig = texts[0].figure
    renderer = fig.canvas.get_renderer()
    return max(t.get_window_extent(renderer).width for t in texts) * 72.0 / fig.dpi


def left_text_columns(
    ax: Any,
    columns: Sequence[tuple[str, Sequence[str]]],
    row_y: Sequence[float],
    spanning: Sequence[tuple[float, str]] = (),
    gap_pt: float = 10.0,
) -> float:
    """Columns of text left of ``ax``, one cell per row at data height ``row_y``.

    Each column is as wide as its widest text (measured by the renderer), headers sit
    bold above the axes, the last column ends ``gap_pt`` before the axes. ``spanning``
    labels (bold, at their own heights) start at the first column's left edge, and the
    columns move left when such a label is wider than all of them. Returns the width of
    the block in points, gaps included.
    """
    from matplotlib.transforms import blended_transform_factory

    fig = ax.figure
    data_y = blended_transform_factory(ax.transAxes, ax.transData)
    placed = []
    for header, cells in columns:
        texts = [
            ax.text(0, yv, c, transform=data_y, ha="left", va="center", fontsize=FONT_SIZE)
            for yv, c in zip(row_y, cells, strict=False)
        ]
        head = ax.text(
            0, 1, header, transform=ax.transAxes, ha="left", va="bottom", fontsize=FONT_SIZE, fontweight="bold"
        )
        placed.append((head, texts, text_width_pt([head, *texts])))
    widths = sum(w for _, _, w in placed) + gap_pt * (len(placed) - 1)
    labels = [
        ax.text(0, yv, text, transform=data_y, ha="left", va="center", fontsize=FONT_SIZE, fontweight="bold")
        for yv, text in spanning
    ]
    block = max(widths, text_width_pt(labels) if labels else 0.0)
    left = -gap_pt - block
    for head, texts, width in placed:
        for t in texts:
            t.set_transform(data_y + inch_shift(fig, left / 72, 0))
        head.set_transform(ax.transAxes + inch_shift(fig, left / 72, 4 / 72))
        left += width + gap_pt
    for t in labels:
        t.set_transform(data_y + inch_shift(fig, (-gap_pt - block) / 72, 0))
    return block + gap_pt


def right_text_column(
    ax: Any, header: str, cells: Sequence[tuple[float, str, str, float, str]], gap_pt: float = 10.0
) -> float:
    """One column of text right of ``ax``: cells ``(y, text, colour, fontsize, weight)`` at
    data heights ``y``, a bold header above the axes. Returns its width in points."""
    from matplotlib.transforms import blended_transform_factory

    fig = ax.figure
    move = blended_transform_factory(ax.transAxes, ax.transData) + inch_shift(fig, gap_pt / 72, 0)
    texts = [
        ax.text(1, y, text, transform=move, ha="left", va="center", fontsize=size, color=colour, fontweight=weight)
        for y, text, colour, size, weight in cells
    ]
    head = ax.text(
        1,
        1,
        header,
        transform=ax.transAxes + inch_shift(fig, gap_pt / 72, 4 / 72),
        ha="left",
        va="bottom",
        fontsize=FONT_SIZE,
        fontweight="bold",
    )
    return gap_pt + text_width_pt([head, *texts])


def text_overlaps(fig: Any, pad: float = 0.0) -> list[tuple[str, str]]:
    """Pairs of visible, non-empty texts of ``fig`` whose bounding boxes overlap.

    Looks at every Text artist (titles, labels, tick labels, legend and table texts) as
    drawn by the renderer; ``pad`` (pixels) shrinks each box before comparing, so texts that
    merely touch do not count. Used by the tests and handy when tuning a figure.
    """
    fig.draw_without_rendering()
    renderer = fig.canvas.get_renderer()
    boxes = []
    for t in figure_texts(fig):
        bb = t.get_window_extent(renderer)
        if bb.width <= 0 or bb.height <= 0:
            continue
        boxes.append((t.get_text(), bb.x0 + pad, bb.y0 + pad, bb.x1 - pad, bb.y1 - pad))
    pairs = []
    for i in range(len(boxes)):
        for j in range(i + 1, len(boxes)):
            a, b = boxes[i], boxes[j]
            if a[1] < b[3] and b[1] < a[3] and a[2] < b[4] and b[2] < a[4]:
                pairs.append((a[0], b[0]))
    return pairs


def texts_outside(fig: Any) -> list[str]:
    """Visible texts that stick out of the figure's canvas (would be cut off when saved)."""
    fig.draw_without_rendering()
    renderer = fig.canvas.get_renderer()
    width, height = fig.canvas.get_width_height()
    out = []
    for t in figure_texts(fig):
        bb = t.get_window_extent(renderer)
        if bb.x0 < -1 or bb.y0 < -1 or bb.x1 > width + 1 or bb.y1 > height + 1:
            out.append(t.get_text())
    return out


def figure_texts(fig: Any) -> list[Any]:
    """Every visible, non-empty text the figure draws: titles, labels, tick labels of drawn
    ticks, legend texts and table cells (which ``findobj`` does not reach)."""
    from matplotlib.table import Table
    from matplotlib.text import Text

    hidden = _undrawn_tick_labels(fig)
    found = [t for t in fig.findobj(Text) if id(t) not in hidden]
    for table in fig.findobj(Table):
        found += [cell.get_text() for cell in table.get_celld().values()]
    seen: set[int] = set()
    out = []
    for t in found:
        if id(t) in seen or not t.get_visible() or not t.get_text().strip():
            continue
        seen.add(id(t))
        out.append(t)
    return out


def _undrawn_tick_labels(fig: Any) -> set[int]:
    """ids of tick labels matplotlib leaves undrawn (their tick is outside the view)."""
    hidden: set[int] = set()
    for axes in fig.get_axes():
        for axis in (axes.xaxis, axes.yaxis):
            lo, hi = sorted(axis.get_view_interval())
            tol = 1e-9 * abs(hi - lo)
            for tick in axis.get_major_ticks() + axis.get_minor_ticks():
                loc = tick.get_loc()
                if loc is None or not (lo - tol <= loc <= hi + tol):
                    hidden.update((id(tick.label1), id(tick.label2)))
    return hidden
