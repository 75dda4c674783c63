"""Every page through AppTest on a database in tmp_path seeded from data/sample/: assert on what a
user sees."""

from __future__ import annotations

import base64
import datetime as dt
import json

import pandas as pd
import pytest
from pagetools import open_page, store_for, table_with, texts

from pilotproof.ui import EMPTY_TEXT
from pilotproof.words import scaled_interval

PAGES = [
    "pages/portfolio.py",
    "pages/upload.py",
    "pages/explorer.py",
    "pages/compare.py",
    "pages/readiness.py",
    "pages/settings.py",
    "pages/export.py",
]
TITLES = [
    "Portfolio",
    "Upload",
    "Pilot explorer",
    "Compare pilots",
    "Readiness",
    "Settings",
    "Export",
]


@pytest.mark.parametrize(("page", "title"), list(zip(PAGES, TITLES, strict=True)))
def test_every_page_renders_its_title_on_the_sample(sample_db, page, title):
    app = open_page(page)
    assert [t.value for t in app.title] == [title]


@pytest.mark.parametrize(
    "page", [p for p in PAGES if p not in ("pages/upload.py", "pages/settings.py")]
)
def test_empty_database_says_so(empty_db, page):
    app = open_page(page)
    assert EMPTY_TEXT in [i.value for i in app.info]
    assert not app.get("plotly_chart")


def test_empty_upload_page_offers_the_uploader(empty_db):
    app = open_page("pages/upload.py")
    assert app.file_uploader[0].accept_multiple_files
    assert "No uploads yet." in [i.value for i in app.info]


def test_portfolio_headline_and_tables(sample_db, sample_pilots, expected):
    app = open_page("pages/portfolio.py")
    figures = {m.label: m.value for m in app.metric}
    assert app.caption[0].value.startswith(f"{len(sample_pilots)} pilots at 4 companies")
    assert 1 <= int(figures["Real value"]) < len(sample_pilots)
    assert int(figures["Mirages"]) >= 1
    # what to scale, a year
    assert figures["Scaling 4 pilots: net value of 1, a year"].startswith("EUR\u00a0")
    pilots = table_with(app, "why")
    assert sorted(pilots["pilot"]) == sorted(sample_pilots["pilot_name"])
    nw_ap = pilots.set_index("pilot").loc["Invoice capture and 3-way match"]
    assert nw_ap["verdict"] == "Real impact"
    board = json.loads(app.get("plotly_chart")[0].proto.spec)["data"]
    assert [trace["name"] for trace in board] == ["Scale", "Fix", "Extend", "Stop"]
    assert sum(sum(_values(trace["x"])) for trace in board) == len(sample_pilots)
    assert {label.split(" · ")[0] for label in board[0]["y"]} == set(sample_pilots["company"])
    stages = table_with(app, "stage", last=True)
    assert set(stages["company"]) == set(sample_pilots["company"])
    assert set(stages["stage"]) <= {
        "Experimenting",
        "Expanding",
        "Coordinating",
        "Running as a portfolio",
    }
    assert stages["rule"].str.len().min() > 20
    assert [s.value for s in app.subheader] == [
        "Decisions", "Pilots", "Decision board", "Pilot purgatory", "Success criteria",
        "Decisions overdue", "AI sprawl", "Maturity by company",
    ]  # fmt: skip


def test_explorer_shows_a_known_real_pilot(sample_db):
    app = open_page("pages/explorer.py", pilot="NW-AP")
    shown = texts(app)
    assert "Real impact" in shown
    assert "cycle time" in shown and "lower than it would have been" in shown
    assert "95% interval" in shown
    assert len(app.get("plotly_chart")) >= 1
    check_lines = [m.value for m in app.markdown if m.value.startswith(":material/")]
    assert len(check_lines) >= 3
    assert any(": pass.**" in line for line in check_lines)


def test_explorer_shows_a_mirage_with_its_failed_check(sample_db):
    app = open_page("pages/explorer.py", pilot="MF-PROC")
    shown = texts(app)
    assert "Value mirage" in shown
    assert "Pre-existing trend: fail." in shown


def test_explorer_adds_an_event_that_stays_in_the_store(sample_db):
    app = open_page("pages/explorer.py", pilot="HB-TRIAGE")
    app.date_input[0].set_value(dt.date(2026, 5, 1))
    app.text_input[0].set_value("Claims re-org [link](http://x)")
    app.button(key="FormSubmitter:add_event-Add event").click().run()
    assert not app.exception
    events = store_for(sample_db).events("HB-TRIAGE")
    assert list(events["label"]) == ["Claims re-org [link](http://x)"]
    table = table_with(app, "label")
    assert "Claims re-org [link](http://x)" in set(table["label"])
    assert "event_id" not in table.columns  # a sequence over every company's events
    picked = app.selectbox(key="event_to_remove").options
    assert picked == ["2026-05-01 Claims re-org [link](http://x)"]
    spec = json.loads(app.get("plotly_chart")[0].proto.spec)
    notes = [n["text"] for n in spec["layout"]["annotations"]]
    assert "Claims re-org [link](http://x)" in notes  # on the timeline, as plain text

    next(b for b in app.button if b.label == "Remove event").click().run()
    assert store_for(sample_db).events("HB-TRIAGE").empty


def test_compare_marks_best_and_worst_and_filters(sample_db, sample_pilots):
    app = open_page("pages/compare.py")
    assert len(app.get("plotly_chart")) == 2  # forest plot and aligned small multiples
    table = table_with(app, "improvement")
    assert set(table[""]) >= {"best", "worst"}
    improvement = pd.to_numeric(table["improvement"], errors="coerce")
    assert improvement.dropna().is_monotonic_decreasing
    company = "Meridian Freight"
    app.multiselect[0].set_value([company]).run()
    filtered = table_with(app, "improvement")
    own = sample_pilots.loc[sample_pilots["company"] == company, "pilot_name"]
    assert 0 < len(filtered) < len(table)
    assert all(any(name in label for name in own) for label in filtered["pilot"])


def test_compare_shows_a_mix_shift_at_the_same_mix_of_work(sample_db):
    """The order desk assistant's cost per transaction fell 26% because the mix of work moved;
    Compare ranked it by that apparent gain, ahead of real wins, while the deck showed +0.3%.
    The table and the chart now show what survives at the same mix."""
    from pilotproof.analysis import analyze_store

    (order,) = [r for r in analyze_store(store_for(sample_db)) if r.pilot_id == "NW-ORDERS"]
    (mix,) = [e for e in order.value_effects if "mix_shift" in e.reasons]
    app = open_page("pages/compare.py")
    table = table_with(app, "improvement")
    row = table[table["pilot"].str.contains("Order desk")].iloc[0]
    assert "(same mix)" in row["pilot"]
    better = -1.0 if mix.direction == "lower_is_better" else 1.0  # improvement: + is better
    assert float(row["improvement"]) == pytest.approx(better * mix.rate_effect_pct, abs=0.05)
    assert abs(float(row["improvement"])) < 5 < abs(mix.effect_pct)
    # the rate part's own interval, never the point repeated ('-0.3% to -0.3%')
    low, high = mix.rate_ci_low_pct, mix.rate_ci_high_pct
    assert low is not None and high is not None and low < mix.rate_effect_pct < high
    assert row["95% interval"] == scaled_interval(low, high, False)
    ends = row["95% interval"].split(" to ")
    assert len(ends) == 2 and ends[0] != ends[1]


def test_readiness_lists_gaps_and_saves_an_edit(sample_db, sample_pilots):
    app = open_page("pages/readiness.py")
    assert len(app.data_editor[0].value) == len(sample_pilots)
    blank = (sample_pilots.drop(columns=["pilot_id", "go_live"]) == "").any(axis=1)
    gaps = table_with(app, "gaps")
    incomplete = sample_pilots.loc[blank, "pilot_name"]
    assert set(gaps["pilot"]) >= set(incomplete[sample_pilots.loc[blank, "workflow"] == ""])
    ready = app.metric[0].value
    assert ready.endswith(f"of {len(sample_pilots)} pilots")

    shown = list(store_for(sample_db).pilots()["pilot_id"])  # the editor's row order
    row = shown.index("NW-COLLECT")
    app.session_state["readiness_editor"] = {
        "edited_rows": {row: {"decision_owner": "CFO owns the dunning policy"}},
        "added_rows": [],
        "deleted_rows": [],
    }
    app.run()
    save = app.button[0]
    assert save.label == "Save 1 changed pilot"
    save.click().run()
    assert not app.exception
    saved = store_for(sample_db).pilots().set_index("pilot_id")
    assert saved.at["NW-COLLECT", "decision_owner"] == "CFO owns the dunning policy"


def test_settings_adds_a_custom_metric_and_rejects_a_bad_name(sample_db):
    app = open_page("pages/settings.py")
    catalog = app.data_editor[0].value
    assert {"cycle_time", "rework_rate"} <= set(catalog["metric"])
    form = "FormSubmitter:add_metric-Add metric"
    app.text_input[0].set_value("=HYPERLINK(1)")
    app.button(key=form).click().run()
    assert any("letters, digits, spaces or underscores" in e.value for e in app.error)
    app.text_input[0].set_value("first_contact_resolution")
    app.text_input[1].set_value("rate")
    app.radio[0].set_value("higher_is_better")
    app.button(key=form).click().run()
    assert not app.exception
    catalog = store_for(sample_db).catalog().set_index("metric")
    assert catalog.at["first_contact_resolution", "direction"] == "higher_is_better"
    assert "first_contact_resolution" in set(app.data_editor[0].value["metric"])


def test_settings_saves_a_per_pilot_override(sample_db):
    app = open_page("pages/settings.py")
    app.selectbox[0].set_value("NW-AP")
    app.selectbox[1].set_value("cycle_time")
    app.number_input[0].set_value(25.0)
    app.button(key="FormSubmitter:override-Save override").click().run()
    overrides = store_for(sample_db).thresholds()
    row = overrides[(overrides["pilot_id"] == "NW-AP") & (overrides["metric"] == "cycle_time")]
    assert float(row["threshold_pct"].iloc[0]) == 25.0


def _values(encoded) -> list[float]:
    """Plotly may ship a numeric array as {"dtype", "bdata"} (base64) instead of a list."""
    if isinstance(encoded, dict):
        import numpy as np

        return list(np.frombuffer(base64.b64decode(encoded["bdata"]), dtype=encoded["dtype"]))
    return list(encoded)


GOOD_PILOTS = (
    b"pilot_id,go_live,pilot_name,company,function,vendor\n"
    b"UP-1,2026-03-02,Upload test bot,Upload Co,Support,Acme AI\n"
)
GOOD_METRICS = b"pilot_id,date,metric,value\n" + b"".join(
    f"UP-1,2026-{m:02d}-01,cycle_time,{20 - (m > 3) * 5 + m % 2}\n".encode() for m in range(1, 11)
)
BAD_METRICS = (
    b"pilot_id,date,metric,value\n"
    b"UP-1,2026-01-01,cycle_time,12\n"
    b"UP-1,2026-13-45,cycle_time,11\n"
    b"UP-1,2026-03-01,cycle_time,lots\n"
)


def test_upload_validates_commits_and_undoes(sample_db):
    app = open_page("pages/upload.py")
    before = len(store_for(sample_db).pilots())
    app.file_uploader[0].set_value(
        [("pilots.csv", GOOD_PILOTS, "text/csv"), ("metrics.csv", GOOD_METRICS, "text/csv")]
    ).run()
    assert not app.exception
    assert any("Every file passed validation" in s.value for s in app.success)
    kinds = table_with(app, "detected as").set_index("file")["detected as"]
    assert dict(kinds) == {"pilots.csv": "pilots", "metrics.csv": "long"}
    commit = next(b for b in app.button if b.label == "Commit upload")
    commit.click().run()
    assert not app.exception
    assert len(app.progress) == 1 and app.progress[0].value == 100
    assert len(store_for(sample_db).pilots()) == before + 1

    history = table_with(app, "outcome")
    assert {"pilots.csv", "metrics.csv"} <= set(history["file"])
    newest = int(history.loc[history["file"] == "pilots.csv", "upload"].astype(int).max())
    app.selectbox(key="undo_id").set_value(newest)
    next(b for b in app.button if b.label == "Undo this upload…").click().run()
    assert "UP-1" in set(store_for(sample_db).pilots()["pilot_id"])  # not before confirming
    assert any(r"pilots\.csv\: the pilots file for pilot UP\-1" in w.value for w in app.warning)
    next(b for b in app.button if b.label == f"Yes, undo upload #{newest}").click().run()
    assert not app.exception
    assert "UP-1" not in set(store_for(sample_db).pilots()["pilot_id"])


def test_upload_lists_every_problem_with_its_line_and_writes_nothing(sample_db):
    app = open_page("pages/upload.py")
    version = store_for(sample_db).data_version()
    app.file_uploader[0].set_value(("bad.csv", BAD_METRICS, "text/csv")).run()
    assert any("found; nothing has been written" in e.value for e in app.error)
    problems = table_with(app, "problem")
    assert set(problems["line"].astype(int)) >= {3, 4}
    assert set(problems["file"]) == {"bad.csv"}
    commit = next(b for b in app.button if b.label == "Commit upload")
    assert commit.disabled
    assert store_for(sample_db).data_version() == version


def test_upload_mapping_renames_headers_and_is_saved(sample_db):
    export = b"Ticket group,Week,KPI,Amount\nUP-2,2026-01-05,cycle_time,12\n"
    app = open_page("pages/upload.py")
    app.file_uploader[0].set_value(("zendesk.csv", export, "text/csv")).run()
    assert any(" found; nothing" in e.value for e in app.error)  # headers not recognised
    mapping = {"Ticket group": "pilot_id", "Week": "date", "KPI": "metric", "Amount": "value"}
    headers = list(app.data_editor[0].value["column in file"])
    app.session_state["mapping_editor"] = {
        "edited_rows": {headers.index(h): {"pilotproof column": t} for h, t in mapping.items()},
        "added_rows": [],
        "deleted_rows": [],
    }
    app.text_input(key="mapping_save_name").set_value("Zendesk weekly")
    app.run()
    next(b for b in app.button if b.label == "Save mapping").click().run()
    assert store_for(sample_db).mappings()["Zendesk weekly"] == mapping
    kinds = table_with(app, "detected as").set_index("file")["detected as"]
    assert kinds["zendesk.csv"] == "long"


def test_export_builds_a_download_for_a_selection(sample_db):
    app = open_page("pages/export.py")
    assert app.radio[0].options == ["PPTX", "PDF", "XLSX", "HTML"]
    app.multiselect[0].set_value(["NW-AP", "MF-PROC"])
    app.radio[0].set_value("html")
    next(b for b in app.button if b.label == "Build the summary").click().run()
    assert not app.exception and not app.error
    fmt, data = app.session_state["export_file"]
    assert fmt == "html" and b"Invoice capture and 3-way match" in data
    assert b"Claims triage" not in data  # only the selection
    assert app.download_button[0].label.startswith("Download HTML")


def test_user_text_is_never_live_markdown(sample_db):
    name = "[click me](http://evil.example) **now** <img src=x>"
    store = store_for(sample_db)
    store.ingest(
        [
            ("p.csv", b'pilot_id,go_live,pilot_name\nINJ,2026-03-02,"' + name.encode() + b'"\n'),
            ("m.csv", GOOD_METRICS.replace(b"UP-1", b"INJ")),
        ]
    )
    app = open_page("pages/explorer.py", pilot="INJ")
    shown = [m.value for m in app.markdown]
    assert not any("[click me](http" in value or "**now**" in value for value in shown)
    assert any(r"\[click me\]\(http" in value for value in shown)
    for page in ("pages/portfolio.py", "pages/compare.py", "pages/readiness.py"):
        other = open_page(page)
        assert not any("[click me](http" in m.value for m in other.markdown)


def test_settings_saves_catalog_defaults(sample_db):
    app = open_page("pages/settings.py")
    metrics = list(app.data_editor[0].value["metric"])
    edit = {
        "edited_rows": {metrics.index("cycle_time"): {"threshold_pct": 15.0}},
        "added_rows": [],
        "deleted_rows": [],
    }
    app.session_state["catalog_editor"] = edit
    app.run()
    save = next(b for b in app.button if b.label == "Save catalog defaults")
    assert not save.disabled
    save.click().run()
    assert not app.exception
    catalog = store_for(sample_db).catalog().set_index("metric")
    assert catalog.at["cycle_time", "threshold_pct"] == 15.0
    assert catalog.at["cycle_time", "tolerance_pct"] == 5.0  # untouched


def test_upload_over_the_size_limit_is_refused_with_a_message(sample_db):
    from streamlit import config

    limit = config.get_option("server.maxUploadSize")
    config.set_option("server.maxUploadSize", 0)
    try:
        app = open_page("pages/upload.py")
        app.file_uploader[0].set_value(("big.csv", GOOD_METRICS, "text/csv")).run()
    finally:
        config.set_option("server.maxUploadSize", limit)
    assert any("Over the 0 MB limit" in e.value and r"big\.csv" in e.value for e in app.error)
    assert not any(b.label == "Commit upload" for b in app.button)


def test_new_upload_refreshes_the_cached_portfolio(sample_db, sample_pilots):
    app = open_page("pages/portfolio.py")
    assert app.caption[0].value.startswith(f"{len(sample_pilots)} pilots")
    store_for(sample_db).ingest([("p.csv", GOOD_PILOTS), ("m.csv", GOOD_METRICS)], user="test")
    app.run()
    assert app.caption[0].value.startswith(f"{len(sample_pilots) + 1} pilots")
    assert "Upload test bot" in set(app.table[0].value["pilot"])


def test_explorer_names_activity_and_guardrails_in_their_own_words(sample_db):
    # NW-AP tracks AI usage (activity) and rework rate (a guardrail) beside its value metrics
    app = open_page("pages/explorer.py", pilot="NW-AP")
    app.selectbox[1].set_value("ai_usage").run()
    shown = texts(app)
    assert "Real impact" not in shown and "activity, not value**" in shown
    assert ":violet-badge[:material/touch_app: Activity, not value]" in shown
    app.selectbox[1].set_value("rework_rate").run()
    shown = texts(app)
    assert "Guardrail" in shown and "Mirage checks" not in shown
    assert "Rework rate held" in shown and "fail." not in shown


def test_export_page_says_which_chart_it_could_not_draw(sample_db, monkeypatch):
    from pilotproof.export import pdf_charts

    def nothing_drawn(*args):
        raise ValueError("boom")

    monkeypatch.setattr(pdf_charts, "series_drawing", nothing_drawn)
    app = open_page("pages/export.py")
    app.multiselect[0].set_value(["NW-AP"])
    app.radio[0].set_value("pdf")
    next(b for b in app.button if b.label == "Build the summary").click().run()
    assert not app.exception and not app.error
    assert app.session_state["export_file"][0] == "pdf"  # the file is still built...
    warnings = [w.value for w in app.warning]
    assert any("series chart of pilot NW" in w and "not drawn" in w for w in warnings), warnings


def test_compare_names_an_override_in_the_column_and_who_took_it_below(sample_db):
    """The decision column spelled a whole override ('Scale (override: pilotproof recommends
    Fix; Scale decided by VP Support, 2026-08-17)'), whose long words widened the table past
    the page and cut it (read-through B10): the column names what was overridden, and a note
    under the table says who decided and when."""
    app = open_page("pages/compare.py")
    table = table_with(app, "decision")
    assert not table["decision"].str.contains("recommends|decided by").any()
    overridden = table[table["decision"].str.contains("override of")]
    assert not overridden.empty
    notes = [c.value for c in app.caption if "decided by" in c.value]
    for pilot in overridden["pilot"]:
        assert any(md_plain(note).startswith(f"{pilot}: override: pilotproof recommends")
                   for note in notes)  # fmt: skip


def md_plain(text: str) -> str:
    """A caption as read: markdown escapes and word joiners undone (as `read_table`)."""
    import re

    return re.sub(r"\\(.)", r"\1", text).replace("\u2060", "")


def test_portfolio_and_explorer_say_when_the_data_end(sample_db):
    """Read-through B11: the app never said when the data end (the sample's run to 2026-10-31),
    while 'weeks since go-live' read as if counted to today. The Portfolio header and the
    explorer say 'Data up to <the last observation's date>', and an extended pilot's weeks say
    the date they count to."""
    app = open_page("pages/portfolio.py")
    observations = store_for(sample_db).observations()
    last = observations["date"].max()
    assert f"Data up to {last:%Y-%m-%d}" in texts(app)
    collect = observations[observations["pilot_id"] == "NW-COLLECT"]["date"].max()
    assert collect < last  # weekly data: its own last week, not the portfolio's last day
    app.switch_page("pages/explorer.py")
    app.query_params["pilot"] = "NW-COLLECT"
    app.run()
    assert not app.exception
    assert f"Data up to {collect:%Y-%m-%d}" in texts(app)
    why = table_with(app.switch_page("pages/portfolio.py").run(), "why")
    (early,) = [w for w in why["why"] if "since go-live" in w]
    assert f"since go-live (data up to {collect:%Y-%m-%d})" in early
