"""The analysis uses the current plan, and says what the pre-registered plan would have
decided when the criteria moved after the results were visible."""

from __future__ import annotations

import json

import pandas as pd
from govdata import GO_LIVE, PILOT

from pilotproof.analysis import analyze_store, to_json
from pilotproof.store.plans import PlanInput

BEFORE = GO_LIVE - pd.Timedelta(days=20)


def _only(store):
    (result,) = analyze_store(store)
    return result


def test_lowered_threshold_scales_and_the_original_would_fix(store):
    store.set_plan(PlanInput(PILOT, "cycle_time", 30.0, {}, 90, "CFO"), by="dana", at=BEFORE)
    first = _only(store)
    assert first.decision == "fix" and "below_threshold" in first.reasons  # 20% < 30%
    assert first.governance.status == "pre_registered" and not first.governance.gap
    store.set_plan(PlanInput(PILOT, threshold_pct=15.0), by="eli", reason="market moved")
    result = _only(store)
    g = result.governance
    assert result.decision == "scale"  # the analysis uses the current version
    assert g.status == "changed_after_lock" and g.would_have_been == "fix"
    assert g.original.version == 1 and g.current.version == 2
    assert g.would_have_been_sentence(result.decision) == (
        "Scale under the current 15% threshold; under the pre-registered 30% it would be Fix."
    )
    assert "threshold from 30% to 15%" in g.warning() and "eli" in g.warning()
    assert "'market moved'" in g.warning()
    document = to_json([result])["pilots"][0]
    assert document["decision_under_original_plan"] == "fix"
    assert document["plan_status"] == "changed_after_lock"
    assert [v["threshold_pct"] for v in document["plan_versions"]] == [30.0, 15.0]
    assert document["plan_versions"][1]["reason"] == "market moved"
    json.dumps(document, allow_nan=False)


def test_a_change_that_does_not_move_the_decision_says_so(store):
    store.set_plan(PlanInput(PILOT, "cycle_time", 12.0), by="dana", at=BEFORE)
    store.set_plan(PlanInput(PILOT, threshold_pct=10.0), by="eli", reason="rounding")
    result = _only(store)
    assert result.decision == "scale" and result.governance.would_have_been == "scale"
    assert "under the pre-registered 12% too" in result.governance.would_have_been_sentence("scale")


def test_no_plan_is_a_gap_and_a_late_plan_is_not_pre_registered(store):
    result = _only(store)
    assert result.governance.status == "not_pre_registered" and result.governance.gap
    assert "Criteria not pre-registered" in result.governance.warning()
    store.set_plan(PlanInput(PILOT, "cycle_time", 10.0), by="late", reason="forgot")
    late = _only(store).governance
    assert late.status == "set_after_lock" and late.gap and late.original is None
    assert "after the plan locked" in late.warning()


def test_overdue_and_disagreement(store):
    store.set_plan(PlanInput(PILOT, "cycle_time", 10.0, {}, 30), by="dana", at=BEFORE)
    (result,) = analyze_store(store, as_of=GO_LIVE + pd.Timedelta(days=31))
    assert result.governance.overdue and result.governance.due == GO_LIVE + pd.Timedelta(days=30)
    (early,) = analyze_store(store, as_of=GO_LIVE + pd.Timedelta(days=29))
    assert not early.governance.overdue
    store.log_decision(PILOT, "stop", "budget cut", "board", recommended=result.decision)
    (logged,) = analyze_store(store, as_of=GO_LIVE + pd.Timedelta(days=31))
    g = logged.governance
    assert not g.overdue and g.latest_decision.disagrees
    assert "Disagrees with pilotproof, which recommends Scale" in g.decision_sentence("scale")
    document = to_json([logged])["pilots"][0]
    assert document["decision_logged"]["decision"] == "stop"
    assert document["decision_logged"]["disagrees"] is True


def test_apply_plans_holds_the_named_metric_and_leaves_the_inputs_alone():
    from analytics.governance import SuccessPlan, apply_plans

    pilots = pd.DataFrame({"pilot_id": ["A", "B"], "value_metric": ["cycle_time", None]})
    overrides = pd.DataFrame(
        [("A", "rework_rate", None, 9.0)],
        columns=["pilot_id", "metric", "threshold_pct", "tolerance_pct"],
    )
    plans = {
        "A": SuccessPlan(threshold_pct=5.0, guardrails=(("rework_rate", 3.0),)),
        "B": SuccessPlan(value_metric="margin", threshold_pct=2.0),
    }
    new_pilots, new_overrides = apply_plans(pilots, overrides, plans)
    cells = {(r.pilot_id, r.metric): (r.threshold_pct, r.tolerance_pct)
             for r in new_overrides.itertuples()}  # fmt: skip
    assert cells[("A", "cycle_time")][0] == 5.0  # the metric the pilot names
    assert cells[("A", "rework_rate")][1] == 3.0  # the plan's tolerance wins
    assert cells[("B", "margin")][0] == 2.0
    assert new_pilots["value_metric"].tolist() == ["cycle_time", "margin"]
    assert pd.isna(pilots["value_metric"].iloc[1]) and len(overrides) == 1  # untouched
