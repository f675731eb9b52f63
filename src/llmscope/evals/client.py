"""An async OpenAI-compatible chat client for judges: bounded concurrency, retries with
exponential backoff and jitter on 429 / 5xx / timeouts / broken connections, honouring
``Retry-After``.
"""

from __future__ import annotations

import asyncio
import random
import time
from dataclasses import dataclass

import httpx

from .judges import Judge

RETRIES = 4
BACKOFF_BASE_S = 0.25
BACKOFF_MAX_S = 20.0


class JudgeUnreachable(Exception):
    """No server answered at all (connection refused): say how to start one."""


class JudgeCallError(Exception):
    """The judge failed after the retries (or refused the request): recorded as an eval error."""


@dataclass
class Reply:
    content: str
    input_tokens: int
    output_tokens: int
    attempts: int
    seconds: float = 0.0  # waiting for the server (all attempts), not for a free slot


def _retry_after(resp: httpx.Response) -> float | None:
    value = resp.headers.get("retry-after")
    if not value:
        return None
    try:
        return min(float(value), BACKOFF_MAX_S)
    except ValueError:
        return None


# What a server that does not take response_format answers: 400/422 (vLLM, llama.cpp, LiteLLM), or
# 404/501 from a proxy that does not know the field. Any of these to a request that carried it
# is asked once more without it.
REFUSED_FORMAT = (400, 404, 415, 422, 501)


class JudgeClient:
    """One per eval run. ``await client.chat(messages, schema=…)`` -> :class:`Reply`.

    With a ``schema`` (and the profile's ``response_format`` on) the request asks for structured
    output; a server that refuses it is asked again without, and ``structured`` stays False for the
    rest of the run (``refused_format`` holds the server's reason, for the store to remember)."""

    def __init__(self, judge: Judge, concurrency: int | None = None, structured: bool | None = None):
        self.judge = judge
        self.structured = judge.response_format if structured is None else structured
        self.refused_format: str | None = None
        self.semaphore = asyncio.Semaphore(concurrency or judge.max_concurrency)
        headers = {"Content-Type": "application/json"}
        if judge.api_key:
            headers["Authorization"] = f"Bearer {judge.api_key}"
        self.http = httpx.AsyncClient(
            base_url=judge.base_url,
            headers=headers,
            timeout=judge.timeout_s,
            limits=httpx.Limits(max_connections=max(judge.max_concurrency, concurrency or 0, 1)),
        )
        self.calls = 0
        self.retries = 0

    async def aclose(self) -> None:
        await self.http.aclose()

    async def chat(
        self, messages: list[dict], max_tokens: int = 1024, schema: dict | None = None, name: str = "verdict"
    ) -> Reply:
        body: dict = {"model": self.judge.model, "messages": messages, "temperature": 0, "max_tokens": max_tokens}
        if schema is not None and self.structured:
            body["response_format"] = {
                "type": "json_schema",
                "json_schema": {"name": name, "schema": schema, "strict": True},
            }
        async with self.semaphore:
            last_error = ""
            waited = 0.0
            for attempt in range(1, RETRIES + 2):
                self.calls += 1
                wait = None
                sent = time.perf_counter()
                try:
                    resp = await self.http.post("/chat/completions", json=body)
                    waited += time.perf_counter() - sent
                except httpx.ConnectError as e:
                    if attempt == 1 and self.calls == 1:
                        raise JudgeUnreachable(self.judge.help_unreachable()) from e
                    last_error = f"connection error: {e}"
                except (httpx.TimeoutException, httpx.RemoteProtocolError, httpx.ReadError) as e:
                    last_error = f"{type(e).__name__}: {e}"
                else:
                    if resp.status_code == 200:
                        try:
                            data = resp.json()
                            content = data["choices"][0]["message"]["content"] or ""
                        except (ValueError, KeyError, IndexError, TypeError) as e:
                            last_error = f"unreadable response body ({type(e).__name__})"
                        else:
                            usage = data.get("usage") or {}
                            return Reply(
                                content,
                                int(usage.get("prompt_tokens") or 0),
                                int(usage.get("completion_tokens") or 0),
                                attempt,
                                waited,
                            )
                    elif "response_format" in body and resp.status_code in REFUSED_FORMAT:
                        # asked without it from now on; this attempt is not a retry of a failure
                        self.structured = False
                        self.refused_format = self.refused_format or f"HTTP {resp.status_code}: {resp.text[:200]}"
                        body.pop("response_format")
                        continue
                    elif resp.status_code == 429 or resp.status_code >= 500:
                        last_error = f"HTTP {resp.status_code}"
                        wait = _retry_after(resp)
                    else:
                        raise JudgeCallError(f"HTTP {resp.status_code}: {resp.text[:200]}")
                if attempt > RETRIES:
                    break
                self.retries += 1
                if wait is None:
                    wait = min(BACKOFF_MAX_S, BACKOFF_BASE_S * 2 ** (attempt - 1)) * random.uniform(0.5, 1.0)
                await asyncio.sleep(wait)
            raise JudgeCallError(f"gave up after {RETRIES + 1} attempts: {last_error}")
