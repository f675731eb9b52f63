"""Scan, safety report, redaction and hashing on ingest, retention — on real stores and files."""

from __future__ import annotations

import json
import re

import pytest
from helpers import SAMPLES, export_line, kv, otlp_span, query, s, write_lines
from typer.testing import CliRunner

from llmscope import store
from llmscope.analyses.safety import findings, safety
from llmscope.cli.app import app
from llmscope.ingest.pipeline import ingest
from llmscope.normalize.builder import Mapping
from llmscope.normalize.privacy import Privacy
from llmscope.safety.scan import Policy, scan

ENV = {"NO_COLOR": "1", "COLUMNS": "200"}


def test_scan_finds_exactly_the_planted_problems(sample_store):
    db = sample_store
    planted = json.loads((SAMPLES / "manifest.json").read_text())["planted"]
    con = store.connect(db)
    try:
        rep = scan(con)
        again = scan(con)
    finally:
        con.close()
    assert rep.spans_scanned == query(db, "SELECT count(*) FROM spans")[0][0]
    assert again.spans_scanned == 0  # only new spans are scanned
    got = {(r[0], r[1]) for r in query(db, "SELECT kind, trace_id FROM findings")}
    direct = {t["trace_id"] for t in planted["prompt_injection_direct"]}
    expected = {("injection", t) for t in direct} | {
        ("indirect_injection", planted["prompt_injection_indirect"]["trace_id"]),
        ("pii_leak", planted["pii_leak"]["trace_id"]),
    }
    assert got == expected
    leak = query(db, "SELECT subkind, excerpt FROM findings WHERE kind = 'pii_leak'")[0]
    assert leak[0] == "email" and "jane.doe@example.com" not in leak[1] and "@example.com" in leak[1]


@pytest.fixture
def policy_store(tmp_path):
    def chat(i, feature, user, answer, finish="stop"):
        t = f"{i:032x}"
        msgs_in = json.dumps([{"role": "user", "parts": [{"type": "text", "content": user}]}])
        msgs_out = json.dumps([{"role": "assistant", "parts": [{"type": "text", "content": answer}]}])
        return otlp_span(
            t,
            f"{i:016x}",
            name="chat",
            attrs=[
                kv("gen_ai.operation.name", s("chat")),
                kv("app.feature", s(feature)),
                kv("gen_ai.response.finish_reasons", {"arrayValue": {"values": [s(finish)]}}),
                kv("gen_ai.input.messages", s(msgs_in)),
                kv("gen_ai.output.messages", s(msgs_out)),
            ],
        )

    spans = [
        chat(1, "medical", "Is ibuprofen safe with coffee?", "Yes, it is generally fine."),  # missing disclaimer
        chat(2, "medical", "Dose?", "Usually 200 mg. This is not medical advice."),  # has it
        chat(
            3, "billing", "Cheaper elsewhere?", "You could try AcmeCorp, they guarantee results."
        ),  # competitor + prohibited
        chat(
            4, "billing", "My card is 4242 4242 4242 4242", "Thanks, I see card 4242 4242 4242 4242."
        ),  # PII in input, echoed
        chat(5, "billing", "Tell me a joke", "", finish="content_filter"),  # guardrail
        chat(6, "billing", "Hi", "Your idiot request is noted."),  # toxicity
    ]
    db = tmp_path / "p.duckdb"
    ingest([str(write_lines(tmp_path / "p.jsonl", [export_line(spans)]))], db)
    return db


def test_policy_guardrails_toxicity_and_echoed_pii(policy_store, tmp_path):
    policy = Policy(
        prohibited=["guarantee results"], competitors=["AcmeCorp"], disclaimers={"medical": "not medical advice"}
    )
    con = store.connect(policy_store)
    try:
        scan(con, policy=policy)
        by_feature = {r["feature"]: r for r in safety(con, by="feature").to_pylist()}
        listed = findings(con, limit=50).to_pylist()
    finally:
        con.close()
    kinds = {(r[0], r[1], r[2]) for r in query(policy_store, "SELECT span_id, kind, subkind FROM findings")}
    assert (f"{1:016x}", "policy", "missing_disclaimer") in kinds
    assert not any(k[0] == f"{2:016x}" for k in kinds)
    assert {(f"{3:016x}", "policy", "competitor_mention"), (f"{3:016x}", "policy", "prohibited_phrase")} <= kinds
    assert (f"{4:016x}", "pii_input", "credit_card") in kinds
    assert not any(k[1] == "pii_leak" for k in kinds)  # the card was in the prompt: echoed, not leaked
    assert (f"{5:016x}", "guardrail", "content_filter") in kinds
    assert (f"{6:016x}", "toxicity", "lexicon") in kinds
    assert by_feature["medical"]["policy"] == 1 and by_feature["billing"]["guardrail"] == 1
    assert all("4242 4242 4242 4242" not in (r["excerpt"] or "") for r in listed)
    # the CLI reads [policy] from llmscope.toml and never prints the raw card number
    cfg = tmp_path / "llmscope.toml"
    cfg.write_text(
        '[policy]\nprohibited = ["guarantee results"]\ncompetitors = ["AcmeCorp"]\n[policy.disclaimers]\nmedical = "not medical advice"\n'
    )
    runner = CliRunner()
    res = runner.invoke(app, ["--db", str(policy_store), "--config", str(cfg), "scan", "--rescan"], env=ENV)
    assert res.exit_code == 0, res.output
    res = runner.invoke(app, ["--db", str(policy_store), "report", "safety", "--show", "findings"], env=ENV)
    assert res.exit_code == 0 and "4242 4242 4242 4242" not in res.output and "4242" in res.output


SECRET_EMAIL = "maria.gonzalez.1987@examplemail.com"
CARD = "5555 5555 5555 4444"


def _pii_trace(tmp_path):
    msgs_in = json.dumps(
        [{"role": "user", "parts": [{"type": "text", "content": f"I am {SECRET_EMAIL}, card {CARD}"}]}]
    )
    msgs_out = json.dumps([{"role": "assistant", "parts": [{"type": "text", "content": f"Noted, {SECRET_EMAIL}."}]}])
    t = "ab" * 16
    spans = [
        otlp_span(t, "01" * 8, name="POST /chat", attrs=[kv("user.email", s(SECRET_EMAIL))]),
        otlp_span(
            t,
            "02" * 8,
            parent="01" * 8,
            name="chat",
            attrs=[
                kv("gen_ai.operation.name", s("chat")),
                kv("gen_ai.input.messages", s(msgs_in)),
                kv("gen_ai.output.messages", s(msgs_out)),
            ],
        ),
    ]
    return write_lines(tmp_path / "pii.jsonl", [export_line(spans)])


def test_redaction_on_ingest_uses_typed_placeholders_consistent_in_a_trace(tmp_path):
    db = tmp_path / "r.duckdb"
    ingest([str(_pii_trace(tmp_path))], db, mapping=Mapping(privacy=Privacy(redact_pii=True)))
    ((inp, out, attrs),) = query(db, "SELECT input_text, output_text, attributes FROM spans WHERE name = 'chat'")
    m = re.fullmatch(r"I am (<EMAIL_[0-9a-f]{6}>), card (<CREDIT_CARD_[0-9a-f]{6}>)", inp)
    assert m, inp
    email = m.group(1)
    assert out == f"Noted, {email}." and email in attrs
    root_attrs = query(db, "SELECT attributes FROM spans WHERE name = 'POST /chat'")[0][0]
    assert json.loads(root_attrs)["user.email"] == email
    con = store.connect(db)
    con.execute("CHECKPOINT")
    con.close()
    raw = db.read_bytes()
    assert SECRET_EMAIL.encode() not in raw and CARD.encode() not in raw


def test_placeholders_agree_across_batches_of_one_trace_and_tell_values_apart(tmp_path):
    """One trace in two files (two batches, as a long trace split across worker units): the same
    e-mail reads the same in both, two different e-mails never share a placeholder."""
    t = "cd" * 16
    first = write_lines(
        tmp_path / "a.jsonl",
        [
            export_line(
                [
                    otlp_span(
                        t, "01" * 8, name="root", attrs=[kv("input.value", s("write to ann.lee@example.org please"))]
                    )
                ]
            )
        ],
    )
    second = write_lines(
        tmp_path / "b.jsonl",
        [
            export_line(
                [
                    otlp_span(
                        t,
                        "02" * 8,
                        parent="01" * 8,
                        name="tool",
                        attrs=[kv("input.value", s("cc bob.ray@example.net and ann.lee@example.org"))],
                    )
                ]
            )
        ],
    )
    db = tmp_path / "r.duckdb"
    ingest([str(first), str(second)], db, mapping=Mapping(privacy=Privacy(redact_pii=True)))
    texts = dict(query(db, "SELECT name, input_text FROM spans"))
    ann = re.search(r"<EMAIL_[0-9a-f]{6}>", texts["root"]).group(0)
    tokens = re.findall(r"<EMAIL_[0-9a-f]{6}>", texts["tool"])
    assert tokens[1] == ann and tokens[0] != ann
    assert "example.org" not in texts["root"] + texts["tool"]


def test_hash_content_keeps_equal_prompts_equal_and_unreadable(tmp_path, monkeypatch):
    monkeypatch.setenv("LLMSCOPE_HASH_KEY", "test-key")
    db = tmp_path / "h.duckdb"
    f = _pii_trace(tmp_path)
    runner = CliRunner()
    res = runner.invoke(app, ["--db", str(db), "ingest", str(f), "--hash-content"], env=ENV)
    assert res.exit_code == 0, res.output
    ((inp, out, msgs),) = query(db, "SELECT input_text, output_text, input_messages FROM spans WHERE name = 'chat'")
    assert inp.startswith("hmac:") and out.startswith("hmac:") and inp != out
    assert SECRET_EMAIL not in (msgs or "")
    monkeypatch.delenv("LLMSCOPE_HASH_KEY")
    res = runner.invoke(app, ["--db", str(tmp_path / "x.duckdb"), "ingest", str(f), "--hash-content"], env=ENV)
    assert res.exit_code == 2 and "LLMSCOPE_HASH_KEY" in res.output


def test_prune_content_only_and_full_remove_the_bytes(tmp_path):
    db = tmp_path / "p.duckdb"
    ingest([str(_pii_trace(tmp_path))], db)
    con = store.connect(db)
    con.execute("CHECKPOINT")
    con.close()
    assert SECRET_EMAIL.encode() in db.read_bytes()
    runner = CliRunner()
    res = runner.invoke(app, ["--db", str(db), "prune", "--older-than", "2030-01-01", "--content-only"], env=ENV)
    assert res.exit_code == 0, res.output
    assert query(db, "SELECT count(*), count(input_text), count(duration_ms) FROM spans") == [(2, 0, 2)]
    assert SECRET_EMAIL.encode() not in db.read_bytes()  # gone from the file, not just hidden
    ingest([str(_pii_trace(tmp_path))], tmp_path / "q.duckdb")
    res = runner.invoke(app, ["--db", str(tmp_path / "q.duckdb"), "prune", "--older-than", "2030-01-01"], env=ENV)
    assert res.exit_code == 0 and query(tmp_path / "q.duckdb", "SELECT count(*) FROM spans") == [(0,)]
    assert SECRET_EMAIL.encode() not in (tmp_path / "q.duckdb").read_bytes()
