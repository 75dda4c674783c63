"""Portfolio-level health: the headline figures, the decision board, pilot purgatory, AI sprawl
and the maturity stage of each company.

Pure pandas over the per-pilot results (`analytics.results.PilotResult`) and the pilots table
(`Store.pilots()` shape). Every finding carries the rule that produced it, in words, so the app
can show why a company sits where it does.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, get_args

import pandas as pd

from analytics.inputs import timestamp
from analytics.results import DECISIONS, READINESS_FIELDS, Decision, PilotResult

Stage = Literal["experimenting", "expanding", "coordinating", "orchestrating"]
STAGES: tuple[Stage, ...] = get_args(Stage)

PURGATORY_DAYS = 180  # a pilot this long past go-live should have a scale or stop decision


@dataclass(frozen=True)
class Headline:
    """The four figures a partner reads first.

    `real_value` counts pilots with at least one value metric whose verdict is `real`;
    `mirages` counts pilots with at least one value metric flagged as a mirage; `not_proven`
    the rest (no change, inconclusive, too early, worse, not analysed), so the three add up to
    `pilots` unless `both` pilots have one value metric real and another a mirage. The portfolio
    net value sums the pilots' annualised net values; its 95% interval combines the pilots'
    intervals as independent normal errors (half-widths added in quadrature).
    """

    pilots: int
    real_value: int
    mirages: int
    annual_net: float | None
    annual_net_low: float | None
    annual_net_high: float | None
    valued_pilots: int  # pilots that contribute a net value
    not_proven: int = 0
    both: int = 0  # pilots counted in real_value and in mirages


@dataclass(frozen=True)
class PurgatoryPilot:
    pilot_id: str
    pilot_name: str
    company: str
    days_live: int
    decision: str
    rule: str


@dataclass(frozen=True)
class SprawlGroup:
    """Several AI pilots running side by side in one function of one company."""

    company: str
    function: str
    pilots: int
    vendors: int
    pilot_names: tuple[str, ...]
    monthly_cost: float
    rule: str


@dataclass(frozen=True)
class CompanyMaturity:
    company: str
    stage: Stage
    pilots: int
    proven: int  # pilots with real value on a value metric
    ready: int  # pilots that answer every readiness question
    scaling: int  # pilots whose standing decision (logged, else recommended) is `scale`
    rule: str


def headline(results: Sequence[PilotResult], pilots: pd.DataFrame) -> Headline:
    """Count pilots, proven value and mirages, and total the annualised net value."""
    real_ids = {r.pilot_id for r in results if _has_value_verdict(r, "real")}
    mirage_ids = {r.pilot_id for r in results if _has_value_verdict(r, "mirage")}
    real, mirages = len(real_ids), len(mirage_ids)
    ids = set(pilots["pilot_id"]) if "pilot_id" in pilots else {r.pilot_id for r in results}
    counts = {"not_proven": len(ids - real_ids - mirage_ids), "both": len(real_ids & mirage_ids)}
    nets = [r.net_value for r in results if r.net_value is not None]
    nets = [n for n in nets if math.isfinite(n.annual_net)]
    if not nets:
        return Headline(len(pilots), real, mirages, None, None, None, 0, **counts)
    total = float(sum(n.annual_net for n in nets))
    half_widths = [
        (n.ci_high - n.ci_low) / 2.0
        for n in nets
        if math.isfinite(n.ci_high) and math.isfinite(n.ci_low)
    ]
    half = math.sqrt(sum(h * h for h in half_widths))
    return Headline(
        len(pilots), real, mirages, total, total - half, total + half, len(nets), **counts
    )


def standing_decision(result: PilotResult) -> Decision:
    """The decision that stands for a pilot: the latest one logged in its decision log (a
    decision taken), else pilotproof's recommendation. The decision board, pilot purgatory and
    the maturity stages all count this one, so none contradicts the decision log."""
    last = result.governance.latest_decision if result.governance is not None else None
    return last.decision if last is not None else result.decision


def decision_board(results: Sequence[PilotResult], pilots: pd.DataFrame) -> pd.DataFrame:
    """Pilots counted by company, function and standing decision (`standing_decision`).

    Columns: `company, function, scale, fix, extend, stop, pilots`, one row per
    (company, function) that has pilots, sorted by company then function.
    """
    decisions = {r.pilot_id: standing_decision(r) for r in results}
    frame = pilots[["pilot_id", "company", "function"]].copy()
    frame["company"] = frame["company"].fillna("").astype(str)
    frame["function"] = frame["function"].fillna("").astype(str)
    frame["decision"] = frame["pilot_id"].map(decisions)
    columns = ["company", "function", *DECISIONS, "pilots"]
    if frame.empty:
        return pd.DataFrame({c: pd.Series(dtype="int64") for c in columns}).astype(
            {"company": "str", "function": "str"}
        )
    board = pd.crosstab([frame["company"], frame["function"]], frame["decision"])
    board = board.reindex(columns=list(DECISIONS), fill_value=0)
    board["pilots"] = frame.groupby(["company", "function"]).size()
    board = board.fillna(0).astype("int64").reset_index()
    board.columns.name = None
    return board[columns].sort_values(["company", "function"], ignore_index=True)


def purgatory(
    results: Sequence[PilotResult],
    pilots: pd.DataFrame,
    as_of: pd.Timestamp,
    min_days: int = PURGATORY_DAYS,
) -> tuple[PurgatoryPilot, ...]:
    """Pilots stuck in pilot purgatory: live `min_days` or more at `as_of` with no scale or
    stop decision: the standing decision (`standing_decision`: the one logged, else the one
    recommended) is still `extend` or `fix`. Longest-running first."""
    by_id = {r.pilot_id: r for r in results}
    stuck: list[PurgatoryPilot] = []
    for row in pilots.itertuples(index=False):
        result = by_id.get(str(row.pilot_id))
        decision = standing_decision(result) if result is not None else None
        go_live = timestamp(row.go_live)
        if result is None or decision not in ("extend", "fix") or go_live is None:
            continue
        days = int((pd.Timestamp(as_of) - go_live).days)
        if days < min_days:
            continue
        last = result.governance.latest_decision if result.governance is not None else None
        standing = (
            f"'{decision}' logged by {last.decided_by} on {last.decided_at:%Y-%m-%d}"
            if last is not None
            else f"pilotproof recommends '{decision}' and no decision is logged"
        )
        rule = f"live {days} days (more than {min_days}); {standing}"
        stuck.append(
            PurgatoryPilot(
                str(row.pilot_id), _text(row.pilot_name), _text(row.company), days, decision, rule
            )
        )
    return tuple(sorted(stuck, key=lambda p: (-p.days_live, p.pilot_id)))


def sprawl(pilots: pd.DataFrame, min_pilots: int = 2) -> tuple[SprawlGroup, ...]:
    """AI sprawl: `min_pilots` or more pilots in the same function of the same company.

    Different vendors in one function make it worse (overlapping tools without shared
    standards); the group reports how many distinct vendors it holds. Largest groups first.
    """
    groups: list[SprawlGroup] = []
    if pilots.empty:
        return ()
    frame = pilots.assign(
        company=pilots["company"].map(_text),
        function=pilots["function"].map(_text),
        vendor=pilots["vendor"].map(_text),
    )
    for (company, function), part in frame.groupby(["company", "function"], sort=True):
        if len(part) < min_pilots or not function:
            continue
        vendors = part.loc[part["vendor"] != "", "vendor"].nunique()
        cost = float(pd.to_numeric(part["monthly_cost"], errors="coerce").fillna(0.0).sum())
        rule = (
            f"{len(part)} pilots from {vendors} vendor{'s' if vendors != 1 else ''} "
            f"in one function ({min_pilots} or more count as sprawl)"
        )
        groups.append(
            SprawlGroup(
                str(company),
                str(function),
                len(part),
                int(vendors),
                tuple(sorted(part["pilot_name"].map(_text))),
                cost,
                rule,
            )
        )
    return tuple(sorted(groups, key=lambda g: (-g.pilots, g.company, g.function)))


def maturity(results: Sequence[PilotResult], pilots: pd.DataFrame) -> tuple[CompanyMaturity, ...]:
    """The maturity stage of each company, with the rule that placed it there.

    - experimenting: no pilot has proven real value on a value metric yet;
    - expanding: value proven somewhere, but fewer than three quarters of the pilots answer
      the whole readiness test, or tools overlap in a function (AI sprawl);
    - coordinating: value proven, at least three quarters of the pilots ready, no sprawl;
    - orchestrating: coordinating, every pilot ready, and at least half of them proven and
      scaling with no burden shift onto a guardrail.
    """
    by_id = {r.pilot_id: r for r in results}
    sprawled = {g.company for g in sprawl(pilots)}
    companies: list[CompanyMaturity] = []
    if pilots.empty:
        return ()
    frame = pilots.assign(company=pilots["company"].map(_text))
    for company, part in frame.groupby("company", sort=True):
        ids = list(part["pilot_id"])
        answered = part.set_index("pilot_id")
        own = [by_id[i] for i in ids if i in by_id]
        proven = sum(1 for r in own if _has_value_verdict(r, "real"))
        ready = sum(1 for i in ids if _is_ready(answered.loc[i], by_id.get(i)))
        scaling = sum(1 for r in own if standing_decision(r) == "scale")
        clean_scaling = sum(
            1
            for r in own
            if standing_decision(r) == "scale"
            and _has_value_verdict(r, "real")
            and not {"burden_shift", "guardrail_unproven"} & set(r.reasons)
        )
        n = len(ids)
        ready_share = ready / n
        if proven == 0:
            stage: Stage = "experimenting"
            rule = f"none of {n} pilots has proven real value on a value metric yet"
        elif ready_share < 0.75 or company in sprawled:
            stage = "expanding"
            why = []
            if ready_share < 0.75:
                why.append(f"only {ready} of {n} pilots pass the readiness test (needs 75%)")
            if company in sprawled:
                why.append("overlapping tools in one function")
            rule = f"{proven} of {n} pilots prove value, but " + " and ".join(why)
        elif ready < n or clean_scaling * 2 < n:
            stage = "coordinating"
            rule = (
                f"{proven} of {n} pilots prove value, {ready} of {n} are ready, no sprawl; "
                f"{clean_scaling} scale cleanly (running as a portfolio needs every pilot ready "
                "and half scaling)"
            )
        else:
            stage = "orchestrating"
            rule = (
                f"every pilot is ready and {clean_scaling} of {n} scale with proven value "
                "and no burden shift"
            )
        companies.append(CompanyMaturity(str(company), stage, n, proven, ready, scaling, rule))
    return tuple(companies)


def _has_value_verdict(result: PilotResult, verdict: str) -> bool:
    return any(e.verdict == verdict for e in result.value_effects)


def _is_ready(row: pd.Series, result: PilotResult | None) -> bool:
    if result is not None:
        return not result.readiness_missing
    return all(_text(row.get(f)) for f in READINESS_FIELDS)


def _text(value: object) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return ""
    return str(value).strip()
