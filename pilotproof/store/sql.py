"""The query shapes every store module shares: the one row of a query that always returns a
row (a count, a max, an aggregate) and its first value, typed and checked once instead of
`fetchone()[0]` everywhere."""

from __future__ import annotations

from typing import Any

import duckdb


def one_row(cur: duckdb.DuckDBPyConnection, sql: str, params: object = None) -> tuple[Any, ...]:
    """The first row of `sql` (with `params`). Raises LookupError when the query returns no row:
    use it only for queries that always return one."""
    row = cur.execute(sql, params).fetchone()
    if row is None:
        raise LookupError(f"no row from: {sql}")
    return row


def scalar(cur: duckdb.DuckDBPyConnection, sql: str, params: object = None) -> Any:
    """The first value of `one_row(cur, sql, params)`."""
    return one_row(cur, sql, params)[0]
