"""The plain words under each result: a note per metric and an action title per pilot."""

from __future__ import annotations

from collections.abc import Sequence

from analytics.results import DECISION_ACTIONS, DECISION_LABELS, MetricEffect, Reason

# The one wording of every reason code: action titles here, and (as pilotproof.words'
# REASON_LABELS) the app's and the exports' reason columns. Noun phrases, so they read both in
# a list ("stop: a trend that predates go-live, a seasonal swing") and on their own.
REASON_PHRASES: dict[Reason, str] = {
    "noise": "within normal variation",
    "pre_trend": "a trend that predates go-live",
    "seasonality": "a seasonal swing",
    "regression_to_mean": "a rebound from an unusually bad spell",
    "novelty_decay": "an effect that fades",
    "control_moved": "the control group moved as much",
    "mix_shift": "a shift in the mix, not the rates",
    "insufficient_data": "not enough data",
    "outlier": "a value set aside as a likely typo",
    "below_threshold": "below the scaling threshold",
    "burden_shift": "a guardrail worsened",
    "guardrail_unproven": "a guardrail not yet shown within its tolerance",
    "readiness_gap": "readiness gaps",
    "activity_without_outcome": "activity without outcome",
    "no_value_metric": "no value metric",
    "too_early": "too early to tell",
    "no_real_value": "no real value proven",
}


# Past this, a relative change reads as a multiple: +4,100% is "42x" (the metric at 42 times
# what it would have been). The app and the exports read the same rule (pilotproof.words).
MULTIPLE_BEYOND_PCT = 300.0


def is_multiple(pct: float) -> bool:
    return abs(pct) > MULTIPLE_BEYOND_PCT


def multiple(pct: float) -> str:
    """+4,100% -> '42x', +4,067.6% -> '41.7x' (1 + pct/100 times what it would have been),
    to three significant digits so an interval's two ends stay apart."""
    ratio = 1.0 + pct / 100.0
    return f"{ratio:,.0f}x" if abs(ratio) >= 1000 else f"{ratio:.3g}x"


def label(metric: str) -> str:
    return metric.replace("_", " ")


def _pct(value: float) -> str:
    """An unsigned size: '21%', or '42x' past MULTIPLE_BEYOND_PCT."""
    return multiple(value) if is_multiple(value) else f"{abs(value):.0f}%"


def _signed(value: float) -> str:
    return multiple(value) if is_multiple(value) else f"{value:+.0f}%"


def points(value: float) -> str:
    """A signed change in percentage points: '+2.0 points', '-0.5 points', '+1.0 point'."""
    return f"{value:+.1f} point{'' if f'{abs(value):.1f}' == '1.0' else 's'}"


def points_interval(low: float, high: float) -> str:
    """'1.6-2.4 points' when both ends have one sign, else '-0.4 to +1.2 points'."""
    low, high = sorted((low, high))
    if low * high > 0:
        a, b = sorted((abs(low), abs(high)))
        return f"{a:.1f}-{b:.1f} points"
    return f"{low:+.1f} to {high:+.1f} points"


def metric_note(effect: MetricEffect) -> str:
    """E.g. "cycle time 21% lower than it would have been, 95% interval 17-25%"; a point-scale
    metric in points, the relative change after it where one means anything: "margin +2.0
    points against what it would have been, 95% interval 1.6-2.4 points (+12% relative)"."""
    low, high = effect.headline_interval
    if effect.points and effect.effect_points is not None and low is not None:
        assert high is not None
        relative = (
            f" ({_signed(effect.effect_pct)} relative)" if effect.effect_pct is not None else ""
        )
        return (
            f"{label(effect.metric)} {points(effect.effect_points)} against what it would have "
            f"been, 95% interval {points_interval(low, high)}{relative}"
        )
    return note_text(effect.metric, effect.effect_pct, effect.ci_low_pct, effect.ci_high_pct)


def note_text(metric: str, effect_pct: float | None, low: float | None, high: float | None) -> str:
    """`metric_note` from the numbers alone."""
    name = label(metric)
    if effect_pct is None or low is None or high is None:
        return f"{name}: not enough data to estimate an effect"
    word = "lower" if effect_pct < 0 else "higher"
    if is_multiple(effect_pct) or is_multiple(low) or is_multiple(high):
        return (
            f"{name} at {multiple(effect_pct)} what it would have been, 95% interval "
            f"{_pct(low) if is_multiple(low) else _signed(low)} to "
            f"{_pct(high) if is_multiple(high) else _signed(high)}"
        )
    if low * high > 0:
        a, b = sorted((abs(low), abs(high)))
        interval = f"{a:.0f}-{b:.0f}%"
    else:
        interval = f"{abs(low):.0f}% lower to {abs(high):.0f}% higher"
    return f"{name} {_pct(effect_pct)} {word} than it would have been, 95% interval {interval}"


def _interval(effect: MetricEffect) -> str:
    if effect.points:
        low, high = effect.headline_interval
        assert low is not None and high is not None
        return f"95% interval {points_interval(low, high)}"
    assert effect.ci_low_pct is not None and effect.ci_high_pct is not None
    if is_multiple(effect.ci_low_pct) or is_multiple(effect.ci_high_pct):
        return f"95% interval {_signed(effect.ci_low_pct)} to {_signed(effect.ci_high_pct)}"
    a, b = sorted((abs(effect.ci_low_pct), abs(effect.ci_high_pct)))
    if effect.ci_low_pct * effect.ci_high_pct <= 0:
        return f"95% interval {effect.ci_low_pct:+.0f}% to {effect.ci_high_pct:+.0f}%"
    return f"95% interval {a:.0f}-{b:.0f}%"


def _tail(decision: str, reasons: Sequence[Reason], missing: Sequence[str]) -> str:
    words = [REASON_PHRASES[r] for r in reasons if r in REASON_PHRASES]
    if decision == "scale":
        return f"ready to {DECISION_LABELS['scale'].lower()}"
    if decision == "fix":
        detail = ", ".join(words)
        if missing:
            detail = detail.replace(
                "readiness gaps", "missing " + ", ".join(label(m) for m in missing)
            )
        return f"{DECISION_ACTIONS['fix'].lower()}: {detail}"
    if decision == "extend" and "guardrail_unproven" in reasons:
        return f"{DECISION_ACTIONS['extend'].lower()}: {REASON_PHRASES['guardrail_unproven']}"
    if decision == "extend":
        return f"too early to tell, {DECISION_ACTIONS['extend'].lower()}"
    return f"{DECISION_LABELS['stop'].lower()}: " + (", ".join(words) or "no real value proven")


def pilot_summary(
    name: str,
    decision: str,
    reasons: Sequence[Reason],
    lead: MetricEffect | None,
    missing: Sequence[str],
) -> str:
    """An action title such as "Support assistant cut cycle time 21% (95% interval 17-25%);
    ready to scale"."""
    tail = _tail(decision, reasons, missing)
    change = lead.headline if lead is not None else None
    if lead is None or change is None or lead.headline_interval[0] is None:
        return f"{name}: {tail}"
    metric = label(lead.metric)
    size = points(change)[1:] if lead.points else _pct(change)  # unsigned: "2.0 points"
    if lead.verdict == "real":
        verb = "cut" if change < 0 else "raised"
        return f"{name} {verb} {metric} {size} ({_interval(lead)}); {tail}"
    if lead.verdict == "mirage":
        # the apparent move is the one a naive before/after reading takes for an improvement
        move = "rise" if lead.sign > 0 else "fall"
        why = ", ".join(REASON_PHRASES[r] for r in lead.reasons if r in REASON_PHRASES)
        return f"{name}: the apparent {move} in {metric} is a value mirage ({why}); {tail}"
    if lead.verdict == "worse":
        verb = "raised" if change > 0 else "cut"
        return f"{name} {verb} {metric} {size}, the wrong way; {tail}"
    if lead.verdict == "no_change":
        return f"{name} left {metric} unchanged ({_interval(lead)}); {tail}"
    return f"{name}: {metric} effect unclear ({_interval(lead)}); {tail}"
