import itertools

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from analytics.frequency import infer_frequency
from analytics.hac import long_run_lags
from analytics.its import (
    FILTER_TOGETHER,
    RHO_MAX,
    _ar1_filter,
    _post_noise,
    ar1_mean_variance,
    ar1_sandwich,
    build_design,
    columns_for,
    design_matrix,
    fit_segmented,
)

GO = pd.Timestamp("2025-01-06")


def daily(n_pre, n_post):
    return pd.date_range(GO - pd.Timedelta(days=n_pre), periods=n_pre + n_post, freq="D")


@pytest.mark.parametrize(
    ("dates", "freq"),
    [
        (pd.date_range("2024-01-01", periods=30, freq="D"), "D"),
        (pd.date_range("2024-01-01", periods=30, freq="W-MON"), "W"),
        (pd.date_range("2024-01-01", periods=30, freq="MS"), "M"),
        (pd.date_range("2010-01-01", periods=10, freq="YS"), "Y"),
        (pd.DatetimeIndex(["2024-01-01"]), None),
    ],
)
def test_infer_frequency(dates, freq):
    assert infer_frequency(dates) == freq


def test_business_days_are_daily():
    assert infer_frequency(pd.bdate_range("2024-01-01", periods=60)) == "D"


def test_design_columns_by_data_length():
    dates = daily(400, 60)
    design = build_design(dates, GO, "D", spike=10)
    assert design.names[:2] == ("intercept", "trend")
    assert sum(n.startswith("dow_") for n in design.names) == 6
    assert sum(n.startswith("annual_") for n in design.names) == 4
    assert "pre_spike" in design.names
    assert design.n_segments == 3
    assert set(np.unique(design.segment[design.post])) == {0, 1, 2}
    assert (design.segment[~design.post] == -1).all()
    short = build_design(daily(60, 5), GO, "D")
    assert not any(n.startswith("annual_") for n in short.names)
    assert short.n_segments == 1


def test_pre_period_fit_matches_statsmodels():
    rng = np.random.default_rng(0)
    dates = daily(200, 60)
    design = build_design(dates, GO, "D")
    y = 50 + 0.02 * np.arange(len(dates))[:, None] + rng.normal(size=(len(dates), 2))
    fit = fit_segmented(design, y)
    pre = ~design.post
    base = list(range(design.x.shape[1]))
    lags = long_run_lags(int(pre.sum()))
    for j in range(2):
        # sm.OLS(y_pre, X_pre).fit(cov_type="HAC", cov_kwds={"maxlags": lags})
        ref = sm.OLS(y[pre, j], design.x[pre][:, base]).fit(
            cov_type="HAC", cov_kwds={"maxlags": lags}
        )
        np.testing.assert_allclose(fit.counterfactual[pre, j], ref.fittedvalues, rtol=1e-8)
        cf_post = design.x[design.post][:, base] @ ref.params
        # the effect is a small difference of large numbers: absolute tolerance
        np.testing.assert_allclose(
            fit.effect_abs[j], (y[design.post, j] - cf_post).mean(), rtol=1e-8, atol=1e-7
        )
        # the trend's covariance is the larger of HAC and the AR(1) sandwich: never narrower
        assert abs(fit.trend_t[j]) <= abs(ref.tvalues[1]) * (1 + 1e-8)


@pytest.mark.parametrize(("rho", "n"), [(0.0, 10), (0.5, 7), (0.9, 40), (0.3, 1)])
def test_ar1_mean_variance_matches_the_covariance_matrix(rho, n):
    # reference: var(mean) = 1/n^2 * sum_ij sigma2 * rho^|i-j|
    i = np.arange(n)
    exact = (rho ** np.abs(i[:, None] - i[None, :])).sum() / n**2 * 2.0
    got = ar1_mean_variance(np.array([2.0]), np.array([rho]), n)[0]
    np.testing.assert_allclose(got, exact, rtol=1e-10)


def test_ar1_sandwich_matches_the_dense_formula():
    from analytics.its import ar1_sandwich

    rng = np.random.default_rng(3)
    x = np.column_stack([np.ones(40), np.arange(40.0), rng.normal(size=40)])
    rho, sigma2 = 0.6, 2.5
    i = np.arange(40)
    sigma = sigma2 * rho ** np.abs(i[:, None] - i[None, :])
    bread = np.linalg.inv(x.T @ x)
    dense = bread @ x.T @ sigma @ x @ bread  # reference: the sandwich with the full n x n matrix
    got = ar1_sandwich(x, np.array([sigma2]), np.array([rho]))[0]
    np.testing.assert_allclose(got, dense, rtol=1e-9)


def test_batched_go_lives_match_one_fit_per_go_live():
    from analytics.its import batch_designs

    rng = np.random.default_rng(5)
    dates = daily(300, 100)
    go = np.array([GO, GO - pd.Timedelta(days=40), GO + pd.Timedelta(days=30)], "datetime64[ns]")
    y = 20 + rng.normal(size=(len(dates), 3)).cumsum(axis=0) * 0.1
    for idx, design in batch_designs(dates, go, "D"):
        batched = fit_segmented(design, y[:, idx])
        for col, j in enumerate(idx):
            alone = fit_segmented(build_design(dates, pd.Timestamp(go[j]), "D"), y[:, j])
            np.testing.assert_allclose(batched.effect_abs[col], alone.effect_abs[0], rtol=1e-7)
            np.testing.assert_allclose(batched.se_abs[col], alone.se_abs[0], rtol=1e-7)
            np.testing.assert_allclose(
                batched.counterfactual[:, col], alone.counterfactual[:, 0], rtol=1e-7
            )


def test_noise_free_level_shift_is_recovered_exactly():
    dates = daily(100, 30)
    post = np.asarray(dates >= GO)
    y = 100 + 0.1 * np.arange(len(dates)) - 12.0 * post
    fit = fit_segmented(build_design(dates, GO, "D"), y)
    np.testing.assert_allclose(fit.effect_abs[0], -12.0, atol=1e-8)
    np.testing.assert_allclose(fit.segment_effect[0], -12.0, atol=1e-8)


def test_interval_covers_the_truth_at_about_95_percent():
    # 400 null AR(1) series in one batched fit: the 95% interval should cover 0 ~95% of the time.
    from scipy import signal, stats

    rng = np.random.default_rng(7)
    dates = daily(150, 60)
    e = rng.normal(size=(len(dates), 400))
    y = 100 + signal.lfilter([1.0], [1.0, -0.5], e, axis=0)
    fit = fit_segmented(build_design(dates, GO, "D"), y)
    half = stats.t.ppf(0.975, fit.df_resid) * fit.se_abs
    coverage = np.mean(np.abs(fit.effect_abs) <= half)
    assert 0.91 <= coverage <= 0.99, coverage


@pytest.mark.parametrize("n_post", [1, 2, 5, 8, 9, 10, 11, 31, 100])
def test_segments_are_early_middle_late_thirds(n_post):
    # reference: row r of the post window is in segment floor(r * n_seg / n_post)
    design = build_design(daily(40, n_post), GO, "D")
    n_seg = 3 if n_post >= 9 else 1
    rank = np.arange(n_post)
    expected = np.r_[np.full(40, -1), np.floor(rank * n_seg / n_post).astype(int)]
    np.testing.assert_array_equal(design.segment, expected)
    assert design.n_segments == n_seg
    assert int(design.n_segments_each[0]) == n_seg
    counts = np.diff(design.edges[0])
    assert counts.sum() == n_post and (counts > 0).all()


def test_batched_windows_match_their_masks():
    from analytics.its import batch_designs

    dates = daily(60, 30)
    starts = np.array([GO, GO - pd.Timedelta(days=20)], "datetime64[ns]")
    ends = np.array([GO + pd.Timedelta(days=12), GO], "datetime64[ns]")
    [(idx, design)] = batch_designs(dates, starts, "D", ends)
    values = np.asarray(dates, dtype="datetime64[ns]")
    for col, j in enumerate(idx):
        np.testing.assert_array_equal(design.pre[:, col], values < starts[j])
        np.testing.assert_array_equal(
            design.post[:, col], (values >= starts[j]) & (values < ends[j])
        )
    assert design.pre.shape == design.post.shape == design.segment.shape == (len(dates), 2)


def test_a_flat_pre_period_does_not_make_post_noise_exact():
    # a pre-period back-filled with one value has no residual variance; the post window's own
    # noise must then set the interval (it had zero width, and noise was called real)
    rng = np.random.default_rng(2)
    dates = daily(180, 90)
    post = np.asarray(dates >= GO)
    y = np.where(post, 100 + rng.normal(0, 5, len(dates)), 100.0)
    fit = fit_segmented(build_design(dates, GO, "D"), y)
    # reference: the standard error of a mean of 90 independent N(0, 5^2) points is 5/sqrt(90)
    assert fit.se_abs[0] >= 0.9 * 5 / np.sqrt(90)
    assert abs(fit.effect_abs[0]) <= 2.5 * fit.se_abs[0]


def test_post_noise_reads_each_series_around_its_own_segment_means():
    # the batch's post-window noise against each series alone, written out: residuals around
    # each segment's mean, (1.4826 MAD)^2 and the Kendall-corrected lag-one autocorrelation
    # (clipped to [0, RHO_MAX]); windows of other starts and lengths, one with an empty middle
    # segment, one with a single segment
    rng = np.random.default_rng(11)
    n = 200
    edges = np.array([[120, 140, 160, 200], [150, 150, 170, 190], [60, 200, 200, 200]])
    seg_effect = rng.normal(0, 3, (3, 3))
    gap = rng.normal(0, 1, (n, 3)) + np.linspace(0, 2, n)[:, None]
    sigma2, rho, known = _post_noise(gap, seg_effect, edges)
    for j in range(3):
        windows = enumerate(itertools.pairwise(edges[j]))
        resid = np.concatenate([gap[a:b, j] - seg_effect[j, s] for s, (a, b) in windows])
        mad = np.median(np.abs(resid))
        r = np.sum(resid[1:] * resid[:-1]) / np.sum(resid**2)
        assert known[j]
        np.testing.assert_allclose(sigma2[j], (1.4826 * mad) ** 2, rtol=1e-12)
        expected = np.clip(r + (1 + 3 * r) / len(resid), 0.0, RHO_MAX)
        np.testing.assert_allclose(rho[j], expected, rtol=1e-12, atol=1e-15)


def test_a_noisier_post_window_widens_the_interval():
    rng = np.random.default_rng(4)
    dates = daily(180, 90)
    post = np.asarray(dates >= GO)
    calm = 100 + rng.normal(0, 1, len(dates))
    loud = np.where(post, 100 + 4 * (calm - 100), calm)
    same = fit_segmented(build_design(dates, GO, "D"), calm)
    wider = fit_segmented(build_design(dates, GO, "D"), loud)
    # the post noise's share of the variance grows with its variance, 16 times: reference
    # Var(mean of 90 independent N(0, 1) points) = 1/90, so the difference is about 15/90
    extra = wider.se_abs[0] ** 2 - same.se_abs[0] ** 2
    assert extra == pytest.approx(15 / 90, rel=0.3)


def test_residual_autocorrelation_is_corrected_for_the_slow_columns_that_absorb_it():
    # 78 weekly pre-period points with level, trend and two annual Fourier pairs soak up the
    # slow part of AR(1) noise: raw residual lag-one autocorrelation at rho = 0.6 averages about
    # 0.42 (simulated), Kendall's mean-only correction brings it to ~0.45; the design-aware one
    # must land near 0.6
    from scipy import signal

    rng = np.random.default_rng(11)
    dates = pd.date_range("2023-01-02", periods=104, freq="W-MON")
    design = build_design(dates, dates[78], "W")
    assert design.n_slow == 6
    e = signal.lfilter([1.0], [1.0, -0.6], rng.normal(size=(204, 600)), axis=0)[100:]
    fit = fit_segmented(design, 100 + e)
    assert abs(fit.rho.mean() - 0.6) < 0.06, fit.rho.mean()


def test_kendall_rho_removes_the_small_sample_bias_of_a_lag_one_autocorrelation():
    # Kendall (1954): around a sample mean, E[rho_hat] ~ rho - (1 + 3 rho) / n. Simulated AR(1)
    # noise with rho = 0.5 over 40 points: the raw estimate falls short by about 0.076, the
    # corrected one by about 0.019 (what is left is of higher order in 1 / n).
    from analytics.its import kendall_rho

    rng = np.random.default_rng(7)
    n, m, rho = 40, 20_000, 0.5
    noise = rng.standard_normal((n + 50, m))
    y = np.zeros_like(noise)
    for t in range(1, len(y)):
        y[t] = rho * y[t - 1] + noise[t]
    y = y[50:] - y[50:].mean(axis=0)
    raw = (y[1:] * y[:-1]).sum(axis=0) / (y * y).sum(axis=0)
    raw_miss = rho - raw.mean()
    corrected_miss = abs(float(np.mean(kendall_rho(raw, n))) - rho)
    assert raw_miss > 0.06
    assert corrected_miss < min(raw_miss / 3, 0.03)
    assert kendall_rho(0.0, 0) == 1.0  # n is taken as at least one


@pytest.mark.parametrize("freq,step", [("D", "D"), ("W", "7D"), ("M", "MS"), ("Q", "QS")])
def test_the_design_of_a_prefix_is_the_prefix_of_the_design(freq, step):
    # design matrices are memoised by date axis and the backtests slice the whole axis' design:
    # every column depends on its own date and the first only, so slicing changes no number
    dates = pd.date_range("2023-01-02", periods=120, freq=step).values
    names = columns_for(dates, 100, freq, True, True)
    x, t = design_matrix(dates, freq, names)
    for pre in (10, 57, 100):
        x_pre, t_pre = design_matrix(dates[:pre], freq, names)
        assert np.array_equal(x[:pre], x_pre) and np.array_equal(t[:pre], t_pre)
    assert design_matrix(dates, freq, names)[0] is x  # the memoised array, shared ...
    with pytest.raises(ValueError):
        x[0, 0] = 2.0  # ... so read-only


def test_the_batch_ar1_filter_is_scipys_lfilter_bit_for_bit():
    # the AR(1) sandwich filters a large batch of series in one pass over the rows; each
    # series' filtered design is what scipy.signal.lfilter([1], [1, -rho], x) gives, exactly
    from scipy import signal

    rng = np.random.default_rng(4)
    x = np.column_stack([np.ones(300), np.arange(300.0), rng.normal(size=(300, 3))])
    rho = np.r_[0.0, 0.97, rng.uniform(0, 0.97, FILTER_TOGETHER)]
    together = _ar1_filter(x, rho)
    for j, r in enumerate(rho):
        assert np.array_equal(together[:, j], signal.lfilter([1.0], [1.0, -r], x, axis=0))
    # ... so the sandwich of a large batch is each series' own, over its own pre-period (its
    # X'LX summed in one matrix product for a few series at a time, where a series alone takes
    # its own: the same sums, added by BLAS in another order)
    lengths = rng.integers(50, 300, len(rho))
    sigma2 = rng.uniform(0.5, 2.0, len(rho))
    batch = ar1_sandwich(x, sigma2, rho, lengths)
    for j in (0, 1, len(rho) - 1):
        one = ar1_sandwich(x, sigma2[j : j + 1], rho[j : j + 1], lengths[j : j + 1])
        np.testing.assert_allclose(batch[j], one[0], rtol=1e-12, atol=1e-15 * np.abs(one).max())
