"""`llmscope eval`: choose what to score, score it (offline or with an LLM judge), store the scores.

    >>> rep = run_eval(con, EvalOptions(judge="small-model", metrics=["groundedness"], sample=0.2))
    >>> rep.scored, rep.cost_usd, rep.means

* Items are LLM calls from the store (their prompt, answer, and the retrieved documents of the same
  trace as context) or the lines of a dataset file (``input``, ``output``, ``context``,
  ``reference``).
* By default only items not yet scored for that metric and judge are scored. ``--sample`` keeps a
  deterministic share (or count) of traces chosen by a hash of the trace id, so reruns pick the
  same ones; ``--always`` adds every item matching a condition (high-risk segments at 100%).
* Each item is judged in its own request. Replies that do not parse get one repair retry, then are
  stored as eval errors (``error`` column, score NULL). Judge answers are cached by (judge, model,
  metric, prompt version, inputs hash) in ``eval_cache``: re-running the same eval calls no judge.
* ``--budget-usd`` stops issuing requests before the estimated spend would pass it.
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import os
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import orjson
import pyarrow as pa

from ..errors import EvalError
from ..pools import process_pool
from ..query import SpanFilter
from ..store import query_arrow
from . import prompts
from .client import JudgeCallError, JudgeClient, JudgeUnreachable
from .judges import Judge

DEFAULT_JUDGE_METRICS = ("groundedness", "answer_relevancy")

ITEMS_SQL = """
WITH llm AS (
    SELECT trace_id, span_id, start_time, input_text, output_text, feature
    FROM spans WHERE span_type = 'llm' AND output_text IS NOT NULL AND {where}
),
ctx AS (
    SELECT trace_id, string_agg(output_text, chr(10) || chr(10) ORDER BY start_time) AS context
    FROM spans WHERE span_type = 'retriever' AND output_text IS NOT NULL
      AND trace_id IN (SELECT trace_id FROM llm) GROUP BY trace_id
)
SELECT llm.trace_id, llm.span_id, llm.input_text AS input, llm.output_text AS output, ctx.context, NULL AS reference,
       ({always}) AS always
FROM llm LEFT JOIN ctx USING (trace_id)
ORDER BY hash(llm.trace_id), llm.span_id
"""


@dataclass
class EvalOptions:
    judge: str = "builtin"
    metrics: list[str] | None = None
    flt: SpanFilter = field(default_factory=SpanFilter)
    sample: float | None = None  # share (0..1] or a count (> 1) of items, by trace-id hash
    always: str | None = None  # SQL condition: these items are scored whatever the sample
    budget_usd: float | None = None
    repeat: int = 1
    rescore: bool = False
    concurrency: int | None = None
    dataset: str | None = None
    limit: int | None = None


@dataclass
class EvalReport:
    run_id: str
    judge: str
    items: int = 0
    scored: int = 0
    cached: int = 0
    not_applicable: int = 0
    errors: int = 0
    skipped_budget: int = 0
    calls: int = 0
    retries: int = 0
    cost_usd: float = 0.0
    elapsed_s: float = 0.0
    means: dict[str, float | None] = field(default_factory=dict)
    pass_rates: dict[str, float | None] = field(default_factory=dict)
    flip_rates: dict[str, float] = field(default_factory=dict)
    error_examples: list[str] = field(default_factory=list)
    failed_gates: list[str] = field(default_factory=list)  # set by Store.evaluate(fail_under=…)
    repairs: int = 0  # repair requests sent after a reply that did not parse
    structured_output: bool | None = None  # whether the judge was asked for its JSON schema at the end
    format_refused: str | None = None  # the server refused response_format in this run: its answer


@dataclass
class Progress:
    judge: str = ""
    done: int = 0
    total: int = 0
    calls: int = 0
    cost_usd: float = 0.0
    errors: int = 0


EVAL_FIELDS = [
    ("trace_id", pa.string()),
    ("span_id", pa.string()),
    ("metric", pa.string()),
    ("score", pa.float64()),
    ("label", pa.string()),
    ("passed", pa.bool_()),
    ("judge", pa.string()),
    ("explanation", pa.string()),
    ("judge_cost_usd", pa.float64()),
    ("judge_model", pa.string()),
    ("judge_input_tokens", pa.int64()),
    ("judge_output_tokens", pa.int64()),
    ("prompt_version", pa.string()),
    ("error", pa.string()),
    ("repeat_index", pa.int32()),
    ("source", pa.string()),
]


def read_jsonl(path: str, what: str):
    """(path, line number, object) for each non-blank line; a bad line is an EvalError naming it."""
    p = Path(path)
    try:
        lines = p.read_text().splitlines()
    except FileNotFoundError:
        raise EvalError(f"{p}: no such {what} file") from None
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            obj = orjson.loads(line)
        except orjson.JSONDecodeError as e:
            raise EvalError(f"{p}:{n}: not JSON ({e})") from None
        if not isinstance(obj, dict):
            raise EvalError(f"{p}:{n}: each line must be a JSON object")
        yield p, n, obj


def load_dataset(path: str) -> list[dict]:
    """JSONL with ``input``, ``output``, ``context``, ``reference`` (and optional ``id``). A first line
    ``{"llmscope_dataset": …}`` is the header ``dataset export`` writes; a line with an input and no
    output (a call that failed) is kept, and the metrics that need an output are not applicable to it."""
    items = []
    for p, n, obj in read_jsonl(path, "dataset"):
        if "llmscope_dataset" in obj:
            if items:
                raise EvalError(f"{p}:{n}: a dataset header belongs on the first line")
            continue
        if not obj.get("output") and not obj.get("input"):
            raise EvalError(f"{p}:{n}: each line needs at least an 'output' (and input, context, reference)")
        items.append(
            {
                "trace_id": f"dataset:{p.name}",
                "span_id": str(obj.get("id", n)),
                "input": obj.get("input"),
                "output": obj.get("output"),
                "context": _text(obj.get("context")),
                "reference": obj.get("reference"),
                "always": False,
            }
        )
    return items


def _text(v) -> str | None:
    if v is None or isinstance(v, str):
        return v
    if isinstance(v, list):
        return "\n\n".join(x if isinstance(x, str) else orjson.dumps(x).decode() for x in v)
    return orjson.dumps(v).decode()


def select_items(con: duckdb.DuckDBPyConnection, opts: EvalOptions) -> list[dict]:
    where, params = opts.flt.sql()
    always = opts.always or "FALSE"
    if ";" in always:
        raise EvalError("--always takes one SQL condition, without ';'")
    rows = query_arrow(con, ITEMS_SQL.format(where=where, always=always), params).to_pylist()
    if opts.sample is not None:
        if opts.sample <= 0:
            raise EvalError("--sample must be > 0: a share (0.2) or a count (200)")
        if opts.sample <= 1:
            keep = [r for r in rows if r["always"] or _unit(r["trace_id"]) < opts.sample]
        else:
            n = int(opts.sample)
            keep, sampled = [], 0
            for r in rows:  # already ordered by the trace-id hash
                if r["always"]:
                    keep.append(r)
                elif sampled < n:
                    keep.append(r)
                    sampled += 1
        rows = keep
    if opts.limit:
        rows = rows[: opts.limit]
    return rows


def _unit(trace_id: str) -> float:
    """A stable number in [0, 1) per trace id (the same across runs, machines and Python versions)."""
    return int(hashlib.sha256(trace_id.encode()).hexdigest()[:12], 16) / float(1 << 48)


def _already_scored(con: duckdb.DuckDBPyConnection, metric: str, judge: str) -> set[tuple[str, str]]:
    return set(
        con.execute(
            "SELECT trace_id, span_id FROM evals WHERE metric = ? AND judge = ? AND error IS NULL", [metric, judge]
        ).fetchall()
    )


def _inputs_hash(item: dict, needs: tuple[str, ...]) -> str:
    h = hashlib.sha256()
    for k in needs:
        h.update(k.encode() + b"\0" + (item.get(k) or "").encode() + b"\0")
    return h.hexdigest()


def resolve_metrics(names: list[str] | None, judge: Judge, config: dict | None = None) -> list:
    from . import offline

    if judge.builtin:
        names = names or list(offline.BUILTIN_METRICS)
        unknown = [n for n in names if n not in offline.BUILTIN_METRICS]
        if unknown:
            raise EvalError(
                f"the builtin judge does not know {', '.join(unknown)}; it scores {', '.join(offline.BUILTIN_METRICS)}"
            )
        return names
    from dataclasses import replace

    eval_cfg = (config or {}).get("eval") or {}
    rubrics = eval_cfg.get("rubrics") or {}
    out = []
    for n in names or list(DEFAULT_JUDGE_METRICS):
        if n in prompts.METRICS:
            m = prompts.METRICS[n]
            if n == "groundedness" and "hallucination_threshold" in eval_cfg:
                m = replace(m, pass_threshold=float(eval_cfg["hallucination_threshold"]))
            out.append(m)
        elif n in rubrics:
            r = rubrics[n]
            out.append(
                prompts.rubric_metric(
                    n,
                    str(r.get("criteria", "")),
                    list(r.get("steps", [])),
                    int(r.get("scale", 5)),
                    str(r.get("version", "u1")),
                )
            )
        else:
            raise EvalError(
                f"unknown metric {n!r}: judge metrics are {', '.join(prompts.METRICS)} "
                "or a rubric defined in [eval.rubrics.NAME]"
            )
    return out


# --------------------------------------------------------------------------- judging


async def _judge_one(client: JudgeClient, metric, item: dict, report: EvalReport) -> tuple[tuple, int, int, float]:
    """(score, label, passed, explanation, error), input tokens, output tokens, seconds at the server."""
    messages = prompts.render(metric, item)
    schema = prompts.schema(metric)
    tolerant = client.judge.tolerant_parsing
    reply = await client.chat(messages, schema=schema, name=metric.name)
    tin, tout = reply.input_tokens, reply.output_tokens
    try:
        result = prompts.parse(metric, reply.content, tolerant)
        return (*result, None), tin, tout, reply.seconds
    except prompts.ParseError:
        repair = messages + [
            {"role": "assistant", "content": reply.content[:4000]},
            {"role": "user", "content": prompts.REPAIR},
        ]
        report.repairs += 1
        reply2 = await client.chat(repair, schema=schema, name=metric.name)
        tin, tout = tin + reply2.input_tokens, tout + reply2.output_tokens
        seconds = reply.seconds + reply2.seconds
        try:
            return (*prompts.parse(metric, reply2.content, tolerant), None), tin, tout, seconds
        except prompts.ParseError as e:
            return (
                (None, "error", None, reply2.content[:300], f"unparseable judge reply after one repair: {e}"),
                tin,
                tout,
                seconds,
            )


async def _run_judge(
    items: list[dict],
    metrics: list,
    judge: Judge,
    opts: EvalOptions,
    con,
    report: EvalReport,
    progress: Progress,
    on_progress,
) -> tuple[list[tuple], list[tuple]]:
    run = _JudgeRun(judge, opts, con, report, progress, on_progress)
    try:
        tasks = [run.score(item, metric, rep) for rep in range(opts.repeat) for metric in metrics for item in items]
        # a first request alone: an unreachable judge fails fast with one clear message
        if tasks:
            try:
                await tasks[0]
            except BaseException:
                for t in tasks[1:]:
                    t.close()  # never started: close them quietly
                raise
            await asyncio.gather(*tasks[1:])
    finally:
        await run.close()
    return run.rows, run.cache_rows


class _JudgeRun:
    """One judge run's state: the client, the answers cached from earlier runs, the spend so far, and the
    eval rows and cache rows it makes (tuples in EVAL_FIELDS and ``eval_cache`` order)."""

    def __init__(self, judge: Judge, opts: EvalOptions, con, report: EvalReport, progress: Progress, on_progress):
        self.judge, self.opts, self.report, self.progress, self.on_progress = judge, opts, report, progress, on_progress
        self.rows: list[tuple] = []
        self.cache_rows: list[tuple] = []
        refused = con.execute(
            "SELECT reason FROM judge_capabilities WHERE judge = ? AND base_url = ? AND model = ? AND NOT structured_output",
            [judge.name, judge.base_url, judge.model],
        ).fetchall()
        self.client = JudgeClient(judge, opts.concurrency, structured=judge.response_format and not refused)
        self.spent_usd, self.spent_n = 0.0, 0
        self.reserved_usd = 0.0  # estimates of calls in flight
        self.cache = {
            r[0]: r[1:]
            for r in con.execute(
                "SELECT cache_key, score, label, passed, explanation, judge_input_tokens, judge_output_tokens, judge_cost_usd "
                "FROM eval_cache WHERE judge = ? AND judge_model = ?",
                [judge.name, judge.model],
            ).fetchall()
        }

    async def score(self, item: dict, metric, rep: int) -> None:
        """One item, one metric, one repeat: not applicable, from the cache, over budget, or judged."""
        await self._score(item, metric, rep)
        p = self.progress
        p.done += 1
        p.calls = self.client.calls
        p.cost_usd = self.spent_usd
        if self.on_progress:
            self.on_progress(p)

    async def _score(self, item: dict, metric, rep: int) -> None:
        judge = self.judge
        missing = [k for k in metric.needs if not item.get(k)]
        if missing:
            self._row(item, metric, rep, None, "not_applicable", None, f"no {', '.join(missing)} to judge", None)
            self.report.not_applicable += 1
            return
        key = hashlib.sha256(
            "\0".join((judge.name, judge.model, metric.name, metric.version, _inputs_hash(item, metric.needs))).encode()
        ).hexdigest()
        if rep == 0 and key in self.cache:
            score, label, passed, expl, _tin, _tout, _cost = self.cache[key]
            self._row(item, metric, rep, score, label, passed, expl, 0.0)
            self.report.cached += 1
            self._count_scored(label)
            return
        est = self._estimate(item, metric)
        if self.opts.budget_usd is not None and self.spent_usd + self.reserved_usd + est > self.opts.budget_usd:
            self.report.skipped_budget += 1
            return
        self.reserved_usd += est  # no await between the check and this: concurrent calls cannot overspend
        try:
            (score, label, passed, expl, error), tin, tout, _ = await _judge_one(self.client, metric, item, self.report)
        except JudgeCallError as e:
            score, label, passed, expl, error, tin, tout = None, "error", None, None, str(e), 0, 0
        finally:
            self.reserved_usd -= est
        cost = judge.cost(tin, tout)
        self.spent_usd += cost or 0.0
        self.spent_n += 1
        self._row(item, metric, rep, score, label, passed, expl, cost, tin, tout, error)
        if error:
            self._count_error(item, metric, error)
            return
        self._count_scored(label)
        if rep == 0:
            answer = (score, label, passed, expl, tin, tout, cost)
            self.cache_rows.append(
                (key, judge.name, judge.model, metric.name, metric.version, _inputs_hash(item, metric.needs), *answer)
            )

    def _estimate(self, item: dict, metric) -> float:
        """What the next call will cost: the mean so far, or the judge's price for the prompt's size."""
        if self.spent_n:
            return self.spent_usd / self.spent_n
        chars = sum(len(item.get(k) or "") for k in metric.needs) + len(metric.template)
        return self.judge.cost(chars // 4, 300) or 0.0

    def _row(self, item, metric, rep, score, label, passed, expl, cost, tin=0, tout=0, error=None) -> None:
        j = self.judge
        base = (item["trace_id"], item["span_id"], metric.name, score, label, passed, j.name, expl, cost, j.model)
        self.rows.append((*base, tin, tout, metric.version, error, rep, item.get("source")))

    def _count_scored(self, label) -> None:
        self.report.scored += label != "not_applicable"
        self.report.not_applicable += label == "not_applicable"

    def _count_error(self, item: dict, metric, error: str) -> None:
        self.report.errors += 1
        self.progress.errors += 1
        if len(self.report.error_examples) < 5:
            self.report.error_examples.append(f"{item['trace_id']}/{item['span_id']} {metric.name}: {error}")

    async def close(self) -> None:
        report, client = self.report, self.client
        report.calls, report.retries = client.calls, client.retries
        report.cost_usd = self.spent_usd
        report.structured_output = client.structured
        report.format_refused = client.refused_format
        await client.aclose()


# The builtin scorers are pure CPU and share nothing: past this many items they run on every core
# (spawn costs ~0.5 s; measured ~200-500 µs an item in one process).
PARALLEL_MIN_ITEMS = 4_000
CHUNK_ITEMS = 1_000


def _score_chunk(items: list[dict], metric_names: list[str], cfg) -> list[tuple]:
    from . import offline

    rows = []
    for item in items:
        row = {"input_text": item.get("input"), "output_text": item.get("output"), "context": item.get("context")}
        for s in offline.score_span(row, cfg, item.get("reference")):
            if s.metric in metric_names:
                rows.append(
                    (
                        item["trace_id"],
                        item["span_id"],
                        s.metric,
                        s.score,
                        s.label,
                        s.passed,
                        "builtin",
                        s.explanation,
                        0.0,
                        "builtin",
                        0,
                        0,
                        "builtin-1",
                        None,
                        0,
                        item.get("source"),
                    )
                )
    return rows


def _run_builtin(
    items: list[dict], metric_names: list[str], config: dict | None, progress, on_progress, workers: int | None = None
) -> list[tuple]:
    from . import offline

    try:
        cfg = offline.OfflineConfig.from_config(
            ((config or {}).get("eval") or {}).get("builtin") or {}, base_dir=(config or {}).get("_config_dir")
        )
    except ValueError as e:
        raise EvalError(str(e)) from None
    chunks = [items[i : i + CHUNK_ITEMS] for i in range(0, len(items), CHUNK_ITEMS)]
    n_workers = workers if workers is not None else (os.cpu_count() or 1)
    rows: list[tuple] = []

    def done(chunk: list[dict], chunk_rows: list[tuple]) -> None:
        rows.extend(chunk_rows)
        progress.done += len(chunk)
        if on_progress:
            on_progress(progress)

    if n_workers > 1 and len(items) >= PARALLEL_MIN_ITEMS:
        with process_pool(n_workers) as pool:
            for chunk, chunk_rows in zip(
                chunks, pool.map(_score_chunk, chunks, itertools.repeat(metric_names), itertools.repeat(cfg))
            ):
                done(chunk, chunk_rows)
    else:
        for chunk in chunks:
            done(chunk, _score_chunk(chunk, metric_names, cfg))
    return rows


# --------------------------------------------------------------------------- the run


def run_eval(
    con: duckdb.DuckDBPyConnection,
    opts: EvalOptions,
    judge: Judge,
    config: dict | None = None,
    on_progress: Callable[[Progress], None] | None = None,
) -> EvalReport:
    started = time.perf_counter()
    report = EvalReport(run_id=uuid.uuid4().hex[:12], judge=judge.name)
    metrics = resolve_metrics(opts.metrics, judge, config)
    metric_names = metrics if judge.builtin else [m.name for m in metrics]
    items = load_dataset(opts.dataset) if opts.dataset else select_items(con, opts)
    for it in items:
        it["source"] = "dataset" if opts.dataset else "store"
    if not opts.rescore and not opts.dataset:
        if judge.builtin:  # which builtin metrics apply depends on the item: any builtin score means done
            done_any = set(
                con.execute("SELECT DISTINCT trace_id, span_id FROM evals WHERE judge = 'builtin'").fetchall()
            )
            items = [it for it in items if (it["trace_id"], it["span_id"]) not in done_any]
        else:
            done = {m: _already_scored(con, m, judge.name) for m in metric_names}
            items = [it for it in items if any((it["trace_id"], it["span_id"]) not in done[m] for m in metric_names)]
    report.items = len(items)
    progress = Progress(judge.name, total=len(items) * (1 if judge.builtin else len(metrics) * opts.repeat))
    if on_progress:
        on_progress(progress)  # the total, and which judge, before the first answer
    if judge.builtin:
        rows, cache_rows = _run_builtin(items, metric_names, config, progress, on_progress), []
        report.scored = sum(1 for r in rows if r[4] != "not_applicable")
        report.not_applicable = sum(1 for r in rows if r[4] == "not_applicable")
    else:
        try:
            rows, cache_rows = asyncio.run(_run_judge(items, metrics, judge, opts, con, report, progress, on_progress))
        except JudgeUnreachable as e:
            raise EvalError(str(e)) from None
    _store(con, rows, cache_rows, report.run_id, opts, (judge, report.format_refused))
    _summarise(rows, report, opts.repeat)
    report.elapsed_s = time.perf_counter() - started
    return report


def _store(
    con, rows: list[tuple], cache_rows: list[tuple], run_id: str, opts: EvalOptions, refusal: tuple = (None, None)
) -> None:
    con.execute("BEGIN TRANSACTION")
    try:
        judge, refused = refusal
        if refused:  # remembered per profile: the next run asks this server without response_format
            con.execute(
                "INSERT INTO judge_capabilities VALUES (?, ?, ?, false, ?, now()::TIMESTAMP)",
                [judge.name, judge.base_url, judge.model, refused],
            )
        if rows:
            if opts.rescore:  # the new scores replace the old ones of these items
                keys = pa.table(
                    {
                        "trace_id": [r[0] for r in rows],
                        "span_id": [r[1] for r in rows],
                        "metric": [r[2] for r in rows],
                        "judge": [r[6] for r in rows],
                    }
                )
                con.register("_replaced", keys)
                con.execute("DELETE FROM evals WHERE (trace_id, span_id, metric, judge) IN (SELECT * FROM _replaced)")
                con.unregister("_replaced")
            else:  # this judge's earlier errors for these items are superseded
                keys = pa.table(
                    {
                        "trace_id": [r[0] for r in rows],
                        "span_id": [r[1] for r in rows],
                        "metric": [r[2] for r in rows],
                        "judge": [r[6] for r in rows],
                    }
                )
                con.register("_retried", keys)
                con.execute(
                    "DELETE FROM evals WHERE error IS NOT NULL AND (trace_id, span_id, metric, judge) IN (SELECT * FROM _retried)"
                )
                con.unregister("_retried")
            cols = list(zip(*rows))
            tbl = pa.table({name: pa.array(col, type=t) for (name, t), col in zip(EVAL_FIELDS, cols)})
            con.register("_evals", tbl)
            con.execute(
                """INSERT INTO evals (trace_id, span_id, metric, score, label, passed, judge, explanation,
                               judge_cost_usd, judge_model, judge_input_tokens, judge_output_tokens, prompt_version,
                               error, repeat_index, source, created_at, run_id)
                           SELECT *, now()::TIMESTAMP, ? FROM _evals""",
                [run_id],
            )
            con.unregister("_evals")
        for r in cache_rows:
            con.execute(
                "INSERT INTO eval_cache VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, now()::TIMESTAMP)", list(r)
            )
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise


def _summarise(rows: list[tuple], report: EvalReport, repeat: int) -> None:
    by_metric: dict[str, list[tuple]] = {}
    for r in rows:
        by_metric.setdefault(r[2], []).append(r)
    for metric, rs in by_metric.items():
        scores = [r[3] for r in rs if r[3] is not None]
        passes = [r[5] for r in rs if r[5] is not None]
        report.means[metric] = sum(scores) / len(scores) if scores else None
        report.pass_rates[metric] = sum(passes) / len(passes) if passes else None
        if repeat > 1:
            labels: dict[tuple, set] = {}
            for r in rs:
                if r[13] is None:
                    labels.setdefault((r[0], r[1]), set()).add(r[4])
            judged = [v for v in labels.values() if v]
            report.flip_rates[metric] = sum(1 for v in judged if len(v) > 1) / len(judged) if judged else 0.0


def parse_fail_under(specs: list[str]) -> list[tuple[str, str, float]]:
    """``groundedness=0.8`` (mean score) or ``groundedness.pass_rate=0.9`` -> (metric, stat, threshold)."""
    out = []
    for spec in specs:
        if "=" not in spec:
            raise EvalError(f"--fail-under {spec!r}: write METRIC=VALUE or METRIC.pass_rate=VALUE")
        left, value = spec.split("=", 1)
        metric, _, stat = left.partition(".")
        stat = stat or "mean"
        if stat not in ("mean", "pass_rate"):
            raise EvalError(f"--fail-under {spec!r}: the statistic is mean (default) or pass_rate")
        try:
            out.append((metric, stat, float(value)))
        except ValueError:
            raise EvalError(f"--fail-under {spec!r}: {value!r} is not a number") from None
    return out


def gate(report: EvalReport, rules: list[tuple[str, str, float]]) -> list[str]:
    """The failed gates, one line each (empty: all passed)."""
    failed = []
    for metric, stat, threshold in rules:
        value = (report.means if stat == "mean" else report.pass_rates).get(metric)
        if value is None:
            failed.append(f"{metric} {stat}: no scores to check")
        elif value < threshold:
            failed.append(f"{metric} {stat} {value:.3f} < {threshold:g}")
    return failed
