"""The one store writer: closed spool segments -> one transaction each flush -> segments deleted.

Why the store is opened only during a flush: DuckDB lets one process write a database file, and
while it has the file open read-write no other process may open it at all, not even read-only. A
collector that kept the store open would lock ``llmscope report …`` out for as long as it runs. So
the writer connects, loads, commits and closes once per flush and holds no handle in between; the
spool on disk, not the database, is what makes acknowledged data durable between flushes.

* a report that starts while a flush holds the file waits (readers retry for up to 10 s);
* a flush that finds the file held by a reader retries a few times with back-off, then gives up
  until the next interval; data waits safely in the spool (bounded by ``max_spool_bytes``, then 503);
* after a flush the store is left alone for ``reader_gap_seconds`` so a waiting report gets in; under
  sustained load the next flush is simply bigger (cheaper per span);
* the load runs in a writer process of its own (one writer): it maps the batches the workers left in
  shared memory and never competes for an interpreter lock with the request threads;
* the batches were normalized by the workers when the request came in and wait in memory; frames
  that were not kept (over ``max_cached_bytes``, or replayed after a crash) are normalized again by
  the workers, all of a flush's frames at once;
* a crash between the store's commit and the segment's deletion replays spans already stored: the
  store de-duplicates by ``(trace_id, span_id)``, so nothing is doubled.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import threading
import time
from concurrent.futures import ProcessPoolExecutor

from .. import store as store_mod
from ..errors import StoreBusy
from .metrics import FLUSH_SQL, Metrics
from .spool import Segment, Spool, read_frames
from .workers import Refused, Workers

log = logging.getLogger("llmscope.collect")
LOCK_RETRIES = (0.05, 0.1, 0.2, 0.4, 0.8)  # back-off when a reader holds the store


def _load(db: str, parts: list[tuple], retries: tuple) -> tuple:
    """In the writer process: load every (spans, logs) part in one transaction. Returns ("ok",
    LoadResult, metric rows) or ("locked", message) when readers held the store throughout."""
    from ..ingest import handoff

    last, busy = None, 0
    for delay in (0.0,) + tuple(retries):
        if delay:
            time.sleep(delay)
        try:
            con = store_mod.connect(db)
        except StoreBusy as e:  # a reader holds the file: retry with back-off
            last = e
            busy += 1
            continue
        try:
            loader = store_mod.Loader(con)
            with loader:
                for spans, logs in parts:
                    loader.add(handoff.read(spans), handoff.read(logs))
            rows = con.execute(FLUSH_SQL, [loader._started]).fetchall()
            return "ok", loader.result, rows, busy
        finally:
            con.close()
    return "locked", str(last), None, busy


def _writer_init() -> None:
    from .workers import _exit_with_parent

    threading.Thread(target=_exit_with_parent, args=(os.getppid(),), daemon=True).start()


class Flusher:
    def __init__(self, cfg, db, spool: Spool, workers: Workers, metrics: Metrics):
        self.cfg = cfg
        self.db = db
        self.spool = spool
        self.workers = workers
        self.metrics = metrics
        self.lock = threading.Lock()  # one flush at a time
        self.stop_event = threading.Event()
        self.wake = threading.Condition()
        self._writer = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"), initializer=_writer_init)

    def close(self) -> None:
        self._writer.shutdown(wait=True)

    def notify(self) -> None:
        with self.wake:
            self.wake.notify()

    def loop(self) -> None:
        backoff_until = 0.0
        while not self.stop_event.is_set():
            with self.wake:
                self.wake.wait(timeout=min(0.25, self.cfg.flush_seconds))
            if self.stop_event.is_set():
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
                ok = self.flush_some()
            except Exception:  # never let the writer die: the spool keeps the data
                log.exception("flush failed")
                ok = False
            if not ok:
                backoff_until = time.time() + max(0.5, min(self.cfg.flush_seconds, 5.0))
            elif self.cfg.reader_gap_seconds:
                backoff_until = time.time() + self.cfg.reader_gap_seconds

    def with_store(self, fn, retries=LOCK_RETRIES):
        """Open the store read-write, run ``fn(con)``, close; retries while another process holds it.
        Returns (True, result), or False when the store stayed locked."""
        last = None
        for delay in (0.0,) + tuple(retries):
            if delay:
                time.sleep(delay)
            try:
                con = store_mod.connect(self.db)
            except StoreBusy as e:  # a reader holds the file: retry with back-off
                last = e
                self.metrics.count(store_busy=1)
                continue
            try:
                return True, fn(con)
            finally:
                con.close()
        self.metrics.set(last_error=str(last))
        return False

    def flush_all(self, retries=LOCK_RETRIES) -> None:
        while self.spool.has_data():
            if not self.flush_some(retries):
                return

    def flush_some(self, retries=LOCK_RETRIES) -> bool:
        """Load the oldest closed segments (the open one is closed first) in one transaction; delete
        them after the commit. False if the store stayed locked (the segments stay in the spool)."""
        with self.lock:
            segs = self.spool.take()
            if not segs:
                return True
            t0 = time.time()
            try:
                batches = self._batches(segs)
                parts = [b.parts for b in batches if not b.empty]
                if parts and not isinstance(parts[0][0] or parts[0][1], str):  # no worker pool: load here
                    status, result, rows, busy = _load(str(self.db), parts, retries)
                else:
                    status, result, rows, busy = self._writer.submit(_load, str(self.db), parts, retries).result()
                if busy:
                    self.metrics.count(store_busy=busy)
                done = (True, (result, rows)) if status == "ok" else False
                if not done:
                    self.metrics.set(last_error=result)
            except BaseException as e:
                self.spool.give_back(segs)
                self.metrics.count(flush_errors=1)
                self.metrics.set(last_error=f"{type(e).__name__}: {e}")
                raise
            if not done:
                self.spool.give_back(segs)
                self.metrics.count(flush_errors=1)
                return False
            result, rows = done[1]
            self.spool.remove(segs)
            firsts = [s.first_at for s in segs if s.first_at is not None]
            lag = time.time() - min(firsts) if firsts else 0.0
            self.metrics.flushed(rows)
            self.metrics.flush_done(result, sum(r[5] for r in rows), time.time() - t0, lag)
            return True

    def _batches(self, segs: list[Segment]) -> list:
        """Every frame's normalized batches: from memory when the request left them, else from the workers."""
        out, todo = [], []
        for seg in segs:
            if seg.cache and len(seg.cache) == seg.frames:
                out.extend(seg.cache[i] for i in range(seg.frames))
                continue
            frames, skipped = read_frames(seg.path)
            if skipped:
                log.warning("%s: skipped %d bytes of torn or damaged frames", seg.path.name, skipped)
                self.metrics.count(spool_frames_skipped_bytes=skipped)
            for i, frame in enumerate(frames):
                if i in seg.cache:
                    out.append(seg.cache[i])
                else:
                    todo.append(
                        (seg, i, frame, self.workers.submit(frame.body, frame.ctype, frame.sig, frame.encoding))
                    )
            seg.frames = len(frames)
        if todo:
            self.metrics.count(frames_renormalized=len(todo))
        spans_found: dict[int, int] = {}
        for seg, i, _frame, fut in todo:
            try:
                norm = fut.result()
            except Refused as e:
                log.warning("%s frame %d: %s", seg.path.name, i, e.message)
                self.metrics.count(spool_frames_bad=1)
                continue
            seg.cache[i] = norm  # a retried flush does not normalize again
            seg.cached_bytes += norm.nbytes
            spans_found[id(seg)] = spans_found.get(id(seg), 0) + norm.n_spans
            out.append(norm)
        for seg in segs:
            if not seg.spans:
                seg.spans = spans_found.get(id(seg), 0)
        return out
