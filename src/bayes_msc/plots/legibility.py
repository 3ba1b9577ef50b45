"""Legibility checks of a figure: texts that overlap, texts cut off at the figure's edge.

Used by the tests (every figure of the package is checked) and handy when tuning a figure.
They lay the figure out with :meth:`matplotlib.figure.Figure.draw_without_rendering`, which
places every text as a draw would without rendering a pixel.
"""

from __future__ import annotations

from typing import Any


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
