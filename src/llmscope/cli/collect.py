"""``llmscope collect``: an OTLP/HTTP receiver on 127.0.0.1:4318, straight into the store."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from ..render import tables as render
from .common import open_store


def collect(
    host: Annotated[str, typer.Option(help="Address to listen on (loopback by default).")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="OTLP/HTTP port.")] = 4318,
    token: Annotated[
        Optional[str],
        typer.Option(
            envvar="LLMSCOPE_COLLECT_TOKEN",
            help="Require `Authorization: Bearer TOKEN`. Prefer the env LLMSCOPE_COLLECT_TOKEN: an option shows "
            "in the process list.",
        ),
    ] = None,
    flush_seconds: Annotated[float, typer.Option(help="Write to the store at least this often.")] = 2.0,
    flush_spans: Annotated[int, typer.Option(help="…or when this many spans are waiting.")] = 5000,
    tui: Annotated[
        bool, typer.Option("--tui", help="A live view: requests/s, spans/s, error rate, P99, tokens/s, $/hour.")
    ] = False,
    redact: Annotated[
        Optional[str], typer.Option(help="`pii`: store typed placeholders instead of PII values.")
    ] = None,
    hash_content: Annotated[
        bool, typer.Option("--hash-content", help="Store only keyed hashes of content ($LLMSCOPE_HASH_KEY).")
    ] = False,
) -> None:
    """Receive OTLP/HTTP traces and logs from instrumented apps, straight into the store.

    Point an exporter at it, e.g. `openlit.init(otlp_endpoint="http://127.0.0.1:4318")` or
    `OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4318`. Every request is written to an append-only
    spool and fsync-ed before it is acknowledged; the store is written in batches and opened only
    while writing, so `llmscope report …` works in another terminal. Ctrl-C flushes and exits.

        llmscope collect --tui

        LLMSCOPE_COLLECT_TOKEN=secret llmscope collect --host 0.0.0.0
    """
    from ..errors import CollectorError

    collector = open_store().collector(
        host=host,
        port=port,
        token=token,
        flush_seconds=flush_seconds,
        flush_spans=flush_spans,
        redact=redact,
        hash_content=hash_content,
    )
    err = render.console(stderr=True)
    try:
        collector.serve_forever(
            tui=tui,
            on_start=lambda c: err.print(
                f"llmscope collect: listening on http://{host}:{c.port} (POST /v1/traces, /v1/logs); Ctrl-C to stop"
            ),
        )
    except OSError as e:
        raise CollectorError(f"cannot listen on {host}:{port}: {e.strerror or e}") from None
    st = collector.stats  # a property: counters since start
    err.print(f"stopped: {st.get('spans_flushed', 0):,} spans written")


def register(app: typer.Typer) -> None:
    app.command()(collect)
