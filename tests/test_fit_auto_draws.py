"""``auto`` re-samples a well-mixing chain whose ESS falls short, and only such a chain."""

from __future__ import annotations

import pandas as pd

from bayes_msc.bayes.mcmc.run import MAX_DRAWS_FACTOR, _longer_draws
from bayes_msc.results.bayes import BayesResult, Verdict


def _result(verdict: Verdict) -> BayesResult:
    return BayesResult(model="re", prior="p", engine="mcmc", k=5, parameters=pd.DataFrame(), verdict=verdict)


def test_short_ess_with_clean_chains_gets_more_draws() -> None:
    v = Verdict(False, ("ESS_bulk below 1000: tau 889",), max_r_hat=1.004, min_ess_bulk=889.0, divergences=0)
    longer = _longer_draws(_result(v), 1000)
    assert longer is not None and 1000 * 1000 / 889 < longer <= 1000 * MAX_DRAWS_FACTOR
    assert longer % 100 == 0


def test_very_short_ess_is_capped() -> None:
    v = Verdict(False, ("ESS",), max_r_hat=1.005, min_ess_bulk=50.0, divergences=0)
    assert _longer_draws(_result(v), 1000) == 1000 * MAX_DRAWS_FACTOR


def test_divergences_high_rhat_or_a_pass_are_not_fixed_by_more_draws() -> None:
    assert _longer_draws(_result(Verdict(True, (), 1.001, 3000.0, 0)), 1000) is None
    assert _longer_draws(_result(Verdict(False, ("div",), 1.001, 800.0, 3)), 1000) is None
    assert _longer_draws(_result(Verdict(False, ("rhat",), 1.05, 800.0, 0)), 1000) is None
