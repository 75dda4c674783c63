"""How often a series is observed (daily, weekly, monthly, yearly) and its time axis in periods.

Everything works on numpy datetime64 arrays: these helpers run once per series, so they avoid
pandas' per-call overhead.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pandas as pd

from analytics.results import Frequency

DAYS_PER_PERIOD: dict[Frequency, float] = {
    "D": 1.0,
    "W": 7.0,
    "M": 30.4375,
    "Q": 91.3125,
    "Y": 365.25,
}


def as_days(dates: npt.ArrayLike) -> np.ndarray:
    """Dates (DatetimeIndex, Series or datetime64 array) as whole days since 1970-01-01."""
    values = np.asarray(dates, dtype="datetime64[ns]")
    return values.astype("datetime64[D]").astype(np.int64)


def infer_frequency(dates: npt.ArrayLike) -> Frequency | None:
    """The observation frequency from the median gap between distinct dates.

    Up to 1.5 days is daily, up to 10 days weekly, up to 45 days monthly, up to 135 days
    quarterly, beyond that yearly. Fewer than two distinct dates: None (no frequency can be
    told).
    """
    values = np.asarray(dates, dtype="datetime64[ns]")
    values = values[~np.isnat(values)]
    days = values.astype("datetime64[D]").astype(np.int64)
    if days.size > 1 and not (np.diff(days) > 0).all():  # not already sorted and distinct
        days = np.unique(days)
    if days.size < 2:
        return None
    gap = float(np.median(np.diff(days)))
    if gap <= 1.5:
        return "D"
    if gap <= 10:
        return "W"
    if gap <= 45:
        return "M"
    if gap <= 135:
        return "Q"
    return "Y"


def _calendar(dates: npt.ArrayLike) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Days since epoch, months since epoch, years since 1970 and day within the year."""
    values = np.asarray(dates, dtype="datetime64[ns]")
    days = values.astype("datetime64[D]").astype(np.int64)
    months = values.astype("datetime64[M]").astype(np.int64)
    years = values.astype("datetime64[Y]").astype(np.int64)
    year_start = values.astype("datetime64[Y]").astype("datetime64[D]").astype(np.int64)
    return days, months, years, days - year_start


def time_index(dates: npt.ArrayLike, freq: Frequency, origin: pd.Timestamp) -> np.ndarray:
    """Time since `origin` in periods of `freq` (calendar months for monthly data, three of
    them a quarter)."""
    days, months, years, doy = _calendar(dates)
    o_days, o_months, o_years, o_doy = (v[0] for v in _calendar([np.datetime64(origin, "ns")]))
    if freq in ("M", "Q"):
        month_start = (
            np.asarray(dates, dtype="datetime64[ns]")
            .astype("datetime64[M]")
            .astype("datetime64[D]")
            .astype(np.int64)
        )
        o_start = np.datetime64(origin, "M").astype("datetime64[D]").astype(np.int64)
        elapsed = (months - o_months) + ((days - month_start) - (o_days - o_start)) / 30.4375
        periods: np.ndarray = elapsed / 3 if freq == "Q" else elapsed
    elif freq == "Y":
        periods = (years - o_years) + (doy - o_doy) / 365.25
    else:
        periods = (days - o_days) / DAYS_PER_PERIOD[freq]
    return periods


def day_of_week(dates: npt.ArrayLike) -> np.ndarray:
    """Monday = 0 ... Sunday = 6 (1970-01-01 was a Thursday)."""
    days: np.ndarray = (as_days(dates) + 3) % 7
    return days


def quarter(dates: npt.ArrayLike) -> np.ndarray:
    """Calendar quarter, 0 (January-March) ... 3 (October-December)."""
    months = np.asarray(dates, dtype="datetime64[ns]").astype("datetime64[M]").astype(np.int64)
    quarters: np.ndarray = (months % 12) // 3
    return quarters


def year_fraction(dates: npt.ArrayLike) -> np.ndarray:
    """Position within the year in [0, 1), for annual Fourier terms."""
    fraction: np.ndarray = _calendar(dates)[3] / 365.25
    return fraction


def week_start(dates: npt.ArrayLike) -> np.ndarray:
    """The Monday that opens each date's week (weeks run Monday to Sunday, as `day_of_week`
    counts them), as datetime64[D]."""
    days = as_days(dates) - day_of_week(dates)
    start: np.ndarray = days.astype("datetime64[D]")
    return start


def weekly_means(
    frame: pd.DataFrame, column: str = "date", anchor: object | None = None
) -> pd.DataFrame:
    """Daily rows as weekly means, each week dated by its first day, the mean of every numeric
    column over the days the week has (missing values skipped). Every week from the first to
    the last is a row; a week with no data is NaN, so a chart breaks its line there rather
    than drawing across the gap. The one weekly rule for every view of daily data (the app's
    chart and the exports').

    With an `anchor` (a pilot's go-live), weeks are the 7-day blocks counted from it, so no
    week mixes days before and after go-live: a Monday week holding a Wednesday go-live would
    date part of the pilot's change before go-live. Without one, weeks run Monday to Sunday
    (`week_start`).

    Only whole weeks are shown at either end: a first or last week the data cover for fewer
    than 7 days (data from a Thursday, an export ending on a Saturday) would be the mean of a
    few weekdays, and daily data's weekday pattern would bend the line and pinch the band
    there. A partial week stays where it is the only week on its side of the anchor (a pilot
    five days after go-live still shows those days)."""
    if frame.empty:
        return frame.copy()
    dates = pd.to_datetime(frame[column])
    if anchor is None:
        starts = week_start(dates.to_numpy()).astype("datetime64[ns]")
    else:
        first = pd.Timestamp(anchor).normalize()  # type: ignore[arg-type]
        offset = (dates - first).dt.days.to_numpy() // 7
        starts = (first + pd.to_timedelta(offset * 7, unit="D")).to_numpy()
    weeks = pd.DatetimeIndex(starts, name=column)
    values = frame.drop(columns=column).select_dtypes("number")
    means = values.groupby(weeks).mean()
    every = pd.date_range(means.index.min(), means.index.max(), freq="7D", name=column)
    means = means.reindex(every)
    return means.loc[_whole_weeks(every, dates.min(), dates.max(), anchor)].reset_index()


def _whole_weeks(
    weeks: pd.DatetimeIndex, first: pd.Timestamp, last: pd.Timestamp, anchor: object | None
) -> np.ndarray:
    """Which of the consecutive `weeks` (their first days) to show: all but a first week that
    starts before the data's `first` day and a last week that ends after its `last` day, each
    kept where it is the only week on its side of `anchor`."""
    keep = np.ones(len(weeks), dtype=bool)
    split = pd.Timestamp(anchor).normalize() if anchor is not None else None  # type: ignore[arg-type]
    for i, partial in ((0, weeks[0] < first), (-1, weeks[-1] + pd.Timedelta(days=6) > last)):
        if not partial:
            continue
        if split is None:
            side = np.ones(len(weeks), dtype=bool)
        else:
            side = (weeks >= split) if weeks[i] >= split else (weeks < split)
        if side.sum() > 1:
            keep[i] = False
    return keep
