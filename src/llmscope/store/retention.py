"""Retention: delete old spans or only their content, and rewrite the file so it is gone from disk."""

from __future__ import annotations

import os
from pathlib import Path

import duckdb

from .connection import connect, quiet, resolve_db_path

_PLAN_SQL = """
SELECT count(*) AS spans, count(DISTINCT trace_id) AS traces, min(start_time) AS first, max(start_time) AS last,
       coalesce(sum(strlen(coalesce(input_text, '')) + strlen(coalesce(output_text, ''))
                + strlen(coalesce(CAST(input_messages AS VARCHAR), ''))
                + strlen(coalesce(CAST(output_messages AS VARCHAR), ''))
                + strlen(coalesce(CAST(attributes AS VARCHAR), ''))
                + strlen(coalesce(CAST(events AS VARCHAR), ''))), 0)::BIGINT AS text_bytes
FROM spans WHERE start_time < ?
"""


def prune_plan(con: duckdb.DuckDBPyConnection, older_than, content_only: bool = False) -> dict:
    """What :func:`prune` would remove, without removing it: spans, traces, time range, text bytes."""
    spans, traces, first, last, text_bytes = con.execute(_PLAN_SQL, [older_than]).fetchall()[0]
    return {
        "spans": spans,
        "traces": traces,
        "first": first,
        "last": last,
        "content_bytes": text_bytes,
        "content_only": content_only,
        "older_than": older_than,
        "dry_run": True,
    }


def prune(db: str | os.PathLike | None, older_than, content_only: bool = False) -> dict:
    """Delete spans older than ``older_than`` (a datetime), or only their content, then rewrite the
    file so the data is really gone from disk (DuckDB reuses freed blocks but does not wipe them).

    ``content_only`` keeps every metric (times, tokens, cost, status, error class, models) and removes
    prompts, responses, messages, content attributes, span events, error and status messages (they
    carry exception text), log records, finding excerpts and judges' explanations (they quote answers).
    """
    from ..normalize.privacy import CONTENT_KEYS, CONTENT_PREFIXES

    path = resolve_db_path(db)
    con = connect(path)
    try:
        con.execute("BEGIN TRANSACTION")
        n = con.execute("SELECT count(*) FROM spans WHERE start_time < ?", [older_than]).fetchall()[0][0]
        if content_only:
            keys = ", ".join("'" + k.replace("'", "''") + "'" for k in sorted(CONTENT_KEYS))
            prefixes = " OR ".join(f"starts_with(k, '{p}')" for p in CONTENT_PREFIXES)
            con.execute(
                f"""
            UPDATE spans SET input_text = NULL, output_text = NULL, input_messages = NULL, output_messages = NULL,
                events = NULL, error_message = NULL, status_message = NULL,
                attributes = (SELECT coalesce(json_group_object(k, json_extract(spans.attributes, '$."' || replace(k, '"', '\\"') || '"')), '{{}}')
                              FROM (SELECT unnest(json_keys(spans.attributes)) AS k)
                              WHERE NOT (k IN ({keys}) OR {prefixes}))
            WHERE start_time < ?""",
                [older_than],
            )
            con.execute(
                """DELETE FROM logs WHERE (trace_id, span_id) IN
                           (SELECT trace_id, span_id FROM spans WHERE start_time < ?)""",
                [older_than],
            )
            con.execute("UPDATE findings SET excerpt = NULL WHERE start_time < ?", [older_than])
            # A judge's explanation quotes the answer it judged; the cache holds the same text.
            old_traces = "SELECT DISTINCT trace_id FROM spans WHERE start_time < ?"
            con.execute(
                f"""UPDATE eval_cache SET explanation = NULL WHERE explanation IN
                    (SELECT explanation FROM evals WHERE trace_id IN ({old_traces}))""",
                [older_than],
            )
            con.execute(f"UPDATE evals SET explanation = NULL WHERE trace_id IN ({old_traces})", [older_than])
        else:
            for table in ("logs", "findings", "scanned_spans", "evals"):
                con.execute(
                    f"""DELETE FROM {table} WHERE trace_id IN
                                (SELECT trace_id FROM spans GROUP BY trace_id HAVING max(start_time) < ?)""",
                    [older_than],
                )
            con.execute("DELETE FROM spans WHERE start_time < ?", [older_than])
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        con.close()
        raise
    con.close()
    size_before = path.stat().st_size
    compact(path)
    return {"spans": n, "content_only": content_only, "bytes_before": size_before, "bytes_after": path.stat().st_size}


def compact(path: Path) -> None:
    """Copy the live data into a fresh file and swap it in: freed blocks (and their bytes) are gone."""
    tmp = path.with_name(path.name + ".compact")
    for p in (tmp, Path(str(tmp) + ".wal")):
        p.unlink(missing_ok=True)
    con = quiet(duckdb.connect(str(path)))
    try:
        con.execute("CHECKPOINT")
        con.execute(f"ATTACH '{tmp.as_posix()}' AS fresh")
        con.execute("COPY FROM DATABASE " + con.execute("SELECT current_database()").fetchall()[0][0] + " TO fresh")
        con.execute("DETACH fresh")
    finally:
        con.close()
    os.replace(tmp, path)
    Path(str(path) + ".wal").unlink(missing_ok=True)
