"""`trace show --content` reads in a terminal (issue 14 item 8): each message under its span with its role, the
text wrapped to the width with continuation lines under the tree's indent, a long system prompt cut before the
user's message, no padding, no line wider than the terminal; the same in a real terminal (tmux)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import time
import uuid

import pytest
from helpers import CAPTURED, REPO, SAMPLES
from rich.cells import cell_len
from typer.testing import CliRunner

import llmscope
from llmscope.cli.app import app
from llmscope.render.content import BUDGET, MIN_HEAD, Message, fit

runner = CliRunner()


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    """support-bot's real-shaped traces (long system prompts, multi-turn chats) and a real OpenInference capture."""
    db = tmp_path_factory.mktemp("content") / "content.duckdb"
    files = [SAMPLES / "support-bot.traces.jsonl.gz", CAPTURED / "openinference-openai-0.1.66" / "traces.otlp.jsonl"]
    rep = llmscope.open(db).ingest([str(f) for f in files])
    assert rep.bad_records == 0 and rep.spans_added > 100
    return db


def _chat(store, where: str) -> dict:
    """The chat span (its trace, depth in the tree and stored messages) of the trace ``where`` picks."""
    s = llmscope.open(store)
    [row] = s.sql(
        "SELECT trace_id, span_id, input_messages, output_messages FROM spans "
        f"WHERE input_messages IS NOT NULL AND {where} LIMIT 1"
    ).to_dicts()
    [depth] = [r["depth"] for r in s.trace(row["trace_id"]).to_dicts() if r["span_id"] == row["span_id"]]
    return dict(row, depth=depth, input=json.loads(row["input_messages"]), output=json.loads(row["output_messages"]))


def show(store, trace_id: str, columns: int) -> list[str]:
    res = runner.invoke(
        app,
        ["--db", str(store), "trace", "show", trace_id, "--content"],
        env={"NO_COLOR": "1", "COLUMNS": str(columns)},
    )
    assert res.exit_code == 0, (res.output, res.exception)
    return res.stdout.splitlines()


def blocks(lines: list[str], indent: int) -> list[tuple[str, str]]:
    """(label, text) of each message block at ``indent``: the label and its text on the first line, the
    continuation lines (exactly under the text) joined on; asserts every continuation line is under it."""
    out: list[tuple[str, str]] = []
    text_col = None
    for line in lines:
        m = re.match(" " * indent + r"((?:→ )?(?:system|user|assistant|tool)) +(\S.*)", line)
        if m and not line.startswith(" " * (indent + 1)):
            out.append((m[1], m[2]))
            text_col = m.start(2)
        elif text_col is not None and line.startswith(" " * text_col) and line[text_col] != " ":
            out[-1] = (out[-1][0], out[-1][1] + " " + line[text_col:])
        else:
            text_col = None
    return out


def words(text: str) -> str:
    return " ".join(text.split())


@pytest.mark.parametrize("columns", [80, 200])
def test_messages_show_their_roles_wrapped_under_the_tree_and_the_user_survives(store, columns):
    chat = _chat(store, "service_name = 'support-bot' AND length(input_messages::VARCHAR) > 4000")
    system = next(m["content"] for m in chat["input"] if m["role"] == "system")
    user = [m["content"] for m in chat["input"] if m["role"] == "user"][-1]
    assert len(system) > BUDGET  # the stored prompt is long: it must be cut to show
    lines = show(store, chat["trace_id"][:12], columns)
    assert all(cell_len(line) <= columns for line in lines), max(lines, key=cell_len)
    assert not [line for line in lines if line != line.rstrip()]  # no padding, no trailing spaces
    indent = 2 * (chat["depth"] + 1)
    got = blocks(lines, indent)
    labels = [label for label, _ in got]
    assert labels == [m["role"] for m in chat["input"]] + ["→ " + m["role"] for m in chat["output"]]
    shown_system = dict(got)["system"]
    # the system prompt: its start, then what was cut
    assert re.search(r"… \([\d,]+ chars cut\)$", shown_system), shown_system[-80:]
    assert words(system).startswith(words(shown_system.rsplit(" … (", 1)[0]))
    # the user's last message whole, and the reply whole
    assert [text for label, text in got if label == "user"][-1] == words(user)
    assert got[-1][1] == words(chat["output"][-1]["content"])
    # text lines wrap: at 80 columns the system prompt takes many lines, none of them wider
    text_col = next(line.index("You are") for line in lines if line.startswith(" " * indent + "system"))
    under = [line for line in lines if line.startswith(" " * text_col) and not line[text_col].isspace()]
    assert len(under) > (BUDGET // columns)


def test_a_short_prompt_is_shown_whole_with_roles_from_another_instrumentation(store):
    chat = _chat(store, "service_name = 'capture-app' AND input_messages::VARCHAR LIKE '%system%'")
    lines = show(store, chat["trace_id"][:12], 80)
    got = blocks(lines, 2 * (chat["depth"] + 1))
    assert got == [
        ("system", "You are a concise geography assistant."),
        ("user", "What is the capital of France?"),
        ("→ assistant", "The capital of France is Paris."),
    ]


def test_flat_text_keeps_its_in_and_out_labels_under_the_tree(store):
    # the retriever spans have text but no messages: `in :` / `out:`, continuation lines under the text
    s = llmscope.open(store)
    [row] = s.sql(
        "SELECT trace_id FROM spans WHERE span_type = 'retriever' AND length(output_text) > 500 LIMIT 1"
    ).to_dicts()
    trace_id = row["trace_id"]
    lines = show(store, trace_id[:12], 80)
    at = next(i for i, line in enumerate(lines) if line.lstrip().startswith("out: "))
    col = lines[at].index("out: ") + 5
    rest = lines[at + 1 :]
    cont = rest[: next(i for i, line in enumerate(rest) if not line.startswith(" " * col))]
    assert len(cont) >= 3 and all(not line[col].isspace() for line in cont)
    assert all(cell_len(line) <= 80 and line == line.rstrip() for line in lines)


def _messages(*pairs: tuple[str, str]) -> list[Message]:
    return [Message(role, role, text) for role, text in pairs]


def test_the_budget_cuts_system_prompts_first_then_older_messages_never_the_last_user_message():
    sample = json.loads((SAMPLES / "manifest.json").read_text())  # real text to cut
    long = " ".join(json.dumps(sample).split())
    assert len(long) > 3 * BUDGET
    question = "Why was I charged twice for order #58698?"
    # the system prompt alone over: only it is cut, from its end
    got = fit(_messages(("system", long), ("user", "older turn " * 20), ("assistant", "ok"), ("user", question)))
    assert got[1].text == "older turn " * 20 and got[3].text == question
    assert got[0].text.startswith(long[:MIN_HEAD]) and got[0].text.endswith("chars cut)")
    assert sum(len(m.text) for m in got) <= BUDGET + 40  # the marker's own length
    # older messages too long as well: the system prompt keeps its start, the older turn is cut next
    got = fit(_messages(("system", long), ("user", long), ("tool", long), ("user", question)))
    assert got[-1].text == question
    assert all(m.text.endswith("chars cut)") for m in got[:3])
    assert len(got[0].text) < MIN_HEAD + 40
    # the last user message alone over the budget: its middle is cut, and that is said
    got = fit(_messages(("system", "Be brief."), ("user", long)))
    assert got[0].text == "Be brief."
    assert "chars cut from the middle" in got[1].text
    assert got[1].text.startswith(long[:100]) and got[1].text.endswith(long[-100:])


NO_COLOUR = re.compile(r"\x1b\[[0-9;]*m")


def _colours(screen: str) -> set[str]:
    """The SGR colour codes used on screen (foreground/background set, not the resets 39/49)."""
    codes = set()
    for seq in NO_COLOUR.findall(screen):
        for code in seq[2:-1].split(";"):
            if code and (30 <= int(code) <= 38 or 40 <= int(code) <= 48 or 90 <= int(code) <= 107):
                codes.add(code)
    return codes


@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")
def test_in_a_real_terminal_lines_fit_roles_are_coloured_and_no_color_is_respected(store, tmp_path):
    chat = _chat(store, "service_name = 'support-bot' AND length(input_messages::VARCHAR) > 4000")
    name = f"llmscope-test-{uuid.uuid4().hex[:8]}"
    subprocess.run(["tmux", "new-session", "-d", "-s", name, "-x", "80", "-y", "50", "-c", str(tmp_path)], check=True)
    try:
        screens = {}
        for env in ("env -u NO_COLOR ", "NO_COLOR=1 "):
            done = tmp_path / f"done{len(screens)}"
            subprocess.run(["tmux", "clear-history", "-t", name], check=True)
            # the tmux server may be shared: the environment is given on the command line
            # marks around the output, not `clear`: a shell still starting up when the keys arrive, or a `clear`
            # that also wipes the scrollback, must not leave an empty screen
            cmd = (
                f"echo BEGIN-{len(screens)}; PYTHONPATH={REPO / 'src'} {env}{sys.executable} -m llmscope --db {store} "
            )
            cmd += f"trace show {chat['trace_id'][:12]} --content; echo END-{len(screens)}; touch {done}"
            subprocess.run(["tmux", "send-keys", "-t", name, cmd, "Enter"], check=True)
            deadline = time.monotonic() + 60
            while not done.exists() and time.monotonic() < deadline:
                time.sleep(0.1)
            assert done.exists()
            screens[env] = [
                _between(
                    subprocess.run(
                        ["tmux", "capture-pane", "-t", name, "-p", "-J", "-S", "-", *flags],
                        check=True,
                        capture_output=True,
                        text=True,
                    ).stdout,
                    len(screens),
                )
                for flags in ((), ("-e",))
            ]
    finally:
        subprocess.run(["tmux", "kill-session", "-t", name], check=False)
    plain, coloured = screens["env -u NO_COLOR "]
    lines = plain.splitlines()
    assert any(line.startswith(" " * 4 + "system") for line in lines), plain
    # -J joins what the terminal had to wrap: every joined line still fits, so nothing was wider than 80
    assert all(cell_len(line) <= 80 for line in lines), max(lines, key=cell_len)
    assert _colours(coloured)  # roles and types in colour in a terminal...
    assert not _colours(screens["NO_COLOR=1 "][1])  # ...and none with NO_COLOR
    assert screens["NO_COLOR=1 "][0] == plain


def _between(screen: str, n: int) -> str:
    """The command's output on a captured screen: the lines between its BEGIN-n and END-n marks."""
    lines = screen.splitlines()
    begin = max(i for i, line in enumerate(lines) if re.sub(r"\x1b\[[0-9;]*m", "", line) == f"BEGIN-{n}")
    end = next(i for i in range(begin, len(lines)) if re.sub(r"\x1b\[[0-9;]*m", "", lines[i]) == f"END-{n}")
    return "\n".join(lines[begin + 1 : end]) + "\n"
