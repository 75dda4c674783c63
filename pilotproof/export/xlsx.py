"""Excel appendix: one tidy sheet per table, native Excel charts, nothing that runs as a formula.

Every string goes through `write_string` (the workbook is opened with
`strings_to_formulas=False` and `strings_to_urls=False`), and text that Excel or a CSV
re-export would read as a formula (leading `=`, `+`, `-`, `@`, tab or carriage return) also
gets Excel's quote-prefix style, so it stays text even when someone edits the cell. The value
itself is kept unchanged, so the appendix still holds exactly what was uploaded.
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable, Sequence
from datetime import date, datetime

import pandas as pd
import xlsxwriter
from xlsxwriter.utility import xl_col_to_name
from xlsxwriter.workbook import Workbook
from xlsxwriter.worksheet import Worksheet

from pilotproof.charts import THRESHOLD_COLOR, value_axis, verdict_color
from pilotproof.export.content import (
    LOG_COLUMNS,
    PLAN_VERSION_COLUMNS,
    Report,
    bridge_color,
    forest_axis,
    humanise,
    is_number,
    money_format,
    threshold_levels,
    waterfall_parts,
)
from pilotproof.plaintext import is_formula_like, shown, visible
from pilotproof.words import (
    CHECK_LABELS,
    DECISION_ACTIONS,
    DIRECTION_LABELS,
    EXPECTED_BAND_HIGH,
    EXPECTED_BAND_LOW,
    EXPECTED_LINE,
)

Progress = Callable[[float, str], None]
CELL_LIMIT = 32_767  # Excel's most characters in one cell


def cell_text(value: object) -> str:
    """Text for a cell: control characters shown as visible codes (line breaks kept), cut
    visibly at Excel's limit instead of silently by the writer."""
    text = visible(value, one_line=False)
    return text if len(text) <= CELL_LIMIT else text[: CELL_LIMIT - 1] + "…"


class _Writer:
    def __init__(self, book: Workbook, footer: str) -> None:
        self.book = book
        self.footer = footer
        self.header = book.add_format({"bold": True, "bg_color": "#E8EEF4", "border": 1})
        self.date = book.add_format({"num_format": "yyyy-mm-dd"})
        self.number = book.add_format({"num_format": "0.00"})
        wrap = {"text_wrap": True, "valign": "top"}
        title = {"bold": True, "font_size": 14}
        self.wrap = book.add_format(wrap)
        self.title = book.add_format(title)
        # the same looks with Excel's quote prefix, for text that would read as a formula
        self._quoted = {
            None: book.add_format({"quote_prefix": True}),
            id(self.wrap): book.add_format({**wrap, "quote_prefix": True}),
            id(self.title): book.add_format({**title, "quote_prefix": True}),
        }

    def sheet(self, name: str) -> Worksheet:
        sheet = self.book.add_worksheet(name)
        sheet.set_footer(self.footer)
        sheet.set_landscape()
        sheet.fit_to_pages(1, 0)
        return sheet

    def cell(self, sheet: Worksheet, row: int, col: int, value: object, fmt=None) -> None:
        if value is None:
            sheet.write_blank(row, col, None, fmt)
        elif isinstance(value, bool):
            sheet.write_boolean(row, col, value, fmt)
        elif isinstance(value, int | float):
            if math.isfinite(value):
                sheet.write_number(row, col, value, fmt or self.number)
            else:
                sheet.write_blank(row, col, None, fmt)
        elif isinstance(value, pd.Timestamp | datetime | date):
            if pd.isna(value):
                sheet.write_blank(row, col, None, fmt)
            else:
                sheet.write_datetime(row, col, pd.Timestamp(value).to_pydatetime(), self.date)
        else:
            text = cell_text(value)
            if is_formula_like(text):
                fmt = self._quoted[None if fmt is None else id(fmt)]
            sheet.write_string(row, col, text, fmt)

    def table(
        self, name: str, columns: Sequence[str], rows: Sequence[Sequence[object]]
    ) -> Worksheet:
        """A tidy sheet: one header row, one record per row, filters and frozen header."""
        sheet = self.sheet(name)
        for col, header in enumerate(columns):
            sheet.write_string(0, col, header, self.header)
        for r, values in enumerate(rows, start=1):
            for col, value in enumerate(values):
                self.cell(sheet, r, col, _plain(value))
        sheet.freeze_panes(1, 0)
        sheet.autofilter(0, 0, max(len(rows), 1), len(columns) - 1)
        for col, header in enumerate(columns):
            sheet.set_column(col, col, max(10, min(48, len(header) + 4)))
        return sheet

    def frame(self, name: str, frame: pd.DataFrame, progress: Progress | None = None) -> Worksheet:
        """A DataFrame as a tidy sheet, written row by row (the workbook streams rows to disk).

        Each column's cells are prepared once: dates as datetimes, numbers as floats, and text
        checked for formula triggers once per distinct value.
        """
        sheet = self.sheet(name)
        columns = [self._column(frame[c]) for c in frame.columns]
        for col, header in enumerate(frame.columns):
            sheet.write_string(0, col, str(header), self.header)
            sheet.set_column(col, col, 14)
        every = max(1, len(frame) // 20)
        for r in range(len(frame)):
            for col, (write, values, fmt) in enumerate(columns):
                value = values[r]
                if value is not None:
                    write(sheet, r + 1, col, value, fmt)
            if progress is not None and r % every == 0:
                progress(r / len(frame), f"Underlying data: row {r:,} of {len(frame):,}")
        sheet.freeze_panes(1, 0)
        if len(frame.columns):
            sheet.autofilter(0, 0, max(len(frame), 1), len(frame.columns) - 1)
        return sheet

    def _column(self, values: pd.Series) -> tuple[Callable, list, object]:
        """(writer, cell values with None for blanks, format) for one column."""
        if pd.api.types.is_datetime64_any_dtype(values):
            cells = [None if pd.isna(v) else v.to_pydatetime() for v in values]
            return Worksheet.write_datetime, cells, self.date
        if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
            cells = [v if math.isfinite(v) else None for v in values.to_numpy(dtype=float)]
            return Worksheet.write_number, cells, None
        shown: dict[object, str] = {}  # each distinct value made cell text once
        texts = [
            None if (t := _plain(v)) is None else shown.get(t) or shown.setdefault(t, cell_text(t))
            for v in values
        ]
        formats = {
            t: self._quoted[None] for t in set(texts) if isinstance(t, str) and is_formula_like(t)
        }
        cells = [None if t is None or t == "" else str(t) for t in texts]  # "" stays blank

        def write(sheet: Worksheet, row: int, col: int, text: str, fmt: object) -> None:
            sheet.write_string(row, col, text, formats.get(text))

        return write, cells, None


def render(report: Report, progress: Progress | None = None) -> bytes:
    """The report as an .xlsx workbook, returned as bytes."""
    step = progress or (lambda fraction, text: None)
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(
        buffer,
        {
            # rows stream to temporary files: a 150-pilot portfolio's underlying data would
            # otherwise hold ~2 GB of cell objects in memory
            "constant_memory": True,
            "strings_to_formulas": False,
            "strings_to_urls": False,
            "strings_to_numbers": False,
            "nan_inf_to_errors": False,
        },
    )
    book.set_properties(
        {"title": report.title, "comments": report.footer.text, "author": "pilotproof"}
    )
    writer = _Writer(book, _excel_footer(report))
    step(0.05, "Summary")
    board = _board_sheet(writer, report)
    _summary_sheet(writer, report)
    step(0.15, "Estimates")
    writer.table("Estimates", ESTIMATE_COLUMNS, _estimate_rows(report))
    step(0.25, "Checks")
    writer.table("Checks", CHECK_COLUMNS, _check_rows(report))
    step(0.3, "Decisions")
    writer.table("Decisions", DECISION_COLUMNS, _decision_rows(report))
    step(0.35, "Readiness")
    writer.table("Readiness", READINESS_COLUMNS, _readiness_rows(report))
    writer.table(
        "Success plans",
        PLAN_VERSION_COLUMNS,
        [list(r) for p in report.pilots for r in p.plan_versions],
    )
    writer.table(
        "Decision log", LOG_COLUMNS, [list(r) for p in report.pilots for r in p.decision_log]
    )
    step(0.4, "Series")
    spans = _series_sheet(writer, report)
    step(0.55, "Charts")
    _chart_sheet(writer, report, spans)
    step(0.65, "Underlying data")
    data_progress = (lambda f, text: step(0.65 + 0.3 * f, text)) if progress else None
    writer.frame("Data", report.observations.reset_index(drop=True), data_progress)
    _about_sheet(writer, report)
    board.activate()
    step(0.95, "Saving workbook")
    book.close()
    step(1.0, "Done")
    return buffer.getvalue()


BOARD_COLUMNS = ("Decision", "Pilot", "Why", "Value a year", "Criteria", "Decision logged")
BOARD_WIDTHS = (20, 34, 70, 40, 40, 40)


def _board_sheet(writer: _Writer, report: Report) -> Worksheet:
    """The sheet a board member opens first: every pilot in words, grouped scale, fix, extend,
    stop, with the deck's own cells (decision, pilot, action title, value by the app's rule),
    the plan's status and any decision logged against pilotproof's. The tidy sheets after it
    keep the codes and full-precision numbers for re-checking."""
    rows = [
        [
            p.decision_label,
            p.label,
            p.action_title,
            p.net_text,
            p.plan_warning or p.plan_status,
            p.override,
        ]
        for _, members in report.decision_groups
        for p in members
    ]
    sheet = writer.sheet("Board summary")
    for col, header in enumerate(BOARD_COLUMNS):
        sheet.write_string(0, col, header, writer.header)
        sheet.set_column(col, col, BOARD_WIDTHS[col])
    for r, values in enumerate(rows, start=1):
        for col, value in enumerate(values):
            writer.cell(sheet, r, col, value or None, writer.wrap)
    sheet.freeze_panes(1, 0)
    return sheet


# beside pilotproof's recommendation (`decision`): the decision logged, by whom and when, as
# the deck and the app count the pilot under it (`standing_decision`)
LOGGED_COLUMNS = ("decision_logged", "logged_by", "logged_on")


def _logged_cells(p) -> list[object]:
    """The `LOGGED_COLUMNS` of a pilot: blank when no decision is logged."""
    last = p.logged
    if last is None:
        return [None, None, None]
    return [last.decision, shown(last.decided_by), last.decided_at]


NOISE_COLUMNS = (
    "annual_gross_ci_low",
    "annual_gross_ci_high",
    "value_within_noise",
    "net_value_words",
)


def _noise_cells(p) -> list[object]:
    """The `NOISE_COLUMNS` of a pilot: numbers stay numbers, the flag and the words say whether
    its net value is booked as money, as the deck words it (`totals.net_value_words`)."""
    gross = p.gross_interval
    return [
        gross[0] if gross else None,
        gross[1] if gross else None,
        p.within_noise,
        p.net_text,
    ]


SUMMARY_COLUMNS = (
    "pilot_id",
    "pilot_name",
    "company",
    "function",
    "vendor",
    "decision",
    *LOGGED_COLUMNS,
    "action_title",
    "reasons",
    "headline_metric",
    "verdict",
    "effect_pct",
    "ci_low_pct",
    "ci_high_pct",
    "improvement_pct",
    "improvement_minus",
    "improvement_plus",
    "threshold_pct",
    "annual_net_value",
    "annual_net_ci_low",
    "annual_net_ci_high",
    # the one money rule of the deck and the app (`totals.net_value_words`): the gross value's
    # 95% interval beside the running cost; a value within noise is not booked as the net above
    "annual_cost",
    *NOISE_COLUMNS,
    # issue 11: a fraction's headline in percentage points (its threshold too)
    "scale",
    "effect_points",
    "ci_low_points",
    "ci_high_points",
    "threshold_points",
    # issue 13: the currency the money columns are in (empty: not set)
    "currency",
)


def _summary_sheet(writer: _Writer, report: Report) -> Worksheet:
    rows = []
    for p in report.pilots:
        h = p.headline
        improvement = h.improvement_pct if h is not None else None
        low, high = _improvement_bounds(h)
        net = p.net_value
        rows.append(
            [
                p.pilot_id,
                p.name,
                p.company,
                p.function,
                p.vendor,
                p.recommended or p.decision,  # pilotproof's, as `analyze`'s JSON has it
                *_logged_cells(p),
                p.action_title,
                ", ".join(p.reasons),
                h.metric if h else None,
                h.verdict if h else None,
                h.effect_pct if h else None,
                h.ci_low_pct if h else None,
                h.ci_high_pct if h else None,
                improvement,
                improvement - low if is_number(improvement) and is_number(low) else None,
                high - improvement if is_number(improvement) and is_number(high) else None,
                h.threshold_pct if h and not h.points else None,
                net.annual_net if net else None,
                net.ci_low if net else None,
                net.ci_high if net else None,
                net.annual_cost if net else None,
                *_noise_cells(p),
                h.scale if h else None,
                h.effect_points if h else None,
                h.ci_low_points if h else None,
                h.ci_high_points if h else None,
                h.threshold_pct if h and h.points else None,
                p.currency,
            ]
        )
    sheet = writer.table("Summary", SUMMARY_COLUMNS, rows)
    title_col = SUMMARY_COLUMNS.index("action_title")
    sheet.set_column(title_col, title_col, 70)
    n = len(rows)
    at = {name: i for i, name in enumerate(SUMMARY_COLUMNS)}
    improvement = at["improvement_pct"]
    if n and any(is_number(r[improvement]) for r in rows):
        chart = writer.book.add_chart({"type": "bar"})
        heads = [p.headline for p in report.pilots]
        points = [
            {"fill": {"color": verdict_color(h.verdict, h.kind)}} if h is not None else None
            for h in heads
        ]
        chart.add_series(
            {
                "name": "Improvement against expected without the pilot (%)",
                "categories": ["Summary", 1, at["pilot_name"], n, at["pilot_name"]],
                "values": ["Summary", 1, improvement, n, improvement],
                "points": points,
                "y_error_bars": {
                    "type": "custom",
                    "plus_values": _column_range("Summary", at["improvement_plus"], n),
                    "minus_values": _column_range("Summary", at["improvement_minus"], n),
                    "end_style": 1,
                },
                "data_labels": {"value": True, "num_format": "0.0"},
                "overlap": 100,
            }
        )
        if any(is_number(r[at["threshold_pct"]]) for r in rows):
            # each scaling threshold as a dashed outline over its bar (a bullet chart)
            chart.add_series(
                {
                    "name": "Scaling threshold (dashed outline)",
                    "categories": ["Summary", 1, at["pilot_name"], n, at["pilot_name"]],
                    "values": ["Summary", 1, at["threshold_pct"], n, at["threshold_pct"]],
                    "fill": {"none": True},
                    "border": {"color": "#333333", "dash_type": "dash", "width": 1.5},
                }
            )
        chart.set_title(
            {"name": "Headline metric: improvement with 95% interval (right is better)"}
        )
        # from zero, wide enough for every interval and threshold (content.forest_axis)
        ends = []
        for r in (r for r in rows if is_number(r[improvement])):
            ends += [
                r[improvement] - (r[at["improvement_minus"]] or 0.0),
                r[improvement] + (r[at["improvement_plus"]] or 0.0),
            ]
            ends += [r[at["threshold_pct"]]] if is_number(r[at["threshold_pct"]]) else []
        low, high, step = forest_axis(ends)
        chart.set_x_axis(
            {
                "name": "Improvement (%)",
                "major_gridlines": {"visible": True},
                "min": low,
                "max": high,
                "major_unit": step,
            }
        )
        chart.set_y_axis({"reverse": True})
        chart.set_legend({"position": "bottom", "delete_series": [0]})
        chart.set_size({"width": 760, "height": max(300, 60 + 40 * n)})
        sheet.insert_chart(n + 3, 1, chart)
    return sheet


ESTIMATE_COLUMNS = (
    "pilot_id",
    "pilot_name",
    "metric",
    "unit",
    "kind",
    "direction",
    "verdict",
    "verdict_label",
    "method",
    "n_pre",
    "n_post",
    "effect_pct",
    "ci_low_pct",
    "ci_high_pct",
    "effect_abs",
    "ci_low_abs",
    "ci_high_abs",
    "baseline",
    "mde_pct",
    "threshold_pct",
    "tolerance_pct",
    "reasons",
    "note",
    "scale",
    "effect_points",
    "ci_low_points",
    "ci_high_points",
)


def _estimate_rows(report: Report) -> list[list[object]]:
    rows = []
    for p in report.pilots:
        for e in p.effects:
            rows.append(
                [
                    p.pilot_id,
                    p.name,
                    e.metric,
                    e.unit,
                    e.kind,
                    DIRECTION_LABELS.get(e.direction, e.direction),
                    e.verdict,
                    e.verdict_label,
                    e.method,
                    e.n_pre,
                    e.n_post,
                    e.effect_pct,
                    e.ci_low_pct,
                    e.ci_high_pct,
                    e.effect_abs,
                    e.ci_low_abs,
                    e.ci_high_abs,
                    e.baseline,
                    e.mde_pct,
                    e.threshold_pct,
                    e.tolerance_pct,
                    ", ".join(e.reasons),
                    e.note,
                    e.scale,
                    e.effect_points,
                    e.ci_low_points,
                    e.ci_high_points,
                ]
            )
    return rows


CHECK_COLUMNS = (
    "pilot_id",
    "pilot_name",
    "metric",
    "check",
    "check_label",
    "applicable",
    "passed",
    "outcome",
    "statistic",
    "p_value",
    "explanation",
)


def _check_rows(report: Report) -> list[list[object]]:
    return [
        [
            p.pilot_id,
            p.name,
            c.metric,
            c.check,
            CHECK_LABELS.get(c.check, humanise(c.check)),
            c.applicable,
            c.passed,
            c.outcome,
            c.statistic,
            c.p_value,
            c.explanation,
        ]
        for p in report.pilots
        for c in p.checks
    ]


DECISION_COLUMNS = (
    "pilot_id",
    "pilot_name",
    "decision",
    "decision_label",
    *LOGGED_COLUMNS,
    "reasons",
    "value_metrics",
    "readiness_missing",
    "action_title",
    "monthly_cost",
    "annual_volume",
    "net_value_metric",
    "annual_gross",
    "annual_cost",
    "annual_net",
    "annual_net_ci_low",
    "annual_net_ci_high",
    *NOISE_COLUMNS,
    "currency",
)


def _decision_rows(report: Report) -> list[list[object]]:
    rows = []
    for p in report.pilots:
        net = p.net_value
        rows.append(
            [
                p.pilot_id,
                p.name,
                p.recommended or p.decision,  # pilotproof's, as `analyze`'s JSON has it
                DECISION_ACTIONS.get(p.recommended or p.decision, p.decision),
                *_logged_cells(p),
                ", ".join(p.reasons),
                ", ".join(p.value_metrics),
                ", ".join(p.readiness_missing),
                p.action_title,
                p.monthly_cost,
                p.annual_volume,
                net.metric if net else None,
                net.annual_gross if net else None,
                net.annual_cost if net else None,
                net.annual_net if net else None,
                net.ci_low if net else None,
                net.ci_high if net else None,
                *_noise_cells(p),
                p.currency,
            ]
        )
    return rows


READINESS_COLUMNS = ("pilot_id", "pilot_name", "field", "question", "answer", "gap")


def _readiness_rows(report: Report) -> list[list[object]]:
    return [
        [p.pilot_id, p.name, r.field, r.label, r.answer, r.gap]
        for p in report.pilots
        for r in p.readiness
    ]


SERIES_COLUMNS = (
    "pilot_id",
    "metric",
    "date",
    "observed",
    "counterfactual",
    "cf_low",
    "cf_high",
    "control",
    "threshold_level",
)


def _series_sheet(writer: _Writer, report: Report) -> dict[str, tuple[int, int]]:
    """Each pilot's headline series, stacked; returns the first and last row of each pilot."""
    rows: list[list[object]] = []
    spans: dict[str, tuple[int, int]] = {}
    for p in report.pilots:
        h = p.headline
        if h is None or h.series is None or h.series.empty:
            continue
        levels = threshold_levels(h, p.go_live)
        level = [None] * len(h.series) if levels is None else levels.tolist()
        first = len(rows) + 1
        for i, record in enumerate(h.series.to_dict("records")):
            rows.append(
                [
                    p.pilot_id,
                    h.metric,
                    record.get("date"),
                    record.get("observed"),
                    record.get("counterfactual"),
                    record.get("cf_low"),
                    record.get("cf_high"),
                    record.get("control"),
                    level[i],
                ]
            )
        spans[p.pilot_id] = (first, len(rows))
    writer.table("Series", SERIES_COLUMNS, rows)
    return spans


def _chart_sheet(writer: _Writer, report: Report, spans: dict[str, tuple[int, int]]) -> None:
    sheet = writer.sheet("Charts")
    sheet.write_string(0, 0, "Native Excel charts; the data behind them are on the Series sheet.")
    row = 2
    for p in report.pilots:
        writer.cell(sheet, row, 0, p.action_title, writer.title)
        if p.pilot_id in spans and p.headline is not None:
            first, last = spans[p.pilot_id]
            # the chart's title is read from a cell: xlsxwriter takes any title string of the
            # form "text!A1" for a cell reference, so a name like "Ops!AB12" would break the
            # workbook and "=cmd|' /C calc'!A0" would become a live <c:f> reference
            writer.cell(sheet, row, TITLE_COL, f"{p.name}: {humanise(p.headline.metric)}")
            chart = _series_chart(writer.book, p, first, last, ["Charts", row, TITLE_COL])
            sheet.insert_chart(row + 1, 0, chart)
        if p.value_booked:  # a value within noise is its interval, never a bar of money
            sheet.insert_chart(row + 1, 11, _bridge_chart(writer, sheet, p, row + 1))
        row += 22


TITLE_COL = 26  # beyond the bridge chart's data (columns 20-24)


def _series_chart(book: Workbook, pilot, first: int, last: int, title_cell: list):
    chart = book.add_chart({"type": "line"})
    dates = ["Series", first, 2, last, 2]
    styles = (
        (3, "Observed", {"color": "#0072B2", "width": 2}),
        (4, EXPECTED_LINE, {"color": "#6B6B6B", "dash_type": "dash"}),
        (5, EXPECTED_BAND_LOW, {"color": "#AAAAAA", "width": 0.75}),
        (6, EXPECTED_BAND_HIGH, {"color": "#AAAAAA", "width": 0.75}),
        # as the app and the deck draw it: thick grey dots, unlike the dashed counterfactual
        (
            8,
            "Scaling threshold",
            {"color": THRESHOLD_COLOR, "dash_type": "round_dot", "width": 2.5},
        ),
    )
    for col, name, line in styles:
        chart.add_series(
            {
                "name": name,
                "categories": dates,
                "values": ["Series", first, col, last, col],
                "line": line,
            }
        )
    h = pilot.headline
    chart.set_title({"name": title_cell})
    go_live = f" (go-live {pilot.go_live:%Y-%m-%d})" if pilot.go_live is not None else ""
    chart.set_x_axis({"date_axis": True, "num_format": "mmm yy", "name": "Date" + go_live})
    axis = value_axis(pilot.units.get(h.metric, ""), h.scale)
    y_axis = {"name": _literal(humanise(h.metric))}
    if axis.percent:  # a fraction's ticks as percentages; Excel picks the step
        y_axis["num_format"] = axis.excel_format()
    chart.set_y_axis(y_axis)
    chart.set_legend({"position": "bottom"})
    chart.show_blanks_as("gap")
    chart.set_size({"width": 720, "height": 380})
    return chart


def _bridge_chart(writer: _Writer, sheet: Worksheet, pilot, row: int):
    """Waterfall as stacked columns: an invisible base and the visible step."""
    net = pilot.net_value
    steps = (
        ("Gross value", 0.0, net.annual_gross),
        ("Running cost", net.annual_gross, net.annual_gross - net.annual_cost),
        ("Net value", 0.0, net.annual_net),
    )
    col = 20
    for r, header in enumerate(("step", "base_up", "up", "base_down", "down")):
        sheet.write_string(row, col + r, header, writer.header)
    for i, (label, start, end) in enumerate(steps, start=1):
        parts = waterfall_parts(start, end)
        sheet.write_string(row + i, col, label)
        for j, value in enumerate(parts, start=1):
            sheet.write_number(row + i, col + j, value)
    chart = writer.book.add_chart({"type": "column", "subtype": "stacked"})
    colors = [bridge_color(end - start) for _, start, end in steps]  # what takes value: 'worse'
    for j, drawn in ((1, False), (2, True), (3, False), (4, True)):
        chart.add_series(
            {
                "name": ["Charts", row, col + j],
                "categories": ["Charts", row + 1, col, row + 3, col],
                "values": ["Charts", row + 1, col + j, row + 3, col + j],
                "fill": {"none": True} if not drawn else {"color": "#0072B2"},
                "border": {"none": True},
                "points": [{"fill": {"color": c}} for c in colors] if drawn else None,
            }
        )
    chart.set_title({"name": "Annualised net value bridge"})
    chart.set_legend({"none": True})
    axis = money_format(pilot.currency, net)  # in the pilot's currency, as the labels say it
    chart.set_y_axis({"num_format": axis, "major_gridlines": {"visible": True}})
    chart.set_size({"width": 480, "height": 380})
    return chart


def _about_sheet(writer: _Writer, report: Report) -> None:
    sheet = writer.sheet("About")
    f = report.footer
    rows = (
        ("Report", report.title),
        ("Data as of", f.data_as_of),
        ("Pilots and filters", f.scope),
        ("Method", f.method),
        ("App version", f"pilotproof {f.version}"),
        ("Data hash (sha256)", f.data_hash),
        ("Generated", f.generated_at),
        ("Footer", f.text),
    )
    for r, (label, value) in enumerate(rows):
        sheet.write_string(r, 0, label, writer.header)
        writer.cell(sheet, r, 1, value, writer.wrap)
    sheet.set_column(0, 0, 22)
    sheet.set_column(1, 1, 110)


def _excel_footer(report: Report) -> str:
    """Excel print footer, limited to 255 characters; `&` is a control character there."""
    f = report.footer
    text = (
        f"Data as of {f.data_as_of} | {f.scope} | pilotproof {f.version} | "
        f"data sha256 {f.data_hash}"
    ).replace("&", "&&")
    right = "&RPage &P of &N"
    room = 255 - len(right) - 2
    if len(text) > room:
        text = text[: room - 3] + "..."
    return "&L" + text + right


def _literal(text: str) -> str:
    """Axis names are not read from cells in xlsxwriter; one that reads as a reference
    ("x!A1") gets a zero-width joiner after its "!", which keeps it literal."""
    return text.replace("!", "!\u2060")


def _column_range(sheet: str, col: int, n: int) -> str:
    letter = xl_col_to_name(col)
    return f"={sheet}!${letter}$2:${letter}${n + 1}"


def _improvement_bounds(effect) -> tuple[float | None, float | None]:
    if effect is None or not (is_number(effect.ci_low_pct) and is_number(effect.ci_high_pct)):
        return None, None
    flip = effect.sign
    low, high = sorted((flip * effect.ci_low_pct, flip * effect.ci_high_pct))
    return low, high


def _plain(value: object) -> object:
    """numpy scalars and NaN to plain Python values the cell writer understands."""
    if value is None:
        return None
    if isinstance(value, pd.Timestamp):
        return value
    if hasattr(value, "item") and not isinstance(value, str):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    return value
