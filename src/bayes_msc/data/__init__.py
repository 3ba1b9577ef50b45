"""Data layer: read and validate dataset folders, convert statistics, build effect sizes."""
