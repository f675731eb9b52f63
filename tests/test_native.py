"""The C accelerators against the Python code they stand in for.

``_native/otlp.c`` (OTLP/JSON decoding): whenever the C path accepts a line, the sink must receive
exactly what ``emit_typed`` gives it (values, types, order, shared resource dicts); whenever the
typed Python path would reject or treat a line differently, the C path must hand it back (None).
``_native/resolve.c`` (plain-attribute columns): the same values as ``_fill_direct_py``.
``_native/columns.c`` (rows -> Arrow buffers): the same arrays as pyarrow's own conversion.
Checked on every captured real library's output, the bundled samples, and thousands of mutated
inputs; and end to end, the Arrow batch of every fixture is identical with and without them.
"""

from __future__ import annotations

import gzip
import os
import random
from pathlib import Path

import msgspec
import pytest

from llmscope._native import accelerator
from llmscope.ingest import otlp
from llmscope.ingest.readers import decode_unit, plan
from llmscope.normalize import builder as normalize
from llmscope.normalize.builder import Batch, Mapping

ROOT = Path(__file__).resolve().parent.parent
CAPTURED = ROOT / "tests" / "fixtures" / "captured"
SAMPLES = ROOT / "sample_traces"

native = otlp.NATIVE_DECODE
# CI sets LLMSCOPE_REQUIRE_NATIVE=1: a compile that failed must turn the run red, not skip these tests.
REQUIRED = os.environ.get("LLMSCOPE_REQUIRE_NATIVE", "") not in ("", "0")
# the mypyc-compiled builder is built only when asked (LLMSCOPE_MYPYC=1); CI asks
MYPYC_REQUIRED = REQUIRED and os.environ.get("LLMSCOPE_MYPYC", "") not in ("", "0")
if native is None and REQUIRED:
    pytest.fail("LLMSCOPE_REQUIRE_NATIVE=1 but the C accelerators were not built", pytrace=False)
pytestmark = pytest.mark.skipif(native is None, reason="the C accelerator was not built (no compiler)")


class Recorder:
    def __init__(self):
        self.calls: list[tuple] = []

    def add_span(self, *args):
        self.calls.append(("span", args))

    def add_log(self, *args):
        self.calls.append(("log", args))

    def bad(self, reason):
        self.calls.append(("bad", reason))


def _fingerprint(calls: list[tuple]) -> str:
    """Values with their types (repr tells 3 from 3.0 and keeps dict order) plus which calls share
    one resource dict."""
    resources: dict[int, int] = {}
    shared = []
    for kind, args in calls:
        if kind == "span":
            shared.append(resources.setdefault(id(args[11]), len(resources)))
        elif kind == "log":
            shared.append(resources.setdefault(id(args[6]), len(resources)))
    return repr(calls) + repr(shared)


def python_path(line: bytes) -> list[tuple] | None:
    """What the typed Python path emits for a line; None where it would not take the line."""
    try:
        req = otlp.REQUEST_DECODER.decode(line)
    except (msgspec.ValidationError, msgspec.DecodeError, UnicodeDecodeError):
        return None
    if req.resourceSpans is None and req.resourceLogs is None:
        return None
    rec = Recorder()
    otlp.emit_typed(req, rec)
    return rec.calls


def native_path(line: bytes) -> list[tuple] | None:
    decoded = native(line)
    if decoded is None:
        return None
    rec = Recorder()
    otlp.emit_native(decoded, rec)
    return rec.calls


def check_line(line: bytes) -> bool:
    """Asserts the contract for one line; True if the C path took it."""
    got = native_path(line)
    if got is None:
        return False
    want = python_path(line)
    assert want is not None, f"C path accepted a line the typed decoder rejects: {line[:300]!r}"
    assert not any(kind == "bad" for kind, _ in want), f"C path accepted a bad record: {line[:300]!r}"
    assert _fingerprint(got) == _fingerprint(want), f"C and Python disagree on: {line[:300]!r}"
    return True


def _lines(path: Path) -> list[bytes]:
    data = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
    return [ln for ln in data.split(b"\n") if ln.strip()]


def _corpus() -> list[bytes]:
    files = sorted(CAPTURED.rglob("*.jsonl")) + sorted(SAMPLES.glob("*.jsonl*"))
    assert len(files) >= 8
    return [ln for f in files for ln in _lines(f)]


def test_every_captured_and_sample_line_decodes_identically():
    lines = _corpus()
    taken = sum(check_line(ln) for ln in lines)
    # canonical Collector output is what the C path is for: it must take nearly all of it
    assert taken >= 0.9 * len(lines), f"C path took only {taken} of {len(lines)} lines"


def test_each_captured_library_goes_through_the_c_path():
    for lib in sorted(p for p in CAPTURED.iterdir() if p.is_dir()):
        lines = [ln for f in sorted(lib.glob("*.jsonl")) for ln in _lines(f)]
        assert lines, lib
        assert any(native(ln) is not None for ln in lines), f"{lib.name}: no line took the C path"


def _req(span_extra: str = "", attr_value: str = '{"stringValue":"x"}', top_extra: str = "") -> bytes:
    span = (
        '{"traceId":"0af7651916cd43dd8448eb211c80319c","spanId":"b7ad6b7169203331",'
        '"startTimeUnixNano":"1762000000000000001","endTimeUnixNano":1762000000500000000,'
        f'"attributes":[{{"key":"k","value":{attr_value}}}]{span_extra}}}'
    )
    return (
        f'{{"resourceSpans":[{{"resource":{{"attributes":[{{"key":"service.name","value":{{"stringValue":"svc"}}}}]}},'
        f'"scopeSpans":[{{"scope":{{"name":"lib","version":"1"}},"spans":[{span},{span}]}}]}}]{top_extra}}}'
    ).encode()


@pytest.mark.parametrize(
    "attr_value",
    [
        '{"stringValue":"plain"}',
        '{"stringValue":"esc \\" \\\\ \\/ \\b\\f\\n\\r\\t \\u00e9 \\ud83d\\ude00"}',
        '{"stringValue":"utf-8 é 漢字 😀"}',
        '{"stringValue":""}',
        '{"intValue":"-42"}',
        '{"intValue":42}',
        '{"intValue":"9223372036854775807"}',
        '{"intValue":-9223372036854775808}',
        '{"doubleValue":1.5e-3}',
        '{"doubleValue":3}',
        '{"doubleValue":"NaN"}',
        '{"doubleValue":"-Infinity"}',
        '{"doubleValue":-0.0}',
        '{"doubleValue":-0}',
        '{"boolValue":false}',
        '{"bytesValue":"AAEC"}',
        '{"arrayValue":{}}',
        '{"arrayValue":{"values":[{"stringValue":"a"},{"intValue":"1"},{"arrayValue":{"values":[{"boolValue":true}]}}]}}',
        '{"kvlistValue":{"values":[{"key":"a","value":{"doubleValue":2.5}},{"key":"b"},{"key":"a","value":null}]}}',
        "{}",
        "null",
        '{"stringValue":null,"intValue":"7"}',
        '{"stringValue":"s","intValue":"not a number"}',
        '{"intValue":1.0}',
        '{"boolValue":"true"}',
        '{"stringValue":"\\ud800"}',
        '{"doubleValue":1e400}',
        '{"stringValue":"a","stringValue":"b"}',
        '{"arrayValue":{"values":[null]}}',
        '{"unknown":[1,{"x":null}],"intValue":3}',
    ],
)
def test_any_value_kinds(attr_value):
    check_line(_req(attr_value=attr_value))


@pytest.mark.parametrize(
    "span_extra",
    [
        ',"kind":3',
        ',"kind":"SPAN_KIND_CLIENT"',
        ',"status":{"code":2,"message":"boom"}',
        ',"status":null',
        ',"status":{"code":"STATUS_CODE_ERROR"}',
        ',"parentSpanId":""',
        ',"parentSpanId":"0000000000000000"',
        ',"parentSpanId":"00f067aa0ba902b7"',
        ',"parentSpanId":"00F067AA0BA902B7"',
        ',"name":"chat gpt-4o"',
        ',"events":[{"name":"gen_ai.content.prompt","timeUnixNano":"5","attributes":[{"key":"gen_ai.prompt","value":{"stringValue":"hi"}}]}]',
        ',"events":[]',
        ',"events":[{}]',
        ',"links":[{"traceId":"x","attributes":[]}],"droppedAttributesCount":0,"flags":256',
        ',"traceState":"a=b"',
        ',"name":null',
        ',"attributes":null',
        ',"endTimeUnixNano":"2025-01-01T00:00:00Z"',
        ',"startTimeUnixNano":""',
        ',"traceId":"0AF7651916CD43DD8448EB211C80319C"',
        ',"spanId":"t61rcWkgMzE="',
        ',"spanId":"0000000000000000"',
    ],
)
def test_span_fields(span_extra):
    check_line(_req(span_extra=span_extra))


@pytest.mark.parametrize(
    "line",
    [
        b'{"resourceSpans":[]}',
        b'{"resourceSpans":null}',
        b"{}",
        b"[]",
        b'{"resourceSpans":[]} x',
        b'{"resourceSpans":[],}',
        b'{"resourceSpans":[{"instrumentationLibrarySpans":[{"instrumentationLibrary":{"name":"old"},'
        b'"spans":[{"traceId":"0af7651916cd43dd8448eb211c80319c","spanId":"b7ad6b7169203331"}]}]}]}',
        b'{"resourceSpans":[{"scopeSpans":[],"instrumentationLibrarySpans":[{"spans":[{"traceId":"0af7651916cd43dd8448eb211c80319c",'
        b'"spanId":"b7ad6b7169203331"}]}]}]}',
        b'{"resourceSpans":[{"scopeSpans":[{"spans":[{"spanId":"b7ad6b7169203331","traceId":"0af7651916cd43dd8448eb211c80319c"}],'
        b'"scope":{"name":"after"}}],"resource":{"attributes":[]}}]}',
        b'{"resourceLogs":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"svc"}}]},"scopeLogs":[{"scope":'
        b'{"name":"x"},"logRecords":[{"timeUnixNano":"0","observedTimeUnixNano":"17","traceId":"0af7651916cd43dd8448eb211c80319c",'
        b'"spanId":"","severityNumber":9,"body":{"kvlistValue":{"values":[{"key":"content","value":{"stringValue":"hi"}}]}},'
        b'"attributes":[{"key":"event.name","value":{"stringValue":"gen_ai.user.message"}}]},{"eventName":"gen_ai.choice"},'
        b'{"attributes":[{"key":"event.name","value":{"intValue":"5"}}]}]}]}]}',
    ],
)
def test_request_shapes(line):
    check_line(line)


def _mutations(line: bytes, rng: random.Random, n: int) -> list[bytes]:
    """Corruptions a real file shows (truncation, a lost byte, a wrong type) plus random bytes."""
    out = []
    swaps = [
        (b'"intValue":"', b'"intValue":'),
        (b'"stringValue":"', b'"stringValue":1,"x":"'),
        (b'"kind":', b'"kind":"'),
        (b'"spanId":"', b'"spanId":"0x'),
        (b'":"', b'":null,"y":"'),
        (b'"startTimeUnixNano":"', b'"startTimeUnixNano":"-'),
        (b'"doubleValue":', b'"doubleValue":"1'),
        (b"}", b"}}"),
        (b"]", b""),
        (b'"', b"'"),
        (b"\\", b"\\\\\\"),
    ]
    for _ in range(n):
        r = rng.random()
        pos = rng.randrange(len(line))
        if r < 0.3:
            out.append(line[:pos])
        elif r < 0.5:
            out.append(line[:pos] + line[pos + 1 :])
        elif r < 0.7:
            out.append(line[:pos] + bytes([rng.randrange(256)]) + line[pos + 1 :])
        else:
            old, new = rng.choice(swaps)
            at = line.find(old, pos)
            at = at if at >= 0 else line.find(old)
            out.append(line if at < 0 else line[:at] + new + line[at + len(old) :])
    return out


def test_mutated_lines_never_make_the_paths_disagree():
    rng = random.Random(7)
    # short lines, so that mutations land in structure rather than in long content strings
    lines = sorted(_corpus(), key=len)[:60] + [_req(), _req(span_extra=',"status":{"code":2}')]
    for line in lines:
        for m in _mutations(line, rng, 40):
            check_line(m)


def _spans(lines: list[bytes]) -> list[tuple]:
    out = []
    for line in lines:
        calls = python_path(line) or []
        out += [args for kind, args in calls if kind == "span"]
    return out


def _fill_both(mapping: Mapping, attrs: dict, resource: dict) -> tuple[str, str]:
    shape = mapping.shape(attrs, resource)
    n = len(mapping.all_columns)
    with_c, in_python = [None] * n, [None] * n
    native_fill = accelerator("resolve", "fill_direct")
    assert native_fill is not None
    native_fill(with_c, attrs, resource, shape.direct, shape.direct_lower, normalize._first_usable)
    normalize._fill_direct_py(in_python, attrs, resource, shape.direct, shape.direct_lower, normalize._first_usable)
    return repr(with_c), repr(in_python)


def test_column_resolution_in_c_matches_python_on_every_captured_span():
    mapping = Mapping()
    spans = _spans(_corpus())
    assert len(spans) > 1000
    for sp in spans:
        got, want = _fill_both(mapping, sp[9], sp[11])
        assert got == want, sp[9]


def test_column_resolution_in_c_matches_python_on_odd_values():
    """Values of every type and case where the attribute keys of real spans expect others."""
    rng = random.Random(11)
    odd = [
        "",
        "ABC",
        "abc",
        "Abc",
        "123",
        "école",
        "ÉCOLE",
        "ǅ",
        " ",
        0,
        5,
        -1,
        True,
        False,
        1.5,
        float("nan"),
        None,
        [1, 2],
        ["gpt-4o"],
        {"a": 1},
        "7",
        "2.5",
        "true",
        '["x"]',
        2**63,
        -(2**63) - 1,
        2**63 - 1,
        float("inf"),
        "Infinity",
        "1e30",
    ]
    mapping = Mapping()
    spans = _spans(sorted(_corpus(), key=len)[:200])
    for sp in spans:
        for _ in range(5):
            attrs = {k: (rng.choice(odd) if rng.random() < 0.5 else v) for k, v in sp[9].items()}
            got, want = _fill_both(mapping, attrs, sp[11])
            assert got == want, attrs


def test_ingest_gives_the_same_batch_with_and_without_the_c_paths(monkeypatch):
    """End to end through decode_unit: the Arrow batch is identical either way."""
    from llmscope.ingest import decode as decoding

    for f in sorted(CAPTURED.rglob("*.jsonl")) + [SAMPLES / "support-bot.traces.jsonl.gz"]:
        for unit in plan(str(f), False):
            with_c = decode_unit(unit, Mapping())
            data = unit.data if unit.data is not None else Path(unit.path).read_bytes()[unit.start : unit.end]
            without = Batch(Mapping(), source=unit.source)
            with monkeypatch.context() as m:
                m.setattr(normalize, "_fill_direct", normalize._fill_direct_py)
                m.setattr(normalize, "_build_columns", None)
                decoding._lines(data, without, native=None)
            assert with_c.span_record_batch().equals(without.span_record_batch()), f
            assert with_c.log_record_batch().equals(without.log_record_batch()), f
            assert (with_c.n_bad, with_c.errors) == (without.n_bad, without.errors), f


def test_a_line_cut_at_any_byte_is_handed_back():
    """A line cut short (a partial write, a truncated file) never decodes in C: the Python path
    reports it with its line number."""
    for line in sorted(_corpus(), key=len)[:3] + [_req()]:
        assert native(line) is not None
        for cut in range(len(line) - 1):
            assert native(line[:cut]) is None, line[:cut]


# --------------------------------------------------------------------------- protobuf


def _pb_any(v):
    from opentelemetry.proto.common.v1.common_pb2 import AnyValue, ArrayValue, KeyValue, KeyValueList

    if v is None:
        return AnyValue()
    if isinstance(v, bool):
        return AnyValue(bool_value=v)
    if isinstance(v, int):
        return AnyValue(int_value=v)
    if isinstance(v, float):
        return AnyValue(double_value=v)
    if isinstance(v, list):
        return AnyValue(array_value=ArrayValue(values=[_pb_any(x) for x in v]))
    if isinstance(v, dict):
        return AnyValue(kvlist_value=KeyValueList(values=[KeyValue(key=k, value=_pb_any(x)) for k, x in v.items()]))
    return AnyValue(string_value=str(v))


def _to_protobuf(spans: list[tuple]) -> bytes:
    """The spans the Python path decoded from a JSON line, as one protobuf ExportTraceServiceRequest
    (one ResourceSpans per resource dict, one ScopeSpans per scope name)."""
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
    from opentelemetry.proto.common.v1.common_pb2 import KeyValue

    req = ExportTraceServiceRequest()
    by_resource: dict[int, object] = {}
    for trace_id, span_id, parent, name, kind, start, end, code, message, attrs, events, resource, scope in spans:
        rs = by_resource.get(id(resource))
        if rs is None:
            rs = by_resource[id(resource)] = req.resource_spans.add()
            rs.resource.attributes.extend(KeyValue(key=k, value=_pb_any(v)) for k, v in resource.items())
        ss = next((x for x in rs.scope_spans if x.scope.name == scope), None)
        if ss is None:
            ss = rs.scope_spans.add()
            ss.scope.name = scope
        sp = ss.spans.add()
        sp.trace_id, sp.span_id = bytes.fromhex(trace_id), bytes.fromhex(span_id)
        if parent:
            sp.parent_span_id = bytes.fromhex(parent)
        sp.name, sp.kind = name, kind
        sp.start_time_unix_nano, sp.end_time_unix_nano = start, end
        sp.status.code, sp.status.message = code, message
        sp.attributes.extend(KeyValue(key=k, value=_pb_any(v)) for k, v in attrs.items())
        for ename, etime, eattrs in events:
            ev = sp.events.add()
            ev.name, ev.time_unix_nano = ename, etime
            ev.attributes.extend(KeyValue(key=k, value=_pb_any(v)) for k, v in eattrs.items())
    return req.SerializeToString()


def python_pb(data: bytes) -> list[tuple] | None:
    from google.protobuf.message import DecodeError
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

    try:
        req = ExportTraceServiceRequest.FromString(data)
    except DecodeError:
        return None
    if not req.resource_spans:
        return None
    rec = Recorder()
    otlp._emit_proto_traces(req, rec)
    return rec.calls


def check_pb(data: bytes) -> bool:
    decoded = otlp.NATIVE_DECODE_PB(data)
    if decoded is None:
        return False
    got = Recorder()
    otlp.emit_native(decoded, got)
    want = python_pb(data)
    assert want is not None, f"C accepted a message protobuf rejects: {data[:200]!r}"
    assert not any(kind == "bad" for kind, _ in want), f"C accepted a bad record: {data[:200]!r}"
    assert _fingerprint(got.calls) == _fingerprint(want), f"C and Python disagree on: {data[:200]!r}"
    return True


def _pb_corpus() -> list[bytes]:
    out = []
    for line in _corpus():
        spans = [args for kind, args in (python_path(line) or []) if kind == "span"]
        if spans:
            out.append(_to_protobuf(spans))
    return out


def test_every_captured_and_sample_span_as_protobuf_decodes_identically():
    messages = _pb_corpus()
    assert len(messages) > 1000
    taken = sum(check_pb(m) for m in messages)
    assert taken == len(messages)


@pytest.mark.parametrize(
    "change",
    [
        "links",
        "trace_state_bad_utf8",
        "name_bad_utf8",
        "bytes_value",
        "no_ids",
        "zero_parent",
        "negative_kind",
        "empty_key",
        "nested",
        "two_oneof_members",
        "status_twice",
        "unknown_fields",
        "entity_refs",
    ],
)
def test_protobuf_cases(change):
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
    from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue

    req = ExportTraceServiceRequest()
    rs = req.resource_spans.add()
    rs.resource.attributes.append(KeyValue(key="service.name", value=AnyValue(string_value="svc")))
    ss = rs.scope_spans.add()
    ss.scope.name = "lib"
    sp = ss.spans.add()
    sp.trace_id, sp.span_id, sp.name = (
        bytes.fromhex("0af7651916cd43dd8448eb211c80319c"),
        bytes.fromhex("b7ad6b7169203331"),
        "n",
    )
    sp.start_time_unix_nano, sp.end_time_unix_nano = 1_762_000_000_000_000_001, 1_762_000_000_500_000_000
    extra = b""
    if change == "links":
        link = sp.links.add()
        link.trace_id, link.span_id = sp.trace_id, sp.span_id
    elif change == "trace_state_bad_utf8":
        extra = b"\x1a\x02\xc3\x28"  # field 3 (trace_state), invalid UTF-8
    elif change == "name_bad_utf8":
        sp.name = ""
        extra = b"\x2a\x02\xc3\x28"
    elif change == "bytes_value":
        for b in (b"", b"\x00", b"\x00\x01", b"\x00\x01\x02", bytes(range(256))):
            sp.attributes.append(KeyValue(key=f"b{len(b)}", value=AnyValue(bytes_value=b)))
    elif change == "no_ids":
        sp.ClearField("span_id")
    elif change == "zero_parent":
        sp.parent_span_id = bytes(8)
    elif change == "negative_kind":
        sp.kind = -5
        sp.status.code = 2
    elif change == "empty_key":
        sp.attributes.append(KeyValue(key="", value=AnyValue(int_value=-(2**63))))
        sp.attributes.append(KeyValue(key="k"))
    elif change == "nested":
        sp.attributes.append(KeyValue(key="n", value=_pb_any({"a": [1, 2.5, {"b": [True, None, "x"]}], "c": {}})))
    elif change == "two_oneof_members":
        extra = b"\x4a\x0b\x0a\x01k\x12\x06\x0a\x01a\x18\x07"  # attributes: KeyValue(k, {string "a", int 7})
    elif change == "status_twice":
        extra = b"\x7a\x02\x18\x02\x7a\x02\x18\x01"
    elif change == "unknown_fields":
        extra = b"\xa8\x1f\x05\xb2\x1f\x03abc"  # fields 501 (varint) and 502 (bytes)
    data = req.SerializeToString()
    resource_extra = b"\x1a\x03\x0a\x01x" if change == "entity_refs" else b""  # Resource field 3
    if extra or resource_extra:  # raw fields added to the span or the resource: rebuild the nesting
        span_bytes = sp.SerializeToString() + extra
        ss2 = type(ss)()
        ss2.scope.name = "lib"
        scope_bytes = ss2.SerializeToString() + b"\x12" + _varint(len(span_bytes)) + span_bytes
        res_bytes = rs.resource.SerializeToString() + resource_extra
        rs_bytes = b"\x0a" + _varint(len(res_bytes)) + res_bytes + b"\x12" + _varint(len(scope_bytes)) + scope_bytes
        data = b"\x0a" + _varint(len(rs_bytes)) + rs_bytes
    took = check_pb(data)
    # cases the C path must leave to Python: they carry data it does not read, or bad records
    if change in (
        "links",
        "trace_state_bad_utf8",
        "name_bad_utf8",
        "no_ids",
        "two_oneof_members",
        "status_twice",
        "entity_refs",
    ):
        assert not took
    else:
        assert took


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def test_protobuf_mutations_never_make_the_paths_disagree():
    rng = random.Random(5)
    messages = sorted(_pb_corpus(), key=len)[:80]
    taken = 0
    for m in messages:
        for _ in range(30):
            pos = rng.randrange(len(m))
            r = rng.random()
            if r < 0.3:
                x = m[:pos]
            elif r < 0.6:
                x = m[:pos] + bytes([rng.randrange(256)]) + m[pos + 1 :]
            else:
                x = m[:pos] + m[pos + 1 :]
            taken += check_pb(x)
    assert taken > 100  # some mutations stay valid (a changed byte inside a string, say)


def test_a_protobuf_stream_file_ingests_the_same_with_and_without_the_c_path(tmp_path, monkeypatch):
    import struct

    messages = _pb_corpus()
    f = tmp_path / "stream.pb"
    f.write_bytes(b"".join(struct.pack(">I", len(m)) + m for m in messages))
    units = list(plan(str(f), False))
    with_c = [decode_unit(u, Mapping()) for u in units]
    with monkeypatch.context() as m:
        m.setattr(otlp.emit_protobuf, "__defaults__", (None,))
        m.setattr(normalize, "_fill_direct", normalize._fill_direct_py)
        m.setattr(normalize, "_build_columns", None)
        without = [decode_unit(u, Mapping()) for u in units]
    assert sum(len(b) for b in with_c) > 1000
    for a, b in zip(with_c, without):
        assert a.span_record_batch().equals(b.span_record_batch())


# --------------------------------------------------------------------------- Arrow buffers


@pytest.mark.parametrize(
    "kind,values",
    [
        ("s", ["a", "", None, "é漢😀", "x" * 5000, None]),
        ("s", [None, None]),
        ("s", ["only"]),
        ("i", [0, -1, 2**63 - 1, -(2**63), None, 7]),
        ("f", [0.0, -0.0, 1.5, float("nan"), float("inf"), None]),
        ("b", [True, False, None, True, True, False, False, True, True]),
    ],
)
def test_columns_built_in_c_equal_pyarrows(kind, values):
    import pyarrow as pa

    t = {"s": pa.string(), "i": pa.int64(), "f": pa.float64(), "b": pa.bool_()}[kind]
    rows = [(v,) for v in values]
    built = normalize._build_columns(rows, kind)
    assert built is not None
    got = normalize._from_buffers(t, len(rows), built[0])
    got.validate(full=True)
    want = pa.array(values, type=t)
    assert repr(got.to_pylist()) == repr(want.to_pylist())  # repr: NaN and -0.0 compare as written
    assert got.null_count == want.null_count and got.type == want.type


@pytest.mark.parametrize(
    "kind,value", [("i", 2**63), ("i", True), ("i", 1.0), ("f", 1), ("s", b"x"), ("s", 5), ("b", 1), ("s", "\ud800")]
)
def test_values_pyarrow_must_judge_are_left_to_it(kind, value):
    assert normalize._build_columns([("ok" if kind == "s" else None,), (value,)], kind) is None


def test_every_fixture_batch_built_in_c_equals_pyarrows(monkeypatch):
    import pyarrow as pa

    for f in sorted(CAPTURED.rglob("*.jsonl")) + sorted(SAMPLES.glob("*.jsonl*")):
        for unit in plan(str(f), False):
            b = decode_unit(unit, Mapping())
            if not len(b):
                continue
            with_c = b.span_record_batch()
            with monkeypatch.context() as m:
                m.setattr(normalize, "_build_columns", None)
                in_pyarrow = b.span_record_batch()
            with_c.validate(full=True)
            assert with_c.schema == in_pyarrow.schema
            assert with_c.equals(in_pyarrow), f
            assert isinstance(with_c.column("attributes").type, pa.BaseExtensionType)


# --------------------------------------------------------------------------- mypyc-compiled normalize

_FIXTURE_BATCHES = """
import sys
from pathlib import Path
import pyarrow as pa
from llmscope import _native as native
from llmscope.normalize.builder import Mapping
from llmscope.ingest.readers import decode_unit, plan
out = Path(sys.argv[1])
for i, f in enumerate(sys.argv[2:]):
    for j, unit in enumerate(plan(f, False)):
        b = decode_unit(unit, Mapping())
        for kind, batch in (("spans", b.span_record_batch()), ("logs", b.log_record_batch())):
            with pa.OSFile(str(out / f"{i}-{j}-{kind}.arrow"), "wb") as sink, pa.ipc.new_file(sink, batch.schema) as w:
                w.write_batch(batch)
print(native.compiled("normalize.builder"))
"""


def test_compiled_and_plain_ingest_give_identical_batches(tmp_path):
    """Every fixture decoded and normalized with all compiled parts, and with none
    (LLMSCOPE_PURE_PYTHON=1: plain Python normalize, Python decoders, pyarrow conversion): the same
    Arrow batches, byte for byte in value."""
    import os
    import subprocess
    import sys

    import pyarrow as pa

    files = [str(f) for f in sorted(CAPTURED.rglob("*.jsonl")) + sorted(SAMPLES.glob("*.jsonl*"))]
    runs = {}
    for name, pure in (("compiled", "0"), ("plain", "1")):
        d = tmp_path / name
        d.mkdir()
        proc = subprocess.run(
            [sys.executable, "-c", _FIXTURE_BATCHES, str(d), *files],
            capture_output=True,
            text=True,
            env={**os.environ, "LLMSCOPE_PURE_PYTHON": pure},
        )
        assert proc.returncode == 0, proc.stderr[-2000:]
        runs[name] = (d, proc.stdout.strip())
    assert runs["plain"][1] == "False"
    if runs["compiled"][1] != "True":
        if MYPYC_REQUIRED:
            pytest.fail("LLMSCOPE_REQUIRE_NATIVE=1 LLMSCOPE_MYPYC=1 but normalize/builder.py was not compiled")
        pytest.skip("normalize/builder.py was not compiled with mypyc in this install (LLMSCOPE_MYPYC=1 asks)")
    names = sorted(p.name for p in runs["plain"][0].iterdir())
    assert names == sorted(p.name for p in runs["compiled"][0].iterdir()) and len(names) > 20
    for n in names:
        a, b = (pa.ipc.open_file(pa.memory_map(str(runs[k][0] / n))).get_batch(0) for k in ("compiled", "plain"))
        assert a.equals(b), n


def test_an_edited_source_runs_instead_of_its_stale_compiled_module(tmp_path):
    """After an edit of normalize.py in an editable install, the package imports the .py (the
    compiled module was built from other source) instead of running stale code."""
    import json
    import os
    import shutil
    import subprocess
    import sys

    import llmscope

    pkg = Path(llmscope.__file__).parent
    if not (pkg / "_native" / "compiled.json").exists():
        if MYPYC_REQUIRED:
            pytest.fail("LLMSCOPE_REQUIRE_NATIVE=1 LLMSCOPE_MYPYC=1 but nothing was compiled from Python source")
        pytest.skip("nothing compiled from Python source in this install (LLMSCOPE_MYPYC=1 asks)")
    copy = tmp_path / "llmscope"
    shutil.copytree(pkg, copy, ignore=shutil.ignore_patterns("__pycache__"))
    probe = [sys.executable, "-c", "import llmscope.normalize.builder as n; print(n.__file__)"]
    env = {**os.environ, "PYTHONPATH": str(tmp_path), "LLMSCOPE_PURE_PYTHON": "0"}

    def runs() -> str:
        out = subprocess.run(probe, capture_output=True, text=True, env=env, cwd=tmp_path)
        assert out.returncode == 0, out.stderr[-2000:]
        return Path(out.stdout.strip()).name

    assert runs() != "builder.py"  # as built: the compiled module
    with open(copy / "normalize" / "builder.py", "a") as f:
        f.write("\n# edited after the build\n")
    assert runs() == "builder.py"
    # the digest it compared with
    assert json.loads((copy / "_native" / "compiled.json").read_text())["normalize.builder"]
