"""OTLP encodings: typed JSON decoding, lenient dict decoding, protobuf, and id/time/AnyValue traps.

Every decoder here ends in the same place: a call to ``sink.add_span(...)`` or
``sink.add_log(...)`` with plain Python values (hex ids, int nanoseconds, attribute dicts).
Dialect knowledge lives in :mod:`llmscope.normalize.dialects`, not here.

Encoding traps handled (OTLP spec, "JSON Protobuf Encoding"):

* ids are hex in OTLP/JSON but base64 in the generic protobuf JSON mapping; ``0x`` prefixes
  appear in the OTel SDK's ``to_json`` output; upper case is legal;
* 64-bit integers (times, ``intValue``) are decimal strings, or numbers;
* ``doubleValue`` may be ``"NaN"``/``"Infinity"`` strings;
* enums are integers in OTLP/JSON, names in some exporters (``SpanKind.CLIENT``, ``STATUS_CODE_ERROR``).
"""

from __future__ import annotations

import base64
import binascii
import math
import re
from datetime import UTC, datetime
from typing import Any, Protocol

import msgspec

from .._native import accelerator

# --------------------------------------------------------------------------- typed OTLP/JSON


class ArrayValue(msgspec.Struct, gc=False):
    values: list[AnyValue] = []


class KeyValueList(msgspec.Struct, gc=False):
    values: list[KeyValue] = []


class AnyValue(msgspec.Struct, gc=False):
    stringValue: str | None = None
    intValue: int | str | None = None
    doubleValue: float | str | None = None
    boolValue: bool | None = None
    arrayValue: ArrayValue | None = None
    kvlistValue: KeyValueList | None = None
    bytesValue: str | None = None


class KeyValue(msgspec.Struct, gc=False):
    key: str
    value: AnyValue | None = None


class Status(msgspec.Struct, gc=False):
    code: int | str = 0
    message: str = ""


class Event(msgspec.Struct, gc=False):
    name: str = ""
    timeUnixNano: int | str = 0
    attributes: list[KeyValue] = []


class Span(msgspec.Struct, gc=False):
    traceId: str = ""
    spanId: str = ""
    parentSpanId: str = ""
    name: str = ""
    kind: int | str = 0
    startTimeUnixNano: int | str = 0
    endTimeUnixNano: int | str = 0
    attributes: list[KeyValue] = []
    events: list[Event] = []
    status: Status | None = None


class Scope(msgspec.Struct, gc=False):
    name: str = ""
    version: str = ""


class Resource(msgspec.Struct, gc=False):
    attributes: list[KeyValue] = []


class ScopeSpans(msgspec.Struct, gc=False):
    scope: Scope | None = None
    spans: list[Span] = []


class ResourceSpans(msgspec.Struct, gc=False):
    resource: Resource | None = None
    scopeSpans: list[ScopeSpans] = []
    # OTLP before 0.15 called it instrumentationLibrarySpans; old files still exist.
    instrumentationLibrarySpans: list[ScopeSpans] = []


class LogRecord(msgspec.Struct, gc=False):
    timeUnixNano: int | str = 0
    observedTimeUnixNano: int | str = 0
    traceId: str = ""
    spanId: str = ""
    eventName: str = ""
    severityText: str = ""
    body: AnyValue | None = None
    attributes: list[KeyValue] = []


class ScopeLogs(msgspec.Struct, gc=False):
    scope: Scope | None = None
    logRecords: list[LogRecord] = []


class ResourceLogs(msgspec.Struct, gc=False):
    resource: Resource | None = None
    scopeLogs: list[ScopeLogs] = []


class ExportRequest(msgspec.Struct, gc=False):
    """Either an ExportTraceServiceRequest or an ExportLogsServiceRequest (or both, leniently)."""

    resourceSpans: list[ResourceSpans] | None = None
    resourceLogs: list[ResourceLogs] | None = None


REQUEST_DECODER = msgspec.json.Decoder(ExportRequest)


# decode_request(line) -> (span tuples, log tuples) in exactly the form emit_typed passes to a
# sink, or None for anything but the canonical encoding (that line takes the Python path).
NATIVE_DECODE = accelerator("otlp", "decode_request")
# decode_trace_protobuf(message) -> (span tuples, []) exactly as _emit_proto_traces gives them,
# or None (logs requests, anything unusual, bad records: the Python path).
NATIVE_DECODE_PB = accelerator("otlp", "decode_trace_protobuf")


class Sink(Protocol):
    def add_span(
        self,
        trace_id: str,
        span_id: str,
        parent_span_id: str | None,
        name: str,
        kind: int,
        start_ns: int,
        end_ns: int,
        status_code: int,
        status_message: str,
        attrs: dict[str, Any],
        events: list[tuple[str, int, dict[str, Any]]],
        resource: dict[str, Any],
        scope_name: str,
    ) -> None: ...

    def add_log(
        self,
        trace_id: str | None,
        span_id: str | None,
        time_ns: int,
        event_name: str,
        body: Any,
        attrs: dict[str, Any],
        resource: dict[str, Any],
    ) -> None: ...

    def bad(self, reason: str) -> None: ...


class BadRecord(ValueError):
    """A record we cannot use; the message says why in one line."""


# What handing one span or log record to a sink may raise for that record alone: every emitter
# reports it with ``sink.bad`` and goes on with the next record.
# Beyond BadRecord, these are what a value of the wrong type or size raises deep in normalize (a list
# where a text belongs: TypeError/AttributeError; 1e400: OverflowError; nesting: RecursionError).
RECORD_ERRORS = (BadRecord, ValueError, TypeError, AttributeError, KeyError, IndexError, OverflowError, RecursionError)


def record_error(e: BaseException) -> str:
    """One line saying why a record was refused: a BadRecord's own text; for anything else raised
    while normalizing it, what it was (its first line: a value's repr can be long)."""
    text = str(e).splitlines()[0][:200] if str(e) else ""
    if type(e) in (BadRecord, ValueError, TypeError) and text:
        return text
    return f"not a usable record ({type(e).__name__}{': ' + text if text else ''})"


# --------------------------------------------------------------------------- value decoding


def any_value(v: AnyValue | None) -> Any:
    """Typed AnyValue -> plain Python value (bytes become base64 text, as in OTLP/JSON)."""
    if v is None:
        return None
    if v.stringValue is not None:
        return v.stringValue
    if v.intValue is not None:
        return int(v.intValue)
    if v.doubleValue is not None:
        return float(v.doubleValue)
    if v.boolValue is not None:
        return v.boolValue
    if v.arrayValue is not None:
        return [any_value(x) for x in v.arrayValue.values]
    if v.kvlistValue is not None:
        return {kv.key: any_value(kv.value) for kv in v.kvlistValue.values}
    if v.bytesValue is not None:
        return v.bytesValue
    return None


def attrs_dict(kvs: list[KeyValue]) -> dict[str, Any]:
    # Hot loop of ingest: string values are the common case, so test them first.
    out: dict[str, Any] = {}
    for kv in kvs:
        v = kv.value
        if v is not None and v.stringValue is not None:
            out[kv.key] = v.stringValue
        else:
            out[kv.key] = any_value(v)
    return out


_ANY_KEYS = ("stringValue", "intValue", "doubleValue", "boolValue", "arrayValue", "kvlistValue", "bytesValue")


def any_value_dict(v: Any) -> Any:
    """Lenient AnyValue decoding from a JSON dict (also accepts snake_case keys and bare values)."""
    if not isinstance(v, dict):
        return v
    for key in _ANY_KEYS:
        if key in v:
            x = v[key]
            break
        snake = _SNAKE[key]
        if snake in v:
            x, key = v[snake], key
            break
    else:
        return None
    if key == "intValue":
        return _int_value(x)
    if key == "doubleValue":
        return float(x)
    if key == "arrayValue":
        return [any_value_dict(e) for e in (x or {}).get("values", [])]
    if key == "kvlistValue":
        return attrs_from_json((x or {}).get("values", []))
    return x


def _int_value(x: Any) -> int:
    """An ``intValue``: an integer, or its decimal text (OTLP/JSON); a float only if it is a whole number."""
    if type(x) is float and not math.isfinite(x):
        raise BadRecord(f"intValue {x!r} is not an integer")
    return int(x)


_SNAKE = {k: "".join("_" + c.lower() if c.isupper() else c for c in k) for k in _ANY_KEYS}


def attrs_from_json(a: Any) -> dict[str, Any]:
    """Attributes as an OTLP list of {key, value}, or already a flat mapping."""
    if a is None:
        return {}
    if isinstance(a, dict):
        return dict(a)
    if not isinstance(a, list):
        raise BadRecord(f"attributes must be a list or an object, got {type(a).__name__}")
    out = {}
    for kv in a:
        if not isinstance(kv, dict) or "key" not in kv:
            raise BadRecord("attribute without a key")
        out[kv["key"]] = any_value_dict(kv.get("value"))
    return out


def norm_id(raw: Any, nbytes: int) -> str | None:
    """An OTLP id as lower-case hex; accepts hex (any case, 0x prefix) and base64. None if absent/zero."""
    if raw is None or raw == "":
        return None
    if isinstance(raw, bytes):
        h = raw.hex()
    else:
        s = str(raw).strip()
        if s.startswith(("0x", "0X")):
            s = s[2:]
        if len(s) == 2 * nbytes:
            h = s.lower()
            if not is_hex(h):  # not int(h, 16): that takes "+", "_" and non-ASCII digits
                raise BadRecord(f"id {s!r} is not hex") from None
        else:
            try:
                b = base64.b64decode(s, validate=True)
            except (binascii.Error, ValueError):
                raise BadRecord(f"id {s!r} is neither {2 * nbytes}-digit hex nor base64") from None
            if len(b) != nbytes:
                raise BadRecord(f"id {s!r} decodes to {len(b)} bytes, expected {nbytes}")
            h = b.hex()
    if h.strip("0") == "":
        return None
    return h


_ZERO_IDS = frozenset(("0" * 32, "0" * 16))
HEX_DIGITS = "0123456789abcdef"


def is_hex(s: str) -> bool:
    """Only lower-case hex digits (the rule of every id path: this one, norm_id, and ``_native/otlp.c``)."""
    return not s.strip(HEX_DIGITS)  # strip stops at the first other character from either end


def hex_id(raw: str, nbytes: int) -> str | None:
    """Fast path for ids that are almost always already lower-case hex of the right length; any
    other spelling (upper case, ``0x``, base64) or a wrong value goes to :func:`norm_id`."""
    if len(raw) == 2 * nbytes and not raw.strip(HEX_DIGITS) and raw not in _ZERO_IDS:
        return raw
    return norm_id(raw, nbytes)


def to_ns(raw: Any) -> int:
    """Unix nanoseconds from an int, a decimal string, or an ISO-8601 timestamp (flat exports)."""
    if type(raw) is str and raw.isdigit():  # OTLP/JSON's int64-as-string: the common case
        return int(raw)
    if raw is None or raw == "":
        return 0
    if isinstance(raw, bool):
        raise BadRecord("time is a boolean")
    if isinstance(raw, int):
        return raw
    if isinstance(raw, float):
        if not math.isfinite(raw):
            raise BadRecord(f"time {raw!r} is not Unix nanoseconds")
        return int(raw)
    s = str(raw).strip()
    if s.isdigit():
        return int(s)
    return iso_to_ns(s)


_ISO_FRACTION = re.compile(r"\.(\d+)")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def iso_to_ns(s: str) -> int:
    """ISO-8601 -> Unix ns, keeping nanosecond fractions that datetime cannot hold."""
    frac_ns = 0
    m = _ISO_FRACTION.search(s)
    if m:
        digits = m.group(1)
        frac_ns = int(digits[:9].ljust(9, "0"))
        s = s[: m.start()] + s[m.end() :]
    try:
        dt = datetime.fromisoformat(s.replace("Z", "+00:00"))
    except ValueError:
        raise BadRecord(f"time {s!r} is neither Unix nanoseconds nor ISO-8601") from None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    d = dt - _EPOCH
    return (d.days * 86_400 + d.seconds) * 1_000_000_000 + frac_ns


_KIND_NAMES = {"UNSPECIFIED": 0, "INTERNAL": 1, "SERVER": 2, "CLIENT": 3, "PRODUCER": 4, "CONSUMER": 5}
_STATUS_NAMES = {"UNSET": 0, "OK": 1, "ERROR": 2}


def enum_value(raw: Any, names: dict[str, int]) -> int:
    if isinstance(raw, int):
        return raw
    if raw is None or raw == "":
        return 0
    s = str(raw).upper().rsplit(".", 1)[-1]  # SpanKind.CLIENT, StatusCode.ERROR
    for prefix in ("SPAN_KIND_", "STATUS_CODE_"):
        if s.startswith(prefix):
            s = s[len(prefix) :]
    if s.isdigit():
        return int(s)
    if s not in names:
        raise BadRecord(f"unknown enum value {raw!r}")
    return names[s]


def kind_value(raw: Any) -> int:
    return enum_value(raw, _KIND_NAMES)


def status_value(raw: Any) -> int:
    return enum_value(raw, _STATUS_NAMES)


# --------------------------------------------------------------------------- typed request walk


def emit_typed(req: ExportRequest, sink: Sink) -> None:
    """Walk a typed export request; a span that fails its checks is reported and skipped."""
    for rs in req.resourceSpans or ():
        resource = attrs_dict(rs.resource.attributes) if rs.resource else {}
        for ss in rs.scopeSpans or rs.instrumentationLibrarySpans:
            scope_name = ss.scope.name if ss.scope else ""
            for sp in ss.spans:
                try:
                    trace_id = hex_id(sp.traceId, 16)
                    span_id = hex_id(sp.spanId, 8)
                    if trace_id is None or span_id is None:
                        raise BadRecord(f"span {sp.name!r} has no trace id or span id")
                    parent = hex_id(sp.parentSpanId, 8) if sp.parentSpanId else None
                    st = sp.status
                    events = (
                        [(e.name, to_ns(e.timeUnixNano), attrs_dict(e.attributes)) for e in sp.events]
                        if sp.events
                        else []
                    )
                    sink.add_span(
                        trace_id,
                        span_id,
                        parent,
                        sp.name,
                        kind_value(sp.kind),
                        to_ns(sp.startTimeUnixNano),
                        to_ns(sp.endTimeUnixNano),
                        status_value(st.code) if st else 0,
                        st.message if st else "",
                        attrs_dict(sp.attributes),
                        events,
                        resource,
                        scope_name,
                    )
                except RECORD_ERRORS as e:
                    sink.bad(record_error(e))
    for rl in req.resourceLogs or ():
        resource = attrs_dict(rl.resource.attributes) if rl.resource else {}
        for sl in rl.scopeLogs:
            for lr in sl.logRecords:
                try:
                    attrs = attrs_dict(lr.attributes)
                    sink.add_log(
                        hex_id(lr.traceId, 16) if lr.traceId else None,
                        hex_id(lr.spanId, 8) if lr.spanId else None,
                        to_ns(lr.timeUnixNano) or to_ns(lr.observedTimeUnixNano),
                        lr.eventName or str(attrs.get("event.name") or ""),
                        any_value(lr.body),
                        attrs,
                        resource,
                    )
                except RECORD_ERRORS as e:
                    sink.bad(record_error(e))


def emit_native(decoded: tuple[list[tuple], list[tuple]], sink: Sink) -> None:
    """Hand what ``NATIVE_DECODE`` returned to a sink, with emit_typed's per-record error handling."""
    spans, logs = decoded
    for span in spans:
        try:
            sink.add_span(*span)
        except RECORD_ERRORS as e:
            sink.bad(record_error(e))
    for log in logs:
        try:
            sink.add_log(*log)
        except RECORD_ERRORS as e:
            sink.bad(record_error(e))


# --------------------------------------------------------------------------- lenient dict walk


def _get(d: dict, *keys: str, default: Any = None) -> Any:
    for k in keys:
        if k in d:
            return d[k]
    return default


def emit_request_dict(obj: dict, sink: Sink) -> None:
    """Lenient walk of an export request decoded as dicts (camelCase or snake_case keys)."""
    rss = _get(obj, "resourceSpans", "resource_spans", default=[]) or []
    if not isinstance(rss, list):
        raise BadRecord("resourceSpans is not a list")
    for rs in rss:
        if not isinstance(rs, dict):
            sink.bad("resourceSpans entry is not an object")
            continue
        try:
            resource = attrs_from_json((rs.get("resource") or {}).get("attributes"))
        except BadRecord as e:
            sink.bad(f"resource: {e}")
            resource = {}
        for ss in _get(rs, "scopeSpans", "scope_spans", "instrumentationLibrarySpans", default=[]) or []:
            scope = _get(ss, "scope", "instrumentationLibrary", default={}) or {}
            for sp in ss.get("spans") or []:
                emit_otlp_span_dict(sp, resource, scope.get("name", ""), sink)
    for rl in _get(obj, "resourceLogs", "resource_logs", default=[]) or []:
        try:
            resource = attrs_from_json((rl.get("resource") or {}).get("attributes"))
        except BadRecord:
            resource = {}
        for sl in _get(rl, "scopeLogs", "scope_logs", default=[]) or []:
            for lr in _get(sl, "logRecords", "log_records", default=[]) or []:
                try:
                    attrs = attrs_from_json(lr.get("attributes"))
                    sink.add_log(
                        norm_id(_get(lr, "traceId", "trace_id"), 16),
                        norm_id(_get(lr, "spanId", "span_id"), 8),
                        to_ns(_get(lr, "timeUnixNano", "time_unix_nano"))
                        or to_ns(_get(lr, "observedTimeUnixNano", "observed_time_unix_nano")),
                        _get(lr, "eventName", "event_name", default="") or str(attrs.get("event.name") or ""),
                        any_value_dict(lr.get("body")),
                        attrs,
                        resource,
                    )
                except RECORD_ERRORS as e:
                    sink.bad(f"log record: {record_error(e)}")


def emit_otlp_span_dict(sp: Any, resource: dict, scope_name: str, sink: Sink) -> None:
    try:
        if not isinstance(sp, dict):
            raise BadRecord("span is not an object")
        trace_id = norm_id(_get(sp, "traceId", "trace_id"), 16)
        span_id = norm_id(_get(sp, "spanId", "span_id"), 8)
        if trace_id is None or span_id is None:
            raise BadRecord(f"span {sp.get('name')!r} has no trace id or span id")
        status = sp.get("status") or {}
        if not isinstance(status, dict):
            raise BadRecord("status is not an object")
        events = []
        for e in sp.get("events") or []:
            events.append(
                (
                    e.get("name", ""),
                    to_ns(_get(e, "timeUnixNano", "time_unix_nano")),
                    attrs_from_json(e.get("attributes")),
                )
            )
        name = sp.get("name", "")
        if not isinstance(name, str):
            raise BadRecord("span name is not a string")
        sink.add_span(
            trace_id,
            span_id,
            norm_id(_get(sp, "parentSpanId", "parent_span_id"), 8),
            name,
            kind_value(sp.get("kind")),
            to_ns(_get(sp, "startTimeUnixNano", "start_time_unix_nano")),
            to_ns(_get(sp, "endTimeUnixNano", "end_time_unix_nano")),
            status_value(status.get("code")),
            str(status.get("message") or ""),
            attrs_from_json(sp.get("attributes")),
            events,
            resource,
            scope_name,
        )
    except RECORD_ERRORS as e:
        sink.bad(record_error(e))


def emit_flat_span(sp: dict, sink: Sink) -> None:
    """One span object per line, as flat exports write them.

    Accepts the OTel SDK's ``span.to_json()`` shape (``context.trace_id`` with ``0x``,
    ISO times, ``SpanKind.CLIENT``, ``status.status_code``), and snake_case or camelCase
    top-level ids with an ``attributes`` mapping.
    """
    try:
        ctx = sp.get("context") if isinstance(sp.get("context"), dict) else {}
        trace_id = norm_id(_get(sp, "trace_id", "traceId", default=None) or ctx.get("trace_id"), 16)
        span_id = norm_id(_get(sp, "span_id", "spanId", default=None) or ctx.get("span_id"), 8)
        if trace_id is None or span_id is None:
            raise BadRecord(f"span {sp.get('name')!r} has no trace id or span id")
        parent = norm_id(_get(sp, "parent_span_id", "parentSpanId", "parent_id", default=None), 8)
        start = to_ns(_get(sp, "start_time_unix_nano", "startTimeUnixNano", "start_time", "startTime"))
        end_raw = _get(sp, "end_time_unix_nano", "endTimeUnixNano", "end_time", "endTime")
        if end_raw is None and "duration_ms" in sp:
            end = start + int(float(sp["duration_ms"]) * 1_000_000)
        else:
            end = to_ns(end_raw)
        status = sp.get("status")
        if isinstance(status, dict):
            code = status_value(_get(status, "code", "status_code"))
            msg = str(_get(status, "message", "description", default="") or "")
        else:
            code, msg = status_value(status), ""
        res = sp.get("resource")
        if isinstance(res, dict):
            resource = attrs_from_json(res.get("attributes", res))
        else:
            resource = attrs_from_json(sp.get("resource_attributes") or sp.get("resourceAttributes"))
        if "service_name" in sp and "service.name" not in resource:
            resource["service.name"] = sp["service_name"]
        events = []
        for e in sp.get("events") or []:
            events.append(
                (
                    e.get("name", ""),
                    to_ns(_get(e, "timestamp", "time", "timeUnixNano", "time_unix_nano")),
                    attrs_from_json(e.get("attributes")),
                )
            )
        scope = sp.get("instrumentation_scope") or sp.get("scope") or {}
        sink.add_span(
            trace_id,
            span_id,
            parent,
            str(sp.get("name", "")),
            kind_value(_get(sp, "kind", "span_kind")),
            start,
            end,
            code,
            msg,
            attrs_from_json(sp.get("attributes")),
            events,
            resource,
            scope.get("name", "") if isinstance(scope, dict) else str(scope),
        )
    except RECORD_ERRORS as e:
        sink.bad(record_error(e))


def emit_json_object(obj: Any, sink: Sink) -> None:
    """Dispatch one decoded JSON value: an export request, a flat span, or a list of either."""
    if isinstance(obj, list):
        for x in obj:
            emit_json_object(x, sink)
    elif not isinstance(obj, dict):
        sink.bad(f"expected a JSON object, got {type(obj).__name__}")
    elif any(k in obj for k in ("resourceSpans", "resource_spans", "resourceLogs", "resource_logs")):
        emit_request_dict(obj, sink)
    elif "data" in obj and isinstance(obj["data"], list):  # Jaeger-like wrappers are not OTLP; say so
        sink.bad("JSON object with 'data' list is not OTLP (Jaeger export?)")
    else:
        emit_flat_span(obj, sink)


# --------------------------------------------------------------------------- protobuf


def emit_protobuf(data: bytes, sink: Sink, native=NATIVE_DECODE_PB) -> None:
    """One ExportTraceServiceRequest (or ExportLogsServiceRequest) in protobuf bytes."""
    if native is not None and (decoded := native(data)) is not None:
        emit_native(decoded, sink)
        return
    from google.protobuf.message import DecodeError
    from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

    try:
        req = ExportTraceServiceRequest.FromString(data)
    except DecodeError as e:
        req, trace_error = None, e
    if req is not None and req.resource_spans:
        _emit_proto_traces(req, sink)
        return
    # not a trace request (or not a valid one): it may be a logs request
    try:
        logs = ExportLogsServiceRequest.FromString(data)
    except DecodeError:
        if req is None:
            raise BadRecord(f"not an OTLP protobuf message: {trace_error}") from None
        return
    _emit_proto_logs(logs, sink)


def _pb_any(v: Any) -> Any:
    which = v.WhichOneof("value")
    if which is None:
        return None
    if which == "array_value":
        return [_pb_any(x) for x in v.array_value.values]
    if which == "kvlist_value":
        return {kv.key: _pb_any(kv.value) for kv in v.kvlist_value.values}
    if which == "bytes_value":
        return base64.b64encode(v.bytes_value).decode()
    return getattr(v, which)


def _pb_attrs(kvs: Any) -> dict[str, Any]:
    out = {}
    for kv in kvs:  # string values are the common case: no call for them
        v = kv.value
        out[kv.key] = v.string_value if v.WhichOneof("value") == "string_value" else _pb_any(v)
    return out


def _emit_proto_traces(req: Any, sink: Sink) -> None:
    for rs in req.resource_spans:
        resource = _pb_attrs(rs.resource.attributes)
        for ss in rs.scope_spans:
            for sp in ss.spans:
                trace_id = sp.trace_id.hex() if sp.trace_id.strip(b"\0") else None
                span_id = sp.span_id.hex() if sp.span_id.strip(b"\0") else None
                if trace_id is None or span_id is None or len(sp.trace_id) != 16 or len(sp.span_id) != 8:
                    sink.bad(f"span {sp.name!r} has no valid trace id or span id")
                    continue
                parent = sp.parent_span_id.hex() if sp.parent_span_id.strip(b"\0") else None
                events = [(e.name, e.time_unix_nano, _pb_attrs(e.attributes)) for e in sp.events]
                try:
                    sink.add_span(
                        trace_id,
                        span_id,
                        parent,
                        sp.name,
                        sp.kind,
                        sp.start_time_unix_nano,
                        sp.end_time_unix_nano,
                        sp.status.code,
                        sp.status.message,
                        _pb_attrs(sp.attributes),
                        events,
                        resource,
                        ss.scope.name,
                    )
                except RECORD_ERRORS as e:  # the other spans of the message still land
                    sink.bad(record_error(e))


def _emit_proto_logs(req: Any, sink: Sink) -> None:
    for rl in req.resource_logs:
        resource = _pb_attrs(rl.resource.attributes)
        for sl in rl.scope_logs:
            for lr in sl.log_records:
                attrs = _pb_attrs(lr.attributes)
                try:
                    sink.add_log(
                        lr.trace_id.hex() if lr.trace_id.strip(b"\0") else None,
                        lr.span_id.hex() if lr.span_id.strip(b"\0") else None,
                        lr.time_unix_nano or lr.observed_time_unix_nano,
                        getattr(lr, "event_name", "") or str(attrs.get("event.name") or ""),
                        _pb_any(lr.body),
                        attrs,
                        resource,
                    )
                except RECORD_ERRORS as e:
                    sink.bad(record_error(e))
