"""Compare: is the current side better, worse, or not detectably different from the baseline?

A *side* is a set of traces (requests): those with a span matching its filter (a time window, or a
column's value such as ``prompt_version = 'v3'``, with the shared ``where``). Every metric is
measured over all spans of a side's traces, and its uncertainty comes from a bootstrap over those
traces: traces are drawn with replacement (seeded), the metric recomputed, and the difference
``current - baseline`` of each pair of replicates gives a percentile confidence interval. When the
interval excludes zero the change is detectable at that level, and the metric's direction says
whether it is *better* or *worse*; otherwise *no detectable change*.

Resampling whole traces keeps the calls of one request together (they are not independent), so an
interval is never narrower than the data allow. Every metric is a ratio of per-trace sums (cost per
call = Σ cost / Σ priced calls, error rate = Σ errors / Σ calls, …) or a quantile over the calls of
the drawn traces; a replicate is a matrix product (ratios) or a weighted quantile over calls
sorted once (latency), in numpy over blocks of replicates: no Python loop over rows.

Metrics (over LLM calls unless said): latency P50/P95/P99 and time to first token P50/P95 (ms);
cost per call and per request (priced LLM and embedding calls; a request with no priced call is
left out); input and output tokens per call (lower is better: they are what a call costs); error
rate, overall and by class; for each eval metric and judge in ``evals``, the mean score (higher is
better) and, for groundedness, the hallucination rate; for each safety finding kind, findings per
scanned LLM call; the loop rate (traces with a tool loop among traces with tool calls).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field

import duckdb
import numpy as np
import pyarrow as pa

from ..query import SpanFilter
from ..store import query_arrow
from . import agents as agents_mod
from .errors import CLASSES

PRICED_TYPES = "('llm', 'embedding')"
FLOAT = pa.float64()
REPLICATE_CELLS = 4_000_000  # replicates per block x items: bounds the memory of one block (~32 MB)

# One row per trace of a side, numbered 0..n-1: the per-trace sums every ratio metric is built from.
TRACES_SQL = """
WITH side AS (SELECT DISTINCT trace_id FROM spans WHERE {where}),
s AS (SELECT * FROM spans WHERE trace_id IN (SELECT trace_id FROM side))
SELECT (row_number() OVER (ORDER BY trace_id) - 1)::BIGINT AS idx, trace_id,
       count(*) FILTER (WHERE span_type = 'llm') AS llm_calls,
       count(*) FILTER (WHERE span_type = 'llm' AND status = 'error') AS errors,
       {class_counts},
       count(*) FILTER (WHERE span_type = 'llm' AND status = 'error'
                        AND coalesce(error_type, '') NOT IN ({class_list})) AS errors_other,
       count(cost_usd) FILTER (WHERE span_type IN {priced}) AS priced_calls,
       coalesce(sum(cost_usd) FILTER (WHERE span_type IN {priced}), 0) AS cost_usd,
       (count(cost_usd) FILTER (WHERE span_type IN {priced}) > 0)::BIGINT AS priced_request,
       count(input_tokens) FILTER (WHERE span_type = 'llm') AS input_token_calls,
       coalesce(sum(input_tokens) FILTER (WHERE span_type = 'llm'), 0) AS input_tokens,
       count(output_tokens) FILTER (WHERE span_type = 'llm') AS output_token_calls,
       coalesce(sum(output_tokens) FILTER (WHERE span_type = 'llm'), 0) AS output_tokens,
       (count(*) FILTER (WHERE span_type = 'tool') > 0)::BIGINT AS has_tools
FROM s GROUP BY trace_id
ORDER BY idx
"""

# The LLM calls of a side's traces, by the trace's number.
CALLS_SQL = """
WITH side AS (SELECT DISTINCT trace_id FROM spans WHERE {where}),
idx AS (SELECT trace_id, (row_number() OVER (ORDER BY trace_id) - 1)::BIGINT AS idx FROM side)
SELECT idx.idx, s.duration_ms, s.ttft_ms
FROM spans s JOIN idx USING (trace_id)
WHERE s.span_type = 'llm'
"""

# Scores of the side's traces in `evals` (first repeat, no errors; dataset items have no trace here).
EVALS_SQL = """
WITH side AS (SELECT DISTINCT trace_id FROM spans WHERE {where}),
idx AS (SELECT trace_id, (row_number() OVER (ORDER BY trace_id) - 1)::BIGINT AS idx FROM side)
SELECT idx.idx, e.metric, e.judge,
       count(e.score) AS scored, coalesce(sum(e.score), 0) AS score_sum,
       count(*) FILTER (WHERE e.label = 'hallucination') AS hallucinations
FROM evals e JOIN idx USING (trace_id)
WHERE coalesce(e.repeat_index, 0) = 0 AND e.error IS NULL
GROUP BY ALL
"""

# Spans with a finding of each kind, and the LLM calls a scan has looked at, per trace.
FINDINGS_SQL = """
WITH side AS (SELECT DISTINCT trace_id FROM spans WHERE {where}),
idx AS (SELECT trace_id, (row_number() OVER (ORDER BY trace_id) - 1)::BIGINT AS idx FROM side)
SELECT idx.idx, f.kind, count(DISTINCT f.span_id) AS spans
FROM findings f JOIN idx USING (trace_id)
GROUP BY ALL
"""

SCANNED_SQL = """
WITH side AS (SELECT DISTINCT trace_id FROM spans WHERE {where}),
idx AS (SELECT trace_id, (row_number() OVER (ORDER BY trace_id) - 1)::BIGINT AS idx FROM side),
scanned AS (SELECT DISTINCT trace_id, span_id FROM scanned_spans)
SELECT idx.idx, count(*) AS scanned_llm_calls
FROM scanned JOIN spans s USING (trace_id, span_id) JOIN idx USING (trace_id)
WHERE s.span_type = 'llm'
GROUP BY 1
"""


@dataclass(frozen=True)
class Side:
    """One side of a comparison: a label for people and the filter choosing its traces."""

    label: str
    flt: SpanFilter


@dataclass
class Ratio:
    """Σ num / Σ den over the traces drawn (per-trace vectors of one side)."""

    num: np.ndarray
    den: np.ndarray

    def estimate(self, weights: np.ndarray) -> np.ndarray:
        return _divide(weights @ self.num, weights @ self.den)

    @property
    def n(self) -> int:
        return int(self.den.sum())


def _divide(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1), np.nan)


@dataclass
class Calls:
    """The values of one side's calls (latency, TTFT), sorted once, with the trace of each."""

    values: np.ndarray
    trace_idx: np.ndarray

    @classmethod
    def of(cls, values: np.ndarray, trace_idx: np.ndarray) -> Calls:
        keep = ~np.isnan(values)
        values, trace_idx = values[keep], trace_idx[keep]
        order = np.argsort(values, kind="stable")
        return cls(values[order], trace_idx[order])

    def cumulative(self, weights: np.ndarray) -> np.ndarray:
        """Per replicate, how many drawn calls have a value up to each sorted value."""
        return np.cumsum(weights[:, self.trace_idx], axis=1)


@dataclass
class Quantile:
    """The q-quantile (linear interpolation, as DuckDB's quantile_cont) of the values of the calls
    of the traces drawn, each call counted as often as its trace was drawn."""

    calls: Calls
    q: float

    def estimate(self, weights: np.ndarray, cum: np.ndarray | None = None) -> np.ndarray:
        values = self.calls.values
        if not len(values):
            return np.full(weights.shape[0], np.nan)
        cum = self.calls.cumulative(weights) if cum is None else cum
        total = cum[:, -1]
        h = (total - 1) * self.q
        lo = np.floor(h)
        hi = np.minimum(lo + 1, total - 1)
        # the value at expanded position p is the first sorted value whose cumulative count exceeds p
        last = len(values) - 1
        k_lo = np.minimum(np.array([np.searchsorted(row, p, side="right") for row, p in zip(cum, lo)]), last)
        k_hi = np.minimum(np.array([np.searchsorted(row, p, side="right") for row, p in zip(cum, hi)]), last)
        v = values[k_lo] + (h - lo) * (values[k_hi] - values[k_lo])
        return np.where(total > 0, v, np.nan)

    @property
    def n(self) -> int:
        return len(self.calls.values)


@dataclass
class MetricDef:
    name: str
    unit: str  # ms | usd | tokens | rate | score
    better: str  # lower | higher
    group: str  # latency | cost | tokens | errors | quality | safety | agents


@dataclass
class SideData:
    """What one side's traces hold, as per-trace vectors and sorted call values."""

    side: Side
    traces: int
    stats: dict[str, Ratio | Quantile] = field(default_factory=dict)


def _side_sql(template: str, side: Side) -> tuple[str, list]:
    where, params = side.flt.sql()
    return template.format(
        where=where,
        priced=PRICED_TYPES,
        class_counts=",\n       ".join(
            f"count(*) FILTER (WHERE span_type = 'llm' AND status = 'error' AND error_type = '{c}') AS errors_{c}"
            for c in CLASSES
        ),
        class_list=", ".join(f"'{c}'" for c in CLASSES),
    ), params


def _col(tbl: pa.Table, name: str, type_: pa.DataType = FLOAT) -> np.ndarray:
    """A column as numpy (NULL -> NaN), without the pandas import ChunkedArray.to_numpy costs."""
    return tbl.column(name).cast(type_).combine_chunks().to_numpy(zero_copy_only=False)


def metric_defs(evals_keys: list[tuple[str, str]], finding_kinds: list[str]) -> list[MetricDef]:
    """The metrics in the order they are shown, for the eval metrics and finding kinds present."""
    out = [
        MetricDef("latency_p50_ms", "ms", "lower", "latency"),
        MetricDef("latency_p95_ms", "ms", "lower", "latency"),
        MetricDef("latency_p99_ms", "ms", "lower", "latency"),
        MetricDef("ttft_p50_ms", "ms", "lower", "latency"),
        MetricDef("ttft_p95_ms", "ms", "lower", "latency"),
        MetricDef("cost_per_call_usd", "usd", "lower", "cost"),
        MetricDef("cost_per_request_usd", "usd", "lower", "cost"),
        MetricDef("input_tokens_per_call", "tokens", "lower", "tokens"),
        MetricDef("output_tokens_per_call", "tokens", "lower", "tokens"),
        MetricDef("error_rate", "rate", "lower", "errors"),
        *(MetricDef(f"error_rate_{c}", "rate", "lower", "errors") for c in (*CLASSES, "other")),
    ]
    for metric, judge in evals_keys:
        out.append(MetricDef(f"score:{metric}[{judge}]", "score", "higher", "quality"))
        if metric.startswith("groundedness"):
            out.append(MetricDef(f"hallucination_rate:{metric}[{judge}]", "rate", "lower", "quality"))
    out += [MetricDef(f"finding_rate:{k}", "rate", "lower", "safety") for k in finding_kinds]
    out.append(MetricDef("loop_rate", "rate", "lower", "agents"))
    return out


def load_side(con: duckdb.DuckDBPyConnection, side: Side, min_repeats: int = 3, window: int = 10) -> SideData:
    """Read one side's traces into per-trace vectors (four queries in DuckDB; numpy from here on)."""
    sql, params = _side_sql(TRACES_SQL, side)
    t = query_arrow(con, sql, params)
    n = t.num_rows
    data = SideData(side, n)
    if not n:
        return data
    st = data.stats
    llm_calls = _col(t, "llm_calls")
    calls = query_arrow(con, *_side_sql(CALLS_SQL, side))
    idx = calls.column("idx").cast(pa.int64()).combine_chunks().to_numpy()
    duration = _col(calls, "duration_ms")
    ttft = _col(calls, "ttft_ms")
    durations, ttfts = Calls.of(duration, idx), Calls.of(ttft, idx)
    for q in (50, 95, 99):
        st[f"latency_p{q}_ms"] = Quantile(durations, q / 100)
    for q in (50, 95):
        st[f"ttft_p{q}_ms"] = Quantile(ttfts, q / 100)
    st["cost_per_call_usd"] = Ratio(_col(t, "cost_usd"), _col(t, "priced_calls"))
    st["cost_per_request_usd"] = Ratio(_col(t, "cost_usd"), _col(t, "priced_request"))
    st["input_tokens_per_call"] = Ratio(_col(t, "input_tokens"), _col(t, "input_token_calls"))
    st["output_tokens_per_call"] = Ratio(_col(t, "output_tokens"), _col(t, "output_token_calls"))
    st["error_rate"] = Ratio(_col(t, "errors"), llm_calls)
    for c in (*CLASSES, "other"):
        st[f"error_rate_{c}"] = Ratio(_col(t, f"errors_{c}"), llm_calls)

    ev = query_arrow(con, *_side_sql(EVALS_SQL, side))
    if ev.num_rows:
        e_idx = ev.column("idx").cast(pa.int64()).combine_chunks().to_numpy()
        keys = np.array([f"{m}\0{j}" for m, j in zip(ev.column("metric").to_pylist(), ev.column("judge").to_pylist())])
        scored, total, halluc = _col(ev, "scored"), _col(ev, "score_sum"), _col(ev, "hallucinations")
        for key in sorted(set(keys.tolist())):
            metric, judge = key.split("\0")
            sel = keys == key
            per_scored = np.bincount(e_idx[sel], weights=scored[sel], minlength=n)
            st[f"score:{metric}[{judge}]"] = Ratio(np.bincount(e_idx[sel], weights=total[sel], minlength=n), per_scored)
            if metric.startswith("groundedness"):
                st[f"hallucination_rate:{metric}[{judge}]"] = Ratio(
                    np.bincount(e_idx[sel], weights=halluc[sel], minlength=n), per_scored
                )

    sc = query_arrow(con, *_side_sql(SCANNED_SQL, side))
    if sc.num_rows:
        scanned = np.bincount(
            sc.column("idx").cast(pa.int64()).combine_chunks().to_numpy(),
            weights=_col(sc, "scanned_llm_calls"),
            minlength=n,
        )
        fi = query_arrow(con, *_side_sql(FINDINGS_SQL, side))
        f_idx = fi.column("idx").cast(pa.int64()).combine_chunks().to_numpy()
        kinds = np.array(fi.column("kind").to_pylist(), dtype=object)
        spans = _col(fi, "spans")
        for kind in sorted(set(kinds.tolist())):
            sel = kinds == kind
            st[f"finding_rate:{kind}"] = Ratio(np.bincount(f_idx[sel], weights=spans[sel], minlength=n), scanned)

    looping = set(agents_mod.loops(con, side.flt, min_repeats, window).column("trace_id").to_pylist())
    trace_ids = t.column("trace_id").to_pylist()
    in_loop = np.fromiter((tid in looping for tid in trace_ids), dtype=float, count=n)
    st["loop_rate"] = Ratio(in_loop, _col(t, "has_tools"))
    return data


def _weight_blocks(n: int, items: int, resamples: int, rng: np.random.Generator) -> Iterator[np.ndarray]:
    """Bootstrap draws of n traces with replacement, as counts per trace: blocks of (replicates, n)."""
    per_block = max(1, REPLICATE_CELLS // max(n, items, 1))
    done = 0
    while done < resamples:
        b = min(per_block, resamples - done)
        draws = rng.integers(0, n, size=(b, n)) + (np.arange(b) * n)[:, None]
        yield np.bincount(draws.ravel(), minlength=b * n).reshape(b, n).astype(float)
        done += b


def replicates(data: SideData, names: list[str], resamples: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Each metric recomputed on ``resamples`` bootstrap draws of the side's traces (NaN: no data).
    The ratios of a block are two matrix products; the quantiles over one set of calls share one
    cumulative count."""
    out = {name: np.full(resamples, np.nan) for name in names}
    if not data.traces:
        return out
    ratios = [m for m in names if isinstance(data.stats.get(m), Ratio)]
    quantiles = [m for m in names if isinstance(data.stats.get(m), Quantile)]
    num = np.column_stack([data.stats[m].num for m in ratios]) if ratios else None  # type: ignore[union-attr]
    den = np.column_stack([data.stats[m].den for m in ratios]) if ratios else None  # type: ignore[union-attr]
    items = max((data.stats[m].n for m in quantiles), default=0)
    start = 0
    for w in _weight_blocks(data.traces, items, resamples, rng):
        end = start + len(w)
        if ratios:
            values = _divide(w @ num, w @ den)
            for j, m in enumerate(ratios):
                out[m][start:end] = values[:, j]
        cums: dict[int, np.ndarray] = {}
        for m in quantiles:
            stat = data.stats[m]
            assert isinstance(stat, Quantile)
            if len(stat.calls.values) and id(stat.calls) not in cums:
                cums[id(stat.calls)] = stat.calls.cumulative(w)
            out[m][start:end] = stat.estimate(w, cums.get(id(stat.calls)))
        start = end
    return out


def point(data: SideData, name: str) -> float | None:
    stat = data.stats.get(name)
    if stat is None or not data.traces:
        return None
    v = float(stat.estimate(np.ones((1, data.traces)))[0])
    return None if np.isnan(v) else v


def _zero_side_unsure(d: MetricDef, a: SideData, b: SideData, rep_a: dict, rep_b: dict, alpha: float) -> bool:
    """A side without a single event (no error of a class in 42 calls) resamples to a rate of 0 every
    time, so the bootstrap alone would call any non-zero rate on the other side a change. Its rate
    is only known to lie below -ln(alpha)/n (the rule of three at 95%): the change is detectable
    when the other side's lower bound clears that."""
    if d.unit != "rate":
        return False
    for zero, other in ((a, rep_b), (b, rep_a)):
        stat = zero.stats.get(d.name)
        if isinstance(stat, Ratio) and stat.num.sum() == 0 and stat.den.sum() > 0:
            bound = -math.log(alpha) / stat.den.sum()
            other_low = np.nanquantile(other[d.name], alpha)
            if other_low <= bound:
                return True
    return False


def compare(
    con: duckdb.DuckDBPyConnection,
    baseline: Side,
    current: Side,
    *,
    level: float = 0.95,
    resamples: int = 1000,
    seed: int = 0,
) -> tuple[pa.Table, dict]:
    """Each metric on both sides, the difference with its bootstrap interval, and a verdict.

    Returns the table (one row per metric) and figures about the comparison (traces per side,
    counts of verdicts)."""
    a, b = load_side(con, baseline), load_side(con, current)
    eval_keys = sorted(
        {tuple(k.split(":", 1)[1][:-1].split("[", 1)) for d in (a, b) for k in d.stats if k.startswith("score:")}
    )
    kinds = sorted({k.split(":", 1)[1] for d in (a, b) for k in d.stats if k.startswith("finding_rate:")})
    defs = metric_defs(eval_keys, kinds)  # type: ignore[arg-type]
    names = [d.name for d in defs]
    rng_a, rng_b = (np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(2))
    rep_a, rep_b = replicates(a, names, resamples, rng_a), replicates(b, names, resamples, rng_b)
    alpha = (1 - level) / 2
    rows: list[dict] = []
    for d in defs:
        va, vb = point(a, d.name), point(b, d.name)
        diff = rep_b[d.name] - rep_a[d.name]
        ok = diff[~np.isnan(diff)]
        if va is None or vb is None or len(ok) < max(10, resamples // 2):
            lo = hi = None
            verdict = "no data" if va is None or vb is None else "too few data"
        else:
            lo, hi = (float(x) for x in np.quantile(ok, [alpha, 1 - alpha]))
            if (lo > 0 or hi < 0) and not _zero_side_unsure(d, a, b, rep_a, rep_b, alpha):
                up = lo > 0
                verdict = "worse" if up == (d.better == "lower") else "better"
            else:
                verdict = "no detectable change"
        na = a.stats[d.name].n if d.name in a.stats else 0
        nb = b.stats[d.name].n if d.name in b.stats else 0
        rows.append(
            {
                "metric": d.name,
                "group": d.group,
                "unit": d.unit,
                "better": d.better,
                "baseline": va,
                "current": vb,
                "change": None if va is None or vb is None else vb - va,
                "change_low": lo,
                "change_high": hi,
                "relative_change": (vb - va) / abs(va) if va and vb is not None else None,
                "verdict": verdict,
                "baseline_n": na,
                "current_n": nb,
            }
        )
    # a metric with no data on either side says nothing: leave it out, but keep the headline ones
    rows = [r for r in rows if r["baseline_n"] or r["current_n"] or r["group"] in ("latency", "errors")]
    rows = [
        r for r in rows if not (str(r["metric"]).startswith("error_rate_") and not r["baseline"] and not r["current"])
    ]
    table = pa.Table.from_pylist(rows, schema=COMPARE_SCHEMA)
    verdicts = [r["verdict"] for r in rows]
    meta = {
        "baseline": baseline.label,
        "current": current.label,
        "baseline_traces": a.traces,
        "current_traces": b.traces,
        "level": level,
        "resamples": resamples,
        "seed": seed,
        "worse": verdicts.count("worse"),
        "better": verdicts.count("better"),
        "unchanged": verdicts.count("no detectable change"),
    }
    return table, meta


COMPARE_SCHEMA = pa.schema(
    [
        ("metric", pa.string()),
        ("group", pa.string()),
        ("unit", pa.string()),
        ("better", pa.string()),
        ("baseline", pa.float64()),
        ("current", pa.float64()),
        ("change", pa.float64()),
        ("change_low", pa.float64()),
        ("change_high", pa.float64()),
        ("relative_change", pa.float64()),
        ("verdict", pa.string()),
        ("baseline_n", pa.int64()),
        ("current_n", pa.int64()),
    ]
)
