"""The deck read back with python-pptx: titles, native charts, numbers, footer on every slide."""

from __future__ import annotations

import io
import re

import pytest
from pptx import Presentation
from pptx.enum.chart import XL_CHART_TYPE
from pptx.oxml.ns import qn

from pilotproof.export import pptx
from pilotproof.export.content import CHANGE_HEADING, IMPROVEMENT_HEADING, build_report


@pytest.fixture(scope="module")
def deck(report):
    return Presentation(io.BytesIO(pptx.render(report)))


def _texts(slide) -> list[str]:
    texts = []
    for shape in slide.shapes:
        if shape.has_text_frame:
            texts.append(shape.text_frame.text)
        if shape.has_table:
            texts += [cell.text for row in shape.table.rows for cell in row.cells]
    return texts


def _charts(slide):
    return [shape.chart for shape in slide.shapes if shape.has_chart]


def test_slide_order_cover_summary_comparison_two_per_pilot_then_how_it_was_made(deck):
    assert len(deck.slides) == 3 + 2 * 3 + 1
    assert _texts(deck.slides[-1])[0] == "About this report"


def test_executive_summary_leads_with_action_titles_and_decisions(deck, report):
    summary = _texts(deck.slides[1])
    assert summary[0] == f"Executive summary: {report.subtitle}"
    for pilot in report.pilots:
        assert pilot.action_title in summary
        assert pilot.label in summary  # the pilot with its company


def test_executive_summary_is_grouped_by_decision_scale_fix_extend_stop(
    results, pilots, observations
):
    """A partner reads the summary by decision (issue 13): each decision heads its pilots,
    in the order scale, fix, extend, stop, whatever order the analysis gave them."""
    report = build_report(tuple(reversed(results)), pilots, observations)
    deck = Presentation(io.BytesIO(pptx.render(report)))
    table = next(s for s in deck.slides[1].shapes if s.name == "Summary table").table
    cells = [[cell.text for cell in row.cells] for row in table.rows][1:]
    decisions = {p.label: p.decision for p in report.pilots}
    assert [decisions[row[1]] for row in cells] == ["scale", "fix", "extend"]
    assert [row[0] for row in cells] == ["Scale (1)", "Fix (1)", "Extend (1)"]


def test_the_cover_states_what_scaling_is_worth(deck, report):
    """The deck states the portfolio's value as the app does (issue 13)."""
    cover = _texts(deck.slides[0])
    assert report.value_headline in cover
    assert report.value_headline.startswith("Scaling 1 pilot, worth ")


def test_the_cover_counts_decisions_by_their_label_not_their_code(deck):
    # the tiles read "1  fix" (the code) while every other place said "Fix"
    assert {"1  Scale", "1  Fix", "1  Extend"} <= set(_texts(deck.slides[0]))


def test_every_pilot_slide_is_titled_by_its_action_title(deck, report):
    titles = [_texts(slide)[0] for slide in deck.slides]
    for pilot in report.pilots:  # with its portfolio company beside its name
        assert pilot.heading in titles
        assert f"{pilot.name} ({pilot.company})" in pilot.heading or pilot.heading.startswith(
            f"{pilot.company}: "
        )
        checks = next(t for t in titles if "value-mirage checks" in t and pilot.name in t)
        assert pilot.company in checks


def test_native_charts_series_forest_and_bridge(deck):
    comparison = _charts(deck.slides[2])
    assert [c.chart_type for c in comparison] == [XL_CHART_TYPE.BAR_CLUSTERED]
    forest = comparison[0]
    assert list(forest.plots[0].categories) == [
        "Support assistant · cycle time",
        '=HYPERLINK("http://x.test") · cost per invoice',
    ]
    assert list(forest.plots[0].series[0].values) == [21.34, 12.5]
    assert forest.plots[0].series[0]._element.find(qn("c:errBars")) is not None

    p1 = _charts(deck.slides[3])
    types = sorted(str(c.chart_type) for c in p1)
    assert types == sorted(
        [str(XL_CHART_TYPE.XY_SCATTER_LINES_NO_MARKERS), str(XL_CHART_TYPE.COLUMN_STACKED)]
    )
    series = next(c for c in p1 if c.chart_type == XL_CHART_TYPE.XY_SCATTER_LINES_NO_MARKERS)
    names = [s.name for s in series.plots[0].series]
    assert names[:2] == ["Observed", "Expected without the pilot"]
    assert "Go-live" in names and "Scaling threshold (10% better)" in names
    assert any(name.startswith("Expected without the pilot, 95%") for name in names)
    # the pilot with no series gets no series chart and says why
    assert not _charts(deck.slides[7])
    assert any("No series to chart" in t for t in _texts(deck.slides[7]))


def test_the_threshold_is_drawn_unlike_the_counterfactual(deck):
    # the deck drew it dash-dot along the counterfactual's shape, easy to take for it
    chart = next(
        c
        for c in _charts(deck.slides[3])
        if c.chart_type == XL_CHART_TYPE.XY_SCATTER_LINES_NO_MARKERS
    )
    lines = {s.name: s for s in chart.plots[0].series}
    threshold = lines["Scaling threshold (10% better)"].format.line
    counterfactual = lines["Expected without the pilot"].format.line
    assert threshold.dash_style != counterfactual.dash_style
    assert threshold.width > counterfactual.width
    assert len(set(lines["Scaling threshold (10% better)"].values)) == 1  # one flat level


def test_a_mirage_slide_states_the_teams_claim_above_the_chart(report):
    from dataclasses import replace

    claim = "The team sees cycle time down 25% since go-live; against what would ... it is up 1%."
    mirage = replace(report.pilots[0], claim=claim)
    deck = Presentation(io.BytesIO(pptx.render(replace(report, pilots=(mirage,)))))
    shapes = {s.name: s for s in deck.slides[2].shapes}
    assert shapes["Claim"].text_frame.text == claim
    assert shapes["Claim"].top + shapes["Claim"].height <= shapes["Series chart"].top
    plain = Presentation(io.BytesIO(pptx.render(report)))
    assert not [s for slide in plain.slides for s in slide.shapes if s.name == "Claim"]


def test_effect_table_numbers_match_the_analysis(deck, results):
    texts = _texts(deck.slides[3])
    effect = results[0].metrics[0]
    assert pptx.unbroken(f"{effect.effect_pct:+.1f}%") in texts  # -21.3%, its minus sign
    interval = f"{effect.ci_low_pct:+.1f}% to {effect.ci_high_pct:+.1f}%"
    assert pptx.unbroken(interval) in texts


# where a renderer may wrap a line: after a space, or after a hyphen (PowerPoint and LibreOffice
# both may break after '-' or a lone sign); never after a word joiner
_BREAKS = re.compile(r"(?<=[ -])(?<!\u2060)")


def _interval_cells(deck, heading: str = "95% interval") -> list[str]:
    """Every cell under `heading` in the deck's tables."""
    cells = []
    for slide in deck.slides:
        for shape in slide.shapes:
            if not shape.has_table:
                continue
            rows = [[cell.text for cell in row.cells] for row in shape.table.rows]
            if heading in rows[0]:
                column = rows[0].index(heading)
                cells += [row[column] for row in rows[1:]]
    return cells


def test_an_interval_never_breaks_inside_a_number(deck, report):
    """In the deck's interval column a minus sign could end a line alone ('-' / '17.0%'): each
    minus is the minus sign, tied to its number by a word joiner (U+2060), so the interval may
    wrap only at the spaces around 'to'."""
    cells = _interval_cells(deck)
    signed = [c for c in cells if re.search(r"\d", c) and re.search("[\u2212+]", c)]
    assert len(signed) >= 3, cells
    for cell in cells:
        assert not re.search(r"(?<![\w.%)])-(?=\d)", cell), cell  # no hyphen for a minus
        assert all(cell[i + 1] == "\u2060" for i, ch in enumerate(cell) if ch in "\u2212+"), cell
        for piece in _BREAKS.split(cell):
            # no line can end on a sign, nor start with the digits a sign left behind
            assert not re.search("[\u2212+]\u2060?\\s*$", piece), (cell, piece)
        # what a reader sees is the interval the content says, with true minus signs
        assert cell.replace("\u2060", "").replace("\u2212", "-") in {
            e.interval_text for p in report.pilots for e in (*p.page_effects, *p.page_guardrails)
        } | {r.interval_text for r in report.comparison}
    # the change beside it has the same minus sign: one table, one sign
    for heading in (CHANGE_HEADING, IMPROVEMENT_HEADING):
        changes = _interval_cells(deck, heading)
        assert changes and not [c for c in changes if re.search(r"(?<![\w.%)])-(?=\d)", c)]
    assert pptx.unbroken("-25.0% to -17.0%") == "\u2212\u206025.0% to \u2212\u206017.0%"
    assert pptx.unbroken("+1.6 to +2.4 points") == "+\u20601.6 to +\u20602.4 points"
    assert pptx.unbroken("n/a") == "n/a" and pptx.unbroken("3-way match") == "3-way match"


def test_checks_and_readiness_slide(deck):
    texts = _texts(deck.slides[6])  # P2's checks slide
    assert "pass" in texts and "MISSING" in texts
    assert "FAIL" not in texts and "manual touches" not in texts[:12]  # the guardrail: below
    assert "Gaps: Escalation path, Control points" in texts
    assert "worsened beyond tolerance" in texts


def test_footer_on_every_slide(deck, report):
    """One short line a slide: the source, the data's date and the slide's number; it never
    wraps (the scope and method are on the last slide)."""
    for number, slide in enumerate(deck.slides, start=1):
        footers = [s for s in slide.shapes if s.name == "Footer"]
        assert len(footers) == 1
        assert footers[0].text_frame.text == report.footer.line(number)
        assert f"Data as of {report.footer.data_as_of}" in footers[0].text_frame.text
        size = footers[0].text_frame.paragraphs[0].font.size.pt
        assert pptx._lines(footers[0].text_frame.text, footers[0].width / 914400 - 0.2, size) == 1


def test_provenance_is_on_the_last_slide_not_on_every_slide(deck, report):
    """A board slide carries no sha256 (issue 13); the last slide says how the report was
    made, so it can be reproduced."""
    for slide in list(deck.slides)[:-1]:
        assert not any(report.footer.data_hash in t for t in _texts(slide))
        assert not any("sha256" in t for t in _texts(slide))
    about = next(s for s in deck.slides[-1].shapes if s.name == "Provenance table").table
    values = {row.cells[0].text: row.cells[1].text for row in list(about.rows)[1:]}
    assert values["Data fingerprint (sha256)"] == report.footer.data_hash
    assert values["Method"] == report.footer.method


def test_user_text_is_plain_text(deck, evil_name):
    texts = [t for slide in deck.slides for t in _texts(slide)]
    assert evil_name in texts
    assert "Triage <b>bot</b>" in " ".join(texts)


def test_control_characters_in_names_do_not_break_the_deck(results, pilots, observations):
    from pilotproof.export.content import build_report

    pilots = pilots.assign(pilot_name=["Bell\x07 bot", "Tab\tname", "Null\x00name"])
    deck = Presentation(io.BytesIO(pptx.render(build_report(results, pilots, observations))))
    shown = " ".join(_texts(deck.slides[1]))
    assert "Bell<BEL> bot" in shown and "Tab name" in shown and "Null<NUL>name" in shown


def test_metrics_beyond_the_table_are_pointed_to_the_workbook(results, pilots, observations):
    from dataclasses import replace

    from pilotproof.export.content import build_report

    base = results[0].metrics[1]  # a guardrail, made a value metric: guardrails have no checks
    extra = tuple(replace(base, metric=f"guardrail_{i}", kind="value") for i in range(8))
    crowded = replace(results[0], metrics=(results[0].metrics[0], *extra))
    deck = Presentation(io.BytesIO(pptx.render(build_report((crowded,), pilots, observations))))
    evidence = _texts(deck.slides[2])
    assert "+ 2 more metrics in the Excel appendix" in evidence
    assert "guardrail_5" not in " ".join(evidence) and "guardrail 5" in " ".join(evidence)
    assert "guardrail 6" not in " ".join(evidence)
    checks = _texts(deck.slides[3])
    # one limit for the deck and the PDF (content.MAX_CHECK_METRICS); the deck showed 5
    assert "Value-mirage checks (first 4 metrics; all in the workbook)" in checks


def test_chart_data_workbooks_hold_names_as_text_not_formulas(deck, evil_name):
    import openpyxl

    embedded = [
        openpyxl.load_workbook(io.BytesIO(shape.chart.part.chart_workbook.xlsx_part.blob))
        for slide in deck.slides
        for shape in slide.shapes
        if shape.has_chart
    ]
    cells = [
        c for book in embedded for ws in book.worksheets for row in ws.iter_rows() for c in row
    ]
    assert f"{evil_name} · cost per invoice" in {c.value for c in cells}  # the forest's category
    assert not [c for c in cells if c.data_type == "f"]
