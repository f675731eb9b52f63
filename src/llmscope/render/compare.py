"""A comparison for people: each figure in its unit, the change with its interval, the verdict; as a
terminal table or a Markdown pull-request comment (worse first)."""

from __future__ import annotations

import math
from typing import Any

from .tables import markdown

VERDICT_ORDER = {"worse": 0, "better": 1, "no detectable change": 2, "too few data": 3, "no data": 4}
MARKS = {"worse": "❌ worse", "better": "✅ better"}


def _usd(v: float) -> str:
    if v == 0:
        return "$0"
    if abs(v) < 0.01:
        return f"${v:.{min(12, 1 - math.floor(math.log10(abs(v))))}f}"
    return f"${v:,.4f}"


def value(v: float | None, unit: str) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "—"
    if unit == "ms":
        return f"{v:,.0f} ms" if abs(v) >= 100 else f"{v:,.1f} ms"
    if unit == "usd":
        return _usd(v)
    if unit == "rate":
        return f"{v:.2%}" if v and abs(v) < 0.01 else f"{v:.1%}"
    if unit == "tokens":
        return f"{v:,.1f}"
    return f"{v:.3f}"


def delta(v: float | None, unit: str) -> str:
    """A signed difference; rates in percentage points."""
    if v is None:
        return "—"
    sign = "+" if v > 0 else "−" if v < 0 else "±"
    m = abs(v)
    if unit == "rate":
        return f"{sign}{m * 100:.2g} pp" if m and m < 0.001 else f"{sign}{m * 100:.1f} pp"
    if unit == "usd":
        return sign + _usd(m)
    return sign + value(m, unit)


def display_rows(rows: list[dict], markdown_marks: bool = False) -> list[dict]:
    """Rows of strings: metric, baseline, current, change (relative), interval, verdict."""
    out = []
    for r in sorted(rows, key=lambda r: VERDICT_ORDER.get(r["verdict"], 9)):
        unit = r["unit"]
        change = delta(r["change"], unit)
        if r["relative_change"] is not None and unit != "rate":
            change += f" ({r['relative_change']:+.0%})".replace("-", "−")
        interval = (
            f"[{delta(r['change_low'], unit)}, {delta(r['change_high'], unit)}]" if r["change_low"] is not None else "—"
        )
        verdict = r["verdict"]
        out.append(
            {
                "metric": r["metric"],
                "baseline": value(r["baseline"], unit),
                "current": value(r["current"], unit),
                "change": change,
                "interval": interval,
                "verdict": MARKS.get(verdict, verdict) if markdown_marks else verdict,
            }
        )
    return out


def summary_line(meta: dict[str, Any]) -> str:
    return (
        f"{meta['worse']} worse, {meta['better']} better, {meta['unchanged']} with no detectable change "
        f"({meta['level']:.0%} bootstrap intervals over {meta['baseline_traces']:,} baseline and "
        f"{meta['current_traces']:,} current traces; {meta['resamples']:,} resamples, seed {meta['seed']})"
    )


def pull_request_comment(rows: list[dict], meta: dict[str, Any]) -> str:
    """The comparison as a Markdown comment: a headline, the verdict counts, the table (worse first)."""
    head = f"### llmscope compare: `{meta['current']}` against `{meta['baseline']}`"
    worse = [r["metric"] for r in rows if r["verdict"] == "worse"]
    lead = f"**{len(worse)} metric(s) worse:** {', '.join(worse)}" if worse else "**Nothing got worse.**"
    table = markdown(["metric", "baseline", "current", "change", "interval", "verdict"], display_rows(rows, True))
    notes = (
        "_change = current − baseline; interval: the bootstrap percentile interval of the change "
        "(traces resampled); rates in percentage points._"
    )
    return "\n\n".join([head, lead + "  \n" + summary_line(meta), table, notes])
