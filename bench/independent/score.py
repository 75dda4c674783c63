"""Run the independent known-truth families through the `pilotproof` CLI and score them.

    .venv/bin/python -m bench.independent.score [--seeds N] [--families a,b] [--json OUT]

Per family: one portfolio (seeds 0..N-1, one pilot each) is written to a temporary folder,
ingested into a fresh DuckDB file with `pilotproof --db TMP ingest metrics.csv --pilots
pilots.csv`, and analysed in one `pilotproof --db TMP analyze --format json` call. Only the
public JSON contract is read (verdict, effect_pct, ci_low_pct, ci_high_pct, reasons, decision).

Scoring:
* correct: truth improved -> verdict `real`; worsened -> `worse`; none -> neither `real` nor
  `worse` (mirage, inconclusive, no_change all count as right). A pilot or metric missing from
  the output counts as wrong.
* coverage: true_effect_pct inside [ci_low_pct, ci_high_pct] (pilots without an interval are
  left out of coverage and counted in `no_ci`).
* width: ci_high_pct - ci_low_pct; oracle width: 2 x oracle_halfwidth_pct; ratio: median over
  pilots of width / oracle width (only where both exist).
* none->scale: pilots with truth none whose pilot decision is `scale`.
Totals: balanced accuracy = mean recall over the truth classes present; placebo false-real rate
= share of truth-none pilots called `real`; coverage and width ratio pooled over all pilots.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pandas as pd

from bench.independent import generate as independent_generate

VERDICTS = ("real", "mirage", "inconclusive", "worse", "no_change")


#: Where the engine is imported from: None = the installed `pilotproof` command (the work tree);
#: a folder = `python -m pilotproof.cli` with that folder first on PYTHONPATH (e.g. a
#: `git archive` snapshot of one commit, so a measurement is not disturbed by uncommitted edits).
ENGINE_ROOT: Path | None = None


def _exe() -> list[str]:
    if ENGINE_ROOT is not None:
        return [sys.executable, "-m", "pilotproof.cli"]
    here = Path(sys.executable).parent / "pilotproof"
    if here.exists():
        return [str(here)]
    found = shutil.which("pilotproof")
    if not found:
        raise SystemExit("pilotproof command not found (run with .venv/bin/python)")
    return [found]


def _run(args: list[str]) -> str:
    env, cwd = None, None
    if ENGINE_ROOT is not None:  # `python -m` puts the cwd first on sys.path: run from there
        env, cwd = {**os.environ, "PYTHONPATH": str(ENGINE_ROOT)}, str(ENGINE_ROOT)
    proc = subprocess.run(args, capture_output=True, text=True, check=False, env=env, cwd=cwd)
    if proc.returncode != 0:
        raise RuntimeError(
            f"{' '.join(args[-4:])}... exit {proc.returncode}:\n{proc.stderr.strip()[:20000]}"
        )
    return proc.stdout


PROBLEM_LINE = re.compile(r"^(?P<file>.+?):(?P<line>\d+): ")


def _ingest(exe: list[str], db: str, folder: Path) -> dict[str, str]:
    """Ingest folder/metrics.csv and folder/pilots.csv. If the CLI refuses some lines, the pilots
    those lines belong to are dropped and the rest ingested again (the tool refuses a whole upload
    for one bad line); returns {pilot_id: first problem} for the pilots it refused."""
    metrics = pd.read_csv(folder / "metrics.csv", dtype=str, keep_default_na=False)
    registry = pd.read_csv(folder / "pilots.csv", dtype=str, keep_default_na=False)
    refused: dict[str, str] = {}
    for _ in range(50):
        m_path, p_path = folder / "metrics.ingest.csv", folder / "pilots.ingest.csv"
        metrics[~metrics["pilot_id"].isin(refused)].to_csv(m_path, index=False)
        registry[~registry["pilot_id"].isin(refused)].to_csv(p_path, index=False)
        try:
            _run([*exe, "--db", db, "ingest", str(m_path), "--pilots", str(p_path)])
            return refused
        except RuntimeError as exc:
            message = str(exc)
            kept_m = metrics[~metrics["pilot_id"].isin(refused)].reset_index(drop=True)
            kept_p = registry[~registry["pilot_id"].isin(refused)].reset_index(drop=True)
            new: dict[str, str] = {}
            for line in message.splitlines():
                hit = PROBLEM_LINE.match(line)
                if not hit:
                    continue
                frame = kept_m if hit["file"].endswith("metrics.ingest.csv") else kept_p
                row = int(hit["line"]) - 2  # line 1 is the header
                if 0 <= row < len(frame):
                    pid = frame.at[row, "pilot_id"]
                    new.setdefault(pid, line.split(": ", 1)[-1])
            if not new:
                raise
            refused.update(new)
    raise RuntimeError("ingest kept refusing")


def run_family(
    family: str,
    seeds: int,
    keep: Path | None = None,
    registry: ModuleType = independent_generate,
) -> list[dict[str, Any]]:
    """Generate, ingest and analyse one family; one record per pilot (truth + engine output).

    `registry` is the generator module (`FAMILIES`, `METRIC`, `write_portfolio`); a pilot's
    truth record may name its own `metric` (default `registry.METRIC`) and say
    `effect_scale: "points"`, in which case the engine's `effect_points` / `ci_low_points` /
    `ci_high_points` are scored in the `_pct` fields (its truth is in points too)."""
    exe = _exe()
    prefix = getattr(registry, "NAME", "indep")
    with tempfile.TemporaryDirectory(prefix=f"pp-{prefix}-{family}-") as tmp:
        folder = Path(tmp)
        pilots = registry.write_portfolio(family, range(seeds), folder)
        db = str(folder / "bench.duckdb")
        t0 = time.perf_counter()
        refused = _ingest(exe, db, folder)
        t1 = time.perf_counter()
        out: dict[str, Any] = {"pilots": []}
        if len(refused) < len(pilots):
            out = json.loads(_run([*exe, "--db", db, "analyze", "--format", "json"]))
        t2 = time.perf_counter()
        if keep is not None:
            dest = keep / family
            dest.mkdir(parents=True, exist_ok=True)
            for name in ("metrics.csv", "pilots.csv"):
                shutil.copy(folder / name, dest / name)
            (dest / "analyze.json").write_text(json.dumps(out, indent=1))
    by_id = {p["pilot_id"]: p for p in out.get("pilots", [])}
    records = []
    for p in pilots:
        rec = p.truth_record()
        got = by_id.get(p.pilot_id)
        metric = None
        name = rec.get("metric", registry.METRIC)
        if got is not None:
            metric = next((m for m in got.get("metrics", []) if m["metric"] == name), None)
        if metric is not None and rec.get("effect_scale") == "points":
            metric = {**metric, **{f"{k}_pct": metric.get(f"{k}_points") for k in _POINTS}}
        rec.update(
            {
                "refused": refused.get(p.pilot_id),
                "decision": None if got is None else got.get("decision"),
                "pilot_reasons": [] if got is None else got.get("reasons", []),
                "verdict": None if metric is None else metric.get("verdict"),
                "effect_pct": None if metric is None else metric.get("effect_pct"),
                "ci_low_pct": None if metric is None else metric.get("ci_low_pct"),
                "ci_high_pct": None if metric is None else metric.get("ci_high_pct"),
                "reasons": [] if metric is None else metric.get("reasons", []),
                "method": None if metric is None else metric.get("method"),
                "seconds_ingest": t1 - t0,
                "seconds_analyze": t2 - t1,
            }
        )
        records.append(rec)
    return records


_POINTS = ("effect", "ci_low", "ci_high")


def is_correct(truth: str, verdict: str | None) -> bool:
    if verdict is None:
        return False
    if truth == "improved":
        return verdict == "real"
    if truth == "worsened":
        return verdict == "worse"
    return verdict not in ("real", "worse")


def _median(values: list[float]) -> float | None:
    return float(np.median(values)) if values else None


def summarize(records: list[dict[str, Any]]) -> dict[str, Any]:
    n = len(records)
    correct = [is_correct(r["truth"], r["verdict"]) for r in records]
    covered, widths, oracle, ratios = [], [], [], []
    no_ci = 0
    for r in records:
        lo, hi = r["ci_low_pct"], r["ci_high_pct"]
        half = r["oracle_halfwidth_pct"]
        if lo is None or hi is None:
            no_ci += 1
        else:
            covered.append(lo <= r["true_effect_pct"] <= hi)
            widths.append(hi - lo)
            if half:
                ratios.append((hi - lo) / (2.0 * half))
        if half:
            oracle.append(2.0 * half)
    truths = Counter(r["truth"] for r in records)
    verdicts = Counter(
        r["verdict"] or ("refused" if r.get("refused") else "missing") for r in records
    )
    reasons = Counter(code for r in records for code in r["reasons"])
    none = [r for r in records if r["truth"] == "none"]
    estimates = [r["effect_pct"] for r in records if r["effect_pct"] is not None]
    return {
        "n": n,
        "truth": dict(truths),
        "correct": float(np.mean(correct)) if n else None,
        "coverage": float(np.mean(covered)) if covered else None,
        "no_ci": no_ci,
        "median_width": _median(widths),
        "median_oracle_width": _median(oracle),
        "width_ratio": _median(ratios),
        "none_scaled": sum(r["decision"] == "scale" for r in none),
        "none_real": sum(r["verdict"] == "real" for r in none),
        "n_none": len(none),
        "verdicts": dict(verdicts),
        "top_reasons": dict(reasons.most_common(4)),
        "median_effect_pct": _median(estimates),
        "median_true_effect_pct": _median([r["true_effect_pct"] for r in records]),
    }


def totals(records: list[dict[str, Any]]) -> dict[str, Any]:
    recalls = {}
    for cls in ("improved", "none", "worsened"):
        rows = [r for r in records if r["truth"] == cls]
        if rows:
            recalls[cls] = float(np.mean([is_correct(cls, r["verdict"]) for r in rows]))
    summary = summarize(records)
    none = [r for r in records if r["truth"] == "none"]
    return {
        "n": len(records),
        "recall": recalls,
        "balanced_accuracy": float(np.mean(list(recalls.values()))) if recalls else None,
        "placebo_false_real_rate": (
            float(np.mean([r["verdict"] == "real" for r in none])) if none else None
        ),
        "placebo_false_worse_rate": (
            float(np.mean([r["verdict"] == "worse" for r in none])) if none else None
        ),
        "none_scaled": summary["none_scaled"],
        "n_none": len(none),
        "coverage": summary["coverage"],
        "no_ci": summary["no_ci"],
        "width_ratio": summary["width_ratio"],
        "share_correct": summary["correct"],
    }


def _f(value: float | None, fmt: str = "{:.2f}") -> str:
    return "-" if value is None else fmt.format(value)


def render(
    per_family: dict[str, dict[str, Any]],
    total: dict[str, Any],
    subsets: dict[str, dict[str, Any]] | None = None,
) -> str:
    head = (
        f"{'family':<24} {'truth':<9} {'n':>3} {'correct':>7} {'cover':>6} {'width':>7} "
        f"{'oracle':>7} {'ratio':>6} {'none>scale':>10}  verdicts r/m/i/w/n  top reasons"
    )
    lines = [head, "-" * len(head)]
    for fam, s in per_family.items():
        truth = "/".join(sorted(s["truth"]))
        v = s["verdicts"]
        counts = "/".join(str(v.get(k, 0)) for k in VERDICTS)
        for extra in ("refused", "missing"):
            if v.get(extra):
                counts += f" +{v[extra]} {extra}"
        scaled = f"{s['none_scaled']}/{s['n_none']}" if s["n_none"] else "-"
        reasons = ",".join(f"{k}:{c}" for k, c in s["top_reasons"].items()) or "-"
        lines.append(
            f"{fam:<24} {truth:<9} {s['n']:>3} {_f(s['correct']):>7} {_f(s['coverage']):>6} "
            f"{_f(s['median_width'], '{:.1f}'):>7} {_f(s['median_oracle_width'], '{:.1f}'):>7} "
            f"{_f(s['width_ratio']):>6} {scaled:>10}  {counts:<18} {reasons}"
        )
    rec = ", ".join(f"{k} {v:.3f}" for k, v in total["recall"].items())
    lines += [
        "",
        f"pilots {total['n']}; recall: {rec}",
        f"balanced accuracy            {_f(total['balanced_accuracy'], '{:.3f}')}",
        f"placebo false-real rate      {_f(total['placebo_false_real_rate'], '{:.3f}')}"
        f" (false-worse {_f(total['placebo_false_worse_rate'], '{:.3f}')}) among {total['n_none']}"
        " truth-none",
        f"truth-none pilots told scale {total['none_scaled']}",
        f"interval coverage            {_f(total['coverage'], '{:.3f}')}"
        f" ({total['no_ci']} without interval)",
        f"median width / oracle width  {_f(total['width_ratio'])}",
    ]
    for name, sub in (subsets or {}).items():
        lines.append(
            f"{name:<28} n {sub['n']}, balanced accuracy {_f(sub['balanced_accuracy'], '{:.3f}')}"
            f", false-real {_f(sub['placebo_false_real_rate'], '{:.3f}')}"
            f", coverage {_f(sub['coverage'], '{:.3f}')}, width ratio {_f(sub['width_ratio'])}"
        )
    return "\n".join(lines)


def main(
    argv: list[str] | None = None,
    registry: ModuleType = independent_generate,
    description: str | None = None,
) -> int:
    """The command line; `registry` is the generator module whose `FAMILIES` are run (its
    `ISSUE_FAMILIES` and optional `SUBSET_NAMES` give the two subsets printed below the totals)."""
    parser = argparse.ArgumentParser(description=description or __doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=20, help="pilots per family (default 20)")
    parser.add_argument("--families", default="", help="comma-separated subset (default: all)")
    parser.add_argument("--json", metavar="OUT", help="save summaries and per-pilot records")
    parser.add_argument("--keep", metavar="DIR", help="keep the generated CSVs and JSON here")
    parser.add_argument("--jobs", type=int, default=2, help="families run in parallel (2)")
    parser.add_argument(
        "--engine-root",
        metavar="DIR",
        help="import pilotproof/analytics from DIR (e.g. `git archive HEAD | tar -x -C DIR`) "
        "instead of the installed command",
    )
    args = parser.parse_args(argv)
    global ENGINE_ROOT
    ENGINE_ROOT = Path(args.engine_root).resolve() if args.engine_root else None
    known = registry.FAMILIES
    families = [f.strip() for f in args.families.split(",") if f.strip()] or list(known)
    unknown = [f for f in families if f not in known]
    if unknown:
        parser.error(f"unknown families: {', '.join(unknown)}; known: {', '.join(known)}")
    keep = Path(args.keep) if args.keep else None
    t0 = time.perf_counter()
    with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        runs = pool.map(lambda f: run_family(f, args.seeds, keep, registry), families)
        results = dict(zip(families, runs, strict=True))
    per_family = {f: summarize(recs) for f, recs in results.items()}
    all_records = [r for recs in results.values() for r in recs]
    total = totals(all_records)
    subsets = {}
    issue = [r for r in all_records if r["family"] in registry.ISSUE_FAMILIES]
    rest = [r for r in all_records if r["family"] not in registry.ISSUE_FAMILIES]
    names = getattr(registry, "SUBSET_NAMES", ("issue families", "other families"))
    if issue and rest:
        subsets = {names[0]: totals(issue), names[1]: totals(rest)}
    print(render(per_family, total, subsets))
    print(f"\n{len(families)} families x {args.seeds} seeds in {time.perf_counter() - t0:.1f} s")
    if args.json:
        doc = {
            "seeds": args.seeds,
            "families": per_family,
            "totals": total,
            "subsets": subsets,
            "records": all_records,
        }
        Path(args.json).write_text(json.dumps(doc, indent=1, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
