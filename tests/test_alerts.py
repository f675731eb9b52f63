"""`llmscope check` replayed over the sample traces: exactly the planted problems fire, when they happen."""

from __future__ import annotations

import json
import threading
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from helpers import REPO, copy_store
from typer.testing import CliRunner

from llmscope import store
from llmscope.checks.alerts import RulesError, evaluate, load_rules, watch_once
from llmscope.cli.app import app
from llmscope.safety.scan import scan

RULES = REPO / "src" / "llmscope" / "example_alerts.toml"  # shipped: `llmscope check --example-rules`
ENV = {"NO_COLOR": "1", "COLUMNS": "200"}


@pytest.fixture(scope="module")
def db(tmp_path_factory, sample_master):
    path = copy_store(sample_master, tmp_path_factory.mktemp("alerts") / "s.duckdb")
    con = store.connect(path)
    scan(con)
    con.close()
    return path


def _replay(db) -> dict[tuple[str, str], list[datetime]]:
    """Evaluate as the clock runs over the two weeks: hourly rules every hour, daily at midnight, weekly on Saturdays."""
    rules = load_rules(RULES)
    con = store.connect(db, read_only=True)
    fired: dict[tuple[str, str], list[datetime]] = {}
    try:
        at = datetime(2025, 11, 1, 1)
        while at <= datetime(2025, 11, 15):
            due = [
                r
                for r in rules
                if r.window <= timedelta(hours=1)
                or (at.hour == 0 and r.window == timedelta(days=1))
                or (at.hour == 0 and at.weekday() == 5 and r.window == timedelta(days=7))
            ]
            for a in evaluate(con, due, at):
                fired.setdefault((a.rule, a.group), []).append(at)
            at += timedelta(hours=1)
    finally:
        con.close()
    return fired


def test_exactly_the_planted_problems_fire_at_the_expected_time_and_week_one_is_quiet(db):
    fired = _replay(db)
    day = lambda d: datetime(2025, 11, d)  # noqa: E731
    assert fired == {
        ("provider errors", "anthropic"): [datetime(2025, 11, 12, 10)],  # 429s and timeouts 09:00-10:00
        ("slow llm calls", "code-assist"): [datetime(2025, 11, 12, 10)],  # the 30 s timeouts
        ("cost per call", "support-bot"): [day(11), day(12), day(13), day(14)],  # prompt v3 from Nov 10 on
        ("prompt injection", "all"): [day(12), day(13), day(14)],  # Nov 11, 12 (direct), 13 (indirect)
        ("agent loops", "all"): [day(12), day(13), day(14)],  # Nov 11 repeat, 12 cycle, 13 runaway
        ("pii leaks", "all"): [day(14)],  # the e-mail leak on Nov 13
        ("weekly drift", "support-bot · input_tokens"): [day(15)],  # week 2 against week 1
    }


def test_cli_exit_codes_formats_and_bad_rules(db, tmp_path):
    runner = CliRunner()
    base = ["--db", str(db), "check", "--rules", str(RULES)]
    res = runner.invoke(app, [*base, "--at", "2025-11-12T10:00", "--format", "json"], env=ENV)
    assert res.exit_code == 1
    alerts = json.loads(res.stdout)
    err = next(a for a in alerts if a["rule"] == "provider errors")
    assert (
        err["group"] == "anthropic"
        and err["value"] == pytest.approx(12 / 29, abs=1e-3)
        and len(err["example_trace_ids"]) == 5
    )
    res = runner.invoke(app, [*base, "--at", "2025-11-05T10:00"], env=ENV)
    assert res.exit_code == 0 and "no alert fired" in res.stdout
    res = runner.invoke(app, [*base, "--at", "2025-11-12T10:00", "--fail-on", "critical", "--format", "junit"], env=ENV)
    assert res.exit_code == 1 and res.stdout.startswith("<?xml") and 'failures="6"' in res.stdout
    res = runner.invoke(
        app, [*base, "--at", "2025-11-15T00:00", "--fail-on", "critical", "--format", "markdown"], env=ENV
    )
    assert res.exit_code == 0 and "weekly drift" in res.stdout  # only an info alert: below --fail-on
    bad = tmp_path / "bad.toml"
    bad.write_text(
        '[[alerts]]\nname = "ok"\nkind = "injection"\n\n[[alerts]]\nname = "typo"\nkind = "error_rate"\ntreshold = 0.1\n'
    )
    res = runner.invoke(app, ["--db", str(db), "check", "--rules", str(bad)], env=ENV)
    assert res.exit_code == 2 and f"{bad}:5: unknown option(s) treshold" in res.output
    with pytest.raises(RulesError, match=":1: kind 'nope'"):
        bad.write_text('[[alerts]]\nkind = "nope"\n')
        load_rules(bad)


class Receiver:
    def __init__(self):
        self.events: list[dict] = []
        self.fail_first = 1
        outer = self

        class H(BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                if outer.fail_first:
                    outer.fail_first -= 1
                    self.send_response(503)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                outer.events.append(body)
                self.send_response(204)
                self.end_headers()

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/hook"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()


def test_notify_posts_fired_and_resolved_once_with_retries(db):
    rx = Receiver()
    rules = [r for r in load_rules(RULES) if r.name == "provider errors"]
    con = store.connect(db, read_only=True)
    try:
        firing: dict = {}
        _, firing = watch_once(con, rules, firing, rx.url, datetime(2025, 11, 12, 10))
        _, firing = watch_once(con, rules, firing, rx.url, datetime(2025, 11, 12, 10, 5))  # still firing: no repeat
        _, firing = watch_once(con, rules, firing, rx.url, datetime(2025, 11, 12, 11, 30))  # resolved
    finally:
        con.close()
        rx.httpd.shutdown()
    assert [(e["event"], e["rule"], e["group"]) for e in rx.events] == [
        ("fired", "provider errors", "anthropic"),
        ("resolved", "provider errors", "anthropic"),
    ]  # the 503 was retried


def test_watch_loop_runs_and_stops(db):
    runner = CliRunner()
    res = runner.invoke(
        app,
        ["--db", str(db), "check", "--rules", str(RULES), "--at", "2025-11-05T10:00", "--every", "1s", "--runs", "2"],
        env=ENV,
    )
    assert res.exit_code == 0 and res.stdout.count("no alert fired") == 2


def test_example_rules_are_shipped_and_are_the_tested_ones(tmp_path):
    """`check --example-rules` prints the file these tests replay; with it as llmscope.toml in the
    working directory, `check` finds it without --rules; without one, the error says how to start."""
    import os

    runner = CliRunner()
    env = {"NO_COLOR": "1", "COLUMNS": "200"}
    printed = runner.invoke(app, ["check", "--example-rules"], env=env)
    assert printed.exit_code == 0 and printed.output == RULES.read_text()
    from llmscope.checks.alerts import KINDS

    # every kind: the ones that need scores or a budget are there commented out, and load when uncommented
    uncommented = "\n".join(
        line[2:] if line.startswith("# ") or line == "#" else line
        for line in RULES.read_text().splitlines()
        if not line.startswith("# ") or "=" in line or "[[alerts]]" in line
    )
    assert {r.kind for r in load_rules_text(tmp_path, uncommented)} == set(KINDS)
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        missing = runner.invoke(app, ["--db", str(tmp_path / "none.duckdb"), "check"], env=env)
        assert missing.exit_code == 2 and "llmscope check --example-rules > llmscope.toml" in missing.output
        (tmp_path / "llmscope.toml").write_text(printed.output)
        found = runner.invoke(app, ["--db", str(tmp_path / "none.duckdb"), "check"], env=env)
        assert "no such rules file" not in found.output and "no store" in found.output  # rules read; no store here
    finally:
        os.chdir(cwd)


def load_rules_text(tmp_path, text: str):
    f = tmp_path / "rules.toml"
    f.write_text(text)
    return load_rules(f)
