"""Load test of ``llmscope collect`` on 127.0.0.1: sustained acknowledged spans/s without loss.

    python benchmarks/collect_load.py --duration 20 --exporters 4

1. starts the collector in a subprocess (a fresh store and spool in a temp dir);
2. starts N exporter processes; each sends protobuf ExportTraceServiceRequests of 500 realistic
   GenAI spans (100 five-span RAG traces as in ``benchmarks/ingest.py``: the chat span carries the
   system prompt, three context documents and the answer; ~1.4 KB a span in protobuf), built once
   with opentelemetry-proto classes and re-stamped with fresh ids and current times per request,
   back to back over a keep-alive connection, for a fixed duration;
3. prints acknowledged spans/s, request latency P50/P99, how far the store lagged behind, and,
   after SIGTERM (which flushes everything), the spans in the store, which must equal the
   acknowledged ones;
4. ``--profile``: also times the collector's stages in this process on the same requests
   (protobuf parse, normalization, Arrow batch, spool write+fsync, store load) to show where time goes.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import resource
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "src"))


# --------------------------------------------------------------------------- request template


def template(n_spans: int = 500, seed: int = 7):
    """An ExportTraceServiceRequest of n_spans realistic spans, and for each span the index of its parent."""
    import base64

    from google.protobuf import json_format
    from ingest import _paragraphs, make_trace  # benchmarks/ingest.py: the same realistic spans
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

    rng = random.Random(seed)
    paragraphs = _paragraphs(rng)
    spans, t = [], time.time_ns()
    while len(spans) < n_spans:
        spans += make_trace(rng, t, paragraphs)
        t += rng.randint(10_000_000, 200_000_000)
    spans = spans[:n_spans]
    index = {(s["traceId"], s["spanId"]): i for i, s in enumerate(spans)}
    parents = [index.get((s["traceId"], s.get("parentSpanId"))) for s in spans]
    for s in spans:
        for k in ("traceId", "spanId", "parentSpanId"):
            if k in s:
                s[k] = base64.b64encode(bytes.fromhex(s[k])).decode()  # the protobuf JSON mapping wants base64
    doc = {
        "resourceSpans": [
            {
                "resource": {
                    "attributes": [
                        {"key": "service.name", "value": {"stringValue": "support-bot"}},
                        {"key": "telemetry.sdk.name", "value": {"stringValue": "opentelemetry"}},
                    ]
                },
                "scopeSpans": [
                    {"scope": {"name": "opentelemetry.instrumentation.openai_v2", "version": "2.4b0"}, "spans": spans}
                ],
            }
        ]
    }
    return json_format.ParseDict(doc, ExportTraceServiceRequest()), parents


class Stamper:
    """Fresh trace/span ids and current times on the template: a new request. The template is
    serialized once with marker ids; each request copies its bytes and writes new ids and times at
    their offsets (ids and fixed64 times have fixed lengths), so exporters cost little CPU (~0.3 ms
    a request instead of ~1 ms to build and serialize) and leave the cores to the collector."""

    def __init__(self, n_spans: int, seed: int):
        import struct

        req, self.parents = template(n_spans)
        spans = list(req.resource_spans[0].scope_spans[0].spans)
        self.n = len(spans)
        t0 = min(s.start_time_unix_nano for s in spans)
        rel = [(s.start_time_unix_nano - t0, s.end_time_unix_nano - t0) for s in spans]
        marks = []
        for i, sp in enumerate(spans):  # unique markers, found again in the bytes
            sp.trace_id = b"T" + struct.pack(">I", i) + b"\xa5" * 11
            sp.span_id = b"S" + struct.pack(">I", i) + b"\x5a" * 3
            sp.parent_span_id = b"P" + struct.pack(">I", i) + b"\x5a" * 3 if self.parents[i] is not None else b""
            sp.start_time_unix_nano = 0x7E7E7E7E7E7E7E00 | i % 200
            sp.end_time_unix_nano = 0x7D7D7D7D7D7D7D00 | i % 200
        self.body = bytearray(req.SerializeToString())
        pos = 0
        for i, sp in enumerate(spans):
            find = self.body.find
            t = find(sp.trace_id, pos)
            s_ = find(sp.span_id, pos)
            p = find(sp.parent_span_id, pos) if sp.parent_span_id else -1
            st = find(struct.pack("<Q", sp.start_time_unix_nano), pos)
            en = find(struct.pack("<Q", sp.end_time_unix_nano), pos)
            assert min(t, s_, st, en) >= 0
            marks.append((t, s_, p, st, en, rel[i]))
            pos = max(t, s_, st, en)
        # one gather index over [template | random pool | times]: each request is one pyarrow take
        import pyarrow as pa

        self.pa, self.pc = pa, __import__("pyarrow.compute").compute
        roots = [i for i in range(self.n) if self.parents[i] is None]
        root_of, r = [], -1
        for i in range(self.n):
            r = roots.index(i) if self.parents[i] is None else r
            root_of.append(r)
        size = len(self.body)
        self.pool_size = self.n * 8 + len(roots) * 16
        index = list(range(size))
        for i, (t, s_, p, st, en, _) in enumerate(marks):
            for k in range(8):
                index[s_ + k] = size + i * 8 + k
                if p >= 0:
                    index[p + k] = size + self.parents[i] * 8 + k
                index[st + k] = size + self.pool_size + i * 8 + k
                index[en + k] = size + self.pool_size + self.n * 8 + i * 8 + k
            for k in range(16):
                index[t + k] = size + self.n * 8 + root_of[i] * 16 + k
        self.index = pa.array(index, pa.int32())
        self.template = bytes(self.body)
        self.starts = [m[5][0] for m in marks]
        self.ends = [m[5][1] for m in marks]
        self.times = struct.Struct(f"<{2 * self.n}Q")
        self.rng = random.Random(seed)

    def next(self) -> bytes:
        now = time.time_ns() - 10_000_000_000
        times = self.times.pack(*[now + a for a in self.starts], *[now + b for b in self.ends])
        src = self.template + self.rng.randbytes(self.pool_size) + times
        arr = self.pa.Array.from_buffers(self.pa.uint8(), len(src), [None, self.pa.py_buffer(src)])
        return self.pc.take(arr, self.index).buffers()[1].to_pybytes()


# --------------------------------------------------------------------------- roles


def run_server(db: str, flush_seconds: float, flush_spans: int, max_lag: float) -> None:
    from llmscope.collect import Collector, CollectorConfig

    c = Collector(
        CollectorConfig(
            db=db,
            port=0,
            grpc_port=0,
            flush_seconds=flush_seconds,
            flush_spans=flush_spans,
            max_lag_seconds=max_lag,
        )
    )

    def ready(col):
        print(col.port, col.grpc_port, " ".join(map(str, col.workers.pids())), flush=True)

    c.serve_forever(on_start=ready)
    st = c.stats
    keys = ("spans_received", "spans_flushed", "spans_added", "duplicates", "flushes", "flush_errors")
    keys += ("max_flush_lag_s", "last_flush_seconds", "store_busy", "frames_renormalized")
    print(json.dumps({k: st[k] for k in keys}), flush=True)


class _HttpSender:
    def __init__(self, port: int):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

    def send(self, body: bytes) -> tuple[int, float]:
        self.conn.request("POST", "/v1/traces", body=body, headers={"Content-Type": "application/x-protobuf"})
        resp = self.conn.getresponse()
        resp.read()
        return resp.status, float(resp.getheader("Retry-After") or 1)

    def close(self):
        self.conn.close()


class _GrpcSender:
    def __init__(self, port: int):
        import grpc

        self.grpc = grpc
        self.channel = grpc.insecure_channel(f"127.0.0.1:{port}")
        self.call = self.channel.unary_unary("/opentelemetry.proto.collector.trace.v1.TraceService/Export")

    def send(self, body: bytes) -> tuple[int, float]:
        try:
            self.call(body, timeout=60)
            return 200, 0.0
        except self.grpc.RpcError as e:
            return {"UNAVAILABLE": 503, "RESOURCE_EXHAUSTED": 429}.get(e.code().name, 500), 1.0

    def close(self):
        self.channel.close()


def run_exporter(
    port: int, duration: float, n_spans: int, seed: int, start_at: float, rate: float = 0.0, protocol: str = "http"
) -> None:
    stamper = Stamper(n_spans, seed)
    body = stamper.next()
    while time.time() < start_at:
        time.sleep(0.01)
    deadline = start_at + duration
    sender = _GrpcSender(port) if protocol == "grpc" else _HttpSender(port)
    lat, acked, refused, build_s = [], 0, {}, 0.0
    last_ack = None
    sent = 0
    while time.time() < deadline:
        if rate:  # paced: request k goes out at start + k * n_spans / rate
            wait = start_at + sent * n_spans / rate - time.time()
            if wait > 0:
                time.sleep(wait)
        sent += 1
        t = time.perf_counter()
        status, retry_after = sender.send(body)
        dt = time.perf_counter() - t
        if status == 200:
            acked += n_spans
            lat.append(dt)
            last_ack = time.time()
            t = time.perf_counter()
            body = stamper.next()  # only a new request after an ack; a refused one is retried as is
            build_s += time.perf_counter() - t
        else:
            refused[status] = refused.get(status, 0) + 1
            time.sleep(retry_after)
    sender.close()
    print(
        json.dumps({"acked": acked, "lat": lat, "refused": refused, "last_ack": last_ack, "build_s": build_s}),
        flush=True,
    )


def ingest_baseline(work: Path, n_spans: int, per_request: int) -> tuple[float, int]:
    """`llmscope ingest` on the same kind of spans (the exporters' requests, written as a length-prefixed
    protobuf file), fresh store, wall time of the CLI: spans/s."""
    import struct

    data = work / f"baseline-{n_spans}.pb"
    if not data.exists():
        st = Stamper(per_request, 99)
        with open(data, "wb") as f:
            for _ in range(n_spans // per_request):
                b = st.next()
                f.write(struct.pack(">I", len(b)) + b)
    store = work / "baseline.duckdb"
    for p in (store, Path(f"{store}.wal")):
        p.unlink(missing_ok=True)
    t = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "llmscope", "--db", str(store), "ingest", str(data), "--format", "json"],
        capture_output=True,
        text=True,
    )
    elapsed = time.perf_counter() - t
    if proc.returncode != 0:
        sys.exit(f"baseline ingest failed: {proc.stderr[-2000:]}")
    added = json.loads(proc.stdout)["spans_added"]
    return added / elapsed, added


def _rss_mb(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total / 1024


# --------------------------------------------------------------------------- profile


def profile(n_spans: int, db: str) -> None:
    """Per-stage costs of the collector for one request of n_spans, measured in this process."""
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

    from llmscope import store
    from llmscope.collect.spool import CT_PROTOBUF, SIG_TRACES, Spool
    from llmscope.ingest import decode as decoding
    from llmscope.normalize.builder import Batch, Mapping

    def decode_payload(body, ctype, sig, mapping):
        return decoding.decode(body, Batch(mapping, source="collector"), decoding.OTLP_PROTOBUF)

    st = Stamper(n_spans, 1)
    bodies = [st.next() for _ in range(20)]
    m = Mapping()

    def timeit(fn, reps=None):
        t = time.perf_counter()
        for b in bodies[:reps]:
            fn(b)
        return (time.perf_counter() - t) / len(bodies[:reps]) * 1e3

    print(f"\nper request of {n_spans} spans ({len(bodies[0]) / 1e3:,.0f} KB), one thread:")
    print(f"  build + serialize (exporter side) {timeit(lambda b: st.next()):7.2f} ms")
    print(f"  protobuf parse                    {timeit(ExportTraceServiceRequest.FromString):7.2f} ms")
    print(
        f"  parse + normalize (Batch)         {timeit(lambda b: decode_payload(b, CT_PROTOBUF, SIG_TRACES, m)):7.2f} ms"
    )
    batches = [decode_payload(b, CT_PROTOBUF, SIG_TRACES, m) for b in bodies]
    t = time.perf_counter()
    rbs = [b.span_record_batch() for b in batches]
    print(f"  Arrow record batch                {(time.perf_counter() - t) / len(batches) * 1e3:7.2f} ms")
    with tempfile.TemporaryDirectory() as d:
        sp = Spool(d)
        t = time.perf_counter()
        for b in bodies:
            seg, end = sp.append(b, CT_PROTOBUF, SIG_TRACES, "identity", n_spans)
            seg.sync(end)
        print(f"  spool append + fdatasync          {(time.perf_counter() - t) / len(bodies) * 1e3:7.2f} ms")
        sp.close()
    t = time.perf_counter()
    con = store.connect(db)
    t1 = time.perf_counter()
    with store.Loader(con) as load:
        for rb in rbs:
            load.add(rb)
    t2 = time.perf_counter()
    con.close()
    t3 = time.perf_counter()
    n = sum(rb.num_rows for rb in rbs)
    print(
        f"  store: connect {(t1 - t) * 1e3:.0f} ms, load {n:,} spans {(t2 - t1) * 1e3:.0f} ms "
        f"({(t2 - t1) / n * 1e6:.1f} µs/span), close {(t3 - t2) * 1e3:.0f} ms"
    )


# --------------------------------------------------------------------------- driver


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def pct(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(len(xs) * q))] if xs else float("nan")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--duration", type=float, default=20.0)
    ap.add_argument("--exporters", type=int, default=4)
    ap.add_argument("--spans-per-request", type=int, default=500)
    ap.add_argument("--flush-seconds", type=float, default=2.0)
    ap.add_argument("--flush-spans", type=int, default=5000)
    ap.add_argument("--workdir", default=None)
    ap.add_argument(
        "--rate",
        type=float,
        default=0.0,
        help="offered load in spans/s over all exporters (default 0: as fast as acknowledged)",
    )
    ap.add_argument(
        "--max-lag",
        type=float,
        default=None,
        help="collector's max_lag_seconds: beyond it answers 429 (default: the collector's default)",
    )
    ap.add_argument("--protocol", choices=["http", "grpc", "both"], default="both", help="exporters' protocol")
    ap.add_argument(
        "--baseline-spans",
        type=int,
        default=300_000,
        help="spans for the same-run `llmscope ingest` baseline (0: skip it)",
    )
    ap.add_argument("--profile", action="store_true", help="also time the collector's stages in this process")
    ap.add_argument("--reader", action="store_true", help="open the store read-only every 2 s during the load")
    ap.add_argument("--series", action="store_true", help="print the collector's numbers every second")
    ap.add_argument("--role", choices=["driver", "server", "exporter"], default="driver", help=argparse.SUPPRESS)
    ap.add_argument("--db", help=argparse.SUPPRESS)
    ap.add_argument("--port", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--seed", type=int, default=0, help=argparse.SUPPRESS)
    ap.add_argument("--start-at", type=float, default=0.0, help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.role == "server":
        return run_server(a.db, a.flush_seconds, a.flush_spans, a.max_lag)
    if a.role == "exporter":
        return run_exporter(
            a.port, a.duration, a.spans_per_request, a.seed, a.start_at, a.rate / a.exporters, a.protocol
        )

    work = Path(a.workdir or tempfile.mkdtemp(prefix="llmscope-collect-"))
    work.mkdir(parents=True, exist_ok=True)
    db = work / "collect.duckdb"
    for p in (db, Path(f"{db}.wal")):
        p.unlink(missing_ok=True)
    import shutil

    shutil.rmtree(f"{db}.spool", ignore_errors=True)  # leftovers of an interrupted run would be replayed
    me = [sys.executable, str(Path(__file__).resolve())]
    from llmscope.collect.server import CollectorConfig

    max_lag = a.max_lag if a.max_lag is not None else CollectorConfig.max_lag_seconds
    a.baseline_rate = None
    if a.baseline_spans and not a.rate:
        a.baseline_rate, _ = ingest_baseline(work, a.baseline_spans, a.spans_per_request)
    server = subprocess.Popen(
        me
        + [
            "--role",
            "server",
            "--db",
            str(db),
            "--flush-seconds",
            str(a.flush_seconds),
            "--flush-spans",
            str(a.flush_spans),
            "--max-lag",
            str(max_lag),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        run_load(a, me, db, server)
    finally:
        if server.poll() is None:
            server.kill()


def _protocol(choice: str, i: int) -> str:
    return choice if choice != "both" else ("grpc" if i % 2 else "http")


def run_load(a, me, db, server) -> None:
    fields = server.stdout.readline().split()
    port, grpc_port, worker_pids = int(fields[0]), int(fields[1]), [int(x) for x in fields[2:]]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)  # the baseline ingest was a child too
    start_at = time.time() + 3.0  # exporters build their template first, then start together
    exporters = [
        subprocess.Popen(
            me
            + [
                "--role",
                "exporter",
                "--port",
                str(grpc_port if _protocol(a.protocol, i) == "grpc" else port),
                "--protocol",
                _protocol(a.protocol, i),
                "--duration",
                str(a.duration),
                "--spans-per-request",
                str(a.spans_per_request),
                "--seed",
                str(i + 1),
                "--rate",
                str(a.rate),
                "--exporters",
                str(a.exporters),
                "--start-at",
                str(start_at),
            ],
            stdout=subprocess.PIPE,
            text=True,
        )
        for i in range(a.exporters)
    ]
    # a report-like reader: every 2 s, open the store read-only (retrying every 100 ms) and count spans
    waits, stop_reader = [], threading.Event()

    def reader():
        import duckdb

        while not stop_reader.wait(2.0):
            t = time.perf_counter()
            while not stop_reader.is_set():
                try:
                    con = duckdb.connect(str(db), read_only=True)
                except duckdb.Error:
                    time.sleep(0.1)
                    continue
                con.execute("SELECT count(*), sum(cost_usd) FROM spans").fetchall()
                con.close()
                waits.append(time.perf_counter() - t)
                break

    if a.reader:
        threading.Thread(target=reader, daemon=True).start()
    # sample the collector's live numbers while the load runs
    samples, rss = [], {"collector": 0.0, "workers": 0.0}
    while any(p.poll() is None for p in exporters):
        time.sleep(1.0)
        rss["collector"] = max(rss["collector"], _rss_mb([server.pid]))
        rss["workers"] = max(rss["workers"], _rss_mb(worker_pids))
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            c.request("GET", "/stats")
            samples.append((time.time(), json.loads(c.getresponse().read())))
            c.close()
        except OSError:
            pass
    stop_reader.set()
    results = [json.loads(p.stdout.read().strip().splitlines()[-1]) for p in exporters]
    for p in exporters:
        p.wait()
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)  # the exporters: the only children reaped so far
    exporter_cpu = ru.ru_utime + ru.ru_stime - before.ru_utime - before.ru_stime
    server_cpu = _cpu_seconds(server.pid)
    workers_cpu = sum(_cpu_seconds(p) for p in worker_pids if Path(f"/proc/{p}").exists())
    acked = sum(r["acked"] for r in results)
    lat = [x for r in results for x in r["lat"]]
    last_ack = max(r["last_ack"] or 0 for r in results)
    refused = {}
    for r in results:
        for k, v in r["refused"].items():
            refused[k] = refused.get(k, 0) + v
    during = [s for t, s in samples if start_at <= t <= start_at + a.duration]
    t = time.time()
    server.send_signal(signal.SIGTERM)
    out = server.communicate(timeout=600)[0].strip().splitlines()
    stop_s = time.time() - t
    final = json.loads(out[-1])
    import duckdb

    con = duckdb.connect(str(db), read_only=True)
    in_store, distinct = con.execute("SELECT count(*), count(DISTINCT (trace_id, span_id)) FROM spans").fetchall()[0]
    con.close()

    print(
        f"collector load test: {a.exporters} exporter processes x {a.spans_per_request}-span protobuf requests"
        f"{f', offered {a.rate:,.0f} spans/s' if a.rate else ' as fast as acknowledged'}, "
        f"{a.duration:.0f} s, {os.cpu_count()} cores; flush every {a.flush_spans:,} spans / {a.flush_seconds:g} s"
    )
    print(
        f"  acknowledged:         {acked:>12,} spans in {len(lat):,} requests ({sum(refused.values())} refused: {refused or '-'})"
    )
    print(f"  sustained:            {acked / a.duration:>12,.0f} spans/s acknowledged   (target >= 20,000)")
    print(
        f"  request latency:      P50 {pct(lat, 0.5) * 1e3:,.0f} ms   P99 {pct(lat, 0.99) * 1e3:,.0f} ms   max {max(lat) * 1e3:,.0f} ms"
    )
    if during:
        print(
            f"  flush lag during run: max {max(s['flush_lag_s'] for s in during):.1f} s "
            f"(oldest acknowledged span not yet in the store), backlog max {max(s['backlog_spans'] for s in during):,} spans; "
            f"{final['flushes']} flushes, last took {final['last_flush_seconds']} s; "
            f"{final['frames_renormalized']} frames normalized again at their flush"
        )
    steady = [(t, s) for t, s in samples if start_at + a.duration * 0.25 <= t <= start_at + a.duration]
    store_rate = None
    if len(steady) >= 2:  # the last three quarters of the load: the first flushes are warm-up
        (t1, s1), (t2, s2) = steady[0], steady[-1]
        store_rate = (s2["spans_flushed"] - s1["spans_flushed"]) / (t2 - t1)
        print(
            f"  store write rate:     {store_rate:>12,.0f} spans/s loaded during the load's last 3/4 "
            f"({s2['spans_flushed']:,} in the store when it ended, {s2['backlog_spans']:,} behind)"
        )
    if store_rate is not None and a.baseline_rate:
        print(
            f"  same-run ingest:      {a.baseline_rate:>12,.0f} spans/s (`llmscope ingest` of {a.baseline_spans:,} such spans "
            f"as a .pb file, fresh store)  ->  store write / ingest = {store_rate / a.baseline_rate:.2f}x (target >= 0.75x)"
        )
    print(f"  peak RSS:             collector {rss['collector']:,.0f} MB, workers {rss['workers']:,.0f} MB together")
    if a.series:
        for t, s in samples:
            print(
                f"    t={t - start_at:6.1f}s  received {s['spans_received']:>9,}  flushed {s['spans_flushed']:>9,}  "
                f"backlog {s['backlog_spans']:>8,}  lag {s['flush_lag_s']:5.1f}s  {s['spans_per_s']:>8,.0f} spans/s"
            )
    print(
        f"  store caught up:      {stop_s:.1f} s after the load ended (SIGTERM -> final flush -> exit); "
        f"last ack to all in store {time.time() - last_ack:.1f} s"
    )
    print(
        f"  in the store:         {in_store:>12,} spans ({distinct:,} distinct)  "
        f"{'== acknowledged: no loss, no duplicates' if in_store == distinct == acked else '!= acknowledged: LOSS OR DUPLICATES'}"
    )
    if a.reader:
        print(
            f"  concurrent reader:    {len(waits)} read-only opens during the load; wait to get in "
            f"median {pct(waits, 0.5) * 1e3:,.0f} ms, max {max(waits, default=0) * 1e3:,.0f} ms (retrying every 100 ms)"
        )
    print(
        f"  CPU during the load:  collector {server_cpu / a.duration:.2f} cores + its workers {workers_cpu / a.duration:.2f}, exporters {exporter_cpu / a.duration:.2f} cores "
        f"(of {os.cpu_count()})"
    )
    print(f"  exporter-side build:  {sum(r['build_s'] for r in results) / max(len(lat), 1) * 1e3:.1f} ms per request")
    if a.profile:
        profile(a.spans_per_request, str(db.parent / "profile.duckdb"))
    if in_store != acked:
        sys.exit(1)


if __name__ == "__main__":
    main()
