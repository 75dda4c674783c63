"""The Store: the one object that opens the DuckDB file, and every read and write on it.

One connection per process; each call takes its own `cursor()` so Streamlit's threads can share a
Store. Every statement is parameterised. Every write runs in one transaction and bumps
`data_version`, which caches key on.
"""

from __future__ import annotations

import atexit
import dataclasses
import json
import math
import os
import random
import re
import threading
import time
import weakref
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb

from . import access as _access
from . import ingest as _ingest
from . import money as _money
from . import plans as _plans
from .access import Scope
from .catalog import (
    DIRECTIONS,
    KINDS,
    SCALES,
    can_be_negative_for_unit,
    normalise_metric,
    scale_for_unit,
)
from .errors import (
    DatabaseBusyError,
    IngestError,
    Problem,
    StoreError,
    counted,
    waiting_message,
)
from .outliers import stage_warnings
from .schema import PILOT_FIELDS, migrate
from .schema import READINESS_COLUMNS as READINESS_FIELDS
from .sql import scalar
from .workdirs import clean_stale, workdir
from .writing import (
    NO_COUNTS,
    Batch,
    IngestResult,
    Written,
    batch_totals,
    bump_data_version,
    every_metric_column_read,
    fast_checks_pass,
    max_upload_id,
    new_series_stats,
    pilot_file_counts,
    record_uploads,
    replace_older_rows,
    upsert_pilot_files,
    write_batch,
)

if TYPE_CHECKING:
    import pandas as pd

    from . import results as _results  # imported where used: it imports pandas
    from .scoped import ScopedStore

REPO_ROOT = Path(__file__).resolve().parents[2]

#: Seconds the file stays open after the last call, so that a burst of calls (a page's reads)
#: opens it once while another process (the CLI beside the app) still gets it soon.
LINGER_SECONDS = 0.25
#: Seconds a call waits, by default, for a file another process holds before `DatabaseBusyError`.
WAIT_SECONDS = 30.0


@dataclass(frozen=True)
class UploadDetail:
    """One recorded upload, as an undo confirmation names it."""

    upload_id: int
    file_name: str
    kind: str | None
    rows: int
    outcome: str
    uploaded_at: datetime | None
    pilots: tuple[str, ...]

    @property
    def description(self) -> str:
        """`#12 helpdesk.xlsx[Weekly]: 52 rows for pilot HD-1` (plain text)."""
        shown = ", ".join(self.pilots[:8]) + (" …" if len(self.pilots) > 8 else "")
        noun = "pilot" if len(self.pilots) == 1 else "pilots"
        what = "the pilots file" if self.kind == "pilots" else counted(self.rows, "row")
        return f"#{self.upload_id} {self.file_name}: {what} for {noun} {shown}".rstrip()


def default_db_path() -> Path:
    """`$PILOTPROOF_DB` if set, else `data/pilotproof.duckdb` in the repository."""
    env = os.environ.get("PILOTPROOF_DB")
    return Path(env) if env else REPO_ROOT / "data" / "pilotproof.duckdb"


def _is_lock(exc: duckdb.Error) -> bool:
    """Whether DuckDB refused the file because another process holds its lock."""
    return "lock" in str(exc).lower()


def _explain(exc: duckdb.Error, path: Path | str) -> str:
    text = str(exc)
    if _is_lock(exc):  # never DuckDB's own text: it names the other process's binary and PID
        return f"the database {path} is in use by another process"
    if isinstance(exc, duckdb.IOException):
        return f"cannot open the database {path}: {text.splitlines()[0]}"
    return f"database error on {path}: {text.splitlines()[0]}"


# every open store, so the process closes their files itself when it exits: a connection left to
# the idle closer's timer thread could be closing (a checkpoint, in DuckDB's C++) while the
# interpreter tears its daemon threads down, which aborts the process ("FATAL: exception not
# rethrown") after its work is done
_OPEN: weakref.WeakSet[Store] = weakref.WeakSet()


@atexit.register
def _close_all() -> None:
    for store in list(_OPEN):
        store.close()


class Store:
    """The pilotproof database. Usable as a context manager.

    The file is open only while it is used: a call (or a burst of calls) opens it, and it is
    closed once the store has been idle for `LINGER_SECONDS`. Another process (the CLI beside the
    app) gets the file in between; a process that finds the file held waits for it, up to `wait`
    seconds (calling `on_wait(seconds waited)` as it does), then raises `DatabaseBusyError`.
    """

    def __init__(
        self,
        path: str | Path | None = None,
        wait: float = WAIT_SECONDS,
        on_wait: Callable[[float], None] | None = None,
    ) -> None:
        self.path = Path(path) if path is not None else default_db_path()
        self.wait = float(wait)
        self.on_wait = on_wait
        self._memory = str(self.path) == ":memory:"
        if not self._memory:
            _refuse_foreign_file(self.path)
            self.path.parent.mkdir(parents=True, exist_ok=True)
            clean_stale()  # upload copies a killed commit left behind
        self._pool = threading.Lock()  # guards the connection, its users and the closer
        self._con: duckdb.DuckDBPyConnection | None = None
        self._users = 0
        self._closer: threading.Timer | None = None
        self._write_lock = threading.Lock()
        _OPEN.add(self)
        try:
            with self._lease() as con:
                migrate(con)
        except duckdb.Error as exc:
            raise StoreError(_explain(exc, self.path)) from exc
        except RuntimeError as exc:
            raise StoreError(str(exc)) from exc

    # -- lifecycle ------------------------------------------------------------------------------

    def close(self) -> None:
        """Close the file now (a later call opens it again)."""
        with self._pool:
            if self._closer is not None:
                self._closer.cancel()
                self._closer = None
            if self._con is not None:
                self._con.close()
                self._con = None

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _connect(self, on_wait: Callable[[float], None] | None) -> duckdb.DuckDBPyConnection:
        """Open the file, waiting (with a growing pause) while another process holds it."""
        started = time.monotonic()
        pause = 0.02
        while True:
            try:
                return duckdb.connect(str(self.path))
            except duckdb.Error as exc:
                if not _is_lock(exc):
                    raise StoreError(_explain(exc, self.path)) from exc
            waited = time.monotonic() - started
            if waited >= self.wait:
                raise DatabaseBusyError(self.path, self.wait)
            if on_wait is not None:
                on_wait(waited)
            time.sleep(min(pause * random.uniform(0.5, 1.5), self.wait - waited))
            pause = min(pause * 1.6, 0.5)

    @contextmanager
    def _lease(
        self, on_wait: Callable[[float], None] | None = None
    ) -> Iterator[duckdb.DuckDBPyConnection]:
        """The process's connection, opened if need be; released to the idle closer after."""
        with self._pool:
            if self._closer is not None:
                self._closer.cancel()
                self._closer = None
            if self._con is None:
                self._con = self._connect(on_wait or self.on_wait)
            self._users += 1
            con = self._con
        try:
            yield con
        finally:
            with self._pool:
                self._users -= 1
                if self._users == 0 and not self._memory and self._con is not None:
                    self._closer = threading.Timer(LINGER_SECONDS, self._close_if_idle)
                    self._closer.daemon = True
                    self._closer.start()

    def _close_if_idle(self) -> None:
        with self._pool:
            if self._users == 0 and self._con is not None:
                self._con.close()
                self._con = None
            self._closer = None

    @contextmanager
    def _cursor(
        self, on_wait: Callable[[float], None] | None = None
    ) -> Iterator[duckdb.DuckDBPyConnection]:
        with self._lease(on_wait) as con:
            cur = con.cursor()
            try:
                cur.execute("SET enable_progress_bar = false")  # never draw on a user's terminal
                yield cur
            except duckdb.Error as exc:
                raise StoreError(_explain(exc, self.path)) from exc
            finally:
                cur.close()

    @contextmanager
    def _transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A cursor inside BEGIN ... COMMIT that bumps data_version; rolls back on any error."""
        with self._write_lock, self._cursor() as cur:
            cur.execute("BEGIN TRANSACTION")
            try:
                yield cur
                cur.execute(
                    "UPDATE meta SET value = CAST(CAST(value AS BIGINT) + 1 AS VARCHAR) "
                    "WHERE key = 'data_version'"
                )
                cur.execute("COMMIT")
            except BaseException:
                cur.execute("ROLLBACK")
                raise

    def _df(self, sql: str, params: object = None) -> pd.DataFrame:
        with self._cursor() as cur:
            return cur.execute(sql, params).df()

    def _visible_df(self, scope: Scope | None, sql: str, params: object = None) -> pd.DataFrame:
        """The rows of `sql` (which has a `pilot_id` column) of the pilots `scope` sees."""
        with self._cursor() as cur:
            visible = _access.visible_ids(cur, scope)
            frame = cur.execute(sql, params).df()
        return _access.keep_visible(frame, visible)

    # -- reads ----------------------------------------------------------------------------------

    def data_version(self) -> int:
        with self._cursor() as cur:
            row = cur.execute("SELECT value FROM meta WHERE key = 'data_version'").fetchone()
        return int(row[0]) if row else 0

    def schema_version(self) -> int:
        with self._cursor() as cur:
            return int(scalar(cur, "SELECT value FROM meta WHERE key = 'schema_version'"))

    def observations(
        self, pilot_ids: Iterable[str] | None = None, scope: Scope | None = None
    ) -> pd.DataFrame:
        """Long-form observations: pilot_id, metric, date, group, unit, segment, value, volume
        (of `pilot_ids`, within `scope`)."""
        sql = (
            'SELECT pilot_id, metric, CAST(date AS TIMESTAMP) AS date, "group", unit, segment, '
            "value, volume FROM observations"
        )
        with self._cursor() as cur:
            wanted = _wanted(cur, pilot_ids, scope)
            params: list[object] = []
            if wanted is not None:
                # a semi-join (a hash lookup per row, where list_contains searched the list);
                # the range lets DuckDB skip row groups outside it when the ids are close
                sql += " WHERE pilot_id BETWEEN $2 AND $3 AND pilot_id IN (SELECT unnest($1))"
                params = [wanted, min(wanted, default=""), max(wanted, default="")]
            sql += ' ORDER BY pilot_id, metric, "group", unit, segment, date'
            # through Arrow: the text columns stay Arrow strings end to end (pandas' own `str`
            # dtype), where `.df()` built a Python string per cell first (issue 16: 3-10x
            # slower, and where memory peaked); the frame is the same, column for column
            frame: pd.DataFrame = cur.sql(sql, params=params).to_arrow_table().to_pandas()
        frame["value"] = frame["value"].astype("float64")
        frame["volume"] = frame["volume"].astype("float64")
        return frame

    def observation_fingerprints(
        self, pilot_ids: Iterable[str] | None = None, scope: Scope | None = None
    ) -> pd.DataFrame:
        """Per (pilot, metric) with observations (of `pilot_ids`, within `scope`): `rows` and
        `fingerprint`, a digest of its rows that changes when any row does (see
        `results.fingerprints`); sorted by pilot_id, metric. What result caches key on."""
        from . import results as _results

        with self._cursor() as cur:
            wanted = _wanted(cur, pilot_ids, scope)
            return _results.fingerprints(cur, wanted)

    def cached_results(
        self, keys: Mapping[str, str], engine: str, scope: Scope | None = None
    ) -> dict[str, _results.CachedEffects]:
        """pilot_id -> its stored results, for the pilots of `keys` (pilot_id -> input key)
        whose stored results were computed from that key by `engine`; within `scope`."""
        from . import results as _results

        with self._cursor() as cur:
            visible = _access.visible_ids(cur, scope)
            wanted = {p: k for p, k in keys.items() if visible is None or p in set(visible)}
            return _results.read_cached(cur, wanted, engine)

    def save_results(
        self, entries: Iterable[_results.CachedEffects], scope: Scope | None = None
    ) -> int:
        """Keep analysis results for the next run (of the pilots `scope` sees: a viewer's
        analysis is as good as a partner's, since the key holds every input). Not a data
        change: `data_version` stays. Returns how many pilots' results were stored."""
        from . import results as _results

        items = list(entries)
        if not items:
            return 0
        with self._write_lock, self._cursor() as cur, _results.bounded_memory(cur):
            visible = _access.visible_ids(cur, scope)
            if visible is not None:
                items = [e for e in items if e.pilot_id in set(visible)]
            cur.execute("BEGIN TRANSACTION")
            try:
                written = _results.write_cached(cur, items, _now())
                cur.execute("COMMIT")
            except BaseException:
                cur.execute("ROLLBACK")
                raise
        return written

    def pilots(self, scope: Scope | None = None) -> pd.DataFrame:
        """The pilot registry (the pilots `scope` sees); readiness answers are None when
        unanswered."""
        with self._cursor() as cur:
            visible = _access.visible_ids(cur, scope)
            frame = cur.execute(
                "SELECT "
                + ", ".join(
                    "CAST(go_live AS TIMESTAMP) AS go_live" if f == "go_live" else f
                    for f in PILOT_FIELDS
                )
                + " FROM pilots WHERE $ids IS NULL OR list_contains($ids, pilot_id) "
                "ORDER BY pilot_id",
                {"ids": visible},
            ).df()
        for name in ("monthly_cost", "annual_volume"):
            frame[name] = frame[name].astype("float64")
        for name in PILOT_FIELDS:
            if name in READINESS_FIELDS or name in ("pilot_name", "company", "function", "vendor"):
                column = frame[name].astype(object)
                frame[name] = column.where(column.notna(), None)
        return frame

    def catalog(self) -> pd.DataFrame:
        frame = self._df(
            "SELECT metric, direction, COALESCE(unit, '') AS unit, kind, threshold_pct, "
            "tolerance_pct, builtin, COALESCE(scale, 'relative') AS scale FROM metric_catalog "
            "ORDER BY builtin DESC, metric"
        )
        for name in ("threshold_pct", "tolerance_pct"):
            frame[name] = frame[name].astype("float64")
        frame["builtin"] = frame["builtin"].astype(bool)
        return frame

    def thresholds(self, scope: Scope | None = None) -> pd.DataFrame:
        """Per-pilot threshold and tolerance overrides (of the pilots `scope` sees)."""
        frame = self._visible_df(
            scope,
            "SELECT pilot_id, metric, threshold_pct, tolerance_pct FROM thresholds "
            "ORDER BY pilot_id, metric",
        )
        for name in ("threshold_pct", "tolerance_pct"):
            frame[name] = frame[name].astype("float64")
        return frame

    def events(self, pilot_id: str | None = None, scope: Scope | None = None) -> pd.DataFrame:
        """Timeline events: event_id, pilot_id, date, label (of the pilots `scope` sees)."""
        sql = "SELECT event_id, pilot_id, CAST(date AS TIMESTAMP) AS date, label FROM events"
        params: list[object] = []
        if pilot_id is not None:
            sql += " WHERE pilot_id = ?"
            params = [pilot_id]
        return self._visible_df(scope, sql + " ORDER BY date, event_id", params)

    def uploads(self, scope: Scope | None = None) -> pd.DataFrame:
        """The upload history (the uploads whose every pilot `scope` sees, numbered as `scope`
        knows them: see `access.upload_numbers`)."""
        with self._cursor() as cur:
            numbers = _access.upload_numbers(cur, scope)
            frame = cur.execute(
                "SELECT upload_id, file_name, content_hash, kind, rows, pilots, date_min, "
                'date_max, "user", uploaded_at, outcome, message FROM uploads '
                "ORDER BY upload_id"
            ).df()
        if numbers is not None:  # a company user's own numbering, never the fund's sequence
            frame = frame[frame["upload_id"].isin(numbers)].reset_index(drop=True)
            frame["upload_id"] = frame["upload_id"].map(numbers).astype(frame["upload_id"].dtype)
        return frame

    def mappings(self, scope: Scope | None = None) -> dict[str, dict[str, str]]:
        """The saved column mappings, by name: the fund's, or those of `scope`'s companies."""
        with self._cursor() as cur:
            rows = cur.execute(
                "SELECT name, mapping FROM mappings WHERE owner = ? ORDER BY name",
                [_access.mapping_owner(scope)],
            ).fetchall()
        return {name: json.loads(text) for name, text in rows}

    def pilot_ids_with_go_live(self) -> set[str]:
        with self._cursor() as cur:
            rows = cur.execute("SELECT pilot_id FROM pilots WHERE go_live IS NOT NULL").fetchall()
        return {r[0] for r in rows}

    def count_pilots(self) -> int:
        with self._cursor() as cur:
            return int(scalar(cur, "SELECT count(*) FROM pilots"))

    # -- small writes ---------------------------------------------------------------------------

    def add_event(
        self, pilot_id: str, date: date | datetime | str, label: str, scope: Scope | None = None
    ) -> int:
        """Add an event to a pilot's timeline; returns its id."""
        if scope is not None:
            scope.require_write()
        with self._transaction() as cur:
            _access.require_visible(cur, scope, pilot_id)
            event_id = scalar(cur, "SELECT nextval('event_seq')")
            cur.execute(
                "INSERT INTO events VALUES (?, ?, CAST(? AS DATE), ?)",
                [event_id, pilot_id, _as_date(date), label],
            )
        return int(event_id)

    def delete_event(self, event_id: int, scope: Scope | None = None) -> None:
        """Remove an event (one of a pilot `scope` sees)."""
        if scope is not None:
            scope.require_write()
        with self._transaction() as cur:
            row = cur.execute("SELECT pilot_id FROM events WHERE event_id = ?", [event_id])
            found = row.fetchone()
            visible = _access.visible_ids(cur, scope)
            if found is None or (visible is not None and found[0] not in visible):
                return  # another company's event reads as one that does not exist
            cur.execute("DELETE FROM events WHERE event_id = ?", [event_id])

    def save_readiness(
        self,
        pilot_id: str,
        answers: Mapping[str, str | None],
        scope: Scope | None = None,
        by: str | None = None,
    ) -> None:
        """Save a pilot's readiness answers (None or blank: unanswered), recorded as `by` (the
        signed-in person when `scope` is given) in the audit log."""
        unknown = set(answers) - set(READINESS_FIELDS)
        if unknown:
            raise StoreError(f"not readiness questions: {', '.join(sorted(unknown))}")
        if scope is not None:
            scope.require_write()
        with self._transaction() as cur:
            _access.require_visible(cur, scope, pilot_id)
            _access.audit(
                cur, _who(scope, by), "readiness", pilot_id, ", ".join(sorted(answers)), _now()
            )
            for name, answer in answers.items():
                text = answer.strip() if isinstance(answer, str) else None
                # `name` is one of the fixed READINESS_FIELDS column names checked above. An answer
                # saved here belongs to the pilot, not to an upload: the earlier versions an
                # undo would restore carry it too, so undoing a pilots file keeps it.
                for table in ("pilots", "replaced_pilots"):
                    cur.execute(
                        f"UPDATE {table} SET {name} = ? WHERE pilot_id = ?",
                        [text or None, pilot_id],
                    )

    def set_threshold(
        self,
        metric: str,
        threshold_pct: float | None,
        tolerance_pct: float | None,
        pilot_id: str | None = None,
        scope: Scope | None = None,
        by: str | None = None,
    ) -> None:
        """Set a metric's scaling threshold and guardrail tolerance (in the metric's scale:
        percent, or percentage points for a point-scale metric; finite, not negative; None
        leaves it unset), as the catalog default (a partner's) or for one pilot in `scope`;
        recorded as `by` in the audit log."""
        metric = normalise_metric(metric)
        threshold_pct = _percent("threshold", threshold_pct)
        tolerance_pct = _percent("tolerance", tolerance_pct)
        if scope is not None:
            scope.require_write()
            if pilot_id is None:
                scope.require_partner("change the catalog defaults")
        with self._transaction() as cur:
            if not scalar(cur, "SELECT count(*) FROM metric_catalog WHERE metric = ?", [metric]):
                raise StoreError(f"no metric '{metric}' in the catalog")
            if pilot_id is not None:
                _access.require_visible(cur, scope, pilot_id)
            _access.audit(
                cur, _who(scope, by), "threshold", pilot_id,
                f"{metric}: threshold {threshold_pct}, tolerance {tolerance_pct}", _now(),
            )  # fmt: skip
            if pilot_id is None:
                cur.execute(
                    "UPDATE metric_catalog SET threshold_pct = ?, tolerance_pct = ? "
                    "WHERE metric = ?",
                    [threshold_pct, tolerance_pct, metric],
                )
                return
            cur.execute(
                "DELETE FROM thresholds WHERE pilot_id = ? AND metric = ?", [pilot_id, metric]
            )
            cur.execute(
                "INSERT INTO thresholds VALUES (?, ?, ?, ?)",
                [pilot_id, metric, threshold_pct, tolerance_pct],
            )

    def add_metric(
        self,
        metric: str,
        direction: str,
        unit: str,
        kind: str,
        threshold_pct: float | None,
        tolerance_pct: float | None,
        scale: str | None = None,
        scope: Scope | None = None,
        by: str | None = None,
    ) -> None:
        """Add (or replace) a user's metric. `scale` is `relative` (percent) or `points`
        (percentage points, for a fraction); by default points for a rate unit. The threshold and
        tolerance are in that scale."""
        metric = normalise_metric(metric)
        threshold_pct = _percent("threshold", threshold_pct)
        tolerance_pct = _percent("tolerance", tolerance_pct)
        scale = scale or scale_for_unit(unit)
        if scale not in SCALES:
            raise StoreError(f"scale must be one of {', '.join(SCALES)}")
        if not metric:
            raise StoreError("a metric needs a name")
        if direction not in DIRECTIONS:
            raise StoreError(f"direction must be one of {', '.join(DIRECTIONS)}")
        if kind not in KINDS:
            raise StoreError(f"kind must be one of {', '.join(KINDS)}")
        if scope is not None:
            scope.require_partner("add a metric to the catalog")
        with self._transaction() as cur:
            _access.audit(cur, _who(scope, by), "metric", None, f"{metric} ({kind})", _now())
            builtin = scalar(
                cur, "SELECT count(*) FROM metric_catalog WHERE metric = ? AND builtin", [metric]
            )
            if builtin:
                raise StoreError(f"'{metric}' is built in; change its thresholds instead")
            cur.execute("DELETE FROM metric_catalog WHERE metric = ?", [metric])
            cur.execute(
                "INSERT INTO metric_catalog (metric, direction, unit, kind, threshold_pct, "
                "tolerance_pct, builtin, can_be_negative, scale) "
                "VALUES (?, ?, ?, ?, ?, ?, false, ?, ?)",
                [
                    metric,
                    direction,
                    unit,
                    kind,
                    threshold_pct,
                    tolerance_pct,
                    can_be_negative_for_unit(unit),
                    scale,
                ],
            )

    # -- access: who may sign in, and the audit trail -------------------------------------------

    def scoped(self, scope: Scope) -> ScopedStore:
        """This store as `scope` sees it: every read and write bound to the scope."""
        from .scoped import ScopedStore

        return ScopedStore(self, scope)

    def scope_for(self, email: str, admins: Iterable[str] = ()) -> Scope | None:
        """A signed-in person's scope: a partner when among the configured `admins`, else their
        stored role and companies; None for someone without access."""
        with self._cursor() as cur:
            return _access.scope_for(cur, email, admins)

    def users(self, scope: Scope | None = None) -> pd.DataFrame:
        """Who may sign in: email, role, companies, added_by, added_at (a partner's view)."""
        if scope is not None:
            scope.require_partner("see who has access")
        with self._cursor() as cur:
            return _access.users_frame(cur)

    def set_user(
        self,
        email: str,
        role: str,
        companies: Iterable[str] = (),
        scope: Scope | None = None,
        by: str | None = None,
    ) -> None:
        """Give a person a role (`partner`, `company`, `viewer`) and, but for a partner, the
        companies they see; replaces what they had. A partner's act, in the audit log."""
        if scope is not None:
            scope.require_partner("manage access")
        email, role, names = _access.check_user(email, role, companies)
        who = _who(scope, by)
        with self._transaction() as cur:
            cur.execute("DELETE FROM users WHERE email = ?", [email])
            cur.execute(
                "INSERT INTO users VALUES (?, ?, ?, ?, CAST(? AS TIMESTAMP))",
                [email, role, names, who, _now()],
            )
            detail = f"{email}: {role}" + (f" ({', '.join(names)})" if names else "")
            _access.audit(cur, who, "access", None, detail, _now())

    def remove_user(self, email: str, scope: Scope | None = None, by: str | None = None) -> None:
        """Take a person's access away (a partner's act, in the audit log)."""
        if scope is not None:
            scope.require_partner("manage access")
        email = _access.normalise_email(email)
        with self._transaction() as cur:
            cur.execute("DELETE FROM users WHERE email = ?", [email])
            _access.audit(cur, _who(scope, by), "access", None, f"{email}: removed", _now())

    def audit_log(self, scope: Scope | None = None) -> pd.DataFrame:
        """Changes with their author: changed_at, user, action, pilot_id, detail (of the pilots
        `scope` sees; a partner sees the catalog and access changes too)."""
        with self._cursor() as cur:
            frame = cur.execute(
                'SELECT changed_at, "user", action, pilot_id, detail FROM audit_log '
                "ORDER BY changed_at"
            ).df()
            visible = _access.visible_ids(cur, scope)
        if visible is None:
            return frame
        return frame[frame["pilot_id"].isin(visible)].reset_index(drop=True)

    # -- money: currencies and the user's conversion rates (issue 13) --------------------------

    def pilot_currencies(self, scope: Scope | None = None) -> dict[str, str | None]:
        """pilot_id -> the ISO 4217 code its money is stated in (its own, else its
        company's), None when not known; only the pilots `scope` sees."""
        with self._cursor() as cur:
            found = _money.pilot_currencies(cur)
            visible = _access.visible_ids(cur, scope)
        if visible is None:
            return found
        keep = set(visible)
        return {pilot: code for pilot, code in found.items() if pilot in keep}

    def company_currencies(self, scope: Scope | None = None) -> dict[str, str]:
        """company -> its currency, for the companies that have one (and `scope` sees)."""
        with self._cursor() as cur:
            found = _money.company_currencies(cur)
        if scope is None:
            return found
        return {company: code for company, code in found.items() if scope.sees(company)}

    def set_company_currency(
        self, company: str, currency: str | None, by: str | None = None, scope: Scope | None = None
    ) -> None:
        """Set (or, with None, clear) the currency a company states its costs in; StoreError
        on a code that is not ISO 4217, on a company outside `scope` or a read-only scope,
        nothing written."""
        if scope is not None:
            scope.require_write()
            if not scope.sees(company):
                raise StoreError(f"no company {company!r}")
        with self._transaction() as cur:
            _money.set_company_currency(cur, company, currency, _who(scope, by))

    def rates(self) -> _money.Rates:
        """The reporting currency and the conversion rates the user entered (shared: numbers
        the user typed, no company's data)."""
        with self._cursor() as cur:
            return _money.read_rates(cur)

    def set_rates(
        self,
        reporting: str | None,
        rates: Mapping[str, float | None],
        by: str | None = None,
        scope: Scope | None = None,
    ) -> None:
        """Replace the reporting currency and the rates (1 unit of each currency in the
        reporting currency); StoreError with nothing written on a bad code or rate, or for
        anyone but a partner (the reporting currency is the whole portfolio's)."""
        if scope is not None:
            scope.require_partner("set the reporting currency and its rates")
        with self._transaction() as cur:
            _money.write_rates(cur, reporting, rates, _who(scope, by))

    # -- success plans and the decision log ----------------------------------------------------

    def plans(self, scope: Scope | None = None) -> pd.DataFrame:
        """Every plan version (of the pilots `scope` sees): pilot_id, version, value_metric,
        threshold_pct, guardrails (JSON text), evaluation_days, decision_owner, set_by, set_at,
        recorded_at, reason, upload_id (the number `scope` knows that upload by)."""
        with self._cursor() as cur:
            frame = _access.keep_visible(_plans.plans_frame(cur), _access.visible_ids(cur, scope))
            numbers = _access.upload_numbers(cur, scope)
        if numbers is not None:
            frame["upload_id"] = frame["upload_id"].map(numbers).astype("Int64")
        return frame

    def decisions(self, scope: Scope | None = None) -> pd.DataFrame:
        """The decision log (of the pilots `scope` sees): decision_id, pilot_id, decision,
        recommended, note, decided_by, decided_at, oldest first per pilot."""
        with self._cursor() as cur:
            frame = _plans.decisions_frame(cur)
            return _access.keep_visible(frame, _access.visible_ids(cur, scope))

    def results_seen(self, scope: Scope | None = None) -> pd.DataFrame:
        """pilot_id, first_seen_at: when an analysis first showed post-go-live results."""
        return self._visible_df(
            scope, "SELECT pilot_id, first_seen_at FROM results_seen ORDER BY pilot_id"
        )

    def set_plan(
        self,
        plan: _plans.PlanInput,
        by: str,
        reason: str | None = None,
        at: datetime | None = None,
        scope: Scope | None = None,
    ) -> int | None:
        """Record a new version of a pilot's success plan (fields left None keep the current
        version's values); returns the version number, or None when nothing changed. After the
        lock a reason is required. `at` dates the plan back to when it was agreed (default now,
        never in the future). Raises StoreError with nothing written on bad input. Within
        `scope`, by the signed-in person."""
        if scope is not None:
            scope.require_write()
        with self._transaction() as cur:
            _access.require_visible(cur, scope, plan.pilot_id)
            row = _plans.prepare_plan(cur, plan, _who(scope, by), reason, at, _now())
            if row is None:
                return None
            _plans.insert_plan(cur, row)
            return int(row[1])

    def record_sample_plans_as_set(self, pilot_ids: Iterable[str]) -> None:
        """For the demo seed only (`seed_sample`): mark the plans of `pilot_ids` as recorded
        when they were set. The sample replays a history in which each plan was entered when
        it was agreed; seeded today, every plan would read 'recorded today (dated earlier)',
        as if typed in after the results. Never called on anything a user uploaded."""
        ids = list(pilot_ids)
        if not ids:
            return
        with self._transaction() as cur:
            cur.execute(
                "UPDATE plans SET recorded_at = set_at WHERE list_contains(?, pilot_id)", [ids]
            )

    def log_decision(
        self,
        pilot_id: str,
        decision: str,
        note: str | None,
        by: str,
        recommended: str | None = None,
        at: datetime | None = None,
        scope: Scope | None = None,
    ) -> int:
        """Add the decision actually taken (scale / fix / extend / stop) to the log, beside the
        decision pilotproof recommended; returns its id. Within `scope`, by the signed-in
        person."""
        if scope is not None:
            scope.require_write()
        with self._transaction() as cur:
            _access.require_visible(cur, scope, pilot_id)
            row = _plans.prepare_decision(
                cur, pilot_id, decision, note, _who(scope, by), recommended, at, _now()
            )
            decision_id = int(
                scalar(cur, "SELECT coalesce(max(decision_id), 0) + 1 FROM decisions")
            )
            cur.execute("INSERT INTO decisions VALUES (?, ?, ?, ?, ?, ?, ?)", [decision_id, *row])
        return decision_id

    def mark_results_seen(self, pilot_ids: Iterable[str], scope: Scope | None = None) -> None:
        """Record that an analysis showed these pilots' post-go-live results (the first time
        only), of the pilots `scope` sees: a viewer's look counts, as results seen are seen.
        Not a data change: `data_version` stays, so caches keep their analysis."""
        ids = sorted({str(p) for p in pilot_ids})
        if not ids:
            return
        with self._write_lock, self._cursor() as cur:
            visible = _access.visible_ids(cur, scope)
            if visible is not None:
                ids = sorted(set(ids) & set(visible))
                if not ids:
                    return
            cur.execute("BEGIN TRANSACTION")
            try:
                cur.execute(
                    "INSERT INTO results_seen SELECT DISTINCT p.pilot_id, CAST(? AS TIMESTAMP) "
                    "FROM pilots p WHERE list_contains(?, p.pilot_id) AND p.pilot_id NOT IN "
                    "(SELECT pilot_id FROM results_seen)",
                    [_now().to_pydatetime(), ids],
                )
                cur.execute("COMMIT")
            except BaseException:
                cur.execute("ROLLBACK")
                raise

    def save_mapping(
        self, name: str, mapping: Mapping[str, str], scope: Scope | None = None
    ) -> None:
        """Save a column mapping by name (replacing one of the same name), the fund's or, for
        a company user, their companies' own."""
        if scope is not None:
            scope.require_write()
        owner = _access.mapping_owner(scope)
        with self._transaction() as cur:
            cur.execute("DELETE FROM mappings WHERE name = ? AND owner = ?", [name, owner])
            cur.execute(
                "INSERT INTO mappings (name, mapping, owner) VALUES (?, ?, ?)",
                [name, json.dumps(dict(mapping)), owner],
            )

    # -- ingest ---------------------------------------------------------------------------------

    def validate(
        self,
        files: Iterable[_ingest.FileInput],
        mapping: Mapping[str, str] | _ingest.ReadOptions | None = None,
        scope: Scope | None = None,
    ) -> _ingest.ValidationReport:
        """Check files against this store (its catalog, and the pilots `scope` sees: another
        company's pilot reads as unknown) without writing anything.

        A pilots file's currencies and success plans are checked where they are written (a plan
        against the stored one and its lock), so for a file set holding a pilots file that
        passes every other check, the write itself runs and is rolled back: what the commit
        would refuse is refused here, by line, before the Upload page says it passed."""
        files = list(files)
        with self._cursor() as cur:
            report = _ingest.validate_with(
                cur, files, mapping, self._go_live_in(cur, scope), refuse=_refusal(scope)
            )
        if not report.ok or "pilots" not in report.kind.values():
            return report
        if scope is not None and not scope.can_write:
            return report
        try:
            self._write_files(files, None, mapping, None, scope, commit=False)
        except IngestError as refused:
            return dataclasses.replace(
                report, problems=refused.problems, total_problems=refused.total
            )
        return report

    def preview(
        self,
        files: Iterable[_ingest.FileInput],
        mapping: Mapping[str, str] | _ingest.ReadOptions | None = None,
        rows: int = 10,
        scope: Scope | None = None,
    ) -> _ingest.ValidationReport:
        """`validate` on the first `rows` lines of each upload given as bytes: how the rows
        read under a draft mapping, fast enough to redraw on every edit."""
        with self._cursor() as cur:
            go_live = self._go_live_in(cur, scope)
            return _ingest.validate_with(
                cur, files, mapping, go_live, first_rows=rows, refuse=_refusal(scope)
            )

    def _go_live_in(self, cur: duckdb.DuckDBPyConnection, scope: Scope | None) -> set[str]:
        visible = _access.visible_ids(cur, scope)
        known = self.pilot_ids_with_go_live()
        return known if visible is None else known & set(visible)

    def ingest(
        self,
        files: Iterable[_ingest.FileInput],
        user: str | None = None,
        mapping: Mapping[str, str] | _ingest.ReadOptions | None = None,
        progress: _ingest.Progress | None = None,
        scope: Scope | None = None,
    ) -> IngestResult:
        """Validate every file, then write them all in one transaction, or raise IngestError
        (nothing written). A file whose content was already ingested is a recorded no-op.
        `mapping` is a column mapping, or `ReadOptions` (columns, the whole file's pilot, the
        date order, metrics to add, workbook sheets). Within `scope`: by the signed-in person,
        and refused (nothing written) when a file touches a pilot of another company."""
        return self._write_files(files, user, mapping, progress, scope, commit=True)

    def _write_files(
        self,
        files: Iterable[_ingest.FileInput],
        user: str | None,
        mapping: Mapping[str, str] | _ingest.ReadOptions | None,
        progress: _ingest.Progress | None,
        scope: Scope | None,
        commit: bool,
    ) -> IngestResult:
        """`ingest`; with `commit=False` every check and write runs and is rolled back."""
        report = progress or (lambda fraction, message: None)
        if scope is not None:
            scope.require_write()
            user = scope.user
        mapping = _ingest.as_options(mapping)
        files = mapping.with_new_pilot(files)
        with workdir() as tmp:
            sources, refused = _ingest.open_sources(files, tmp, mapping.sheets)
            if refused:  # refused with every problem of the other files too, as validated
                with self._cursor() as cur:
                    go_live = self._go_live_in(cur, scope)
                    found = _ingest.validate_with(cur, files, mapping, go_live, refuse=None)
                raise IngestError(found.problems, found.total_problems)
            if not sources:
                raise IngestError([_ingest.Problem("-", 1, "-", "no files given")])
            report(0.1, "reading files")
            waiting = lambda seconds: report(0.1, waiting_message(seconds))  # noqa: E731
            with self._write_lock, self._cursor(waiting) as cur:
                sniffed = [_ingest.sniff(s, mapping, whole_file=False) for s in sources]
                layouts = [lay for lay in sniffed if isinstance(lay, _ingest.Layout)]
                result = None
                # a company user's pilots file goes the careful way: its rows are checked
                # against their companies before anything is written
                careful = (
                    scope is not None
                    and not scope.everything
                    and "pilots" in {lay.kind for lay in layouts}
                )
                # a file with something to say about how it was read (a report's title or
                # footer skipped) goes the careful way, whose warnings say it
                careful = careful or any(s.notes for s in sources) or not commit
                if len(layouts) == len(sources) and _ingest.fast_eligible(layouts) and not careful:
                    report(0.2, "loading")
                    result = self._fast_ingest(cur, sources, layouts, user, scope)
                if result is None:
                    report(0.3, "checking")
                    done = self._already_ingested(cur, [s.content_hash for s in sources], scope)
                    fresh = [s for s in sources if s.content_hash not in done]
                    result = self._careful_ingest(
                        cur, sources, fresh, mapping, done, user, scope, commit
                    )
                report(1.0, "done")
                return result

    def _careful_ingest(
        self,
        cur: duckdb.DuckDBPyConnection,
        sources: list[_ingest.Source],
        fresh: list[_ingest.Source],
        mapping: _ingest.ReadOptions,
        done: dict[str, int],
        user: str | None,
        scope: Scope | None = None,
        commit: bool = True,
    ) -> IngestResult:
        """Stage every row with its record number, check it all, then write: names every
        problem by line. Handles what the fast path leaves to it (exact duplicates, new metrics
        with a direction column, and every refusal). `commit=False` rolls the write back."""
        layouts: list[_ingest.Layout] = []
        new_metrics: dict[str, str] = {}
        if fresh:
            # the pilots `scope` sees: another company's pilot reads as one that does not exist
            found = _ingest.prepare(
                cur, fresh, mapping, _ingest.read_catalog(cur), self._go_live_in(cur, scope)
            )
            if found.total:
                raise IngestError(found.problems, found.total)
            layouts, new_metrics = found.layouts, found.new_metrics
            refused = _access.pilots_file_problems(cur, scope, fresh, layouts)
            if refused:
                raise IngestError(refused)
        if new_metrics and scope is not None:
            # a new metric enters the catalog every company shares: a partner's act, as
            # `add_metric` is (an upload must not be a way around it)
            scope.require_partner(f"add a metric ({', '.join(sorted(new_metrics))})")
        warnings, n_warnings = stage_warnings(cur, fresh, layouts) if fresh else ([], 0)
        plans, currencies = _file_extras(fresh, layouts, scope)
        cur.execute("BEGIN TRANSACTION")
        try:
            result = write_batch(cur, Batch(sources, fresh, layouts, done, user), new_metrics)
            result = _numbered_noops(cur, scope, result, done)
            refused = _plans.write_file_plans(cur, plans, user)
            if refused:
                raise IngestError(refused)
            _money.write_file_currencies(cur, currencies, user)
            if n_warnings:  # after the exact duplicates the write named
                result = dataclasses.replace(
                    result,
                    warnings=(*result.warnings, *warnings),
                    total_warnings=result.total_warnings + n_warnings,
                )
            if result.upload_ids:
                result = _scoped_result(cur, scope, result, min(result.upload_ids))
            bump_data_version(cur)
            cur.execute("COMMIT" if commit else "ROLLBACK")
        except BaseException:
            cur.execute("ROLLBACK")
            raise
        finally:
            cur.execute("DROP TABLE IF EXISTS stage_obs")
            cur.execute("DROP TABLE IF EXISTS stage_pilots")
        return result

    def _fast_ingest(
        self,
        cur: duckdb.DuckDBPyConnection,
        sources: list[_ingest.Source],
        layouts: list[_ingest.Layout],
        user: str | None,
        scope: Scope | None = None,
    ) -> IngestResult | None:
        """The optimistic path for clean, new files: insert straight from the files inside one
        transaction, check the inserted rows with a few set-based queries, and commit. On any
        doubt, roll back and return None: the careful path then names each problem by line.
        Whether a file was ingested before is known only once its hash (computed meanwhile)
        is; a re-upload is rolled back here and recorded as a no-op by the careful path."""
        fresh = sources  # a file ingested before makes this path roll back
        cur.execute(_ingest.STAGE_OBS_DDL)
        cur.execute(_ingest.STAGE_PILOTS_DDL)
        for file_no, (source, layout) in enumerate(zip(fresh, layouts, strict=True)):
            if layout.kind == "pilots":
                try:
                    _ingest.stage_pilots(cur, source, layout, file_no)
                except duckdb.Error:
                    return None
        if _ingest.pilot_row_checks(cur, layouts, []):
            return None
        go_live = self._go_live_in(cur, scope) | {
            r[0]
            for r in cur.execute(
                "SELECT pilot_id FROM stage_pilots WHERE go_live IS NOT NULL"
            ).fetchall()
        }
        catalog = _ingest.read_catalog(cur)
        try:
            plans, currencies = _file_extras(fresh, layouts, scope)
        except IngestError:
            return None  # the careful path names each bad cell
        cur.execute("BEGIN TRANSACTION")
        try:
            base = max_upload_id(cur)
            ids_by_file = {file_no: base + 1 + file_no for file_no in range(len(fresh))}
            first = min(ids_by_file.values())
            for file_no, (source, layout) in enumerate(zip(fresh, layouts, strict=True)):
                if layout.kind == "pilots":
                    continue
                _ingest.insert_fast(cur, source, layout, ids_by_file[file_no])
            binary = any(s.first_nul() >= 0 for s in sources)
            if binary or self._already_ingested(cur, [s.content_hash for s in sources]):
                cur.execute("ROLLBACK")
                return None
            series_stats = new_series_stats(cur, first)
            if not (
                fast_checks_pass(cur, first, series_stats, catalog, go_live)
                and every_metric_column_read(layouts, ids_by_file, series_stats)
            ):
                cur.execute("ROLLBACK")
                return None
            replaced = replace_older_rows(cur, first, series_stats)
            pilots_upserted = upsert_pilot_files(cur, layouts, ids_by_file)
            totals, by_upload = batch_totals(series_stats)
            per_file = {f: by_upload.get(u, NO_COUNTS) for f, u in ids_by_file.items()}
            per_file.update(pilot_file_counts(cur))
            written = Written(ids_by_file, per_file, totals, replaced, pilots_upserted)
            result = record_uploads(cur, Batch(sources, fresh, layouts, {}, user), written)
            if _plans.write_file_plans(cur, plans, user):
                cur.execute("ROLLBACK")
                return None
            _money.write_file_currencies(cur, currencies, user)
            result = _scoped_result(cur, scope, result, first)
            bump_data_version(cur)
            cur.execute("COMMIT")
            return result
        except duckdb.Error:
            # a cast that failed, a missing value or date, a ragged row: let the careful
            # path find and name it
            cur.execute("ROLLBACK")
            return None
        except BaseException:
            cur.execute("ROLLBACK")
            raise
        finally:
            cur.execute(f"RESET {_ingest.UNORDERED}")  # if the insert failed before resetting it
            cur.execute("DROP TABLE IF EXISTS stage_obs")
            cur.execute("DROP TABLE IF EXISTS stage_pilots")

    @staticmethod
    def _already_ingested(
        cur: duckdb.DuckDBPyConnection, hashes: list[str], scope: Scope | None = None
    ) -> dict[str, int]:
        """Content hash -> the upload that holds it, among the uploads `scope` sees: another
        company's identical file is not a re-upload."""
        visible = _access.visible_uploads(cur, scope)
        rows = cur.execute(
            "SELECT content_hash, max(upload_id) FROM uploads WHERE outcome = 'ok' "
            "AND list_contains($hashes, content_hash) "
            "AND ($ids IS NULL OR list_contains($ids, upload_id)) GROUP BY content_hash",
            {"hashes": hashes, "ids": None if visible is None else sorted(visible)},
        ).fetchall()
        return dict(rows)

    def upload_detail(self, upload_id: int, scope: Scope | None = None) -> UploadDetail:
        """What undoing an upload would remove: its file, rows and the pilots it touched (an
        upload `scope` does not see is "no upload"; `upload_id` is the number `scope` knows it
        by)."""
        number = upload_id
        with self._cursor() as cur:
            upload_id = _access.stored_upload_id(cur, scope, number)
            row = cur.execute(
                "SELECT file_name, kind, rows, outcome, uploaded_at FROM uploads "
                "WHERE upload_id = ?",
                [upload_id],
            ).fetchone()
            if row is None:
                raise StoreError(f"no upload {upload_id}")
            table = "pilots" if row[1] == "pilots" else "observations"
            # `table` is one of two fixed names
            pilots = cur.execute(
                f"SELECT DISTINCT pilot_id FROM {table} WHERE upload_id = ? ORDER BY 1",
                [upload_id],
            ).fetchall()
        return UploadDetail(
            upload_id=number,
            file_name=row[0],
            kind=row[1],
            rows=int(row[2] or 0),
            outcome=row[3],
            uploaded_at=row[4],
            pilots=tuple(p[0] for p in pilots),
        )

    def undo_upload(
        self, upload_id: int, scope: Scope | None = None, by: str | None = None
    ) -> None:
        """Remove an upload's rows and restore the rows it replaced. An upload whose rows a later
        upload corrected is undone after that one (newest first), so no period ever holds two
        versions. Only an upload `scope` sees (by the number `scope` knows it by); recorded as
        `by` in the audit log."""
        if scope is not None:
            scope.require_write()
        number = upload_id
        with self._transaction() as cur:
            upload_id = _access.stored_upload_id(cur, scope, number)
            _access.audit(cur, _who(scope, by), "undo", None, f"upload {upload_id}", _now())
            row = cur.execute(
                "SELECT outcome, file_name FROM uploads WHERE upload_id = ?", [upload_id]
            ).fetchone()
            if row is None:
                raise StoreError(f"no upload {number}")
            if row[0] != "ok":
                raise StoreError(f"upload {number} ({row[1]}) is {row[0]}: nothing to undo")
            later = cur.execute(
                "SELECT replaced_by FROM replaced_observations WHERE upload_id = $id UNION "
                "SELECT replaced_by FROM replaced_pilots WHERE upload_id = $id ORDER BY 1",
                {"id": upload_id},
            ).fetchall()
            if later:
                numbers = _access.upload_numbers(cur, scope)
                shown = [r[0] if numbers is None else numbers.get(r[0]) for r in later]
                if None in shown:  # a partner's upload that touched other companies too
                    raise StoreError(
                        f"upload {number} ({row[1]}) was corrected later by a partner's "
                        "upload: ask a partner to undo that first"
                    )
                ids = ", ".join(str(n) for n in shown)
                raise StoreError(
                    f"upload {number} ({row[1]}) was corrected later by upload {ids}: "
                    "undo that first"
                )
            # the upload's rows out, the rows it replaced back (fixed table names, no input)
            for table in ("observations", "pilots"):
                cur.execute(f"DELETE FROM {table} WHERE upload_id = ?", [upload_id])
                cur.execute(
                    f"INSERT INTO {table} BY NAME SELECT * EXCLUDE (replaced_by) "
                    f"FROM replaced_{table} WHERE replaced_by = ?",
                    [upload_id],
                )
                cur.execute(f"DELETE FROM replaced_{table} WHERE replaced_by = ?", [upload_id])
            cur.execute("DELETE FROM plans WHERE upload_id = ?", [upload_id])
            cur.execute("DELETE FROM currencies WHERE upload_id = ?", [upload_id])
            cur.execute("UPDATE uploads SET outcome = 'undone' WHERE upload_id = ?", [upload_id])


def _wanted(
    cur: duckdb.DuckDBPyConnection, pilot_ids: Iterable[str] | None, scope: Scope | None
) -> list[str] | None:
    """The pilot ids a read is cut to: `pilot_ids` within `scope`'s; None for every pilot."""
    visible = _access.visible_ids(cur, scope)
    wanted = None if pilot_ids is None else [str(p) for p in pilot_ids]
    if visible is not None:
        wanted = visible if wanted is None else [p for p in wanted if p in set(visible)]
    return wanted


def _refusal(
    scope: Scope | None,
) -> Callable[
    [duckdb.DuckDBPyConnection, list[_ingest.Source], list[_ingest.Layout]], list[Problem]
]:
    """The check a validation runs for `scope` on files that pass every other: its pilots
    files' rows it may not write."""
    return lambda cur, sources, layouts: _access.pilots_file_problems(cur, scope, sources, layouts)


def _numbered_noops(
    cur: duckdb.DuckDBPyConnection,
    scope: Scope | None,
    result: IngestResult,
    done: dict[str, int],
) -> IngestResult:
    """The summary's re-uploads ("already ingested as upload 12") named by the numbers `scope`
    knows (the audit trail keeps the stored ones)."""
    numbers = _access.upload_numbers(cur, scope)
    if numbers is None or not done:
        return result
    summary = result.summary
    for stored in set(done.values()):
        said = f"already ingested as upload {stored}:"
        summary = summary.replace(said, f"already ingested as upload {numbers[stored]}:")
    return dataclasses.replace(result, summary=summary)


def _scoped_result(
    cur: duckdb.DuckDBPyConnection, scope: Scope | None, result: IngestResult, first: int
) -> IngestResult:
    """Inside an ingest's transaction, after the write: record the pilots each upload touched,
    give a one-company user's new pilots their company, refuse (IngestError) anything outside
    `scope`, and say the result in `scope`'s words (its upload numbers, the company given)."""
    _access.record_touched(cur, first)
    assigned = _access.assign_new_pilots(cur, scope, first)
    _access.refuse_out_of_scope_upload(cur, scope, first)
    numbers = _access.upload_numbers(cur, scope)
    if numbers is None:
        return result
    ids = tuple(numbers[u] for u in result.upload_ids)
    # the summary ends "(upload 12, 13)", the stored ids (writing.record_uploads)
    summary = re.sub(r"\(upload [\d, ]+\)$", f"(upload {', '.join(map(str, ids))})", result.summary)
    if assigned:
        company, pilots = assigned
        shown = ", ".join(pilots[:8]) + (" …" if len(pilots) > 8 else "")
        noun = "pilot" if len(pilots) == 1 else "pilots"
        summary += f"; new {noun} {shown} added to {company}"
    return dataclasses.replace(result, upload_ids=ids, summary=summary)


def _file_extras(
    sources: list[_ingest.Source], layouts: list[_ingest.Layout], scope: Scope | None = None
) -> tuple[list[_plans.FilePlan], list[_money.FileCurrency]]:
    """The success plans in the pilots files' `plan_*` columns and the currencies in their
    `currency` column; IngestError naming every bad cell by line. A signed-in person's plans
    are set by them, whatever the `plan_set_by` column says (it named anyone, a partner too)."""
    plans: list[_plans.FilePlan] = []
    currencies: list[_money.FileCurrency] = []
    problems: list[Problem] = []
    for source, layout in zip(sources, layouts, strict=True):
        found, bad = _plans.read_file_plans(source, layout)
        coded, wrong = _money.read_file_currencies(source, layout)
        plans += found
        currencies += coded
        problems += sorted(bad + wrong, key=lambda p: p.line)
    if problems:
        raise IngestError(problems)
    if scope is not None and scope.signed_in:
        plans = [dataclasses.replace(plan, by=None) for plan in plans]
    return plans, currencies


#: A DuckDB database file carries these bytes at offset 8.
_DUCKDB_MAGIC = b"DUCK"


def _refuse_foreign_file(path: Path) -> None:
    """Refuse a path that holds something other than a DuckDB database. DuckDB's connect()
    would open a `.csv` (or `.parquet`, ...) path as an in-memory view of that data file: an
    ingest would then report success and save nothing."""
    try:
        with path.open("rb") as handle:
            head = handle.read(16)
    except FileNotFoundError:
        return
    except IsADirectoryError:
        raise StoreError(f"the database path {path} is a directory, not a file") from None
    except OSError as exc:
        raise StoreError(f"cannot open the database {path}: {exc.strerror}") from None
    if head[8:12] != _DUCKDB_MAGIC:  # an empty .csv is opened as an empty view, too
        raise StoreError(
            f"{path} is not a valid DuckDB database file ("
            + ("it is empty" if not head else "it holds something else, perhaps a CSV")
            + "): give --db a new or existing .duckdb path; nothing was written"
        )


def _percent(what: str, value: float | None) -> float | None:
    """A threshold or tolerance as stored: None, or a finite number (percent, or percentage
    points for a point-scale metric) that is not negative."""
    if value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise StoreError(f"the {what} must be a number (percent), not {value!r}") from None
    if not math.isfinite(number) or number < 0:
        raise StoreError(f"the {what} must be a finite percent, 0 or more, not {value!r}")
    return number


def _who(scope: Scope | None, by: str | None) -> str:
    """Who a change is recorded as: the signed-in person; else the name given; else the OS
    user."""
    if scope is not None and (scope.signed_in or not by):
        return scope.user
    return by or _plans.default_user()


def _now() -> pd.Timestamp:
    """Now, to the second, as a naive timestamp (the store's clock for who-and-when)."""
    import pandas as pd

    return pd.Timestamp.now().floor("s")


def _as_date(value: date | datetime | str) -> str:
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value)
