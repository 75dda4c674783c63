"""Gross outliers flagged at ingest: warnings by file and line, never a refusal (the value may be
true). One set-based query per batch: for every series (pilot, metric, group, unit, segment),
in date order, the median of each value's neighbourhood (`WINDOW` rows each side) and the
series' robust spread (1.4826 x the median absolute deviation from those local medians: Hampel's
identifier; Pearson 2002, "Outliers in process modeling and identification"). A value is
flagged when it is a decimal slip (at least SLIP_RATIO times, or at most 1/SLIP_RATIO of, its
local median, and SLIP_SPREADS spreads from it: the pattern `analytics.outliers` sets aside
before any model sees it) or a gross outlier (GROSS_SPREADS spreads from it, and far from the
series as a whole: see `_candidates_sql`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import duckdb

from analytics.outliers import GROSS_SPREADS, SLIP_RATIO, SLIP_SPREADS, WINDOW

from .checks import Finding, date_notes, empty_metric_columns, to_problems
from .errors import Problem, clip
from .reading import Layout, Source

#: Warnings kept in a report (every flagged value is still counted).
MAX_WARNINGS = 50
_SERIES = 'pilot_id, metric, "group", unit, segment'
_SERIES_PARAMS = ("pilot_ids", "metrics", "groups", "units", "segments")


# A series is screened (the rolling medians cost a window pass) only if a value is a candidate
# on the series' own mean and standard deviation, one cheap pass: PREFILTER_SDS standard
# deviations from the mean, or PREFILTER_RATIO times (or 1/PREFILTER_RATIO of) it. A gross outlier
# must also lie this far from the series as a whole; a slip's ratio to its neighbours is far
# beyond this to the series' mean unless the series itself moves several-fold.
PREFILTER_SDS = 4.0
# ... and half its neighbours' level away from them: a series whose noise grows with its level
# (an activity count from near zero to hundreds) has a spread set by its quiet stretch
GROSS_SHARE = 0.5
PREFILTER_RATIO = 4.0


def worth_screening_sql() -> str:
    """An aggregate over one series' rows (finite values with a date): whether a value is worth
    the rolling-median screen, from its extremes against the series' mean and standard
    deviation. The one place the prefilter is written: `_candidates_sql` groups by it, and the
    fast ingest reads it from the per-series aggregate it computes anyway
    (`writing.new_series_stats`)."""
    k, r = PREFILTER_SDS, PREFILTER_RATIO
    return f"""(count(*) >= {2 * WINDOW + 1} AND (
            max(value) - avg(value) > {k} * stddev_samp(value)
            OR avg(value) - min(value) > {k} * stddev_samp(value)
            OR (avg(value) > 0
                AND (max(value) >= {r} * avg(value) OR min(value) <= avg(value) / {r}))
            OR (avg(value) < 0
                AND (min(value) <= {r} * avg(value) OR max(value) >= avg(value) / {r}))
        ))"""


def _candidates_sql(relation: str, touched: str = "") -> str:
    """The series of `relation` with a value worth the rolling-median screen, from one grouped
    pass (`worth_screening_sql`); `touched` is a further condition on the group (the series a
    batch wrote to)."""
    return f"""
        SELECT {_SERIES} FROM {relation}
        WHERE value IS NOT NULL AND date IS NOT NULL AND isfinite(value)
        GROUP BY ALL
        HAVING {worth_screening_sql()}{touched}
    """


#: The series given as parameters (`$pilot_ids`, `$metrics`, `$groups`, `$units`, `$segments`,
#: lists of one length): candidates the caller has already picked.
_GIVEN_SERIES = """
        SELECT unnest($pilot_ids) AS pilot_id, unnest($metrics) AS metric,
            unnest($groups) AS "group", unnest($units) AS unit, unnest($segments) AS segment
"""


def _flagged_sql(
    relation: str, extra: str = "", touched: str = "", candidates: str | None = None
) -> str:
    """Rows of `relation` (with the series columns, `date` and `value`, plus `extra` columns)
    that are decimal slips or gross outliers, with their local median, spread and slip flag.
    Only the series `candidates` (SQL naming them; by default `_candidates_sql`) are
    screened."""
    if candidates is None:
        candidates = _candidates_sql(relation, touched)
    return f"""
        WITH candidates AS ({candidates}),
        local AS (
            SELECT {_SERIES}, date, value{extra},
                median(value) OVER (PARTITION BY {_SERIES} ORDER BY date
                    ROWS BETWEEN {WINDOW} PRECEDING AND {WINDOW} FOLLOWING) AS local
            FROM {relation} JOIN candidates USING ({_SERIES})
            WHERE value IS NOT NULL AND date IS NOT NULL AND isfinite(value)
        ), spread AS (
            SELECT *, 1.4826 * median(abs(value - local)) OVER (PARTITION BY {_SERIES}) AS spread,
                count(*) OVER (PARTITION BY {_SERIES}) AS n
            FROM local
        ), flagged AS (
            SELECT *,
                abs(value - local) > {SLIP_SPREADS} * spread AND sign(value) = sign(local)
                AND local <> 0 AND (abs(value / local) >= {SLIP_RATIO}
                    OR abs(value / local) <= {1 / SLIP_RATIO}) AS slip
            FROM spread
            WHERE n >= {2 * WINDOW + 1} AND spread > 0
        )
        SELECT * FROM flagged WHERE slip OR (abs(value - local) > {GROSS_SPREADS} * spread
            AND abs(value - local) > {GROSS_SHARE} * abs(local))
    """


def has_outliers(
    cur: duckdb.DuckDBPyConnection,
    first_upload: int,
    candidates: Sequence[tuple[str, str, str, str, str]] | None = None,
) -> bool:
    """Do the observations written by this batch (upload ids from `first_upload`) hold a value
    worth a warning? Series are read whole (older rows give the neighbours).

    `candidates` (pilot_id, metric, group, unit, segment), when the caller knows them, are the
    only series worth the screen (`worth_screening_sql` over each whole series): no grouped
    pass over the table is then needed, and no candidate means no outlier."""
    params: dict[str, object] = {"first": first_upload}
    given = None
    if candidates is not None:
        if not candidates:
            return False
        given = _GIVEN_SERIES
        for name, column in zip(_SERIES_PARAMS, zip(*candidates, strict=True), strict=True):
            params[name] = list(column)
    flagged = _flagged_sql(
        "observations", ", upload_id", " AND max(upload_id) >= $first", candidates=given
    )
    found = cur.execute(
        f"SELECT count(*) FROM ({flagged}) WHERE upload_id >= $first", params
    ).fetchone()
    return bool(found and found[0])


def stage_warnings(
    cur: duckdb.DuckDBPyConnection, sources: list[Source], layouts: list[Layout]
) -> tuple[list[Problem], int]:
    """Warnings for the staged observations (`stage_obs`): a wide file's metric column with no
    value at all (`checks.empty_metric_columns`), then one per flagged value, by file and line,
    the first MAX_WARNINGS of them, and how many there are."""
    empty = [
        *(note for source in sources for note in source.notes),
        *date_notes(cur, sources, layouts),
        *empty_metric_columns(cur, sources, layouts),
    ]
    skipped, n_skipped = skipped_rows(cur, sources, layouts)
    rows = cur.execute(
        f"SELECT file_no, rn, pilot_id, metric, date, value, local, spread, slip "
        f"FROM ({_flagged_sql('stage_obs', ', file_no, rn')}) ORDER BY file_no, rn"
    ).fetchall()
    findings = [
        Finding(file_no, rn, "value", _message(pilot, metric, day, value, local, spread, slip))
        for file_no, rn, pilot, metric, day, value, local, spread, slip in rows[:MAX_WARNINGS]
    ]
    named = [*empty, *skipped, *to_problems(sources, layouts, findings)]
    return named, len(empty) + n_skipped + len(rows)


#: Rows without a value named by line in the warnings (all are counted).
NAMED_SKIPPED = 5


def skipped_rows(
    cur: duckdb.DuckDBPyConnection, sources: list[Source], layouts: list[Layout]
) -> tuple[list[Problem], int]:
    """The first rows skipped for having no value (`ingest.skip_rows_without_value`), as
    warnings by line, and how many there are."""
    rows = cur.execute(
        "SELECT file_no, rn, pos, value_raw, count(*) OVER () FROM skipped_obs "
        "ORDER BY file_no, rn LIMIT $n",
        {"n": NAMED_SKIPPED},
    ).fetchall()
    findings = [
        Finding(
            file_no,
            rn,
            clip(layouts[file_no].header[pos]),
            f"warning, no value ('{clip(raw or '')}'): the row is no observation and is skipped",
        )
        for file_no, rn, pos, raw, _ in rows
    ]
    return to_problems(sources, layouts, findings), int(rows[0][4]) if rows else 0


def _message(
    pilot: str, metric: str, day: date, value: float, local: float, spread: float, slip: bool
) -> str:
    where = f"{clip(pilot)} / {clip(metric)} on {day:%Y-%m-%d}"
    if slip:
        ratio = abs(value / local)
        size = f"{ratio:.3g}x" if ratio >= 1 else f"1/{1 / ratio:.3g}"
        what = f"{value:.6g} is {size} the median of its neighbours ({local:.4g}): a decimal slip?"
    else:
        z = abs(value - local) / spread
        what = (
            f"{value:.6g} lies {z:.0f} robust standard deviations from the median of its "
            f"neighbours ({local:.4g})."
        )
    return (
        f"warning, {where}: {what} The row is kept; the analysis sets a decimal slip aside and "
        "names it. Check the source."
    )
