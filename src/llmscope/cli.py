"""The ``llmscope`` command: a thin layer that parses options, calls the library, renders.

Exit codes: 0 ok; 1 a check or gate failed; 2 usage or input error (one-line reason on stderr).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated, Optional

import duckdb
import typer
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeElapsedColumn

from . import render
from .config import ConfigError, load_config
from .normalize import Mapping
from .store import query_arrow

app = typer.Typer(
    name="llmscope",
    help="Find the silent failures of LLM applications in OpenTelemetry traces.\n\n"
    "Start with `llmscope ingest sample_traces/` then `llmscope report summary`.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode="markdown",
    context_settings={"help_option_names": ["-h", "--help"]},
)
trace_app = typer.Typer(help="List traces and show one as a tree with a timing waterfall.", no_args_is_help=True)
export_app = typer.Typer(help="Export the store for other engines.", no_args_is_help=True)
report_app = typer.Typer(
    help="Reports: summary, latency, errors, cost, drift, agents, loops, tools, safety, quality. "
    "Each takes --by, --since/--until, --where and --format.",
    no_args_is_help=True,
)
app.add_typer(report_app, name="report")
eval_app = typer.Typer(
    invoke_without_command=True,
    help=(
        "Score LLM calls (or a dataset) and store the scores in `evals`: offline scorers by default (no network, "
        "no key), or an LLM judge over any OpenAI-compatible endpoint.\n\n"
        "    llmscope eval\n\n"
        "    llmscope eval --judge small-model --metrics groundedness,answer_relevancy --sample 0.2 "
        "--always \"feature in ('billing','medical')\" --budget-usd 2\n\n"
        "    llmscope eval --judge openai:gpt-4o-mini --dataset regression.jsonl --fail-under groundedness=0.8\n\n"
        "Judge metrics: groundedness (claims checked against the retrieved context; score = supported/total), "
        "answer_relevancy, context_relevance, context_recall (needs a reference), coherence, and rubrics from "
        "[eval.rubrics.NAME]; judge-backed safety checks injection_check and toxicity_check. Builtin metrics: "
        "groundedness_lexical, format, exact_match, token_f1, rouge_l, bleu."
    ),
)
app.add_typer(eval_app, name="eval")
app.add_typer(trace_app, name="trace")
app.add_typer(export_app, name="export")


class State:
    db: Optional[str] = None
    config: Optional[str] = None


state = State()

FormatOpt = Annotated[str, typer.Option("--format", "-f", help="table | json | csv | markdown")]


def fail(msg: str, code: int = 2) -> None:
    render.console(stderr=True).print(f"[bold red]error:[/bold red] {render.escape(msg)}")
    raise typer.Exit(code)


def check_format(fmt: str) -> str:
    if fmt not in render.FORMATS:
        fail(f"--format must be one of {', '.join(render.FORMATS)}, not {fmt!r}")
    return fmt


@app.callback()
def main_options(
    db: Annotated[
        Optional[str],
        typer.Option("--db", envvar="LLMSCOPE_DB", help="Store file (default ./llmscope.duckdb; env LLMSCOPE_DB)."),
    ] = None,
    config: Annotated[
        Optional[str], typer.Option("--config", help="Settings file (default ./llmscope.toml if present).")
    ] = None,
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            is_eager=True,
            callback=_print_version,
            help="Print the version and which C accelerators are in use.",
        ),
    ] = False,
) -> None:
    state.db = db
    state.config = config


def _print_version(value: bool) -> None:
    if value:
        from importlib.metadata import version as dist_version

        from .native import report

        render.console().print(f"llmscope {dist_version('llmscope')}; {render.escape(report())}", highlight=False)
        raise typer.Exit()


def _ro():
    from .store import StoreError, connect

    try:
        return connect(state.db, read_only=True)
    except StoreError as e:
        fail(str(e))


# --------------------------------------------------------------------------- ingest


@app.command()
def ingest(
    paths: Annotated[list[str], typer.Argument(help="Files or directories (recursive); `-` reads stdin.")],
    strict: Annotated[
        bool, typer.Option(help="Abort on the first bad record (exit 2); the store is left untouched.")
    ] = False,
    prices: Annotated[
        Optional[Path], typer.Option(help="User price file (TOML) for models the price table lacks.")
    ] = None,
    workers: Annotated[Optional[int], typer.Option(help="Decoder processes (default: one per core).")] = None,
    user_key: Annotated[Optional[list[str]], typer.Option(help="Attribute key meaning user id (tried first).")] = None,
    session_key: Annotated[Optional[list[str]], typer.Option(help="Attribute key meaning session id.")] = None,
    feature_key: Annotated[Optional[list[str]], typer.Option(help="Attribute key meaning feature.")] = None,
    prompt_version_key: Annotated[
        Optional[list[str]], typer.Option(help="Attribute key meaning prompt version.")
    ] = None,
    redact: Annotated[
        Optional[str],
        typer.Option(
            help="`pii`: store typed placeholders (<EMAIL_3fa91c>: the same value reads the same within its trace) instead of PII values."
        ),
    ] = None,
    hash_content: Annotated[
        bool,
        typer.Option(
            "--hash-content",
            help="Store only keyed HMAC hashes of prompts and responses (key from $LLMSCOPE_HASH_KEY).",
        ),
    ] = False,
    full: Annotated[
        bool,
        typer.Option(
            "--full",
            help="Read every file whole, also JSON-lines files read before (spans already stored are still skipped).",
        ),
    ] = False,
    follow: Annotated[
        Optional[str],
        typer.Option(
            help="Keep watching: every DURATION (10s, 1m) ingest what is new in the files (and new files in the directories) until Ctrl-C or SIGTERM."
        ),
    ] = None,
    fmt: FormatOpt = "table",
) -> None:
    """Load OpenTelemetry traces (and GenAI log events) into the store.

    Reads OTLP JSON lines as the Collector's file exporter writes them, a single OTLP JSON
    document, flat span JSON lines, any of them gzipped, and OTLP protobuf. Re-running adds no
    duplicates; one ingest is one transaction. A JSON-lines file read before is read on from
    where the last ingest stopped (run it every minute on a file the Collector appends to).

    Examples:

        llmscope ingest sample_traces/
        llmscope ingest traces.jsonl logs.jsonl --prices prices.toml
        llmscope ingest traces.jsonl --redact pii
        llmscope ingest /var/log/otel/traces.jsonl --follow 10s
        otelcol-export | llmscope ingest -
    """
    from .ingest import InputError, StrictAbort
    from .ingest import ingest as run_ingest
    from .pricing import PriceFileError, load_price_file
    from .store import StoreError

    check_format(fmt)
    try:
        cfg = load_config(state.config)
        ctx = dict(cfg.context_keys)
        for col, keys in (
            ("user_id", user_key),
            ("session_id", session_key),
            ("feature", feature_key),
            ("prompt_version", prompt_version_key),
        ):
            if keys:
                ctx[col] = list(keys) + ctx.get(col, [])
        from .privacy import Privacy

        mapping = Mapping(ctx, privacy=Privacy.from_settings(redact, hash_content, cfg.raw))
        user_prices = load_price_file(prices) if prices else None
    except (ConfigError, PriceFileError, ValueError) as e:
        fail(str(e))

    err = render.console(stderr=True)
    show_bar = err.is_terminal and fmt == "table"
    bar = Progress(
        TextColumn("[bold]ingest"),
        BarColumn(),
        DownloadColumn(),
        TextColumn("{task.fields[files]} files · {task.fields[spans]:,} spans · {task.fields[rate]:,.0f} spans/s"),
        TimeElapsedColumn(),
        console=err,
        transient=True,
        disable=not show_bar,
    )
    import time

    t0 = time.perf_counter()
    with bar:
        task = bar.add_task("ingest", total=None, files="0", spans=0, rate=0.0)

        def on_progress(p):
            dt = max(time.perf_counter() - t0, 1e-6)
            bar.update(
                task,
                total=p.bytes_total or None,
                completed=p.bytes_done,
                files=f"{p.files_done}/{p.files_total}",
                spans=p.spans,
                rate=p.spans / dt,
            )

        try:
            rep = run_ingest(
                paths,
                state.db,
                mapping=mapping,
                strict=strict,
                workers=workers,
                user_prices=user_prices,
                on_progress=on_progress,
                full=full,
            )
        except StrictAbort as e:
            src, line, reason = e.example
            fail(f"{src}:{line}: {reason} (--strict: nothing was written)")
        except (InputError, StoreError) as e:
            fail(str(e))
    _ingest_summary(rep, fmt, err)
    if follow:
        _follow(
            paths,
            follow,
            lambda: run_ingest(
                paths, state.db, mapping=mapping, strict=strict, workers=workers, user_prices=user_prices
            ),
            fmt,
            err,
        )


def _follow(paths: list[str], every: str, ingest_new, fmt: str, err) -> None:
    """Ingest what is new every ``every`` until Ctrl-C or SIGTERM; the store is free between rounds."""
    import signal
    import threading
    from datetime import datetime

    from .analyses.filters import FilterError, parse_duration
    from .ingest import InputError, StrictAbort
    from .store import StoreError

    if "-" in paths:
        fail("--follow watches files and directories, not standard input")
    try:
        interval = parse_duration(every).total_seconds()
    except FilterError as e:
        fail(f"--follow: {e}")
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    err.print(f"[dim]following {', '.join(paths)} every {every}; Ctrl-C to stop[/dim]")
    try:
        while not stop.wait(interval):
            try:
                rep = ingest_new()
            except StrictAbort as e:
                src, line, reason = e.example
                fail(f"{src}:{line}: {reason} (--strict: nothing of this round was written)")
            except StoreError as e:  # the store is busy (a long report): try again next round
                err.print(f"[yellow]{datetime.now():%H:%M:%S} store busy, retrying: {render.escape(str(e))}[/yellow]")
                continue
            except InputError as e:  # a file went away (rotation): next round sees the new one
                err.print(f"[yellow]{datetime.now():%H:%M:%S} {render.escape(str(e))}[/yellow]")
                continue
            if rep.spans_read or rep.bad_records or rep.log_messages_added:
                if fmt == "json":
                    _ingest_summary(rep, fmt, err)
                else:
                    render.console().print(
                        f"{datetime.now():%H:%M:%S} +{rep.spans_added:,} spans "
                        f"({rep.duplicates:,} duplicates, {rep.bad_records:,} bad records, "
                        f"{rep.log_messages_added:,} log messages)"
                    )
                    for src, line, reason in rep.bad_examples[:5]:
                        err.print(f"[yellow]skipped[/yellow] {render.escape(src)}:{line}: {render.escape(reason)}")
    except KeyboardInterrupt:
        pass


def _ingest_summary(rep, fmt: str, err) -> None:
    summary = {
        "files": rep.files,
        "spans_read": rep.spans_read,
        "spans_added": rep.spans_added,
        "duplicates": rep.duplicates,
        "bad_records": rep.bad_records,
        "log_messages_added": rep.log_messages_added,
        "spans_given_log_content": rep.spans_given_log_content,
        "unpriced_calls": rep.unpriced,
        "seconds": round(rep.elapsed_s, 3),
        "spans_per_s": round(rep.spans_per_s),
        "bad_examples": [{"source": s, "line": n, "reason": r} for s, n, r in rep.bad_examples],
        "notes": rep.notes,
    }
    if fmt == "json":
        sys.stdout.write(render.to_json(summary) + "\n")
        return
    if fmt in ("csv", "markdown"):
        render.emit([{k: v for k, v in summary.items() if k not in ("bad_examples", "notes")}], fmt)
        return
    for src, line, reason in rep.bad_examples[:5]:
        err.print(f"[yellow]skipped[/yellow] {render.escape(src)}:{line}: {render.escape(reason)}")
    if rep.bad_records > 5:
        err.print(f"[yellow]… and {rep.bad_records - 5} more bad records[/yellow] (--format json lists up to 20)")
    for note in rep.notes[:5]:
        err.print(f"[dim]note: {render.escape(note)}[/dim]")
    line = (
        f"ingested {rep.spans_added:,} new spans from {rep.files} file(s) in {rep.elapsed_s:.2f}s "
        f"({rep.spans_per_s:,.0f} spans/s); {rep.duplicates:,} duplicates ignored, "
        f"{rep.bad_records:,} bad records skipped"
    )
    if rep.log_messages_added:
        line += f"; {rep.log_messages_added:,} log messages ({rep.spans_given_log_content:,} spans got content)"
    if rep.unpriced:
        line += f"; {rep.unpriced:,} LLM calls unpriced (see `llmscope stats`)"
    render.console().print(line)


# --------------------------------------------------------------------------- stats


@app.command()
def stats(
    fmt: FormatOpt = "table",
    coverage_limit: Annotated[int, typer.Option(help="Rows of the unmapped-keys report.")] = 30,
) -> None:
    """What is in the store: spans, traces, models, dialects, unpriced calls, mapping coverage.

    The mapping-coverage report lists GenAI attribute keys present in the data that no column reads."""
    from .analyses import stats as st

    check_format(fmt)
    con = _ro()
    tot = st.totals(con)
    models = st.models(con)
    dialects = st.dialect_mix(con)
    unmapped = st.unmapped_keys(con, coverage_limit)
    con.close()
    if fmt == "json":
        sys.stdout.write(
            render.to_json(
                {
                    "totals": tot,
                    "models": models.to_pylist(),
                    "dialects": dialects.to_pylist(),
                    "unmapped_keys": unmapped.to_pylist(),
                }
            )
            + "\n"
        )
        return
    if fmt in ("csv", "markdown"):
        # one table per section, headed for markdown; csv gets the totals only plus models
        render.emit([tot], fmt, title="Totals")
        render.emit(models, fmt, title="Models")
        render.emit(dialects, fmt, title="Dialects")
        render.emit(unmapped, fmt, title="Unmapped attribute keys")
        return
    out = render.console()
    out.print(
        render.rich_table(
            ["metric", "value"], [{"metric": k, "value": render.fmt_value(v, k)} for k, v in tot.items()], title="Store"
        )
    )
    render.emit(models, "table", title="Models (unpriced = calls with usage but no price: add them with --prices)")
    render.emit(dialects, "table", title="Dialects seen")
    if unmapped.num_rows:
        render.emit(unmapped, "table", title="Mapping coverage: GenAI keys present but mapped to no column")
    else:
        out.print("[green]Mapping coverage: every gen_ai.* / llm.* / openinference.* key seen is mapped.[/green]")


# --------------------------------------------------------------------------- traces


@trace_app.command("list")
def trace_list(
    since: Annotated[Optional[str], typer.Option(help="Start of window: 2d, 12h, or 2025-11-08[T09:00].")] = None,
    until: Annotated[Optional[str], typer.Option(help="End of window (exclusive), same forms as --since.")] = None,
    where: Annotated[
        Optional[str],
        typer.Option(
            help="SQL condition on span columns; a trace is listed if any span matches, e.g. \"status='error'\"."
        ),
    ] = None,
    limit: Annotated[int, typer.Option(help="Most recent N traces.")] = 50,
    fmt: FormatOpt = "table",
) -> None:
    """Traces, newest first: duration, spans, LLM calls, tokens, cost, status, root name."""
    from .analyses.filters import FilterError, SpanFilter
    from .analyses.traces import list_traces

    check_format(fmt)
    con = _ro()
    try:
        tbl = list_traces(con, SpanFilter.from_options(since, until, where), limit)
    except FilterError as e:
        fail(str(e))
    except duckdb.Error as e:
        fail(f"--where: {str(e).splitlines()[0]}")
    finally:
        con.close()
    if fmt == "table":  # a 12-character prefix is enough for `trace show`; json and csv keep the whole id
        render.emit(
            _short_ids(tbl),
            fmt,
            title=f"{tbl.num_rows} traces (trace_id prefix: `llmscope trace show PREFIX`)",
            keep=("trace_id", "duration_ms", "root_name", "llm_calls", "cost_usd", "status"),
        )
        return
    render.emit(tbl, fmt)


@trace_app.command("show")
def trace_show(
    trace_id: Annotated[str, typer.Argument(help="Trace id (a unique prefix is enough).")],
    content: Annotated[bool, typer.Option("--content", help="Show prompts and responses under each span.")] = False,
    graph: Annotated[
        bool,
        typer.Option(
            "--graph", help="The agent execution graph, repeated steps folded as ×N (--format json: nodes and edges)."
        ),
    ] = False,
    fmt: FormatOpt = "table",
    width: Annotated[int, typer.Option(help="Waterfall width in characters.")] = 40,
) -> None:
    """One trace as a tree in time order, with a waterfall bar per span: type, model, tokens,
    cost, status and error. `--content` adds the prompts and responses."""
    from .analyses.traces import find_trace_id, trace_tree
    from .views import trace_waterfall

    check_format(fmt)
    con = _ro()
    try:
        ids = find_trace_id(con, trace_id)
        if not ids:
            fail(f"no trace {trace_id!r} in {state.db or os.environ.get('LLMSCOPE_DB') or 'llmscope.duckdb'}")
        if len(ids) > 1:
            fail(f"{trace_id!r} matches several traces: {', '.join(ids)}")
        rows = trace_tree(con, ids[0])
    finally:
        con.close()
    if graph:
        from .analyses.graph import trace_graph
        from .views import graph_view

        g = trace_graph(rows)
        if fmt == "json":
            sys.stdout.write(render.to_json(g) + "\n")
        elif fmt == "table":
            render.console().print(graph_view(g))
        else:
            render.emit(g["nodes"], fmt)
        return
    if fmt == "table":
        out = render.console()
        out.print(trace_waterfall(rows, width=width, content=content, console_width=out.width))
        return
    keep = [
        "depth",
        "span_id",
        "parent_span_id",
        "name",
        "span_type",
        "start_time",
        "offset_ms",
        "duration_ms",
        "status",
        "error_type",
        "error_message",
        "provider",
        "request_model",
        "response_model",
        "input_tokens",
        "output_tokens",
        "cost_usd",
        "ttft_ms",
        "finish_reason",
        "agent_name",
        "tool_name",
    ]
    if content:
        keep += ["input_text", "output_text", "input_messages", "output_messages"]
    render.emit([{k: r.get(k) for k in keep} for r in rows], fmt)


# --------------------------------------------------------------------------- reports


def _short_ids(tbl) -> list[dict]:
    """Rows with 12-character trace and span id prefixes, for tables people read."""
    return [
        {k: (v[:12] if k.endswith(("trace_id", "span_id")) and isinstance(v, str) else v) for k, v in r.items()}
        for r in render.rows_of(tbl)[1]
    ]


def _keep(by: str | None, *metrics: str) -> list[str]:
    """Columns a narrow terminal still shows: the --by groups, then the report's headline metrics."""
    from .analyses.filters import FilterError
    from .analyses.groups import group_exprs

    try:
        groups = [alias for alias, _ in group_exprs(by)]
    except FilterError:  # a bad --by is reported by the report itself
        groups = []
    return groups + [f"by_{g}" for g in groups] + list(metrics)


ByOpt = Annotated[
    Optional[str],
    typer.Option(
        "--by",
        help="Group by, comma-separated: model, provider, feature, user, session, prompt, service, agent, tool, "
        "error, type (short names), any span column (request_model, user_id, …), hour/day/week, "
        "or raw attributes attr:KEY / resource:KEY.",
    ),
]
SinceOpt = Annotated[Optional[str], typer.Option(help="Start of the window: 2d, 12h, or 2025-11-08[T09:00].")]
UntilOpt = Annotated[Optional[str], typer.Option(help="End of the window (exclusive), same forms as --since.")]
WhereOpt = Annotated[Optional[str], typer.Option(help="SQL condition on span columns, e.g. \"feature='billing'\".")]


def _run_report(fn, *args, **kwargs):
    """Call an analysis on a read-only store; bad options or SQL become one-line errors (exit 2)."""
    from .analyses.filters import FilterError

    con = _ro()
    try:
        return fn(con, *args, **kwargs)
    except FilterError as e:
        fail(str(e))
    except duckdb.Error as e:
        fail(str(e).splitlines()[0])
    finally:
        con.close()


def _flt(since, until, where):
    from .analyses.filters import FilterError, SpanFilter

    try:
        return SpanFilter.from_options(since, until, where)
    except FilterError as e:
        fail(str(e))


@report_app.command("latency")
def report_latency(
    by: ByOpt = None,
    since: SinceOpt = None,
    until: UntilOpt = None,
    where: WhereOpt = None,
    span_type: Annotated[
        str, typer.Option(help="Which spans: llm, embedding, tool, retriever, agent, workflow.")
    ] = "llm",
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
        llmscope report latency --by feature --every 1h --since 2d
        llmscope report latency --by model --histogram
    """
    from .analyses.latency import latency, latency_histogram, latency_series

    check_format(fmt)
    flt = _flt(since, until, where)
    if histogram:
        of = "ttft_ms" if ttft else "duration_ms"
        tbl = _run_report(latency_histogram, flt, by, span_type, of)
        if fmt == "table":
            from .analyses.groups import group_exprs
            from .views import histogram_view

            summary = _run_report(latency, flt, by, span_type).to_pylist()
            if ttft:  # mark the TTFT percentiles instead
                summary = [
                    {**r, "p50_ms": r["ttft_p50_ms"], "p95_ms": r["ttft_p95_ms"], "p99_ms": r["ttft_p99_ms"]}
                    for r in summary
                ]
            render.console().print(
                histogram_view(
                    tbl.to_pylist(),
                    summary,
                    [a for a, _ in group_exprs(by)],
                    label="time to first token" if ttft else "latency",
                )
            )
            return
        render.emit(tbl, fmt)
        return
    if every:
        tbl = _run_report(latency_series, every, flt, by, span_type)
        if fmt == "table":
            from .analyses.groups import group_exprs
            from .views import series_chart

            render.console().print(series_chart(tbl.to_pylist(), group_cols=[a for a, _ in group_exprs(by)]))
        render.emit(tbl, fmt, title=f"Latency of {span_type} spans every {every}" if fmt == "table" else None)
        return
    tbl = _run_report(latency, flt, by, span_type)
    render.emit(
        tbl,
        fmt,
        title=f"Latency of {span_type} spans" if fmt == "table" else None,
        keep=_keep(by, "requests", "p50_ms", "p95_ms", "p99_ms", "error_rate"),
    )


@report_app.command("errors")
def report_errors(
    by: ByOpt = None,
    since: SinceOpt = None,
    until: UntilOpt = None,
    where: WhereOpt = None,
    span_type: Annotated[str, typer.Option(help="Which spans: llm, tool, … ")] = "llm",
    messages: Annotated[int, typer.Option(help="How many top error messages to list (0: none).")] = 10,
    fmt: FormatOpt = "table",
) -> None:
    """Error rate and counts split by class — rate_limit (429), timeout, server_error (5xx),
    client_error (4xx), auth_error — by any column, and the most frequent error messages.

        llmscope report errors --by provider,error_type
    """
    from .analyses.errors import errors, top_messages

    check_format(fmt)
    flt = _flt(since, until, where)
    tbl = _run_report(errors, flt, by, span_type)
    if fmt == "json":
        msgs = _run_report(top_messages, flt, span_type, messages) if messages else None
        sys.stdout.write(
            render.to_json(
                {"groups": render.rows_of(tbl)[1], "top_messages": render.rows_of(msgs)[1] if msgs is not None else []}
            )
            + "\n"
        )
        return
    render.emit(
        tbl,
        fmt,
        title=f"Errors of {span_type} spans" if fmt in ("table", "markdown") else None,
        keep=_keep(by, "requests", "errors", "error_rate"),
    )
    if messages and fmt in ("table", "markdown"):
        render.emit(_run_report(top_messages, flt, span_type, messages), fmt, title="Top error messages")


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
) -> None:
    """Tokens and dollars per group: sum, per call, per request (trace), per session, share of
    total; P50/P95/P99 tokens per call; the share of spend in the costliest 1% of calls; unpriced
    calls counted, never priced at zero.

        llmscope report cost --by feature
        llmscope report cost --by prompt_version --top 20
        llmscope report cost --by service_name --anomalies
    """
    from .analyses.cost import cost, cost_anomalies, top_requests

    check_format(fmt)
    flt = _flt(since, until, where)
    if anomalies:
        tbl = _run_report(cost_anomalies, flt, by, every)
        if fmt == "table":
            rows = [{**r, "anomaly": "▲ BREAK" if r["anomaly"] else ""} for r in render.rows_of(tbl)[1]]
            render.emit(
                rows,
                fmt,
                title=f"Cost per call every {every} against the median of the previous 7 "
                "(anomaly: ≥1.3× and robust z ≥ 3)",
            )
        else:
            render.emit(tbl, fmt)
        return
    tbl = _run_report(cost, flt, by)
    if fmt == "json" and top:
        tops = _run_report(top_requests, flt, top)
        sys.stdout.write(
            render.to_json({"groups": render.rows_of(tbl)[1], "top_requests": render.rows_of(tops)[1]}) + "\n"
        )
        return
    render.emit(
        tbl,
        fmt,
        title="Cost" if fmt in ("table", "markdown") else None,
        keep=_keep(by, "calls", "cost_usd", "share_of_total", "cost_per_request"),
    )
    if top:
        render.emit(
            _run_report(top_requests, flt, top),
            fmt,
            title=f"Top {top} requests by cost" if fmt in ("table", "markdown") else None,
        )


def _window(text: str, name: str):
    """``A..B`` -> (since, until); a date-only B includes that whole day."""
    from datetime import timedelta

    from .analyses.filters import FilterError, parse_time

    if ".." not in text:
        fail(f"{name} takes START..END, e.g. 2025-11-01..2025-11-07 or 14d..7d")
    a, b = text.split("..", 1)
    try:
        since, until = parse_time(a), parse_time(b)
    except FilterError as e:
        fail(f"{name}: {e}")
    if len(b.strip()) == 10 and b.strip()[4] == "-":
        until += timedelta(days=1)
    return since, until


def _drift_help() -> str:
    from .analyses.drift import FORMULAS_HELP

    lines = "\n".join(f"    {line}" for line in FORMULAS_HELP.splitlines())
    return (
        "Drift between a baseline and a current window, per group: Jensen-Shannon distance and PSI on "
        "input/output tokens, latency, the model / feature / finish_reason / tool mix, and prompt content.\n\n"
        "    llmscope report drift                       # the last 7 days of data against the 7 before\n"
        "    llmscope report drift --baseline 2025-11-01..2025-11-07 --current 2025-11-08..2025-11-14 --by service_name\n\n"
        "How it is computed:\n\n" + lines
    )


@report_app.command("drift", help=_drift_help())
def report_drift(
    baseline: Annotated[
        Optional[str],
        typer.Option(
            help="Baseline window START..END (dates include the end day), e.g. 2025-11-01..2025-11-07, or 14d..7d. Default: the --days before the current window."
        ),
    ] = None,
    current: Annotated[
        Optional[str],
        typer.Option(
            help="Current window START..END. Default: the last --days days of data (up to the newest span, not today)."
        ),
    ] = None,
    days: Annotated[int, typer.Option(min=1, help="Length of each default window, in days.")] = 7,
    by: ByOpt = None,
    where: WhereOpt = None,
    span_type: Annotated[str, typer.Option(help="Which spans to compare (llm by default).")] = "llm",
    features: Annotated[
        Optional[str],
        typer.Option(
            help="Comma-separated subset of: input_tokens, output_tokens, duration_ms, request_model, feature, finish_reason, tool_name, prompt_terms."
        ),
    ] = None,
    fmt: FormatOpt = "table",
) -> None:
    from .analyses.drift import drift, latest_windows
    from .analyses.filters import SpanFilter

    check_format(fmt)
    if (baseline is None) != (current is None):
        fail(
            "give both --baseline and --current, or neither (then: the last --days days of data against the days before)"
        )
    if baseline is None:
        windows = _run_report(latest_windows, span_type, where, days)
        if windows is None:
            fail(f"no {span_type} spans{' matching --where' if where else ''} in the store: nothing to compare")
        base, cur = windows
    else:
        base, cur = (
            SpanFilter(*_window(baseline, "--baseline"), where),
            SpanFilter(*_window(current, "--current"), where),
        )
    tbl = _run_report(drift, base, cur, by, span_type, [f.strip() for f in features.split(",")] if features else None)
    render.emit(
        tbl,
        fmt,
        title=f"Drift {_span_text(base)} → {_span_text(cur)}" if fmt == "table" else None,
        keep=_keep(by, "feature", "jsd", "psi", "verdict"),
    )


def _span_text(flt) -> str:
    """A window as the days it covers (2025-11-08..2025-11-14), or its start and end times."""
    from datetime import time, timedelta

    if flt.since.time() == flt.until.time() == time(0):
        return f"{flt.since:%Y-%m-%d}..{flt.until - timedelta(days=1):%Y-%m-%d}"
    return f"{flt.since:%Y-%m-%d %H:%M}..{flt.until:%Y-%m-%d %H:%M}"


@report_app.command("agents")
def report_agents(
    by: Annotated[
        str, typer.Option("--by", help="Group agent spans by a column (agent_name by default).")
    ] = "agent_name",
    since: SinceOpt = None,
    until: UntilOpt = None,
    where: WhereOpt = None,
    incomplete: Annotated[
        str, typer.Option(help="Final finish reasons that mean the run did not finish.")
    ] = "length,tool_calls,tool_call,content_filter,max_tokens",
    fmt: FormatOpt = "table",
) -> None:
    """Per agent: runs, completion rate, steps, tool calls, tool error rate.

    A run is **failed** when its agent span errs, **abandoned** when its last step is a tool call with
    no answer after it or its final LLM call stopped for length / tool_calls / content_filter, and
    **completed** otherwise. See `llmscope report loops` for loops and runaways.
    """
    from .analyses.agents import agents

    check_format(fmt)
    reasons = tuple(r.strip() for r in incomplete.split(",") if r.strip())
    render.emit(
        _run_report(agents, _flt(since, until, where), by, reasons), fmt, title="Agents" if fmt == "table" else None
    )


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
) -> None:
    """Every trace that loops or runs away, with the evidence and the wasted cost.

    Findings: the same tool called with the same
    (normalised) arguments N times in a row (exact_repeat), a repeating cycle of 2-4 tool calls such
    as A→B→A→B found on the ordered call sequence (cycle), the same call N times within --window
    consecutive tool calls (repeated_in_window), and runs over --max-steps or
    --max-duration (runaway). Wasted tokens and cost are those of the LLM calls after the first round.
    """
    from .analyses.agents import loops, runaways

    check_format(fmt)
    flt = _flt(since, until, where)
    found = _run_report(loops, flt, min_repeats, window)
    run = _run_report(runaways, flt, max_steps, max_duration)
    if fmt == "json":
        sys.stdout.write(render.to_json({"loops": render.rows_of(found)[1], "runaways": render.rows_of(run)[1]}) + "\n")
        return
    n_loops, n_runaways = found.num_rows, run.num_rows
    if fmt == "table":  # id prefixes are enough for `trace show`; csv and markdown keep whole ids
        found, run = _short_ids(found), _short_ids(run)
    render.emit(
        found,
        fmt,
        title=f"Loops ({n_loops})" if fmt in ("table", "markdown") else None,
        keep=("trace_id", "kind", "repeats", "pattern", "wasted_cost_usd"),
    )
    render.emit(
        run,
        fmt,
        title=f"Runaways: > {max_steps} steps or > {max_duration:g} s ({n_runaways})"
        if fmt in ("table", "markdown")
        else None,
        keep=("trace_id", "steps", "tool_calls", "duration_s", "cost_usd"),
    )


@report_app.command("tools")
def report_tools(
    by: Annotated[str, typer.Option("--by", help="Group tool calls by a column (tool_name by default).")] = "tool_name",
    since: SinceOpt = None,
    until: UntilOpt = None,
    where: WhereOpt = None,
    fmt: FormatOpt = "table",
) -> None:
    """Per tool: calls, error rate, latency, retries, and tool calls checked against the tools offered.

    retries_same_input counts calls repeated with the same input right after themselves
    (retries_after_error: after an error). Where LLM calls record the
    tools they offered, the model's tool calls are checked too: not_offered, invalid_arguments, and
    schema_failures (a required parameter missing, or an undeclared one when additionalProperties is false)."""
    from .analyses.agents import tool_call_checks, tools

    check_format(fmt)
    flt = _flt(since, until, where)
    executed = _run_report(tools, flt, by)
    requested = _run_report(tool_call_checks, flt)
    if fmt == "json":
        sys.stdout.write(
            render.to_json({"tools": render.rows_of(executed)[1], "requested_by_model": render.rows_of(requested)[1]})
            + "\n"
        )
        return
    render.emit(executed, fmt, title="Tools executed" if fmt in ("table", "markdown") else None)
    if requested.num_rows and fmt in ("table", "markdown"):
        render.emit(requested, fmt, title="Tool calls requested by the model, checked against the tools offered")


@report_app.command("safety")
def report_safety(
    by: ByOpt = None,
    since: SinceOpt = None,
    until: UntilOpt = None,
    where: WhereOpt = None,
    show: Annotated[
        Optional[str], typer.Option(help="`findings`: list the latest findings with masked excerpts.")
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
    from .analyses.safety import findings, safety

    check_format(fmt)
    flt = _flt(since, until, where)
    if show is not None and show != "findings":
        fail("--show takes `findings`")
    if show == "findings":
        render.emit(_run_report(findings, flt, kind, limit), fmt, title="Findings (masked)" if fmt == "table" else None)
        return
    tbl = _run_report(safety, flt, by)
    render.emit(tbl, fmt, title="Safety" if fmt == "table" else None)
    if fmt == "table" and tbl.num_rows and sum(r["llm_calls_not_scanned"] or 0 for r in tbl.to_pylist()):
        render.console(stderr=True).print("[yellow]some LLM calls are not scanned yet: run `llmscope scan`[/yellow]")


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
    from .analyses.quality import quality

    check_format(fmt)
    render.emit(
        _run_report(quality, _flt(since, until, where), by, judge), fmt, title="Quality" if fmt == "table" else None
    )


@report_app.command("summary")
def report_summary(
    since: SinceOpt = None, until: UntilOpt = None, where: WhereOpt = None, fmt: FormatOpt = "table"
) -> None:
    """One screen with the five signal families: performance, quality, cost, safety, agentic.
    Families without data yet (no evals, no scan) say so."""
    from .analyses.summary import summary

    check_format(fmt)
    rows = _run_report(summary, _flt(since, until, where))
    if fmt in ("table", "markdown"):  # for people, values read best in their own unit: $ for cost, % for rates
        rows = [dict(r, value=render.fmt_value(r["value"], r["signal"])) for r in rows]
    render.emit(rows, fmt, title="llmscope summary" if fmt == "table" else None)


# --------------------------------------------------------------------------- eval


def _eval_setup(
    judge_name: str,
    since,
    until,
    where,
    metrics,
    sample,
    always,
    budget_usd,
    repeat,
    rescore,
    concurrency,
    dataset,
    limit,
):
    from .analyses.filters import FilterError, SpanFilter
    from .evals import judges
    from .evals.runner import EvalOptions

    try:
        cfg = load_config(state.config)
        judge = judges.resolve(judge_name, cfg.raw)
        flt = SpanFilter.from_options(since, until, where)
    except (ConfigError, judges.JudgeConfigError, FilterError) as e:
        fail(str(e))
    opts = EvalOptions(
        judge=judge_name,
        metrics=[m.strip() for m in metrics.split(",")] if metrics else None,
        flt=flt,
        sample=sample,
        always=always,
        budget_usd=budget_usd,
        repeat=repeat,
        rescore=rescore,
        concurrency=concurrency,
        dataset=dataset,
        limit=limit,
    )
    return cfg, judge, opts


def _eval_progress():
    err = render.console(stderr=True)
    bar = Progress(
        TextColumn("[bold]eval"),
        BarColumn(),
        TextColumn(
            "{task.completed:,}/{task.total:,} · {task.fields[calls]} calls · "
            "${task.fields[cost]:.4f} · {task.fields[errors]} errors"
        ),
        TimeElapsedColumn(),
        console=err,
        transient=True,
        disable=not err.is_terminal,
    )
    return bar


def _run_with_progress(fn, *args):
    from .evals.runner import EvalError
    from .store import StoreError, connect

    try:
        con = connect(state.db)
    except StoreError as e:
        fail(str(e))
    bar = _eval_progress()
    try:
        with bar:
            task = bar.add_task("eval", total=None, calls=0, cost=0.0, errors=0)

            def on_progress(p):
                bar.update(task, completed=p.done, total=p.total, calls=p.calls, cost=p.cost_usd, errors=p.errors)

            return fn(con, *args, on_progress=on_progress)
    except EvalError as e:
        fail(str(e))
    except duckdb.Error as e:
        fail(str(e).splitlines()[0])
    finally:
        con.close()


JudgeOpt = Annotated[
    str,
    typer.Option(
        "--judge",
        help="builtin (offline), small-model (local Ollama), openai:MODEL, ollama:MODEL, or a [judges.NAME] profile.",
    ),
]
MetricsOpt = Annotated[
    Optional[str], typer.Option("--metrics", help="Comma-separated metrics (see `llmscope eval --help`).")
]
SampleOpt = Annotated[
    Optional[float],
    typer.Option(
        help="A share (0.2) or a count (200) of traces, chosen by a hash of the trace id (same on every run)."
    ),
]
AlwaysOpt = Annotated[
    Optional[str], typer.Option(help="SQL condition: matching calls are always scored, whatever --sample.")
]


@eval_app.callback()
def eval_main(
    ctx: typer.Context,
    judge: JudgeOpt = "builtin",
    metrics: MetricsOpt = None,
    since: SinceOpt = None,
    until: UntilOpt = None,
    where: WhereOpt = None,
    sample: SampleOpt = None,
    always: AlwaysOpt = None,
    budget_usd: Annotated[
        Optional[float], typer.Option(help="Stop before the judge spend of this run would pass this many USD.")
    ] = None,
    repeat: Annotated[int, typer.Option(help="Judge each item N times and report how often the verdict flips.")] = 1,
    rescore: Annotated[
        bool, typer.Option("--rescore", help="Score again items already scored (cached answers are reused).")
    ] = False,
    concurrency: Annotated[
        Optional[int], typer.Option(help="Judge requests in flight (default: the profile's max_concurrency).")
    ] = None,
    dataset: Annotated[
        Optional[str], typer.Option(help="JSONL with input, output, context, reference: score pre-production outputs.")
    ] = None,
    fail_under: Annotated[
        Optional[list[str]],
        typer.Option(
            "--fail-under",
            help="Gate: METRIC=VALUE on the mean score, METRIC.pass_rate=VALUE on the pass rate; exit 1 when below.",
        ),
    ] = None,
    limit: Annotated[Optional[int], typer.Option(help="Score at most N items.")] = None,
    fmt: FormatOpt = "table",
) -> None:
    if ctx.invoked_subcommand is not None:
        return
    from .evals.runner import EvalError, gate, parse_fail_under, run_eval

    check_format(fmt)
    try:
        rules = parse_fail_under(fail_under or [])
    except EvalError as e:
        fail(str(e))
    cfg, j, opts = _eval_setup(
        judge, since, until, where, metrics, sample, always, budget_usd, repeat, rescore, concurrency, dataset, limit
    )
    rep = _run_with_progress(run_eval, opts, j, cfg.raw)
    rows = [
        {
            "metric": m,
            "mean_score": rep.means.get(m),
            "pass_rate": rep.pass_rates.get(m),
            **({"flip_rate": rep.flip_rates.get(m)} if repeat > 1 else {}),
        }
        for m in sorted(rep.means)
    ]
    summary = {
        "judge": rep.judge,
        "items": rep.items,
        "scored": rep.scored,
        "cached": rep.cached,
        "not_applicable": rep.not_applicable,
        "errors": rep.errors,
        "skipped_budget": rep.skipped_budget,
        "calls": rep.calls,
        "retries": rep.retries,
        "cost_usd": rep.cost_usd,
        "seconds": round(rep.elapsed_s, 2),
        "metrics": rows,
        "error_examples": rep.error_examples,
    }
    if fmt == "json":
        sys.stdout.write(render.to_json(summary) + "\n")
    else:
        render.emit(
            rows,
            fmt,
            title=f"Eval with {rep.judge}: {rep.scored} scored, {rep.cached} from cache, "
            f"{rep.not_applicable} not applicable, {rep.errors} errors, {rep.calls} judge calls, "
            f"${rep.cost_usd:.4f}"
            if fmt == "table"
            else None,
        )
        if rep.skipped_budget:
            render.console(stderr=True).print(f"[yellow]budget reached: {rep.skipped_budget} items not scored[/yellow]")
        for e in rep.error_examples[:3]:
            render.console(stderr=True).print(f"[yellow]eval error:[/yellow] {render.escape(e)}")
    failed = gate(rep, rules)
    if failed:
        render.console(stderr=True).print(f"[bold red]gate failed:[/bold red] {'; '.join(failed)}")
        raise typer.Exit(1)


@eval_app.command("compare")
def eval_compare(
    judges_: Annotated[str, typer.Option("--judges", help="Two judges: A,B (e.g. small-model,openai:gpt-4o-mini).")],
    metrics: MetricsOpt = None,
    since: SinceOpt = None,
    until: UntilOpt = None,
    where: WhereOpt = None,
    sample: SampleOpt = None,
    always: AlwaysOpt = None,
    fmt: FormatOpt = "table",
) -> None:
    """Run two judges on the same sample and report agreement (accuracy and Cohen's kappa on pass/fail,
    Spearman on scores) and their cost ratio."""
    from .evals.compare import compare

    check_format(fmt)
    names = [n.strip() for n in judges_.split(",") if n.strip()]
    if len(names) != 2:
        fail("--judges takes exactly two judges: A,B")
    cfg, ja, opts = _eval_setup(
        names[0], since, until, where, metrics, sample, always, None, 1, False, None, None, None
    )
    _, jb, _ = _eval_setup(names[1], since, until, where, metrics, sample, always, None, 1, False, None, None, None)
    rows, _ = _run_with_progress(compare, ja, jb, opts, cfg.raw)
    render.emit(rows, fmt, title=f"{ja.name} vs {jb.name}" if fmt == "table" else None)


@eval_app.command("calibrate")
def eval_calibrate(
    labels: Annotated[str, typer.Option(help="JSONL of human labels: trace_id, span_id, metric, passed|label|score.")],
    judge: JudgeOpt = "small-model",
    fmt: FormatOpt = "table",
) -> None:
    """Judge the labelled items and report agreement with the human labels."""
    from .evals.compare import calibrate

    check_format(fmt)
    cfg, j, opts = _eval_setup(judge, None, None, None, None, None, None, None, 1, False, None, None, None)
    rows, _ = _run_with_progress(calibrate, j, labels, opts, cfg.raw)
    render.emit(rows, fmt, title=f"{j.name} vs human labels" if fmt == "table" else None)


# --------------------------------------------------------------------------- collect


@app.command()
def collect(
    host: Annotated[str, typer.Option(help="Address to listen on (loopback by default).")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="OTLP/HTTP port.")] = 4318,
    token: Annotated[
        Optional[str],
        typer.Option(
            envvar="LLMSCOPE_COLLECT_TOKEN", help="Require `Authorization: Bearer TOKEN` (env LLMSCOPE_COLLECT_TOKEN)."
        ),
    ] = None,
    flush_seconds: Annotated[float, typer.Option(help="Write to the store at least this often.")] = 2.0,
    flush_spans: Annotated[int, typer.Option(help="…or when this many spans are waiting.")] = 5000,
    tui: Annotated[
        bool, typer.Option("--tui", help="A live view: requests/s, spans/s, error rate, P99, tokens/s, $/hour.")
    ] = False,
    redact: Annotated[
        Optional[str], typer.Option(help="`pii`: store typed placeholders instead of PII values.")
    ] = None,
    hash_content: Annotated[
        bool, typer.Option("--hash-content", help="Store only keyed hashes of content ($LLMSCOPE_HASH_KEY).")
    ] = False,
) -> None:
    """Receive OTLP/HTTP traces and logs from instrumented apps, straight into the store.

    Point an exporter at it, e.g. `openlit.init(otlp_endpoint="http://127.0.0.1:4318")` or
    `OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4318`. Every request is written to an append-only
    spool and fsync-ed before it is acknowledged; the store is written in batches and opened only
    while writing, so `llmscope report …` works in another terminal. Ctrl-C flushes and exits.
    """
    from .collect import Collector, CollectorConfig, CollectorError
    from .privacy import Privacy

    try:
        cfg = load_config(state.config)
        mapping = Mapping(cfg.context_keys, privacy=Privacy.from_settings(redact, hash_content, cfg.raw))
        collector = Collector(
            CollectorConfig(
                db=state.db,
                host=host,
                port=port,
                token=token,
                flush_seconds=flush_seconds,
                flush_spans=flush_spans,
                mapping=mapping,
            )
        )
    except (ConfigError, ValueError, CollectorError) as e:
        fail(str(e))
    err = render.console(stderr=True)
    try:
        collector.serve_forever(
            tui=tui,
            on_start=lambda c: err.print(
                f"llmscope collect: listening on http://{host}:{c.port} (POST /v1/traces, /v1/logs); Ctrl-C to stop"
            ),
        )
    except (OSError, CollectorError) as e:
        fail(str(e))
    st = collector.stats  # a property: counters since start
    err.print(f"stopped: {st.get('spans_flushed', 0):,} spans written")


# --------------------------------------------------------------------------- check


@app.command()
def check(
    rules: Annotated[Optional[str], typer.Option(help="Rules file (default: the [[alerts]] of llmscope.toml).")] = None,
    at: Annotated[
        Optional[str], typer.Option(help="Evaluate as of this time (replay), e.g. 2025-11-12T10:00; default now.")
    ] = None,
    fail_on: Annotated[
        str, typer.Option(help="Exit 1 when an alert of this severity or worse fires: info | warning | critical.")
    ] = "warning",
    every: Annotated[Optional[str], typer.Option(help="Keep watching: re-evaluate every 5m, 1h, …")] = None,
    notify: Annotated[
        Optional[str], typer.Option(help="POST fired and resolved alerts as JSON to this URL (with retries).")
    ] = None,
    runs: Annotated[Optional[int], typer.Option(help="With --every: stop after N evaluations.")] = None,
    example_rules: Annotated[
        bool,
        typer.Option(
            "--example-rules", help="Print a rules file with one rule of each kind (to start llmscope.toml) and exit."
        ),
    ] = False,
    fmt: FormatOpt = "table",
) -> None:
    """Evaluate alert rules and exit 1 when one fires (CI gates, on-call notifications).

    Rules: latency P99, error rate, cost anomalies against a
    robust seasonal baseline (median/MAD), quality drops, hallucination rate, budgets, prompt
    injection, PII leaks, agent loops, drift. Exit 1 when an alert at or above --fail-on fires,
    0 otherwise, 2 for a bad rules file (with its line). `--format junit` for CI test reports,
    `markdown` for a PR comment. The rule kinds are documented in `src/llmscope/alerts.py`.

        llmscope check --example-rules > llmscope.toml   # one rule of each kind, to edit
        llmscope check --format junit > llm-checks.xml
        llmscope check --at 2025-11-12T10:00
        llmscope check --every 5m --notify https://hooks.example/llm
    """
    import time

    from . import alerts as A
    from .analyses.filters import FilterError, parse_duration, parse_time

    if example_rules:
        from importlib.resources import files

        sys.stdout.write(files("llmscope").joinpath("example_alerts.toml").read_text())
        return
    if fmt not in render.FORMATS + ("junit",):
        fail("--format must be one of table, json, csv, markdown, junit")
    if fail_on not in A.SEVERITIES:
        fail(f"--fail-on must be one of {', '.join(A.SEVERITIES)}")
    try:
        rule_list = A.load_rules(rules or state.config or "llmscope.toml")
        when = parse_time(at) if at else None
        interval = parse_duration(every).total_seconds() if every else None
    except (A.RulesError, FilterError) as e:
        fail(str(e))
    if not rule_list:
        fail("no [[alerts]] rules found: add some to llmscope.toml or pass --rules FILE")
    from .store import StoreError, connect

    firing: dict = {}
    n = 0
    while True:
        try:
            con = connect(state.db, read_only=True)
        except StoreError as e:
            fail(str(e))
        try:
            fired, firing = A.watch_once(con, rule_list, firing, notify, when)
        except duckdb.Error as e:
            fail(str(e).splitlines()[0])
        finally:
            con.close()
        n += 1
        if fmt == "junit":
            sys.stdout.write(A.junit(fired, rule_list))
        elif fmt == "markdown":
            sys.stdout.write(A.markdown(fired))
        elif fmt == "table" and not fired:
            render.console().print(f"[green]no alert fired[/green] ({len(rule_list)} rules)")
        else:
            rows = [a.as_dict() for a in fired]
            if fmt == "table":  # ids shortened for the eye; json and csv keep them whole
                rows = [
                    dict(
                        r,
                        example_trace_ids=", ".join(x[:12] for x in r["example_trace_ids"][:2])
                        + (f" (+{len(r['example_trace_ids']) - 2})" if len(r["example_trace_ids"]) > 2 else ""),
                    )
                    for r in rows
                ]
            render.emit(rows, fmt, title=f"{len(fired)} alert(s) fired" if fmt == "table" else None)
        if interval is None or (runs is not None and n >= runs):
            break
        time.sleep(interval)
    if A.fails(fired, fail_on):
        raise typer.Exit(1)


# --------------------------------------------------------------------------- safety


scan_app = typer.Typer(help="Run the safety scanners; `scan calibrate` sets the injection threshold.")
app.add_typer(scan_app, name="scan")


@scan_app.callback(invoke_without_command=True)
def scan(
    ctx: typer.Context,
    since: SinceOpt = None,
    until: UntilOpt = None,
    where: WhereOpt = None,
    rescan: Annotated[bool, typer.Option("--rescan", help="Scan again spans already scanned.")] = False,
    workers: Annotated[Optional[int], typer.Option(help="Scanner processes (default: one per core).")] = None,
    fmt: FormatOpt = "table",
) -> None:
    """Run the safety scanners (PII, prompt injection, toxicity, policy, guardrails) over new spans.

    PII is validated (Luhn, IBAN registry and mod-97, SSN
    rules, phone numbers per region, provider API keys, JWTs, private keys), prompt injection (structural
    rules and a small trained classifier, in what users send and in retrieved documents / tool output;
    thresholds in `[scan.injection]`, set them on your traffic with `llmscope scan calibrate`), toxicity
    (lexicon), policy rules from `[policy]` in llmscope.toml, and guardrail activations the
    instrumentation recorded. Findings go to the `findings` table with masked excerpts; see
    `llmscope report safety`.
    """
    if ctx.invoked_subcommand:
        return
    from .scan import Policy
    from .scan import scan as run_scan
    from .store import StoreError, connect

    check_format(fmt)
    try:
        policy = Policy.from_config(load_config(state.config).raw)
        con = connect(state.db)
    except (ConfigError, StoreError) as e:
        fail(str(e))
    err = render.console(stderr=True)
    bar = Progress(
        TextColumn("[bold]scan"),
        BarColumn(),
        TextColumn("{task.completed:,}/{task.total:,} spans"),
        TimeElapsedColumn(),
        console=err,
        transient=True,
        disable=not (err.is_terminal and fmt == "table"),
    )
    try:
        with bar:
            task = bar.add_task("scan", total=None)
            rep = run_scan(
                con,
                _flt(since, until, where),
                policy,
                workers,
                rescan,
                on_progress=lambda done, total: bar.update(task, completed=done, total=total),
            )
    except duckdb.Error as e:
        fail(str(e).splitlines()[0])
    finally:
        con.close()
    row = {
        "spans_scanned": rep.spans_scanned,
        "findings": rep.findings,
        **{f"{k}": v for k, v in sorted(rep.by_kind.items())},
        "seconds": round(rep.elapsed_s, 2),
        "spans_per_s": round(rep.spans_per_s),
    }
    if fmt == "table":
        kinds = ", ".join(f"{v} {k}" for k, v in sorted(rep.by_kind.items())) or "nothing found"
        render.console().print(f"scanned {rep.spans_scanned:,} spans in {rep.elapsed_s:.1f}s: {kinds}")
    else:
        render.emit([row], fmt)


@scan_app.command("calibrate")
def scan_calibrate(
    labels: Annotated[Path, typer.Option("--labels", help='JSONL, one {"text": ..., "label": 0|1} per line.')],
    location: Annotated[
        str, typer.Option(help="input (what users send) | document (retrieved documents, tool output)")
    ] = "input",
    target_fpr: Annotated[
        float, typer.Option("--target-fpr", help="Largest false-positive rate allowed on the benign rows.")
    ] = 0.01,
    write: Annotated[
        bool, typer.Option("--write/--no-write", help="Write the chosen threshold to the config file.")
    ] = True,
    fmt: FormatOpt = "table",
) -> None:
    """Precision, recall and false-positive rate of the injection detector per threshold on your own
    labelled texts, and the threshold that keeps the FPR at or under --target-fpr, written to
    `[scan.injection]` in llmscope.toml (`document_threshold` with --location document).

        llmscope scan calibrate --labels my_prompts.jsonl --target-fpr 0.01
    """
    from .safety.calibrate import calibrate, load_labels, write_threshold

    check_format(fmt)
    try:
        rep = calibrate(load_labels(labels), location, target_fpr)
    except (OSError, ValueError) as e:
        fail(str(e))
    rows = [dict(r, chosen=r["threshold"] == rep.chosen["threshold"]) for r in rep.table]
    render.emit(rows, fmt, title=f"{rep.n_pos} injections, {rep.n_neg} benign ({location})" if fmt == "table" else None)
    if write:
        path = write_threshold(state.config or "llmscope.toml", rep)
        if fmt == "table":
            render.console(stderr=True).print(f"wrote threshold {rep.threshold} to {path}")


@app.command()
def prune(
    older_than: Annotated[str, typer.Option(help="Cut-off: a duration ago (30d, 12h) or a date (2025-11-01).")],
    content_only: Annotated[
        bool,
        typer.Option("--content-only", help="Keep metrics; remove prompts, responses, messages, content attributes."),
    ] = False,
    fmt: FormatOpt = "table",
) -> None:
    """Retention: delete spans older than a cut-off, or just their content, then rewrite the store file
    so the removed data is gone from disk too.

        llmscope prune --older-than 30d --content-only
    """
    from .analyses.filters import FilterError, parse_time
    from .store import StoreError
    from .store import prune as run_prune

    check_format(fmt)
    try:
        cutoff = parse_time(older_than)
        res = run_prune(state.db, cutoff, content_only)
    except (FilterError, StoreError) as e:
        fail(str(e))
    except duckdb.Error as e:
        fail(str(e).splitlines()[0])
    if fmt == "table":
        what = "the content of " if content_only else ""
        render.console().print(
            f"pruned {what}{res['spans']:,} spans older than {cutoff:%Y-%m-%d %H:%M}; "
            f"store {res['bytes_before'] / 1e6:,.1f} MB -> {res['bytes_after'] / 1e6:,.1f} MB"
        )
    else:
        render.emit([res], fmt)


# --------------------------------------------------------------------------- sql, export, reprice


@app.command()
def sql(
    query: Annotated[str, typer.Argument(help="A read-only SQL query over spans, evals, logs.")],
    fmt: FormatOpt = "table",
) -> None:
    """Run a read-only SQL query on the store.

    llmscope sql "select request_model, sum(cost_usd) from spans group by 1" --format json
    """
    check_format(fmt)
    con = _ro()
    try:
        tbl = query_arrow(con, query)
    except duckdb.Error as e:
        fail(str(e).splitlines()[0])
    finally:
        con.close()
    render.emit(tbl, fmt)


@export_app.command("parquet")
def export_parquet(
    out_dir: Annotated[Path, typer.Argument(help="Directory to write spans/ and evals/ under.")],
) -> None:
    """Write `spans` and `evals` as Parquet, Hive-partitioned by day (`spans/date=2025-11-01/…`),
    readable by DuckDB, polars, Spark, ClickHouse, pandas:

        duckdb -c "select count(*) from read_parquet('lake/spans/*/*.parquet', hive_partitioning=true)"
    """
    from .store import export_parquet as run_export

    con = _ro()
    try:
        counts = run_export(con, out_dir)
    except (duckdb.Error, OSError) as e:
        fail(str(e).splitlines()[0])
    finally:
        con.close()
    render.console().print(f"wrote {counts['spans']:,} spans and {counts['evals']:,} evals under {out_dir}/")


@app.command()
def reprice(
    prices: Annotated[Optional[Path], typer.Option(help="User price file (TOML) to add or override models.")] = None,
    fmt: FormatOpt = "table",
) -> None:
    """Recompute every span's cost from the current price table, without re-ingesting.

    Your price file (--prices) adds or overrides models; `price_version` records which table priced each span."""
    from .pricing import PriceFileError, load_price_file
    from .store import StoreError, connect
    from .store import reprice as run_reprice

    check_format(fmt)
    try:
        up = load_price_file(prices) if prices else None
        con = connect(state.db)
    except (PriceFileError, StoreError) as e:
        fail(str(e))
    try:
        res = run_reprice(con, up)
    finally:
        con.close()
    render.emit([res], fmt, title="Repriced")


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        render.console(stderr=True).print("interrupted: nothing of the current command was written")
        sys.exit(130)
