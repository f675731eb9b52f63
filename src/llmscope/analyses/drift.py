"""Drift: did the traffic of a *current* window move away from a *baseline* window?

For each group (``--by``) and each feature, both windows are binned the same way and compared
with two standard distances between the binned distributions:

    >>> drift(con, SpanFilter.from_options("2025-11-01", "2025-11-08"),
    ...       SpanFilter.from_options("2025-11-08", "2025-11-15"), by="service_name")
    service_name  feature       kind     baseline_n  current_n  jsd    psi    ...  verdict
    support-bot   input_tokens  numeric  536         586        0.730  3.660  ...  significant
    support-bot   prompt_terms  text     541         589        0.282  0.507  ...  significant

Features
    numeric      ``input_tokens``, ``output_tokens``, ``duration_ms`` (NULL values are left out)
    categorical  ``request_model``, ``feature``, ``finish_reason`` (NULL is its own category
                 ``(none)``), and ``tool_name`` over the *tool* spans of the same windows
    text         ``prompt_terms``: a bag-of-words distribution of ``input_text`` (lower-cased
                 alphanumeric tokens of 3+ characters, without a small English stopword list and
                 without pure numbers), over the top ``TOP_TERMS`` terms of baseline + current.
                 Word counts, not embeddings: it sees vocabulary shifts (new topics, a new system
                 prompt), not paraphrases with the same meaning. Windows with more than
                 ``TEXT_SAMPLE`` prompts are counted on a deterministic sample (by a hash of the
                 prompt text) of about that size.

Binning
    numeric      edges are the baseline deciles (``quantile_cont`` at 0.1 .. 0.9, de-duplicated),
                 with -inf/+inf ends, so the baseline bins hold ~equal mass; bins are
                 (-inf, e1], (e1, e2], ..., (ek, +inf) and both windows use the same edges.
    categorical  every category seen in either window.
    text         the top terms; a term's probability is its share of the top-term occurrences.

Smoothing
    ``EPSILON`` (1e-4) is added to every bin's probability on both sides, then each side is
    renormalised: p_i = (n_i / n + eps) / (1 + k * eps) for k bins. PSI and JSD are therefore
    finite when a bin is empty on one side. Both metrics use the smoothed distributions.

Metrics (b = baseline, c = current, m = (b + c) / 2)
    PSI = sum_i (c_i - b_i) * ln(c_i / b_i)
    JSD = sqrt(1/2 KL(b || m) + 1/2 KL(c || m)), log base 2: the Jensen-Shannon *distance*, in [0, 1]

Verdict (the worse of the two metrics)
    PSI  < 0.1 stable, 0.1 .. 0.25 moderate, >= 0.25 significant (the usual credit-scoring rule)
    JSD  < 0.1 stable, 0.1 .. 0.2  moderate, >= 0.2  significant
    'insufficient data' when either window has fewer than ``MIN_SAMPLES`` (30) values; psi and jsd
    are still given then, unless a window is empty (NULL).
    Sampling noise alone gives PSI ~ (k - 1) * (1/n_b + 1/n_c) for k bins (about 0.075 for 10 bins and
    180 vs 360 values) and JSD ~ sqrt(PSI / (8 ln 2)), so with a few hundred values per window
    'moderate' can be noise; 'significant' rarely is. (JSD 0.1 corresponds to PSI ~0.055, so JSD
    usually decides 'moderate'; JSD 0.2 to PSI ~0.22.)

``baseline_n``/``current_n`` count values (numeric), spans (categorical) or spans with prompt
text (text). Summaries: p50 and p90 for numeric, the two largest categories with their shares for
categorical, the three terms most over-represented in that window relative to the other for text.

Counting happens in DuckDB (one row per group, window and bin comes back); Python only turns
those few counts into PSI and JSD. A span inside both windows counts in both.

Output columns: the ``--by`` columns, then ``feature, kind, baseline_n, current_n, jsd, psi,
baseline_summary, current_summary, verdict``. A ``--by`` column whose name collides with one of
these (``--by feature``) is renamed with a ``by_`` prefix (``by_feature``).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

import duckdb
import pyarrow as pa

from ..query import GroupingLike, QueryError, SpanFilter, Where, group_exprs

PSI_MODERATE = 0.1
PSI_SIGNIFICANT = 0.25
JSD_MODERATE = 0.1
JSD_SIGNIFICANT = 0.2
MIN_SAMPLES = 30
EPSILON = 1e-4
TOP_TERMS = 200
TEXT_SAMPLE = 50_000  # prompts per window above which prompt_terms counts a hash sample of them
DECILES = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9]

NUMERIC_FEATURES = ["input_tokens", "output_tokens", "duration_ms"]
CATEGORICAL_FEATURES = ["request_model", "feature", "finish_reason", "tool_name"]
TEXT_FEATURES = ["prompt_terms"]
ALL_FEATURES = NUMERIC_FEATURES + CATEGORICAL_FEATURES + TEXT_FEATURES
# Categorical features measured over other spans than the report's span type.
FEATURE_SPAN_TYPE = {"tool_name": "tool"}
NONE_CATEGORY = "(none)"

STABLE, MODERATE, SIGNIFICANT, INSUFFICIENT = "stable", "moderate", "significant", "insufficient data"

STOPWORDS = sorted(
    set(
        """
the and for are but not you your yours all any can had her was one our out has have him his how its
into may more most much must now off only other over own same she should some such than that their
theirs them then there these they this those too very via was were what when where which while who
whom why will with would about above after again against also because been before being below
between both could did does doing down during each few from further here hers herself himself
itself just let myself nor once ourselves themselves under until upon yourself yourselves ago
please thanks thank hello dear get got yes okay are isn aren wasn weren don doesn didn won wouldn
shouldn couldn cannot
""".split()
    )
)

FORMULAS_HELP = f"""\
Bins: numeric = baseline deciles (quantile_cont 0.1..0.9, deduplicated) with -inf/+inf ends;
categorical = categories of either window (NULL -> '(none)'); prompt_terms = bag-of-words over
the top {TOP_TERMS} content words of input_text (not embeddings).
Smoothing: p_i = (n_i/n + {EPSILON:g}) / (1 + k*{EPSILON:g}) on both sides, so empty bins stay finite.
PSI = sum (c_i - b_i) * ln(c_i / b_i);  JSD = sqrt(KL(b||m)/2 + KL(c||m)/2), m = (b+c)/2, log2 (0..1).
Verdict = worse of: PSI <{PSI_MODERATE} stable, <{PSI_SIGNIFICANT} moderate, else significant;
JSD <{JSD_MODERATE} stable, <{JSD_SIGNIFICANT} moderate, else significant;
'insufficient data' when a window has < {MIN_SAMPLES} values."""

# --------------------------------------------------------------------------- SQL
# {pop}: the spans of one window and span type, as rows (g0.., win, <columns>), one SELECT per window.
POP_SQL = """SELECT {groups}? AS win, {cols} FROM spans WHERE span_type = ? AND {where}"""

NUMERIC_BINS_SQL = """
WITH w AS ({pop}),
obs AS ({obs}),
edges AS (
    SELECT {gk}metric, unnest(e) AS edge FROM (
        SELECT {gk}metric, list_sort(list_distinct(quantile_cont(v, {deciles}))) AS e
        FROM obs WHERE win = 'baseline' AND v IS NOT NULL {group_by_gk_metric})
),
bins AS (  -- k edges -> k + 1 bins: (-inf, e1], (e1, e2], ..., (ek, +inf)
    SELECT {gk}metric, row_number() OVER p - 1 AS bin, lag(edge, 1, '-infinity'::DOUBLE) OVER p AS lo, edge AS hi
    FROM edges WINDOW p AS (PARTITION BY {gk}metric ORDER BY edge)
    UNION ALL
    SELECT {gk}metric, count(*) AS bin, max(edge) AS lo, 'infinity'::DOUBLE AS hi FROM edges {group_by_gk_metric}
)
SELECT {gk_o}o.metric, o.win, b.bin, b.lo, b.hi, count(*) AS n, any_value(nb.k) AS k
FROM obs o
JOIN bins b ON o.metric = b.metric {join_gk} AND o.v > b.lo AND o.v <= b.hi
JOIN (SELECT {gk}metric, count(*) AS k FROM bins {group_by_gk_metric}) nb ON o.metric = nb.metric {join_gk_nb}
GROUP BY ALL
"""

NUMERIC_STATS_SQL = """
WITH w AS ({pop}),
obs AS ({obs})
SELECT {gk}metric, win, count(v) AS n, quantile_cont(v, 0.5) AS p50, quantile_cont(v, 0.9) AS p90
FROM obs GROUP BY ALL
"""

CATEGORICAL_SQL = """
WITH obs AS ({obs})
SELECT {gk}metric, win, cat, count(*) AS n FROM obs GROUP BY ALL
"""

TEXT_SQL = """
WITH w AS ({pop}),
docs AS (
    SELECT {gk}win, input_text FROM w
    WHERE input_text IS NOT NULL AND input_text <> '' AND hash(input_text) % 1000000 < ?
),
tokens AS (SELECT {gk}win, unnest(regexp_extract_all(lower(input_text), '[a-z0-9]{{3,}}')) AS term FROM docs),
stop AS (SELECT unnest(?::VARCHAR[]) AS term),
counts AS (
    SELECT {gk}win, term, count(*) AS n
    FROM tokens ANTI JOIN stop USING (term)
    WHERE NOT regexp_full_match(term, '[0-9]+')
    GROUP BY ALL
),
ranked AS (
    SELECT *, dense_rank() OVER ({gk_part}ORDER BY total DESC, term) AS r
    FROM (SELECT *, sum(n) OVER (PARTITION BY {gk}term) AS total FROM counts)
)
SELECT {gk}win, term, n FROM ranked WHERE r <= ?
"""

TEXT_N_SQL = """
WITH w AS ({pop})
SELECT {gk}win, count(*) FILTER (WHERE input_text IS NOT NULL AND input_text <> '') AS n FROM w GROUP BY ALL
"""

_OUT_COLS = [
    "feature",
    "kind",
    "baseline_n",
    "current_n",
    "jsd",
    "psi",
    "baseline_summary",
    "current_summary",
    "verdict",
]


# --------------------------------------------------------------------------- math


def smooth(counts: list[float], eps: float = EPSILON) -> list[float]:
    """Counts -> probabilities with ``eps`` added to every bin, renormalised."""
    n, k = sum(counts), len(counts)
    return [(c / n + eps) / (1 + k * eps) for c in counts]


def psi(b: list[float], c: list[float]) -> float:
    """Population Stability Index of two (smoothed) distributions."""
    return sum((ci - bi) * math.log(ci / bi) for bi, ci in zip(b, c))


def js_distance(b: list[float], c: list[float]) -> float:
    """Jensen-Shannon distance (sqrt of the divergence, log base 2), in [0, 1]."""

    def kl(p, q):
        return sum(pi * math.log2(pi / qi) for pi, qi in zip(p, q) if pi > 0)

    m = [(bi + ci) / 2 for bi, ci in zip(b, c)]
    return math.sqrt(max(0.0, 0.5 * kl(b, m) + 0.5 * kl(c, m)))


def verdict(psi_value: float | None, jsd_value: float | None, baseline_n: int, current_n: int) -> str:
    if baseline_n < MIN_SAMPLES or current_n < MIN_SAMPLES or psi_value is None or jsd_value is None:
        return INSUFFICIENT
    if psi_value >= PSI_SIGNIFICANT or jsd_value >= JSD_SIGNIFICANT:
        return SIGNIFICANT
    if psi_value >= PSI_MODERATE or jsd_value >= JSD_MODERATE:
        return MODERATE
    return STABLE


def _compare(bins: Iterable, b_counts: dict, c_counts: dict) -> tuple[float | None, float | None]:
    bins = list(bins)
    b = [b_counts.get(x, 0) for x in bins]
    c = [c_counts.get(x, 0) for x in bins]
    if not bins or sum(b) == 0 or sum(c) == 0:
        return None, None
    bp, cp = smooth(b), smooth(c)
    return psi(bp, cp), js_distance(bp, cp)


# --------------------------------------------------------------------------- SQL helpers


class _Sql:
    """Group keys as internal aliases g0, g1, ... (so no --by name can clash with ours)."""

    def __init__(self, groups: list[tuple[str, str]]):
        self.groups = groups
        self.keys = [f"g{i}" for i in range(len(groups))]
        self.gk = "".join(f"{k}, " for k in self.keys)
        self.select = "".join(f"{expr} AS {k}, " for k, (_, expr) in zip(self.keys, groups))

    def join(self, a: str, b: str) -> str:
        return "".join(f" AND {a}.{k} IS NOT DISTINCT FROM {b}.{k}" for k in self.keys)

    def pop(self, cols: str, span_type: str, baseline: SpanFilter, current: SpanFilter) -> tuple[str, list]:
        parts, params = [], []
        for win, flt in (("baseline", baseline), ("current", current)):
            where, p = flt.sql()
            parts.append(POP_SQL.format(groups=self.select, cols=cols, where=where))
            params += [win, span_type] + p
        return " UNION ALL ".join(parts), params


def _summary_num(p50, p90) -> str | None:
    if p50 is None:
        return None

    def f(v):
        return f"{v:,.0f}" if abs(v) >= 100 else f"{v:,.3g}"

    return f"p50 {f(p50)}, p90 {f(p90)}"


def _summary_cat(counts: dict) -> str | None:
    n = sum(counts.values())
    if not n:
        return None
    top = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:2]
    return ", ".join(f"{k} {v / n:.0%}" for k, v in top)


def _summary_text(this: dict, other: dict) -> str | None:
    n, m = sum(this.values()), sum(other.values())
    if not n:
        return None

    def lift(t):
        return this[t] / n - (other.get(t, 0) / m if m else 0.0)

    top = sorted(this, key=lambda t: (-lift(t), -this[t], t))[:3]
    return ", ".join(top)


# --------------------------------------------------------------------------- features


def _numeric(con, s: _Sql, baseline, current, span_type, feats, bins_out: list | None = None) -> list[dict]:
    if not feats:
        return []
    pop, params = s.pop(", ".join(f"{f}::DOUBLE AS {f}" for f in feats), span_type, baseline, current)
    obs = " UNION ALL ".join(f"SELECT {s.gk}win, '{f}' AS metric, {f} AS v FROM w" for f in feats)
    gbm = "GROUP BY " + ", ".join(s.keys + ["metric"])
    sql = NUMERIC_BINS_SQL.format(
        pop=pop,
        obs=obs,
        gk=s.gk,
        deciles="[" + ", ".join(map(str, DECILES)) + "]",
        group_by_gk_metric=gbm,
        gk_o="".join(f"o.{k}, " for k in s.keys),
        join_gk=s.join("o", "b"),
        join_gk_nb=s.join("o", "nb"),
    )
    counts: dict[tuple, dict[str, dict[int, int]]] = defaultdict(lambda: {"baseline": {}, "current": {}})
    nbins: dict[tuple, int] = {}
    edges: dict[tuple, dict[int, tuple]] = defaultdict(dict)
    for *g, metric, win, b, lo, hi, n, k in con.execute(sql, params).fetchall():
        key = (*g, metric)
        counts[key][win][b] = n
        nbins[key] = k
        edges[key][b] = (lo, hi)
    stats: dict[tuple, dict[str, tuple]] = defaultdict(dict)
    for *g, metric, win, n, p50, p90 in con.execute(
        NUMERIC_STATS_SQL.format(pop=pop, obs=obs, gk=s.gk), params
    ).fetchall():
        stats[(*g, metric)][win] = (n, p50, p90)
    rows = []
    for key, per_win in stats.items():
        bn, bp50, bp90 = per_win.get("baseline", (0, None, None))
        cn, cp50, cp90 = per_win.get("current", (0, None, None))
        cnt = counts.get(key, {"baseline": {}, "current": {}})
        psi_v, jsd_v = _compare(range(nbins.get(key, 0)), cnt["baseline"], cnt["current"])
        if bins_out is not None:
            labels = {b: _range_label(*lo_hi) for b, lo_hi in edges[key].items()}
            _add_bins(bins_out, key, range(nbins.get(key, 0)), cnt, lambda b, labels=labels: labels.get(b, str(b)))
        rows.append(_row(key, "numeric", bn, cn, jsd_v, psi_v, _summary_num(bp50, bp90), _summary_num(cp50, cp90)))
    return rows


def _categorical(con, s: _Sql, baseline, current, span_type, feats, bins_out: list | None = None) -> list[dict]:
    if not feats:
        return []
    parts, params = [], []
    for f in feats:
        st = FEATURE_SPAN_TYPE.get(f, span_type)
        pop, p = s.pop(f"coalesce({f}::VARCHAR, '{NONE_CATEGORY}') AS cat", st, baseline, current)
        parts.append(f"SELECT {s.gk}win, '{f}' AS metric, cat FROM ({pop})")
        params += p
    sql = CATEGORICAL_SQL.format(obs=" UNION ALL ".join(parts), gk=s.gk)
    counts: dict[tuple, dict[str, dict[str, int]]] = defaultdict(lambda: {"baseline": {}, "current": {}})
    for *g, metric, win, cat, n in con.execute(sql, params).fetchall():
        counts[(*g, metric)][win][cat] = n
    rows = []
    for key, cnt in counts.items():
        b, c = cnt["baseline"], cnt["current"]
        psi_v, jsd_v = _compare(sorted(set(b) | set(c)), b, c)
        if bins_out is not None:
            _add_bins(bins_out, key, sorted(set(b) | set(c)), cnt, str)
        rows.append(
            _row(key, "categorical", sum(b.values()), sum(c.values()), jsd_v, psi_v, _summary_cat(b), _summary_cat(c))
        )
    return rows


def _text(con, s: _Sql, baseline, current, span_type, feats, bins_out: list | None = None) -> list[dict]:
    if "prompt_terms" not in feats:
        return []
    pop, params = s.pop("input_text", span_type, baseline, current)
    ns: dict[tuple, dict[str, int]] = defaultdict(dict)
    for *g, win, n in con.execute(TEXT_N_SQL.format(pop=pop, gk=s.gk), params).fetchall():
        ns[tuple(g)][win] = n
    sql = TEXT_SQL.format(pop=pop, gk=s.gk, gk_part=("PARTITION BY " + ", ".join(s.keys) + " ") if s.keys else "")
    # Large windows: count the words of a deterministic sample of prompts (by a hash of the text),
    # enough for stable term shares and under the 2 s budget on 10M spans.
    largest = max((n for per_win in ns.values() for n in per_win.values()), default=0)
    keep = 1_000_000 if largest <= TEXT_SAMPLE else int(1_000_000 * TEXT_SAMPLE / largest)
    counts: dict[tuple, dict[str, dict[str, int]]] = defaultdict(lambda: {"baseline": {}, "current": {}})
    for *g, win, term, n in con.execute(sql, params + [keep, STOPWORDS, TOP_TERMS]).fetchall():
        counts[tuple(g)][win][term] = n
    rows = []
    for g, per_win in ns.items():
        cnt = counts.get(g, {"baseline": {}, "current": {}})
        b, c = cnt["baseline"], cnt["current"]
        psi_v, jsd_v = _compare(sorted(set(b) | set(c)), b, c)
        if bins_out is not None:
            _add_bins(bins_out, (*g, "prompt_terms"), sorted(set(b) | set(c)), cnt, str)
        rows.append(
            _row(
                (*g, "prompt_terms"),
                "text",
                per_win.get("baseline", 0),
                per_win.get("current", 0),
                jsd_v,
                psi_v,
                _summary_text(b, c),
                _summary_text(c, b),
            )
        )
    return rows


def _range_label(lo: float, hi: float) -> str:
    def f(v):
        return f"{v:,.0f}" if abs(v) >= 100 else f"{v:,.3g}"

    if math.isinf(lo):
        return f"≤ {f(hi)}"
    if math.isinf(hi):
        return f"> {f(lo)}"
    return f"{f(lo)} – {f(hi)}"


def _add_bins(out: list, key: tuple, bins: Iterable, cnt: dict, label) -> None:
    """Each bin's share of the baseline and of the current window (unsmoothed), in bin order."""
    b, c = cnt["baseline"], cnt["current"]
    nb, nc = sum(b.values()), sum(c.values())
    for order, x in enumerate(bins):
        out.append(
            {
                "_g": key[:-1],
                "feature": key[-1],
                "bin": order,
                "label": label(x),
                "baseline_share": b.get(x, 0) / nb if nb else None,
                "current_share": c.get(x, 0) / nc if nc else None,
            }
        )


def _row(key: tuple, kind: str, bn: int, cn: int, jsd_v, psi_v, bsum: str | None, csum: str | None) -> dict[str, Any]:
    return {
        "_g": key[:-1],
        "feature": key[-1],
        "kind": kind,
        "baseline_n": int(bn),
        "current_n": int(cn),
        "jsd": jsd_v,
        "psi": psi_v,
        "baseline_summary": bsum,
        "current_summary": csum,
        "verdict": verdict(psi_v, jsd_v, bn, cn),
    }


# --------------------------------------------------------------------------- public


def latest_windows(
    con: duckdb.DuckDBPyConnection, span_type: str = "llm", where: Where | str | None = None, days: int = 7
) -> tuple[SpanFilter, SpanFilter] | None:
    """The default comparison: the last ``days`` days of data (ending after the newest matching
    span, not at today's date: an archive of last month still compares) against the ``days``
    before them. None when the store has no such spans."""
    flt = SpanFilter(where=where)
    cond, params = flt.sql()
    newest = con.execute(
        f"SELECT max(start_time) FROM spans WHERE span_type = ? AND {cond}", [span_type, *params]
    ).fetchall()[0][0]
    if newest is None:
        return None
    end = datetime.combine(newest.date(), datetime.min.time()) + timedelta(days=1)  # whole days
    mid, start = end - timedelta(days=days), end - timedelta(days=2 * days)
    return SpanFilter(start, mid, where), SpanFilter(mid, end, where)


def drift(
    con: duckdb.DuckDBPyConnection,
    baseline: SpanFilter,
    current: SpanFilter,
    by: GroupingLike = None,
    span_type: str = "llm",
    features: list[str] | None = None,
) -> pa.Table:
    """Compare the ``current`` window with the ``baseline`` window, per group and feature.

    One row per (group..., feature) with ``kind, baseline_n, current_n, jsd, psi,
    baseline_summary, current_summary, verdict``; see the module docstring for binning,
    smoothing and thresholds. ``features`` picks a subset of ``ALL_FEATURES``.

        >>> t = drift(con, SpanFilter.from_options("2025-11-01", "2025-11-08"),
        ...           SpanFilter.from_options("2025-11-08", "2025-11-15"), by="service_name",
        ...           features=["input_tokens", "prompt_terms"])
    """
    return _drift(con, baseline, current, by, span_type, features, None)


def drift_bins(
    con: duckdb.DuckDBPyConnection,
    baseline: SpanFilter,
    current: SpanFilter,
    by: GroupingLike = None,
    span_type: str = "llm",
    features: list[str] | None = None,
) -> tuple[pa.Table, pa.Table]:
    """:func:`drift`, and the binned distributions it compared: one row per (group..., feature, bin)
    with ``bin`` (its order), ``label`` (``120 – 340`` for numeric bins, the category or the term) and
    the bin's ``baseline_share`` and ``current_share`` of its window (unsmoothed), for side-by-side charts."""
    bins: list[dict] = []
    table = _drift(con, baseline, current, by, span_type, features, bins)
    return table, _table(
        group_exprs(by),
        bins,
        {"bin": pa.int64(), "label": pa.string(), "baseline_share": pa.float64(), "current_share": pa.float64()},
    )


def _drift(con, baseline, current, by, span_type, features, bins_out: list | None) -> pa.Table:
    feats = list(features) if features else list(ALL_FEATURES)
    unknown = [f for f in feats if f not in ALL_FEATURES]
    if unknown:
        raise QueryError(f"unknown drift feature(s) {', '.join(unknown)}; use {', '.join(ALL_FEATURES)}")
    groups = group_exprs(by)
    s = _Sql(groups)
    rows = (
        _numeric(con, s, baseline, current, span_type, [f for f in NUMERIC_FEATURES if f in feats], bins_out)
        + _categorical(con, s, baseline, current, span_type, [f for f in CATEGORICAL_FEATURES if f in feats], bins_out)
        + _text(con, s, baseline, current, span_type, feats, bins_out)
    )
    order = {f: i for i, f in enumerate(ALL_FEATURES)}
    rows.sort(key=lambda r: (tuple((v is None, v if v is not None else 0) for v in r["_g"]), order[r["feature"]]))
    if bins_out is not None:
        bins_out.sort(
            key=lambda r: (
                tuple((v is None, v if v is not None else 0) for v in r["_g"]),
                order[r["feature"]],
                r["bin"],
            )
        )
    return _table(
        groups,
        rows,
        {
            "kind": pa.string(),
            "baseline_n": pa.int64(),
            "current_n": pa.int64(),
            "jsd": pa.float64(),
            "psi": pa.float64(),
            "baseline_summary": pa.string(),
            "current_summary": pa.string(),
            "verdict": pa.string(),
        },
    )


def _table(groups: list[tuple[str, str]], rows: list[dict], types: dict) -> pa.Table:
    """Rows with their group key in ``_g`` -> the --by columns, ``feature``, then ``types``' columns."""
    names = [a if a not in _OUT_COLS else f"by_{a}" for a, _ in groups]
    cols: dict[str, Any] = {name: [r["_g"][i] for r in rows] for i, name in enumerate(names)}
    types = {"feature": pa.string(), **types}
    arrays = {name: pa.array(vals) for name, vals in cols.items()}
    for c, t in types.items():
        arrays[c] = pa.array([r[c] for r in rows], type=t)
    return pa.table(arrays)
