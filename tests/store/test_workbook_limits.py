"""A workbook that is small packed but huge unpacked (a zip bomb) is refused from its zip
directory and its sheet's declared size, before any cell is read, and nothing is written."""

from __future__ import annotations

import io
import time
import zipfile
from pathlib import Path

import pytest
import xlsxwriter

from pilotproof.store import IngestError, Store
from pilotproof.store.workbooks import MAX_CELLS, MAX_UNPACKED_MB

ROW = b'<row r="1"><c r="A1"><v>1</v></c><c r="B1"><v>2</v></c><c r="C1"><v>3</v></c></row>'


def _small_book() -> bytes:
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    sheet = book.add_worksheet("Data")
    for j, cell in enumerate(["pilot_id", "date", "metric", "value"]):
        sheet.write(0, j, cell)
    book.close()
    return buffer.getvalue()


def _with_sheet(sheet_xml_parts, dimension: str) -> bytes:
    """The small workbook with its sheet replaced, streamed in parts (never whole in memory)."""
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(_small_book())) as src,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as dst,
    ):
        for item in src.infolist():
            if item.filename != "xl/worksheets/sheet1.xml":
                dst.writestr(item, src.read(item))
                continue
            info = zipfile.ZipInfo(item.filename)
            info.compress_type = zipfile.ZIP_DEFLATED
            with dst.open(info, "w", force_zip64=True) as part:
                part.write(
                    b'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.'
                    b'openxmlformats.org/spreadsheetml/2006/main">'
                    + f'<dimension ref="{dimension}"/><sheetData>'.encode()
                )
                for chunk in sheet_xml_parts:
                    part.write(chunk)
                part.write(b"</sheetData></worksheet>")
    return out.getvalue()


def test_a_zip_bomb_is_refused_before_it_is_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the limit scaled down 10x, so the bomb takes seconds to pack on a shared machine
    limit = MAX_UNPACKED_MB // 10
    monkeypatch.setattr("pilotproof.store.workbooks.MAX_UNPACKED_MB", limit)
    chunk = ROW * (4 * 1024 * 1024 // len(ROW))  # 4 MB of rows, one cell row repeated
    bomb = _with_sheet((chunk for _ in range(limit // 4 + 2)), "A1:C1")  # honest dimension
    assert len(bomb) < 1024 * 1024  # under a megabyte packed, over the limit unpacked
    with Store(tmp_path / "s.duckdb") as store:
        started = time.monotonic()
        with pytest.raises(IngestError) as refused:
            store.ingest([("bomb.xlsx", bomb)])
        assert time.monotonic() - started < 10  # not read: its million rows take minutes
        (problem,) = refused.value.problems
        assert problem.file == "bomb.xlsx"
        assert f"over the {limit} MB pilotproof reads" in problem.message
        assert not store.validate([("bomb.xlsx", bomb)]).ok
        assert store.uploads().empty and store.observations().empty


def test_a_sheet_declaring_too_many_cells_is_refused(tmp_path: Path) -> None:
    huge = _with_sheet([ROW], "A1:Z1000000")  # 26 million cells declared
    with Store(tmp_path / "s.duckdb") as store, pytest.raises(IngestError) as refused:
        store.ingest([("wide.xlsx", huge)])
    (problem,) = refused.value.problems
    assert problem.file == "wide.xlsx" and f"over the {MAX_CELLS:,}" in problem.message
    assert "26,000,000 cells" in problem.message
