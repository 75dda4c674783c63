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

Files are opened and recognised in `reading.py` (layouts, encodings, line numbers); the checks
are in `checks.py`; a checked batch is written by `writing.py`.

Dates: `YYYY-MM-DD` (a time part is ignored), `YYYY-MM` (monthly, first day), `YYYY-Qn`,
`YYYYQn`, `Qn YYYY` or `Qn-YYYY` (quarterly, the quarter's first day), `YYYY` (yearly, 1 January)
and `DD.MM.YYYY` (what Excel European exports).
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb

from .catalog import normalise_metric, normalise_metric_sql
from .checks import MAX_PROBLEMS, CatalogEntry, check, pilot_row_checks, read_catalog
from .errors import IngestError, Problem
from .reading import (
    GROUPS,
    PILOT_TEXT,
    FileInput,
    FileKind,
    Layout,
    Source,
    check_mapping,
    diagnose_read_error,
    first_date_is_iso,
    read_sources,
    sniff,
)
from .schema import PILOT_FIELDS

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "CatalogEntry",
    "FileInput",
    "Layout",
    "Problem",
    "Source",
    "ValidationReport",
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


def _number(expr: str, decimal_comma: bool) -> str:
    """A number as exported: `1234.5`, or with thousands separators `1,234.5`; in a European
    file (decimal comma) `1234,5` or `1.234,5`. A group of three digits after a separator is
    what makes it a thousands separator (`1,5` stays refused; `0.234` is not `234`)."""
    group, point = (r"\.", ",") if decimal_comma else (",", r"\.")
    pattern = rf"[+-]?[1-9]\d{{0,2}}({group}\d{{3}})+({point}\d*)?"
    raw = f"trim({expr})"
    text = (
        f"CASE WHEN regexp_full_match({raw}, '{pattern}') "
        f"THEN replace({raw}, '{group[-1]}', '') ELSE {raw} END"
    )
    if decimal_comma:
        text = f"replace({text}, ',', '.')"
    return f"TRY_CAST({text} AS DOUBLE)"


def _date(expr: str) -> str:
    text = f"upper(trim({expr}))"
    year_first = f"CAST(left({text}, 4) AS INTEGER), 3 * CAST(right({text}, 1) AS INTEGER) - 2"
    year_last = f"CAST(right({text}, 4) AS INTEGER), 3 * CAST(substr({text}, 2, 1) AS INTEGER) - 2"
    return (
        f"COALESCE(TRY_CAST({expr} AS DATE), CASE "
        # quarters, as finance tools export them: 2024-Q1, 2024Q1, Q1 2024, Q1-2024
        rf"WHEN regexp_full_match({text}, '\d{{4}}-?Q[1-4]') THEN make_date({year_first}, 1) "
        rf"WHEN regexp_full_match({text}, 'Q[1-4][ -]\d{{4}}') THEN make_date({year_last}, 1) "
        f"WHEN length({expr}) = 7 THEN TRY_CAST({expr} || '-01' AS DATE) "
        f"WHEN length({expr}) = 4 THEN TRY_CAST({expr} || '-01-01' AS DATE) "
        f"WHEN length({expr}) > 10 THEN TRY_CAST(TRY_CAST({expr} AS TIMESTAMP) AS DATE) "
        f"ELSE TRY_CAST(try_strptime({expr}, '%d.%m.%Y') AS DATE) END)"
    )


def _text(expr: str) -> str:
    return f"NULLIF(trim({expr}), '')"


STAGE_OBS_DDL = """CREATE OR REPLACE TEMP TABLE stage_obs (
    file_no INTEGER, rn BIGINT, pilot_id VARCHAR, metric VARCHAR, date_raw VARCHAR, date DATE,
    group_raw VARCHAR, "group" VARCHAR, unit VARCHAR, segment VARCHAR, value_raw VARCHAR,
    value DOUBLE, volume_raw VARCHAR, volume DOUBLE, direction VARCHAR)"""


STAGE_PILOTS_DDL = f"""CREATE OR REPLACE TEMP TABLE stage_pilots (
    file_no INTEGER, rn BIGINT, pilot_id VARCHAR, go_live_raw VARCHAR, go_live DATE,
    monthly_cost_raw VARCHAR, monthly_cost DOUBLE, annual_volume_raw VARCHAR,
    annual_volume DOUBLE, {", ".join(f"{f} VARCHAR" for f in PILOT_TEXT)})"""


def stage(
    cur: duckdb.DuckDBPyConnection, sources: list[Source], layouts: list[Layout]
) -> list[Problem]:
    """Read every file into the temp tables `stage_obs` / `stage_pilots`; return read errors."""
    cur.execute(STAGE_OBS_DDL)
    cur.execute(STAGE_PILOTS_DDL)
    problems: list[Problem] = []
    for file_no, (source, layout) in enumerate(zip(sources, layouts, strict=True)):
        sql = _stage_pilots_sql(layout) if layout.kind == "pilots" else _stage_obs_sql(layout)
        try:
            cur.execute(sql, stage_params(source, layout, file_no))
        except duckdb.Error as exc:
            if not source.use_clean_copy():
                problems.extend(diagnose_read_error(source, layout, exc))
                continue
            try:  # lone-CR or mixed line ends, blank lines of spaces: read the clean copy
                cur.execute(sql, stage_params(source, layout, file_no))
            except duckdb.Error as again:
                problems.extend(diagnose_read_error(source, layout, again))
    return problems


def stage_params(source: Source, layout: Layout, file_no: int) -> dict:
    """Parameters of the staging statements: the path and every option are values, never SQL."""
    params: dict = {
        "path": str(source.path),
        "delim": layout.delimiter,
        "columns": {f"c{i}": "VARCHAR" for i in range(len(layout.header))},
        "file_no": file_no,
    }
    if layout.kind == "wide":
        params["metrics"] = [m for _, m in layout.metric_columns]
    return params


def stage_pilots(
    cur: duckdb.DuckDBPyConnection, source: Source, layout: Layout, file_no: int
) -> None:
    """Read one pilots file into `stage_pilots` (raises duckdb.Error if it cannot be read)."""
    cur.execute(_stage_pilots_sql(layout), stage_params(source, layout, file_no))


def _stage_obs_sql(layout: Layout) -> str:
    c = layout.column
    keys = (
        f"rn, {_text(c('pilot_id'))} AS pilot_id, trim({c('date')}) AS date_raw, "
        f"{c('group')} AS group_raw, COALESCE(trim({c('unit')}), '') AS unit, "
        f"COALESCE(trim({c('segment')}), '') AS segment, {c('volume')} AS volume_raw"
    )
    if layout.kind == "long":
        inner = (
            f"SELECT {keys}, {normalise_metric_sql(_text(c('metric')))} AS metric, "
            f"{c('value')} AS value_raw, "
            f"lower({_text(c('direction'))}) AS direction FROM ({_read_csv_sql(layout)})"
        )
    else:
        values = ", ".join(f"c{pos}" for pos, _ in layout.metric_columns)
        inner = (
            f"SELECT * FROM (SELECT {keys}, unnest($metrics::VARCHAR[]) AS metric, "
            f"unnest([{values}]) AS value_raw, NULL::VARCHAR AS direction "
            f"FROM ({_read_csv_sql(layout)})) WHERE {_text('value_raw')} IS NOT NULL"
        )
    group = (
        "CASE WHEN group_raw IS NULL OR trim(group_raw) = '' THEN 'treatment' "
        "ELSE lower(trim(group_raw)) END"
    )
    return (
        "INSERT INTO stage_obs SELECT $file_no, rn, pilot_id, metric, date_raw, "
        f"{_date('date_raw')}, group_raw, {group}, unit, segment, value_raw, "
        f"{_number('value_raw', layout.decimal_comma)}, volume_raw, "
        f"{_number('volume_raw', layout.decimal_comma)}, direction FROM ({inner})"
    )


def fast_eligible(layouts: list[Layout]) -> bool:
    """Whether the optimistic one-pass path can take this batch: metrics files without a
    `direction` column (new metrics go the careful way)."""
    return all(lay.kind == "pilots" or "direction" not in lay.index for lay in layouts)


def fast_insert(source: Source, layout: Layout, upload_id: int) -> tuple[str, dict]:
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
    date = "date_raw" if iso_dates else _date("date_raw")
    sql = (
        f'INSERT INTO observations SELECT pilot_id, metric, {date}, "group", unit, segment, '
        f"value, volume, $upload_id FROM ({inner})"
    )
    params = {
        "path": str(source.path),
        "delim": layout.delimiter,
        "columns": types,
        "decimal": "," if layout.decimal_comma else ".",
        "upload_id": upload_id,
    }
    if layout.kind == "wide":
        params["metrics"] = [m for _, m in layout.metric_columns]
    return sql, params


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
        f"{c(f)}, {_number(c(f), layout.decimal_comma)}" for f in ("monthly_cost", "annual_volume")
    )
    go_live = f"trim({c('go_live')})"
    return (
        f"INSERT INTO stage_pilots SELECT $file_no, rn, {_text(c('pilot_id'))}, {go_live}, "
        f"{_date(go_live)}, {numbers}, {texts} FROM ({_read_csv_sql(layout)})"
    )


def prepare(
    cur: duckdb.DuckDBPyConnection,
    sources: list[Source],
    mapping: Mapping[str, str] | None,
    catalog: dict[str, CatalogEntry],
    go_live_known: set[str] | None,
) -> tuple[list[Layout], list[Problem], int, dict[str, str]]:
    """Sniff, stage and check every source. Returns layouts, problems, total, new metrics."""
    layouts: list[Layout] = []
    problems: list[Problem] = []
    for source in sources:
        found = sniff(source, mapping)
        if isinstance(found, Problem):
            problems.append(found)
        else:
            layouts.append(found)
    if problems:
        return layouts, problems, len(problems), {}
    problems = stage(cur, sources, layouts)
    if problems:
        return layouts, problems[:MAX_PROBLEMS], len(problems), {}
    problems, total, new_metrics = check(cur, sources, layouts, catalog, go_live_known)
    return layouts, problems, total, new_metrics


def validate_files(
    files: Iterable[FileInput],
    mapping: Mapping[str, str] | None = None,
    store: object | None = None,
) -> ValidationReport:
    """Check files without writing anything.

    With a `store` (a `pilotproof.store.Store`) the check uses its catalog and its pilots'
    go-live dates; without one, the built-in catalog, and pilots without a go-live date in the
    same batch are not reported (the store may know them)."""
    if store is not None:
        return store.validate(files, mapping)  # type: ignore[attr-defined]
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
    mapping: Mapping[str, str] | None,
    go_live_known: set[str] | None,
) -> ValidationReport:
    with tempfile.TemporaryDirectory(prefix="pilotproof-") as tmp:
        try:
            check_mapping(mapping)
            sources = read_sources(files, Path(tmp))
        except IngestError as exc:
            return ValidationReport(exc.problems, exc.total, {}, None)
        layouts, problems, total, _ = prepare(
            cur, sources, mapping, read_catalog(cur), go_live_known
        )
        kinds = {s.name: lay.kind for s, lay in zip(sources, layouts, strict=False)}
        if len(layouts) < len(sources):
            return ValidationReport(problems, total, kinds, None)
        preview, rows = _preview(cur)
        return ValidationReport(problems, total, kinds, preview, rows)


def _preview(cur: duckdb.DuckDBPyConnection) -> tuple[pd.DataFrame | None, int]:
    n_obs = cur.execute("SELECT count(*) FROM stage_obs").fetchone()[0]
    if n_obs:
        frame = cur.execute(
            'SELECT pilot_id, metric, date, "group", unit, segment, value, volume '
            "FROM stage_obs ORDER BY file_no, rn LIMIT 20"
        ).df()
        return frame, n_obs
    n_pilots = cur.execute("SELECT count(*) FROM stage_pilots").fetchone()[0]
    frame = cur.execute(
        f"SELECT {', '.join(PILOT_FIELDS)} FROM stage_pilots ORDER BY file_no, rn LIMIT 20"
    ).df()
    return frame, n_pilots
