from dataclasses import replace

import streamlit as st

from pilotproof import ui, upload_steps, uploading
from pilotproof.store import (
    WORKBOOK_SUFFIXES,
    DatabaseBusyError,
    IngestError,
    ReadOptions,
)
from pilotproof.store.errors import counted
from pilotproof.views import md, upload_history_table

ui.through_the_router()

LIMIT_MB = int(st.get_option("server.maxUploadSize"))
# text as the CLI reads it: Excel's "Unicode text" saves tab-separated .txt, other tools .tsv
TYPES = ["csv", "tsv", "txt", *(s.lstrip(".") for s in WORKBOOK_SUFFIXES)]

st.title("Upload")
st.caption(
    "Drop exports as they come: CSV or tab-separated text, or Excel / OpenDocument workbooks, "
    "with long metrics "
    "(one row per pilot, metric and date), wide metrics (one column per metric) or pilots. "
    "Every file is checked before anything is written."
)
store = ui.store()
writer = ui.can_write()
if writer:  # a viewer gets the history alone
    files = st.file_uploader(
        f"CSV, text or workbook files, up to {LIMIT_MB} MB each",
        type=TYPES,
        accept_multiple_files=True,
    )
    too_big = [f.name for f in files or [] if f.size > LIMIT_MB * 1024 * 1024]
    if too_big:
        st.error(f"Over the {LIMIT_MB} MB limit; split or filter first: {md(', '.join(too_big))}")
    files = [f for f in files or [] if f.name not in too_big]

    if files:
        payload = [(f.name, f.getvalue()) for f in files]
        sheets = upload_steps.sheet_pickers(payload)
        applied = replace(st.session_state.get("read_options") or ReadOptions(), sheets=sheets)
        key = uploading.applied_key(payload, applied) + str(ui.version())
        if st.session_state.get("report_key") != key:  # validate once per upload and mapping
            st.session_state["report"] = store.validate(payload, applied)
            st.session_state["report_key"] = key
        report = st.session_state["report"]

        upload_steps.mapping_box(store, payload, sheets, expanded=not report.ok)
        upload_steps.report_tables(report, [name for name, _ in payload])

        if st.button("Commit upload", type="primary", disabled=not report.ok):
            bar = st.progress(0.0, text="Writing…")
            try:
                done = store.ingest(payload, mapping=applied, progress=ui.progress_callback(bar))
            except DatabaseBusyError:
                st.warning(f"{ui.BUSY_TEXT} Nothing was written: commit again.")
            except IngestError as error:
                st.error(f"Nothing written: {counted(error.total, 'problem')}.")
                upload_steps.problems_table(error.problems, "commit_problems")
            else:
                bar.progress(1.0, text="Done")
                st.success(md(done.summary))
                if done.upload_ids:  # the undo selector offers what was just written
                    st.session_state["undo_id"] = done.upload_ids[-1]
                st.session_state.pop("undo_confirm", None)

st.subheader("Upload history")
history = ui.uploads()
if history.empty:
    st.info("No uploads yet.")
else:
    # a static table whose cells wrap: a long outcome message is read whole, never cut
    ui.wrapped_table(ui.paged(upload_history_table(history), "uploads")[0])
    if writer:
        upload_steps.undo_box(store, history)
