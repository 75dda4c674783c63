"""How much of a pilot's history its chart shows.

A four-year series squeezes a four-month pilot into a sliver at the right edge. A pilot's chart
shows the post-period and a pre-period of comparable length: twice the post-period, and a whole
year where the counterfactual models the season (the swing it reads must be visible). The
earlier history is left out of the drawing only, never out of the model, and the chart says so.
The app keeps the whole history one switch away; the workbook keeps every point.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import pandas as pd

from analytics.results import ChartSeries, MetricEffect

PRE_POST_RATIO = 2  # the pre-period shown: at least twice the post-period
SEASON = pd.Timedelta(days=365)  # and a whole year where the season is modelled


@dataclass(frozen=True)
class HistoryWindow:
    """The dates a pilot's chart draws: from `shown_from` (the first period drawn) where the
    model read the series from `data_from` (its first period)."""

    shown_from: pd.Timestamp
    data_from: pd.Timestamp

    def words(self) -> str:
        """What the chart says about the history it leaves out."""
        return (
            f"History from {self.shown_from:%Y-%m-%d} shown; the model used data from "
            f"{self.data_from:%Y-%m-%d}."
        )

    def frame(self, series: pd.DataFrame) -> pd.DataFrame:
        """The rows of a chart frame (a `date` column) inside the window."""
        return series[pd.to_datetime(series["date"]) >= self.shown_from].reset_index(drop=True)

    def effect(self, effect: MetricEffect) -> MetricEffect:
        """`effect` with its chart series cut to the window (its estimates untouched)."""
        if effect.series is None:
            return effect
        return replace(effect, chart=ChartSeries.of(self.frame(effect.series)))


def seasonal(effect: MetricEffect) -> bool:
    """Whether the season matters to this effect's counterfactual: its seasonality check ran
    (the annual pattern modelled, or a within-year swing the model could not rule out)."""
    return any(c.name == "seasonality" and c.applicable for c in effect.checks)


def history_window(effect: MetricEffect, go_live: object | None) -> HistoryWindow | None:
    """The window a pilot's chart draws, or None when the whole series fits it (or there is
    no go-live or post-period to size it by).

    The pre-period shown is max(`PRE_POST_RATIO` x the post-period, a year where `seasonal`),
    counted back from go-live to the first period on or after that date.
    """
    series = effect.series
    if series is None or series.empty or go_live is None or pd.isna(go_live):
        return None
    dates = pd.to_datetime(series["date"])
    start = pd.Timestamp(go_live)
    post = dates.max() - start
    if post <= pd.Timedelta(0):
        return None
    pre = max(PRE_POST_RATIO * post, SEASON if seasonal(effect) else pd.Timedelta(0))
    inside = dates[dates >= start - pre]
    if inside.empty or inside.min() <= dates.min():
        return None
    return HistoryWindow(shown_from=inside.min(), data_from=dates.min())
