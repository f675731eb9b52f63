"""Opening the store file: which file, waiting while another process writes, schema upgrades."""

from __future__ import annotations

import os
import time
from pathlib import Path

import duckdb

from ..errors import StoreError
from . import migrations

DEFAULT_DB = "llmscope.duckdb"
LOCK_WAIT_S = 10.0  # how long to wait for another process (an ingest, a collector flush) to release the file


def resolve_db_path(db: str | os.PathLike | None = None) -> Path:
    """``--db`` wins, then ``$LLMSCOPE_DB``, then ``./llmscope.duckdb``."""
    return Path(db or os.environ.get("LLMSCOPE_DB") or DEFAULT_DB)


def connect(
    db: str | os.PathLike | None = None, read_only: bool = False, wait_s: float | None = None
) -> duckdb.DuckDBPyConnection:
    """Open the store; ``wait_s`` (default: 10 s for readers, 0 for writers, whose callers decide) is
    how long to wait while another process holds the file."""
    path = resolve_db_path(db)
    if read_only and not path.exists():
        raise StoreError(f"no store at {path}: run `llmscope ingest FILE` first (or pass --db / set LLMSCOPE_DB)")
    # A writer (ingest, or `collect` during a flush) holds the file for a moment: wait for it.
    deadline = time.monotonic() + (wait_s if wait_s is not None else (LOCK_WAIT_S if read_only else 0.0))
    while True:
        try:
            con = duckdb.connect(str(path), read_only=read_only)
            break
        except duckdb.IOException as e:
            msg = str(e).splitlines()[0]
            if "lock" in msg.lower():
                if time.monotonic() < deadline:
                    time.sleep(0.1)
                    continue
                raise StoreError(
                    f"{path} is in use by another llmscope process that is writing to it ({msg})"
                ) from None
            raise StoreError(f"cannot open {path}: {msg}") from None
    if not read_only:
        migrations.migrate(con)
    elif migrations.pending(con):
        con.close()
        raise StoreError(f"{path} needs a schema upgrade: run any writing command (e.g. `llmscope ingest`) first")
    return con
