"""Normalization in worker processes, off the request threads and their interpreter lock.

A request body goes to a worker as it arrived (still gzipped if it came so); the worker inflates it
(capped), decodes and normalizes it with :func:`llmscope.ingest.decode.decode` and the same
:class:`~llmscope.normalize.builder.Batch` as ``llmscope ingest``, and sends back the verdict (spans,
bad records and why) with the Arrow batches through files in shared memory
(:mod:`llmscope.ingest.handoff`: one copy in the worker, none here). The request thread waits for
the verdict, spools the body and acknowledges; the batches wait in memory for the store writer, so
nothing is decoded twice. Segments replayed after a crash are normalized here too.
"""

from __future__ import annotations

import contextlib
import gc
import multiprocessing
import os
import threading
import time
from concurrent.futures import Future, ProcessPoolExecutor

import pyarrow.compute as pc

from ..ingest import decode as decoding
from ..ingest import handoff
from ..normalize.builder import Batch, Mapping
from .spool import CT_PROTOBUF, SIG_LOGS

WORKER_NICENESS = 3  # as ingest's workers: the single store writer runs whenever it can
_mapping: Mapping | None = None


class Refused(Exception):
    """A body the collector will not take: ``kind`` is ``invalid`` (400) or ``too_large`` (413)."""

    def __init__(self, kind: str, message: str):
        super().__init__(message)
        self.kind, self.message = kind, message


class Normalized:
    """What a worker made of one body: counts, the first reasons for bad records, and the files in
    shared memory that hold its Arrow batches (read by the store writer; this process never maps them)."""

    __slots__ = (
        "parts", "n_spans", "n_logs", "n_bad", "reasons", "error_spans", "tokens", "nbytes", "redacted", "_pool"
    )  # fmt: skip

    def __init__(self, parts, n_spans, n_logs, n_bad, reasons, error_spans, tokens, nbytes, redacted, pool=None):
        self.parts: tuple = parts  # (spans, logs): each a slot path, a RecordBatch (no pool) or None
        self.n_spans, self.n_logs, self.n_bad, self.reasons = n_spans, n_logs, n_bad, reasons
        self.error_spans, self.tokens, self.nbytes = error_spans, tokens, nbytes
        self.redacted: dict[str, int] = redacted  # PII kind -> values replaced (privacy on)
        self._pool = pool

    @property
    def empty(self) -> bool:
        return self.parts == (None, None)

    def release(self) -> None:
        """The batches are in the store (or dropped): their shared-memory files may be filled again."""
        if self._pool is not None:
            self._pool.free([p for p in self.parts if isinstance(p, str)])
        self.parts = (None, None)


def _init(mapping: Mapping, watch_parent: bool = True) -> None:
    global _mapping
    _mapping = mapping
    if watch_parent:  # a collector killed with -9 must not leave its workers behind
        threading.Thread(target=_exit_with_parent, args=(os.getppid(),), daemon=True).start()
    gc.disable()  # decoding makes millions of short-lived objects with no cycles (see ingest.pipeline)
    with contextlib.suppress(OSError, AttributeError):
        os.nice(WORKER_NICENESS)


def _exit_with_parent(parent: int) -> None:
    """A worker whose parent died (kill -9) exits within a tenth of a second: it must not keep the store's
    lock or the spool (PR_SET_PDEATHSIG would follow the parent *thread* that spawned it, which may be a request
    thread that ends long before the collector)."""
    while True:
        time.sleep(0.1)
        if os.getppid() != parent:
            os._exit(0)


def normalize(
    body: bytes, ctype: int, sig: int, encoding: str, max_inflated: int, slots: tuple[str, str] | None
) -> tuple:
    """In a worker (or in-process when there is no pool): one body -> ("ok", ...) or ("refused", kind, message)."""
    batch = Batch(_mapping or Mapping(), source="collector")
    try:
        decoding.decode(
            body,
            batch,
            decoding.OTLP_PROTOBUF if ctype == CT_PROTOBUF else decoding.OTLP_JSON,
            signal=decoding.LOGS if sig == SIG_LOGS else decoding.TRACES,
            encoding=encoding,
            max_inflated=max_inflated,
        )
    except decoding.TooLarge as e:
        return ("refused", "too_large", str(e))
    except decoding.BadBody as e:
        return ("refused", "invalid", str(e))
    # a record holding a value no column can store is dropped here as a bad record of its own
    spans = batch.span_record_batch() if len(batch) else None
    logs = batch.log_record_batch() if batch.n_logs() else None
    spans = spans if spans is not None and spans.num_rows else None
    logs = logs if logs is not None and logs.num_rows else None
    reasons = [r for _, r in batch.errors[:3]]
    error_spans = tokens = 0
    if spans is not None:
        error_spans = pc.sum(pc.equal(spans.column("status"), "error")).as_py() or 0
        tokens = (pc.sum(spans.column("input_tokens")).as_py() or 0) + (
            pc.sum(spans.column("output_tokens")).as_py() or 0
        )
    nbytes = (spans.nbytes if spans is not None else 0) + (logs.nbytes if logs is not None else 0)
    spans_slot, logs_slot = slots or (None, None)
    parts = (handoff.write(spans, spans_slot), handoff.write(logs, logs_slot))
    redacted = batch.redacted()  # after the batches: rows dropped there are not stored
    return ("ok", parts, len(batch), batch.n_logs(), batch.n_bad, reasons, error_spans, tokens, nbytes, redacted)


class Workers:
    """A pool of normalizing processes (spawned, so they share nothing with the server's threads)."""

    def __init__(self, mapping: Mapping, n: int | None = None, max_inflated: int = 64 << 20):
        self.max_inflated = max_inflated
        self.n = n if n is not None else (os.cpu_count() or 1)
        self._mapping = mapping
        self._pool: ProcessPoolExecutor | None = None
        self._slots: handoff.Slots | None = None
        self._lock = threading.Lock()

    def start(self) -> None:
        if self.n <= 0:
            _init(self._mapping, watch_parent=False)  # in-process (tests, tiny set-ups): same code, no pool
            gc.enable()
            return
        self._slots = handoff.Slots()
        self._pool = ProcessPoolExecutor(
            max_workers=self.n,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_init,
            initargs=(self._mapping,),
        )
        # start every worker now, not on the first request
        for f in [self._pool.submit(os.getpid) for _ in range(self.n)]:
            f.result()

    def pids(self) -> list[int]:
        return list(self._pool._processes) if self._pool is not None else []  # noqa: SLF001 - for RSS figures

    def submit(self, body: bytes, ctype: int, sig: int, encoding: str) -> Future:
        """A future of :class:`Normalized` (or raising :class:`Refused`)."""
        if self._pool is None:
            f: Future = Future()
            try:
                f.set_result(self._finish(normalize(body, ctype, sig, encoding, self.max_inflated, None), ()))
            except Refused as e:
                f.set_exception(e)
            return f
        with self._lock:
            slots = (self._slots.take(), self._slots.take())
        inner = self._pool.submit(normalize, body, ctype, sig, encoding, self.max_inflated, slots)
        outer: Future = Future()

        def done(fut: Future) -> None:
            try:
                outer.set_result(self._finish(fut.result(), slots))
            except BaseException as e:  # Refused, or a worker that died: the request answers for it
                outer.set_exception(e)

        inner.add_done_callback(done)
        return outer

    def _finish(self, result: tuple, slots: tuple) -> Normalized:
        if result[0] == "refused":
            self.free(slots)
            raise Refused(result[1], result[2])
        _, parts, *counts = result
        self.free([s for s in slots if s not in parts])
        return Normalized(parts, *counts, pool=self)

    def free(self, slots) -> None:
        if self._slots is None or not slots:
            return
        with self._lock:
            for s in slots:
                self._slots.consumed(s)

    def stop(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
        if self._slots is not None:
            self._slots.close()
            self._slots = None
