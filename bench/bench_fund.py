"""Benchmark at fund scale (issue 16): 100, 300 and 1,000 pilots x 10 metrics x 3 years daily,
every 20th pilot with three control units and every 20th (another) with two segments on two of
its metrics, generated at run time and ingested into a DuckDB store through `Store.ingest`.

    .venv/bin/python bench/bench_fund.py [--sizes 100 300 1000] [--baseline PATH] [--incremental]
                                         [--repo PATH] [--work DIR] [--json-out DIR]
    .venv/bin/python bench/bench_fund.py --compare DIR/baseline DIR/this

For each size, every measurement in its own process (so that peak RSS is that run's alone):
  * `analyze_store` on the store, as the app's first load and `pilotproof analyze` call it
    (reading the store included), with its peak resident memory and, sampled every 0.1 s, the
    peak of its memory with the worker processes it starts (their summed proportional set
    sizes, shared pages counted once), and its ratio to
  * the naive loop of bench/bench_analyze.py: one statsmodels OLS-HAC fit per treated series
    (the fits only, as there);
  * when the code keeps a result cache (`pilotproof.result_cache`): `analyze_store` again in a
    fresh process, the cache warm (the first load after a restart).
Then the scaling exponent of time and memory (least squares on log-log over the sizes) and, with
`--incremental`, at the largest size: one new 300-row upload for one pilot (30 new days of its
10 metrics) and the analysis that follows it.

`--baseline PATH` runs another checkout (e.g. the main branch) in turn with this one, on the same
generated data, for a before/after measured side by side; each checkout gets its own database
(schemas may differ), built once in `--work` and copied for every run. `--json-out DIR` writes
`analyze --format json` of every size (minus the clock-dependent governance fields) per checkout,
and `--compare` counts the values that differ between two such folders.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve()
ROOT = HERE.parents[1]
DAYS = 1095  # three years, daily
START = np.datetime64("2023-01-02")
# name, level range, kind of noise: builtin catalog metrics, so no upload needs a direction
METRICS = (
    ("cycle_time", (5.0, 200.0), "level"),
    ("manual_touches", (2.0, 20.0), "level"),
    ("cost_per_transaction", (1.0, 80.0), "level"),
    ("response_time", (1.0, 48.0), "level"),
    ("rework_rate", (0.02, 0.12), "rate"),
    ("leakage", (100.0, 5000.0), "level"),
    ("compliance_exceptions", (3.0, 30.0), "count"),
    ("quality_score", (60.0, 95.0), "level"),
    ("utilization", (0.5, 0.85), "rate"),
    ("ai_usage", (50.0, 500.0), "count"),
)
SEGMENTED_METRICS = ("cycle_time", "cost_per_transaction")
CONTROL_EVERY, SEGMENT_EVERY = 20, 20  # pilot p % 20 == 0 has controls, == 10 has segments
HEADER = "pilot_id,date,metric,value,group,unit,segment,volume\n"


def pilot_id(p: int) -> str:
    return f"F{p:04d}"


def _series(rng: np.random.Generator, level: float, kind: str, n: int, post: np.ndarray,
            effect: float, season: np.ndarray) -> np.ndarray:  # fmt: skip
    noise = np.zeros(n)
    shocks = rng.normal(0.0, 0.04, n)
    for t in range(1, n):  # AR(1), rho 0.5
        noise[t] = 0.5 * noise[t - 1] + shocks[t]
    values = level * (1.0 + season + effect * post + noise)
    if kind == "count":
        return rng.poisson(np.maximum(values, 0.0)).astype(float)
    if kind == "rate":
        return np.clip(values, 0.0, 1.0)
    return np.maximum(values, 0.01)


def write_portfolio(n_pilots: int, folder: Path, seed: int = 16) -> tuple[Path, Path, int]:
    """The pilots file and one long metrics file for `n_pilots` pilots; returns their paths and
    the number of metric rows. Deterministic in `seed`: the first pilots of a larger portfolio
    are not the same as a smaller one's (each size is its own draw)."""
    rng = np.random.default_rng(seed + n_pilots)
    dates = (START + np.arange(DAYS)).astype(str)
    t = np.arange(DAYS)
    pilots_csv, metrics_csv = folder / "pilots.csv", folder / "metrics.csv"
    rows = 0
    with pilots_csv.open("w") as pf, metrics_csv.open("w") as mf:
        pf.write("pilot_id,go_live,pilot_name,company,monthly_cost,annual_volume,workflow,"
                 "decision_owner,execution_owner,exception_path,escalation_path,control_points,"
                 "value_metric\n")  # fmt: skip
        mf.write(HEADER)
        for p in range(n_pilots):
            pid = pilot_id(p)
            go = int(rng.integers(500, DAYS - 90))
            pf.write(f"{pid},{dates[go]},Pilot {p},Company {p % 7},2000,50000,w,d,e,x,y,c,\n")
            post = (t >= go).astype(float)
            lines = []
            for metric, (low, high), kind in METRICS:
                level = rng.uniform(low, high)
                season = 0.1 * np.sin(2 * np.pi * t / 365.25 + rng.uniform(0, 6))
                effect = float(rng.choice([0.0, -0.05, -0.15, 0.1]))
                if p % SEGMENT_EVERY == 10 and metric in SEGMENTED_METRICS:
                    for segment, share in (("simple", 0.3), ("complex", 1.0)):
                        y = _series(rng, level * share, kind, DAYS, post, effect, season)
                        volume = np.round(rng.uniform(50, 150, DAYS) * (1 + 0.3 * post))
                        lines += [f"{pid},{d},{metric},{v:.6g},treatment,,{segment},{w:.0f}\n"
                                  for d, v, w in zip(dates, y, volume, strict=True)]  # fmt: skip
                    continue
                y = _series(rng, level, kind, DAYS, post, effect, season)
                lines += [f"{pid},{d},{metric},{v:.6g},treatment,,,\n"
                          for d, v in zip(dates, y, strict=True)]  # fmt: skip
                if p % CONTROL_EVERY == 0:
                    for unit in ("north", "south", "east"):
                        c = _series(rng, level, kind, DAYS, post, 0.0, season)
                        lines += [f"{pid},{d},{metric},{v:.6g},control,{unit},,\n"
                                  for d, v in zip(dates, c, strict=True)]  # fmt: skip
            rows += len(lines)
            mf.writelines(lines)
    return pilots_csv, metrics_csv, rows


def write_upload(folder: Path, n_pilots: int) -> Path:
    """A 300-row upload for one pilot (the middle one): its 10 metrics on the 30 days after
    the portfolio's last date."""
    rng = np.random.default_rng(99)
    pid = pilot_id(n_pilots // 2 + 1)  # odd: neither controls nor segments
    path = folder / "upload.csv"
    dates = (START + DAYS + np.arange(30)).astype(str)
    with path.open("w") as handle:
        handle.write(HEADER)
        for metric, (low, high), kind in METRICS:
            values = rng.uniform(low, high, len(dates))
            if kind == "count":
                values = np.round(values)
            for d, v in zip(dates, values, strict=True):
                handle.write(f"{pid},{d},{metric},{min(v, 1.0) if kind == 'rate' else v:.6g}"
                             ",treatment,,,\n")  # fmt: skip
    return path


# -- the measured runs (each in a child process) --------------------------------------------------


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # Linux: kilobytes


def _descendants(pid: int) -> list[int]:
    """`pid`'s child processes and theirs (Linux /proc), `pid` excluded."""
    out: list[int] = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as handle:
                for child in handle.read().split():
                    out += [int(child), *_descendants(int(child))]
    except OSError:
        pass
    return out


def _pss_mb(pid: int) -> float:
    """Proportional set size of one process (shared pages split among their users), in MB."""
    try:
        with open(f"/proc/{pid}/smaps_rollup") as handle:
            for line in handle:
                if line.startswith("Pss:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return 0.0


class _TreePeak:
    """The peak, sampled every 0.1 s, of the memory of this process and every process it
    started (the analysis' worker processes): the sum of their proportional set sizes."""

    def __init__(self) -> None:
        import threading

        self.peak = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        me = os.getpid()
        while not self._stop.wait(0.1):
            pids = [me, *_descendants(me)]
            self.peak = max(self.peak, sum(_pss_mb(p) for p in pids))

    def stop(self) -> float:
        self._stop.set()
        self._thread.join()
        return self.peak


def _child(mode: str, db: str, extra: str) -> None:
    from pilotproof.analysis import analyze_store, to_json  # imports are not what is timed
    from pilotproof.store import Store

    tree = _TreePeak()
    started = time.perf_counter()
    out: dict[str, object] = {}
    with Store(db) as store:
        if mode in ("analyze", "warm"):
            results = analyze_store(store)
            out["effects"] = sum(len(r.metrics) for r in results)
            out["seconds"] = time.perf_counter() - started
            if extra:
                doc = to_json(results)
                for pilot in doc["pilots"]:  # today's date moves these; the rest must not
                    for key in ("decision_due", "decision_overdue", "plan_locked_at"):
                        pilot.pop(key, None)
                Path(extra).write_text(json.dumps(doc, sort_keys=True, indent=0))
        elif mode == "naive":
            sys.path.insert(0, str(HERE.parent))
            from bench_analyze import naive_loop

            observations, pilots = store.observations(), store.pilots()
            started = time.perf_counter()  # the fits only, as in bench_analyze.py
            out["fits"] = naive_loop(observations, pilots)
            out["seconds"] = time.perf_counter() - started
        elif mode == "upload":
            store.ingest([extra], user="bench")
            out["ingest_seconds"] = time.perf_counter() - started
            started = time.perf_counter()
            analyze_store(store)
            out["seconds"] = time.perf_counter() - started
    out["peak_mb"] = _peak_mb()
    out["tree_peak_mb"] = tree.stop()  # with the worker processes, if the code starts any
    print("RESULT " + json.dumps(out))


def _run(repo: Path, mode: str, db: Path, extra: str = "") -> dict[str, float]:
    env = dict(os.environ, PYTHONPATH=str(repo), PILOTPROOF_DB=str(db))
    done = subprocess.run(
        [sys.executable, str(HERE), "--child", mode, str(db), extra],
        env=env, cwd=repo, capture_output=True, text=True, check=False,
    )  # fmt: skip
    for line in done.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[len("RESULT ") :])
    raise RuntimeError(f"{mode} run failed:\n{done.stdout[-2000:]}\n{done.stderr[-4000:]}")


def _build(repo: Path, n: int, work: Path) -> tuple[Path, int]:
    """The pristine database of `n` pilots for `repo`'s code (built once, reused)."""
    tag = "".join(c if c.isalnum() else "_" for c in str(repo.resolve()))[-40:]
    db = work / f"fund{n}-{tag}.duckdb"
    rows_file = work / f"fund{n}.rows"
    data = work / f"data{n}"
    if not (data / "metrics.csv").exists():
        data.mkdir(parents=True, exist_ok=True)
        _, _, rows = write_portfolio(n, data)
        rows_file.write_text(str(rows))
    if not db.exists():
        started = time.perf_counter()
        script = (
            "import sys; from pilotproof.store import Store\n"
            f"with Store({str(db)!r}) as s: s.ingest([{str(data / 'pilots.csv')!r}, "
            f"{str(data / 'metrics.csv')!r}], user='bench')"
        )
        env = dict(os.environ, PYTHONPATH=str(repo))
        subprocess.run([sys.executable, "-c", script], env=env, cwd=repo, check=True)
        print(f"  built {db.name} in {time.perf_counter() - started:.0f} s", flush=True)
    return db, int(rows_file.read_text())


def _walk(a: object, b: object, path: str, out: list[tuple[str, object, object]]) -> None:
    if isinstance(a, dict) and isinstance(b, dict):
        for key in sorted(set(a) | set(b)):
            _walk(a.get(key), b.get(key), f"{path}.{key}", out)
    elif isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            _walk(x, y, f"{path}[{i}]", out)
    elif a != b:
        out.append((path, a, b))


def compare(before: Path, after: Path) -> int:
    """Print, per size, how many values of `analyze --format json` differ at all and how many
    beyond the batch-independence tolerance (1e-9 relative, tests/analytics); 1 if any does."""
    worst = 0
    for old in sorted(before.glob("analyze*.json")):
        new = after / old.name
        if not new.exists():
            continue
        diffs: list[tuple[str, object, object]] = []
        _walk(json.loads(old.read_text()), json.loads(new.read_text()), "", diffs)
        beyond = [
            d for d in diffs
            if not (isinstance(d[1], float) and isinstance(d[2], float)
                    and math.isclose(d[1], d[2], rel_tol=1e-9, abs_tol=1e-12))
        ]  # fmt: skip
        print(f"{old.name}: {len(diffs)} values differ, {len(beyond)} beyond 1e-9 relative")
        for path, a, b in beyond[:10]:
            print(f"  {path}: {str(a)[:80]} -> {str(b)[:80]}")
        worst = max(worst, len(beyond))
    return 1 if worst else 0


def _exponent(sizes: list[int], values: list[float]) -> float:
    return float(np.polyfit(np.log(sizes), np.log(values), 1)[0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 300, 1000])
    parser.add_argument("--repo", type=Path, default=ROOT, help="the checkout whose code runs")
    parser.add_argument(
        "--baseline", type=Path, default=None,
        help="another checkout (e.g. the main branch) run side by side, in turn, on the same data",
    )  # fmt: skip
    parser.add_argument("--work", type=Path, default=Path("/tmp/pilotproof-fund-bench"))
    parser.add_argument("--incremental", action="store_true")
    parser.add_argument("--no-naive", action="store_true", help="skip the naive loop")
    parser.add_argument("--json-out", type=Path, default=None)
    parser.add_argument(
        "--compare", nargs=2, type=Path, metavar=("BEFORE", "AFTER"),
        help="compare two --json-out folders and exit",
    )  # fmt: skip
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(*args.child)
        return
    if args.compare:
        raise SystemExit(compare(*args.compare))
    repos = [r.resolve() for r in ([args.baseline] if args.baseline else []) + [args.repo]]
    names = ["baseline", "this"] if len(repos) == 2 else ["this"]
    args.work.mkdir(parents=True, exist_ok=True)
    for name, repo in zip(names, repos, strict=True):
        cached = (repo / "pilotproof" / "result_cache.py").exists()
        print(f"{name}: {repo} (result cache: {'yes' if cached else 'no'})")
    print(f"{os.cpu_count()} cores; load average {os.getloadavg()[0]:.1f} at the start", flush=True)
    table: dict[str, list[tuple[int, dict, dict | None]]] = {name: [] for name in names}
    naive_times = []
    for n in args.sizes:
        built = {name: _build(repo, n, args.work) for name, repo in zip(names, repos, strict=True)}
        rows = built[names[-1]][1]
        print(f"{n} pilots, {rows / 1e6:.1f} M rows (load {os.getloadavg()[0]:.1f}):", flush=True)
        naive = None if args.no_naive else _run(repos[-1], "naive", built[names[-1]][0])
        for name, repo in zip(names, repos, strict=True):  # in turn, on the same data
            db = args.work / f"run-{built[name][0].name}"
            shutil.copy(built[name][0], db)
            json_out = ""
            if args.json_out is not None:
                (args.json_out / name).mkdir(parents=True, exist_ok=True)
                json_out = str(args.json_out / name / f"analyze{n}.json")
            ours = _run(repo, "analyze", db, json_out)
            cached = (repo / "pilotproof" / "result_cache.py").exists()
            warm = _run(repo, "warm", db) if cached else None
            table[name].append((n, ours, warm))
            _print_row(name, ours, warm, naive)
            if args.incremental and n == max(args.sizes):
                inc = _run(repo, "upload", db, str(write_upload(args.work, n)))
                print(
                    f"  {name:>8}: one 300-row upload for one pilot: ingest "
                    f"{inc['ingest_seconds']:.2f} s, then analyze_store {inc['seconds']:.2f} s "
                    f"(peak {inc['peak_mb']:.0f} MB)",
                    flush=True,
                )
            db.unlink()
        if naive is not None:
            naive_times.append(naive["seconds"])
            print(f"  naive loop (fits only): {naive['seconds']:.1f} s", flush=True)
    if len(args.sizes) > 1:
        sizes = list(args.sizes)
        for name in names:
            print(
                f"{name}: scaling exponent (log-log fit over {sizes} pilots): time "
                f"{_exponent(sizes, [r[1]['seconds'] for r in table[name]]):.2f}, peak RSS "
                f"{_exponent(sizes, [r[1]['peak_mb'] for r in table[name]]):.2f}"
            )
        if naive_times:
            print(f"naive loop: time exponent {_exponent(sizes, naive_times):.2f}")


def _print_row(name: str, ours: dict, warm: dict | None, naive: dict | None) -> None:
    text = f"  {name:>8}: analyze_store {ours['seconds']:7.1f} s, peak {ours['peak_mb']:6.0f} MB"
    if "tree_peak_mb" in ours:
        text += f" (with its workers {ours['tree_peak_mb']:.0f} MB PSS)"
    if naive is not None:
        text += f", {ours['seconds'] / naive['seconds']:.2f}x the naive loop"
    if warm is not None:
        text += (
            f"; first load with cached results {warm['seconds']:5.1f} s ({warm['peak_mb']:.0f} MB)"
        )
    print(text, flush=True)
    if not math.isfinite(ours["seconds"]):
        raise SystemExit("no time measured")


if __name__ == "__main__":
    main()
