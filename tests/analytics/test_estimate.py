"""analytics.estimate: the Welch pre/post test against scipy, the exact power-of-two scaling,
the candidate spell lengths, and the interrupted-time-series estimate on series with a known
effect."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from analytics import estimate
from analytics.estimate import (
    IN_UNITS,
    SPELL_GRID,
    estimate_its,
    flagged_lengths,
    power_of_two_scale,
    rescaled,
    search_spikes,
    spell_points,
    spike_lengths,
    welch,
)
from analytics.its import build_design
from analytics.results import replaced


def test_welch_matches_scipy_per_column():
    rng = np.random.default_rng(5)
    pre = rng.normal(10, 1, (30, 3))
    post = rng.normal([10, 10.5, 12], [1, 2, 3], (12, 3))
    diff, p = welch(pre, post)
    # scipy.stats.ttest_ind(post, pre, equal_var=False, axis=0)
    reference = stats.ttest_ind(post, pre, equal_var=False, axis=0)
    assert diff == pytest.approx(post.mean(axis=0) - pre.mean(axis=0))
    assert p == pytest.approx(reference.pvalue, rel=1e-9)


def test_welch_with_one_post_point_has_no_test():
    diff, p = welch(np.arange(5.0)[:, None], np.array([[10.0]]))
    assert diff[0] == 8.0
    assert p[0] == 1.0


def test_power_of_two_scale_is_the_power_just_above_the_largest_value():
    assert power_of_two_scale(np.array([3.0, -5.0])) == 8.0
    assert power_of_two_scale(np.array([0.3])) == 0.5
    assert power_of_two_scale(np.array([0.0, 0.0])) == 1.0
    assert power_of_two_scale(np.array([])) == 1.0
    assert power_of_two_scale(np.array([np.inf])) == 1.0


def test_spell_lengths_run_from_two_points_to_a_third_of_the_pre_period():
    # every length up to a third of 60 points; 10% apart (12% after rounding) over 500
    assert spike_lengths(60, 3) == list(range(2, 21))
    assert spell_points(np.array([10, 60])).shape == (2, SPELL_GRID)
    long = np.unique(spell_points(500))
    assert long[0] == 2 and long[-1] == round(500 / 3)
    assert (np.diff(long)[long[:-1] < 14] == 1).all()
    assert (np.diff(long) / long[:-1])[long[:-1] >= 20].max() <= 0.125
    assert spike_lengths(12, 3) == [2, 3, 4]
    # with five baseline columns a spell of 4 leaves 8 ordinary points, fewer than 5 + 4
    assert spike_lengths(12, 5) == [2, 3]


def test_the_spell_fitted_is_the_screens_peak():
    # one peak at its own length (and a second, lower one): those two lengths, nothing else
    lengths = spell_points(60)
    screen = np.where(lengths == 12, 9.0, np.where(lengths == 4, 3.0, 0.0))
    screen = np.where((lengths == 11) | (lengths == 13), 5.0, screen)
    assert flagged_lengths(screen, 60) == {12, 4}
    assert flagged_lengths(np.zeros(SPELL_GRID), 60) == set()


def _weekly(y: np.ndarray, go: int, sign: float = -1.0):
    dates = pd.date_range("2023-01-02", periods=len(y), freq="W-MON")
    return estimate_its(dates, dates[go], "W", y[:, None], np.array([sign]))[0]


@pytest.mark.parametrize("seed", range(5))
def test_its_recovers_a_known_step_within_its_interval(seed):
    rng = np.random.default_rng(seed)
    n, go, effect = 70, 45, -6.0
    y = 50 + rng.normal(0, 2, n) + effect * (np.arange(n) >= go)
    est = _weekly(y, go)
    assert (est.n_pre, est.n_post) == (45, 25)
    half = stats.t.ppf(0.975, est.df) * est.se_abs
    assert est.effect_abs - half < effect < est.effect_abs + half
    assert est.baseline == pytest.approx(50, abs=2)


def test_its_scales_exactly_with_a_power_of_two():
    rng = np.random.default_rng(11)
    y = 50 + rng.normal(0, 2, 70) - 6.0 * (np.arange(70) >= 45)
    small, large = _weekly(y, 45), _weekly(y * 1024, 45)
    assert large.effect_abs == rescaled(small, 1024).effect_abs
    assert large.se_abs == rescaled(small, 1024).se_abs
    assert rescaled(small, 1.0) is small


def test_rescaling_multiplies_the_fields_in_the_metric_unit_and_only_their_unit_entries():
    # the fields in the metric's unit are marked on the dataclass itself (`in_unit`): a
    # tuple's unit name stays a name, a t statistic stays a t statistic
    rng = np.random.default_rng(3)
    y = 50 + rng.normal(0, 2, 70) - 6.0 * (np.arange(70) >= 45)
    small = replaced(_weekly(y, 45), single_control=("site-3", 1.5, 0.5), all_controls=(2.0, 0.25))
    large = rescaled(small, 8.0)
    assert large.single_control == ("site-3", 12.0, 4.0)
    assert large.all_controls == (16.0, 2.0)
    assert large.trend_t == small.trend_t and large.df == small.df
    assert np.array_equal(large.counterfactual, small.counterfactual * 8.0)
    assert {"effect_abs", "se_abs", "observed", "structural_halfwidth"} <= set(IN_UNITS)
    assert not {"trend_t", "placebo_t", "naive_p", "df", "calibration"} & set(IN_UNITS)


@pytest.mark.parametrize("seed", range(4))
def test_the_spell_search_skips_only_fits_that_cannot_pass(seed, monkeypatch):
    # lengths whose spell reads too small are not fitted (`_too_small`); fitting every length
    # instead finds the same spell, t and size, bit for bit, on series with and without one
    rng = np.random.default_rng(seed)
    dates = pd.date_range("2023-01-02", periods=500, freq="D")
    single = build_design(dates, dates[400], "D")
    y = 10 + 0.002 * np.arange(500)[:, None] + rng.normal(0, 0.3, (500, 3))
    y[400 - 15 : 400, 1] += 2.0  # a bad spell for a lower-is-better metric
    y[400 - 30 : 400, 2] -= 0.2  # a small one the other way
    sign = np.array([-1.0, -1.0, 1.0])
    lengths = set(spike_lengths(400, single.x.shape[1] + 1))
    found = [search_spikes(y[:, [j]], sign[[j]], single, lengths) for j in range(3)]
    monkeypatch.setattr(
        estimate, "_too_small", lambda y, sign, main, ks: np.zeros((y.shape[1], len(ks)), bool)
    )
    every = [search_spikes(y[:, [j]], sign[[j]], single, lengths) for j in range(3)]
    for skipped, fitted in zip(found, every, strict=True):
        assert len(skipped.fits) < len(fitted.fits)  # some lengths were not fitted
        assert np.array_equal(skipped.t, fitted.t) and np.array_equal(skipped.size, fitted.size)
        pick, full = int(skipped.choice[0]), int(fitted.choice[0])
        assert (pick < 0) == (full < 0)
        if pick >= 0:
            assert skipped.designs[pick].names == fitted.designs[full].names
            assert np.array_equal(skipped.designs[pick].x, fitted.designs[full].x)
    assert found[1].choice[0] >= 0  # the bad spell is found
