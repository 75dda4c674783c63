"""Helpers for store tests: tiny CSVs written to tmp_path and a snapshot of every table."""

from __future__ import annotations

from pathlib import Path

import pytest

from pilotproof.store import Store

PILOTS = (
    "pilot_id,go_live,pilot_name,company\n"
    "P1,2024-03-01,Support bot,Acme\n"
    "P2,2024-02-01,Invoices,Beta\n"
)
LONG = (
    "pilot_id,date,metric,value\n"
    "P1,2024-01-01,cycle_time,5.0\n"
    "P1,2024-01-02,cycle_time,4.5\n"
    "P1,2024-01-03,cycle_time,4.0\n"
)
TABLES = (
    "meta",
    "pilots",
    "metric_catalog",
    "observations",
    "uploads",
    "replaced_observations",
    "replaced_pilots",
    "thresholds",
    "events",
    "mappings",
)


def write(tmp_path: Path, name: str, text: str | bytes) -> Path:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8", newline="")
    return path


def snapshot(store: Store) -> dict[str, list[tuple]]:
    """Every row of every table, sorted: equal snapshots mean an unchanged database."""
    with store._cursor() as cur:  # test-only peek under the public API
        return {
            table: sorted(cur.execute(f"SELECT * FROM {table}").fetchall(), key=repr)
            for table in TABLES
        }


@pytest.fixture
def csv_file(tmp_path: Path):
    """`csv_file(name, text_or_bytes) -> Path` in tmp_path."""
    return lambda name, text: write(tmp_path, name, text)


@pytest.fixture(name="snapshot")
def snapshot_fixture():
    return snapshot


@pytest.fixture
def store(tmp_path: Path):
    with Store(tmp_path / "test.duckdb") as opened:
        yield opened


@pytest.fixture
def seeded(tmp_path: Path, store: Store) -> Store:
    """A store holding two pilots and three cycle-time days for P1."""
    store.ingest([write(tmp_path, "pilots.csv", PILOTS), write(tmp_path, "base.csv", LONG)])
    return store
