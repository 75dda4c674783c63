"""The app's door, as AppTest sees it: without `[auth]` the local tool says so; with it, an
unsigned session gets the sign-in button and nothing of the portfolio."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

from pilotproof.signin import LOCAL_TEXT

APP = Path(__file__).resolve().parents[2] / "app.py"

AUTH = {
    "redirect_uri": "http://127.0.0.1:8501/oauth2callback",
    "cookie_secret": "k" * 48,
    "client_id": "pilotproof",
    "client_secret": "secret",
    "server_metadata_url": "http://127.0.0.1:9/.well-known/openid-configuration",
}


def test_without_sign_in_the_local_tool_says_so(empty_db) -> None:
    at = AppTest.from_file(str(APP), default_timeout=120).run()
    assert not at.exception
    assert LOCAL_TEXT in [c.value for c in at.sidebar.caption]
    assert at.title[0].value == "Portfolio"


def test_with_sign_in_configured_nothing_shows_before_it(sample_db) -> None:
    at = AppTest.from_file(str(APP), default_timeout=120)
    at.secrets["auth"] = AUTH
    at.run()
    assert not at.exception
    assert [t.value for t in at.title] == ["pilotproof"]
    assert [b.label for b in at.button] == ["Sign in"]
    shown = " ".join(str(e.value) for e in (*at.markdown, *at.caption, *at.sidebar.caption))
    assert "Local single-user" not in shown and "Northwind" not in shown
    assert not at.metric and not at.dataframe and not at.table
