"""OTLP JSON files -> rows of ``otel_traces`` / ``otel_logs`` as the OpenTelemetry Collector's ClickHouse
exporter writes them, written from the exporter's documented behaviour (exporter/clickhouseexporter:
exporter_traces.go, exporter_logs.go, the pdata ``Value.AsString`` rules), not from llmscope's
normalizer, so a test that compares reports on both engines compares two independent paths.

What the exporter does, and this module does the same:
* every attribute value becomes a string: strings as they are, ints in decimal, doubles as ES6
  numbers (``0.7``, ``1``, ``1500000``), bools ``true``/``false``, bytes base64, arrays and maps as
  compact JSON (map keys sorted, as Go's encoding/json writes them);
* ``ServiceName`` from the resource's ``service.name``; ``ScopeName``/``ScopeVersion`` columns;
* ``Duration`` = end - start in ns (UInt64); ``SpanKind`` / ``StatusCode`` by name
  (``SPAN_KIND_CLIENT``, ``Error``/``Ok``/``Unset``);
* events and links as the Nested columns ``Events.Timestamp/Name/Attributes``, ``Links.*``.
"""

from __future__ import annotations

import base64
import gzip
import json
from decimal import Decimal
from pathlib import Path

import pyarrow as pa

KINDS = ["SPAN_KIND_UNSPECIFIED", "SPAN_KIND_INTERNAL", "SPAN_KIND_SERVER", "SPAN_KIND_CLIENT", "SPAN_KIND_PRODUCER",
         "SPAN_KIND_CONSUMER"]  # fmt: skip
STATUS = ["Unset", "Ok", "Error"]


def _raw(v: dict):
    """An OTLP JSON AnyValue as a plain value (pdata Value.AsRaw)."""
    if not isinstance(v, dict) or not v:
        return None
    if "stringValue" in v:
        return v["stringValue"]
    if "intValue" in v:
        return int(v["intValue"])
    if "doubleValue" in v:
        d = v["doubleValue"]
        return float(d) if not isinstance(d, str) else float(d)
    if "boolValue" in v:
        return bool(v["boolValue"])
    if "bytesValue" in v:
        return base64.b64decode(v["bytesValue"])
    if "arrayValue" in v:
        return [_raw(x) for x in v["arrayValue"].get("values", [])]
    if "kvlistValue" in v:
        return {kv["key"]: _raw(kv.get("value", {})) for kv in v["kvlistValue"].get("values", [])}
    return None


def _es6(f: float) -> str:
    """Go's ES6 number formatting, as pdata writes a double."""
    if f != f or f in (float("inf"), float("-inf")):
        return json.dumps(f)
    if f == int(f) and abs(f) < 1e21:
        return str(int(f))
    if 1e-6 <= abs(f) < 1e21:
        return format(Decimal(repr(f)), "f")
    mant, _, exp_ = repr(f).partition("e")
    return f"{mant}e{'+' if not exp_.startswith('-') else '-'}{int(exp_.lstrip('+-'))}"


def _json_value(x):
    if isinstance(x, bytes):
        return base64.b64encode(x).decode()
    if isinstance(x, dict):
        return {k: _json_value(x[k]) for k in sorted(x)}
    if isinstance(x, list):
        return [_json_value(i) for i in x]
    return x


def as_string(v: dict) -> str:
    """pdata Value.AsString of an OTLP JSON AnyValue."""
    x = _raw(v)
    if x is None:
        return ""
    if isinstance(x, bool):
        return "true" if x else "false"
    if isinstance(x, int):
        return str(x)
    if isinstance(x, float):
        return _es6(x)
    if isinstance(x, str):
        return x
    if isinstance(x, bytes):
        return base64.b64encode(x).decode()
    return json.dumps(_json_value(x), separators=(",", ":"), ensure_ascii=False)


def attributes(kvs: list | None) -> list[tuple[str, str]]:
    out: dict[str, str] = {}
    for kv in kvs or []:
        out[kv["key"]] = as_string(kv.get("value", {}))
    return list(out.items())


def _enum(v, names: list[str], prefix: str) -> int:
    if isinstance(v, int):
        return v
    if isinstance(v, str):
        for i, n in enumerate(names):
            if v in (n, prefix + n.upper()) or v.upper().endswith(n.upper().removeprefix(prefix)):
                return i
    return 0


def _lines(path: Path):
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as f:
        text = f.read()
    text = text.strip()
    if not text:
        return
    if text.startswith("{") and "\n" not in text:
        yield json.loads(text)
        return
    try:
        yield json.loads(text)
        return
    except json.JSONDecodeError:
        pass
    for line in text.splitlines():
        line = line.strip()
        if line:
            try:
                yield json.loads(line)
            except json.JSONDecodeError:
                continue  # the exporter never sees what the receiver could not decode


def _time(ns) -> int:
    return int(ns or 0)


TRACE_FIELDS = [
    ("Timestamp", pa.int64()), ("TraceId", pa.string()), ("SpanId", pa.string()), ("ParentSpanId", pa.string()),
    ("TraceState", pa.string()), ("SpanName", pa.string()), ("SpanKind", pa.string()), ("ServiceName", pa.string()),
    ("ResourceAttributes", pa.map_(pa.string(), pa.string())), ("ScopeName", pa.string()), ("ScopeVersion", pa.string()),
    ("SpanAttributes", pa.map_(pa.string(), pa.string())), ("Duration", pa.uint64()), ("StatusCode", pa.string()),
    ("StatusMessage", pa.string()), ("Events.Timestamp", pa.list_(pa.int64())), ("Events.Name", pa.list_(pa.string())),
    ("Events.Attributes", pa.list_(pa.map_(pa.string(), pa.string()))), ("Links.TraceId", pa.list_(pa.string())),
    ("Links.SpanId", pa.list_(pa.string())), ("Links.TraceState", pa.list_(pa.string())),
    ("Links.Attributes", pa.list_(pa.map_(pa.string(), pa.string()))),
]  # fmt: skip
LOG_FIELDS = [
    ("Timestamp", pa.int64()), ("TraceId", pa.string()), ("SpanId", pa.string()), ("TraceFlags", pa.uint8()),
    ("SeverityText", pa.string()), ("SeverityNumber", pa.uint8()), ("ServiceName", pa.string()), ("Body", pa.string()),
    ("ResourceAttributes", pa.map_(pa.string(), pa.string())), ("ScopeName", pa.string()), ("ScopeVersion", pa.string()),
    ("LogAttributes", pa.map_(pa.string(), pa.string())), ("EventName", pa.string()),
]  # fmt: skip


def read_files(paths: list[Path]) -> tuple[pa.Table, pa.Table]:
    """(otel_traces rows, otel_logs rows) of every OTLP JSON file under ``paths``."""
    spans: dict[str, list] = {n: [] for n, _ in TRACE_FIELDS}
    logs: dict[str, list] = {n: [] for n, _ in LOG_FIELDS}
    files: list[Path] = []
    for p in paths:
        p = Path(p)
        files += sorted(x for x in p.rglob("*") if x.is_file() and (".json" in x.name)) if p.is_dir() else [p]
    for f in files:
        for doc in _lines(f):
            if not isinstance(doc, dict):
                continue
            for rs in doc.get("resourceSpans") or []:
                res = attributes((rs.get("resource") or {}).get("attributes"))
                service = dict(res).get("service.name", "")
                for ss in rs.get("scopeSpans") or rs.get("instrumentationLibrarySpans") or []:
                    scope = ss.get("scope") or ss.get("instrumentationLibrary") or {}
                    for s in ss.get("spans") or []:
                        start, end = _time(s.get("startTimeUnixNano")), _time(s.get("endTimeUnixNano"))
                        status = s.get("status") or {}
                        events = s.get("events") or []
                        links = s.get("links") or []
                        row = {
                            "Timestamp": start, "TraceId": (s.get("traceId") or "").lower(),
                            "SpanId": (s.get("spanId") or "").lower(), "ParentSpanId": (s.get("parentSpanId") or "").lower(),
                            "TraceState": s.get("traceState") or "", "SpanName": s.get("name") or "",
                            "SpanKind": KINDS[_enum(s.get("kind", 0), KINDS, "SPAN_KIND_")],
                            "ServiceName": service, "ResourceAttributes": res, "ScopeName": scope.get("name") or "",
                            "ScopeVersion": scope.get("version") or "", "SpanAttributes": attributes(s.get("attributes")),
                            "Duration": max(end - start, 0), "StatusCode": STATUS[_enum(status.get("code", 0), STATUS, "STATUS_CODE_")],
                            "StatusMessage": status.get("message") or "",
                            "Events.Timestamp": [_time(e.get("timeUnixNano")) for e in events],
                            "Events.Name": [e.get("name") or "" for e in events],
                            "Events.Attributes": [attributes(e.get("attributes")) for e in events],
                            "Links.TraceId": [(x.get("traceId") or "").lower() for x in links],
                            "Links.SpanId": [(x.get("spanId") or "").lower() for x in links],
                            "Links.TraceState": [x.get("traceState") or "" for x in links],
                            "Links.Attributes": [attributes(x.get("attributes")) for x in links],
                        }  # fmt: skip
                        for k, v in row.items():
                            spans[k].append(v)
            for rl in doc.get("resourceLogs") or []:
                res = attributes((rl.get("resource") or {}).get("attributes"))
                service = dict(res).get("service.name", "")
                for sl in rl.get("scopeLogs") or []:
                    scope = sl.get("scope") or {}
                    for r in sl.get("logRecords") or []:
                        row = {
                            "Timestamp": _time(r.get("timeUnixNano") or r.get("observedTimeUnixNano")),
                            "TraceId": (r.get("traceId") or "").lower(), "SpanId": (r.get("spanId") or "").lower(),
                            "TraceFlags": int(r.get("flags") or 0) & 0xFF, "SeverityText": r.get("severityText") or "",
                            "SeverityNumber": _enum(r.get("severityNumber", 0), [], "") & 0xFF, "ServiceName": service,
                            "Body": as_string(r.get("body") or {}), "ResourceAttributes": res,
                            "ScopeName": scope.get("name") or "", "ScopeVersion": scope.get("version") or "",
                            "LogAttributes": attributes(r.get("attributes")), "EventName": r.get("eventName") or "",
                        }  # fmt: skip
                        for k, v in row.items():
                            logs[k].append(v)
    traces_tbl = pa.table({n: pa.array(spans[n], t) for n, t in TRACE_FIELDS})
    logs_tbl = pa.table({n: pa.array(logs[n], t) for n, t in LOG_FIELDS})
    return traces_tbl, logs_tbl


def load(session, paths: list[Path], traces: str = "otel_traces", logs: str = "otel_logs") -> tuple[int, int]:
    """Create the exporter's tables in a chdb session and insert the files' rows (as the exporter would)."""
    from llmscope.store.clickhouse.tables import LOGS_DDL, TRACES_DDL

    session.query(TRACES_DDL.format(table=traces))
    session.query(LOGS_DDL.format(table=logs))
    t, lg = read_files(paths)
    cols = ", ".join(f"`{n}`" for n, _ in TRACE_FIELDS)
    sel = ", ".join(
        f"fromUnixTimestamp64Nano(`{n}`)" if n == "Timestamp" else
        f"arrayMap(x -> fromUnixTimestamp64Nano(x), `{n}`)" if n == "Events.Timestamp" else f"`{n}`"
        for n, _ in TRACE_FIELDS
    )  # fmt: skip
    _insert(session, f"INSERT INTO {traces} ({cols}) SELECT {sel} FROM Python(t)", t)
    lcols = ", ".join(f"`{n}`" for n, _ in LOG_FIELDS)
    lsel = ", ".join(f"fromUnixTimestamp64Nano(`{n}`)" if n == "Timestamp" else f"`{n}`" for n, _ in LOG_FIELDS)
    if lg.num_rows:
        _insert(session, f"INSERT INTO {logs} ({lcols}) SELECT {lsel} FROM Python(lg)", lg, "lg")
    return t.num_rows, lg.num_rows


def _insert(session, sql: str, table: pa.Table, name: str = "t") -> None:
    scope = {name: table}  # chdb's Python() table function reads the variable of that name in this frame
    t = scope.get("t")  # noqa: F841
    lg = scope.get("lg")  # noqa: F841
    session.query(sql)
