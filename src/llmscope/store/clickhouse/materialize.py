"""llmscope's table of normalized spans in ClickHouse (``llmscope_spans``): the per-row columns of the
``spans`` relation (:meth:`.spans.SpansSQL.row_columns`: map lookups, coalesce chains, the dialect
table's rules) computed once per span instead of once per span per query.

Kept current without touching the exporter's table: a ``MATERIALIZED VIEW`` on ``otel_traces``
(ClickHouse runs its SELECT on every block the exporter inserts) writes new spans into the table, and
the spans that were there before the view existed are copied once (those the view already wrote are
skipped). What needs other rows stays at query time, over the table's columns: the trace-level
context (user, session, feature, prompt version), content from ``otel_logs`` and the cost (prices
change; tokens do not).

The table's comment holds a fingerprint of the generated SELECT (dialect table, configured context
keys): a different one means the rules changed, and the table is rebuilt. Days the
exporter's TTL dropped from ``otel_traces`` are dropped here too (partitions by the same day). Where
llmscope may not create tables (a read-only user), or while another process fills the table,
queries read the generated relation over ``otel_traces`` directly, with the same results.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass

from .spans import SpansSQL, lit

TABLE = "llmscope_spans"
LOGS_TABLE = "llmscope_logs"
_MARK = "llmscope normalized"
STALE_FILL_S = 3600  # a fill older than this was interrupted: start again

# Text columns with few distinct values: LowCardinality (dictionary-encoded, grouped by code).
_LOW_CARDINALITY = {
    "name", "kind", "status", "span_type", "dialect", "scope_name", "provider", "operation", "request_model",
    "response_model", "service_name", "error_type", "finish_reason", "feature", "prompt_version", "agent_name",
    "tool_name", "source", "event_name", "direction", "role",
}  # fmt: skip


@dataclass(frozen=True)
class Normalized:
    """One table llmscope keeps: filled by materialized views on an exporter table, one per SELECT."""

    table: str
    source: str  # the exporter's table
    selects: tuple[str, ...]  # each: day + the table's columns
    columns: tuple[str, ...]
    order_by: str
    key: str  # what identifies a row, to skip those the views already wrote during the first copy
    source_day: str  # the exporter's partition key, when it partitions by day

    def views(self) -> list[str]:
        return [f"{self.table}_mv" if i == 0 else f"{self.table}_mv{i + 1}" for i in range(len(self.selects))]


def spans_target(spans: SpansSQL) -> Normalized:
    """``SELECT day, <per-row span columns> FROM otel_traces``: the view's query and the first copy's."""
    cols = spans.row_columns()
    select = ",\n    ".join(f"{e} AS {c}" for c, e in cols.items())
    public = tuple(c for c in cols if not c.startswith("_"))
    # the exporter partitions by toDate(Timestamp) in the server's time zone: the same days here
    sql = (
        f"SELECT day, {', '.join(public)} FROM (SELECT toDate(Timestamp, serverTimezone()) AS day,\n    {select}\n"
        f"FROM {spans.t.traces})"
    )
    # a configuration with other context keys (llmscope.toml [attributes]) gets a table of its own,
    # so two configurations on one database do not rebuild each other's
    default = SpansSQL(spans.t).context_keys
    table = TABLE
    if spans.context_keys != default:
        table += "_" + hashlib.sha256(repr(sorted(spans.context_keys.items())).encode()).hexdigest()[:8]
    return Normalized(table, spans.t.traces, (sql,), public, "(span_type, start_time)", "(trace_id, span_id)",
                      "toDate(Timestamp)")  # fmt: skip


def logs_target(spans: SpansSQL) -> Normalized | None:
    from .tables import LOG_COLUMNS, logs_branches

    if not spans.t.logs:
        return None
    day = "toDate(fromUnixTimestamp64Nano(time_ns), serverTimezone())"
    selects = tuple(
        f"SELECT {day} AS day, {', '.join(LOG_COLUMNS)} FROM ({b})"
        for b in logs_branches(spans.t.logs, spans.t.has_event_name)
    )
    return Normalized(LOGS_TABLE, spans.t.logs, selects, LOG_COLUMNS, "(trace_id, span_id, time_ns)",
                      "(trace_id, span_id, time_ns, event_name, direction)", "toDate(TimestampTime)")  # fmt: skip


def fingerprint(target: Normalized) -> str:
    return hashlib.sha256("\n".join(target.selects).encode()).hexdigest()[:16]


def _split(table: str) -> tuple[str, str]:
    db, _, name = table.rpartition(".")
    return (lit(db) if db else "currentDatabase()"), lit(name)


def _scalar(client, sql: str):
    t = client.query_arrow(sql)
    if not t.num_rows:
        return None
    v = t.column(0)[0].as_py()
    return v.decode() if isinstance(v, bytes) else v


def _comment(client, table: str) -> str | None:
    db, name = _split(table)
    return _scalar(client, f"SELECT comment FROM system.tables WHERE database = {db} AND name = {name}")


def _create(client, target: Normalized, fp: str) -> None:
    desc = client.query_arrow(f"DESCRIBE TABLE ({target.selects[0]} LIMIT 0)")
    cols = []
    for name, typ in zip(desc.column("name").to_pylist(), desc.column("type").to_pylist()):
        if name in _LOW_CARDINALITY and typ in ("String", "Nullable(String)"):
            typ = f"LowCardinality({typ})"
        cols.append(f"`{name}` {typ}")
    cols.append("INDEX idx_trace_id trace_id TYPE bloom_filter(0.001) GRANULARITY 1")
    client.command(
        f"CREATE TABLE {target.table} ({', '.join(cols)}) ENGINE = MergeTree PARTITION BY day "
        f"ORDER BY {target.order_by} COMMENT {lit(f'{_MARK} {fp} filling {int(time.time())}')}"
    )


_ready: dict[tuple[str, str, str], float] = {}  # (store, table, fingerprint) -> when found ready
RECHECK_S = 30.0  # a store opened again within this is not checked again


def _ensure_one(client, target: Normalized, store: str) -> str | None:
    fp = fingerprint(target)
    key = (store, target.table, fp)
    if time.monotonic() - _ready.get(key, -1e9) < RECHECK_S:
        return target.table
    comment = _comment(client, target.table) or ""
    if comment == f"{_MARK} {fp} ready":
        _sync_days(client, target)
        _ready[key] = time.monotonic()
        return target.table
    parts = comment.split()
    if comment.startswith(f"{_MARK} {fp} filling") and time.time() - float(parts[-1]) < STALE_FILL_S:
        return None  # another process is filling it
    # missing, built by other rules, or an interrupted fill: build it again
    for view in target.views():
        client.command(f"DROP VIEW IF EXISTS {view}")
    client.command(f"DROP TABLE IF EXISTS {target.table}")
    _create(client, target, fp)
    for view, select in zip(target.views(), target.selects):
        client.command(f"CREATE MATERIALIZED VIEW IF NOT EXISTS {view} TO {target.table} AS {select}")
    # the rows already there; those the views wrote since they were created are skipped
    cols = ", ".join(("day", *target.columns))
    for select in target.selects:
        client.command(
            f"INSERT INTO {target.table} ({cols}) SELECT {cols} FROM ({select}) "
            f"WHERE {target.key} NOT IN (SELECT {target.key.strip('()')} FROM {target.table})"
        )
    client.command(f"ALTER TABLE {target.table} MODIFY COMMENT {lit(f'{_MARK} {fp} ready')}")
    _ready[key] = time.monotonic()
    return target.table


def ensure(client, spans: SpansSQL, store: str = "") -> tuple[str | None, str | None]:
    """(normalized spans table, normalized logs table): each its name when current, else None (read
    the generated relation over the exporter's table)."""
    out: list[str | None] = []
    for target in (spans_target(spans), logs_target(spans)):
        try:
            out.append(_ensure_one(client, target, store) if target is not None else None)
        except Exception:  # no right to create tables or views here: the generated relation answers the same
            out.append(None)
    return out[0], out[1]


def _sync_days(client, target: Normalized) -> None:
    """Drop the days the exporter's table no longer has (its TTL drops whole days)."""

    def days(table: str) -> set[str]:
        db, name = _split(table)
        t = client.query_arrow(
            f"SELECT DISTINCT partition_id FROM system.parts WHERE database = {db} AND table = {name} AND active"
        )
        return {v.decode() if isinstance(v, bytes) else v for v in t.column(0).to_pylist()}

    db, name = _split(target.source)
    key = _scalar(client, f"SELECT partition_key FROM system.tables WHERE database = {db} AND name = {name}") or ""
    if key.replace(" ", "") != target.source_day:
        return  # partitioned otherwise: its partitions are not days
    for day in sorted(days(target.table) - days(target.source)):
        client.command(f"ALTER TABLE {target.table} DROP PARTITION ID {lit(day)}")
