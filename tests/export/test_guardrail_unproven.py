"""A real win extended because its guardrail is not yet shown within its tolerance
(`guardrail_unproven`): every export says so, and none calls that guardrail 'held'."""

from __future__ import annotations

import io
import re
from dataclasses import replace

import openpyxl
import pytest
from pptx import Presentation
from pypdf import PdfReader

from pilotproof import charts
from pilotproof.analysis import analyze_store
from pilotproof.export import render, report_from_store
from pilotproof.store import Store

UNPROVEN = "not yet shown within tolerance"


@pytest.fixture(scope="module")
def analysed(tmp_path_factory, unproven_files):
    with Store(tmp_path_factory.mktemp("unproven") / "store.duckdb") as store:
        ingested = store.ingest(unproven_files, user="loader")
        assert ingested.rows > 0
        (result,) = analyze_store(store)
        assert (result.decision, result.reasons) == ("extend", ("guardrail_unproven",))
        yield result, store


@pytest.fixture(scope="module")
def report(analysed):
    result, store = analysed
    return report_from_store([result], store)


def _rework(report):
    (pilot,) = report.pilots
    return pilot, next(e for e in pilot.effects if e.metric == "rework_rate")


def test_the_model_says_the_guardrail_is_not_yet_shown_within_tolerance(report):
    pilot, rework = _rework(report)
    assert rework.status_text == UNPROVEN
    assert rework.verdict_label == "Not yet shown within tolerance"
    assert rework.verdict_color == charts.VERDICT_COLORS["inconclusive"]
    assert not rework.breached
    assert pilot.check("rework_rate", "noise").outcome == UNPROVEN


def test_every_format_names_it_and_none_says_held(report):
    html = render(report, "html").decode()
    assert re.search(rf"<td>rework rate</td>.*?<td class=\"\">{UNPROVEN}</td>", html)
    pdf = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(render(report, "pdf"))).pages)
    pdf = re.sub(r"\s+", " ", pdf)
    assert f"{UNPROVEN} (at most 0.5 points worse)" in pdf
    assert "held (at most" not in pdf
    deck = Presentation(io.BytesIO(render(report, "pptx")))
    guardrail_rows = [
        [c.text for c in row.cells]
        for slide in deck.slides
        for shape in slide.shapes
        if shape.has_table and shape.name == "Guardrail table"
        for row in shape.table.rows
    ]
    assert [guardrail_rows[1][0], guardrail_rows[1][-1]] == ["rework rate", UNPROVEN]
    book = openpyxl.load_workbook(io.BytesIO(render(report, "xlsx")))
    sheet = book["Checks"]
    header = [c.value for c in sheet[1]]
    outcomes = {
        record["outcome"]
        for row in sheet.iter_rows(min_row=2, values_only=True)
        for record in [dict(zip(header, row, strict=True))]
        if record["metric"] == "rework_rate"
    }
    assert outcomes == {UNPROVEN}


def test_a_title_built_without_a_summary_names_the_guardrail_not_too_early(analysed):
    """A result without the analysis' summary (a hand-built one) gets its title from the
    report: an extend held by its guardrail is not 'too early to tell'."""
    result, store = analysed
    (pilot,) = report_from_store([replace(result, summary="")], store).pilots
    assert "too early" not in pilot.action_title
    assert re.search(
        r"cut cycle time 15% .*; extend: rework rate could be up to \d\.\d points higher "
        r"\(0\.5 points tolerated\)$",
        pilot.action_title,
    ), pilot.action_title


def test_the_plan_lines_say_what_the_pilot_waits_for(report):
    (pilot,) = report.pilots
    wait = [line for line in pilot.plan_lines if line.startswith("Before it scales")]
    assert wait and "rework rate within its tolerance" in wait[0]
    assert not any(line.startswith("Decide by") for line in pilot.plan_lines)
    html = render(report, "html").decode()
    assert "Before it scales, more data must show rework rate within its tolerance" in html


def test_the_analyze_json_and_table_name_the_guardrail_and_its_reach(analysed):
    """`pilotproof analyze` prints the title the app shows: the guardrail and how far its
    data reach, where the bare summary said only 'a guardrail not yet shown ...'."""
    from pilotproof.analysis import to_json, to_table

    result, _ = analysed
    (pilot,) = to_json([result])["pilots"]
    assert result.summary.endswith("a guardrail not yet shown within its tolerance")
    assert re.search(
        r"rework rate could be up to \+[\d.]+ points? \(0\.5 points tolerated\)$", pilot["summary"]
    )
    assert pilot["summary"] in to_table([result])
