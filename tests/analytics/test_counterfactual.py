"""The counterfactual model family (analytics.counterfactual): breaks in the pre-period, the
rolling-origin backtests that choose and calibrate the model, and the inputs that fooled the
single straight-line model (known truth, several seeds each)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from synth import READY, ar1, catalog, empty_thresholds, observation_rows

import analytics.estimate
from analytics.counterfactual import (
    MAX_ORIGINS,
    Z2_CAP,
    Backtest,
    _forecast_errors,
    _origin_errors,
    _OriginSums,
    _window_sums,
    backtest,
    calibrated_se,
    guarded_prior,
    scan_breaks,
    spell_sizes,
    spell_t,
)
from analytics.estimate import _trend_evidence, estimate_its
from analytics.its import MIN_PRE, RHO_MAX, columns_for, design_matrix, kendall_rho
from analytics.levels import critical_t
from analytics.mirage import visible_swing
from analytics.portfolio import analyze_portfolio

GO = pd.Timestamp("2025-06-02")
SEEDS = range(4)


def _daily(n_pre: int, n_post: int) -> pd.DatetimeIndex:
    return pd.date_range(GO - pd.Timedelta(days=n_pre), periods=n_pre + n_post, freq="D")


def _analyse(frames: list[pd.DataFrame]):
    ids = [f["pilot_id"].iloc[0] for f in frames]
    pilots = pd.DataFrame([{"pilot_id": p, "pilot_name": p, "go_live": GO, **READY} for p in ids])
    results = analyze_portfolio(
        pd.concat(frames, ignore_index=True), pilots, catalog(), empty_thresholds()
    )
    return {r.pilot_id: (r, r.metrics[0]) for r in results}


def _earlier_step(seed: int, size: float) -> pd.DataFrame:
    """Daily cycle time around 40, AR(1) noise; a step of `size` 120 days before go-live, flat
    afterwards; 180 days pre, 60 post; no pilot effect."""
    rng = np.random.default_rng(seed)
    dates = _daily(180, 60)
    y = 40 + ar1(rng, len(dates), 0.5, 1.2)
    y[60:] *= 1 + size
    return observation_rows(f"step{size:+.2f}-{seed}", "cycle_time", dates, y)


def _bad_spell(seed: int, length: int) -> pd.DataFrame:
    """Daily, 120 pre and 90 post; the last `length` pre days run 45-60% above the baseline,
    the post-period is back at the baseline."""
    rng = np.random.default_rng(seed)
    dates = _daily(120, 90)
    y = 40 + ar1(rng, len(dates), 0.5, 1.2)
    y[120 - length : 120] *= rng.uniform(1.45, 1.6)
    return observation_rows(f"spell{length}-{seed}", "cycle_time", dates, y)


def _short_weekly(seed: int) -> pd.DataFrame:
    """30 weeks pre, 20 post, noise 8% of the level with AR(1) 0.4, a true -20% level shift."""
    rng = np.random.default_rng(seed)
    dates = pd.date_range(GO - pd.Timedelta(weeks=30), periods=50, freq="7D")
    y = 40 * (1 + ar1(rng, 50, 0.4, 0.08))
    y[30:] *= 0.8
    return observation_rows(f"weekly-{seed}", "cycle_time", dates, y)


def test_an_earlier_step_up_is_a_break_not_a_pilot_effect():
    # the straight line through a step 120 days before go-live called this `real` -10 to -12%
    # and scaled it; post vs the last 120 pre days is -1.0 to +1.4%
    found = _analyse([_earlier_step(seed, 0.30) for seed in SEEDS])
    for pilot, effect in found.values():
        assert effect.verdict == "no_change", (pilot.pilot_id, effect.verdict, effect.effect_pct)
        assert abs(effect.effect_pct) < 2.5
        assert effect.model.endswith("_recent")
        assert abs((effect.break_date - (GO - pd.Timedelta(days=120))).days) <= 5
        assert pilot.decision != "scale"
        assert "shifted to a new level" in effect.checks[-1].explanation


def test_an_earlier_drop_is_not_a_deterioration():
    # a -20% drop earlier in the pre-period gave a false `worse` of +14 to +19%
    found = _analyse([_earlier_step(seed, -0.20) for seed in SEEDS])
    for pilot, effect in found.values():
        assert effect.verdict not in ("real", "worse"), (pilot.pilot_id, effect.effect_pct)
        assert abs(effect.effect_pct) < 2.5


@pytest.mark.parametrize("length", [5, 12, 30, 40])
def test_a_bad_spell_before_go_live_is_regression_to_the_mean(length):
    # a month-long spell 45-60% above the baseline gave `real` -30 to -43%
    found = _analyse([_bad_spell(seed, length) for seed in SEEDS])
    for pilot, effect in found.values():
        assert effect.verdict != "real", (pilot.pilot_id, effect.effect_pct)
        assert "regression_to_mean" in effect.reasons
        assert pilot.decision != "scale"


@pytest.mark.parametrize("length", [17, 30, 37])
def test_a_bad_spell_between_screened_lengths_is_set_aside_whole(length):
    # a 30-day spell in 120 pre days fell between the 24- and 36-day dummies once screened: the
    # six spell days left in the residuals halved the dummy's t, no spell was found, and a trend
    # through it called `real` -34% and `scale` (independent generator, bad_spell_month seed 0)
    dates = _daily(120, 90)
    for seed in SEEDS:
        rng = np.random.default_rng(seed)
        y = 11 * (1 + ar1(rng, len(dates), 0.5, 0.058))
        y[120 - length : 120] *= 1.48
        est = estimate_its(dates, GO, "D", y[:, None], -1.0)[0]
        assert est.spike_detected, (length, seed)
        assert abs(est.spell_length - length) <= max(2, length // 10), (length, est.spell_length)
        # the post-period is back at the baseline: no significant fall, and a small one
        assert est.effect_abs / est.se_abs > -1.96, (length, seed, est.effect_abs, est.se_abs)
        assert abs(est.effect_abs) < 0.08 * 11, (length, seed, est.effect_abs)


def test_a_bad_spell_that_carries_on_is_not_a_deterioration():
    # the level moved the bad way 20 days before go-live and stayed there: set aside as a spell,
    # the post-period read as worse than the older level, a `worse` no pilot caused
    dates = _daily(120, 60)
    frames = []
    for seed in SEEDS:
        rng = np.random.default_rng(seed)
        y = 40 + ar1(rng, len(dates), 0.5, 1.2)
        y[100:] *= 1.3
        frames.append(observation_rows(f"carries-{seed}", "cycle_time", dates, y))
    for pilot, effect in _analyse(frames).values():
        assert effect.verdict != "worse", (pilot.pilot_id, effect.effect_pct, effect.model)


def _short_weekly_found():
    found = _analyse([_short_weekly(seed) for seed in range(12)])
    half = [(e.ci_high_pct - e.ci_low_pct) / 2 for _, e in found.values()]
    real = [e.verdict == "real" for _, e in found.values()]
    return half, real


def test_short_weekly_pilots_get_narrower_intervals_than_the_straight_line():
    # 30 + 20 weekly points, 8% noise, a true -20% shift: the straight line gave intervals such
    # as -54% to +5% (half-width about 30 points) and `inconclusive` in half the seeds
    half, real = _short_weekly_found()
    assert np.median(half) <= 20.0, half
    assert np.mean(real) >= 0.5


@pytest.mark.xfail(strict=True, reason="one backtest window cannot tell level from trend yet")
def test_short_weekly_pilots_get_the_interval_the_design_supports():
    # the goal: about +-10 points, what an oracle that knows the noise gets (+-7), and the
    # shift found in most seeds
    half, real = _short_weekly_found()
    assert np.median(half) <= 12.0, half
    assert np.mean(real) >= 0.8


def test_backtest_errors_are_ordinary_least_squares_forecasts():
    # each origin by hand: statsmodels OLS on the rows before it, forecast the next h rows
    # (weekly, under a year of pre-period: no season to take out)
    rng = np.random.default_rng(3)
    n_pre, n_post = 40, 10
    dates = pd.date_range("2024-01-01", periods=n_pre + n_post, freq="7D").values
    y = 5 + 0.05 * np.arange(50) + rng.normal(0, 0.3, 50)
    test = backtest(dates, "W", y[:, None], np.array([n_pre]), np.array([n_post]))
    first = max(MIN_PRE["W"], int(np.ceil(0.3 * n_pre)), 4)
    h = min(n_post, n_pre - first)
    errors = []
    for o in range(first, n_pre - h + 1):
        t = np.arange(o + h, dtype=float)
        fit = sm.OLS(y[:o], sm.add_constant(t[:o])).fit()  # statsmodels reference
        errors.append(y[o : o + h].mean() - fit.predict(sm.add_constant(t[o:])).mean())
    assert test[True].horizon[0] == h
    assert np.isclose(test[True].rmse[0], np.sqrt(np.mean(np.square(errors))), rtol=1e-9)
    level = [y[o : o + h].mean() - y[:o].mean() for o in range(first, n_pre - h + 1)]
    assert np.isclose(test[False].rmse[0], np.sqrt(np.mean(np.square(level))), rtol=1e-9)


def test_a_backtest_origin_fits_only_the_season_its_own_history_supports():
    # Weekly, 70 pre-period weeks: the whole pre-period supports annual terms, origins with
    # under a year of history do not. Those fit level + trend on the series as observed (no
    # season borrowed from the whole pre-period, which would let the tested window inform its
    # own forecast); origins with a year or more fit the whole pre-period's columns.
    rng = np.random.default_rng(4)
    n_pre, n_post = 70, 10
    dates = pd.date_range("2023-01-02", periods=n_pre + n_post, freq="7D").values
    t = np.arange(n_pre + n_post, dtype=float)
    y = 20 + 0.03 * t + 2 * np.sin(2 * np.pi * t / 52.18) + rng.normal(0, 0.4, len(t))
    test = backtest(dates, "W", y[:, None], np.array([n_pre]), np.array([n_post]))
    full = columns_for(dates, n_pre, "W", True, True)
    assert any(c.startswith("annual") for c in full)
    first = max(MIN_PRE["W"], int(np.ceil(0.3 * n_pre)), 4)
    origins = np.arange(first, n_pre - n_post + 1)
    # at most MAX_ORIGINS origins, evenly strided
    origins = origins[np.linspace(0, len(origins) - 1, MAX_ORIGINS).round().astype(int)]
    errors = []
    for o in origins.tolist():
        names = columns_for(dates, o, "W", True, True)
        names = names if names == full else ("intercept", "trend")
        x, _ = design_matrix(dates[: o + n_post], "W", names)
        fit = sm.OLS(y[:o], x[:o]).fit()  # statsmodels reference
        errors.append(y[o : o + n_post].mean() - fit.predict(x[o:]).mean())
    assert np.isclose(test[True].rmse[0], np.sqrt(np.mean(np.square(errors))), rtol=1e-9)


def test_a_backtest_with_a_gap_forecasts_as_far_ahead_as_the_spell_model_does():
    # a model that sets the last g pre-period points aside forecasts a window that starts g
    # periods after its data ends: each origin's window starts g periods after it
    rng = np.random.default_rng(5)
    n_pre, n_post, g = 48, 8, 6  # under a year of weekly pre-period: no season
    dates = pd.date_range("2024-01-01", periods=n_pre + n_post, freq="7D").values
    y = 5 + 0.05 * np.arange(n_pre + n_post) + rng.normal(0, 0.3, n_pre + n_post)
    test = backtest(dates, "W", y[:, None], np.array([n_pre]), np.array([n_post]), gap=g)
    first = max(MIN_PRE["W"], int(np.ceil(0.3 * n_pre)), 4)
    h = min(n_post, n_pre - g - first)
    errors = []
    for o in range(first, n_pre - g - h + 1):
        t = np.arange(o + g + h, dtype=float)
        fit = sm.OLS(y[:o], sm.add_constant(t[:o])).fit()  # statsmodels reference
        window = slice(o + g, o + g + h)
        errors.append(y[window].mean() - fit.predict(sm.add_constant(t[window])).mean())
    assert test[True].horizon[0] == h
    assert np.isclose(test[True].rmse[0], np.sqrt(np.mean(np.square(errors))), rtol=1e-9)
    # no window reaches past the pre-period, and the gap lengthens every forecast
    plain = backtest(dates, "W", y[:, None], np.array([n_pre]), np.array([n_post]))
    assert first + g + h <= n_pre
    assert not np.isclose(plain[True].rmse[0], test[True].rmse[0])


def test_a_fixed_window_backtest_fits_only_the_window_before_each_origin():
    # the backtest of a model fitted on a last regime of L points: every origin fits the L rows
    # before it (statsmodels OLS on exactly those rows), errors and claimed variances alike
    rng = np.random.default_rng(6)
    n_pre, n_post, window = 40, 6, 15  # weekly, under a year: no season
    dates = pd.date_range("2024-01-01", periods=n_pre + n_post, freq="7D").values
    y = 5 + 0.05 * np.arange(n_pre + n_post) + ar1(rng, n_pre + n_post, 0.3, 0.3)
    test = backtest(dates, "W", y[:, None], np.array([n_pre]), np.array([n_post]), window=window)
    origins = np.arange(window, n_pre - n_post + 1)
    errors, level = [], []
    for o in origins.tolist():
        rows = slice(o - window, o)
        t = np.arange(o + n_post, dtype=float)
        fit = sm.OLS(y[rows], sm.add_constant(t[rows])).fit()  # statsmodels reference
        errors.append(y[o : o + n_post].mean() - fit.predict(sm.add_constant(t[o:])).mean())
        level.append(y[o : o + n_post].mean() - y[rows].mean())
    assert test[True].horizon[0] == n_post
    assert np.isclose(test[True].rmse[0], np.sqrt(np.mean(np.square(errors))), rtol=1e-9)
    assert np.isclose(test[False].rmse[0], np.sqrt(np.mean(np.square(level))), rtol=1e-9)
    assert np.isclose(test[True].blocks[0], (origins[-1] - origins[0] + n_post) / n_post)
    # the claimed variances are those of a fit on L rows: the same as the expanding backtest's
    # at origin L, whose history is exactly those rows
    e_win, v_win = _origin_errors(y[:n_pre, None], origins, n_post, True, window=window)
    e_exp, v_exp = _origin_errors(y[:n_pre, None], origins[:1], n_post, True)
    assert np.allclose(e_win[:1], e_exp) and np.allclose(v_win[:1], v_exp)


@pytest.mark.parametrize("window", [None, 3, 7])
def test_backtest_sums_are_the_sums_over_each_origins_rows(window):
    # the running sums a backtest reads its fits from (`_window_sums`, block sums by
    # np.add.reduceat): the plain sum over each origin's rows, slice by slice; lag-one terms
    # (row t pairs t and t - 1, row 0 zero) start one row later. Origin 3 with a window of 3
    # starts at row 0, an empty first block
    rng = np.random.default_rng(11)
    terms = rng.normal(size=(30, 2, 3))
    origins = np.array([3, 5, 6, 12, 20, 29])
    origins = origins[origins >= (window or 0)]  # a fit of `window` rows needs that history
    lagged = terms.copy()
    lagged[0] = 0.0  # row 0 has no row before it
    for lag, rows in ((0, terms), (1, lagged)):
        got = _window_sums(origins, rows, window, lag)
        for i, o in enumerate(origins.tolist()):
            start = 0 if window is None else o - window + lag
            want = rows[start:o].sum(axis=0)
            assert np.allclose(got[i], want, rtol=1e-12, atol=1e-12), (lag, o)
            if rows[start].any():  # the window's first row is in the sum
                assert not np.allclose(got[i], rows[start + 1 : o].sum(axis=0))
    # an origin with no history before it sums no rows
    assert np.array_equal(_window_sums(np.array([0, 4]), terms, None)[0], np.zeros((2, 3)))


@pytest.mark.parametrize("window", [None, 60])
def test_the_level_backtest_read_off_the_trend_models_sums_is_its_own(window):
    # the backtest computes the trend model's sums once and leaves the trend column out for the
    # level model (`_OriginSums.without`): bit for bit what the level design's own sums and
    # forecast errors are
    rng = np.random.default_rng(12)
    dates = pd.date_range("2024-01-01", periods=730, freq="D").values
    pre = 520
    y = 5 + ar1(rng, pre, 0.5, 0.3)[:, None] + rng.normal(0, 0.2, (pre, 3))
    trended = columns_for(dates, pre, "D", True, True)
    level = columns_for(dates, pre, "D", False, True)
    assert trended == (level[0], "trend", *level[1:])
    origins = np.arange(160, 480, 11)
    x_trend = design_matrix(dates, "D", trended)[0][:pre]
    x_level = design_matrix(dates, "D", level)[0][:pre]
    shared = _OriginSums.of(x_trend, y, origins, window).without(1)
    own = _OriginSums.of(x_level, y, origins, window)
    for got, want in zip(_forecast_errors(shared, 30), _forecast_errors(own, 30), strict=True):
        assert np.array_equal(got, want)


@pytest.mark.parametrize("trend", [False, True])
def test_a_backtest_of_one_candidate_is_its_entry_of_the_full_backtest(trend):
    # `only` tests one candidate (the control-group gap reads the one its model uses): the same
    # numbers, bit for bit, as that candidate's entry when both are tested
    rng = np.random.default_rng(13)
    dates = pd.date_range("2024-01-01", periods=600, freq="D").values
    y = 5 + 0.001 * np.arange(600)[:, None] + ar1(rng, 600, 0.5, 0.3)[:, None]
    y = y + rng.normal(0, 0.2, (600, 3))
    n_pre, n_post = np.array([420, 420, 500]), np.array([180, 180, 100])
    full = backtest(dates, "D", y, n_pre, n_post)
    one = backtest(dates, "D", y, n_pre, n_post, only=trend)
    assert list(one) == [trend]
    for name in ("rmse", "blocks", "horizon", "z2"):
        assert np.array_equal(getattr(one[trend], name), getattr(full[trend], name))
    assert np.isfinite(one[trend].rmse).all()


def test_a_short_last_regime_is_tested_over_the_whole_pre_period():
    # Monthly, 48 pre and 12 post, no pilot effect. The series moves in swings of a year or
    # two (levels of +-3 over small AR(1) noise) and swings again after go-live. Where the
    # break scan keeps a last regime of about two years, the regime's own backtest spans too
    # few windows to test anything (1.25); the fixed-window backtest over the whole
    # pre-period sees the earlier swings and widens the interval. Every estimate read from a
    # regime is the regime's fit with exactly that test applied, never narrower.
    from analytics.estimate import _regime_tested

    widened = 0
    for seed in range(12):
        rng = np.random.default_rng(seed)
        dates = pd.date_range("2020-01-01", periods=60, freq="MS")
        swing = np.repeat(rng.choice([-3.0, 3.0], size=3), [14, 12, 34])
        y = 40 + swing + ar1(rng, 60, 0.5, 0.3)
        y[48:] += rng.choice([-3.0, 3.0])  # the next swing: not the pilot
        est = estimate_its(
            pd.DatetimeIndex(dates),
            np.datetime64("2024-01-01"),
            "M",
            y[:, None],
            np.array([-1.0]),
        )[0]
        if est.regime_start is None:
            continue
        start = int(np.searchsorted(dates, np.datetime64(est.regime_start)))
        recent = estimate_its(
            pd.DatetimeIndex(dates[start:]),
            np.datetime64("2024-01-01"),
            "M",
            y[start:, None],
            np.array([-1.0]),
            breaks=False,
        )[0]
        # the engine's estimate is the regime's, widened by the whole pre-period's test
        assert est.se_abs >= recent.se_abs - 1e-12
        rolled = backtest(
            dates.values, "M", y[:, None], np.array([48]), np.array([12]), window=recent.n_pre
        )
        assert np.isclose(est.se_abs, _regime_tested(recent, rolled).se_abs)
        widened += est.se_abs > recent.se_abs * 1.05
    assert widened >= 2


def test_later_backtest_origins_count_more_in_the_calibration():
    # z2 is the recency-weighted mean of each origin's squared error in units of the standard
    # error its fit claimed (origin i of n weighs i / sum(1..n), each capped at Z2_CAP): a model
    # whose misses grow as its history lengthens is judged by the misses of fits like its own
    rng = np.random.default_rng(8)
    n_pre, n_post = 48, 6
    dates = pd.date_range("2024-01-01", periods=n_pre + n_post, freq="7D").values
    t = np.arange(n_pre + n_post, dtype=float)
    y = 5 + 0.002 * t**2 + rng.normal(0, 0.1, len(t))  # a curve a straight line misses late
    test = backtest(dates, "W", y[:, None], np.array([n_pre]), np.array([n_post]))
    first = max(MIN_PRE["W"], int(np.ceil(0.3 * n_pre)), 4)
    origins = np.arange(first, n_pre - n_post + 1)
    errors, variances = _origin_errors(y[:n_pre, None], origins, n_post, True)
    z2 = np.minimum(errors[:, 0] ** 2 / variances[:, 0], Z2_CAP)
    weights = np.arange(1.0, len(origins) + 1.0)
    assert np.isclose(test[True].z2[0], weights @ z2 / weights.sum(), rtol=1e-9)
    assert test[True].z2[0] > z2.mean()  # the late misses weigh more than in a plain mean


def test_calibration_widens_by_the_backtests_and_never_narrows():
    se = np.array([1.0, 1.0, 1.0])
    test = Backtest(
        rmse=np.array([3.0, 0.5, np.nan]),
        blocks=np.array([4.0, 4.0, 0.0]),
        horizon=np.ones(3),
        z2=np.array([9.0, 0.25, np.nan]),
    )
    widened, df = calibrated_se(se, test)
    # pooled squared ratio: (1 x 1 + 4 x 9) / 5 = 7.4; a backtest that beat the model's claim,
    # or none, leaves the model's own standard error
    assert np.isclose(widened[0], np.sqrt(7.4))
    assert df[0] == 5.0
    assert widened[1] == 1.0 and widened[2] == 1.0
    assert np.isnan(df[1]) and np.isnan(df[2])


def test_scan_breaks_dates_a_step_and_stays_quiet_on_noise():
    rng = np.random.default_rng(11)
    n = 150
    x = np.column_stack([np.ones(n), np.arange(n, dtype=float)])
    noise = np.column_stack([ar1(rng, n, 0.5, 1.0) for _ in range(300)])
    quiet = scan_breaks(x, noise, np.full(300, n), "D")
    # Andrews' 1% critical value with a Bartlett long-run variance: false breaks stay rare
    assert (quiet.row >= 0).mean() <= 0.03
    stepped = noise[:, :20].copy()
    stepped[50:] += 5.0
    found = scan_breaks(x, stepped, np.full(20, n), "D")
    assert (np.abs(found.row - 50) <= 2).all(), found.row
    assert (found.size > 4).all()


def test_a_spell_at_the_end_is_not_a_break():
    # a step in the last third of the pre-period is left to the spell check
    rng = np.random.default_rng(5)
    n = 120
    x = np.ones((n, 1))
    y = np.column_stack([ar1(rng, n, 0.3, 1.0) for _ in range(10)])
    y[90:] += 8.0
    assert (scan_breaks(x, y, np.full(10, n), "D").row == -1).all()


def _short_season(seed: int) -> pd.DataFrame:
    """Weekly, 30 weeks pre and 16 post, an annual swing of 15% that the post window meets
    at its better end; no pilot effect."""
    rng = np.random.default_rng(seed)
    dates = pd.date_range(GO - pd.Timedelta(weeks=30), periods=46, freq="7D")
    phase = 2 * np.pi * (dates.day_of_year.to_numpy() - (GO + pd.Timedelta(weeks=8)).day_of_year)
    y = 40 * (1 - 0.15 * np.cos(phase / 365.25)) * (1 + ar1(rng, 46, 0.3, 0.02))
    return observation_rows(f"season-{seed}", "cycle_time", dates, y)


def test_a_season_too_long_for_the_history_is_not_real_impact():
    # under a year of history cannot model the season; a change within what the level already
    # swung by in the pre-period is not `real`, and the sentence says why
    found = _analyse([_short_season(seed) for seed in SEEDS])
    for pilot, effect in found.values():
        assert effect.verdict != "real", (pilot.pilot_id, effect.effect_pct)
        check = next(c for c in effect.checks if c.name == "seasonality")
        if not check.passed:
            assert "too short to rule out the season" in check.explanation


def test_the_visible_swing_is_the_season_beyond_noise():
    # half a year of a 10% swing: the monthly means span most of it; noise alone: about zero
    rng = np.random.default_rng(2)
    dates = pd.date_range("2024-01-01", periods=200, freq="D")
    go = dates[180]
    wave = 4.0 * np.sin(2 * np.pi * np.arange(200) / 365.25)
    noisy = 40 + ar1(rng, 200, 0.3, 0.5)
    swung, flat = estimate_its(dates, go, "D", np.column_stack([noisy + wave, noisy]), -np.ones(2))
    assert 2.0 < visible_swing(swung) <= 4.5
    assert visible_swing(flat) < 0.3
    longer = pd.date_range("2023-01-01", periods=450, freq="D")
    whole_year = estimate_its(
        longer, longer[400], "D", (40 + ar1(rng, 450, 0.3, 0.5))[:, None], -1.0
    )
    assert visible_swing(whole_year[0]) is None  # a year of history models the season instead


def test_a_model_fitted_after_a_break_is_checked_for_the_season_it_does_not_hold():
    # a year of daily maximum temperatures (Clemson, placebo go-lives in July to September) cut
    # at a break in spring: the recent model held no season, the check read the whole year as
    # enough to model it, and the autumn fall was called `real`
    dates = pd.date_range("2023-01-01", periods=450, freq="D")
    wave = 10.0 * np.sin(2 * np.pi * np.arange(450) / 365.25)
    y = 60 + wave + ar1(np.random.default_rng(3), 450, 0.3, 1.0)
    whole_year = estimate_its(dates, dates[400], "D", y[:, None], -1.0)[0]
    assert whole_year.annual_season and visible_swing(whole_year) is None
    recent = replace(whole_year, annual_season=False, regime_start=dates[200])
    assert visible_swing(recent) > 10.0  # most of the 20-degree swing, beyond its noise


def _old_fall(seed: int) -> pd.DataFrame:
    """Daily, 350 days pre and 70 post (under a year: no season to model); the level fell 20%
    for good 240 days before go-live, and the pilot cut it a further 15% (bench/field's
    `old_shift_effect`, written without reading the engine)."""
    rng = np.random.default_rng(seed)
    dates = _daily(350, 70)
    y = 40 * (1 + ar1(rng, len(dates), 0.4, 0.03))
    y[350 - 240 :] *= 0.8
    y[350:] *= 0.85
    return observation_rows(f"fall-{seed}", "cycle_time", dates, y)


def test_an_old_step_the_level_held_is_not_a_seasonal_swing():
    # the break is dated and modelled; its 20% step was read as a 20% seasonal swing, so a real
    # -15% after it was a `seasonality` mirage and the pilot was stopped
    found = _analyse([_old_fall(seed) for seed in SEEDS])
    for pilot, effect in found.values():
        assert effect.model.endswith("_recent"), (pilot.pilot_id, effect.model)
        assert effect.verdict == "real", (pilot.pilot_id, effect.verdict, effect.reasons)
        assert effect.ci_low_pct <= -15.0 <= effect.ci_high_pct


def test_a_level_shift_is_not_taken_for_a_season():
    # the short weekly -20% shift: the pre-period swings only as much as its noise
    found = _analyse([_short_weekly(seed) for seed in range(12)])
    assert sum("seasonality" in e.reasons for _, e in found.values()) <= 1


def test_a_regime_fit_is_widened_only_by_a_backtest_that_tests_it():
    # `_regime_tested` on a fixed estimate: standardised errors above 1 over two windows or
    # more widen it (with the t reference's degrees of freedom cut to match); errors below 1,
    # or a test spanning under two windows, leave it as it is
    from analytics.estimate import _regime_tested

    rng = np.random.default_rng(0)
    dates = pd.date_range("2020-01-01", periods=60, freq="MS")
    y = 40 + ar1(rng, 60, 0.5, 0.3)
    recent = estimate_its(
        pd.DatetimeIndex(dates),
        np.datetime64("2024-01-01"),
        "M",
        y[:, None],
        np.array([-1.0]),
        breaks=False,
    )[0]

    def rolled(z2: float, blocks: float) -> dict:
        one = Backtest(np.array([1.0]), np.array([blocks]), np.array([12]), np.array([z2]))
        return {False: one, True: one, "combined": replace(one, level_weight=np.array([1.0]))}

    own = recent.se_abs / recent.calibration
    wide = _regime_tested(recent, rolled(4.0, 3.0))
    # a monthly series is guarded by the structural check: the model's claim weighs its own
    # degrees of freedom in windows (`guarded_prior`)
    prior = guarded_prior("M", "its", recent.df)
    assert prior == recent.df > 1
    assert np.isclose(wide.se_abs, own * np.sqrt((prior + 3 * 4.0) / (prior + 3)))
    assert wide.df == min(recent.df, int(prior + 3))
    assert np.allclose(wide.cf_se / recent.cf_se, wide.se_abs / recent.se_abs, equal_nan=True)
    assert _regime_tested(recent, rolled(0.5, 3.0)).se_abs == recent.se_abs
    assert _regime_tested(recent, rolled(4.0, 1.5)).se_abs == recent.se_abs


def test_calibration_is_continuous_through_a_ratio_of_one():
    # With the model's degrees of freedom given, a pooled ratio just below 1 gives the same
    # half-width as one just above (the backtests' predictive t), never less than the model's
    # own, and a ratio far below 1 leaves the model's interval as it is
    from analytics.levels import critical_t

    model_df, blocks = 11, 2.75
    posterior = int(1 + blocks)

    def half_width(z2: float) -> float:
        test = Backtest(np.ones(1), np.array([blocks]), np.array([20]), np.array([z2]))
        se, df = calibrated_se(np.ones(1), test, model_df)
        return float(se[0] * critical_t(int(df[0]) if np.isfinite(df[0]) else model_df))

    at_one = critical_t(posterior)  # ratio 1: the predictive reference, se unchanged
    assert half_width(1.0 - 1e-9) == pytest.approx(at_one, rel=1e-6)
    assert half_width(1.0 + 1e-9) == pytest.approx(at_one, rel=1e-6)
    # z2 0.6: pooled ratio (1 + 2.75 x 0.6) / 3.75; its predictive interval is still wider
    ratio = (1 + blocks * 0.6) / (1 + blocks)
    assert half_width(0.6) == pytest.approx(np.sqrt(ratio) * critical_t(posterior), rel=1e-9)
    assert half_width(0.6) > critical_t(model_df)
    # far below 1, the model's own interval: never narrower
    assert half_width(0.05) == pytest.approx(critical_t(model_df), rel=1e-12)
    # without the model's degrees of freedom, a ratio below 1 leaves the standard error alone
    test = Backtest(np.ones(1), np.array([blocks]), np.array([20]), np.array([0.6]))
    se, df = calibrated_se(np.ones(1), test)
    assert se[0] == 1.0 and np.isnan(df[0])


def _two_series_one_with_a_spell(seed: int) -> tuple[np.ndarray, np.ndarray, int]:
    """A daily design (trend, weekdays, annual terms over a 150-day pre-period) and two AR(1)
    series on it, the second with a bad spell over the last 12 pre-period days."""
    rng = np.random.default_rng(seed)
    n, pre = 200, 150
    dates = pd.date_range("2023-01-02", periods=n, freq="D").values
    x, _ = design_matrix(dates, "D", columns_for(dates, pre, "D", True, True))
    y = 20 + ar1(rng, n, 0.5, 1.0)[:, None] + rng.normal(0, 0.5, (n, 2))
    y[pre - 12 : pre, 1] += 3.0
    return x, y, pre


def test_the_spell_screen_is_each_lengths_dummy_fitted_in_turn():
    # every length at once from running sums gives what fitting each end-of-pre dummy does:
    # statsmodels OLS of the pre-period on the baseline columns and the dummy, its residuals'
    # Kendall-corrected AR(1) long-run variance (clipped to [0, RHO_MAX])
    x, y, pre = _two_series_one_with_a_spell(8)
    lengths = np.tile(np.array([[2, 5, 12, 40, 60]]), (2, 1))
    got = spell_t(x, y, np.array([pre, pre]), lengths)
    for j in range(2):
        for c, k in enumerate(lengths[j].tolist()):
            dummy = (np.arange(pre) >= pre - k).astype(float)
            fit = sm.OLS(y[:pre, j], np.column_stack([x[:pre], dummy])).fit()  # reference
            e = fit.resid
            rho = np.clip(kendall_rho(np.sum(e[1:] * e[:-1]) / np.sum(e**2), pre), 0, RHO_MAX)
            sigma2 = np.sum(e**2) / (pre - x.shape[1] - 1)
            u = dummy - x[:pre] @ np.linalg.lstsq(x[:pre], dummy, rcond=None)[0]
            se = np.sqrt(sigma2 * (1 + rho) / (1 - rho) / (u @ u))
            assert np.isclose(got[j, c], fit.params[-1] / se, rtol=1e-8), (j, k)
    assert got[1, 2] > 3 > abs(got[0, 2])


def test_spell_sizes_are_the_dummys_fit():
    # the coefficient a spell fit would give its end-of-pre dummy, without the fit (what the
    # spell search reads to skip fits that cannot pass its size test): statsmodels OLS of the
    # pre-period on the baseline columns and the dummy, and its residual SD with pre - 1 degrees
    # of freedom, never above the fit's own (pre - k - 1); to 1e-8: the normal equations of a
    # trend over 150 days and annual terms lose a few digits (1e-9 relative here)
    x, y, pre = _two_series_one_with_a_spell(9)
    lengths = np.array([2, 5, 12, 40])
    sizes = spell_sizes(x, y, pre, lengths)
    coef, sd_low = sizes.coef, sizes.sd_low
    for j in range(2):
        for c, k in enumerate(lengths.tolist()):
            dummy = (np.arange(pre) >= pre - k).astype(float)
            fit = sm.OLS(y[:pre, j], np.column_stack([x[:pre], dummy])).fit()  # reference
            assert np.isclose(coef[j, c], fit.params[-1], rtol=1e-8, atol=1e-12), (j, k)
            assert np.isclose(sd_low[j, c], np.sqrt(fit.ssr / (pre - 1)), rtol=1e-8)
            assert sd_low[j, c] <= np.sqrt(fit.scale)  # statsmodels' scale: ssr / df_resid
            if j == 0:  # the extreme eigenvalues of the design's X'X with the dummy
                design = np.column_stack([x[:pre], dummy])
                eig = np.linalg.eigvalsh(design.T @ design)
                assert np.isclose(sizes.eig_low[c], eig[0], rtol=1e-6)
                assert np.isclose(sizes.eig_high[c], eig[-1], rtol=1e-12)
    assert coef[1, 2] > 2.5 and abs(coef[0, 2]) < 1.0


def test_the_pre_periods_own_trend_test_sets_the_weights_it_is_clear_about():
    # |t| > 8 rejects the level-only model, |t| < 1 (t^2 < 1: Toro-Vizcarrondo & Wallace's MSE
    # criterion) drops the trend; in between, and for a series with no trend fit, the
    # backtests' weights stand
    dates = pd.date_range("2022-01-01", periods=40, freq="MS")
    y = 100 + ar1(np.random.default_rng(0), 40, 0.3, 4.0)
    base = estimate_its(dates, dates[30], "M", y[:, None], np.array([-1.0]))[0]
    fits = {i: replace(base, trend_t=t) for i, t in enumerate([0.5, -0.99, 3.0, -9.0])}
    w = np.array([0.3, 0.6, 0.3, 0.7, 0.4])
    assert _trend_evidence(w, fits).tolist() == [1.0, 1.0, 0.3, 0.0, 0.4]
    assert w.tolist() == [0.3, 0.6, 0.3, 0.7, 0.4]  # the backtests' weights are not written over


def _monthly_shift_halfwidths(seeds: range) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Monthly cycle time around 100 with AR(1) noise (phi 0.3, sd 4) and no trend, 36 months
    before go-live and 9 after, a true -12% shift: each seed's 95% half-width in % of the
    counterfactual, whether the interval holds -12%, and the model named."""
    dates = pd.date_range("2022-01-01", periods=45, freq="MS")
    half, covered, models = [], [], []
    for seed in seeds:
        y = 100 + ar1(np.random.default_rng(seed), 45, 0.3, 4.0)
        y[36:] *= 0.88
        est = estimate_its(dates, dates[36], "M", y[:, None], np.array([-1.0]))[0]
        h = critical_t(est.df) * est.se_abs
        half.append(100 * h / est.baseline)
        covered.append(abs(est.effect_abs / est.baseline + 0.12) * 100 <= half[-1])
        models.append(est.model)
    return np.array(half), np.array(covered), models


def test_a_trend_within_its_own_noise_does_not_widen_a_level_series_interval(monkeypatch):
    # with the trend candidate kept whatever its t (the rule off), a level series pays for
    # extrapolating a slope it does not have; with the rule, the seeds whose pre-period trend
    # is within its noise are projected from the level, narrower, still covering the truth
    seeds = range(12)
    half, covered, models = _monthly_shift_halfwidths(seeds)
    monkeypatch.setattr(analytics.estimate, "TREND_DROP_T", 0.0)
    half_off, _, models_off = _monthly_shift_halfwidths(seeds)
    assert models.count("level") > models_off.count("level"), (models, models_off)
    assert np.median(half) < np.median(half_off), (half, half_off)
    assert covered.mean() >= 10 / 12, covered
