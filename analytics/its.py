"""Interrupted time series: segmented regression of a series on its pre-period level, trend and
seasonality, with the post window split into up to three segments (early, middle, late).

The counterfactual is the fitted level + trend + season with the post-segment terms switched off;
the effect is the average gap between the observed series and that counterfactual over the post
window, with a Newey-West (HAC) interval (Wagner et al. 2002, "Segmented regression analysis of
interrupted time series studies"; Newey & West 1987). Every series sharing dates and go-live is
fitted in one batched solve (`analytics.hac.ols_hac`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from analytics.frequency import as_days, day_of_week, time_index, year_fraction
from analytics.hac import equivalent_df, long_run_lags, ols_hac
from analytics.results import Frequency

MIN_PRE: dict[Frequency, int] = {"D": 21, "W": 8, "M": 6, "Y": 3}
MIN_POST: dict[Frequency, int] = {"D": 7, "W": 4, "M": 3, "Y": 2}
SEGMENTS_FROM = 9  # post points needed to split the post window into early / middle / late


@dataclass(frozen=True)
class Design:
    """A segmented-regression design over `n` dates; column roles are kept by index."""

    x: np.ndarray
    names: tuple[str, ...]
    post: np.ndarray  # bool (n,): on or after go-live
    t: np.ndarray  # time in periods, 0 at go-live
    post_cols: tuple[int, ...]
    segment_weights: np.ndarray  # share of the post window in each segment
    trend_col: int | None
    seasonal_cols: tuple[int, ...]
    spike_col: int | None


@dataclass(frozen=True)
class SegmentedFit:
    """Segmented-regression results for `m` series (arrays of length m unless noted)."""

    effect_abs: np.ndarray
    se_abs: np.ndarray
    df_resid: int  # degrees of freedom of the t reference (see hac.equivalent_df)
    baseline: np.ndarray  # counterfactual mean over the post window
    segment_effect: np.ndarray  # (m, segments)
    segment_se: np.ndarray  # (m, segments)
    counterfactual: np.ndarray  # (n, m)
    cf_se: np.ndarray  # (n, m) standard error of the counterfactual mean
    trend_contribution: np.ndarray  # how much of the naive pre/post change the trend explains
    trend_t: np.ndarray
    seasonal_contribution: np.ndarray  # how much of the naive pre/post change the season explains
    spike_coef: np.ndarray
    spike_t: np.ndarray
    resid_sd: np.ndarray
    rho: np.ndarray  # lag-one autocorrelation of the pre-period residuals (bias-corrected)


def build_design(
    dates: pd.DatetimeIndex,
    go_live: pd.Timestamp,
    freq: Frequency,
    *,
    trend: bool = True,
    seasonal: bool = True,
    spike: int = 0,
    segments: int | None = None,
) -> Design:
    """Columns: intercept, trend (periods from go-live), day-of-week dummies (daily data with four
    weeks of pre-period), two annual Fourier pairs (a year or more of pre-period), an optional
    dummy on the last `spike` pre-period points, and one level dummy per post segment."""
    dates = np.asarray(dates, dtype="datetime64[ns]")
    post = dates >= np.datetime64(go_live, "ns")
    n_pre, n_post = int((~post).sum()), int(post.sum())
    origin = pd.Timestamp(dates[post][0]) if n_post else go_live
    t = time_index(dates, freq, origin)
    cols: list[np.ndarray] = [np.ones(len(dates))]
    names = ["intercept"]
    trend_col = None
    if trend:
        trend_col = len(cols)
        cols.append(t)
        names.append("trend")
    seasonal_cols: list[int] = []
    if seasonal and freq == "D" and n_pre >= 28:
        dow = day_of_week(dates)
        for day in range(1, 7):
            column = (dow == day).astype(float)
            if column[~post].sum() >= 2:
                seasonal_cols.append(len(cols))
                cols.append(column)
                names.append(f"dow_{day}")
    pre_days = as_days(dates[~post])
    pre_span_days = int(pre_days.max() - pre_days.min()) if n_pre else 0
    if seasonal and freq != "Y" and pre_span_days >= 364 and n_pre >= 12:
        phase = 2 * np.pi * year_fraction(dates)
        harmonics = 2 if n_pre >= 20 else 1
        for h in range(1, harmonics + 1):
            for fn, label in ((np.sin, "sin"), (np.cos, "cos")):
                seasonal_cols.append(len(cols))
                cols.append(fn(h * phase))
                names.append(f"annual_{label}{h}")
    n_seg = segments if segments is not None else (3 if n_post >= SEGMENTS_FROM else 1)
    n_seg = max(1, min(n_seg, n_post)) if n_post else 0
    post_cols: list[int] = []
    weights: list[float] = []
    for part in np.array_split(np.flatnonzero(post), n_seg) if n_seg else []:
        column = np.zeros(len(dates))
        column[part] = 1.0
        post_cols.append(len(cols))
        cols.append(column)
        names.append(f"post_{len(post_cols)}")
        weights.append(len(part) / n_post)
    design = Design(
        x=np.column_stack(cols),
        names=tuple(names),
        post=post,
        t=t,
        post_cols=tuple(post_cols),
        segment_weights=np.asarray(weights),
        trend_col=trend_col,
        seasonal_cols=tuple(seasonal_cols),
        spike_col=None,
    )
    return add_spike(design, spike)


def add_spike(design: Design, k: int) -> Design:
    """The same design with a dummy on the last `k` pre-period points, inserted before the
    post-segment columns (numpy only: cheap to call for several spell lengths)."""
    pre_rows = np.flatnonzero(~design.post)
    if k <= 0 or len(pre_rows) <= k:
        return design
    column = np.zeros(len(design.post))
    column[pre_rows[-k:]] = 1.0
    at = min(design.post_cols) if design.post_cols else design.x.shape[1]
    x = np.insert(design.x, at, column, axis=1)
    names = (*design.names[:at], "pre_spike", *design.names[at:])
    return Design(
        x=x,
        names=names,
        post=design.post,
        t=design.t,
        post_cols=tuple(c + 1 for c in design.post_cols),
        segment_weights=design.segment_weights,
        trend_col=design.trend_col,
        seasonal_cols=design.seasonal_cols,
        spike_col=at,
    )


def ar1_mean_variance(sigma2: np.ndarray, rho: np.ndarray, n: int) -> np.ndarray:
    """Variance of the mean of `n` consecutive AR(1) points with marginal variance `sigma2`
    and lag-one autocorrelation `rho`:
    sigma2/n * [(1+rho)/(1-rho) - 2 rho (1-rho^n) / (n (1-rho)^2)]."""
    if n <= 0:
        return np.full_like(sigma2, np.nan)
    factor = (1 + rho) / (1 - rho) - 2 * rho * (1 - rho**n) / (n * (1 - rho) ** 2)
    return sigma2 / n * np.maximum(factor, 1.0 / n)


def ar1_sandwich(x: np.ndarray, sigma2: np.ndarray, rho: np.ndarray) -> np.ndarray:
    """OLS coefficient covariance under AR(1) noise, per series:
    (X'X)^-1 X' Sigma X (X'X)^-1 with Sigma_ts = sigma2 rho^|t-s|. Sigma X is built with one
    forward and one backward recursive filter per series (O(n k)), never the n x n matrix."""
    from scipy import signal

    bread = np.linalg.pinv(x.T @ x)
    out = np.empty((len(rho), x.shape[1], x.shape[1]))
    for j, r in enumerate(rho):
        forward = signal.lfilter([1.0], [1.0, -r], x, axis=0)
        backward = signal.lfilter([1.0], [1.0, -r], x[::-1], axis=0)[::-1]
        meat = x.T @ (forward + backward - x) * sigma2[j]
        out[j] = bread @ meat @ bread
    return out


def fit_segmented(design: Design, y: np.ndarray, maxlags: int | None = None) -> SegmentedFit:
    """Fit the counterfactual model on the pre-period of every column of `y` (n, m), project it
    over the post window and read off the effect as the mean gap observed - counterfactual.

    Var(effect) = xbar' V xbar + Var(mean of the post noise). V is the covariance of the
    pre-period coefficients: the larger of HAC (Bartlett, `long_run_lags` lags) and an AR(1)
    sandwich; xbar is the mean post-window design row. The post noise is AR(1) with the
    pre-period residuals' variance and lag-one autocorrelation (Kendall bias-corrected, clipped
    to [0, 0.97]). The same for each post segment. Fitting the pre-period alone keeps the post
    window out of the counterfactual; a HAC variance of post-period level dummies would shrink
    towards zero, since in-sample residuals under a dummy sum to zero.
    """
    y = np.asarray(y, dtype=float)
    if y.ndim == 1:
        y = y[:, None]
    post, pre = design.post, ~design.post
    base_cols = [c for c in range(design.x.shape[1]) if c not in design.post_cols]
    x_base = design.x[:, base_cols]
    n_pre = int(pre.sum())
    lags = long_run_lags(n_pre) if maxlags is None else maxlags
    fit = ols_hac(x_base[pre], y[pre], lags)
    m = y.shape[1]
    col = {c: i for i, c in enumerate(base_cols)}
    cf = x_base @ fit.coef
    resid = fit.resid
    dof = max(fit.df_resid, 1)
    sigma2 = (resid**2).sum(axis=0) / dof
    denom = (resid**2).sum(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        rho = np.where(denom > 0, (resid[1:] * resid[:-1]).sum(axis=0) / denom, 0.0)
    # Kendall's (1954) small-sample bias correction of the lag-one autocorrelation
    rho = np.nan_to_num(rho) + (1 + 3 * np.nan_to_num(rho)) / max(n_pre, 1)
    rho = np.clip(rho, 0.0, 0.97)
    # The larger of the HAC and the AR(1) sandwich covariance of the baseline coefficients:
    # HAC with a moderate bandwidth understates the variance of slow regressors (trend, annual
    # terms) under persistent noise; the parametric AR(1) sandwich does not.
    ar1_cov = ar1_sandwich(x_base[pre], sigma2, rho)
    coef_cov = np.where(
        np.einsum("mkk->m", ar1_cov)[:, None, None] > np.einsum("mkk->m", fit.cov)[:, None, None],
        ar1_cov,
        fit.cov,
    )
    cf_var = np.einsum("nk,mkj,nj->nm", x_base, coef_cov, x_base)
    gap = y - cf
    parts = [np.flatnonzero(design.x[:, c]) for c in design.post_cols]
    seg_effect = np.zeros((m, len(parts)))
    seg_se = np.zeros((m, len(parts)))
    for s, rows in enumerate(parts):
        xbar = x_base[rows].mean(axis=0)
        seg_effect[:, s] = gap[rows].mean(axis=0)
        var = np.einsum("k,mkj,j->m", xbar, coef_cov, xbar) + ar1_mean_variance(
            sigma2, rho, len(rows)
        )
        seg_se[:, s] = np.sqrt(np.clip(var, 0, None))
    n_post = int(post.sum())
    if n_post:
        xbar = x_base[post].mean(axis=0)
        effect = gap[post].mean(axis=0)
        var = np.einsum("k,mkj,j->m", xbar, coef_cov, xbar) + ar1_mean_variance(sigma2, rho, n_post)
        baseline = cf[post].mean(axis=0)
    else:
        effect = var = baseline = np.full(m, np.nan)
    if design.trend_col is not None and n_post:
        shift = design.t[post].mean() - design.t[pre].mean()
        slope = fit.coef[col[design.trend_col]]
        trend_contribution = slope * shift
        k = col[design.trend_col]
        trend_t = _ratio(slope, np.sqrt(np.clip(coef_cov[:, k, k], 0, None)))
    else:
        trend_contribution = np.zeros(m)
        trend_t = np.zeros(m)
    if design.seasonal_cols and n_post:
        idx = [col[c] for c in design.seasonal_cols]
        season = x_base[:, idx] @ fit.coef[idx]
        seasonal_contribution = season[post].mean(axis=0) - season[pre].mean(axis=0)
    else:
        seasonal_contribution = np.zeros(m)
    if design.spike_col is not None:
        k = col[design.spike_col]
        spike_coef = fit.coef[k]
        width = int(design.x[:, design.spike_col].sum())
        spike_var = np.maximum(coef_cov[:, k, k], ar1_mean_variance(sigma2, rho, width))
        spike_t = _ratio(spike_coef, np.sqrt(np.clip(spike_var, 0, None)))
    else:
        spike_coef = np.zeros(m)
        spike_t = np.zeros(m)
    return SegmentedFit(
        effect_abs=effect,
        se_abs=np.sqrt(np.clip(var, 0, None)),
        df_resid=equivalent_df(n_pre, lags, fit.df_resid),
        baseline=baseline,
        segment_effect=seg_effect,
        segment_se=seg_se,
        counterfactual=cf,
        cf_se=np.sqrt(np.clip(cf_var, 0, None)),
        trend_contribution=trend_contribution,
        trend_t=trend_t,
        seasonal_contribution=seasonal_contribution,
        spike_coef=spike_coef,
        spike_t=spike_t,
        resid_sd=np.sqrt(sigma2),
        rho=rho,
    )


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where(den > 0, num / np.where(den > 0, den, 1.0), 0.0)
    return out
