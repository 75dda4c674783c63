"""The query shape every store module shares: one value from a query that always returns a row
(a count, a max, an aggregate), typed and checked once instead of `fetchone()[0]` everywhere."""

from __future__ import annotations

from typing import Any

import duckdb


def scalar(cur: duckdb.DuckDBPyConnection, sql: str, params: object = None) -> Any:
    """The first column of the first row of `sql` (with `params`). Raises LookupError when the
    query returns no row: use it only for queries that always return one."""
    row = cur.execute(sql, params).fetchone()
    if row is None:
        raise LookupError(f"no row from: {sql}")
    return row[0]
