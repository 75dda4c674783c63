"""Catalog parsing: typed specs, and a direction or kind the analysis does not know refused."""

import pandas as pd
import pytest

from analytics.specs import CatalogError, read_catalog, read_overrides, spec_for


def _catalog(**row: object) -> pd.DataFrame:
    base = {"metric": "cycle_time", "direction": "lower_is_better", "kind": "value",
            "threshold_pct": 10.0, "tolerance_pct": None, "unit": "hours"}  # fmt: skip
    return pd.DataFrame([{**base, **row}])


def test_a_catalog_row_becomes_a_typed_spec():
    spec = read_catalog(_catalog(direction="higher_is_better", scale="points", unit=" Touches"))
    cycle = spec["cycle_time"]
    assert (cycle.direction, cycle.kind, cycle.threshold_pct, cycle.tolerance_pct) == (
        "higher_is_better", "value", 10.0, None,
    )  # fmt: skip
    assert (cycle.sign, cycle.points, cycle.count_unit) == (1.0, True, True)
    assert read_catalog(_catalog())["cycle_time"].scale == "relative"  # no scale column


@pytest.mark.parametrize(
    ("field", "value"),
    [("direction", "lower_is_beter"), ("direction", None), ("kind", "guardrial")],
)
def test_an_unknown_direction_or_kind_is_refused_naming_the_metric_and_the_value(field, value):
    # before: an unknown direction silently read as lower-is-better, an unknown kind as value
    with pytest.raises(CatalogError) as refused:
        read_catalog(_catalog(**{field: value}))
    message = str(refused.value)
    assert "'cycle_time'" in message
    assert repr(value) in message
    assert field in message


def test_a_pilots_own_threshold_overrides_the_catalogs():
    specs = read_catalog(_catalog())
    overrides = read_overrides(
        pd.DataFrame([{"pilot_id": "P1", "metric": "cycle_time", "threshold_pct": "15",
                       "tolerance_pct": None}])
    )  # fmt: skip
    assert spec_for(specs, overrides, "P1", "cycle_time").threshold_pct == 15.0
    assert spec_for(specs, overrides, "P2", "cycle_time").threshold_pct == 10.0
