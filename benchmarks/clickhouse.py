"""Reports on ClickHouse (chdb) beside the same reports on the DuckDB store, same data, same run.

    python benchmarks/clickhouse.py --spans 10000000 --workdir /tmp/llmscope-ch

1. builds the DuckDB store with benchmarks/reports.py's generator (N spans: ~5-span agent traces,
   8 models, 30 days, errors, users, sessions, features, prompt versions, short prompts), unless
   --workdir already holds one of N spans;
2. writes the same spans into an exporter-shaped ``otel_traces`` in chdb, as the Collector's
   ClickHouse exporter would hold them: the semantic-convention attributes (``gen_ai.request.model``,
   ``gen_ai.usage.input_tokens``, ``user.id``, …) as strings in ``SpanAttributes``, ``Duration`` in ns,
   ``StatusCode`` by name. llmscope then reads them through the generated ``spans`` relation (map
   lookups and the dialect table's rules per query), never through its own normalized rows;
3. opens the chdb store twice: ``?spans=view`` (every query computes the spans relation from the
   exporter's rows: map lookups and coalesce chains per span, per query) and the default, llmscope's
   normalized ``llmscope_spans`` (filled once by materialized views on ``otel_traces``; the first
   open copies what is there, timed here);
4. times each report cold on DuckDB and both chdb paths, in the same process, and a full-column scan
   on each (``SELECT count(*), sum(duration_ms) FROM spans``) as the same-run baseline; prints
   seconds, the multiple of that path's scan, and the process's peak memory.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import reports as duck_bench  # noqa: E402  (the DuckDB generator and store builder)

TARGET_S = 2.0
REPORTS = [
    ("summary", {}),
    ("latency", {"by": "model"}),
    ("errors", {"by": "provider,error_type"}),
    ("cost", {"by": "feature"}),
    ("drift", {}),
    ("safety", {}),
    ("quality", {}),
    ("stats", {}),
    ("agents", {}),
    ("loops", {}),
    ("tools", {}),
]

# canonical column -> the exporter-side attribute it is read back from (the first source in the dialect table)
ATTRS = {
    "operation": "gen_ai.operation.name",
    "provider": "gen_ai.provider.name",
    "request_model": "gen_ai.request.model",
    "response_model": "gen_ai.response.model",
    "input_tokens": "gen_ai.usage.input_tokens",
    "output_tokens": "gen_ai.usage.output_tokens",
    "cache_read_tokens": "gen_ai.usage.cache_read.input_tokens",
    "ttft_ms": None,  # seconds in gen_ai.response.time_to_first_chunk
    "finish_reason": "gen_ai.response.finish_reasons",
    "user_id": "user.id",
    "session_id": "session.id",
    "feature": "app.feature",
    "prompt_version": "prompt.version",
    "agent_name": "gen_ai.agent.name",
    "tool_name": "gen_ai.tool.name",
    "http_status_code": "http.response.status_code",
    "error_type": "error.type",
}
_OPS = "CASE span_type WHEN 'llm' THEN 'chat' WHEN 'embedding' THEN 'embeddings' WHEN 'tool' THEN 'execute_tool' WHEN 'agent' THEN 'invoke_agent' WHEN 'retriever' THEN 'retrieval' WHEN 'workflow' THEN 'invoke_workflow' END"


def exporter_rows_sql() -> str:
    """DuckDB SQL: the store's spans as the exporter's rows (Parquet-friendly types)."""
    keys, vals = [], []
    for col, key in ATTRS.items():
        if col == "ttft_ms":
            keys.append("'gen_ai.response.time_to_first_chunk'")
            vals.append("CAST(ttft_ms / 1000.0 AS VARCHAR)")
        elif col == "operation":
            keys.append(f"'{key}'")
            vals.append(f"coalesce(operation, {_OPS})")
        elif col == "finish_reason":
            keys.append(f"'{key}'")
            vals.append("CASE WHEN finish_reason IS NOT NULL THEN '[\"' || finish_reason || '\"]' END")
        elif col == "error_type":
            keys.append(f"'{key}'")
            vals.append("CASE WHEN status = 'error' THEN error_type END")
        else:
            keys.append(f"'{key}'")
            vals.append(f"CAST({col} AS VARCHAR)")
    keys.append("'gen_ai.prompt'")
    vals.append("input_text")
    keys.append("'gen_ai.completion'")
    vals.append("output_text")
    pairs = ", ".join(f"struct_pack(k := {k}, v := {v})" for k, v in zip(keys, vals))
    return f"""
    SELECT epoch_ns(start_time) AS Timestamp, trace_id AS TraceId, span_id AS SpanId,
        coalesce(parent_span_id, '') AS ParentSpanId, name AS SpanName, 'SPAN_KIND_' || upper(kind) AS SpanKind,
        service_name AS ServiceName,
        map_from_entries([struct_pack(k := 'service.name', v := service_name)]) AS ResourceAttributes,
        map_from_entries(list_filter([{pairs}], lambda e: e.v IS NOT NULL)) AS SpanAttributes,
        CAST(round(duration_ms * 1e6) AS UBIGINT) AS Duration,
        CASE status WHEN 'error' THEN 'Error' WHEN 'ok' THEN 'Ok' ELSE 'Unset' END AS StatusCode,
        coalesce(status_message, '') AS StatusMessage
    FROM spans
    """


def build_clickhouse(store: Path, chdir: Path, n: int) -> None:
    import duckdb

    from llmscope.store.clickhouse.engine import _ChdbClient, parse_url
    from llmscope.store.clickhouse.tables import LOGS_DDL, TRACES_DDL

    client = _ChdbClient(parse_url(f"chdb:{chdir}"))
    have = client.query_arrow("SELECT count() FROM system.tables WHERE name = 'otel_traces'").column(0)[0].as_py()
    if have and client.query_arrow("SELECT count() FROM otel_traces").column(0)[0].as_py() == n:
        return
    client.command("DROP TABLE IF EXISTS otel_traces")
    client.command(TRACES_DDL.format(table="otel_traces"))
    client.command(LOGS_DDL.format(table="otel_logs"))
    parquet = chdir.parent / "otel_traces.parquet"
    con = duckdb.connect(str(store), read_only=True)
    con.execute("SET preserve_insertion_order = false")
    con.execute(f"COPY ({exporter_rows_sql()}) TO '{parquet}' (FORMAT parquet, ROW_GROUP_SIZE 200000)")
    con.close()
    cols = "Timestamp, TraceId, SpanId, ParentSpanId, SpanName, SpanKind, ServiceName, ResourceAttributes, SpanAttributes, Duration, StatusCode, StatusMessage"
    sel = cols.replace("Timestamp,", "fromUnixTimestamp64Nano(Timestamp),", 1)
    client.command(f"INSERT INTO otel_traces ({cols}) SELECT {sel} FROM file('{parquet}', Parquet)")
    parquet.unlink()


def timed(fn) -> tuple[float, object]:
    t = time.perf_counter()
    out = fn()
    return time.perf_counter() - t, out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--spans", type=int, default=10_000_000)
    ap.add_argument("--workdir", type=Path, default=Path("/tmp/llmscope-ch"))
    ap.add_argument("--repeat", type=int, default=1, help="times each report is run (cold each time)")
    args = ap.parse_args()
    import llmscope

    args.workdir.mkdir(parents=True, exist_ok=True)
    store = duck_bench.store_path(args.workdir, args.spans)
    t0 = time.perf_counter()
    _build_duck(store, args.spans)
    t1 = time.perf_counter()
    build_clickhouse(store, args.workdir / "ch", args.spans)
    t2 = time.perf_counter()
    print(f"{args.spans:,} spans; DuckDB store ready in {t1 - t0:.0f} s, otel_traces (chdb) in {t2 - t1:.0f} s")
    duck = llmscope.open(store)
    view = llmscope.open(f"chdb:{args.workdir / 'ch'}?spans=view")
    t3 = time.perf_counter()
    table = llmscope.open(f"chdb:{args.workdir / 'ch'}")
    table.sql("SELECT count(*) AS n FROM spans")  # the first open fills llmscope_spans (once)
    print(f"llmscope_spans filled (or found current) in {time.perf_counter() - t3:.0f} s")
    engines = (("duckdb", duck), ("view", view), ("table", table))
    scan_sql = "SELECT count(*) AS n, sum(duration_ms) AS d FROM spans"
    base = {}
    for name, st in engines:
        st.sql(scan_sql)  # connection and (for chdb) rate table warmed: the scan is the baseline
        base[name] = min(timed(lambda st=st: st.sql(scan_sql))[0] for _ in range(3))
    print("full-column scan: " + ", ".join(f"{n} {base[n]:.3f} s" for n, _ in engines))
    print(
        f"{'report':<8} {'DuckDB s':>8} {'×scan':>6} {'view s':>7} {'×scan':>6} {'table s':>7} {'×scan':>6}  table/DuckDB"
    )
    for kind, options in REPORTS:
        row = {}
        for name, st in engines:
            times = []
            for _ in range(args.repeat):
                try:
                    times.append(timed(lambda st=st, k=kind, o=options: st.report(k, **o))[0])
                except Exception as e:  # a report one engine cannot run is a row of the table, not a crash
                    print(f"  {kind} on {name}: {type(e).__name__}: {str(e)[:160]}")
                    break
            row[name] = min(times) if times else float("nan")
        d, v, c = row["duckdb"], row["view"], row["table"]
        flag = "OK" if c < TARGET_S else "SLOW"
        print(
            f"{kind:<8} {d:>8.2f} {d / base['duckdb']:>6.0f} {v:>7.2f} {v / base['view']:>6.0f} {c:>7.2f} "
            f"{c / base['table']:>6.0f}  {c / d:>6.1f}× {flag}",
            flush=True,
        )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory of this process (DuckDB and chdb both in it): {peak:,.0f} MB")


def _build_duck(store: Path, n: int) -> None:
    """benchmarks/reports.py's builder, in a child process (its memory is not this run's)."""
    import subprocess

    if duck_bench.existing_count(store) == n:
        return
    cmd = [sys.executable, str(HERE / "reports.py"), "--build-only", "--spans", str(n), "--workdir", str(store.parent)]
    subprocess.run(cmd, check=True, env={**os.environ})


if __name__ == "__main__":
    main()
