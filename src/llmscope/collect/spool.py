"""The spool: acknowledged request bodies on disk until the store has them.

A directory of append-only segment files. A frame is a 16-byte header (magic, body length, content
type, signal, content encoding, CRC-32 of the body) and the body as it arrived (still gzipped if it
came so: less to write and to fsync). The current segment takes appends; a flush closes it and loads
closed segments, then deletes them.

* **Group commit**: concurrent requests share ``fdatasync`` calls; a request is acknowledged only
  once the fsync that covers its frame has returned.
* **A failed write leaves the spool as it was**: a write that fails half-way (ENOSPC, EIO) is cut
  off again with ``ftruncate``; if even that fails the segment is closed (the next append opens a new
  one) and replay skips the torn bytes.
* **Replay skips a torn frame and goes on**: frames are found by their magic and checked by their
  CRC; bytes between good frames (a torn write, garbage) are counted and skipped.
* Only one collector may use a spool directory at a time (an ``flock`` on ``lock``). The directory
  is created mode 0700: it holds raw payloads, prompts included, until they are flushed.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import struct
import threading
import time
import zlib
from collections import deque
from pathlib import Path
from typing import Any

from ..errors import CollectorError

# frame: magic, body length, content type, signal, content encoding, crc32(body)
FRAME = struct.Struct(">4sIBBHI")
MAGIC = b"LSP1"
SEGMENT_PREFIX, SEGMENT_SUFFIX = "seg-", ".spool"
SEGMENT_MAX_BYTES = 64 << 20  # rotate the open segment beyond this even between flushes
FLUSH_MAX_BYTES = 256 << 20  # one flush (one transaction) takes at most this much spool

CT_PROTOBUF, CT_JSON = 1, 2
SIG_TRACES, SIG_LOGS = 1, 2
ENCODINGS = {0: "identity", 1: "gzip", 2: "deflate"}
ENCODING_CODES = {"identity": 0, "": 0, "gzip": 1, "x-gzip": 1, "deflate": 2}


class Frame:
    """One spooled request body, as read back."""

    __slots__ = ("ctype", "sig", "encoding", "body")

    def __init__(self, ctype: int, sig: int, encoding: str, body: bytes):
        self.ctype, self.sig, self.encoding, self.body = ctype, sig, encoding, body


class Segment:
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
        self.cache: dict[int, Any] = {}  # frame number -> normalized batches (see workers.Normalized)
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

    def release_cache(self) -> None:
        for entry in self.cache.values():
            entry.release()
        self.cache.clear()
        self.cached_bytes = 0


def read_frames(path: Path) -> tuple[list[Frame], int]:
    """The intact frames of a segment, and how many bytes were skipped as torn or garbage."""
    data = path.read_bytes()
    frames, pos, n, skipped = [], 0, len(data), 0
    while pos + FRAME.size <= n:
        magic, length, ctype, sig, enc, crc = FRAME.unpack_from(data, pos)
        end = pos + FRAME.size + length
        if magic == MAGIC and end <= n and zlib.crc32(data[pos + FRAME.size : end]) == crc:
            frames.append(Frame(ctype, sig, ENCODINGS.get(enc, "identity"), data[pos + FRAME.size : end]))
            pos = end
            continue
        nxt = data.find(MAGIC, pos + 1)  # a torn frame: look for the next one
        nxt = n if nxt < 0 else nxt
        skipped += nxt - pos
        pos = nxt
    return frames, skipped + (n - pos)


class Spool:
    """A directory of append-only segment files; the current one takes appends, closed ones wait for
    the flusher."""

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
        self.closed: deque[Segment] = deque()
        self.current: Segment | None = None
        self.flushing: list[Segment] = []  # taken by the running flush, not yet committed
        self.bytes = 0
        self.write_failures = 0
        found = []
        for p in self.dir.glob(f"{SEGMENT_PREFIX}*{SEGMENT_SUFFIX}"):
            try:
                seq = int(p.name[len(SEGMENT_PREFIX) : -len(SEGMENT_SUFFIX)])
            except ValueError:
                continue
            st = p.stat()
            seg = Segment(p, seq, size=st.st_size)
            seg.first_at = st.st_mtime
            found.append(seg)
            self.bytes += seg.size
        self.closed = deque(sorted(found, key=lambda s: s.seq))
        self.next_seq = max((s.seq for s in found), default=0) + 1
        self.replayed = len(self.closed)

    def _open_segment(self) -> Segment:
        path = self.dir / f"{SEGMENT_PREFIX}{self.next_seq:012d}{SEGMENT_SUFFIX}"
        self.next_seq += 1
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND, 0o600)
        try:
            dfd = os.open(self.dir, os.O_RDONLY)
            try:
                os.fsync(dfd)  # the new name itself must survive a power cut
            finally:
                os.close(dfd)
        except OSError:
            os.close(fd)
            path.unlink(missing_ok=True)
            raise
        return Segment(path, self.next_seq - 1, fd)

    def append(
        self, body: bytes, content_type: int, sig: int, encoding: str, n_spans: int, cached: Any = None
    ) -> tuple[Segment, int]:
        """Write one frame; returns (segment, end offset) for :meth:`Segment.sync`. On an OSError
        nothing of the frame stays in the spool (the error is raised for the caller to answer)."""
        header = FRAME.pack(MAGIC, len(body), content_type, sig, ENCODING_CODES.get(encoding, 0), zlib.crc32(body))
        with self.lock:
            seg = self.current
            if seg is None or seg.size >= SEGMENT_MAX_BYTES:
                if seg is not None:
                    self._close_current()
                seg = self.current = self._open_segment()
            try:
                if len(body) < 65536:
                    _write_all(seg.fd, memoryview(header + body))
                else:
                    _write_all(seg.fd, memoryview(header))
                    _write_all(seg.fd, memoryview(body))
            except OSError:
                self.write_failures += 1
                self._cut_back(seg)
                raise
            seg.size += FRAME.size + len(body)
            self.bytes += FRAME.size + len(body)
            if cached is not None:
                seg.cache[seg.frames] = cached
                seg.cached_bytes += cached.nbytes
            seg.frames += 1
            seg.spans += n_spans
            if seg.first_at is None:
                seg.first_at = time.time()
            return seg, seg.size

    def _cut_back(self, seg: Segment) -> None:
        """After a failed write: the file back to its last good frame, or a new segment next time."""
        try:
            os.ftruncate(seg.fd, seg.size)
        except OSError:
            # the torn tail stays; replay skips it. Nothing more goes into this file.
            self._close_current()

    def _close_current(self) -> None:
        seg, self.current = self.current, None
        if seg is None:
            return
        with contextlib.suppress(OSError):  # a failing disk: the data already acknowledged was fsynced
            seg.close()
        if seg.frames:
            self.closed.append(seg)
        else:
            seg.path.unlink(missing_ok=True)
            self.bytes -= seg.size

    def take(self, max_bytes: int = FLUSH_MAX_BYTES) -> list[Segment]:
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

    def give_back(self, segs: list[Segment]) -> None:
        with self.lock:
            self.closed.extendleft(reversed(segs))
            self.flushing = []

    def remove(self, segs: list[Segment]) -> None:
        for seg in segs:
            seg.path.unlink(missing_ok=True)
            seg.release_cache()
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

    def close(self, remove_if_empty: bool = False) -> bool:
        """Close the open segment and give up the lock; ``remove_if_empty``: delete the directory when
        nothing is left in it (a clean stop). Returns True if it was removed."""
        with self.lock:
            self._close_current()
            empty = not self.closed
        removed = False
        if remove_if_empty and empty:
            with contextlib.suppress(OSError):
                (self.dir / "lock").unlink()
                self.dir.rmdir()
                removed = True
        try:
            fcntl.flock(self._lock_fd, fcntl.LOCK_UN)
        finally:
            os.close(self._lock_fd)
        return removed


def _write_all(fd: int, view: memoryview) -> None:
    while view:
        n = os.write(fd, view)
        view = view[n:]
