"""The Upload page on real exports (issue 12): undo offers what was just written and confirms
it by name; a one-pilot export is mapped, previewed as read, applied once and committed; custom
metric names are normalised in Settings."""

from __future__ import annotations

from pagetools import open_page, store_for, table_with

from pilotproof import upload_steps, uploading

PILOTS = b"pilot_id,go_live,pilot_name\nHD-1,2025-06-30,Helpdesk triage\n"
ONE_PILOT = b"Ticket Week,Avg Handle Time (min),Reopen Rate\n" + b"".join(
    f"{m:02d}/{d:02d}/2025,{12 - (m > 6) * 3 + d % 2},{4 + d % 3}.0%\n".encode()
    for m in range(3, 10)
    for d in (1, 8, 15, 22)
)


def test_after_a_commit_the_undo_selector_offers_that_upload_and_confirms_it(sample_db):
    app = open_page("pages/upload.py")
    oldest = min(app.selectbox(key="undo_id").options)
    app.selectbox(key="undo_id").set_value(int(oldest.split()[0][1:])).run()  # an old upload
    app.file_uploader[0].set_value(("hd_pilots.csv", PILOTS, "text/csv")).run()
    next(b for b in app.button if b.label == "Commit upload").click().run()
    newest = int(store_for(sample_db).uploads()["upload_id"].max())
    assert app.selectbox(key="undo_id").value == newest
    next(b for b in app.button if b.label == "Undo this upload…").click().run()
    (warning,) = app.warning
    assert f"\\#{newest} hd\\_pilots\\.csv" in warning.value and "HD\\-1" in warning.value
    rows_before = len(store_for(sample_db).observations())
    next(b for b in app.button if b.label == f"Yes, undo upload #{newest}").click().run()
    assert not app.exception
    assert "HD-1" not in set(store_for(sample_db).pilots()["pilot_id"])
    assert len(store_for(sample_db).observations()) == rows_before  # nothing else touched


def test_a_one_pilot_export_is_mapped_previewed_applied_and_committed(sample_db):
    store_for(sample_db).ingest([("hd_pilots.csv", PILOTS)])
    app = open_page("pages/upload.py")
    app.file_uploader[0].set_value(("helpdesk.csv", ONE_PILOT, "text/csv")).run()
    assert app.expander[0].proto.expanded  # nothing matched: the mapping opens by itself
    mapping = {
        "Ticket Week": "date",
        "Avg Handle Time (min)": "response_time",
        "Reopen Rate": "rework_rate",
    }
    headers = list(app.data_editor[0].value["column in file"])
    app.session_state["mapping_editor"] = {
        "edited_rows": {headers.index(h): {"pilotproof column": t} for h, t in mapping.items()},
        "added_rows": [],
        "deleted_rows": [],
    }
    app.selectbox(key="whole_pilot").set_value("HD-1").run()
    preview = table_with(app, "value in file")
    rework = preview[preview["metric"] == "rework_rate"].iloc[0]
    assert (rework["value in file"], rework["value"]) == ("5.0%", 0.05)
    assert str(preview["date"].iloc[0]) == "2025-03-01"  # decided by the file (22 > 12)
    pending = "Changed since the last check"
    assert any(pending in c.value for c in app.caption)  # validated only when applied
    next(b for b in app.button if b.label == "Apply mapping").click().run()
    assert any("Every file passed validation: 56 rows" in s.value for s in app.success)
    assert not any(pending in c.value for c in app.caption)
    next(b for b in app.button if b.label == "Commit upload").click().run()
    assert not app.exception
    stored = store_for(sample_db).observations(["HD-1"])
    assert set(stored["metric"]) == {"response_time", "rework_rate"} and len(stored) == 56


def test_settings_accepts_a_custom_metric_name_as_people_write_it(sample_db):
    app = open_page("pages/settings.py")
    app.text_input[0].set_value("Handle Time")
    next(b for b in app.button if b.label == "Add metric").click().run()
    assert not app.error
    assert "handle_time" in set(store_for(sample_db).catalog()["metric"])


def test_days_live_count_to_today_whatever_else_is_uploaded(sample_db):
    import pandas as pd

    app = open_page("pages/portfolio.py")
    before = table_with(app, "days live").set_index("pilot name")["days live"]
    pilot = before.index[0]
    go_live = store_for(sample_db).pilots().set_index("pilot_name")["go_live"]
    today = pd.Timestamp.now().normalize()
    assert int(before[pilot]) == (today - go_live[pilot]).days
    later = b"pilot_id,date,metric,value\n" + b"".join(
        f"HD-1,2027-{m:02d}-01,cycle_time,{10 + m % 2}\n".encode() for m in range(1, 10)
    )
    store_for(sample_db).ingest([("p.csv", PILOTS), ("future.csv", later)])
    app.run()
    after = table_with(app, "days live").set_index("pilot name")["days live"]
    assert after[pilot] == before[pilot]


def test_a_one_pilot_export_can_register_its_pilot(sample_db):
    from datetime import date

    from pilotproof.store import IGNORE
    from pilotproof.uploading import NEW_PILOT

    app = open_page("pages/upload.py")
    app.file_uploader[0].set_value(("helpdesk.csv", ONE_PILOT, "text/csv")).run()
    headers = list(app.data_editor[0].value["column in file"])
    targets = {
        "Ticket Week": "date",
        "Avg Handle Time (min)": "response_time",
        "Reopen Rate": IGNORE,
    }
    app.session_state["mapping_editor"] = {
        "edited_rows": {headers.index(h): {"pilotproof column": t} for h, t in targets.items()},
        "added_rows": [],
        "deleted_rows": [],
    }
    app.selectbox(key="whole_pilot").set_value(NEW_PILOT).run()
    assert any("give the new pilot an id" in w.value for w in app.warning)
    app.text_input(key="new_pilot_id").set_value("NW-AP").run()  # taken
    app.date_input(key="new_pilot_go_live").set_value(date(2025, 6, 30)).run()
    assert any("exists already" in w.value for w in app.warning)
    app.text_input(key="new_pilot_id").set_value("HD-2")
    app.text_input(key="new_pilot_name").set_value("Helpdesk triage").run()
    next(b for b in app.button if b.label == "Apply mapping").click().run()
    next(b for b in app.button if b.label == "Commit upload").click().run()
    assert not app.exception, [e.value for e in app.exception]
    pilots = store_for(sample_db).pilots().set_index("pilot_id")
    assert pilots.loc["HD-2", "pilot_name"] == "Helpdesk triage"
    assert len(store_for(sample_db).observations(["HD-2"])) == 28


def test_a_mapped_column_can_become_a_new_custom_metric(sample_db):
    from pilotproof.store import IGNORE

    store_for(sample_db).ingest([("hd_pilots.csv", PILOTS)])
    app = open_page("pages/upload.py")
    app.file_uploader[0].set_value(("helpdesk.csv", ONE_PILOT, "text/csv")).run()
    headers = list(app.data_editor[0].value["column in file"])
    edits = {
        headers.index("Ticket Week"): {"pilotproof column": "date"},
        headers.index("Reopen Rate"): {"pilotproof column": IGNORE},
        headers.index("Avg Handle Time (min)"): {"or a new metric": "Handle Time"},
    }
    app.session_state["mapping_editor"] = {
        "edited_rows": edits,
        "added_rows": [],
        "deleted_rows": [],
    }
    app.selectbox(key="whole_pilot").set_value("HD-1").run()
    assert any("lower or higher is better" in w.value for w in app.warning)
    edits[headers.index("Avg Handle Time (min)")]["better is"] = "lower_is_better"
    app.session_state["mapping_editor"] = {
        "edited_rows": edits,
        "added_rows": [],
        "deleted_rows": [],
    }
    app.run()
    next(b for b in app.button if b.label == "Apply mapping").click().run()
    next(b for b in app.button if b.label == "Commit upload").click().run()
    assert not app.exception
    catalog = store_for(sample_db).catalog().set_index("metric")
    assert catalog.loc["handle_time", "direction"] == "lower_is_better"
    assert set(store_for(sample_db).observations(["HD-1"])["metric"]) == {"handle_time"}


def test_picking_another_upload_withdraws_the_pending_confirmation(sample_db):
    app = open_page("pages/upload.py")
    options = app.selectbox(key="undo_id").options
    next(b for b in app.button if b.label == "Undo this upload…").click().run()
    assert len(app.warning) == 1
    app.selectbox(key="undo_id").set_value(int(options[-1].split()[0][1:])).run()
    assert not app.warning
    assert not any(b.label.startswith("Yes, undo") for b in app.button)


UNITS_IN_HEADERS = b"pilot_id,Week,Cycle time (h),Cycle time (min),Rework rate (%)\n" + b"".join(
    f"NW-AP,2025-{m:02d}-{d:02d},{30 - m},{(30 - m) * 60},{4 + d % 3}.0\n".encode()
    for m in range(3, 10)
    for d in (1, 8, 15, 22)
)


def test_headers_are_listed_in_file_order_with_what_they_plainly_are_filled_in(sample_db):
    """`Week` is a date column and `Cycle time (h)` the catalog's cycle_time in its own unit:
    the mapping starts from them, in the file's column order. A unit other than the catalog's
    (minutes, where cycle_time is in hours) or a percent (rates are fractions) is left for the
    user: read as the catalog metric, its numbers would be off by a factor."""
    app = open_page("pages/upload.py")
    app.file_uploader[0].set_value(("units.csv", UNITS_IN_HEADERS, "text/csv")).run()
    table = app.data_editor[0].value
    assert dict(zip(table["column in file"], table["pilotproof column"], strict=True)) == {
        "pilot_id": "",
        "Week": "date",
        "Cycle time (h)": "cycle_time",
        "Cycle time (min)": "",
        "Rework rate (%)": "",
    }
    app.session_state["mapping_editor"] = {
        "edited_rows": {3: {"pilotproof column": "(ignore)"}, 4: {"pilotproof column": "(ignore)"}},
        "added_rows": [],
        "deleted_rows": [],
    }
    next(b for b in app.button if b.label == "Apply mapping").click().run()
    assert any("Every file passed validation: 28 rows" in s.value for s in app.success)
    next(b for b in app.button if b.label == "Commit upload").click().run()
    stored = store_for(sample_db).observations(["NW-AP"])
    written = {f"2025-{m:02d}-{d:02d}": 30.0 - m for m in range(3, 10) for d in (1, 8, 15, 22)}
    mine = stored[stored["date"].dt.strftime("%Y-%m-%d").isin(written.keys())]
    assert set(mine["metric"]) == {"cycle_time"}  # the minutes and the percent were ignored
    assert dict(zip(mine["date"].dt.strftime("%Y-%m-%d"), mine["value"], strict=True)) == written


def test_a_saved_mapping_wins_over_what_a_header_suggests():
    table = uploading.mapping_table(
        ["Week", "Cycle time (h)"], {"Week": "(ignore)"}, {"cycle_time": "hours"}
    )
    assert list(table["pilotproof column"]) == ["(ignore)", ""]


def test_a_suggestion_another_header_already_is_is_left_out():
    units = {"cycle_time": "hours"}
    table = uploading.mapping_table(["date", "Week", "Cycle time (h)", "cycle time"], {}, units)
    assert list(table["pilotproof column"]) == ["", "", "", ""]
    assert uploading.suggested_target("Cycle Time [hrs]", units) == "cycle_time"
    assert uploading.suggested_target("Cycle time (days)", units) == ""
    assert uploading.suggested_target("Handle time (h)", units) == ""  # not in the catalog


#: a workbook whose zip archive is damaged (refused as it is opened)
DAMAGED_BOOK = b"PK\x03\x04 not a zip archive after all"
BAD_DATE_ON_LINE_7 = (
    b"pilot_id,date,metric,value\n"
    + b"".join(f"NW-AP,2026-01-0{d},cycle_time,{40 - d}\n".encode() for d in range(1, 6))
    + b"NW-AP,2026-13-45,cycle_time,33\n"
)


def test_a_refused_workbook_and_another_files_bad_date_are_listed_together(sample_db):
    app = open_page("pages/upload.py")
    version = store_for(sample_db).data_version()
    xlsx = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    app.file_uploader[0].set_value(
        [("kpis.xlsx", DAMAGED_BOOK, xlsx), ("metrics.csv", BAD_DATE_ON_LINE_7, "text/csv")]
    ).run()
    assert not app.exception
    kinds = table_with(app, "detected as")
    assert list(zip(kinds["file"], kinds["detected as"], strict=True)) == [
        ("kpis.xlsx", upload_steps.NOT_READ),
        ("metrics.csv", "long"),
    ]
    assert any("2 problems found; nothing has been written" in e.value for e in app.error)
    problems = table_with(app, "problem")
    where = zip(problems["file"], problems["line"].astype(int), problems["column"], strict=True)
    located = list(where)
    assert located == [("kpis.xlsx", 1, "-"), ("metrics.csv", 7, "date")]
    assert "cannot read this workbook" in problems["problem"].iloc[0]
    assert "impossible date '2026-13-45'" in problems["problem"].iloc[1]
    assert next(b for b in app.button if b.label == "Commit upload").disabled
    assert store_for(sample_db).data_version() == version
