"""Output paths checked before any work: outputs never destroy inputs or foreign files.

:func:`check_file_target` (``fit --save FILE``, ``fit(save=)``) and
:func:`check_folder_target` (``run --out DIR``, ``run_spec(out=)``, ``simulate --out``)
refuse, each with the reason and naming the argument (the command line shows its option):

- an empty path;
- an input of the same call (the same file, also through a link or a hard link; for a
  folder: one that holds an input, or the working folder);
- anything at the path that is not a regular file (files) or a folder (folders): a
  symbolic link, a named pipe, a device or a socket is never replaced; a folder that is a
  mount point cannot be swapped;
- an existing file or non-empty folder this package did not write (``owned(path)`` says
  which are its own); a file may still be replaced with ``force`` (never an input);
- a parent that is a file, a parent folder that is missing (files; a report's parent
  folders are created), not writable or on a read-only filesystem;
- a name too long for the filesystem (with the temporaries' suffix);
- a filesystem with less than :data:`MIN_FREE_BYTES` free.

What can only go wrong while writing (the disk fills up meanwhile) is reported by
:func:`bayes_msc.guard.claims.output_error`, with the previous output intact.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Callable, Iterable
from pathlib import Path

from bayes_msc.errors import InputError, Problem
from bayes_msc.guard.reading import kind_problem, path_problem

MIN_FREE_BYTES = 20_000_000
"""Free space an output's filesystem needs before any work starts (20 MB; a report with
its posterior files is a few MB at the default draws)."""

SUFFIX_ROOM = 32
"""Bytes of a name the temporaries and the lock add (``.NAME.tmp-PID-XXXXXXXX``)."""

PathLike = str | os.PathLike[str]


def _refuse(path: PathLike, argument: str, message: str) -> InputError:
    return InputError(Problem(f"'{os.fspath(path)}' {message}", argument=argument))


def _ancestor(folder: Path) -> tuple[Path, list[Path]]:
    """The nearest existing ancestor of ``folder`` (itself included) and the folders
    below it that do not exist yet."""
    missing: list[Path] = []
    here = folder
    while not os.path.lexists(here) and here != here.parent:
        missing.append(here)
        here = here.parent
    return here, missing


def parent_problem(folder: Path, *, create: bool, need: int = MIN_FREE_BYTES) -> str | None:
    """Why files cannot be written in ``folder`` (created first when ``create``)."""
    folder = folder if str(folder) else Path(".")
    top, missing = _ancestor(folder)
    problem = path_problem(top)
    if problem:
        return f"cannot be written: '{top}' {problem}"
    if not top.is_dir():
        return f"cannot be written: '{top}' is a file, not a folder"
    if missing and not create:
        return f"cannot be written: folder '{folder}' does not exist"
    if not os.access(top, os.W_OK | os.X_OK):
        try:
            read_only = bool(os.statvfs(top).f_flag & os.ST_RDONLY)
        except (OSError, AttributeError):  # (no statvfs: not POSIX)
            read_only = False
        why = "is on a read-only filesystem" if read_only else "is not writable (permission denied)"
        return f"cannot be written: folder '{top}' {why}"
    try:
        info = os.statvfs(top)
    except (OSError, AttributeError):
        return None  # the filesystem does not say (or not POSIX): the write will tell
    free = info.f_bavail * info.f_frsize
    if free < need:
        return (
            f"cannot be written: the filesystem of '{top}' has {free / 1e6:.1f} MB free; "
            f"at least {need / 1e6:.0f} MB are needed"
        )
    return None


def name_problem(path: Path) -> str | None:
    """Whether the name of ``path`` (with the temporaries' suffix) fits the filesystem."""
    top, _ = _ancestor(path.parent if str(path.parent) else Path("."))
    try:
        limit = os.pathconf(top, "PC_NAME_MAX")
    except (OSError, ValueError):
        limit = 255
    size = len(os.fsencode(path.name))
    if size + SUFFIX_ROOM > limit:
        return f"has a name of {size} bytes; at most {limit - SUFFIX_ROOM} fit this filesystem here"
    return None


def _same(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def _resolved(path: Path) -> Path | None:
    try:
        return path.resolve()
    except (OSError, RuntimeError):  # a link loop
        return None


def _input_hit(target: Path, inputs: Iterable[PathLike], folder: bool) -> Path | None:
    """The input ``target`` is (or, for a folder, holds), if any."""
    here = _resolved(target)
    for given in inputs:
        item = Path(given)
        if _same(target, item):
            return item
        there = _resolved(item)
        if here is None or there is None:
            continue
        if here == there or (folder and here in there.parents):
            return item
    return None


def check_file_target(
    path: PathLike,
    *,
    argument: str,
    inputs: Iterable[PathLike] = (),
    force: bool = False,
    owned: Callable[[Path], bool] = lambda p: False,
    what: str = "file",
) -> Path:
    """Check a file the call will write (see the module docstring); return it as a Path.

    Parameters
    ----------
    path : path
        The file.
    argument : str
        The Python argument that gave it (``save``), for the message.
    inputs : iterable of path
        The call's input files and folders: never replaced, not even with ``force``. A file
        inside an input folder counts as an input unless ``owned`` says it is the package's.
    force : bool
        Replace an existing regular file the package did not write.
    owned : callable
        ``owned(path)`` is True when an existing file was written by this package.
    what : str
        What the file is, for messages (``posterior file``).

    Raises
    ------
    InputError
        Naming ``argument`` and what is wrong.
    """
    text = os.fspath(path)
    if not text:
        raise InputError(Problem(f"must name a {what}, not an empty string", argument=argument))
    target = Path(text)
    inputs = list(inputs)
    if text.endswith(("/", os.sep)) or target.name in ("", ".", ".."):
        raise _refuse(text, argument, f"names a folder; give a {what} name")
    try:
        info: os.stat_result | None = os.lstat(target)
    except FileNotFoundError:
        info = None
    except OSError as err:
        problem = path_problem(target) or f"cannot be used ({err.strerror or err})"
        raise _refuse(text, argument, problem) from err
    if info is not None:
        if stat.S_ISLNK(info.st_mode):
            raise _refuse(
                text, argument, "is a symbolic link; give the path of a regular file (a link is never replaced)"
            )
        if stat.S_ISDIR(info.st_mode):
            raise _refuse(text, argument, f"is a folder; give a {what} name")
        kind = kind_problem(info.st_mode)
        if kind:
            raise _refuse(text, argument, f"{kind.split(',')[0]}; only a regular file can be replaced")
        hit = _input_hit(target, inputs, folder=False)
        real = _resolved(target)
        inside = [
            Path(i) for i in inputs if Path(i).is_dir() and real is not None and _resolved(Path(i)) in real.parents
        ]
        if hit is not None or (inside and not owned(target)):
            raise _refuse(text, argument, f"is an input of this call ({hit or inside[0]}); choose another {what}")
        if not force and not owned(target):
            raise _refuse(
                text,
                argument,
                "exists and was not written by bayes-msc; choose another name, or force=True "
                "(--force on the command line) to replace it",
            )
    where = parent_problem(target.parent, create=False) or name_problem(target)
    if where:
        raise _refuse(text, argument, where)
    return target


def check_folder_target(
    path: PathLike,
    *,
    argument: str,
    inputs: Iterable[PathLike] = (),
    owned: Callable[[Path], bool],
    what: str = "output folder",
    foreign: str | Callable[[Path], str] = (
        "exists and was not written by bayes-msc; refusing to replace it: choose another folder"
    ),
) -> Path:
    """Check a folder the call will write as a whole (see the module docstring).

    Parameters
    ----------
    path : path
        The folder; its missing parents are created when it is written.
    argument : str
        The Python argument that gave it (``out``).
    inputs : iterable of path
        The call's input files and folders: the folder may be none of them nor hold one.
    owned : callable
        ``owned(folder)`` is True for an existing non-empty folder this package wrote (it
        may be replaced); an empty folder may always be.
    what : str
        What the folder is, for messages.
    foreign : str or callable
        What is said of an existing folder the package did not write (or a function of
        the folder that says it).

    Raises
    ------
    InputError
        Naming ``argument`` and what is wrong.
    """
    text = os.fspath(path)
    if not text:
        raise InputError(Problem(f"must name a {what}, not an empty string", argument=argument))
    target = Path(text)
    here = _resolved(Path.cwd())
    there = _resolved(target)
    if there is not None and here is not None and (there == here or there in here.parents):
        raise _refuse(text, argument, "is the working folder or contains it; choose a folder for the output")
    try:
        info: os.stat_result | None = os.lstat(target)
    except FileNotFoundError:
        info = None
    except OSError as err:
        problem = path_problem(target) or f"cannot be used ({err.strerror or err})"
        raise _refuse(text, argument, problem) from err
    if info is not None:
        if stat.S_ISLNK(info.st_mode):
            raise _refuse(text, argument, "is a symbolic link; give the folder itself (a link is never replaced)")
        if not stat.S_ISDIR(info.st_mode):
            raise _refuse(text, argument, "exists and is not a folder")
        if os.path.ismount(target):
            raise _refuse(text, argument, "is a mount point, which cannot be replaced; give a folder inside it")
        try:
            empty = not any(os.scandir(target))
        except OSError as err:
            raise _refuse(text, argument, f"cannot be read ({err.strerror or err})") from err
        if not empty and not owned(target):
            raise _refuse(text, argument, foreign if isinstance(foreign, str) else foreign(target))
        hit = _input_hit(target, inputs, folder=True)
        if hit is not None:
            raise _refuse(text, argument, f"is or holds an input of this call ({hit}); choose another folder")
    where = parent_problem(target.parent, create=True) or name_problem(target)
    if where:
        raise _refuse(text, argument, where)
    return target


def is_environment_error(err: OSError) -> bool:
    """An error of the output location (full, read-only, gone, not permitted), not a bug."""
    return err.errno in _ENVIRONMENT


_ENVIRONMENT = {
    errno.ENOSPC,
    errno.EDQUOT,
    errno.EROFS,
    errno.EACCES,
    errno.EPERM,
    errno.EIO,
    errno.EFBIG,
    errno.ENAMETOOLONG,
    errno.ENOENT,
    errno.ENOTDIR,
    errno.EISDIR,
    errno.EXDEV,
    errno.EBUSY,
    errno.ENOTEMPTY,
    errno.EEXIST,
}
