"""``llmscope ingest``: files, directories or stdin into the store; ``--follow`` keeps watching."""

from __future__ import annotations

import signal
import sys
import threading
import time
from datetime import datetime
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeElapsedColumn

from .. import api
from ..errors import StrictAbort, located
from ..render import tables as render
from .common import FormatOpt, check_format, fail, note, open_store, redacted_line


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
            help="`pii`: store typed placeholders (<EMAIL_3fa91c>: the same value reads the same within its "
            "trace) instead of PII values."
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
            help="Keep watching: every DURATION (10s, 1m) ingest what is new in the files (and new files in the "
            "directories) until Ctrl-C or SIGTERM."
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
    check_format(fmt)
    store = open_store()
    options = dict(
        strict=strict,
        workers=workers,
        prices=prices,
        redact=redact,
        hash_content=hash_content,
        user_key=user_key or (),
        session_key=session_key or (),
        feature_key=feature_key or (),
        prompt_version_key=prompt_version_key or (),
    )
    if follow and "-" in paths:
        fail("--follow watches files and directories, not standard input")
    if follow:
        api.parse_duration(follow, param="follow")  # checked before the first round, not after it
    err = render.console(stderr=True)
    bar = Progress(
        TextColumn("[bold]ingest"),
        BarColumn(),
        DownloadColumn(),
        TextColumn("{task.fields[files]} files · {task.fields[spans]:,} spans · {task.fields[rate]:,.0f} spans/s"),
        TimeElapsedColumn(),
        console=err,
        transient=True,
        disable=not (err.is_terminal and fmt == "table"),
    )
    t0 = time.perf_counter()
    with bar:
        task = bar.add_task("ingest", total=None, files="0", spans=0, rate=0.0)

        def on_progress(p) -> None:
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
            report = store.ingest(paths, full=full, on_progress=on_progress, **options)
        except StrictAbort as e:
            src, line, reason = e.example
            fail(f"{located(src, line)}: {reason} (--strict: nothing was written)")
    summarize(report, fmt)
    done = report.spans_read or report.log_messages_added or report.evaluations_added or report.evaluations_waiting
    if report.bad_records and not (done or follow):
        # every record of every input was bad (a CSV, random bytes...): the work asked for was not done
        fail(f"nothing was ingested: all {report.bad_records:,} record(s) were bad (named above)")
    if follow:
        _follow(store, paths, follow, fmt, options)


def _follow(store, paths: list[str], every: str, fmt: str, options: dict) -> None:
    """Ingest what is new every ``every`` until Ctrl-C or SIGTERM; the store is free between rounds."""
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    note(f"following {', '.join(paths)} every {every}; Ctrl-C to stop", "dim")

    def on_round(rep) -> None:
        if not (rep.spans_read or rep.bad_records or rep.log_messages_added):
            return
        if fmt == "json":
            summarize(rep, fmt)
            return
        render.console().print(
            f"{datetime.now():%H:%M:%S} +{rep.spans_added:,} spans ({rep.duplicates:,} duplicates, "
            f"{rep.bad_records:,} bad records, {rep.log_messages_added:,} log messages)"
            + (f"; {redacted_line(rep.redacted)}" if rep.redacted else "")
        )
        _bad_examples(rep)

    def on_retry(e) -> None:  # a busy store (a long report) or a file gone by rotation: next round
        note(f"{datetime.now():%H:%M:%S} {e}; retrying next round")

    try:
        store.follow(paths, every, stop=stop, on_round=on_round, on_retry=on_retry, **options)
    except StrictAbort as e:
        src, line, reason = e.example
        fail(f"{located(src, line)}: {reason} (--strict: nothing of this round was written)")
    except KeyboardInterrupt:
        pass


def _bad_examples(rep) -> None:
    err = render.console(stderr=True)
    for src, line, reason in rep.bad_examples[:5]:
        err.print(f"[yellow]skipped[/yellow] {render.escape(located(src, line))}: {render.escape(reason)}")


def summarize(rep, fmt: str) -> None:
    summary = {
        "files": rep.files,
        "spans_read": rep.spans_read,
        "spans_added": rep.spans_added,
        "duplicates": rep.duplicates,
        "bad_records": rep.bad_records,
        "log_messages_added": rep.log_messages_added,
        "evaluations_added": rep.evaluations_added,
        "spans_given_log_content": rep.spans_given_log_content,
        "unpriced_calls": rep.unpriced,
        "seconds": round(rep.elapsed_s, 3),
        "spans_per_s": round(rep.spans_per_s),
        "bad_examples": [{"source": s, "line": n, "reason": r} for s, n, r in rep.bad_examples],
        "notes": rep.notes,
        "redacted": rep.redacted,
    }
    if fmt == "json":
        sys.stdout.write(render.to_json(summary) + "\n")
        return
    if fmt in ("csv", "markdown"):
        render.emit([{k: v for k, v in summary.items() if k not in ("bad_examples", "notes", "redacted")}], fmt)
        return
    _bad_examples(rep)
    if rep.bad_records > 5:
        note(f"… and {rep.bad_records - 5} more bad records (--format json lists up to 20)")
    for n in rep.notes[:5]:
        note(f"note: {n}", "dim")
    line = (
        f"ingested {rep.spans_added:,} new spans from {rep.files} file(s) in {rep.elapsed_s:.2f}s "
        f"({rep.spans_per_s:,.0f} spans/s); {rep.duplicates:,} duplicates ignored, "
        f"{rep.bad_records:,} bad records skipped"
    )
    if rep.log_messages_added:
        line += f"; {rep.log_messages_added:,} log messages ({rep.spans_given_log_content:,} spans got content)"
    if rep.evaluations_added:
        line += f"; {rep.evaluations_added:,} evaluation results (scores in evals)"
    if rep.unpriced:
        line += f"; {rep.unpriced:,} LLM calls unpriced (see `llmscope stats`)"
    render.console().print(line)
    if rep.redacted:
        render.console().print(redacted_line(rep.redacted))


def register(app: typer.Typer) -> None:
    app.command()(ingest)
