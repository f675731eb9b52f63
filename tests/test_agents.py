"""Agents on hand-checked traces in three dialects, and on the planted loops of the sample traces."""

from __future__ import annotations

import json

import pytest
from helpers import SAMPLES, export_line, kv, otlp_span, s, write_lines

from llmscope import store
from llmscope.analyses import agents as A
from llmscope.analyses.graph import trace_graph
from llmscope.analyses.traces import trace_tree
from llmscope.ingest.pipeline import ingest

T0 = 1_762_000_000_000_000_000
SEC = 1_000_000_000


class Trace:
    """Builds one trace's spans in a chosen dialect, one second per step."""

    def __init__(self, n: int, dialect: str):
        self.tid = f"{n:032x}"
        self.dialect = dialect
        self.spans: list[dict] = []
        self.t = T0 + n * 1000 * SEC
        self.k = 0

    def _id(self) -> str:
        self.k += 1
        return f"{int(self.tid[-8:], 16):08x}{self.k:08x}"

    def span(self, name, parent, attrs, status=None, dur=SEC) -> str:
        sid = self._id()
        self.spans.append(
            otlp_span(self.tid, sid, name=name, parent=parent, start_ns=self.t, dur_ns=dur, attrs=attrs, status=status)
        )
        self.t += dur + 1000
        return sid

    def agent(self, name, parent=None, status=None) -> str:
        a = {
            "otel": [kv("gen_ai.operation.name", s("invoke_agent")), kv("gen_ai.agent.name", s(name))],
            "openinference": [kv("openinference.span.kind", s("AGENT")), kv("agent.name", s(name))],
            "traceloop": [kv("traceloop.span.kind", s("agent")), kv("traceloop.entity.name", s(name))],
        }[self.dialect]
        sid = self._id()
        # agent spans cover their children: give a long duration, fixed later by the loader anyway
        self.spans.append(
            otlp_span(
                self.tid,
                sid,
                name=f"{name}.agent",
                parent=parent,
                start_ns=self.t,
                dur_ns=500 * SEC,
                attrs=a,
                status=status,
            )
        )
        self.t += 1000
        return sid

    def llm(self, parent, finish="stop", status=None) -> str:
        a = {
            "otel": [
                kv("gen_ai.operation.name", s("chat")),
                kv("gen_ai.request.model", s("gpt-4o-mini")),
                kv("gen_ai.response.finish_reasons", {"arrayValue": {"values": [s(finish)]}}),
            ],
            "openinference": [
                kv("openinference.span.kind", s("LLM")),
                kv("llm.model_name", s("gpt-4o-mini")),
                kv("llm.output_messages.0.message.finish_reason", s(finish)),
            ],
            "traceloop": [
                kv("llm.request.type", s("chat")),
                kv("gen_ai.request.model", s("gpt-4o-mini")),
                kv("gen_ai.completion.0.finish_reason", s(finish)),
            ],
        }[self.dialect]
        a.append(kv("gen_ai.usage.input_tokens", {"intValue": "100"}))
        a.append(kv("gen_ai.usage.output_tokens", {"intValue": "10"}))
        return self.span("chat", parent, a, status)

    def tool(self, parent, name, args: dict, status=None) -> str:
        arg = json.dumps(args)
        a = {
            "otel": [
                kv("gen_ai.operation.name", s("execute_tool")),
                kv("gen_ai.tool.name", s(name)),
                kv("gen_ai.tool.call.arguments", s(arg)),
            ],
            "openinference": [
                kv("openinference.span.kind", s("TOOL")),
                kv("tool.name", s(name)),
                kv("input.value", s(arg)),
            ],
            "traceloop": [
                kv("traceloop.span.kind", s("tool")),
                kv("traceloop.entity.name", s(name)),
                kv("traceloop.entity.input", s(arg)),
            ],
        }[self.dialect]
        return self.span(f"{name}.tool", parent, a, status)


def build(tmp_path):
    traces = {}
    # 1 clean run (OTel GenAI): plan, one search, answer
    t = Trace(1, "otel")
    a = t.agent("helper")
    t.llm(a, "tool_calls"), t.tool(a, "search", {"q": "weather"}), t.llm(a, "stop")
    traces["clean"] = t
    # 2 exact repeat (OpenInference): lookup(id=7) four times, LLM calls between (arguments differ in white space only)
    t = Trace(2, "openinference")
    a = t.agent("support")
    for i in range(4):
        t.llm(a, "tool_calls")
        t.span(
            "lookup.tool",
            a,
            [
                kv("openinference.span.kind", s("TOOL")),
                kv("tool.name", s("lookup")),
                kv("input.value", s('{"id": 7}' if i % 2 else '{ "id":7 }')),
            ],
        )
    t.llm(a, "stop")
    traces["repeat"] = t
    # 3 A -> B -> A -> B -> A -> B cycle (Traceloop)
    t = Trace(3, "traceloop")
    a = t.agent("researcher")
    for _ in range(3):
        (
            t.llm(a, "tool_calls"),
            t.tool(a, "web_search", {"q": "x"}),
            t.llm(a, "tool_calls"),
            t.tool(a, "fetch", {"url": "u"}),
        )
    t.llm(a, "stop")
    traces["cycle"] = t
    # 4 runaway: 30 distinct tool calls
    t = Trace(4, "otel")
    a = t.agent("explorer")
    for i in range(15):
        t.llm(a, "tool_calls"), t.tool(a, "search", {"q": f"topic {i}"})
    t.llm(a, "stop")
    traces["runaway"] = t
    # 5 a tool fails and is retried with the same input, then succeeds
    t = Trace(5, "otel")
    a = t.agent("helper")
    (
        t.llm(a, "tool_calls"),
        t.tool(a, "payments", {"order": 1}, status={"code": 2, "message": "503"}),
        t.tool(a, "payments", {"order": 1}),
        t.llm(a, "stop"),
    )
    traces["retry"] = t
    # 6 nested agents: the inner agent's tools belong to the inner agent
    t = Trace(6, "openinference")
    outer = t.agent("orchestrator")
    t.llm(outer, "tool_calls")
    inner = t.agent("coder", parent=outer)
    for _ in range(3):
        t.tool(inner, "run_tests", {"path": "tests/"})
    t.llm(inner, "stop"), t.llm(outer, "stop")
    traces["nested"] = t
    # 7 abandoned: ends on a tool call with no answer after it
    t = Trace(7, "traceloop")
    a = t.agent("helper")
    t.llm(a, "tool_calls"), t.tool(a, "search", {"q": "never answered"})
    traces["abandoned"] = t
    # 8 failed: the agent span itself errs
    t = Trace(8, "otel")
    a = t.agent("helper", status={"code": 2, "message": "boom"})
    t.llm(a, "stop", status={"code": 2, "message": "boom"})
    traces["failed"] = t
    lines = [export_line(t.spans) for t in traces.values()]
    return write_lines(tmp_path / "agents.jsonl", lines), {k: t.tid for k, t in traces.items()}


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    d = tmp_path_factory.mktemp("agents")
    f, ids = build(d)
    db = d / "a.duckdb"
    rep = ingest([str(f)], db)
    assert rep.bad_records == 0
    con = store.connect(db, read_only=True)
    yield con, ids
    con.close()


def test_loops_exact_repeat_and_cycle_with_evidence(db):
    con, ids = db
    found = {r["trace_id"]: r for r in A.loops(con).to_pylist()}
    assert set(found) == {ids["repeat"], ids["cycle"], ids["nested"]}
    rep = found[ids["repeat"]]
    assert (rep["kind"], rep["period"], rep["repeats"], rep["agent"]) == ("exact_repeat", 1, 4, "support")
    assert rep["pattern"].startswith("lookup(")
    # wasted: the LLM calls between the second lookup and the end of the loop (the 3rd and 4th planning calls)
    assert rep["wasted_tokens"] == 2 * 110
    cyc = found[ids["cycle"]]
    assert (cyc["kind"], cyc["period"], cyc["repeats"], cyc["agent"]) == ("cycle", 2, 3, "researcher")
    assert cyc["pattern"].startswith("web_search(") and "→ fetch(" in cyc["pattern"]
    nested = found[ids["nested"]]
    assert (nested["agent"], nested["repeats"]) == ("coder", 3)  # attributed to the inner agent


def test_runaways(db):
    con, ids = db
    run = A.runaways(con, max_steps=25).to_pylist()
    assert [r["trace_id"] for r in run] == [ids["runaway"]]
    assert run[0]["steps"] == 31 and run[0]["tool_calls"] == 15
    assert A.runaways(con, max_steps=100, max_duration_s=10).to_pylist()[0]["trace_id"] == ids["runaway"]


def test_completion_outcomes(db):
    con, ids = db
    outcome = {r["trace_id"]: r["outcome"] for r in A.completion(con).to_pylist()}
    assert outcome[ids["clean"]] == "completed"
    assert outcome[ids["retry"]] == "completed"
    assert outcome[ids["abandoned"]] == "abandoned"
    assert outcome[ids["failed"]] == "failed"
    outcome = {r["trace_id"]: r["outcome"] for r in A.completion(con, incomplete_reasons=("stop",)).to_pylist()}
    assert outcome[ids["clean"]] == "abandoned"  # the rules are configurable


def test_tools_report_counts_errors_and_retries(db):
    con, ids = db
    tools = {r["tool_name"]: r for r in A.tools(con).to_pylist()}
    pay = tools["payments"]
    assert (pay["calls"], pay["error_rate"], pay["retries_same_input"], pay["retries_after_error"]) == (2, 0.5, 1, 1)
    assert tools["lookup"]["retries_same_input"] == 3


def test_agents_report(db):
    con, ids = db
    agents = {r["agent_name"]: r for r in A.agents(con).to_pylist()}
    assert set(agents) == {"helper", "support", "researcher", "explorer", "orchestrator", "coder"}
    assert (
        agents["helper"]["runs"] == 4 and agents["helper"]["completion_rate"] == 0.5
    )  # clean, retry / abandoned, failed
    assert agents["coder"]["tool_calls"] == 3 and agents["orchestrator"]["tool_calls"] == 0
    assert agents["explorer"]["max_steps"] == 31


def test_graph_folds_repeats(db):
    con, ids = db
    g = trace_graph(trace_tree(con, ids["cycle"]))
    folded = [n for n in g["nodes"] if n["repeat"] > 1]
    assert folded and folded[0]["repeat"] == 3 and folded[0]["block_size"] == 4  # [llm, web_search, llm, fetch] ×3
    assert any(e["kind"] == "repeat" and e["times"] == 3 for e in g["edges"])
    g = trace_graph(trace_tree(con, ids["clean"]))
    assert all(n["repeat"] == 1 for n in g["nodes"])


def test_planted_loops_in_sample_traces(tmp_path):
    db = tmp_path / "s.duckdb"
    ingest([str(SAMPLES / "research-agent.traces.jsonl.gz")], db)
    manifest = json.loads((SAMPLES / "manifest.json").read_text())["planted"]
    con = store.connect(db, read_only=True)
    try:
        found = {r["trace_id"]: r for r in A.loops(con).to_pylist()}
        runs = {r["trace_id"] for r in A.runaways(con, max_steps=30).to_pylist()}
    finally:
        con.close()
    same = manifest["tool_loop_same_args"]
    cycle = manifest["tool_cycle"]
    assert found[same["trace_id"]]["kind"] == "exact_repeat" and found[same["trace_id"]]["repeats"] >= 10
    assert found[cycle["trace_id"]]["kind"] == "cycle" and found[cycle["trace_id"]]["repeats"] >= 4
    assert manifest["runaway_agent"]["trace_id"] in runs
    assert len(found) == 2  # nothing else loops in two weeks of normal runs


def test_model_tool_calls_checked_against_offered_tools(tmp_path):
    from helpers import CAPTURED

    defs = json.dumps(
        [
            {
                "type": "function",
                "name": "get_weather",
                "parameters": {
                    "type": "object",
                    "properties": {"city": {"type": "string"}},
                    "required": ["city"],
                    "additionalProperties": False,
                },
            }
        ]
    )

    def call(i, name, args):
        out = json.dumps(
            [{"role": "assistant", "parts": [{"type": "tool_call", "id": f"c{i}", "name": name, "arguments": args}]}]
        )
        return otlp_span(
            f"{i:032x}",
            f"{i:016x}",
            name="chat",
            attrs=[
                kv("gen_ai.operation.name", s("chat")),
                kv("gen_ai.tool.definitions", s(defs)),
                kv("gen_ai.output.messages", s(out)),
            ],
        )

    f = write_lines(
        tmp_path / "t.jsonl",
        [
            export_line(
                [
                    call(1, "get_weather", {"city": "Paris"}),  # fine
                    call(2, "get_weather", {"town": "Paris"}),  # required city missing, town undeclared
                    call(3, "book_flight", {"to": "Paris"}),  # not offered
                    call(4, "get_weather", '{"city": "Paris", "unit": "c"}'),  # undeclared parameter
                ]
            )
        ],
    )
    db = tmp_path / "t.duckdb"
    ingest([str(f)], db)
    con = store.connect(db, read_only=True)
    try:
        got = {r["tool_name"]: r for r in A.tool_call_checks(con).to_pylist()}
    finally:
        con.close()
    assert (
        got["get_weather"]["requested"],
        got["get_weather"]["schema_failures"],
        got["get_weather"]["not_offered"],
    ) == (3, 2, 0)
    assert (got["book_flight"]["not_offered"], got["book_flight"]["example_trace_id"]) == (1, f"{3:032x}")
    # the real captures: three libraries record the offered tools; their one tool call passes
    for lib in ("traceloop-sdk-0.62.4", "traceloop-sdk-0.47.5", "openinference-openai-0.1.66"):
        db = tmp_path / f"{lib}.duckdb"
        ingest([str(CAPTURED / lib)], db)
        con = store.connect(db, read_only=True)
        try:
            rows = A.tool_call_checks(con).to_pylist()
        finally:
            con.close()
        assert [(r["tool_name"], r["requested"], r["not_offered"], r["schema_failures"]) for r in rows] == [
            ("get_weather", 1, 0, 0)
        ], lib


def test_repeated_within_a_window(tmp_path):
    t = Trace(9, "otel")
    a = t.agent("helper")
    for q in ("a", "b", "a", "c", "a", "d"):  # search(a) three times, never twice in a row
        t.llm(a, "tool_calls"), t.tool(a, "search", {"q": q})
    t.llm(a, "stop")
    db = tmp_path / "w.duckdb"
    ingest([str(write_lines(tmp_path / "w.jsonl", [export_line(t.spans)]))], db)
    con = store.connect(db, read_only=True)
    try:
        found = A.loops(con).to_pylist()
        narrow = A.loops(con, window=4).to_pylist()
    finally:
        con.close()
    assert [(r["kind"], r["repeats"], r["agent"]) for r in found] == [("repeated_in_window", 3, "helper")]
    assert found[0]["pattern"].startswith("search(") and '"a"' in found[0]["pattern"]
    assert narrow == []  # three a's span five calls: not within a window of four
