"""The report opens in a real browser (headless Chromium): it renders, every image loads,
and at 1280 px no table overflows the page or its own box (both shipped specs' pages, and
a whole report with its figures).

Skipped when Chromium is not installed (Debian: ``apt-get install chromium``; the
machine ``.ci/run`` runs on has it).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import bayes_msc as bm
from bayes_msc.cli.main import main
from browser import chromium, dump_dom, image_check, parse, widths

# The tiny simulated dataset and spec of the end-to-end tests (tests/ is on sys.path).
from test_run import EXACT, make_tiny, write_spec

pytestmark = pytest.mark.skipif(
    chromium() is None, reason="chromium is not installed: apt-get install chromium to run the browser checks"
)

SECTIONS = [
    "Data",
    "Frequentist pooling",
    "Bayesian posteriors",
    "Prior comparison",
    "Forest plots",
    "Meta-regression",
    "Diagnostics appendix",
]


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> Path:
    folder = make_tiny(tmp_path_factory.mktemp("browser") / "tiny_simulated")
    spec = write_spec(folder, "browser_check", EXACT + '[report]\ntitle = "Browser check"\n')
    out = folder.parent / "report"
    assert main(["run", str(spec), "--out", str(out), "--no-progress"]) == 0
    return out


def test_page_renders_with_title_and_sections(report):
    dom = dump_dom(report / "index.html")
    page = parse(dom)
    assert page.title == "SIMULATED DATA: Browser check"
    assert page.h2 == ["Contents", *SECTIONS]
    assert dom.count("SIMULATED DATA: every number in this section") == len(SECTIONS) + 1


def test_every_image_is_a_file_and_loads_in_the_browser(report):
    srcs = parse((report / "index.html").read_text("utf-8")).imgs
    assert len(srcs) >= 3  # two forest plots and a meta-regression at least
    for src in srcs:
        assert not Path(src).is_absolute() and (report / src).is_file(), src
    loaded = image_check(report)
    assert [row[0] for row in loaded] == srcs
    for src, complete, width, height in loaded:
        assert complete and width > 0 and height > 0, src


def test_the_image_check_catches_a_broken_image(report, tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(report, copy)
    broken = parse((copy / "index.html").read_text("utf-8")).imgs[0]
    (copy / broken).write_bytes(b"not a PNG")
    sizes = {src: width for src, _, width, _ in image_check(copy)}
    assert sizes[broken] == 0
    assert all(width > 0 for src, width in sizes.items() if src != broken)


def _fits(measured: dict) -> None:
    page_scroll, page_client = measured["page"]
    assert page_scroll <= page_client, measured["page"]
    wide = [t for t in measured["tables"] if t[1] > t[2]]
    assert not wide, f"tables wider than their box (section, scrollWidth, clientWidth): {wide}"


def test_tables_fit_the_page_at_1280_px(report):
    _fits(widths(report, 1280))


@pytest.mark.parametrize("spec", ["simulated_demo", "qu_sun_2021"])
def test_the_shipped_reports_fit_the_page_at_1280_px(spec, tmp_path):
    """The page of each shipped spec (its tables and text; figures are images scaled to the
    page's width and are left out here, so the spec runs without drawing them)."""
    from bayes_msc.report.sections import build_page
    from bayes_msc.report.writer import build_tables

    res = bm.run_spec(Path(__file__).resolve().parents[1] / "models" / f"{spec}.toml")
    (tmp_path / "index.html").write_text(build_page(res, build_tables(res), {}), encoding="utf-8")
    measured = widths(tmp_path, 1280)
    assert len(measured["tables"]) >= 5
    _fits(measured)
