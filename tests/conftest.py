"""Shared test helpers: a fresh store path, and a writer of OTLP JSON in the Collector's encoding.

The encoding-trap tests need inputs with a chosen trap in them; the dialect tests use the files
captured from real instrumentation libraries under tests/fixtures/captured/.
"""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO / "tests" / "fixtures"
CAPTURED = FIXTURES / "captured"
SAMPLES = REPO / "sample_traces"


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "store.duckdb"


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


def _load_benchmark_module():
    """benchmarks/ingest.py writes realistic OTLP files; tests reuse its generator."""
    import importlib.util
    import sys

    spec = importlib.util.spec_from_file_location("benchmarks_ingest", REPO / "benchmarks" / "ingest.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules["benchmarks_ingest"] = mod
    spec.loader.exec_module(mod)


_load_benchmark_module()
