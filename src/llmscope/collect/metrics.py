"""``GET /metrics``: the collector's own numbers and the LLM signals, in the Prometheus text format.

Counters are kept here as plain numbers and handed to ``prometheus_client`` at scrape time (a custom
collector on a registry of our own), so the request path pays a dict update, not a metric object per
label set. The LLM signals are counted when spans reach the store, from one aggregate query over the
rows each flush added (exactly once, like the store: a span a client re-sent is not counted again);
latency and TTFT histograms are bucketed in that query too, not in a Python loop over rows.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
# seconds; LLM calls run from ~100 ms to minutes
LATENCY_BUCKETS = (0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 30.0, 60.0, 120.0, 300.0)
TTFT_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0)


def _bucket_sql(column: str, buckets: tuple[float, ...]) -> str:
    """count per upper bound (not cumulative; the last is +Inf), as a list, from a millisecond column."""
    parts = [f"count(*) FILTER (WHERE {column} <= {b * 1000!r})" for b in buckets]
    return "[" + ", ".join(parts) + f", count({column})]"


# One row per (model, error class) over the LLM spans a flush added.
FLUSH_SQL = f"""
SELECT coalesce(request_model, response_model, '') AS model,
       CASE WHEN status = 'error' THEN coalesce(error_type, 'other') ELSE '' END AS error_class,
       count(*) AS calls,
       coalesce(sum(input_tokens), 0) AS input_tokens,
       coalesce(sum(output_tokens), 0) AS output_tokens,
       coalesce(sum(cost_usd), 0) AS cost_usd,
       {_bucket_sql("duration_ms", LATENCY_BUCKETS)} AS latency_buckets,
       coalesce(sum(duration_ms), 0) / 1000.0 AS latency_sum,
       {_bucket_sql("ttft_ms", TTFT_BUCKETS)} AS ttft_buckets,
       coalesce(sum(ttft_ms), 0) / 1000.0 AS ttft_sum
FROM spans WHERE ingested_at = ? AND span_type = 'llm'
GROUP BY ALL
"""


STATS_KEYS = (
    "requests", "accepted", "rejected", "bytes_received", "spans_received", "spans_acknowledged", "spans_rejected",
    "log_records_received", "spans_flushed", "spans_added", "duplicates", "log_messages_added", "flushes",
    "flush_errors", "last_flush", "last_flush_seconds", "last_flush_spans", "last_error", "max_flush_lag_s",
    "replayed_segments", "spool_frames_skipped_bytes", "spool_frames_bad", "frames_renormalized", "spool_write_failures", "store_busy",
    "cost_usd_flushed", "started_at",
)  # fmt: skip


class Metrics:
    """Every number of the collector, in one place under one lock: the counters of ``GET /stats`` and
    the live view, and the Prometheus families of ``GET /metrics`` built from them at scrape time.
    ``gauges`` is called at scrape time for the live levels (backlog, spool bytes, flush lag…)."""

    def __init__(self, gauges: Callable[[], dict[str, float]]):
        self._lock = threading.Lock()
        self._gauges = gauges
        self.s: dict = dict.fromkeys(STATS_KEYS, 0)
        self.s.update(last_flush=None, last_flush_seconds=None, last_error=None, max_flush_lag_s=0.0, started_at=None)
        self.s["cost_usd_flushed"] = 0.0
        self.by_status: dict[int, int] = defaultdict(int)
        self.requests: dict[tuple[str, str, str], int] = defaultdict(int)  # (protocol, signal, outcome)
        self.rejected: dict[str, int] = defaultdict(int)  # spans rejected, by reason
        self.refused: dict[str, int] = defaultdict(int)  # requests refused, by reason
        self.redacted: dict[str, int] = defaultdict(int)  # values redaction replaced in accepted requests, by kind
        self.llm: dict[tuple[str, str], list] = {}  # (model, error class) -> [calls, in, out, cost]
        self.latency: dict[str, list] = {}  # model -> [n per bucket..., n over the last bound, sum]
        self.ttft: dict[str, list] = {}
        self.ack_seconds = [0] * (len(ACK_BUCKETS) + 1) + [0.0]
        self.recent: deque[tuple] = deque()  # (t, latency_s, spans, error_spans, tokens, ok) for the live view
        self.flushed_recent: deque[tuple] = deque()  # (t, spans, cost_usd)
        self.registry = CollectorRegistry(auto_describe=False)
        self.registry.register(self)

    # ------------------------------------------------------------------ updates

    def count(self, **kw) -> None:
        with self._lock:
            for k, v in kw.items():
                self.s[k] += v

    def count_redacted(self, counts: dict[str, int]) -> None:
        if counts:
            with self._lock:
                for kind, n in counts.items():
                    self.redacted[kind] += n

    def set(self, **kw) -> None:
        with self._lock:
            self.s.update(kw)

    def request(
        self,
        protocol: str,
        signal: str,
        code: int,
        outcome: str,
        latency: float,
        spans: int = 0,
        error_spans: int = 0,
        tokens: int = 0,
    ) -> None:
        """One answered request: ``code`` is the HTTP status (gRPC answers are counted by their HTTP
        equivalent), ``outcome`` ``ok`` or the reason it was refused."""
        now = time.time()
        with self._lock:
            s = self.s
            s["requests"] += 1
            self.by_status[code] += 1
            self.requests[(protocol, signal, outcome)] += 1
            if outcome == "ok":
                s["accepted"] += 1
                i = next((k for k, b in enumerate(ACK_BUCKETS) if latency <= b), len(ACK_BUCKETS))
                self.ack_seconds[i] += 1
                self.ack_seconds[-1] += latency
            else:
                s["rejected"] += 1
                self.refused[outcome] += 1
            self.recent.append((now, latency, spans, error_spans, tokens, outcome == "ok"))
            while self.recent and self.recent[0][0] < now - 60:
                self.recent.popleft()

    def reject_spans(self, reason: str, n: int) -> None:
        if n:
            with self._lock:
                self.rejected[reason] += n
                self.s["spans_rejected"] += n

    def snapshot(self) -> dict:
        with self._lock:
            out = dict(self.s)
            out["by_status"] = dict(self.by_status)
            out["redacted"] = dict(self.redacted)
        return out

    def rates(self, window: float = 5.0) -> dict:
        """Live numbers over the last ``window`` seconds (for the live view)."""
        now = time.time()
        with self._lock:
            recent = [r for r in self.recent if r[0] >= now - window]
            flushed = [f for f in self.flushed_recent if f[0] >= now - 3600]
            started = self.s["started_at"] or now
        span_w = max(min(window, now - started), 1e-3)
        lat = sorted(r[1] for r in recent if r[5])
        spans = sum(r[2] for r in recent)
        cost_window = max(min(3600.0, now - started), 1.0)
        return {
            "requests_per_s": len(recent) / span_w,
            "spans_per_s": spans / span_w,
            "error_rate": (sum(r[3] for r in recent) / spans) if spans else 0.0,
            "rejected_rate": (sum(1 for r in recent if not r[5]) / len(recent)) if recent else 0.0,
            "p50_ms": lat[len(lat) // 2] * 1e3 if lat else None,
            "p99_ms": lat[min(len(lat) - 1, int(len(lat) * 0.99))] * 1e3 if lat else None,
            "tokens_per_s": sum(r[4] for r in recent) / span_w,
            "usd_per_hour": sum(f[2] for f in flushed) * 3600.0 / cost_window,
        }

    def flush_done(self, result, cost: float, seconds: float, lag: float) -> None:
        now = time.time()
        with self._lock:
            s = self.s
            s["flushes"] += 1
            s["spans_flushed"] += result.spans_read
            s["spans_added"] += result.spans_added
            s["duplicates"] += result.duplicates
            s["log_messages_added"] += result.log_messages_added
            s["last_flush"] = now
            s["last_flush_seconds"] = round(seconds, 3)
            s["last_flush_spans"] = result.spans_read
            s["max_flush_lag_s"] = max(s["max_flush_lag_s"], round(lag, 3))
            s["cost_usd_flushed"] += cost
            self.flushed_recent.append((now, result.spans_read, cost))
            while self.flushed_recent and self.flushed_recent[0][0] < now - 3600:
                self.flushed_recent.popleft()

    def flushed(self, rows: list[tuple]) -> None:
        """Rows of :data:`FLUSH_SQL` for one flush."""
        with self._lock:
            for model, error_class, calls, tin, tout, cost, lat_b, lat_sum, ttft_b, ttft_sum in rows:
                acc = self.llm.setdefault((model, error_class), [0, 0, 0, 0.0])
                acc[0] += calls
                acc[1] += tin
                acc[2] += tout
                acc[3] += cost
                for hist, buckets, total in ((self.latency, lat_b, lat_sum), (self.ttft, ttft_b, ttft_sum)):
                    h = hist.setdefault(model, [0] * len(buckets) + [0.0])
                    # the query counted "<= bound" for every bound: make them per bucket
                    prev = 0
                    for i, c in enumerate(buckets[:-1]):
                        h[i] += c - prev
                        prev = c
                    h[len(buckets) - 1] += buckets[-1] - prev  # over the last bound (+Inf)
                    h[-1] += total

    def text(self) -> bytes:
        return generate_latest(self.registry)

    # ------------------------------------------------------------------ prometheus_client collector

    def collect(self):
        with self._lock:
            requests, s = dict(self.requests), dict(self.s)
            spans = {
                "received": s["spans_received"],
                "acknowledged": s["spans_acknowledged"],
                "stored": s["spans_added"],
                "duplicates": s["duplicates"],
            }
            rejected, refused = dict(self.rejected), dict(self.refused)
            llm = {k: list(v) for k, v in self.llm.items()}
            latency = {k: list(v) for k, v in self.latency.items()}
            ttft = {k: list(v) for k, v in self.ttft.items()}
            ack = list(self.ack_seconds)
        yield from _collector_families(requests, spans, rejected, refused, ack)
        levels = self._gauges()
        for name, doc, value in (
            ("backlog_spans", "Acknowledged spans not yet in the store.", "backlog_spans"),
            ("spool_bytes", "Bytes in the spool.", "spool_bytes"),
            ("flush_lag_seconds", "Age of the oldest acknowledged span not yet in the store.", "flush_lag_s"),
            ("inflight_bytes", "Request bytes being received or normalized.", "inflight_bytes"),
            ("connections", "Open HTTP connections.", "connections"),
        ):
            yield GaugeMetricFamily(f"llmscope_collect_{name}", doc, value=levels.get(value, 0.0))
        yield from _llm_families(llm)
        yield _histogram(
            "llmscope_llm_latency_seconds", "LLM call duration.", {(m,): v for m, v in latency.items()}, LATENCY_BUCKETS
        )
        yield _histogram(
            "llmscope_llm_ttft_seconds",
            "LLM time to first token (streaming calls).",
            {(m,): v for m, v in ttft.items()},
            TTFT_BUCKETS,
        )


def _collector_families(requests: dict, spans: dict, rejected: dict, refused: dict, ack: list):
    """The collector's own counters: requests, spans, rejections, refusals, acknowledgement times."""
    c = CounterMetricFamily(
        "llmscope_collect_requests",
        "Export requests by protocol, signal and outcome.",
        labels=["protocol", "signal", "outcome"],
    )
    for (protocol, signal, outcome), n in sorted(requests.items()):
        c.add_metric([protocol, signal, outcome], n)
    yield c
    for key, doc in (
        ("received", "Spans in export requests that decoded."),
        ("acknowledged", "Spans acknowledged to clients (spooled and fsynced)."),
        ("stored", "Spans written to the store (new rows)."),
        ("duplicates", "Spans the store already held (a client re-sent them): not stored again."),
    ):
        yield CounterMetricFamily(f"llmscope_collect_spans_{key}", doc, value=spans.get(key, 0))
    c = CounterMetricFamily("llmscope_collect_spans_rejected", "Spans rejected, by reason.", labels=["reason"])
    for reason, n in sorted(rejected.items()):
        c.add_metric([reason], n)
    yield c
    c = CounterMetricFamily("llmscope_collect_refused", "Requests refused, by reason.", labels=["reason"])
    for reason, n in sorted(refused.items()):
        c.add_metric([reason], n)
    yield c
    yield _histogram(
        "llmscope_collect_ack_seconds",
        "From a request's body received to its acknowledgement (accepted requests).",
        {(): ack},
        ACK_BUCKETS,
        [],
    )


def _llm_families(llm: dict):
    """Calls, errors, tokens and cost of the LLM calls stored, by model (and error class)."""
    calls = CounterMetricFamily(
        "llmscope_llm_requests",
        "LLM calls stored, by model and error class ('' = ok).",
        labels=["model", "error_class"],
    )
    errors = CounterMetricFamily(
        "llmscope_llm_errors", "LLM calls that failed, by model and error class.", labels=["model", "error_class"]
    )
    tin = CounterMetricFamily("llmscope_llm_input_tokens", "Input tokens of LLM calls stored.", labels=["model"])
    tout = CounterMetricFamily("llmscope_llm_output_tokens", "Output tokens of LLM calls stored.", labels=["model"])
    cost = CounterMetricFamily("llmscope_llm_cost_usd", "Cost in US dollars of LLM calls stored.", labels=["model"])
    per_model: dict[str, list] = {}
    for (model, error_class), (n, i, o, usd) in sorted(llm.items()):
        calls.add_metric([model, error_class], n)
        if error_class:
            errors.add_metric([model, error_class], n)
        m = per_model.setdefault(model, [0, 0, 0.0])
        m[0] += i
        m[1] += o
        m[2] += usd
    for model, (i, o, usd) in sorted(per_model.items()):
        tin.add_metric([model], i)
        tout.add_metric([model], o)
        cost.add_metric([model], usd)
    yield from (calls, errors, tin, tout, cost)


ACK_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)


def _histogram(name: str, doc: str, series: dict[tuple, list], bounds: tuple, labels: list[str] | None = None):
    """A histogram family from per-bucket counts ([n per bucket..., n over the last bound, sum])."""
    h = HistogramMetricFamily(name, doc, labels=["model"] if labels is None else labels)
    for key, counts in sorted(series.items()):
        cumulative, running = [], 0
        for bound, n in zip(bounds, counts):
            running += n
            cumulative.append((repr(float(bound)), running))
        running += counts[len(bounds)]
        cumulative.append(("+Inf", running))
        if running == 0 and key:
            continue
        h.add_metric(list(key), cumulative, sum_value=counts[-1])
    return h
