"""Page redraw time: the sample portfolio against a 500-pilot portfolio, side by side.

    .venv/bin/python bench/bench_app.py [--pilots 500] [--repeat 3] [--companies]
        [--src DIR] [--keep DB]

`--companies` spreads the copies over companies as a fund's portfolio is (copies 0 and 1 of a
pilot at company "<name> 00", 2 and 3 at "<name> 01", ...: 144 companies at 1,000 pilots).
`--src DIR` times another checkout's pages (e.g. `git archive main | tar -x -C /tmp/base`) on
the same data; `--keep DB` keeps the large database there, and reuses it when it exists, so two
trees can be timed on one database.

Each page runs in Streamlit's AppTest (the real script, no browser) on a database built in a
temporary directory. The first load opens the store and analyses every pilot (cached per data
version afterwards); then each page draws once and redraws `--repeat` times, as a user clicking
around would see it. Prints milliseconds per page and the ratio of
the large portfolio to the sample. The 500-pilot portfolio is the sample's pilots copied under new
ids, so every copy carries realistic series.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
PAGES = [
    "pages/portfolio.py",
    "pages/explorer.py",
    "pages/compare.py",
    "pages/readiness.py",
    "pages/settings.py",
    "pages/upload.py",
    "pages/export.py",
]
LONG = ["pilot_id", "date", "metric", "value", "group", "unit", "segment", "volume"]


def build_large(
    sample_db: Path, large_db: Path, pilots: int, workdir: Path, companies: bool = False
) -> None:
    from pilotproof.store import Store

    with Store(sample_db) as store:
        registry, observed, catalog = store.pilots(), store.observations(), store.catalog()
    # custom metrics (the sample's reply_rate) travel with their direction, as in the sample
    observed = observed.merge(catalog[["metric", "direction"]], on="metric", how="left")
    copies = -(-pilots // len(registry))
    frames, regs = [], []
    for k in range(copies):
        reg = registry.copy()
        reg["pilot_id"] = reg["pilot_id"] + f"_c{k}"
        reg["pilot_name"] = reg["pilot_name"] + f" #{k}"
        if companies:
            reg["company"] = reg["company"] + f" {k // 2:02d}"
        regs.append(reg)
        obs = observed.copy()
        obs["pilot_id"] = obs["pilot_id"] + f"_c{k}"
        frames.append(obs)
    reg = pd.concat(regs, ignore_index=True).head(pilots)
    obs = pd.concat(frames, ignore_index=True)
    obs = obs[obs["pilot_id"].isin(set(reg["pilot_id"]))]
    reg["go_live"] = reg["go_live"].dt.strftime("%Y-%m-%d")
    obs["date"] = obs["date"].dt.strftime("%Y-%m-%d")
    reg.to_csv(workdir / "pilots.csv", index=False)
    obs[[*LONG, "direction"]].to_csv(workdir / "metrics_long.csv", index=False)
    with Store(large_db) as store:
        store.ingest([workdir / "pilots.csv", workdir / "metrics_long.csv"], user="bench")


def time_pages(db: Path, repeat: int) -> tuple[float, dict[str, tuple[float, float]]]:
    """First load (opening the store and analysing every pilot), then per page: its first draw
    with the analysis cached, and the median of `repeat` redraws."""
    from streamlit.testing.v1 import AppTest

    os.environ["PILOTPROOF_DB"] = str(db)
    started = time.perf_counter()
    AppTest.from_file(str(ROOT / "app.py"), default_timeout=900).run()
    first_load = time.perf_counter() - started
    timings: dict[str, tuple[float, float]] = {}
    for page in PAGES:
        app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=600).run()
        app.switch_page(page)
        started = time.perf_counter()
        app.run()
        cold = time.perf_counter() - started
        warm = []
        for _ in range(repeat):
            started = time.perf_counter()
            app.run()
            warm.append(time.perf_counter() - started)
        if app.exception:
            raise RuntimeError(f"{page}: {app.exception[0].value}")
        timings[page] = (cold, statistics.median(warm))
    return first_load, timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pilots", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--companies", action="store_true", help="copies spread over companies")
    parser.add_argument("--src", type=Path, help="time this checkout's pages instead")
    parser.add_argument("--keep", type=Path, help="keep (or reuse) the large database here")
    args = parser.parse_args()
    if args.src:
        global ROOT
        ROOT = args.src.resolve()
        sys.path.insert(0, str(ROOT))
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        sample_db, large_db = work / "sample.duckdb", args.keep or work / "large.duckdb"
        # the sample database is seeded from data/sample on first open
        small_load, small = time_pages(sample_db, args.repeat)
        if not large_db.exists():
            build_large(sample_db, large_db, args.pilots, work, args.companies)
        large_load, large = time_pages(large_db, args.repeat)
        from pilotproof.store import Store

        with Store(sample_db) as store:
            n_small = store.count_pilots()
        with Store(large_db) as store:
            n_large = store.count_pilots()
    print(f"pilots: sample {n_small}, large {n_large}")
    print(
        f"first load (seed or open + analyse every pilot): sample {small_load:.1f} s, "
        f"{n_large} pilots {large_load:.1f} s ({large_load / small_load:.1f}x)"
    )
    print(f"{'page':<22}{'sample 1st':>12}{'sample redraw':>14}"
          f"{f'{n_large} 1st':>12}{f'{n_large} redraw':>12}{'redraw ratio':>13}")  # fmt: skip
    for page in PAGES:
        (s_cold, s_warm), (l_cold, l_warm) = small[page], large[page]
        print(
            f"{page:<22}{s_cold * 1e3:>10.0f}ms{s_warm * 1e3:>12.0f}ms"
            f"{l_cold * 1e3:>10.0f}ms{l_warm * 1e3:>10.0f}ms{l_warm / s_warm:>12.1f}x"
        )
    worst = max(large[p][1] for p in PAGES)
    print(f"slowest redraw at {n_large} pilots: {worst * 1e3:.0f} ms")


if __name__ == "__main__":
    main()
