"""Traces: the list of traces with their totals, and one trace's spans as a tree."""

from __future__ import annotations

import duckdb
import pyarrow as pa

from ..query import SpanFilter
from ..store import query_arrow

# Rank the traces on their two narrow columns first (start, end), then describe only the `limit` shown:
# describing every trace (ordered first() aggregates of 1M spans) measured 1.2 s for 5 rows.
LIST_SQL = """
WITH matching AS (
    SELECT DISTINCT trace_id FROM spans WHERE {where}
),
ranked AS (
    SELECT t.trace_id, min(t.start_time) AS start_time,
           round(epoch_ms(max(t.end_time)) - epoch_ms(min(t.start_time)), 1)::DOUBLE AS duration_ms
    FROM spans t {matching}
    GROUP BY t.trace_id
    ORDER BY {order}
    LIMIT ?
)
SELECT
    t.trace_id,
    min(t.start_time) AS start_time,
    round(epoch_ms(max(t.end_time)) - epoch_ms(min(t.start_time)), 1)::DOUBLE AS duration_ms,
    coalesce(first(t.name ORDER BY t.start_time) FILTER (WHERE t.parent_span_id IS NULL),
             first(t.name ORDER BY t.start_time)) AS root_name,
    first(t.service_name ORDER BY t.start_time) FILTER (WHERE t.service_name IS NOT NULL) AS service_name,
    count(*) AS spans,
    count(*) FILTER (WHERE t.span_type = 'llm') AS llm_calls,
    sum(t.input_tokens) FILTER (WHERE t.span_type IN ('llm', 'embedding'))::BIGINT AS input_tokens,
    sum(t.output_tokens) FILTER (WHERE t.span_type IN ('llm', 'embedding'))::BIGINT AS output_tokens,
    sum(t.cost_usd) AS cost_usd,
    CASE WHEN bool_or(t.status = 'error') THEN 'error'
         WHEN bool_or(t.status = 'ok') THEN 'ok' ELSE 'unset' END AS status,
    first(t.user_id) FILTER (WHERE t.user_id IS NOT NULL) AS user_id
FROM spans t
WHERE t.trace_id IN (SELECT trace_id FROM ranked)
GROUP BY t.trace_id
ORDER BY {order}
"""

# ``order`` of list_traces -> ORDER BY (trace_id last, so ties come out the same every time)
ORDERS = {"newest": "start_time DESC, trace_id", "slowest": "duration_ms DESC, trace_id"}


def list_traces(
    con: duckdb.DuckDBPyConnection, flt: SpanFilter | None = None, limit: int = 50, order: str = "newest"
) -> pa.Table:
    """One row per trace that has at least one span matching the filter, newest first (or the
    slowest first: ``order="slowest"``)."""
    if order not in ORDERS:
        raise ValueError(f"order is one of {', '.join(ORDERS)}, not {order!r}")
    where, params = (flt or SpanFilter()).sql()
    matching = "" if where.strip() == "TRUE" else "JOIN matching USING (trace_id)"  # every trace: no join
    return query_arrow(con, LIST_SQL.format(where=where, order=ORDERS[order], matching=matching), params + [limit])


SPANS_SQL = """
SELECT trace_id, span_id, parent_span_id, name, span_type, kind, service_name, start_time, end_time, duration_ms,
       status, error_type, error_message, provider, request_model, response_model, input_tokens, output_tokens,
       cache_read_tokens, cost_usd, ttft_ms, finish_reason, agent_name, tool_name, user_id, session_id, feature,
       prompt_version, input_text, output_text, input_messages, output_messages, dialect
FROM spans WHERE trace_id = ? ORDER BY start_time, span_id
"""


def find_trace_id(con: duckdb.DuckDBPyConnection, prefix: str) -> list[str]:
    """Trace ids starting with ``prefix`` (users paste short ids)."""
    p = prefix.strip().lower()
    return [
        r[0]
        for r in con.execute(
            "SELECT DISTINCT trace_id FROM spans WHERE starts_with(trace_id, ?) ORDER BY 1 LIMIT 5", [p]
        ).fetchall()
    ]


def trace_tree(con: duckdb.DuckDBPyConnection, trace_id: str) -> list[dict]:
    """The trace's spans in tree order (children by start time), each with ``depth`` and ``offset_ms``.

    Spans whose parent is missing from the store are shown as roots, so nothing is hidden.
    """
    return _tree(query_arrow(con, SPANS_SQL, [trace_id]).to_pylist())


def trace_trees(con: duckdb.DuckDBPyConnection, trace_ids: list[str]) -> dict[str, list[dict]]:
    """:func:`trace_tree` of several traces in one scan of the store: {trace_id: rows} (missing ids left out)."""
    sql = SPANS_SQL.replace("WHERE trace_id = ?", "WHERE trace_id IN (SELECT unnest(?::VARCHAR[]))")
    by_trace: dict[str, list[dict]] = {}
    for r in query_arrow(con, sql, [list(dict.fromkeys(trace_ids))]).to_pylist():
        by_trace.setdefault(r["trace_id"], []).append(r)
    return {t: _tree(rows) for t, rows in by_trace.items()}


def _tree(rows: list[dict]) -> list[dict]:
    if not rows:
        return []
    t0 = min(r["start_time"] for r in rows if r["start_time"] is not None)
    ids = {r["span_id"] for r in rows}
    children: dict[str | None, list[dict]] = {}
    for r in rows:
        parent = r["parent_span_id"] if r["parent_span_id"] in ids else None
        children.setdefault(parent, []).append(r)
    out: list[dict] = []

    def walk(parent: str | None, depth: int, seen: set) -> None:
        for r in children.get(parent, []):
            if r["span_id"] in seen:  # a cycle in bad data must not hang the viewer
                continue
            seen.add(r["span_id"])
            r["depth"] = depth
            r["offset_ms"] = (r["start_time"] - t0).total_seconds() * 1000 if r["start_time"] else 0.0
            out.append(r)
            walk(r["span_id"], depth + 1, seen)

    walk(None, 0, set())
    return out
