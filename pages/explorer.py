import pandas as pd
import streamlit as st

from analytics.decision import guardrail_unproven
from analytics.portfolio_health import standing_decision
from analytics.results import READINESS_FIELDS
from pilotproof import ui
from pilotproof.charts import mix_split, series_chart, value_bridge
from pilotproof.claims import claim_sentence
from pilotproof.history import history_window
from pilotproof.totals import booked
from pilotproof.views import (
    bar_caveat,
    data_end,
    effect_sentence,
    gross_value_words,
    md,
    nice,
    override_words,
    summary_with_numbers,
)
from pilotproof.words import (
    CHECK_LABELS,
    GLOSSARY,
    GUARDRAIL_HELD,
    GUARDRAIL_WORSENED,
    bar_words,
    data_up_to,
    guardrail_reach,
    guardrail_words,
    plain_words,
    unit_words,
)

ui.through_the_router()

st.title("Pilot explorer")
pilots = ui.pilots()
if pilots.empty:
    ui.empty_state()

pilot_id = ui.pick_pilot()
pilot = pilots.set_index("pilot_id").loc[pilot_id]
result = next((r for r in ui.results() if r.pilot_id == pilot_id), None)
if result is None or not result.metrics:
    st.info("No metrics for this pilot yet: upload its metrics file.")
    st.stop()

st.caption(f"{data_up_to(data_end([result]))}: counts since go-live run to that date.")
left, right = st.columns([3, 1])
with left:
    st.markdown(md(summary_with_numbers(result, pilot["pilot_name"])))
    if bar_caveat(result):
        st.markdown(f":orange[**{md(bar_caveat(result))}.**]")
with right:  # the decision that stands, as the Portfolio counts it; an override says so
    ui.decision_badge(standing_decision(result))
    if override_words(result):
        st.caption(md(override_words(result)))
plan = result.governance
if plan is not None and plan.warning():
    outcome = plan.would_have_been_sentence(result.decision)
    st.warning(md(f"{plan.warning()} {outcome}".strip()), icon=":material/warning:")

metrics = [e.metric for e in result.metrics]
first = result.headline.metric if result.headline is not None else metrics[0]
first = st.query_params.get("metric") if st.query_params.get("metric") in metrics else first
metric = st.selectbox("Metric", metrics, index=metrics.index(first), format_func=nice)
effect = next(e for e in result.metrics if e.metric == metric)
units = ui.catalog().set_index("metric")["unit"]
events = ui.events()
events = events[events["pilot_id"] == pilot_id]

ui.verdict_badge(effect.verdict, effect.kind)
st.markdown(f"**{md(effect_sentence(effect))}**")
claim = claim_sentence(effect)
if claim:
    st.warning(md(claim), icon=":material/visibility_off:")
weekly = effect.frequency == "D" and st.toggle(
    "Weekly averages",
    value=True,
    help="Daily data drawn as the mean of each week, Monday to Sunday.",
)
unit = unit_words(units.get(metric, ""), ui.currencies().get(pilot_id))
window = history_window(effect, pilot["go_live"])  # the whole history one switch away
if window is not None and st.toggle("Whole history", help=window.words()):
    window = None
st.plotly_chart(
    series_chart(effect, pilot["go_live"], unit=unit, events=events, weekly=weekly, window=window),
    width="stretch",
)

split = mix_split(effect)
if split is not None:
    st.subheader("Rate or mix")
    st.caption(GLOSSARY["Mix shift"])
    st.plotly_chart(split, width="stretch")

if effect.kind == "guardrail":
    # a guardrail must not get worse: one line, never "Noise: fail" for one that held
    st.subheader("Guardrail")
    status = guardrail_words(effect)
    icon = {GUARDRAIL_WORSENED: ":material/cancel:", GUARDRAIL_HELD: ":material/check_circle:"}
    icon = icon.get(status, ":material/warning:")  # within its tolerance, or not yet shown so
    bar = bar_words("guardrail", None, effect.tolerance_pct, effect.points)
    unproven = guardrail_unproven(effect)
    # an unproven guardrail's reach says the tolerance beside how far its data go: once is enough
    bar = f" ({bar})" if effect.tolerance_pct and not unproven else ""
    name = nice(metric)
    line = f"{icon} **{md(name[:1].upper() + name[1:])} {status}{md(bar)}.**"
    if unproven:  # how far its data still reach: what more data must rule out
        reach = guardrail_reach(effect)
        line += f" {md(reach[:1].upper() + reach[1:])}."
    st.markdown(line)
else:
    st.subheader("Mirage checks")
for check in () if effect.kind == "guardrail" else effect.checks:
    if check.name == "outlier":  # a value set aside as a likely typo: named, never a verdict
        icon, word = ":material/warning:", "set aside"
    elif not check.applicable:
        icon, word = ":material/remove:", "not applicable"
    elif check.passed:
        icon, word = ":material/check_circle:", "pass"
    else:
        icon, word = ":material/cancel:", "fail"
    name = CHECK_LABELS.get(check.name, nice(check.name))
    st.markdown(
        f"{icon} **{name}: {word}.** {md(plain_words(check.explanation, effect.frequency))}"
    )
if not effect.checks:
    st.caption("No checks ran on this metric (not enough data).")

currency = ui.currencies().get(pilot_id) or ""
if result.net_value is not None:
    st.subheader("Annualised value")
    st.caption(md(gross_value_words(result, currency or None, pilot["annual_volume"])))
    if booked(result):  # a value within noise is its interval, never a bar of money
        st.plotly_chart(value_bridge(result, currency=currency), width="stretch")

st.subheader("Events on the timeline")
writer = ui.can_write()
if writer:
    with st.form("add_event", clear_on_submit=True, border=False):
        day, label, add = st.columns([1, 3, 1], vertical_alignment="bottom")
        when = day.date_input("Date", value=pd.Timestamp(pilot["go_live"]).date())
        text = label.text_input("What happened (a re-org, a price change)", max_chars=80)
        if add.form_submit_button("Add event") and text.strip():
            ui.store().add_event(pilot_id, pd.Timestamp(when), text.strip())
            st.rerun()
if not events.empty:  # event ids are a fund-wide sequence: never shown
    ui.wrapped_table(
        events[["date", "label"]].assign(
            date=pd.to_datetime(events["date"]).dt.strftime("%Y-%m-%d")
        )
    )
if writer and not events.empty:
    said = {e.event_id: f"{e.date:%Y-%m-%d} {e.label}" for e in events.itertuples()}
    gone = st.selectbox("Event to remove", list(said), format_func=said.get, key="event_to_remove")
    if st.button("Remove event"):
        ui.store().delete_event(int(gone))
        st.rerun()

st.subheader("Readiness")
items = [nice(f) for f in READINESS_FIELDS]
given = [
    nice(v) if f == "value_metric" and isinstance(v, str) and v else v
    for f, v in pilot[list(READINESS_FIELDS)].items()
]
answers = pd.DataFrame({"item": items, "answer": given})
ui.wrapped_table(answers.fillna("missing"))
