#!/usr/bin/env python3
"""Deterministic OpenAI-compatible HTTP server for fixture capture (stdlib only).

Usage: python3 fake_openai_server.py PORT

Endpoints
  POST /v1/chat/completions   non-streaming, or SSE with ``"stream": true``; a final usage
                              chunk is sent when ``stream_options.include_usage`` is true.
                              When the request offers ``tools`` and the last message is a user
                              message that mentions "weather", the reply is a ``get_weather``
                              tool call; when the last message is a tool result (the second step of
                              a tool run), the reply is TOOL_RESULT_ANSWER.
  POST /v1/embeddings         one 8-dim vector per input (a base64 float32 string when
                              ``encoding_format`` is "base64", as the openai client asks by default).
  GET  /health                "ok"

Errors are triggered by the model name: ``error-429`` -> 429 rate_limit_exceeded,
``error-500`` -> 500 server_error, ``error-400`` -> 400 invalid_request_error.

Every answer is a pure function of the request (fixed ids, timestamps and token counts), so
``expected.json`` can be written from the table below without parsing any export.
"""

from __future__ import annotations

import base64
import json
import struct
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

CREATED = 1730000000
SYSTEM_FINGERPRINT = "fp_fake_0001"

# Fixed usage per kind of answer: (prompt_tokens, completion_tokens).
USAGE = {
    "chat": (23, 9),
    "stream": (17, 12),
    "tool": (61, 18),
    "tool_result": (97, 14),
    "chat_default": (11, 5),
    "embeddings": 8,
}

# Answers keyed by a substring of the last user message.
ANSWERS = [
    ("capital of France", "The capital of France is Paris."),
    ("count from 1 to 5", "1, 2, 3, 4, 5"),
]
DEFAULT_ANSWER = "This is a deterministic answer from the fake server."
STREAM_CHUNKS = ["1", ",", " 2", ",", " 3", ",", " 4", ",", " 5"]  # joins to "1, 2, 3, 4, 5"

TOOL_CALL_ID = "call_fake_weather_0001"
TOOL_ARGS = '{"city": "Paris", "unit": "celsius"}'
TOOL_RESULT_ANSWER = "It is 18 degrees Celsius and sunny in Paris today."

# Response model snapshot returned for a request model (like the real API does).
SNAPSHOTS = {
    "gpt-4o-mini": "gpt-4o-mini-2024-07-18",
    "gpt-4o": "gpt-4o-2024-08-06",
    "text-embedding-3-small": "text-embedding-3-small",
}

ERRORS = {
    "error-429": (
        429,
        {
            "message": "Rate limit reached for requests (fake server).",
            "type": "requests",
            "param": None,
            "code": "rate_limit_exceeded",
        },
    ),
    "error-500": (
        500,
        {
            "message": "The server had an error while processing your request (fake server).",
            "type": "server_error",
            "param": None,
            "code": None,
        },
    ),
    "error-400": (
        400,
        {
            "message": "Invalid request (fake server).",
            "type": "invalid_request_error",
            "param": None,
            "code": None,
        },
    ),
}


def _text(content) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(p.get("text", "") for p in content if isinstance(p, dict))
    return ""


def last_user_text(messages) -> str:
    for m in reversed(messages or []):
        if m.get("role") == "user":
            return _text(m.get("content"))
    return ""


def answer_for(messages) -> tuple[str, str]:
    """Return (kind, text) for a plain chat answer."""
    if messages and messages[-1].get("role") == "tool":  # the model's turn after a tool result
        return "tool_result", TOOL_RESULT_ANSWER
    text = last_user_text(messages)
    for needle, answer in ANSWERS:
        if needle in text:
            return "chat", answer
    return "chat_default", DEFAULT_ANSWER


def wants_tool_call(req) -> bool:
    msgs = req.get("messages") or []
    return (
        bool(req.get("tools"))
        and bool(msgs)
        and msgs[-1].get("role") == "user"
        and "weather" in _text(msgs[-1].get("content")).lower()
    )


def usage_obj(p: int, c: int) -> dict:
    return {
        "prompt_tokens": p,
        "completion_tokens": c,
        "total_tokens": p + c,
        "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
        "completion_tokens_details": {
            "reasoning_tokens": 0,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        },
    }


def chat_completion(req) -> dict:
    model = req.get("model", "")
    rmodel = SNAPSHOTS.get(model, model)
    if wants_tool_call(req):
        p, c = USAGE["tool"]
        message = {
            "role": "assistant",
            "content": None,
            "refusal": None,
            "tool_calls": [
                {
                    "id": TOOL_CALL_ID,
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": TOOL_ARGS},
                }
            ],
        }
        finish = "tool_calls"
        rid = "chatcmpl-fake-tool-0001"
    else:
        kind, text = answer_for(req.get("messages"))
        p, c = USAGE[kind]
        message = {"role": "assistant", "content": text, "refusal": None}
        finish = "stop"
        rid = "chatcmpl-fake-tool-0002" if kind == "tool_result" else "chatcmpl-fake-chat-0001"
    return {
        "id": rid,
        "object": "chat.completion",
        "created": CREATED,
        "model": rmodel,
        "system_fingerprint": SYSTEM_FINGERPRINT,
        "service_tier": "default",
        "choices": [{"index": 0, "message": message, "logprobs": None, "finish_reason": finish}],
        "usage": usage_obj(p, c),
    }


def stream_events(req):
    """Yield chat.completion.chunk dicts for a streaming request."""
    model = req.get("model", "")
    rmodel = SNAPSHOTS.get(model, model)
    rid = "chatcmpl-fake-stream-0001"
    include_usage = bool((req.get("stream_options") or {}).get("include_usage"))

    def chunk(delta, finish=None, usage=None, choices=True):
        d = {
            "id": rid,
            "object": "chat.completion.chunk",
            "created": CREATED,
            "model": rmodel,
            "system_fingerprint": SYSTEM_FINGERPRINT,
            "service_tier": "default",
            "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}] if choices else [],
        }
        if include_usage:
            d["usage"] = usage
        return d

    if wants_tool_call(req):
        p, c = USAGE["tool"]
        yield chunk(
            {
                "role": "assistant",
                "content": None,
                "refusal": None,
                "tool_calls": [
                    {
                        "index": 0,
                        "id": TOOL_CALL_ID,
                        "type": "function",
                        "function": {"name": "get_weather", "arguments": ""},
                    }
                ],
            }
        )
        yield chunk({"tool_calls": [{"index": 0, "function": {"arguments": TOOL_ARGS}}]})
        yield chunk({}, finish="tool_calls")
    else:
        kind, text = answer_for(req.get("messages"))
        if text == "1, 2, 3, 4, 5":
            pieces = STREAM_CHUNKS
            p, c = USAGE["stream"]
        else:
            pieces = [w + " " for w in text.split(" ")[:-1]] + [text.split(" ")[-1]]
            p, c = USAGE[kind]
        yield chunk({"role": "assistant", "content": "", "refusal": None})
        for piece in pieces:
            yield chunk({"content": piece})
        yield chunk({}, finish="stop")
    if include_usage:
        yield chunk(None, usage=usage_obj(p, c), choices=False)


def embeddings(req) -> dict:
    inp = req.get("input")
    inputs = inp if isinstance(inp, list) else [inp]
    data = []
    for i, _ in enumerate(inputs):
        vec = [((i + 1) * (k + 1)) / 100.0 for k in range(8)]
        if req.get("encoding_format") == "base64":
            # like the real API: little-endian float32, base64 (the openai client asks for this
            # by default and decodes it back to floats)
            emb = base64.b64encode(struct.pack(f"<{len(vec)}f", *vec)).decode()
        else:
            emb = [round(v, 4) for v in vec]
        data.append({"object": "embedding", "index": i, "embedding": emb})
    n = USAGE["embeddings"] * len(inputs)
    return {
        "object": "list",
        "data": data,
        "model": SNAPSHOTS.get(req.get("model", ""), req.get("model", "")),
        "usage": {"prompt_tokens": n, "total_tokens": n},
    }


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "fake-openai/1.0"

    def log_message(self, fmt, *args):  # keep stderr quiet but useful
        sys.stderr.write("fake-openai: " + (fmt % args) + "\n")

    def _send_json(self, status: int, obj: dict, extra_headers=None):
        body = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("x-request-id", "req_fake_0001")
        self.send_header("openai-processing-ms", "7")
        for k, v in (extra_headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        if self.path.rstrip("/") in ("/health", ""):
            body = b"ok"
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        else:
            self._send_json(
                404, {"error": {"message": "not found", "type": "invalid_request_error", "param": None, "code": None}}
            )

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            req = json.loads(raw or b"{}")
        except ValueError:
            return self._send_json(
                400, {"error": {"message": "bad json", "type": "invalid_request_error", "param": None, "code": None}}
            )
        path = self.path.split("?")[0]
        if path.startswith("/v1"):
            path = path[3:]
        model = req.get("model", "")
        if model in ERRORS:
            status, err = ERRORS[model]
            hdr = {"retry-after": "0"} if status == 429 else None
            return self._send_json(status, {"error": err}, hdr)
        if path == "/chat/completions":
            if req.get("stream"):
                return self._stream(req)
            return self._send_json(200, chat_completion(req))
        if path == "/embeddings":
            return self._send_json(200, embeddings(req))
        return self._send_json(
            404,
            {
                "error": {
                    "message": f"unknown path {self.path}",
                    "type": "invalid_request_error",
                    "param": None,
                    "code": None,
                }
            },
        )

    def _stream(self, req):
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("x-request-id", "req_fake_0002")
        self.end_headers()

        def write(data: bytes):
            self.wfile.write(f"{len(data):X}\r\n".encode() + data + b"\r\n")
            self.wfile.flush()

        for ev in stream_events(req):
            write(b"data: " + json.dumps(ev).encode() + b"\n\n")
            time.sleep(0.002)
        write(b"data: [DONE]\n\n")
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()


def main():
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 18080
    srv = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    srv.daemon_threads = True
    sys.stderr.write(f"fake-openai listening on 127.0.0.1:{port}\n")
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        srv.server_close()


if __name__ == "__main__":
    main()
