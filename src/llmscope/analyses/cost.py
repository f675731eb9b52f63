"""Cost: tokens and dollars per group, their distribution, the most expensive requests, and
days whose cost per call breaks from its rolling baseline.

A *call* is one LLM or embedding span; a *request* is one trace (what a user asked for), which may
hold several calls. Unpriced calls (a model without a price) are counted, never added as zero.
"""

from __future__ import annotations

import duckdb
import pyarrow as pa

from ..query import GroupingLike, SpanFilter, group_by_clause, group_exprs, parse_duration, select_list
from ..store import query_arrow

PRICED_TYPES = "('llm', 'embedding')"

COST_SQL = """
WITH calls AS (
    SELECT {groups} trace_id, session_id, input_tokens, output_tokens, cache_read_tokens, cost_usd,
           coalesce(input_tokens, 0) + coalesce(output_tokens, 0) AS tokens,
           (cost_usd IS NULL AND (input_tokens IS NOT NULL OR output_tokens IS NOT NULL)) AS unpriced
    FROM spans WHERE span_type IN {priced} AND {where}
),
p AS (
    SELECT {group_cols} quantile_cont(cost_usd, 0.99) AS p99_cost FROM calls {group_by}
)
SELECT {group_cols_c}
    count(*) AS calls,
    count(DISTINCT c.trace_id) AS requests,
    count(DISTINCT c.session_id) AS sessions,
    sum(c.input_tokens)::BIGINT AS input_tokens,
    sum(c.output_tokens)::BIGINT AS output_tokens,
    sum(c.cache_read_tokens)::BIGINT AS cache_read_tokens,
    sum(c.cost_usd) AS cost_usd,
    round(sum(c.cost_usd) / nullif(sum(sum(c.cost_usd)) OVER (), 0), 4) AS share_of_total,
    sum(c.cost_usd) / nullif(count(c.cost_usd), 0) AS cost_per_call,
    sum(c.cost_usd) / nullif(count(DISTINCT c.trace_id), 0) AS cost_per_request,
    sum(c.cost_usd) / nullif(count(DISTINCT c.session_id), 0) AS cost_per_session,
    round(quantile_cont(c.tokens, 0.50), 1) AS p50_tokens,
    round(quantile_cont(c.tokens, 0.95), 1) AS p95_tokens,
    round(quantile_cont(c.tokens, 0.99), 1) AS p99_tokens,
    round(sum(c.cost_usd) FILTER (WHERE c.cost_usd >= p.p99_cost) / nullif(sum(c.cost_usd), 0), 4) AS top1pct_cost_share,
    count(*) FILTER (WHERE c.unpriced) AS unpriced_calls
FROM calls c {join_p}
{group_by_c}
ORDER BY cost_usd DESC NULLS LAST
"""

# Rank traces on two narrow columns first, then describe only the top N (describing all of them
# measured 4 s on 10M spans).
TOP_SQL = """
WITH matching AS (SELECT DISTINCT trace_id FROM spans WHERE {where}),
top AS (
    SELECT trace_id, sum(cost_usd) AS cost_usd FROM spans
    WHERE {restrict} GROUP BY trace_id HAVING sum(cost_usd) IS NOT NULL
    ORDER BY cost_usd DESC, trace_id LIMIT ?
)
SELECT s.trace_id,
       min(s.start_time) AS start_time,
       any_value(top.cost_usd) AS cost_usd,
       count(*) FILTER (WHERE s.span_type IN {priced}) AS calls,
       sum(s.input_tokens) FILTER (WHERE s.span_type IN {priced})::BIGINT AS input_tokens,
       sum(s.output_tokens) FILTER (WHERE s.span_type IN {priced})::BIGINT AS output_tokens,
       string_agg(DISTINCT s.request_model, ', ' ORDER BY s.request_model) AS models,
       any_value(s.feature) AS feature,
       any_value(s.prompt_version) AS prompt_version,
       any_value(s.user_id) AS user_id,
       count(*) FILTER (WHERE s.span_type IN {priced} AND s.cost_usd IS NULL
                        AND (s.input_tokens IS NOT NULL OR s.output_tokens IS NOT NULL)) AS unpriced_calls
FROM spans s JOIN top USING (trace_id)
WHERE s.trace_id IN (SELECT trace_id FROM top)
GROUP BY s.trace_id
ORDER BY cost_usd DESC, s.trace_id
"""

# Robust rolling baseline: the median of the previous `window` buckets, and a spread from their
# inter-quartile range (IQR / 1.349 estimates sigma for normal data and ignores outliers).
ANOMALY_SQL = """
WITH per AS (
    SELECT time_bucket(?::INTERVAL, start_time) AS bucket, {groups}
           count(*) AS calls, sum(cost_usd) AS cost_usd,
           sum(cost_usd) / nullif(count(cost_usd), 0) AS cost_per_call,
           avg(input_tokens) AS input_tokens_per_call
    FROM spans WHERE span_type IN {priced} AND {where}
    GROUP BY ALL
),
w AS (
    SELECT *,
        median(cost_per_call) OVER win AS baseline,
        (quantile_cont(cost_per_call, 0.75) OVER win - quantile_cont(cost_per_call, 0.25) OVER win) / 1.349 AS spread,
        count(cost_per_call) OVER win AS baseline_buckets
    FROM per
    WINDOW win AS ({partition} ORDER BY bucket ROWS BETWEEN ? PRECEDING AND 1 PRECEDING)
)
SELECT bucket, {group_cols} calls, cost_usd, cost_per_call, input_tokens_per_call, baseline,
       round(cost_per_call / nullif(baseline, 0), 3) AS ratio,
       round((cost_per_call - baseline) / greatest(spread, 0.05 * baseline, 1e-12), 2) AS robust_z,
       baseline_buckets >= ? AND cost_per_call / nullif(baseline, 0) >= ?
           AND (cost_per_call - baseline) / greatest(spread, 0.05 * baseline, 1e-12) >= ? AS anomaly
FROM w
ORDER BY {group_order}bucket
"""


def cost(con: duckdb.DuckDBPyConnection, flt: SpanFilter | None = None, by: GroupingLike = None) -> pa.Table:
    """Per group: calls, requests (traces), sessions, tokens, cost and its share of the total, cost
    per call/request/session, P50/P95/P99 tokens per call, the share of spend in the costliest 1%
    of calls, and the number of unpriced calls."""
    groups = group_exprs(by)
    where, params = (flt or SpanFilter()).sql()
    gcols = "".join(f'"{a}", ' for a, _ in groups)
    gcols_c = "".join(f'c."{a}", ' for a, _ in groups)
    # NULL-safe: calls without a feature (or model, …) form a group of their own
    join_p = (
        ("JOIN p ON " + " AND ".join(f'c."{a}" IS NOT DISTINCT FROM p."{a}"' for a, _ in groups)) if groups else ", p"
    )
    sql = COST_SQL.format(
        groups=select_list(groups),
        priced=PRICED_TYPES,
        where=where,
        group_cols=gcols,
        group_by=group_by_clause(groups),
        group_cols_c=gcols_c,
        join_p=join_p,
        group_by_c=("GROUP BY " + ", ".join(f'c."{a}"' for a, _ in groups)) if groups else "",
    )
    return query_arrow(con, sql, params)


def top_requests(con: duckdb.DuckDBPyConnection, flt: SpanFilter | None = None, n: int = 10) -> pa.Table:
    """The N most expensive requests (traces) with their models, tokens and trace ids."""
    flt = flt or SpanFilter()
    where, params = flt.sql()
    unfiltered = flt.since is None and flt.until is None and not flt.where
    restrict = "TRUE" if unfiltered else "trace_id IN (SELECT trace_id FROM matching)"
    return query_arrow(con, TOP_SQL.format(where=where, priced=PRICED_TYPES, restrict=restrict), params + [n])


def cost_anomalies(
    con: duckdb.DuckDBPyConnection,
    flt: SpanFilter | None = None,
    by: GroupingLike = None,
    every: str = "1d",
    window: int = 7,
    min_ratio: float = 1.3,
    min_z: float = 3.0,
    min_baseline: int = 3,
) -> pa.Table:
    """Cost per call per bucket against the median of the previous ``window`` buckets.

    A bucket is an anomaly when at least ``min_baseline`` earlier buckets exist, cost per call is
    ``min_ratio`` times the baseline or more, and its robust z-score (distance from the baseline in
    IQR-estimated sigmas, with a floor of 5% of the baseline so flat series do not explode) is at
    least ``min_z``."""
    seconds = int(parse_duration(every).total_seconds())
    groups = group_exprs(by)
    where, params = (flt or SpanFilter()).sql()
    partition = ("PARTITION BY " + ", ".join(f'"{a}"' for a, _ in groups)) if groups else ""
    sql = ANOMALY_SQL.format(
        groups=select_list(groups),
        priced=PRICED_TYPES,
        where=where,
        partition=partition,
        group_cols="".join(f'"{a}", ' for a, _ in groups),
        group_order="".join(f'"{a}", ' for a, _ in groups),
    )
    return query_arrow(con, sql, [f"{seconds} seconds"] + params + [window, min_baseline, min_ratio, min_z])


# Where an instrumentation records its own cost: how often, and by how much, it disagrees with ours
# (more than `tolerance`, relative to the computed cost). Disputes are mostly cache-token accounting
# (input tokens inclusive of cached ones, or additive), so disagreeing calls with cache tokens are counted.
REPORTED_SQL = """
WITH c AS (
    SELECT provider, coalesce(request_model, response_model) AS model, reported_cost_usd AS reported, cost_usd AS computed,
           coalesce(cache_read_tokens, 0) + coalesce(cache_write_tokens, 0) > 0 AS cached,
           CASE WHEN reported_cost_usd IS NOT NULL AND cost_usd IS NOT NULL
                THEN abs(reported_cost_usd - cost_usd) > ? * greatest(abs(cost_usd), 1e-12) END AS disagrees
    FROM spans WHERE span_type IN {priced} AND reported_cost_usd IS NOT NULL AND {where}
)
SELECT provider, model,
       count(*) AS reported_calls,
       count(computed) AS both_known,
       count(*) FILTER (WHERE disagrees) AS disagreeing,
       round(count(*) FILTER (WHERE disagrees) / nullif(count(computed), 0), 4) AS disagreement_rate,
       count(*) FILTER (WHERE disagrees AND cached) AS disagreeing_with_cache_tokens,
       round(quantile_cont(reported / nullif(computed, 0), 0.5) FILTER (WHERE disagrees), 4) AS median_ratio_when_disagreeing,
       sum(reported) AS reported_cost_usd,
       sum(computed) FILTER (WHERE reported IS NOT NULL) AS computed_cost_usd
FROM c
GROUP BY ALL
ORDER BY disagreeing DESC, reported_calls DESC, model
"""


def reported_vs_computed(
    con: duckdb.DuckDBPyConnection, flt: SpanFilter | None = None, tolerance: float = 0.05
) -> pa.Table:
    """Per provider and model, the calls whose instrumentation recorded a cost: how many could be compared
    with the price table, how many disagree by more than ``tolerance`` (5%), how many of those carry
    cache tokens, the median reported/computed ratio among them, and both sums."""
    where, params = (flt or SpanFilter()).sql()
    return query_arrow(con, REPORTED_SQL.format(priced=PRICED_TYPES, where=where), [tolerance] + params)
