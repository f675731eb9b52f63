"""Summary: what is wrong first, then every signal against the period before.

The one screen an on-call engineer opens. ``problems`` lists what the default alert rules
(``llmscope/example_alerts.toml``: provider error rate, slow calls, cost per call, prompt injection,
PII leaks, agent loops, drift) would flag over the period, each with the command that drills in.
``signals`` gives each signal of the five families (performance, quality, cost, safety, agentic)
in words with its unit, its value, the value over the previous period of the same length and the
change, with one value per day (or per twelfth of the period) for a sparkline.

The period is the window asked for (``--since``/``--until``), else the last 7 days of data (ending
after the newest span, not today: an archive still reads). A family whose data does not exist yet
(no evals run, no safety scan) says so instead of showing zeros.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from importlib.resources import files
from typing import Any

import duckdb

from ..config import HALLUCINATION_THRESHOLD
from ..query import SpanFilter
from . import agents as agents_mod

DEFAULT_DAYS = 7
SPARK_POINTS = 8  # points of a sparkline when the period is not a few whole days

PERF_SQL = """
SELECT count(*) AS calls,
       quantile_cont(duration_ms, 0.50) AS p50, quantile_cont(duration_ms, 0.95) AS p95,
       quantile_cont(duration_ms, 0.99) AS p99, quantile_cont(ttft_ms, 0.95) AS ttft_p95,
       avg(CASE WHEN status = 'error' THEN 1.0 ELSE 0.0 END) AS error_rate,
       count(*) FILTER (WHERE error_type = 'rate_limit') AS rate_limits,
       count(*) FILTER (WHERE error_type = 'timeout') AS timeouts,
       count(*) FILTER (WHERE error_type = 'server_error') AS server_errors
FROM spans WHERE span_type = 'llm' AND {where}
"""

COST_SQL = """
SELECT sum(cost_usd) AS cost, count(cost_usd) AS priced,
       count(*) FILTER (WHERE cost_usd IS NULL AND (input_tokens IS NOT NULL OR output_tokens IS NOT NULL)) AS unpriced,
       sum(input_tokens)::BIGINT AS tin, sum(output_tokens)::BIGINT AS tout,
       count(DISTINCT trace_id) AS requests,
       count(DISTINCT trace_id) FILTER (WHERE cost_usd IS NOT NULL) AS priced_requests
FROM spans WHERE span_type IN ('llm', 'embedding') AND {where}
"""

TOP_FEATURE_SQL = """
SELECT coalesce(feature, '(none)'), sum(cost_usd) FROM spans
WHERE span_type IN ('llm', 'embedding') AND {where} GROUP BY 1 ORDER BY 2 DESC NULLS LAST, 1 LIMIT 1
"""

# Tool calls of the traces with agent or tool spans; runs and their steps come from `report agents`
# (agents.AGENT_RUNS_SQL), so both count an agent run, and its steps, the same way.
AGENT_SQL = """
WITH per_trace AS (
    SELECT trace_id, count(*) FILTER (WHERE span_type = 'tool') AS tools,
           count(*) FILTER (WHERE span_type = 'tool' AND status = 'error') AS tool_errors
    FROM spans WHERE {where}
    GROUP BY trace_id HAVING bool_or(span_type IN ('agent', 'tool'))
)
SELECT count(*) AS traces, sum(tools)::BIGINT AS tool_calls, sum(tool_errors)::BIGINT AS tool_errors FROM per_trace
"""

# Judge errors are counted apart, never as scores or as failed answers; not_applicable items neither.
QUALITY_SQL = """
SELECT metric, count(score) AS n, avg(score) AS mean,
       avg(CASE WHEN passed THEN 1.0 WHEN NOT passed THEN 0.0 END) AS pass_rate,
       count(*) FILTER (WHERE error IS NOT NULL) AS errors,
       avg(CASE WHEN score < ? THEN 1.0 WHEN score IS NOT NULL THEN 0.0 END) FILTER (WHERE metric LIKE 'groundedness%') AS hallucination_rate
FROM evals WHERE coalesce(repeat_index, 0) = 0 AND trace_id IN (SELECT DISTINCT trace_id FROM spans WHERE {where})
GROUP BY metric ORDER BY n DESC, metric
"""

SAFETY_SQL = """
SELECT (SELECT count(*) FROM findings WHERE (trace_id, span_id) IN (SELECT trace_id, span_id FROM spans WHERE {where})) AS findings,
       (SELECT count(DISTINCT (trace_id, span_id)) FROM scanned_spans WHERE (trace_id, span_id) IN (SELECT trace_id, span_id FROM spans WHERE {where})) AS scanned
"""

FINDING_KINDS_SQL = """
SELECT kind, count(*) AS n, min(trace_id) AS example FROM findings
WHERE (trace_id, span_id) IN (SELECT trace_id, span_id FROM spans WHERE {where}) GROUP BY kind ORDER BY n DESC, kind
"""

# A rule's window as tumbling buckets over the period: what `llmscope check` would have said at the end of each.
WINDOW_SQL = """
SELECT {group} AS grp, time_bucket(INTERVAL '{seconds} seconds', start_time) AS bucket, count(*) AS n,
       {value} AS v
FROM spans WHERE span_type = 'llm' AND {where}
GROUP BY 1, 2 HAVING count(*) >= ? AND {value} > ?
ORDER BY 1, 2
"""

NEWEST_SQL = "SELECT max(start_time) FROM spans WHERE {where}"

# The sparklines: every trend signal for every point in one pass. {bucket} numbers a span by the point whose
# [start, end) holds it (a CASE over the points' ends: the same comparisons as each point's own filter).
TREND_SQL = """
WITH b AS (SELECT {bucket} AS point, * FROM spans WHERE {where})
SELECT point,
       count(*) FILTER (WHERE span_type = 'llm') AS llm_calls,
       quantile_cont(duration_ms, 0.95) FILTER (WHERE span_type = 'llm') AS latency_p95_ms,
       avg(CASE WHEN status = 'error' THEN 1.0 ELSE 0.0 END) FILTER (WHERE span_type = 'llm') AS error_rate,
       sum(cost_usd) FILTER (WHERE span_type IN ('llm', 'embedding')) AS cost_usd,
       count(DISTINCT trace_id) FILTER (WHERE span_type IN ('llm', 'embedding') AND cost_usd IS NOT NULL)
           AS priced_requests
FROM b WHERE point IS NOT NULL GROUP BY point
"""

TREND_QUALITY_SQL = """
WITH b AS (SELECT DISTINCT {bucket} AS point, trace_id FROM spans WHERE {where})
SELECT b.point, e.metric,
       avg(CASE WHEN e.score < ? THEN 1.0 WHEN e.score IS NOT NULL THEN 0.0 END) AS hallucination_rate
FROM evals e JOIN b ON e.trace_id = b.trace_id
WHERE coalesce(e.repeat_index, 0) = 0 AND e.metric LIKE 'groundedness%' AND b.point IS NOT NULL
GROUP BY 1, 2
"""


# --------------------------------------------------------------------------- the period


@dataclass(frozen=True)
class Period:
    current: SpanFilter
    previous: SpanFilter
    label: str

    @property
    def length(self) -> timedelta:
        assert self.current.since is not None and self.current.until is not None
        return self.current.until - self.current.since


def period(con: Any, flt: SpanFilter) -> Period | None:
    """The window asked for, else the last 7 days of data; and the one of the same length before it."""
    since, until = flt.since, flt.until
    if until is None:
        newest = con.execute(NEWEST_SQL.format(where=SpanFilter(since, None, flt.where).sql()[0]),
                             SpanFilter(since, None, flt.where).sql()[1]).fetchall()[0][0]  # fmt: skip
        if newest is None:
            return None
        until = datetime.combine(newest.date(), datetime.min.time()) + timedelta(days=1)  # whole days
    if since is None:
        since = until - timedelta(days=DEFAULT_DAYS)
    length = until - since
    label = f"{_when(since)} … {_when(until)}"
    return Period(SpanFilter(since, until, flt.where), SpanFilter(since - length, since, flt.where), label)


def _when(t: datetime) -> str:
    return f"{t:%Y-%m-%d}" if t.time() == datetime.min.time() else f"{t:%Y-%m-%d %H:%M}"


def _arg(t: datetime) -> str:
    return f"{t:%Y-%m-%d}" if t.time() == datetime.min.time() else f"{t:%Y-%m-%dT%H:%M}"


def _buckets(p: Period) -> list[SpanFilter]:
    """The sparkline's points: days when the period is whole days (up to 31), else twelfths."""
    cur = p.current
    assert cur.since is not None and cur.until is not None
    days = p.length / timedelta(days=1)
    n = int(days) if days == int(days) and 2 <= days <= 31 else SPARK_POINTS
    step = p.length / n
    return [SpanFilter(cur.since + i * step, cur.since + (i + 1) * step, cur.where) for i in range(n)]


# --------------------------------------------------------------------------- signals


def _one(con, sql, params) -> dict:
    cur = con.execute(sql, params)
    names = [d[0] for d in cur.description]
    row = cur.fetchall()[0]
    return dict(zip(names, row))


def _table_exists(con: Any, name: str) -> bool:
    return bool(con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = ?", [name]).fetchall()[0][0])


# (family, key, signal in words, unit, whether a trend matters)
SIGNALS: tuple[tuple[str, str, str, str, bool], ...] = (
    ("performance", "llm_calls", "LLM calls", "calls", True),
    ("performance", "latency_p50_ms", "median latency (P50)", "ms", False),
    ("performance", "latency_p95_ms", "P95 latency", "ms", True),
    ("performance", "latency_p99_ms", "P99 latency", "ms", False),
    ("performance", "ttft_p95_ms", "P95 time to first token", "ms", False),
    ("performance", "error_rate", "error rate", "% of LLM calls", True),
    ("quality", "score_mean", "mean score", "0-1", False),
    ("cost", "cost_usd", "total cost", "$", True),
    ("cost", "cost_per_request_usd", "cost per request", "$ per priced trace", True),
    ("cost", "input_tokens", "input tokens", "tokens", False),
    ("cost", "output_tokens", "output tokens", "tokens", False),
    ("cost", "unpriced_calls", "unpriced calls", "calls", False),
    ("cost", "top_feature_cost_usd", "costliest feature", "$", False),
    ("safety", "findings", "safety findings", "findings", False),
    ("agentic", "agent_runs", "agent runs", "runs", False),
    ("agentic", "tool_calls", "tool calls", "calls", False),
    ("agentic", "tool_error_rate", "tool error rate", "% of tool calls", False),
    ("agentic", "max_steps_in_a_run", "most steps in one run", "LLM + tool steps", False),
)
_WORDS = {key: (family, words, unit, trend) for family, key, words, unit, trend in SIGNALS}


def measure(con: Any, flt: SpanFilter, below: float = HALLUCINATION_THRESHOLD) -> dict[str, tuple[Any, str]]:
    """Every signal over ``flt`` -> {key: (value, note)}; quality as ``METRIC_mean`` keys (and
    ``METRIC_hallucination_rate``: the share of groundedness scores below ``below``)."""
    where, params = flt.sql()
    out: dict[str, tuple[Any, str]] = {}
    p = _one(con, PERF_SQL.format(where=where), params)
    out["llm_calls"] = (p["calls"], "")
    if p["calls"]:
        out["latency_p50_ms"] = (round(p["p50"], 1), "")
        out["latency_p95_ms"] = (round(p["p95"], 1), "")
        out["latency_p99_ms"] = (round(p["p99"], 1), "")
        ttft = p["ttft_p95"]
        out["ttft_p95_ms"] = (
            round(ttft, 1) if ttft is not None else None,
            "" if ttft is not None else "no streaming timing recorded",
        )
        out["error_rate"] = (
            round(p["error_rate"], 4),
            f"{p['rate_limits']} rate limits, {p['timeouts']} timeouts, {p['server_errors']} server errors",
        )
    rows = con.execute(QUALITY_SQL.format(where=where), [below, *params]).fetchall()
    for metric, n, mean, pass_rate, errors, hallucinations in rows:
        failed = f"{errors:,} judge errors (not counted)" if errors else ""
        if not n:
            out[f"{metric}_mean"] = (None, f"no scores: {errors:,} judge errors" if errors else "no scores")
            continue
        passed = f", pass rate {pass_rate:.1%}" if pass_rate is not None else ""
        out[f"{metric}_mean"] = (round(mean, 3), ", ".join(x for x in (f"{n:,} scores{passed}", failed) if x))
        if hallucinations is not None:
            out[f"{metric}_hallucination_rate"] = (round(hallucinations, 4), f"groundedness < {below:g}")
    c = _one(con, COST_SQL.format(where=where), params)
    out["cost_usd"] = (c["cost"], f"{c['priced']:,} priced calls" if c["priced"] else "")
    # per request: priced cost over the requests that have a price, so unpriced traces do not dilute it
    out["cost_per_request_usd"] = (
        c["cost"] / c["priced_requests"] if c["cost"] is not None and c["priced_requests"] else None,
        "unpriced requests left out" if c["unpriced"] else "",
    )
    out["input_tokens"] = (c["tin"] or 0, "")
    out["output_tokens"] = (c["tout"] or 0, "")
    out["unpriced_calls"] = (c["unpriced"], "add prices with --prices" if c["unpriced"] else "")
    top = con.execute(TOP_FEATURE_SQL.format(where=where), params).fetchall()
    if top and top[0][1] is not None:
        out["top_feature_cost_usd"] = (top[0][1], f"feature {top[0][0]}")
    scanned = _one(con, SAFETY_SQL.format(where=where), params + params) if _table_exists(con, "scanned_spans") else {}
    if scanned.get("scanned"):
        out["findings"] = (scanned["findings"], f"in {scanned['scanned']:,} scanned spans")
    a = _one(con, AGENT_SQL.format(where=where), params)
    runs = _one(con, agents_mod.agent_runs_sql(where), params)
    out["agent_runs"] = (runs["runs"], "agent spans" if runs["runs"] else "no agent spans")
    if a["traces"]:
        out["tool_calls"] = (a["tool_calls"], "")
        if a["tool_calls"]:
            out["tool_error_rate"] = (round(a["tool_errors"] / a["tool_calls"], 4), f"{a['tool_errors']:,} failed")
    if runs["runs"]:
        out["max_steps_in_a_run"] = (runs["max_steps"], f"median {runs['median_steps']:.0f}, as `report agents`")
    return out


def trends(con: Any, p: Period, below: float = HALLUCINATION_THRESHOLD) -> list[dict[str, tuple[Any, str]]]:
    """The trend signals of each sparkline point, as ``measure`` gives them for that point alone, in one pass."""
    points = _buckets(p)
    ends = [b.until for b in points]
    bucket = "CASE " + " ".join(f"WHEN start_time < ? THEN {i}" for i in range(len(ends))) + " END"
    where, params = p.current.sql()
    out: list[dict[str, tuple[Any, str]]] = [{"llm_calls": (0, "")} for _ in points]
    cur = con.execute(TREND_SQL.format(bucket=bucket, where=where), [*ends, *params])
    names = [d[0] for d in cur.description]
    for row in cur.fetchall():
        r = dict(zip(names, row))
        pt = out[r["point"]]
        pt["llm_calls"] = (r["llm_calls"], "")
        if r["llm_calls"]:
            pt["latency_p95_ms"] = (round(r["latency_p95_ms"], 1), "")
            pt["error_rate"] = (round(r["error_rate"], 4), "")
        pt["cost_usd"] = (r["cost_usd"], "")
        cost, priced = r["cost_usd"], r["priced_requests"]
        pt["cost_per_request_usd"] = (cost / priced if cost is not None and priced else None, "")
    rows = con.execute(TREND_QUALITY_SQL.format(bucket=bucket, where=where), [*ends, *params, below]).fetchall()
    for point, metric, rate in rows:
        if rate is not None:
            out[point][f"{metric}_hallucination_rate"] = (round(rate, 4), "")
    return out


def _change(now: Any, before: Any) -> float | None:
    if not isinstance(now, int | float) or not isinstance(before, int | float) or not before:
        return None
    return (now - before) / abs(before)


def signals(con: Any, flt: SpanFilter, p: Period | None = None, below: float = HALLUCINATION_THRESHOLD) -> list[dict]:
    """One row per signal: family, key, signal (words), unit, value, previous, change, trend, note."""
    p = p or period(con, flt)
    if p is None:
        now: dict[str, tuple[Any, str]] = measure(con, flt, below)
        before: dict[str, tuple[Any, str]] = {}
        points: list[dict[str, tuple[Any, str]]] = []
    else:
        now, before = measure(con, p.current, below), measure(con, p.previous, below)
        points = trends(con, p, below)
    rows: list[dict] = []

    def add(key: str, family: str, words: str, unit: str, trend: bool) -> None:
        value, note = now.get(key, (None, ""))
        prev = before.get(key, (None, ""))[0]
        spark = [pt.get(key, (None, ""))[0] for pt in points] if trend else []
        rows.append({
            "family": family, "key": key, "signal": words, "unit": unit, "value": value, "previous": prev,
            "change": _change(value, prev), "trend": [v if isinstance(v, int | float) else None for v in spark],
            "note": note,
        })  # fmt: skip

    for family, key, words, unit, trend in SIGNALS:
        if key == "score_mean":
            metrics = sorted(k[: -len("_mean")] for k in now if k.endswith("_mean") and not k.startswith("latency"))
            if not metrics:
                rows.append({
                    "family": "quality", "key": "scores", "signal": "eval scores", "unit": "", "value": None,
                    "previous": None, "change": None, "trend": [], "note": "not evaluated yet: run `llmscope eval`",
                })  # fmt: skip
            for m in metrics:
                add(f"{m}_mean", "quality", f"mean {m.replace('_', ' ')} score", "0-1", False)
                if f"{m}_hallucination_rate" in now:
                    add(f"{m}_hallucination_rate", "quality", "hallucination rate", "% of scores", True)
            continue
        if key == "findings" and key not in now:
            rows.append({
                "family": "safety", "key": "findings", "signal": words, "unit": unit, "value": None,
                "previous": None, "change": None, "trend": [], "note": "not scanned yet: run `llmscope scan`",
            })  # fmt: skip
            continue
        if key in now:
            add(key, family, words, unit, trend)
    return rows


# --------------------------------------------------------------------------- problems


def default_rules() -> list:
    """The rules `llmscope check --example-rules` prints: what the summary checks."""
    from ..checks.alerts import load_rules

    path = files("llmscope").joinpath("example_alerts.toml")
    return load_rules(str(path))


def _window_text(rule) -> str:
    secs = int(rule.window.total_seconds())
    return f"{secs // 86400}d" if secs % 86400 == 0 else f"{secs // 3600}h" if secs % 3600 == 0 else f"{secs // 60}m"


def _group_text(by: str | None, grp: Any) -> str:
    return "all" if not by else f"{by} {grp}"


def _windowed(con: Any, p: Period, rule, value_sql: str, fmt) -> list[dict]:
    """A rate or percentile rule over tumbling windows of the rule's length across the period."""
    from ..checks.alerts import _group_sql

    where, params = SpanFilter(p.current.since, p.current.until, p.current.where).sql()
    if rule.where is not None:
        where += f" AND ({rule.where.sql})"
    sql = WINDOW_SQL.format(
        group=_group_sql(rule), seconds=int(rule.window.total_seconds()), value=value_sql, where=where
    )
    rows = con.execute(
        sql, params + [int(rule.options.get("min_count", 20)), float(rule.options["threshold"])]
    ).fetchall()
    by_group: dict[Any, list[tuple]] = {}
    for grp, bucket, n, v in rows:
        by_group.setdefault(grp, []).append((bucket, n, v))
    out = []
    for grp, hits in by_group.items():
        worst = max(hits, key=lambda h: h[2])
        first, last = hits[0][0], hits[-1][0] + rule.window
        wtext = _window_text(rule)
        out.append({
            "severity": rule.severity, "problem": rule.name, "where": _group_text(rule.by, grp),
            "value": f"{fmt(worst[2])} in {wtext} from {worst[0]:%Y-%m-%d %H:%M} ({worst[1]:,} calls; "
                     f"threshold {fmt(float(rule.options['threshold']))})",
            "when": f"over the threshold in {len(hits)} {wtext} window(s)"
                    + (f", {_when(first)} … {_when(last)}" if len(hits) > 1 else ""),
            "command": f"llmscope report {'errors' if rule.kind == 'error_rate' else 'latency'} "
                       f"--by {rule.by or 'model'} --since {_arg(worst[0])} --until {_arg(worst[0] + rule.window)}",
        })  # fmt: skip
    return out


def _pct(v: float) -> str:
    return f"{v:.1%}"


def _ms(v: float) -> str:
    return f"{v:,.0f} ms"


def _cost_problems(con: Any, p: Period, rule) -> list[dict]:
    from .cost import cost_anomalies

    assert p.current.since is not None
    every = _window_text(rule)
    lookback = SpanFilter(p.current.since - 8 * rule.window, p.current.until, p.current.where)
    rows = [r for r in cost_anomalies(con, lookback, rule.by, every).to_pylist() if r["anomaly"]]
    rows = [r for r in rows if r["bucket"] >= p.current.since]
    out = []
    group_col = rule.by
    for grp in dict.fromkeys(r.get(group_col) if group_col else None for r in rows):
        hits = [r for r in rows if (r.get(group_col) if group_col else None) == grp]
        worst = max(hits, key=lambda r: r["ratio"] or 0)
        out.append({
            "severity": rule.severity, "problem": rule.name, "where": _group_text(group_col, grp),
            "value": f"${worst['cost_per_call']:.6f} per call, {worst['ratio']:.1f}× its baseline",
            "when": f"{_when(hits[0]['bucket'])}" + (f" and {len(hits) - 1} more {every} bucket(s)" if len(hits) > 1 else ""),
            "command": f"llmscope report cost --by {group_col or 'feature'} --anomalies",
        })  # fmt: skip
    return out


def _finding_problems(con: Any, p: Period, rules: list) -> list[dict]:
    kinds = {"injection": ("injection", "indirect_injection"), "pii_leak_rate": ("pii_leak",)}
    wanted = [r for r in rules if r.kind in kinds]
    if not wanted:
        return []
    if (
        not _table_exists(con, "scanned_spans")
        or not con.execute("SELECT count(*) FROM scanned_spans").fetchall()[0][0]
    ):
        return [{
            "severity": "info", "problem": "safety not checked", "where": "all",
            "value": "no safety scan has run: injection and PII leaks are unknown", "when": "",
            "command": "llmscope scan",
        }]  # fmt: skip
    where, params = p.current.sql()
    found = {k: (n, ex) for k, n, ex in con.execute(FINDING_KINDS_SQL.format(where=where), params).fetchall()}
    out = []
    for rule in wanted:
        n = sum(found.get(k, (0, None))[0] for k in kinds[rule.kind])
        if n:
            ex = next(found[k][1] for k in kinds[rule.kind] if k in found)
            kind = kinds[rule.kind][0]
            out.append({
                "severity": rule.severity, "problem": rule.name, "where": "all",
                "value": f"{n:,} finding(s), e.g. trace {ex[:12]}", "when": p.label,
                "command": f"llmscope report safety --show findings --kind {kind} --since {_arg(p.current.since)}",
            })  # fmt: skip
    return out


# Engine-neutral (ClickHouse runs it too): a tool called with the same input N times in one trace,
# and runs with more LLM + tool steps than the rule allows. `report loops` has the evidence.
LOOP_SQL = """
WITH repeats AS (
    SELECT trace_id, count(*) AS n FROM spans WHERE span_type = 'tool' AND {where}
    GROUP BY trace_id, tool_name, input_text HAVING count(*) >= ?
),
runs AS (
    SELECT trace_id, count(*) FILTER (WHERE span_type IN ('llm', 'tool')) AS n FROM spans WHERE {where}
    GROUP BY trace_id HAVING bool_or(span_type IN ('agent', 'tool'))
       AND count(*) FILTER (WHERE span_type IN ('llm', 'tool')) > ?
)
SELECT (SELECT count(DISTINCT trace_id) FROM repeats), (SELECT count(*) FROM runs),
       coalesce((SELECT trace_id FROM repeats ORDER BY n DESC, trace_id LIMIT 1),
                (SELECT trace_id FROM runs ORDER BY n DESC, trace_id LIMIT 1))
"""


def _loop_problems(con: Any, p: Period, rule) -> list[dict]:
    max_steps = int(rule.options.get("max_steps", 25))
    min_repeats = int(rule.options.get("min_repeats", 3))
    where, params = p.current.sql()
    repeated, runaway, example = con.execute(
        LOOP_SQL.format(where=where), params + [min_repeats] + params + [max_steps]
    ).fetchall()[0]
    if not repeated and not runaway:
        return []
    return [{
        "severity": rule.severity, "problem": rule.name, "where": "all",
        "value": f"{repeated:,} trace(s) call a tool with the same input ≥ {min_repeats} times, {runaway:,} run(s) "
                 f"over {max_steps} steps; e.g. trace {example[:12]}",
        "when": p.label,
        "command": f"llmscope report loops --max-steps {max_steps} --since {_arg(p.current.since)}",
    }]  # fmt: skip


def _drift_problems(con: Any, p: Period, rule) -> list[dict]:
    from .drift import drift

    jsd_t, psi_t = float(rule.options.get("jsd", 0.2)), float(rule.options.get("psi", 0.25))
    feats = list(rule.options.get("features", ["input_tokens", "output_tokens", "request_model"]))
    rows = drift(con, p.previous, p.current, rule.by, "llm", feats).to_pylist()
    out = []
    for r in rows:
        if r["jsd"] is None or r["verdict"] == "insufficient data" or not (r["jsd"] >= jsd_t or r["psi"] >= psi_t):
            continue
        grp = r.get(rule.by) if rule.by else None
        b, c = p.previous, p.current
        assert b.since and c.since and c.until
        out.append({
            "severity": rule.severity, "problem": rule.name, "where": _group_text(rule.by, grp),
            "value": f"{r['feature']}: JSD {r['jsd']:.2f}, PSI {r['psi']:.2f} ({r['baseline_summary']} → {r['current_summary']})",
            "when": f"{p.label} against the period before",
            "command": f"llmscope report drift --baseline {_arg(b.since)}..{_arg(c.since)} "
                       f"--current {_arg(c.since)}..{_arg(c.until)}" + (f" --by {rule.by}" if rule.by else ""),
        })  # fmt: skip
    return out


SEVERITY_ORDER = {"critical": 0, "warning": 1, "info": 2}


def problems(con: Any, flt: SpanFilter, p: Period | None = None) -> list[dict]:
    """What the default alert rules would flag over the period: severity, problem, where, value, when, command."""
    p = p or period(con, flt)
    if p is None:
        return []
    out: list[dict] = []
    rules = default_rules()
    for rule in rules:
        if rule.kind == "error_rate":
            out += _windowed(con, p, rule, "avg(CASE WHEN status = 'error' THEN 1.0 ELSE 0.0 END)", _pct)
        elif rule.kind == "latency_p99":
            out += _windowed(con, p, rule, "quantile_cont(duration_ms, 0.99)", _ms)
        elif rule.kind == "cost_anomaly":
            out += _cost_problems(con, p, rule)
        elif rule.kind == "agent_loops":
            out += _loop_problems(con, p, rule)
        elif rule.kind == "drift":
            out += _drift_problems(con, p, rule)
    out += _finding_problems(con, p, rules)
    return sorted(out, key=lambda r: SEVERITY_ORDER.get(r["severity"], 3))


def summary(con: duckdb.DuckDBPyConnection, flt: SpanFilter | None = None) -> list[dict]:
    """The signal rows over the period (see :func:`signals`)."""
    return signals(con, flt or SpanFilter())
