"""The typed vocabulary every part of pilotproof shares: verdicts, decisions, reason codes
and the frozen results the estimators return.

Defined once here so the store, the CLI, the pages and the exports all speak the same words.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any, Literal, TypeVar, get_args

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from analytics.governance import Governance

Direction = Literal["lower_is_better", "higher_is_better"]
MetricKind = Literal["value", "guardrail", "activity"]
Group = Literal["treatment", "control"]
Frequency = Literal["D", "W", "M", "Q", "Y"]  # daily, weekly, monthly, quarterly, yearly
# How a metric's headline effect is read: a relative change in percent ("cycle time -21%"), or,
# for a fraction (margin, a rate, utilisation), a change in percentage points ("margin +2.0
# points"): a percentage of a level near zero means nothing. Its thresholds use the same scale.
Scale = Literal["relative", "points"]

_Frozen = TypeVar("_Frozen")
# per dataclass: its field names when a copy with fields set is the same as
# `dataclasses.replace` (every field set by __init__, no __post_init__), else None
_PLAIN_FIELDS: dict[type, frozenset[str] | None] = {}


def replaced(obj: _Frozen, **changes: Any) -> _Frozen:
    """`dataclasses.replace(obj, **changes)` for a frozen dataclass, by copying its fields
    instead of calling __init__ with each of them: the same object, a twentieth of the time
    (the analysis replaces estimates thousands of times). Values cached on `obj` (a
    `cached_property`) are not copied; a class with a __post_init__, slots or a field __init__
    does not set goes through `dataclasses.replace` itself."""
    cls = type(obj)
    if cls not in _PLAIN_FIELDS:
        fields = dataclasses.fields(cls)  # type: ignore[arg-type]
        plain = all(f.init for f in fields) and not any(
            hasattr(cls, name) for name in ("__post_init__", "__slots__")
        )
        _PLAIN_FIELDS[cls] = frozenset(f.name for f in fields) if plain else None
    names = _PLAIN_FIELDS[cls]
    if names is None or not names.issuperset(changes):
        return dataclasses.replace(obj, **changes)  # type: ignore[type-var]  # raises as it does
    new = object.__new__(cls)
    state = new.__dict__
    state.update(obj.__dict__)
    if len(state) != len(names):  # a cached_property's value: read again on the copy
        for name in [n for n in state if n not in names]:
            del state[name]
    state.update(changes)
    return new


Verdict = Literal["real", "mirage", "inconclusive", "worse", "no_change"]
Decision = Literal["scale", "fix", "extend", "stop"]
Method = Literal["its", "did", "synthetic_control", "none"]

# Why a metric is not `real` (mirage checks), and why a pilot got its decision.
Reason = Literal[
    # value-mirage checks, per metric
    "noise",
    "pre_trend",
    "seasonality",
    "regression_to_mean",
    "novelty_decay",
    "control_moved",
    "mix_shift",
    "insufficient_data",
    "outlier",  # a value that looked like a typo was set aside (never decides the verdict)
    # per pilot
    "below_threshold",
    "burden_shift",
    "guardrail_unproven",
    "readiness_gap",
    "activity_without_outcome",
    "no_value_metric",
    "too_early",
    "no_real_value",
]


@dataclass(frozen=True)
class ReadinessQuestion:
    """One item of the readiness test: what a pilot's team must be able to name before it
    scales. `field` is the pilots-file column and the store column that holds the answer,
    `label` how pages and exports name it."""

    field: str
    label: str


# The readiness test, in the order pages and exports show it. A question added here is asked
# everywhere (pilots file, store, pages, exports, sample data); its store column needs a new
# migration in pilotproof.store.schema.
READINESS_QUESTIONS: tuple[ReadinessQuestion, ...] = (
    ReadinessQuestion("workflow", "Workflow"),
    ReadinessQuestion("decision_owner", "Decision owner"),
    ReadinessQuestion("execution_owner", "Execution owner"),
    ReadinessQuestion("exception_path", "Exception path"),
    ReadinessQuestion("escalation_path", "Escalation path"),
    ReadinessQuestion("control_points", "Control points"),
    ReadinessQuestion("value_metric", "Value metric"),
)
READINESS_FIELDS: tuple[str, ...] = tuple(q.field for q in READINESS_QUESTIONS)

VERDICTS: tuple[Verdict, ...] = get_args(Verdict)
DECISIONS: tuple[Decision, ...] = get_args(Decision)
# the words people read for each decision, in one place for the analysis' sentences, the app
# and the exports (`pilotproof.words` re-exports them): the label, and the action a board reads
DECISION_WORDS: dict[Decision, tuple[str, str]] = {
    "scale": ("Scale", "Scale"),
    "fix": ("Fix", "Fix before scaling"),
    "extend": ("Extend", "Extend the pilot"),
    "stop": ("Stop", "Stop"),
}
DECISION_LABELS: dict[Decision, str] = {d: label for d, (label, _) in DECISION_WORDS.items()}
DECISION_ACTIONS: dict[Decision, str] = {d: action for d, (_, action) in DECISION_WORDS.items()}
REASONS: tuple[Reason, ...] = get_args(Reason)
SCALES: tuple[Scale, ...] = get_args(Scale)
POINTS_PER_UNIT = 100.0  # a fraction of 0.02 is 2 percentage points
DIRECTIONS: tuple[Direction, ...] = get_args(Direction)
KINDS: tuple[MetricKind, ...] = get_args(MetricKind)


def direction_sign(direction: Direction) -> float:
    """+1.0 for a metric where higher is better, -1.0 where lower is: a change as the metric
    moved, times this sign, is the improvement (positive is better). The one place a direction
    becomes a sign. Raises ValueError for any other direction."""
    if direction == "higher_is_better":
        return 1.0
    if direction == "lower_is_better":
        return -1.0
    raise ValueError(f"direction {direction!r} is neither of {', '.join(DIRECTIONS)}")


@dataclass(frozen=True)
class CheckResult:
    """One value-mirage check on one (pilot, metric).

    `passed` is True when the check found no sign of this mirage. A check that could not be
    run (no control group for `control_moved`, no segments for `mix_shift`) has
    `applicable=False` and `passed=True`.
    """

    name: Reason
    passed: bool
    applicable: bool
    explanation: str  # one sentence a partner can read
    statistic: float | None = None
    p_value: float | None = None


@dataclass(frozen=True)
class ChartSeries:
    """What a chart of one (pilot, metric) draws, one entry per period: the observed series and,
    where there is one, the counterfactual with its 95% band and the control series."""

    dates: np.ndarray  # datetime64[ns]
    observed: np.ndarray
    counterfactual: np.ndarray | None = None
    cf_low: np.ndarray | None = None
    cf_high: np.ndarray | None = None
    control: np.ndarray | None = None

    COLUMNS = ("observed", "counterfactual", "cf_low", "cf_high", "control")

    @classmethod
    def of(cls, frame: pd.DataFrame) -> ChartSeries:
        """From a frame with a `date` column and any of the chart columns."""
        columns = {name: frame[name].to_numpy(dtype=float) for name in cls.COLUMNS if name in frame}
        return cls(dates=frame["date"].to_numpy(dtype="datetime64[ns]"), **columns)

    def frame(self) -> pd.DataFrame:
        missing = np.full(len(self.observed), np.nan)
        columns = {name: getattr(self, name) for name in self.COLUMNS}
        return pd.DataFrame(
            {
                "date": np.asarray(self.dates, dtype="datetime64[ns]"),
                **{name: missing if v is None else v for name, v in columns.items()},
            }
        )


@dataclass(frozen=True)
class MetricEffect:
    """The counterfactual effect of one pilot on one metric, and its verdict.

    Percentages are signed as the metric moved (a 21% fall in cycle time is -21.0).
    `effect_abs` is in the metric's own unit. A point-scale metric (`scale == "points"`, a
    fraction) also carries the effect in percentage points (`effect_points`: 0.02 is +2.0);
    its thresholds and `mde_points` are in points, and its `effect_pct` is the secondary
    relative change, None when the pre-period level is too near zero for a percentage to mean
    anything. `threshold_pct` and `tolerance_pct` are in the metric's scale (percent, or
    points for a point-scale metric): read them with `headline` and `improvement`. The
    interval is 95% and respects autocorrelation. `chart` holds what a chart needs, one entry
    per period of the pilot's treatment series; `series` is the same as a DataFrame, built on
    first use.
    """

    pilot_id: str
    metric: str
    direction: Direction
    kind: MetricKind
    verdict: Verdict
    reasons: tuple[Reason, ...]
    method: Method
    frequency: Frequency | None
    n_pre: int
    n_post: int
    effect_pct: float | None
    ci_low_pct: float | None
    ci_high_pct: float | None
    effect_abs: float | None
    ci_low_abs: float | None
    ci_high_abs: float | None
    mde_pct: float | None  # minimum detectable effect at 80% power, in percent
    baseline: float | None  # counterfactual mean over the post window, metric unit
    threshold_pct: float | None  # improvement needed to scale (positive number)
    tolerance_pct: float | None  # deterioration a guardrail may show (positive number)
    checks: tuple[CheckResult, ...] = ()
    rate_effect_pct: float | None = None  # mix decomposition: change within segments
    mix_effect_pct: float | None = None  # mix decomposition: change from composition
    note: str = ""  # plain-words summary, e.g. "cycle time 21% lower than it would have been"
    # the counterfactual model the effect is read from (analytics.counterfactual: "level",
    # "level_trend", "..._recent" when fitted after a break; for controlled designs the method),
    # the date the fitted regime starts after a break, and the root-mean-square error of its
    # rolling-origin backtests in % of the counterfactual
    model: str | None = None
    break_date: pd.Timestamp | None = None
    backtest_error_pct: float | None = None
    # control groups: placebo-in-space (each control unit analysed as if treated) gives the rank
    # of this series among them by post/pre RMSPE ratio (1 = most extreme of units + 1) and the
    # permutation p-value; leave-one-control-out names the unit that alone carries the effect
    # and the effect without it, in % of the counterfactual
    placebo_units: int | None = None
    placebo_rank: int | None = None
    permutation_p: float | None = None
    rmspe_ratio: float | None = None
    # a pilot that is the mean of k > 1 treated units is ranked among groups of k control units
    placebo_group_units: int | None = None
    # the effect against the basic structural model's counterfactual (a wandering level;
    # checked on significant changes of weekly and slower series) and its 95% half-width, in
    # % of the counterfactual
    structural_effect_pct: float | None = None
    structural_halfwidth_pct: float | None = None
    single_control: str | None = None
    effect_pct_without_single_control: float | None = None
    # when a single control unit carried the effect the estimate above is the comparison
    # without it; the effect with every control unit, in % of its counterfactual
    effect_pct_with_all_controls: float | None = None
    scale: Scale = "relative"
    effect_points: float | None = None
    ci_low_points: float | None = None
    ci_high_points: float | None = None
    mde_points: float | None = None
    # the mix decomposition's rate part (`rate_effect_pct`): its 95% interval, in percent, from
    # the segment rates' own noise with the mix held as observed (`analytics.mix.rate_part_se`);
    # None where that noise cannot be measured
    rate_ci_low_pct: float | None = None
    rate_ci_high_pct: float | None = None
    chart: ChartSeries | None = field(default=None, compare=False, repr=False)

    @cached_property
    def series(self) -> pd.DataFrame | None:
        """The chart columns `date, observed, counterfactual, cf_low, cf_high, control` (NaN
        where not applicable), indexed 0..n-1; None without a chart. Built when first read:
        most analyses (the JSON contract, the decision board) never draw most series."""
        return None if self.chart is None else self.chart.frame()

    @property
    def sign(self) -> float:
        """+1.0 when higher is better, -1.0 when lower is (`direction_sign`): a change as the
        metric moved, times this, is an improvement."""
        return direction_sign(self.direction)

    @property
    def improvement_pct(self) -> float | None:
        """The effect with the sign flipped so that positive is always better."""
        if self.effect_pct is None:
            return None
        return self.sign * self.effect_pct

    @property
    def points(self) -> bool:
        return self.scale == "points"

    @property
    def headline(self) -> float | None:
        """The effect in the metric's scale: percentage points, or percent."""
        return self.effect_points if self.points else self.effect_pct

    @property
    def headline_interval(self) -> tuple[float | None, float | None]:
        """The 95% interval in the metric's scale (low, high as the metric moved)."""
        if self.points:
            return self.ci_low_points, self.ci_high_points
        return self.ci_low_pct, self.ci_high_pct

    @property
    def headline_mde(self) -> float | None:
        """The minimum detectable effect in the metric's scale."""
        return self.mde_points if self.points else self.mde_pct

    @property
    def improvement(self) -> float | None:
        """`headline` with the sign flipped so that positive is always better: what the
        thresholds (in the same scale) are compared with."""
        value = self.headline
        if value is None:
            return None
        return self.sign * value


@dataclass(frozen=True)
class NetValue:
    """Annualised net value of a pilot: savings on the value metric minus its running cost."""

    metric: str
    annual_gross: float
    annual_cost: float
    annual_net: float
    ci_low: float
    ci_high: float


@dataclass(frozen=True)
class PilotResult:
    """One pilot's decision against its scaling thresholds and the readiness test.

    `metrics` are ordered value, guardrail, activity, then by name; `value_metrics` names the
    pilot's value metrics in that same order: the ones its readiness answer names (never an
    activity metric), else the catalog's value-kind metrics it measures. Pages and exports
    read `value_effects`, `effects_of` and `headline` rather than deciding these again.
    """

    pilot_id: str
    decision: Decision
    reasons: tuple[Reason, ...]
    value_metrics: tuple[str, ...]
    readiness_missing: tuple[str, ...]
    metrics: tuple[MetricEffect, ...]
    net_value: NetValue | None = None
    summary: str = ""  # action title: "Support assistant cut cycle time 21% (...); ready to scale"
    # the success plan, its versions, the decision log and the forecast (analytics.governance);
    # None when the analysis ran without the store's plans
    governance: Governance | None = field(default=None, compare=False)

    @property
    def value_effects(self) -> tuple[MetricEffect, ...]:
        """The effects of the pilot's value metrics, in the order of `metrics`: the one answer
        to "is this a value metric of this pilot?"."""
        return tuple(e for e in self.metrics if e.metric in self.value_metrics)

    def effects_of(self, metric: str | None = None) -> tuple[MetricEffect, ...]:
        """The effects of `metric` (none when the pilot does not measure it), or with no
        metric the value effects: what a comparison across pilots shows of each pilot."""
        if not metric:
            return self.value_effects
        return tuple(e for e in self.metrics if e.metric == metric)

    @property
    def headline(self) -> MetricEffect | None:
        """The metric the pilot is judged on and spoken of first (its action title, its chart,
        its verdict in the portfolio table): its first value metric, whatever that metric's
        verdict or size. The rule is fixed before the results are in: the team names its value
        metric in the readiness answers, so the headline cannot be the metric that happened to
        move most (choosing the largest gain after the fact is the very cherry-picking a value
        mirage feeds on). None when the pilot has no value metric: a guardrail or an activity
        count never stands in as the headline."""
        value = self.value_effects
        return value[0] if value else None
