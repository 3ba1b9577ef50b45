"""Result types of the metafor/bayesmeta toolbox: heterogeneity intervals, small-study tests,
influence and cumulative analysis, Bayes factors and predictive p-values."""
