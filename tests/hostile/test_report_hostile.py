"""`pilotproof report` in every format for pilots whose names and answers are hostile text: a
spreadsheet formula, a script tag, an HTML event handler. Every one must come out as text."""

from __future__ import annotations

import csv
import io
import re
import subprocess
import zipfile
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest
from pptx import Presentation
from pypdf import PdfReader

from .conftest import PILOTPROOF, cli

FORMULA = '=HYPERLINK("http://x.test")'
SCRIPT = "<script>alert(1)</script>"
IMG = "<img src=x onerror=alert(3)>"
USER_TEXT = (FORMULA, SCRIPT, IMG, "=1+1", "@SUM(A1)", "-2+3", "x.test", "alert(")


@pytest.fixture(scope="module")
def hostile_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = Path(tmp_path_factory.mktemp("report"))
    rng = np.random.default_rng(5)
    dates = pd.date_range("2024-01-01", periods=120, freq="D")
    rows = []
    for pid in ("H1", "H2"):
        level = 10 * np.where(np.arange(120) >= 60, 0.8, 1.0) + rng.normal(0, 0.5, 120)
        for metric in ("cycle_time", FORMULA):
            rows += [
                (pid, d.strftime("%Y-%m-%d"), metric, v) for d, v in zip(dates, level, strict=True)
            ]
    metrics = pd.DataFrame(rows, columns=["pilot_id", "date", "metric", "value"])
    metrics["direction"] = "lower_is_better"
    metrics.to_csv(folder / "m.csv", index=False)
    pd.DataFrame(
        {
            "pilot_id": ["H1", "H2"],
            "go_live": ["2024-03-01", "2024-03-01"],
            "pilot_name": [FORMULA, SCRIPT],
            "company": ["=1+1", "@SUM(A1)"],
            "function": [SCRIPT, FORMULA],
            "vendor": [IMG, "-2+3"],
            "monthly_cost": [1000, 2000],
            "annual_volume": [100000, 50000],
            "workflow": [IMG, SCRIPT],
            "decision_owner": [FORMULA, "d"],
            "execution_owner": ["e", "e"],
            "exception_path": ["x", "x"],
            "escalation_path": ["s", "s"],
            "control_points": ["c", "c"],
            "value_metric": ["cycle_time", "cycle_time"],
        }
    ).to_csv(folder / "p.csv", index=False)
    db = folder / "h.duckdb"
    done = cli("ingest", "--db", db, folder / "m.csv", "--pilots", folder / "p.csv")
    assert done.returncode == 0, done.stderr
    return db


def _report(db: Path, fmt: str, out: Path) -> Path:
    done = cli("report", "--db", db, "--format", fmt, "--out", out, timeout=600)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    assert out.exists() and out.stat().st_size > 0
    return out


def test_html_has_no_live_user_script(hostile_db: Path, tmp_path: Path) -> None:
    html = _report(hostile_db, "html", tmp_path / "r.html").read_text(encoding="utf-8")
    assert SCRIPT not in html and IMG not in html
    assert "&lt;script&gt;alert(1)&lt;" in html  # the name is there, as text
    for match in re.finditer(r"<script\b[^>]*>", html):
        body = html[match.end() : match.end() + 400].lstrip()
        assert body.startswith(("/**", "window.PLOTLYENV")), body[:80]
    assert not re.search(r"<[a-z]+[^>]*\son[a-z]+\s*=", html), "an inline event handler"


def test_xlsx_cells_are_text_never_formulas(hostile_db: Path, tmp_path: Path) -> None:
    book = openpyxl.load_workbook(_report(hostile_db, "xlsx", tmp_path / "r.xlsx"))
    seen = set()
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                value = cell.value
                if not isinstance(value, str):
                    continue
                hits = {t for t in USER_TEXT if t.lower() in value.lower()}
                if hits:
                    seen |= hits
                    assert cell.data_type == "s", (sheet.title, cell.coordinate, value)
                if cell.data_type == "f":
                    assert not hits, (sheet.title, cell.coordinate, value)
    assert {FORMULA, SCRIPT, "=1+1", "@SUM(A1)", "-2+3"} <= seen


def test_pptx_shows_the_names_as_typed(hostile_db: Path, tmp_path: Path) -> None:
    deck = Presentation(str(_report(hostile_db, "pptx", tmp_path / "r.pptx")))
    text = "\n".join(
        shape.text_frame.text
        for slide in deck.slides
        for shape in slide.shapes
        if shape.has_text_frame
    )
    assert FORMULA in text and SCRIPT in text


def test_pdf_shows_the_names_as_typed(hostile_db: Path, tmp_path: Path) -> None:
    pdf = _report(hostile_db, "pdf", tmp_path / "r.pdf")
    assert pdf.read_bytes().startswith(b"%PDF")
    text = "\n".join(page.extract_text() or "" for page in PdfReader(str(pdf)).pages)
    assert FORMULA in text and SCRIPT in text


def test_pptx_survives_a_series_whose_range_overflows(tmp_path: Path) -> None:
    dates = pd.date_range("2024-01-01", periods=120, freq="D")
    values = np.where(np.arange(120) % 2 == 0, 1e308, -1e308)
    metrics = tmp_path / "m.csv"
    pd.DataFrame(
        {
            "pilot_id": "PM",
            "date": dates.strftime("%Y-%m-%d"),
            "metric": "profit",
            "value": [repr(float(v)) for v in values],
            "direction": "higher_is_better",
        }
    ).to_csv(metrics, index=False)
    pilots = tmp_path / "p.csv"
    pilots.write_text("pilot_id,go_live\nPM,2024-03-01\n")
    db = tmp_path / "pm.duckdb"
    assert cli("ingest", "--db", db, metrics, "--pilots", pilots).returncode == 0
    done = cli("report", "--db", db, "--format", "pptx", "--out", tmp_path / "r.pptx")
    assert "Traceback" not in done.stderr, done.stderr[-500:]
    assert done.returncode == 0 or len(done.stderr.strip().splitlines()) == 1


def test_pilots_csv_neutralises_formulas(hostile_db: Path) -> None:
    done = cli("pilots", "--db", hostile_db, "--format", "csv")
    assert done.returncode == 0
    frame = pd.read_csv(io.StringIO(done.stdout), dtype=str, keep_default_na=False)
    assert len(frame) == 2
    cells = [cell for column in frame.columns for cell in frame[column]]
    live = [cell for cell in cells if cell[:1] in {"=", "+", "-", "@"}]
    assert live == [], live


# ---- names that broke or betrayed the exports (issue 14, "Exports that do not break") --------

ESC_NAME = "Ctrl \x1b]0;pwned\x07\x1b[2J name"
HOSTILE_NAMES = {
    "N1": "Collections push!Q4 pilot",  # xlsxwriter read "text!Q4" chart titles as references
    "N2": "Ops!AB12",
    "N3": "=cmd|' /C calc'!A0",  # a DDE formula that became a <c:f> reference
    "N4": "Invoice bot\r=1+3",  # a bare CR that split the CSV row
    "N5": "Long " + "x" * 2000,  # crashed the PDF with reportlab's LayoutError
    "N6": ESC_NAME,  # retitled the terminal; made the PDF lose every chart
    "N7": "See https://evil.test/x and www.evil.test or a@evil.test",
}
CONTROLS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


@pytest.fixture(scope="module")
def names_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = Path(tmp_path_factory.mktemp("names"))
    rng = np.random.default_rng(11)
    dates = pd.date_range("2024-01-01", periods=120, freq="D")
    rows = []
    for pid in HOSTILE_NAMES:
        level = 10 * np.where(np.arange(120) >= 60, 0.8, 1.0) + rng.normal(0, 0.5, 120)
        rows += [
            (pid, d.strftime("%Y-%m-%d"), "cycle_time", v)
            for d, v in zip(dates, level, strict=True)
        ]
    metrics = pd.DataFrame(rows, columns=["pilot_id", "date", "metric", "value"])
    metrics.to_csv(folder / "m.csv", index=False)
    pd.DataFrame(
        {
            "pilot_id": list(HOSTILE_NAMES),
            "go_live": "2024-03-01",
            "pilot_name": list(HOSTILE_NAMES.values()),
            "company": "Acme!B2",
            "function": "ops",
            "monthly_cost": 1000,
            "annual_volume": 100000,
            "value_metric": "cycle_time",
        }
    ).to_csv(folder / "p.csv", index=False, quoting=csv.QUOTE_ALL)
    db = folder / "names.duckdb"
    done = cli("ingest", "--db", db, folder / "m.csv", "--pilots", folder / "p.csv")
    assert done.returncode == 0, done.stderr
    return db


def _chart_references(archive: Path, prefix: str) -> list[str]:
    with zipfile.ZipFile(archive) as files:
        return [
            ref
            for name in files.namelist()
            if name.startswith(prefix) and name.endswith(".xml")
            for ref in re.findall(r"<c:f>([^<]*)</c:f>", files.read(name).decode("utf-8"))
        ]


def test_xlsx_chart_titles_are_literal_and_every_reference_is_ours(names_db, tmp_path) -> None:
    out = _report(names_db, "xlsx", tmp_path / "names.xlsx")
    references = _chart_references(out, "xl/charts/")
    own = re.compile(r"^(Summary|Series|Charts)!\$[A-Z]+\$\d+(:\$[A-Z]+\$\d+)?$")
    assert references and all(own.match(ref) for ref in references), references
    book = openpyxl.load_workbook(out)
    charts_sheet = book["Charts"]
    titles = [cell.value for row in charts_sheet.iter_rows() for cell in row if cell.value]
    assert "Ops!AB12: cycle time" in titles  # the title cell a chart title points to
    dde = next(
        c
        for row in charts_sheet.iter_rows()
        for c in row
        if c.value == "=cmd|' /C calc'!A0: cycle time"
    )
    assert dde.data_type == "s" and dde.quotePrefix
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                if isinstance(cell.value, str):
                    assert not CONTROLS.search(cell.value.replace("\n", "")), cell.coordinate
                    assert len(cell.value) < 2000 or "…" in cell.value


def test_deck_chart_workbooks_mark_formula_like_categories_as_text(names_db, tmp_path) -> None:
    out = _report(names_db, "pptx", tmp_path / "names.pptx")
    assert all(ref.startswith("Sheet1!") for ref in _chart_references(out, "ppt/charts/"))
    checked = 0
    with zipfile.ZipFile(out) as files:
        for name in files.namelist():
            if not name.startswith("ppt/embeddings/"):
                continue
            sheet = openpyxl.load_workbook(io.BytesIO(files.read(name))).active
            for row in sheet.iter_rows():
                for cell in row:
                    if isinstance(cell.value, str) and cell.value[:1] in "=+-@":
                        assert cell.data_type == "s" and cell.quotePrefix, (name, cell.value)
                        checked += 1
    assert checked  # the forest chart's categories include "=cmd|' /C calc'!A0 · cycle time"
    deck = Presentation(str(out))
    text = "\n".join(s.text_frame.text for sl in deck.slides for s in sl.shapes if s.has_text_frame)
    assert not CONTROLS.search(text.replace("\n", "").replace("\x0b", ""))
    assert "Ctrl <ESC>]0;pwned<BEL><ESC>[2J name" in text
    assert "Long xxx" in text and "x" * 2000 not in text and "x…" in text


def test_pdf_with_a_long_name_and_control_characters_keeps_every_chart(names_db, tmp_path) -> None:
    out = tmp_path / "names.pdf"
    done = cli("report", "--db", names_db, "--format", "pdf", "--out", out, timeout=600)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr and "LayoutError" not in done.stderr
    reader = PdfReader(str(out))
    text = "\n".join(page.extract_text() or "" for page in reader.pages)
    assert "Ctrl <ESC>]0;pwned<BEL><ESC>[2J name" in text and "\x1b" not in text
    assert "x…" in text and "x" * 2000 not in text
    assert "Chart not drawn" not in text
    pilot_pages = [
        p
        for p in reader.pages
        if "observed and expected without the pilot" in (p.extract_text() or "")
    ]
    assert len(pilot_pages) == len(HOSTILE_NAMES)
    # each pilot's series is drawn on its page (vector graphics: its labels are text)
    assert all("Go-live" in (page.extract_text() or "") for page in pilot_pages)


def test_html_cuts_long_names_and_shows_control_characters(names_db, tmp_path) -> None:
    html = _report(names_db, "html", tmp_path / "names.html").read_text(encoding="utf-8")
    assert "\x1b" not in html and "\x07" not in html and "&lt;ESC&gt;]0;pwned&lt;BEL&gt;" in html
    assert "x" * 2000 not in html and "x…" in html


def test_pilots_csv_quotes_a_bare_carriage_return(names_db) -> None:
    done = subprocess.run(
        [str(PILOTPROOF), "pilots", "--db", str(names_db), "--format", "csv"],
        capture_output=True,
    )
    assert done.returncode == 0
    rows = list(csv.reader(io.StringIO(done.stdout.decode("utf-8"), newline="")))
    assert len(rows) == 1 + len(HOSTILE_NAMES)
    names = {row[0]: row[1] for row in rows[1:]}
    assert names["N4"] == "Invoice bot\r=1+3"  # one quoted field, not a new row
    assert names["N3"] == "'=cmd|' /C calc'!A0"
    assert b"\x1b" not in done.stdout and b"\x07" not in done.stdout
    assert all(cell[:1] not in {"=", "+", "-", "@"} for row in rows for cell in row)


def test_pilots_table_is_safe_for_a_terminal(names_db) -> None:
    done = subprocess.run(
        [str(PILOTPROOF), "pilots", "--db", str(names_db)], capture_output=True, check=True
    )
    out = done.stdout.decode("utf-8")
    assert not CONTROLS.search(out.replace("\n", ""))
    assert "Ctrl <ESC>]0;pwned<BEL><ESC>[2J name" in out and "Invoice bot =1+3" in out
    assert max(len(line) for line in out.splitlines()) < 200  # the long name is cut…
    assert "x…" in out  # …visibly
    analyzed = subprocess.run(
        [str(PILOTPROOF), "analyze", "--db", str(names_db), "--format", "table"],
        capture_output=True,
        check=True,
    )
    assert not CONTROLS.search(analyzed.stdout.decode("utf-8").replace("\n", ""))
