"""Report speed on a large store, measured in one run.

    python benchmarks/reports.py --spans 10000000 --workdir /tmp/llmscope-reports

1. builds a store of N spans (or reuses one in --workdir that already holds N spans). The rows are
   generated inside DuckDB with one ``INSERT INTO spans SELECT ... FROM range(N)``, in a child
   process so its memory does not count against the reports: ~5-span traces (agent/other root,
   embedding/retriever, llm, tool/retriever, llm), 8 models over 4 providers (one self-hosted and
   unpriced), a daily traffic cycle over 30 days, log-normal latencies and token counts, ~1% errors
   of four classes, users, sessions, features, prompt versions and short prompts. Time is monotone
   in the row order (as a chronological ingest leaves it). Two planted signals give the reports
   something to find: gpt-4o-mini gains share over the month, and one service's input tokens
   triple on one day;
2. opens the store read-only for each report and calls the library function twice: the first call
   (cold: a fresh connection, nothing in DuckDB's buffer pool) and the second (warm);
3. prints seconds, rows returned, OK/SLOW against the 2 s target, and each report's time as a
   multiple of a full-column scan (``SELECT count(*), sum(duration_ms) FROM spans``) timed in the
   same run. Machines here are noisy: compare the multiples, not seconds.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import traceback
from datetime import datetime, timedelta
from pathlib import Path

TARGET_S = 2.0
DAYS = 30
T_END = datetime(2025, 11, 30)  # the data covers [T_END - 30 days, T_END)
T0 = T_END - timedelta(days=DAYS)
INGESTED_AT = T_END + timedelta(hours=1)

# idx 1..7 chat models, 8 the embedding model. Rates are USD per million tokens; NULL = self-hosted.
MODELS = [
    # provider, request_model, response_model, in_rate, out_rate, ttft_ms median, ms per output token
    ("openai", "gpt-4o", "gpt-4o-2024-08-06", 2.5, 10.0, 450, 12),
    ("openai", "gpt-4o-mini", "gpt-4o-mini-2024-07-18", 0.15, 0.6, 300, 8),
    ("anthropic", "claude-3-5-sonnet-20241022", "claude-3-5-sonnet-20241022", 3.0, 15.0, 600, 15),
    ("anthropic", "claude-3-5-haiku-20241022", "claude-3-5-haiku-20241022", 0.8, 4.0, 350, 9),
    ("google", "gemini-1.5-pro", "gemini-1.5-pro-002", 1.25, 5.0, 500, 13),
    ("google", "gemini-1.5-flash", "gemini-1.5-flash-002", 0.075, 0.3, 250, 6),
    ("vllm", "llama-3.1-70b-instruct", "meta-llama/Llama-3.1-70B-Instruct", None, None, 700, 20),
    ("openai", "text-embedding-3-small", "text-embedding-3-small", 0.02, 0.0, 60, 0),
]
CHAT_CUMULATIVE = [0.22, 0.42, 0.57, 0.70, 0.80, 0.92, 1.0]  # chat model mix (idx 1..7)
SERVICES = ["support-bot", "search-api", "billing-assistant", "docs-qa"]
FEATURES = ["chat", "summarize", "classify", "extract", "translate", "search", "rag_answer", "agent_task"]
AGENTS = ["support_agent", "research_agent", "billing_agent", "triage_agent"]
TOOLS = ["search_kb", "get_order", "create_ticket", "lookup_user", "send_email", "calculator"]
VERBS = [
    "Summarize",
    "Explain in simple terms",
    "Draft a polite reply about",
    "Classify the intent of a message about",
    "Extract the order id and amount from a note about",
    "Translate to French a question about",
    "Answer the customer question about",
    "List the next steps for",
]
TOPICS = [
    "a duplicate charge on the last invoice",
    "a parcel that has not arrived after ten days",
    "resetting two-factor authentication on a new phone",
    "upgrading the team plan to more seats",
    "changing the billing address on an issued invoice",
    "exporting the workspace audit report",
    "a refund for a cancelled subscription",
    "login failures after a password change",
    "the warehouse shipping delay in December",
    "permissions of an admin in a shared workspace",
    "the difference between monthly and yearly billing",
    "a carrier tracking number that shows no updates",
]
# Suffix pairs per prompt version (v1..v4): the vocabulary moves as the prompt is revised.
SUFFIXES = [
    ". Keep it short.",
    ". Use a friendly tone.",
    ". Cite the help centre article.",
    ". Answer in under 100 words.",
    ". Cite the knowledge base document id in brackets.",
    ". Offer to open a ticket if unsure.",
    ". Escalate chargebacks to a human agent and never reveal internal notes.",
    ". Check the customer's plan entitlements before answering.",
]
ERRORS = {  # error_type: (share of errors, http status, messages)
    "rate_limit": (
        0.40,
        429,
        [
            "Error code: 429 - Rate limit reached for requests per min (RPM)",
            "Error code: 429 - Rate limit exceeded: too many tokens per minute",
        ],
    ),
    "timeout": (0.20, 504, ["Request timed out after 60s", "Read timeout while streaming the response"]),
    "server_error": (
        0.25,
        500,
        [
            "Error code: 500 - The server had an error while processing your request",
            "Error code: 503 - The engine is currently overloaded, please try again later",
        ],
    ),
    "client_error": (
        0.15,
        400,
        [
            "Error code: 400 - This model's maximum context length is 128000 tokens",
            "Error code: 400 - Invalid schema for function 'create_ticket'",
        ],
    ),
}
ANOMALY_DAY, ANOMALY_SERVICE = 22, SERVICES.index("docs-qa") + 1  # its input tokens triple on day 22 (1-based)


def _lit(v) -> str:
    if v is None:
        return "NULL"
    if isinstance(v, str):
        return "'" + v.replace("'", "''") + "'"
    return repr(v)


def _list(values) -> str:
    return "[" + ", ".join(_lit(v) for v in values) + "]"


def _col(k: int) -> str:
    """The k-th field of MODELS as a SQL list indexed by model_idx."""
    vals = [m[k] for m in MODELS]
    if any(isinstance(v, float) for v in vals):
        return "[" + ", ".join("NULL" if v is None else f"{float(v)}::DOUBLE" for v in vals) + "]"
    return _list(vals)


def build_sql(n: int) -> str:
    traces = (n + 4) // 5
    err_types = list(ERRORS)
    cum, acc = [], 0.0
    for e in err_types:
        acc += ERRORS[e][0]
        cum.append(acc)
    err_case = (
        "CASE "
        + " ".join(f"WHEN u(i, 21) < {c} THEN '{e}'" for e, c in zip(err_types[:-1], cum))
        + f" ELSE '{err_types[-1]}' END"
    )
    err_msgs = _list([m for e in err_types for m in ERRORS[e][2]])
    err_http = "CASE error_type " + " ".join(f"WHEN '{e}' THEN {ERRORS[e][1]}" for e in err_types) + " END"
    chat_case = (
        "CASE "
        + " ".join(f"WHEN u(i, 10) < {c} THEN {k + 1}" for k, c in enumerate(CHAT_CUMULATIVE[:-1]))
        + " ELSE 7 END"
    )
    return f"""
INSERT INTO spans (trace_id, span_id, parent_span_id, name, kind, service_name, start_time, end_time, duration_ms,
    status, status_message, error_type, error_message, span_type, operation, provider, request_model, response_model,
    input_tokens, output_tokens, total_tokens, cache_read_tokens, cache_write_tokens, reasoning_tokens, cost_usd,
    reported_cost_usd, price_version, ttft_ms, temperature, top_p, max_tokens, finish_reason, response_id, is_stream,
    user_id, session_id, feature, prompt_version, agent_name, tool_name, http_status_code, input_text, output_text,
    input_messages, output_messages, attributes, resource_attributes, events, dialect, scope_name, source,
    source_line, ingested_at)
WITH a AS (
    SELECT i, i // 5 AS t, (i % 5)::INTEGER AS p, (i // 5) / {traces}.0 AS ft FROM range({n}) r(i)
),
b AS (   -- trace-level choices, then the span's type
    SELECT *,
        floor(ft * {DAYS})::INTEGER AS day,
        ft * {DAYS} - floor(ft * {DAYS}) AS g,
        (hk(t, 2) % 4)::INTEGER + 1 AS svc,
        (hk(t, 3) % 8)::INTEGER + 1 AS feat,
        t // 10 AS sess,
        least(4, greatest(1, floor(ft * 4 + (u(t, 5) - 0.5) * 0.6)::INTEGER + 1)) AS pv,
        CASE p WHEN 0 THEN CASE WHEN u(t, 6) < 0.6 THEN 'agent' ELSE 'other' END
               WHEN 1 THEN CASE WHEN u(t, 7) < 0.5 THEN 'embedding' ELSE 'retriever' END
               WHEN 3 THEN CASE WHEN u(t, 8) < 0.6 THEN 'tool' ELSE 'retriever' END
               ELSE 'llm' END AS span_type
    FROM a
),
c AS (   -- model, status, random draws
    SELECT *,
        CASE span_type WHEN 'llm' THEN CASE WHEN u(i, 11) < 0.2 * ft THEN 2 ELSE {chat_case} END
                       WHEN 'embedding' THEN 8 END AS m,
        CASE WHEN u(i, 20) < 0.01 THEN 'error' ELSE 'ok' END AS status,
        -- a day with a daily cycle peaking at noon UTC: h(g) = g + 0.8 sin(2 pi g) / (2 pi) is monotone
        TIMESTAMP '{T0:%Y-%m-%d %H:%M:%S}' + to_microseconds(((day + g + 0.8 * sin(2 * pi() * g) / (2 * pi())) * 86400e6)::BIGINT)
            AS trace_start,
        'user_' || (floor(50000 * pow(u(sess, 4), 2)))::BIGINT AS user_id
    FROM b
),
d AS (
    SELECT *,
        CASE WHEN status = 'error' THEN {err_case} END AS error_type,
        CASE WHEN span_type = 'llm' AND status = 'ok'
             THEN greatest(1, round(exp(ln(180) + 0.8 * nrm(i, 30))))::BIGINT END AS out_tok,
        CASE WHEN span_type = 'llm'
                  THEN round(exp(ln(900 + 300 * feat) + 0.7 * nrm(i, 32))
                             * CASE WHEN day = {ANOMALY_DAY} AND svc = {ANOMALY_SERVICE} THEN 3 ELSE 1 END)::BIGINT
             WHEN span_type = 'embedding' THEN round(exp(ln(60) + 0.5 * nrm(i, 32)))::BIGINT END AS in_tok,
        CASE WHEN span_type = 'llm' THEN u(i, 40) < 0.5 END AS is_stream,
        CASE WHEN m IS NOT NULL THEN {_col(5)}[m] * exp(0.4 * nrm(i, 34)) END AS ttft
    FROM c
),
e AS (
    SELECT *,
        CASE WHEN status = 'error' THEN
                 CASE error_type WHEN 'timeout' THEN 30000 + 30000 * u(i, 50)
                                 WHEN 'rate_limit' THEN 40 + 200 * u(i, 50)
                                 ELSE 150 + 2000 * u(i, 50) END
             WHEN span_type = 'llm' THEN ttft + out_tok * {_col(6)}[m] * exp(0.25 * nrm(i, 36))
             WHEN span_type = 'embedding' THEN 80 * exp(0.5 * nrm(i, 36))
             WHEN span_type = 'retriever' THEN 150 * exp(0.6 * nrm(i, 36))
             WHEN span_type = 'tool' THEN 300 * exp(1.0 * nrm(i, 36))
             ELSE 3000 * exp(0.7 * nrm(i, 36)) END AS dur,
        CASE WHEN span_type = 'llm' AND status = 'ok' AND u(i, 41) < 0.3 THEN (in_tok * 0.5)::BIGINT
             WHEN span_type = 'llm' THEN 0 END AS cache_tok,
        CASE WHEN status = 'ok' THEN in_tok END AS in_ok,
        CASE WHEN span_type = 'tool' THEN {_list(TOOLS)}[(hk(i, 60) % {len(TOOLS)})::INTEGER + 1] END AS tool,
        ((p * 350 + 40 * p * u(i, 70)) * 1000)::BIGINT AS off_us,  -- children start after the root, in order
        CASE WHEN status = 'error'
             THEN {err_msgs}[list_position({_list(err_types)}, error_type) * 2 - 1 + (hk(i, 22) % 2)::INTEGER] END AS err_msg
    FROM d
)
SELECT
    lower(lpad(to_hex(hk(t, 1)), 16, '0')) || lower(lpad(to_hex(((t + 1)::UHUGEINT * 11400714819323198485::UHUGEINT % 18446744073709551616::UHUGEINT)::UBIGINT), 16, '0')),
    lower(lpad(to_hex(((i + 1)::UHUGEINT * 11400714819323198485::UHUGEINT % 18446744073709551616::UHUGEINT)::UBIGINT), 16, '0')),
    CASE WHEN p > 0 THEN lower(lpad(to_hex(((t * 5 + 1)::UHUGEINT * 11400714819323198485::UHUGEINT % 18446744073709551616::UHUGEINT)::UBIGINT), 16, '0')) END,
    CASE span_type WHEN 'llm' THEN 'chat ' || {_col(1)}[m]
                   WHEN 'embedding' THEN 'embeddings text-embedding-3-small'
                   WHEN 'retriever' THEN 'retrieval support-kb'
                   WHEN 'tool' THEN 'execute_tool ' || tool
                   WHEN 'agent' THEN 'invoke_agent ' || {_list(AGENTS)}[(feat % 4) + 1]
                   ELSE 'POST /v1/' || {_list(FEATURES)}[feat] END,
    CASE WHEN span_type IN ('llm', 'embedding') THEN 'CLIENT' WHEN span_type = 'other' THEN 'SERVER' ELSE 'INTERNAL' END,
    {_list(SERVICES)}[svc],
    trace_start + to_microseconds(off_us),
    trace_start + to_microseconds(off_us + (dur * 1000)::BIGINT),
    round(dur, 3),
    status,
    err_msg,
    error_type,
    err_msg,
    span_type,
    CASE span_type WHEN 'llm' THEN 'chat' WHEN 'embedding' THEN 'embeddings' WHEN 'retriever' THEN 'retrieval'
                   WHEN 'tool' THEN 'execute_tool' WHEN 'agent' THEN 'invoke_agent' END,
    {_col(0)}[m], {_col(1)}[m], CASE WHEN status = 'ok' THEN {_col(2)}[m] END,
    in_ok, out_tok,
    CASE WHEN in_ok IS NOT NULL THEN in_ok + coalesce(out_tok, 0) END,
    CASE WHEN status = 'ok' THEN cache_tok END, NULL, NULL,
    CASE WHEN in_ok IS NOT NULL THEN ((in_ok - coalesce(cache_tok, 0)) * {_col(3)}[m] + coalesce(cache_tok, 0) * {_col(3)}[m] * 0.1
                                      + coalesce(out_tok, 0) * {_col(4)}[m]) / 1e6 END,
    NULL,
    CASE WHEN in_ok IS NOT NULL AND {_col(3)}[m] IS NOT NULL THEN 'bench-2025-11' END,
    CASE WHEN is_stream AND status = 'ok' THEN round(ttft, 2) END,
    CASE WHEN span_type = 'llm' THEN [0.0, 0.2, 0.7, 1.0][(hk(t, 80) % 4)::INTEGER + 1] END,
    NULL,
    CASE WHEN span_type = 'llm' THEN [1024, 2048, 4096][(hk(t, 81) % 3)::INTEGER + 1] END,
    CASE WHEN span_type = 'llm' AND status = 'ok' THEN
         CASE WHEN u(i, 82) < 0.85 THEN 'stop' WHEN u(i, 82) < 0.95 THEN 'tool_calls' ELSE 'length' END END,
    NULL,
    is_stream,
    user_id,
    'sess_' || lower(lpad(to_hex(hk(sess, 9)), 16, '0')),
    {_list(FEATURES)}[feat],
    'v' || pv,
    CASE WHEN span_type = 'agent' THEN {_list(AGENTS)}[(feat % 4) + 1] END,
    tool,
    CASE WHEN span_type IN ('llm', 'embedding') THEN CASE WHEN status = 'ok' THEN 200 ELSE {err_http} END END,
    CASE WHEN span_type = 'llm' THEN
         {_list(VERBS)}[(hk(i, 90) % {len(VERBS)})::INTEGER + 1] || ' ' ||
         {_list(TOPICS)}[(hk(i, 91) % {len(TOPICS)})::INTEGER + 1] ||
         {_list(SUFFIXES)}[(pv - 1) * 2 + (hk(i, 92) % 2)::INTEGER + 1] ||
         ' (ticket #' || (100000 + i % 900000) || ', ' || {_list(SERVICES)}[svc] || ')' END,
    NULL, NULL, NULL,
    '{{}}', NULL, NULL,
    'genai', 'bench.reports', 'bench://reports', i, TIMESTAMP '{INGESTED_AT:%Y-%m-%d %H:%M:%S}'
FROM e
"""


MACROS = [
    # hash(x, k) of DuckDB combines hash(x) and hash(k) by XOR, so draws with different k would be
    # correlated; hashing x * 1009 + k mixes each (x, k) on its own
    "CREATE OR REPLACE TEMP MACRO hk(x, k) AS hash(x * 1009 + k)",
    # a uniform draw in [0, 1) from (x, k)
    "CREATE OR REPLACE TEMP MACRO u(x, k) AS (hk(x, k) % 4294967291) / 4294967291.0",
    # a standard normal draw (Box-Muller)
    "CREATE OR REPLACE TEMP MACRO nrm(x, k) AS sqrt(-2 * ln(1 - u(x, k))) * cos(2 * pi() * u(x, k + 500))",
]


def store_path(work: Path, n: int) -> Path:
    return work / f"reports-{n}.duckdb"


def existing_count(path: Path) -> int | None:
    """Spans in an existing store at ``path`` (migrated to the current schema), or None."""
    if not path.exists():
        return None
    from llmscope import store

    try:
        con = store.connect(path)
        try:
            return con.execute("SELECT count(*) FROM spans").fetchall()[0][0]
        finally:
            con.close()
    except Exception as e:  # noqa: BLE001 - an unusable store is rebuilt
        print(f"existing store {path} unusable ({str(e).splitlines()[0]}); rebuilding")
        return None


def build(path: Path, n: int) -> None:
    """Runs in a child process: a fresh store with N generated spans."""
    from llmscope import store

    for p in (path, Path(str(path) + ".wal")):
        p.unlink(missing_ok=True)
    con = store.connect(path)
    con.execute("SET memory_limit = '6GB'")
    con.execute("SET preserve_insertion_order = true")
    for m in MACROS:
        con.execute(m)
    t = time.perf_counter()
    con.execute("BEGIN TRANSACTION")
    con.execute(build_sql(n))
    con.execute("COMMIT")
    insert_s = time.perf_counter() - t
    con.execute("CHECKPOINT")
    total_s = time.perf_counter() - t
    got = con.execute("SELECT count(*) FROM spans").fetchall()[0][0]
    con.close()
    if got != n:
        sys.exit(f"build produced {got:,} spans, expected {n:,}")
    print(
        f"built {n:,} spans in {total_s:.1f}s (insert {insert_s:.1f}s, checkpoint {total_s - insert_s:.1f}s), "
        f"{n / total_s:,.0f} spans/s",
        flush=True,
    )


def store_size(path: Path) -> int:
    wal = Path(str(path) + ".wal")
    return path.stat().st_size + (wal.stat().st_size if wal.exists() else 0)


# --------------------------------------------------------------------------- timing


def rows_of(result) -> int:
    if result is None:
        return 0
    if hasattr(result, "num_rows"):
        return result.num_rows
    if isinstance(result, dict):
        return 1
    return len(result)


class Timing:
    def __init__(self, name: str):
        self.name = name
        self.cold = self.warm = None
        self.rows = None
        self.error: str | None = None


def time_report(path: Path, name: str, fn) -> Timing:
    """A fresh read-only connection, then ``fn(con)`` twice: cold, then warm."""
    from llmscope import store

    tm = Timing(name)
    con = store.connect(path, read_only=True)
    try:
        for attempt in ("cold", "warm"):
            t = time.perf_counter()
            try:
                res = fn(con)
            except Exception as e:  # noqa: BLE001 - report it and go on
                tm.error = f"{type(e).__name__}: {e}"
                print(f"  {name}: FAILED ({attempt}): {tm.error}", flush=True)
                traceback.print_exc(limit=3)
                return tm
            dt = time.perf_counter() - t
            setattr(tm, attempt, dt)
            tm.rows = rows_of(res)
    finally:
        con.close()
    print(f"  {name:<44} cold {tm.cold:7.3f}s  warm {tm.warm:7.3f}s  rows {tm.rows}", flush=True)
    return tm


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--spans", type=int, default=10_000_000)
    ap.add_argument(
        "--workdir",
        default=None,
        help="where the store lives; an existing store there with N spans is reused "
        "(default: a temp dir, removed afterwards)",
    )
    ap.add_argument("--build-only", action="store_true", help=argparse.SUPPRESS)  # the child process
    args = ap.parse_args()

    temp = args.workdir is None
    work = Path(args.workdir or tempfile.mkdtemp(prefix="llmscope-reports-"))
    work.mkdir(parents=True, exist_ok=True)
    path = store_path(work, args.spans)
    if args.build_only:
        build(path, args.spans)
        return
    try:
        run(path, args.spans)
    finally:
        if temp:
            shutil.rmtree(work, ignore_errors=True)


def run(path: Path, n: int) -> None:
    from llmscope.analyses import cost, errors, latency, stats, summary, traces
    from llmscope.query import SpanFilter

    have = existing_count(path)
    if have == n:
        print(f"reusing {path} ({n:,} spans)")
    else:
        t = time.perf_counter()
        proc = subprocess.run(
            [sys.executable, __file__, "--build-only", "--spans", str(n), "--workdir", str(path.parent)]
        )
        if proc.returncode != 0:
            sys.exit(f"build failed (exit {proc.returncode})")
        print(
            f"build wall time {time.perf_counter() - t:.1f}s (child process included), "
            f"build peak RSS {resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024:,.0f} MB"
        )
    print(f"store: {path}  {store_size(path) / 1e9:.2f} GB  ({store_size(path) / n:,.0f} bytes/span)")

    from llmscope import store

    con = store.connect(path, read_only=True)
    lo, hi, llm = con.execute(
        "SELECT min(start_time), max(start_time), count(*) FILTER (WHERE span_type = 'llm') FROM spans"
    ).fetchall()[0]
    con.close()
    print(f"data: {lo} .. {hi}, {llm:,} llm spans")

    flt = SpanFilter()
    last2 = SpanFilter.from_options(since=(hi - timedelta(days=2)).isoformat())
    base_w = SpanFilter(since=hi - timedelta(days=14), until=hi - timedelta(days=7))
    cur_w = SpanFilter(since=hi - timedelta(days=7), until=hi + timedelta(seconds=1))
    print(
        f"latency_series window: since {last2.since}; drift baseline [{base_w.since}, {base_w.until}), "
        f"current [{cur_w.since}, {cur_w.until})"
    )

    def scan(c):
        return c.execute("SELECT count(*), sum(duration_ms) FROM spans").fetchall()

    reports = [
        ('latency(by="request_model")', lambda c: latency.latency(c, flt, by="request_model")),
        ('latency_series("1h", last 2d, by="feature")', lambda c: latency.latency_series(c, "1h", last2, by="feature")),
        ('errors(by="provider,error_type")', lambda c: errors.errors(c, flt, by="provider,error_type")),
        ("errors.top_messages", lambda c: errors.top_messages(c, flt)),
        ('cost(by="feature")', lambda c: cost.cost(c, flt, by="feature")),
        ("cost.top_requests(20)", lambda c: cost.top_requests(c, flt, 20)),
        ('cost_anomalies(by="service_name")', lambda c: cost.cost_anomalies(c, flt, by="service_name")),
        ("summary", lambda c: summary.summary(c, flt)),
        ("DRIFT", None),
        (
            "traces.list_traces(status='error', 50)",
            lambda c: traces.list_traces(c, SpanFilter.from_options(where="status='error'"), 50),
        ),
        ("stats.totals", lambda c: stats.totals(c)),
    ]

    print("\ntiming (each: fresh read-only connection, call 1 = cold, call 2 = warm)")
    base1 = time_report(path, "baseline scan: count(*), sum(duration_ms)", scan)
    results: list[Timing] = []
    for name, fn in reports:
        if name == "DRIFT":
            try:
                from llmscope.analyses import drift as drift_mod

                drift_fn = drift_mod.drift
            except Exception as e:  # noqa: BLE001 - being written by someone else
                print(f"drift: not available yet ({type(e).__name__}: {e})")
                continue
            name = 'drift(7d vs 7d, by="service_name")'
            fn = lambda c, drift_fn=drift_fn: drift_fn(c, baseline=base_w, current=cur_w, by="service_name")  # noqa: E731
        results.append(time_report(path, name, fn))
    base2 = time_report(path, "baseline scan (again, at the end)", scan)

    bases = [b.warm for b in (base1, base2) if b.warm]
    base = sum(bases) / len(bases) if bases else None
    cbases = [b.cold for b in (base1, base2) if b.cold]
    cbase = sum(cbases) / len(cbases) if cbases else None

    print(f"\n{'report':<44} {'cold s':>8} {'warm s':>8} {'rows':>6} {'cold x':>7} {'warm x':>7}  vs {TARGET_S:.1f}s")
    print("-" * 94)
    for b in (base1, base2):
        print(f"{b.name:<44} {b.cold:8.3f} {b.warm:8.3f} {b.rows:>6} {'1.0':>7} {'1.0':>7}")
    print("-" * 94)
    slow = []
    for r in results:
        if r.error:
            print(f"{r.name:<44} {'-':>8} {'-':>8} {'-':>6} {'-':>7} {'-':>7}  ERROR: {r.error.splitlines()[0][:120]}")
            continue
        if r.warm > TARGET_S:
            verdict = "SLOW"
        elif r.cold > TARGET_S:
            verdict = "SLOW (cold only)"
        else:
            verdict = "OK"
        if verdict != "OK":
            slow.append(r.name)
        cx = f"{r.cold / cbase:.1f}" if cbase else "-"
        wx = f"{r.warm / base:.1f}" if base else "-"
        print(f"{r.name:<44} {r.cold:8.3f} {r.warm:8.3f} {r.rows:>6} {cx:>7} {wx:>7}  {verdict}")
    print("-" * 94)
    print(f"cold x / warm x: multiples of the baseline scan's mean cold ({cbase:.3f}s) / warm ({base:.3f}s) time")
    print(f"spans: {n:,}   store: {store_size(path) / 1e9:.2f} GB")
    print(
        f"peak RSS of this process (reports only; the build ran in a child): "
        f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MB"
    )
    print(f"cores: {os.cpu_count()} (usable: {len(os.sched_getaffinity(0))})")
    failed = [r.name for r in results if r.error]
    print(f"slow: {', '.join(slow) or 'none'}; failed: {', '.join(failed) or 'none'}")


if __name__ == "__main__":
    main()
