"""Simulation studies: the operating characteristics of meta-analysis methods.

A study file (TOML, :mod:`bayes_msc.simstudy.spec`) states a grid of designs (number of
trials, their sizes, the true mu and tau, a dose pattern, trials missing the analysed
month), a number of replications and the methods to compare (frequentist pooling with or
without Knapp-Hartung, Bayesian prior sets on the exact engine or MCMC). Each replication
simulates one meta-analysis per design (:mod:`~bayes_msc.simstudy.generate`) and every
method analyses the same data (:mod:`~bayes_msc.simstudy.methods`). The replications are
computed in chunks (:mod:`~bayes_msc.simstudy.chunks`) on Dask
(:mod:`~bayes_msc.simstudy.runner`), each chunk saved as it completes
(:mod:`~bayes_msc.simstudy.folder`) so that a study resumes where it stopped; the
performance measures with their Monte Carlo standard errors are in
:mod:`~bayes_msc.simstudy.measures`, the whole study in :mod:`~bayes_msc.simstudy.study`
and its result type in :mod:`~bayes_msc.simstudy.result`.

Determinism: a replication's random numbers come from
``numpy.random.SeedSequence([seed, design key], spawn_key=(replication,))`` alone, so the
results depend only on the study file, never on the number or kind of workers.
"""
