"""A small OpenAI-compatible judge server on 127.0.0.1 for tests and benchmarks.

It answers llmscope's judge prompts deterministically and misbehaves on request, by markers in
the answer being judged:

    [[429]]            the first request for that item: 429 with Retry-After: 0.05
    [[500]]            the first two requests: 500
    [[slow]]           waits 0.3 s
    [[malformed]]      always replies with text that is not JSON (repair fails too)
    [[malformed-once]] the first reply is not JSON; the repair request gets a good one
    [[truncated]]      the first response body is cut off mid-JSON
    [[refuse]]         the answer is a refusal: not applicable

Groundedness: a sentence of the answer is supported when all its words of 4+ letters appear in
the context. Relevancy: 5 when the answer shares a 4+ letter word with the question, else 2.
"""

from __future__ import annotations

import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

_BLOCK = re.compile(r"<<<\n(.*?)\n>>>", re.S)
_WORD = re.compile(r"[a-z]{4,}")


class JudgeServer:
    def __init__(self, delay: float = 0.0):
        self.delay = delay
        self.requests = 0
        self.seen: dict[str, int] = {}
        self.lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # quiet
                pass

            def do_POST(self):
                length = int(self.headers.get("Content-Length", 0))
                body = json.loads(self.rfile.read(length))
                server.handle(self, body)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> JudgeServer:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    # -----------------------------------------------------------------------
    def _send(self, h, status: int, payload: bytes, headers: dict | None = None, truncate: bool = False) -> None:
        h.send_response(status)
        h.send_header("Content-Type", "application/json")
        for k, v in (headers or {}).items():
            h.send_header(k, v)
        h.send_header("Content-Length", str(len(payload)))
        h.end_headers()
        h.wfile.write(payload[: len(payload) // 2] if truncate else payload)
        if truncate:
            h.close_connection = True

    def handle(self, h, body: dict) -> None:
        messages = body["messages"]
        prompt = next(m["content"] for m in messages if m["role"] == "user")
        repair = messages[-1]["role"] == "user" and messages[-1]["content"].startswith("Your previous reply")
        blocks = _BLOCK.findall(prompt)
        answer = blocks[-1] if blocks else ""
        with self.lock:
            self.requests += 1
            n = self.seen[prompt] = self.seen.get(prompt, 0) + 1
        if self.delay:
            time.sleep(self.delay)
        if "[[slow]]" in answer:
            time.sleep(0.3)
        if "[[429]]" in answer and n == 1:
            return self._send(h, 429, b'{"error": {"message": "rate limited"}}', {"Retry-After": "0.05"})
        if "[[500]]" in answer and n <= 2:
            return self._send(h, 500, b'{"error": {"message": "boom"}}')
        if "[[malformed]]" in answer or ("[[malformed-once]]" in answer and not repair):
            content = "Sure! The answer looks fine to me, I would give it a high score."
        else:
            content = json.dumps(self.verdict(prompt, blocks, answer))
        payload = json.dumps(
            {
                "id": "judge-1",
                "object": "chat.completion",
                "model": body.get("model"),
                "choices": [
                    {"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}
                ],
                "usage": {"prompt_tokens": len(prompt) // 4, "completion_tokens": len(content) // 4},
            }
        ).encode()
        self._send(h, 200, payload, truncate=("[[truncated]]" in answer and n == 1))

    @staticmethod
    def verdict(prompt: str, blocks: list[str], answer: str) -> dict:
        if "[[refuse]]" in answer:
            return {"claims": [], "reason": "refusal", "not_applicable": True, "score": None}
        if "atomic factual claims" in prompt or "atomic claims" in prompt:
            context = blocks[0].lower()
            claims = []
            for sentence in re.split(
                r"(?<=[.!?])\s+",
                answer.replace("[[429]]", "")
                .replace("[[500]]", "")
                .replace("[[slow]]", "")
                .replace("[[malformed-once]]", "")
                .replace("[[truncated]]", "")
                .strip(),
            ):
                words = _WORD.findall(sentence.lower())
                if not words:
                    continue
                claims.append({"claim": sentence, "supported": all(w in context for w in words), "reason": "checked"})
            supported = sum(c["supported"] for c in claims)
            return {
                "claims": claims,
                "reason": "checked each claim",
                "score": supported / len(claims) if claims else None,
            }
        if "prompt-injection attempt" in prompt:
            attack = "ignore all previous instructions" in blocks[0].lower()
            return {"reason": "override phrase" if attack else "benign", "score": 1 if attack else 5}
        if "address the question" in prompt:
            q = set(_WORD.findall(blocks[0].lower()))
            return {"reason": "overlap", "score": 5 if q & set(_WORD.findall(answer.lower())) else 2}
        return {"reason": "default", "score": 3}
