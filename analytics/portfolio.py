"""Analyse a portfolio: every pilot, every metric with treatment data, one decision per pilot.

The observations are turned into one series per (pilot, metric) — the mean over units, or the
volume-weighted mean over segments — and every series is routed to its estimator: against its
control units (difference-in-differences or synthetic control) when it has them, else an
interrupted time series. Series sharing dates and go-live are fitted in one batched solve.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import NamedTuple

import numpy as np
import pandas as pd

from analytics.counts import COUNT_UNITS, RatioEffect, count_effect, on_ratio_scale
from analytics.decision import (
    default_threshold,
    default_tolerance,
    metric_verdict,
    net_value,
    pilot_decision,
)
from analytics.did import estimate_did_batch, minimum_points
from analytics.estimate import Estimate, estimate_its, power_of_two_scale, rescaled, welch
from analytics.frequency import infer_frequency
from analytics.its import MIN_POST, MIN_PRE, RHO_MAX, ar1_mean_variance, kendall_rho
from analytics.levels import MDE_FACTOR, critical_t
from analytics.mirage import (
    enough_data,
    finite,
    insufficient,
    model_sentence,
    run_checks,
)
from analytics.mix import Kitagawa, MixSeries, decompose, mix_series
from analytics.narrative import metric_note, note_text, pilot_summary
from analytics.outliers import decimal_slips, outlier_sentence
from analytics.results import (
    POINTS_PER_UNIT,
    READINESS_FIELDS,
    SCALES,
    ChartSeries,
    CheckResult,
    Direction,
    Frequency,
    MetricEffect,
    MetricKind,
    PilotResult,
    Scale,
    direction_sign,
)
from analytics.series import (
    Alignment,
    ControlUnits,
    align_controls,
    control_series,
    encode,
    treatment_series,
    unit_panel_mean,
)

# a control unit must report on half the treated dates to be modelled (its gaps are filled from
# the other units' movement: series.panel_fill)
CONTROL_COVERAGE = 0.5
# a mean below this share of the pre-period's largest value counts as zero (relative, so the
# rule does not depend on the unit)
ZERO_SHARE = 1e-12
OUTLIER_SPREADS = 1e9  # see _extremes
# a relative change is read against the counterfactual mean over the post window while that keeps
# this share of the pre-period's level (on its side of zero), else against the pre-period level
COUNTERFACTUAL_SHARE = 0.2
# a pre-period whose values take both signs and whose level lies within this many standard
# deviations of zero (a margin at 0.000 +- 0.003) has no level a percentage could be read against
NEAR_ZERO_SDS = 1.0
NO_GO_LIVE = "The pilot has no go-live date."
BATCH = 128  # series fitted together (sorted by go-live; every series has its own bandwidth)


@dataclass(frozen=True)
class MetricSpec:
    direction: Direction
    kind: MetricKind
    threshold_pct: float | None  # in the metric's scale: percent, or percentage points
    tolerance_pct: float | None
    scale: Scale = "relative"
    count_unit: bool = False  # the catalog's unit is a count (analytics.counts)

    @property
    def sign(self) -> float:
        return direction_sign(self.direction)

    @property
    def points(self) -> bool:
        return self.scale == "points"


@dataclass(frozen=True)
class SeriesJob:
    """One (pilot, metric) series ready to estimate, or the reason it cannot be."""

    pilot_id: str
    metric: str
    spec: MetricSpec
    go_live: pd.Timestamp | None
    freq: Frequency | None
    dates: pd.DatetimeIndex
    y: np.ndarray
    controls: ControlUnits | None = None
    mix: MixSeries | None = None
    problem: str | None = None
    scale: float = 1.0  # a power of two near the pre-period's magnitude; fits run on y / scale
    control_note: str = ""  # control units left out or filled in (series.align_controls)
    sparse_control: np.ndarray | None = None  # see series.Alignment.sparse
    # decimal slips set to their neighbours' median (outliers.decimal_slips): date, value, used
    slips: tuple[tuple[pd.Timestamp, float, float], ...] = ()

    def scaled(self) -> tuple[np.ndarray, ControlUnits | None]:
        """The series and its controls divided by `scale` (exact: a power of two)."""
        controls = None if self.controls is None else self.controls.scaled(self.scale)
        return self.y / self.scale, controls


def analyze_portfolio(
    observations: pd.DataFrame,
    pilots: pd.DataFrame,
    catalog: pd.DataFrame,
    thresholds: pd.DataFrame,
    pilot_ids: Iterable[str] | None = None,
) -> tuple[PilotResult, ...]:
    """Estimate every (pilot, metric) effect against its counterfactual, run the mirage checks,
    give each metric a verdict and each pilot a decision. Pure: DataFrames in, results out."""
    specs = _catalog(catalog)
    overrides = _overrides(thresholds)
    info = _pilot_info(pilots)
    obs = _clean(observations)
    order = list(info) + [
        p for p in obs["pilot_id"].unique().tolist() if p not in info and p.strip()
    ]
    if pilot_ids is not None:
        wanted = [str(p) for p in pilot_ids]
        order = [p for p in wanted if p in set(order)]
        obs = obs[obs["pilot_id"].isin(wanted)]
    jobs = _jobs(obs, info, specs, overrides)
    effects = _estimate_all(jobs)
    by_pilot: dict[str, list[MetricEffect]] = defaultdict(list)
    for effect in effects:
        by_pilot[effect.pilot_id].append(effect)
    return tuple(_pilot_result(p, info.get(p, {}), by_pilot.get(p, []), specs) for p in order)


# --- inputs -------------------------------------------------------------------------------


def _num(value: object) -> float | None:
    try:
        out = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return out if np.isfinite(out) else None


def _catalog(catalog: pd.DataFrame) -> dict[str, MetricSpec]:
    specs = {}
    for row in catalog.itertuples(index=False):
        direction = (
            row.direction
            if row.direction in ("lower_is_better", "higher_is_better")
            else "lower_is_better"
        )
        kind = row.kind if row.kind in ("value", "guardrail", "activity") else "value"
        scale = getattr(row, "scale", "relative")  # a catalog from before scales: relative
        specs[str(row.metric)] = MetricSpec(
            direction,
            kind,
            _num(row.threshold_pct),
            _num(row.tolerance_pct),
            scale if scale in SCALES else "relative",
            str(getattr(row, "unit", "") or "").strip().lower() in COUNT_UNITS,
        )
    return specs


def _overrides(
    thresholds: pd.DataFrame | None,
) -> dict[tuple[str, str], tuple[float | None, float | None]]:
    if thresholds is None or thresholds.empty:
        return {}
    return {
        (str(r.pilot_id), str(r.metric)): (_num(r.threshold_pct), _num(r.tolerance_pct))
        for r in thresholds.itertuples(index=False)
    }


def _pilot_info(pilots: pd.DataFrame) -> dict[str, dict[str, object]]:
    info: dict[str, dict[str, object]] = {}
    if pilots is None or pilots.empty:
        return info
    for row in pilots.to_dict("records"):
        go_live = pd.to_datetime(row.get("go_live"), errors="coerce")
        row["go_live"] = None if pd.isna(go_live) else pd.Timestamp(go_live)
        info[str(row["pilot_id"])] = row
    return info


def _clean(observations: pd.DataFrame) -> pd.DataFrame:
    cols = ["pilot_id", "metric", "date", "group", "unit", "segment", "value", "volume"]
    obs = observations.reindex(columns=cols)  # copy-on-write: assigning leaves the caller's alone
    named = (obs["pilot_id"].notna() & obs["metric"].notna()).to_numpy(dtype=bool)
    obs["pilot_id"] = obs["pilot_id"].astype(str)
    obs["metric"] = obs["metric"].astype(str)
    obs["date"] = _dates(obs["date"])
    obs["group"] = obs["group"].fillna("treatment").astype(str)
    obs["unit"] = obs["unit"].fillna("").astype(str)
    obs["segment"] = obs["segment"].fillna("").astype(str)
    obs["value"] = pd.to_numeric(obs["value"], errors="coerce")
    obs["volume"] = pd.to_numeric(obs["volume"], errors="coerce")
    usable = (
        named & obs["date"].notna().to_numpy() & np.isfinite(obs["value"].to_numpy(dtype=float))
    )
    return obs if usable.all() else obs[usable]  # the usual case needs no filtered copy


def _dates(column: pd.Series) -> pd.Series:
    """Dates as naive timestamps; unreadable ones become NaT. Timestamps with UTC offsets keep
    their local calendar day, even when the offset changes with daylight saving (which pandas
    refuses to hold in one column)."""
    if pd.api.types.is_datetime64_any_dtype(column.dtype):
        return column.dt.tz_localize(None) if column.dt.tz is not None else column
    try:
        parsed = pd.to_datetime(column, errors="coerce")
    except (ValueError, TypeError):  # mixed offsets: read each stamp's own wall-clock time
        parsed = pd.to_datetime(column.map(_wall_clock), errors="coerce")
    if isinstance(parsed.dtype, pd.DatetimeTZDtype):
        parsed = parsed.dt.tz_localize(None)
    return parsed


def _wall_clock(value: object) -> pd.Timestamp:
    try:
        stamp = pd.Timestamp(value)
    except (ValueError, TypeError):
        return pd.NaT
    return stamp.tz_localize(None) if stamp.tzinfo is not None else stamp


def _spec(specs: dict[str, MetricSpec], overrides: dict, pilot_id: str, metric: str) -> MetricSpec:
    base = specs.get(metric, MetricSpec("lower_is_better", "value", None, None))
    threshold, tolerance = overrides.get((pilot_id, metric), (None, None))
    return MetricSpec(
        base.direction,
        base.kind,
        threshold if threshold is not None else base.threshold_pct,
        tolerance if tolerance is not None else base.tolerance_pct,
        base.scale,
        base.count_unit,
    )


def _jobs(obs: pd.DataFrame, info: dict, specs: dict, overrides: dict) -> list[SeriesJob]:
    enc = encode(obs)
    controls_by_key = control_series(enc)
    segmented_keys = set(np.unique(enc.key[enc.segmented & enc.treated]).tolist())
    drafts = []
    series, uneven = treatment_series(enc)
    for key, (day_ns, y) in series.items():
        pilot_id, metric = enc.name(key)
        if not pilot_id.strip() or not metric.strip():
            continue  # a row without a pilot or a metric belongs to no series
        go_live = info.get(pilot_id, {}).get("go_live")
        spec = _spec(specs, overrides, pilot_id, metric)
        mix = None
        if key in uneven and key not in segmented_keys:  # treated units with gaps
            day_ns, y = unit_panel_mean(obs[(enc.key == key) & enc.treated])
        if key in segmented_keys and go_live is not None:
            rows = obs[(enc.key == key) & enc.treated & enc.segmented]
            mix = mix_series(rows, go_live)
            aggregate = mix.aggregate.dropna()
            day_ns = pd.DatetimeIndex(aggregate.index).as_unit("ns").asi8
            y = aggregate.to_numpy(dtype=float)
        aligned = Alignment(None, day_ns, y, "")
        if key in controls_by_key and go_live is not None:
            aligned = align_controls(controls_by_key[key], day_ns, y, CONTROL_COVERAGE)
        drafts.append(_Draft(pilot_id, metric, spec, go_live, mix, aligned))
    # series sharing a date axis (usually most of a portfolio) are screened together
    axes: dict[bytes, list[int]] = defaultdict(list)
    for i, draft in enumerate(drafts):
        axes[draft.aligned.dates.tobytes()].append(i)
    jobs: list[SeriesJob | None] = [None] * len(drafts)
    for members in axes.values():
        day_ns = drafts[members[0]].aligned.dates
        dates = pd.DatetimeIndex(day_ns.astype("datetime64[ns]"))
        freq = infer_frequency(dates)
        values, slipped = decimal_slips(np.stack([drafts[i].aligned.y for i in members]))
        go_lives = [drafts[i].go_live for i in members]
        units = [_n_controls(drafts[i].aligned.controls) for i in members]
        points = np.array([drafts[i].spec.points for i in members])
        problems, scales = _screen(day_ns, freq, go_lives, values, units, points)
        for row, (i, problem, scale) in enumerate(zip(members, problems, scales, strict=True)):
            d = drafts[i]
            original = d.aligned.y
            slips = tuple(
                (dates[t], float(original[t]), float(values[row, t]))
                for t in np.flatnonzero(slipped[row])
            )
            jobs[i] = SeriesJob(
                pilot_id=d.pilot_id,
                metric=d.metric,
                spec=d.spec,
                go_live=d.go_live,
                freq=freq,
                dates=dates,
                y=values[row],
                controls=d.aligned.controls,
                mix=d.mix,
                problem=problem,
                scale=float(scale) if problem is None else 1.0,
                control_note=d.aligned.note,
                sparse_control=d.aligned.sparse,
                slips=slips,
            )
    return [job for job in jobs if job is not None]


class _Draft(NamedTuple):
    pilot_id: str
    metric: str
    spec: MetricSpec
    go_live: pd.Timestamp | None
    mix: MixSeries | None
    aligned: Alignment


def _n_controls(controls: ControlUnits | None) -> int:
    return 0 if controls is None else int(controls.values.shape[1])


def _screen(
    day_ns: np.ndarray,
    freq: Frequency | None,
    go_lives: Sequence,
    values: np.ndarray,
    n_controls: Sequence[int],
    points: np.ndarray | None = None,
) -> tuple[list[str | None], np.ndarray]:
    """Why each series (a row of `values`, all on the sorted dates `day_ns`, with
    `n_controls` control units each) cannot be estimated, or None; and the power of two near
    its pre-period's magnitude (fits run on the series divided by it: sums of values near 1e308
    overflow). In order: no go-live, fewer than two dates, fewer pre- or post-period points than
    the design needs (`did.minimum_points`), a constant series, a pre-period averaging zero
    (unless the series is read in percentage points, `points`), a value beyond double
    precision's reach (`_extremes`)."""
    if points is None:
        points = np.zeros(len(values), dtype=bool)
    m, n = values.shape
    problems: list[str | None] = [None] * m
    scales = np.ones(m)
    if freq is None:
        return ["Fewer than two dates." if g is not None else NO_GO_LIVE for g in go_lives], scales
    go_ns = np.array(
        [np.iinfo(np.int64).max if g is None else g.value for g in go_lives], dtype=np.int64
    )  # Timestamp.value: nanoseconds, whatever the stamp's unit
    n_pre = np.searchsorted(day_ns, go_ns)  # dates are sorted: the pre-period is a prefix
    n_post = n - n_pre
    need = [minimum_points(freq, units) for units in n_controls]
    pre = np.arange(n)[None, :] < n_pre[:, None]
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        constant = values.max(axis=1) - values.min(axis=1) == 0  # +-1e308: the range is inf
        top = np.max(np.abs(values), axis=1, where=pre, initial=0.0)
        usable = np.isfinite(top) & (top > 0)
        exponent = np.minimum(np.frexp(np.where(usable, top, 1.0))[1], 1023)  # 2^1024 overflows
        scales = np.where(usable, np.ldexp(1.0, exponent), 1.0)
        scaled = values / scales[:, None]  # pre-period values within +-1
        mean = np.sum(scaled, axis=1, where=pre) / np.maximum(n_pre, 1)
        worst, distance, spread = _extremes(scaled, pre, n_pre)
    for j, go_live in enumerate(go_lives):
        if go_live is None:
            problems[j] = NO_GO_LIVE
        elif n_pre[j] < need[j][0] or n_post[j] < need[j][1]:
            problems[j] = (
                f"Needs at least {need[j][0]} pre-period and {need[j][1]} post-period "
                f"points at this frequency; has {n_pre[j]} and {n_post[j]}."
            )
        elif constant[j]:
            problems[j] = "The series is constant: there is no variation to analyse."
        elif abs(mean[j]) < ZERO_SHARE and not points[j]:
            problems[j] = "The pre-period averages zero, so a relative change is undefined."
        elif spread[j] > 0 and distance[j] > OUTLIER_SPREADS * spread[j]:
            problems[j] = (
                f"A value ({values[j, worst[j]]:.3g}) lies more than {OUTLIER_SPREADS:.0e} times "
                "the pre-period's typical variation from its median: the estimate would rest on "
                "that one point (check it for a unit or entry error)."
            )
    return problems, scales


def _extremes(
    scaled: np.ndarray, pre: np.ndarray, n_pre: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per row: the point farthest from the pre-period's median, its distance, and the
    pre-period's typical variation (interquartile range, else the mean absolute deviation when
    more than half the points are equal). A distance beyond OUTLIER_SPREADS spreads is a value
    so far out that double precision cannot hold it and the ordinary points in one sum: the
    effect and its interval would be that one value's rounding noise; almost always a unit or
    entry error. `scaled` rows are divided by their pre-period scale (pre values within +-1)."""
    rows = np.arange(len(scaled))
    ordered = np.sort(np.where(pre, scaled, np.inf), axis=1)  # each pre-period, sorted first
    last = np.maximum(n_pre - 1, 0)
    quartile = [ordered[rows, np.minimum((q * n_pre) // 4, last)] for q in (1, 2, 3)]
    center = quartile[1]
    spread = quartile[2] - quartile[0]
    distance = np.subtract(scaled, center[:, None])
    np.abs(distance, out=distance)
    for j in np.flatnonzero(spread == 0):  # more than half the pre-period is one value
        spread[j] = distance[j, : n_pre[j]].mean() if n_pre[j] else 0.0
    worst = np.argmax(distance, axis=1)
    return worst, distance[rows, worst], spread


# --- estimation ---------------------------------------------------------------------------


def _estimate_all(jobs: Sequence[SeriesJob]) -> list[MetricEffect]:
    estimates: dict[int, Estimate] = {}
    batches: dict[tuple, list[int]] = defaultdict(list)
    controlled: dict[tuple, list[int]] = defaultdict(list)
    for i, job in enumerate(jobs):
        if job.problem is not None:
            continue
        with_controls = job.controls is not None and job.controls.values.shape[1] > 0
        group = controlled if with_controls else batches
        group[(job.freq, job.dates.asi8.tobytes())].append(i)
    for part in _chunks(jobs, controlled):  # against their controls
        first = jobs[part[0]]
        scaled = [jobs[i].scaled() for i in part]
        found = estimate_did_batch(
            first.dates,
            [np.datetime64(jobs[i].go_live, "ns") for i in part],
            first.freq,
            [y for y, _ in scaled],
            [controls for _, controls in scaled],
            [jobs[i].spec.sign for i in part],
        )
        for i, est in zip(part, found, strict=True):
            estimates[i] = rescaled(est, jobs[i].scale)
    for part in _chunks(jobs, batches):
        first = jobs[part[0]]
        y = np.column_stack([jobs[i].y / jobs[i].scale for i in part])
        sign = np.array([jobs[i].spec.sign for i in part])
        go = np.array([np.datetime64(jobs[i].go_live, "ns") for i in part])
        found = estimate_its(first.dates, go, first.freq, y, sign)
        for i, est in zip(part, found, strict=True):
            estimates[i] = rescaled(est, jobs[i].scale)
    effects = []
    for i, job in enumerate(jobs):
        est = estimates.get(i)
        if est is not None and job.sparse_control is not None:
            est = _sparse_control(est, job.sparse_control)
        problem = job.problem if est is None else _unusable(est, job.scale)
        ratio = None
        if est is not None and problem is None and on_ratio_scale(job.y, job.spec.count_unit, est):
            found = count_effect(est)  # a count: a ratio, its interval on the log scale
            if found is not None:
                est, ratio = found
        effects.append(_metric_effect(job, None if problem else est, problem, ratio))
    return effects


def _chunks(jobs: Sequence[SeriesJob], groups: dict[tuple, list[int]]) -> Iterable[list[int]]:
    """Each group of series sharing dates, sorted by go-live, in batches of at most BATCH.
    Neighbours by go-live share pre-period lengths: the batched sums stop at the last
    pre-period row of the batch, so sorted batches waste fewer rows. Every series has its own
    bandwidth, so the batch a series lands in does not change its result."""
    for members in groups.values():
        members.sort(key=lambda i: jobs[i].go_live)
        for start in range(0, len(members), BATCH):
            yield members[start : start + BATCH]


def _sparse_control(est: Estimate, control: np.ndarray) -> Estimate:
    """The estimate with the naive pre/post change of control units too sparse to model
    (`control`, NaN where none reported): enough to see whether they improved as much."""
    seen = np.isfinite(control)
    pre, post = control[seen & ~est.post], control[seen & est.post]
    if len(pre) < 2 or len(post) < 2:
        return est
    diff, p = welch(pre[:, None], post[:, None])
    return replace(est, control_diff=float(diff[0]), control_p=float(p[0]))


def _unusable(est: Estimate, scale: float) -> str | None:
    """Why an estimate cannot be used, or None. Where the counterfactual lands (near zero, across
    it) is no reason: the verdict reads the interval in the metric's unit, and a percentage is
    read against the pre-period level when the projection loses it (`relative_base`)."""
    if not np.isfinite(est.se_abs) or not np.isfinite(est.effect_abs):
        return "The estimate's uncertainty cannot be computed in double precision."
    return None


def relative_meaningful(pre: np.ndarray) -> bool:
    """Does a percentage of this pre-period's level mean anything? Not when the level is zero
    (below ZERO_SHARE of the largest value), nor when the values take both signs and the level
    lies within NEAR_ZERO_SDS standard deviations of zero: a margin at 0.000 +- 0.003 has no
    level, and "+1227%" of it is noise in the denominator. A one-signed series (a count, a
    duration) has a level however small."""
    pre = np.asarray(pre, dtype=float)
    pre = pre[np.isfinite(pre)]
    if len(pre) == 0:
        return False
    level = float(pre.mean())
    if abs(level) <= ZERO_SHARE * float(np.abs(pre).max()):
        return False
    if pre.min() >= 0 or pre.max() <= 0:
        return True
    spread = float(pre.std(ddof=1)) if len(pre) > 1 else 0.0
    return abs(level) > NEAR_ZERO_SDS * spread


def relative_base(baseline: float, pre: np.ndarray) -> float | None:
    """The level (positive, metric unit) a relative change is read against: the counterfactual
    mean over the post window while it keeps COUNTERFACTUAL_SHARE of the pre-period's level on
    its side of zero, else the pre-period level itself (a trend projected to near zero must not
    turn noise into hundreds of percent); None when no percentage means anything
    (`relative_meaningful`)."""
    if not relative_meaningful(pre):
        return None
    level = float(np.nanmean(pre))
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


def _metric_effect(
    job: SeriesJob, est: Estimate | None, problem: str | None, ratio: RatioEffect | None = None
) -> MetricEffect:
    """One metric's effect, checks and verdict from its estimate (None: `problem` says why
    there is none). A count's `ratio` gives its percentages on the log scale: never below
    -100%."""
    spec = job.spec
    base = dict(
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
    rate_pct = mix_pct = None
    if split is not None and job.mix is not None:
        pre_level = float(job.y[~est.post].mean()) if (~est.post).any() else 0.0
        if abs(pre_level) > ZERO_SHARE * job.scale:
            rate_pct = 100.0 * split.rate / abs(pre_level)
            mix_pct = 100.0 * split.composition / abs(pre_level)
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
        single_control=None if est.single_control is None else est.single_control[0],
        effect_pct_without_single_control=None
        if est.single_control is None or scale is None
        else finite(est.single_control[1] * scale),
        **points,
    )
    return _with_outliers(replace(effect, note=metric_note(effect)), job)


def _minimum_sentence(job: SeriesJob) -> str:
    """The fewest points this design needs, when the series is shorter than an interrupted
    time series needs and the control units carry it."""
    units = _n_controls(job.controls)
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
    return replace(effect, reasons=(*effect.reasons, "outlier"), checks=(*effect.checks, check))


def _points(
    spec: MetricSpec, effect: float, low: float, high: float, mde: float
) -> dict[str, float | None]:
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


# --- per pilot ----------------------------------------------------------------------------

KIND_ORDER = {"value": 0, "guardrail": 1, "activity": 2}


def _answered(value: object) -> bool:
    return (
        value is not None
        and not (isinstance(value, float) and np.isnan(value))
        and str(value).strip() != ""
    )


def _value_metric_names(answer: object, present: Sequence[str]) -> list[str]:
    if not _answered(answer):
        return []
    wanted = [
        w.strip().lower().replace(" ", "_").replace("-", "_")
        for w in str(answer).replace(";", ",").split(",")
    ]
    return [m for m in present if m.lower() in wanted]


def _pilot_result(
    pilot_id: str, row: dict, effects: list[MetricEffect], specs: dict[str, MetricSpec]
) -> PilotResult:
    effects = sorted(effects, key=lambda e: (KIND_ORDER.get(e.kind, 3), e.metric))
    missing = tuple(f for f in READINESS_FIELDS if not _answered(row.get(f)))
    present = [e.metric for e in effects]
    activity = {e.metric for e in effects if e.kind == "activity"}
    # an activity metric never counts as value, even when the readiness answer names it
    named = [m for m in _value_metric_names(row.get("value_metric"), present) if m not in activity]
    chosen = named or [e.metric for e in effects if e.kind == "value"]
    value = [e for e in effects if e.metric in chosen]
    guardrails = [e for e in effects if e.metric not in chosen and e.kind in ("guardrail", "value")]
    activities = [e for e in effects if e.kind == "activity" and e.metric not in chosen]
    if not effects:
        decision, reasons = "extend", ("too_early", *(("readiness_gap",) if missing else ()))
    else:
        decision, reasons = pilot_decision(value, guardrails, activities, missing)
    name = str(row.get("pilot_name") or pilot_id) if _answered(row.get("pilot_name")) else pilot_id
    result = PilotResult(
        pilot_id=pilot_id,
        decision=decision,
        reasons=tuple(reasons),
        value_metrics=tuple(chosen),
        readiness_missing=missing,
        metrics=tuple(effects),
        net_value=net_value(effects, _num(row.get("monthly_cost")), _num(row.get("annual_volume"))),
    )
    # the action title speaks about the pilot's headline metric (PilotResult.headline)
    return replace(result, summary=pilot_summary(name, decision, reasons, result.headline, missing))
