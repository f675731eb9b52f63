"""Judges small models can satisfy: structured output asked for (and the refusal remembered per profile),
and replies read tolerantly before a repair call is spent -- against the real judge server replying in the
ten shapes small models commonly produce (tests/judge_server.py SHAPES), before and after in one run."""

from __future__ import annotations

import json

import pytest
from helpers import export_line, kv, otlp_span, query, s, write_lines
from judge_server import SHAPES, JudgeServer

from llmscope import store
from llmscope.evals import judges, prompts
from llmscope.evals.runner import EvalOptions, run_eval
from llmscope.ingest.pipeline import ingest

CONTEXT = "The Eiffel Tower is in Paris. It opened in 1889 and is about 330 metres tall."
PER_SHAPE = 11  # 110 items


def _trace(i: int, shape: int) -> list[dict]:
    t = f"{i:032x}"
    root, ret, llm = f"{i:08x}00000001", f"{i:08x}00000002", f"{i:08x}00000003"
    start = 1_762_000_000_000_000_000 + i * 10**10
    question = f"Where is the Eiffel Tower? (ticket {i})"
    answer = f"[[shape:{shape}]] The Eiffel Tower is in Paris." + (" It was designed by Leonardo." if i % 2 else "")
    msgs_in = json.dumps([{"role": "user", "parts": [{"type": "text", "content": question}]}])
    msgs_out = json.dumps([{"role": "assistant", "parts": [{"type": "text", "content": answer}]}])
    return [
        otlp_span(t, root, name="POST /chat", start_ns=start),
        otlp_span(
            t,
            ret,
            name="retrieval kb",
            parent=root,
            start_ns=start + 1,
            attrs=[
                kv("gen_ai.operation.name", s("retrieval")),
                kv("gen_ai.retrieval.documents", s(f"{CONTEXT} Ticket {i}.")),
            ],
        ),
        otlp_span(
            t,
            llm,
            name="chat",
            parent=root,
            start_ns=start + 2,
            attrs=[
                kv("gen_ai.operation.name", s("chat")),
                kv("gen_ai.input.messages", s(msgs_in)),
                kv("gen_ai.output.messages", s(msgs_out)),
            ],
        ),
    ]


@pytest.fixture
def shaped(tmp_path):
    lines = [export_line(_trace(i, shape)) for shape in SHAPES for i in range(shape * 100, shape * 100 + PER_SHAPE)]
    db = tmp_path / "shapes.duckdb"
    ingest([str(write_lines(tmp_path / "shapes.jsonl", lines))], db)
    return db


def _judge(url: str, name: str, **kw) -> judges.Judge:
    return judges.resolve(name, {"judges": {name: {"base_url": url, "model": "small-1b", **kw}}})


def _run(db, judge, rescore=False):
    con = store.connect(db)
    try:
        return run_eval(con, EvalOptions(metrics=["groundedness", "answer_relevancy"], rescore=rescore), judge)
    finally:
        con.close()


def _errors_by_shape(db, judge: str) -> dict[int, int]:
    rows = query(
        db,
        """SELECT regexp_extract(s.output_text, 'shape:(\\d+)', 1)::INT, count(*) FILTER (WHERE e.error IS NOT NULL)
           FROM evals e JOIN spans s USING (trace_id, span_id) WHERE e.judge = ? GROUP BY 1 ORDER BY 1""",
        [judge],
    )
    return dict(rows)


def test_ten_shapes_before_and_after_in_one_run(shaped):
    with JudgeServer() as server:  # a server that reads past response_format, as many do
        before = _run(shaped, _judge(server.url, "strict", tolerant_parsing=False, response_format=False))
        after = _run(shaped, _judge(server.url, "tolerant"))
    items = len(SHAPES) * PER_SHAPE * 2  # two metrics
    assert before.items == after.items == len(SHAPES) * PER_SHAPE
    # before: think-with-braces, Python literal, trailing comma, Score: N and unquoted keys fail even after
    # their repair (the model answers in its habit again), values as strings for the score metric too; prose
    # alone is repaired. Worse, claims with "supported": "yes" read as no checkable claim: not applicable
    assert (before.errors, before.repairs) == (11 * PER_SHAPE, 13 * PER_SHAPE)
    strict_errors = _errors_by_shape(shaped, "strict")
    assert {k for k, v in strict_errors.items() if v} == {3, 5, 6, 7, 8, 9} and strict_errors[7] == PER_SHAPE
    (misread,) = query(
        shaped,
        "SELECT count(*) FROM evals e JOIN spans s USING (trace_id, span_id) WHERE e.judge = 'strict' "
        "AND e.label = 'not_applicable' AND s.output_text LIKE '%shape:7]]%'",
    )
    assert misread[0] == PER_SHAPE
    # after: only a plain "Score: N" for a claims metric (no claims to count) still fails; prose is repaired
    assert (after.errors, after.repairs) == (PER_SHAPE, 2 * PER_SHAPE + PER_SHAPE)
    assert _errors_by_shape(shaped, "tolerant") == {s: (PER_SHAPE if s == 8 else 0) for s in SHAPES}
    assert after.scored + after.errors == items
    # the tolerant reading gives the same verdicts as the clean shape
    scores = query(
        shaped,
        """SELECT e.metric, regexp_extract(s.output_text, 'shape:(\\d+)', 1)::INT AS shape, list(e.score ORDER BY s.trace_id)
           FROM evals e JOIN spans s USING (trace_id, span_id) WHERE e.judge = 'tolerant' AND e.error IS NULL
           GROUP BY 1, 2""",
    )
    clean = {m: v for m, shape, v in scores if shape == 1}
    for metric, shape, values in scores:
        assert values == clean[metric], (metric, shape)
    print(
        f"\n{items} judgements: before {before.errors} errors, {misread[0]} misread as not applicable, "
        f"{before.repairs} repair calls; "
        f"after {after.errors} errors, {after.repairs} repair calls"
    )


def test_a_server_refusing_response_format_is_asked_without_it_and_remembered(shaped):
    with JudgeServer(response_format="refuse") as server:
        judge = _judge(server.url, "local")
        first = _run(shaped, judge)
        assert first.structured_output is False and "HTTP 400" in first.format_refused
        assert first.errors == PER_SHAPE  # refused, then asked without: the replies read as without it
        asked = server.format_requests
        assert 1 <= asked <= judge.max_concurrency  # the requests in flight when the refusal came
        second = _run(shaped, judge, rescore=True)
        assert server.format_requests == asked  # remembered: not asked again
        assert second.format_refused is None and second.structured_output is False
    (row,) = query(shaped, "SELECT judge, model, structured_output, reason FROM judge_capabilities")
    assert row[:3] == ("local", "small-1b", False) and "not supported" in row[3]


def test_a_server_honouring_response_format_needs_no_repair(shaped):
    with JudgeServer(response_format="honour") as server:
        rep = _run(shaped, _judge(server.url, "structured"))
        assert server.format_requests == server.requests == rep.calls
    assert (rep.errors, rep.repairs, rep.structured_output) == (0, 0, True)


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_each_shape_is_read_or_refused_by_the_parser(shape):
    claims = {
        "claims": [
            {"claim": "It is in Paris.", "supported": True, "reason": "in context"},
            {"claim": "Leonardo designed it.", "supported": False, "reason": "not in context"},
        ],
        "reason": "one of two",
        "score": 0.5,
    }
    relevancy = {"reason": "on topic", "score": 4}
    render = SHAPES[shape][1]
    for metric, verdict, expected in (("groundedness", claims, 0.5), ("answer_relevancy", relevancy, 0.75)):
        text = render(verdict)
        if shape == 10 or (shape == 8 and metric == "groundedness"):
            with pytest.raises(prompts.ParseError):
                prompts.parse(prompts.METRICS[metric], text)
        else:
            score, label, passed, _ = prompts.parse(prompts.METRICS[metric], text)
            assert score == pytest.approx(expected), (shape, metric, text)


def test_the_schema_asked_for_fits_strict_structured_output():
    for metric in prompts.METRICS.values():
        sch = prompts.schema(metric)
        assert sch["additionalProperties"] is False and set(sch["required"]) == set(sch["properties"])
        assert sch["properties"]["score"]["type"] == ["number", "null"]
    assert "claims" in prompts.schema(prompts.METRICS["groundedness"])["properties"]
