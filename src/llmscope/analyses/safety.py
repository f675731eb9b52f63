"""Safety: injection attempts, PII leaks, toxicity, policy hits and guardrail activations, with rates.

Reads the ``findings`` table that ``llmscope scan`` fills; spans not scanned yet are counted so a
rate is never computed over spans nobody looked at.
"""

from __future__ import annotations

import duckdb
import pyarrow as pa

from ..query import GroupingLike, SpanFilter, group_exprs, select_list
from ..store import query_arrow

KINDS = ("injection", "indirect_injection", "pii_leak", "pii_input", "toxicity", "policy", "guardrail")

# spans are keyed by (trace_id, span_id), and both joins below meet at most one row per span, so
# plain counts are counts of spans (count(DISTINCT (trace_id, span_id)) over the fan-out of one row per
# finding kind measured 10 s on 1M spans; this form, a fraction of a second)
SAFETY_SQL = """
WITH s AS (
    SELECT {groups} trace_id, span_id, span_type FROM spans WHERE {where}
),
scanned AS (SELECT DISTINCT trace_id, span_id FROM scanned_spans),
f AS (SELECT trace_id, span_id, list(DISTINCT kind) AS kinds FROM findings GROUP BY ALL)
SELECT {group_cols}
    count(*) FILTER (WHERE s.span_type = 'llm') AS llm_calls,
    count(*) FILTER (WHERE s.span_type = 'llm' AND sc.span_id IS NULL) AS llm_calls_not_scanned,
    {kind_counts},
    round(count(*) FILTER (WHERE list_has_any(f.kinds, ['injection', 'indirect_injection']))
          / nullif(count(*) FILTER (WHERE s.span_type = 'llm' AND sc.span_id IS NOT NULL), 0), 5) AS injection_rate,
    round(count(*) FILTER (WHERE list_contains(f.kinds, 'pii_leak'))
          / nullif(count(*) FILTER (WHERE s.span_type = 'llm' AND sc.span_id IS NOT NULL), 0), 5) AS pii_leak_rate
FROM s LEFT JOIN scanned sc USING (trace_id, span_id)
       LEFT JOIN f USING (trace_id, span_id)
{group_by}
ORDER BY llm_calls DESC
"""

FINDINGS_SQL = """
SELECT f.start_time, f.trace_id, f.span_id, f.kind, f.subkind, f.location, round(f.score, 3) AS score, f.rule,
       f.excerpt, s.service_name, s.feature
FROM findings f JOIN spans s USING (trace_id, span_id)
WHERE {where} {kind_filter}
ORDER BY f.start_time DESC
LIMIT ?
"""


def safety(con: duckdb.DuckDBPyConnection, flt: SpanFilter | None = None, by: GroupingLike = None) -> pa.Table:
    """Per group: LLM calls (and how many are not scanned yet), the spans with each kind of
    finding, and injection and PII-leak rates per scanned LLM call."""
    groups = group_exprs(by)
    where, params = (flt or SpanFilter()).sql()
    kind_counts = ",\n    ".join(f"count(*) FILTER (WHERE list_contains(f.kinds, '{k}')) AS {k}" for k in KINDS)
    sql = SAFETY_SQL.format(
        groups=select_list(groups),
        where=where,
        kind_counts=kind_counts,
        group_cols="".join(f's."{a}", ' for a, _ in groups),
        group_by=("GROUP BY " + ", ".join(f's."{a}"' for a, _ in groups)) if groups else "",
    )
    return query_arrow(con, sql, params)


def findings(
    con: duckdb.DuckDBPyConnection, flt: SpanFilter | None = None, kind: str | None = None, limit: int = 20
) -> pa.Table:
    """The latest findings with their masked excerpts."""
    where, params = (flt or SpanFilter()).sql("s")
    kind_filter = "AND f.kind = ?" if kind else ""
    return query_arrow(
        con, FINDINGS_SQL.format(where=where, kind_filter=kind_filter), params + ([kind] if kind else []) + [limit]
    )
