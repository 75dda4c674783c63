"""The Store: the one object that opens the DuckDB file, and every read and write on it.

One connection per process; each call takes its own `cursor()` so Streamlit's threads can share a
Store. Every statement is parameterised. Every write runs in one transaction and bumps
`data_version`, which caches key on.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import tempfile
import threading
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb

from . import ingest as _ingest
from . import money as _money
from . import plans as _plans
from .catalog import (
    DIRECTIONS,
    KINDS,
    SCALES,
    can_be_negative_for_unit,
    normalise_metric,
    scale_for_unit,
)
from .errors import IngestError, StoreError
from .outliers import has_outliers, stage_warnings
from .schema import PILOT_FIELDS, migrate
from .writing import (
    IngestResult,
    batch_totals,
    bump_data_version,
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

REPO_ROOT = Path(__file__).resolve().parents[2]


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
        what = "the pilots file" if self.kind == "pilots" else f"{self.rows:,} rows"
        return f"#{self.upload_id} {self.file_name}: {what} for {noun} {shown}".rstrip()


READINESS = (
    "workflow",
    "decision_owner",
    "execution_owner",
    "exception_path",
    "escalation_path",
    "control_points",
    "value_metric",
)


def default_db_path() -> Path:
    """`$PILOTPROOF_DB` if set, else `data/pilotproof.duckdb` in the repository."""
    env = os.environ.get("PILOTPROOF_DB")
    return Path(env) if env else REPO_ROOT / "data" / "pilotproof.duckdb"


def _explain(exc: duckdb.Error, path: Path | str) -> str:
    text = str(exc)
    if "lock" in text.lower():
        return (
            f"the database {path} is in use by another process; close it (the app or another "
            "pilotproof command) or use --db to pick another file"
        )
    if isinstance(exc, duckdb.IOException):
        return f"cannot open the database {path}: {text.splitlines()[0]}"
    return f"database error on {path}: {text.splitlines()[0]}"


class Store:
    """The pilotproof database. Usable as a context manager."""

    def __init__(self, path: str | Path | None = None) -> None:
        self.path = Path(path) if path is not None else default_db_path()
        if str(self.path) != ":memory:":
            _refuse_foreign_file(self.path)
            self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._con = duckdb.connect(str(self.path))
            migrate(self._con)
        except duckdb.Error as exc:
            raise StoreError(_explain(exc, self.path)) from exc
        except RuntimeError as exc:
            raise StoreError(str(exc)) from exc
        self._write_lock = threading.Lock()

    # -- lifecycle ------------------------------------------------------------------------------

    def close(self) -> None:
        self._con.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def _cursor(self) -> Iterator[duckdb.DuckDBPyConnection]:
        cur = self._con.cursor()
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

    # -- reads ----------------------------------------------------------------------------------

    def data_version(self) -> int:
        with self._cursor() as cur:
            row = cur.execute("SELECT value FROM meta WHERE key = 'data_version'").fetchone()
        return int(row[0]) if row else 0

    def schema_version(self) -> int:
        with self._cursor() as cur:
            row = cur.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        return int(row[0])

    def observations(self, pilot_ids: Iterable[str] | None = None) -> pd.DataFrame:
        """Long-form observations: pilot_id, metric, date, group, unit, segment, value, volume."""
        sql = (
            'SELECT pilot_id, metric, CAST(date AS TIMESTAMP) AS date, "group", unit, segment, '
            "value, volume FROM observations"
        )
        params: list = []
        if pilot_ids is not None:
            sql += " WHERE list_contains($1, pilot_id)"
            params = [list(pilot_ids)]
        sql += ' ORDER BY pilot_id, metric, "group", unit, segment, date'
        frame = self._df(sql, params)
        frame["value"] = frame["value"].astype("float64")
        frame["volume"] = frame["volume"].astype("float64")
        return frame

    def pilots(self) -> pd.DataFrame:
        """The pilot registry; readiness answers are None when unanswered."""
        frame = self._df(
            "SELECT "
            + ", ".join(
                "CAST(go_live AS TIMESTAMP) AS go_live" if f == "go_live" else f
                for f in PILOT_FIELDS
            )
            + " FROM pilots ORDER BY pilot_id"
        )
        for name in ("monthly_cost", "annual_volume"):
            frame[name] = frame[name].astype("float64")
        for name in PILOT_FIELDS:
            if name in READINESS or name in ("pilot_name", "company", "function", "vendor"):
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

    def thresholds(self) -> pd.DataFrame:
        frame = self._df(
            "SELECT pilot_id, metric, threshold_pct, tolerance_pct FROM thresholds "
            "ORDER BY pilot_id, metric"
        )
        for name in ("threshold_pct", "tolerance_pct"):
            frame[name] = frame[name].astype("float64")
        return frame

    def events(self, pilot_id: str | None = None) -> pd.DataFrame:
        sql = "SELECT event_id, pilot_id, CAST(date AS TIMESTAMP) AS date, label FROM events"
        params: list = []
        if pilot_id is not None:
            sql += " WHERE pilot_id = ?"
            params = [pilot_id]
        return self._df(sql + " ORDER BY date, event_id", params)

    def uploads(self) -> pd.DataFrame:
        return self._df(
            "SELECT upload_id, file_name, content_hash, kind, rows, pilots, date_min, date_max, "
            '"user", uploaded_at, outcome, message FROM uploads ORDER BY upload_id'
        )

    def mappings(self) -> dict[str, dict[str, str]]:
        with self._cursor() as cur:
            rows = cur.execute("SELECT name, mapping FROM mappings ORDER BY name").fetchall()
        return {name: json.loads(text) for name, text in rows}

    def pilot_ids_with_go_live(self) -> set[str]:
        with self._cursor() as cur:
            rows = cur.execute("SELECT pilot_id FROM pilots WHERE go_live IS NOT NULL").fetchall()
        return {r[0] for r in rows}

    def count_pilots(self) -> int:
        with self._cursor() as cur:
            return cur.execute("SELECT count(*) FROM pilots").fetchone()[0]

    # -- small writes ---------------------------------------------------------------------------

    def add_event(self, pilot_id: str, date: date | datetime | str, label: str) -> int:
        with self._transaction() as cur:
            _require_pilot(cur, pilot_id)
            event_id = cur.execute("SELECT nextval('event_seq')").fetchone()[0]
            cur.execute(
                "INSERT INTO events VALUES (?, ?, CAST(? AS DATE), ?)",
                [event_id, pilot_id, _as_date(date), label],
            )
        return int(event_id)

    def delete_event(self, event_id: int) -> None:
        with self._transaction() as cur:
            cur.execute("DELETE FROM events WHERE event_id = ?", [event_id])

    def save_readiness(self, pilot_id: str, answers: Mapping[str, str | None]) -> None:
        unknown = set(answers) - set(READINESS)
        if unknown:
            raise StoreError(f"not readiness questions: {', '.join(sorted(unknown))}")
        with self._transaction() as cur:
            found = cur.execute("SELECT count(*) FROM pilots WHERE pilot_id = ?", [pilot_id])
            if not found.fetchone()[0]:
                raise StoreError(f"no pilot '{pilot_id}'")
            for name, answer in answers.items():
                text = answer.strip() if isinstance(answer, str) else None
                # `name` is one of the fixed READINESS column names checked above. An answer
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
    ) -> None:
        """Set a metric's scaling threshold and guardrail tolerance (in the metric's scale:
        percent, or percentage points for a point-scale metric; finite, not negative; None
        leaves it unset), as the catalog default or for one pilot."""
        metric = normalise_metric(metric)
        threshold_pct = _percent("threshold", threshold_pct)
        tolerance_pct = _percent("tolerance", tolerance_pct)
        with self._transaction() as cur:
            known = cur.execute("SELECT count(*) FROM metric_catalog WHERE metric = ?", [metric])
            if not known.fetchone()[0]:
                raise StoreError(f"no metric '{metric}' in the catalog")
            if pilot_id is not None:
                _require_pilot(cur, pilot_id)
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
        with self._transaction() as cur:
            builtin = cur.execute(
                "SELECT count(*) FROM metric_catalog WHERE metric = ? AND builtin", [metric]
            ).fetchone()[0]
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

    # -- money: currencies and the user's conversion rates (issue 13) --------------------------

    def pilot_currencies(self) -> dict[str, str | None]:
        """pilot_id -> the ISO 4217 code its money is stated in (its own, else its
        company's), None when not known."""
        with self._cursor() as cur:
            return _money.pilot_currencies(cur)

    def company_currencies(self) -> dict[str, str]:
        """company -> its currency, for the companies that have one."""
        with self._cursor() as cur:
            return _money.company_currencies(cur)

    def set_company_currency(self, company: str, currency: str | None, by: str) -> None:
        """Set (or, with None, clear) the currency a company states its costs in; StoreError
        on a code that is not ISO 4217, nothing written."""
        with self._transaction() as cur:
            _money.set_company_currency(cur, company, currency, by)

    def rates(self) -> _money.Rates:
        """The reporting currency and the conversion rates the user entered."""
        with self._cursor() as cur:
            return _money.read_rates(cur)

    def set_rates(self, reporting: str | None, rates: Mapping[str, float | None], by: str) -> None:
        """Replace the reporting currency and the rates (1 unit of each currency in the
        reporting currency); StoreError with nothing written on a bad code or rate."""
        with self._transaction() as cur:
            _money.write_rates(cur, reporting, rates, by)

    # -- success plans and the decision log ----------------------------------------------------

    def plans(self) -> pd.DataFrame:
        """Every plan version: pilot_id, version, value_metric, threshold_pct, guardrails (JSON
        text), evaluation_days, decision_owner, set_by, set_at, recorded_at, reason, upload_id."""
        with self._cursor() as cur:
            return _plans.plans_frame(cur)

    def decisions(self) -> pd.DataFrame:
        """The decision log: decision_id, pilot_id, decision, recommended, note, decided_by,
        decided_at, oldest first per pilot."""
        with self._cursor() as cur:
            return _plans.decisions_frame(cur)

    def results_seen(self) -> pd.DataFrame:
        """pilot_id, first_seen_at: when an analysis first showed post-go-live results."""
        return self._df("SELECT pilot_id, first_seen_at FROM results_seen ORDER BY pilot_id")

    def set_plan(
        self,
        plan: _plans.PlanInput,
        by: str,
        reason: str | None = None,
        at: datetime | None = None,
    ) -> int | None:
        """Record a new version of a pilot's success plan (fields left None keep the current
        version's values); returns the version number, or None when nothing changed. After the
        lock a reason is required. `at` dates the plan back to when it was agreed (default now,
        never in the future). Raises StoreError with nothing written on bad input."""
        with self._transaction() as cur:
            row = _plans.prepare_plan(cur, plan, by, reason, at, _now())
            if row is None:
                return None
            _plans.insert_plan(cur, row)
            return int(row[1])

    def log_decision(
        self,
        pilot_id: str,
        decision: str,
        note: str | None,
        by: str,
        recommended: str | None = None,
        at: datetime | None = None,
    ) -> int:
        """Add the decision actually taken (scale / fix / extend / stop) to the log, beside the
        decision pilotproof recommended; returns its id."""
        with self._transaction() as cur:
            row = _plans.prepare_decision(
                cur, pilot_id, decision, note, by, recommended, at, _now()
            )
            found = cur.execute("SELECT coalesce(max(decision_id), 0) + 1 FROM decisions")
            decision_id = int(found.fetchone()[0])
            cur.execute("INSERT INTO decisions VALUES (?, ?, ?, ?, ?, ?, ?)", [decision_id, *row])
        return decision_id

    def mark_results_seen(self, pilot_ids: Iterable[str]) -> None:
        """Record that an analysis showed these pilots' post-go-live results (the first time
        only). Not a data change: `data_version` stays, so caches keep their analysis."""
        ids = sorted({str(p) for p in pilot_ids})
        if not ids:
            return
        with self._write_lock, self._cursor() as cur:
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

    def save_mapping(self, name: str, mapping: Mapping[str, str]) -> None:
        with self._transaction() as cur:
            cur.execute("DELETE FROM mappings WHERE name = ?", [name])
            cur.execute("INSERT INTO mappings VALUES (?, ?)", [name, json.dumps(dict(mapping))])

    # -- ingest ---------------------------------------------------------------------------------

    def validate(
        self,
        files: Iterable[_ingest.FileInput],
        mapping: Mapping[str, str] | _ingest.ReadOptions | None = None,
    ) -> _ingest.ValidationReport:
        """Check files against this store (its catalog and pilots) without writing anything."""
        with self._cursor() as cur:
            return _ingest.validate_with(cur, files, mapping, self.pilot_ids_with_go_live())

    def preview(
        self,
        files: Iterable[_ingest.FileInput],
        mapping: Mapping[str, str] | _ingest.ReadOptions | None = None,
        rows: int = 10,
    ) -> _ingest.ValidationReport:
        """`validate` on the first `rows` lines of each upload given as bytes: how the rows
        read under a draft mapping, fast enough to redraw on every edit."""
        with self._cursor() as cur:
            return _ingest.validate_with(
                cur, files, mapping, self.pilot_ids_with_go_live(), first_rows=rows
            )

    def ingest(
        self,
        files: Iterable[_ingest.FileInput],
        user: str | None = None,
        mapping: Mapping[str, str] | _ingest.ReadOptions | None = None,
        progress: _ingest.Progress | None = None,
    ) -> IngestResult:
        """Validate every file, then write them all in one transaction, or raise IngestError
        (nothing written). A file whose content was already ingested is a recorded no-op.
        `mapping` is a column mapping, or `ReadOptions` (columns, the whole file's pilot, the
        date order, metrics to add, workbook sheets)."""
        report = progress or (lambda fraction, message: None)
        mapping = _ingest.as_options(mapping)
        files = mapping.with_new_pilot(files)
        with tempfile.TemporaryDirectory(prefix="pilotproof-") as tmp:
            sources = _ingest.read_sources(files, Path(tmp), mapping.sheets)
            if not sources:
                raise IngestError([_ingest.Problem("-", 1, "-", "no files given")])
            report(0.1, "reading files")
            with self._write_lock, self._cursor() as cur:
                sniffed = [_ingest.sniff(s, mapping, whole_file=False) for s in sources]
                layouts = [lay for lay in sniffed if isinstance(lay, _ingest.Layout)]
                result = None
                if len(layouts) == len(sources) and _ingest.fast_eligible(layouts):
                    report(0.2, "loading")
                    result = self._fast_ingest(cur, sources, layouts, user)
                if result is None:
                    report(0.3, "checking")
                    done = self._already_ingested(cur, [s.content_hash for s in sources])
                    fresh = [s for s in sources if s.content_hash not in done]
                    result = self._careful_ingest(cur, sources, fresh, mapping, done, user)
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
    ) -> IngestResult:
        """Stage every row with its record number, check it all, then write: names every
        problem by line. Handles what the fast path leaves to it (exact duplicates, new metrics
        with a direction column, and every refusal)."""
        layouts: list[_ingest.Layout] = []
        new_metrics: dict[str, str] = {}
        if fresh:
            layouts, problems, total, new_metrics = _ingest.prepare(
                cur, fresh, mapping, _ingest.read_catalog(cur), self.pilot_ids_with_go_live()
            )
            if total:
                raise IngestError(problems, total)
        warnings, n_warnings = stage_warnings(cur, fresh, layouts) if fresh else ([], 0)
        plans, currencies = _file_extras(fresh, layouts)
        cur.execute("BEGIN TRANSACTION")
        try:
            result = write_batch(cur, sources, fresh, layouts, done, new_metrics, user)
            refused = _plans.write_file_plans(cur, plans, user)
            if refused:
                raise IngestError(refused)
            _money.write_file_currencies(cur, currencies, user)
            if n_warnings:
                result = dataclasses.replace(
                    result, warnings=tuple(warnings), total_warnings=n_warnings
                )
            bump_data_version(cur)
            cur.execute("COMMIT")
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
    ) -> IngestResult | None:
        """The optimistic path for clean, new files: insert straight from the files inside one
        transaction, check the inserted rows with a few set-based queries, and commit. On any
        doubt, roll back and return None: the careful path then names each problem by line.
        Whether a file was ingested before is known only once its hash (computed meanwhile)
        is; a re-upload is rolled back here and recorded as a no-op by the careful path."""
        fresh, done = sources, {}
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
        go_live = self.pilot_ids_with_go_live() | {
            r[0]
            for r in cur.execute(
                "SELECT pilot_id FROM stage_pilots WHERE go_live IS NOT NULL"
            ).fetchall()
        }
        catalog = _ingest.read_catalog(cur)
        try:
            plans, currencies = _file_extras(fresh, layouts)
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
                cur.execute(*_ingest.fast_insert(source, layout, ids_by_file[file_no]))
            binary = any(s.first_nul() >= 0 for s in sources)
            if binary or self._already_ingested(cur, [s.content_hash for s in sources]):
                cur.execute("ROLLBACK")
                return None
            series_stats = new_series_stats(cur, first)
            if not fast_checks_pass(cur, first, series_stats, catalog, go_live) or has_outliers(
                cur, first
            ):  # a value to warn about is named by line, which only the careful path knows
                cur.execute("ROLLBACK")
                return None
            replaced = replace_older_rows(cur, first)
            pilots_upserted = upsert_pilot_files(cur, layouts, ids_by_file)
            totals, by_upload = batch_totals(series_stats)
            per_file = {f: by_upload.get(u, (0, 0, None, None)) for f, u in ids_by_file.items()}
            per_file.update(pilot_file_counts(cur))
            result = record_uploads(
                cur,
                sources,
                fresh,
                layouts,
                done,
                user,
                ids_by_file,
                per_file,
                totals,
                replaced,
                pilots_upserted,
            )
            if _plans.write_file_plans(cur, plans, user):
                cur.execute("ROLLBACK")
                return None
            _money.write_file_currencies(cur, currencies, user)
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
            cur.execute("DROP TABLE IF EXISTS stage_obs")
            cur.execute("DROP TABLE IF EXISTS stage_pilots")

    @staticmethod
    def _already_ingested(cur: duckdb.DuckDBPyConnection, hashes: list[str]) -> dict[str, int]:
        rows = cur.execute(
            "SELECT content_hash, max(upload_id) FROM uploads "
            "WHERE outcome = 'ok' AND list_contains($1, content_hash) GROUP BY content_hash",
            [hashes],
        ).fetchall()
        return dict(rows)

    def upload_detail(self, upload_id: int) -> UploadDetail:
        """What undoing an upload would remove: its file, rows and the pilots it touched."""
        with self._cursor() as cur:
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
            upload_id=upload_id,
            file_name=row[0],
            kind=row[1],
            rows=int(row[2] or 0),
            outcome=row[3],
            uploaded_at=row[4],
            pilots=tuple(p[0] for p in pilots),
        )

    def undo_upload(self, upload_id: int) -> None:
        """Remove an upload's rows and restore the rows it replaced. An upload whose rows a later
        upload corrected is undone after that one (newest first), so no period ever holds two
        versions."""
        with self._transaction() as cur:
            row = cur.execute(
                "SELECT outcome, file_name FROM uploads WHERE upload_id = ?", [upload_id]
            ).fetchone()
            if row is None:
                raise StoreError(f"no upload {upload_id}")
            if row[0] != "ok":
                raise StoreError(f"upload {upload_id} ({row[1]}) is {row[0]}: nothing to undo")
            later = cur.execute(
                "SELECT replaced_by FROM replaced_observations WHERE upload_id = $id UNION "
                "SELECT replaced_by FROM replaced_pilots WHERE upload_id = $id ORDER BY 1",
                {"id": upload_id},
            ).fetchall()
            if later:
                ids = ", ".join(str(r[0]) for r in later)
                raise StoreError(
                    f"upload {upload_id} ({row[1]}) was corrected later by upload {ids}: "
                    "undo that first"
                )
            cur.execute("DELETE FROM observations WHERE upload_id = ?", [upload_id])
            cur.execute(
                "INSERT INTO observations SELECT * EXCLUDE (replaced_by) FROM "
                "replaced_observations WHERE replaced_by = ?",
                [upload_id],
            )
            cur.execute("DELETE FROM replaced_observations WHERE replaced_by = ?", [upload_id])
            cur.execute("DELETE FROM pilots WHERE upload_id = ?", [upload_id])
            cur.execute(
                "INSERT INTO pilots SELECT * EXCLUDE (replaced_by) FROM replaced_pilots "
                "WHERE replaced_by = ?",
                [upload_id],
            )
            cur.execute("DELETE FROM replaced_pilots WHERE replaced_by = ?", [upload_id])
            cur.execute("DELETE FROM plans WHERE upload_id = ?", [upload_id])
            cur.execute("DELETE FROM currencies WHERE upload_id = ?", [upload_id])
            cur.execute("UPDATE uploads SET outcome = 'undone' WHERE upload_id = ?", [upload_id])


def _file_extras(
    sources: list, layouts: list
) -> tuple[list[_plans.FilePlan], list[_money.FileCurrency]]:
    """The success plans in the pilots files' `plan_*` columns and the currencies in their
    `currency` column; IngestError naming every bad cell by line."""
    plans: list[_plans.FilePlan] = []
    currencies: list[_money.FileCurrency] = []
    problems: list = []
    for source, layout in zip(sources, layouts, strict=True):
        found, bad = _plans.read_file_plans(source, layout)
        coded, wrong = _money.read_file_currencies(source, layout)
        plans += found
        currencies += coded
        problems += sorted(bad + wrong, key=lambda p: p.line)
    if problems:
        raise IngestError(problems)
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


def _require_pilot(cur: duckdb.DuckDBPyConnection, pilot_id: str) -> None:
    found = cur.execute("SELECT count(*) FROM pilots WHERE pilot_id = ?", [pilot_id])
    if not found.fetchone()[0]:
        raise StoreError(f"no pilot '{pilot_id}'")


def _now():
    """Now, to the second, as a naive timestamp (the store's clock for who-and-when)."""
    import pandas as pd

    return pd.Timestamp.now().floor("s")


def _as_date(value: date | datetime | str) -> str:
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if hasattr(value, "date"):  # pandas Timestamp
        return value.date().isoformat()  # type: ignore[union-attr]
    return str(value)
