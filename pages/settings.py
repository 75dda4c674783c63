import streamlit as st

from pilotproof import signin, ui
from pilotproof.store import StoreError
from pilotproof.store.catalog import normalise_metric
from pilotproof.store.money import ISO_4217
from pilotproof.store.plans import default_user
from pilotproof.views import (
    RATE_PATTERN,
    SETTING_PATTERN,
    catalog_editor_frame,
    changed_currencies,
    changed_thresholds,
    company_currency_table,
    entered_rates,
    md,
    nice,
    overrides_table,
    rate_table,
    valid_metric_name,
)

ui.through_the_router()

st.title("Settings")
store = ui.store()
scope = ui.scope()
writer = ui.can_write()
ui.show_confirmation()

SETTING_CELL = {"validate": SETTING_PATTERN, "alignment": "right", "help": "0 to 100, or empty"}

st.subheader("Scaling thresholds and guardrail tolerances")
st.caption(
    "Threshold: the improvement a value metric must show before a pilot scales. Tolerance: how "
    "much a guardrail metric may worsen. Both in the metric's scale: percent for most metrics, "
    "percentage points for fractions such as margin and rates (margin 1 = one point: 20.0% to "
    "21.0%). A pilot's success plan, when it has one, sets them for its value metric and "
    "guardrails (Success plans page)."
)
catalog = ui.catalog()
shown = catalog_editor_frame(catalog)
columns = {
    "column_order": [c for c in shown.columns if c != "metric"],
    "column_config": {
        "name": st.column_config.TextColumn("metric"),
        "scale": st.column_config.TextColumn("scale"),
        "threshold_pct": st.column_config.TextColumn("threshold", **SETTING_CELL),
        "tolerance_pct": st.column_config.TextColumn("tolerance", **SETTING_CELL),
    },
}
if scope.everything:
    edited = st.data_editor(
        shown,
        key="catalog_editor",
        hide_index=True,
        height="content",
        width="stretch",
        disabled=["metric", "name", "kind", "direction", "unit", "scale"],
        **columns,
    )
else:  # the catalog defaults are a partner's
    edited = shown
    st.dataframe(shown, hide_index=True, height="content", width="stretch", **columns)
changed = changed_thresholds(shown, edited)
if scope.everything and st.button("Save catalog defaults", disabled=not changed):
    for metric, threshold_pct, tolerance_pct in changed:
        store.set_threshold(metric, threshold_pct, tolerance_pct)
    del st.session_state["catalog_editor"]
    ui.confirm(f"Saved the defaults of {', '.join(nice(m) for m, _, _ in changed)}.")
    st.rerun()

st.subheader("Per-pilot overrides")
overrides = ui.thresholds()
if overrides.empty:
    st.caption("No pilot overrides its catalog defaults.")
else:
    st.dataframe(overrides_table(overrides, ui.labels()), hide_index=True)
if writer:
    with st.form("override", border=True):
        labels = ui.labels()
        pilot, metric, threshold, tolerance = st.columns(4)
        pilot_id = pilot.selectbox("Pilot", list(labels), format_func=labels.get)
        name = metric.selectbox("Metric", list(catalog["metric"]), format_func=nice)
        threshold_pct = threshold.number_input(
            "Threshold (% or points)", 0.0, 100.0, 10.0, step=1.0
        )
        tolerance_pct = tolerance.number_input("Tolerance (% or points)", 0.0, 100.0, 5.0, step=1.0)
        if st.form_submit_button("Save override", disabled=not labels):
            store.set_threshold(name, threshold_pct, tolerance_pct, pilot_id=pilot_id)
            ui.confirm(f"Saved the override of {nice(name)} for {labels[pilot_id]}.")
            st.rerun()

st.subheader("Money")
st.caption(
    "The currency each company states its costs in (a pilots file's currency column sets a "
    "pilot's own). Amounts in different currencies are never added up unless you choose a "
    "reporting currency and enter a rate for each currency: pilotproof fetches no rates."
)
codes = sorted(ISO_4217)
companies = company_currency_table(ui.pilots(), store.company_currencies(), ui.currencies())
if writer:
    chosen = st.data_editor(
        companies,
        key="currency_editor",
        hide_index=True,
        disabled=["company", "pilots' currencies"],
        column_config={
            "currency": st.column_config.SelectboxColumn(
                "currency", options=["", *codes], format_func=lambda code: code or "not set"
            )
        },
    )
else:
    chosen = companies
    st.dataframe(companies, hide_index=True)
moved = changed_currencies(companies, chosen)
if writer and st.button("Save currencies", disabled=not moved):
    by = default_user()
    try:
        for company, code in moved.items():
            store.set_company_currency(company, code, by)
    except StoreError as error:
        st.error(md(error))
    else:
        del st.session_state["currency_editor"]
        ui.confirm(f"Saved the currency of {', '.join(sorted(moved))}.")
        st.rerun()

rates = ui.rates()
if not scope.everything:
    st.caption(
        f"Reporting currency: {rates.reporting or 'none (a total per currency)'}. A partner sets "
        "it and its rates."
    )
    st.dataframe(rate_table(set(ui.currencies().values()), rates.reporting, rates.rates))
else:
    with st.form("rates", border=True):
        reporting = st.selectbox(
            "Reporting currency (the portfolio total is stated in it)",
            [None, *codes],
            index=0 if rates.reporting is None else codes.index(rates.reporting) + 1,
            format_func=lambda c: "none: a total per currency" if c is None else c,
            key="reporting_currency",
        )
        st.caption(
            "Rates: 1 unit of each currency in the reporting currency (e.g. 1 EUR = 0.86 GBP)."
        )
        in_use = set(ui.currencies().values())
        table = st.data_editor(
            rate_table(in_use, rates.reporting, rates.rates),
            key="rate_editor",
            hide_index=True,
            disabled=["currency"],
            column_config={
                "rate": st.column_config.TextColumn(
                    "rate", validate=RATE_PATTERN, alignment="right"
                )
            },
        )
        if st.form_submit_button("Save reporting currency and rates"):
            entered = entered_rates(table)
            try:
                store.set_rates(reporting, entered, default_user())
            except StoreError as error:
                st.error(md(error))
            else:
                ui.confirm("Saved the reporting currency and rates.")
                st.rerun()

if scope.everything:  # the catalog is every company's: a partner's
    st.subheader("Add a custom metric")
    with st.form("add_metric", clear_on_submit=True):
        left, right = st.columns(2)
        metric_name = left.text_input("Metric name (e.g. Handle Time)", max_chars=40)
        unit = right.text_input("Unit", max_chars=20)
        direction = left.radio(
            "Better is", ["lower_is_better", "higher_is_better"], format_func=nice
        )
        kind = right.radio("Kind", ["value", "guardrail", "activity"])
        scale = left.radio(
            "Effect read as",
            ["relative", "points"],
            format_func={
                "relative": "percent change",
                "points": "percentage points (a fraction)",
            }.get,
        )
        threshold_pct = left.number_input("Threshold", 0.0, 100.0, 10.0, key="new_threshold")
        tolerance_pct = right.number_input("Tolerance", 0.0, 100.0, 5.0, key="new_tolerance")
        if st.form_submit_button("Add metric"):
            metric_name = normalise_metric(metric_name)  # "Handle Time" is handle_time everywhere
            if not valid_metric_name(metric_name):
                st.error(
                    "Name the metric with letters, digits, spaces or underscores: Handle Time."
                )
            elif metric_name in set(catalog["metric"]):
                st.error("That metric is already in the catalog; edit its threshold above.")
            else:
                try:
                    store.add_metric(
                        metric_name,
                        direction,
                        unit.strip(),
                        kind,
                        threshold_pct,
                        tolerance_pct,
                        scale,
                    )
                except StoreError as error:
                    st.error(md(error))
                else:
                    ui.confirm(f"Added {nice(metric_name)} to the catalog.")
                    st.rerun()

if scope.signed_in and scope.everything:
    companies = sorted({str(c) for c in ui.pilots()["company"].dropna()})
    signin.access_box(store, companies)
