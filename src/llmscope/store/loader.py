"""Loading normalized batches into ``spans`` and ``logs``: one transaction, idempotent (a span is
keyed by ``trace_id, span_id``), priced, each span given its trace's context."""

from __future__ import annotations

import contextlib
import os
import uuid
from dataclasses import dataclass, field

import duckdb
import pyarrow as pa

from .. import schema
from ..errors import StoreError
from ..normalize import dialects as D
from ..normalize.builder import LOG_SCHEMA
from . import pricing
from .sql import with_table


@dataclass
class LoadResult:
    run_id: str
    spans_read: int = 0
    spans_added: int = 0
    duplicates: int = 0
    log_messages_added: int = 0
    evaluations_added: int = 0  # gen_ai.evaluation.result events stored as external scores in evals
    evaluations_waiting: int = 0  # ... naming a response id no span in the store has (yet): kept, tried again
    spans_given_log_content: int = 0
    spans_given_context: int = 0
    unpriced: int = 0
    sources: list[str] = field(default_factory=list)


# DuckDB returns the memory of every row group it writes to the OS and faults fresh pages in for
# the next (a tenth of the writer's time went to page faults). Its block allocator keeps up to this
# much mapped for reuse instead: measured 2-5% faster bulk ingest, peak memory unchanged. The memory
# is never given back while the database is open, so only a connection that closes after its
# load (a CLI ingest) asks for it.
BLOCK_ALLOCATOR_MEMORY = "1GB"


def reuse_block_memory(con: duckdb.DuckDBPyConnection) -> None:
    try:
        con.execute(f"SET block_allocator_memory = '{BLOCK_ALLOCATOR_MEMORY}'")
    except duckdb.Error:  # a DuckDB without the setting, or one already set larger: nothing to gain
        pass


# How the store derives what a normalized batch does not carry as such (every other column is copied).
_LOAD_EXPRESSIONS = {
    "start_time": "make_timestamp(start_ns // 1000)",
    "end_time": "make_timestamp(end_ns // 1000)",
    "duration_ms": "(end_ns - start_ns) / 1e6",
    "total_tokens": "coalesce(total_tokens, CASE WHEN input_tokens IS NOT NULL OR output_tokens IS NOT NULL "
    "THEN TRY(coalesce(input_tokens, 0) + coalesce(output_tokens, 0)) END)",  # TRY: counts near 2^63 overflow
    "ingested_at": "$1",
}  # cost_usd and price_version come from _derive_and_merge under their own names


# Inside a load, batches reach SQL through sql.with_table (a relation named for one statement), never
# con.register: a registered view dropped inside the load's transaction stays in the catalog until
# commit and keeps its Arrow batch alive with it (measured: 4.3 GB for a million spans, 7.9 GB for two).
class Loader:
    """Moves normalized batches into ``spans`` as they arrive, inside one transaction.

    Usage::

        with Loader(con) as load:
            load.add(span_batch, log_batch)
        load.result

    Batches are pooled (``FLUSH_ROWS``), then one narrow SQL query decides which rows are new
    (de-duplicated against themselves and the store), prices them and gives each span its trace's
    user/session/feature/prompt version; the wide rows go in with one plain INSERT. Writes overlap
    the decoding of the next batches. Leaving the block with an exception rolls everything back:
    the store keeps all of an ingest or none of it.
    """

    def __init__(self, con: duckdb.DuckDBPyConnection, user_prices: list[pricing.UserPrice] | None = None):
        self.con = con
        self.user_prices = user_prices
        self.result = LoadResult(run_id=uuid.uuid4().hex[:12])
        self.bad_records = 0  # set by the caller, recorded in ingest_runs
        self._started = None
        self._rates: RateCache | None = None
        self._pending: list[pa.RecordBatch] = []
        self._pending_rows = 0

    # A big ingest is one transaction; without a cap DuckDB holds all of it in memory until commit
    # (measured: 6 GB for a million RAG spans). Under a cap it writes row groups out as it goes.
    MEMORY_LIMIT = os.environ.get("LLMSCOPE_MEMORY_LIMIT", "2GB")

    def __enter__(self) -> Loader:
        con = self.con
        con.execute(f"SET memory_limit = '{self.MEMORY_LIMIT}'")
        con.execute("BEGIN TRANSACTION")
        self._started = con.execute("SELECT now()::TIMESTAMP").fetchall()[0][0]  # = ingested_at of this load
        cols = ", ".join(f'"{f.name}" {_duck_type(f.type)}' for f in LOG_SCHEMA)
        con.execute(f"CREATE OR REPLACE TEMP TABLE _stage_logs ({cols})")
        if self.user_prices:
            save_user_prices(con, self.user_prices)
        self._rates = RateCache(con, load_user_prices(con))
        return self

    # Each DuckDB statement costs a few ms whatever its size, so small batches are pooled first
    # (measured: 2,300-row batches spent 3x more per row than 33,000-row ones).
    FLUSH_ROWS = 50_000

    def add(self, spans: pa.RecordBatch | None, logs: pa.RecordBatch | None = None) -> bool:
        """Pool a batch of spans (written at the next flush) and stage log messages (copied now).
        True if this call flushed: every span batch added so far is in the store."""
        con = self.con
        flushed = False
        if spans is not None and spans.num_rows:
            self.result.spans_read += spans.num_rows
            self._pending.append(spans)
            self._pending_rows += spans.num_rows
            if self._pending_rows >= self.FLUSH_ROWS:
                self._flush()
                flushed = True
        if logs is not None and logs.num_rows:
            with_table(con, "staged_logs", logs, "INSERT INTO _stage_logs SELECT * FROM staged_logs")
        return flushed

    def _flush(self) -> None:
        if not self._pending:
            return
        spans = pa.Table.from_batches(self._pending)  # chunked, not combined: DuckDB scans the chunks in place
        self._pending, self._pending_rows = [], 0
        self._rates.cover(spans)
        batch = _derive_and_merge(self.con, spans)
        if batch.num_rows:
            insert = _INSERT_SQL.replace("$1", _timestamp_literal(self._started))
            self.result.spans_added += with_table(self.con, "batch", batch, insert).fetchall()[0][0]

    def __exit__(self, exc_type, exc, tb) -> None:
        con = self.con
        try:
            if exc_type is not None:
                self._pending = []
                rollback(con)
                if isinstance(exc, WRITE_ERRORS):
                    raise write_error(con, exc) from None
                return
            try:
                self._finish()
            except WRITE_ERRORS as e:
                rollback(con)
                raise write_error(con, e) from None
            except BaseException:
                rollback(con)
                raise
            try:
                con.execute("COMMIT")
            except duckdb.Error as e:  # a commit only writes: whatever stops it is the disk's doing
                rollback(con)
                raise write_error(con, e) from None
        finally:
            with contextlib.suppress(duckdb.Error):  # a temp table; after a fatal error there is none to drop
                con.execute("DROP TABLE IF EXISTS _stage_logs")
            if self._rates is not None:
                with contextlib.suppress(duckdb.Error):
                    self._rates.close()

    def _finish(self) -> None:
        con, r = self.con, self.result
        self._flush()
        r.duplicates = r.spans_read - r.spans_added
        r.spans_given_context = inherit_trace_context(con, self._started)
        r.evaluations_added, r.evaluations_waiting = load_evaluations(con, r.run_id)
        # Log-borne messages: add the new ones, then give their spans (old or new) the content.
        r.log_messages_added = con.execute("""
        INSERT INTO logs
        SELECT DISTINCT ON (trace_id, span_id, time_ns, event_name, message) l.*, now()::TIMESTAMP FROM _stage_logs l
        WHERE NOT EXISTS (SELECT 1 FROM logs o WHERE o.trace_id = l.trace_id AND o.span_id = l.span_id
                          AND o.time_ns IS NOT DISTINCT FROM l.time_ns AND o.event_name = l.event_name
                          AND o.message = l.message)
        """).fetchall()[0][0]
        r.spans_given_log_content = attach_log_content(con, since=self._started)
        r.unpriced = con.execute(
            """
            SELECT count(*) FROM spans WHERE ingested_at = ? AND span_type IN ('llm', 'embedding')
            AND (input_tokens IS NOT NULL OR output_tokens IS NOT NULL) AND cost_usd IS NULL""",
            [self._started],
        ).fetchall()[0][0]
        r.sources = [
            x[0]
            for x in con.execute(
                "SELECT DISTINCT source FROM spans WHERE ingested_at = ? ORDER BY 1", [self._started]
            ).fetchall()
            if x[0]
        ]
        con.execute(
            "INSERT INTO ingest_runs VALUES (?, ?, now()::TIMESTAMP, ?, ?, ?, ?, ?, ?)",
            [
                r.run_id,
                self._started,
                r.sources,
                r.spans_read,
                r.spans_added,
                r.duplicates,
                self.bad_records,
                r.log_messages_added,
            ],
        )


# What the disk (full, read-only, failing) or memory makes a write raise: the load is rolled back and
# the cause said in one line, as a StoreError.
WRITE_ERRORS = (duckdb.IOException, duckdb.OutOfMemoryException, duckdb.FatalException)


def rollback(con: duckdb.DuckDBPyConnection) -> None:
    """Roll back the load's transaction. A failed write (a full disk) may have ended it already: then
    DuckDB's "cannot rollback - no transaction is active" would only hide the real error."""
    with contextlib.suppress(duckdb.Error):
        con.execute("ROLLBACK")


def write_error(con: duckdb.DuckDBPyConnection, e: duckdb.Error) -> StoreError:
    """One line: which store could not be written, and DuckDB's cause (which names the file it failed on)."""
    path = "the store"
    with contextlib.suppress(duckdb.Error, IndexError):
        path = con.execute("SELECT path FROM duckdb_databases() WHERE database_name = current_database()").fetchall()[
            0
        ][0]
    cause = str(e).splitlines()[0] if str(e) else type(e).__name__
    for wrapper in ("TransactionContext Error: ", "Failed to commit: "):  # DuckDB's, around the OS's reason
        cause = cause.removeprefix(wrapper)
    return StoreError(f"cannot write {path}: {cause}; nothing of this load was stored")


_CTX = D.TRACE_INHERITED
_TRACE_LEVEL = D.TRACE_LEVEL  # the trace's value wins over the span's own


def _ctx_value(c: str, span: str, trace: str) -> str:
    return f"coalesce({trace}.{c}, {span}.{c})" if c in _TRACE_LEVEL else f"coalesce({span}.{c}, {trace}.{c})"


# Columns the per-batch SQL needs; the wide ones (text, messages, attributes) never enter a join.
_NARROW = (
    "trace_id",
    "span_id",
    "parent_span_id",
    "start_ns",
    "span_type",
    "provider",
    "request_model",
    "response_model",
    "input_tokens",
    "output_tokens",
    "cache_read_tokens",
    "cache_write_tokens",
) + _CTX

# Only model calls are priced (as reprice and the ClickHouse relation do): a span around one (the Vercel
# AI SDK's ai.embed) can share its provider and model, and so its rate row, without being a call.
_PRICED = (
    "CASE WHEN s.span_type IN ('llm', 'embedding') AND (s.input_tokens IS NOT NULL OR s.output_tokens IS NOT NULL)"
)

# Per batch, on the narrow columns only: which rows are new (not twice in the batch, not already in
# the store; the time range lets DuckDB skip row groups by zone map), their cost from the rate table,
# and each span's trace context (root span first, then the earliest span that has it).
# Joins over wide rows cost ~30% of the load each (measured), hence this split.
_DERIVE_SQL = f"""
WITH b AS (
    SELECT * FROM narrow {{dedupe}}
),
fresh AS (
    SELECT b.* FROM b ANTI JOIN (
        SELECT trace_id, span_id FROM spans WHERE start_time BETWEEN make_timestamp($1) AND make_timestamp($2)
    ) old USING (trace_id, span_id)
),
ctx AS (
    SELECT trace_id,
        {", ".join(f"first({c} ORDER BY parent_span_id IS NOT NULL, start_ns) FILTER (WHERE {c} IS NOT NULL) AS {c}" for c in _CTX)}
    FROM fresh GROUP BY trace_id
),
s AS (
    SELECT f.* EXCLUDE ({", ".join(_CTX)}), make_timestamp(f.start_ns // 1000) AS start_time,
           {", ".join(f"{_ctx_value(c, 'f', 'ctx')} AS {c}" for c in _CTX)}
    FROM fresh f LEFT JOIN ctx USING (trace_id)
)
SELECT s._row, {_PRICED} THEN {pricing.COST_EXPR} END AS cost_usd, {_PRICED} THEN r.price_version END AS price_version,
       {", ".join(f"s.{c}" for c in _CTX)}
FROM s {pricing.RATE_JOIN}
ORDER BY s._row
"""
# The same span twice in one batch is rare; only then pay for the window.
_DERIVE = {
    False: _DERIVE_SQL.format(dedupe=""),
    True: _DERIVE_SQL.format(dedupe="QUALIFY row_number() OVER (PARTITION BY trace_id, span_id ORDER BY _row) = 1"),
}

_INSERT_SQL = (
    f"INSERT INTO spans ({', '.join(c.name for c in schema.SPANS)})\n"
    f"SELECT {', '.join(_LOAD_EXPRESSIONS.get(c.name, c.name) for c in schema.SPANS)}\nFROM batch"
)


def _timestamp_literal(ts) -> str:
    return f"TIMESTAMP '{ts.isoformat(sep=' ')}'"  # a datetime of our own (now() at the load's start)


def _derive_and_merge(con: duckdb.DuckDBPyConnection, spans: pa.Table) -> pa.Table:
    """The batch's new rows, with cost, price version and trace context filled in."""
    n = spans.num_rows
    narrow = spans.select(list(_NARROW)).append_column("_row", pa.array(range(n), pa.int64()))
    lo, hi, dupes = with_table(
        con,
        "narrow",
        narrow,
        "SELECT min(start_ns), max(start_ns), count(*) > count(DISTINCT (trace_id, span_id)) FROM narrow",
    ).fetchall()[0]
    # the time range lets DuckDB skip row groups by zone map; integers of our own, inlined
    sql = _DERIVE[dupes].replace("$1", str(int(lo) // 1000)).replace("$2", str(int(hi) // 1000))
    rel = with_table(con, "narrow", narrow, sql)
    derived = (getattr(rel, "to_arrow_table", None) or rel.arrow)()
    if derived.num_rows == 0:
        return spans.slice(0, 0)
    # all rows new (the usual case) come back in order; otherwise keep only the new ones
    wide = spans if derived.num_rows == n else spans.take(derived.column("_row").combine_chunks())
    derived = derived.combine_chunks()  # narrow: cheap; aligns its chunks with nothing in particular
    wide = wide.combine_chunks() if wide.num_rows != n else wide
    for c in _CTX:
        wide = wide.set_column(wide.schema.get_field_index(c), c, _rechunk(derived.column(c), wide))
    wide = wide.append_column("cost_usd", _rechunk(derived.column("cost_usd"), wide))
    return wide.append_column("price_version", _rechunk(derived.column("price_version"), wide))


def _rechunk(col: pa.ChunkedArray, like: pa.Table) -> pa.ChunkedArray:
    """Split a column into the chunk lengths of ``like`` so the table stays chunked without copying it."""
    arr = col.combine_chunks()
    out, pos = [], 0
    for chunk in like.column(0).chunks:
        out.append(arr.slice(pos, len(chunk)))
        pos += len(chunk)
    return pa.chunked_array(out, type=arr.type)


def inherit_trace_context(con: duckdb.DuckDBPyConnection, since) -> int:
    """Give the traces touched since ``since`` one context: a span without a user/session/feature/
    prompt version takes its trace's (the root's value first, else the earliest span's), and
    user and session are the trace's on every span (``D.TRACE_LEVEL``). Batches do this
    themselves; this catches traces split across batches or ingests."""
    first = ", ".join(
        f"first({c} ORDER BY parent_span_id IS NOT NULL, start_time) FILTER (WHERE {c} IS NOT NULL) AS {c}"
        for c in _CTX
    )
    # Cheap aggregates over the new spans find the traces that need anything, plus every trace
    # that also has older spans; only those pay for the ordered first(). (Grouping every span of
    # every touched trace instead took 0.44 s a million new spans, against 0.16 s.)
    needs = " OR ".join(
        [f"(count({c}) > 0 AND count({c}) < count(*))" for c in _CTX] + [f"min({c}) <> max({c})" for c in _TRACE_LEVEL]
    )
    con.execute(
        f"""
    CREATE OR REPLACE TEMP TABLE _trace_ctx AS
    WITH new AS (
        SELECT trace_id FROM spans WHERE ingested_at >= $1 GROUP BY trace_id HAVING {needs}
    ), older AS (
        SELECT DISTINCT trace_id FROM spans
        WHERE ingested_at < $1 AND trace_id IN (SELECT trace_id FROM spans WHERE ingested_at >= $1)
    ), touched AS (
        SELECT trace_id FROM new UNION SELECT trace_id FROM older
    )
    SELECT trace_id, {first} FROM spans WHERE trace_id IN (SELECT trace_id FROM touched) GROUP BY trace_id
    """,
        [since],
    )
    fill = " OR ".join(
        f"(t.{c} IS NOT NULL AND spans.{c} IS DISTINCT FROM t.{c})"
        if c in _TRACE_LEVEL
        else f"(spans.{c} IS NULL AND t.{c} IS NOT NULL)"
        for c in _CTX
    )
    n = con.execute(f"""
    UPDATE spans SET {", ".join(f"{c} = {_ctx_value(c, 'spans', 't')}" for c in _CTX)}
    FROM _trace_ctx t WHERE spans.trace_id = t.trace_id AND ({fill})
    """).fetchall()[0][0]
    con.execute("DROP TABLE _trace_ctx")
    return n


class RateCache:
    """Per-token rates for every (provider, model, day) seen so far, registered as ``_rates``.

    New keys are priced as batches bring them (a handful per ingest), so costing stays one join.
    """

    def __init__(self, con: duckdb.DuckDBPyConnection, user_prices: list[pricing.UserPrice]):
        self.con = con
        self.user_prices = user_prices
        self.seen: set[tuple] = set()
        self.tables: list[pa.Table] = [pricing.rate_table([], user_prices)]
        con.register("_rates", self.tables[0])

    def cover(self, spans: pa.Table) -> None:
        columns = [
            "provider",
            "request_model",
            "response_model",
            "start_ns",
            "span_type",
            "input_tokens",
            "output_tokens",
        ]
        keys = with_table(
            self.con,
            "priced",
            spans.select(columns),
            """
            SELECT DISTINCT provider, request_model, response_model, CAST(make_timestamp(start_ns // 1000) AS DATE)
            FROM priced WHERE span_type IN ('llm', 'embedding') AND (input_tokens IS NOT NULL OR output_tokens IS NOT NULL)
        """,
        ).fetchall()
        self.add_keys(keys)

    def add_keys(self, keys: list[tuple]) -> None:
        """Price (provider, request_model, response_model, day) keys not seen yet."""
        new = [k for k in keys if k not in self.seen]
        if not new:
            return
        self.seen.update(new)
        self.tables.append(pricing.rate_table(new, self.user_prices))
        self.con.unregister("_rates")
        self.con.register("_rates", pa.concat_tables(self.tables))

    def close(self) -> None:
        try:
            self.con.unregister("_rates")
        except duckdb.Error:
            pass


def _duck_type(t: pa.DataType) -> str:
    if isinstance(t, pa.JsonType):
        return "JSON"
    return {
        pa.string(): "VARCHAR",
        pa.int64(): "BIGINT",
        pa.int32(): "INTEGER",
        pa.float64(): "DOUBLE",
        pa.bool_(): "BOOLEAN",
    }[t]


# gen_ai.evaluation.result events staged as log rows (builder.add_evaluation): each finds its span by id, or by
# the gen_ai.response.id it names (spans of this load or earlier ones), and is added once to evals. One whose
# response no span has yet waits in `logs` (ids '') and is tried again by every later load: its span may come later.
_PENDING_EVALUATIONS_SQL = """
INSERT INTO _stage_logs SELECT * EXCLUDE (ingested_at) FROM logs WHERE event_name = $event AND trace_id = '';
DELETE FROM logs WHERE event_name = $event AND trace_id = '';
"""

_EVALUATIONS_SQL = """
CREATE OR REPLACE TEMP TABLE _stage_evals AS
WITH wanted AS (
    SELECT DISTINCT json_extract_string(message, '$.response_id') AS response_id FROM _stage_logs
    WHERE event_name = $event AND trace_id = ''
), by_response AS (
    SELECT response_id, arg_min(trace_id, start_time) AS trace_id, arg_min(span_id, start_time) AS span_id
    FROM spans WHERE response_id IN (SELECT response_id FROM wanted) GROUP BY response_id
)
SELECT DISTINCT ON (l.trace_id, l.span_id, l.time_ns, CAST(l.message AS VARCHAR))
       l.* EXCLUDE (trace_id, span_id),
       coalesce(nullif(l.trace_id, ''), r.trace_id) AS trace_id, coalesce(nullif(l.span_id, ''), r.span_id) AS span_id,
       make_timestamp(l.time_ns // 1000) AS created_at
FROM _stage_logs l
LEFT JOIN by_response r ON l.trace_id = '' AND r.response_id = json_extract_string(l.message, '$.response_id')
WHERE l.event_name = $event
"""

_INSERT_EVALUATIONS_SQL = """
INSERT INTO evals (trace_id, span_id, metric, score, label, passed, judge, explanation, created_at, run_id, error,
                   repeat_index, source)
SELECT trace_id, span_id, json_extract_string(message, '$.metric'),
       TRY_CAST(json_extract_string(message, '$.score') AS DOUBLE), json_extract_string(message, '$.label'),
       CASE WHEN lower(json_extract_string(message, '$.label')) IN ('pass', 'passed', 'true', 'yes', 'correct') THEN true
            WHEN lower(json_extract_string(message, '$.label')) IN ('fail', 'failed', 'false', 'no', 'incorrect') THEN false
       END,
       'external', json_extract_string(message, '$.explanation'), created_at, $run_id,
       json_extract_string(message, '$.error'), 0, $event
FROM _stage_evals e
WHERE trace_id IS NOT NULL AND NOT EXISTS (
    SELECT 1 FROM evals o WHERE o.source = $event AND o.trace_id = e.trace_id AND o.span_id IS NOT DISTINCT FROM e.span_id
      AND o.metric = json_extract_string(e.message, '$.metric') AND o.created_at = e.created_at)
"""


def load_evaluations(con: duckdb.DuckDBPyConnection, run_id: str) -> tuple[int, int]:
    """Evaluation events of this load (and those still waiting for their span) into ``evals``: (added, waiting)."""
    event = {"event": D.EVALUATION_EVENT}
    for statement in _PENDING_EVALUATIONS_SQL.strip().split(";\n"):
        con.execute(statement, event)
    if not con.execute("SELECT count(*) FROM _stage_logs WHERE event_name = $event", event).fetchall()[0][0]:
        return 0, 0
    con.execute(_EVALUATIONS_SQL, event)
    added = con.execute(_INSERT_EVALUATIONS_SQL, {**event, "run_id": run_id}).fetchall()[0][0]
    log_columns = ", ".join("''" if n in ("trace_id", "span_id") else n for n in LOG_SCHEMA.names)
    waiting = con.execute(
        f"INSERT INTO logs SELECT {log_columns}, now()::TIMESTAMP FROM _stage_evals WHERE trace_id IS NULL"
    ).fetchall()[0][0]
    con.execute("DELETE FROM _stage_logs WHERE event_name = $event", event)  # verdicts, not messages
    con.execute("DROP TABLE _stage_evals")
    return added, waiting


def attach_log_content(con: duckdb.DuckDBPyConnection, since) -> int:
    """Give spans that lack content the messages of their log records (added or matched since ``since``)."""
    con.execute(
        """
    CREATE OR REPLACE TEMP TABLE _log_content AS
    WITH keys AS (
        SELECT DISTINCT trace_id, span_id FROM logs WHERE ingested_at >= $since
        UNION
        SELECT DISTINCT l.trace_id, l.span_id FROM logs l JOIN spans s USING (trace_id, span_id) WHERE s.ingested_at >= $since
    )
    SELECT l.trace_id, l.span_id,
        string_agg(content, chr(10) ORDER BY time_ns, source_line, seq) FILTER (WHERE direction = 'input') AS input_text,
        string_agg(content, chr(10) ORDER BY time_ns, source_line, seq) FILTER (WHERE direction = 'output') AS output_text,
        CAST(to_json(list(message ORDER BY time_ns, source_line, seq) FILTER (WHERE direction = 'input')) AS VARCHAR) AS input_messages,
        CAST(to_json(list(message ORDER BY time_ns, source_line, seq) FILTER (WHERE direction = 'output')) AS VARCHAR) AS output_messages,
        first(json_extract_string(message, '$.finish_reason') ORDER BY time_ns, source_line, seq)
            FILTER (WHERE direction = 'output' AND json_extract_string(message, '$.finish_reason') IS NOT NULL) AS finish_reason
    FROM logs l JOIN keys USING (trace_id, span_id)
    GROUP BY l.trace_id, l.span_id
    """,
        {"since": since},
    )
    n = con.execute("""
        SELECT count(*) FROM spans s JOIN _log_content c USING (trace_id, span_id)
        WHERE (s.input_text IS NULL AND c.input_text IS NOT NULL) OR (s.output_text IS NULL AND c.output_text IS NOT NULL)
           OR (s.finish_reason IS NULL AND c.finish_reason IS NOT NULL)
    """).fetchall()[0][0]
    if n:
        con.execute("""
        UPDATE spans SET
            input_text = coalesce(spans.input_text, c.input_text),
            output_text = coalesce(spans.output_text, c.output_text),
            input_messages = CASE WHEN spans.input_text IS NULL AND c.input_text IS NOT NULL THEN c.input_messages ELSE spans.input_messages END,
            output_messages = CASE WHEN spans.output_text IS NULL AND c.output_text IS NOT NULL THEN c.output_messages ELSE spans.output_messages END,
            finish_reason = coalesce(spans.finish_reason, c.finish_reason)
        FROM _log_content c
        WHERE spans.trace_id = c.trace_id AND spans.span_id = c.span_id
          AND ((spans.input_text IS NULL AND c.input_text IS NOT NULL) OR (spans.output_text IS NULL AND c.output_text IS NOT NULL)
               OR (spans.finish_reason IS NULL AND c.finish_reason IS NOT NULL))
        """)
    con.execute("DROP TABLE _log_content")
    return n


# --------------------------------------------------------------------------- prices


def save_user_prices(con: duckdb.DuckDBPyConnection, prices: list[pricing.UserPrice]) -> None:
    """User prices persist in the store, so a later `reprice` keeps them."""
    for p in prices:
        con.execute(
            "DELETE FROM user_prices WHERE lower(model) = lower(?) AND provider IS NOT DISTINCT FROM ?",
            [p.model, p.provider],
        )
        con.execute(
            "INSERT INTO user_prices VALUES (?, ?, ?, ?, ?, ?, now()::TIMESTAMP)",
            [p.model, p.provider, p.input_mtok, p.output_mtok, p.cache_read_mtok, p.cache_write_mtok],
        )


def load_user_prices(con: duckdb.DuckDBPyConnection) -> list[pricing.UserPrice]:
    rows = con.execute(
        "SELECT model, provider, input_mtok, output_mtok, cache_read_mtok, cache_write_mtok FROM user_prices"
    ).fetchall()
    return [pricing.UserPrice(*r) for r in rows]
