"""Microbenchmark: placebo-in-space permutation inference (`analytics.synth.placebo_in_space`,
all J placebo fits in one batch) beside the naive loop that calls `analytics.synth.estimate`
once per control unit with the other controls as donors. Same numbers, checked; prints the
best of REPEATS runs of each and their ratio (batched / naive: below 1.0 the batch is faster).

Panels: Proposition 99 (38 donor states, 19 pre- and 12 post-years, from causalpy's installed
CSV) and a generated daily panel (40 control sites, 120 pre- and 60 post-days).

    .venv/bin/python bench/bench_synth.py [--repeats 3] [--method sdid ...]
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from analytics import synth


def prop99() -> tuple[np.ndarray, np.ndarray, int]:
    spec = importlib.util.find_spec("causalpy")  # the CSV only: causalpy itself is not imported
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("causalpy is not installed: pip install -e '.[dev]'")
    path = Path(spec.submodule_search_locations[0]) / "data" / "california_prop99.csv"
    frame = pd.read_csv(path).set_index("Year")
    return (
        frame["California"].to_numpy(),
        frame.drop(columns="California").to_numpy(),
        int((frame.index < 1989).sum()),
    )


def daily(seed: int = 0, sites: int = 40, pre: int = 120, post: int = 60):
    rng = np.random.default_rng(seed)
    t = pre + post
    common = np.cumsum(rng.normal(0, 1, t))
    season = 5 * np.sin(2 * np.pi * np.arange(t) / 7)
    levels = rng.uniform(80, 120, sites + 1)
    panel = levels + common[:, None] + season[:, None] + rng.normal(0, 2, (t, sites + 1))
    return panel[:, 0], panel[:, 1:], pre


def naive(y: np.ndarray, c: np.ndarray, n_pre: int, method: str) -> np.ndarray:
    synth.estimate(y, c, n_pre, method)  # the treated units' own fit, as the batch does
    return np.array(
        [
            synth.estimate(c[:, u], np.delete(c, u, axis=1), n_pre, method).tau
            for u in range(c.shape[1])
        ]
    )


def best(fn, repeats: int, *args) -> tuple[float, object]:
    times, out = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        out = fn(*args)
        times.append(time.perf_counter() - start)
    return min(times), out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--method", action="append", choices=synth.METHODS)
    args = parser.parse_args()
    methods = args.method or list(synth.METHODS)
    panels = {"prop99 (38 states, 19+12 years)": prop99(), "daily (40 sites, 120+60 days)": daily()}
    print(f"{'panel':34s} {'method':18s} {'batched s':>10s} {'naive s':>10s} {'ratio':>7s}")
    worst = 0.0
    for name, (y, c, n_pre) in panels.items():
        for method in methods:
            t_batch, scan = best(synth.placebo_in_space, args.repeats, y, c, n_pre, method)
            t_naive, taus = best(naive, args.repeats, y, c, n_pre, method)
            assert np.allclose(scan.effects, taus, atol=1e-8 * np.abs(y).max())
            ratio = t_batch / t_naive
            worst = max(worst, ratio)
            print(f"{name:34s} {method:18s} {t_batch:10.4f} {t_naive:10.4f} {ratio:7.3f}")
    print(f"worst ratio batched/naive: {worst:.3f} (target <= 1.0)")


if __name__ == "__main__":
    main()
