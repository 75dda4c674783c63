"""Segmented metrics: the volume-weighted aggregate, the fixed-mix (standardised) series, the
Kitagawa (1955) split of a change in the aggregate into a rate part and a composition part, and
the rate part's standard error."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from analytics.estimate import power_of_two_scale
from analytics.hac import bartlett_meat_mnk, equivalent_df, long_run_lags
from analytics.its import RHO_MAX, ar1_mean_variance, kendall_rho


@dataclass(frozen=True)
class MixSeries:
    """A segmented metric by date: `aggregate` is the volume-weighted mean over segments,
    `standardised` the same rates weighted by the pre-period mix (NaN where a segment is missing).
    `rates` and `volumes` are date x segment tables."""

    aggregate: pd.Series
    standardised: pd.Series
    rates: pd.DataFrame
    volumes: pd.DataFrame


@dataclass(frozen=True)
class Kitagawa:
    """Aggregate change = rate effect + composition effect (metric unit). `rate_se` is the rate
    part's standard error and `rate_df` its degrees of freedom (`rate_part_se`; None where the
    segment rates' noise cannot be measured)."""

    total: float
    rate: float
    composition: float
    rate_se: float | None = None
    rate_df: int | None = None


def kitagawa(
    rate_pre: np.ndarray, share_pre: np.ndarray, rate_post: np.ndarray, share_post: np.ndarray
) -> Kitagawa:
    """Kitagawa's two-factor decomposition of the difference of two weighted means:
    rate = sum (r1 - r0)(s0 + s1)/2, composition = sum (s1 - s0)(r0 + r1)/2; they add up exactly
    to sum s1 r1 - sum s0 r0."""
    r0, s0, r1, s1 = (
        np.asarray(v, dtype=float) for v in (rate_pre, share_pre, rate_post, share_post)
    )
    rate = float(((r1 - r0) * (s0 + s1) / 2).sum())
    composition = float(((s1 - s0) * (r0 + r1) / 2).sum())
    return Kitagawa(
        total=float((s1 * r1).sum() - (s0 * r0).sum()), rate=rate, composition=composition
    )


def mix_series(rows: pd.DataFrame, go_live: pd.Timestamp) -> MixSeries:
    """Build the series from long rows with `date, segment, value, volume` (volume NaN -> 1)."""
    frame = rows.assign(volume=rows["volume"].fillna(1.0).clip(lower=0.0))
    frame = frame.assign(weighted=frame["value"] * frame["volume"])
    grouped = frame.groupby(["date", "segment"], sort=True)[["weighted", "volume"]].sum()
    volumes = grouped["volume"].unstack("segment")
    with np.errstate(divide="ignore", invalid="ignore"):
        rates = (grouped["weighted"] / grouped["volume"]).unstack("segment")
    total = volumes.sum(axis=1)
    aggregate = (rates * volumes).sum(axis=1) / total.where(total > 0)
    pre = volumes.index < go_live
    pre_volume = volumes[pre].sum(axis=0)
    shares = pre_volume / pre_volume.sum() if pre_volume.sum() > 0 else pre_volume * np.nan
    standardised = (rates * shares).sum(axis=1, min_count=1).where(rates.notna().all(axis=1))
    return MixSeries(aggregate=aggregate, standardised=standardised, rates=rates, volumes=volumes)


def decompose(mix: MixSeries, go_live: pd.Timestamp) -> Kitagawa | None:
    """Kitagawa decomposition of the aggregate's pre/post change (None without both periods),
    with the rate part's standard error (`rate_part_se`)."""
    pre = np.asarray(mix.volumes.index < go_live)
    if pre.all() or not pre.any():
        return None
    parts = []
    for mask in (pre, ~pre):
        vol = mix.volumes[mask].sum(axis=0)
        weighted = (mix.rates[mask] * mix.volumes[mask]).sum(axis=0)
        with np.errstate(divide="ignore", invalid="ignore"):
            rate = (weighted / vol).fillna(0.0)
        share = vol / vol.sum() if vol.sum() > 0 else vol * 0.0
        parts.append((rate.to_numpy(), share.to_numpy()))
    (r0, s0), (r1, s1) = parts
    split = kitagawa(r0, s0, r1, s1)
    se = rate_part_se(mix, pre, (s0 + s1) / 2)
    if se is None:
        return split
    return Kitagawa(split.total, split.rate, split.composition, se[0], se[1])


def rate_part_se(mix: MixSeries, pre: np.ndarray, weights: np.ndarray) -> tuple[float, int] | None:
    """The standard error (metric unit) and degrees of freedom of Kitagawa's rate part
    sum_k w_k (r1_k - r0_k), w_k = (s0_k + s1_k)/2, from the segment rates' own day-to-day noise;
    None when a period has too few dates to measure it (then there is no interval: never the
    point repeated as one).

    Method: the delta method for a decomposition component with the mix held as observed (Jann
    2008, "The Blinder-Oaxaca decomposition for linear regression models", Stata Journal 8(4),
    sec. 2.2: with fixed weights, Var(w'(r1 - r0)) = w'(V1 + V0)w, the two periods independent).
    Each period's mean rate r_Pk is the volume-weighted mean of segment k's rates over the
    period's dates, so w'r_P is a weighted sum over dates, and w'V_P w is the variance of the sum
    of g_t = sum_k w_k (v_kt / V_Pk)(r_kt - r_Pk): one series that keeps the segments'
    covariance on the same date. Daily rates are autocorrelated, so the variance of that sum is,
    as for the engine's own fits (`analytics.its.fit_segmented`), the larger of the Newey-West
    estimate (Bartlett kernel, `long_run_lags`: Lazarus, Lewis, Stock & Watson 2018) and that of
    a mean of AR(1) noise (lag-one autocorrelation Kendall bias-corrected, clipped to [0, 0.97]),
    with `equivalent_df` degrees of freedom per period, joined by Welch-Satterthwaite. Rates are
    taken as steady within each period, as the decomposition itself takes them (a plain pre/post
    comparison, no counterfactual model): a trend within a period shows up as noise and widens
    the interval. Simulated (two segments, a mix shift, no rate change, 180 + 120 days, 300
    runs), the 95% interval covers the true rate part 95-97% of the time with AR(1) noise up to
    rho = 0.5 and 91% at rho = 0.8 (tests/analytics/test_mix.py holds rho = 0 and 0.5 to it).
    None also for rates without any noise, which give nothing to measure an interval on."""
    segments = mix.rates.shape[1]
    # on rates divided by a power of two near their size: exact, and squares of values near
    # 1e150 do not overflow (`analytics.estimate.power_of_two_scale`)
    size = power_of_two_scale(np.nan_to_num(mix.rates.to_numpy(dtype=float)))
    parts: list[tuple[float, int]] = []  # each period's variance and degrees of freedom
    for mask in (pre, ~pre):
        rates = mix.rates[mask].to_numpy(dtype=float) / size
        volumes = np.nan_to_num(mix.volumes[mask].to_numpy(dtype=float))
        volumes = np.where(np.isfinite(rates), volumes, 0.0)
        total = volumes.sum(axis=0)
        seen = volumes.sum(axis=1) > 0
        n = int(seen.sum())
        if n <= segments + 1:
            return None
        with np.errstate(divide="ignore", invalid="ignore"):
            share = np.where(total > 0, volumes / total, 0.0)
            mean = np.where(total > 0, (share * np.nan_to_num(rates)).sum(axis=0), 0.0)
        deviation = np.where(volumes > 0, np.nan_to_num(rates) - mean, 0.0)
        g = (np.asarray(weights, dtype=float) * share * deviation).sum(axis=1)[seen]
        lags = long_run_lags(n)
        hac = float(bartlett_meat_mnk(g[None, :, None], lags + 1)[0, 0, 0])
        sigma2 = float(g @ g) * n * n / (n - segments)  # of n g_t, whose mean is sum g_t
        rho = float(g[1:] @ g[:-1]) / float(g @ g) if g @ g > 0 else 0.0
        rho = float(np.clip(kendall_rho(rho, n), 0.0, RHO_MAX))
        ar1 = float(ar1_mean_variance(np.array([sigma2]), np.array([rho]), np.array([n]))[0])
        df = int(equivalent_df(np.array([n]), np.array([lags]), np.array([n - segments]))[0])
        parts.append((max(hac, ar1), df))
    variance = sum(v for v, _ in parts)
    if np.sqrt(variance) <= 1e-9:  # rates without noise (near 1 here): nothing to measure
        return None
    # Welch-Satterthwaite: the degrees of freedom of a sum of two independent variance estimates
    joint = variance**2 / sum(v * v / df for v, df in parts)
    return float(np.sqrt(variance)) * size, max(int(joint), 1)
