"""Segmented metrics: the volume-weighted aggregate, the fixed-mix (standardised) series, and the
Kitagawa (1955) split of a change in the aggregate into a rate part and a composition part."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd


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
    """Aggregate change = rate effect + composition effect (metric unit)."""

    total: float
    rate: float
    composition: float


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
    """Kitagawa decomposition of the aggregate's pre/post change (None without both periods)."""
    pre = mix.volumes.index < go_live
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
    return kitagawa(r0, s0, r1, s1)
