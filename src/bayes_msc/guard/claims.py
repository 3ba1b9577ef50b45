"""Outputs written complete or not at all, one writer at a time, leftovers of killed runs removed.

A :class:`Claim` is the right to write one output path (a file or a folder) until it is
released. Claiming it (:func:`claim`), before any work:

1. creates the missing parent folders (removed again if nothing is written);
2. locks ``.NAME.lock`` beside the output (``flock``, held until release). A second
   process claiming the same output does not wait: it is refused at once with status 2,
   "in use", naming the process that holds it (see :data:`IN_USE`);
3. removes what an earlier writer killed with SIGKILL left: ``.NAME.tmp-PID-*`` and
   ``.NAME.old-PID-*`` whose process is gone (with the lock held no live writer owns them;
   the process id in the name is checked too). When the output itself is missing and an
   ``.old`` copy is there (killed between the two renames of a swap), the copy is the
   previous output and is put back;
4. creates the temporary folder ``.NAME.tmp-PID-TOKEN`` (folders; a file's temporary is
   created when it is written), so an unwritable location is found before any work.

:meth:`Claim.commit` moves the finished temporary into place (a folder is swapped: the old
one moved aside, the new one renamed in, the old one removed; a failure puts the old one
back). :meth:`Claim.release` removes whatever was not committed and the lock file; it runs
in a ``finally`` (or ``with``), so a failure, an interrupt or a signal turned into an
exception (``bayes-msc`` does that for SIGTERM and SIGHUP) leaves the previous output as
it was and nothing else.
"""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
import shutil
import stat
from pathlib import Path
from types import TracebackType

from bayes_msc.errors import InputError, Problem
from bayes_msc.guard.targets import is_environment_error

try:
    import fcntl
except ImportError:  # pragma: no cover - not POSIX: no lock, still atomic
    fcntl = None  # type: ignore[assignment]

IN_USE = "is in use: another bayes-msc process (pid {pid}) is writing it; wait until it ends, or choose another"
"""The refusal of a second writer of one output (the second process exits with status 2)."""


def output_error(err: OSError, target: Path, argument: str, kept: str) -> InputError:
    """An error of the output location met while writing, as an input error naming the
    argument; ``kept`` says what stayed as it was."""
    name = errno.errorcode.get(err.errno or 0, "")
    why = f"{err.strerror or err}" + (f" ({name})" if name else "")
    return InputError(Problem(f"could not write '{target}': {why}; {kept}", argument=argument))


def _pid_of(name: str, prefix: str) -> int | None:
    head = name[len(prefix) :].split("-", 1)[0]
    return int(head) if head.isdigit() else None


def _alive(pid: int | None) -> bool:
    if pid is None or pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


def _write_all(fd: int, data: bytes | memoryview) -> None:
    """Every byte of ``data`` to ``fd``, on the disk (a full disk fails here, not later)."""
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]
    os.fsync(fd)


class Claim:
    """The right to write ``target`` (see the module docstring). Use :func:`claim`."""

    def __init__(self, target: Path, argument: str, folder: bool, what: str):
        self.target = target
        self.parent = target.parent if str(target.parent) else Path(".")
        self.argument = argument
        self.folder = folder
        self.what = what
        token = f"{os.getpid()}-{secrets.token_hex(4)}"
        self.tmp = self.parent / f".{target.name}.tmp-{token}"
        self.old = self.parent / f".{target.name}.old-{token}"
        self.lock = self.parent / f".{target.name}.lock"
        self.committed = False
        self._fd: int | None = None
        self._created: list[Path] = []

    # ------------------------------------------------------------------ acquire

    def _make_parents(self) -> None:
        missing = []
        here = self.parent
        while not os.path.lexists(here) and here != here.parent:
            missing.append(here)
            here = here.parent
        for folder in reversed(missing):
            os.mkdir(folder)
            self._created.append(folder)

    def _lock(self) -> None:
        if fcntl is None:  # pragma: no cover
            return
        for _ in range(10):
            fd = os.open(self.lock, os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0) | os.O_NOFOLLOW, 0o666)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = os.read(fd, 32).decode("ascii", "replace").strip() or "?"
                os.close(fd)
                raise InputError(
                    Problem(f"'{self.target}' " + IN_USE.format(pid=holder) + f" {self.what}", argument=self.argument)
                ) from None
            try:
                same = os.fstat(fd).st_ino == os.stat(self.lock).st_ino
            except FileNotFoundError:
                same = False
            if same:  # not a lock file its last holder removed meanwhile
                os.ftruncate(fd, 0)
                os.write(fd, f"{os.getpid()}\n".encode())
                self._fd = fd
                return
            os.close(fd)
        raise InputError(Problem(f"'{self.target}' could not be locked for writing", argument=self.argument))

    def _clean_stale(self) -> None:
        name = self.target.name
        tmp_prefix, old_prefix = f".{name}.tmp-", f".{name}.old-"
        olds = []
        for entry in os.scandir(self.parent):
            for prefix in (tmp_prefix, old_prefix):
                if entry.name.startswith(prefix) and not _alive(_pid_of(entry.name, prefix)):
                    if prefix == old_prefix:
                        olds.append(Path(entry.path))
                    else:
                        _remove(Path(entry.path))
        olds.sort(key=lambda p: p.lstat().st_mtime)
        if olds and not os.path.lexists(self.target):
            os.replace(olds.pop(), self.target)  # killed mid-swap: the previous output, put back
        for old in olds:
            _remove(old)

    def acquire(self) -> Claim:
        """Parents, lock, stale leftovers, temporary folder (see the module docstring)."""
        try:
            self._make_parents()
            self._lock()
            self._clean_stale()
            if self.folder:
                os.mkdir(self.tmp, 0o777)  # the umask applies, as to any folder the user makes
        except OSError as err:
            self.release()
            if not is_environment_error(err):
                raise
            raise output_error(err, self.target, self.argument, "nothing was written") from err
        except BaseException:
            self.release()
            raise
        return self

    # ------------------------------------------------------------------ write

    def write_bytes(self, data: bytes | memoryview) -> None:
        """Write a file's content to the temporary file and commit it."""
        try:
            fd = os.open(self.tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), 0o666)
            try:
                _write_all(fd, data)
            finally:
                os.close(fd)
        except OSError as err:
            if not is_environment_error(err):
                raise
            raise output_error(err, self.target, self.argument, self._kept()) from err
        self.commit()

    def _kept(self) -> str:
        return f"the previous {self.what} is unchanged" if os.path.lexists(self.target) else "nothing was written"

    def commit(self) -> None:
        """Move the finished temporary into place (a folder is swapped)."""
        try:
            info = os.lstat(self.target) if os.path.lexists(self.target) else None
            expected = stat.S_ISDIR if self.folder else stat.S_ISREG
            if info is not None and (stat.S_ISLNK(info.st_mode) or not expected(info.st_mode)):
                raise InputError(
                    Problem(
                        f"'{self.target}' was replaced by something else while this ran; nothing was written",
                        argument=self.argument,
                    )
                )
            if info is None or not self.folder:
                os.replace(self.tmp, self.target)
            else:
                os.replace(self.target, self.old)
                try:
                    os.replace(self.tmp, self.target)
                except BaseException:
                    os.replace(self.old, self.target)  # put the previous output back, then fail
                    raise
            self.committed = True
        except OSError as err:
            if not is_environment_error(err):
                raise
            raise output_error(err, self.target, self.argument, self._kept()) from err
        _remove(self.old)

    # ------------------------------------------------------------------ release

    def release(self) -> None:
        """Remove the temporaries and the lock; the parents made, when nothing was written."""
        try:
            if os.path.lexists(self.old):
                if os.path.lexists(self.target):
                    _remove(self.old)
                else:  # interrupted between the renames of the swap: put the previous one back
                    os.replace(self.old, self.target)
            _remove(self.tmp)
        finally:
            if self._fd is not None:
                with contextlib.suppress(OSError):
                    os.unlink(self.lock)  # while still holding it (see _lock)
                os.close(self._fd)
                self._fd = None
            if not self.committed:  # the parent folders made for nothing (if still empty)
                for folder in self._created[::-1]:
                    with contextlib.suppress(OSError):
                        folder.rmdir()
                self._created = []

    def __enter__(self) -> Claim:
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None) -> None:
        self.release()


def claim(target: Path, *, argument: str, folder: bool, what: str) -> Claim:
    """Claim ``target`` for writing (see the module docstring); release it with ``with``.

    Parameters
    ----------
    target : Path
        The output, already checked (:mod:`bayes_msc.guard.targets`).
    argument : str
        The Python argument that names it, for messages.
    folder : bool
        A folder (a temporary folder is made now) or a file.
    what : str
        What it is (``report folder``), for messages.

    Raises
    ------
    InputError
        Another process holds it ("in use"), or its location cannot be written.
    """
    return Claim(Path(target), argument, folder, what).acquire()
