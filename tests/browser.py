"""Check a ``bayes-msc run`` report in headless Chromium (no Playwright, no network).

Used by tests/test_browser.py, and by hand on any report folder::

    .venv/bin/python tests/browser.py reports/simulated_demo [--screenshot shot.png]

prints the page title, the section headings and every image with its rendered size,
and exits 1 when an image does not load.

How the images are checked in the browser: the report has no script (by design), so
:func:`image_check` writes a small page ``_imgcheck.html`` next to ``index.html`` that
holds the same ``<img>`` sources (same relative paths, so they resolve exactly as in the
report) and an inline script that, once every image has loaded or failed, writes each
image's ``naturalWidth`` x ``naturalHeight`` into the DOM; ``--dump-dom`` prints that DOM.
"""

from __future__ import annotations

import html
import json
import re
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "/usr/bin/chromium")
TIMEOUT = 180


def chromium() -> str | None:
    """The Chromium executable, or None when none is installed."""
    for name in CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    return None


def _run(args: list[str]) -> str:
    exe = chromium()
    if exe is None:
        raise RuntimeError("chromium is not installed")
    # --virtual-time-budget lets the page finish loading (and the check script run) before
    # the DOM is dumped; no user profile, GPU or sandbox is needed for a local file.
    cmd = [
        exe,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-extensions",
        "--virtual-time-budget=20000",
        *args,
    ]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=TIMEOUT, check=True)
    return done.stdout


def dump_dom(page: Path) -> str:
    """The DOM of a local page after it has loaded, as Chromium serialises it."""
    return _run(["--dump-dom", page.resolve().as_uri()])


def screenshot(page: Path, png: Path, width: int = 1280, height: int = 4000) -> Path:
    """A PNG screenshot of the top ``height`` pixels of a local page."""
    _run([f"--screenshot={png.resolve()}", f"--window-size={width},{height}", page.resolve().as_uri()])
    return png


class _Page(HTMLParser):
    """Title, h2 headings and image sources of an HTML text."""

    def __init__(self) -> None:
        super().__init__()
        self.title = ""
        self.h2: list[str] = []
        self.imgs: list[str] = []
        self._in: str | None = None

    def handle_starttag(self, tag, attrs):
        if tag in ("title", "h2"):
            self._in = tag
            if tag == "h2":
                self.h2.append("")
        if tag == "img":
            self.imgs.append(dict(attrs)["src"])

    def handle_endtag(self, tag):
        if tag == self._in:
            self._in = None

    def handle_data(self, data):
        if self._in == "title":
            self.title += data
        elif self._in == "h2":
            self.h2[-1] += data


def parse(text: str) -> _Page:
    page = _Page()
    page.feed(text)
    return page


_CHECK = """<!DOCTYPE html><html><head><meta charset="utf-8"><title>image check</title></head><body>
{imgs}
<pre id="result">pending</pre>
<script>
window.addEventListener("load", function () {{
  var out = [];
  document.querySelectorAll("img").forEach(function (img) {{
    out.push([img.getAttribute("src"), img.complete, img.naturalWidth, img.naturalHeight]);
  }});
  document.getElementById("result").textContent = JSON.stringify(out);
}});
</script></body></html>
"""


def image_check(report: Path) -> list[tuple[str, bool, int, int]]:
    """Load every image of ``report/index.html`` in Chromium: (src, complete, width, height)."""
    srcs = parse((report / "index.html").read_text(encoding="utf-8")).imgs
    page = report / "_imgcheck.html"
    page.write_text(
        _CHECK.format(imgs="\n".join(f'<img src="{html.escape(s)}" alt="">' for s in srcs)), encoding="utf-8"
    )
    try:
        dom = dump_dom(page)
    finally:
        page.unlink()
    found = re.search(r'<pre id="result">(.*?)</pre>', dom, re.S)
    if found is None or found.group(1) == "pending":
        raise RuntimeError("the image check script did not run:\n" + dom[-2000:])
    return [tuple(row) for row in json.loads(html.unescape(found.group(1)))]


_MEASURE = """<script>
window.addEventListener("load", function () {
  var d = document.documentElement;
  var boxes = [];
  document.querySelectorAll("div.table").forEach(function (box) {
    var section = box.closest("section");
    boxes.push([section ? section.id : "", box.scrollWidth, box.clientWidth]);
  });
  var out = document.createElement("pre");
  out.id = "measured";
  out.textContent = JSON.stringify({page: [d.scrollWidth, d.clientWidth], tables: boxes});
  document.body.appendChild(out);
});
</script>"""


def widths(report: Path, width: int = 1280) -> dict:
    """Lay out ``report/index.html`` in a ``width``-pixel window: ``{"page": [scrollWidth,
    clientWidth], "tables": [[section id, scrollWidth, clientWidth], ...]}`` of the page and
    of every table's box. A copy of the page with a measuring script (the report has none)
    is loaded from the report folder, so it lays out exactly as the report does."""
    text = (report / "index.html").read_text(encoding="utf-8")
    page = report / "_widths.html"
    page.write_text(text.replace("</body>", _MEASURE + "</body>"), encoding="utf-8")
    try:
        dom = _run([f"--window-size={width},2000", "--dump-dom", page.resolve().as_uri()])
    finally:
        page.unlink()
    found = re.search(r'<pre id="measured">(.*?)</pre>', dom, re.S)
    if found is None:
        raise RuntimeError("the measuring script did not run:\n" + dom[-2000:])
    return json.loads(html.unescape(found.group(1)))


def main(argv: list[str]) -> int:
    report = Path(argv[0])
    page = parse(dump_dom(report / "index.html"))
    print(f"title: {page.title}")
    for h in page.h2:
        print(f"  section: {h}")
    bad = 0
    for src, complete, w, h in image_check(report):
        ok = complete and w > 0 and h > 0
        bad += not ok
        print(f"  {'ok ' if ok else 'BAD'} {w}x{h} {src}")
    measured = widths(report)
    print(f"  page width: scrollWidth {measured['page'][0]}, clientWidth {measured['page'][1]} (1280 px window)")
    for section, scroll, client in measured["tables"]:
        if scroll > client:
            print(f"  WIDE table in section {section}: {scroll} > {client} px (scrolls in its box)")
    if "--screenshot" in argv:
        print("screenshot:", screenshot(report / "index.html", Path(argv[argv.index("--screenshot") + 1])))
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
