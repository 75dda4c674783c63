"""Real data with published answers: does the analysis land on the literature's number, and how
often does it call a placebo go-live on a real series `real` (or `worse`)?

Per case (`tests/realdata/cases.py`, read from installed packages, nothing downloaded): the
published range, the tool's estimate with its 95% interval, the verdict, and whether both agree.
Per frequency: fake go-lives on long series with no intervention, each read lower-is-better and
higher-is-better; the share of `real` and of `worse` verdicts (nominal: at most 2.5% each).

    .venv/bin/python bench/realdata.py [--json OUT] [--no-placebo] [--by-series]

The engine measured is whichever `analytics` is imported first (the script prints its path).
To measure the committed engine while the work tree holds edits:

    git archive HEAD analytics | tar -x -C /tmp/head
    PYTHONPATH=/tmp/head .venv/bin/python bench/realdata.py

(the same works for `.venv/bin/pytest tests/realdata`, not `python -m pytest`, which puts the
work tree first).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))  # the `realdata` package (ahead of this script's dir)
sys.path.append(str(ROOT))  # analytics, unless PYTHONPATH or the installed package has it

from realdata.cases import (  # noqa: E402
    CASES,
    NOMINAL,
    PLACEBO_SERIES,
    WINDOWS,
    Outcome,
    analyze_case,
    placebo_rates,
    placebo_scan,
)

import analytics  # noqa: E402


def _num(value: float | None, digits: int = 1) -> str:
    if value is None or not math.isfinite(value):
        return "-"
    return f"{value:+.{digits}f}"


def _clean(value):
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def case_row(outcome: Outcome) -> dict:
    case, effect = outcome.case, outcome.effect
    value, low, high = outcome.estimate
    return {
        "case": case.name,
        "frequency": case.frequency,
        "metric": case.metric,
        "direction": case.direction,
        "go_live": str(case.go_live.date()),
        "unit": case.published.unit,
        "published": case.published.what,
        "published_low": case.published.low,
        "published_high": case.published.high,
        "published_verdicts": list(case.published.verdicts),
        "source": case.source,
        "verdict": outcome.verdict,
        "reasons": list(effect.reasons) if effect else [],
        "method": effect.method if effect else None,
        "n_pre": effect.n_pre if effect else None,
        "n_post": effect.n_post if effect else None,
        "effect": _clean(value),
        "ci_low": _clean(low),
        "ci_high": _clean(high),
        "effect_pct": _clean(effect.effect_pct) if effect else None,
        "ci_low_pct": _clean(effect.ci_low_pct) if effect else None,
        "ci_high_pct": _clean(effect.ci_high_pct) if effect else None,
        "effect_abs": _clean(effect.effect_abs) if effect else None,
        "ci_low_abs": _clean(effect.ci_low_abs) if effect else None,
        "ci_high_abs": _clean(effect.ci_high_abs) if effect else None,
        "error": outcome.error,
        "in_range": outcome.in_range,
        "verdict_ok": outcome.verdict_ok,
        "agrees": outcome.agrees,
    }


def print_cases(rows: list[dict]) -> None:
    print("Published answers (effect in % of the counterfactual unless marked abs)")
    header = (
        f"{'case':26} {'f':1} {'method':17} {'published range':>18} "
        f"{'tool estimate [95% CI]':>30} {'verdict':13} {'range':5} {'verdict':7}"
    )
    print(header)
    print("-" * len(header))
    for r in rows:
        bounds = [abs(b) for b in (r["published_low"], r["published_high"]) if b is not None]
        digits = 4 if bounds and max(bounds) < 1 else 1
        if r["published_low"] is None and r["published_high"] is None:
            published = "null (verdict)"
        else:
            low = "-inf" if r["published_low"] is None else _num(r["published_low"], digits)
            high = "+inf" if r["published_high"] is None else _num(r["published_high"], digits)
            published = f"[{low}, {high}]"
        unit = "" if r["unit"] == "pct" else " abs"
        estimate = (
            f"{_num(r['effect'], digits)} [{_num(r['ci_low'], digits)}, "
            f"{_num(r['ci_high'], digits)}]{unit}"
        )
        verdict = r["verdict"] + ("*" if r["reasons"] else "")
        print(
            f"{r['case']:26} {r['frequency']:1} {r['method'] or '-':17} {published:>18} "
            f"{estimate:>30} {verdict:13} {'yes' if r['in_range'] else 'NO':5} "
            f"{'yes' if r['verdict_ok'] else 'NO':7}"
        )
    agree = sum(r["agrees"] for r in rows)
    in_range = sum(r["in_range"] for r in rows)
    verdict_ok = sum(r["verdict_ok"] for r in rows)
    print(
        f"in range {in_range}/{len(rows)}, verdict agrees {verdict_ok}/{len(rows)}, "
        f"both {agree}/{len(rows)}   (* the verdict carries reasons:"
    )
    for r in rows:
        if r["reasons"] or r["error"]:
            print(f"    {r['case']}: {', '.join(r['reasons']) or r['error']}")
    print(")")


def print_placebo(rates: pd.DataFrame, by_series: pd.DataFrame | None) -> None:
    windows = ", ".join(f"{f} {pre} pre/{post} post" for f, (pre, post, _) in WINDOWS.items())
    print(f"\nPlacebo go-lives on series with no intervention ({windows}; both directions)")
    header = (
        f"{'freq':5} {'series':>6} {'n':>6} {'real':>5} {'false real':>10} "
        f"{'worse':>6} {'false worse':>11}"
    )
    print(header)
    print("-" * len(header))
    for r in rates.itertuples():
        print(
            f"{r.freq:5} {r.series:>6} {r.n:>6} {r.real:>5} {r.real_rate:>10.1%} "
            f"{r.worse:>6} {r.worse_rate:>11.1%}"
        )
    print(f"nominal: at most {NOMINAL:.1%} each")
    if by_series is not None:
        print("\nby series")
        for r in by_series.itertuples():
            print(
                f"  {r.series:18} {r.freq} n={r.n:>4} real {r.real:>3} ({r.real_rate:5.1%}) "
                f"worse {r.worse:>3} ({r.worse_rate:5.1%})"
            )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", metavar="OUT", help="save the results as JSON")
    parser.add_argument("--no-placebo", action="store_true", help="published cases only")
    parser.add_argument("--by-series", action="store_true", help="placebo rates per series")
    args = parser.parse_args(argv)

    print(f"engine: {Path(analytics.__file__).parent}")
    started = time.perf_counter()
    rows = [case_row(analyze_case(case)) for case in CASES]
    print_cases(rows)
    out: dict = {"engine": str(Path(analytics.__file__).parent), "cases": rows}
    out["cases_agree"] = sum(r["agrees"] for r in rows)
    out["cases_in_range"] = sum(r["in_range"] for r in rows)
    out["cases_total"] = len(rows)

    if not args.no_placebo:
        scans = pd.concat([placebo_scan(p) for p in PLACEBO_SERIES], ignore_index=True)
        rates = placebo_rates(scans)
        by_series = None
        if args.by_series or args.json:
            by_series = pd.concat(
                [
                    placebo_rates(part).iloc[[0]].assign(series=name)
                    for name, part in scans.groupby("series", sort=False)
                ],
                ignore_index=True,
            )
        print_placebo(rates, by_series if args.by_series else None)
        out["placebo"] = {
            "windows": {
                f: dict(zip(("pre", "post", "step"), w, strict=True)) for f, w in WINDOWS.items()
            },
            "nominal": NOMINAL,
            "by_frequency": rates.to_dict("records"),
            "by_series": [] if by_series is None else by_series.to_dict("records"),
            "false_positives": [
                {**r, "go_live": str(pd.Timestamp(r["go_live"]).date())}
                for r in scans[scans["verdict"].isin(["real", "worse"])].to_dict("records")
            ],
        }
    out["seconds"] = round(time.perf_counter() - started, 1)
    print(f"\n{out['seconds']} s")
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=2, default=str) + "\n")
        print(f"saved {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
