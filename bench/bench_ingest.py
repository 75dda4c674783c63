"""Ingest benchmark: `pilotproof ingest` against DuckDB's bare `read_csv` into a table.

Generates a ~2.6M-row long metrics CSV (100 pilots x 4 units x 6 metrics x 3 years of days) in a
temporary directory, then times, alternately and as whole processes (interpreter start-up
included), (a) `pilotproof ingest METRICS.csv --pilots PILOTS.csv --db NEW.duckdb` and (b) a Python
process that runs `CREATE TABLE t AS SELECT * FROM read_csv(path)` into a new DuckDB file. Prints
the medians and their ratio, for wall-clock time (the goal: <= 1.5) and for CPU time of the child
processes, which stays meaningful when other work shares the machine.

    .venv/bin/python bench/bench_ingest.py [--reps 5] [--pilots 100]
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

METRICS = ("cycle_time", "manual_touches", "cost_per_transaction", "rework_rate", "margin")
UNITS = (("team-a", "treatment"), ("team-b", "treatment"), ("site-c", "control"))
BARE = (
    "import sys, duckdb\n"
    "con = duckdb.connect(sys.argv[2])\n"
    "con.execute('CREATE TABLE t AS SELECT * FROM read_csv(?)', [sys.argv[1]])\n"
    "con.close()\n"
)


def generate(folder: Path, pilots: int, days: int, seed: int = 7) -> tuple[Path, Path, int]:
    """Write a long metrics file and its pilots file; return both paths and the row count."""
    rng = random.Random(seed)
    start = date(2022, 1, 1)
    dates = [(start + timedelta(days=i)).isoformat() for i in range(days)]
    metrics_path = folder / "metrics.csv"
    rows = 0
    with metrics_path.open("w", encoding="utf-8") as out:
        out.write("pilot_id,date,metric,value,group,unit\n")
        for p in range(pilots):
            for unit, group in UNITS:
                for metric in METRICS:
                    level = rng.uniform(0.2, 0.9) if metric in ("rework_rate", "margin") else 40
                    lines = [
                        f"PILOT-{p:03d},{d},{metric},{level * rng.uniform(0.8, 1.0):.4f},"
                        f"{group},{unit}\n"
                        for d in dates
                    ]
                    out.writelines(lines)
                    rows += len(lines)
    pilots_path = folder / "pilots.csv"
    pilots_path.write_text(
        "pilot_id,go_live\n" + "".join(f"PILOT-{p:03d},2023-06-01\n" for p in range(pilots))
    )
    return metrics_path, pilots_path, rows


def timed(command: list[str]) -> tuple[float, float]:
    """Wall-clock seconds and CPU seconds (user + system) of one whole child process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    began = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - began
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--pilots", type=int, default=160)
    parser.add_argument("--days", type=int, default=1096)
    args = parser.parse_args()
    pilotproof = Path(sys.executable).with_name("pilotproof")
    with tempfile.TemporaryDirectory(prefix="bench-ingest-") as tmp:
        folder = Path(tmp)
        metrics, pilots, rows = generate(folder, args.pilots, args.days)
        size_mb = metrics.stat().st_size / 1e6
        print(f"{rows:,} rows, {size_mb:.0f} MB, {args.reps} alternating repetitions")
        ours: list[tuple[float, float]] = []
        bare: list[tuple[float, float]] = []
        for rep in range(args.reps):
            db_ours, db_bare = folder / f"ours{rep}.duckdb", folder / f"bare{rep}.duckdb"
            command = [str(pilotproof), "ingest", str(metrics), "--pilots", str(pilots)]
            ours.append(timed([*command, "--db", str(db_ours)]))
            bare.append(timed([sys.executable, "-c", BARE, str(metrics), str(db_bare)]))
            db_ours.unlink()
            db_bare.unlink()
            print(
                f"  rep {rep + 1}: pilotproof ingest {ours[-1][0]:.2f} s "
                f"(cpu {ours[-1][1]:.2f} s), bare read_csv {bare[-1][0]:.2f} s "
                f"(cpu {bare[-1][1]:.2f} s)"
            )
        for what, index in (("wall-clock", 0), ("CPU", 1)):
            mine = statistics.median(r[index] for r in ours)
            base = statistics.median(r[index] for r in bare)
            print(
                f"{what}: median pilotproof ingest {mine:.2f} s, bare DuckDB read_csv "
                f"{base:.2f} s, ratio {mine / base:.2f}x (goal <= 1.5x)"
            )
        print(f"load average while measuring: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")


if __name__ == "__main__":
    main()
