"""Degenerate input returns results with a reason code, never an exception."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from synth import READY, catalog, empty_thresholds

from analytics.portfolio import analyze_portfolio
from pilotproof.analysis import to_json, to_table

GO = pd.Timestamp("2025-03-03")
COLUMNS = ["pilot_id", "metric", "date", "group", "unit", "segment", "value", "volume"]


def obs_frame(dates, values, metric="cycle_time", pilot="P1", **extra) -> pd.DataFrame:
    n = len(dates)
    frame = pd.DataFrame(
        {
            "pilot_id": pilot,
            "metric": metric,
            "date": pd.DatetimeIndex(dates),
            "group": extra.get("group", "treatment"),
            "unit": extra.get("unit", ""),
            "segment": extra.get("segment", ""),
            "value": np.asarray(values, dtype=float),
            "volume": extra.get("volume", np.full(n, np.nan)),
        }
    )
    return frame[COLUMNS]


def pilots_frame(go_live=GO, pilot="P1") -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "pilot_id": pilot,
                "pilot_name": "Pilot one",
                "go_live": go_live,
                **READY,
                "monthly_cost": None,
                "annual_volume": None,
            }
        ]
    )


def run(obs, pilots=None):
    results = analyze_portfolio(
        obs, pilots_frame() if pilots is None else pilots, catalog(), empty_thresholds()
    )
    json.dumps(to_json(results), allow_nan=False)  # the CLI contract: finite numbers or null
    assert to_table(results)
    return results


def days(n_pre, n_post):
    return pd.date_range(GO - pd.Timedelta(days=n_pre), periods=n_pre + n_post, freq="D")


def only_metric(results):
    (pilot,) = results
    (effect,) = pilot.metrics
    return pilot, effect


@pytest.mark.parametrize(
    ("label", "dates", "values"),
    [
        ("one point", [GO], [5.0]),
        ("constant", days(60, 30), np.full(90, 7.0)),
        ("all zero", days(60, 30), np.zeros(90)),
        ("no post period", days(60, 0), np.linspace(1, 2, 60)),
        ("no pre period", pd.date_range(GO, periods=40, freq="D"), np.linspace(1, 2, 40)),
        ("two points", [GO - pd.Timedelta(days=1), GO], [1.0, 2.0]),
        ("too short", days(5, 3), np.arange(8.0) + 1),
        ("yearly, too short", pd.date_range("2022-01-01", periods=3, freq="YS"), [1.0, 2.0, 3.0]),
    ],
)
def test_insufficient_data_is_a_reason_not_an_exception(label, dates, values):
    pilot, effect = only_metric(run(obs_frame(dates, values)))
    assert effect.verdict == "inconclusive", label
    assert effect.reasons == ("insufficient_data",), label
    assert effect.effect_pct is None
    assert effect.checks[0].name == "insufficient_data" and not effect.checks[0].passed
    assert effect.checks[0].explanation
    assert pilot.decision == "extend"
    assert "too_early" in pilot.reasons
    assert list(effect.series.columns) == [
        "date",
        "observed",
        "counterfactual",
        "cf_low",
        "cf_high",
        "control",
    ]


def test_non_finite_values_are_dropped():
    values = np.r_[np.full(30, 10.0), np.full(30, 8.0)] + np.sin(np.arange(60))
    values[[3, 40]] = np.nan
    values[10] = np.inf
    _pilot, effect = only_metric(run(obs_frame(days(30, 30), values)))
    assert effect.n_pre + effect.n_post == 57
    assert effect.effect_pct is not None


def test_empty_observations_and_a_pilot_with_no_data():
    results = run(pd.DataFrame(columns=COLUMNS))
    (pilot,) = results
    assert pilot.metrics == ()
    assert pilot.decision == "extend"


def test_pilot_without_go_live_and_orphan_observations():
    rng = np.random.default_rng(0)
    obs = pd.concat(
        [
            obs_frame(days(60, 30), 10 + rng.normal(size=90)),
            obs_frame(days(60, 30), 10 + rng.normal(size=90), pilot="ORPHAN"),
        ]
    )
    results = run(obs, pilots_frame(go_live=pd.NaT))
    assert [r.pilot_id for r in results] == ["P1", "ORPHAN"]
    for result in results:
        assert result.metrics[0].reasons == ("insufficient_data",)


def test_yearly_series_with_enough_points_is_analysed():
    dates = pd.date_range("2015-01-01", periods=10, freq="YS")
    go = pd.Timestamp("2022-01-01")
    values = np.r_[[10, 10.2, 9.9, 10.1, 10.0, 9.8, 10.1], [8.0, 8.1, 7.9]]
    _pilot, effect = only_metric(run(obs_frame(dates, values), pilots_frame(go_live=go)))
    assert effect.frequency == "Y"
    assert effect.effect_pct is not None and effect.effect_pct < 0


def test_unknown_metric_negative_baseline_and_sparse_controls():
    rng = np.random.default_rng(1)
    dates = days(90, 45)
    margin = obs_frame(dates, -5 + rng.normal(size=135), metric="new_metric")
    control = obs_frame(dates[::7], rng.normal(size=len(dates[::7])), group="control", unit="c1")
    results = run(pd.concat([margin, control]))
    (pilot,) = results
    assert {m.metric for m in pilot.metrics} == {"new_metric"}
    assert pilot.metrics[0].method == "its"  # the sparse control unit was set aside


def test_segments_with_zero_volume():
    dates = days(60, 30)
    rows = [
        obs_frame(
            dates, np.full(90, 50.0) + np.sin(np.arange(90)), segment="a", volume=np.zeros(90)
        ),
        obs_frame(
            dates, np.full(90, 150.0) + np.cos(np.arange(90)), segment="b", volume=np.zeros(90)
        ),
    ]
    _pilot, effect = only_metric(run(pd.concat(rows)))
    assert effect.verdict == "inconclusive"


def test_timestamps_whose_offset_changes_with_daylight_saving_keep_their_day():
    # pandas refuses mixed UTC offsets in one column (ValueError); each stamp keeps its local day
    stamps = pd.date_range("2024-09-01", "2025-06-01", freq="D", tz="Europe/Berlin")
    dates = stamps.tz_localize(None)
    values = 100 - 15 * (dates >= GO) + np.random.default_rng(0).normal(0, 4, len(dates))
    obs = obs_frame(dates, values)
    obs["date"] = [s.isoformat() for s in stamps]  # '...T00:00:00+02:00', '...T00:00:00+01:00'
    _pilot, effect = only_metric(run(obs, pilots_frame()))
    assert effect.verdict == "real"
    assert effect.n_pre + effect.n_post == len(dates)


def test_rows_without_a_pilot_or_metric_belong_to_no_series():
    dates = days(60, 30)
    obs = obs_frame(dates, 10 + np.random.default_rng(2).normal(size=90))
    obs.loc[obs.index[10], "pilot_id"] = np.nan
    obs.loc[obs.index[20], "metric"] = "  "
    _pilot, effect = only_metric(run(obs, pilots_frame()))
    assert effect.n_pre + effect.n_post == 88
    results = run(obs.assign(pilot_id=np.nan), pilots_frame())
    assert [r.pilot_id for r in results] == ["P1"] and results[0].metrics == ()


def test_a_counterfactual_trending_to_zero_carries_no_runaway_percentage():
    # a weekly series with a falling pre-trend: extrapolated, the counterfactual reaches zero and
    # a change of a few units would read as hundreds of percent. Issue 11: the guard reads the
    # pre-period level, and a projection below zero is not "not enough data"
    weeks = pd.date_range(GO - pd.Timedelta(weeks=40), periods=60, freq="W-MON")
    trend = np.linspace(10.0, 2.0, 40)
    values = np.r_[trend, np.full(20, 1.0)] + np.random.default_rng(3).normal(0, 0.3, 60)
    _pilot, effect = only_metric(run(obs_frame(weeks, values), pilots_frame()))
    assert "insufficient_data" not in effect.reasons
    # the model family that cannot cross zero projects it: a log link (analytics.counts)
    assert effect.model.endswith("_log_link")
    assert -100 < effect.ci_low_pct < effect.effect_pct < effect.ci_high_pct < 100
