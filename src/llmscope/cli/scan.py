"""``llmscope scan``: the safety scanners over spans not scanned yet; findings into the store."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from ..render import tables as render
from .common import FormatOpt, SinceOpt, UntilOpt, WhereOpt, check_format, open_store, typer_app

scan_app = typer_app(
    invoke_without_command=True,
    no_args_is_help=False,
    help="Run the safety scanners; `scan calibrate` sets the injection threshold on your own labelled texts.",
)


@scan_app.callback()
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

    PII is validated (Luhn, IBAN mod-97, SSN rules, phone numbers per region, provider API keys,
    JWTs, private keys), prompt injection (a versioned rule set, direct and in retrieved documents),
    toxicity (lexicon), policy rules from `[policy]` in llmscope.toml, and guardrail activations the
    instrumentation recorded. Findings go to the `findings` table with masked excerpts; see
    `llmscope report safety`.

        llmscope scan

        llmscope scan --since 2025-11-08 --rescan
    """
    if ctx.invoked_subcommand is not None:
        return
    check_format(fmt)
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
    with bar:
        task = bar.add_task("scan", total=None)
        rep = open_store().scan(
            since=since,
            until=until,
            where=where,
            rescan=rescan,
            workers=workers,
            on_progress=lambda done, total: bar.update(task, completed=done, total=total),
        )
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
    labels: Annotated[Path, typer.Option("--labels", help='JSONL, one {"text": ..., "label": 0 or 1} per line.')],
    location: Annotated[
        str, typer.Option(help="input (what users send) or document (retrieved documents, tool output).")
    ] = "input",
    target_fpr: Annotated[
        float, typer.Option("--target-fpr", help="Largest false-positive rate allowed on the benign rows.")
    ] = 0.01,
    write: Annotated[
        bool, typer.Option("--write/--no-write", help="Write the chosen threshold to the settings file.")
    ] = True,
    fmt: FormatOpt = "table",
) -> None:
    """Precision, recall and false-positive rate of the injection detector per threshold on your own
    labelled texts, and the threshold that keeps the FPR at or under --target-fpr, written to
    `[scan.injection]` in llmscope.toml (`document_threshold` with --location document).

        llmscope scan calibrate --labels my_prompts.jsonl --target-fpr 0.01

        llmscope scan calibrate --labels tool_outputs.jsonl --location document --no-write
    """
    check_format(fmt)
    res = open_store().calibrate_injection(labels, location=location, target_fpr=target_fpr, write=write)
    render.emit(res.table, fmt, title=res.title if fmt == "table" else None)
    if write and fmt == "table":
        render.console(stderr=True).print(f"wrote threshold {res.meta['threshold']} to {res.meta['written_to']}")


def register(app: typer.Typer) -> None:
    app.add_typer(scan_app, name="scan")
