"""Export to Hive-partitioned Parquet that other engines read."""

from __future__ import annotations

import os
from pathlib import Path

import duckdb


def export_parquet(con: duckdb.DuckDBPyConnection, out_dir: str | os.PathLike) -> dict[str, int]:
    """Write ``spans`` and ``evals`` as Hive-partitioned Parquet (``date=YYYY-MM-DD``)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    counts = {}
    for table, ts in (("spans", "start_time"), ("evals", "created_at")):
        n = con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0]
        counts[table] = n
        if n == 0:
            continue
        target = (out / table).as_posix().replace("'", "''")
        con.execute(f"""
            COPY (SELECT *, strftime(coalesce({ts}, TIMESTAMP '1970-01-01'), '%Y-%m-%d') AS date FROM {table})
            TO '{target}' (FORMAT parquet, PARTITION_BY (date), OVERWRITE_OR_IGNORE, COMPRESSION zstd)
        """)
    return counts
