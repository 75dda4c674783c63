"""Signed in, as AppTest sees it: a viewer's pages offer no widget that writes and say once that
the role is read-only; an email the identity provider has not verified is matched to no role."""

from __future__ import annotations

import pytest
from pagetools import ROOT, store_for, texts
from streamlit.testing.v1 import AppTest
from test_signin_pages import AUTH

from pilotproof.signin import UNVERIFIED_TEXT, email_unverified, scope_of
from pilotproof.store.access import Scope
from pilotproof.ui import READ_ONLY_TEXT

VIEWER = "vic@cobalt.test"
LEADER = "lee@cobalt.test"
#: Pages with forms for a company user: each must show a viewer none of them.
WRITING_PAGES = (
    "pages/upload.py", "pages/readiness.py", "pages/plans.py", "pages/settings.py",
    "pages/explorer.py",
)  # fmt: skip


def _signed_in(email: str, page: str, **claims) -> AppTest:
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    app.secrets["auth"] = AUTH
    app.user = {"is_logged_in": True, "email": email, **claims}
    app.run()
    if page != "pages/portfolio.py":
        app.switch_page(page).run()
    assert not app.exception, [e.value for e in app.exception]
    return app


def _writing_widgets(app: AppTest) -> list[str]:
    found = [f"button {b.label}" for b in app.button if b.label != "Sign out"]
    found += [f"editor {d.key}" for d in app.data_editor]
    for kind in ("text_input", "number_input", "date_input", "radio", "file_uploader", "text_area"):
        found += [f"{kind} {w.label}" for w in app.get(kind)]
    return found


@pytest.fixture
def cobalt(sample_db):
    store = store_for(sample_db)
    store.set_user(VIEWER, "viewer", ["Cobalt Cloud"], by="setup")
    store.set_user(LEADER, "company", ["Cobalt Cloud"], by="setup")
    return store


@pytest.mark.parametrize("page", WRITING_PAGES)
def test_a_viewer_sees_no_widget_that_writes(cobalt, page: str) -> None:
    app = _signed_in(VIEWER, page)
    assert _writing_widgets(app) == [], page
    assert texts(app).count(READ_ONLY_TEXT) == 1
    assert "Northwind" not in texts(app)


def test_a_company_user_still_gets_the_forms(cobalt) -> None:
    # the same page for a company user: the forms a viewer does not get are there
    app = _signed_in(LEADER, "pages/plans.py")
    assert {"button Save plan", "button Log decision"} <= set(_writing_widgets(app))
    assert READ_ONLY_TEXT not in texts(app)


def test_an_unverified_email_is_matched_to_no_role(cobalt) -> None:
    app = _signed_in(LEADER, "pages/portfolio.py", email_verified=False)
    assert UNVERIFIED_TEXT.format(who=LEADER) in texts(app)
    assert [t.value for t in app.title] == ["pilotproof"]  # the door, nothing of the fund
    assert "Cobalt" not in texts(app).replace(LEADER, "") and not app.metric


@pytest.mark.parametrize(
    ("claims", "role"),
    [
        ({"email": LEADER}, "company"),  # no claim (Microsoft Entra sends none): trusted
        ({"email": LEADER, "email_verified": True}, "company"),
        ({"email": LEADER, "email_verified": False}, None),
        ({"email": LEADER, "email_verified": "false"}, None),  # some providers send text
        ({"email": "boss@fund.test", "email_verified": False}, None),  # an admin's address too
    ],
)
def test_the_role_is_matched_by_a_verified_email_only(cobalt, claims: dict, role) -> None:
    found = scope_of(cobalt, claims, {"boss@fund.test"})
    assert (found.role if isinstance(found, Scope) else None) == role
    assert email_unverified(claims) == (role is None)


def test_a_user_of_two_companies_names_the_new_pilots_company(cobalt, sample_db) -> None:
    from datetime import date

    from test_upload_page import ONE_PILOT

    from pilotproof.store import IGNORE
    from pilotproof.uploading import NEW_PILOT

    cobalt.set_user("two@fund.test", "company", ["Cobalt Cloud", "Northwind Supply"], by="t")
    app = _signed_in("two@fund.test", "pages/upload.py")
    app.file_uploader[0].set_value(("helpdesk.csv", ONE_PILOT, "text/csv")).run()
    headers = list(app.data_editor[0].value["column in file"])
    targets = {"Ticket Week": "date", "Avg Handle Time (min)": "response_time"}
    targets["Reopen Rate"] = IGNORE
    app.session_state["mapping_editor"] = {
        "edited_rows": {headers.index(h): {"pilotproof column": t} for h, t in targets.items()},
        "added_rows": [],
        "deleted_rows": [],
    }
    app.selectbox(key="whole_pilot").set_value(NEW_PILOT).run()
    assert app.selectbox(key="new_pilot_company").options == ["Cobalt Cloud", "Northwind Supply"]
    app.selectbox(key="new_pilot_company").set_value("Northwind Supply")
    app.text_input(key="new_pilot_id").set_value("HD-2")
    app.date_input(key="new_pilot_go_live").set_value(date(2025, 6, 30)).run()
    next(b for b in app.button if b.label == "Apply mapping").click().run()
    next(b for b in app.button if b.label == "Commit upload").click().run()
    assert not app.exception and not app.error, [e.value for e in app.error]
    assert cobalt.pilots().set_index("pilot_id").loc["HD-2", "company"] == "Northwind Supply"
