"""A DuckDB store's spans (and log-borne messages) into an exporter-shaped ``otel_traces`` / ``otel_logs``,
so ``--db clickhouse://…`` (or ``chdb:DIR``) then gives the same reports as the local file.

Rows are written as the Collector's exporter writes them: every attribute value a string (JSON for
lists and objects), ``SpanKind`` and ``StatusCode`` by name, ``Duration`` in ns, events as the Nested
columns. The tables are created (the exporter's DDL) only where they are missing; existing rows are
never changed, and spans already there (same trace and span id) are not written twice.
"""

from __future__ import annotations

import pyarrow as pa

from ...errors import StoreError
from . import tables

# DuckDB SQL over the store: JSON attributes back to the exporter's Map(String, String) (strings as they
# are, every other value as its JSON text), events to the Nested arrays.
_ATTR_MAP = (
    "map_from_entries(coalesce(list_transform(json_keys({col}), lambda k: struct_pack(k := k, v := "
    "CASE WHEN json_type({col} -> ('$.\"' || k || '\"')) = 'VARCHAR' THEN {col} ->> ('$.\"' || k || '\"') "
    "ELSE CAST({col} -> ('$.\"' || k || '\"') AS VARCHAR) END)), []))"
)
SPANS_SQL = f"""
SELECT
    epoch_ns(start_time) AS Timestamp, trace_id AS TraceId, span_id AS SpanId, coalesce(parent_span_id, '') AS ParentSpanId,
    '' AS TraceState, coalesce(name, '') AS SpanName, 'SPAN_KIND_' || upper(coalesce(kind, 'unspecified')) AS SpanKind,
    coalesce(service_name, '') AS ServiceName, {_ATTR_MAP.format(col="resource_attributes")} AS ResourceAttributes,
    coalesce(scope_name, '') AS ScopeName, '' AS ScopeVersion, {_ATTR_MAP.format(col="attributes")} AS SpanAttributes,
    CAST(greatest(round(duration_ms * 1e6), 0) AS UBIGINT) AS Duration,
    CASE status WHEN 'error' THEN 'Error' WHEN 'ok' THEN 'Ok' ELSE 'Unset' END AS StatusCode,
    coalesce(status_message, '') AS StatusMessage,
    coalesce(list_transform(CAST(events AS JSON[]), lambda e: CAST(e ->> '$.time_unix_nano' AS BIGINT)), []) AS "Events.Timestamp",
    coalesce(list_transform(CAST(events AS JSON[]), lambda e: e ->> '$.name'), []) AS "Events.Name",
    coalesce(list_transform(CAST(events AS JSON[]), lambda e: {_ATTR_MAP.format(col="(e -> '$.attributes')")}), []) AS "Events.Attributes"
FROM spans ORDER BY start_time
"""
LOGS_SQL = """
SELECT time_ns AS Timestamp, trace_id AS TraceId, span_id AS SpanId, event_name AS EventName,
       coalesce(CAST(body AS VARCHAR), CAST(message AS VARCHAR), '') AS Body,
       {attrs} AS LogAttributes
FROM logs ORDER BY time_ns, source_line, seq
"""


def export(duck_con, engine) -> dict[str, int]:
    """Write the DuckDB store's spans and logs into the engine's traces/logs tables -> counts written."""
    target = engine.target
    spans = duck_con.sql(SPANS_SQL).to_arrow_table()
    logs = duck_con.sql(LOGS_SQL.format(attrs=_ATTR_MAP.format(col="attributes"))).to_arrow_table()
    client = engine._client()
    try:
        client.command(tables.TRACES_DDL.format(table=target.table))
        client.command(tables.LOGS_DDL.format(table=target.logs))
        have = client.query_arrow(f"SELECT TraceId, SpanId FROM {target.table}")
        if have.num_rows:  # idempotent: a span already there is not written again
            old = {(t, s) for t, s in zip(have.column(0).to_pylist(), have.column(1).to_pylist())}
            keep = [
                (t, s) not in old
                for t, s in zip(spans.column("TraceId").to_pylist(), spans.column("SpanId").to_pylist())
            ]
            spans = spans.filter(pa.array(keep, pa.bool_()))
            logs = logs.slice(0, 0) if not spans.num_rows else logs
        _insert(client, target.table, spans, {"Timestamp": "ns", "Events.Timestamp": "ns[]"})
        _insert(client, target.logs, logs, {"Timestamp": "ns"})
    except StoreError:
        raise
    except Exception as e:
        from .engine import _first_line

        raise StoreError(f"{target.describe()}: {_first_line(e)}") from None
    finally:
        client.close()
    return {"spans": spans.num_rows, "logs": logs.num_rows}


def _insert(client, table: str, data: pa.Table, times: dict[str, str]) -> None:
    if not data.num_rows:
        return
    cols = ", ".join(f"`{c}`" for c in data.column_names)
    sel = ", ".join(
        f"fromUnixTimestamp64Nano(`{c}`)" if times.get(c) == "ns"
        else f"arrayMap(x -> fromUnixTimestamp64Nano(x), `{c}`)" if times.get(c) == "ns[]" else f"`{c}`"
        for c in data.column_names
    )  # fmt: skip
    if hasattr(client, "session"):  # chdb reads the Arrow table in place (its Python() table function)
        rows = data  # noqa: F841  (read by name by chdb)
        client.session.query(f"INSERT INTO {table} ({cols}) SELECT {sel} FROM Python(rows)")
    else:
        client.client.insert_arrow(table, _with_times(data, times))


def _with_times(data: pa.Table, times: dict[str, str]) -> pa.Table:
    """Nanosecond integers as Arrow timestamps, for an insert over HTTP."""
    for c, kind in times.items():
        if c not in data.column_names:
            continue
        i = data.column_names.index(c)
        col = data.column(c)
        typ = pa.timestamp("ns", "UTC")
        data = data.set_column(i, c, col.cast(pa.list_(typ)) if kind == "ns[]" else col.cast(typ))
    return data
