"""`ingest --redact pii` says how many values it replaced (issue 14 item 14): the count, by kind, equals the
placeholders the store holds afterwards (counted with SQL over every text column of spans and logs), in
`--format json` (key ``redacted``) and in the table output, whether the spans were normalized in this
process or in worker processes; without --redact the key is an empty dict and no line is printed."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from helpers import REPO

ENV = dict(os.environ, NO_COLOR="1", COLUMNS="200", PYTHONPATH=str(REPO / "src"))
START = 1_762_000_000_000_000_000
EMAILS = [f"person{i}@example.com" for i in range(5)]
PHONES = ["+1-903-140-4508", "+44 20 7946 0958"]
IP = "10.20.30.40"


def _s(v):
    return {"stringValue": v}


def _kv(k, v):
    return {"key": k, "value": v}


def _span(trace: str, n: int, prompt: str, extra: list) -> dict:
    return {
        "traceId": trace,
        "spanId": f"{n:016x}",
        "name": "chat gpt-4o",
        "kind": 3,
        "startTimeUnixNano": str(START + n * 10**9),
        "endTimeUnixNano": str(START + n * 10**9 + 5 * 10**8),
        "attributes": [
            _kv("gen_ai.operation.name", _s("chat")),
            _kv("gen_ai.request.model", _s("gpt-4o")),
            _kv("gen_ai.prompt.0.role", _s("user")),
            _kv("gen_ai.prompt.0.content", _s(prompt)),
            _kv("gen_ai.completion.0.role", _s("assistant")),
            _kv("gen_ai.completion.0.content", _s("Noted, thanks.")),
            *extra,
        ],
    }


def write_traces(path: Path) -> None:
    """Two traces: e-mails in prompts, phones in a custom attribute, an IP address in the resource (so its
    placeholder is stored once per span of the resource), and a span with no PII at all."""
    t1, t2 = "a" * 32, "b" * 32
    spans1 = [
        _span(t1, 1, f"Mail {EMAILS[0]} and {EMAILS[1]} please", [_kv("customer.phone", _s(PHONES[0]))]),
        _span(t1, 2, f"Again {EMAILS[0]}", []),
        _span(t1, 3, "Nothing personal here", []),
    ]
    spans2 = [
        _span(t2, 4, f"Write to {EMAILS[2]}, {EMAILS[3]} or {EMAILS[4]}", [_kv("customer.phone", _s(PHONES[1]))]),
    ]
    lines = []
    for trace_spans in (spans1, spans2):
        resource = {"attributes": [_kv("service.name", _s("support-bot")), _kv("host.ip", _s(IP))]}
        lines.append(
            {"resourceSpans": [{"resource": resource, "scopeSpans": [{"scope": {"name": "t"}, "spans": trace_spans}]}]}
        )
    path.write_text("".join(json.dumps(x) + "\n" for x in lines))


def llmscope(db: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    proc = subprocess.run(
        [sys.executable, "-m", "llmscope", "--db", str(db), *args],
        capture_output=True,
        text=True,
        env=ENV,
        cwd=db.parent,
        input=stdin,
    )
    assert proc.returncode == 0, proc.stderr
    return proc


def placeholders_in_store(db: Path) -> dict[str, int]:
    """Placeholders (<EMAIL_3fa91c>) in every text column of the spans and logs tables, by kind, in SQL."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        cols = con.execute(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE table_name IN ('spans', 'logs') AND data_type IN ('VARCHAR', 'JSON')"
        ).fetchall()
        assert len(cols) > 10
        parts = " UNION ALL ".join(
            f"SELECT unnest(regexp_extract_all(CAST({c} AS VARCHAR), '<([A-Z_]+)_[0-9a-f]{{6}}>', 1)) AS kind FROM {t}"
            for t, c in cols
        )
        rows = con.execute(f"SELECT lower(kind), count(*) FROM ({parts}) GROUP BY 1").fetchall()
        clear = con.execute(
            "SELECT count(*) FROM spans WHERE CAST(input_text AS VARCHAR) LIKE '%@example.com%' "
            "OR CAST(attributes AS VARCHAR) LIKE '%@example.com%'"
        ).fetchone()[0]
    finally:
        con.close()
    assert clear == 0  # redaction did happen: no address is stored in clear
    return dict(rows)


@pytest.fixture
def traces(tmp_path: Path) -> Path:
    path = tmp_path / "traces.jsonl"
    write_traces(path)
    return path


@pytest.mark.parametrize("via", ["file", "stdin-workers"])
def test_the_count_by_kind_is_the_placeholders_stored(tmp_path: Path, traces: Path, via: str):
    db = tmp_path / f"{via}.duckdb"
    if via == "file":  # a small file: normalized in this process
        proc = llmscope(db, "ingest", str(traces), "--redact", "pii", "--format", "json")
    else:  # standard input with workers: normalized in worker processes, the counts carried back and summed
        proc = llmscope(
            db, "ingest", "-", "--workers", "2", "--redact", "pii", "--format", "json", stdin=traces.read_text()
        )
    reported = json.loads(proc.stdout)["redacted"]
    stored = placeholders_in_store(db)
    assert reported == stored
    # each e-mail is stored in several places of its span (prompt text, messages, attributes); the IP in the
    # resource of each of the 4 spans; the phones in their span's attributes only
    assert reported["email"] >= len(EMAILS) + 1
    assert reported["ip_address"] == 4
    assert reported["phone"] == len(PHONES)
    assert set(reported) == {"email", "phone", "ip_address"}


def test_the_table_output_names_the_count_and_json_is_empty_without_redact(tmp_path: Path, traces: Path):
    db = tmp_path / "table.duckdb"
    out = llmscope(db, "ingest", str(traces), "--redact", "pii").stdout
    stored = placeholders_in_store(db)
    total = sum(stored.values())
    line = next(x for x in out.splitlines() if x.startswith("redacted "))
    assert line.startswith(f"redacted {total} values: ")
    kinds = dict((k, int(n)) for n, k in re.findall(r"(\d+) ([a-z_]+)", line.split(": ", 1)[1]))
    assert kinds == stored

    plain = tmp_path / "plain.duckdb"
    assert "redacted" not in llmscope(plain, "ingest", str(traces)).stdout
    fresh = tmp_path / "plain2.duckdb"
    summary = json.loads(llmscope(fresh, "ingest", str(traces), "--format", "json").stdout)
    assert summary["redacted"] == {} and summary["spans_added"] == 4


def test_the_python_api_report_carries_the_count(tmp_path: Path, traces: Path):
    import llmscope

    store = llmscope.open(tmp_path / "api.duckdb")
    report = store.ingest([traces], redact="pii")
    assert report.redacted == placeholders_in_store(tmp_path / "api.duckdb")
    assert llmscope.open(tmp_path / "api2.duckdb").ingest([traces]).redacted == {}


def test_the_collector_counts_the_values_it_redacted(tmp_path: Path, traces: Path):
    """A collector with --redact pii: its stats (and so its stop message) carry the same count by kind,
    once per acknowledged request, equal to the placeholders it stored."""
    import httpx

    from llmscope.collect import Collector, CollectorConfig
    from llmscope.normalize.builder import Mapping
    from llmscope.normalize.privacy import Privacy

    db = tmp_path / "collected.duckdb"
    cfg = CollectorConfig(
        db=str(db), port=0, flush_seconds=0.3, workers=1, mapping=Mapping(privacy=Privacy(redact_pii=True))
    )
    c = Collector(cfg)
    c.start()
    try:
        for line in traces.read_text().splitlines():
            r = httpx.post(
                f"http://127.0.0.1:{c.port}/v1/traces", content=line, headers={"Content-Type": "application/json"}
            )
            assert r.status_code == 200
    finally:
        c.stop()
    assert c.stats["spans_added"] == 4
    assert c.stats["redacted"] == placeholders_in_store(db)
    assert c.stats["redacted"]["phone"] == len(PHONES)
