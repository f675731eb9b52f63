"""How far each JSON-lines file has been read, so an ingest of a grown file reads only what is new.

A Collector file exporter appends to its file; running ``llmscope ingest`` on it every minute
should not re-read gigabytes to find a few new lines. After an ingest, each plain JSON-lines file
gets a row in ``ingested_files`` (in the same transaction as its spans): the offset after its last
complete line, the line count, and two fingerprints. The next ingest resumes there only if the
file is still the same one (same first bytes) and unchanged up to that point (same bytes just
before it); otherwise, or with ``--full``, it reads the whole file again and de-duplication keeps
the store exact either way. A partial last line (a writer mid-line) is left for later, a note and
not a bad record (readers.plan), and the offset stops before it, so the complete line is read next
time. Other files (gzip, documents, protobuf) are recorded whole: unchanged, they are not read
again; changed, they are read whole. A file the exporter rotated (renamed) is found again by device
and inode under its new name.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass

import duckdb
import orjson

HEAD_BYTES = 64 << 10
SEAM_BYTES = 4 << 10


@dataclass
class Position:
    offset: int  # bytes: the end of the last complete line read
    lines: int  # complete lines before offset
    head: str
    seam: str
    device: int | None = None
    inode: int | None = None


def key(path: str) -> str:
    return os.path.realpath(path)


def _sha(f, start: int, n: int) -> str:
    f.seek(start)
    return hashlib.sha256(f.read(n)).hexdigest()


def fingerprint(path: str, offset: int) -> tuple[str, str]:
    """(first bytes, bytes just before offset) of a file, hashed."""
    with open(path, "rb") as f:
        return _sha(f, 0, min(HEAD_BYTES, offset)), _sha(f, max(0, offset - SEAM_BYTES), min(SEAM_BYTES, offset))


def load(con: duckdb.DuckDBPyConnection) -> dict:
    """Known positions by real path and by (device, inode): a file the exporter rotated (renamed)
    is found again under its new name and not read again."""
    rows = con.execute(
        "SELECT path, offset_bytes, lines, head_sha256, seam_sha256, device, inode "
        "FROM ingested_files ORDER BY updated_at"
    ).fetchall()
    known: dict = {}
    for r in rows:
        pos = Position(*r[1:])
        known[r[0]] = pos
        if pos.inode is not None:
            known[(pos.device, pos.inode)] = pos
    return known


def lookup(known: dict, path: str) -> Position | None:
    pos = known.get(key(path))
    if pos is None:
        try:
            st = os.stat(path)
        except OSError:
            return None
        pos = known.get((st.st_dev, st.st_ino))
    return pos


def resume_point(path: str, known: Position | None) -> Position | None:
    """``known`` if the file is the same and unchanged up to its offset, else None (read it all)."""
    if known is None or known.offset <= 0:
        return None
    try:
        if os.path.getsize(path) < known.offset:
            return None  # truncated or replaced
        return known if fingerprint(path, known.offset) == (known.head, known.seam) else None
    except OSError:
        return None


def end_of_complete_lines(path: str, end: int) -> int:
    """The offset just after the last newline at or before ``end`` (0 if there is none)."""
    with open(path, "rb") as f:
        pos = end
        while pos > 0:
            start = max(0, pos - (64 << 10))
            f.seek(start)
            i = f.read(pos - start).rfind(b"\n")
            if i >= 0:
                return start + i + 1
            pos = start
    return 0


def readable_end(path: str, end: int) -> int:
    """Where the next ingest of a JSON-lines file read up to ``end`` should start: ``end`` if its
    last line is whole (a final newline, or a last line that parses), else the start of that line
    (a writer is mid-line: read it again once complete)."""
    start = end_of_complete_lines(path, end)
    if start == end:
        return end
    with open(path, "rb") as f:
        f.seek(start)
        tail = f.read(end - start)
    if not tail.strip():
        return end
    try:
        orjson.loads(tail)
    except orjson.JSONDecodeError:
        return start
    return end


def save(con: duckdb.DuckDBPyConnection, path: str, offset: int, lines: int) -> None:
    try:
        head, seam = fingerprint(path, offset)
        st = os.stat(path)
    except OSError:
        return  # gone or unreadable now: no position, so the next ingest reads it whole
    con.execute(
        "INSERT OR REPLACE INTO ingested_files VALUES (?, ?, ?, ?, ?, ?, ?, now()::TIMESTAMP)",
        [key(path), offset, lines, head, seam, st.st_dev, st.st_ino],
    )


class Tracker:
    """One ingest's view: where each input starts, and where it was read to (saved with the spans)."""

    def __init__(self, con: duckdb.DuckDBPyConnection, sizes: dict[str, int], full: bool = False):
        known = {} if full else load(con)
        self.sizes = sizes
        self.resumes = {p: r for p in sizes if p != "-" and (r := resume_point(p, lookup(known, p)))}
        self.unchanged = {p for p, r in self.resumes.items() if sizes[p] == r.offset}  # nothing new since
        self.read_to: dict[str, int] = {}  # plain JSON-lines files: where their last unit ends
        self.read_whole: set[str] = set()  # gzip, documents, protobuf: read whole or not at all
        self.lines_not_read = 0
        self.bytes_not_read = sum(r.offset for r in self.resumes.values())  # an estimate until planned

    def skip(self, path: str) -> bool:
        """True for a file unchanged since an earlier ingest: nothing to read."""
        if path in self.unchanged:
            self.lines_not_read += self.resumes[path].lines
            return True
        return False

    def start(self, path: str) -> int:
        r = self.resumes.get(path)
        return r.offset if r else 0

    def planned(self, path: str, unit, first: bool) -> int | None:
        """Note a unit planned for ``path``; for the first unit of a file read on from an earlier
        ingest, the number of lines before it (else None)."""
        if path == "-":  # stdin has no position to keep
            return None
        plain = unit.mode == "lines" and unit.data is None
        if plain:
            self.read_to[path] = max(self.read_to.get(path, 0), unit.end)
        else:
            self.read_whole.add(path)
        r = self.resumes.get(path)
        if first and r is not None and plain and unit.start == r.offset:
            self.lines_not_read += r.lines
            return r.lines
        return None

    def save(self, con: duckdb.DuckDBPyConnection, lines_read: dict[str, int]) -> None:
        """Record where every file was read to (``lines_read``: lines up to its end), in the caller's
        transaction, so the positions commit or roll back with the spans."""
        for path, end in self.read_to.items():
            offset = readable_end(path, end)  # a line being written is read again
            save(con, path, offset, lines_read.get(path, 0) - (1 if offset < end else 0))
        for path in self.read_whole:  # unchanged next time: not read again; changed: read whole again
            save(con, path, self.sizes[path], lines_read.get(path, 0))

    def note(self) -> str | None:
        if not self.lines_not_read:
            return None
        return (
            f"{self.lines_not_read:,} line(s) read by an earlier ingest were not read again "
            "(files unchanged up to there; --full reads them)"
        )
