"""Ingest: readers -> normalize (on every core) -> one transactional load into the store.

    >>> from llmscope.ingest import ingest
    >>> report = ingest(["sample_traces/"], db="llmscope.duckdb")
    >>> report.spans_added, report.bad_records

Bad records never stop the good ones (unless ``strict``): each is counted, the first few are kept
with file and line for the user. ``strict=True`` aborts on the first bad record and leaves the
store untouched.
"""

from __future__ import annotations

import contextlib
import gc
import os
import time
from collections import deque
from collections.abc import Callable, Iterable
from concurrent.futures import Future
from dataclasses import dataclass, field, fields

import pyarrow as pa
import pyarrow.compute as pc

from .. import store as store_mod
from ..errors import StrictAbort
from ..normalize.builder import Batch, Mapping
from ..pools import process_pool
from ..store.pricing import UserPrice
from . import handoff, positions
from .readers import TRACE_SUFFIXES, InputError, Skipped, Unit, decode_unit, discover, plan, skipped_in_directories

MAX_EXAMPLES = 20
# Below this much input, worker processes cost more to start than they save.
PARALLEL_THRESHOLD_BYTES = 24 << 20


@dataclass
class IngestReport(store_mod.LoadResult):
    """What an ingest did: the store's load result plus what the readers saw."""

    files: int = 0
    bytes_read: int = 0
    bad_records: int = 0
    bad_examples: list[tuple[str, int, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    unattached_logs: int = 0  # message log records without a trace/span id (nothing to attach them to)
    redacted: dict[str, int] = field(default_factory=dict)  # PII kind -> values replaced by placeholders
    elapsed_s: float = 0.0

    @property
    def spans_per_s(self) -> float:
        return self.spans_read / self.elapsed_s if self.elapsed_s else 0.0


@dataclass
class Progress:
    """What a progress bar needs; the CLI renders it, the library only updates it."""

    files_done: int = 0
    files_total: int = 0
    bytes_done: int = 0
    bytes_total: int = 0
    spans: int = 0
    bad: int = 0


def _worker_init() -> None:
    # The store writer in the parent is the serial stage; with a worker per core the OS would give
    # it only its share of a core. A slightly lower priority for the workers lets it run whenever it
    # can (measured on 2 cores: 8-15% faster ingest; niceness 3 does as well as 19 and leaves the
    # workers nearly their fair share against other programs).
    with contextlib.suppress(OSError, AttributeError):
        os.nice(WORKER_NICENESS)


WORKER_NICENESS = 3


# Small whole files (a directory of many small exports) travel in groups: one task, one Arrow
# batch and one hand-off to the store per group instead of per file (measured: 2,500 files of
# 36 KB took 2.6x as long as the same lines in one file when sent one by one).
SMALL_FILE_BYTES = 1 << 20
GROUP_BYTES = 4 << 20
GROUP_FILES = 256


# How many tasks may wait, decoded or not, while this process writes. A flush of a pooled batch
# takes ~0.4 s; the queue must hold more work than the workers do in that time or they sit idle
# (measured on 2 cores: 8 a worker left the cores idle ~15% of the time in dips at every flush; 16
# keeps them busy, ingest 5% faster; more only lengthens the tail the writer works through alone).
TASKS_AHEAD_PER_WORKER = 16


def _work(units: list[Unit], mapping: Mapping, slots: tuple[str, str] | None = None):
    """Runs in a worker: decode and normalize a task (a piece of a big file, or several small
    files), ship one Arrow batch of spans (and one of log messages) back with each unit's counts and
    the values redaction replaced in them."""
    # Decoding makes millions of short-lived objects with no cycles; the cyclic GC would
    # rescan them over and over (measured: a third of decode time).
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        b = Batch(mapping)
        counts = []
        for unit in units:
            n_errors, n_bad, unattached = len(b.errors), b.n_bad, b.unattached_logs
            decode_unit(unit, mapping, b)
            counts.append(
                (
                    b.errors[n_errors : n_errors + MAX_EXAMPLES],
                    b.n_bad - n_bad,
                    b.line_count,
                    b.skipped_note,
                    b.unattached_logs - unattached,
                )
            )
        spans = b.span_record_batch() if len(b) else None
        logs = b.log_record_batch() if b.n_logs() else None
        if b.dropped:  # records no column could hold: bad records of the units they came from
            counts = _count_dropped(units, counts, b.dropped)
        redacted = b.redacted()  # after the batches: rows dropped there are not stored
    finally:
        if gc_was_enabled:
            gc.enable()
    spans_slot, logs_slot = slots or (None, None)
    return handoff.write(spans, spans_slot), handoff.write(logs, logs_slot), counts, redacted


def _count_dropped(units: list[Unit], counts: list[tuple], dropped: list[tuple[str, int, str]]) -> list[tuple]:
    """Add the records dropped while building the Arrow batch to the counts of their units (a task's
    units are distinct files, or one piece of one file)."""
    out = [list(c) for c in counts]
    index = {u.source: i for i, u in enumerate(units)}
    for source, line, reason in dropped:
        c = out[index.get(source, len(units) - 1)]
        if len(c[0]) < MAX_EXAMPLES:
            c[0] = [*c[0], (line, reason)]
        c[1] += 1
    return [tuple(c) for c in out]


def ingest(
    paths: Iterable[str],
    db: str | os.PathLike | None = None,
    *,
    mapping: Mapping | None = None,
    strict: bool = False,
    workers: int | None = None,
    user_prices: list[UserPrice] | None = None,
    on_progress: Callable[[Progress], None] | None = None,
    con=None,
    full: bool = False,
) -> IngestReport:
    """Load traces and logs from files, directories or ``-`` into the store in one transaction.

    A JSON-lines file read before is read on from where that ingest stopped, if it is still the
    same file (see :mod:`llmscope.ingest.positions`); ``full`` reads every file whole again.
    """
    started = time.perf_counter()
    paths = list(paths)
    inputs = list(discover(paths))
    report = IngestReport(run_id="", files=len(inputs))
    report.notes += [
        f"{f}: skipped, not a trace file name ({', '.join(TRACE_SUFFIXES)})" for f in skipped_in_directories(paths)
    ]
    sizes = {p: (os.path.getsize(p) if p != "-" else 0) for p, _ in inputs}
    n_workers = workers if workers is not None else (os.cpu_count() or 1)
    own_con = con is None
    con = con if con is not None else store_mod.connect(db, wait_s=store_mod.LOCK_WAIT_S)
    run = _Ingest(con, mapping or Mapping(), report, Progress(files_total=len(inputs)), sizes, strict, on_progress)
    try:
        run.start(full, n_workers, own_con, user_prices)
        with run.loader:
            for path, from_dir in inputs:
                run.read(path, from_dir)
            run.finish()
        for f in fields(store_mod.LoadResult):
            setattr(report, f.name, getattr(run.loader.result, f.name))
        if report.evaluations_waiting:
            report.notes.append(
                f"{report.evaluations_waiting} evaluation result(s) name a response no span in the store has yet: "
                "kept, and attached when that span is ingested"
            )
    finally:
        run.close()
        if own_con:
            con.close()
    report.elapsed_s = time.perf_counter() - started
    return report


class _Ingest:
    """One ingest's state between reading and the store: the pool (if any), the tasks in flight, the group
    of small files being gathered, each file's line numbering, and the report and progress it books into."""

    def __init__(
        self, con, mapping: Mapping, report: IngestReport, progress: Progress, sizes: dict, strict, on_progress
    ):
        self.con, self.mapping, self.report, self.progress, self.sizes = con, mapping, report, progress, sizes
        self.strict, self.on_progress = strict, on_progress
        self.pool = None
        self.n_workers = 1
        self.stack = contextlib.ExitStack()
        self.line_offset: dict[str, int] = {}
        self.inflight: deque[tuple[list[Unit], tuple[str, str], Future]] = deque()
        self.group: list[Unit] = []

    # ------------------------------------------------------------------ set-up and the end
    def start(self, full: bool, n_workers: int, own_con: bool, user_prices: list[UserPrice] | None) -> None:
        self.tracker = positions.Tracker(self.con, self.sizes, full)
        p = self.progress
        p.bytes_total = sum(self.sizes.values()) - self.tracker.bytes_not_read
        if n_workers > 1 and (p.bytes_total > PARALLEL_THRESHOLD_BYTES or "-" in self.sizes):
            self._start_pool(n_workers, own_con)
        self.loader = store_mod.Loader(self.con, user_prices=user_prices)

    def _start_pool(self, n_workers: int, own_con: bool) -> None:
        con = self.con
        self.n_workers = n_workers
        self.pool = process_pool(n_workers, initializer=_worker_init)  # workers die with this process
        self.slots = handoff.Slots()  # batches come back through files in shared memory
        self.stack.callback(self.slots.close)
        # The workers keep every core busy; a second DuckDB thread only contends with them
        # (measured: 8% slower overall with 2 threads on 2 cores).
        threads = con.execute("SELECT current_setting('threads')").fetchall()[0][0]
        con.execute("SET threads = 1")
        self.stack.callback(con.execute, f"SET threads = {threads}")
        if own_con:
            store_mod.reuse_block_memory(con)

    def finish(self) -> None:
        """Everything submitted is in the loader; the read positions and the notes are booked."""
        report = self.report
        self.submit_group()
        self.drain()
        self.tracker.save(self.con, self.line_offset)  # in this transaction: the next ingest reads on from there
        if self.tracker.note():
            report.notes.append(self.tracker.note())
        self.loader.bad_records = report.bad_records
        if report.unattached_logs:
            report.notes.append(
                f"{report.unattached_logs} log record(s) carry no trace/span id and were not attached to any span"
            )

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(cancel_futures=True)
        self.stack.close()

    # ------------------------------------------------------------------ reading
    def read(self, path: str, from_dir: bool) -> None:
        """One input, planned into units: a big file in pieces (a task each), small whole files in groups."""
        tracker, p = self.tracker, self.progress
        if tracker.skip(path):
            p.files_done += 1
            return
        first = True
        for item in plan(path, from_dir, start_at=tracker.start(path)):
            if isinstance(item, Skipped):
                # keep order: results before this point belong before the skip
                self.submit_group()
                self.drain()
                self.skipped(item)
                continue
            lines_before = tracker.planned(path, item, first)
            if lines_before is not None:  # read on from an earlier ingest: number lines on
                self.line_offset[path] = lines_before
            first = False
            self._add(item)
        p.files_done += 1
        if self.on_progress:
            self.on_progress(p)

    def _add(self, unit: Unit) -> None:
        whole_small_file = (
            unit.data is None
            and unit.start == 0
            and unit.nbytes < SMALL_FILE_BYTES
            and unit.end in (0, self.sizes.get(unit.source))
        )  # end 0: a whole document
        if not whole_small_file:
            self.submit_group()
            self.submit([unit])
            return
        self.group.append(unit)
        if sum(u.nbytes for u in self.group) >= GROUP_BYTES or len(self.group) >= GROUP_FILES:
            self.submit_group()

    # ------------------------------------------------------------------ tasks
    def submit(self, task: list[Unit]) -> None:
        if self.pool is None:
            self.absorb(task, _work(task, self.mapping))
            return
        task_slots = (self.slots.take(), self.slots.take())
        self.inflight.append((task, task_slots, self.pool.submit(_work, task, self.mapping, task_slots)))
        # let workers run ahead while this process writes a pooled batch
        while len(self.inflight) > TASKS_AHEAD_PER_WORKER * self.n_workers:
            self.drain_one()

    def submit_group(self) -> None:
        if self.group:
            self.submit(self.group[:])
            self.group.clear()

    def drain_one(self) -> None:
        task, task_slots, f = self.inflight.popleft()
        self.absorb(task, f.result(), task_slots)

    def drain(self) -> None:
        while self.inflight:
            self.drain_one()

    # ------------------------------------------------------------------ results
    def absorb(self, task: list[Unit], result, task_slots: tuple[str, str] | None = None) -> None:
        """A task's batches into the loader, its counts into the report."""
        spans, logs, counts, redacted = result
        spans, logs = handoff.read(spans), handoff.read(logs)
        offsets = [self.account(unit, *c) for unit, c in zip(task, counts)]
        for kind, n in redacted.items():
            self.report.redacted[kind] = self.report.redacted.get(kind, 0) + n
        # a piece of a big file numbers its lines from its start; groups hold whole files only
        if spans is not None and len(task) == 1 and offsets[0]:
            spans = spans.set_column(
                spans.schema.get_field_index("source_line"),
                "source_line",
                pc.add(spans.column("source_line"), pa.scalar(offsets[0], pa.int64())),
            )
        flushed = self.loader.add(spans, logs)
        if task_slots is not None:
            self.slots.hold(task_slots[0])
            self.slots.consumed(task_slots[1])  # log batches are copied into staging on add
            if flushed:
                self.slots.flushed()
        self.progress.spans += spans.num_rows if spans is not None else 0
        if self.on_progress:
            self.on_progress(self.progress)

    def account(self, unit: Unit, errors, n_bad: int, line_count: int, note, unattached: int) -> int:
        """Book one unit's counts and bad-record examples; its first line's offset in its file."""
        report, progress = self.report, self.progress
        report.unattached_logs += unattached
        offset = self.line_offset.get(unit.source, 0)
        self.line_offset[unit.source] = offset + line_count
        if note:
            report.notes.append(f"{unit.source}: skipped, {note}")
        if n_bad:
            report.bad_records += n_bad
            progress.bad += n_bad
            for line, reason in errors:
                if len(report.bad_examples) < MAX_EXAMPLES:
                    report.bad_examples.append((unit.source, line + offset, reason))
            if self.strict:
                raise StrictAbort(
                    (unit.source, errors[0][0] + offset, errors[0][1])
                    if errors
                    else (unit.source, offset, "bad record")
                )
        progress.bytes_done += unit.nbytes
        report.bytes_read += unit.nbytes
        return offset

    def skipped(self, s: Skipped) -> None:
        """A file or record the reader skipped: a bad record (strict: the end), or a note."""
        report = self.report
        if not s.bad:
            report.notes.append(f"{s.source}: skipped, {s.reason}")
            return
        report.bad_records += 1
        self.progress.bad += 1
        line = self.line_offset.get(s.source, 0)
        if len(report.bad_examples) < MAX_EXAMPLES:
            report.bad_examples.append((s.source, line, s.reason))
        if self.strict:
            raise StrictAbort((s.source, line, s.reason))


__all__ = ["ingest", "IngestReport", "Progress", "StrictAbort", "InputError"]
