"""Issue 14, "Trust": the tool that exposes silent failures must have none.

Each test runs what a user types and checks the whole outcome: the exit code, one line on stderr,
and that nothing was written, lost or widened (the files on disk, the other store, the counts).
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import duckdb
import pytest
from helpers import SAMPLES, export_line, otlp_span, query, write_lines
from typer.testing import CliRunner

from llmscope.cli.app import app

runner = CliRunner()
ENV = {"NO_COLOR": "1", "COLUMNS": "200"}


def run(*args: str, code: int = 0, env: dict | None = None):
    res = runner.invoke(app, list(args), env={**ENV, **(env or {})})
    assert res.exit_code == code, (args, res.output, res.exception)
    assert "Traceback" not in res.output
    return res


def one_error_line(res) -> str:
    """The error a failed command printed: exactly one line, on stderr, nothing on stdout."""
    lines = [line for line in res.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, res.stderr
    assert lines[0].startswith("error: "), lines
    assert not res.stdout.strip(), res.stdout
    return lines[0]


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# --------------------------------------------------------------------------- 1. the store is what the user thinks


def _foreign_files(tmp_path: Path) -> dict[str, tuple[Path, str]]:
    """Files people hand to --db by mistake, and the word the error must use for each."""
    line = export_line([otlp_span("4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7")])
    jsonl = write_lines(tmp_path / "traces.jsonl", [line])
    csv = tmp_path / "spans.csv"
    csv.write_text("trace_id,span_id,name\n4bf9,00f0,chat\n")
    gz = tmp_path / "traces.jsonl.gz"
    gz.write_bytes(gzip.compress(jsonl.read_bytes()))
    parquet = tmp_path / "spans.parquet"
    con = duckdb.connect()
    con.execute(f"COPY (SELECT 1 AS a) TO '{parquet}' (FORMAT parquet)")
    con.close()
    rand = tmp_path / "random.bin"
    rand.write_bytes(bytes(range(256)) * 17)
    empty = tmp_path / "empty.duckdb"
    empty.write_bytes(b"")
    sqlite = tmp_path / "app.db"
    import sqlite3

    sq = sqlite3.connect(sqlite)
    sq.execute("create table t (a)")
    sq.commit()
    sq.close()
    return {
        "jsonl": (jsonl, "JSON"),
        "csv": (csv, "CSV"),
        "gzip": (gz, "gzip"),
        "parquet": (parquet, "Parquet"),
        "random": (rand, "binary data"),
        "empty": (empty, "empty"),
        "sqlite": (sqlite, "SQLite"),
    }


FOREIGN = ("jsonl", "csv", "gzip", "parquet", "random", "empty", "sqlite")
COMMANDS = (
    ["ingest", str(SAMPLES / "ticket-triage.traces.jsonl")],
    ["report", "summary"],
    ["report", "latency", "--by", "model"],
    ["trace", "list"],
    ["sql", "select 1"],
    ["stats"],
    ["scan"],
    ["eval"],
    ["prune", "--older-than", "30d", "--yes"],
    ["reprice"],
    ["export", "parquet", "OUT"],
)


@pytest.mark.parametrize("kind", FOREIGN)
def test_a_file_that_is_not_a_store_is_named_and_left_untouched(tmp_path, kind):
    path, word = _foreign_files(tmp_path)[kind]
    before, files = digest(path), sorted(p.name for p in tmp_path.iterdir())
    for args in COMMANDS:
        args = [a.replace("OUT", str(tmp_path / "lake")) for a in args]
        res = run("--db", str(path), *args, code=2)
        line = one_error_line(res)
        assert str(path) in line and word in line, (args, line)
        assert digest(path) == before, args
        assert not (tmp_path / "lake").exists()
    # the same through the environment variable
    res = run("report", "summary", code=2, env={"LLMSCOPE_DB": str(path)})
    assert str(path) in one_error_line(res)
    assert sorted(p.name for p in tmp_path.iterdir()) == files  # no .wal, no store beside it


def test_a_directory_as_store_is_named(tmp_path):
    res = run("--db", str(tmp_path), "report", "summary", code=2)
    assert "is a directory" in one_error_line(res)


HOLDER = textwrap.dedent(
    """
    import sys, time, duckdb
    con = duckdb.connect(sys.argv[1])          # a notebook's (or another tool's) write connection
    con.execute("SELECT count(*) FROM spans").fetchall()
    print("holding", flush=True)
    sys.stdin.read()                           # until the test closes our stdin
    """
)


@pytest.fixture
def held_store(sample_store):
    """The sample store held by a second, real process with a write connection (not llmscope)."""
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(sample_store)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout.readline().strip() == "holding"
    yield sample_store, proc.pid
    proc.stdin.close()
    proc.wait(timeout=30)


def test_a_store_held_by_another_process_is_named_as_such(held_store, monkeypatch):
    from llmscope import store as store_pkg
    from llmscope.store import connection

    path, pid = held_store
    monkeypatch.setattr(connection, "LOCK_WAIT_S", 0.5)  # readers wait for a writer; not 10 s here
    monkeypatch.setattr(store_pkg, "LOCK_WAIT_S", 0.5)
    for args in (["report", "summary"], ["ingest", str(SAMPLES / "ticket-triage.traces.jsonl")], ["scan"]):
        line = one_error_line(run("--db", str(path), *args, code=2))
        assert "held by another process" in line and str(path) in line, line
        assert f"PID {pid}" in line, line
        assert "llmscope" not in line.split("held by another process")[1].split(";")[0]


# --------------------------------------------------------------------------- 2. sql is read-only for real


@pytest.fixture
def two_stores(sample_store, tmp_path):
    other = tmp_path / "other.duckdb"
    con = duckdb.connect(str(other))
    con.execute("CREATE TABLE spans AS SELECT * FROM range(5) t(i)")
    con.close()
    return sample_store, other


def _statements(tmp_path: Path, other: Path) -> list[str]:
    target = tmp_path / "out"
    secret = tmp_path / "secret.csv"
    secret.write_text("k,v\npassword,hunter2\n")
    return [
        f"copy (select 1) to '{target}.csv'",
        f"copy spans to '{target}.parquet' (format parquet)",
        f"attach '{other}' as o (READ_WRITE)",
        f"attach '{other}' as o (READ_WRITE); delete from o.spans",
        f"export database '{target}_dir'",
        "select * from read_text('/etc/passwd')",
        f"select content from read_text('{secret}')",
        "select * from glob('/root/*')",
        f"select * from glob('{tmp_path}/*')",
        f"select * from read_csv('{secret}')",
        f"select * from '{secret}'",
        f"select * from read_parquet('{target}.parquet')",
        "select getenv('HOME')",
        "set threads = 1",
        "set enable_external_access = true",
        "reset enable_external_access",
        "install httpfs",
        "load httpfs",
        "pragma version",
        "pragma enable_profiling",
        "create table t (a int)",
        "create view v as select 1",
        "create macro m(a) as a",
        "insert into spans (trace_id, span_id) values ('x', 'y')",
        "delete from spans",
        "update spans set cost_usd = 0",
        "drop table spans",
        "alter table spans drop column cost_usd",
        "truncate spans",
        "checkpoint",
        "vacuum",
        "begin transaction",
        "create secret (type s3, key_id 'a', secret 'b')",
        "call pragma_version()",
        "select 1; select 2",
        "select 1; delete from spans",
        f"select 1; copy (select 1) to '{target}.csv'",
    ]


def test_sql_refuses_every_statement_that_reaches_outside_and_writes_nothing(two_stores, tmp_path):
    store, other = two_stores
    before, other_before = digest(store), digest(other)
    n = query(store, "SELECT count(*) FROM spans")[0][0]
    for statement in _statements(tmp_path, other):
        res = run("--db", str(store), "sql", statement, code=2)
        one_error_line(res)
        assert "hunter2" not in res.output and "root:" not in res.output, statement
    # nothing written anywhere: not the targets, not the other store, not this one
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["sample.duckdb", "other.duckdb", "secret.csv"])
    assert digest(other) == other_before and query(other, "SELECT count(*) FROM spans") == [(5,)]
    assert digest(store) == before and query(store, "SELECT count(*) FROM spans") == [(n,)]
    # what sql is for still works
    [row] = json.loads(run("--db", str(store), "sql", "select count(*) as n from spans", "--format", "json").stdout)
    assert row["n"] == n
    assert run("--db", str(store), "sql", "describe spans").stdout.count("VARCHAR") > 10
    assert "SEQ_SCAN" in run("--db", str(store), "sql", "explain select * from spans").stdout.upper().replace(" ", "_")


def test_the_library_sql_is_sandboxed_too(two_stores, tmp_path):
    import llmscope

    store, other = two_stores
    with llmscope.open(store) as s:
        for statement in _statements(tmp_path, other):
            with pytest.raises(llmscope.QueryError):
                s.sql(statement)
    assert query(other, "SELECT count(*) FROM spans") == [(5,)]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["sample.duckdb", "other.duckdb", "secret.csv"])


# --------------------------------------------------------------------------- 3. a filter cannot widen the question

INJECTIONS = (
    "status='error') or (1=1",
    "1=1) OR (CAST((select content from read_text('/etc/passwd')) AS INT) = 1",
    "status = 'error' OR 1=1) --",
    "status = 'error' -- ) or (1=1",
    "status = 'error' /* ) or (1=1 */",
    "status = 'error'; delete from spans",
    "status = 'error';",
    "trace_id in (select trace_id from spans)",
    "exists (select 1)",
    "(select count(*) from spans) > 0",
    "length(getenv('HOME')) > 0",
    "content in (select content from read_text('/etc/passwd'))",
    "read_text('/etc/passwd') is not null",
    "o.spans.status = 'error'",
    "nope = 1",
    "status",
    "1",
    "select 1",
    "?",
    "",
)


@pytest.fixture(scope="module")
def ro_store(sample_master):
    return str(sample_master)


def test_a_where_is_one_condition_over_span_columns(ro_store):
    llm = json.loads(run("--db", ro_store, "report", "latency", "--format", "json").stdout)[0]["requests"]
    errors = json.loads(
        run("--db", ro_store, "report", "latency", "--where", "status='error'", "--format", "json").stdout
    )[0]["requests"]
    assert 0 < errors < llm
    for text in INJECTIONS[:-1]:
        for args in (
            ["report", "latency"],
            ["report", "cost"],
            ["report", "summary"],
            ["trace", "list"],
            ["report", "drift"],
        ):
            res = run("--db", ro_store, *args, "--where", text, code=2)
            line = one_error_line(res)
            assert "--where" in line and "root:" not in line, (text, line)
    # an empty filter is no filter
    assert (
        json.loads(run("--db", ro_store, "report", "latency", "--where", "", "--format", "json").stdout)[0]["requests"]
        == llm
    )


def test_the_library_where_refuses_the_same(ro_store):
    import llmscope

    s = llmscope.open(ro_store)
    for text in INJECTIONS[:-1]:
        with pytest.raises(llmscope.QueryError) as e:
            s.report("latency", where=text)
        assert e.value.param == "where"
        with pytest.raises(llmscope.QueryError):
            s.spans(where=text)


def test_always_rules_and_attribute_keys_are_checked_the_same_way(sample_store, tmp_path):
    before = digest(sample_store)
    for text in INJECTIONS[:5]:
        res = run("--db", str(sample_store), "eval", "--always", text, code=2)
        assert "--always" in one_error_line(res)
    assert query(sample_store, "SELECT count(*) FROM evals") == [(0,)]
    for text in INJECTIONS[:5]:
        rules = tmp_path / "rules.toml"
        rules.write_text(f'[[alerts]]\nname = "x"\nkind = "error_rate"\nthreshold = 0.1\nwhere = {json.dumps(text)}\n')
        line = one_error_line(run("--db", str(sample_store), "check", "--rules", str(rules), code=2))
        assert f"{rules}:1" in line, line
        rules.write_text(f'[[alerts]]\nname = "x"\nkind = "error_rate"\nthreshold = 0.1\nby = {json.dumps(text)}\n')
        one_error_line(run("--db", str(sample_store), "check", "--rules", str(rules), code=2))
    assert digest(sample_store) == before
    # an attribute key is quoted, whatever it holds: it groups, it never widens or reaches out
    for key in ("x') or (1=1", 'a"b', "x' || read_text('/etc/passwd') || '", "$.*", "🙂"):
        rows = json.loads(
            run("--db", str(sample_store), "report", "latency", "--by", f"attr:{key}", "--format", "json").stdout
        )
        assert len(rows) == 1 and list(rows[0].values())[0] is None, (key, rows)
    rows = json.loads(
        run(
            "--db", str(sample_store), "report", "latency", "--by", "attr:gen_ai.request.model", "--format", "json"
        ).stdout
    )
    assert len(rows) >= 3
    one_error_line(run("--db", str(sample_store), "report", "latency", "--by", "attr:a\nb", code=2))
    one_error_line(run("--db", str(sample_store), "report", "latency", "--by", "status) or (1=1", code=2))


# --------------------------------------------------------------------------- 4. options checked before work


OPTION_ERRORS = (
    (["report", "latency", "--since", "2025-11-12", "--until", "2025-11-10"], "--since"),
    (["trace", "list", "--since", "2025-11-12", "--until", "2025-11-12"], "--since"),
    (["report", "latency", "--since", "yesterday"], "--since"),
    (["report", "cost", "--top", "0", "--table", "top_requests"], "--table"),
    (["report", "cost", "--top", "-1"], "--top"),
    (["report", "latency", "--every", "0h"], "--every"),
    (["report", "latency", "--every", "-1h"], "--every"),
    (["report", "latency", "--every", "soon"], "--every"),
    (["report", "cost", "--anomalies", "--every", "0d"], "--every"),
    (["check", "--every", "0s", "--runs", "1"], "--every"),
    (["ingest", str(SAMPLES), "--follow", "0s"], "--follow"),
    (["eval", "--sample", "2.5"], "--sample"),
    (["eval", "--sample", "0"], "--sample"),
    (["eval", "--sample", "-0.5"], "--sample"),
    (["eval", "--budget-usd", "0"], "--budget-usd"),
    (["eval", "--limit", "-1"], "--limit"),
    (["eval", "--repeat", "0"], "--repeat"),
    (["report", "latency", "--span-type", "banana"], "--span-type"),
    (["report", "errors", "--span-type", "banana"], "--span-type"),
    (["report", "drift", "--span-type", "banana"], "--span-type"),
    (["report", "errors", "--messages", "-1"], "--messages"),
    (["report", "safety", "--show", "findings", "--limit", "-3"], "--limit"),
    (["report", "safety", "--show", "findings", "--limit", "0"], "--limit"),
    (["report", "safety", "--show", "everything"], "--show"),
    (["trace", "list", "--limit", "-1"], "--limit"),
    (["trace", "list", "--limit", "0"], "--limit"),
    (["report", "loops", "--max-steps", "0"], "--max-steps"),
    (["report", "loops", "--min-repeats", "1"], "--min-repeats"),
    (["report", "loops", "--max-duration", "-5"], "--max-duration"),
    (["report", "drift", "--days", "0"], "--days"),
    (["report", "drift", "--baseline", "2025-11-08..2025-11-01", "--current", "2025-11-08..2025-11-14"], "--baseline"),
    (["report", "drift", "--baseline", "2025-11-01..2025-11-07"], "--baseline"),
    (["report", "latency", "--by", "banana"], "--by"),
    (["report", "summary", "--format", "yaml"], "--format"),
    (["report", "cost", "--table", "nope"], "--table"),
    (["stats", "--coverage-limit", "0"], "--coverage-limit"),
    (["prune", "--older-than", "0d", "--dry-run"], "--older-than"),
    (["ingest", str(SAMPLES), "--workers", "0"], "--workers"),
    (["trace", "show", "zz-not-hex"], "zz-not-hex"),
)


def test_options_are_checked_before_work_starts(sample_store):
    before = digest(sample_store)
    for args, option in OPTION_ERRORS:
        res = run("--db", str(sample_store), *args, code=2)
        line = one_error_line(res)
        assert option in line, (args, line)
        assert "Binder" not in line and "Not implemented" not in line and "Catalog" not in line, line
    assert digest(sample_store) == before
    assert query(sample_store, "SELECT count(*) FROM evals") == [(0,)]


USAGE_ERRORS = (
    ["report", "latency", "--top", "3"],
    ["report", "cost", "--top", "many"],
    ["report", "nope"],
    ["trace", "show"],
    ["sql"],
    ["ingest"],
    ["--nope"],
    ["report", "latency", "--by"],
    ["eval", "--sample", "half"],
)


def test_usage_errors_are_one_line_not_a_box(sample_store):
    for args in USAGE_ERRORS:
        res = run("--db", str(sample_store), *args, code=2)
        line = one_error_line(res)
        assert "╭" not in res.output and "│" not in res.output, res.output
        assert "--help" in line, line


def test_usage_errors_are_one_line_in_a_real_process_at_80_columns(sample_store):
    env = dict(os.environ, COLUMNS="80", NO_COLOR="1")
    for args in (["report", "latency", "--top", "3"], ["report", "cost", "--top", "-1"], ["--db"]):
        proc = subprocess.run(
            [sys.executable, "-m", "llmscope", "--db", str(sample_store), *args],
            env=env,
            capture_output=True,
            text=True,
        )
        assert proc.returncode == 2 and not proc.stdout, (args, proc.stdout)
        lines = proc.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: ") and "Traceback" not in proc.stderr, proc.stderr


# --------------------------------------------------------------------------- 6. the README is true on the sample

README = Path(__file__).resolve().parent.parent / "README.md"
NEEDS_NETWORK_OR_RUNS_FOREVER = ("--judge", "eval compare", "collect", "--follow")


def readme_examples() -> list[str]:
    text = README.read_text()
    block = re.search(r"## What it does.*?```\n(.*?)```", text, re.S).group(1)
    lines = [re.split(r"\s#\s", line)[0].strip() for line in block.splitlines()]
    return [line for line in lines if line.startswith("llmscope ")]


def test_every_readme_example_runs_on_the_sample_and_shows_data(tmp_path):
    examples = readme_examples()
    assert len(examples) >= 30 and examples[0] == "llmscope ingest sample_traces/"
    work = tmp_path / "work"  # a fresh checkout's directory: the first line builds the store
    work.mkdir()
    (work / "sample_traces").symlink_to(SAMPLES)
    bin_dir = Path(sys.executable).parent
    env = dict(os.environ, PATH=f"{bin_dir}:{os.environ['PATH']}", NO_COLOR="1", COLUMNS="80")
    env.pop("LLMSCOPE_DB", None)
    ran = 0
    for line in examples:
        if any(word in line for word in NEEDS_NETWORK_OR_RUNS_FOREVER):
            continue
        proc = subprocess.run(["bash", "-c", line], cwd=work, env=env, capture_output=True, text=True, timeout=300)
        # `check` exits 1 when an alert fires: the README says so, and the sample has them at that moment
        ok = (0, 1) if " check " in f" {line} " and "--example-rules" not in line.split("&&")[-1] else (0,)
        assert proc.returncode in ok, (line, proc.stdout[-2000:], proc.stderr[-2000:])
        assert "Traceback" not in proc.stderr, (line, proc.stderr)
        shown = proc.stdout.strip()
        if ">" in line:  # written to a file: the file holds it
            shown = (work / line.rsplit(">", 1)[1].split()[0]).read_text().strip()
        elif " -o " in line:
            shown = (work / line.split(" -o ")[1].split()[0]).read_text()[:100]
        assert shown, (line, proc.stderr)
        for empty in ("no traces", "no alert fired", "no spans", "no LLM calls", "no data"):
            assert empty not in proc.stdout + proc.stderr, (line, proc.stdout, proc.stderr)
        # "0 spans" as a count, not the end of a rate such as "2,370 spans/s"
        assert not re.search(r"(?<![\d,.])0 spans", proc.stdout + proc.stderr), (line, proc.stdout, proc.stderr)
        ran += 1
    assert ran >= 25


# --------------------------------------------------------------------------- 12. help teaches


def _commands(group=None, path=()):
    import typer.main

    group = group or typer.main.get_command(app)
    for name, cmd in sorted(getattr(group, "commands", {}).items()):
        if getattr(cmd, "hidden", False):
            continue
        yield (*path, name), cmd
        yield from _commands(cmd, (*path, name))


def test_every_commands_help_has_examples_one_per_line_and_plain_words():
    seen = 0
    for path, cmd in _commands():
        res = run(*path, "--help", env={"COLUMNS": "100"})
        out = res.stdout
        if hasattr(cmd, "commands"):  # a group lists its commands
            assert "Commands" in out, path
            continue
        examples = [line.strip() for line in out.splitlines() if line.strip().startswith("llmscope ")]
        assert examples, (path, out)
        for ex in examples:  # one per line: an example never runs into the next one
            assert ex.count("llmscope ") == 1 or "|" in ex or "&&" in ex, (path, ex)
        assert "src/llmscope" not in out and not re.search(r"llmscope/[\w/]*\.py", out), (path, out)
        options = out.split("Options")[-1]
        assert "<list" not in options and "list[str]" not in options and "<str>" not in options, (path, out)
        seen += 1
    assert seen >= 20


def test_export_parquet_help_keeps_its_glob_and_eval_help_lists_metrics():
    out = run("export", "parquet", "--help", env={"COLUMNS": "120"}).stdout
    assert "**" in out or "*/*.parquet" in out, out
    assert "//" not in out.replace("://", ""), out
    out = run("eval", "--help", env={"COLUMNS": "120"}).stdout
    for metric in ("groundedness", "answer_relevancy", "exact_match", "rouge_l"):
        assert metric in out, (metric, out)


# --------------------------------------------------------------------------- 5. an empty answer says why


EMPTY_WINDOWS = (
    ["report", "latency", "--since", "1h"],
    ["report", "latency", "--by", "model", "--since", "1h"],
    ["report", "latency", "--every", "1h", "--since", "1h"],
    ["report", "latency", "--histogram", "--since", "1h"],
    ["report", "errors", "--since", "1h"],
    ["report", "cost", "--since", "1h"],
    ["report", "cost", "--anomalies", "--since", "1h"],
    ["report", "agents", "--since", "1h"],
    ["report", "loops", "--since", "1h"],
    ["report", "tools", "--since", "1h"],
    ["report", "summary", "--since", "1h"],
    ["trace", "list", "--since", "2d"],
    ["check", "--rules", str(Path(__file__).resolve().parent.parent / "src/llmscope/example_alerts.toml")],
)


def test_an_empty_window_says_why_with_the_stores_range(ro_store):
    for args in EMPTY_WINDOWS:
        res = run("--db", ro_store, *args)
        said = res.stderr + res.stdout
        assert "2025-11-01 00:08" in said and "2025-11-14 23:53" in said, (args, said)
        assert "try --" in said, (args, said)
        assert "│        0 │" not in res.stdout and "┏" not in res.stdout.split("Signals")[0], (args, res.stdout)
    for args in EMPTY_WINDOWS[:-3]:
        res = run("--db", ro_store, *args, "--format", "json")
        if args[1] != "summary":
            assert json.loads(res.stdout) == [], (args, res.stdout)


# --------------------------------------------------------------------------- 15. the summary leads with what is wrong


def test_the_summary_leads_with_the_problems_each_with_a_command(sample_store):
    db = str(sample_store)
    problems = json.loads(run("--db", db, "report", "summary", "--table", "problems", "--format", "json").stdout)
    named = {(p["problem"], p["where"]) for p in problems}
    assert ("provider errors", "provider anthropic") in named  # the planted 429s and timeouts, 2025-11-12 09:00
    assert ("slow llm calls", "service_name code-assist") in named
    assert any(p["problem"] == "cost per call" for p in problems)  # the prompt-version change
    assert any(p["problem"] == "agent loops" and "bb49e0e7e4ac" in p["value"] for p in problems)
    assert any(p["problem"] == "weekly drift" and "support-bot" in p["where"] for p in problems)
    assert problems[0]["severity"] == "critical" and problems[-1]["problem"] == "safety not checked"
    errors = next(p for p in problems if p["problem"] == "provider errors")
    assert "2025-11-12 09:00" in errors["value"] and "--since 2025-11-12T09:00" in errors["command"]
    # every command runs and shows data
    for p in problems:
        args = p["command"].split()[1:]
        out = run("--db", db, *args).stdout
        assert out.strip(), p["command"]
    # after a scan, injection and the PII leak are problems; "not checked" is gone
    run("--db", db, "scan")
    problems = json.loads(run("--db", db, "report", "summary", "--table", "problems", "--format", "json").stdout)
    kinds = {p["problem"] for p in problems}
    assert {"prompt injection", "pii leaks"} <= kinds and "safety not checked" not in kinds
    # JSON: an array of signal rows, in words with a unit, the previous period and the change
    signals = json.loads(run("--db", db, "report", "summary", "--format", "json").stdout)
    assert isinstance(signals, list) and all(isinstance(r, dict) for r in signals)
    calls = next(r for r in signals if r["key"] == "llm_calls")
    assert calls["signal"] == "LLM calls" and calls["unit"] == "calls"
    assert calls["value"] > 0 and calls["previous"] > 0 and calls["change"] is not None and len(calls["trend"]) == 7
    assert not any("_" in r["signal"] for r in signals)  # words, not snake_case
    findings = next(r for r in signals if r["key"] == "findings")
    assert findings["value"] > 0


def test_the_summary_at_80_columns_keeps_what_matters(sample_store):
    from rich.cells import cell_len

    env = dict(os.environ, COLUMNS="80", NO_COLOR="1", FORCE_COLOR="1")
    proc = subprocess.run(
        [sys.executable, "-m", "llmscope", "--db", str(sample_store), "report", "summary"],
        env=env, capture_output=True, text=True,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    plain = re.sub(r"\x1b\[[0-9;]*m", "", proc.stdout)
    lines = plain.splitlines()
    assert lines[0].startswith("llmscope summary: 2025-11-08 … 2025-11-15")
    assert plain.index("Problems") < plain.index("Signals")
    for line in lines:
        assert cell_len(line) <= 80, line
    assert "→ llmscope report errors --by provider" in plain
    header = next(line for line in lines if "signal" in line and "value" in line)
    assert all(c in header for c in ("change", "trend", "note")), header
    assert any(ch in plain for ch in "▁▂▃▄▅▆▇█") and ("↑" in plain or "↓" in plain)
