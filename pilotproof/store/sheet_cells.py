"""What calamine does not say about an .xlsx/.xlsm sheet, read from the sheet's own XML: the
cells holding an Excel error value (`#DIV/0!`, `#N/A`, `#VALUE!`, `#REF!` ...), which calamine
returns as empty, and the cells holding a formula with no computed value (a workbook written by
a tool that never calculated it, such as openpyxl or a script's template), which calamine also
returns as empty.

Knowing both lets the ingest treat a workbook exactly as the same table saved as CSV: an error
value is the text Excel shows (so `#N/A` is no observation and `#DIV/0!` is refused by line and
column, as in a CSV), and a sheet of uncalculated formulas is refused instead of read as empty.

ECMA-376 Part 1, 18.3.1.4 (`c`), 18.3.1.40 (`f`), 18.3.1.96 (`v`), 18.18.11 (`ST_CellType`:
`e` is an error, `str` a formula's text result). Other formats (.xls, .xlsb, .ods) are not
scanned: nothing is found in them.
"""

from __future__ import annotations

import io
import posixpath
import re
import zipfile
import zlib
from dataclasses import dataclass, field
from xml.etree import ElementTree

#: One cell element, with its attributes and its body (None for an empty `<c .../>`).
_CELL = re.compile(rb"<(?:\w+:)?c\b([^>]*?)(?:/>|>(.*?)</(?:\w+:)?c>)", re.DOTALL)
_REF = re.compile(rb"""\br\s*=\s*["']\$?([A-Z]{1,3})\$?(\d{1,7})["']""")
_TYPE = re.compile(rb"""\bt\s*=\s*["'](\w+)["']""")
_ERROR_TYPE = re.compile(rb"""\bt\s*=\s*["']e["']""")
_FORMULA = re.compile(rb"<(?:\w+:)?f\b")
#: A formula's end (`</f>`, or a shared formula's `<f t="shared" si="0"/>`) followed by no
#: value or an empty one, then the cell's end: where an uncalculated formula may be.
_NO_VALUE = re.compile(
    rb"(?:</(?:\w+:)?f>|<(?:\w+:)?f\b[^>]*/>)\s*"
    rb"(?:<(?:\w+:)?v\s*/>|<(?:\w+:)?v(?:\s[^>]*)?>\s*</(?:\w+:)?v>)?\s*</(?:\w+:)?c>"
)
_VALUE = re.compile(rb"<(?:\w+:)?v\b[^>]*?(?:/>|>(.*?)</(?:\w+:)?v>)", re.DOTALL)


@dataclass(frozen=True)
class SheetCells:
    """`errors`: (row, column) from 0 at A1 to the error text Excel shows (`#DIV/0!`);
    `uncomputed`: the number of formula cells without a computed value, and `first_uncomputed`
    the first one's reference (`C2`, or '' where the cell names none)."""

    errors: dict[tuple[int, int], str] = field(default_factory=dict)
    uncomputed: int = 0
    first_uncomputed: str = ""


def scan(data: bytes, sheet: str) -> SheetCells:
    """The error cells and uncomputed formulas of the sheet named `sheet` in an .xlsx/.xlsm
    package; an empty `SheetCells` for another format, a sheet not found or a package that
    cannot be read (calamine names the damage)."""
    if not data.startswith(b"PK\x03\x04"):
        return SheetCells()
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            part = _sheet_part(archive, sheet)
            if part is None:
                return SheetCells()
            with archive.open(part) as member:
                xml = member.read()
    except (KeyError, zipfile.BadZipFile, OSError, ValueError, EOFError, RuntimeError, zlib.error):
        return SheetCells()
    except ElementTree.ParseError:
        return SheetCells()
    return _cells(xml)


def _cells(xml: bytes) -> SheetCells:
    """`scan` of one sheet part's XML. Only the cells around a formula's end with no value
    text after it (`_NO_VALUE`) or a type `e` are looked at: a sheet of a million computed
    formulas is read at the speed of two regular-expression searches."""
    errors: dict[tuple[int, int], str] = {}
    uncomputed, first = 0, ""
    candidates = sorted(
        {m.start() for m in _NO_VALUE.finditer(xml)}
        | {m.start() for m in _ERROR_TYPE.finditer(xml)}
    )
    for at in candidates:
        cell = _cell_at(xml, at)
        if cell is None:
            continue
        attrs, body = cell.group(1), cell.group(2) or b""
        kind = _TYPE.search(attrs)
        is_error = kind is not None and kind.group(1) == b"e"
        value = _VALUE.search(body)
        text = value.group(1) if value is not None and value.group(1) is not None else None
        ref = _REF.search(attrs)
        if not is_error and _FORMULA.search(body) and not _computed(text, kind):
            uncomputed += 1
            if not first and ref is not None:
                first = (ref.group(1) + ref.group(2)).decode("ascii")
        elif is_error and text and ref is not None:
            position = (int(ref.group(2)) - 1, column_number(ref.group(1)) - 1)
            errors[position] = text.decode("utf-8", "replace").strip()
    return SheetCells(errors, uncomputed, first)


def _cell_at(xml: bytes, at: int) -> re.Match[bytes] | None:
    """The cell element around position `at` (its attributes, its body), or None."""
    start = max(xml.rfind(b"<c ", 0, at + 1), xml.rfind(b"<c>", 0, at + 1))
    prefixed = xml.rfind(b":c ", 0, at + 1)
    if prefixed > start:
        start = xml.rfind(b"<", 0, prefixed)
    return _CELL.match(xml, start) if start >= 0 else None


def _computed(text: bytes | None, kind: re.Match[bytes] | None) -> bool:
    """Whether a formula cell holds a computed value: a `<v>` with text, or an empty one in a
    cell of type `str` (a formula whose result is the empty string, as `=IF(A1>0,"",1)`)."""
    if text is not None and text.strip():
        return True
    return text is not None and kind is not None and kind.group(1) == b"str"


def column_number(letters: bytes) -> int:
    """A column's number from its letters: `A` is 1, `Z` 26, `AA` 27."""
    number = 0
    for letter in letters:
        number = number * 26 + letter - ord("A") + 1
    return number


def _sheet_part(archive: zipfile.ZipFile, sheet: str) -> str | None:
    """The package part (`xl/worksheets/sheet1.xml`) of the sheet named `sheet`, by the
    workbook's sheet list and its relationships (matched by local name, so Strict Open XML's
    namespaces read too); None when it is not found."""
    book = ElementTree.fromstring(archive.read("xl/workbook.xml"))
    rel_id = next(
        (
            _attribute(s, "id")
            for s in book.iter()
            if _local(s.tag) == "sheet" and s.get("name") == sheet
        ),
        None,
    )
    if rel_id is None:
        return None
    rels = ElementTree.fromstring(archive.read("xl/_rels/workbook.xml.rels"))
    target = next(
        (
            r.get("Target")
            for r in rels.iter()
            if _local(r.tag) == "Relationship" and r.get("Id") == rel_id
        ),
        None,
    )
    if target is None:
        return None
    path = target.lstrip("/") if target.startswith("/") else posixpath.join("xl", target)
    path = posixpath.normpath(path)
    return path if path in archive.namelist() else None


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


def _attribute(element: ElementTree.Element, name: str) -> str | None:
    """The attribute `name` in whatever namespace (the sheet's `r:id`)."""
    return next((v for k, v in element.attrib.items() if _local(k) == name), None)
