"""The sample files: deterministic, up to date with their generator, and valid under the CSV
contract (issue 2) before any store sees them."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sample_data import SAMPLE_DIR, load_generator, metric_files

from analytics.results import DECISIONS, READINESS_FIELDS, REASONS, VERDICTS
from pilotproof.store.catalog import BUILTIN_METRICS, RATE_UNITS

CATALOG = {spec.metric: spec for spec in BUILTIN_METRICS}
#: The sample's own metrics with the unit a partner gives them in Settings (`catalog.csv`).
CUSTOM_UNITS = dict(
    pd.read_csv(SAMPLE_DIR / "catalog.csv", keep_default_na=False)[["metric", "unit"]].to_numpy()
)


@pytest.fixture(scope="module")
def generator():
    return load_generator()


def test_generator_is_deterministic_and_the_shipped_files_are_its_output(tmp_path, generator):
    first = generator.write(tmp_path / "first")
    second = generator.write(tmp_path / "second")
    assert [p.name for p in first] == [p.name for p in second]
    for a, b in zip(first, second, strict=True):
        assert a.read_bytes() == b.read_bytes(), a.name
        # The committed copy must be exactly what the script writes today.
        assert (SAMPLE_DIR / a.name).read_bytes() == a.read_bytes(), (
            f"{a.name} is stale: run python data/sample/make_sample.py"
        )
    shipped = {p.name for p in SAMPLE_DIR.glob("*.csv")}
    assert shipped == {p.name for p in first}


def test_portfolio_shape(pilots, observations):
    assert len(pilots) >= 10
    assert pilots["company"].nunique() >= 3
    assert pilots["function"].nunique() >= 6
    assert set(observations["pilot_id"]) == set(pilots.index)
    # AI sprawl: two tools from different vendors in one function of one company.
    vendors = pilots.groupby(["company", "function"])["vendor"].nunique()
    assert (vendors >= 2).any()
    assert pilots["monthly_cost"].notna().sum() >= len(pilots) * 2 // 3
    assert pilots["annual_volume"].notna().sum() >= len(pilots) * 2 // 3


def test_readiness_complete_for_some_pilots_and_partial_for_others(pilots):
    answered = pilots[list(READINESS_FIELDS)].notna()
    complete = answered.all(axis=1)
    assert complete.sum() >= 4
    assert (~complete).sum() >= 4
    assert (answered.sum(axis=1) <= 3).any(), "one pilot should be barely specified"
    # A value_metric answer, where given, names a metric the pilot reports.
    reported = {}
    for path in metric_files():
        frame = pd.read_csv(path)
        names = (
            set(frame["metric"]) if "metric" in frame else set(frame.columns) - {"pilot_id", "date"}
        )
        for pilot_id in frame["pilot_id"].unique():
            reported.setdefault(pilot_id, set()).update(names)
    for pilot_id, value_metric in pilots["value_metric"].dropna().items():
        assert value_metric in reported[pilot_id], pilot_id


def test_values_are_valid(observations):
    assert observations["value"].notna().all()
    assert np.isfinite(observations["value"]).all()
    for metric, rows in observations.groupby("metric"):
        spec = CATALOG.get(metric)
        low = -1 if spec is not None and spec.can_be_negative else 0  # a margin may be negative
        assert (rows["value"] >= low).all(), metric
        unit = spec.unit if spec is not None else CUSTOM_UNITS.get(metric, "")
        if unit in RATE_UNITS:
            assert rows["value"].between(low, 1).all(), metric
        if metric in {"cycle_time", "response_time", "cost_per_transaction", "manual_touches"}:
            assert (rows["value"] > 0).all(), metric
    segmented = observations[observations["segment"] != ""]
    assert (segmented["volume"] > 0).all()
    assert observations["date"].max() <= pd.Timestamp("2026-10-31")
    assert observations["group"].isin({"treatment", "control"}).all()
    keys = ["pilot_id", "metric", "date", "group", "unit", "segment"]
    assert not observations.duplicated(keys).any()


def test_unknown_metrics_carry_a_direction():
    daily = pd.read_csv(SAMPLE_DIR / "metrics_daily.csv", keep_default_na=False)
    unknown = daily[~daily["metric"].isin(CATALOG)]
    assert len(unknown) > 0, "the sample should show a custom metric"
    assert unknown["direction"].isin({"lower_is_better", "higher_is_better"}).all()
    # each has its unit in the sample's catalog, and the same direction there
    listed = pd.read_csv(SAMPLE_DIR / "catalog.csv", keep_default_na=False).set_index("metric")
    for metric, rows in unknown.groupby("metric"):
        assert listed.loc[metric, "unit"], metric
        assert set(rows["direction"]) == {listed.loc[metric, "direction"]}, metric


def test_every_export_form_is_present():
    names = {p.name for p in metric_files()}
    wide = [n for n in names if "weekly" in n]
    assert "metrics_daily.csv" in names and "metrics_monthly.csv" in names and wide
    for name in wide:
        assert "metric" not in pd.read_csv(SAMPLE_DIR / name, nrows=1).columns


def test_total_size_is_modest():
    assert sum(p.stat().st_size for p in SAMPLE_DIR.glob("*.csv")) < 5_000_000


def test_expected_speaks_the_shared_vocabulary(expected, pilots):
    assert list(expected.columns) == [
        "pilot_id",
        "metric",
        "expected_verdict",
        "expected_reason",
        "expected_decision",
    ]
    assert set(expected["pilot_id"]) == set(pilots.index)
    assert expected["expected_verdict"].isin(VERDICTS).all()
    assert expected["expected_decision"].isin(DECISIONS).all()
    reasons = expected["expected_reason"][expected["expected_reason"] != ""]
    assert reasons.isin(REASONS).all()
    # Each family the analytics must tell apart appears at least once.
    for family in (
        "noise",
        "pre_trend",
        "seasonality",
        "regression_to_mean",
        "novelty_decay",
        "control_moved",
        "mix_shift",
        "burden_shift",
        "activity_without_outcome",
        "readiness_gap",
        "too_early",
    ):
        assert family in set(reasons), family
    assert set(expected["expected_decision"]) == set(DECISIONS)


def test_readme_tells_every_pilots_story(expected):
    readme = (SAMPLE_DIR / "README.md").read_text(encoding="utf-8")
    rows = {
        line.split("|")[1].strip(): line for line in readme.splitlines() if line.startswith("| ")
    }
    for row in expected.itertuples():
        assert row.pilot_id in rows, row.pilot_id
        line = rows[row.pilot_id]
        assert row.expected_decision in line and row.expected_verdict in line, row.pilot_id
        if row.expected_reason:
            assert row.expected_reason in line, (row.pilot_id, row.expected_reason)
