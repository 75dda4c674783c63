import streamlit as st

from analytics.results import READINESS_FIELDS
from pilotproof import ui
from pilotproof.store.errors import counted
from pilotproof.views import (
    changed_readiness,
    md,
    nice,
    readiness_gaps,
    readiness_table,
    wrong_value_metrics,
)

ui.through_the_router()

st.title("Readiness")
st.caption(
    "A pilot is not ready to scale until its team can name each of these: the workflow, who owns "
    "the decision logic, who runs it, the exception and escalation paths, the control points "
    "(approval gates, audit trail, rollback, stop conditions) and the value metric."
)
pilots = ui.pilots()
if pilots.empty:
    ui.empty_state()

before = readiness_table(pilots)
summary = st.container()  # the verdict first: how many pass, and what blocks the others


def show_gaps(answers) -> None:
    gaps = readiness_gaps(answers)
    with summary:
        st.metric("Pass the readiness test", f"{len(answers) - len(gaps)} of {len(answers)} pilots")
        st.subheader("Gaps that block scaling")
        if gaps.empty:
            st.success("Every pilot's team can name all seven items.")
        else:
            ui.wrapped_table(gaps)


st.subheader("The answers")
shown, first = ui.paged(before, "readiness")
# every answer read whole, its cells wrapping (a grid cuts a long answer with "…")
readable = shown.drop(columns="pilot_id").assign(value_metric=shown["value_metric"].map(nice))
ui.wrapped_table(readable.replace("", "missing"), headers={f: nice(f) for f in READINESS_FIELDS})
if not ui.can_write():  # a viewer reads the answers; nothing to edit
    show_gaps(before)
    st.stop()
measured = {r.pilot_id: [e.metric for e in r.metrics] for r in ui.results()}
choices = sorted({m for ms in measured.values() for m in ms} | set(before["value_metric"]) - {""})
editor = "readiness_editor" if first == 0 else f"readiness_editor_{first}"  # one per page
st.subheader("Edit the answers")
st.caption("Double-click a cell to edit it; the table above shows every answer in full.")
edited = st.data_editor(
    shown,
    key=editor,
    hide_index=True,
    height="content" if len(shown) <= 25 else "auto",
    width="stretch",
    disabled=["pilot_id", "pilot"],
    column_config={
        "pilot_id": None,
        "pilot": st.column_config.TextColumn("pilot", pinned=True),
        **{f: st.column_config.TextColumn(nice(f), max_chars=200) for f in READINESS_FIELDS},
        "value_metric": st.column_config.SelectboxColumn(
            "value metric", options=choices, help="One of the metrics the pilot measures."
        ),
    },
)
after = before.copy()
after.loc[edited.index] = edited  # this page's edits over every pilot's answers
changes = changed_readiness(before, after)
wrong = wrong_value_metrics(changes, measured, ui.labels())
for message in wrong:
    st.error(md(message))
if st.button(
    f"Save {len(changes)} changed pilot{'s' if len(changes) != 1 else ''}",
    type="primary",
    disabled=not changes or bool(wrong),
):
    for pilot_id, answers in changes.items():
        ui.store().save_readiness(pilot_id, answers)
    st.toast(f"Saved readiness for {counted(len(changes), 'pilot')}.")
    del st.session_state[editor]
    st.rerun()

show_gaps(after)
