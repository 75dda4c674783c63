"""A CSV row holding a cell longer than the `csv` module reads (131,072 characters: a document
pasted into a name, or a quote never closed) is data, not a footer. The Upload page (bytes) looked
for a footer with the `csv` module, took that row for one lone cell below the data and dropped it
with a warning, so a pilots file lost its last pilot and a one-row file was "a header but no data
rows"; the command line (a path) refused the same file. Both now read the row the same way."""

from __future__ import annotations

from pathlib import Path

from pilotproof.store import IngestError, Store

from .conftest import cli, dump, problems

HUGE = 2_500_000  # over DuckDB's 2 MB line and the csv module's 131,072-character cell


def test_a_last_row_with_a_long_name_is_stored_not_dropped_as_a_footer(tmp_path: Path) -> None:
    name = "N" * 200_000  # read whole by DuckDB, too long for the csv module
    data = f"pilot_id,go_live,pilot_name\nA1,2024-01-15,Short\nA2,2024-01-15,{name}\n".encode()
    with Store(tmp_path / "s.duckdb") as store:
        report = store.validate([("pilots.csv", data)])
        assert report.ok and report.warnings == []
        store.ingest([("pilots.csv", data)])
        stored = dict(zip(store.pilots()["pilot_id"], store.pilots()["pilot_name"], strict=True))
    assert stored == {"A1": "Short", "A2": name}


def test_an_oversized_cell_is_refused_by_line_alike_as_upload_and_on_the_command_line(
    registry: Path, tmp_path: Path
) -> None:
    data = f"pilot_id,go_live,pilot_name\nA1,2024-01-15,{'N' * HUGE}\n".encode()
    path = tmp_path / "pilots.csv"
    path.write_bytes(data)
    with Store(registry) as store:
        report = store.validate([("pilots.csv", data)])
    (uploaded,) = report.problems
    before = dump(registry)
    done = cli("ingest", "--db", registry, "--pilots", path)
    assert done.returncode == 1 and dump(registry) == before
    (typed,) = problems(done.stderr)
    said = [(uploaded.line, uploaded.message), (int(typed["line"]), typed["message"])]
    for line, message in said:
        assert line == 2
        assert message.startswith("a cell on this line runs past 131,072 characters")


def test_a_quote_left_open_is_named_where_it_opens(tmp_path: Path) -> None:
    rows = "".join(f"P1,2024-01-{d:02d},cycle_time,{d}\n" for d in range(1, 29))
    data = ('pilot_id,date,metric,value\nP1,2023-12-31,"cycle_time,4\n' + rows * 2000).encode()
    with Store(tmp_path / "s.duckdb") as store:
        store.ingest([("p.csv", b"pilot_id,go_live\nP1,2024-01-15\n")])
        try:
            store.ingest([("m.csv", data)])
        except IngestError as refused:
            (problem,) = refused.problems
        else:
            raise AssertionError("a file with a quote never closed was written")
        assert store.observations().empty
    assert problem.line == 2 and "quote" in problem.message
