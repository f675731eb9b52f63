"""Regression datasets: failing calls -> JSONL -> `eval --dataset --fail-under` as a CI gate, end to end with
the real judge server on 127.0.0.1; de-duplication, redaction, `dataset add`, the header."""

from __future__ import annotations

import json

import pytest
from helpers import export_line, kv, otlp_span, s, write_lines
from judge_server import JudgeServer
from typer.testing import CliRunner

import llmscope
from llmscope.cli.app import app
from llmscope.errors import EvalError
from llmscope.ingest.pipeline import ingest

CONTEXT = "The Eiffel Tower is in Paris. It opened in 1889 and is about 330 metres tall."
QUESTION = "Where is the Eiffel Tower?"
GROUNDED = "The Eiffel Tower is in Paris. It opened in 1889."
HALLUCINATED = "The Eiffel Tower is in Paris. It was designed by Leonardo."
LEAK = "The Eiffel Tower is in Paris. Write to jane.doe@example.com for tickets."
runner = CliRunner()
ENV = {"NO_COLOR": "1", "COLUMNS": "200"}


def _trace(i: int, answer: str | None, question: str = QUESTION) -> list[dict]:
    t = f"{i:032x}"
    root, ret, llm = f"{i:08x}00000001", f"{i:08x}00000002", f"{i:08x}00000003"
    start = 1_762_000_000_000_000_000 + i * 10**10
    msgs_in = json.dumps(
        [
            {"role": "system", "parts": [{"type": "text", "content": "Answer from the context."}]},
            {"role": "user", "parts": [{"type": "text", "content": question}]},
        ]
    )
    attrs = [
        kv("gen_ai.operation.name", s("chat")),
        kv("gen_ai.request.model", s("gpt-4o-mini")),
        kv("gen_ai.input.messages", s(msgs_in)),
    ]
    status = None
    if answer is None:
        attrs.append(kv("error.type", s("RateLimitError")))
        status = {"code": 2, "message": "Error code: 429"}
    else:
        out = json.dumps([{"role": "assistant", "parts": [{"type": "text", "content": answer}]}])
        attrs.append(kv("gen_ai.output.messages", s(out)))
    return [
        otlp_span(t, root, name="POST /chat", start_ns=start, dur_ns=3 * 10**9),
        otlp_span(
            t,
            ret,
            name="retrieval kb",
            parent=root,
            start_ns=start + 1,
            attrs=[kv("gen_ai.operation.name", s("retrieval")), kv("gen_ai.retrieval.documents", s(CONTEXT))],
        ),
        otlp_span(t, llm, name="chat gpt-4o-mini", parent=root, start_ns=start + 10**9, attrs=attrs, status=status),
    ]


ANSWERS = [GROUNDED, HALLUCINATED, HALLUCINATED, LEAK, None, GROUNDED]  # 2 and 3: the same exchange twice


@pytest.fixture
def rag(tmp_path):
    db = tmp_path / "rag.duckdb"
    lines = [export_line(_trace(i, a)) for i, a in enumerate(ANSWERS, 1)]
    ingest([str(write_lines(tmp_path / "rag.jsonl", lines))], db)
    return db


def _config(tmp_path, url: str):
    cfg = tmp_path / "llmscope.toml"
    cfg.write_text(f'[judges.small]\nbase_url = "{url}"\nmodel = "judge-small"\nprice_in = 0.1\nprice_out = 0.2\n')
    return cfg


def _read(path):
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    return lines[0]["llmscope_dataset"], lines[1:]


def test_failing_calls_become_a_dataset_that_gates_ci_until_fixed(rag, tmp_path):
    data = tmp_path / "regression.jsonl"
    with JudgeServer() as server:
        base = ["--db", str(rag), "--config", str(_config(tmp_path, server.url))]
        res = runner.invoke(app, [*base, "eval", "--judge", "small", "--metrics", "groundedness"], env=ENV)
        assert res.exit_code == 0, res.output
        assert runner.invoke(app, [*base, "scan"], env=ENV).exit_code == 0
        res = runner.invoke(app, [*base, "dataset", "export", "-o", str(data), "--format", "json"], env=ENV)
        assert res.exit_code == 0, res.output
        summary = json.loads(res.stdout)
        # the hallucinated exchange twice (one item), the leak (a finding, and a hallucination: the address
        # is not in the context), the failed call
        assert (summary["candidates"], summary["duplicates"], summary["written"]) == (4, 1, 3)
        header, items = _read(data)
        assert header["format"] == "llmscope-dataset/1" and header["items"] == 3
        assert header["made_by"]["reasons"] == ["low_score", "hallucination", "finding", "error", "loop"]
        assert header["made_by"]["redaction"] == "pii placeholders" and header["store"] == str(rag)
        by_output = {it["output"]: it for it in items}
        twice = by_output[HALLUCINATED]
        assert twice["occurrences"] == 2 and twice["input"] == QUESTION and twice["context"] == CONTEXT
        assert twice["why"] == ["hallucination: groundedness 0.50 [small]"] and twice["trace_id"] == f"{2:032x}"
        failed = by_output[None]
        assert failed["reasons"] == ["error"] and failed["why"] == ["error: rate_limit"]
        (leak,) = [it for it in items if "finding" in it["reasons"]]
        assert "jane.doe@example.com" not in data.read_text() and "<EMAIL_" in leak["output"]
        assert "finding: pii_leak/email in output" in leak["why"]

        # the CI gate: the recorded (failing) outputs fail it ...
        gate = [*base, "eval", "--judge", "small", "--metrics", "groundedness", "--dataset", str(data)]
        res = runner.invoke(app, [*gate, "--fail-under", "groundedness=0.8"], env=ENV)
        assert res.exit_code == 1 and "gate failed: groundedness mean" in res.output
        # ... the failed call has no output to judge: it counts as not applicable, not as an error
        res = runner.invoke(app, [*gate, "--format", "json"], env=ENV)
        out = json.loads(res.stdout)
        assert (out["items"], out["errors"], out["not_applicable"]) == (3, 0, 1)
        # ... and new outputs that answer from the context pass it
        fixed = [dict(it, output=GROUNDED) for it in items]
        data.write_text("\n".join(json.dumps(x) for x in [{"llmscope_dataset": header}, *fixed]) + "\n")
        res = runner.invoke(app, [*gate, "--fail-under", "groundedness=0.8"], env=ENV)
        assert res.exit_code == 0, res.output


def test_add_appends_only_what_the_file_lacks_and_records_it(rag, tmp_path):
    store = llmscope.open(rag)
    data = tmp_path / "r.jsonl"
    first = store.export_dataset(data, reasons="error")
    assert (first.written, first.total) == (1, 1)
    again = store.export_dataset(data, reasons="error", append=True)
    assert (again.written, again.already_present, again.total) == (0, 1, 1)
    store.evaluate(metrics="groundedness_lexical")  # offline: half of each of the two bad answers is unsupported
    more = store.export_dataset(data, reasons=["error", "low_score"], append=True)
    header, items = _read(data)
    assert more.written == 2 and more.already_present == 1 and len(items) == 3 == header["items"]
    assert [h["action"] for h in header["history"]] == ["export", "add", "add"]
    assert [h["added"] for h in header["history"]] == [1, 0, 2]
    assert len({it["id"] for it in items}) == 3


def test_no_redaction_keeps_the_text_and_the_loops_of_the_sample_are_chosen(rag, sample_master, tmp_path):
    store = llmscope.open(rag)
    store.scan()
    plain = store.export_dataset(tmp_path / "p.jsonl", reasons="finding", redact=False)
    assert plain.written == 1 and "jane.doe@example.com" in (tmp_path / "p.jsonl").read_text()
    loops = llmscope.open(sample_master).export_dataset(tmp_path / "loops.jsonl", reasons="loop")
    _, items = _read(tmp_path / "loops.jsonl")
    assert loops.written == 2
    assert {it["trace_id"] for it in items} == {"bb49e0e7e4ac15ed12e053bacf8c164a", "7ad10f290478281f18f858c2919322e8"}
    assert all(it["why"] == ["loop: the trace repeats tool calls"] and it["input"] for it in items)


def test_bad_options_and_files_are_refused_with_the_reason(rag, tmp_path):
    store = llmscope.open(rag)
    with pytest.raises(EvalError, match="nope: choose reasons among low_score"):
        store.export_dataset(tmp_path / "x.jsonl", reasons="error,nope")
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"input": "q", "output": "a"}\n{"llmscope_dataset": {}}\n')
    with pytest.raises(EvalError, match=r"bad.jsonl:2: a dataset header belongs on the first line"):
        store.export_dataset(bad, reasons="error", append=True)
    assert bad.read_text().count("\n") == 2  # untouched
    res = runner.invoke(app, ["--db", str(rag), "dataset", "export", "-o", str(tmp_path / "e.jsonl"), "--since",
                              "2030-01-01"], env=ENV)  # fmt: skip
    assert res.exit_code == 0 and "0 item(s) written" in res.stdout and "no failing or borderline calls" in res.stderr
