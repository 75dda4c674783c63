"""Text in UTF-32 (with its byte-order mark) and UTF-16 without one (SQL Server's `bcp -w`).
UTF-32's little-endian mark starts like UTF-16's, so the file was decoded as UTF-16 and refused as
"binary data (a NUL byte)"; it is now read. UTF-16 without a mark was refused with the same
words, which name no fix; it is still refused, saying what it is and how to save it."""

from __future__ import annotations

from pathlib import Path

from pilotproof.store import IngestError, Store

ROWS = "pilot_id,date,metric,value\nP1,2024-01-05,cycle_time,5\nP1,2024-01-06,cycle_time,6\n"


def _store(tmp_path: Path) -> Store:
    store = Store(tmp_path / "s.duckdb")
    store.ingest([("p.csv", b"pilot_id,go_live\nP1,2024-03-01\n")])
    return store


def test_utf32_with_its_mark_is_read(tmp_path: Path) -> None:
    for encoding in ("utf-32", "utf-32-be"):
        data = ROWS.encode(encoding)
        if encoding == "utf-32-be":
            data = b"\x00\x00\xfe\xff" + data
        with _store(tmp_path) as store:
            store.ingest([(f"{encoding}.csv", data)])
            values = store.observations().sort_values("date")["value"].tolist()
        assert values == [5.0, 6.0], encoding


def test_utf16_without_its_mark_is_refused_saying_so(tmp_path: Path) -> None:
    for encoding in ("utf-16-le", "utf-16-be"):
        with _store(tmp_path) as store:
            report = store.validate([("bcp.csv", ROWS.encode(encoding))])
            (problem,) = report.problems
            assert (problem.line, problem.column) == (1, "-")
            assert problem.message.startswith("UTF-16 text without its byte-order mark")
            try:
                store.ingest([("bcp.csv", ROWS.encode(encoding))])
            except IngestError:
                pass
            else:
                raise AssertionError(f"{encoding} without a mark was written")
            assert store.observations().empty
