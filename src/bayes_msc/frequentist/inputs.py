"""Checks of what :func:`~bayes_msc.frequentist.rma.rma` is given: effect sizes, their
(co)variances and labels, and the covariates of a meta-regression.

Every problem names the comparison (its row of the effect table) or the covariate, and
all problems of the effect sizes are reported together.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike

from bayes_msc.errors import InputError, Problem, data_row

TABLE = "effect table"
"""``Problem.file`` for problems in the effect-size rows (as ``bayes-msc effects`` shows them)."""


def check_effects(
    yi: ArrayLike, vi: ArrayLike, V: ArrayLike | None, labels: Sequence[object] | None
) -> tuple[np.ndarray, np.ndarray, tuple[str, ...], bool]:
    """``(y, v, labels, shared)``: the effect sizes, their k x k sampling covariance (``diag(vi)``
    without ``V``), one label per comparison (``"1"``, ``"2"``, ... by default), and whether
    ``V`` has off-diagonal covariances.

    Raises
    ------
    InputError
        k = 0, lengths that disagree, a non-finite ``yi``, a ``vi`` not finite and > 0, or a
        ``V`` that is not a finite symmetric positive-definite matrix with ``vi`` on its diagonal.
    """
    y = np.asarray(yi, dtype=float).ravel()
    d = np.asarray(vi, dtype=float).ravel()
    k = len(y)
    if k == 0:
        raise InputError(Problem("no comparisons to pool (k = 0)", file=TABLE))
    if len(d) != k:
        raise InputError(Problem(f"yi has {k} values but vi has {len(d)}", file=TABLE, column="vi"))
    names = tuple(str(i + 1) for i in range(k)) if labels is None else tuple(str(s) for s in labels)
    if len(names) != k:
        raise InputError(Problem(f"{len(names)} labels for {k} comparisons", file=TABLE))
    problems = []
    for i in range(k):
        if not np.isfinite(y[i]):
            problems.append(
                Problem(
                    f"comparison '{names[i]}': yi = {y[i]} is not a finite number",
                    file=TABLE,
                    row=data_row(i),
                    column="yi",
                )
            )
        if not (np.isfinite(d[i]) and d[i] > 0):
            problems.append(
                Problem(
                    f"comparison '{names[i]}': vi = {d[i]}; sampling variances must be finite and > 0",
                    file=TABLE,
                    row=data_row(i),
                    column="vi",
                )
            )
    if problems:
        raise InputError(problems)
    if V is None:
        return y, np.diag(d), names, False
    v = np.asarray(V, dtype=float)
    if v.shape != (k, k) or not np.all(np.isfinite(v)):
        raise InputError(Problem(f"V must be a finite {k} x {k} matrix", argument="V"))
    if not np.allclose(v, v.T, rtol=1e-10, atol=0) or not np.allclose(np.diag(v), d, rtol=1e-9, atol=0):
        raise InputError(Problem("V must be symmetric with the vi on its diagonal", argument="V"))
    try:
        np.linalg.cholesky(v)
    except np.linalg.LinAlgError:
        raise InputError(Problem("V is not positive definite", argument="V")) from None
    shared = bool(np.any(v != np.diag(d)))
    return y, v, names, shared


def design_matrix(X: ArrayLike | None, names: Sequence[str] | None, k: int) -> tuple[np.ndarray, tuple[str, ...]]:
    """The k x (1 + q) design ``[1, X]`` and its column names (``intercept`` first; ``x1``,
    ``x2``, ... when ``names`` is None); ``X=None`` gives the intercept alone.

    Raises
    ------
    InputError
        A shape that is not one row per comparison, no columns, bad names, a missing or
        constant covariate, too few comparisons for the coefficients, or collinear columns.
    """
    if X is None:
        return np.ones((k, 1)), ("intercept",)
    x = np.asarray(X, dtype=float)
    if x.ndim == 1:
        x = x[:, None]
    if x.ndim != 2 or x.shape[0] != k:
        raise InputError(Problem(f"X must have one row per comparison ({k})", argument="X"))
    q = x.shape[1]
    if q == 0:
        raise InputError(Problem("X has no covariate columns (pass X=None to pool)", argument="X"))
    columns = tuple(f"x{j + 1}" for j in range(q)) if names is None else tuple(str(n) for n in names)
    if len(columns) != q or len(set(columns)) != q or "intercept" in columns:
        raise InputError(Problem(f"need {q} distinct covariate names other than 'intercept'", argument="names"))
    problems = []
    for j, name in enumerate(columns):
        for i in np.flatnonzero(~np.isfinite(x[:, j])).tolist():
            problems.append(
                Problem(f"covariate '{name}' is missing or not finite", file=TABLE, row=data_row(i), column=name)
            )
        if np.all(np.isfinite(x[:, j])) and np.ptp(x[:, j]) == 0:
            problems.append(
                Problem(
                    f"covariate '{name}' is constant across the {k} comparisons; its slope cannot be estimated",
                    column=name,
                )
            )
    if problems:
        raise InputError(problems)
    if k < q + 1:
        raise InputError(
            Problem(f"k = {k} comparisons are too few to estimate {q + 1} coefficients", argument=columns[-1])
        )
    full = np.column_stack([np.ones(k), x])
    if np.linalg.matrix_rank(full) < q + 1:
        raise InputError(
            Problem(
                "covariates "
                + ", ".join(f"'{n}'" for n in columns)
                + " are collinear (with each other or the intercept)",
                argument=columns[-1],
            )
        )
    return full, ("intercept",) + columns
