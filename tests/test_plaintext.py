"""pilotproof.plaintext: the one set of rules for showing text people type."""

from __future__ import annotations

from pathlib import Path

from pilotproof.plaintext import (
    FORMULA_TRIGGERS,
    cut,
    inert,
    is_formula_like,
    shown,
    terminal,
    visible,
)

PACKAGE = Path(__file__).resolve().parents[1] / "pilotproof"


def test_control_characters_become_visible_codes():
    assert visible("a\x1b]0;x\x07b") == "a<ESC>]0;x<BEL>b"
    assert visible("\x00\x7f\x9b\u202e") == "<NUL><DEL><U+009B><U+202E>"
    assert visible("two\r\nlines\tand\rmore") == "two lines and more"
    assert visible("two\r\nlines\tkept", one_line=False) == "two\nlines kept"
    assert terminal("row\n\x1b[2Jx\ty") == "row\n<ESC>[2Jx\ty"


def test_long_text_is_cut_visibly():
    assert cut("x" * 10, 10) == "x" * 10
    assert cut("x" * 11, 10) == "x" * 9 + "…"
    assert shown("ab \x07" + "y" * 300, 20) == "ab <BEL>" + "y" * 11 + "…"


def test_formula_guard():
    for text in ("=1+1", "+1", "-2+3", "@SUM(A1)", "\tx", "\rx"):
        assert is_formula_like(text) and inert(text) == "'" + text
    assert not is_formula_like("Ops!AB12") and inert("Ops!AB12") == "Ops!AB12"
    assert inert(3.5) == 3.5


def test_the_formula_guard_has_one_home():
    # it was written twice, in the CLI and in the workbook writer; one fact, one place
    needle = repr(FORMULA_TRIGGERS)[1:-1]  # '"=", "+", "-", "@", "\\t", "\\r"' as written
    homes = [
        path.relative_to(PACKAGE).as_posix()
        for path in PACKAGE.rglob("*.py")
        if needle.replace("'", '"') in path.read_text(encoding="utf-8")
    ]
    assert homes == ["plaintext.py"]
