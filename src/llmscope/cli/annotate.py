"""``llmscope annotate``: label calls by hand in the terminal, one at a time, into ``annotations``."""

from __future__ import annotations

import os
import sys
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.panel import Panel
from rich.text import Text

from .common import SinceOpt, UntilOpt, WhereOpt, click, fail, open_store

try:  # typer vendors click: its terminal functions live in termui
    from typer._click.termui import getchar as click_getchar  # type: ignore[import-not-found]
    from typer._click.termui import prompt  # type: ignore[import-not-found]
except ImportError:  # pragma: no cover
    click_getchar, prompt = click.getchar, click.prompt


def getchar() -> str:
    """One key, without flushing what was typed ahead (click's raw mode drops keys pressed while an
    item was being drawn)."""
    try:
        import termios
        import tty
    except ImportError:  # pragma: no cover - not a POSIX terminal
        return click_getchar()
    fd = sys.stdin.fileno()
    old = termios.tcgetattr(fd)
    try:
        tty.setraw(fd, termios.TCSANOW)
        return os.read(fd, 8).decode(errors="replace")
    finally:
        termios.tcsetattr(fd, termios.TCSADRAIN, old)


KEYS = "[p] pass  [f] fail  [1-5] score  [n] note  [s] skip  [b] back  [q] quit"
CONTEXT_CHARS = 1500


def _clip(text: str | None, limit: int) -> str:
    if not text:
        return "(none recorded)"
    return text if len(text) <= limit else text[:limit] + f" … ({len(text) - limit:,} more characters)"


def _show(con, item: dict, k: int, n: int, done: int, metric: str) -> None:
    con.clear()
    head = f"item {k + 1}/{n} · {metric} · {done} labelled · trace {item['trace_id'][:12]}"
    if item.get("feature") or item.get("model"):
        head += f" · {item.get('feature') or '-'} · {item.get('model') or '-'}"
    con.print(Text(head, style="bold"))
    con.print(Panel(Text(_clip(item["question"], 800)), title="question", title_align="left"))
    con.print(Panel(Text(_clip(item["answer"], 1500)), title="answer", title_align="left"))
    con.print(Panel(Text(_clip(item["context"], CONTEXT_CHARS)), title="retrieved context", title_align="left"))
    con.print(Text(f"judge: {item['verdict'] or '(not judged)'}"))
    mine = [x for x in (item.get("my_label"), item.get("my_rating") and f"score {item['my_rating']}") if x]
    if item.get("my_note"):
        mine.append(f"note: {item['my_note']}")
    con.print(Text(f"yours: {', '.join(mine) if mine else '-'}"))
    con.print(Text(KEYS, style="dim"))


def annotate_cmd(
    sample: Annotated[int, typer.Option("--sample", help="How many calls to label (the same ones on every run).")] = 20,
    metric: Annotated[str, typer.Option(help="What the label says about the answer.")] = "groundedness",
    annotator: Annotated[
        Optional[str], typer.Option(help="Who labels (default $LLMSCOPE_ANNOTATOR, else the login name).")
    ] = None,
    since: SinceOpt = None,
    until: UntilOpt = None,
    where: WhereOpt = None,
) -> None:
    """Label calls by hand, one at a time: the question, the answer, the retrieved context and the judges'
    verdict, then a key -- p pass, f fail, 1-5 a score, n a note, s skip, b back, q quit. Labels go to the
    `annotations` table (who, when, metric) as you press them; run it again to resume where you stopped.
    `llmscope eval calibrate --against human` then says how well a judge agrees with you.

        llmscope annotate --sample 30 --where "feature = 'billing'"

        LLMSCOPE_ANNOTATOR=ana llmscope annotate --sample 50 --metric answer_relevancy
    """
    if not sys.stdin.isatty():
        fail("annotate reads keys from a terminal: run it in one (labels can also be given with Store.annotate)")
    store = open_store()
    queue = store.annotation_queue(sample, metric=metric, annotator=annotator, since=since, until=until, where=where)
    items = queue.to_dicts()
    if not items:
        fail(queue.notes[0] if queue.notes else "nothing to label")
    labelled = {i for i, it in enumerate(items) if it["my_label"] or it["my_rating"]}
    con = Console(highlight=False)  # long text wraps inside its panel
    k = next((i for i in range(len(items)) if i not in labelled), None)
    if k is None:
        con.print(f"all {len(items)} items are labelled by you already (a larger --sample shows more)")
        return
    while 0 <= k < len(items):
        item = items[k]
        _show(con, item, k, len(items), len(labelled), metric)
        key = getchar()
        if key in ("p", "f"):
            label = "pass" if key == "p" else "fail"
            store.annotate(item["trace_id"], item["span_id"], metric=metric, annotator=annotator, label=label)
            item["my_label"] = label
            labelled.add(k)
            k += 1
        elif key in "12345" and len(key) == 1:
            store.annotate(item["trace_id"], item["span_id"], metric=metric, annotator=annotator, rating=int(key))
            item["my_rating"] = int(key)
            labelled.add(k)
            k += 1
        elif key == "n":
            note = prompt("note", default="", show_default=False).strip()
            if note:
                store.annotate(item["trace_id"], item["span_id"], metric=metric, annotator=annotator, note=note)
                item["my_note"] = note
        elif key == "s":
            k += 1
        elif key == "b":
            k = max(0, k - 1)
        elif key in ("q", "\x03", "\x04"):
            break
    con.print(f"{len(labelled)} of {len(items)} items labelled; run again to resume")


def register(app: typer.Typer) -> None:
    app.command("annotate")(annotate_cmd)
