"""One series' counterfactual estimate, whatever the method, and the interrupted-time-series
route that produces it for many series at once.

An `Estimate` holds everything the mirage checks and the verdict need: the effect and its HAC
standard error, the counterfactual path, how much of the naive pre/post change the trend and the
season explain, the end-of-pre-period spike test, a placebo go-live inside the pre-period, and the
naive Welch comparison a pre/post slide would show.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from functools import lru_cache
from typing import Any, NamedTuple, TypedDict, TypeVar, Unpack, overload

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import special

from analytics.counterfactual import (
    COMBINED,
    LEVEL_REJECT_T,
    MIN_BLOCKS,
    MODEL_SHARE,
    TREND_DROP_T,
    Backtest,
    backtest,
    calibrated_one,
    guarded_prior,
    scan_breaks,
    spell_sizes,
    spell_t,
)
from analytics.its import (
    MIN_PRE,
    Design,
    SegmentedFit,
    add_spike,
    ar1_mean_variance,
    batch_designs,
    build_design,
    columns_for,
    design_matrix,
    fit_segmented,
    rank_threshold,
)
from analytics.levels import Z_CRIT
from analytics.results import Frequency, Method, replaced

SPIKE_T = 3.0  # |t| of the end-of-pre-period dummy that counts as an unusual spell
SPIKE_SD = 1.5  # ... and its size in residual standard deviations
SCREEN_T = 2.0  # t of a last-k dummy worth a spell fit (the fit itself must pass SPIKE_T)
PLACEBO_AT = 2 / 3  # placebo go-live: two thirds of the way through the pre-period


def in_unit(*positions: int) -> dict[str, tuple[int, ...] | None]:
    """Field metadata: the field is in the metric's unit (`rescaled` multiplies it); for a
    tuple, only the entries at `positions` are."""
    return {"in_unit": positions or None}


IN_UNIT = in_unit()  # a float or an array in the metric's unit


@dataclass(frozen=True)
class Estimate:
    """The counterfactual estimate for one series (arrays have one entry per date)."""

    method: Method
    frequency: Frequency
    dates: pd.DatetimeIndex
    post: np.ndarray
    n_pre: int  # dates before the post window
    n_post: int
    observed: np.ndarray = field(metadata=IN_UNIT)
    counterfactual: np.ndarray = field(metadata=IN_UNIT)
    cf_se: np.ndarray = field(metadata=IN_UNIT)
    control: np.ndarray | None = field(metadata=IN_UNIT)
    effect_abs: float = field(metadata=IN_UNIT)
    se_abs: float = field(metadata=IN_UNIT)
    df: int
    baseline: float = field(metadata=IN_UNIT)
    segment_effect: np.ndarray = field(metadata=IN_UNIT)
    segment_se: np.ndarray = field(metadata=IN_UNIT)
    trend_contribution: float = field(metadata=IN_UNIT)
    trend_t: float
    seasonal_contribution: float = field(metadata=IN_UNIT)
    annual_season: bool
    spike_detected: bool
    spike_t: float
    spike_size: float = field(metadata=IN_UNIT)  # the spike in the bad direction
    placebo_effect: float | None = field(metadata=IN_UNIT)
    placebo_t: float | None
    # post mean minus pre mean of the observed series
    naive_diff: float = field(metadata=IN_UNIT)
    naive_p: float
    beats_baseline: bool | None = None  # after a bad spell: post level beats the longer-run one
    control_diff: float | None = field(default=None, metadata=IN_UNIT)
    control_p: float | None = None
    parallel_p: float | None = None
    weights: dict[str, float] | None = None  # synthetic-control weights by unit
    # the control comparison on a proportional scale (controls put on the treated level), where
    # that differs from the comparison in levels: effect and standard error in the metric's unit
    proportional_effect: float | None = field(default=None, metadata=IN_UNIT)
    proportional_se: float | None = field(default=None, metadata=IN_UNIT)
    proportional_df: int | None = None
    # which counterfactual model the estimate is read from (analytics.counterfactual), the first
    # date of the regime it was fitted on when a break cut the pre-period, the root-mean-square
    # error of its rolling-origin backtests (metric unit) and how much they widened the interval
    model: str = ""
    regime_start: pd.Timestamp | None = None
    backtest_rmse: float | None = field(default=None, metadata=IN_UNIT)
    calibration: float = 1.0
    spell_length: int = 0  # points of the unusual end-of-pre spell the model sets aside
    level_weight: float | None = None  # weight of the level-only candidate in the combination
    # leave-one-control-out: the control unit whose removal takes the significance away, and the
    # effect and its standard error without it (metric unit)
    single_control: tuple[str, float, float] | None = field(default=None, metadata=in_unit(1, 2))
    # ... and then the estimate is the comparison without that unit; the effect and standard
    # error the comparison with every control unit gave are kept here (metric unit)
    all_controls: tuple[float, float] | None = field(default=None, metadata=in_unit(0, 1))
    # placebo-in-space (analytics.did): how many control units were each analysed as if treated,
    # the treated series' rank among them all by post/pre RMSPE ratio (1 = the most extreme),
    # its permutation p-value rank / (units + 1), and its own post/pre RMSPE ratio
    n_controls: int | None = None  # control units in the comparison (None without controls)
    placebo_units: int | None = None
    placebo_rank: int | None = None
    permutation_p: float | None = None
    rmspe_ratio: float | None = None
    # the treated units the series is the mean of: its placebos are means of as many control
    # units (`did.placebo_draws`), `placebo_units` of them
    placebo_group: int = 1
    # the effect against the basic structural model's counterfactual (a wandering level;
    # analytics.structural) and its 95% half-width, metric unit, where a significant change
    # was checked against it
    structural_effect: float | None = field(default=None, metadata=IN_UNIT)
    structural_halfwidth: float | None = field(default=None, metadata=IN_UNIT)


# Estimate fields in the metric's unit, read off the fields' metadata (`IN_UNIT`, `in_unit`):
# the rest are t statistics, p-values, counts, weights
IN_UNITS: dict[str, tuple[int, ...] | None] = {
    f.name: f.metadata["in_unit"] for f in fields(Estimate) if "in_unit" in f.metadata
}


def power_of_two_scale(values: np.ndarray) -> float:
    """The power of two just above max |values| (1.0 when there are none or all are zero):
    dividing by it keeps a series near 1 whatever its unit, and is exact in floating point,
    so ordinary series give bit-for-bit the same results."""
    top = float(np.abs(np.asarray(values, dtype=float)).max(initial=0.0))
    if not math.isfinite(top) or top == 0.0:
        return 1.0
    return math.ldexp(1.0, min(math.frexp(top)[1], 1023))  # 2^1024 overflows


def rescaled(est: Estimate, factor: float) -> Estimate:
    """The estimate with every field in the metric's unit multiplied by `factor` (fits run on
    series divided by their scale: sums of squares of values near 1e150 overflow)."""
    if factor == 1.0:
        return est
    out = copy.copy(est)  # a frozen dataclass: fields set on the copy before anyone sees it
    with np.errstate(over="ignore"):  # near 1e308 a standard error may not fit: inf, not a crash
        for name, positions in IN_UNITS.items():
            value = getattr(est, name)
            if value is None:
                continue
            if positions is None:
                object.__setattr__(out, name, value * factor)
            else:
                scaled = tuple(v * factor if k in positions else v for k, v in enumerate(value))
                object.__setattr__(out, name, scaled)
    return out


# a float or an array of them, elementwise (the forecast combination of two candidates)
Num = TypeVar("Num", float, np.ndarray)


def combined_mean(w: float, a: Num, b: Num) -> Num:
    """The forecast combination of `a` (weight `w`) and `b` (Bates & Granger 1969)."""
    return w * a + (1.0 - w) * b


def combined_se(w: float, a: Num, b: Num, sa: Num, sb: Num) -> Num:
    """The standard error of `combined_mean`: the candidates' variances averaged, plus the
    spread between them, w (1 - w) (a - b)^2, so that two that disagree widen it."""
    v = 1.0 - w
    root: Num = np.sqrt(w * sa**2 + v * sb**2 + w * v * (a - b) ** 2)
    return root


SPELL_MAX_SHARE = 1 / 3  # the longest unusual end-of-pre spell: a third of the pre-period
SPELL_GRID = 48  # candidate spell lengths screened, geometric from 2 points to SPELL_MAX_SHARE
SPELL_FITS = 2  # screened lengths (the best local maxima of the screen's t) given a model fit


def spell_points(n_pre: npt.ArrayLike) -> np.ndarray:
    """Points in each candidate end-of-pre spell: SPELL_GRID lengths spaced geometrically from
    2 points to a third of the pre-period (every length where that range is short; about 10%
    apart over a 500-point pre-period), so that a spell of any length is screened within a few
    per cent of its own: a dummy a few points off a spell's length leaves those points in the
    residuals, and their autocorrelation halves the dummy's t. (SPELL_GRID,) for one
    pre-period length, (m, SPELL_GRID) for m of them; a short pre-period repeats lengths."""
    top = np.maximum(2.0, np.asarray(n_pre, dtype=float) * SPELL_MAX_SHARE)
    steps = np.linspace(0.0, 1.0, SPELL_GRID)
    points: np.ndarray = np.round(2.0 * np.power.outer(top / 2.0, steps))
    return points.astype(int)


@overload
def spell_fits(n_pre: int, k: int, n_params: int) -> bool: ...
@overload
def spell_fits(n_pre: int | np.ndarray, k: np.ndarray, n_params: int) -> np.ndarray: ...
def spell_fits(n_pre: int | np.ndarray, k: int | np.ndarray, n_params: int) -> bool | np.ndarray:
    """Does a spell of `k` points leave enough ordinary pre-period points to fit the baseline?
    (elementwise)"""
    fits: bool | np.ndarray = n_pre - k >= np.maximum(n_params + 4, 2 * k // 3 + 4)
    return fits


def spike_lengths(n_pre: int, n_params: int) -> list[int]:
    """Candidate lengths of the end-of-pre-period dummy (`spell_points`, distinct) that leave
    enough ordinary pre-period points to fit the baseline."""
    lengths = distinct_spells(n_pre)[0]  # sorted, distinct; one test for all of them
    fitting: list[int] = lengths[spell_fits(n_pre, lengths, n_params)].tolist()
    return fitting


@lru_cache(maxsize=4096)
def distinct_spells(n_pre: int) -> tuple[np.ndarray, np.ndarray]:
    """The distinct candidate spell lengths of a pre-period of `n_pre` points, sorted, and
    where each first appears in `spell_points(n_pre)` (`np.unique(..., return_index=True)`):
    memoised by length (a pilot's metrics and both candidates ask for the same), read-only."""
    lengths, first = np.unique(spell_points(n_pre), return_index=True)
    lengths.flags.writeable = first.flags.writeable = False
    return lengths, first


@dataclass(frozen=True)
class SpikeSearch:
    """The best end-of-pre spell per series: `choice[j]` indexes `designs`/`fits`, or -1, and
    `column[j]` is series j's column in that fit (a length is fitted for every series that
    asks for it at once)."""

    designs: list[Design]
    fits: list[SegmentedFit]
    choice: np.ndarray
    t: np.ndarray
    size: np.ndarray
    column: np.ndarray


def search_spikes(
    y: np.ndarray,
    sign: np.ndarray,
    main: Design,
    lengths: set[int] | Sequence[set[int] | None] | None = None,
) -> SpikeSearch:
    """Fit the model once per candidate spell length (of `lengths` when given: those
    `screen_batch` flags, one set for every series or one per series), with a dummy on the
    last k pre-period points, and keep for each series the spell with the largest t in the bad
    direction that passes the thresholds (|t| > SPIKE_T and more than SPIKE_SD residual SDs).
    `main` has one go-live (the series are one pilot's metrics): each length is one batched
    fit of the series that ask for it, and each series' lengths are taken in the order a
    search of that series alone takes them, so it finds the same spell."""
    pre_rows = np.flatnonzero(~main.post)
    designs: list[Design] = []
    fits: list[SegmentedFit] = []
    m = y.shape[1]
    best_t = np.zeros(m)
    best_size = np.zeros(m)
    choice = np.full(m, -1)
    column = np.full(m, -1)
    per = [lengths] * m if lengths is None or isinstance(lengths, set) else list(lengths)
    candidates = [
        k
        for k in spike_lengths(len(pre_rows), main.x.shape[1])
        if any(wanted is None or k in wanted for wanted in per)
    ]
    if not candidates:
        return SpikeSearch(designs, fits, choice, best_t, best_size, column)
    asked = np.array([[wanted is None or k in wanted for k in candidates] for wanted in per])
    # no fit where a series' spell of that length cannot pass the size test below
    fitted = asked & ~_too_small(y, sign, main, np.asarray(candidates))
    for at, k in enumerate(candidates):
        cols = np.flatnonzero(fitted[:, at])
        if not len(cols):
            continue
        design = add_spike(main, k)
        fit = fit_segmented(design, y[:, cols])
        bad_t = -sign[cols] * fit.spike_t
        size = -sign[cols] * fit.spike_coef
        ok = (
            (bad_t > SPIKE_T)
            & (size > SPIKE_SD * np.maximum(fit.resid_sd, 1e-12))
            & np.isfinite(bad_t)
            & (bad_t > best_t[cols])
        )
        choice[cols] = np.where(ok, len(designs), choice[cols])
        column[cols] = np.where(ok, np.arange(len(cols)), column[cols])
        best_t[cols] = np.where(ok, bad_t, best_t[cols])
        best_size[cols] = np.where(ok, size, best_size[cols])
        designs.append(design)
        fits.append(fit)
    return SpikeSearch(designs, fits, choice, best_t, best_size, column)


SIZE_MARGIN = 1e-3  # how far below the size test a spell's size must read to skip its fit
SIZE_FLOOR = 1e-3  # ... and the residual SD, as a share of the largest pre-period value
RANK_MARGIN = 100.0  # ... and the design's smallest eigenvalue, in `its.rank_threshold`s


def _too_small(y: np.ndarray, sign: np.ndarray, main: Design, lengths: np.ndarray) -> np.ndarray:
    """For each series and candidate spell length: does the series' spell of that length fall
    short of SPIKE_SD residual standard deviations in the bad direction, so that its fit could
    not pass `search_spikes`' size test? Read without the fit: the spell's coefficient and a
    lower bound on the fit's residual SD (`counterfactual.spell_sizes`), which agree with the
    fit's own up to rounding (of the normal equations: ~1e-9 of the series' level with a trend
    and annual terms) where the fit identifies every column, as it does when the design's
    smallest eigenvalue is RANK_MARGIN times above the threshold `fit_segmented` drops
    directions at. A length is skipped only there, where the size falls short by SIZE_MARGIN
    of the test and the SD is above SIZE_FLOOR of the level: a margin of at least 1.5e-6 of
    the level, beyond any rounding. (m, L) booleans."""
    pre = int(main.n_pre[0])
    sizes = spell_sizes(main.x, y, pre, lengths)  # (m, L)
    n, k = main.x.shape[0], main.x.shape[1] + 1
    identified = sizes.eig_low > RANK_MARGIN * rank_threshold(sizes.eig_high, n, k)
    size = -sign[:, None] * sizes.coef
    level = np.abs(y[:pre]).max(axis=0, initial=0.0)[:, None]
    short = (size < SPIKE_SD * sizes.sd_low * (1 - SIZE_MARGIN)) & (
        sizes.sd_low > SIZE_FLOOR * level
    )
    skip: np.ndarray = short & identified[None, :]
    return skip


class SpellModel(NamedTuple):
    """The model an estimate is read from: the batch's, or one with an end-of-pre spell."""

    design: Design
    fit: SegmentedFit
    col: int
    spike: tuple[bool, float, float] = (False, 0.0, 0.0)  # found, t, size in the bad direction
    beats_baseline: bool | None = None


def spell_model(
    y: np.ndarray,
    sign: float,
    single: Design,
    design: Design,
    fit: SegmentedFit,
    col: int,
    lengths: set[int] | None = None,
) -> SpellModel:
    """`spell_models` for one series, `y` (n,), column `col` of the batched fit."""
    return spell_models(y[:, None], np.array([sign]), single, design, fit, [col], [lengths])[0]


def spell_models(
    y: np.ndarray,
    sign: np.ndarray,
    single: Design,
    design: Design,
    fit: SegmentedFit,
    cols: Sequence[int],
    lengths: Sequence[set[int] | None],
) -> list[SpellModel]:
    """For series `cols` of a batched fit (`design`, `fit`) whose end-of-pre residuals lean the
    bad way, `y` (n, len(cols)) and `sign` theirs, sharing one go-live: each one's
    spell-robust model if an unusual end-of-pre spell is found (`search_spikes` on `single`,
    the same model with that go-live, over each series' own `lengths`), else the batch's. The
    batch fitted the series on their own pre-periods, so only the spell designs are new fits.

    Setting a bad spell aside removes an apparent improvement that is only a rebound; it must
    not manufacture a worsening. Where the spell model calls the effect significantly bad
    (|t| > Z_CRIT), the post level may as well be the spell continuing (a level shift shortly
    before go-live), so of the two models the one whose effect is nearer no change (smaller
    |t|) is read, the spell still reported."""
    spikes = search_spikes(y, sign, single, lengths)
    out = []
    for j, col in enumerate(cols):
        c = int(spikes.choice[j])
        if c < 0:
            out.append(SpellModel(design, fit, col))
            continue
        spell_design, spell_fit, at = spikes.designs[c], spikes.fits[c], int(spikes.column[j])
        found = (True, float(spikes.t[j]), float(spikes.size[j]))
        beats = beats_longer_baseline(y[:, j], spell_design, spell_fit, float(sign[j]), at)
        spell_effect_t = _t(spell_fit.effect_abs[at], spell_fit.se_abs[at])
        if sign[j] * spell_effect_t < -Z_CRIT and abs(
            _t(fit.effect_abs[col], fit.se_abs[col])
        ) < abs(spell_effect_t):
            out.append(SpellModel(design, fit, col, found, beats))
        else:
            out.append(SpellModel(spell_design, spell_fit, at, found, beats))
    return out


def _t(effect: float, se: float) -> float:
    """An effect's t statistic; 0 where its standard error is not positive."""
    return float(effect / se) if se > 0 else 0.0


def beats_longer_baseline(
    y: np.ndarray, design: Design, fit: SegmentedFit, sign: float, col: int = 0
) -> bool:
    """After an unusual end-of-pre spell: is the post level significantly better than the
    longer-run pre-period level (the pre-period without the spell)? Difference of means with
    AR(1) variances from the spell model's residuals, 5% two-sided normal test. Where the model
    holds a season, both levels are read net of it (fitted with the level on the baseline rows):
    a post window in the heavy season is not a post level that failed to beat the baseline."""
    spell = design.x[:, design.spike_col] > 0 if design.spike_col is not None else design.pre
    base = design.pre & ~spell
    post = design.post
    if base.sum() < 2 or post.sum() < 2:
        return False
    y = y - _season(design, y, base)
    diff = y[post].mean() - y[base].mean()
    var = ar1_mean_variance(fit.resid_sd**2, fit.rho, post.sum()) + ar1_mean_variance(
        fit.resid_sd**2, fit.rho, base.sum()
    )
    return bool(sign * diff / np.sqrt(max(float(var[col]), 1e-300)) > Z_CRIT)


def _season(design: Design, y: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """The seasonal part of `y` (n,) over every row, fitted with a level on `rows` (ordinary
    least squares on the design's intercept and seasonal columns); zeros without a season."""
    if not design.seasonal_cols:
        return np.zeros(len(y))
    cols = [design.names.index("intercept"), *design.seasonal_cols]
    x = design.x[:, cols]
    beta = np.linalg.lstsq(x[rows], y[rows], rcond=None)[0]
    season: np.ndarray = x[:, 1:] @ beta[1:]
    return season


def screen_batch(
    y: np.ndarray,
    fit: SegmentedFit,
    design: Design,
    sign: np.ndarray,
    *,
    wanted: np.ndarray | None = None,
) -> np.ndarray:
    """How strongly each candidate spell length (a column per `spell_points`) of each series
    calls for a spell fit: the t of a dummy on the last k pre-period points in the bad
    direction where it is above SCREEN_T and the length fits, else 0 (`counterfactual.spell_t`,
    one pass for every length). (m, SPELL_GRID); with `wanted` (m booleans) only those series
    are screened, the others' rows are 0. A screen only: `search_spikes` decides, with the
    model's own covariance."""
    m = y.shape[1]
    screened = np.zeros((m, SPELL_GRID))
    cols = np.arange(m) if wanted is None else np.flatnonzero(wanted)
    if not len(cols):
        return screened
    n_pre = np.broadcast_to(design.n_pre, (m,))[cols]
    lengths = spell_points(n_pre)
    valid = spell_fits(n_pre[:, None], lengths, design.x.shape[1])
    bad_t = -sign[cols, None] * spell_t(design.x, y[:, cols], n_pre, lengths)
    screened[cols] = np.where(valid & (bad_t > SCREEN_T), bad_t, 0.0)
    return screened


def flagged_lengths(screen: np.ndarray, n_pre: int) -> set[int]:
    """The spell lengths, in points, worth a model fit from one series' row of `screen_batch`:
    the SPELL_FITS highest local maxima of the screen's t over the length (a spell has one
    peak there, at its own length; a short spike on a longer spell has two)."""
    lengths, first = distinct_spells(n_pre)  # a repeat counts once
    t = screen[first]
    above_left = np.ones(len(t), dtype=bool)  # the first is above what lies before it
    above_left[1:] = t[1:] >= t[:-1]
    above_right = np.ones(len(t), dtype=bool)
    above_right[:-1] = t[:-1] >= t[1:]
    peaks = np.flatnonzero((t > 0) & above_left & above_right)
    best = peaks[np.argsort(-t[peaks], kind="stable")[:SPELL_FITS]]
    return set(lengths[best].tolist())


def welch(pre: np.ndarray, post: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Naive pre/post comparison per column: post mean minus pre mean and the Welch p-value,
    the same numbers as scipy.stats.ttest_ind(post, pre, equal_var=False, axis=0)."""
    y = np.concatenate([pre, post])
    before = np.r_[np.ones(len(pre)), np.zeros(len(post))].astype(bool)
    return welch_masked(y, before[:, None], ~before[:, None])


def welch_masked(y: np.ndarray, pre: np.ndarray, post: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Welch comparison per column over per-column masks of pre and post rows."""
    pre_f, post_f = pre.astype(float), post.astype(float)
    n0, n1 = pre_f.sum(axis=0), post_f.sum(axis=0)
    m0 = (y * pre_f).sum(axis=0) / np.maximum(n0, 1)
    m1 = (y * post_f).sum(axis=0) / np.maximum(n1, 1)
    diff = m1 - m0
    if (n1 < 2).all() or (n0 < 2).all():
        return diff, np.ones_like(diff)
    with np.errstate(divide="ignore", invalid="ignore"):
        v1 = (((y - m1) ** 2) * post_f).sum(axis=0) / (n1 - 1) / n1
        v0 = (((y - m0) ** 2) * pre_f).sum(axis=0) / (n0 - 1) / n0
    se2 = v1 + v0
    with np.errstate(divide="ignore", invalid="ignore"):
        dof = se2**2 / (v1**2 / (n1 - 1) + v0**2 / (n0 - 1))
        t = diff / np.sqrt(se2)
        # scipy's `stats.t.sf(|t|, dof)` is `special.stdtr(dof, -|t|)` after its argument checks
        # (the same numbers, a quarter of the time)
        p = 2 * special.stdtr(np.where(np.isfinite(dof), dof, 1.0), -np.abs(t))
    p = np.where(np.isfinite(p), p, np.where(diff != 0, 0.0, 1.0))
    return diff, np.where((n0 < 2) | (n1 < 2), 1.0, p)


def estimate_its(
    dates: pd.DatetimeIndex,
    go_lives: npt.ArrayLike | pd.Timestamp,
    freq: Frequency,
    y: np.ndarray,
    sign: np.ndarray,
    *,
    breaks: bool = True,
) -> list[Estimate]:
    """Interrupted-time-series estimates for every column of `y` (n, m), which share `dates`
    but each have their own go-live (`go_lives`, one per column, or one for all).

    The counterfactual model is chosen per series (analytics.counterfactual): a level break
    earlier in the pre-period cuts the history to the last regime (`breaks`); level only or
    level + trend (each with the season the pre-period supports) by rolling-origin backtests;
    the interval is at least as wide as the backtests' errors imply. Series choosing the same
    model are fitted in one batch; the spell-robust models only for the series whose
    end-of-pre residuals lean the bad way. `sign` is +1 where higher is better, -1 where lower
    is better (decides the "bad" spell).
    """
    y = np.asarray(y, dtype=float)
    m = y.shape[1]
    go = np.broadcast_to(np.asarray(go_lives, dtype="datetime64[ns]"), (m,))
    sign = np.broadcast_to(np.asarray(sign, dtype=float), (m,))
    values = np.asarray(dates, dtype="datetime64[ns]")
    n_pre = np.searchsorted(values, go)
    n_post = len(values) - n_pre
    regime = _regimes(values, freq, y, n_pre) if breaks else np.full(m, -1)
    out: list[Estimate | None] = [None] * m
    for j in np.flatnonzero(regime > 0):
        start = int(regime[j])
        recent = estimate_its(
            dates[start:], go[j : j + 1], freq, y[start:, j : j + 1], sign[j : j + 1], breaks=False
        )[0]
        rolled = backtest(
            values, freq, y[:, j : j + 1], n_pre[j : j + 1], n_post[j : j + 1], window=recent.n_pre
        )
        recent = _regime_tested(recent, rolled)
        out[j] = _from_regime(recent, pd.DatetimeIndex(dates), y[:, j], start)
    plain = np.flatnonzero(regime <= 0)
    if len(plain):
        tests = backtest(values, freq, y[:, plain], n_pre[plain], n_post[plain])
        weights = tests[COMBINED].level_weight
        assert weights is not None
        w_level = weights.copy()
        fits: dict[bool, dict[int, Estimate]] = {False: {}, True: {}}
        for trend in (True, False):
            if not trend:  # the pre-period's own trend decides where it is clear either way
                w_level = _trend_evidence(w_level, fits[True])
                fits[True] = {i: e for i, e in fits[True].items() if w_level[i] < 1.0}
            needed = w_level < 1.0 if trend else w_level > 0.0
            idx = plain[needed]
            if len(idx):
                # an end-of-pre spell is looked for with the weightier candidate only: where the
                # two disagree on one, the weightier decides (`_combined`); and the combination
                # carries the weightier candidate's placebo, so only it is fitted
                lead = (w_level[needed] < 0.5) if trend else (w_level[needed] >= 0.5)
                found = _its_batch(
                    dates,
                    go[idx],
                    freq,
                    y[:, idx],
                    sign[idx],
                    trend=trend,
                    spells=lead,
                    placebos=lead,
                )
                fits[trend] = dict(zip(np.flatnonzero(needed).tolist(), found, strict=True))
        for i, j in enumerate(plain):
            tested = {key: _backtest_of(test, i) for key, test in tests.items()}
            weight = float(w_level[i])
            spell = max(
                (e.spell_length for e in (fits[t].get(i) for t in (False, True)) if e), default=0
            )
            if spell:  # the model sets the spell aside: test it on the history before it,
                # forecasting as far ahead as the real post window lies from that history
                before = backtest(
                    values,
                    freq,
                    y[:, j : j + 1],
                    n_pre[j : j + 1] - spell,
                    n_post[j : j + 1],
                    gap=spell,
                )
                # a history too short to test that forecast leaves the whole pre-period's
                # backtest, spell included: untested, the spell model is not trusted more
                if (
                    np.isfinite(before[COMBINED].rmse[0])
                    and before[COMBINED].blocks[0] >= MIN_BLOCKS
                ):
                    tested = before
            out[j] = _combined(fits[False].get(i), fits[True].get(i), weight, tested)
    return [e for e in out if e is not None]


def _trend_evidence(w_level: np.ndarray, trended: dict[int, Estimate]) -> np.ndarray:
    """The level candidate's combination weights (m,) after the pre-period's own trend test,
    for the series whose level + trend fit is in `trended` (index -> estimate): a robust trend
    t beyond LEVEL_REJECT_T rejects the level-only model (weight 0); one below TREND_DROP_T
    drops the trend candidate (weight 1). With t^2 < 1 the estimated noncentrality of the
    restriction "no trend" is below one, where the restricted (level-only) forecast has the
    smaller mean squared error (Toro-Vizcarrondo & Wallace 1968, "A test of the mean square
    error criterion for restrictions in linear regression", JASA 63; Wallace 1972): a trend
    within its own noise adds the variance of its extrapolation and removes no bias worth it.
    Between the two, the backtests' weights stand."""
    out = w_level.copy()
    for i, e in trended.items():
        t = abs(e.trend_t)
        if t > LEVEL_REJECT_T:
            out[i] = 0.0
        elif t < TREND_DROP_T:
            out[i] = 1.0
    return out


def _regimes(values: np.ndarray, freq: Frequency, y: np.ndarray, n_pre: np.ndarray) -> np.ndarray:
    """The first row of each series' last stable regime (`scan_breaks` with the level, trend and
    season the pre-period supports in the model), -1 where there is no break."""
    regime = np.full(y.shape[1], -1)
    for p in np.unique(n_pre).tolist():
        members = np.flatnonzero(n_pre == p)
        x, _ = design_matrix(values, freq, columns_for(values, p, freq, True, True))
        regime[members] = scan_breaks(x, y[:, members], n_pre[members], freq).row
    return regime


def _regime_tested(recent: Estimate, rolled: dict[bool | str, Backtest]) -> Estimate:
    """A last-regime estimate whose interval is also as wide as a fixed-window backtest of its
    model over the whole pre-period calls for (`backtest(..., window=regime length)`). The
    regime's own backtest runs inside the regime, which the break scan chose because the series
    held still there: it cannot see what a history that short misses, the next break or a
    swing longer than the regime, and a short regime often leaves too few windows to test at
    all. The candidates' standardised errors are mixed with the regime model's level weight,
    as `_combined` mixes them; the larger widening of the two backtests is kept."""
    w = recent.level_weight
    if w is None:
        w = 1.0 if recent.model == "level" else 0.0
    low, trended = rolled[False].z2, rolled[True].z2
    assert low is not None and trended is not None  # `backtest` fills z2 for every key
    test = replaced(rolled[COMBINED], z2=w * low + (1 - w) * trended)
    own = recent.se_abs / recent.calibration if recent.calibration > 0 else recent.se_abs
    prior = guarded_prior(recent.frequency, recent.method, recent.df)
    wide, df = _calibration(own, test, recent.df, prior)
    if not (np.isfinite(wide) and wide > recent.se_abs > 0):
        return recent
    return widened(
        recent,
        wide / recent.se_abs,
        se_abs=wide,
        df=max(1, min(recent.df, int(df))) if np.isfinite(df) else recent.df,
    )


def _from_regime(
    recent: Estimate, dates: pd.DatetimeIndex, observed: np.ndarray, start: int
) -> Estimate:
    """An estimate fitted on the last regime (rows from `start`) shown on the whole series: the
    counterfactual and its band begin at the regime; the naive comparison is the team's, over
    the whole pre-period."""
    pad = np.full(start, np.nan)
    post = np.concatenate([np.zeros(start, dtype=bool), recent.post])
    diff, p = welch(observed[~post][:, None], observed[post][:, None])
    return replaced(
        recent,
        dates=dates,
        post=post,
        n_pre=recent.n_pre + start,
        observed=observed,
        counterfactual=np.concatenate([pad, recent.counterfactual]),
        cf_se=np.concatenate([pad, recent.cf_se]),
        naive_diff=float(diff[0]),
        naive_p=float(p[0]),
        model=f"{recent.model}_recent",
        regime_start=pd.Timestamp(dates[start]),
    )


def _backtest_of(test: Backtest, i: int) -> Backtest:
    one = slice(i, i + 1)
    z2 = None if test.z2 is None else test.z2[one]
    weight = None if test.level_weight is None else test.level_weight[one]
    return Backtest(test.rmse[one], test.blocks[one], test.horizon[one], z2, weight)


def _combined(
    level: Estimate | None, trend: Estimate | None, w: float, tests: dict[bool | str, Backtest]
) -> Estimate:
    """The forecast combination of the level (weight `w`) and the level + trend estimates
    (Bates & Granger 1969): effects, counterfactuals and segment effects averaged; variances
    averaged plus the spread between the two models, w (1 - w) (a - b)^2, so that two
    candidates that disagree widen the interval. The diagnostics the checks read (trend,
    season, spell, placebo) come from the candidate with the larger weight. Then calibrated
    by the combination's own backtest (`_calibrated`). Either estimate may be None when its
    weight is zero; when only one of them sets an unusual end-of-pre spell aside, the one with
    the larger weight is used alone."""
    if (
        level is not None
        and trend is not None
        and bool(level.spell_length) != bool(trend.spell_length)
    ):  # the candidates disagree on an unusual spell before go-live: the weightier decides
        level, trend = (level, None) if w >= 0.5 else (None, trend)
    if level is None or trend is None:
        only = level if trend is None else trend
        assert only is not None
        is_trend = level is None
        return _calibrated(only, "level_trend" if is_trend else "level", tests[is_trend])
    lead = level if w >= 0.5 else trend
    v = 1.0 - w

    def mix(a: Num, b: Num) -> Num:
        return combined_mean(w, a, b)

    def spread(a: Num, b: Num, sa: Num, sb: Num) -> Num:
        return combined_se(w, a, b, sa, sb)

    n_seg = min(len(level.segment_effect), len(trend.segment_effect))
    combined = replaced(
        lead,
        counterfactual=mix(level.counterfactual, trend.counterfactual),
        cf_se=spread(level.counterfactual, trend.counterfactual, level.cf_se, trend.cf_se),
        effect_abs=mix(level.effect_abs, trend.effect_abs),
        se_abs=float(spread(level.effect_abs, trend.effect_abs, level.se_abs, trend.se_abs)),
        df=min(level.df, trend.df),
        baseline=mix(level.baseline, trend.baseline),
        segment_effect=mix(level.segment_effect[:n_seg], trend.segment_effect[:n_seg]),
        segment_se=spread(
            level.segment_effect[:n_seg],
            trend.segment_effect[:n_seg],
            level.segment_se[:n_seg],
            trend.segment_se[:n_seg],
        ),
    )
    # calibrated by the candidates' own backtests, mixed: the combination's spread is already
    # in its standard error, and must not also excuse the candidates' misses
    low_z2, trend_z2 = tests[False].z2, tests[True].z2
    assert low_z2 is not None and trend_z2 is not None  # `backtest` fills z2 for every key
    mixed = w * low_z2 + v * trend_z2
    test = replaced(tests[COMBINED], z2=mixed)
    name = "level" if w >= MODEL_SHARE else "level_trend" if v >= MODEL_SHARE else "combined"
    return replaced(_calibrated(combined, name, test), level_weight=w)


def widened(est: Estimate, factor: float, **changes: Any) -> Estimate:
    """`est` with every standard error (effect, post segments, counterfactual band) times
    `factor` and its `calibration` with them, and any other field `changes` names (these win:
    a caller that has the widened standard error itself passes it as `se_abs`)."""
    fields: dict[str, Any] = {
        "se_abs": est.se_abs * factor,
        "segment_se": est.segment_se * factor,
        "cf_se": est.cf_se * factor,
        "calibration": est.calibration * factor,
    }
    return replaced(est, **{**fields, **changes})


def _calibration(se: float, test: Backtest, df: int, prior: float) -> tuple[float, float]:
    """`counterfactual.calibrated_se` of one estimate's standard error `se` by its one-series
    backtest `test`: the widened standard error and its t reference's degrees of freedom."""
    z2 = math.nan if test.z2 is None else float(test.z2[0])
    return calibrated_one(float(se), float(test.blocks[0]), z2, df, prior)


def _calibrated(est: Estimate, model: str, test: Backtest) -> Estimate:
    """The estimate named after its model, with its standard errors (effect, post segments,
    counterfactual band) widened by the factor its backtests call for (`calibrated_se`), and
    its t reference's degrees of freedom with them."""
    prior = guarded_prior(est.frequency, est.method, est.df)
    widened, df = _calibration(est.se_abs, test, est.df, prior)
    factor = widened / est.se_abs if est.se_abs > 0 and np.isfinite(widened) else 1.0
    rmse = float(test.rmse[0])
    return replaced(
        est,
        se_abs=est.se_abs * factor,
        df=est.df if not np.isfinite(df) else max(1, min(est.df, int(df))),
        segment_se=est.segment_se * factor,
        cf_se=est.cf_se * factor,
        model=model,
        backtest_rmse=rmse if np.isfinite(rmse) else None,
        calibration=factor,
    )


def _its_batch(
    dates: pd.DatetimeIndex,
    go: np.ndarray,
    freq: Frequency,
    y: np.ndarray,
    sign: np.ndarray,
    *,
    trend: bool,
    spells: np.ndarray | None = None,
    placebos: np.ndarray | None = None,
) -> list[Estimate]:
    """Estimates of one counterfactual model (level + season, with a trend when `trend`) for
    every column of `y`: one batched fit for the main model and one for the placebo model per
    group of series whose pre-periods support the same columns; an end-of-pre spell is looked
    for where `spells` (one flag per column, all by default) says so, and a placebo go-live
    fitted where `placebos` does (all by default) and, with a trend, where the trend is strong
    enough to reject the level-only model (`LEVEL_REJECT_T`: the trend model is then read
    alone, its placebo with it); elsewhere the estimate's placebo fields are None."""
    m = y.shape[1]
    out: list[Estimate | None] = [None] * m
    index = pd.DatetimeIndex(dates)
    for idx, design in batch_designs(dates, go, freq, trend=trend):
        yy, ss = y[:, idx], sign[idx]
        fit = fit_segmented(design, yy)
        naive_diff, naive_p = welch_masked(yy, design.pre, design.post)
        # only the series that look for a spell are screened for one
        flags = screen_batch(yy, fit, design, ss, wanted=None if spells is None else spells[idx])
        models = [SpellModel(design, fit, col) for col in range(len(idx))]
        flagged: dict[np.datetime64, list[int]] = {}  # a pilot's metrics share their go-live
        for col in np.flatnonzero(flags.any(axis=1)).tolist():
            flagged.setdefault(go[idx[col]], []).append(col)
        for day, cols in flagged.items():
            single = build_design(dates, pd.Timestamp(day), freq, trend=trend)
            wanted = [flagged_lengths(flags[col], int(single.n_pre[0])) for col in cols]
            found = spell_models(yy[:, cols], ss[cols], single, design, fit, cols, wanted)
            for col, model in zip(cols, found, strict=True):
                models[col] = model
        # the placebo can only unmask an apparent improvement: run it where there is one, and
        # where the estimate read will carry it (`estimate_its`)
        apparent = (ss * fit.effect_abs > 0) | (ss * naive_diff > 0)
        if placebos is not None:
            read = placebos[idx].copy()
            if trend:
                read |= np.array([abs(mod.fit.trend_t[mod.col]) > LEVEL_REJECT_T for mod in models])
            apparent &= read
        placebo = _placebo(dates, freq, yy, design, apparent, trend)
        for col, (j, model) in enumerate(zip(idx, models, strict=True)):
            use_design, use_fit, use_col, spike, beats = model
            out[j] = _estimate(
                "its",
                freq,
                index,
                use_design,
                use_fit,
                use_col,
                yy[:, col],
                None,
                spike=spike,
                placebo=placebo.get(col, (None, None)),
                naive=(float(naive_diff[col]), float(naive_p[col])),
                beats_baseline=beats,
                spell_length=_spell_length(use_design),
            )
    return [e for e in out if e is not None]


def _spell_length(design: Design) -> int:
    return 0 if design.spike_col is None else int(design.x[:, design.spike_col].sum())


def _placebo(
    dates: pd.DatetimeIndex,
    freq: Frequency,
    y: np.ndarray,
    main: Design,
    wanted: np.ndarray,
    trend: bool = True,
) -> dict[int, tuple[float | None, float | None]]:
    """The same model fitted on the first two thirds of each pre-period, with a fake go-live
    there and the rest of the pre-period as its post window: (effect, t) per wanted column."""
    n_pre = np.broadcast_to(main.n_pre, (y.shape[1],))  # each pre-period: the first n_pre rows
    values = np.asarray(dates, dtype="datetime64[ns]")
    starts, ends, cols = [], [], []
    for col in np.flatnonzero(wanted):
        rows = int(n_pre[col])
        cut = int(rows * PLACEBO_AT)
        if cut < MIN_PRE[freq] or rows - cut < 3:
            continue
        starts.append(values[cut])
        ends.append(values[rows - 1] + np.timedelta64(1, "ns"))
        cols.append(col)
    out: dict[int, tuple[float | None, float | None]] = {}
    if not cols:
        return out
    cols_arr = np.asarray(cols)
    for idx, design in batch_designs(
        dates, np.asarray(starts), freq, np.asarray(ends), trend=trend
    ):
        fit = fit_segmented(design, y[:, cols_arr[idx]], bands=False)
        for i, col in enumerate(cols_arr[idx]):
            effect = float(fit.effect_abs[i])
            out[int(col)] = (effect, _t(effect, float(fit.se_abs[i])))
    return out


class _Extras(TypedDict, total=False):
    """The Estimate fields a design sets beyond those every estimate has."""

    beats_baseline: bool | None
    spell_length: int
    control_diff: float | None
    control_p: float | None
    parallel_p: float | None
    weights: dict[str, float] | None
    n_controls: int | None
    model: str


def _estimate(
    method: Method,
    freq: Frequency,
    dates: pd.DatetimeIndex,
    design: Design,
    fit: SegmentedFit,
    j: int,
    observed: np.ndarray,
    control: np.ndarray | None,
    *,
    spike: tuple[bool, float, float],
    placebo: tuple[float | None, float | None],
    naive: tuple[float, float],
    **extra: Unpack[_Extras],
) -> Estimate:
    offset = control if control is not None else 0.0
    counterfactual = fit.counterfactual[:, j] + offset
    post = design.post if design.single else design.post[:, j]
    row = 0 if design.single else j
    n_seg = int(design.n_segments_each[row])
    window = slice(int(design.edges[row, 0]), int(design.edges[row, -1]))  # the post rows
    return Estimate(
        method=method,
        frequency=freq,
        dates=dates,
        post=post,
        n_pre=len(post) - (window.stop - window.start),
        n_post=window.stop - window.start,
        observed=observed,
        counterfactual=counterfactual,
        cf_se=fit.cf_se[:, j],
        control=control,
        effect_abs=float(fit.effect_abs[j]),
        se_abs=float(fit.se_abs[j]),
        df=int(fit.df_resid[j]),
        baseline=float(counterfactual[window].mean()),
        segment_effect=fit.segment_effect[j, :n_seg],
        segment_se=fit.segment_se[j, :n_seg],
        trend_contribution=float(fit.trend_contribution[j]),
        trend_t=float(fit.trend_t[j]),
        seasonal_contribution=float(fit.seasonal_contribution[j]),
        annual_season=design.annual_season,
        spike_detected=spike[0],
        spike_t=spike[1],
        spike_size=spike[2],
        placebo_effect=placebo[0],
        placebo_t=placebo[1],
        naive_diff=naive[0],
        naive_p=naive[1],
        **extra,
    )
