"""Governance before the results: the success plan, its lock and versions, and the decision log.

A pilot's success plan (the value metric, the improvement that justifies scaling, the guardrails
and their tolerances, the evaluation window, the decision owner) is fixed before anyone sees the
result, as experiment platforms pre-register their decision criteria. It locks at go-live or at
the first analysis that shows post-go-live results, whichever comes first. Later versions are
allowed but never silent: the pre-registered version (the last one set before the lock) stays the
reference, and a change of criteria after the lock is reported with what the decision would have
been under the original plan.

Pure: plain values in, frozen dataclasses out. Text here is plain; user text in it (names,
reasons, notes) is escaped by whoever renders it.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal, get_args

import pandas as pd

from analytics.inputs import timestamp
from analytics.results import DECISION_LABELS, Decision

PlanStatus = Literal["pre_registered", "changed_after_lock", "set_after_lock", "not_pre_registered"]
PLAN_STATUSES: tuple[PlanStatus, ...] = get_args(PlanStatus)
#: Statuses that are a governance gap: the criteria were not fixed before the results.
GAP_STATUSES: frozenset[PlanStatus] = frozenset({"set_after_lock", "not_pre_registered"})

PLAN_STATUS_LABELS: dict[PlanStatus, str] = {
    "pre_registered": "Pre-registered",
    "changed_after_lock": "Criteria changed after results were visible",
    "set_after_lock": "Criteria not pre-registered (set after go-live)",
    "not_pre_registered": "Criteria not pre-registered",
}
#: The decision as one word, as the "would have been" sentence uses it.


@dataclass(frozen=True)
class SuccessPlan:
    """What must be proven before a pilot scales.

    `threshold_pct`: the minimum improvement of `value_metric` that justifies scaling, in percent
    of what the metric would have been, in the metric's own direction (10 = 10% lower for a
    lower-is-better metric). `guardrails`: (metric, tolerated deterioration in percent) pairs.
    `evaluation_days`: how long after go-live the decision is due.
    """

    value_metric: str | None = None
    threshold_pct: float | None = None
    guardrails: tuple[tuple[str, float], ...] = ()
    evaluation_days: int | None = None
    decision_owner: str | None = None

    @property
    def criteria(self) -> tuple[object, ...]:
        """What the decision depends on (the owner who signs it is not a criterion)."""
        return (
            self.value_metric,
            self.threshold_pct,
            tuple(sorted(self.guardrails)),
            self.evaluation_days,
        )

    def guardrails_words(self, points: Collection[str] = ()) -> str:
        """Each guardrail with the deterioration it tolerates, in its metric's scale: a
        metric in `points` (a rate or a share, judged in percentage points) says points:
        `rework rate at most 5 points worse; quality score at most 2% worse`; `none`."""
        if not self.guardrails:
            return "none"
        return "; ".join(
            f"{m.replace('_', ' ')} at most {scaled_amount(t, m in points)} worse"
            for m, t in self.guardrails
        )

    def summary(self, points: Collection[str] = ()) -> str:
        """The plan in one line, e.g. `cycle time at least 25% better; guardrails: ...; decide
        within 120 days of go-live; owner: CFO`; metrics in `points` are stated in points."""
        metric = (self.value_metric or "value metric not named").replace("_", " ")
        bar = ""
        if self.threshold_pct is not None:
            bar = f" at least {scaled_amount(self.threshold_pct, self.value_metric in points)}"
            bar += " better"
        window = (
            f"decide within {self.evaluation_days} days of go-live"
            if self.evaluation_days is not None
            else "no evaluation window"
        )
        owner = f"owner: {self.decision_owner}" if self.decision_owner else "no decision owner"
        return f"{metric}{bar}; guardrails: {self.guardrails_words(points)}; {window}; {owner}"


@dataclass(frozen=True)
class PlanVersion:
    """One stored version of a pilot's plan: who set it, when it took effect (`set_at`, which a
    pilots file may date back to when the plan was agreed), when pilotproof recorded it, and
    why it changed (required after the lock)."""

    version: int
    plan: SuccessPlan
    set_by: str
    set_at: pd.Timestamp
    recorded_at: pd.Timestamp
    reason: str | None = None
    upload_id: int | None = None


@dataclass(frozen=True)
class LoggedDecision:
    """A decision actually taken, beside the one pilotproof recommended when it was logged."""

    decision: Decision
    recommended: Decision | None
    note: str
    decided_by: str
    decided_at: pd.Timestamp

    @property
    def disagrees(self) -> bool:
        return self.recommended is not None and self.decision != self.recommended


@dataclass(frozen=True)
class Governance:
    """A pilot's plan status, versions, lock, decision log and evaluation deadline.

    `original` is the version in force when the plan locked (None when no plan was set before
    the lock); `would_have_been` is the decision under `original`, filled in when the criteria
    changed after the lock. `due` is go-live plus the current plan's evaluation window;
    `overdue` when it has passed at the analysis date with no scale, fix or stop decision
    logged. `forecast` ("how long until we know") is set for pilots whose decision is extend.
    """

    pilot_id: str
    status: PlanStatus
    versions: tuple[PlanVersion, ...] = ()
    locked_at: pd.Timestamp | None = None
    original: PlanVersion | None = None
    would_have_been: Decision | None = None
    decisions: tuple[LoggedDecision, ...] = ()
    due: pd.Timestamp | None = None
    overdue: bool = False
    forecast: object | None = None  # analytics.forecast.Forecast (kept loose: no import cycle)
    # the metrics read in percentage points (a rate or a share): their thresholds and
    # tolerances are points, and every sentence about the plan says so
    points: frozenset[str] = frozenset()

    @property
    def current(self) -> PlanVersion | None:
        return self.versions[-1] if self.versions else None

    @property
    def gap(self) -> bool:
        """Criteria not fixed before the results: a governance gap."""
        return self.status in GAP_STATUSES

    @property
    def changed(self) -> bool:
        return self.status == "changed_after_lock"

    @property
    def status_label(self) -> str:
        return PLAN_STATUS_LABELS[self.status]

    @property
    def latest_decision(self) -> LoggedDecision | None:
        return self.decisions[-1] if self.decisions else None

    def backdated(self) -> tuple[PlanVersion, ...]:
        """Versions dated before the lock (by a pilots file's `plan_set_on`, or an import) but
        recorded by pilotproof after it: the date is the uploader's word, shown as such."""
        if self.locked_at is None:
            return ()
        return tuple(v for v in self.versions if v.set_at < self.locked_at <= v.recorded_at)

    def changes(self) -> tuple[PlanVersion, ...]:
        """The versions recorded after the lock, oldest first."""
        if self.locked_at is None:
            return ()
        return tuple(v for v in self.versions if v.set_at >= self.locked_at)

    def change_sentence(self) -> str:
        """What moved, by whom, when and why: "Criteria changed after the results were
        visible: threshold from 25% to 15% (version 2 by dana on 2026-09-15: 'reason')"."""
        if not self.changed or self.original is None or self.current is None:
            return ""
        was, now = self.original.plan, self.current.plan
        moved = []
        if was.value_metric != now.value_metric:
            moved.append(
                f"value metric from {_metric(was.value_metric)} to {_metric(now.value_metric)}"
            )
        if was.threshold_pct != now.threshold_pct:
            moved.append(f"threshold from {_pct(was.threshold_pct)} to {_pct(now.threshold_pct)}")
        if tuple(sorted(was.guardrails)) != tuple(sorted(now.guardrails)):
            rails = (was.guardrails_words(self.points), now.guardrails_words(self.points))
            moved.append("guardrails from {} to {}".format(*rails))
        if was.evaluation_days != now.evaluation_days:
            window = (_days(was.evaluation_days), _days(now.evaluation_days))
            moved.append("evaluation window from {} to {}".format(*window))
        last = self.current
        why = f": '{last.reason}'" if last.reason else ""
        return (
            "Criteria changed after the results were visible: "
            + "; ".join(moved)
            + f" (version {last.version} by {last.set_by} on {last.set_at:%Y-%m-%d}{why})."
        )

    def would_have_been_sentence(self, decision: Decision) -> str:
        """ "Scale under the current 15% threshold; under the pre-registered 25% it would be
        Fix." When the threshold is not what moved, the plans are named by version."""
        if not self.changed or self.original is None or self.current is None:
            return ""
        if self.would_have_been is None:
            return ""
        was, now = self.original.plan, self.current.plan
        under_now = DECISION_LABELS.get(decision, decision)
        under_was = DECISION_LABELS.get(self.would_have_been, self.would_have_been)
        if was.threshold_pct != now.threshold_pct and was.criteria[0] == now.criteria[0]:
            current = f"the current {_pct(now.threshold_pct)} threshold"
            original = f"the pre-registered {_pct(was.threshold_pct)}"
        else:
            current = f"the current plan (version {self.current.version})"
            original = f"the pre-registered plan (version {self.original.version})"
        if self.would_have_been == decision:
            return f"{under_now} under {current}, and under {original} too."
        return f"{under_now} under {current}; under {original} it would be {under_was}."

    def gap_sentence(self) -> str:
        if self.status == "not_pre_registered":
            return (
                "Criteria not pre-registered: no success plan names the value metric, threshold "
                "and guardrails this pilot is judged on."
            )
        if self.status == "set_after_lock" and self.current is not None:
            first = self.versions[0]
            lock = f" ({self.locked_at:%Y-%m-%d})" if self.locked_at is not None else ""
            return (
                f"Criteria not pre-registered: the success plan was first set on "
                f"{first.set_at:%Y-%m-%d} by {first.set_by}, after the plan locked{lock}."
            )
        return ""

    def decision_sentence(self, recommended: Decision) -> str:
        """The logged decision beside the recommendation, or that none is logged."""
        last = self.latest_decision
        rec = DECISION_LABELS.get(recommended, recommended)
        if last is None:
            due = ""
            if self.due is not None:
                due = f"; due {self.due:%Y-%m-%d}" + (" (overdue)" if self.overdue else "")
            return f"No decision logged yet (pilotproof recommends {rec}){due}."
        taken = DECISION_LABELS.get(last.decision, last.decision)
        note = f": '{last.note}'" if last.note else ""
        text = f"Decision taken: {taken} by {last.decided_by} on {last.decided_at:%Y-%m-%d}{note}"
        if last.decision != recommended:
            text += f". Disagrees with pilotproof, which recommends {rec}."
        else:
            text += ", as pilotproof recommends."
        return text

    def plan_summary(self, version: PlanVersion) -> str:
        """A version's plan in one line, each threshold and tolerance in its metric's scale
        (percent, or points for the metrics in `points`): `SuccessPlan.summary`."""
        return version.plan.summary(self.points)

    def guardrails_words(self, version: PlanVersion) -> str:
        """A version's guardrails with their tolerances in their metrics' scales:
        `SuccessPlan.guardrails_words`."""
        return version.plan.guardrails_words(self.points)

    def lines(self, recommended: Decision) -> tuple[str, ...]:
        """Every sentence a report shows about the plan, in order: status or change, the
        would-have-been, the plan itself (metrics in `points` stated in points), the decision,
        the forecast."""
        out = [self.gap_sentence() or self.change_sentence()]
        if self.status == "pre_registered" and self.locked_at is not None:
            out[0] = f"Criteria pre-registered before the lock on {self.locked_at:%Y-%m-%d}."
        out.append(self.would_have_been_sentence(recommended))
        if self.current is not None:
            plan = self.current
            out.append(
                f"Success plan (version {plan.version}, set by {plan.set_by} on "
                f"{plan.set_at:%Y-%m-%d}): {self.plan_summary(plan)}."
            )
        out.append(self.decision_sentence(recommended))
        sentence = getattr(self.forecast, "sentence", "")
        if sentence:
            out.append(sentence)
        return tuple(line for line in out if line)

    def warning(self) -> str:
        """The one line a reader must not miss (a change after the lock, or a gap), or ""."""
        return self.change_sentence() or self.gap_sentence()


def lock_time(go_live: object, first_seen: object) -> pd.Timestamp | None:
    """When the plan locks: go-live or the first analysis with post-go-live results, whichever
    comes first; None while neither has happened."""
    stamps = [timestamp(go_live), timestamp(first_seen)]
    known = [s for s in stamps if s is not None]
    return min(known) if known else None


def plan_status(
    versions: Sequence[PlanVersion], locked_at: pd.Timestamp | None
) -> tuple[PlanStatus, PlanVersion | None]:
    """The plan's status and its pre-registered version (the last set before the lock; with
    no lock yet, the current one)."""
    if not versions:
        return "not_pre_registered", None
    before = [v for v in versions if locked_at is None or v.set_at < locked_at]
    if not before:
        return "set_after_lock", None
    original = before[-1]
    if versions[-1].plan.criteria != original.plan.criteria:
        return "changed_after_lock", original
    return "pre_registered", original


def governance(
    pilot_id: str,
    versions: Sequence[PlanVersion],
    decisions: Sequence[LoggedDecision],
    go_live: object,
    first_seen: object,
    as_of: pd.Timestamp,
    points: Collection[str] = (),
) -> Governance:
    """The governance record of one pilot (without the would-have-been decision or the
    forecast, which need the analysis: see `pilotproof.analysis`). `points` names the
    metrics read in percentage points (the catalog's `scale`), whose tolerances are points."""
    ordered = tuple(sorted(versions, key=lambda v: v.version))
    locked_at = lock_time(go_live, first_seen)
    status, original = plan_status(ordered, locked_at)
    log = tuple(sorted(decisions, key=lambda d: d.decided_at))
    due = None
    live = timestamp(go_live)
    if ordered and ordered[-1].plan.evaluation_days is not None and live is not None:
        due = live + pd.Timedelta(days=int(ordered[-1].plan.evaluation_days))
    final = any(d.decision in ("scale", "fix", "stop") for d in log)
    overdue = due is not None and pd.Timestamp(as_of) > due and not final
    return Governance(
        pilot_id=pilot_id,
        status=status,
        versions=ordered,
        locked_at=locked_at,
        original=original,
        decisions=log,
        due=due,
        overdue=overdue,
        points=frozenset(points),
    )


def _pct(value: float | None) -> str:
    return "none" if value is None or not math.isfinite(value) else f"{value:g}%"


def scaled_amount(value: float, points: bool) -> str:
    """A threshold or tolerance in its metric's scale: 10 -> '10%'; in points, 1 -> '1 point',
    5 -> '5 points'. The one place a plan's bar is put in words (`pilotproof.words` too)."""
    if not points:
        return f"{value:g}%"
    return f"{value:g} point{'' if value == 1 else 's'}"


def _days(value: int | None) -> str:
    return "none" if value is None else f"{value} days"


def _metric(value: str | None) -> str:
    return "none" if not value else value.replace("_", " ")


def apply_plans(
    pilots: pd.DataFrame, thresholds: pd.DataFrame, plans: Mapping[str, SuccessPlan]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The analysis inputs under `plans` (pilot_id -> plan in force): the plan's value metric
    becomes the pilot's value metric (a plan without one holds the first the pilot names), its
    threshold the value metric's per-pilot threshold and
    its guardrail tolerances per-pilot tolerances; everything else stays as given. Frames have
    the `Store.pilots()` and `Store.thresholds()` columns; the inputs are not modified."""
    pilots = pilots.copy()
    if "value_metric" in pilots:
        pilots["value_metric"] = pilots["value_metric"].astype(object)
    cells: dict[tuple[str, str], list[object]] = {
        (str(r.pilot_id), str(r.metric)): [r.threshold_pct, r.tolerance_pct]
        for r in thresholds.itertuples(index=False)
    }
    named = dict(zip(pilots["pilot_id"], pilots.get("value_metric", pd.Series()), strict=False))
    for pilot_id, plan in plans.items():
        metric = plan.value_metric
        if metric:
            pilots.loc[pilots["pilot_id"] == pilot_id, "value_metric"] = metric
        else:  # a plan without its own value metric holds the one the pilot names
            answer = named.get(pilot_id)
            text = answer.replace(";", ",").split(",")[0].strip() if isinstance(answer, str) else ""
            metric = text or None
        if metric and plan.threshold_pct is not None:
            cells.setdefault((pilot_id, metric), [None, None])[0] = plan.threshold_pct
        for metric, tolerance in plan.guardrails:
            cells.setdefault((pilot_id, metric), [None, None])[1] = tolerance
    frame = pd.DataFrame(
        [(p, m, t, o) for (p, m), (t, o) in cells.items()],
        columns=["pilot_id", "metric", "threshold_pct", "tolerance_pct"],
    )
    for name in ("threshold_pct", "tolerance_pct"):
        frame[name] = pd.to_numeric(frame[name], errors="coerce").astype("float64")
    return pilots, frame
