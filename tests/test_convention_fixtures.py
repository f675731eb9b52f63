"""The 2026 GenAI conventions llmscope maps from the convention text (tests/fixtures/conventions/, written by
hand, named *.from-spec.*): MCP tools/call spans as tools, invoke_workflow and create_agent, time to first
chunk, Sentry's cache and reasoning token spellings."""

from __future__ import annotations

import pytest
from helpers import FIXTURES

import llmscope

FIXTURE = FIXTURES / "conventions" / "genai-2026.from-spec.otlp.jsonl"


@pytest.fixture(scope="module")
def spans(tmp_path_factory):
    db = tmp_path_factory.mktemp("conventions") / "c.duckdb"
    store = llmscope.open(db)
    report = store.ingest([str(FIXTURE)])
    assert report.spans_added == 6 and report.bad_records == 0
    rows = store.spans(
        columns=["name", "span_type", "tool_name", "agent_name", "status", "error_type", "cache_read_tokens",
                 "reasoning_tokens", "input_tokens", "ttft_ms", "response_id"]
    ).to_dicts()  # fmt: skip
    return store, {r["name"]: r for r in rows}


def test_workflow_agent_and_chat_spans(spans):
    _, by_name = spans
    assert by_name["invoke_workflow trip_planner"]["span_type"] == "workflow"
    agent = by_name["create_agent planner"]
    assert (agent["span_type"], agent["agent_name"]) == ("agent", "planner")
    chat = by_name["chat gpt-4o-mini"]
    assert (chat["span_type"], chat["input_tokens"], chat["cache_read_tokens"], chat["reasoning_tokens"]) == (
        "llm", 1200, 1024, 32,
    )  # fmt: skip
    assert chat["ttft_ms"] == pytest.approx(250.0) and chat["response_id"] == "chatcmpl-7Qx"


def test_mcp_tool_calls_are_tool_spans_in_the_tools_report(spans):
    store, by_name = spans
    weather = by_name["tools/call get_weather"]
    assert (weather["span_type"], weather["tool_name"], weather["status"], weather["error_type"]) == (
        "tool", "get_weather", "error", "tool_error",
    )  # fmt: skip
    docs = by_name["tools/call search_docs"]
    assert (docs["span_type"], docs["tool_name"]) == ("tool", "search_docs")
    assert by_name["resources/read file:///docs/guide.md"]["span_type"] == "other"
    tools = {r["tool_name"]: r for r in store.report("tools").to_dicts()}
    assert set(tools) == {"get_weather", "search_docs"}
