"""Errors: how often, and of which kind, so rate limits, timeouts, provider (5xx) and client (4xx)
errors can be told apart; and the messages behind them.

``error_type`` is normalised at ingest (see ``dialects.ERROR_CLASS_PATTERNS``): ``rate_limit``,
``timeout``, ``server_error``, ``client_error``, ``auth_error``, ``content_filter``, or the
exception's class name when none of those fits.
"""

from __future__ import annotations

import duckdb
import pyarrow as pa

from ..query import GroupingLike, SpanFilter, group_by_clause, group_exprs, parse_duration, select_list
from ..store import query_arrow

CLASSES = ("rate_limit", "timeout", "server_error", "client_error", "auth_error")

ERRORS_SQL = """
SELECT {groups}
    count(*) AS requests,
    count(*) FILTER (WHERE status = 'error') AS errors,
    round(count(*) FILTER (WHERE status = 'error') / count(*), 4) AS error_rate,
    {class_counts},
    count(*) FILTER (WHERE status = 'error' AND coalesce(error_type, '') NOT IN ({class_list})) AS other_errors
FROM spans
WHERE span_type = ? AND {where}
{group_by}
ORDER BY {order}
"""

MESSAGES_SQL = """
SELECT coalesce(error_type, 'error') AS error_type,
       left(coalesce(error_message, status_message, '(no message)'), 160) AS message,
       count(*) AS count,
       min(start_time) AS first_seen,
       max(start_time) AS last_seen,
       string_agg(DISTINCT coalesce(request_model, name), ', ' ORDER BY coalesce(request_model, name)) AS models,
       arg_max(trace_id, start_time) AS example_trace_id
FROM spans
WHERE status = 'error' AND span_type = ? AND {where}
GROUP BY 1, 2
ORDER BY count DESC, last_seen DESC
LIMIT ?
"""


def _class_columns() -> dict[str, str]:
    return {
        "class_counts": ",\n    ".join(
            f"count(*) FILTER (WHERE status = 'error' AND error_type = '{c}') AS {c}" for c in CLASSES
        ),
        "class_list": ", ".join(f"'{c}'" for c in CLASSES),
    }


def errors(
    con: duckdb.DuckDBPyConnection, flt: SpanFilter | None = None, by: GroupingLike = None, span_type: str = "llm"
) -> pa.Table:
    """Per group: requests, errors, error rate, and the count of each error class."""
    groups = group_exprs(by)
    where, params = (flt or SpanFilter()).sql()
    sql = ERRORS_SQL.format(
        groups=select_list(groups),
        **_class_columns(),
        where=where,
        group_by=group_by_clause(groups),
        order="errors DESC, requests DESC",
    )
    return query_arrow(con, sql, [span_type] + params)


def errors_series(
    con: duckdb.DuckDBPyConnection, every: str, flt: SpanFilter | None = None, span_type: str = "llm"
) -> pa.Table:
    """The same counts per time bucket (``every`` like 1h, 6h, 1d), oldest first: ``bucket``, then the
    columns of :func:`errors` without groups. Buckets without any span are left out."""
    seconds = int(parse_duration(every).total_seconds())
    where, params = (flt or SpanFilter()).sql()
    sql = ERRORS_SQL.format(
        groups="time_bucket(?::INTERVAL, start_time) AS bucket, ",
        **_class_columns(),
        where=where,
        group_by="GROUP BY 1",
        order="bucket",
    )
    return query_arrow(con, sql, [f"{seconds} seconds", span_type] + params)


def top_messages(
    con: duckdb.DuckDBPyConnection, flt: SpanFilter | None = None, span_type: str = "llm", limit: int = 10
) -> pa.Table:
    """The most frequent error messages with when they were seen and an example trace."""
    where, params = (flt or SpanFilter()).sql()
    return query_arrow(con, MESSAGES_SQL.format(where=where), [span_type] + params + [limit])
