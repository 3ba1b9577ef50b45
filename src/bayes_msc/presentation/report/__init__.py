"""HTML report written by ``bayes-msc run``."""
