"""Benchmark: the whole analysis of a portfolio (150 pilots x 6 metrics x 730 daily points,
every check included) beside a naive loop that fits just one statsmodels OLS with HAC errors per
series. Prints both times and their ratio, best and median of REPEATS runs side by side.

    .venv/bin/python bench/bench_analyze.py [--pilots 150] [--days 730] [--repeats 5]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy import signal

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from analytics.portfolio import analyze_portfolio

METRICS = [
    ("cycle_time", "lower_is_better", "value"),
    ("cost_per_transaction", "lower_is_better", "value"),
    ("manual_touches", "lower_is_better", "value"),
    ("rework_rate", "lower_is_better", "guardrail"),
    ("quality_score", "higher_is_better", "guardrail"),
    ("ai_usage", "higher_is_better", "activity"),
]
CONTROLLED_SHARE = 0.1  # a tenth of the pilots also have three control units


def make_portfolio(n_pilots: int, n_days: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    start = pd.Timestamp("2024-01-01")
    dates = pd.date_range(start, periods=n_days, freq="D")
    t = np.arange(n_days)
    frames, pilots = [], []
    for p in range(n_pilots):
        pilot_id = f"P{p:03d}"
        go = int(rng.integers(n_days // 2, n_days - 60))
        post = t >= go
        for metric, _direction, _kind in METRICS:
            level = rng.uniform(5, 200)
            season = 0.1 * np.sin(2 * np.pi * t / 365.25 + rng.uniform(0, 6))
            trend = rng.normal(0, 0.0002) * t
            effect = rng.choice([0.0, -0.1, -0.2]) * post
            noise = signal.lfilter([1], [1, -0.5], rng.normal(0, 0.04, n_days))
            values = level * (1 + season + trend + effect + noise)
            frames.append(_rows(pilot_id, metric, dates, values, "treatment", ""))
            if p < n_pilots * CONTROLLED_SHARE:
                for unit in ("a", "b", "c"):
                    noise = signal.lfilter([1], [1, -0.5], rng.normal(0, 0.04, n_days))
                    control = level * (1 + season + trend + noise)
                    frames.append(_rows(pilot_id, metric, dates, control, "control", unit))
        pilots.append(
            {
                "pilot_id": pilot_id,
                "pilot_name": f"Pilot {p}",
                "go_live": dates[go],
                "monthly_cost": 1000.0,
                "annual_volume": 50000.0,
                "workflow": "w",
                "decision_owner": "d",
                "execution_owner": "e",
                "exception_path": "x",
                "escalation_path": "y",
                "control_points": "c",
                "value_metric": None,
            }
        )
    catalog = pd.DataFrame(
        {
            "metric": [m for m, _, _ in METRICS],
            "direction": [d for _, d, _ in METRICS],
            "unit": "",
            "kind": [k for _, _, k in METRICS],
            "threshold_pct": 10.0,
            "tolerance_pct": 5.0,
            "builtin": True,
        }
    )
    thresholds = pd.DataFrame(columns=["pilot_id", "metric", "threshold_pct", "tolerance_pct"])
    return pd.concat(frames, ignore_index=True), pd.DataFrame(pilots), catalog, thresholds


def _rows(pilot_id, metric, dates, values, group, unit):
    return pd.DataFrame(
        {
            "pilot_id": pilot_id,
            "metric": metric,
            "date": dates,
            "group": group,
            "unit": unit,
            "segment": "",
            "value": values,
            "volume": np.nan,
        }
    )


def naive_loop(observations: pd.DataFrame, pilots: pd.DataFrame) -> int:
    """One segmented regression y ~ 1 + t + post + t*post per treated series, statsmodels
    OLS with HAC (Newey-West) errors — and nothing else."""
    go_live = pilots.set_index("pilot_id")["go_live"]
    treated = observations[observations["group"] == "treatment"]
    fits = 0
    for (pilot_id, _metric), rows in treated.groupby(["pilot_id", "metric"], sort=False):
        post = (rows["date"] >= go_live[pilot_id]).to_numpy(dtype=float)
        t = np.arange(len(rows), dtype=float)
        x = np.column_stack([np.ones(len(rows)), t, post, t * post])
        sm.OLS(rows["value"].to_numpy(), x).fit(cov_type="HAC", cov_kwds={"maxlags": 6})
        fits += 1
    return fits


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pilots", type=int, default=150)
    parser.add_argument("--days", type=int, default=730)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    observations, pilots, catalog, thresholds = make_portfolio(args.pilots, args.days)
    print(
        f"portfolio: {args.pilots} pilots x {len(METRICS)} metrics x {args.days} daily points "
        f"({len(observations):,} rows, {int(args.pilots * CONTROLLED_SHARE)} pilots with 3 "
        "control units)"
    )
    ours, naive = [], []
    results = None
    for _ in range(args.repeats):
        start = time.perf_counter()
        results = analyze_portfolio(observations, pilots, catalog, thresholds)
        ours.append(time.perf_counter() - start)
        start = time.perf_counter()
        fits = naive_loop(observations, pilots)
        naive.append(time.perf_counter() - start)
    n_effects = sum(len(r.metrics) for r in results or ())
    ours_med, naive_med = statistics.median(ours), statistics.median(naive)
    print(
        f"pilotproof analyze_portfolio (every check): {min(ours):6.2f} s best, "
        f"{ours_med:6.2f} s median  ({n_effects} effects)"
    )
    print(
        f"naive loop, one statsmodels OLS-HAC each:   {min(naive):6.2f} s best, "
        f"{naive_med:6.2f} s median  ({fits} fits)"
    )
    print(
        f"ratio pilotproof / naive: {min(ours) / min(naive):.2f}x best, "
        f"{ours_med / naive_med:.2f}x median (of {args.repeats}, run side by side)"
    )


if __name__ == "__main__":
    main()
