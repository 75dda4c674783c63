"""`pilotproof report` in every format for pilots whose names and answers are hostile text: a
spreadsheet formula, a script tag, an HTML event handler. Every one must come out as text."""

from __future__ import annotations

import io
import re
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest
from pptx import Presentation
from pypdf import PdfReader

from .conftest import cli

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
