"""Figures (matplotlib). Plot functions only read result objects."""
