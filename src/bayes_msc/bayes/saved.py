"""Posterior files: a fit's DataTree written to netCDF, and read back as the same result.

:func:`save_datatree` writes a user's file (checked and locked:
:mod:`bayes_msc.bayes.savefile`), :func:`write_netcdf` a file inside a claimed report
folder, both atomically, with the netCDF4 library when it is installed (several times faster
than h5netcdf for these many small variables) and h5netcdf otherwise, compressed: every
variable with zlib (level 1, byte shuffle; higher levels gain 2% for 15% more time). The
MCMC engine's draws (``posterior``) are its result and stay float64, so ArviZ recomputes
the printed summaries from the file exactly; the exact engine's draws (whose summaries are
the quadrature's, never recomputed from them) are float32, 7 significant digits, far below
their Monte Carlo error. The derived groups (``log_likelihood``, ``log_prior``, ``prior``,
``posterior_predictive``) are float32 rounded to :data:`DERIVED_DIGITS` significant digits,
which compresses them better; ``sample_stats``, ``observed_data`` and ``constant_data`` are
stored as they are. An exact fit of 12 comparisons with 4 x 1000 draws takes about 0.55 MB.
:func:`save_results` writes the files of many results, in parallel worker processes where
that is safe.

The file carries the fit's JSON (``attrs["result"]``, :meth:`BayesResult.to_dict`), its
resolved prior set and its options, so :func:`load_result` gives back a
:class:`~bayes_msc.results.bayes.BayesResult` whose summaries are those printed when the fit
was made, number for number, with the draws as its ``idata``. Any ArviZ reads the file
(``arviz.from_netcdf``).
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bayes_msc.errors import InputError, Problem

if TYPE_CHECKING:
    import xarray as xr

    from bayes_msc.results.bayes import BayesResult

DERIVED_GROUPS = ("log_likelihood", "log_prior", "prior", "posterior_predictive")
"""Groups stored as float32 rounded to :data:`DERIVED_DIGITS` (see the module docstring)."""

EXACT_FLOAT32_GROUPS = ("posterior", *DERIVED_GROUPS)
"""Groups of an exact-engine tree whose floating-point variables are stored as float32."""

DERIVED_DIGITS = 5
"""Significant digits kept of the derived groups (netCDF4's quantisation; with h5netcdf,
which cannot quantise, they are plain float32)."""

COMPRESSION = {"zlib": True, "complevel": 1, "shuffle": True}


def netcdf_engine() -> str:
    """``"netcdf4"`` when the netCDF4 library is installed, else ``"h5netcdf"``."""
    import importlib.util

    return "netcdf4" if importlib.util.find_spec("netCDF4") is not None else "h5netcdf"


def encoding(tree: xr.DataTree, engine: str = "netcdf4") -> dict[str, dict[str, dict[str, Any]]]:
    """The netCDF encoding of every numeric variable of ``tree`` (see the module docstring)."""
    out: dict[str, dict[str, dict[str, Any]]] = {}
    options = tree.attrs.get("options") if hasattr(tree, "attrs") else None
    exact = isinstance(options, str) and json.loads(options).get("engine") == "exact"
    single = EXACT_FLOAT32_GROUPS if exact else DERIVED_GROUPS
    for node in tree.subtree:
        ds = node.to_dataset(inherit=False)
        group: dict[str, dict[str, Any]] = {}
        for name, var in ds.variables.items():
            if var.dtype.kind not in "fiu" or var.ndim == 0:
                continue
            enc: dict[str, Any] = dict(COMPRESSION)
            if var.dtype.kind == "f" and node.name in single and name not in ds.coords:
                enc["dtype"] = "float32"
                if engine == "netcdf4" and node.name in DERIVED_GROUPS:
                    enc["significant_digits"] = DERIVED_DIGITS
            group[str(name)] = enc
        if group:
            out[node.path] = group
    return out


def write_netcdf(tree: xr.DataTree, path: str | os.PathLike) -> Path:
    """Write ``tree`` to the netCDF file ``path`` (see the module docstring), marked as this
    package's (:data:`bayes_msc.bayes.savefile.MARK`), atomically: a temporary file in the
    target folder, renamed. For files inside a folder that is already claimed (a report
    being built); a user's target goes through :func:`save_datatree`."""
    from bayes_msc.bayes.savefile import MARK

    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        marked = tree.copy()
        marked.attrs["created_by"] = MARK
        engine = netcdf_engine()
        marked.to_netcdf(
            tmp, engine="netcdf4" if engine == "netcdf4" else "h5netcdf", encoding=encoding(marked, engine)
        )
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp's file is private; give it the usual mode
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def netcdf_bytes(tree: xr.DataTree) -> bytes:
    """``tree`` as the bytes of the file :func:`write_netcdf` writes."""
    with tempfile.TemporaryDirectory(prefix="bayes-msc-") as folder:
        return write_netcdf(tree, Path(folder) / "posterior.nc").read_bytes()


def save_datatree(tree: xr.DataTree, path: str | os.PathLike, *, force: bool = False) -> Path:
    """Write ``tree`` to the netCDF file ``path``: checked first
    (:func:`bayes_msc.bayes.savefile.check_save`), then encoded in a private temporary
    folder and written complete or not at all under the target's lock (:class:`bayes_msc.guard.claims.Claim`: a full disk or an interrupt
    leaves an earlier file unchanged).

    Raises
    ------
    InputError
        As :func:`~bayes_msc.bayes.savefile.check_save`; another process is writing the
        same file; or the write failed because of the location.
    """
    from bayes_msc.bayes.savefile import check_save
    from bayes_msc.guard.claims import claim

    target = check_save(path, force=force)
    data = netcdf_bytes(tree)
    with claim(target, argument="save", folder=False, what="posterior file") as held:
        held.write_bytes(data)
    return target


def load_result(path: str | os.PathLike) -> BayesResult:
    """The :class:`~bayes_msc.results.bayes.BayesResult` saved in a posterior file (``fit(...,
    save=)``, ``bayes-msc fit --save``, a report's ``posteriors/<fit>.nc``).

    Its summaries (parameters, probabilities, verdict, study effects, notes) are those of
    the fit as it was printed, number for number; ``idata`` holds the file's draws (every
    group, loaded into memory: the file is closed); ``prior_set`` the resolved prior set.
    The exact engine's marginal densities are not stored (``densities`` is None: figures
    use the draws).

    Raises
    ------
    InputError
        The file is missing, not netCDF, or not a posterior file written by bayes-msc.
    """
    import xarray as xr

    from bayes_msc.priors import PriorSet
    from bayes_msc.results.bayes import BayesResult

    path = Path(path)
    if not path.is_file():
        raise InputError(Problem("posterior file not found", file=str(path)))
    try:
        with xr.open_datatree(path) as opened:
            tree = opened.load()
    except (OSError, ValueError) as exc:
        raise InputError(Problem(f"not a netCDF posterior file: {exc}", file=str(path))) from exc
    text = tree.attrs.get("result")
    if not isinstance(text, str):
        raise InputError(
            Problem("not a posterior file written by bayes-msc (it has no 'result' attribute)", file=str(path))
        )
    d = json.loads(text)
    prior_set = None
    if isinstance(tree.attrs.get("prior_set"), str):
        spec = json.loads(tree.attrs["prior_set"])
        name, osd = spec.pop("name", d.get("prior", "prior")), spec.pop("outcome_sd", None)
        prior_set = PriorSet.from_dict(name, spec)
        if osd is not None:
            from dataclasses import replace

            prior_set = replace(prior_set, outcome_sd=float(osd))
    return BayesResult.from_dict(d, idata=tree, prior_set=prior_set)


# The results of the running save_results, read by forked workers (inherited, not pickled).
_PENDING: list[tuple[Any, Path]] = []


def _save_one(i: int) -> None:
    result, path = _PENDING[i]
    write_netcdf(result.idata, path)


def save_results(items: list[tuple[BayesResult, Path]]) -> None:
    """Write each ``(result, path)``'s draws with :func:`write_netcdf` (into a folder
    already claimed): in forked worker
    processes (one per CPU this process may use) when there are several files and forking
    is safe (no nutpie sampler has run in this process:
    :func:`bayes_msc.bayes.mcmc.sampler.samplers_started`), else one after another.
    Writing a file is mostly per-variable work in the netCDF library, and the exact
    engine's trees are made when first read, so the workers also make them, in parallel."""
    import multiprocessing

    from bayes_msc.bayes.mcmc.sampler import samplers_started
    from bayes_msc.guard.workers import worker_signals

    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cpus = os.cpu_count() or 1
    n = min(cpus, len(items))
    if n < 2 or samplers_started() or "fork" not in multiprocessing.get_all_start_methods():
        for result, path in items:
            write_netcdf(result.idata, path)
        return
    _PENDING[:] = items
    try:
        with multiprocessing.get_context("fork").Pool(n, initializer=worker_signals) as pool:
            pool.map(_save_one, range(len(items)), chunksize=4)
    finally:
        _PENDING.clear()
