"""CSV ingest: read, recognise, validate and stage metrics and pilots files in DuckDB.

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

Line numbers are physical lines of the file with the header as line 1. DuckDB numbers records, not
lines, and skips blank lines; when a file contains a quote character or a blank line (so a record
may span several lines, or lines are skipped), the record numbers are mapped back to physical lines
by re-reading the file with Python's `csv` module - only on the error path. Ragged rows, broken
quoting and bad encodings make DuckDB's reader fail; the file is then re-read with `csv` to name
each bad line.

Layouts, told apart by the header:
- long: `pilot_id, date, metric, value` and optional `group, unit, segment, volume, direction`;
- wide: `pilot_id, date`, optional `group, unit, segment, volume`, then one column per metric;
- pilots: `pilot_id, go_live` and the optional registry and readiness columns.
A header with `;` and no `,` is Excel's European form: `;` delimiter, decimal comma.
Dates: `YYYY-MM-DD` (a time part is ignored), `YYYY-MM` (monthly, first day), `YYYY` (yearly,
1 January) and `DD.MM.YYYY` (what Excel European exports).
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
import tempfile
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import duckdb

from .catalog import DIRECTIONS, RATE_UNITS
from .errors import IngestError, Problem
from .schema import PILOT_FIELDS

if TYPE_CHECKING:
    import pandas as pd

FileInput = str | Path | tuple[str, bytes]
FileKind = Literal["long", "wide", "pilots"]
Progress = Callable[[float, str], None]

#: Problems kept in a report; the total is always counted.
MAX_PROBLEMS = 200

OBS_OPTIONAL = ("group", "unit", "segment", "volume", "direction")
WIDE_KEYS = ("pilot_id", "date", "group", "unit", "segment", "volume")
PILOT_NUMERIC = ("monthly_cost", "annual_volume")
PILOT_TEXT = tuple(f for f in PILOT_FIELDS if f not in ("pilot_id", "go_live", *PILOT_NUMERIC))
GROUPS = ("treatment", "control")

_DATE_SHAPE = re.compile(r"^\s*(\d{4}-\d{1,2}-\d{1,2}|\d{1,2}\.\d{1,2}\.\d{4}|\d{4}-\d{1,2})\s*$")
_LINE_IN_DUCKDB_ERROR = re.compile(r"Line: (\d+)")


class Source:
    """One input file: the name shown to the user, a path DuckDB can read, its first bytes, and
    its SHA-256 and first NUL byte, found by a background thread that reads the file in chunks
    (hashlib releases the GIL), so a large file is hashed while DuckDB loads it. The whole
    content (`data`) is read only when a problem has to be placed on a line."""

    HEAD = 1 << 16
    CHUNK = 1 << 22

    def __init__(self, name: str, path: Path, data: bytes | None = None) -> None:
        self.name = name
        self.path = path
        self._data = data
        if data is not None:
            self.head = data[: self.HEAD]
        else:
            with path.open("rb") as handle:
                self.head = handle.read(self.HEAD)
        self._hash = ""
        self._nul = -1
        self._scanner = threading.Thread(target=self._scan, daemon=True)
        self._scanner.start()

    def _scan(self) -> None:
        digest = hashlib.sha256()
        if self._data is not None:
            digest.update(self._data)
            self._nul = self._data.find(b"\x00")
        else:
            offset = 0
            with self.path.open("rb") as handle:
                while chunk := handle.read(self.CHUNK):
                    digest.update(chunk)
                    if self._nul < 0 and (at := chunk.find(b"\x00")) >= 0:
                        self._nul = offset + at
                    offset += len(chunk)
        self._hash = digest.hexdigest()

    @property
    def content_hash(self) -> str:
        self._scanner.join()
        return self._hash

    def first_nul(self) -> int:
        """Offset of the first NUL byte (a binary file), or -1."""
        self._scanner.join()
        return self._nul

    @property
    def data(self) -> bytes:
        if self._data is None:
            self._data = self.path.read_bytes()
        return self._data

    @property
    def whole_in_head(self) -> bool:
        return len(self.head) < self.HEAD


@dataclass
class Layout:
    kind: FileKind
    delimiter: str
    decimal_comma: bool
    header: list[str]  # as written in the file
    index: dict[str, int]  # contract column -> position
    metric_columns: list[tuple[int, str]] = field(default_factory=list)  # wide: (position, metric)

    def column(self, name: str) -> str:
        """The SQL identifier DuckDB reads this contract column into, or NULL when absent.

        Columns are read under generated names `c0, c1, ...`, so no header text ever reaches SQL.
        """
        return f"c{self.index[name]}" if name in self.index else "NULL"

    def shown(self, name: str) -> str:
        """The column name as the user wrote it, for messages."""
        return self.header[self.index[name]] if name in self.index else name


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


# ---------------------------------------------------------------------------------------------
# reading


def read_sources(files: Iterable[FileInput], workdir: Path) -> list[Source]:
    """Open every input and start hashing it; uploads given as bytes are written to `workdir`."""
    sources: list[Source] = []
    for i, item in enumerate(files):
        if isinstance(item, tuple):
            name, data = item
            path = workdir / f"upload_{i}.csv"
            path.write_bytes(data)
            sources.append(Source(name, path, data))
            continue
        try:
            sources.append(Source(str(item), Path(item)))
        except OSError as exc:
            problem = Problem(str(item), 1, "-", f"cannot read the file: {exc.strerror}")
            raise IngestError([problem]) from exc
    return sources


def _normalise(name: str) -> str:
    return re.sub(r"\s+", "_", name.strip().strip("\ufeff").strip().lower())


def sniff(
    source: Source, mapping: Mapping[str, str] | None = None, whole_file: bool = True
) -> Layout | Problem:
    """Recognise the file's layout from its first line, or say why it cannot be read.

    `whole_file=False` looks for binary content in the first 64 KB only (the fast path checks
    the rest once the background scan is done)."""
    problem = _binary_problem(source, whole_file)
    if problem:
        return problem
    data = source.head
    newline = data.find(b"\n")
    if newline < 0 and not source.whole_in_head:
        data = source.data
        newline = data.find(b"\n")
    first = data if newline < 0 else data[:newline]
    try:
        header_text = first.decode("utf-8-sig").rstrip("\r")
    except UnicodeDecodeError as exc:
        return Problem(source.name, 1, "-", _not_utf8(first, exc))
    if not header_text.strip():
        return Problem(source.name, 1, "-", "the first line is empty: it must be the header")
    delimiter, decimal_comma = ",", False
    if ";" in header_text and "," not in header_text:
        delimiter, decimal_comma = ";", True
    elif "\t" in header_text and "," not in header_text:
        delimiter = "\t"
    try:
        header = next(csv.reader([header_text], delimiter=delimiter, strict=True))
    except (csv.Error, StopIteration) as exc:
        return Problem(source.name, 1, "-", f"cannot read the header: {exc}")
    renames = {_normalise(k): _normalise(v) for k, v in (mapping or {}).items()}
    names = [_normalise(h) for h in header]
    names = [renames.get(n, n) for n in names]
    index: dict[str, int] = {}
    for pos, name in enumerate(names):
        if not name:
            continue
        if name in index:
            return Problem(source.name, 1, header[pos], f"column '{name}' appears twice")
        index[name] = pos
    layout = Layout("long", delimiter, decimal_comma, header, index)
    if "metric" in index and "value" in index:
        required = ("pilot_id", "date", "metric", "value")
    elif "go_live" in index:
        layout.kind = "pilots"
        required = ("pilot_id", "go_live")
    elif "pilot_id" in index and "date" in index:
        layout.kind = "wide"
        required = ("pilot_id", "date")
        layout.metric_columns = [(pos, n) for n, pos in index.items() if n not in WIDE_KEYS]
        if not layout.metric_columns:
            return Problem(source.name, 1, "-", "a wide metrics file needs one column per metric")
    else:
        return Problem(
            source.name,
            1,
            "-",
            "cannot tell what this file holds: expected a long metrics file (pilot_id, date, "
            "metric, value), a wide one (pilot_id, date, one column per metric) or a pilots "
            "file (pilot_id, go_live)",
        )
    for name in required:
        if name not in index:
            return Problem(source.name, 1, name, f"required column '{name}' is missing")
    if newline < 0 or not (
        _has_text(data, newline + 1) or (not source.whole_in_head and _has_text(source.data, 0))
    ):
        return Problem(source.name, 2, "-", "the file has a header but no data rows")
    return layout


def _binary_problem(source: Source, whole_file: bool = True) -> Problem | None:
    head = source.head
    bom = 3 if head.startswith(b"\xef\xbb\xbf") else 0
    if not _has_text(head, bom) and (source.whole_in_head or not _has_text(source.data, bom)):
        return Problem(source.name, 1, "-", "the file is empty")
    if head.startswith((b"PK\x03\x04", b"\xd0\xcf\x11\xe0")):
        return Problem(
            source.name, 1, "-", "this is an Excel workbook, not CSV: save it as 'CSV UTF-8'"
        )
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return Problem(source.name, 1, "-", "the file is UTF-16 text: save it as 'CSV UTF-8'")
    nul = head.find(b"\x00")
    if nul < 0 and whole_file:
        nul = source.first_nul()
    if nul >= 0:
        line = source.data.count(b"\n", 0, nul) + 1
        return Problem(source.name, line, "-", "binary data (a NUL byte), not CSV text")
    return None


def _has_text(data: bytes, start: int) -> bool:
    """Whether anything but whitespace follows `start`, without copying a large file."""
    return re.compile(rb"\S").search(data, start) is not None


def _not_utf8(data: bytes, exc: UnicodeDecodeError) -> str:
    bad = data[exc.start : exc.start + 1].hex()
    return f"not UTF-8 text (byte 0x{bad}): save the file as 'CSV UTF-8'"


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
    text = f"replace(trim({expr}), ',', '.')" if decimal_comma else f"trim({expr})"
    return f"TRY_CAST({text} AS DOUBLE)"


def _date(expr: str) -> str:
    return (
        f"COALESCE(TRY_CAST({expr} AS DATE), CASE "
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
            problems.extend(diagnose_read_error(source, layout, exc))
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
            f"SELECT {keys}, lower({_text(c('metric'))}) AS metric, {c('value')} AS value_raw, "
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
    iso_dates = _first_date_is_iso(source, layout)
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


_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _first_date_is_iso(source: Source, layout: Layout) -> bool:
    """Whether the first data row's date is a plain YYYY-MM-DD (then DuckDB parses dates)."""
    head = source.head.decode("utf-8-sig", errors="replace")
    try:
        rows = csv.reader(io.StringIO(head, newline=""), delimiter=layout.delimiter)
        next(rows)
        first = next(rows)
        return bool(_ISO_DATE.match(first[layout.index["date"]]))
    except (StopIteration, IndexError, csv.Error):
        return False


def fast_strings_clean(pilot_id: str, metric: str, group: str, unit: str, segment: str) -> bool:
    """Whether strings stored as read equal what the careful path would store."""
    return (
        bool(pilot_id)
        and pilot_id == pilot_id.strip()
        and bool(metric)
        and metric == metric.strip().lower()
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


def diagnose_read_error(source: Source, layout: Layout, exc: duckdb.Error) -> list[Problem]:
    """Turn a DuckDB read failure into problems naming the line: bad encoding, ragged rows or
    broken quoting, found by re-reading the file with Python's `csv` module."""
    try:
        text = source.data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = source.data.count(b"\n", 0, err.start) + 1
        return [Problem(source.name, line, "-", _not_utf8(source.data, err))]
    problems: list[Problem] = []
    width = len(layout.header)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=layout.delimiter, strict=True)
    last_line = 0
    try:
        for record in reader:
            start, last_line = last_line + 1, reader.line_num
            if start == 1 or not record:
                continue
            if len(record) != width:
                problems.append(
                    Problem(
                        source.name,
                        start,
                        "-",
                        f"ragged row: {len(record)} fields where the header has {width}",
                    )
                )
    except csv.Error as err:
        message = (
            "a quoted field opened on this line is never closed"
            if "end of data" in str(err)
            else f"malformed CSV: {err}"
        )
        problems.append(Problem(source.name, last_line + 1, "-", message))
    if problems:
        return problems
    message = str(exc).strip().splitlines()[0]
    match = _LINE_IN_DUCKDB_ERROR.search(str(exc))
    return [Problem(source.name, int(match.group(1)) if match else 1, "-", message)]


# ---------------------------------------------------------------------------------------------
# validation


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
) -> tuple[list[Problem], int, dict[str, str]]:
    """Validate the staged batch. Returns (problems capped at MAX_PROBLEMS, total count, new
    metrics with their directions). `go_live_known=None` skips the go-live check."""
    findings: list[Finding] = []
    total = 0
    total += _row_checks(cur, layouts, findings)
    total += pilot_row_checks(cur, layouts, findings)
    new_metrics, n = _metric_checks(cur, layouts, catalog, findings)
    total += n
    total += _conflict_checks(cur, layouts, findings)
    if go_live_known is not None:
        total += _go_live_checks(cur, layouts, go_live_known, findings)
    findings.sort(key=lambda f: (f.file_no, f.rn))
    kept = findings[:MAX_PROBLEMS]
    return _to_problems(sources, layouts, kept), max(total, len(findings)), new_metrics


def _value_column(layout: Layout, metric: str | None) -> str:
    if layout.kind == "wide" and metric is not None:
        for pos, name in layout.metric_columns:
            if name == metric:
                return layout.header[pos]
    return layout.shown("value")


def _row_checks(cur: duckdb.DuckDBPyConnection, layouts: list[Layout], out: list[Finding]) -> int:
    checks = (
        ("pilot_id", "pilot_id IS NULL"),
        ("metric", "metric IS NULL"),
        ("date", "date IS NULL OR year(date) NOT BETWEEN 1900 AND 2200"),
        ("group", "\"group\" NOT IN ('treatment', 'control')"),
        ("value", "value IS NULL OR isnan(value) OR isinf(value)"),
        (
            "volume",
            "NULLIF(trim(volume_raw), '') IS NOT NULL AND "
            "(volume IS NULL OR isnan(volume) OR isinf(volume) OR volume < 0)",
        ),
        (
            "direction",
            "direction IS NOT NULL AND direction NOT IN ('lower_is_better', 'higher_is_better')",
        ),
    )
    counts = cur.execute(
        "SELECT " + ", ".join(f"count(*) FILTER ({cond})" for _, cond in checks) + " FROM stage_obs"
    ).fetchone()
    total = 0
    for (column, cond), n in zip(checks, counts, strict=True):
        if not n:
            continue
        total += n
        rows = cur.execute(
            f"SELECT file_no, rn, metric, date_raw, group_raw, value_raw, volume_raw, direction, "
            f"value FROM stage_obs WHERE {cond} ORDER BY file_no, rn LIMIT $cap",
            {"cap": MAX_PROBLEMS},
        ).fetchall()
        for row in rows:
            file_no, rn, metric, date_raw, group_raw, value_raw, volume_raw, direction, value = row
            layout = layouts[file_no]
            shown = layout.shown(column)
            if column == "pilot_id":
                message = "missing pilot_id"
            elif column == "metric":
                message = "missing metric name"
            elif column == "date":
                message = _date_message(date_raw)
            elif column == "group":
                message = f"group '{group_raw}' must be 'treatment' or 'control'"
            elif column == "value":
                shown = _value_column(layout, metric)
                message = _number_message(value_raw, value)
            elif column == "volume":
                message = _number_message(volume_raw, None, what="volume", non_negative=True)
            else:
                message = f"direction '{direction}' must be 'lower_is_better' or 'higher_is_better'"
            out.append(Finding(file_no, rn, shown, message))
    return total


def _date_message(raw: str | None) -> str:
    if raw is None or not raw.strip():
        return "missing date"
    if _DATE_SHAPE.match(raw):
        return f"impossible date '{raw}'"
    return f"'{raw}' is not a date (use YYYY-MM-DD, YYYY-MM, YYYY or DD.MM.YYYY)"


def _number_message(
    raw: str | None, value: float | None, what: str = "value", non_negative: bool = False
) -> str:
    if raw is None or not raw.strip():
        return f"missing {what}"
    number = value
    if number is None:
        try:
            number = float(raw.strip().replace(",", "."))
        except ValueError:
            return f"'{raw}' is not a number"
    if number != number or number in (float("inf"), float("-inf")):
        return f"{what} '{raw}' is not a finite number (NaN/inf are not allowed)"
    if non_negative and number < 0:
        return f"{what} {raw} is negative"
    return f"'{raw}' is not a number"


def pilot_row_checks(
    cur: duckdb.DuckDBPyConnection, layouts: list[Layout], out: list[Finding]
) -> int:
    checks = (
        ("pilot_id", "pilot_id IS NULL"),
        ("go_live", "go_live IS NULL OR year(go_live) NOT BETWEEN 1900 AND 2200"),
        (
            "monthly_cost",
            "NULLIF(trim(monthly_cost_raw), '') IS NOT NULL AND (monthly_cost IS NULL OR "
            "isnan(monthly_cost) OR isinf(monthly_cost) OR monthly_cost < 0)",
        ),
        (
            "annual_volume",
            "NULLIF(trim(annual_volume_raw), '') IS NOT NULL AND (annual_volume IS NULL OR "
            "isnan(annual_volume) OR isinf(annual_volume) OR annual_volume < 0)",
        ),
    )
    total = 0
    for column, cond in checks:
        rows = cur.execute(
            f"SELECT file_no, rn, go_live_raw, monthly_cost_raw, annual_volume_raw, "
            f"count(*) OVER () FROM stage_pilots WHERE {cond} ORDER BY file_no, rn LIMIT $cap",
            {"cap": MAX_PROBLEMS},
        ).fetchall()
        if rows:
            total += rows[0][5]
        for file_no, rn, go_live_raw, cost_raw, volume_raw, _ in rows:
            if column == "pilot_id":
                message = "missing pilot_id"
            elif column == "go_live":
                message = (
                    "missing go-live date"
                    if not go_live_raw
                    else _date_message(go_live_raw).replace("date", "go-live date", 1)
                )
            elif column == "monthly_cost":
                message = _number_message(cost_raw, None, "monthly_cost", non_negative=True)
            else:
                message = _number_message(volume_raw, None, "annual_volume", non_negative=True)
            out.append(Finding(file_no, rn, layouts[file_no].shown(column), message))
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
                f"pilot '{pilot_id}' appears again with different details"
                f" (first at record {first_file}:{first_rn})",
            )
        )
    return total + len(rows)


def _metric_checks(
    cur: duckdb.DuckDBPyConnection,
    layouts: list[Layout],
    catalog: dict[str, CatalogEntry],
    out: list[Finding],
) -> tuple[dict[str, str], int]:
    """Unknown metrics without a direction, conflicting directions, negatives and rates above 1."""
    stats = cur.execute(
        "SELECT metric, file_no, min(rn), min(value), max(value), "
        "list(DISTINCT direction) FILTER (direction IS NOT NULL) "
        "FROM stage_obs WHERE metric IS NOT NULL AND isfinite(value) "
        "GROUP BY metric, file_no ORDER BY metric, file_no"
    ).fetchall()
    total = 0
    by_metric: dict[str, list[tuple]] = {}
    for row in stats:
        by_metric.setdefault(row[0], []).append(row)
    new_metrics: dict[str, str] = {}
    for metric, rows in by_metric.items():
        directions = sorted({d for r in rows for d in (r[5] or []) if d in DIRECTIONS})
        entry = catalog.get(metric)
        file_no, first_rn = rows[0][1], rows[0][2]
        layout = layouts[file_no]
        if entry is None:
            if not directions:
                total += 1
                out.append(
                    Finding(
                        file_no,
                        first_rn,
                        layout.shown("metric") if layout.kind == "long" else metric,
                        f"unknown metric '{metric}': give it a direction column "
                        "(lower_is_better or higher_is_better) or add it to the catalog",
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
                        f"metric '{metric}' is given both directions: {' and '.join(directions)}",
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
                    f"metric '{metric}' is {entry.direction} in the catalog, not {direction}",
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
                f"{metric} cannot be negative: {{raw}}",
            )
        if high > 1 and entry.unit in RATE_UNITS:
            total += _flag_rows(
                cur,
                layouts,
                out,
                "metric = $metric AND value > 1",
                {"metric": metric},
                "value",
                f"{metric} is a rate and cannot exceed 1: {{raw}} (write 23% as 0.23)",
            )
    return new_metrics, total


def _flag_rows(
    cur: duckdb.DuckDBPyConnection,
    layouts: list[Layout],
    out: list[Finding],
    condition: str,
    params: dict,
    column: str,
    template: str,
) -> int:
    rows = cur.execute(
        f"SELECT file_no, rn, metric, value_raw, count(*) OVER () FROM stage_obs "
        f"WHERE {condition} ORDER BY file_no, rn LIMIT $cap",
        {**params, "cap": MAX_PROBLEMS},
    ).fetchall()
    for file_no, rn, metric, raw, _ in rows:
        layout = layouts[file_no]
        shown = _value_column(layout, metric) if column == "value" else layout.shown(column)
        out.append(Finding(file_no, rn, shown, template.format(raw=raw)))
    return rows[0][4] if rows else 0


def _conflict_checks(
    cur: duckdb.DuckDBPyConnection, layouts: list[Layout], out: list[Finding]
) -> int:
    """Rows with the same key (pilot, metric, date, group, unit, segment) and another value.

    A cheap count of distinct key hashes first: in the usual case it equals the row count and
    nothing else runs. Exact duplicates are fine (written once)."""
    n, distinct = cur.execute(
        'SELECT count(*), count(DISTINCT hash(pilot_id, metric, date, "group", unit, segment)) '
        "FROM stage_obs"
    ).fetchone()
    if n == distinct:
        return 0
    rows = cur.execute(
        "SELECT file_no, rn, metric, value_raw, first_file, first_rn, first_raw, "
        "count(*) OVER () FROM ("
        "  SELECT *, first_value(file_no) OVER w AS first_file, first_value(rn) OVER w AS first_rn,"
        "    first_value(value_raw) OVER w AS first_raw, first_value(value) OVER w AS first_value,"
        "    first_value(volume) OVER w AS first_volume"
        "  FROM stage_obs"
        '  WINDOW w AS (PARTITION BY pilot_id, metric, date, "group", unit, segment'
        "               ORDER BY file_no, rn)"
        ") WHERE value IS DISTINCT FROM first_value OR volume IS DISTINCT FROM first_volume "
        "ORDER BY file_no, rn LIMIT $cap",
        {"cap": MAX_PROBLEMS},
    ).fetchall()
    for file_no, rn, metric, raw, first_file, first_rn, first_raw, _ in rows:
        out.append(
            Finding(
                file_no,
                rn,
                _value_column(layouts[file_no], metric),
                f"conflicting duplicate: {metric} = {raw} here but {first_raw} at "
                f"{{line:{first_file}:{first_rn}}} (same pilot, date, group, unit and segment)",
            )
        )
    return rows[0][7] if rows else 0


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
        "SELECT pilot_id, arg_min(file_no * 1e12 + rn, file_no * 1e12 + rn) FROM stage_obs "
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
                f"pilot '{pilot_id}' has no go-live date: upload a pilots file "
                "(pilot_id, go_live) that lists it",
            )
        )
    return total


def _to_problems(
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

    def ref(match: re.Match) -> str:
        file_no, rn = int(match.group(1)), int(match.group(2))
        return f"{sources[file_no].name}:{lines[file_no][rn]}"

    return [
        Problem(sources[f.file_no].name, lines[f.file_no][f.rn], f.column, refs.sub(ref, f.message))
        for f in findings
    ]


def record_lines(source: Source, rns: set[int], delimiter: str = ",") -> dict[int, int]:
    """Physical line (header = 1) where each data record (1-based) starts."""
    data = source.data
    simple = b'"' not in data and b"\n\n" not in data and b"\n\r\n" not in data
    if simple:
        return {rn: rn + 1 for rn in rns}
    text = data.decode("utf-8-sig", errors="replace")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=False)
    found: dict[int, int] = {}
    last_line, rn, top = 0, 0, max(rns)
    for i, record in enumerate(reader):
        start, last_line = last_line + 1, reader.line_num
        if i == 0 or not record:
            continue
        rn += 1
        if rn in rns:
            found[rn] = start
        if rn >= top:
            break
    return {r: found.get(r, r + 1) for r in rns}


# ---------------------------------------------------------------------------------------------
# the whole check, without writing


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


def read_catalog(cur: duckdb.DuckDBPyConnection) -> dict[str, CatalogEntry]:
    rows = cur.execute(
        "SELECT metric, direction, COALESCE(unit, ''), COALESCE(can_be_negative, false) "
        "FROM metric_catalog"
    ).fetchall()
    return {m: CatalogEntry(d, u, bool(neg)) for m, d, u, neg in rows}


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
