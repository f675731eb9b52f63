"""`llmscope ingest` under attack (issue 15): one bad record never ends an ingest, whatever its shape;
ids follow one rule on every path; a full disk is one line; a killed ingest leaves no process behind.

The hostile one-line inputs are tests/fixtures/hostile/ (copies of ../shared/repro/ingest/)."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from helpers import CAPTURED, FIXTURES, REPO, query

import llmscope
from llmscope.ingest import decode as decoding
from llmscope.ingest import otlp
from llmscope.normalize.builder import Batch, Mapping

HOSTILE = sorted((FIXTURES / "hostile").glob("*.jsonl"))
GOOD = CAPTURED / "otel-openai-v2-2.4b0" / "traces.otlp.jsonl"
GOOD_LOGS = CAPTURED / "otel-openai-v2-2.4b0" / "logs.otlp.jsonl"
ENV = dict(os.environ, NO_COLOR="1", COLUMNS="200", PYTHONPATH=str(REPO / "src"))


def cli(*args: str, input: bytes | None = None, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "llmscope", *args], capture_output=True, input=input, env=env or ENV, timeout=300
    )


def count(db: Path, table: str = "spans") -> int:
    return query(db, f"SELECT count(*) FROM {table}")[0][0] if db.exists() else 0


# --------------------------------------------------------------------------- 1. bad records


def test_the_hostile_fixtures_are_all_there():
    assert len(HOSTILE) == 8, HOSTILE


@pytest.mark.parametrize("bad", HOSTILE, ids=lambda p: p.name[:2])
def test_each_hostile_line_is_a_named_bad_record_and_the_good_files_land(tmp_path, bad):
    db = tmp_path / "s.duckdb"
    r = cli("--db", str(db), "ingest", str(GOOD), str(bad), str(GOOD_LOGS), "--format", "json")
    out, err = r.stdout.decode(), r.stderr.decode()
    assert r.returncode == 0, err
    assert "Traceback" not in out + err
    rep = json.loads(out)
    assert rep["bad_records"] >= 1
    [example] = [e for e in rep["bad_examples"] if e["source"] == str(bad)]
    assert example["line"] == 1 and example["reason"], example
    assert count(db) == 5  # the good files on the same command line are stored
    assert count(db, "logs") > 0

    # the same as a person reads it: one "skipped FILE:LINE: reason" line
    r = cli("--db", str(tmp_path / "t.duckdb"), "ingest", str(bad), str(GOOD))
    assert r.returncode == 0 and b"Traceback" not in r.stdout + r.stderr
    assert f"skipped {bad}:1: ".encode() in r.stderr, r.stderr

    # --strict: exit 2, one line naming the record, the store untouched
    before = count(db)
    r = cli("--db", str(db), "ingest", "--full", "--strict", str(GOOD), str(bad))
    assert r.returncode == 2, r.stderr
    assert b"Traceback" not in r.stdout + r.stderr
    assert f"{bad}:1: ".encode() in r.stderr and b"--strict: nothing was written" in r.stderr
    assert count(db) == before


def test_all_hostile_lines_in_one_file_are_each_counted(tmp_path):
    f = tmp_path / "all.jsonl"
    f.write_bytes(b"".join(p.read_bytes().rstrip(b"\n") + b"\n" for p in HOSTILE) + GOOD.read_bytes())
    rep = llmscope.open(tmp_path / "s.duckdb").ingest([f])
    assert rep.spans_added == 5
    assert sorted({line for _, line, _ in rep.bad_examples}) == list(range(1, 9)), rep.bad_examples


@pytest.mark.parametrize("bad", HOSTILE, ids=lambda p: p.name[:2])
def test_each_hostile_body_is_a_400_with_the_reason_over_otlp_http(tmp_path, bad):
    from llmscope.collect import Collector, CollectorConfig

    c = Collector(CollectorConfig(db=str(tmp_path / "c.duckdb"), port=0, workers=0, flush_seconds=0.2))
    c.start()
    try:
        body = bad.read_bytes().strip()
        path = "/v1/logs" if b"resourceLogs" in body else "/v1/traces"
        r = httpx.post(f"http://127.0.0.1:{c.port}{path}", content=body, headers={"Content-Type": "application/json"})
        assert r.status_code == 400, (r.status_code, r.text)
        assert r.json()["message"] and "internal" not in r.json()["message"]
    finally:
        c.stop()


# --------------------------------------------------------------------------- mutation fuzz

# Values a mutation puts where another value was: every JSON type, and the ones that broke things.
_BIG = "__BIG__"  # written as the literal 1e400 (json.dumps cannot produce it)
_NAN = "__NAN__"  # the literal NaN (not JSON: orjson refuses it; msgspec and the C decoder must too)
_REPLACEMENTS = [None, [], [1], {}, {"a": 1}, -1, 0, 2**64, 2**70, -(2**63) - 1, 1.5, True, "", "\ud800", "x\udfff"]
_REPLACEMENTS += ["\x1b[2J", "9" * 400, _BIG, _NAN, "NaN", "Infinity", "-1e400", [[[[[[]]]]]], {"key": {"a": 1}}]


class _Pairs(list):
    """A JSON object written with the pairs as given (so a key can appear twice)."""


def _dump(v) -> str:
    if isinstance(v, _Pairs):
        return "{" + ",".join(f"{json.dumps(k)}:{_dump(x)}" for k, x in v) + "}"
    if isinstance(v, dict):
        return "{" + ",".join(f"{json.dumps(k)}:{_dump(x)}" for k, x in v.items()) + "}"
    if isinstance(v, list):
        return "[" + ",".join(_dump(x) for x in v) + "]"
    if v == _BIG:
        return "1e400"
    if v == _NAN:
        return "NaN"
    return json.dumps(v)  # ensure_ascii: a lone surrogate is written as the escape \ud800


def _nodes(v, out: list, parent=None, key=None) -> list:
    out.append((parent, key, v))
    if isinstance(v, _Pairs):  # already written as it will be: a leaf
        return out
    if isinstance(v, dict):
        for k, x in v.items():
            _nodes(x, out, v, k)
    elif isinstance(v, list):
        for i, x in enumerate(v):
            _nodes(x, out, v, i)
    return out


def mutate(doc, rng: random.Random, n: int = 2):
    """``n`` structural mutations of a decoded export request: a value swapped for another type, a
    key dropped, a key duplicated (with a different value), a dict turned into a list."""
    for _ in range(n):
        nodes = [x for x in _nodes(doc, []) if x[0] is not None]
        if not nodes:
            break
        parent, key, value = rng.choice(nodes)
        op = rng.random()
        if op < 0.55:
            parent[key] = rng.choice(_REPLACEMENTS)
        elif op < 0.7 and isinstance(parent, dict):
            del parent[key]
        elif op < 0.85 and isinstance(parent, dict):
            pairs = _Pairs(list(parent.items()) + [(key, rng.choice(_REPLACEMENTS))])
            _replace(doc, parent, pairs)
        elif isinstance(value, dict):
            parent[key] = list(value.values())
        else:
            parent[key] = [value, value]
    return doc


def _replace(doc, old, new) -> None:
    for parent, key, v in _nodes(doc, []):
        if v is old and parent is not None:
            parent[key] = new
            return


def _captured_lines() -> list[bytes]:
    lines = []
    for f in sorted(CAPTURED.glob("*/*.otlp.jsonl")):
        lines += [x for x in f.read_bytes().splitlines() if x.strip()]
    return lines


def _with_trace_id(line: bytes, tid: str) -> bytes:
    """The line with every trace id replaced by ``tid`` (so mutated copies do not collide)."""
    doc = json.loads(line)
    for parent, key, _ in _nodes(doc, []):
        if key == "traceId" and isinstance(parent, dict):
            parent[key] = tid
    return _dump(doc).encode()


FUZZ_SEED = 15
FUZZ_LINES = 600


def test_mutated_captured_lines_never_end_an_ingest_good_lines_kept_bad_ones_counted(tmp_path):
    rng = random.Random(FUZZ_SEED)
    originals = _captured_lines()
    lines, control_ids = [], []
    for i in range(FUZZ_LINES):
        base = rng.choice(originals)
        if i % 10 == 0:  # an untouched line between the mutated ones: it must land whole
            tid = f"{0xC0 << 120 | i:032x}"
            lines.append(_with_trace_id(base, tid))
            if b"resourceSpans" in base:
                control_ids.append(tid)
            continue
        doc = json.loads(_with_trace_id(base, f"{0xF0 << 120 | i:032x}"))
        lines.append(_dump(mutate(doc, rng, n=rng.randint(1, 4))).encode())
    f = tmp_path / "fuzz.jsonl"
    f.write_bytes(b"\n".join(lines) + b"\n")

    # the oracle: each line alone through decode -> normalize -> Arrow, exactly as a worker does it
    expect_bad = expect_spans = 0
    for line in lines:
        b = decoding.decode(line, Batch(Mapping()), decoding.LINES)
        if len(b):
            assert b.span_record_batch().num_rows == len(b)
        if b.n_logs():
            b.log_record_batch()
        expect_bad += b.n_bad
        expect_spans += len(b)

    store = llmscope.open(tmp_path / "fuzz.duckdb")
    rep = store.ingest([f])  # no exception escapes, whatever the lines hold
    assert rep.bad_records == expect_bad > FUZZ_LINES // 4
    assert rep.spans_read == expect_spans
    assert all(reason for _, _, reason in rep.bad_examples)
    stored = {t for (t,) in query(tmp_path / "fuzz.duckdb", "SELECT DISTINCT trace_id FROM spans")}
    assert set(control_ids) <= stored  # good lines kept

    # and with the scrubber on (it walks every value too)
    rep = store.ingest([f], redact="pii", full=True)
    assert rep.bad_records == expect_bad


# --------------------------------------------------------------------------- 8. ids


_ID_CASES = [
    # (raw, nbytes, stored as) -- None: no id (all zero / absent); "bad": a bad record
    ("0af7651916cd43dd8448eb211c80319c", 16, "0af7651916cd43dd8448eb211c80319c"),
    ("0AF7651916CD43DD8448EB211C80319C", 16, "0af7651916cd43dd8448eb211c80319c"),
    ("0x0af7651916cd43dd8448eb211c80319c", 16, "0af7651916cd43dd8448eb211c80319c"),
    ("CvdlGRbNQ92ESOshHIAxnA==", 16, "0af7651916cd43dd8448eb211c80319c"),
    ("0" * 32, 16, None),
    ("z" * 32, 16, "bad"),
    ("é" * 32, 16, "bad"),
    ("g" + "0" * 31, 16, "bad"),
    ("+" + "a" * 31, 16, "bad"),  # int(x, 16) takes a sign
    ("a_" * 16, 16, "bad"),  # ... and underscores
    ("٣" * 32, 16, "bad"),  # ... and non-ASCII digits
    (" " + "a" * 31, 16, "bad"),
    ("b7ad6b7169203331", 8, "b7ad6b7169203331"),
    ("zzzzzzzzzzzzzzzz", 8, "bad"),
    ("ßßßßßßßßßßßßßßßß", 8, "bad"),
]


def _python_id(raw: str, nbytes: int):
    out = {}
    for name, fn in (("hex_id", otlp.hex_id), ("norm_id", otlp.norm_id)):
        try:
            out[name] = fn(raw, nbytes)
        except otlp.BadRecord:
            out[name] = "bad"
    return out


def _decoded_id(raw: str, nbytes: int, native: bool) -> str | None:
    """The id a whole span line with ``raw`` as its trace (or span) id is stored with, by one path."""
    sp = {"traceId": "0af7651916cd43dd8448eb211c80319c", "spanId": "b7ad6b7169203331", "name": "n"}
    sp["traceId" if nbytes == 16 else "spanId"] = raw
    line = json.dumps({"resourceSpans": [{"scopeSpans": [{"spans": [sp]}]}]}).encode()
    b = Batch(Mapping())
    decoding._lines(line, b, native=otlp.NATIVE_DECODE if native else None)
    if b.n_bad:
        return "bad"
    if not len(b):
        return None
    return b.rows[0][0 if nbytes == 16 else 1]


@pytest.mark.parametrize(("raw", "nbytes", "want"), _ID_CASES)
def test_ids_follow_one_rule_on_every_path(raw, nbytes, want):
    assert _python_id(raw, nbytes) == {"hex_id": want, "norm_id": want}
    want_line = "bad" if want is None else want  # a span without its id is a bad record
    assert _decoded_id(raw, nbytes, native=False) == want_line
    if otlp.NATIVE_DECODE is not None:  # the C decoder hands what it does not take to the same rule
        assert _decoded_id(raw, nbytes, native=True) == want_line


# --------------------------------------------------------------------------- 7. terminal output

# What span data tried to make the terminal do: clear the screen, title, an OSC-8 link, a bell, a
# right-to-left override; and what rich would have made of it: an emoji, markup.
EVIL = (
    "\x1b[2J\x1b]0;pwned\x07\x1b]8;;https://evil.example/\x1b\\click\x1b]8;;\x1b\\ \u202eRTL \x9b31m :x: [bold]b[/bold]"
)


def _evil_store(tmp_path: Path) -> Path:
    from helpers import export_line, kv, otlp_span, s, write_lines

    attrs = [kv("gen_ai.operation.name", s("chat")), kv("gen_ai.request.model", s("m" + EVIL))]
    attrs += [
        kv("error.type", s("E" + EVIL)),
        kv("gen_ai.input.messages", s(json.dumps([{"role": "user", "content": EVIL}]))),
    ]
    span = otlp_span(
        "4bf92f3577b34da6a3ce929d0e0e4736",
        "00f067aa0ba902b7",
        name="n" + EVIL,
        attrs=attrs,
        status={"code": 2, "message": "boom" + EVIL},
    )
    f = write_lines(tmp_path / "evil.jsonl", [export_line([span], service="svc" + EVIL)])
    db = tmp_path / "evil.duckdb"
    llmscope.open(db).ingest([f])
    return db


@pytest.mark.parametrize(
    "args",
    [
        ["trace", "list"],
        ["trace", "show", "4bf92f3577b3", "--content"],
        ["trace", "show", "4bf92f3577b3", "--graph"],
        ["sql", "SELECT name, status_message, error_type, input_text FROM spans"],
        ["sql", "SELECT name FROM spans", "--format", "markdown"],
        ["report", "errors", "--by", "error_type"],
        ["report", "latency", "--by", "request_model"],
        ["sql", "SELECT error(name) FROM spans"],  # an error line that quotes span data
    ],
    ids=lambda a: " ".join(a[:2]),
)
def test_span_data_cannot_drive_the_terminal(tmp_path, args):
    db = _evil_store(tmp_path)
    r = cli("--db", str(db), *args)
    out = r.stdout.decode() + r.stderr.decode()
    assert "Traceback" not in out
    assert r.returncode in (0, 2), out
    # NO_COLOR and a pipe: rich writes no escape of its own, so any control character came from the data
    assert not [c for c in out if (ord(c) < 32 and c not in "\n") or 0x7F <= ord(c) <= 0x9F], repr(out)
    assert "\u202e" not in out and "❌" not in out
    assert "\\x1b" in out  # shown, escaped, not dropped
    if "markdown" not in args:
        assert ":x:" in out and "[bold]" in out


def test_shown_escapes_every_control_and_only_those():
    from llmscope.render.tables import escape, shown

    assert shown("a\x1b[2Jb\tc\nd") == "a\\x1b[2Jb\tc\nd"
    assert shown("\x9b\x7f\u202e\u2066") == "\\x9b\\x7f\\u202e\\u2066"
    assert shown("ünïcødé 中文 🙂") == "ünïcødé 中文 🙂"
    assert escape("[bold]x\x07") == "\\[bold]x\\x07"


# --------------------------------------------------------------------------- 4. a full disk


def _mount_tmpfs(path: Path, size: str) -> bool:
    import shutil

    path.mkdir()
    if os.geteuid() != 0 or shutil.which("mount") is None:
        return False
    return subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)]).returncode == 0


def test_ingest_on_a_full_disk_is_one_line_exit_2_and_the_store_stays_as_it_was(tmp_path):
    disk = tmp_path / "disk"
    if not _mount_tmpfs(disk, "3m"):
        pytest.skip("needs root to mount a small tmpfs")
    try:
        db = disk / "store.duckdb"
        small = CAPTURED / "openlit-1.45.0" / "traces.otlp.jsonl"
        assert cli("--db", str(db), "ingest", str(small)).returncode == 0
        before = count(db)
        # a file much bigger than what is left on the disk
        big = tmp_path / "big.jsonl"
        from helpers import export_line, kv, otlp_span, s

        with open(big, "w") as f:
            for i in range(3000):
                text = f"{i} " + "lorem ipsum dolor sit amet " * 40
                f.write(
                    export_line(
                        [otlp_span(f"{i + 1:032x}", f"{i + 1:016x}", attrs=[kv("gen_ai.prompt", s(text + str(i)))])]
                    )
                    + "\n"
                )
        r = cli("--db", str(db), "ingest", str(big))
        err = r.stderr.decode()
        assert r.returncode == 2, (r.returncode, err[-6000:])
        assert "Traceback" not in err and "cannot rollback" not in err
        lines = [x for x in err.splitlines() if x.strip()]
        assert len(lines) == 1, err
        assert "No space left on device" in lines[0] and str(db) in lines[0], lines[0]
        assert count(db) == before  # consistent: all of the earlier ingest, none of this one
        assert cli("--db", str(db), "stats").returncode == 0
    finally:
        subprocess.run(["umount", "-l", str(disk)])


# --------------------------------------------------------------------------- 5. no orphans


def _children(pid: int) -> set[int]:
    """Every descendant of ``pid`` (from /proc)."""
    out: set[int] = set()
    todo = [pid]
    while todo:
        p = todo.pop()
        for task in Path(f"/proc/{p}/task").glob("*"):
            try:
                kids = [int(x) for x in (task / "children").read_text().split()]
            except OSError:
                continue
            for k in kids:
                if k not in out:
                    out.add(k)
                    todo.append(k)
    return out


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="reads /proc")
def test_kill_9_of_ingest_leaves_no_worker_or_tracker_behind(tmp_path):
    db = tmp_path / "s.duckdb"
    # stdin makes the ingest use its pool at once; a stdin that stays open keeps it mid-way for sure
    p = subprocess.Popen(
        [sys.executable, "-m", "llmscope", "--db", str(db), "ingest", "-", "--workers", "2"],
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=ENV,
    )
    try:
        line = GOOD.read_bytes().strip() + b"\n"
        for _ in range((5 << 20) // len(line) * 2):  # a few chunks: the workers get tasks
            p.stdin.write(line)
        p.stdin.flush()
        deadline = time.monotonic() + 120
        kids: set[int] = set()
        while time.monotonic() < deadline:  # the pool's workers (and the resource tracker) are up
            kids = _children(p.pid)
            if len(kids) >= 3:
                break
            time.sleep(0.2)
        assert len(kids) >= 3, kids
        assert p.poll() is None  # mid-way: still reading its input, nothing committed
        p.send_signal(signal.SIGKILL)
        p.wait()
        # generous: on a loaded machine a worker may still be importing (spawn) when its parent dies; it
        # exits as soon as it runs (parent-death signal, watchdog); what must never happen is that it stays
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and any(_alive(k) for k in kids):
            time.sleep(0.2)
        assert not [k for k in kids if _alive(k)], [Path(f"/proc/{k}/cmdline").read_bytes() for k in kids if _alive(k)]
    finally:
        if p.poll() is None:
            p.kill()
        p.stdin.close()
