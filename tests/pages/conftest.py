"""AppTest fixtures: a database in tmp_path, seeded from data/sample/ (or left empty), selected
through PILOTPROOF_DB exactly as the running app selects it."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "data" / "sample"


@pytest.fixture
def sample_db(tmp_path, monkeypatch) -> Path:
    db = tmp_path / "sample.duckdb"
    monkeypatch.setenv("PILOTPROOF_DB", str(db))
    monkeypatch.setenv("PILOTPROOF_SEED", "1")
    return db


@pytest.fixture
def empty_db(tmp_path, monkeypatch) -> Path:
    db = tmp_path / "empty.duckdb"
    monkeypatch.setenv("PILOTPROOF_DB", str(db))
    monkeypatch.setenv("PILOTPROOF_SEED", "0")
    return db


@pytest.fixture
def sample_pilots() -> pd.DataFrame:
    return pd.read_csv(SAMPLE / "pilots.csv", dtype=str, keep_default_na=False)


@pytest.fixture
def expected() -> pd.DataFrame:
    return pd.read_csv(SAMPLE / "expected.csv", dtype=str, keep_default_na=False)


@pytest.fixture
def unproven_db(tmp_path, monkeypatch, unproven_files) -> Path:
    """A database holding only the pilot whose win extends for a guardrail not yet shown
    within its tolerance (`unproven_files`)."""
    from pilotproof.store import Store

    db = tmp_path / "unproven.duckdb"
    with Store(db) as store:
        store.ingest(unproven_files, user="loader")
    monkeypatch.setenv("PILOTPROOF_DB", str(db))
    monkeypatch.setenv("PILOTPROOF_SEED", "0")
    return db
