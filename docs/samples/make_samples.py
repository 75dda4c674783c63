"""Write the demo portfolio's proof-of-value exports, and PNG previews, into docs/samples/.

    .venv/bin/python docs/samples/make_samples.py        (or: make samples)

Builds a fresh database from data/sample/ in a temporary folder, then writes
portfolio.{pptx,pdf,xlsx,html} through `pilotproof report`, and PNGs of the PDF's first page
and of one pilot's page (poppler's `pdftoppm`). For the deck, the PNGs of the first slide and
of one pilot's evidence slide need LibreOffice (`soffice --headless --convert-to pdf`); without
it they are skipped with a note. Needs Chromium for the PDF's charts (kaleido).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "docs" / "samples"
sys.path.insert(0, str(ROOT))

from pilotproof.analysis import analyze_store  # noqa: E402
from pilotproof.cli import main as cli  # noqa: E402
from pilotproof.export import report_from_store  # noqa: E402
from pilotproof.store import Store, seed_sample  # noqa: E402

FORMATS = ("pptx", "pdf", "xlsx", "html")


def build_database(folder: Path) -> tuple[Path, str]:
    """The sample portfolio in a fresh database, seeded as the app seeds it (the files, the plan
    changed after the results, the logged decisions); returns it and the action title to
    preview: the pilot whose criteria changed after its results, else one ready to scale."""
    db = folder / "samples.duckdb"
    with Store(db) as store:
        seed_sample(store)
        results = analyze_store(store)
        ranked = sorted(
            results,
            key=lambda r: (
                not (r.governance is not None and r.governance.changed),
                r.decision != "scale",
                r.net_value is None,
            ),
        )
        showcase = ranked[0]
        # the heading its slide and page carry (the company beside the name, changes in words)
        (section,) = report_from_store(results, store, [showcase.pilot_id]).pilots
    return db, section.heading


def png(pdf: Path, page: int, target: Path) -> None:
    """One page of a PDF as a PNG, 110 dpi: readable in a README, small in the repo."""
    stem = target.with_suffix("")
    subprocess.run(
        [
            "pdftoppm",
            "-png",
            "-r",
            "110",
            "-f",
            str(page),
            "-l",
            str(page),
            "-singlefile",
            str(pdf),
            str(stem),
        ],
        check=True,
    )


def page_with(pdf: Path, text: str) -> int:
    """The last page (1-based) whose text holds `text`: the pilot's own page, not the summary."""
    from pypdf import PdfReader

    wanted = " ".join(text.split())
    found = 1
    for number, page in enumerate(PdfReader(pdf).pages, start=1):
        if wanted in " ".join(page.extract_text().split()):
            found = number
    return found


def slide_with(deck: Path, text: str) -> int:
    from pptx import Presentation

    for number, slide in enumerate(Presentation(deck).slides, start=1):
        if any(s.has_text_frame and s.text_frame.text.startswith(text) for s in slide.shapes):
            return number
    return 1


def deck_to_pdf(deck: Path, folder: Path) -> Path | None:
    office = shutil.which("soffice") or shutil.which("libreoffice")
    if office is None:
        return None
    profile = (folder / "lo-profile").as_uri()
    subprocess.run(
        [
            office,
            "--headless",
            f"-env:UserInstallation={profile}",
            "--convert-to",
            "pdf",
            "--outdir",
            str(folder),
            str(deck),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    converted = folder / (deck.stem + ".pdf")
    return converted if converted.exists() else None


def main() -> int:
    if shutil.which("pdftoppm") is None:
        print("pdftoppm not found: apt-get install -y poppler-utils", file=sys.stderr)
        return 1
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        db, title = build_database(folder)
        for fmt in FORMATS:
            code = cli(
                ["report", "--db", str(db), "--format", fmt, "--out", str(OUT / f"portfolio.{fmt}")]
            )
            if code:
                return code
        pdf = OUT / "portfolio.pdf"
        png(pdf, 1, OUT / "portfolio-pdf-page1.png")
        png(pdf, page_with(pdf, title), OUT / "portfolio-pdf-pilot.png")
        slides = deck_to_pdf(OUT / "portfolio.pptx", folder)
        if slides is None:
            print("LibreOffice not found: skipped the PPTX previews", file=sys.stderr)
        else:
            png(slides, 1, OUT / "portfolio-pptx-slide1.png")
            png(slides, slide_with(OUT / "portfolio.pptx", title), OUT / "portfolio-pptx-pilot.png")
    for path in sorted(OUT.glob("portfolio*")):
        print(f"{path.relative_to(ROOT)}  {path.stat().st_size / 1024:,.0f} KB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
