"""The format-independent content of a proof-of-value report.

Every writer (PowerPoint, PDF, Excel, HTML) renders the same `Report`: the same action
titles, the same numbers, the same footer. Text is plain here; each writer escapes or
neutralises it for its own format.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version

import numpy as np
import pandas as pd
import plotly.graph_objects as go

import pilotproof
from analytics.decision import guardrail_breached, guardrail_unproven
from analytics.frequency import weekly_means
from analytics.governance import LoggedDecision
from analytics.portfolio_health import standing_decision
from analytics.results import (
    READINESS_FIELDS,
    ChartSeries,
    CheckResult,
    Decision,
    MetricEffect,
    NetValue,
    PilotResult,
)
from pilotproof import charts
from pilotproof.charts import _threshold_line, same_mix, verdict_color  # the app's rules
from pilotproof.claims import (
    LOWERED_MARK,
    bar_caveat,
    claim_sentence,
    logged_override_words,
    lowered_count,
    lowered_only,
    override_words,
    scaling_words,
)
from pilotproof.history import history_window
from pilotproof.plaintext import TEXT_LIMIT, TITLE_LIMIT, shown
from pilotproof.store.errors import counted
from pilotproof.totals import (
    PortfolioValue,
    Rates,
    booked,
    gross_interval,
    net_value_words,
    noise_interval,
    portfolio_value,
    stop_savings,
    unbooked_words,
)
from pilotproof.words import (
    CHECK_LABELS,
    DECISION_ACTIONS,
    DECISION_LABELS,
    GUARDRAIL_WORSENED,
    METHOD_PLAIN,
    METHOD_SUMMARY,
    READINESS_LABELS,
    REASON_LABELS,
    bar_words,
    board_words,
    causes,
    change_text,
    guardrail_status,
    metric_name,
    missing_value_words,
    money,
    no_value_words,
    scaled_change,
    scaled_interval,
    threshold_words,
    unit_words,
    unproven_wait_words,
    unproven_words,
    verdict_label,
    with_burden,
)

MAX_DAILY_POINTS = 150  # past this, static charts show weekly means
# What one slide or PDF page holds, one limit per thing for both; the HTML page and the workbook
# hold everything.
MAX_EFFECT_ROWS = 7  # rows of a pilot's effect table
MAX_CHECK_METRICS = 4  # metric columns of the value-mirage check table
MAX_GUARDRAIL_ROWS = 4  # rows of the guardrail table
MAX_CHECK_NOTES = 4  # failed-check explanations under the check table

# ---- what the board exports say and draw beyond the app (partner read-through) -----------
#: Fix in the Okabe-Ito blue in every export, so a Fix never reads as the amber of a mirage
#: (the app's `charts.DECISION_COLORS` keeps its own).
FIX_COLOR = "#0072B2"
DECISION_COLORS: dict[Decision, str] = {**charts.DECISION_COLORS, "fix": FIX_COLOR}
#: The scaling bar of the pre-registered plan where it was lowered after the results: drawn
#: in the colour of 'worse', dotted, so a board sees the bar moved.
PREREGISTERED_COLOR = charts.VERDICT_COLORS["worse"]


def decision_color(decision: str) -> str:
    """A decision's colour in the exports (PPTX, PDF, HTML alike): `DECISION_COLORS`."""
    return DECISION_COLORS.get(decision, "#999999")  # type: ignore[call-overload]


def change_words(value: float | None, is_points: bool, digits: int = 1) -> str:
    """A change in words for a sentence, as the metric moved: '35.9% lower', '12.0% higher',
    '2.0 points higher', 'unchanged' when it rounds to zero; 'n/a' without one."""
    if not is_number(value):
        return "n/a"
    assert value is not None
    if round(value, digits) == 0:
        return "unchanged"
    size = scaled_change(abs(value), is_points, digits).lstrip("+")
    return f"{size} {'higher' if value > 0 else 'lower'}"


# a signed change inside a sentence: '-1%', '+4.5 points', '+3.0%' (not '15-25%', 'EUR -108k')
_SIGNED = re.compile(r"(?<![\w.%)])([+\-\u2212])(\d+(?:\.\d+)?)(%| points?\b)")


def sentence_words(text: str) -> str:
    """A sentence with its signed changes in words: '(95% interval -1% to +3%)' reads '(95%
    interval 1% lower to 3% higher)', 'rework rate +4.5 points downstream' reads 'rework rate
    4.5 points higher downstream'. Tables keep signed numbers under a heading that says what
    the sign means (`SIGN_NOTE`)."""

    def words(match: re.Match[str]) -> str:
        sign, number, unit = match.groups()
        if float(number) == 0:
            return f"{number}{unit}"
        return f"{number}{unit} {'higher' if sign == '+' else 'lower'}"

    return _SIGNED.sub(words, text)


#: What the sign of a table's change means, in its column heading.
CHANGE_HEADING = "Change (+ up)"
IMPROVEMENT_HEADING = "Improvement (+ better)"


def check_label(name: str) -> str:
    """A mirage check by its plain name (`words.CHECK_LABELS`, the app's), never its code."""
    return CHECK_LABELS.get(name) or humanise(name)  # type: ignore[call-overload]


def lowered_bar(result: PilotResult) -> tuple[str, float] | None:
    """(value metric, pre-registered threshold) when the scaling threshold of the plan in force
    at the lock was lowered afterwards (the results were visible); None otherwise."""
    g = result.governance
    if g is None or not g.changed or g.original is None or g.current is None:
        return None
    was, now = g.original.plan, g.current.plan
    if was.value_metric is None or was.value_metric != now.value_metric:
        return None
    if was.threshold_pct is None or now.threshold_pct is None:
        return None
    return (was.value_metric, was.threshold_pct) if now.threshold_pct < was.threshold_pct else None


def lowered_words(bar: str, preregistered: float | None, is_points: bool) -> str:
    """'at least 15% better (lowered from 25% after the results)': a bar moved after the
    results, said wherever the bar is."""
    if preregistered is None or not bar:
        return bar
    was = bar_words("value", preregistered, None, is_points).removeprefix("at least ")
    return f"{bar} (lowered from {was.removesuffix(' better')} after the results)"


@dataclass(frozen=True)
class Footer:
    """What a reader needs to reproduce a report; printed on every page, slide and sheet."""

    data_as_of: str
    scope: str
    method: str
    version: str
    data_hash: str
    generated_at: str

    @property
    def text(self) -> str:
        """Everything, in one line: the workbook's and the HTML page's footer, the file's
        metadata, and the provenance page of the deck and the PDF."""
        return (
            f"Data as of {self.data_as_of} | {self.scope} | Method: {self.method} | "
            f"pilotproof {self.version} | data sha256 {self.data_hash} | "
            f"generated {self.generated_at}"
        )

    @property
    def board_text(self) -> str:
        """What a board slide or page carries: the data's date and scope, where the rest is.
        The method, the data's fingerprint and the time it was made are at the end."""
        return (
            f"Data as of {self.data_as_of} | {self.scope} | 95% intervals | "
            f"pilotproof {self.version}; method and data fingerprint at the end"
        )

    def line(self, page: int | None = None) -> str:
        """A slide's or page's footer, one short line: the source, the data's date and the
        page ('Source: pilotproof 0.1.0 · Data as of 2026-10-31 · Page 17'). The scope, the
        method and the data's fingerprint are on the last page ('About this report')."""
        where = f" \u00b7 Page {page}" if page is not None else ""
        return f"Source: pilotproof {self.version} \u00b7 Data as of {self.data_as_of}{where}"

    @property
    def provenance(self) -> tuple[tuple[str, str], ...]:
        """(what, value) for the appendix that lets a reader reproduce the report."""
        return (
            ("Data as of", self.data_as_of),
            ("Scope", self.scope),
            ("Method", self.method),
            ("Made with", f"pilotproof {self.version}"),
            ("Data fingerprint (sha256)", self.data_hash),
            ("Generated", self.generated_at),
        )


@dataclass(frozen=True)
class EffectRow:
    """One metric of one pilot, as a table row."""

    pilot_id: str
    metric: str
    unit: str
    kind: str
    direction: str
    verdict: str
    method: str
    n_pre: int
    n_post: int
    effect_pct: float | None
    ci_low_pct: float | None
    ci_high_pct: float | None
    effect_abs: float | None
    ci_low_abs: float | None
    ci_high_abs: float | None
    baseline: float | None
    mde_pct: float | None
    threshold_pct: float | None
    tolerance_pct: float | None
    reasons: tuple[str, ...]
    note: str
    # a fraction's effect in percentage points (issue 11); its threshold and tolerance are too
    scale: str = "relative"
    effect_points: float | None = None
    ci_low_points: float | None = None
    ci_high_points: float | None = None
    # a guardrail worse by more than its tolerance (`analytics.decision.guardrail_breached`)
    beyond_tolerance: bool = False
    # a guardrail not yet shown within its tolerance (`analytics.decision.guardrail_unproven`)
    unproven: bool = False
    # the pre-registered threshold where the plan's was lowered after the results (`lowered_bar`)
    preregistered_pct: float | None = None

    @property
    def points(self) -> bool:
        return self.scale == "points"

    @property
    def effect_text(self) -> str:
        """'-21.3%', or '+2.0 points' for a point-scale metric."""
        if self.points:
            return scaled_change(self.effect_points, True)
        return pct(self.effect_pct)

    @property
    def interval_text(self) -> str:
        if self.points:
            return scaled_interval(self.ci_low_points, self.ci_high_points, True)
        return interval(self.ci_low_pct, self.ci_high_pct)

    @property
    def verdict_label(self) -> str:
        """The verdict's words; an activity metric is 'Activity, not value' whatever it did; a
        guardrail says whether it held ('Held', 'Worsened, within tolerance', 'Not yet shown
        within tolerance'): one that did not move is not a mirage."""
        if self.kind == "guardrail":
            return self.status_text[:1].upper() + self.status_text[1:]
        return verdict_label(self.verdict, self.kind)

    @property
    def verdict_color(self) -> str:
        """The verdict's colour; a guardrail that held is 'no change', one that worsened
        'worse', one not yet shown within its tolerance 'inconclusive'."""
        if self.kind == "guardrail":
            if self.verdict == "worse":
                return verdict_color("worse")
            return verdict_color("inconclusive" if self.unproven else "no_change")
        return verdict_color(self.verdict, self.kind)

    @property
    def status_text(self) -> str:
        """A guardrail's one line: held, worsened within or beyond its tolerance, or not yet
        shown within it."""
        return guardrail_status(self.verdict, self.beyond_tolerance, self.unproven)

    @property
    def breached(self) -> bool:
        return self.kind == "guardrail" and self.status_text == GUARDRAIL_WORSENED

    @property
    def bar_text(self) -> str:
        """The bar this metric is held to: the scaling threshold or the guardrail tolerance; a
        threshold lowered after the results says so ('... (lowered from 25% after the
        results)')."""
        bar = bar_words(self.kind, self.threshold_pct, self.tolerance_pct, self.points)
        return lowered_words(bar, self.preregistered_pct, self.points)

    @property
    def reasons_text(self) -> str:
        return ", ".join(REASON_LABELS.get(r, r) for r in self.reasons)

    @property
    def check_names(self) -> str:
        """The checks behind the verdict by their plain names ('Mix shift, Noise')."""
        return ", ".join(check_label(r) for r in self.reasons if r in CHECK_LABELS)

    @property
    def method_text(self) -> str:
        return METHOD_PLAIN.get(self.method, self.method)


@dataclass(frozen=True)
class CheckRow:
    pilot_id: str
    metric: str
    check: str
    applicable: bool
    passed: bool
    statistic: float | None
    p_value: float | None
    explanation: str
    kind: str = "value"
    verdict: str = ""
    beyond_tolerance: bool = False  # a guardrail worse by more than its tolerance
    unproven: bool = False  # a guardrail not yet shown within its tolerance

    @property
    def outcome(self) -> str:
        """pass / FAIL / n/a for a mirage check. A guardrail's checks ask whether it worsened,
        so they read 'held' or 'worsened beyond tolerance': a guardrail whose change is within
        noise held, and is never shown as a failed noise check. A value set aside as a likely
        typo (`outlier`) reads 'set aside'."""
        if self.check == "outlier":
            return "set aside"
        if self.kind == "guardrail":
            return guardrail_status(self.verdict, self.beyond_tolerance, self.unproven)
        if not self.applicable:
            return "n/a"
        return "pass" if self.passed else "FAIL"

    @property
    def failed(self) -> bool:
        """A mirage check that failed (a guardrail's line is in its own table)."""
        return self.kind != "guardrail" and self.applicable and not self.passed


@dataclass(frozen=True)
class ReadinessRow:
    field: str
    label: str
    answer: str | None

    @property
    def gap(self) -> bool:
        return self.answer is None or not self.answer.strip()


@dataclass(frozen=True)
class CheckGridRow:
    """One check across the metrics: its label, and per metric its row (None: not run)."""

    label: str
    cells: tuple[CheckRow | None, ...]


@dataclass(frozen=True)
class CheckGrid:
    """The value-mirage checks as drawn: a column per metric, a row per check."""

    metrics: tuple[str, ...]  # column heads, as people say the metric
    rows: tuple[CheckGridRow, ...]
    hidden: int  # metrics left out for room (the workbook has them all)

    @property
    def heading(self) -> str:
        more = f" (first {len(self.metrics)} metrics; all in the workbook)" if self.hidden else ""
        return "Value-mirage checks" + more


@dataclass(frozen=True)
class ComparisonRow:
    """One value metric of one pilot in the side-by-side comparison, as improvement: right is
    better whatever the metric's direction (percent, or points for a fraction)."""

    label: str
    name: str
    metric: str
    improvement: float | None
    effect: float | None  # the signed change, in the metric's scale
    points: bool
    interval: str
    plus: float  # the 95% interval around the improvement, for error bars
    minus: float
    threshold: float | None
    verdict: str
    verdict_label: str
    color: str
    # a mix-shift mirage is drawn at the same mix of work (what survives); the apparent
    # improvement, all of it from the mix, is said beside it
    apparent: float | None = None
    preregistered: float | None = None  # the threshold before it was lowered (`lowered_bar`)
    cause: str = ""  # a mirage's causes in a few words (`words.causes`): 'novelty that faded'

    @property
    def cleared_mirage(self) -> bool:
        """A value mirage whose bar reaches its scaling threshold: its colour says no where its
        length says yes, so the chart has to say why."""
        return (
            self.verdict == "mirage"
            and is_number(self.improvement)
            and is_number(self.threshold)
            and self.improvement >= self.threshold  # type: ignore[operator]
        )

    @property
    def chart_label(self) -> str:
        """The bar's label on the comparison chart: the pilot and metric, and for a mirage that
        clears its threshold a second line with the reason it is one ('Value mirage: novelty
        that faded')."""
        if self.cleared_mirage and self.cause:
            return f"{self.label}\n({self.verdict_label}: {self.cause})"
        return self.label

    @property
    def axis_values(self) -> tuple[float, ...]:
        """What the comparison's axis must show: the interval's ends and the threshold."""
        if self.improvement is None or not is_number(self.improvement):
            return ()
        ends = (self.improvement - self.minus, self.improvement + self.plus)
        bars = tuple(t for t in (self.threshold, self.preregistered) if is_number(t))
        return (*ends, *bars)  # type: ignore[arg-type]

    @property
    def bar_text(self) -> str:
        """The scaling threshold to reach, in words: 'at least 10% better'; one lowered after
        the results says so."""
        bar = bar_words("value", self.threshold, None, self.points)
        return lowered_words(bar, self.preregistered, self.points)

    @property
    def improvement_text(self) -> str:
        """'+35.9%': the improvement as the chart draws it (positive is better)."""
        return scaled_change(self.improvement, self.points)

    @property
    def interval_text(self) -> str:
        """The improvement's 95% interval, low to high as the chart's error bar; for a mix
        shift, the apparent improvement that the mix of work explains."""
        if self.apparent is not None:
            return f"apparent {scaled_change(self.apparent, self.points)}, all from the mix"
        if self.minus == 0 and self.plus == 0 and self.interval == "n/a":
            return "n/a"
        assert self.improvement is not None
        low, high = self.improvement - self.minus, self.improvement + self.plus
        return scaled_interval(low, high, self.points)

    @property
    def cells(self) -> tuple[str, ...]:
        """The row of the comparison table, in the chart's sign: pilot, metric, improvement,
        its interval, verdict."""
        return (self.name, self.metric, self.improvement_text, self.interval_text,
                self.verdict_label)  # fmt: skip


@dataclass(frozen=True)
class PilotSection:
    """Everything the report says about one pilot."""

    pilot_id: str
    name: str
    company: str
    function: str
    vendor: str
    go_live: pd.Timestamp | None
    monthly_cost: float | None
    annual_volume: float | None
    # the decision that stands (`analytics.portfolio_health.standing_decision`: the one
    # logged, else pilotproof's), as the app counts it
    decision: Decision
    reasons: tuple[str, ...]
    action_title: str
    headline: MetricEffect | None
    effects: tuple[EffectRow, ...]
    checks: tuple[CheckRow, ...]
    readiness: tuple[ReadinessRow, ...]
    net_value: NetValue | None
    result: PilotResult = field(repr=False, compare=False)
    units: Mapping[str, str] = field(default_factory=dict, repr=False, compare=False)
    # the success plan and decision log (issue 15): the status in words, the one line a reader
    # must not miss (criteria changed after the results, or not pre-registered), every
    # sentence about the plan, and whether the decision is overdue
    plan_status: str = ""
    plan_warning: str = ""
    plan_lines: tuple[str, ...] = ()
    plan_outcome: str = ""  # "Scale under the current 15% threshold; ... it would be Fix."
    overdue: bool = False
    # one row per plan version (PLAN_VERSION_COLUMNS) and per logged decision (LOG_COLUMNS)
    plan_versions: tuple[tuple[object, ...], ...] = ()
    decision_log: tuple[tuple[object, ...], ...] = ()
    events: pd.DataFrame | None = field(default=None, repr=False, compare=False)
    currency: str | None = None  # the ISO 4217 code its money is stated in (None: not set)
    # for a mirage: what the team would claim beside what survives (pilotproof.claims)
    claim: str = ""
    value_metrics: tuple[str, ...] = ()  # the metrics the pilot is judged on
    readiness_missing: tuple[str, ...] = ()  # readiness fields the decision found unanswered
    # pilotproof's own recommendation, and a logged decision that differs from it in words
    # ('override: pilotproof recommends Fix; Scale decided by VP Support, 2026-08-17')
    recommended: Decision | None = None
    override: str = ""

    def money(self, amount: float | None) -> str:
        """An amount of this pilot's money with its currency, as the app says it: 'EUR 480k'."""
        return money(amount, self.currency)

    @property
    def value_booked(self) -> bool:
        """Whether the pilot's net value is booked as money: it has one and its gross value is
        told from zero (`totals.booked`)."""
        return booked(self.result)

    @property
    def gross_interval(self) -> tuple[float, float] | None:
        """The 95% interval of the annual gross value as the noise rule reads it
        (`totals.gross_interval`); None without a net value."""
        return gross_interval(self.result)

    @property
    def within_noise(self) -> bool | None:
        """Whether the gross value cannot be told apart from zero (`totals.noise_interval`);
        None without a net value."""
        return None if self.net_value is None else noise_interval(self.result) is not None

    @property
    def net_text(self) -> str:
        """The net value in a table cell, by the app's rule (`totals.net_value_words`): 'EUR 480k a
        year', 'value within noise (EUR -94k to +112k a year); running cost EUR 118k a year',
        or what a pilot without one lacks ('value not in money: no cost per transaction',
        `words.no_value_words`)."""
        words = net_value_words(self.result, self.currency)
        return words or no_value_words(self.monthly_cost, self.annual_volume)

    @property
    def net_sentence(self) -> str:
        """The net value in a sentence with its interval; for a value within noise, the gross
        value's interval and the running cost, no point booked."""
        net = self.net_value
        if net is None:
            return self.no_value_text
        if (noise := noise_interval(self.result)) is not None:
            return (
                f"Value within noise: the gross value's 95% interval, {self.money(noise[0])} to "
                f"{money(noise[1])} a year, holds zero, so none is booked. Running cost "
                f"{self.money(net.annual_cost)} a year: what stopping saves."
            )
        return (
            f"Net value {self.money(net.annual_net)} a year on {humanise(net.metric)} (95% "
            f"interval {self.money(net.ci_low)} to {self.money(net.ci_high)})."
        )

    @property
    def decided_title(self) -> str:
        """The action title where a board reads the decision: after an override, the decision
        logged and pilotproof's recommendation first ('Scale (logged by VP Support on
        2026-08-17); pilotproof recommends Fix: Support reply assistant cut ...; fix before
        scaling: ...'), else the action title."""
        logged = logged_override_words(self.result)
        return f"{logged}: {self.action_title}" if logged else self.action_title

    @property
    def lowered_mark(self) -> str:
        """The mark on the pilot's row where it counts only under a bar lowered after the
        results (`claims.lowered_only`), else ''."""
        return LOWERED_MARK if lowered_only(self.result) else ""

    @property
    def logged(self) -> LoggedDecision | None:
        """The latest decision logged for the pilot (who, when), None when none is."""
        g = self.result.governance
        return g.latest_decision if g is not None else None

    @property
    def no_value_text(self) -> str:
        """Why there is no net value, in one sentence a board reads ('Value not stated: no
        cost data (monthly cost not given).')."""
        return missing_value_words(self.monthly_cost, self.annual_volume)

    @property
    def decision_label(self) -> str:
        """The decision as the action a board reads: 'Fix before scaling'."""
        return DECISION_ACTIONS.get(self.decision, self.decision)

    @property
    def decision_color(self) -> str:
        """The decision's colour in every export (`decision_color`: Fix in blue)."""
        return decision_color(self.decision)

    @property
    def label(self) -> str:
        """The pilot with its portfolio company, as a heading names it: 'Order desk entry
        assistant (Northwind Supply)'; the name alone when no company is known."""
        return f"{self.name} ({self.company})" if self.company else self.name

    def named(self, heading: str) -> str:
        """A heading that names the pilot, with its company: the name's first appearance gets
        the company beside it; a heading without the name starts with the company."""
        if not self.company:
            return heading
        if self.name and self.name in heading:
            return shown(heading.replace(self.name, self.label, 1), TITLE_LIMIT)
        return shown(f"{self.company}: {heading}", TITLE_LIMIT)

    @property
    def heading(self) -> str:
        """The action title as a slide's or page's heading: with the company (`named`)."""
        return self.named(self.action_title)

    @property
    def preregistered(self) -> float | None:
        """The headline metric's pre-registered threshold where it was lowered after the
        results (`lowered_bar`); None otherwise."""
        h = self.headline
        row = next((e for e in self.effects if h is not None and e.metric == h.metric), None)
        return row.preregistered_pct if row is not None else None

    @property
    def mix_effect(self) -> MetricEffect | None:
        """The value metric whose verdict is a mix-shift mirage with its rate/mix split
        (`same_mix`), the first one; None for any other pilot."""
        found = (e for e in self.result.value_effects if same_mix(e) is not None)
        return next((e for e in found if is_number(e.mix_effect_pct)), None)

    @property
    def mix_sentence(self) -> str:
        """The apparent change split into its rate part and its mix part (Kitagawa's
        decomposition, `analytics.mix`), in words: 'The team sees cost per transaction 25.8%
        lower since go-live: 0.3% lower from the rates within each kind of work (the pilot's
        part) and 25.5% lower from the mix of work shifting to the cheaper kind (not the
        pilot's).' '' when there is none."""
        e = self.mix_effect
        if e is None:
            return ""
        rate, mix = e.rate_effect_pct, e.mix_effect_pct
        assert rate is not None and mix is not None
        name = humanise(e.metric)
        return (
            f"The team sees {name} {change_words(rate + mix, False)} since go-live: "
            f"{change_words(rate, False)} from the rates within each kind of work (the pilot's "
            f"part) and {change_words(mix, False)} from the mix of work shifting to the cheaper "
            "kind (not the pilot's)."
        )

    @property
    def claim_text(self) -> str:
        """The sentence a mirage's slide or page leads with: for a mix shift its split into
        rate and mix (`mix_sentence`, which says what the team sees and what of it is the
        pilot's), else the team's claim beside what survives (`claim`); '' for neither."""
        return self.mix_sentence or self.claim

    @property
    def mix_parts(self) -> tuple[tuple[str, float, str], ...]:
        """(label, change in %, colour) of the rate/mix chart, as the app's explorer draws it
        (`charts.mix_split`): the apparent change, the rate part, the mix part; () when the
        pilot has no mix-shift split."""
        e = self.mix_effect
        if e is None:
            return ()
        rate, mix = e.rate_effect_pct, e.mix_effect_pct
        assert rate is not None and mix is not None
        return (
            ("Apparent change", rate + mix, charts.OBSERVED_COLOR),
            ("Rate part (the pilot's)", rate, charts.VERDICT_COLORS["real"]),
            ("Mix part (not the pilot's)", mix, charts.VERDICT_COLORS["mirage"]),
        )

    @property
    def mix_title(self) -> str:
        """The rate/mix chart's title: 'Cost per transaction: rate or mix (%)'."""
        e = self.mix_effect
        name = humanise(e.metric) if e is not None else ""
        return f"{name[:1].upper()}{name[1:]}: rate or mix (%)"

    @property
    def id_text(self) -> str:
        """The pilot id as shown (the id itself stays the key for lookups)."""
        return shown(self.pilot_id, 40)

    @property
    def reasons_text(self) -> str:
        """The reasons in words, and a logged decision that overrides pilotproof's after them
        ('readiness gaps; override: pilotproof recommends Fix; Scale decided by ...'), so a
        pilot listed under the decision taken still says what the evidence recommends."""
        words = ", ".join(REASON_LABELS.get(r, r) for r in self.reasons)
        return "; ".join(x for x in (words, self.override) if x)

    @property
    def guardrails(self) -> tuple[EffectRow, ...]:
        return tuple(row for row in self.effects if row.kind == "guardrail")

    @property
    def readiness_gaps(self) -> tuple[str, ...]:
        return tuple(row.label for row in self.readiness if row.gap)

    @property
    def check_metrics(self) -> tuple[str, ...]:
        """Metrics whose mirage checks are shown; guardrails have their own table."""
        return tuple(dict.fromkeys(row.metric for row in self.checks if row.kind != "guardrail"))

    @property
    def failed_checks(self) -> tuple[CheckRow, ...]:
        return tuple(row for row in self.checks if row.failed)

    @property
    def check_names(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(row.check for row in self.checks if row.kind != "guardrail"))

    def check(self, metric: str, name: str) -> CheckRow | None:
        for row in self.checks:
            if row.metric == metric and row.check == name:
                return row
        return None

    def check_grid(self, most: int | None = MAX_CHECK_METRICS) -> CheckGrid:
        """The check table with at most `most` metric columns (None: every metric)."""
        metrics = self.check_metrics if most is None else self.check_metrics[:most]
        rows = tuple(
            CheckGridRow(
                check_label(name),
                tuple(self.check(metric, name) for metric in metrics),
            )
            for name in self.check_names
        )
        hidden = len(self.check_metrics) - len(metrics)
        return CheckGrid(tuple(humanise(m) for m in metrics), rows, hidden)

    @property
    def check_notes(self) -> tuple[str, ...]:
        """One line per failed check and explanation, naming every metric it failed on
        ("Noise (cost per transaction, cycle time): ..."), at most `MAX_CHECK_NOTES`."""
        grouped: dict[tuple[str, str], list[str]] = {}
        for c in self.failed_checks:
            grouped.setdefault((c.check, c.explanation), []).append(humanise(c.metric))
        return tuple(
            f"{check_label(check)} ({', '.join(metrics)}): {why}"
            for (check, why), metrics in grouped.items()
        )[:MAX_CHECK_NOTES]

    @property
    def page_effects(self) -> tuple[EffectRow, ...]:
        """The effect table's rows on a slide or page (`MAX_EFFECT_ROWS`)."""
        return self.effects[:MAX_EFFECT_ROWS]

    @property
    def page_guardrails(self) -> tuple[EffectRow, ...]:
        """The guardrail table's rows on a slide or page (`MAX_GUARDRAIL_ROWS`)."""
        return self.guardrails[:MAX_GUARDRAIL_ROWS]

    @property
    def guardrail_heading(self) -> str:
        """'Guardrails', saying so when the page's table leaves some out."""
        shown_rows = len(self.page_guardrails)
        more = len(self.guardrails) > shown_rows
        return "Guardrails" + (f" (first {shown_rows}; all in the workbook)" if more else "")

    @property
    def more_effects_text(self) -> str:
        """'+ 2 more metrics in the Excel appendix' under a page's effect table, or ''."""
        hidden = len(self.effects) - len(self.page_effects)
        return f"+ {hidden} more metrics in the Excel appendix" if hidden else ""

    @property
    def value_rows(self) -> tuple[EffectRow, ...]:
        """The effects of the metrics the pilot is judged on."""
        return tuple(row for row in self.effects if row.metric in self.value_metrics)

    @property
    def has_series(self) -> bool:
        """Whether the headline metric has a series to chart."""
        h = self.headline
        return h is not None and h.series is not None and not h.series.empty

    @property
    def series_title(self) -> str:
        """The series chart's title: 'Cost per transaction (EUR): observed and expected without
        the pilot', with ' (weekly means)' when a long daily series is drawn as weekly means."""
        h = self.headline
        if h is None or not self.has_series:
            return ""
        label = charts.value_title(h, self.units.get(h.metric, ""))  # a fraction's: (%)
        weekly = display_series(h, self.go_live)[1]
        return f"{label}: observed and expected without the pilot{weekly}"

    @property
    def history_note(self) -> str:
        """What the series chart says of the history it leaves out ('History from 2025-07-07
        shown; the model used data from 2022-10-03.'), or "" when it draws the whole series."""
        h = self.headline
        window = None if h is None else history_window(h, self.go_live)
        return "" if window is None else window.words()


@dataclass(frozen=True)
class Report:
    """A proof-of-value report for one pilot, a selection or the whole portfolio."""

    title: str
    subtitle: str
    pilots: tuple[PilotSection, ...]
    footer: Footer
    observations: pd.DataFrame = field(repr=False, compare=False)
    results: tuple[PilotResult, ...] = field(repr=False, compare=False)
    # what the pilots are worth, as the Portfolio page says it (`value_words`)
    value_headline: str = ""
    value_detail: str = ""
    # what stopping the pilots to stop saves a month, per currency, as the Portfolio says it
    stop_saving: str = ""

    @property
    def decision_groups(self) -> tuple[tuple[Decision, tuple[PilotSection, ...]], ...]:
        """(decision, its pilots) in the order scale, fix, extend, stop; a decision no pilot
        has is left out. The pilots keep the report's order within a group."""
        groups = ((d, tuple(p for p in self.pilots if p.decision == d)) for d in DECISION_LABELS)
        return tuple((d, pilots) for d, pilots in groups if pilots)

    @property
    def is_selection(self) -> bool:
        return len(self.pilots) > 1

    @property
    def labels(self) -> dict[str, str]:
        return {p.pilot_id: p.name for p in self.pilots}

    @property
    def plan_warnings(self) -> tuple[tuple[str, str], ...]:
        """(pilot name with its company, warning) for every pilot whose criteria were not
        pre-registered or changed after the results were visible."""
        return tuple(
            (p.label, f"{p.plan_warning} {p.plan_outcome}".strip())
            for p in self.pilots
            if p.plan_warning
        )

    @property
    def overdue(self) -> tuple[str, ...]:
        """Names of the pilots whose decision is past its evaluation window."""
        return tuple(p.name for p in self.pilots if p.overdue)

    @property
    def comparison(self) -> tuple[ComparisonRow, ...]:
        """Every value metric of every pilot, as improvement, for the side-by-side comparison."""
        return tuple(row for pilot in self.pilots for row in _comparison_rows(pilot))

    @property
    def decision_counts(self) -> dict[Decision, int]:
        counts: dict[Decision, int] = dict.fromkeys(DECISION_LABELS, 0)
        for pilot in self.pilots:
            counts[pilot.decision] = counts.get(pilot.decision, 0) + 1
        return counts

    @property
    def decision_heads(self) -> dict[Decision, str]:
        """decision -> how its group is headed, with its count and how many of its pilots
        stand only under a lowered bar: 'Scale (4, 1 only under a bar lowered after the
        results)', 'Fix (1)' (`claims.lowered_count`)."""
        return {
            d: f"{DECISION_LABELS[d]} ({lowered_count([p.result for p in members])})"
            for d, members in self.decision_groups
        }

    @property
    def decision_tiles(self) -> tuple[tuple[Decision, str], ...]:
        """(decision, '3  Fix') for each decision taken at least once: the cover's tiles."""
        counts = self.decision_counts.items()
        return tuple((d, f"{n}  {DECISION_LABELS[d]}") for d, n in counts if n)


PLAN_VERSION_COLUMNS = (
    "pilot_id", "pilot_name", "plan_status", "version", "after_lock", "value_metric",
    "threshold_pct", "guardrails", "evaluation_days", "decision_owner", "set_by", "set_at",
    "reason", "decision_now", "decision_under_original_plan",
)  # fmt: skip
LOG_COLUMNS = (
    "pilot_id", "pilot_name", "decided_at", "decision", "recommended_then",
    "recommended_now", "disagrees", "decided_by", "note",
)  # fmt: skip


def _plan_rows(result: PilotResult, name: str) -> tuple[tuple, tuple]:
    """The plan versions and decision log of one pilot as plain rows (user text as shown)."""
    g = result.governance
    if g is None:
        return (), ()
    versions = tuple(
        (
            result.pilot_id, name, g.status_label, v.version,
            v in g.changes(), v.plan.value_metric,
            v.plan.threshold_pct, g.guardrails_words(v), v.plan.evaluation_days,
            shown(v.plan.decision_owner or ""), shown(v.set_by), f"{v.set_at:%Y-%m-%d %H:%M}",
            shown(v.reason or "", TEXT_LIMIT), result.decision, g.would_have_been,
        )
        for v in g.versions
    )  # fmt: skip
    log = tuple(
        (
            result.pilot_id, name, f"{d.decided_at:%Y-%m-%d %H:%M}", d.decision, d.recommended,
            result.decision, d.decision != result.decision, shown(d.decided_by),
            shown(d.note, TEXT_LIMIT),
        )
        for d in g.decisions
    )  # fmt: skip
    return versions, log


# ---- number formatting shared by every writer -------------------------------------------


def is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def pct(value: float | None, digits: int = 1) -> str:
    """-21.34 -> '-21.3%'; beyond ±300% a multiple (4100 -> '42x'); None -> 'n/a'."""
    return change_text(value, digits) if is_number(value) else "n/a"


def interval(low: float | None, high: float | None, digits: int = 1) -> str:
    if not (is_number(low) and is_number(high)):
        return "n/a"
    return f"{pct(low, digits)} to {pct(high, digits)}"


def nice_range(low: float, high: float) -> tuple[float, float, float]:
    """Axis bounds on round numbers around [low, high], and the major unit between them.

    A span that is not finite (values near the float limit) comes back with an infinite step:
    the caller then leaves the axis to PowerPoint's own scaling.
    """
    span = high - low or abs(high) or 1.0
    if not math.isfinite(span):
        return low, high, math.inf
    raw = span / 5
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    return math.floor(low / step) * step, math.ceil(high / step) * step, step


def forest_axis(values: Iterable[float]) -> tuple[float, float, float]:
    """Bounds and major unit of the forest chart's improvement axis: from zero or below, so
    bar lengths compare (27% against 25% must not look 2:1), and wide enough for `values`
    (every interval's ends and every threshold), so no error bar is clipped."""
    ends = [0.0, *values]
    low, high = min(ends), max(ends)
    pad = 0.04 * ((high - low) or 1.0)
    low, high, step = nice_range(low - pad if low < 0 else 0.0, high + pad if high > 0 else 0.0)
    return min(low, 0.0), max(high, 0.0), step


def waterfall_parts(start: float, end: float) -> tuple[float, float, float, float]:
    """A step from `start` to `end` as (invisible up, visible up, invisible down, visible down).

    Stacked charts stack positive and negative values separately from zero, so a step that
    crosses zero is drawn as a positive part and a negative part.
    """
    low, high = sorted((start, end))
    if low >= 0:
        return (low, high - low, 0.0, 0.0)
    if high <= 0:
        return (0.0, 0.0, high, low - high)
    return (0.0, high, 0.0, low)


def bridge_color(step: float) -> str:
    """A bridge step's colour by its sign: what adds value in the colour of real impact, what
    takes it away (a cost, a negative gross or net value) in the colour of 'worse'."""
    return charts.VERDICT_COLORS["real"] if step >= 0 else charts.VERDICT_COLORS["worse"]


def money_format(currency: str | None, net) -> str:
    """The bridge's axis in the pilot's currency and in thousands or millions as its labels
    say it ('EUR 200k', 'EUR -100k'). No code when the currency is not known."""
    code = "".join(ch for ch in (currency or "") if ch.isalnum())
    plus, minus = (f'"{code} "', f'"{code} -"') if code else ("", "-")
    largest = max(abs(net.annual_gross), abs(net.annual_cost), abs(net.annual_net))
    digits, suffix = "#,##0", ""
    if largest >= 5e6:
        digits, suffix = "#,##0.0,,", '"M"'
    elif largest >= 5e3:
        digits, suffix = "#,##0,", '"k"'
    return f"{plus}{digits}{suffix};{minus}{digits}{suffix}"


def threshold_levels(effect: MetricEffect, go_live: pd.Timestamp | None) -> pd.Series | None:
    """Per period of `effect.series`, the level the metric must reach to meet its scaling
    threshold, post go-live only (NaN before): one flat level, as the app draws it
    (`charts._threshold_line`: the post window's mean counterfactual moved by `threshold_pct`
    in the good direction), so it is never mistaken for the counterfactual. None when there is
    no threshold, go-live or series.
    """
    series = effect.series
    if series is None or go_live is None:
        return None
    dates = pd.to_datetime(series["date"])
    line = _threshold_line(effect, series["counterfactual"], dates, go_live)
    if line is None:
        return None
    post = dates.to_numpy() >= go_live.to_datetime64()
    return pd.Series(np.where(post, float(line.iloc[0]), np.nan), index=series.index)


def display_series(
    effect, go_live: pd.Timestamp | None, preregistered: float | None = None
) -> tuple[pd.DataFrame, str]:
    """The series to draw, with its threshold level (`threshold`) and, where the threshold
    was lowered after the results, the pre-registered one's (`preregistered`: the level at
    `preregistered` percent, else NaN); long daily series as weekly means.

    Two years of daily points with a weekly cycle turn a native chart into a solid smear, so
    past `MAX_DAILY_POINTS` the chart shows weekly means by the app's rule
    (`analytics.frequency.weekly_means`: 7-day weeks counted from go-live, so no week mixes
    the periods before and after it), so the two charts agree point for point. The tables and
    the workbook keep the exact figures. A long history is cut to the pilot's window
    (`pilotproof.history.history_window`: the post-period and a pre-period of comparable
    length), which the chart's note names.
    """
    series = effect.series.copy()
    series["date"] = pd.to_datetime(series["date"])
    levels = threshold_levels(effect, go_live)
    series["threshold"] = float("nan") if levels is None else levels.to_numpy()
    was = None
    if is_number(preregistered):
        was = threshold_levels(replace(effect, threshold_pct=preregistered), go_live)
    series["preregistered"] = float("nan") if was is None else was.to_numpy()
    if (window := history_window(effect, go_live)) is not None:
        series = window.frame(series)
    spacing = series["date"].diff().median()
    if len(series) <= MAX_DAILY_POINTS or not spacing <= pd.Timedelta(days=2):
        return series, ""
    weekly = weekly_means(series, "date", go_live)
    # a week with no data at all is left out: the print charts draw points, not gaps
    values = [c for c in weekly.columns if c != "date"]
    return weekly.dropna(how="all", subset=values).reset_index(drop=True), " (weekly means)"


def humanise(metric: str) -> str:
    """`cycle_time` -> `cycle time`; a metric named in a file is user text, shown as such."""
    return shown(metric_name(str(metric)))


# ---- building the content ---------------------------------------------------------------


def build_report(
    results: Sequence[PilotResult],
    pilots: pd.DataFrame,
    observations: pd.DataFrame,
    *,
    catalog: pd.DataFrame | None = None,
    events: pd.DataFrame | None = None,
    pilot_ids: Sequence[str] | None = None,
    filters: Mapping[str, str] | None = None,
    generated_at: datetime | None = None,
    currencies: Mapping[str, str | None] | None = None,
    rates: Rates | None = None,
) -> Report:
    """Assemble the report from analysis results and the store's frames.

    `pilots`, `observations`, `catalog` and `events` have the columns of the matching `Store`
    methods. Results are kept in the order given; `pilot_ids` narrows them.
    """
    wanted = set(pilot_ids) if pilot_ids else None
    chosen = tuple(r for r in results if wanted is None or r.pilot_id in wanted)
    chosen_ids = [r.pilot_id for r in chosen]
    pilots = pilots[pilots["pilot_id"].isin(chosen_ids)] if len(pilots) else pilots
    observations = (
        observations[observations["pilot_id"].isin(chosen_ids)]
        if len(observations)
        else observations
    )
    info = {row["pilot_id"]: row for row in pilots.to_dict("records")}
    units = _units(observations, catalog)
    money_in = currencies or {}
    sections = tuple(
        _section(
            result, info.get(result.pilot_id, {}), units, _pilot_events(events, result),
            money_in.get(result.pilot_id),
        )
        for result in chosen
    )  # fmt: skip
    today = pd.Timestamp((generated_at or datetime.now(UTC)).date())
    sections = tuple(_forecast_as_of(section, today) for section in sections)
    footer = Footer(
        data_as_of=_data_as_of(observations),
        scope=_scope(chosen_ids, pilot_ids, filters),
        method=_method(chosen),
        version=app_version(),
        data_hash=data_hash(observations, pilots),
        generated_at=(generated_at or datetime.now(UTC)).strftime("%Y-%m-%d %H:%M UTC"),
    )
    if len(sections) == 1:
        title = f"Proof of value: {sections[0].name}"
    elif pilot_ids:
        title = f"Proof of value: {len(sections)} selected AI pilots"
    else:
        title = f"Proof of value: AI pilot portfolio ({counted(len(sections), 'pilot')})"
    counts = {d: 0 for d in DECISION_LABELS}
    for section in sections:
        counts[section.decision] = counts.get(section.decision, 0) + 1
    subtitle = ", ".join(f"{n} {DECISION_ACTIONS[d].lower()}" for d, n in counts.items() if n)
    costs = {p.pilot_id: (p.monthly_cost, p.annual_volume) for p in sections}
    headline, detail = value_words(chosen, money_in, rates or NO_RATES, costs)
    saves = stop_savings(
        (p.pilot_id, p.monthly_cost, p.currency) for p in sections if p.decision == "stop"
    )
    return Report(
        title=title,
        subtitle=subtitle or "No pilots",
        pilots=sections,
        footer=footer,
        observations=observations,
        results=chosen,
        value_headline=headline,
        value_detail=detail,
        stop_saving=saves.sentence() if saves.priced else "",  # never an operator's step
    )


@dataclass(frozen=True)
class _NoRates:
    """No reporting currency and no rates: every currency is totalled on its own."""

    reporting: str | None = None
    rates: Mapping[str, float] = field(default_factory=dict)

    def convertible(self, currencies: set[str]) -> bool:
        return False


NO_RATES = _NoRates()


def value_words(
    results: Sequence[PilotResult],
    currencies: Mapping[str, str | None],
    rates: Rates,
    costs: Mapping[str, tuple[float | None, float | None]] | None = None,
) -> tuple[str, str]:
    """What the pilots to scale are worth a year, as the Portfolio page says it, and the line
    under it: 'Scaling 4 pilots, worth EUR 480k a year (EUR 421k to 539k, 95% interval) from 1
    of the 4; the other 3 (value not in money: no cost per transaction): running them costs
    GBP 462k + USD 144k a year.' and 'Every pilot with a net value, those to
    fix and stop included (4 pilots): EUR 372k · GBP 137k a year, not added across currencies
    (no conversion rates entered).' Money is
    totalled per currency and converted only at the rates entered (`pilotproof.totals`)."""
    to_scale = [r for r in results if standing_decision(r) == "scale"]
    n = len(to_scale)
    scaling = portfolio_value(to_scale, currencies, rates)
    everything = portfolio_value(results, currencies, rates)
    pilots = scaling_words(to_scale)  # a Scale that stands on a moved bar is marked
    if not n:
        headline = "Nothing to scale yet"
    elif not scaling.pilots:
        headline = f"{pilots}: value not stated (no cost data)"
    else:
        totals = [scaling.converted] if scaling.converted else list(scaling.per_currency)
        worth = " and ".join(
            f"{t.text()} a year ({money(t.low, t.currency)} to {money(t.high)}, 95% interval)"
            for t in totals
        )
        headline = f"{pilots}, worth {worth}"
        if scaling.pilots < n:  # say whose value it is: the partner read it as all four's
            headline += f" from {scaling.pilots} of the {n}"
            # what the others are and what running them costs (`costs`: pilot_id -> monthly
            # cost, annual volume), never 'no net value', which read as worthless
            known = costs or {}
            others = [
                (*known.get(r.pilot_id, (None, None)), currencies.get(r.pilot_id))
                for r in to_scale
                if r.net_value is None
            ]
            headline += f"; {unbooked_words(others)}" if others else ""
    return headline + ".", _value_detail(scaling, everything)


def _value_detail(scaling: PortfolioValue, everything: PortfolioValue) -> str:
    """Every pilot with a net value, those to fix and stop included, and how currencies were
    totalled."""
    parts = []
    if everything.pilots > scaling.pilots:
        parts.append(
            f"Every pilot with a net value, those to fix and stop included "
            f"({counted(everything.pilots, 'pilot')}): {everything.headline()} a year"
        )
    if everything.converted is not None and everything.rates_used:
        parts.append(f"totals in {everything.reporting} {everything.rates_text()}")
    elif len(everything.per_currency) > 1:
        parts.append("not added across currencies (no conversion rates entered)")
    text = ", ".join(parts)
    text = f"{text[:1].upper()}{text[1:]}." if text else ""
    return " ".join(filter(None, (text, everything.noise_words())))


def app_version() -> str:
    """`pilotproof.__version__`, read from the installed metadata if the package is a namespace."""
    found = getattr(pilotproof, "__version__", None)
    if found:
        return str(found)
    try:
        return version("pilotproof")
    except PackageNotFoundError:
        return "0.0.0"


def data_hash(observations: pd.DataFrame, pilots: pd.DataFrame) -> str:
    """First 16 hex digits of a SHA-256 over the observations and pilots in a canonical order.

    The same data give the same hash whatever order the rows were stored in, so a reader can
    regenerate the report and compare.
    """
    digest = hashlib.sha256()
    for frame, keys in (
        (observations, ["pilot_id", "metric", "group", "segment", "date"]),
        (pilots, ["pilot_id"]),
    ):
        if frame is None or frame.empty:
            digest.update(b"empty")
            continue
        columns = sorted(frame.columns)
        order = [k for k in keys if k in frame.columns]
        canonical = frame[columns].sort_values(order, kind="mergesort").reset_index(drop=True)
        digest.update(",".join(columns).encode())
        hashed = pd.util.hash_pandas_object(canonical.astype(str), index=False)
        digest.update(hashed.to_numpy().tobytes())
    return digest.hexdigest()[:16]


def action_title(
    result: PilotResult, name: str, headline: MetricEffect | None, raw_name: str = ""
) -> str:
    """The analysis' own summary when it gives one, else one built from the headline metric;
    a recommendation that holds only under criteria changed after the results says so in it
    ('...; ready to scale, but only under the threshold lowered after the results (25% →
    15%); pre-registered: Fix': `claims.bar_caveat`, as the app says it).

    The summary names the pilot as typed; that name is replaced by the shown one (`name`,
    control characters visible and cut), so a long name never pushes the decision out.
    """
    title = _plain_title(result, name, headline, raw_name)
    caveat = bar_caveat(result)
    if not caveat:
        return title
    return shown(f"{title}, {caveat.split(', ', 1)[1]}", TITLE_LIMIT)


def _forecast_as_of(section: PilotSection, today: pd.Timestamp) -> PilotSection:
    """The pilot with its 'Decide by ~1 November 2026 (1 week more data)' line read on the day
    the report is made: a date already past says the data stop before it ('More data needed:
    the next upload, ...'), as the app says it, rather than a deadline a board sees has gone."""
    g = section.result.governance
    forecast = g.forecast if g is not None else None
    when = getattr(forecast, "decide_by", None)
    if when is None or pd.Timestamp(when) >= today:
        return section
    said = sentence_words(shown(getattr(forecast, "sentence", ""), TEXT_LIMIT))
    span = getattr(forecast, "span", "")
    more = f"{span} more data" if span else "more data"
    instead = (
        f"More data needed: the next upload (the decision needs {more} than the last upload "
        f"holds, to ~{when.day} {when:%B %Y})."
    )
    lines = tuple(instead if line == said else line for line in section.plan_lines)
    return replace(section, plan_lines=lines)


def _plain_title(
    result: PilotResult, name: str, headline: MetricEffect | None, raw_name: str
) -> str:
    if result.summary.strip():
        summary = result.summary.strip()
        if raw_name and raw_name != name:
            summary = summary.replace(raw_name, name)
        return shown(with_burden(summary, result), TITLE_LIMIT)
    label = DECISION_LABELS.get(result.decision, result.decision).lower()
    verdict_phrase = {
        "scale": f"ready to {label}",
        "fix": DECISION_ACTIONS["fix"].lower(),
        "extend": f"{label}: too early to tell",
        "stop": f"{label}: no provable value",
    }.get(result.decision, label)
    if result.decision == "extend" and "guardrail_unproven" in result.reasons:
        # the value is proven; the guardrail is what is not (analytics.narrative's own tail)
        verdict_phrase = f"{label}: {unproven_words(result) or REASON_LABELS['guardrail_unproven']}"
    if headline is None or not is_number(headline.headline):
        return f"{name}: no measurable effect on its value metric; {verdict_phrase}"
    change = headline.headline
    assert change is not None
    verb = "cut" if change < 0 else "raised"
    lo, hi = headline.headline_interval
    if headline.points:
        bounds = "" if lo is None else f" (95% interval {scaled_interval(lo, hi, True)})"
        size = scaled_change(abs(change), True)[1:]
        return f"{name} {verb} {humanise(headline.metric)} {size}{bounds}; {verdict_phrase}"
    bounds = ""
    if is_number(lo) and is_number(hi):
        assert lo is not None and hi is not None
        if lo * hi > 0:
            a, b = sorted((abs(lo), abs(hi)))
            bounds = f" (95% interval {a:.0f}-{b:.0f}%)"
        else:
            bounds = f" (95% interval {lo:+.0f}% to {hi:+.0f}%)"
    return f"{name} {verb} {humanise(headline.metric)} {abs(change):.0f}%{bounds}; {verdict_phrase}"


def _comparison_rows(p: PilotSection) -> list[ComparisonRow]:
    rows = []
    for e in p.result.value_effects:
        improvement = e.improvement  # in the metric's scale: percent, or points
        flip = e.sign  # the interval as the metric moved; times the sign, as an improvement
        ci_low, ci_high = e.headline_interval
        if is_number(ci_low) and is_number(ci_high) and is_number(improvement):
            assert ci_low is not None and ci_high is not None and improvement is not None
            low, high = sorted((flip * ci_low, flip * ci_high))
            plus, minus = high - improvement, improvement - low
        else:
            plus = minus = 0.0
        metric, apparent, rate = humanise(e.metric), None, same_mix(e)
        lowered = lowered_bar(p.result)
        preregistered = lowered[1] if lowered is not None and lowered[0] == e.metric else None
        if rate is not None:  # what survives at the same mix, never the mix's apparent gain
            apparent, improvement, plus, minus = improvement, flip * rate, 0.0, 0.0
            metric += " at the same mix"
            if is_number(e.rate_ci_low_pct) and is_number(e.rate_ci_high_pct):
                # the rate part's own interval (`analytics.mix.rate_part_se`), as Compare draws
                assert e.rate_ci_low_pct is not None and e.rate_ci_high_pct is not None
                low, high = sorted((flip * e.rate_ci_low_pct, flip * e.rate_ci_high_pct))
                plus, minus = high - improvement, improvement - low
        rows.append(
            ComparisonRow(
                label=f"{p.name} · {metric}" + (" (points)" * e.points),
                name=p.name,
                metric=metric,
                improvement=improvement,
                effect=e.headline,
                points=e.points,
                interval=scaled_interval(ci_low, ci_high, e.points),
                plus=plus,
                minus=minus,
                threshold=e.threshold_pct,
                verdict=e.verdict,
                verdict_label=verdict_label(e.verdict, e.kind),
                color=verdict_color(e.verdict, e.kind),
                apparent=apparent,
                preregistered=preregistered,
                cause=causes(e.reasons) if e.verdict == "mirage" else "",
            )
        )
    return rows


# ---- the app's charts for the PDF and the HTML page -------------------------------------


def comparison_figure(report: Report, ends: int | None = None) -> go.Figure:
    """The app's forest plot of every pilot's value metrics, labelled by the pilots' names (with
    `ends`, of the `ends` pilots with the largest improvement and the `ends` with the smallest
    only: `comparison_ends`); a mix-shift mirage is drawn at the same mix of work (what
    survives), as the deck draws it, and its pilot's label says so."""
    drawn = report.results if ends is None else charts.extremes(report.results, n=ends)
    results, labels = charts.at_same_mix(drawn, dict(report.labels))
    figure = charts.forest_plot(results, labels=labels)
    return _forest_preregistered(figure, results, labels)


def _forest_preregistered(
    figure: go.Figure, results: Sequence[PilotResult], labels: Mapping[str, str]
) -> go.Figure:
    """The comparison chart with each pre-registered threshold lowered after the results
    beside the current one (the app's marker, in the colour of 'worse'), on the same row."""
    bars = [(r, lowered_bar(r)) for r in results]
    found = [(r, bar) for r, bar in bars if bar is not None]
    current = next((t for t in figure.data if t.name == "Scaling threshold"), None)
    if not found or current is None:
        return figure
    xs, ys = [], []
    for result, (metric, was) in found:
        name = charts.safe_text(labels.get(result.pilot_id, result.pilot_id), 80)
        effect = next((e for e in result.value_effects if e.metric == metric), None)
        if effect is None:
            continue
        for x, y in zip(current.x, current.y, strict=True):
            if str(y).startswith(name) and x == effect.threshold_pct:
                xs.append(was)
                ys.append(y)
    if xs:
        figure.add_trace(
            go.Scatter(
                x=xs, y=ys, mode="markers",
                marker={"color": PREREGISTERED_COLOR, "symbol": "line-ns-open", "size": 16,
                        "line": {"width": 3}},
                name="Pre-registered threshold (lowered after the results)",
                hovertemplate="pre-registered threshold %{x:.1f}% better<extra></extra>",
            )
        )  # fmt: skip
    return figure


def comparison_ends(report: Report, ends: int) -> tuple[str, ...] | None:
    """The ids of the pilots a comparison chart of `ends` at each end draws, best first; None
    when the portfolio is small enough for it to draw every pilot."""
    plotted = charts.extremes(report.results, n=ends)
    if len(plotted) < 2 * ends or len(report.results) <= 2 * ends:
        return None
    return tuple(r.pilot_id for r in plotted)


def bridge_figure(p: PilotSection) -> go.Figure | None:
    """The app's net value bridge in the pilot's currency, with the currency on its axis and a
    net value below zero in the colour of 'worse'; None without a net value."""
    figure = charts.value_bridge(p.result, currency=p.currency or "")
    if figure is None or p.net_value is None:
        return figure
    figure.update_yaxes(tickprefix=f"{p.currency} " if p.currency else "", tickformat="~s")
    if p.net_value.annual_net < 0:
        worse = {"marker": {"color": charts.VERDICT_COLORS["worse"]}}
        figure.update_traces(totals=worse, selector={"type": "waterfall"})
    return figure


def series_figure(p: PilotSection, *, static: bool) -> go.Figure | None:
    """The app's series chart of the headline metric, None without a series. `static` (a PDF
    image) draws long daily series as weekly means, as the deck does; the HTML page keeps every
    point and titles the chart with the pilot's name."""
    h = p.headline
    if h is None or not p.has_series:
        return None
    unit = p.units.get(h.metric, "")
    window = history_window(h, p.go_live)
    if not static:
        title = charts.safe_text(f"{p.label}: {humanise(h.metric)}")
        figure = charts.series_chart(
            h, p.go_live, unit=unit, events=p.events, title=title, window=window
        )
        drawn = h if window is None else window.effect(h)
        return _with_preregistered(figure, drawn, p.go_live, p.preregistered)
    series, _ = display_series(h, p.go_live)
    drawn = replace(h, chart=ChartSeries.of(series))
    figure = charts.series_chart(drawn, p.go_live, unit=unit, events=p.events, window=window)
    return _with_preregistered(figure, drawn, p.go_live, p.preregistered)


def _with_preregistered(
    figure: go.Figure, effect: MetricEffect, go_live: pd.Timestamp | None, was: float | None
) -> go.Figure:
    """The series chart with the pre-registered threshold's level beside the lowered one, in
    the colour of 'worse', dotted; the figure as it was when the threshold was not lowered."""
    levels = None
    if is_number(was) and effect.series is not None:
        levels = threshold_levels(replace(effect, threshold_pct=was), go_live)
    if levels is None:
        return figure
    assert was is not None
    lowered = threshold_words(effect.threshold_pct or 0.0, effect.points)
    for trace in figure.data:  # the bar drawn now: say it was lowered
        if trace.name == lowered:
            trace.name = f"{lowered}, lowered after the results"
    name = threshold_words(was, effect.points).replace("Scaling", "Pre-registered", 1)
    figure.add_trace(
        go.Scatter(
            x=pd.to_datetime(effect.series["date"]),
            y=levels,
            mode="lines",
            line={"color": PREREGISTERED_COLOR, "dash": "dot", "width": 2.5},
            name=name,
        )
    )
    return figure


def _section(
    result: PilotResult,
    info: Mapping[str, object],
    units: Mapping[str, str],
    events: pd.DataFrame | None,
    currency: str | None = None,
) -> PilotSection:
    raw_name = _text(info.get("pilot_name")) or result.pilot_id
    # a money unit reads as this pilot's currency, never "(currency)"
    units = {metric: unit_words(unit, currency) for metric, unit in units.items()}
    name = shown(raw_name)
    headline = result.headline
    lowered = lowered_bar(result)
    effects = tuple(
        _effect_row(
            e, units.get(e.metric, ""),
            lowered[1] if lowered is not None and e.metric == lowered[0] else None,
        )
        for e in result.metrics
    )  # fmt: skip
    checks = tuple(_check_row(result.pilot_id, e, c) for e in result.metrics for c in e.checks)
    readiness = tuple(
        ReadinessRow(f, READINESS_LABELS.get(f, f), _readiness_answer(f, info.get(f)))
        for f in READINESS_FIELDS
    )
    go_live = info.get("go_live")
    g = result.governance
    versions, log = _plan_rows(result, name)
    return PilotSection(
        pilot_id=result.pilot_id,
        name=name,
        company=shown(_text(info.get("company"))),
        function=shown(_text(info.get("function"))),
        vendor=shown(_text(info.get("vendor"))),
        go_live=pd.Timestamp(go_live) if go_live is not None and not pd.isna(go_live) else None,
        monthly_cost=_number(info.get("monthly_cost")),
        annual_volume=_number(info.get("annual_volume")),
        decision=standing_decision(result),
        recommended=result.decision,
        override=override_words(result),
        reasons=tuple(result.reasons),
        action_title=sentence_words(action_title(result, name, headline, raw_name)),
        headline=headline,
        effects=effects,
        checks=checks,
        readiness=readiness,
        net_value=result.net_value,
        result=result,
        units=units,
        events=events,
        currency=currency,
        claim=sentence_words(claim_sentence(headline)) if headline is not None else "",
        value_metrics=tuple(result.value_metrics),
        readiness_missing=tuple(result.readiness_missing),
        plan_status=g.status_label if g is not None else "",
        plan_warning=sentence_words(shown(g.warning(), TEXT_LIMIT)) if g is not None else "",
        plan_lines=tuple(
            sentence_words(shown(line, TEXT_LIMIT))
            for line in (*g.lines(result.decision), unproven_wait_words(result))
            if line
        )
        if g is not None
        else (),
        plan_outcome=sentence_words(shown(g.would_have_been_sentence(result.decision), TEXT_LIMIT))
        if g is not None
        else "",
        overdue=bool(g is not None and g.overdue),
        plan_versions=versions,
        decision_log=log,
    )


def _effect_row(effect: MetricEffect, unit: str, preregistered: float | None = None) -> EffectRow:
    return EffectRow(
        pilot_id=effect.pilot_id,
        metric=effect.metric,
        unit=unit,
        kind=effect.kind,
        direction=effect.direction,
        verdict=effect.verdict,
        method=effect.method,
        n_pre=effect.n_pre,
        n_post=effect.n_post,
        effect_pct=effect.effect_pct,
        ci_low_pct=effect.ci_low_pct,
        ci_high_pct=effect.ci_high_pct,
        effect_abs=effect.effect_abs,
        ci_low_abs=effect.ci_low_abs,
        ci_high_abs=effect.ci_high_abs,
        baseline=effect.baseline,
        mde_pct=effect.mde_pct,
        threshold_pct=effect.threshold_pct,
        tolerance_pct=effect.tolerance_pct,
        reasons=tuple(effect.reasons),
        note=shown(board_words(effect.note), TEXT_LIMIT),
        scale=effect.scale,
        effect_points=effect.effect_points,
        ci_low_points=effect.ci_low_points,
        ci_high_points=effect.ci_high_points,
        beyond_tolerance=guardrail_breached(effect),
        unproven=effect.kind == "guardrail" and guardrail_unproven(effect),
        preregistered_pct=preregistered if effect.kind == "value" else None,
    )


def _check_row(pilot_id: str, effect: MetricEffect, check: CheckResult) -> CheckRow:
    return CheckRow(
        pilot_id=pilot_id,
        metric=effect.metric,
        kind=effect.kind,
        verdict=effect.verdict,
        beyond_tolerance=guardrail_breached(effect),
        unproven=effect.kind == "guardrail" and guardrail_unproven(effect),
        check=check.name,
        applicable=check.applicable,
        passed=check.passed,
        statistic=check.statistic,
        p_value=check.p_value,
        explanation=sentence_words(shown(board_words(check.explanation), TEXT_LIMIT)),
    )


def _units(observations: pd.DataFrame, catalog: pd.DataFrame | None) -> dict[str, str]:
    units: dict[str, str] = {}
    if catalog is not None and not catalog.empty and "unit" in catalog:
        pairs = zip(catalog["metric"], catalog["unit"], strict=True)
        units.update({str(metric): _text(unit) for metric, unit in pairs})
    if not observations.empty and "unit" in observations:
        firsts = observations.drop_duplicates("metric")
        for metric, unit in zip(firsts["metric"], firsts["unit"], strict=True):
            if _text(unit):
                units[str(metric)] = _text(unit)
    return units


def _pilot_events(events: pd.DataFrame | None, result: PilotResult) -> pd.DataFrame | None:
    if events is None or events.empty:
        return None
    mine = events[events["pilot_id"] == result.pilot_id]
    return mine if not mine.empty else None


def _data_as_of(observations: pd.DataFrame) -> str:
    if observations.empty:
        return "no data"
    latest = pd.to_datetime(observations["date"]).max()
    return "no data" if pd.isna(latest) else latest.strftime("%Y-%m-%d")


def _scope(
    chosen: Sequence[str], asked: Sequence[str] | None, filters: Mapping[str, str] | None
) -> str:
    ids = ", ".join(shown(pid, 40) for pid in chosen[:8])
    ids += f" and {len(chosen) - 8} more" if len(chosen) > 8 else ""
    whole = f"Whole portfolio ({counted(len(chosen), 'pilot')}: {ids})"
    scope = f"Pilots: {ids}" if asked else whole
    if filters:
        scope += "; filters: " + ", ".join(f"{k}={shown(v, 40)}" for k, v in filters.items())
    return scope


def _method(results: Iterable[PilotResult]) -> str:
    used = sorted({m.method for r in results for m in r.metrics if m.method != "none"})
    names = ", or ".join(METHOD_SUMMARY[m] for m in used) or "not estimated"
    return f"what would have happened without the pilot, estimated {names}; 95% intervals"


def _text(value: object) -> str:
    if value is None:
        return ""
    try:
        if pd.isna(value):
            return ""
    except (TypeError, ValueError):
        pass
    return str(value)


def _readiness_answer(field_name: str, value: object) -> str | None:
    """A readiness answer as shown; the value metric, a metric's code in the pilots file
    ('cost_per_transaction'), as people say it ('cost per transaction')."""
    text = _long_text(value)
    if field_name == "value_metric" and text:
        return ", ".join(humanise(m.strip()) for m in text.split(","))
    return text or None


def _long_text(value: object) -> str:
    """A paragraph someone typed (a readiness answer): line breaks kept, cut at TEXT_LIMIT."""
    return shown(_text(value), TEXT_LIMIT, one_line=False)


def _number(value: object) -> float | None:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None
