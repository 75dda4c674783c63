"""Screening: the cleaned observations turned into one series per (pilot, metric), aligned with
its control units, with decimal slips set aside, and each series either ready to estimate
(a `SeriesJob` with its pre-period scale) or carrying the reason it cannot be."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import pandas as pd

from analytics.did import minimum_points
from analytics.frequency import infer_frequency
from analytics.inputs import go_live_of
from analytics.mix import MixSeries, mix_series
from analytics.outliers import decimal_slips
from analytics.results import (
    Frequency,
)
from analytics.series import (
    Alignment,
    ControlUnits,
    Encoded,
    align_controls,
    control_series,
    encode,
    treatment_series,
    unit_panel_mean,
)
from analytics.specs import AnalysisSpec, Overrides, spec_for

# a control unit must report on half the treated dates to be modelled (its gaps are filled from
# the other units' movement: series.panel_fill)
CONTROL_COVERAGE = 0.5
# a mean below this share of the pre-period's largest value counts as zero (relative, so the
# rule does not depend on the unit)
ZERO_SHARE = 1e-12
OUTLIER_SPREADS = 1e9  # see _extremes
NO_GO_LIVE = "The pilot has no go-live date."


@dataclass(frozen=True)
class SeriesJob:
    """One (pilot, metric) series ready to estimate, or the reason it cannot be."""

    pilot_id: str
    metric: str
    spec: AnalysisSpec
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
    treated_units: int = 1  # the treated units the series is the mean of (placebo groups' size)

    @property
    def go_live_ns(self) -> np.datetime64:
        """The go-live as datetime64[ns]; NaT without one (a screened job always has one)."""
        return np.datetime64(self.go_live, "ns")

    def scaled(self) -> tuple[np.ndarray, ControlUnits | None]:
        """The series and its controls divided by `scale` (exact: a power of two)."""
        controls = None if self.controls is None else self.controls.scaled(self.scale)
        return self.y / self.scale, controls


def series_jobs(
    obs: pd.DataFrame,
    info: dict[str, dict[str, object]],
    specs: dict[str, AnalysisSpec],
    overrides: Overrides,
) -> list[SeriesJob]:
    """One job per (pilot, metric) with treatment data in the cleaned `obs`: its series (the
    mean over units, or the volume-weighted mean over segments), its control units aligned to
    it, its spec (`specs.spec_for`), its decimal slips set aside, and `screen`'s verdict on
    whether it can be estimated. `info` is `inputs.pilot_info`."""
    enc = encode(obs)
    controls_by_key = control_series(enc)
    segmented_keys = set(np.unique(enc.key[enc.segmented & enc.treated]).tolist())
    drafts = []
    series, uneven = treatment_series(enc)
    treated_units = _treated_units(obs, enc)
    for key, (day_ns, y) in series.items():
        pilot_id, metric = enc.name(key)
        if not pilot_id.strip() or not metric.strip():
            continue  # a row without a pilot or a metric belongs to no series
        go_live = go_live_of(info.get(pilot_id, {}))
        spec = spec_for(specs, overrides, pilot_id, metric)
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
        treated = 1 if mix is not None else treated_units.get(key, 1)
        drafts.append(_Draft(pilot_id, metric, spec, go_live, mix, aligned, treated))
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
        units = [n_controls(drafts[i].aligned.controls) for i in members]
        points = np.array([drafts[i].spec.points for i in members])
        problems, scales = screen(day_ns, freq, go_lives, values, units, points)
        for row, (i, problem, scale) in enumerate(zip(members, problems, scales, strict=True)):
            d = drafts[i]
            original = d.aligned.y
            slips = tuple(
                (dates[int(t)], float(original[t]), float(values[row, t]))
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
                treated_units=d.treated_units,
            )
    return [job for job in jobs if job is not None]


def _treated_units(obs: pd.DataFrame, enc: Encoded) -> dict[int, int]:
    """Per series key: how many distinct named units its treated rows come from (a series
    whose treated rows name no unit is one unit)."""
    mask = enc.treated & (obs["unit"].to_numpy(dtype=object) != "")
    if not mask.any():
        return {}
    named = pd.DataFrame({"key": enc.key[mask], "unit": obs["unit"].to_numpy(dtype=object)[mask]})
    counts = named.groupby("key")["unit"].nunique()
    return dict(zip(counts.index.astype(int).tolist(), counts.astype(int).tolist(), strict=True))


class _Draft(NamedTuple):
    pilot_id: str
    metric: str
    spec: AnalysisSpec
    go_live: pd.Timestamp | None
    mix: MixSeries | None
    aligned: Alignment
    treated_units: int


def n_controls(controls: ControlUnits | None) -> int:
    """How many control units a series has (0 without any)."""
    return 0 if controls is None else int(controls.values.shape[1])


def screen(
    day_ns: np.ndarray,
    freq: Frequency | None,
    go_lives: Sequence[pd.Timestamp | None],
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
