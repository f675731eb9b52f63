"""Terminal views that are more than a table: the trace waterfall, time-series bars, latency
histograms and the agent graph."""

from __future__ import annotations

from rich.console import Console, Group
from rich.text import Text

from ..analyses.latency import HISTOGRAM_EDGES_MS
from .content import span_content
from .tables import fmt_value, shown, shown_row

TYPE_STYLE = {
    "llm": "magenta",
    "embedding": "blue",
    "retriever": "cyan",
    "tool": "yellow",
    "agent": "green",
    "workflow": "bright_white",
    "other": "dim",
}


def _bar(offset: float, dur: float, total: float, width: int, style: str) -> Text:
    if total <= 0:
        return Text("█" * width, style=style)
    start = int(round(offset / total * width))
    length = max(1, int(round(dur / total * width)))
    start = min(start, width - 1)
    length = min(length, width - start)
    t = Text(" " * start)
    t.append("█" * length, style=style)
    return t


# The tree's columns: (key, header, right-aligned); the ones a narrow terminal leaves out first, in order.
_COLUMNS = (
    ("span", "span", False),
    ("type", "type", False),
    ("model", "model", False),
    ("tokens", "tokens", True),
    ("cost", "cost", True),
    ("ms", "ms", True),
    ("status", "status", False),
    ("waterfall", "waterfall", False),
)
_DROP_ORDER = ("cost", "model", "tokens", "waterfall")
_GAP = 2
_MIN_BAR = 9  # the header's width


def _fit_columns(natural: dict[str, int], total: int, waterfall: int) -> dict[str, int]:
    """Column widths within ``total`` columns: the waterfall takes what is left (up to ``waterfall``, at
    least 9); when that is not enough the model narrows, then the span names, then whole columns go
    (cost, model, tokens, waterfall), so the tree itself stays readable at 80 columns."""
    widths = dict(natural)
    widths["waterfall"] = _MIN_BAR

    def used() -> int:
        return sum(widths.values()) + _GAP * (len(widths) - 1)

    for key, floor in (("model", 12), ("span", 24)):
        if used() > total:
            widths[key] = max(min(floor, natural[key]), widths[key] - (used() - total))
    for key in _DROP_ORDER:
        if used() <= total:
            break
        del widths[key]
        if key == "model":  # room again: the span names get it back first
            widths["span"] = max(widths["span"], min(natural["span"], widths["span"] + total - used()))
    if used() > total:
        widths["span"] = max(8, widths["span"] - (used() - total))
    if "waterfall" in widths:
        widths["waterfall"] = max(_MIN_BAR, min(waterfall, _MIN_BAR + total - used()))
    return widths


def _cell(value: Text | str, width: int, right: bool) -> Text:
    t = value.copy() if isinstance(value, Text) else Text(value)
    t.truncate(width, overflow="ellipsis")
    pad = " " * (width - t.cell_len)
    return Text(pad) + t if right else t + pad


def _wrapped(text: str, indent: int, width: int, style: str, console: Console) -> list[Text]:
    """``text`` wrapped to ``width`` columns, every line after ``indent`` spaces."""
    indent = max(0, min(indent, width - 20))
    lines = [ln for ln in Text(text, style=style).wrap(console, max(10, width - indent), overflow="fold")]
    out = []
    for ln in lines:
        line = Text(" " * indent) + ln
        line.rstrip()
        if line.plain:
            out.append(line)
    return out


def trace_waterfall(rows: list[dict], width: int = 40, content: bool = False, console_width: int = 160) -> Group:
    """A tree of spans in time order with one waterfall bar each, every line within ``console_width``
    (the bar shrinks, then the columns that matter least go). ``content``: under each span its messages,
    each with its role, wrapped under the tree's indent."""
    total = max(40, console_width)
    rows = [shown_row(r) for r in rows]  # names, errors, content: from span data, never obeyed by the terminal
    if not rows:
        return Group(Text("no spans"))
    console = Console(width=total, color_system=None, emoji=False, highlight=False)  # only measures text
    t0_total = max((r["offset_ms"] + (r["duration_ms"] or 0)) for r in rows)
    head = _trace_head(rows, t0_total, total)
    cells = [_span_cells(r) for r in rows]
    natural = {
        key: max([len(header)] + [Text(c[key]).cell_len if isinstance(c[key], str) else c[key].cell_len for c in cells])
        for key, header, _ in _COLUMNS
        if key != "waterfall"
    }
    natural["waterfall"] = _MIN_BAR
    widths = _fit_columns(natural, total, max(_MIN_BAR, width))
    shown_cols = [(k, right) for k, _, right in _COLUMNS if k in widths]

    def line(values: dict) -> Text:
        out = Text()
        for i, (k, right) in enumerate(shown_cols):
            if i:
                out.append(" " * _GAP)
            out.append_text(_cell(values.get(k, ""), widths[k], right))
        out.rstrip()
        return out

    lines = list(head)
    left_out = [k for k in _DROP_ORDER if k not in widths]
    if left_out:
        lines.append(
            Text(f"({', '.join(left_out)}: left out at {total} columns; --format json has every column)", style="dim")
        )
    lines.append(line({k: Text(h, style="bold") for k, h, _ in _COLUMNS}))
    for r, c in zip(rows, cells):
        if "waterfall" in widths:
            bar_style = "red" if r["status"] == "error" else TYPE_STYLE.get(r["span_type"], "dim")
            c["waterfall"] = _bar(r["offset_ms"], r["duration_ms"] or 0, t0_total, widths["waterfall"], bar_style)
        lines.append(line(c))
        indent = 2 * (r["depth"] + 1)
        if content:
            lines += span_content(r, indent, total, console)
        if r["status"] == "error" or r["error_type"]:
            detail = ": ".join(x for x in (r["error_type"], (r.get("error_message") or "")[:300]) if x)
            lines += _wrapped("error " + detail, indent, total, "red", console)
    return Group(*lines)


def _trace_head(rows: list[dict], t0_total: float, total: int) -> list[Text]:
    """The trace id and its totals: one line, or two when they do not fit in ``total`` columns."""
    errors = sum(1 for r in rows if r["status"] == "error")
    cost = sum(r["cost_usd"] or 0 for r in rows)
    tokens = sum(
        (r["input_tokens"] or 0) + (r["output_tokens"] or 0) for r in rows if r["span_type"] in ("llm", "embedding")
    )
    summary = (
        f"{len(rows)} spans · {fmt_value(t0_total, 'duration_ms')} ms · {tokens:,} tokens · "
        f"{fmt_value(cost, 'cost_usd')}" + (f" · {errors} error(s)" if errors else "")
    )
    head = [Text.assemble(("trace ", "bold"), (rows[0]["trace_id"], "bold cyan"))]
    if head[0].cell_len + 2 + len(summary) <= total:
        head[0].append("  " + summary)
    else:
        head.append(Text(summary))
    return head


def _span_cells(r: dict) -> dict:
    """One span's cells (the waterfall bar is drawn once the column widths are known)."""
    name = Text()
    name.append("  " * r["depth"] + ("└ " if r["depth"] else ""), style="dim")  # the tree, not the name
    name.append(r["name"] or "?", style="bold" if r["depth"] == 0 else "")
    if r.get("tool_name") and r["span_type"] == "tool" and r["tool_name"] not in (r["name"] or ""):
        name.append(f" [{r['tool_name']}]", style="yellow")
    tok = ""
    if r["input_tokens"] is not None or r["output_tokens"] is not None:
        tok = f"{r['input_tokens'] or 0:,}→{r['output_tokens'] or 0:,}"
    status = r["status"]
    return {
        "span": name,
        "type": Text(r["span_type"], style=TYPE_STYLE.get(r["span_type"], "dim")),
        "model": (r["response_model"] or r["request_model"] or "")[:26],
        "tokens": tok,
        "cost": fmt_value(r["cost_usd"], "cost_usd") if r["cost_usd"] is not None else "",
        "ms": fmt_value(r["duration_ms"], "duration_ms"),
        "status": Text(status, style="bold red" if status == "error" else "green" if status == "ok" else "dim"),
    }


_EIGHTHS = " ▁▂▃▄▅▆▇█"


def _bars(values: list[float | None], height: int, style: str, vmax: float | None = None) -> list[Text]:
    """Vertical bars, one column per value, drawn in eighth-blocks; None leaves a gap."""
    top = vmax if vmax is not None else max((v for v in values if v is not None), default=0.0)
    lines = []
    for row in range(height):
        line = Text()
        for v in values:
            if v is None or top <= 0:
                line.append(" ")
                continue
            level = int(round(v / top * height * 8))
            fill = max(0, min(8, level - (height - 1 - row) * 8))
            line.append(_EIGHTHS[fill], style=style)
        lines.append(line)
    return lines


def _merged(values: list[float | None], per: int) -> list[float | None]:
    """Every ``per`` adjacent values as their maximum (a chart column), so the chart fits the width."""
    out = []
    for i in range(0, len(values), per):
        got = [v for v in values[i : i + per] if v is not None]
        out.append(max(got) if got else None)
    return out


def _axis(first: str, last: str, columns: int, indent: int) -> list[Text]:
    """First and last bucket under the chart; on a line each when the chart is too narrow for both."""
    if columns >= len(first) + len(last) + 2:
        return [Text(" " * indent + first + " " * (columns - len(first) - len(last)) + last, style="dim")]
    return [Text(" " * indent + first + " →", style="dim"), Text(" " * indent + last, style="dim")]


def series_chart(
    rows: list[dict],
    value: str = "p99_ms",
    rate: str = "error_rate",
    group_cols: list[str] | None = None,
    height: int = 8,
    label: str = "P99 latency (ms)",
    width: int = 80,
) -> Group:
    """Per group: a bar chart of ``value`` per time bucket, and error-rate bars under it, within ``width``
    columns (adjacent buckets merge into one column, their maximum, when there are more than fit)."""
    group_cols = group_cols or []
    by_group: dict[tuple, list[dict]] = {}
    for r in rows:
        by_group.setdefault(tuple(r.get(c) for c in group_cols), []).append(r)
    buckets = sorted({r["bucket"] for r in rows})
    room = max(10, width - 12)  # the axis labels and the border take 11
    per = -(-len(buckets) // room) if buckets else 1
    parts = []
    if per > 1:
        parts.append(Text(f"each column: {per} buckets (their maximum), to fit {width} columns", style="dim"))
    for key, grows in by_group.items():
        at = {r["bucket"]: r for r in grows}
        vals = _merged([at[b][value] if b in at else None for b in buckets], per)
        rates = _merged([at[b][rate] if b in at else None for b in buckets], per)
        vmax = max((v for v in vals if v is not None), default=0.0)
        rmax = max((v for v in rates if v is not None), default=0.0)
        title = shown(" · ".join(f"{c}={k}" for c, k in zip(group_cols, key))) or "all"
        head = Text.assemble((title, "bold"), f"   {label}, max {fmt_value(vmax, value)}")
        parts.extend(
            [head] if head.cell_len <= width else [Text(title, style="bold"), Text(head.plain[len(title) + 3 :])]
        )
        for i, line in enumerate(_bars(vals, height, "magenta", vmax)):
            axis = fmt_value(vmax, value) if i == 0 else ("0" if i == height - 1 else "")
            parts.append(Text(f"{axis:>9} │") + line)
        for i, line in enumerate(_bars(rates, 3, "red", rmax or None)):
            axis = f"{rmax:.1%}" if i == 0 and rmax else ("errors" if i == 2 else "")
            parts.append(Text(f"{axis:>9} │") + line)
        if buckets:  # the year too: a store can span a new year
            first, last = buckets[0].strftime("%Y-%m-%d %H:%M"), buckets[-1].strftime("%Y-%m-%d %H:%M")
            parts.extend(_axis(first, last, len(vals), 11))
        parts.append(Text(""))
    return Group(*parts)


def graph_view(graph: dict) -> Group:
    """The folded execution graph as an indented tree; repeated blocks marked ×N."""
    lines = []
    nodes = [shown_row(n) for n in graph["nodes"]]  # labels and models come from span data
    i = 0
    while i < len(nodes):
        n = nodes[i]
        indent = "  " * n["depth"]
        if n["repeat"] > 1 and n["block_size"] > 1:
            block = [x for x in nodes[i:] if x["depth"] == n["depth"]][: n["block_size"]]
            labels = " → ".join(x["label"] for x in block)
            t = Text(indent + "↻ ", style="bold yellow")
            t.append(f"[{labels}] ×{n['repeat']}", style="bold yellow")
            lines.append(t)
            # skip the block's nodes and their descendants
            shown = {x["id"] for x in block}
            j = i
            while j < len(nodes) and (nodes[j]["id"] in shown or nodes[j]["depth"] > n["depth"]):
                j += 1
            i = j
            continue
        style = TYPE_STYLE.get(n["type"], "dim")
        t = Text(indent + ("└ " if n["depth"] else ""), style="dim")
        t.append(f"{n['type']}: ", style=style)
        t.append(str(n["label"]), style="bold" if n["type"] in ("agent", "workflow") else "")
        if n["model"] and n["type"] == "llm":
            t.append(f"  {n['model']}", style="dim")
        if n["repeat"] > 1:
            t.append(f"  ×{n['repeat']}", style="bold yellow")
        if n["status"] == "error":
            t.append("  error", style="bold red")
        lines.append(t)
        i += 1
    return Group(*lines)


_LOWER_BOUNDS = (0,) + HISTOGRAM_EDGES_MS


def _ms_label(ms: float | None) -> str:
    if ms is None:
        return "∞"
    return f"{ms / 1000:g} s" if ms >= 1000 else f"{ms:g} ms"


def histogram_view(
    rows: list[dict], summary: list[dict], group_cols: list[str], label: str = "latency", console_width: int = 80
) -> Group:
    """Per group: one bar per latency bucket (count and share), the buckets holding P50/P95/P99 marked;
    every line within ``console_width``."""
    width = max(10, min(40, console_width - 48))  # the bucket label, count, share and marks take 47
    stats = {tuple(s.get(c) for c in group_cols): s for s in summary}
    by_group: dict[tuple, list[dict]] = {}
    for r in rows:
        by_group.setdefault(tuple(r.get(c) for c in group_cols), []).append(r)
    parts = []
    for key, grows in by_group.items():
        s = stats.get(key, {})
        title = shown(" · ".join(f"{c}={k}" for c, k in zip(group_cols, key))) or "all"
        marks = {q: s.get(f"{q}_ms") for q in ("p50", "p95", "p99")}
        head = Text.assemble((title, "bold"), f"   {label} of {sum(r['requests'] for r in grows):,} calls")
        quantiles = " · ".join(f"{q} {fmt_value(v, 'x_ms')} ms" for q, v in marks.items() if v is not None)
        if head.cell_len + 3 + len(quantiles) <= console_width:
            head.append("   " + quantiles, style="dim")
            parts.append(head)
        else:
            parts.extend([head, Text(quantiles, style="dim")])
        top = max(r["requests"] for r in grows)
        first, last = min(r["bucket"] for r in grows), max(r["bucket"] for r in grows)
        at = {r["bucket"]: r for r in grows}
        for b in range(first, last + 1):  # empty buckets between full ones keep their row: the shape reads right
            r = at.get(b)
            lo, hi = _LOWER_BOUNDS[b], (HISTOGRAM_EDGES_MS[b] if b < len(HISTOGRAM_EDGES_MS) else None)
            n = r["requests"] if r else 0
            bar = "█" * max(1 if n else 0, round(n / top * width)) if top else ""
            here = [q for q, v in marks.items() if v is not None and v >= lo and (hi is None or v < hi)]
            line = Text(f"{_ms_label(lo):>7} – {_ms_label(hi):<7} ", style="dim")
            line.append(f"{bar:<{width}}", style="magenta")
            line.append(f" {n:>8,} {fmt_value(r['share'], 'share') if r else '':>6}")
            if here:
                line.append("  ◀ " + " ".join(here), style="bold")
            parts.append(line)
        parts.append(Text(""))
    return Group(*parts)


_SPARKS = "▁▂▃▄▅▆▇█"


def sparkline(values: list[float | None]) -> str:
    """One character per value, scaled from the lowest to the highest; a gap for no value."""
    known = [v for v in values if v is not None]
    if not known:
        return ""
    lo, hi = min(known), max(known)
    span = hi - lo
    return "".join(
        " " if v is None else _SPARKS[int(round((v - lo) / span * (len(_SPARKS) - 1))) if span else 0] for v in values
    )


def change_text(value: float | None, previous: float | None) -> str:
    """↑ 52% / ↓ 3% / → 0% against the previous period; "new" when it had none; "" without a value."""
    if not isinstance(value, int | float):
        return ""
    if not isinstance(previous, int | float):
        return "—"
    if value == previous:
        return "→ 0%"
    if previous == 0:
        return "new"
    pct = (value - previous) / abs(previous) * 100
    if abs(pct) < 0.05:
        return "→ 0%"
    size = f"{abs(pct):,.0f}%" if abs(pct) >= 10 else f"{abs(pct):.1f}%"
    return ("↑ " if pct > 0 else "↓ ") + size


SEVERITY_STYLE = {"critical": "bold red", "warning": "yellow", "info": "cyan"}


def problems_view(rows: list[dict], title: str, width: int = 80) -> Group:
    """Each problem as short lines (what and where, the figure and when, the command), wrapped
    under their indent, so it reads whole at 80 columns."""
    import textwrap

    indent = " " * 9
    parts: list[Text] = [Text(title, style="bold")]
    if not rows:
        parts.append(Text("none flagged by the default alert rules (llmscope check --example-rules)"))
    for r in rows:
        head = Text(f"{r['severity']:<9}", style=SEVERITY_STYLE.get(r["severity"], ""))
        head.append(r["problem"], style="bold")
        if r["where"] and r["where"] != "all":
            head.append(f" · {r['where']}")
        parts.append(head)
        body = r["value"] + (f"; {r['when']}" if r["when"] else "")
        for line in textwrap.wrap(body, max(20, width - 1), initial_indent=indent, subsequent_indent=indent):
            parts.append(Text(line))
        command = textwrap.wrap(r["command"], max(20, width - 1), initial_indent=indent + "→ ",
                                subsequent_indent=indent + "    ", break_on_hyphens=False)  # fmt: skip
        parts.extend(Text(line, style="dim") for line in command)
    parts.append(Text(""))
    return Group(*parts)
