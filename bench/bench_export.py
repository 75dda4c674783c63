"""Benchmark: the PDF's chart images rendered in ONE kaleido session (two tabs) beside the
naive way, plotly's `fig.to_image()` per figure, which starts a browser for every call.
Then each export format of the demo portfolio, timed. Prints both image times and their ratio.

    .venv/bin/python bench/bench_export.py [--figures 12] [--repeats 2]
"""

from __future__ import annotations

import argparse
import glob
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from analytics.results import ChartSeries, MetricEffect
from pilotproof import charts
from pilotproof.export.images import FigureSpec, _point_at_chromium, render_pngs


def figures(n: int) -> list[FigureSpec]:
    rng = np.random.default_rng(0)
    dates = pd.date_range("2025-01-01", periods=365, freq="D")
    specs = []
    for i in range(n):
        level = 10 + i
        series = pd.DataFrame(
            {
                "date": dates,
                "observed": level + rng.normal(0, 1, len(dates)),
                "counterfactual": float(level),
                "cf_low": level - 1.0,
                "cf_high": level + 1.0,
                "control": np.nan,
            }
        )
        effect = MetricEffect(
            pilot_id=f"P{i}",
            metric="cycle_time",
            direction="lower_is_better",
            kind="value",
            verdict="real",
            reasons=(),
            method="its",
            frequency="D",
            n_pre=180,
            n_post=185,
            effect_pct=-10.0,
            ci_low_pct=-12.0,
            ci_high_pct=-8.0,
            effect_abs=-1.0,
            ci_low_abs=-1.2,
            ci_high_abs=-0.8,
            mde_pct=2.0,
            baseline=float(level),
            threshold_pct=10.0,
            tolerance_pct=None,
            chart=ChartSeries.of(series),
        )
        specs.append(FigureSpec(charts.series_chart(effect, dates[180]), 900, 470))
    return specs


def best_of(repeats: int, run) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--figures", type=int, default=12)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    _point_at_chromium()
    specs = figures(args.figures)

    batched = best_of(args.repeats, lambda: render_pngs(specs, compact_pngs=False))
    naive = best_of(
        args.repeats,
        lambda: [charts.for_print(s.figure).to_image("png", s.width, s.height, 2) for s in specs],
    )
    print(f"{args.figures} chart images, best of {args.repeats}:")
    print(f"  one kaleido session (pilotproof): {batched:6.1f} s")
    print(f"  fig.to_image() per figure:        {naive:6.1f} s")
    print(f"  ratio naive / pilotproof:         {naive / batched:6.1f}x")

    from pilotproof.analysis import analyze_store
    from pilotproof.export import FORMATS, build
    from pilotproof.store import Store

    root = Path(__file__).resolve().parents[1] / "data" / "sample"
    with tempfile.TemporaryDirectory() as tmp, Store(Path(tmp) / "bench.duckdb") as store:
        store.ingest([root / "pilots.csv", *sorted(glob.glob(str(root / "metrics_*.csv")))])
        results = analyze_store(store)
        print(f"demo portfolio ({len(results)} pilots), best of {args.repeats}:")
        for fmt in FORMATS:
            size = {}

            def run(fmt=fmt, size=size):
                size["bytes"] = len(build(results, store, fmt))

            seconds = best_of(args.repeats, run)
            print(f"  {fmt:5s} {seconds:6.1f} s  {size['bytes'] / 1e6:5.1f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
