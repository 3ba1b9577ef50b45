"""Simulation-based calibration (SBC) of the ``re`` model (Talts et al. 2018, arXiv:1804.06788).

For each replication: draw (mu, tau) from the prior, draw the effects
``yi ~ Normal(mu, tau^2 + vi)`` for the sampling variances ``vi`` of a real design (one cell
of a dataset folder), fit the model with :func:`bayes_msc.bayes.fit.fit` (nutpie,
``auto`` parameterisation, the production path), thin the posterior draws to ``L`` and
record the rank of the true value among them (0..L). With a correct sampler and model the
ranks are uniform; a chi-square test on 20 bins and the rank histograms (with the 99%
range of a uniform bin count) test that. The exact engine is run on the same data: its
PIT, the posterior distribution function at the true value, must be uniform too, and,
replication by replication, rank / L must average the exact PIT (a paired test of the
sampler that the prior's spread does not dilute).

Speed: ``fit`` keeps one compiled nutpie model per structure (model, padded size, prior
families) for the life of the process, so every replication after the first only
re-samples (about 1-2 s at 4 x 1000 draws on a 2-core machine).

Run from the repository root::

    .venv/bin/python benchmarks/sbc.py

It prints its command line, the machine, a Markdown results table (for benchmarks/SBC.md)
and writes benchmarks/results/sbc_simulated_re.csv (one row per replication; it depends
only on the options) and benchmarks/results/sbc_simulated_re.png.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import platform
import shlex
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from bayes_msc.bayes.exact.posterior import mixture_cdf, tau_posterior
from bayes_msc.bayes.fit import fit
from bayes_msc.bayes.inputs import prepare_effects, resolve_priors
from bayes_msc.data.effects import effect_table
from bayes_msc.data.reader import read_dataset
from bayes_msc.priors import get_prior_set

ROOT = Path(__file__).resolve().parents[1]
BINS = 20


def prior_draws(prior_set, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """n draws of (mu, tau) from a resolved prior set (PyMC's own random generators)."""
    import pymc as pm

    def draw(prior, stream):
        if prior.improper:
            raise SystemExit(f"SBC needs proper priors; {prior.dist} is improper")
        rng = np.random.default_rng([seed, stream])
        return np.asarray(pm.draw(getattr(pm, prior.dist).dist(**prior.params), draws=n, random_seed=rng), float)

    mu = draw(prior_set.mu, 1)
    if prior_set.tau is not None:
        tau = draw(prior_set.tau, 2)
    else:  # Rhodes et al. 2015 form: tau = outcome_sd * exp(log(tau^2) / 2)
        tau = prior_set.outcome_sd * np.exp(draw(prior_set.log_tau2_smd, 2) / 2.0)
    return mu, tau


def thinned_rank(chains: np.ndarray, truth: float, size: int) -> int:
    """Rank of ``truth`` among ``size`` draws taken evenly over the flattened chains."""
    flat = chains.reshape(-1)
    keep = flat[np.linspace(0, flat.size - 1, size).round().astype(int)]
    return int(np.sum(keep < truth))


def exact_pit(yi: np.ndarray, vi: np.ndarray, prior_set, mu: float, tau: float) -> tuple[float, float]:
    """Posterior distribution functions of mu and tau at the true values (exact engine)."""
    tp = tau_posterior(yi, vi, prior_set)
    pit_mu = mixture_cdf(np.array([mu]), tp.weight, tp.b_mean[None, :, 0], np.sqrt(tp.b_cov[None, :, 0, 0]))
    return float(pit_mu[0]), float(tp.cdf(tau)[0])


def uniformity(ranks: np.ndarray, levels: int) -> tuple[float, float]:
    """Chi-square statistic and p-value of ranks 0..levels-1 over BINS equal bins."""
    counts = np.bincount((np.asarray(ranks) * BINS) // levels, minlength=BINS)
    res = stats.chisquare(counts)
    return float(res.statistic), float(res.pvalue)


def figure(frame: pd.DataFrame, thin: int, path: Path, title: str) -> None:
    """Rank histograms (MCMC) and PIT histograms (exact) with the 99% range of a bin."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n = len(frame)
    lo, hi = stats.binom.ppf([0.005, 0.995], n, 1 / BINS)
    fig, axes = plt.subplots(2, 2, figsize=(9, 6), constrained_layout=True)
    panels = [
        ("rank_mu", "MCMC rank of mu", thin + 1),
        ("rank_tau", "MCMC rank of tau", thin + 1),
        ("pit_mu_exact", "exact engine PIT of mu", None),
        ("pit_tau_exact", "exact engine PIT of tau", None),
    ]
    for ax, (col, label, levels) in zip(axes.flat, panels, strict=False):
        x = frame[col].to_numpy()
        bins = np.linspace(0, levels, BINS + 1) if levels else np.linspace(0, 1, BINS + 1)
        ax.axhspan(lo, hi, color="0.85", label="99% range if uniform")
        ax.axhline(n / BINS, color="0.4", lw=0.8)
        ax.hist(x, bins=bins, color="#3b6ea8", edgecolor="white")
        ax.set_title(label, fontsize=10)
        ax.set_xlabel(f"rank among {thin} draws" if levels else "P(parameter <= truth | y)")
        ax.set_ylabel("replications")
    axes.flat[0].legend(loc="lower right", fontsize=8)
    fig.suptitle(title, fontsize=10)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", default="data/msc_knee_oa_simulated", help="dataset folder of the design")
    ap.add_argument("--outcome", default="vas")
    ap.add_argument("--month", type=float, default=6.0)
    ap.add_argument("--prior", default="weakly_informative", help="bundled prior set")
    ap.add_argument("--reps", type=int, default=1000)
    ap.add_argument("--draws", type=int, default=1000)
    ap.add_argument("--tune", type=int, default=1000)
    ap.add_argument("--chains", type=int, default=4)
    ap.add_argument("--thin-to", type=int, default=99, dest="thin", help="L: draws kept for the rank")
    ap.add_argument("--seed", type=int, default=20240604)
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results"), help="folder of the CSV and PNG")
    args = ap.parse_args(argv)
    print("command:", shlex.join(["python", "benchmarks/sbc.py", *(sys.argv[1:] if argv is None else argv)]))
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}"
    )
    table = effect_table(read_dataset(ROOT / args.data), args.outcome, args.month)
    prior = resolve_priors(get_prior_set(args.prior), prepare_effects(table), table.measure)
    print(
        f"design: {table.dataset} {args.outcome} month {args.month:g}, k = {table.k}, "
        f"vi from {table.vi.min():.3g} to {table.vi.max():.3g}; prior {prior.name}: "
        f"mu {prior.mu.to_dict()}, tau {(prior.tau or prior.log_tau2_smd).to_dict()}"
    )
    mus, taus = prior_draws(prior, args.reps, args.seed)
    rng = np.random.default_rng([args.seed, 3])
    rows, start = [], time.perf_counter()
    for r in range(args.reps):
        yi = rng.normal(mus[r], np.sqrt(taus[r] ** 2 + table.vi))
        rep = dataclasses.replace(table, data=table.data.assign(yi=yi))
        res = fit(rep, prior=prior, draws=args.draws, tune=args.tune, chains=args.chains, seed=args.seed + r)
        post = res.idata.posterior
        pit_mu, pit_tau = exact_pit(yi, table.vi, prior, mus[r], taus[r])
        p = res.parameters.loc[["mu", "tau"]]
        rows.append(
            {
                "rep": r,
                "mu_true": mus[r],
                "tau_true": taus[r],
                "rank_mu": thinned_rank(post["mu"].values, mus[r], args.thin),
                "rank_tau": thinned_rank(post["tau"].values, taus[r], args.thin),
                "pit_mu_exact": pit_mu,
                "pit_tau_exact": pit_tau,
                "parameterisation": res.parameterisation,
                "divergences": res.divergences,
                "max_r_hat": p["r_hat"].max(),
                "min_ess_bulk": p["ess_bulk"].min(),
                "verdict_passed": res.verdict.passed,
            }
        )
        if (r + 1) % 20 == 0:
            print(f"  {r + 1} replications, {time.perf_counter() - start:.0f} s", flush=True)
    seconds = time.perf_counter() - start
    frame = pd.DataFrame(rows)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    frame.round(6).to_csv(out / "sbc_simulated_re.csv", index=False)
    title = (
        f"SBC of the re model: {args.reps} replications, {table.dataset} {args.outcome} month "
        f"{args.month:g} (k = {table.k}), prior {prior.name}"
    )
    figure(frame, args.thin, out / "sbc_simulated_re.png", title)
    levels = args.thin + 1
    print(f"\n{args.reps} replications in {seconds:.0f} s ({seconds / args.reps:.2f} s each, first compile included)")
    print(f"\n| quantity | test | statistic (df {BINS - 1}) | p-value |\n|---|---|---|---|")
    for col, label in (("rank_mu", "MCMC rank of mu"), ("rank_tau", "MCMC rank of tau")):
        chi, pv = uniformity(frame[col].to_numpy(), levels)
        print(f"| {label} | chi-square, {BINS} bins | {chi:.2f} | {pv:.3f} |")
    for col, label in (("pit_mu_exact", "exact PIT of mu"), ("pit_tau_exact", "exact PIT of tau")):
        pit = frame[col].to_numpy()
        chi, pv = uniformity(np.minimum((pit * 1e6).astype(int), 10**6 - 1), 10**6)
        ks = stats.kstest(pit, "uniform")
        print(
            f"| {label} | chi-square, {BINS} bins / KS | {chi:.2f} / {ks.statistic:.3f} | {pv:.3f} / {ks.pvalue:.3f} |"
        )
    for par in ("mu", "tau"):  # E[rank / L | y] is the exact PIT when the draws are the posterior's
        gap = frame[f"rank_{par}"].to_numpy() / args.thin - frame[f"pit_{par}_exact"].to_numpy()
        se = gap.std(ddof=1) / np.sqrt(gap.size)
        print(
            f"| MCMC rank / L - exact PIT of {par} (paired) | t test of mean 0 | mean {gap.mean():+.4f} "
            f"(SE {se:.4f}) | {2 * stats.t.sf(abs(gap.mean() / se), gap.size - 1):.3f} |"
        )
    failed = int((~frame["verdict_passed"]).sum())
    print(
        f"\ndiagnostics: {failed} of {args.reps} fits failed the verdict; {int(frame['divergences'].sum())} "
        f"divergences in all; max R-hat {frame['max_r_hat'].max():.4f}; smallest ESS_bulk "
        f"{frame['min_ess_bulk'].min():.0f}; parameterisations {frame['parameterisation'].value_counts().to_dict()}"
    )
    print(f"wrote {out / 'sbc_simulated_re.csv'} and {out / 'sbc_simulated_re.png'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
