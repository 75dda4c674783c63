"""Balanced accuracy of real-vs-not-real on synthetic pilots with known truth, beside the naive
pre/post Welch t-test. Run with `pytest -s` to print the table for the README."""

from __future__ import annotations

import pandas as pd
import pytest
from scipy import stats
from synth import CASES, catalog, empty_thresholds, portfolio

from analytics.portfolio import analyze_portfolio

SEEDS = 16
FREQS = ("D", "W", "M")


def naive_says_real(obs: pd.DataFrame, go_live: pd.Timestamp) -> bool:
    """What a pre/post slide concludes: Welch t-test on the value metric, p < 0.05, lower."""
    rows = obs[(obs["metric"] == "cycle_time") & (obs["group"] == "treatment")]
    weight = rows["volume"].fillna(1.0)
    series = (rows["value"] * weight).groupby(rows["date"]).sum() / weight.groupby(
        rows["date"]
    ).sum()
    pre, post = series[series.index < go_live], series[series.index >= go_live]
    # scipy.stats.ttest_ind(post, pre, equal_var=False)
    res = stats.ttest_ind(post, pre, equal_var=False)
    return bool(res.pvalue < 0.05 and post.mean() < pre.mean())


@pytest.fixture(scope="module")
def outcomes() -> pd.DataFrame:
    rows = []
    for freq in FREQS:
        for seed in range(SEEDS):
            obs, pilots, family_of = portfolio(freq, seed)
            results = analyze_portfolio(obs, pilots, catalog(), empty_thresholds())
            go_live = pilots.set_index("pilot_id")["go_live"]
            by_pilot = dict(tuple(obs.groupby("pilot_id")))
            for result in results:
                family = family_of[result.pilot_id]
                truth = CASES[family]
                effect = next(m for m in result.metrics if m.metric == "cycle_time")
                rows.append(
                    {
                        "freq": freq,
                        "family": family,
                        "truth": truth.real,
                        "pilotproof": effect.verdict == "real",
                        "naive": naive_says_real(
                            by_pilot[result.pilot_id], go_live[result.pilot_id]
                        ),
                        "verdict_ok": effect.verdict in truth.verdicts,
                        "reason_ok": truth.reason is None or truth.reason in effect.reasons,
                        "decision_ok": result.decision in truth.decisions
                        and (truth.pilot_reason is None or truth.pilot_reason in result.reasons),
                    }
                )
    return pd.DataFrame(rows)


def balanced_accuracy(truth: pd.Series, predicted: pd.Series) -> float:
    """Mean of the true-positive and true-negative rates (as sklearn balanced_accuracy_score)."""
    tpr = predicted[truth].mean()
    tnr = 1 - predicted[~truth].mean()
    return float((tpr + tnr) / 2)


def test_balanced_accuracy_beats_the_naive_test(outcomes):
    ours = balanced_accuracy(outcomes["truth"], outcomes["pilotproof"])
    naive = balanced_accuracy(outcomes["truth"], outcomes["naive"])
    table = outcomes.assign(
        pilotproof=outcomes["pilotproof"] == outcomes["truth"],
        naive=outcomes["naive"] == outcomes["truth"],
    )
    per_family = table.groupby("family")[
        ["pilotproof", "naive", "verdict_ok", "reason_ok", "decision_ok"]
    ].mean()
    per_freq = outcomes.groupby("freq").apply(
        lambda g: pd.Series(
            {
                "pilotproof": balanced_accuracy(g["truth"], g["pilotproof"]),
                "naive": balanced_accuracy(g["truth"], g["naive"]),
            }
        )
    )
    print(
        f"\nbalanced accuracy, {len(outcomes)} synthetic pilots: pilotproof {ours:.3f}, "
        f"naive Welch t-test {naive:.3f}"
    )
    print(per_freq.round(3).to_string())
    print(per_family.round(2).to_string())
    assert ours >= 0.95
    assert naive <= 0.75
    for freq, row in per_freq.iterrows():
        assert row["pilotproof"] >= 0.93, freq


def test_every_family_is_mostly_right(outcomes):
    correct = (outcomes["pilotproof"] == outcomes["truth"]).groupby(outcomes["family"]).mean()
    assert (correct >= 0.8).all(), correct[correct < 0.8]
    # every family except deliberately persistent noise at >= 0.9, and a real effect hidden by
    # a pre-trend at >= 0.85: its weekly and monthly pilots (78 and 36 pre-period points) lose
    # power since the backtest no longer borrows the season fitted on the whole pre-period
    # (0.917 -> 0.875: two weekly pilots turned inconclusive). That season leaked the tested
    # windows into their own forecasts; without the leak, placebo go-lives on real series are
    # called `real` 3.3% of the time instead of 4.1% (daily 3.7% -> 2.0%).
    floors = pd.Series(0.9, index=correct.index).drop("mirage_noise")
    floors["real_trend_hidden"] = 0.85
    held = correct[floors.index]
    assert (held >= floors).all(), held[held < floors]


def test_mirages_are_named_by_their_cause(outcomes):
    named = outcomes[outcomes["family"].str.startswith("mirage_")].groupby("family")["reason_ok"]
    rates = named.mean()
    assert (rates >= 0.85).all(), rates


@pytest.mark.parametrize(
    "family", ["real_level", "burden_shift", "readiness_gap", "activity_only", "worse"]
)
def test_decision_families(outcomes, family):
    rate = outcomes.loc[outcomes["family"] == family, "decision_ok"].mean()
    assert rate >= 0.9, (family, rate)
