"""Benchmark: whole-portfolio exports at fund scale, each a whole `pilotproof report` process,
this tree beside a baseline tree, in turn.

    .venv/bin/python bench/bench_export.py [--pilots 150] [--format pdf pptx] [--repeats 1]
        [--against DIR] [--timeout 900] [--keep DIR]

The portfolio is the sample's pilots copied under new ids (as `bench_app.py` builds it), in a
temporary database. Each run is `pilotproof report --format F --out FILE` of the whole portfolio
(analysis included, as a user runs it), started as its own process. `--against DIR` is another
checkout to compare with (e.g. `git archive main | tar -x -C /tmp/base`); its runs alternate with
this tree's. Prints every run's seconds and size, the best of each side and the ratio baseline /
this, in wall seconds; each run's CPU seconds (its own and its children's, the browser's too) and
the load average after it say how busy the machine was. A run past `--timeout` counts as that
many seconds and is marked ">". Without `--against` only this tree runs.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def build(db: Path, pilots: int, work: Path) -> None:
    """An N-pilot database: the sample seeded, then copied under new ids."""
    sys.path.insert(0, str(ROOT / "bench"))
    from bench_app import build_large

    from pilotproof.store import Store, seed_sample

    sample = work / "sample.duckdb"
    with Store(sample) as store:
        seed_sample(store)
    build_large(sample, db, pilots, work)


def run(src: Path, db: Path, fmt: str, out: Path, timeout: float) -> tuple[float, float, int, bool]:
    """Wall seconds, CPU seconds (the process and its children: the browser too), bytes
    written and whether it finished, for one `pilotproof report` process."""
    code = (
        "import sys; sys.path.insert(0, sys.argv[1]); from pilotproof.cli import main; "
        "sys.exit(main(sys.argv[2:]))"
    )
    argv = [sys.executable, "-c", code, str(src), "--db", str(db), "report", "--format", fmt]
    env = {**os.environ, "PYTHONPATH": str(src)}
    out.unlink(missing_ok=True)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    try:
        subprocess.run(
            [*argv, "--out", str(out)],
            cwd=src,
            env=env,
            timeout=timeout,
            check=False,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired:
        return timeout, float("nan"), 0, False
    seconds = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return seconds, cpu, out.stat().st_size if out.exists() else 0, True


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pilots", type=int, default=150)
    parser.add_argument("--format", nargs="+", default=["pdf", "pptx"], dest="formats")
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--against", type=Path, help="a baseline checkout to run beside this one")
    parser.add_argument("--timeout", type=float, default=900.0)
    parser.add_argument("--keep", type=Path, help="keep the files written here")
    args = parser.parse_args()
    trees = {"this": ROOT}
    if args.against:
        trees["baseline"] = args.against.resolve()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        db = work / "bench.duckdb"
        build(db, args.pilots, work)
        print(f"{args.pilots} pilots; {', '.join(f'{k}: {v}' for k, v in trees.items())}")
        for fmt in args.formats:
            best: dict[str, float] = {}
            for repeat in range(args.repeats):
                for name, src in trees.items():
                    folder = args.keep or work
                    folder.mkdir(parents=True, exist_ok=True)
                    out = folder / f"{name}-{args.pilots}.{fmt}"
                    seconds, cpu, size, finished = run(src, db, fmt, out, args.timeout)
                    mark = "" if finished else ">"
                    load = os.getloadavg()[0]
                    print(f"  {fmt} {name:8s} run {repeat + 1}: {mark}{seconds:7.1f} s wall "
                          f"{cpu:7.1f} s CPU {size / 1e6:6.1f} MB (load {load:.1f})",
                          flush=True)  # fmt: skip
                    best[name] = min(best.get(name, float("inf")), seconds)
            line = f"{fmt}: this {best['this']:.1f} s"
            if "baseline" in best:
                ratio = best["baseline"] / best["this"]
                line += f", baseline {best['baseline']:.1f} s, baseline / this {ratio:.1f}x"
            print(line, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
