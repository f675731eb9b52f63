"""Summary: the five signal families on one screen — performance, quality, cost, safety, agentic.

Each family reports what the store holds now; a family whose data does not exist yet (no evals
run, no safety scan) says so instead of showing zeros.
"""

from __future__ import annotations

import duckdb

from ..query import SpanFilter

PERF_SQL = """
SELECT count(*) AS calls,
       quantile_cont(duration_ms, 0.50) AS p50, quantile_cont(duration_ms, 0.95) AS p95,
       quantile_cont(duration_ms, 0.99) AS p99, quantile_cont(ttft_ms, 0.95) AS ttft_p95,
       avg(CASE WHEN status = 'error' THEN 1.0 ELSE 0.0 END) AS error_rate,
       count(*) FILTER (WHERE error_type = 'rate_limit') AS rate_limits,
       count(*) FILTER (WHERE error_type = 'timeout') AS timeouts,
       count(*) FILTER (WHERE error_type = 'server_error') AS server_errors
FROM spans WHERE span_type = 'llm' AND {where}
"""

COST_SQL = """
SELECT sum(cost_usd) AS cost, count(cost_usd) AS priced,
       count(*) FILTER (WHERE cost_usd IS NULL AND (input_tokens IS NOT NULL OR output_tokens IS NOT NULL)) AS unpriced,
       sum(input_tokens)::BIGINT AS tin, sum(output_tokens)::BIGINT AS tout,
       count(DISTINCT trace_id) AS requests
FROM spans WHERE span_type IN ('llm', 'embedding') AND {where}
"""

TOP_FEATURE_SQL = """
SELECT coalesce(feature, '(none)'), sum(cost_usd) FROM spans
WHERE span_type IN ('llm', 'embedding') AND {where} GROUP BY 1 ORDER BY 2 DESC NULLS LAST LIMIT 1
"""

AGENT_SQL = """
WITH per_trace AS (
    SELECT trace_id, count(*) FILTER (WHERE span_type IN ('llm', 'tool')) AS steps,
           count(*) FILTER (WHERE span_type = 'tool') AS tools,
           count(*) FILTER (WHERE span_type = 'tool' AND status = 'error') AS tool_errors
    FROM spans WHERE {where}
    GROUP BY trace_id HAVING bool_or(span_type IN ('agent', 'tool'))
)
SELECT count(*) AS runs, sum(tools)::BIGINT AS tool_calls, sum(tool_errors)::BIGINT AS tool_errors,
       max(steps) AS max_steps, quantile_cont(steps, 0.5) AS median_steps
FROM per_trace
"""

QUALITY_SQL = """
SELECT metric, count(*) AS n, avg(score) AS mean, avg(CASE WHEN passed THEN 1.0 ELSE 0.0 END) AS pass_rate
FROM evals WHERE trace_id IN (SELECT DISTINCT trace_id FROM spans WHERE {where})
GROUP BY metric ORDER BY n DESC
"""


SAFETY_SQL = """
SELECT (SELECT count(*) FROM findings WHERE (trace_id, span_id) IN (SELECT trace_id, span_id FROM spans WHERE {where})) AS findings,
       (SELECT count(DISTINCT (trace_id, span_id)) FROM scanned_spans WHERE (trace_id, span_id) IN (SELECT trace_id, span_id FROM spans WHERE {where})) AS scanned
"""


def _one(con, sql, params):
    cur = con.execute(sql, params)
    names = [d[0] for d in cur.description]
    row = cur.fetchall()[0]
    return dict(zip(names, row))


def _table_exists(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    return bool(con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = ?", [name]).fetchall()[0][0])


def summary(con: duckdb.DuckDBPyConnection, flt: SpanFilter | None = None) -> list[dict]:
    """Rows of (family, signal, value, note); values are numbers where they are numbers."""
    where, params = (flt or SpanFilter()).sql()
    rows: list[dict] = []

    def add(family, signal, value, note=""):
        rows.append({"family": family, "signal": signal, "value": value, "note": note})

    p = _one(con, PERF_SQL.format(where=where), params)
    add("performance", "llm_calls", p["calls"])
    if p["calls"]:
        add("performance", "latency_p50_ms", round(p["p50"], 1))
        add("performance", "latency_p95_ms", round(p["p95"], 1))
        add("performance", "latency_p99_ms", round(p["p99"], 1))
        add(
            "performance",
            "ttft_p95_ms",
            round(p["ttft_p95"], 1) if p["ttft_p95"] is not None else None,
            "" if p["ttft_p95"] is not None else "no streaming timing recorded",
        )
        add(
            "performance",
            "error_rate",
            round(p["error_rate"], 4),
            f"{p['rate_limits']} rate limits, {p['timeouts']} timeouts, {p['server_errors']} server errors",
        )

    q = con.execute(QUALITY_SQL.format(where=where), params).fetchall()
    if q:
        for metric, n, mean, pass_rate in q:
            add(
                "quality",
                f"{metric}_mean",
                round(mean, 3) if mean is not None else None,
                f"{n} scores, pass rate {pass_rate:.1%}",
            )
    else:
        add("quality", "scores", None, "not yet scored: run `llmscope eval`")

    c = _one(con, COST_SQL.format(where=where), params)
    add("cost", "cost_usd", c["cost"])
    add("cost", "cost_per_request_usd", c["cost"] / c["requests"] if c["cost"] is not None and c["requests"] else None)
    add("cost", "input_tokens", c["tin"] or 0)
    add("cost", "output_tokens", c["tout"] or 0)
    add("cost", "unpriced_calls", c["unpriced"], "add prices with --prices" if c["unpriced"] else "")
    top = con.execute(TOP_FEATURE_SQL.format(where=where), params).fetchall()
    if top and top[0][1] is not None:
        add("cost", "top_feature_cost_usd", top[0][1], f"feature {top[0][0]}")

    # the tables exist from the first migration on; a scan leaves its mark in scanned_spans
    scanned = (
        _one(con, SAFETY_SQL.format(where=where), params + params)
        if _table_exists(con, "scanned_spans")
        else {"scanned": 0}
    )
    if scanned["scanned"]:
        add("safety", "findings", scanned["findings"], f"in {scanned['scanned']:,} scanned spans")
    else:
        add("safety", "findings", None, "not yet scanned: run `llmscope scan`")

    a = _one(con, AGENT_SQL.format(where=where), params)
    if a["runs"]:
        add("agentic", "agent_runs", a["runs"])
        add(
            "agentic",
            "tool_calls",
            a["tool_calls"],
            f"tool error rate {a['tool_errors'] / a['tool_calls']:.1%}" if a["tool_calls"] else "",
        )
        add("agentic", "max_steps_in_a_run", a["max_steps"], f"median {a['median_steps']:.0f}")
    else:
        add("agentic", "agent_runs", 0, "no agent or tool spans")
    return rows
