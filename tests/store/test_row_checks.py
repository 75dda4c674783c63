"""Each row check of store.checks names its problem word for word as before the checks became
one table: one bad row per check, metrics files and pilots files."""

from __future__ import annotations

import pytest

from pilotproof.store import validate_files

LONG = "pilot_id,date,metric,value\n"
PILOTS = "pilot_id,go_live,monthly_cost,annual_volume\n"

# (file content, the one problem as the user reads it, after "FILE.csv:")
ROWS = {
    "pilot_id": (LONG + ",2024-02-01,cycle_time,4\n", "2: column pilot_id: missing pilot_id"),
    "metric": (LONG + "P1,2024-02-01,,4\n", "2: column metric: missing metric name"),
    "date_missing": (LONG + "P1,,cycle_time,4\n", "2: column date: missing date"),
    "date_impossible": (
        LONG + "P1,2024-02-30,cycle_time,4\n",
        "2: column date: impossible date '2024-02-30'",
    ),
    "group": (
        "pilot_id,date,metric,value,group\nP1,2024-02-01,cycle_time,4,pilot\n",
        "2: column group: group 'pilot' must be 'treatment' or 'control'",
    ),
    "value_nan": (
        LONG + "P1,2024-02-01,cycle_time,NaN\n",
        "2: column value: value 'NaN' is not a finite number (NaN/inf are not allowed)",
    ),
    "value_text": (
        LONG + "P1,2024-02-01,cycle_time,abc\n",
        "2: column value: 'abc' is not a number",
    ),
    "volume": (
        "pilot_id,date,metric,value,volume\nP1,2024-02-01,cycle_time,4,-3\n",
        "2: column volume: volume -3 is negative",
    ),
    "direction": (
        "pilot_id,date,metric,value,direction\nP1,2024-02-01,cycle_time,4,up\n",
        "2: column direction: direction 'up' must be 'lower_is_better' or 'higher_is_better'",
    ),
    # a wide file's value problem is named in the metric's own column
    "wide_value": (
        "pilot_id,date,cycle_time\nP1,2024-02-01,abc\n",
        "2: column cycle_time: 'abc' is not a number",
    ),
    "pilots_pilot_id": (PILOTS + ",2024-01-01,10,10\n", "2: column pilot_id: missing pilot_id"),
    "go_live_missing": (PILOTS + "P1,,10,10\n", "2: column go_live: missing go-live date"),
    "go_live_impossible": (
        PILOTS + "P1,2024-13-45,10,10\n",
        "2: column go_live: impossible go-live date '2024-13-45'",
    ),
    "monthly_cost": (
        PILOTS + "P1,2024-01-01,-5,10\n",
        "2: column monthly_cost: monthly_cost -5 is negative",
    ),
    "annual_volume": (
        PILOTS + "P1,2024-01-01,10,lots\n",
        "2: column annual_volume: 'lots' is not a number",
    ),
}


@pytest.mark.parametrize("case", ROWS)
def test_each_row_check_names_its_problem(case: str) -> None:
    content, expected = ROWS[case]
    report = validate_files([(f"{case}.csv", content.encode())])
    assert [str(p) for p in report.problems] == [f"{case}.csv:{expected}"]
