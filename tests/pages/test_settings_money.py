"""Settings: a company's currency, the reporting currency and rates, and a confirmation after
every save (issue 13)."""

from __future__ import annotations

from pagetools import open_page, store_for, table_with


def test_a_company_currency_is_saved_and_confirmed(sample_db):
    app = open_page("pages/settings.py")
    table = app.data_editor(key="currency_editor").value
    assert list(table["company"]) == sorted(table["company"])
    cobalt = table.set_index("company").loc["Cobalt Cloud"]
    assert cobalt["currency"] == "" and cobalt["pilots' currencies"] == "USD (3 pilots)"
    row = list(table["company"]).index("Cobalt Cloud")
    app.session_state["currency_editor"] = {
        "edited_rows": {row: {"currency": "CAD"}}, "added_rows": [], "deleted_rows": [],
    }  # fmt: skip
    app.run()
    next(b for b in app.button if b.label == "Save currencies").click().run()
    assert not app.exception
    assert "Saved the currency of Cobalt Cloud." in [s.value for s in app.success]
    # the sample's pilots state their own currency, which wins over the company's
    store = store_for(sample_db)
    assert store.company_currencies()["Cobalt Cloud"] == "CAD"
    assert store.pilot_currencies()["CB-ASSIST"] == "USD"


def test_rates_are_saved_and_the_portfolio_adds_up_at_them(sample_db):
    app = open_page("pages/settings.py")
    rates = app.data_editor(key="rate_editor").value
    assert list(rates["currency"]) == ["EUR", "GBP", "USD"]
    app.session_state["rate_editor"] = {
        "edited_rows": {0: {"rate": 0.86}, 2: {"rate": 0.79}}, "added_rows": [], "deleted_rows": [],
    }  # fmt: skip
    app.run()
    app.selectbox(key="reporting_currency").set_value("GBP")
    app.button(key="FormSubmitter:rates-Save reporting currency and rates").click().run()
    assert not app.exception
    assert "Saved the reporting currency and rates." in [s.value for s in app.success]
    saved = store_for(sample_db).rates()
    assert saved.reporting == "GBP" and dict(saved.rates) == {"EUR": 0.86, "USD": 0.79}
    portfolio = open_page("pages/portfolio.py")
    labels = [m.label for m in portfolio.metric]
    assert "Scaling 4 pilots: net value of 1, a year (in GBP)" in labels


def test_catalog_save_is_confirmed(sample_db):
    app = open_page("pages/settings.py")
    metrics = list(app.data_editor[0].value["metric"])
    app.session_state["catalog_editor"] = {
        "edited_rows": {metrics.index("cycle_time"): {"threshold_pct": 12.0}},
        "added_rows": [], "deleted_rows": [],
    }  # fmt: skip
    app.run()
    next(b for b in app.button if b.label == "Save catalog defaults").click().run()
    assert "Saved the defaults of cycle time." in [s.value for s in app.success]
    app.run()
    assert not app.success  # said once


def test_settings_tables_read_in_words_never_none(sample_db):
    app = open_page("pages/settings.py")
    catalog = app.data_editor[0].value.set_index("metric")
    assert catalog.at["margin", "direction"] == "higher is better"
    assert catalog.at["cost_per_transaction", "name"] == "cost per transaction"
    assert catalog.at["ai_usage", "threshold_pct"] == "not set"  # never "None"
    assert catalog.at["cycle_time", "threshold_pct"] == "10"
    rates = app.data_editor[-1].value
    assert set(rates["rate"]) == {"not set"}
    shown = [str(v) for e in app.data_editor for v in e.value.to_numpy().ravel()]
    assert not any(v in ("None", "nan") or "_is_better" in v for v in shown)


def test_ai_sprawl_states_monthly_cost_in_its_currency(sample_db):
    app = open_page("pages/portfolio.py")
    sprawl = table_with(app, "pilot names").set_index("company")
    assert sprawl.at["Cobalt Cloud", "monthly cost"] == "USD\u00a019,400 a month"
    assert sprawl.at["Harborline Insurance", "monthly cost"].startswith("GBP\u00a0")


def test_per_pilot_overrides_read_in_words(sample_db):
    open_page("pages/settings.py")
    store_for(sample_db).set_threshold("cycle_time", 25.0, None, pilot_id="NW-AP")
    app = open_page("pages/settings.py")
    overrides = table_with(app, "tolerance")
    row = overrides.iloc[0]
    assert row["pilot"] == "Invoice capture and 3-way match (Northwind Supply)"
    assert (row["metric"], row["threshold"], row["tolerance"]) == ("cycle time", "25", "not set")
