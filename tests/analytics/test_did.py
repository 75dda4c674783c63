import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf
from scipy import optimize

from analytics.did import estimate_did, parallel_trends_p, synthetic_weights
from analytics.levels import critical_t

GO = pd.Timestamp("2025-03-03")


def days(n_pre, n_post):
    return pd.date_range(GO - pd.Timedelta(days=n_pre), periods=n_pre + n_post, freq="D")


def test_did_point_estimate_matches_the_statsmodels_interaction():
    rng = np.random.default_rng(0)
    dates = days(60, 30)
    post = np.asarray(dates >= GO)
    common = rng.normal(size=90).cumsum() * 0.3
    treated = 50 + common - 4.0 * post + rng.normal(size=90)
    control = 40 + common + rng.normal(size=90)
    est = estimate_did(dates, GO, "D", treated, pd.DataFrame({"c": control}), sign=-1.0)
    long = pd.DataFrame(
        {
            "value": np.r_[treated, control],
            "treated": np.r_[np.ones(90), np.zeros(90)],
            "post": np.r_[post, post].astype(float),
        }
    )
    # smf.ols("value ~ treated * post", long).fit().params["treated:post"]
    ref = smf.ols("value ~ treated * post", long).fit()
    assert est.method == "did"
    np.testing.assert_allclose(est.effect_abs, ref.params["treated:post"], rtol=1e-8)
    assert est.effect_abs - 2.2 * est.se_abs < -4.0 < est.effect_abs + 2.2 * est.se_abs


def _slsqp_simplex(y: np.ndarray, c: np.ndarray) -> np.ndarray:
    """Reference: min ||y - c w||^2 subject to w >= 0, sum w = 1, by scipy's SLSQP."""
    k = c.shape[1]
    return optimize.minimize(
        lambda v: ((y - c @ v) ** 2).sum(),
        np.full(k, 1 / k),
        method="SLSQP",
        bounds=[(0, 1)] * k,
        constraints=[{"type": "eq", "fun": lambda v: v.sum() - 1}],
        options={"ftol": 1e-12},
    ).x


def test_canonical_synthetic_weights_fit_the_level_and_match_slsqp():
    rng = np.random.default_rng(1)
    c = 20 + rng.normal(size=(80, 4)).cumsum(axis=0) + np.array([0.0, 5.0, -5.0, 10.0])
    y = c @ np.array([0.6, 0.4, 0.0, 0.0]) + rng.normal(scale=0.05, size=80)
    w = synthetic_weights(y, c)
    np.testing.assert_allclose(w, [0.6, 0.4, 0.0, 0.0], atol=0.02)
    np.testing.assert_allclose(w, _slsqp_simplex(y, c), atol=1e-3)
    assert w.min() >= 0 and abs(w.sum() - 1) < 1e-12


def test_synthetic_weights_with_intercept_recover_known_weights_and_match_slsqp():
    rng = np.random.default_rng(1)
    c = rng.normal(size=(80, 4)).cumsum(axis=0)
    y = 5 + c @ np.array([0.6, 0.4, 0.0, 0.0]) + rng.normal(scale=0.05, size=80)
    w = synthetic_weights(y, c, intercept=True)
    np.testing.assert_allclose(w, [0.6, 0.4, 0.0, 0.0], atol=0.02)
    # the same problem on demeaned series
    np.testing.assert_allclose(w, _slsqp_simplex(y - y.mean(), c - c.mean(axis=0)), atol=1e-3)
    assert w.min() >= 0 and abs(w.sum() - 1) < 1e-12


def test_diverging_pre_trends_switch_to_a_synthetic_control():
    rng = np.random.default_rng(2)
    dates = days(120, 60)
    t = np.arange(180.0)
    post = np.asarray(dates >= GO)
    rising = 30 + 0.1 * t + rng.normal(scale=0.5, size=180)
    flat = 30 + rng.normal(scale=0.5, size=180)
    treated = 10 + rising - 5.0 * post + rng.normal(scale=0.5, size=180)
    controls = pd.DataFrame({"flat": flat, "rising": rising})
    assert parallel_trends_p(t[~post], (treated - controls.mean(axis=1).to_numpy())[~post]) < 0.05
    est = estimate_did(dates, GO, "D", treated, controls, sign=-1.0)
    assert est.method == "synthetic_control"
    assert est.weights is not None and est.weights["rising"] > 0.9
    assert abs(est.effect_abs + 5.0) < 1.0


def test_a_company_wide_percentage_fall_is_not_the_pilots_whatever_the_control_level():
    # every unit falls 15% at go-live; the control runs at 0.4x or 2.5x the treated level. In
    # levels the small control falls 6 hours to the pilot's 15, and the difference read as a
    # 9.5% 'real' win (scaled); in proportion they fell alike (Roth & Sant'Anna 2023).
    from analytics.mirage import run_checks

    rng = np.random.default_rng(3)
    dates = days(120, 60)
    post = np.asarray(dates >= GO)
    n = len(dates)
    shape = 1 - 0.15 * post + 0.02 * np.sin(np.arange(n) / 9)
    treated = 100 * shape + rng.normal(0, 1.0, n)
    for level in (40.0, 250.0):
        control = level * shape + rng.normal(0, 1.0, n)
        est = estimate_did(dates, GO, "D", treated, pd.DataFrame({"c": control}), sign=-1.0)
        assert est.proportional_effect is not None
        assert abs(est.proportional_effect) < 2 * est.proportional_se + 0.5
        sig, checks = run_checks(est, -1.0)
        control_moved = next(c for c in checks if c.name == "control_moved")
        assert not (sig.improved and control_moved.passed), level


def test_where_the_two_scales_disagree_the_interval_spans_both():
    # the same company-wide 15% fall, three controls at 0.5-0.8x the treated level and no
    # pilot effect: in levels the pilot 'beats' them, in proportion it does not. The interval
    # reported must hold the true zero (and the levels' estimate), not only the levels' answer
    for seed in range(4):
        rng = np.random.default_rng(10 + seed)
        dates = days(120, 60)
        post = np.asarray(dates >= GO)
        n = len(dates)
        shape = 1 - 0.15 * post + 0.02 * np.sin(np.arange(n) / 9)
        treated = 100 * shape + rng.normal(0, 1.0, n)
        controls = pd.DataFrame(
            {f"c{k}": level * shape + rng.normal(0, 1.0, n) for k, level in enumerate((50, 65, 80))}
        )
        est = estimate_did(dates, GO, "D", treated, controls, sign=-1.0)
        assert est.proportional_effect is not None
        half = critical_t(est.df) * est.se_abs
        assert est.effect_abs - half <= 0.0 <= est.effect_abs + half, (seed, est.effect_abs, half)


def test_equal_levels_need_no_second_scale():
    rng = np.random.default_rng(4)
    dates = days(90, 45)
    post = np.asarray(dates >= GO)
    common = rng.normal(size=135).cumsum() * 0.3
    treated = 50 + common - 4.0 * post + rng.normal(size=135)
    control = 50.5 + common + rng.normal(size=135)
    est = estimate_did(dates, GO, "D", treated, pd.DataFrame({"c": control}), sign=-1.0)
    assert est.proportional_effect is None


def test_sdid_through_the_gap_model_is_the_pinned_sdid_estimate():
    """`did.synthetic_control(..., "sdid")` shifts the post rows so that the gap model's effect
    (post mean minus plain pre mean of the gap) is exactly `synth.estimate`'s tau, itself pinned
    to the authors' R package in tests/analytics/test_synth.py."""
    from analytics import synth
    from analytics.did import synthetic_control

    rng = np.random.default_rng(5)
    factor = rng.normal(size=(40, 1)).cumsum(axis=0)
    c = 30 + factor @ rng.uniform(0.5, 1.5, (1, 6)) + rng.normal(scale=0.3, size=(40, 6))
    y = 33 + 1.1 * factor[:, 0] + rng.normal(scale=0.3, size=40) - 2.0 * (np.arange(40) >= 30)
    control, w = synthetic_control(y, c, 30, "sdid")
    gap = y - control
    tau = synth.estimate(y, c, 30, "sdid").tau
    assert gap[30:].mean() - gap[:30].mean() == pytest.approx(tau, abs=1e-9)
    assert w.min() >= 0 and w.sum() == pytest.approx(1.0)
