"""pilotproof: the only router. Each page is a thin script in pages/."""

from pathlib import Path

import streamlit as st

from pilotproof.ui import run_app

# The tab icon is a file served by the app itself: a Material symbol as page icon makes every
# browser fetch it from an internet font server, and portfolio data must not call out.
ICON = Path(__file__).parent / "assets" / "icon.png"
st.set_page_config(page_title="pilotproof", page_icon=str(ICON), layout="wide")

PAGES = [
    st.Page("pages/portfolio.py", title="Portfolio", icon=":material/dashboard:", default=True),
    st.Page("pages/upload.py", title="Upload", icon=":material/upload:"),
    st.Page("pages/explorer.py", title="Pilot explorer", icon=":material/monitoring:"),
    st.Page("pages/compare.py", title="Compare pilots", icon=":material/compare_arrows:"),
    st.Page("pages/readiness.py", title="Readiness", icon=":material/checklist:"),
    st.Page("pages/plans.py", title="Success plans", icon=":material/flag:"),
    st.Page("pages/settings.py", title="Settings", icon=":material/tune:"),
    st.Page("pages/export.py", title="Export", icon=":material/download:"),
]

run_app(PAGES)
