"""Workbooks of a few kilobytes whose grid is gigantic: a cell at A1 and one at XFD1048576 with no
`<dimension>` (or one that lies), or an OpenDocument row repeated a million times. calamine sizes
a sheet's grid by its cells' positions, and a failed allocation aborts the process (SIGABRT, no
traceback): before the probe, `pilotproof ingest` died on them, and so did the app's server. Now
each is refused with one problem naming the sheet, and nothing is written."""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

import pytest
import xlsxwriter

from pilotproof.store import IngestError, Store
from pilotproof.store import workbooks as wb

from .conftest import cli, dump, problems

HEADER = ["pilot_id", "date", "metric", "value"]
MANIFEST = (
    '<?xml version="1.0" encoding="UTF-8"?><manifest:manifest xmlns:manifest="urn:oasis:names:'
    'tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2"><manifest:file-entry '
    'manifest:full-path="/" manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"'
    '/><manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
    "</manifest:manifest>"
)


def _far_cell_book(dimension: str | None, row: int = 1048575, column: int = 16383) -> bytes:
    """A one-row table on sheet 'Data' and a cell far away (XFD1048576), its `<dimension>`
    replaced by `dimension` (None: removed, as some writers leave it out)."""
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    sheet = book.add_worksheet("Data")
    sheet.write_row(0, 0, HEADER)
    sheet.write_row(1, 0, ["P1", "2024-01-05", "cycle_time", 5])
    sheet.write(row, column, "note")
    book.close()
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(buffer.getvalue())) as src,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst,
    ):
        for item in src.infolist():
            part = src.read(item)
            if item.filename == "xl/worksheets/sheet1.xml":
                new = "" if dimension is None else f'<dimension ref="{dimension}"/>'
                part = re.sub(rb'<dimension ref="[^"]*"/>', new.encode(), part)
            dst.writestr(item, part)
    return out.getvalue()


def _repeated_ods(rows: int, columns: int) -> bytes:
    """An OpenDocument sheet 'Data': the header, then one row of `columns` cells repeated
    `rows` times (`number-rows-repeated`, `number-columns-repeated`), in about a kilobyte."""
    ns = (
        'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
        'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
        'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"'
    )
    head = "".join(
        f'<table:table-cell office:value-type="string"><text:p>{h}</text:p></table:table-cell>'
        for h in HEADER
    )
    content = (
        f'<?xml version="1.0" encoding="UTF-8"?><office:document-content {ns} '
        'office:version="1.2"><office:body><office:spreadsheet><table:table table:name="Data">'
        f"<table:table-row>{head}</table:table-row>"
        f'<table:table-row table:number-rows-repeated="{rows}"><table:table-cell '
        f'office:value-type="float" office:value="1" table:number-columns-repeated="{columns}">'
        "<text:p>1</text:p></table:table-cell></table:table-row>"
        "</table:table></office:spreadsheet></office:body></office:document-content>"
    )
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as book:
        book.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        book.writestr("content.xml", content, compress_type=zipfile.ZIP_DEFLATED)
        book.writestr("META-INF/manifest.xml", MANIFEST)
    return out.getvalue()


BOMBS = [
    pytest.param("far.xlsx", lambda: _far_cell_book(None), "far.xlsx[Data]", id="no_dimension"),
    pytest.param(
        "far.xlsx", lambda: _far_cell_book("A1:D2"), "far.xlsx[Data]", id="lying_dimension"
    ),
    pytest.param(
        "rows.ods", lambda: _repeated_ods(50_000, 1_000), "rows.ods[Data]", id="ods_repeats"
    ),
]


@pytest.mark.parametrize(("name", "make", "where"), BOMBS)
def test_a_tiny_workbook_with_a_gigantic_grid_is_refused_not_a_crash(
    registry: Path, tmp_path: Path, name: str, make, where: str
) -> None:
    book = make()
    assert len(book) < 10_000
    path = tmp_path / name
    path.write_bytes(book)
    before = dump(registry)
    done = cli("ingest", "--db", registry, path)
    assert done.returncode == 1, (done.returncode, done.stderr[-500:])
    (problem,) = problems(done.stderr)
    assert problem["file"].endswith(where), problem.group(0)
    assert problem["line"] == "1" and "too large to read" in problem["message"]
    assert dump(registry) == before


def test_a_used_range_over_the_cell_limit_is_refused_by_its_count(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A grid the probe can build but pandas would then hold whole: counted from A1 to the last
    used cell (here D2 and a stray note at Z1000, no `<dimension>`: 26 x 1000 cells, over a
    limit of 10,000)."""
    monkeypatch.setattr(wb, "MAX_CELLS", 10_000)
    book = _far_cell_book(None, row=999, column=25)
    with Store(tmp_path / "s.duckdb") as store, pytest.raises(IngestError) as refused:
        store.ingest([("stray.xlsx", book)])
    (problem,) = refused.value.problems
    assert problem.file == "stray.xlsx[Data]"
    assert "holds 26,000 cells" in problem.message and "over the 10,000" in problem.message
    with Store(tmp_path / "s.duckdb") as store:
        assert store.uploads().empty and store.observations().empty
