"""bayes/exact."""
