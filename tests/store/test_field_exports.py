"""Real-world exports a QA pass found corrupting data silently: each is pinned here on both
ingest paths (the fast one, and the careful one forced by making no file fast-eligible)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

from pilotproof.store import Store
from pilotproof.store import ingest as ingest_module

PILOTS = "pilot_id,go_live\nP1,2024-01-06\nP2,2024-01-06\n"
HEAD = "pilot_id,date,metric,value"


def _rows(head: str, extra: str, n: int, value: float, first: str = "2024-01-01") -> str:
    """`n` daily cycle_time rows of P1 under `head`, `extra` the cells after the value."""
    dates = pd.date_range(first, periods=n, freq="D").strftime("%Y-%m-%d")
    cells = f",{extra}" if extra else ""
    return head + "\n" + "".join(f"P1,{d},cycle_time,{value}{cells}\n" for d in dates)


@pytest.fixture(params=["fast", "careful"])
def path_kind(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run the test on the fast path, then with every file sent the careful way."""
    if request.param == "careful":
        monkeypatch.setattr(ingest_module, "fast_eligible", lambda layouts: False)
    return str(request.param)


@pytest.fixture
def load(tmp_path: Path) -> Callable[..., Store]:
    """`load(name, text, ...)` writes the CSV and ingests it into a store with P1 and P2."""
    store = Store(tmp_path / "field.duckdb")
    (tmp_path / "pilots.csv").write_text(PILOTS)
    store.ingest([tmp_path / "pilots.csv"])

    def ingest(name: str, text: str, **kwargs: object) -> Store:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8", newline="")
        store.ingest([path], **kwargs)  # type: ignore[arg-type]
        return store

    yield ingest
    store.close()


@pytest.mark.parametrize(
    ("column", "first", "second"),
    [("group", "treatment", "control"), ("unit", "north", "south"), ("segment", "smb", "ent")],
)
def test_a_file_of_another_group_unit_or_segment_keeps_the_stored_one(
    load: Callable[..., Store], path_kind: str, column: str, first: str, second: str
) -> None:
    head = f"{HEAD},{column}"
    load("a.csv", _rows(head, first, 10, 5.0))
    store = load("b.csv", _rows(head, second, 10, 4.0))
    counts = store.observations().groupby(column)["value"].agg(["count", "first"])
    assert counts.to_dict("index") == {
        first: {"count": 10, "first": 5.0},
        second: {"count": 10, "first": 4.0},
    }


def test_a_fix_of_one_units_weeks_replaces_only_those(
    load: Callable[..., Store], path_kind: str
) -> None:
    head = f"{HEAD},unit"
    both = _rows(head, "north", 10, 5.0) + _rows(head, "south", 10, 5.0).split("\n", 1)[1]
    load("full.csv", both)
    store = load("fix.csv", _rows(head, "north", 3, 6.0, first="2024-01-04"))
    obs = store.observations()
    assert sorted(obs.loc[obs["unit"] == "south", "value"]) == [5.0] * 10
    north = obs[obs["unit"] == "north"]
    assert north.set_index(north["date"].dt.day)["value"].to_dict() == {
        d: 6.0 if 4 <= d <= 6 else 5.0 for d in range(1, 11)
    }
