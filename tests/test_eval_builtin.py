"""The builtin (offline) judge end to end on the sample traces: no network, stored scores, no duplicates."""

from __future__ import annotations

import json

from helpers import SAMPLES, query
from typer.testing import CliRunner

from llmscope.cli.app import app
from llmscope.ingest.pipeline import ingest


def test_builtin_eval_scores_rag_answers_and_reruns_add_nothing(tmp_path):
    db = tmp_path / "s.duckdb"
    ingest([str(SAMPLES / "support-bot.traces.jsonl.gz")], db)
    runner = CliRunner()
    res = runner.invoke(app, ["--db", str(db), "eval", "--format", "json"], env={"NO_COLOR": "1"})
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    rag_calls = query(
        db,
        """SELECT count(*) FROM spans l WHERE l.span_type = 'llm' AND l.output_text IS NOT NULL
                             AND EXISTS (SELECT 1 FROM spans r WHERE r.trace_id = l.trace_id AND r.span_type = 'retriever')""",
    )[0][0]
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


def test_builtin_scoring_on_every_core_gives_the_same_scores(monkeypatch):
    """Past a size the builtin scorers run in worker processes: same rows, same order, as in one."""
    from llmscope.evals import runner

    items = [
        {
            "trace_id": f"{i:032x}",
            "span_id": f"{i:016x}",
            "source": "dataset",
            "input": f"What is the refund window for order {i}?",
            "output": f"Refunds for order {i} are possible within {i % 40} days of delivery.",
            "context": f"Our policy: refunds within {i % 40} days of delivery, for any order. Shipping is free.",
            "reference": f"Within {i % 40} days of delivery.",
        }
        for i in range(240)
    ]
    metrics = ["groundedness_lexical", "exact_match", "token_f1", "rouge_l", "bleu"]
    monkeypatch.setattr(runner, "CHUNK_ITEMS", 50)
    one = runner._run_builtin(items, metrics, None, runner.Progress(total=240), None, workers=1)
    monkeypatch.setattr(runner, "PARALLEL_MIN_ITEMS", 100)
    seen = []
    progress = runner.Progress(total=240)
    many = runner._run_builtin(items, metrics, None, progress, lambda p: seen.append(p.done), workers=2)
    assert many == one and {r[2] for r in one} == set(metrics) and len(one) == 5 * 240
    assert progress.done == 240 and seen[-1] == 240 and len(seen) == 5
