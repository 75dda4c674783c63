"""Helpers for the hostile tests: run the installed `pilotproof` console script in a subprocess
and dump every table of a database file, so that "unchanged" means every row of every table."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

PILOTPROOF = Path(sys.executable).with_name("pilotproof")
# "FILE:LINE: column COL: message", one line per problem; "... and N more problems" may close it.
PROBLEM_LINE = re.compile(r"^(?P<file>.+):(?P<line>\d+): column (?P<column>\S+): (?P<message>.+)$")


def cli(*args: str | Path, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(PILOTPROOF), *map(str, args)], capture_output=True, text=True, timeout=timeout
    )


def dump(db: Path) -> dict[str, list[tuple]]:
    """Every row of every table in the file (tables found from the catalog, not a fixed list)."""
    if not db.exists():
        return {}
    with duckdb.connect(str(db), read_only=True) as con:
        tables = [
            name
            for (name,) in con.execute(
                "SELECT table_name FROM information_schema.tables "
                "WHERE table_type = 'BASE TABLE' ORDER BY table_name"
            ).fetchall()
        ]
        return {
            table: sorted(con.execute(f'SELECT * FROM "{table}"').fetchall(), key=repr)
            for table in tables
        }


def problems(stderr: str) -> list[re.Match[str]]:
    """The problem lines of a refused ingest; fails if any stderr line is not one of them."""
    found = []
    for line in stderr.splitlines():
        if re.fullmatch(r"\.\.\. and \d+ more problems?", line):
            continue
        match = PROBLEM_LINE.match(line)
        assert match, f"stderr line is not 'FILE:LINE: column COL: message': {line!r}"
        found.append(match)
    return found


@pytest.fixture
def registry(tmp_path: Path) -> Path:
    """A database holding two pilots and a few rows of P1's cycle time."""
    db = tmp_path / "hostile.duckdb"
    pilots = tmp_path / "pilots.csv"
    pilots.write_text("pilot_id,go_live,pilot_name\nP1,2024-03-01,One\nP2,2024-03-01,Two\n")
    metrics = tmp_path / "seed.csv"
    metrics.write_text(
        "pilot_id,date,metric,value\nP1,2023-12-01,cycle_time,7\nP1,2023-12-02,cycle_time,8\n"
    )
    done = cli("ingest", "--db", db, metrics, "--pilots", pilots)
    assert done.returncode == 0, done.stderr
    return db
