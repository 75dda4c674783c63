"""The words people read for pilotproof's codes: one place, so the app, the charts and every
export call a verdict, a decision, a reason or a check by the same name."""

from __future__ import annotations

import re

from analytics.narrative import REASON_PHRASES, is_multiple, multiple, points
from analytics.results import Decision, Method, Reason, Verdict

VERDICT_LABELS: dict[Verdict, str] = {
    "real": "Real impact",
    "mirage": "Value mirage",
    "inconclusive": "Inconclusive",
    "worse": "Worse",
    "no_change": "No change",
}
DECISION_LABELS: dict[Decision, str] = {
    "scale": "Scale",
    "fix": "Fix",
    "extend": "Extend",
    "stop": "Stop",
}
# the same words as the action titles (analytics.narrative), so a reason reads alike everywhere
REASON_LABELS: dict[Reason, str] = REASON_PHRASES
CHECK_LABELS: dict[Reason, str] = {
    "noise": "Noise",
    "pre_trend": "Pre-existing trend",
    "seasonality": "Seasonality",
    "regression_to_mean": "Regression to the mean",
    "novelty_decay": "Novelty decay",
    "control_moved": "Control group moved",
    "mix_shift": "Mix shift",
    "insufficient_data": "Enough data",
    "outlier": "Typo-like values",
}
READINESS_LABELS: dict[str, str] = {
    "workflow": "Workflow",
    "decision_owner": "Decision owner",
    "execution_owner": "Execution owner",
    "exception_path": "Exception path",
    "escalation_path": "Escalation path",
    "control_points": "Control points",
    "value_metric": "Value metric",
}
METHOD_LABELS: dict[Method, str] = {
    "its": "interrupted time series",
    "did": "difference-in-differences",
    "synthetic_control": "synthetic control",
    "none": "no estimate",
}

# ---- activity metrics, guardrails and large changes ---------------------------------------
# Activity metrics (AI usage, adoption) are tracked, never value: whatever their verdict, they
# are named as activity, in a neutral colour (pilotproof.charts.ACTIVITY_COLOR), never as impact.
ACTIVITY_LABEL = "Activity, not value"
# A guardrail is a metric that must not get worse; the mirage checks ask whether an improvement
# is real, so for a guardrail there is one line: it held, or it worsened beyond its tolerance.
GUARDRAIL_HELD = "held"
GUARDRAIL_WORSENED = "worsened beyond tolerance"
# Metric names as people say them, where replacing "_" with a space is not enough.
METRIC_NAMES: dict[str, str] = {"ai_usage": "AI usage"}


def metric_name(metric: str) -> str:
    """`cycle_time` -> 'cycle time'; `ai_usage` -> 'AI usage'."""
    return METRIC_NAMES.get(metric, str(metric).replace("_", " "))


def verdict_label(verdict: str, kind: str = "value") -> str:
    """The verdict as people read it; an activity metric's is always `ACTIVITY_LABEL`."""
    if kind == "activity":
        return ACTIVITY_LABEL
    return VERDICT_LABELS.get(verdict, verdict)  # type: ignore[call-overload]


def guardrail_status(verdict: str) -> str:
    """A guardrail held unless its deterioration is significant and beyond its tolerance."""
    return GUARDRAIL_WORSENED if verdict == "worse" else GUARDRAIL_HELD


def change_text(pct: float | None, digits: int = 1) -> str:
    """A signed relative change: '-21.3%', or '42x' beyond ±300%; 'n/a' when there is none."""
    if pct is None or not isinstance(pct, int | float) or pct != pct or abs(pct) == float("inf"):
        return "n/a"
    return multiple(pct) if is_multiple(pct) else f"{pct:+.{digits}f}%"


def scaled_change(value: float | None, is_points: bool, digits: int = 1) -> str:
    """A signed change in a metric's scale: '+2.0 points' for a point-scale metric (a
    fraction), else as `change_text` ('-21.3%', '42x'); 'n/a' when there is none."""
    if not is_points:
        return change_text(value, digits)
    if value is None or not isinstance(value, int | float) or value != value:
        return "n/a"
    return "n/a" if abs(value) == float("inf") else points(value)


def scaled_interval(low: float | None, high: float | None, is_points: bool) -> str:
    """A 95% interval in a metric's scale, low to high: '+1.6 to +2.4 points', '-25.0% to
    -17.0%'; 'n/a' without one."""
    ends = [scaled_change(v, is_points) for v in sorted((low, high))] if None not in (
        low, high) else ["n/a"]  # fmt: skip
    if "n/a" in ends:
        return "n/a"
    if is_points:
        return f"{ends[0].removesuffix(' points').removesuffix(' point')} to {ends[1]}"
    return f"{ends[0]} to {ends[1]}"


def bar_words(kind: str, threshold: float | None, tolerance: float | None, is_points: bool) -> str:
    """The bar a metric is held to, in its scale: 'improve >= 10%', 'may worsen <= 0.5
    points'; '' when it has none."""
    if kind == "guardrail" and tolerance is not None:
        return f"may worsen <= {_amount(tolerance, is_points)}"
    if kind == "value" and threshold is not None:
        return f"improve >= {_amount(threshold, is_points)}"
    return ""


def _amount(value: float, is_points: bool) -> str:
    """10 -> '10%'; in points, 1 -> '1 point', 0.5 -> '0.5 points'."""
    if not is_points:
        return f"{value:g}%"
    return f"{value:g} point{'' if value == 1 else 's'}"


def threshold_words(threshold: float, is_points: bool) -> str:
    """A chart legend's threshold: 'Scaling threshold (10% better)', '(1 point better)'."""
    return f"Scaling threshold ({_amount(threshold, is_points)} better)"


# ---- plain words for what the analysis writes -------------------------------------------
DIRECTION_LABELS: dict[str, str] = {
    "lower_is_better": "lower is better",
    "higher_is_better": "higher is better",
}
# How the counterfactual was built, as a column of a table ("Compared with").
METHOD_PLAIN: dict[str, str] = {
    "its": "its own history",
    "did": "a control group",
    "synthetic_control": "a blend of control groups",
    "none": "-",
}
FREQUENCY_WORDS: dict[str, str] = {
    "D": "daily",
    "W": "weekly",
    "M": "monthly",
    "Q": "quarterly",
    "Y": "yearly",
}
# Phrases in the analysis' explanations that a partner does not say, and what to say instead.
# (The analysis should say it this way itself; until it does, every view shows it through here.)
_PLAIN: tuple[tuple[str, str], ...] = (
    ("The 95% interval (autocorrelation-robust) includes no change.",
     "The 95% interval includes no change: the move is within normal variation."),
    (" (autocorrelation-robust)", ""),
    ("a placebo go-live shows none", "a fake go-live before the real one shows none"),
)  # fmt: skip
_FREQUENCY_CODE = re.compile(r"\((D|W|M|Q|Y)\)")


def plain_words(text: str) -> str:
    """An explanation from the analysis in a partner's words: no "(D)", no
    "autocorrelation-robust", no "placebo go-live"."""
    for jargon, plain in _PLAIN:
        text = text.replace(jargon, plain)
    return _FREQUENCY_CODE.sub(lambda m: f"({FREQUENCY_WORDS[m.group(1)]})", text)
