"""Field exports through `pilotproof ingest` as a user runs it: options that would otherwise be
ignored silently are refused (exit 1, "FILE:LINE: column COL: message", the database as before)."""

from __future__ import annotations

from pathlib import Path

import pytest

from .conftest import cli, dump, problems
from .field_shapes import PILOTS, SHAPES, Shape

METRICS = "pilot_id,date,metric,value\nP1,2024-01-05,cycle_time,5\nP1,2024-01-06,cycle_time,6\n"


def _refused(db: Path, *args: str | Path) -> list:
    before = dump(db)
    done = cli("ingest", "--db", db, *args)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    assert dump(db) == before
    return problems(done.stderr)


def test_a_mapped_header_the_file_lacks_is_refused_with_the_closest_one(
    registry: Path, tmp_path: Path
) -> None:
    path = tmp_path / "weeks.csv"
    path.write_text(METRICS.replace("date", "Ticket_Week", 1))
    (found,) = _refused(registry, path, "--map", "Tiket_Week=date")
    assert (found["file"], found["line"], found["column"]) == (str(path), "1", "Tiket_Week")
    assert "did you mean 'Ticket_Week'" in found["message"]


def test_a_mapped_header_with_nothing_close_lists_the_files_columns(
    registry: Path, tmp_path: Path
) -> None:
    path = tmp_path / "m.csv"
    path.write_text(METRICS)
    (found,) = _refused(registry, path, "--map", "Kommentar=ignore")
    assert "its columns: pilot_id, date, metric, value" in found["message"]


def test_ignore_drops_a_column_as_the_parenthesised_spelling_does(
    registry: Path, tmp_path: Path
) -> None:
    path = tmp_path / "notes.csv"
    path.write_text("pilot_id,date,cycle_time,notes\nP1,2024-01-05,5,ok\nP1,2024-01-06,6,late\n")
    for spelling in ("ignore", "(ignore)", "IGNORE"):
        done = cli("ingest", "--db", registry, path, "--map", f"notes={spelling}")
        assert done.returncode == 0, done.stderr
    metrics = {row[1] for row in dump(registry)["observations"]}
    assert metrics == {"cycle_time"}


def test_a_whole_file_pilot_beside_a_pilot_id_column_is_refused(
    registry: Path, tmp_path: Path
) -> None:
    path = tmp_path / "p1.csv"
    path.write_text(METRICS)
    (found,) = _refused(registry, path, "--pilot", "P2")
    assert (found["line"], found["column"]) == ("1", "pilot_id")
    assert "has a pilot_id column" in found["message"] and "'P2'" in found["message"]


def test_dot_decimals_in_a_semicolon_file_wait_for_the_decimal_mark(
    registry: Path, tmp_path: Path
) -> None:
    path = tmp_path / "semi.csv"
    path.write_text("pilot_id;date;metric;value\nP1;2024-01-05;cycle_time;40.000\n")
    (found,) = _refused(registry, path)
    assert (found["line"], found["column"]) == ("2", "value")
    assert "could be 40 or 40000" in found["message"]
    done = cli("ingest", "--db", registry, path, "--decimal-mark", "point")
    assert done.returncode == 0, done.stderr
    assert ("P1", "cycle_time", 40.0) in {
        (row[0], row[1], row[6]) for row in dump(registry)["observations"]
    }


@pytest.mark.parametrize("shape", SHAPES, ids=[s.id for s in SHAPES])
def test_an_export_shape_is_stored_as_it_means(tmp_path: Path, shape: Shape) -> None:
    """The twin of `test_field_shapes.py`: each shape through `pilotproof ingest FILE`."""
    db, pilots, path = tmp_path / "shapes.duckdb", tmp_path / "pilots.csv", tmp_path / shape.name
    pilots.write_text(PILOTS)
    path.write_bytes(shape.content)
    done = cli("ingest", "--db", db, "--pilots", pilots, path, *shape.cli_args())
    if shape.refused:
        assert done.returncode == 1, done.stdout + done.stderr
        line, column, words = shape.refused
        first = problems(done.stderr)[0]
        assert (first["file"], first["line"], first["column"]) == (str(path), str(line), column)
        assert all(word in first["message"] for word in words), (first.group(0), words)
        # nothing written, not even the pilots file of the same batch
        assert not dump(db)["observations"] and not dump(db)["pilots"]
        return
    assert done.returncode == 0, done.stdout + done.stderr
    stored = sorted(  # observations: pilot_id, metric, date, group, unit, segment, value, ...
        (f"{row[2]:%Y-%m-%d}", row[1], row[6]) for row in dump(db)["observations"]
    )
    assert stored == shape.stored
    warned = problems(done.stderr)
    assert len(warned) == len(shape.warnings), done.stderr
    for found, words in zip(warned, shape.warnings, strict=True):
        assert found["file"] == str(path), found.group(0)
        shown = f"{path.name}:{found['line']}: column {found['column']}: {found['message']}"
        assert all(word in shown for word in words), (found.group(0), words)
