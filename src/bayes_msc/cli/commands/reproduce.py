"""``bayes-msc reproduce DATA``: the publication's pooled results beside this package's.

Reads the dataset, runs :func:`bayes_msc.studies.qu_sun_2021.reproduce.reproduce` (every row of
``published_pooled.csv``, plus the paper's Table 2 meta-regression design) and prints a
table with one line per published result and a numbered list of reasons, or the JSON
(:meth:`~bayes_msc.studies.qu_sun_2021.results.Reproduction.to_dict`).
"""

from __future__ import annotations

import argparse
import math
import textwrap
from typing import TYPE_CHECKING, Any

WIDTH = 100

if TYPE_CHECKING:
    from bayes_msc.studies.qu_sun_2021.results import Reproduction, Table2


def _num(x: float | None) -> str:
    return "-" if x is None or not math.isfinite(float(x)) else f"{float(x):.2f}"


def _ci(est: float | None, lo: float | None, hi: float | None) -> str:
    if est is None or not math.isfinite(float(est)):
        return "-"
    return f"{_num(est)} [{_num(lo)}, {_num(hi)}]"


def _wrap(text: str, first: str, indent: int) -> list[str]:
    return textwrap.wrap(text, WIDTH, initial_indent=first, subsequent_indent=" " * indent, break_on_hyphens=False) or [
        first
    ]


def _heading(rep: Reproduction) -> list[str]:
    lines = [f"*** SIMULATED DATA (dataset {rep.dataset}) ***", ""] if rep.simulated else []
    counts = ", ".join(f"{s} {n}" for s, n in rep.counts().items())
    arms = (
        "split among its comparisons (Cochrane Handbook 23.3.4)"
        if rep.multiarm == "split"
        else "kept whole, the comparisons' covariance modelled"
    )
    who = (
        "only the trials the paper pooled for each row"
        if rep.trials == "published"
        else "every trial with data (those the paper did not pool are named)"
    )
    lines += [
        (
            f"Reproduction of the published pooled results ({rep.published_from}; dataset {rep.dataset}): "
            f"{len(rep.rows)} rows: {counts}"
        )
    ]
    lines += _wrap(
        f"Computed: measure {rep.measure.upper()}; a shared arm {arms}; "
        f"{'rescaled to 0-100 where scales are given' if rep.rescale else 'native scales'}; {who}; "
        "pooled with the paper's rule: random effects (DerSimonian-Laird) if I2 > 50% or P_Q < 0.1, "
        "otherwise fixed effect. 'Paper multi-arm': each shared control counted whole in every "
        "comparison, the comparisons treated as independent (the paper's handling).",
        "",
        0,
    )
    lines += _wrap(
        f"Rule: {rep.rule}; 'partial': trials the paper pooled lack data here; 'cannot compute': none has data.", "", 0
    )
    return lines + [""]


def _rows(rep: Reproduction) -> list[str]:
    from bayes_msc.results.text import grid
    from bayes_msc.studies.qu_sun_2021.results import p_text

    header = [
        "#",
        "outcome",
        "month",
        "published [95% CI]",
        "P",
        "k",
        "model",
        "computed [95% CI]",
        "P",
        "paper multi-arm [95% CI]",
        "status",
    ]
    body = []
    for i, r in enumerate(rep.rows, 1):
        c, pm = r.computed, r.paper_multiarm
        body.append(
            [
                str(i),
                r.outcome,
                f"{r.month:g}",
                _ci(r.published_estimate, r.published_ci_low, r.published_ci_high),
                r.published_p_text,
                "0" if c is None else str(c.k),
                "-" if c is None else c.method.upper(),
                "-" if c is None else _ci(c.estimate, c.ci_low, c.ci_high),
                "-" if c is None else p_text(c.p),
                "-" if pm is None else _ci(pm.estimate, pm.ci_low, pm.ci_high),
                r.status,
            ]
        )
    lines = grid(header, body, left=2)
    lines += ["", "Reasons:"]
    for i, r in enumerate(rep.rows, 1):
        lines += _wrap(f"{r.term} ({r.status}): {r.reason}", f"{i:>3}. ", 5)
        c = r.computed
        if c is not None and c.why:
            lines += _wrap(f"model: {c.why}; trials pooled: {', '.join(c.studies)}", "     ", 5)
    return lines


def _table2(reg: Table2) -> list[str]:
    from bayes_msc.results.text import grid
    from bayes_msc.studies.qu_sun_2021.results import p_text

    how = f"{reg.method.upper()}{', Knapp-Hartung t tests' if reg.hksj else ', z tests'}"
    lines = ["", f"Meta-regression: the paper's Table 2 design on {reg.outcome} ({how}; slopes per unit)"]
    for note in reg.notes:
        lines += _wrap(note, "  - ", 4)
    for label, why in reg.unavailable:
        lines += _wrap(f"{label}: unavailable ({why})", "  - ", 4)
    if reg.published:
        lines += ["", "Published:"]
        lines += grid(
            ["covariate", "term", "coefficient", "95% CI", "t", "P"],
            [
                [
                    c.label,
                    c.term or "-",
                    f"{c.coefficient:.4f}",
                    f"[{c.ci_low:.4f}, {c.ci_high:.4f}]",
                    f"{c.t:.2f}" if math.isfinite(c.t) else "-",
                    f"{c.p:.3f}" if math.isfinite(c.p) else "-",
                ]
                for c in reg.published
            ],
        )
    pub = {c.term: c for c in reg.published if c.term}
    if reg.fits:
        lines += ["", "Computed:"]
        body = []
        for fit in reg.fits:
            r = fit.result
            for c in r.coefficients:
                p = pub.get(c.name)
                body.append(
                    [
                        f"{fit.month:g}",
                        fit.model,
                        str(r.k),
                        c.name,
                        _ci(c.estimate, c.ci_low, c.ci_high),
                        _num(c.z),
                        p_text(c.p),
                        _num(r.tau2),
                        "-" if p is None else _ci(p.coefficient, p.ci_low, p.ci_high),
                    ]
                )
        lines += grid(
            [
                "month",
                "model",
                "k",
                "term",
                "estimate [95% CI]",
                "t" if reg.hksj else "z",
                "P",
                "tau2",
                "published [95% CI]",
            ],
            body,
            left=4,
        )
        dropped = sorted({d for fit in reg.fits for d in fit.dropped})
        for d in dropped:
            lines += _wrap(d, "  - ", 4)
    if reg.skipped:
        lines += ["", "Not run:"]
        for month, model, why in reg.skipped:
            lines += _wrap(f"month {month:g}, {model}: {why}", "  - ", 4)
    return lines


def format_reproduction(rep: Reproduction) -> str:
    """The text ``bayes-msc reproduce`` prints (every row, every reason)."""
    lines = _heading(rep) + _rows(rep)
    if rep.metaregression is not None:
        lines += _table2(rep.metaregression)
    for note in rep.notes:
        lines += _wrap(note, "Note: ", 6)
    return "\n".join(lines) + "\n"


def run(args: argparse.Namespace) -> int:
    """Run ``bayes-msc reproduce``; print the table or JSON; return the exit status.

    Options beyond ``DATA`` and ``--format`` are read when the parser defines them
    (``--multiarm``, ``--no-rescale``, ``--trials``, ``--tolerance``, ``--published DIR``:
    the published results of another dataset folder, for a simulated copy of its design).
    """
    from bayes_msc.data.reader import read_dataset
    from bayes_msc.results.serialise import to_json
    from bayes_msc.studies.qu_sun_2021.reproduce import TOLERANCE, reproduce
    from bayes_msc.studies.qu_sun_2021.table2 import read_published_metareg

    ds = read_dataset(args.data)
    published = published_metareg = source = None
    if getattr(args, "published", None):
        other = read_dataset(args.published)
        published, published_metareg = other.published, read_published_metareg(other)
        source = f"published_pooled.csv of dataset {other.name}"
        if published is None:
            from bayes_msc.errors import InputError, Problem

            raise InputError(Problem(f"no published_pooled.csv in {args.published}", argument="published"))
    rep = reproduce(
        ds,
        multiarm=getattr(args, "multiarm", "split"),
        rescale=not getattr(args, "no_rescale", False),
        trials=getattr(args, "trials", "published"),
        tolerance=getattr(args, "tolerance", TOLERANCE),
        published=published,
        published_metareg=published_metareg,
        published_from=source,
    )
    if args.format == "json":
        print(to_json(rep.to_dict()), end="")
    else:
        print(format_reproduction(rep), end="")
    return 0


def add_parser(sub: Any) -> None:
    """Add ``bayes-msc reproduce`` and its options to the subcommands ``sub``."""
    p = sub.add_parser("reproduce", help="the publication's pooled results beside this package's")
    p.add_argument("data", metavar="DATA", help="dataset folder with published_pooled.csv")
    p.add_argument(
        "--multiarm",
        choices=["split", "shared"],
        default="split",
        help="shared arms in the computed pooling (the paper's double counting is always shown beside it)",
    )
    p.add_argument("--no-rescale", action="store_true", help="keep native scales")
    p.add_argument(
        "--trials",
        choices=["published", "all"],
        default="published",
        help="pool only the trials the paper pooled (default) or every trial with data",
    )
    p.add_argument(
        "--tolerance", type=float, default=0.05, help="agreement: fraction of the published CI width (default 0.05)"
    )
    p.add_argument(
        "--published",
        metavar="DIR",
        help="take published_pooled.csv / published_metareg.csv from another dataset folder",
    )
    p.add_argument("--format", choices=["table", "json"], default="table", help="output: table or json (default table)")
    p.set_defaults(run=run)
