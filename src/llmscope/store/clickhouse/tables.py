"""The tables in a ClickHouse store: the exporter's (read, never changed) and llmscope's own
(``llmscope_evals``, ``llmscope_findings``, …, written).

llmscope's own tables follow the DuckDB store's migrations (:mod:`llmscope.store.migrations`): the
same migration list is applied to an in-memory DuckDB database, and each table's columns there are
created (or added) in ClickHouse with the matching types; applied migrations are recorded in
``llmscope_migrations``. So a column added for DuckDB appears here too, with no second definition.
"""

from __future__ import annotations

import functools
import threading
from dataclasses import dataclass

import pyarrow as pa

from ...normalize import dialects as D
from .spans import SpansSQL, lit

# DuckDB store table -> its table in a ClickHouse database
OWN_TABLES = {
    "evals": "llmscope_evals",
    "findings": "llmscope_findings",
    "scanned_spans": "llmscope_scanned_spans",
    "eval_cache": "llmscope_eval_cache",
    "user_prices": "llmscope_user_prices",
    "annotations": "llmscope_annotations",
    "judge_capabilities": "llmscope_judge_capabilities",
    "ingest_runs": "llmscope_ingest_runs",  # never written here (the Collector ingests); empty
}
MIGRATIONS_TABLE = "llmscope_migrations"

# The exporter's traces table as the OpenTelemetry Collector's ClickHouse exporter creates it
# (exporter/clickhouseexporter, internal/sql_templates/traces_table.sql), without its TTL/cluster
# options. llmscope never runs this against a server's existing table; tests and `export clickhouse`
# create it where it is missing.
TRACES_DDL = """
CREATE TABLE IF NOT EXISTS {table} (
    Timestamp DateTime64(9) CODEC(Delta, ZSTD(1)),
    TraceId String CODEC(ZSTD(1)),
    SpanId String CODEC(ZSTD(1)),
    ParentSpanId String CODEC(ZSTD(1)),
    TraceState String CODEC(ZSTD(1)),
    SpanName LowCardinality(String) CODEC(ZSTD(1)),
    SpanKind LowCardinality(String) CODEC(ZSTD(1)),
    ServiceName LowCardinality(String) CODEC(ZSTD(1)),
    ResourceAttributes Map(LowCardinality(String), String) CODEC(ZSTD(1)),
    ScopeName String CODEC(ZSTD(1)),
    ScopeVersion String CODEC(ZSTD(1)),
    SpanAttributes Map(LowCardinality(String), String) CODEC(ZSTD(1)),
    Duration UInt64 CODEC(ZSTD(1)),
    StatusCode LowCardinality(String) CODEC(ZSTD(1)),
    StatusMessage String CODEC(ZSTD(1)),
    Events Nested (
        Timestamp DateTime64(9),
        Name LowCardinality(String),
        Attributes Map(LowCardinality(String), String)
    ) CODEC(ZSTD(1)),
    Links Nested (
        TraceId String,
        SpanId String,
        TraceState String,
        Attributes Map(LowCardinality(String), String)
    ) CODEC(ZSTD(1)),
    INDEX idx_trace_id TraceId TYPE bloom_filter(0.001) GRANULARITY 1,
    INDEX idx_res_attr_key mapKeys(ResourceAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_res_attr_value mapValues(ResourceAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_span_attr_key mapKeys(SpanAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_span_attr_value mapValues(SpanAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_duration Duration TYPE minmax GRANULARITY 1
) ENGINE = MergeTree
PARTITION BY toDate(Timestamp)
ORDER BY (ServiceName, SpanName, toDateTime(Timestamp))
SETTINGS index_granularity = 8192, ttl_only_drop_parts = 1
"""

# exporter/clickhouseexporter, internal/sql_templates/logs_table.sql (EventName: newer exporters)
LOGS_DDL = """
CREATE TABLE IF NOT EXISTS {table} (
    Timestamp DateTime64(9) CODEC(Delta(8), ZSTD(1)),
    TimestampTime DateTime DEFAULT toDateTime(Timestamp),
    TraceId String CODEC(ZSTD(1)),
    SpanId String CODEC(ZSTD(1)),
    TraceFlags UInt8,
    SeverityText LowCardinality(String) CODEC(ZSTD(1)),
    SeverityNumber UInt8,
    ServiceName LowCardinality(String) CODEC(ZSTD(1)),
    Body String CODEC(ZSTD(1)),
    ResourceSchemaUrl LowCardinality(String) CODEC(ZSTD(1)),
    ResourceAttributes Map(LowCardinality(String), String) CODEC(ZSTD(1)),
    ScopeSchemaUrl LowCardinality(String) CODEC(ZSTD(1)),
    ScopeName String CODEC(ZSTD(1)),
    ScopeVersion LowCardinality(String) CODEC(ZSTD(1)),
    ScopeAttributes Map(LowCardinality(String), String) CODEC(ZSTD(1)),
    LogAttributes Map(LowCardinality(String), String) CODEC(ZSTD(1)),
    EventName String CODEC(ZSTD(1)),
    INDEX idx_trace_id TraceId TYPE bloom_filter(0.001) GRANULARITY 1
) ENGINE = MergeTree
PARTITION BY toDate(TimestampTime)
PRIMARY KEY (ServiceName, TimestampTime)
ORDER BY (ServiceName, TimestampTime, Timestamp)
SETTINGS index_granularity = 8192, ttl_only_drop_parts = 1
"""


def create_exporter_tables(client, traces: str = "otel_traces", logs: str = "otel_logs") -> None:
    client.command(TRACES_DDL.format(table=traces))
    client.command(LOGS_DDL.format(table=logs))


# --------------------------------------------------------------------------- what is there


@dataclass(frozen=True)
class Info:
    has_traces: bool
    has_logs: bool
    has_scope_column: bool
    has_event_name: bool
    tables: frozenset = frozenset()


def _columns(client, table: str) -> set[str] | None:
    db, _, name = table.rpartition(".")
    where = f"database = {lit(db)}" if db else "database = currentDatabase()"
    t = client.query_arrow(f"SELECT name FROM system.columns WHERE {where} AND table = {lit(name)}")
    names = set(t.column(0).to_pylist()) if t.num_rows else set()
    return {n.decode() if isinstance(n, bytes) else n for n in names} or None


def inspect(client, target) -> Info:
    traces = _columns(client, target.table)
    logs = _columns(client, target.logs)
    if traces is not None and not {"SpanAttributes", "ResourceAttributes", "Duration", "Timestamp"} <= traces:
        from ...errors import StoreError

        raise StoreError(
            f"{target.describe()}: {target.table} is not an OpenTelemetry Collector exporter table "
            "(no SpanAttributes/Duration columns); give the traces table with ?table="
        )
    return Info(
        has_traces=traces is not None,
        has_logs=logs is not None and {"Body", "LogAttributes", "TraceId", "SpanId"} <= logs,
        has_scope_column=traces is not None and "ScopeName" in traces,
        has_event_name=logs is not None and "EventName" in logs,
        tables=frozenset(
            n.decode() if isinstance(n, bytes) else n
            for n in client.query_arrow("SELECT name FROM system.tables WHERE database = currentDatabase()")
            .column(0)
            .to_pylist()
        ),
    )


def empty_relation(table: str) -> str:
    """llmscope's own table before anything was written to it: no rows, its columns."""
    cols = own_schema()[1][table]
    return (
        "SELECT "
        + ", ".join(
            f"CAST(NULL AS {t}) AS `{c}`" if not t.startswith("Array") else f"CAST([] AS {t}) AS `{c}`" for c, t in cols
        )
        + " WHERE 0"
    )


# --------------------------------------------------------------------------- logs


LOG_COLUMNS = ("trace_id", "span_id", "time_ns", "seq", "event_name", "direction", "role", "content", "message",
               "attributes", "body", "source", "source_line", "ingested_at")  # fmt: skip


def logs_relation(table: str | None, has_event_name: bool = True) -> str:
    """The DuckDB store's ``logs`` (one row per message) over the exporter's ``otel_logs``: message
    events (``gen_ai.user.message``, ``gen_ai.choice``, …) and the semconv details event, whose
    attributes hold the input and output messages (builder.event_message)."""
    return " UNION ALL ".join(logs_branches(table, has_event_name))


def logs_branches(table: str | None, has_event_name: bool = True) -> list[str]:
    """:func:`logs_relation` as its SELECTs, one per kind of record (a materialized view each)."""
    from .spans import _message_text, _semconv_text, _system_text

    if table is None:
        return (
            "SELECT '' AS trace_id, '' AS span_id, toInt64(0) AS time_ns, toInt64(0) AS seq, '' AS event_name, "
            "'' AS direction, '' AS role, '' AS content, '' AS message, '' AS attributes, '' AS body, '' AS source, "
            "toInt64(0) AS source_line, now64(6) AS ingested_at WHERE 0"
        ).split(" UNION ALL ")
    event = (
        "coalesce(nullIf(EventName, ''), nullIf(LogAttributes['event.name'], ''))"
        if has_event_name
        else "nullIf(LogAttributes['event.name'], '')"
    )
    direction = "CASE ev " + " ".join(f"WHEN {lit(n)} THEN {lit(d)}" for n, (d, _) in D.MESSAGE_EVENTS.items()) + " END"
    role = "CASE ev " + " ".join(f"WHEN {lit(n)} THEN {lit(r)}" for n, (_, r) in D.MESSAGE_EVENTS.items() if r) + " END"
    msg = "if(isValidJSON(Body) AND JSONType(Body, 'message') = 'Object', JSONExtractRaw(Body, 'message'), Body)"
    text = f"if(isValidJSON(Body), nullIf({_message_text(msg)}, ''), nullIf(Body, ''))"
    common = (
        "TraceId AS trace_id, SpanId AS span_id, toUnixTimestamp64Nano(Timestamp) AS time_ns, "
        "toInt64(rowNumberInAllBlocks()) AS seq, ev AS event_name"
    )
    tail = (
        f"toJSONString(LogAttributes) AS attributes, Body AS body, {lit(table)} AS source, "
        "CAST(NULL AS Nullable(Int64)) AS source_line, CAST(NULL AS Nullable(DateTime64(6, 'UTC'))) AS ingested_at"
    )
    src = f"(SELECT *, {event} AS ev FROM {table} WHERE TraceId != '' AND SpanId != '')"
    names = ", ".join(lit(n) for n in D.MESSAGE_EVENTS)
    events = (
        f"SELECT {common}, {direction} AS direction, "
        f"coalesce(nullIf(JSONExtractString({msg}, 'role'), ''), {role}, 'user') AS role, {text} AS content, "
        f"if(isValidJSON(Body), Body, toJSONString(map('content', Body))) AS message, {tail} FROM {src} WHERE ev IN ({names})"
    )
    attr = "nullIf(LogAttributes[{k}], '')"
    sys_key = lit(D.SYSTEM_SOURCES[0])
    details_in = (
        f"SELECT {common}, 'input' AS direction, 'user' AS role, "
        f"nullIf(arrayStringConcat(arrayFilter(x -> x IS NOT NULL AND x != '', ["
        f"if({attr.format(k=sys_key)} IS NULL, NULL, {_system_text(attr.format(k=sys_key))}), "
        f"{_semconv_text(attr.format(k=lit('gen_ai.input.messages')))}]), '\\n'), '') AS content, "
        f"'{{}}' AS message, {tail} FROM {src} WHERE ev = {lit(D.DETAILS_EVENT)}"
    )
    out_msgs = attr.format(k=lit("gen_ai.output.messages"))
    details_out = (
        f"SELECT {common}, 'output' AS direction, 'assistant' AS role, {_semconv_text(out_msgs)} AS content, "
        f"toJSONString(map('finish_reason', JSONExtractString(ifNull({out_msgs}, ''), 1, 'finish_reason'))) AS message, "
        f"{tail} FROM {src} WHERE ev = {lit(D.DETAILS_EVENT)} AND {out_msgs} IS NOT NULL"
    )
    return [events, details_in, details_out]


# --------------------------------------------------------------------------- prices

_rates_cache: dict[tuple, pa.Table] = {}
_rates_lock = threading.Lock()


def rates(client, target, spans: SpansSQL) -> pa.Table:
    """Per-token rates for every (provider, request model, response model, day) with tokens in the
    traces table, from the same price tables as the DuckDB store (cached while the table is unchanged)."""
    from ..pricing import rate_table

    stamp = client.query_arrow(f"SELECT count(), max(Timestamp) FROM {target.table}").to_pylist()[0]
    key = (target.describe(), target.table, tuple(stamp.values()))
    with _rates_lock:
        if key in _rates_cache:
            return _rates_cache[key]
    cols = ["provider", "request_model", "response_model", "start_time", "span_type", "input_tokens", "output_tokens"]
    keys = client.query_arrow(
        f"SELECT DISTINCT provider, request_model, response_model, toDate(start_time) AS day FROM ({spans.sql(cols)}) "
        "WHERE span_type IN ('llm', 'embedding') AND (input_tokens IS NOT NULL OR output_tokens IS NOT NULL)"
        " SETTINGS session_timezone = 'UTC'"
    )
    rows = [tuple(r.values()) for r in keys.to_pylist()]
    table = rate_table([(p, rq, rs, d) for p, rq, rs, d in rows], _user_prices(client))
    with _rates_lock:
        _rates_cache[key] = table
    return table


def _user_prices(client) -> list:
    from ..pricing import UserPrice

    try:
        t = client.query_arrow(
            f"SELECT model, provider, input_mtok, output_mtok, cache_read_mtok, cache_write_mtok FROM {OWN_TABLES['user_prices']}"
        )
    except Exception:  # not created yet: no user prices
        return []
    return [UserPrice(*r.values()) for r in t.to_pylist()]


# --------------------------------------------------------------------------- migrations


_DUCK_TO_CH = {
    "VARCHAR": "String",
    "JSON": "String",
    "BIGINT": "Int64",
    "INTEGER": "Int32",
    "DOUBLE": "Float64",
    "BOOLEAN": "Bool",
    "TIMESTAMP": "DateTime64(6, 'UTC')",
    "DATE": "Date",
    "VARCHAR[]": "Array(String)",
}


@functools.cache
def own_schema() -> tuple[list[str], dict[str, list[tuple[str, str]]]]:
    """(migration names, {ClickHouse table: [(column, ClickHouse type)]}) from the DuckDB migrations."""
    import duckdb

    from .. import migrations

    con = duckdb.connect(":memory:")
    try:
        migrations.migrate(con)
        rows = con.execute(
            "SELECT table_name, column_name, data_type, is_nullable FROM information_schema.columns "
            "ORDER BY table_name, ordinal_position"
        ).fetchall()
    finally:
        con.close()
    out: dict[str, list[tuple[str, str]]] = {}
    for table, col, typ, _nullable in rows:
        if table not in OWN_TABLES:
            continue
        ch = _DUCK_TO_CH.get(typ, "String")
        out.setdefault(OWN_TABLES[table], []).append((col, ch if ch.startswith("Array") else f"Nullable({ch})"))
    return [name for name, _ in migrations.MIGRATIONS], out


def migrate(client, target) -> None:
    """Create llmscope's own tables (or add their new columns) as the DuckDB migrations define them."""
    names, wanted = own_schema()
    client.command(
        f"CREATE TABLE IF NOT EXISTS {MIGRATIONS_TABLE} (name String, applied_at DateTime64(6, 'UTC')) "
        "ENGINE = MergeTree ORDER BY name"
    )
    done = set(client.query_arrow(f"SELECT name FROM {MIGRATIONS_TABLE}").column(0).to_pylist())
    todo = [n for n in names if n not in done]
    if not todo:
        return
    for table, cols in wanted.items():
        have = _columns(client, table)
        if have is None:
            body = ", ".join(f"`{c}` {t}" for c, t in cols)
            client.command(f"CREATE TABLE IF NOT EXISTS {table} ({body}) ENGINE = MergeTree ORDER BY tuple()")
            continue
        for c, t in cols:
            if c not in have:
                client.command(f"ALTER TABLE {table} ADD COLUMN IF NOT EXISTS `{c}` {t}")
    values = ", ".join(f"({lit(n)}, now64(6))" for n in todo)
    client.command(f"INSERT INTO {MIGRATIONS_TABLE} VALUES {values}")
