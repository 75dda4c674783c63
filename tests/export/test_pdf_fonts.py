"""Chinese, Japanese and Korean names print in the PDF as text in a font that has them, never as
empty boxes: an embedded CJK TrueType font when one is installed (.ci/run installs Debian's
fonts-droid-fallback), else reportlab's built-in CID fonts, which the viewer draws."""

from __future__ import annotations

import io
import shutil
import subprocess

import pytest
from pypdf import PdfReader

from pilotproof.export import pdf, pdf_fonts
from pilotproof.export.content import build_report

NAME, COMPANY, KOREAN = "理赔分流 試験 Pilot", "株式会社テスト", "한국 파일럿"


@pytest.fixture(scope="module")
def cjk_report(results, pilots, observations, events):
    named = pilots.copy()
    named.loc[0, ["pilot_name", "company"]] = [NAME, COMPANY]
    named.loc[2, "pilot_name"] = KOREAN
    return build_report(results, named, observations, events=events)


def _fonts(data: bytes) -> set[str]:
    """The base font names every page's resources name (as `pdffonts` lists them)."""
    names = set()
    for page in PdfReader(io.BytesIO(data)).pages:
        for font in page["/Resources"]["/Font"].values():
            names.add(str(font.get_object()["/BaseFont"]).lstrip("/").split("+")[-1])
    return names


def test_runs_put_only_what_the_main_font_lacks_in_a_fallback():
    font = pdf.FONT
    pieces = pdf_fonts.runs("Pilot 理赔 x", font)
    assert pieces[0] == (font, "Pilot ")
    assert pieces[1][1] == "理赔" and pieces[1][0] != font
    assert pieces[2] == (font, " x")
    assert pdf_fonts.markup("Acme &amp; Co", font) == "Acme &amp; Co"  # Latin stays as it was


@pytest.mark.skipif(not pdf_fonts.fonts().fallback, reason="no CJK TrueType font installed")
@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils not installed")
def test_cjk_names_are_embedded_text_in_a_font_that_has_them(cjk_report, tmp_path):
    path = tmp_path / "cjk.pdf"
    path.write_bytes(pdf.render(cjk_report))
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, check=True).stdout
    words = text.decode("utf-8")
    assert NAME in words and COMPANY in words
    fonts = subprocess.run(["pdffonts", str(path)], capture_output=True, check=True).stdout
    listed = [line.split() for line in fonts.decode().splitlines()[2:]]
    cjk = [row for row in listed if "DroidSansFallback" in row[0] or "WenQuanYi" in row[0]]
    assert cjk and cjk[0][-5] == "yes"  # embedded: it prints on any machine


def test_without_a_cjk_font_the_builtin_cid_fonts_carry_the_names(cjk_report, monkeypatch):
    plain = pdf_fonts.Fonts(pdf.FONT, pdf.BOLD, None)
    monkeypatch.setattr(pdf_fonts, "fonts", lambda: plain)
    data = pdf.render(cjk_report)
    fonts = _fonts(data)
    chinese, japanese, korean = (
        pdf_fonts.CID_CHINESE, pdf_fonts.CID_JAPANESE, pdf_fonts.CID_KOREAN,
    )  # fmt: skip
    assert {chinese, japanese, korean} <= fonts
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)
    assert "理赔分流" in text and COMPANY in text and KOREAN in text
