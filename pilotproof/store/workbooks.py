"""Excel and OpenDocument workbooks (.xlsx, .xlsm, .xls, .ods), read with python-calamine
through pandas, turned into the CSV text the rest of the ingest reads.

One sheet becomes one file. Rows above the header (a title, a subtitle, a blank line) are
dropped; the header is the first of the widest rows of text in the first 30. Each remaining
sheet row is one CSV record, so a problem's line is the sheet's own row number. Cells keep what the
workbook stores: a percent cell is its fraction (4.7% is 0.047), a date cell an ISO date, a
number its digits (Excel serial dates in a date column are read as dates later). Formulas are
never evaluated or written: calamine returns the value the workbook saved.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import math
import re
import subprocess
import sys
import threading
import zipfile
import zlib
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path, PurePath
from typing import TypeVar, cast

from . import sheet_cells
from .errors import IngestError, Problem, clip
from .sheet_cells import SheetCells, column_number

SUFFIXES = (".xlsx", ".xlsm", ".xlsb", ".xls", ".ods")
_MAGIC = (b"PK\x03\x04", b"\xd0\xcf\x11\xe0")
#: Rows searched for the header below a title.
HEADER_SEARCH = 30
#: The most a workbook package may unpack to, and the most cells a sheet may declare, before
#: anything is read: a zip bomb (a few MB that unpack to gigabytes) is refused from its zip
#: directory and its sheets' `<dimension>`, never read whole. A 50 MB workbook of numbers
#: unpacks to a few hundred MB.
MAX_UNPACKED_MB = 600
MAX_CELLS = 20_000_000
_DIMENSION = re.compile(
    rb"<(?:\w+:)?dimension\s+ref=\"\$?([A-Z]{1,3})\$?(\d{1,7})(?::\$?([A-Z]{1,3})\$?(\d{1,7}))?\""
)


def is_workbook(name: str, head: bytes) -> bool:
    """A workbook by its name, or by its first bytes (a zip or OLE file named `.csv`)."""
    return PurePath(name).suffix.lower() in SUFFIXES or head.startswith(_MAGIC)


@dataclass(frozen=True)
class Sheet:
    """One sheet as CSV: `name` is what messages show (`book.xlsx[Data]`), `header_row` the
    sheet row (1-based) the header was found on, `date1904` whether the workbook counts serial
    days in the 1904 date system (`uses_1904_dates`)."""

    name: str
    csv: bytes
    header_row: int
    date1904: bool = False


#: Workbooks read lately, by content hash: the Upload page asks for the same sheet on every
#: redraw (headers, preview, validation), and reading a large workbook takes seconds.
_RECENT: OrderedDict[tuple[str, str, str | None], object] = OrderedDict()
_RECENT_SIZE = 8
_LOCK = threading.Lock()
T = TypeVar("T")


def _remembered(kind: str, data: bytes, sheet: str | None, read: Callable[[], T]) -> T:
    """`read()`, or what it returned for the same kind, content and sheet lately."""
    key = (kind, hashlib.sha256(data).hexdigest(), sheet)
    with _LOCK:
        if key in _RECENT:
            _RECENT.move_to_end(key)
            return cast(T, _RECENT[key])  # stored by this function under the same kind
    value = read()
    with _LOCK:
        _RECENT[key] = value
        while len(_RECENT) > _RECENT_SIZE:
            _RECENT.popitem(last=False)
    return value


def sheet_names(name: str, data: bytes) -> list[str]:
    """The workbook's sheets, in order; IngestError when it cannot be opened."""
    return list(_remembered("names", data, None, lambda: _sheet_names(name, data)))


def hidden_sheets(data: bytes) -> frozenset[str]:
    """The sheets the workbook hides (Excel's hidden and very hidden; lookup tables, pivot
    caches): never chosen for the user, though `--sheet NAME` can still read one. Empty when
    the workbook cannot be opened (reading it names the problem)."""
    return _remembered("hidden", data, None, lambda: _hidden_sheets(data))


def _hidden_sheets(data: bytes) -> frozenset[str]:
    from python_calamine import CalamineWorkbook, SheetVisibleEnum

    if too_large("", data) is not None:
        return frozenset()  # opening it could take the process down: reading it says why
    try:
        book = CalamineWorkbook.from_filelike(io.BytesIO(data))
        return frozenset(
            str(m.name) for m in book.sheets_metadata if m.visible != SheetVisibleEnum.Visible
        )
    except Exception:  # calamine raises its own types for every kind of damage
        return frozenset()


def _listed(names: list[str]) -> str:
    """Sheet names for a message, each quoted so that a space at either end shows."""
    return ", ".join(f"'{clip(s, 30)}'" for s in names[:10])


def _sheet_names(name: str, data: bytes) -> list[str]:
    import pandas as pd

    archive = plain_zip(name, data) or too_large(name, data)
    if archive is not None:
        raise IngestError([archive])
    try:
        with pd.ExcelFile(io.BytesIO(data), engine="calamine") as book:
            return [str(s) for s in book.sheet_names]
    except Exception as exc:  # calamine raises its own types for every kind of damage
        raise IngestError([_unreadable(name, exc)]) from exc


#: What an Excel (.xlsx, .xlsm, .xlsb) or OpenDocument spreadsheet package holds, by name.
_WORKBOOK_PARTS = ("xl/workbook.xml", "xl/workbook.bin", "content.xml")


def plain_zip(name: str, data: bytes) -> Problem | None:
    """The problem with a ZIP archive that is not a workbook package (files zipped together, a
    Word document), named as what it is; None for a workbook, or anything that is not a readable
    ZIP (calamine then names the damage)."""
    if not data.startswith(b"PK\x03\x04"):
        return None
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.namelist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        return None
    if any(part in members for part in _WORKBOOK_PARTS):
        return None
    inside = ", ".join(clip(m, 40) for m in members[:5]) + (" …" if len(members) > 5 else "")
    held = f"holding {inside}" if members else "empty"
    return Problem(
        name, 1, "-",
        f"this is a ZIP archive ({held}), not a workbook or CSV: unzip it and upload the "
        "files inside",
    )  # fmt: skip


#: The probe (`sheet_probe.py`): the memory and CPU seconds it may use to build a workbook's
#: grids. A sheet of `MAX_CELLS` cells takes calamine about 1.5 GB; what needs more is refused.
PROBE_MEMORY_MB = 3072
PROBE_SECONDS = 120
_PROBE = Path(__file__).with_name("sheet_probe.py")


def too_large(name: str, data: bytes) -> Problem | None:
    """The problem with a workbook too large to read, or None: over `MAX_UNPACKED_MB` unpacked
    (by its zip directory), a sheet declaring over `MAX_CELLS` cells (its `<dimension>`), then,
    since both can lie or be missing, a sheet whose grid holds over `MAX_CELLS` cells or cannot
    be built in `PROBE_MEMORY_MB` (`probe`)."""
    return _declared_too_large(name, data) or probe(name, data)


def _declared_too_large(name: str, data: bytes) -> Problem | None:
    """`too_large` from the zip directory and each sheet's first bytes only."""
    if not data.startswith(b"PK\x03\x04"):
        return None
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
            unpacked = sum(m.file_size for m in members)
            if unpacked > MAX_UNPACKED_MB * 1024 * 1024:
                return Problem(
                    name, 1, "-",
                    f"the workbook unpacks to {unpacked / 1024 / 1024:,.0f} MB, over the "
                    f"{MAX_UNPACKED_MB} MB pilotproof reads: save the data as CSV, or split it",
                )  # fmt: skip
            for member in members:
                if not member.filename.startswith("xl/worksheets/"):
                    continue
                with archive.open(member) as part:
                    cells = _declared_cells(part.read(4096))
                if cells > MAX_CELLS:
                    return Problem(
                        name, 1, "-",
                        f"a sheet ({clip(member.filename, 40)}) declares {cells:,} cells, over "
                        f"the {MAX_CELLS:,} pilotproof reads from a workbook: save the data as "
                        "CSV, or split it",
                    )  # fmt: skip
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, RuntimeError, zlib.error):
        return None  # calamine names the damage
    return None


def probe(name: str, data: bytes) -> Problem | None:
    """The problem with a workbook whose grids are too large to build, found by building them in
    a child process capped at `PROBE_MEMORY_MB` and `PROBE_SECONDS` (`sheet_probe.py`), or None.

    calamine sizes a sheet's grid by its cells' positions, not by the declared `<dimension>`
    (which may be missing or lie) nor by the file's size: a 5 kB workbook with cells at A1 and
    XFD1048576, or an OpenDocument row repeated a million times, asks for gigabytes, and a failed
    allocation aborts the process (in the app, the server). The child dies instead, and the
    problem names the sheet it died on; a sheet read whole but holding over `MAX_CELLS` cells
    (rows x columns from A1, as pandas builds it) is refused too."""
    lines, died = _remembered("probe", data, None, lambda: _run_probe(data))
    reading: str | None = None
    for line in lines:
        sheet, cells = line.get("sheet"), line.get("cells")
        reading = str(sheet) if sheet is not None else reading
        if isinstance(cells, int) and cells > MAX_CELLS:
            return Problem(
                f"{name}[{sheet}]", 1, "-",
                f"the sheet's used range holds {cells:,} cells (rows x columns from A1), over "
                f"the {MAX_CELLS:,} pilotproof reads from a workbook: delete the cells far below "
                "or right of the table, save the data as CSV, or split it",
            )  # fmt: skip
        if cells is not None:
            reading = None  # read whole: not the one the child died on
    if not died:
        return None
    where = f"{name}[{reading}]" if reading is not None else name
    return Problem(
        where, 1, "-",
        f"the {'sheet' if reading is not None else 'workbook'} is too large to read (it needs "
        f"over {PROBE_MEMORY_MB:,} MB or {PROBE_SECONDS} s): delete the cells far below or right "
        "of the table, save the data as CSV, or split it",
    )  # fmt: skip


def _run_probe(data: bytes) -> tuple[list[dict[str, object]], bool]:
    """The probe's JSON lines, and whether it died (a cap hit, a crash, or the time out)."""
    command = [
        sys.executable, "-I", str(_PROBE),
        str(PROBE_MEMORY_MB * 1024 * 1024 + 2 * len(data)), str(PROBE_SECONDS),
    ]  # fmt: skip
    try:
        done = subprocess.run(
            command, input=data, capture_output=True, timeout=PROBE_SECONDS + 10, check=False
        )
        out, died = done.stdout, done.returncode != 0
    except subprocess.TimeoutExpired as late:
        out, died = late.stdout or b"", True
    lines: list[dict[str, object]] = []
    for raw in out.decode("utf-8", "replace").splitlines():
        try:
            line = json.loads(raw)
        except ValueError:
            continue
        if isinstance(line, dict):
            lines.append(line)
    return lines, died


def _declared_cells(head: bytes) -> int:
    """Rows x columns of the `<dimension ref="A1:K5000"/>` at the top of a sheet (0 if none)."""
    found = _DIMENSION.search(head)
    if found is None or found.group(3) is None:
        return 0
    first_col, first_row, last_col, last_row = found.groups()
    width = column_number(last_col) - column_number(first_col) + 1
    return max(width, 0) * max(int(last_row) - int(first_row) + 1, 0)


def likeliest_sheet(name: str, data: bytes) -> str | None:
    """The visible sheet with the most filled cells (the data, not the cover or notes sheet,
    nor a hidden lookup table)."""
    return _remembered("likeliest", data, None, lambda: _likeliest_sheet(data))


def _likeliest_sheet(data: bytes) -> str | None:
    import pandas as pd

    if too_large("", data) is not None:
        return None  # reading the sheets names the problem

    try:
        frames = pd.read_excel(
            io.BytesIO(data), sheet_name=None, header=None, engine="calamine", dtype=object
        )
    except Exception:  # the validation names what is wrong with the workbook
        return None
    hidden = hidden_sheets(data)
    sizes = {str(sheet): int(frame.notna().sum().sum()) for sheet, frame in frames.items()}
    shown = {sheet: size for sheet, size in sizes.items() if sheet not in hidden} or sizes
    return max(shown, key=shown.__getitem__) if shown else None


def read_sheet(name: str, data: bytes, sheet: str | None) -> Sheet:
    """The sheet `sheet` (the only one when None) as CSV, or IngestError naming the problem."""

    names = sheet_names(name, data)
    if sheet is None:
        hidden = hidden_sheets(data)
        shown = [s for s in names if s not in hidden] or names
        if len(shown) != 1:
            message = (
                f"the workbook has {len(shown)} sheets ({_listed(shown)}): choose one "
                "(--sheet NAME, or the sheet picker on the Upload page)"
            )
            raise IngestError([Problem(name, 1, "-", message)])
        sheet = shown[0]
    if sheet not in names:
        # a name typed without the space Excel let someone leave at its end
        same = [s for s in names if s.strip() == sheet.strip()]
        if len(same) != 1:
            message = f"no sheet '{clip(sheet)}' in the workbook (sheets: {_listed(names)})"
            raise IngestError([Problem(name, 1, "-", message)])
        sheet = same[0]
    found = _remembered("sheet", data, sheet, lambda: _read_sheet(data, sheet))
    if isinstance(found, Exception):
        raise IngestError([_unreadable(f"{name}[{sheet}]", found)])
    if isinstance(found, SheetCells):
        raise IngestError([_uncomputed(f"{name}[{sheet}]", found)])
    csv_bytes, header_row = found
    if header_row is None:
        raise IngestError([Problem(f"{name}[{sheet}]", 1, "-", "the sheet is empty")])
    return Sheet(f"{name}[{sheet}]", csv_bytes, header_row, uses_1904_dates(data))


#: The workbook property of the 1904 date system (ECMA-376 Part 1, 18.2.28 `workbookPr`).
_DATE1904 = re.compile(rb"<(?:\w+:)?workbookPr\b[^>]*\bdate1904=\"(?:1|true)\"")


def uses_1904_dates(data: bytes) -> bool:
    """Whether an .xlsx/.xlsm workbook counts dates from 1904 (Mac Excel's date system, the
    property openpyxl exposes as `wb.epoch`): its serial day numbers are then 1,462 days later
    than the same numbers in the 1900 system. Cells formatted as dates come out right either
    way (calamine reads the property); this matters for a date column of plain numbers. Read
    from `xl/workbook.xml`; False for other formats and unreadable packages."""
    if not data.startswith(b"PK\x03\x04"):
        return False
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive, archive.open("xl/workbook.xml") as part:
            head = part.read(1 << 16)
    except (KeyError, zipfile.BadZipFile, OSError, ValueError, EOFError, RuntimeError, zlib.error):
        return False
    return _DATE1904.search(head) is not None


def _read_sheet(data: bytes, sheet: str) -> tuple[bytes, int | None] | Exception | SheetCells:
    """The sheet as CSV bytes and its header row, or the reader's exception, or (a sheet
    holding formulas without computed values) what `sheet_cells.scan` found. Each error cell
    is the text Excel shows (`#DIV/0!`), as a CSV saved from Excel holds it: calamine reads it
    as empty."""
    import pandas as pd

    found = sheet_cells.scan(data, sheet)
    if found.uncomputed:
        return found

    try:
        frame = pd.read_excel(
            io.BytesIO(data),
            sheet_name=sheet,
            header=None,
            engine="calamine",
            dtype=object,
            keep_default_na=False,
            na_filter=False,
        )
    except Exception as exc:  # calamine raises its own types for every kind of damage
        return exc
    cells = [list(row) for row in frame.itertuples(index=False, name=None)]
    rows = [[_text(v) for v in row] for row in cells]
    for (i, j), error in found.errors.items():
        if i < len(rows) and j < len(rows[i]) and not rows[i][j]:
            rows[i][j] = error
    filled = [j for j in range(frame.shape[1]) if any(r[j] for r in rows)]
    rows = [[r[j] for j in filled] for r in rows]
    cells = [[c[j] for j in filled] for c in cells]
    top = _header_row(rows, cells)
    if top is None:
        return b"", None
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([" ".join(cell.split()) for cell in rows[top]])  # one line, always
    for row in rows[top + 1 :]:
        writer.writerow(row if any(row) else [""] * len(row))
    return out.getvalue().encode("utf-8"), top + 1


def _header_row(rows: list[list[str]], cells: list[list[object]]) -> int | None:
    """Index of the header: of the first 30 rows, the first with the most filled cells that are
    all text (two or more; a title row has one, a data row holds numbers or dates); else the
    first non-empty row."""
    first, best, most = None, None, 1
    for i, (row, raw) in enumerate(zip(rows[:HEADER_SEARCH], cells, strict=False)):
        kinds = [isinstance(cell, str) for text, cell in zip(row, raw, strict=True) if text]
        if not kinds:
            continue
        first = i if first is None else first
        if len(kinds) > most and all(kinds):
            best, most = i, len(kinds)
    return first if best is None else best


def _text(value: object) -> str:
    """A cell as CSV text: numbers without a spurious `.0`, dates as ISO, empty as ''."""
    if value is None:
        return ""
    if isinstance(value, float):
        if math.isnan(value):
            return ""
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return repr(value)
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time() else value.isoformat(" ")
    if isinstance(value, (date, time)):
        return value.isoformat()
    if isinstance(value, timedelta):
        return str(value)
    if hasattr(value, "isoformat"):  # pandas Timestamp
        return _text(value.to_pydatetime())  # type: ignore[attr-defined]
    text = str(value)
    return "" if text.strip() == "" or text == "nan" else text


def _uncomputed(name: str, found: SheetCells) -> Problem:
    """The refusal of a sheet whose formulas were never calculated (nothing read from it)."""
    row = int(re.sub(r"\D", "", found.first_uncomputed) or 1)
    first = f", the first at {found.first_uncomputed}" if found.first_uncomputed else ""
    cells = "cell holds a formula" if found.uncomputed == 1 else "cells hold formulas"
    return Problem(
        name, row, "-",
        f"{found.uncomputed:,} {cells} without computed values{first}: the tool that wrote "
        "this workbook never calculated them, so there is no value to read. Open it in Excel "
        "(or LibreOffice), let it calculate and save it, or export the sheet as CSV",
    )  # fmt: skip


def _unreadable(name: str, exc: Exception) -> Problem:
    detail = clip(str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__)
    return Problem(
        name, 1, "-", f"cannot read this workbook ({detail}): save it again as .xlsx or as CSV"
    )
