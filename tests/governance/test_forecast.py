"""How long until we know: the forecast date against the analysis itself, on known-truth
series over many seeds, and the sentences."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import signal
from statsmodels.stats.power import NormalIndPower

from analytics.forecast import forecast, mde_pct
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
    assert when == found.last_date + pd.DateOffset(weeks=found.periods_more)
    assert found.sentence.startswith(f"Decide by ~{when.day} {when:%B %Y} (")
    assert "weeks more data)." in found.sentence or "week more data)." in found.sentence
