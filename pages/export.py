import streamlit as st

from pilotproof import export, ui
from pilotproof.views import md

ui.through_the_router()

st.title("Export")
st.caption("The proof-of-value summary, for one pilot or a selection, ready to send.")
pilots = ui.pilots()
if pilots.empty:
    ui.empty_state()
labels = ui.labels()
chosen = st.multiselect(
    "Pilots (leave empty for the whole portfolio)", list(labels), format_func=labels.get
)
fmt = st.radio("Format", export.FORMATS, horizontal=True, format_func=str.upper)
included = chosen or list(labels)
pages = None  # every pilot gets its own pages
if fmt in ("pdf", "pptx") and len(included) > export.BOARD_PACK_FROM:
    whole = st.radio(
        "Pilot pages",
        [False, True],
        format_func={False: "Board pack: the summary plus the pilots picked below",
                     True: f"A page for every pilot ({len(included):,})"}.get,
        help="The summary, the decisions and the comparison always cover every pilot.",
    )  # fmt: skip
    if not whole:
        pages = st.multiselect(
            "Pilots shown in full (none: the summary only)", included, format_func=labels.get
        )
if st.button("Build the summary", type="primary"):
    bar = st.progress(0.0, text="Building…")
    problems: list[str] = []
    try:
        data = export.build(
            ui.results(),
            ui.store(),
            fmt,
            chosen or None,
            progress=ui.progress_callback(bar),
            problems=problems,
            pages=pages,
        )
    except export.ExportError as error:
        st.error(md(error))
    else:
        st.session_state["export_file"] = (fmt, data)
    for problem in problems:  # the file is written with a note where each one would be
        st.warning(md(problem), icon=":material/warning:")
built = st.session_state.get("export_file")
if built is not None:
    built_fmt, data = built
    st.download_button(
        f"Download {built_fmt.upper()} ({len(data) / 1024:.0f} KB)",
        data=data,
        file_name=f"pilotproof-proof-of-value.{built_fmt}",
        mime=export.MEDIA_TYPES.get(built_fmt, "application/octet-stream"),
        icon=":material/download:",
        on_click="ignore",
    )
