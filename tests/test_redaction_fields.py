"""Redaction covers every field (issue 15, item 6): a distinct marked e-mail address planted in every
field a span, an event or a log record can carry, in OTLP/JSON, protobuf and logs; with ``--redact
pii`` and with ``--hash-content`` none is stored in clear -- not in any text column of any table (SQL),
not in the store file's bytes (written uncompressed, so that the search sees every byte), not in what
`ingest` says about bad records, not in `trace show`. `prune --content-only` clears judges'
explanations and exception text too."""

from __future__ import annotations

import base64
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from helpers import REPO

from llmscope.ingest.pipeline import ingest
from llmscope.normalize.builder import Mapping
from llmscope.normalize.privacy import Privacy

MARKER = re.compile(r"marker\d+@example\.com")
ENV = dict(os.environ, NO_COLOR="1", COLUMNS="200", PYTHONPATH=str(REPO / "src"), LLMSCOPE_HASH_KEY="k" * 32)
TRACE, SPAN, CHILD = "5b8efff798038103d269b633813fc60c", "eee19b7ec3c1b174", "eee19b7ec3c1b175"
START = 1_762_000_000_000_000_000
# what the store does not keep at all: a log record's resource and scope, and a bad record
NOT_STORED = {"log resource value", "log scope name", "bad record span name"}


class Markers:
    """Hands out marker1@example.com, marker2@example.com, ... and remembers where each went."""

    def __init__(self) -> None:
        self.where: dict[str, str] = {}

    def __call__(self, field: str, fmt: str = "{}") -> str:
        m = f"marker{len(self.where) + 1}@example.com"
        self.where[m] = field
        return fmt.format(m)


def _s(v):
    return {"stringValue": v}


def _kv(k, v):
    return {"key": k, "value": v}


def planted(m: Markers, form: str) -> dict:
    """An ExportTraceServiceRequest (OTLP/JSON) with a marker in every field; ``form`` tells them apart."""
    f = form + " "
    resource = [
        _kv("service.name", _s(m(f + "resource service.name", "svc {}"))),
        _kv(m(f + "resource attribute key", "res.{}"), _s("v")),
        _kv("deployment", _s(m(f + "resource attribute value"))),
        _kv("user.id", _s(m(f + "resource user.id"))),
    ]
    attrs = [
        _kv("gen_ai.operation.name", _s("chat")),
        _kv("gen_ai.system", _s(m(f + "gen_ai.system"))),
        _kv("gen_ai.request.model", _s(m(f + "request model"))),
        _kv("gen_ai.response.model", _s(m(f + "response model"))),
        _kv("gen_ai.response.id", _s(m(f + "response id"))),
        _kv("gen_ai.response.finish_reasons", {"arrayValue": {"values": [_s(m(f + "finish reason"))]}}),
        _kv("gen_ai.usage.input_tokens", {"intValue": "10"}),
        _kv("user.id", _s(m(f + "user.id"))),
        _kv("session.id", _s(m(f + "session.id"))),
        _kv("app.feature", _s(m(f + "app.feature"))),
        _kv("prompt.version", _s(m(f + "prompt.version"))),
        _kv("gen_ai.agent.name", _s(m(f + "agent name"))),
        _kv("gen_ai.tool.name", _s(m(f + "tool name"))),
        _kv("error.type", _s(m(f + "error.type"))),
        _kv(m(f + "attribute key", "custom.{}"), _s("value")),
        _kv("custom.value", _s(m(f + "attribute value"))),
        _kv("custom.list", {"arrayValue": {"values": [_s(m(f + "array attribute value"))]}}),
        _kv(
            "custom.kvlist",
            {"kvlistValue": {"values": [_kv(m(f + "kvlist key"), _s(m(f + "kvlist value")))]}},
        ),
        _kv(
            "gen_ai.input.messages",
            _s(json.dumps([{"role": "user", "parts": [{"type": "text", "content": m(f + "input message")}]}])),
        ),
        _kv(
            "gen_ai.output.messages",
            _s(
                json.dumps(
                    [
                        {
                            "role": "assistant",
                            "parts": [
                                {"type": "text", "content": m(f + "output message")},
                                {"type": "tool_call", "id": "c1", "name": m(f + "tool call name"), "arguments": {}},
                            ],
                        }
                    ]
                )
            ),
        ),
        _kv("gen_ai.tool.definitions", _s(json.dumps([{"type": "function", "function": {"name": m(f + "tool def")}}]))),
    ]
    events = [
        {
            "name": m(f + "event name", "evt {}"),
            "timeUnixNano": str(START + 1),
            "attributes": [_kv(m(f + "event attribute key", "e.{}"), _s(m(f + "event attribute value")))],
        },
        {
            "name": "exception",
            "timeUnixNano": str(START + 2),
            "attributes": [
                _kv("exception.type", _s(m(f + "exception type", "Err{}"))),
                _kv("exception.message", _s(m(f + "exception message"))),
                _kv("exception.stacktrace", _s(m(f + "exception stacktrace"))),
            ],
        },
    ]
    span = {
        "traceId": TRACE,
        "spanId": SPAN,
        "name": m(f + "span name", "chat {}"),
        "kind": 3,
        "startTimeUnixNano": str(START),
        "endTimeUnixNano": str(START + 10**9),
        "attributes": attrs,
        "events": events,
        "status": {"code": 2, "message": m(f + "status message")},
    }
    child = {
        "traceId": TRACE,
        "spanId": CHILD,
        "parentSpanId": SPAN,
        "name": "execute_tool " + m(f + "tool name in span name"),
        "startTimeUnixNano": str(START + 1000),
        "endTimeUnixNano": str(START + 2000),
        "attributes": [_kv("gen_ai.operation.name", _s("execute_tool"))],
    }
    return {
        "resourceSpans": [
            {
                "resource": {"attributes": resource},
                "scopeSpans": [{"scope": {"name": m(f + "scope name", "scope.{}")}, "spans": [span, child]}],
            }
        ]
    }


def planted_logs(m: Markers) -> dict:
    body = {
        "kvlistValue": {
            "values": [
                _kv("role", _s("user")),
                _kv("content", _s(m("log body content"))),
                _kv(m("log body key", "k.{}"), _s(m("log body value"))),
            ]
        }
    }
    record = {
        "timeUnixNano": str(START + 5),
        "traceId": TRACE,
        "spanId": SPAN,
        "eventName": "gen_ai.user.message",
        "body": body,
        "attributes": [
            _kv(m("log attribute key", "a.{}"), _s("v")),
            _kv("gen_ai.system", _s(m("log attribute value"))),
        ],
    }
    return {
        "resourceLogs": [
            {
                "resource": {"attributes": [_kv("r", _s(m("log resource value")))]},
                "scopeLogs": [{"scope": {"name": m("log scope name")}, "logRecords": [record]}],
            }
        ]
    }


def as_protobuf(req: dict) -> bytes:
    """The OTLP/JSON request as a length-prefixed protobuf file (ids as bytes)."""
    from google.protobuf import json_format
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

    req = json.loads(json.dumps(req))
    for rs in req["resourceSpans"]:
        for ss in rs["scopeSpans"]:
            for sp in ss["spans"]:
                for k in ("traceId", "spanId", "parentSpanId"):
                    if k in sp:
                        sp[k] = base64.b64encode(bytes.fromhex(sp[k])).decode()
    msg = json_format.ParseDict(req, ExportTraceServiceRequest()).SerializeToString()
    return len(msg).to_bytes(4, "big") + msg


def write_inputs(d: Path) -> tuple[list[Path], Markers]:
    m = Markers()
    j = planted(m, "json")
    pb = planted(m, "protobuf")
    for rs in pb["resourceSpans"]:  # another trace, so both are stored
        for sp in rs["scopeSpans"][0]["spans"]:
            sp["traceId"] = TRACE[::-1]
    bad = {  # a bad record whose reason quotes the span's name
        "traceId": "6b8efff798038103d269b633813fc60c",
        "spanId": "eee19b7ec3c1b176",
        "name": m("bad record span name", "bad {}"),
        "start_time": 10**30,
    }
    files = [d / "traces.otlp.jsonl", d / "traces.pb", d / "logs.otlp.jsonl", d / "bad.jsonl"]
    files[0].write_text(json.dumps(j) + "\n")
    files[1].write_bytes(as_protobuf(pb))
    files[2].write_text(json.dumps(planted_logs(m)) + "\n")
    files[3].write_text(json.dumps(bad) + "\n")
    return files, m


def text_in_store(db: Path) -> str:
    """Every value of every table of the store, as text (SQL: what any query could read)."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        out = []
        for (table,) in con.execute("SELECT table_name FROM duckdb_tables() WHERE NOT internal").fetchall():
            for row in con.execute(f'SELECT * FROM "{table}"').fetchall():
                out.append(repr(row))
        return "\n".join(out)
    finally:
        con.close()


def uncompressed_ingest(db: Path, files: list[Path], privacy: Privacy | None) -> None:
    """Ingest through the library on a connection that writes every column uncompressed."""
    from llmscope.store import connect

    con = connect(db)
    try:
        con.execute("PRAGMA force_compression='uncompressed'")
        # the big text columns ask for zstd themselves: the same tables (empty yet) without it
        tables = con.execute("SELECT table_name, sql FROM duckdb_tables() WHERE NOT internal").fetchall()
        for table, ddl in tables:
            if "compression zstd" in ddl.lower():
                con.execute(f'DROP TABLE "{table}"')
                con.execute(re.sub("(?i) USING COMPRESSION ZSTD", "", ddl))
        ingest([str(f) for f in files], con=con, mapping=Mapping(privacy=privacy))
        con.execute("CHECKPOINT")
    finally:
        con.close()


def test_markers_land_in_clear_without_privacy_so_the_searches_see_them(tmp_path):
    files, m = write_inputs(tmp_path)
    db = tmp_path / "plain.duckdb"
    uncompressed_ingest(db, files, None)
    text = text_in_store(db)
    missing = {v for k, v in m.where.items() if k not in text}
    # every other field is stored somewhere: a redaction test of it means something
    assert missing == NOT_STORED, missing
    raw = db.read_bytes()
    assert {v for k, v in m.where.items() if k.encode() not in raw} == NOT_STORED  # the bytes search sees them all


@pytest.mark.parametrize("mode", ["redact", "hash"])
def test_no_planted_address_is_stored_or_printed_in_clear(tmp_path, mode):
    files, m = write_inputs(tmp_path)
    privacy = Privacy(redact_pii=True) if mode == "redact" else Privacy(hash_key=b"k" * 32)
    db = tmp_path / "raw.duckdb"
    uncompressed_ingest(db, files, privacy)
    leaked = {k: m.where[k] for k in MARKER.findall(text_in_store(db))}
    assert not leaked, leaked
    raw = db.read_bytes()
    assert not [m.where[k] for k in m.where if k.encode() in raw]
    assert b"@example.com" not in raw

    # the command line: the same, and nothing printed that the store would not hold
    db2 = tmp_path / "cli.duckdb"
    flag = ["--redact", "pii"] if mode == "redact" else ["--hash-content"]
    r = subprocess.run(
        [sys.executable, "-m", "llmscope", "--db", str(db2), "ingest", *flag, *map(str, files)],
        capture_output=True,
        text=True,
        env=ENV,
    )
    assert r.returncode == 0, r.stderr
    assert "bad.jsonl:1:" in r.stderr  # the bad record is named...
    assert not MARKER.findall(r.stdout + r.stderr), r.stderr  # ...without the address in its name
    leaked = {k: m.where[k] for k in MARKER.findall(text_in_store(db2))}
    assert not leaked, leaked
    for trace in (TRACE, TRACE[::-1]):
        r = subprocess.run(
            [sys.executable, "-m", "llmscope", "--db", str(db2), "trace", "show", trace[:12], "--content"],
            capture_output=True,
            text=True,
            env=ENV,
        )
        assert r.returncode == 0, r.stderr
        assert "chat <EMAIL_" in r.stdout  # the span is shown, under its scrubbed name
        assert not MARKER.findall(r.stdout + r.stderr)


def test_hash_content_keeps_user_and_session_ids_as_keyed_hashes_that_still_group(tmp_path):
    files, _ = write_inputs(tmp_path)
    db = tmp_path / "h.duckdb"
    uncompressed_ingest(db, files, Privacy(hash_key=b"k" * 32))
    con = duckdb.connect(str(db), read_only=True)
    users = con.execute("SELECT DISTINCT user_id FROM spans WHERE trace_id = ?", [TRACE]).fetchall()
    assert len(users) == 1 and users[0][0].startswith("hmac:")
    con.close()


def test_prune_content_only_clears_explanations_and_exception_text(tmp_path):
    import llmscope

    files, _ = write_inputs(tmp_path)
    db = tmp_path / "p.duckdb"
    store = llmscope.open(db)
    store.ingest([str(files[0])])
    con = duckdb.connect(str(db))
    con.execute(
        "INSERT INTO evals (trace_id, span_id, metric, score, explanation) VALUES (?, ?, 'm', 1, 'quotes: the answer')",
        [TRACE, SPAN],
    )
    con.execute("INSERT INTO eval_cache (cache_key, explanation) VALUES ('k', 'quotes: the answer'), ('other', 'kept')")
    assert con.execute("SELECT count(*) FROM spans WHERE error_message IS NOT NULL").fetchall()[0][0] == 1
    con.close()
    store.close() if hasattr(store, "close") else None
    from llmscope.store.retention import prune

    prune(db, older_than=__import__("datetime").datetime(2100, 1, 1), content_only=True)
    con = duckdb.connect(str(db), read_only=True)
    assert con.execute("SELECT explanation FROM evals").fetchall() == [(None,)]
    assert con.execute("SELECT explanation FROM eval_cache ORDER BY cache_key").fetchall() == [(None,), ("kept",)]
    assert con.execute("SELECT count(*) FROM spans WHERE error_message IS NOT NULL").fetchall()[0][0] == 0
    assert con.execute("SELECT count(*) FROM spans WHERE error_type IS NOT NULL").fetchall()[0][0] == 1  # kept
    con.close()


def test_every_text_column_has_a_policy_and_the_kept_ones_exist():
    """A new text column is scrubbed by default (as metadata); only the listed ones are kept as they are."""
    from llmscope import schema
    from llmscope.normalize.builder import _SCRUBBED_SPAN_POSITIONS, SPAN_FIELDS
    from llmscope.normalize.privacy import ID_COLUMNS, KEPT_COLUMNS

    names = {c.name for c in schema.SPANS} | {c.name for c in schema.LOGS}
    assert KEPT_COLUMNS <= names and ID_COLUMNS <= names
    structured = {"input_text", "output_text"}  # scrubbed as content before the row is built
    for i, (name, t) in enumerate(SPAN_FIELDS):
        if str(t) == "string" and name not in structured:
            assert i in _SCRUBBED_SPAN_POSITIONS, name
