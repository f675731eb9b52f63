"""Dialects on what real instrumentation libraries exported (tests/fixtures/captured/).

Each fixture was recorded by scripts/capture/ running the unmodified library from PyPI against a
fake OpenAI-compatible server. ``expected.json`` holds the truth from the scenario and the server
(models, tokens, prompts, responses, tool calls, errors), not from the export, so these tests
check that ingest recovers what actually happened.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers import CAPTURED, query

from llmscope.ingest.pipeline import ingest

LIBRARIES = sorted(p.name for p in CAPTURED.iterdir() if (p / "expected.json").exists())

EXPECTED_DIALECT = {
    "openinference-openai-0.1.66": "openinference",
    "openlit-1.45.0": "openlit",
    "otel-openai-v2-2.3b0": "otel_genai",
    "otel-openai-v2-2.4b0": "otel_genai",
    "traceloop-sdk-0.47.5": "traceloop",
    "traceloop-sdk-0.62.4": "traceloop",
    "vercel-ai-5.0.277": "vercel_ai",
    "vercel-ai-6.0.325": "vercel_ai",
}

# Calls whose prompt the library itself does not record anywhere (see the fixture README): the
# test asserts the gap, so a change in either the library capture or our mapping shows up here.
PROMPT_NOT_RECORDED = {
    ("openlit-1.45.0", "rate_limited"),
    ("otel-openai-v2-2.4b0", "embeddings"),
    ("otel-openai-v2-2.3b0", "embeddings"),
}


def _expected(lib: str) -> dict:
    return json.loads((CAPTURED / lib / "expected.json").read_text())


@pytest.fixture(scope="module")
def stores(tmp_path_factory) -> dict[str, Path]:
    out = {}
    for lib in LIBRARIES:
        db = tmp_path_factory.mktemp(lib) / "store.duckdb"
        rep = ingest([str(CAPTURED / lib)], db)  # traces and, where present, logs in one call
        assert rep.bad_records == 0, rep.bad_examples
        out[lib] = db
    return out


def test_every_capture_is_present():
    assert set(LIBRARIES) == set(EXPECTED_DIALECT)


@pytest.mark.parametrize("lib", LIBRARIES)
def test_counts_models_tokens(lib, stores):
    e, db = _expected(lib), stores[lib]
    assert query(db, "SELECT count(*) FROM spans") == [(e["span_count"],)]
    llm = "span_type IN ('llm', 'embedding')"
    assert query(db, f"SELECT count(*) FROM spans WHERE {llm}") == [(e["llm_span_count"],)]
    by_op = dict(
        query(
            db,
            f"SELECT CASE span_type WHEN 'embedding' THEN 'embeddings' ELSE 'chat' END, count(*) FROM spans WHERE {llm} GROUP BY 1",
        )
    )
    assert by_op == e["llm_span_count_by_operation"]
    models = [r[0] for r in query(db, f"SELECT DISTINCT request_model FROM spans WHERE {llm} ORDER BY 1")]
    assert models == sorted(e["distinct_request_models"])
    tin, tout = query(db, f"SELECT sum(input_tokens), coalesce(sum(output_tokens), 0) FROM spans WHERE {llm}")[0]
    assert (tin, tout) == (e["input_tokens_total"], e["output_tokens_total"])
    assert query(db, f"SELECT DISTINCT dialect FROM spans WHERE {llm}") == [(EXPECTED_DIALECT[lib],)]
    assert query(db, "SELECT DISTINCT service_name FROM spans") == [(e["service_name"],)]


@pytest.mark.parametrize("lib", LIBRARIES)
def test_prompts_responses_tool_calls_and_errors(lib, stores):
    e, db = _expected(lib), stores[lib]
    rows = query(
        db,
        """SELECT request_model, input_text, output_text, output_messages, status, error_type,
                               input_tokens, output_tokens, cost_usd, user_id, session_id, finish_reason, span_type
                        FROM spans WHERE span_type IN ('llm', 'embedding') ORDER BY start_time""",
    )
    assert len(rows) == len(e["calls"])
    for call, row in zip(e["calls"], rows):  # the scenario makes the calls in order
        model, inp, out, out_msgs, status, err, tin, tout, cost, user, session, finish, stype = row
        assert model == call["request_model"], call["id"]
        if (lib, call["id"]) in PROMPT_NOT_RECORDED:
            assert inp is None, call["id"]
        else:
            assert call["prompt"] in inp, (call["id"], inp)
            if call.get("system"):
                assert call["system"] in inp
        if call["response_text"]:
            assert out is not None and call["response_text"] in out, (call["id"], out)
        if stype == "embedding":
            assert out is None  # an embedding's output is a vector, not text
        for tc in call["tool_calls"]:
            assert f"{tc['name']}(" in out
            assert any(
                c["name"] == tc["name"] and json.loads(c["arguments"]) == json.loads(tc["arguments"])
                for m in json.loads(out_msgs)
                for c in m.get("tool_calls") or []
            )
        if call["error"]:
            assert (status, err) == ("error", "rate_limit"), call["id"]
            assert cost is None and tin is None
        else:
            assert status in ("ok", "unset")
            assert (tin, tout or 0) == (call["input_tokens"], call["output_tokens"])
            rate_in, rate_out = {"gpt-4o-mini": (0.15e-6, 0.6e-6), "text-embedding-3-small": (0.02e-6, 0.0)}[model]
            assert cost == pytest.approx(tin * rate_in + (tout or 0) * rate_out, rel=1e-9)
        assert (user, session) == (e["user_id"], e["session_id"])
        if call["finish_reason"] and finish is not None:
            # libraries normalise the name differently (tool_calls vs tool_call); the family must agree
            assert finish.rstrip("s") == call["finish_reason"].rstrip("s")


def test_legacy_logs_attach_content_and_finish_reason(stores):
    """openai-v2 2.3b0 puts content only in log records; they are joined to spans by id."""
    db = stores["otel-openai-v2-2.3b0"]
    (msgs,) = query(db, "SELECT input_messages FROM spans WHERE input_text LIKE '%capital of France%'")[0]
    assert [m["role"] for m in json.loads(msgs)] == ["system", "user"]
    assert query(db, "SELECT finish_reason FROM spans WHERE output_text = '1, 2, 3, 4, 5'") == [("stop",)]


def test_logs_ingested_after_their_spans_still_attach(tmp_path):
    lib = CAPTURED / "otel-openai-v2-2.3b0"
    db = tmp_path / "later.duckdb"
    ingest([str(lib / "traces.otlp.jsonl")], db)
    assert query(db, "SELECT count(*) FROM spans WHERE input_text IS NOT NULL") == [(0,)]
    rep = ingest([str(lib / "logs.otlp.jsonl")], db)
    assert rep.spans_given_log_content == 4  # chat, stream, tool, failed call; embeddings has no log
    rep = ingest([str(lib / "logs.otlp.jsonl")], db)
    assert rep.log_messages_added == 0 and rep.spans_given_log_content == 0


def test_openlit_unattachable_log_is_a_note_not_a_bad_record(tmp_path):
    rep = ingest([str(CAPTURED / "openlit-1.45.0")], tmp_path / "s.duckdb")
    assert rep.bad_records == 0 and rep.unattached_logs == 1
    assert any("not attached" in n for n in rep.notes)


@pytest.mark.parametrize("lib", LIBRARIES)
def test_protobuf_capture_matches_json_capture(lib, stores, tmp_path):
    db = tmp_path / "pb.duckdb"
    ingest([str(CAPTURED / lib / "traces.pb")], db)
    cols = "trace_id, span_id, parent_span_id, name, span_type, request_model, input_tokens, output_tokens, status, error_type, input_text, output_text, cost_usd, duration_ms"
    want = query(stores[lib], f"SELECT {cols} FROM spans ORDER BY span_id")
    got = query(db, f"SELECT {cols} FROM spans ORDER BY span_id")
    if lib == "otel-openai-v2-2.3b0":  # content of this one lives in the log file, not in traces.pb
        want = [r[:10] + r[12:] for r in want]
        got = [r[:10] + r[12:] for r in got]
    assert got == want


VERCEL = [lib for lib in LIBRARIES if EXPECTED_DIALECT.get(lib) == "vercel_ai"]


@pytest.mark.parametrize("lib", VERCEL)
def test_vercel_ai_wrappers_are_workflows_and_the_tool_call_is_a_tool(lib, stores):
    """The AI SDK wraps each model call in a span of the whole call that repeats its usage: that one is a
    workflow with no tokens or cost of its own, so a sum over all spans still counts each call once."""
    db = stores[lib]
    wrappers = query(
        db,
        "SELECT name, span_type, input_tokens, output_tokens, cost_usd, price_version FROM spans "
        "WHERE name IN ('ai.generateText', 'ai.streamText', 'ai.embed') ORDER BY start_time",
    )
    calls = ["ai.generateText", "ai.streamText", "ai.generateText", "ai.embed", "ai.generateText"]
    assert [r[0] for r in wrappers] == calls  # one around each of the scenario's calls
    # ai.embed has the provider and model of its doEmbed span (so its rate row) but is not priced either
    assert {r[1:] for r in wrappers} == {("workflow", None, None, None, None)}
    e = _expected(lib)
    assert query(db, "SELECT sum(input_tokens), sum(output_tokens) FROM spans") == [
        (e["input_tokens_total"], e["output_tokens_total"])
    ]
    # the tool the SDK ran: its own span, arguments in, result out
    ((name, args, result, parent_type),) = query(
        db,
        "SELECT t.tool_name, t.input_text, t.output_text, p.span_type FROM spans t "
        "JOIN spans p ON p.span_id = t.parent_span_id WHERE t.span_type = 'tool'",
    )
    assert name == "get_weather" and parent_type == "workflow"
    assert json.loads(args) == {"city": "Paris", "unit": "celsius"}
    assert json.loads(result)["conditions"] == "sunny"
    # the model calls: provider without the API suffix, the tools offered (spelled inputSchema), TTFT
    llm = query(
        db,
        "SELECT provider, finish_reason, tool_definitions, ttft_ms, response_id FROM spans "
        "WHERE span_type IN ('llm', 'embedding') ORDER BY start_time",
    )
    assert {r[0] for r in llm} == {"openai"}
    assert [r[1] for r in llm] == ["stop", "stop", "tool_calls", "stop", None, None]  # the SDK wrote tool-calls
    for step in (2, 3):  # both steps of the tool run were offered the tool
        tools = json.loads(llm[step][2])
        assert [t["name"] for t in tools] == ["get_weather"]
        assert set(tools[0]["parameters"]["properties"]) == {"city", "unit"}
    assert llm[1][3] is not None and llm[1][3] > 0 and llm[0][3] is None  # only the streamed call has a first chunk
    assert [r[4] for r in llm[:4]] == [c["response_id"] for c in e["calls"][:4]]


@pytest.mark.parametrize("lib", VERCEL)
def test_vercel_ai_second_step_reads_the_tool_call_and_its_result(lib, stores):
    """stopWhen: stepCountIs(2): the second model call's ai.prompt.messages holds the assistant's tool-call part
    and the tool's tool-result part; they read as the other dialects' messages do (an assistant message with
    tool_calls [{id, name, arguments}], then a tool message with tool_call_id and the result as its content)."""
    db = stores[lib]
    call = next(c for c in _expected(lib)["calls"] if c["id"] == "tool_result")
    ((msgs, text, out, parent, wrapper),) = query(
        db,
        "SELECT s.input_messages, s.input_text, s.output_text, p.name, p.span_type FROM spans s "
        "JOIN spans p ON p.span_id = s.parent_span_id WHERE s.response_id = ?",
        [call["response_id"]],
    )
    assert (parent, wrapper) == ("ai.generateText", "workflow")
    assert out == call["response_text"]
    user, assistant, tool = json.loads(msgs)
    assert user == {"role": "user", "content": call["prompt"]}
    (want_call,) = call["input_tool_calls"]
    assert assistant["role"] == "assistant" and assistant["content"] is None
    (got_call,) = assistant["tool_calls"]
    assert (got_call["id"], got_call["name"]) == (want_call["id"], want_call["name"])
    assert json.loads(got_call["arguments"]) == json.loads(want_call["arguments"])  # the SDK sends input as an object
    (want_result,) = call["input_tool_results"]
    assert set(tool) == {"role", "content", "tool_call_id"}
    assert (tool["role"], tool["tool_call_id"]) == ("tool", want_result["id"])
    assert json.loads(tool["content"]) == want_result["result"]  # output {type: json, value}: the value
    # the result answers the call of that id, which names the tool
    assert {c["id"]: c["name"] for c in assistant["tool_calls"]}[tool["tool_call_id"]] == want_result["name"]
    # input_text has all three: the prompt, name(arguments), the result
    assert text.split("\n")[:2] == [call["prompt"], f"get_weather({got_call['arguments']})"]
    assert json.loads(text.split("\n")[2]) == want_result["result"]
    # the first step's input is the prompt alone, its output the call
    ((first_in, first_out),) = query(
        db, "SELECT input_messages, output_messages FROM spans WHERE response_id = 'chatcmpl-fake-tool-0001'"
    )
    assert json.loads(first_in) == [{"role": "user", "content": call["prompt"]}]
    assert [c["id"] for m in json.loads(first_out) for c in m["tool_calls"]] == [want_call["id"]]


@pytest.mark.parametrize("lib", VERCEL)
def test_vercel_ai_function_id_is_the_feature(lib, stores):
    """experimental_telemetry.functionId names the call site; it is the feature of every span of the call."""
    db = stores[lib]
    rows = query(db, "SELECT feature, attributes->>'$.\"ai.telemetry.functionId\"' FROM spans ORDER BY start_time")
    assert all(feature == fid for feature, fid in rows)
    assert list(dict.fromkeys(f for f, _ in rows)) == [
        "capture-chat",
        "capture-stream",
        "capture-tool",
        "capture-embed",
        "capture-error",
    ]
    tool_run = query(db, "SELECT span_type, count(*) FROM spans WHERE feature = 'capture-tool' GROUP BY 1 ORDER BY 1")
    assert tool_run == [("llm", 2), ("tool", 1), ("workflow", 1)]
