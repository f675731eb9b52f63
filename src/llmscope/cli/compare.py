"""``llmscope compare``: baseline against current (two windows, or two values of a column), each metric
with a bootstrap interval and a verdict; ``--fail-on worse`` for CI, ``--format markdown`` for a PR."""

from __future__ import annotations

import sys
from typing import Annotated, Optional

import typer

from ..render import compare as render_compare
from ..render import tables as render
from .common import EXIT_CHECK_FAILED, FormatOpt, SinceOpt, UntilOpt, WhereOpt, check_format, fail, note, open_store

FAIL_ON = ("worse", "change")


def compare_cmd(
    baseline: Annotated[
        Optional[str], typer.Option(help="Baseline window START..END (2025-11-01..2025-11-07, 14d..7d).")
    ] = None,
    current: Annotated[Optional[str], typer.Option(help="Current window START..END.")] = None,
    by: Annotated[
        Optional[str],
        typer.Option("--by", help="Compare two values of one column: prompt_version (prompt), model, feature, …"),
    ] = None,
    a: Annotated[Optional[str], typer.Option("--a", help="The baseline value of --by.")] = None,
    b: Annotated[Optional[str], typer.Option("--b", help="The current value of --by.")] = None,
    since: SinceOpt = None,
    until: UntilOpt = None,
    where: WhereOpt = None,
    level: Annotated[float, typer.Option(help="Confidence level of the intervals.")] = 0.95,
    resamples: Annotated[int, typer.Option(help="Bootstrap resamples of the traces of each side.")] = 1000,
    seed: Annotated[int, typer.Option(help="Seed of the resampling (same seed, same intervals).")] = 0,
    fail_on: Annotated[
        Optional[str],
        typer.Option("--fail-on", help="Exit 1 when a metric got worse (worse) or changed either way (change)."),
    ] = None,
    fmt: FormatOpt = "table",
) -> None:
    """Compare a baseline with a current side: latency (P50/P95/P99, time to first token), cost per call
    and per request, tokens, error rate by class, eval scores and hallucination rate, safety findings, loop
    rate. Each change comes with a bootstrap interval over traces and a verdict: better, worse or no
    detectable change at --level.

        llmscope compare --by prompt_version --a v2 --b v3

        llmscope compare --baseline 2025-11-01..2025-11-07 --current 2025-11-08..2025-11-14 --where "service_name = 'code-assist'"

        llmscope compare --by model --a gpt-4o --b gpt-4o-mini --fail-on worse --format markdown > comment.md
    """
    check_format(fmt)
    if fail_on is not None and fail_on not in FAIL_ON:
        fail(f"--fail-on: one of {', '.join(FAIL_ON)}, not {fail_on!r}")
    res = open_store().compare(
        baseline=baseline, current=current, by=by, a=a, b=b, since=since, until=until, where=where,
        level=level, resamples=resamples, seed=seed,
    )  # fmt: skip
    rows = res.to_dicts()
    if fmt == "json":
        sys.stdout.write(render.to_json({**res.meta, "metrics": rows}) + "\n")
    elif fmt == "csv":
        render.emit(res.table, "csv")
    elif fmt == "markdown":
        sys.stdout.write(render_compare.pull_request_comment(rows, res.meta) + "\n")
    else:
        render.emit(render_compare.display_rows(rows), "table", title=res.title, keep=res.keep)
        render.console().print(render.escape(render_compare.summary_line(res.meta)))
    for n in res.notes:
        note(n)
    failing = res.meta["worse"] if fail_on == "worse" else res.meta["worse"] + res.meta["better"]
    if fail_on and failing:
        render.console(stderr=True).print(
            f"[bold red]compare failed:[/bold red] {failing} metric(s) {'worse' if fail_on == 'worse' else 'changed'}"
        )
        raise typer.Exit(EXIT_CHECK_FAILED)


def register(app: typer.Typer) -> None:
    app.command("compare")(compare_cmd)
