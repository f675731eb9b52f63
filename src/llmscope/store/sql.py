"""Running SQL on the store and getting Arrow back."""

from __future__ import annotations

import duckdb
import pyarrow as pa


def query_arrow(con: duckdb.DuckDBPyConnection, sql: str, params: list | dict | None = None) -> pa.Table:
    """Run a query and return an Arrow table (DuckDB 2 renamed fetch_arrow_table to to_arrow_table)."""
    rel = con.sql(sql, params=params) if params is not None else con.sql(sql)
    if rel is None:  # a statement without a result
        return pa.table({})
    fetch = getattr(rel, "to_arrow_table", None) or rel.arrow
    return fetch()
