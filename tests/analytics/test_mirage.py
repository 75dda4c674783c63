"""Each value-mirage check of analytics.mirage on small constructed weekly series: one where
the check fires (it names the mirage) and one where it does not. The series go through the
real estimator (`estimate_its`); the control and mix checks get their comparison series the
way the portfolio builds them (a Welch pre/post test of sparse controls, the Kitagawa split of
segmented rows). Lower is better throughout (sign -1): a fall looks like an improvement."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from analytics.estimate import Estimate, estimate_its, welch
from analytics.mirage import (
    check_control_moved,
    check_mix_shift,
    check_noise,
    check_novelty_decay,
    check_pre_trend,
    check_regression_to_mean,
    check_seasonality,
    significance,
)
from analytics.mix import decompose, mix_series
from analytics.results import CheckResult

LOWER = -1.0
N, GO = 60, 40  # 40 weeks before go-live, 20 after
STEP = np.arange(N) >= GO


def _dates(n: int) -> pd.DatetimeIndex:
    return pd.date_range("2023-01-02", periods=n, freq="W-MON")


def _estimate(y: np.ndarray, go: int = GO) -> Estimate:
    dates = _dates(len(y))
    values = np.asarray(y, dtype=float)[:, None]
    return estimate_its(dates, dates[go], "W", values, np.array([LOWER]))[0]


def _noise(n: int = N, seed: int = 1) -> np.ndarray:
    return np.random.default_rng(seed).normal(0.0, 1.0, n)


def _fired(check: CheckResult) -> bool:
    """The check names its mirage: it ran and did not pass."""
    return check.applicable and not check.passed


@pytest.fixture(scope="module")
def real() -> Estimate:
    """A genuine 10-unit fall at go-live on a flat, noisy series."""
    return _estimate(100 + _noise() - 10 * STEP)


def test_noise_fires_on_pure_noise_and_not_on_a_clear_fall(real):
    flat = _estimate(100 + _noise())
    assert _fired(check_noise(flat, significance(flat, LOWER)))
    assert not _fired(check_noise(real, significance(real, LOWER)))
    assert real.effect_abs == pytest.approx(-10, abs=1.0)


def test_pre_trend_fires_when_an_existing_fall_explains_the_change(real):
    falling = _estimate(100 - 0.5 * np.arange(N) + _noise())
    assert falling.naive_diff < 0  # a naive before/after reading sees an improvement
    check = check_pre_trend(falling, significance(falling, LOWER), LOWER)
    assert _fired(check)
    assert abs(check.statistic) > 2  # the trend's t
    assert not _fired(check_pre_trend(real, significance(real, LOWER), LOWER))


def test_seasonality_fires_when_go_live_lands_in_the_good_season():
    weeks = np.arange(156)
    seasonal = 100 + 10 * np.sin(2 * np.pi * weeks / 52) + _noise(156)
    go = 117  # two years and a quarter in: the season is on its way down
    season_only = _estimate(seasonal, go)
    assert season_only.annual_season
    assert _fired(check_seasonality(season_only, significance(season_only, LOWER), LOWER))
    # the same season with a real fall on top: the season does not explain it
    with_fall = _estimate(seasonal - 10 * (weeks >= go), go)
    check = check_seasonality(with_fall, significance(with_fall, LOWER), LOWER)
    assert check.applicable and check.passed


def test_regression_to_mean_fires_after_a_bad_spell_at_the_end_of_the_pre_period(real):
    y = 100 + _noise()
    y[GO - 4 : GO] += 8  # four unusually bad weeks just before go-live
    spell = _estimate(y)
    assert spell.naive_diff < 0
    assert _fired(check_regression_to_mean(spell, significance(spell, LOWER), LOWER))
    assert not _fired(check_regression_to_mean(real, significance(real, LOWER), LOWER))


def test_novelty_decay_fires_when_the_early_gain_fades(real):
    weeks_live = np.arange(N) - GO
    fading = _estimate(100 + _noise() - 10 * ((weeks_live >= 0) & (weeks_live < 7)))
    assert _fired(check_novelty_decay(fading, LOWER))
    assert not _fired(check_novelty_decay(real, LOWER))


def _with_sparse_controls(est: Estimate, control: np.ndarray) -> Estimate:
    """As the portfolio attaches control units too sparse to model: their Welch pre/post
    change (portfolio._sparse_control)."""
    diff, p = welch(control[~STEP][:, None], control[STEP][:, None])
    return replace(est, control_diff=float(diff[0]), control_p=float(p[0]))


def test_control_moved_fires_when_the_controls_fell_as_much(real):
    fell_too = _with_sparse_controls(real, 100 + _noise(seed=2) - 10 * STEP)
    assert _fired(check_control_moved(fell_too, significance(fell_too, LOWER), LOWER))
    held = _with_sparse_controls(real, 100 + _noise(seed=2))
    assert not _fired(check_control_moved(held, significance(held, LOWER), LOWER))
    # without any control the check does not apply
    assert not check_control_moved(real, significance(real, LOWER), LOWER).applicable


def _segmented(rates: tuple[float, float], post_rates: tuple[float, float], post_shares):
    """Two segments, 100 cases a week: their rates and volume shares before and after."""
    dates = _dates(N)
    noise = _noise(2 * N, seed=3).reshape(N, 2) * 0.2
    rows = []
    for t, day in enumerate(dates):
        after = t >= GO
        for s in range(2):
            rate = (post_rates if after else rates)[s] + noise[t, s]
            share = post_shares[s] if after else 0.5
            rows.append({"date": day, "segment": f"s{s}", "value": rate, "volume": 100 * share})
    mix = mix_series(pd.DataFrame(rows), dates[GO])
    split = decompose(mix, dates[GO])
    aggregate = _estimate(mix.aggregate.to_numpy())
    standardised = _estimate(mix.standardised.to_numpy())
    return aggregate, split, standardised


def test_mix_shift_fires_when_only_the_mix_moved():
    # the same rates, but the cheap segment's share rises from half to 80%
    aggregate, split, standardised = _segmented((10, 20), (10, 20), (0.8, 0.2))
    assert aggregate.naive_diff < 0  # the aggregate fell
    assert _fired(check_mix_shift(aggregate, LOWER, split, standardised))
    # both rates fell 3, the mix held: a real change within segments
    aggregate, split, standardised = _segmented((10, 20), (7, 17), (0.5, 0.5))
    assert not _fired(check_mix_shift(aggregate, LOWER, split, standardised))
    # without segments the check does not apply
    assert not check_mix_shift(aggregate, LOWER, None, None).applicable
