#!/usr/bin/env python3
"""Run the capture scenario with one real, unmodified instrumentation library.

Runs inside that library's venv (see run_capture.py):

    python scenario.py --setup SETUP --openai-url http://127.0.0.1:P/v1 \
        --otlp-url http://127.0.0.1:R --result result.json [--pricing-json FILE]

SETUP is one of: otel-openai-v2-latest, otel-openai-v2-legacy, openlit, traceloop,
openinference. Spans (and logs where the library writes them) leave through the real
OTLP/HTTP protobuf exporter (opentelemetry-exporter-otlp-proto-http) to the receiver.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import scenario_spec as spec  # noqa: E402


def _otel_providers(otlp_url: str, with_logs: bool):
    from opentelemetry import trace
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    resource = Resource.create({"service.name": spec.SERVICE_NAME})
    tp = TracerProvider(resource=resource)
    tp.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=otlp_url + "/v1/traces")))
    trace.set_tracer_provider(tp)
    lp = None
    if with_logs:
        from opentelemetry import _logs
        from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
        from opentelemetry.sdk._logs import LoggerProvider
        from opentelemetry.sdk._logs.export import BatchLogRecordProcessor

        lp = LoggerProvider(resource=resource)
        lp.add_log_record_processor(BatchLogRecordProcessor(OTLPLogExporter(endpoint=otlp_url + "/v1/logs")))
        _logs.set_logger_provider(lp)
    return tp, lp


def setup(name: str, otlp_url: str, pricing_json: str | None):
    """Install the instrumentation. Returns (shutdown_fn, context_factory, info)."""
    info: dict = {}
    ctx = contextlib.nullcontext

    if name in ("otel-openai-v2-latest", "otel-openai-v2-legacy"):
        tp, lp = _otel_providers(otlp_url, with_logs=True)
        from opentelemetry.instrumentation.openai_v2 import OpenAIInstrumentor

        OpenAIInstrumentor().instrument()

        def shutdown():
            tp.force_flush()
            lp.force_flush()
            tp.shutdown()
            lp.shutdown()

        return shutdown, ctx, info

    if name == "openinference":
        tp, _ = _otel_providers(otlp_url, with_logs=False)
        from openinference.instrumentation import using_session, using_user
        from openinference.instrumentation.openai import OpenAIInstrumentor

        OpenAIInstrumentor().instrument(tracer_provider=tp)

        @contextlib.contextmanager
        def ctx():
            with using_session(spec.SESSION_ID), using_user(spec.USER_ID):
                yield

        info.update(user_id=spec.USER_ID, session_id=spec.SESSION_ID)

        def shutdown():
            tp.force_flush()
            tp.shutdown()

        return shutdown, ctx, info

    if name == "openlit":
        import openlit

        openlit.init(
            service_name=spec.SERVICE_NAME,
            environment="capture",
            otlp_endpoint=otlp_url,
            pricing_json=pricing_json,
            disable_metrics=True,
            capture_message_content=True,
        )

        def ctx():
            return openlit.using_attributes({"user.id": spec.USER_ID, "session.id": spec.SESSION_ID})

        info.update(user_id=spec.USER_ID, session_id=spec.SESSION_ID)

        def shutdown():
            from opentelemetry import _logs, trace

            for p in (trace.get_tracer_provider(), _logs.get_logger_provider()):
                for m in ("force_flush", "shutdown"):
                    fn = getattr(p, m, None)
                    if fn:
                        fn()

        return shutdown, ctx, info

    if name == "traceloop":
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        from traceloop.sdk import Traceloop
        from traceloop.sdk.instruments import Instruments

        Traceloop.init(
            app_name=spec.SERVICE_NAME,
            api_endpoint=otlp_url,
            exporter=OTLPSpanExporter(endpoint=otlp_url + "/v1/traces"),
            disable_batch=True,
            telemetry_enabled=False,
            instruments={Instruments.OPENAI},
        )
        Traceloop.set_association_properties({"user_id": spec.USER_ID, "session_id": spec.SESSION_ID})
        info.update(user_id=spec.USER_ID, session_id=spec.SESSION_ID)

        def shutdown():
            from opentelemetry import trace

            p = trace.get_tracer_provider()
            p.force_flush()
            p.shutdown()

        return shutdown, ctx, info

    raise SystemExit(f"unknown setup {name}")


def run_calls(openai_url: str) -> list[dict]:
    import openai
    from openai import OpenAI

    client = OpenAI(base_url=openai_url, api_key="sk-fake-capture", max_retries=0, timeout=30)
    calls = {c["id"]: c for c in spec.CALLS}
    observed = []

    # (a) plain chat, system + user
    c = calls["chat"]
    r = client.chat.completions.create(
        model=c["request_model"],
        messages=[{"role": "system", "content": c["system"]}, {"role": "user", "content": c["prompt"]}],
        **c["params"],
    )
    observed.append(
        {
            "id": "chat",
            "text": r.choices[0].message.content,
            "usage": [r.usage.prompt_tokens, r.usage.completion_tokens],
            "model": r.model,
        }
    )

    # (b) streaming chat with include_usage
    c = calls["stream"]
    stream = client.chat.completions.create(
        model=c["request_model"],
        messages=[{"role": "user", "content": c["prompt"]}],
        stream=True,
        **c["params"],
    )
    parts, usage = [], None
    for chunk in stream:
        if chunk.choices and chunk.choices[0].delta and chunk.choices[0].delta.content:
            parts.append(chunk.choices[0].delta.content)
        if getattr(chunk, "usage", None):
            usage = [chunk.usage.prompt_tokens, chunk.usage.completion_tokens]
    observed.append({"id": "stream", "text": "".join(parts), "usage": usage})

    # (c) tool call
    c = calls["tool"]
    r = client.chat.completions.create(
        model=c["request_model"],
        messages=[{"role": "user", "content": c["prompt"]}],
        tools=[spec.WEATHER_TOOL],
        tool_choice="auto",
    )
    tc = r.choices[0].message.tool_calls or []
    observed.append(
        {
            "id": "tool",
            "tool_calls": [{"id": t.id, "name": t.function.name, "arguments": t.function.arguments} for t in tc],
            "usage": [r.usage.prompt_tokens, r.usage.completion_tokens],
        }
    )

    # (d) embeddings
    c = calls["embeddings"]
    r = client.embeddings.create(model=c["request_model"], input=c["prompt"])
    observed.append({"id": "embeddings", "dims": len(r.data[0].embedding), "usage": [r.usage.prompt_tokens, 0]})

    # (e) failing call (429)
    c = calls["rate_limited"]
    try:
        client.chat.completions.create(model=c["request_model"], messages=[{"role": "user", "content": c["prompt"]}])
        observed.append({"id": "rate_limited", "error": None})
    except openai.RateLimitError as exc:
        observed.append({"id": "rate_limited", "error": type(exc).__name__, "status": exc.status_code})
    return observed


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--setup", required=True)
    ap.add_argument("--openai-url", required=True)
    ap.add_argument("--otlp-url", required=True)
    ap.add_argument("--result", required=True)
    ap.add_argument("--pricing-json")
    a = ap.parse_args()

    shutdown, ctx, info = setup(a.setup, a.otlp_url, a.pricing_json)
    with ctx():
        observed = run_calls(a.openai_url)
    time.sleep(0.2)
    shutdown()
    with open(a.result, "w") as f:
        json.dump({"setup": a.setup, "observed": observed, **info}, f, indent=1)
    print(json.dumps(observed))


if __name__ == "__main__":
    main()
