"""Reading input files: open them, recognise their layout from the header, and place problems
on physical lines.

Layouts, told apart by the header:
- long: `pilot_id, date, metric, value` and optional `group, unit, segment, volume, direction`;
- wide: `pilot_id, date`, optional `group, unit, segment, volume`, then one column per metric;
- pilots: `pilot_id, go_live` and the optional registry and readiness columns.
A header with `;` and no `,` is Excel's European form: `;` delimiter, decimal comma. A column
mapping (`ReadOptions`) renames or drops columns first, and may say the whole file is one pilot.
Workbooks are read as the CSV of one sheet (`workbooks.py`); their lines are the sheet's rows.

Line numbers are physical lines of the file with the header as line 1. DuckDB numbers records, not
lines, and skips blank lines; when a file contains a quote character or a blank line (so a record
may span several lines, or lines are skipped), record numbers are mapped back to physical lines by
re-reading the file with Python's `csv` module - only on the error path. Ragged rows, broken
quoting and bad encodings make DuckDB's reader fail; the file is then re-read with `csv` to name
each bad line.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Literal

import duckdb

from . import workbooks
from .catalog import DIRECTIONS, normalise_metric
from .errors import IngestError, Problem, clip, counted
from .formats import (
    DATE_ORDERS,
    DECIMAL_MARKS,
    EXCEL_EPOCH,
    EXCEL_EPOCH_1904,
    DateOrder,
    DecimalMark,
    MonthYearReading,
)
from .schema import PILOT_FIELDS

FileInput = str | Path | tuple[str, bytes]
FileKind = Literal["long", "wide", "pilots"]

#: The mapping target that drops a column (a `Team` column nobody needs).
IGNORE = "(ignore)"

#: What a column mapping may write for `IGNORE` (on the command line, `notes=ignore`).
IGNORE_SPELLINGS = (IGNORE, "ignore")


def is_ignore(target: str) -> bool:
    """Whether a mapping target drops the column: `(ignore)` or `ignore`, in any case."""
    return target.strip().lower() in IGNORE_SPELLINGS


def unknown_mapped_headers(
    columns: Mapping[str, str], headers: Iterable[str]
) -> list[tuple[str, str | None]]:
    """The mapped headers no header of `headers` matches (compared as the ingest compares them:
    trimmed, case and spaces aside), each with the closest header there is, or None."""
    import difflib

    known = {_normalise(h): h for h in headers}
    missing: list[tuple[str, str | None]] = []
    for header in columns:
        if _normalise(header) not in known:
            close = difflib.get_close_matches(_normalise(header), list(known), n=1, cutoff=0.6)
            missing.append((header, known[close[0]] if close else None))
    return missing


@dataclass(frozen=True)
class ReadOptions:
    """How to read files whose form differs from the contract, as the user says in the column
    mapping (or on the command line).

    - `columns`: file header -> contract column, metric name, or `IGNORE`. The values of a
      mapped column may be formatted (`4.0%`, `$12.19`, `(0.024)`, `1,234`).
    - `pilot_id`: the whole file is this pilot (for a metrics file without a pilot column).
    - `date_order`: how `06/01/2025` reads; `auto` lets the file decide (a field above 12).
    - `decimal_mark`: how `40.125` and `1,200` read (`point`: `.` is the decimal mark, `,`
      separates thousands; `comma`: the other way round); `auto` lets each number column decide
      (`formats.decimal_evidence_sql`), and refuses such numbers in a column that does not.
    - `new_metrics`: metric -> direction, for metrics this upload adds to the catalog.
    - `sheets`: file name -> sheet, for workbooks with several sheets.
    - `new_pilot`: (go-live, name) or (go-live, name, company) to register `pilot_id` as a new
      pilot with this upload (it becomes a one-row pilots file, recorded and undone like any
      other).
    """

    columns: Mapping[str, str] = field(default_factory=dict)
    pilot_id: str | None = None
    date_order: DateOrder = "auto"
    decimal_mark: DecimalMark = "auto"
    new_metrics: Mapping[str, str] = field(default_factory=dict)
    sheets: Mapping[str, str] = field(default_factory=dict)
    new_pilot: tuple[date, str] | tuple[date, str, str] | None = None

    def with_new_pilot(self, files: Iterable[FileInput]) -> list[FileInput]:
        """`files`, after the one-row pilots file that registers the new pilot, if any."""
        if self.new_pilot is None or not self.pilot_id:
            return list(files)
        go_live, name, *company = self.new_pilot
        text = io.StringIO()
        writer = csv.writer(text, lineterminator="\n")
        header = ("pilot_id", "go_live", "pilot_name", *(("company",) if company else ()))
        writer.writerows([header, (self.pilot_id, go_live, name, *company)])
        return [(f"new pilot {self.pilot_id}", text.getvalue().encode()), *files]


def as_options(mapping: Mapping[str, str] | ReadOptions | None) -> ReadOptions:
    """Options from a plain column mapping (or None), checked; IngestError names a bad entry."""
    options = mapping if isinstance(mapping, ReadOptions) else ReadOptions(check_mapping(mapping))
    check_mapping(options.columns)
    bad: list[Problem] = []
    if options.date_order not in DATE_ORDERS:
        bad.append(Problem("-", 1, "-", "date order must be month_first or day_first"))
    if options.decimal_mark not in DECIMAL_MARKS:
        bad.append(Problem("-", 1, "-", "decimal mark must be point or comma"))
    if options.pilot_id is not None and not str(options.pilot_id).strip():
        bad.append(Problem("-", 1, "pilot_id", "the pilot for the whole file has no id"))
    if options.new_pilot is not None and (
        not options.pilot_id or not isinstance(options.new_pilot[0], date)
    ):
        bad.append(Problem("-", 1, "go_live", "a new pilot needs an id and a go-live date"))
    for metric, direction in options.new_metrics.items():
        if not normalise_metric(metric) or direction not in DIRECTIONS:
            message = f"new metric '{clip(metric)}' needs a name and a direction"
            bad.append(Problem("-", 1, "metric", message))
    if bad:
        raise IngestError(bad)
    return options


WIDE_KEYS = ("pilot_id", "date", "group", "unit", "segment", "volume")

#: The most metric columns a wide file may have. Each is one expression in the staging SQL, and
#: DuckDB's time and memory for it grow faster than the columns: 500 take about 5 s, 2,000 take
#: 17 s and 0.9 GB, and a 170 kB one-row file of 20,000 took 145 s and 6.8 GB.
MAX_METRIC_COLUMNS = 500


PILOT_NUMERIC = ("monthly_cost", "annual_volume")


PILOT_TEXT = tuple(f for f in PILOT_FIELDS if f not in ("pilot_id", "go_live", *PILOT_NUMERIC))


GROUPS = ("treatment", "control")


_LINE_IN_DUCKDB_ERROR = re.compile(r"Line: (\d+)")


#: A line end: CRLF (Windows), LF, or a lone CR (classic Mac "CSV (Macintosh)").
_LINE_END = re.compile(rb"\r\n|\r|\n")


#: A line of only spaces or tabs (not the first line).
_BLANK_LINE = re.compile(rb"[\r\n][ \t]+(?:[\r\n]|$)")


class Source:
    """One input file: the name shown to the user, a path DuckDB can read, its first bytes, and
    its SHA-256 and first NUL byte, found by a background thread that reads the file in chunks
    (hashlib releases the GIL), so a large file is hashed while DuckDB loads it. The whole
    content (`data`) is read only when a problem has to be placed on a line."""

    HEAD = 1 << 16
    CHUNK = 1 << 22

    def __init__(
        self, name: str, path: Path, data: bytes | None = None, workdir: Path | None = None
    ) -> None:
        self.name = name
        self.path = path
        self.workdir = workdir if workdir is not None else path.parent
        self._data = data
        if data is not None:
            self.head = data[: self.HEAD]
        else:
            with path.open("rb") as handle:
                self.head = handle.read(self.HEAD)
        self._hash = ""
        self._nul = -1
        #: (header name, contract name) pairs a column mapping applied, set by `sniff`
        self.renamed: tuple[tuple[str, str], ...] = ()
        #: for a workbook sheet: the sheet row of its header (lines are then sheet rows)
        self.header_row: int | None = None
        #: for a workbook sheet: whether its workbook counts serial days in the 1904 system
        self.date1904 = False
        #: title lines cut from above the header: added back to every line number
        self.line_offset = 0
        #: the delimiter a `sep=;` first line (as Excel writes it) declares
        self.declared_delimiter: str | None = None
        #: warnings about how the file was read (a report's title or footer lines skipped)
        self.notes: list[Problem] = []
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
        """SHA-256 of the bytes; when a column mapping renamed columns of this file, of the
        bytes and those renames, so that the same file re-uploaded with a corrected mapping is
        new content, not a no-op."""
        self._scanner.join()
        if not self.renamed:
            return self._hash
        return hashlib.sha256(json.dumps([self._hash, self.renamed]).encode()).hexdigest()

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

    def use_clean_copy(self) -> bool:
        """After DuckDB could not read the file: if it has lone-CR or mixed line ends, or lines
        of only spaces/tabs, read from now on a copy in the work directory with every line
        ending in LF and such lines empty (DuckDB skips empty lines). Physical lines stay where
        they were, so problems still name the user's lines; the content hash stays that of the
        original bytes. Returns whether a copy was made (False: nothing to clean)."""
        data = self.data
        if b"\r" not in data and not _BLANK_LINE.search(data):
            return False
        lines = _LINE_END.split(data)
        cleaned = b"\n".join(b"" if not line.strip(b" \t") else line for line in lines)
        if cleaned == data:
            return False
        self.content_hash  # noqa: B018 - finish hashing the original before switching
        path = self.workdir / f"clean_{id(self)}.csv"
        path.write_bytes(cleaned)
        self.path, self._data = path, cleaned
        self.head = cleaned[: self.HEAD]
        return True


@dataclass
class Layout:
    kind: FileKind
    delimiter: str
    decimal_comma: bool
    header: list[str]  # as written in the file
    index: dict[str, int]  # contract column -> position
    metric_columns: list[tuple[int, str]] = field(default_factory=list)  # wide: (position, metric)
    #: the whole file is this pilot (no pilot column); read through the `$pilot` parameter
    pilot_constant: str | None = None
    #: positions of columns the user mapped: their numbers may be formatted (`4.0%`, `$1,234`)
    formatted: frozenset[int] = frozenset()
    #: a workbook sheet's day zero (`formats.EXCEL_EPOCH`, or `EXCEL_EPOCH_1904`): numbers in
    #: its date column are Excel serial days; None for a CSV
    serial_epoch: str | None = None
    #: how the file's `Jan-05` dates read, decided from the whole column once staged
    month_years: MonthYearReading | None = None
    #: how slash dates read: given, decided by the file, or None (nothing decides)
    date_order: DateOrder | None = None
    #: slash dates with fields above 12 in both places: no one order reads them all
    date_orders_mixed: bool = False
    #: the decimal mark the user chose for every number column (else each column decides)
    decimal_given: bool = False
    #: separators of numbers like `40.125` a column of the file did not decide: refused
    undecided_marks: frozenset[str] = frozenset()

    def column(self, name: str) -> str:
        """The SQL identifier DuckDB reads this contract column into, or NULL when absent.

        Columns are read under generated names `c0, c1, ...`, so no header text ever reaches SQL.
        """
        if name == "pilot_id" and self.pilot_constant is not None:
            return "$pilot"
        at = self.index.get(name, -1)
        return f"c{at}" if at >= 0 else "NULL"

    def params(self) -> dict[str, str]:
        """Parameters the layout's columns refer to (the whole-file pilot)."""
        return {} if self.pilot_constant is None else {"pilot": self.pilot_constant}

    def shown(self, name: str) -> str:
        """The column name as the user wrote it, for messages."""
        at = self.index.get(name, -1)
        return clip(self.header[at]) if at >= 0 else name


def file_name(item: FileInput) -> str:
    """The name an input goes by in problems: an upload's own name, or the path given."""
    return item[0] if isinstance(item, tuple) else str(item)


def _contents(item: FileInput) -> bytes:
    """The bytes of an input: an upload's own, or the file's at a path."""
    return item[1] if isinstance(item, tuple) else Path(item).read_bytes()


def read_sources(
    files: Iterable[FileInput],
    workdir: Path,
    sheets: Mapping[str, str] | None = None,
    first_rows: int | None = None,
) -> list[Source]:
    """`open_sources`, raising IngestError with every file's refusal when any file is refused."""
    sources, refused = open_sources(files, workdir, sheets, first_rows)
    if refused:
        raise IngestError(refused)
    return sources


def open_sources(
    files: Iterable[FileInput],
    workdir: Path,
    sheets: Mapping[str, str] | None = None,
    first_rows: int | None = None,
) -> tuple[list[Source], list[Problem]]:
    """Open every input and start hashing it; uploads given as bytes are written to `workdir`.
    A workbook becomes the CSV of one sheet (`sheets[name]`, or its only sheet). `first_rows`
    keeps the header and that many lines of each file given as bytes (a preview).

    Returns the sources that opened and the problems of those that did not (a damaged
    workbook, a sheet of formulas never calculated, a path that cannot be read): a refused
    file does not stop the others being opened, so their own problems can be found too."""
    sources: list[Source] = []
    problems: list[Problem] = []
    for i, item in enumerate(files):
        name = file_name(item)
        if isinstance(item, tuple):
            data = item[1]
            head = data[: Source.HEAD]
        else:
            data = None
            try:
                with Path(item).open("rb") as handle:
                    head = handle.read(Source.HEAD)
            except OSError as exc:
                problems.append(Problem(name, 1, "-", f"cannot read the file: {exc.strerror}"))
                continue
        marked = head.startswith((*_UTF16_BOMS, *_UTF32_BOMS))
        if marked and (text := _from_utf16(_contents(item))) is not None:
            data, head = text, text[: Source.HEAD]
        if workbooks.is_workbook(name, head):
            try:
                book = _contents(item)
                sheet = workbooks.read_sheet(name, book, (sheets or {}).get(name))
            except IngestError as exc:
                problems.extend(exc.problems)
                continue
            text, footer = _without_footer(sheet.csv, None, sheet.name, sheet.header_row - 1)
            text = text if first_rows is None else _first_lines(text, first_rows)
            path = workdir / f"sheet_{i}.csv"
            path.write_bytes(text)
            source = Source(sheet.name, path, text, workdir)
            source.header_row = sheet.header_row
            source.date1904 = sheet.date1904
            source.notes = footer
            sources.append(source)
            continue
        cut, skipped = title_lines(head)
        declared = declared_delimiter(head)
        notes = _title_note(name, head, skipped, declared)
        if cut:  # a report's title (or `sep=;`) above the header: read from the header on
            data = _contents(item)[cut:]
        if data is None and _footer_suspected(Path(str(item))):
            data = _contents(item)
        if data is not None:
            data, footer = _without_footer(data, declared, name, skipped)
            notes += footer
            data = data if first_rows is None else _first_lines(data, first_rows)
            path = workdir / f"upload_{i}.csv"
            path.write_bytes(data)
            source = Source(name, path, data, workdir)
            source.line_offset = skipped
            source.declared_delimiter = declared
            source.notes = notes
            sources.append(source)
        else:
            sources.append(Source(name, Path(name), workdir=workdir))  # name: the path given
    return sources, problems


#: The byte-order marks of UTF-16 text, as Excel's "Unicode text" (tab-separated) saves it,
#: and of UTF-32 (whose little-endian mark starts like UTF-16's, so it is tried first).
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
_UTF32_BOMS = (b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff")


def _from_utf16(data: bytes) -> bytes | None:
    """UTF-16 (or UTF-32) text with its byte-order mark as UTF-8 (lines and cells unchanged),
    or None when it is not valid in that encoding (the file is then refused as what it is)."""
    encoding = "utf-32" if data.startswith(_UTF32_BOMS) else "utf-16"
    try:
        return data.decode(encoding).encode("utf-8")
    except UnicodeDecodeError:
        return None


def _utf16_without_mark(head: bytes) -> bool:
    """Whether `head` reads as UTF-16 text with no byte-order mark (SQL Server's `bcp -w`,
    some ODBC exports): ASCII with a NUL byte before or after each character."""
    pairs = head[: len(head) // 2 * 2][:64]
    if len(pairs) < 8:
        return False
    low, high = pairs[0::2], pairs[1::2]
    return any(not half.strip(b"\x00") and other.isascii() and b"\x00" not in other
               for half, other in ((high, low), (low, high)))  # fmt: skip


#: Excel's first line naming the delimiter (`sep=;`), written by its "CSV for Excel" exports.
_SEP_LINE = re.compile(rb"\s*sep=(.)\s*", re.IGNORECASE)


def declared_delimiter(head: bytes) -> str | None:
    """The delimiter a `sep=X` first line declares, or None."""
    first = head.split(b"\n", 1)[0].removeprefix(b"\xef\xbb\xbf")
    match = _SEP_LINE.fullmatch(first)
    return match.group(1).decode("latin-1") if match else None


#: The first cell of a line a BI tool (Power BI, Tableau, Looker) or a spreadsheet writes below
#: the data: totals, the export's date, its row count, the filters applied, its source.
_FOOTER = re.compile(
    r"(grand total|sub-?total|totals?|sum|exported|export date|generated|created|rows?|"
    r"row count|records?|applied filters|filters?|data as of|as of|report (run|date)|source|"
    r"printed|copyright|\(c\)|©)\b",
    re.IGNORECASE,
)

#: How much of a file's end is searched for a footer.
_TAIL = 1 << 16


def _footer_suspected(item: Path | bytes) -> bool:
    """Whether the last 64 KB of a file end in a footer (`_footer_start`), read without
    reading the file whole."""
    if isinstance(item, bytes):
        tail = item[-_TAIL:]
    else:
        with item.open("rb") as handle:
            handle.seek(max(handle.seek(0, 2) - _TAIL, 0))
            tail = handle.read()
    return _footer_start(tail, None)[1] != []


def _footer_start(data: bytes, delimiter: str | None) -> tuple[int, list[str]]:
    """Where a footer below the data starts (a byte offset in `data`), and its lines: the
    lines at the end, blank ones aside, whose first cell is a footer word (`_FOOTER`: `Total`,
    `Exported on ...`, `Rows: 123`, `Filters: ...`), or that hold one cell only, unquoted (a
    note the tool appended). (len(data), []) when there is none. The first line is never one
    (it may be cut, or the header); a line with every cell of the first line filled is data."""
    lines = data.split(b"\n")
    if delimiter is None:
        delimiter = _delimiter_of(lines[0].decode("utf-8", errors="replace"))
    width = len(_cells(lines[0], delimiter))
    found: list[str] = []
    start = len(data)
    offset = len(data)
    for k in range(len(lines) - 1, 0, -1):
        line = lines[k]
        offset -= len(line) + (1 if k < len(lines) - 1 else 0)
        cells = _cells(line, delimiter)
        filled = [c.strip() for c in cells if c.strip()]
        if filled and not (
            (_FOOTER.match(filled[0]) and len(filled) < width)
            or (len(filled) == 1 and len(cells) < width and b'"' not in line)
        ):
            break
        if filled:
            found.insert(0, ",".join(filled))
            start = offset
    return (start, found) if found else (len(data), [])


def _without_footer(
    data: bytes, delimiter: str | None, name: str, above: int
) -> tuple[bytes, list[Problem]]:
    """`data` without the footer below its rows, and the warning that names it by line
    (`above`: lines cut above the data's first line, so that lines are the file's own)."""
    start, found = _footer_start(data, delimiter)
    if not found:
        return data, []
    first = data.count(b"\n", 0, start) + 1 + above
    note = _skipped_note(name, first, found, "below the data", "totals or footer")
    return data[:start], [note]


def _skipped_note(name: str, line: int, texts: list[str], where: str, what: str) -> Problem:
    """The warning that names lines of a report skipped `where` (at `line`, the first)."""
    shown = "; ".join(f"'{clip(text, 40)}'" for text in texts[:4])
    verb = "is" if len(texts) == 1 else "are"
    message = (
        f"warning, {counted(len(texts), 'line')} {where} {verb} a report's {what}, not data, "
        f"and skipped: {shown}"
    )
    return Problem(name, line, "-", message)


def _title_note(name: str, head: bytes, skipped: int, declared: str | None) -> list[Problem]:
    """The warning that names the title or filter lines cut above the header (a `sep=;` line
    and blank lines go without saying), or []."""
    lines = head.split(b"\n", skipped)[:skipped]
    titles = [
        (n, ",".join(c.strip() for c in _cells(line, declared) if c.strip()))
        for n, line in enumerate(lines, 1)
        if not (n == 1 and declared is not None)
    ]
    titles = [(n, text) for n, text in titles if text]
    if not titles:
        return []
    texts = [text for _, text in titles]
    return [_skipped_note(name, titles[0][0], texts, "above the header", "title or filters")]


def _cells(line: bytes, delimiter: str | None) -> list[str]:
    """The cells of one line (its own delimiter unless one was declared). A line too long for
    the `csv` module (a cell over its 131,072-character limit) is split at every delimiter: it is
    as wide as it looks, never one lone cell, so a data row holding a huge cell is not taken for
    a title or a footer and dropped (the read then names its line)."""
    text = line.decode("utf-8-sig", errors="replace").rstrip("\r")
    if delimiter is None:
        delimiter = _delimiter_of(text)
    try:
        return next(csv.reader([text], delimiter=delimiter), [])
    except csv.Error:  # a NUL byte (a binary file: named later) or a cell past the limit
        return text.split(delimiter) if len(text) > csv.field_size_limit() else [text]


def _delimiter_of(header: str) -> str:
    """The delimiter a header line shows: `;` or a tab when it has no comma (Excel's European
    CSV, its "Unicode text"), else `,`."""
    delimiter = ","
    for candidate in (";", "\t"):
        if candidate in header and "," not in header:
            delimiter = candidate
    return delimiter


def title_lines(head: bytes) -> tuple[int, int]:
    """Bytes and lines to cut from the top of a CSV above its header: a `sep=;` first line,
    then title lines - a line with at most one non-empty cell ("Helpdesk export, week 23" on a
    line of its own, `"Weekly KPIs",,,` as Excel saves a title cell, or `,,,`), or one of two
    cells or fewer with two cells or more fewer than the line below, when that line's width is
    the next one's too (`Weekly KPIs, EMEA` above a four-column header and its rows).
    (0, 0) when the first line is the header, or no line below the titles has two cells."""
    lines = head.split(b"\n", workbooks.HEADER_SEARCH)[: workbooks.HEADER_SEARCH]
    declared = declared_delimiter(head)
    start = 1 if declared is not None else 0
    cells = [_cells(line, declared) for line in lines]
    filled = [sum(1 for c in row if c.strip()) for row in cells]
    for i in range(start, len(lines) - 1):
        # a short line of two cells or fewer is a title when the line below is a header whose
        # width its own next line shares (not a ragged first row below the real header)
        shares = i + 2 >= len(lines) or len(cells[i + 2]) == len(cells[i + 1])
        short = filled[i] <= 2 and len(cells[i]) + 2 <= len(cells[i + 1]) and shares
        if not (filled[i] <= 1 or short):
            return sum(len(line) + 1 for line in lines[:i]), i
    return (len(lines[0]) + 1, 1) if start and len(lines) > 1 else (0, 0)


def _first_lines(data: bytes, rows: int) -> bytes:
    """The header and the next `rows` lines (a preview; a quoted field may be cut)."""
    end = -1
    for _ in range(rows + 1):
        end = data.find(b"\n", end + 1)
        if end < 0:
            return data
    return data[: end + 1]


def file_headers(name: str, data: bytes, sheet: str | None = None) -> list[str]:
    """The header row of an upload as the ingest reads it (a workbook's sheet below its title
    rows), for the column-mapping step; [] when it cannot be read."""
    if workbooks.is_workbook(name, data[:8]):
        try:
            data = workbooks.read_sheet(name, data, sheet).csv
        except IngestError:
            return []
    data = data[title_lines(data[: Source.HEAD])[0] :]
    first = _LINE_END.split(data[: Source.HEAD], maxsplit=1)[0]
    text = first.decode("utf-8-sig", errors="replace")
    try:
        row = next(csv.reader([text], delimiter=_delimiter_of(text)), [])
    except csv.Error:
        return []
    return [cell.strip() for cell in row if cell.strip()]


def sheet_lines(sources: list[Source], problems: list[Problem]) -> list[Problem]:
    """Problems found reading a workbook sheet or a CSV below its title (header, layout, ragged
    rows), moved to the lines and rows of the file as the user has it. (The checks name them
    so already: `record_lines`.)"""
    offsets = {
        s.name: s.header_row - 1 if s.header_row else s.line_offset
        for s in sources
        if s.header_row or s.line_offset
    }
    if not offsets:
        return problems
    return [
        Problem(p.file, p.line + offsets[p.file], p.column, p.message) if p.file in offsets else p
        for p in problems
    ]


def _normalise(name: str) -> str:
    return normalise_metric(name.strip().strip("\ufeff"))


def sniff(
    source: Source, mapping: Mapping[str, str] | ReadOptions | None = None, whole_file: bool = True
) -> Layout | Problem:
    """Recognise the file's layout from its first line, or say why it cannot be read.

    `whole_file=False` looks for binary content in the first 64 KB only (the fast path checks
    the rest once the background scan is done)."""
    problem = _binary_problem(source, whole_file)
    if problem:
        return problem
    data = source.head
    end = _LINE_END.search(data)
    if end is None and not source.whole_in_head:
        data = source.data
        end = _LINE_END.search(data)
    newline, rest = (-1, len(data)) if end is None else (end.start(), end.end())
    first = data if newline < 0 else data[:newline]
    try:
        header_text = first.decode("utf-8-sig").rstrip("\r")
    except UnicodeDecodeError as exc:
        return Problem(source.name, 1, "-", _not_utf8(first, exc))
    if not header_text.strip():
        return Problem(source.name, 1, "-", "the first line is empty: it must be the header")
    delimiter, decimal_comma = ",", False
    if source.declared_delimiter is not None:
        delimiter = source.declared_delimiter
        decimal_comma = delimiter == ";"
    elif ";" in header_text and "," not in header_text:
        delimiter, decimal_comma = ";", True
    elif "\t" in header_text and "," not in header_text:
        delimiter = "\t"
    try:
        header = next(csv.reader([header_text], delimiter=delimiter, strict=True))
    except (csv.Error, StopIteration) as exc:
        return Problem(source.name, 1, "-", f"cannot read the header: {exc}")
    options = as_options(mapping)
    renames = {
        _normalise(k): ("" if is_ignore(v) else _normalise(v)) for k, v in options.columns.items()
    }
    names = [_normalise(h) for h in header]
    mapped = frozenset(pos for pos, n in enumerate(names) if n in renames)
    read_as = {(n, renames[n]) for n in names if renames.get(n, n) != n}
    names = [renames.get(n, n) for n in names]
    pilot = None
    if options.pilot_id is not None and "pilot_id" in names and "go_live" not in names:
        at = names.index("pilot_id")
        return Problem(
            source.name,
            1,
            clip(header[at]),
            f"the file has a pilot_id column ('{clip(header[at])}'), so the pilot for the whole "
            f"file ('{clip(str(options.pilot_id))}', --pilot) conflicts with it: leave the "
            "whole-file pilot out to read each row's pilot, or map this column to (ignore)",
        )
    if options.pilot_id is not None and "pilot_id" not in names and "go_live" not in names:
        pilot = str(options.pilot_id).strip()
        read_as.add(("(whole file)", pilot))
    if options.date_order != "auto":
        read_as.add(("(date order)", options.date_order))
    if options.decimal_mark != "auto":
        read_as.add(("(decimal mark)", options.decimal_mark))
        decimal_comma = options.decimal_mark == "comma"
    if mapped:
        read_as.add(("(formatted)", ",".join(str(p) for p in sorted(mapped))))
    source.renamed = tuple(sorted(read_as))
    index: dict[str, int] = {}
    for pos, name in enumerate(names):
        if not name:
            continue
        if name in index:
            return Problem(
                source.name, 1, clip(header[pos]), f"column '{clip(name)}' appears twice"
            )
        index[name] = pos
    layout = Layout("long", delimiter, decimal_comma, header, index)
    layout.pilot_constant = pilot
    layout.formatted = mapped
    if source.header_row is not None:
        layout.serial_epoch = EXCEL_EPOCH_1904 if source.date1904 else EXCEL_EPOCH
    if options.date_order != "auto":
        layout.date_order = options.date_order
    layout.decimal_given = options.decimal_mark != "auto"
    if pilot is not None:
        index.setdefault("pilot_id", -1)  # read from `$pilot`, never from a column
    required: tuple[str, ...]
    if "metric" in index and "value" in index:
        required = ("pilot_id", "date", "metric", "value")
    elif "go_live" in index:
        layout.kind = "pilots"
        required = ("pilot_id", "go_live")
    elif "pilot_id" in index and "date" in index:
        layout.kind = "wide"
        required = ("pilot_id", "date")
        layout.metric_columns = [
            (pos, n) for n, pos in index.items() if n not in WIDE_KEYS and pos >= 0
        ]
        if not layout.metric_columns:
            return Problem(source.name, 1, "-", "a wide metrics file needs one column per metric")
        if len(layout.metric_columns) > MAX_METRIC_COLUMNS:
            return Problem(
                source.name, 1, "-",
                f"the file has {len(layout.metric_columns):,} metric columns, over the "
                f"{MAX_METRIC_COLUMNS:,} pilotproof reads from a wide file: map the columns "
                "not needed to (ignore), or write a long file (pilot_id, date, metric, value)",
            )  # fmt: skip
    elif pilot is not None:
        return Problem(
            source.name,
            1,
            "date",
            "required column 'date' is missing: map the file's column of dates to date",
        )
    else:
        return Problem(
            source.name,
            1,
            "-",
            "cannot tell what this file holds: map its columns (or say which pilot the whole "
            "file is) in the column mapping. Expected a long metrics file (pilot_id, date, "
            "metric, value), a wide one (pilot_id, date, a column per metric) or a pilots "
            "file (pilot_id, go_live)",
        )
    for name in required:
        if name not in index:
            return Problem(source.name, 1, name, f"required column '{name}' is missing")
    if newline < 0 or not (
        _has_text(data, rest) or (not source.whole_in_head and _has_text(source.data, 0))
    ):
        return Problem(source.name, 2, "-", "the file has a header but no data rows")
    return layout


def check_mapping(mapping: object) -> Mapping[str, str]:
    """A column mapping (file header -> contract column) as given, or IngestError naming the
    entry that is not a pair of non-empty texts."""
    if mapping is None:
        return {}
    if not isinstance(mapping, Mapping):
        problem = Problem("-", 1, "-", "the column mapping must map file columns to names")
        raise IngestError([problem])
    bad = [
        Problem("-", 1, clip(str(k)), f"column mapping: '{clip(str(v))}' is not a column name")
        for k, v in mapping.items()
        if not isinstance(k, str) or not isinstance(v, str) or not k.strip() or not v.strip()
    ]
    if bad:
        raise IngestError(bad)
    return mapping


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
        message = "the file starts as UTF-16 text but is not valid UTF-16: save it as 'CSV UTF-8'"
        return Problem(source.name, 1, "-", message)
    if _utf16_without_mark(head):
        message = (
            "UTF-16 text without its byte-order mark: save it as 'CSV UTF-8' (or as Excel's "
            "'Unicode text', which writes the mark)"
        )
        return Problem(source.name, 1, "-", message)
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
        if "end of data" in str(err):
            message = "a quoted field opened on this line is never closed"
        elif "field limit" in str(err):
            message = (
                f"a cell on this line runs past {csv.field_size_limit():,} characters: shorten "
                "it, or close the quote opened here if one was left open"
            )
        else:
            message = f"malformed CSV: {err}"
        problems.append(Problem(source.name, last_line + 1, "-", message))
    if problems:
        return problems
    message = str(exc).strip().splitlines()[0]
    match = _LINE_IN_DUCKDB_ERROR.search(str(exc))
    return [Problem(source.name, int(match.group(1)) if match else 1, "-", message)]


def record_lines(source: Source, rns: set[int], delimiter: str = ",") -> dict[int, int]:
    """Physical line (header = 1) where each data record (1-based) starts (for a workbook
    sheet, the sheet's own row number; below a cut title, the line in the file as given)."""
    if source.header_row is not None:  # a sheet: one row per record, named by sheet row
        return {rn: rn + source.header_row for rn in rns}
    found = _record_lines(source.data, rns, delimiter)
    return {rn: line + source.line_offset for rn, line in found.items()}


def _record_lines(data: bytes, rns: set[int], delimiter: str) -> dict[int, int]:
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


_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def first_date_is_iso(source: Source, layout: Layout) -> bool:
    """Whether the first data row's date is a plain YYYY-MM-DD (then DuckDB parses dates)."""
    head = source.head.decode("utf-8-sig", errors="replace")
    try:
        rows = csv.reader(io.StringIO(head, newline=""), delimiter=layout.delimiter)
        next(rows)
        first = next(rows)
        return bool(_ISO_DATE.match(first[layout.index["date"]]))
    except (StopIteration, IndexError, csv.Error):
        return False
