"""Loop detection speed over agent traces.

    python benchmarks/agents.py --spans 1000000

Builds (in DuckDB, not committed) a store of agent traces — workflow root, agent span, then
alternating LLM and tool steps, 2% of them looping on one tool and 1% cycling A→B — times each
agent analysis, and prints each time next to a full-scan baseline measured in the same run.
Target: loop detection over 1,000,000 spans in under 10 s.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

BUILD_SQL = """
INSERT INTO spans (trace_id, span_id, parent_span_id, name, kind, start_time, end_time, duration_ms, status,
                   span_type, agent_name, tool_name, request_model, input_tokens, output_tokens, cost_usd,
                   finish_reason, input_text, ingested_at)
WITH t AS (SELECT i AS tr, i % 100 AS mode FROM range(?) r(i)),
steps AS (SELECT tr, mode, s FROM t, range(? - 2) r(s))
SELECT printf('%032x', tr), printf('%016x', tr * 64), NULL, 'research.workflow', 'internal',
       TIMESTAMP '2025-11-01' + to_seconds(tr * 10), TIMESTAMP '2025-11-01' + to_seconds(tr * 10 + 60), 60000,
       'unset', 'workflow', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, now()
FROM t
UNION ALL
SELECT printf('%032x', tr), printf('%016x', tr * 64 + 1), printf('%016x', tr * 64), 'planner.agent', 'internal',
       TIMESTAMP '2025-11-01' + to_seconds(tr * 10), TIMESTAMP '2025-11-01' + to_seconds(tr * 10 + 59), 59000,
       'unset', 'agent', 'planner', NULL, NULL, NULL, NULL, NULL, NULL, NULL, now()
FROM t
UNION ALL
SELECT printf('%032x', tr), printf('%016x', tr * 64 + 2 + s), printf('%016x', tr * 64 + 1),
       CASE WHEN s % 2 = 0 THEN 'openai.chat' ELSE 'web_search.tool' END, 'internal',
       TIMESTAMP '2025-11-01' + to_seconds(tr * 10) + to_microseconds(s * 100000),
       TIMESTAMP '2025-11-01' + to_seconds(tr * 10) + to_microseconds(s * 100000 + 90000), 90, 'unset',
       CASE WHEN s % 2 = 0 THEN 'llm' ELSE 'tool' END, NULL,
       CASE WHEN s % 2 = 1 THEN (CASE WHEN mode = 1 AND s % 4 = 3 THEN 'fetch_page' ELSE 'web_search' END) END,
       CASE WHEN s % 2 = 0 THEN 'gpt-4o' END,
       CASE WHEN s % 2 = 0 THEN 500 + s * 50 END, CASE WHEN s % 2 = 0 THEN 30 END,
       CASE WHEN s % 2 = 0 THEN (500 + s * 50) * 2.5e-6 + 30 * 1e-5 END,
       CASE WHEN s % 2 = 0 THEN 'tool_calls' END,
       CASE WHEN s % 2 = 1 THEN
            CASE WHEN mode = 0 THEN '{"query": "same"}'                       -- 1% loop on one call
                 WHEN mode = 1 THEN '{"query": "cycle"}'                      -- 1% cycle A -> B
                 WHEN mode = 2 AND s < 8 THEN '{"query": "same"}'             -- 1% short repeat
                 ELSE '{"query": "' || tr || '-' || s || '"}' END END,
       now()
FROM steps
"""


def main() -> None:
    from llmscope import store
    from llmscope.analyses import agents as A

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--spans", type=int, default=1_000_000)
    ap.add_argument("--steps", type=int, default=20, help="spans per trace (root + agent + steps)")
    ap.add_argument("--workdir", default=None)
    args = ap.parse_args()
    work = Path(args.workdir or tempfile.mkdtemp(prefix="llmscope-agents-"))
    work.mkdir(parents=True, exist_ok=True)
    db = work / f"agents-{args.spans}.duckdb"
    if not db.exists():
        t = time.perf_counter()
        con = store.connect(db)
        con.execute(BUILD_SQL, [args.spans // args.steps, args.steps])
        con.close()
        print(f"built {args.spans:,} spans in {time.perf_counter() - t:.1f}s ({os.path.getsize(db) / 1e6:,.0f} MB)")
    con = store.connect(db, read_only=True)
    n = con.execute("SELECT count(*) FROM spans").fetchall()[0][0]
    t = time.perf_counter()
    con.execute("SELECT count(*), sum(duration_ms), count(DISTINCT trace_id) FROM spans").fetchall()
    base = time.perf_counter() - t
    print(f"spans: {n:,}; baseline full scan with count(DISTINCT trace_id): {base:.3f}s; cores {os.cpu_count()}")
    for name, fn in (
        ("loops", lambda: A.loops(con)),
        ("runaways", lambda: A.runaways(con)),
        ("completion", lambda: A.completion(con)),
        ("tools", lambda: A.tools(con)),
        ("agents", lambda: A.agents(con)),
    ):
        t = time.perf_counter()
        rows = fn().num_rows
        dt = time.perf_counter() - t
        print(
            f"{name:11s} {dt:7.2f}s  {dt / base:6.1f}x baseline  {rows:,} rows  {'OK' if dt < 10 else 'SLOW'} (target < 10 s)"
        )
    con.close()


if __name__ == "__main__":
    main()
