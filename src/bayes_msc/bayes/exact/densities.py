"""Marginal posterior densities of an exact posterior, for figures (exact, where its draws
would only estimate them).

``mu``, the slopes, ``theta_new`` and ``intercept`` are mixtures over tau's quadrature
nodes of normals (:mod:`bayes_msc.bayes.exact.mixtures`), so their densities are the same
mixtures of normal densities; tau's is its exact marginal density
(:meth:`~bayes_msc.bayes.exact.tau.TauPosterior.logpdf`). Each density is computed when
first read: most results are never drawn, and the engine stays as fast as without them.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence

import numpy as np

from bayes_msc.bayes.exact.mixtures import mixture_pdf, mixture_quantile
from bayes_msc.bayes.exact.model import tau_of, x_of
from bayes_msc.bayes.exact.tau import TauPosterior

DENSITY_POINTS = 301
"""Points of each density's grid."""

GRID_PROBS = (0.001, 0.025, 0.975, 0.999)
"""The grid runs between the first and the last of these quantiles, denser between the
middle two (the central 95%, where a density changes most)."""


def density_grid(ends: np.ndarray, points: int = DENSITY_POINTS) -> np.ndarray:
    """Increasing grid from ``ends[0]`` to ``ends[3]`` in three evenly spaced pieces, each
    piece's share of the points proportional to its length, the middle one counted 3 times.

    On a normal the middle piece gets about 84% of the points; on a heavy-tailed posterior,
    whose outer pieces are long, it still gets its share, so the peak stays smooth.
    """
    ends = np.asarray(ends, float)
    share = np.diff(ends) * (1.0, 3.0, 1.0)
    steps = np.maximum(np.round((points - 1) * share / share.sum()).astype(int), 1)
    pieces = [np.linspace(a, b, n, endpoint=False) for a, b, n in zip(ends[:-1], ends[1:], steps, strict=True)]
    return np.unique(np.append(np.concatenate(pieces), ends[-1]))


class ExactDensities(Mapping):
    """``{name: (grid, density)}``, read-only arrays, each computed on first access.

    ``grid`` has about :data:`DENSITY_POINTS` increasing points from the 0.1% to the 99.9%
    quantile of the parameter (:func:`density_grid`; for tau the pieces are even on the
    quadrature scale, log tau, which resolves a density peaked near 0); ``density`` is
    the marginal posterior density there.

    Parameters
    ----------
    tau : TauPosterior
        The posterior of tau (its full quadrature grid).
    weight, means, sds : ndarray
        The mixtures: node weights, and one row of component means and SDs per quantity.
    rows : sequence of str
        The quantity of each row of ``means``.
    order : sequence of str
        The names, in the order of the parameter table (``tau`` among them).
    """

    def __init__(
        self,
        tau: TauPosterior,
        weight: np.ndarray,
        means: np.ndarray,
        sds: np.ndarray,
        rows: Sequence[str],
        order: Sequence[str],
    ):
        self._tau = tau
        self._w, self._means, self._sds = weight, means, sds
        self._rows = {name: i for i, name in enumerate(rows)}
        self._order = tuple(order)
        self._done: dict[str, tuple[np.ndarray, np.ndarray]] = {}

    @property
    def tau_posterior(self) -> TauPosterior:
        """The quadrature posterior of tau these densities come from."""
        return self._tau

    def __getitem__(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        if name not in self._order:
            raise KeyError(name)
        if name not in self._done:
            grid, dens = self._tau_density() if name == "tau" else self._mixture_density(self._rows[name])
            grid.setflags(write=False)
            dens.setflags(write=False)
            self._done[name] = (grid, dens)
        return self._done[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._order)

    def __len__(self) -> int:
        return len(self._order)

    def __repr__(self) -> str:
        return f"ExactDensities({list(self._order)})"

    def _mixture_density(self, i: int) -> tuple[np.ndarray, np.ndarray]:
        mean, sd = self._means[i : i + 1], self._sds[i : i + 1]
        n = len(GRID_PROBS)
        ends = mixture_quantile(np.array(GRID_PROBS), self._w, np.repeat(mean, n, 0), np.repeat(sd, n, 0))
        grid = density_grid(ends)
        return grid, mixture_pdf(grid[None, :], self._w, mean, sd)[0]

    def _tau_density(self) -> tuple[np.ndarray, np.ndarray]:
        m = self._tau.model
        ends = x_of(m, self._tau.quantile(GRID_PROBS))
        grid = tau_of(m, density_grid(ends))[0]
        return grid, np.exp(self._tau.logpdf(grid))
