"""The builtin (offline) judge end to end on the sample traces: no network, stored scores, no duplicates."""

from __future__ import annotations

import json

from conftest import SAMPLES, query
from typer.testing import CliRunner

from llmscope.cli import app
from llmscope.ingest import ingest


def test_builtin_eval_scores_rag_answers_and_reruns_add_nothing(tmp_path):
    db = tmp_path / "s.duckdb"
    ingest([str(SAMPLES / "support-bot.traces.jsonl.gz")], db)
    runner = CliRunner()
    res = runner.invoke(app, ["--db", str(db), "eval", "--format", "json"], env={"NO_COLOR": "1"})
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    rag_calls = query(db, """SELECT count(*) FROM spans l WHERE l.span_type = 'llm' AND l.output_text IS NOT NULL
                             AND EXISTS (SELECT 1 FROM spans r WHERE r.trace_id = l.trace_id AND r.span_type = 'retriever')""")[0][0]
    assert out["scored"] + out["not_applicable"] == rag_calls > 1000
    assert query(db, "SELECT count(*) FROM evals WHERE metric = 'groundedness_lexical'") == [(rag_calls,)]
    scores = query(db, "SELECT min(score), max(score) FROM evals WHERE score IS NOT NULL")[0]
    assert 0.0 <= scores[0] < scores[1] <= 1.0
    runner.invoke(app, ["--db", str(db), "eval"], env={"NO_COLOR": "1"})
    assert query(db, "SELECT count(*) FROM evals") == [(rag_calls,)]  # nothing scored twice
    res = runner.invoke(app, ["--db", str(db), "report", "quality", "--format", "json"], env={"NO_COLOR": "1"})
    (row,) = json.loads(res.stdout)
    assert row["metric"] == "groundedness_lexical" and row["judge"] == "builtin"
    assert row["hallucination_rate"] is not None
