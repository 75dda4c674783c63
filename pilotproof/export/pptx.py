"""PowerPoint deck (python-pptx).

Slides: cover (what the pilots to scale are worth, each decision with its pilots), executive
summary grouped by decision (action titles), for a selection the side-by-side comparison
(forest chart and table), then per pilot an evidence slide (for a mirage the team's claim
beside what survives; series against its counterfactual band, effect table, net value bridge)
and a checks slide (mirage checks, guardrails, readiness), and last how the report was made
(method, data fingerprint). The charts are native, editable PowerPoint charts built in
`pptx_charts`. Every slide carries the board footer (`Footer.board_text`).
"""

from __future__ import annotations

import io
import re
import textwrap
from collections.abc import Callable, Collection, Sequence
from xml.sax.saxutils import escape

from pptx import Presentation
from pptx.dml.color import RGBColor
from pptx.enum.shapes import MSO_SHAPE
from pptx.enum.text import MSO_ANCHOR, PP_ALIGN
from pptx.opc.packuri import PackURI
from pptx.oxml import parse_xml
from pptx.oxml.ns import nsdecls
from pptx.util import Inches, Pt

from pilotproof import charts
from pilotproof.export.content import (
    CHANGE_HEADING,
    IMPROVEMENT_HEADING,
    CheckGrid,
    ComparisonRow,
    PilotSection,
    Report,
    decision_color,
    humanise,
    is_number,
)
from pilotproof.export.paging import balanced_pages, paged_pilots
from pilotproof.export.pptx_charts import (
    bridge_chart,
    clean,
    forest_chart,
    mix_chart,
    rgb,
    series_chart,
)
from pilotproof.plaintext import TEXT_LIMIT, shown

Progress = Callable[[float, str], None]

INK = RGBColor(0x1D, 0x27, 0x33)
MUTED = RGBColor(0x5A, 0x6A, 0x7A)
HEADER_FILL = RGBColor(0xE8, 0xEE, 0xF4)
ROW_FILL = RGBColor(0xFF, 0xFF, 0xFF)
FAIL = RGBColor(0xB0, 0x45, 0x00)
WIDTH, HEIGHT = Inches(13.333), Inches(7.5)
MARGIN = Inches(0.45)
CONTENT_BOTTOM = Inches(6.9)  # the footer starts at 7.02 in
SUMMARY_ROWS_PER_SLIDE = 6
COMPARISON_ROWS_PER_SLIDE = 14


def render(
    report: Report, progress: Progress | None = None, *, pages: Collection[str] | None = None
) -> bytes:
    """The report as a .pptx deck, returned as bytes; `pages` (pilot ids) limits the pilots'
    own slides to those pilots (the summary still covers every pilot)."""
    step = progress or (lambda fraction, text: None)
    deck = Presentation()
    _count_partnames(deck.part.package)
    deck.slide_width, deck.slide_height = WIDTH, HEIGHT
    deck.core_properties.title = clean(report.title)[:250]
    deck.core_properties.comments = clean(report.footer.text)[:255]
    deck.core_properties.author = "pilotproof"
    _cover(deck, report)
    step(0.05, "Executive summary")
    _summary(deck, report)
    _plans(deck, report)
    if report.is_selection:
        step(0.1, "Comparison")
        _comparison(deck, report)
    paged = paged_pilots(report, pages)
    for i, pilot in enumerate(paged):
        step(0.15 + 0.8 * i / max(len(paged), 1), f"Pilot {pilot.id_text}")
        _evidence(deck, report, pilot)
        _checks(deck, report, pilot)
    _about(deck, report)
    buffer = io.BytesIO()
    deck.save(buffer)
    step(1.0, "Done")
    return buffer.getvalue()


def _count_partnames(package) -> None:
    """Name new parts (a chart, its workbook) by counting, not by search: python-pptx finds
    each one's name by walking every part of the deck, which makes a deck's time grow with
    the square of its charts (minutes at 1,000 pilots). The names are the ones it would give:
    the next number after the highest taken, for a deck that only grows."""
    find = package.next_partname
    taken: dict[str, int] = {}

    def next_partname(template: str) -> PackURI:
        if template not in taken:
            name = str(find(template))  # the first of a kind: one walk
            prefix, suffix = template.split("%d")
            taken[template] = int(name[len(prefix) : len(name) - len(suffix)])
        else:
            taken[template] += 1
        return PackURI(template % taken[template])

    package.next_partname = next_partname


# ---- slides -------------------------------------------------------------------------------


def _slide(deck, report: Report, title: str):
    slide = deck.slides.add_slide(deck.slide_layouts[6])  # blank
    _text(
        slide,
        title,
        MARGIN,
        Inches(0.3),
        WIDTH - 2 * MARGIN,
        Inches(0.95),
        size=_title_size(title),
        bold=True,
        anchor=MSO_ANCHOR.MIDDLE,
    )
    line = slide.shapes.add_connector(1, MARGIN, Inches(1.28), WIDTH - MARGIN, Inches(1.28))
    line.line.color.rgb = INK
    line.line.width = Pt(1.5)
    _footer(slide, report, len(deck.slides))
    return slide


FOOTER_SIZE = 9


def _footer(slide, report: Report, number: int) -> None:
    """One short line under the content: the source, the data's date and the slide number."""
    _text(slide, report.footer.line(number), MARGIN, Inches(7.02), WIDTH - 2 * MARGIN,
          Inches(0.32), size=FOOTER_SIZE, color=MUTED, name="Footer")  # fmt: skip


def _cover(deck, report: Report) -> None:
    slide = deck.slides.add_slide(deck.slide_layouts[6])
    band = slide.shapes.add_shape(MSO_SHAPE.RECTANGLE, 0, 0, WIDTH, Inches(0.35))
    band.fill.solid()
    band.fill.fore_color.rgb = INK
    band.line.fill.background()
    band.shadow.inherit = False
    _text(
        slide,
        report.title,
        MARGIN,
        Inches(0.7),
        WIDTH - 2 * MARGIN,
        Inches(1.1),
        size=36,
        bold=True,
    )
    _text(
        slide,
        report.subtitle,
        MARGIN,
        Inches(1.85),
        WIDTH - 2 * MARGIN,
        Inches(0.5),
        size=20,
        color=MUTED,
    )
    tiles = max(COVER_TILE_TOP, _cover_value(slide, report, Inches(2.45)) + Inches(0.15))
    names = dict(report.decision_groups)
    left = MARGIN
    for decision, tile in report.decision_tiles:
        _cover_list(slide, names.get(decision, ()), left, tiles + Inches(0.85))
        chip = slide.shapes.add_shape(
            MSO_SHAPE.ROUNDED_RECTANGLE, left, tiles, COVER_TILE_WIDTH, Inches(0.75)
        )
        chip.fill.solid()
        chip.fill.fore_color.rgb = rgb(decision_color(decision))
        chip.line.fill.background()
        chip.shadow.inherit = False
        frame = chip.text_frame
        frame.text = tile
        frame.paragraphs[0].font.size = Pt(22)
        frame.paragraphs[0].font.bold = True
        frame.paragraphs[0].font.color.rgb = RGBColor(0xFF, 0xFF, 0xFF)
        frame.paragraphs[0].alignment = PP_ALIGN.CENTER
        left += COVER_TILE_WIDTH + Inches(0.18)
    _footer(slide, report, len(deck.slides))


COVER_TILE_TOP, COVER_TILE_WIDTH = Inches(3.55), Inches(2.95)
COVER_LIST_BOTTOM = CONTENT_BOTTOM  # the footer starts below


def _cover_value(slide, report: Report, top) -> int:
    """What the pilots to scale are worth a year, in their currencies, and the line under it;
    returns its bottom."""
    if not report.value_headline or len(report.pilots) < 2:
        return top
    width = WIDTH - 2 * MARGIN
    height = _text_height(report.value_headline, width, 18)
    _text(slide, report.value_headline, MARGIN, top, width, height, size=18, bold=True,
          name="Portfolio value")  # fmt: skip
    bottom = top + height
    if report.value_detail:
        detail = _text_height(report.value_detail, width, 12)
        _text(slide, report.value_detail, MARGIN, bottom, width, detail, size=12, color=MUTED,
              name="Portfolio value detail")  # fmt: skip
        bottom += detail
    if report.stop_saving:  # what stopping saves: half of a board's stop conversation
        saving = _text_height(report.stop_saving, width, 14)
        _text(slide, report.stop_saving, MARGIN, bottom, width, saving, size=14, bold=True,
              name="Stop saving")  # fmt: skip
        bottom += saving
    return bottom


def _cover_list(slide, pilots: Sequence[PilotSection], left, top) -> None:
    """A decision's pilots under its tile, one a line, in a size that fits above the footer."""
    names = [f"{p.name} ({p.lowered_mark})" if p.lowered_mark else p.name for p in pilots]
    if not names:
        return
    room = COVER_LIST_BOTTOM - top
    for size in (12, 11, 10, 9, 8):
        if _text_height("\n".join(names), COVER_TILE_WIDTH, size) <= room:
            break
    shown_names = list(names)
    while len(shown_names) > 1:  # a long list ends with how many more the summary names
        more = len(names) - len(shown_names)
        text = "\n".join(shown_names + ([f"and {more} more"] if more else []))
        if _text_height(text, COVER_TILE_WIDTH, size) <= room:
            break
        shown_names.pop()
    more = len(names) - len(shown_names)
    text = "\n".join(shown_names + ([f"and {more} more"] if more else []))
    _text(slide, text, left, top, COVER_TILE_WIDTH, _text_height(text, COVER_TILE_WIDTH, size),
          size=size, name="Decision list")  # fmt: skip


SUMMARY_HEADER = ("Decision", "Pilot", "Action title", "Annual net value")
SUMMARY_COLUMNS = (1.3, 2.5, 6.4, 2.2)
SUMMARY_SIZE = 12


def _summary_cells(p: PilotSection, group: str = "") -> list[str]:
    """A summary row; `group` heads the decision's rows ('Scale (3)'), '' under it; a pilot
    that counts only under a lowered bar is marked in its decision cell."""
    decision = "\n".join(x for x in (group, p.lowered_mark) if x)
    return [decision, p.label, p.decided_title, p.net_text]  # the pilot with its company


def _summary(deck, report: Report) -> None:
    """The executive summary grouped by decision, scale, fix, extend then stop: each group
    headed by its decision and count, its pilots under it; a slide that starts inside a group
    names it again."""
    groups = report.decision_groups
    pilots = [p for _, members in groups for p in members]
    heads = report.decision_heads
    pages = _pages(
        pilots, [_summary_cells(p, heads[p.decision]) for p in pilots], SUMMARY_HEADER,
        SUMMARY_COLUMNS, WIDTH - 2 * MARGIN, SUMMARY_SIZE, Inches(1.5), SUMMARY_ROWS_PER_SLIDE,
    )  # fmt: skip
    pages = pages or [[]]
    for n, page in enumerate(pages, start=1):
        title = f"Executive summary: {report.subtitle}"
        if len(pages) > 1:
            title += f" ({n}/{len(pages)})"
        slide = _slide(deck, report, title)
        rows = [list(SUMMARY_HEADER)]
        fills: dict[tuple[int, int], str] = {}
        for r, p in enumerate(page, start=1):
            first = r == 1 or page[r - 2].decision != p.decision
            rows.append(_summary_cells(p, heads[p.decision] if first else ""))
            fills[(r, 0)] = p.decision_color
        _table(
            slide,
            rows,
            MARGIN,
            Inches(1.5),
            WIDTH - 2 * MARGIN,
            widths=SUMMARY_COLUMNS,
            size=SUMMARY_SIZE,
            fills=fills,
            name="Summary table",
        )


# a sign that belongs to the number after it ('-25.0%', '+0.6 points'), not a hyphen in a word
_SIGN = re.compile(r"(?<![\w.%)])[-\u2212+](?=\d)")
WORD_JOINER, MINUS = "\u2060", "\u2212"


def unbroken(text: str) -> str:
    """A signed number or interval as a table cell writes it: each minus the minus sign
    (U+2212, not the hyphen a renderer may break after) and each sign tied to its number by a
    word joiner (U+2060), so a line never ends on a lone '\u2212'; in an interval the spaces
    around 'to' stay the only places where it may wrap. The change beside it is written the
    same way, so one table has one minus sign."""
    return _SIGN.sub(lambda m: ("+" if m.group() == "+" else MINUS) + WORD_JOINER, text)


def _comparison_cells(row: ComparisonRow) -> list[str]:
    """A comparison row's cells, its improvement and interval unbroken."""
    cells = list(row.cells)
    cells[2], cells[3] = unbroken(cells[2]), unbroken(cells[3])
    return cells


def _comparison(deck, report: Report) -> None:
    rows = [r for r in report.comparison if is_number(r.improvement)]
    # room for the note under the table, which states the sign convention on every slide
    note = _text_height(COMPARISON_NOTE, COMPARISON_WIDTH, COMPARISON_SIZE) + Inches(0.12)
    pages = _pages(
        rows, [_comparison_cells(r) for r in rows], COMPARISON_HEADER, COMPARISON_COLUMNS,
        COMPARISON_WIDTH, COMPARISON_SIZE, Inches(1.45) + note, COMPARISON_ROWS_PER_SLIDE,
    )  # fmt: skip
    pages = pages or [[]]
    for n, page in enumerate(pages, start=1):
        title = "Side by side: improvement against what was expected without the pilot"
        if len(pages) > 1:
            title += f" ({n}/{len(pages)})"
        # one axis for every slide of the comparison: bars of one length mean one improvement
        _comparison_slide(_slide(deck, report, title), page, rows)


def _comparison_slide(slide, rows: list[ComparisonRow], scale: list[ComparisonRow]) -> None:
    if not rows:
        _text(
            slide,
            "No pilot has an estimated effect yet.",
            MARGIN,
            Inches(2),
            Inches(8),
            Inches(1),
            size=16,
            color=MUTED,
        )
        return
    forest_chart(slide, rows, MARGIN, Inches(1.45), Inches(7.1), Inches(5.4), scale=scale)
    table = [list(COMPARISON_HEADER), *(_comparison_cells(r) for r in rows)]
    shape = _table(
        slide,
        table,
        COMPARISON_LEFT,
        Inches(1.45),
        COMPARISON_WIDTH,
        widths=COMPARISON_COLUMNS,
        size=COMPARISON_SIZE,
        name="Comparison table",
    )
    top = shape.top + shape.height + Inches(0.12)
    height = _text_height(COMPARISON_NOTE, COMPARISON_WIDTH, COMPARISON_SIZE)
    if top + height <= CONTENT_BOTTOM:
        _text(slide, COMPARISON_NOTE, COMPARISON_LEFT, top, COMPARISON_WIDTH, height,
              size=COMPARISON_SIZE, color=MUTED, name="Comparison note")  # fmt: skip


COMPARISON_HEADER = ("Pilot", "Metric", IMPROVEMENT_HEADING, "95% interval", "Verdict")
# the sign convention, said where the numbers are
COMPARISON_NOTE = (
    "Improvement against what would have happened without the pilot: + is better whatever the "
    "metric's direction (a 36% fall in response time reads +36%). A mix shift is shown at the "
    "same mix of work: what survives once the mix is held still."
)
COMPARISON_COLUMNS = (1.25, 0.85, 1.15, 1.0, 0.9)
COMPARISON_LEFT, COMPARISON_WIDTH, COMPARISON_SIZE = Inches(7.75), Inches(5.13), 9


def _pages(rows, cells, header, columns, width, size, top, most: int) -> list[list]:
    """`rows` split into slides: as many as their table (`cells` per row, under `header`, in
    `columns` scaled to `width`) needs between `top` and the footer, at most `most` a slide,
    balanced across the slides."""
    scale = width / Inches(1) / sum(columns)
    inches = [w * scale for w in columns]
    room = CONTENT_BOTTOM - top - _row_height(header, inches, size)
    heights = [_row_height(values, inches, size) for values in cells]
    # as few slides as the rows need, balanced across them (`balanced_pages`)
    return [[rows[i] for i in page] for page in balanced_pages(heights, room, most)]


def _evidence(deck, report: Report, p: PilotSection) -> None:
    """The evidence slide: the decision and the pilot's facts, the series chart on the left,
    the effect table and the net value on the right."""
    slide = _slide(deck, report, p.heading)
    top = _claim_panel(slide, p, _pilot_header(slide, p))
    _series_panel(slide, p, MARGIN, top, Inches(7.6), CONTENT_BOTTOM - top)
    right, width = MARGIN + Inches(7.8), Inches(4.65)
    bottom = _effects_panel(slide, p, right, top, width)
    bottom = _mix_panel(slide, p, right, bottom, width)
    _net_value_panel(slide, p, right, bottom, width)


MIX_HEIGHT, MIX_LEAST = Inches(1.9), Inches(1.2)
NET_SENTENCE_ROOM = Inches(0.6)  # two lines of the net value's sentence under the mix chart


def _mix_panel(slide, p: PilotSection, left, top, width) -> int:
    """For a mix-shift mirage, the rate/mix chart under the effect table (the app's explorer
    draws it as `charts.mix_split`), leaving room for the net value's sentence; returns where
    the next panel starts."""
    height = min(MIX_HEIGHT, CONTENT_BOTTOM - top - NET_SENTENCE_ROOM)
    if not p.mix_parts or height < MIX_LEAST:
        return top
    mix_chart(slide, p, left, top, width, height)
    return top + height + Inches(0.1)


def _pilot_header(slide, p: PilotSection) -> int:
    """The decision chip and one line of facts under the title; returns where content starts."""
    chip = slide.shapes.add_shape(
        MSO_SHAPE.ROUNDED_RECTANGLE, MARGIN, Inches(1.4), Inches(2.1), Inches(0.38)
    )
    chip.fill.solid()
    chip.fill.fore_color.rgb = rgb(p.decision_color)
    chip.line.fill.background()
    chip.shadow.inherit = False
    chip.text_frame.text = clean(p.decision_label)
    chip.text_frame.paragraphs[0].font.size = Pt(12)
    chip.text_frame.paragraphs[0].font.bold = True
    chip.text_frame.paragraphs[0].font.color.rgb = RGBColor(0xFF, 0xFF, 0xFF)
    facts = (
        p.label,
        p.id_text,
        p.function,
        p.vendor,
        f"go-live {p.go_live:%Y-%m-%d}" if p.go_live is not None else "",
        f"why: {p.reasons_text}" if p.reasons_text else "",
    )
    meta = " · ".join(x for x in facts if x)
    meta_width = WIDTH - 2 * MARGIN - Inches(2.25)
    meta_height = _text_height(meta, meta_width, 11)
    _text(
        slide, meta, MARGIN + Inches(2.25), Inches(1.4), meta_width, meta_height, size=11,
        color=MUTED,
    )  # fmt: skip
    return max(Inches(1.9), Inches(1.45) + meta_height)


def _claim_panel(slide, p: PilotSection, top) -> int:
    """For a mirage, what the team would claim beside what survives (`PilotSection.claim_text`:
    for a mix shift, the apparent change split into its rate and mix parts), across the slide;
    returns where the content below starts."""
    if not p.claim_text:
        return top
    width = WIDTH - 2 * MARGIN
    height = _text_height(p.claim_text, width, 12)
    _text(slide, p.claim_text, MARGIN, top, width, height, size=12, color=FAIL, name="Claim")
    return top + height + Inches(0.05)


def _series_panel(slide, p: PilotSection, left, top, width, height) -> None:
    """The headline metric against its counterfactual, or why there is no chart."""
    if p.has_series:
        series_chart(slide, p, left, top, width, height)
        return
    _text(
        slide, "No series to chart: the value metric has no data yet.", left, top, width,
        Inches(1), size=14, color=MUTED,
    )  # fmt: skip


def _effects_panel(slide, p: PilotSection, left, top, width) -> int:
    """The effect table (and how many metrics it leaves out); returns its bottom."""
    rows = [["Metric", "Verdict", CHANGE_HEADING, "95% interval", "Bar to clear"]]
    fills: dict[tuple[int, int], str] = {}
    for r, e in enumerate(p.page_effects, start=1):
        change, interval = unbroken(e.effect_text), unbroken(e.interval_text)
        rows.append([humanise(e.metric), e.verdict_label, change, interval, e.bar_text])
        fills[(r, 1)] = e.verdict_color
    table = _table(
        slide, rows, left, top, width, widths=(1.05, 1.0, 0.65, 0.95, 1.0), size=9, fills=fills,
        name="Effect table",
    )  # fmt: skip
    bottom = top + table.height + Inches(0.2)
    if p.more_effects_text:
        _text(slide, p.more_effects_text, left, bottom, width, Inches(0.3), size=9, color=MUTED)
        bottom += Inches(0.3)
    return bottom


def _net_value_panel(slide, p: PilotSection, left, top, width) -> None:
    """The net value bridge; its sentence where the effect table leaves too little room; or
    what is missing for one."""
    room = CONTENT_BOTTOM - top
    if p.value_booked and room >= Inches(1.6):
        bridge_chart(slide, p, left, top, width, room)
    elif p.net_value is not None:  # a value within noise: its interval, never a bar of money
        text = p.net_sentence
        if _text_height(text, width, 11) > room:  # the short form where the sentence won't fit
            text = f"Annualised net value: {p.net_text}."
        size = _fitting_size(lambda size: _text_height(text, width, size), room, (11, 10, 9, 8))
        _text(slide, text, left, top, width, _text_height(text, width, size), size=size)
    else:
        _text(
            slide, p.no_value_text, left, top, width, _text_height(p.no_value_text, width, 11),
            size=11, color=MUTED, name="No value",
        )  # fmt: skip


def _checks(deck, report: Report, p: PilotSection) -> None:
    """The checks slide: value-mirage checks, the failed ones' notes and the guardrails on the
    left, readiness on the right."""
    title = p.named(f"{p.name}: value-mirage checks, guardrails and readiness")
    slide = _slide(deck, report, title)
    top = Inches(1.5)
    bottom = _check_panel(slide, p.check_grid(), MARGIN, top)
    room = CONTENT_BOTTOM - bottom - _guardrail_height(p)
    bottom = _check_notes_panel(slide, p.check_notes, MARGIN, bottom, room)
    _guardrail_panel(slide, p, MARGIN, bottom)
    _readiness_panel(slide, p, MARGIN + Inches(7.45), top)


def _check_panel(slide, grid: CheckGrid, left, top) -> int:
    """The value-mirage check table, a failed check in the colour of 'worse'; returns its
    bottom."""
    _text(slide, grid.heading, left, top - Inches(0.05), Inches(7), Inches(0.35), size=13,
          bold=True)  # fmt: skip
    if not grid.metrics:
        _text(slide, "No checks were run.", left, top + Inches(0.4), Inches(7), Inches(0.4),
              size=11, color=MUTED)  # fmt: skip
        return top + Inches(0.9)
    rows = [["Check", *grid.metrics]]
    fills: dict[tuple[int, int], str] = {}
    for r, row in enumerate(grid.rows, start=1):
        rows.append([row.label, *(cell.outcome if cell else "-" for cell in row.cells)])
        for c, cell in enumerate(row.cells, start=1):
            if cell is not None and cell.outcome == "FAIL":
                fills[(r, c)] = charts.VERDICT_COLORS["worse"]
    # the check names whole on one line at 10 points ("Rebound after a bad spell")
    widths = (2.8, *([4.3 / len(grid.metrics)] * len(grid.metrics)))
    table = _table(
        slide, rows, left, top + Inches(0.35), Inches(7.1), widths=widths, size=10, fills=fills,
        name="Checks table",
    )  # fmt: skip
    return table.top + table.height + Inches(0.12)


def _check_notes_panel(slide, notes: Sequence[str], left, top, room) -> int:
    """What each failed check found, in the colour of a failure, whole: in the largest size
    that fits `room`, cut (with '…') only when not even 8 points fit; returns its bottom."""
    if not notes:
        return top
    text = "\n".join(notes)
    size = _fitting_size(lambda size: _text_height(text, Inches(7.1), size), room, (10, 9, 8))
    while _text_height(text, Inches(7.1), size) > room and len(text) > 80:
        text = shown(text, int(len(text) * 0.9), one_line=False)
    height = _text_height(text, Inches(7.1), size)
    _text(slide, text, left, top, Inches(7.1), height, size=size, color=FAIL, name="Check notes")
    return top + height + Inches(0.08)


def _fitting_size(height_at, room, sizes: Sequence[float]) -> float:
    """The first of `sizes` (largest first) whose height (`height_at(size)`) fits `room`;
    the smallest when none does."""
    for size in sizes:
        if height_at(size) <= room:
            return size
    return sizes[-1]


GUARDRAIL_COLUMNS = (1.6, 0.9, 1.6, 1.4, 1.6)


def _guardrail_rows(p: PilotSection) -> list[list[str]]:
    rows = [["Guardrail", CHANGE_HEADING, "95% interval", "Tolerance", "Status"]]
    for e in p.page_guardrails:
        change, interval = unbroken(e.effect_text), unbroken(e.interval_text)
        rows.append([humanise(e.metric), change, interval, e.bar_text, e.status_text])
    return rows


def _guardrail_height(p: PilotSection) -> int:
    """The guardrail block's height: its heading and its table (or the line saying none)."""
    if not p.page_guardrails:
        return Inches(0.8)
    scale = 7.1 / sum(GUARDRAIL_COLUMNS)
    inches = [w * scale for w in GUARDRAIL_COLUMNS]
    return Inches(0.4) + sum(_row_height(row, inches, 10) for row in _guardrail_rows(p))


def _guardrail_panel(slide, p: PilotSection, left, top) -> None:
    """The guardrail table, a breached tolerance in the colour of 'worse'."""
    _text(slide, p.guardrail_heading, left, top, Inches(7), Inches(0.35), size=13, bold=True)
    if not p.page_guardrails:
        _text(slide, "No guardrail metrics recorded for this pilot.", left, top + Inches(0.35),
              Inches(7), Inches(0.4), size=11, color=MUTED)  # fmt: skip
        return
    rows = _guardrail_rows(p)
    fills: dict[tuple[int, int], str] = {}
    for r, e in enumerate(p.page_guardrails, start=1):
        if e.breached:
            fills[(r, 4)] = charts.VERDICT_COLORS["worse"]
    _table(
        slide, rows, left, top + Inches(0.35), Inches(7.1), widths=GUARDRAIL_COLUMNS,
        size=10, fills=fills, name="Guardrail table",
    )  # fmt: skip


def _readiness_panel(slide, p: PilotSection, left, top) -> None:
    """The readiness answers (their gist; the workbook has them in full) and the gaps."""
    _text(slide, "Readiness to scale", left, top - Inches(0.05), Inches(5), Inches(0.35),
          size=13, bold=True)  # fmt: skip
    gaps = p.readiness_gaps
    verdict = f"Gaps: {', '.join(gaps)}" if gaps else "Every readiness question is answered."
    room = CONTENT_BOTTOM - top - Inches(0.5) - _text_height(verdict, Inches(4.95), 11)
    inches = [1.55, 3.4]

    def rows_of(limit: int) -> list[list[str]]:
        rows = [["Question", "Answer"]]
        for answer in p.readiness:
            text = "MISSING" if answer.gap else shown(answer.answer or "", limit, one_line=False)
            rows.append([answer.label, text])
        return rows

    def height(rows: list[list[str]], size: float) -> int:
        return sum(_row_height(row, inches, size) for row in rows)

    # every answer whole, in the largest size that fits; cut only past 8 points
    limit = TEXT_LIMIT
    size = _fitting_size(lambda size: height(rows_of(limit), size), room, (9, 8.5, 8))
    while height(rows_of(limit), size) > room and limit > 60:
        limit = int(limit * 0.85)
    rows = rows_of(limit)
    fills: dict[tuple[int, int], str] = {}
    for r, answer in enumerate(p.readiness, start=1):
        if answer.gap:
            fills[(r, 1)] = f"#{FAIL}"  # as the PDF and the HTML page mark a gap
    table = _table(
        slide, rows, left, top + Inches(0.35), Inches(4.95), widths=(1.55, 3.4), size=size,
        fills=fills, name="Readiness table",
    )  # fmt: skip
    _text(
        slide, verdict, left, table.top + table.height + Inches(0.12), Inches(4.95),
        _text_height(verdict, Inches(4.95), 11), size=11, bold=bool(gaps),
        color=FAIL if gaps else MUTED,
    )  # fmt: skip


def _plans(deck, report: Report) -> None:
    """Success criteria and decisions: for each pilot whose criteria changed after the results
    were visible or were not pre-registered (first, the warning in red), whose decision is
    overdue or whose logged decision differs from the recommendation, its lines. Blocks flow
    down the slide by their text's height; a full slide continues on the next."""
    items = sorted(
        (
            p
            for p in report.pilots
            if p.plan_warning or p.overdue or any(row[6] for row in p.decision_log[-1:])
        ),
        key=lambda p: not p.plan_warning,
    )
    width, bottom = WIDTH - 2 * MARGIN, HEIGHT - Inches(0.75)
    blocks = []
    for p in items:
        lines = [p.plan_warning] if p.plan_warning else []
        lines += [p.plan_outcome] if p.plan_outcome else []
        lines += [line for line in p.plan_lines if line.startswith(("Decision", "No decision"))]
        text = "\n".join(shown(line, 260) for line in lines)
        blocks.append((p, text, Inches(0.32) + _text_height(text, width, 10) + Inches(0.12)))
    pages: list[list] = [[]]
    room = bottom - Inches(1.45)
    used = 0
    for block in blocks:
        if pages[-1] and used + block[2] > room:
            pages.append([])
            used = 0
        pages[-1].append(block)
        used += block[2]
    for number, page in enumerate(p for p in pages if p):
        more = f" ({number + 1} of {len(pages)})" if len(pages) > 1 else ""
        slide = _slide(deck, report, f"Success criteria and decisions{more}")
        top = Inches(1.45)
        for p, text, height in page:
            _text(slide, shown(f"{p.label}: {p.plan_status}", 110), MARGIN, top, width, Inches(0.3),
                  size=12, bold=True)  # fmt: skip
            _text(slide, text, MARGIN, top + Inches(0.3), width, height - Inches(0.42), size=10,
                  color=FAIL if p.plan_warning else MUTED)  # fmt: skip
            top += height


def _about(deck, report: Report) -> None:
    """How the report was made, once, at the end: the method, the scope, the version, the
    data's fingerprint (sha256) and when it was generated, so a reader can reproduce it."""
    slide = _slide(deck, report, "About this report")
    rows = [["What", "Value"], *([what, value] for what, value in report.footer.provenance)]
    _table(
        slide, rows, MARGIN, Inches(1.5), WIDTH - 2 * MARGIN, widths=(2.6, 9.8), size=12,
        name="Provenance table",
    )  # fmt: skip


# ---- tables and text ----------------------------------------------------------------------


def _text(
    slide,
    text,
    left,
    top,
    width,
    height,
    *,
    size=12,
    bold=False,
    color=INK,
    align=PP_ALIGN.LEFT,
    anchor=MSO_ANCHOR.TOP,
    name=None,
):
    box = slide.shapes.add_textbox(left, top, width, height)
    if name:
        box.name = name
    frame = box.text_frame
    frame.word_wrap = True
    frame.vertical_anchor = anchor
    for i, line in enumerate(clean(text).split("\n")):
        paragraph = frame.paragraphs[0] if i == 0 else frame.add_paragraph()
        paragraph.text = line
        paragraph.alignment = align
        paragraph.font.size = Pt(size)
        paragraph.font.bold = bold
        paragraph.font.color.rgb = color
    return box


def _table(slide, rows, left, top, width, *, widths, size=11, fills=None, name=None):
    """A plain table: shaded header, thin rows; `fills` colours chosen cells (white text).

    The rows are written as XML in one go: python-pptx's cell-by-cell API cost about 35 ms a
    table, minutes for a 1,000-pilot deck. The XML is the one that API writes (cell margins,
    fill, the first paragraph's size, weight and colour)."""
    fills = fills or {}
    n_rows, n_cols = len(rows), len(rows[0])
    scale = width / sum(widths)
    column_inches = [w * scale / Inches(1) for w in widths]
    heights = [_row_height(values, column_inches, size) for values in rows]
    shape = slide.shapes.add_table(n_rows, n_cols, left, top, width, sum(heights))
    if name:
        shape.name = name
    table = shape.table
    for c, w in enumerate(widths):
        table.columns[c].width = int(w * scale)
    margins = (
        f'marL="{Inches(0.06)}" marR="{Inches(0.06)}" marT="{Inches(0.03)}" marB="{Inches(0.03)}"'
    )
    for r, (row, values) in enumerate(zip(table._tbl.tr_lst, rows, strict=True)):
        cells = []
        for c, value in enumerate(values):
            if (r, c) in fills:
                fill, ink, bold = rgb(fills[(r, c)]), "FFFFFF", True
            else:
                fill, ink, bold = HEADER_FILL if r == 0 else ROW_FILL, str(INK), r == 0
            cells.append(_cell_xml(clean(value), size, bold, ink, str(fill), margins))
        xml = f'<a:tr {nsdecls("a")} h="{heights[r]}">{"".join(cells)}</a:tr>'
        row.getparent().replace(row, parse_xml(xml))
    return shape


def _cell_xml(text: str, size: int, bold: bool, ink: str, fill: str, margins: str) -> str:
    """One table cell as python-pptx writes it after `cell.text = text` and the formatting
    `_table` applies (to the first paragraph, as the API does)."""
    paragraphs = []
    for i, line in enumerate(text.split("\n")):
        run = f"<a:r><a:t>{escape(line)}</a:t></a:r>" if line else ""
        if i == 0:
            font = (
                f'<a:pPr><a:defRPr sz="{int(size * 100)}" b="{int(bold)}"><a:solidFill>'
                f'<a:srgbClr val="{ink}"/></a:solidFill></a:defRPr></a:pPr>'
            )
            paragraphs.append(f"<a:p>{font}{run}</a:p>")
        else:
            paragraphs.append(f"<a:p>{run}</a:p>" if run else "<a:p/>")
    return (
        f"<a:tc><a:txBody><a:bodyPr/><a:lstStyle/>{''.join(paragraphs)}</a:txBody>"
        f'<a:tcPr {margins}><a:solidFill><a:srgbClr val="{fill}"/></a:solidFill></a:tcPr></a:tc>'
    )


# Text metrics for laying out before PowerPoint or LibreOffice wrap the text: glyphs 0.6 em wide
# on average and lines 1.25 em apart hold for Calibri and for the wider DejaVu Sans that
# LibreOffice substitutes, so a box sized this way is never shorter than its rendered text.
GLYPH_EM, LINE_EM = 0.6, 1.25


def _lines(text: object, inches: float, size: float) -> int:
    """How many lines `text` wraps to in a box `inches` wide at `size` points."""
    room = max(1, int(inches * 72 / (size * GLYPH_EM)))
    return sum(
        max(1, len(textwrap.wrap(part, room, break_long_words=True)))
        for part in clean(text).split("\n")
    )


def _text_height(text: object, width, size: float) -> int:
    """The height (EMU) of a text box `width` (EMU) wide holding `text`, with its insets."""
    return int(Inches(_lines(text, width / Inches(1) - 0.2, size) * size * LINE_EM / 72 + 0.1))


def _row_height(values: Sequence[object], column_inches: Sequence[float], size: float) -> int:
    """The height of a table row once its text wraps (cell margins 0.06 in each side)."""
    lines = max(
        _lines(value, inches - 0.12, size)
        for value, inches in zip(values, column_inches, strict=True)
    )
    return int(Inches(lines * size * LINE_EM / 72 + 0.09))


def _title_size(title: str) -> int:
    """Action titles are sentences; long ones get a smaller font to stay within two lines."""
    for limit, size in ((70, 24), (110, 20), (160, 17)):
        if len(title) <= limit:
            return size
    return 15
