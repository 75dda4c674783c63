"""Exports without layout faults, on the demo portfolio: nothing printed over anything else.

Checked two ways. From the geometry pilotproof writes: no two shapes of a slide overlap, every
shape stays on the slide and above the footer, and every text box is tall enough for its text.
And from the rendered pages: the PDF (and the deck, through LibreOffice where it is installed)
is rasterised with poppler's `pdftoppm` and its words' boxes read with `pdftotext -bbox`; no two
words may overlap. That second check is what caught "Every readiness question is answered."
printed over the last rows of the readiness table. Skipped cleanly without poppler or
LibreOffice.
"""

from __future__ import annotations

import itertools
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from PIL import Image
from pptx import Presentation
from pptx.util import Emu

from pilotproof.export import write
from pilotproof.export.pptx import CONTENT_BOTTOM, _text_height

SAMPLE = Path(__file__).resolve().parents[2] / "data" / "sample"
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def exports(tmp_path_factory) -> dict[str, Path]:
    from pilotproof.analysis import analyze_store
    from pilotproof.store import Store

    folder = tmp_path_factory.mktemp("layout")
    with Store(folder / "sample.duckdb") as store:
        store.ingest([SAMPLE / "pilots.csv", *sorted(SAMPLE.glob("metrics_*.csv"))])
        results = analyze_store(store)
        return {fmt: write(folder / f"portfolio.{fmt}", results, store) for fmt in ("pptx", "pdf")}


def _box(shape) -> tuple[int, int, int, int]:
    return shape.left, shape.top, shape.left + shape.width, shape.top + shape.height


def _intersect(a, b) -> bool:
    return min(a[2], b[2]) > max(a[0], b[0]) and min(a[3], b[3]) > max(a[1], b[1])


@pytest.fixture(scope="module")
def hostile_deck(results, pilots, observations):
    """The hand-built report with the longest names and answers the model lets through."""
    import io

    from pilotproof.export import render
    from pilotproof.export.content import build_report

    long = "Collections push!Q4 " + "very long pilot name " * 100
    hostile = pilots.assign(
        pilot_name=[long, "Ctrl \x1b]0;x\x07 " * 20, "=cmd|' /C calc'!A0"],
        company=["W" * 500] * 3,
        workflow=["an answer that goes on " * 60] * 3,
    )
    return Presentation(io.BytesIO(render(build_report(results, hostile, observations), "pptx")))


@pytest.fixture(params=["sample", "hostile"])
def deck(request, exports, hostile_deck):
    return Presentation(str(exports["pptx"])) if request.param == "sample" else hostile_deck


def test_no_shape_of_a_slide_overlaps_another(deck):
    width, height = deck.slide_width, deck.slide_height
    for number, slide in enumerate(deck.slides, start=1):
        shapes = [s for s in slide.shapes if s.shape_type != 9]  # 9: the title rule (a line)
        for shape in shapes:
            left, top, right, bottom = _box(shape)
            assert left >= 0 and top >= 0 and right <= width and bottom <= height, (
                number,
                shape.name,
            )
            if shape.top < CONTENT_BOTTOM and shape.name != "Footer":  # page numbers: below
                assert bottom <= CONTENT_BOTTOM, (number, shape.name, Emu(bottom).inches)
        for a, b in itertools.combinations(shapes, 2):
            assert not _intersect(_box(a), _box(b)), (number, a.name, b.name)


def test_every_text_box_holds_its_text(deck):
    for number, slide in enumerate(deck.slides, start=1):
        for shape in slide.shapes:
            if not shape.has_text_frame or not shape.text_frame.text.strip():
                continue
            runs = [r for p in shape.text_frame.paragraphs for r in p.runs if r.font.size]
            if not runs or shape.shape_type == 1:  # 1: a coloured chip, sized by design
                continue
            size = max(r.font.size.pt for r in runs)
            needed = _text_height(shape.text_frame.text, shape.width, size)
            assert needed <= shape.height + Emu(9525 * 4), (number, shape.name, shape.text[:60])


# ---- rendered pages ----------------------------------------------------------------------


def _words(pdf: Path) -> list[list[tuple[float, float, float, float, str]]]:
    """Per page, every word's box as poppler lays it out."""
    out = pdf.with_suffix(".words.html")
    subprocess.run(["pdftotext", "-bbox", str(pdf), str(out)], check=True, timeout=120)
    pattern = r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">(.*?)</word>'
    return [
        [(float(a), float(b), float(c), float(d), w) for a, b, c, d, w in re.findall(pattern, page)]
        for page in re.findall(r"<page[^>]*>(.*?)</page>", out.read_text(), re.S)
    ]


def _overlapping(words, share: float = 0.3) -> list[tuple[str, str]]:
    """Pairs of words whose boxes share more than `share` of the smaller box."""
    found = []
    for a, b in itertools.combinations(words, 2):
        w, h = min(a[2], b[2]) - max(a[0], b[0]), min(a[3], b[3]) - max(a[1], b[1])
        if w > 0 and h > 0:
            smaller = min((a[2] - a[0]) * (a[3] - a[1]), (b[2] - b[0]) * (b[3] - b[1]))
            if w * h > share * smaller:
                found.append((a[4], b[4]))
    return found


def _rasterise(pdf: Path, folder: Path) -> list[Path]:
    """Every page as a PNG (60 dpi), as a person would look at it."""
    folder.mkdir(exist_ok=True)
    subprocess.run(
        ["pdftoppm", "-png", "-r", "60", str(pdf), str(folder / "page")], check=True, timeout=300
    )
    return sorted(folder.glob("page-*.png"))


def _needs(*tools: str) -> None:
    missing = [t for t in tools if shutil.which(t) is None]
    if missing:
        pytest.skip(f"not installed: {', '.join(missing)}")


def _check_rendered(pdf: Path, folder: Path) -> None:
    pages = _words(pdf)
    images = _rasterise(pdf, folder)
    assert len(images) == len(pages) > 1
    for image in images:
        low, high = Image.open(image).convert("L").getextrema()
        assert low < 128 < high, f"{image.name} is blank"
    faults = {n: pairs[:5] for n, words in enumerate(pages, 1) if (pairs := _overlapping(words))}
    assert faults == {}, f"text printed over text (page: word pairs): {faults}"


def test_pdf_pages_render_without_text_over_text(exports, tmp_path):
    _needs("pdftoppm", "pdftotext")
    _check_rendered(exports["pdf"], tmp_path / "pdf")


def test_deck_rendered_by_libreoffice_has_no_text_over_text(exports, tmp_path):
    _needs("pdftoppm", "pdftotext")
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        pytest.skip("LibreOffice is not installed (apt-get install libreoffice-impress)")
    subprocess.run(
        [soffice, f"-env:UserInstallation=file://{tmp_path}/lo", "--headless", "--convert-to",
         "pdf", "--outdir", str(tmp_path), str(exports["pptx"])],
        check=True, capture_output=True, timeout=600,
    )  # fmt: skip
    _check_rendered(tmp_path / "portfolio.pdf", tmp_path / "deck")


def _summary_tables(deck_path: Path) -> list:
    deck = Presentation(str(deck_path))
    return [
        shape for slide in deck.slides for shape in slide.shapes if shape.name == "Summary table"
    ]


def _least_tallest(heights: list[int], pages: int, most: int) -> float:
    """Reference: the least height of the tallest page over every split of `heights` into
    `pages` consecutive pages of at most `most` rows (exhaustive dynamic programme)."""
    from functools import cache

    @cache
    def best(start: int, left: int) -> float:
        if start == len(heights):
            return 0.0 if left == 0 else float("inf")
        if left == 0:
            return float("inf")
        ends = range(start + 1, min(start + most, len(heights)) + 1)
        return min(max(sum(heights[start:end]), best(end, left - 1)) for end in ends)

    return best(0, pages)


def test_the_executive_summary_is_balanced_across_the_slides_it_needs(exports):
    """Read-through B16: the summary ran to four slides, the last two holding two rows each
    under half a slide of white (6, 4, 2 and 2 rows). Read from the deck's geometry (each
    table row as tall as the writer lays it out): no fewer slides could hold the rows, and the
    tallest slide's table is as short as any split over that many slides allows."""
    from pilotproof.export.pptx import CONTENT_BOTTOM, SUMMARY_ROWS_PER_SLIDE

    tables = _summary_tables(exports["pptx"])
    assert tables
    bodies = [[row.height for row in t.table.rows][1:] for t in tables]  # under the header
    heights = [h for rows in bodies for h in rows]
    room = CONTENT_BOTTOM - tables[0].top - tables[0].table.rows[0].height
    most = SUMMARY_ROWS_PER_SLIDE
    if len(tables) > 1:  # one slide fewer cannot hold them
        assert _least_tallest(heights, len(tables) - 1, most) > room
    assert max(sum(rows) for rows in bodies) == _least_tallest(heights, len(tables), most)
    for table in tables:
        assert table.top + table.height <= CONTENT_BOTTOM


def test_the_pdf_comparison_table_is_never_split_off_under_its_chart(exports):
    """Read-through B16: PDF page 3 left the comparison table's first three rows under the
    chart and the rest on page 4. Read from the laid-out words: the table's header row (Pilot,
    Metric, Verdict, on one line) is on one page only, so the table that fits a page is whole,
    and every pilot of the comparison is listed on that page."""
    pages = _words(exports["pdf"])

    def header_at(words) -> bool:
        return any(
            [w[4] for w in words[i : i + 3]] == ["Pilot", "Metric", "Verdict"]
            and abs(words[i][1] - words[i + 2][1]) < 1
            for i in range(len(words) - 2)
        )

    holding = [n for n, words in enumerate(pages) if header_at(words)]
    assert len(holding) == 1, holding
    text = " ".join(w[4] for w in pages[holding[0]])
    assert all(name in text for name in ("Support", "Commercial", "RFQ"))
