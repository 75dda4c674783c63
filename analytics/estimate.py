"""One series' counterfactual estimate, whatever the method, and the interrupted-time-series
route that produces it for many series at once.

An `Estimate` holds everything the mirage checks and the verdict need: the effect and its HAC
standard error, the counterfactual path, how much of the naive pre/post change the trend and the
season explain, the end-of-pre-period spike test, a placebo go-live inside the pre-period, and the
naive Welch comparison a pre/post slide would show.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from analytics.its import (
    MIN_PRE,
    Design,
    SegmentedFit,
    add_spike,
    ar1_mean_variance,
    build_design,
    fit_segmented,
)
from analytics.results import Frequency, Method

SPIKE_T = 3.0  # |t| of the end-of-pre-period dummy that counts as an unusual spell
SPIKE_SD = 1.5  # ... and its size in residual standard deviations
SCREEN_T = 1.5  # last-k residuals under the main model worth a spell fit
PLACEBO_AT = 2 / 3  # placebo go-live: two thirds of the way through the pre-period


@dataclass(frozen=True)
class Estimate:
    """The counterfactual estimate for one series (arrays have one entry per date)."""

    method: Method
    frequency: Frequency
    dates: pd.DatetimeIndex
    post: np.ndarray
    observed: np.ndarray
    counterfactual: np.ndarray
    cf_se: np.ndarray
    control: np.ndarray | None
    effect_abs: float
    se_abs: float
    df: int
    baseline: float
    segment_effect: np.ndarray
    segment_se: np.ndarray
    trend_contribution: float
    trend_t: float
    seasonal_contribution: float
    annual_season: bool
    spike_detected: bool
    spike_t: float
    spike_size: float  # the spike in the bad direction, metric unit
    placebo_effect: float | None
    placebo_t: float | None
    naive_diff: float  # post mean minus pre mean of the observed series
    naive_p: float
    control_diff: float | None = None
    control_p: float | None = None
    parallel_p: float | None = None
    weights: dict[str, float] | None = None  # synthetic-control weights by unit

    @property
    def n_pre(self) -> int:
        return int((~self.post).sum())

    @property
    def n_post(self) -> int:
        return int(self.post.sum())


SPIKE_FRACTIONS = (0.05, 0.1, 0.2, 0.3)  # candidate lengths of an unusual end-of-pre spell


def spike_lengths(n_pre: int, n_params: int) -> list[int]:
    """Candidate lengths of the end-of-pre-period dummy (5%, 10%, 20%, 30% of the pre-period,
    at least two points), keeping enough ordinary pre-period points to fit the baseline."""
    lengths = sorted({max(2, round(f * n_pre)) for f in SPIKE_FRACTIONS})
    return [k for k in lengths if n_pre - k >= max(n_params + 4, 2 * k // 3 + 4)]


@dataclass(frozen=True)
class SpikeSearch:
    """The best end-of-pre spell per series: `choice[j]` indexes `designs`/`fits`, or -1."""

    designs: list[Design]
    fits: list[SegmentedFit]
    choice: np.ndarray
    t: np.ndarray
    size: np.ndarray


def search_spikes(
    y: np.ndarray, sign: np.ndarray, main: Design, main_fit: SegmentedFit
) -> SpikeSearch:
    """Fit the model once per candidate spell length, with a dummy on the last k pre-period
    points, and keep for each series the spell with the largest t in the bad direction that
    passes the thresholds (|t| > SPIKE_T and more than SPIKE_SD residual SDs).

    A candidate length is fitted only when some series' last-k residuals under the main model
    already lean the bad way (t > SCREEN_T): a spell that matters always shows there first.
    """
    pre_rows = np.flatnonzero(~main.post)
    resid_pre = y[pre_rows] - main_fit.counterfactual[pre_rows]
    designs, fits = [], []
    m = y.shape[1]
    best_t = np.zeros(m)
    best_size = np.zeros(m)
    choice = np.full(m, -1)
    for k in spike_lengths(len(pre_rows), main.x.shape[1] - len(main.post_cols)):
        window = -sign * resid_pre[-k:].mean(axis=0)
        scale = np.sqrt(ar1_mean_variance(main_fit.resid_sd**2, main_fit.rho, k))
        if not np.any(window > SCREEN_T * scale):
            continue
        design = add_spike(main, k)
        fit = fit_segmented(design, y)
        bad_t = -sign * fit.spike_t
        size = -sign * fit.spike_coef
        ok = (
            (bad_t > SPIKE_T)
            & (size > SPIKE_SD * np.maximum(fit.resid_sd, 1e-12))
            & np.isfinite(bad_t)
            & (bad_t > best_t)
        )
        choice = np.where(ok, len(designs), choice)
        best_t = np.where(ok, bad_t, best_t)
        best_size = np.where(ok, size, best_size)
        designs.append(design)
        fits.append(fit)
    return SpikeSearch(designs, fits, choice, best_t, best_size)


def welch(pre: np.ndarray, post: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Naive pre/post comparison per column: post mean minus pre mean and the Welch p-value.

    scipy.stats.ttest_ind(post, pre, equal_var=False, axis=0).
    """
    diff = post.mean(axis=0) - pre.mean(axis=0)
    n1, n0 = len(post), len(pre)
    if n1 < 2 or n0 < 2:
        return diff, np.ones_like(diff)
    v1, v0 = post.var(axis=0, ddof=1) / n1, pre.var(axis=0, ddof=1) / n0
    se2 = v1 + v0
    with np.errstate(divide="ignore", invalid="ignore"):
        dof = se2**2 / (v1**2 / (n1 - 1) + v0**2 / (n0 - 1))
        t = diff / np.sqrt(se2)
        p = 2 * stats.t.sf(np.abs(t), np.where(np.isfinite(dof), dof, 1.0))
    p = np.where(np.isfinite(p), p, np.where(diff != 0, 0.0, 1.0))
    return diff, p


def estimate_its(
    dates: pd.DatetimeIndex,
    go_live: pd.Timestamp,
    freq: Frequency,
    y: np.ndarray,
    sign: np.ndarray,
) -> list[Estimate]:
    """Interrupted-time-series estimates for every column of `y` (n, m), one batched fit each
    for the main model, the spike-robust model and the placebo model.

    `sign` is +1 where higher is better, -1 where lower is better (decides the "bad" spike).
    """
    y = np.asarray(y, dtype=float)
    main_design = build_design(dates, go_live, freq)
    main = fit_segmented(main_design, y)
    spikes = search_spikes(y, sign, main_design, main)
    placebo = _placebo(dates[~main_design.post], freq, y[~main_design.post])
    naive_diff, naive_p = welch(y[~main_design.post], y[main_design.post])
    out = []
    for j in range(y.shape[1]):
        c = int(spikes.choice[j])
        fit, design = (spikes.fits[c], spikes.designs[c]) if c >= 0 else (main, main_design)
        placebo_j: tuple[float | None, float | None] = (None, None)
        if placebo is not None:
            se = placebo.se_abs[j]
            placebo_j = (
                float(placebo.effect_abs[j]),
                float(placebo.effect_abs[j] / se) if se > 0 else 0.0,
            )
        out.append(
            _estimate(
                "its",
                freq,
                dates,
                design,
                fit,
                j,
                y[:, j],
                None,
                spike=(c >= 0, float(spikes.t[j]), float(spikes.size[j])),
                placebo=placebo_j,
                naive=(float(naive_diff[j]), float(naive_p[j])),
            )
        )
    return out


def _placebo(
    pre_dates: pd.DatetimeIndex, freq: Frequency, y_pre: np.ndarray
) -> SegmentedFit | None:
    """The same model fitted on the pre-period alone, with a fake go-live two thirds in."""
    n = len(pre_dates)
    cut = int(n * PLACEBO_AT)
    if cut < MIN_PRE[freq] or n - cut < 3:
        return None
    design = build_design(pre_dates, pre_dates[cut], freq, segments=1)
    return fit_segmented(design, y_pre)


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
    **extra: object,
) -> Estimate:
    offset = control if control is not None else 0.0
    counterfactual = fit.counterfactual[:, j] + offset
    return Estimate(
        method=method,
        frequency=freq,
        dates=dates,
        post=design.post,
        observed=observed,
        counterfactual=counterfactual,
        cf_se=fit.cf_se[:, j],
        control=control,
        effect_abs=float(fit.effect_abs[j]),
        se_abs=float(fit.se_abs[j]),
        df=int(fit.df_resid),
        baseline=float(counterfactual[design.post].mean()),
        segment_effect=fit.segment_effect[j],
        segment_se=fit.segment_se[j],
        trend_contribution=float(fit.trend_contribution[j]),
        trend_t=float(fit.trend_t[j]),
        seasonal_contribution=float(fit.seasonal_contribution[j]),
        annual_season=any(design.names[c].startswith("annual") for c in design.seasonal_cols),
        spike_detected=spike[0],
        spike_t=spike[1],
        spike_size=spike[2],
        placebo_effect=placebo[0],
        placebo_t=placebo[1],
        naive_diff=naive[0],
        naive_p=naive[1],
        **extra,  # type: ignore[arg-type]
    )
