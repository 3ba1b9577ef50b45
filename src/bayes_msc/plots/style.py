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
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from matplotlib.typing import RcKeyType

# Okabe & Ito (2008) colour-blind-safe palette: one colour per result (prior set / model).
PALETTE: tuple[str, ...] = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9")
OBSERVED_COLOUR = "#1a1a1a"
FREQUENTIST_COLOUR = "#6b6b6b"
REFERENCE_LINE_COLOUR = "#4d4d4d"

FONT_SIZE = 9.0
SMALL_FONT_SIZE = 8.0
TITLE_FONT_SIZE = 11.0
PNG_DPI = 100
"""PNG resolution: 9 pt text is 12.5 px, legible on screen; the SVG (written on request,
:func:`save_figure`) is for zooming and print. (150 dpi drew 2.25 times the pixels: a tall forest plot took
~2 s to rasterise and encode.)"""

SVG_RC: dict[RcKeyType, Any] = {"svg.hashsalt": "bayes-msc", "svg.fonttype": "none"}
"""matplotlib settings while saving (fixed SVG ids; text as text, see :func:`save_figure`)."""

REPORT_RC: dict[RcKeyType, Any] = {"text.hinting": "none"}
"""matplotlib settings the report draws its figures under, from building to saving (a
figure's texts are measured while it is built, so the settings must not change before it
is saved). Unhinted text: glyphs at their designed widths (FreeType's hinter widens them
at 100 dpi) and a quarter less time to measure and draw, which with matplotlib >= 3.11's
glyph-by-glyph text is most of a figure's cost."""

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
    "ml": "ML",
    "he": "Hedges",
    "sj": "Sidik-Jonkman",
    "eb": "empirical Bayes",
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
    """A Figure of ``width`` x ``height`` inches on matplotlib's Agg canvas, outside pyplot."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height))
    FigureCanvasAgg(fig)
    return fig


def _umask() -> int:
    """The process's umask (read by setting and restoring it)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def save_figure(
    fig: Any, path_stem: str | os.PathLike[str], dpi: int = PNG_DPI, *, svg: bool = False
) -> tuple[Path, Path | None]:
    """Write ``fig`` as ``<path_stem>.png`` (and ``<path_stem>.svg`` when asked), each atomically.

    Each file is written to a temporary file in the target folder and then moved into place
    with :func:`os.replace`, so a reader never sees half a file. Neither file carries a date
    or the software's version, and the SVG's element ids are fixed, so the same figure gives
    the same bytes. The PNG is compressed at zlib level 1 (Pillow's ``compress_level``, through
    ``savefig``'s ``pil_kwargs``): a third less time than the default level for files ~10%
    larger. The SVG's texts are SVG text in DejaVu Sans (matplotlib's font; the viewer's
    sans-serif where it is missing), not glyph outlines: selectable and editable, a third of
    the size, and half the time to write.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
    path_stem : path-like
        Target path without suffix (a suffix ``.png``/``.svg`` given here is dropped).
    dpi : int
        Resolution of the PNG.
    svg : bool
        Also write the SVG (a second drawing of the figure: about as long as the PNG's).

    Returns
    -------
    (Path, Path or None)
        The PNG path and the SVG path (None without ``svg``).
    """
    import matplotlib

    stem = Path(path_stem)
    if stem.suffix.lower() in (".png", ".svg"):
        stem = stem.with_suffix("")
    stem.parent.mkdir(parents=True, exist_ok=True)
    formats: list[tuple[str, dict[str, Any]]] = [
        ("png", {"metadata": {"Software": None}, "pil_kwargs": {"compress_level": 1}})
    ]
    if svg:
        formats.append(("svg", {"metadata": {"Date": None, "Creator": None}}))
    written = []
    with matplotlib.rc_context(SVG_RC):
        for fmt, options in formats:
            target = stem.with_name(stem.name + "." + fmt)
            fd, tmp = tempfile.mkstemp(prefix="." + target.name + ".", suffix=".tmp", dir=target.parent)
            try:
                os.chmod(tmp, 0o666 & ~_umask())  # mkstemp's 0600 would make the figure private
                with os.fdopen(fd, "wb") as handle:
                    fig.savefig(handle, format=fmt, dpi=dpi, **options)
                os.replace(tmp, target)
            except BaseException:
                # The half-written temporary file must not stay behind; the error goes on up.
                if os.path.exists(tmp):
                    os.remove(tmp)
                raise
            written.append(target)
    return written[0], (written[1] if svg else None)


def measure_label(measure: str | None, scale: str | None = None) -> str:
    """Axis label of an effect measure with the unit the data are actually on.

    ``scale`` is an effect table's ``scale``: ``"0-100"`` (every value on 0-100, rescaled or
    as given), ``"LOW-HIGH"`` (a native scale every value shares), ``"native"`` (no scale
    given: the outcome's own units), ``"mixed"`` or ``None`` (not known: no unit).
    """
    name = MEASURE_NAMES.get((measure or "").lower(), measure or "Effect")
    if (measure or "").lower() == "smd":
        return name + " (SD units)"
    if scale == "0-100":
        return name + " (0-100 scale)"
    if scale == "native":
        return name + " (outcome's own units)"
    if scale == "mixed":
        return name + " (values on different scales: see the notes)"
    if scale:
        return name + f" (points on the {scale.replace('-', '\u2013', 1)} scale)"
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


def interval_labels_right(
    ax: Any, y: Sequence[float] | np.ndarray, intervals: Sequence[tuple[float, float, float]], decimals: int
) -> Any:
    """Each row's ``est [low, high]`` (:func:`format_interval`) as the tick labels of a
    right-hand axis of ``ax`` at heights ``y``; returns that axis."""
    right = ax.secondary_yaxis("right")
    right.set_yticks(y)
    right.set_yticklabels([format_interval(e, lo, hi, decimals) for e, lo, hi in intervals], fontsize=SMALL_FONT_SIZE)
    right.tick_params(length=0)
    return right


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
