"""The canonical ``spans`` and ``logs`` columns, defined once.

Everything else derives from :data:`SPANS` and :data:`LOGS`: the Arrow schema of a normalized batch
(:func:`staged_fields`), the store's insert (:mod:`llmscope.store.loader`), the C accelerator's column
kinds, the columns a ``where`` may name, the schema table in the README (:func:`markdown_table`,
checked by a test) and, for columns added after the first migration, their DDL (:func:`ddl`).

Adding a column: one :class:`Column` here, plus a migration in :mod:`llmscope.store.migrations` that
calls ``add_columns(con, "spans", ["new_name"])``; a test checks that a migrated store has exactly
these columns.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa

# JSON columns travel as Arrow's JSON extension type: DuckDB takes them as JSON without re-parsing
# (every value comes from orjson.dumps, so it is valid by construction).
JSON = pa.json_(pa.string())

_ARROW = {
    "VARCHAR": pa.string(),
    "BIGINT": pa.int64(),
    "INTEGER": pa.int32(),
    "DOUBLE": pa.float64(),
    "BOOLEAN": pa.bool_(),
    "JSON": JSON,
}


@dataclass(frozen=True)
class Column:
    """One column: its name, SQL type, what it means, and how it reaches the store.

    ``staged``: the column travels as such in a normalized batch (else the store derives it at load:
    times, duration, cost, price version, load time). ``compressed``: large text, stored with zstd
    (measured: 4x smaller and 3.7x faster to write than DuckDB's default for this data).
    """

    name: str
    type: str
    meaning: str
    staged: bool = True
    compressed: bool = False

    @property
    def arrow_type(self) -> pa.DataType:
        return _ARROW[self.type]

    def ddl(self) -> str:
        return f"{self.name} {self.type}" + (" USING COMPRESSION zstd" if self.compressed else "")


def _c(name: str, type_: str, meaning: str, **kw) -> Column:
    return Column(name, type_, meaning, **kw)


# In table order (the order of the first migration's CREATE TABLE, then later additions).
SPANS: tuple[Column, ...] = (
    _c("trace_id", "VARCHAR", "trace id, lower-case hex (32 characters)"),
    _c("span_id", "VARCHAR", "span id, lower-case hex (16 characters); (trace_id, span_id) is the key"),
    _c("parent_span_id", "VARCHAR", "the parent's span id; NULL for a root span"),
    _c("name", "VARCHAR", "span name"),
    _c("kind", "VARCHAR", "span kind: internal, server, client, producer, consumer, unspecified"),
    _c("service_name", "VARCHAR", "`service.name` of the resource"),
    _c("start_time", "TIMESTAMP", "start, UTC", staged=False),
    _c("end_time", "TIMESTAMP", "end, UTC", staged=False),
    _c("duration_ms", "DOUBLE", "end - start in milliseconds", staged=False),
    _c("status", "VARCHAR", "`unset`, `ok` or `error`"),
    _c("status_message", "VARCHAR", "the status description"),
    _c(
        "error_type",
        "VARCHAR",
        "error class: `rate_limit`, `timeout`, `server_error`, `client_error`, `auth_error`, or the "
        "`error.type` / exception type as recorded",
    ),
    _c("error_message", "VARCHAR", "the exception message, where recorded"),
    _c("span_type", "VARCHAR", "`llm`, `embedding`, `retriever`, `tool`, `agent`, `workflow` or `other`"),
    _c("operation", "VARCHAR", "`gen_ai.operation.name` (chat, embeddings, execute_tool, …)"),
    _c("provider", "VARCHAR", "`gen_ai.provider.name` or an older spelling (openai, anthropic, …)"),
    _c("request_model", "VARCHAR", "the model asked for"),
    _c("response_model", "VARCHAR", "the model that answered"),
    _c("input_tokens", "BIGINT", "prompt tokens"),
    _c("output_tokens", "BIGINT", "completion tokens"),
    _c("total_tokens", "BIGINT", "as recorded, else input + output"),
    _c("cache_read_tokens", "BIGINT", "input tokens read from the provider's prompt cache"),
    _c("cache_write_tokens", "BIGINT", "input tokens written to the prompt cache"),
    _c("reasoning_tokens", "BIGINT", "output tokens spent on reasoning"),
    _c(
        "cost_usd",
        "DOUBLE",
        "computed from the price table; NULL when the model is unknown (never 0 by guess)",
        staged=False,
    ),
    _c("reported_cost_usd", "DOUBLE", "the cost the instrumentation itself recorded, if any"),
    _c("price_version", "VARCHAR", "which price table priced the span", staged=False),
    _c("ttft_ms", "DOUBLE", "time to first token, where streaming timing is known"),
    _c("temperature", "DOUBLE", "request temperature"),
    _c("top_p", "DOUBLE", "request top_p"),
    _c("max_tokens", "BIGINT", "request max_tokens"),
    _c("finish_reason", "VARCHAR", "why generation stopped (stop, length, tool_calls, …)"),
    _c("response_id", "VARCHAR", "the provider's response id"),
    _c("is_stream", "BOOLEAN", "streamed response"),
    _c("user_id", "VARCHAR", "end user, from configurable attribute keys; the trace's value"),
    _c("session_id", "VARCHAR", "session or conversation, from configurable keys; the trace's value"),
    _c("feature", "VARCHAR", "the app feature, from configurable keys"),
    _c("prompt_version", "VARCHAR", "the prompt (template) version, from configurable keys"),
    _c("agent_name", "VARCHAR", "agent name"),
    _c("tool_name", "VARCHAR", "tool name"),
    _c("http_status_code", "BIGINT", "HTTP status of the provider call"),
    _c("input_text", "VARCHAR", "the prompt, flattened to text", compressed=True),
    _c("output_text", "VARCHAR", "the completion, flattened to text", compressed=True),
    _c("input_messages", "JSON", "the prompt as messages (role, content), where known", compressed=True),
    _c("output_messages", "JSON", "the completion as messages, where known", compressed=True),
    _c("tool_definitions", "JSON", "the tools offered to the model", compressed=True),
    _c("attributes", "JSON", "every span attribute, so nothing is lost", compressed=True),
    _c("resource_attributes", "JSON", "every resource attribute", compressed=True),
    _c("events", "JSON", "span events", compressed=True),
    _c("dialect", "VARCHAR", "which instrumentation's conventions were read (otel, openlit, traceloop, …)"),
    _c("scope_name", "VARCHAR", "instrumentation scope name"),
    _c("source", "VARCHAR", "the file (or `collector`) the span came from"),
    _c("source_line", "BIGINT", "its line in that file"),
    _c("ingested_at", "TIMESTAMP", "when it was loaded", staged=False),
)

# Staged-only fields of a span batch: times stay integer nanoseconds until the store converts them.
_STAGED_TIMES = (("start_ns", pa.int64()), ("end_ns", pa.int64()))

LOGS: tuple[Column, ...] = (
    _c("trace_id", "VARCHAR", "trace of the span the record belongs to"),
    _c("span_id", "VARCHAR", "that span"),
    _c("time_ns", "BIGINT", "record time, ns since the epoch"),
    _c("seq", "INTEGER", "order of the message within its record"),
    _c("event_name", "VARCHAR", "`gen_ai.user.message`, `gen_ai.choice`, …"),
    _c("direction", "VARCHAR", "`input` or `output`"),
    _c("role", "VARCHAR", "system, user, assistant or tool"),
    _c("content", "VARCHAR", "the message text", compressed=True),
    _c("message", "JSON", "the message as recorded", compressed=True),
    _c("attributes", "JSON", "record attributes", compressed=True),
    _c("body", "JSON", "record body", compressed=True),
    _c("source", "VARCHAR", "file it came from"),
    _c("source_line", "BIGINT", "line in that file"),
    _c("ingested_at", "TIMESTAMP", "when it was loaded", staged=False),
)

SPAN_COLUMN_NAMES: frozenset[str] = frozenset(c.name for c in SPANS)

# A normalized span row: these fields first, then the dialect table's columns and its context columns
# (in the dialect table's order: the builder fills rows positionally), then these.
STAGED_HEAD: tuple[str, ...] = (
    "trace_id", "span_id", "parent_span_id", "name", "kind", "start_ns", "end_ns", "status", "status_message",
    "error_type", "error_message", "span_type", "dialect", "scope_name",
)  # fmt: skip
STAGED_TAIL: tuple[str, ...] = (
    "input_text", "output_text", "input_messages", "output_messages", "tool_definitions", "attributes",
    "resource_attributes", "events", "source", "source_line",
)  # fmt: skip


def column(table: tuple[Column, ...], name: str) -> Column:
    for c in table:
        if c.name == name:
            return c
    raise KeyError(name)


def staged_fields(order: list[str]) -> list[tuple[str, pa.DataType]]:
    """Arrow fields of a normalized batch with the columns in ``order`` (staged names only)."""
    times = dict(_STAGED_TIMES)
    return [(n, times[n] if n in times else column(SPANS, n).arrow_type) for n in order]


def staged_log_fields() -> list[tuple[str, pa.DataType]]:
    return [(c.name, c.arrow_type) for c in LOGS if c.staged]


def ddl(table: tuple[Column, ...], names: list[str]) -> list[str]:
    """Column definitions for ``ALTER TABLE … ADD COLUMN`` of the named columns."""
    return [column(table, n).ddl() for n in names]


def markdown_table(table: tuple[Column, ...] = SPANS) -> str:
    """The schema as a Markdown table (the README's copy is checked against this)."""
    lines = ["| column | type | meaning |", "| --- | --- | --- |"]
    lines += [f"| `{c.name}` | {c.type} | {c.meaning} |" for c in table]
    return "\n".join(lines)
