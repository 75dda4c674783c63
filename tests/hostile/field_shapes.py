"""Real-export shapes modelled on public bug reports, each with what the store must hold after
reading it: shared by the store's tests (the Upload page's way: validate the bytes, then
ingest them) and the command line's (`pilotproof ingest FILE`)."""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import date, datetime

import pandas as pd

#: The pilots every case's store holds (P1 went live in the middle of every case's data).
PILOTS = "pilot_id,go_live\nP1,2005-06-01\n"


@dataclass(frozen=True)
class Shape:
    """One export: its file name and bytes, the (date, metric, value) rows it must store, in
    date order, and words each expected warning holds (one entry per warning, in order)."""

    id: str
    name: str
    content: bytes
    stored: list[tuple[str, str, float]]
    warnings: list[tuple[str, ...]] = field(default_factory=list)
    #: metrics the upload adds (`--new-metric NAME=DIRECTION`)
    new_metrics: dict[str, str] = field(default_factory=dict)
    #: a shape that must be refused: the first problem's line, column and words (then
    #: `stored` is empty: nothing written)
    refused: tuple[int, str, tuple[str, ...]] | None = None

    def cli_args(self) -> list[str]:
        return [f"--new-metric={m}={d}" for m, d in self.new_metrics.items()]


def _long(rows: list[tuple[str, str, str]], delimiter: str = ",", head: str = "") -> bytes:
    """A long metrics file of P1's rows (date, metric, value as written), below `head`."""
    lines = [delimiter.join(("pilot_id", "date", "metric", "value"))]
    lines += [delimiter.join(("P1", *row)) for row in rows]
    return (head + "\n".join(lines) + "\n").encode()


SAVINGS = {"net_savings": "higher_is_better"}

NUMBERS = [
    Shape(
        "no_break_space_thousands",
        "fr.csv",
        _long(
            [("2025-01-06", "cycle_time", "1\u00a0234,5"), ("2025-01-07", "cycle_time", "12,25")],
            ";",
        ),
        [("2025-01-06", "cycle_time", 1234.5), ("2025-01-07", "cycle_time", 12.25)],
    ),
    Shape(
        "narrow_no_break_space_thousands",
        "ch_fr.csv",
        _long(
            [
                ("2025-01-06", "cycle_time", "1\u202f234,5"),
                ("2025-01-07", "cycle_time", "2\u202f000"),
            ],
            ";",
        ),
        [("2025-01-06", "cycle_time", 1234.5), ("2025-01-07", "cycle_time", 2000.0)],
    ),
    Shape(
        "apostrophe_thousands",
        "ch.csv",
        _long(
            [("2025-01-06", "cycle_time", "1'234.50"), ("2025-01-07", "cycle_time", "12\u2019000")]
        ),
        [("2025-01-06", "cycle_time", 1234.5), ("2025-01-07", "cycle_time", 12000.0)],
    ),
    Shape(
        "sap_trailing_minus",
        "sap.csv",
        _long(
            [
                ("06.01.2025", "net_savings", "1.234,50-"),
                ("07.01.2025", "net_savings", "1234,50-"),
                ("08.01.2025", "net_savings", "17,25"),
            ],
            ";",
        ),
        [
            ("2025-01-06", "net_savings", -1234.5),
            ("2025-01-07", "net_savings", -1234.5),
            ("2025-01-08", "net_savings", 17.25),
        ],
        new_metrics=SAVINGS,
    ),
    Shape(
        "sap_trailing_minus_point",
        "sap_point.csv",
        _long([("2025-01-06", "net_savings", "1234.50-"), ("2025-01-07", "net_savings", "5")]),
        [("2025-01-06", "net_savings", -1234.5), ("2025-01-07", "net_savings", 5.0)],
        new_metrics=SAVINGS,
    ),
    Shape(
        "accounting_parentheses",
        "acct.csv",
        _long(
            [("2025-01-06", "net_savings", '"(1,234.50)"'), ("2025-01-07", "net_savings", "(12)")]
        ),
        [("2025-01-06", "net_savings", -1234.5), ("2025-01-07", "net_savings", -12.0)],
        new_metrics=SAVINGS,
    ),
]


def _months(first: str, n: int) -> list[str]:
    return [f"{d:%b-%y}" for d in pd.date_range(first, periods=n, freq="MS")]


def _monthly(first: str, n: int) -> Shape:
    """`n` months of P1's cycle time from `first`, written as Excel's mmm-yy shows them."""
    days = pd.date_range(first, periods=n, freq="MS")
    return Shape(
        f"mmm_yy_from_{first}",
        f"months_{first}.csv",
        _long([(m, "cycle_time", "5") for m in _months(first, n)]),
        [(f"{d:%Y-%m-%d}", "cycle_time", 5.0) for d in days],
    )


_DECADES = _monthly("1998-07-01", 24)  # Dec-98 is no day of December: months, proven
_ONE_YEAR = _monthly("2005-01-01", 12)  # Jan-05 ... Dec-05: every one could be a day


def _weekly_days() -> bytes:
    """Jan-05, Jan-12, ... : mmm-dd, days a week apart (with no year)."""
    days = pd.date_range("2025-01-05", periods=8, freq="7D")
    return _long([(f"{d:%b}-{d.day:02d}", "cycle_time", "5") for d in days])


DATES = [
    Shape(
        "mmm_yy_spanning_decades",
        _DECADES.name,
        _DECADES.content,
        _DECADES.stored,
        [
            (
                "months_1998-07-01.csv:1: column date",
                "'Jul-98' read as months",
                "'Jul-98' is 1998-07-01",
                "no day of July",
                "1969-2068",
            )
        ],
    ),
    Shape(
        "mmm_yy_stepping_month_by_month",
        _ONE_YEAR.name,
        _ONE_YEAR.content,
        _ONE_YEAR.stored,
        [("'Jan-05' read as months", "2005-01-01", "steps month by month", "1969-2068")],
    ),
    Shape(
        "mmm_dd_days_without_a_year",
        "weekly.csv",
        _weekly_days(),
        [],
        refused=(2, "date", ("'Jan-05' reads as a day", "7 days apart", "YYYY-MM-DD")),
    ),
    Shape(
        "german_date_times",
        "de.csv",
        _long(
            [("30.12.2025 14:30", "cycle_time", "4,5"), ("31.12.2025 14:30:00", "cycle_time", "5")],
            ";",
        ),
        [("2025-12-30", "cycle_time", 4.5), ("2025-12-31", "cycle_time", 5.0)],
    ),
    Shape(
        "iso_one_utc_offset",
        "iso.csv",
        _long(
            [
                ("2025-12-30T23:30:00+01:00", "cycle_time", "4"),
                ("2025-12-31T14:30:00+01:00", "cycle_time", "5"),
            ]
        ),
        [("2025-12-30", "cycle_time", 4.0), ("2025-12-31", "cycle_time", 5.0)],
    ),
    Shape(
        "iso_mixed_utc_offsets",
        "iso_mixed.csv",
        _long(
            [
                ("2025-12-30T14:30:00+01:00", "cycle_time", "4"),
                ("2025-12-31T23:30:00-05:00", "cycle_time", "5"),
                ("2026-01-01T08:00:00Z", "cycle_time", "6"),
            ]
        ),
        [
            ("2025-12-30", "cycle_time", 4.0),
            ("2025-12-31", "cycle_time", 5.0),
            ("2026-01-01", "cycle_time", 6.0),
        ],
        [
            (
                "iso_mixed.csv:3: column date",
                "3 different UTC offsets",
                "kept on the day written",
                "'2025-12-31T23:30:00-05:00' is 2026-01-01 in UTC",
            )
        ],
    ),
]


def _workbook_1904(dates_as: str) -> bytes:
    """A Mac Excel workbook (1904 date system) of P1's cycle time on 6-8 January 2025, its
    dates as date cells or as plain serial numbers (`dates_as`: "cells" or "serials")."""
    from openpyxl import Workbook
    from openpyxl.utils.datetime import CALENDAR_MAC_1904

    book = Workbook()
    book.epoch = CALENDAR_MAC_1904
    sheet = book.active
    sheet.append(["pilot_id", "date", "metric", "value"])
    for i, day in enumerate((date(2025, 1, 6), date(2025, 1, 7), datetime(2025, 1, 8, 14, 30))):
        serial = (day.date() if isinstance(day, datetime) else day) - date(1904, 1, 1)
        cell = day if dates_as == "cells" else serial.days
        sheet.append(["P1", cell, "cycle_time", 4 + i])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


_JANUARY = [
    ("2025-01-06", "cycle_time", 4.0),
    ("2025-01-07", "cycle_time", 5.0),
    ("2025-01-08", "cycle_time", 6.0),
]
WORKBOOKS = [
    Shape("mac_1904_date_cells", "mac.xlsx", _workbook_1904("cells"), _JANUARY),
    Shape("mac_1904_serial_numbers", "mac_serials.xlsx", _workbook_1904("serials"), _JANUARY),
]

_TWO_DAYS = [("2025-01-06", "cycle_time", "4"), ("2025-01-07", "cycle_time", "5")]
_TWO_STORED = [("2025-01-06", "cycle_time", 4.0), ("2025-01-07", "cycle_time", 5.0)]
_POWER_BI_FOOTER = 'Total,,,9\n\nExported on 2025-03-01 10:00 UTC\n"Rows: 2"\n'
REPORTS = [
    Shape(
        "power_bi_filters_and_footer",
        "powerbi.csv",
        _long(_TWO_DAYS, head="Applied filters:\nRegion is EMEA\n\n") + _POWER_BI_FOOTER.encode(),
        _TWO_STORED,
        [
            ("powerbi.csv:1: column -", "2 lines above the header", "'Region is EMEA'"),
            ("powerbi.csv:7: column -", "3 lines below the data", "'Total,9'", "'Rows: 2'"),
        ],
    ),
    Shape(
        "tableau_filter_line_and_grand_total",
        "tableau.csv",
        _long(_TWO_DAYS, ";", head="Filters: Region is EMEA; Segment is SMB\n")
        + b"Grand Total;;;9\n",
        _TWO_STORED,
        [
            ("tableau.csv:1: column -", "1 line above the header", "'Filters: Region"),
            ("tableau.csv:5: column -", "1 line below the data", "'Grand Total,9'"),
        ],
    ),
]

_UNICODE_TEXT = "pilot_id\tdate\tmetric\tvalue\r\n" + "".join(
    f"P1\t{day}\t{metric}\t{value.replace('.', ',')}\r\n" for day, metric, value in _TWO_DAYS
)
ENCODINGS = [
    Shape(
        "excel_unicode_text_utf16_le",
        "unicode.txt.csv",
        _UNICODE_TEXT.encode("utf-16"),
        _TWO_STORED,
    ),
    Shape(
        "utf16_big_endian",
        "unicode_be.csv",
        b"\xfe\xff" + _UNICODE_TEXT.encode("utf-16-be"),
        _TWO_STORED,
    ),
    Shape(
        "crlf_line_ends",
        "crlf.csv",
        _long(_TWO_DAYS).replace(b"\n", b"\r\n"),
        _TWO_STORED,
    ),
    Shape(
        "windows_1252_is_refused_by_line",
        "ansi.csv",
        "pilot_id;date;metric;value;unit\r\nP1;06.01.2025;cycle_time;4,5;Zürich €\r\n".encode(
            "cp1252"
        ),
        [],
        refused=(2, "-", ("not UTF-8 text (byte 0xfc)", "save the file as 'CSV UTF-8'")),
    ),
]

SHAPES = [*NUMBERS, *DATES, *WORKBOOKS, *REPORTS, *ENCODINGS]
