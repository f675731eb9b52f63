"""``llmscope dataset export|add``: failing or borderline calls -> the JSONL ``eval --dataset`` reads."""

from __future__ import annotations

import sys
from typing import Annotated, Optional

import typer

from ..render import tables as render
from .common import FormatOpt, SinceOpt, UntilOpt, WhereOpt, check_format, note, open_store, typer_app

dataset_app = typer_app(
    help=(
        "Regression datasets: turn the calls that failed or nearly failed (low scores, hallucinations, safety "
        "findings, errors, loops) into the JSONL that `llmscope eval --dataset` scores, so CI can gate on them.\n\n"
        "    llmscope dataset export --since 7d -o regression.jsonl\n\n"
        "    llmscope dataset add --reasons hallucination,finding -o regression.jsonl\n\n"
        "    llmscope eval --judge small-model --dataset regression.jsonl --fail-under groundedness=0.8"
    )
)

OutOpt = Annotated[str, typer.Option("--out", "-o", help="The dataset file (JSONL).")]
ReasonsOpt = Annotated[
    Optional[str],
    typer.Option(help="Comma-separated: low_score, hallucination, finding, error, loop (default all)."),
]
ScoreBelowOpt = Annotated[
    float, typer.Option(help="low_score also takes passing scores below this (0..1): the borderline ones.")
]
RedactOpt = Annotated[
    bool, typer.Option("--redact/--no-redact", help="Replace PII in input, output and context by placeholders.")
]
LimitOpt = Annotated[Optional[int], typer.Option(help="Write at most N items.")]


def _run(append: bool, out, since, until, where, reasons, score_below, redact, limit, fmt) -> None:
    check_format(fmt)
    rep = open_store().export_dataset(
        out, since=since, until=until, where=where, reasons=reasons, score_below=score_below, redact=redact,
        limit=limit, append=append,
    )  # fmt: skip
    summary = {
        "path": rep.path,
        "candidates": rep.candidates,
        "duplicates": rep.duplicates,
        "already_present": rep.already_present,
        "written": rep.written,
        "total": rep.total,
        "reasons": rep.reasons,
    }
    if fmt == "json":
        sys.stdout.write(render.to_json(summary) + "\n")
    else:
        rows = [{"reason": k, "items": v} for k, v in rep.reasons.items()]
        verb = "added to" if append else "written to"
        if fmt != "csv":
            render.console().print(render.escape(f"{rep.written} item(s) {verb} {rep.path} ({rep.total} in the file)"))
        if rows or fmt == "csv":
            render.emit(rows, fmt, title="Why they were chosen" if fmt != "csv" else None)
        extra = []
        if rep.duplicates:
            extra.append(f"{rep.duplicates} duplicate call(s) merged")
        if rep.already_present:
            extra.append(f"{rep.already_present} already in the file")
        if extra:
            note("; ".join(extra))
    if "empty_because" in rep.header:
        note(rep.header["empty_because"] + "; calls are chosen from evals (run `llmscope eval`), findings "
             "(`llmscope scan`), errors and loops")  # fmt: skip


@dataset_app.command("export")
def export_cmd(
    out: OutOpt,
    since: SinceOpt = None,
    until: UntilOpt = None,
    where: WhereOpt = None,
    reasons: ReasonsOpt = None,
    score_below: ScoreBelowOpt = 0.6,
    redact: RedactOpt = True,
    limit: LimitOpt = None,
    fmt: FormatOpt = "table",
) -> None:
    """Write a new dataset (replacing the file) from the failing or borderline calls.

    llmscope dataset export --since 2025-11-08 --reasons hallucination,low_score -o regression.jsonl
    """
    _run(False, out, since, until, where, reasons, score_below, redact, limit, fmt)


@dataset_app.command("add")
def add_cmd(
    out: OutOpt,
    since: SinceOpt = None,
    until: UntilOpt = None,
    where: WhereOpt = None,
    reasons: ReasonsOpt = None,
    score_below: ScoreBelowOpt = 0.6,
    redact: RedactOpt = True,
    limit: LimitOpt = None,
    fmt: FormatOpt = "table",
) -> None:
    """Append the calls the dataset does not hold yet (same input, output and context = same item).

    llmscope dataset add --since 1d -o regression.jsonl
    """
    _run(True, out, since, until, where, reasons, score_below, redact, limit, fmt)


def register(app: typer.Typer) -> None:
    app.add_typer(dataset_app, name="dataset")
