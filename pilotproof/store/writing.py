"""Writing a checked batch: upload ids, replacement of earlier rows, pilot upserts, the audit
trail and the one-line summary. Every function runs inside the caller's transaction.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import PurePath
from typing import NamedTuple

import duckdb

from . import ingest as _ingest
from .catalog import RATE_UNITS
from .checks import Finding, to_problems
from .errors import Problem, counted
from .formats import outside_dates_sql
from .outliers import has_outliers, worth_screening_sql
from .schema import PILOT_FIELDS
from .sql import one_row, scalar


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


class FileCounts(NamedTuple):
    """What one file (or upload) of a batch holds, as the audit trail records it."""

    rows: int
    pilots: int
    date_min: date | None
    date_max: date | None


NO_COUNTS = FileCounts(0, 0, None, None)


class BatchTotals(NamedTuple):
    """What a whole batch of metrics files holds."""

    rows: int
    series: int
    pilots: int
    date_min: date | None
    date_max: date | None


@dataclass(frozen=True)
class Batch:
    """The files of one ingest: every file handed in (`sources`), those new to the store
    (`fresh`, with their `layouts`), those ingested before (`done`: content hash -> upload id),
    and who uploaded them."""

    sources: list[_ingest.Source]
    fresh: list[_ingest.Source]
    layouts: list[_ingest.Layout]
    done: dict[str, int]
    user: str | None


@dataclass(frozen=True)
class Written:
    """What writing a batch did: the upload id of each fresh file (by position), what each
    file and the whole batch held, the earlier rows replaced and the pilots saved."""

    ids_by_file: dict[int, int]
    per_file: dict[int, FileCounts]
    totals: BatchTotals
    replaced: int
    pilots_upserted: int
    #: exact duplicates dropped (each kept once), with the first few named by line
    duplicates: int = 0
    named_duplicates: tuple[Problem, ...] = ()
    #: rows of long files skipped for having no value (`ingest.skip_rows_without_value`)
    skipped: int = 0


def max_upload_id(cur: duckdb.DuckDBPyConnection) -> int:
    """Upload ids are allocated as max + 1 inside the write transaction, so a refused or
    rolled-back ingest leaves no gap (DuckDB sequences do not roll back)."""
    return int(scalar(cur, "SELECT COALESCE(max(upload_id), 0) FROM uploads"))


def bump_data_version(cur: duckdb.DuckDBPyConnection) -> None:
    cur.execute(
        "UPDATE meta SET value = CAST(CAST(value AS BIGINT) + 1 AS VARCHAR) "
        "WHERE key = 'data_version'"
    )


class SeriesStat(NamedTuple):
    """One series of the rows just inserted, per upload: its size, range, whether it has a
    bad row (a value or volume not finite, a negative volume, a date outside 1700-2200),
    whether a value of these rows is worth the outlier screen (`outliers.worth_screening_sql`,
    meaningful for rows without a bad one)."""

    upload_id: int
    pilot_id: str
    metric: str
    rows: int
    low: float
    high: float
    date_min: date
    date_max: date
    bad: bool
    group: str
    unit: str
    segment: str
    worth_screening: bool


def new_series_stats(cur: duckdb.DuckDBPyConnection, first: int) -> list[SeriesStat]:
    """One aggregate over the rows just inserted (upload_id >= first), per upload and series:
    what the fast checks (bad rows), the outlier prefilter and the audit trail need, in one
    pass. (Duplicate dates take a pass of their own, `_no_duplicate_keys`: counting them here,
    as bitmaps a series, would cost a file of a million one-row series half a gigabyte.)

    A bad row is told from the series' extremes, once per series rather than by a test of
    every row: NaN sorts above every number in DuckDB, so a NaN or an infinity makes the
    minimum or maximum not finite, and a date outside the range makes the first or last one
    outside it. (The group is a key of the series: `fast_strings_clean` checks it.)"""
    volume_bad = "min(volume) < 0 OR NOT (isfinite(min(volume)) AND isfinite(max(volume)))"
    bad = (
        "NOT (isfinite(min(value)) AND isfinite(max(value))) "
        f"OR {outside_dates_sql('min(date)')} OR {outside_dates_sql('max(date)')} "
        f"OR COALESCE({volume_bad}, false)"  # NULL: no volume given
    )
    rows = cur.execute(
        "SELECT upload_id, pilot_id, metric, count(*), min(value), max(value), min(date), "
        f'max(date), {bad}, "group", unit, segment, {worth_screening_sql()} '
        "FROM observations WHERE upload_id >= $first "
        'GROUP BY upload_id, pilot_id, metric, "group", unit, segment',
        {"first": first},
    ).fetchall()
    return [SeriesStat(*row) for row in rows]


def fast_checks_pass(
    cur: duckdb.DuckDBPyConnection,
    first: int,
    series_stats: list[SeriesStat],
    catalog: dict[str, _ingest.CatalogEntry],
    go_live: set[str],
) -> bool:
    """Bad rows, signs, rates, the catalog and go-live from the series aggregate, then one
    pass over the row keys for duplicates, then the outlier screen (a value worth a warning is
    named by line, which only the careful path knows)."""
    for stat in series_stats:
        _, pilot_id, metric, _, low, high, _, _, bad, group, unit, segment, _ = stat
        entry = catalog.get(metric)
        if bad or pilot_id not in go_live or entry is None:
            return False
        if not _ingest.fast_strings_clean(pilot_id, metric, group, unit, segment):
            return False
        if low < 0 and not entry.can_be_negative:
            return False
        if high > 1 and entry.unit in RATE_UNITS:
            return False
    if not series_stats:
        return True
    if not _no_duplicate_keys(cur, first, series_stats):
        return False
    return not has_outliers(cur, first, _screen_candidates(cur, first, series_stats))


def _spans_files(series_stats: list[SeriesStat]) -> bool:
    """Whether a series has rows in two files of the batch (the aggregate then splits it)."""
    keys = {(s.pilot_id, s.metric, s.group, s.unit, s.segment) for s in series_stats}
    return len(keys) < len(series_stats)


def _screen_candidates(
    cur: duckdb.DuckDBPyConnection, first: int, series_stats: list[SeriesStat]
) -> list[tuple[str, str, str, str, str]] | None:
    """The new series worth the outlier screen, read off the series aggregate, when it covers
    each series whole: no series spread over two files of the batch and no older row stored
    for any (pilot, metric) of the batch. None otherwise (the screen then finds its candidates
    over the stored series)."""
    if _spans_files(series_stats):
        return None
    if _any_older(cur, first):
        pairs = sorted({(s.pilot_id, s.metric) for s in series_stats})
        older = scalar(
            cur,
            f"SELECT count(*) FROM observations o WHERE {_OLDER} AND (o.pilot_id, o.metric) IN "
            "(SELECT (unnest($pilot_ids), unnest($metrics)))",
            {"first": first, "pilot_ids": [p for p, _ in pairs], "metrics": [m for _, m in pairs]},
        )
        if older:
            return None
    return [
        (s.pilot_id, s.metric, s.group, s.unit, s.segment)
        for s in series_stats
        if s.worth_screening
    ]


#: The key of a series: what a new file replaces stored rows of (over the series' own period).
_SERIES_KEY = 'pilot_id, metric, "group", unit, segment'

#: The same series key on a stored row `o` and a new range `r`.
_SAME_SERIES = " AND ".join(
    f"o.{k} = r.{k}" for k in ("pilot_id", "metric", '"group"', "unit", "segment")
)

#: The series of a batch with their new period and first upload, from `_range_params`.
_RANGES = (
    "SELECT unnest($pilot_ids) AS pilot_id, unnest($metrics) AS metric, "
    'unnest($groups) AS "group", unnest($units) AS unit, unnest($segments) AS segment, '
    "unnest($dmins) AS dmin, unnest($dmaxs) AS dmax, unnest($upload_ids) AS upload_id"
)
#: A stored row the batch did not write (rows of a version-1 file have no upload id).
_OLDER = "(o.upload_id < $first OR o.upload_id IS NULL)"


def _any_older(cur: duckdb.DuckDBPyConnection, first: int) -> bool:
    """Whether the store holds any row the batch did not write: one look at the upload ids,
    which spares a first load the joins with the batch's series (thousands of them)."""
    return bool(
        scalar(
            cur,
            f"SELECT count(*) FROM (SELECT 1 FROM observations o WHERE {_OLDER} LIMIT 1)",
            {"first": first},
        )
    )


def _range_params(series_stats: list[SeriesStat]) -> dict[str, list[object]]:
    """Per series of the batch (pilot, metric, group, unit, segment): its first and last new
    date and its first upload."""
    ranges: dict[tuple[str, str, str, str, str], tuple[date, date, int]] = {}
    for s in series_stats:
        key = (s.pilot_id, s.metric, s.group, s.unit, s.segment)
        low, high, upload = ranges.get(key, (s.date_min, s.date_max, s.upload_id))
        ranges[key] = (min(low, s.date_min), max(high, s.date_max), min(upload, s.upload_id))
    return {
        "pilot_ids": [k[0] for k in ranges],
        "metrics": [k[1] for k in ranges],
        "groups": [k[2] for k in ranges],
        "units": [k[3] for k in ranges],
        "segments": [k[4] for k in ranges],
        "dmins": [low for low, _, _ in ranges.values()],
        "dmaxs": [high for _, high, _ in ranges.values()],
        "upload_ids": [upload for _, _, upload in ranges.values()],
    }


def every_metric_column_read(
    layouts: list[_ingest.Layout], ids_by_file: dict[int, int], series_stats: list[SeriesStat]
) -> bool:
    """Whether each wide file's metric columns all gave a series (an empty column is warned of
    by the careful path, `checks.empty_metric_columns`): from the series aggregate, no pass."""
    wide = [(f, layout) for f, layout in enumerate(layouts) if layout.kind == "wide"]
    if not wide:
        return True
    read = {(s.upload_id, s.metric) for s in series_stats}
    return all(
        (ids_by_file[file_no], metric) in read
        for file_no, layout in wide
        for _, metric in layout.metric_columns
    )


def _no_duplicate_keys(
    cur: duckdb.DuckDBPyConnection, first: int, series_stats: list[SeriesStat]
) -> bool:
    """Whether no two new rows share (pilot, metric, date, group, unit, segment).

    Per series, the number of distinct dates is the popcount of a bitmap of day offsets
    (`bitstring_agg`), several times cheaper than a distinct count over millions of keys; a
    hash-based distinct count is the fallback when the bitmaps would be large.

    Rows are grouped by a 64-bit hash of their series rather than by its five strings (half
    the cost). Two series whose hashes collide share one bitmap, which can only show a
    duplicate that is not there; the careful path, which compares the keys themselves, then
    clears it. Neither can pass a true duplicate."""
    low = min(stat.date_min for stat in series_stats)
    high = max(stat.date_max for stat in series_stats)
    days = (high - low).days + 1
    if days * len(series_stats) <= 8 * 64 * 2**20:  # bitmaps up to 64 MB in all
        unique = scalar(
            cur,
            "SELECT bool_and(unique_dates) FROM (SELECT count(*) = "
            "bit_count(bitstring_agg(date - $low, 0, $days - 1)) AS unique_dates "
            "FROM observations WHERE upload_id >= $first "
            'GROUP BY hash(pilot_id, metric, "group", unit, segment))',
            {"first": first, "low": low, "days": days},
        )
        return bool(unique)
    n, distinct = one_row(
        cur,
        'SELECT count(*), count(DISTINCT hash(pilot_id, metric, date, "group", unit, segment)) '
        "FROM observations WHERE upload_id >= $first",
        {"first": first},
    )
    return bool(n == distinct)


def batch_totals(
    series_stats: list[SeriesStat],
) -> tuple[BatchTotals, dict[int, FileCounts]]:
    """What the batch holds overall, and per upload."""

    def summarise(stats: list[SeriesStat]) -> BatchTotals:
        if not stats:
            return BatchTotals(0, 0, 0, None, None)
        return BatchTotals(
            sum(s.rows for s in stats),
            len({(s.pilot_id, s.metric, s.group, s.unit, s.segment) for s in stats}),
            len({s.pilot_id for s in stats}),
            min(s.date_min for s in stats),
            max(s.date_max for s in stats),
        )

    by_upload: dict[int, list[SeriesStat]] = {}
    for stat in series_stats:
        by_upload.setdefault(stat.upload_id, []).append(stat)
    per_upload = {}
    for upload_id, stats in by_upload.items():
        totals = summarise(stats)
        per_upload[upload_id] = FileCounts(
            totals.rows, totals.pilots, totals.date_min, totals.date_max
        )
    return summarise(series_stats), per_upload


def replace_older_rows(
    cur: duckdb.DuckDBPyConnection, first: int, series_stats: list[SeriesStat]
) -> int:
    """Move stored rows of the new rows' series (pilot, metric, group, unit, segment), over
    each series' own period, to replaced_observations: nothing else is touched. The periods
    come from the series aggregate (`new_series_stats`), not from another pass over the new
    rows."""
    if not series_stats or not _any_older(cur, first):
        return 0
    cur.execute(
        f"CREATE OR REPLACE TEMP TABLE new_ranges AS {_RANGES}", _range_params(series_stats)
    )
    replaced = scalar(
        cur,
        "INSERT INTO replaced_observations SELECT o.*, r.upload_id FROM observations o "
        f"JOIN new_ranges r ON {_SAME_SERIES} AND o.date BETWEEN r.dmin AND r.dmax "
        f"WHERE {_OLDER}",
        {"first": first},
    )
    if replaced:
        cur.execute(
            f"DELETE FROM observations o USING new_ranges r WHERE {_SAME_SERIES} "
            f"AND o.date BETWEEN r.dmin AND r.dmax AND {_OLDER}",
            {"first": first},
        )
    cur.execute("DROP TABLE new_ranges")
    return int(replaced)


def write_batch(
    cur: duckdb.DuckDBPyConnection, batch: Batch, new_metrics: dict[str, str]
) -> IngestResult:
    """Write a checked batch, adding `new_metrics` (metric -> direction) to the catalog. Runs
    inside the caller's transaction."""
    fresh, layouts = batch.fresh, batch.layouts
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
    replaced, duplicates, skipped = 0, 0, 0
    named: tuple[Problem, ...] = ()
    if obs_files:
        skipped = int(scalar(cur, "SELECT count(*) FROM skipped_obs"))
        duplicates, named = _drop_exact_duplicates(cur, batch)
        replaced = _write_observations(cur, ids_by_file)
    totals = BatchTotals(0, 0, 0, None, None)
    per_file: dict[int, FileCounts] = {}
    if fresh:
        totals = BatchTotals(
            *one_row(
                cur,
                'SELECT count(*), count(DISTINCT (pilot_id, metric, "group", unit, segment)), '
                "count(DISTINCT pilot_id), min(date), max(date) FROM stage_obs",
            )
        )
        per_file = {
            file_no: FileCounts(*counts)
            for file_no, *counts in cur.execute(
                "SELECT file_no, count(*), count(DISTINCT pilot_id), min(date), max(date) "
                "FROM stage_obs GROUP BY file_no"
            ).fetchall()
        }
        per_file.update(pilot_file_counts(cur))
    written = Written(
        ids_by_file, per_file, totals, replaced, pilots_upserted, duplicates, named, skipped
    )
    return record_uploads(cur, batch, written)


#: Exact duplicates named by line in an ingest's warnings (all are counted).
NAMED_DUPLICATES = 5


def _drop_exact_duplicates(
    cur: duckdb.DuckDBPyConnection, batch: Batch
) -> tuple[int, tuple[Problem, ...]]:
    """Remove from `stage_obs` every staged value that repeats an earlier one exactly (same
    pilot, metric, date, group, unit, segment and value: conflicting ones were refused), so
    what is counted is what is stored. Returns how many, and the first few as warnings naming
    the line they repeat. Two teams' rows without a unit column look exactly like this."""
    key = 'pilot_id, metric, date, "group", unit, segment'
    n, distinct = one_row(cur, f"SELECT count(*), count(DISTINCT hash({key})) FROM stage_obs")
    if n == distinct:
        return 0, ()
    cur.execute(
        "CREATE OR REPLACE TEMP TABLE duplicate_rows AS SELECT file_no, rn, pos, metric, "
        "first_file, first_rn FROM (SELECT file_no, rn, pos, metric, "
        "first_value(file_no) OVER w AS first_file, first_value(rn) OVER w AS first_rn, "
        f"row_number() OVER w AS nth FROM stage_obs WINDOW w AS (PARTITION BY {key} "
        "ORDER BY file_no, rn)) WHERE nth > 1"
    )
    dropped = int(scalar(cur, "SELECT count(*) FROM duplicate_rows"))
    first = cur.execute(
        "SELECT file_no, rn, metric, first_file, first_rn FROM duplicate_rows "
        "ORDER BY file_no, rn, pos LIMIT $n",
        {"n": NAMED_DUPLICATES},
    ).fetchall()
    cur.execute(
        "DELETE FROM stage_obs s USING duplicate_rows d "
        "WHERE s.file_no = d.file_no AND s.rn = d.rn AND s.pos = d.pos"
    )
    cur.execute("DROP TABLE duplicate_rows")
    findings = [
        Finding(
            file_no,
            rn,
            "-",
            f"warning, exact duplicate of {{line:{first_file}:{first_rn}}} ({metric}: same "
            "pilot, date, group, unit, segment and value): kept once; if the two rows are "
            "different teams or sites, a unit column tells them apart",
        )
        for file_no, rn, metric, first_file, first_rn in first
    ]
    return dropped, tuple(to_problems(batch.fresh, batch.layouts, findings))


def upsert_pilot_files(
    cur: duckdb.DuckDBPyConnection, layouts: list[_ingest.Layout], ids_by_file: dict[int, int]
) -> int:
    """Upsert the staged pilots of every pilots file; returns how many pilots were written."""
    return sum(
        upsert_pilots(cur, file_no, layout, ids_by_file[file_no])
        for file_no, layout in enumerate(layouts)
        if layout.kind == "pilots"
    )


def pilot_file_counts(cur: duckdb.DuckDBPyConnection) -> dict[int, FileCounts]:
    """Rows and pilots per staged pilots file, in the shape the audit trail records."""
    return {
        file_no: FileCounts(rows, pilots, None, None)
        for file_no, rows, pilots in cur.execute(
            "SELECT file_no, count(*), count(DISTINCT pilot_id) FROM stage_pilots GROUP BY file_no"
        ).fetchall()
    }


def record_uploads(cur: duckdb.DuckDBPyConnection, batch: Batch, written: Written) -> IngestResult:
    """Record every file of `batch` in the audit trail and build the one-line summary."""
    now = datetime.now()
    user, done, ids_by_file = batch.user, batch.done, written.ids_by_file
    upload_ids: list[int] = []
    rows, series, pilots, dmin, dmax = written.totals
    replaced, pilots_upserted = written.replaced, written.pilots_upserted
    duplicates = written.duplicates
    fresh_index = {id(s): i for i, s in enumerate(batch.fresh)}
    parts: list[str] = []
    for source in batch.sources:
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
        n_rows, n_pilots, fmin, fmax = written.per_file.get(file_no, NO_COUNTS)
        kind = batch.layouts[file_no].kind
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
    noop = not batch.fresh
    if noop:
        summary = "nothing new: " + "; ".join(parts)
    else:
        bits = []
        if duplicates:
            first = written.named_duplicates[0] if written.named_duplicates else None
            where = f", first {first.file}:{first.line}" if first else ""
            bits.append(
                f"read {counted(rows + duplicates, 'row')}, dropped "
                f"{counted(duplicates, 'exact duplicate')}{where} (kept once; a unit column "
                "tells teams apart)"
            )
        if rows:
            bits.append(
                f"ingested {counted(rows, 'row')}: {counted(pilots, 'pilot')}, {series} series, "
                f"{dmin} to {dmax}"
            )
            if replaced:
                bits.append(f"replaced {counted(replaced, 'earlier row')} of the same series")
        if written.skipped:
            bits.append(f"skipped {counted(written.skipped, 'row')} without a value")
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
        warnings=written.named_duplicates,
        total_warnings=duplicates,
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
        "INSERT INTO replaced_pilots BY NAME SELECT p.*, $upload_id AS replaced_by FROM pilots p "
        "WHERE pilot_id IN (SELECT pilot_id FROM merged_pilots)",
        {"upload_id": upload_id},
    )
    cur.execute("DELETE FROM pilots WHERE pilot_id IN (SELECT pilot_id FROM merged_pilots)")
    cur.execute("INSERT INTO pilots BY NAME SELECT * FROM merged_pilots")
    n = scalar(cur, "SELECT count(*) FROM merged_pilots")
    cur.execute("DROP TABLE merged_pilots")
    return int(n)


def _write_observations(cur: duckdb.DuckDBPyConnection, ids_by_file: dict[int, int]) -> int:
    """Move stored rows of the new data's series (pilot, metric, group, unit, segment) over
    each series' period aside, then insert the batch.

    A corrected file for the same series and period replaces those rows (another group, unit or
    segment of the pilot stays as it is); the replaced rows are kept in `replaced_observations`
    so `undo_upload` can restore them."""
    cur.execute("CREATE OR REPLACE TEMP TABLE file_uploads (file_no INTEGER, upload_id INTEGER)")
    cur.executemany("INSERT INTO file_uploads VALUES (?, ?)", list(ids_by_file.items()))
    cur.execute(
        f"CREATE OR REPLACE TEMP TABLE new_ranges AS SELECT {_SERIES_KEY}, min(date) AS dmin, "
        "max(date) AS dmax, min(upload_id) AS upload_id FROM stage_obs JOIN file_uploads "
        f"USING (file_no) GROUP BY {_SERIES_KEY}"
    )
    replaced = scalar(
        cur,
        "INSERT INTO replaced_observations SELECT o.*, r.upload_id FROM observations o "
        f"JOIN new_ranges r ON {_SAME_SERIES} AND o.date BETWEEN r.dmin AND r.dmax",
    )
    if replaced:
        cur.execute(
            f"DELETE FROM observations o USING new_ranges r WHERE {_SAME_SERIES} "
            "AND o.date BETWEEN r.dmin AND r.dmax"
        )
    n, distinct = one_row(
        cur,
        'SELECT count(*), count(DISTINCT hash(pilot_id, metric, date, "group", unit, segment)) '
        "FROM stage_obs",
    )
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
