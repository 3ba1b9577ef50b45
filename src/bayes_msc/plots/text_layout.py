"""Texts placed beside an axes and measured: the text columns of the forest plot, the width
of a table column, offsets in inches.

Texts are measured while a figure is built (a column is as wide as its widest text) with
one renderer per dpi for the process (:func:`measuring_renderer`), so a string that recurs
from figure to figure is measured once.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bayes_msc.plots.style import FONT_SIZE


def inch_shift(fig: Any, dx: float, dy: float) -> Any:
    """A translation by ``dx``, ``dy`` inches, to add to another transform."""
    from matplotlib.transforms import ScaledTranslation

    return ScaledTranslation(dx, dy, fig.dpi_scale_trans)


_MEASURING: dict[tuple[Any, ...], Any] = {}
_TEXT_RC: list[str] = []


def measuring_renderer(fig: Any) -> Any:
    """An Agg renderer at ``fig``'s dpi to measure texts with while a figure is built.

    One per dpi and font and text settings for the process rather than the figure's own
    canvas renderer: matplotlib keeps the sizes of the strings a renderer has measured, and
    most strings of a report's figures recur from figure to figure (study names, headers,
    legend entries). The sizes depend on the font and text settings (hinting), hence one
    renderer per setting. The figure is drawn by its canvas's renderer as always.
    """
    import matplotlib
    from matplotlib.backends.backend_agg import RendererAgg

    rc: Any = matplotlib.rcParams  # read by name: any font or text setting
    if not _TEXT_RC:
        _TEXT_RC.extend(k for k in sorted(rc) if k.startswith(("font.", "text.")))
    key = (fig.dpi, *(repr(rc[k]) for k in _TEXT_RC))
    renderer = _MEASURING.get(key)
    if renderer is None:
        renderer = _MEASURING[key] = RendererAgg(1, 1, fig.dpi)
    return renderer


def text_width_pt(texts: Sequence[Any]) -> float:
    """Width in points of the widest of ``texts`` as the renderer draws them."""
    fig = texts[0].figure
    renderer = measuring_renderer(fig)
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


def wrap(text: str, fig: Any, width_inches: float, fontsize: float, weight: str = "normal") -> str:
    """``text`` with each line wrapped at spaces so that it is at most ``width_inches``
    wide at ``fontsize`` (measured as the renderer draws it), for a figure whose width the
    caller chose."""
    from matplotlib.font_manager import FontProperties

    renderer = measuring_renderer(fig)
    prop = FontProperties(size=fontsize, weight=weight)
    limit = width_inches * fig.dpi

    def width(s: str) -> float:
        return renderer.get_text_width_height_descent(s, prop, ismath=False)[0]

    out = []
    for line in text.split("\n"):
        current = ""
        for word in line.split(" "):
            trial = f"{current} {word}" if current else word
            if current and width(trial) > limit:
                out.append(current)
                current = word
            else:
                current = trial
        out.append(current)
    return "\n".join(out)
