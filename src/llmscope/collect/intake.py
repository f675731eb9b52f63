"""What every export request goes through, whichever protocol brought it: check, normalize in a worker,
spool, acknowledge.

The fronts (:mod:`.server_http`, :mod:`.server_grpc`) only speak their protocol; the decisions are
here, named by a *kind* that each front maps to its own answer (:data:`HTTP_STATUS`, and the gRPC
codes in :mod:`.server_grpc`):

1. **admit** (before a body is read where the protocol allows): not shutting down, the spool under
   ``max_spool_bytes`` (else ``spool_full``: 503 / UNAVAILABLE with a retry delay), the oldest unflushed
   data younger than ``max_lag_seconds`` (else ``lagging``: 429 / RESOURCE_EXHAUSTED with a retry delay);
2. **reserve** the body's bytes against ``max_inflight_bytes`` (else ``overloaded``, 503 with a retry
   delay), so memory stays bounded whatever clients send at once;
3. **normalize** in a worker process: a body that is not an export request is ``invalid`` (400 /
   INVALID_ARGUMENT), one that inflates past the cap ``too_large`` (413); a request whose every record is
   bad is ``invalid`` too, with the reasons;
4. **spool** the body as it came and fsync (shared with concurrent requests) — only then
5. **acknowledge**: success, or ``partial_success`` naming the rejected records.
"""

from __future__ import annotations

import hmac
import threading
import time
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass

from .metrics import Metrics
from .spool import SIG_LOGS, Spool
from .workers import Refused, Workers

# kind -> HTTP status (OTLP/HTTP spec: 400 not retryable; 429/503 retryable with Retry-After)
HTTP_STATUS = {
    "invalid": 400,
    "unauthenticated": 401,
    "not_found": 404,
    "method": 405,
    "length_required": 411,
    "too_large": 413,
    "unsupported": 415,
    "lagging": 429,
    "overloaded": 503,
    "spool_full": 503,
    "spool_failed": 503,
    "shutting_down": 503,
    "internal": 500,
}
NORMALIZE_TIMEOUT_S = 60.0


class Refusal(Exception):
    """A request the collector does not take, and why; ``retry_after`` seconds for retryable ones."""

    def __init__(self, kind: str, message: str, retry_after: float | None = None, close: bool = False):
        super().__init__(message)
        self.kind, self.message, self.retry_after, self.close = kind, message, retry_after, close

    @property
    def http_status(self) -> int:
        return HTTP_STATUS[self.kind]


@dataclass
class Accepted:
    signal: int
    spans: int  # accepted (acknowledged) spans
    logs: int
    rejected: int  # records rejected inside the request (partial success)
    message: str
    error_spans: int = 0
    tokens: int = 0


class Intake:
    def __init__(self, cfg, spool: Spool, workers: Workers, metrics: Metrics, wake):
        self.cfg = cfg
        self.spool = spool
        self.workers = workers
        self.metrics = metrics
        self._wake = wake  # called after a frame is spooled: the flusher may want to run
        self.closing = False
        self._inflight = 0
        self._inflight_lock = threading.Lock()
        self._retry = max(1, round(cfg.flush_seconds * 2))

    # ------------------------------------------------------------------ checks

    def authorized(self, header: str | None) -> bool:
        """``Authorization: Bearer TOKEN`` (HTTP header, or gRPC ``authorization`` metadata)."""
        if self.cfg.token is None:
            return True
        scheme, _, cred = (header or "").partition(" ")
        return scheme.lower() == "bearer" and hmac.compare_digest(cred.strip().encode(), self.cfg.token.encode())

    def admit(self) -> None:
        if self.closing:
            raise Refusal("shutting_down", "collector is shutting down", retry_after=5, close=True)
        if self.spool.bytes > self.cfg.max_spool_bytes:
            raise Refusal("spool_full", "spool is full; the store writer is behind", retry_after=self._retry)
        if self.cfg.max_lag_seconds:
            _, oldest, _ = self.spool.pending()
            if oldest is not None and time.time() - oldest > self.cfg.max_lag_seconds:
                raise Refusal(
                    "lagging", "the store writer lags (is a long report holding the store?)", retry_after=self._retry
                )

    def reserve(self, n: int) -> None:
        """Count ``n`` more bytes in flight, or refuse the request (the caller releases them)."""
        with self._inflight_lock:
            if self._inflight and self._inflight + n > self.cfg.max_inflight_bytes:
                raise Refusal(
                    "overloaded",
                    f"over {self.cfg.max_inflight_bytes:,} bytes of requests in flight; retry",
                    retry_after=1,
                    close=True,
                )
            self._inflight += n

    def release(self, n: int) -> None:
        with self._inflight_lock:
            self._inflight -= n

    @property
    def inflight_bytes(self) -> int:
        return self._inflight

    # ------------------------------------------------------------------ the body

    def accept(self, body: bytes, ctype: int, sig: int, encoding: str) -> Accepted:
        """Normalize (in a worker), spool, fsync; raises :class:`Refusal`. The caller holds a
        reservation for ``len(body)`` bytes."""
        self.metrics.count(bytes_received=len(body))
        try:
            norm = self.workers.submit(body, ctype, sig, encoding).result(timeout=NORMALIZE_TIMEOUT_S)
        except Refused as e:
            raise Refusal(e.kind, e.message) from None
        except FutureTimeout:
            raise Refusal("overloaded", "the normalizing workers are behind; retry", retry_after=self._retry) from None
        what = "log record(s)" if sig == SIG_LOGS else "span(s)"
        message = ""
        if norm.n_bad:
            message = f"{norm.n_bad} {what} rejected: {'; '.join(norm.reasons)}"
        if norm.empty and norm.n_bad:  # nothing usable: the request as a whole is bad, not retryable
            self.metrics.reject_spans("invalid", norm.n_bad)
            raise Refusal("invalid", message)
        if not norm.empty:
            _, _, cached = self.spool.pending()
            keep = norm if cached + norm.nbytes <= self.cfg.max_cached_bytes else None
            try:
                seg, end = self.spool.append(body, ctype, sig, encoding, norm.n_spans, keep)
                seg.sync(end)
            except OSError as e:
                norm.release()
                self.metrics.count(spool_write_failures=1)
                raise Refusal("spool_failed", f"spool write failed ({e.strerror or e})", retry_after=5) from None
            if keep is None:
                norm.release()  # over the memory cap: the flusher normalizes this frame again from the spool
            self._wake()
        if sig == SIG_LOGS:
            self.metrics.count(log_records_received=norm.n_logs)
        else:
            self.metrics.count(spans_received=norm.n_spans + norm.n_bad, spans_acknowledged=norm.n_spans)
        self.metrics.reject_spans("invalid", norm.n_bad)
        self.metrics.count_redacted(norm.redacted)  # here, once per acknowledged request (not per replay)
        return Accepted(sig, norm.n_spans, norm.n_logs, norm.n_bad, message, norm.error_spans, norm.tokens)
