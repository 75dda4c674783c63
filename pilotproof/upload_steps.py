"""The Upload page's steps as widgets: sheet pickers, the column-mapping box, the validation
report and the undo confirmation. The page calls them in order; the rules they apply are in
`pilotproof.uploading` and the store."""

from __future__ import annotations

from dataclasses import replace

import pandas as pd
import streamlit as st

from pilotproof import ui, uploading
from pilotproof.store import (
    WORKBOOK_SUFFIXES,
    IngestError,
    Problem,
    ReadOptions,
    StoreError,
    ValidationReport,
    file_headers,
    likeliest_sheet,
    sheet_names,
)
from pilotproof.store.catalog import DIRECTIONS
from pilotproof.store.errors import counted
from pilotproof.views import md

Payload = list[tuple[str, bytes]]


def sheet_pickers(payload: Payload) -> dict[str, str]:
    """A sheet picker per workbook with several sheets, starting on the one with the data."""
    sheets: dict[str, str] = {}
    for name, data in payload:
        if not name.lower().endswith(WORKBOOK_SUFFIXES):
            continue
        try:
            found = sheet_names(name, data)
        except IngestError:
            continue  # the validation says what is wrong with it
        if len(found) > 1:
            likeliest = found.index(likeliest_sheet(name, data) or found[0])
            label = f"Sheet of {md(name)}"
            sheets[name] = st.selectbox(label, found, index=likeliest, key=f"sheet:{name}")
    return sheets


def mapping_box(store, payload: Payload, sheets: dict[str, str], expanded: bool) -> None:
    """The column mapping: a table to edit, the whole-file pilot, the date order, the decimal
    mark and a preview of the first rows as read, redrawn on every edit; "Apply mapping" stores
    the read options in `st.session_state["read_options"]` for the page's one validation."""
    with st.expander("Column mapping, for exports whose headers differ", expanded=expanded):
        saved = store.mappings()
        choice = st.selectbox("Saved mapping", ["(none)", *saved], key="mapping_name")
        headers = dict.fromkeys(h for n, d in payload for h in file_headers(n, d, sheets.get(n)))
        pilot_fields = ui.pilots().columns
        units = dict(zip(ui.catalog()["metric"], ui.catalog()["unit"], strict=True))
        edited = st.data_editor(
            uploading.mapping_table(list(headers), saved.get(choice, {}), units),
            column_config={
                uploading.TARGET: st.column_config.SelectboxColumn(
                    options=uploading.targets(pilot_fields, ui.catalog()["metric"])
                ),
                uploading.NEW: st.column_config.TextColumn(max_chars=40),
                uploading.BETTER: st.column_config.SelectboxColumn(options=["", *DIRECTIONS]),
            },
            disabled=[uploading.SOURCE],
            hide_index=True,
            key="mapping_editor",
        )
        labels = ui.labels()
        left, right = st.columns(2)
        whole = left.selectbox(
            "The whole file is one pilot",
            ["", *labels, uploading.NEW_PILOT],
            format_func=lambda p: uploading.pilot_choice(p, labels),
            key="whole_pilot",
        )
        order = right.radio(
            "Dates like 06/01/2025",
            list(uploading.DATE_ORDER_LABELS),
            format_func=uploading.DATE_ORDER_LABELS.get,
            key="date_order",
        )
        mark = right.radio(
            "Numbers like 40.125 or 1,200",
            list(uploading.DECIMAL_MARK_LABELS),
            format_func=uploading.DECIMAL_MARK_LABELS.get,
            key="decimal_mark",
        )
        new_pilot = None
        if whole == uploading.NEW_PILOT:
            pid, pname, pdate = st.columns(3)
            whole = pid.text_input("New pilot id", max_chars=40, key="new_pilot_id").strip()
            pilot_name = pname.text_input("Its name", max_chars=80, key="new_pilot_name")
            go_live = pdate.date_input("Its go-live", value=None, key="new_pilot_go_live")
            new_pilot = (go_live, pilot_name)
            yours = sorted(store.scope.companies)
            if len(yours) > 1:  # a company user with several: the new pilot names one
                new_pilot += (st.selectbox("Its company", yours, key="new_pilot_company"),)
        draft, errors = uploading.options_from(
            edited, whole, order, sheets, new_pilot, labels, decimal_mark=mark
        )
        for error in errors:
            st.warning(md(error))
        sample = store.preview(payload, draft)
        if sample.preview is not None:
            st.caption("The first rows as this mapping reads them")
            st.dataframe(sample.preview, hide_index=True, width="stretch")
        elif sample.problems:
            st.info(f"No preview yet: {md(sample.problems[0])}")
        applied = replace(st.session_state.get("read_options") or ReadOptions(), sheets=sheets)
        pending = uploading.applied_key(payload, draft) != uploading.applied_key(payload, applied)
        if pending and not errors:
            st.caption("Changed since the last check: apply it to check the whole file with it.")
        if st.button("Apply mapping", type="primary", disabled=bool(errors)):
            st.session_state["read_options"] = draft
            st.rerun()
        name = st.text_input("Save this mapping as", key="mapping_save_name", max_chars=60)
        if st.button("Save mapping", disabled=not (name and draft.columns)):
            store.save_mapping(name, dict(draft.columns))
            st.session_state["read_options"] = draft
            st.toast(f"Mapping saved ({len(draft.columns)} columns) and applied.")
            st.rerun()


#: What the kinds table says of an uploaded file that could not be read at all.
NOT_READ = "not read: see its problem below"


def report_tables(report: ValidationReport, names: list[str]) -> None:
    """What the validation found: each uploaded file's kind (`names`, in upload order; a file
    refused before it could be read says so), every problem of every file or the row count,
    a preview."""
    st.subheader("Validation")
    # a new pilot's one-row file first, as read; a workbook read is listed as BOOK.xlsx[SHEET]
    of = {n: [k for k in report.kind if k == n or k.startswith(f"{n}[")] for n in names}
    kinds = {k: v for k, v in report.kind.items() if not any(k in read for read in of.values())}
    for name, read in of.items():
        kinds.update({k: report.kind[k] for k in read} if read else {name: NOT_READ})
    st.dataframe(pd.DataFrame(kinds.items(), columns=["file", "detected as"]), hide_index=True)
    if not report.ok:
        found = report.total_problems
        st.error(f"{counted(found, 'problem')} found; nothing has been written.")
        problems_table(report.problems, "problems")
    else:
        st.success(f"Every file passed validation: {counted(report.rows, 'row')} ready to write.")
    if report.warnings:
        outlier_warnings(report.warnings, report.total_warnings)
    if report.preview is not None:
        st.subheader("Preview")
        st.dataframe(report.preview, hide_index=True, width="stretch")


def problems_table(problems: list[Problem], key: str) -> None:
    """Problems by file, line and column, each message read whole (a static table whose cells
    wrap: a data grid cuts a long message, such as what to do with a workbook's formulas)."""
    table = pd.DataFrame(
        [(p.file, p.line, p.column, p.message) for p in problems],
        columns=["file", "line", "column", "problem"],
    )
    ui.wrapped_table(ui.paged(table, key)[0], numbers={"line": "d"})


def outlier_warnings(warnings, total: int) -> None:
    """What is worth a second look before writing (a column with no value, a value that looks
    like a typo: a decimal slip, a gross outlier), named by line; the rows can still be written."""
    st.warning(
        f"{total:,} thing{' is' if total == 1 else 's are'} worth a second look. The rows can be "
        "written (the data may be true); the analysis sets a decimal slip aside and names it."
    )
    table = pd.DataFrame(
        [(p.file, p.line, p.message.removeprefix("warning, ")) for p in warnings],
        columns=["file", "line", "warning"],
    )
    ui.wrapped_table(ui.paged(table, "warnings")[0], numbers={"line": "d"})


def undo_box(store, history: pd.DataFrame) -> None:
    """Pick an upload (the one just committed first), then confirm by its file, rows, pilots."""
    undoable = history[history["outcome"] == "ok"].sort_values("upload_id", ascending=False)
    names = {int(i): n for i, n in zip(undoable["upload_id"], undoable["file_name"], strict=True)}
    if st.session_state.get("undo_id") not in names:
        st.session_state.pop("undo_id", None)  # undone meanwhile: back to the newest
    undo = st.selectbox(
        "Upload to undo", list(names), format_func=lambda i: f"#{i} {names[i]}", key="undo_id"
    )
    if st.button("Undo this upload…", disabled=not names):
        st.session_state["undo_confirm"] = int(undo)
    confirm = st.session_state.get("undo_confirm")
    if confirm is not None and confirm != undo:  # another upload picked: ask again for it
        st.session_state.pop("undo_confirm")
    elif confirm in names:
        detail = store.upload_detail(confirm)
        st.warning(
            f"Undo {md(detail.description)}? Its rows are removed and any rows it replaced "
            "come back.",
            icon=":material/undo:",
        )
        yes, no = st.columns(2)
        if yes.button(f"Yes, undo upload #{confirm}", type="primary"):
            st.session_state.pop("undo_confirm")
            try:
                store.undo_upload(confirm)
            except StoreError as error:
                st.error(md(error))
            else:
                st.toast(f"Upload #{confirm} undone: {md(detail.file_name)}.")
                st.rerun()
        if no.button("Cancel"):
            st.session_state.pop("undo_confirm")
            st.rerun()
