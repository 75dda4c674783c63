"""A pilot's result must not depend on which other pilots are analysed with it: every series
uses its own HAC bandwidth and degrees of freedom, whatever else shares its batched fit."""

from __future__ import annotations

import math

import numpy as np
import statsmodels.api as sm

from analytics import hac
from analytics.hac import bartlett_meat
from analytics.portfolio import analyze_portfolio
from bench.bench_analyze import make_portfolio
from pilotproof.analysis import to_json


def _differences(a, b, path=""):
    """Paths where two JSON documents differ (numbers beyond 1e-9 relative)."""
    if isinstance(a, dict):
        assert a.keys() == b.keys(), path
        return [d for k in a for d in _differences(a[k], b[k], f"{path}.{k}")]
    if isinstance(a, list):
        assert len(a) == len(b), path
        return [
            d
            for i, (x, y) in enumerate(zip(a, b, strict=True))
            for d in _differences(x, y, f"{path}[{i}]")
        ]
    if isinstance(a, float) and isinstance(b, float):
        return [] if math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12) else [(path, a, b)]
    return [] if a == b else [(path, a, b)]


def test_each_pilot_alone_gives_the_same_numbers_as_in_the_portfolio():
    # 20 pilots on shared daily dates, go-lives spread over 200 days (pre-periods of 200 to
    # 400 points: bandwidths 18 to 26 lags), the first two with control units
    obs, pilots, catalog, thresholds = make_portfolio(20, 460, seed=4)
    pre_lengths = (pilots["go_live"] - obs["date"].min()).dt.days
    assert pre_lengths.nunique() >= 10
    together = to_json(analyze_portfolio(obs, pilots, catalog, thresholds))["pilots"]
    assert len(together) == 20
    for doc in together:
        alone = to_json(analyze_portfolio(obs, pilots, catalog, thresholds, [doc["pilot_id"]]))
        assert _differences(doc, alone["pilots"][0]) == [], doc["pilot_id"]


def test_per_series_bandwidths_match_statsmodels_series_by_series():
    # each column fitted on its own pre-period prefix with its own lag count, as if alone:
    # sm.OLS(y_pre, X_pre).fit(cov_type="HAC", cov_kwds={"maxlags": k}) per series
    rng = np.random.default_rng(11)
    n = 150
    t = np.arange(n, dtype=float)
    x = np.column_stack([np.ones(n), t / n, np.sin(t / 5)])
    n_pre = np.array([150, 60, 101, 30, 120, 77, 45, 90, 150, 33])
    lags = np.array([0, 3, 9, 1, 14, 5, 2, 7, 11, 4])
    y = rng.normal(size=(n, len(n_pre))).cumsum(axis=0) * 0.3
    resid = np.zeros_like(y)
    breads = []
    for j, p in enumerate(n_pre):
        bread = np.linalg.inv(x[:p].T @ x[:p])
        resid[:p, j] = y[:p, j] - x[:p] @ (bread @ x[:p].T @ y[:p, j])
        breads.append(bread)
    meat = bartlett_meat(resid, x, lags + 1, chunk=4)
    for j, p in enumerate(n_pre):
        ref = sm.OLS(y[:p, j], x[:p]).fit(cov_type="HAC", cov_kwds={"maxlags": int(lags[j])})
        # statsmodels' HAC has no small-sample correction here (use_correction=False default)
        got = breads[j] @ meat[j] @ breads[j]
        np.testing.assert_allclose(got, ref.cov_params(), rtol=1e-8, atol=1e-14)


def test_wide_batch_meat_is_the_chunked_one():
    # a batch wide enough (series x columns >= hac.ROWS_TOGETHER) forms the running sums of
    # every series row by row: the same additions as the per-chunk cumsum, the same numbers
    rng = np.random.default_rng(5)
    n, m = 90, 100
    x = np.column_stack([np.ones(n), np.arange(n) / n, np.sin(np.arange(n) / 4)])
    resid = rng.normal(size=(n, m))
    widths = rng.integers(1, 12, size=m)
    assert m * x.shape[1] >= hac.ROWS_TOGETHER
    wide = bartlett_meat(resid, x, widths)
    for j in range(m):  # one series at a time takes the cumsum path
        np.testing.assert_array_equal(wide[j], bartlett_meat(resid[:, j : j + 1], x, widths[j])[0])
