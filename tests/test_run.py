"""``bayes-msc run``: end-to-end on a tiny simulated folder, summary.json, atomicity."""

from __future__ import annotations

import html
import json
import os
import stat
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from bayes_msc.cli.main import main
from bayes_msc.frequentist.rma import rma
from bayes_msc.report import folder as report_folder
from bayes_msc.workflow import review

SIMULATED = Path(__file__).resolve().parents[1] / "data" / "msc_knee_oa_simulated"
FIT_FIELDS = {
    "outcome",
    "month",
    "model",
    "prior",
    "covariates",
    "engine",
    "verdict",
    "max_r_hat",
    "min_ess_bulk",
    "divergences",
    "seconds",
}


def make_tiny(folder: Path) -> Path:
    """A tiny SIMULATED dataset in ``folder``: the first five studies of the bundled
    simulated folder, VAS only, at baseline, 6 and 12 months."""
    folder.mkdir()
    arms = pd.read_csv(SIMULATED / "arms.csv", dtype=str, keep_default_na=False)
    keep = list(dict.fromkeys(arms["study"]))[:5]
    arms[arms["study"].isin(keep)].to_csv(folder / "arms.csv", index=False)
    out = pd.read_csv(SIMULATED / "outcomes.csv", dtype=str, keep_default_na=False)
    out = out[out["study"].isin(keep) & (out["outcome"] == "vas") & out["month"].isin(["0", "6", "12"])]
    out.to_csv(folder / "outcomes.csv", index=False)
    studies = pd.read_csv(SIMULATED / "studies.csv", dtype=str, keep_default_na=False)
    studies[studies["study"].isin(keep)].to_csv(folder / "studies.csv", index=False)
    return folder


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> Path:
    return make_tiny(tmp_path_factory.mktemp("run") / "tiny_simulated")


def write_spec(folder: Path, name: str, bayes: str = "", extra: str = "") -> Path:
    path = folder.parent / f"{name}.toml"
    path.write_text(
        f'[dataset]\npath = "{folder.name}"\n[analysis]\noutcomes = ["vas"]\n{extra}{bayes}', encoding="utf-8"
    )
    return path


# One model structure (re, no covariates) so that nutpie compiles once; 10 draws keep the
# sampling instant (and cannot pass the diagnostics verdict, which the test uses).
MCMC = """[bayes]
models = ["re"]
engine = "mcmc"
priors = ["weakly_informative", "skeptical"]
draws = 10
tune = 10
chains = 2
seed = 11
mcid = { vas = -19.9 }
"""

# Every kind of fit: re and arm models, a covariate model (three compiled structures).
MCMC_ALL = (
    MCMC.replace('models = ["re"]', 'models = ["re", "arm"]')
    + """cells = { arm = [{ outcome = "vas", months = [12] }] }
covariates = [["log10(dose_million)"]]
covariate_cells = [{ outcome = "vas", months = [12] }]
"""
)

EXACT = MCMC_ALL.replace('engine = "mcmc"', 'engine = "exact"')


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []
        self.imgs: list[str] = []
        self.sections: list[str] = []
        self.banners = 0

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "img":
            self.imgs.append(a["src"])
        for key in ("href", "src"):
            if key in a:
                self.links.append(a[key])
        if tag == "section":
            self.sections.append(a["id"])
        if tag == "div" and a.get("class") == "banner":
            self.banners += 1


def parse(index: Path) -> _Links:
    p = _Links()
    p.feed(index.read_text(encoding="utf-8"))
    return p


def check_links(out: Path) -> _Links:
    """Every link and image is relative and resolves inside the report folder."""
    p = parse(out / "index.html")
    for link in p.links:
        if link.startswith("#"):
            continue
        assert "://" not in link and not link.startswith("/") and ".." not in link, link
        assert (out / link).exists(), link
    return p


def without_seconds(summary: dict) -> dict:
    for f in summary["fits"]:
        f.pop("seconds")
    return summary


def check_mcmc_report(out: Path, n_fits: int) -> tuple[dict, _Links]:
    """What every MCMC report holds: fits in summary.json, one posterior file per fit,
    failed verdicts counted and painted red, relative links, banners, tables."""
    summary = json.loads((out / "summary.json").read_text("utf-8"))
    assert summary["dataset"] == "tiny_simulated" and summary["simulated"] is True
    fits = summary["fits"]
    assert len(fits) == n_fits
    for f in fits:
        assert set(f) >= FIT_FIELDS
        assert f["engine"] == "mcmc" and f["verdict"] in ("pass", "fail")
        nc = out / f["posterior"]
        assert nc.is_file() and nc.parent.name == "posteriors"
    assert len(list((out / "posteriors").glob("*.nc"))) == n_fits
    # A posterior file holds the draws the summary describes.
    import xarray as xr

    tree = xr.open_datatree(out / fits[0]["posterior"])
    assert float(tree["posterior"]["mu"].mean()) == pytest.approx(fits[0]["mu_mean"], rel=1e-9)
    failed = [f for f in fits if f["verdict"] == "fail"]
    assert summary["failed"] == len(failed)
    html = (out / "index.html").read_text("utf-8")
    if failed:
        assert f"{len(failed)} of {len(fits)} Bayesian fits FAILED" in html
        assert html.count('<tr class="fail">') >= 2 * len(failed)  # Bayesian table and diagnostics
    p = check_links(out)
    assert p.sections == ["data", "frequentist", "bayes", "priors", "forest", "metareg", "diagnostics"]
    assert p.banners == len(p.sections) + 1  # every section and the header
    for table in ("data_summary", "frequentist", "bayes", "diagnostics", "effects"):
        assert (out / "tables" / f"{table}.csv").is_file()
    return summary, p


def test_mcmc_run_writes_the_whole_report(tiny, capsys):
    spec = write_spec(tiny, "tiny_mcmc", MCMC)
    out = tiny.parent / "out_mcmc"
    status = main(["run", str(spec), "--out", str(out), "--no-progress", "--strict"])
    summary, p = check_mcmc_report(out, 4)  # 2 cells x 2 priors
    assert summary["spec"] == "tiny_mcmc"
    # 10 draws cannot pass the verdict: failures are reported and --strict exits with 3.
    assert summary["failed"] > 0, "10 draws per chain were expected to fail the verdict"
    assert status == 3
    figures = {Path(s).name for s in p.imgs}
    assert {"forest_vas_m6.png", "forest_vas_m12.png", "priors_vas_m6.png", "priors_vas_m12.png"} <= figures
    assert any(name.startswith("trace_") for name in figures)
    # The same spec and seed give the same summary (only `seconds` may differ).
    out2 = tiny.parent / "out_mcmc_again"
    assert main(["run", str(spec), "--out", str(out2), "--no-progress"]) == 0
    again = json.loads((out2 / "summary.json").read_text("utf-8"))
    assert without_seconds(again) == without_seconds(summary)
    assert "report:" in capsys.readouterr().out


@pytest.mark.slow
def test_mcmc_run_with_arm_and_covariate_models(tiny):
    spec = write_spec(tiny, "tiny_mcmc_all", MCMC_ALL)
    out = tiny.parent / "out_mcmc_all"
    main(["run", str(spec), "--out", str(out), "--no-progress"])
    # 2 cells x 2 priors (re) + 1 cell x 2 priors (arm) + 1 covariate model (first prior)
    summary, p = check_mcmc_report(out, 7)
    assert {(f["model"], tuple(f["covariates"])) for f in summary["fits"]} == {
        ("re", ()),
        ("arm", ()),
        ("re", ("log10(dose_million)",)),
    }
    assert "metareg_vas_m12_re_weakly_informative_cov-log10_dose_million-4892a6bb.png" in {Path(s).name for s in p.imgs}
    assert len(pd.read_csv(out / "tables" / "slopes.csv")) == 1


def test_exact_run_numbers(tiny, monkeypatch, capsys):
    spec = write_spec(tiny, "tiny_exact", EXACT)
    out = tiny.parent / "out_exact"
    monkeypatch.setenv("BAYES_MSC_PROFILE", "1")
    assert main(["run", str(spec), "--out", str(out), "--no-progress", "--strict"]) == 0
    err = capsys.readouterr().err
    assert "bayes-msc run profile:" in err and "validate" in err
    text = (out / "summary.json").read_text("utf-8")
    summary = json.loads(text)
    assert "profile" not in text and str(tiny.parent) not in text  # no timings or paths
    # Every fit, exact ones too, has its posterior file (independent draws of the exact posterior).
    assert all(f["engine"] == "exact" and f["verdict"] == "pass" for f in summary["fits"])
    assert all((out / f["posterior"]).is_file() for f in summary["fits"])
    assert sorted(p.name for p in (out / "posteriors").iterdir()) == sorted(
        Path(f["posterior"]).name for f in summary["fits"]
    )
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(out.stat().st_mode) == 0o777 & ~umask  # not mkdtemp's private 0700
    # The run hands the effect table to the pooling unchanged: the pooled result in
    # summary.json is rma() of the rows in tables/effects.csv under the paper's rule.
    effects = pd.read_csv(out / "tables" / "effects.csv")
    for cell in summary["cells"]:
        rows = effects[(effects["outcome"] == cell["outcome"]) & (effects["month"] == cell["month"])]
        ref = rma(rows["yi"].to_numpy(), rows["vi"].to_numpy(), method="paper")
        got = cell["frequentist"]
        assert got["method"] == ref.method and got["k"] == len(rows) == cell["k"]
        assert got["estimate"] == pytest.approx(ref.estimate, rel=1e-12)
        assert got["ci_low"] == pytest.approx(ref.ci_low, rel=1e-12)
    assert np.isfinite([f["mu_mean"] for f in summary["fits"]]).all()
    html = (out / "index.html").read_text("utf-8")
    assert "All 7 Bayesian fits are exact (quadrature) posteriors" in html and 'class="fail"' not in html
    check_links(out)


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def leftovers(out: Path) -> list[str]:
    return [p.name for p in out.parent.iterdir() if p.name.startswith(f".{out.name}.")]


@pytest.fixture()
def previous(tiny, tmp_path) -> tuple[Path, Path, dict[str, bytes]]:
    """A frequentist-only spec and a finished report of it."""
    spec = write_spec(tiny, "tiny_freq")
    out = tmp_path / "report"
    assert main(["run", str(spec), "--out", str(out), "--no-progress"]) == 0
    return spec, out, snapshot(out)


def test_a_failing_run_leaves_the_previous_report_intact(previous, monkeypatch):
    spec, out, before = previous

    def broken(res, folder, timer):
        (folder / "index.html").write_text("half a report", encoding="utf-8")
        raise RuntimeError("disk full")

    monkeypatch.setattr(report_folder, "write_report", broken)
    with pytest.raises(RuntimeError, match="disk full"):
        main(["run", str(spec), "--out", str(out), "--no-progress"])
    assert snapshot(out) == before and leftovers(out) == []


def test_an_interrupted_run_leaves_the_previous_report_intact(previous, monkeypatch, capsys):
    spec, out, before = previous

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(review, "_frequentist", interrupted)
    assert main(["run", str(spec), "--out", str(out), "--no-progress"]) == 130
    assert snapshot(out) == before and leftovers(out) == []
    assert "interrupted" in capsys.readouterr().err


def test_a_bad_spec_writes_nothing(previous, tmp_path, capsys):
    spec, out, before = previous
    bad = tmp_path / "bad.toml"
    bad.write_text(
        spec.read_text("utf-8")
        .replace("[analysis]", '[analysis]\nmesure = "md"')
        .replace('path = "', f'path = "{spec.parent}/'),
        encoding="utf-8",
    )
    assert main(["run", str(bad), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert f"{bad}, key 'analysis.mesure': unknown key 'mesure' in [analysis]" in err
    assert snapshot(out) == before and leftovers(out) == []
    fresh = tmp_path / "never"
    assert main(["run", str(bad), "--out", str(fresh)]) == 2
    assert not fresh.exists()


@pytest.mark.parametrize(
    "body, fragment",
    [
        ('[bayes]\npriors = ["no_such_prior"]\n', "unknown prior set 'no_such_prior'"),
        ('[bayes]\npriors = ["vague"]\ncovariates = [["no_such_column"]]\n', "unknown covariate 'no_such_column'"),
        ('[bayes]\npriors = ["vague"]\ncovariates = [["sqrt(age_mean)"]]\n', "unknown transform 'sqrt'"),
        ('[bayes]\npriors = ["vague"]\nmcid = { pain = -1 }\n', "outcome 'pain' is not in dataset"),
    ],
)
def test_names_the_data_lack_are_input_errors(tiny, tmp_path, capsys, body, fragment):
    spec = write_spec(tiny, f"names_{abs(hash(body))}", body)
    out = tmp_path / "out"
    assert main(["run", str(spec), "--out", str(out), "--no-progress"]) == 2
    assert fragment in capsys.readouterr().err
    assert not out.exists()


def test_unknown_outcome_and_month(tiny, tmp_path, capsys):
    spec = write_spec(tiny, "bad_cells", extra="months = [6, 7]\n")
    spec.write_text(spec.read_text("utf-8").replace('["vas"]', '["vas", "womac"]'), encoding="utf-8")
    assert main(["run", str(spec), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "outcome 'womac' is not in dataset tiny_simulated; it has: vas" in err
    assert "no outcome of dataset tiny_simulated has month 7" in err


def test_refuses_to_replace_a_folder_it_did_not_write(tiny, tmp_path, capsys):
    spec = write_spec(tiny, "tiny_freq2")
    mine = tmp_path / "my_thesis"
    mine.mkdir()
    (mine / "chapter1.tex").write_text("precious", encoding="utf-8")
    assert main(["run", str(spec), "--out", str(mine)]) == 2
    assert "is not a bayes-msc report folder" in capsys.readouterr().err
    assert snapshot(mine) == {"chapter1.tex": b"precious"}


def test_refuses_to_replace_the_working_folder(tiny, tmp_path, monkeypatch, capsys):
    spec = write_spec(tiny, "tiny_freq3")
    monkeypatch.chdir(tmp_path)
    assert main(["run", str(spec), "--out", "."]) == 2
    assert "is the working folder or contains it" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_a_new_report_replaces_the_old_one_whole(previous):
    spec, out, before = previous
    (out / "stale.txt").write_text("from an older run", encoding="utf-8")
    assert main(["run", str(spec), "--out", str(out), "--no-progress"]) == 0
    assert not (out / "stale.txt").exists() and snapshot(out) == before
    assert leftovers(out) == []


def test_what_the_data_do_not_allow_is_in_the_report(tmp_path):
    """The bundled real data: declared-missing cells, contrasts without a month and k = 2
    cells are each listed with their reason; no SIMULATED banner on real data."""
    spec = tmp_path / "real.toml"
    spec.write_text(f'[dataset]\npath = "{SIMULATED.parent / "msc_knee_oa"}"\n', encoding="utf-8")
    out = tmp_path / "real"
    assert main(["run", str(spec), "--out", str(out), "--no-progress"]) == 0
    skipped = pd.read_csv(out / "tables" / "skipped.csv")
    whats = set(skipped["what"])
    assert {"all analyses", "leave-one-out"} <= whats
    assert skipped["reason"].str.startswith("no data: declared missing for").any()
    page = (out / "index.html").read_text("utf-8")
    assert "What the data do not allow" in page
    for reason in skipped["reason"]:
        assert html.escape(reason, quote=True) in page
    p = check_links(out)
    # No [bayes]: a frequentist-only report, with the reproduction table.
    assert p.sections == ["data", "frequentist", "reproduction"]
    assert p.banners == 0 and "SIMULATED" not in page
    assert json.loads((out / "summary.json").read_text("utf-8"))["simulated"] is False
