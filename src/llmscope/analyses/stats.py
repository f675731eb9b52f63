"""What is in the store: totals, models, dialects, unpriced calls, and mapping coverage."""

from __future__ import annotations

import duckdb
import pyarrow as pa

from ..normalize import dialects as D
from ..store import query_arrow

TOTALS_SQL = """
SELECT count(*) AS spans,
       count(DISTINCT trace_id) AS traces,
       count(*) FILTER (WHERE span_type = 'llm') AS llm_calls,
       count(*) FILTER (WHERE span_type = 'embedding') AS embedding_calls,
       count(*) FILTER (WHERE status = 'error') AS error_spans,
       min(start_time) AS first_span,
       max(start_time) AS last_span,
       sum(input_tokens) FILTER (WHERE span_type IN ('llm', 'embedding')) AS input_tokens,
       sum(output_tokens) FILTER (WHERE span_type IN ('llm', 'embedding')) AS output_tokens,
       sum(cost_usd) AS cost_usd,
       count(*) FILTER (WHERE span_type IN ('llm', 'embedding') AND cost_usd IS NULL
                        AND (input_tokens IS NOT NULL OR output_tokens IS NOT NULL)) AS unpriced_calls,
       count(*) FILTER (WHERE span_type = 'llm' AND input_tokens IS NULL AND output_tokens IS NULL) AS llm_calls_without_usage,
       count(*) FILTER (WHERE span_type = 'llm' AND input_text IS NULL) AS llm_calls_without_prompt,
       (SELECT count(*) FROM evals) AS evals,
       (SELECT count(*) FROM ingest_runs) AS ingests
FROM spans
"""

MODELS_SQL = """
SELECT provider, coalesce(request_model, response_model) AS model, span_type,
       count(*) AS calls,
       sum(input_tokens) AS input_tokens,
       sum(output_tokens) AS output_tokens,
       sum(cost_usd) AS cost_usd,
       count(*) FILTER (WHERE cost_usd IS NULL AND (input_tokens IS NOT NULL OR output_tokens IS NOT NULL)) AS unpriced,
       string_agg(DISTINCT price_version, ', ' ORDER BY price_version) AS price_table
FROM spans WHERE span_type IN ('llm', 'embedding')
GROUP BY ALL ORDER BY calls DESC
"""

DIALECTS_SQL = """
SELECT dialect, span_type, count(*) AS spans, count(DISTINCT trace_id) AS traces,
       string_agg(DISTINCT scope_name, ', ' ORDER BY scope_name) AS scopes
FROM spans GROUP BY ALL ORDER BY dialect, spans DESC
"""

# Attribute keys in the watched families that no column reads. Indexed keys are folded to .N.
COVERAGE_SQL = """
WITH keys AS (
    SELECT dialect, unnest(json_keys(attributes)) AS key FROM spans
),
folded AS (
    SELECT dialect, regexp_replace(key, '\\.[0-9]+(\\.|$)', '.N\\1', 'g') AS key FROM keys
    WHERE {prefix_test}
)
SELECT key, dialect, count(*) AS spans
FROM folded
WHERE key NOT IN (SELECT key FROM _known_keys) AND NOT ({indexed_test})
GROUP BY ALL ORDER BY spans DESC, key
LIMIT ?
"""


def totals(con: duckdb.DuckDBPyConnection) -> dict:
    cur = con.execute(TOTALS_SQL)
    names = [d[0] for d in cur.description]
    return dict(zip(names, cur.fetchall()[0]))


def models(con: duckdb.DuckDBPyConnection) -> pa.Table:
    return query_arrow(con, MODELS_SQL)


def dialect_mix(con: duckdb.DuckDBPyConnection) -> pa.Table:
    return query_arrow(con, DIALECTS_SQL)


def unmapped_keys(con: duckdb.DuckDBPyConnection, limit: int = 30) -> pa.Table:
    """The mapping-coverage report: GenAI-family keys present in the data that no column reads.

    Conventions churn (a renamed key silently loses tokens or content), so this is where a new
    spelling shows up first.
    """
    known = pa.table({"key": sorted(D.known_attribute_keys())})
    con.register("_known_keys", known)
    try:
        prefix_test = " OR ".join(f"starts_with(key, '{p}')" for p in D.COVERAGE_PREFIXES)
        indexed = " OR ".join(f"starts_with(key, '{p}')" for p in D.INDEXED_PREFIXES)
        return query_arrow(con, COVERAGE_SQL.format(prefix_test=prefix_test, indexed_test=indexed), [limit])
    finally:
        con.unregister("_known_keys")


WINDOW_SQL = """
SELECT count(*) AS spans, count(DISTINCT trace_id) AS traces, min(start_time) AS first_span, max(start_time) AS last_span
FROM spans WHERE {where}
"""


def span_window(con: duckdb.DuckDBPyConnection, flt=None) -> dict:
    """Spans and traces matching a filter, and the times of the first and last of them."""
    from ..query import SpanFilter

    where, params = (flt or SpanFilter()).sql()
    cur = con.execute(WINDOW_SQL.format(where=where), params)
    names = [d[0] for d in cur.description]
    return dict(zip(names, cur.fetchall()[0]))
