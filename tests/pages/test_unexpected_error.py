"""A page that fails unexpectedly: the partner reads what to do and a reference, never the error
itself (which may quote portfolio data) nor links that would carry it off the machine."""

from __future__ import annotations

import re

from streamlit.testing.v1 import AppTest


def _app_whose_page_fails() -> None:
    import streamlit as st

    from pilotproof.ui import run_app

    def failing() -> None:
        st.write("before the failure")
        raise ValueError("boom: Project Falcon's margin is 7.3%")

    run_app([st.Page(failing, title="Failing", default=True)])


def test_an_unexpected_error_shows_a_reference_and_no_details(
    empty_db, caplog, monkeypatch
) -> None:
    monkeypatch.delenv("PILOTPROOF_DEBUG")  # as the app runs for a partner
    app = AppTest.from_function(_app_whose_page_fails, default_timeout=60)
    app.run()
    assert not app.exception  # no Streamlit error box (traceback, "Ask Google" links)
    [error] = app.error
    assert "Something went wrong showing this page" in error.value
    reference = re.search(r"reference ([0-9a-f]{8})", error.value)
    assert reference is not None, error.value
    shown = "\n".join([e.value for e in app.markdown] + [error.value])
    assert "Falcon" not in shown and "boom" not in shown
    # the server's log holds the error and its traceback under the same reference
    [record] = [r for r in caplog.records if r.name == "pilotproof.ui"]
    assert reference.group(1) in record.getMessage()
    assert record.exc_info is not None and "Falcon" in str(record.exc_info[1])


def test_in_debug_mode_the_error_is_streamlits_own(empty_db) -> None:
    # the page tests rely on it: a failing page is an `AppTest.exception`, not a quiet message
    app = AppTest.from_function(_app_whose_page_fails, default_timeout=60)
    app.run()
    assert app.exception and "Falcon" in app.exception[0].value
