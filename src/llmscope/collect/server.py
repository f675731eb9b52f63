"""``llmscope collect``: OTLP/HTTP and OTLP/gRPC receivers that write into the store while reports keep working.

    >>> from llmscope.collect import Collector, CollectorConfig
    >>> c = Collector(CollectorConfig(db="llmscope.duckdb", port=4318, grpc_port=4317))
    >>> c.serve_forever()          # until SIGINT/SIGTERM; then flushes everything and returns

How a request travels (each step is a module of this package):

1. a front takes it: :mod:`.server_http` (``POST /v1/traces``, ``/v1/logs``) or :mod:`.server_grpc`
   (``TraceService/Export``, ``LogsService/Export``), with their limits on connections, sizes and time;
2. :mod:`.intake` checks it (token, back-pressure, bytes in flight) and hands the body to
   :mod:`.workers`, processes that inflate, decode and normalize it with the same code as
   ``llmscope ingest`` (:func:`llmscope.ingest.decode.decode`, :class:`~llmscope.normalize.builder.Batch`);
3. the body is appended to :mod:`.spool` and fsynced (group commit), and only then acknowledged;
4. :mod:`.flusher`, the one store writer, loads closed segments in one transaction per flush and
   deletes them; :mod:`.metrics` counts everything for ``GET /metrics`` and ``GET /stats``;
5. on start, segments left by a crash or ``kill -9`` are replayed before the ports open.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from .. import store as store_mod
from ..normalize.builder import Mapping
from .flusher import LOCK_RETRIES, Flusher
from .intake import Intake
from .live import run_top
from .metrics import Metrics
from .spool import CollectorError, Spool
from .workers import Workers

log = logging.getLogger("llmscope.collect")


@dataclass
class CollectorConfig:
    db: str | None = None
    host: str = "127.0.0.1"
    port: int = 4318  # OTLP/HTTP (0: any free port)
    grpc_port: int | None = None  # OTLP/gRPC; None or -1: off (the CLI's default is 4317; 0: any free port)
    token: str | None = None
    spool_dir: str | None = None  # default: <db path>.spool/
    flush_spans: int = 5000
    flush_seconds: float = 2.0
    max_body_bytes: int = 16 << 20  # per request, whatever its framing
    max_decompressed_bytes: int = 64 << 20  # what one body may inflate to (in a worker)
    max_inflight_bytes: int = 64 << 20  # request bodies being received or normalized, all together
    max_connections: int = 64  # open HTTP connections; one more is answered 503
    request_deadline_seconds: float = 30.0  # a request must arrive whole within this of its first byte
    idle_timeout_seconds: float = 120.0  # an idle keep-alive connection is closed after this
    max_spool_bytes: int = 1 << 30  # beyond: answer 503 with Retry-After
    mapping: Mapping | None = None  # llmscope.normalize.Mapping (context keys, privacy)
    max_lag_seconds: float = 300.0  # oldest unflushed data older than this: answer 429 with Retry-After
    # normalized Arrow batches waiting for the writer (files in shared memory, ~2.5 KB a RAG span); beyond,
    # a frame is normalized again at its flush
    max_cached_bytes: int = 1 << 30
    reader_gap_seconds: float = 0.5  # after a flush, leave the store alone this long so reports get in
    workers: int | None = None  # normalizing processes (default: one per core; 0: in this process)
    grpc_threads: int = 16


class Collector:
    """OTLP receivers -> normalizing workers -> fsynced spool -> periodic transactional loads into the store."""

    def __init__(self, cfg: CollectorConfig):
        self.cfg = cfg
        self.db = store_mod.resolve_db_path(cfg.db)
        self.spool_dir = Path(cfg.spool_dir) if cfg.spool_dir else self.db.with_name(self.db.name + ".spool")
        self.mapping = cfg.mapping or Mapping()
        self.port: int | None = None
        self.grpc_port: int | None = None
        self.spool: Spool | None = None
        self.metrics = Metrics(self._levels)
        self.workers: Workers | None = None
        self.intake: Intake | None = None
        self.flusher: Flusher | None = None
        self._http = None
        self._grpc = None
        self._flush_thread: threading.Thread | None = None
        self.spool_removed = False

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> None:
        """Replay what a previous run left in the spool, then listen; returns once listening."""
        from .server_http import HttpFront

        grpc_on = self.cfg.grpc_port is not None and self.cfg.grpc_port >= 0
        if grpc_on:
            from .server_grpc import _grpc

            _grpc()  # a missing grpcio is one line, before anything starts
        self.spool = Spool(self.spool_dir)
        try:
            self.metrics.set(replayed_segments=self.spool.replayed, started_at=time.time())
            self.workers = Workers(self.mapping, self.cfg.workers, self.cfg.max_decompressed_bytes)
            self.workers.start()
            self.flusher = Flusher(self.cfg, self.db, self.spool, self.workers, self.metrics)
            # the store must exist (and be migrated) for readers; replay leftovers first
            if not self.flusher.with_store(lambda con: None):
                log.warning("store %s is held by another process; will retry at the next flush", self.db)
            while self.spool.closed:
                if not self.flusher.flush_some():
                    log.warning("could not replay the spool into %s yet; the flusher will retry", self.db)
                    break
            self.intake = Intake(self.cfg, self.spool, self.workers, self.metrics, self.flusher.notify)
            self._http = HttpFront(self.cfg, self.intake, self.metrics, self._live_stats)
            if grpc_on:
                from .server_grpc import GrpcFront

                self._grpc = GrpcFront(self.cfg, self.intake, self.metrics)
        except BaseException:
            self._abort_start()
            raise
        self.port = self._http.port
        self._http.start()
        if self._grpc is not None:
            self.grpc_port = self._grpc.port
            self._grpc.start()
        self._flush_thread = threading.Thread(target=self.flusher.loop, name="llmscope-flush", daemon=True)
        self._flush_thread.start()

    def _abort_start(self) -> None:
        if self._http is not None:
            self._http.server.server_close()
        if self.flusher is not None:
            self.flusher.close()
        if self.workers is not None:
            self.workers.stop()
        self.spool.close()

    def stop(self) -> None:
        """Stop accepting, finish requests being worked on, flush everything, close."""
        if self._http is None:
            return
        self.intake.closing = True
        if self._grpc is not None:
            self._grpc.stop()
        self._http.stop()
        self.flusher.stop_event.set()
        self.flusher.notify()
        self._flush_thread.join()
        # final flush: everything acknowledged goes in (or stays in the spool for the next start)
        for _ in range(3):
            self.flusher.flush_all(retries=LOCK_RETRIES + (1.0, 2.0))
            if not self.spool.has_data():
                break
        if self.spool.has_data():
            log.warning(
                "store %s stayed locked; unflushed data is kept in %s and loads at the next start",
                self.db,
                self.spool_dir,
            )
        self.flusher.close()
        self.workers.stop()
        self.spool_removed = self.spool.close(remove_if_empty=True)
        self._http = self._grpc = None

    def serve_forever(self, tui: bool = False, on_start=None) -> None:
        """Start, block until SIGINT/SIGTERM, then stop (flush everything) and return.

        ``tui``: redraw the live view every second meanwhile. ``on_start(collector)`` runs once
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
        before = self.metrics.s["spans_flushed"]
        self.flusher.flush_all()
        return self.metrics.s["spans_flushed"] - before

    # ------------------------------------------------------------------ numbers

    def _levels(self) -> dict:
        out = {"inflight_bytes": 0, "connections": 0}
        if self.spool is not None:
            backlog, oldest, cached = self.spool.pending()
            out.update(
                spool_bytes=self.spool.bytes,
                backlog_spans=backlog,
                cached_bytes=cached,
                flush_lag_s=round(time.time() - oldest, 3) if oldest else 0.0,
            )
        if self.intake is not None:
            out["inflight_bytes"] = self.intake.inflight_bytes
        if self._http is not None:
            out["connections"] = self._http.connections
        return out

    @property
    def stats(self) -> dict:
        s = self.metrics.snapshot()
        s.update(self._levels())
        s["port"] = self.port
        s["grpc_port"] = self.grpc_port
        s["uptime_s"] = round(time.time() - s["started_at"], 3) if s["started_at"] else 0.0
        return s

    def rates(self, window: float = 5.0) -> dict:
        """Live numbers over the last ``window`` seconds (for the live view)."""
        return self.metrics.rates(window)

    def _live_stats(self) -> dict:
        return {**self.stats, **self.rates()}


__all__ = ["Collector", "CollectorConfig", "CollectorError"]
