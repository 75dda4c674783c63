"""User text made safe to show: the rules every view, export and terminal line follows.

Text people type (pilot names, companies, answers, event labels, metric names from a file) is
shown as they typed it, with three exceptions:

- **Control characters** (C0, DEL, C1) and bidirectional overrides are shown as visible codes
  (ESC as <ESC>, BEL as <BEL>, U+202E as <U+202E>), so they can neither drive a terminal nor break a
  chart renderer or an XML file. In one-line places line breaks and tabs become spaces.
- **Long text** is cut visibly, with "…", at a limit fit for the place it is shown.
- **Formula triggers**: text that a spreadsheet would read as the start of a formula
  (OWASP "CSV injection": `=`, `+`, `-`, `@`, tab, CR) is marked as text where it is written
  (an apostrophe in CSV, Excel's quote prefix in a workbook). `is_formula_like` is the one test.
"""

from __future__ import annotations

import re

#: What a spreadsheet reads as the start of a formula.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")

#: Limits for text shown in reports, tables and charts.
NAME_LIMIT = 120  # pilot, company, function, vendor, metric and event names
TEXT_LIMIT = 600  # readiness answers, explanations, notes
TITLE_LIMIT = 260  # action titles

ELLIPSIS = "…"

# C0 controls but tab/LF/CR, DEL, C1 controls, bidirectional embeddings/overrides/isolates
_CONTROLS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_LINE_BREAKS = re.compile("[\t\r\n\u2028\u2029\x85]+")


# ASCII names rather than Unicode's control pictures (␛), which many fonts cannot draw
_C0_NAMES = (
    *("NUL", "SOH", "STX", "ETX", "EOT", "ENQ", "ACK", "BEL", "BS", "HT", "LF", "VT"),
    *("FF", "CR", "SO", "SI", "DLE", "DC1", "DC2", "DC3", "DC4", "NAK", "SYN", "ETB"),
    *("CAN", "EM", "SUB", "ESC", "FS", "GS", "RS", "US"),
)


def _code(match: re.Match[str]) -> str:
    code = ord(match.group())
    if code < 0x20:
        return f"<{_C0_NAMES[code]}>"
    if code == 0x7F:
        return "<DEL>"
    return f"<U+{code:04X}>"


def visible(text: object, *, one_line: bool = True) -> str:
    """`text` with control characters shown as visible codes.

    `one_line`: tabs and line breaks become single spaces (names, table cells, titles);
    otherwise line breaks are kept as "\\n" and tabs as spaces (paragraphs of answers).
    """
    text = "" if text is None else str(text)
    if one_line:
        text = _LINE_BREAKS.sub(" ", text)
    else:
        text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\t", " ")
    return _CONTROLS.sub(_code, text)


def cut(text: str, limit: int = NAME_LIMIT) -> str:
    """`text` cut to at most `limit` characters, ending in "…" when it was cut."""
    if len(text) <= limit:
        return text
    return text[: max(limit - 1, 0)].rstrip() + ELLIPSIS


def shown(text: object, limit: int = NAME_LIMIT, *, one_line: bool = True) -> str:
    """User text as every view shows it: control characters visible, cut at `limit`."""
    return cut(visible(text, one_line=one_line), limit)


def terminal(text: str) -> str:
    """Text for a terminal: lines and tabs kept, every other control character visible."""
    return _CONTROLS.sub(_code, text)


def is_formula_like(text: str) -> bool:
    """True when a spreadsheet would read `text` as the start of a formula."""
    return text.startswith(FORMULA_TRIGGERS)


def inert(value: object) -> object:
    """For CSV: formula-like text gets a leading apostrophe, so a spreadsheet shows it as text;
    anything else is returned unchanged."""
    if isinstance(value, str) and is_formula_like(value):
        return "'" + value
    return value
