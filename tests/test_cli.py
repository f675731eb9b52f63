"""The command line on the bundled sample traces: formats, filters, exit codes, no tracebacks."""

from __future__ import annotations

import csv
import importlib.util
import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from helpers import CAPTURED, SAMPLES
from typer.testing import CliRunner

from llmscope.cli.app import app

runner = CliRunner()


def run(*args: str, code: int = 0):
    res = runner.invoke(app, list(args), env={"NO_COLOR": "1", "COLUMNS": "200"})
    assert res.exit_code == code, (args, res.output, res.exception)
    assert "Traceback" not in res.output
    return res


@pytest.fixture(scope="module")
def sample_db(tmp_path_factory):
    db = tmp_path_factory.mktemp("cli") / "sample.duckdb"
    res = run("--db", str(db), "ingest", str(SAMPLES), "--format", "json")
    rep = json.loads(res.stdout)
    assert rep["bad_records"] == 0 and rep["spans_added"] > 10_000
    # every file of the directory that was not ingested is named, with why
    assert rep["notes"] == [
        note.replace("sample_traces/", str(SAMPLES) + "/")
        for note in (
            "sample_traces/README.md: skipped, not a trace file name "
            "(.jsonl, .ndjson, .json, .gz, .pb, .binpb, .proto, .otlp)",
            "sample_traces/manifest.json: skipped, not a trace file (no resourceSpans, resourceLogs or span ids)",
        )
    ]
    return str(db)


def test_stats_json_reports_dialects_unpriced_and_coverage(sample_db):
    # JSON is an array of row objects: the totals (one row), other tables with --table
    [totals] = json.loads(run("--db", sample_db, "stats", "--format", "json").stdout)
    out = {"totals": totals}
    for name in ("dialects", "models", "unmapped_keys"):
        out[name] = json.loads(run("--db", sample_db, "stats", "--format", "json", "--table", name).stdout)
    manifest = json.loads((SAMPLES / "manifest.json").read_text())
    assert out["totals"]["spans"] == manifest["totals"]["spans"]
    assert out["totals"]["traces"] == manifest["totals"]["traces"]
    assert {d["dialect"] for d in out["dialects"]} == {"otel_genai", "openinference", "traceloop", "otel"}
    unpriced = {m["model"]: m["unpriced"] for m in out["models"]}
    assert unpriced["llama-3.1-8b-instruct"] > 0 and unpriced["gpt-4o-mini"] == 0
    assert out["totals"]["unpriced_calls"] == unpriced["llama-3.1-8b-instruct"]
    keys = {u["key"] for u in out["unmapped_keys"]}
    assert "gen_ai.data_source.id" in keys  # present in the data, read by no column: the coverage report says so
    assert not keys & {"gen_ai.request.model", "gen_ai.usage.input_tokens", "llm.token_count.prompt"}


def test_stats_table_renders(sample_db):
    out = run("--db", sample_db, "stats").stdout
    assert "Dialects seen" in out and "Mapping coverage" in out and "llama-3.1-8b-instruct" in out


def test_trace_list_filters_and_formats(sample_db):
    rows = json.loads(
        run(
            "--db", sample_db, "trace", "list", "--where", "status='error'", "--limit", "500", "--format", "json"
        ).stdout
    )
    assert rows and all(r["status"] == "error" for r in rows)
    n_err = (
        duckdb.connect(sample_db, read_only=True)
        .execute("SELECT count(DISTINCT trace_id) FROM spans WHERE status='error'")
        .fetchall()[0][0]
    )
    assert len(rows) == n_err
    assert set(rows[0]) == {
        "trace_id",
        "start_time",
        "duration_ms",
        "root_name",
        "service_name",
        "spans",
        "llm_calls",
        "input_tokens",
        "output_tokens",
        "cost_usd",
        "status",
        "user_id",
    }
    window = json.loads(
        run(
            "--db",
            sample_db,
            "trace",
            "list",
            "--since",
            "2025-11-12T09:00",
            "--until",
            "2025-11-12T10:00",
            "--where",
            "service_name='code-assist'",
            "--limit",
            "1000",
            "--format",
            "json",
        ).stdout
    )
    assert window and all("2025-11-12T09" in r["start_time"] for r in window)
    text = run("--db", sample_db, "trace", "list", "--limit", "3", "--format", "csv").stdout
    assert len(list(csv.DictReader(io.StringIO(text)))) == 3
    md = run("--db", sample_db, "trace", "list", "--limit", "2", "--format", "markdown").stdout
    assert md.splitlines()[0].startswith("| trace_id |")


def test_trace_show_tree_waterfall_and_content(sample_db):
    loop = "bb49e0e7e4ac15ed12e053bacf8c164a"  # the planted agent tool loop
    spans = json.loads(run("--db", sample_db, "trace", "show", loop[:10], "--format", "json").stdout)
    assert spans[0]["depth"] == 0 and spans[0]["parent_span_id"] is None
    assert sum(1 for s in spans if s["tool_name"] == "web_search") >= 10
    assert all(b["offset_ms"] >= a["offset_ms"] or b["depth"] > 0 for a, b in zip(spans, spans[1:]))
    out = run("--db", sample_db, "trace", "show", loop, "--content").stdout
    assert "█" in out and "web_search" in out and "in :" in out
    run("--db", sample_db, "trace", "show", "ffffffffffff", code=2)


def test_sql_is_read_only_and_formats(sample_db):
    out = json.loads(
        run(
            "--db",
            sample_db,
            "sql",
            "select request_model, sum(cost_usd) as cost from spans "
            "where request_model is not null group by 1 order by 2 desc nulls last",
            "--format",
            "json",
        ).stdout
    )
    assert out[0]["cost"] > 0 and isinstance(out[0]["cost"], float)
    res = run("--db", sample_db, "sql", "delete from spans", code=2)
    assert "read-only" in res.output
    run("--db", sample_db, "sql", "select nope from spans", code=2)
    run("--db", sample_db, "trace", "list", "--where", "nonsense ===", code=2)
    run("--db", sample_db, "stats", "--format", "yaml", code=2)


def test_export_parquet_is_hive_partitioned(sample_db, tmp_path):
    run("--db", sample_db, "export", "parquet", str(tmp_path / "lake"))
    days = sorted(p.name for p in (tmp_path / "lake" / "spans").iterdir())
    assert days[0] == "date=2025-11-01" and days[-1] == "date=2025-11-14"
    con = duckdb.connect()
    n, d = con.execute(
        f"SELECT count(*), count(DISTINCT date) FROM read_parquet('{tmp_path}/lake/spans/*/*.parquet', hive_partitioning=true)"
    ).fetchall()[0]
    assert n == duckdb.connect(sample_db, read_only=True).execute("SELECT count(*) FROM spans").fetchall()[0][0]
    assert d == 14


def test_missing_store_and_env_var(tmp_path):
    res = run("--db", str(tmp_path / "none.duckdb"), "stats", code=2)
    assert "llmscope ingest" in res.output
    env = dict(os.environ, LLMSCOPE_DB=str(tmp_path / "env.duckdb"), NO_COLOR="1")
    proc = subprocess.run(
        [sys.executable, "-m", "llmscope", "ingest", str(SAMPLES / "ticket-triage.traces.jsonl")],
        env=env,
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "env.duckdb").exists() and not (tmp_path / "llmscope.duckdb").exists()
    assert "\x1b[" not in proc.stdout + proc.stderr  # NO_COLOR and pipes: no escape codes
    assert "ingested 26 new spans" in proc.stdout


def test_config_file_maps_custom_keys(tmp_path):
    from helpers import export_line, kv, otlp_span, s, write_lines

    cfg = tmp_path / "llmscope.toml"
    cfg.write_text('[attributes]\nfeature = ["app.route"]\nuser_id = "customer.id"\n')
    f = write_lines(
        tmp_path / "a.jsonl",
        [
            export_line(
                [
                    otlp_span(
                        "4bf92f3577b34da6a3ce929d0e0e4736",
                        "00f067aa0ba902b7",
                        attrs=[kv("app.route", s("/refund")), kv("customer.id", s("c-9"))],
                    )
                ]
            )
        ],
    )
    db = str(tmp_path / "c.duckdb")
    run("--db", db, "--config", str(cfg), "ingest", str(f))
    assert duckdb.connect(db, read_only=True).execute("SELECT feature, user_id FROM spans").fetchall() == [
        ("/refund", "c-9")
    ]
    bad = tmp_path / "bad.toml"
    bad.write_text("[attributes]\ncolour = ['x']\n")
    res = run("--db", db, "--config", str(bad), "ingest", str(f), code=2)
    assert "colour" in res.output


def test_help_teaches_by_example():
    out = run("ingest", "--help").stdout
    assert "llmscope ingest sample_traces/" in out and "--strict" in out


def test_version_says_which_c_accelerators_are_in_use(monkeypatch):
    from llmscope import _native as native

    out = run("--version").stdout
    assert out.startswith("llmscope ") and "C accelerators:" in out
    built = [what for module, what in native.ACCELERATORS.items() if native._importable(module)]
    assert all(what in out for what in built)
    monkeypatch.setenv("LLMSCOPE_PURE_PYTHON", "1")
    assert "off (LLMSCOPE_PURE_PYTHON)" in run("--version").stdout


def test_workers_of_the_console_script_do_not_import_the_cli(tmp_path):
    """Spawned pool workers import what their tasks need, not the CLI the `llmscope` script runs (that cost
    every worker of every ingest, scan and eval its own copy of typer, rich and every command module)."""
    script = Path(sys.executable).with_name("llmscope")
    line = (CAPTURED / "openlit-1.45.0" / "traces.otlp.jsonl").read_bytes().strip() + b"\n"
    data = line * ((9 << 20) // len(line))  # a few chunks of standard input: they go to the pool's workers
    env = dict(os.environ, PYTHONPROFILEIMPORTTIME="1")  # each process lists its imports on its stderr
    proc = subprocess.run(
        [str(script), "--db", str(tmp_path / "s.duckdb"), "ingest", "-", "--workers", "2", "--format", "json"],
        input=data, env=env, capture_output=True, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert json.loads(proc.stdout)["spans_added"] == 10
    imports = proc.stderr.decode()
    processes = imports.count("| llmscope.pools\n")  # the command and its workers
    assert processes >= 2, imports[-2000:]
    assert imports.count("| llmscope.cli.app\n") == 1  # the command's own process only
    # nor pandas, which pyarrow imports on its first conversion of a list when it is installed
    assert importlib.util.find_spec("pandas") is not None  # installed here (chdb needs it): the check means something
    loaded = [ln for ln in imports.splitlines() if re.search(r"\|\s+pandas\.", ln)]  # its submodules
    assert not loaded, loaded[:5]  # a refused attempt logs a bare `pandas` line of a few µs, nothing under it


def test_pandas_hidden_from_pyarrow_stays_importable_for_everything_else():
    code = (
        "import sys; from llmscope.result import arrow_without_pandas; arrow_without_pandas();"
        "import pyarrow as pa; pa.table({'a': [1, 2]}); assert 'pandas' not in sys.modules;"
        "import pandas; print(len(pandas.DataFrame({'a': [1, 2]})))"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0 and proc.stdout.strip() == "2", proc.stderr
