"""``llmscope scan``: the safety scanners over spans not scanned yet; findings into the store."""

from __future__ import annotations

from typing import Annotated, Optional

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from ..render import tables as render
from .common import FormatOpt, SinceOpt, UntilOpt, WhereOpt, check_format, open_store, typer_app

scan_app = typer_app(invoke_without_command=True, no_args_is_help=False)


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


def register(app: typer.Typer) -> None:
    app.add_typer(scan_app, name="scan")
