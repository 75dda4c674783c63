"""A workbook reads as the same table saved as CSV: an Excel error value is what Excel shows
(`#N/A` no observation, `#DIV/0!` refused by row and column), and a sheet of formulas no
spreadsheet ever calculated is refused, naming the sheet, with nothing written."""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

import openpyxl
import pytest

from pilotproof.store import IngestError, Store
from pilotproof.store.sheet_cells import scan

PILOTS = "pilot_id,go_live\nP1,2024-01-05\n"
DATES = [f"2024-01-{d:02d}" for d in range(1, 9)]


def book(rows: list[list[object]], errors: dict[str, str] | None = None, title: str = "") -> bytes:
    """An .xlsx as openpyxl writes it (formulas stored without values), with error cells
    (`{"C3": "#DIV/0!"}`) stored as Excel stores them: `<c t="e"><v>#DIV/0!</v></c>`."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "Weekly"
    if title:
        sheet.append([title])
    for row in rows:
        sheet.append(row)
    for ref, error in (errors or {}).items():
        sheet[ref].value = error
        sheet[ref].data_type = "e"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def calculated(data: bytes, values: dict[str, str]) -> bytes:
    """`data` with the formula cells named in `values` given the value a spreadsheet computed
    and saved beside the formula (`<f>..</f><v>12</v>`), as Excel writes a calculated book;
    a value of '' is a formula whose text result is empty (`t="str"`, `<v></v>`)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w") as target:
        for item in source.infolist():
            part = source.read(item)
            if item.filename == "xl/worksheets/sheet1.xml":
                text = part.decode()
                for ref, value in values.items():
                    kind = ' t="str"' if value == "" else ""
                    text = re.sub(
                        rf'<c r="{ref}"([^>]*)><f>(.*?)</f><v\s*/?>(</v>)?',
                        rf'<c r="{ref}"\1{kind}><f>\2</f><v>{value}</v>',
                        text,
                    )
                part = text.encode()
            target.writestr(item, part)
    return out.getvalue()


def as_csv(rows: list[list[object]], errors: dict[str, str], title: str = "") -> bytes:
    """The same table as Excel saves it as CSV: each error cell holds the text it shows."""
    grid = [[str(cell) for cell in row] for row in rows]
    top = 1 if title else 0
    for ref, error in errors.items():
        column, row = ord(ref[0]) - ord("A"), int(ref[1:]) - 1 - top
        grid[row][column] = error
    lines = ([title] if title else []) + [",".join(row) for row in grid]
    return ("\n".join(lines) + "\n").encode()


def wide_rows() -> list[list[object]]:
    return [["pilot_id", "date", "cycle_time", "rework_rate"]] + [
        ["P1", d, 10 + i, 0.05] for i, d in enumerate(DATES)
    ]


def long_rows() -> list[list[object]]:
    return [["pilot_id", "date", "metric", "value"]] + [
        ["P1", d, "cycle_time", 10 + i] for i, d in enumerate(DATES)
    ]


def problems(store: Store, name: str, data: bytes) -> list[tuple[int, str, str]]:
    """The refusal of `data` as (line, column, message), the file's name left out."""
    with pytest.raises(IngestError) as caught:
        store.ingest([(name, data)])
    return [(p.line, p.column, p.message) for p in caught.value.problems]


@pytest.mark.parametrize(
    ("rows", "errors"),
    [
        (wide_rows(), {"C3": "#DIV/0!", "D5": "#VALUE!", "C7": "#REF!"}),
        (long_rows(), {"D4": "#DIV/0!", "D6": "#NAME?"}),
    ],
    ids=["wide", "long"],
)
def test_an_error_value_in_a_workbook_is_refused_as_the_same_csv_is(
    seeded: Store, snapshot, rows: list[list[object]], errors: dict[str, str]
) -> None:
    before = snapshot(seeded)
    from_book = problems(seeded, "kpis.xlsx", book(rows, errors, title="KPI export"))
    from_csv = problems(seeded, "kpis.csv", as_csv(rows, errors, title="KPI export"))
    assert from_book == from_csv
    # each names the sheet's row, the column's header and the error, with what to do
    header = rows[0]
    assert [(line, column, message.split(":")[0]) for line, column, message in from_book] == [
        (int(ref[1:]), header[ord(ref[0]) - ord("A")], f"'{errors[ref]}' is not a number")
        for ref in sorted(errors, key=lambda r: int(r[1:]))
    ]
    assert all("Excel error" in message and "#N/A" in message for *_, message in from_book)
    assert snapshot(seeded) == before


def test_na_in_a_workbook_is_no_observation_as_in_the_same_csv(tmp_path: Path) -> None:
    (tmp_path / "pilots.csv").write_text(PILOTS)
    rows, errors = long_rows(), {"D3": "#N/A", "D5": "#N/A"}
    stored, summaries, lines = [], [], []
    for name, data in (("na.xlsx", book(rows, errors)), ("na.csv", as_csv(rows, errors))):
        with Store(tmp_path / f"{name}.duckdb") as store:
            store.ingest([tmp_path / "pilots.csv"])
            result = store.ingest([(name, data)])
            stored.append(store.observations(["P1"]))
        summaries.append(result.summary)
        lines.append([w.line for w in result.warnings])
    assert stored[0].equals(stored[1])
    assert sorted(stored[0]["date"].dt.day) == [1, 3, 5, 6, 7, 8]
    assert all("skipped 2 rows without a value" in summary for summary in summaries)
    assert lines == [[3, 5], [3, 5]]


def test_na_in_a_wide_workbook_is_a_week_without_that_metric(seeded: Store) -> None:
    result = seeded.ingest([("wide.xlsx", book(wide_rows(), {"C4": "#N/A"}))])
    stored = seeded.observations(["P1"])
    cycle = stored[stored["metric"] == "cycle_time"]
    assert "2024-01-03" not in set(cycle["date"].dt.strftime("%Y-%m-%d"))
    assert len(cycle) == 7 and len(stored[stored["metric"] == "rework_rate"]) == 8
    assert "ingested 15 rows" in result.summary


@pytest.mark.parametrize("rows", [wide_rows(), long_rows()], ids=["wide", "long"])
def test_formulas_never_calculated_refuse_the_sheet_with_nothing_written(
    seeded: Store, snapshot, rows: list[list[object]]
) -> None:
    value_column = "C" if rows[0][2] == "cycle_time" else "D"
    for i, row in enumerate(rows[1:], start=2):
        row[rows[0].index("cycle_time" if value_column == "C" else "value")] = f"=9+{i}"
    before = snapshot(seeded)
    with pytest.raises(IngestError) as caught:
        seeded.ingest([("script.xlsx", book(rows))])
    (problem,) = caught.value.problems
    assert problem.file == "script.xlsx[Weekly]" and problem.line == 2
    first = f"8 cells hold formulas without computed values, the first at {value_column}2"
    assert problem.message.startswith(first)
    assert "open it in excel" in problem.message.lower() and "CSV" in problem.message
    assert snapshot(seeded) == before
    report = seeded.validate([("script.xlsx", book(rows))])
    assert [p.message for p in report.problems] == [problem.message]


def test_calculated_formulas_read_their_values(seeded: Store) -> None:
    rows = wide_rows()
    for i, row in enumerate(rows[1:], start=2):
        row[2] = f"=9+{i}"
    rows[1][3] = '=IF(1>0,"",1)'  # its result is the empty text: no observation, not uncalculated
    data = calculated(book(rows), {f"C{i}": str(9 + i) for i in range(2, 10)} | {"D2": ""})
    found = scan(data, "Weekly")
    assert (found.uncomputed, found.errors) == (0, {})
    result = seeded.ingest([("excel.xlsx", data)])
    stored = seeded.observations(["P1"])
    assert sorted(stored[stored["metric"] == "cycle_time"]["value"]) == list(range(11, 19))
    assert "ingested 15 rows" in result.summary


def test_the_scan_finds_the_chosen_sheet_by_name_and_ignores_other_formats(tmp_path: Path) -> None:
    workbook = openpyxl.Workbook()
    workbook.active.title = "Notes"
    workbook.active["A1"] = "=1+1"
    data_sheet = workbook.create_sheet("Data & more")
    data_sheet["B2"] = "#REF!"
    data_sheet["B2"].data_type = "e"
    buffer = io.BytesIO()
    workbook.save(buffer)
    data = buffer.getvalue()
    assert scan(data, "Data & more").errors == {(1, 1): "#REF!"}
    assert scan(data, "Data & more").uncomputed == 0
    assert (scan(data, "Notes").uncomputed, scan(data, "Notes").first_uncomputed) == (1, "A1")
    assert scan(data, "missing") == scan(b"pilot_id,date\n", "Data") == scan(b"PK\x03\x04xx", "D")
    assert scan(data, "missing").uncomputed == 0 and not scan(data, "missing").errors
