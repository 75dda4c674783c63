"""Success plans, their versions, the decision log and when results were first seen.

Every plan write appends a version (never an update): who, when it took effect, when it was
recorded, and why. After the plan's lock (go-live or the first analysis showing post-go-live
results, whichever comes first) a reason is required. Checks run before anything is written;
the caller holds the transaction.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

import duckdb

from .catalog import normalise_metric
from .errors import Problem, StoreError
from .reading import Layout, Source
from .sql import scalar

if TYPE_CHECKING:  # pandas is imported where it is used: ingest starts without it
    import pandas as pd

DECISIONS = ("scale", "fix", "extend", "stop")
TEXT_LIMIT = 500  # characters kept of a reason, a note or a name


@dataclass(frozen=True)
class PlanInput:
    """A plan as a user or a pilots file gives it; None leaves a field as the current version
    has it (a new plan: unset). `guardrails` maps metric -> tolerated deterioration (%)."""

    pilot_id: str
    value_metric: str | None = None
    threshold_pct: float | None = None
    guardrails: dict[str, float] | None = None
    evaluation_days: int | None = None
    decision_owner: str | None = None


def clean_text(value: object, what: str, required: bool = False) -> str | None:
    """Text as stored: stripped, at most TEXT_LIMIT characters; None when empty."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        text = ""
    else:
        text = str(value).strip()
    if required and not text:
        raise StoreError(f"{what} is required")
    if len(text) > TEXT_LIMIT:
        raise StoreError(f"{what} is longer than {TEXT_LIMIT} characters")
    return text or None


def parse_guardrails(text: str) -> dict[str, float]:
    """`rework_rate:5; quality score:2` -> {"rework_rate": 5.0, "quality_score": 2.0}; raises
    StoreError naming the bad part."""
    out: dict[str, float] = {}
    for part in str(text).replace(",", ";").split(";"):
        if not part.strip():
            continue
        name, sep, number = part.rpartition(":")
        if not sep or not name.strip():
            raise StoreError(f"guardrail '{part.strip()[:60]}' must read METRIC:TOLERANCE%")
        out[normalise_metric(name)] = _percent(f"tolerance of {name.strip()[:40]}", number)
    return out


def _percent(what: str, value: object) -> float:
    try:
        number = float(str(value).strip().rstrip("%"))
    except (TypeError, ValueError):
        raise StoreError(
            f"the {what} must be a number (percent), not {str(value)[:60]!r}"
        ) from None
    if not math.isfinite(number) or number < 0 or number > 1000:
        raise StoreError(f"the {what} must be a percent from 0 to 1000, not {str(value)[:60]!r}")
    return number


def _days(value: object) -> int:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise StoreError(
            f"the evaluation window must be whole days, not {str(value)[:60]!r}"
        ) from None
    if not math.isfinite(number) or number != int(number) or not 1 <= number <= 3650:
        raise StoreError("the evaluation window must be whole days from 1 to 3650")
    return int(number)


def lock_at(cur: duckdb.DuckDBPyConnection, pilot_id: str) -> pd.Timestamp | None:
    """Go-live or first results seen, whichever is earlier (None: not locked yet)."""
    import pandas as pd

    row = cur.execute(
        "SELECT least(CAST(p.go_live AS TIMESTAMP), s.first_seen_at), "
        "CAST(p.go_live AS TIMESTAMP), s.first_seen_at FROM pilots p "
        "LEFT JOIN results_seen s USING (pilot_id) WHERE p.pilot_id = ?",
        [pilot_id],
    ).fetchone()
    if row is None:
        raise StoreError(f"no pilot '{pilot_id}'")
    stamps = [s for s in row[1:] if s is not None]
    return pd.Timestamp(min(stamps)) if stamps else None


def current_plan(cur: duckdb.DuckDBPyConnection, pilot_id: str) -> dict[str, Any] | None:
    row = cur.execute(
        "SELECT version, value_metric, threshold_pct, guardrails, evaluation_days, "
        "decision_owner FROM plans WHERE pilot_id = ? ORDER BY version DESC LIMIT 1",
        [pilot_id],
    ).fetchone()
    if row is None:
        return None
    keys = ("version", "value_metric", "threshold_pct", "guardrails", "evaluation_days",
            "decision_owner")  # fmt: skip
    plan = dict(zip(keys, row, strict=True))
    plan["guardrails"] = json.loads(plan["guardrails"] or "{}")
    return plan


def prepare_plan(
    cur: duckdb.DuckDBPyConnection,
    given: PlanInput,
    by: str,
    reason: str | None,
    at: datetime | pd.Timestamp | None,
    now: pd.Timestamp,
) -> list[Any] | None:
    """Check a plan write and return the row to insert, or None when nothing changed.
    Raises StoreError (nothing written) on a bad value, an unknown pilot or metric, a date in
    the future, or a change after the lock without a reason."""
    import pandas as pd

    by_text = clean_text(by, "who sets the plan", required=True)
    reason_text = clean_text(reason, "the reason")
    if not scalar(cur, "SELECT count(*) FROM pilots WHERE pilot_id = ?", [given.pilot_id]):
        raise StoreError(f"no pilot '{given.pilot_id}'")
    known = {r[0] for r in cur.execute("SELECT metric FROM metric_catalog").fetchall()}
    old = current_plan(cur, given.pilot_id) or {
        "version": 0, "value_metric": None, "threshold_pct": None, "guardrails": {},
        "evaluation_days": None, "decision_owner": None,
    }  # fmt: skip
    metric = old["value_metric"]
    if given.value_metric is not None:
        metric = normalise_metric(given.value_metric) or None
    if metric is not None and metric not in known:
        raise StoreError(f"no metric '{metric[:60]}' in the catalog")
    threshold = old["threshold_pct"]
    if given.threshold_pct is not None:
        threshold = _percent("threshold", given.threshold_pct)
    guardrails = dict(old["guardrails"])
    if given.guardrails is not None:
        guardrails = {normalise_metric(m): _percent(f"tolerance of {m[:40]}", t)
                      for m, t in given.guardrails.items()}  # fmt: skip
    unknown = sorted(m for m in guardrails if m not in known)
    if unknown:
        raise StoreError(f"no metric '{unknown[0][:60]}' in the catalog (guardrail)")
    days = old["evaluation_days"]
    if given.evaluation_days is not None:
        days = _days(given.evaluation_days)
    owner = old["decision_owner"]
    if given.decision_owner is not None:
        owner = clean_text(given.decision_owner, "the decision owner")
    new = (metric, threshold, guardrails, days, owner)
    if old["version"] and new == (old["value_metric"], old["threshold_pct"], old["guardrails"],
                                  old["evaluation_days"], old["decision_owner"]):  # fmt: skip
        return None
    when = now if at is None else pd.Timestamp(at)
    if pd.isna(when) or when > now:
        raise StoreError("a plan cannot take effect in the future")
    locked = lock_at(cur, given.pilot_id)
    if locked is not None and when >= locked and not reason_text:
        raise StoreError(
            f"the plan of '{given.pilot_id[:40]}' locked on {locked:%Y-%m-%d} (go-live or the "
            "first results, whichever came first): give a reason for changing it"
        )
    return [
        given.pilot_id, old["version"] + 1, metric, threshold,
        json.dumps(dict(sorted(guardrails.items()))), days, owner, by_text,
        when.to_pydatetime(), now.to_pydatetime(), reason_text,
    ]  # fmt: skip


def insert_plan(
    cur: duckdb.DuckDBPyConnection, row: list[Any], upload_id: int | None = None
) -> None:
    cur.execute(
        "INSERT INTO plans (pilot_id, version, value_metric, threshold_pct, guardrails, "
        "evaluation_days, decision_owner, set_by, set_at, recorded_at, reason, upload_id) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [*row, upload_id],
    )


def prepare_decision(
    cur: duckdb.DuckDBPyConnection,
    pilot_id: str,
    decision: str,
    note: str | None,
    by: str,
    recommended: str | None,
    at: datetime | pd.Timestamp | None,
    now: pd.Timestamp,
) -> list[Any]:
    """Check a decision for the log and return its row (without the id)."""
    import pandas as pd

    if decision not in DECISIONS:
        raise StoreError(f"the decision must be one of {', '.join(DECISIONS)}")
    if recommended is not None and recommended not in DECISIONS:
        raise StoreError(f"the recommendation must be one of {', '.join(DECISIONS)}")
    by_text = clean_text(by, "who decided", required=True)
    note_text = clean_text(note, "the note")
    if not scalar(cur, "SELECT count(*) FROM pilots WHERE pilot_id = ?", [pilot_id]):
        raise StoreError(f"no pilot '{pilot_id}'")
    when = now if at is None else pd.Timestamp(at)
    if pd.isna(when) or when > now:
        raise StoreError("a decision cannot be dated in the future")
    return [pilot_id, decision, recommended, note_text, by_text, when.to_pydatetime()]


def plans_frame(cur: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    return cur.execute(
        "SELECT pilot_id, version, value_metric, threshold_pct, guardrails, evaluation_days, "
        "decision_owner, set_by, set_at, recorded_at, reason, upload_id FROM plans "
        "ORDER BY pilot_id, version"
    ).df()


def decisions_frame(cur: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    return cur.execute(
        "SELECT decision_id, pilot_id, decision, recommended, note, decided_by, decided_at "
        "FROM decisions ORDER BY pilot_id, decided_at, decision_id"
    ).df()


# ---- plans in a pilots file --------------------------------------------------------------

#: The success-plan columns a pilots file may carry (all optional; empty cells keep the
#: current version's values). `plan_set_on` dates the plan back to when it was agreed.
FILE_COLUMNS = (
    "plan_value_metric",
    "plan_threshold_pct",
    "plan_guardrails",
    "plan_evaluation_days",
    "plan_decision_owner",
    "plan_set_by",
    "plan_set_on",
    "plan_change_reason",
)


@dataclass(frozen=True)
class FilePlan:
    """One pilots-file row's plan, with where it came from."""

    file: str
    line: int
    plan: PlanInput
    by: str | None
    reason: str | None
    set_on: pd.Timestamp | None
    content_hash: str


def default_user() -> str:
    """The OS user, as who sets a plan or logs a decision when nobody says (no sign-in yet)."""
    import getpass

    try:
        return getpass.getuser() or "unknown"
    except (KeyError, OSError):  # no passwd entry in a container
        return "unknown"


def pilot_file_rows(
    source: Source, layout: Layout, columns: Sequence[str]
) -> Iterator[tuple[int, dict[str, str]]]:
    """(line, cells) per record of a pilots file: `pilot_id` and each of `columns`, trimmed
    ('' when absent). A workbook sheet arrives as CSV; lines are counted as the file's
    records, from its own first row."""
    import csv

    text = source.path.read_bytes().decode("utf-8-sig", errors="replace")
    reader = csv.reader(text.splitlines(), delimiter=layout.delimiter)
    header = [h.strip() for h in layout.header]
    started = False
    offset = (source.header_row - 1) if source.header_row else 0
    for record in reader:
        if not started:
            started = [h.strip() for h in record] == header
            continue
        cells = {c: _cell(record, layout.index.get(c)) for c in ("pilot_id", *columns)}
        yield reader.line_num + offset, cells


def read_file_plans(source: Source, layout: Layout) -> tuple[list[FilePlan], list[Problem]]:
    """The plans in a pilots file's `plan_*` columns, and a Problem per bad cell (nothing is
    written here). A workbook sheet arrives as CSV; lines are counted as the file's records."""
    wanted = [c for c in FILE_COLUMNS if c in layout.index]
    if layout.kind != "pilots" or not wanted:
        return [], []
    import pandas as pd

    found: list[FilePlan] = []
    problems: list[Problem] = []
    for line, cells in pilot_file_rows(source, layout, wanted):
        if not any(cells[c] for c in wanted) or not cells["pilot_id"]:
            continue
        try:
            threshold = cells.get("plan_threshold_pct") or None
            if threshold and layout.decimal_comma:
                threshold = threshold.replace(",", ".")
            guardrails = cells.get("plan_guardrails") or None
            days = cells.get("plan_evaluation_days") or None
            set_on = cells.get("plan_set_on") or None
            plan = PlanInput(
                pilot_id=cells["pilot_id"],
                value_metric=cells.get("plan_value_metric") or None,
                threshold_pct=None if threshold is None else _percent("threshold", threshold),
                guardrails=None if guardrails is None else parse_guardrails(guardrails),
                evaluation_days=None if days is None else _days(days),
                decision_owner=cells.get("plan_decision_owner") or None,
            )
            when = None
            if set_on is not None:
                try:
                    when = pd.Timestamp(datetime.strptime(set_on, "%Y-%m-%d"))
                except ValueError:
                    raise StoreError(
                        f"plan_set_on must read YYYY-MM-DD, not {set_on[:60]!r}"
                    ) from None
        except StoreError as exc:
            problems.append(Problem(source.name, line, "plan", str(exc)))
            continue
        found.append(
            FilePlan(
                source.name, line, plan, cells.get("plan_set_by") or None,
                cells.get("plan_change_reason") or None, when, source.content_hash,
            )
        )  # fmt: skip
    return found, problems


def write_file_plans(
    cur: duckdb.DuckDBPyConnection, plans: list[FilePlan], user: str | None
) -> list[Problem]:
    """Write the file plans in file order inside the caller's transaction; returns a Problem
    per plan the store refuses (the caller then rolls everything back)."""
    if not plans:
        return []
    import pandas as pd

    problems: list[Problem] = []
    now = pd.Timestamp.now().floor("s")
    for item in plans:
        try:
            row = prepare_plan(
                cur, item.plan, item.by or user or default_user(), item.reason, item.set_on, now
            )
        except StoreError as exc:
            problems.append(Problem(item.file, item.line, "plan", str(exc)))
            continue
        if row is None:
            continue
        upload = scalar(
            cur, "SELECT max(upload_id) FROM uploads WHERE content_hash = ?", [item.content_hash]
        )
        insert_plan(cur, row, upload)
    return problems


def _cell(record: list[str], at: int | None) -> str:
    if at is None or at < 0 or at >= len(record):
        return ""
    return record[at].strip()
