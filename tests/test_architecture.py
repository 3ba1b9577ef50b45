"""The package's layout rules (docs/ARCHITECTURE.md), checked on the source itself.

- Layers: a module imports only its own layer's modules or those of layers below it
  (imports inside functions and under TYPE_CHECKING count too).
- No import cycle between the package's folders.
- Modules stay under ~400 lines; a folder holds at most ~12 modules.
- No private attribute of matplotlib internals that issue 11 removed.
"""

from __future__ import annotations

import ast
import re
from collections import defaultdict
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "bayes_msc"

LAYERS: dict[str, int] = {
    "errors": 0,
    "data": 1,
    "results": 2,
    "frequentist": 3,
    "priors": 3,
    "simulation": 3,
    "bayes": 4,
    "studies": 4,
    "workflow": 5,
    "simstudy": 5,
    "plots": 6,
    "report": 7,
    "api": 8,
    "cli": 9,
    "__init__": 10,
    "__main__": 10,
    "guard": 0,
}
"""Layer of each top-level module or folder of ``bayes_msc`` (higher imports lower)."""

MAX_LINES = 420
MAX_MODULES = 12


def _modules() -> list[Path]:
    return sorted(p for p in SRC.rglob("*.py") if "__pycache__" not in p.parts)


def _unit(path: Path) -> str:
    """The top-level folder (or module) a file belongs to."""
    rel = path.relative_to(SRC)
    return rel.parts[0] if len(rel.parts) > 1 else rel.stem


def _imports(path: Path) -> set[str]:
    """Every ``bayes_msc.<unit>`` this file imports, anywhere in it."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = set()
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module] + [f"{node.module}.{a.name}" for a in node.names if node.module == "bayes_msc"]
        for name in names:
            parts = name.split(".")
            if parts[0] == "bayes_msc" and len(parts) > 1:
                found.add(parts[1])
    return found


def test_every_unit_has_a_layer():
    units = {_unit(p) for p in _modules()}
    assert units <= set(LAYERS), f"give these a layer in tests/test_architecture.py: {sorted(units - set(LAYERS))}"


def test_no_module_imports_a_layer_above_its_own():
    bad = []
    for path in _modules():
        unit = _unit(path)
        for target in _imports(path):
            if target in LAYERS and LAYERS[target] > LAYERS[unit]:
                bad.append(f"{path.relative_to(SRC)} ({unit}) imports bayes_msc.{target}")
    assert not bad, "\n".join(bad)


def test_no_import_cycle_between_folders():
    graph: dict[str, set[str]] = defaultdict(set)
    for path in _modules():
        unit = _unit(path)
        graph[unit] |= {t for t in _imports(path) if t != unit and t in LAYERS}

    def reaches(start: str, goal: str, seen: set[str]) -> bool:
        return any(nxt == goal or (nxt not in seen and reaches(nxt, goal, seen | {nxt})) for nxt in graph[start])

    cycles = sorted(u for u in graph if reaches(u, u, {u}))
    assert not cycles, f"folders in an import cycle: {cycles}"


def test_modules_are_short():
    long = {str(p.relative_to(SRC)): n for p in _modules() if (n := len(p.read_text("utf-8").splitlines())) > MAX_LINES}
    assert not long, f"modules over {MAX_LINES} lines: {long}"


def test_folders_hold_few_modules():
    counts: dict[str, int] = defaultdict(int)
    for p in _modules():
        if p.name != "__init__.py":
            counts[str(p.parent.relative_to(SRC))] += 1
    crowded = {k: v for k, v in counts.items() if v > MAX_MODULES}
    assert not crowded, f"folders of more than {MAX_MODULES} modules: {crowded}"


@pytest.mark.parametrize(
    "pattern", [r"_prepare_font", r"_renderer\.", r"_lastKey", r"_find_fonts_by_props", r"backend_mixed"]
)
def test_no_private_matplotlib_internals(pattern):
    hits = [str(p.relative_to(SRC)) for p in _modules() if re.search(pattern, p.read_text("utf-8"))]
    assert not hits, f"{pattern} used in {hits}"


def test_the_layer_check_would_catch_an_upward_import(tmp_path):
    """The checker itself: a data module importing the report is reported."""
    fake = tmp_path / "bad.py"
    fake.write_text("def f():\n    from bayes_msc.report.writer import write_report\n", encoding="utf-8")
    assert _imports(fake) == {"report"} and LAYERS["report"] > LAYERS["data"]


def test_the_command_line_parser_imports_nothing_heavy():
    """``bayes-msc --help`` builds every verb's parser: no numpy, pandas or heavier library."""
    import subprocess
    import sys

    code = (
        "import sys\nfrom bayes_msc.cli.main import build_parser\nbuild_parser()\n"
        "print(sorted(m for m in ('numpy', 'pandas', 'scipy', 'pymc', 'arviz', 'matplotlib', 'nutpie') "
        "if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout
