"""Sign-in and the signed-in person's scope, for the app.

With an `[auth]` section in `.streamlit/secrets.toml`, Streamlit's own OpenID Connect sign-in
(`st.login`) guards every page: nothing is drawn before it, and a signed-in person sees what their
role and companies allow (`pilotproof.store.access`). The first partner comes from configuration
(`[pilotproof] admins = ["..."]` in the same file, or `$PILOTPROOF_ADMINS`, comma-separated);
partners add everyone else on the Settings page. Without `[auth]`, pilotproof is the local
single-user tool it always was, bound to 127.0.0.1, and says so.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

import streamlit as st

from pilotproof.store.access import ROLE_LABELS, Scope

LOCAL_TEXT = (
    "Local single-user mode: sign-in is not configured, so pilotproof serves this computer only "
    "(127.0.0.1) and everyone using it sees every company. To share it with a deal team, "
    "configure sign-in (README: Deploy for a team)."
)
UNVERIFIED_TEXT = (
    "You are signed in as {who}, but your email is not verified with your identity provider, "
    "so pilotproof does not match it to anyone's access. Verify the address with your identity "
    "provider (or ask your IT team), then sign in again."
)
NO_ACCESS_TEXT = (
    "You are signed in as {who}, but you have no access to pilotproof yet: ask a partner to add "
    "you on the Settings page."
)


def _auth_section() -> Mapping | None:
    try:
        section = st.secrets.get("auth")
    except Exception:  # no secrets file at all: no sign-in configured
        return None
    return section if isinstance(section, Mapping) else None


def auth_configured() -> bool:
    """Whether sign-in is configured (an `[auth]` section in the secrets)."""
    return _auth_section() is not None


def providers() -> list[str | None]:
    """The identity providers to offer: None for the one in `[auth]` itself, else each
    `[auth.NAME]` section's name."""
    section = _auth_section() or {}
    named = [name for name, value in section.items() if isinstance(value, Mapping)]
    return [None] if "client_id" in section or not named else named


def admins() -> set[str]:
    """The configured partners: `[pilotproof] admins` in the secrets and `$PILOTPROOF_ADMINS`."""
    found = {a for a in os.environ.get("PILOTPROOF_ADMINS", "").split(",") if a.strip()}
    try:
        section = st.secrets.get("pilotproof") or {}
        found |= {str(a) for a in section.get("admins", [])}
    except Exception:
        pass
    return found


def identity(user: Mapping | None = None) -> str:
    """The signed-in person's identity (`user`: the claims, `st.user` by default): the ID
    token's email (or preferred_username, as Microsoft Entra names it), else its subject."""
    user = st.user if user is None else user
    for claim in ("email", "preferred_username", "sub"):
        value = user.get(claim)
        if value:
            return str(value).strip().lower()
    return ""


def email_unverified(user: Mapping) -> bool:
    """Whether the identity provider says the email is not verified (`email_verified` false).
    Such an address may belong to anyone who typed it, so it is matched to no role. A provider
    that sends no `email_verified` (Microsoft Entra) vouches for its addresses itself."""
    value = user.get("email_verified")
    if isinstance(value, str):
        return value.strip().lower() in ("false", "0", "no")
    return value is False


def scope_of(store, user: Mapping, admins: set[str]) -> Scope | None:
    """The scope of a signed-in person from the identity provider's claims (`st.user`): their
    role by email, or None (no access, or an email the provider has not verified)."""
    if email_unverified(user):
        return None
    return store.scope_for(identity(user), admins)


def _logged_in() -> bool:
    return bool(st.user.get("is_logged_in", False))


def _local_user() -> str:
    from pilotproof.store.plans import default_user

    # the name typed on a form (`ui.user_field`), else the OS user: never written into the
    # field, where a server's account ('root') would be recorded as a person
    return str(st.session_state.get("user_name") or default_user())


def current_scope(store) -> Scope | None:
    """The scope of whoever uses this session: the local tool's, or the signed-in person's
    (None: signed in without access, or not signed in). Looked up once per data version."""
    if not auth_configured():
        return Scope.local(_local_user())
    if not _logged_in():
        return None
    key = (identity(), store.data_version())
    cached = st.session_state.get("_scope")
    if cached is not None and cached[0] == key:
        return cached[1]
    found = scope_of(store, st.user, admins())
    st.session_state["_scope"] = (key, found)
    return found


def sign_in_page() -> None:
    """The only page before sign-in: a sign-in button per provider, or, for a person signed in
    without access, what to do about it."""
    st.title("pilotproof")
    if _logged_in():
        who = identity() or "an account without an email"
        text = UNVERIFIED_TEXT if email_unverified(st.user) else NO_ACCESS_TEXT
        st.warning(text.format(who=who))
        st.button("Sign out", on_click=st.logout)
        return
    st.write("Sign in with your firm's account to see the pilots you have access to.")
    for provider in providers():
        label = "Sign in" if provider is None else f"Sign in with {provider.title()}"
        if st.button(label, type="primary", key=f"login_{provider}"):
            st.login(*(() if provider is None else (provider,)))


def gate(store) -> Scope | None:
    """The scope of whoever uses this session, or None until a person with access is signed in
    (the app then shows `sign_in_page` alone). With sign-in configured, the sidebar says who
    is signed in and offers to sign out; without it, that this is the local single-user
    tool."""
    if not auth_configured():
        st.sidebar.caption(LOCAL_TEXT)
        return Scope.local(_local_user())
    scope = current_scope(store)
    if scope is None:
        return None
    role = ROLE_LABELS[scope.role].split(":")[0]
    companies = f" ({', '.join(sorted(scope.companies))})" if scope.companies else ""
    st.sidebar.caption(f"Signed in as {scope.user}: {role}{companies}")
    st.sidebar.button("Sign out", on_click=st.logout, key="logout")
    return scope


def access_box(store, companies: list[str]) -> None:
    """Settings: who may sign in, with which role and companies (a partner's page section)."""
    from pilotproof.store import StoreError
    from pilotproof.store.access import ROLES

    st.subheader("Access")
    st.caption(
        "Who may sign in. Partners see every company and manage this list; a company user sees "
        "and changes only the companies listed; a viewer only reads them. The partners named in "
        "the configuration (admins) always have access."
    )
    users = store.users()
    if users.empty:
        st.caption("Nobody has been added yet.")
    else:
        shown = users.assign(companies=users["companies"].map(lambda c: ", ".join(c)))
        st.table(shown.set_index("email"))
    with st.form("access", clear_on_submit=True):
        left, middle, right = st.columns(3)
        email = left.text_input("Sign-in email")
        role = middle.selectbox("Role", ROLES, format_func=lambda r: ROLE_LABELS[r])
        chosen = right.multiselect("Companies (company and viewer roles)", companies)
        if st.form_submit_button("Give access"):
            try:
                store.set_user(email, role, chosen)
            except StoreError as error:
                st.error(str(error))
            else:
                st.rerun()
    if not users.empty:
        gone = st.selectbox("Remove access", [None, *users["email"]], format_func=str)
        if gone and st.button(f"Remove {gone}"):
            store.remove_user(gone)
            st.rerun()
