"""How long until we know: the forecast date against the analysis itself, on known-truth
series over many seeds, and the sentences."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import signal
from statsmodels.stats.power import NormalIndPower

from analytics.forecast import Forecast, forecast, mde_pct, period_end
from analytics.its import MIN_POST
from analytics.portfolio import analyze_portfolio

N_PRE = 52
START = pd.Timestamp("2025-01-06")
CATALOG = pd.DataFrame(
    [{"metric": "cycle_time", "direction": "lower_is_better", "unit": "hours", "kind": "value",
      "threshold_pct": 10.0, "tolerance_pct": 5.0, "builtin": True}]
)  # fmt: skip
NO_OVERRIDES = pd.DataFrame(columns=["pilot_id", "metric", "threshold_pct", "tolerance_pct"])


def series(seed: int, sigma: float, phi: float, n: int = N_PRE + 260):
    """Weekly cycle time around 100 with AR(1) noise of marginal sd `sigma`; no effect."""
    rng = np.random.default_rng(seed)
    dates = pd.date_range(START, periods=n, freq="W-MON")
    noise = signal.lfilter([1.0], [1.0, -phi], rng.normal(0, sigma * np.sqrt(1 - phi**2), n))
    return dates, 100.0 + noise, dates[N_PRE]


def analyse(dates, values, go_live, points: int):
    """The analysis of the first `points` weeks: the cycle-time effect."""
    obs = pd.DataFrame(
        {"pilot_id": "P", "metric": "cycle_time", "date": dates[:points], "group": "treatment",
         "unit": "", "segment": "", "value": values[:points], "volume": np.nan}
    )  # fmt: skip
    pilots = pd.DataFrame([{"pilot_id": "P", "go_live": go_live, "value_metric": "cycle_time"}])
    (result,) = analyze_portfolio(obs, pilots, CATALOG, NO_OVERRIDES)
    return result, result.metrics[0]


def test_mde_is_statsmodels_power_for_white_noise():
    # NormalIndPower().solve_power(nobs1=52, ratio=26/52, alpha=0.05, power=0.8) * sd / level
    d = NormalIndPower().solve_power(effect_size=None, nobs1=52, alpha=0.05, power=0.8, ratio=0.5)
    assert mde_pct(5.0, 0.0, 52, 26, 100.0) == pytest.approx(d * 5.0, rel=1e-9)
    # autocorrelation inflates it: AR(1) with rho 0.5 about sqrt(3) times for long windows
    ratio = mde_pct(5.0, 0.5, 520, 520, 100.0) / mde_pct(5.0, 0.0, 520, 520, 100.0)
    assert ratio == pytest.approx(np.sqrt(3.0), rel=0.02)


def test_forecast_date_hits_the_analysis_over_many_seeds():
    """At the `extend` moment (two weeks after go-live, AR(1) noise, 10% threshold) forecast
    the range; then run the real analysis at the end of the range and one week before its
    start. A hit: the analysis' minimum detectable effect is above the threshold before the
    range and at or below it by its end. Reported, and held to a floor."""
    hits = forecasts = 0
    widths = []
    for seed in range(40):
        dates, values, go_live = series(seed, sigma=6.0, phi=0.5)
        result, effect = analyse(dates, values, go_live, N_PRE + 2)
        assert result.decision == "extend"
        found = forecast(effect, go_live)
        if found is None or found.periods_high is None:
            continue
        forecasts += 1
        widths.append(found.periods_high - found.periods_low)
        start = N_PRE + 2 + found.periods_low - 1
        end = N_PRE + 2 + found.periods_high
        _, before = analyse(dates, values, go_live, start)
        _, after = analyse(dates, values, go_live, end)
        early_ok = before.mde_pct is None or before.mde_pct > 10.0 or start - N_PRE < MIN_POST["W"]
        hits += bool(early_ok and after.mde_pct is not None and after.mde_pct <= 10.0)
    rate = hits / forecasts
    print(
        f"forecast hit rate {hits}/{forecasts} = {rate:.2f}; median range {np.median(widths)} weeks"
    )
    assert forecasts >= 25
    assert rate >= 0.85


def test_too_noisy_at_any_horizon_says_so():
    dates, values, go_live = series(1, sigma=40.0, phi=0.9)
    _, effect = analyse(dates, values, go_live, N_PRE + 2)
    found = forecast(effect, go_live)
    assert found is not None and not found.reachable and found.floor_pct > 10.0
    assert found.sentence == (
        "This metric (cycle time) is too noisy to prove a 10% gain; add control sites or choose "
        "a less noisy value metric."
    )


def test_decide_by_sentence_names_the_date_and_the_range():
    dates, values, go_live = series(4, sigma=8.0, phi=0.5)
    _, effect = analyse(dates, values, go_live, N_PRE + 2)
    found = forecast(effect, go_live)
    assert found.reachable and found.periods_low <= found.periods_more <= found.periods_high
    when = found.decide_by
    # the last week needed is dated by its Monday and runs to its Sunday
    assert when == found.last_date + pd.DateOffset(weeks=found.periods_more) + pd.Timedelta(days=6)
    assert found.sentence.startswith(f"Decide by ~{when.day} {when:%B %Y} (")
    assert "weeks more data)." in found.sentence or "week more data)." in found.sentence


def _dated(last: str, freq, more: int, low: int, high: int) -> Forecast:
    """A forecast whose last point is dated `last`, needing `more` (`low`..`high`) periods."""
    return Forecast(
        metric="cycle_time", threshold_pct=10.0, frequency=freq, last_date=pd.Timestamp(last),
        n_pre=52, n_post=2, rho=0.0, inflation=1.0, mde_now_pct=None, floor_pct=1.0,
        periods_more=more, periods_low=low, periods_high=high,
    )  # fmt: skip


def test_a_weekly_point_dated_by_its_monday_covers_the_week_to_sunday():
    """Dates worked out by hand on a calendar: the last point is the week of Monday 2 March
    2026; 8 more weeks end with the week of Monday 27 April, whose data are complete on Sunday
    3 May (6 weeks: the week of 13 April, to Sunday 19 April; 11 weeks: of 18 May, to 24 May).
    Dated by the Monday alone, the decision came six days before its last week was over."""
    found = _dated("2026-03-02", "W", 8, 6, 11)
    assert found.decide_by == pd.Timestamp("2026-05-03")
    assert found.decide_low == pd.Timestamp("2026-04-19")
    assert found.decide_high == pd.Timestamp("2026-05-24")
    assert found.decide_by.day_name() == "Sunday"
    assert found.sentence == "Decide by ~3 May 2026 (6\u201311 weeks more data)."


def test_period_ends_by_frequency():
    # a month dated the 1st runs to its last day: 1 January + 3 months is April, to 30 April
    assert _dated("2026-01-01", "M", 3, 3, 3).decide_by == pd.Timestamp("2026-04-30")
    # a quarter dated 1 January: + 1 quarter is the quarter of 1 April, to 30 June
    assert _dated("2026-01-01", "Q", 1, 1, 1).decide_by == pd.Timestamp("2026-06-30")
    # a daily point covers its day: 2 March + 10 days
    assert _dated("2026-03-02", "D", 10, 10, 10).decide_by == pd.Timestamp("2026-03-12")
    # a week dated by its Sunday (week ending) already ends there: 1 March + 8 weeks
    assert _dated("2026-03-01", "W", 8, 8, 8).decide_by == pd.Timestamp("2026-04-26")
    assert period_end(pd.Timestamp("2026-04-27"), "W") == pd.Timestamp("2026-05-03")
    assert _dated("2026-03-02", "W", None, None, None).decide_by is None


def test_a_win_held_by_its_guardrail_gets_no_value_metric_forecast(tmp_path, unproven_files):
    """A real win extended because its rework rate is not yet shown within its tolerance,
    with a second value metric still inconclusive: when that metric could be decided is not
    when the pilot can be (its guardrail holds it), so there is no 'decide by' date. The same
    pilot extended as too early gets that metric's forecast."""
    from dataclasses import replace

    from analytics.forecast import pilot_forecast
    from pilotproof.analysis import analyze_store
    from pilotproof.store import Store

    with Store(tmp_path / "unproven.duckdb") as store:
        store.ingest(unproven_files, user="loader")
        (result,) = analyze_store(store)
        go_live = store.pilots().set_index("pilot_id").loc[result.pilot_id, "go_live"]
    cycle = result.metrics[0]
    open_question = replace(cycle, metric="handling_time", verdict="inconclusive")
    result = replace(result, metrics=(cycle, open_question, *result.metrics[1:]),
                     value_metrics=("cycle_time", "handling_time"))  # fmt: skip
    assert result.reasons == ("guardrail_unproven",)
    assert pilot_forecast(replace(result, reasons=("too_early",)), go_live) is not None
    assert pilot_forecast(result, go_live) is None
