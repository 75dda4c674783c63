"""The layer rules the README states, checked rather than stated.

`lint-imports` (import-linter, run by `make test` with the contracts in pyproject.toml) holds the
packages to them; pages are scripts, not a package, so this test reads their imports itself."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPTS = sorted([ROOT / "app.py", *(ROOT / "pages").glob("*.py")])
# pages hold widgets and charts: no SQL, no statistics (README, "How the code is laid out")
FORBIDDEN_IN_PAGES = ("duckdb", "statsmodels", "scipy", "numpy.linalg", "sqlite3")


def imported_modules(path: Path) -> set[str]:
    """Every module a script imports, at any depth of its syntax tree (dotted names)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module)
    return found


def breaches(modules: set[str]) -> list[str]:
    return sorted(
        m for m in modules for bad in FORBIDDEN_IN_PAGES if m == bad or m.startswith(bad + ".")
    )


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
def test_pages_import_no_sql_and_no_statistics(script: Path) -> None:
    assert breaches(imported_modules(script)) == []


def test_the_check_sees_a_forbidden_import_anywhere_in_a_script(tmp_path: Path) -> None:
    page = tmp_path / "page.py"
    page.write_text(
        "import streamlit as st\n"
        "def load():\n"
        "    import duckdb\n"
        "    from statsmodels.api import OLS\n"
        "    return duckdb, OLS\n",
        encoding="utf-8",
    )
    assert breaches(imported_modules(page)) == ["duckdb", "statsmodels.api"]


def test_the_pages_are_found() -> None:
    assert len(SCRIPTS) >= 9  # app.py and the eight pages
