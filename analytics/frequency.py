"""How often a series is observed (daily, weekly, monthly, yearly) and its time axis in periods."""

from __future__ import annotations

import numpy as np
import pandas as pd

from analytics.results import Frequency

DAYS_PER_PERIOD: dict[Frequency, float] = {"D": 1.0, "W": 7.0, "M": 30.4375, "Y": 365.25}


def infer_frequency(dates: pd.Series | pd.DatetimeIndex | np.ndarray) -> Frequency | None:
    """The observation frequency from the median gap between distinct dates.

    Up to 1.5 days is daily, up to 10 days weekly, up to 45 days monthly, beyond that yearly.
    Fewer than two distinct dates: None (no frequency can be told).
    """
    values = np.unique(pd.DatetimeIndex(dates).dropna().values.astype("datetime64[D]"))
    if values.size < 2:
        return None
    gap = float(np.median(np.diff(values).astype(float)))
    if gap <= 1.5:
        return "D"
    if gap <= 10:
        return "W"
    if gap <= 45:
        return "M"
    return "Y"


def time_index(dates: pd.DatetimeIndex, freq: Frequency, origin: pd.Timestamp) -> np.ndarray:
    """Time since `origin` in periods of `freq` (calendar months for monthly data)."""
    dates = pd.DatetimeIndex(dates)
    if freq == "M":
        months = (dates.year - origin.year) * 12 + (dates.month - origin.month)
        days = (dates.day - origin.day).to_numpy(dtype=float)
        return months.to_numpy(dtype=float) + days / 30.4375
    if freq == "Y":
        return (dates.year - origin.year).to_numpy(dtype=float) + (
            dates.day_of_year - origin.day_of_year
        ).to_numpy(dtype=float) / 365.25
    days = (dates - origin).to_numpy(dtype="timedelta64[s]").astype(float) / 86400.0
    return days / DAYS_PER_PERIOD[freq]


def year_fraction(dates: pd.DatetimeIndex) -> np.ndarray:
    """Position within the year in [0, 1), for annual Fourier terms."""
    dates = pd.DatetimeIndex(dates)
    return (dates.day_of_year.to_numpy(dtype=float) - 1.0) / 365.25
