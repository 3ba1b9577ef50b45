"""HTML building blocks of the report: escaping, tables, figures, the page frame.

Plain strings and the standard library only. The page is self-contained: the style sheet
is inline, there is no script, and every link or image points to a file inside the
report folder by a relative path, so the report opens offline from any location.
"""

from __future__ import annotations

import html
import math
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from bayes_msc.results.layout import CI_LEVEL

SIMULATED_BANNER = "SIMULATED DATA"

STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", Helvetica, Arial, sans-serif;
       margin: 0 auto; max-width: 72rem; padding: 1rem 2rem 4rem; color: #1a1a1a;
       line-height: 1.4; }
h1 { font-size: 1.6rem; margin-bottom: .2rem; }
h2 { font-size: 1.3rem; margin-top: 2.5rem; border-bottom: 2px solid #ccc; }
h3 { font-size: 1.05rem; margin-top: 1.6rem; }
nav ol { columns: 2; }
div.table { overflow-x: auto; max-width: 100%; }
table { border-collapse: collapse; margin: .6rem 0 1rem; font-size: .8rem; }
th, td { border: 1px solid #ccc; padding: .2rem .4rem; text-align: right; vertical-align: top; }
th { background: #f0f0f0; }
td.text, th.text { text-align: left; }
td.word { white-space: nowrap; }
td.long { overflow-wrap: anywhere; min-width: 12rem; max-width: 36rem; }
.caption { font-size: .85rem; color: #444; margin: .2rem 0 .6rem; }
.banner { background: #b00020; color: #fff; font-weight: bold; padding: .35rem .7rem;
          letter-spacing: .05em; margin: .6rem 0; }
.fail, td.fail { color: #b00020; font-weight: bold; }
tr.fail td { background: #fde8ec; }
.pass { color: #1b6e20; }
.note { background: #fff8e1; border-left: 4px solid #e0a800; padding: .4rem .7rem; margin: .6rem 0; }
figure { margin: .8rem 0 1.4rem; }
figure img { max-width: 100%; height: auto; border: 1px solid #ddd; }
figcaption { font-size: .85rem; color: #444; }
ul.skipped li { margin-bottom: .2rem; }
"""


def esc(text: Any) -> str:
    """HTML-escaped text of any value."""
    return html.escape(str(text), quote=True)


def fmt(value: Any) -> str:
    """A cell's text: 2 decimals (1 from 100 up, 3 significant digits below 1), whole
    numbers without decimals, NaN/None as an en dash."""
    if value is None:
        return "\u2013"
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        x = float(value)
        if not math.isfinite(x):
            return "\u2013"
        if x == int(x) and abs(x) < 1e6:
            return str(int(x))
        if abs(x) >= 100:
            return f"{x:.1f}"
        return f"{x:.2f}" if abs(x) >= 1 else f"{x:.3g}"
    return str(value)


def month_text(month: float | None) -> str:
    """``6`` rather than ``6.0``; ``?`` when unknown."""
    if month is None or (isinstance(month, float) and math.isnan(month)):
        return "?"
    return fmt(float(month))


LONG_TEXT = 60
"""Text cells longer than this get a minimum width, so that a wide table does not squeeze
them into a tall thin column."""


def _header(name: object) -> str:
    return esc(name).replace("_", "_<wbr>")


def _cell(text: str, is_text: bool) -> str:
    if not is_text:
        return f"<td>{esc(text)}</td>"
    # One word (an id, a number, an interval joined by no-break spaces) is never broken;
    # text with spaces wraps at them; a long text gets a minimum width.
    cls = "text long" if len(text) > LONG_TEXT else "text" if " " in text else "text word"
    return f'<td class="{cls}">{esc(text)}</td>'


def table(
    frame: pd.DataFrame,
    *,
    caption: str | None = None,
    row_classes: Sequence[str] | None = None,
    text_columns: Iterable[str] = (),
) -> str:
    """An HTML table of ``frame`` (index dropped). Text columns are left-aligned.

    ``row_classes`` gives a CSS class per row (``"fail"`` paints a row red).
    """
    text_cols = set(text_columns) | {c for c in frame.columns if not pd.api.types.is_numeric_dtype(frame[c])}
    # A header may break after an underscore (published_ci_low), so it never sets a wide column.
    head = "".join(
        f'<th class="text">{_header(c)}</th>' if c in text_cols else f"<th>{_header(c)}</th>" for c in frame.columns
    )
    rows = []
    for i, rec in enumerate(frame.itertuples(index=False, name=None)):
        cls = row_classes[i] if row_classes is not None and row_classes[i] else ""
        cells = "".join(_cell(fmt(v), c in text_cols) for c, v in zip(frame.columns, rec, strict=False))
        rows.append(f'<tr class="{cls}">{cells}</tr>' if cls else f"<tr>{cells}</tr>")
    cap = f'<p class="caption">{esc(caption)}</p>' if caption else ""
    return (
        f'{cap}<div class="table"><table><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table></div>\n'
    )


def figure(src: str, alt: str, caption: str | None = None, link: str | None = None) -> str:
    """An ``<img>`` of a figure file (``src`` relative to index.html), optionally linked."""
    img = f'<img src="{esc(src)}" alt="{esc(alt)}" loading="lazy">'
    if link:
        img = f'<a href="{esc(link)}">{img}</a>'
    cap = f"<figcaption>{esc(caption)}</figcaption>" if caption else ""
    return f"<figure>{img}{cap}</figure>\n"


def banner(simulated: bool) -> str:
    """The red SIMULATED DATA banner (empty for real data)."""
    if not simulated:
        return ""
    return (
        f'<div class="banner">{SIMULATED_BANNER}: every number in this section comes '
        "from a simulated dataset, not from the trials.</div>\n"
    )


def section(anchor: str, title: str, body: str, simulated: bool) -> str:
    """One ``<section>`` with its heading and (for simulated data) the banner."""
    return f'<section id="{esc(anchor)}"><h2>{esc(title)}</h2>\n{banner(simulated)}{body}</section>\n'


def page(title: str, intro: str, sections: Sequence[tuple[str, str, str]], simulated: bool) -> str:
    """The whole document: title, banner, table of contents, then the sections.

    ``sections`` holds ``(anchor, title, body_html)`` triples.
    """
    toc = "".join(f'<li><a href="#{esc(a)}">{esc(t)}</a></li>' for a, t, _ in sections)
    body = "".join(section(a, t, b, simulated) for a, t, b in sections)
    full_title = f"{SIMULATED_BANNER}: {title}" if simulated else title
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{esc(full_title)}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n"
        f"<header><h1>{esc(title)}</h1>\n{banner(simulated)}{intro}"
        f"<nav><h2>Contents</h2><ol>{toc}</ol></nav></header>\n<main>\n{body}</main>\n"
        "</body>\n</html>\n"
    )


PCT = f"{CI_LEVEL:.0%}"
"""The default interval level as a percentage, for headings."""


def fig_block(figures: dict[str, str], name: str, alt: str, caption: str | None = None) -> str:
    # The PNG links its SVG when one was written (``[report] svg = true``); a figure that
    # could not be drawn says why in its place.
    src = figures.get(name)
    if src is None:
        reason = figures.get(name + ".skipped")
        return f'<p class="fail">Figure not drawn ({esc(alt)}): {esc(reason)}</p>' if reason else ""
    return figure(src, alt, caption, link=figures.get(name + ".svg"))


def drop_empty(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """``frame`` without those of ``columns`` that are empty text in every row."""
    return frame.drop(columns=[c for c in columns if c in frame and not frame[c].astype(str).str.len().any()])


def cell_title(outcome: str, month: float | None) -> str:
    return f"{outcome} at {month_text(month)} months" if month is not None else f"{outcome} (whole follow-up)"
