"""Read-only PDF: the portfolio summary (what the pilots to scale are worth, the executive
summary grouped by decision), then a one-page summary per pilot, and last how the report was
made (method, data fingerprint) (reportlab platypus).

Each pilot's charts (its series against the counterfactual, its net value bridge) are drawn as
vector graphics in the app's look (`pdf_charts`): a few milliseconds each, so a 1,000-pilot
PDF is not ten minutes of headless-browser rendering. The comparison page's forest plot is the
app's own plotly figure, rendered to PNG by kaleido and Chromium (`images.render_pngs`); if no
browser is available the PDF is still written, with a visible note where that chart would be.
A chart that cannot be drawn is noted in its place the same way.

Each pilot page is wrapped in `KeepInFrame(mode="shrink")`, so a pilot with many metrics is
scaled down rather than spilling onto a second page.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Collection, Sequence
from concurrent.futures import ThreadPoolExecutor
from xml.sax.saxutils import escape

from reportlab import rl_config
from reportlab.graphics.shapes import Drawing
from reportlab.lib import colors
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.lib.utils import simpleSplit
from reportlab.platypus import (
    BaseDocTemplate,
    Frame,
    Image,
    KeepInFrame,
    KeepTogether,
    PageBreak,
    PageTemplate,
    Spacer,
    Table,
    TableStyle,
)
from reportlab.platypus.doctemplate import LayoutError

from pilotproof.export import ExportError, pdf_charts, pdf_fonts
from pilotproof.export.content import (
    CHANGE_HEADING,
    IMPROVEMENT_HEADING,
    PilotSection,
    Report,
    comparison_ends,
    comparison_figure,
    decision_color,
    humanise,
)
from pilotproof.export.images import FigureSpec, render_pngs
from pilotproof.export.paging import paged_pilots
from pilotproof.export.pdf_fonts import Paragraph
from pilotproof.plaintext import shown, visible

Progress = Callable[[float, str], None]


class _Table(Table):
    """Tables sit flush left (reportlab centres them by default)."""

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("hAlign", "LEFT")
        super().__init__(*args, **kwargs)


PAGE = landscape(A4)
MARGIN = 12 * mm
FOOTER_HEIGHT = 11 * mm
CONTENT_WIDTH = PAGE[0] - 2 * MARGIN
CONTENT_HEIGHT = PAGE[1] - 2 * MARGIN - FOOTER_HEIGHT
INK = colors.HexColor("#1D2733")
MUTED = colors.HexColor("#5A6A7A")
HEADER_FILL = colors.HexColor("#E8EEF4")
RULE = colors.HexColor("#D8DEE4")
FOOTER_SIZE = 7.5
SERIES_PX = (900, 470)  # the series chart's proportions (and the app's pixels)
BRIDGE_PX = (520, 340)
SERIES_WIDTH = 150 * mm  # the series panel's width on a pilot page
# the bridge column's width: what the checks and readiness columns leave (see _pilot_page)
BRIDGE_WIDTH = (1 - 0.40 - 0.31) * CONTENT_WIDTH - 4 * mm
FOREST_ENDS = 10  # past twice this many pilots, the comparison chart shows the best and worst
FONT, BOLD = pdf_fonts.fonts().regular, pdf_fonts.fonts().bold  # and a CJK fallback per run
STYLES = {
    "title": ParagraphStyle("title", fontName=BOLD, fontSize=20, leading=24, textColor=INK),
    "value": ParagraphStyle("value", fontName=BOLD, fontSize=12, leading=15, textColor=INK),
    "h1": ParagraphStyle("h1", fontName=BOLD, fontSize=15, leading=19, textColor=INK),
    "h2": ParagraphStyle(
        "h2", fontName=BOLD, fontSize=10, leading=13, textColor=MUTED, spaceBefore=4
    ),
    "body": ParagraphStyle("body", fontName=FONT, fontSize=9, leading=11.5, textColor=INK),
    "meta": ParagraphStyle("meta", fontName=FONT, fontSize=9, leading=11.5, textColor=MUTED),
    "cell": ParagraphStyle("cell", fontName=FONT, fontSize=8, leading=10, textColor=INK),
    "cell_bold": ParagraphStyle("cellb", fontName=BOLD, fontSize=8, leading=10, textColor=INK),
    "num": ParagraphStyle(
        "num", fontName=FONT, fontSize=8, leading=10, textColor=INK, alignment=TA_RIGHT
    ),
    "th_small": ParagraphStyle("ths", fontName=BOLD, fontSize=6.5, leading=8, textColor=INK),
    "tile": ParagraphStyle("tile", fontName=BOLD, fontSize=12, leading=15, textColor=colors.white),
    "chip": ParagraphStyle("chip", fontName=BOLD, fontSize=8, leading=10, textColor=colors.white),
    "fail": ParagraphStyle(
        "fail", fontName=BOLD, fontSize=8, leading=10, textColor=colors.HexColor("#B04500")
    ),
}


def render(
    report: Report,
    progress: Progress | None = None,
    problems: list[str] | None = None,
    *,
    pages: Collection[str] | None = None,
) -> bytes:
    """The report as a PDF, returned as bytes.

    A chart that cannot be drawn leaves a visible note in its place and a line in `problems`
    (which pilot, which chart, why); the rest of the report is unaffected. `pages` (pilot ids)
    limits the one-page summaries to those pilots; the summary still covers every pilot.
    """
    paged = paged_pilots(report, pages)
    step = progress or (lambda fraction, text: None)
    step(0.02, "Preparing charts")
    specs, slots = _figures(report)
    images: dict = {}
    why: dict = {}
    # the browser renders the comparison image while the pilots' charts are drawn here (its
    # start costs seconds); progress is told from this thread only, where the app can draw it
    with ThreadPoolExecutor(1, thread_name_prefix="pdf-images") as pool:
        pending = pool.map(render_pngs, [specs])
        _draw_pilot_charts(paged, images, why, lambda f, text: step(0.02 + 0.33 * f, text))
        step(0.35, "Rendering the comparison chart" if specs else "Laying out pages")
        (rendered,) = pending
    images.update({key: rendered.pngs[i] for i, key in enumerate(slots)})
    why.update({k: rendered.why(i) for i, k in enumerate(slots) if rendered.pngs[i] is None})
    failed = [_failure(report, key, reason) for key, reason in why.items()]
    if problems is not None:
        problems.extend(failed)
    step(0.4, "Laying out pages")
    buffer = io.BytesIO()
    doc = BaseDocTemplate(
        buffer,
        pagesize=PAGE,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=MARGIN,
        bottomMargin=MARGIN + FOOTER_HEIGHT,
        title=report.title,
        author="pilotproof",
        subject=report.footer.text,
    )
    frame = Frame(MARGIN, MARGIN + FOOTER_HEIGHT, CONTENT_WIDTH, CONTENT_HEIGHT, id="body")
    doc.addPageTemplates(
        [PageTemplate(id="page", frames=[frame], onPage=_footer(report.footer.line))]
    )
    story: list = _summary(report, failed)
    if report.is_selection:
        story += [PageBreak(), *_comparison(report, images.get("forest"), why.get("forest"))]
    for pilot in paged:
        story.append(PageBreak())
        story.append(_pilot_page(pilot, images, why))
    story += [PageBreak(), *_about(report)]
    doc.setProgressCallBack(_layout_progress(step, len(paged)))
    # page streams zlib-compressed only: reportlab's default adds an ASCII85 pass, in pure
    # Python without its C accelerator (about 10 ms a page) and a quarter larger
    ascii85, rl_config.useA85 = rl_config.useA85, 0
    try:
        doc.build(story)
    except LayoutError as error:  # text is cut before layout, so this is a bug, said plainly
        raise ExportError(
            "the PDF could not be laid out: some text does not fit on a page "
            f"({str(error).splitlines()[0][:120]})"
        ) from error
    finally:
        rl_config.useA85 = ascii85
    step(1.0, "Done")
    return buffer.getvalue()


def _layout_progress(step: Progress, pilots: int):
    """reportlab's progress callback (flowables laid out of the story) as the export's steps
    from 40% to 100%, told at most once per percent."""
    state = {"total": 1, "told": -1}

    def told(kind: str, value: int) -> None:
        if kind == "SIZE_EST":
            state["total"] = max(int(value), 1)
        elif kind == "PROGRESS":
            share = min(int(value) / state["total"], 1.0)
            percent = int(share * 100)
            if percent > state["told"]:
                state["told"] = percent
                what = f"{pilots} pilot pages" if pilots else "the summary"
                step(0.4 + 0.59 * share, f"Laying out {what}")

    return told


def _figures(report: Report) -> tuple[list[FigureSpec], list[tuple[str, str] | str]]:
    """The figures rendered as images: the comparison page's forest plot."""
    specs: list[FigureSpec] = []
    slots: list[tuple[str, str] | str] = []
    if report.is_selection:
        specs.append(FigureSpec(_forest_figure(report), 900, _forest_height(report)))
        slots.append("forest")
    return specs, slots


def _forest_figure(report: Report):
    """The forest plot of every pilot, or of the best and worst of a large portfolio (the
    table under it lists them all)."""
    if comparison_ends(report, FOREST_ENDS) is None:
        return comparison_figure(report)
    return comparison_figure(report, FOREST_ENDS)


def _forest_note(report: Report) -> str:
    """What the comparison chart leaves out of a large portfolio, in a sentence ("" if none)."""
    if comparison_ends(report, FOREST_ENDS) is None:
        return ""
    return (
        f"The chart shows the {FOREST_ENDS} pilots with the largest improvement and the "
        f"{FOREST_ENDS} with the smallest, of {len(report.pilots):,}; the table lists every pilot."
    )


def _draw_pilot_charts(
    pilots: Sequence[PilotSection], charts_by_key: dict, why: dict, progress: Progress
) -> None:
    """Each pilot's series and net value bridge as drawings, keyed as the images are; one that
    cannot be drawn is None with its reason in `why` (the rest are unaffected)."""
    series_width = SERIES_WIDTH
    series_height = series_width * SERIES_PX[1] / SERIES_PX[0]
    bridge_width = BRIDGE_WIDTH
    bridge_height = bridge_width * BRIDGE_PX[1] / BRIDGE_PX[0]
    total = len(pilots)
    for n, p in enumerate(pilots, start=1):
        jobs = (
            ("series", pdf_charts.series_drawing, series_width, series_height),
            ("bridge", pdf_charts.bridge_drawing, bridge_width, bridge_height),
        )
        for kind, draw, width, height in jobs:
            key = (kind, p.pilot_id)
            try:
                drawing = draw(p, width, height, FONT)
            except Exception as error:  # one pilot's odd data must not cost the whole PDF
                charts_by_key[key], why[key] = None, f"{type(error).__name__}: {error}"[:300]
                continue
            if drawing is not None:
                charts_by_key[key] = drawing
        if n % 25 == 0 or n == total:
            progress(n / total, f"Charts of pilot {n} of {total}")


def _forest_height(report: Report) -> int:
    """The comparison image's height in pixels: as tall as the app's figure makes itself, a
    row per pilot and value metric drawn and the legend below (a fixed 34 px a row printed the
    two-line labels of 14 pilots over each other)."""
    return int(_forest_figure(report).layout.height)


# ---- pages ---------------------------------------------------------------------------------


def _failure(report: Report, key: tuple[str, str] | str, reason: str) -> str:
    if key == "forest":
        return f"comparison chart not drawn: {reason}"
    kind, pilot_id = key
    what = {"series": "series chart", "bridge": "net value chart"}.get(kind, kind)
    names = report.labels
    return f"{what} of pilot {shown(pilot_id, 40)} ({names.get(pilot_id, '')}) not drawn: {reason}"


def _summary(report: Report, failed: list[str]) -> list:
    story: list = [
        Paragraph(escape(report.title), STYLES["title"]),
        Spacer(1, 2 * mm),
        Paragraph(escape(report.subtitle), STYLES["meta"]),
        Spacer(1, 3 * mm),
        *_value(report),
        *_decision_tiles(report),
    ]
    story += _plan_warnings(report)
    story += [
        Spacer(1, 4 * mm),
        Paragraph("Executive summary", STYLES["h1"]),
        Spacer(1, 2 * mm),
    ]
    rows = [
        [
            _p("Decision", "cell_bold"),
            _p("Pilot", "cell_bold"),
            _p("Action title", "cell_bold"),
            _p("Reasons", "cell_bold"),
            _p("Annual net value", "cell_bold"),
        ]
    ]
    fills = []
    ordered = [(d, p, i == 0) for d, ps in report.decision_groups for i, p in enumerate(ps)]
    heads = report.decision_heads
    for r, (decision, p, first) in enumerate(ordered, start=1):
        net = p.net_text
        # the count heads the group; a pilot only under a lowered bar is marked on its row
        group = "\n".join(x for x in (heads[decision] if first else "", p.lowered_mark) if x)
        rows.append(
            [
                _p(group, "chip"),
                _p(p.label),  # the pilot with its company
                _p(p.action_title, "cell_bold"),
                _p(p.reasons_text or "-"),
                _p(net, "num"),
            ]
        )
        fills.append(("BACKGROUND", (0, r), (0, r), _decision_color(p.decision)))
    widths = [32 * mm, 48 * mm, 120 * mm, 46 * mm, 27 * mm]
    table = _Table(rows, colWidths=widths, repeatRows=1)
    table.setStyle(_grid(fills))
    story.append(table)
    if failed:
        shown_failures = "; ".join(failed[:5]) + (
            f"; and {len(failed) - 5} more" if len(failed) > 5 else ""
        )
        note = f"Note: {len(failed)} chart(s) could not be drawn: {shown_failures}"
        story += [Spacer(1, 3 * mm), _p(note, "fail")]
    return story


def _value(report: Report) -> list:
    """What the pilots to scale are worth a year, in their currencies, and the line under it."""
    if not report.value_headline or len(report.pilots) < 2:
        return []
    story: list = [Paragraph(escape(report.value_headline), STYLES["value"])]
    if report.value_detail:
        story.append(Paragraph(escape(report.value_detail), STYLES["meta"]))
    if report.stop_saving:  # what stopping saves, as the app's Stop list says it
        story.append(Paragraph(escape(report.stop_saving), STYLES["value"]))
    return [*story, Spacer(1, 3 * mm)]


def _about(report: Report) -> list:
    """How the report was made, once: method, scope, version, the data's fingerprint."""
    rows = [[_p(what, "cell_bold"), _p(value)] for what, value in report.footer.provenance]
    table = _Table(rows, colWidths=[55 * mm, CONTENT_WIDTH - 55 * mm])
    table.setStyle(_grid([], header=False))
    return [Paragraph("About this report", STYLES["h1"]), Spacer(1, 3 * mm), table]


def _plan_warnings(report: Report) -> list:
    """Criteria changed after the results or not pre-registered, and decisions overdue: what
    a board must read before the numbers (nothing when there is none)."""
    story: list = []
    if report.plan_warnings or report.overdue:
        story += [Spacer(1, 3 * mm), Paragraph("Success criteria and decisions", STYLES["h2"])]
        for name, warning in report.plan_warnings:
            story.append(_p(f"{name}: {warning}", "fail"))
        if report.overdue:
            story.append(_p(f"Decisions overdue against their window: {', '.join(report.overdue)}"))
    return story


def _decision_tiles(report: Report) -> list:
    """One coloured tile per decision with its count: the portfolio at a glance."""
    counts = report.decision_tiles
    if not counts:
        return []
    tiles = _Table([[_p(text, "tile") for _, text in counts]], colWidths=[40 * mm] * len(counts))
    commands = [
        ("BACKGROUND", (i, 0), (i, 0), _decision_color(d)) for i, (d, _) in enumerate(counts)
    ]
    commands += [
        ("TOPPADDING", (0, 0), (-1, -1), 5),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 6),
        ("LINEAFTER", (0, 0), (-2, 0), 4, colors.white),
    ]
    tiles.setStyle(TableStyle(commands))
    return [tiles]


def _comparison(report: Report, png: bytes | None, problem: str | None) -> list:
    story: list = [
        Paragraph("Side-by-side comparison", STYLES["h1"]),
        Paragraph(
            "Improvement against what would have happened without the pilot, with its 95% "
            "interval, in the chart and the table alike: + (right) is better whatever the "
            "metric's direction (a 36% fall in response time reads +36%). A mix shift is shown "
            "at the same mix of work: what survives once the mix is held still.",
            STYLES["meta"],
        ),
        *([Paragraph(escape(note), STYLES["meta"])] if (note := _forest_note(report)) else []),
        Spacer(1, 2 * mm),
    ]
    height_px = _forest_height(report)
    # as wide as fits, but short enough to leave room for the table on large portfolios
    width = min(190 * mm, 125 * mm * 900 / height_px)
    story.append(_image(png, width, width * height_px / 900, problem))
    header = ("Pilot", "Metric", "Verdict", IMPROVEMENT_HEADING, "95% interval", "Bar to clear")
    rows = [[_p(h, "cell_bold") for h in header]]
    for row in report.comparison:  # the chart's rows, in the chart's sign
        rows.append(
            [
                _p(row.name),
                _p(row.metric),
                _p(row.verdict_label),
                _p(row.improvement_text, "num"),
                _p(row.interval_text, "num"),
                _p(row.bar_text),
            ]
        )
    table = _Table(
        rows, colWidths=[60 * mm, 48 * mm, 28 * mm, 27 * mm, 48 * mm, 35 * mm], repeatRows=1
    )
    table.setStyle(_grid([]))
    # a table that fits a page is moved to the next one whole rather than leave a few rows
    # under the chart (a longer one still splits, its header repeated)
    story += [Spacer(1, 3 * mm), KeepTogether([table])]
    return story


def _pilot_page(p: PilotSection, images: dict, why: dict) -> KeepInFrame:
    """One pilot on one page: title, facts, the claim and the plan; the series chart beside the
    effects and guardrails; then the checks, readiness and net value side by side."""
    left_width, right_width = 150 * mm, CONTENT_WIDTH - 154 * mm
    top = _Table(
        [[_series_panel(p, images, why, left_width), _effects_panel(p, right_width)]],
        colWidths=[left_width + 4 * mm, right_width],
    )
    top.setStyle(_COLUMNS)
    checks_w, readiness_w = 0.40 * CONTENT_WIDTH, 0.31 * CONTENT_WIDTH
    bridge_w = CONTENT_WIDTH - checks_w - readiness_w
    bottom = _Table(
        [
            [
                _checks_panel(p, checks_w - 6 * mm),
                [_p("Readiness to scale", "h2"), _readiness_table(p, readiness_w - 6 * mm)],
                _net_value_panel(p, images, why, bridge_w),
            ]
        ],
        colWidths=[checks_w, readiness_w, bridge_w],
    )
    bottom.setStyle(_COLUMNS)
    content = [
        Paragraph(escape(p.heading), STYLES["h1"]),
        Spacer(1, 1.5 * mm),
        _pilot_header(p),
        Spacer(1, 1.5 * mm),
        *([_p(p.claim_text, "fail"), Spacer(1, 1.5 * mm)] if p.claim_text else []),
        *_plan_block(p),
        Spacer(1, 2 * mm),
        top,
        Spacer(1, 2 * mm),
        bottom,
    ]
    return KeepInFrame(CONTENT_WIDTH, CONTENT_HEIGHT, content, mode="shrink")


# side-by-side panels: each column starts at the top, flush left
_COLUMNS = TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("LEFTPADDING", (0, 0), (-1, -1), 0)])


def _pilot_header(p: PilotSection) -> Table:
    """The decision chip beside one line of the pilot's facts."""
    chip = _Table([[_p(p.decision_label, "chip")]], colWidths=[36 * mm])
    chip.setStyle(
        TableStyle(
            [
                ("BACKGROUND", (0, 0), (-1, -1), _decision_color(p.decision)),
                ("TOPPADDING", (0, 0), (-1, -1), 2),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
            ]
        )
    )
    meta_parts = [p.label, p.id_text, p.function, p.vendor and f"vendor {p.vendor}"]
    if p.go_live is not None:
        meta_parts.append(f"go-live {p.go_live:%Y-%m-%d}")
    if p.reasons_text:
        meta_parts.append(f"why: {p.reasons_text}")
    meta = _Table(
        [[chip, _p(" · ".join(x for x in meta_parts if x), "meta")]],
        colWidths=[40 * mm, CONTENT_WIDTH - 40 * mm],
    )
    meta.setStyle(
        TableStyle([("VALIGN", (0, 0), (-1, -1), "MIDDLE"), ("LEFTPADDING", (0, 0), (0, 0), 0)])
    )
    return meta


def _series_panel(p: PilotSection, images: dict, why: dict, width: float):
    """The headline metric against its counterfactual, or why there is no chart."""
    key = ("series", p.pilot_id)
    if key not in images:
        return _p("No series to chart: the value metric has no data yet.", "meta")
    height = width * SERIES_PX[1] / SERIES_PX[0]
    note = [_p(p.history_note, "meta")] if p.history_note else []  # the history left out
    return [_p(p.series_title, "h2"), *note, _image(images[key], width, height, why.get(key))]


def _effects_panel(p: PilotSection, width: float) -> list:
    """The effects against the counterfactual, then the guardrails."""
    more = [_p(p.more_effects_text, "meta")] if p.more_effects_text else []
    mix = pdf_charts.mix_drawing(p, width, MIX_HEIGHT, FONT) if p.mix_parts else None
    return [
        _p("Effects against what was expected without the pilot", "h2"),
        _effects_table(p, width),
        *more,
        Spacer(1, 2 * mm),
        _p(p.guardrail_heading, "h2"),
        _guardrails_table(p, width),
        *([Spacer(1, 2 * mm), _p(p.mix_title, "h2"), mix] if mix is not None else []),
    ]


MIX_HEIGHT = 30 * mm  # the rate/mix chart of a mix-shift mirage, under the guardrails


def _net_value_panel(p: PilotSection, images: dict, why: dict, width: float) -> list:
    """The net value in a sentence and its bridge chart, or what is missing for one."""
    key = ("bridge", p.pilot_id)
    if key not in images or not p.value_booked:  # a point within noise is not drawn as money
        return [_p("Annualised net value", "h2"), _p(p.net_sentence, "meta")]
    sentence = p.net_sentence
    image_width = width - 4 * mm
    return [
        _p("Annualised net value", "h2"),
        _p(sentence, "meta"),
        _image(images[key], image_width, image_width * BRIDGE_PX[1] / BRIDGE_PX[0], why.get(key)),
    ]


def _checks_panel(p: PilotSection, width: float) -> list:
    """The value-mirage check table under its heading (a failed check in red)."""
    grid = p.check_grid()
    heading = _p(grid.heading, "h2")
    if not grid.metrics:
        return [heading, _p("No checks were run.", "meta")]
    rows = [[_p("Check", "cell_bold"), *[_p(m, "th_small") for m in grid.metrics]]]
    for row in grid.rows:
        outcomes = [cell.outcome if cell else "-" for cell in row.cells]
        rows.append([_p(row.label), *(_p(o, "fail" if o == "FAIL" else "cell") for o in outcomes)])
    first = width * 0.34
    n = len(grid.metrics)
    table = _Table(rows, colWidths=[first] + [(width - first) / n] * n)
    table.setStyle(_grid([]))
    return [heading, table]


def _plan_block(p: PilotSection) -> list:
    """The success plan in a few lines: the warning first (criteria changed after the results
    were visible, or not pre-registered), then the plan, the decision and the forecast."""
    lines = [_p(f"Success plan: {p.plan_status}", "cell_bold")] if p.plan_status else []
    for line in p.plan_lines:
        lines.append(_p(line, "fail" if line in (p.plan_warning, p.plan_outcome) else "meta"))
    return lines


def _effects_table(p: PilotSection, width: float) -> Table:
    rows = [
        [
            _p(h, "cell_bold")
            for h in ("Metric", "Verdict", CHANGE_HEADING, "95% interval", "Bar to clear")
        ]
    ]
    fills = []
    for r, e in enumerate(p.page_effects, start=1):
        rows.append(
            [
                _p(humanise(e.metric)),
                _p(e.verdict_label, "chip"),
                _p(e.effect_text, "num"),
                _p(e.interval_text, "num"),
                _p(e.bar_text),
            ]
        )
        fills.append(
            (
                "BACKGROUND",
                (1, r),
                (1, r),
                colors.HexColor(e.verdict_color),
            )
        )
    fractions = (0.22, 0.19, 0.15, 0.25, 0.19)
    table = _Table(rows, colWidths=[width * f for f in fractions])
    table.setStyle(_grid(fills))
    return table


def _guardrails_table(p: PilotSection, width: float):
    if not p.guardrails:
        return _p("No guardrail metrics recorded for this pilot.", "meta")
    rows = [[_p(h, "cell_bold") for h in ("Guardrail", CHANGE_HEADING, "95% interval", "Status")]]
    for e in p.page_guardrails:
        rows.append(
            [
                _p(humanise(e.metric)),
                _p(e.effect_text, "num"),
                _p(e.interval_text, "num"),
                _p(f"{e.status_text} ({e.bar_text})", "fail" if e.breached else "cell"),
            ]
        )
    fractions = (0.26, 0.16, 0.26, 0.32)
    table = _Table(rows, colWidths=[width * f for f in fractions])
    table.setStyle(_grid([]))
    return table


def _readiness_table(p: PilotSection, width: float) -> list:
    rows = []
    for r in p.readiness:
        answer = _p("MISSING", "fail") if r.gap else _p(r.answer or "")
        rows.append([_p(r.label, "cell_bold"), answer])
    table = _Table(rows, colWidths=[width * 0.38, width * 0.62])
    table.setStyle(_grid([], header=False))
    gaps = p.readiness_gaps
    note = (
        _p(f"Gaps: {', '.join(gaps)}", "fail")
        if gaps
        else _p("Every readiness question is answered.", "meta")
    )
    return [table, Spacer(1, 1.5 * mm), note]


# ---- helpers ------------------------------------------------------------------------------


def _p(text: object, style: str = "cell") -> Paragraph:
    """User text is escaped: reportlab paragraphs parse their own markup."""
    return Paragraph(escape(visible(text, one_line=False)).replace("\n", "<br/>"), STYLES[style])


def _image(png, width: float, height: float, problem: str | None):
    """A chart: PNG bytes as an image, a drawing as it is, None as the note saying why not."""
    if png is None:
        return _p(f"[Chart not drawn: {problem or 'no image'}]", "fail")
    if isinstance(png, Drawing):
        return png
    return Image(io.BytesIO(png), width=width, height=height)


def _decision_color(decision: str) -> colors.Color:
    return colors.HexColor(decision_color(decision))


def _grid(extra: list, header: bool = True) -> TableStyle:
    commands = [
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LINEBELOW", (0, 0), (-1, -1), 0.4, RULE),
        ("TOPPADDING", (0, 0), (-1, -1), 2),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
        ("LEFTPADDING", (0, 0), (-1, -1), 3),
        ("RIGHTPADDING", (0, 0), (-1, -1), 3),
    ]
    if header:
        commands.append(("BACKGROUND", (0, 0), (-1, 0), HEADER_FILL))
    return TableStyle(commands + extra)


def _footer(line: Callable[[int], str]):
    """Draws each page's footer: one short line (`Footer.line`: source, date, page)."""

    def draw(canvas, doc) -> None:
        canvas.saveState()
        canvas.setStrokeColor(RULE)
        canvas.line(
            MARGIN,
            MARGIN + FOOTER_HEIGHT - 2 * mm,
            PAGE[0] - MARGIN,
            MARGIN + FOOTER_HEIGHT - 2 * mm,
        )
        canvas.setFillColor(MUTED)
        text = simpleSplit(line(doc.page), FONT, FOOTER_SIZE, CONTENT_WIDTH)[0]
        pdf_fonts.draw_string(canvas, MARGIN, MARGIN + FOOTER_HEIGHT - 6 * mm, text, FONT,
                              FOOTER_SIZE)  # fmt: skip
        canvas.restoreState()

    return draw
