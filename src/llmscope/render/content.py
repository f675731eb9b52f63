"""Prompts and responses under a span in ``trace show --content``: one block per message, its role and then
its text wrapped to the terminal under the tree's indent; cut to a budget, the system prompt first and the
user's last message only when it alone is over."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson
from rich.console import Console
from rich.text import Text

from .tables import shown

BUDGET = 2000  # characters of the prompt (and of the response) shown per span
MIN_HEAD = 160  # what a shortened message keeps of its start while the budget allows it
MIN_CUT = 40  # a cut shorter than this is not made

# What a role is for the budget and its colour; a role not listed is shown as it is, kind "other".
ROLE_KIND = {
    "system": "system",
    "developer": "system",
    "user": "user",
    "human": "user",
    "assistant": "assistant",
    "ai": "assistant",
    "model": "assistant",
    "tool": "tool",
    "function": "tool",
    "ipython": "tool",
}
ROLE_STYLE = {"system": "cyan", "user": "bold green", "assistant": "magenta", "tool": "yellow", "other": "dim"}


@dataclass
class Message:
    role: str  # as shown (from span data, made safe)
    kind: str  # system, user, assistant, tool or other
    text: str


def _part_text(p: Any) -> str:
    if isinstance(p, str):
        return p
    if isinstance(p, dict):
        for k in ("text", "content"):
            if isinstance(p.get(k), str):
                return p[k]
    return ""


def messages_of(value: Any) -> list[Message] | None:
    """The stored ``input_messages`` / ``output_messages`` (JSON text or a list) as messages; None when there
    are none or they are not a message list (the caller then shows the flat text)."""
    if isinstance(value, str | bytes):
        try:
            value = orjson.loads(value)
        except orjson.JSONDecodeError:
            return None
    if not isinstance(value, list):
        return None
    out = []
    for m in value:
        if not isinstance(m, dict):
            continue
        content = m.get("content")
        if isinstance(content, str):
            parts = [content]
        else:  # multi-part content: the text parts
            parts = [_part_text(p) for p in content] if isinstance(content, list) else []
        for c in m.get("tool_calls") or ():
            if isinstance(c, dict):
                parts.append(f"{c.get('name') or '?'}({c.get('arguments') or ''})")
        role = str(m.get("role") or "?")
        # parsed JSON gives back the control characters its escapes stood for: shown again here
        out.append(
            Message(shown(role)[:12], ROLE_KIND.get(role.lower(), "other"), shown("\n".join(p for p in parts if p)))
        )
    return out or None


def _marker(n: int) -> str:
    return f"… ({n:,} chars cut)"


def _head(text: str, keep: int) -> str:
    """The first ``keep`` characters (back to a space when one is near) and what was cut."""
    if keep <= 0:
        return _marker(len(text))
    cut_at = text.rfind(" ", max(0, keep - 20), keep + 1)
    cut_at = cut_at if cut_at > 0 else keep
    return text[:cut_at].rstrip() + " " + _marker(len(text) - cut_at)


def _middle(text: str, keep: int) -> str:
    """Start and end of ``text`` (``keep`` characters in all) and how much of its middle was cut."""
    head = keep * 2 // 3
    tail = keep - head
    return f"{text[:head].rstrip()} … ({len(text) - head - tail:,} chars cut from the middle) … {text[-tail:].lstrip()}"


def fit(messages: list[Message], budget: int = BUDGET) -> list[Message]:
    """The messages within ``budget`` characters: system prompts shortened first (their start kept), then the
    older messages, oldest first; the last user message (of a response: the last message) is cut only when it
    alone is over the budget, and then in its middle."""
    if sum(len(m.text) for m in messages) <= budget:
        return messages
    users = [i for i, m in enumerate(messages) if m.kind == "user"]
    keep = users[-1] if users else len(messages) - 1
    out = [Message(m.role, m.kind, m.text) for m in messages]
    lengths = [len(m.text) for m in messages]
    system = [i for i, m in enumerate(messages) if m.kind == "system" and i != keep]
    older = [i for i in range(len(messages)) if i != keep and i not in system]
    # the kept message is itself cut to the budget when it alone is over: the others cannot make room for it
    over = sum(lengths) - lengths[keep] + min(lengths[keep], budget) - budget
    # first down to a recognisable start, system prompts before the rest; then, if still over, to nothing
    for floor, order in ((MIN_HEAD, system + older), (0, older + system)):
        for i in order:
            cut = min(over, lengths[i] - floor)
            if cut < MIN_CUT:  # cutting less saves nothing: the marker takes as much
                continue
            lengths[i] -= cut
            over -= cut
    for i, n in enumerate(lengths):
        if i != keep and n < len(messages[i].text):
            out[i].text = _head(messages[i].text, n)
    if len(messages[keep].text) > budget:
        out[keep].text = _middle(messages[keep].text, budget)
    return out


def fit_text(text: str, budget: int = BUDGET) -> str:
    """Flat text (no messages known) within the budget: its start and end kept, the middle cut."""
    return text if len(text) <= budget else _middle(text, budget)


def span_content(row: dict, indent: int, width: int, console: Console) -> list[Text]:
    """A span's prompt and response under the tree: its messages with their roles when they are known (the
    response's marked ``→``, so a reply reads apart from the history before it), else ``in :`` / ``out:``
    with the flat text; each side cut to :data:`BUDGET`."""
    labelled: list[tuple[str, Message]] = []
    for side, text_key, label in (("input_messages", "input_text", "in :"), ("output_messages", "output_text", "out:")):
        msgs = messages_of(row.get(side))
        if msgs:
            labelled += [(("→ " if side == "output_messages" else "") + m.role, m) for m in fit(msgs)]
        elif row.get(text_key):
            labelled.append((label, Message(label, "other", fit_text(shown(row[text_key])))))
    return block(labelled, indent, width, console) if labelled else []


def block(labelled: list[tuple[str, Message]], indent: int, width: int, console: Console) -> list[Text]:
    """Each message's label after ``indent`` spaces, then its text wrapped to ``width`` columns, every
    continuation line under the text (indent and label width kept)."""
    label_w = max(len(label) for label, _ in labelled) + 1
    indent = max(0, min(indent, width - label_w - 20))  # very deep trees: the text keeps 20 columns
    text_w = max(10, width - indent - label_w)
    lines: list[Text] = []
    for label, m in labelled:
        wrapped = [ln for ln in Text(m.text).wrap(console, text_w, overflow="fold") if ln.plain.strip()]
        for j, ln in enumerate(wrapped or [Text("(empty)", style="dim")]):
            line = Text(" " * indent)
            if j == 0:
                line.append(label, style=ROLE_STYLE[m.kind])
                line.append(" " * (label_w - len(label)))
            else:
                line.append(" " * label_w)
            line.append_text(ln)
            line.rstrip()
            lines.append(line)
    return lines
