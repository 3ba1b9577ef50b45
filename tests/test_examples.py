"""The examples in examples/ run as they are: the notebook-style tour of the Python API
(examples/workflow.py) reads a dataset, pools, fits two models and a custom prior, compares
priors and writes forest, prior-comparison, meta-regression and trace figures with a plain
``savefig``, using public functions only."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "workflow.py"


def test_the_example_uses_the_public_api_only():
    tree = ast.parse(EXAMPLE.read_text(encoding="utf-8"))
    imported = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    imported |= {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
    assert {m for m in imported if m.startswith("bayes_msc")} == {"bayes_msc"}
    used = {n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute) and getattr(n.value, "id", "") == "bm"}
    import bayes_msc

    assert used <= set(bayes_msc.__all__), used - set(bayes_msc.__all__)
    assert {"fit", "compare_priors", "plot_forest", "plot_priors", "plot_metareg", "plot_trace", "PriorSet"} <= used


def test_the_workflow_example_runs_and_writes_its_figures(tmp_path):
    done = subprocess.run(
        [sys.executable, str(EXAMPLE), str(tmp_path)], cwd=ROOT, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "Random-effects model (k = 12; tau^2 estimator: REML)" in done.stdout
    assert "engine mcmc" not in done.stdout and "engine='mcmc'" in done.stdout  # repr of the MCMC fit
    for name in ("forest", "priors", "metareg", "metareg_bayes", "trace"):
        with Image.open(tmp_path / f"{name}.png") as image:
            assert image.size[0] > 400 and image.size[1] > 300, name


def test_the_readme_python_example_uses_existing_names():
    """The README's Python block compiles and names only what ``bayes_msc`` exports (the
    example script above runs the same calls)."""
    import re

    import bayes_msc

    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text[text.index("## From Python") :]
    block = re.search(r"\n\n((?:    .*\n)+)", section).group(1)
    code = "\n".join(line[4:] for line in block.splitlines())
    tree = ast.parse(code)
    used = {n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute) and getattr(n.value, "id", "") == "bm"}
    assert used and used <= set(bayes_msc.__all__), used - set(bayes_msc.__all__)
    assert {"plot_forest", "plot_priors", "plot_metareg", "plot_trace", "PriorSet", "Prior"} <= used
