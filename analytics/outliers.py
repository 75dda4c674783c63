"""Gross outliers a typo makes: a decimal slip (a value typed 100 times too large or small)
must not decide an estimate.

A point is a slip when it is at least SLIP_RATIO times (or at most 1 / SLIP_RATIO of) the
median of its neighbours and lies more than SLIP_SPREADS robust spreads from it: the two
together are the decimal-slip pattern of bad-data screens (Hampel's identifier, a moving median
and MAD; Pearson 2002, "Outliers in process modeling and identification"), made strict so
that a real surge is never touched. Such a point is set to its neighbours' median and named.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the store reads these rules at ingest, whose start-up imports no numpy/pandas
    import numpy as np
    import pandas as pd

WINDOW = 3  # neighbours on each side
SLIP_RATIO = 8.0  # a tenfold slip, with room for noise
SLIP_SPREADS = 6.0  # robust standard deviations (1.4826 MAD) from the neighbours' median
# a value this many robust standard deviations from its neighbours' median is a gross outlier
# worth a warning at ingest even without the slip ratio (Hampel's identifier uses 3 to clean a
# series; a warning a person reads must be rarer: under Gaussian noise 10 is never reached)
GROSS_SPREADS = 10.0


def decimal_slips(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For series `values` (m, n) on one date axis: the series with each slip replaced by the
    median of its WINDOW neighbours on each side, and the mask (m, n) of replaced points.
    NaN stays NaN and is never a neighbour."""
    import numpy as np

    n = values.shape[1]
    if n < 2 * WINDOW + 1:
        return values, np.zeros_like(values, dtype=bool)
    padded = np.pad(values, ((0, 0), (WINDOW, WINDOW)), constant_values=np.nan)
    windows = np.lib.stride_tricks.sliding_window_view(padded, 2 * WINDOW + 1, axis=1)
    neighbours = np.delete(windows, WINDOW, axis=2)  # (m, n, 2 WINDOW): the point left out
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN windows of gappy series
        local = nanmedian_last(neighbours)
        deviation = values - local
        spread = 1.4826 * nanmedian_last(np.abs(deviation))[:, None]
        ratio = np.abs(values) / np.abs(local)
    slipped = (
        np.isfinite(deviation)
        & (spread > 0)
        & (np.abs(deviation) > SLIP_SPREADS * spread)
        & ((ratio >= SLIP_RATIO) | (ratio <= 1 / SLIP_RATIO))
        & (np.sign(values) == np.sign(local))
    )
    return np.where(slipped, local, values), slipped


def nanmedian_last(a: np.ndarray) -> np.ndarray:
    """`np.nanmedian(a, axis=-1)` (NaN where a row has no number), by one sort along the last
    axis: NaN sorts last, so the median of the k numbers of a row is the mean of its sorted
    entries (k - 1) // 2 and k // 2. numpy's nanmedian falls back to a Python loop over rows
    as soon as any NaN is present (every edge window here has one): this is the same number
    at array speed."""
    import numpy as np

    ordered = np.sort(a, axis=-1)
    k = (~np.isnan(ordered)).sum(axis=-1)
    lo = np.take_along_axis(ordered, np.maximum((k - 1) // 2, 0)[..., None], axis=-1)[..., 0]
    hi = np.take_along_axis(ordered, np.maximum(k // 2, 0)[..., None], axis=-1)[..., 0]
    with np.errstate(invalid="ignore", over="ignore"):
        return np.where(k > 0, (lo + hi) / 2, np.nan)


def outlier_sentence(slips: Sequence[tuple[pd.Timestamp, float, float]]) -> str:
    """The decimal slips set aside (date, value typed, neighbours' median used), named for the
    reader, the first three: "One value, 4032 on 2025-05-12, is 100x its neighbours; it was
    left out (set to their median, 40.3). Check the source." Empty without slips."""
    if not slips:
        return ""

    def named(day: pd.Timestamp, value: float, used: float) -> str:
        ratio = max(abs(value / used), abs(used / value)) if value and used else float("inf")
        return f"{value:.4g} on {day:%Y-%m-%d}, is {ratio:.3g}x its neighbours"

    if len(slips) == 1:
        day, value, used = slips[0]
        return (
            f"One value, {named(day, value, used)}; it was left out (set to their median, "
            f"{used:.4g}). Check the source."
        )
    listed = "; ".join(named(*slip) for slip in slips[:3])
    more = f"; and {len(slips) - 3} more" if len(slips) > 3 else ""
    return (
        f"{len(slips)} values look like typos ({listed}{more}); they were left out (each set to "
        "its neighbours' median). Check the source."
    )
