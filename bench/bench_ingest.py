"""Ingest benchmark: `pilotproof ingest` against DuckDB's bare `read_csv` into a table.

Generates a ~2.6M-row long metrics CSV in a temporary directory: the canonical
`pilot_id,date,metric,value` (800 pilots x 3 metrics x 3 years of days), or with `--wide` one with
`group, unit, segment, volume` too (160 pilots x 3 units x 5 metrics). Then times, alternately, as
whole processes (interpreter start-up included), (a) `pilotproof ingest METRICS.csv --pilots
PILOTS.csv --db NEW.duckdb` run from this tree (`python -m pilotproof.cli`) and (b) a Python process
that runs `CREATE TABLE t AS SELECT * FROM read_csv(path)` into a new DuckDB file. Prints the best
and the median of each and their ratios, for wall-clock time (the goal: <= 1.5 best of 3) and for
CPU time of the child processes, which stays meaningful when other work shares the machine.
With `--src OTHER_CHECKOUT` (e.g. the tree before a change, from `git archive`), that tree's
`pilotproof ingest` is timed too, in the same alternation, so before and after share the load.

    .venv/bin/python bench/bench_ingest.py [--reps 3] [--wide] [--src BEFORE_TREE]
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
SEGMENTS = ("simple", "complex")
ROOT = Path(__file__).resolve().parents[1]
BARE = (
    "import sys, duckdb\n"
    "con = duckdb.connect(sys.argv[2])\n"
    "con.execute('CREATE TABLE t AS SELECT * FROM read_csv(?)', [sys.argv[1]])\n"
    "con.close()\n"
)


def generate(
    folder: Path, pilots: int, days: int, wide: bool, seed: int = 7
) -> tuple[Path, Path, int]:
    """Write a long metrics file and its pilots file; return both paths and the row count."""
    rng = random.Random(seed)
    start = date(2022, 1, 1)
    dates = [(start + timedelta(days=i)).isoformat() for i in range(days)]
    metrics_path = folder / "metrics.csv"
    units = UNITS if wide else (("", ""),)
    metrics = METRICS if wide else METRICS[:3]
    rows = 0
    with metrics_path.open("w", encoding="utf-8") as out:
        out.write("pilot_id,date,metric,value,group,unit,segment,volume\n" if wide
                  else "pilot_id,date,metric,value\n")  # fmt: skip
        for p in range(pilots):
            for unit, group in units:
                for metric in metrics:
                    level = rng.uniform(0.2, 0.9) if metric in ("rework_rate", "margin") else 40
                    if wide:
                        lines = [
                            f"PILOT-{p:03d},{d},{metric},{level * rng.uniform(0.8, 1.0):.4f},"
                            f"{group},{unit},{SEGMENTS[i % 2]},{rng.randint(50, 500)}\n"
                            for i, d in enumerate(dates)
                        ]
                    else:
                        lines = [
                            f"PILOT-{p:03d},{d},{metric},{level * rng.uniform(0.8, 1.0):.4f}\n"
                            for d in dates
                        ]
                    out.writelines(lines)
                    rows += len(lines)
    pilots_path = folder / "pilots.csv"
    pilots_path.write_text(
        "pilot_id,go_live\n" + "".join(f"PILOT-{p:03d},2023-06-01\n" for p in range(pilots))
    )
    return metrics_path, pilots_path, rows


def timed(command: list[str], root: Path = ROOT) -> tuple[float, float]:
    """Wall-clock seconds and CPU seconds (user + system) of one whole child process that
    imports pilotproof from `root`."""
    env = {**os.environ, "PYTHONPATH": str(root)}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    began = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, cwd=root, env=env)
    wall = time.perf_counter() - began
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--wide", action="store_true", help="group, unit, segment, volume too")
    parser.add_argument("--pilots", type=int, help="default: 800, or 160 with --wide")
    parser.add_argument("--days", type=int, default=1096)
    parser.add_argument("--src", type=Path, help="another checkout, timed alongside (before)")
    args = parser.parse_args()
    pilots_n = args.pilots or (160 if args.wide else 800)
    with tempfile.TemporaryDirectory(prefix="bench-ingest-") as tmp:
        folder = Path(tmp)
        metrics, pilots, rows = generate(folder, pilots_n, args.days, args.wide)
        size_mb = metrics.stat().st_size / 1e6
        print(f"{rows:,} rows, {size_mb:.0f} MB, {args.reps} alternating repetitions")
        trees = {"pilotproof ingest": ROOT}
        if args.src:
            trees["--src tree"] = args.src.resolve()
        runs: dict[str, list[tuple[float, float]]] = {name: [] for name in (*trees, "bare")}
        command = [sys.executable, "-m", "pilotproof.cli", "ingest", str(metrics)]
        command += ["--pilots", str(pilots)]
        for rep in range(args.reps):
            db = folder / f"run{rep}.duckdb"
            for name, root in trees.items():
                runs[name].append(timed([*command, "--db", str(db)], root))
                db.unlink()
            runs["bare"].append(timed([sys.executable, "-c", BARE, str(metrics), str(db)]))
            db.unlink()
            print(
                f"  rep {rep + 1}: "
                + ", ".join(f"{n} {r[-1][0]:.2f} s (cpu {r[-1][1]:.2f} s)" for n, r in runs.items())
            )
        for what, index in (("wall-clock", 0), ("CPU", 1)):
            for pick, label in ((min, "best"), (statistics.median, "median")):
                base = pick(r[index] for r in runs["bare"])
                for name in trees:
                    mine = pick(r[index] for r in runs[name])
                    print(
                        f"{what} {label}: {name} {mine:.2f} s, bare DuckDB read_csv "
                        f"{base:.2f} s, ratio {mine / base:.2f}x (goal <= 1.5x)"
                    )
        print(f"load average while measuring: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")


if __name__ == "__main__":
    main()
