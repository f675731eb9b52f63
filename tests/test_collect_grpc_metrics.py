"""`llmscope collect` over OTLP/gRPC and its `GET /metrics`: the real OpenTelemetry SDK with its gRPC
exporter (gzip, token in the metadata) and with its HTTP exporter, each span stored exactly once; status
codes and retry info under back-pressure; the Prometheus text parsed by prometheus_client's parser."""

from __future__ import annotations

import time

import httpx
import pytest
from helpers import query
from test_collect import PB, chat_attrs, ids, pb_request

from llmscope.collect import Collector, CollectorConfig

grpc = pytest.importorskip("grpc")
from google.rpc import error_details_pb2, status_pb2  # noqa: E402
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2 as pb  # noqa: E402

EXPORT = "/opentelemetry.proto.collector.trace.v1.TraceService/Export"


def start(tmp_path, **kw) -> Collector:
    cfg = CollectorConfig(
        db=str(tmp_path / "store.duckdb"),
        port=0,
        grpc_port=kw.pop("grpc_port", 0),
        flush_spans=kw.pop("flush_spans", 50),
        flush_seconds=kw.pop("flush_seconds", 0.3),
        workers=kw.pop("workers", 1),
        **kw,
    )
    c = Collector(cfg)
    c.start()
    return c


def sdk_spans(provider, n: int, model: str, error_every: int = 0) -> set[tuple[str, str]]:
    from opentelemetry.trace import Status, StatusCode

    tracer = provider.get_tracer("test.collect.grpc")
    out = set()
    for i in range(n):
        with tracer.start_as_current_span("workflow") as root:
            with tracer.start_as_current_span(f"chat {model}", attributes=chat_attrs(model, 100 + i, 10)) as sp:
                if error_every and i % error_every == 0:
                    sp.set_attribute("error.type", "RateLimitError")
                    sp.set_status(Status(StatusCode.ERROR, "429 Too Many Requests"))
                out.add((format(sp.get_span_context().trace_id, "032x"), format(sp.get_span_context().span_id, "016x")))
            out.add((format(root.get_span_context().trace_id, "032x"), format(root.get_span_context().span_id, "016x")))
    return out


def test_sdk_grpc_and_http_exporters_deliver_every_span_once_and_metrics_count_them(tmp_path):
    from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter as GrpcExporter
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter as HttpExporter
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor
    from prometheus_client.parser import text_string_to_metric_families

    c = start(tmp_path, token="s3cret", flush_spans=30)
    try:
        expected = set()
        for exporter, model in (
            (
                GrpcExporter(
                    endpoint=f"127.0.0.1:{c.grpc_port}",
                    insecure=True,
                    headers={"authorization": "Bearer s3cret"},
                    compression=grpc.Compression.Gzip,
                ),
                "gpt-4o-mini",
            ),
            (
                HttpExporter(
                    endpoint=f"http://127.0.0.1:{c.port}/v1/traces", headers={"Authorization": "Bearer s3cret"}
                ),
                "gpt-4o",
            ),
        ):
            provider = TracerProvider(resource=Resource.create({"service.name": f"sdk-{model}"}))
            provider.add_span_processor(
                BatchSpanProcessor(exporter, max_export_batch_size=32, schedule_delay_millis=50)
            )
            expected |= sdk_spans(provider, 40, model, error_every=10)
            assert provider.force_flush(10_000)
            provider.shutdown()
        # the gRPC exporter without the token: UNAUTHENTICATED, nothing stored
        channel = grpc.insecure_channel(f"127.0.0.1:{c.grpc_port}")
        call = channel.unary_unary(EXPORT)
        with pytest.raises(grpc.RpcError) as e:
            call(pb_request(ids(0x71, 2)), timeout=5)
        assert e.value.code() == grpc.StatusCode.UNAUTHENTICATED
        # partial success over gRPC: one span without ids among good ones
        resp = pb.ExportTraceServiceResponse.FromString(
            call(
                pb_request(ids(0x72, 3), attrs=chat_attrs("claude-3-5-haiku"), bad=1),
                timeout=5,
                metadata=[("authorization", "Bearer s3cret")],
            )
        )
        assert resp.partial_success.rejected_spans == 1 and "no valid trace id" in resp.partial_success.error_message
        expected |= set(ids(0x72, 3))
        # a message that is not an export request: INVALID_ARGUMENT
        with pytest.raises(grpc.RpcError) as e:
            call(b"\xff\xff not protobuf", timeout=5, metadata=[("authorization", "Bearer s3cret")])
        assert e.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        channel.close()
        c.flush()
        scraped = httpx.get(f"http://127.0.0.1:{c.port}/metrics", headers={"Authorization": "Bearer s3cret"})
        assert scraped.status_code == 200 and scraped.headers["content-type"].startswith("text/plain")
        assert httpx.get(f"http://127.0.0.1:{c.port}/metrics").status_code == 401
    finally:
        c.stop()

    rows = query(tmp_path / "store.duckdb", "SELECT trace_id, span_id FROM spans")
    assert len(rows) == len(set(rows)) == 40 * 2 * 2 + 3 and set(rows) == expected

    samples = [s for f in text_string_to_metric_families(scraped.text) for s in f.samples]

    def value(name, **labels):
        found = [s for s in samples if s.name == name and all(s.labels.get(k) == v for k, v in labels.items())]
        assert found, f"no sample {name} {labels}"
        return sum(s.value for s in found)

    assert value("llmscope_collect_spans_acknowledged_total") == 163
    assert value("llmscope_collect_spans_stored_total") == 163
    assert value("llmscope_collect_spans_rejected_total", reason="invalid") == 1
    assert value("llmscope_collect_requests_total", protocol="grpc", outcome="unauthenticated") == 1
    assert value("llmscope_collect_requests_total", protocol="grpc", outcome="invalid") == 1
    assert value("llmscope_collect_backlog_spans") == 0
    # LLM signals, per model, from what reached the store
    db = tmp_path / "store.duckdb"
    for model in ("gpt-4o-mini", "gpt-4o"):
        calls, errors, tin, cost = query(
            db,
            "SELECT count(*), count(*) FILTER (status = 'error'), sum(input_tokens), sum(cost_usd) FROM spans "
            "WHERE span_type = 'llm' AND request_model = ?",
            [model],
        )[0]
        assert (calls, errors) == (40, 4)
        assert value("llmscope_llm_requests_total", model=model) == 40
        assert value("llmscope_llm_errors_total", model=model, error_class="rate_limit") == 4
        assert value("llmscope_llm_input_tokens_total", model=model) == tin == sum(100 + i for i in range(40))
        assert value("llmscope_llm_output_tokens_total", model=model) == 400
        assert value("llmscope_llm_cost_usd_total", model=model) == pytest.approx(cost)
        assert value("llmscope_llm_latency_seconds_count", model=model) == 40
        assert value("llmscope_llm_latency_seconds_bucket", model=model, le="+Inf") == 40
    assert value("llmscope_collect_ack_seconds_count") >= 6


def test_grpc_back_pressure_is_unavailable_with_retry_info_and_a_bomb_is_refused(tmp_path):
    import gzip

    c = start(tmp_path, flush_seconds=3600, flush_spans=10**9, max_spool_bytes=1000, max_decompressed_bytes=1 << 20)
    channel = grpc.insecure_channel(f"127.0.0.1:{c.grpc_port}")
    call = channel.unary_unary(EXPORT)
    try:
        call(pb_request(ids(0x81, 20)), timeout=5)
        with pytest.raises(grpc.RpcError) as e:
            call(pb_request(ids(0x82, 20)), timeout=5)
        assert e.value.code() == grpc.StatusCode.UNAVAILABLE
        details = dict(e.value.trailing_metadata())["grpc-status-details-bin"]
        status = status_pb2.Status.FromString(details)
        info = error_details_pb2.RetryInfo()
        assert status.details[0].Unpack(info) and info.retry_delay.seconds >= 1
        c.flush()
        call(pb_request(ids(0x82, 20)), timeout=5)  # the writer caught up: accepted again
        # 64 MB of zeros, gzipped by gRPC: refused by grpcio's own size cap, never unpacked
        t = time.perf_counter()
        with pytest.raises(grpc.RpcError) as e:
            call(bytes(64 << 20), timeout=20, compression=grpc.Compression.Gzip)
        assert e.value.code() in (grpc.StatusCode.RESOURCE_EXHAUSTED, grpc.StatusCode.INVALID_ARGUMENT)
        assert time.perf_counter() - t < 10
        assert len(gzip.compress(bytes(1 << 20))) < (1 << 20)
    finally:
        channel.close()
        c.stop()
    assert query(tmp_path / "store.duckdb", "SELECT count(*) FROM spans")[0][0] == 40


def test_http_answers_get_on_an_export_path_with_405(tmp_path):
    c = start(tmp_path, grpc_port=None)
    try:
        r = httpx.get(f"http://127.0.0.1:{c.port}/v1/traces")
        assert r.status_code == 405 and r.headers["allow"] == "POST"
        assert httpx.post(f"http://127.0.0.1:{c.port}/v1/traces", content=pb_request(ids(0x91, 1)), headers=PB)
    finally:
        c.stop()
    assert c.grpc_port is None


def test_cli_stop_message_counts_what_is_stored_and_removes_the_spool(tmp_path):
    import re
    import signal
    import subprocess
    import sys

    from test_collect import ENV

    db = tmp_path / "store.duckdb"
    p = subprocess.Popen(
        [sys.executable, "-m", "llmscope", "--db", str(db), "collect", "--port", "0", "--grpc-port", "0"],
        stderr=subprocess.PIPE,
        text=True,
        env=ENV,
    )
    try:
        line = p.stderr.readline()
        port = int(re.search(r"http://127.0.0.1:(\d+)", line).group(1))
        assert "grpc://" not in line  # --grpc-port 0: HTTP only
        url = f"http://127.0.0.1:{port}/v1/traces"
        assert httpx.post(url, content=pb_request(ids(0xC1, 3)), headers=PB).status_code == 200
        assert httpx.post(url, content=pb_request(ids(0xC1, 3)), headers=PB).status_code == 200  # a client retry
        p.send_signal(signal.SIGTERM)
        err = p.communicate(timeout=60)[1]
    finally:
        if p.poll() is None:
            p.kill()
    assert p.returncode == 0, err
    assert "stopped: 3 spans stored (3 already there)" in err
    assert not (tmp_path / "store.duckdb.spool").exists()


def test_without_grpcio_collect_says_what_to_install_in_one_line(tmp_path):
    import subprocess
    import sys

    from test_collect import ENV

    code = (
        "import sys; sys.modules['grpc'] = None; from llmscope.cli.app import main; "
        f"sys.argv = ['llmscope', '--db', {str(tmp_path / 's.duckdb')!r}, 'collect', '--port', '0']; main()"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=ENV, timeout=60)
    assert r.returncode == 2
    assert r.stderr.strip().count("\n") == 0 and "llmscope[grpc]" in r.stderr
