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
