"""Schema migrations, each a named function applied once and recorded in ``_llmscope_migrations``.

Add a migration by appending a decorated function; never edit one that has shipped.
(After Simon Willison's ``llm/migrations.py``.)
"""

from __future__ import annotations

from collections.abc import Callable

import duckdb

from .. import schema

MIGRATIONS: list[tuple[str, Callable[[duckdb.DuckDBPyConnection], None]]] = []


def migration(fn: Callable[[duckdb.DuckDBPyConnection], None]):
    MIGRATIONS.append((fn.__name__, fn))
    return fn


def schema_version(con: duckdb.DuckDBPyConnection) -> int:
    try:
        return con.execute("SELECT count(*) FROM _llmscope_migrations").fetchall()[0][0]
    except duckdb.CatalogException:
        return 0


def pending(con: duckdb.DuckDBPyConnection) -> list[str]:
    try:
        done = {r[0] for r in con.execute("SELECT name FROM _llmscope_migrations").fetchall()}
    except duckdb.CatalogException:
        done = set()
    return [name for name, _ in MIGRATIONS if name not in done]


def migrate(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("CREATE TABLE IF NOT EXISTS _llmscope_migrations (name VARCHAR PRIMARY KEY, applied_at TIMESTAMP)")
    done = {r[0] for r in con.execute("SELECT name FROM _llmscope_migrations").fetchall()}
    for name, fn in MIGRATIONS:
        if name in done:
            continue
        con.execute("BEGIN TRANSACTION")
        try:
            fn(con)
            con.execute("INSERT INTO _llmscope_migrations VALUES (?, now()::TIMESTAMP)", [name])
            con.execute("COMMIT")
        except Exception:
            con.execute("ROLLBACK")
            raise


def add_columns(con: duckdb.DuckDBPyConnection, table: str, names: list[str]) -> None:
    """For migrations after the first: add columns as :mod:`llmscope.schema` defines them."""
    defined = {"spans": schema.SPANS, "logs": schema.LOGS}[table]
    for definition in schema.ddl(defined, names):
        con.execute(f"ALTER TABLE {table} ADD COLUMN {definition}")


# Large text columns use zstd: measured on realistic RAG spans, the store is 4x smaller (41 vs 162 MB
# per 140k spans) and loading 3.7x faster than DuckDB's default FSST/dictionary, and text scans are
# faster too. Short, repetitive strings (models, status) keep the default dictionary encoding.
Z = "USING COMPRESSION zstd"


@migration
def m001_initial(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(f"""
    CREATE TABLE spans (
        trace_id VARCHAR NOT NULL,
        span_id VARCHAR NOT NULL,
        parent_span_id VARCHAR,
        name VARCHAR,
        kind VARCHAR,
        service_name VARCHAR,
        start_time TIMESTAMP,
        end_time TIMESTAMP,
        duration_ms DOUBLE,
        status VARCHAR,
        status_message VARCHAR,
        error_type VARCHAR,
        error_message VARCHAR,
        span_type VARCHAR,
        operation VARCHAR,
        provider VARCHAR,
        request_model VARCHAR,
        response_model VARCHAR,
        input_tokens BIGINT,
        output_tokens BIGINT,
        total_tokens BIGINT,
        cache_read_tokens BIGINT,
        cache_write_tokens BIGINT,
        reasoning_tokens BIGINT,
        cost_usd DOUBLE,
        reported_cost_usd DOUBLE,
        price_version VARCHAR,
        ttft_ms DOUBLE,
        temperature DOUBLE,
        top_p DOUBLE,
        max_tokens BIGINT,
        finish_reason VARCHAR,
        response_id VARCHAR,
        is_stream BOOLEAN,
        user_id VARCHAR,
        session_id VARCHAR,
        feature VARCHAR,
        prompt_version VARCHAR,
        agent_name VARCHAR,
        tool_name VARCHAR,
        http_status_code BIGINT,
        input_text VARCHAR {Z},
        output_text VARCHAR {Z},
        input_messages JSON {Z},
        output_messages JSON {Z},
        tool_definitions JSON {Z},
        attributes JSON {Z},
        resource_attributes JSON {Z},
        events JSON {Z},
        dialect VARCHAR,
        scope_name VARCHAR,
        source VARCHAR,
        source_line BIGINT,
        ingested_at TIMESTAMP
    )""")
    con.execute("""
    CREATE TABLE evals (
        trace_id VARCHAR NOT NULL,
        span_id VARCHAR,
        metric VARCHAR NOT NULL,
        score DOUBLE,
        label VARCHAR,
        passed BOOLEAN,
        judge VARCHAR,
        explanation VARCHAR,
        judge_cost_usd DOUBLE,
        created_at TIMESTAMP,
        run_id VARCHAR
    )""")
    # Message-bearing log records (OTel GenAI events exported as logs), attached to spans by id.
    con.execute(f"""
    CREATE TABLE logs (
        trace_id VARCHAR NOT NULL,
        span_id VARCHAR NOT NULL,
        time_ns BIGINT,
        seq INTEGER,
        event_name VARCHAR,
        direction VARCHAR,
        role VARCHAR,
        content VARCHAR {Z},
        message JSON {Z},
        attributes JSON {Z},
        body JSON {Z},
        source VARCHAR,
        source_line BIGINT,
        ingested_at TIMESTAMP
    )""")
    con.execute("""
    CREATE TABLE user_prices (
        model VARCHAR NOT NULL,
        provider VARCHAR,
        input_mtok DOUBLE NOT NULL,
        output_mtok DOUBLE NOT NULL,
        cache_read_mtok DOUBLE,
        cache_write_mtok DOUBLE,
        added_at TIMESTAMP
    )""")
    con.execute("""
    CREATE TABLE ingest_runs (
        run_id VARCHAR,
        started_at TIMESTAMP,
        finished_at TIMESTAMP,
        sources VARCHAR[],
        spans_read BIGINT,
        spans_added BIGINT,
        duplicates BIGINT,
        bad_records BIGINT,
        log_messages_added BIGINT
    )""")


@migration
def m002_findings(con: duckdb.DuckDBPyConnection) -> None:
    # Safety findings: one row per detection, with a masked excerpt only (never the raw value).
    con.execute(f"""
    CREATE TABLE findings (
        trace_id VARCHAR NOT NULL,
        span_id VARCHAR NOT NULL,
        start_time TIMESTAMP,
        kind VARCHAR NOT NULL,        -- pii_leak | pii_input | injection | indirect_injection | toxicity | policy | guardrail
        subkind VARCHAR,              -- email, credit_card, ... / rule category / policy rule name
        location VARCHAR,             -- input | output | document
        score DOUBLE,
        rule VARCHAR,
        excerpt VARCHAR {Z},
        detector_version VARCHAR,
        detected_at TIMESTAMP,
        run_id VARCHAR
    )""")
    # Which spans a scan has looked at, and with which detector versions, so `scan` only reads new spans.
    con.execute("""
    CREATE TABLE scanned_spans (
        trace_id VARCHAR NOT NULL,
        span_id VARCHAR NOT NULL,
        detector_version VARCHAR,
        scanned_at TIMESTAMP
    )""")


@migration
def m003_eval_runs(con: duckdb.DuckDBPyConnection) -> None:
    # What a judge cost and which prompt produced a score; errors are rows too (never a silent 0).
    for col, typ in (
        ("judge_model", "VARCHAR"),
        ("judge_input_tokens", "BIGINT"),
        ("judge_output_tokens", "BIGINT"),
        ("prompt_version", "VARCHAR"),
        ("error", "VARCHAR"),
        ("repeat_index", "INTEGER"),
        ("source", "VARCHAR"),
    ):
        con.execute(f"ALTER TABLE evals ADD COLUMN {col} {typ}")
    # Judge answers by (judge, model, metric, prompt version, inputs hash): re-running an eval calls no judge.
    con.execute(f"""
    CREATE TABLE eval_cache (
        cache_key VARCHAR NOT NULL,
        judge VARCHAR, judge_model VARCHAR, metric VARCHAR, prompt_version VARCHAR, inputs_hash VARCHAR,
        score DOUBLE, label VARCHAR, passed BOOLEAN, explanation VARCHAR {Z},
        judge_input_tokens BIGINT, judge_output_tokens BIGINT, judge_cost_usd DOUBLE,
        created_at TIMESTAMP
    )""")


@migration
def m004_ingested_files(con: duckdb.DuckDBPyConnection) -> None:
    # How far each JSON-lines file has been read, so that ingesting a file that has grown since
    # (a Collector file exporter still writing) reads only the new lines.
    con.execute("""
    CREATE TABLE ingested_files (
        path VARCHAR PRIMARY KEY,      -- real path of the file
        offset_bytes BIGINT NOT NULL,  -- end of the last complete line read
        lines BIGINT NOT NULL,         -- complete lines before offset_bytes
        head_sha256 VARCHAR NOT NULL,  -- of its first bytes: still the same file?
        seam_sha256 VARCHAR NOT NULL,  -- of the bytes just before offset_bytes: unchanged up to there?
        device BIGINT, inode BIGINT,   -- a rotated (renamed) file is found again under its new name
        updated_at TIMESTAMP
    )""")


@migration
def m005_judge_capabilities(con: duckdb.DuckDBPyConnection) -> None:
    # What a judge server refused (response_format with a JSON schema), per profile, endpoint and model,
    # so later runs do not spend a refused request first.
    con.execute("""
    CREATE TABLE judge_capabilities (
        judge VARCHAR NOT NULL,
        base_url VARCHAR,
        model VARCHAR,
        structured_output BOOLEAN,
        reason VARCHAR,
        noted_at TIMESTAMP
    )""")


@migration
def m006_annotations(con: duckdb.DuckDBPyConnection) -> None:
    # Human labels from `llmscope annotate`: one row per item, metric and annotator (a new label of the same
    # item by the same person replaces the old one). rating: the 1-5 key; label: pass / fail.
    con.execute(f"""
    CREATE TABLE annotations (
        trace_id VARCHAR NOT NULL,
        span_id VARCHAR NOT NULL,
        metric VARCHAR NOT NULL,
        label VARCHAR,
        passed BOOLEAN,
        rating INTEGER,
        note VARCHAR {Z},
        annotator VARCHAR NOT NULL,
        created_at TIMESTAMP
    )""")
