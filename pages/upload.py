import pandas as pd
import streamlit as st

from pilotproof import ui
from pilotproof.store import IngestError, StoreError
from pilotproof.views import csv_headers, md

LIMIT_MB = int(st.get_option("server.maxUploadSize"))
COLUMNS = ["pilot_id", "date", "metric", "value", "group", "unit", "segment", "volume", "direction"]

st.title("Upload")
st.caption(
    "Drop CSV exports: long metrics (one row per pilot, metric and date), wide metrics (one "
    "column per metric) or a pilots file. Every file is checked before anything is written."
)
store = ui.store()
files = st.file_uploader(
    f"CSV files, up to {LIMIT_MB} MB each", type=["csv"], accept_multiple_files=True, key="files"
)
too_big = [f.name for f in files or [] if f.size > LIMIT_MB * 1024 * 1024]
if too_big:
    st.error(f"Over the {LIMIT_MB} MB limit; split or filter first: {md(', '.join(too_big))}")
files = [f for f in files or [] if f.name not in too_big]

mapping: dict[str, str] = {}
if files:
    payload = [(f.name, f.getvalue()) for f in files]
    with st.expander("Column mapping, for exports whose headers differ (Zendesk, Jira, Excel)"):
        saved = store.mappings()
        choice = st.selectbox("Saved mapping", ["(none)", *saved], key="mapping_name")
        targets = ["", *dict.fromkeys([*COLUMNS, *ui.pilots().columns, *ui.catalog()["metric"]])]
        headers = sorted({h for _, data in payload for h in csv_headers(data)})
        start = pd.DataFrame({"column in file": headers})
        known = saved.get(choice, {})
        start["pilotproof column"] = [known.get(h, "") for h in headers]
        edited = st.data_editor(
            start,
            column_config={"pilotproof column": st.column_config.SelectboxColumn(options=targets)},
            disabled=["column in file"],
            hide_index=True,
            key="mapping_editor",
        )
        mapping = {
            src: dst for src, dst in zip(edited.iloc[:, 0], edited.iloc[:, 1], strict=True) if dst
        }
        name = st.text_input("Save this mapping as", key="mapping_save_name", max_chars=60)
        if st.button("Save mapping", disabled=not (name and mapping)):
            store.save_mapping(name, mapping)
            st.success(f"Mapping saved ({len(mapping)} columns).")

    report = store.validate(payload, mapping or None)
    st.subheader("Validation")
    st.dataframe(
        pd.DataFrame(report.kind.items(), columns=["file", "detected as"]), hide_index=True
    )
    if not report.ok:
        st.error(f"{report.total_problems} problems found; nothing has been written.")
        st.dataframe(
            pd.DataFrame(
                [(p.file, p.line, p.column, p.message) for p in report.problems],
                columns=["file", "line", "column", "problem"],
            ),
            hide_index=True,
            width="stretch",
        )
    else:
        st.success(f"Every file passed validation: {report.rows:,} rows ready to write.")
    if report.preview is not None:
        st.subheader("Preview")
        st.dataframe(report.preview, hide_index=True, width="stretch")

    if st.button("Commit upload", type="primary", disabled=not report.ok):
        bar = st.progress(0.0, text="Writing…")
        try:
            done = store.ingest(
                payload, user="app", mapping=mapping or None, progress=ui.progress_callback(bar)
            )
        except IngestError as error:
            st.error(f"Nothing written: {error.total} problems.")
            st.dataframe(pd.DataFrame({"problem": [str(p) for p in error.problems]}))
        else:
            bar.progress(1.0, text="Done")
            st.success(md(done.summary))

st.subheader("Upload history")
history = ui.uploads()
if history.empty:
    st.info("No uploads yet.")
else:
    st.dataframe(
        history.drop(columns="content_hash"),
        hide_index=True,
        width="stretch",
        column_config={
            "date_min": st.column_config.DateColumn("first date"),
            "date_max": st.column_config.DateColumn("last date"),
            "uploaded_at": st.column_config.DatetimeColumn("uploaded", format="YYYY-MM-DD HH:mm"),
        },
    )
    # undo goes newest first, so the newest upload is the one offered
    undoable = history[history["outcome"] == "ok"].sort_values("upload_id", ascending=False)
    names = dict(zip(undoable["upload_id"], undoable["file_name"], strict=True))
    undo = st.selectbox(
        "Upload to undo", list(names), format_func=lambda i: f"#{i} {names[i]}", key="undo_id"
    )
    if st.button("Undo this upload", disabled=not names):
        try:
            store.undo_upload(int(undo))
        except StoreError as error:
            st.error(md(error))
        else:
            st.toast(f"Upload #{undo} undone.")
            st.rerun()
