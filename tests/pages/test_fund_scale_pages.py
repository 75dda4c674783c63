"""The pages at fund scale (issue 16): long tables paged, the forest plot's ends on demand,
each decision's list cut to its first pilots. The sample's 14 pilots stand in for a fund's
thousand by lowering the limits."""

from __future__ import annotations

import pandas as pd
import pytest
from pagetools import open_page, store_for, table_with

from pilotproof.views import left_out_caption


@pytest.fixture
def five_a_page(monkeypatch):
    from pilotproof import ui

    monkeypatch.setattr(ui, "PAGE_ROWS", 5)


def _pager(app):
    return next(n for n in app.number_input if n.label.startswith("Page (of"))


def test_the_pilots_table_is_paged(sample_db, five_a_page):
    app = open_page("pages/portfolio.py")
    pager = _pager(app)
    assert pager.label == "Page (of 3)"
    first = table_with(app, "why")  # a static table whose cells wrap (issue 13)
    assert len(first) == 5 and "Rows 1 to 5 of 14" in [c.value for c in app.caption]
    pager.set_value(3).run()
    last = table_with(app, "why")
    assert len(last) == 4 and "Rows 11 to 14 of 14" in [c.value for c in app.caption]
    assert not set(first["pilot"]) & set(last["pilot"])


def test_compare_sorts_every_row_before_paging(sample_db, five_a_page):
    app = open_page("pages/compare.py")
    table = table_with(app, "improvement")
    assert len(table) == 5
    best = pd.to_numeric(table["improvement"], errors="coerce").max()
    _pager(app).set_value(2).run()
    later = table_with(app, "improvement")
    # sorted by improvement over every row, so no later page beats the first
    assert pd.to_numeric(later["improvement"], errors="coerce").max() <= best
    sorter = next(s for s in app.selectbox if s.label == "Sort all rows by")
    sorter.set_value("pilot").run()
    _pager(app).set_value(1).run()
    names = table_with(app, "improvement")["pilot"]
    assert list(names) == sorted(names)


def test_readiness_edits_a_later_page_and_saves_the_right_pilot(sample_db, five_a_page):
    app = open_page("pages/readiness.py")
    _pager(app).set_value(2).run()
    shown = list(store_for(sample_db).pilots()["pilot_id"])  # the editor's row order
    pilot = shown[7]  # the third row of the second page
    app.session_state["readiness_editor_5"] = {
        "edited_rows": {2: {"decision_owner": "CFO owns the policy"}},
        "added_rows": [],
        "deleted_rows": [],
    }
    app.run()
    save = next(b for b in app.button if b.label.startswith("Save"))
    assert save.label == "Save 1 changed pilot"
    save.click().run()
    assert not app.exception
    saved = store_for(sample_db).pilots().set_index("pilot_id")
    assert saved.at[pilot, "decision_owner"] == "CFO owns the policy"
    assert app.metric[0].value.endswith("of 14 pilots")  # every pilot counted, not the page


def test_each_decision_lists_its_first_pilots_then_all_on_demand(sample_db, monkeypatch):
    from pilotproof import views

    monkeypatch.setattr(views, "DECISION_LIST_MOST", 1)
    app = open_page("pages/portfolio.py")
    toggles = {t.label: t for t in app.toggle if t.label.startswith("Show all")}
    assert toggles  # a decision with more than one pilot offers the rest
    label, toggle = next(iter(toggles.items()))
    lines = len(app.markdown)
    toggle.set_value(True).run()
    assert len(app.markdown) == lines + int(label.split()[-1]) - 1


def test_a_funds_left_out_pilots_are_counted_by_reason():
    missing = [f"Pilot {i}: between the 20 best and the 20 worst" for i in range(960)]
    missing += ["Late pilot: no estimate yet (not enough data)"]
    caption = left_out_caption(missing, 40, 1001)
    assert caption == (
        "40 of 1,001 pilots plotted. Left out: 960 between the 20 best and the 20 worst "
        "(Pilot 0, Pilot 1, Pilot 2 and 957 more); 1 no estimate yet (not enough data) "
        "(Late pilot)."
    )
    assert left_out_caption(missing[:2], 40, 42) == (
        "40 of 42 pilots plotted. Left out: Pilot 0: between the 20 best and the 20 worst; "
        "Pilot 1: between the 20 best and the 20 worst."
    )


def test_export_offers_a_board_pack_past_its_size(sample_db, monkeypatch):
    from pypdf import PdfReader

    from pilotproof import export

    monkeypatch.setattr(export, "BOARD_PACK_FROM", 5)  # the sample's 14 pilots as a fund's
    app = open_page("pages/export.py")
    app.radio[0].set_value("pdf").run()
    pack = next(r for r in app.radio if r.label == "Pilot pages")
    assert pack.value is False  # the board pack is the default
    picks = next(m for m in app.multiselect if m.label.startswith("Pilots shown in full"))
    picks.set_value(["HB-FNOL"]).run()
    next(b for b in app.button if b.label == "Build the summary").click().run()
    assert not app.exception and not app.error
    fmt, data = app.session_state["export_file"]
    import io

    pages = [p.extract_text() for p in PdfReader(io.BytesIO(data)).pages]
    full = [t for t in pages if "Readiness to scale" in t]
    assert fmt == "pdf" and len(full) == 1 and "HB-FNOL" in full[0]
    app.radio[0].set_value("xlsx").run()  # a workbook always holds every pilot: no choice
    assert not [r for r in app.radio if r.label == "Pilot pages"]
