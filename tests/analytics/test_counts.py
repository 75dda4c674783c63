"""Counts full of zeros (issue 11's Poisson inputs, several seeds): the interval respects the
support (a count cannot fall by more than 100%), and a projection below zero is solved by the
log-link model, never reported as "not enough data"."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from synth import READY, empty_thresholds, observation_rows

from analytics.counts import RatioEffect, log_link_counterfactual
from analytics.estimate import estimate_its
from analytics.portfolio import analyze_portfolio

GO = pd.Timestamp("2025-06-02")
DAYS = pd.date_range(GO - pd.Timedelta(days=90), periods=150, freq="D")  # 90 pre, 60 post
SEEDS = range(6)


def count_catalog(unit: str = "touches") -> pd.DataFrame:
    return pd.DataFrame(
        {
            "metric": ["manual_touches"],
            "direction": ["lower_is_better"],
            "unit": [unit],
            "kind": ["value"],
            "threshold_pct": [10.0],
            "tolerance_pct": [5.0],
            "builtin": [True],
        }
    )


def _analyse(rates_by_pilot: dict[str, np.ndarray], seed: int, unit: str = "touches"):
    rng = np.random.default_rng(seed)
    frames = [
        observation_rows(p, "manual_touches", DAYS, rng.poisson(rate).astype(float))
        for p, rate in rates_by_pilot.items()
    ]
    pilots = pd.DataFrame(
        [{"pilot_id": p, "pilot_name": p, "go_live": GO, **READY} for p in rates_by_pilot]
    )
    obs = pd.concat(frames, ignore_index=True)
    results = analyze_portfolio(obs, pilots, count_catalog(unit), empty_thresholds())
    return {r.pilot_id: r.metrics[0] for r in results}


def _rates(pre: float, post: float) -> np.ndarray:
    return np.where(np.arange(len(DAYS)) < 90, pre, post)


@pytest.mark.parametrize("seed", SEEDS)
def test_a_halved_count_gets_an_interval_inside_the_support(seed):
    # was -139% to +67%: a count cannot fall by more than 100%
    effect = _analyse({"halved": _rates(0.6, 0.3)}, seed)["halved"]
    assert "insufficient_data" not in effect.reasons
    assert -100 < effect.ci_low_pct < effect.effect_pct < effect.ci_high_pct
    assert -80 < effect.effect_pct < -20  # truth: -50%
    assert effect.ci_low_pct < -50 < effect.ci_high_pct  # the truth is inside
    assert effect.verdict in ("real", "inconclusive", "mirage")  # never the wrong way
    assert effect.ci_low_abs > -effect.baseline  # in units too: not below zero touches


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("unit", ["touches", ""])  # a count by its unit, or by its zeros
def test_a_flat_count_is_never_not_enough_data(seed, unit):
    effects = _analyse({"flat": _rates(0.6, 0.6), "rare": _rates(0.1, 0.1)}, seed, unit)
    for effect in effects.values():
        assert effect.verdict != "inconclusive" or effect.reasons != ("insufficient_data",)
        assert "insufficient_data" not in effect.reasons
        assert effect.ci_low_pct > -100
        assert effect.verdict not in ("real", "worse") or abs(effect.effect_pct) > 30


def test_a_count_trending_to_zero_is_projected_by_the_log_link():
    # a linear trend through the pre-period crosses zero before the post window ends: the
    # log-link model projects the count instead, and the result is a verdict, not a refusal
    rate = np.r_[np.linspace(0.9, 0.15, 90), np.full(60, 0.12)]
    for seed in SEEDS:
        effect = _analyse({"fading": rate}, seed)["fading"]
        assert "insufficient_data" not in effect.reasons
        assert effect.ci_low_pct > -100
        if effect.model.endswith("_log_link"):
            assert effect.baseline > 0


def test_the_log_link_counterfactual_is_statsmodels_poisson():
    rng = np.random.default_rng(4)
    dates = pd.date_range("2025-01-01", periods=120, freq="D")
    y = rng.poisson(np.exp(np.linspace(0.5, -1.0, 120))).astype(float)
    y[90:] = rng.poisson(0.2, 30)
    (est,) = estimate_its(dates, np.datetime64(dates[90], "ns"), "D", y[:, None], np.array([-1.0]))
    mu, band, baseline, var = log_link_counterfactual(est)
    # statsmodels: GLM(y_pre, [1, t], family=Poisson()).fit(), predicted over the post window
    t = np.arange(120.0)
    x = sm.add_constant(t)
    ref = sm.GLM(y[:90], x[:90], family=sm.families.Poisson()).fit()
    np.testing.assert_allclose(mu, ref.predict(x), rtol=1e-6)
    assert baseline == pytest.approx(ref.predict(x[90:]).mean(), rel=1e-6)
    assert var > 0 and np.all(band > 0)


def test_a_ratio_interval_is_asymmetric_and_inside_the_support():
    ratio = RatioEffect(0.3, 0.6, np.log(0.5), 0.5, "linear")
    assert ratio.pct() == pytest.approx(-50.0)
    low, high = ratio.pct(-1.96), ratio.pct(1.96)
    assert -100 < low < -50 < high
    assert high - (-50) > (-50) - low  # wider upwards, as a ratio is
    assert ratio.in_units() == pytest.approx(-0.3)
