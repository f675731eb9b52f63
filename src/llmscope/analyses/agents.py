"""Agents: loops, runaway runs, tool health and workflow completion, read from the trace structure
(trace -> agent span -> LLM / tool / retriever spans), in windowed SQL.

Definitions (documented in ``llmscope report loops --help``):

* A **step** is an LLM or tool span. Its **agent** is the nearest ancestor agent span (up to 4
  levels), or the trace when there is none.
* **Exact repeat**: the same tool called with the same normalised arguments (lower case, white
  space removed) ``min_repeats`` or more times in a row in one agent's tool sequence.
* **Cycle**: a pattern of 2-4 tool calls (A→B→A→B…) whose calls, arguments included, repeat
  ``min_repeats`` or more times in a row; found on the ordered tool sequence by comparing each call
  with the call ``period`` places earlier (gaps-and-islands), so it is not limited to adjacent
  repeats.
* **Repeated in a window**: the same call (tool and arguments) ``min_repeats`` or more times
  among ``window`` consecutive tool calls, with other calls between them, where no exact repeat or
  cycle already explains it.
* **Runaway**: a trace with more than ``max_steps`` steps or longer than ``max_duration_s``.
* **Wasted** tokens and cost: those of the LLM calls inside the loop after its first round (from
  the second occurrence of the pattern to the end of the loop) — what an agent that stopped after
  one round would not have spent.
"""

from __future__ import annotations

import duckdb
import pyarrow as pa

from ..query import GroupingLike, SpanFilter, group_by_clause, group_exprs, select_list
from ..store import query_arrow

# Steps with their agent: the nearest agent among a step's parent and the three spans above it. Only
# spans with children can be ancestors, so the walk runs on those (a fifth of the spans in agent
# traces): each gets its nearest agent, itself or up to three levels up (``ancestry``), and a step
# then takes its parent's, in one join of the steps (four joins of every step, and a join of the
# walk back to the steps, measured 2-3x slower on both engines). A recursive CTE re-builds its hash
# table per level and measured slower here. Written for both engines (no correlated subqueries):
# equality joins, window functions with constant offsets, FILTER aggregates; a CTE read twice is
# materialized by each engine (DuckDB by itself, ClickHouse as sqlgen marks it).
# agent_key: the agent span, or '' for steps with no agent (the trace is their agent).
ANCESTRY_CTE = """
parents AS (
    -- a superset of the spans with children (span ids alone); the joins below match whole keys
    SELECT trace_id, span_id, parent_span_id, span_type, coalesce(agent_name, name) AS agent FROM spans
    WHERE {in_scope} AND span_id IN (SELECT parent_span_id FROM spans WHERE parent_span_id IS NOT NULL)
),
ancestry AS (
    SELECT x.trace_id, x.span_id,
        CASE WHEN x.span_type = 'agent' THEN x.span_id WHEN a1.span_type = 'agent' THEN a1.span_id
             WHEN a2.span_type = 'agent' THEN a2.span_id WHEN a3.span_type = 'agent' THEN a3.span_id END AS agent_span_id,
        CASE WHEN x.span_type = 'agent' THEN x.agent WHEN a1.span_type = 'agent' THEN a1.agent
             WHEN a2.span_type = 'agent' THEN a2.agent WHEN a3.span_type = 'agent' THEN a3.agent END AS agent
    FROM parents x
    LEFT JOIN parents a1 ON a1.trace_id = x.trace_id AND a1.span_id = x.parent_span_id
    LEFT JOIN parents a2 ON a2.trace_id = x.trace_id AND a2.span_id = a1.parent_span_id
    LEFT JOIN parents a3 ON a3.trace_id = x.trace_id AND a3.span_id = a2.parent_span_id
)"""

STEPS_CTE = (
    """
scope AS (SELECT DISTINCT trace_id FROM spans WHERE {where}),"""
    + ANCESTRY_CTE
    + """,
steps AS (
    SELECT s.trace_id, s.span_id, s.parent_span_id, s.span_type, s.name, s.agent_name, s.start_time, s.end_time, s.duration_ms, s.status, s.tool_name,
           s.input_tokens, s.output_tokens, s.cost_usd, s.finish_reason,
           CASE WHEN s.span_type = 'tool' THEN regexp_replace(lower(coalesce(s.input_text, '')), '\\s+', '', 'g') END AS args,
           CASE WHEN s.span_type = 'tool' THEN s.input_text END AS raw_args,
           w.agent_span_id, coalesce(w.agent_span_id, '') AS agent_key, w.agent
    FROM spans s LEFT JOIN ancestry w ON w.trace_id = s.trace_id AND w.span_id = s.parent_span_id
    WHERE s.span_type IN ('llm', 'tool') AND {in_scope_s}
),
{busy}tools AS (
    -- tool calls numbered in their agent's order (the window sorts the tool calls only: numbering every
    -- step and blanking the LLM ones sorted four times the rows, 1.8 s of a 4.6 s loops query on 1M spans)
    SELECT *, tool_name || '(' || coalesce(args, '') || ')' AS call,
           row_number() OVER (PARTITION BY trace_id, agent_key ORDER BY start_time, span_id) AS seq
    FROM steps WHERE span_type = 'tool'{of_busy}
),
sequenced AS (  -- every step; LLM steps carry no number
    SELECT * FROM tools
    UNION ALL
    SELECT *, NULL::VARCHAR AS call, NULL::BIGINT AS seq FROM steps WHERE span_type = 'llm'{of_busy}
)
"""
)


def in_scope(where: str, alias: str = "") -> str:
    """``trace_id IN scope`` (the traces with a span that matches), or TRUE when every trace is in it."""
    return "TRUE" if where.strip() == "TRUE" else f"{alias}trace_id IN (SELECT trace_id FROM scope)"


# A loop needs min_repeats tool calls of one agent (a period-p run: p * min_repeats; a window: min_repeats):
# with ``busy``, tools and sequenced keep only the agents with that many (one parameter, min_repeats), so
# the loops' windows and joins read those alone (most agents call a tool or two).
BUSY_CTE = """
busy AS (SELECT trace_id, agent_key FROM steps WHERE span_type = 'tool' GROUP BY trace_id, agent_key HAVING count(*) >= ?),"""
OF_BUSY = " AND (trace_id, agent_key) IN (SELECT trace_id, agent_key FROM busy)"


def steps_cte(where: str, busy: bool = False) -> str:
    return STEPS_CTE.format(
        where=where,
        in_scope=in_scope(where),
        in_scope_s=in_scope(where, "s."),
        busy=BUSY_CTE if busy else "",
        of_busy=OF_BUSY if busy else "",
    )


# For each period p, calls equal to the call p places earlier form runs (gaps-and-islands); a run
# of length L means the p-call pattern before it came back L/p more times. A run's times come from
# its own rows (the pattern's first call is p places before the run's first); its pattern and
# waste from one equality join of the runs with their agent's steps, with conditional aggregates.
LOOPS_SQL = """
WITH {steps},
lagged AS (
    SELECT *,
           call = lag(call, 1) OVER w AS same_1, lag(start_time, 1) OVER w AS back_1,
           call = lag(call, 2) OVER w AS same_2, lag(start_time, 2) OVER w AS back_2,
           call = lag(call, 3) OVER w AS same_3, lag(start_time, 3) OVER w AS back_3,
           call = lag(call, 4) OVER w AS same_4, lag(start_time, 4) OVER w AS back_4
    FROM tools WINDOW w AS (PARTITION BY trace_id, agent_key ORDER BY seq)
),
periods AS (SELECT 1 AS p UNION ALL SELECT 2 UNION ALL SELECT 3 UNION ALL SELECT 4),
flagged AS (
    SELECT l.trace_id, l.agent_key, l.agent_span_id, l.agent, l.seq, l.start_time, l.end_time, p.p,
           CASE p.p WHEN 1 THEN l.same_1 WHEN 2 THEN l.same_2 WHEN 3 THEN l.same_3 ELSE l.same_4 END AS same,
           CASE p.p WHEN 1 THEN l.back_1 WHEN 2 THEN l.back_2 WHEN 3 THEN l.back_3 ELSE l.back_4 END AS pattern_start
    FROM lagged l CROSS JOIN periods p
),
islands AS (
    SELECT *, seq - row_number() OVER (PARTITION BY trace_id, agent_key, p ORDER BY seq) AS island
    FROM flagged WHERE same
),
runs AS (
    SELECT trace_id, agent_key, any_value(agent_span_id) AS agent_span_id, any_value(agent) AS agent, p AS period,
           min(seq) - p AS first_seq, max(seq) AS last_seq, count(*) AS run_len,
           arg_min(pattern_start, seq) AS started, arg_min(start_time, seq) AS second_round,
           arg_max(end_time, seq) AS ended
    FROM islands GROUP BY trace_id, agent_key, p, island
),
candidates AS (
    SELECT * FROM (
        SELECT *, (run_len + period) // period AS repeats,
               row_number() OVER (PARTITION BY trace_id, agent_key, first_seq ORDER BY period) AS smallest
        FROM runs WHERE (run_len + period) // period >= ?
    ) WHERE smallest = 1
),
loops AS (
    -- a cycle only if its pattern is not one repeated call
    SELECT c.trace_id, c.agent_key, any_value(c.agent_span_id) AS agent_span_id, any_value(c.agent) AS agent,
        c.first_seq, c.period, any_value(c.repeats) AS repeats, any_value(c.started) AS started,
        any_value(c.ended) AS ended,
        string_agg(s.tool_name || '(' || left(coalesce(s.raw_args, ''), 80) || ')', ' → ' ORDER BY s.seq)
            FILTER (WHERE s.seq >= c.first_seq AND s.seq < c.first_seq + c.period) AS pattern,
        count(DISTINCT s.call) FILTER (WHERE s.seq >= c.first_seq AND s.seq < c.first_seq + c.period) AS pattern_calls,
        sum(coalesce(s.input_tokens, 0) + coalesce(s.output_tokens, 0))
            FILTER (WHERE s.span_type = 'llm' AND s.start_time >= c.second_round AND s.start_time <= c.ended)
            AS wasted_tokens,
        sum(s.cost_usd) FILTER (WHERE s.span_type = 'llm' AND s.start_time >= c.second_round AND s.start_time <= c.ended)
            AS wasted_cost_usd
    FROM candidates c JOIN sequenced s ON s.trace_id = c.trace_id AND s.agent_key = c.agent_key
    GROUP BY c.trace_id, c.agent_key, c.first_seq, c.period
    HAVING c.period = 1 OR count(DISTINCT s.call) FILTER (WHERE s.seq >= c.first_seq AND s.seq < c.first_seq + c.period) > 1
),
windowed AS (
    SELECT trace_id, agent_key, agent_span_id, agent, call, tool_name, raw_args, start_time, end_time,
           count(*) OVER (PARTITION BY trace_id, agent_key, call ORDER BY seq
                          RANGE BETWEEN ? PRECEDING AND CURRENT ROW) AS in_window
    FROM tools
)
SELECT trace_id, agent, agent_span_id, CASE WHEN period = 1 THEN 'exact_repeat' ELSE 'cycle' END AS kind,
       period, repeats, pattern, started, ended, wasted_tokens::BIGINT AS wasted_tokens, wasted_cost_usd
FROM loops
UNION ALL
SELECT trace_id, any_value(agent), any_value(agent_span_id), 'repeated_in_window', NULL::BIGINT, max(in_window),
       any_value(tool_name || '(' || left(coalesce(raw_args, ''), 80) || ')'), min(start_time), max(end_time),
       NULL::BIGINT, NULL::DOUBLE
FROM windowed
WHERE trace_id || '/' || agent_key NOT IN (SELECT trace_id || '/' || agent_key FROM loops)
GROUP BY trace_id, agent_key, call
HAVING max(in_window) >= ?
ORDER BY 6 DESC, 8
"""

# Per-trace totals of the steps: a plain GROUP BY of the LLM and tool spans (a step's agent, the walk of
# STEPS_CTE, plays no part; the store holds each (trace_id, span_id) once, so no join could repeat a step).
RUNAWAY_SQL = """
WITH scope AS (SELECT DISTINCT trace_id FROM spans WHERE {where})
SELECT trace_id, 'runaway' AS kind, count(*) AS steps,
       count(*) FILTER (WHERE span_type = 'tool') AS tool_calls,
       round(epoch(max(end_time)) - epoch(min(start_time)), 1) AS duration_s,
       sum(coalesce(input_tokens, 0) + coalesce(output_tokens, 0))::BIGINT AS tokens,
       sum(cost_usd) AS cost_usd, min(start_time) AS started
FROM spans WHERE span_type IN ('llm', 'tool') AND {in_scope} GROUP BY trace_id
HAVING count(*) > ? OR epoch(max(end_time)) - epoch(min(start_time)) > ?
ORDER BY steps DESC
"""


def loops(
    con: duckdb.DuckDBPyConnection, flt: SpanFilter | None = None, min_repeats: int = 3, window: int = 10
) -> pa.Table:
    """Exact repeats, A→B→A→B cycles and calls repeated within a window of tool calls, with the
    evidence and (for runs) the waste."""
    where, params = (flt or SpanFilter()).sql()
    return query_arrow(
        con, LOOPS_SQL.format(steps=steps_cte(where, busy=True)), params + [min_repeats] * 2 + [window - 1, min_repeats]
    )


def runaways(
    con: duckdb.DuckDBPyConnection, flt: SpanFilter | None = None, max_steps: int = 25, max_duration_s: float = 300.0
) -> pa.Table:
    """Traces with more than ``max_steps`` LLM+tool steps or longer than ``max_duration_s``."""
    where, params = (flt or SpanFilter()).sql()
    return query_arrow(
        con, RUNAWAY_SQL.format(where=where, in_scope=in_scope(where)), params + [max_steps, max_duration_s]
    )


# Completion of a workflow run (a trace with agent or tool spans), from the signals present:
#   failed     the root span or the last step ended in error
#   abandoned  the last step is a tool call with no LLM answer after it, or the final LLM call
#              stopped for a reason in `incomplete_reasons` (length, tool_calls, content_filter)
#   completed  otherwise
COMPLETION_SQL = """
WITH {steps},
roots AS (
    SELECT trace_id, any_value(status) AS root_status FROM spans
    WHERE parent_span_id IS NULL AND {in_scope} GROUP BY trace_id
),
agentic AS (SELECT DISTINCT trace_id FROM spans WHERE span_type IN ('agent', 'tool') AND {in_scope}),
last_step AS (
    SELECT trace_id, arg_max(span_type, start_time) AS last_type, arg_max(status, start_time) AS last_status,
           arg_max(finish_reason, start_time) FILTER (WHERE span_type = 'llm') AS final_finish,
           count(*) AS steps, count(*) FILTER (WHERE span_type = 'tool') AS tool_calls,
           count(*) FILTER (WHERE span_type = 'tool' AND status = 'error') AS tool_errors
    FROM steps GROUP BY trace_id
),
runs AS (
    SELECT a.trace_id, r.root_status, l.last_type, l.last_status, l.final_finish, l.steps, l.tool_calls,
        l.tool_errors,
        CASE WHEN r.root_status = 'error' OR l.last_status = 'error' THEN 'failed'
             WHEN l.last_type = 'tool' OR list_contains(?::VARCHAR[], l.final_finish) THEN 'abandoned'
             ELSE 'completed' END AS outcome
    FROM agentic a JOIN roots r ON r.trace_id = a.trace_id JOIN last_step l ON l.trace_id = a.trace_id
)
SELECT * FROM runs
"""

INCOMPLETE_REASONS = ("length", "tool_calls", "tool_call", "content_filter", "max_tokens")


def completion(
    con: duckdb.DuckDBPyConnection,
    flt: SpanFilter | None = None,
    incomplete_reasons: tuple[str, ...] = INCOMPLETE_REASONS,
) -> pa.Table:
    """One row per agentic run (trace): outcome completed / failed / abandoned and why."""
    where, params = (flt or SpanFilter()).sql()
    sql = COMPLETION_SQL.format(steps=steps_cte(where), in_scope=in_scope(where))
    return query_arrow(con, sql, params + [list(incomplete_reasons)])


# Steps are counted per agent span once (a join), not in five correlated subqueries per agent span
# (6 s on 1M spans; the join, a fraction of that). The per-agent figures need only narrow columns of
# a step, so the walk carries them itself: joining the steps back to the wide spans rows (STEPS_CTE's
# ``steps``, for the reports that read arguments and tokens) made this report 1.4x slower on DuckDB.
AGENTS_SQL = (
    """
WITH scope AS (SELECT DISTINCT trace_id FROM spans WHERE {where}),"""
    + ANCESTRY_CTE
    + """,
steps AS (
    SELECT b.span_type, b.status, b.start_time, b.finish_reason, b.trace_id, w.agent_span_id
    FROM spans b LEFT JOIN ancestry w ON w.trace_id = b.trace_id AND w.span_id = b.parent_span_id
    WHERE b.span_type IN ('llm', 'tool') AND {in_scope_b}
),
per_agent AS (
    SELECT trace_id, agent_span_id, count(*) AS steps,
           count(*) FILTER (WHERE span_type = 'tool') AS tool_calls,
           count(*) FILTER (WHERE span_type = 'tool' AND status = 'error') AS tool_errors,
           arg_max(span_type, start_time) AS last_type,
           arg_max(finish_reason, start_time) FILTER (WHERE span_type = 'llm') AS final_finish
    FROM steps GROUP BY trace_id, agent_span_id  -- no agent (NULL) joins no agent span below
),
agent_spans AS (
    SELECT a.trace_id, a.span_id, coalesce(a.agent_name, a.name) AS agent_name, a.status, a.duration_ms,
           {groups_a}
           coalesce(p.steps, 0) AS steps, coalesce(p.tool_calls, 0) AS tool_calls,
           coalesce(p.tool_errors, 0) AS tool_errors, p.last_type, p.final_finish
    FROM spans a LEFT JOIN per_agent p ON p.trace_id = a.trace_id AND p.agent_span_id = a.span_id
    WHERE a.span_type = 'agent' AND {in_scope_a}
)
SELECT {group_cols}
    count(*) AS runs,
    round(avg(CASE WHEN status <> 'error' AND last_type IS DISTINCT FROM 'tool'
                        AND NOT list_contains(?::VARCHAR[], final_finish) THEN 1.0 ELSE 0.0 END), 4) AS completion_rate,
    round(avg(steps), 1) AS avg_steps, max(steps) AS max_steps,
    sum(tool_calls)::BIGINT AS tool_calls,
    round(sum(tool_errors) / nullif(sum(tool_calls), 0), 4) AS tool_error_rate,
    round(quantile_cont(duration_ms, 0.95), 1) AS p95_ms
FROM agent_spans
{group_by}
ORDER BY runs DESC
"""
)


# Steps of one agent run: the LLM and tool spans under its agent span (STEPS_CTE's walk). `report agents`
# and the summary's "most steps in one run" both count this way.
AGENT_RUNS_SQL = """
WITH {steps},
per_agent AS (SELECT trace_id, agent_span_id, count(*) AS steps FROM steps GROUP BY ALL)  -- NULL: no agent span
SELECT count(*) AS runs, max(coalesce(p.steps, 0)) AS max_steps, quantile_cont(coalesce(p.steps, 0), 0.5) AS median_steps
FROM spans a LEFT JOIN per_agent p ON p.trace_id = a.trace_id AND p.agent_span_id = a.span_id
WHERE a.span_type = 'agent' AND {in_scope_a}
"""


def agent_runs_sql(where: str) -> str:
    """SQL for runs, max and median steps per agent run over ``where`` (its params once)."""
    return AGENT_RUNS_SQL.format(steps=steps_cte(where), in_scope_a=in_scope(where, "a."))


def agents(
    con: duckdb.DuckDBPyConnection,
    flt: SpanFilter | None = None,
    by: GroupingLike = "agent_name",
    incomplete_reasons: tuple[str, ...] = INCOMPLETE_REASONS,
) -> pa.Table:
    """Per agent (or other group of agent spans): runs, completion rate, steps, tool calls and
    tool error rate. Loops per agent come from :func:`loops`."""
    where, params = (flt or SpanFilter()).sql()
    groups = group_exprs(by)
    groups_a = (
        "".join(
            f'{expr.replace(chr(34) + "agent_name" + chr(34), "coalesce(a.agent_name, a.name)")} AS "{alias}_g", '
            for alias, expr in groups
        )
        if groups
        else ""
    )
    group_cols = "".join(f'"{alias}_g" AS "{alias}", ' for alias, _ in groups)
    sql = AGENTS_SQL.format(
        where=where,
        in_scope=in_scope(where),
        in_scope_a=in_scope(where, "a."),
        in_scope_b=in_scope(where, "b."),
        groups_a=groups_a,
        group_cols=group_cols,
        group_by=("GROUP BY " + ", ".join(str(i + 1) for i in range(len(groups)))) if groups else "",
    )
    return query_arrow(con, sql, params + [list(incomplete_reasons)])


TOOLS_SQL = """
WITH {steps},
t AS (
    SELECT *, call = lag(call) OVER (PARTITION BY trace_id, agent_span_id ORDER BY seq) AS same_as_previous
    FROM tools
)
SELECT {groups}
    count(*) AS calls,
    round(avg(CASE WHEN status = 'error' THEN 1.0 ELSE 0.0 END), 4) AS error_rate,
    round(quantile_cont(duration_ms, 0.50), 1) AS p50_ms,
    round(quantile_cont(duration_ms, 0.95), 1) AS p95_ms,
    count(*) FILTER (WHERE same_as_previous) AS retries_same_input,
    count(*) FILTER (WHERE same_as_previous AND lag_status_error) AS retries_after_error,
    count(DISTINCT trace_id) AS traces
FROM (SELECT *, lag(status) OVER (PARTITION BY trace_id, agent_span_id ORDER BY seq) = 'error' AS lag_status_error FROM t)
{group_by}
ORDER BY calls DESC
"""


def tools(con: duckdb.DuckDBPyConnection, flt: SpanFilter | None = None, by: GroupingLike = "tool_name") -> pa.Table:
    """Per tool: calls, error rate, latency, and how often it is called again with the same input
    (right after itself; after an error that is a retry)."""
    where, params = (flt or SpanFilter()).sql()
    groups = group_exprs(by)
    sql = TOOLS_SQL.format(steps=steps_cte(where), groups=select_list(groups), group_by=group_by_clause(groups))
    return query_arrow(con, sql, params)


# The model's own tool calls (in its output messages) checked against the tools offered on the same
# call: a name that was not offered, arguments that are not a JSON object, a required parameter
# missing, or a parameter the schema does not declare when it sets additionalProperties: false.
# (A structural check of the declared schema, not a full JSON-Schema validator.)
TOOL_CALL_CHECKS_SQL = """
WITH calls AS (
    SELECT trace_id, span_id, start_time, tool_definitions,
           unnest(CAST(json_extract(output_messages, '$[*].tool_calls[*]') AS JSON[])) AS tc
    FROM spans
    WHERE span_type = 'llm' AND output_messages IS NOT NULL AND tool_definitions IS NOT NULL AND {where}
),
c AS (
    SELECT *, json_extract_string(tc, '$.name') AS tool_name, json_extract_string(tc, '$.arguments') AS args_text
    FROM calls
),
d AS (
    SELECT *,
        list_filter(CAST(json_extract(tool_definitions, '$[*]') AS JSON[]),
                    lambda x: json_extract_string(x, '$.name') = tool_name)[1] AS def,
        CASE WHEN json_valid(args_text) AND json_type(args_text::JSON) = 'OBJECT' THEN json_keys(args_text::JSON) END AS arg_keys
    FROM c
),
checked AS (
    SELECT *,
        def IS NULL AS not_offered,
        def IS NOT NULL AND arg_keys IS NULL AS invalid_arguments,
        def IS NOT NULL AND arg_keys IS NOT NULL AND (
            NOT list_has_all(arg_keys, coalesce(CAST(json_extract(def, '$.parameters.required') AS VARCHAR[]), []))
            OR (json_extract(def, '$.parameters.additionalProperties') = 'false'::JSON
                AND NOT list_has_all(coalesce(json_keys(json_extract(def, '$.parameters.properties')), []), arg_keys))
        ) AS schema_failure
    FROM d
)
SELECT tool_name, count(*) AS requested,
       count(*) FILTER (WHERE not_offered) AS not_offered,
       count(*) FILTER (WHERE invalid_arguments) AS invalid_arguments,
       count(*) FILTER (WHERE schema_failure) AS schema_failures,
       arg_max(trace_id, start_time) FILTER (WHERE not_offered OR invalid_arguments OR schema_failure) AS example_trace_id
FROM checked GROUP BY tool_name ORDER BY requested DESC
"""


def tool_call_checks(con: duckdb.DuckDBPyConnection, flt: SpanFilter | None = None) -> pa.Table:
    """Per tool the model asked for: how often, how often it was not among the offered tools, and
    how often its arguments failed the declared parameters (LLM calls that record their tools)."""
    where, params = (flt or SpanFilter()).sql()
    return query_arrow(con, TOOL_CALL_CHECKS_SQL.format(where=where), params)
