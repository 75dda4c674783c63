"""Gross outliers must not decide an estimate: a decimal slip (a value typed 100 times too large
or small), or an isolated spike (a system-outage day at five times the usual cycle time).

A point is a slip when it is at least SLIP_RATIO times (or at most 1 / SLIP_RATIO of) the
median of its neighbours and lies more than SLIP_SPREADS robust spreads from it: the two
together are the decimal-slip pattern of bad-data screens (Hampel's identifier, a moving median
and MAD; Pearson 2002, "Outliers in process modeling and identification"). It is an isolated
spike when it is at least SPIKE_RATIO times (or at most 1 / SPIKE_RATIO of) the median of its
neighbours on each side and more than GROSS_SPREADS robust spreads from the six's median, a
distance Gaussian noise never reaches (the ingest warns of the same points). Both are strict so
that a real surge is never touched: a change that lasts moves the neighbours' medians with it,
and a level shift's first point sits between its neighbours' two levels. Such a point is set
to its neighbours' median and named.
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
# ... and set aside as an isolated spike when it is also twice (or half) its neighbours' median
SPIKE_RATIO = 2.0


def decimal_slips(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For series `values` (m, n) on one date axis: the series with each slip or isolated spike
    replaced by the median of its WINDOW neighbours on each side, and the mask (m, n) of
    replaced points.
    NaN stays NaN and is never a neighbour."""
    import numpy as np

    n = values.shape[1]
    if n < 2 * WINDOW + 1:
        return values, np.zeros_like(values, dtype=bool)
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN windows of gappy series
        local = neighbour_median(values)
        deviation = values - local
        spread = 1.4826 * nanmedian_last(np.abs(deviation))[:, None]
        ratio = np.abs(values) / np.abs(local)
    slip = (np.abs(deviation) > SLIP_SPREADS * spread) & (
        (ratio >= SLIP_RATIO) | (ratio <= 1 / SLIP_RATIO)
    )
    # the both-sides test only where a spike is possible at all: far beyond the noise (rare)
    far = np.isfinite(deviation) & (spread > 0) & (np.abs(deviation) > GROSS_SPREADS * spread)
    spike = np.zeros_like(far)
    rows, cols = np.nonzero(far)
    spike[rows, cols] = _apart_from_both_sides(values, rows, cols)
    slipped = (
        np.isfinite(deviation) & (spread > 0) & (slip | spike) & (np.sign(values) == np.sign(local))
    )
    return np.where(slipped, local, values), slipped


def _apart_from_both_sides(values: np.ndarray, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """For the points (`rows`, `cols`) of `values` (m, n): is each at least SPIKE_RATIO times
    (or at most 1 / SPIKE_RATIO of) the median of its WINDOW neighbours before it and, in the
    same direction, of those after it? One side alone is not enough: next to a burst of several
    high days, the six neighbours' median sits between the two levels and an ordinary point
    reads as a dip. False where a side has no finite neighbour (the series' first and last
    WINDOW points)."""
    import numpy as np

    n = values.shape[1]
    point = np.abs(values[rows, cols])
    steps = np.arange(1, WINDOW + 1)

    def side(offsets: np.ndarray) -> np.ndarray:
        where = cols[:, None] + offsets  # (points, WINDOW)
        inside = (where >= 0) & (where < n)
        near = np.where(inside, values[rows[:, None], np.clip(where, 0, n - 1)], np.nan)
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN sides at the ends
            ratio: np.ndarray = point / np.abs(np.nanmedian(near, axis=1))
        return ratio

    low, high = side(-steps), side(steps)
    up = (low >= SPIKE_RATIO) & (high >= SPIKE_RATIO)
    down = (low <= 1 / SPIKE_RATIO) & (high <= 1 / SPIKE_RATIO)
    return np.asarray(up | down)


# a sorting network for six values, 12 comparators (the fewest for six; Knuth, TAOCP vol. 3,
# 5.3.4), checked on every 0-1 input by the 0-1 principle in the tests: the 2 WINDOW neighbours
# of every point sorted at once, one elementwise min and max per pair
# fmt: off
SORT_SIX = ((0, 5), (1, 3), (2, 4), (1, 2), (3, 4), (0, 3), (2, 5), (0, 1), (2, 3), (4, 5),
            (1, 2), (3, 4))
# fmt: on


def neighbour_median(values: np.ndarray) -> np.ndarray:
    """The median of each point's WINDOW neighbours on either side (the point left out; NaN,
    and the padding past either end, are no neighbours; NaN where a point has none): the same
    numbers as `nanmedian_last` over the (m, n, 2 WINDOW) windows. The neighbours are sorted
    by SORT_SIX as six whole (m, n) arrays, NaN as +inf so that it sorts last as in `np.sort`
    (a value's position among the numbers, and so the median, is the same); a point with
    fewer than six numbered neighbours (the ends, gaps) takes its median from them by count.
    A third of the time of one small sort per point (the slip screen of a 900-series bench
    portfolio: ~30 ms where it took ~95 ms)."""
    import numpy as np

    m, n = values.shape
    padded = np.pad(values, ((0, 0), (WINDOW, WINDOW)), constant_values=np.nan)
    if 2 * WINDOW != 6:  # the network sorts six: any other window sorts each point's own
        windows = np.lib.stride_tricks.sliding_window_view(padded, 2 * WINDOW + 1, axis=1)
        return nanmedian_last(np.delete(windows, WINDOW, axis=2))
    gap = np.isnan(padded)
    numbered = (~gap).view(np.int8)  # 1 for a number, 0 for NaN and the padding
    filled = np.where(gap, np.inf, padded)  # NaN as +inf, once for the whole array
    shifts = [i for i in range(2 * WINDOW + 1) if i != WINDOW]
    count = np.zeros((m, n), dtype=np.int8)  # numbered neighbours per point
    for i in shifts:
        count += numbered[:, i : i + n]
    ranked = [filled[:, i : i + n].copy() for i in shifts]  # the network writes over them
    for a, b in SORT_SIX:
        low = np.minimum(ranked[a], ranked[b])
        np.maximum(ranked[a], ranked[b], out=ranked[b])
        ranked[a] = low
    median: np.ndarray = (ranked[2] + ranked[3]) / 2
    short = np.flatnonzero(count < len(shifts))
    if len(short):  # the numbers sort first: their middle by each point's own count
        at = np.unravel_index(short, (m, n))
        ordered = np.stack([r[at] for r in ranked], axis=-1)
        k = count[at].astype(int)
        lo = np.take_along_axis(ordered, np.maximum((k - 1) // 2, 0)[:, None], axis=-1)[:, 0]
        hi = np.take_along_axis(ordered, np.maximum(k // 2, 0)[:, None], axis=-1)[:, 0]
        median[at] = np.where(k > 0, (lo + hi) / 2, np.nan)
    return median


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
    """The slips and spikes set aside (date, value typed, neighbours' median used), named for
    the reader, the first three: "One value, 4032 on 2025-05-12, is 100x its neighbours; it was
    left out (set to their median, 40.3). Check the source." Empty without any."""
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
        f"{len(slips)} values stand far from their neighbours, typos or one-off events "
        f"({listed}{more}); they were left out (each set to its neighbours' median). Check the "
        "source."
    )
