"""The success plan's lock and versions: who, when and why, and nothing half-written."""

from __future__ import annotations

import pandas as pd
import pytest
from govdata import GO_LIVE, PILOT

from pilotproof.store import IngestError, StoreError
from pilotproof.store.plans import PlanInput

BEFORE = GO_LIVE - pd.Timedelta(days=20)


def test_plan_before_go_live_needs_no_reason_and_records_who_and_when(store):
    version = store.set_plan(
        PlanInput(PILOT, "cycle_time", 25.0, {"rework_rate": 5.0}, 120, "CFO"),
        by="dana",
        at=BEFORE,
    )
    assert version == 1
    row = store.plans().iloc[0]
    assert (row["set_by"], row["set_at"], row["threshold_pct"]) == ("dana", BEFORE, 25.0)
    assert pd.isna(row["reason"])
    assert row["recorded_at"] >= pd.Timestamp.now().floor("s") - pd.Timedelta(minutes=5)


def test_change_after_lock_requires_a_reason_and_appends_a_version(store):
    store.set_plan(PlanInput(PILOT, "cycle_time", 25.0), by="dana", at=BEFORE)
    before = store.data_version()
    with pytest.raises(StoreError, match="give a reason"):
        store.set_plan(PlanInput(PILOT, threshold_pct=15.0), by="eli")
    assert len(store.plans()) == 1 and store.data_version() == before  # nothing written
    assert store.set_plan(PlanInput(PILOT, threshold_pct=15.0), by="eli", reason="board") == 2
    plans = store.plans()
    assert plans["version"].tolist() == [1, 2]
    assert plans["threshold_pct"].tolist() == [25.0, 15.0]
    assert plans["value_metric"].tolist() == ["cycle_time", "cycle_time"]  # kept
    assert plans.iloc[1]["set_by"] == "eli" and plans.iloc[1]["reason"] == "board"
    # the same plan again is no new version
    assert store.set_plan(PlanInput(PILOT, threshold_pct=15.0), by="eli", reason="x") is None


def test_first_results_lock_a_plan_before_go_live(tmp_path):
    from pilotproof.store import Store

    with Store(tmp_path / "early.duckdb") as store:
        store.ingest([("p.csv", b"pilot_id,go_live\nFUT,2099-01-01\n")])
        store.set_plan(PlanInput("FUT", "cycle_time", 10.0), by="a")
        store.set_plan(PlanInput("FUT", threshold_pct=12.0), by="a")  # not locked: no reason
        store.mark_results_seen(["FUT"])
        with pytest.raises(StoreError, match="give a reason"):
            store.set_plan(PlanInput("FUT", threshold_pct=5.0), by="a")


@pytest.mark.parametrize(
    ("plan", "message"),
    [
        (PlanInput(PILOT, "no_such_metric"), "no metric"),
        (PlanInput(PILOT, threshold_pct=float("nan")), "percent"),
        (PlanInput(PILOT, guardrails={"rework_rate": -1.0}), "percent"),
        (PlanInput(PILOT, evaluation_days=0), "whole days"),
        (PlanInput("nobody", threshold_pct=5.0), "no pilot"),
    ],
)
def test_bad_plans_are_refused_whole(store, plan, message):
    with pytest.raises(StoreError, match=message):
        store.set_plan(plan, by="x", reason="r")
    assert store.plans().empty


def test_plan_in_the_future_or_without_a_name_is_refused(store):
    with pytest.raises(StoreError, match="future"):
        store.set_plan(PlanInput(PILOT, threshold_pct=5.0), by="x", at=pd.Timestamp("2999-01-01"))
    with pytest.raises(StoreError, match="required"):
        store.set_plan(PlanInput(PILOT, threshold_pct=5.0), by="  ", reason="r")


def test_pilots_file_plans_load_version_and_refuse_whole(store):
    text = (
        "pilot_id,go_live,plan_value_metric,plan_threshold_pct,plan_guardrails,"
        "plan_evaluation_days,plan_decision_owner,plan_set_by,plan_set_on\n"
        f"{PILOT},{GO_LIVE.date()},cycle_time,25,rework_rate:5; quality_score:2,90,CFO,"
        f"ana,{BEFORE.date()}\n"
    )
    store.ingest([("plans.csv", text.encode())], user="uploader")
    plan = store.plans().iloc[0]
    assert plan["guardrails"] == '{"quality_score": 2.0, "rework_rate": 5.0}'
    assert (plan["set_by"], plan["set_at"], plan["evaluation_days"]) == ("ana", BEFORE, 90)
    # a change after the lock without a reason refuses the whole file, naming its line
    pilots_before = store.pilots()
    with pytest.raises(IngestError) as refused:
        store.ingest(
            [
                (
                    "late.csv",
                    f"pilot_id,go_live,pilot_name,plan_threshold_pct\n"
                    f"{PILOT},{GO_LIVE.date()},Renamed,15\n".encode(),
                )
            ]
        )
    assert "late.csv:2: column plan" in str(refused.value.problems[0])
    assert "give a reason" in str(refused.value.problems[0])
    pd.testing.assert_frame_equal(store.pilots(), pilots_before)  # the name did not change
    assert len(store.plans()) == 1


def test_decision_log_records_who_when_and_refuses_bad_input(store):
    decision_id = store.log_decision(PILOT, "scale", "=cmd|' /C calc'!A0", "dana", "fix")
    log = store.decisions()
    assert decision_id == 1 and log.iloc[0]["decided_by"] == "dana"
    assert log.iloc[0]["note"] == "=cmd|' /C calc'!A0"  # stored as typed; shown as text
    with pytest.raises(StoreError, match="one of"):
        store.log_decision(PILOT, "ship", None, "dana")
    with pytest.raises(StoreError, match="no pilot"):
        store.log_decision("nobody", "stop", None, "dana")
    assert len(store.decisions()) == 1


def test_undoing_the_upload_that_brought_a_plan_removes_that_version(store):
    store.set_plan(PlanInput(PILOT, "cycle_time", 25.0), by="dana", at=BEFORE)
    text = (
        "pilot_id,go_live,plan_threshold_pct,plan_change_reason\n"
        f"{PILOT},{GO_LIVE.date()},15,peer benchmark\n"
    )
    store.ingest([("replan.csv", text.encode())], user="eli")
    plans = store.plans()
    assert plans["version"].tolist() == [1, 2] and plans["set_by"].iloc[1] == "eli"
    upload = int(plans["upload_id"].iloc[1])
    store.undo_upload(upload)
    assert store.plans()["version"].tolist() == [1]


def test_validation_names_a_bad_plan_cell_before_any_commit(store):
    text = f"pilot_id,go_live,plan_evaluation_days\n{PILOT},{GO_LIVE.date()},ninety\n"
    report = store.validate([("plans.csv", text.encode())])
    assert not report.ok
    assert [str(p) for p in report.problems] == [
        "plans.csv:2: column plan: the evaluation window must be whole days, not 'ninety'"
    ]


def test_a_plan_dated_back_by_a_file_says_when_it_was_recorded(store):
    from pilotproof.analysis import analyze_store, to_json

    text = (
        "pilot_id,go_live,plan_value_metric,plan_threshold_pct,plan_set_on\n"
        f"{PILOT},{GO_LIVE.date()},cycle_time,10,{BEFORE.date()}\n"
    )
    store.ingest([("plans.csv", text.encode())], user="uploader")
    (result,) = analyze_store(store)
    assert result.governance.status == "pre_registered"  # the file's date, taken at its word
    assert result.governance.backdated() == result.governance.versions
    document = to_json([result])["pilots"][0]
    assert document["plan"]["backdated"] is True
    assert document["plan"]["set_at"].startswith(BEFORE.date().isoformat())
    assert document["plan"]["recorded_at"] > document["plan_locked_at"]
