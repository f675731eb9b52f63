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

# Steps with their agent: walk up to four parent levels (joins on narrow columns; a recursive
# CTE re-builds its hash table per level and measured slower here).
STEPS_CTE = """
base AS (
    SELECT trace_id, span_id, parent_span_id, span_type, name, agent_name, start_time, end_time, duration_ms,
           status, tool_name, input_tokens, output_tokens, cost_usd, finish_reason,
           CASE WHEN span_type = 'tool' THEN regexp_replace(lower(coalesce(input_text, '')), '\\s+', '', 'g') END AS args,
           CASE WHEN span_type = 'tool' THEN input_text END AS raw_args
    FROM spans WHERE trace_id IN (SELECT DISTINCT trace_id FROM spans WHERE {where})
),
nodes AS (SELECT trace_id, span_id, parent_span_id, span_type, coalesce(agent_name, name) AS agent FROM base),
steps AS (
    SELECT b.*,
        CASE WHEN p1.span_type = 'agent' THEN p1.span_id WHEN p2.span_type = 'agent' THEN p2.span_id
             WHEN p3.span_type = 'agent' THEN p3.span_id WHEN p4.span_type = 'agent' THEN p4.span_id END AS agent_span_id,
        CASE WHEN p1.span_type = 'agent' THEN p1.agent WHEN p2.span_type = 'agent' THEN p2.agent
             WHEN p3.span_type = 'agent' THEN p3.agent WHEN p4.span_type = 'agent' THEN p4.agent END AS agent
    FROM base b
    LEFT JOIN nodes p1 ON p1.trace_id = b.trace_id AND p1.span_id = b.parent_span_id
    LEFT JOIN nodes p2 ON p2.trace_id = b.trace_id AND p2.span_id = p1.parent_span_id
    LEFT JOIN nodes p3 ON p3.trace_id = b.trace_id AND p3.span_id = p2.parent_span_id
    LEFT JOIN nodes p4 ON p4.trace_id = b.trace_id AND p4.span_id = p3.parent_span_id
    WHERE b.span_type IN ('llm', 'tool')
),
tools AS (
    SELECT *, tool_name || '(' || coalesce(args, '') || ')' AS call,
           row_number() OVER (PARTITION BY trace_id, agent_span_id ORDER BY start_time, span_id) AS seq
    FROM steps WHERE span_type = 'tool'
)
"""

# For each period p, calls equal to the call p places earlier form runs (gaps-and-islands); a run
# of length L means the p-call pattern before it came back L/p more times.
LOOPS_SQL = """
WITH {steps},
periods AS (SELECT unnest(range(1, 5)) AS p),
flagged AS (
    SELECT t.*, p.p,
           t.call = lag(t.call, p.p::BIGINT) OVER (PARTITION BY t.trace_id, t.agent_span_id, p.p ORDER BY t.seq) AS same
    FROM tools t, periods p
),
islands AS (
    SELECT *, seq - row_number() OVER (PARTITION BY trace_id, agent_span_id, p, same ORDER BY seq) AS island
    FROM flagged WHERE same
),
runs AS (
    SELECT trace_id, agent_span_id, any_value(agent) AS agent, p AS period,
           min(seq) - p AS first_seq, max(seq) AS last_seq, count(*) AS run_len
    FROM islands GROUP BY trace_id, agent_span_id, p, island
),
candidates AS (
    SELECT *, (run_len + period) // period AS repeats,
           row_number() OVER (PARTITION BY trace_id, agent_span_id, first_seq ORDER BY period) AS smallest
    FROM runs WHERE (run_len + period) // period >= ?
),
loops AS (
    -- keep the smallest period for a run, and a cycle only if its pattern is not one repeated call
    SELECT c.* FROM candidates c
    WHERE smallest = 1
      AND (period = 1 OR (SELECT count(DISTINCT t.call) FROM tools t WHERE t.trace_id = c.trace_id
              AND t.agent_span_id IS NOT DISTINCT FROM c.agent_span_id AND t.seq BETWEEN c.first_seq AND c.first_seq + c.period - 1) > 1)
),
evidence AS (
    SELECT l.*,
        (SELECT string_agg(t.tool_name || '(' || left(coalesce(t.raw_args, ''), 80) || ')', ' → ' ORDER BY t.seq)
           FROM tools t WHERE t.trace_id = l.trace_id AND t.agent_span_id IS NOT DISTINCT FROM l.agent_span_id
            AND t.seq BETWEEN l.first_seq AND l.first_seq + l.period - 1) AS pattern,
        (SELECT min(t.start_time) FROM tools t WHERE t.trace_id = l.trace_id AND t.agent_span_id IS NOT DISTINCT FROM l.agent_span_id
            AND t.seq = l.first_seq) AS started,
        (SELECT min(t.start_time) FROM tools t WHERE t.trace_id = l.trace_id AND t.agent_span_id IS NOT DISTINCT FROM l.agent_span_id
            AND t.seq = l.first_seq + l.period) AS second_round,
        (SELECT max(t.end_time) FROM tools t WHERE t.trace_id = l.trace_id AND t.agent_span_id IS NOT DISTINCT FROM l.agent_span_id
            AND t.seq = l.last_seq) AS ended
    FROM loops l
)
SELECT e.trace_id, e.agent, e.agent_span_id,
       CASE WHEN e.period = 1 THEN 'exact_repeat' ELSE 'cycle' END AS kind,
       e.period, e.repeats, e.pattern, e.started, e.ended,
       (SELECT sum(coalesce(s.input_tokens, 0) + coalesce(s.output_tokens, 0)) FROM steps s
         WHERE s.trace_id = e.trace_id AND s.agent_span_id IS NOT DISTINCT FROM e.agent_span_id AND s.span_type = 'llm'
           AND s.start_time >= e.second_round AND s.start_time <= e.ended)::BIGINT AS wasted_tokens,
       (SELECT sum(s.cost_usd) FROM steps s
         WHERE s.trace_id = e.trace_id AND s.agent_span_id IS NOT DISTINCT FROM e.agent_span_id AND s.span_type = 'llm'
           AND s.start_time >= e.second_round AND s.start_time <= e.ended) AS wasted_cost_usd
FROM evidence e
UNION ALL
SELECT w.trace_id, any_value(w.agent), w.agent_span_id, 'repeated_in_window', NULL::BIGINT, max(w.in_window),
       any_value(w.tool_name || '(' || left(coalesce(w.raw_args, ''), 80) || ')'), min(w.start_time), max(w.end_time),
       NULL::BIGINT, NULL::DOUBLE
FROM (
    SELECT t.*, count(*) OVER (PARTITION BY t.trace_id, t.agent_span_id, t.call ORDER BY t.seq
                               RANGE BETWEEN ? PRECEDING AND CURRENT ROW) AS in_window
    FROM tools t
) w
WHERE NOT EXISTS (SELECT 1 FROM loops l WHERE l.trace_id = w.trace_id AND l.agent_span_id IS NOT DISTINCT FROM w.agent_span_id)
GROUP BY w.trace_id, w.agent_span_id, w.call
HAVING max(w.in_window) >= ?
ORDER BY 6 DESC, 8
"""

RUNAWAY_SQL = """
WITH {steps}
SELECT trace_id, 'runaway' AS kind, count(*) AS steps,
       count(*) FILTER (WHERE span_type = 'tool') AS tool_calls,
       round(epoch(max(end_time)) - epoch(min(start_time)), 1) AS duration_s,
       sum(coalesce(input_tokens, 0) + coalesce(output_tokens, 0))::BIGINT AS tokens,
       sum(cost_usd) AS cost_usd, min(start_time) AS started
FROM steps GROUP BY trace_id
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
        con, LOOPS_SQL.format(steps=STEPS_CTE.format(where=where)), params + [min_repeats, window - 1, min_repeats]
    )


def runaways(
    con: duckdb.DuckDBPyConnection, flt: SpanFilter | None = None, max_steps: int = 25, max_duration_s: float = 300.0
) -> pa.Table:
    """Traces with more than ``max_steps`` LLM+tool steps or longer than ``max_duration_s``."""
    where, params = (flt or SpanFilter()).sql()
    return query_arrow(
        con, RUNAWAY_SQL.format(steps=STEPS_CTE.format(where=where)), params + [max_steps, max_duration_s]
    )


# Completion of a workflow run (a trace with agent or tool spans), from the signals present:
#   failed     the root span or the last step ended in error
#   abandoned  the last step is a tool call with no LLM answer after it, or the final LLM call
#              stopped for a reason in `incomplete_reasons` (length, tool_calls, content_filter)
#   completed  otherwise
COMPLETION_SQL = """
WITH {steps},
roots AS (SELECT trace_id, any_value(status) AS root_status FROM base WHERE parent_span_id IS NULL GROUP BY trace_id),
agentic AS (SELECT DISTINCT trace_id FROM base WHERE span_type IN ('agent', 'tool')),
last_step AS (
    SELECT trace_id, arg_max(span_type, start_time) AS last_type, arg_max(status, start_time) AS last_status,
           arg_max(finish_reason, start_time) FILTER (WHERE span_type = 'llm') AS final_finish,
           count(*) AS steps, count(*) FILTER (WHERE span_type = 'tool') AS tool_calls,
           count(*) FILTER (WHERE span_type = 'tool' AND status = 'error') AS tool_errors
    FROM steps GROUP BY trace_id
),
runs AS (
    SELECT a.trace_id, r.root_status, l.*,
        CASE WHEN r.root_status = 'error' OR l.last_status = 'error' THEN 'failed'
             WHEN l.last_type = 'tool' OR list_contains(?::VARCHAR[], l.final_finish) THEN 'abandoned'
             ELSE 'completed' END AS outcome
    FROM agentic a JOIN roots r USING (trace_id) JOIN last_step l USING (trace_id)
)
SELECT * EXCLUDE (trace_id_1) FROM runs
"""

INCOMPLETE_REASONS = ("length", "tool_calls", "tool_call", "content_filter", "max_tokens")


def completion(
    con: duckdb.DuckDBPyConnection,
    flt: SpanFilter | None = None,
    incomplete_reasons: tuple[str, ...] = INCOMPLETE_REASONS,
) -> pa.Table:
    """One row per agentic run (trace): outcome completed / failed / abandoned and why."""
    where, params = (flt or SpanFilter()).sql()
    sql = COMPLETION_SQL.format(steps=STEPS_CTE.format(where=where))
    try:
        return query_arrow(con, sql, params + [list(incomplete_reasons)])
    except duckdb.BinderException:
        return query_arrow(con, sql.replace(" EXCLUDE (trace_id_1)", ""), params + [list(incomplete_reasons)])


# Steps are counted per agent span once (a join), not in five correlated subqueries per agent span
# (6 s on 1M spans; the join, a fraction of that).
AGENTS_SQL = """
WITH {steps},
per_agent AS (
    SELECT trace_id, agent_span_id, count(*) AS steps,
           count(*) FILTER (WHERE span_type = 'tool') AS tool_calls,
           count(*) FILTER (WHERE span_type = 'tool' AND status = 'error') AS tool_errors,
           arg_max(span_type, start_time) AS last_type,
           arg_max(finish_reason, start_time) FILTER (WHERE span_type = 'llm') AS final_finish
    FROM steps WHERE agent_span_id IS NOT NULL GROUP BY trace_id, agent_span_id
),
agent_spans AS (
    SELECT a.trace_id, a.span_id, coalesce(a.agent_name, a.name) AS agent_name, a.status, a.duration_ms,
           {groups_a}
           coalesce(p.steps, 0) AS steps, coalesce(p.tool_calls, 0) AS tool_calls,
           coalesce(p.tool_errors, 0) AS tool_errors, p.last_type, p.final_finish
    FROM spans a LEFT JOIN per_agent p ON p.trace_id = a.trace_id AND p.agent_span_id = a.span_id
    WHERE a.span_type = 'agent' AND a.trace_id IN (SELECT trace_id FROM base)
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
        steps=STEPS_CTE.format(where=where),
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
    sql = TOOLS_SQL.format(
        steps=STEPS_CTE.format(where=where), groups=select_list(groups), group_by=group_by_clause(groups)
    )
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
