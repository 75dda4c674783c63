"""`pilotproof ingest` starts without numpy and pandas: their import is most of the start-up a
bare DuckDB load does not pay (bench/bench_ingest.py), and an ingest needs neither."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

PILOTS = "pilot_id,go_live\nP1,2024-01-02\n"
METRICS = "pilot_id,date,metric,value\nP1,2024-01-01,cycle_time,5.0\nP1,2024-01-02,cycle_time,4.5\n"

# Runs the CLI's ingest in a fresh interpreter, then prints the heavy modules it imported.
_SCRIPT = """
import sys
from pilotproof.cli import main

code = main(["ingest", *sys.argv[1:]])
heavy = [m for m in ("pandas", "numpy", "analytics.results") if m in sys.modules]
print(code, ",".join(heavy) or "none")
"""


def _ingest_in_fresh_process(*args: str) -> tuple[str, str]:
    done = subprocess.run(
        [sys.executable, "-c", _SCRIPT, *args], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    code, heavy = done.stdout.strip().splitlines()[-1].split(" ")
    return code, heavy


def test_a_clean_ingest_imports_neither_numpy_nor_pandas(
    tmp_path: Path, csv_file: Callable[[str, str], Path]
) -> None:
    pilots = csv_file("pilots.csv", PILOTS)
    metrics = csv_file("metrics.csv", METRICS)
    db = str(tmp_path / "store.duckdb")
    assert _ingest_in_fresh_process(str(metrics), "--pilots", str(pilots), "--db", db) == (
        "0",
        "none",
    )


def test_a_refused_ingest_imports_neither(
    tmp_path: Path, csv_file: Callable[[str, str], Path]
) -> None:
    """The careful path, which names each problem by line, needs neither either."""
    pilots = csv_file("pilots.csv", PILOTS)
    bad = csv_file("bad.csv", METRICS.replace("4.5", "four"))
    db = str(tmp_path / "store.duckdb")
    assert _ingest_in_fresh_process(str(bad), "--pilots", str(pilots), "--db", db) == (
        "1",
        "none",
    )
