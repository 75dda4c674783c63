from dataclasses import asdict

import pandas as pd
import streamlit as st

from analytics import portfolio_health as health
from analytics.portfolio_health import standing_decision
from pilotproof import ui
from pilotproof.totals import portfolio_value
from pilotproof.views import (
    BOARD_ROWS,
    DECISION_LIST_MOST,
    board_by_company,
    board_pilots,
    board_rest_words,
    caveat_count,
    data_end,
    decision_board_chart,
    decision_lists,
    disagreement_table,
    governance_table,
    headline_caption,
    md,
    nice,
    overdue_table,
    portfolio_table,
    scaling_caption,
    sprawl_table,
    stop_savings,
)
from pilotproof.words import (
    DECISION_LABELS,
    DECISIONS_IN_WORDS,
    GLOSSARY,
    HOW_TO_USE,
    STAGE_LABELS,
    STANDING_DECISION,
    WHERE_TO_ADD_COST,
    data_up_to,
)

ui.through_the_router()

PILOT_COLUMNS = ["pilot", "decision", "why", "annual net value", "verdict", "company", "function"]

st.title("Portfolio")

pilots = ui.pilots()
if pilots.empty:
    ui.empty_state()
results = ui.results()
currencies = ui.currencies()
companies = pilots["company"].dropna().nunique()
st.caption(
    f"{len(pilots)} pilots at {companies} compan{'y' if companies == 1 else 'ies'}: what to "
    f"{DECISIONS_IN_WORDS}, why, and what it is worth. **{data_up_to(data_end(results))}.**"
)
figures = health.headline(results, pilots)
# the decision that stands (logged, else recommended): the tiles count it as the board does
to_scale = [r for r in results if standing_decision(r) == "scale"]
scaling = portfolio_value(to_scale, currencies, ui.rates())
everything = portfolio_value(results, currencies, ui.rates())
# the total is not all of them when some have no net value: the label says so, short enough
# for the card's one line on a laptop; the caption under the cards says the rest
of = f" of {scaling.pilots}," if 0 < scaling.pilots < len(to_scale) else ""
scale_label = (
    f"Scaling {len(to_scale)} pilot{'' if len(to_scale) == 1 else 's'}: net value{of} a year"
)
totals = scaling.figures(scale_label)
cols = st.columns([1, 1, 1] + [1.8] * max(len(totals), 1))
cols[0].metric("Real value", figures.real_value, border=True, help=GLOSSARY["Real value"])
cols[1].metric(
    "Mirages",
    figures.mirages,
    border=True,
    help="Mirages caught: pilots whose headline improvement did not survive the mirage checks.",
)
cols[2].metric("Not proven", figures.not_proven, border=True, help=GLOSSARY["Not proven"])
for column, (label, total) in zip(cols[3:], totals, strict=False):
    column.metric(
        label,
        total.text(),
        delta=total.interval(),
        delta_color="off",
        delta_arrow="off",
        border=True,
        help=f"The pilots to scale. {GLOSSARY['Annualised net value']} Summed over those with "
        "a known cost and volume; amounts in different currencies are added only at the rates "
        "entered in Settings.",
    )
if not totals:
    cols[3].metric(
        scale_label,
        "no cost data" if to_scale else "nothing to scale",
        border=True,
        help="No pilot to scale has a monthly cost, an annual volume and cost per transaction "
        f"measured: {WHERE_TO_ADD_COST}.",
    )

# how many are to scale (those only under a bar lowered after the results marked), and what
# the ones without a net value are and cost to run
st.caption(md(scaling_caption(to_scale, pilots, currencies, scaling)))

# the answer on the first screen of a laptop (1280x720): the lists with the pilots' names come
# straight under the tiles; what the tiles sum and how a pilot is counted follow them
st.subheader("Decisions", help=STANDING_DECISION)
lists = decision_lists(results, pilots, currencies, ui.as_of())
saves = stop_savings(results, pilots, currencies)
for column, (decision, entries) in zip(st.columns([1, 1, 1, 1.3]), lists.items(), strict=True):
    with column.container(border=True, key=f"decision-{decision}"):
        ui.decision_heading(decision, len(entries), GLOSSARY[DECISION_LABELS[decision]])
        most = len(entries) if st.session_state.get(f"all-{decision}") else DECISION_LIST_MOST
        for entry in entries[:most]:
            caveat = f":orange[**{md(entry.caveat)}**]; " if entry.caveat else ""
            logged = f" :blue[· {md(entry.logged)}]" if entry.logged else ""
            value = f" :gray[· {md(entry.value)}]"
            if decision == "stop":  # what stopping saves beside what the pilot is worth
                saving = saves.each.get(entry.pilot_id, "no cost data")
                value = (value if entry.net is not None else "") + f" · **{md(saving)}**"
            st.markdown(f"**{md(entry.pilot)}**: {caveat}{md(entry.why)}{value}{logged}")
        if not entries:
            st.caption("None.")
        elif len(entries) > DECISION_LIST_MOST:  # a fund: the first few, then all on demand
            st.toggle(f"Show all {len(entries)}", key=f"all-{decision}")
        # the names come first (on a laptop's first screen); what they add up to follows
        if caveats := caveat_count(entries):  # a Scale that stands on an override or a moved bar
            st.caption(md(caveats))
        if decision == "stop" and entries:
            st.markdown(f":material/savings: **What stopping saves**: {md(saves.sentence())}")

st.caption(f"{md(headline_caption(figures, to_scale, scaling, everything))} {STANDING_DECISION}")

with st.expander("How to use", icon=":material/help:"):
    st.markdown(HOW_TO_USE)

with st.expander("What the words mean"):
    st.markdown("\n".join(f"- **{term}**: {meaning}" for term, meaning in GLOSSARY.items()))

st.subheader("Pilots")
# a static table: its cells wrap, so "why" is read whole beside the decision (a data grid cut
# it at the column's edge, off screen on a laptop); text people typed is escaped markdown. Paged:
# a fund's thousand rows are never sent to the browser at once
table, _ = ui.paged(portfolio_table(results, pilots, currencies, ui.as_of()), "pilots")
st.table(table[PILOT_COLUMNS].map(md), hide_index=True, border="horizontal")

st.subheader("Decision board")
st.caption(f"Pilots by company and function. {STANDING_DECISION}")
board = health.decision_board(results, pilots)
if len(board) <= BOARD_ROWS:
    st.plotly_chart(decision_board_chart(board), width="stretch")
else:  # a fund's portfolio: one bar per company, its pilots on demand
    by_company = board_by_company(board)
    drawn = by_company[~by_company["rest"]]
    st.plotly_chart(decision_board_chart(drawn), width="stretch")
    if rest := board_rest_words(by_company):
        st.caption(md(f"The {len(drawn)} companies with the most pilots. And {rest}"))
    companies = list(board.groupby("company")["pilots"].sum().sort_values(ascending=False).index)
    pick, which = st.columns([2, 1])
    company = pick.selectbox(
        f"A company's pilots ({len(companies)} companies)", companies, index=None,
        placeholder="Choose a company", format_func=lambda c: c or "(no company)",
    )  # fmt: skip
    decision = which.selectbox(
        "Decision", [None, *DECISION_LABELS], format_func=lambda d: DECISION_LABELS.get(d, "All")
    )
    if company is not None:
        ui.wrapped_table(board_pilots(results, pilots, ui.labels(), company, decision))

st.subheader("Pilot purgatory")
stuck = health.purgatory(results, pilots, ui.as_of())
if stuck:
    st.caption(
        f"Live {health.PURGATORY_DAYS} days or more and still fix or extend: as logged, or as "
        "pilotproof recommends where no decision is logged."
    )
    stuck_table = pd.DataFrame([asdict(p) for p in stuck]).drop(columns="pilot_id")
    stuck_table["decision"] = stuck_table["decision"].map(DECISION_LABELS)
    ui.wrapped_table(stuck_table.rename(columns=nice))
else:
    st.success(f"No pilot has run {health.PURGATORY_DAYS} days without a decision.")

st.subheader("Success criteria")
gaps = sum(1 for r in results if r.governance is not None and r.governance.gap)
st.columns(4)[0].metric(
    "Not pre-registered",
    gaps,
    border=True,
    help="Governance gap: criteria not pre-registered (no success plan set before go-live or "
    "the first results).",
)
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
    ui.wrapped_table(ui.paged(moved, "criteria")[0])

st.subheader("Decisions overdue")
late = overdue_table(results, labels)
if late.empty:
    st.success("No decision is past its evaluation window.")
else:
    st.caption("Past the plan's evaluation window with no scale, fix or stop decision logged.")
    ui.wrapped_table(late)
disagree = disagreement_table(results, labels)
if not disagree.empty:
    st.caption("Decisions taken that differ from what pilotproof recommends (overrides).")
    ui.wrapped_table(disagree)

st.subheader("AI sprawl")
groups = ui.derived("sprawl", lambda: health.sprawl(pilots))
if groups:
    st.caption("Several AI tools in one function of one company, without a shared standard.")
    sprawl, _ = ui.paged(
        ui.derived("sprawl table", lambda: sprawl_table(groups, pilots, currencies)), "sprawl"
    )
    ui.wrapped_table(sprawl)
else:
    st.success("No function runs overlapping AI tools.")

st.subheader("Maturity by company")
st.caption(f"{', '.join(STAGE_LABELS.values())}: the rule that placed each.")
stages = ui.derived(
    "maturity", lambda: pd.DataFrame([asdict(m) for m in health.maturity(results, pilots)])
)
if not stages.empty:
    stages = stages.assign(stage=stages["stage"].map(STAGE_LABELS))
ui.wrapped_table(ui.paged(stages, "maturity")[0])
