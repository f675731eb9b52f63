"""`llmscope annotate` driven through a real terminal (tmux send-keys / capture-pane): keys, notes, back, skip,
quit and resume; the labels in `annotations`; `eval calibrate --against human` on them."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from helpers import query
from typer.testing import CliRunner

import llmscope
from llmscope.cli.app import app
from llmscope.errors import QueryError

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")
WHERE = "service_name = 'support-bot'"
METRIC = "groundedness_lexical"


class Terminal:
    """A tmux window of 100 x 50 running a shell, typed into and read like a person would."""

    def __init__(self, cwd: Path):
        self.name = f"llmscope-test-{uuid.uuid4().hex[:8]}"
        subprocess.run(
            ["tmux", "new-session", "-d", "-s", self.name, "-x", "100", "-y", "50", "-c", str(cwd)], check=True
        )

    def type(self, *keys: str) -> None:
        subprocess.run(["tmux", "send-keys", "-t", self.name, *keys], check=True)

    def run(self, command: str) -> None:
        """A command on a cleared screen (what is read next is its output, not the last one's)."""
        self.type("clear", "Enter")
        deadline = time.monotonic() + 30
        while "[q] quit" in self.screen() and time.monotonic() < deadline:
            time.sleep(0.1)
        self.type(command, "Enter")

    def screen(self) -> str:
        return subprocess.run(
            ["tmux", "capture-pane", "-t", self.name, "-p"], check=True, capture_output=True, text=True
        ).stdout

    def wait_for(self, text: str, timeout: float = 90.0) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            screen = self.screen()
            if text in screen:
                return screen
            time.sleep(0.2)
        raise AssertionError(f"{text!r} never appeared; the screen shows:\n{self.screen()}")

    def close(self) -> None:
        subprocess.run(["tmux", "kill-session", "-t", self.name], check=False)


@pytest.fixture
def labelled_store(sample_store):
    llmscope.open(sample_store).evaluate(metrics=METRIC, where=WHERE)
    return sample_store


def test_label_in_a_terminal_resume_and_calibrate(labelled_store, tmp_path):
    store = llmscope.open(labelled_store)
    queue = store.annotation_queue(3, metric=METRIC, where=WHERE).to_dicts()
    cmd = (
        f"NO_COLOR=1 LLMSCOPE_ANNOTATOR=ana {Path(sys.executable).with_name('llmscope')} --db {labelled_store} "
        f'annotate --sample 3 --metric {METRIC} --where "{WHERE}"'
    )
    term = Terminal(tmp_path)
    try:
        term.run(cmd)
        first = term.wait_for("[q] quit")  # the last line of an item: all of it is drawn
        assert f"trace {queue[0]['trace_id'][:12]}" in first and "retrieved context" in first
        assert queue[0]["question"][:40] in first and "judge: builtin:" in first and "yours: -" in first
        term.type("p")
        term.wait_for("item 2/3")
        term.type("n")
        term.wait_for("note:")
        term.type("wrong refund policy", "Enter")
        term.wait_for("yours: note: wrong refund policy")
        term.type("f")
        term.wait_for("item 3/3")
        term.type("b")
        back = term.wait_for("yours: fail, note: wrong refund policy")  # the whole item drawn
        assert "item 2/3" in back
        term.type("s")
        term.wait_for("item 3/3")
        term.type("q")
        term.wait_for("2 of 3 items labelled; run again to resume")
        rows = query(
            labelled_store,
            "SELECT trace_id, span_id, metric, label, passed, rating, note, annotator FROM annotations ORDER BY created_at",
        )
        assert rows == [
            (queue[0]["trace_id"], queue[0]["span_id"], METRIC, "pass", True, None, None, "ana"),
            (queue[1]["trace_id"], queue[1]["span_id"], METRIC, "fail", False, None, "wrong refund policy", "ana"),
        ]
        term.run(cmd)  # resumes at the first item not labelled
        resumed = term.wait_for("[q] quit")
        assert "item 3/3" in resumed and "2 labelled" in resumed and f"trace {queue[2]['trace_id'][:12]}" in resumed
        term.type("2")
        term.wait_for("3 of 3 items labelled")
        term.run(cmd)
        term.wait_for("all 3 items are labelled by you already")
    finally:
        term.close()
    (rating,) = query(labelled_store, "SELECT rating, passed FROM annotations WHERE span_id = ?", [queue[2]["span_id"]])
    assert rating == (2, None)

    res = CliRunner().invoke(
        app,
        ["--db", str(labelled_store), "eval", "calibrate", "--against", "human", "--judge", "builtin", "-f", "json"],
        env={"NO_COLOR": "1"},
    )
    assert res.exit_code == 0, res.output
    (cal,) = json.loads(res.stdout)
    judge = {
        (t, s): p
        for t, s, p in query(labelled_store, "SELECT trace_id, span_id, passed FROM evals WHERE metric = ?", [METRIC])
    }
    human = {(queue[0]["trace_id"], queue[0]["span_id"]): True, (queue[1]["trace_id"], queue[1]["span_id"]): False}
    agree = sum(judge[k] == v for k, v in human.items())
    assert cal["metric"] == METRIC and cal["labelled"] == 3 and cal["accuracy"] == agree / 2
    per_class = llmscope.open(labelled_store).calibrate(against="human", judge="builtin")["per_class"].to_dicts()
    assert {r["class"]: r["labelled"] for r in per_class} == {"pass": 1, "fail": 1}


def test_labels_merge_and_bad_labels_are_refused(sample_store):
    store = llmscope.open(sample_store)
    (item,) = store.annotation_queue(1, metric="groundedness", annotator="bo").to_dicts()
    store.annotate(item["trace_id"], item["span_id"], annotator="bo", label="fail")
    store.annotate(item["trace_id"], item["span_id"], annotator="bo", note="made up a policy")
    store.annotate(item["trace_id"], item["span_id"], annotator="bo", rating=2)
    store.annotate(item["trace_id"], item["span_id"], annotator="cy", label="pass")
    rows = query(sample_store, "SELECT annotator, label, rating, note FROM annotations ORDER BY annotator")
    assert rows == [("bo", "fail", 2, "made up a policy"), ("cy", "pass", None, None)]
    (again,) = store.annotation_queue(1, metric="groundedness", annotator="bo").to_dicts()
    assert (again["my_label"], again["my_rating"], again["my_note"]) == ("fail", 2, "made up a policy")
    with pytest.raises(QueryError, match="pass or fail"):
        store.annotate(item["trace_id"], item["span_id"], label="maybe")
    with pytest.raises(QueryError, match="1 to 5"):
        store.annotate(item["trace_id"], item["span_id"], rating=7)
    with pytest.raises(QueryError, match="one of them"):
        store.calibrate()
    res = CliRunner().invoke(app, ["--db", str(sample_store), "annotate", "--sample", "2"], input="p\n")
    assert res.exit_code == 2 and "annotate reads keys from a terminal" in res.output
