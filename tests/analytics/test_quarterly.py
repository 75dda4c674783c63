"""Quarterly series (finance exports): their own frequency, the season modelled with quarter
dummies, known truth over many seeds."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from synth import READY, ar1, catalog, empty_thresholds, observation_rows

from analytics.frequency import infer_frequency, quarter, time_index
from analytics.its import build_design
from analytics.portfolio import analyze_portfolio

GO = pd.Timestamp("2024-01-01")
# cycle time is 12% higher in the first quarter, 10% lower in the third
SEASON = np.array([0.12, 0.0, -0.10, -0.02])


def quarters(n_pre: int, n_post: int, go: pd.Timestamp = GO) -> pd.DatetimeIndex:
    return pd.date_range(go - pd.DateOffset(months=3 * n_pre), periods=n_pre + n_post, freq="QS")


def run(dates: pd.DatetimeIndex, values: np.ndarray, go: pd.Timestamp = GO):
    obs = observation_rows("P1", "cycle_time", dates, values)
    pilots = pd.DataFrame([{"pilot_id": "P1", "pilot_name": "Q", "go_live": go, **READY}])
    [result] = analyze_portfolio(obs, pilots, catalog(), empty_thresholds())
    return result, result.metrics[0]


def test_quarter_starts_and_ends_are_quarterly():
    assert infer_frequency(pd.date_range("2020-01-01", periods=12, freq="QS")) == "Q"
    assert infer_frequency(pd.date_range("2020-03-31", periods=12, freq="QE")) == "Q"
    assert infer_frequency(pd.date_range("2020-01-01", periods=12, freq="MS")) == "M"
    assert infer_frequency(pd.date_range("2010-01-01", periods=12, freq="YS")) == "Y"


def test_time_runs_in_quarters_and_quarters_are_calendar_quarters():
    dates = quarters(4, 4)
    np.testing.assert_allclose(time_index(dates, "Q", dates[0]), np.arange(8))
    np.testing.assert_array_equal(quarter(dates), [0, 1, 2, 3, 0, 1, 2, 3])


def test_two_years_of_quarters_bring_quarter_dummies():
    design = build_design(quarters(8, 4), GO, "Q")
    assert design.names == ("intercept", "trend", "qtr_1", "qtr_2", "qtr_3")
    assert design.annual_season
    short = build_design(quarters(6, 4), GO, "Q")
    assert short.names == ("intercept", "trend")
    assert not short.annual_season


@pytest.mark.parametrize("seed", range(12))
def test_a_quarterly_seasonal_swing_is_a_mirage(seed):
    # no effect; the first post quarter is the light third quarter, the pre-period ends on the
    # heavy first: a before/after reading sees a fall
    rng = np.random.default_rng(seed)
    go = pd.Timestamp("2024-07-01")
    dates = quarters(12, 2, go)
    values = 100 * (1 + SEASON[quarter(dates)]) + ar1(rng, len(dates), 0.2, 1.5)
    _, effect = run(dates, values, go)
    assert effect.frequency == "Q"
    assert effect.verdict != "real"
    assert effect.verdict == "mirage" and "seasonality" in effect.reasons, effect.reasons


@pytest.mark.parametrize("seed", range(12))
def test_a_real_quarterly_cut_is_found_through_the_season(seed):
    rng = np.random.default_rng(100 + seed)
    dates = quarters(12, 6)
    post = np.asarray(dates >= GO)
    values = 100 * (1 + SEASON[quarter(dates)] - 0.15 * post) + ar1(rng, len(dates), 0.2, 1.5)
    result, effect = run(dates, values)
    assert effect.verdict == "real", effect.reasons
    assert effect.ci_low_pct <= -15 <= effect.ci_high_pct
    assert result.decision == "scale"


def test_too_few_quarters_say_so():
    dates = quarters(4, 2)
    _, effect = run(dates, 100 + np.arange(6.0))
    assert effect.reasons == ("insufficient_data",)
    assert "Needs at least 6 pre-period and 2 post-period points" in effect.checks[0].explanation
