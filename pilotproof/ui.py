"""Streamlit helpers the pages share: the cached store connection, cached reads and analysis
keyed on the store's data version, verdict badges and the empty state.

One DuckDB connection per process (`st.cache_resource`, keyed on the database path so tests with
different databases never share one); every read and the analysis are cached per
`store.data_version()`, so a new upload, an edit or an undo invalidates them on the next rerun.
"""

from __future__ import annotations

import contextvars
import logging
import os
import runpy
import uuid
from pathlib import Path

import pandas as pd
import streamlit as st

from analytics.results import PilotResult
from pilotproof.views import md, pilot_labels
from pilotproof.words import ACTIVITY_LABEL, DECISION_LABELS, VERDICT_LABELS

EMPTY_TEXT = "No pilots yet: upload a metrics file"
# what a page that fails unexpectedly shows instead of Streamlit's error box (whose "Ask Google"
# and "Ask ChatGPT" links would carry an error's text off the machine); the details and the
# traceback go to the server's log under the same reference (PILOTPROOF_DEBUG=1: Streamlit's box)
UNEXPECTED_TEXT = (
    "Something went wrong showing this page. Reload to try again: a change is saved whole or "
    "not at all. If it happens again, give your administrator the reference {reference}; the "
    "details are in the server's log."
)
LOG = logging.getLogger("pilotproof.ui")
APP = Path(__file__).resolve().parents[1] / "app.py"
# set while `run_app` runs the chosen page: a page script run any other way was not routed
_ROUTED: contextvars.ContextVar[bool] = contextvars.ContextVar("routed", default=False)
UPLOAD_PAGE = "pages/upload.py"

# Streamlit badges take named colours; these follow pilotproof.charts (Okabe-Ito) meanings:
# green real / scale, orange mirage, blue fix (never the mirage's orange) and no change, red
# worse / stop, grey not enough evidence.
_VERDICT_BADGE = {
    "real": "green",
    "mirage": "orange",
    "inconclusive": "gray",
    "worse": "red",
    "no_change": "blue",
}
_DECISION_BADGE = {"scale": "green", "fix": "blue", "extend": "gray", "stop": "red"}
_VERDICT_ICON = {
    "real": ":material/verified:",
    "mirage": ":material/visibility_off:",
    "inconclusive": ":material/help:",
    "worse": ":material/trending_down:",
    "no_change": ":material/remove:",
}
_DECISION_ICON = {
    "scale": ":material/rocket_launch:",
    "fix": ":material/build:",
    "extend": ":material/schedule:",
    "stop": ":material/block:",
}


def db_path() -> str:
    from pilotproof.store import default_db_path

    return str(Path(default_db_path()).resolve())


#: Seconds a page waits for the database while another process (an ingest from the command
#: line) writes to it, before it says so and offers a retry ($PILOTPROOF_WAIT).
APP_WAIT_SECONDS = 10.0
BUSY_TEXT = (
    "The database is busy: another process (an upload from the command line, most likely) is "
    "writing to it. Nothing was lost; try again in a moment."
)


@st.cache_resource(show_spinner=False)
def _open(path: str):
    from pilotproof.store import open_default

    # PILOTPROOF_SEED=0 starts on an empty database instead of the sample portfolio.
    return open_default(seed=os.environ.get("PILOTPROOF_SEED", "1") != "0", wait=_app_wait())


def _app_wait() -> float:
    try:
        return max(0.0, float(os.environ.get("PILOTPROOF_WAIT", APP_WAIT_SECONDS)))
    except ValueError:
        return APP_WAIT_SECONDS


def run_app(pages: list) -> None:
    """Sign in (when configured), then run the chosen page; a database another process holds,
    or any other store error, is a message with a retry button, never a traceback."""
    from pilotproof.signin import gate, sign_in_page
    from pilotproof.store import StoreError

    try:
        allowed = gate(_open(db_path())) is not None
    except StoreError as exc:  # before sign-in is known: this message alone, no page names
        problem = exc

        def unavailable() -> None:
            _store_problem(problem)

        st.navigation([st.Page(unavailable, title="pilotproof")], position="hidden").run()
        return
    if not allowed:  # nothing but the sign-in page, not even the other pages' names
        only = st.Page(sign_in_page, title="Sign in", url_path="signin", default=True)
        st.navigation([only], position="hidden").run()
        return
    page = st.navigation(pages)
    debug = os.environ.get("PILOTPROOF_DEBUG") == "1"
    if debug:  # development and the tests: Streamlit's own error box with the whole error
        st.set_option("client.showErrorDetails", "full")
    routed = _ROUTED.set(True)
    try:
        page.run()
    except StoreError as exc:
        _store_problem(exc)
    except Exception:  # a defect: a message a partner can act on, the details in the log
        if debug:
            raise
        reference = uuid.uuid4().hex[:8]
        LOG.exception("page %r failed (reference %s)", page.title, reference)
        st.error(UNEXPECTED_TEXT.format(reference=reference), icon=":material/error:")
    finally:
        _ROUTED.reset(routed)


def through_the_router() -> None:
    """The first line of every page script: a page run by `run_app` goes on; a page run on its
    own is handed to the router (`app.py`: page config, sign-in gate, navigation), which runs
    it again, and this run stops. Streamlit runs the scripts of a folder named `pages/` on
    their own until some session has called `st.navigation`, so the first visit after a start
    straight to /upload or /explorer would skip the sign-in gate (the page's title and every
    page file's name drawn for someone not signed in)."""
    if _ROUTED.get():
        return
    runpy.run_path(str(APP), run_name="__main__")
    st.stop()


def _store_problem(exc: Exception) -> None:
    from pilotproof.store import DatabaseBusyError

    if isinstance(exc, DatabaseBusyError):
        st.warning(BUSY_TEXT, icon=":material/hourglass_top:")
    else:
        st.error(str(exc), icon=":material/error:")
    if st.button("Retry", icon=":material/refresh:", key="store_retry"):
        st.rerun()


def scope():
    """The signed-in person's scope (or the local tool's); stops the page when nobody with
    access is signed in."""
    from pilotproof.signin import current_scope

    found = current_scope(_open(db_path()))
    if found is None:
        st.stop()
    return found


READ_ONLY_TEXT = "Read-only access (viewer): you can see these pilots but not change them."


def can_write() -> bool:
    """Whether the person using the page may change data; for a viewer, False, and one line on
    the page saying the role is read-only (a page calls it once, and then shows a viewer no
    widget that writes)."""
    if scope().can_write:
        return True
    st.info(READ_ONLY_TEXT, icon=":material/visibility:")
    return False


def store():
    """The process-wide store for the configured database (seeded on first start), as the
    signed-in person's scope sees it: every read and write on it is bound to that scope."""
    return _open(db_path()).scoped(scope())


def version() -> int:
    return _open(db_path()).data_version()


def _scope_key(found) -> str:
    return f"{found.role}|{found.user if found.signed_in else ''}|{sorted(found.companies)}"


@st.cache_resource(show_spinner=False, max_entries=32)
def _read(path: str, data_version: int, what: str, scope_key: str, _scope) -> pd.DataFrame:
    return getattr(_open(path).scoped(_scope), what)()


def _scoped_read(what: str) -> pd.DataFrame:
    found = scope()
    return _read(db_path(), version(), what, _scope_key(found), found)


def pilots() -> pd.DataFrame:
    return _scoped_read("pilots")


def catalog() -> pd.DataFrame:
    return _scoped_read("catalog")


def thresholds() -> pd.DataFrame:
    return _scoped_read("thresholds")


def events() -> pd.DataFrame:
    return _scoped_read("events")


def uploads() -> pd.DataFrame:
    return _scoped_read("uploads")


def currencies() -> dict[str, str | None]:
    """pilot_id -> the currency its money is stated in (None: not set), of the pilots in scope."""
    return _scoped_read("pilot_currencies")


def rates():
    """The reporting currency and the conversion rates the user entered."""
    return _scoped_read("rates")


# Two versions at most (the current one and the one a slower session still reads): older ones
# only held memory, and the store's result cache (issue 16) makes a new version cheap to build.
@st.cache_resource(show_spinner="Analysing pilots…", max_entries=2)
def _analysis(path: str, data_version: int, scope_key: str, _scope) -> tuple[PilotResult, ...]:
    from pilotproof.analysis import analyze_store

    return tuple(analyze_store(_open(path).scoped(_scope)))


def results() -> tuple[PilotResult, ...]:
    """Every pilot in scope's result, analysed once per data version and scope; what the store
    kept from earlier runs (`analyze_store`'s result cache) is read, not analysed again."""
    found = scope()
    return _analysis(db_path(), version(), _scope_key(found), found)


def as_of() -> pd.Timestamp:
    """Today: what purgatory and "days live" count to. (The newest date in the database made
    every pilot's age jump when any other pilot's data arrived.)"""
    return pd.Timestamp.now().normalize()


def labels() -> dict[str, str]:
    return pilot_labels(pilots())


def empty_state() -> None:
    """Say there is nothing to show yet and point to the upload page; stops the page."""
    st.info(EMPTY_TEXT, icon=":material/upload_file:")
    st.page_link(UPLOAD_PAGE, label="Upload metrics", icon=":material/upload:")
    st.stop()


def verdict_badge(verdict: str, kind: str = "value") -> None:
    """The verdict as a badge; an activity metric gets its own neutral one, never green."""
    if kind == "activity":
        st.badge(ACTIVITY_LABEL, color="violet", icon=":material/touch_app:")
        return
    st.badge(
        VERDICT_LABELS.get(verdict, verdict),
        color=_VERDICT_BADGE.get(verdict, "gray"),
        icon=_VERDICT_ICON.get(verdict),
    )


def decision_heading(decision: str, count: int, meaning: str | None = None) -> None:
    """A decision list's heading in the decision's colour and icon, with its count
    ('Scale · 3') and what the decision means as its help."""
    color = _DECISION_BADGE.get(decision, "gray")
    icon = _DECISION_ICON.get(decision, "")
    label = DECISION_LABELS.get(decision, decision)
    st.markdown(f"##### :{color}-background[{icon} {label} · {count}]", help=meaning)


def decision_badge(decision: str) -> None:
    st.badge(
        DECISION_LABELS.get(decision, decision),
        color=_DECISION_BADGE.get(decision, "gray"),
        icon=_DECISION_ICON.get(decision),
    )


def pick_pilot(label: str = "Pilot", key: str = "pilot") -> str | None:
    """A pilot selectbox, preselected from `?pilot=` in the URL so a pilot can be linked."""
    names = labels()
    ids = list(names)
    if not ids:
        return None
    wanted = st.query_params.get(key)
    if key not in st.session_state and wanted in names:
        st.session_state[key] = wanted
    chosen = st.selectbox(label, ids, format_func=names.__getitem__, key=key)
    st.query_params[key] = chosen
    return chosen


def progress_callback(bar):
    """A `progress` callback for `Store.ingest`: `(share in [0, 1], message)` moves `bar`."""

    def report(share: float, message: str = "") -> None:
        share = min(max(float(share), 0.0), 1.0)
        bar.progress(share, text=f"{(message or 'working').capitalize()} ({share:.0%})")

    return report


_PLAN_BADGE = {
    "pre_registered": ("green", ":material/verified:"),
    "changed_after_lock": ("orange", ":material/warning:"),
    "set_after_lock": ("red", ":material/gpp_maybe:"),
    "not_pre_registered": ("red", ":material/gpp_maybe:"),
}


def plan_badge(status: str) -> None:
    """The success plan's status as a badge: pre-registered, changed, or a governance gap."""
    from analytics.governance import PLAN_STATUS_LABELS

    color, icon = _PLAN_BADGE.get(status, ("gray", None))
    st.badge(PLAN_STATUS_LABELS.get(status, status), color=color, icon=icon)


def now() -> pd.Timestamp:
    return pd.Timestamp.now()


def user_field() -> str:
    """Who is working: the signed-in person; without sign-in, a name field shared by every
    form, empty until someone types a name (the server's OS account, often 'root', is not a
    person to record); forms refuse to save without one. What it holds is stored as text and
    shown as text."""
    found = scope()
    if found.signed_in:
        st.caption(f"Recorded as {found.user}")
        return found.user
    st.session_state.setdefault("user_name", "")
    return st.text_input(
        "Your name (recorded with every change)",
        key="user_name",
        placeholder="e.g. Jane Smith, operating partner",
    ).strip()


def confirm(message: str) -> None:
    """Say `message` (e.g. 'Saved the catalog defaults.') once, on the next run of the page:
    a save reruns the page, and the confirmation is what the user sees after it."""
    st.session_state["_confirmation"] = message


def show_confirmation() -> None:
    """Show the confirmation a save left, once."""
    message = st.session_state.pop("_confirmation", None)
    if message:
        st.success(message, icon=":material/check_circle:")


#: Rows a table draws at once; a longer one is paged (a fund's tables run to thousands of rows).
PAGE_ROWS = 100


def paged(
    table: pd.DataFrame,
    key: str,
    *,
    sort_by: dict[str, bool] | None = None,
    rows: int | None = None,
) -> tuple[pd.DataFrame, int]:
    """One page of `table` and the position of its first row: the whole table up to `rows`
    rows, else `rows` of them picked with a page number, so the browser is never sent a
    10,000-row table. `sort_by` (column -> ascending) offers a sort of the whole table before
    paging (clicking a column header sorts only the page drawn)."""
    rows = rows or PAGE_ROWS
    if len(table) <= rows and not sort_by:
        return table, 0
    order, number, where = st.columns([2, 1, 3], vertical_alignment="bottom")
    if sort_by:  # offered on a table of any length: a static table has no clickable headers
        column = order.selectbox(
            "Sort all rows by", list(sort_by), key=f"{key}_sort", format_func=nice_column
        )
        table = table.sort_values(column, ascending=sort_by[column], na_position="last")
    if len(table) <= rows:
        return table, 0
    pages = -(-len(table) // rows)
    page = int(number.number_input(f"Page (of {pages})", 1, pages, 1, key=f"{key}_page"))
    start = (page - 1) * rows
    end = min(start + rows, len(table))
    where.caption(f"Rows {start + 1:,} to {end:,} of {len(table):,}")
    return table.iloc[start:end], start


def wrapped_table(
    table: pd.DataFrame,
    numbers: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
) -> None:
    """`table` as a static table whose cells wrap, so no text is ever cut at a column's edge
    at any window width (a data grid cuts a long cell with "…" and gives no way to read it):
    every cell made inert markdown (`md`), the columns in `numbers` formatted with their
    format spec ('.1f') and blank when missing, lists joined with semicolons (a name may hold
    a comma), headers renamed by `headers`."""
    numbers = numbers or {}

    def cell(value: object, spec: str | None) -> str:
        if isinstance(value, list | tuple):
            return md("; ".join(str(v) for v in value))  # names may hold commas
        if spec is not None:
            number = pd.to_numeric(value, errors="coerce")
            return "" if pd.isna(number) else format(number, spec)
        return md(value)

    shown = pd.DataFrame(
        {c: [cell(v, numbers.get(c)) for v in table[c]] for c in table.columns},
        columns=list(table.columns),
    ).rename(columns=headers or {})
    st.table(shown, hide_index=True, border="horizontal")


def nice_column(name: str) -> str:
    """A column's name as a heading reads it: `improvement_pct` -> `improvement`."""
    return name.removesuffix("_pct").replace("_", " ")


@st.cache_resource(show_spinner=False, max_entries=64)
def _derived(path: str, data_version: int, scope_key: str, day: str, what: str, _make):
    return _make()


def derived(what: str, make):
    """What a page computes from the data in scope (a table, a figure), made once per data
    version, scope and day and shared by every redraw: a fund's maturity and sprawl tables, or
    two dozen aligned series, cost half a second each to make. `what` names it with every
    choice it depends on (the filters); the result is shared, so it is never changed."""
    found = scope()
    return _derived(db_path(), version(), _scope_key(found), str(as_of().date()), what, make)
