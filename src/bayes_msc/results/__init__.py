"""Result types shared by the frequentist and Bayesian engines (layer 2)."""

from bayes_msc.results.layout import CI_LEVEL, SUMMARY_COLUMNS

__all__ = ["CI_LEVEL", "SUMMARY_COLUMNS"]
