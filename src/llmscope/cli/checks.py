"""``llmscope check``: alert rules -> exit codes for CI, or a watch loop that notifies."""

from __future__ import annotations

import sys
from typing import Annotated, Optional

import typer

from ..render import tables as render
from .common import EXIT_CHECK_FAILED, check_format, fail, note, open_store

SEVERITIES = ("info", "warning", "critical")
RULE_KINDS_HELP = (
    "latency_p99, error_rate, cost_anomaly, quality_drop, hallucination_rate, budget, injection, "
    "pii_leak_rate, agent_loops, drift"
)


def check(
    rules: Annotated[Optional[str], typer.Option(help="Rules file (default: the [[alerts]] of llmscope.toml).")] = None,
    at: Annotated[
        Optional[str], typer.Option(help="Evaluate as of this time (replay), e.g. 2025-11-12T10:00; default now.")
    ] = None,
    fail_on: Annotated[
        str, typer.Option(help="Exit 1 when an alert of this severity or worse fires: info, warning or critical.")
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
    fmt: Annotated[str, typer.Option("--format", "-f", help="Output: table, json, csv, markdown or junit.")] = "table",
) -> None:
    """Evaluate alert rules and exit 1 when one fires (CI gates, on-call notifications).

    Rule kinds: latency_p99, error_rate, cost_anomaly (against a robust seasonal baseline,
    median/MAD), quality_drop, hallucination_rate, budget, injection, pii_leak_rate, agent_loops,
    drift; `llmscope check --example-rules` prints one of each with every option explained. Exit 1
    when an alert at or above --fail-on fires, 0 otherwise, 2 for a bad rules file (with its line).
    `--format junit` for CI test reports, `markdown` for a pull-request comment.

        llmscope check --example-rules > llmscope.toml

        llmscope check --at 2025-11-12T10:00

        llmscope check --format junit > llm-checks.xml

        llmscope check --every 5m --notify https://hooks.example/llm
    """
    if example_rules:
        from importlib.resources import files

        sys.stdout.write(files("llmscope").joinpath("example_alerts.toml").read_text())
        return
    check_format(fmt, ("junit",))
    if fail_on not in SEVERITIES:
        fail(f"--fail-on: one of {', '.join(SEVERITIES)}, not {fail_on!r}")
    store = open_store()
    if every:
        last = store.watch(rules, every=every, notify=notify, runs=runs, at=at, on_round=lambda r: _print(r, fmt))
    else:
        last = store.check(rules, at=at)
        _print(last, fmt)
    if last.fails(fail_on):
        raise typer.Exit(EXIT_CHECK_FAILED)


def _print(result, fmt: str) -> None:
    from ..render.alerts import junit, markdown

    fired = result.alerts
    if fmt == "junit":
        sys.stdout.write(junit(fired, result.rules))
    elif fmt == "markdown":
        sys.stdout.write(markdown(fired))
    elif fmt == "table" and not fired:
        render.console().print(f"[green]no alert fired[/green] ({len(result.rules)} rules)")
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
    for n in result.notes:
        note(n)


def register(app: typer.Typer) -> None:
    app.command()(check)
