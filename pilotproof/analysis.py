"""Glue between the store and the pure analytics: read the DataFrames, analyse, and render the
results as the machine-readable JSON contract or a table for people."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

from analytics.portfolio import analyze_portfolio
from analytics.results import MetricEffect, PilotResult


def analyze_store(store, pilot_ids: Iterable[str] | None = None) -> tuple[PilotResult, ...]:
    """Analyse the pilots in `store` (all, or only `pilot_ids`) with `analyze_portfolio`."""
    ids = None if pilot_ids is None else list(pilot_ids)
    return analyze_portfolio(
        store.observations(ids),
        store.pilots(),
        store.catalog(),
        store.thresholds(),
        pilot_ids=ids,
    )


def _num(value: float | None) -> float | None:
    """JSON-safe number: finite floats only, else null."""
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def _metric_json(effect: MetricEffect) -> dict[str, Any]:
    return {
        "metric": effect.metric,
        "verdict": effect.verdict,
        "effect_pct": _num(effect.effect_pct),
        "ci_low_pct": _num(effect.ci_low_pct),
        "ci_high_pct": _num(effect.ci_high_pct),
        "reasons": list(effect.reasons),
        "direction": effect.direction,
        "kind": effect.kind,
        "method": effect.method,
        "frequency": effect.frequency,
        "n_pre": effect.n_pre,
        "n_post": effect.n_post,
        "effect_abs": _num(effect.effect_abs),
        "ci_low_abs": _num(effect.ci_low_abs),
        "ci_high_abs": _num(effect.ci_high_abs),
        "mde_pct": _num(effect.mde_pct),
        "baseline": _num(effect.baseline),
        # thresholds are in the metric's scale: percent, or percentage points (`scale`)
        "threshold_pct": None if effect.points else _num(effect.threshold_pct),
        "tolerance_pct": None if effect.points else _num(effect.tolerance_pct),
        "rate_effect_pct": _num(effect.rate_effect_pct),
        "mix_effect_pct": _num(effect.mix_effect_pct),
        "note": effect.note,
        "model": effect.model,
        "break_date": None if effect.break_date is None else effect.break_date.date().isoformat(),
        "backtest_error_pct": _num(effect.backtest_error_pct),
        "placebo_units": effect.placebo_units,
        "placebo_rank": effect.placebo_rank,
        "permutation_p": _num(effect.permutation_p),
        "rmspe_ratio": _num(effect.rmspe_ratio),
        "single_control": effect.single_control,
        "effect_pct_without_single_control": _num(effect.effect_pct_without_single_control),
        # issue 11: a fraction's effect in percentage points; `effect_pct` is then the relative
        # change, null when the pre-period level is too near zero for a percentage to mean much
        "scale": effect.scale,
        "effect_points": _num(effect.effect_points),
        "ci_low_points": _num(effect.ci_low_points),
        "ci_high_points": _num(effect.ci_high_points),
        "mde_points": _num(effect.mde_points),
        "threshold_points": _num(effect.threshold_pct) if effect.points else None,
        "tolerance_points": _num(effect.tolerance_pct) if effect.points else None,
        "checks": [
            {
                "name": c.name,
                "passed": c.passed,
                "applicable": c.applicable,
                "explanation": c.explanation,
                "statistic": _num(c.statistic),
                "p_value": _num(c.p_value),
            }
            for c in effect.checks
        ],
    }


def to_json(results: Sequence[PilotResult]) -> dict[str, Any]:
    """The `pilotproof analyze --format json` document: `{"pilots": [...]}` with the keys of the
    issue-3 contract (pilot_id, decision, reasons, metrics[metric, verdict, effect_pct,
    ci_low_pct, ci_high_pct, reasons]) plus extra fields; numbers are finite or null."""
    pilots = []
    for result in results:
        net = result.net_value
        pilots.append(
            {
                "pilot_id": result.pilot_id,
                "decision": result.decision,
                "reasons": list(result.reasons),
                "summary": result.summary,
                "value_metrics": list(result.value_metrics),
                "readiness_missing": list(result.readiness_missing),
                "net_value": None
                if net is None
                else {
                    "metric": net.metric,
                    "annual_gross": _num(net.annual_gross),
                    "annual_cost": _num(net.annual_cost),
                    "annual_net": _num(net.annual_net),
                    "ci_low": _num(net.ci_low),
                    "ci_high": _num(net.ci_high),
                },
                "metrics": [_metric_json(m) for m in result.metrics],
            }
        )
    return {"pilots": pilots}


def _fmt(value: float | None) -> str:
    return "-" if value is None or not math.isfinite(value) else f"{value:+.1f}"


def to_table(results: Sequence[PilotResult]) -> str:
    """A plain-text table for people: one block per pilot, one line per metric."""
    if not results:
        return "No pilots to analyse: ingest a pilots file and metrics first."
    lines: list[str] = []
    for result in results:
        reasons = ", ".join(result.reasons) or "-"
        lines.append(f"{result.pilot_id}: {result.decision.upper()} ({reasons})")
        if result.summary:
            lines.append(f"  {result.summary}")
        if not result.metrics:
            lines.append("  (no treatment data)")
        header = f"  {'metric':<24} {'verdict':<13} {'effect':>10} {'95% interval':>17}  reasons"
        if result.metrics:
            lines.append(header)
        for m in result.metrics:
            low, high = m.headline_interval
            unit = " pt" if m.points else " %"  # percentage points for a fraction, else percent
            interval = f"{_fmt(low)} to {_fmt(high)}{unit}"
            lines.append(
                f"  {m.metric:<24} {m.verdict:<13} {_fmt(m.headline) + unit:>10} {interval:>17}  "
                f"{', '.join(m.reasons) or '-'}"
            )
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"
