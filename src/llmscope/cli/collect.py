"""``llmscope collect``: an OTLP/HTTP receiver on 127.0.0.1:4318, straight into the store."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from ..render import tables as render
from .common import open_store, redacted_line


def collect(
    host: Annotated[str, typer.Option(help="Address to listen on (loopback by default).")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="OTLP/HTTP port (also serves GET /metrics).")] = 4318,
    grpc_port: Annotated[
        int, typer.Option(help="OTLP/gRPC port; 0 turns gRPC off (needs: pip install 'llmscope[grpc]').")
    ] = 4317,
    token: Annotated[
        Optional[str],
        typer.Option(
            envvar="LLMSCOPE_COLLECT_TOKEN",
            help="Require `Authorization: Bearer TOKEN` (HTTP header or gRPC metadata). Prefer the env "
            "LLMSCOPE_COLLECT_TOKEN: a value given as --token shows in the process list (ps).",
        ),
    ] = None,
    flush_seconds: Annotated[float, typer.Option(help="Write to the store at least this often.")] = 2.0,
    flush_spans: Annotated[int, typer.Option(help="…or when this many spans are waiting.")] = 5000,
    tui: Annotated[
        bool,
        typer.Option("--tui", help="A live view: requests/s, spans/s, error rate, request latency, tokens/s, $/hour."),
    ] = False,
    redact: Annotated[
        Optional[str], typer.Option(help="`pii`: store typed placeholders instead of PII values.")
    ] = None,
    hash_content: Annotated[
        bool, typer.Option("--hash-content", help="Store only keyed hashes of content ($LLMSCOPE_HASH_KEY).")
    ] = False,
) -> None:
    """Receive OTLP traces and logs (HTTP on 4318, gRPC on 4317) from instrumented apps, straight into the store.

    Point an app's OTLP exporter at it:

        OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4317 python app.py   # gRPC (the SDK default)

        OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4318 python app.py

        LLMSCOPE_COLLECT_TOKEN=s3cret llmscope collect --tui   # then send Authorization: Bearer s3cret

        curl -s http://127.0.0.1:4318/metrics   # Prometheus text format

    Every request is normalized by worker processes, written to an append-only spool and fsync-ed
    before it is acknowledged; the store is written in batches and opened only while writing, so
    `llmscope report …` works in another terminal. Ctrl-C flushes and exits.
    """
    from ..errors import CollectorError

    collector = open_store().collector(
        host=host,
        port=port,
        grpc_port=grpc_port if grpc_port > 0 else None,
        token=token,
        flush_seconds=flush_seconds,
        flush_spans=flush_spans,
        redact=redact,
        hash_content=hash_content,
    )
    err = render.console(stderr=True)

    def listening(c) -> None:
        grpc = f" and grpc://{host}:{c.grpc_port}" if c.grpc_port else ""
        err.print(
            f"llmscope collect: listening on http://{host}:{c.port}{grpc} (traces, logs; /metrics); Ctrl-C to stop"
        )

    try:
        collector.serve_forever(tui=tui, on_start=listening)
    except OSError as e:
        raise CollectorError(f"cannot listen on {host}:{port}: {e.strerror or e}") from None
    st = collector.stats  # a property: counters since start
    dup = f" ({st['duplicates']:,} already there)" if st.get("duplicates") else ""
    left = f"; {st['backlog_spans']:,} spans wait in {collector.spool_dir}" if st.get("backlog_spans") else ""
    redacted = f"; {redacted_line(st['redacted'])}" if st.get("redacted") else ""
    err.print(f"stopped: {st.get('spans_added', 0):,} spans stored{dup}{redacted}{left}")


def register(app: typer.Typer) -> None:
    app.command()(collect)
