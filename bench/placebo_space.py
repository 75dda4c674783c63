"""Placebo-in-space on real panels with `analytics.synth`: how often is a control unit that was
never treated called significant?

For every public panel (Proposition 99 from causalpy's installed CSV, and the control-group
panels of `tests/realdata/cases.py`, read from installed packages: nothing is downloaded), the
treated units are dropped and every control unit u in turn plays the treated unit, the other
controls its donors. For each estimator (`synth.METHODS`) and each placebo unit u:

* its estimate tau_u (the post-period mean gap, outcome units);
* (a) its permutation p-value: u's post/pre RMSPE ratio ranked among the J - 1 other controls,
  each fitted in turn with the rest (u never among them), p = rank / J (Abadie, Diamond &
  Hainmueller 2010);
* (b) its placebo standard error: Arkhangelsky et al. (2021) Algorithm 4 on u's panel,
  every other control playing treated once (`synth.placebo_se(..., replications=None)`), and
  |tau_u| / SE_u > 1.96 (the paper's normal interval);
* (c) the same placebo estimates as a reference distribution for one more exchangeable unit:
  |tau_u| beyond the t prediction interval t(J-2) * sd * sqrt(1 + 1/(J-1));
* (d) (c) with every effect in proportion to its unit's pre-period level (units of different
  size: states), where every level is positive.

A 5% test should call about 1 in 20 of them significant (at most: with J units a permutation
p-value of 0.05 or less needs rank <= 0.05 J). Prints per panel and method the number of
placebo units significant by each rule, and the totals; --by-unit adds one
line per placebo unit. The real treated units' own estimate, placebo SE and rank are shown
for reference.

    .venv/bin/python bench/placebo_space.py [--panel NAME ...] [--method M ...] [--by-unit]
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(1, str(ROOT / "tests"))

from realdata.cases import control_panels  # noqa: E402

from analytics import synth  # noqa: E402

Z = 1.959963984540054
ALPHA = 0.05


def prop99_causalpy() -> tuple[pd.DataFrame, pd.DataFrame, int]:
    """(treated, controls, n_pre) for Proposition 99, 1970-2000 (causalpy's CSV)."""
    spec = importlib.util.find_spec("causalpy")  # the CSV only: causalpy is not imported
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("causalpy is not installed: pip install -e '.[dev]'")
    frame = pd.read_csv(Path(spec.submodule_search_locations[0]) / "data" / "california_prop99.csv")
    frame = frame.set_index("Year")
    return frame[["California"]], frame.drop(columns="California"), int((frame.index < 1989).sum())


def from_case(case) -> tuple[pd.DataFrame, pd.DataFrame, int]:
    """(treated, controls, n_pre) from a tests/realdata case's long rows: date x unit, units
    with a missing date dropped (the estimators need a balanced panel)."""
    rows = case.load()
    treated = rows[rows["group"] != "control"]
    controls = rows[rows["group"] == "control"]
    wide_t = treated.pivot_table(index="date", columns="unit", values="value", aggfunc="mean")
    wide_c = controls.pivot(index="date", columns="unit", values="value")
    dates = wide_t.index.intersection(wide_c.index)
    wide_t, wide_c = wide_t.loc[dates].dropna(axis=1), wide_c.loc[dates].dropna(axis=1)
    return wide_t, wide_c, int((dates < case.go_live).sum())


def panels(names: list[str] | None) -> dict[str, tuple[pd.DataFrame, pd.DataFrame, int]]:
    out = {"prop99_causalpy": prop99_causalpy()}
    for case in control_panels():
        out[case.name] = from_case(case)
    return {k: v for k, v in out.items() if not names or k in names}


def scan(c: np.ndarray, n_pre: int, method: str) -> list[dict]:
    """Per control unit u, with u as treated and the other controls as donors (nested as the
    module docstring says): tau, permutation p and rank, and the three placebo-SE rules."""
    out = []
    levels = c[:n_pre].mean(axis=0)
    relative = bool((levels > 0).all())
    for u in range(c.shape[1]):
        others = np.delete(c, u, axis=1)
        found = synth.placebo_in_space(c[:, u], others, n_pre, method)
        fit = synth.estimate(c[:, u], others, n_pre, method)
        taus = synth.placebo_estimates(fit, replications=None)  # one per other control
        n = len(taus)
        crit = stats.t.ppf(1 - ALPHA / 2, n - 1) * np.sqrt(1 + 1 / n)  # a prediction interval
        rel = taus / np.delete(levels, u) if relative else None
        out.append(
            {
                "tau": found.effect,
                "p": np.nan if found.p_value is None else found.p_value,
                "rank": -1 if found.rank is None else found.rank,
                "se": float(np.std(taus)),  # = synth.placebo_se(fit, replications=None)
                "normal": abs(found.effect) > Z * np.std(taus),
                "t": abs(found.effect) > crit * np.std(taus, ddof=1),
                "relative": bool(
                    relative and abs(found.effect / levels[u]) > crit * np.std(rel, ddof=1)
                ),
            }
        )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--panel", action="append", help="panel name (default: all)")
    parser.add_argument("--method", action="append", choices=synth.METHODS)
    parser.add_argument("--by-unit", action="store_true", help="one line per placebo unit")
    args = parser.parse_args()
    methods = args.method or list(synth.METHODS)
    found = panels(args.panel)
    totals = {m: np.zeros(5, dtype=int) for m in methods}  # units, by p, normal, t, relative
    for name, (treated, controls, n_pre) in found.items():
        c = controls.to_numpy(dtype=float)
        j, t = c.shape[1], c.shape[0]
        print(
            f"\n== {name}: {j} control units, {n_pre} pre + {t - n_pre} post periods, "
            f"{treated.shape[1]} treated unit(s) (dropped from the scans)"
        )
        for method in methods:
            start = time.perf_counter()
            y = treated.to_numpy(dtype=float)
            real = synth.estimate(y, c, n_pre, method)
            reps = None if real.n_treated == 1 else 200
            real_se = synth.placebo_se(real, replications=reps, seed=0)
            real_scan = synth.placebo_in_space(y, c, n_pre, method)
            rows = scan(c, n_pre, method)
            counts = np.array(
                [
                    j,
                    sum(r["p"] <= ALPHA for r in rows),
                    sum(r["normal"] for r in rows),
                    sum(r["t"] for r in rows),
                    sum(r["relative"] for r in rows),
                ]
            )
            totals[method] += counts
            print(
                f"  {method:18s} treated: tau {real.tau:+.4g} placebo SE {real_se:.4g} "
                f"rank {real_scan.rank}/{j + 1} p {real_scan.p_value:.3f} "
                f"[{time.perf_counter() - start:.1f}s]\n"
                f"  {'':18s} placebo units significant: (a) p {counts[1]}/{j}, "
                f"(b) tau/SE>1.96 {counts[2]}/{j}, (c) t-prediction {counts[3]}/{j}, "
                f"(d) relative t-prediction {counts[4]}/{j}"
            )
            if args.by_unit:
                for unit, r in zip(controls.columns, rows, strict=True):
                    flags = "".join(
                        k if hit else "-"
                        for k, hit in zip(
                            "abcd",
                            (r["p"] <= ALPHA, r["normal"], r["t"], r["relative"]),
                            strict=True,
                        )
                    )
                    print(
                        f"      {unit!s:22s} tau {r['tau']:+10.4g}  SE {r['se']:9.4g}  "
                        f"t {r['tau'] / r['se']:+6.2f}  rank {r['rank']:2d}  p {r['p']:.3f}  "
                        f"{flags}"
                    )
    print(
        "\n== all panels: significant placebo units (goal: at most 1 in 20)\n"
        "   (a) permutation p <= 0.05; (b) |tau|/placebo SE > 1.96 (the paper's normal\n"
        "   interval); (c) |tau| beyond a t prediction interval from the other units'\n"
        "   placebo estimates, t(J-2) * sd * sqrt(1 + 1/(J-1)); (d) (c) on effects in\n"
        "   proportion to each unit's pre-period level"
    )
    for method, (n, *hits) in totals.items():
        cells = "  ".join(f"({k}) {h}/{n} {h / n:5.1%}" for k, h in zip("abcd", hits, strict=True))
        print(f"  {method:18s} {cells}")


if __name__ == "__main__":
    main()
