"""The capture scenario as data (stdlib only).

Shared by scenario.py (which runs it against the fake server) and run_capture.py (which writes
expected.json from it). Token numbers come from fake_openai_server.USAGE, so the ground truth is
the scenario plus the fake server, never the export.
"""

from __future__ import annotations

import fake_openai_server as fake

SERVICE_NAME = "capture-app"
USER_ID = "u-42"
SESSION_ID = "s-7"

SYSTEM_PROMPT = "You are a concise geography assistant."

WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Get the current weather for a city.",
        "parameters": {
            "type": "object",
            "properties": {
                "city": {"type": "string", "description": "City name"},
                "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
            },
            "required": ["city"],
        },
    },
}


# What the scenario's get_weather returns when a library runs the tool itself (the Vercel AI SDK's
# `execute`; scenario.mjs reads it from the spec), so the second step's tool result is known here.
WEATHER_RESULT = {"city": "Paris", "unit": "celsius", "temperature": 18, "conditions": "sunny"}


def _u(kind):
    return fake.USAGE[kind]


CALLS = [
    {
        "id": "chat",
        "operation": "chat",
        "request_model": "gpt-4o-mini",
        "response_model": fake.SNAPSHOTS["gpt-4o-mini"],
        "response_id": "chatcmpl-fake-chat-0001",
        "stream": False,
        "system": SYSTEM_PROMPT,
        "prompt": "What is the capital of France?",
        "params": {"temperature": 0.2, "max_tokens": 64},
        "response_text": "The capital of France is Paris.",
        "finish_reason": "stop",
        "tool_calls": [],
        "input_tokens": _u("chat")[0],
        "output_tokens": _u("chat")[1],
        "error": None,
    },
    {
        "id": "stream",
        "operation": "chat",
        "request_model": "gpt-4o-mini",
        "response_model": fake.SNAPSHOTS["gpt-4o-mini"],
        "response_id": "chatcmpl-fake-stream-0001",
        "stream": True,
        "system": None,
        "prompt": "Please count from 1 to 5.",
        "params": {"stream_options": {"include_usage": True}},
        "response_text": "".join(fake.STREAM_CHUNKS),
        "stream_chunks": list(fake.STREAM_CHUNKS),
        "finish_reason": "stop",
        "tool_calls": [],
        "input_tokens": _u("stream")[0],
        "output_tokens": _u("stream")[1],
        "error": None,
    },
    {
        "id": "tool",
        "operation": "chat",
        "request_model": "gpt-4o-mini",
        "response_model": fake.SNAPSHOTS["gpt-4o-mini"],
        "response_id": "chatcmpl-fake-tool-0001",
        "stream": False,
        "system": None,
        "prompt": "What is the weather in Paris today?",
        "params": {"tools": ["get_weather"], "tool_choice": "auto"},
        "response_text": None,
        "finish_reason": "tool_calls",
        "tool_calls": [{"id": fake.TOOL_CALL_ID, "name": "get_weather", "arguments": fake.TOOL_ARGS}],
        "input_tokens": _u("tool")[0],
        "output_tokens": _u("tool")[1],
        "error": None,
    },
    {
        # the second model call of the same tool run: the SDK ran the tool and sends its result back
        # (stopWhen: stepCountIs(2)); only setups that run tools themselves make this call
        "id": "tool_result",
        "setups": ["vercel-ai"],
        "operation": "chat",
        "request_model": "gpt-4o-mini",
        "response_model": fake.SNAPSHOTS["gpt-4o-mini"],
        "response_id": "chatcmpl-fake-tool-0002",
        "stream": False,
        "system": None,
        "prompt": "What is the weather in Paris today?",
        "params": {"tools": ["get_weather"], "tool_choice": "auto"},
        "input_tool_calls": [{"id": fake.TOOL_CALL_ID, "name": "get_weather", "arguments": fake.TOOL_ARGS}],
        "input_tool_results": [{"id": fake.TOOL_CALL_ID, "name": "get_weather", "result": WEATHER_RESULT}],
        "response_text": fake.TOOL_RESULT_ANSWER,
        "finish_reason": "stop",
        "tool_calls": [],
        "input_tokens": _u("tool_result")[0],
        "output_tokens": _u("tool_result")[1],
        "error": None,
    },
    {
        "id": "embeddings",
        "operation": "embeddings",
        "request_model": "text-embedding-3-small",
        "response_model": fake.SNAPSHOTS["text-embedding-3-small"],
        "response_id": None,
        "stream": False,
        "system": None,
        "prompt": "The quick brown fox jumps over the lazy dog.",
        "params": {},
        "response_text": None,
        "embedding_dimensions": 8,
        "finish_reason": None,
        "tool_calls": [],
        "input_tokens": fake.USAGE["embeddings"],
        "output_tokens": 0,
        "error": None,
    },
    {
        "id": "rate_limited",
        "operation": "chat",
        "request_model": "error-429",
        "response_model": None,
        "response_id": None,
        "stream": False,
        "system": None,
        "prompt": "This request should be rate limited.",
        "params": {},
        "response_text": None,
        "finish_reason": None,
        "tool_calls": [],
        "input_tokens": 0,
        "output_tokens": 0,
        "error": {
            "http_status": 429,
            "exception": "openai.RateLimitError",
            "type_name": "RateLimitError",
            "code": fake.ERRORS["error-429"][1]["code"],
            "message": fake.ERRORS["error-429"][1]["message"],
        },
    },
]


def calls_for(setup: str) -> list[dict]:
    """The calls a setup makes, in order (a call with ``setups`` only in those)."""
    return [c for c in CALLS if setup in c.get("setups", [setup])]
