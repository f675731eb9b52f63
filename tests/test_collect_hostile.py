"""`llmscope collect` under attack (all on 127.0.0.1): bad bodies are 400 / INVALID_ARGUMENT with the
reason, never 500; negative and malformed lengths are 400; connections, bytes in flight and time are
bounded (memory measured); a full disk leaves the spool as it was and loses no acknowledged span; a
kill -9 mid-load loses none either."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import zlib
from pathlib import Path

import httpx
import pytest
from helpers import REPO, descendants, query, still_running
from test_collect import ENV, JS, PB, _spawn, ids, json_request, pb_request

from llmscope.collect import Collector, CollectorConfig

REPRO = REPO.parent / "shared" / "repro" / "ingest"


def start(tmp_path, **kw) -> Collector:
    cfg = CollectorConfig(
        db=str(tmp_path / "store.duckdb"),
        port=0,
        grpc_port=kw.pop("grpc_port", None),
        flush_spans=50,
        flush_seconds=0.3,
        workers=kw.pop("workers", 1),
        **kw,
    )
    c = Collector(cfg)
    c.start()
    return c


def raw(port: int, data: bytes, timeout: float = 10) -> bytes:
    """Send bytes as they are; the answer's bytes."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(data)
        out = b""
        while b"\r\n\r\n" not in out:
            got = s.recv(65536)
            if not got:
                break
            out += got
        return out


def _repro_bodies() -> list[tuple[str, bytes]]:
    found = sorted(REPRO.glob("*.jsonl")) if REPRO.is_dir() else []
    # the same classes of fault, should the shared folder be missing
    inline = [
        ("scopespans_null", b'{"resourceSpans":[{"scopeSpans":[null]}]}'),
        ("unhashable_attr_key", b'{"resourceSpans":[{"resource":{"attributes":[{"key":{"a":1}}]}}]}'),
        ("resource_list", b'{"resourceSpans":[{"resource":[1]}]}'),
        ("flat_span", b'{"traceId":"0af7651916cd43dd8448eb211c80319c","spanId":"b7ad6b7169203331","name":"a"}'),
    ]
    return [(p.name, p.read_bytes().strip()) for p in found] + inline


def test_hostile_bodies_are_400_with_the_reason_over_http_and_invalid_argument_over_grpc(tmp_path):
    grpc = pytest.importorskip("grpc")
    c = start(tmp_path, grpc_port=0)
    url = f"http://127.0.0.1:{c.port}"
    try:
        with httpx.Client(base_url=url, timeout=10) as h:
            for name, body in _repro_bodies():
                path = "/v1/logs" if b"resourceLogs" in body else "/v1/traces"
                r = h.post(path, content=body, headers=JS)
                assert r.status_code == 400, (name, r.status_code, r.text)
                assert r.json()["message"], name  # the reason, in a google.rpc.Status
            # and the good requests after them still land
            assert h.post("/v1/traces", content=json_request(ids(0xA1, 3)), headers=JS).status_code == 200
        channel = grpc.insecure_channel(f"127.0.0.1:{c.grpc_port}")
        call = channel.unary_unary("/opentelemetry.proto.collector.trace.v1.TraceService/Export")
        for body in (b"\x0a\x05\x12\x03\xff\xff\xff", b"\x0a\x02\x0a\x00\x0a", bytes(range(256))):
            with pytest.raises(grpc.RpcError) as e:
                call(body, timeout=10)
            assert e.value.code() == grpc.StatusCode.INVALID_ARGUMENT and e.value.details()
        channel.close()
        assert c.stats["by_status"].get(500, 0) == 0
    finally:
        c.stop()
    assert query(tmp_path / "store.duckdb", "SELECT count(*) FROM spans")[0][0] == 3


def test_lengths_and_framing_cannot_bypass_the_cap(tmp_path):
    c = start(tmp_path, max_body_bytes=1 << 20)
    try:
        head = b"POST /v1/traces HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-protobuf\r\n"
        # a negative chunk size, with or without a Content-Length
        assert b" 400 " in raw(c.port, head + b"Transfer-Encoding: chunked\r\n\r\n-1\r\n" + b"x" * 1000)
        assert b" 400 " in raw(c.port, head + b"Content-Length: -1\r\nTransfer-Encoding: chunked\r\n\r\n-1\r\n")
        assert b" 400 " in raw(c.port, head + b"Content-Length: -1\r\n\r\n")
        assert b" 400 " in raw(c.port, head + b"Content-Length: +5\r\n\r\nhello")
        assert b" 400 " in raw(c.port, head + b"Transfer-Encoding: chunked\r\n\r\n0x10\r\n")
        # chunks that add up to more than the cap: 413 before the rest is read
        chunk = b"100000\r\n" + b"x" * (1 << 20) + b"\r\n"
        assert b" 413 " in raw(c.port, head + b"Transfer-Encoding: chunked\r\n\r\n" + chunk + chunk)
        # a good chunked request still works
        body = pb_request(ids(0xB1, 2))
        ok = head + b"Transfer-Encoding: chunked\r\n\r\n" + f"{len(body):x}\r\n".encode() + body + b"\r\n0\r\n\r\n"
        assert b" 200 " in raw(c.port, ok)
    finally:
        c.stop()
    assert query(tmp_path / "store.duckdb", "SELECT count(*) FROM spans")[0][0] == 2


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


SERVE_LIMITS = """
import sys
from llmscope.collect import Collector, CollectorConfig
cfg = CollectorConfig(db=sys.argv[1], port=0, workers=2, max_connections=16, max_inflight_bytes=8 << 20,
                      request_deadline_seconds=3, idle_timeout_seconds=5)
c = Collector(cfg)
c.serve_forever(on_start=lambda c: print(c.port, *c.workers.pids(), flush=True))
print("stopped", flush=True)
"""


def test_memory_connections_and_time_are_bounded_and_sigterm_does_not_wait(tmp_path):
    """16 concurrent gzip bodies of ~60 KB that inflate to 60 MB each, 200 connections, and a client that
    trickles a byte every second: memory stays under the ceiling (README: collector ~ 250 MB, each worker
    ~ 64 MB inflated + its base), extra connections get 503 with Retry-After, the trickler is cut at the
    deadline, and SIGTERM returns at once."""
    p = subprocess.Popen(
        [sys.executable, "-c", SERVE_LIMITS, str(tmp_path / "store.duckdb")],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=ENV,
    )
    try:
        port, *workers = map(int, p.stdout.readline().split())
        base = _rss_mb(p.pid) + sum(_rss_mb(w) for w in workers)
        comp = zlib.compressobj(9, zlib.DEFLATED, 31)
        bomb = comp.compress(bytes(60 << 20)) + comp.flush()
        assert len(bomb) < 100_000
        peak = [0.0]
        stop = threading.Event()

        def sample():
            while not stop.wait(0.05):
                with_workers = _rss_mb(p.pid) + sum(_rss_mb(w) for w in workers)
                peak[0] = max(peak[0], with_workers)

        threading.Thread(target=sample, daemon=True).start()
        codes = []

        def send():
            try:
                r = httpx.post(
                    f"http://127.0.0.1:{port}/v1/traces",
                    content=bomb,
                    headers={**PB, "Content-Encoding": "gzip"},
                    timeout=60,
                )
                codes.append(r.status_code)
            except httpx.HTTPError as e:
                codes.append(type(e).__name__)

        threads = [threading.Thread(target=send) for _ in range(16)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        # zeros inflate fine (60 MB < the 64 MB cap) but are no export request: 400, or 503 when too many at once
        assert set(codes) <= {400, 503} and 400 in codes, codes
        # 200 connections at once: at most 16 are served, the rest get 503 with Retry-After
        socks = [socket.create_connection(("127.0.0.1", port), timeout=5) for _ in range(200)]
        time.sleep(0.5)
        refused, other = 0, []
        for s in socks:
            s.settimeout(0.2)
            try:
                got = s.recv(4096)
            except TimeoutError:
                got = b""
            if got.startswith(b"HTTP/1.1 503") and b"Retry-After: 1" in got:
                refused += 1
            else:
                other.append(got[:40])
        assert refused >= 200 - 16, other
        threads_now = int(Path(f"/proc/{p.pid}/status").read_text().split("Threads:")[1].split()[0])
        assert threads_now < 80
        for s in socks:
            s.close()
        # slowloris: one header byte a second is cut at the 3 s deadline, not kept for minutes
        s = socket.create_connection(("127.0.0.1", port), timeout=30)
        t = time.monotonic()
        cut = None
        for ch in b"POST /v1/traces HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 60:
            try:
                s.sendall(bytes([ch]))
                s.settimeout(1.0)
                if s.recv(1) == b"":
                    cut = time.monotonic() - t
                    break
            except TimeoutError:
                continue
            except OSError:
                cut = time.monotonic() - t
                break
        assert cut is not None and cut < 8, cut
        # another trickler is still connected when SIGTERM comes: the stop does not wait for it
        s2 = socket.create_connection(("127.0.0.1", port), timeout=30)
        s2.sendall(b"POST /v1/traces HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nab")
        time.sleep(0.3)
        stop.set()
        t = time.monotonic()
        p.send_signal(signal.SIGTERM)
        out, err = p.communicate(timeout=30)
        assert p.returncode == 0, err[-2000:]
        assert time.monotonic() - t < 10
        s.close()
        s2.close()
    finally:
        if p.poll() is None:
            p.kill()
    growth = peak[0] - base
    print(f"base RSS {base:.0f} MB (collector + 2 workers), peak {peak[0]:.0f} MB, growth {growth:.0f} MB")
    # 16 bodies of 60 MB each would be ~1 GB inflated at once; the workers inflate one each at a time
    assert growth < 500, (base, peak[0])


# --------------------------------------------------------------------------- full disk


def _mount_tmpfs(path: Path, size: str) -> bool:
    path.mkdir()
    if os.geteuid() != 0 or shutil.which("mount") is None:
        return False
    return subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)]).returncode == 0


SERVE_SPOOL = """
import sys
from llmscope.collect import Collector, CollectorConfig
cfg = CollectorConfig(db=sys.argv[1], spool_dir=sys.argv[2], port=0, workers=0, flush_seconds=3600, flush_spans=10**9)
Collector(cfg).serve_forever(on_start=lambda c: print(c.port, flush=True))
print("stopped", flush=True)
"""


def test_a_full_disk_leaves_the_spool_as_it_was_and_loses_no_acknowledged_span(tmp_path):
    disk = tmp_path / "disk"
    if not _mount_tmpfs(disk, "2m"):
        pytest.skip("needs root to mount a small tmpfs")
    p = None
    try:
        spool = disk / "spool"
        db = tmp_path / "store.duckdb"
        p = subprocess.Popen(
            [sys.executable, "-c", SERVE_SPOOL, str(db), str(spool)], stdout=subprocess.PIPE, text=True, env=ENV
        )
        port = int(p.stdout.readline())
        url = f"http://127.0.0.1:{port}/v1/traces"
        acked = []
        with httpx.Client(timeout=10) as h:
            for k in range(3):
                assert h.post(url, content=pb_request(ids(0x2000 + k, 5)), headers=PB).status_code == 200
                acked += ids(0x2000 + k, 5)
            filler = disk / "filler"
            fd = os.open(filler, os.O_WRONLY | os.O_CREAT)  # fill the disk to the last byte
            for size in (1 << 16, 1 << 12, 1):
                try:
                    while True:
                        os.write(fd, b"\0" * size)
                except OSError:
                    pass
            os.close(fd)
            seg_sizes = {s.name: s.stat().st_size for s in spool.glob("seg-*.spool")}
            failed = h.post(url, content=pb_request(ids(0x2100, 5)), headers=PB)
            assert failed.status_code == 503 and int(failed.headers["retry-after"]) >= 1
            assert {s.name: s.stat().st_size for s in spool.glob("seg-*.spool")} == seg_sizes  # as it was
            filler.unlink()  # free, then acknowledge more
            for k in range(3):
                assert h.post(url, content=pb_request(ids(0x2200 + k, 5)), headers=PB).status_code == 200
                acked += ids(0x2200 + k, 5)
        p.send_signal(signal.SIGKILL)
        p.wait(10)
        p, port = _spawn_replay(db, spool)
        p.send_signal(signal.SIGTERM)
        p.communicate(timeout=60)
        rows = query(db, "SELECT trace_id, span_id FROM spans")
        assert len(rows) == len(set(rows)) == 30 and set(rows) == set(acked)
    finally:
        if p is not None and p.poll() is None:
            p.kill()
            p.wait(10)
        subprocess.run(["umount", "-l", str(disk)])


def _spawn_replay(db: Path, spool: Path):
    p = subprocess.Popen(
        [sys.executable, "-c", SERVE_SPOOL, str(db), str(spool)], stdout=subprocess.PIPE, text=True, env=ENV
    )
    return p, int(p.stdout.readline())


def test_replay_skips_a_torn_frame_and_goes_on(tmp_path):
    from llmscope.collect.spool import CT_PROTOBUF, SIG_TRACES, Spool, read_frames

    sp = Spool(tmp_path / "spool")
    for k in range(3):
        seg, end = sp.append(pb_request(ids(0x3000 + k, 4)), CT_PROTOBUF, SIG_TRACES, "identity", 4)
        seg.sync(end)
    sp.close()
    (path,) = (tmp_path / "spool").glob("seg-*.spool")
    data = path.read_bytes()
    first_end = data.find(b"LSP1", 4)
    path.write_bytes(data[:first_end] + data[first_end : first_end + 30] + data[first_end:])  # a torn write inside
    frames, skipped = read_frames(path)
    assert len(frames) == 3 and skipped == 30


# --------------------------------------------------------------------------- kill -9 mid-load


def _stored(db: Path) -> int:
    import duckdb

    try:
        return query(db, "SELECT count(*) FROM spans")[0][0]
    except duckdb.Error:  # a flush holds the file right now
        return 0


def test_every_acknowledged_span_is_stored_once_after_kill_9_mid_load(tmp_path):
    db = tmp_path / "store.duckdb"
    p, port = _spawn(db, flush_seconds=0.2)
    acked: list = []
    stop = threading.Event()

    def exporter(k: int):
        with httpx.Client(timeout=10) as h:
            n = 0
            while not stop.is_set():
                batch = ids(0x4000 + k * 1000 + n, 20)
                n += 1
                try:
                    r = h.post(f"http://127.0.0.1:{port}/v1/traces", content=pb_request(batch), headers=PB)
                except httpx.HTTPError:
                    return
                if r.status_code == 200:
                    acked.extend(batch)

    threads = [threading.Thread(target=exporter, args=(k,)) for k in range(3)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 90  # a loaded machine flushes late
    while time.monotonic() < deadline and not (len(acked) > 300 and _stored(db) > 0):
        time.sleep(0.2)
    children = descendants(p.pid)
    assert children  # the normalizing workers and the store's writer
    p.send_signal(signal.SIGKILL)  # mid-load: flushes done and requests in flight
    p.wait(10)
    stop.set()
    for t in threads:
        t.join()
    # no orphans: a worker left behind would keep the store locked and the restart out
    assert not still_running(children, within_s=5)
    stored_before = query(db, "SELECT count(*) FROM spans")[0][0]
    assert 0 < stored_before < len(acked)  # the kill did come mid-way
    p, port = _spawn(db, flush_seconds=3600)
    p.send_signal(signal.SIGTERM)
    p.communicate(timeout=60)
    rows = query(db, "SELECT trace_id, span_id FROM spans")
    assert len(rows) == len(set(rows))
    assert set(acked) <= set(rows)
