"""``llmscope trace list|show``: traces newest first; one trace as a tree with a waterfall or a graph."""

from __future__ import annotations

import sys
from typing import Annotated, Optional

import typer

from ..render import tables as render
from .common import FormatOpt, SinceOpt, UntilOpt, check_format, note, open_store, short_ids, typer_app

trace_app = typer_app(help="List traces and show one as a tree with a timing waterfall.")


@trace_app.command("list")
def trace_list(
    since: SinceOpt = None,
    until: UntilOpt = None,
    where: Annotated[
        Optional[str],
        typer.Option(
            help="One condition on span columns; a trace is listed if any span matches, e.g. \"status='error'\"."
        ),
    ] = None,
    limit: Annotated[int, typer.Option(help="Most recent N traces.")] = 50,
    fmt: FormatOpt = "table",
) -> None:
    """Traces, newest first: duration, spans, LLM calls, tokens, cost, status, root name.

    llmscope trace list --since 2025-11-13 --where "status='error'"
    """
    check_format(fmt)
    res = open_store().traces(since=since, until=until, where=where, limit=limit)
    if fmt == "table":  # a 12-character prefix is enough for `trace show`; json and csv keep the whole id
        if res.num_rows:
            render.emit(
                short_ids(res.to_dicts()),
                fmt,
                title=f"{res.num_rows} traces (trace_id prefix: `llmscope trace show PREFIX`)",
                keep=res.keep,
            )
    else:
        render.emit(res.table, fmt)
    for n in res.notes:
        note(n)


_DETAIL = [
    "depth", "span_id", "parent_span_id", "name", "span_type", "start_time", "offset_ms", "duration_ms", "status",
    "error_type", "error_message", "provider", "request_model", "response_model", "input_tokens", "output_tokens",
    "cost_usd", "ttft_ms", "finish_reason", "agent_name", "tool_name",
]  # fmt: skip


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
    cost, status and error. `--content` adds the prompts and responses.

        llmscope trace show bb49e0e7e4ac --graph

        llmscope trace show bb49e0e7e4ac --content
    """
    check_format(fmt)
    res = open_store().trace(trace_id, content=content)
    rows = res.to_dicts()
    if graph:
        from ..render.charts import graph_view

        g = res.meta["graph"]
        if fmt == "json":
            sys.stdout.write(render.to_json(g) + "\n")
        elif fmt == "table":
            render.console().print(graph_view(g))
        else:
            render.emit(g["nodes"], fmt)
        return
    if fmt == "table":
        from ..render.charts import trace_waterfall

        out = render.console()
        out.print(trace_waterfall(rows, width=width, content=content, console_width=out.width))
        return
    keep = _DETAIL + (["input_text", "output_text", "input_messages", "output_messages"] if content else [])
    render.emit([{k: r.get(k) for k in keep} for r in rows], fmt)


def register(app: typer.Typer) -> None:
    app.add_typer(trace_app, name="trace")
