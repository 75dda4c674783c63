"""An older database file opens, is upgraded in place, and keeps its data."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd
import pytest

from pilotproof.store import Store, StoreError
from pilotproof.store.schema import MIGRATIONS, SCHEMA_VERSION, V1


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
