"""Verdict per metric, decision per pilot, and the annualised net value.

Verdict (per pilot and metric):
- `inconclusive` with `insufficient_data` when the minimum data rules fail;
- `real` when the interval lies wholly on the good side of zero and every check passes;
- `mirage` when an improvement is apparent (naive Welch test or the model) but does not survive:
  a check names its cause, or only noise explains it and the interval rules out a gain as large
  as the scaling threshold (else `inconclusive`: the data cannot tell yet);
- `worse` when the interval lies wholly on the bad side of zero;
- `inconclusive` when the interval includes zero and the minimum detectable effect is larger than
  the scaling threshold (too noisy to rule out a worthwhile effect);
- `no_change` otherwise (enough data, a precise interval around zero, no naive improvement).

Decision (per pilot): `scale` when a value metric is `real` and at least its threshold, every
guardrail is shown within its tolerance (non-inferiority, `guardrail_unproven`), every readiness
answer is given and the pilot is not all activity; `fix` when value is real but a guardrail
that worsened beyond its tolerance, the readiness test or the threshold stands in the way;
`extend` when a value metric is still inconclusive, or when value is real and nothing needs
fixing but a guardrail's data cannot yet rule out a deterioration beyond its tolerance; `stop`
when enough data show no real value.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from analytics.mirage import Significance
from analytics.results import (
    CheckResult,
    Decision,
    MetricEffect,
    NetValue,
    Reason,
    Verdict,
)

DEFAULT_THRESHOLD_PCT = 10.0
DEFAULT_TOLERANCE_PCT = 5.0
# the same defaults for a point-scale metric (a fraction), in percentage points
DEFAULT_THRESHOLD_POINTS = 1.0
DEFAULT_TOLERANCE_POINTS = 0.5
NET_VALUE_METRIC = "cost_per_transaction"


def metric_verdict(
    sig: Significance | None,
    checks: Sequence[CheckResult],
    mde_pct: float | None,
    threshold_pct: float | None,
    worsening_pct: float | None = None,
    tolerance_pct: float | None = None,
    best_pct: float | None = None,
) -> tuple[Verdict, tuple[Reason, ...]]:
    """The verdict for one metric from its interval, the naive test and the checks.

    `mde_pct`, `threshold_pct`, `worsening_pct`, `tolerance_pct` and `best_pct` are all in the
    metric's scale: percent, or percentage points for a point-scale metric (the caller passes
    the defaults for points when the metric has none).

    A significant deterioration within the metric's tolerance (`worsening_pct`, positive when
    worse) that a naive test would call an improvement, with a check naming why, is reported
    as the mirage it is rather than as `worse`. An apparent improvement that only noise
    explains is a mirage when the interval rules out a gain as large as the threshold; when
    its most favourable end (`best_pct`, the improvement in percent) still reaches the
    threshold, the data cannot tell, and the verdict is `inconclusive`."""
    failing = tuple(c.name for c in checks if not c.passed)
    if sig is None or "insufficient_data" in failing:
        return "inconclusive", ("insufficient_data",)
    if sig.improved:
        return ("real", ()) if not failing else ("mirage", failing)
    specific = tuple(name for name in failing if name != "noise")
    if sig.worsened:
        tolerance = tolerance_pct if tolerance_pct is not None else DEFAULT_TOLERANCE_PCT
        slight = worsening_pct is not None and worsening_pct <= tolerance
        if sig.naive_improved and specific and slight:
            return "mirage", specific
        return "worse", failing
    if specific:
        return "mirage", failing
    limit = threshold_pct if threshold_pct is not None else DEFAULT_THRESHOLD_PCT
    if sig.naive_improved:
        undecided = best_pct is not None and best_pct >= limit
        return ("inconclusive" if undecided else "mirage"), failing
    if mde_pct is None or mde_pct > limit:
        return "inconclusive", failing
    return "no_change", failing


def default_threshold(points: bool) -> float:
    """The scaling threshold a metric without one must clear, in its scale."""
    return DEFAULT_THRESHOLD_POINTS if points else DEFAULT_THRESHOLD_PCT


def default_tolerance(points: bool) -> float:
    """The deterioration a guardrail without a tolerance may show, in its scale."""
    return DEFAULT_TOLERANCE_POINTS if points else DEFAULT_TOLERANCE_PCT


def guardrail_breached(effect: MetricEffect) -> bool:
    """A guardrail is breached when it got significantly worse by more than its tolerance
    (both in the metric's scale: percent, or percentage points)."""
    if effect.verdict != "worse" or effect.improvement is None:
        return False
    return -effect.improvement > tolerance_of(effect)


def tolerance_of(effect: MetricEffect) -> float:
    """The deterioration a guardrail may show, in its scale: its own, else the default."""
    tolerance = effect.tolerance_pct
    return tolerance if tolerance is not None else default_tolerance(effect.points)


def worse_end(effect: MetricEffect) -> float | None:
    """The end of a metric's 95% interval on its worse side, in its scale (percent or points,
    as the metric moved); None without a finite interval."""
    low, high = effect.headline_interval
    if low is None or high is None or not (math.isfinite(low) and math.isfinite(high)):
        return None
    return low if -effect.sign * low > -effect.sign * high else high


def guardrail_unproven(effect: MetricEffect) -> bool:
    """A guardrail not yet shown within its tolerance: the worse end of its 95% interval lies
    beyond the deterioration it may show (in its scale, percent or percentage points), or it
    has no interval at all. A breach (`guardrail_breached`) is not also unproven.

    The non-inferiority test of a clinical trial: a new treatment is accepted as no worse by a
    margin when the two-sided 95% interval of its difference excludes that margin, a one-sided
    test at 2.5% (ICH E9, section 3.3.2; EMA CPMP/EWP/482/99). Scaling asks that of every
    guardrail at once, an intersection-union test, which needs no multiplicity correction: each
    guardrail at the full level keeps the joint claim's error at that level (Berger 1982,
    Technometrics 24(4))."""
    if guardrail_breached(effect):
        return False
    worst = worse_end(effect)
    return worst is None or -effect.sign * worst > tolerance_of(effect)  # positive: worse


def meets_threshold(effect: MetricEffect) -> bool:
    """The improvement reaches the scaling threshold (in the metric's scale)."""
    threshold = effect.threshold_pct
    if threshold is None:
        threshold = default_threshold(effect.points)
    return effect.improvement is not None and effect.improvement >= threshold


def pilot_decision(
    value_effects: Sequence[MetricEffect],
    guardrails: Sequence[MetricEffect],
    activities: Sequence[MetricEffect],
    readiness_missing: Sequence[str],
) -> tuple[Decision, tuple[Reason, ...]]:
    """Scale, fix, extend or stop, with the reasons in order of weight. A real value whose
    only obstacle is a guardrail not yet shown within its tolerance (`guardrail_unproven`) is
    extended, not scaled: the guardrail needs more data, and nothing needs fixing."""
    reasons: list[Reason] = []
    burden = any(guardrail_breached(g) for g in guardrails)
    unproven = any(guardrail_unproven(g) for g in guardrails)
    activity_moved = any(a.verdict in ("real", "mirage", "worse") for a in activities)
    real = [e for e in value_effects if e.verdict == "real"]
    if not value_effects:
        reasons.append("no_value_metric")
        if activity_moved:
            reasons.append("activity_without_outcome")
        if burden:
            reasons.append("burden_shift")
        if readiness_missing:
            reasons.append("readiness_gap")
        return "fix", tuple(reasons)
    if real:
        if not any(meets_threshold(e) for e in real):
            reasons.append("below_threshold")
        if burden:
            reasons.append("burden_shift")
        if readiness_missing:
            reasons.append("readiness_gap")
        if unproven:
            return (
                ("fix", (*reasons, "guardrail_unproven"))
                if reasons
                else ("extend", ("guardrail_unproven",))
            )
        return ("fix" if reasons else "scale"), tuple(reasons)
    if activity_moved:
        reasons.append("activity_without_outcome")
    if burden:
        reasons.append("burden_shift")
    if readiness_missing:
        reasons.append("readiness_gap")
    if any(e.verdict == "inconclusive" for e in value_effects):
        return "extend", ("too_early", *reasons)
    return "stop", ("no_real_value", *reasons)


def net_value(
    effects: Sequence[MetricEffect], monthly_cost: float | None, annual_volume: float | None
) -> NetValue | None:
    """Annualised net value from the cost-per-transaction effect: savings per transaction times
    the annual volume, minus twelve months of running cost; the interval carries the effect's
    95% interval through the same formula. Other metrics have no money unit, so no net value.

    When the change is mostly a shift in the mix of work (the `mix_shift` check failed), only the
    share of it that came from the rates within segments (Kitagawa) is credited to the pilot:
    cheaper transactions becoming more common is not a saving the pilot made. Its interval is
    then the rate part's own (`_credited_bounds`), never the whole change's interval narrowed by
    the credited share, which claimed a precision the rate part does not have."""
    if monthly_cost is None or annual_volume is None:
        return None
    for e in effects:
        if e.metric != NET_VALUE_METRIC or e.effect_abs is None:
            continue
        if e.ci_low_abs is None or e.ci_high_abs is None:
            continue
        cost = 12.0 * float(monthly_cost)
        volume = float(annual_volume)
        gross = -e.effect_abs * volume * _rate_share(e)
        low, high = _credited_bounds(e, volume, gross)
        return NetValue(
            metric=e.metric,
            annual_gross=gross,
            annual_cost=cost,
            annual_net=gross - cost,
            ci_low=low - cost,
            ci_high=high - cost,
        )
    return None


def _credited_bounds(effect: MetricEffect, volume: float, gross: float) -> tuple[float, float]:
    """The 95% interval of the gross value credited to the pilot, in money a year.

    The whole change: its interval through the gross value's formula. A mix shift, credited with
    its rate part: the rate part's own interval (`rate_ci_low_pct`, `rate_ci_high_pct`: the
    segment rates' noise, `analytics.mix.rate_part_se`) converted as the point is (the money a
    1% change is worth, -effect_abs x volume / (rate + mix)), widened to hold the credited point
    where its share was clamped to [0, 1]; without a rate interval, anything between nothing and
    the whole change's interval (the data cannot narrow it)."""
    assert effect.effect_abs is not None
    assert effect.ci_low_abs is not None and effect.ci_high_abs is not None
    whole = sorted((-effect.ci_low_abs * volume, -effect.ci_high_abs * volume))
    if "mix_shift" not in effect.reasons:
        return whole[0], whole[1]
    rate, mix = effect.rate_effect_pct, effect.mix_effect_pct
    low, high = effect.rate_ci_low_pct, effect.rate_ci_high_pct
    if rate is None or mix is None or rate + mix == 0.0 or low is None or high is None:
        return min(0.0, whole[0], gross), max(0.0, whole[1], gross)
    per_pct = -effect.effect_abs * volume / (rate + mix)
    ends = sorted((low * per_pct, high * per_pct))
    return min(ends[0], gross), max(ends[1], gross)


def _rate_share(effect: MetricEffect) -> float:
    """The share of the change the pilot made itself: 1, or the rate part of a mix shift."""
    if "mix_shift" not in effect.reasons:
        return 1.0
    rate, mix = effect.rate_effect_pct, effect.mix_effect_pct
    if rate is None or mix is None or rate + mix == 0.0:
        return 0.0
    return min(max(rate / (rate + mix), 0.0), 1.0)
