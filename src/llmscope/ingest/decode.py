"""One decode path: a body of bytes -> normalized rows in a :class:`~llmscope.normalize.builder.Batch`.

``llmscope ingest`` (a piece of a file) and ``llmscope collect`` (an OTLP/HTTP or OTLP/gRPC request,
here or replayed from the spool) both call :func:`decode`; it owns the cascade every body goes
through and the texts of its errors:

1. the C decoder (canonical OTLP/JSON and protobuf trace requests), which hands anything unusual back;
2. typed msgspec decoding of an export request (the fast Python path);
3. lenient decoding as dicts (snake_case keys, flat spans, wrong types), record by record.

Forms of a body:

* ``lines``: JSON lines, each an export request or a flat span (the Collector's file exporter);
* ``document``: one JSON value (request, flat span, or a list of them), or objects one after another;
* ``protobuf``: one export request (traces or logs, either), or a length-prefixed stream of them;
* ``otlp-json`` / ``otlp-protobuf``: exactly one export request of ``signal`` (``traces`` or
  ``logs``), as OTLP/HTTP and OTLP/gRPC carry it.

In the file forms a record (a line, a message) that does not decode is a bad record in the batch
(``batch.bad``: counted, with its line) and decoding goes on. In the request forms a body that is not
an export request at all raises :class:`BadBody` (the collector answers 400 / INVALID_ARGUMENT); bad
spans inside a good request are bad records (the collector answers with ``partial_success``).

``encoding`` ``gzip`` or ``deflate``: inflated first, never to more than ``max_inflated`` bytes
(:class:`TooLarge` beyond: a gzip bomb is refused, not unpacked).
"""

from __future__ import annotations

import struct
import zlib

import msgspec
import orjson

from ..normalize.builder import Batch
from . import otlp

LINES, DOCUMENT, PROTOBUF = "lines", "document", "protobuf"
OTLP_JSON, OTLP_PROTOBUF = "otlp-json", "otlp-protobuf"
FORMS = (LINES, DOCUMENT, PROTOBUF, OTLP_JSON, OTLP_PROTOBUF)
TRACES, LOGS = "traces", "logs"
ENCODINGS = ("identity", "gzip", "x-gzip", "deflate")

# Python's decoders give up on deep nesting with RecursionError, not a decode error (seen: a value
# nested 3,000 arrays deep ended an ingest with a traceback).
TOO_DEEP = "malformed JSON: nested too deeply"

# What walking one decoded JSON value may raise when its shape is wrong in a way no emitter checks
# (a null or a list where an object belongs, an unhashable key, a number beyond any float): the
# value is one bad record, never the end of the input.
_SHAPE_ERRORS = (otlp.BadRecord, ValueError, TypeError, AttributeError, OverflowError, RecursionError)


class BadBody(ValueError):
    """A request body that is not an export request of its signal at all (one line, says why)."""


class TooLarge(ValueError):
    """A body that inflates to more than allowed."""


def decode(
    data: bytes | bytearray | memoryview,
    batch: Batch,
    form: str,
    *,
    signal: str = TRACES,
    encoding: str = "identity",
    max_inflated: int | None = None,
    from_directory: bool = False,
) -> Batch:
    """Decode ``data`` into ``batch`` (normalized on the way) and return it; see the module docstring.

    ``from_directory`` (``document``): a JSON document that is not a trace file is noted as skipped
    (``batch.skipped_note``) rather than reported as a bad record."""
    if encoding not in ("identity", ""):
        data = inflate(data, encoding, max_inflated)
    elif max_inflated is not None and len(data) > max_inflated:
        raise TooLarge(f"body of {len(data):,} bytes is over the {max_inflated:,}-byte limit")
    if form == LINES:
        _lines(data, batch)
    elif form == DOCUMENT:
        _document(bytes(data), batch, from_directory)
    elif form == PROTOBUF:
        _protobuf_file(bytes(data), batch)
    elif form == OTLP_JSON:
        batch.line = 1
        _export_json(bytes(data), batch)
    elif form == OTLP_PROTOBUF:
        batch.line = 1
        _export_protobuf(bytes(data), batch, signal)
    else:
        raise ValueError(f"unknown form {form!r} (one of {', '.join(FORMS)})")
    batch.line_count = batch.line
    return batch


def inflate(data: bytes | bytearray | memoryview, encoding: str, cap: int | None) -> bytes:
    """Decompress gzip/deflate without ever holding more than ``cap`` bytes of output."""
    cap = cap if cap is not None else 1 << 62
    if encoding not in ("gzip", "x-gzip", "deflate"):
        raise BadBody(f"unsupported content encoding {encoding!r} (gzip, deflate or none)")
    wbits = 31 if encoding in ("gzip", "x-gzip") else 15
    out = bytearray()
    d = zlib.decompressobj(wbits)
    buf = bytes(data)
    while True:
        try:
            chunk = d.decompress(buf, cap + 1 - len(out))
        except zlib.error as e:
            if wbits == 15 and not out:  # "deflate" sent raw, without the zlib header (it happens)
                wbits, d, buf = -15, zlib.decompressobj(-15), bytes(data)
                continue
            raise BadBody(f"corrupt {encoding} data ({e})") from None
        out += chunk
        if len(out) > cap:
            raise TooLarge(f"body decompresses to more than the {cap:,}-byte limit")
        if d.eof:
            rest = d.unused_data
            if wbits == 31 and rest.strip(b"\0"):  # another gzip member
                d, buf = zlib.decompressobj(wbits), rest
                continue
            return bytes(out)
        buf = d.unconsumed_tail
        if not buf and not chunk:
            raise BadBody(f"truncated {encoding} data")


def short(e: BaseException) -> str:
    """The first line of an exception's text, at most 200 characters."""
    return str(e).splitlines()[0][:200] if str(e) else type(e).__name__


# --------------------------------------------------------------------------- JSON lines


def _lines(data: bytes | memoryview, batch: Batch, native=otlp.NATIVE_DECODE) -> None:
    decode_typed = otlp.REQUEST_DECODER.decode
    # Lines are found with bytes.find and handed to the C decoder as views of ``data``: no copy of
    # each line (measured: data.split made ~5% of a worker's time); only the Python path copies one.
    if isinstance(data, memoryview):
        data = bytes(data)
    view = memoryview(data)
    find = data.find
    pos, end = 0, len(data)
    if not end:
        batch.line += 1  # an empty unit still counts one (empty) line, as it always did
    while pos < end:
        nl = find(b"\n", pos)
        if nl < 0:
            nl = end
        start, pos = pos, nl + 1
        batch.line += 1
        if nl == start:
            continue
        if native is not None:  # canonical OTLP/JSON in C; anything else falls through
            decoded = native(view[start:nl])
            if decoded is not None:
                otlp.emit_native(decoded, batch)
                continue
        line = data[start:nl]
        if line.isspace():
            continue
        try:
            req = decode_typed(line)
        except msgspec.ValidationError:
            req = None  # a wrong type somewhere: decode leniently and keep the good spans
        except msgspec.DecodeError as e:
            batch.bad(f"malformed JSON: {short(e)}")
            continue
        except RecursionError:
            batch.bad(TOO_DEEP)
            continue
        if req is not None and (req.resourceSpans is not None or req.resourceLogs is not None):
            try:
                otlp.emit_typed(req, batch)
            except _SHAPE_ERRORS as e:
                batch.bad(f"not an OTLP record: {short(e)}")
            continue
        try:
            obj = orjson.loads(line)
        except orjson.JSONDecodeError as e:
            batch.bad(f"malformed JSON: {short(e)}")
            continue
        _emit_value(obj, batch)


def _emit_value(obj: object, batch: Batch) -> None:
    """One decoded JSON value (export request, flat span, list of them); a wrong shape is one bad record."""
    try:
        otlp.emit_json_object(obj, batch)
    except _SHAPE_ERRORS as e:
        batch.bad(str(e) if isinstance(e, otlp.BadRecord) else f"not an OTLP record: {short(e)}")


# --------------------------------------------------------------------------- one JSON document


def _document(data: bytes, batch: Batch, from_directory: bool) -> None:
    batch.line = 1
    try:
        obj = orjson.loads(data)
    except orjson.JSONDecodeError as e:
        # maybe several pretty-printed objects one after another (the OTel SDK console exporter)
        objs, tail_error = _split_concatenated(data)
        if not objs:
            batch.bad(f"not JSON lines and not one JSON document: {short(e)}")
            return
        for line, o in objs:
            batch.line = line
            _emit_value(o, batch)
        if tail_error:
            batch.line, reason = tail_error
            batch.bad(reason)
        return
    if from_directory and isinstance(obj, dict) and not _is_trace_object(obj):
        batch.skipped_note = "not a trace file (no resourceSpans, resourceLogs or span ids)"
        return
    _emit_value(obj, batch)


_TRACE_KEYS = frozenset(
    ("resourceSpans", "resource_spans", "resourceLogs", "resource_logs", "trace_id", "traceId", "span_id", "spanId")
    + ("context",)
)


def _is_trace_object(obj: dict) -> bool:
    return not _TRACE_KEYS.isdisjoint(obj)


def _split_concatenated(data: bytes) -> tuple[list[tuple[int, object]], tuple[int, str] | None]:
    """Objects written one after another; returns them with their first line, and where decoding broke."""
    import json

    text = data.decode("utf-8", errors="replace")
    dec = json.JSONDecoder()
    pos, out = 0, []
    while True:
        while pos < len(text) and text[pos].isspace():
            pos += 1
        if pos >= len(text):
            return out, None
        line = text.count("\n", 0, pos) + 1
        try:
            obj, pos = dec.raw_decode(text, pos)
        except json.JSONDecodeError as e:
            return out, (line, f"malformed JSON: {e.msg}")
        except RecursionError:
            return out, (line, TOO_DEEP)
        out.append((line, obj))


# --------------------------------------------------------------------------- protobuf files


def _is_length_prefixed(data: bytes) -> bool:
    pos = 0
    n = len(data)
    if n < 4:
        return False
    while pos < n:
        if pos + 4 > n:
            return False
        (size,) = struct.unpack(">I", data[pos : pos + 4])
        pos += 4 + size
    return pos == n


def _protobuf_file(data: bytes, batch: Batch) -> None:
    messages = []
    if _is_length_prefixed(data):
        pos = 0
        while pos < len(data):
            (size,) = struct.unpack(">I", data[pos : pos + 4])
            messages.append(data[pos + 4 : pos + 4 + size])
            pos += 4 + size
    else:
        messages.append(data)
    for i, msg in enumerate(messages, 1):
        batch.line = i  # for protobuf, "line" is the message number
        try:
            otlp.emit_protobuf(msg, batch)
        except _SHAPE_ERRORS as e:
            batch.bad(str(e) if isinstance(e, otlp.BadRecord) else f"not an OTLP record: {short(e)}")


# --------------------------------------------------------------------------- one export request


def _export_json(body: bytes, batch: Batch) -> None:
    """One OTLP/JSON export request: the C decoder, then typed, then lenient; BadBody if it is none."""
    if otlp.NATIVE_DECODE is not None and (decoded := otlp.NATIVE_DECODE(body)) is not None:
        otlp.emit_native(decoded, batch)
        return
    try:
        req = otlp.REQUEST_DECODER.decode(body)
    except msgspec.ValidationError:
        req = None  # a wrong type somewhere: decode leniently and keep the good spans
    except msgspec.DecodeError as e:
        raise BadBody(f"malformed JSON: {short(e)}") from None
    except RecursionError:
        raise BadBody(TOO_DEEP) from None
    if req is not None and (req.resourceSpans is not None or req.resourceLogs is not None):
        try:
            otlp.emit_typed(req, batch)
        except _SHAPE_ERRORS as e:
            raise BadBody(f"not an OTLP export request: {short(e)}") from None
        return
    try:
        obj = orjson.loads(body)
    except orjson.JSONDecodeError as e:
        raise BadBody(f"malformed JSON: {short(e)}") from None
    except RecursionError:
        raise BadBody(TOO_DEEP) from None
    if not isinstance(obj, dict):
        raise BadBody(f"an OTLP/JSON export request is a JSON object, not {_json_kind(obj)}")
    if obj and not any(k in obj for k in ("resourceSpans", "resource_spans", "resourceLogs", "resource_logs")):
        raise BadBody("not an OTLP/JSON export request: no resourceSpans or resourceLogs (a flat span?)")
    try:
        otlp.emit_request_dict(obj, batch)
    except _SHAPE_ERRORS as e:
        raise BadBody(f"not an OTLP export request: {short(e)}") from None


def _json_kind(obj: object) -> str:
    return {list: "an array", str: "a string", bool: "a boolean", type(None): "null"}.get(type(obj), "a number")


def _export_protobuf(body: bytes, batch: Batch, signal: str) -> None:
    from google.protobuf.message import DecodeError

    try:
        if signal == LOGS:
            from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest

            otlp._emit_proto_logs(ExportLogsServiceRequest.FromString(body), batch)
        elif otlp.NATIVE_DECODE_PB is not None and (decoded := otlp.NATIVE_DECODE_PB(body)) is not None:
            otlp.emit_native(decoded, batch)  # decoded in C
        else:
            from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

            otlp._emit_proto_traces(ExportTraceServiceRequest.FromString(body), batch)
    except DecodeError as e:
        raise BadBody(f"not an OTLP protobuf {'logs' if signal == LOGS else 'trace'} export request: {e}") from None
    except _SHAPE_ERRORS as e:
        raise BadBody(f"not an OTLP export request: {short(e)}") from None


__all__ = ["decode", "inflate", "BadBody", "TooLarge", "FORMS", "LINES", "DOCUMENT", "PROTOBUF", "OTLP_JSON"]
__all__ += ["OTLP_PROTOBUF", "TRACES", "LOGS", "ENCODINGS", "TOO_DEEP"]
