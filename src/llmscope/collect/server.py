"""``llmscope collect``: an OTLP/HTTP receiver that writes into the store while reports keep working.

    >>> from llmscope.collect import Collector, CollectorConfig
    >>> c = Collector(CollectorConfig(db="llmscope.duckdb", port=4318))
    >>> c.serve_forever()          # until SIGINT/SIGTERM; then flushes everything and returns

Point any OpenTelemetry SDK's OTLP/HTTP exporter at ``http://127.0.0.1:4318`` (``/v1/traces``,
``/v1/logs``; protobuf or JSON, optionally gzip).

How a request travels
---------------------
1. **Checks** (cheap, before the body is read where possible): path (404), bearer token (401),
   content type (415), content encoding (415), declared size (413), back-pressure (503 when the spool
   is over ``max_spool_bytes``, 429 when the oldest unflushed data is older than ``max_lag_seconds``;
   both with ``Retry-After``). While stopping, new requests get 503.
2. **Decode**: the body is stream-decompressed with a hard cap (a gzip bomb is refused with 413 after
   at most ``max_decompressed_bytes`` of output, never unpacked) and normalized right away with the
   same code as ``llmscope ingest`` (:class:`llmscope.normalize.builder.Batch` fed by the
   :mod:`llmscope.ingest.otlp` emitters). A body that does not decode is a 400; spans that fail their
   checks are counted and answered as OTLP ``partial_success`` (``rejected_spans``) in a 200.
3. **Spool, then acknowledge**: the raw (decompressed) body is appended to the current spool
   segment with a 16-byte frame header (magic, length, content type, signal, CRC-32) and
   ``fdatasync``-ed *before* the 200 goes out. Concurrent requests share fsyncs (group commit).
   Nothing acknowledged can be lost: it is on disk.
4. **Flush**: a background thread closes the current segment every ``flush_spans`` spans or
   ``flush_seconds`` and loads all closed segments with :class:`llmscope.store.Loader` in one
   transaction, then deletes them. The normalized Arrow batches of step 2 are kept in memory (up to
   a cap) so the flusher does not decode twice; segments found on disk are decoded from their bytes.
5. **Recovery**: on start, segments left by a crash or ``kill -9`` are replayed before the port
   opens (a torn frame at the tail of a segment was never acknowledged and is dropped). A crash
   between the store's commit and the segment's deletion replays spans that are already there:
   the store de-duplicates by ``(trace_id, span_id)``, so nothing is doubled.

Concurrent readers: why the store is opened only during a flush
---------------------------------------------------------------
DuckDB lets one process write a database file, and while it has the file open read-write no other
process may open it at all, not even read-only. A collector that kept the store open would lock
``llmscope report …`` out for as long as it runs. So the collector connects, loads, commits and
closes once per flush (measured here: ~15 ms to connect, ~20-35 µs a span to load, ~50-250 ms to
close with its checkpoint) and holds no handle in between; the spool on disk, not the database, is
what makes acknowledged data durable between flushes.

Trade-offs:

* a report that starts while a flush holds the file gets DuckDB's lock error; it should retry for a
  few seconds (the lock is held well under a second per flush at the default thresholds);
* a flush that finds the file held by a reader retries a few times with back-off, then gives up
  until the next interval; data waits safely in the spool (bounded by ``max_spool_bytes``, then 503),
  so a long report delays the store, never loses spans;
* data is visible to reports up to ``flush_seconds`` (plus flush time) after it was acknowledged;
* every flush pays the connect/close cost, so ``flush_seconds`` well below a second is wasteful;
* under sustained heavy load loading itself takes most of the time (~25 µs a span: at 30,000 spans/s
  the store is being written ~75% of the time), so after each flush the store is left alone for
  ``reader_gap_seconds`` (0.5 s): a report that retries every ~100 ms gets in within a flush or two,
  and the next flush is simply bigger (cheaper per span).

The spool holds raw payloads, prompts included, until they are flushed (redaction from
``Mapping.privacy`` applies on the way into the store): it is created mode 0700 next to the store.
"""

from __future__ import annotations

import fcntl
import hmac
import logging
import os
import signal
import socket
import struct
import threading
import time
import zlib
from collections import deque
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import msgspec
import orjson
import pyarrow.compute as pc

from .. import store as store_mod
from ..errors import CollectorError, StoreBusy
from ..ingest import otlp
from ..normalize.builder import Batch, Mapping

log = logging.getLogger("llmscope.collect")

TRACES_PATH = "/v1/traces"
LOGS_PATH = "/v1/logs"
SIGNALS = {TRACES_PATH: 1, LOGS_PATH: 2}
SIG_TRACES, SIG_LOGS = 1, 2
CT_PROTOBUF, CT_JSON = 1, 2
_CONTENT_TYPES = {
    "application/x-protobuf": CT_PROTOBUF,
    "application/protobuf": CT_PROTOBUF,
    "application/json": CT_JSON,
}
_CT_HEADER = {CT_PROTOBUF: "application/x-protobuf", CT_JSON: "application/json"}

# frame: magic, body length, content type, signal, reserved, crc32(body)
FRAME = struct.Struct(">4sIBBHI")
MAGIC = b"LSP1"
SEGMENT_PREFIX, SEGMENT_SUFFIX = "seg-", ".spool"
SEGMENT_MAX_BYTES = 64 << 20  # rotate the open segment beyond this even between flushes
FLUSH_MAX_BYTES = 256 << 20  # one flush (one transaction) takes at most this much spool
LOCK_RETRIES = (0.05, 0.1, 0.2, 0.4, 0.8)  # back-off when a reader holds the store


class BadBody(ValueError):
    """The request body does not decode as OTLP: answered with 400."""


class TooLarge(ValueError):
    """The body, or what it decompresses to, is over the limit: answered with 413."""


@dataclass
class CollectorConfig:
    db: str | None = None
    host: str = "127.0.0.1"
    port: int = 4318
    token: str | None = None
    spool_dir: str | None = None  # default: <db path>.spool/
    flush_spans: int = 5000
    flush_seconds: float = 2.0
    max_body_bytes: int = 16 << 20
    max_decompressed_bytes: int = 64 << 20
    max_spool_bytes: int = 1 << 30  # beyond: answer 503 with Retry-After
    mapping: Mapping | None = None  # llmscope.normalize.Mapping (context keys, privacy)
    max_lag_seconds: float = 300.0  # oldest unflushed data older than this: answer 429 with Retry-After
    max_cached_bytes: int = 512 << 20  # normalized Arrow batches kept in memory for the flusher; beyond, re-decoded
    reader_gap_seconds: float = 0.5  # after a flush, leave the store alone this long so reports get in


# --------------------------------------------------------------------------- decoding


def decode_payload(body: bytes, content_type: int, sig: int, mapping: Mapping, source: str = "collector") -> Batch:
    """One OTLP/HTTP body -> a normalized :class:`Batch`, through the same emitters as ``ingest``.

    Raises :class:`BadBody` when the body is not an OTLP message at all; spans that fail their
    checks are counted in ``batch.n_bad`` (with reasons in ``batch.errors``)."""
    batch = Batch(mapping, source=source)
    batch.line = 1
    if content_type == CT_PROTOBUF:
        from google.protobuf.message import DecodeError
        from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
        from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

        try:
            if sig == SIG_LOGS:
                otlp._emit_proto_logs(ExportLogsServiceRequest.FromString(body), batch)
            elif otlp.NATIVE_DECODE_PB is not None and (decoded := otlp.NATIVE_DECODE_PB(body)) is not None:
                otlp.emit_native(decoded, batch)  # decoded in C
            else:
                otlp._emit_proto_traces(ExportTraceServiceRequest.FromString(body), batch)
        except DecodeError as e:
            raise BadBody(
                f"not an OTLP protobuf {'logs' if sig == SIG_LOGS else 'trace'} export request: {e}"
            ) from None
    elif otlp.NATIVE_DECODE is not None and (decoded := otlp.NATIVE_DECODE(body)) is not None:
        otlp.emit_native(decoded, batch)  # canonical OTLP/JSON, decoded in C
    else:
        try:
            req = otlp.REQUEST_DECODER.decode(body)
        except msgspec.ValidationError:
            req = None  # a wrong type somewhere: decode leniently and keep the good spans
        except msgspec.DecodeError as e:
            raise BadBody(f"malformed JSON: {str(e).splitlines()[0][:200]}") from None
        except RecursionError:
            raise BadBody("malformed JSON: nested too deeply") from None
        if req is not None:
            otlp.emit_typed(req, batch)
        else:
            try:
                obj = orjson.loads(body)
            except orjson.JSONDecodeError as e:
                raise BadBody(f"malformed JSON: {e}") from None
            if not isinstance(obj, dict):
                raise BadBody("an OTLP/JSON export request must be a JSON object")
            try:
                otlp.emit_request_dict(obj, batch)
            except otlp.BadRecord as e:
                raise BadBody(str(e)) from None
    batch.line_count = batch.line
    return batch


def inflate(data: bytes, encoding: str, cap: int) -> bytes:
    """Decompress gzip/deflate without ever holding more than ``cap`` bytes of output."""
    if encoding in ("", "identity"):
        if len(data) > cap:
            raise TooLarge(f"body of {len(data):,} bytes is over the {cap:,}-byte limit")
        return data
    wbits = 31 if encoding in ("gzip", "x-gzip") else 15
    out = bytearray()
    d = zlib.decompressobj(wbits)
    buf = data
    while True:
        try:
            chunk = d.decompress(buf, cap + 1 - len(out))
        except zlib.error as e:
            if wbits == 15 and not out:  # "deflate" sent raw, without the zlib header (it happens)
                wbits, d, buf = -15, zlib.decompressobj(-15), data
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


# --------------------------------------------------------------------------- the spool


class _Segment:
    """One append-only spool file. Appends happen under the spool lock; fsyncs are shared."""

    def __init__(self, path: Path, seq: int, fd: int = -1, size: int = 0):
        self.path = path
        self.seq = seq
        self.fd = fd
        self.size = size  # bytes written
        self.synced = size  # bytes known to be on disk
        self.sync_lock = threading.Lock()
        self.spans = 0  # spans known to be in it (0 for replayed segments until decoded)
        self.frames = 0
        self.first_at: float | None = None  # time of the first append (or of the file, when replayed)
        self.cache: dict[int, tuple] = {}  # frame number -> (span batch | None, log batch | None)
        self.cached_bytes = 0

    def sync(self, upto: int) -> None:
        if self.synced >= upto:
            return
        with self.sync_lock:
            if self.synced >= upto:
                return  # another request's fsync covered us (group commit)
            target = self.size
            os.fdatasync(self.fd)
            self.synced = target

    def close(self) -> None:
        with self.sync_lock:
            if self.fd >= 0:
                try:
                    os.fdatasync(self.fd)
                    self.synced = self.size
                finally:
                    os.close(self.fd)
                    self.fd = -1


def read_frames(path: Path) -> tuple[list[tuple[int, int, bytes]], int]:
    """The intact frames of a segment as (content type, signal, body), and the bytes of a torn tail."""
    data = path.read_bytes()
    frames, pos, n = [], 0, len(data)
    while pos + FRAME.size <= n:
        magic, length, ctype, sig, _, crc = FRAME.unpack_from(data, pos)
        end = pos + FRAME.size + length
        if magic != MAGIC or end > n:
            break
        body = data[pos + FRAME.size : end]
        if zlib.crc32(body) != crc:
            break
        frames.append((ctype, sig, body))
        pos = end
    return frames, n - pos


class Spool:
    """A directory of append-only segment files; the current one takes appends, closed ones wait for
    the flusher. Only one collector may use a spool directory at a time (an flock on ``lock``)."""

    def __init__(self, directory: str | os.PathLike):
        self.dir = Path(directory)
        self.dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        self._lock_fd = os.open(self.dir / "lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(self._lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(self._lock_fd)
            raise CollectorError(f"spool {self.dir} is in use by another llmscope collector") from None
        self.lock = threading.Lock()
        self.closed: deque[_Segment] = deque()
        self.current: _Segment | None = None
        self.flushing: list[_Segment] = []  # taken by the running flush, not yet committed
        self.bytes = 0
        seqs = []
        for p in sorted(self.dir.glob(f"{SEGMENT_PREFIX}*{SEGMENT_SUFFIX}")):
            try:
                seq = int(p.name[len(SEGMENT_PREFIX) : -len(SEGMENT_SUFFIX)])
            except ValueError:
                continue
            seg = _Segment(p, seq, size=p.stat().st_size)
            seg.first_at = p.stat().st_mtime
            seqs.append(seq)
            self.closed.append(seg)
            self.bytes += seg.size
        self.closed = deque(sorted(self.closed, key=lambda s: s.seq))
        self.next_seq = max(seqs, default=0) + 1
        self.replayed = len(self.closed)

    def _open_segment(self) -> _Segment:
        path = self.dir / f"{SEGMENT_PREFIX}{self.next_seq:012d}{SEGMENT_SUFFIX}"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND, 0o600)
        dfd = os.open(self.dir, os.O_RDONLY)
        try:
            os.fsync(dfd)  # the new name itself must survive a power cut
        finally:
            os.close(dfd)
        seg = _Segment(path, self.next_seq, fd)
        self.next_seq += 1
        return seg

    def append(
        self, body: bytes, content_type: int, sig: int, n_spans: int, cached: tuple | None, cached_bytes: int = 0
    ) -> tuple[_Segment, int]:
        """Write one frame; returns (segment, end offset) for :meth:`_Segment.sync`."""
        header = FRAME.pack(MAGIC, len(body), content_type, sig, 0, zlib.crc32(body))
        with self.lock:
            seg = self.current
            if seg is None or seg.size >= SEGMENT_MAX_BYTES:
                if seg is not None:
                    self._close_current()
                seg = self.current = self._open_segment()
            view = memoryview(header + body) if len(body) < 65536 else None
            if view is not None:
                _write_all(seg.fd, view)
            else:
                _write_all(seg.fd, memoryview(header))
                _write_all(seg.fd, memoryview(body))
            seg.size += FRAME.size + len(body)
            self.bytes += FRAME.size + len(body)
            if cached is not None:
                seg.cache[seg.frames] = cached
                seg.cached_bytes += cached_bytes
            seg.frames += 1
            seg.spans += n_spans
            if seg.first_at is None:
                seg.first_at = time.time()
            return seg, seg.size

    def _close_current(self) -> None:
        seg, self.current = self.current, None
        if seg is not None:
            seg.close()
            self.closed.append(seg)

    def take(self, max_bytes: int = FLUSH_MAX_BYTES) -> list[_Segment]:
        """Close the current segment and hand out the oldest closed ones (at least one, up to ``max_bytes``)."""
        with self.lock:
            if self.current is not None and self.current.frames:
                self._close_current()
            out, total = [], 0
            while self.closed and (not out or total + self.closed[0].size <= max_bytes):
                seg = self.closed.popleft()
                total += seg.size
                out.append(seg)
            self.flushing = out
            return out

    def give_back(self, segs: list[_Segment]) -> None:
        with self.lock:
            self.closed.extendleft(reversed(segs))
            self.flushing = []

    def remove(self, segs: list[_Segment]) -> None:
        for seg in segs:
            seg.path.unlink(missing_ok=True)
        with self.lock:
            self.bytes -= sum(seg.size for seg in segs)
            self.flushing = []

    def pending(self, include_flushing: bool = True) -> tuple[int, float | None, int]:
        """(spans not yet in the store, time of the oldest such append, cached bytes) over all segments;
        ``include_flushing=False``: only those no flush has taken yet."""
        with self.lock:
            segs = list(self.closed) + ([self.current] if self.current is not None else [])
            if include_flushing:
                segs += self.flushing
        firsts = [s.first_at for s in segs if s.first_at is not None]
        return sum(s.spans for s in segs), (min(firsts) if firsts else None), sum(s.cached_bytes for s in segs)

    def has_data(self) -> bool:
        with self.lock:
            return bool(self.closed) or (self.current is not None and self.current.frames > 0)

    def close(self) -> None:
        with self.lock:
            if self.current is not None:
                seg, self.current = self.current, None
                seg.close()
                if seg.frames:
                    self.closed.append(seg)
                else:
                    seg.path.unlink(missing_ok=True)
        try:
            fcntl.flock(self._lock_fd, fcntl.LOCK_UN)
        finally:
            os.close(self._lock_fd)


def _write_all(fd: int, view: memoryview) -> None:
    while view:
        n = os.write(fd, view)
        view = view[n:]


# --------------------------------------------------------------------------- responses


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


_GRPC_CODE = {400: 3, 401: 16, 404: 5, 405: 12, 411: 3, 413: 8, 415: 3, 429: 8, 500: 13, 503: 14}


def _status_body(code: int, message: str, content_type: int) -> bytes:
    """A google.rpc.Status, as the OTLP/HTTP spec asks for failures, in the request's encoding."""
    grpc = _GRPC_CODE.get(code, 2)
    if content_type == CT_PROTOBUF:
        m = message.encode()
        return b"\x08" + _varint(grpc) + b"\x12" + _varint(len(m)) + m
    return orjson.dumps({"code": grpc, "message": message})


def _success_body(sig: int, rejected: int, message: str, content_type: int) -> bytes:
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
    from google.protobuf import json_format

    return orjson.dumps(json_format.MessageToDict(resp))


class _Reply(Exception):
    def __init__(self, code: int, message: str, retry_after: float | None = None, close: bool = False):
        super().__init__(message)
        self.code, self.message, self.retry_after, self.close = code, message, retry_after, close


# --------------------------------------------------------------------------- the collector


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128


class Collector:
    """OTLP/HTTP receiver -> fsynced spool -> periodic transactional loads into the store."""

    def __init__(self, cfg: CollectorConfig):
        self.cfg = cfg
        self.db = store_mod.resolve_db_path(cfg.db)
        self.spool_dir = Path(cfg.spool_dir) if cfg.spool_dir else self.db.with_name(self.db.name + ".spool")
        self.mapping = cfg.mapping or Mapping()
        self.port: int | None = None
        self.spool: Spool | None = None
        self._server: _Server | None = None
        self._threads: list[threading.Thread] = []
        self._stop = threading.Event()
        self._wake = threading.Condition()
        self._flush_lock = threading.Lock()
        self._closing = False
        self._active = 0
        self._active_cv = threading.Condition()
        self._conns: set[socket.socket] = set()
        self._conns_lock = threading.Lock()
        self._slock = threading.Lock()
        self._s: dict[str, Any] = {
            "requests": 0,
            "accepted": 0,
            "rejected": 0,
            "by_status": {},
            "bytes_received": 0,
            "spans_received": 0,
            "spans_rejected": 0,
            "log_records_received": 0,
            "spans_flushed": 0,
            "spans_added": 0,
            "duplicates": 0,
            "log_messages_added": 0,
            "flushes": 0,
            "flush_errors": 0,
            "last_flush": None,
            "last_flush_seconds": None,
            "last_flush_spans": 0,
            "last_error": None,
            "max_flush_lag_s": 0.0,
            "replayed_segments": 0,
            "spool_frames_torn": 0,
            "spool_frames_bad": 0,
            "store_busy": 0,
            "cost_usd_flushed": 0.0,
            "started_at": None,
        }
        self._recent: deque[tuple] = deque()  # (t, latency_s, spans, error_spans, tokens, ok)
        self._flushed: deque[tuple] = deque()  # (t, spans, cost_usd)

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> None:
        """Replay what a previous run left in the spool, then listen; returns once listening."""
        self.spool = Spool(self.spool_dir)
        try:
            self._s["replayed_segments"] = self.spool.replayed
            self._s["started_at"] = time.time()
            # the store must exist (and be migrated) for readers; replay leftovers first
            if not self._with_store(lambda con: None, retries=LOCK_RETRIES):
                log.warning("store %s is held by another process; will retry at the next flush", self.db)
            while self.spool.closed:
                if not self._flush_some():
                    log.warning("could not replay the spool into %s yet; the flusher will retry", self.db)
                    break
            family = socket.AF_INET6 if ":" in self.cfg.host else socket.AF_INET
            server_cls = type("_Server", (_Server,), {"address_family": family})
            self._server = server_cls((self.cfg.host, self.cfg.port), self._handler_class())
        except BaseException:
            self.spool.close()
            raise
        self.port = self._server.server_address[1]
        self._stop.clear()
        self._closing = False
        t_http = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.1}, name="llmscope-collect-http", daemon=True
        )
        t_flush = threading.Thread(target=self._flush_loop, name="llmscope-collect-flush", daemon=True)
        self._threads = [t_http, t_flush]
        t_http.start()
        t_flush.start()

    def stop(self) -> None:
        """Stop accepting, finish in-flight requests, flush everything, close."""
        if self._server is None:
            return
        self._closing = True
        self._server.shutdown()
        self._server.server_close()
        with self._active_cv:
            self._active_cv.wait_for(lambda: self._active == 0, timeout=30)
        with self._conns_lock:
            for c in list(self._conns):  # idle keep-alive connections: wake their threads up
                try:
                    c.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
        self._stop.set()
        with self._wake:
            self._wake.notify_all()
        for t in self._threads:
            t.join()
        # final flush: everything acknowledged goes in (or stays in the spool for the next start)
        for _ in range(3):
            while self.spool.has_data():
                if not self._flush_some(retries=LOCK_RETRIES + (1.0, 2.0)):
                    break
            if not self.spool.has_data():
                break
        if self.spool.has_data():
            log.warning(
                "store %s stayed locked; unflushed data is kept in %s and loads at the next start",
                self.db,
                self.spool_dir,
            )
        self.spool.close()
        self._server = None

    def serve_forever(self, tui: bool = False, on_start=None) -> None:
        """Start, block until SIGINT/SIGTERM, then stop (flush everything) and return.

        ``tui``: redraw :func:`top_view` every second meanwhile. ``on_start(collector)`` runs once
        listening (e.g. to print the address; ``self.port`` holds the real port when 0 was asked)."""
        done = threading.Event()
        old = {}
        if threading.current_thread() is threading.main_thread():

            def on_signal(signum, frame):
                done.set()
                signal.signal(signal.SIGINT, signal.default_int_handler)  # a second Ctrl-C kills; the spool is safe

            for s in (signal.SIGINT, signal.SIGTERM):
                old[s] = signal.signal(s, on_signal)
        try:
            self.start()
            if on_start is not None:
                on_start(self)
            if tui:
                run_top(self, done)
            else:
                while not done.wait(0.5):
                    pass
        finally:
            try:
                self.stop()
            finally:
                for s, h in old.items():
                    signal.signal(s, h)

    def flush(self) -> int:
        """Flush everything acknowledged so far, now; returns the spans read (0 if the store was busy)."""
        before = self._s["spans_flushed"]
        while self.spool.has_data():
            if not self._flush_some(retries=LOCK_RETRIES):
                break
        return self._s["spans_flushed"] - before

    # ------------------------------------------------------------------ stats

    @property
    def stats(self) -> dict:
        with self._slock:
            s = dict(self._s)
            s["by_status"] = dict(self._s["by_status"])
        if self.spool is not None:
            backlog, oldest, cached = self.spool.pending()
            s["spool_bytes"] = self.spool.bytes
            s["backlog_spans"] = backlog
            s["cached_bytes"] = cached
            s["flush_lag_s"] = round(time.time() - oldest, 3) if oldest else 0.0
        s["port"] = self.port
        s["uptime_s"] = round(time.time() - s["started_at"], 3) if s["started_at"] else 0.0
        return s

    def rates(self, window: float = 5.0) -> dict:
        """Live numbers over the last ``window`` seconds (for the top view)."""
        now = time.time()
        with self._slock:
            recent = [r for r in self._recent if r[0] >= now - window]
            flushed = [f for f in self._flushed if f[0] >= now - 3600]
            started = self._s["started_at"] or now
        span_w = max(min(window, now - started), 1e-3)
        lat = sorted(r[1] for r in recent)
        spans = sum(r[2] for r in recent)
        cost_window = max(min(3600.0, now - started), 1.0)
        return {
            "requests_per_s": len(recent) / span_w,
            "spans_per_s": spans / span_w,
            "error_rate": (sum(r[3] for r in recent) / spans) if spans else 0.0,
            "rejected_rate": (sum(1 for r in recent if not r[5]) / len(recent)) if recent else 0.0,
            "p50_ms": lat[len(lat) // 2] * 1e3 if lat else None,
            "p99_ms": lat[min(len(lat) - 1, int(len(lat) * 0.99))] * 1e3 if lat else None,
            "tokens_per_s": sum(r[4] for r in recent) / span_w,
            "usd_per_hour": sum(f[2] for f in flushed) * 3600.0 / cost_window,
        }

    def _count(self, **kw) -> None:
        with self._slock:
            for k, v in kw.items():
                self._s[k] += v

    def _record(self, code: int, latency: float, spans: int = 0, err_spans: int = 0, tokens: int = 0) -> None:
        now = time.time()
        with self._slock:
            self._s["requests"] += 1
            self._s["by_status"][code] = self._s["by_status"].get(code, 0) + 1
            if code == 200:
                self._s["accepted"] += 1
            else:
                self._s["rejected"] += 1
            self._recent.append((now, latency, spans, err_spans, tokens, code == 200))
            while self._recent and self._recent[0][0] < now - 60:
                self._recent.popleft()

    # ------------------------------------------------------------------ request path

    def _precheck(self, h: BaseHTTPRequestHandler) -> tuple[int, int, str, int]:
        """Everything that needs only the headers: (signal, content type, encoding, content length)."""
        if self._closing:
            raise _Reply(503, "collector is shutting down", retry_after=5, close=True)
        path = h.path.split("?", 1)[0]
        sig = SIGNALS.get(path)
        if sig is None:
            raise _Reply(404, f"no such endpoint {path!r}; use {TRACES_PATH} or {LOGS_PATH}")
        if self.cfg.token is not None:
            got = h.headers.get("Authorization", "")
            scheme, _, cred = got.partition(" ")
            if scheme.lower() != "bearer" or not hmac.compare_digest(cred.strip().encode(), self.cfg.token.encode()):
                raise _Reply(401, "missing or wrong bearer token")
        ctype = _CONTENT_TYPES.get((h.headers.get("Content-Type") or "").split(";", 1)[0].strip().lower())
        if ctype is None:
            raise _Reply(415, "Content-Type must be application/x-protobuf or application/json")
        enc = (h.headers.get("Content-Encoding") or "identity").strip().lower()
        if enc not in ("identity", "gzip", "x-gzip", "deflate"):
            raise _Reply(415, f"unsupported Content-Encoding {enc!r} (gzip, deflate or none)")
        length = h.headers.get("Content-Length")
        n = -1
        if length is not None:
            try:
                n = int(length)
            except ValueError:
                raise _Reply(400, "bad Content-Length", close=True) from None
            if n > self.cfg.max_body_bytes:
                raise _Reply(413, f"body of {n:,} bytes is over the {self.cfg.max_body_bytes:,}-byte limit")
        elif "chunked" not in (h.headers.get("Transfer-Encoding") or "").lower():
            raise _Reply(411, "Content-Length or chunked transfer encoding required", close=True)
        if self.spool.bytes > self.cfg.max_spool_bytes:
            raise _Reply(
                503, "spool is full; the store writer is behind", retry_after=max(1, round(self.cfg.flush_seconds * 2))
            )
        if self.cfg.max_lag_seconds:
            _, oldest, _ = self.spool.pending()
            if oldest is not None and time.time() - oldest > self.cfg.max_lag_seconds:
                raise _Reply(
                    429,
                    "the store writer lags (is a long report holding the store?)",
                    retry_after=max(1, round(self.cfg.flush_seconds * 2)),
                )
        return sig, ctype, enc, n

    def _read_body(self, h: BaseHTTPRequestHandler, n: int) -> bytes:
        cap = self.cfg.max_body_bytes
        if n >= 0:
            return _read_exact(h.rfile, n)
        out = bytearray()
        while True:  # chunked
            line = h.rfile.readline(1024)
            try:
                size = int(line.split(b";", 1)[0].strip(), 16)
            except ValueError:
                raise _Reply(400, "bad chunked encoding", close=True) from None
            if size == 0:
                while h.rfile.readline(1024).strip():
                    pass  # trailers
                return bytes(out)
            if len(out) + size > cap:
                raise _Reply(413, f"body is over the {cap:,}-byte limit", close=True)
            out += _read_exact(h.rfile, size)
            h.rfile.readline(16)

    def _handle_post(self, h: BaseHTTPRequestHandler) -> None:
        t0 = time.perf_counter()
        ctype = CT_JSON
        sig = SIG_TRACES
        try:
            try:
                sig, ctype, enc, n = self._precheck(h)
            except _Reply as r:
                if r.code == 415:
                    ctype = CT_JSON
                else:
                    ctype = _CONTENT_TYPES.get(
                        (h.headers.get("Content-Type") or "").split(";", 1)[0].strip().lower(), CT_JSON
                    )
                _drain(h, self.cfg.max_body_bytes * 4 if r.code == 413 else self.cfg.max_body_bytes, r)
                raise
            raw = self._read_body(h, n)
            self._count(bytes_received=len(raw))
            try:
                body = inflate(raw, enc, self.cfg.max_decompressed_bytes)
                batch = decode_payload(body, ctype, sig, self.mapping)
            except TooLarge as e:
                raise _Reply(413, str(e)) from None
            except BadBody as e:
                raise _Reply(400, str(e)) from None
            spans_rb = batch.span_record_batch() if len(batch) else None
            logs_rb = batch.log_record_batch() if batch.n_logs() else None
            n_spans = len(batch)
            if spans_rb is not None or logs_rb is not None:
                size = (spans_rb.nbytes if spans_rb is not None else 0) + (logs_rb.nbytes if logs_rb is not None else 0)
                _, _, cached = self.spool.pending()
                keep = (spans_rb, logs_rb) if cached + size <= self.cfg.max_cached_bytes else None
                try:
                    seg, end = self.spool.append(body, ctype, sig, n_spans, keep, size)
                    seg.sync(end)
                except OSError as e:
                    log.error("spool write failed: %s", e)
                    raise _Reply(503, f"spool write failed ({e.strerror or e})", retry_after=5) from None
                with self._wake:
                    self._wake.notify()
            rejected = batch.n_bad
            msg = ""
            if rejected:
                reasons = "; ".join(r for _, r in batch.errors[:3])
                msg = f"{rejected} {'log record(s)' if sig == SIG_LOGS else 'span(s)'} rejected: {reasons}"
            err_spans = tokens = 0
            if spans_rb is not None:
                err_spans = pc.sum(pc.equal(spans_rb.column("status"), "error")).as_py() or 0
                tokens = (pc.sum(spans_rb.column("input_tokens")).as_py() or 0) + (
                    pc.sum(spans_rb.column("output_tokens")).as_py() or 0
                )
            with self._slock:
                if sig == SIG_LOGS:
                    self._s["log_records_received"] += batch.n_logs()
                else:
                    self._s["spans_received"] += n_spans
                    self._s["spans_rejected"] += rejected
            self._send(h, 200, _success_body(sig, rejected, msg, ctype), ctype)
            self._record(200, time.perf_counter() - t0, n_spans, err_spans, tokens)
        except _Reply as r:
            self._send(
                h, r.code, _status_body(r.code, r.message, ctype), ctype, r.retry_after, close=r.close or self._closing
            )
            self._record(r.code, time.perf_counter() - t0)

    def _send(
        self,
        h: BaseHTTPRequestHandler,
        code: int,
        body: bytes,
        ctype: int,
        retry_after: float | None = None,
        close: bool = False,
    ) -> None:
        h.send_response(code)
        h.send_header("Content-Type", _CT_HEADER[ctype])
        h.send_header("Content-Length", str(len(body)))
        if retry_after is not None:
            h.send_header("Retry-After", str(int(retry_after)))
        if code == 401:
            h.send_header("WWW-Authenticate", 'Bearer realm="llmscope"')
        if close:
            h.send_header("Connection", "close")
            h.close_connection = True
        h.end_headers()
        h.wfile.write(body)

    def _handler_class(self):
        collector = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            server_version = "llmscope-collect"
            sys_version = ""
            timeout = 120  # an idle keep-alive connection or a stalled body is dropped after this

            def setup(self):
                super().setup()
                with collector._conns_lock:
                    collector._conns.add(self.connection)

            def finish(self):
                with collector._conns_lock:
                    collector._conns.discard(self.connection)
                try:
                    super().finish()
                except OSError:
                    pass

            def handle_expect_100(self):
                try:
                    collector._precheck(self)
                except _Reply as r:  # refuse before the client sends the body
                    collector._send(
                        self, r.code, _status_body(r.code, r.message, CT_JSON), CT_JSON, r.retry_after, close=True
                    )
                    collector._record(r.code, 0.0)
                    return False
                return super().handle_expect_100()

            def do_POST(self):
                with collector._active_cv:
                    collector._active += 1
                try:
                    collector._handle_post(self)
                except (TimeoutError, ConnectionError):
                    self.close_connection = True
                except Exception as e:  # never a traceback to the client; keep serving
                    log.exception("collector request failed")
                    try:
                        collector._send(
                            self, 500, _status_body(500, f"internal error: {e}", CT_JSON), CT_JSON, close=True
                        )
                    except OSError:
                        pass
                finally:
                    with collector._active_cv:
                        collector._active -= 1
                        collector._active_cv.notify_all()

            def do_GET(self):
                path = self.path.split("?", 1)[0]
                if path == "/stats" and (
                    collector.cfg.token is None
                    or hmac.compare_digest(
                        self.headers.get("Authorization", "").encode(), f"Bearer {collector.cfg.token}".encode()
                    )
                ):
                    body = orjson.dumps({**collector.stats, **collector.rates()}, option=orjson.OPT_NON_STR_KEYS)
                    collector._send(self, 200, body, CT_JSON)
                    return
                collector._send(self, 404, _status_body(404, f"no such endpoint {path!r}", CT_JSON), CT_JSON)

            def _not_allowed(self):
                try:
                    n = int(self.headers.get("Content-Length") or 0)
                except ValueError:
                    n = 1 << 62
                if 0 < n <= collector.cfg.max_body_bytes:
                    _drain_n(self.rfile, n)
                code = 405 if self.path.split("?", 1)[0] in SIGNALS else 404
                collector._send(
                    self,
                    code,
                    _status_body(code, "use POST" if code == 405 else "no such endpoint", CT_JSON),
                    CT_JSON,
                    close=n > collector.cfg.max_body_bytes,
                )

            do_PUT = do_DELETE = do_PATCH = _not_allowed

            def log_message(self, format, *args):  # no access log on stderr
                log.debug("%s " + format, self.address_string(), *args)

        return Handler

    # ------------------------------------------------------------------ flushing

    def _flush_loop(self) -> None:
        backoff_until = 0.0
        while not self._stop.is_set():
            with self._wake:
                self._wake.wait(timeout=min(0.25, self.cfg.flush_seconds))
            if self._stop.is_set():
                return
            now = time.time()
            if now < backoff_until:
                continue
            spans, oldest, _ = self.spool.pending(include_flushing=False)
            due = (
                spans >= self.cfg.flush_spans
                or (oldest is not None and now - oldest >= self.cfg.flush_seconds)
                or len(self.spool.closed) > 0
            )
            if not due:
                continue
            try:
                ok = self._flush_some()
            except Exception:  # never let the flusher die: the spool keeps the data
                log.exception("flush failed")
                ok = False
            if not ok:
                backoff_until = time.time() + max(0.5, min(self.cfg.flush_seconds, 5.0))
            elif self.cfg.reader_gap_seconds:
                # under sustained load flushes would follow each other back to back and hold the file
                # most of the time; a gap lets a waiting report open it (the next flush is just bigger)
                backoff_until = time.time() + self.cfg.reader_gap_seconds

    def _with_store(self, fn, retries=LOCK_RETRIES):
        """Open the store read-write, run ``fn(con)``, close; retries while another process holds it.
        Returns (True, result) or False when the store stayed locked."""
        last = None
        for delay in (0.0,) + tuple(retries):
            if delay:
                time.sleep(delay)
            try:
                con = store_mod.connect(self.db)
            except StoreBusy as e:  # a reader holds the file: retry with back-off
                last = e
                self._count(store_busy=1)
                continue
            try:
                return True, fn(con)
            finally:
                con.close()
        with self._slock:
            self._s["last_error"] = str(last)
        return False

    def _flush_some(self, retries=LOCK_RETRIES) -> bool:
        """Load the oldest closed segments (the open one is closed first) in one transaction; delete
        them after the commit. False if the store stayed locked (the segments stay in the spool)."""
        with self._flush_lock:
            segs = self.spool.take()
            if not segs:
                return True
            t0 = time.time()
            try:
                batches = []
                for seg in segs:
                    batches.extend(self._segment_batches(seg))

                def load(con):
                    loader = store_mod.Loader(con)
                    with loader:
                        for spans, logs in batches:
                            loader.add(spans, logs)
                    cost = con.execute(
                        "SELECT coalesce(sum(cost_usd), 0) FROM spans WHERE ingested_at = ?", [loader._started]
                    ).fetchall()[0][0]
                    return loader.result, float(cost)

                done = self._with_store(load, retries)
            except BaseException as e:
                self.spool.give_back(segs)
                with self._slock:
                    self._s["flush_errors"] += 1
                    self._s["last_error"] = f"{type(e).__name__}: {e}"
                raise
            if not done:
                self.spool.give_back(segs)
                with self._slock:
                    self._s["flush_errors"] += 1
                return False
            result, cost = done[1]
            self.spool.remove(segs)
            now = time.time()
            lag = (
                now - min(s.first_at for s in segs if s.first_at is not None) if any(s.first_at for s in segs) else 0.0
            )
            with self._slock:
                s = self._s
                s["flushes"] += 1
                s["spans_flushed"] += result.spans_read
                s["spans_added"] += result.spans_added
                s["duplicates"] += result.duplicates
                s["log_messages_added"] += result.log_messages_added
                s["last_flush"] = now
                s["last_flush_seconds"] = round(now - t0, 3)
                s["last_flush_spans"] = result.spans_read
                s["max_flush_lag_s"] = max(s["max_flush_lag_s"], round(lag, 3))
                s["cost_usd_flushed"] += cost
                self._flushed.append((now, result.spans_read, cost))
                while self._flushed and self._flushed[0][0] < now - 3600:
                    self._flushed.popleft()
            return True

    def _segment_batches(self, seg: _Segment) -> list[tuple]:
        """The normalized batches of a segment: from memory when the request path left them, else decoded."""
        if seg.cache and len(seg.cache) == seg.frames:
            return [seg.cache[i] for i in range(seg.frames)]
        frames, torn = read_frames(seg.path)
        if torn:
            log.warning("%s: dropped a torn frame of %d bytes at the tail (never acknowledged)", seg.path.name, torn)
            self._count(spool_frames_torn=1)
        out, n_spans = [], 0
        for i, (ctype, sig, body) in enumerate(frames):
            if i in seg.cache:
                out.append(seg.cache[i])
                continue
            try:
                b = decode_payload(body, ctype, sig, self.mapping)
            except BadBody as e:
                log.warning("%s frame %d: %s", seg.path.name, i, e)
                self._count(spool_frames_bad=1)
                continue
            n_spans += len(b)
            entry = (b.span_record_batch() if len(b) else None, b.log_record_batch() if b.n_logs() else None)
            seg.cache[i] = entry  # a retried flush does not decode again
            out.append(entry)
        seg.frames = len(frames)
        if not seg.spans:
            seg.spans = n_spans
        return out


def _read_exact(rfile, n: int) -> bytes:
    data = rfile.read(n)
    if len(data) != n:
        raise ConnectionError("client closed the connection mid-body")
    return data


def _drain_n(rfile, n: int) -> None:
    while n > 0:
        got = rfile.read(min(n, 1 << 20))
        if not got:
            return
        n -= len(got)


def _drain(h: BaseHTTPRequestHandler, limit: int, reply: _Reply) -> None:
    """Read and discard a refused request's body so the connection stays usable; a body over
    ``limit`` (or of unknown length) is not read: the connection is closed after the answer."""
    length = h.headers.get("Content-Length")
    try:
        n = int(length) if length is not None else -1
    except ValueError:
        n = -1
    if 0 <= n <= limit:
        _drain_n(h.rfile, n)
    else:
        reply.close = True


# --------------------------------------------------------------------------- live view


def top_view(source) -> Any:
    """A rich renderable of the collector's live numbers: ``source`` is a :class:`Collector` or a
    dict with the keys of ``Collector.stats`` and ``Collector.rates()`` (e.g. from ``GET /stats``)."""
    from rich.table import Table

    if isinstance(source, Collector):
        st, r = source.stats, source.rates()
    else:
        st, r = source, source

    def f(v, fmt):
        return "–" if v is None else format(v, fmt)

    t = Table(
        title=f"llmscope collect  :{st.get('port')}  up {st.get('uptime_s', 0):,.0f}s",
        show_header=False,
        box=None,
        padding=(0, 2),
    )
    t.add_column(justify="left", style="bold")
    t.add_column(justify="right")
    t.add_column(justify="left", style="bold")
    t.add_column(justify="right")
    t.add_row("requests/s", f(r.get("requests_per_s"), ",.1f"), "spans/s", f(r.get("spans_per_s"), ",.0f"))
    t.add_row(
        "span error rate",
        f(r.get("error_rate", 0) * 100, ".1f") + "%",
        "refused requests",
        f(r.get("rejected_rate", 0) * 100, ".1f") + "%",
    )
    t.add_row("P50 latency", f(r.get("p50_ms"), ",.1f") + " ms", "P99 latency", f(r.get("p99_ms"), ",.1f") + " ms")
    t.add_row("tokens/s", f(r.get("tokens_per_s"), ",.0f"), "$/hour", "$" + f(r.get("usd_per_hour"), ",.4f"))
    t.add_row(
        "spans received", f(st.get("spans_received"), ","), "spans in store (this run)", f(st.get("spans_added"), ",")
    )
    t.add_row("backlog spans", f(st.get("backlog_spans"), ","), "flush lag", f(st.get("flush_lag_s"), ".1f") + " s")
    t.add_row(
        "spool",
        f((st.get("spool_bytes") or 0) / 1e6, ",.1f") + " MB",
        "last flush",
        f(st.get("last_flush_seconds"), ".2f")
        + " s"
        + (f" ({st['flush_errors']} errors)" if st.get("flush_errors") else ""),
    )
    return t


def run_top(collector: Collector, done: threading.Event, interval: float = 1.0) -> None:
    """Redraw :func:`top_view` every ``interval`` seconds until ``done`` is set."""
    from rich.live import Live

    with Live(top_view(collector), refresh_per_second=4, screen=False) as live:
        while not done.wait(interval):
            live.update(top_view(collector))


__all__ = [
    "Collector",
    "CollectorConfig",
    "CollectorError",
    "Spool",
    "decode_payload",
    "inflate",
    "read_frames",
    "top_view",
    "run_top",
]
