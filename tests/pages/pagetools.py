"""AppTest helpers for the page tests."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[2]


def open_page(page: str, **state) -> AppTest:
    """Run the router, switch to `page` (e.g. "pages/compare.py") and run it."""
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    for key, value in state.items():
        app.session_state[key] = value
    app.run()
    if page != "pages/portfolio.py":
        app.switch_page(page).run()
    assert not app.exception, [e.value for e in app.exception]
    return app


def texts(app: AppTest) -> str:
    """Every markdown, caption, alert and heading on the page, one per line."""
    parts = [e.value for e in app.markdown] + [e.value for e in app.caption]
    for kind in (app.info, app.success, app.error, app.warning, app.title, app.subheader):
        parts += [e.value for e in kind]
    return "\n".join(parts)


def store_for(db: Path):
    from pilotproof import ui

    return ui._open(str(db.resolve()))


def read_table(table) -> pd.DataFrame:
    """A static table (`st.table`) as read: its markdown escapes and the word joiners that
    keep a bare link inert (`views.md`) undone."""
    return table.value.map(lambda cell: re.sub(r"\\(.)", r"\1", str(cell)).replace("\u2060", ""))


def table_with(app: AppTest, column: str, last: bool = False):
    """The first (or last) table on the page that has `column`, as a DataFrame: data grids
    first, then static tables (read as `read_table`, every cell text)."""
    tables = [d.value for d in app.dataframe if column in d.value.columns]
    tables += [read_table(t) for t in app.table if column in t.value.columns]
    assert tables, f"no table with a {column!r} column"
    return tables[-1] if last else tables[0]
