"""`llmscope report html`: the whole report as one self-contained HTML file."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from ..render import tables as _render
from .common import ByOpt, SinceOpt, UntilOpt, WhereOpt, fail, open_store


def report_html(
    output: Annotated[
        str, typer.Option("--output", "-o", help="File to write (- for stdout).")
    ] = "llmscope-report.html",
    by: ByOpt = None,
    since: SinceOpt = None,
    until: UntilOpt = None,
    where: WhereOpt = None,
    content: Annotated[
        bool,
        typer.Option(
            "--content",
            help="Include prompts, answers, tool arguments and user ids (as stored: redaction and hashing apply). "
            "Without it the page holds aggregates and masked excerpts only.",
        ),
    ] = False,
    title: Annotated[str, typer.Option(help="Title of the page.")] = "llmscope report",
) -> None:
    """One self-contained HTML file with every report: overview of the five signal families, latency
    over time and its distribution per model, errors by class, cost with its anomalies, drift, agent
    loops with their execution graphs, safety and quality, and the worst traces as waterfalls.

    All JavaScript (Vega-Lite), CSS and data are inside the file: it opens offline, from a laptop
    or a CI artifact. Needs the html extra: pip install 'llmscope[html]'.

        llmscope report html -o report.html

        llmscope report html -o incident.html --since 2025-11-12T08:00 --until 2025-11-12T11:00

        llmscope report html -o by-service.html --by service_name --content
    """
    store = open_store()
    page = store.report(
        "html", by=by, since=since, until=until, where=where, content=content, title=title,
        store_name=store.path.name if store.path else None,
    ).meta["html"]  # fmt: skip
    if output == "-":
        sys.stdout.write(page)
        return
    try:
        tmp = Path(output + ".tmp")
        tmp.write_text(page, encoding="utf-8")
        tmp.replace(output)
    except OSError as e:
        fail(f"cannot write {output}: {e.strerror or e}")
    size = len(page.encode("utf-8"))
    _render.console(stderr=True).print(f"wrote {output} ({size / 1e6:.1f} MB)", highlight=False)


def register(report_app: typer.Typer) -> None:
    report_app.command("html")(report_html)
