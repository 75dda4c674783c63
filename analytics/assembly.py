"""Result assembly: one series' estimate (or the reason there is none) turned into its
`MetricEffect` (percentages, points, mirage checks, verdict, chart), and a pilot's effects into
its `PilotResult` (value metrics, decision, net value, action title)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypedDict

import numpy as np
import pandas as pd

from analytics.counts import RatioEffect
from analytics.decision import (
    default_threshold,
    default_tolerance,
    metric_verdict,
    net_value,
    pilot_decision,
)
from analytics.did import minimum_points
from analytics.estimate import Estimate, estimate_its, power_of_two_scale, rescaled
from analytics.inputs import answered, number
from analytics.its import MIN_POST, MIN_PRE, RHO_MAX, ar1_mean_variance, kendall_rho
from analytics.levels import MDE_FACTOR, critical_t
from analytics.mirage import (
    enough_data,
    finite,
    insufficient,
    model_sentence,
    run_checks,
)
from analytics.mix import Kitagawa, decompose
from analytics.narrative import metric_note, note_text, pilot_summary
from analytics.outliers import outlier_sentence
from analytics.results import (
    POINTS_PER_UNIT,
    READINESS_FIELDS,
    ChartSeries,
    CheckResult,
    Decision,
    Direction,
    Frequency,
    MetricEffect,
    MetricKind,
    PilotResult,
    Reason,
    Scale,
    replaced,
)
from analytics.screening import ZERO_SHARE, SeriesJob, n_controls
from analytics.specs import AnalysisSpec

# a relative change is read against the counterfactual mean over the post window while that keeps
# this share of the pre-period's level (on its side of zero), else against the pre-period level
COUNTERFACTUAL_SHARE = 0.2
# a pre-period whose values take both signs and whose level lies within this many standard
# deviations of zero (a margin at 0.000 +- 0.003) has no level a percentage could be read against
NEAR_ZERO_SDS = 1.0


def relative_meaningful(pre: np.ndarray) -> bool:
    """Does a percentage of this pre-period's level mean anything? Not when the level is zero
    (below ZERO_SHARE of the largest value), nor when the values take both signs and the level
    lies within NEAR_ZERO_SDS standard deviations of zero: a margin at 0.000 +- 0.003 has no
    level, and "+1227%" of it is noise in the denominator. A one-signed series (a count, a
    duration) has a level however small."""
    return _meaningful_level(pre) is not None


def _meaningful_level(pre: np.ndarray) -> float | None:
    """The mean of the finite values of `pre` where `relative_meaningful`, else None."""
    pre = np.asarray(pre, dtype=float)
    finite = np.isfinite(pre)
    if not finite.all():
        pre = pre[finite]
    if len(pre) == 0:
        return None
    level = float(pre.mean())
    if abs(level) <= ZERO_SHARE * float(np.abs(pre).max()):
        return None
    if pre.min() >= 0 or pre.max() <= 0:
        return level
    spread = float(pre.std(ddof=1)) if len(pre) > 1 else 0.0
    return level if abs(level) > NEAR_ZERO_SDS * spread else None


def relative_base(baseline: float, pre: np.ndarray) -> float | None:
    """The level (positive, metric unit) a relative change is read against: the counterfactual
    mean over the post window while it keeps COUNTERFACTUAL_SHARE of the pre-period's level on
    its side of zero, else the pre-period level itself (a trend projected to near zero must not
    turn noise into hundreds of percent); None when no percentage means anything
    (`relative_meaningful`)."""
    finite = _meaningful_level(pre)
    if finite is None:
        return None
    # the mean without NaN: the finite mean unless an infinity is read
    level = finite if np.isfinite(pre).all() else float(np.nanmean(pre))
    if baseline * level > 0 and abs(baseline) >= COUNTERFACTUAL_SHARE * abs(level):
        return abs(baseline)
    return abs(level)


def _mix_parts(job: SeriesJob) -> tuple[Kitagawa | None, Estimate | None]:
    if job.mix is None or job.go_live is None or job.freq is None:
        return None, None
    split = decompose(job.mix, job.go_live)
    std = job.mix.standardised.dropna()
    dates = pd.DatetimeIndex(std.index)
    post = np.asarray(dates >= job.go_live)
    if (~post).sum() < MIN_PRE[job.freq] or post.sum() < MIN_POST[job.freq] or np.ptp(std) == 0:
        return split, None
    values = std.to_numpy(dtype=float)
    scale = power_of_two_scale(values[~post])
    est = estimate_its(
        dates, job.go_live, job.freq, (values / scale)[:, None], np.array([job.spec.sign])
    )
    return split, rescaled(est[0], scale)


def _level_mde_pct(pre: np.ndarray, n_post: int) -> float | None:
    """The minimum detectable effect (80% power, 5% two-sided) of a pre/post comparison of
    means, in % of the pre-period mean: MDE_FACTOR x sqrt(Var(pre mean) + Var(post mean)), each
    the variance of a mean of AR(1) noise with the pre-period's variance and lag-one
    autocorrelation (Kendall bias-corrected, clipped to [0, 0.97]). No counterfactual model can
    detect less, so it is the floor on what more data of this kind would show."""
    level = float(np.mean(pre))
    centred = pre - level
    denom = float(centred @ centred)
    if len(pre) < 2 or n_post < 1 or denom == 0 or abs(level) < ZERO_SHARE * np.abs(pre).max():
        return None
    rho = float(centred[1:] @ centred[:-1]) / denom
    rho = float(np.clip(kendall_rho(rho, len(pre)), 0.0, RHO_MAX))
    sigma2 = denom / (len(pre) - 1)
    var = ar1_mean_variance(np.array([sigma2]), np.array([rho]), np.array([len(pre), n_post]))
    return MDE_FACTOR * float(np.sqrt(var.sum())) / abs(level) * 100.0


def _mde_without_model(job: SeriesJob) -> tuple[float | None, str]:
    """A minimum detectable effect for a series too short (or otherwise unfit) for the full
    model, from whatever points exist, and a sentence saying what it is or why there is none."""
    if job.go_live is None or job.freq is None:
        return None, "No minimum detectable effect: there is no pre/post split to size it on."
    post = np.asarray(job.dates >= job.go_live)
    pre = job.y[~post]
    n_post = int(post.sum())
    if len(pre) < 2:
        return None, (
            "No minimum detectable effect: at least two pre-period points are needed to "
            "measure the noise."
        )
    with np.errstate(all="ignore"):
        mde = _level_mde_pct(pre, n_post)
        later = _level_mde_pct(pre, max(n_post, MIN_POST[job.freq]))
    if mde is not None and np.isfinite(mde):
        return mde, (
            f"With these {len(pre)} pre-period and {n_post} post-period points, a pre/post "
            f"comparison could detect a change of about {mde:.1f}% at best (80% power, 5% level)."
        )
    if n_post == 0 and later is not None and np.isfinite(later):
        return None, (
            "No minimum detectable effect yet: there are no post-period points; with "
            f"{MIN_POST[job.freq]} of them, a change of about {later:.1f}% could be detected at "
            "best."
        )
    return None, (
        "No minimum detectable effect: the pre-period has no variation or averages zero, so "
        "there is no noise level to size a relative change against."
    )


def metric_effect(
    job: SeriesJob, est: Estimate | None, problem: str | None, ratio: RatioEffect | None = None
) -> MetricEffect:
    """One metric's effect, checks and verdict from its estimate (None: `problem` says why
    there is none). A count's `ratio` gives its percentages on the log scale: never below
    -100%."""
    spec = job.spec
    base = _Identity(
        pilot_id=job.pilot_id,
        metric=job.metric,
        direction=spec.direction,
        kind=spec.kind,
        frequency=job.freq,
        threshold_pct=spec.threshold_pct,
        tolerance_pct=spec.tolerance_pct,
        scale=spec.scale,
    )
    if est is None:
        reason = problem or "No estimate."
        mde_pct, sizing = _mde_without_model(job)
        reason = f"{reason} {sizing}"
        post = (
            np.asarray(job.dates >= job.go_live)
            if job.go_live is not None
            else np.zeros(len(job.dates), bool)
        )
        effect = MetricEffect(
            **base,
            verdict="inconclusive",
            reasons=("insufficient_data",),
            method="none",
            n_pre=int((~post).sum()),
            n_post=int(post.sum()),
            effect_pct=None,
            ci_low_pct=None,
            ci_high_pct=None,
            effect_abs=None,
            ci_low_abs=None,
            ci_high_abs=None,
            mde_pct=finite(mde_pct),
            baseline=None,
            checks=(insufficient(reason),),
            chart=_chart(job, est),
            note=note_text(job.metric, None, None, None),
        )
        return _with_outliers(effect, job)
    split, standardised = _mix_parts(job)
    sig, checks = run_checks(est, spec.sign, split, standardised, job.control_note)
    checks = (
        *checks,
        enough_data(
            f"{est.n_pre} pre-period and {est.n_post} post-period points ({est.frequency})."
            + _minimum_sentence(job)
            + model_sentence(est, spec.points)
        ),
    )
    level = relative_base(est.baseline, est.observed[: est.n_pre])
    scale = None if level is None else 100.0 / level  # metric unit -> percent
    # the verdict's sizes in the metric's scale: percentage points, or percent
    headline = POINTS_PER_UNIT if spec.points else scale

    def sized(value: float) -> float | None:
        return None if headline is None else value * headline

    effect_abs, low_abs, high_abs = est.effect_abs, sig.low, sig.high
    if ratio is not None:  # a count: the ratio's interval, asymmetric on the log scale
        z = critical_t(est.df)
        effect_abs, low_abs, high_abs = (ratio.in_units(k) for k in (0.0, -z, z))
    best = max(spec.sign * low_abs, spec.sign * high_abs)
    verdict, reasons = metric_verdict(
        sig,
        checks,
        sized(MDE_FACTOR * est.se_abs),
        spec.threshold_pct if spec.threshold_pct is not None else default_threshold(spec.points),
        sized(-spec.sign * effect_abs),
        spec.tolerance_pct if spec.tolerance_pct is not None else default_tolerance(spec.points),
        best_pct=sized(best),
    )
    effect_pct = None if scale is None else effect_abs * scale
    mde_pct = None if scale is None else MDE_FACTOR * est.se_abs * scale
    rate_pct = mix_pct = rate_low = rate_high = None
    if split is not None and job.mix is not None:
        pre_level = float(job.y[~est.post].mean()) if (~est.post).any() else 0.0
        if abs(pre_level) > ZERO_SHARE * job.scale:
            rate_pct = 100.0 * split.rate / abs(pre_level)
            mix_pct = 100.0 * split.composition / abs(pre_level)
            if split.rate_se is not None and split.rate_df is not None and split.rate_df > 0:
                half = critical_t(split.rate_df) * split.rate_se
                rate_low = 100.0 * (split.rate - half) / abs(pre_level)
                rate_high = 100.0 * (split.rate + half) / abs(pre_level)
    low_pct = None if scale is None else finite(low_abs * scale)
    high_pct = None if scale is None else finite(high_abs * scale)
    points = _points(spec, effect_abs, low_abs, high_abs, MDE_FACTOR * est.se_abs)
    effect = MetricEffect(
        **base,
        verdict=verdict,
        reasons=reasons,
        method=est.method,
        n_pre=est.n_pre,
        n_post=est.n_post,
        effect_pct=None if effect_pct is None else finite(effect_pct),
        ci_low_pct=low_pct,
        ci_high_pct=high_pct,
        effect_abs=finite(effect_abs),
        ci_low_abs=finite(low_abs),
        ci_high_abs=finite(high_abs),
        mde_pct=None if mde_pct is None else finite(mde_pct),
        baseline=finite(est.baseline),
        checks=checks,
        rate_effect_pct=finite(rate_pct),
        mix_effect_pct=finite(mix_pct),
        rate_ci_low_pct=finite(rate_low),
        rate_ci_high_pct=finite(rate_high),
        chart=_chart(job, est),
        model=est.model or est.method,
        break_date=est.regime_start,
        backtest_error_pct=None
        if est.backtest_rmse is None or scale is None
        else finite(est.backtest_rmse * scale),
        placebo_units=est.placebo_units,
        placebo_rank=est.placebo_rank,
        permutation_p=est.permutation_p,
        rmspe_ratio=None if est.rmspe_ratio is None else finite(est.rmspe_ratio),
        placebo_group_units=None if est.placebo_units is None else est.placebo_group,
        structural_effect_pct=None
        if est.structural_effect is None or scale is None
        else finite(est.structural_effect * scale),
        structural_halfwidth_pct=None
        if est.structural_halfwidth is None or scale is None
        else finite(est.structural_halfwidth * scale),
        single_control=None if est.single_control is None else est.single_control[0],
        effect_pct_without_single_control=None
        if est.single_control is None or scale is None
        else finite(est.single_control[1] * scale),
        effect_pct_with_all_controls=None
        if est.all_controls is None or scale is None
        else finite(est.all_controls[0] * scale),
        **points,
    )
    return _with_outliers(replaced(effect, note=metric_note(effect)), job)


def _minimum_sentence(job: SeriesJob) -> str:
    """The fewest points this design needs, when the series is shorter than an interrupted
    time series needs and the control units carry it."""
    units = n_controls(job.controls)
    if job.freq is None or job.go_live is None:
        return ""
    n_pre = _count_before(job.dates, job.go_live)
    if n_pre >= MIN_PRE[job.freq] and len(job.dates) - n_pre >= MIN_POST[job.freq]:
        return ""  # long enough for any design
    pre, post = minimum_points(job.freq, units)
    return (
        f" With {units} control units the comparison leans on the cross-section, so this"
        f" design needs at least {pre} pre-period and {post} post-period points (an interrupted"
        f" time series needs {MIN_PRE[job.freq]} and {MIN_POST[job.freq]})."
    )


def _count_before(dates: pd.DatetimeIndex, go_live: pd.Timestamp) -> int:
    """How many of `dates` fall before `go_live`: a binary search on the sorted axis every
    series is aligned to (a comparison of the whole axis per series cost about 5% of the
    analysis bench), a count where the axis is not sorted."""
    if dates.is_monotonic_increasing:
        return int(dates.searchsorted(go_live, side="left"))
    return int((dates < go_live).sum())


def _with_outliers(effect: MetricEffect, job: SeriesJob) -> MetricEffect:
    """The effect with the decimal slips its series had set aside named: reason `outlier` and a
    check whose sentence names each value. Added after the verdict: a value left out never
    decides it."""
    if not job.slips:
        return effect
    check = CheckResult("outlier", False, True, outlier_sentence(job.slips))
    return replaced(effect, reasons=(*effect.reasons, "outlier"), checks=(*effect.checks, check))


class _Identity(TypedDict):
    """The fields of a MetricEffect that come from its series and spec, estimate or none."""

    pilot_id: str
    metric: str
    direction: Direction
    kind: MetricKind
    frequency: Frequency | None
    threshold_pct: float | None
    tolerance_pct: float | None
    scale: Scale


class _Points(TypedDict, total=False):
    """A point-scale MetricEffect's fields in percentage points."""

    effect_points: float | None
    ci_low_points: float | None
    ci_high_points: float | None
    mde_points: float | None


def _points(spec: AnalysisSpec, effect: float, low: float, high: float, mde: float) -> _Points:
    """The effect, its interval and the minimum detectable effect in percentage points (metric
    unit x 100) for a point-scale metric; nothing for a relative one."""
    if not spec.points:
        return {}
    return {
        "effect_points": finite(effect * POINTS_PER_UNIT),
        "ci_low_points": finite(low * POINTS_PER_UNIT),
        "ci_high_points": finite(high * POINTS_PER_UNIT),
        "mde_points": finite(mde * POINTS_PER_UNIT),
    }


def _chart(job: SeriesJob, est: Estimate | None) -> ChartSeries:
    """The chart of one effect: the observed series, and the counterfactual with its 95% band
    and the control series where the estimate has them."""
    if est is None:
        return ChartSeries(dates=job.dates.values, observed=job.y)
    with np.errstate(over="ignore"):  # bands of values near 1e308 are inf: off-chart
        half = critical_t(est.df) * est.cf_se
        low, high = est.counterfactual - half, est.counterfactual + half
    return ChartSeries(
        dates=est.dates.values,
        observed=est.observed,
        counterfactual=est.counterfactual,
        cf_low=low,
        cf_high=high,
        control=est.control,
    )


KIND_ORDER = {"value": 0, "guardrail": 1, "activity": 2}


def _value_metric_names(answer: object, present: Sequence[str]) -> list[str]:
    """The metrics of `present` the readiness answer names ("cycle time; cost-per-invoice"),
    in the order of `present`."""
    if not answered(answer):
        return []
    wanted = [
        w.strip().lower().replace(" ", "_").replace("-", "_")
        for w in str(answer).replace(";", ",").split(",")
    ]
    return [m for m in present if m.lower() in wanted]


def pilot_result(pilot_id: str, row: dict[str, object], effects: list[MetricEffect]) -> PilotResult:
    """The pilot's result from its metrics' effects and its row (`inputs.pilot_info`: readiness
    answers, name, monthly cost, annual volume): effects ordered value, guardrail, activity;
    its value metrics (those the readiness answer names, never an activity metric, else the
    value-kind ones); its decision (analytics.decision), net value and action title."""
    effects = sorted(effects, key=lambda e: (KIND_ORDER.get(e.kind, 3), e.metric))
    missing = tuple(f for f in READINESS_FIELDS if not answered(row.get(f)))
    present = [e.metric for e in effects]
    activity = {e.metric for e in effects if e.kind == "activity"}
    # an activity metric never counts as value, even when the readiness answer names it
    named = [m for m in _value_metric_names(row.get("value_metric"), present) if m not in activity]
    chosen = named or [e.metric for e in effects if e.kind == "value"]
    value = [e for e in effects if e.metric in chosen]
    guardrails = [e for e in effects if e.metric not in chosen and e.kind in ("guardrail", "value")]
    activities = [e for e in effects if e.kind == "activity" and e.metric not in chosen]
    decision: Decision
    reasons: tuple[Reason, ...]
    if not effects:
        decision, reasons = "extend", ("too_early", *(("readiness_gap",) if missing else ()))
    else:
        decision, reasons = pilot_decision(value, guardrails, activities, missing)
    name = str(row.get("pilot_name") or pilot_id) if answered(row.get("pilot_name")) else pilot_id
    result = PilotResult(
        pilot_id=pilot_id,
        decision=decision,
        reasons=tuple(reasons),
        value_metrics=tuple(chosen),
        readiness_missing=missing,
        metrics=tuple(effects),
        net_value=net_value(
            effects, number(row.get("monthly_cost")), number(row.get("annual_volume"))
        ),
    )
    # the action title speaks about the pilot's headline metric (PilotResult.headline)
    return replaced(
        result, summary=pilot_summary(name, decision, reasons, result.headline, missing)
    )
