"""Helpers the tests share: paths, a reader of a store, and writers of OTLP JSON in the Collector's encoding.

The encoding-trap tests need inputs with a chosen trap in them; the dialect tests use the files
captured from real instrumentation libraries under tests/fixtures/captured/. Fixtures live in
conftest.py; everything importable lives here (``from helpers import …``).
"""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import duckdb

REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO / "tests" / "fixtures"
CAPTURED = FIXTURES / "captured"
SAMPLES = REPO / "sample_traces"


def query(db: Path, sql: str, params=None) -> list[tuple]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def s(v: str) -> dict:
    return {"stringValue": v}


def kv(key: str, value: dict) -> dict:
    return {"key": key, "value": value}


def otlp_span(
    trace_id: str,
    span_id: str,
    name: str = "span",
    parent: str | None = None,
    start_ns: int = 1_762_000_000_000_000_000,
    dur_ns: int = 1_000_000_000,
    attrs: list | None = None,
    status: dict | None = None,
    kind: int = 1,
    events: list | None = None,
) -> dict:
    sp = {
        "traceId": trace_id,
        "spanId": span_id,
        "name": name,
        "kind": kind,
        "startTimeUnixNano": str(start_ns),
        "endTimeUnixNano": str(start_ns + dur_ns),
        "attributes": attrs or [],
    }
    if parent:
        sp["parentSpanId"] = parent
    if status:
        sp["status"] = status
    if events:
        sp["events"] = events
    return sp


def export_line(spans: list[dict], service: str = "svc", scope: str = "test") -> str:
    return json.dumps(
        {
            "resourceSpans": [
                {
                    "resource": {"attributes": [kv("service.name", s(service))]},
                    "scopeSpans": [{"scope": {"name": scope}, "spans": spans}],
                }
            ]
        }
    )


def write_lines(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n")
    return path


def copy_store(master: Path, dest: Path) -> Path:
    """A private copy of a store built once (tests that write to it must not share it)."""
    shutil.copyfile(master, dest)
    return dest


def descendants(pid: int) -> set[int]:
    """Every live process below ``pid`` (children, their children...), read from /proc."""
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(stat.parent.name)] = int(fields[1])
    found, frontier = set(), {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def still_running(pids: set[int], within_s: float) -> set[int]:
    """Those of ``pids`` still alive (and not zombies) after waiting up to ``within_s`` for them to exit."""
    deadline = time.monotonic() + within_s
    while True:
        alive = set()
        for pid in pids:
            try:
                state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
            except OSError:
                continue
            if state != "Z":
                alive.add(pid)
        if not alive or time.monotonic() > deadline:
            return alive
        time.sleep(0.05)
