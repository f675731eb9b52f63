"""Latency: exact percentiles of duration and time to first token, throughput and error rate.

Percentiles are DuckDB's ``quantile_cont`` over the raw values (linear interpolation between
closest ranks), never averages of pre-bucketed figures.
"""

from __future__ import annotations

import duckdb
import pyarrow as pa

from ..query import GroupingLike, SpanFilter, group_by_clause, group_exprs, parse_duration, select_list
from ..store import query_arrow

# Where streaming timing allows, time per output token is the decode time (duration - TTFT)
# spread over the output tokens after the first.
LATENCY_SQL = """
SELECT {groups}
    count(*) AS requests,
    round(quantile_cont(duration_ms, 0.50), 1) AS p50_ms,
    round(quantile_cont(duration_ms, 0.95), 1) AS p95_ms,
    round(quantile_cont(duration_ms, 0.99), 1) AS p99_ms,
    round(max(duration_ms), 1) AS max_ms,
    count(ttft_ms) AS ttft_known,
    round(quantile_cont(ttft_ms, 0.50), 1) AS ttft_p50_ms,
    round(quantile_cont(ttft_ms, 0.95), 1) AS ttft_p95_ms,
    round(quantile_cont(ttft_ms, 0.99), 1) AS ttft_p99_ms,
    round(quantile_cont(CASE WHEN ttft_ms IS NOT NULL AND output_tokens > 1 AND duration_ms > ttft_ms
                             THEN (duration_ms - ttft_ms) / (output_tokens - 1) END, 0.50), 2) AS tpot_p50_ms,
    round(sum(output_tokens) FILTER (WHERE status <> 'error') / nullif(sum(duration_ms) FILTER (WHERE status <> 'error' AND output_tokens IS NOT NULL) / 1000, 0), 1) AS output_tokens_per_s,
    -- not rounded: a low-traffic group over days has well under 0.001 requests a second
    count(*) / nullif(epoch(max(end_time)) - epoch(min(start_time)), 0) AS req_per_s,
    round(avg(CASE WHEN status = 'error' THEN 1.0 ELSE 0.0 END), 4) AS error_rate
FROM spans
WHERE span_type = ? AND {where}
{group_by}
ORDER BY requests DESC
"""

SERIES_SQL = """
SELECT time_bucket(?::INTERVAL, start_time) AS bucket, {groups}
    count(*) AS requests,
    round(quantile_cont(duration_ms, 0.50), 1) AS p50_ms,
    round(quantile_cont(duration_ms, 0.95), 1) AS p95_ms,
    round(quantile_cont(duration_ms, 0.99), 1) AS p99_ms,
    round(quantile_cont(ttft_ms, 0.50), 1) AS ttft_p50_ms,
    round(quantile_cont(ttft_ms, 0.99), 1) AS ttft_p99_ms,
    round(avg(CASE WHEN status = 'error' THEN 1.0 ELSE 0.0 END), 4) AS error_rate
FROM spans
WHERE span_type = ? AND {where}
GROUP BY ALL
ORDER BY bucket{group_order}
"""


def latency(
    con: duckdb.DuckDBPyConnection, flt: SpanFilter | None = None, by: GroupingLike = None, span_type: str = "llm"
) -> pa.Table:
    """One row per group: count, P50/P95/P99/max duration, TTFT percentiles, time per output
    token, output tokens/s, requests/s over the group's time span, and error rate."""
    groups = group_exprs(by)
    where, params = (flt or SpanFilter()).sql()
    sql = LATENCY_SQL.format(groups=select_list(groups), where=where, group_by=group_by_clause(groups))
    return query_arrow(con, sql, [span_type] + params)


def latency_series(
    con: duckdb.DuckDBPyConnection,
    every: str,
    flt: SpanFilter | None = None,
    by: GroupingLike = None,
    span_type: str = "llm",
) -> pa.Table:
    """The same figures per time bucket (``every`` like 1h, 1d), for charts and alerting."""
    seconds = int(parse_duration(every).total_seconds())
    groups = group_exprs(by)
    where, params = (flt or SpanFilter()).sql()
    order = "".join(f', "{a}"' for a, _ in groups)
    sql = SERIES_SQL.format(groups=select_list(groups), where=where, group_order=order)
    return query_arrow(con, sql, [f"{seconds} seconds", span_type] + params)


# Histogram buckets on a 1-2-5 scale (ms): fine where LLM calls usually land, coarse in the tail.
HISTOGRAM_EDGES_MS = (10, 20, 50, 100, 200, 500, 1_000, 2_000, 5_000, 10_000, 20_000, 50_000, 100_000, 200_000, 500_000)

HISTOGRAM_SQL = """
WITH edges(bucket, lo_ms, hi_ms) AS (VALUES {edges}),
s AS (
    SELECT {groups} {column} AS v FROM spans
    WHERE span_type = ? AND {where} AND {column} IS NOT NULL
)
SELECT {group_cols} e.bucket, e.lo_ms, e.hi_ms, count(*) AS requests,
       round(count(*) / sum(count(*)) OVER ({partition}), 4) AS share
FROM s JOIN edges e ON s.v >= e.lo_ms AND (e.hi_ms IS NULL OR s.v < e.hi_ms)
GROUP BY {order} e.bucket, e.lo_ms, e.hi_ms
ORDER BY {order} e.bucket
"""


def latency_histogram(
    con: duckdb.DuckDBPyConnection,
    flt: SpanFilter | None = None,
    by: GroupingLike = None,
    span_type: str = "llm",
    of: str = "duration_ms",
) -> pa.Table:
    """How the calls spread over latency buckets (10 ms … 500 s on a 1-2-5 scale), per group:
    ``bucket, lo_ms, hi_ms`` (hi NULL for the open last bucket), ``requests`` and ``share`` of the group.
    ``of``: ``duration_ms`` or ``ttft_ms``. Empty buckets are left out."""
    if of not in ("duration_ms", "ttft_ms"):
        raise ValueError(f"a histogram of duration_ms or ttft_ms, not {of!r}")
    groups = group_exprs(by)
    where, params = (flt or SpanFilter()).sql()
    bounds = (0,) + HISTOGRAM_EDGES_MS
    edges = ", ".join(
        f"({i}, {lo}, {hi if hi is not None else 'NULL'})"
        for i, (lo, hi) in enumerate(zip(bounds, HISTOGRAM_EDGES_MS + (None,)))
    )
    cols = [f'"{a}"' for a, _ in groups]
    sql = HISTOGRAM_SQL.format(
        edges=edges,
        groups=select_list(groups),
        column=of,
        where=where,
        group_cols="".join(f"{c}, " for c in cols),
        partition=("PARTITION BY " + ", ".join(cols)) if cols else "",
        order="".join(f"{c}, " for c in cols),
    )
    return query_arrow(con, sql, [span_type] + params)
