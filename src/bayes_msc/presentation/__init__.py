"""Presentation layer: command line, plots, reports."""
