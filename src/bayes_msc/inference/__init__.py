"""Inference layer: frequentist pooling, Bayesian models, exact posteriors, simulation."""
