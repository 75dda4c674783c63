"""analyze_portfolio end to end on synthetic pilots: thresholds, overrides, filters, series."""

from __future__ import annotations

import numpy as np
import pandas as pd
from synth import catalog, empty_thresholds, portfolio

from analytics.portfolio import analyze_portfolio


def _one(family: str, seed: int = 0, **kwargs):
    obs, pilots, _ = portfolio("D", seed, [family])
    for key, value in kwargs.get("pilot_changes", {}).items():
        pilots[key] = value
    thresholds = kwargs.get("thresholds", empty_thresholds())
    cat = kwargs.get("catalog", catalog())
    (result,) = analyze_portfolio(obs, pilots, cat, thresholds)
    return result


def test_a_clean_win_scales_with_a_readable_title():
    result = _one("real_level")
    effect = result.metrics[0]
    assert (result.decision, result.reasons) == ("scale", ())
    assert effect.verdict == "real" and effect.reasons == ()
    assert effect.ci_low_pct < -15 < effect.ci_high_pct  # true effect -15%
    assert result.summary.startswith("real level cut cycle time")
    assert result.summary.endswith("ready to scale")
    assert effect.note.startswith("cycle time ") and "lower than it would have been" in effect.note
    series = effect.series
    assert list(series.columns) == [
        "date",
        "observed",
        "counterfactual",
        "cf_low",
        "cf_high",
        "control",
    ]
    assert len(series) == effect.n_pre + effect.n_post
    assert (series["cf_low"] <= series["counterfactual"]).all()
    assert (series["counterfactual"] <= series["cf_high"]).all()


def test_a_per_pilot_threshold_override_turns_scale_into_fix():
    obs, pilots, _ = portfolio("D", 0, ["real_level"])
    pilot_id = pilots["pilot_id"].iloc[0]
    override = pd.DataFrame(
        {
            "pilot_id": [pilot_id],
            "metric": ["cycle_time"],
            "threshold_pct": [40.0],
            "tolerance_pct": [np.nan],
        }
    )
    (result,) = analyze_portfolio(obs, pilots, catalog(), override)
    assert result.metrics[0].threshold_pct == 40.0
    assert result.metrics[0].tolerance_pct == 5.0  # catalog default kept where not overridden
    assert (result.decision, result.reasons) == ("fix", ("below_threshold",))


def test_catalog_threshold_default_applies():
    cat = catalog()
    cat.loc[cat["metric"] == "cycle_time", "threshold_pct"] = 50.0
    result = _one("real_level", catalog=cat)
    assert result.decision == "fix" and "below_threshold" in result.reasons


def test_value_metric_answer_picks_the_metric_and_falls_back_to_the_catalog():
    named = _one("burden_shift", pilot_changes={"value_metric": "Rework rate"})
    assert named.value_metrics == ("rework_rate",)
    assert named.decision == "stop"  # rework got worse: no real value on the named metric
    unknown = _one("burden_shift", pilot_changes={"value_metric": "customer delight"})
    assert unknown.value_metrics == ("cycle_time",)


def test_net_value_uses_cost_per_transaction():
    obs, pilots, _ = portfolio("D", 1, ["real_level"])
    obs = obs.assign(metric="cost_per_transaction")
    cat = catalog()
    cat.loc[cat["metric"] == "cycle_time", "metric"] = "cost_per_transaction"
    (result,) = analyze_portfolio(obs, pilots, cat, empty_thresholds())
    effect = result.metrics[0]
    net = result.net_value
    assert net is not None and net.metric == "cost_per_transaction"
    # savings = -effect_abs x annual volume (10,000) - 12 x monthly cost (1,000)
    assert net.annual_net == -effect.effect_abs * 10000.0 - 12000.0
    assert net.ci_low <= net.annual_net <= net.ci_high


def test_pilot_filter_keeps_the_requested_order():
    obs, pilots, _ = portfolio("W", 0, ["real_level", "null", "worse"])
    ids = list(pilots["pilot_id"])
    results = analyze_portfolio(obs, pilots, catalog(), empty_thresholds(), pilot_ids=ids[::-1])
    assert [r.pilot_id for r in results] == ids[::-1]
    assert analyze_portfolio(obs, pilots, catalog(), empty_thresholds(), pilot_ids=[]) == ()
