"""``llmscope report KIND``: each kind one command over ``Store.report(KIND, …)``, rendered.

Reports with several tables print them all as tables and Markdown; ``--format json`` and ``csv``
print one table (the first, or ``--table NAME``): JSON is always an array of row objects.
"""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from ..render import tables as render
from .common import (
    ByOpt,
    FormatOpt,
    SinceOpt,
    TableOpt,
    UntilOpt,
    WhereOpt,
    check_format,
    note,
    open_store,
    show,
    typer_app,
)

report_app = typer_app(
    help="Reports: summary, latency, errors, cost, drift, agents, loops, tools, safety, quality, html. "
    "Each takes --by, --since/--until, --where and --format."
)

SpanTypeOpt = Annotated[str, typer.Option(help="Which spans: llm, embedding, retriever, tool, agent, workflow, other.")]


@report_app.command("latency")
def report_latency(
    by: ByOpt = None,
    since: SinceOpt = None,
    until: UntilOpt = None,
    where: WhereOpt = None,
    span_type: SpanTypeOpt = "llm",
    every: Annotated[Optional[str], typer.Option(help="Bucket by time (1h, 1d) and chart P99 and error rate.")] = None,
    histogram: Annotated[
        bool,
        typer.Option(
            "--histogram", help="How calls spread over latency buckets (10 ms … 500 s), per group, P50/P95/P99 marked."
        ),
    ] = False,
    ttft: Annotated[
        bool, typer.Option("--ttft", help="With --histogram: of time to first token instead of duration.")
    ] = False,
    fmt: FormatOpt = "table",
) -> None:
    """P50/P95/P99/max latency, time to first token, time per output token, throughput and error
    rate of LLM calls. Percentiles are exact (quantile_cont over every call).

        llmscope report latency --by model

        llmscope report latency --by feature --every 1h --since 2025-11-12 --until 2025-11-13

        llmscope report latency --by model --histogram
    """
    check_format(fmt)
    res = open_store().report(
        "latency", by=by, since=since, until=until, where=where, span_type=span_type, every=every,
        histogram=histogram, ttft=ttft,
    )  # fmt: skip
    if fmt == "table" and res.num_rows and res.name == "latency_histogram":
        from ..render.charts import histogram_view

        summary = res["summary"].to_dicts()
        if ttft:  # mark the TTFT percentiles instead
            summary = [
                {**r, "p50_ms": r["ttft_p50_ms"], "p95_ms": r["ttft_p95_ms"], "p99_ms": r["ttft_p99_ms"]}
                for r in summary
            ]
        groups = [c for c in res.columns if c not in ("bucket", "lo_ms", "hi_ms", "requests", "share")]
        out = render.console()
        label = "time to first token" if ttft else "latency"
        out.print(histogram_view(res.to_dicts(), summary, groups, label=label, console_width=out.width))
        return
    if res.name == "latency_histogram":
        res.others.clear()
    if fmt == "table" and res.num_rows and res.name == "latency_series":
        from ..render.charts import series_chart

        out = render.console()
        out.print(series_chart(res.to_dicts(), group_cols=list(res.meta["groups"]), width=out.width))
    show(res, fmt)


@report_app.command("errors")
def report_errors(
    by: ByOpt = None,
    since: SinceOpt = None,
    until: UntilOpt = None,
    where: WhereOpt = None,
    span_type: SpanTypeOpt = "llm",
    messages: Annotated[int, typer.Option(help="How many top error messages to list (0: none).")] = 10,
    fmt: FormatOpt = "table",
    table: TableOpt = None,
) -> None:
    """Error rate and counts split by class — rate_limit (429), timeout, server_error (5xx),
    client_error (4xx), auth_error — by any column, and the most frequent error messages
    (`--table top_messages` for JSON or CSV).

        llmscope report errors --by provider,error_type

        llmscope report errors --table top_messages --format json
    """
    res = open_store().report(
        "errors", by=by, since=since, until=until, where=where, span_type=span_type, messages=messages
    )
    show(res, fmt, table)


@report_app.command("cost")
def report_cost(
    by: ByOpt = None,
    since: SinceOpt = None,
    until: UntilOpt = None,
    where: WhereOpt = None,
    top: Annotated[int, typer.Option(help="Also list the N most expensive requests (traces) with their ids.")] = 0,
    anomalies: Annotated[
        bool, typer.Option("--anomalies", help="Cost per call per bucket against its rolling baseline; breaks marked.")
    ] = False,
    every: Annotated[str, typer.Option(help="Bucket for --anomalies (1d, 1h).")] = "1d",
    fmt: FormatOpt = "table",
    table: TableOpt = None,
) -> None:
    """Tokens and dollars per group: sum, per call, per request (trace), per session, share of
    total; P50/P95/P99 tokens per call; the share of spend in the costliest 1% of calls; unpriced
    calls counted, never priced at zero.

        llmscope report cost --by feature

        llmscope report cost --by prompt_version --top 20

        llmscope report cost --top 10 --table top_requests --format json

        llmscope report cost --by service_name --anomalies
    """
    check_format(fmt)
    res = open_store().report(
        "cost", by=by, since=since, until=until, where=where, top=top, anomalies=anomalies, every=every
    )
    if fmt == "table" and res.name == "cost_anomalies":
        from ..result import of_rows

        marked = of_rows(
            [{**r, "anomaly": "▲ BREAK" if r["anomaly"] else ""} for r in res.to_dicts()],
            res.name,
            title=res.title,
            keep=res.keep,
            notes=res.notes,
        )
        show(marked, fmt)
        return
    show(res, fmt, table)


def _drift_help() -> str:
    from ..reports import DRIFT_FORMULAS as FORMULAS_HELP

    lines = "\n".join(f"    {line}" for line in FORMULAS_HELP.splitlines())
    return (
        "Drift between a baseline and a current window, per group: Jensen-Shannon distance and PSI on "
        "input/output tokens, latency, the model / feature / finish_reason / tool mix, and prompt content.\n\n"
        "    llmscope report drift                       # the last 7 days of data against the 7 before\n\n"
        "    llmscope report drift --baseline 2025-11-01..2025-11-07 --current 2025-11-08..2025-11-14 "
        "--by service_name\n\n"
        "How it is computed:\n\n" + lines
    )


@report_app.command("drift", help=_drift_help())
def report_drift(
    baseline: Annotated[
        Optional[str],
        typer.Option(
            help="Baseline window START..END (dates include the end day), e.g. 2025-11-01..2025-11-07, or 14d..7d. "
            "Default: the --days before the current window."
        ),
    ] = None,
    current: Annotated[
        Optional[str],
        typer.Option(
            help="Current window START..END. Default: the last --days days of data (up to the newest span, not today)."
        ),
    ] = None,
    days: Annotated[int, typer.Option(help="Length of each default window, in days.")] = 7,
    by: ByOpt = None,
    where: WhereOpt = None,
    span_type: SpanTypeOpt = "llm",
    features: Annotated[
        Optional[str],
        typer.Option(
            help="Comma-separated subset of: input_tokens, output_tokens, duration_ms, request_model, feature, "
            "finish_reason, tool_name, prompt_terms."
        ),
    ] = None,
    fmt: FormatOpt = "table",
) -> None:
    res = open_store().report(
        "drift", by=by, where=where, baseline=baseline, current=current, days=days, span_type=span_type,
        features=features,
    )  # fmt: skip
    show(res, fmt)


@report_app.command("agents")
def report_agents(
    by: Annotated[
        str, typer.Option("--by", help="Group agent spans by a column (agent_name by default).")
    ] = "agent_name",
    since: SinceOpt = None,
    until: UntilOpt = None,
    where: WhereOpt = None,
    incomplete: Annotated[
        str, typer.Option(help="Final finish reasons that mean the run did not finish (comma-separated).")
    ] = "length,tool_calls,tool_call,content_filter,max_tokens",
    fmt: FormatOpt = "table",
) -> None:
    """Per agent: runs, completion rate, steps, tool calls, tool error rate.

    A run is **failed** when its agent span errs, **abandoned** when its last step is a tool call with
    no answer after it or its final LLM call stopped for length / tool_calls / content_filter, and
    **completed** otherwise. See `llmscope report loops` for loops and runaways.

        llmscope report agents

        llmscope report agents --by service_name
    """
    show(open_store().report("agents", by=by, since=since, until=until, where=where, incomplete=incomplete), fmt)


@report_app.command("loops")
def report_loops(
    max_steps: Annotated[int, typer.Option(help="A run with more LLM+tool steps than this is a runaway.")] = 25,
    max_duration: Annotated[float, typer.Option(help="A run longer than this many seconds is a runaway.")] = 300.0,
    min_repeats: Annotated[int, typer.Option(help="How many times a call or a cycle must repeat in a row.")] = 3,
    window: Annotated[
        int, typer.Option(help="Also flag a call seen --min-repeats times within this many consecutive tool calls.")
    ] = 10,
    since: SinceOpt = None,
    until: UntilOpt = None,
    where: WhereOpt = None,
    fmt: FormatOpt = "table",
    table: TableOpt = None,
) -> None:
    """Every trace that loops or runs away, with the evidence and the wasted cost.

    Findings: the same tool called with the same (normalised) arguments N times in a row
    (exact_repeat), a repeating cycle of 2-4 tool calls such as A→B→A→B found on the ordered call
    sequence (cycle), the same call N times within --window consecutive tool calls
    (repeated_in_window), and runs over --max-steps or --max-duration (runaway; `--table runaways`
    for JSON or CSV). Wasted tokens and cost are those of the LLM calls after the first round.

        llmscope report loops --max-steps 25

        llmscope report loops --table runaways --format json
    """
    res = open_store().report(
        "loops", since=since, until=until, where=where, max_steps=max_steps, max_duration=max_duration,
        min_repeats=min_repeats, window=window,
    )  # fmt: skip
    show(res, fmt, table, shorten_ids=True)


@report_app.command("tools")
def report_tools(
    by: Annotated[str, typer.Option("--by", help="Group tool calls by a column (tool_name by default).")] = "tool_name",
    since: SinceOpt = None,
    until: UntilOpt = None,
    where: WhereOpt = None,
    fmt: FormatOpt = "table",
    table: TableOpt = None,
) -> None:
    """Per tool: calls, error rate, latency, retries, and tool calls checked against the tools offered.

    retries_same_input counts calls repeated with the same input right after themselves
    (retries_after_error: after an error). Where LLM calls record the tools they offered, the
    model's tool calls are checked too (`--table requested_by_model`): not_offered,
    invalid_arguments, and schema_failures (a required parameter missing, or an undeclared one when
    additionalProperties is false).

        llmscope report tools

        llmscope report tools --table requested_by_model --format json
    """
    show(open_store().report("tools", by=by, since=since, until=until, where=where), fmt, table)


@report_app.command("safety")
def report_safety(
    by: ByOpt = None,
    since: SinceOpt = None,
    until: UntilOpt = None,
    where: WhereOpt = None,
    show_: Annotated[
        Optional[str], typer.Option("--show", help="`findings`: list the latest findings with masked excerpts.")
    ] = None,
    kind: Annotated[
        Optional[str], typer.Option(help="With --show findings: only this kind (pii_leak, injection, …).")
    ] = None,
    limit: Annotated[int, typer.Option(help="With --show findings: how many.")] = 20,
    fmt: FormatOpt = "table",
) -> None:
    """Injection attempts, PII leaks, toxicity, policy hits, guardrails, with rates.

    Run `llmscope scan` first; excerpts are masked, never raw.

        llmscope report safety --by feature

        llmscope report safety --show findings --limit 20
    """
    res = open_store().report(
        "safety", by=by, since=since, until=until, where=where, show=show_, kind=kind, limit=limit
    )
    show(res, fmt)


@report_app.command("quality")
def report_quality(
    by: ByOpt = None,
    since: SinceOpt = None,
    until: UntilOpt = None,
    where: WhereOpt = None,
    judge: Annotated[Optional[str], typer.Option(help="Only scores from this judge.")] = None,
    fmt: FormatOpt = "table",
) -> None:
    """Mean score, pass rate and hallucination rate per metric and judge, by any column.
    Run `llmscope eval` first.

        llmscope report quality --by prompt_version
    """
    show(open_store().report("quality", by=by, since=since, until=until, where=where, judge=judge), fmt)


@report_app.command("summary")
def report_summary(
    since: SinceOpt = None,
    until: UntilOpt = None,
    where: WhereOpt = None,
    fmt: FormatOpt = "table",
    table: TableOpt = None,
) -> None:
    """What is wrong first, then every signal against the previous period of the same length.

    The problems are what the default alert rules (`llmscope check --example-rules`) would flag over
    the period: provider error rate, slow calls, cost per call, prompt injection, PII leaks, agent
    loops and drift, each with the command that drills in. Then each signal of the five families
    (performance, quality, cost, safety, agentic) with its value, the change (↑/↓ %) and a
    sparkline per day where a trend matters. The period is --since/--until, else the last 7 days
    of data. Families without data yet (no evals, no scan) say so. `--format json` prints the
    signals; `--table problems` the problems.

        llmscope report summary

        llmscope report summary --since 2025-11-12 --until 2025-11-13

        llmscope report summary --table problems --format json
    """
    check_format(fmt)
    res = open_store().report("summary", since=since, until=until, where=where)
    if fmt not in ("table", "markdown"):
        show(res, fmt, table)
        return
    from ..render.charts import change_text, problems_view, sparkline
    from ..result import of_rows

    problems = res["problems"]
    if table in (None, "problems"):
        if fmt == "table":
            out = render.console()
            out.print(problems_view(problems.to_dicts(), f"{res.title}\n\n{problems.title}", out.width))
        else:
            show(of_rows(problems.to_dicts(), "problems", title=problems.title), fmt)
    if table == "problems":
        return
    rows = [
        {
            "family": r["family"],
            "signal": r["signal"],
            "value": _signal_value(r["value"], r["key"], r["unit"]),
            "previous": _signal_value(r["previous"], r["key"], r["unit"]),
            "change": change_text(r["value"], r["previous"]),
            "trend": sparkline(r["trend"]),
            "note": r["note"],
        }
        for r in res.to_dicts()
    ]
    show(of_rows(rows, res.name, title="Signals", keep=res.keep, notes=res.notes), fmt)


_COUNTS = ("calls", "runs", "tokens", "findings", "LLM + tool steps")


def _signal_value(v, key: str, unit: str) -> str:
    if v is None:
        return "—"
    if unit in _COUNTS:
        return f"{int(v):,}"
    if unit == "ms":
        return f"{v:,.0f} ms"
    return render.fmt_value(float(v), key)


def register(app: typer.Typer) -> None:
    from . import report_html

    report_html.register(report_app)
    app.add_typer(report_app, name="report")


__all__ = ["register", "report_app", "note"]
