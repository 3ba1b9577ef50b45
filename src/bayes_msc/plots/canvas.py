"""The canvas every figure of the package is drawn on: matplotlib's Agg, with faster text.

The report's figures are mostly text (a forest plot has ~120 strings; more than half of
the strings a report draws repeat from figure to figure: study names, headers, tick
labels), and matplotlib 3.11 made text the bulk of a figure's cost (~90% of the Agg time
of a forest plot): it draws a string glyph by glyph from Python, and every renderer
measures every string afresh with FreeType. This canvas

- draws a string as matplotlib did before 3.11: laid out and rendered by FreeType in one
  call (``FT2Font.set_text`` and ``draw_glyphs_to_bitmap``) and blitted once at a whole
  pixel position;
- keeps the bitmap and the metrics of each string in a process-wide cache, so a string
  drawn again (in the next figure, or the same figure at its final size) costs a
  dictionary look-up; SVG output keeps its (unhinted) metrics in a cache of its own (its
  bytes are matplotlib's);
- encodes the PNG itself (:func:`_png_bytes`: in about half of Pillow's time).

Mathtext, TeX and texts with OpenType features or a language go through matplotlib's own
code, as does Agg text on matplotlib versions without the per-glyph path. The bytes of a
figure do not depend on what the caches held before.
"""

from __future__ import annotations

import math
from typing import Any

_CACHE_LIMIT = 10_000
"""Entries per cache before it is emptied (the demo report's 67 figures draw ~1,700
different strings; a bitmap is a few kB)."""

_BITMAPS: dict[tuple[Any, ...], tuple[Any, ...]] = {}
_METRICS: dict[tuple[Any, ...], tuple[float, float, float]] = {}
_SVG_METRICS: dict[tuple[Any, ...], tuple[float, float, float]] = {}
_CANVAS: type | None = None


def _remember(cache: dict[tuple[Any, ...], Any], key: tuple[Any, ...], value: Any) -> Any:
    if len(cache) >= _CACHE_LIMIT:
        cache.clear()
    cache[key] = value
    return value


def new_figure(width: float, height: float) -> Any:
    """A Figure of ``width`` x ``height`` inches on this module's canvas, outside pyplot."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height))
    _canvas_class()(fig)
    return fig


def _canvas_class() -> type:
    """The canvas class, built on first use (matplotlib is imported lazily)."""
    global _CANVAS
    if _CANVAS is None:
        _CANVAS = _build_canvas_class()
    return _CANVAS


def _build_canvas_class() -> type:
    import matplotlib as mpl
    from matplotlib.backends.backend_agg import FigureCanvasAgg, RendererAgg, get_hinting_flag
    from matplotlib.backends.backend_svg import RendererSVG
    from matplotlib.font_manager import fontManager

    # Only matplotlib versions that draw glyph by glyph (3.11+) need the string path.
    per_glyph = hasattr(RendererAgg, "_draw_text_glyphs_and_boxes")

    def plain(ismath: Any, mtext: Any = None) -> bool:
        if ismath:
            return False
        return mtext is None or (
            getattr(mtext, "get_fontfeatures", lambda: None)() is None
            and getattr(mtext, "get_language", lambda: None)() is None
        )

    class Renderer(RendererAgg):
        """RendererAgg with whole-string text drawing and process-wide text caches."""

        def get_text_width_height_descent(self, s: str, prop: Any, ismath: Any) -> tuple[float, float, float]:
            if not (per_glyph and plain(ismath)):
                return super().get_text_width_height_descent(s, prop, ismath)
            font = self._prepare_font(prop)
            key = (font, prop.get_size_in_points(), self.dpi, get_hinting_flag(), s)
            hit = _METRICS.get(key)
            if hit is None:
                # A measured string is about to be drawn: render its bitmap now, while
                # FreeType holds the laid-out string, rather than lay it out again.
                antialiased = bool(mpl.rcParams["text.antialiased"])
                _, descent, _, _, width, height = self._bitmap(font, prop, s, antialiased)
                hit = _remember(_METRICS, key, (width, height, descent))
            return hit

        def draw_text(
            self, gc: Any, x: float, y: float, s: str, prop: Any, angle: float, ismath: Any = False, mtext: Any = None
        ) -> None:
            if not (per_glyph and plain(ismath, mtext)):
                return super().draw_text(gc, x, y, s, prop, angle, ismath, mtext)
            font = self._prepare_font(prop)
            image, descent, xo, yo, _, _ = self._bitmap(font, prop, s, bool(gc.get_antialiased()))
            # As matplotlib <= 3.10: the bitmap's bottom-left corner, shifted by the
            # descent along the text's angle, at a whole pixel.
            xd = descent * math.sin(math.radians(angle))
            yd = descent * math.cos(math.radians(angle))
            self._renderer.draw_text_image(image, round(x + xo + xd), round(y + yo + yd) + 1, angle, gc)

        def _bitmap(self, font: Any, prop: Any, s: str, antialiased: bool) -> tuple[Any, ...]:
            """``(bitmap, descent, x offset, y offset, width, height)`` of ``s`` in pixels."""
            key = (font, prop.get_size_in_points(), self.dpi, get_hinting_flag(), antialiased, s)
            hit = _BITMAPS.get(key)
            if hit is None:
                font.set_text(s, 0, flags=get_hinting_flag())
                font.draw_glyphs_to_bitmap(antialiased=antialiased)
                (w, h), (xo, yo) = font.get_width_height(), font.get_bitmap_offset()
                hit = _remember(
                    _BITMAPS,
                    key,
                    (font.get_image().copy(), font.get_descent() / 64.0, xo / 64.0, yo / 64.0, w / 64.0, h / 64.0),
                )
            return hit

    class SVGRenderer(RendererSVG):
        """RendererSVG whose text metrics are cached for the process."""

        def get_text_width_height_descent(self, s: str, prop: Any, ismath: Any) -> tuple[float, float, float]:
            if not plain(ismath):
                return super().get_text_width_height_descent(s, prop, ismath)
            key = (
                tuple(fontManager._find_fonts_by_props(prop)),
                prop.get_size_in_points(),
                self.points_to_pixels(72),
                s,
            )
            hit = _SVG_METRICS.get(key)
            if hit is None:
                hit = _remember(_SVG_METRICS, key, super().get_text_width_height_descent(s, prop, ismath))
            return hit

    class Canvas(FigureCanvasAgg):
        """FigureCanvasAgg drawing with :class:`Renderer`, saving SVG with :class:`SVGRenderer`."""

        def get_renderer(self) -> Any:
            w, h = self.get_width_height(physical=True)
            key = w, h, self.figure.dpi
            if self._lastKey != key:
                self.renderer = Renderer(w, h, self.figure.dpi)
                self._lastKey = key
            return self.renderer

        def print_png(self, filename: Any, *, metadata: dict[str, str | None] | None = None, **_: Any) -> None:
            """As ``FigureCanvasAgg.print_png``, encoded by :func:`_png_bytes` (``pil_kwargs``
            are not used); ``metadata`` entries that are not None become text chunks."""
            from matplotlib import cbook

            FigureCanvasAgg.draw(self)
            data = _png_bytes(
                self.buffer_rgba(), self.figure.dpi, {k: v for k, v in (metadata or {}).items() if v is not None}
            )
            with cbook.open_file_cm(filename, "wb") as fh:
                fh.write(data)

        def print_svg(
            self, filename: Any, *, metadata: dict[str, Any] | None = None, bbox_inches_restore: Any = None, **_: Any
        ) -> None:
            """As ``FigureCanvasSVG.print_svg``, with :class:`SVGRenderer`."""
            import codecs

            from matplotlib import cbook
            from matplotlib.backends.backend_mixed import MixedModeRenderer

            with cbook.open_file_cm(filename, "w", encoding="utf-8") as fh:
                if not cbook.file_requires_unicode(fh):
                    fh = codecs.getwriter("utf-8")(fh)
                dpi = self.figure.dpi
                self.figure.dpi = 72  # savefig puts the figure's dpi back
                width, height = self.figure.get_size_inches()
                renderer = MixedModeRenderer(
                    self.figure,
                    width,
                    height,
                    dpi,
                    SVGRenderer(width * 72, height * 72, fh, image_dpi=dpi, metadata=metadata),
                    bbox_inches_restore=bbox_inches_restore,
                )
                self.figure.draw(renderer)
                renderer.finalize()

    return Canvas


def _png_bytes(rgba: Any, dpi: float, text: dict[str, str]) -> bytes:
    """A PNG of an RGBA buffer: RGB when every pixel is opaque (a figure on a white ground),
    rows unfiltered, zlib level 1. Twice as fast as Pillow's encoder with its adaptive row
    filters, and smaller for figures (flat colours compress well as they are)."""
    import struct
    import zlib

    import numpy as np

    pixels = np.asarray(rgba)
    opaque = bool((pixels[..., 3] == 255).all())
    if opaque:
        pixels = pixels[..., :3]
    height, width = pixels.shape[:2]
    rows = np.empty((height, 1 + width * pixels.shape[2]), np.uint8)
    rows[:, 0] = 0  # filter type None
    rows[:, 1:] = pixels.reshape(height, -1)

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    per_metre = round(dpi / 0.0254)
    out = [
        b"\x89PNG\r\n\x1a\n",
        chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2 if opaque else 6, 0, 0, 0)),
        chunk(b"pHYs", struct.pack(">IIB", per_metre, per_metre, 1)),
    ]
    out += [chunk(b"tEXt", k.encode("latin-1") + b"\0" + str(v).encode("latin-1")) for k, v in text.items()]
    out += [chunk(b"IDAT", zlib.compress(rows.tobytes(), 1)), chunk(b"IEND", b"")]
    return b"".join(out)
