"""Equivalence check of the dataset reader: problem lists (and frames) before and after a change.

Usage (from the repository root; writes only OUT)::

    .venv/bin/python benchmarks/reader_equivalence.py dump OUT.jsonl [--mutations 3000] [--seed 11]
    .venv/bin/python benchmarks/reader_equivalence.py compare OLD.jsonl NEW.jsonl

``dump`` reads, with the installed ``bayes_msc.data.reader.read_dataset``, every dataset
folder of the test corpora and ``--mutations`` seeded random mutations of the bundled
datasets, and writes one JSON line per folder: its id and either the problem list
(file, row, column, message, in the order reported), a digest of the frames of the
valid ``Dataset`` (columns, dtypes, values and ``simulated``, frame by frame), or the
exception that escaped (a crash). Run it once on the old reader and once on the new one;
``compare`` prints the number of folders compared and every difference (exit 1 if any).

The folders:

- ``bad_inputs/*``: ``tests/bad_inputs/simulated_cases.py`` (the reader's unit corpus);
- ``good_inputs/*``: its odd-but-valid variants (``tests/good_inputs/simulated_cases.py``);
- ``corpus/*``, ``corpus_odd/*``: the command-line corpus (``tests/corpus/simulated_cases.py``),
  each case's edits applied to a copy of ``tests/corpus/simulated_base`` (spec and prior
  files edited too; only the dataset folder is read);
- ``plain/*``: the bundled datasets and the corpus folders as they are;
- ``mutation/N``: mutation N of one of the bundled datasets (``data/msc_knee_oa``,
  ``data/msc_knee_oa_simulated``) or of the small test bases; one to three edits each,
  drawn with ``random.Random(f"{seed}-{N}")`` so that mutation N is the same whatever
  the other folders are: a cell set to another value (numbers in every spelling, empty,
  text, quotes, commas, values of other cells), lines deleted, duplicated, swapped or
  blanked, header names misspelt, duplicated, reserved or removed, columns dropped or
  added, stray quotes and commas, other separators, truncation, BOM, CRLF, CR-only line
  ends, Latin-1, UTF-16, NUL bytes, a workbook signature, a file removed or replaced by
  a folder. Only the CSV files of a source are copied.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import importlib.util
import io
import json
import random
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TESTS = ROOT / "tests"
CSV_NAMES = ("arms.csv", "outcomes.csv", "contrasts.csv", "studies.csv", "published_pooled.csv")

Builder = Callable[[Path], Path]
"""Writes a case under the given empty folder; returns the dataset folder to read."""


def _module(path: Path, name: str):
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module  # dataclasses look their module up here
        spec.loader.exec_module(module)
    return sys.modules[name]


# ------------------------------------------------------------------------ the corpora


def _unit_corpus() -> Iterator[tuple[str, Builder]]:
    bad = _module(TESTS / "bad_inputs" / "simulated_cases.py", "bad_inputs_simulated_cases")
    good = _module(TESTS / "good_inputs" / "simulated_cases.py", "good_inputs_simulated_cases")
    for case in bad.CASES:
        yield f"bad_inputs/{case.name}", lambda root, c=case: bad.write(root / "ds", c.build())
    yield "bad_inputs/(base)", lambda root: bad.write(root / "ds", dict(bad.BASE))
    for name, fn in good.SAME_AS_BASE.items():
        yield f"good_inputs/{name}", lambda root, f=fn: bad.write(root / "ds", f(dict(bad.BASE)))


def _cli_corpus() -> Iterator[tuple[str, Builder]]:
    corpus = _module(TESTS / "corpus" / "simulated_cases.py", "corpus_simulated_cases")
    base = TESTS / "corpus"

    def build(edits) -> Builder:
        def run(root: Path) -> Path:
            shutil.copytree(base / "simulated_base", root / "simulated_data")
            shutil.copy(base / "simulated_spec.toml", root / corpus.SPEC)
            shutil.copy(base / "simulated_priors.toml", root / corpus.PRIORS)
            for edit in edits:
                edit(root)
            return root / "simulated_data"

        return run

    for case in corpus.CASES:
        yield f"corpus/{case.id}", build(case.edits)
    for name, edits in corpus.ODD.items():
        yield f"corpus_odd/{name}", build(edits)


def _copy_csv(source: Path, folder: Path) -> Path:
    folder.mkdir(parents=True)
    for name in CSV_NAMES:
        if (source / name).exists():
            shutil.copyfile(source / name, folder / name)
    return folder


PLAIN = {
    "msc_knee_oa": ROOT / "data" / "msc_knee_oa",
    "msc_knee_oa_simulated": ROOT / "data" / "msc_knee_oa_simulated",
    "simulated_base": TESTS / "corpus" / "simulated_base",
    "simulated_hard": TESTS / "corpus" / "simulated_hard",
    "simulated_multiarm": TESTS / "corpus" / "simulated_multiarm",
}


def _plain() -> Iterator[tuple[str, Builder]]:
    for name, source in PLAIN.items():
        yield f"plain/{name}", lambda root, s=source, n=name: _copy_csv(s, root / n)


# ------------------------------------------------------------------------ mutations


VALUES = [
    "",
    " ",
    "  ",
    "0",
    "1",
    "2",
    "-1",
    "0.5",
    "-0.5",
    ".5",
    "5.",
    "+5",
    "12",
    "100",
    "101",
    "1e3",
    "1E-3",
    "1e999",
    "-1e999",
    "NaN",
    "nan",
    "inf",
    "-inf",
    "Infinity",
    "NA",
    "NR",
    "-",
    "n/a",
    "abc",
    "six",
    "1_000",
    "1,000",
    '"1,5"',
    "\u0663",
    "\u00bd",
    "12 ",
    " 12",
    "\t3",
    "3\t",
    "TRUE",
    "treatment",
    "control",
    "Treatment",
    "placebo",
    "final",
    "change",
    "delta",
    '"',
    '""',
    '"x"y',
    'x"y',
    '"unclosed',
    '"a\nb"',
    '"with, comma"',
    "0x10",
    "1/2",
    "--1",
    "1.2.3",
    "\u00a05",
    "5\u00a0",
    "\ufeff1",
    "é",
    "S1",
    "_",
]


def _records(text: str) -> list[list[str]] | None:
    try:
        return list(csv.reader(io.StringIO(text, newline=""), strict=True))
    except csv.Error:
        return None


def _write(records: list[list[str]]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(records)
    return out.getvalue()


def _number_edit(value: str, rng: random.Random) -> str:
    """A plausible wrong number near ``value`` (sign, zero, scale, shift, swap of digits)."""
    try:
        x = float(value)
    except ValueError:
        return rng.choice(VALUES)
    y = rng.choice([-x, 0.0, x * 10, x / 10, x + 0.5, x - 1, x + 100, round(x), x * -0.5])
    return rng.choice([format(y, "g"), repr(y), str(int(y)) if y == int(y) else format(y, ".3f")])


RECORD_EDITS = [
    "cell",
    "cell",
    "cell_number",
    "cell_number",
    "cell_number",
    "cell_column",
    "cell_other",
    "del_row",
    "dup_row",
    "dup_row",
    "swap_rows",
    "blank_row",
    "header_name",
    "header_name",
    "drop_column",
    "add_column",
    "swap_columns",
    "move_value",
]
TEXT_EDITS = [
    "raw_cell",
    "stray_quote",
    "del_char",
    "add_comma",
    "separator",
    "truncate",
    "empty",
    "header_only",
    "bom",
    "crlf",
    "cr_only",
    "latin1",
    "utf16",
    "nul",
    "workbook",
    "remove",
    "whitespace_cells",
    "quote_all",
    "no_final_newline",
    "trailing_junk",
    "blank_lines",
]


def _edit_records(records: list[list[str]], kind: str, rng: random.Random, others: list[str]) -> None:
    """One edit of the parsed records, in place (the header is records[0])."""
    data = list(range(1, len(records)))
    header = records[0] if records else []
    if kind.startswith("cell") and data:
        i = rng.choice(data)
        j = rng.randrange(len(records[i])) if records[i] else None
        if j is None:
            return
        value = records[i][j]
        if kind == "cell":
            records[i][j] = rng.choice(VALUES)
        elif kind == "cell_number":
            records[i][j] = _number_edit(value, rng)
        elif kind == "cell_column":  # the value of another row in the same column
            column = [r[j] for r in records[1:] if len(r) > j]
            records[i][j] = rng.choice(column)
        else:
            records[i][j] = rng.choice(others)
    elif kind == "move_value" and data:  # two cells of one row swapped
        i = rng.choice(data)
        if len(records[i]) > 1:
            a, b = rng.sample(range(len(records[i])), 2)
            records[i][a], records[i][b] = records[i][b], records[i][a]
    elif kind == "del_row" and data:
        del records[rng.choice(data)]
    elif kind == "dup_row" and data:
        row = list(records[rng.choice(data)])
        if rng.random() < 0.5 and row:  # a near duplicate: one cell changed
            j = rng.randrange(len(row))
            row[j] = _number_edit(row[j], rng)
        records.insert(rng.randrange(1, len(records) + 1), row)
    elif kind == "swap_rows" and len(data) > 1:
        i, j = rng.sample(data, 2)
        records[i], records[j] = records[j], records[i]
    elif kind == "blank_row":
        records.insert(rng.randrange(0, len(records) + 1), rng.choice([[], [""] * len(header), [" "], ["", " "]]))
    elif kind == "header_name" and header:
        j = rng.randrange(len(header))
        name = header[j]
        header[j] = rng.choice(
            [
                name[:-1],
                name.upper(),
                name.capitalize(),
                name + " ",
                name.replace("_", " "),
                name + "x",
                "_" + name,
                "",
                rng.choice(header),
                rng.choice(["female_pct", "kl_grade_mean", "stat_group", "_row", "mean", "n", "study", "month"]),
            ]
        )
    elif kind == "drop_column" and header:
        j = rng.randrange(len(header))
        for r in records:
            if len(r) > j:
                del r[j]
    elif kind == "add_column":
        name = rng.choice(["note", "bmi", "", "weight kg", "Mean", "female", "kl1", "sd", "se", "age_mean"])
        fill = rng.choice(["", "1", "x", "2.5", "mixed", "-3"])
        header.append(name)
        for k, r in enumerate(records[1:]):
            if r:
                r.append((str(k) if k % 3 else "text") if fill == "mixed" else fill)
    elif kind == "swap_columns" and len(header) > 1:
        a, b = rng.sample(range(len(header)), 2)
        for r in records:
            if len(r) > max(a, b):
                r[a], r[b] = r[b], r[a]


def _edit_text(text: str, kind: str, rng: random.Random) -> str | bytes | None:
    """One edit of the raw text; None removes the file."""
    pos = rng.randrange(len(text) + 1)
    lines = text.split("\n")
    if kind == "raw_cell":  # a cell replaced in the text as it is (quotes and commas unescaped)
        rows = [i for i, line in enumerate(lines) if i and line]
        if rows:
            i = rng.choice(rows)
            cells = lines[i].split(",")
            cells[rng.randrange(len(cells))] = rng.choice(VALUES)
            lines[i] = ",".join(cells)
        return "\n".join(lines)
    if kind == "stray_quote":
        return text[:pos] + '"' + text[pos:]
    if kind == "del_char":
        return text[:pos] + text[pos + 1 :]
    if kind == "add_comma":
        return text[:pos] + "," + text[pos:]
    if kind == "separator":
        return text.replace(",", rng.choice([";", "\t", "|"]))
    if kind == "truncate":
        return text[:pos]
    if kind == "empty":
        return rng.choice(["", "\n", " \n\n"])
    if kind == "header_only":
        return lines[0] + "\n"
    if kind == "bom":
        return b"\xef\xbb\xbf" + text.encode()
    if kind == "crlf":
        return text.replace("\n", "\r\n")
    if kind == "cr_only":
        return text.replace("\n", "\r")
    if kind == "latin1":
        return (text[:pos] + "\u00e9" + text[pos:]).encode("latin-1", errors="replace")
    if kind == "utf16":
        return text.encode(rng.choice(["utf-16", "utf-16-le"]))
    if kind == "nul":
        return (text[:pos] + "\x00" + text[pos:]).encode()
    if kind == "workbook":
        return rng.choice([b"PK\x03\x04", b"\xd0\xcf\x11\xe0"]) + text.encode()
    if kind == "remove":
        return None
    if kind == "whitespace_cells":
        return "\n".join(",".join(f" {c}\t" for c in line.split(",")) if line else line for line in lines)
    if kind == "quote_all":
        return "\n".join(",".join(f'"{c}"' for c in line.split(",")) if line else line for line in lines)
    if kind == "no_final_newline":
        return text.rstrip("\n")
    if kind == "trailing_junk":
        return text + rng.choice(["\n\n", ",,,\n", "x\n", " \n", "\r\n", "\n\n\n,\n"])
    if kind == "blank_lines":
        i = rng.randrange(len(lines) + 1)
        return "\n".join(lines[:i] + [""] * rng.randint(1, 3) + lines[i:])
    raise ValueError(kind)


def _mutate(text: str, rng: random.Random, others: list[str]) -> str | bytes | None:
    """One random edit of a CSV file: of its records (re-written as CSV) three times in four,
    else of its raw text."""
    records = _records(text) if rng.random() < 0.75 else None
    if records:
        _edit_records(records, rng.choice(RECORD_EDITS), rng, others)
        return _write(records)
    return _edit_text(text, rng.choice(TEXT_EDITS), rng)


def _mutation_sources() -> list[dict[str, str]]:
    bad = _module(TESTS / "bad_inputs" / "simulated_cases.py", "bad_inputs_simulated_cases")
    sources = []
    for folder in (PLAIN["msc_knee_oa"], PLAIN["msc_knee_oa_simulated"], PLAIN["simulated_base"]):
        sources.append(
            {n: (folder / n).read_text(encoding="utf-8") for n in CSV_NAMES if (folder / n).exists()}
            | {"": folder.name}
        )
    sources.append(dict(bad.BASE) | {"": "base"})
    return sources


def _mutations(count: int, seed: int) -> Iterator[tuple[str, Builder]]:
    sources = _mutation_sources()
    # The bundled datasets most often; the small bases reach contrasts and published rules cheaply.
    weights = [3, 3, 1, 1]
    for n in range(count):
        rng = random.Random(f"{seed}-{n}")
        source = rng.choices(sources, weights)[0]
        files: dict[str, str | bytes | None] = {k: v for k, v in source.items() if k}
        cells = sorted({c for t in files.values() if isinstance(t, str) for r in _records(t) or [] for c in r})
        for _ in range(rng.choice([1, 1, 1, 2, 2, 3])):
            name = rng.choice(sorted(files))
            text = files[name]
            if isinstance(text, str):
                files[name] = _mutate(text, rng, cells)
        as_folder = rng.random() < 0.005
        if as_folder:
            files[rng.choice(sorted(files))] = "<folder>"

        def build(root: Path, files=files, name=source[""]) -> Path:
            folder = root / name
            folder.mkdir(parents=True)
            for file, content in files.items():
                if content is None:
                    continue
                if content == "<folder>":
                    (folder / file).mkdir()
                else:
                    data = content if isinstance(content, bytes) else content.encode("utf-8")
                    (folder / file).write_bytes(data)
            return folder

        yield f"mutation/{n}", build


# ------------------------------------------------------------------------ reading


def _digest(frame) -> dict[str, str] | None:
    if frame is None:
        return None
    h = hashlib.sha256()
    h.update(repr(list(frame.columns)).encode())
    h.update(repr([str(t) for t in frame.dtypes]).encode())
    h.update(repr(list(frame.index)).encode())
    for col in frame.columns:
        h.update(repr(frame[col].tolist()).encode())
    return {"rows": str(len(frame)), "sha256": h.hexdigest()[:16]}


def read(folder: Path) -> dict:
    """What the installed reader makes of ``folder``."""
    from bayes_msc.data.reader import read_dataset
    from bayes_msc.errors import InputError

    try:
        ds = read_dataset(folder)
    except InputError as err:
        return {"problems": [[p.file, p.row, p.column, p.message] for p in err.problems]}
    except Exception as err:  # a crash is a result to compare too
        return {"crash": f"{type(err).__name__}: {err}"}
    frames = {f: _digest(getattr(ds, f)) for f in ("arms", "outcomes", "studies", "contrasts", "published")}
    return {"dataset": frames, "simulated": bool(ds.simulated)}


def dump(out: Path, mutations: int, seed: int) -> None:
    sources = [*_unit_corpus(), *_cli_corpus(), *_plain(), *_mutations(mutations, seed)]
    kinds: dict[str, int] = {}
    with tempfile.TemporaryDirectory(prefix="reader_equivalence_") as tmp, out.open("w", encoding="utf-8") as f:
        for k, (case_id, build) in enumerate(sources):
            root = Path(tmp) / str(k)
            root.mkdir()
            result = read(build(root))
            shutil.rmtree(root)
            kind = next(iter(result))
            kinds[kind] = kinds.get(kind, 0) + 1
            f.write(json.dumps({"id": case_id, **result}, ensure_ascii=False) + "\n")
    print(f"{len(sources)} folders -> {out}: " + ", ".join(f"{v} {k}" for k, v in sorted(kinds.items())))


def compare(old: Path, new: Path) -> int:
    def load(path: Path) -> dict[str, dict]:
        rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
        return {r.pop("id"): r for r in rows}

    a, b = load(old), load(new)
    both = [k for k in a if k in b]
    differ = [k for k in both if a[k] != b[k]]
    only = sorted(set(a) ^ set(b))
    for k in differ:
        print(
            f"DIFFERENT {k}\n  old: {json.dumps(a[k], ensure_ascii=False)}\n  new: {json.dumps(b[k], ensure_ascii=False)}"
        )
    if only:
        print(f"in one dump only (not compared): {', '.join(only)}")
    print(f"{len(both)} folders compared: {len(both) - len(differ)} identical, {len(differ)} different")
    return 1 if differ else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="verb", required=True)
    d = sub.add_parser("dump")
    d.add_argument("out", type=Path)
    d.add_argument("--mutations", type=int, default=3000)
    d.add_argument("--seed", type=int, default=11)
    c = sub.add_parser("compare")
    c.add_argument("old", type=Path)
    c.add_argument("new", type=Path)
    args = parser.parse_args()
    if args.verb == "dump":
        dump(args.out, args.mutations, args.seed)
        return 0
    return compare(args.old, args.new)


if __name__ == "__main__":
    sys.exit(main())
