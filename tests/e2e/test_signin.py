"""Sign-in end to end: a real `streamlit run` configured for OpenID Connect against a provider
that runs on this machine (`oidc-provider-mock`), and a browser signing in as two people: a
company leader, who must not reach another company's pilot by URL, by export or by undo, and the
partner named in the configuration, who sees the whole fund and manages access."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from appserver import free_port, start_app, stop_app
from test_browser import export_file, wait_idle

from pilotproof.store import Store, seed_sample

pytestmark = pytest.mark.e2e
oidc = pytest.importorskip("oidc_provider_mock")

PARTNER = "partner@fund.test"
LEADER = "leader@cobalt.test"
COBALT = {"CB-ASSIST": "Support reply assistant", "CB-CHAT": "In-app chat deflection bot",
          "CB-SALES": "Outbound email personalisation"}  # fmt: skip
OTHER_ID, OTHER_NAME = "NW-AP", "Invoice capture and 3-way match"
IMPOSTOR = "impostor"


@pytest.fixture
def signed_app(tmp_path: Path) -> Iterator[tuple[str, str]]:
    """The app with sign-in configured against the local provider; the database holds the
    sample portfolio and the company leader's access (Cobalt Cloud)."""
    db = tmp_path / "auth.duckdb"
    with Store(db) as store:
        seed_sample(store)
        store.set_user(LEADER, "company", ["Cobalt Cloud"], by="setup")
    users = [
        oidc.User(sub=PARTNER, claims={"email": PARTNER, "name": "Pat Partner"}),
        oidc.User(sub=LEADER, claims={"email": LEADER, "name": "Lee Leader"}),
        # someone whose provider lets them type the partner's address without proving it
        oidc.User(sub=IMPOSTOR, claims={"email": PARTNER, "email_verified": False}),
    ]
    with oidc.run_server_in_thread(user_claims=users) as provider:
        port = free_port()
        secrets = tmp_path / "secrets.toml"
        secrets.write_text(
            "[auth]\n"
            f'redirect_uri = "http://127.0.0.1:{port}/oauth2callback"\n'
            f'cookie_secret = "{"k" * 48}"\n'
            'client_id = "pilotproof"\n'
            'client_secret = "pilotproof-secret"\n'
            "server_metadata_url = "
            f'"http://127.0.0.1:{provider.server_port}/.well-known/openid-configuration"\n'
            "[pilotproof]\n"
            f'admins = ["{PARTNER}"]\n'
        )
        process, url = start_app(
            db, tmp_path / "streamlit.log", ["--secrets.files", str(secrets)], port=port
        )
        try:
            yield url, f"http://127.0.0.1:{provider.server_port}"
        finally:
            stop_app(process)


def sign_in(page, url: str, who: str) -> None:
    page.goto(url)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("button", name=who, exact=True).click()  # the provider's one-click user
    page.get_by_text(f"Signed in as {who}").wait_for(timeout=120_000)
    wait_idle(page)


def main_text(page) -> str:
    return page.locator("[data-testid='stApp']").inner_text()


def quiet_provider_styles(page, provider: str) -> None:
    """The mock provider's own pages link a stylesheet on a CDN: abort it without counting it
    (it is the test provider's page, not pilotproof's); any other outside request still fails
    the test through conftest's guard."""

    def route(route) -> None:
        frame = route.request.frame
        if frame is not None and frame.url.startswith(provider):
            route.abort()
        else:
            route.fallback()

    page.context.route("https://cdn.jsdelivr.net/**", route)


def test_two_people_sign_in_and_each_sees_their_scope(signed_app, page, tmp_path) -> None:
    url, provider = signed_app
    quiet_provider_styles(page, provider)
    page.goto(url)
    page.get_by_role("button", name="Sign in").wait_for(timeout=60_000)
    wait_idle(page)
    before = main_text(page)
    assert "Portfolio" not in before and OTHER_NAME not in before and "Cobalt" not in before
    assert page.locator("[data-testid='stSidebarNav']").count() == 0  # no pages before sign-in

    # the company leader: Cobalt Cloud's three pilots, nothing else
    sign_in(page, url, LEADER)
    page.get_by_text("Experimenting, expanding, coordinating").wait_for(timeout=120_000)
    wait_idle(page)
    # the decision lists count Cobalt Cloud's three pilots, and only them
    counts = re.findall(r"(?:Scale|Fix|Extend|Stop) · (\d+)", main_text(page))
    assert counts and sum(int(n) for n in counts) == 3, counts
    assert OTHER_NAME not in main_text(page)

    page.goto(f"{url}/explorer?pilot={OTHER_ID}")  # by URL
    page.get_by_role("heading", name="Mirage checks", exact=True).wait_for(timeout=120_000)
    wait_idle(page)
    text = main_text(page)
    assert OTHER_NAME not in text and OTHER_ID not in text
    assert any(name in text for name in COBALT.values())

    # by export: the whole portfolio is the leader's portfolio
    html = Path(export_file(page, url, "HTML").path()).read_text(encoding="utf-8")
    assert all(name in html for name in COBALT.values())
    assert OTHER_NAME not in html and "Northwind" not in html and "Harborline" not in html

    page.goto(f"{url}/upload")  # by undo: no other company's upload is offered
    page.get_by_role("heading", name="Upload history").wait_for()
    wait_idle(page)
    page.get_by_text("No uploads yet.").wait_for()
    assert "pilots.csv" not in main_text(page)

    page.goto(f"{url}/settings")  # no access management for a company user
    page.get_by_role("heading", name="Settings", exact=True).wait_for()
    wait_idle(page)
    assert page.get_by_role("heading", name="Access").count() == 0
    page.get_by_role("button", name="Sign out").click()
    # Streamlit drops its cookie, then sends the browser to the provider's end-session page
    page.wait_for_url(f"{provider}/**", timeout=60_000)
    page.goto(url)  # signed out: the sign-in page alone again
    page.get_by_role("button", name="Sign in").wait_for(timeout=60_000)
    assert OTHER_NAME not in main_text(page) and "Cobalt" not in main_text(page)

    # the partner from the configuration: the whole fund, and access management
    sign_in(page, url, PARTNER)
    page.get_by_text("Experimenting, expanding, coordinating").wait_for(timeout=120_000)
    wait_idle(page)
    counts = re.findall(r"(?:Scale|Fix|Extend|Stop) · (\d+)", main_text(page))
    assert sum(int(n) for n in counts) == 14, counts  # every pilot of the fund
    page.goto(f"{url}/explorer?pilot={OTHER_ID}")
    page.get_by_text(OTHER_NAME).first.wait_for(timeout=120_000)
    page.goto(f"{url}/settings")
    page.get_by_role("heading", name="Access").wait_for(timeout=60_000)
    page.get_by_text(LEADER, exact=True).wait_for(timeout=60_000)  # in the access list


def test_an_unverified_email_gets_no_role(signed_app, page) -> None:
    # the provider says email_verified: false for the partner's address: no partner, no access
    url, provider = signed_app
    quiet_provider_styles(page, provider)
    page.goto(url)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("button", name=IMPOSTOR, exact=True).click()
    page.get_by_text("your email is not verified with your identity provider").wait_for(
        timeout=120_000
    )
    wait_idle(page)
    text = main_text(page)
    assert PARTNER in text  # who they are signed in as
    assert OTHER_NAME not in text and "Cobalt" not in text and "Portfolio" not in text
    assert page.locator("[data-testid='stSidebarNav']").count() == 0
    page.goto(f"{url}/explorer?pilot={OTHER_ID}")  # no page behind the door either
    page.get_by_text("your email is not verified").wait_for(timeout=60_000)
    assert OTHER_NAME not in main_text(page)
