"""Settings: a company's currency, the reporting currency and rates, and a confirmation after
every save (issue 13)."""

from __future__ import annotations

from pagetools import open_page, store_for


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
    assert "Scaling 3 pilots, a year (in GBP)" in labels


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
