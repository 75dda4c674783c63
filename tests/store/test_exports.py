"""Real exports: workbooks, one-pilot files, US dates, formatted numbers, and problems reported
once per row (issue 12)."""

from __future__ import annotations

import io
import time
from dataclasses import replace
from datetime import date, datetime

import pytest
import xlsxwriter

from pilotproof.store import IngestError, ReadOptions, Store

HELPDESK_HEADERS = ["Ticket Week", "Team", "Avg Handle Time (min)", "Reopen Rate"]


def workbook(sheets: dict[str, list[list]], title: str | None = None) -> bytes:
    """An .xlsx as a helpdesk tool writes it: a title row, a blank row, then the table; dates
    as date cells, rates as percent cells."""
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    percent = book.add_format({"num_format": "0.0%"})
    us_date = book.add_format({"num_format": "mm/dd/yyyy"})
    for name, rows in sheets.items():
        sheet = book.add_worksheet(name)
        top = 0
        if title:
            sheet.write(0, 0, title)
            top = 2
        for i, row in enumerate(rows):
            for j, cell in enumerate(row):
                if isinstance(cell, datetime):
                    sheet.write_datetime(top + i, j, cell, us_date)
                elif isinstance(cell, float) and 0 < cell < 1:
                    sheet.write_number(top + i, j, cell, percent)
                elif cell is not None:
                    sheet.write(top + i, j, cell)
    book.close()
    return buffer.getvalue()


def helpdesk_rows(weeks: int = 6) -> list[list]:
    rows: list[list] = [HELPDESK_HEADERS]
    for w in range(weeks):
        rows.append([datetime(2025, 6, 2 + 7 * (w % 4), 0, 0), "Tier 1", 12.5 - w, 0.047])
    return rows[: weeks + 1]


MAPPING = {
    "Ticket Week": "date",
    "Team": "unit",
    "Avg Handle Time (min)": "response_time",
    "Reopen Rate": "rework_rate",
}


def test_one_pilot_workbook_with_title_row_percent_cells_and_a_sheet_picker(seeded: Store):
    rows = [HELPDESK_HEADERS] + [
        [datetime(2024, 1, 1 + d), "Tier 1", 10.0 + d, 0.05] for d in range(4)
    ]
    data = workbook({"Notes": [["read me", "please"]], "Weekly": rows}, title="Helpdesk export")
    options = ReadOptions(columns=MAPPING, pilot_id="P1", sheets={"helpdesk.xlsx": "Weekly"})

    report = seeded.validate([("helpdesk.xlsx", data)], options)
    assert report.ok, report.problems
    assert report.kind == {"helpdesk.xlsx[Weekly]": "wide"}
    assert str(report.preview["date"].iloc[0]) == "2024-01-01"  # a date, not a timestamp

    result = seeded.ingest([("helpdesk.xlsx", data)], user="ana", mapping=options)
    assert result.rows == 8
    stored = seeded.observations(["P1"])
    rework = stored[stored["metric"] == "rework_rate"]
    assert list(rework["value"]) == [0.05] * 4  # a percent cell is its fraction
    assert set(rework["unit"]) == {"Tier 1"}
    detail = seeded.upload_detail(result.upload_ids[0])
    assert (detail.file_name, detail.rows, detail.pilots) == ("helpdesk.xlsx[Weekly]", 8, ("P1",))
    assert "8 rows for pilot P1" in detail.description


def test_a_workbook_with_several_sheets_needs_one_chosen(seeded: Store):
    data = workbook({"A": helpdesk_rows(), "B": helpdesk_rows()})
    with pytest.raises(IngestError) as caught:
        seeded.ingest([("book.xlsx", data)], mapping=ReadOptions(columns=MAPPING, pilot_id="P1"))
    assert "2 sheets ('A', 'B'): choose one" in str(caught.value)
    with pytest.raises(IngestError) as caught:
        seeded.ingest([("book.xlsx", data)], mapping=ReadOptions(sheets={"book.xlsx": "C"}))
    assert "no sheet 'C'" in str(caught.value)


def hidden_lookup_workbook() -> bytes:
    """The data on a sheet whose name ends in a space, and a larger hidden lookup sheet."""
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    data = book.add_worksheet("Q1 data ")
    for i, row in enumerate(helpdesk_rows(weeks=4)):
        for j, cell in enumerate(row):
            if isinstance(cell, datetime):
                data.write_datetime(i, j, cell, book.add_format({"num_format": "yyyy-mm-dd"}))
            else:
                data.write(i, j, cell)
    lookup = book.add_worksheet("lookup")
    for i in range(40):
        lookup.write_row(i, 0, [f"code {i}", f"team {i}", i, i * 2])
    lookup.hide()
    book.close()
    return buffer.getvalue()


def test_a_hidden_sheet_is_never_chosen_and_a_sheet_name_keeps_its_spaces(seeded: Store):
    from pilotproof.store import likeliest_sheet

    data = hidden_lookup_workbook()
    # the one visible sheet is read without --sheet; the picker starts on it, not on the
    # larger hidden lookup table
    assert likeliest_sheet("book.xlsx", data) == "Q1 data "
    options = ReadOptions(columns=MAPPING, pilot_id="P1")
    report = seeded.validate([("book.xlsx", data)], options)
    assert report.ok, report.problems
    assert report.kind == {"book.xlsx[Q1 data ]": "wide"}
    # typed without the trailing space Excel kept, the name still finds its sheet
    typed = replace(options, sheets={"book.xlsx": "Q1 data"})
    assert seeded.validate([("book.xlsx", data)], typed).ok
    with pytest.raises(IngestError) as caught:
        seeded.ingest([("book.xlsx", data)], mapping=replace(options, sheets={"book.xlsx": "Q2"}))
    assert "(sheets: 'Q1 data ', 'lookup')" in str(caught.value)


def test_problems_in_a_workbook_name_the_sheet_and_its_row(seeded: Store):
    rows = [HELPDESK_HEADERS] + [[datetime(2024, 1, 1 + d), "T", 10.0, 0.05] for d in range(3)]
    rows[2][2] = "ten"  # sheet row 5: title, blank, header on row 3 (n/a would be no value)
    data = workbook({"Weekly": rows}, title="Export")
    report = seeded.validate([("hd.xlsx", data)], ReadOptions(columns=MAPPING, pilot_id="P1"))
    assert [str(p) for p in report.problems] == [
        "hd.xlsx[Weekly]:5: column Avg Handle Time (min): 'ten' is not a number"
    ]


def test_excel_serial_numbers_in_the_date_column_are_dates(seeded: Store):
    rows = [["date", "cycle_time"], [45292, 5.0], [45293, 4.0]]  # 2024-01-01, 2024-01-02
    data = workbook({"S": rows})
    seeded.ingest([("serial.xlsx", data)], mapping=ReadOptions(pilot_id="P2"))
    stored = seeded.observations(["P2"])
    assert [d.date() for d in stored["date"]] == [date(2024, 1, 1), date(2024, 1, 2)]


def us_csv(first: str = "06/01/2025", rows: int = 5) -> bytes:
    lines = ["pilot_id,date,metric,value", f"P1,{first},cycle_time,4.0"]
    lines += [f"P1,07/0{d}/2025,cycle_time,{3 + d}" for d in range(1, rows)]
    return ("\n".join(lines) + "\n").encode()


def test_us_dates_are_read_when_the_file_decides_the_order(seeded: Store):
    data = us_csv() + b"P1,12/31/2025,cycle_time,3.0\n"  # 31 can only be a day: month first
    seeded.ingest([("us.csv", data)])
    dates = {d.date() for d in seeded.observations(["P1"])["date"]}
    assert {date(2025, 6, 1), date(2025, 7, 1), date(2025, 12, 31)} <= dates


def test_undecided_date_order_is_one_problem_that_says_how_to_decide(seeded: Store, snapshot):
    before = snapshot(seeded)
    with pytest.raises(IngestError) as caught:
        seeded.ingest([("us.csv", us_csv())])
    assert caught.value.total == 1
    (problem,) = caught.value.problems
    assert str(problem).startswith("us.csv:2: column date: '06/01/2025' could be day first")
    assert "date order in the column mapping" in problem.message
    assert snapshot(seeded) == before
    seeded.ingest([("us.csv", us_csv())], mapping=ReadOptions(date_order="month_first"))
    assert date(2025, 6, 1) in {d.date() for d in seeded.observations(["P1"])["date"]}


FORMATTED = (
    "pilot_id,date,cost_per_transaction,rework_rate,margin\n"
    "P1,2024-02-01,$12.19,4.0%,(0.0240)\n"
    'P1,2024-02-02,"$1,234.50",4.7%,0.05\n'
)


def test_formatted_numbers_are_refused_unmapped_with_a_way_to_fix_them(seeded: Store):
    report = seeded.validate([("fin.csv", FORMATTED.encode())])
    messages = [p.message for p in report.problems]
    assert report.total_problems == 2  # one per row, its first problem
    assert "write plain numbers" in messages[0] and "map the column" in messages[0]
    report = seeded.validate([("fin.csv", FORMATTED.replace("$", "").encode())])
    assert "rates are fractions (4.0% is 0.04), or map the column" in report.problems[0].message


def test_formatted_numbers_are_read_in_mapped_columns(seeded: Store):
    mapping = {c: c for c in ("cost_per_transaction", "rework_rate", "margin")}
    report = seeded.validate([("fin.csv", FORMATTED.encode())], mapping)
    assert report.ok, report.problems
    assert "value in file" in report.preview.columns  # the preview shows what was read
    seeded.ingest([("fin.csv", FORMATTED.encode())], mapping=mapping)
    stored = seeded.observations(["P1"]).set_index(["metric", "date"])["value"]
    feb1 = datetime(2024, 2, 1)
    assert stored[("cost_per_transaction", feb1)] == 12.19
    assert stored[("cost_per_transaction", datetime(2024, 2, 2))] == 1234.5
    assert stored[("rework_rate", feb1)] == pytest.approx(0.04)
    assert stored[("margin", feb1)] == pytest.approx(-0.024)


def test_unparseable_dates_never_cascade_into_duplicates(seeded: Store):
    lines = ["pilot_id,date,metric,value"]
    lines += [f"P1,week {i},cycle_time,{i}" for i in range(198)]
    report = seeded.validate([("weeks.csv", ("\n".join(lines) + "\n").encode())])
    assert report.total_problems == 198
    assert all("is not a date" in p.message for p in report.problems)
    assert [p.line for p in report.problems] == list(range(2, 200))


def test_a_bad_10000_row_file_names_each_bad_row_once(seeded: Store):
    """Every third row has a bad date, a bad value and a bad volume, and all of them share one
    key: each is named once, by its date, and none becomes a duplicate of another."""
    lines = ["pilot_id,date,metric,value,volume,unit"]
    for i in range(10_000):
        if i % 3 == 0:
            lines.append(f"P1,{i}th of May,cycle_time,x{i},-1,u")
        else:
            lines.append(f"P1,2024-01-01,cycle_time,{i % 50},{i},u{i}")
    data = ("\n".join(lines) + "\n").encode()
    started = time.perf_counter()
    report = seeded.validate([("big.csv", data)])
    elapsed = time.perf_counter() - started
    bad = list(range(0, 10_000, 3))
    assert report.total_problems == len(bad)
    assert [p.line for p in report.problems] == [i + 2 for i in bad][: len(report.problems)]
    assert {p.column for p in report.problems} == {"date"}
    print(f"validated 10,000 rows, {report.total_problems} problems, in {elapsed:.2f} s")


def test_a_metric_declared_in_the_mapping_is_added_with_its_direction(seeded: Store):
    data = b"date,Handle Time\n2024-01-01,5\n2024-01-02,4\n"
    with pytest.raises(IngestError, match="unknown metric 'handle_time'"):
        seeded.ingest([("ht.csv", data)], mapping=ReadOptions(pilot_id="P1"))
    options = ReadOptions(pilot_id="P1", new_metrics={"handle_time": "lower_is_better"})
    seeded.ingest([("ht.csv", data)], mapping=options)
    catalog = seeded.catalog().set_index("metric")
    assert catalog.loc["handle_time", "direction"] == "lower_is_better"


def test_the_whole_file_pilot_is_part_of_the_content(seeded: Store):
    data = b"date,cycle_time\n2024-05-01,5\n2024-05-02,4\n"
    first = seeded.ingest([("one.csv", data)], mapping=ReadOptions(pilot_id="P1"))
    second = seeded.ingest([("one.csv", data)], mapping=ReadOptions(pilot_id="P2"))
    assert not first.noop and not second.noop
    assert seeded.upload_detail(second.upload_ids[0]).pilots == ("P2",)


def test_cli_ingests_a_workbook_sheet(tmp_path, capsys):
    from pilotproof.cli import main

    db = tmp_path / "cli.duckdb"
    pilots = tmp_path / "pilots.csv"
    pilots.write_text("pilot_id,go_live\nP1,2024-01-03\n")
    rows = [["pilot_id", "date", "cycle_time"], ["P1", "01/02/2024", 5.0]]
    rows.append(["P1", "01/05/2024", 4.0])
    book = tmp_path / "book.xlsx"
    book.write_bytes(workbook({"Notes": [["a", "b"]], "Data": rows}, title="Finance export"))
    assert main(["ingest", str(book), "--pilots", str(pilots), "--db", str(db)]) == 1
    assert "2 sheets ('Notes', 'Data'): choose one (--sheet NAME" in capsys.readouterr().err
    args = ["ingest", str(book), "--pilots", str(pilots), "--db", str(db), "--sheet", "Data"]
    assert main(args) == 1
    err = capsys.readouterr().err
    assert f"{book}[Data]:4: column date: '01/02/2024' could be day first" in err
    assert main([*args, "--date-order", "month-first"]) == 0
    assert "2024-01-02 to 2024-01-05" in capsys.readouterr().out


def test_a_finance_workbook_with_a_totals_row_and_the_cli_mapping(tmp_path, capsys):
    from pilotproof.cli import main

    rows = [["Month", "Cost per invoice", "Gross margin"]]
    rows += [[datetime(2025, 1 + i, 1), 3.2 - 0.1 * i, 0.31] for i in range(12)]
    rows.append(["Total", 31.8, None])  # a report's own sum: computed, not observed
    book = tmp_path / "finance.xlsx"
    book.write_bytes(workbook({"P&L": rows}, title="FY2025 finance pack"))
    pilots = tmp_path / "pilots.csv"
    pilots.write_text("pilot_id,go_live\nFIN-1,2025-07-01\n")
    maps = ["Month=date", "Cost per invoice=cost_per_transaction", "Gross margin=margin"]
    args = ["ingest", str(book), "--pilots", str(pilots), "--pilot", "FIN-1"]
    args += [part for m in maps for part in ("--map", m)]
    assert main([*args, "--db", str(tmp_path / "f.duckdb")]) == 0
    assert "ingested 24 rows: 1 pilot, 2 series, 2025-01-01 to 2025-12-01" in (
        capsys.readouterr().out
    )
    assert main(["ingest", str(book), "--map", "Month", "--db", str(tmp_path / "g")]) == 2


def opendocument(rows: list[list]) -> bytes:
    """A minimal .ods (what LibreOffice saves): a zip with content.xml; `date:` marks a date."""
    import zipfile

    def cell(value) -> str:
        if isinstance(value, float):
            kind, attr = "float", f'office:value="{value}"'
        elif str(value).startswith("date:"):
            value = value[5:]
            kind, attr = "date", f'office:date-value="{value}"'
        else:
            kind, attr = "string", ""
        return (
            f'<table:table-cell office:value-type="{kind}" {attr}>'
            f"<text:p>{value}</text:p></table:table-cell>"
        )

    body = "".join(f"<table:table-row>{''.join(map(cell, r))}</table:table-row>" for r in rows)
    ns = "urn:oasis:names:tc:opendocument:xmlns"
    content = (
        f'<?xml version="1.0" encoding="UTF-8"?><office:document-content '
        f'xmlns:office="{ns}:office:1.0" xmlns:table="{ns}:table:1.0" '
        f'xmlns:text="{ns}:text:1.0" office:version="1.2"><office:body><office:spreadsheet>'
        f'<table:table table:name="Data">{body}</table:table>'
        "</office:spreadsheet></office:body></office:document-content>"
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        archive.writestr("content.xml", content)
        archive.writestr(
            "META-INF/manifest.xml",
            f'<manifest:manifest xmlns:manifest="{ns}:manifest:1.0" manifest:version="1.2">'
            '<manifest:file-entry manifest:full-path="/" '
            'manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>'
            "</manifest:manifest>",
        )
    return buffer.getvalue()


def test_an_opendocument_spreadsheet_is_read(seeded: Store):
    rows = [["pilot_id", "date", "cycle_time"], ["P2", "date:2024-01-01", 5.0]]
    rows.append(["P2", "date:2024-01-02", 4.5])
    result = seeded.ingest([("libre.ods", opendocument(rows))])
    assert "ingested 2 rows" in result.summary
    assert list(seeded.observations(["P2"])["value"]) == [5.0, 4.5]


def test_a_new_pilot_is_registered_with_its_one_pilot_file_and_kept_by_undo(seeded: Store):
    data = b"Week,Cycle Time\n2024-01-01,5\n2024-01-08,4\n"
    options = ReadOptions(pilot_id="NEW-1", new_pilot=(date(2024, 1, 5), "New bot"))
    with pytest.raises(IngestError, match="required column 'date' is missing: map the file's"):
        seeded.ingest([("new.csv", data)], mapping=options)
    options = replace(options, columns={"Week": "date"})
    result = seeded.ingest([("new.csv", data)], mapping=options)
    assert "saved 1 pilot" in result.summary and len(result.upload_ids) == 2
    pilot = seeded.pilots().set_index("pilot_id").loc["NEW-1"]
    assert (pilot["go_live"].date(), pilot["pilot_name"]) == (date(2024, 1, 5), "New bot")
    assert seeded.upload_detail(result.upload_ids[0]).file_name == "new pilot NEW-1"
    seeded.undo_upload(result.upload_ids[1])
    assert seeded.observations(["NEW-1"]).empty
    assert "NEW-1" in set(seeded.pilots()["pilot_id"])


def test_a_duplicate_in_a_workbook_points_at_the_sheet_row_of_the_first(seeded: Store):
    rows = [["pilot_id", "date", "cycle_time"], ["P1", "2024-02-01", 5.0]]
    rows += [["P1", "2024-02-02", 4.0], ["P1", "2024-02-01", 6.0]]  # rows 4, 5, 6 of the sheet
    report = seeded.validate([("dup.xlsx", workbook({"S": rows}, title="Export"))])
    (problem,) = report.problems
    assert (problem.file, problem.line) == ("dup.xlsx[S]", 6)
    assert "at dup.xlsx[S]:4 " in problem.message


def test_the_header_is_found_below_a_two_cell_title(seeded: Store):
    rows = [["FY2025 pack", "Prepared by FP&A"], [None], HELPDESK_HEADERS]
    rows += [[datetime(2024, 1, 1), "Tier 1", 10.0, 0.05], ["Total", "", 10.0, 0.05]]
    report = seeded.validate([("t.xlsx", workbook({"S": rows}))], ReadOptions(MAPPING, "P1"))
    assert report.ok, report.problems
    assert report.rows == 2


@pytest.mark.parametrize(
    ("written", "read"),
    [
        ("Jun 2025", date(2025, 6, 1)),
        ("Jun-25", date(2025, 6, 1)),
        ("1-Jun-25", date(2025, 6, 1)),
        ("June 3, 2025", date(2025, 6, 3)),
        ("3 June 2025", date(2025, 6, 3)),
        ("20250603", date(2025, 6, 3)),
    ],
)
def test_dates_with_month_names_and_compact_dates_are_read(seeded: Store, written, read):
    data = f'pilot_id,date,metric,value\nP1,"{written}",cycle_time,4.0\n'.encode()
    seeded.ingest([("m.csv", data)])
    assert read in {d.date() for d in seeded.observations(["P1"])["date"]}


def test_the_preview_shows_go_live_as_a_date(seeded: Store):
    report = seeded.validate([("p.csv", b"pilot_id,go_live\nP9,2026-03-02\n")])
    assert report.preview["go_live"].tolist() == [date(2026, 3, 2)]
    assert str(report.preview["go_live"].iloc[0]) == "2026-03-02"  # not 2026-03-02 00:00:00


def test_cli_adds_a_new_metric_with_a_one_pilot_file(tmp_path, capsys):
    from pilotproof.cli import main

    metrics = tmp_path / "ht.csv"
    metrics.write_text("Week,Handle Time\n2024-01-01,5\n2024-01-08,4\n")
    pilots = tmp_path / "pilots.csv"
    pilots.write_text("pilot_id,go_live\nHT-1,2024-01-05\n")
    args = ["ingest", str(metrics), "--pilots", str(pilots), "--pilot", "HT-1"]
    args += ["--map", "Week=date", "--db", str(tmp_path / "h.duckdb")]
    assert main(args) == 1
    assert "unknown metric 'handle_time'" in capsys.readouterr().err
    assert main([*args, "--new-metric", "Handle Time=lower_is_better"]) == 0
    assert main([*args, "--new-metric", "oops"]) == 2


TITLED = (
    "Helpdesk export: Tier 1 queue\n"
    "\n"
    "pilot_id,date,metric,value\n"
    "P1,2024-01-01,cycle_time,5\n"
    'P1,2024-01-02,cycle_time,"lots"\n'
)


def test_a_csv_title_above_the_header_is_skipped_and_lines_stay_the_files(seeded, csv_file):
    report = seeded.validate([("titled.csv", TITLED.encode())])
    assert [str(p) for p in report.problems] == [
        "titled.csv:5: column value: 'lots' is not a number"
    ]
    path = csv_file("titled.csv", TITLED.replace('"lots"', "4"))
    assert "ingested 2 rows" in seeded.ingest([path]).summary
    from pilotproof.store import file_headers

    assert file_headers("t.csv", TITLED.encode()) == ["pilot_id", "date", "metric", "value"]
