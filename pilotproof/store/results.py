"""The analysis results kept in the database (issue 16): per pilot, its metrics' effects as the
analysis computed them, under the key of the inputs that made them (`pilotproof.result_cache`),
so a restart or an upload for one pilot re-analyses only what changed.

What is stored is data, never code: the effects as JSON text and their chart arrays as raw
little-endian numbers in a BLOB, read back only into the numeric types `result_cache` allows.
Nothing here bumps `data_version`: a cached result is derived from the data, not a change to it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, NamedTuple

import duckdb
import pandas as pd

#: The rows one pilot's cache may hold: its current inputs and, when its success plan changed
#: after the lock, the pre-registered plan's (the decision it would have been).
KEEP_PER_PILOT = 2
#: Up to this many pilots, cached results are read through the index, one pilot at a time.
FEW_PILOTS = 32


class CachedEffects(NamedTuple):
    """One pilot's stored effects: the key of the inputs they were computed from, the engine
    version that computed them, the effects as JSON text and their chart arrays' bytes."""

    pilot_id: str
    input_key: str
    engine: str
    effects: str
    charts: bytes


def fingerprints(cur: duckdb.DuckDBPyConnection, pilot_ids: Sequence[str] | None) -> pd.DataFrame:
    """Per (pilot, metric) of `pilot_ids` (None: all): `rows` and `fingerprint`, a digest of
    every observation row (date, group, unit, segment, value, volume) independent of their order
    (the sum and the xor of DuckDB's 64-bit row hashes, as text). Sorted by pilot_id, metric
    as `Store.observations` sorts them. One scan of the table, no row leaves the database."""
    return cur.execute(
        "SELECT pilot_id, metric, count(*) AS rows, "
        "CAST(sum(CAST(h AS HUGEINT)) AS VARCHAR) || ':' || CAST(bit_xor(h) AS VARCHAR) "
        "AS fingerprint FROM (SELECT pilot_id, metric, "
        'hash(date, "group", unit, segment, value, volume) AS h FROM observations '
        "WHERE $ids IS NULL OR list_contains($ids, pilot_id)) "
        "GROUP BY pilot_id, metric ORDER BY pilot_id, metric",
        {"ids": None if pilot_ids is None else list(pilot_ids)},
    ).df()


def read_cached(
    cur: duckdb.DuckDBPyConnection, keys: dict[str, str], engine: str
) -> dict[str, CachedEffects]:
    """pilot_id -> its stored effects, for the pilots of `keys` whose stored key and engine
    version are the ones given; the others are absent (a miss: analyse them).

    A filter on the pilot does not spare DuckDB reading every row's chart bytes (no late
    materialisation): a few pilots are read through the index on pilot_id, one by one; more
    in one scan of the table, whatever their number (reading them in batches of pilots made
    the first load quadratic: 33 s at 1,000 pilots)."""
    if not keys:
        return {}
    columns = "SELECT pilot_id, input_key, engine, effects, charts FROM result_cache "
    found: list[tuple[Any, ...]] = []
    if len(keys) <= FEW_PILOTS:
        for pilot_id, key in keys.items():
            found += cur.execute(
                columns + "WHERE pilot_id = ? AND input_key = ? AND engine = ?",
                [pilot_id, key, engine],
            ).fetchall()
    else:
        result = cur.execute(columns + "WHERE engine = ?", [engine])
        while batch := result.fetchmany(256):
            found += [row for row in batch if keys.get(str(row[0])) == row[1]]
    return {
        str(r[0]): CachedEffects(str(r[0]), str(r[1]), str(r[2]), str(r[3]), bytes(r[4] or b""))
        for r in found
    }


def write_cached(
    cur: duckdb.DuckDBPyConnection, entries: Iterable[CachedEffects], now: pd.Timestamp
) -> int:
    """Store `entries` (inside the caller's transaction), replacing a pilot's row of the same
    key; drop rows of other engine versions, of pilots no longer registered, and a pilot's
    rows beyond its KEEP_PER_PILOT newest. Returns how many entries were written."""
    items = list(entries)
    if not items:
        return 0
    frame = pd.DataFrame(
        {
            "pilot_id": [e.pilot_id for e in items],
            "input_key": [e.input_key for e in items],
            "engine": [e.engine for e in items],
            "effects": [e.effects for e in items],
            "charts": [e.charts for e in items],
        }
    )
    cur.register("new_results", frame)
    try:
        cur.execute(
            "DELETE FROM result_cache WHERE (pilot_id, input_key) IN "
            "(SELECT (pilot_id, input_key) FROM new_results)"
        )
        cur.execute(
            "INSERT INTO result_cache SELECT pilot_id, input_key, engine, effects, "
            "CAST(charts AS BLOB), CAST($now AS TIMESTAMP) FROM new_results",
            {"now": now.to_pydatetime()},
        )
    finally:
        cur.unregister("new_results")
    engines = sorted({e.engine for e in items})
    cur.execute("DELETE FROM result_cache WHERE NOT list_contains($e, engine)", {"e": engines})
    cur.execute("DELETE FROM result_cache WHERE pilot_id NOT IN (SELECT pilot_id FROM pilots)")
    cur.execute(
        "DELETE FROM result_cache WHERE (pilot_id, input_key) IN (SELECT (pilot_id, input_key) "
        "FROM (SELECT pilot_id, input_key, row_number() OVER (PARTITION BY pilot_id "
        "ORDER BY computed_at DESC, input_key) AS n FROM result_cache) WHERE n > $keep)",
        {"keep": KEEP_PER_PILOT},
    )
    return len(items)


def count_cached(cur: duckdb.DuckDBPyConnection) -> int:
    """How many pilots' results the cache holds (rows)."""
    row = cur.execute("SELECT count(*) FROM result_cache").fetchone()
    return int(row[0]) if row else 0
