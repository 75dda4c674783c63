"""Writing a checked batch: upload ids, replacement of earlier rows, pilot upserts, the audit
trail and the one-line summary. Every function runs inside the caller's transaction.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import PurePath

import duckdb

from . import ingest as _ingest
from .catalog import RATE_UNITS
from .errors import counted
from .schema import PILOT_FIELDS


@dataclass(frozen=True)
class IngestResult:
    """What one ingest wrote. `summary` is the one line the CLI prints."""

    summary: str
    noop: bool
    upload_ids: tuple[int, ...]
    rows: int
    series: int
    pilots: int
    pilots_upserted: int
    replaced_rows: int
    date_min: date | None
    date_max: date | None
    # values flagged as possible typos (store.outliers), by file and line; the rows were written
    warnings: tuple[_ingest.Problem, ...] = field(default=())
    total_warnings: int = 0


def max_upload_id(cur: duckdb.DuckDBPyConnection) -> int:
    """Upload ids are allocated as max + 1 inside the write transaction, so a refused or
    rolled-back ingest leaves no gap (DuckDB sequences do not roll back)."""
    return int(cur.execute("SELECT COALESCE(max(upload_id), 0) FROM uploads").fetchone()[0])


def bump_data_version(cur: duckdb.DuckDBPyConnection) -> None:
    cur.execute(
        "UPDATE meta SET value = CAST(CAST(value AS BIGINT) + 1 AS VARCHAR) "
        "WHERE key = 'data_version'"
    )


def new_series_stats(cur: duckdb.DuckDBPyConnection, first: int) -> list[tuple]:
    """One small aggregate over the rows just inserted (upload_id >= first), per upload and
    series: (upload_id, pilot_id, metric, rows, min value, max value, min date, max date,
    bad rows, series key)."""
    bad = (
        "\"group\" NOT IN ('treatment', 'control') OR NOT isfinite(value) "
        "OR year(date) NOT BETWEEN 1700 AND 2200 OR volume < 0 OR NOT isfinite(volume)"
    )
    return cur.execute(
        "SELECT upload_id, pilot_id, metric, count(*), min(value), max(value), min(date), "
        f'max(date), count(*) FILTER ({bad}), "group", unit, segment FROM observations '
        'WHERE upload_id >= $first GROUP BY upload_id, pilot_id, metric, "group", unit, segment',
        {"first": first},
    ).fetchall()


def fast_checks_pass(
    cur: duckdb.DuckDBPyConnection,
    first: int,
    series_stats: list[tuple],
    catalog: dict[str, _ingest.CatalogEntry],
    go_live: set[str],
) -> bool:
    """Bad rows, signs, rates, the catalog and go-live from the series aggregate, then one
    distinct count of row keys for duplicates."""
    for _, pilot_id, metric, _, low, high, _, _, n_bad, group, unit, segment in series_stats:
        entry = catalog.get(metric)
        if n_bad or pilot_id not in go_live or entry is None:
            return False
        if not _ingest.fast_strings_clean(pilot_id, metric, group, unit, segment):
            return False
        if low < 0 and not entry.can_be_negative:
            return False
        if high > 1 and entry.unit in RATE_UNITS:
            return False
    return not series_stats or _no_duplicate_keys(cur, first, series_stats)


def _no_duplicate_keys(
    cur: duckdb.DuckDBPyConnection, first: int, series_stats: list[tuple]
) -> bool:
    """Whether no two new rows share (pilot, metric, date, group, unit, segment).

    Per series, the number of distinct dates is the popcount of a bitmap of day offsets
    (`bitstring_agg`), several times cheaper than a distinct count over millions of keys; a
    hash-based distinct count is the fallback when the bitmaps would be large."""
    low = min(stat[6] for stat in series_stats)
    high = max(stat[7] for stat in series_stats)
    days = (high - low).days + 1
    if days * len(series_stats) <= 8 * 64 * 2**20:  # bitmaps up to 64 MB in all
        rows = cur.execute(
            "SELECT count(*) = bit_count(bitstring_agg(date - $low, 0, $days - 1)) "
            'FROM observations WHERE upload_id >= $first GROUP BY pilot_id, metric, "group", '
            "unit, segment",
            {"first": first, "low": low, "days": days},
        ).fetchall()
        return all(row[0] for row in rows)
    n, distinct = cur.execute(
        'SELECT count(*), count(DISTINCT hash(pilot_id, metric, date, "group", unit, segment)) '
        "FROM observations WHERE upload_id >= $first",
        {"first": first},
    ).fetchone()
    return n == distinct


def batch_totals(series_stats: list[tuple]) -> tuple[tuple, dict[int, tuple]]:
    """(rows, series, pilots, first date, last date) overall and per upload."""

    def summarise(stats: list[tuple]) -> tuple:
        if not stats:
            return (0, 0, 0, None, None)
        return (
            sum(s[3] for s in stats),
            len({(s[1], s[2], *s[9:]) for s in stats}),
            len({s[1] for s in stats}),
            min(s[6] for s in stats),
            max(s[7] for s in stats),
        )

    by_upload: dict[int, list[tuple]] = {}
    for stat in series_stats:
        by_upload.setdefault(stat[0], []).append(stat)
    per_upload = {}
    for upload_id, stats in by_upload.items():
        rows, _, pilots, dmin, dmax = summarise(stats)
        per_upload[upload_id] = (rows, pilots, dmin, dmax)
    return summarise(series_stats), per_upload


def replace_older_rows(cur: duckdb.DuckDBPyConnection, first: int) -> int:
    """Move stored rows in the new rows' (pilot, metric, period) to replaced_observations."""
    cur.execute(
        "CREATE OR REPLACE TEMP TABLE new_ranges AS SELECT pilot_id, metric, min(date) AS dmin, "
        "max(date) AS dmax, min(upload_id) AS upload_id FROM observations "
        "WHERE upload_id >= $first GROUP BY pilot_id, metric",
        {"first": first},
    )
    older = "(o.upload_id < $first OR o.upload_id IS NULL)"
    replaced = cur.execute(
        "INSERT INTO replaced_observations SELECT o.*, r.upload_id FROM observations o "
        "JOIN new_ranges r ON o.pilot_id = r.pilot_id AND o.metric = r.metric "
        f"AND o.date BETWEEN r.dmin AND r.dmax WHERE {older}",
        {"first": first},
    ).fetchone()[0]
    if replaced:
        cur.execute(
            "DELETE FROM observations o USING new_ranges r WHERE o.pilot_id = r.pilot_id "
            f"AND o.metric = r.metric AND o.date BETWEEN r.dmin AND r.dmax AND {older}",
            {"first": first},
        )
    cur.execute("DROP TABLE new_ranges")
    return int(replaced)


def write_batch(
    cur: duckdb.DuckDBPyConnection,
    sources: list[_ingest.Source],
    fresh: list[_ingest.Source],
    layouts: list[_ingest.Layout],
    done: dict[str, int],
    new_metrics: dict[str, str],
    user: str | None,
) -> IngestResult:
    """Write a checked batch. Runs inside the caller's transaction."""
    base = max_upload_id(cur)
    ids_by_file = {file_no: base + 1 + file_no for file_no in range(len(fresh))}
    for metric, direction in new_metrics.items():
        cur.execute(
            "INSERT INTO metric_catalog (metric, direction, unit, kind, threshold_pct, "
            "tolerance_pct, builtin, can_be_negative) "
            "VALUES (?, ?, '', 'value', 10, 5, false, true)",
            [metric, direction],
        )
    pilots_upserted = upsert_pilot_files(cur, layouts, ids_by_file)
    obs_files = [i for i, lay in enumerate(layouts) if lay.kind != "pilots"]
    replaced = 0
    if obs_files:
        replaced = _write_observations(cur, ids_by_file)
    totals = (
        cur.execute(
            'SELECT count(*), count(DISTINCT (pilot_id, metric, "group", unit, segment)), '
            "count(DISTINCT pilot_id), min(date), max(date) FROM stage_obs"
        ).fetchone()
        if fresh
        else (0, 0, 0, None, None)
    )
    per_file = {}
    if fresh:
        per_file = {
            r[0]: r[1:]
            for r in cur.execute(
                "SELECT file_no, count(*), count(DISTINCT pilot_id), min(date), max(date) "
                "FROM stage_obs GROUP BY file_no"
            ).fetchall()
        }
        per_file.update(pilot_file_counts(cur))
    return record_uploads(
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


def upsert_pilot_files(
    cur: duckdb.DuckDBPyConnection, layouts: list, ids_by_file: dict[int, int]
) -> int:
    """Upsert the staged pilots of every pilots file; returns how many pilots were written."""
    return sum(
        upsert_pilots(cur, file_no, layout, ids_by_file[file_no])
        for file_no, layout in enumerate(layouts)
        if layout.kind == "pilots"
    )


def pilot_file_counts(cur: duckdb.DuckDBPyConnection) -> dict[int, tuple]:
    """Rows and pilots per staged pilots file, in the shape the audit trail records."""
    return {
        file_no: (rows, pilots, None, None)
        for file_no, rows, pilots in cur.execute(
            "SELECT file_no, count(*), count(DISTINCT pilot_id) FROM stage_pilots GROUP BY file_no"
        ).fetchall()
    }


def record_uploads(
    cur: duckdb.DuckDBPyConnection,
    sources: list[_ingest.Source],
    fresh: list[_ingest.Source],
    layouts: list[_ingest.Layout],
    done: dict[str, int],
    user: str | None,
    ids_by_file: dict[int, int],
    per_file: dict[int, tuple],
    totals: tuple,
    replaced: int,
    pilots_upserted: int,
) -> IngestResult:
    """Record every file in the audit trail and build the one-line summary."""
    now = datetime.now()
    upload_ids: list[int] = []
    rows, series, pilots, dmin, dmax = totals
    fresh_index = {id(s): i for i, s in enumerate(fresh)}
    parts: list[str] = []
    for source in sources:
        if source.content_hash in done:
            upload_id = max(max_upload_id(cur), *ids_by_file.values(), 0) + 1
            message = f"already ingested as upload {done[source.content_hash]}: nothing changed"
            cur.execute(
                "INSERT INTO uploads VALUES (?, ?, ?, NULL, 0, 0, NULL, NULL, ?, ?, 'noop', ?)",
                [upload_id, _audit_name(source.name), source.content_hash, user, now, message],
            )
            parts.append(f"{source.name} {message}")
            continue
        file_no = fresh_index[id(source)]
        upload_id = ids_by_file[file_no]
        upload_ids.append(upload_id)
        n_rows, n_pilots, fmin, fmax = per_file.get(file_no, (0, 0, None, None))
        kind = layouts[file_no].kind
        message = (
            f"saved {counted(n_pilots, 'pilot')}"
            if kind == "pilots"
            else f"{counted(n_rows, 'row')} for {counted(n_pilots, 'pilot')}, {fmin} to {fmax}"
        )
        cur.execute(
            "INSERT INTO uploads VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'ok', ?)",
            [
                upload_id,
                _audit_name(source.name),
                source.content_hash,
                kind,
                n_rows,
                n_pilots,
                fmin,
                fmax,
                user,
                now,
                message,
            ],
        )
    noop = not fresh
    if noop:
        summary = "nothing new: " + "; ".join(parts)
    else:
        bits = []
        if rows:
            bits.append(
                f"ingested {counted(rows, 'row')}: {counted(pilots, 'pilot')}, {series} series, "
                f"{dmin} to {dmax}"
            )
            if replaced:
                bits.append(f"replaced {counted(replaced, 'earlier row')}")
        if pilots_upserted:
            bits.append(f"saved {counted(pilots_upserted, 'pilot')}")
        bits.extend(parts)
        ids = ", ".join(str(i) for i in upload_ids)
        summary = "; ".join(bits) + f" (upload {ids})"
    return IngestResult(
        summary=summary,
        noop=noop,
        upload_ids=tuple(upload_ids),
        rows=int(rows),
        series=int(series),
        pilots=int(pilots),
        pilots_upserted=pilots_upserted,
        replaced_rows=replaced,
        date_min=dmin,
        date_max=dmax,
    )


def upsert_pilots(
    cur: duckdb.DuckDBPyConnection, file_no: int, layout: _ingest.Layout, upload_id: int
) -> int:
    """Insert or update the file's pilots; columns the file lacks keep their stored values."""
    # Field names below come from the fixed PILOT_FIELDS tuple, never from the file.
    chosen = ", ".join(
        f"s.{f}" if (f in layout.index or f == "pilot_id") else f"p.{f}" for f in PILOT_FIELDS
    )
    cur.execute(
        f"CREATE OR REPLACE TEMP TABLE merged_pilots AS SELECT DISTINCT {chosen}, "
        "$upload_id::INTEGER AS upload_id FROM stage_pilots s LEFT JOIN pilots p USING (pilot_id) "
        "WHERE s.file_no = $file_no",
        {"upload_id": upload_id, "file_no": file_no},
    )
    cur.execute(
        "INSERT INTO replaced_pilots SELECT p.*, $upload_id FROM pilots p "
        "WHERE pilot_id IN (SELECT pilot_id FROM merged_pilots)",
        {"upload_id": upload_id},
    )
    cur.execute("DELETE FROM pilots WHERE pilot_id IN (SELECT pilot_id FROM merged_pilots)")
    cur.execute("INSERT INTO pilots SELECT * FROM merged_pilots")
    n = cur.execute("SELECT count(*) FROM merged_pilots").fetchone()[0]
    cur.execute("DROP TABLE merged_pilots")
    return int(n)


def _write_observations(cur: duckdb.DuckDBPyConnection, ids_by_file: dict[int, int]) -> int:
    """Move stored rows in the new data's (pilot, metric, period) aside, then insert the batch.

    A corrected file for the same pilot and period replaces those rows; the replaced rows are
    kept in `replaced_observations` so `undo_upload` can restore them."""
    cur.execute("CREATE OR REPLACE TEMP TABLE file_uploads (file_no INTEGER, upload_id INTEGER)")
    cur.executemany("INSERT INTO file_uploads VALUES (?, ?)", list(ids_by_file.items()))
    cur.execute(
        "CREATE OR REPLACE TEMP TABLE new_ranges AS SELECT pilot_id, metric, min(date) AS dmin, "
        "max(date) AS dmax, min(upload_id) AS upload_id FROM stage_obs JOIN file_uploads "
        "USING (file_no) GROUP BY pilot_id, metric"
    )
    replaced = cur.execute(
        "INSERT INTO replaced_observations SELECT o.*, r.upload_id FROM observations o "
        "JOIN new_ranges r ON o.pilot_id = r.pilot_id AND o.metric = r.metric "
        "AND o.date BETWEEN r.dmin AND r.dmax"
    ).fetchone()[0]
    if replaced:
        cur.execute(
            "DELETE FROM observations o USING new_ranges r WHERE o.pilot_id = r.pilot_id "
            "AND o.metric = r.metric AND o.date BETWEEN r.dmin AND r.dmax"
        )
    n, distinct = cur.execute(
        'SELECT count(*), count(DISTINCT hash(pilot_id, metric, date, "group", unit, segment)) '
        "FROM stage_obs"
    ).fetchone()
    columns = 'pilot_id, metric, date, "group", unit, segment, value, volume'
    if n == distinct and len(ids_by_file) == 1:
        (upload_id,) = ids_by_file.values()
        cur.execute(
            f"INSERT INTO observations SELECT {columns}, $upload_id FROM stage_obs",
            {"upload_id": upload_id},
        )
    else:  # exact duplicates (conflicts were refused earlier): keep the first of each key
        cur.execute(
            f"INSERT INTO observations SELECT {columns}, upload_id FROM ("
            f'SELECT DISTINCT ON (pilot_id, metric, date, "group", unit, segment) '
            f"{columns}, upload_id FROM stage_obs JOIN file_uploads USING (file_no) "
            'ORDER BY pilot_id, metric, date, "group", unit, segment, file_no, rn)'
        )
    return int(replaced)


def _audit_name(name: str) -> str:
    """The file's own name for the audit trail: the folders it sat in on one machine are
    neither the user's business nor anyone else's."""
    return PurePath(name).name or name
