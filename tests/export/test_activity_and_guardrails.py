"""Issue 11: activity metrics never wear the word or colour of real impact, effects beyond
±300% read as multiples, and a guardrail that held is never a failed check. In every format."""

from __future__ import annotations

import io
import re
from dataclasses import replace

import openpyxl
import pytest
from pptx import Presentation
from pypdf import PdfReader

from pilotproof import charts
from pilotproof.export import render
from pilotproof.export.content import build_report

REAL_GREEN = charts.VERDICT_COLORS["real"]


@pytest.fixture(scope="module")
def report(results, pilots, observations):
    p1 = results[0]
    cycle, rework = p1.metrics[0], p1.metrics[1]
    usage = replace(
        cycle, metric="ai_usage", kind="activity", direction="higher_is_better",
        effect_pct=4067.6, ci_low_pct=3900.0, ci_high_pct=4300.0,
    )  # fmt: skip
    # a guardrail that held (no significant worsening) but whose noise check "failed"
    checks = tuple(replace(c, passed=False) if c.name == "noise" else c for c in rework.checks)
    held = replace(rework, checks=checks, reasons=("noise",))
    assert held.kind == "guardrail" and held.verdict == "no_change"
    p1 = replace(p1, metrics=(cycle, held, usage))
    return build_report((p1, *results[1:]), pilots, observations)


def _rows(report):
    return [e for p in report.pilots for e in p.effects]


def test_the_model_names_activity_and_guardrails_in_their_own_words(report):
    usage = next(e for e in _rows(report) if e.metric == "ai_usage")
    assert usage.verdict_label == "Activity, not value" and usage.verdict_color != REAL_GREEN
    assert usage.effect_text == "41.7x" and usage.interval_text == "40x to 44x"
    p1 = report.pilots[0]
    assert "rework_rate" not in p1.check_metrics  # guardrails have their own table
    assert all(c.metric != "rework_rate" for c in p1.failed_checks)
    noise = p1.check("rework_rate", "noise")
    assert noise.outcome == "held"


def test_a_flat_guardrail_is_held_not_a_value_mirage(report):
    """A guardrail that did not move is not a mirage (issue 13): the effect table says it held,
    in the colour of no change, as the guardrail table does."""
    p1 = report.pilots[0]
    for verdict in ("mirage", "no_change"):
        flat = replace(p1.effects[1], verdict=verdict)
        assert flat.kind == "guardrail"
        assert flat.verdict_label == "Held" and flat.status_text == "held"
        assert flat.verdict_color == charts.VERDICT_COLORS["no_change"]
    worse = replace(p1.effects[1], verdict="worse", beyond_tolerance=True)
    assert worse.verdict_label == "Worsened beyond tolerance"
    assert worse.verdict_color == charts.VERDICT_COLORS["worse"]


def test_html(report):
    html = render(report, "html").decode()
    row = re.search(r"<tr><td>AI usage</td>.*?</tr>", html).group()
    assert "Activity, not value" in row and "Real impact" not in row and REAL_GREEN not in row
    assert "41.7x" in row and "40x to 44x" in row
    assert "rework rate, Noise" not in html
    assert re.search(r"<td>rework rate</td>.*?<td class=\"\">held</td>", html)


def test_pptx(report):
    deck = Presentation(io.BytesIO(render(report, "pptx")))
    seen = set()
    for slide in deck.slides:
        for shape in slide.shapes:
            if not shape.has_table:
                continue
            for row in shape.table.rows:
                cells = [c.text for c in row.cells]
                if cells[0] == "AI usage" and shape.name == "Effect table":
                    assert cells[1] == "Activity, not value" and cells[2] == "41.7x"
                    seen.add("activity")
                    fill = row.cells[1].fill.fore_color.rgb
                    assert str(fill) != REAL_GREEN.lstrip("#").upper()
                if shape.name == "Checks table":
                    assert "rework rate" not in cells
                    seen.add("checks")
                if shape.name == "Guardrail table" and cells[0] == "rework rate":
                    assert cells[-1] == "held"
                    seen.add("guardrail")
    assert seen == {"activity", "checks", "guardrail"}


def test_pdf(report):
    reader = PdfReader(io.BytesIO(render(report, "pdf")))
    page = re.sub(r"\s+", " ", reader.pages[2].extract_text())
    assert "AI usage Activity, not value 41.7x 40x to 44x" in page
    assert "held (at most 5% worse)" in page
    assert "<=" not in page
    assert "Real impact +4067" not in page


def test_xlsx(report):
    book = openpyxl.load_workbook(io.BytesIO(render(report, "xlsx")))
    estimates = book["Estimates"]
    header = [c.value for c in estimates[1]]
    for row in estimates.iter_rows(min_row=2, values_only=True):
        record = dict(zip(header, row, strict=True))
        if record["metric"] == "ai_usage":
            assert record["verdict_label"] == "Activity, not value"
    checks = book["Checks"]
    header = [c.value for c in checks[1]]
    for row in checks.iter_rows(min_row=2, values_only=True):
        record = dict(zip(header, row, strict=True))
        if record["metric"] == "rework_rate":
            assert record["outcome"] == "held"
