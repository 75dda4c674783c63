import streamlit as st

from pilotproof import ui
from pilotproof.charts import aligned_multiples, at_same_mix, forest_plot, value_title
from pilotproof.views import (
    compare_table,
    extremes,
    left_out,
    left_out_caption,
    md,
    nice,
    override_notes,
)
from pilotproof.words import unit_words

ui.through_the_router()

st.title("Compare pilots")
pilots = ui.pilots()
if pilots.empty:
    ui.empty_state()
results = ui.results()
labels = ui.labels()

company, function, metric_col = st.columns(3)
companies = company.multiselect("Company", sorted(pilots["company"].dropna().unique()))
functions = function.multiselect("Function", sorted(pilots["function"].dropna().unique()))
metrics = sorted({e.metric for r in results for e in r.metrics})
metric = metric_col.selectbox(
    "Metric",
    [None, *metrics],
    format_func=lambda m: "Each pilot's value metrics" if m is None else nice(m),
)
chosen = pilots
if companies:
    chosen = chosen[chosen["company"].isin(companies)]
if functions:
    chosen = chosen[chosen["function"].isin(functions)]
wanted = set(chosen["pilot_id"])
shown = [r for r in results if r.pilot_id in wanted]
if not shown:
    st.info("No pilot matches these filters.")
    st.stop()

# the table as the chart below: a mix-shift mirage at the same mix of work (what survives)
table = compare_table(*at_same_mix(shown, labels), metric, ui.currencies(), pilots)
st.subheader("Effects against thresholds")
ends = 20
if len(shown) > 2 * ends:  # the best and worst by default, more on demand
    ends = st.select_slider(
        "Pilots at each end of the plot", [10, 20, 50, 100, 250], value=ends,
        help="The plot draws the pilots with the largest and the smallest improvement; the "
        "table below lists every pilot.",
    )  # fmt: skip
plotted = extremes(shown, metric, n=ends)
missing = left_out(shown, plotted, labels, metric, ends)
if missing:
    st.caption(md(left_out_caption(missing, len(plotted), len(shown))))
choice = f"{sorted(companies)}|{sorted(functions)}|{metric}"
# a mix-shift mirage at the same mix of work (what survives), as the board exports draw it
survives, survive_labels = at_same_mix(plotted, labels)
forest = ui.derived(
    f"forest|{choice}|{ends}", lambda: forest_plot(survives, metric, labels=survive_labels)
)
st.plotly_chart(forest, width="stretch")

st.subheader("Side by side")
st.caption(
    "Improvement and threshold in % (percentage points for rates), + is better. The best and "
    "worst improvement on each metric are marked; a mix shift is shown at the same mix of work."
)
page, _ = ui.paged(
    table, "compare", sort_by={"improvement_pct": False, "pilot": True, "threshold_pct": False}
)
# a static table whose cells wrap: a pilot's name and company are read whole at any width
ui.wrapped_table(
    page,
    numbers={"improvement_pct": ".1f", "threshold_pct": ".1f"},
    headers={"rank": "", "interval": "95% interval", "improvement_pct": "improvement",
             "threshold_pct": "threshold"},
)  # fmt: skip
for note in override_notes(shown, labels):  # who overrode and when, which the column leaves out
    st.caption(md(note))

st.subheader("Series aligned on go-live")
go_live = chosen.set_index("pilot_id")["go_live"]
names = chosen.set_index("pilot_id")["pilot_name"]
units = ui.catalog().set_index("metric")["unit"]
money_in = ui.currencies()
panels = [
    (
        f"{names[r.pilot_id] or r.pilot_id}\n"
        + value_title(e, unit_words(units.get(e.metric, ""), money_in.get(r.pilot_id))),
        e,
        go_live[r.pilot_id],
    )
    for r in shown
    for e in r.effects_of(metric)
]
if len(panels) > 24:
    st.caption(f"Showing the first 24 of {len(panels)} series; filter to see others.")
multiples = ui.derived(
    f"multiples|{choice}", lambda: aligned_multiples(panels[:24], units=units.to_dict())
)
st.plotly_chart(multiples, width="stretch")
