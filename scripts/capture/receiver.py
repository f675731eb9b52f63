#!/usr/bin/env python3
"""Tiny OTLP/HTTP receiver and Collector-file-exporter converter.

serve (stdlib only):
    python3 receiver.py serve PORT RAW_DIR
  Accepts POST /v1/traces, /v1/logs and /v1/metrics (protobuf or JSON bodies, optional
  ``Content-Encoding: gzip``/``deflate``). Each decompressed body is appended to
  RAW_DIR/<signal>.bin as a 4-byte big-endian length followed by the body (JSON bodies go to
  RAW_DIR/<signal>.json.jsonl instead). Answers 200 with an empty protobuf response.

convert (needs ``opentelemetry-proto``):
    python receiver.py convert RAW_DIR OUT_DIR
  Writes, like the OpenTelemetry Collector file exporter does:
    traces.otlp.jsonl  one ExportTraceServiceRequest per line (``format: json``)
    logs.otlp.jsonl    one ExportLogsServiceRequest per line (only when logs were received)
    traces.pb          each ExportTraceServiceRequest prefixed by its 4-byte big-endian
                       length (``format: proto``)
  JSON follows the OTLP/JSON rules: lowerCamelCase keys, traceId/spanId/parentSpanId as
  lower-case hex (not base64), 64-bit integers as decimal strings, enums as integers,
  default values left out.
"""

from __future__ import annotations

import base64
import gzip
import json
import os
import struct
import sys
import threading
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

SIGNALS = {"/v1/traces": "traces", "/v1/logs": "logs", "/v1/metrics": "metrics"}


# --------------------------------------------------------------------------- serve


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    raw_dir = "."
    lock = threading.Lock()

    def log_message(self, fmt, *args):
        sys.stderr.write("otlp-receiver: " + (fmt % args) + "\n")

    def _reply(self, status: int, body: bytes = b"", ctype: str = "application/x-protobuf"):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if body:
            self.wfile.write(body)

    def do_GET(self):
        self._reply(200, b"ok", "text/plain")

    def _body(self) -> bytes:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            # the Node.js OTLP exporter (http.request without a Content-Length) sends chunked bodies
            out = []
            while True:
                size = int(self.rfile.readline().split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):  # trailers
                        pass
                    return b"".join(out)
                out.append(self.rfile.read(size))
                self.rfile.readline()  # the CRLF after each chunk
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def do_POST(self):
        signal = SIGNALS.get(self.path.split("?")[0].rstrip("/"))
        body = self._body()
        if signal is None:
            return self._reply(404, b"unknown path", "text/plain")
        enc = (self.headers.get("Content-Encoding") or "").lower()
        try:
            if enc == "gzip":
                body = gzip.decompress(body)
            elif enc == "deflate":
                body = zlib.decompress(body)
        except Exception as exc:  # noqa: BLE001
            return self._reply(400, f"bad {enc} body: {exc}".encode(), "text/plain")
        ctype = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        with self.lock:
            if ctype == "application/json":
                with open(os.path.join(self.raw_dir, f"{signal}.json.jsonl"), "ab") as f:
                    f.write(body.replace(b"\n", b" ") + b"\n")
                return self._reply(200, b"{}", "application/json")
            with open(os.path.join(self.raw_dir, f"{signal}.bin"), "ab") as f:
                f.write(struct.pack(">I", len(body)) + body)
        # An empty Export*ServiceResponse serialises to zero bytes.
        return self._reply(200, b"")


def serve(port: int, raw_dir: str) -> None:
    os.makedirs(raw_dir, exist_ok=True)
    _Handler.raw_dir = raw_dir
    srv = ThreadingHTTPServer(("127.0.0.1", port), _Handler)
    srv.daemon_threads = True
    sys.stderr.write(f"otlp-receiver listening on 127.0.0.1:{port}, writing to {raw_dir}\n")
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        srv.server_close()


# --------------------------------------------------------------------------- convert


def read_records(path: str):
    if not os.path.exists(path):
        return []
    out = []
    with open(path, "rb") as f:
        data = f.read()
    i = 0
    while i < len(data):
        (n,) = struct.unpack(">I", data[i : i + 4])
        out.append(data[i + 4 : i + 4 + n])
        i += 4 + n
    return out


_ID_KEYS = ("traceId", "spanId", "parentSpanId")


def _b64_to_hex(v: str) -> str:
    return base64.b64decode(v).hex()


def _fix_ids(obj):
    """Turn json_format's base64 ids into OTLP/JSON hex ids, recursively.

    Only traceId/spanId/parentSpanId are bytes fields that OTLP/JSON writes as hex; other bytes
    (AnyValue.bytesValue) stay base64, as in the Collector's output.
    """
    if isinstance(obj, dict):
        for k, v in list(obj.items()):
            if k in _ID_KEYS and isinstance(v, str):
                obj[k] = _b64_to_hex(v)
            else:
                _fix_ids(v)
    elif isinstance(obj, list):
        for v in obj:
            _fix_ids(v)
    return obj


def to_otlp_json(msg) -> dict:
    from google.protobuf import json_format

    d = json_format.MessageToDict(
        msg,
        preserving_proto_field_name=False,  # lowerCamelCase
        use_integers_for_enums=True,
    )
    return _fix_ids(d)


def convert(raw_dir: str, out_dir: str) -> dict:
    from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

    os.makedirs(out_dir, exist_ok=True)
    summary = {"trace_requests": 0, "spans": 0, "log_requests": 0, "log_records": 0}

    traces = read_records(os.path.join(raw_dir, "traces.bin"))
    with (
        open(os.path.join(out_dir, "traces.otlp.jsonl"), "w") as fj,
        open(os.path.join(out_dir, "traces.pb"), "wb") as fp,
    ):
        for body in traces:
            req = ExportTraceServiceRequest()
            req.ParseFromString(body)
            fj.write(json.dumps(to_otlp_json(req), separators=(",", ":"), ensure_ascii=False) + "\n")
            ser = req.SerializeToString()
            fp.write(struct.pack(">I", len(ser)) + ser)
            summary["trace_requests"] += 1
            summary["spans"] += sum(len(ss.spans) for rs in req.resource_spans for ss in rs.scope_spans)

    logs = read_records(os.path.join(raw_dir, "logs.bin"))
    logs_path = os.path.join(out_dir, "logs.otlp.jsonl")
    if logs:
        with open(logs_path, "w") as fj:
            for body in logs:
                req = ExportLogsServiceRequest()
                req.ParseFromString(body)
                fj.write(json.dumps(to_otlp_json(req), separators=(",", ":"), ensure_ascii=False) + "\n")
                summary["log_requests"] += 1
                summary["log_records"] += sum(len(sl.log_records) for rl in req.resource_logs for sl in rl.scope_logs)
    elif os.path.exists(logs_path):
        os.remove(logs_path)
    return summary


def main(argv):
    if len(argv) >= 3 and argv[0] == "serve":
        serve(int(argv[1]), argv[2])
    elif len(argv) >= 3 and argv[0] == "convert":
        print(json.dumps(convert(argv[1], argv[2])))
    else:
        sys.stderr.write(__doc__)
        sys.exit(2)


if __name__ == "__main__":
    main(sys.argv[1:])
