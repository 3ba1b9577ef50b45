"""One simulated meta-analysis of a design: two-arm trials summarised as mean differences.

Trial i of k (arms of ``n_i`` patients each, ``n`` cycled over the trials)::

    z_i       ~ N(0, 1)
    theta_i   = mu + dose_slope * (log10(dose_i) - centre) + tau * z_i
    mean_T    ~ N(theta_i, sd^2 / n_i),  mean_C ~ N(0, sd^2 / n_i)
    SD_T, SD_C = sd * sqrt(chi2(n_i - 1) / (n_i - 1))          (each arm's observed SD)
    yi = mean_T - mean_C,  vi = SD_T^2 / n_i + SD_C^2 / n_i    (metafor's escalc "MD")

``centre`` is the mean of log10(dose) over the k planned trials. A trial does not report
the analysed month with probability ``missing``: any trial (``missing_if = "any"``,
missing completely at random) or only trials whose own two-sided test has p >= 0.05
(``"nonsignificant"``: selective outcome reporting). Every draw is made in the same order
whatever the options, from the replication's own stream (:func:`replication_rng`).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np

from bayes_msc.simstudy.spec import Design

Z_975 = 1.959963984540054
"""The two-sided 5% critical value of a trial's own z test (``missing_if = "nonsignificant"``)."""


@dataclass(frozen=True, eq=False)
class Trials:
    """The trials of one replication that report the analysed month, and a seed for
    methods that need random numbers of their own (MCMC)."""

    yi: np.ndarray
    vi: np.ndarray
    n_treatment: np.ndarray
    n_control: np.ndarray
    dose: np.ndarray | None  # log10(dose) - centre, per reported trial
    planned: int
    seed: int

    @property
    def k(self) -> int:
        return int(self.yi.size)


def design_key(name: str) -> int:
    """A 128-bit integer naming a design in its replications' seeds (from its name, so that
    adding a design does not change the others' random numbers)."""
    return int.from_bytes(hashlib.sha256(name.encode("utf-8")).digest()[:16], "big")


def replication_rng(seed: int, design: Design, replication: int) -> np.random.Generator:
    """The random stream of one replication of one design: ``SeedSequence([seed, design
    key], spawn_key=(replication,))``, independent of where and in which order it runs."""
    return np.random.default_rng(np.random.SeedSequence([seed, design_key(design.name)], spawn_key=(replication,)))


def simulate_trials(design: Design, rng: np.random.Generator) -> Trials:
    """One replication's trials (see the module docstring)."""
    k = design.k
    n = np.resize(np.asarray(design.n, dtype=float), k)
    logdose = None
    shift = np.zeros(k)
    if design.doses is not None:
        logdose = np.log10(np.resize(np.asarray(design.doses, dtype=float), k))
        logdose = logdose - logdose.mean()
        shift = design.dose_slope * logdose
    z = rng.standard_normal(k)
    theta = design.mu + shift + design.tau * z
    se = design.sd / np.sqrt(n)
    mean_t = theta + se * rng.standard_normal(k)
    mean_c = se * rng.standard_normal(k)
    sd_t = design.sd * np.sqrt(rng.chisquare(n - 1) / (n - 1))
    sd_c = design.sd * np.sqrt(rng.chisquare(n - 1) / (n - 1))
    u = rng.random(k)
    seed = int(rng.integers(0, 2**31 - 1))
    yi = mean_t - mean_c
    vi = (sd_t**2 + sd_c**2) / n
    lost = u < design.missing
    if design.missing_if == "nonsignificant":
        lost &= np.abs(yi) / np.sqrt(vi) < Z_975
    keep = ~lost
    return Trials(
        yi=yi[keep],
        vi=vi[keep],
        n_treatment=n[keep],
        n_control=n[keep],
        dose=None if logdose is None else logdose[keep],
        planned=k,
        seed=seed,
    )
