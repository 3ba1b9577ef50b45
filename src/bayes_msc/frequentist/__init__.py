"""frequentist."""
