"""ClickHouse as a store: the OpenTelemetry Collector exporter's ``otel_traces`` / ``otel_logs`` read in
place (``--db clickhouse://USER:PASSWORD@HOST:8123/DATABASE`` or ``--db chdb:DIR``).

:mod:`.engine` (addresses, clients, the DuckDB-like connection), :mod:`.sqlgen` (DuckDB SQL ->
ClickHouse SQL), :mod:`.spans` (the canonical ``spans`` relation generated from the dialect table),
:mod:`.tables` (the exporter's DDL, llmscope's own tables and their migrations), :mod:`.export`
(a DuckDB store's spans into an exporter-shaped ``otel_traces``).
"""
