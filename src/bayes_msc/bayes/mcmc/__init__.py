"""bayes/mcmc."""
