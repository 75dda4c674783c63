"""How dates and numbers written by people and their tools become DATE and DOUBLE: DuckDB
expressions over a text column, and the words that say why a value was refused.

Every function returns SQL built only from fixed text and the caller's column expression (a
generated name such as `c3`), never from file content.

Dates: `YYYY-MM-DD` (a time part is ignored: the store holds days; a UTC offset too, so
`2025-12-31T23:30-05:00` is 31 December, the day written, never moved to UTC), `YYYY-MM`
(monthly, first day), `YYYY-Qn`, `YYYYQn`, `Qn YYYY` or `Qn-YYYY` (quarterly), `YYYY` (yearly,
1 January), `DD.MM.YYYY` and `DD.MM.YYYY HH:MM[:SS]` (German and Swiss exports: a dotted date is
day first in every locale that writes one), month names (`Jun 2025`, `1-Jun-25`, `June 1, 2025`),
compact `20250601`, Excel serial day numbers in workbooks (in the 1900 or the 1904 date system),
and two forms whose reading the whole column decides: `06/01/2025` (or `6-1-25`) once the date
order of the file is known (given in the column mapping, or decided by the file itself: a first
field above 12 means day first, a second field above 12 month first), and `Jan-05`, Excel's
mmm-yy display, read as a month (`month_year_reading`) when the column shows it is one.

Two-digit years are 1969-2068 (`TWO_DIGIT_YEARS`), as POSIX `strptime` and DuckDB read them.

Numbers: `1234.5`, `1,234.5` (a group of three digits after each separator), `1.234,5` in a
European file, thousands grouped by (no-break) spaces or apostrophes (`1 234,5`, `1'234.50`),
negatives as accountants and SAP write them (`(1,234.50)`, `1.234,50-`); in a column the user
mapped, also `4.0%` (a fraction, 0.04), `$12.19`, `€ 1 234`
and `(0.024)` (negative, as accountants write it).
"""

from __future__ import annotations

import re
from calendar import monthrange
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from itertools import pairwise
from typing import Literal

DateOrder = Literal["auto", "month_first", "day_first"]
DATE_ORDERS: tuple[DateOrder, ...] = ("auto", "month_first", "day_first")

DecimalMark = Literal["auto", "point", "comma"]
DECIMAL_MARKS: tuple[DecimalMark, ...] = ("auto", "point", "comma")

#: A date with slashes (or dashes) whose order of day and month the text alone cannot tell.
SLASH_DATE_RE = r"\d{1,2}[/-]\d{1,2}[/-](\d{4}|\d{2})([ T].*)?"
_SLASH_DATE = re.compile(SLASH_DATE_RE)

#: Currency marks and spaces stripped from a mapped number (with the no-break spaces Excel and
#: European locales put between thousands).
_DECOR = r"[\s\x{00A0}\x{202F}$€£¥()]|USD|EUR|GBP|CHF"

#: Dates with a month name, day first or month first (the name says which is the month).
_MONTH_NAME_FORMATS = "['" + "', '".join(
    [
        "%d-%b-%y", "%d-%b-%Y", "%d %b %Y", "%d %B %Y", "%d %b %y", "%b %d, %Y", "%B %d, %Y",
        "%b %d %Y", "%b %Y", "%B %Y", "%b-%Y",
    ]
) + "']"  # fmt: skip

#: Excel's day zero: serial day 1 is 1900-01-01 (with Lotus' phantom 29 February 1900, so the
#: usual offset is 30 December 1899 for every date after February 1900).
EXCEL_EPOCH = "DATE '1899-12-30'"

#: Day zero of the 1904 date system (Mac Excel; the workbook property `date1904`): serial day 0
#: is 1 January 1904, so a serial read in the 1900 system comes out 4 years and a day early
#: (ECMA-376 Part 1, 18.17.4.1).
EXCEL_EPOCH_1904 = "DATE '1904-01-01'"

#: The century two-digit years fall in: `05` is 2005, `69` is 1969 (POSIX `strptime`'s window,
#: which DuckDB's `%y` follows; Excel's own, 1930-2029, differs only for 30-68).
TWO_DIGIT_YEARS = (1969, 2068)

#: Excel's mmm-yy display of a date, `Jan-05`: a month of 2005, or (mmm-dd) 5 January.
MONTH_YEAR_RE = r"[A-Za-z]{3}-\d{2}"
_MONTH_YEAR = re.compile(MONTH_YEAR_RE)

#: A date and time with a UTC offset (`2025-12-31T14:30:00+01:00`, `...Z`): read as the day
#: written; the offset is shown where a column mixes several.
OFFSET_RE = r"\d{4}-\d{2}-\d{2}[T ]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?\s*(Z|[+-]\d{2}(:?\d{2})?)"

#: German and Swiss dates, with a time of day or without.
_DOTTED_FORMATS = "['%d.%m.%Y', '%d.%m.%Y %H:%M', '%d.%m.%Y %H:%M:%S']"


#: What exports write in a cell that holds no value (compared trimmed, in lower case): R and
#: pandas `NA`, Excel's `#N/A`, `n/a`, databases' `null`, Python's `None`, and nothing at all.
MISSING_TOKENS = ("", "na", "n/a", "#n/a", "null", "none")


def missing_sql(expr: str) -> str:
    """SQL true where the text `expr` holds no value (`MISSING_TOKENS`, or NULL)."""
    tokens = ", ".join(f"'{t}'" for t in MISSING_TOKENS)
    return f"(COALESCE(lower(trim({expr})), '') IN ({tokens}))"


#: What separates thousands besides the file's own group mark: a space, the no-break space
#: (U+00A0) and narrow no-break space (U+202F) of French and Swiss exports (`1 234,5`), and the
#: apostrophe of Swiss ones (`1'234.50`, also as the typographic U+2019). None is ever a decimal
#: mark, so a number grouped by one needs no decision (`decimal_evidence_sql` sees through it).
_SPACE_GROUPS = (r"\x{20}", r"\x{A0}", r"\x{202F}", r"\x{27}", r"\x{2019}")

#: A negative number as accountants write it, `(1,234.50)`, and as SAP exports it, `1.234,50-`:
#: the digits (no sign of their own) in the first or the second group.
_NEGATIVE = r"\(\s*(\d[^()+-]*?)\s*\)|(\d[^()+-]*?)-"


def number_sql(expr: str, decimal_comma: bool) -> str:
    """A number as exported: `1234.5`, or with thousands separators `1,234.5`; in a European
    file (decimal comma) `1234,5` or `1.234,5`; thousands also grouped by spaces or apostrophes
    (`1 234,5`, `1'234.50`: `_SPACE_GROUPS`); negative with a leading minus, in parentheses or
    with a trailing minus (`_NEGATIVE`). A group of three digits after each separator, one
    kind of separator in a number, is what makes it a thousands separator (`1,5` stays refused;
    `0.234` is not `234`). NULL when the text is no such number."""
    group, point = (r"\.", ",") if decimal_comma else (",", r"\.")
    groups = "|".join(rf"({mark}\d{{3}})+" for mark in (group, *_SPACE_GROUPS))
    pattern = rf"[+-]?[1-9]\d{{0,2}}({groups})({point}\d*)?"
    separators = f"[{group}{''.join(_SPACE_GROUPS)}]"
    raw = f"trim({expr})"
    negative = f"regexp_full_match({raw}, '{_NEGATIVE}')"
    digits = f"regexp_replace({raw}, '^(?:{_NEGATIVE})$', '\\1\\2')"
    body = f"CASE WHEN {negative} THEN {digits} ELSE {raw} END"
    text = (
        f"CASE WHEN regexp_full_match({body}, '{pattern}') "
        f"THEN regexp_replace({body}, '{separators}', '', 'g') ELSE {body} END"
    )
    if decimal_comma:
        text = f"replace({text}, ',', '.')"
    return f"(TRY_CAST({text} AS DOUBLE) * CASE WHEN {negative} THEN -1 ELSE 1 END)"


#: A number whose one separator is followed by exactly three digits (`40.125`, `1,200`): a
#: thousands separator or a decimal mark, which the value alone cannot tell.
_AMBIGUOUS = {".": r"[1-9]\d{0,2}\.\d{3}", ",": r"[1-9]\d{0,2},\d{3}"}

#: Shapes that show which mark is the decimal one: the mark followed by other than three digits
#: (`40.85`, `0,125` after a zero, `1234.567`), both marks with this one last (`1,234.5`), or the
#: other mark twice (`1,234,567`). Matched on the digits and marks alone (`_core`).
_DECIMAL_SHAPES = {
    ".": (r"\d*\.\d+|\d+\.", r"\d{1,3}(,\d{3})+\.\d*", r"\d{1,3}(,\d{3}){2,}"),
    ",": (r"\d*,\d+|\d+,", r"\d{1,3}(\.\d{3})+,\d*", r"\d{1,3}(\.\d{3}){2,}"),
}


def _core(expr: str) -> str:
    """The digits and marks of a number (sign, currency, spaces and `%` dropped)."""
    return f"regexp_replace(COALESCE({expr}, ''), '[^0-9.,]', '', 'g')"


def ambiguous_number_sql(expr: str, mark: str) -> str:
    """SQL true where the number's one separator is `mark` followed by exactly three digits."""
    return f"regexp_full_match({_core(expr)}, '{_AMBIGUOUS[mark]}')"


def decimal_evidence_sql(expr: str, mark: str) -> str:
    """SQL true where the number shows that `mark` is its decimal mark (see `_DECIMAL_SHAPES`;
    a value of the ambiguous shape shows nothing)."""
    core = _core(expr)
    shapes = " OR ".join(f"regexp_full_match({core}, '{shape}')" for shape in _DECIMAL_SHAPES[mark])
    return f"(({shapes}) AND NOT {ambiguous_number_sql(expr, mark)})"


def ambiguous_mark(raw: str | None) -> str | None:
    """The separator of a number that could be a thousands or a decimal mark, or None."""
    core = re.sub(r"[^0-9.,]", "", raw or "")
    for mark, shape in _AMBIGUOUS.items():
        if re.fullmatch(shape, core):
            return mark
    return None


def ambiguous_number_message(raw: str) -> str:
    """Why a number like `40.125` is refused in a column that does not decide its decimal
    mark, and how to decide it."""
    mark = ambiguous_mark(raw) or "."
    core = re.sub(r"[^0-9.,]", "", raw)
    decimal = f"{float(core.replace(',', '.')):.10g}"
    thousands = core.replace(mark, "")
    point, comma = (decimal, thousands) if mark == "." else (thousands, decimal)
    return (
        f"'{clip_number(raw.strip())}' could be {decimal} or {thousands}: the separator is "
        "followed by three digits, as in every such number of this column, and none decides "
        "the decimal mark (as "
        "40.85 or 1.234,5 would): choose the decimal mark in the column mapping "
        f"(--decimal-mark point reads it as {point}, --decimal-mark comma as {comma}), or "
        "export it with another number of decimals"
    )


def formatted_number_sql(expr: str, decimal_comma: bool) -> str:
    """A number as a person formats it, read in a column the user mapped: currency marks and
    spaces dropped, `(x)` negative, a trailing `%` divided by 100; the rest as `number_sql`."""
    raw = f"trim({expr})"
    core = f"regexp_replace({raw}, '{_DECOR}', '', 'g')"
    percent = f"ends_with({core}, '%')"
    digits = f"rtrim({core}, '%')"
    negative = rf"regexp_full_match({raw}, '.*\(.*\).*')"
    return (
        f"({number_sql(digits, decimal_comma)} * CASE WHEN {negative} THEN -1 ELSE 1 END"
        f" / CASE WHEN {percent} THEN 100 ELSE 1 END)"
    )


def outside_dates_sql(expr: str) -> str:
    """SQL true where the DATE `expr` lies outside the years a metric or go-live can have
    (1700 to 2200): a typo. Compared as dates, so DuckDB's `infinity` and `-infinity` (which
    its reader takes as dates, and whose year is NULL) are outside too."""
    return f"{expr} NOT BETWEEN DATE '1700-01-01' AND DATE '2200-12-31'"


def date_sql(expr: str, serial_epoch: str | None = None) -> str:
    """Every date form that needs no decision from the whole column (slash dates and `Jan-05`
    stay NULL here: `slash_date_sql` and `month_year_sql` read them once it is made). Numbers of
    five digits are serial days from `serial_epoch` (`EXCEL_EPOCH` or `EXCEL_EPOCH_1904`) in a
    workbook's column, and no date in a CSV (None)."""
    text = f"upper(trim({expr}))"
    year_first = f"CAST(left({text}, 4) AS INTEGER), 3 * CAST(right({text}, 1) AS INTEGER) - 2"
    year_last = f"CAST(right({text}, 4) AS INTEGER), 3 * CAST(substr({text}, 2, 1) AS INTEGER) - 2"
    serial = (
        rf"WHEN regexp_full_match({text}, '\d{{5}}(\.\d+)?') "
        f"THEN {serial_epoch} + CAST(floor(CAST({text} AS DOUBLE)) AS INTEGER) "
        if serial_epoch
        else ""
    )
    return (
        f"CASE WHEN regexp_full_match({text}, '{SLASH_DATE_RE}|{MONTH_YEAR_RE}') THEN NULL ELSE "
        f"COALESCE(TRY_CAST({expr} AS DATE), CASE "
        # quarters, as finance tools export them: 2024-Q1, 2024Q1, Q1 2024, Q1-2024
        rf"WHEN regexp_full_match({text}, '\d{{4}}-?Q[1-4]') THEN make_date({year_first}, 1) "
        rf"WHEN regexp_full_match({text}, 'Q[1-4][ -]\d{{4}}') THEN make_date({year_last}, 1) "
        f"{serial}"
        rf"WHEN regexp_full_match({text}, '\d{{1,2}}\.\d{{1,2}}\.\d{{4}}( .*)?') "
        f"THEN TRY_CAST(try_strptime(trim({expr}), {_DOTTED_FORMATS}) AS DATE) "
        # month names, as reports write them: Jun 2025, Jun-25, 1-Jun-25, June 1, 2025
        f"WHEN regexp_matches({text}, '[A-Z]{{3}}') "
        f"THEN TRY_CAST(try_strptime(trim({expr}), {_MONTH_NAME_FORMATS}) AS DATE) "
        # compact, as ERPs write them: 20250601
        rf"WHEN regexp_full_match({text}, '(19|20)\d{{6}}') "
        f"THEN TRY_CAST(try_strptime({text}, '%Y%m%d') AS DATE) "
        f"WHEN length({expr}) = 7 THEN TRY_CAST({expr} || '-01' AS DATE) "
        f"WHEN length({expr}) = 4 THEN TRY_CAST({expr} || '-01-01' AS DATE) "
        f"WHEN length({expr}) > 10 THEN TRY_CAST(TRY_CAST({expr} AS TIMESTAMP) AS DATE) "
        "END) END"
    )


def slash_date_sql(expr: str, order: DateOrder) -> str:
    """`06/01/2025`, `6-1-25` or `06/01/2025 13:45` read month first or day first (a time of
    day is dropped; two-digit years as `TWO_DIGIT_YEARS`)."""
    day_month = "%m/%d" if order == "month_first" else "%d/%m"
    date = f"split_part(replace(trim({expr}), '-', '/'), ' ', 1)"
    date = f"split_part({date}, 'T', 1)"
    return (
        rf"CASE WHEN regexp_full_match({date}, '.*/\d{{4}}') "
        f"THEN TRY_CAST(try_strptime({date}, '{day_month}/%Y') AS DATE) "
        f"ELSE TRY_CAST(try_strptime({date}, '{day_month}/%y') AS DATE) END"
    )


def slash_fields_sql(expr: str) -> tuple[str, str]:
    """The first and second fields of a slash date, as integers (to decide the order)."""
    text = f"replace(trim({expr}), '-', '/')"
    return (
        f"TRY_CAST(split_part({text}, '/', 1) AS INTEGER)",
        f"TRY_CAST(split_part({text}, '/', 2) AS INTEGER)",
    )


def is_slash_date(raw: str | None) -> bool:
    return raw is not None and _SLASH_DATE.fullmatch(raw.strip()) is not None


_FORMATTED = re.compile(r"^\s*\(?\s*[-+]?\s*[$€£¥]?\s*[-+]?[\d.,\s]+\s*%?\s*\)?\s*$")


#: Excel's error values other than `#N/A` (which is no observation: `MISSING_TOKENS`), each
#: with what it says went wrong in the formula that shows it.
EXCEL_ERRORS = {
    "#div/0!": "the formula divided by zero",
    "#value!": "the formula was given the wrong kind of value",
    "#ref!": "the formula refers to cells that were deleted",
    "#name?": "the formula names a function or range Excel does not know",
    "#num!": "the formula's result is not a valid number",
    "#null!": "the formula's ranges do not meet",
    "#spill!": "the formula's result cannot spill into its cells",
    "#calc!": "the formula could not be calculated",
    "#getting_data": "the cell was still loading when the workbook was saved",
}


def formatted_hint(raw: str) -> str:
    """How to fix a formatted number in a column the user did not map, or an Excel error value
    (`#DIV/0!`, `EXCEL_ERRORS`) in any column, or ''."""
    text = raw.strip()
    error = EXCEL_ERRORS.get(text.lower())
    if error is not None:
        return (
            f": it is an Excel error ({error}). Fix the formula, or clear the cell (or make it "
            "#N/A) where there is no value: an empty cell is no observation"
        )
    if not _FORMATTED.match(text) or not re.search(r"\d", text):
        return ""
    if text.endswith("%"):
        number = text.rstrip("%").strip().replace(",", ".")
        try:
            fraction = f"{float(number) / 100:.6g}"
        except ValueError:
            fraction = "a fraction"
        return (
            f": rates are fractions ({clip_number(text)} is {fraction}), or map the column in "
            "the column mapping to read percentages"
        )
    if any(mark in text for mark in "$€£¥") or text.startswith("("):
        return (
            ": write plain numbers (no currency sign; -0.02 for a negative), or map the column "
            "in the column mapping to read formatted numbers"
        )
    return ""


def clip_number(text: str) -> str:
    return text if len(text) <= 20 else text[:19] + "\u2026"


def is_month_year(raw: str | None) -> bool:
    """Whether `raw` is written as `Jan-05` (a month and two digits)."""
    return raw is not None and _MONTH_YEAR.fullmatch(raw.strip()) is not None


def month_year_sql(expr: str) -> str:
    """`Jan-05` as the first day of its month (2005-01-01; years as `TWO_DIGIT_YEARS`)."""
    return f"TRY_CAST(try_strptime(trim({expr}), '%b-%y') AS DATE)"


@dataclass(frozen=True)
class MonthYearReading:
    """How a column's `Jan-05` dates read (`month_year_reading`): as months, or not at all,
    and the sentence that says which and why."""

    months: bool
    reason: str


#: Steps between neighbouring dates that show a reading: at most a quarter between months,
#: at most 12 days between days (the weekly or daily data a day reading would be).
_MONTHLY_STEP = 3
_DAILY_STEP = 12


def month_year_reading(values: Iterable[str]) -> MonthYearReading:
    """Whether a column's `Jan-05` values are months (January 2005, as Excel's mmm-yy display
    writes a date) or days (5 January, mmm-dd), decided by the whole column: two digits that
    are no day of their month (`Dec-98`, `Feb-30`, `Jan-00`) prove months; otherwise the
    column's distinct dates, sorted, step by a month or a quarter as months (median step), or by
    12 days or fewer as days. Days carry no year, so a column that reads as days, or as both,
    is refused; one that shows neither (a single month) reads as months, the common display."""
    given = list(dict.fromkeys(v.strip() for v in values if v and v.strip()))
    if not given:
        return MonthYearReading(True, "")
    parsed = sorted((datetime.strptime(v.title(), "%b-%y"), v) for v in given)
    low, high = TWO_DIGIT_YEARS
    first = given[0]
    pivot = f"two-digit years are {low}-{high}"
    for when, raw in parsed:
        if not 1 <= when.year % 100 <= monthrange(2024, when.month)[1]:
            return MonthYearReading(
                True,
                f"dates like '{clip_number(first)}' read as months, stored as their first day "
                f"('{clip_number(raw)}' is {when:%Y-%m-%d}: {when.year % 100:02d} is no day of "
                f"{when:%B}); {pivot}",
            )
    months = [when.year * 12 + when.month for when, _ in parsed]
    days = sorted({date(2024, when.month, when.year % 100) for when, _ in parsed})
    month_steps = sorted(b - a for a, b in pairwise(months))
    day_steps = sorted((b - a).days for a, b in pairwise(days))
    monthly = bool(month_steps) and month_steps[len(month_steps) // 2] <= _MONTHLY_STEP
    daily = bool(day_steps) and day_steps[len(day_steps) // 2] <= _DAILY_STEP
    as_day = f"{first[:3].title()} {int(first[-2:])}"
    if daily:
        both = " (and a month or a quarter apart as months)" if monthly else ""
        step = day_steps[len(day_steps) // 2]
        apart = "a day" if step == 1 else f"{step} days"
        return MonthYearReading(
            False,
            f"'{clip_number(first)}' reads as a day, {as_day}, here: the column's dates lie "
            f"{apart} apart as days{both}, and a day without its "
            "year is no date: export the dates with their year (YYYY-MM-DD, or YYYY-MM for "
            "months)",
        )
    when = datetime.strptime(first.title(), "%b-%y")
    why = (
        "the column steps month by month"
        if monthly
        else f"nothing in the column tells a month from a day ({as_day}): Excel's mmm-yy "
        "display is taken; if these are days, export the dates as YYYY-MM-DD"
    )
    return MonthYearReading(
        True,
        f"dates like '{clip_number(first)}' read as months, stored as their first day "
        f"('{clip_number(first)}' is {when:%Y-%m-%d}): {why}; {pivot}",
    )
