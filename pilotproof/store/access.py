"""Who sees what: a signed-in person's role and companies, as a `Scope` every reading and writing
function of the store takes.

- `partner`: every company, reads and writes, manages access on the Settings page.
- `company`: the pilots of the companies listed for them only; reads and writes on those.
- `viewer`: the pilots of the companies listed for them only, read-only.

A pilot with no company is a partner's only. `Scope.local()` is the single-user tool without
sign-in (and the CLI): everything, recorded under the name the person gives.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from .checks import Finding, to_problems
from .errors import IngestError, Problem, StoreError, clip
from .schema import TOUCHED

if TYPE_CHECKING:
    import duckdb
    import pandas as pd

Role = Literal["partner", "company", "viewer"]
ROLES: tuple[Role, ...] = ("partner", "company", "viewer")
ROLE_LABELS: dict[Role, str] = {
    "partner": "Partner: every company",
    "company": "Company: its own companies, can change them",
    "viewer": "Viewer: its own companies, read-only",
}


def normalise_email(email: str) -> str:
    """An identity as stored and compared: trimmed, lower-cased."""
    return str(email).strip().lower()


@dataclass(frozen=True)
class Scope:
    """One person's access: who (`user`, recorded with every change), their role and, for a
    company user or viewer, the companies they see. `signed_in` is False for the local tool,
    whose `user` is the name typed in."""

    user: str
    role: Role = "partner"
    companies: frozenset[str] = field(default_factory=frozenset)
    signed_in: bool = False

    @classmethod
    def local(cls, user: str) -> Scope:
        """The local single-user tool (no sign-in configured): everything."""
        return cls(user=user, role="partner")

    @property
    def everything(self) -> bool:
        """Whether this scope sees every company (a partner)."""
        return self.role == "partner"

    @property
    def can_write(self) -> bool:
        """Whether this scope may change data (not a viewer)."""
        return self.role != "viewer"

    def sees(self, company: str | None) -> bool:
        """Whether a pilot of `company` (None: no company) is in this scope."""
        return self.everything or (company is not None and company in self.companies)

    def require_write(self) -> None:
        """StoreError unless this scope may change data."""
        if not self.can_write:
            raise StoreError("read-only access (viewer): ask a partner for a company role")

    def require_partner(self, what: str) -> None:
        """StoreError unless this scope is a partner's."""
        if not self.everything:
            raise StoreError(f"only a partner can {what}")


def check_user(email: str, role: str, companies: Iterable[str]) -> tuple[str, Role, list[str]]:
    """A user record as stored, or StoreError naming what is wrong."""
    email = normalise_email(email)
    if not email or len(email) > 254 or any(c.isspace() or ord(c) < 32 for c in email):
        raise StoreError("give the person's sign-in email (no spaces)")
    if role not in ROLES:
        raise StoreError(f"role must be one of {', '.join(ROLES)}")
    names = sorted({str(c).strip() for c in companies if str(c).strip()})
    if role != "partner" and not names:
        raise StoreError(f"a {role} user needs at least one company")
    return email, role, names if role != "partner" else []  # type: ignore[return-value]


# -- SQL: what a scope sees, users, and the audit trail (cursor-level; the Store calls these) --


def visible_ids(cur: duckdb.DuckDBPyConnection, scope: Scope | None) -> list[str] | None:
    """The pilot ids `scope` sees, or None when it sees every pilot."""
    if scope is None or scope.everything:
        return None
    rows = cur.execute(
        "SELECT pilot_id FROM pilots WHERE list_contains(?, company) ORDER BY pilot_id",
        [sorted(scope.companies)],
    ).fetchall()
    return [r[0] for r in rows]


def require_visible(cur: duckdb.DuckDBPyConnection, scope: Scope | None, pilot_id: str) -> None:
    """StoreError "no pilot" for a pilot that does not exist or is out of scope (the same words
    for both, so a company user learns nothing about another company's ids)."""
    ids = visible_ids(cur, scope)
    exists = cur.execute("SELECT count(*) FROM pilots WHERE pilot_id = ?", [pilot_id]).fetchone()
    if not exists[0] or (ids is not None and pilot_id not in ids):
        raise StoreError(f"no pilot '{pilot_id}'")


def record_touched(cur: duckdb.DuckDBPyConnection, first_upload: int) -> None:
    """Inside an ingest's transaction: remember which pilots the uploads numbered from
    `first_upload` touched, so an upload stays in its company's history once undone."""
    cur.execute(
        f"INSERT INTO upload_pilots SELECT DISTINCT upload_id, pilot_id FROM ({TOUCHED}) "
        "WHERE upload_id >= ?",
        [first_upload],
    )


def visible_uploads(cur: duckdb.DuckDBPyConnection, scope: Scope | None) -> set[int] | None:
    """The uploads `scope` sees: those whose every pilot it sees, undone ones included (an
    upload that touched no pilot, a no-op, is a partner's only); None when it sees everything."""
    ids = visible_ids(cur, scope)
    if ids is None:
        return None
    rows = cur.execute(
        f"SELECT upload_id FROM ({TOUCHED} UNION SELECT upload_id, pilot_id FROM upload_pilots) "
        "WHERE upload_id IS NOT NULL GROUP BY upload_id "
        "HAVING bool_and(list_contains($ids, pilot_id))",
        {"ids": ids},
    ).fetchall()
    return {int(r[0]) for r in rows}


def upload_numbers(cur: duckdb.DuckDBPyConnection, scope: Scope | None) -> dict[int, int] | None:
    """Stored upload id -> the number `scope` knows it by: its uploads counted 1, 2, 3 in
    order, so a company user never sees the fund-wide sequence (how busy the fund is). None
    when `scope` sees everything (the stored ids are its numbers)."""
    visible = visible_uploads(cur, scope)
    if visible is None:
        return None
    return {upload_id: n for n, upload_id in enumerate(sorted(visible), start=1)}


def stored_upload_id(cur: duckdb.DuckDBPyConnection, scope: Scope | None, number: int) -> int:
    """The stored id of the upload `scope` knows as `number`; StoreError "no upload" for any
    other number (another company's upload reads as one that does not exist)."""
    numbers = upload_numbers(cur, scope)
    if numbers is None:
        return int(number)
    for upload_id, n in numbers.items():
        if n == number:
            return upload_id
    raise StoreError(f"no upload {number}")


def pilots_file_problems(
    cur: duckdb.DuckDBPyConnection, scope: Scope | None, sources: list, layouts: list
) -> list[Problem]:
    """Before a company user's ingest writes: the staged pilots-file rows (`stage_pilots`) they
    may not write, by file, line and column. A new pilot needs one of their companies (a user
    with one company gets it filled in); an existing pilot must be theirs and stay theirs."""
    if scope is None or scope.everything:
        return []
    yours = ", ".join(clip(c, 40) for c in sorted(scope.companies))
    rows = cur.execute(
        "SELECT s.file_no, s.rn, s.pilot_id, s.company, p.pilot_id IS NOT NULL, p.company "
        "FROM stage_pilots s LEFT JOIN pilots p USING (pilot_id) ORDER BY s.file_no, s.rn"
    ).fetchall()
    findings: list[Finding] = []
    for file_no, rn, pilot_id, company, known, stored in rows:
        layout = layouts[file_no]
        column = "company" in layout.index
        if known and not scope.sees(stored):
            # pilot ids are the fund's one key: that this one is taken is all that is said
            message = f"pilot id '{clip(pilot_id)}' is taken: give your new pilot another id"
            findings.append(Finding(file_no, rn, layout.shown("pilot_id"), message))
        elif company is not None and company not in scope.companies:
            message = f"company '{clip(company)}' is not one of yours ({yours})"
            findings.append(Finding(file_no, rn, layout.shown("company"), message))
        elif company is None and column and known:
            message = f"the company is empty: name one of yours ({yours})"
            findings.append(Finding(file_no, rn, layout.shown("company"), message))
        elif company is None and not known and len(scope.companies) > 1:
            where = "" if column else ": add a company column"
            message = f"new pilot '{clip(pilot_id)}' needs its company, one of yours ({yours})"
            message += where
            findings.append(Finding(file_no, rn, layout.shown("company"), message))
    return to_problems(sources, layouts, findings)


def assign_new_pilots(
    cur: duckdb.DuckDBPyConnection, scope: Scope | None, first_upload: int
) -> tuple[str, list[str]] | None:
    """Inside a company user's ingest with one company: the new pilots the uploads numbered from
    `first_upload` wrote without a company go to that company. Returns (company, pilot ids), or
    None when there were none."""
    if scope is None or scope.everything or len(scope.companies) != 1:
        return None
    (company,) = scope.companies
    rows = cur.execute(
        "UPDATE pilots SET company = ? WHERE upload_id >= ? AND company IS NULL RETURNING pilot_id",
        [company, first_upload],
    ).fetchall()
    return (company, sorted(r[0] for r in rows)) if rows else None


def keep_visible(frame: pd.DataFrame, ids: list[str] | None) -> pd.DataFrame:
    """`frame` cut to the rows of pilots in `ids` (all of it when `ids` is None)."""
    if ids is None:
        return frame
    return frame[frame["pilot_id"].isin(ids)].reset_index(drop=True)


def refuse_out_of_scope_upload(
    cur: duckdb.DuckDBPyConnection, scope: Scope | None, first_upload: int
) -> None:
    """Inside an ingest's transaction, before commit: IngestError when the uploads numbered
    from `first_upload` touched a pilot outside `scope`, or moved one out of another company."""
    if scope is None or scope.everything:
        return
    companies = sorted(scope.companies)
    bad = cur.execute(
        "SELECT DISTINCT t.pilot_id FROM ("
        "SELECT pilot_id FROM observations WHERE upload_id >= $first UNION "
        "SELECT pilot_id FROM pilots WHERE upload_id >= $first UNION "
        "SELECT pilot_id FROM plans WHERE upload_id >= $first) t "
        "LEFT JOIN pilots p USING (pilot_id) "
        "WHERE p.company IS NULL OR NOT list_contains($companies, p.company) UNION "
        "SELECT pilot_id FROM replaced_pilots WHERE replaced_by >= $first "
        "AND (company IS NULL OR NOT list_contains($companies, company)) ORDER BY 1",
        {"first": first_upload, "companies": companies},
    ).fetchall()
    if bad:
        shown = ", ".join(clip(r[0], 40) for r in bad[:5]) + (" …" if len(bad) > 5 else "")
        yours = ", ".join(clip(c, 40) for c in companies)
        raise IngestError(
            [Problem("-", 1, "pilot_id", f"not a pilot of your companies ({yours}): {shown}")]
        )


def audit(
    cur: duckdb.DuckDBPyConnection,
    who: str,
    action: str,
    pilot_id: str | None,
    detail: str,
    at: object,
) -> None:
    """Record a change that no record of its own names the author of."""
    cur.execute(
        "INSERT INTO audit_log VALUES (CAST(? AS TIMESTAMP), ?, ?, ?, ?)",
        [at, who, action, pilot_id, detail],
    )


def users_frame(cur: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """email, role, companies (a list), added_by, added_at; by email."""
    return cur.execute(
        "SELECT email, role, companies, added_by, added_at FROM users ORDER BY email"
    ).df()


def scope_for(
    cur: duckdb.DuckDBPyConnection, email: str, admins: Iterable[str] = ()
) -> Scope | None:
    """The scope of a signed-in person: a partner when their email is among the configured
    `admins` (the first admin, before anyone is in the database), else their stored role;
    None for someone the database does not know (no access)."""
    email = normalise_email(email)
    if not email:
        return None
    if email in {normalise_email(a) for a in admins}:
        return Scope(user=email, role="partner", signed_in=True)
    row = cur.execute("SELECT role, companies FROM users WHERE email = ?", [email]).fetchone()
    if row is None or row[0] not in ROLES:
        return None
    return Scope(user=email, role=row[0], companies=frozenset(row[1] or ()), signed_in=True)


def mapping_owner(scope: Scope | None) -> str:
    """Whose saved column mappings `scope` reads and writes: '' the fund's (partners and the
    local tool), else its set of companies (the people of one company share theirs)."""
    if scope is None or scope.everything:
        return ""
    return json.dumps(sorted(scope.companies))
