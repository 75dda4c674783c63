"""Validation of staged rows: set-based SQL over `stage_obs` / `stage_pilots`, one query per
kind of problem, each problem kept with its record number and turned into a line at the end.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, NamedTuple, TypeVar

import duckdb

from .catalog import DIRECTIONS, RATE_UNITS
from .errors import Problem, clip, counted
from .formats import (
    MONTH_YEAR_RE,
    OFFSET_RE,
    SLASH_DATE_RE,
    ambiguous_mark,
    ambiguous_number_message,
    ambiguous_number_sql,
    formatted_hint,
    is_month_year,
    is_slash_date,
    missing_sql,
    outside_dates_sql,
)
from .reading import PILOT_TEXT, Layout, Source, record_lines, sheet_lines
from .sql import one_row, scalar

#: Problems kept in a report; the total is always counted.
MAX_PROBLEMS = 200

Row = TypeVar("Row")


_DATE_SHAPE = re.compile(
    r"^\s*(\d{4}-\d{1,2}-\d{1,2}|\d{1,2}\.\d{1,2}\.\d{4}( \d{1,2}:\d{2}(:\d{2})?)?|\d{4}-\d{1,2}|"
    r"\d{1,2}[/-]\d{1,2}[/-](\d{4}|\d{2})([ T].*)?)\s*$"
)


@dataclass
class Finding:
    """A problem found in staged rows, before its record number is turned into a line."""

    file_no: int
    rn: int
    column: str
    message: str


@dataclass
class CatalogEntry:
    direction: str
    unit: str
    can_be_negative: bool


def check(
    cur: duckdb.DuckDBPyConnection,
    sources: list[Source],
    layouts: list[Layout],
    catalog: dict[str, CatalogEntry],
    go_live_known: set[str] | None,
    declared: Mapping[str, str] | None = None,
) -> tuple[list[Problem], int, dict[str, str]]:
    """Validate the staged batch. Returns (problems capped at MAX_PROBLEMS, total count, new
    metrics with their directions). `go_live_known=None` skips the go-live check; `declared`
    holds metrics the upload adds to the catalog (metric -> direction).

    Row checks come first and give each row its first problem only; the derived checks (signs,
    rates, the catalog, duplicates, go-live) then run on the rows no row check refused, so an
    unreadable date never also makes a false duplicate."""
    findings: list[Finding] = []
    total = 0
    total += _row_checks(cur, layouts, findings)
    total += pilot_row_checks(cur, layouts, findings)
    new_metrics, n = _metric_checks(cur, layouts, catalog, findings, declared or {})
    total += n
    total += _conflict_checks(cur, layouts, findings)
    if go_live_known is not None:
        total += _go_live_checks(cur, layouts, go_live_known, findings)
    cur.execute("DROP TABLE IF EXISTS refused")
    seen: set[tuple[int, int]] = set()
    first: list[Finding] = []
    for f in sorted(findings, key=lambda f: (f.file_no, f.rn)):  # stable: check order kept
        if (f.file_no, f.rn) not in seen:
            seen.add((f.file_no, f.rn))
            first.append(f)
    kept = first[:MAX_PROBLEMS]
    total = max(total - (len(findings) - len(first)), len(first))
    return to_problems(sources, layouts, kept), total, new_metrics


def _shown_column(layout: Layout, column: str, metric: str | None) -> str:
    """The column a problem is named in: a wide file's value sits in the metric's own column."""
    return _value_column(layout, metric) if column == "value" else layout.shown(column)


def _value_column(layout: Layout, metric: str | None) -> str:
    if layout.kind == "wide" and metric is not None:
        for pos, name in layout.metric_columns:
            if name == metric:
                return layout.header[pos]
    return layout.shown("value")


class _StagedRow(NamedTuple):
    """A refused metrics row as `_row_checks` reads it back."""

    file_no: int
    rn: int
    problem: int
    metric: str | None
    date_raw: str | None
    group_raw: str | None
    value_raw: str | None
    volume_raw: str | None
    direction: str | None
    value: float | None


class _PilotRow(NamedTuple):
    """A refused pilots-file row as `pilot_row_checks` reads it back."""

    file_no: int
    rn: int
    go_live_raw: str | None
    monthly_cost_raw: str | None
    annual_volume_raw: str | None


@dataclass(frozen=True)
class RowCheck(Generic[Row]):
    """One check of a staged row: the column it is about, the SQL condition that is true when
    the row fails it, and the message that names the problem (from the row and its file's
    layout)."""

    column: str
    condition: str
    message: Callable[[Row, Layout], str]


def _given_but_not_a_count(name: str) -> str:
    """SQL: `name` was given in the file (not empty, not `NA`) but is no finite, non-negative
    number."""
    return (
        f"NOT {missing_sql(name + '_raw')} AND "
        f"({name} IS NULL OR isnan({name}) OR isinf({name}) OR {name} < 0)"
    )


#: Row checks, in the order a row's problems are looked for; the first that fails is reported.
_ROW_CHECKS: tuple[RowCheck[_StagedRow], ...] = (
    RowCheck("pilot_id", "pilot_id IS NULL", lambda r, _: "missing pilot_id"),
    RowCheck("metric", "metric IS NULL", lambda r, _: "missing metric name"),
    RowCheck(
        "date",
        f"date IS NULL OR {outside_dates_sql('date')}",
        lambda r, _: _date_message(r.date_raw),
    ),
    RowCheck(
        "group",
        "\"group\" NOT IN ('treatment', 'control')",
        lambda r, _: f"group '{clip(r.group_raw)}' must be 'treatment' or 'control'",
    ),
    RowCheck(
        "value",
        "value IS NULL OR isnan(value) OR isinf(value)",
        lambda r, lay: _number_message(r.value_raw, r.value, undecided=lay.undecided_marks),
    ),
    RowCheck(
        "volume",
        _given_but_not_a_count("volume"),
        lambda r, lay: _number_message(
            r.volume_raw, None, "volume", True, undecided=lay.undecided_marks
        ),
    ),
    RowCheck(
        "direction",
        "direction IS NOT NULL AND direction NOT IN ('lower_is_better', 'higher_is_better')",
        lambda r, _: (
            f"direction '{clip(r.direction)}' must be 'lower_is_better' or 'higher_is_better'"
        ),
    ),
)
_DATE_CHECK = [c.column for c in _ROW_CHECKS].index("date")
_VALUE_CHECK = [c.column for c in _ROW_CHECKS].index("value")
#: A value left unread because its column does not decide the decimal mark
#: (`ingest.resolve_decimal_marks`): the one way a number of that shape stays NULL.
_UNREAD_MARK = (
    f"problem = {_VALUE_CHECK} AND value IS NULL AND ("
    f"{ambiguous_number_sql('value_raw', '.')} OR {ambiguous_number_sql('value_raw', ',')})"
)

#: Staged rows no row check refused: what the derived checks look at.
_OK_ROWS = "(SELECT * FROM stage_obs ANTI JOIN refused USING (file_no, rn))"


def _row_checks(cur: duckdb.DuckDBPyConnection, layouts: list[Layout], out: list[Finding]) -> int:
    """Each file row's first problem (a wide row is several staged values: still one problem),
    kept in the temp table `refused`. Slash dates that nothing in their file decides (day or
    month first?) are one problem per file, at the first such row; numbers whose column does
    not decide the decimal mark, one per column (`repeat`: a later row of such a column)."""
    first_failing = " ".join(f"WHEN {c.condition} THEN {i}" for i, c in enumerate(_ROW_CHECKS))
    ambiguous = f"regexp_full_match(trim(date_raw), '{SLASH_DATE_RE}|{MONTH_YEAR_RE}')"
    cur.execute(
        "CREATE OR REPLACE TEMP TABLE refused AS SELECT * EXCLUDE (unread_mark, pos), "
        "unread_mark AND row_number() OVER (PARTITION BY file_no, pos, unread_mark ORDER BY rn) "
        "> 1 AS repeat FROM (SELECT file_no, rn, pos, problem, metric, date_raw, "
        f"group_raw, value_raw, volume_raw, direction, value, problem = {_DATE_CHECK} AND "
        f"{ambiguous} AS ambiguous, {_UNREAD_MARK} AS unread_mark "
        f"FROM (SELECT *, CASE {first_failing} END AS problem "
        "FROM stage_obs) WHERE problem IS NOT NULL "
        "QUALIFY row_number() OVER (PARTITION BY file_no, rn ORDER BY problem, pos) = 1)"
    )
    total = 0
    ambiguous_files = cur.execute(
        "SELECT file_no, min(rn), count(*) FROM refused WHERE ambiguous GROUP BY file_no"
    ).fetchall()
    skip = []
    for file_no, rn, _ in ambiguous_files:
        raw = scalar(
            cur,
            "SELECT date_raw FROM refused WHERE file_no = $f AND rn = $rn",
            {"f": file_no, "rn": rn},
        )
        message = _undecided_date_message(raw, layouts[file_no])
        if message:
            total += 1
            skip.append(file_no)
            out.append(Finding(file_no, rn, layouts[file_no].shown("date"), message))
    total += int(
        scalar(
            cur,
            "SELECT count(*) FROM refused "
            "WHERE NOT (ambiguous AND list_contains($skip, file_no)) AND NOT repeat",
            {"skip": skip},
        )
    )
    rows = cur.execute(
        "SELECT file_no, rn, problem, metric, date_raw, group_raw, value_raw, volume_raw, "
        "direction, value FROM refused WHERE NOT (ambiguous AND list_contains($skip, file_no)) "
        "AND NOT repeat ORDER BY file_no, rn LIMIT $cap",
        {"skip": skip, "cap": MAX_PROBLEMS},
    ).fetchall()
    for row in map(_StagedRow._make, rows):
        layout = layouts[row.file_no]
        failed = _ROW_CHECKS[row.problem]
        shown = _shown_column(layout, failed.column, row.metric)
        out.append(Finding(row.file_no, row.rn, shown, failed.message(row, layout)))
    return total


def _undecided_date_message(raw: str, layout: Layout) -> str | None:
    """Why a date whose reading its column decides (`06/01/2025`, `Jan-05`) was not read,
    once for the file; None when the column did decide it (the date is then wrong itself)."""
    years = layout.month_years
    if is_month_year(raw) and years is not None and not years.months:
        return years.reason
    if is_slash_date(raw) and layout.date_order is None:
        return _order_message(raw, layout.date_orders_mixed)
    return None


def _order_message(raw: str, mixed: bool = False) -> str:
    if mixed:
        return (
            f"'{clip(raw)}': this file writes some dates day first and others month first "
            "(fields above 12 in both places): export the dates as YYYY-MM-DD"
        )
    return (
        f"'{clip(raw)}' could be day first or month first, and no date in this file has a day "
        "above 12 to decide it: choose the date order in the column mapping (month first, as "
        "US exports write, or day first), or pass --date-order month-first (or day-first)"
    )


def _date_message(raw: str | None) -> str:
    if raw is None or not raw.strip():
        return "missing date"
    if _DATE_SHAPE.match(raw):
        return f"impossible date '{clip(raw)}'"
    return (
        f"'{clip(raw)}' is not a date (use YYYY-MM-DD, YYYY-MM, YYYY-Qn, YYYY, DD.MM.YYYY or "
        "MM/DD/YYYY with the date order chosen in the column mapping)"
    )


def _number_message(
    raw: str | None,
    value: float | None,
    what: str = "value",
    non_negative: bool = False,
    undecided: frozenset[str] = frozenset(),
) -> str:
    if raw is None or not raw.strip():
        return f"missing {what}"
    if value is None and ambiguous_mark(raw) in undecided:
        return ambiguous_number_message(raw)
    number = value
    if number is None:
        try:
            number = float(raw.strip().replace(",", "."))
        except ValueError:
            return f"'{clip(raw)}' is not a number{formatted_hint(raw)}"
    if number != number or number in (float("inf"), float("-inf")):
        return f"{what} '{clip(raw)}' is not a finite number (NaN/inf are not allowed)"
    if non_negative and number < 0:
        return f"{what} {clip(raw)} is negative"
    return f"'{clip(raw)}' is not a number{formatted_hint(raw)}"


def _go_live_message(row: _PilotRow, layout: Layout) -> str:
    raw = row.go_live_raw
    if not raw:
        return "missing go-live date"
    return _undecided_date_message(raw, layout) or _date_message(raw).replace(
        "date", "go-live date", 1
    )


#: Checks of a pilots-file row; each failing check is one problem.
_PILOT_ROW_CHECKS: tuple[RowCheck[_PilotRow], ...] = (
    RowCheck("pilot_id", "pilot_id IS NULL", lambda r, _: "missing pilot_id"),
    RowCheck("go_live", f"go_live IS NULL OR {outside_dates_sql('go_live')}", _go_live_message),
    RowCheck(
        "monthly_cost",
        _given_but_not_a_count("monthly_cost"),
        lambda r, lay: _number_message(
            r.monthly_cost_raw, None, "monthly_cost", True, undecided=lay.undecided_marks
        ),
    ),
    RowCheck(
        "annual_volume",
        _given_but_not_a_count("annual_volume"),
        lambda r, lay: _number_message(
            r.annual_volume_raw, None, "annual_volume", True, undecided=lay.undecided_marks
        ),
    ),
)


def pilot_row_checks(
    cur: duckdb.DuckDBPyConnection, layouts: list[Layout], out: list[Finding]
) -> int:
    """The problems of staged pilots-file rows (`_PILOT_ROW_CHECKS`, then a pilot given twice
    with different details), appended to `out`; returns how many there are in all."""
    total = 0
    for check in _PILOT_ROW_CHECKS:
        rows = cur.execute(
            f"SELECT file_no, rn, go_live_raw, monthly_cost_raw, annual_volume_raw, "
            f"count(*) OVER () FROM stage_pilots WHERE {check.condition} "
            "ORDER BY file_no, rn LIMIT $cap",
            {"cap": MAX_PROBLEMS},
        ).fetchall()
        if rows:
            total += rows[0][5]
        for row in (_PilotRow._make(r[:5]) for r in rows):
            layout = layouts[row.file_no]
            message = check.message(row, layout)
            out.append(Finding(row.file_no, row.rn, layout.shown(check.column), message))
    # the same pilot twice with different details
    rows = cur.execute(
        "SELECT file_no, rn, pilot_id, first_file, first_rn FROM ("
        "  SELECT *, first_value(file_no) OVER w AS first_file, first_value(rn) OVER w AS first_rn,"
        "    count(*) OVER (PARTITION BY pilot_id, go_live, monthly_cost, annual_volume, "
        + ", ".join(PILOT_TEXT)
        + ") AS same, count(*) OVER (PARTITION BY pilot_id) AS n"
        "  FROM stage_pilots WHERE pilot_id IS NOT NULL"
        "  WINDOW w AS (PARTITION BY pilot_id ORDER BY file_no, rn)"
        ") WHERE same < n AND NOT (file_no = first_file AND rn = first_rn) "
        "ORDER BY file_no, rn LIMIT $cap",
        {"cap": MAX_PROBLEMS},
    ).fetchall()
    for file_no, rn, pilot_id, first_file, first_rn in rows:
        out.append(
            Finding(
                file_no,
                rn,
                layouts[file_no].shown("pilot_id"),
                f"pilot '{clip(pilot_id)}' appears again with different details"
                f" (first at {{line:{first_file}:{first_rn}}})",
            )
        )
    return total + len(rows)


def _metric_checks(
    cur: duckdb.DuckDBPyConnection,
    layouts: list[Layout],
    catalog: dict[str, CatalogEntry],
    out: list[Finding],
    declared: Mapping[str, str],
) -> tuple[dict[str, str], int]:
    """Unknown metrics without a direction, conflicting directions, negatives and rates above 1.
    A metric the upload declares (`declared`: metric -> direction) is new with that direction."""
    stats = cur.execute(
        "SELECT metric, file_no, min(rn), min(value), max(value), "
        "list(DISTINCT direction) FILTER (direction IS NOT NULL) "
        f"FROM {_OK_ROWS} WHERE metric IS NOT NULL AND isfinite(value) "
        "GROUP BY metric, file_no ORDER BY metric, file_no"
    ).fetchall()
    total = 0
    by_metric: dict[str, list[tuple[Any, ...]]] = {}
    for row in stats:
        by_metric.setdefault(row[0], []).append(row)
    new_metrics: dict[str, str] = {}
    for metric, rows in by_metric.items():
        directions = sorted({d for r in rows for d in (r[5] or []) if d in DIRECTIONS})
        entry = catalog.get(metric)
        if entry is None and not directions and metric in declared:
            directions = [declared[metric]]
        file_no, first_rn = rows[0][1], rows[0][2]
        layout = layouts[file_no]
        if entry is None:
            if not directions:
                total += 1
                out.append(
                    Finding(
                        file_no,
                        first_rn,
                        layout.shown("metric")
                        if layout.kind == "long"
                        else _value_column(layout, metric),
                        f"unknown metric '{clip(metric)}': say which way is better (a new "
                        "metric in the column mapping, --new-metric NAME=lower_is_better, or a "
                        "direction column), map the column to a known metric, or add it in "
                        "Settings",
                    )
                )
                continue
            if len(directions) > 1:
                total += 1
                out.append(
                    Finding(
                        file_no,
                        first_rn,
                        layout.shown("direction"),
                        f"metric '{clip(metric)}' is given both directions: "
                        f"{' and '.join(directions)}",
                    )
                )
                continue
            new_metrics[metric] = directions[0]
            continue
        for direction in directions:
            if direction != entry.direction:
                total += _flag_rows(
                    cur,
                    layouts,
                    out,
                    "metric = $metric AND direction = $direction",
                    {"metric": metric, "direction": direction},
                    "direction",
                    f"metric '{clip(metric)}' is {entry.direction} in the catalog, not "
                    f"{clip(direction)}",
                )
        low = min(r[3] for r in rows)
        high = max(r[4] for r in rows)
        if low < 0 and not entry.can_be_negative:
            total += _flag_rows(
                cur,
                layouts,
                out,
                "metric = $metric AND value < 0",
                {"metric": metric},
                "value",
                f"{clip(metric)} cannot be negative: {{raw}}",
            )
        if high > 1 and entry.unit in RATE_UNITS:
            total += _flag_rows(
                cur,
                layouts,
                out,
                "metric = $metric AND value > 1",
                {"metric": metric},
                "value",
                f"{clip(metric)} is a rate and cannot exceed 1: {{raw}} (write 23% as 0.23)",
            )
    return new_metrics, total


def _flag_rows(
    cur: duckdb.DuckDBPyConnection,
    layouts: list[Layout],
    out: list[Finding],
    condition: str,
    params: dict[str, object],
    column: str,
    template: str,
) -> int:
    rows = cur.execute(
        f"SELECT file_no, rn, metric, value_raw, count(*) OVER () FROM {_OK_ROWS} "
        f"WHERE {condition} ORDER BY file_no, rn LIMIT $cap",
        {**params, "cap": MAX_PROBLEMS},
    ).fetchall()
    for file_no, rn, metric, raw, _ in rows:
        layout = layouts[file_no]
        shown = _shown_column(layout, column, metric)
        # replace, not format: a metric name may hold braces
        out.append(Finding(file_no, rn, shown, template.replace("{raw}", clip(raw))))
    return int(rows[0][4]) if rows else 0


def _conflict_checks(
    cur: duckdb.DuckDBPyConnection, layouts: list[Layout], out: list[Finding]
) -> int:
    """Rows with the same key (pilot, metric, date, group, unit, segment) and another value.

    A cheap count of distinct key hashes first: in the usual case it equals the row count and
    nothing else runs. Exact duplicates are fine (written once)."""
    n, distinct = one_row(
        cur,
        'SELECT count(*), count(DISTINCT hash(pilot_id, metric, date, "group", unit, segment)) '
        f"FROM {_OK_ROWS}",
    )
    if n == distinct:
        return 0
    rows = cur.execute(
        "SELECT file_no, rn, metric, value_raw, first_file, first_rn, first_raw, "
        "date_raw IS DISTINCT FROM first_date_raw, count(*) OVER () FROM ("
        "  SELECT *, first_value(file_no) OVER w AS first_file, first_value(rn) OVER w AS first_rn,"
        "    first_value(value_raw) OVER w AS first_raw, first_value(value) OVER w AS first_value,"
        "    first_value(volume) OVER w AS first_volume,"
        "    first_value(date_raw) OVER w AS first_date_raw"
        f"  FROM {_OK_ROWS}"
        '  WINDOW w AS (PARTITION BY pilot_id, metric, date, "group", unit, segment'
        "               ORDER BY file_no, rn)"
        ") WHERE value IS DISTINCT FROM first_value OR volume IS DISTINCT FROM first_volume "
        "ORDER BY file_no, rn LIMIT $cap",
        {"cap": MAX_PROBLEMS},
    ).fetchall()
    for file_no, rn, metric, raw, first_file, first_rn, first_raw, other_time, _ in rows:
        # the same day written two ways: almost always hourly (or finer) data
        finer = "; times of day are ignored: aggregate to one row per day first"
        finer = finer if other_time else ""
        out.append(
            Finding(
                file_no,
                rn,
                _value_column(layouts[file_no], metric),
                f"conflicting duplicate: {clip(metric)} = {clip(raw)} here but "
                f"{clip(first_raw)} at "
                f"{{line:{first_file}:{first_rn}}} (same pilot, date, group, unit and segment)"
                f"{finer}",
            )
        )
    return rows[0][8] if rows else 0


def _go_live_checks(
    cur: duckdb.DuckDBPyConnection,
    layouts: list[Layout],
    known: set[str],
    out: list[Finding],
) -> int:
    staged = {
        row[0]
        for row in cur.execute(
            "SELECT DISTINCT pilot_id FROM stage_pilots WHERE go_live IS NOT NULL"
        ).fetchall()
    }
    rows = cur.execute(
        f"SELECT pilot_id, arg_min(file_no * 1e12 + rn, file_no * 1e12 + rn) FROM {_OK_ROWS} "
        "WHERE pilot_id IS NOT NULL GROUP BY pilot_id ORDER BY pilot_id"
    ).fetchall()
    total = 0
    for pilot_id, first in rows:
        if pilot_id in known or pilot_id in staged:
            continue
        total += 1
        file_no, rn = divmod(int(first), 10**12)
        out.append(
            Finding(
                file_no,
                rn,
                layouts[file_no].shown("pilot_id"),
                f"pilot '{clip(pilot_id)}' has no go-live date: upload a pilots file "
                "(pilot_id, go_live) that lists it",
            )
        )
    return total


def empty_metric_columns(
    cur: duckdb.DuckDBPyConnection, sources: list[Source], layouts: list[Layout]
) -> list[Problem]:
    """A warning at the header of each wide file's metric column that holds no value in any
    row: nothing is read for that metric, which is worth saying (a workbook saved by a tool
    that does not calculate formulas leaves their cells empty)."""
    wide = [f for f, layout in enumerate(layouts) if layout.kind == "wide"]
    if not wide:
        return []
    read = set(
        cur.execute(
            "SELECT DISTINCT file_no, pos FROM stage_obs WHERE list_contains($wide, file_no)",
            {"wide": wide},
        ).fetchall()
    )
    found = [
        Problem(
            sources[f].name,
            1,
            clip(layouts[f].header[pos]),
            f"warning, column '{clip(layouts[f].header[pos])}' is empty in every row: nothing "
            f"was read for {clip(metric)}. Formulas a tool wrote but never calculated leave "
            "their cells empty: open the workbook in Excel (or LibreOffice), let it calculate, "
            "save it and upload it again; or map the column to ignore",
        )
        for f in wide
        for pos, metric in layouts[f].metric_columns
        if (f, pos) not in read
    ]
    return sheet_lines(sources, found)


def date_notes(
    cur: duckdb.DuckDBPyConnection, sources: list[Source], layouts: list[Layout]
) -> list[Problem]:
    """Warnings that say how a file's dates were read where the column decided it: `Jan-05`
    as months (`formats.month_year_reading`), and dates with several UTC offsets in one column
    kept on the day written (never moved to UTC), at the first row UTC would move."""
    found = [
        Problem(sources[f].name, 1, layout.shown(column), f"warning, {layout.month_years.reason}")
        for f, layout in enumerate(layouts)
        if layout.month_years is not None and layout.month_years.months
        for column in ("go_live" if layout.kind == "pilots" else "date",)
    ]
    mixed = cur.execute(
        "SELECT file_no, count(DISTINCT offset_text), list(DISTINCT offset_text), "
        "count(*) FILTER (moved), COALESCE(min(rn) FILTER (moved), min(rn)), "
        "arg_min(date_raw, rn) FILTER (moved), arg_min(utc_day, rn) FILTER (moved) FROM ("
        f"  SELECT file_no, rn, date_raw, regexp_extract(trim(date_raw), '(Z|[+-][0-9:]+)$') "
        "     AS offset_text, CAST(timezone('UTC', TRY_CAST(trim(date_raw) AS TIMESTAMPTZ)) "
        "     AS DATE) AS utc_day, utc_day IS DISTINCT FROM date AS moved "
        f"  FROM stage_obs WHERE regexp_full_match(trim(date_raw), '{OFFSET_RE}')"
        ") GROUP BY file_no HAVING count(DISTINCT offset_text) > 1 ORDER BY file_no"
    ).fetchall()
    findings = []
    for file_no, n_offsets, offsets, moved, rn, raw, utc_day in mixed:
        shown = ", ".join(sorted(offsets)[:4])
        elsewhere = (
            f"; in UTC {counted(moved, 'row')} would fall on another day, as this one: "
            f"'{clip(raw)}' is {utc_day:%Y-%m-%d} in UTC"
            if moved
            else ""
        )
        message = (
            f"warning, the dates carry {n_offsets} different UTC offsets ({shown}): each row "
            f"is kept on the day written, its time and offset dropped, so no row moves to "
            f"another day{elsewhere}"
        )
        findings.append(Finding(file_no, rn, layouts[file_no].shown("date"), message))
    return sheet_lines(sources, found) + to_problems(sources, layouts, findings)


def to_problems(
    sources: list[Source], layouts: list[Layout], findings: list[Finding]
) -> list[Problem]:
    """Turn record numbers into physical lines, file by file."""
    wanted: dict[int, set[int]] = {}
    refs = re.compile(r"\{line:(\d+):(\d+)\}")
    for f in findings:
        wanted.setdefault(f.file_no, set()).add(f.rn)
        for file_no, rn in refs.findall(f.message):
            wanted.setdefault(int(file_no), set()).add(int(rn))
    lines = {
        file_no: record_lines(sources[file_no], rns, layouts[file_no].delimiter)
        for file_no, rns in wanted.items()
    }

    def ref(match: re.Match[str]) -> str:
        file_no, rn = int(match.group(1)), int(match.group(2))
        line = lines.get(file_no, {}).get(rn)
        # user text that merely looks like a reference stays as written
        return match.group(0) if line is None else f"{sources[file_no].name}:{line}"

    return [
        Problem(sources[f.file_no].name, lines[f.file_no][f.rn], f.column, refs.sub(ref, f.message))
        for f in findings
    ]


def read_catalog(cur: duckdb.DuckDBPyConnection) -> dict[str, CatalogEntry]:
    rows = cur.execute(
        "SELECT metric, direction, COALESCE(unit, ''), COALESCE(can_be_negative, false) "
        "FROM metric_catalog"
    ).fetchall()
    return {m: CatalogEntry(d, u, bool(neg)) for m, d, u, neg in rows}
