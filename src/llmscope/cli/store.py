"""Commands about the store itself: ``stats``, ``sql``, ``export parquet``, ``prune``, ``reprice``."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from ..render import tables as render
from .common import FormatOpt, TableOpt, check_format, fail, note, open_store, show, typer_app

export_app = typer_app(help="Export the store for other engines.")


def stats(
    fmt: FormatOpt = "table",
    coverage_limit: Annotated[int, typer.Option(help="Rows of the unmapped-keys report.")] = 30,
    table: TableOpt = None,
) -> None:
    """What is in the store: spans, traces, models, dialects, unpriced calls, mapping coverage.

    The mapping-coverage report lists GenAI attribute keys present in the data that no column reads.
    JSON and CSV print the totals; `--table models|dialects|unmapped_keys` prints another table.

        llmscope stats

        llmscope stats --table models --format csv
    """
    check_format(fmt)
    res = open_store().stats(coverage_limit)
    if fmt != "table" or table:
        show(res, fmt, table)
        return
    totals = res.to_dicts()[0]
    out = render.console()
    out.print(
        render.rich_table(
            ["metric", "value"],
            [{"metric": k, "value": render.fmt_value(v, k)} for k, v in totals.items()],
            title="Store",
        )
    )
    for name in ("models", "dialects"):
        render.emit(res[name].table, "table", title=res[name].title)
    if res["unmapped_keys"].num_rows:
        render.emit(res["unmapped_keys"].table, "table", title=res["unmapped_keys"].title)
    else:
        out.print("[green]Mapping coverage: every gen_ai.* / llm.* / openinference.* key seen is mapped.[/green]")


def sql(
    query: Annotated[str, typer.Argument(help="One read-only SQL query over spans, evals, logs, findings.")],
    fmt: FormatOpt = "table",
) -> None:
    """Run one read-only SQL query on the store. It sees the store's tables and nothing else: no
    files, no other databases, no settings (COPY, ATTACH, SET, INSTALL … are refused).

        llmscope sql "select request_model, sum(cost_usd) from spans group by 1" --format json

        llmscope sql "describe spans"
    """
    check_format(fmt)
    res = open_store().sql(query)
    render.emit(res.table, fmt)


def export_parquet(
    out_dir: Annotated[Path, typer.Argument(help="Directory to write spans/ and evals/ under.")],
) -> None:
    r"""Write `spans` and `evals` as Parquet, Hive-partitioned by day (`spans/date=2025-11-01/…`),
    readable by DuckDB, polars, Spark, ClickHouse, pandas:

        llmscope export parquet lake/

        duckdb -c "select count(\*) from read_parquet('lake/spans/\*/\*.parquet', hive_partitioning=true)"
    """
    try:
        counts = open_store().export_parquet(out_dir)
    except OSError as e:
        fail(f"{out_dir}: {e.strerror or e}")
    render.console().print(f"wrote {counts['spans']:,} spans and {counts['evals']:,} evals under {out_dir}/")


def export_clickhouse(
    url: Annotated[str, typer.Argument(help="clickhouse://USER:PASSWORD@HOST:8123/DATABASE or chdb:DIR.")],
) -> None:
    """Write the store's spans (and log-borne messages) into an OpenTelemetry Collector exporter-shaped
    `otel_traces` / `otel_logs` (created where missing; `?table=` / `?logs=` name others), so that
    `--db URL` gives the same reports. Spans already there are not written twice.

        llmscope export clickhouse clickhouse://default@localhost:8123/otel

        llmscope --db clickhouse://default@localhost:8123/otel report latency --by model
    """
    counts = open_store().export_clickhouse(url)
    render.console().print(
        f"wrote {counts['spans']:,} spans and {counts['logs']:,} log messages to {url.split('@')[-1]}"
    )


def prune(
    older_than: Annotated[str, typer.Option(help="Cut-off: a duration ago (30d, 12h) or a date (2025-11-01).")],
    content_only: Annotated[
        bool,
        typer.Option("--content-only", help="Keep metrics; remove prompts, responses, messages, content attributes."),
    ] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Say what would go (spans, bytes, time range); change nothing.")
    ] = False,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation on a terminal.")] = False,
    fmt: FormatOpt = "table",
) -> None:
    """Retention: delete spans older than a cut-off, or just their content, then rewrite the store file
    so the removed data is gone from disk too. On a terminal it asks first (`--yes` skips that);
    piped or in CI it does not ask and prints the same summary.

        llmscope prune --older-than 30d --content-only --dry-run

        llmscope prune --older-than 2025-11-08 --yes
    """
    check_format(fmt)
    store = open_store()
    plan = store.prune(older_than, content_only=content_only, dry_run=True)
    what = "the content of " if content_only else ""
    summary = (
        f"{what}{plan['spans']:,} spans in {plan['traces']:,} traces older than {plan['older_than']:%Y-%m-%d %H:%M}"
        + (f" ({plan['first']:%Y-%m-%d} … {plan['last']:%Y-%m-%d}, {plan['content_bytes'] / 1e6:,.1f} MB of content)"
           if plan["spans"] else "")
    )  # fmt: skip
    if dry_run or not plan["spans"]:
        if fmt == "table":
            render.console().print(("would prune " if plan["spans"] else "nothing to prune: no ") + summary)
        else:
            render.emit([plan], fmt)
        return
    if not yes and sys.stdin.isatty() and render.console().is_terminal:
        if not typer.confirm(f"Delete {summary}?", default=False):
            note("nothing was deleted")
            raise typer.Exit(1)
    res = store.prune(older_than, content_only=content_only)
    if fmt == "table":
        render.console().print(
            f"pruned {summary}; store {res['bytes_before'] / 1e6:,.1f} MB -> {res['bytes_after'] / 1e6:,.1f} MB"
        )
    else:
        render.emit([res], fmt)


def reprice(
    prices: Annotated[Optional[Path], typer.Option(help="User price file (TOML) to add or override models.")] = None,
    fmt: FormatOpt = "table",
) -> None:
    """Recompute every span's cost from the current price table, without re-ingesting.

    Your price file (--prices) adds or overrides models; `price_version` records which table priced
    each span.

        llmscope reprice --prices prices.toml
    """
    check_format(fmt)
    render.emit([open_store().reprice(prices)], fmt, title="Repriced")


def register(app: typer.Typer) -> None:
    app.command()(stats)
    app.command()(sql)
    export_app.command("parquet")(export_parquet)
    export_app.command("clickhouse")(export_clickhouse)
    app.add_typer(export_app, name="export")
    app.command()(prune)
    app.command()(reprice)
