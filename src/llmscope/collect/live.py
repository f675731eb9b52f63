"""``llmscope collect --tui``: the collector's live numbers, redrawn every second."""

from __future__ import annotations

import threading
from typing import Any


def top_view(source) -> Any:
    """A rich renderable of the collector's live numbers: ``source`` is a :class:`~.server.Collector`
    or a dict with the keys of ``Collector.stats`` and ``Collector.rates()`` (e.g. from ``GET /stats``)."""
    from rich.table import Table

    if hasattr(source, "rates"):
        st, r = source.stats, source.rates()
    else:
        st, r = source, source

    def f(v, fmt):
        return "–" if v is None else format(v, fmt)

    ports = f":{st.get('port')} http" + (f", :{st['grpc_port']} grpc" if st.get("grpc_port") else "")
    t = Table(
        title=f"llmscope collect  {ports}  up {st.get('uptime_s', 0):,.0f}s",
        show_header=False,
        box=None,
        padding=(0, 2),
        caption="request latency: how long the collector takes to acknowledge an export (not LLM latency)",
    )
    t.add_column(justify="left", style="bold")
    t.add_column(justify="right")
    t.add_column(justify="left", style="bold")
    t.add_column(justify="right")
    t.add_row("requests/s", f(r.get("requests_per_s"), ",.1f"), "spans/s", f(r.get("spans_per_s"), ",.0f"))
    t.add_row(
        "span error rate",
        f(r.get("error_rate", 0) * 100, ".1f") + "%",
        "refused requests",
        f(r.get("rejected_rate", 0) * 100, ".1f") + "%",
    )
    # the collector's own answer time, not the LLM calls' latency (that is `llmscope report latency`)
    t.add_row(
        "request latency P50",
        f(r.get("p50_ms"), ",.1f") + " ms",
        "request latency P99",
        f(r.get("p99_ms"), ",.1f") + " ms",
    )
    t.add_row("tokens/s", f(r.get("tokens_per_s"), ",.0f"), "$/hour", "$" + f(r.get("usd_per_hour"), ",.4f"))
    t.add_row("spans received", f(st.get("spans_received"), ","), "spans stored (new)", f(st.get("spans_added"), ","))
    t.add_row("backlog spans", f(st.get("backlog_spans"), ","), "flush lag", f(st.get("flush_lag_s"), ".1f") + " s")
    t.add_row(
        "spool",
        f((st.get("spool_bytes") or 0) / 1e6, ",.1f") + " MB",
        "last flush",
        f(st.get("last_flush_seconds"), ".2f")
        + " s"
        + (f" ({st['flush_errors']} errors)" if st.get("flush_errors") else ""),
    )
    return t


def run_top(collector, done: threading.Event, interval: float = 1.0) -> None:
    """Redraw :func:`top_view` every ``interval`` seconds until ``done`` is set."""
    from rich.live import Live

    with Live(top_view(collector), refresh_per_second=4, screen=False) as live:
        while not done.wait(interval):
            live.update(top_view(collector))
