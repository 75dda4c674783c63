from dataclasses import asdict

import pandas as pd
import streamlit as st

from analytics import portfolio_health as health
from pilotproof import ui
from pilotproof.views import (
    decision_board_chart,
    disagreement_table,
    governance_table,
    money,
    nice,
    overdue_table,
    portfolio_table,
)

WIDE = {"hide_index": True, "width": "stretch"}

st.title("Portfolio")
st.caption("Which AI pilots create real value, which are a mirage, and which are ready to scale.")

pilots = ui.pilots()
if pilots.empty:
    ui.empty_state()
results = ui.results()

figures = health.headline(results, pilots)
cols = st.columns(5)
cols[0].metric("Pilots", figures.pilots, border=True)
cols[1].metric(
    "Real value proven",
    figures.real_value,
    border=True,
    help="Pilots with at least one value metric whose improvement is real.",
)
cols[2].metric(
    "Mirages caught",
    figures.mirages,
    border=True,
    help="Pilots whose headline improvement did not survive the mirage checks.",
)
interval = f"95% interval {money(figures.annual_net_low)} to {money(figures.annual_net_high)}"
cols[3].metric(
    "Annualised net value",
    money(figures.annual_net),
    delta=interval if figures.annual_net is not None else None,
    delta_color="off",
    delta_arrow="off",
    border=True,
    help=f"Sum over the {figures.valued_pilots} pilots with a known cost and volume: "
    "savings on the value metric minus running cost, per year.",
)

gaps = sum(1 for r in results if r.governance is not None and r.governance.gap)
cols[4].metric(
    "Not pre-registered",
    gaps,
    border=True,
    help="Governance gap: criteria not pre-registered (no success plan set before go-live or "
    "the first results).",
)

st.subheader("Pilots")
st.dataframe(
    portfolio_table(results, pilots).drop(columns="pilot_id"),
    hide_index=True,
    width="stretch",
    height="content" if len(pilots) <= 25 else "auto",
    column_config={
        "annual_net_value": st.column_config.NumberColumn("annual net value", format="compact"),
        "why": st.column_config.TextColumn("why", width="large"),
    },
)

st.subheader("Decision board")
st.caption("Pilots by company and function: scale, fix, extend or stop.")
board = health.decision_board(results, pilots)
st.plotly_chart(decision_board_chart(board), width="stretch")

st.subheader("Pilot purgatory")
stuck = health.purgatory(results, pilots, ui.as_of())
if stuck:
    st.caption(f"Live {health.PURGATORY_DAYS} days or more with no scale or stop decision.")
    stuck_table = pd.DataFrame([asdict(p) for p in stuck]).drop(columns="pilot_id")
    st.dataframe(stuck_table.rename(columns=nice), **WIDE)
else:
    st.success(f"No pilot has run {health.PURGATORY_DAYS} days without a decision.")

st.subheader("Success criteria")
labels = ui.labels()
moved = governance_table(results, labels)
changed = int((moved["status"] == "Criteria changed after results were visible").sum())
if changed:
    st.warning(
        f"{changed} pilot{'s' if changed != 1 else ''}: criteria changed after the results were "
        "visible.",
        icon=":material/warning:",
    )
if moved.empty:
    st.success("Every pilot's success criteria were pre-registered and kept.")
else:
    st.dataframe(moved, **WIDE, column_config={"what happened": st.column_config.TextColumn(
        "what happened", width="large")})  # fmt: skip

st.subheader("Decisions overdue")
late = overdue_table(results, labels)
if late.empty:
    st.success("No decision is past its evaluation window.")
else:
    st.caption("Past the plan's evaluation window with no scale, fix or stop decision logged.")
    st.dataframe(late, **WIDE)
disagree = disagreement_table(results, labels)
if not disagree.empty:
    st.caption("Decisions taken that differ from what pilotproof recommends.")
    st.dataframe(disagree, **WIDE)

st.subheader("AI sprawl")
groups = health.sprawl(pilots)
if groups:
    st.caption("Several AI tools in one function of one company, without a shared standard.")
    st.dataframe(pd.DataFrame([asdict(g) for g in groups]).rename(columns=nice), **WIDE)
else:
    st.success("No function runs overlapping AI tools.")

st.subheader("Maturity by company")
st.caption("Experimenting, expanding, coordinating, orchestrating: the rule that placed each.")
stages = pd.DataFrame([asdict(m) for m in health.maturity(results, pilots)])
st.dataframe(stages, **WIDE)
