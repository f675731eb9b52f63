"""`eval benchmark`: score labelled items with each judge and measure how well it agrees with the labels,
how stable it is, and what it costs, so a team can choose the smallest judge that agrees.

Labels file (JSONL), one item per line: ``input``, ``output``, ``context``, ``reference`` (as in a
dataset), ``metric`` (default ``groundedness``) and the human verdict as ``label`` (``pass``/``fail``,
``grounded``/``hallucination``, or a 1-5 score for a 1-5 metric) or ``passed`` (true/false).

Per judge and metric: accuracy; balanced accuracy (the mean of the recall of each class, so a judge
that says "pass" to everything scores 0.5 on balanced data and no better on skewed data); Cohen's
kappa; the confusion by class; the flip rate (share of items whose verdict differs between the
``repeat`` requests, sent without the cache); errors; cost and latency per item (one request,
repairs included; latency is the time at the server, not the wait for a free request slot). Nothing
is written to the store.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from . import agreement, prompts
from .client import JudgeCallError, JudgeClient, JudgeUnreachable
from .judges import Judge
from .runner import EvalError, EvalReport, _judge_one, _text, read_jsonl, resolve_metrics

PASS_WORDS = {"pass", "passed", "grounded", "true", "yes", "1", "good", "correct"}
FAIL_WORDS = {"fail", "failed", "hallucination", "false", "no", "0", "bad", "incorrect"}


@dataclass
class LabelledItem:
    id: str
    metric: str
    expected: str  # the class: pass / fail, or "1".."5"
    fields: dict = field(default_factory=dict)  # input, output, context, reference


def load_labels(path: str) -> list[LabelledItem]:
    items = []
    for p, n, obj in read_jsonl(path, "labels"):
        if "llmscope_dataset" in obj:
            continue
        if not obj.get("output"):
            raise EvalError(f"{p}:{n}: a labelled item needs the output judged (and input, context)")
        metric = str(obj.get("metric") or "groundedness")
        if "passed" in obj and isinstance(obj["passed"], bool):
            expected = "pass" if obj["passed"] else "fail"
        elif "label" in obj:
            word = str(obj["label"]).strip().lower()
            if word in PASS_WORDS:
                expected = "pass"
            elif word in FAIL_WORDS:
                expected = "fail"
            elif word in {"1", "2", "3", "4", "5"}:
                expected = word
            else:
                raise EvalError(f"{p}:{n}: label {obj['label']!r} is not pass/fail or a 1-5 score")
        else:
            raise EvalError(f"{p}:{n}: give the human verdict as label (pass/fail, 1-5) or passed (true/false)")
        fields = {k: _text(obj.get(k)) for k in ("input", "output", "context", "reference")}
        items.append(LabelledItem(str(obj.get("id", n)), metric, expected, fields))
    if not items:
        raise EvalError(f"{path}: no labelled items")
    return items


def _class(metric: prompts.Metric, expected: str, score: float | None, passed: bool | None) -> str | None:
    """The judge's verdict in the labels' classes."""
    if expected in ("pass", "fail"):
        return None if passed is None else ("pass" if passed else "fail")
    if score is None:
        return None
    return str(round(score * (metric.scale - 1) + 1)) if metric.scale > 1 else str(round(score * 4 + 1))


@dataclass
class Outcome:
    item: LabelledItem
    verdicts: list[str | None]  # one per repeat
    seconds: list[float]
    cost_usd: float | None
    errors: int


async def _judge_all(judge: Judge, items: list[LabelledItem], metrics: dict, repeat: int) -> list[Outcome]:
    client = JudgeClient(judge)
    scratch = EvalReport(run_id="benchmark", judge=judge.name)  # counts the repairs
    outcomes = [Outcome(it, [None] * repeat, [0.0] * repeat, 0.0, 0) for it in items]

    async def one(k: int, r: int) -> None:
        out = outcomes[k]
        metric = metrics[out.item.metric]
        if any(not out.item.fields.get(need) for need in metric.needs):
            out.errors += 1  # nothing to judge it on (a groundedness label without its context)
            return
        try:
            (score, _label, passed, _expl, error), tin, tout, seconds = await _judge_one(
                client, metric, out.item.fields, scratch
            )
        except JudgeCallError:
            score, passed, error, tin, tout, seconds = None, None, "call failed", 0, 0, 0.0
        out.seconds[r] = seconds
        cost = judge.cost(tin, tout)
        out.cost_usd = None if cost is None or out.cost_usd is None else out.cost_usd + cost
        if error:
            out.errors += 1
        else:
            out.verdicts[r] = _class(metric, out.item.expected, score, passed)

    try:
        tasks = [one(k, r) for r in range(repeat) for k in range(len(items))]
        if tasks:  # one request first: an unreachable judge fails fast
            try:
                await tasks[0]
            except BaseException:
                for t in tasks[1:]:
                    t.close()
                raise
            await asyncio.gather(*tasks[1:])
    finally:
        await client.aclose()
    return outcomes


def _pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    xs = sorted(values)
    pos = (len(xs) - 1) * q
    lo = int(pos)
    hi = min(lo + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)


def summarise(judge: Judge, metric: str, outcomes: list[Outcome], repeat: int) -> tuple[dict, list[dict]]:
    """One row of figures, and the confusion rows (expected x predicted counts) of the first repeat."""
    pairs = [(o.item.expected, o.verdicts[0]) for o in outcomes if o.verdicts[0] is not None]
    expected = [e for e, _ in pairs]
    predicted = [p for _, p in pairs]
    classes = sorted(set(expected) | set(predicted))
    recalls = []
    for c in sorted(set(expected)):
        of_c = [p for e, p in pairs if e == c]
        recalls.append(sum(p == c for p in of_c) / len(of_c))
    judged_twice = [o for o in outcomes if sum(v is not None for v in o.verdicts) >= 2]
    flips = sum(len({v for v in o.verdicts if v is not None}) > 1 for o in judged_twice)
    per_call = [s for o in outcomes for s in o.seconds if s]
    costs = [o.cost_usd / repeat for o in outcomes if o.cost_usd is not None]
    row = {
        "judge": judge.name,
        "model": judge.model,
        "metric": metric,
        "items": len(outcomes),
        "judged": len(pairs),
        "errors": sum(o.errors for o in outcomes),
        "accuracy": agreement.accuracy(expected, predicted),
        "balanced_accuracy": sum(recalls) / len(recalls) if recalls else None,
        "cohen_kappa": agreement.cohen_kappa(expected, predicted),
        "flip_rate": flips / len(judged_twice) if judged_twice else None,
        "cost_per_item_usd": sum(costs) / len(costs) if costs and len(costs) == len(outcomes) else None,
        "latency_p50_ms": None if not per_call else _pct(per_call, 0.5) * 1000,  # type: ignore[operator]
        "latency_p95_ms": None if not per_call else _pct(per_call, 0.95) * 1000,  # type: ignore[operator]
    }
    confusion = [
        {
            "judge": judge.name,
            "metric": metric,
            "expected": e,
            "predicted": p,
            "count": sum(1 for x, y in pairs if x == e and y == p),
        }
        for e in classes
        for p in classes
    ]
    return row, confusion


def benchmark(
    judges: list[Judge], labels_path: str, repeat: int = 2, config: dict | None = None
) -> tuple[list[dict], list[dict], list[dict]]:
    """(figures per judge and metric, confusion rows, per-class rows) for each judge on the labels."""
    items = load_labels(labels_path)
    rows, confusion, per_class = [], [], []
    for judge in judges:
        if judge.builtin:
            raise EvalError("benchmark LLM judges: the builtin scorers are not a judge profile")
        metrics = {m.name: m for m in resolve_metrics(sorted({it.metric for it in items}), judge, config)}
        try:
            outcomes = asyncio.run(_judge_all(judge, items, metrics, repeat))
        except JudgeUnreachable as e:
            raise EvalError(str(e)) from None
        for name in sorted(metrics):
            mine = [o for o in outcomes if o.item.metric == name]
            row, conf = summarise(judge, name, mine, repeat)
            rows.append(row)
            confusion += conf
            for c in sorted({r["expected"] for r in conf}):
                tp = sum(r["count"] for r in conf if r["expected"] == c and r["predicted"] == c)
                actual = sum(r["count"] for r in conf if r["expected"] == c)
                said = sum(r["count"] for r in conf if r["predicted"] == c)
                per_class.append(
                    {
                        "judge": judge.name,
                        "metric": name,
                        "class": c,
                        "labelled": actual,
                        "recall": tp / actual if actual else None,
                        "precision": tp / said if said else None,
                    }
                )
    return rows, confusion, per_class
