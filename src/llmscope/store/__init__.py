"""The embedded store: one DuckDB file with the canonical ``spans``, ``evals``, ``logs`` and
``findings`` tables. An ordinary DuckDB database that other tools can open.

One module a job: :mod:`.schema` (the span columns, defined once), :mod:`.migrations`,
:mod:`.connection` (which file, locks, upgrades), :mod:`.loader` (transactional idempotent load),
:mod:`.pricing` and :mod:`.reprice`, :mod:`.retention`, :mod:`.export`, :mod:`.sql`.
"""

from .connection import DEFAULT_DB, LOCK_WAIT_S, StoreError, connect, resolve_db_path
from .export import export_parquet
from .loader import Loader, LoadResult, reuse_block_memory
from .reprice import reprice
from .retention import compact, prune
from .sql import query_arrow

__all__ = [
    "DEFAULT_DB",
    "LOCK_WAIT_S",
    "LoadResult",
    "Loader",
    "StoreError",
    "compact",
    "connect",
    "export_parquet",
    "prune",
    "query_arrow",
    "reprice",
    "resolve_db_path",
    "reuse_block_memory",
]
