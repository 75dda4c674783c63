"""CSV ingest: stage metrics and pilots files in DuckDB and decide how they are checked.

Two paths, one contract (`Store.ingest` picks):
- **fast**, for clean new files: DuckDB's reader parses the file straight into `observations`
  inside one transaction (numbers, and ISO dates, typed by the reader itself, as a bare
  `read_csv` does); a handful of set-based queries then check the inserted rows (signs, rates,
  NaN/inf, groups, catalog, go-live dates, duplicate keys, untrimmed strings). Any doubt - a read
  error, a NOT NULL violation, a failed check - rolls the transaction back and hands over to:
- **careful**: every file is read with all columns as text (`VARCHAR`) and its records
  numbered, then typed with `TRY_CAST`, so each failure is a problem at its line and column.
  Validation is set-based SQL over the staged rows, never a Python loop over rows. Nothing is
  written unless there is no problem at all, then everything in one transaction.
A test forces the careful path on clean files and requires the same database as the fast one.

Files are opened and recognised in `reading.py` (layouts, encodings, line numbers, the read
options a column mapping gives); workbooks become CSV in `workbooks.py`; dates and numbers are
read by the expressions in `formats.py`; the checks are in `checks.py`; a checked batch is
written by `writing.py`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import duckdb

from .catalog import normalise_metric, normalise_metric_sql
from .checks import MAX_PROBLEMS, CatalogEntry, check, pilot_row_checks, read_catalog
from .errors import IngestError, Problem
from .formats import (
    MONTH_YEAR_RE,
    OFFSET_RE,
    SLASH_DATE_RE,
    DateOrder,
    ambiguous_number_sql,
    date_sql,
    decimal_evidence_sql,
    formatted_number_sql,
    missing_sql,
    month_year_reading,
    month_year_sql,
    number_sql,
    slash_date_sql,
    slash_fields_sql,
)
from .outliers import stage_warnings
from .plans import read_file_plans
from .reading import (
    GROUPS,
    PILOT_TEXT,
    FileInput,
    FileKind,
    Layout,
    ReadOptions,
    Source,
    as_options,
    diagnose_read_error,
    file_name,
    first_date_is_iso,
    open_sources,
    read_sources,
    sheet_lines,
    sniff,
)
from .schema import PILOT_FIELDS
from .sql import scalar
from .workdirs import workdir

if TYPE_CHECKING:
    import pandas as pd

    from .database import Store

__all__ = [
    "CatalogEntry",
    "FileInput",
    "Layout",
    "Problem",
    "ReadOptions",
    "Source",
    "ValidationReport",
    "as_options",
    "open_sources",
    "pilot_row_checks",
    "read_catalog",
    "read_sources",
    "sniff",
    "validate_files",
]


Progress = Callable[[float, str], None]


OBS_OPTIONAL = ("group", "unit", "segment", "volume", "direction")


@dataclass(frozen=True)
class ValidationReport:
    """What validating a set of files found. Nothing was written."""

    problems: list[Problem]
    total_problems: int
    kind: dict[str, FileKind]
    preview: pd.DataFrame | None
    rows: int = 0
    # values worth a second look (a decimal slip, a gross outlier for their series), by file and
    # line: warnings, not problems; the files can still be written
    warnings: list[Problem] = field(default_factory=list)
    total_warnings: int = 0

    @property
    def ok(self) -> bool:
        return self.total_problems == 0


def _read_csv_sql(layout: Layout) -> str:
    columns = ", ".join(f"c{i}" for i in range(len(layout.header)))
    width = len(layout.header)
    not_blank = " OR ".join(f"NULLIF(trim(c{i}), '') IS NOT NULL" for i in range(width))
    return (
        f"SELECT * FROM (SELECT row_number() OVER () AS rn, {columns} "
        "FROM read_csv($path, auto_detect = false, header = true, delim = $delim, "
        "quote = '\"', escape = '\"', columns = $columns, strict_mode = true)) "
        f"WHERE {not_blank}"
    )


def _value(
    layout: Layout, expr: str, position: int | None, decimal_comma: bool | None = None
) -> str:
    """A number column: formatted numbers (`4.0%`, `$12.19`) are read where the user mapped the
    column, plain ones everywhere; with the file's decimal mark unless `decimal_comma` says."""
    comma = layout.decimal_comma if decimal_comma is None else decimal_comma
    if position is not None and position in layout.formatted:
        return formatted_number_sql(expr, comma)
    return number_sql(expr, comma)


def _text(expr: str) -> str:
    return f"NULLIF(trim({expr}), '')"


STAGE_OBS_DDL = """CREATE OR REPLACE TEMP TABLE stage_obs (
    file_no INTEGER, rn BIGINT, pilot_id VARCHAR, metric VARCHAR, date_raw VARCHAR, date DATE,
    group_raw VARCHAR, "group" VARCHAR, unit VARCHAR, segment VARCHAR, value_raw VARCHAR,
    value DOUBLE, volume_raw VARCHAR, volume DOUBLE, direction VARCHAR, pos INTEGER)"""


STAGE_PILOTS_DDL = f"""CREATE OR REPLACE TEMP TABLE stage_pilots (
    file_no INTEGER, rn BIGINT, pilot_id VARCHAR, go_live_raw VARCHAR, go_live DATE,
    monthly_cost_raw VARCHAR, monthly_cost DOUBLE, annual_volume_raw VARCHAR,
    annual_volume DOUBLE, {", ".join(f"{f} VARCHAR" for f in PILOT_TEXT)})"""


def stage(
    cur: duckdb.DuckDBPyConnection, sources: list[Source], layouts: list[Layout]
) -> dict[int, list[Problem]]:
    """Read every file into the temp tables `stage_obs` / `stage_pilots`; return the read
    errors of each file that could not be read, by its position in `sources`. Its rows are
    not staged (each file is one statement); the files that read are, and are resolved."""
    cur.execute(STAGE_OBS_DDL)
    cur.execute(STAGE_PILOTS_DDL)
    cur.execute(SKIPPED_OBS_DDL)
    unread: dict[int, list[Problem]] = {}
    for file_no, (source, layout) in enumerate(zip(sources, layouts, strict=True)):
        sql = _stage_pilots_sql(layout) if layout.kind == "pilots" else _stage_obs_sql(layout)
        try:
            cur.execute(sql, stage_params(source, layout, file_no))
        except duckdb.Error as exc:
            if not source.use_clean_copy():
                unread[file_no] = diagnose_read_error(source, layout, exc)
                continue
            try:  # lone-CR or mixed line ends, blank lines of spaces: read the clean copy
                cur.execute(sql, stage_params(source, layout, file_no))
            except duckdb.Error as again:
                unread[file_no] = diagnose_read_error(source, layout, again)
    skip_rows_without_value(cur)
    resolve_date_order(cur, layouts)
    resolve_month_years(cur, layouts)
    resolve_decimal_marks(cur, layouts)
    return unread


SKIPPED_OBS_DDL = """CREATE OR REPLACE TEMP TABLE skipped_obs (
    file_no INTEGER, rn BIGINT, pos INTEGER, value_raw VARCHAR)"""


def skip_rows_without_value(cur: duckdb.DuckDBPyConnection) -> None:
    """A long file's row whose value is empty or a missing-value token (`NA`, `N/A`, `#N/A`,
    `null`: `formats.MISSING_TOKENS`) is no observation: moved from `stage_obs` to
    `skipped_obs`, whence the warnings name it (`outliers.stage_warnings`). A wide file's such
    cells were never staged (an empty cell there is a week without that metric)."""
    cur.execute(
        "INSERT INTO skipped_obs SELECT file_no, rn, pos, value_raw FROM stage_obs "
        f"WHERE {missing_sql('value_raw')}"
    )
    cur.execute(f"DELETE FROM stage_obs WHERE {missing_sql('value_raw')}")


def stage_params(source: Source, layout: Layout, file_no: int) -> dict[str, object]:
    """Parameters of the staging statements: the path and every option are values, never SQL."""
    params: dict[str, object] = {
        "path": str(source.path),
        "delim": layout.delimiter,
        "columns": {f"c{i}": "VARCHAR" for i in range(len(layout.header))},
        "file_no": file_no,
        **layout.params(),
    }
    if layout.kind == "wide":
        params["metrics"] = [m for _, m in layout.metric_columns]
        params["positions"] = [p for p, _ in layout.metric_columns]
    return params


def stage_pilots(
    cur: duckdb.DuckDBPyConnection, source: Source, layout: Layout, file_no: int
) -> None:
    """Read one pilots file into `stage_pilots` (raises duckdb.Error if it cannot be read)."""
    cur.execute(_stage_pilots_sql(layout), stage_params(source, layout, file_no))


def _stage_obs_sql(layout: Layout) -> str:
    c = layout.column
    volume = layout.index.get("volume")
    keys = (
        f"rn, {_text(c('pilot_id'))} AS pilot_id, trim({c('date')}) AS date_raw, "
        f"{c('group')} AS group_raw, COALESCE(trim({c('unit')}), '') AS unit, "
        f"COALESCE(trim({c('segment')}), '') AS segment, {c('volume')} AS volume_raw, "
        f"{_value(layout, c('volume'), volume)} AS volume"
    )
    if layout.kind == "long":
        inner = (
            f"SELECT {keys}, {normalise_metric_sql(_text(c('metric')))} AS metric, "
            f"{c('value')} AS value_raw, {_value(layout, c('value'), layout.index['value'])} "
            f"AS value, lower({_text(c('direction'))}) AS direction, "
            f"{int(layout.index['value'])} AS pos FROM ({_read_csv_sql(layout)}) "
            f"WHERE {_not_totals(c('date'))}"
        )
    else:
        raws = ", ".join(f"c{pos}" for pos, _ in layout.metric_columns)
        values = ", ".join(_value(layout, f"c{pos}", pos) for pos, _ in layout.metric_columns)
        inner = (
            f"SELECT * FROM (SELECT {keys}, unnest($metrics::VARCHAR[]) AS metric, "
            f"unnest([{raws}]) AS value_raw, unnest([{values}]) AS value, "
            "NULL::VARCHAR AS direction, unnest($positions::INTEGER[]) AS pos "
            f"FROM ({_read_csv_sql(layout)}) WHERE {_not_totals(c('date'))}) "
            f"WHERE NOT {missing_sql('value_raw')}"
        )
    group = (
        "CASE WHEN group_raw IS NULL OR trim(group_raw) = '' THEN 'treatment' "
        "ELSE lower(trim(group_raw)) END"
    )
    return (
        "INSERT INTO stage_obs SELECT $file_no, rn, pilot_id, metric, date_raw, "
        f"{date_sql('date_raw', layout.serial_epoch)}, group_raw, {group}, unit, segment, "
        f"value_raw, value, volume_raw, volume, direction, pos FROM ({inner})"
    )


#: What a spreadsheet writes in the date column of the rows it adds below the data.
TOTALS = ("total", "totals", "grand total", "subtotal", "sum", "average", "mean")


def _not_totals(date: str) -> str:
    """Not a totals row: a report's `Total` (or `Average`) row below the data is computed,
    not observed, and is skipped rather than refused as a bad date."""
    words = ", ".join(f"'{w}'" for w in TOTALS)
    return f"COALESCE(lower(trim({date})), '') NOT IN ({words})"


#: The staged date columns: table, raw text, date.
_DATE_COLUMNS = (("stage_obs", "date_raw", "date"), ("stage_pilots", "go_live_raw", "go_live"))


def resolve_date_order(cur: duckdb.DuckDBPyConnection, layouts: list[Layout]) -> None:
    """Read each file's slash dates (`06/01/2025`) in its date order: the one the user gave,
    else the one the file decides (a first field above 12: day first; a second field above 12:
    month first). A file that decides nothing keeps them unread (NULL), and the checks say how
    to decide; the order found is kept on the layout."""
    for table, raw, date in _DATE_COLUMNS:
        where = f"{date} IS NULL AND regexp_full_match(trim({raw}), '{SLASH_DATE_RE}')"
        first, second = slash_fields_sql(raw)
        found = cur.execute(
            f"SELECT file_no, max({first}), max({second}) FROM {table} WHERE {where} "
            "GROUP BY file_no"
        ).fetchall()
        for file_no, high_first, high_second in found:
            layout = layouts[file_no]
            order: DateOrder | None = layout.date_order
            if order is None:
                day_first, month_first = (high_first or 0) > 12, (high_second or 0) > 12
                if day_first != month_first:
                    order = "day_first" if day_first else "month_first"
                    layout.date_order = order
                layout.date_orders_mixed = day_first and month_first
            if order is None:
                continue
            cur.execute(
                f"UPDATE {table} SET {date} = {slash_date_sql(raw, order)} "
                f"WHERE file_no = $file_no AND {where}",
                {"file_no": file_no},
            )


def resolve_month_years(cur: duckdb.DuckDBPyConnection, layouts: list[Layout]) -> None:
    """Read each file's `Jan-05` dates as the whole column decides
    (`formats.month_year_reading`): as the first day of their month, or not at all (left NULL,
    and the checks refuse them with the reason). The reading is kept on the layout, whence a
    warning says which one was used."""
    for table, raw, date in _DATE_COLUMNS:
        where = f"{date} IS NULL AND regexp_full_match(trim({raw}), '{MONTH_YEAR_RE}')"
        found = cur.execute(
            f"SELECT file_no, arg_min(trim({raw}), rn), list(DISTINCT trim({raw})) "
            f"FROM {table} WHERE {where} GROUP BY file_no"
        ).fetchall()
        for file_no, first, values in found:
            reading = month_year_reading([first, *values])
            layouts[file_no].month_years = reading
            if reading.months:
                cur.execute(
                    f"UPDATE {table} SET {date} = {month_year_sql(raw)} "
                    f"WHERE file_no = $file_no AND {where}",
                    {"file_no": file_no},
                )


#: The staged number columns: table, raw text, number, and the column telling a wide file's
#: metric columns apart (None: one file column, the layout's own for the number's name).
_NUMBER_COLUMNS = (
    ("stage_obs", "value_raw", "value", "pos"),
    ("stage_obs", "volume_raw", "volume", None),
    ("stage_pilots", "monthly_cost_raw", "monthly_cost", None),
    ("stage_pilots", "annual_volume_raw", "annual_volume", None),
)


def resolve_decimal_marks(cur: duckdb.DuckDBPyConnection, layouts: list[Layout]) -> None:
    """Read each number column's `40.125` or `1,200` with the decimal mark the column decides.

    Staging read them with the file's mark (`.`, or `,` in a `;` file). A column holding a
    number that shows its mark (`40.85`, `1.234,5`: `formats.decimal_evidence_sql`) is read
    again with that mark if it is the other one. Where nothing in the column decides (or its
    numbers disagree), a number of the ambiguous shape whose separator is not the file's mark
    (`40.125` in a `;` file, `"1,200"` in a comma file) is left unread (NULL), its separator
    kept on the layout, and the checks refuse it with the fix; the file's own mark still reads
    as the decimal one. A mark the user chose (`ReadOptions.decimal_mark`) is the file's mark
    and decides every column. One aggregate per number column of the staged tables."""
    for table, raw, number, split in _NUMBER_COLUMNS:
        marks = (".", ",")
        evidence = ", ".join(
            [f"bool_or({decimal_evidence_sql(raw, m)})" for m in marks]
            + [f"bool_or({ambiguous_number_sql(raw, m)})" for m in marks]
        )
        found = cur.execute(
            f"SELECT file_no, {split or 'NULL::INTEGER'}, {evidence} FROM {table} "
            f"WHERE regexp_matches({raw}, '[.,]') GROUP BY ALL"
        ).fetchall()
        for file_no, position, point, comma, ambiguous_point, ambiguous_comma in found:
            layout = layouts[file_no]
            if layout.decimal_given:
                continue
            if position is None:
                position = layout.index.get(number)
            where = "file_no = $file_no" + (f" AND {split} = $position" if split else "")
            params = {"file_no": file_no, "position": position} if split else {"file_no": file_no}
            own = "," if layout.decimal_comma else "."
            mark = "." if point and not comma else "," if comma and not point else None
            if mark is not None and mark != own:
                read = _value(layout, raw, position, decimal_comma=mark == ",")
                cur.execute(f"UPDATE {table} SET {number} = {read} WHERE {where}", params)
            ambiguous = {".": ambiguous_point, ",": ambiguous_comma}
            undecided = {
                m
                for m in marks
                if mark is None and ambiguous[m] and (m != own or (point and comma))
            }
            if undecided:
                unread = " OR ".join(ambiguous_number_sql(raw, m) for m in sorted(undecided))
                cur.execute(
                    f"UPDATE {table} SET {number} = NULL WHERE {where} AND ({unread})", params
                )
                layout.undecided_marks |= undecided


def fast_eligible(layouts: list[Layout]) -> bool:
    """Whether the optimistic one-pass path can take this batch: metrics files without a
    `direction` column (new metrics go the careful way)."""
    return all(lay.kind == "pilots" or "direction" not in lay.index for lay in layouts)


def fast_insert(source: Source, layout: Layout, upload_id: int) -> tuple[str, dict[str, object]]:
    """`INSERT INTO observations` straight from the file, with its parameters.

    The optimistic path for clean files. DuckDB's reader parses numbers (and ISO dates, when the
    first row has one) itself, as a bare `read_csv` does, so text in a number is a read error;
    a missing value or date violates NOT NULL; strings are stored as read and the caller checks
    their few distinct values (untrimmed, upper-case metric, unknown group) afterwards. On any
    of these the caller rolls back and the careful path names every problem by line. One read,
    one write: no staging copy, no row numbering."""
    c = layout.column
    width = len(layout.header)
    iso_dates = first_date_is_iso(source, layout)
    numeric = {layout.index.get("volume")} | (
        {layout.index["value"]} if layout.kind == "long" else {p for p, _ in layout.metric_columns}
    )
    types = {
        f"c{i}": "DOUBLE"
        if i in numeric
        else "DATE"
        if iso_dates and i == layout.index["date"]
        else "VARCHAR"
        for i in range(width)
    }
    any_cell = "NOT (" + " AND ".join(f"c{i} IS NULL" for i in range(width)) + ")"
    keys = (
        f"{c('pilot_id')} AS pilot_id, {c('date')} AS date_raw, "
        f"COALESCE({c('group')}, 'treatment') AS \"group\", COALESCE({c('unit')}, '') AS unit, "
        f"COALESCE({c('segment')}, '') AS segment, {c('volume')}::DOUBLE AS volume"
    )
    source_sql = (
        "read_csv($path, auto_detect = false, header = true, delim = $delim, quote = '\"', "
        "escape = '\"', columns = $columns, strict_mode = true, decimal_separator = $decimal)"
    )
    if layout.kind == "long":
        inner = f"SELECT {keys}, {c('metric')} AS metric, {c('value')} AS value FROM {source_sql}"
        inner += f" WHERE {any_cell}"
    else:
        values = ", ".join(f"c{pos}" for pos, _ in layout.metric_columns)
        inner = (
            f"SELECT * FROM (SELECT {keys}, unnest($metrics::VARCHAR[]) AS metric, "
            f"unnest([{values}]) AS value FROM {source_sql} WHERE {any_cell}) "
            "WHERE value IS NOT NULL"
        )
    # a date with a UTC offset goes the careful way, which says how a mix of offsets was read
    date = (
        "date_raw"
        if iso_dates
        else f"CASE WHEN regexp_full_match(trim(date_raw), '{OFFSET_RE}') THEN NULL "
        f"ELSE {date_sql('date_raw', layout.serial_epoch)} END"
    )
    sql = (
        f'INSERT INTO observations SELECT pilot_id, metric, {date}, "group", unit, segment, '
        f"value, volume, $upload_id FROM ({inner})"
    )
    params: dict[str, object] = {
        "path": str(source.path),
        "delim": layout.delimiter,
        "columns": types,
        "decimal": "," if layout.decimal_comma else ".",
        "upload_id": upload_id,
        **layout.params(),
    }
    if layout.kind == "wide":
        params["metrics"] = [m for _, m in layout.metric_columns]
    return sql, params


#: The DuckDB setting `insert_fast` turns off for its statement (and the caller resets after a
#: rollback: an aborted transaction takes no statement, not even a RESET).
UNORDERED = "preserve_insertion_order"


def insert_fast(
    cur: duckdb.DuckDBPyConnection, source: Source, layout: Layout, upload_id: int
) -> None:
    """Run `fast_insert` for one file, letting DuckDB append the rows in the order its reader
    threads finish rather than the file's (raises duckdb.Error as the statement does).

    With the file's order preserved, the parallel insert leaves part-filled row groups at the
    threads' batch boundaries (29 for 2.6M rows where 22 hold them), and the checkpoint that
    closes the store rewrites the whole table to merge them; unordered, each thread fills its
    own row groups and the checkpoint has nothing to rewrite (about 0.3 s of CPU on the bench
    file, more than that with the store's nine columns). No reader depends on the physical
    order: every read of `observations` sorts or aggregates, and the row groups still hold
    neighbouring pilots, as the file had them."""
    cur.execute(f"SET {UNORDERED} = false")
    cur.execute(*fast_insert(source, layout, upload_id))
    cur.execute(f"RESET {UNORDERED}")


def fast_strings_clean(pilot_id: str, metric: str, group: str, unit: str, segment: str) -> bool:
    """Whether strings stored as read equal what the careful path would store."""
    return (
        bool(pilot_id)
        and pilot_id == pilot_id.strip()
        and bool(metric)
        and metric == normalise_metric(metric)
        and group in GROUPS
        and unit == unit.strip()
        and segment == segment.strip()
    )


def _stage_pilots_sql(layout: Layout) -> str:
    c = layout.column
    texts = ", ".join(_text(c(f)) for f in PILOT_TEXT)
    numbers = ", ".join(
        f"{c(f)}, {_value(layout, c(f), layout.index.get(f))}"
        for f in ("monthly_cost", "annual_volume")
    )
    go_live = f"trim({c('go_live')})"
    return (
        f"INSERT INTO stage_pilots SELECT $file_no, rn, {_text(c('pilot_id'))}, {go_live}, "
        f"{date_sql(go_live, layout.serial_epoch)}, {numbers}, {texts} "
        f"FROM ({_read_csv_sql(layout)})"
    )


@dataclass(frozen=True)
class Prepared:
    """What `prepare` found: the sources it read, each beside its layout (a source refused
    before it could be staged is left out), the problems of all of them (capped, on the
    sheet's own rows for workbooks), their total, and the metrics the upload adds."""

    sources: list[Source]
    layouts: list[Layout]
    problems: list[Problem]
    total: int
    new_metrics: dict[str, str]


def prepare(
    cur: duckdb.DuckDBPyConnection,
    sources: list[Source],
    mapping: Mapping[str, str] | ReadOptions | None,
    catalog: dict[str, CatalogEntry],
    go_live_known: set[str] | None,
    others_refused: bool = False,
) -> Prepared:
    """Sniff, stage and check every source. A source that cannot be read (no layout to
    recognise, a ragged row, a bad encoding) is named and the others are still checked, so
    every file's problems are found in one go; `others_refused` says files of the same upload
    were refused before they reached here. The go-live check is then skipped: a refused file
    may be the pilots file that gives the dates."""
    options = as_options(mapping)
    read: list[Source] = []
    layouts: list[Layout] = []
    refused: list[Problem] = []
    for source in sources:
        found = sniff(source, options)
        if isinstance(found, Problem):
            refused.append(found)
        else:
            read.append(source)
            layouts.append(found)
    unread = stage(cur, read, layouts)
    if unread:  # staged again without them, numbered as the checks will name them
        refused += [p for file_no in sorted(unread) for p in unread[file_no]]
        read = [s for i, s in enumerate(read) if i not in unread]
        layouts = [lay for i, lay in enumerate(layouts) if i not in unread]
        stage(cur, read, layouts)
    complete = not refused and not others_refused
    problems, total, new_metrics = check(
        cur, read, layouts, catalog, go_live_known if complete else None, options.new_metrics
    )  # lines already sheet rows for workbooks
    problems = [*sheet_lines(sources, refused), *problems]
    total += len(refused)
    names = [s.name for s in sources]
    return Prepared(read, layouts, in_upload_order(problems, names), total, new_metrics)


def in_upload_order(problems: list[Problem], names: list[str]) -> list[Problem]:
    """Problems of several files, each file's together in the order the files were given (a
    workbook's `BOOK.xlsx[SHEET]` with `BOOK.xlsx`), lines in order within a file; at most
    MAX_PROBLEMS, always keeping each file's first, so that no file's refusal is hidden behind
    another file's thousand bad rows."""

    def position(problem: Problem) -> int:
        for i, name in enumerate(names):
            if problem.file == name or problem.file.startswith(f"{name}["):
                return i
        return len(names)  # not a file's ("-": the options): after them all

    ordered = sorted(problems, key=position)  # stable: each file's lines stay in order
    room = MAX_PROBLEMS - len({p.file for p in ordered})
    seen: set[str] = set()
    kept: list[Problem] = []
    for problem in ordered:
        if problem.file not in seen:
            seen.add(problem.file)
            kept.append(problem)
        elif room > 0:
            kept.append(problem)
            room -= 1
    return kept


def validate_files(
    files: Iterable[FileInput],
    mapping: Mapping[str, str] | ReadOptions | None = None,
    store: Store | None = None,
) -> ValidationReport:
    """Check files without writing anything.

    With a `store` (a `pilotproof.store.Store`) the check uses its catalog and its pilots'
    go-live dates; without one, the built-in catalog, and pilots without a go-live date in the
    same batch are not reported (the store may know them)."""
    if store is not None:
        return store.validate(files, mapping)
    from .schema import migrate

    con = duckdb.connect()
    try:
        migrate(con)
        return validate_with(con, files, mapping, go_live_known=None)
    finally:
        con.close()


def validate_with(
    cur: duckdb.DuckDBPyConnection,
    files: Iterable[FileInput],
    mapping: Mapping[str, str] | ReadOptions | None,
    go_live_known: set[str] | None,
    first_rows: int | None = None,
    refuse: Callable[[duckdb.DuckDBPyConnection, list[Source], list[Layout]], list[Problem]]
    | None = None,
) -> ValidationReport:
    """`validate_files` on a cursor; `refuse` names what the caller's rules refuse in files
    that pass every check (a company user's pilots of another company)."""
    with workdir() as tmp:
        try:
            options = as_options(mapping)
        except IngestError as exc:
            return ValidationReport(exc.problems, exc.total, {}, None)
        files = options.with_new_pilot(files)
        # a file refused as it is opened (a damaged workbook, formulas never calculated) is
        # named beside every problem of the others: one round trip fixes them all
        sources, refused = open_sources(files, tmp, options.sheets, first_rows)
        found = prepare(cur, sources, options, read_catalog(cur), go_live_known, bool(refused))
        problems, total = [*refused, *found.problems], len(refused) + found.total
        for source, layout in zip(found.sources, found.layouts, strict=True):  # plan cells
            bad = read_file_plans(source, layout)[1]
            problems, total = [*problems, *bad], total + len(bad)
        kinds = {s.name: lay.kind for s, lay in zip(found.sources, found.layouts, strict=True)}
        if refuse is not None and not total:
            problems = refuse(cur, found.sources, found.layouts)
            total = len(problems)
        preview, rows = _preview(cur)
        warnings, n_warnings = stage_warnings(cur, found.sources, found.layouts)
        problems = in_upload_order(problems, [file_name(f) for f in files])
        return ValidationReport(problems, total, kinds, preview, rows, warnings, n_warnings)


def _preview(cur: duckdb.DuckDBPyConnection) -> tuple[pd.DataFrame | None, int]:
    """The first rows as they will be stored (dates as dates, numbers parsed), beside what the
    file wrote where the two differ."""
    n_obs = int(scalar(cur, "SELECT count(*) FROM stage_obs"))
    if n_obs:
        frame = cur.execute(  # `infinity` read as a date has no pandas date: shown blank
            "SELECT pilot_id, metric, CASE WHEN isfinite(date) THEN date END AS date, date_raw, "
            '"group", unit, segment, value, value_raw, volume FROM stage_obs '
            "ORDER BY file_no, rn LIMIT 20"
        ).df()
        frame["date"] = _dates(frame["date"])
        if (frame["date_raw"] == frame["date"].astype(str)).all():
            frame = frame.drop(columns="date_raw")
        else:
            frame = frame.rename(columns={"date_raw": "date in file"})
        import pandas as pd

        plain = pd.to_numeric(frame["value_raw"].str.strip(), errors="coerce")
        if ((plain == frame["value"]) | (plain.isna() & frame["value"].isna())).all():
            frame = frame.drop(columns="value_raw")
        else:
            frame = frame.rename(columns={"value_raw": "value in file"})
        return frame, n_obs
    n_pilots = int(scalar(cur, "SELECT count(*) FROM stage_pilots"))
    fields = [
        "CASE WHEN isfinite(go_live) THEN go_live END AS go_live" if f == "go_live" else f
        for f in PILOT_FIELDS
    ]
    frame = cur.execute(
        f"SELECT {', '.join(fields)} FROM stage_pilots ORDER BY file_no, rn LIMIT 20"
    ).df()
    frame["go_live"] = _dates(frame["go_live"])
    return frame, n_pilots


def _dates(column: pd.Series) -> pd.Series:
    """Dates shown as dates (`2026-03-02`), not midnight timestamps."""
    import pandas as pd

    return pd.to_datetime(column).dt.date.astype(object)
