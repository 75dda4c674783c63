"""Native PowerPoint charts for the deck, and the chart data python-pptx embeds with them.

- series: XY scatter with lines (dates as Excel serials) so go-live can be a true vertical line;
  the counterfactual dashed, its band as two dotted bounds, the scaling threshold as the app
  draws it (one flat level in thick grey dots); long daily series as weekly means;
- forest: horizontal bars of the improvement with custom error bars for the 95% interval
  (python-pptx has no error-bar API, so `c:errBars` is added to the series XML);
- bridge: stacked columns with an invisible base, the classic waterfall construction.
Every chart embeds its data in a workbook written text-only (see `_TextOnlyWorkbook`).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from contextlib import contextmanager

import pandas as pd
import xlsxwriter
from lxml import etree
from pptx.chart.data import CategoryChartData, XyChartData
from pptx.chart.xlsx import CategoryWorkbookWriter, XyWorkbookWriter
from pptx.dml.color import RGBColor
from pptx.enum.chart import XL_CHART_TYPE, XL_LEGEND_POSITION, XL_TICK_LABEL_POSITION
from pptx.enum.dml import MSO_LINE_DASH_STYLE
from pptx.oxml.ns import qn
from pptx.util import Emu, Pt

from pilotproof import charts
from pilotproof.export.content import (
    PREREGISTERED_COLOR,
    ComparisonRow,
    PilotSection,
    bridge_color,
    display_series,
    forest_axis,
    is_number,
    money_format,
    nice_range,
    waterfall_parts,
)
from pilotproof.plaintext import is_formula_like, shown, visible
from pilotproof.words import EXPECTED_BAND, EXPECTED_BAND_HIGH, EXPECTED_LINE, threshold_words

_EXCEL_EPOCH = pd.Timestamp("1899-12-30")
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


class _TextOnlyWorkbook:
    """Mixin for python-pptx's chart-data writers: each native chart embeds a workbook that
    python-pptx fills with xlsxwriter's `write()`, which turns a category such as a pilot named
    `=HYPERLINK(...)` into a live formula behind "Edit data". Opened this way every string is
    written as text."""

    @contextmanager
    def _open_worksheet(self, xlsx_file):
        options = {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False}
        workbook = xlsxwriter.Workbook(xlsx_file, options)
        worksheet = workbook.add_worksheet()
        self._quoted = workbook.add_format({"quote_prefix": True})
        yield workbook, worksheet
        workbook.close()


class _CategoryWriter(_TextOnlyWorkbook, CategoryWorkbookWriter):
    def _write_cat_column(self, worksheet, col, level, num_format):
        """Categories (pilot names) written as text; formula-like ones with Excel's quote
        prefix too, so they stay text when someone edits the chart's data in PowerPoint."""
        worksheet.set_column(col, col, 10)
        for off, name in level:
            if isinstance(name, str) and is_formula_like(name):
                worksheet.write_string(off + 1, col, name, self._quoted)
            else:
                worksheet.write(off + 1, col, name, num_format)


class _XyWriter(_TextOnlyWorkbook, XyWorkbookWriter):
    pass


class SafeCategoryChartData(CategoryChartData):
    @property
    def _workbook_writer(self):
        return _CategoryWriter(self)


class SafeXyChartData(XyChartData):
    @property
    def _workbook_writer(self):
        return _XyWriter(self)


def clean(text: object) -> str:
    """Text python-pptx can store: control characters shown as visible codes (line breaks
    kept), and any other character XML forbids dropped."""
    return _XML_INVALID.sub("", visible(text, one_line=False))


def rgb(hex_color: str) -> RGBColor:
    return RGBColor.from_string(hex_color.lstrip("#").upper())


def forest_chart(
    slide,
    rows: Sequence[ComparisonRow],
    left,
    top,
    width,
    height,
    *,
    scale: Sequence[ComparisonRow] = (),
) -> None:
    """Improvement per pilot as horizontal bars, coloured by verdict, with the 95% interval
    as custom error bars and each scaling threshold as a dashed outline bar over it (a bullet
    chart: the bar should reach past the outline). `rows` have an improvement each. The axis
    (from zero, `content.forest_axis`) spans `scale`, every row the comparison draws on any
    slide, so a bar on one slide reads against a bar on the next; by default `rows`."""
    data = SafeCategoryChartData()
    # a mirage whose bar clears its threshold says why under its label (`chart_label`)
    data.categories = [
        "\n".join(shown(line, 90) for line in r.chart_label.split("\n")) for r in rows
    ]
    data.add_series("Improvement (%)", [round(r.improvement or 0.0, 2) for r in rows])
    thresholds = [r.threshold if is_number(r.threshold) else None for r in rows]
    if any(t is not None for t in thresholds):
        data.add_series("Scaling threshold (dashed outline)", thresholds)
    preregistered = [r.preregistered if is_number(r.preregistered) else None for r in rows]
    lowered = any(t is not None for t in preregistered)
    if lowered:
        data.add_series("Pre-registered threshold (dotted outline)", preregistered)
    frame = slide.shapes.add_chart(XL_CHART_TYPE.BAR_CLUSTERED, left, top, width, height, data)
    frame.name = "Forest chart"
    chart = frame.chart
    chart.font.size = Pt(11)
    with_thresholds = any(t is not None for t in thresholds)
    _chart_title(
        chart,
        "Improvement % with 95% interval (right is better)"
        + ("\ndashed outline: the scaling threshold to reach" if with_thresholds else "")
        + ("; red dotted: the pre-registered one, lowered after the results" if lowered else ""),
    )
    plot = chart.plots[0]
    series = plot.series[0]
    for i, r in enumerate(rows):
        fill = series.points[i].format.fill
        fill.solid()
        fill.fore_color.rgb = rgb(r.color)
    _error_bars(series, [r.plus for r in rows], [r.minus for r in rows])
    plot.gap_width = 80
    plot.overlap = 100
    chart.has_legend = False  # the title says what the outline is
    if with_thresholds:
        outline = plot.series[1].format
        outline.fill.background()
        outline.line.color.rgb = rgb("#333333")
        outline.line.width = Pt(1.5)
        outline.line.dash_style = MSO_LINE_DASH_STYLE.DASH
    if lowered:  # the bar as it was agreed, beside the lowered one: a board sees it moved
        was = plot.series[len(plot.series) - 1].format
        was.fill.background()
        was.line.color.rgb = rgb(PREREGISTERED_COLOR)
        was.line.width = Pt(2)
        was.line.dash_style = MSO_LINE_DASH_STYLE.ROUND_DOT
    category = chart.category_axis
    category.reverse_order = True
    category.tick_label_position = XL_TICK_LABEL_POSITION.LOW
    axis = chart.value_axis
    ends = [value for r in (scale or rows) for value in r.axis_values]
    axis.minimum_scale, axis.maximum_scale, axis.major_unit = forest_axis(ends)
    axis.has_major_gridlines = True
    axis.tick_labels.number_format = '0"%"'
    axis.tick_labels.number_format_is_linked = False


def series_chart(slide, p: PilotSection, left, top, width, height) -> None:
    effect = p.headline
    axis = charts.value_axis(p.units.get(effect.metric, ""), effect.scale)
    series, _ = display_series(effect, p.go_live, p.preregistered)
    series["x"] = (series["date"] - _EXCEL_EPOCH).dt.days.astype(float)
    data = SafeXyChartData()
    lines: list[tuple[str, dict]] = []

    def add(name: str, xs, ys, style: dict) -> None:
        points = [(x, y) for x, y in zip(xs, ys, strict=True) if is_number(y) and is_number(x)]
        if not points:
            return
        s = data.add_series(name, number_format="0.0%" if axis.percent else "0.00")
        for x, y in points:
            s.add_data_point(x, y)
        lines.append((name, style))

    add("Observed", series["x"], series["observed"], {"color": charts.OBSERVED_COLOR, "w": 2})
    add(
        EXPECTED_LINE,
        series["x"],
        series["counterfactual"],
        {"color": charts.COUNTERFACTUAL_COLOR, "w": 1.75, "dash": MSO_LINE_DASH_STYLE.DASH},
    )
    add(
        EXPECTED_BAND,
        series["x"],
        series["cf_low"],
        {"color": "#9A9A9A", "w": 1, "dash": MSO_LINE_DASH_STYLE.SQUARE_DOT},
    )
    add(
        EXPECTED_BAND_HIGH,
        series["x"],
        series["cf_high"],
        {"color": "#9A9A9A", "w": 1, "dash": MSO_LINE_DASH_STYLE.SQUARE_DOT, "no_legend": True},
    )
    if "control" in series and series["control"].notna().any():
        add(
            "Control group",
            series["x"],
            series["control"],
            {"color": charts.CONTROL_COLOR, "w": 1.25, "dash": MSO_LINE_DASH_STYLE.ROUND_DOT},
        )
    if series["threshold"].notna().any():
        # as the app draws it: one flat level in thick grey dots, never a second dashed line
        # beside the counterfactual
        add(
            threshold_legend(effect.threshold_pct or 0.0, effect.points, p.preregistered),
            series["x"],
            series["threshold"],
            {"color": charts.THRESHOLD_COLOR, "w": 3, "dash": MSO_LINE_DASH_STYLE.ROUND_DOT},
        )
    if series["preregistered"].notna().any():
        add(
            preregistered_legend(p.preregistered, effect.points),
            series["x"],
            series["preregistered"],
            {"color": PREREGISTERED_COLOR, "w": 2.25, "dash": MSO_LINE_DASH_STYLE.SQUARE_DOT},
        )
    drawn = ("observed", "counterfactual", "cf_low", "cf_high", "threshold", "preregistered")
    values = pd.concat([series[c] for c in drawn if c in series]).dropna()
    low, high, step = (
        nice_range(float(values.min()), float(values.max())) if len(values) else (0, 1, 0.2)
    )
    if p.go_live is not None:
        x = float((p.go_live - _EXCEL_EPOCH).days)
        add("Go-live", [x, x], [low, high], {"color": "#444444", "w": 2})
    frame = slide.shapes.add_chart(
        XL_CHART_TYPE.XY_SCATTER_LINES_NO_MARKERS, left, top, width, height, data
    )
    frame.name = "Series chart"
    chart = frame.chart
    chart.font.size = Pt(10)
    # the history left out of the drawing, said under the title
    _chart_title(chart, "\n".join(filter(None, (p.series_title, p.history_note))))
    chart.has_legend = True
    chart.legend.position = XL_LEGEND_POSITION.BOTTOM
    chart.legend.include_in_layout = False
    for plot_series, (_, style) in zip(chart.plots[0].series, lines, strict=True):
        plot_series.smooth = False
        line = plot_series.format.line
        line.color.rgb = rgb(style["color"])
        line.width = Pt(style["w"])
        if "dash" in style:
            line.dash_style = style["dash"]
    x_axis = chart.category_axis
    x_axis.minimum_scale = float(series["x"].min())
    x_axis.maximum_scale = float(series["x"].max())
    step, date_format = date_ticks(float(series["x"].max() - series["x"].min()))
    x_axis.major_unit = step
    x_axis.tick_labels.number_format = date_format
    x_axis.tick_labels.number_format_is_linked = False
    x_axis.has_major_gridlines = False
    y_axis = chart.value_axis
    if math.isfinite(step):
        y_axis.minimum_scale, y_axis.maximum_scale = low, high
        y_axis.major_unit = step
    y_axis.has_major_gridlines = True
    y_axis.major_gridlines.format.line.color.rgb = RGBColor(0xE0, 0xE4, 0xE8)
    y_axis.tick_labels.number_format = axis.excel_format(step if math.isfinite(step) else None)
    y_axis.tick_labels.number_format_is_linked = False
    _hide_legend_entries(chart, [i for i, (_, s) in enumerate(lines) if s.get("no_legend")])


#: The longest month in days: date ticks further apart than this always fall in different months.
_LONGEST_MONTH = 31


def date_ticks(span_days: float) -> tuple[float, str]:
    """The date axis's tick step in days and its Excel number format, for a chart `span_days`
    wide: weekly ticks up to 92 days, else whole-month multiples (30.5 days) giving about seven
    ticks. Every label differs: a step within a month ('7', '30.5') labels the day ('d mmm', or
    'd mmm yy' past a quarter), since 'mmm yy' read 'Sep 26' four times over weekly points."""
    if span_days <= 92:
        return 7.0, "d mmm"
    step = max(1.0, math.ceil(span_days / 7 / 30.5) * 30.5)
    return step, "mmm yy" if step > _LONGEST_MONTH else "d mmm yy"


def threshold_legend(threshold: float, is_points: bool, preregistered: float | None) -> str:
    """The threshold's legend entry; 'lowered after the results' when it was."""
    words = threshold_words(threshold, is_points)
    return words if preregistered is None else f"{words}, lowered after the results"


def preregistered_legend(preregistered: float | None, is_points: bool) -> str:
    """The pre-registered threshold's legend entry: 'Pre-registered threshold (25% better)'."""
    words = threshold_words(preregistered or 0.0, is_points)
    return words.replace("Scaling threshold", "Pre-registered threshold", 1)


def mix_chart(slide, p: PilotSection, left, top, width, height) -> None:
    """The apparent change of a mix-shift mirage beside its rate part and its mix part, as
    horizontal bars in % (the app's `charts.mix_split`, native and editable)."""
    parts = p.mix_parts
    data = SafeCategoryChartData(number_format='+0.0"%";-0.0"%"')
    data.categories = [label for label, _, _ in parts]
    data.add_series("Change since go-live (%)", [round(value, 2) for _, value, _ in parts])
    frame = slide.shapes.add_chart(XL_CHART_TYPE.BAR_CLUSTERED, left, top, width, height, data)
    frame.name = "Rate or mix chart"
    chart = frame.chart
    chart.font.size = Pt(9)
    chart.has_legend = False
    _chart_title(chart, p.mix_title)
    plot = chart.plots[0]
    plot.gap_width = 50
    plot.has_data_labels = True
    labels = plot.data_labels
    labels.number_format = '+0.0"%";-0.0"%"'
    labels.number_format_is_linked = False
    labels.font.size = Pt(9)
    for i, (_, _, color) in enumerate(parts):
        fill = plot.series[0].points[i].format.fill
        fill.solid()
        fill.fore_color.rgb = rgb(color)
    category = chart.category_axis
    category.reverse_order = True
    category.tick_label_position = XL_TICK_LABEL_POSITION.LOW
    span = max([abs(v) for _, v, _ in parts] + [1.0]) * 1.3
    low, high, step = nice_range(-span if min(v for _, v, _ in parts) < 0 else 0.0,
                                 span if max(v for _, v, _ in parts) > 0 else 0.0)  # fmt: skip
    axis = chart.value_axis
    if math.isfinite(step):
        axis.minimum_scale, axis.maximum_scale, axis.major_unit = low, high, step
    axis.has_major_gridlines = False
    axis.tick_labels.number_format = '0"%"'
    axis.tick_labels.number_format_is_linked = False


def bridge_chart(slide, p: PilotSection, left, top, width, height) -> None:
    net = p.net_value
    steps = (
        (f"Gross value\n{p.money(net.annual_gross)}", 0.0, net.annual_gross),
        (
            f"Running cost\n{p.money(-net.annual_cost)}",
            net.annual_gross,
            net.annual_gross - net.annual_cost,
        ),
        (f"Net value\n{p.money(net.annual_net)}", 0.0, net.annual_net),
    )
    parts = [waterfall_parts(start, end) for _, start, end in steps]
    data = SafeCategoryChartData(number_format="#,##0")
    data.categories = [label for label, _, _ in steps]
    names = ("base up", "up", "base down", "down")
    for j, name in enumerate(names):
        data.add_series(name, [part[j] for part in parts])
    frame = slide.shapes.add_chart(XL_CHART_TYPE.COLUMN_STACKED, left, top, width, height, data)
    frame.name = "Net value bridge"
    chart = frame.chart
    chart.font.size = Pt(9)
    chart.has_legend = False
    _chart_title(
        chart,
        f"Annualised net value (95% interval {p.money(net.ci_low)} to {p.money(net.ci_high)})",
    )
    plot = chart.plots[0]
    plot.gap_width = 60
    plot.overlap = 100
    colors = [bridge_color(end - start) for _, start, end in steps]
    for j, s in enumerate(plot.series):
        if j in (0, 2):
            s.format.fill.background()
            s.format.line.fill.background()
            continue
        for i, color in enumerate(colors):
            fill = s.points[i].format.fill
            fill.solid()
            fill.fore_color.rgb = rgb(color)
    chart.value_axis.has_major_gridlines = True
    chart.value_axis.major_gridlines.format.line.color.rgb = RGBColor(0xE0, 0xE4, 0xE8)
    chart.value_axis.tick_labels.number_format = money_format(p.currency, net)
    chart.value_axis.tick_labels.number_format_is_linked = False
    chart.category_axis.tick_label_position = XL_TICK_LABEL_POSITION.LOW


def _error_bars(series, plus: Sequence[float], minus: Sequence[float]) -> None:
    """Custom error bars on a bar series: `c:errBars` placed before `c:cat` as the schema asks."""
    c = "http://schemas.openxmlformats.org/drawingml/2006/chart"
    a = "http://schemas.openxmlformats.org/drawingml/2006/main"

    def literal(parent, values: Sequence[float]) -> None:
        lit = etree.SubElement(parent, f"{{{c}}}numLit")
        etree.SubElement(lit, f"{{{c}}}formatCode").text = "General"
        etree.SubElement(lit, f"{{{c}}}ptCount").set("val", str(len(values)))
        for i, value in enumerate(values):
            pt = etree.SubElement(lit, f"{{{c}}}pt")
            pt.set("idx", str(i))
            etree.SubElement(pt, f"{{{c}}}v").text = repr(float(value))

    bars = etree.Element(f"{{{c}}}errBars")
    etree.SubElement(bars, f"{{{c}}}errBarType").set("val", "both")
    etree.SubElement(bars, f"{{{c}}}errValType").set("val", "cust")
    etree.SubElement(bars, f"{{{c}}}noEndCap").set("val", "0")
    literal(etree.SubElement(bars, f"{{{c}}}plus"), plus)
    literal(etree.SubElement(bars, f"{{{c}}}minus"), minus)
    line = etree.SubElement(etree.SubElement(bars, f"{{{c}}}spPr"), f"{{{a}}}ln")
    line.set("w", str(Emu(Pt(1.75))))
    fill = etree.SubElement(line, f"{{{a}}}solidFill")
    etree.SubElement(fill, f"{{{a}}}srgbClr").set("val", "333333")
    ser = series._element
    ser.find(qn("c:cat")).addprevious(bars)


def _hide_legend_entries(chart, indexes: Sequence[int]) -> None:
    if not indexes or not chart.has_legend:
        return
    legend = chart.legend._element
    for index in indexes:
        entry = etree.SubElement(legend, qn("c:legendEntry"))
        etree.SubElement(entry, qn("c:idx")).set("val", str(index))
        etree.SubElement(entry, qn("c:delete")).set("val", "1")
        legend.find(qn("c:legendPos")).addnext(entry)


def _chart_title(chart, text: str) -> None:
    chart.has_title = True
    frame = chart.chart_title.text_frame
    frame.text = clean(text)
    for i, paragraph in enumerate(frame.paragraphs):  # a second line is a quieter note
        paragraph.font.size = Pt(12 if i == 0 else 10)
        paragraph.font.bold = i == 0
