"""Quality: what the evals say, per group — mean score, pass rate, hallucination rate.

A hallucination is a groundedness score below ``below`` (``[eval] hallucination_threshold``, 0.8), the
same for every judge, whatever threshold a judge used for its own pass/fail; ``not_applicable`` items (refusals, answers with no checkable claim) and eval
errors are counted apart and left out of the means.
"""

from __future__ import annotations

import duckdb
import pyarrow as pa

from ..config import HALLUCINATION_THRESHOLD
from ..query import GroupingLike, SpanFilter, group_exprs, select_list
from ..store import query_arrow

QUALITY_SQL = """
WITH s AS (SELECT {groups} trace_id, span_id FROM spans WHERE {where}),
e AS (SELECT * FROM evals WHERE coalesce(repeat_index, 0) = 0 {judge_filter})
SELECT {group_cols} e.metric, e.judge,
       count(*) FILTER (WHERE e.score IS NOT NULL) AS scored,
       round(avg(e.score), 4) AS mean_score,
       round(avg(CASE WHEN e.passed THEN 1.0 WHEN e.passed = false THEN 0.0 END), 4) AS pass_rate,
       round(count(*) FILTER (WHERE e.metric LIKE 'groundedness%' AND e.score < ?)
             / nullif(count(*) FILTER (WHERE e.metric LIKE 'groundedness%' AND e.score IS NOT NULL), 0), 4) AS hallucination_rate,
       count(*) FILTER (WHERE e.label = 'not_applicable') AS not_applicable,
       count(*) FILTER (WHERE e.error IS NOT NULL) AS errors,
       sum(e.judge_cost_usd) AS judge_cost_usd
FROM e JOIN s USING (trace_id, span_id)
GROUP BY ALL
ORDER BY {order} e.metric, e.judge
"""


def quality(
    con: duckdb.DuckDBPyConnection,
    flt: SpanFilter | None = None,
    by: GroupingLike = None,
    judge: str | None = None,
    below: float = HALLUCINATION_THRESHOLD,
) -> pa.Table:
    groups = group_exprs(by)
    where, params = (flt or SpanFilter()).sql()
    sql = QUALITY_SQL.format(
        groups=select_list(groups),
        where=where,
        judge_filter="AND judge = ?" if judge else "",
        group_cols="".join(f's."{a}", ' for a, _ in groups),
        order="".join(f's."{a}", ' for a, _ in groups),
    )
    return query_arrow(con, sql, params + ([judge] if judge else []) + [below])  # the order of the ?s in the text
