"""Golden output of the analysis engine, to prove a speed change leaves every result as it was.

Analyses (a) the portfolio of `bench_analyze.py` at a reduced size and (b) the sample portfolio
of `data/sample` (ingested into a temporary store, as the app seeds it), and writes every field
of every result (effects, checks, chart arrays) as JSON. `--compare BASE` then reads a dump
written by an earlier tree and reports every difference: strings, verdicts, reasons and model
names must be identical, floats equal within `--rtol` (relative, default 1e-9).

    .venv/bin/python bench/golden.py --out /tmp/golden_base.json
    .venv/bin/python bench/golden.py --out /tmp/golden_new.json --compare /tmp/golden_base.json
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from analytics.portfolio import analyze_portfolio
from bench.bench_analyze import make_portfolio

ATOL = 1e-12  # floats closer than this are equal whatever their size (zero up to rounding)


def plain(value: Any) -> Any:
    """`value` as JSON-ready data: dataclasses as dicts of their fields, arrays as lists,
    timestamps as ISO text, non-finite floats as the strings 'nan', 'inf', '-inf'."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, np.ndarray):
        if value.dtype.kind == "M":
            return [str(v) for v in value]
        return [plain(v) for v in value.tolist()]
    if isinstance(value, pd.Timestamp | np.datetime64):
        return str(value)
    if isinstance(value, np.generic):
        return plain(value.item())
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    return value


def bench_results(n_pilots: int) -> list[Any]:
    observations, pilots, catalog, thresholds = make_portfolio(n_pilots, 730)
    return [plain(r) for r in analyze_portfolio(observations, pilots, catalog, thresholds)]


def sample_results() -> list[Any]:
    from pilotproof.store import Store, seed_sample

    with tempfile.TemporaryDirectory() as tmp:
        store = Store(Path(tmp) / "golden.duckdb")
        try:
            seed_sample(store)
            frames = (store.observations(), store.pilots(), store.catalog(), store.thresholds())
        finally:
            store.close()
    return [plain(r) for r in analyze_portfolio(*frames)]


def differences(base: Any, new: Any, rtol: float, where: str = "") -> list[str]:
    """Every place where `new` differs from `base`: floats further apart than `rtol` relative
    or `ATOL` absolute (for values that are zero up to rounding), anything else when not equal."""
    if isinstance(base, dict) and isinstance(new, dict):
        found = [f"{where}: keys {sorted(set(base) ^ set(new))}"] if set(base) != set(new) else []
        for key in base.keys() & new.keys():
            found += differences(base[key], new[key], rtol, f"{where}.{key}")
        return found
    if isinstance(base, list) and isinstance(new, list):
        if len(base) != len(new):
            return [f"{where}: length {len(base)} -> {len(new)}"]
        return [d for i, (a, b) in enumerate(zip(base, new, strict=True))
                for d in differences(a, b, rtol, f"{where}[{i}]")]  # fmt: skip
    if isinstance(base, float) and isinstance(new, float):
        if abs(new - base) <= max(rtol * max(abs(base), abs(new)), ATOL):
            return []
        rel = abs(new - base) / max(abs(base), 1e-300)
        return [f"{where}: {base!r} -> {new!r} (rel {rel:.2e})"]
    return [] if base == new and type(base) is type(new) else [f"{where}: {base!r} -> {new!r}"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--pilots", type=int, default=40)
    parser.add_argument("--compare", type=Path)
    parser.add_argument("--rtol", type=float, default=1e-9)
    args = parser.parse_args()
    dump = {"bench": bench_results(args.pilots), "sample": sample_results()}
    args.out.write_text(json.dumps(dump, indent=1, sort_keys=True))
    print(f"wrote {args.out}: {len(dump['bench'])} bench pilots, {len(dump['sample'])} sample")
    if args.compare is None:
        return
    new = json.loads(json.dumps(dump))  # as the base was read back: tuples as lists
    found = differences(json.loads(args.compare.read_text()), new, args.rtol)
    for line in found[:50]:
        print(line)
    print(f"{len(found)} differences beyond rtol {args.rtol} against {args.compare}")
    sys.exit(1 if found else 0)


if __name__ == "__main__":
    main()
