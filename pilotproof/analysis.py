"""Glue between the store and the pure analytics: read the DataFrames, analyse, and render the
results as the machine-readable JSON contract or a table for people."""

from __future__ import annotations

import json
import math
import multiprocessing
import os
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import replace
from typing import Any, NamedTuple

import pandas as pd

from analytics.assembly import pilot_result
from analytics.forecast import Forecast, pilot_forecast
from analytics.governance import (
    Governance,
    LoggedDecision,
    PlanVersion,
    SuccessPlan,
    apply_plans,
    governance,
)
from analytics.inputs import go_live_of, pilot_info
from analytics.portfolio import analyze_portfolio
from analytics.results import MetricEffect, PilotResult
from analytics.specs import read_catalog, read_overrides, spec_for
from pilotproof.result_cache import decode_effects, encode_effects, engine_version, input_key
from pilotproof.store.results import CachedEffects
from pilotproof.words import with_burden

#: Observation rows read and analysed at a time: the portfolio streams from the store in chunks
#: of whole pilots of about this many rows (a pilot larger than it is one chunk), so memory
#: stays flat as the portfolio grows. Inside a chunk the series are batched as ever
#: (`analytics.portfolio`); a pilot's result does not depend on the pilots it is analysed with.
CHUNK_ROWS = 600_000
#: Processes that analyse chunks side by side when there are two chunks or more (1: all in this
#: one). The engine is single-threaded Python and numpy on small matrices, so a second process
#: is what could use a second core; on the shared 2-core machine, with both cores already busy,
#: two workers did not win (README, issue 16), so one is the default and `PILOTPROOF_WORKERS`
#: sets another number.
WORKERS = 1


def analyze_store(
    store,
    pilot_ids: Iterable[str] | None = None,
    as_of: pd.Timestamp | None = None,
    chunk_rows: int = CHUNK_ROWS,
    workers: int | None = None,
) -> tuple[PilotResult, ...]:
    """Analyse the pilots in `store` (all, or only `pilot_ids`) with `analyze_portfolio` under
    each pilot's current success plan, and attach its governance record (`result.governance`):
    plan status and versions, the decision under the pre-registered plan when the criteria
    changed after the lock, the decision log, the evaluation deadline (overdue at `as_of`,
    default today) and, for `extend`, how long until we know. Records which pilots' post-go-live
    results this analysis showed for the first time (the plan's second lock).

    Pilots whose inputs are unchanged since an earlier run read their effects from the store's
    result cache (`pilotproof.result_cache`); the others are read from the store and analysed
    in chunks of about `chunk_rows` observation rows (by `workers` processes side by side, default
    `PILOTPROOF_WORKERS` or `WORKERS`; this process reads every chunk, since DuckDB lets one
    process open the file), and their effects stored for next time. The results are those of
    one `analyze_portfolio` call on everything, and the same whatever `workers` is."""
    ids = None if pilot_ids is None else list(pilot_ids)
    today = pd.Timestamp.now().normalize() if as_of is None else pd.Timestamp(as_of)
    pilots = store.pilots()
    catalog, thresholds = store.catalog(), store.thresholds()
    version = store.data_version()  # read before the fingerprints (see `_analyze_cached`)
    prints = store.observation_fingerprints(ids)
    versions = plan_versions(store.plans())
    current = {pid: vs[-1].plan for pid, vs in versions.items()}
    planned_pilots, planned_thresholds = apply_plans(pilots, thresholds, current)
    processes = _worker_count(workers)
    results = _analyze_cached(
        store, version, prints, planned_pilots, catalog, planned_thresholds, ids, chunk_rows,
        processes,
    )  # fmt: skip
    store.mark_results_seen(r.pilot_id for r in results if any(m.n_post > 0 for m in r.metrics))
    seen_frame = store.results_seen()
    seen = dict(zip(seen_frame["pilot_id"], seen_frame["first_seen_at"], strict=True))
    log = logged_decisions(store.decisions())
    points = frozenset(catalog.loc[catalog["scale"] == "points", "metric"].astype(str))
    go_lives = dict(zip(pilots["pilot_id"], pilots["go_live"], strict=True))
    records = {
        r.pilot_id: governance(
            r.pilot_id,
            versions.get(r.pilot_id, ()),
            log.get(r.pilot_id, ()),
            go_lives.get(r.pilot_id),
            seen.get(r.pilot_id),
            today,
            points,
        )
        for r in results
    }
    changed = {pid: g.original.plan for pid, g in records.items() if g.changed and g.original}
    if changed:
        was_pilots, was_thresholds = apply_plans(pilots, thresholds, {**current, **changed})
        before = _analyze_cached(
            store,
            version,
            prints[prints["pilot_id"].isin(list(changed))],
            was_pilots,
            catalog,
            was_thresholds,
            list(changed),
            chunk_rows,
            processes,
        )
        for old in before:
            records[old.pilot_id] = replace(records[old.pilot_id], would_have_been=old.decision)
    return tuple(
        replace(
            r,
            governance=replace(
                records[r.pilot_id], forecast=pilot_forecast(r, go_lives.get(r.pilot_id))
            ),
        )
        for r in results
    )


def _analyze_cached(
    store,
    version: int,
    prints: pd.DataFrame,
    pilots: pd.DataFrame,
    catalog: pd.DataFrame,
    thresholds: pd.DataFrame,
    ids: list[str] | None,
    chunk_rows: int,
    workers: int = 1,
) -> tuple[PilotResult, ...]:
    """`analyze_portfolio(store.observations(ids), pilots, catalog, thresholds, ids)`, each
    pilot's effects read from the result cache when its input key is there, the others
    analysed in chunks of whole pilots and cached. `prints` is
    `store.observation_fingerprints(ids)`, read when the store's data version was `version`:
    results are stored only while it still is."""
    info = pilot_info(pilots)
    specs, overrides = read_catalog(catalog), read_overrides(thresholds)
    per_pilot: dict[str, list[tuple[str, int, str]]] = {}
    for pid, metric, rows, fingerprint in prints[
        ["pilot_id", "metric", "rows", "fingerprint"]
    ].itertuples(index=False):
        per_pilot.setdefault(str(pid), []).append((str(metric), int(rows), str(fingerprint)))
    order = list(info) + [p for p in per_pilot if p not in info and p.strip()]
    if ids is not None:
        known = set(order)
        order = [p for p in ids if p in known]
    engine = engine_version()
    keys = {
        pid: input_key(
            go_live_of(info.get(pid, {})),
            [(m, n, f, spec_for(specs, overrides, pid, m)) for m, n, f in per_pilot[pid]],
            engine,
        )
        for pid in dict.fromkeys(order)
        if pid in per_pilot
    }
    effects: dict[str, tuple[MetricEffect, ...]] = {}
    for pid, row in store.cached_results(keys, engine).items():
        found = decode_effects(row.effects, row.charts)  # arrays are views of the row's bytes
        if found is not None and row.input_key == keys.get(pid):
            effects[pid] = found
    missing = sorted((p for p in keys if p not in effects), key=lambda p: _go_live_order(info, p))
    sizes = {p: sum(n for _, n, _ in per_pilot[p]) for p in missing}
    entries: list[CachedEffects] = []
    chunks = _chunks(missing, sizes, chunk_rows)
    for pilot_id, text, blob, metrics in _analysed(
        store, chunks, (pilots, catalog, thresholds), workers
    ):
        # the result keeps its charts as views of the bytes to store: held once, not twice
        decoded = None if metrics is not None else decode_effects(text, blob)
        if decoded is not None:
            entries.append(CachedEffects(pilot_id, keys[pilot_id], engine, text, blob))
            effects[pilot_id] = decoded
        else:  # a chart array the cache cannot hold: analysed again next time
            effects[pilot_id] = metrics or ()
    # saved in one transaction: with a save per chunk, DuckDB's checkpoints rewrote the charts
    # stored so far again and again (commits of 26 MB took 0.1 s, then 1.3, 2.2, 4 s as the
    # table grew; the 1,000-pilot analysis took twice the baseline's time). A write
    # since the fingerprints (another process's upload) would file these results under the key
    # of data they were not computed from: then they are not kept.
    if entries and store.data_version() == version:
        store.save_results(entries)
    return tuple(pilot_result(pid, info.get(pid, {}), list(effects.get(pid, ()))) for pid in order)


Frames = tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]  # pilots, catalog, thresholds


class _Analysed(NamedTuple):
    """One pilot's effects as `encode_effects` wrote them (text, blob), or, when they do not
    encode, as computed (`metrics`, the text and blob empty)."""

    pilot_id: str
    text: str
    blob: bytes
    metrics: tuple[MetricEffect, ...] | None


def _analyse_chunk(observations: pd.DataFrame, frames: Frames, chunk: list[str]) -> list[_Analysed]:
    """`analyze_portfolio` on one chunk, each pilot's effects encoded for the cache (in a worker
    process: what comes back is text and bytes, not live objects)."""
    out: list[_Analysed] = []
    for result in analyze_portfolio(observations, *frames, pilot_ids=chunk):
        try:
            text, blob = encode_effects(result.metrics)
        except ValueError:
            out.append(_Analysed(result.pilot_id, "", b"", result.metrics))
            continue
        if decode_effects(text, blob) is None:  # never expected: keep what was computed
            out.append(_Analysed(result.pilot_id, "", b"", result.metrics))
        else:
            out.append(_Analysed(result.pilot_id, text, blob, None))
    return out


def _analysed(store, chunks: list[list[str]], frames: Frames, workers: int) -> Iterator[_Analysed]:
    """Every pilot of `chunks`, chunk after chunk in order, analysed here or, with two chunks or
    more and `workers` > 1, by that many processes (forkserver: a fresh interpreter, never a
    fork of this threaded one; the engine imported once there). This process reads each
    chunk and sends it; at most `workers` + 1 chunks are in flight. A pool that cannot start
    or breaks leaves the remaining chunks to this process. As with any multiprocessing start
    method but fork, a script that calls this must guard its work with
    `if __name__ == "__main__":` (the workers import the main module; the CLI, the app and the
    benches do)."""
    done = 0
    if workers > 1 and len(chunks) > 1:
        try:
            context = multiprocessing.get_context("forkserver")
            context.set_forkserver_preload(["pilotproof.analysis"])
            with ProcessPoolExecutor(workers, mp_context=context) as pool:
                flight: deque[Future[list[_Analysed]]] = deque()
                for chunk in chunks:
                    flight.append(
                        pool.submit(_analyse_chunk, store.observations(chunk), frames, chunk)
                    )
                    if len(flight) > workers:
                        yield from flight.popleft().result()
                        done += 1
                while flight:
                    yield from flight.popleft().result()
                    done += 1
        except (BrokenProcessPool, OSError):
            pass
    for chunk in chunks[done:]:
        yield from _analyse_chunk(store.observations(chunk), frames, chunk)


def _worker_count(workers: int | None) -> int:
    """`workers`, else `PILOTPROOF_WORKERS` when it is a whole number, else `WORKERS`; at
    least 1."""
    if workers is None:
        text = os.environ.get("PILOTPROOF_WORKERS", "").strip()
        workers = int(text) if text.isdigit() else WORKERS
    return max(1, workers)


def _go_live_order(info: dict[str, dict[str, object]], pilot_id: str) -> tuple[int, str]:
    """Sort key: the pilot's go-live (nanoseconds; none last), then its id."""
    go_live = go_live_of(info.get(pilot_id, {}))
    return (go_live.value if go_live is not None else 2**63 - 1, pilot_id)


def _chunks(pilot_ids: Sequence[str], rows: dict[str, int], limit: int) -> list[list[str]]:
    """`pilot_ids` in order, cut into runs of whole pilots of at most `limit` rows (a pilot
    with more rows is a run of its own)."""
    out: list[list[str]] = []
    current: list[str] = []
    total = 0
    for pid in pilot_ids:
        if current and total + rows[pid] > limit:
            out.append(current)
            current, total = [], 0
        current.append(pid)
        total += rows[pid]
    if current:
        out.append(current)
    return out


def plan_versions(frame: pd.DataFrame) -> dict[str, tuple[PlanVersion, ...]]:
    """`Store.plans()` as typed versions per pilot, oldest first."""
    out: dict[str, list[PlanVersion]] = {}
    for row in frame.to_dict("records"):
        guardrails = json.loads(row["guardrails"] or "{}")
        plan = SuccessPlan(
            value_metric=_text(row["value_metric"]),
            threshold_pct=_num(row["threshold_pct"]),
            guardrails=tuple(sorted((str(m), float(t)) for m, t in guardrails.items())),
            evaluation_days=None
            if pd.isna(row["evaluation_days"])
            else int(row["evaluation_days"]),
            decision_owner=_text(row["decision_owner"]),
        )
        out.setdefault(str(row["pilot_id"]), []).append(
            PlanVersion(
                version=int(row["version"]),
                plan=plan,
                set_by=str(row["set_by"]),
                set_at=pd.Timestamp(row["set_at"]),
                recorded_at=pd.Timestamp(row["recorded_at"]),
                reason=_text(row["reason"]),
                upload_id=None if pd.isna(row["upload_id"]) else int(row["upload_id"]),
            )
        )
    return {pid: tuple(sorted(vs, key=lambda v: v.version)) for pid, vs in out.items()}


def logged_decisions(frame: pd.DataFrame) -> dict[str, tuple[LoggedDecision, ...]]:
    """`Store.decisions()` as typed log entries per pilot, oldest first."""
    out: dict[str, list[LoggedDecision]] = {}
    for row in frame.to_dict("records"):
        out.setdefault(str(row["pilot_id"]), []).append(
            LoggedDecision(
                decision=row["decision"],
                recommended=_text(row["recommended"]),  # type: ignore[arg-type]
                note=_text(row["note"]) or "",
                decided_by=str(row["decided_by"]),
                decided_at=pd.Timestamp(row["decided_at"]),
            )
        )
    return {pid: tuple(items) for pid, items in out.items()}


def _text(value: object) -> str | None:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    return str(value) or None


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
        # the rate part's own 95% interval (analytics.mix.rate_part_se); null without one
        "rate_ci_low_pct": _num(effect.rate_ci_low_pct),
        "rate_ci_high_pct": _num(effect.rate_ci_high_pct),
        "note": effect.note,
        "model": effect.model,
        "break_date": None if effect.break_date is None else effect.break_date.date().isoformat(),
        "backtest_error_pct": _num(effect.backtest_error_pct),
        "placebo_units": effect.placebo_units,
        "placebo_rank": effect.placebo_rank,
        "permutation_p": _num(effect.permutation_p),
        "rmspe_ratio": _num(effect.rmspe_ratio),
        "placebo_group_units": effect.placebo_group_units,
        "structural_effect_pct": _num(effect.structural_effect_pct),
        "structural_halfwidth_pct": _num(effect.structural_halfwidth_pct),
        "single_control": effect.single_control,
        "effect_pct_without_single_control": _num(effect.effect_pct_without_single_control),
        "effect_pct_with_all_controls": _num(effect.effect_pct_with_all_controls),
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
                # the action title the app and the exports show, a worsened or unproven
                # guardrail named with its number (`words.with_burden`)
                "summary": with_burden(result.summary, result),
                "value_metrics": list(result.value_metrics),
                # the metric the pilot is judged on (PilotResult.headline), null without one
                "headline_metric": None if result.headline is None else result.headline.metric,
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
                **_governance_json(result),
            }
        )
    return {"pilots": pilots}


def _day(stamp: pd.Timestamp | None) -> str | None:
    return None if stamp is None or pd.isna(stamp) else stamp.date().isoformat()


def _moment(stamp: pd.Timestamp | None) -> str | None:
    return None if stamp is None or pd.isna(stamp) else stamp.isoformat(timespec="seconds")


def _plan_json(version: PlanVersion, backdated: bool = False) -> dict[str, Any]:
    plan = version.plan
    return {
        "version": version.version,
        "value_metric": plan.value_metric,
        "threshold_pct": _num(plan.threshold_pct),
        "guardrails": [{"metric": m, "tolerance_pct": _num(t)} for m, t in plan.guardrails],
        "evaluation_days": plan.evaluation_days,
        "decision_owner": plan.decision_owner,
        "set_by": version.set_by,
        "set_at": _moment(version.set_at),
        "recorded_at": _moment(version.recorded_at),
        "reason": version.reason,
        "backdated": backdated,
    }


def _forecast_json(found: Forecast | None) -> dict[str, Any] | None:
    if found is None:
        return None
    return {
        "metric": found.metric,
        "threshold_pct": _num(found.threshold_pct),
        "reachable": found.reachable,
        "decide_by": _day(found.decide_by),
        "decide_by_low": _day(found.decide_low),
        "decide_by_high": _day(found.decide_high),
        "periods_more": found.periods_more,
        "periods_more_low": found.periods_low,
        "periods_more_high": found.periods_high,
        "frequency": found.frequency,
        "mde_now_pct": _num(found.mde_now_pct),
        "mde_floor_pct": _num(found.floor_pct),
        "autocorrelation": _num(found.rho),
        "sentence": found.sentence,
    }


def _governance_json(result: PilotResult) -> dict[str, Any]:
    """The issue-15 fields of one pilot (added; nothing else in the document changes)."""
    g: Governance | None = result.governance
    if g is None:
        return {}
    current = g.current
    return {
        "plan": None if current is None else _plan_json(current, current in g.backdated()),
        "plan_status": g.status,
        "plan_gap": g.gap,
        "plan_locked_at": _moment(g.locked_at),
        "plan_pre_registered_version": None if g.original is None else g.original.version,
        "plan_versions": [_plan_json(v, v in g.backdated()) for v in g.versions],
        "plan_warning": g.warning() or None,
        "decision_under_original_plan": g.would_have_been,
        "decision_due": _day(g.due),
        "decision_overdue": g.overdue,
        "decision_logged": None
        if g.latest_decision is None
        else {
            "decision": g.latest_decision.decision,
            "recommended": g.latest_decision.recommended,
            "note": g.latest_decision.note,
            "decided_by": g.latest_decision.decided_by,
            "decided_at": _moment(g.latest_decision.decided_at),
            "disagrees": g.latest_decision.decision != result.decision,
        },
        "decision_log": [
            {
                "decision": d.decision,
                "recommended": d.recommended,
                "note": d.note,
                "decided_by": d.decided_by,
                "decided_at": _moment(d.decided_at),
            }
            for d in g.decisions
        ],
        "forecast": _forecast_json(g.forecast),  # type: ignore[arg-type]
    }


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
            lines.append(f"  {with_burden(result.summary, result)}")
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
