"""The fast path's checks read one per-series aggregate of the new rows (writing.py): a file
that corrects a stored period, or adds series beside stored ones, still goes the fast way and
writes what the careful path writes."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

from pilotproof.store import IngestError, Store
from pilotproof.store import ingest as ingest_module
from pilotproof.store.sql import scalar

PILOTS = "pilot_id,go_live\nP1,2024-01-06\nP2,2024-01-06\n"


def _days(pilot: str, first: str, n: int, value: float, metric: str = "cycle_time") -> str:
    dates = pd.date_range(first, periods=n, freq="D").strftime("%Y-%m-%d")
    return "".join(f"{pilot},{d},{metric},{value}\n" for d in dates)


HEAD = "pilot_id,date,metric,value\n"
# ten days of P1, then a file correcting its 5th to 10th day and adding two more, beside a new
# pilot's series and a new metric of P1
STORED = HEAD + _days("P1", "2024-01-01", 10, 5.0)
CORRECTED = (
    HEAD
    + _days("P1", "2024-01-05", 8, 6.0)
    + _days("P2", "2024-01-01", 12, 3.0)
    + _days("P1", "2024-01-01", 12, 0.2, "rework_rate")
)


def _careful_path_ran(*args: object) -> None:
    raise AssertionError("the careful path ran")


def _load(path: Path, files: list[Path]) -> tuple[pd.DataFrame, list[tuple], str, int]:
    with Store(path) as store:
        result = None
        for file in files:
            result = store.ingest([file])
        assert result is not None
        with store._cursor() as cur:  # test-only peek: the rows kept for undo
            replaced = sorted(cur.execute("SELECT * FROM replaced_observations").fetchall())
        return store.observations(), replaced, result.summary, result.replaced_rows


def test_a_corrected_period_goes_the_fast_way_and_matches_the_careful_one(
    tmp_path: Path, csv_file: Callable[[str, str], Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    files = [csv_file("p.csv", PILOTS), csv_file("a.csv", STORED), csv_file("b.csv", CORRECTED)]
    with monkeypatch.context() as patch:
        patch.setattr(Store, "_careful_ingest", _careful_path_ran)
        fast = _load(tmp_path / "fast.duckdb", files)
    monkeypatch.setattr(ingest_module, "fast_eligible", lambda layouts: False)
    careful = _load(tmp_path / "careful.duckdb", files)

    observations, replaced, summary, n_replaced = fast
    assert n_replaced == 6 and len(replaced) == 6  # 5th to 10th January, kept for undo
    p1 = observations[(observations["pilot_id"] == "P1") & (observations["metric"] == "cycle_time")]
    assert p1["value"].tolist() == [5.0] * 4 + [6.0] * 8
    assert "replaced 6 earlier rows" in summary
    pd.testing.assert_frame_equal(observations, careful[0])
    assert replaced == careful[1]
    assert (summary, n_replaced) == careful[2:]


def test_a_slip_in_a_new_series_beside_stored_ones_is_still_named(
    tmp_path: Path, csv_file: Callable[[str, str], Path]
) -> None:
    """Stored rows of another pilot do not stop the screen of a new series: the slip is named
    by file and line."""
    values = [40.0 + (i % 5) * 0.5 for i in range(30)]
    values[12] = 4025.0  # 40.25 with the decimal point lost
    dates = pd.date_range("2024-01-01", periods=30, freq="D").strftime("%Y-%m-%d")
    slipped = HEAD + "".join(f"P2,{d},cycle_time,{v}\n" for d, v in zip(dates, values, strict=True))
    with Store(tmp_path / "s.duckdb") as store:
        store.ingest([csv_file("p.csv", PILOTS), csv_file("a.csv", STORED)])
        result = store.ingest([csv_file("slip.csv", slipped)])
    assert result.rows == 30
    assert [(Path(w.file).name, w.line) for w in result.warnings] == [("slip.csv", 14)]
    assert "4025 is" in result.warnings[0].message


def test_the_row_order_setting_is_restored_after_a_fast_insert_fails_or_succeeds(
    csv_file: Callable[[str, str], Path],
) -> None:
    """The fast insert turns DuckDB's `preserve_insertion_order` off for its statement only: a
    read error (text in a number) rolls its transaction back, and the setting still comes back
    for every later query of the process."""
    store = Store(":memory:")  # one connection for the whole test: a setting would outlive calls

    def preserved() -> bool:
        with store._cursor() as cur:  # test-only peek at the connection's settings
            return bool(scalar(cur, "SELECT current_setting('preserve_insertion_order')"))

    store.ingest([csv_file("p.csv", PILOTS)])
    with pytest.raises(IngestError, match=r"bad\.csv:2: column value: .five. is not a number"):
        store.ingest([csv_file("bad.csv", STORED.replace("5.0", "five", 2))])
    assert preserved()
    assert store.ingest([csv_file("a.csv", STORED)]).rows == 10
    assert preserved()


@pytest.mark.parametrize("day", ["infinity", "-infinity"])
def test_an_infinite_date_is_refused_by_line_and_nothing_is_written(
    tmp_path: Path, csv_file: Callable[[str, str], Path], day: str
) -> None:
    """DuckDB's reader takes `infinity` as a date (its year is NULL): the fast path stored it,
    and a validation's preview crashed converting it for pandas."""
    pilots = csv_file("p.csv", PILOTS)
    metrics = csv_file("inf.csv", HEAD + f"P1,2024-01-01,cycle_time,5\nP1,{day},cycle_time,5\n")
    bad_go_live = csv_file("p2.csv", f"pilot_id,go_live\nP3,{day}\n")
    date_problem = rf"inf\.csv:3: column date: '{day}' is not a date"
    with Store(tmp_path / "s.duckdb") as store:
        with pytest.raises(IngestError, match=date_problem):
            store.ingest([pilots, metrics])
        with pytest.raises(IngestError, match=rf"p2\.csv:2: column go_live: '{day}' is not a go"):
            store.ingest([bad_go_live])
        assert store.observations().empty and store.pilots().empty
        report = store.validate([pilots, metrics])
    assert not report.ok and [p.line for p in report.problems] == [3]
    assert report.preview is not None and report.preview["date in file"].tolist()[1] == day


@pytest.mark.parametrize("span_years", [1, 12])
def test_a_repeated_date_is_found_however_long_the_series_spans(
    tmp_path: Path,
    csv_file: Callable[[str, str], Path],
    monkeypatch: pytest.MonkeyPatch,
    span_years: int,
) -> None:
    """A clean file goes the fast way and a repeated date does not, over a short span or a
    long one (whose day bitmaps are larger)."""
    last = f"{2010 + span_years}-01-01"
    clean = HEAD + f"P1,2010-01-01,cycle_time,5\nP1,{last},cycle_time,6\nP2,{last},cycle_time,7\n"
    conflicting = clean + f"P1,{last},cycle_time,8\n"
    pilots = csv_file("p.csv", PILOTS)
    with Store(tmp_path / "s.duckdb") as store:
        with pytest.raises(IngestError, match=r"again\.csv:5: column value: conflicting dup"):
            store.ingest([pilots, csv_file("again.csv", conflicting)])
        assert store.observations().empty
        with monkeypatch.context() as patch:
            patch.setattr(Store, "_careful_ingest", _careful_path_ran)
            assert store.ingest([pilots, csv_file("clean.csv", clean)]).rows == 3
        assert store.observations()["value"].tolist() == [5.0, 6.0, 7.0]
