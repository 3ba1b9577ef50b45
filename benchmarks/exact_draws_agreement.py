"""The exact engine's draws against its own quadrature, on every exact fit of a review.

Usage (from the repository root)::

    .venv/bin/python benchmarks/exact_draws_agreement.py [--spec models/simulated_demo.toml]
        [--large 400000]

For every exact fit of the spec and for mu, tau and theta_new, the 2.5%, 50% and 97.5%
quantiles of ``n`` independent draws of the fit's posterior (as its DataTree draws them,
:func:`bayes_msc.bayes.exact.draws.draw`, with a different seed per fit, so the fits are
independent replications) are compared with the engine's exact quantiles, in units of the
Monte Carlo SE of a quantile of 4000 draws, ``sqrt(q (1 - q) / 4000) / f(x_q)`` (f the
exact marginal density). With ``n = 4000`` (the fits' ``draws x chains``) these z-scores
should look standard normal (a sample quantile of a skewed density has an O(1/n) bias too);
with ``--large`` draws they measure the sampler's own bias, which should be near 0.
"""

from __future__ import annotations

import argparse

import numpy as np

from bayes_msc.bayes.exact.draws import draw
from bayes_msc.bayes.groups import NEW_STUDY_STREAM
from bayes_msc.workflow.review import prepare_review, run_review

QUANTILES = ((0.025, "eti_low"), (0.5, "median"), (0.975, "eti_high"))
N_REF = 4000


def zscores(fits: list, n: int) -> dict[tuple[str, float], np.ndarray]:
    out: dict[tuple[str, float], list[float]] = {}
    for i, r in enumerate(fits):
        seed = (r.seed or 0) + 1000 + i
        d = draw(r.densities.tau_posterior, n, seed)
        vals = {"mu": d["b"][:, 0], "tau": d["tau"]}
        noise = np.random.default_rng([seed, NEW_STUDY_STREAM]).standard_normal(n)
        vals["theta_new"] = vals["mu"] + vals["tau"] * noise
        for name, v in vals.items():
            grid, dens = r.densities[name]
            for q, col in QUANTILES:
                x = r.value(name, col)
                se = np.sqrt(q * (1 - q) / N_REF) / float(np.interp(x, grid, dens))
                out.setdefault((name, q), []).append((float(np.quantile(v, q)) - x) / se)
    return {k: np.array(v) for k, v in out.items()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--spec", default="models/simulated_demo.toml")
    ap.add_argument("--large", type=int, default=400_000)
    args = ap.parse_args()
    res = run_review(prepare_review(args.spec))
    fits = [f.result for f in res.fits if f.result.engine == "exact"]
    print(f"{len(fits)} exact fits of {args.spec}; z in Monte Carlo SEs of a quantile of {N_REF} draws")
    for n in (N_REF, args.large):
        print(f"\nn = {n} draws per fit:")
        for (name, q), z in zscores(fits, n).items():
            print(
                f"  {name:9s} q={q:<5} mean={z.mean():+.3f} (SE {z.std(ddof=1) / np.sqrt(z.size):.3f}) "
                f"sd={z.std(ddof=1):.3f} max|z|={np.abs(z).max():.2f}"
            )


if __name__ == "__main__":
    main()
