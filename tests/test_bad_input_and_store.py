"""Bad input keeps the good rows and names file and line; the store is idempotent and transactional."""

from __future__ import annotations

import gzip
import os
import signal
import subprocess
import sys
import time

import pytest
from helpers import CAPTURED, SAMPLES, export_line, kv, otlp_span, query, s, write_lines

from llmscope import store
from llmscope.ingest import readers
from llmscope.ingest.pipeline import StrictAbort, ingest

T = "4bf92f3577b34da6a3ce929d0e0e4736"


def _span(i: int, **kw) -> dict:
    return otlp_span(T, f"{i:016x}", name=f"s{i}", **kw)


def _mixed_file(tmp_path):
    lines = [
        export_line([_span(1), _span(2)]),
        "{not json",
        export_line([{"name": "no ids", "startTimeUnixNano": "1"}, _span(3)]),  # one bad span, one good
        export_line([dict(_span(4), startTimeUnixNano="yesterday"), _span(5)]),  # wrong type
        json_flat_span_without_ids(),
        "",
        export_line([_span(6)]),
    ]
    return write_lines(tmp_path / "mixed.jsonl", lines)


def json_flat_span_without_ids() -> str:
    return '{"name": "flat", "attributes": {"a": 1}}'


def test_good_spans_land_and_each_bad_record_is_named(tmp_path, db):
    f = _mixed_file(tmp_path)
    rep = ingest([str(f)], db)
    assert rep.spans_added == 5  # spans 1, 2, 3, 5, 6
    assert rep.bad_records == 4
    where = [(line, reason.split(":")[0]) for _, line, reason in rep.bad_examples]
    assert where == [
        (2, "malformed JSON"),
        (3, "span 'no ids' has no trace id or span id"),
        (4, "time 'yesterday' is neither Unix nanoseconds nor ISO-8601"),
        (5, "span 'flat' has no trace id or span id"),
    ]
    assert all(src == str(f) for src, _, _ in rep.bad_examples)
    assert sorted(r[0] for r in query(db, "SELECT name FROM spans")) == ["s1", "s2", "s3", "s5", "s6"]


def test_strict_aborts_and_leaves_the_store_untouched(tmp_path, db):
    ingest([str(write_lines(tmp_path / "ok.jsonl", [export_line([_span(9)])]))], db)
    with pytest.raises(StrictAbort) as exc:
        ingest([str(_mixed_file(tmp_path))], db, strict=True)
    assert exc.value.example[1] == 2
    assert query(db, "SELECT count(*) FROM spans") == [(1,)]
    proc = subprocess.run(
        [sys.executable, "-m", "llmscope", "--db", str(db), "ingest", "--strict", str(tmp_path / "mixed.jsonl")],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2
    assert "mixed.jsonl:2:" in proc.stderr and "nothing was written" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert query(db, "SELECT count(*) FROM spans") == [(1,)]


def test_truncated_gzip_keeps_the_lines_before_the_cut(tmp_path, db):
    lines = [export_line([_span(i)]) for i in range(1, 201)]
    raw = gzip.compress(("\n".join(lines) + "\n").encode())
    f = tmp_path / "cut.jsonl.gz"
    f.write_bytes(raw[: len(raw) * 2 // 3])
    rep = ingest([str(f)], db)
    assert 0 < rep.spans_added < 200
    assert any("truncated gzip" in r for _, _, r in rep.bad_examples)
    n = query(db, "SELECT count(*) FROM spans")[0][0]
    assert n == rep.spans_added


def test_corrupt_gzip_keeps_the_lines_before_the_damage(tmp_path, db, monkeypatch):
    monkeypatch.setattr(readers, "INFLATE_STEP", 1024)  # what one inflate call may lose, scaled to a small file
    lines = [export_line([_span(i)]) for i in range(1, 3001)]
    raw = bytearray(gzip.compress(("\n".join(lines) + "\n").encode(), compresslevel=1))
    assert len(raw) > 8 * readers.INFLATE_STEP
    at = len(raw) * 2 // 3
    raw[at : at + 64] = b"\xff" * 64  # a damaged block in the middle
    f = tmp_path / "damaged.jsonl.gz"
    f.write_bytes(bytes(raw))
    rep = ingest([str(f)], db)
    # the lines before the damage land; what the damage garbled is counted and named by file and line
    assert 1000 < rep.spans_added < 3000
    assert rep.bad_records > 0
    assert all(src.endswith("damaged.jsonl.gz") and line > 1000 for src, line, _ in rep.bad_examples), rep.bad_examples
    assert query(db, "SELECT count(*) FROM spans")[0][0] == rep.spans_added


def test_empty_files_are_fine(tmp_path, db):
    (tmp_path / "empty.jsonl").write_bytes(b"")
    (tmp_path / "blank.jsonl").write_text("\n\n")
    rep = ingest([str(tmp_path / "empty.jsonl"), str(tmp_path / "blank.jsonl")], db)
    assert (rep.spans_added, rep.bad_records) == (0, 0)


def test_missing_file_is_a_one_line_error(tmp_path, db):
    proc = subprocess.run(
        [sys.executable, "-m", "llmscope", "--db", str(db), "ingest", str(tmp_path / "nope.jsonl")],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2
    assert "no such file" in proc.stderr and "Traceback" not in proc.stderr


def test_reingest_and_overlapping_files_add_no_duplicates(tmp_path, db):
    a = write_lines(tmp_path / "a.jsonl", [export_line([_span(1), _span(2), _span(3)])])
    b = write_lines(tmp_path / "b.jsonl", [export_line([_span(3), _span(4)]), export_line([_span(4)])])
    r1 = ingest([str(a)], db)
    r2 = ingest([str(a)], db)  # read on from where r1 stopped: nothing new
    r2_full = ingest([str(a)], db, full=True)  # read whole again: every span is a known one
    r3 = ingest([str(b)], db)
    assert (r1.spans_added, r2.spans_read, r2.spans_added) == (3, 0, 0)
    assert (r2_full.spans_read, r2_full.spans_added, r2_full.duplicates) == (3, 0, 3)
    assert (r3.spans_read, r3.spans_added, r3.duplicates) == (3, 1, 2)
    assert query(db, "SELECT count(*), count(DISTINCT (trace_id, span_id)) FROM spans") == [(4, 4)]


def test_a_grown_file_is_read_on_from_where_the_last_ingest_stopped(tmp_path, db):
    """A Collector file exporter appends; ingesting the file again reads only the new lines, and a
    bad new line is named by its line number in the whole file."""
    f = tmp_path / "traces.jsonl"
    write_lines(f, [export_line([_span(i)]) for i in (1, 2, 3)])
    assert ingest([str(f)], db).spans_added == 3
    with open(f, "a") as out:
        out.write(export_line([_span(4)]) + "\n" + "{oops\n" + export_line([_span(5)]) + "\n")
    rep = ingest([str(f)], db)
    assert (rep.spans_read, rep.spans_added, rep.bad_records) == (2, 2, 1)
    assert [(line, reason[:15]) for _, line, reason in rep.bad_examples] == [(5, "malformed JSON:")]
    assert any(n.startswith("3 line(s) read by an earlier ingest were not read again") for n in rep.notes)
    assert query(db, "SELECT name, source_line FROM spans WHERE name IN ('s4', 's5') ORDER BY 1") == [
        ("s4", 4),
        ("s5", 6),
    ]
    assert ingest([str(f)], db).spans_read == 0


def test_a_line_being_written_is_read_again_once_complete(tmp_path, db):
    f = tmp_path / "traces.jsonl"
    whole = export_line([_span(2)])
    f.write_text(export_line([_span(1)]) + "\n" + whole[:40])  # the writer is mid-line
    first = ingest([str(f)], db)
    # not a bad record while it is the last line: a writer may be mid-line (issue 14 item 14); a note says so
    assert (first.spans_added, first.bad_records) == (1, 0)
    assert any("last line" in n and "not complete" in n for n in first.notes), first.notes
    with open(f, "a") as out:
        out.write(whole[40:] + "\n")
    second = ingest([str(f)], db)
    assert (second.spans_added, second.bad_records) == (1, 0)
    assert query(db, "SELECT count(*) FROM spans") == [(2,)]


def test_a_replaced_or_rewritten_file_is_read_whole_again(tmp_path, db):
    f = tmp_path / "traces.jsonl"
    write_lines(f, [export_line([_span(i)]) for i in (1, 2, 3)])
    ingest([str(f)], db)
    write_lines(f, [export_line([_span(i)]) for i in (7, 8, 9, 10)])  # rotated: a new file, longer
    assert ingest([str(f)], db).spans_added == 4
    write_lines(
        f, [export_line([_span(i)]) for i in (7, 8)] + ["{changed}"] + [export_line([_span(11)])]
    )  # rewritten in place
    rep = ingest([str(f)], db)
    assert (rep.spans_read, rep.spans_added, rep.bad_records) == (3, 1, 1)


def test_a_rotated_file_is_recognised_under_its_new_name(tmp_path, db):
    """The exporter renames its full file (traces.jsonl -> traces-1.jsonl) and starts a new one: the
    renamed file is not read again (same device and inode, same bytes), the new one is read."""
    d = tmp_path / "otel"
    d.mkdir()
    write_lines(d / "traces.jsonl", [export_line([_span(i)]) for i in (1, 2, 3)])
    ingest([str(d)], db)
    (d / "traces.jsonl").rename(d / "traces-1.jsonl")
    write_lines(d / "traces.jsonl", [export_line([_span(4)])])
    rep = ingest([str(d)], db)
    assert (rep.spans_read, rep.spans_added, rep.duplicates) == (1, 1, 0)


def test_unchanged_gzip_and_documents_are_not_read_again_changed_ones_are(tmp_path, db):
    import gzip as gz

    archive = tmp_path / "old.jsonl.gz"
    archive.write_bytes(gz.compress((export_line([_span(1)]) + "\n" + export_line([_span(2)]) + "\n").encode()))
    doc = tmp_path / "one.json"
    doc.write_text(export_line([_span(3)]))
    assert ingest([str(archive), str(doc)], db).spans_added == 3
    again = ingest([str(archive), str(doc)], db)
    assert again.spans_read == 0 and any(n.startswith("3 line(s) read by an earlier ingest") for n in again.notes)
    doc.write_text(export_line([_span(3), _span(4)]))  # changed: read whole again
    changed = ingest([str(archive), str(doc)], db)
    assert (changed.spans_read, changed.spans_added) == (2, 1)


def test_a_failed_ingest_does_not_move_the_read_position(tmp_path, db):
    f = tmp_path / "traces.jsonl"
    write_lines(f, [export_line([_span(1)])])
    ingest([str(f)], db)
    with open(f, "a") as out:
        out.write(export_line([_span(2)]) + "\n{bad\n")
    with pytest.raises(StrictAbort):
        ingest([str(f)], db, strict=True)
    rep = ingest([str(f)], db)  # the appended lines are still new
    assert (rep.spans_added, rep.bad_records) == (1, 1)


def test_follow_ingests_what_the_exporter_appends_until_sigterm(tmp_path, db):
    f = tmp_path / "traces.jsonl"
    write_lines(f, [export_line([_span(1)])])
    proc = subprocess.Popen(
        [sys.executable, "-m", "llmscope", "--db", str(db), "ingest", str(f), "--follow", "0.2s"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "NO_COLOR": "1"},
    )

    def spans() -> int:
        try:
            return query(db, "SELECT count(*) FROM spans")[0][0]
        except Exception:  # not created yet, or being written
            return -1

    try:
        deadline = time.time() + 30
        while spans() != 1 and time.time() < deadline:
            time.sleep(0.05)
        with open(f, "a") as out:
            out.write(export_line([_span(2), _span(3)]) + "\n")
        while spans() != 3 and time.time() < deadline:
            time.sleep(0.05)
        assert spans() == 3
    finally:
        proc.send_signal(signal.SIGTERM)
        out, errout = proc.communicate(timeout=30)
    assert proc.returncode == 0, errout
    assert "+2 spans (0 duplicates, 0 bad records" in out and "Traceback" not in errout


def test_follow_waits_for_a_half_written_last_line_instead_of_calling_it_malformed(tmp_path, db):
    """An exporter's file grows in writes that can stop mid-line: every round of `follow` leaves the half
    line for later without counting it bad, and reads it once it is complete; a bad line that is not the
    last one is still bad."""
    import queue
    import threading

    import llmscope

    lines = (CAPTURED / "traceloop-sdk-0.62.4" / "traces.otlp.jsonl").read_bytes().splitlines(keepends=True)
    assert len(lines) == 5  # one span per export request (disable_batch)
    f = tmp_path / "traces.jsonl"
    f.write_bytes(lines[0][:100])  # a new file, its first write stopping mid-line
    rounds: queue.Queue = queue.Queue()
    stop = threading.Event()
    store = llmscope.open(db)
    follower = threading.Thread(
        target=store.follow, args=([str(f)], "0.05s"), kwargs=dict(stop=stop, on_round=rounds.put)
    )
    follower.start()
    try:
        got = [rounds.get(timeout=60) for _ in range(2)]
        assert [(r.spans_added, r.bad_records) for r in got] == [(0, 0), (0, 0)], [r.bad_examples for r in got]
        assert all(any("only line is not complete" in n for n in r.notes) for r in got), [r.notes for r in got]
        with open(f, "ab") as out:
            out.write(lines[0][100:] + lines[1] + lines[2][:100])  # the second write stops mid-line too
        got = []
        while sum(r.spans_added for r in got) < 2:  # the two whole lines (rounds before the write read none)
            got.append(rounds.get(timeout=60))
        got += [rounds.get(timeout=60) for _ in range(2)]  # and more rounds while the line stays half-written
        assert [r.bad_records for r in got] == [0] * len(got), [r.bad_examples for r in got]
        assert sum(r.spans_added for r in got) == 2
        assert all(any("last line" in n for n in r.notes) for r in got[-2:]), [r.notes for r in got]
        with open(f, "ab") as out:
            out.write(lines[2][100:] + lines[3] + b"{not json\n" + lines[4][:50])
        later = []
        while sum(r.spans_added for r in later) < 2:
            later.append(rounds.get(timeout=60))
        # the completed line and the next one are read; the bad line in the middle is bad, the new half line is not
        assert sum(r.bad_records for r in later) == 1
        assert [(line, reason[:15]) for r in later for _, line, reason in r.bad_examples] == [(5, "malformed JSON:")]
        with open(f, "ab") as out:
            out.write(lines[4][50:])  # completed without a newline: a whole last line is read
        while sum(r.spans_added for r in later) < 3:
            later.append(rounds.get(timeout=60))
    finally:
        stop.set()
        follower.join(timeout=60)
    assert not follower.is_alive()
    assert query(db, "SELECT count(*), count(DISTINCT span_id) FROM spans") == [(5, 5)]
    assert sum(r.bad_records for r in later) == 1


def test_a_failure_mid_ingest_rolls_back_everything(tmp_path, db):
    files = [
        write_lines(tmp_path / f"f{i}.jsonl", [export_line([_span(10 * i + j) for j in range(5)])]) for i in range(3)
    ]

    def explode(p):
        if p.files_done == 2:
            raise RuntimeError("disk on fire")

    with pytest.raises(RuntimeError):
        ingest([str(f) for f in files], db, on_progress=explode)
    assert query(db, "SELECT count(*) FROM spans") == [(0,)]


def test_killed_ingest_leaves_all_or_nothing(tmp_path, db):
    """SIGKILL a real ingest half-way: after restart the store holds none of the file, or all of it."""
    from benchmarks_ingest import write_file

    big = tmp_path / "big.jsonl"
    n = write_file(big, 80_000)
    proc = subprocess.Popen(
        [sys.executable, "-m", "llmscope", "--db", str(db), "ingest", str(big), "--workers", "1"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.time() + 60
    while time.time() < deadline and proc.poll() is None:  # wait until batches are being written
        if db.exists() and db.stat().st_size > 4_000_000:
            break
        time.sleep(0.01)
    killed_mid = proc.poll() is None
    if killed_mid:
        os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    count = query(db, "SELECT count(*) FROM spans")[0][0] if db.exists() else 0
    if killed_mid:
        assert count == 0, "a killed ingest must leave none of its spans"
    else:
        assert count == n
    rep = ingest([str(big)], db)  # and a re-run completes it, without duplicates
    assert query(db, "SELECT count(*) FROM spans") == [(n,)]
    assert rep.spans_added == n - count


def test_trace_context_is_inherited_from_the_root_even_across_ingests(tmp_path, db):
    root = _span(1, attrs=[kv("user.id", s("u-1")), kv("app.feature", s("billing"))])
    child = _span(2, parent=f"{1:016x}", attrs=[kv("gen_ai.operation.name", s("chat"))])
    late = _span(3, parent=f"{2:016x}")
    ingest([str(write_lines(tmp_path / "a.jsonl", [export_line([child]), export_line([root])]))], db)
    ingest([str(write_lines(tmp_path / "b.jsonl", [export_line([late])]))], db)
    assert query(db, "SELECT name, user_id, feature FROM spans ORDER BY name") == [
        ("s1", "u-1", "billing"),
        ("s2", "u-1", "billing"),
        ("s3", "u-1", "billing"),
    ]


def test_trace_context_reaches_spans_written_in_an_earlier_batch_of_the_same_ingest(tmp_path, db, monkeypatch):
    """A trace split across batches: the child is written before its root arrives in a later batch
    of the same ingest, and still gets the root's user and feature."""
    monkeypatch.setattr(readers, "CHUNK_BYTES", 1)  # one line a unit, one unit a batch
    monkeypatch.setattr(store.Loader, "FLUSH_ROWS", 1)  # every batch written as it comes
    root = _span(1, attrs=[kv("user.id", s("u-1")), kv("app.feature", s("billing"))])
    child = _span(2, parent=f"{1:016x}", attrs=[kv("gen_ai.operation.name", s("chat"))])
    other = otlp_span(
        f"{7:032x}", f"{3:016x}", name="s3", attrs=[kv("user.id", s("u-2"))]
    )  # a whole trace in one batch: untouched
    report = ingest(
        [str(write_lines(tmp_path / "a.jsonl", [export_line([child]), export_line([other]), export_line([root])]))],
        db,
        workers=1,
    )
    assert report.spans_given_context == 1
    assert query(db, "SELECT name, user_id, feature FROM spans ORDER BY name") == [
        ("s1", "u-1", "billing"),
        ("s2", "u-1", "billing"),
        ("s3", "u-2", None),
    ]


def test_without_a_root_the_earliest_span_with_a_value_gives_the_trace_its_context(tmp_path, db):
    """No root in the input: the earliest span that has a value decides user and session for all,
    and is the feature of spans without one."""
    late = _span(
        3,
        parent=f"{1:016x}",
        start_ns=1_762_000_000_500_000_000,
        attrs=[kv("session.id", s("sess_late")), kv("app.feature", s("late"))],
    )
    early = _span(
        2,
        parent=f"{1:016x}",
        start_ns=1_762_000_000_100_000_000,
        attrs=[kv("session.id", s("sess_early")), kv("user.id", s("u-1"))],
    )
    bare = _span(4, parent=f"{1:016x}", start_ns=1_762_000_000_000_000_000)
    ingest([str(write_lines(tmp_path / "a.jsonl", [export_line([late, early, bare])]))], db)
    assert query(db, "SELECT name, session_id, user_id, feature FROM spans ORDER BY name") == [
        ("s2", "sess_early", "u-1", "late"),
        ("s3", "sess_early", "u-1", "late"),
        ("s4", "sess_early", "u-1", "late"),
    ]


def test_user_and_session_belong_to_the_trace_feature_and_prompt_version_to_the_span(tmp_path, db):
    """As in Langfuse and Phoenix a trace is one user's and in one session: the root's session.id
    wins over the conversation id an instrumentation writes on the chat span (which stays in its
    attributes); feature and prompt version stay the span's own."""
    root = _span(1, attrs=[kv("session.id", s("sess_1")), kv("user.id", s("u-1")), kv("app.feature", s("chat"))])
    chat = _span(
        2,
        parent=f"{1:016x}",
        attrs=[
            kv("gen_ai.operation.name", s("chat")),
            kv("gen_ai.conversation.id", s("conv_9")),
            kv("app.feature", s("answer")),
            kv("prompt.version", s("v3")),
        ],
    )
    ingest([str(write_lines(tmp_path / "a.jsonl", [export_line([root, chat])]))], db)
    assert query(
        db,
        """SELECT name, session_id, user_id, feature, prompt_version,
                        json_extract_string(attributes, '$."gen_ai.conversation.id"') FROM spans ORDER BY name""",
    ) == [
        ("s1", "sess_1", "u-1", "chat", "v3", None),  # a span without a prompt version inherits the trace's
        ("s2", "sess_1", "u-1", "answer", "v3", "conv_9"),
    ]


def test_a_root_arriving_in_a_later_ingest_sets_its_trace_context(tmp_path, db):
    """Children ingested first (one with its own conversation id, one with nothing) take the
    trace's session and user once the root arrives in a later ingest."""
    chat = _span(
        2, parent=f"{1:016x}", attrs=[kv("gen_ai.operation.name", s("chat")), kv("gen_ai.conversation.id", s("conv_9"))]
    )
    tool = _span(3, parent=f"{2:016x}")
    ingest([str(write_lines(tmp_path / "a.jsonl", [export_line([chat, tool])]))], db)
    assert query(db, "SELECT name, session_id, user_id FROM spans ORDER BY name") == [
        ("s2", "conv_9", None),
        ("s3", "conv_9", None),
    ]
    root = _span(1, attrs=[kv("session.id", s("sess_1")), kv("user.id", s("u-1"))])
    report = ingest([str(write_lines(tmp_path / "b.jsonl", [export_line([root])]))], db)
    assert report.spans_given_context == 2
    assert query(db, "SELECT name, session_id, user_id FROM spans ORDER BY name") == [
        ("s1", "sess_1", "u-1"),
        ("s2", "sess_1", "u-1"),
        ("s3", "sess_1", "u-1"),
    ]


@pytest.mark.skipif(not os.path.exists("/proc/self/maps"), reason="reads /proc/self/maps")
def test_loaded_batches_are_not_kept_alive_until_commit(tmp_path, db):
    """A big ingest is one transaction; each batch must be freed once written, not at the commit
    (a view registered and dropped inside a transaction kept its batch alive: memory grew with
    the size of the ingest). Batches come memory-mapped from files, as from the workers."""
    import benchmarks_ingest as bench

    from llmscope import store
    from llmscope.ingest import handoff
    from llmscope.ingest.readers import decode_unit, plan
    from llmscope.normalize.builder import Mapping

    data = tmp_path / "rag.jsonl"
    bench.write_file(data, 3_000)
    spill = tmp_path / "spill"
    spill.mkdir()
    units = list(plan(str(data), False, chunk_bytes=256 << 10))
    assert len(units) >= 6
    files = [
        handoff.write(decode_unit(u, Mapping()).span_record_batch(), str(spill / f"b{i}.arrows"))
        for i, u in enumerate(units)
    ]

    def mapped() -> int:
        return sum(1 for line in open("/proc/self/maps") if str(spill) in line)

    con = store.connect(db)
    loader = store.Loader(con)
    loader.FLUSH_ROWS = 1  # write every batch as it comes
    with loader:
        for f in files:
            loader.add(handoff.read(f))
            assert mapped() <= 1
    con.close()
    assert query(db, "SELECT count(*) FROM spans") == [(3_000,)]


def test_many_small_files_are_grouped_yet_each_bad_line_names_its_file(tmp_path, db):
    """A directory of small exports travels in groups of files; examples still name the file and
    line, each span keeps its own file and line, and --strict still stops at the first bad one."""
    d = tmp_path / "exports"
    d.mkdir()
    for i in range(40):
        lines = [export_line([otlp_span(f"{i + 1:032x}", f"{j + 1:016x}", name=f"f{i}-s{j}")]) for j in range(3)]
        if i == 17:
            lines.insert(1, "{not json")
        write_lines(d / f"part-{i:03d}.jsonl", lines)
    report = ingest([str(d)], db)
    assert report.spans_added == 120 and report.bad_records == 1
    assert [(os.path.basename(src), line) for src, line, _ in report.bad_examples] == [("part-017.jsonl", 2)]
    assert query(db, "SELECT source, source_line FROM spans WHERE name IN ('f17-s1', 'f20-s2') ORDER BY name") == [
        (str(d / "part-017.jsonl"), 3),
        (str(d / "part-020.jsonl"), 3),
    ]
    with pytest.raises(StrictAbort) as e:
        ingest([str(d)], tmp_path / "strict.duckdb", strict=True)
    assert e.value.example[:2] == (str(d / "part-017.jsonl"), 2)


def test_schema_version_and_migrations_are_recorded(db, tmp_path):
    from llmscope import store
    from llmscope.store import migrations

    ingest([str(write_lines(tmp_path / "a.jsonl", [export_line([_span(1)])]))], db)
    con = store.connect(db, read_only=True)
    try:
        assert migrations.schema_version(con) == len(migrations.MIGRATIONS)
        assert migrations.pending(con) == []
        cols = {r[0] for r in con.execute("DESCRIBE spans").fetchall()}
        evals = {r[0] for r in con.execute("DESCRIBE evals").fetchall()}
    finally:
        con.close()
    design = {
        "trace_id",
        "span_id",
        "parent_span_id",
        "name",
        "kind",
        "service_name",
        "start_time",
        "end_time",
        "duration_ms",
        "status",
        "error_type",
        "span_type",
        "operation",
        "provider",
        "request_model",
        "response_model",
        "input_tokens",
        "output_tokens",
        "total_tokens",
        "cache_read_tokens",
        "cost_usd",
        "reported_cost_usd",
        "ttft_ms",
        "temperature",
        "top_p",
        "max_tokens",
        "finish_reason",
        "user_id",
        "session_id",
        "feature",
        "prompt_version",
        "agent_name",
        "tool_name",
        "input_text",
        "output_text",
        "input_messages",
        "output_messages",
        "attributes",
        "resource_attributes",
        "source",
    }
    assert design <= cols
    assert {
        "trace_id",
        "span_id",
        "metric",
        "score",
        "label",
        "passed",
        "judge",
        "explanation",
        "judge_cost_usd",
        "created_at",
        "run_id",
    } <= evals


def test_sample_traces_match_their_manifest(db):
    import json

    manifest = json.loads((SAMPLES / "manifest.json").read_text())
    rep = ingest([str(SAMPLES)], db)
    assert rep.bad_records == 0
    files = manifest["files"]
    assert rep.spans_added == sum(f["spans"] for f in files.values() if "spans" in f)
    assert rep.spans_given_log_content > 0
    # every span of the log-only app got its prompt from the log records
    assert query(
        db,
        "SELECT count(*) FROM spans WHERE service_name = 'ticket-triage' AND span_type = 'llm' AND input_text IS NULL",
    ) == [(0,)]


def test_parallel_ingest_reuses_its_handoff_files_and_equals_a_serial_one(tmp_path, monkeypatch):
    """The worker pool path (normally taken above 24 MB): many small tasks, a flush after nearly
    each, so the shared-memory files batches travel through are filled again and again. The store
    must hold exactly what a one-process ingest of the same file holds."""
    import benchmarks_ingest as bench

    from llmscope import store
    from llmscope.ingest import handoff, readers
    from llmscope.ingest import pipeline as ingest_mod

    data = tmp_path / "rag.jsonl"
    bench.write_file(data, 4_000)
    monkeypatch.setattr(readers, "CHUNK_BYTES", 128 << 10)
    serial = ingest([str(data)], tmp_path / "serial.duckdb", workers=1)

    monkeypatch.setattr(ingest_mod, "PARALLEL_THRESHOLD_BYTES", 0)
    monkeypatch.setattr(store.Loader, "FLUSH_ROWS", 300)
    monkeypatch.setattr(ingest_mod, "TASKS_AHEAD_PER_WORKER", 2)
    handed_out = []
    take = handoff.Slots.take
    monkeypatch.setattr(handoff.Slots, "take", lambda self: handed_out.append(take(self)) or handed_out[-1])
    parallel = ingest([str(data)], tmp_path / "parallel.duckdb", workers=2)

    # where /dev/shm is small (a container's 64 MB), the files go to the temp directory instead
    monkeypatch.setattr(handoff, "SHM_MIN_FREE", 1 << 62)
    on_disk = ingest([str(data)], tmp_path / "on-disk.duckdb", workers=2)
    assert any(not p.startswith(handoff.SHM) for p in handed_out[-4:])

    assert serial.spans_added == parallel.spans_added == on_disk.spans_added == 4_000
    assert len(handed_out) > 2 * 40  # two files a task
    assert len(set(handed_out)) < len(handed_out) / 2  # most of them filled again
    cols = "* EXCLUDE (ingested_at)"
    rows = {
        name: query(tmp_path / f"{name}.duckdb", f"SELECT {cols} FROM spans ORDER BY trace_id, span_id")
        for name in ("serial", "parallel", "on-disk")
    }
    assert rows["serial"] == rows["parallel"] == rows["on-disk"]
    if os.path.isdir(handoff.SHM):  # the hand-off files are gone with the ingest
        assert not [p for p in os.listdir(handoff.SHM) if p.startswith(f"llmscope-{os.getpid()}-")]


@pytest.mark.skipif(not os.path.isdir("/dev/shm"), reason="shared-memory hand-off is Linux-only")
def test_a_killed_ingests_handoff_files_are_removed_by_the_next(tmp_path):
    from llmscope.ingest import handoff

    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead_pid = int(gone.stdout)
    stale = os.path.join(handoff.SHM, f"llmscope-{dead_pid}-test")
    live = os.path.join(handoff.SHM, f"llmscope-{os.getpid()}-test")
    for d in (stale, live):
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, "batch-1.arrows"), "wb") as f:
            f.write(b"x" * 1000)
    try:
        handoff.remove_stale(handoff.SHM)
        assert os.path.exists(stale)  # just written: could be a live ingest in another PID namespace
        later = time.time() + handoff.STALE_AFTER_S + 60
        handoff.remove_stale(handoff.SHM, now=later)
        assert not os.path.exists(stale)
        assert os.path.exists(live)  # this process is running: its files stay
    finally:
        import shutil

        for d in (stale, live):
            shutil.rmtree(d, ignore_errors=True)


def test_a_value_nested_thousands_deep_is_a_bad_record_not_a_traceback(tmp_path, db):
    depth = 3000
    deep_value = '{"arrayValue":{"values":[' * depth + '{"stringValue":"x"}' + "]}}" * depth
    deep = export_line([_span(2)]).replace(
        '"attributes": []', f'"attributes": [{{"key": "deep", "value": {deep_value}}}]', 1
    )
    assert deep.count("arrayValue") == depth
    lines_file = tmp_path / "deep.jsonl"
    lines_file.write_text("\n".join([export_line([_span(1)]), deep, export_line([_span(3)])]) + "\n")
    rep = ingest([str(lines_file)], db)
    assert rep.spans_added == 2 and rep.bad_records == 1
    assert rep.bad_examples == [(str(lines_file), 2, "malformed JSON: nested too deeply")]
    alone = tmp_path / "deep-alone.json"  # one line: read as a single document
    alone.write_text(deep)
    rep = ingest([str(alone)], db)
    assert rep.spans_added == 0 and rep.bad_records == 1 and rep.bad_examples[0][1] == 1


def test_out_of_range_numbers_keep_their_span(tmp_path, db):
    """An intValue beyond 64 bits (OTLP/JSON carries int64 as decimal text, so nothing stops a bigger
    one) or an infinite token count used to drop the span, or end the ingest with a traceback."""
    attrs = [
        kv("huge", {"intValue": "123456789012345678901234567890"}),
        kv("gen_ai.usage.input_tokens", {"intValue": "99999999999999999999"}),
        kv("gen_ai.usage.output_tokens", {"doubleValue": "Infinity"}),
        kv("gen_ai.request.model", s("gpt-4o-mini")),
        kv("gen_ai.operation.name", s("chat")),
    ]
    f = tmp_path / "big.jsonl"
    f.write_text(export_line([_span(1, attrs=attrs), _span(2)]) + "\n")
    rep = ingest([str(f)], db)
    assert rep.spans_added == 2 and rep.bad_records == 0
    ((attributes, tin, tout, model),) = query(
        db, f"SELECT attributes, input_tokens, output_tokens, request_model FROM spans WHERE span_id = '{1:016x}'"
    )
    assert (tin, tout, model) == (None, None, "gpt-4o-mini")  # no usable count; the rest is read as usual
    import json

    kept = json.loads(attributes)
    assert (
        kept["huge"] == "123456789012345678901234567890" and kept["gen_ai.usage.input_tokens"] == "99999999999999999999"
    )


def test_times_beyond_int64_nanoseconds_are_bad_records_in_json_and_protobuf(tmp_path, db):
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

    lines = [
        export_line([dict(_span(1), startTimeUnixNano=1e30), _span(2)]),  # a float: the lenient path
        export_line([dict(_span(3), endTimeUnixNano="99999999999999999999999"), _span(4)]),
    ]
    f = tmp_path / "times.jsonl"
    f.write_text("\n".join(lines) + "\n")
    rep = ingest([str(f)], db)
    assert rep.spans_added == 2 and rep.bad_records == 2
    assert [(line, "beyond int64" in reason) for _, line, reason in rep.bad_examples] == [(1, True), (2, True)]

    req = ExportTraceServiceRequest()
    ss = req.resource_spans.add().scope_spans.add()
    for i, end in ((5, 2**64 - 1), (6, 1_762_000_001_000_000_000)):  # fixed64 allows what int64 does not
        sp = ss.spans.add()
        sp.trace_id, sp.span_id, sp.name = bytes.fromhex(T), i.to_bytes(8, "big"), f"s{i}"
        sp.start_time_unix_nano, sp.end_time_unix_nano = 1_762_000_000_000_000_000, end
    pb = tmp_path / "times.pb"
    pb.write_bytes(req.SerializeToString())
    rep = ingest([str(pb)], db)
    assert rep.spans_added == 1 and rep.bad_records == 1 and "beyond int64" in rep.bad_examples[0][2]
