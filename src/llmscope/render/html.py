"""One self-contained HTML report: every section's figures and charts in a single file that opens offline.

    >>> from llmscope.render.html import html_report
    >>> page = html_report(con, SpanFilter.from_options(since="7d"), content=False)
    >>> Path("report.html").write_text(page)

The figures come from the same analysis functions as the JSON reports (``analyses/``), called here and
printed with the terminal tables' formatting; each table cell also carries its raw value (``data-v``,
JSON) so a test, or a script, can read the numbers back. Charts are Vega-Lite specs built with altair,
drawn in the browser by vega / vega-lite / vega-embed, whose JavaScript is inlined from the bundle that
``vl-convert-python`` ships (about 0.9 MB): nothing is fetched when the page is viewed, and a
Content-Security-Policy in the page forbids it. Agent graphs and trace waterfalls are plain HTML and
CSS (a tree with folded repeats; a timing bar per span that expands to its details).

Privacy: without ``content`` the page holds aggregates, names (models, tools, features, span names) and
the masked excerpts of safety findings only. Prompts, answers, tool arguments, the prompt-term drift
vocabulary and user / session ids appear only with ``content=True``, and then as the store holds them,
so ``--redact pii`` / ``--hash-content`` at ingest apply. Error messages are shown with PII masked.
"""

from __future__ import annotations

import json
import math
import os
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import duckdb
import orjson

from ..analyses import agents as A
from ..analyses import cost as C
from ..analyses import drift as D
from ..analyses import errors as E
from ..analyses import latency as L
from ..analyses import quality as Q
from ..analyses import safety as S
from ..analyses import traces as T
from ..analyses.graph import trace_graph
from ..analyses.stats import span_window
from ..analyses.summary import summary
from ..errors import LlmscopeError
from ..query import SpanFilter, group_exprs
from .tables import fmt_value

EXTRA_HINT = "the HTML report needs altair and vl-convert-python: pip install 'llmscope[html]'"

# Grouping of each section when the caller gives no --by (a --by replaces them all).
DEFAULT_BY = {
    "latency": "model",
    "errors": "provider",
    "cost": ("feature", "prompt_version"),
    "safety": "feature",
    "quality": "prompt_version",
    "drift": None,
}
WORST = 5  # traces per "worst" list
MAX_SPANS = 300  # spans drawn per waterfall (a runaway can have thousands)
MAX_PANELS = 8  # per-group small multiples (models in the histograms, drift features)
TEXT_LIMIT = 4000  # characters of a prompt or answer shown with --content
BUCKETS = ("1h", "3h", "6h", "12h", "1d", "7d")  # series buckets: the finest with at most MAX_POINTS
MAX_POINTS = 120
CLASS_COLORS = {
    "rate_limit": "#e45756",
    "timeout": "#f58518",
    "server_error": "#b279a2",
    "client_error": "#4c78a8",
    "auth_error": "#72b7b2",
    "other_errors": "#9d9da1",
}
TYPE_COLORS = {"llm": "#4c78a8", "tool": "#f58518", "agent": "#54a24b", "retriever": "#b279a2", "embedding": "#72b7b2"}


class HtmlExtraMissing(LlmscopeError, ImportError):
    """altair / vl-convert-python are not installed (the ``html`` extra)."""


# --------------------------------------------------------------------------- page model


@dataclass
class Figures:
    """A table of figures as printed: the rows of one analysis call, the columns shown."""

    id: str
    title: str
    columns: list[str]
    rows: list[dict]
    source: str  # the analysis call, for people and tests: "latency.latency(by='model')"
    note: str = ""
    text: dict[str, Any] = field(default_factory=dict)  # column -> fn(row) for a displayed text other than fmt_value

    def cells(self, row: dict) -> list[tuple[str, str, str, str]]:
        """(column, raw value as JSON, text shown, title) per shown column."""
        out = []
        for c in self.columns:
            v = row.get(c)
            shown = self.text[c](row) if c in self.text else _fmt(v, c)
            out.append((c, _json(v), shown, v if isinstance(v, str) and len(v) > len(shown) else ""))
        return out


@dataclass
class Chart:
    id: str
    spec: dict
    source: str
    caption: str = ""


@dataclass
class Block:
    """Hand-drawn HTML: an agent graph or a trace waterfall (rendered by a template macro)."""

    kind: str  # "graph" | "waterfall" | "note" | "cards"
    data: Any


@dataclass
class Section:
    id: str
    title: str
    intro: str
    blocks: list = field(default_factory=list)
    status: str = ""  # "not scanned", "not evaluated", "no data" …


# --------------------------------------------------------------------------- values


def _json(v: Any) -> str:
    """A value as the JSON reports write it (times ISO-8601 UTC with Z)."""
    if isinstance(v, float) and (math.isnan(v) or math.isinf(v)):
        v = None
    return orjson.dumps(v, default=str, option=orjson.OPT_NAIVE_UTC | orjson.OPT_UTC_Z).decode()


def _jsonable(rows: list[dict]) -> list[dict]:
    """Rows as the JSON reports have them: what the charts are drawn from."""
    return orjson.loads(_json([{k: _plain(v) for k, v in r.items()} for r in rows]))


def _plain(v: Any) -> Any:
    if isinstance(v, float) and (math.isnan(v) or math.isinf(v)):
        return None
    return v


def _fmt(v: Any, col: str) -> str:
    if isinstance(v, str) and (col == "trace_id" or col.endswith(("_trace_id", "span_id"))):
        return v[:12]
    return fmt_value(v, col)


def _ms(ms: float | None) -> str:
    if ms is None:
        return "—"
    if ms >= 60_000:
        return f"{ms / 60_000:.1f} min"
    if ms >= 1000:
        return f"{ms / 1000:.2f} s" if ms < 10_000 else f"{ms / 1000:.1f} s"
    return f"{ms:.0f} ms"


def _rows(tbl) -> list[dict]:
    from .tables import rows_of

    return rows_of(tbl)[1]


def _by(section: str, by: str | None) -> list[str | None]:
    default = DEFAULT_BY[section]
    if by:
        return [by]
    return list(default) if isinstance(default, tuple) else [default]


def _group_cols(by: str | None) -> list[str]:
    return [alias for alias, _ in group_exprs(by)]


def _label(row: dict, cols: list[str]) -> str:
    return " · ".join("(none)" if row.get(c) is None else str(row[c]) for c in cols) or "all"


def _with_group_label(rows: list[dict], cols: list[str]) -> list[dict]:
    return [{**r, "group": _label(r, cols)} for r in rows]


def _mask(text: str | None) -> str | None:
    """PII in an excerpt that is not a prompt or answer (error messages) masked, as safety excerpts are."""
    if not text:
        return text
    from ..safety import pii

    for m in sorted(pii.find_pii(text), key=lambda m: m.start, reverse=True):
        text = text[: m.start] + pii.mask_value(m.kind, m.value) + text[m.end :]
    return text


def _every(first: datetime | None, last: datetime | None) -> str:
    if first is None or last is None:
        return "1d"
    from ..query import parse_duration

    span = (last - first).total_seconds()
    for every in BUCKETS:
        if span / parse_duration(every).total_seconds() <= MAX_POINTS:
            return every
    return BUCKETS[-1]


# --------------------------------------------------------------------------- charts (Vega-Lite via altair)


def _alt():
    try:
        import altair as alt
    except ImportError as e:
        raise HtmlExtraMissing(EXTRA_HINT) from e
    return alt


def _time_x(alt, field_name: str = "bucket", title: str | None = None):
    if "(" in field_name:  # a time unit: keep the scale's default (it is already UTC)
        return alt.X(f"{field_name}:T", title=title, axis=alt.Axis(format="%b %d", labelAngle=0, labelOverlap="greedy"))
    return alt.X(
        f"{field_name}:T",
        title=title,
        scale=alt.Scale(type="utc"),
        axis=alt.Axis(format="%b %d", labelAngle=0, labelOverlap="greedy", labelPadding=4),
    )


# log-scale axis in ms, labelled in the unit people read (ms, s)
MS_AXIS_EXPR = "datum.value >= 1000 ? format(datum.value / 1000, '~s') + ' s' : format(datum.value, '~s') + ' ms'"


def _time_tip(alt, field_name: str = "bucket"):
    return alt.Tooltip(f"{field_name}:T", title="from (UTC)", format="%Y-%m-%d %H:%M", formatType="utc")


class _Data:
    """A chart's inline datasets, kept out of altair's object tree (it deep-copies every row it holds:
    seconds for a few thousand rows) and added to the spec as top-level ``datasets``."""

    def __init__(self, alt):
        self.alt, self.sets = alt, {}

    def __call__(self, rows: list[dict]):
        return self.alt.NamedData(self.add(rows))

    def add(self, rows: list[dict]) -> str:
        name = f"d{len(self.sets)}"
        self.sets[name] = rows
        return name

    def spec(self, chart) -> dict:
        # Schema validation costs ~0.2 s a chart; the browser test draws every chart of the page instead.
        d = chart.to_dict(validate=False)
        d["datasets"] = self.sets
        return d


def latency_chart(alt, series: list[dict], group: list[str]) -> dict:
    """P50/P95/P99 and TTFT P50 per time bucket, one small panel per group, log scale."""
    data = _Data(alt)
    rows = _with_group_label(series, group)
    measures = ["p50_ms", "p95_ms", "p99_ms", "ttft_p50_ms"]
    names = {"p50_ms": "P50", "p95_ms": "P95", "p99_ms": "P99", "ttft_p50_ms": "TTFT P50"}
    base = (
        alt.Chart(data(rows))
        .transform_fold(measures, as_=["measure", "ms"])
        .transform_filter("isValid(datum.ms) && datum.ms > 0")
        .transform_calculate(percentile=f"{json.dumps(names)}[datum.measure]")
    )
    line = base.mark_line(strokeWidth=1.5, point=alt.OverlayMarkDef(size=12)).encode(
        x=_time_x(alt),
        y=alt.Y(
            "ms:Q",
            scale=alt.Scale(type="log"),
            title=None,
            axis=alt.Axis(values=[1, 10, 100, 1_000, 10_000, 100_000, 1_000_000], labelExpr=MS_AXIS_EXPR),
        ),
        color=alt.Color(
            "percentile:N",
            scale=alt.Scale(domain=list(names.values()), range=["#4c78a8", "#f58518", "#e45756", "#54a24b"]),
            legend=alt.Legend(title=None, orient="top"),
        ),
        strokeDash=alt.condition("datum.measure == 'ttft_p50_ms'", alt.value([4, 3]), alt.value([1, 0])),
        tooltip=[
            alt.Tooltip("group:N", title="group"),
            _time_tip(alt),
            "percentile:N",
            alt.Tooltip("ms:Q", format=",.1f"),
        ],
    )
    return data.spec(line.properties(width=430, height=140).facet(facet=alt.Facet("group:N", title=None), columns=2))


def histogram_chart(alt, hist: list[dict], lat: list[dict], group: list[str]) -> dict:
    """How calls spread over the 1-2-5 latency buckets, per group, P50/P95/P99 marked on their bucket."""
    data = _Data(alt)
    labels = {b: _bucket_label(b) for b in range(len(L.HISTOGRAM_EDGES_MS) + 1)}
    order = [labels[b] for b in sorted(labels)]
    by_group: dict[str, list[dict]] = {}
    for r in _with_group_label(hist, group):
        by_group.setdefault(r["group"], []).append({**r, "range": labels[r["bucket"]]})
    panels = []  # (bars' rows, percentile marks, title)
    for r in _with_group_label(lat, group)[:MAX_PANELS]:
        rows = by_group.get(r["group"], [])
        if not rows:
            continue
        marks: dict[str, dict] = {}  # percentiles in the same bucket share one mark
        for name in ("p50_ms", "p95_ms", "p99_ms"):
            v = r.get(name)
            if v is None:
                continue
            b = next((i for i, e in enumerate(L.HISTOGRAM_EDGES_MS) if v < e), len(L.HISTOGRAM_EDGES_MS))
            m = marks.setdefault(labels[b], {"range": labels[b], "mark": "", "at": ""})
            m["mark"] = (m["mark"] + " " + name[:3].upper()).strip()
            m["at"] = (m["at"] + f"; {name[:3].upper()} {_ms(v)}").strip("; ")
        title = f"{r['group']}: P50 {_ms(r.get('p50_ms'))} · P95 {_ms(r.get('p95_ms'))} · P99 {_ms(r.get('p99_ms'))}"
        panels.append((rows, list(marks.values()), title))

    def restyle(panel: dict, rows: list[dict], marks: list[dict], title: str) -> None:
        for layer, rows_ in zip(panel["layer"], (rows, marks, marks)):
            layer["data"] = {"name": data.add(rows_)}
        panel["title"] = title

    return _panels_like_the_first(alt, data, panels, lambda *p: _histogram_panel(alt, data, order, *p), restyle)


def _panels_like_the_first(alt, data: _Data, panels: list[tuple], build, restyle) -> dict:
    """Two-column panels of one design: altair builds the first two (two datasets each, so none is lifted to
    the top of the spec); the others are copies of the first's spec that ``restyle(copy, *panel)`` gives
    their own data and title (altair deep-copies every layer at each step: 0.5 s for 8 histograms)."""
    if not panels:
        return {}
    spec = data.spec(alt.concat(*(build(*p) for p in panels[:2]), columns=2))
    template = spec["concat"][0]
    for p in panels[2:]:
        panel = orjson.loads(orjson.dumps(template))
        restyle(panel, *p)
        spec["concat"].append(panel)
    return spec


def _histogram_panel(alt, data: _Data, order: list[str], rows: list[dict], marks: list[dict], title: str):
    """One group's histogram: bars of the share of calls, the percentiles as rules with their names."""
    bars = (
        alt.Chart(data(rows))
        .mark_bar(color="#4c78a8")
        .encode(
            x=alt.X("range:O", sort=order, scale=alt.Scale(domain=order), title=None, axis=alt.Axis(labelAngle=-40)),
            y=alt.Y("share:Q", axis=alt.Axis(format="%"), title="share of calls"),
            tooltip=["range:O", alt.Tooltip("requests:Q", format=","), alt.Tooltip("share:Q", format=".1%")],
        )
    )
    rules = (
        alt.Chart(data(marks))
        .mark_rule(color="#e45756", strokeDash=[3, 2])
        .encode(x=alt.X("range:O", sort=order), tooltip=[alt.Tooltip("at:N", title="percentiles")])
    )
    text = (
        alt.Chart(data(marks))
        .mark_text(color="#e45756", dy=-4, baseline="bottom", fontSize=10)
        .encode(x=alt.X("range:O", sort=order), y=alt.value(0), text="mark:N")
    )
    return alt.layer(bars, rules, text).properties(width=430, height=130, title=title)


def _bucket_label(b: int) -> str:
    """``10–20 ms``, ``500 ms–1 s``, ``1–2 s``, ``≥ 500 s`` for histogram bucket ``b``."""

    def unit(ms):
        return ("s", ms / 1000) if ms >= 1000 else ("ms", ms)

    edges = L.HISTOGRAM_EDGES_MS
    if b >= len(edges):
        u, v = unit(edges[-1])
        return f"≥ {v:g} {u}"
    lo, hi = (edges[b - 1] if b else 0), edges[b]
    (ul, vl), (uh, vh) = unit(lo), unit(hi)
    return f"{vl:g}–{vh:g} {uh}" if ul == uh or lo == 0 else f"{vl:g} {ul}–{vh:g} {uh}"


def errors_chart(alt, series: list[dict]) -> dict:
    data = _Data(alt)
    classes = list(CLASS_COLORS)
    base = alt.Chart(data(series))
    bars = (
        base.transform_fold(classes, as_=["class", "count"])
        .transform_filter("datum.count > 0")
        .mark_bar()
        .encode(
            x=_time_x(alt),
            y=alt.Y("count:Q", title="errors", stack="zero"),
            color=alt.Color(
                "class:N",
                scale=alt.Scale(domain=classes, range=list(CLASS_COLORS.values())),
                legend=alt.Legend(title=None, orient="top"),
            ),
            tooltip=[_time_tip(alt), "class:N", "count:Q"],
        )
        .properties(width=900, height=160)
    )
    rate = base.mark_area(line=True, opacity=0.25, color="#e45756").encode(
        x=_time_x(alt),
        y=alt.Y("error_rate:Q", axis=alt.Axis(format="%"), title="error rate"),
        tooltip=[_time_tip(alt), alt.Tooltip("requests:Q", format=","), alt.Tooltip("error_rate:Q", format=".2%")],
    )
    return data.spec(alt.vconcat(bars, rate.properties(width=900, height=80)))


def cost_chart(alt, daily: list[dict]) -> dict:
    """Cost per bucket, and cost per call against its rolling baseline with the anomalies marked."""
    data = _Data(alt)
    base = alt.Chart(data(daily))
    bars = base.mark_bar(color="#4c78a8", width={"band": 0.8}).encode(
        x=_time_x(alt, "utcyearmonthdate(bucket)"),
        y=alt.Y("cost_usd:Q", title="cost (USD)", axis=alt.Axis(format="$,.2f")),
        tooltip=[_time_tip(alt), alt.Tooltip("cost_usd:Q", format="$,.4f"), alt.Tooltip("calls:Q", format=",")],
    )
    per_call = base.mark_line(color="#54a24b", point=True).encode(
        x=_time_x(alt),
        y=alt.Y("cost_per_call:Q", title="cost per call", axis=alt.Axis(format="$,.5f")),
        tooltip=[
            _time_tip(alt),
            alt.Tooltip("cost_per_call:Q", format="$,.6f"),
            alt.Tooltip("ratio:Q", title="× baseline"),
        ],
    )
    baseline = base.mark_line(color="#9d9da1", strokeDash=[4, 3]).encode(x=_time_x(alt), y="baseline:Q")
    breaks = (
        base.transform_filter("datum.anomaly")
        .mark_point(color="#e45756", size=140, shape="triangle-up", filled=True)
        .encode(
            x=_time_x(alt),
            y="cost_per_call:Q",
            tooltip=[
                _time_tip(alt),
                alt.Tooltip("cost_per_call:Q", format="$,.6f"),
                alt.Tooltip("baseline:Q", format="$,.6f"),
                alt.Tooltip("ratio:Q", title="× baseline"),
                alt.Tooltip("robust_z:Q", title="robust z"),
            ],
        )
    )
    return data.spec(
        alt.vconcat(
            bars.properties(width=900, height=120),
            alt.layer(baseline, per_call, breaks).properties(width=900, height=120),
        )
    )


def cost_by_group_chart(alt, series: list[dict], group: list[str]) -> dict:
    """Cost per call per bucket and group, breaks from each group's baseline marked."""
    data = _Data(alt)
    rows = _with_group_label(series, group)
    base = alt.Chart(data(rows))
    lines = base.mark_line(strokeWidth=1.5).encode(
        x=_time_x(alt),
        # log: groups whose calls cost 100x less still show their breaks
        y=alt.Y(
            "cost_per_call:Q", title="cost per call (log)", scale=alt.Scale(type="log"), axis=alt.Axis(format="$,.5~f")
        ),
        color=alt.Color("group:N", legend=alt.Legend(title=", ".join(group), orient="right")),
        tooltip=["group:N", _time_tip(alt), alt.Tooltip("cost_per_call:Q", format="$,.6f")],
    )
    breaks = (
        base.transform_filter("datum.anomaly")
        .mark_point(color="#e45756", size=120, shape="triangle-up", filled=True)
        .encode(
            x=_time_x(alt),
            y="cost_per_call:Q",
            tooltip=[
                "group:N",
                _time_tip(alt),
                alt.Tooltip("cost_per_call:Q", format="$,.6f"),
                alt.Tooltip("ratio:Q", title="× baseline"),
            ],
        )
    )
    return data.spec(alt.layer(lines, breaks).properties(width=820, height=180))


def share_bars(alt, rows: list[dict], group: list[str], value: str, title: str, fmt: str) -> dict:
    data = _Data(alt)
    labelled = _with_group_label(rows, group)
    return data.spec(
        alt.Chart(data(labelled), title=title)
        .mark_bar(color="#4c78a8")
        .encode(
            y=alt.Y("group:N", sort="-x", title=None),
            x=alt.X(f"{value}:Q", title=None, axis=alt.Axis(format="$,.2~f", labelOverlap="greedy")),
            tooltip=["group:N", alt.Tooltip(f"{value}:Q", format=fmt)],
        )
        .properties(width=380, height=alt.Step(18))
    )


def drift_chart(alt, bins: list[dict], top: list[dict], group: list[str]) -> dict:
    """Baseline and current side by side for the features that moved most."""
    data = _Data(alt)
    panels = []  # (rows, bin order, title)
    for r in top:
        key = tuple(r.get(c) for c in group)
        rows = [
            {"label": b["label"], "bin": b["bin"], "window": w, "share": b[f"{w}_share"]}
            for b in bins
            if b["feature"] == r["feature"] and tuple(b.get(c) for c in group) == key
            for w in ("baseline", "current")
        ]
        if r["kind"] == "text":  # the 15 terms with the largest share in either window
            keep = sorted(
                {x["label"] for x in rows}, key=lambda t: (-max(x["share"] or 0 for x in rows if x["label"] == t), t)
            )[:15]  # ties by the term itself: the same page from the same store, whatever the set order
            rows = [x for x in rows if x["label"] in keep]
        order = [label for _, label in sorted({(x["bin"], x["label"]) for x in rows})]
        name = (_label(r, group) + " · " if group else "") + r["feature"]
        panels.append((rows, order, f"{name}: JSD {r['jsd']:.3f} · PSI {r['psi']:.3f} · {r['verdict']}"))

    def restyle(panel: dict, rows: list[dict], order: list[str], title: str) -> None:
        panel["data"] = {"name": data.add(rows)}
        panel["encoding"]["x"]["sort"] = order
        panel["title"] = title

    return _panels_like_the_first(alt, data, panels, lambda *p: _drift_panel(alt, data, *p), restyle)


def _drift_panel(alt, data: _Data, rows: list[dict], order: list[str], title: str):
    return (
        alt.Chart(data(rows))
        .mark_bar()
        .encode(
            x=alt.X("label:N", sort=order, title=None, axis=alt.Axis(labelAngle=-40, labelLimit=90)),
            xOffset=alt.XOffset("window:N", sort=["baseline", "current"]),
            y=alt.Y("share:Q", axis=alt.Axis(format="%"), title=None),
            color=alt.Color(
                "window:N",
                scale=alt.Scale(domain=["baseline", "current"], range=["#9d9da1", "#e45756"]),
                legend=alt.Legend(title=None, orient="top"),
            ),
            tooltip=["label:N", "window:N", alt.Tooltip("share:Q", format=".1%")],
        )
        .properties(width=430, height=120, title=title)
    )


def safety_chart(alt, rows: list[dict], group: list[str]) -> dict:
    data = _Data(alt)
    labelled = _with_group_label(rows, group)
    kinds = list(S.KINDS)
    return data.spec(
        alt.Chart(data(labelled))
        .transform_fold(kinds, as_=["kind", "spans"])
        .transform_filter("datum.spans > 0")
        .mark_bar()
        .encode(
            y=alt.Y("group:N", title=None),
            x=alt.X("spans:Q", title="spans with a finding", stack="zero", axis=alt.Axis(tickMinStep=1, format="d")),
            color=alt.Color("kind:N", legend=alt.Legend(title=None, orient="top")),
            tooltip=["group:N", "kind:N", "spans:Q"],
        )
        .properties(width=820, height=alt.Step(20))
    )


def quality_chart(alt, rows: list[dict], group: list[str]) -> dict:
    data = _Data(alt)
    scored = [r for r in _with_group_label(rows, group) if r.get("mean_score") is not None]
    return data.spec(
        alt.Chart(data(scored))
        .mark_bar()
        .encode(
            y=alt.Y("group:N", title=None),
            x=alt.X("mean_score:Q", scale=alt.Scale(domain=[0, 1]), title="mean score"),
            color=alt.Color("metric:N", legend=None),
            row=alt.Row("metric:N", title=None, header=alt.Header(labelAngle=0, labelAlign="left")),
            tooltip=[
                "group:N",
                "metric:N",
                "judge:N",
                "scored:Q",
                alt.Tooltip("mean_score:Q", format=".3f"),
                alt.Tooltip("pass_rate:Q", format=".1%"),
            ],
        )
        .properties(width=600, height=alt.Step(16))
    )


# --------------------------------------------------------------------------- sections


COST_BY_COLUMNS = [
    "calls",
    "requests",
    "input_tokens",
    "output_tokens",
    "cost_usd",
    "share_of_total",
    "cost_per_call",
    "cost_per_request",
    "p95_tokens",
    "unpriced_calls",
]
TOP_REQUEST_COLUMNS = [
    "trace_id",
    "start_time",
    "cost_usd",
    "calls",
    "input_tokens",
    "output_tokens",
    "models",
    "feature",
    "prompt_version",
]
FINDING_COLUMNS = [
    "start_time",
    "trace_id",
    "kind",
    "subkind",
    "location",
    "score",
    "excerpt",
    "service_name",
    "feature",
]
QUALITY_COLUMNS = [
    "metric",
    "judge",
    "scored",
    "mean_score",
    "pass_rate",
    "hallucination_rate",
    "not_applicable",
    "errors",
]


def _cost_breaks(daily: list[dict], per_group: list[dict], by: str, first_group: list[str]) -> list:
    """The days whose cost per call broke from its baseline: over all calls, and by the first grouping."""
    anomalies = [r for r in daily if r["anomaly"]]
    group_breaks = [r for r in per_group if r["anomaly"]]
    as_cost = {"baseline": lambda r: fmt_value(r["baseline"], "baseline_usd")}
    return [
        Figures(
            "cost_anomalies",
            "Breaks in cost per call (all calls)",
            ["bucket", "calls", "cost_per_call", "baseline", "ratio", "robust_z"],
            anomalies,
            "cost.cost_anomalies(every='1d')",
            note="" if anomalies else "none",
            text=as_cost,
        ),
        Figures(
            f"cost_anomalies_by_{'_'.join(first_group)}",
            f"Breaks in cost per call by {', '.join(first_group)}",
            ["bucket", *first_group, "calls", "cost_per_call", "baseline", "ratio", "robust_z"],
            group_breaks,
            f"cost.cost_anomalies(by={by!r}, every='1d')",
            note="" if group_breaks else "none",
            text=as_cost,
        ),
    ]


class _Builder:
    def __init__(self, con, flt: SpanFilter, by: str | None, content: bool, span_type: str):
        self.con, self.flt, self.by, self.content, self.span_type = con, flt, by, content, span_type
        self.alt = _alt()
        self.charts = 0
        self.timings: dict[str, float] = {}

    def chart(self, spec: dict, source: str, caption: str = "") -> Chart | None:
        if not spec:
            return None
        self.charts += 1
        return Chart(f"chart-{self.charts}", spec, source, caption)

    def _call(self, fn, *args, **kwargs):
        return fn(self.con, *args, **kwargs)

    # ---------------------------------------------------------------- overview
    def overview(self) -> Section:
        rows = summary(self.con, self.flt)
        families = {}
        for r in rows:
            families.setdefault(r["family"], []).append(r)
        cards = []
        for fam in ("performance", "quality", "cost", "safety", "agentic"):
            items = families.get(fam, [])
            missing = next((r["note"] for r in items if r["value"] is None and " yet: run " in r["note"]), "")
            status = {"quality": "not evaluated", "safety": "not scanned"}.get(fam, "no data") if missing else ""
            cards.append(
                {
                    "family": fam,
                    "status": status,
                    "note": missing,
                    "items": [
                        (r["signal"], fmt_value(r["value"], r["key"]), r["note"])
                        for r in items
                        if not (r["value"] is None and " yet: run " in r["note"])
                    ],
                }
            )
        sec = Section("overview", "Overview", "The five signal families. A family with no data yet says so.")
        sec.blocks.append(Block("cards", cards))
        sec.blocks.append(
            Figures(
                "summary",
                "All signals",
                ["family", "signal", "value", "note"],
                rows,
                "summary.summary()",
                text={"value": lambda r: fmt_value(r["value"], r["key"])},
            )
        )
        return sec

    # ---------------------------------------------------------------- latency
    def latency(self, every: str) -> Section:
        by = _by("latency", self.by)[0]
        group = _group_cols(by)
        lat = _rows(self._call(L.latency, self.flt, by, self.span_type))
        series = _rows(self._call(L.latency_series, every, self.flt, by, self.span_type))
        hist = _rows(self._call(L.latency_histogram, self.flt, by, self.span_type))
        sec = Section(
            "latency",
            "Latency",
            f"Exact percentiles of {self.span_type} calls (quantile_cont over every call), every {every}, "
            f"by {', '.join(group) or 'all'}; time to first token where streaming timing exists.",
        )
        if not lat:
            sec.status = "no data"
            return sec
        sec.blocks += [
            self.chart(
                latency_chart(self.alt, _jsonable(series), group),
                f"latency.latency_series(every={every!r}, by={by!r})",
                "P50, P95, P99 and TTFT P50 per bucket (log scale)",
            ),
            self.chart(
                histogram_chart(self.alt, _jsonable(hist), _jsonable(lat), group),
                f"latency.latency_histogram(by={by!r})",
                "How calls spread over latency buckets; P50/P95/P99 marked",
            ),
            Figures(
                "latency",
                f"Latency by {', '.join(group) or 'all'}",
                group
                + [
                    "requests",
                    "p50_ms",
                    "p95_ms",
                    "p99_ms",
                    "max_ms",
                    "ttft_p50_ms",
                    "ttft_p95_ms",
                    "ttft_p99_ms",
                    "tpot_p50_ms",
                    "output_tokens_per_s",
                    "error_rate",
                ],
                lat,
                f"latency.latency(by={by!r})",
            ),
        ]
        return sec

    # ---------------------------------------------------------------- errors
    def errors(self, every: str) -> Section:
        by = _by("errors", self.by)[0]
        group = _group_cols(by)
        groups = _rows(self._call(E.errors, self.flt, by, self.span_type))
        series = _rows(self._call(E.errors_series, every, self.flt, self.span_type))
        messages = _rows(self._call(E.top_messages, self.flt, self.span_type, 10))
        sec = Section(
            "errors",
            "Errors",
            f"Error classes every {every}: rate limits (429), timeouts, server (5xx) and "
            "client (4xx) errors; messages with PII masked.",
        )
        if not groups:
            sec.status = "no data"
            return sec
        if not any(r["errors"] for r in groups):
            sec.status = "no errors"
        sec.blocks += [
            self.chart(
                errors_chart(self.alt, _jsonable(series)),
                f"errors.errors_series(every={every!r})",
                "Errors per bucket by class, and the error rate",
            ),
            Figures(
                "errors",
                f"Errors by {', '.join(group) or 'all'}",
                group + ["requests", "errors", "error_rate", *E.CLASSES, "other_errors"],
                groups,
                f"errors.errors(by={by!r})",
            ),
            Figures(
                "top_messages",
                "Top error messages",
                ["error_type", "message", "count", "first_seen", "last_seen", "models", "example_trace_id"],
                messages,
                "errors.top_messages(limit=10)",
                text={"message": lambda r: _mask(r["message"]) or "—"},
            ),
        ]
        return sec

    # ---------------------------------------------------------------- cost
    def cost(self) -> Section:
        bys = _by("cost", self.by)
        sec = Section(
            "cost",
            "Cost",
            "Dollars per day and per call against the median of the previous 7 days "
            "(a break: ≥ 1.3× and robust z ≥ 3, marked ▲), by " + " and by ".join(bys) + ".",
        )
        daily = _rows(self._call(C.cost_anomalies, self.flt, None, "1d"))
        if not daily:
            sec.status = "no data"
            return sec
        first_group = _group_cols(bys[0])
        per_group = _rows(self._call(C.cost_anomalies, self.flt, bys[0], "1d"))
        sec.blocks.append(
            self.chart(
                cost_chart(self.alt, _jsonable(daily)),
                "cost.cost_anomalies(every='1d')",
                "Cost per day; cost per call against its baseline (dashed), breaks ▲",
            )
        )
        sec.blocks.append(
            self.chart(
                cost_by_group_chart(self.alt, _jsonable(per_group), first_group),
                f"cost.cost_anomalies(by={bys[0]!r}, every='1d')",
                f"Cost per call by {', '.join(first_group)}, breaks ▲",
            )
        )
        tables = self._cost_by(sec, bys)  # its charts are added now, its tables after them all
        sec.blocks += tables
        sec.blocks += _cost_breaks(daily, per_group, bys[0], first_group)
        top = _rows(self._call(C.top_requests, self.flt, 10))
        sec.blocks.append(
            Figures(
                "top_requests", "The 10 most expensive requests", TOP_REQUEST_COLUMNS, top, "cost.top_requests(n=10)"
            )
        )
        return sec

    def _cost_by(self, sec: Section, bys: list) -> list:
        """A share chart per grouping (added to ``sec`` now) and its table (returned: the tables follow the charts)."""
        tables = []
        for by in bys:
            group = _group_cols(by)
            rows = _rows(self._call(C.cost, self.flt, by))
            sec.blocks.append(
                self.chart(
                    share_bars(self.alt, _jsonable(rows), group, "cost_usd", f"Cost by {', '.join(group)}", "$,.4f"),
                    f"cost.cost(by={by!r})",
                )
            )
            tables.append(
                Figures(
                    f"cost_by_{'_'.join(group)}",
                    f"Cost by {', '.join(group)}",
                    group + COST_BY_COLUMNS,
                    rows,
                    f"cost.cost(by={by!r})",
                )
            )
        return tables

    # ---------------------------------------------------------------- drift
    def drift(self) -> Section:
        by = _by("drift", self.by)[0]
        group = [a if a not in D._OUT_COLS else f"by_{a}" for a in _group_cols(by)]
        sec = Section("drift", "Drift", "")
        windows = self._call(D.latest_windows, self.span_type, _window_where(self.flt))
        if windows is None:
            sec.status = "no data"
            return sec
        base, cur = windows
        table, bins = self._call(D.drift_bins, base, cur, by, self.span_type)
        rows, bins = _rows(table), _rows(bins)
        sec.intro = (
            f"The last 7 days of data ({_day(base.until)}–{_day(cur.until - timedelta(days=1))}) against the 7 "
            f"before ({_day(base.since)}–{_day(base.until - timedelta(days=1))}): Jensen-Shannon distance and "
            "PSI per feature, on bins from the baseline deciles."
        )
        if not self.content:  # the vocabulary of the prompts is content
            bins = [b for b in bins if b["feature"] != "prompt_terms"]
        moved = sorted(
            (r for r in rows if r["jsd"] is not None and (self.content or r["feature"] != "prompt_terms")),
            key=lambda r: -r["jsd"],
        )[:MAX_PANELS]
        sec.blocks.append(
            self.chart(
                drift_chart(self.alt, _jsonable(bins), moved, group),
                f"drift.drift_bins(by={by!r})",
                "Baseline and current side by side, the features that moved most",
            )
        )
        hidden = (
            {}
            if self.content
            else {
                c: (
                    lambda r, c=c: "(terms hidden: --content)" if r["feature"] == "prompt_terms" else fmt_value(r[c], c)
                )
                for c in ("baseline_summary", "current_summary")
            }
        )
        sec.blocks.append(
            Figures(
                "drift",
                "Drift per feature",
                group
                + [
                    "feature",
                    "kind",
                    "baseline_n",
                    "current_n",
                    "jsd",
                    "psi",
                    "baseline_summary",
                    "current_summary",
                    "verdict",
                ],
                rows,
                f"drift.drift(latest_windows(), by={by!r})",
                text=hidden,
            )
        )
        self.drift_windows = (base, cur)
        return sec

    # ---------------------------------------------------------------- agents
    def agents(self) -> Section:
        sec = Section(
            "agents",
            "Agents",
            "Runs, loops (exact repeats, A→B cycles, repeats within a window) and runaways "
            "(> 25 steps or > 300 s), each with its execution graph; repeated steps folded ×N.",
        )
        runs = _rows(self._call(A.agents, self.flt))
        loops = _rows(self._call(A.loops, self.flt))
        runaway = _rows(self._call(A.runaways, self.flt))
        if not runs and not loops and not runaway:
            sec.status = "no agent runs"
            return sec
        names_only = {} if self.content else {"pattern": lambda r: _pattern_names(r["pattern"], r.get("period"))}
        sec.blocks += [
            Figures(
                "agents",
                "Agents",
                [
                    "agent_name",
                    "runs",
                    "completion_rate",
                    "avg_steps",
                    "max_steps",
                    "tool_calls",
                    "tool_error_rate",
                    "p95_ms",
                ],
                runs,
                "agents.agents()",
            ),
            Figures(
                "loops",
                "Loops",
                ["trace_id", "agent", "kind", "repeats", "pattern", "started", "wasted_tokens", "wasted_cost_usd"],
                loops,
                "agents.loops()",
                note="" if loops else "none",
                text=names_only,
            ),
            Figures(
                "runaways",
                "Runaways",
                ["trace_id", "steps", "tool_calls", "duration_s", "tokens", "cost_usd", "started"],
                runaway,
                "agents.runaways()",
                note="" if runaway else "none",
            ),
        ]
        seen = []
        for r in loops + runaway:
            if r["trace_id"] not in seen:
                seen.append(r["trace_id"])
        trees = T.trace_trees(self.con, seen[: WORST * 2])
        for trace_id in seen[: WORST * 2]:
            tree = trees.get(trace_id, [])
            why = [f"{r['kind']} ×{r['repeats']}" for r in loops if r["trace_id"] == trace_id]
            why += [f"runaway: {r['steps']} steps, {r['duration_s']} s" for r in runaway if r["trace_id"] == trace_id]
            sec.blocks.append(
                Block("graph", {"trace_id": trace_id, "why": ", ".join(why), "tree": _graph_tree(trace_graph(tree))})
            )
        self.looping = seen
        return sec

    # ---------------------------------------------------------------- safety and quality
    def safety_quality(self) -> Section:
        sec = Section(
            "safety",
            "Safety and quality",
            "Findings of `llmscope scan` (masked excerpts only) and the scores of `llmscope eval`, by group.",
        )
        statuses = [self._safety(sec), self._quality(sec)]
        sec.status = ", ".join(s for s in statuses if s)
        return sec

    def _safety(self, sec: Section) -> str | None:
        """The safety findings by group and the latest ones; ``not scanned`` when nothing was."""
        by_s = _by("safety", self.by)[0]
        gs = _group_cols(by_s)
        safety = _rows(self._call(S.safety, self.flt, by_s))
        scanned = sum((r["llm_calls"] or 0) - (r["llm_calls_not_scanned"] or 0) for r in safety)
        if not scanned:
            sec.blocks.append(Block("note", "Safety: not scanned yet — run `llmscope scan`."))
            return "not scanned"
        sec.blocks.append(
            self.chart(
                safety_chart(self.alt, _jsonable(safety), gs),
                f"safety.safety(by={by_s!r})",
                "Spans with a finding, by kind",
            )
        )
        sec.blocks.append(
            Figures(
                "safety",
                f"Safety by {', '.join(gs) or 'all'}",
                gs + ["llm_calls", "llm_calls_not_scanned", *S.KINDS, "injection_rate", "pii_leak_rate"],
                safety,
                f"safety.safety(by={by_s!r})",
            )
        )
        found = _rows(self._call(S.findings, self.flt, None, 20))
        sec.blocks.append(
            Figures(
                "findings",
                "Latest findings (masked excerpts)",
                FINDING_COLUMNS,
                found,
                "safety.findings(limit=20)",
                note="" if found else "none",
            )
        )
        return None

    def _quality(self, sec: Section) -> str | None:
        """The eval scores by group; ``not evaluated`` when there are none."""
        by_q = _by("quality", self.by)[0]
        gq = _group_cols(by_q)
        quality = _rows(self._call(Q.quality, self.flt, by_q))
        if not quality:
            sec.blocks.append(Block("note", "Quality: not evaluated yet — run `llmscope eval`."))
            return "not evaluated"
        sec.blocks.append(
            self.chart(
                quality_chart(self.alt, _jsonable(quality), gq),
                f"quality.quality(by={by_q!r})",
                "Mean score per metric and group",
            )
        )
        sec.blocks.append(
            Figures(
                "quality",
                f"Quality by {', '.join(gq) or 'all'}",
                gq + QUALITY_COLUMNS,
                quality,
                f"quality.quality(by={by_q!r})",
            )
        )
        return None

    # ---------------------------------------------------------------- worst traces
    def worst(self) -> Section:
        sec = Section(
            "traces",
            "Worst traces",
            "The slowest, costliest, failed and looping requests; each opens to its "
            "waterfall, and each span to its details.",
        )
        slow = _rows(self._call(T.list_traces, self.flt, WORST, "slowest"))
        costly = _rows(self._call(C.top_requests, self.flt, WORST))
        failed_flt = SpanFilter(
            self.flt.since,
            self.flt.until,
            f"({self.flt.where}) AND status = 'error'" if self.flt.where else "status = 'error'",
        )
        failed = _rows(self._call(T.list_traces, failed_flt, WORST))
        groups = [
            ("slowest", "Slowest", [r["trace_id"] for r in slow]),
            ("costliest", "Costliest", [r["trace_id"] for r in costly]),
            ("failed", "Failed (latest)", [r["trace_id"] for r in failed]),
            ("looping", "Looping or runaway", getattr(self, "looping", [])[:WORST]),
        ]
        trees = T.trace_trees(self.con, [t for _, _, ids in groups for t in ids])
        for key, title, ids in groups:
            traces = [_waterfall(trees.get(t, []), self.content) for t in ids]
            sec.blocks.append(Block("waterfall", {"key": key, "title": title, "traces": [t for t in traces if t]}))
        return sec


def _window_where(flt: SpanFilter) -> str | None:
    """The report's window as a --where condition, so drift's default windows stay inside it."""
    parts = [f"({flt.where})"] if flt.where else []
    if flt.since:
        parts.append(f"start_time >= TIMESTAMP '{flt.since:%Y-%m-%d %H:%M:%S.%f}'")
    if flt.until:
        parts.append(f"start_time < TIMESTAMP '{flt.until:%Y-%m-%d %H:%M:%S.%f}'")
    return " AND ".join(parts) or None


def _day(dt: datetime) -> str:
    return f"{dt:%Y-%m-%d}"


def _pattern_names(pattern: str | None, period: int | None) -> str:
    """``web_search({"q": …}) → fetch_page(…)`` without the arguments (they are content)."""
    if not pattern:
        return "—"
    parts = pattern.split(" → ")
    if period and len(parts) != period:
        return f"{period} calls (arguments hidden: --content)"
    return " → ".join(p.split("(", 1)[0] + "(…)" for p in parts)


def _graph_tree(graph: dict) -> list[dict]:
    """trace_graph's nodes and child edges -> a nested list, repeated blocks grouped: for the template."""
    nodes = {n["id"]: n for n in graph["nodes"]}
    children: dict[str, list[str]] = {}
    has_parent = set()
    for e in graph["edges"]:
        if e["kind"] == "child":
            children.setdefault(e["from"], []).append(e["to"])
            has_parent.add(e["to"])

    def items(ids: list[str]) -> list[dict]:
        out, i = [], 0
        while i < len(ids):
            n = nodes[ids[i]]
            if n["repeat"] > 1:
                block = ids[i : i + n["block_size"]]
                out.append({"loop": n["repeat"], "items": [node(x) for x in block]})
                i += n["block_size"]
            else:
                out.append(node(ids[i]))
                i += 1
        return out

    def node(node_id: str) -> dict:
        n = nodes[node_id]
        return {**n, "duration": _ms(n["duration_ms"]), "children": items(children.get(node_id, []))}

    return items([n["id"] for n in graph["nodes"] if n["id"] not in has_parent])


def _waterfall(tree: list[dict], content: bool) -> dict | None:
    if not tree:
        return None
    t0 = min(r["start_time"] for r in tree if r["start_time"] is not None)
    t1 = max(r["end_time"] for r in tree if r["end_time"] is not None)
    total = max((t1 - t0).total_seconds() * 1000, 1e-3)
    root = tree[0]
    cost = sum(r["cost_usd"] or 0 for r in tree)
    spans = []
    for r in tree[:MAX_SPANS]:
        left = 100 * r["offset_ms"] / total
        width = max(100 * (r["duration_ms"] or 0) / total, 0.3)
        label = r.get("tool_name") if r["span_type"] == "tool" else r["name"]
        details = [
            (k, _fmt(r.get(k), k))
            for k in (
                "span_type",
                "service_name",
                "status",
                "error_type",
                "provider",
                "request_model",
                "response_model",
                "input_tokens",
                "output_tokens",
                "cache_read_tokens",
                "cost_usd",
                "ttft_ms",
                "finish_reason",
                "agent_name",
                "tool_name",
                "feature",
                "prompt_version",
                "span_id",
            )
            if r.get(k) is not None
        ]
        details.insert(0, ("start", f"{r['start_time']:%Y-%m-%d %H:%M:%S.%f}"[:-3] + " UTC"))
        details.insert(1, ("duration", _ms(r["duration_ms"])))
        if r.get("error_message"):
            details.append(("error_message", _mask(r["error_message"])))
        texts = []
        if content:
            details += [(k, r[k]) for k in ("user_id", "session_id") if r.get(k)]
            texts = [(k, _clip(r.get(k))) for k in ("input_text", "output_text") if r.get(k)]
        spans.append(
            {
                "depth": r["depth"],
                "label": label or r["name"],
                "type": r["span_type"],
                "status": r["status"],
                "left": f"{min(left, 99.7):.2f}",
                "width": f"{min(width, 100 - min(left, 99.7)):.2f}",
                "duration": _ms(r["duration_ms"]),
                "details": details,
                "texts": texts,
            }
        )
    return {
        "trace_id": root["trace_id"],
        "root": root["name"],
        "service": root.get("service_name"),
        "start": f"{t0:%Y-%m-%d %H:%M:%S} UTC",
        "duration": _ms(total),
        "cost": fmt_value(cost or None, "cost_usd"),
        "n": len(tree),
        "shown": len(spans),
        "error": any(r["status"] == "error" for r in tree),
        "spans": spans,
    }


def _clip(text: str | None) -> str | None:
    if text is None or len(text) <= TEXT_LIMIT:
        return text
    return text[:TEXT_LIMIT] + f" … ({len(text) - TEXT_LIMIT:,} more characters)"


# --------------------------------------------------------------------------- page


@lru_cache(maxsize=1)
def vega_bundle() -> str:
    """vega + vega-lite + vega-embed as one script (from vl-convert-python), cached on disk per version:
    bundling takes vl-convert ~1.5 s, reading the cached file a millisecond."""
    try:
        import altair as alt
        import vl_convert as vlc
    except ImportError as e:
        raise HtmlExtraMissing(EXTRA_HINT) from e
    from importlib.metadata import version

    vl = ".".join(alt.SCHEMA_VERSION.lstrip("v").split(".")[:2])
    name = f"vega-bundle-vlc{version('vl-convert-python')}-vl{vl}.js"
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "llmscope" / name
    try:
        return cache.read_text()
    except OSError:
        pass
    js = vlc.javascript_bundle(vl_version=vl).replace("</script", "<\\/script")
    try:
        cache.parent.mkdir(parents=True, exist_ok=True)
        tmp = cache.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(js)
        tmp.replace(cache)
    except OSError:
        pass  # a read-only home: bundle again next time
    return js


def _script_json(data: Any) -> str:
    """JSON safe inside <script type="application/json">: no '<', '>' or '&' left raw."""
    return (
        orjson.dumps(data, default=str).decode().replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    )


def _static(name: str) -> str:
    return resources.files("llmscope.render").joinpath("static", name).read_text()


def _environment():
    try:
        import jinja2
    except ImportError as e:
        raise HtmlExtraMissing(EXTRA_HINT) from e
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("llmscope.render", "templates"),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
    )
    env.filters["script_json"] = _script_json
    return env


def html_report(
    con: duckdb.DuckDBPyConnection,
    flt: SpanFilter | None = None,
    by: str | None = None,
    content: bool = False,
    *,
    title: str = "llmscope report",
    span_type: str = "llm",
    store_name: str | None = None,
    now: datetime | None = None,
) -> str:
    """The whole report as one HTML document (str): overview, latency, errors, cost, drift, agents,
    safety and quality, worst traces. ``by`` replaces every section's default grouping; ``content``
    adds prompts, answers, tool arguments and user ids (as the store holds them)."""
    flt = flt or SpanFilter()
    group_exprs(by)  # a bad --by fails here, before any work
    t = time.perf_counter()
    b = _Builder(con, flt, by, content, span_type)
    window = span_window(con, flt)
    every = _every(window["first_span"], window["last_span"])
    sections = [
        b.overview(),
        b.latency(every),
        b.errors(every),
        b.cost(),
        b.drift(),
        b.agents(),
        b.safety_quality(),
        b.worst(),
    ]
    for s in sections:
        s.blocks = [x for x in s.blocks if x is not None]
    gathered = time.perf_counter() - t
    page = (
        _environment()
        .get_template("report.html.j2")
        .render(
            title=title,
            sections=sections,
            window=window,
            flt=flt,
            by=by,
            content=content,
            store_name=store_name,
            generated=(now or datetime.now(UTC)).strftime("%Y-%m-%d %H:%M UTC"),
            css=_static("report.css"),
            js=_static("report.js"),
            vega=vega_bundle(),
            fmt=fmt_value,
            gathered_s=round(gathered, 2),
        )
    )
    return page
