"""The Excel appendix read back with openpyxl: tidy sheets, numbers, charts, footer, no formulas."""

from __future__ import annotations

import io

import openpyxl
import pytest

from pilotproof.export import xlsx


@pytest.fixture(scope="module")
def book(report):
    return openpyxl.load_workbook(io.BytesIO(xlsx.render(report)))


def _records(sheet):
    rows = list(sheet.iter_rows(values_only=True))
    return [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]


def test_one_tidy_sheet_per_table(book):
    assert book.sheetnames == [
        "Board summary",
        "Summary",
        "Estimates",
        "Checks",
        "Decisions",
        "Readiness",
        "Success plans",
        "Decision log",
        "Series",
        "Charts",
        "Data",
        "About",
    ]
    assert [c.value for c in book["Estimates"][1]] == list(xlsx.ESTIMATE_COLUMNS)


def test_estimates_hold_the_exact_numbers_of_the_analysis(book, results):
    rows = {(r["pilot_id"], r["metric"]): r for r in _records(book["Estimates"])}
    assert len(rows) == sum(len(r.metrics) for r in results)
    for result in results:
        for effect in result.metrics:
            row = rows[(result.pilot_id, effect.metric)]
            assert row["verdict"] == effect.verdict
            assert row["effect_pct"] == effect.effect_pct
            assert row["ci_low_pct"] == effect.ci_low_pct
            assert row["ci_high_pct"] == effect.ci_high_pct


def test_summary_leads_with_action_titles_and_decisions(book, report):
    rows = _records(book["Summary"])
    assert [r["action_title"] for r in rows] == [p.action_title for p in report.pilots]
    assert [r["decision"] for r in rows] == ["scale", "fix", "extend"]
    assert rows[0]["annual_net_value"] == 360_000.0


def test_the_board_summary_opens_first_in_the_decks_own_words(book, report):
    # a board member opens words, not codes: the deck's decision, pilot, action title and value
    # cells, grouped scale, fix, extend, stop; the codes stay in the tidy sheets after it
    assert book.active.title == "Board summary"
    rows = _records(book["Board summary"])
    order = [p for _, members in report.decision_groups for p in members]
    assert [r["Pilot"] for r in rows] == [p.label for p in order]
    assert [r["Decision"] for r in rows] == [p.decision_label for p in order]
    assert [r["Why"] for r in rows] == [p.action_title for p in order]
    assert [r["Value a year"] for r in rows] == [p.net_text for p in order]
    assert not {"scale", "fix", "extend", "stop"} & {r["Decision"] for r in rows}


def test_checks_readiness_and_underlying_data(book, observations):
    checks = _records(book["Checks"])
    assert not [c for c in checks if c["outcome"] == "FAIL"]
    worse = {c["metric"] for c in checks if c["outcome"] == "worsened beyond tolerance"}
    assert worse == {"manual_touches"}  # the guardrail, never "Noise FAIL"
    assert {c["outcome"] for c in checks if c["metric"] == "rework_rate"} == {"held"}
    assert len(checks) == 6 * 5  # six checks on each of five metrics
    gaps = [(r["pilot_id"], r["field"]) for r in _records(book["Readiness"]) if r["gap"]]
    assert gaps == [("P2", "escalation_path"), ("P2", "control_points")]
    data = _records(book["Data"])
    assert len(data) == len(observations)
    # xlsxwriter writes 16 significant digits, as much as Excel keeps
    assert data[0]["value"] == pytest.approx(observations["value"].iloc[0], rel=1e-15)


def test_native_charts_are_in_the_drawings(book):
    assert len(book["Summary"]._charts) == 1  # forest: improvement with interval error bars
    kinds = sorted(type(c).__name__ for c in book["Charts"]._charts)
    # two pilots with a series (line) and two with a net value (stacked bar bridge)
    assert kinds == ["BarChart", "BarChart", "LineChart", "LineChart"]


def test_footer_on_every_sheet_and_about(book, report):
    for sheet in book.worksheets:
        assert report.footer.data_hash in sheet.oddFooter.left.text
        assert f"Data as of {report.footer.data_as_of}" in sheet.oddFooter.left.text
    about = dict(book["About"].iter_rows(values_only=True))
    assert about["Footer"] == report.footer.text


def test_formula_like_text_stays_text(book, evil_name):
    cells = [c for sheet in book.worksheets for row in sheet.iter_rows() for c in row]
    evil = [
        c for c in cells if isinstance(c.value, str) and c.value.startswith(("=", "+", "-", "@"))
    ]
    assert any(c.value == evil_name for c in evil)
    assert {"+Globex", "@Initech", "-VendorB", "=1+1"} <= {c.value for c in evil}
    for cell in evil:
        assert cell.data_type == "s", cell.coordinate
        assert cell.quotePrefix, cell.coordinate  # Excel keeps it text even when edited
    assert not [c for c in cells if c.data_type == "f"]


def test_long_footer_fits_excel_limit(results, pilots, observations):
    from pilotproof.export.content import build_report

    many = {f"P{i}": "x" for i in range(200)}
    report = build_report(results, pilots, observations, filters=many)
    footer = xlsx._excel_footer(report)
    assert len(footer) <= 255
    assert footer.startswith("&L")


def test_bridge_chart_data_is_the_waterfall_of_the_net_value(book):
    sheet = book["Charts"]
    cells = {c.coordinate: c.value for row in sheet.iter_rows() for c in row}
    header = next(k for k, v in cells.items() if v == "step" and k.startswith("U"))
    top = int(header[1:])
    rows = [
        [cells.get(f"{col}{top + i}") for col in "UVWXY"] for i in range(1, 4)
    ]  # P1: gross 480k, running cost 120k, net 360k
    assert rows == [
        ["Gross value", 0, 480_000, 0, 0],
        ["Running cost", 360_000, 120_000, 0, 0],
        ["Net value", 0, 360_000, 0, 0],
    ]


def test_the_bridge_says_its_currency_and_draws_a_cost_in_the_bad_colour(report):
    """Issue 13: the bridge's axis had no currency, and a step that takes value away could be
    drawn green. The workbook's bridge reads as the deck's."""
    import re
    import zipfile
    from dataclasses import replace

    from pilotproof import charts

    euro = replace(report, pilots=tuple(replace(p, currency="EUR") for p in report.pilots))
    with zipfile.ZipFile(io.BytesIO(xlsx.render(euro))) as archive:
        xml = [archive.read(n).decode() for n in archive.namelist() if "charts/chart" in n]
    bridge = next(x for x in xml if "Annualised net value bridge" in x)
    assert 'formatCode="&quot;EUR &quot;#,##0,&quot;k&quot;' in bridge
    fills = re.findall(r'<c:dPt>.*?<a:srgbClr val="([0-9A-F]{6})"', bridge)
    worse = charts.VERDICT_COLORS["worse"].lstrip("#").upper()
    real = charts.VERDICT_COLORS["real"].lstrip("#").upper()
    assert fills[:3] == [real, worse, real]  # gross up, running cost down, net up
