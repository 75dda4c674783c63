"""Results do not depend on the metric's unit: every series is fitted divided by a power of two
near its pre-period magnitude and scaled back (exact in floating point), so values near 1e150
do not overflow the sums of squares; a value beyond what double precision can hold beside the
others is refused with a reason; a series too short for the model still gets a minimum
detectable effect."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from synth import catalog, empty_thresholds, portfolio

from analytics.estimate import power_of_two_scale
from analytics.portfolio import analyze_portfolio

FAMILIES = ["real_level", "mirage_pre_trend", "real_control_win", "mirage_mix_shift", "null"]


def _analyse(obs, pilots):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no overflow RuntimeWarning anywhere
        return analyze_portfolio(obs, pilots, catalog(), empty_thresholds())


@pytest.mark.parametrize("factor", [2.0**500, 2.0**-400, 1e150, 1e-150])
def test_rescaling_a_portfolio_rescales_the_units_and_nothing_else(factor):
    obs, pilots, _ = portfolio("D", 3, FAMILIES)
    plain = _analyse(obs, pilots)
    scaled = _analyse(obs.assign(value=obs["value"] * factor), pilots)
    # a power of two scales every floating-point step exactly; a decimal factor rounds once
    rtol = 1e-12 if np.log2(factor).is_integer() else 1e-6
    for a, b in zip(plain, scaled, strict=True):
        assert (a.decision, a.reasons) == (b.decision, b.reasons)
        for x, y in zip(a.metrics, b.metrics, strict=True):
            assert (x.metric, x.verdict, x.reasons) == (y.metric, y.verdict, y.reasons)
            np.testing.assert_allclose(
                [x.effect_pct, x.ci_low_pct, x.ci_high_pct, x.mde_pct],
                [y.effect_pct, y.ci_low_pct, y.ci_high_pct, y.mde_pct],
                rtol=rtol,
            )
            np.testing.assert_allclose(y.effect_abs, x.effect_abs * factor, rtol=rtol)
            np.testing.assert_allclose(y.baseline, x.baseline * factor, rtol=rtol)
            np.testing.assert_allclose(y.series["cf_high"], x.series["cf_high"] * factor, rtol=rtol)


def test_power_of_two_scale():
    assert power_of_two_scale(np.array([3.0, -5.0])) == 8.0
    assert power_of_two_scale(np.array([4.0])) == 8.0  # just above: |values| / scale < 1
    assert power_of_two_scale(np.array([1.7e308])) == 2.0**1023  # 2^1024 would overflow
    assert power_of_two_scale(np.zeros(3)) == 1.0
    assert power_of_two_scale(np.array([])) == 1.0


def _single(values, go_index=60, metric="cycle_time"):
    dates = pd.date_range("2024-01-01", periods=len(values), freq="D")
    obs = pd.DataFrame(
        {
            "pilot_id": "X",
            "metric": metric,
            "date": dates,
            "group": "treatment",
            "unit": "",
            "segment": "",
            "value": values,
            "volume": np.nan,
        }
    )
    go = dates[go_index] if go_index < len(dates) else dates[-1] + pd.Timedelta(days=1)
    pilots = pd.DataFrame({"pilot_id": ["X"], "go_live": [go]})
    (result,) = _analyse(obs, pilots)
    return result.metrics[0]


def test_a_value_beyond_double_precision_is_set_aside_and_named():
    # a lone 1e308 among values near 10 is a typo (analytics.outliers): the estimate rests on
    # the other points, and the result names the value
    values = 10 + np.random.default_rng(1).normal(0, 1, 120)
    values[100] = 1e308
    effect = _single(values)
    assert effect.effect_pct is not None and abs(effect.effect_pct) < 10
    assert "1e+308" in effect.checks[-1].explanation
    assert "it was left out" in effect.checks[-1].explanation and "outlier" in effect.reasons
    # an ordinary outlier (50 standard deviations) is still analysed
    values[100] = 60.0
    assert _single(values).effect_pct is not None


def test_too_short_a_series_still_gets_a_minimum_detectable_effect():
    # 20 daily pre-period points (the model needs 21), 300 post, AR(1) noise sd 3 at level 100
    rng = np.random.default_rng(2)
    noise = np.zeros(320)
    for t in range(1, 320):
        noise[t] = 0.5 * noise[t - 1] + rng.normal(0, 3)
    effect = _single(100 + noise, go_index=20)
    assert effect.reasons == ("insufficient_data",) and effect.effect_pct is None
    # pre/post MDE: 2.80 sd sqrt(AR(1) mean variances), sd ~3.5, rho ~0.5: about 3.5% here
    assert 1.0 < effect.mde_pct < 10.0
    assert f"{effect.mde_pct:.1f}%" in effect.checks[-1].explanation


def test_no_minimum_detectable_effect_says_why():
    no_post = _single(10 + np.random.default_rng(3).normal(0, 1, 50), go_index=50)
    assert no_post.n_post == 0 and no_post.mde_pct is None
    assert "no post-period points; with 7 of them" in no_post.checks[-1].explanation
    one = _single(np.array([5.0, 6.0]), go_index=1)
    assert one.mde_pct is None
    assert "two pre-period points" in one.checks[-1].explanation
    flat = _single(np.r_[np.full(30, 7.0), np.full(3, 8.0)], go_index=30)
    assert flat.mde_pct is None and "no variation" in flat.checks[-1].explanation
