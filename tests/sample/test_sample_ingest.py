"""The sample portfolio goes into a fresh store exactly as shipped: no problems, every row, every
pilot with its answers, the custom metric registered from its `direction` column (and, seeded as
the app seeds it, with the unit `catalog.csv` gives it)."""

from __future__ import annotations

import pandas as pd
import pytest
from sample_data import SAMPLE_DIR, metric_files, read_observations

from analytics.results import READINESS_FIELDS
from pilotproof.store import Store, sample_files, validate_files

KIND_BY_FILE = {
    "pilots.csv": "pilots",
    "metrics_daily.csv": "long",
    "metrics_monthly.csv": "long",
    "metrics_weekly_harborline.csv": "wide",
    "metrics_weekly_meridian.csv": "wide",
    "metrics_weekly_northwind.csv": "wide",
}


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    with Store(tmp_path_factory.mktemp("sample") / "x.duckdb") as store:
        result = store.ingest(sample_files(), user="test")
        store.result = result
        yield store


@pytest.mark.parametrize("name", sorted(KIND_BY_FILE))
def test_each_file_validates_on_its_own(name):
    report = validate_files([SAMPLE_DIR / name])
    assert report.ok, [str(p) for p in report.problems]
    assert list(report.kind.values()) == [KIND_BY_FILE[name]]


def test_the_store_seeds_from_exactly_these_files():
    assert {p.name for p in sample_files()} == set(KIND_BY_FILE)
    assert {p.name for p in metric_files()} == set(KIND_BY_FILE) - {"pilots.csv"}


def test_every_row_arrives(store):
    expected = read_observations()
    got = store.observations()
    assert store.result.rows == len(expected) == len(got)
    assert store.result.pilots == expected["pilot_id"].nunique()
    key = ["pilot_id", "metric", "date", "group", "unit", "segment"]
    merged = expected.merge(got, on=key, how="outer", suffixes=("_csv", "_db"), indicator=True)
    assert (merged["_merge"] == "both").all()
    assert (merged["value_csv"] - merged["value_db"]).abs().max() < 1e-9
    volumes = merged.dropna(subset=["volume_csv"])
    assert len(volumes) > 0
    assert (volumes["volume_csv"] == volumes["volume_db"]).all()


def test_pilots_and_readiness_arrive(store):
    shipped = pd.read_csv(SAMPLE_DIR / "pilots.csv", keep_default_na=False, na_values=[""])
    got = store.pilots().set_index("pilot_id").loc[shipped["pilot_id"]]
    assert (got["go_live"].dt.strftime("%Y-%m-%d").to_numpy() == shipped["go_live"]).all()
    for field in (*READINESS_FIELDS, "company", "vendor"):
        assert answers(got[field]) == answers(shipped[field]), field


def answers(column: pd.Series) -> list[str | None]:
    return [None if pd.isna(value) else value for value in column]


def test_custom_metric_is_registered_with_its_direction(store):
    catalog = store.catalog().set_index("metric")
    assert catalog.loc["reply_rate", "direction"] == "higher_is_better"
    assert not catalog.loc["reply_rate", "builtin"]


def test_reingesting_the_sample_is_a_noop(store):
    before = store.data_version()
    result = store.ingest(sample_files(), user="test")
    assert result.noop
    assert len(store.observations()) == store.result.rows
    assert store.data_version() >= before


def test_the_seeded_custom_rate_reads_in_percent_on_its_axes(tmp_path):
    """The sample's reply rate (about 0.04) carries the unit a partner gives it in Settings, so
    the explorer's and every export's axis write 4%, not 0.04; it keeps the percent-change
    reading its success plan (10% better) is written in."""
    import re

    from reportlab.graphics.shapes import String

    from pilotproof.analysis import analyze_store
    from pilotproof.charts import value_axis
    from pilotproof.export import pdf_charts, report_from_store
    from pilotproof.store import seed_sample

    def strings(node) -> list[str]:
        found = [node.text] if isinstance(node, String) else []
        for child in getattr(node, "contents", []):
            found += strings(child)
        return found

    with Store(tmp_path / "seeded.duckdb") as seeded:
        seed_sample(seeded)
        entry = seeded.catalog().set_index("metric").loc["reply_rate"]
        assert (entry["unit"], entry["scale"], entry["direction"]) == (
            "rate", "relative", "higher_is_better",
        )  # fmt: skip
        assert value_axis(entry["unit"], entry["scale"]).percent
        results = analyze_store(seeded, ["CB-SALES"])
        (pilot,) = report_from_store(results, seeded, ["CB-SALES"]).pilots
    assert pilot.headline.metric == "reply_rate" and pilot.units["reply_rate"] == "rate"
    texts = strings(pdf_charts.series_drawing(pilot, 400, 200, "Helvetica"))
    assert "Reply rate (%)" in texts
    assert pilot.series_title.startswith("Reply rate (%): observed and expected without the pilot")
    ticks = [t for t in texts if re.fullmatch(r"\d+(\.\d+)?%", t)]
    assert len(ticks) >= 3, texts
    assert not [t for t in texts if re.fullmatch(r"0\.0\d+", t)], texts
