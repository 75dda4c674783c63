"""Currencies: the currency each company (or pilot) states its costs in, the portfolio's
reporting currency and the conversion rates a user entered (issue 13).

A pilot's currency is its own (a pilots file's `currency` column) or else its company's (set
on the Settings page). Every setting is a row appended with who and when; the newest row wins,
so undoing the pilots file that set a currency brings the previous one back. Rates are what
the user typed: pilotproof never fetches one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import duckdb

from .errors import Problem, StoreError
from .plans import pilot_file_rows
from .reading import Layout, Source
from .sql import scalar

# ISO 4217 active codes (2024 list, with XCG and ZWG); anything else is refused by name.
ISO_4217: frozenset[str] = frozenset(
    """AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL BSD BTN
    BWP BYN BZD CAD CDF CHF CLP CNY COP CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD FKP
    GBP GEL GHS GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES KGS
    KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR
    MWK MXN MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR RON RSD RUB RWF
    SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT TND TOP TRY TTD TWD
    TZS UAH UGX USD UYU UZS VES VND VUV WST XAF XCD XCG XOF XPF YER ZAR ZMW ZWG ZWL""".split()  # noqa: SIM905 (a table of codes reads best as one)
)

#: The pilots file's optional column.
FILE_COLUMN = "currency"


def currency_code(raw: object) -> str:
    """A currency cell as its ISO 4217 code ('eur ' -> 'EUR'); StoreError naming the value
    when it is not one."""
    text = str(raw if raw is not None else "").strip()
    code = text.upper()
    if code not in ISO_4217:
        shown = text[:60] or "(empty)"
        raise StoreError(
            f"currency '{shown}' is not a three-letter ISO 4217 code (such as EUR, GBP or USD)"
        )
    return code


@dataclass(frozen=True)
class FileCurrency:
    """One pilots-file row's currency, with where it came from."""

    file: str
    line: int
    pilot_id: str
    currency: str
    content_hash: str


def read_file_currencies(
    source: Source, layout: Layout
) -> tuple[list[FileCurrency], list[Problem]]:
    """The currencies in a pilots file's `currency` column and a Problem per bad cell, named
    by line (nothing is written here). An empty cell keeps the stored currency."""

    if layout.kind != "pilots" or FILE_COLUMN not in layout.index:
        return [], []
    found: list[FileCurrency] = []
    problems: list[Problem] = []
    for line, cells in pilot_file_rows(source, layout, (FILE_COLUMN,)):
        if not cells[FILE_COLUMN] or not cells["pilot_id"]:
            continue
        try:
            code = currency_code(cells[FILE_COLUMN])
        except StoreError as exc:
            problems.append(Problem(source.name, line, FILE_COLUMN, str(exc)))
            continue
        found.append(FileCurrency(source.name, line, cells["pilot_id"], code, source.content_hash))
    return found, problems


def write_file_currencies(
    cur: duckdb.DuckDBPyConnection, items: list[FileCurrency], user: str | None
) -> None:
    """Record the file currencies inside the caller's transaction, tied to their upload so
    undoing the upload removes them."""
    if not items:
        return
    import pandas as pd

    now = pd.Timestamp.now().floor("s")
    for item in items:
        upload = scalar(
            cur, "SELECT max(upload_id) FROM uploads WHERE content_hash = ?", [item.content_hash]
        )
        cur.execute(
            f"INSERT INTO currencies VALUES ({_NEXT}, 'pilot', ?, ?, ?, ?, ?)",
            [item.pilot_id, item.currency, user or "", now, upload],
        )


def set_company_currency(
    cur: duckdb.DuckDBPyConnection, company: str, currency: str | None, by: str
) -> None:
    """A company's currency (None clears it), appended with who and when."""
    import pandas as pd

    code = None if currency is None or not str(currency).strip() else currency_code(currency)
    cur.execute(
        f"INSERT INTO currencies VALUES ({_NEXT}, 'company', ?, ?, ?, ?, NULL)",
        [company, code, by, pd.Timestamp.now()],
    )


_NEXT = "(SELECT coalesce(max(seq), 0) + 1 FROM currencies)"
# the newest setting per company or pilot (a later row wins; NULL = cleared)
_LATEST = (
    "SELECT key, currency FROM (SELECT key, currency, row_number() OVER (PARTITION BY key "
    "ORDER BY seq DESC) AS n FROM currencies WHERE scope = ?) WHERE n = 1"
)


def company_currencies(cur: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """company -> its currency (companies without one are left out)."""
    rows = cur.execute(_LATEST, ["company"]).fetchall()
    return {key: code for key, code in rows if code}


def pilot_currencies(cur: duckdb.DuckDBPyConnection) -> dict[str, str | None]:
    """pilot_id -> the currency its money is stated in: its own, else its company's, else
    None (not known)."""
    own = {key: code for key, code in cur.execute(_LATEST, ["pilot"]).fetchall() if code}
    by_company = company_currencies(cur)
    rows = cur.execute("SELECT pilot_id, company FROM pilots ORDER BY pilot_id").fetchall()
    return {pid: own.get(pid) or by_company.get(company or "") for pid, company in rows}


@dataclass(frozen=True)
class Rates:
    """The reporting currency and the user's rates: 1 unit of `currency` is `rates[currency]`
    units of the reporting currency."""

    reporting: str | None
    rates: Mapping[str, float]

    def convertible(self, currencies: set[str]) -> bool:
        """Whether every one of `currencies` can be stated in the reporting currency."""
        if self.reporting is None:
            return False
        return all(c == self.reporting or c in self.rates for c in currencies)


def read_rates(cur: duckdb.DuckDBPyConnection) -> Rates:
    """The reporting currency (None when not chosen) and the conversion rates entered."""
    row = cur.execute("SELECT value FROM meta WHERE key = 'reporting_currency'").fetchone()
    rates = dict(cur.execute("SELECT currency, rate FROM fx_rates ORDER BY currency").fetchall())
    return Rates(row[0] if row and row[0] else None, {k: float(v) for k, v in rates.items()})


def write_rates(
    cur: duckdb.DuckDBPyConnection,
    reporting: str | None,
    rates: Mapping[str, float | None],
    by: str,
) -> None:
    """Replace the reporting currency and the rates (a None or blank rate is removed);
    StoreError on a bad code or a rate that is not a positive number."""
    import pandas as pd

    code = None if not reporting else currency_code(reporting)
    clean: dict[str, float] = {}
    for currency, rate in rates.items():
        if rate is None or (isinstance(rate, float) and rate != rate):
            continue
        source = currency_code(currency)
        if source == code:
            continue
        value = float(rate)
        if not (value > 0 and value < float("inf")):
            raise StoreError(f"the rate for {source} must be a positive number, not {rate}")
        clean[source] = value
    cur.execute("DELETE FROM meta WHERE key = 'reporting_currency'")
    if code is not None:
        cur.execute("INSERT INTO meta VALUES ('reporting_currency', ?)", [code])
    cur.execute("DELETE FROM fx_rates")
    now = pd.Timestamp.now()
    for source, value in sorted(clean.items()):
        cur.execute("INSERT INTO fx_rates VALUES (?, ?, ?, ?)", [source, value, by, now])
