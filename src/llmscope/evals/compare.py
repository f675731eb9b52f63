"""`eval compare` (two judges on one sample) and `eval calibrate` (a judge against human labels):
agreement and cost side by side, so a team can see whether a small judge is good enough."""

from __future__ import annotations

from dataclasses import replace

import duckdb
import pyarrow as pa

from . import agreement
from .judges import Judge
from .runner import EvalError, EvalOptions, EvalReport, read_jsonl, run_eval

PAIRS_SQL = """
SELECT a.metric, a.score AS score_a, b.score AS score_b, a.passed AS passed_a, b.passed AS passed_b,
       a.judge_cost_usd AS cost_a, b.judge_cost_usd AS cost_b
FROM evals a JOIN evals b USING (trace_id, span_id, metric)
WHERE a.judge = ? AND b.judge = ? AND a.error IS NULL AND b.error IS NULL
  AND coalesce(a.repeat_index, 0) = 0 AND coalesce(b.repeat_index, 0) = 0
  AND (a.trace_id, a.span_id) IN (SELECT trace_id, span_id FROM _scope)
"""


def _agreement(pairs: list[tuple], name_a: str, name_b: str) -> list[dict]:
    by_metric: dict[str, list[tuple]] = {}
    for p in pairs:
        by_metric.setdefault(p[0], []).append(p)
    rows = []
    for metric, ps in sorted(by_metric.items()):
        both_pass = [(x[3], x[4]) for x in ps if x[3] is not None and x[4] is not None]
        both_score = [(x[1], x[2]) for x in ps if x[1] is not None and x[2] is not None]
        cost_a = sum(x[5] or 0.0 for x in ps)
        cost_b = sum(x[6] or 0.0 for x in ps)
        rows.append(
            {
                "metric": metric,
                "items": len(ps),
                "judge_a": name_a,
                "judge_b": name_b,
                "accuracy": agreement.accuracy([a for a, _ in both_pass], [b for _, b in both_pass]),
                "cohen_kappa": agreement.cohen_kappa([a for a, _ in both_pass], [b for _, b in both_pass]),
                "spearman": agreement.spearman([a for a, _ in both_score], [b for _, b in both_score]),
                "mean_a": sum(a for a, _ in both_score) / len(both_score) if both_score else None,
                "mean_b": sum(b for _, b in both_score) / len(both_score) if both_score else None,
                "cost_a_usd": cost_a,
                "cost_b_usd": cost_b,
                "cost_ratio": cost_a / cost_b if cost_b else None,
            }
        )
    return rows


def compare(
    con: duckdb.DuckDBPyConnection,
    judge_a: Judge,
    judge_b: Judge,
    opts: EvalOptions,
    config: dict | None = None,
    on_progress=None,
) -> tuple[list[dict], list[EvalReport]]:
    """Run both judges on the same items (cached scores are reused) and compare them."""
    from .runner import select_items

    items = select_items(con, opts)
    scope = pa.table({"trace_id": [i["trace_id"] for i in items], "span_id": [i["span_id"] for i in items]})
    reports = [run_eval(con, opts, j, config, on_progress) for j in (judge_a, judge_b)]
    con.register("_scope", scope)
    try:
        pairs = con.execute(PAIRS_SQL, [judge_a.name, judge_b.name]).fetchall()
    finally:
        con.unregister("_scope")
    return _agreement(pairs, judge_a.name, judge_b.name), reports


def load_labels(path: str) -> list[dict]:
    """JSONL of human labels: ``trace_id``, ``span_id``, ``metric`` and ``passed`` (bool) or ``label``
    ("pass"/"fail", "grounded"/"hallucination") and/or ``score`` (0..1)."""
    out = []
    for p, n, obj in read_jsonl(path, "labels"):
        if not all(k in obj for k in ("trace_id", "span_id", "metric")):
            raise EvalError(f"{p}:{n}: needs trace_id, span_id and metric")
        passed = obj.get("passed")
        if passed is None and "label" in obj:
            passed = str(obj["label"]).lower() in ("pass", "grounded", "true", "yes", "1", "good")
        score = obj.get("score")
        if passed is None and score is None:
            raise EvalError(f"{p}:{n}: give passed, label or score")
        out.append(
            {
                "trace_id": obj["trace_id"],
                "span_id": obj["span_id"],
                "metric": obj["metric"],
                "passed": passed,
                "score": float(score) if score is not None else None,
            }
        )
    return out


def calibrate(
    con: duckdb.DuckDBPyConnection,
    judge: Judge,
    labels_path: str | list[dict],
    opts: EvalOptions,
    config: dict | None = None,
    on_progress=None,
) -> tuple[list[dict], EvalReport]:
    """Judge the labelled items (a labels file, or labels already read such as the ``annotations``), then
    measure agreement with the human labels: per metric, and per class (``["per_class"]`` rows)."""
    labels = load_labels(labels_path) if isinstance(labels_path, str) else labels_path
    if not labels:
        raise EvalError("no human labels to calibrate against (label some with `llmscope annotate`)")
    metrics = sorted({lab["metric"] for lab in labels})
    keys = pa.table({"trace_id": [lab["trace_id"] for lab in labels], "span_id": [lab["span_id"] for lab in labels]})
    con.register("_labelled", keys)
    try:
        opts = replace(
            opts,
            metrics=metrics,
            sample=None,
            flt=replace(opts.flt, where="(trace_id, span_id) IN (SELECT trace_id, span_id FROM _labelled)"),
        )
        report = run_eval(con, opts, judge, config, on_progress)
    finally:
        con.unregister("_labelled")
    got = {
        (r[0], r[1], r[2]): (r[3], r[4])
        for r in con.execute(
            "SELECT trace_id, span_id, metric, score, passed FROM evals WHERE judge = ? AND error IS NULL "
            "AND coalesce(repeat_index, 0) = 0",
            [judge.name],
        ).fetchall()
    }
    pairs = []
    for lab in labels:
        j = got.get((lab["trace_id"], lab["span_id"], lab["metric"]))
        if j is not None:
            pairs.append((lab["metric"], lab["score"], j[0], lab["passed"], j[1], 0.0, None))
    rows = _agreement(pairs, "human", judge.name)
    for r in rows:
        r.pop("cost_a_usd"), r.pop("cost_ratio")
        r["labelled"] = sum(1 for lab in labels if lab["metric"] == r["metric"])
        r["per_class"] = _per_class([(p[3], p[4]) for p in pairs if p[0] == r["metric"]])
    return rows, report


def _per_class(pairs: list[tuple]) -> list[dict]:
    """For each human class (pass / fail): how many, and how often the judge said the same (its recall)
    and how often the judge's verdict of that class was the human's (its precision)."""
    both = [("pass" if h else "fail", "pass" if j else "fail") for h, j in pairs if h is not None and j is not None]
    out = []
    for c in ("pass", "fail"):
        actual = [j for h, j in both if h == c]
        said = [h for h, j in both if j == c]
        out.append(
            {
                "class": c,
                "labelled": len(actual),
                "recall": sum(j == c for j in actual) / len(actual) if actual else None,
                "precision": sum(h == c for h in said) / len(said) if said else None,
            }
        )
    return out
