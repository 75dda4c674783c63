"""The analysis results kept in the database (issue 16): per pilot, its metrics' effects as the
analysis computed them, under the key of the inputs that made them (`pilotproof.result_cache`),
so a restart or an upload for one pilot re-analyses only what changed.

What is stored is data, never code: the effects as JSON text and their chart arrays as raw
little-endian numbers in BLOBs, read back only into the numeric types `result_cache` allows.
A pilot's chart bytes are cut into rows of at most `PART_BYTES` (`part` 0, 1, ...; part 0 holds
the JSON): DuckDB commits many small values in a fraction of the memory one large value per
pilot took. Nothing here bumps `data_version`: a cached result is derived from the data, not a
change to it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, NamedTuple

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

#: The rows one pilot's cache may hold: its current inputs and, when its success plan changed
#: after the lock, the pre-registered plan's (the decision it would have been).
KEEP_PER_PILOT = 2
#: Up to this many pilots, cached results are read through the index, one pilot at a time.
FEW_PILOTS = 32
#: The largest chart part one row holds. DuckDB's commit of 1,000 pilots' half-megabyte values
#: in one transaction rose 1.5 GB above the data; of the same bytes in 48 kB rows, 0.1 GB.
PART_BYTES = 48 * 1024
#: Pilots written per INSERT of a save (all in the caller's one transaction).
WRITE_BATCH = 64
#: DuckDB's memory limit while kept results are written or read: what a save's transaction
#: holds beyond it goes to DuckDB's temporary files rather than staying in memory until the
#: commit, and a scan's buffers are not kept (the setting is the database's, reset after).
SAVE_MEMORY_LIMIT = "256MB"


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
    columns = "SELECT pilot_id, input_key, engine, part, effects, charts FROM result_cache "

    def rows() -> Iterator[tuple[Any, ...]]:
        if len(keys) <= FEW_PILOTS:
            for pilot_id, key in keys.items():
                yield from cur.execute(
                    columns + "WHERE pilot_id = ? AND input_key = ? AND engine = ?",
                    [pilot_id, key, engine],
                ).fetchall()
            return
        result = cur.execute(columns + "WHERE engine = ?", [engine])
        while batch := result.fetchmany(256):
            yield from (row for row in batch if keys.get(str(row[0])) == row[1])

    # a pilot's parts are joined as soon as the scan moves past it (they were written together,
    # so a scan meets them one after another; a sort in SQL would copy every chart byte); a part
    # met after its pilot was joined makes the pilot a miss, never a wrong result
    out: dict[str, CachedEffects] = {}
    spoilt: set[str] = set()
    current: dict[int, tuple[Any, ...]] = {}
    with bounded_memory(cur):  # DuckDB keeps no copy of the chart bytes it hands over
        for row in rows():
            pilot_id = str(row[0])
            if pilot_id in out or pilot_id in spoilt:
                out.pop(pilot_id, None)
                spoilt.add(pilot_id)
                continue
            if current and str(next(iter(current.values()))[0]) != pilot_id:
                _join(current, out, spoilt)
            current[int(row[3] or 0)] = row
    _join(current, out, spoilt)
    return out


def _join(
    parts: dict[int, tuple[Any, ...]], out: dict[str, CachedEffects], spoilt: set[str]
) -> None:
    """One pilot's rows (part -> row) as its CachedEffects in `out`, or in `spoilt` when a part
    is missing; empties `parts`."""
    if not parts:
        return
    first = parts.get(0) or next(iter(parts.values()))
    pilot_id = str(first[0])
    if sorted(parts) == list(range(len(parts))):
        charts = b"".join(bytes(parts[i][5] or b"") for i in range(len(parts)))
        out[pilot_id] = CachedEffects(pilot_id, str(first[1]), str(first[2]), str(first[4]), charts)
    else:
        spoilt.add(pilot_id)
    parts.clear()


@contextmanager
def bounded_memory(cur: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """DuckDB's memory limit at SAVE_MEMORY_LIMIT inside the block (around a save's
    transaction, commit included, and the scan of the kept results), back to DuckDB's default
    after (pilotproof sets no other). Without it DuckDB's buffers kept every chart byte read or
    written (up to 80% of the machine's memory by default) beside the copy Python holds. When
    DuckDB cannot lower it (another thread's query holds more), the block runs without it."""
    try:
        cur.execute("SET memory_limit = $limit", {"limit": SAVE_MEMORY_LIMIT})
    except duckdb.Error:
        yield
        return
    try:
        yield
    finally:
        cur.execute("RESET memory_limit")


def write_cached(
    cur: duckdb.DuckDBPyConnection, entries: Iterable[CachedEffects], now: pd.Timestamp
) -> int:
    """Store `entries` (inside the caller's transaction), replacing a pilot's row of the same
    key; drop rows of other engine versions, of pilots no longer registered, and a pilot's
    rows beyond its KEEP_PER_PILOT newest. Returns how many entries were written."""
    items = list(entries)
    if not items:
        return 0
    keys = pa.table(
        {"pilot_id": [e.pilot_id for e in items], "input_key": [e.input_key for e in items]}
    )
    cur.register("new_keys", keys)
    try:
        cur.execute(
            "DELETE FROM result_cache WHERE (pilot_id, input_key) IN "
            "(SELECT (pilot_id, input_key) FROM new_keys)"
        )
    finally:
        cur.unregister("new_keys")
    for start in range(0, len(items), WRITE_BATCH):
        cur.register("new_results", _parts(items[start : start + WRITE_BATCH]))
        try:
            cur.execute(
                "INSERT INTO result_cache (pilot_id, input_key, engine, effects, charts, "
                "computed_at, part) SELECT pilot_id, input_key, engine, effects, charts, "
                "CAST($now AS TIMESTAMP), part FROM new_results",
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
        "ORDER BY computed_at DESC, input_key) AS n FROM (SELECT DISTINCT pilot_id, input_key, "
        "computed_at FROM result_cache)) WHERE n > $keep)",
        {"keep": KEEP_PER_PILOT},
    )
    return len(items)


def _parts(items: Sequence[CachedEffects]) -> pa.Table:
    """`items` as rows of at most PART_BYTES chart bytes each (part 0 with the effects' JSON,
    the others with ''); the chart column points into the entries' bytes, not a copy."""
    names: dict[str, list[Any]] = {k: [] for k in ("pilot_id", "input_key", "engine", "effects")}
    numbers: list[int] = []
    charts: list[pa.Array] = []
    for e in items:
        cuts = list(range(0, len(e.charts), PART_BYTES)) or [0]
        for part in range(len(cuts)):
            names["pilot_id"].append(e.pilot_id)
            names["input_key"].append(e.input_key)
            names["engine"].append(e.engine)
            names["effects"].append(e.effects if part == 0 else "")
            numbers.append(part)
        offsets = pa.py_buffer(np.array([*cuts, len(e.charts)], dtype=np.int32).tobytes())
        charts.append(
            pa.Array.from_buffers(pa.binary(), len(cuts), [None, offsets, pa.py_buffer(e.charts)])
        )
    return pa.table(
        {
            **{k: pa.array(v, pa.string()) for k, v in names.items()},
            "part": pa.array(numbers, pa.int32()),
            "charts": pa.chunked_array(charts, pa.binary()),
        }
    )


def count_cached(cur: duckdb.DuckDBPyConnection) -> int:
    """How many pilots' results the cache holds (one per pilot and input key)."""
    row = cur.execute("SELECT count(DISTINCT (pilot_id, input_key)) FROM result_cache").fetchone()
    return int(row[0]) if row else 0
