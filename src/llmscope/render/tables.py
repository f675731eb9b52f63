"""Render tables for people (rich) and for machines (JSON, CSV, Markdown).

Every report goes through :func:`emit`: ``--format json`` prints an array of row objects whose
keys are the column names shown in the table, numbers as numbers, times as ISO-8601.
Colour follows rich, which honours ``NO_COLOR`` and plain pipes.
"""

from __future__ import annotations

import csv
import io
import math
import re
import sys
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import orjson
import pyarrow as pa
from rich.cells import cell_len
from rich.console import Console
from rich.markup import escape as _escape_markup
from rich.table import Table

FORMATS = ("table", "json", "csv", "markdown")


def console(stderr: bool = False) -> Console:
    # soft_wrap: a message stays one line however narrow the terminal (errors must be greppable);
    # tables are still laid out to the width. emoji=False: a span named ":x:" prints as ":x:".
    return Console(stderr=stderr, highlight=False, soft_wrap=True, emoji=False)


# Characters a terminal acts on instead of showing: C0 and C1 controls (ESC starts clear-screen,
# cursor moves, OSC-8 links, title changes), DEL, and the bidirectional overrides and isolates that
# reorder what is shown ("Trojan Source"). Newlines and tabs are layout, and stay.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def _visible(m: re.Match) -> str:
    c = ord(m.group())
    return f"\\x{c:02x}" if c < 0x100 else f"\\u{c:04x}"


def shown(text: str) -> str:
    """``text`` (from span data, a file, a store) as it is safe to hand to a terminal: every control
    character written as its escape (``\\x1b``), so data can never drive the terminal. The one
    place values from traces pass on their way to rich; :func:`escape` also escapes rich markup."""
    return _CONTROL.sub(_visible, text) if _CONTROL.search(text) else text


def escape(text: str) -> str:
    """``text`` safe inside a rich markup string: controls shown (:func:`shown`), ``[tags]`` escaped."""
    return _escape_markup(shown(text))


def shown_row(row: dict) -> dict:
    """A row whose text values are :func:`shown` (for renderables that take text as it is, not markup)."""
    return {k: shown(v) if isinstance(v, str) else v for k, v in row.items()}


def rows_of(data: pa.Table | Sequence[dict]) -> tuple[list[str], list[dict]]:
    if isinstance(data, pa.Table):
        return data.column_names, [{k: _py(v) for k, v in r.items()} for r in data.to_pylist()]
    rows = [{k: _py(v) for k, v in r.items()} for r in data]
    cols: list[str] = []
    for r in rows:
        for k in r:
            if k not in cols:
                cols.append(k)
    return cols, rows


def _py(v: Any) -> Any:
    """SQL sums arrive as Decimal (HUGEINT); show them as the ints or floats they are."""
    if isinstance(v, Decimal):
        return int(v) if v == v.to_integral_value() else float(v)
    return v


def _json_default(v: Any) -> Any:
    if isinstance(v, Decimal):
        return float(v)
    if isinstance(v, (set, tuple)):
        return list(v)
    return str(v)


def to_json(data: Any) -> str:
    def clean(v):
        if isinstance(v, float) and (math.isnan(v) or math.isinf(v)):
            return None
        if isinstance(v, dict):
            return {k: clean(x) for k, x in v.items()}
        if isinstance(v, list):
            return [clean(x) for x in v]
        return v

    return orjson.dumps(
        clean(data), default=_json_default, option=orjson.OPT_INDENT_2 | orjson.OPT_NAIVE_UTC | orjson.OPT_UTC_Z
    ).decode()


def _percent(v: float) -> str:
    """One decimal; a rare event keeps two significant digits (1 leak in 3,308 calls: 0.030%, not 0.0%)."""
    if v != 0 and abs(v) < 0.001:
        return f"{v * 100:.2g}%" if abs(v) >= 1e-6 else "<0.0001%"  # .2g: no e-notation above 1e-4
    return f"{v:.1%}"


def _significant(v: float, digits: int = 3) -> str:
    """``digits`` significant digits in plain decimals, never e-notation: 0.0000625, not 6.25e-05."""
    if v == 0:
        return "0"
    return f"{v:.{min(12, max(0, digits - 1 - math.floor(math.log10(abs(v)))))}f}"


def _per_time(v: float) -> str:
    """A rate per second in the unit that reads: 12.5/s, 3.2/min, 0.35/h (never 0.000971/s)."""
    for scale, unit in ((1, "s"), (60, "min"), (3600, "h")):
        if abs(v) * scale >= 1 or unit == "h":
            x = v * scale
            return f"{x:,.1f}/{unit}" if abs(x) >= 1 else f"{_significant(x, 2)}/{unit}"
    raise AssertionError("unreachable")


def fmt_value(v: Any, col: str = "") -> str:
    if v is None:
        return "—"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, float):
        if math.isnan(v):
            return "—"
        if "share" in col:  # before "cost": top1pct_cost_share is a share of the cost
            return _percent(v)
        if col.endswith("_tokens"):  # percentiles of token counts
            return f"{v:,.0f}"
        if "cost" in col or col.endswith("_usd") or col.startswith("usd"):
            if v != 0 and abs(v) < 0.01:  # two significant digits, never in e-notation: $0.000090
                return f"${v:.{min(12, 1 - math.floor(math.log10(abs(v))))}f}"
            return f"${v:,.4f}" if abs(v) < 100 else f"${v:,.2f}"
        if col.endswith("_ms"):
            return f"{v:,.0f}" if abs(v) >= 100 else f"{v:,.1f}"
        if col.endswith("_per_s"):
            return _per_time(v)
        if ("rate" in col and not col.endswith("_per_s")) or "share" in col:
            return _percent(v)
        if col.endswith("_pct"):
            return f"{v:.1f}%"
        if abs(v) >= 100:
            return f"{v:,.0f}"
        return f"{v:,.2f}" if abs(v) >= 1 else _significant(v)
    if isinstance(v, int):
        return f"{v:,}"
    if isinstance(v, datetime):
        return v.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(v, date):
        return v.isoformat()
    if isinstance(v, (list, dict)):
        return orjson.dumps(v).decode()
    return str(v)


def _plain(v: Any) -> Any:
    if isinstance(v, datetime):
        return v.isoformat()
    if isinstance(v, date):
        return v.isoformat()
    if isinstance(v, (list, dict)):
        return orjson.dumps(v, default=_json_default).decode()
    return v


def emit(
    data: pa.Table | Sequence[dict],
    fmt: str = "table",
    title: str | None = None,
    out: Console | None = None,
    caption: str | None = None,
    keep: Sequence[str] = (),
) -> None:
    """Print a table in the chosen format to stdout.

    On a terminal too narrow for every column, the table keeps the ``keep`` columns (else the
    first), then as many of the others as fit in their order, and says which it left out: a
    readable table beats every column folded into a few letters. Pipes and files get every
    column at full width (``less -S`` scrolls it).
    """
    cols, rows = rows_of(data)
    if fmt == "json":
        sys.stdout.write(to_json([{c: r.get(c) for c in cols} for r in rows]) + "\n")
    elif fmt == "csv":
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(cols)
        for r in rows:
            w.writerow(["" if r.get(c) is None else _plain(r.get(c)) for c in cols])
        out = buf.getvalue()
        # CSV keeps the data byte for byte, except on a terminal, where it would be obeyed
        sys.stdout.write(shown(out) if sys.stdout.isatty() else out)
    elif fmt == "markdown":
        sys.stdout.write(markdown(cols, rows, title) + "\n")
    else:
        con = out or console()
        if not con.is_terminal:  # a pipe or a file: every column at its full width, nothing folded
            full = 1 + sum(max(_natural(c, rows), cell_len(_header(c))) + 3 for c in cols)
            width = con.width
            con.width = max(width, min(full, MAX_PIPE_WIDTH))
            try:
                con.print(rich_table(cols, rows, title, caption))
            finally:
                con.width = width
            return
        widths = fit_columns(cols, rows, con.width, keep)
        hidden = [c for c in cols if c not in widths]
        if hidden:
            import textwrap

            note = "\n".join(
                textwrap.wrap(
                    f"{len(hidden)} more column(s) at this width: {', '.join(hidden)} "
                    "(a wider terminal, or --format csv|json|markdown, shows them)",
                    max(20, con.width - 1),
                )
            )
            caption = f"{caption}\n{note}" if caption else note
        con.print(rich_table(list(widths), rows, title, caption, widths))


MAX_TEXT_WIDTH = 40  # long text wraps within this; it does not claim the whole width
MAX_PIPE_WIDTH = 400


def _natural(c: str, rows: list[dict]) -> int:
    """A column's width without folding a value (long text aside) or breaking a header word."""
    cells = max((cell_len(fmt_value(r.get(c), c)) for r in rows), default=0)  # wide characters count twice
    return max(min(cells, MAX_TEXT_WIDTH), max(len(w) for w in _header(c).split()))


def fit_columns(cols: list[str], rows: list[dict], width: int, keep: Sequence[str] = ()) -> dict[str, int]:
    """The columns that fit ``width`` at their natural width, with that width: ``keep`` (or the
    first column) always, then the others in order while they fit; in their original order."""
    widths = {c: _natural(c, rows) for c in cols}
    must = [c for c in cols if c in keep] or cols[:1]
    used = 1 + sum(widths[c] + 3 for c in must)  # a border and padding around every cell
    while used > width:  # even the headline columns are too wide: long text wraps in a narrower column
        widest = max(must, key=lambda c: widths[c])
        floor = max(12, max(len(w) for w in _header(widest).split()))
        cut = min(used - width, widths[widest] - floor)
        if cut <= 0:
            break
        widths[widest] -= cut
        used -= cut
    chosen = set(must)
    for c in cols:
        if c not in chosen and used + widths[c] + 3 <= width:
            chosen.add(c)
            used += widths[c] + 3
    out = {c: widths[c] for c in cols if c in chosen}
    for c in out:  # room left: headers on one line where it lets them
        grow = min(max(len(_header(c)) - out[c], 0), max(width - used, 0))
        out[c] += grow
        used += grow
    return out


def _header(col: str) -> str:
    if col.endswith("_per_s"):  # the cell carries its unit (per s, min or h)
        col = col[: -len("_per_s")] + "_rate"
    return col.replace("_", " ")  # lets a long name wrap between its words in a narrow column


def markdown(cols: list[str], rows: Iterable[dict], title: str | None = None) -> str:
    def cell(v, c):
        return shown(fmt_value(v, c).replace("|", "\\|").replace("\n", " ").replace("\t", " "))

    lines = [f"### {title}", ""] if title else []
    lines.append("| " + " | ".join(cols) + " |")
    lines.append("|" + "|".join("---:" if _numeric_col(rows, c) else "---" for c in cols) + "|")
    for r in rows:
        lines.append("| " + " | ".join(cell(r.get(c), c) for c in cols) + " |")
    return "\n".join(lines)


def _numeric_col(rows: Iterable[dict], c: str) -> bool:
    for r in rows:
        v = r.get(c)
        if v is not None:
            return isinstance(v, (int, float)) and not isinstance(v, bool)
    return False


def rich_table(
    cols: list[str],
    rows: list[dict],
    title: str | None = None,
    caption: str | None = None,
    widths: dict[str, int] | None = None,
) -> Table:
    t = Table(title=title, caption=caption, header_style="bold", title_justify="left", caption_justify="left")
    for c in cols:
        t.add_column(
            _header(c),
            justify="right" if _numeric_col(rows, c) else "left",
            overflow="fold",
            width=(widths or {}).get(c),
        )
    for r in rows:
        cells = []
        for c in cols:
            v = r.get(c)
            s = escape(fmt_value(v, c))  # the one place a cell's value becomes rich markup
            if c == "status" and v == "error":
                s = f"[red]{s}[/red]"
            cells.append(s)
        t.add_row(*cells)
    return t
