"""OTLP encoding traps: ids, int64 strings, every AnyValue kind, times, enums, protobuf, gzip, stdin."""

from __future__ import annotations

import base64
import gzip
import json
import struct
import subprocess
import sys

import pytest
from helpers import CAPTURED, export_line, kv, otlp_span, query, s, write_lines

from llmscope.ingest.otlp import BadRecord, norm_id, to_ns
from llmscope.ingest.pipeline import ingest

TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
SPAN = "00f067aa0ba902b7"


def test_ids_hex_any_case_base64_and_0x():
    assert norm_id(TRACE.upper(), 16) == TRACE
    assert norm_id("0x" + SPAN, 8) == SPAN
    assert norm_id(base64.b64encode(bytes.fromhex(TRACE)).decode(), 16) == TRACE
    assert norm_id(base64.b64encode(bytes.fromhex(SPAN)).decode(), 8) == SPAN
    assert norm_id("0" * 32, 16) is None
    assert norm_id("", 8) is None
    with pytest.raises(BadRecord):
        norm_id("not-an-id", 8)


def test_times_as_strings_numbers_and_iso_keep_nanoseconds():
    assert to_ns("1762000000123456789") == 1762000000123456789
    assert to_ns(1762000000123456789) == 1762000000123456789
    assert to_ns("2025-11-01T12:26:40.123456789Z") == 1762000000123456789
    assert to_ns("2025-11-01T12:26:40Z") == 1762000000000000000


def test_every_anyvalue_kind_lands_in_attributes(tmp_path, db):
    attrs = [
        kv("a.string", s("x")),
        kv("a.int", {"intValue": "9007199254740993"}),
        kv("a.int_number", {"intValue": 7}),
        kv("a.double", {"doubleValue": 0.25}),
        kv("a.bool", {"boolValue": True}),
        kv("a.array", {"arrayValue": {"values": [s("p"), {"intValue": "2"}]}}),
        kv("a.kvlist", {"kvlistValue": {"values": [kv("inner", {"boolValue": False})]}}),
        kv("a.bytes", {"bytesValue": base64.b64encode(b"\x00\x01").decode()}),
        kv("a.empty", {}),
    ]
    f = write_lines(tmp_path / "t.jsonl", [export_line([otlp_span(TRACE, SPAN, attrs=attrs)])])
    rep = ingest([str(f)], db)
    assert rep.spans_added == 1 and rep.bad_records == 0
    (raw,) = query(db, "SELECT attributes FROM spans")[0]
    a = json.loads(raw)
    assert a["a.string"] == "x"
    assert a["a.int"] == 9007199254740993  # beyond float precision: must stay exact
    assert a["a.int_number"] == 7
    assert a["a.double"] == 0.25
    assert a["a.bool"] is True
    assert a["a.array"] == ["p", 2]
    assert a["a.kvlist"] == {"inner": False}
    assert a["a.bytes"] == "AAE="
    assert a["a.empty"] is None


def test_enums_times_duration_and_missing_defaults(tmp_path, db):
    child = otlp_span(
        TRACE,
        "1111111111111111",
        parent=SPAN,
        start_ns=1_762_000_000_250_000_000,
        dur_ns=1_500_000,
        status={"code": 2, "message": "boom"},
        kind=3,
    )
    root = otlp_span(TRACE, SPAN)
    del root["kind"]  # proto3 JSON leaves defaults out
    f = write_lines(tmp_path / "t.jsonl", [export_line([child]), export_line([root])])  # child before parent
    ingest([str(f)], db)
    rows = dict(
        (r[0], r[1:])
        for r in query(
            db,
            "SELECT span_id, kind, status, status_message, duration_ms, parent_span_id, epoch_ns(start_time) FROM spans",
        )
    )
    assert rows["1111111111111111"][:5] == ("client", "error", "boom", 1.5, SPAN)
    assert rows[SPAN][:2] == ("unspecified", "unset")
    assert rows[SPAN][4] is None
    assert rows["1111111111111111"][5] == 1_762_000_000_250_000_000


def test_generic_protobuf_json_mapping_with_base64_ids(tmp_path, db):
    sp = otlp_span(base64.b64encode(bytes.fromhex(TRACE)).decode(), base64.b64encode(bytes.fromhex(SPAN)).decode())
    sp["kind"] = "SPAN_KIND_CLIENT"  # generic mapping writes enum names
    sp["status"] = {"code": "STATUS_CODE_ERROR"}
    f = write_lines(tmp_path / "t.json", [export_line([sp])])
    rep = ingest([str(f)], db)
    assert rep.bad_records == 0
    assert query(db, "SELECT trace_id, span_id, kind, status FROM spans") == [(TRACE, SPAN, "client", "error")]


def _proto_request(n_spans: int = 2):
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
    from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue

    req = ExportTraceServiceRequest()
    rs = req.resource_spans.add()
    rs.resource.attributes.append(KeyValue(key="service.name", value=AnyValue(string_value="pb-svc")))
    ss = rs.scope_spans.add()
    ss.scope.name = "pb-scope"
    for i in range(n_spans):
        sp = ss.spans.add()
        sp.trace_id = bytes.fromhex(TRACE)
        sp.span_id = (i + 1).to_bytes(8, "big")
        sp.name = "chat gpt-4o-mini"
        sp.kind = 3
        sp.start_time_unix_nano = 1_762_000_000_000_000_000 + i
        sp.end_time_unix_nano = 1_762_000_001_000_000_000
        sp.attributes.append(KeyValue(key="gen_ai.operation.name", value=AnyValue(string_value="chat")))
        sp.attributes.append(KeyValue(key="gen_ai.request.model", value=AnyValue(string_value="gpt-4o-mini")))
        sp.attributes.append(KeyValue(key="gen_ai.usage.input_tokens", value=AnyValue(int_value=100)))
        sp.attributes.append(KeyValue(key="gen_ai.request.temperature", value=AnyValue(double_value=0.5)))
    return req


def test_protobuf_single_message_and_length_prefixed_stream(tmp_path, db):
    one = tmp_path / "one.pb"
    one.write_bytes(_proto_request(2).SerializeToString())
    rep = ingest([str(one)], db)
    assert rep.spans_added == 2 and rep.bad_records == 0
    msgs = [_proto_request(3).SerializeToString(), _proto_request(1).SerializeToString()]
    stream = tmp_path / "stream.binpb"  # Collector file exporter, format: proto
    stream.write_bytes(b"".join(struct.pack(">I", len(m)) + m for m in msgs))
    rep = ingest([str(stream)], db)
    assert rep.spans_read == 4 and rep.spans_added == 1  # spans 1-2 were already there; span 3 is new
    rows = query(
        db,
        "SELECT service_name, span_type, request_model, input_tokens, temperature FROM spans WHERE span_id = '0000000000000003'",
    )
    assert rows == [("pb-svc", "llm", "gpt-4o-mini", 100, 0.5)]


def test_a_big_length_prefixed_protobuf_stream_is_split_at_message_boundaries(tmp_path, db):
    """The Collector's proto file exporter writes one growing stream: it is decoded in pieces of whole
    messages (on every core), and a bad message is still named by its number in the whole file."""
    from llmscope.ingest.readers import plan

    msgs = []
    for m in range(3_000):
        req = _proto_request(2)
        for j, sp in enumerate(req.resource_spans[0].scope_spans[0].spans):
            sp.trace_id = (m + 1).to_bytes(16, "big")
            sp.span_id = (j + 1).to_bytes(8, "big")
            sp.name = "x" * 900  # ~2 KB a message
        msgs.append(req.SerializeToString())
    msgs[2_500] = b"\xff\xff not protobuf at all"
    stream = tmp_path / "big.binpb"
    stream.write_bytes(b"".join(struct.pack(">I", len(m)) + m for m in msgs))
    units = list(plan(str(stream), False))
    assert len(units) >= 2 and units[0].start == 0 and units[-1].end == stream.stat().st_size
    assert all(a.end == b.start for a, b in zip(units, units[1:]))
    rep = ingest([str(stream)], db)
    assert (rep.spans_added, rep.bad_records) == (2 * 2_999, 1)
    assert rep.bad_examples[0][1] == 2_501  # the message number in the whole stream
    assert query(db, "SELECT max(source_line) FROM spans") == [(3_000,)]


def test_gzip_directory_and_stdin(tmp_path, db):
    d = tmp_path / "in" / "nested"
    d.mkdir(parents=True)
    with gzip.open(d / "a.jsonl.gz", "wt") as f:
        f.write(export_line([otlp_span(TRACE, SPAN)]) + "\n")
    (tmp_path / "in" / "notes.txt").write_text("not a trace file")  # ignored: not a trace suffix
    rep = ingest([str(tmp_path / "in")], db)
    assert rep.spans_added == 1 and rep.files == 1
    line = export_line([otlp_span(TRACE, "2222222222222222")])
    proc = subprocess.run(
        [sys.executable, "-m", "llmscope", "--db", str(db), "ingest", "-"], input=line.encode(), capture_output=True
    )
    assert proc.returncode == 0, proc.stderr.decode()
    assert query(db, "SELECT count(*) FROM spans") == [(2,)]


def test_single_pretty_document_and_flat_span_lines(tmp_path, db):
    doc = tmp_path / "doc.json"
    doc.write_text(json.dumps(json.loads(export_line([otlp_span(TRACE, SPAN)])), indent=2))
    flat = tmp_path / "flat.jsonl"
    flat.write_text(
        json.dumps(
            {  # the OTel SDK's span.to_json() shape, one per line
                "name": "ChatCompletion",
                "context": {"trace_id": "0x" + TRACE, "span_id": "0x3333333333333333"},
                "kind": "SpanKind.INTERNAL",
                "parent_id": "0x" + SPAN,
                "start_time": "2025-11-01T12:26:40.000000Z",
                "end_time": "2025-11-01T12:26:41.250000Z",
                "status": {"status_code": "OK"},
                "attributes": {
                    "openinference.span.kind": "LLM",
                    "llm.model_name": "gpt-4o-mini",
                    "llm.token_count.prompt": 12,
                },
                "events": [],
                "resource": {"attributes": {"service.name": "flat-svc"}, "schema_url": ""},
            }
        )
        + "\n"
    )
    rep = ingest([str(doc), str(flat)], db)
    assert rep.spans_added == 2 and rep.bad_records == 0
    assert query(
        db,
        "SELECT status, duration_ms, span_type, dialect, service_name, input_tokens FROM spans WHERE span_id='3333333333333333'",
    ) == [("ok", 1250.0, "llm", "openinference", "flat-svc", 12)]


def test_concatenated_pretty_spans_as_the_console_exporter_prints_them(tmp_path, db):
    def span(sid):
        return json.dumps(
            {
                "name": "chat",
                "context": {"trace_id": "0x" + TRACE, "span_id": "0x" + sid},
                "kind": "SpanKind.CLIENT",
                "parent_id": None,
                "start_time": "2025-11-01T12:00:00.000000Z",
                "end_time": "2025-11-01T12:00:01.000000Z",
                "status": {"status_code": "UNSET"},
                "attributes": {"gen_ai.operation.name": "chat"},
            },
            indent=4,
        )

    f = tmp_path / "console.json"
    f.write_text(span("1" * 16) + "\n" + span("2" * 16) + "\n{ broken")
    rep = ingest([str(f)], db)
    assert rep.spans_added == 2 and rep.bad_records == 1
    assert rep.bad_examples[0][1] == 2 * (span("1" * 16).count("\n") + 1) + 1  # the line where the broken object starts
    assert query(db, "SELECT count(*) FROM spans WHERE span_type = 'llm' AND kind = 'client'") == [(2,)]


def test_a_wrong_type_in_the_newest_source_falls_back_to_the_next(tmp_path, db):
    attrs = [
        kv("gen_ai.operation.name", s("chat")),
        kv("gen_ai.usage.input_tokens", s("lots")),
        kv("gen_ai.usage.prompt_tokens", {"intValue": "12"}),
        kv("llm.invocation_parameters", s('{"temperature": 0.3}')),
        kv("llm.model_name", s("gpt-4o-mini-2024-07-18")),
    ]
    f = write_lines(tmp_path / "t.jsonl", [export_line([otlp_span(TRACE, SPAN, attrs=attrs)])])
    ingest([str(f)], db)
    # no "model" in the invocation parameters JSON: the request model falls back to llm.model_name
    assert query(
        db,
        "SELECT input_tokens, temperature, request_model, json_extract_string(attributes, '$.\"gen_ai.usage.input_tokens\"') FROM spans",
    ) == [(12, 0.3, "gpt-4o-mini-2024-07-18", "lots")]


def test_spans_with_the_same_keys_still_resolve_from_their_own_values(tmp_path, db):
    """Normalization caches what depends on a span's key set; what depends on values must not leak
    from one span to the next (type from the operation, fallback past an empty newest source)."""

    def attrs(op, new_tokens, old_tokens, model):
        return [
            kv("gen_ai.operation.name", s(op)),
            kv("gen_ai.usage.input_tokens", new_tokens),
            kv("gen_ai.usage.prompt_tokens", old_tokens),
            kv("gen_ai.request.model", s(model)),
        ]

    spans = [
        otlp_span(TRACE, "00000000000000a1", attrs=attrs("chat", {"intValue": "7"}, {"intValue": "99"}, "gpt-4o-mini")),
        otlp_span(
            TRACE, "00000000000000a2", attrs=attrs("embeddings", s(""), {"intValue": "5"}, "text-embedding-3-small")
        ),
        otlp_span(TRACE, "00000000000000a3", attrs=attrs("execute_tool", s("n/a"), s(""), "")),
    ]
    f = write_lines(tmp_path / "t.jsonl", [export_line(spans)])
    ingest([str(f)], db)
    assert query(db, "SELECT span_id, span_type, input_tokens, request_model FROM spans ORDER BY span_id") == [
        ("00000000000000a1", "llm", 7, "gpt-4o-mini"),
        ("00000000000000a2", "embedding", 5, "text-embedding-3-small"),
        ("00000000000000a3", "tool", None, None),
    ]


def test_replayed_captures_normalize_like_the_originals(tmp_path, db):
    """benchmarks/ingest.py --data captured: 20 replays of each real library's capture (fresh ids,
    shifted times) give exactly 20x what one capture gives, per dialect."""
    import benchmarks_ingest as bench

    one = tmp_path / "one.duckdb"
    for f in sorted(CAPTURED.glob("*/traces.otlp.jsonl")):
        ingest([str(f)], one)
    (per_capture,) = query(one, "SELECT count(*) FROM spans")[0]  # every captured library once
    n = bench.write_captured_file(tmp_path / "replay.jsonl", 20 * per_capture)
    report = ingest([str(tmp_path / "replay.jsonl")], db)
    assert report.bad_records == 0 and report.spans_added == n
    per_dialect = """SELECT dialect, count(*), count(input_text), count(output_text), sum(input_tokens), sum(output_tokens),
                             count(error_type), count(DISTINCT trace_id) FROM spans GROUP BY 1 ORDER BY 1"""
    expected = [(d, *(x * 20 for x in rest)) for d, *rest in query(one, per_dialect)]
    assert query(db, per_dialect) == expected


def test_protobuf_logs_file(tmp_path, db):
    from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
    from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue, KeyValueList

    req = ExportLogsServiceRequest()
    rec = req.resource_logs.add().scope_logs.add().log_records.add()
    rec.trace_id, rec.span_id = bytes.fromhex(TRACE), bytes.fromhex(SPAN)
    rec.event_name = "gen_ai.user.message"
    rec.body.CopyFrom(
        AnyValue(
            kvlist_value=KeyValueList(values=[KeyValue(key="content", value=AnyValue(string_value="hi from a log"))])
        )
    )
    (tmp_path / "logs.pb").write_bytes(req.SerializeToString())
    spans = write_lines(
        tmp_path / "t.jsonl", [export_line([otlp_span(TRACE, SPAN, attrs=[kv("gen_ai.operation.name", s("chat"))])])]
    )
    rep = ingest([str(spans), str(tmp_path / "logs.pb")], db)
    assert rep.bad_records == 0 and rep.log_messages_added == 1
    assert query(db, "SELECT input_text FROM spans") == [("hi from a log",)]
