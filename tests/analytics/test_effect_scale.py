"""Fractions in percentage points (issue 11's margin inputs, several seeds): a margin near zero
reads "+2.0 points", never "+1227%"; the guard against meaningless percentages is judged on the
pre-period level, so a clear six-standard-deviation change is never "too early to tell"."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from synth import READY, empty_thresholds, observation_rows

from analytics.assembly import relative_base, relative_meaningful
from analytics.narrative import points
from analytics.portfolio import analyze_portfolio
from pilotproof.analysis import to_json

GO = pd.Timestamp("2025-06-02")
SEEDS = range(6)


def scaled_catalog(scale: str = "points") -> pd.DataFrame:
    return pd.DataFrame(
        {
            "metric": ["margin"],
            "direction": ["higher_is_better"],
            "unit": ["rate"],
            "kind": ["value"],
            "threshold_pct": [1.0],  # one percentage point
            "tolerance_pct": [0.5],
            "builtin": [True],
            "scale": [scale],
        }
    )


def _margin(seed: int, start: float, change: float) -> pd.DataFrame:
    """Weekly margin at `start` +- 0.003 for 60 weeks, then moved by `change` for 26."""
    rng = np.random.default_rng(seed)
    dates = pd.date_range(GO - pd.Timedelta(weeks=60), periods=86, freq="7D")
    y = start + rng.normal(0, 0.003, 86)
    y[60:] += change
    return observation_rows(f"m{start}{change}-{seed}", "margin", dates, y)


def _analyse(frames, scale="points"):
    obs = pd.concat(frames, ignore_index=True)
    ids = obs["pilot_id"].unique().tolist()
    pilots = pd.DataFrame(
        [
            {"pilot_id": p, "pilot_name": p, "go_live": GO, **READY, "value_metric": "margin"}
            for p in ids
        ]
    )
    return analyze_portfolio(obs, pilots, scaled_catalog(scale), empty_thresholds())


def test_a_margin_rising_from_zero_reads_plus_two_points():
    # was "raised margin 1227% ... ready to scale", or inconclusive / insufficient_data
    results = _analyse([_margin(seed, 0.0, 0.02) for seed in SEEDS])
    for result in results:
        effect = result.metrics[0]
        assert effect.scale == "points"
        assert effect.verdict == "real", (result.pilot_id, effect.reasons)
        assert effect.effect_points == pytest.approx(2.0, abs=0.3)
        assert 0 < effect.ci_low_points < 2.0 < effect.ci_high_points < 3.0
        assert effect.effect_pct is None  # a percentage of a level at zero means nothing
        assert result.decision == "scale"
        size = points(effect.effect_points)[1:]  # "2.1 points"
        assert f"raised margin {size} (95% interval" in result.summary
        assert "%" not in result.summary.split("(")[0]
        assert points(effect.effect_points) in effect.note
        fit = next(c for c in effect.checks if c.name == "insufficient_data").explanation
        assert "points on average" in fit and "%" not in fit  # no percentage of a level at zero


def test_a_margin_falling_two_points_is_worse():
    # was "cut margin 6363%"
    for result in _analyse([_margin(seed, 0.002, -0.02) for seed in SEEDS]):
        effect = result.metrics[0]
        assert effect.verdict == "worse", (result.pilot_id, effect.reasons)
        assert effect.effect_points == pytest.approx(-2.0, abs=0.3)
        assert effect.ci_high_points < 0
        assert effect.effect_pct is None
        assert f"cut margin {points(effect.effect_points)[1:]}, the wrong way" in result.summary


def test_a_relative_catalog_still_never_says_too_early_for_a_six_sd_change():
    # the same series with the metric read as relative: the verdict stands on the interval,
    # the percentage is withheld
    for result in _analyse([_margin(seed, 0.0, 0.02) for seed in SEEDS], scale="relative"):
        effect = result.metrics[0]
        assert effect.verdict == "real" and "insufficient_data" not in effect.reasons
        assert effect.effect_pct is None and effect.effect_points is None


def test_a_margin_with_a_level_keeps_its_relative_change_second():
    (result,) = _analyse([_margin(0, 0.20, 0.02)])
    effect = result.metrics[0]
    assert effect.effect_points == pytest.approx(2.0, abs=0.3)
    assert effect.effect_pct == pytest.approx(10.0, abs=1.5)  # 2 points of a 20% margin
    assert "relative)" in effect.note


def test_json_adds_points_and_scale_and_nulls_meaningless_percentages():
    results = _analyse([_margin(0, 0.0, 0.02), _margin(1, 0.20, 0.02)])
    near_zero, with_level = (p["metrics"][0] for p in to_json(results)["pilots"])
    for metric in (near_zero, with_level):
        assert metric["scale"] == "points"
        assert metric["effect_points"] == pytest.approx(2.0, abs=0.3)
        assert metric["ci_low_points"] < metric["effect_points"] < metric["ci_high_points"]
        assert metric["threshold_points"] == 1.0 and metric["threshold_pct"] is None
    assert near_zero["effect_pct"] is None and near_zero["ci_low_pct"] is None
    assert with_level["effect_pct"] == pytest.approx(10.0, abs=1.5)


def test_the_percentage_guard_reads_the_pre_period_level():
    rng = np.random.default_rng(0)
    assert not relative_meaningful(rng.normal(0, 0.003, 60))  # a level inside its noise
    assert not relative_meaningful(np.zeros(10))
    assert relative_meaningful(rng.poisson(0.3, 60).astype(float))  # a count has a level
    assert relative_meaningful(0.2 + rng.normal(0, 0.003, 60))
    pre = np.full(40, 6.0)
    # a projection that keeps its level is the base; one that collapses gives way to the level
    assert relative_base(5.0, pre) == 5.0
    assert relative_base(-0.2, pre) == 6.0
    assert relative_base(0.5, pre) == 6.0
