"""The Python workflow, as a notebook would run it: read a dataset, pool, fit two models and
a custom prior, compare priors, and draw forest, prior-comparison, meta-regression and
trace figures with the public functions of ``bayes_msc`` only.

Run it from the repository's root (tests/test_examples.py does)::

    .venv/bin/python examples/workflow.py [FOLDER]

It prints each result (``print(result)`` gives the same text as the command line) and
writes the figures into FOLDER (default ``example_figures/``) with a plain ``savefig``.
The data are SIMULATED (``data/msc_knee_oa_simulated``); every output says so.
"""

import sys
from pathlib import Path

import bayes_msc as bm

ROOT = Path(__file__).resolve().parents[1]
OUT = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("example_figures")
OUT.mkdir(parents=True, exist_ok=True)

# %% Data: a dataset folder, then one outcome at one month as effect sizes (metafor's escalc).
ds = bm.read_dataset(ROOT / "data" / "msc_knee_oa_simulated")
print(repr(ds))
effects = bm.effect_table(ds, "vas", 12)  # mean differences on the 0-100 scale
print(effects)

# %% Frequentist pooling (metafor's rma): REML with Knapp-Hartung tests.
pooled = bm.pool(effects, method="reml", hksj=True)
print(pooled)
print(pooled.summary())  # mu, tau2, tau, i2, h2, q, pi in one table

# %% Two Bayesian models: contrast level (re) and arm level (arm). The engine is chosen per
# model (exact quadrature where it gives the posterior); each result says which.
re_fit = bm.fit(effects)
arm_fit = bm.fit(bm.arm_table(ds, "vas", 12))
print(re_fit)
print(arm_fit.summary()[["term", "mean", "sd", "lower", "upper"]])

# %% A prior of one's own, as objects (a dict with a prior-set file's keys works too).
mine = bm.PriorSet(
    "mine",
    "Normal(0, 20) on mu, HalfCauchy(10) on tau",
    mu=bm.Prior("Normal", mu=0, sigma=20),
    tau=bm.Prior("HalfCauchy", beta=10),
)
custom = bm.fit(effects, prior=mine)
print(repr(custom))

# %% The same model under several prior sets, with power-scaling sensitivity.
comparison = bm.compare_priors(effects, priors=["weakly_informative", "skeptical", mine])
print(comparison)

# %% Meta-regression on dose: frequentist, and Bayesian by MCMC (nutpie), whose draws give
# the regression band and the trace and rank plots.
regression = bm.metareg(effects, ["log10(dose_million)"])
print(regression)
sampled = bm.fit(
    effects, prior=mine, covariates=["log10(dose_million)"], engine="mcmc", draws=400, tune=400, chains=2, seed=1
)
print(repr(sampled))

# %% Figures: each function returns a matplotlib Figure; a plain savefig keeps everything.
figures = {
    "forest": bm.plot_forest(
        [re_fit, custom], effects, pooled, better="lower", study_labels=ds.study_labels(), columns=["dose_million"]
    ),
    "priors": bm.plot_priors(comparison),
    "metareg": bm.plot_metareg(regression),
    "metareg_bayes": bm.plot_metareg(sampled, effects=effects),
    "trace": bm.plot_trace(sampled),
}
for name, fig in figures.items():
    fig.savefig(OUT / f"{name}.png")
    print(f"wrote {OUT / name}.png")
