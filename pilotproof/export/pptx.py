"""PowerPoint deck (python-pptx).

Slides: cover, executive summary (action titles and decisions), for a selection the
side-by-side comparison (forest chart and table), then per pilot an evidence slide (series
against its counterfactual band, effect table, net value bridge) and a checks slide (mirage
checks, guardrails, readiness). The charts are native, editable PowerPoint charts built in
`pptx_charts`. Every slide carries the footer.
"""

from __future__ import annotations

import io
import textwrap
from collections.abc import Callable, Sequence

from pptx import Presentation
from pptx.dml.color import RGBColor
from pptx.enum.shapes import MSO_SHAPE
from pptx.enum.text import MSO_ANCHOR, PP_ALIGN
from pptx.util import Inches, Pt

from pilotproof import charts
from pilotproof.charts import verdict_color
from pilotproof.export.content import (
    PilotSection,
    Report,
    humanise,
    is_number,
)
from pilotproof.export.pptx_charts import bridge_chart, clean, forest_chart, rgb, series_chart
from pilotproof.plaintext import shown
from pilotproof.words import CHECK_LABELS, scaled_change, scaled_interval, verdict_label

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
MAX_TABLE_METRICS = 7  # more do not fit a slide; the workbook holds them all
MAX_CHECK_METRICS = 5


def render(report: Report, progress: Progress | None = None) -> bytes:
    """The report as a .pptx deck, returned as bytes."""
    step = progress or (lambda fraction, text: None)
    deck = Presentation()
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
    for i, pilot in enumerate(report.pilots):
        step(0.15 + 0.8 * i / max(len(report.pilots), 1), f"Pilot {pilot.id_text}")
        _evidence(deck, report, pilot)
        _checks(deck, report, pilot)
    buffer = io.BytesIO()
    deck.save(buffer)
    step(1.0, "Done")
    return buffer.getvalue()


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
    number = len(deck.slides)
    _text(
        slide,
        report.footer.text,
        MARGIN,
        Inches(7.02),
        WIDTH - 2 * MARGIN - Inches(0.6),
        Inches(0.4),
        size=8,
        color=MUTED,
        name="Footer",
    )
    _text(
        slide,
        str(number),
        WIDTH - MARGIN - Inches(0.5),
        Inches(7.02),
        Inches(0.5),
        Inches(0.4),
        size=9,
        color=MUTED,
        align=PP_ALIGN.RIGHT,
    )
    return slide


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
        Inches(2.2),
        WIDTH - 2 * MARGIN,
        Inches(1.4),
        size=36,
        bold=True,
    )
    _text(
        slide,
        report.subtitle,
        MARGIN,
        Inches(3.6),
        WIDTH - 2 * MARGIN,
        Inches(0.6),
        size=20,
        color=MUTED,
    )
    left = MARGIN
    for decision, count in report.decision_counts.items():
        if not count:
            continue
        chip = slide.shapes.add_shape(
            MSO_SHAPE.ROUNDED_RECTANGLE, left, Inches(4.5), Inches(2.3), Inches(0.9)
        )
        chip.fill.solid()
        chip.fill.fore_color.rgb = rgb(charts.DECISION_COLORS.get(decision, "#999999"))
        chip.line.fill.background()
        chip.shadow.inherit = False
        frame = chip.text_frame
        frame.text = f"{count}  {decision}"
        frame.paragraphs[0].font.size = Pt(22)
        frame.paragraphs[0].font.bold = True
        frame.paragraphs[0].font.color.rgb = RGBColor(0xFF, 0xFF, 0xFF)
        frame.paragraphs[0].alignment = PP_ALIGN.CENTER
        left += Inches(2.55)
    _text(
        slide,
        report.footer.text,
        MARGIN,
        Inches(6.7),
        WIDTH - 2 * MARGIN,
        Inches(0.6),
        size=9,
        color=MUTED,
        name="Footer",
    )


SUMMARY_HEADER = ("Decision", "Pilot", "Action title", "Annual net value")
SUMMARY_COLUMNS = (1.9, 2.6, 6.6, 1.3)
SUMMARY_SIZE = 12


def _summary_cells(p: PilotSection) -> list[str]:
    net = p.money(p.net_value.annual_net) if p.net_value else "n/a"
    return [p.decision_label, p.name, p.action_title, net]


def _summary(deck, report: Report) -> None:
    pilots = list(report.pilots)
    pages = _pages(
        pilots, [_summary_cells(p) for p in pilots], SUMMARY_HEADER, SUMMARY_COLUMNS,
        WIDTH - 2 * MARGIN, SUMMARY_SIZE, Inches(1.5), SUMMARY_ROWS_PER_SLIDE,
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
            rows.append(_summary_cells(p))
            fills[(r, 0)] = charts.DECISION_COLORS.get(p.decision, "#999999")
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


def _comparison(deck, report: Report) -> None:
    rows = [r for r in _forest_rows(report) if is_number(r["improvement"])]
    pages = _pages(
        rows, [_comparison_cells(r) for r in rows], COMPARISON_HEADER, COMPARISON_COLUMNS,
        COMPARISON_WIDTH, COMPARISON_SIZE, Inches(1.45), COMPARISON_ROWS_PER_SLIDE,
    )  # fmt: skip
    pages = pages or [[]]
    for n, page in enumerate(pages, start=1):
        title = "Side by side: improvement against the counterfactual"
        if len(pages) > 1:
            title += f" ({n}/{len(pages)})"
        _comparison_slide(_slide(deck, report, title), page)


def _comparison_slide(slide, rows: list[dict]) -> None:
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
    forest_chart(slide, rows, MARGIN, Inches(1.45), Inches(7.4), Inches(5.4))
    table = [list(COMPARISON_HEADER), *(_comparison_cells(r) for r in rows)]
    _table(
        slide,
        table,
        Inches(8.0),
        Inches(1.45),
        COMPARISON_WIDTH,
        widths=COMPARISON_COLUMNS,
        size=COMPARISON_SIZE,
        name="Comparison table",
    )


COMPARISON_HEADER = ("Pilot", "Metric", "Effect", "95% interval", "Verdict")
COMPARISON_COLUMNS = (1.3, 0.95, 0.6, 1.05, 0.95)
COMPARISON_WIDTH, COMPARISON_SIZE = Inches(4.85), 9


def _comparison_cells(r: dict) -> list[str]:
    effect = scaled_change(r["effect"], r["points"])
    return [r["name"], r["metric"], effect, r["interval"], r["verdict_label"]]


def _pages(rows, cells, header, columns, width, size, top, most: int) -> list[list]:
    """`rows` split into slides: as many as their table (`cells` per row, under `header`, in
    `columns` scaled to `width`) holds between `top` and the footer, and at most `most`."""
    scale = width / Inches(1) / sum(columns)
    inches = [w * scale for w in columns]
    room = CONTENT_BOTTOM - top - _row_height(header, inches, size)
    pages: list[list] = []
    used = room + 1
    for row, values in zip(rows, cells, strict=True):
        height = _row_height(values, inches, size)
        if used + height > room or len(pages[-1]) >= most:
            pages.append([])
            used = 0
        pages[-1].append(row)
        used += height
    return pages


def _evidence(deck, report: Report, p: PilotSection) -> None:
    slide = _slide(deck, report, p.action_title)
    chip = slide.shapes.add_shape(
        MSO_SHAPE.ROUNDED_RECTANGLE, MARGIN, Inches(1.4), Inches(2.1), Inches(0.38)
    )
    chip.fill.solid()
    chip.fill.fore_color.rgb = rgb(charts.DECISION_COLORS.get(p.decision, "#999999"))
    chip.line.fill.background()
    chip.shadow.inherit = False
    chip.text_frame.text = clean(p.decision_label)
    chip.text_frame.paragraphs[0].font.size = Pt(12)
    chip.text_frame.paragraphs[0].font.bold = True
    chip.text_frame.paragraphs[0].font.color.rgb = RGBColor(0xFF, 0xFF, 0xFF)
    meta = " · ".join(
        x
        for x in (
            p.name,
            p.id_text,
            p.function,
            p.vendor,
            f"go-live {p.go_live:%Y-%m-%d}" if p.go_live is not None else "",
            f"why: {p.reasons_text}" if p.reasons else "",
        )
        if x
    )
    meta_width = WIDTH - 2 * MARGIN - Inches(2.25)
    meta_height = _text_height(meta, meta_width, 11)
    _text(
        slide, meta, MARGIN + Inches(2.25), Inches(1.4), meta_width, meta_height, size=11,
        color=MUTED,
    )  # fmt: skip
    top = max(Inches(1.9), Inches(1.45) + meta_height)
    if p.headline is not None and p.headline.series is not None and not p.headline.series.empty:
        series_chart(slide, p, MARGIN, top, Inches(7.6), CONTENT_BOTTOM - top)
    else:
        _text(
            slide,
            "No series to chart: the value metric has no data yet.",
            MARGIN,
            top,
            Inches(7.6),
            Inches(1),
            size=14,
            color=MUTED,
        )
    rows = [["Metric", "Verdict", "Effect", "95% interval", "Bar to clear"]]
    fills: dict[tuple[int, int], str] = {}
    for r, e in enumerate(p.effects[:MAX_TABLE_METRICS], start=1):
        rows.append(
            [
                humanise(e.metric),
                e.verdict_label,
                e.effect_text,
                e.interval_text,
                e.bar_text,
            ]
        )
        fills[(r, 1)] = e.verdict_color
    right = MARGIN + Inches(7.8)
    table = _table(
        slide,
        rows,
        right,
        top,
        Inches(4.65),
        widths=(1.15, 1.05, 0.65, 1.0, 0.8),
        size=9,
        fills=fills,
        name="Effect table",
    )
    bridge_top = top + table.height + Inches(0.2)
    hidden = len(p.effects) - MAX_TABLE_METRICS
    if hidden > 0:
        _text(
            slide,
            f"+ {hidden} more metrics in the Excel appendix",
            right,
            bridge_top,
            Inches(4.65),
            Inches(0.3),
            size=9,
            color=MUTED,
        )
        bridge_top += Inches(0.3)
    room = CONTENT_BOTTOM - bridge_top
    if p.net_value is not None and room >= Inches(1.6):
        bridge_chart(slide, p, right, bridge_top, Inches(4.65), room)
    elif p.net_value is not None:  # a long effect table leaves no room for the chart
        net = p.net_value
        _text(
            slide,
            f"Annualised net value {p.money(net.annual_net)} (95% interval {p.money(net.ci_low)} "
            f"to {p.money(net.ci_high)}); the bridge chart is in the PDF and the workbook.",
            right, bridge_top, Inches(4.65), _text_height("x" * 160, Inches(4.65), 11), size=11,
        )  # fmt: skip
    else:
        _text(
            slide,
            f"Annualised net value: {p.no_value_text}",
            right,
            bridge_top,
            Inches(4.65),
            Inches(0.8),
            size=11,
            color=MUTED,
        )


def _checks(deck, report: Report, p: PilotSection) -> None:
    slide = _slide(deck, report, f"{p.name}: value-mirage checks, guardrails and readiness")
    metrics = p.check_metrics[:MAX_CHECK_METRICS]
    top = Inches(1.5)
    more = len(p.check_metrics) - len(metrics)
    heading = "Value-mirage checks" + (
        f" (first {len(metrics)} metrics; all in the workbook)" if more > 0 else ""
    )
    _text(
        slide,
        heading,
        MARGIN,
        top - Inches(0.05),
        Inches(7),
        Inches(0.35),
        size=13,
        bold=True,
    )
    if metrics:
        rows = [["Check", *[humanise(m) for m in metrics]]]
        fills: dict[tuple[int, int], str] = {}
        for r, name in enumerate(p.check_names, start=1):
            row = [CHECK_LABELS.get(name, humanise(name))]
            for c, metric in enumerate(metrics, start=1):
                found = p.check(metric, name)
                row.append(found.outcome if found else "-")
                if found is not None and found.outcome == "FAIL":
                    fills[(r, c)] = charts.VERDICT_COLORS["worse"]
            rows.append(row)
        widths = (2.2, *([4.9 / len(metrics)] * len(metrics)))
        table = _table(
            slide,
            rows,
            MARGIN,
            top + Inches(0.35),
            Inches(7.1),
            widths=widths,
            size=10,
            fills=fills,
            name="Checks table",
        )
        checks_bottom = table.top + table.height + Inches(0.12)
    else:
        _text(
            slide,
            "No checks were run.",
            MARGIN,
            top + Inches(0.4),
            Inches(7),
            Inches(0.4),
            size=11,
            color=MUTED,
        )
        checks_bottom = top + Inches(0.9)
    failed = _failed_notes(p)[:4]
    if failed:
        notes = "\n".join(failed)
        height = _text_height(notes, Inches(7.1), 10)
        _text(slide, notes, MARGIN, checks_bottom, Inches(7.1), height, size=10, color=FAIL)
        checks_bottom += height + Inches(0.08)
    _text(slide, "Guardrails", MARGIN, checks_bottom, Inches(7), Inches(0.35), size=13, bold=True)
    if p.guardrails:
        rows = [["Guardrail", "Change", "95% interval", "Tolerance", "Status"]]
        fills = {}
        for r, e in enumerate(p.guardrails[:4], start=1):
            rows.append(
                [
                    humanise(e.metric),
                    e.effect_text,
                    e.interval_text,
                    e.bar_text,
                    e.status_text,
                ]
            )
            if e.breached:
                fills[(r, 4)] = charts.VERDICT_COLORS["worse"]
        _table(
            slide,
            rows,
            MARGIN,
            checks_bottom + Inches(0.35),
            Inches(7.1),
            widths=(1.6, 0.9, 1.6, 1.4, 1.6),
            size=10,
            fills=fills,
            name="Guardrail table",
        )
    else:
        _text(
            slide,
            "No guardrail metrics recorded for this pilot.",
            MARGIN,
            checks_bottom + Inches(0.35),
            Inches(7),
            Inches(0.4),
            size=11,
            color=MUTED,
        )
    right = MARGIN + Inches(7.45)
    _text(
        slide,
        "Readiness to scale",
        right,
        top - Inches(0.05),
        Inches(5),
        Inches(0.35),
        size=13,
        bold=True,
    )
    rows = [["Question", "Answer"]]
    fills = {}
    for r, answer in enumerate(p.readiness, start=1):
        # a slide holds the gist; the full answer is in the workbook's Readiness sheet
        text = "MISSING" if answer.gap else shown(answer.answer or "", 140, one_line=False)
        rows.append([answer.label, text])
        if answer.gap:
            fills[(r, 1)] = charts.DECISION_COLORS["fix"]
    table = _table(
        slide,
        rows,
        right,
        top + Inches(0.35),
        Inches(4.95),
        widths=(1.55, 3.4),
        size=9,
        fills=fills,
        name="Readiness table",
    )
    gaps = p.readiness_gaps
    verdict = f"Gaps: {', '.join(gaps)}" if gaps else "Every readiness question is answered."
    _text(
        slide,
        verdict,
        right,
        table.top + table.height + Inches(0.12),
        Inches(4.95),
        _text_height(verdict, Inches(4.95), 11),
        size=11,
        bold=bool(gaps),
        color=FAIL if gaps else MUTED,
    )


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
            _text(slide, f"{p.name}: {p.plan_status}", MARGIN, top, width, Inches(0.3),
                  size=12, bold=True)  # fmt: skip
            _text(slide, text, MARGIN, top + Inches(0.3), width, height - Inches(0.42), size=10,
                  color=FAIL if p.plan_warning else MUTED)  # fmt: skip
            top += height


def _failed_notes(p: PilotSection) -> list[str]:
    """One line per failed check and explanation, naming every metric it failed on
    ("Noise (cost per transaction, cycle time): ..."), not the same sentence once per metric."""
    grouped: dict[tuple[str, str], list[str]] = {}
    for c in p.failed_checks:
        grouped.setdefault((c.check, c.explanation), []).append(humanise(c.metric))
    return [
        f"{CHECK_LABELS.get(check, check)} ({', '.join(metrics)}): {shown(why, 180)}"
        for (check, why), metrics in grouped.items()
    ]


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
    """A plain table: shaded header, thin rows; `fills` colours chosen cells (white text)."""
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
    for r, values in enumerate(rows):
        table.rows[r].height = heights[r]
        for c, value in enumerate(values):
            cell = table.cell(r, c)
            cell.margin_left = cell.margin_right = Inches(0.06)
            cell.margin_top = cell.margin_bottom = Inches(0.03)
            cell.text = clean(value)
            paragraph = cell.text_frame.paragraphs[0]
            paragraph.font.size = Pt(size)
            paragraph.font.bold = r == 0
            cell.fill.solid()
            if (r, c) in fills:
                cell.fill.fore_color.rgb = rgb(fills[(r, c)])
                paragraph.font.color.rgb = RGBColor(0xFF, 0xFF, 0xFF)
                paragraph.font.bold = True
            else:
                cell.fill.fore_color.rgb = HEADER_FILL if r == 0 else ROW_FILL
                paragraph.font.color.rgb = INK
    return shape


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


def _row_height(values: Sequence[object], column_inches: Sequence[float], size: int) -> int:
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


# ---- numbers ------------------------------------------------------------------------------


def _forest_rows(report: Report) -> list[dict]:
    rows = []
    for p in report.pilots:
        for e in p.result.value_effects:
            improvement = e.improvement  # in the metric's scale: percent, or points
            flip = e.sign
            ci_low, ci_high = e.headline_interval
            if is_number(ci_low) and is_number(ci_high) and is_number(improvement):
                assert ci_low is not None and ci_high is not None and improvement is not None
                low, high = sorted((flip * ci_low, flip * ci_high))
                plus, minus = high - improvement, improvement - low
            else:
                plus = minus = 0.0
            rows.append(
                {
                    "label": f"{p.name} · {humanise(e.metric)}" + (" (points)" * e.points),
                    "name": p.name,
                    "metric": humanise(e.metric),
                    "improvement": improvement,
                    "effect": e.headline,
                    "points": e.points,
                    "interval": scaled_interval(ci_low, ci_high, e.points),
                    "plus": plus,
                    "minus": minus,
                    "threshold": e.threshold_pct,
                    "verdict": e.verdict,
                    "verdict_label": verdict_label(e.verdict, e.kind),
                    "color": verdict_color(e.verdict, e.kind),
                }
            )
    return rows
