import streamlit as st

from pilotproof import ui
from pilotproof.store import StoreError
from pilotproof.store.plans import PlanInput, parse_guardrails
from pilotproof.views import decision_log_table, md, nice, plan_versions_table
from pilotproof.words import DECISION_LABELS, GUARDRAIL_FIELD, lock_words, unproven_wait_words

ui.through_the_router()

NAME_NEEDED = "Enter your name above: it is recorded with the change."

st.title("Success plans")
st.caption(
    "What must be proven before a pilot scales, fixed before the results: the value metric, "
    "the threshold, the guardrails, the evaluation window and the decision owner. The plan "
    "locks at go-live or at the first results; later changes need a reason and stay visible."
)
if ui.pilots().empty:
    ui.empty_state()
pilot_id = ui.pick_pilot()
result = next((r for r in ui.results() if r.pilot_id == pilot_id), None)
if result is None or result.governance is None:
    st.info("This pilot has not been analysed yet: upload its metrics file.")
    st.stop()
g = result.governance
writer = ui.can_write()
who = ui.user_field() if writer else ""

st.subheader("Plan")
ui.plan_badge(g.status)
if g.warning():
    st.warning(md(g.warning()), icon=":material/warning:")
if g.would_have_been_sentence(result.decision):
    st.markdown(f"**{md(g.would_have_been_sentence(result.decision))}**")
if g.current is not None:
    plan = g.plan_summary(g.current)  # rates' tolerances in points, as the table below
    st.markdown(md(f"Current plan (version {g.current.version}): {plan}."))
    ui.wrapped_table(plan_versions_table(result), numbers={"threshold %": "g"})
if g.forecast is not None:
    st.info(md(g.forecast.sentence), icon=":material/schedule:")
elif waits := unproven_wait_words(result):  # no date: the value is proven, a guardrail not yet
    st.info(md(waits), icon=":material/schedule:")

current = g.current.plan if g.current is not None else None
locked = g.locked_at is not None and g.locked_at <= ui.now()
if writer:  # a viewer reads the plan and the log, and changes neither
    with st.form("plan", border=True, clear_on_submit=True):
        st.markdown("**Set or change the plan**")
        metrics = list(ui.catalog().query("kind == 'value'")["metric"])
        chosen = current.value_metric if current and current.value_metric in metrics else None
        left, right = st.columns(2)
        metric = left.selectbox(
            "Value metric",
            metrics,
            index=metrics.index(chosen) if chosen else None,
            format_func=nice,
        )
        threshold = right.number_input(
            "Threshold: improvement needed to scale (%)", 0.0, 1000.0,
            current.threshold_pct if current and current.threshold_pct is not None else 10.0,
        )  # fmt: skip
        guardrails = left.text_input(
            GUARDRAIL_FIELD,
            "; ".join(f"{nice(m)}: {t:g}" for m, t in current.guardrails) if current else "",
            placeholder="rework rate: 0.5; quality score: 2",
        )
        days = right.number_input(
            "Evaluation window (days after go-live)", 1, 3650,
            current.evaluation_days if current and current.evaluation_days else 90,
        )  # fmt: skip
        owner = left.text_input("Decision owner", (current.decision_owner or "") if current else "")
        reason = right.text_input(
            "Reason for the change" + (" (required: locked)" if locked else "")
        )
        if locked:
            st.caption(lock_words(g.locked_at, has_plan=current is not None))
        if st.form_submit_button("Save plan", type="primary"):
            if not who:
                st.error(NAME_NEEDED)
                st.stop()
            try:
                rails = parse_guardrails(guardrails)
                plan = PlanInput(pilot_id, metric, threshold, rails, int(days), owner)
                saved = ui.store().set_plan(plan, by=who, reason=reason)
            except StoreError as error:
                st.error(md(error))
            else:
                st.session_state["plan_saved"] = saved
                st.rerun()

st.subheader("Decision log")
st.markdown(md(g.decision_sentence(result.decision)))
log = decision_log_table(result)
if not log.empty:
    ui.wrapped_table(log)
if writer:  # a viewer reads the plan and the log, and changes neither
    with st.form("decide", border=True, clear_on_submit=True):
        decision = st.radio(
            "Decision taken",
            list(DECISION_LABELS),
            format_func=DECISION_LABELS.get,
            horizontal=True,
            index=None,  # nothing chosen for the person: a decision is theirs to pick
        )
        note = st.text_input("Note")
        if st.form_submit_button("Log decision"):
            if not who or decision is None:
                st.error(NAME_NEEDED if not who else "Choose the decision taken.")
                st.stop()
            try:
                ui.store().log_decision(pilot_id, decision, note, who, result.decision)
            except StoreError as error:
                st.error(md(error))
            else:
                st.rerun()
