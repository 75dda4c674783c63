"""How much history a pilot's chart draws (issue 13: a four-year chart squeezed a four-month
pilot into its right edge): the post-period and a pre-period of comparable length, a year where
the season is modelled, the rest left out of the drawing and said so."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analytics.results import ChartSeries, CheckResult, MetricEffect
from pilotproof.charts import series_chart
from pilotproof.export.content import display_series
from pilotproof.history import history_window

GO_LIVE = pd.Timestamp("2026-07-06")
SEASON_MODELLED = CheckResult("seasonality", True, True, "annual pattern modelled")
NO_SEASON = CheckResult("seasonality", True, False, "the season is not modelled")


def weekly_effect(years: float = 4, post_weeks: int = 16, season: CheckResult = SEASON_MODELLED):
    """A weekly series of `years` before go-live and `post_weeks` after it."""
    dates = pd.date_range(end=GO_LIVE, periods=int(52 * years) + 1, freq="7D")
    dates = dates.append(pd.date_range(GO_LIVE + pd.Timedelta(days=7), periods=post_weeks - 1,
                                       freq="7D"))  # fmt: skip
    level = 20 + 5 * np.sin(np.arange(len(dates)) * 2 * np.pi / 52)
    frame = pd.DataFrame({"date": dates, "observed": level, "counterfactual": level,
                          "cf_low": level - 1, "cf_high": level + 1,
                          "control": np.nan})  # fmt: skip
    return MetricEffect(
        pilot_id="P", metric="cycle_time", direction="lower_is_better", kind="value",
        verdict="real", reasons=(), method="its", frequency="W", n_pre=len(dates) - post_weeks,
        n_post=post_weeks, effect_pct=-20.0, ci_low_pct=-25.0, ci_high_pct=-15.0,
        effect_abs=-4.0, ci_low_abs=-5.0, ci_high_abs=-3.0, mde_pct=3.0, baseline=20.0,
        threshold_pct=10.0, tolerance_pct=None, checks=(season,), chart=ChartSeries.of(frame),
    )  # fmt: skip


def test_a_seasonal_pilot_shows_a_year_before_go_live_and_says_what_is_left_out():
    effect = weekly_effect()
    window = history_window(effect, GO_LIVE)
    assert window is not None
    # a 105-day post-period: twice that is 210 days, a year where the season is modelled
    assert GO_LIVE - pd.Timedelta(days=365) <= window.shown_from
    assert window.shown_from < GO_LIVE - pd.Timedelta(days=358)
    assert window.data_from == effect.series["date"].min()
    assert window.words() == (
        f"History from {window.shown_from:%Y-%m-%d} shown; the model used data from "
        f"{window.data_from:%Y-%m-%d}."
    )


def test_without_a_season_twice_the_post_period_is_shown():
    effect = weekly_effect(season=NO_SEASON)
    window = history_window(effect, GO_LIVE)
    assert window is not None
    post = effect.series["date"].max() - GO_LIVE  # 105 days
    assert GO_LIVE - 2 * post <= window.shown_from < GO_LIVE - 2 * post + pd.Timedelta(days=7)


@pytest.mark.parametrize("years", [0.3, 1.0])
def test_a_series_that_fits_its_window_is_drawn_whole(years):
    assert history_window(weekly_effect(years=years), GO_LIVE) is None
    assert history_window(weekly_effect(), None) is None


def test_the_export_series_and_the_figure_draw_the_window_only():
    effect = weekly_effect()
    window = history_window(effect, GO_LIVE)
    assert window is not None
    drawn, _ = display_series(effect, GO_LIVE)
    assert drawn["date"].min() == window.shown_from
    assert drawn["date"].max() == effect.series["date"].max()  # the post-period whole
    assert drawn["threshold"].notna().any()  # the bar still drawn after go-live
    figure = series_chart(effect, GO_LIVE, window=window)
    observed = next(t for t in figure.data if t.name == "Observed")
    assert pd.Timestamp(min(observed.x)) == window.shown_from
    notes = [a.text for a in figure.layout.annotations]
    assert any(n.startswith("History from") and "the model used data from" in n for n in notes)
    whole = series_chart(effect, GO_LIVE)  # the app's switch: the whole history, no note
    observed = next(t for t in whole.data if t.name == "Observed")
    assert pd.Timestamp(min(observed.x)) == effect.series["date"].min()
