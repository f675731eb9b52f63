"""`llmscope collect`: a real OTLP/HTTP receiver on 127.0.0.1, fed by the real OpenTelemetry SDK
exporter and by raw JSON / gzip protobuf requests; status codes; durability across kill -9; and
reports from another process while the collector runs."""

from __future__ import annotations

import gzip
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
import zlib
from pathlib import Path

import httpx
import pytest
from helpers import REPO, descendants, query, still_running

from llmscope.collect import Collector, CollectorConfig
from llmscope.collect.spool import read_frames

pb = pytest.importorskip("opentelemetry.proto.collector.trace.v1.trace_service_pb2")
from opentelemetry.proto.collector.logs.v1 import logs_service_pb2 as logs_pb  # noqa: E402
from opentelemetry.proto.common.v1 import common_pb2  # noqa: E402
from opentelemetry.proto.trace.v1 import trace_pb2  # noqa: E402

T0 = 1_762_000_000_000_000_000
PB = {"Content-Type": "application/x-protobuf"}
JS = {"Content-Type": "application/json"}
ENV = {**os.environ, "PYTHONPATH": str(REPO / "src") + os.pathsep + os.environ.get("PYTHONPATH", "")}


def _kv(key, value):
    v = common_pb2.AnyValue()
    if isinstance(value, bool):
        v.bool_value = value
    elif isinstance(value, int):
        v.int_value = value
    elif isinstance(value, float):
        v.double_value = value
    else:
        v.string_value = value
    return common_pb2.KeyValue(key=key, value=v)


def chat_attrs(model="gpt-4o-mini", inp=100, out=20) -> dict:
    return {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "openai",
        "gen_ai.request.model": model,
        "gen_ai.usage.input_tokens": inp,
        "gen_ai.usage.output_tokens": out,
    }


def pb_request(ids: list[tuple[str, str]], attrs: dict | None = None, bad: int = 0) -> bytes:
    """An ExportTraceServiceRequest of chat spans with the given (trace id, span id) hex pairs,
    plus ``bad`` spans without ids."""
    attrs = attrs or chat_attrs()
    req = pb.ExportTraceServiceRequest()
    rs = req.resource_spans.add()
    rs.resource.attributes.append(_kv("service.name", "raw-pb"))
    ss = rs.scope_spans.add()
    ss.scope.name = "test"
    for i, (tid, sid) in enumerate(ids):
        sp = ss.spans.add(
            trace_id=bytes.fromhex(tid),
            span_id=bytes.fromhex(sid),
            name=f"chat {i}",
            kind=trace_pb2.Span.SPAN_KIND_CLIENT,
            start_time_unix_nano=T0 + i * 1000,
            end_time_unix_nano=T0 + i * 1000 + 500_000_000,
        )
        sp.attributes.extend(_kv(k, v) for k, v in attrs.items())
    for i in range(bad):
        ss.spans.add(name=f"no ids {i}", start_time_unix_nano=T0, end_time_unix_nano=T0 + 1)
    return req.SerializeToString()


def json_request(ids: list[tuple[str, str]], bad: int = 0) -> bytes:
    spans = [
        {
            "traceId": t,
            "spanId": s,
            "name": "chat json",
            "kind": 3,
            "startTimeUnixNano": str(T0 + i),
            "endTimeUnixNano": str(T0 + i + 250_000_000),
            "attributes": [
                {"key": "gen_ai.operation.name", "value": {"stringValue": "chat"}},
                {"key": "gen_ai.request.model", "value": {"stringValue": "gpt-4o"}},
                {"key": "gen_ai.usage.input_tokens", "value": {"intValue": "40"}},
                {"key": "gen_ai.usage.output_tokens", "value": {"intValue": 7}},
            ],
        }
        for i, (t, s) in enumerate(ids)
    ]
    spans += [{"name": f"no ids {i}", "startTimeUnixNano": str(T0)} for i in range(bad)]
    return json.dumps(
        {
            "resourceSpans": [
                {
                    "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "raw-json"}}]},
                    "scopeSpans": [{"scope": {"name": "t"}, "spans": spans}],
                }
            ]
        }
    ).encode()


def ids(prefix: int, n: int) -> list[tuple[str, str]]:
    return [(f"{prefix:08x}" + f"{i:024x}", f"{prefix:04x}{i + 1:012x}") for i in range(n)]


def collector(tmp_path: Path, **kw) -> Collector:
    cfg = CollectorConfig(
        db=str(tmp_path / "store.duckdb"),
        port=0,
        flush_spans=kw.pop("flush_spans", 50),
        flush_seconds=kw.pop("flush_seconds", 0.3),
        **kw,
    )
    c = Collector(cfg)
    c.start()
    return c


# --------------------------------------------------------------------------- real clients, exactly once


def test_sdk_and_raw_clients_arrive_exactly_once(tmp_path):
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    c = collector(tmp_path, flush_spans=40)
    try:
        provider = TracerProvider(resource=Resource.create({"service.name": "sdk-app"}))
        provider.add_span_processor(
            BatchSpanProcessor(
                OTLPSpanExporter(endpoint=f"http://127.0.0.1:{c.port}/v1/traces"),
                max_export_batch_size=64,
                schedule_delay_millis=100,
            )
        )
        tracer = provider.get_tracer("test.collect")
        sdk_ids = set()
        for i in range(60):
            with tracer.start_as_current_span("workflow") as root:
                with tracer.start_as_current_span("chat gpt-4o-mini", attributes=chat_attrs(inp=100 + i, out=10)) as sp:
                    sdk_ids.add(
                        (format(sp.get_span_context().trace_id, "032x"), format(sp.get_span_context().span_id, "016x"))
                    )
                sdk_ids.add(
                    (format(root.get_span_context().trace_id, "032x"), format(root.get_span_context().span_id, "016x"))
                )
        assert provider.force_flush(10_000)

        url = f"http://127.0.0.1:{c.port}/v1/traces"
        j_ids = ids(0xA1, 7)
        r = httpx.post(url, content=json_request(j_ids), headers=JS)
        assert r.status_code == 200 and r.headers["content-type"] == "application/json"
        assert r.json() == {}  # full success: no partial_success
        g_ids = ids(0xB2, 9)
        req = urllib.request.Request(
            url, data=gzip.compress(pb_request(g_ids)), method="POST", headers={**PB, "Content-Encoding": "gzip"}
        )
        with urllib.request.urlopen(req) as resp:
            assert resp.status == 200
            assert not pb.ExportTraceServiceResponse.FromString(resp.read()).HasField("partial_success")
        # the same gzip request again (a client retry): acknowledged, stored once
        with urllib.request.urlopen(
            urllib.request.Request(
                url, data=gzip.compress(pb_request(g_ids)), method="POST", headers={**PB, "Content-Encoding": "gzip"}
            )
        ) as resp:
            assert resp.status == 200
        provider.shutdown()
    finally:
        c.stop()

    st = c.stats
    assert st["spans_received"] == 120 + 7 + 18 and st["spans_flushed"] == st["spans_received"]
    assert st["backlog_spans"] == 0 and st["spool_bytes"] == 0
    assert not list((tmp_path / "store.duckdb.spool").glob("seg-*"))
    db = tmp_path / "store.duckdb"
    rows = query(db, "SELECT trace_id, span_id FROM spans")
    assert len(rows) == len(set(rows)) == 120 + 7 + 9
    assert set(rows) == sdk_ids | set(j_ids) | set(g_ids)
    chat = query(
        db,
        """SELECT span_type, request_model, input_tokens, output_tokens, total_tokens, service_name, source
                        FROM spans WHERE name = 'chat gpt-4o-mini' ORDER BY input_tokens""",
    )
    assert len(chat) == 60
    assert chat[0] == ("llm", "gpt-4o-mini", 100, 10, 110, "sdk-app", "collector")
    assert query(db, "SELECT count(*) FROM spans WHERE name = 'workflow' AND span_type = 'llm'")[0][0] == 0
    assert query(
        db, "SELECT count(*), sum(input_tokens), min(request_model) FROM spans WHERE service_name = 'raw-json'"
    )[0] == (7, 280, "gpt-4o")
    assert query(db, "SELECT count(*), min(span_type), min(request_model) FROM spans WHERE service_name = 'raw-pb'")[
        0
    ] == (9, "llm", "gpt-4o-mini")
    # priced like ingest: a known model gets a cost
    assert query(db, "SELECT count(*) FROM spans WHERE request_model = 'gpt-4o-mini' AND cost_usd > 0")[0][0] == 69


def test_logs_endpoint_attaches_message_content(tmp_path):
    c = collector(tmp_path)
    ((tid, sid),) = ids(0xC3, 1)
    try:
        url = f"http://127.0.0.1:{c.port}"
        assert httpx.post(f"{url}/v1/traces", content=pb_request([(tid, sid)]), headers=PB).status_code == 200
        req = logs_pb.ExportLogsServiceRequest()
        sl = req.resource_logs.add().scope_logs.add()
        for name, text in (("gen_ai.user.message", "What is my balance?"), ("gen_ai.choice", "It is 42 EUR.")):
            lr = sl.log_records.add(time_unix_nano=T0 + 1, trace_id=bytes.fromhex(tid), span_id=bytes.fromhex(sid))
            lr.event_name = name
            body = (
                {"content": text}
                if name != "gen_ai.choice"
                else {"message": {"content": text}, "finish_reason": "stop"}
            )
            lr.body.kvlist_value.values.extend(
                [_kv(k, v) for k, v in body.items() if isinstance(v, str)]
                + (
                    [
                        common_pb2.KeyValue(
                            key="message",
                            value=common_pb2.AnyValue(
                                kvlist_value=common_pb2.KeyValueList(values=[_kv("content", text)])
                            ),
                        )
                    ]
                    if name == "gen_ai.choice"
                    else []
                )
            )
        r = httpx.post(f"{url}/v1/logs", content=req.SerializeToString(), headers=PB)
        assert r.status_code == 200
        assert not logs_pb.ExportLogsServiceResponse.FromString(r.content).HasField("partial_success")
    finally:
        c.stop()
    assert query(tmp_path / "store.duckdb", "SELECT input_text, output_text, finish_reason FROM spans") == [
        ("What is my balance?", "It is 42 EUR.", "stop")
    ]


# --------------------------------------------------------------------------- status codes


def _zeros_gzip(total: int) -> bytes:
    comp = zlib.compressobj(9, zlib.DEFLATED, 31)
    chunk = bytes(1 << 20)
    out = [comp.compress(chunk) for _ in range(total >> 20)]
    return b"".join(out) + comp.flush()


def test_status_codes(tmp_path):
    c = collector(tmp_path, token="s3cret", max_body_bytes=1 << 20, max_decompressed_bytes=4 << 20)
    auth = {"Authorization": "Bearer s3cret"}
    base = f"http://127.0.0.1:{c.port}"
    try:
        with httpx.Client(base_url=base, timeout=10) as h:
            good = pb_request(ids(0xD4, 3))
            # 401: no token, wrong token (and the connection stays usable)
            r = h.post("/v1/traces", content=good, headers=PB)
            assert r.status_code == 401 and "Bearer" in r.headers["www-authenticate"]
            assert h.post("/v1/traces", content=good, headers={**PB, "Authorization": "Bearer nope"}).status_code == 401
            assert h.post("/v1/traces", content=good, headers={**PB, **auth}).status_code == 200
            # 415: another content type or encoding
            r = h.post("/v1/traces", content=b"hello", headers={"Content-Type": "text/plain", **auth})
            assert r.status_code == 415
            assert (
                h.post("/v1/traces", content=good, headers={**PB, **auth, "Content-Encoding": "br"}).status_code == 415
            )
            # 400: garbage protobuf, malformed JSON, corrupt gzip; the status body is a google.rpc.Status
            r = h.post("/v1/traces", content=b"not a protobuf \xff\xff", headers={**PB, **auth})
            assert r.status_code == 400 and b"not an OTLP protobuf" in r.content
            r = h.post("/v1/traces", content=b'{"resourceSpans": [', headers={**JS, **auth})
            assert r.status_code == 400 and "malformed JSON" in r.json()["message"]
            r = h.post(
                "/v1/traces", content=b"\x1f\x8b\x08\x00garbage", headers={**PB, **auth, "Content-Encoding": "gzip"}
            )
            assert r.status_code == 400
            # 413: a body over max_body_bytes; a gzip bomb (200 MB of zeros, ~200 KB compressed)
            assert h.post("/v1/traces", content=bytes(2 << 20), headers={**PB, **auth}).status_code == 413
            bomb = _zeros_gzip(200 << 20)
            assert len(bomb) < (1 << 20)
            t = time.perf_counter()
            r = h.post("/v1/traces", content=bomb, headers={**PB, **auth, "Content-Encoding": "gzip"})
            assert r.status_code == 413 and b"decompresses" in r.content  # a google.rpc.Status in protobuf
            assert time.perf_counter() - t < 2.0  # refused after 4 MB of output, not unpacked
            # partial success: one span without ids among good ones
            r = h.post("/v1/traces", content=json_request(ids(0xE5, 3), bad=1), headers={**JS, **auth})
            assert r.status_code == 200
            ps = r.json()["partialSuccess"]
            assert int(ps["rejectedSpans"]) == 1 and "no trace id" in ps["errorMessage"]
            r = h.post("/v1/traces", content=pb_request(ids(0xE6, 4), bad=1), headers={**PB, **auth})
            assert r.status_code == 200
            resp = pb.ExportTraceServiceResponse.FromString(r.content)
            assert resp.partial_success.rejected_spans == 1
            # 404 other paths, 405 other methods
            assert h.post("/v1/metrics", content=good, headers={**PB, **auth}).status_code == 404
            assert h.get("/").status_code == 404
            assert h.put("/v1/traces", content=good, headers={**PB, **auth}).status_code == 405
            # the live numbers (GET /stats, token-protected like the rest)
            assert h.get("/stats").status_code == 401
            live = h.get("/stats", headers=auth).json()
            assert live["spans_received"] == 3 + 4 + 5 and live["spans_rejected"] == 2
            assert live["spans_acknowledged"] == 3 + 3 + 4
    finally:
        c.stop()
    st = c.stats
    assert st["by_status"][401] == 2 and st["by_status"][413] == 2 and st["by_status"][400] == 3
    db = tmp_path / "store.duckdb"
    assert query(db, "SELECT count(*) FROM spans")[0][0] == 3 + 3 + 4


def test_full_spool_answers_503_with_retry_after(tmp_path):
    c = collector(tmp_path, flush_seconds=3600, flush_spans=10**9, max_spool_bytes=1000)
    try:
        url = f"http://127.0.0.1:{c.port}/v1/traces"
        assert httpx.post(url, content=pb_request(ids(0xF1, 20)), headers=PB).status_code == 200
        r = httpx.post(url, content=pb_request(ids(0xF2, 20)), headers=PB)
        assert r.status_code == 503 and int(r.headers["retry-after"]) >= 1
        c.flush()  # the writer catches up: accepted again
        assert httpx.post(url, content=pb_request(ids(0xF2, 20)), headers=PB).status_code == 200
    finally:
        c.stop()
    assert query(tmp_path / "store.duckdb", "SELECT count(*) FROM spans")[0][0] == 40


# --------------------------------------------------------------------------- durability


SERVE = """
import sys
from llmscope.collect import Collector, CollectorConfig
cfg = CollectorConfig(db=sys.argv[1], port=0, flush_seconds=float(sys.argv[2]), flush_spans=10**9)
Collector(cfg).serve_forever(on_start=lambda c: print(c.port, flush=True))
print("stopped", flush=True)
"""


def _spawn(db: Path, flush_seconds: float) -> tuple[subprocess.Popen, int]:
    p = subprocess.Popen(
        [sys.executable, "-c", SERVE, str(db), str(flush_seconds)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=ENV,
    )
    line = p.stdout.readline()
    if not line.strip().isdigit():
        p.kill()
        raise AssertionError(f"collector did not start: {line!r} {p.stderr.read()[-6000:]}")
    return p, int(line)


def test_acknowledged_spans_survive_kill_9(tmp_path):
    db = tmp_path / "store.duckdb"
    spool = tmp_path / "store.duckdb.spool"
    p, port = _spawn(db, flush_seconds=3600)
    sent = []
    try:
        with httpx.Client(timeout=10) as h:
            for k in range(25):  # acknowledged one by one, never flushed
                batch = ids(0x1000 + k, 8)
                body = pb_request(batch) if k % 2 else json_request(batch)
                r = h.post(f"http://127.0.0.1:{port}/v1/traces", content=body, headers=PB if k % 2 else JS)
                assert r.status_code == 200
                sent += batch
    finally:
        children = descendants(p.pid)
        p.send_signal(signal.SIGKILL)
        p.wait(10)
    assert p.returncode == -signal.SIGKILL
    assert not still_running(children, within_s=5)  # its workers exit with it
    assert query(db, "SELECT count(*) FROM spans")[0][0] == 0  # nothing was flushed before the kill
    segs = sorted(spool.glob("seg-*.spool"))
    assert sum(len(read_frames(s)[0]) for s in segs) == 25
    backup = {s.name: s.read_bytes() for s in segs}

    # a new collector replays the spool; SIGTERM stops it cleanly (exit 0) with everything flushed
    p, port = _spawn(db, flush_seconds=3600)
    p.send_signal(signal.SIGTERM)
    out, err = p.communicate(timeout=30)
    assert p.returncode == 0, err[-2000:]
    assert "stopped" in out
    rows = query(db, "SELECT trace_id, span_id FROM spans")
    assert len(rows) == len(set(rows)) == 200 and set(rows) == set(sent)
    assert not spool.exists()  # a clean stop with everything stored leaves no spool folder

    # a crash between the store's commit and the segment's deletion replays spans already stored:
    # no duplicates
    spool.mkdir(mode=0o700)
    for name, data in backup.items():
        (spool / name).write_bytes(data)
    (spool / "seg-999999999999.spool").write_bytes(list(backup.values())[0][:100])  # a torn tail: never acknowledged
    c = Collector(CollectorConfig(db=str(db), port=0))
    c.start()
    c.stop()
    assert c.stats["replayed_segments"] == len(backup) + 1 and c.stats["duplicates"] == 200
    assert query(db, "SELECT count(*), count(DISTINCT (trace_id, span_id)) FROM spans")[0] == (200, 200)


# --------------------------------------------------------------------------- readers while running


def test_reports_work_while_the_collector_runs(tmp_path):
    db = tmp_path / "store.duckdb"
    c = collector(tmp_path, flush_seconds=3600, flush_spans=10**9)
    try:
        url = f"http://127.0.0.1:{c.port}/v1/traces"
        assert httpx.post(url, content=pb_request(ids(0x51, 30)), headers=PB).status_code == 200
        assert c.flush() == 30
        assert httpx.post(url, content=pb_request(ids(0x52, 5)), headers=PB).status_code == 200  # waits in the spool
        # the collector holds no handle between flushes: another process can read the store
        proc = subprocess.run(
            [sys.executable, "-m", "llmscope", "--db", str(db), "stats", "--format", "json"],
            capture_output=True,
            text=True,
            env=ENV,
            timeout=60,
        )
        assert proc.returncode == 0, proc.stderr
        assert json.loads(proc.stdout)[0]["spans"] == 30

        # a reader holding the file when a flush starts: the flush retries until the reader is gone
        holder = subprocess.Popen(
            [
                sys.executable,
                "-c",
                (
                    "import duckdb, sys, time; con = duckdb.connect(sys.argv[1], read_only=True); "
                    "print(con.execute('select count(*) from spans').fetchall()[0][0], flush=True); time.sleep(0.6)"
                ),
                str(db),
            ],
            stdout=subprocess.PIPE,
            text=True,
            env=ENV,
        )
        assert holder.stdout.readline().strip() == "30"
        assert c.flush() == 5
        holder.wait(10)
        assert c.stats["store_busy"] >= 1  # it did meet the reader's lock, and waited
        assert httpx.post(url, content=pb_request(ids(0x53, 5)), headers=PB).status_code == 200
    finally:
        c.stop()
    assert query(db, "SELECT count(*) FROM spans")[0][0] == 40


def test_top_view_renders(tmp_path):
    from rich.console import Console

    from llmscope.collect.live import top_view

    c = collector(tmp_path)
    try:
        assert (
            httpx.post(
                f"http://127.0.0.1:{c.port}/v1/traces", content=pb_request(ids(0x61, 10)), headers=PB
            ).status_code
            == 200
        )
        c.flush()
        console = Console(record=True, width=120)
        console.print(top_view(c))
        text = console.export_text()
        assert "spans/s" in text and "request latency P99" in text and "$/hour" in text
        assert "not LLM latency" in text and "spans stored (new)" in text
        r = c.rates(window=60)  # a loaded machine may take longer than the live view's 5 s for the flush
        assert r["spans_per_s"] > 0 and r["tokens_per_s"] > 0 and r["usd_per_hour"] > 0
    finally:
        c.stop()
