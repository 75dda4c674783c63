"""Chinese, Japanese and Korean names print in the PDF as text in a font that has them, never as
empty boxes: an embedded CJK TrueType font when one is installed (.ci/run installs Debian's
fonts-droid-fallback), else reportlab's built-in CID fonts, which the viewer draws."""

from __future__ import annotations

import io
import itertools
import shutil
import subprocess

import pytest
from pypdf import PdfReader
from reportlab.lib.units import mm

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
    words, embedded = _rendered(cjk_report, tmp_path / "cjk.pdf")
    assert NAME in words and COMPANY in words
    assert any(name.startswith(("DroidSansFallback", "WenQuanYi")) for name in embedded)


def _rendered(report, path) -> tuple[str, set[str]]:
    """The report's PDF as poppler reads it: its text (`pdftotext`) and the fonts embedded in
    it (`pdffonts`, subset prefix dropped): what prints and copies on any machine."""
    path.write_bytes(pdf.render(report))
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, check=True).stdout
    fonts = subprocess.run(["pdffonts", str(path)], capture_output=True, check=True).stdout
    listed = [line.split() for line in fonts.decode().splitlines()[2:]]
    return text.decode("utf-8"), {row[0].split("+")[-1] for row in listed if row[-5] == "yes"}


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


# a name shorter than a line but longer than what a line has left after a sentence's start
LONG = "理赔自动分流与欺诈识别助手试点项目第二阶段华东区域推广"


def _lines(paragraph) -> list[tuple[float, str]]:
    """Each laid-out line's room left to the frame's right edge (negative: past it; a right
    indent is room inside the frame) and its text."""
    out = []
    indent = paragraph.style.rightIndent
    for line in paragraph.blPara.lines:
        if isinstance(line, tuple):  # plain lines: (extra space, words)
            out.append((line[0] + indent, " ".join(line[1])))
        else:  # lines of fragments (several fonts, or CJK wrapping)
            text = "".join(getattr(w, "text", "") for w in getattr(line, "words", []))
            out.append((line.extraSpace + indent, text))
    return out


@pytest.mark.parametrize("style", ["cell", "body", "h1"])
@pytest.mark.parametrize("name", [LONG, "チャット応答ボット" * 3])
def test_a_long_cjk_name_wraps_inside_its_frame_at_the_line_end(style, name):
    """A Chinese or Japanese name has no spaces, so wrapped by words it was one word: it jumped
    whole to the next line (or was cut wherever a line ran out). Wrapped the CJK way, it fills
    the line and breaks between characters, every line inside the frame, a small kana that may
    not start a line (ッ) included."""
    text = f"Decisions overdue against their window: {name}, {name[:9]}試験システム導入"
    paragraph = pdf._p(text, style)
    width = 120 * mm
    _, height = paragraph.wrap(width, 1000)
    lines = _lines(paragraph)
    assert len(lines) >= 2 and height == pytest.approx(len(lines) * pdf.STYLES[style].leading)
    size = pdf.STYLES[style].fontSize
    for (spare, _), (_, after) in itertools.pairwise(lines):
        assert spare >= -0.5  # inside the frame
        if after[:1] and pdf_fonts._CJK.match(after[0]):
            assert spare < 2.1 * size, lines  # filled up to the name's next character
    assert lines[-1][0] >= -0.5


def test_cjk_names_stay_inside_their_cells_on_every_page(
    results, pilots, observations, events, monkeypatch
):
    """The whole PDF with long Chinese and Japanese names: every paragraph holding CJK text is
    laid out within the width its cell or frame gives it."""
    named = pilots.copy()
    named.loc[0, ["pilot_name", "company"]] = [LONG + NAME, COMPANY * 3]
    named.loc[1, "pilot_name"] = "事故受付" * 12
    named.loc[2, "pilot_name"] = "チャット応答ボット" * 6
    long_named = build_report(results, named, observations, events=events)
    seen: list[tuple[float, list[tuple[float, str]]]] = []
    wrap = pdf_fonts.Paragraph.wrap

    def recording(self, width, height):
        size = wrap(self, width, height)
        if pdf_fonts._CJK.search(self.text):
            seen.append((width, _lines(self)))
        return size

    monkeypatch.setattr(pdf_fonts.Paragraph, "wrap", recording)
    reader = PdfReader(io.BytesIO(pdf.render(long_named)))
    assert len(reader.pages) > 1
    assert any(LONG in "".join(t for _, t in lines) for _, lines in seen)
    faults = [(w, lines) for w, lines in seen if any(spare < -0.5 for spare, _ in lines)]
    assert faults == []


EMOJI = "Invoice bot 🤖 ✅"
#: Unicode 14 (2021): in no font Debian's fonts-symbola or DejaVu hold
UNDRAWN = "\U0001fae0"


@pytest.fixture(scope="module")
def emoji_report(results, pilots, observations, events):
    named = pilots.copy()
    named.loc[0, "pilot_name"] = EMOJI
    named.loc[1, "pilot_name"] = f"Claims {UNDRAWN} triage 👩\u200d💻"
    return build_report(results, named, observations, events=events)


@pytest.mark.skipif(not pdf_fonts.fonts().symbols, reason="fonts-symbola not installed")
def test_emoji_are_set_in_the_symbol_font_and_what_no_font_has_is_named():
    font = pdf.FONT
    assert pdf_fonts.runs(EMOJI, font) == [
        (font, "Invoice bot "),
        (pdf_fonts.SYMBOL_NAME, "🤖"),
        (font, " "),
        (pdf_fonts.SYMBOL_NAME, "✅"),
    ]
    assert pdf_fonts.runs(f"a{UNDRAWN}b", font) == [(font, "a[melting face]b")]
    assert pdf_fonts.marker("\ue000") == "[U+E000]"  # a private-use character has no name


def test_without_a_symbol_font_an_emoji_is_its_name_and_a_joiner_is_dropped(monkeypatch):
    plain = pdf_fonts.Fonts("Helvetica", "Helvetica-Bold", None, None)
    monkeypatch.setattr(pdf_fonts, "fonts", lambda: plain)
    assert pdf_fonts.runs("bot 🤖\ufe0f 👩\u200d💻", "Helvetica") == [
        ("Helvetica", "bot [robot face] [woman][personal computer]")
    ]
    assert pdf_fonts.markup("Bot 🤖 &amp; co", "Helvetica") == "Bot [robot face] &amp; co"


@pytest.mark.skipif(not pdf_fonts.fonts().symbols, reason="fonts-symbola not installed")
@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils not installed")
def test_emoji_names_are_embedded_text_and_never_an_empty_box(emoji_report, tmp_path):
    words, embedded = _rendered(emoji_report, tmp_path / "emoji.pdf")
    assert EMOJI in words and "Claims [melting face] triage 👩" in words
    assert UNDRAWN not in words
    assert "Symbola" in embedded
