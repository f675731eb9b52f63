"""gen_ai.evaluation.result events (semantic-conventions-genai, events.yaml) become external scores in `evals`.

The fixture is written from the convention's text (no released instrumentation we can install emits the event
yet; named *.from-spec.*): five verdicts on the chat span of genai-2026.from-spec.otlp.jsonl, parented to it, or
naming only its gen_ai.response.id, one with a label and no score, one whose evaluator failed (error.type), one
naming a response no span has.
"""

from __future__ import annotations

import json

from helpers import REPO, query
from typer.testing import CliRunner

from llmscope.cli.app import app

CONVENTIONS = REPO / "tests" / "fixtures" / "conventions"
TRACES = CONVENTIONS / "genai-2026.from-spec.otlp.jsonl"
VERDICTS = CONVENTIONS / "genai-2026-evaluations.from-spec.logs.jsonl"
CHAT = ("4e1f0c6d2b7a49e8a1c3d5f7091b2c3d", "a000000000000003")


def run(*args: str, code: int = 0):
    res = CliRunner().invoke(app, list(args), env={"NO_COLOR": "1", "COLUMNS": "120"})
    assert res.exit_code == code, (args, res.output, res.exception)
    assert "Traceback" not in res.output
    return res


def _evals(db):
    return query(
        db,
        "SELECT trace_id, span_id, metric, score, label, passed, judge, error, source FROM evals ORDER BY metric",
    )


def test_verdicts_are_scores_of_the_span_they_name_by_id_or_by_response_id(tmp_path):
    db = tmp_path / "s.duckdb"
    rep = json.loads(run("--db", str(db), "ingest", str(TRACES), str(VERDICTS), "--format", "json").stdout)
    assert rep["spans_added"] == 6 and rep["bad_records"] == 0
    assert rep["evaluations_added"] == 4
    assert any("1 evaluation result(s)" in n and "chatcmpl-unknown" not in n for n in rep["notes"]), rep["notes"]
    rows = _evals(db)
    assert [r[2] for r in rows] == ["Coherence", "Groundedness", "IntentResolution", "Relevance"]
    assert all((r[0], r[1]) == CHAT and r[6] == "external" and r[8] == "gen_ai.evaluation.result" for r in rows)
    by = {r[2]: r for r in rows}
    assert by["Relevance"][3:6] == (4.0, "relevant", None)  # a label that is not a verdict stays unjudged
    assert by["Groundedness"][3:6] == (0.35, "fail", False)  # attached by gen_ai.response.id alone
    assert by["IntentResolution"][3:6] == (None, "pass", True)
    assert by["Coherence"][3] is None and by["Coherence"][7] == "timeout"  # an evaluator error, never a 0
    assert query(db, "SELECT count(*) FROM logs WHERE trace_id <> ''")[0][0] == 0  # verdicts are not messages
    # the quality report shows them as the external judge's scores
    quality = json.loads(run("--db", str(db), "report", "quality", "--format", "json").stdout)
    relevance = next(r for r in quality if r["metric"] == "Relevance")
    assert relevance["judge"] == "external" and relevance["mean_score"] == 4.0
    # again: nothing twice
    again = json.loads(run("--db", str(db), "ingest", str(VERDICTS), "--full", "--format", "json").stdout)
    assert again["evaluations_added"] == 0 and len(_evals(db)) == 4


def test_a_verdict_that_comes_before_its_span_waits_for_it(tmp_path):
    db = tmp_path / "s.duckdb"
    first = json.loads(run("--db", str(db), "ingest", str(VERDICTS), "--format", "json").stdout)
    assert first["evaluations_added"] == 3  # parented by span id: stored at once
    assert any("2 evaluation result(s)" in n for n in first["notes"]), first["notes"]
    second = json.loads(run("--db", str(db), "ingest", str(TRACES), "--format", "json").stdout)
    assert second["evaluations_added"] == 1  # the one naming chatcmpl-7Qx found its span
    assert {r[2] for r in _evals(db)} == {"Coherence", "Groundedness", "IntentResolution", "Relevance"}
    assert query(db, "SELECT count(*) FROM logs WHERE event_name = 'gen_ai.evaluation.result'")[0][0] == 1


def test_a_verdict_without_a_name_is_a_bad_record_of_its_line(tmp_path):
    doc = json.loads(VERDICTS.read_text())
    records = doc["resourceLogs"][0]["scopeLogs"][0]["logRecords"]
    records[0]["attributes"] = [a for a in records[0]["attributes"] if a["key"] != "gen_ai.evaluation.name"]
    bad = tmp_path / "verdicts.jsonl"
    bad.write_text(json.dumps(doc) + "\n")
    db = tmp_path / "s.duckdb"
    res = run("--db", str(db), "ingest", str(TRACES), str(bad), "--format", "json")
    rep = json.loads(res.stdout)
    assert rep["bad_records"] == 1 and rep["bad_examples"][0]["line"] == 1
    assert "gen_ai.evaluation.name" in rep["bad_examples"][0]["reason"]
    assert rep["evaluations_added"] == 3  # the record's siblings are kept


def test_a_verdicts_only_file_with_a_bad_score_keeps_the_rest_and_says_so(tmp_path):
    doc = json.loads(VERDICTS.read_text())
    records = doc["resourceLogs"][0]["scopeLogs"][0]["logRecords"]
    for a in records[0]["attributes"]:
        if a["key"] == "gen_ai.evaluation.score.value":
            a["value"] = {"stringValue": "very relevant"}  # not a number: never a silent NULL score
    bad = tmp_path / "verdicts.jsonl"
    bad.write_text(json.dumps(doc) + "\n")
    db = tmp_path / "s.duckdb"
    rep = json.loads(run("--db", str(db), "ingest", str(bad), "--format", "json").stdout)  # exit 0: work was done
    assert rep["bad_records"] == 1 and "is not a number" in rep["bad_examples"][0]["reason"]
    assert rep["evaluations_added"] == 2  # the two other verdicts parented by span id
    table = run("--db", str(tmp_path / "t.duckdb"), "ingest", str(VERDICTS)).stdout
    assert "3 evaluation results (scores in evals)" in table, table


def _with_span_events(tmp_path, events: list[dict]):
    """TRACES with ``events`` added to the chat span: the verdicts' span-event form."""
    lines = []
    for line in TRACES.read_text().splitlines():
        doc = json.loads(line)
        for rs in doc["resourceSpans"]:
            for ss in rs["scopeSpans"]:
                for sp in ss["spans"]:
                    if sp["spanId"] == CHAT[1]:
                        sp["events"] = sp.get("events", []) + events
        lines.append(json.dumps(doc))
    path = tmp_path / "traces-with-verdicts.jsonl"
    path.write_text("\n".join(lines) + "\n")
    return path


def _event(name: str | None, score) -> dict:
    attrs = [{"key": "gen_ai.evaluation.score.value", "value": score}]
    if name is not None:
        attrs.append({"key": "gen_ai.evaluation.name", "value": {"stringValue": name}})
    return {"timeUnixNano": "1767225615000000000", "name": "gen_ai.evaluation.result", "attributes": attrs}


def test_a_verdict_as_a_span_event_scores_the_span_carrying_it_and_a_bad_one_keeps_the_span(tmp_path):
    traces = _with_span_events(
        tmp_path,
        [
            _event("Fluency", {"doubleValue": 0.9}),
            _event(None, {"doubleValue": 1.0}),
            _event("Tone", {"stringValue": "3"}),
        ],
    )
    db = tmp_path / "s.duckdb"
    rep = json.loads(run("--db", str(db), "ingest", str(traces), "--format", "json").stdout)
    assert rep["spans_added"] == 6  # the span is kept though one of its verdicts is unusable
    assert rep["bad_records"] == 1 and "gen_ai.evaluation.name" in rep["bad_examples"][0]["reason"]
    assert rep["evaluations_added"] == 2
    rows = {r[2]: r for r in _evals(db)}
    assert set(rows) == {"Fluency", "Tone"}
    assert all((r[0], r[1]) == CHAT and r[6] == "external" for r in rows.values())
    assert rows["Fluency"][3] == 0.9 and rows["Tone"][3] == 3.0  # a number sent as text is still that number
    # the span keeps its events as sent; scores are not stored twice on a second ingest
    again = json.loads(run("--db", str(db), "ingest", str(traces), "--full", "--format", "json").stdout)
    assert again["evaluations_added"] == 0 and len(_evals(db)) == 2
