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

Emoji and other symbols DejaVu lacks ("Invoice bot 🤖", ✅, 📈) are set in Symbola
(`SYMBOL_FILES`: Debian's fonts-symbola, which .ci/run installs; monochrome outlines, embedded
as a subset like the CJK font). Colour emoji fonts (Noto Color Emoji) hold bitmaps reportlab
cannot draw.

A character no font has is never drawn as an empty box: it is written as its Unicode name in
brackets in the main font, "[melting face]" (`marker`), so the reader still sees what the name
said. An invisible joiner or variation selector no font has (the U+200D of 👩‍💻, the U+FE0F
of ❤️, a skin-tone modifier) is dropped: it changes how the characters beside it look, and
without it they are still drawn.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from reportlab.graphics.shapes import Group, String
from reportlab.pdfbase import pdfmetrics, ttfonts
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
#: Symbol and emoji TrueType fonts tried in order; the first found is used.
SYMBOL_FILES: tuple[tuple[Path, int], ...] = (
    (Path("/usr/share/fonts/truetype/ancient-scripts/Symbola_hint.ttf"), 0),
)
SYMBOL_NAME = "PilotSymbols"
#: What may be dropped when no font has it: joiners, variation selectors, skin-tone modifiers
#: and emoji tag characters (they shape the characters beside them, and draw nothing alone).
_SHAPING = re.compile(
    "[\u200b-\u200f\u2060\ufe00-\ufe0f\U0001f3fb-\U0001f3ff\U000e0000-\U000e007f]"
)
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
    """The registered names of the main font, its bold, the CJK TrueType fallback and the
    symbol (emoji) fallback (each None when no such font is installed)."""

    regular: str
    bold: str
    fallback: str | None
    symbols: str | None = None


_BFCHAR_ASTRAL = re.compile(r"^<([0-9A-F]{2})> <([0-9A-F]{5,6})>$", re.MULTILINE)


def _to_unicode_cmap(fontname: str, subset: Sequence[int]) -> str:
    """reportlab's `makeToUnicodeCMap` (the map a viewer copies and searches text by) with each
    character past U+FFFF written as the PDF asks, in UTF-16BE, a surrogate pair (PDF 1.7,
    9.10.3): reportlab writes `<%04X>`, so 🤖 (U+1F916) copied out of the PDF as U+1F91 (ὑ).
    The glyphs drawn are the same either way."""
    cmap = _reportlab_cmap(fontname, subset)
    return _BFCHAR_ASTRAL.sub(
        lambda m: f"<{m[1]}> <{chr(int(m[2], 16)).encode('utf-16-be').hex().upper()}>", cmap
    )


_reportlab_cmap = ttfonts.makeToUnicodeCMap


@cache
def fonts() -> Fonts:
    """Register the PDF's fonts once per process and name them (and mend reportlab's text map
    for emoji: `_to_unicode_cmap`)."""
    ttfonts.makeToUnicodeCMap = _to_unicode_cmap
    regular, bold = _DEJAVU / "DejaVuSans.ttf", _DEJAVU / "DejaVuSans-Bold.ttf"
    names = ("Helvetica", "Helvetica-Bold")
    if regular.exists() and bold.exists():
        if "PilotSans" not in pdfmetrics.getRegisteredFontNames():
            pdfmetrics.registerFont(TTFont("PilotSans", str(regular)))
            pdfmetrics.registerFont(TTFont("PilotSans-Bold", str(bold)))
        names = ("PilotSans", "PilotSans-Bold")
    return Fonts(
        *names, _fallback(FALLBACK_FILES, FALLBACK_NAME), _fallback(SYMBOL_FILES, SYMBOL_NAME)
    )


def _fallback(files: Sequence[tuple[Path, int]], name: str) -> str | None:
    """Register the first readable font of `files` as `name`; None when there is none."""
    for path, index in files:
        if not path.exists():
            continue
        if name not in pdfmetrics.getRegisteredFontNames():
            try:
                pdfmetrics.registerFont(TTFont(name, str(path), subfontIndex=index))
            except Exception:  # a damaged or unreadable font file: try the next
                continue
        return name
    return None


def runs(text: str, font: str) -> list[tuple[str, str]]:
    """`text` cut into `(font name, run)` pieces: each character in `font` when it has it,
    else in the installed CJK or symbol TrueType fallback that has it, else (CJK) in the CID
    font of its script (`cid_font`), else dropped (`_SHAPING`) or written as its `marker` in
    `font`; runs of one font are joined."""
    installed = fonts()
    pieces: list[tuple[str, str]] = []
    for char in text:
        chosen, shown = font, char
        if not _has(font, char):
            chosen = next(
                (
                    f
                    for f in (installed.fallback, installed.symbols)
                    if f is not None and _has(f, char)
                ),
                font,
            )
            if chosen == font and _CJK.match(char):
                chosen = cid_font(char)
            elif chosen == font:
                shown = "" if _SHAPING.match(char) else marker(char)
        if not shown:
            continue
        if pieces and pieces[-1][0] == chosen:
            pieces[-1] = (chosen, pieces[-1][1] + shown)
        else:
            pieces.append((chosen, shown))
    return pieces


def marker(char: str) -> str:
    """What stands for a character no installed font draws: its Unicode name in lower case in
    brackets, "[melting face]", or its code point, "[U+E000]", where it has no name."""
    name = unicodedata.name(char, "")
    return f"[{name.lower()}]" if name else f"[U+{ord(char):04X}]"


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
