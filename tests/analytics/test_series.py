"""analytics.series on small hand-made observation tables: the treated mean per date, one
series per control unit, the two-way fill of a unit's gaps, and the alignment of control units
to the treated dates."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analytics.series import (
    align_controls,
    control_series,
    encode,
    panel_fill,
    treatment_series,
    unit_panel_mean,
)

DAYS = pd.date_range("2024-01-01", periods=4, freq="D")


def _obs(rows: list[tuple[str, str, int, str, str, float]]) -> pd.DataFrame:
    """(pilot, metric, day index, group, unit, value) rows as the cleaned observation frame."""
    frame = pd.DataFrame(rows, columns=["pilot_id", "metric", "day", "group", "unit", "value"])
    frame["date"] = DAYS[frame.pop("day").to_numpy()]
    frame["segment"] = ""
    return frame


def test_treated_rows_become_the_mean_over_units_per_date_and_gappy_keys_are_named():
    obs = _obs(
        [
            ("P", "cost", 0, "treatment", "a", 10.0),
            ("P", "cost", 0, "treatment", "b", 20.0),
            ("P", "cost", 1, "treatment", "a", 12.0),  # unit b does not report on day 1
            ("P", "time", 1, "treatment", "", 5.0),
            ("P", "time", 0, "treatment", "", 4.0),  # out of order: sorted by date
        ]
    )
    enc = encode(obs)
    series, uneven = treatment_series(enc)
    by_name = {enc.name(key): value for key, value in series.items()}
    days, cost = by_name[("P", "cost")]
    assert cost.tolist() == [15.0, 12.0]
    assert days.tolist() == DAYS[:2].as_unit("ns").asi8.tolist()
    assert by_name[("P", "time")][1].tolist() == [4.0, 5.0]
    assert {enc.name(key) for key in uneven} == {("P", "cost")}


def test_control_rows_become_one_series_per_unit():
    obs = _obs(
        [
            ("P", "cost", 0, "treatment", "", 10.0),
            ("P", "cost", 0, "control", "north", 7.0),
            ("P", "cost", 1, "control", "north", 8.0),
            ("P", "cost", 0, "control", "south", 3.0),
        ]
    )
    enc = encode(obs)
    (units,) = control_series(enc).values()
    assert {name: v.tolist() for name, (_, v) in units.items()} == {
        "north": [7.0, 8.0],
        "south": [3.0],
    }


def test_panel_fill_adds_the_missing_cell_from_the_unit_level_and_the_date_effect():
    # unit b runs 10 above unit a; dates move both the same way
    table = np.array([[1.0, 11.0], [2.0, np.nan], [3.0, 13.0]])
    filled = panel_fill(table)
    assert filled[1, 1] == pytest.approx(12.0)
    complete = np.array([[1.0, 2.0], [3.0, 4.0]])
    assert panel_fill(complete) is complete  # a complete table comes back unchanged
    assert np.isnan(panel_fill(np.array([[1.0, 2.0], [np.nan, np.nan]]))[1]).all()


def test_unit_panel_mean_does_not_move_when_a_unit_stops_reporting():
    rows = pd.DataFrame(
        {
            "date": DAYS[[0, 0, 1, 1, 2]],
            "unit": ["a", "b", "a", "b", "a"],  # b (level 20 above a) misses day 2
            "value": [10.0, 30.0, 10.0, 30.0, 10.0],
        }
    )
    _, means = unit_panel_mean(rows)
    assert means.tolist() == pytest.approx([20.0, 20.0, 20.0])  # not 10 on day 2


def test_align_controls_leaves_out_a_unit_below_the_coverage_and_says_so():
    dates = DAYS.as_unit("ns").asi8
    y = np.array([1.0, 2.0, 3.0, 4.0])
    units = {
        "full": (dates, np.array([5.0, 6.0, 7.0, 8.0])),
        "rare": (dates[:1], np.array([9.0])),  # one date of four
    }
    aligned = align_controls(units, dates, y, coverage=0.5)
    assert aligned.controls is not None
    assert aligned.controls.names == ("full",)
    assert aligned.controls.values[:, 0].tolist() == [5.0, 6.0, 7.0, 8.0]
    assert "rare" in aligned.note
    none_kept = align_controls({"rare": units["rare"]}, dates, y, coverage=0.5)
    assert none_kept.controls is None
    assert none_kept.sparse is not None and none_kept.sparse[0] == 9.0
