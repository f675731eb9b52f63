"""Every report kind the CLI has, as a library call returning a :class:`~llmscope.result.Result`.

``REPORTS`` is the registry: a kind is a row (its function and what it is for), so
:meth:`llmscope.Store.report` and ``llmscope report KIND`` offer the same kinds with the same
options. A report function takes a connection, a parsed :class:`~llmscope.query.SpanFilter`, a
parsed :class:`~llmscope.query.Grouping` and its own keyword options (checked here, before any SQL
runs), calls the analyses that own the SQL, and says in ``notes`` why an answer is empty.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pyarrow as pa

from .analyses import agents as agents_mod
from .analyses import cost as cost_mod
from .analyses import drift as drift_mod
from .analyses import errors as errors_mod
from .analyses import latency as latency_mod
from .analyses import quality as quality_mod
from .analyses import safety as safety_mod
from .analyses import stats as stats_mod
from .analyses import summary as summary_mod
from .config import HALLUCINATION_THRESHOLD
from .errors import QueryError
from .query import Grouping, SpanFilter, parse_duration, parse_window, positive_int
from .result import Result, of_rows

DRIFT_FORMULAS = drift_mod.FORMULAS_HELP  # how drift is computed, for help texts
SPAN_TYPES = ("llm", "embedding", "retriever", "tool", "agent", "workflow", "other")


def _span_type(value: str) -> str:
    if value not in SPAN_TYPES:
        raise QueryError(f"{value!r} is not a span type; use one of {', '.join(SPAN_TYPES)}", param="span_type")
    return value


def _names(value: str | Sequence[str] | None, param: str) -> list[str] | None:
    if value is None:
        return None
    items = value.split(",") if isinstance(value, str) else list(value)
    out = [i.strip() for i in items if i and i.strip()]
    if not out:
        raise QueryError("give at least one name", param=param)
    return out


def _keep(grouping: Grouping, *metrics: str) -> tuple[str, ...]:
    return (*grouping.names, *(f"by_{g}" for g in grouping.names), *metrics)


# --------------------------------------------------------------------------- empty answers

_RANGE_SQL = """
SELECT count(*), min(start_time), max(start_time), count(*) FILTER (WHERE span_type = ?) FROM spans
"""


def explain_empty(con: Any, flt: SpanFilter, what: str, span_type: str | None = None) -> str:
    """One line saying why ``what`` is empty: the store's time range and a command that shows data."""
    n, lo, hi, n_type = con.execute(_RANGE_SQL, [span_type or "llm"]).fetchall()[0]
    if not n:
        return f"no {what}: the store is empty (run `llmscope ingest FILE`)"
    if span_type and not n_type:
        return f"no {what}: the store has no {span_type} spans ({n:,} spans of other types)"
    span = f"{lo:%Y-%m-%d %H:%M} … {hi:%Y-%m-%d %H:%M}"
    if flt.empty:
        return f"no {what} in the store ({n:,} spans, {span})"
    hint = f"--since {lo:%Y-%m-%d} --until {hi:%Y-%m-%d}T23:59" if (flt.since or flt.until) else "a wider --where"
    return f"no {what} with {flt.describe()}; the store holds {n:,} spans from {span} (try {hint})"


def _with_empty_note(result: Result, con: Any, flt: SpanFilter, what: str, span_type: str | None = None) -> Result:
    # an ungrouped aggregate over nothing is one row of zeros: that is an empty answer too
    for count in ("requests", "calls"):
        if result.num_rows and count in result.columns and not any(result.table.column(count).to_pylist()):
            result.table = result.table.slice(0, 0)
    if result.num_rows == 0:
        result.notes.append(explain_empty(con, flt, what, span_type))
    return result


# --------------------------------------------------------------------------- reports


def latency(
    con: Any,
    flt: SpanFilter,
    by: Grouping,
    *,
    span_type: str = "llm",
    every: str | None = None,
    histogram: bool = False,
    ttft: bool = False,
) -> Result:
    """P50/P95/P99/max latency, time to first token, time per output token, throughput and error rate.
    ``every="1h"``: the same per time bucket; ``histogram=True``: how calls spread over latency buckets
    (``ttft=True``: of time to first token), with the latency table as ``["summary"]``."""
    span_type = _span_type(span_type)
    if every is not None:
        parse_duration(every, param="every")
        tbl = latency_mod.latency_series(con, every, flt, by, span_type)
        res = Result(
            tbl,
            "latency_series",
            title=f"Latency of {span_type} spans every {every}",
            meta={"every": every, "groups": by.names},
            keep=_keep(by, "bucket", "requests", "p99_ms", "error_rate"),
        )
        return _with_empty_note(res, con, flt, f"{span_type} spans", span_type)
    summary = Result(
        latency_mod.latency(con, flt, by, span_type),
        "latency",
        title=f"Latency of {span_type} spans",
        keep=_keep(by, "requests", "p50_ms", "p95_ms", "p99_ms", "error_rate"),
    )
    if histogram:
        of = "ttft_ms" if ttft else "duration_ms"
        res = Result(
            latency_mod.latency_histogram(con, flt, by, span_type, of),
            "latency_histogram",
            title=f"{'Time to first token' if ttft else 'Latency'} of {span_type} spans",
            meta={"of": of},
            others={"summary": summary},
        )
        return _with_empty_note(res, con, flt, f"{span_type} spans with {of}", span_type)
    return _with_empty_note(summary, con, flt, f"{span_type} spans", span_type)


def errors(con: Any, flt: SpanFilter, by: Grouping, *, span_type: str = "llm", messages: int = 10) -> Result:
    """Error rate and counts by class (rate_limit, timeout, server_error, client_error, auth_error);
    the ``messages`` most frequent error messages as ``["top_messages"]``."""
    span_type = _span_type(span_type)
    positive_int(messages, "messages", zero=True)
    res = Result(
        errors_mod.errors(con, flt, by, span_type),
        "errors",
        title=f"Errors of {span_type} spans",
        keep=_keep(by, "requests", "errors", "error_rate"),
    )
    if messages:
        res.others["top_messages"] = Result(
            errors_mod.top_messages(con, flt, span_type, messages), "top_messages", title="Top error messages"
        )
    return _with_empty_note(res, con, flt, f"{span_type} spans", span_type)


def cost(
    con: Any, flt: SpanFilter, by: Grouping, *, top: int = 0, anomalies: bool = False, every: str = "1d"
) -> Result:
    """Tokens and dollars per group; ``top=N`` adds the N costliest requests as ``["top_requests"]``;
    ``anomalies=True``: cost per call per ``every`` bucket against the median of the previous 7."""
    positive_int(top, "top", zero=True)
    if anomalies:
        parse_duration(every, param="every")
        res = Result(
            cost_mod.cost_anomalies(con, flt, by, every),
            "cost_anomalies",
            title=f"Cost per call every {every} against the previous 7 (anomaly: ≥1.3×, robust z ≥ 3)",
            keep=_keep(by, "bucket", "cost_per_call", "anomaly"),
        )
        return _with_empty_note(res, con, flt, "priced LLM calls")
    res = Result(
        cost_mod.cost(con, flt, by),
        "cost",
        title="Cost",
        keep=_keep(by, "calls", "cost_usd", "share_of_total", "cost_per_request"),
    )
    if top:
        res.others["top_requests"] = Result(
            cost_mod.top_requests(con, flt, top), "top_requests", title=f"Top {top} requests by cost"
        )
    _add_reported_cost(res, con, flt)
    return _with_empty_note(res, con, flt, "LLM or embedding calls")


def _add_reported_cost(res: Result, con: Any, flt: SpanFilter) -> None:
    """Where instrumentations record their own cost: ``["reported_cost"]``, how often it disagrees (> 5%)."""
    reported = cost_mod.reported_vs_computed(con, flt)
    if reported.num_rows:
        res.others["reported_cost"] = Result(
            reported,
            "reported_cost",
            title="Cost the instrumentation reported vs computed from the price table (disagreeing: > 5%)",
            keep=("model", "reported_calls", "disagreeing", "disagreement_rate"),
        )


def drift(
    con: Any,
    flt: SpanFilter,
    by: Grouping,
    *,
    baseline: str | tuple | None = None,
    current: str | tuple | None = None,
    days: int = 7,
    span_type: str = "llm",
    features: str | Sequence[str] | None = None,
) -> Result:
    """Jensen-Shannon distance and PSI between a baseline and a current window (``"A..B"``), per group
    and feature; by default the last ``days`` days of data against the ``days`` before."""
    span_type = _span_type(span_type)
    positive_int(days, "days")
    feats = _names(features, "features")
    if (baseline is None) != (current is None):
        raise QueryError("give both baseline and current, or neither (then: the last days of data)", param="baseline")
    where = flt.where
    if baseline is None:
        windows = drift_mod.latest_windows(con, span_type, where, days)
        if windows is None:
            empty = Result(pa.table({}), "drift", title="Drift")
            empty.notes.append(explain_empty(con, flt, f"{span_type} spans to compare", span_type))
            return empty
        base, cur = windows
    else:
        assert current is not None
        (b0, b1), (c0, c1) = _window(baseline, "baseline"), _window(current, "current")
        base, cur = SpanFilter(b0, b1, where), SpanFilter(c0, c1, where)
    tbl = drift_mod.drift(con, base, cur, by, span_type, feats)
    return Result(
        tbl,
        "drift",
        title=f"Drift {_span_text(base)} → {_span_text(cur)}",
        meta={"baseline": (base.since, base.until), "current": (cur.since, cur.until)},
        keep=_keep(by, "feature", "jsd", "psi", "verdict"),
    )


def _window(value: str | tuple, param: str) -> tuple[datetime | None, datetime | None]:
    """``"A..B"``, or a (since, until) pair of the forms ``since``/``until`` take."""
    if isinstance(value, tuple):
        window = SpanFilter.of(value[0], value[1])
        return window.since, window.until
    return parse_window(value, param=param)


def _span_text(flt: SpanFilter) -> str:
    from datetime import time, timedelta

    assert flt.since is not None and flt.until is not None
    if flt.since.time() == flt.until.time() == time(0):
        return f"{flt.since:%Y-%m-%d}..{flt.until - timedelta(days=1):%Y-%m-%d}"
    return f"{flt.since:%Y-%m-%d %H:%M}..{flt.until:%Y-%m-%d %H:%M}"


INCOMPLETE = ("length", "tool_calls", "tool_call", "content_filter", "max_tokens")


def agents(con: Any, flt: SpanFilter, by: Grouping, *, incomplete: str | Sequence[str] = INCOMPLETE) -> Result:
    """Per agent: runs, completion rate, steps, tool calls, tool error rate. A run is failed when its
    agent span errs, abandoned when its last step is a tool call with no answer after it or its final
    LLM call stopped for one of the ``incomplete`` finish reasons, completed otherwise."""
    reasons = tuple(_names(incomplete, "incomplete") or ())
    res = Result(agents_mod.agents(con, flt, by or Grouping.of("agent_name"), reasons), "agents", title="Agents")
    return _with_empty_note(res, con, flt, "agent runs")


def loops(
    con: Any,
    flt: SpanFilter,
    by: Grouping,
    *,
    max_steps: int = 25,
    max_duration: float = 300.0,
    min_repeats: int = 3,
    window: int = 10,
) -> Result:
    """Every trace that loops (exact repeats, A→B→A→B cycles, repeats within a window of tool calls),
    with the evidence and the wasted cost; runaways (over ``max_steps`` or ``max_duration`` seconds) as
    ``["runaways"]``."""
    positive_int(max_steps, "max_steps")
    positive_int(window, "window")
    if positive_int(min_repeats, "min_repeats") < 2:
        raise QueryError("a loop repeats at least twice", param="min_repeats")
    if max_duration <= 0:
        raise QueryError(f"{max_duration!r}: give seconds > 0", param="max_duration")
    found = Result(
        agents_mod.loops(con, flt, min_repeats, window),
        "loops",
        title="Loops",
        keep=("trace_id", "kind", "repeats", "pattern", "wasted_cost_usd"),
    )
    found.others["runaways"] = Result(
        agents_mod.runaways(con, flt, max_steps, max_duration),
        "runaways",
        title=f"Runaways: > {max_steps} steps or > {max_duration:g} s",
        keep=("trace_id", "steps", "tool_calls", "duration_s", "cost_usd"),
    )
    if found.num_rows == 0 and found.others["runaways"].num_rows == 0:
        runs = con.execute(
            f"SELECT count(DISTINCT trace_id) FROM spans WHERE span_type IN ('agent', 'tool') AND {flt.sql()[0]}",
            flt.sql()[1],
        ).fetchall()[0][0]
        found.notes.append(
            f"no loops or runaways in {runs:,} agent runs" if runs else explain_empty(con, flt, "agent runs")
        )
    return found


def tools(con: Any, flt: SpanFilter, by: Grouping) -> Result:
    """Per tool: calls, error rate, latency, retries; the model's tool calls checked against the tools
    offered as ``["requested_by_model"]``."""
    res = Result(agents_mod.tools(con, flt, by or Grouping.of("tool_name")), "tools", title="Tools executed")
    res.others["requested_by_model"] = Result(
        agents_mod.tool_call_checks(con, flt),
        "requested_by_model",
        title="Tool calls requested by the model, checked against the tools offered",
    )
    return _with_empty_note(res, con, flt, "tool calls")


def safety(
    con: Any, flt: SpanFilter, by: Grouping, *, show: str | None = None, kind: str | None = None, limit: int = 20
) -> Result:
    """Injection attempts, PII leaks, toxicity, policy hits and guardrails, with rates; ``show="findings"``:
    the latest ``limit`` findings (of ``kind``) with masked excerpts. Run a scan first."""
    if show not in (None, "findings"):
        raise QueryError(f"{show!r}: show takes 'findings'", param="show")
    positive_int(limit, "limit")
    if show == "findings":
        res = Result(safety_mod.findings(con, flt, kind, limit), "findings", title="Findings (masked)")
        if res.num_rows == 0:
            scanned = con.execute("SELECT count(*) FROM scanned_spans").fetchall()[0][0]
            res.notes.append(
                "no findings"
                + (f" among {scanned:,} scanned spans" if scanned else ": nothing scanned yet (run `llmscope scan`)")
            )
        return res
    res = Result(safety_mod.safety(con, flt, by), "safety", title="Safety")
    rows = res.to_dicts()
    if rows and sum(r.get("llm_calls_not_scanned") or 0 for r in rows):
        res.notes.append("some LLM calls are not scanned yet: run `llmscope scan`")
    return _with_empty_note(res, con, flt, "LLM calls")


def quality(
    con: Any, flt: SpanFilter, by: Grouping, *, judge: str | None = None, hallucination_below: float | None = None
) -> Result:
    """Mean score, pass rate and hallucination rate per metric and judge. Run an eval first. A
    hallucination is a groundedness score below ``hallucination_below`` (default: ``[eval]
    hallucination_threshold`` of the config, 0.8), whatever pass threshold the judge used."""
    below = _threshold(hallucination_below)
    res = Result(
        quality_mod.quality(con, flt, by, judge, below),
        "quality",
        title=f"Quality (hallucination: groundedness < {below:g})",
        meta={"hallucination_below": below},
    )
    for r in res.to_dicts():  # judge errors are neither scores nor failures: say so where nothing was scored
        if not r["scored"] and r["errors"]:
            res.notes.append(
                f"{r['metric']} by {r['judge']}: no scores, {r['errors']:,} judge errors "
                "(the pass rate is unknown, not 0 %; `llmscope eval` shows the errors)"
            )
    if res.num_rows == 0:
        n = con.execute("SELECT count(*) FROM evals").fetchall()[0][0]
        res.notes.append(
            "no scores match"
            + (f" ({n:,} scores in the store)" if n else ": nothing evaluated yet (run `llmscope eval`)")
        )
    return res


def _threshold(value: float | None) -> float:
    if value is None:
        return HALLUCINATION_THRESHOLD
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
        raise QueryError(f"{value!r}: give a groundedness score between 0 and 1", param="hallucination_below")
    return float(value)


def summary(con: Any, flt: SpanFilter, by: Grouping, *, hallucination_below: float | None = None) -> Result:
    """What is wrong first, then every signal: ``["problems"]`` is what the default alert rules, cost
    anomalies, loops, findings and drift flag over the period (each with a command to drill in); the
    main table has one row per signal with its unit, value, the previous period's value, the change
    and a ``trend`` (one value per day) for a sparkline. The period is ``since``/``until``, else the
    last 7 days of data; the previous period has the same length and ends where it starts."""
    if by:
        raise QueryError("the summary is not grouped; use a report (latency, cost, …) with by", param="by")
    below = _threshold(hallucination_below)
    p = summary_mod.period(con, flt)
    rows = summary_mod.signals(con, flt, p, below)
    title = f"llmscope summary: {p.label}, against the {_length(p)} before" if p else "llmscope summary"
    res = of_rows(
        rows, "summary", title=title, keep=("signal", "value", "change", "trend", "note"),
        meta={"hallucination_below": below, "period": (p.current.since, p.current.until) if p else None,
              "previous": (p.previous.since, p.previous.until) if p else None},
    )  # fmt: skip
    found = summary_mod.problems(con, flt, p)
    res.others["problems"] = of_rows(
        found, "problems", title=f"Problems ({len(found)})" if found else "Problems",
        keep=("severity", "problem", "where", "command"),
    )  # fmt: skip
    calls = next((r["value"] for r in rows if r["key"] == "llm_calls"), None)
    if not calls:
        res.notes.append(explain_empty(con, p.current if p else flt, "LLM calls", "llm"))
    return res


def _length(p: summary_mod.Period) -> str:
    days = p.length / timedelta(days=1)
    if days == int(days):
        return f"{int(days)} day{'s' if days != 1 else ''}"
    hours = p.length / timedelta(hours=1)
    return f"{hours:g} hours" if hours >= 1 else f"{p.length.total_seconds() / 60:g} minutes"


def stats(con: Any, flt: SpanFilter, by: Grouping, *, coverage_limit: int = 30) -> Result:
    """What is in the store: totals, models, dialects, and GenAI attribute keys no column reads."""
    if by or not flt.empty:
        raise QueryError("stats describe the whole store (no by, since, until or where)", param="by" if by else "where")
    positive_int(coverage_limit, "coverage_limit")
    res = of_rows([stats_mod.totals(con)], "totals", title="Store")
    res.others["models"] = Result(
        stats_mod.models(con),
        "models",
        title="Models (unpriced = calls with usage but no price: add them with --prices)",
    )
    _add_reported_cost(res, con, flt)
    res.others["dialects"] = Result(stats_mod.dialect_mix(con), "dialects", title="Dialects seen")
    res.others["unmapped_keys"] = Result(
        stats_mod.unmapped_keys(con, coverage_limit),
        "unmapped_keys",
        title="Mapping coverage: GenAI keys present but mapped to no column",
    )
    return res


def html(
    con: Any,
    flt: SpanFilter,
    by: Grouping,
    *,
    content: bool = False,
    title: str = "llmscope report",
    store_name: str | None = None,
) -> Result:
    """Every report as one self-contained HTML page (``result.meta["html"]``; the table holds its size).
    Aggregates and masked excerpts only, unless ``content=True``. Needs the ``html`` extra."""
    from .render.html import html_report

    page = html_report(con, flt, by.text or None, content, title=title, store_name=store_name)
    return Result(pa.table({"bytes": [len(page.encode("utf-8"))]}), "html", title=title, meta={"html": page})


# --------------------------------------------------------------------------- registry


@dataclass(frozen=True)
class ReportKind:
    name: str
    fn: Callable[..., Result]
    summary: str

    def options(self) -> list[str]:
        return [p for p in inspect.signature(self.fn).parameters if p not in ("con", "flt", "by")]


REPORTS: dict[str, ReportKind] = {
    k.name: k
    for k in (
        ReportKind("summary", summary, "one screen: performance, quality, cost, safety, agentic"),
        ReportKind("latency", latency, "P50/P95/P99, TTFT, time per output token, throughput, error rate"),
        ReportKind("errors", errors, "rate limits vs timeouts vs 5xx vs 4xx, top messages"),
        ReportKind("cost", cost, "tokens and dollars per group, per request, per session; anomalies"),
        ReportKind("drift", drift, "Jensen-Shannon distance and PSI between two windows"),
        ReportKind("agents", agents, "runs, completion rate, steps, tool calls, tool error rate"),
        ReportKind("loops", loops, "exact repeats, cycles, runaways, with wasted cost"),
        ReportKind("tools", tools, "calls, errors, latency, retries; tool calls vs offered tools"),
        ReportKind("safety", safety, "injection, PII leaks, toxicity, policy, guardrails; findings"),
        ReportKind("quality", quality, "mean score, pass rate, hallucination rate"),
        ReportKind("stats", stats, "what the store holds: totals, models, dialects, mapping coverage"),
        ReportKind("html", html, "every report as one self-contained HTML page"),
    )
}


def run(con: Any, kind: str, flt: SpanFilter, by: Grouping, options: dict[str, Any]) -> Result:
    """Run report ``kind`` with its own ``options`` (checked against its signature)."""
    try:
        report = REPORTS[kind]
    except KeyError:
        raise QueryError(f"{kind!r} is not a report; use one of {', '.join(REPORTS)}", param="kind") from None
    allowed = report.options()
    unknown = [k for k in options if k not in allowed]
    if unknown:
        raise QueryError(
            f"{', '.join(unknown)}: not an option of the {kind} report; it takes "
            f"{', '.join(['by', 'since', 'until', 'where', *allowed])}",
            param=unknown[0],
        )
    return report.fn(con, flt, by, **options)


__all__ = ["REPORTS", "SPAN_TYPES", "ReportKind", "explain_empty", "run"]
