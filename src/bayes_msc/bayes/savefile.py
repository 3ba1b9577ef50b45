"""Posterior files (netCDF): checked before the fit, written complete or not at all.

:func:`check_save` is the one check of a ``save`` target (``fit(save=)``, ``bayes-msc fit
--save``), run before any work: :func:`bayes_msc.guard.targets.check_file_target` with
this package's posterior files as the files it owns (an HDF5 file whose root attribute
``created_by`` is :data:`MARK`, or that has the ``prior_set`` and ``options`` attributes
every posterior file of this package has carried). Writing is
:func:`bayes_msc.bayes.saved.save_datatree`: encoded to netCDF first (so a full disk fails
in a plain write, not inside HDF5), then written to a temporary file beside the target
under the target's lock and renamed over it (:class:`bayes_msc.guard.claims.Claim`).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from bayes_msc.guard.targets import check_file_target

MARK = "bayes-msc"
"""The ``created_by`` attribute of every posterior file this package writes."""

_HDF5 = b"\x89HDF\r\n\x1a\n"


def is_posterior_file(path: Path) -> bool:
    """Whether ``path`` is a posterior file this package wrote (see the module docstring)."""
    try:
        with open(path, "rb") as f:
            if f.read(8) != _HDF5:
                return False
        import h5py

        with h5py.File(path, "r") as h5:
            attrs = h5.attrs
            mark = attrs.get("created_by")
            mark = mark.decode() if isinstance(mark, bytes) else mark
            return mark == MARK or ("prior_set" in attrs and "options" in attrs)
    except (OSError, ValueError, UnicodeDecodeError):
        return False


def check_save(
    path: str | os.PathLike[str], *, inputs: Iterable[str | os.PathLike[str]] = (), force: bool = False
) -> Path:
    """Check a posterior file's target before any work (argument ``save``).

    Raises
    ------
    InputError
        The target is an input, exists and is not a posterior file of this package
        (unless ``force``), is not a regular file, or its folder is missing, unwritable
        or full (:func:`bayes_msc.guard.targets.check_file_target`).
    """
    return check_file_target(
        path, argument="save", inputs=inputs, force=force, owned=is_posterior_file, what="posterior file"
    )
