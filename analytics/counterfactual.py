"""Which counterfactual model to trust for a series without controls, and how far to trust it:
breaks in the pre-period, candidate models chosen by rolling-origin backtests, and the effect's
interval calibrated by the same backtests.

A model that fits the pre-period well can still forecast it badly. Each candidate (level only,
level + trend; both with the season the pre-period supports) is validated as a forecast is
(Hyndman & Athanasopoulos, "Forecasting: Principles and Practice", 3rd ed., section 5.10,
time-series cross-validation): pseudo go-lives are placed inside the pre-period, the candidate
is fitted on the data before each one and forecasts the mean of the following window, as long
as the real post-period (or as long as the pre-period allows). The two forecasts are combined
with weights inverse to their backtests' mean squared errors (Bates & Granger 1969), and the
backtest errors, read in units of the standard error each origin's fit claimed, are
placebo-in-time draws of how over-confident the model is: the effect's standard error is
widened to match (Abadie, Diamond & Hainmueller 2015 call these in-time placebos; a
split-conformal reading is Chernozhukov, Wuthrich & Zhu 2021).

A level shift earlier in the pre-period is a break, not a trend: projected as one straight
line it manufactures an effect. `scan_breaks` finds the single most likely level break (least
squares over every candidate date, Bai 1997) and tests it against Andrews' (1993) sup-F
critical value; the model is then fitted on the last stable regime only.
"""

from __future__ import annotations

import math
import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any, NamedTuple, TypeVar

import numpy as np

from analytics.hac import bartlett_meat, inverse_symmetric, long_run_lags, pinv_symmetric
from analytics.its import (
    MIN_PRE,
    RHO_MAX,
    ar1_mean_variance,
    columns_for,
    design_matrix,
    kendall_rho,
    nan_to_num,
    unbiased_rho,
)
from analytics.levels import critical_t
from analytics.results import Frequency, replaced

# Andrews (1993), Table 1: the sup-F statistic for one restriction with 15% trimming at the 1%
# level is 12.35 (5%: 8.85); its square root is the |t| a break must beat. The 1% level keeps
# ordinary wander from cutting the history a model learns from.
BREAK_T = float(np.sqrt(12.35))
BREAK_TRIM = 0.15  # no break in the first 15% of the pre-period (Andrews' trimming)
# a break in the last 40% of the pre-period may be a bad spell (regression to the mean), not a
# new regime: the spell check decides those
RECENT_SHARE = 0.4
BREAK_SIZE_SD = 2.0  # ... and it must move the level by two noise standard deviations or more
ORIGIN_SHARE = 0.3  # backtest origins start 30% into the pre-period
# a candidate whose combination weight reaches this share names the model
MODEL_SHARE = 0.9
# the level-only model is nested in level + trend: a pre-period trend whose autocorrelation-
# robust t exceeds this rejects it outright, whatever a few backtest windows say (well past
# the 1% point of the fat-tailed small-sample HAC t; Kiefer & Vogelsang 2005)
LEVEL_REJECT_T = 8.0
# ... and a level + trend candidate whose pre-period trend t is within this drops out: t^2 < 1
# estimates the restriction's noncentrality below one, where the level-only forecast has the
# smaller mean squared error (Toro-Vizcarrondo & Wallace 1968; `estimate._trend_evidence`)
TREND_DROP_T = 1.0
# at most this many origins per series, evenly strided: their span carries the information
MAX_ORIGINS = 30
MIN_BLOCKS = 2.0  # fewer non-overlapping backtest windows cannot tell noise from misfit
Z2_CAP = 25.0  # the most one backtest origin's squared standardised error counts for (|z| of 5)
PRIOR_WEIGHT = 1.0  # the model's own standard error counts as this many backtest windows
# ... except where a second model guards a significant change (`analytics.structural`: weekly
# and slower series without controls): there the model's own claim weighs as many windows as
# its residual degrees of freedom, the conjugate prior's own sample size (`guarded_prior`)
GUARDED: frozenset[Frequency] = frozenset({"W", "M", "Q", "Y"})


@dataclass(frozen=True)
class Backtest:
    """Rolling-origin backtest errors of one candidate for `m` series: `rmse` (m,) of the
    forecast window means (NaN where no origin fits), `blocks` (m,) the number of
    non-overlapping windows the origins span, `horizon` (m,) the window length in periods,
    `z2` (m,) the mean squared error in units of the standard error each origin's fit claimed
    (1 when the model's intervals are honest; origins weighted by recency, each capped at
    Z2_CAP), and for the combination (`COMBINED`) the
    weight on the level-only candidate (`combination_weights`)."""

    rmse: np.ndarray
    blocks: np.ndarray
    horizon: np.ndarray
    z2: np.ndarray | None = None  # mean squared error in units of the claimed standard error
    level_weight: np.ndarray | None = None  # the combination's weight on the level candidate


COMBINED = "combined"  # the key of the forecast combination's backtest


def backtest(
    dates: np.ndarray,
    freq: Frequency,
    y: np.ndarray,
    n_pre: np.ndarray,
    n_post: np.ndarray,
    gap: np.ndarray | int = 0,
    *,
    window: int | None = None,
    only: bool | None = None,
) -> dict[bool | str, Backtest]:
    """Rolling-origin forecast errors of both candidates, level only (False) and level + trend
    (True), and of their combination (`COMBINED`, weighted by `combination_weights`), for
    every column of `y` (n, m), whose pre-periods are the first `n_pre[j]` rows. With `only`
    (False or True), that candidate's alone, the one key of the dict returned: the same
    numbers as its entry of the full backtest.

    An origin whose history supports the season the whole pre-period does (day of week, annual
    terms, quarters) fits it with the candidate. Before that, the season is estimated once on
    the whole pre-period with the trend model and taken out, and the candidate forecasts the
    deseasonalised series: those origins still test the part of the model that extrapolates
    (level, trend), where the history is too short for a season of its own. Origins run from
    ORIGIN_SHARE of the pre-period to the last that leaves a window of
    h = min(n_post, n_pre - gap - first origin) periods before go-live. With a `gap` (periods,
    one per column or one for all), each window starts `gap` periods after its origin: a model
    that sets an end-of-pre spell of that length aside forecasts its post window from data that
    ends `gap` periods before it, and its backtest must forecast as far ahead. Each origin's
    fit is ordinary least squares on the rows before it, read off running sums (one
    pseudo-inverse per origin, shared by every series): a few matrix products per origin, not
    a fit per series and origin. Errors are in y's unit.

    With a `window` (periods), every origin's fit uses only the `window` rows before it, not
    all of them (a rolling window of fixed length; Tashman 2000, "Out-of-sample tests of
    forecasting accuracy", section 3): the backtest of a model fitted on a last regime of that
    length. Its origins run over the whole pre-period from `window` on, so the test sees what
    a history of that length did not show (the next break, a swing longer than the regime),
    and each origin's fit claims the noise a fit of that length claims, as the real one does.
    Every origin fits the columns a history of `window` rows ending at go-live supports."""
    y = np.asarray(y, dtype=float)
    m = y.shape[1]
    n_pre = np.broadcast_to(np.asarray(n_pre), (m,))
    n_post = np.broadcast_to(np.asarray(n_post), (m,))
    gaps = np.broadcast_to(np.asarray(gap), (m,))
    keys: tuple[bool | str, ...] = (False, True, COMBINED) if only is None else (only,)
    rmse = {key: np.full(m, np.nan) for key in keys}
    z2 = {key: np.full(m, np.nan) for key in keys}
    weight = np.zeros(m)
    blocks = np.zeros(m)
    horizon = np.zeros(m, dtype=int)
    # every group's sums first, then every origin's forecast errors in a few batched passes
    # (`_forecast_errors_many`): groups of a pilot's metrics are many, their origins few
    plans: list[tuple[np.ndarray, np.ndarray, int, list[tuple[bool, np.ndarray, int]]]] = []
    tasks: list[tuple[_OriginSums, int, int]] = []
    for (pre, post, g), members in _groups(n_pre, n_post, gaps).items():
        if window is None:
            first = max(MIN_PRE[freq], int(np.ceil(ORIGIN_SHARE * pre)), 4)
        else:
            first = window
        h = min(post, pre - g - first)
        if h < 2:
            continue
        origins = np.arange(first, pre - g - h + 1)
        if len(origins) > MAX_ORIGINS:
            origins = origins[np.linspace(0, len(origins) - 1, MAX_ORIGINS).round().astype(int)]
        parts: list[tuple[bool, np.ndarray, int]] = []  # (trend, origins' mask, task)
        # the level model's columns are the trend model's but "trend": its sums are the trend
        # model's with that row and column left out, the same numbers (each entry sums its own
        # products), so they are computed once, for the trend model first
        trended: dict[tuple[tuple[str, ...], bytes], tuple[_OriginSums, int]] = {}
        for trend in (True, False) if only is None else (only,):
            # each origin fits the season its own history supports, and no more: a season
            # estimated on later data would tell the forecast what it is being tested on
            if window is None:
                full = columns_for(dates, pre, freq, trend, True)
                by_columns = _by_columns(dates, freq, origins, trend, full)
            else:
                last = columns_for(dates[pre - window :], window, freq, trend, True)
                by_columns = {last: np.ones(len(origins), dtype=bool)}
            for names, at in by_columns.items():
                shared = (tuple(c for c in names if c != "trend"), at.tobytes())
                if not trend and shared in trended:
                    sums, col = trended[shared]
                    sums = sums.without(col)
                else:
                    x = design_matrix(dates, freq, names)[0]  # its rows past `pre` unread
                    sums = _OriginSums.of(x, y[:pre, members], origins[at], window)
                    if trend:
                        trended[shared] = (sums, names.index("trend"))
                parts.append((trend, at, len(tasks)))
                tasks.append((sums, h, g))
        plans.append((members, origins, h, parts))
    found = _forecast_errors_many(tasks)
    for members, origins, h, parts in plans:
        errors: dict[bool | str, np.ndarray] = {}
        variances: dict[bool | str, np.ndarray] = {}
        for trend, at, task in parts:
            if trend not in errors:
                errors[trend] = np.empty((len(origins), len(members)))
                variances[trend] = np.empty_like(errors[trend])
            errors[trend][at], variances[trend][at] = found[task]
        # the later an origin, the more its fit resembles the real one (the same history
        # length, the same stretch of the series): origin i of n weighs i / sum(1..n)
        recency = np.arange(1.0, len(origins) + 1.0)
        recency /= recency.sum()
        if only is None:
            w = combination_weights(_rms(errors[False]), _rms(errors[True]))
            # the combination's own errors and claimed variances, origin by origin: the mix of
            # the two, plus the spread between their forecasts (which differ by e_trend - e_level)
            errors[COMBINED] = w * errors[False] + (1 - w) * errors[True]
            variances[COMBINED] = (
                w * variances[False]
                + (1 - w) * variances[True]
                + w * (1 - w) * (errors[True] - errors[False]) ** 2
            )
        for key in keys:
            e, v = errors[key], variances[key]
            with np.errstate(divide="ignore", invalid="ignore"):
                z = np.where(v > 0, e**2 / v, np.nan)
            ok = np.isfinite(e).all(axis=0) & np.isfinite(z).all(axis=0)
            rmse[key][members] = np.where(ok, _rms(e), np.nan)
            # a fit that claimed almost no noise must not decide alone: each origin counts at
            # most Z2_CAP; later origins, whose fits resemble the real one, count more
            z2[key][members] = np.where(ok, recency @ np.minimum(nan_to_num(z), Z2_CAP), np.nan)
        if only is None:
            weight[members] = np.where(np.isfinite(rmse[COMBINED][members]), w, 0.0)
        blocks[members] = (origins[-1] - origins[0] + h) / h
        horizon[members] = h
    return {
        key: Backtest(rmse[key], blocks, horizon, z2[key], weight if key == COMBINED else None)
        for key in keys
    }


def prefers_season(
    dates: np.ndarray, freq: Frequency, y: np.ndarray, pre: int, trend: bool
) -> np.ndarray:
    """Whether each column of `y` (n, m; the pre-period is its first `pre` rows) forecasts
    better with the season its pre-period supports than without: one-step-ahead
    time-series cross-validation (Hyndman & Athanasopoulos, "Forecasting: Principles and
    Practice", 3rd ed., section 5.10), both candidates (level, with a trend when `trend`)
    fitted by least squares on the rows before each origin, on the same origins: from
    ORIGIN_SHARE of the pre-period or the first whose history carries the season, whichever
    is later, at most MAX_ORIGINS of them, and at least 2 * MIN_BLOCKS. The seasonal candidate
    is preferred where its root-mean-square one-step error is lower. (m,) booleans; all False
    where the pre-period supports no season or too few origins fit it.

    One-step errors, not window means: a window a year long averages the season away, so only
    period-by-period forecasts can tell whether the season belongs in the model."""
    m = y.shape[1]
    none = np.zeros(m, dtype=bool)
    full = columns_for(dates, pre, freq, trend, True)
    if full == columns_for(dates, pre, freq, trend, False):
        return none
    first = max(MIN_PRE[freq], int(np.ceil(ORIGIN_SHARE * pre)), 4)
    start = _first_full(dates, freq, pre, first, trend, full)
    origins = np.arange(start, pre)
    if len(origins) < 2 * MIN_BLOCKS:
        return none
    if len(origins) > MAX_ORIGINS:
        origins = origins[np.linspace(0, len(origins) - 1, MAX_ORIGINS).round().astype(int)]
    x = design_matrix(dates, freq, full)[0]  # its rows past `pre` unread
    seasonal, _ = _origin_errors(y[:pre], origins, 1, trend, x)
    plain, _ = _origin_errors(y[:pre], origins, 1, trend)
    with np.errstate(invalid="ignore"):
        return np.asarray(_rms(seasonal) < _rms(plain))


def _prefix(points: np.ndarray, terms: np.ndarray) -> np.ndarray:
    """The sums of the per-row `terms` (rows, ...) over the rows before each of the sorted
    `points`: (len(points), ...). One `np.add.reduceat` sums the blocks between consecutive
    points and a running sum accumulates them: two numpy calls, not a product per origin."""
    return _Blocks.at(points).sums(terms)


class _Blocks(NamedTuple):
    """The rows before each of `n` sorted points as the blocks between consecutive points
    (`bounds`, their first rows; `empty`, the blocks without a row; `last`, the last point):
    worked out once for every sum `_prefix` takes over the same points."""

    n: int
    last: int
    bounds: np.ndarray
    empty: np.ndarray

    @classmethod
    def at(cls, points: np.ndarray) -> _Blocks:
        last = int(points[-1]) if len(points) else 0
        bounds = np.concatenate([[0], points[:-1]]).astype(np.intp)
        return cls(len(points), last, bounds, np.diff(np.append(bounds, last)) == 0)

    def sums(self, terms: np.ndarray) -> np.ndarray:
        out = np.zeros((self.n, *terms.shape[1:]))
        if self.last == 0:
            return out
        blocks = np.add.reduceat(terms[: self.last], self.bounds, axis=0)
        blocks[self.empty] = 0.0  # reduceat gives an empty block a row
        np.cumsum(blocks, axis=0, out=out)
        return out


class _Windows(NamedTuple):
    """`_window_sums` over fixed origins, window and lag, its points worked out once: the
    running sums at `blocks`' points, read at each origin (`ends`) and window start
    (`starts`); `starts` None for the whole history before each origin."""

    blocks: _Blocks
    ends: np.ndarray | None = None
    starts: np.ndarray | None = None

    @classmethod
    def of(cls, origins: np.ndarray, window: int | None, lag: int = 0) -> _Windows:
        if window is None:
            return cls(_Blocks.at(origins))
        starts = origins - window + lag
        points = np.unique(np.concatenate([starts, origins]))
        return cls(
            _Blocks.at(points), np.searchsorted(points, origins), np.searchsorted(points, starts)
        )

    def sums(self, terms: np.ndarray) -> np.ndarray:
        running = self.blocks.sums(terms)
        if self.ends is None or self.starts is None:
            return running
        out: np.ndarray = running[self.ends] - running[self.starts]
        return out


def _window_sums(
    origins: np.ndarray,
    terms: np.ndarray,
    window: int | None,
    lag: int = 0,
) -> np.ndarray:
    """The sums of the per-row `terms` over the rows each origin's fit uses: all rows before
    it (`window` None), or the `window` rows before it, read as the difference of two running
    sums. `lag` 1 for lag-one products (row t holds the product of rows t and t - 1, row 0
    zero), whose window starts one row later: its first term pairs the fit's second row with
    its first."""
    return _Windows.of(origins, window, lag).sums(terms)


def _first_full(
    dates: np.ndarray, freq: Frequency, pre: int, lo: int, trend: bool, full: tuple[str, ...]
) -> int:
    """The first origin from `lo` whose history supports the columns `full` (those of the
    whole pre-period): the columns only grow with the history, so a bisection finds it."""
    hi = pre
    while lo < hi:
        mid = (lo + hi) // 2
        if columns_for(dates, mid, freq, trend, True) == full:
            hi = mid
        else:
            lo = mid + 1
    return lo


def _by_columns(
    dates: np.ndarray,
    freq: Frequency,
    origins: np.ndarray,
    trend: bool,
    full: tuple[str, ...],
) -> dict[tuple[str, ...], np.ndarray]:
    """The sorted `origins` grouped by the baseline columns each one's fit uses:
    {columns: boolean mask over origins}. An origin whose history supports the whole
    pre-period's columns `full` fits them; an earlier one fits the columns its own history
    supports (`its.columns_for`) except the annual terms: a yearly wave fitted on a year or so
    of data is not the one the real model, with its longer history, extrapolates, and its
    wild forecasts would blame the real model for them. The columns only grow with the
    history, so the groups are runs, each found by bisection."""

    def used(o: int) -> tuple[str, ...]:
        names = columns_for(dates, o, freq, trend, True)
        return names if names == full else tuple(c for c in names if not c.startswith("annual"))

    groups: dict[tuple[str, ...], np.ndarray] = {}
    lo, n = 0, len(origins)
    while lo < n:
        names = used(int(origins[lo]))
        hi_lo, hi = lo + 1, n
        while hi_lo < hi:  # the first origin past `lo` with other columns
            mid = (hi_lo + hi) // 2
            if used(int(origins[mid])) == names:
                hi_lo = mid + 1
            else:
                hi = mid
        mask = np.zeros(n, dtype=bool)
        mask[lo:hi_lo] = True
        groups[names] = mask
        lo = hi_lo
    return groups


def _rms(errors: np.ndarray) -> np.ndarray:
    rms: np.ndarray = np.sqrt(np.mean(errors**2, axis=0))
    return rms


def _groups(*keys: np.ndarray) -> dict[tuple[int, ...], np.ndarray]:
    groups: dict[tuple[int, ...], list[int]] = {}
    for j, key in enumerate(zip(*(k.tolist() for k in keys), strict=True)):
        groups.setdefault(key, []).append(j)
    return {key: np.asarray(v) for key, v in groups.items()}


def _origin_errors(
    y: np.ndarray,
    origins: np.ndarray,
    h: int,
    trend: bool,
    x: np.ndarray | None = None,
    *,
    gap: int = 0,
    window: int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """(origins, m) errors, the mean of y over [o + gap, o + gap + h) minus the mean forecast
    of the level (and trend) fitted by OLS on rows [0, o), or of the design `x` when given; and
    the same variance the fit at each origin claims for them, as it would
    have had the pilot gone live there (placebo in time): AR(1) noise with the variance and
    bias-corrected lag-one autocorrelation of that fit's residuals (as `its.fit_segmented`
    estimates them), Var = Var(mean of h noise points) + sigma^2 (1 + rho) / (1 - rho)
    xbar' (X'X)^-1 xbar. Sums of squares and lag-one cross-products come from running sums
    (`_OriginSums`). With a `window`, each origin's fit uses rows [o - window, o) only (see
    `backtest`)."""
    used = len(y)  # every row: the last origin's window ends at or before the last row
    if x is None:
        t = np.arange(used, dtype=float)
        x = np.column_stack([np.ones(used), t]) if trend else np.ones((used, 1))
    return _forecast_errors(_OriginSums.of(x, y, origins, window), h, gap=gap)


@dataclass(frozen=True)
class _OriginSums:
    """What every origin's least-squares fit reads, for `m` series on a design of `k` columns:
    sums over the rows each origin's fit uses (`_window_sums`) of x x' `gram` (o, k, k), x y'
    `xy` (o, k, m), y^2 `yy` (o, m), and the lag-one products y_t y_(t-1) `yy1` (o, m),
    x_t y_(t-1)' `xy1` (o, k, m), x_(t-1) y_t' `x1y` (o, k, m), x_t x_(t-1)' `xx1` (o, k, k)
    over the fit's rows but its first; and running sums of the rows, `x_run` (rows + 1, k) and
    `y_run` (rows + 1, m), for the forecast windows' means."""

    origins: np.ndarray
    window: int | None
    gram: np.ndarray
    xy: np.ndarray
    yy: np.ndarray
    yy1: np.ndarray
    xy1: np.ndarray
    x1y: np.ndarray
    xx1: np.ndarray
    x_run: np.ndarray
    y_run: np.ndarray

    @classmethod
    def of(
        cls, x: np.ndarray, y: np.ndarray, origins: np.ndarray, window: int | None
    ) -> _OriginSums:
        """The sums for design `x` (rows, k; rows past those of `y` are not read) and series
        `y` (rows, m): per-row products summed block by block between origins (a few
        whole-array products, not a matrix product per origin). The design's own sums (x x'
        and x_t x_(t-1)') are read off its running sums, formed once per memoised design
        (`_products`)."""
        y_run = np.zeros((len(y) + 1, y.shape[1]))
        np.cumsum(y, axis=0, out=y_run[1:])
        squares, lag_squares, x_run = _of_design(x, "products", lambda: _products(x))
        x_run = x_run[: len(y) + 1]  # the rows of `y`: a design may run on past them

        fx, fy = x[: origins[-1]], y[: origins[-1]]  # the rows some origin's fit uses
        whole = _Windows.of(origins, window)
        after = whole if window is None else _Windows.of(origins, window, 1)

        def lagged(a: np.ndarray, b: np.ndarray) -> np.ndarray:
            """a_t b_(t-1) for rows t of `a` and `b` (broadcast), row 0 zero, over the rows of
            `fx`, as the lag-one sums read them."""
            shape = np.broadcast_shapes(a.shape[1:], b.shape[1:])
            out = np.empty((len(fx), *shape))
            out[:1] = 0.0
            np.multiply(a[1:], b[:-1], out=out[1:])
            return after.sums(out)

        def design_sums(running: np.ndarray, lag: int) -> np.ndarray:
            """The sums over each origin's rows (the first `lag` of them left out) from the
            running sums of the design's products (row p: the sum over rows before p)."""
            out: np.ndarray = running[origins]
            if window is not None:
                out = out - running[origins - window + lag]
            return out

        return cls(
            origins=origins,
            window=window,
            gram=design_sums(squares, 0),
            xy=whole.sums(fx[:, :, None] * fy[:, None, :]),
            yy=whole.sums(fy * fy),
            yy1=lagged(fy, fy),
            xy1=lagged(fx[:, :, None], fy[:, None, :]),
            x1y=lagged(fy[:, None, :], fx[:, :, None]),
            xx1=design_sums(lag_squares, 1),
            x_run=x_run,
            y_run=y_run,
        )

    def without(self, col: int) -> _OriginSums:
        """The sums of the design without column `col`: the same numbers, each entry being the
        sum of its own products."""
        keep = np.flatnonzero(np.arange(self.gram.shape[1]) != col)

        # in C order, as fresh sums are: the products downstream then take the same path
        def rows(a: np.ndarray) -> np.ndarray:
            return np.ascontiguousarray(a[:, keep])

        def square(a: np.ndarray) -> np.ndarray:
            return np.ascontiguousarray(a[:, keep][:, :, keep])

        return replaced(
            self,
            gram=square(self.gram),
            xy=rows(self.xy),
            xy1=rows(self.xy1),
            x1y=rows(self.x1y),
            xx1=square(self.xx1),
            x_run=rows(self.x_run),
        )


def _products(x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The running sums of the per-row products of a design `x` (n, k) that every backtest of
    it reads, each (n + 1, ...) with row p the sum over the rows before p: of x_t x_t'
    (k, k), of x_t x_(t-1)' (k, k; row 0 has no lag and adds zero) and of the rows (k). A
    prefix of rows has the prefix of these (the running sums accumulate row by row), so one
    origin's sums are one row, and a window's the difference of two."""
    squares = x[:, :, None] * x[:, None, :]
    lagged = np.empty_like(squares)
    lagged[:1] = 0.0
    np.multiply(x[1:, :, None], x[:-1, None, :], out=lagged[1:])
    out = []
    for part in (squares, lagged, x):
        running = np.zeros((len(x) + 1, *part.shape[1:]))
        np.cumsum(part, axis=0, out=running[1:])
        running.flags.writeable = False  # shared by every backtest of the design
        out.append(running)
    return out[0], out[1], out[2]


def _forecast_errors(sums: _OriginSums, h: int, *, gap: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """`_origin_errors` from the fits' sums: each origin's coefficients, its forecast error
    over the window of `h` rows `gap` rows after it, and the variance its fit claims."""
    return _forecast_errors_many([(sums, h, gap)])[0]


def _forecast_errors_many(
    tasks: list[tuple[_OriginSums, int, int]],
) -> list[tuple[np.ndarray, np.ndarray]]:
    """`_forecast_errors` of every (sums, h, gap) in `tasks`, in order: the tasks whose sums
    have the same shape per origin (k columns, m series) stacked along the origins and worked
    out in one pass. Every number is an origin's and a series' own (the same operations on the
    same entries as one task alone), so stacking changes none of them."""
    out: list[tuple[np.ndarray, np.ndarray]] = [(np.empty(0), np.empty(0))] * len(tasks)
    shapes: dict[tuple[int, int], list[int]] = {}
    for i, (sums, _, _) in enumerate(tasks):
        shapes.setdefault(sums.xy.shape[1:], []).append(i)
    for (k, _), members in shapes.items():
        parts = [tasks[i] for i in members]

        def stack(field: str, parts: list[tuple[_OriginSums, int, int]] = parts) -> np.ndarray:
            arrays = [getattr(sums, field) for sums, _, _ in parts]
            return arrays[0] if len(arrays) == 1 else np.concatenate(arrays)

        xbars, ybars, spans, counts = [], [], [], []
        for sums, h, gap in parts:
            start, end = sums.origins + gap, sums.origins + gap + h  # each forecast window
            xbars.append((sums.x_run[end] - sums.x_run[start]) / h)  # (o, k)
            ybars.append((sums.y_run[end] - sums.y_run[start]) / h)  # (o, m)
            spans.append(np.full(len(sums.origins), float(h)))
            window = sums.window
            counts.append(sums.origins if window is None else np.full(len(sums.origins), window))
        xbar, ybar = np.concatenate(xbars), np.concatenate(ybars)
        h_all = np.concatenate(spans)[:, None]
        xy = stack("xy")
        bread = inverse_symmetric(stack("gram"))  # (o, k, k)
        coef = bread @ xy  # (o, k, m)
        errors = ybar - np.einsum("ok,okm->om", xbar, coef)
        rss = np.maximum(stack("yy") - np.einsum("okm,okm->om", coef, xy), 0.0)
        # the quadratic form coef' XX1 coef as a product, then a sum over k: einsum's own loop
        # over three operands takes ten times as long
        cross = (
            stack("yy1")
            - np.einsum("okm,okm->om", coef, stack("xy1"))
            - np.einsum("okm,okm->om", coef, stack("x1y"))
            + np.einsum("okm,okm->om", coef, stack("xx1") @ coef)
        )
        n = np.concatenate(counts)[:, None].astype(float)
        with np.errstate(divide="ignore", invalid="ignore"):
            rho = np.where(rss > 0, cross / rss, 0.0)
        rho = np.clip(unbiased_rho(nan_to_num(rho), n, k), 0.0, RHO_MAX)
        sigma2 = rss / np.maximum(n - k, 1)
        leverage = np.einsum("oj,oj->o", np.einsum("ok,okj->oj", xbar, bread), xbar)[:, None]
        var = ar1_mean_variance(sigma2, rho, h_all) + sigma2 * (1 + rho) / (1 - rho) * leverage
        bounds = np.cumsum([len(sums.origins) for sums, _, _ in parts])[:-1]
        for i, e, v in zip(members, np.split(errors, bounds), np.split(var, bounds), strict=True):
            out[i] = (e, v)
    return out


def combination_weights(level_rmse: np.ndarray, trend_rmse: np.ndarray) -> np.ndarray:
    """The weight of the level-only candidate in the forecast combination, per series:
    inverse mean squared backtest error, w = (1 / mse_level) / (1 / mse_level + 1 / mse_trend)
    (Bates & Granger 1969, "The combination of forecasts"; Timmermann 2006, "Forecast
    combinations", section 7). 0 (the trend model alone) where a backtest is missing; a
    weight within 1% of 0 or 1 is rounded to it, so a clear loser is not fitted at all."""
    with np.errstate(divide="ignore", invalid="ignore"):
        w = trend_rmse**2 / (trend_rmse**2 + level_rmse**2)
    w = np.where(np.isfinite(w), w, 0.0)
    return np.where(w < 0.01, 0.0, np.where(w > 0.99, 1.0, w))


def calibrated_se(
    se: np.ndarray,
    test: Backtest,
    df: np.ndarray | int | None = None,
    prior: np.ndarray | float = PRIOR_WEIGHT,
) -> tuple[np.ndarray, np.ndarray]:
    """The effect's standard error widened by what the backtests found, and the degrees of
    freedom of its t reference. Each backtest error is read in units of the standard error its
    own fit claimed (`Backtest.z2`, 1 for an honest model), so a trend extrapolated from a
    short history is not blamed for being shorter. The squared ratio is pooled with the
    model's own claim: the model counts as `prior` windows at ratio 1 (PRIOR_WEIGHT, or
    `guarded_prior`) and the backtests as the number of non-overlapping windows they span (a
    scaled inverse chi-square posterior with the model as its prior; Gelman et al., "Bayesian
    Data Analysis", 3rd ed., section 3.3), whose predictive reference is Student's t with
    prior + windows degrees of freedom. Where the ratio exceeds 1 the standard error is
    widened by its square root and that t is the reference (NaN elsewhere: the model's own).
    Never narrower than the model's; the model's alone where the backtests span fewer than
    MIN_BLOCKS windows (one window's error is one draw: it cannot tell the model's noise from
    its misfit).

    A ratio below 1 says the backtests missed by less than the model claimed, but a few
    windows leave that ratio uncertain, and the model's own reference (`df`, one per series
    or one for all) would then be narrower than the predictive one the same backtests give a
    ratio just above 1. With `df`, the interval is instead the wider of the two: the model's
    own, and the predictive interval sqrt(ratio) x t(prior + windows); the standard
    error is scaled to that half-width on the model's reference, so the interval moves
    continuously through a ratio of 1."""
    se = np.asarray(se, dtype=float)
    z2 = test.z2 if test.z2 is not None else np.full_like(se, np.nan)
    own = None if df is None else np.broadcast_to(np.asarray(df), se.shape)
    priors = np.broadcast_to(np.asarray(prior, dtype=float), se.shape)
    wide, posterior = np.empty_like(se), np.empty_like(se)
    for i in range(len(se)):
        wide[i], posterior[i] = calibrated_one(
            float(se[i]),
            float(test.blocks[i]),
            float(z2[i]),
            None if own is None else int(own[i]),
            float(priors[i]),
        )
    return wide, posterior


def calibrated_one(
    se: float, blocks: float, z2: float, df: int | None, prior: float = PRIOR_WEIGHT
) -> tuple[float, float]:
    """`calibrated_se` of one estimate, in floats: its standard error `se`, its backtests'
    `blocks` and `z2`, its model's degrees of freedom `df` (None: none) and `prior`. The
    widened standard error and the t reference's degrees of freedom (NaN: the model's own).
    Every estimate is calibrated alone, so this is what the analysis calls: the same float
    operations in the same order as numpy's on one-element arrays, without their cost."""
    ratio = (prior + blocks * z2) / (prior + blocks)
    tested = math.isfinite(ratio) and blocks >= MIN_BLOCKS
    widened = tested and ratio > 1.0
    windows = prior + blocks
    posterior_df = float(math.floor(windows)) if math.isfinite(windows) else windows
    factor = math.sqrt(ratio) if widened else 1.0
    if df is not None and tested and not widened:
        predictive = math.sqrt(ratio) * critical_t(int(posterior_df))
        factor = max(1.0, predictive / critical_t(int(df)))
    return se * factor, posterior_df if widened else math.nan


def guarded_prior(freq: Frequency, method: str, df: int) -> float:
    """The weight of a model's own claim in `calibrated_se`, in backtest windows: its residual
    degrees of freedom `df` where a second model guards its significant changes (an
    interrupted time series of a GUARDED frequency, `analytics.structural`), else
    PRIOR_WEIGHT. Alone, the backtests' few windows (2 to 4 on a weekly or monthly pilot)
    must carry the interval, and a t on 3 degrees of freedom costs an honest model 60% of its
    width; guarded, the model's claim weighs as the data behind it, and a model the backtests
    show wrong is still widened, by less where its own evidence is larger."""
    return float(max(df, 1)) if method == "its" and freq in GUARDED else PRIOR_WEIGHT


@dataclass(frozen=True)
class Breaks:
    """The most likely level break in each series' pre-period: `row` (m,) the first row of the
    last regime (-1 where none passes), `t` (m,) its t statistic, `size` (m,) the shift."""

    row: np.ndarray
    t: np.ndarray
    size: np.ndarray


def scan_breaks(x: np.ndarray, y: np.ndarray, n_pre: np.ndarray, freq: Frequency) -> Breaks:
    """One level break per series, searched over the pre-period (the first `n_pre[j]` rows of
    `y` (n, m)) with the baseline columns `x` (n, k: level, trend, season) held in the model.

    For a step s_tau (1 from row tau to the end of the pre-period) the least-squares break
    date maximises (r's)^2 / s'(I - H)s, r the pre-period residuals of y on x and H the hat
    matrix of x: r's is a reverse running sum of r, and s'Hs reads s'x off running sums of x,
    so every date is tried at the cost of one pass (Bai 1997). The step's t statistic uses the
    larger of the AR(1) (Kendall-corrected lag-one autocorrelation) and the Bartlett long-run
    variance of the residuals with the step in the model, and must exceed BREAK_T (Andrews
    1993, 1%); the shift must exceed BREAK_SIZE_SD residual standard deviations. Dates are
    searched from BREAK_TRIM of the pre-period to the end; a break is kept only where the last
    regime still holds RECENT_SHARE of it (a later one is a bad spell before go-live, for the
    spell check)."""
    m = y.shape[1]
    row = np.full(m, -1)
    t_out = np.zeros(m)
    size = np.zeros(m)
    for (pre,), members in _groups(np.asarray(n_pre)).items():
        lo = max(int(np.ceil(BREAK_TRIM * pre)), 2)
        hi = pre - max(int(np.ceil(RECENT_SHARE * pre)), MIN_PRE[freq])
        if hi <= lo:
            continue
        fit = _PreFit.of(x, y[:, members], pre)
        taus = np.arange(lo, pre - 1)  # every date, so a spell at the end is seen as one
        denom = fit.step_denom(taus)
        denom = np.where(denom > 1e-9, denom, np.nan)
        score = fit.tail_r[taus] ** 2 / denom[:, None]
        tau = taus[np.nanargmax(np.where(np.isfinite(score), score, -1.0), axis=0)]
        coef, denom_tau, clean = fit.with_step(tau)
        sigma2, ar1 = _ar1_long_run(clean, pre, fit.k)
        # the larger of the AR(1) and the Bartlett (Newey-West) long-run variance: a series that
        # wanders more slowly than one autocorrelation says must not see breaks in its wander
        width = long_run_lags(pre) + 1
        bartlett = bartlett_meat(clean, np.ones((pre, 1)), width)[:, 0, 0] / pre
        long_run = np.maximum(ar1, bartlett)
        with np.errstate(divide="ignore", invalid="ignore"):
            t = nan_to_num(coef / np.sqrt(long_run / denom_tau))
        found = (
            (tau <= hi) & (np.abs(t) > BREAK_T) & (np.abs(coef) > BREAK_SIZE_SD * np.sqrt(sigma2))
        )
        row[members] = np.where(found, tau, -1)
        t_out[members] = t
        size[members] = coef
    return Breaks(row=row, t=t_out, size=size)


def spell_t(x: np.ndarray, y: np.ndarray, n_pre: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """The t statistic of a dummy on the last k pre-period points, for every k in `lengths`
    (n_pre, k) and every column of `y` (n, m), with the baseline columns `x` in the model:
    (m, len(lengths)), 0 where a length does not fit. By Frisch-Waugh-Lovell the dummy's
    coefficient is r's / s'(I - H)s with r the pre-period residuals on x, so every length costs
    one pass, as in `scan_breaks`; its variance uses the AR(1) long-run variance of the
    residuals with the dummy in the model (Kendall-corrected lag-one autocorrelation). A
    screen for the spell fit (`estimate.search_spikes`), which decides.

    Every length at once: with u = (I - H)s the dummy's residual-maker image, the residuals
    with the dummy in the model are r - c u, and their sum of squares and lag-one sum are
    read off running sums of r and of the rows of x (r'u = r's, u'u = s'(I - H)s, and the
    lag-one products of u and r reduce to tail sums and the lag-one cross-products x_t r_(t-1),
    x_(t-1) r_t and x_t x_(t-1)'); the same numbers as fitting each length's dummy in turn
    (`tests/analytics/test_counterfactual.py` holds it to that)."""
    m = y.shape[1]
    out = np.zeros((m, lengths.shape[1]))
    for (pre,), members in _groups(np.asarray(n_pre)).items():
        fit = _PreFit.of(x, y[:, members], pre)
        ks = np.asarray(lengths[members[0]], dtype=int)
        cols = np.flatnonzero((ks >= 2) & (ks < pre - fit.k))
        if not len(cols):
            continue
        tau = pre - ks[cols]  # (L,) each dummy's first row
        denom = fit.step_denom(tau)  # (L,) u'u
        keep = denom > 1e-9
        cols, tau, denom = cols[keep], tau[keep], denom[keep]
        if not len(cols):
            continue
        r, xp = fit.resid, fit.xp  # (pre, m), (pre, k)
        g = (fit.bread @ fit.tail_x[tau].T).T  # (L, k): H s = x g
        tail_r = np.vstack([fit.tail_r, np.zeros((1, r.shape[1]))])  # row pre: empty sum
        tail_x = np.vstack([fit.tail_x, np.zeros((1, xp.shape[1]))])
        rs = fit.tail_r[tau]  # (L, m) r's = r'u
        coef = rs / denom[:, None]
        ss = np.einsum("tm,tm->m", r, r)[None, :] - coef * rs
        # lag-one sums over t = 1..pre-1
        rr1 = np.einsum("tm,tm->m", r[1:], r[:-1])  # (m,)
        r_x1 = r[1:].T @ xp[:-1]  # (m, k): sum r_t x_(t-1)
        x_r1 = r[:-1].T @ xp[1:]  # (m, k): sum x_t r_(t-1)
        xx1 = xp[1:].T @ xp[:-1]  # (k, k): sum x_t x_(t-1)'
        # sum r_t u_(t-1) = sum_(t-1 >= tau) r_t - (sum r_t x_(t-1)) g
        r_u1 = tail_r[tau + 1] - g @ r_x1.T  # (L, m)
        # sum u_t r_(t-1) = sum_(t >= tau) r_(t-1) - (sum x_t r_(t-1)) g
        u_r1 = (tail_r[tau - 1] - r[pre - 1][None, :]) - g @ x_r1.T
        # sum u_t u_(t-1) = #(t - 1 >= tau) - g' sum x_t s_(t-1) - g' sum x_(t-1) s_t + g'XX1 g
        x_s1 = tail_x[tau + 1]  # (L, k): sum over t >= tau + 1 of x_t
        x1_s = tail_x[tau - 1] - xp[pre - 1][None, :]  # sum over t >= tau of x_(t-1)
        uu1 = (
            (pre - 1 - tau)
            - np.einsum("lk,lk->l", g, x_s1)
            - np.einsum("lk,lk->l", g, x1_s)
            + np.einsum("lj,lj->l", g @ xx1, g)
        )
        cross = rr1[None, :] - coef * (r_u1 + u_r1) + coef**2 * uu1[:, None]
        with np.errstate(divide="ignore", invalid="ignore"):
            rho = np.where(ss > 0, cross / ss, 0.0)
        rho = np.clip(kendall_rho(rho, pre), 0.0, RHO_MAX)
        sigma2 = ss / max(pre - fit.k - 1, 1)
        long_run = sigma2 * (1 + rho) / (1 - rho)
        with np.errstate(divide="ignore", invalid="ignore"):
            t = nan_to_num(coef / np.sqrt(long_run / denom[:, None]))
        out[np.ix_(members, cols)] = t.T
    return out


class SpellSizes(NamedTuple):
    """`spell_sizes` for m series and L dummy lengths: the dummy's coefficient `coef` (m, L), a
    lower bound `sd_low` (m, L) on the fit's residual SD, and the smallest and largest
    eigenvalues `eig_low`, `eig_high` (L,) of the pre-period X'X with the dummy."""

    coef: np.ndarray
    sd_low: np.ndarray
    eig_low: np.ndarray
    eig_high: np.ndarray


def spell_sizes(x: np.ndarray, y: np.ndarray, pre: int, lengths: np.ndarray) -> SpellSizes:
    """For a dummy on the last k pre-period points (the first `pre` rows), every k in
    `lengths` (L,), and every column of `y` (n, m), with the baseline columns `x` in the
    model: the dummy's least-squares coefficient (Frisch-Waugh-Lovell, as in `spell_t`: the
    same number as fitting it, up to rounding, where the design is well conditioned) and a
    lower bound on the residual standard deviation of that fit, sqrt(rss / (pre - 1)) (its
    degrees of freedom are at most pre - 1); the coefficient NaN where the dummy is (nearly)
    collinear with `x`. With the extreme eigenvalues of each design's X'X, so that a caller
    can tell a well-conditioned fit. What `estimate.search_spikes` reads to skip the fits
    whose spell cannot be large enough."""
    fit = _PreFit.of(x, y, pre)
    tau = pre - np.asarray(lengths, dtype=int)  # each dummy's first row
    denom = fit.step_denom(tau)  # (L,) u'u
    rs = fit.tail_r[tau]  # (L, m) r'u
    with np.errstate(divide="ignore", invalid="ignore"):
        coef = np.where(denom[:, None] > 1e-9, rs / denom[:, None], np.nan)
    rss = np.einsum("tm,tm->m", fit.resid, fit.resid)[None, :] - coef * rs
    sd_low = np.sqrt(np.maximum(nan_to_num(rss), 0.0) / max(pre - 1, 1))
    # X'X with the dummy: [[X'X, X's], [s'X, k]], s'X the sum of the rows the dummy covers
    k = fit.k
    gram = np.zeros((len(tau), k + 1, k + 1))
    gram[:, :k, :k] = fit.xp.T @ fit.xp
    gram[:, :k, k] = gram[:, k, :k] = fit.tail_x[tau]
    gram[:, k, k] = pre - tau
    eig = np.linalg.eigvalsh(gram)
    return SpellSizes(coef.T, sd_low.T, eig[:, 0], eig[:, -1])


# what depends on a design matrix alone, per read-only design (`its.design_matrix` memoises
# them by date axis; a read-only array is one nobody changes) and per key: the break scan, the
# spell screen and the spell sizes of one batch fit the same baseline on the same pre-periods,
# and every backtest of an axis multiplies the same rows. Kept for as long as the design lives.
_BY_DESIGN: dict[int, tuple[weakref.ref[np.ndarray], OrderedDict[Hashable, Any]]] = {}
# ... at most this many keys per design, the least recently read dropped first: a batch's
# pre-periods (`portfolio.BATCH` series at most), ~100 kB each for three years of daily rows
PARTS_KEPT = 128
_DESIGN_LOCK = threading.Lock()
_Parts = TypeVar("_Parts")


def _of_design(x: np.ndarray, key: Hashable, compute: Callable[[], _Parts]) -> _Parts:
    """`compute()`, once per read-only design `x` and `key` while `x` lives (and the key is
    among the PARTS_KEPT last read); afresh every time for a writeable `x` (which may
    change)."""
    if x.flags.writeable:
        return compute()
    with _DESIGN_LOCK:  # the app may analyse in several threads
        entry = _BY_DESIGN.get(id(x))
        if entry is None or entry[0]() is not x:
            ident = id(x)
            entry = (weakref.ref(x, lambda _ref: _BY_DESIGN.pop(ident, None)), OrderedDict())
            _BY_DESIGN[ident] = entry
        parts = entry[1]
        if key in parts:
            parts.move_to_end(key)
            found: _Parts = parts[key]
            return found
    computed = compute()
    with _DESIGN_LOCK:
        parts[key] = computed
        if len(parts) > PARTS_KEPT:
            parts.popitem(last=False)
    return computed


_PreParts = tuple[np.ndarray, np.ndarray]  # (X'X)^+ and the reverse running sums of the rows


def _pre_design(x: np.ndarray, pre: int) -> _PreParts:
    """(X'X)^+ over the first `pre` rows of `x` and the reverse running sums of those rows."""
    return _of_design(x, ("pre", pre), lambda: _pre_parts(x, pre))


def _pre_parts(x: np.ndarray, pre: int) -> _PreParts:
    xp = x[:pre]
    bread = pinv_symmetric(xp.T @ xp)
    tail_x = np.cumsum(xp[::-1], axis=0)[::-1]
    bread.flags.writeable = tail_x.flags.writeable = False  # shared by every fit that reads them
    return bread, tail_x


@dataclass(frozen=True)
class _PreFit:
    """Ordinary least squares of series on the baseline columns over their shared pre-period,
    with the running sums a level step's Frisch-Waugh-Lovell fit reads: for a step s_tau (1
    from row tau to the end of the pre-period) the coefficient is r's / s'(I - H)s, with r's a
    reverse running sum of the residuals and s'Hs read off a reverse running sum of the rows."""

    xp: np.ndarray  # (pre, k) baseline rows
    bread: np.ndarray  # (k, k) (X'X)^+
    resid: np.ndarray  # (pre, m)
    tail_r: np.ndarray  # (pre, m) sum of the residuals over rows >= tau
    tail_x: np.ndarray  # (pre, k) sum of the rows over rows >= tau

    @classmethod
    def of(cls, x: np.ndarray, y: np.ndarray, pre: int) -> _PreFit:
        xp, yp = x[:pre], y[:pre]
        bread, tail_x = _pre_design(x, pre)
        resid = yp - xp @ (bread @ (xp.T @ yp))
        tail_r = np.cumsum(resid[::-1], axis=0)[::-1]
        return cls(xp, bread, resid, tail_r, tail_x)

    @property
    def k(self) -> int:
        return int(self.xp.shape[1])

    def step_denom(self, tau: np.ndarray) -> np.ndarray:
        """s'(I - H)s for a step starting at each row of `tau`."""
        sx = self.tail_x[tau]
        # sx' B sx as a product, then a sum: einsum's loop over three operands is ten times
        # slower (the break scan reads every date of the pre-period)
        denom: np.ndarray = (len(self.xp) - tau) - np.einsum("tj,tj->t", sx @ self.bread, sx)
        return denom

    def with_step(self, tau: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """A step starting at row `tau[j]` for series j: its coefficient (m,), s'(I - H)s (m,),
        and the residuals with the step in the model, r - c (I - H) s (pre, m)."""
        denom = self.step_denom(tau)
        with np.errstate(divide="ignore", invalid="ignore"):
            coef = self.tail_r[tau, np.arange(len(tau))] / denom
        steps = (np.arange(len(self.xp))[:, None] >= tau[None, :]).astype(float)
        steps_resid = steps - self.xp @ (self.bread @ (self.xp.T @ steps))
        return coef, denom, self.resid - steps_resid * coef[None, :]


def _ar1_long_run(clean: np.ndarray, pre: int, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The residual variance of a fit with `k` columns and a step, and its AR(1) long-run
    variance sigma^2 (1 + rho) / (1 - rho) with Kendall's (1 + 3 rho) / n correction of the
    lag-one autocorrelation (clipped to [0, 0.97])."""
    ss = np.einsum("tm,tm->m", clean, clean)
    with np.errstate(divide="ignore", invalid="ignore"):
        rho = np.where(ss > 0, np.einsum("tm,tm->m", clean[1:], clean[:-1]) / ss, 0.0)
    rho = np.clip(kendall_rho(rho, pre), 0.0, RHO_MAX)
    sigma2 = ss / max(pre - k - 1, 1)
    return sigma2, sigma2 * (1 + rho) / (1 - rho)
