"""Analyse a portfolio: every pilot, every metric with treatment data, one decision per pilot.

The observations are turned into one series per (pilot, metric) — the mean over units, or the
volume-weighted mean over segments — and every series is routed to its estimator: against its
control units (difference-in-differences or synthetic control) when it has them, else an
interrupted time series. Series sharing dates and go-live are fitted in one batched solve.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence

import numpy as np
import pandas as pd

from analytics.assembly import metric_effect, pilot_result
from analytics.counts import RatioEffect, count_effect, on_ratio_scale
from analytics.did import estimate_did_batch
from analytics.estimate import Estimate, estimate_its, rescaled, welch
from analytics.inputs import clean_observations, pilot_info
from analytics.results import (
    Frequency,
    MetricEffect,
    PilotResult,
    replaced,
)
from analytics.screening import SeriesJob, series_jobs
from analytics.specs import read_catalog, read_overrides
from analytics.structural import structural_check

BATCH = 128  # series fitted together (sorted by go-live; every series has its own bandwidth)


def analyze_portfolio(
    observations: pd.DataFrame,
    pilots: pd.DataFrame,
    catalog: pd.DataFrame,
    thresholds: pd.DataFrame,
    pilot_ids: Iterable[str] | None = None,
) -> tuple[PilotResult, ...]:
    """Estimate every (pilot, metric) effect against its counterfactual, run the mirage checks,
    give each metric a verdict and each pilot a decision. Pure: DataFrames in, results out."""
    specs = read_catalog(catalog)
    overrides = read_overrides(thresholds)
    info = pilot_info(pilots)
    obs = clean_observations(observations)
    order = list(info) + [
        p for p in obs["pilot_id"].unique().tolist() if p not in info and p.strip()
    ]
    if pilot_ids is not None:
        wanted = [str(p) for p in pilot_ids]
        order = [p for p in wanted if p in set(order)]
        obs = obs[obs["pilot_id"].isin(wanted)]
    jobs = series_jobs(obs, info, specs, overrides)
    effects = _estimate_all(jobs)
    by_pilot: dict[str, list[MetricEffect]] = defaultdict(list)
    for effect in effects:
        by_pilot[effect.pilot_id].append(effect)
    return tuple(pilot_result(p, info.get(p, {}), by_pilot.get(p, [])) for p in order)


# series sharing a frequency and a date axis (its int64 nanoseconds as bytes) -> their indices
Groups = dict[tuple[Frequency, bytes], list[int]]


def _estimate_all(jobs: Sequence[SeriesJob]) -> list[MetricEffect]:
    estimates: dict[int, Estimate] = {}
    batches: Groups = defaultdict(list)
    controlled: Groups = defaultdict(list)
    for i, job in enumerate(jobs):
        if job.problem is not None or job.freq is None:  # screened: no problem, a frequency
            continue
        with_controls = job.controls is not None and job.controls.values.shape[1] > 0
        group = controlled if with_controls else batches
        group[(job.freq, job.dates.asi8.tobytes())].append(i)
    for freq, part in _chunks(jobs, controlled):  # against their controls
        ys, units = [], []
        for i in part:
            y, controls = jobs[i].scaled()
            assert controls is not None  # grouped with the controlled series above
            ys.append(y)
            units.append(controls)
        found = estimate_did_batch(
            jobs[part[0]].dates,
            [jobs[i].go_live_ns for i in part],
            freq,
            ys,
            units,
            [jobs[i].spec.sign for i in part],
            [jobs[i].treated_units for i in part],
        )
        for i, est in zip(part, found, strict=True):
            estimates[i] = rescaled(est, jobs[i].scale)
    for freq, part in _chunks(jobs, batches):
        y = np.column_stack([jobs[i].y / jobs[i].scale for i in part])
        sign = np.array([jobs[i].spec.sign for i in part])
        go = np.array([jobs[i].go_live_ns for i in part])
        found = estimate_its(jobs[part[0]].dates, go, freq, y, sign)
        for i, est in zip(part, found, strict=True):
            estimates[i] = rescaled(structural_check(est), jobs[i].scale)
    effects = []
    for i, job in enumerate(jobs):
        maybe = estimates.get(i)
        if maybe is not None and job.sparse_control is not None:
            maybe = _sparse_control(maybe, job.sparse_control)
        problem = job.problem if maybe is None else _unusable(maybe, job.scale)
        ratio: RatioEffect | None = None
        if (
            maybe is not None
            and problem is None
            and on_ratio_scale(job.y, job.spec.count_unit, maybe)
        ):
            counted = count_effect(maybe)  # a count: a ratio, its interval on the log scale
            if counted is not None:
                maybe, ratio = counted
        effects.append(metric_effect(job, None if problem else maybe, problem, ratio))
    return effects


def _chunks(jobs: Sequence[SeriesJob], groups: Groups) -> Iterator[tuple[Frequency, list[int]]]:
    """Each group of series sharing dates, sorted by go-live, in batches of at most BATCH,
    with the group's frequency. Neighbours by go-live share pre-period lengths: the batched
    sums stop at the last pre-period row of the batch, so sorted batches waste fewer rows.
    Every series has its own bandwidth, so the batch a series lands in does not change its
    result."""
    for (freq, _), members in groups.items():
        members.sort(key=lambda i: jobs[i].go_live_ns)
        for start in range(0, len(members), BATCH):
            yield freq, members[start : start + BATCH]


def _sparse_control(est: Estimate, control: np.ndarray) -> Estimate:
    """The estimate with the naive pre/post change of control units too sparse to model
    (`control`, NaN where none reported): enough to see whether they improved as much."""
    seen = np.isfinite(control)
    pre, post = control[seen & ~est.post], control[seen & est.post]
    if len(pre) < 2 or len(post) < 2:
        return est
    diff, p = welch(pre[:, None], post[:, None])
    return replaced(est, control_diff=float(diff[0]), control_p=float(p[0]))


def _unusable(est: Estimate, scale: float) -> str | None:
    """Why an estimate cannot be used, or None. Where the counterfactual lands (near zero, across
    it) is no reason: the verdict reads the interval in the metric's unit, and a percentage is
    read against the pre-period level when the projection loses it (`relative_base`)."""
    if not np.isfinite(est.se_abs) or not np.isfinite(est.effect_abs):
        return "The estimate's uncertainty cannot be computed in double precision."
    return None
