"""Latency: exact percentiles of duration and time to first token, throughput and error rate.

Percentiles are DuckDB's ``quantile_cont`` over the raw values (linear interpolation between
closest ranks), never averages of pre-bucketed figures.
"""

from __future__ import annotations

import duckdb
import pyarrow as pa

from ..store import query_arrow
from .filters import SpanFilter, parse_duration
from .groups import group_by_clause, group_exprs, select_list

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
    round(count(*) / nullif(epoch(max(end_time)) - epoch(min(start_time)), 0), 3) AS req_per_s,
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
    round(quantile_cont(duration_ms, 0.99), 1) AS p99_ms,
    round(quantile_cont(ttft_ms, 0.99), 1) AS ttft_p99_ms,
    round(avg(CASE WHEN status = 'error' THEN 1.0 ELSE 0.0 END), 4) AS error_rate
FROM spans
WHERE span_type = ? AND {where}
GROUP BY ALL
ORDER BY bucket{group_order}
"""


def latency(con: duckdb.DuckDBPyConnection, flt: SpanFilter | None = None, by: str | None = None,
            span_type: str = "llm") -> pa.Table:
    """One row per group: count, P50/P95/P99/max duration, TTFT percentiles, time per output
    token, output tokens/s, requests/s over the group's time span, and error rate."""
    groups = group_exprs(by)
    where, params = (flt or SpanFilter()).sql()
    sql = LATENCY_SQL.format(groups=select_list(groups), where=where, group_by=group_by_clause(groups))
    return query_arrow(con, sql, [span_type] + params)


def latency_series(con: duckdb.DuckDBPyConnection, every: str, flt: SpanFilter | None = None, by: str | None = None,
                   span_type: str = "llm") -> pa.Table:
    """The same figures per time bucket (``every`` like 1h, 1d), for charts and alerting."""
    seconds = int(parse_duration(every).total_seconds())
    groups = group_exprs(by)
    where, params = (flt or SpanFilter()).sql()
    order = "".join(f', "{a}"' for a, _ in groups)
    sql = SERIES_SQL.format(groups=select_list(groups), where=where, group_order=order)
    return query_arrow(con, sql, [f"{seconds} seconds", span_type] + params)
