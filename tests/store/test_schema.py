"""An older database file opens, is upgraded in place, and keeps its data."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd
import pytest

from analytics.results import READINESS_FIELDS
from pilotproof.store import Store, StoreError
from pilotproof.store.schema import (
    MIGRATIONS,
    PILOT_FIELDS,
    READINESS_COLUMNS,
    SCHEMA_VERSION,
    V1,
    migrate,
)


def _build_v1(path: Path) -> None:
    """A version-1 file as the first release wrote it, with a pilot, a row and an upload."""
    con = duckdb.connect(str(path))
    for statement in V1:
        con.execute(statement)
    con.execute("INSERT INTO meta VALUES ('schema_version', '1'), ('data_version', '4')")
    con.execute(
        "INSERT INTO metric_catalog VALUES ('cycle_time', 'lower_is_better', 'hours', 'value', "
        "12, 5, true), ('margin', 'higher_is_better', 'rate', 'value', 2, 1, true)"
    )
    con.execute(
        "INSERT INTO pilots (pilot_id, go_live, pilot_name, workflow) "
        "VALUES ('OLD', DATE '2023-05-01', 'Legacy pilot', 'claims intake')"
    )
    con.execute(
        "INSERT INTO observations VALUES ('OLD', 'cycle_time', DATE '2023-01-01', 'treatment', "
        "'', '', 7.5, NULL, 1)"
    )
    con.execute(
        "INSERT INTO uploads VALUES (1, 'old.csv', 'abc', 'long', 1, 1, DATE '2023-01-01', "
        "DATE '2023-01-01', 'ops', TIMESTAMP '2023-06-01 10:00:00', 'ok', 'first load')"
    )
    con.execute("SELECT nextval('upload_seq')")
    con.close()


def test_v1_file_is_upgraded_with_data_intact(tmp_path: Path) -> None:
    path = tmp_path / "old.duckdb"
    _build_v1(path)
    with Store(path) as store:
        assert store.schema_version() == SCHEMA_VERSION == len(MIGRATIONS)
        assert store.data_version() == 4
        pilot = store.pilots().iloc[0]
        assert (pilot["pilot_id"], pilot["workflow"]) == ("OLD", "claims intake")
        assert pilot["go_live"] == pd.Timestamp("2023-05-01")
        assert store.observations()["value"].tolist() == [7.5]
        catalog = store.catalog().set_index("metric")
        assert catalog.loc["cycle_time", "threshold_pct"] == 12.0  # the user's edit survives
        assert "rework_rate" in catalog.index  # built-ins added since v1 arrive
        assert store.uploads()["message"].tolist() == ["first load"]
        # what v2 added works on the upgraded file
        store.add_event("OLD", "2023-05-01", "go-live")
        store.save_mapping("m", {"a": "b"})
        result = store.ingest(
            [("new.csv", b"pilot_id,date,metric,value\nOLD,2023-01-01,cycle_time,7.0\n")]
        )
        assert result.upload_ids == (2,) and result.replaced_rows == 1
        store.undo_upload(2)
        assert store.observations()["value"].tolist() == [7.5]
        # margin stays the one metric that may be negative
        store.ingest([("m.csv", b"pilot_id,date,metric,value\nOLD,2023-02-01,margin,-0.1\n")])
    with Store(path) as again:  # opening an up-to-date file changes nothing
        assert again.schema_version() == SCHEMA_VERSION


def test_thresholds_of_fractions_move_into_points(tmp_path: Path) -> None:
    # issue 11: a v2 file's margin, utilisation and rework thresholds were percents of the level
    path = tmp_path / "v2.duckdb"
    _build_v1(path)
    con = duckdb.connect(str(path))
    for statement in MIGRATIONS[1]:
        con.execute(statement)
    con.execute("UPDATE meta SET value = '2' WHERE key = 'schema_version'")
    con.execute(
        "INSERT INTO metric_catalog VALUES ('utilization', 'higher_is_better', 'rate', 'value', "
        "10, 5, true, false), ('rework_rate', 'lower_is_better', 'rate', 'guardrail', NULL, 5, "
        "true, false), ('win_share', 'higher_is_better', 'share', 'value', 20, NULL, false, false)"
    )
    con.execute(
        "INSERT INTO pilots (pilot_id, go_live) VALUES ('P', DATE '2023-05-01'), "
        "('Q', DATE '2023-05-01')"
    )
    rows = [("P", "margin", 0.2), ("P", "margin", 0.3), ("Q", "margin", 0.1)]
    rows += [("P", "utilization", 0.6), ("Q", "utilization", 0.6)]
    for pilot, metric, value in rows:
        con.execute(
            "INSERT INTO observations VALUES (?, ?, DATE '2023-01-02', 'treatment', ?, '', ?, "
            "NULL, 1)",
            [pilot, metric, f"{pilot}{value}", value],
        )
    con.execute("INSERT INTO thresholds VALUES ('P', 'margin', 4, 2), ('P', 'cycle_time', 8, 4)")
    con.close()
    with Store(path) as store:
        catalog = store.catalog().set_index("metric")
        scales = catalog["scale"].to_dict()
        assert scales["cycle_time"] == "relative"
        assert scales["margin"] == scales["utilization"] == scales["win_share"] == "points"
        # a built-in at its shipped percent default takes the new default in points
        assert tuple(catalog.loc["margin", ["threshold_pct", "tolerance_pct"]]) == (1.0, 0.5)
        assert catalog.loc["rework_rate", "tolerance_pct"] == 0.5
        # a user's percent is converted at the stored level: 10% of 0.6 is 6 points
        assert catalog.loc["utilization", "threshold_pct"] == pytest.approx(6.0)
        assert catalog.loc["utilization", "tolerance_pct"] == pytest.approx(3.0)
        assert pd.isna(catalog.loc["win_share", "threshold_pct"])  # no data: no level to read
        assert catalog.loc["cycle_time", "threshold_pct"] == 12.0  # relative: untouched
        overrides = store.thresholds().set_index(["pilot_id", "metric"])
        # the pilot's own level: 4% of 0.25 is 1 point
        assert overrides.loc[("P", "margin"), "threshold_pct"] == pytest.approx(1.0)
        assert overrides.loc[("P", "margin"), "tolerance_pct"] == pytest.approx(0.5)
        assert overrides.loc[("P", "cycle_time"), "threshold_pct"] == 8.0


def test_every_readiness_question_has_a_column_after_migrating(tmp_path: Path) -> None:
    """A readiness question added to analytics.results needs a migration adding its column:
    the old migrations are history and spell the columns out."""
    assert set(READINESS_FIELDS) <= set(PILOT_FIELDS)
    con = duckdb.connect(str(tmp_path / "fresh.duckdb"))
    migrate(con)
    for table in ("pilots", "replaced_pilots"):
        columns = {r[0] for r in con.execute(f"DESCRIBE {table}").fetchall()}
        missing = [f for f in PILOT_FIELDS if f not in columns]
        assert not missing, f"{table} has no column for {missing}: add a migration"
    con.close()


def test_the_store_names_every_readiness_question_in_its_order() -> None:
    """The store spells the readiness columns out (so that ingest imports no pandas); they are
    analytics.results' questions, in its order, and nothing else."""
    assert READINESS_COLUMNS == READINESS_FIELDS
    assert PILOT_FIELDS[-len(READINESS_COLUMNS) :] == READINESS_COLUMNS


def test_newer_file_is_refused_clearly(tmp_path: Path) -> None:
    path = tmp_path / "future.duckdb"
    Store(path).close()
    con = duckdb.connect(str(path))
    con.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    con.close()
    with pytest.raises(StoreError, match="newer than this pilotproof"):
        Store(path)


@pytest.mark.parametrize("name", ["notes.duckdb", "metrics.csv", "data.parquet"])
def test_a_file_that_is_not_a_database_is_refused_clearly(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    path.write_text("pilot_id,date,metric,value\nP1,2024-01-05,cycle_time,4\n")
    with pytest.raises(StoreError, match="not a valid DuckDB database"):
        Store(path)
    assert path.read_text() == "pilot_id,date,metric,value\nP1,2024-01-05,cycle_time,4\n"
    path.write_bytes(b"")  # DuckDB would open an empty .csv as an empty in-memory view
    with pytest.raises(StoreError, match=r"not a valid DuckDB database file \(it is empty"):
        Store(path)
    assert path.read_bytes() == b""
    with pytest.raises(StoreError, match="is a directory"):
        Store(tmp_path)


def test_v6_mappings_and_history_survive_scoping(tmp_path: Path) -> None:
    # v7 (issue 14's second probe): saved mappings get an owner, uploads a record of the pilots
    # they touched; a v6 file's mappings stay the fund's, its uploads keep their pilots
    path = tmp_path / "v6.duckdb"
    _build_v1(path)
    con = duckdb.connect(str(path))
    for statements in MIGRATIONS[1:6]:
        for statement in statements:
            con.execute(statement)
    con.execute("UPDATE meta SET value = '6' WHERE key = 'schema_version'")
    con.execute("INSERT INTO mappings VALUES ('legacy', '{\"Day\": \"date\"}')")
    con.execute("UPDATE pilots SET company = 'Acme'")
    con.close()
    with Store(path) as store:
        assert store.schema_version() == SCHEMA_VERSION == 9
        assert store.mappings() == {"legacy": {"Day": "date"}}
        from pilotproof.store.access import Scope

        acme = Scope(user="a@acme.test", role="company", companies=frozenset({"Acme"}))
        assert store.scoped(acme).mappings() == {}  # the fund's, not Acme's
        assert list(store.scoped(acme).uploads()["file_name"]) == ["old.csv"]
