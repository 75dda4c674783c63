"""An upload of several files names every file's problems in one report: a file refused as it
is opened (a damaged workbook, a sheet of formulas never calculated) or as it is read (a ragged
row) does not hide the others' problems, and nothing is written while any file has one."""

from __future__ import annotations

import io

import openpyxl
import pytest

from pilotproof.store import IngestError, Store
from pilotproof.store.checks import MAX_PROBLEMS

HEAD = "pilot_id,date,metric,value\n"
#: a long file whose line 7 holds a date no calendar has
GOOD_DAYS = "".join(f"P1,2024-01-0{d},cycle_time,{d}\n" for d in range(1, 6))
BAD_DATE = (HEAD + GOOD_DAYS + "P1,2024-13-45,cycle_time,3\n").encode()


def uncomputed_book() -> bytes:
    """A one-sheet workbook as a script writes it: formulas saved without their values."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "Weekly"
    sheet.append(["pilot_id", "date", "cycle_time"])
    for day in range(1, 6):
        sheet.append(["P1", f"2024-01-0{day}", f"=10+{day}"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


DAMAGED = b"PK\x03\x04 not a zip archive after all"


def located(problems) -> list[tuple[str, int, str]]:
    return [(p.file, p.line, p.column) for p in problems]


@pytest.mark.parametrize(
    ("book", "refusal", "words"),
    [
        (uncomputed_book(), ("kpis.xlsx[Weekly]", 2, "-"), "without computed values"),
        (DAMAGED, ("kpis.xlsx", 1, "-"), "cannot read this workbook"),
    ],
    ids=["uncomputed", "damaged"],
)
def test_a_refused_workbook_is_named_beside_the_other_files_problems(
    seeded: Store, snapshot, book: bytes, refusal: tuple[str, int, str], words: str
) -> None:
    before = snapshot(seeded)
    files = [("kpis.xlsx", book), ("metrics.csv", BAD_DATE)]
    report = seeded.validate(files)
    assert located(report.problems) == [refusal, ("metrics.csv", 7, "date")]
    assert report.total_problems == 2
    assert words in report.problems[0].message
    assert "impossible date '2024-13-45'" in report.problems[1].message
    with pytest.raises(IngestError) as refused:  # the command line's ingest says the same
        seeded.ingest(files)
    assert located(refused.value.problems) == located(report.problems)
    assert snapshot(seeded) == before


def test_problems_are_listed_in_the_order_the_files_were_given(seeded: Store) -> None:
    report = seeded.validate([("metrics.csv", BAD_DATE), ("kpis.xlsx", uncomputed_book())])
    assert [p.file for p in report.problems] == ["metrics.csv", "kpis.xlsx[Weekly]"]


def test_a_ragged_file_does_not_hide_another_files_bad_date(seeded: Store, snapshot) -> None:
    before = snapshot(seeded)
    ragged = (HEAD + "P1,2024-01-01,cycle_time,4\nP1,2024-01-02,cycle_time,4,extra\n").encode()
    files = [("ragged.csv", ragged), ("metrics.csv", BAD_DATE)]
    report = seeded.validate(files)
    assert located(report.problems) == [("ragged.csv", 3, "-"), ("metrics.csv", 7, "date")]
    assert "ragged row" in report.problems[0].message
    assert report.kind == {"metrics.csv": "long"}
    with pytest.raises(IngestError):
        seeded.ingest(files)
    assert snapshot(seeded) == before


def test_a_file_without_a_layout_does_not_hide_another_files_bad_date(seeded: Store) -> None:
    no_date = b"pilot_id,metric,value\nP1,cycle_time,3\n"
    report = seeded.validate([("no_date.csv", no_date), ("metrics.csv", BAD_DATE)])
    assert located(report.problems) == [("no_date.csv", 1, "date"), ("metrics.csv", 7, "date")]
    assert "required column 'date' is missing" in report.problems[0].message


def test_a_refused_pilots_file_is_not_echoed_as_missing_go_live_dates(seeded: Store) -> None:
    # P9 is new: its go-live date would come from the refused workbook, so the metrics file
    # is not also told that P9 has none (the go-live check waits for the pilots file)
    new_pilot = (HEAD + "P9,2024-01-01,cycle_time,4\nP9,2024-01-02,cycle_time,5\n").encode()
    report = seeded.validate([("pilots.xlsx", DAMAGED), ("p9.csv", new_pilot)])
    assert located(report.problems) == [("pilots.xlsx", 1, "-")]
    # alone, the metrics file is told (the check itself still runs)
    alone = seeded.validate([("p9.csv", new_pilot)])
    assert "has no go-live date" in alone.problems[0].message


def test_a_file_with_many_bad_rows_keeps_the_refused_workbook_in_the_list(seeded: Store) -> None:
    many = (HEAD + "".join(f"P1,not a date {i},cycle_time,4\n" for i in range(500))).encode()
    report = seeded.validate([("many.csv", many), ("kpis.xlsx", DAMAGED)])
    assert report.total_problems == 501
    assert len(report.problems) == MAX_PROBLEMS
    assert report.problems[-1].file == "kpis.xlsx"
    assert {p.file for p in report.problems[:-1]} == {"many.csv"}
