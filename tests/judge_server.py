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
    [[shape:N]]        the verdict written in one of the ten shapes small models reply in (SHAPES; a
                       repair request gets the same shape again, except shape 10, prose, which complies)

``persona``: "exact" (the rules above), "lenient" (every claim supported, every answer relevant: a
judge that says pass to everything) or "flaky" (the exact verdict on a prompt's odd-numbered requests,
every claim's verdict flipped on the even ones: a judge whose answers flip on repeats).

``response_format``: "ignore" (the default: the field is read past, as many servers do), "refuse"
(HTTP 400 to any request carrying it, as a server without structured output does) or "honour" (a
request carrying the metric's schema gets the clean JSON object, as constrained decoding gives).

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


_SHAPE = re.compile(r"\[\[shape:(\d+)\]\]\s*")


def _python_literal(obj) -> str:
    return repr(obj)  # single quotes, True/False/None


def _unquoted_keys(obj) -> str:
    return re.sub(r'"(\w+)":', r"\1:", json.dumps(obj))


def _score_text(obj) -> str:
    score = obj.get("score")
    return f"Score: {score}\nReason: {obj.get('reason', '')}"


def _as_strings(obj) -> dict:
    out = dict(obj, score=None if obj.get("score") is None else str(obj["score"]))
    if "claims" in out:
        out["claims"] = [dict(c, supported="yes" if c["supported"] else "no") for c in out["claims"]]
    return out


# The shapes small models commonly reply in, numbered as the [[shape:N]] marker names them.
SHAPES = {
    1: ("clean JSON", json.dumps),
    2: ("a ```json fence", lambda o: "```json\n" + json.dumps(o, indent=2) + "\n```"),
    3: (
        "<think> first",
        lambda o: "<think>The reply must be {json}. Check the answer against it.</think>\n" + json.dumps(o),
    ),
    4: ("prose around it", lambda o: "Here is my evaluation:\n" + json.dumps(o) + "\nI hope this helps!"),
    5: ("Python literal", _python_literal),
    6: ("trailing comma", lambda o: json.dumps(o)[:-1] + ",}"),
    7: ("values as strings", lambda o: json.dumps(_as_strings(o))),
    8: ("Score: N text", _score_text),
    9: ("unquoted keys", _unquoted_keys),
    10: ("prose only", lambda o: "The answer looks reasonable to me overall."),
}


class JudgeServer:
    def __init__(self, delay: float = 0.0, response_format: str = "ignore", persona: str = "exact"):
        assert response_format in ("ignore", "refuse", "honour") and persona in ("exact", "lenient", "flaky")
        self.delay = delay
        self.persona = persona
        self.response_format = response_format
        self.format_requests = 0  # requests that carried response_format
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
        shape_mark = _SHAPE.search(prompt)
        prompt = _SHAPE.sub("", prompt)
        blocks = _BLOCK.findall(prompt)
        answer = blocks[-1] if blocks else ""
        with self.lock:
            self.requests += 1
            self.format_requests += "response_format" in body
            n = self.seen[prompt] = self.seen.get(prompt, 0) + 1
        if "response_format" in body and self.response_format == "refuse":
            return self._send(h, 400, b'{"error": {"message": "response_format is not supported"}}')
        structured = "response_format" in body and self.response_format == "honour"
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
        elif shape_mark and not structured:
            shape = int(shape_mark.group(1))
            verdict = self.verdict(prompt, blocks, answer)
            content = json.dumps(verdict) if (shape == 10 and repair) else SHAPES[shape][1](verdict)
        else:
            content = json.dumps(self.persona_verdict(self.verdict(prompt, blocks, answer), n))
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

    def persona_verdict(self, verdict: dict, n: int) -> dict:
        flip = self.persona == "flaky" and n % 2 == 0
        if self.persona == "exact" or not (flip or self.persona == "lenient") or verdict.get("not_applicable"):
            return verdict
        if "claims" in verdict:
            claims = [dict(c, supported=(not c["supported"]) if flip else True) for c in verdict["claims"]]
            supported = sum(c["supported"] for c in claims)
            return dict(verdict, claims=claims, score=supported / len(claims) if claims else None)
        if isinstance(verdict.get("score"), int):
            return dict(verdict, score=(6 - verdict["score"]) if flip else 5)
        return verdict

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
