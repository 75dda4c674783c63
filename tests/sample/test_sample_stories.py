"""Each sample pilot tells the story `data/sample/README.md` promises, checked on the raw CSVs
with plain pandas and statsmodels, independent of pilotproof's own analytics.

A mirage must fool the naive comparison (otherwise there is nothing to catch) and carry the
tell-tale its check looks for; a hidden win must not show up in the naive comparison.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import statsmodels.api as sm
from sample_data import naive_change_pct, split, treatment_series

from pilotproof.store.catalog import BUILTIN_METRICS

TOLERANCE = {spec.metric: spec.tolerance_pct for spec in BUILTIN_METRICS}
THRESHOLD = {spec.metric: spec.threshold_pct for spec in BUILTIN_METRICS}


def series(observations, pilots, pilot_id, metric):
    return treatment_series(observations, pilot_id, metric), pilots.loc[pilot_id, "go_live"]


def test_real_level_shift_is_visible_and_guardrails_hold(observations, pilots):
    s, go_live = series(observations, pilots, "NW-AP", "cycle_time")
    assert naive_change_pct(s, go_live) < -2 * THRESHOLD["cycle_time"]
    rework, _ = series(observations, pilots, "NW-AP", "rework_rate")
    assert abs(naive_change_pct(rework, go_live)) < TOLERANCE["rework_rate"]


def test_noise_fools_a_plain_t_test_but_not_newey_west(observations, pilots):
    s, go_live = series(observations, pilots, "NW-SALES", "cycle_time")
    change = naive_change_pct(s, go_live)
    assert -5.0 < change < 0.0  # an apparent improvement, below any threshold
    post = (s.index >= go_live).astype(float)
    design = sm.add_constant(post)
    # statsmodels: OLS(log y, [1, post]).fit() vs .fit(cov_type="HAC", cov_kwds={"maxlags": 30})
    plain = sm.OLS(np.log(s.to_numpy()), design).fit()
    hac = sm.OLS(np.log(s.to_numpy()), design).fit(cov_type="HAC", cov_kwds={"maxlags": 30})
    assert plain.pvalues[1] < 0.01
    assert hac.pvalues[1] > 0.2
    # The noise is strongly autocorrelated: lag-1 autocorrelation of the daily series.
    assert s.autocorr(lag=1) > 0.6


def test_mix_shift_moves_the_aggregate_but_not_the_rates(observations, pilots):
    go_live = pilots.loc["NW-ORDERS", "go_live"]
    rows = observations[
        (observations["pilot_id"] == "NW-ORDERS")
        & (observations["metric"] == "cost_per_transaction")
    ]
    aggregate = treatment_series(observations, "NW-ORDERS", "cost_per_transaction")
    assert naive_change_pct(aggregate, go_live) < -15
    for _segment, segment_rows in rows.groupby("segment"):
        by_date = segment_rows.set_index("date")["value"]
        assert abs(naive_change_pct(by_date, go_live)) < 2.0
    simple = rows[rows["segment"] == "simple"].set_index("date")["volume"]
    total = rows.groupby("date")["volume"].sum()
    share_pre, share_post = split(simple / total, go_live)
    assert share_post.mean() - share_pre.mean() > 0.15


def test_too_young_has_few_post_points(observations, pilots):
    s, go_live = series(observations, pilots, "NW-COLLECT", "cost_per_transaction")
    pre, post = split(s, go_live)
    assert len(post) < 5 < len(pre)
    assert naive_change_pct(s, go_live) < 0  # promising, and too early to tell


def test_control_win_beats_controls_through_a_common_shock(observations, pilots):
    go_live = pilots.loc["HB-TRIAGE", "go_live"]
    rows = observations[
        (observations["pilot_id"] == "HB-TRIAGE") & (observations["metric"] == "cycle_time")
    ]
    controls = rows[rows["group"] == "control"]
    assert controls["unit"].nunique() >= 5
    treated = rows[rows["group"] == "treatment"].set_index("date")["value"]
    control_mean = controls.groupby("date")["value"].mean()
    # Difference in differences of log means: treated fell well beyond the controls.
    did = np.log(split(treated, go_live)[1].mean() / split(treated, go_live)[0].mean()) - np.log(
        split(control_mean, go_live)[1].mean() / split(control_mean, go_live)[0].mean()
    )
    assert 100 * (np.exp(did) - 1) < -15
    # The ramp: the first post fortnight shows much less than the last two months.
    post = treated[treated.index >= go_live]
    assert post.iloc[:14].mean() > post.iloc[-60:].mean() * 1.15


def test_control_moved_as_much_as_the_treated_depot(observations, pilots):
    go_live = pilots.loc["MF-DISPATCH", "go_live"]
    rows = observations[
        (observations["pilot_id"] == "MF-DISPATCH")
        & (observations["metric"] == "cost_per_transaction")
    ]
    treated = rows[rows["group"] == "treatment"].set_index("date")["value"]
    control_mean = rows[rows["group"] == "control"].groupby("date")["value"].mean()
    assert rows.loc[rows["group"] == "control", "unit"].nunique() >= 5
    assert naive_change_pct(treated, go_live) < -THRESHOLD["cost_per_transaction"]
    assert abs(naive_change_pct(treated, go_live) - naive_change_pct(control_mean, go_live)) < 3


def test_season_hides_a_real_win(observations, pilots):
    s, go_live = series(observations, pilots, "HB-FNOL", "cycle_time")
    pre, post = split(s, go_live)
    assert (go_live - pre.index.min()).days > 3 * 365
    assert naive_change_pct(s, go_live) > 0  # looks worse than before
    # Against the same weeks one year earlier it is clearly better.
    last_year = s[
        (s.index >= go_live - pd.Timedelta(weeks=52))
        & (s.index < post.index.max() - pd.Timedelta(weeks=51))
    ]
    assert post.mean() / last_year.mean() - 1 < -0.12


def test_regression_to_the_mean_follows_a_spike(observations, pilots):
    s, go_live = series(observations, pilots, "HB-SERVICE", "response_time")
    pre, post = split(s, go_live)
    last_month = pre.iloc[-28:]
    baseline = pre.iloc[:-35]
    assert last_month.mean() > baseline.mean() * 1.25  # the bad spell before go-live
    assert post.mean() / last_month.mean() - 1 < -0.20  # what a team would claim
    assert abs(post.mean() / baseline.mean() - 1) < 0.03  # just back to normal


def test_activity_rises_while_the_outcome_stays_flat(observations, pilots):
    go_live = pilots.loc["HB-UW", "go_live"]
    for metric in ("adoption_rate", "ai_usage"):
        s, _ = series(observations, pilots, "HB-UW", metric)
        assert naive_change_pct(s, go_live) > 100, metric
    for metric in ("cycle_time", "quality_score"):
        s, _ = series(observations, pilots, "HB-UW", metric)
        assert abs(naive_change_pct(s, go_live)) < 2, metric


def test_burden_shift_rework_worsens_beyond_tolerance(observations, pilots):
    s, go_live = series(observations, pilots, "CB-ASSIST", "response_time")
    assert naive_change_pct(s, go_live) < -2 * THRESHOLD["response_time"]
    rework, _ = series(observations, pilots, "CB-ASSIST", "rework_rate")
    assert naive_change_pct(rework, go_live) > 10 * TOLERANCE["rework_rate"]


def test_seasonality_the_same_dip_came_last_year(observations, pilots):
    s, go_live = series(observations, pilots, "CB-CHAT", "response_time")
    pre, post = split(s, go_live)
    assert (go_live - pre.index.min()).days > 365
    assert naive_change_pct(s, go_live) < -THRESHOLD["response_time"]
    shifted = post.copy()
    shifted.index = shifted.index - pd.DateOffset(years=1)
    same_window_last_year = pre.reindex(shifted.index).dropna()
    assert abs(post.mean() / same_window_last_year.mean() - 1) < 0.05


def test_novelty_fades(observations, pilots):
    s, go_live = series(observations, pilots, "CB-SALES", "reply_rate")
    pre, post = split(s, go_live)
    assert naive_change_pct(s, go_live) > 5  # the whole post window still looks better
    assert post.iloc[:28].mean() / pre.mean() - 1 > 0.25  # the first month looks great
    assert abs(post.iloc[-60:].mean() / pre.mean() - 1) < 0.05  # the last two months do not
    ai, _ = series(observations, pilots, "CB-SALES", "ai_usage")
    assert split(ai, go_live)[1].iloc[-60:].mean() > 10 * split(ai, go_live)[0].mean()


def test_pre_trend_continues_through_go_live(observations, pilots):
    s, go_live = series(observations, pilots, "MF-PROC", "cycle_time")
    pre, post = split(s, go_live)
    assert naive_change_pct(s, go_live) < -2 * THRESHOLD["cycle_time"]
    # Extrapolate the pre-period line: the post period sits on it.
    # numpy: np.polyfit(t, y, 1) is the OLS line
    t = (s.index - s.index[0]).days.to_numpy()
    slope, intercept = np.polyfit(t[: len(pre)], pre.to_numpy(), 1)
    assert slope < 0
    predicted = intercept + slope * t[len(pre) :]
    assert abs(post.mean() / predicted.mean() - 1) < 0.03


def test_readiness_gap_sits_on_a_real_win(observations, pilots):
    s, go_live = series(observations, pilots, "MF-AUDIT", "cost_per_transaction")
    assert naive_change_pct(s, go_live) < -2 * THRESHOLD["cost_per_transaction"]
    missing = pilots.loc["MF-AUDIT", ["exception_path", "escalation_path", "control_points"]]
    assert missing.isna().all()
