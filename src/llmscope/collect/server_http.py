"""OTLP/HTTP on the collector's port (default 4318): ``POST /v1/traces`` and ``/v1/logs`` (protobuf or
JSON, gzip/deflate or not), ``GET /metrics`` (Prometheus text format) and ``GET /stats`` (JSON).

Limits that hold whatever clients do (each answered as OTLP/HTTP asks, 429/503 with ``Retry-After``
where retrying helps):

* ``max_connections`` open connections; one more is answered 503 at once and closed;
* a body is at most ``max_body_bytes`` whatever its framing (``Content-Length`` or chunked; a negative
  or malformed length is a 400), and request bodies in flight at most ``max_inflight_bytes`` together
  (503 beyond); inflating happens in the workers, capped at ``max_decompressed_bytes``;
* a request must arrive whole within ``request_deadline_seconds`` of its first byte (a client that
  trickles a byte every few seconds is cut off); an idle keep-alive connection is closed after
  ``idle_timeout_seconds``; on stop, connections still sending are cut at once.
"""

from __future__ import annotations

import contextlib
import hmac
import logging
import re
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import orjson

from . import metrics as metrics_mod
from .intake import Intake, Refusal
from .spool import CT_JSON, CT_PROTOBUF, SIG_LOGS, SIG_TRACES

log = logging.getLogger("llmscope.collect")

TRACES_PATH = "/v1/traces"
LOGS_PATH = "/v1/logs"
SIGNALS = {TRACES_PATH: SIG_TRACES, LOGS_PATH: SIG_LOGS}
SIGNAL_NAMES = {SIG_TRACES: "traces", SIG_LOGS: "logs"}
CONTENT_TYPES = {
    "application/x-protobuf": CT_PROTOBUF,
    "application/protobuf": CT_PROTOBUF,
    "application/json": CT_JSON,
}
CT_HEADER = {CT_PROTOBUF: "application/x-protobuf", CT_JSON: "application/json"}
_DIGITS = re.compile(rb"[0-9]{1,12}")
_HEX = re.compile(rb"[0-9a-fA-F]{1,12}")

# google.rpc.Code of each HTTP status, for the Status body OTLP/HTTP asks for with a failure
_GRPC_CODE = {400: 3, 401: 16, 404: 5, 405: 12, 411: 3, 413: 8, 415: 3, 429: 8, 500: 13, 503: 14}


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def status_body(code: int, message: str, content_type: int) -> bytes:
    """A google.rpc.Status, as the OTLP/HTTP spec asks for failures, in the request's encoding."""
    grpc = _GRPC_CODE.get(code, 2)
    if content_type == CT_PROTOBUF:
        m = message.encode()
        return b"\x08" + _varint(grpc) + b"\x12" + _varint(len(m)) + m
    return orjson.dumps({"code": grpc, "message": message})


def success_body(sig: int, rejected: int, message: str, content_type: int) -> bytes:
    from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceResponse
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceResponse

    if sig == SIG_LOGS:
        resp = ExportLogsServiceResponse()
        if rejected:
            resp.partial_success.rejected_log_records = rejected
            resp.partial_success.error_message = message
    else:
        resp = ExportTraceServiceResponse()
        if rejected:
            resp.partial_success.rejected_spans = rejected
            resp.partial_success.error_message = message
    if content_type == CT_PROTOBUF:
        return resp.SerializeToString()
    if not rejected:
        return b"{}"
    key = "rejectedLogRecords" if sig == SIG_LOGS else "rejectedSpans"
    return orjson.dumps({"partialSuccess": {key: str(rejected), "errorMessage": message}})


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128
    front: HttpFront

    def process_request(self, request, client_address):
        if not self.front.admit_connection(request):
            return
        super().process_request(request, client_address)


class HttpFront:
    """The HTTP server, its connection bookkeeping and its deadline watchdog."""

    def __init__(self, cfg, intake: Intake, metrics: metrics_mod.Metrics, live_stats):
        self.cfg = cfg
        self.intake = intake
        self.metrics = metrics
        self.live_stats = live_stats  # () -> dict for GET /stats
        self._lock = threading.Lock()
        # socket -> [state, deadline]: state "idle" (between requests), "reading", "working"
        self._conns: dict[socket.socket, list] = {}
        self._active = threading.Condition(self._lock)
        self._stopping = threading.Event()
        family = socket.AF_INET6 if ":" in cfg.host else socket.AF_INET
        server_cls = type("_Server", (_Server,), {"address_family": family})
        self.server = server_cls((cfg.host, cfg.port), self._handler_class())
        self.server.front = self
        self.port = self.server.server_address[1]
        self._threads: list[threading.Thread] = []

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> None:
        self._threads = [
            threading.Thread(
                target=self.server.serve_forever, kwargs={"poll_interval": 0.1}, name="llmscope-http", daemon=True
            ),
            threading.Thread(target=self._watchdog, name="llmscope-http-deadlines", daemon=True),
        ]
        for t in self._threads:
            t.start()

    def stop(self, grace: float = 10.0) -> None:
        """Stop accepting; cut connections that are idle or still sending; let requests being worked on
        finish (up to ``grace`` seconds)."""
        self.server.shutdown()
        self.server.server_close()
        self._stopping.set()
        with self._lock:
            for sock, (state, _) in self._conns.items():
                if state != "working":
                    _cut(sock)
            self._active.wait_for(lambda: all(st != "working" for st, _ in self._conns.values()), timeout=grace)
            for sock in self._conns:
                _cut(sock)
        for t in self._threads:
            t.join(timeout=grace)

    @property
    def connections(self) -> int:
        return len(self._conns)

    def admit_connection(self, sock: socket.socket) -> bool:
        with self._lock:
            if len(self._conns) < self.cfg.max_connections and not self._stopping.is_set():
                self._conns[sock] = ["idle", time.monotonic() + self.cfg.idle_timeout_seconds]
                return True
        self.metrics.request("http", "-", 503, "overloaded", 0.0)
        body = status_body(503, f"over {self.cfg.max_connections} connections; retry", CT_JSON)
        with contextlib.suppress(OSError):
            sock.setblocking(False)  # in the accepting thread: never wait on a client here
            sock.send(
                b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nRetry-After: 1\r\n"
                b"Connection: close\r\nContent-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body
            )
            sock.shutdown(socket.SHUT_WR)
            sock.recv(65536)  # what the client sent already: closing on unread data would reset the answer
        self.server.shutdown_request(sock)
        return False

    def _state(self, sock: socket.socket, state: str, seconds: float) -> None:
        with self._lock:
            if sock in self._conns:
                self._conns[sock] = [state, time.monotonic() + seconds]
            if state != "working":
                self._active.notify_all()

    def _forget(self, sock: socket.socket) -> None:
        with self._lock:
            self._conns.pop(sock, None)
            self._active.notify_all()

    def _watchdog(self) -> None:
        """Cut connections past their deadline (a request trickled in too slowly, or idle too long)."""
        while not self._stopping.wait(0.5):
            now = time.monotonic()
            with self._lock:
                late = [s for s, (state, deadline) in self._conns.items() if state != "working" and now > deadline]
            for sock in late:
                log.debug("cutting a connection past its deadline")
                _cut(sock)

    # ------------------------------------------------------------------ one request

    def _read_body(self, h: BaseHTTPRequestHandler, n: int, reserved: list[int]) -> bytes:
        """The body, by Content-Length (``n`` >= 0) or chunked; every byte counted against the caps."""
        cap = self.cfg.max_body_bytes
        if n >= 0:
            data = h.rfile.read(n)
            if len(data) != n:
                raise ConnectionError("client closed the connection mid-body")
            return data
        out = bytearray()
        while True:
            line = h.rfile.readline(1026)
            size_field = line.split(b";", 1)[0].strip()
            if not line.endswith(b"\n") or not _HEX.fullmatch(size_field):
                raise Refusal("invalid", "bad chunked encoding (chunk size)", close=True)
            size = int(size_field, 16)
            if size == 0:
                for _ in range(64):  # trailers, up to a blank line
                    if not h.rfile.readline(1026).strip():
                        return bytes(out)
                raise Refusal("invalid", "bad chunked encoding (trailers)", close=True)
            if len(out) + size > cap:
                raise Refusal("too_large", f"body is over the {cap:,}-byte limit", close=True)
            self.intake.reserve(size)
            reserved[0] += size
            chunk = h.rfile.read(size)
            if len(chunk) != size:
                raise ConnectionError("client closed the connection mid-body")
            out += chunk
            if h.rfile.readline(3).strip():
                raise Refusal("invalid", "bad chunked encoding (no CRLF after a chunk)", close=True)

    def _headers_check(self, h: BaseHTTPRequestHandler) -> tuple[int, int, str, int]:
        """Everything that needs only the headers: (signal, content type, encoding, content length or -1)."""
        path = h.path.split("?", 1)[0]
        sig = SIGNALS.get(path)
        if sig is None:
            raise Refusal("not_found", f"no such endpoint {path!r}; use {TRACES_PATH} or {LOGS_PATH}")
        if not self.intake.authorized(h.headers.get("Authorization")):
            raise Refusal("unauthenticated", "missing or wrong bearer token")
        ctype = CONTENT_TYPES.get((h.headers.get("Content-Type") or "").split(";", 1)[0].strip().lower())
        if ctype is None:
            raise Refusal("unsupported", "Content-Type must be application/x-protobuf or application/json")
        enc = (h.headers.get("Content-Encoding") or "identity").strip().lower()
        if enc not in ("identity", "gzip", "x-gzip", "deflate"):
            raise Refusal("unsupported", f"unsupported Content-Encoding {enc!r} (gzip, deflate or none)")
        length = h.headers.get_all("Content-Length") or []
        chunked = "chunked" in (h.headers.get("Transfer-Encoding") or "").lower()
        n = -1
        if length:
            if len(set(length)) > 1 or chunked or not _DIGITS.fullmatch(length[0].strip().encode()):
                raise Refusal("invalid", "bad Content-Length", close=True)
            n = int(length[0])
            if n > self.cfg.max_body_bytes:
                raise Refusal("too_large", f"body of {n:,} bytes is over the {self.cfg.max_body_bytes:,}-byte limit")
        elif not chunked:
            raise Refusal("length_required", "Content-Length or chunked transfer encoding required", close=True)
        self.intake.admit()
        return sig, ctype, enc, n

    def handle_post(self, h: BaseHTTPRequestHandler) -> None:
        t0 = time.perf_counter()
        ctype = CONTENT_TYPES.get((h.headers.get("Content-Type") or "").split(";", 1)[0].strip().lower(), CT_JSON)
        sig = SIGNALS.get(h.path.split("?", 1)[0], SIG_TRACES)
        reserved = [0]
        try:
            try:
                sig, ctype, enc, n = self._headers_check(h)
            except Refusal as r:
                _drain(h, self.cfg.max_body_bytes * (4 if r.kind == "too_large" else 1), r)
                raise
            if n >= 0:
                self.intake.reserve(n)
                reserved[0] = n
            body = self._read_body(h, n, reserved)
            self._state(h.connection, "working", 0)
            acc = self.intake.accept(body, ctype, sig, enc)
            self._send(h, 200, success_body(sig, acc.rejected, acc.message, ctype), CT_HEADER[ctype])
            self.metrics.request(
                "http", SIGNAL_NAMES[sig], 200, "ok", time.perf_counter() - t0, acc.spans, acc.error_spans, acc.tokens
            )
        except Refusal as r:
            code = r.http_status
            self._send(
                h,
                code,
                status_body(code, r.message, ctype),
                CT_HEADER[ctype],
                retry_after=r.retry_after,
                close=r.close or self.intake.closing,
            )
            self.metrics.request("http", SIGNAL_NAMES[sig], code, r.kind, time.perf_counter() - t0)
        finally:
            if reserved[0]:
                self.intake.release(reserved[0])

    def _send(
        self,
        h: BaseHTTPRequestHandler,
        code: int,
        body: bytes,
        content_type: str,
        retry_after: float | None = None,
        close: bool = False,
        extra: dict | None = None,
    ) -> None:
        h.send_response(code)
        h.send_header("Content-Type", content_type)
        h.send_header("Content-Length", str(len(body)))
        if retry_after is not None:
            h.send_header("Retry-After", str(int(retry_after)))
        if code == 401:
            h.send_header("WWW-Authenticate", 'Bearer realm="llmscope"')
        for k, v in (extra or {}).items():
            h.send_header(k, v)
        if close:
            h.send_header("Connection", "close")
            h.close_connection = True
        h.end_headers()
        h.wfile.write(body)

    def handle_get(self, h: BaseHTTPRequestHandler) -> None:
        path = h.path.split("?", 1)[0]
        if path in SIGNALS:
            self._send(
                h, 405, status_body(405, f"use POST for {path}", CT_JSON), "application/json", extra={"Allow": "POST"}
            )
        elif path not in ("/stats", "/metrics"):
            self._send(h, 404, status_body(404, f"no such endpoint {path!r}", CT_JSON), "application/json")
        elif not self._token_ok(h):
            self._send(h, 401, status_body(401, "missing or wrong bearer token", CT_JSON), "application/json")
        elif path == "/metrics":
            self._send(h, 200, self.metrics.text(), metrics_mod.CONTENT_TYPE)
        else:
            self._send(h, 200, orjson.dumps(self.live_stats(), option=orjson.OPT_NON_STR_KEYS), "application/json")

    def _token_ok(self, h) -> bool:
        return self.cfg.token is None or hmac.compare_digest(
            (h.headers.get("Authorization") or "").encode(), f"Bearer {self.cfg.token}".encode()
        )

    def handle_other(self, h: BaseHTTPRequestHandler) -> None:
        path = h.path.split("?", 1)[0]
        n = (h.headers.get("Content-Length") or "0").strip()
        n = int(n) if _DIGITS.fullmatch(n.encode()) else -1
        close = not 0 <= n <= self.cfg.max_body_bytes
        if not close and n:
            _drain_n(h.rfile, n)
        if path in SIGNALS:
            self._send(
                h,
                405,
                status_body(405, f"use POST for {path}", CT_JSON),
                "application/json",
                close=close,
                extra={"Allow": "POST"},
            )
        else:
            self._send(h, 404, status_body(404, "no such endpoint", CT_JSON), "application/json", close=close)

    def _handler_class(self):
        return type("Handler", (_Handler,), {"front": self})


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "llmscope-collect"
    sys_version = ""
    front: HttpFront

    def setup(self):
        self.timeout = self.front.cfg.idle_timeout_seconds
        super().setup()

    def finish(self):
        self.front._forget(self.connection)
        with contextlib.suppress(OSError):
            super().finish()

    def handle_one_request(self):
        front = self.front
        front._state(self.connection, "idle", front.cfg.idle_timeout_seconds)
        try:
            if not self.rfile.peek(1):  # wait for the first byte of the next request (idle keep-alive)
                self.close_connection = True
                return
        except (TimeoutError, OSError, ValueError):
            self.close_connection = True
            return
        front._state(self.connection, "reading", front.cfg.request_deadline_seconds)
        super().handle_one_request()

    def handle_expect_100(self):
        try:
            self.front._headers_check(self)
        except Refusal as r:  # refuse before the client sends the body
            code = r.http_status
            self.front._send(
                self, code, status_body(code, r.message, CT_JSON), "application/json", r.retry_after, close=True
            )
            self.front.metrics.request("http", "-", code, r.kind, 0.0)
            return False
        return super().handle_expect_100()

    def do_POST(self):
        try:
            self.front.handle_post(self)
        except (TimeoutError, ConnectionError, ValueError, OSError):
            self.close_connection = True  # the client went away, or was cut off past its deadline
        except Exception as e:  # never a traceback to the client; keep serving
            log.exception("collector request failed")
            with contextlib.suppress(OSError):
                self.front._send(
                    self, 500, status_body(500, f"internal error: {e}", CT_JSON), "application/json", close=True
                )

    def do_GET(self):
        self.front.handle_get(self)

    def do_PUT(self):
        self.front.handle_other(self)

    do_DELETE = do_PATCH = do_OPTIONS = do_PUT

    def log_message(self, format, *args):  # no access log on stderr
        log.debug("%s " + format, self.address_string(), *args)


def _cut(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)


def _drain_n(rfile, n: int) -> None:
    while n > 0:
        got = rfile.read(min(n, 1 << 20))
        if not got:
            return
        n -= len(got)


def _drain(h: BaseHTTPRequestHandler, limit: int, reply: Refusal) -> None:
    """Read and discard a refused request's body so the connection stays usable; a body over
    ``limit`` (or of unknown or bad length) is not read: the connection is closed after the answer."""
    length = (h.headers.get("Content-Length") or "").strip()
    if _DIGITS.fullmatch(length.encode()) and int(length) <= limit and reply.kind not in ("overloaded",):
        _drain_n(h.rfile, int(length))
    else:
        reply.close = True
