"""The structural time-series check (`analytics.structural`): a significant change is read
against the wider of the engine's interval and the basic structural model's (local level, AR(1)
noise, stochastic season; Harvey 1989; CausalImpact's default model is a local level).

Known-truth pins of the post-period mean's half-width, from the model's own algebra:
* a level that does not wander: the pre-period mean's error and the post-period's noise,
  sd * sqrt(1 / n_pre + 1 / h) (ordinary least squares);
* a pure random walk: the walk's steps accumulate over the horizon, sd * sqrt((h + 1)(2h + 1)
  / 6h) (the variance of the mean of h future points of a walk from a known last point)."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from synth import analyse_live, observation_rows

from analytics.levels import Z_CRIT
from analytics.structural import forecast_interval, structural_check
from pilotproof.analysis import to_json


def test_a_still_level_gives_the_difference_of_means_interval():
    n_pre, h = 60, 20
    ratios = []
    for seed in range(12):
        y = 100 + np.random.default_rng(seed).normal(0, 1, n_pre + h)
        found = forecast_interval(y, n_pre, "Y")
        assert found is not None
        half = found[1]
        ratios.append(half / (Z_CRIT * math.sqrt(1 / n_pre + 1 / h)))
    # the fitted noise sd varies by seed (n = 60: about 9%); a spurious wander only widens
    assert 0.85 <= np.median(ratios) <= 1.25, ratios


def test_a_random_walk_forecast_accumulates_the_walk_over_the_horizon():
    h = 20
    ratios = []
    for seed in range(12):
        rng = np.random.default_rng(100 + seed)
        y = 100 + np.cumsum(rng.normal(0, 1, 60 + h)) + rng.normal(0, 0.05, 60 + h)
        found = forecast_interval(y, 60, "Y")
        assert found is not None
        half = found[1]
        ratios.append(half / (Z_CRIT * math.sqrt((h + 1) * (2 * h + 1) / (6 * h))))
    assert 0.75 <= np.median(ratios) <= 1.3, ratios


def test_the_model_does_not_apply_to_daily_short_or_broken_series():
    y = np.random.default_rng(0).normal(100, 1, 80)
    assert forecast_interval(y, 60, "D") is None  # daily series are not checked
    assert forecast_interval(y[:10], 6, "M") is None  # under 8 pre-period points
    assert forecast_interval(np.r_[y[:-1], np.nan], 60, "M") is None
    assert forecast_interval(np.zeros(80), 60, "M") is None


GO = pd.Timestamp("2024-01-01")


def _weekly(seed: int, effect: float, walk_sd: float) -> pd.DataFrame:
    """Weekly, two years before go-live and 20 weeks after: a level near 100 that wanders as a
    random walk (step sd `walk_sd`) plus noise (sd 1), and `effect` at go-live."""
    rng = np.random.default_rng(seed)
    n_pre, n_post = 104, 20
    dates = pd.date_range(GO - pd.Timedelta(weeks=n_pre), periods=n_pre + n_post, freq="W-MON")
    walk = np.cumsum(rng.normal(0, walk_sd, n_pre + n_post))
    y = (100 + walk + rng.normal(0, 1.0, n_pre + n_post)) * (1 + effect * (dates >= GO))
    return observation_rows(f"walk-{walk_sd}-{effect:+.2f}-{seed}", "cycle_time", dates, y)


def _analyse(effect: float, seeds: range, walk_sd: float = 0.0):
    return analyse_live([_weekly(s, effect, walk_sd) for s in seeds], GO)


@pytest.mark.slow
def test_a_wandering_level_does_not_make_a_no_effect_pilot_significant():
    # a guard: the engine's backtests see much of a random walk's wander (intervals of +-10 to
    # +-60%); the structural forecast's interval grows with the walk over the horizon
    results = _analyse(0.0, range(30), walk_sd=1.5)
    called = [r.pilot_id for r in results if r.metrics[0].verdict in ("real", "worse")]
    assert len(called) <= 2, called  # 5% of 30 is 1.5
    # a 2.5% tail in 30 draws: no `real` at all 47% of the time, one or none 83%; seed 6's walk
    # falls 9.6% below the structural forecast after go-live (2.4 of its standard deviations),
    # and both counterfactuals call it
    told_scale = [r.pilot_id for r in results if r.decision == "scale"]
    assert len(told_scale) <= 1, told_scale


def test_a_clear_step_on_a_still_level_stays_real_and_reports_the_structural_width():
    results = _analyse(-0.15, range(4))
    for result in results:
        effect = result.metrics[0]
        assert effect.verdict == "real", (result.pilot_id, effect.effect_pct, effect.reasons)
        half = effect.structural_halfwidth_pct
        assert half is not None and 0 < half < 5  # noise sd 1% over 104 and 20 weeks: about 0.5
        assert effect.ci_high_pct - effect.ci_low_pct >= 2 * half - 1e-6
    metric = to_json(results[:1])["pilots"][0]["metrics"][0]
    assert metric["structural_halfwidth_pct"] == pytest.approx(
        results[0].metrics[0].structural_halfwidth_pct
    )


def test_the_check_leaves_non_significant_and_control_group_estimates_alone():
    (result,) = _analyse(0.0, range(1))
    assert result.metrics[0].verdict not in ("real", "worse")
    assert result.metrics[0].structural_halfwidth_pct is None  # never fitted: nothing to check


def test_the_check_widens_every_standard_error_by_one_factor():
    from analytics.estimate import estimate_its

    rows = _weekly(3, -0.2, walk_sd=0.0)
    dates = pd.DatetimeIndex(rows["date"])
    est = estimate_its(dates, GO, "W", rows[["value"]].to_numpy(), np.array([-1.0]))[0]
    narrow = replace(est, se_abs=est.se_abs / 50, cf_se=est.cf_se / 50)
    checked = structural_check(narrow)
    assert checked.structural_halfwidth is not None
    factor = checked.se_abs / narrow.se_abs
    assert factor > 1
    assert checked.cf_se == pytest.approx(narrow.cf_se * factor)
    assert checked.segment_se == pytest.approx(narrow.segment_se * factor)
    assert checked.calibration == pytest.approx(narrow.calibration * factor)
    assert structural_check(replace(narrow, method="did")) is not None
    assert structural_check(replace(narrow, method="did")).structural_halfwidth is None
