"""Input files are read only when they are regular files of a bounded size.

Every file the package reads from a user (dataset CSV files and ``dataset.toml``, analysis
specs, prior-set files, simulation parameters, design files) goes through
:func:`read_bytes` or :func:`read_text`:

- the path is looked at with ``stat`` before it is opened: a folder, a named pipe (FIFO),
  a character or block device (``/dev/zero``), a socket, a missing file, a dangling
  symbolic link and a symbolic-link loop are each refused with what they are, so reading
  never blocks on a pipe or runs out of memory on an endless device;
- the file is then opened without blocking and checked again (``fstat``), so a file
  swapped for a pipe in between is refused too;
- at most :data:`MAX_INPUT_BYTES` bytes are read; a larger file is refused with its size.

Refusals raise :class:`Unreadable`, whose message completes the sentence "FILE ...";
callers turn it into a :class:`~bayes_msc.errors.Problem` naming the file (and the TOML
key or Python argument) in their own terms.
"""

from __future__ import annotations

import errno
import os
import stat

MAX_INPUT_BYTES = 50_000_000
"""The largest input file read (50 MB). The biggest dataset file of a meta-analysis is a
few hundred kB; a spec or prior-set file a few kB."""


class Unreadable(Exception):
    """A file that is not read; ``message`` completes "FILE ..." (``is a named pipe ...``)."""

    def __init__(self, message: str):
        self.message = message
        super().__init__(message)


_KINDS = (
    (stat.S_ISDIR, "is a folder; a file is expected here"),
    (stat.S_ISFIFO, "is a named pipe (FIFO), not a regular file; give the file itself"),
    (stat.S_ISCHR, "is a character device, not a regular file"),
    (stat.S_ISBLK, "is a block device, not a regular file"),
    (stat.S_ISSOCK, "is a socket, not a regular file"),
)


def kind_problem(mode: int) -> str | None:
    """What is wrong with a file of this ``st_mode`` as an input (None: a regular file)."""
    if stat.S_ISREG(mode):
        return None
    for test, message in _KINDS:
        if test(mode):
            return message
    return "is not a regular file"


def _megabytes(size: int) -> str:
    return f"{size / 1e6:.1f} MB"


def path_problem(path: str | os.PathLike[str]) -> str | None:
    """Why ``path`` cannot be opened as a file (missing, dangling link, link loop, not a
    folder on the way, no permission), or None when ``stat`` finds something there."""
    try:
        os.stat(path)
    except FileNotFoundError:
        if os.path.islink(path):
            return f"is a symbolic link to '{os.readlink(path)}', which does not exist"
        return "does not exist"
    except OSError as err:
        if err.errno == errno.ELOOP:
            return "is a symbolic link loop (the links point at each other)"
        if err.errno == errno.ENOTDIR:
            return "cannot be reached: a part of its path is a file, not a folder"
        if err.errno == errno.ENAMETOOLONG:
            return "has a name too long for the filesystem"
        return f"cannot be read ({err.strerror or err})"
    return None


def present(path: str | os.PathLike[str]) -> bool:
    """Whether anything is at ``path``: a file, a folder, or a broken link (which an
    optional input must not be: it is read, and its problem reported, not ignored)."""
    try:
        os.lstat(path)
    except FileNotFoundError:
        return False
    except OSError:
        return True  # something is there that cannot be looked at: let reading say what
    return True


def read_bytes(path: str | os.PathLike[str], limit: int = MAX_INPUT_BYTES) -> bytes:
    """The bytes of the regular file ``path``, at most ``limit`` of them.

    Raises
    ------
    Unreadable
        Not a regular file (what it is), missing, a dangling link or a link loop, larger
        than ``limit`` (with its size), or unreadable (the system's reason).
    """
    problem = path_problem(path)
    if problem:
        raise Unreadable(problem)
    info = os.stat(path)
    problem = kind_problem(info.st_mode)
    if problem:
        raise Unreadable(problem)
    if info.st_size > limit:
        raise Unreadable(f"is {_megabytes(info.st_size)}; input files are limited to {_megabytes(limit)}")
    flags = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)
    except OSError as err:
        raise Unreadable(f"cannot be read ({err.strerror or err})") from err
    try:
        problem = kind_problem(os.fstat(fd).st_mode)  # swapped for a pipe since the stat?
        if problem:
            raise Unreadable(problem)
        chunks, total = [], 0
        while total <= limit:
            chunk = os.read(fd, min(1 << 20, limit + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
    except OSError as err:
        raise Unreadable(f"cannot be read ({err.strerror or err})") from err
    finally:
        os.close(fd)
    if total > limit:  # it grew while being read
        raise Unreadable(f"is larger than {_megabytes(limit)}, the limit of input files")
    return b"".join(chunks)


def read_text(path: str | os.PathLike[str], limit: int = MAX_INPUT_BYTES) -> str:
    """The UTF-8 text of the regular file ``path`` (a UTF-8 byte-order mark removed).

    Raises
    ------
    Unreadable
        As :func:`read_bytes`, or not UTF-8 text (with the first bad byte and its line).
    """
    data = read_bytes(path, limit).removeprefix(b"\xef\xbb\xbf")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        line = data[: err.start].count(b"\n") + 1
        raise Unreadable(f"is not UTF-8 text (byte 0x{data[err.start]:02x} on line {line})") from err


def folder_problem(path: str | os.PathLike[str]) -> str | None:
    """Why ``path`` is not a folder that can be read (None: it is one)."""
    problem = path_problem(path)
    if problem:
        return problem
    mode = os.stat(path).st_mode
    if stat.S_ISDIR(mode):
        return None
    if stat.S_ISREG(mode):
        return "is a file; a folder is expected here"
    return (kind_problem(mode) or "is not a folder").split(",")[0] + "; a folder is expected here"
