"""Figures of the metafor toolbox: funnel (contour-enhanced, trim-and-fill), Baujat and
cumulative plots."""
