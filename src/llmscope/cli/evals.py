"""``llmscope eval``: offline scorers or an LLM judge over stored calls or a dataset; ``compare`` and
``calibrate`` judges."""

from __future__ import annotations

import sys
from typing import Annotated, Optional

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from ..render import tables as render
from .common import (
    EXIT_CHECK_FAILED,
    FormatOpt,
    SinceOpt,
    TableOpt,
    UntilOpt,
    WhereOpt,
    check_format,
    fail,
    note,
    open_store,
    show,
    typer_app,
)

eval_app = typer_app(
    invoke_without_command=True,
    no_args_is_help=False,
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

JudgeOpt = Annotated[
    str,
    typer.Option(
        "--judge",
        help="builtin (offline), small-model (local Ollama), openai:MODEL, ollama:MODEL, or a [judges.NAME] profile.",
    ),
]
MetricsOpt = Annotated[
    Optional[str], typer.Option("--metrics", help="Comma-separated metric names (`llmscope eval --help` lists them).")
]
SampleOpt = Annotated[
    Optional[float],
    typer.Option(
        help="A share (0.2) or a count (200) of traces, chosen by a hash of the trace id (same on every run)."
    ),
]
AlwaysOpt = Annotated[
    Optional[str],
    typer.Option(help="One condition on span columns: matching calls are always scored, whatever --sample."),
]


def progress_bar() -> Progress:
    err = render.console(stderr=True)
    return Progress(
        TextColumn("[bold]eval {task.fields[judge]}"),
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


def _with_progress(call):
    bar = progress_bar()
    with bar:
        task = bar.add_task("eval", total=0, judge="", calls=0, cost=0.0, errors=0)  # a number: the text formats it

        def on_progress(p) -> None:
            bar.update(
                task, completed=p.done, total=p.total, judge=p.judge, calls=p.calls, cost=p.cost_usd, errors=p.errors
            )

        return call(on_progress)


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
    check_format(fmt)
    store = open_store()
    rep = _with_progress(
        lambda on_progress: store.evaluate(
            judge, metrics, since=since, until=until, where=where, sample=sample, always=always,
            budget_usd=budget_usd, repeat=repeat, rescore=rescore, concurrency=concurrency, dataset=dataset,
            limit=limit, fail_under=fail_under or (), on_progress=on_progress,
        )
    )  # fmt: skip
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
        "repairs": rep.repairs,
        "structured_output": rep.structured_output,
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
        if not rep.items:
            note("nothing to score: no LLM calls match (or every one is scored already; --rescore scores again)")
        if rep.skipped_budget:
            note(f"budget reached: {rep.skipped_budget} items not scored")
        if rep.repairs:
            note(f"{rep.repairs} repair request(s) for replies that did not parse")
        if rep.format_refused:
            note(f"{rep.judge} refused response_format ({rep.format_refused[:80]}): asked without it, and remembered")
        for e in rep.error_examples[:3]:
            note(f"eval error: {e}")
        if rep.errors and not rep.scored and not rep.cached:
            note(f"no scores: {rep.errors:,} judge errors and nothing scored (the pass rate is unknown, not 0 %)")
    failed = rep.failed_gates
    if failed:
        render.console(stderr=True).print(f"[bold red]gate failed:[/bold red] {render.escape('; '.join(failed))}")
        raise typer.Exit(EXIT_CHECK_FAILED)


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
    Spearman on scores) and their cost ratio.

        llmscope eval compare --judges small-model,openai:gpt-4o-mini --sample 200
    """
    check_format(fmt)
    names = [n.strip() for n in judges_.split(",") if n.strip()]
    if len(names) != 2:
        fail("--judges: give exactly two judges, A,B")
    store = open_store()
    res = _with_progress(
        lambda on_progress: store.compare_judges(
            names, metrics, since=since, until=until, where=where, sample=sample, always=always, on_progress=on_progress
        )
    )
    render.emit(res.table, fmt, title=res.title if fmt == "table" else None)


@eval_app.command("calibrate")
def eval_calibrate(
    labels: Annotated[
        Optional[str], typer.Option(help="JSONL of human labels: trace_id, span_id, metric, passed|label|score.")
    ] = None,
    against: Annotated[
        Optional[str], typer.Option(help="human: the labels made with `llmscope annotate` (instead of --labels).")
    ] = None,
    metric: Annotated[Optional[str], typer.Option(help="With --against human: only this metric's labels.")] = None,
    judge: JudgeOpt = "small-model",
    table: TableOpt = None,
    fmt: FormatOpt = "table",
) -> None:
    """Judge the labelled items and report agreement with the human labels: accuracy, Cohen's kappa,
    Spearman, and per class (recall and precision of pass and fail).

        llmscope eval calibrate --labels labels.jsonl --judge small-model

        llmscope eval calibrate --against human --judge small-model
    """
    check_format(fmt)
    store = open_store()
    res = _with_progress(
        lambda on_progress: store.calibrate(labels, judge, against=against, metric=metric, on_progress=on_progress)
    )
    show(res, fmt, table)


@eval_app.command("benchmark")
def eval_benchmark(
    judge: Annotated[str, typer.Option("--judge", help="Judges to benchmark, comma-separated: J[,J2…].")],
    labels: Annotated[
        str, typer.Option(help="JSONL of labelled items: input, output, context, metric, label (pass/fail or 1-5).")
    ],
    repeat: Annotated[int, typer.Option(help="Requests per item (uncached), for the flip rate.")] = 2,
    table: TableOpt = None,
    fmt: FormatOpt = "table",
) -> None:
    """Score labelled items with each judge: accuracy, balanced accuracy, Cohen's kappa, confusion by class,
    flip rate on repeats, errors, cost and latency per item -- choose the smallest judge that agrees.

        llmscope eval benchmark --judge small-model,openai:gpt-4o-mini --labels labels.jsonl

        llmscope eval benchmark --judge small-model --labels labels.jsonl --repeat 3 --table confusion --format csv
    """
    check_format(fmt)
    show(open_store().benchmark_judges(judge, labels, repeat=repeat), fmt, table)


def register(app: typer.Typer) -> None:
    app.add_typer(eval_app, name="eval")
