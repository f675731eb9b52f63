"""Opening the store file: which file, waiting while another process writes, schema upgrades."""

from __future__ import annotations

import os
import time
from pathlib import Path

import duckdb

from ..errors import StoreBusy, StoreError
from . import migrations

DEFAULT_DB = "llmscope.duckdb"
LOCK_WAIT_S = 10.0  # how long to wait for another process (an ingest, a collector flush) to release the file


def resolve_db_path(db: str | os.PathLike | None = None) -> Path:
    """``--db`` wins, then ``$LLMSCOPE_DB``, then ``./llmscope.duckdb``."""
    return Path(db or os.environ.get("LLMSCOPE_DB") or DEFAULT_DB)


# What a file that is not a DuckDB database usually is, by its first bytes (a wrong --db must say so).
_KNOWN_HEADS = (
    (b"\x1f\x8b", "a gzip file"),
    (b"PAR1", "a Parquet file"),
    (b"SQLite format 3", "an SQLite database"),
    (b"PK\x03\x04", "a zip file"),
    (b"{", "a JSON file"),
    (b"[", "a JSON file"),
)

# Reads run sandboxed: the store's tables and nothing else (no files, no extensions); the settings are
# locked once the session is set up (quiet(), below).
SANDBOX = {
    "enable_external_access": "false",
    "autoinstall_known_extensions": "false",
    "autoload_known_extensions": "false",
}


def quiet(con: duckdb.DuckDBPyConnection, lock: bool = False) -> duckdb.DuckDBPyConnection:
    """DuckDB draws a progress bar on stdout for queries over 2 s: it would land inside `--format json`
    output and in the collector's stdout (seen: a spool replay's bar as its first line). A session
    setting, so it is set on each connection; ``lock`` then freezes every setting."""
    con.execute("SET enable_progress_bar = false")
    if lock:
        con.execute("SET lock_configuration = true")
    return con


def kind_of(head: bytes) -> str:
    """What a file that is not a DuckDB database is, in words, from its first bytes."""
    kind = next((what for magic, what in _KNOWN_HEADS if head.lstrip().startswith(magic)), None)
    if kind is not None:
        return kind
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:  # a multi-byte character cut at the end of the head is still text
        try:
            text = head[:-3].decode("utf-8")
        except UnicodeDecodeError:
            return "binary data"
    if any(ord(c) < 32 and c not in "\t\r\n" for c in text):
        return "binary data"
    first = text.splitlines()[0] if text.splitlines() else ""
    for sep, what in ((",", "a CSV file"), ("\t", "a tab-separated file"), (";", "a CSV file")):
        if first.count(sep) >= 1 and len(text.splitlines()) > 1:
            return what
    return "a text file"


def check_file(path: Path) -> None:
    """Raise :class:`StoreError` if ``path`` exists and is not a DuckDB database (nothing is written)."""
    if path.is_dir():
        raise StoreError(f"{path} is a directory, not a store file (give a file such as {path / DEFAULT_DB})")
    if not path.exists():
        return
    try:
        with open(path, "rb") as f:
            head = f.read(4096)
    except OSError as e:
        raise StoreError(f"cannot read {path}: {e.strerror}") from None
    if not head:
        raise StoreError(f"{path} is an empty file, not a DuckDB database: remove it or give another --db")
    if head[8:12] == b"DUCK":
        return
    raise StoreError(
        f"{path} is {kind_of(head)}, not a DuckDB store: give the store file with --db (it was left untouched)"
    )


def _holder(msg: str) -> str:
    """DuckDB names the process that holds the lock ("... held in /usr/bin/python3 (PID 123)")."""
    import re

    m = re.search(r"held in (\S+) \(PID (\d+)\)", msg)
    return f" (PID {m.group(2)}, {Path(m.group(1)).name})" if m else ""


def connect(
    db: str | os.PathLike | None = None,
    read_only: bool = False,
    wait_s: float | None = None,
    sandbox: bool = False,
) -> duckdb.DuckDBPyConnection:
    """Open the store; ``wait_s`` (default: 10 s for readers, 0 for writers, whose callers decide) is
    how long to wait while another process holds the file. ``sandbox`` (read-only only): the
    connection sees the store's tables and nothing else."""
    path = resolve_db_path(db)
    check_file(path)
    if read_only and not path.exists():
        raise StoreError(f"no store at {path}: run `llmscope ingest FILE` first (or pass --db / set LLMSCOPE_DB)")
    config = dict(SANDBOX) if sandbox and read_only else {}
    # A writer (ingest, or `collect` during a flush) holds the file for a moment: wait for it.
    deadline = time.monotonic() + (wait_s if wait_s is not None else (LOCK_WAIT_S if read_only else 0.0))
    while True:
        try:
            con = quiet(duckdb.connect(str(path), read_only=read_only, config=config), lock=bool(config))
            break
        except duckdb.IOException as e:
            msg = str(e).splitlines()[0]
            if "lock" in msg.lower():
                if time.monotonic() < deadline:
                    time.sleep(0.1)
                    continue
                raise StoreBusy(
                    f"{path} is held by another process{_holder(msg)}; "
                    f"{'readers wait for a writer up to 10 s' if read_only else 'try again when it is done'}"
                ) from None
            raise StoreError(f"cannot open {path}: {msg}") from None
        except duckdb.ConnectionException as e:
            # This process already holds the file with other settings (a notebook's own connection):
            # share that instance. Code in this process can reach the disk anyway; the sandbox guards
            # what a command line hands in.
            if config and "different configuration" in str(e):
                config = {}
                continue
            raise StoreError(f"cannot open {path}: {str(e).splitlines()[0]}") from None
        except duckdb.Error as e:
            raise StoreError(f"cannot open {path}: {str(e).splitlines()[0]}") from None
    if not read_only:
        migrations.migrate(con)
    elif migrations.pending(con):
        con.close()
        raise StoreError(f"{path} needs a schema upgrade: run any writing command (e.g. `llmscope ingest`) first")
    return con
