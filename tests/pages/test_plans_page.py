"""AppTests for issue 15: the Success plans page and the Portfolio's governance sections."""

from __future__ import annotations

import re

import pandas as pd
from pagetools import open_page, store_for, table_with, texts


def plain(app) -> str:
    """The page's text with markdown escapes removed (user text is shown escaped)."""
    return texts(app).replace("\\", "")


def submit(app, label: str) -> None:
    next(b for b in app.get("form_submit_button") if label in str(b.proto.label)).click().run()


CHANGED = "HB-FNOL"  # threshold lowered after the results came in (data/sample)
NO_PLAN = "NW-SALES"


def test_changed_plan_shows_warning_would_have_been_and_versions(sample_db):
    app = open_page("pages/plans.py", pilot=CHANGED)
    shown = plain(app)
    assert "Criteria changed after the results were visible: threshold from 25% to 15%" in shown
    assert (
        "Scale under the current 15% threshold; under the pre-registered 25% it would be Fix"
        in (shown)
    )
    versions = table_with(app, "after lock")
    assert versions["version"].tolist() == ["1", "2"]
    assert versions["after lock"].tolist() == ["", "yes"]
    assert versions["threshold %"].tolist() == ["25", "15"]
    assert versions["reason"].iloc[1].startswith("Results show about 20%")


def test_pilot_without_plan_is_a_gap(sample_db):
    app = open_page("pages/plans.py", pilot=NO_PLAN)
    assert "Criteria not pre-registered" in plain(app)
    assert not [t for t in (*app.dataframe, *app.table) if "after lock" in t.value.columns]


def test_the_sample_plans_are_recorded_when_agreed_not_when_seeded(sample_db):
    # every sample plan read "recorded 2026-12-01 16:03 (dated earlier)": typed in after the
    # results, which undermines "Pre-registered" (read-through B12)
    for pilot in ("CB-ASSIST", CHANGED):
        versions = table_with(open_page("pages/plans.py", pilot=pilot), "recorded")
        assert versions["recorded"].tolist() == versions["set"].tolist()
        assert not versions["recorded"].str.contains("dated earlier").any()
    shown = plain(open_page("pages/plans.py", pilot=CHANGED))  # the change is still the story
    assert "Criteria changed after the results were visible" in shown


def test_a_pilot_without_a_plan_is_not_told_its_plan_locked(sample_db):
    # RFQ read "Criteria not pre-registered" and "The plan locked on 2026-05-04" (what plan?)
    shown = plain(open_page("pages/plans.py", pilot=NO_PLAN))
    assert "The plan locked" not in shown
    assert "No plan was set before go-live or the first results (2026-05-04)" in shown
    from pilotproof.words import lock_words

    locked = "The plan locked on 2026-05-04: a change needs a reason."
    assert lock_words(pd.Timestamp("2026-05-04"), has_plan=True) == locked


def test_extend_pilot_shows_how_long_until_we_know(sample_db):
    app = open_page("pages/plans.py", pilot="NW-COLLECT")
    assert any(i.value.replace("\\", "").startswith("Decide by ~") for i in app.info)


def test_saving_a_locked_plan_needs_a_reason_then_versions_it(sample_db):
    app = open_page("pages/plans.py", pilot="HB-TRIAGE")
    app.text_input(key="user_name").set_value("<b>ana</b>")
    numbers = {n.label: n for n in app.number_input}
    numbers["Threshold: improvement needed to scale (%)"].set_value(5.0)
    submit(app, "Save plan")
    assert any("give a reason" in e.value for e in app.error)
    store = store_for(sample_db)
    assert store.plans().query("pilot_id == 'HB-TRIAGE'")["version"].tolist() == [1]
    next(t for t in app.text_input if t.label.startswith("Reason")).set_value("board asked")
    numbers = {n.label: n for n in app.number_input}
    numbers["Threshold: improvement needed to scale (%)"].set_value(5.0)
    submit(app, "Save plan")
    plans = store.plans().query("pilot_id == 'HB-TRIAGE'")
    assert plans["version"].tolist() == [1, 2]
    assert plans["set_by"].iloc[1] == "<b>ana</b>"  # stored as typed
    assert "Criteria changed after the results were visible" in plain(app)
    assert "<b>ana</b>" in plain(app) and "&lt;" not in plain(app)


def test_logging_a_decision_shows_it_beside_the_recommendation(sample_db):
    app = open_page("pages/plans.py", pilot="MF-AUDIT")
    app.text_input(key="user_name").set_value("partner")
    app.radio[0].set_value("scale")
    next(t for t in app.text_input if t.label == "Note").set_value('=HYPERLINK("x")')
    submit(app, "Log decision")
    log = table_with(app, "recommended then")
    assert log.iloc[0]["decision"] == "Scale"
    assert log.iloc[0]["recommended then"] == "Fix"
    assert log.iloc[0]["note"] == '=HYPERLINK("x")'
    assert "Disagrees with pilotproof, which recommends Fix" in plain(app)


def test_portfolio_counts_gaps_and_lists_changes_overdue_and_disagreements(sample_db):
    app = open_page("pages/portfolio.py")
    figures = {m.label: m.value for m in app.metric}
    assert figures["Not pre-registered"] == "1"
    assert any("criteria changed after the results were visible" in w.value for w in app.warning)
    changed = table_with(app, "under the original plan")
    row = changed.set_index("status").loc["Criteria changed after results were visible"]
    assert row["decision now"] == "Scale" and row["under the original plan"] == "Fix"
    assert "Criteria not pre-registered" in set(changed["status"])
    late = table_with(app, "days late")
    assert len(late) >= 1 and (late["days late"].astype(int) > 0).all()
    disagree = table_with(app, "pilotproof recommends")
    assert disagree.iloc[0]["decision taken"] == "Scale"
    assert disagree.iloc[0]["pilotproof recommends"] == "Fix"


def test_explorer_warns_about_changed_criteria(sample_db):
    app = open_page("pages/explorer.py", pilot=CHANGED)
    warnings = [w.value.replace("\\", "") for w in app.warning]
    assert any("threshold from 25% to 15%" in w and "it would be Fix" in w for w in warnings)
    clean = open_page("pages/explorer.py", pilot="NW-AP")
    assert not [w for w in clean.warning if "Criteria" in w.value]


def test_the_plan_states_a_rate_guardrail_in_points(sample_db):
    """Issue 13: the plan said 'rework rate may worsen <= 5%' for a rate judged in points."""
    shown = plain(open_page("pages/plans.py", pilot=CHANGED))
    assert "rework rate at most 5 points worse" in shown
    assert "quality score at most 2% worse" in shown and "<=" not in shown


def test_no_name_or_decision_is_chosen_for_the_person(sample_db):
    # the server's OS account ('root') is not a person: the name field starts empty, the
    # decision unchosen, and nothing is logged until both are given
    app = open_page("pages/plans.py", pilot="MF-AUDIT")
    assert app.text_input(key="user_name").value == ""
    assert app.radio[0].value is None
    submit(app, "Log decision")
    assert any("Enter your name" in e.value for e in app.error)
    store = store_for(sample_db)
    before = len(store.decisions())
    app.text_input(key="user_name").set_value("partner")
    submit(app, "Log decision")
    assert any("Choose the decision" in e.value for e in app.error)
    assert len(store.decisions()) == before


def test_a_win_held_by_its_guardrail_says_what_it_waits_for(unproven_db):
    """No 'decide by' date for the value metric: the plan says the guardrail must be shown
    within its tolerance, and how far its data still reach."""
    shown = texts(open_page("pages/plans.py", pilot="UNPROVEN")).replace("\\", "")
    assert re.search(
        r"Before it scales, more data must show rework rate within its tolerance: rework rate "
        r"could be up to \+\d\.\d points \(0\.5 points tolerated\)\.",
        shown,
    )
    assert "Decide by" not in shown
