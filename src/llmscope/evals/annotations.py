"""Human labels: which calls to show an annotator, what to show (question, answer, retrieved context, the
judge's verdict), and the ``annotations`` table they go to.

The sample is deterministic (a hash of the trace id, as ``eval --sample``), so a session that stops
and starts again shows the same items, less those this annotator has labelled: it resumes.
"""

from __future__ import annotations

import duckdb

from ..query import SpanFilter
from ..store import query_arrow

# LLM calls with an answer, in hash order; their context; the latest verdict of each judge for the metric.
ITEMS_SQL = """
WITH llm AS (
    SELECT trace_id, span_id, start_time, input_text, output_text, input_messages, feature, request_model
    FROM spans WHERE span_type = 'llm' AND output_text IS NOT NULL AND {where}
),
ctx AS (
    SELECT trace_id, string_agg(output_text, chr(10) || chr(10) ORDER BY start_time) AS context
    FROM spans WHERE span_type = 'retriever' AND output_text IS NOT NULL
      AND trace_id IN (SELECT trace_id FROM llm) GROUP BY trace_id
),
verdicts AS (
    SELECT trace_id, span_id,
           string_agg(judge || ': ' || coalesce(label, '?') || coalesce(' ' || printf('%.2f', score), ''), '; '
                      ORDER BY judge) AS verdict
    FROM (SELECT * FROM evals WHERE metric = ? AND error IS NULL AND coalesce(repeat_index, 0) = 0
          QUALIFY row_number() OVER (PARTITION BY trace_id, span_id, judge ORDER BY created_at DESC) = 1)
    GROUP BY ALL
),
roles AS (
    SELECT *, json_extract_string(input_messages, '$[*].role') AS r, json_extract_string(input_messages, '$[*].content') AS c
    FROM llm
)
SELECT roles.trace_id, roles.span_id, roles.start_time, roles.feature, roles.request_model AS model,
       coalesce(CASE WHEN list_position(list_reverse(r), 'user') > 0
                     THEN c[len(c) - list_position(list_reverse(r), 'user') + 1] END, input_text) AS question,
       output_text AS answer, ctx.context, verdicts.verdict,
       a.label AS my_label, a.rating AS my_rating, a.note AS my_note
FROM roles LEFT JOIN ctx USING (trace_id) LEFT JOIN verdicts USING (trace_id, span_id)
LEFT JOIN annotations a ON a.trace_id = roles.trace_id AND a.span_id = roles.span_id AND a.metric = ? AND a.annotator = ?
ORDER BY hash(roles.trace_id), roles.span_id
LIMIT ?
"""

REPLACE_SQL = "DELETE FROM annotations WHERE trace_id = ? AND span_id = ? AND metric = ? AND annotator = ?"
INSERT_SQL = "INSERT INTO annotations VALUES (?, ?, ?, ?, ?, ?, ?, ?, now()::TIMESTAMP)"


def sample(con: duckdb.DuckDBPyConnection, flt: SpanFilter, n: int, metric: str, annotator: str) -> list[dict]:
    """The first ``n`` calls of the filter in hash order, each with this annotator's label if any."""
    where, params = flt.sql()
    return query_arrow(con, ITEMS_SQL.format(where=where), params + [metric, metric, annotator, n]).to_pylist()


def record(
    con: duckdb.DuckDBPyConnection,
    trace_id: str,
    span_id: str,
    metric: str,
    annotator: str,
    label: str | None = None,
    rating: int | None = None,
    note: str | None = None,
) -> None:
    """Store one label, merged with this annotator's earlier one for the item (pass/fail, the 1-5 rating
    and the note are set independently: a note keeps the label)."""
    old = con.execute(
        "SELECT label, rating, note FROM annotations WHERE trace_id = ? AND span_id = ? AND metric = ? AND annotator = ?",
        [trace_id, span_id, metric, annotator],
    ).fetchall()
    if old:
        label = label if label is not None else old[0][0]
        rating = rating if rating is not None else old[0][1]
        note = note if note is not None else old[0][2]
    passed = None if label is None else label == "pass"
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute(REPLACE_SQL, [trace_id, span_id, metric, annotator])
        con.execute(INSERT_SQL, [trace_id, span_id, metric, label, passed, rating, note, annotator])
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise


def as_labels(con: duckdb.DuckDBPyConnection, metric: str | None = None) -> list[dict]:
    """The annotations as calibration labels (trace_id, span_id, metric, passed, score 0..1): the latest
    label of each item and metric over all annotators."""
    rows = con.execute(
        """SELECT trace_id, span_id, metric, passed, rating FROM annotations
           WHERE (passed IS NOT NULL OR rating IS NOT NULL) AND (? IS NULL OR metric = ?)
           QUALIFY row_number() OVER (PARTITION BY trace_id, span_id, metric ORDER BY created_at DESC) = 1
           ORDER BY trace_id, span_id, metric""",
        [metric, metric],
    ).fetchall()
    return [
        {
            "trace_id": t,
            "span_id": s,
            "metric": m,
            "passed": p,
            "score": None if r is None else (r - 1) / 4,
        }
        for t, s, m, p, r in rows
    ]
