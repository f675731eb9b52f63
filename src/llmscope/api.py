"""The library API: ``llmscope.open(db) -> Store``; every method returns a typed value or a Result.

    >>> import llmscope
    >>> with llmscope.open("llmscope.duckdb") as store:
    ...     store.ingest(["sample_traces/"])                       # -> IngestReport
    ...     p99 = store.report("latency", by="model").to_polars()  # -> Result -> DataFrame
    ...     errors = store.spans(since="2025-11-12", where="status = 'error'")
    ...     store.sql("select request_model, sum(cost_usd) from spans group by 1").to_dicts()

Keyword arguments have the CLI's names and meanings; ``by`` takes a string or a list, times the
CLI's forms (``2d``, ``2025-11-08``) or ``datetime``. User input is parsed once, here, into typed
values (:class:`~llmscope.query.SpanFilter`, :class:`~llmscope.query.Grouping`); errors are
:class:`~llmscope.errors.LlmscopeError` subclasses. The store is opened for each call (read-only
and sandboxed for reads), so reports run while a collector or an ingest writes between them.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import duckdb

from .config import Config, hallucination_threshold, load_config
from .errors import EvalError, LlmscopeError, QueryError, StoreError
from .query import Grouping, SpanFilter, Where, now_utc, parse_duration, parse_time, positive_int
from .result import Result, of_rows
from .store import connection
from .store.sql import query_arrow, run_read_only

TimeArg = str | datetime | date | None
ByArg = str | Sequence[str] | Grouping | None


def default_annotator() -> str:
    """Who labels: ``$LLMSCOPE_ANNOTATOR``, else the login name."""
    import getpass

    return os.environ.get("LLMSCOPE_ANNOTATOR") or getpass.getuser()


def _split_names(value: str | Sequence[str] | None) -> list[str]:
    if value is None:
        return []
    items = value.split(",") if isinstance(value, str) else list(value)
    return [i.strip() for i in items if i and i.strip()]


# --------------------------------------------------------------------------- engines


class DuckDBEngine:
    """The embedded store: one DuckDB file. Reads open it read-only and sandboxed; writes open it
    read-write (waiting for another writer) and apply pending migrations."""

    name = "duckdb"

    def __init__(self, path: Path):
        self.path = path

    def describe(self) -> str:
        return str(self.path)

    def exists(self) -> bool:
        return self.path.exists()

    @contextlib.contextmanager
    def reader(self, sandbox: bool = True) -> Iterator[duckdb.DuckDBPyConnection]:
        con = connection.connect(self.path, read_only=True, sandbox=sandbox)
        try:
            yield con
        finally:
            con.close()

    @contextlib.contextmanager
    def writer(self, wait_s: float | None = None) -> Iterator[duckdb.DuckDBPyConnection]:
        con = connection.connect(self.path, wait_s=connection.LOCK_WAIT_S if wait_s is None else wait_s)
        try:
            yield con
        finally:
            con.close()


def _clickhouse(url: str) -> Any:
    from .store.clickhouse.engine import engine

    return engine(url)


def _explain_empty(con: Any, flt: SpanFilter, what: str) -> str:
    """Why an answer is empty (the store's time range, a command that shows data)."""
    from . import reports  # the registry imports every analysis: only when one is needed

    return reports.explain_empty(con, flt, what)


# A store address is a path, or SCHEME:REST for another engine: one row per engine.
ENGINES: dict[str, Callable[[str], Any]] = {"chdb": _clickhouse, "clickhouse": _clickhouse, "clickhouses": _clickhouse}


def engine_for(db: str | os.PathLike | None) -> Any:
    text = os.fspath(db) if db is not None else None
    if text and ":" in text and not os.path.exists(text):
        scheme = text.split(":", 1)[0].lower()
        if scheme in ENGINES:
            return ENGINES[scheme](text)
        if len(scheme) > 1 and scheme.isalpha() and "://" in text:
            raise StoreError(f"{text}: unknown store scheme {scheme!r}; give a DuckDB file path")
    path = connection.resolve_db_path(text)
    connection.check_file(path)
    return DuckDBEngine(path)


# --------------------------------------------------------------------------- results of actions


@dataclass
class CheckResult:
    """What ``check`` found: the fired alerts (worst first) and the rules evaluated."""

    alerts: list[Any]
    rules: list[Any]
    at: datetime | None = None
    notes: list[str] = field(default_factory=list)

    def fails(self, fail_on: str = "warning") -> bool:
        from .checks.alerts import fails

        return fails(self.alerts, fail_on)

    def to_result(self) -> Result:
        return of_rows([a.as_dict() for a in self.alerts], "alerts", title=f"{len(self.alerts)} alert(s) fired")


# --------------------------------------------------------------------------- the store


class Store:
    """A trace store: DuckDB file (default) or another engine. Use :func:`open`."""

    def __init__(self, engine: Any, config: str | os.PathLike | None = None):
        self.engine = engine
        self._config_path = config
        self._config: Config | None = None

    # ------------------------------------------------------------------ basics

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Nothing stays open between calls; kept for ``with`` and symmetry."""

    def __repr__(self) -> str:
        return f"<llmscope.Store {self.engine.name}:{self.engine.describe()}>"

    @property
    def path(self) -> Path | None:
        return getattr(self.engine, "path", None)

    @property
    def config(self) -> Config:
        """Settings from ``llmscope.toml`` (or the file given to :func:`open`)."""
        if self._config is None:
            self._config = load_config(self._config_path)
        return self._config

    def _configure_engine(self) -> None:
        if hasattr(self.engine, "context_keys"):  # an engine that maps context keys at query time
            self.engine.context_keys = dict(self.config.context_keys)

    @contextlib.contextmanager
    def _read(self) -> Iterator[Any]:
        self._configure_engine()
        with self.engine.reader() as con:
            try:
                yield con
            except duckdb.Error as e:
                raise QueryError(str(e).splitlines()[0]) from None

    @contextlib.contextmanager
    def _write(self, wait_s: float | None = None) -> Iterator[Any]:
        self._configure_engine()
        with self.engine.writer(wait_s) as con:
            try:
                yield con
            except duckdb.Error as e:
                raise StoreError(f"{self.engine.describe()}: {str(e).splitlines()[0]}") from None

    # ------------------------------------------------------------------ ingest

    def ingest(
        self,
        paths: str | os.PathLike | Sequence[str | os.PathLike],
        *,
        strict: bool = False,
        workers: int | None = None,
        prices: str | os.PathLike | None = None,
        redact: str | None = None,
        hash_content: bool = False,
        full: bool = False,
        user_key: Sequence[str] = (),
        session_key: Sequence[str] = (),
        feature_key: Sequence[str] = (),
        prompt_version_key: Sequence[str] = (),
        on_progress: Callable[[Any], None] | None = None,
    ) -> Any:
        """Load OTLP traces and logs (files, directories, ``-``) in one transaction -> IngestReport.

        >>> report = store.ingest(["sample_traces/"]); report.spans_added, report.bad_records
        """
        from .ingest.pipeline import ingest

        path_list = [os.fspath(paths)] if isinstance(paths, str | os.PathLike) else [os.fspath(p) for p in paths]
        if not path_list:
            raise QueryError("give at least one file or directory", param="paths")
        if workers is not None:
            positive_int(workers, "workers")
        mapping = self._mapping(redact, hash_content, user_key, session_key, feature_key, prompt_version_key)
        user_prices = self._prices(prices)
        if self.path is None:
            raise StoreError(f"{self.engine.describe()}: ingest writes a DuckDB store file")
        # the pipeline opens the file itself: a bulk load tunes its connection (threads, block memory)
        return ingest(
            path_list,
            self.path,
            mapping=mapping,
            strict=strict,
            workers=workers,
            user_prices=user_prices,
            on_progress=on_progress,
            full=full,
        )

    def follow(
        self,
        paths: Sequence[str | os.PathLike],
        every: str = "10s",
        *,
        stop: threading.Event | None = None,
        on_round: Callable[[Any], None] | None = None,
        on_retry: Callable[[LlmscopeError], None] | None = None,
        **ingest_options: Any,
    ) -> None:
        """Ingest what is new in ``paths`` every ``every`` until ``stop`` is set (the store is free between
        rounds). ``on_round`` gets each round's IngestReport; ``on_retry`` a busy store or a missing file
        (rotation), which are retried next round. A bad record under ``strict`` ends the loop."""
        from .errors import InputError, StrictAbort

        if any(os.fspath(p) == "-" for p in paths):
            raise QueryError("follow watches files and directories, not standard input", param="paths")
        interval = parse_duration(every, param="follow").total_seconds()
        stop = stop or threading.Event()
        while not stop.wait(interval):
            try:
                report = self.ingest(list(paths), **ingest_options)
            except StrictAbort:
                raise
            except (StoreError, InputError) as e:
                if on_retry:
                    on_retry(e)
                continue
            if on_round:
                on_round(report)

    def _mapping(self, redact, hash_content, user_key, session_key, feature_key, prompt_version_key):
        from .normalize.builder import Mapping
        from .normalize.privacy import Privacy

        ctx = dict(self.config.context_keys)
        for col, keys in (
            ("user_id", user_key),
            ("session_id", session_key),
            ("feature", feature_key),
            ("prompt_version", prompt_version_key),
        ):
            if keys:
                ctx[col] = list(keys) + ctx.get(col, [])
        return Mapping(ctx, privacy=Privacy.from_settings(redact, hash_content, self.config.raw))

    @staticmethod
    def _prices(prices):
        if not prices:
            return None
        from .store.pricing import load_price_file

        return load_price_file(prices)

    # ------------------------------------------------------------------ questions

    def report(
        self,
        kind: str,
        /,
        *,
        by: ByArg = None,
        since: TimeArg = None,
        until: TimeArg = None,
        where: str | Where | None = None,
        **options: Any,
    ) -> Result:
        """Any report the CLI has: ``summary``, ``latency``, ``errors``, ``cost``, ``drift``, ``agents``,
        ``loops``, ``tools``, ``safety``, ``quality``, ``stats`` (``llmscope.REPORTS`` lists them with their
        options).

        >>> store.report("cost", by=["feature", "prompt_version"], top=10)["top_requests"].to_polars()
        """
        from . import reports  # the registry imports every analysis: on first use

        if kind not in reports.REPORTS:
            raise QueryError(f"{kind!r} is not a report; use one of {', '.join(reports.REPORTS)}", param="kind")
        flt = SpanFilter.of(since, until, where)
        grouping = Grouping.of(by)
        if "hallucination_below" in reports.REPORTS[kind].options() and options.get("hallucination_below") is None:
            options["hallucination_below"] = hallucination_threshold(self.config.raw)  # one setting for all
        with self._read() as con:
            return reports.run(con, kind, flt, grouping, options)

    def spans(
        self,
        *,
        since: TimeArg = None,
        until: TimeArg = None,
        where: str | Where | None = None,
        columns: Sequence[str] | None = None,
        limit: int | None = 10_000,
    ) -> Result:
        """Span rows matching the filter, newest first (``columns`` picks some; ``limit=None``: all).

        >>> store.spans(since="1d", where="status = 'error'", columns=["trace_id", "error_type"])
        """
        from .schema import SPAN_COLUMN_NAMES, SPANS

        cols = list(columns) if columns else [c.name for c in SPANS]
        unknown = [c for c in cols if c not in SPAN_COLUMN_NAMES]
        if unknown:
            raise QueryError(f"{', '.join(unknown)}: not span columns", param="columns")
        if limit is not None:
            positive_int(limit, "limit")
        flt = SpanFilter.of(since, until, where)
        cond, params = flt.sql()
        sql = f"SELECT {', '.join(cols)} FROM spans WHERE {cond} ORDER BY start_time DESC, trace_id, span_id"
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        with self._read() as con:
            res = Result(query_arrow(con, sql, params), "spans", title="Spans")
            if res.num_rows == 0:
                res.notes.append(_explain_empty(con, flt, "spans"))
            return res

    def traces(
        self, *, since: TimeArg = None, until: TimeArg = None, where: str | Where | None = None, limit: int = 50
    ) -> Result:
        """Traces with at least one matching span, newest first: duration, spans, LLM calls, tokens, cost."""
        from .analyses.traces import list_traces

        positive_int(limit, "limit")
        flt = SpanFilter.of(since, until, where)
        with self._read() as con:
            res = Result(
                list_traces(con, flt, limit),
                "traces",
                title="Traces",
                keep=("trace_id", "duration_ms", "root_name", "llm_calls", "cost_usd", "status"),
            )
            if res.num_rows == 0:
                res.notes.append(_explain_empty(con, flt, "traces"))
            return res

    def compare(
        self,
        *,
        baseline: str | tuple | None = None,
        current: str | tuple | None = None,
        by: str | None = None,
        a: str | None = None,
        b: str | None = None,
        since: TimeArg = None,
        until: TimeArg = None,
        where: str | Where | None = None,
        level: float = 0.95,
        resamples: int = 1000,
        seed: int = 0,
    ) -> Result:
        """Baseline against current, metric by metric, with a bootstrap interval over traces and a verdict
        (``better`` / ``worse`` / ``no detectable change`` at ``level``). The sides are two windows
        (``baseline="2025-11-01..2025-11-07", current="2025-11-08..2025-11-14"``) or two values of a column
        (``by="prompt_version", a="v2", b="v3"``; ``since``/``until``/``where`` narrow both).
        ``result.meta["worse"]`` counts the metrics that got worse.

        >>> store.compare(by="prompt_version", a="v2", b="v3").to_polars()
        """
        from .analyses.compare import compare

        if not 0.5 <= level < 1:
            raise QueryError(f"{level!r}: a confidence level in [0.5, 1), e.g. 0.95", param="level")
        positive_int(resamples, "resamples")
        if resamples < 100:
            raise QueryError(f"{resamples}: give at least 100 resamples for an interval", param="resamples")
        positive_int(seed, "seed", zero=True)
        base_side, cur_side = self._compare_sides(baseline, current, by, a, b, since, until, where)
        with self._read() as con:
            tbl, meta = compare(con, base_side, cur_side, level=level, resamples=resamples, seed=seed)
            res = Result(
                tbl,
                "compare",
                title=f"{cur_side.label} against {base_side.label} ({level:.0%} intervals, bootstrap over traces)",
                meta=meta,
                keep=("metric", "change", "verdict"),
            )
            for side, n in ((base_side, meta["baseline_traces"]), (cur_side, meta["current_traces"])):
                if not n:
                    res.notes.append(f"{side.label}: " + _explain_empty(con, side.flt, "traces"))
        return res

    @staticmethod
    def _compare_sides(baseline, current, by, a, b, since, until, where):
        from .analyses.compare import Side

        windows = baseline is not None or current is not None
        values = by is not None or a is not None or b is not None
        if windows and values:
            raise QueryError("compare two windows (baseline, current) or two values (by, a, b), not both", param="by")
        if windows:
            if baseline is None or current is None:
                raise QueryError("give both baseline and current windows (START..END)", param="baseline")
            if since is not None or until is not None:
                raise QueryError("the windows set the time; use where to narrow both sides", param="since")
            from . import reports  # its window parsing; the registry is imported on first use

            shared = Where.parse(where)
            sides = []
            for value, param in ((baseline, "baseline"), (current, "current")):
                lo, hi = reports._window(value, param)
                flt = SpanFilter(lo, hi, shared)
                sides.append(Side(reports._span_text(flt), flt))
            return sides[0], sides[1]
        if by is None or a is None or b is None:
            raise QueryError(
                "give two windows (baseline and current) or a column and two values (by, a, b)", param="baseline"
            )
        grouping = Grouping.of(by)
        if len(grouping) != 1:
            raise QueryError(f"{by!r}: compare by one column", param="by")
        ((name, expr),) = grouping.keys
        shared = SpanFilter.of(since, until, where)
        sides = []
        for value in (a, b):
            cond = f"{expr} = '{str(value).replace(chr(39), chr(39) * 2)}'"
            combined = f"({shared.where_sql}) AND {cond}" if shared.where_sql else cond
            sides.append(Side(f"{name}={value}", SpanFilter(shared.since, shared.until, combined)))
        return sides[0], sides[1]

    def trace(self, trace_id: str, *, content: bool = False) -> Result:
        """One trace's spans in tree order, each with ``depth`` and ``offset_ms``; a unique prefix is enough.
        Prompts and responses only with ``content=True``. ``result.meta["graph"]`` is the agent graph."""
        from .analyses.graph import trace_graph
        from .analyses.traces import find_trace_id, trace_tree

        with self._read() as con:
            ids = find_trace_id(con, trace_id)
            if not ids:
                raise QueryError(f"no trace {trace_id!r} in {self.engine.describe()}", param="trace_id")
            if len(ids) > 1:
                raise QueryError(f"{trace_id!r} matches several traces: {', '.join(ids)}", param="trace_id")
            rows = trace_tree(con, ids[0])
        content_cols = ("input_text", "output_text", "input_messages", "output_messages")
        if not content:
            rows = [{k: v for k, v in r.items() if k not in content_cols} for r in rows]
        res = of_rows(rows, "trace", title=f"trace {ids[0]}", meta={"trace_id": ids[0]})
        res.meta["graph"] = trace_graph(rows)
        return res

    def sql(self, query: str) -> Result:
        """A read-only query over the store's tables (``spans``, ``evals``, ``logs``, ``findings``, …),
        sandboxed: no files, no other databases, no settings.

        >>> store.sql("select request_model, sum(cost_usd) from spans group by 1")
        """
        with self._read() as con:
            return Result(run_read_only(con, query), "sql")

    def stats(self, coverage_limit: int = 30) -> Result:
        """What the store holds: totals, then ``["models"]``, ``["dialects"]``, ``["unmapped_keys"]``."""
        return self.report("stats", coverage_limit=coverage_limit)

    def time_range(self) -> tuple[datetime | None, datetime | None, int]:
        """(first start, last start, spans) of the store."""
        with self._read() as con:
            n, lo, hi = con.execute("SELECT count(*), min(start_time), max(start_time) FROM spans").fetchall()[0]
        return lo, hi, n

    # ------------------------------------------------------------------ scan, eval, check

    def scan(
        self,
        *,
        since: TimeArg = None,
        until: TimeArg = None,
        where: str | Where | None = None,
        rescan: bool = False,
        workers: int | None = None,
        on_progress: Callable[[int, int], None] | None = None,
    ) -> Any:
        """Run the safety scanners over spans not scanned yet -> ScanReport (findings in ``findings``)."""
        from .safety.scan import Policy, scan

        flt = SpanFilter.of(since, until, where)
        if workers is not None:
            positive_int(workers, "workers")
        policy = Policy.from_config(self.config.raw)
        with self._write() as con:
            return scan(con, flt, policy, workers, rescan, on_progress=on_progress)

    def calibrate_injection(
        self,
        labels: str | os.PathLike,
        *,
        location: str = "input",
        target_fpr: float = 0.01,
        write: bool = True,
    ) -> Result:
        """Precision, recall and FPR of the injection detector per threshold on labelled texts (JSONL
        ``text``, ``label``), and the threshold that keeps FPR <= ``target_fpr``; ``write`` sets it in
        ``[scan.injection]`` of the settings file. ``location``: ``input`` or ``document``."""
        from .safety.calibrate import calibrate, load_labels, write_threshold

        try:
            rep = calibrate(load_labels(os.fspath(labels)), location, target_fpr)
        except OSError as e:
            raise QueryError(f"{os.fspath(labels)}: {e.strerror or e}", param="labels") from None
        except ValueError as e:
            raise QueryError(str(e), param="labels") from None
        rows = [dict(r, chosen=r["threshold"] == rep.chosen["threshold"]) for r in rep.table]
        res = of_rows(rows, "calibration", title=f"{rep.n_pos} injections, {rep.n_neg} benign ({location})")
        res.meta.update(threshold=rep.threshold, location=location)
        if write:
            res.meta["written_to"] = write_threshold(os.fspath(self._config_path or "llmscope.toml"), rep)
        return res

    def evaluate(
        self,
        judge: str = "builtin",
        metrics: str | Sequence[str] | None = None,
        *,
        since: TimeArg = None,
        until: TimeArg = None,
        where: str | Where | None = None,
        sample: float | None = None,
        always: str | Where | None = None,
        budget_usd: float | None = None,
        repeat: int = 1,
        rescore: bool = False,
        concurrency: int | None = None,
        dataset: str | os.PathLike | None = None,
        limit: int | None = None,
        fail_under: Sequence[str] = (),
        on_progress: Callable[[Any], None] | None = None,
    ) -> Any:
        """Score LLM calls (or a ``dataset`` JSONL) and store the scores in ``evals`` -> EvalReport.
        ``judge``: ``builtin`` (offline), ``small-model``, ``openai:MODEL``, ``ollama:MODEL`` or a profile.
        ``fail_under``: gates such as ``groundedness=0.8`` (mean) or ``groundedness.pass_rate=0.9``; the
        report's ``failed_gates`` lists those not met (empty: all passed).

        >>> store.evaluate(metrics="groundedness_lexical").means
        """
        from .evals.runner import gate, parse_fail_under, run_eval

        gates = parse_fail_under(list(fail_under))
        j, opts = self._eval_options(
            judge, metrics, since, until, where, sample, always, budget_usd, repeat, rescore, concurrency, dataset, limit
        )  # fmt: skip
        with self._write() as con:
            report = run_eval(con, opts, j, self.config.raw, on_progress)
        report.failed_gates = gate(report, gates)
        return report

    def compare_judges(
        self,
        judges: Sequence[str],
        metrics: str | Sequence[str] | None = None,
        *,
        since: TimeArg = None,
        until: TimeArg = None,
        where: str | Where | None = None,
        sample: float | None = None,
        always: str | Where | None = None,
        on_progress: Callable[[Any], None] | None = None,
    ) -> Result:
        """Two judges on the same sample: agreement (accuracy, Cohen's kappa, Spearman) and cost ratio."""
        from .evals.compare import compare

        if len(judges) != 2:
            raise QueryError("give exactly two judges", param="judges")
        ja, opts = self._eval_options(judges[0], metrics, since, until, where, sample, always)
        jb, _ = self._eval_options(judges[1], metrics, since, until, where, sample, always)
        with self._write() as con:
            rows, _ = compare(con, ja, jb, opts, self.config.raw, on_progress)
        return of_rows(rows, "judge_agreement", title=f"{ja.name} vs {jb.name}")

    def calibrate(
        self,
        labels: str | os.PathLike | None = None,
        judge: str = "small-model",
        *,
        against: str | None = None,
        metric: str | None = None,
        on_progress: Callable[[Any], None] | None = None,
    ) -> Result:
        """Judge human-labelled items and report the judge's agreement with the labels: accuracy, Cohen's
        kappa, Spearman, and ``["per_class"]`` (recall and precision of pass and fail). The labels are a
        JSONL file, or ``against="human"``: the ``annotations`` table ``llmscope annotate`` fills.

        >>> store.calibrate(against="human", judge="small-model").to_polars()
        """
        from .evals.annotations import as_labels
        from .evals.compare import calibrate

        if (labels is None) == (against is None):
            raise QueryError("give a labels file or against='human', one of them", param="labels")
        if against is not None and against != "human":
            raise QueryError(f"{against!r}: calibrate against human (the annotations table)", param="against")
        j, opts = self._eval_options(judge)
        with self._write() as con:
            source = os.fspath(labels) if labels is not None else as_labels(con, metric)
            rows, _ = calibrate(con, j, source, opts, self.config.raw, on_progress)
        per_class = [dict(metric=r["metric"], judge=j.name, **c) for r in rows for c in r.pop("per_class")]
        res = of_rows(rows, "calibration", title=f"{j.name} vs human labels")
        res.others["per_class"] = of_rows(per_class, "per_class", title="Per class (the human's verdict)")
        return res

    def annotation_queue(
        self,
        n: int = 20,
        *,
        metric: str = "groundedness",
        annotator: str | None = None,
        since: TimeArg = None,
        until: TimeArg = None,
        where: str | Where | None = None,
    ) -> Result:
        """The ``n`` LLM calls to label, the same on every run (a hash of the trace id orders them): question,
        answer, retrieved context, the judges' verdicts for ``metric``, and this annotator's label so far
        (``my_label``, ``my_rating``, ``my_note``)."""
        from .evals.annotations import sample

        positive_int(n, "sample")
        with self._write() as con:  # labels follow: the annotations table must exist
            flt = SpanFilter.of(since, until, where)
            res = of_rows(
                sample(con, flt, n, metric, annotator or default_annotator()), "annotation_queue", title="To label"
            )
            if res.num_rows == 0:
                res.notes.append(_explain_empty(con, flt, "LLM calls with an answer"))
        return res

    def annotate(
        self,
        trace_id: str,
        span_id: str,
        *,
        metric: str = "groundedness",
        annotator: str | None = None,
        label: str | None = None,
        rating: int | None = None,
        note: str | None = None,
    ) -> None:
        """Record a human label in ``annotations``: ``label`` pass/fail, a 1-5 ``rating``, a ``note``; merged
        with this annotator's earlier label of the item (who and when are recorded)."""
        from .evals.annotations import record

        if label not in (None, "pass", "fail"):
            raise QueryError(f"{label!r}: the label is pass or fail", param="label")
        if rating is not None and (isinstance(rating, bool) or rating not in (1, 2, 3, 4, 5)):
            raise QueryError(f"{rating!r}: a rating is 1 to 5", param="rating")
        with self._write() as con:
            record(con, trace_id, span_id, metric, annotator or default_annotator(), label, rating, note)

    def benchmark_judges(self, judges: str | Sequence[str], labels: str | os.PathLike, *, repeat: int = 2) -> Result:
        """Score human-labelled items (JSONL: input, output, context, metric, label) with each judge:
        accuracy, balanced accuracy, Cohen's kappa, flip rate over ``repeat`` uncached requests, errors,
        cost and latency per item; ``["confusion"]`` (expected x predicted) and ``["per_class"]`` (recall,
        precision). Nothing is written to the store.

        >>> store.benchmark_judges("small-model,openai:gpt-4o-mini", "labels.jsonl").to_polars()
        """
        from .evals import judges as judges_mod
        from .evals.benchmark import benchmark

        names = _split_names(judges)
        if not names:
            raise QueryError("give at least one judge", param="judge")
        positive_int(repeat, "repeat")
        resolved = [judges_mod.resolve(n, self.config.raw) for n in names]
        rows, confusion, per_class = benchmark(resolved, os.fspath(labels), repeat, self.config.raw)
        res = of_rows(
            rows,
            "judge_benchmark",
            title=f"{len(resolved)} judge(s) on {os.fspath(labels)} ({repeat} request(s) per item)",
            keep=("judge", "metric", "balanced_accuracy", "cohen_kappa", "cost_per_item_usd"),
        )
        res.others["confusion"] = of_rows(confusion, "confusion", title="Confusion (first request)")
        res.others["per_class"] = of_rows(per_class, "per_class", title="Per class")
        return res

    def _eval_options(
        self,
        judge: str,
        metrics: str | Sequence[str] | None = None,
        since: TimeArg = None,
        until: TimeArg = None,
        where: str | Where | None = None,
        sample: float | None = None,
        always: str | Where | None = None,
        budget_usd: float | None = None,
        repeat: int = 1,
        rescore: bool = False,
        concurrency: int | None = None,
        dataset: str | os.PathLike | None = None,
        limit: int | None = None,
    ):
        from .evals import judges
        from .evals.runner import EvalOptions

        if sample is not None and (sample <= 0 or (sample > 1 and sample != int(sample))):
            raise QueryError(f"{sample!r}: a share in (0, 1] (0.2) or a whole count (200)", param="sample")
        if budget_usd is not None and budget_usd <= 0:
            raise QueryError(f"{budget_usd!r}: give dollars > 0", param="budget_usd")
        positive_int(repeat, "repeat")
        for name, value in (("concurrency", concurrency), ("limit", limit)):
            if value is not None:
                positive_int(value, name)
        metric_list = [m.strip() for m in metrics.split(",") if m.strip()] if isinstance(metrics, str) else metrics
        j = judges.resolve(judge, self.config.raw)
        if j.api_key_env and not j.api_key:  # said before any work, not as N connection errors after it
            raise EvalError(
                f"judge {j.name} needs an API key: {j.api_key_env} is not set in the environment "
                "(set it, or use --judge builtin: offline, no key)"
            )
        always_where = Where.parse(always, param="always")
        opts = EvalOptions(
            judge=judge,
            metrics=list(metric_list) if metric_list else None,
            flt=SpanFilter.of(since, until, where),
            sample=sample,
            always=always_where.sql if always_where else None,
            budget_usd=budget_usd,
            repeat=repeat,
            rescore=rescore,
            concurrency=concurrency,
            dataset=os.fspath(dataset) if dataset else None,
            limit=limit,
        )
        return j, opts

    def export_dataset(
        self,
        path: str | os.PathLike,
        *,
        since: TimeArg = None,
        until: TimeArg = None,
        where: str | Where | None = None,
        reasons: str | Sequence[str] | None = None,
        score_below: float = 0.6,
        redact: bool = True,
        limit: int | None = None,
        append: bool = False,
    ) -> Any:
        """Write the failing or borderline LLM calls as a regression dataset (the JSONL ``eval --dataset``
        reads) -> DatasetReport. ``reasons``: some of ``low_score`` (failed, or scored below
        ``score_below``), ``hallucination``, ``finding``, ``error``, ``loop`` (default all). Items are
        de-duplicated by content and PII-redacted unless ``redact=False``; the first line records how the
        file was made. ``append=True`` adds only items the file does not hold yet (``dataset add``).

        >>> store.export_dataset("regression.jsonl", since="7d", reasons=["hallucination", "finding"]).written
        """
        from .evals import dataset

        chosen = tuple(_split_names(reasons) or dataset.REASONS)
        dataset.check_reasons(chosen)
        if not 0 <= score_below <= 1:
            raise QueryError(f"{score_below!r}: scores are 0..1", param="score_below")
        if limit is not None:
            positive_int(limit, "limit")
        opts = dataset.DatasetOptions(SpanFilter.of(since, until, where), chosen, score_below, redact, limit)
        with self._read() as con:
            run = dataset.add if append else dataset.export
            try:
                rep = run(con, path, opts, self.engine.describe())
            except OSError as e:
                raise QueryError(f"{os.fspath(path)}: {e.strerror or e}", param="path") from None
            if not rep.candidates:
                rep.header["empty_because"] = _explain_empty(con, opts.flt, "failing or borderline calls")
        return rep

    def check(self, rules: str | os.PathLike | None = None, *, at: TimeArg = None) -> CheckResult:
        """Evaluate alert rules (``rules`` file, else the ``[[alerts]]`` of llmscope.toml) as of ``at``."""
        return self._check_once(self._rules(rules), at, {}, None)[0]

    def watch(
        self,
        rules: str | os.PathLike | None = None,
        *,
        every: str = "5m",
        notify: str | None = None,
        runs: int | None = None,
        at: TimeArg = None,
        stop: threading.Event | None = None,
        on_round: Callable[[CheckResult], None] | None = None,
    ) -> CheckResult:
        """Evaluate every ``every`` (``runs`` times, or until ``stop``); POST fired and resolved alerts
        to ``notify``. Returns the last round's result."""
        interval = parse_duration(every, param="every").total_seconds()
        if runs is not None:
            positive_int(runs, "runs")
        rule_list = self._rules(rules)
        stop = stop or threading.Event()
        firing: dict = {}
        n = 0
        while True:
            result, firing = self._check_once(rule_list, at, firing, notify)
            n += 1
            if on_round:
                on_round(result)
            if (runs is not None and n >= runs) or stop.wait(interval):
                return result

    def _rules(self, rules: str | os.PathLike | None) -> list:
        from .checks.alerts import load_rules

        rule_list = load_rules(rules or self._config_path or "llmscope.toml")
        if not rule_list:
            raise QueryError("no [[alerts]] rules found: add some to llmscope.toml or pass --rules FILE", param="rules")
        for rule in rule_list:
            if rule.kind == "hallucination_rate":  # one hallucination threshold for every command
                rule.options.setdefault("below", hallucination_threshold(self.config.raw))
        return rule_list

    def _check_once(self, rule_list: list, at: TimeArg, firing: dict, notify: str | None) -> tuple[CheckResult, dict]:
        from .checks.alerts import watch_once

        when = parse_time(at, param="at") if at is not None else None
        with self._read() as con:
            fired, firing = watch_once(con, rule_list, firing, notify, when)
            result = CheckResult(fired, rule_list, when)
            if not fired:
                n, lo, hi = con.execute("SELECT count(*), min(start_time), max(start_time) FROM spans").fetchall()[0]
                moment = when or now_utc()
                if not n:
                    result.notes.append("the store is empty: no rule had data to check (run `llmscope ingest`)")
                elif moment > hi + max((r.window for r in rule_list), default=None) or moment < lo:
                    result.notes.append(
                        f"no data in the rules' windows at {moment:%Y-%m-%d %H:%M}: the store holds "
                        f"{lo:%Y-%m-%d %H:%M} … {hi:%Y-%m-%d %H:%M} (try --at {hi:%Y-%m-%dT%H:%M})"
                    )
        return result, firing

    # ------------------------------------------------------------------ maintenance

    def prune(self, older_than: str | datetime | date, *, content_only: bool = False, dry_run: bool = False) -> dict:
        """Delete spans older than a cut-off (or only their content) and rewrite the file so it is gone
        from disk; ``dry_run=True`` says what would go (spans, bytes, time range) and changes nothing."""
        from .store.retention import prune, prune_plan

        cutoff = parse_time(older_than, param="older_than")
        if dry_run:
            with self._read() as con:
                return prune_plan(con, cutoff, content_only)
        path = self.path
        if path is None:
            raise StoreError("prune works on a DuckDB store file")
        try:
            return prune(path, cutoff, content_only)
        except duckdb.Error as e:
            raise StoreError(f"{path}: {str(e).splitlines()[0]}") from None

    def reprice(self, prices: str | os.PathLike | None = None) -> dict:
        """Recompute every span's cost from today's price tables (and ``prices``), without re-ingesting."""
        from .store.reprice import reprice

        user_prices = self._prices(prices)
        with self._write() as con:
            return reprice(con, user_prices)

    def export_parquet(self, out_dir: str | os.PathLike) -> dict[str, int]:
        """Write ``spans`` and ``evals`` as Hive-partitioned Parquet (``spans/date=YYYY-MM-DD/…``)."""
        from .store.export import export_parquet

        with self.engine.reader(sandbox=False) as con:  # COPY writes the files
            return export_parquet(con, out_dir)

    def export_clickhouse(self, url: str) -> dict[str, int]:
        """Write the spans and log-borne messages into an exporter-shaped ``otel_traces`` / ``otel_logs`` at
        ``url`` (``clickhouse://…`` or ``chdb:DIR``), so ``llmscope.open(url)`` gives the same reports.
        Tables are created where missing; spans already there are not written twice -> counts written."""
        from .store.clickhouse.engine import ClickHouseEngine
        from .store.clickhouse.export import export

        target = engine_for(url)
        if not isinstance(target, ClickHouseEngine):
            raise QueryError(
                f"{url}: give a ClickHouse address (clickhouse://…, clickhouses://… or chdb:DIR)", param="url"
            )
        if self.path is None:
            raise StoreError(f"{self.engine.describe()}: export clickhouse reads a DuckDB store file")
        with self.engine.reader(sandbox=False) as con:
            return export(con, target)

    def collector(self, **options: Any) -> Any:
        """An OTLP receiver writing into this store (``host``, ``port``, ``token``, ``flush_seconds``,
        ``flush_spans``, ``redact``, ``hash_content``): ``.serve_forever()``, ``.start()``, ``.stop()``."""
        from .collect.server import Collector, CollectorConfig

        redact, hash_content = options.pop("redact", None), options.pop("hash_content", False)
        mapping = self._mapping(redact, hash_content, (), (), (), ())
        return Collector(CollectorConfig(db=str(self.path) if self.path else None, mapping=mapping, **options))


def open(db: str | os.PathLike | None = None, *, config: str | os.PathLike | None = None) -> Store:  # noqa: A001
    """Open a store: a DuckDB file path (default ``$LLMSCOPE_DB`` or ``./llmscope.duckdb``; created by
    the first write). ``config``: a settings file (default ``./llmscope.toml`` if present).

    >>> with llmscope.open("llmscope.duckdb") as store:
    ...     store.report("latency", by="model", since="2d").to_polars()
    """
    return Store(engine_for(db), config)


__all__ = ["CheckResult", "DuckDBEngine", "ENGINES", "Store", "open", "parse_duration"]
