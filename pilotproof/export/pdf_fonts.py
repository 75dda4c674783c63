"""The PDF's fonts, and a fallback per run of text for the characters the main font lacks.

The main font is DejaVu Sans when installed (Latin, Greek, Cyrillic, Arabic, Hebrew), else
reportlab's built-in Helvetica. DejaVu has no Chinese, Japanese or Korean: a pilot named
"理赔分流" would print as empty boxes. Each run of such characters is set in a fallback font
instead, the first that has them:

1. a CJK TrueType font on the machine (`FALLBACK_FILES`: Debian's fonts-droid-fallback, which
   .ci/run installs, or WenQuanYi), embedded as a subset: it prints and copies anywhere;
2. else one of reportlab's built-in CID fonts by script (Adobe's Asian font packs: STSong-Light
   for Chinese, HeiseiKakuGo-W5 for Japanese, HYGothic-Medium for Korean): nothing to install
   or download, the text is in the PDF as text, and the reader's viewer supplies the glyphs.

A character no font has keeps the main font (and its missing-glyph box).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from reportlab.graphics.shapes import Group, String
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import Paragraph as _Paragraph

_DEJAVU = Path("/usr/share/fonts/truetype/dejavu")
#: CJK TrueType fonts tried in order (file, index in a collection); the first found is used.
FALLBACK_FILES: tuple[tuple[Path, int], ...] = (
    (Path("/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf"), 0),
    (Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"), 0),
    (Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"), 0),
)
FALLBACK_NAME = "PilotCJK"
# reportlab's CID fonts by script: the viewer draws them (nothing embedded, nothing fetched)
_KANA = re.compile("[\u3040-\u30ff\u31f0-\u31ff\uff65-\uff9f]")
_HANGUL = re.compile("[\u1100-\u11ff\u3130-\u318f\uac00-\ud7af]")
_CJK = re.compile(
    "[\u2e80-\u2fdf\u3000-\u303f\u3040-\u30ff\u3100-\u312f\u3130-\u318f\u31f0-\u31ff"
    "\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\u1100-\u11ff\uf900-\ufaff\ufe30-\ufe4f"
    "\uff00-\uffef]"
)
CID_CHINESE, CID_JAPANESE, CID_KOREAN = "STSong-Light", "HeiseiKakuGo-W5", "HYGothic-Medium"


@dataclass(frozen=True)
class Fonts:
    """The registered names of the main font, its bold, and the TrueType fallback (None when
    no CJK TrueType font is installed)."""

    regular: str
    bold: str
    fallback: str | None


@cache
def fonts() -> Fonts:
    """Register the PDF's fonts once per process and name them."""
    regular, bold = _DEJAVU / "DejaVuSans.ttf", _DEJAVU / "DejaVuSans-Bold.ttf"
    names = ("Helvetica", "Helvetica-Bold")
    if regular.exists() and bold.exists():
        if "PilotSans" not in pdfmetrics.getRegisteredFontNames():
            pdfmetrics.registerFont(TTFont("PilotSans", str(regular)))
            pdfmetrics.registerFont(TTFont("PilotSans-Bold", str(bold)))
        names = ("PilotSans", "PilotSans-Bold")
    return Fonts(*names, _fallback(FALLBACK_FILES))


def _fallback(files: Sequence[tuple[Path, int]]) -> str | None:
    for path, index in files:
        if not path.exists():
            continue
        if FALLBACK_NAME not in pdfmetrics.getRegisteredFontNames():
            try:
                pdfmetrics.registerFont(TTFont(FALLBACK_NAME, str(path), subfontIndex=index))
            except Exception:  # a damaged or unreadable font file: try the next
                continue
        return FALLBACK_NAME
    return None


def runs(text: str, font: str) -> list[tuple[str, str]]:
    """`text` cut into `(font name, run)` pieces: each character in `font` when it has it,
    else in the installed TrueType fallback when that has it, else in the CID font of its
    script (`cid_font`); runs of one font are joined."""
    fallback = fonts().fallback
    pieces: list[tuple[str, str]] = []
    for char in text:
        chosen = font
        if not _has(font, char):
            if fallback is not None and _has(fallback, char):
                chosen = fallback
            elif _CJK.match(char):
                chosen = cid_font(char)
        if pieces and pieces[-1][0] == chosen:
            pieces[-1] = (chosen, pieces[-1][1] + char)
        else:
            pieces.append((chosen, char))
    return pieces


def cid_font(char: str) -> str:
    """The built-in CID font for a CJK character, registered on first use: Korean for
    Hangul, Japanese for kana, Chinese for the rest (Han, CJK punctuation)."""
    name = CID_KOREAN if _HANGUL.match(char) else CID_JAPANESE if _KANA.match(char) else CID_CHINESE
    if name not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(name))
    return name


def markup(text: str, font: str) -> str:
    """Paragraph markup (already escaped) with every run the paragraph's `font` lacks set in
    its fallback: `<font name="PilotCJK">理赔</font>`. Markup tags and entities are ASCII,
    which every main font has, so they are never cut."""
    if text.isascii():
        return text
    return "".join(
        run if name == font else f'<font name="{name}">{run}</font>'
        for name, run in runs(text, font)
    )


class Paragraph(_Paragraph):
    """reportlab's `Paragraph` with each run its style's font lacks set in a fallback font
    (`markup`); takes the same (escaped) markup. Text with Chinese, Japanese or Korean in it is
    wrapped the CJK way (`wordWrap='CJK'`: a line may break between any two characters, and
    closing punctuation never starts one): by spaces alone, a name like "理赔自动分流助手" is
    one word that jumped whole to the next line, or, longer than a line, was cut wherever it
    ran out of room. A character that may not start a line (ッ, ー, 。) hangs at the end of the
    one before, up to one glyph past its measure: the right indent of one em keeps it inside
    the cell."""

    def __init__(self, text: str, style, *args, **kwargs) -> None:
        if style.wordWrap != "CJK" and _CJK.search(text):
            style = style.clone(
                f"{style.name}-cjk",
                wordWrap="CJK",
                rightIndent=style.rightIndent + style.fontSize,
            )
        super().__init__(markup(text, style.fontName), style, *args, **kwargs)


def draw_string(canvas, x: float, y: float, text: str, font: str, size: float) -> None:
    """`canvas.drawString` with each run the font lacks in its fallback, side by side."""
    for name, run in runs(text, font):
        canvas.setFont(name, size)
        canvas.drawString(x, y, run)
        x += pdfmetrics.stringWidth(run, name, size)


def shape(x: float, y: float, text: str, font: str, size: float, anchor: str, ink) -> Group:
    """A chart's text (`reportlab.graphics` String) anchored at x ('start', 'middle' or
    'end'), with each run the font lacks in its fallback, side by side."""
    pieces = runs(text, font)
    widths = [pdfmetrics.stringWidth(run, name, size) for name, run in pieces]
    x -= {"start": 0.0, "middle": sum(widths) / 2, "end": sum(widths)}[anchor]
    group = Group()
    for (name, run), width in zip(pieces, widths, strict=True):
        group.add(String(x, y, run, fontName=name, fontSize=size, fillColor=ink))
        x += width
    return group


def _has(font: str, char: str) -> bool:
    """Whether the registered `font` draws `char` (a TrueType font: its character map; a
    standard font: its encoding, WinAnsi; a CID font: the script it was chosen for)."""
    if char in "\n\t ":
        return True
    face = getattr(pdfmetrics.getFont(font), "face", None)
    to_glyph = getattr(face, "charToGlyph", None)
    if to_glyph is not None:
        return ord(char) in to_glyph
    if font in (CID_CHINESE, CID_JAPANESE, CID_KOREAN):
        return bool(_CJK.match(char))
    try:
        char.encode("cp1252")
    except UnicodeEncodeError:
        return False
    return True
