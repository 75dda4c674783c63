"""A store in tmp_path holding one ready pilot whose cycle time fell 20% at go-live."""

from __future__ import annotations

import pytest
from govdata import pilot_files

from pilotproof.store import Store


@pytest.fixture
def store(tmp_path):
    with Store(tmp_path / "governance.duckdb") as opened:
        opened.ingest(pilot_files(), user="loader")
        yield opened
