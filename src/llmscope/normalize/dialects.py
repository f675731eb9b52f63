"""The dialect table: which attribute of which instrumentation fills which canonical column.

This module is data. Adding a dialect, or a renamed attribute, is adding a row here; the code
that applies the table is :mod:`llmscope.normalize.builder`.

Precedence: within a column's list, the first source present wins, and the lists are ordered
newest convention first, so where an old and a new spelling disagree, the new one wins. Nothing
is dropped: every attribute is also kept verbatim in the ``attributes`` JSON column.

A source key may be:

* ``gen_ai.request.model``: a span attribute;
* ``llm.invocation_parameters#model``: a field inside an attribute that holds a JSON object;
* ``resource:service.name``: a resource attribute.

Sources of the OTel GenAI semantic conventions: semantic-conventions-genai gen-ai-spans.md and the
deprecated-attributes registry; OpenInference: spec/semantic_conventions.md; OpenLLMetry:
opentelemetry-semantic-conventions-ai; OpenLIT: sdk/python/src/openlit/semcov; the Vercel AI SDK
(npm ``ai``): its telemetry docs and what ai 5.x / 6.x exported (tests/fixtures/captured/vercel-ai-*). See
``../shared/CONVENTIONS.md`` for what each library was observed to emit.
"""

from __future__ import annotations

from typing import NamedTuple


class Source(NamedTuple):
    key: str
    transform: str = ""  # int | float | s_to_ms | lower | first | reason | head | str
    # only when attribute when[0] equals when[1] (or, for a tuple, one of its values)
    when: tuple[str, str | tuple[str, ...]] | None = None


S = Source

# The Vercel AI SDK wraps each model call in a span of the whole call (ai.generateText, ai.embed, ...)
# that repeats the model call's usage, finish reason and content; only the model call itself
# (ai.generateText.doGenerate, ai.embed.doEmbed, ...) is the LLM span, so its ai.* usage is read
# there alone and tokens are not counted twice. ai.operationId names which one a span is.
AI_SDK_OPERATION = "ai.operationId"
AI_SDK_MODEL_CALLS = (
    "ai.generateText.doGenerate",
    "ai.streamText.doStream",
    "ai.generateObject.doGenerate",
    "ai.streamObject.doStream",
)
AI_SDK_EMBED_CALLS = ("ai.embed.doEmbed", "ai.embedMany.doEmbed")
AI_MODEL_CALL = (AI_SDK_OPERATION, AI_SDK_MODEL_CALLS)
AI_EMBED_CALL = (AI_SDK_OPERATION, AI_SDK_EMBED_CALLS)

# --------------------------------------------------------------------------- scalar columns

COLUMN_SOURCES: dict[str, list[Source]] = {
    "operation": [S("gen_ai.operation.name", "lower"), S("llm.request.type", "lower")],
    "provider": [
        S("ai.model.provider", "head"),  # Vercel AI SDK: "openai.chat", "anthropic.messages" -> the provider
        S("gen_ai.provider.name", "lower"),
        S("gen_ai.system", "lower"),
        S("llm.provider", "lower"),
        S("llm.system", "lower"),
    ],
    "request_model": [
        S("gen_ai.request.model"),
        S("llm.request.model"),
        S("llm.invocation_parameters#model"),
        S("embedding.model_name"),
        S("ai.model.id"),  # Vercel AI SDK (its embedding spans carry no gen_ai.request.model)
        S("llm.model_name"),
        S("gen_ai.response.model"),
    ],
    "response_model": [
        S("gen_ai.response.model"),
        S("llm.response.model"),
        S("ai.response.model"),
        S("llm.model_name"),
    ],
    "input_tokens": [
        S("gen_ai.usage.input_tokens", "int"),
        S("gen_ai.usage.prompt_tokens", "int"),
        S("llm.token_count.prompt", "int"),
        S("llm.usage.prompt_tokens", "int"),
        S("ai.usage.inputTokens", "int", when=AI_MODEL_CALL),  # AI SDK 5 streamText, 6
        S("ai.usage.promptTokens", "int", when=AI_MODEL_CALL),  # AI SDK 3-5 generateText
        S("ai.usage.tokens", "int", when=AI_EMBED_CALL),
    ],
    "output_tokens": [
        S("gen_ai.usage.output_tokens", "int"),
        S("gen_ai.usage.completion_tokens", "int"),
        S("llm.token_count.completion", "int"),
        S("llm.usage.completion_tokens", "int"),
        S("ai.usage.outputTokens", "int", when=AI_MODEL_CALL),
        S("ai.usage.completionTokens", "int", when=AI_MODEL_CALL),
    ],
    "total_tokens": [
        S("gen_ai.usage.total_tokens", "int"),
        S("llm.usage.total_tokens", "int"),
        S("llm.token_count.total", "int"),
        S("ai.usage.totalTokens", "int", when=AI_MODEL_CALL),
    ],
    "cache_read_tokens": [
        S("gen_ai.usage.cache_read.input_tokens", "int"),
        S("gen_ai.usage.cache_read_input_tokens", "int"),
        S("llm.token_count.prompt_details.cache_read", "int"),
        S("gen_ai.usage.cached_tokens", "int"),
        S("gen_ai.usage.input_tokens.cached", "int"),  # Sentry's spelling
        S("ai.usage.inputTokenDetails.cacheReadTokens", "int", when=AI_MODEL_CALL),  # AI SDK 6
        S("ai.usage.cachedInputTokens", "int", when=AI_MODEL_CALL),
    ],
    "cache_write_tokens": [
        S("gen_ai.usage.cache_write.input_tokens", "int"),
        S("gen_ai.usage.cache_creation.input_tokens", "int"),
        S("gen_ai.usage.cache_creation_input_tokens", "int"),
        S("llm.token_count.prompt_details.cache_write", "int"),
        S("ai.usage.inputTokenDetails.cacheWriteTokens", "int", when=AI_MODEL_CALL),
    ],
    "reasoning_tokens": [
        S("gen_ai.usage.reasoning.output_tokens", "int"),
        S("gen_ai.usage.reasoning_tokens", "int"),
        S("llm.token_count.completion_details.reasoning", "int"),
        S("gen_ai.usage.output_tokens.reasoning", "int"),  # Sentry's spelling
        S("ai.usage.outputTokenDetails.reasoningTokens", "int", when=AI_MODEL_CALL),
        S("ai.usage.reasoningTokens", "int", when=AI_MODEL_CALL),
    ],
    "reported_cost_usd": [
        S("gen_ai.usage.cost", "float"),
        S("llm.cost.total", "float"),
        S("gen_ai.cost.total", "float"),
    ],
    "ttft_ms": [
        S("gen_ai.response.time_to_first_chunk", "s_to_ms"),
        S("gen_ai.server.time_to_first_token", "s_to_ms"),
        S("llm.time_to_first_token", "s_to_ms"),
        S("ai.response.msToFirstChunk", "float"),  # Vercel AI SDK, milliseconds (streamText)
        S("ai.stream.msToFirstChunk", "float"),  # (streamObject)
    ],
    "temperature": [
        S("gen_ai.request.temperature", "float"),
        S("llm.request.temperature", "float"),
        S("llm.invocation_parameters#temperature", "float"),
    ],
    "top_p": [
        S("gen_ai.request.top_p", "float"),
        S("llm.request.top_p", "float"),
        S("llm.invocation_parameters#top_p", "float"),
    ],
    "max_tokens": [
        S("gen_ai.request.max_tokens", "int"),
        S("llm.request.max_tokens", "int"),
        S("llm.invocation_parameters#max_tokens", "int"),
        S("llm.invocation_parameters#max_completion_tokens", "int"),
    ],
    # "reason": the first of a list, with "-" as "_" (the AI SDK writes tool-calls, content-filter)
    "finish_reason": [
        S("gen_ai.response.finish_reasons", "reason"),
        S("gen_ai.completion.0.finish_reason"),
        S("llm.response.finish_reason"),
        S("llm.output_messages.0.message.finish_reason"),
        S("ai.response.finishReason", "reason", when=AI_MODEL_CALL),
    ],
    "response_id": [S("gen_ai.response.id"), S("ai.response.id", when=AI_MODEL_CALL)],
    "is_stream": [S("gen_ai.request.stream", "bool"), S("gen_ai.is_streaming", "bool"), S("llm.is_streaming", "bool")],
    "agent_name": [
        S("gen_ai.agent.name"),
        S("agent.name"),
        S("traceloop.entity.name", when=("traceloop.span.kind", "agent")),
    ],
    "tool_name": [
        S("gen_ai.tool.name"),
        S("tool.name"),
        S("traceloop.entity.name", when=("traceloop.span.kind", "tool")),
        S("ai.toolCall.name"),
    ],
    "http_status_code": [S("http.response.status_code", "int"), S("http.status_code", "int")],
    "service_name": [S("resource:service.name"), S("service.name")],
}

# User-facing context columns. Which keys mean user, session, feature and prompt version differs
# between apps, so these defaults can be extended or replaced in llmscope.toml ([attributes]) or by
# ingest flags; the configured keys are tried before these.
CONTEXT_DEFAULTS: dict[str, list[str]] = {
    "user_id": [
        "user.id",
        "enduser.id",
        "gen_ai.user.id",
        "traceloop.association.properties.user_id",
        "ai.telemetry.metadata.userId",  # Vercel AI SDK experimental_telemetry.metadata, as Langfuse documents it
        "ai.telemetry.metadata.user_id",
        "langfuse.user.id",
        "metadata#user_id",
        "resource:user.id",
    ],
    "session_id": [
        "session.id",
        "gen_ai.conversation.id",
        "traceloop.association.properties.session_id",
        "ai.telemetry.metadata.sessionId",
        "ai.telemetry.metadata.session_id",
        "langfuse.session.id",
        "metadata#session_id",
        "resource:session.id",
    ],
    "feature": [
        "app.feature",
        "feature",
        "llmscope.feature",
        "traceloop.association.properties.feature",
        "metadata#feature",
        # Vercel AI SDK experimental_telemetry.functionId: the app's name for the call site ("summarize-ticket"),
        # on every span of the call; after the app's own feature keys, before a service-wide resource value
        "ai.telemetry.functionId",
        "resource:app.feature",
    ],
    "prompt_version": [
        "prompt.version",
        "llmscope.prompt_version",
        "gen_ai.prompt.version",
        "llm.prompt_template.version",
        "traceloop.prompt.version",
        "langfuse.prompt.version",
        "traceloop.association.properties.prompt_version",
        "metadata#prompt_version",
    ],
}

# Context columns a span inherits from its trace when it has no value of its own (apps often set
# user and session only on the root span).
TRACE_INHERITED = ("user_id", "session_id", "feature", "prompt_version")
# Of those, the ones that belong to the whole trace, as in Langfuse and Phoenix: every span gets the
# trace's value (the root span's, else the earliest span's) even where it carries another one, so a
# trace is one user's and sits in one session. Seen in real apps: the app sets session.id on the
# root while the instrumentation writes its own gen_ai.conversation.id on the chat span; a span's
# own value stays in its attributes. Feature and prompt version may differ per span.
TRACE_LEVEL = ("user_id", "session_id")

# --------------------------------------------------------------------------- span type

# (attribute, value -> span_type), tried in order; values are compared case-insensitively.
SPAN_TYPE_RULES: list[tuple[str, dict[str, str]]] = [
    (
        # Vercel AI SDK: the model call is the LLM span; the span of the whole generateText/streamText
        # call around it (its steps, tool calls) is a workflow, so it is not a second LLM call
        AI_SDK_OPERATION,
        {
            **{op.lower(): "llm" for op in AI_SDK_MODEL_CALLS},
            **{op.lower(): "embedding" for op in AI_SDK_EMBED_CALLS},
            "ai.rerank.dorerank": "retriever",
            "ai.toolcall": "tool",
            **{
                op: "workflow"
                for op in ("ai.generatetext", "ai.streamtext", "ai.generateobject", "ai.streamobject")
                + ("ai.embed", "ai.embedmany", "ai.rerank")
            },
        },
    ),
    (
        "openinference.span.kind",
        {
            "llm": "llm",
            "embedding": "embedding",
            "retriever": "retriever",
            "reranker": "retriever",
            "tool": "tool",
            "agent": "agent",
            "chain": "workflow",
            "guardrail": "other",
            "evaluator": "other",
            "prompt": "other",
        },
    ),
    (
        "gen_ai.operation.name",
        {
            "chat": "llm",
            "text_completion": "llm",
            "generate_content": "llm",
            "completion": "llm",
            "embeddings": "embedding",
            "embedding": "embedding",
            "retrieval": "retriever",
            "execute_tool": "tool",
            "invoke_agent": "agent",
            "create_agent": "agent",
            "invoke_workflow": "workflow",
            "workflow": "workflow",
            "plan": "agent",
        },
    ),
    ("traceloop.span.kind", {"workflow": "workflow", "task": "workflow", "agent": "agent", "tool": "tool"}),
    # MCP (semantic conventions for the Model Context Protocol): a tools/call request is a tool execution
    ("mcp.method.name", {"tools/call": "tool"}),
    ("llm.request.type", {"chat": "llm", "completion": "llm", "embedding": "embedding", "rerank": "retriever"}),
]

# --------------------------------------------------------------------------- dialect detection

# (dialect, test, key, value): the first matching row names the span's dialect.
#   attr: attribute key present; resource: resource attribute equals value; scope: scope name prefix.
DIALECT_RULES: list[tuple[str, str, str, str]] = [
    ("openinference", "attr", "openinference.span.kind", ""),
    ("openlit", "resource", "telemetry.sdk.name", "openlit"),
    ("openlit", "scope", "openlit", ""),
    ("traceloop", "attr", "traceloop.span.kind", ""),
    ("traceloop", "attr", "traceloop.entity.name", ""),
    ("traceloop", "attr", "traceloop.workflow.name", ""),
    ("traceloop", "attr", "llm.request.type", ""),
    ("traceloop", "attr", "llm.usage.total_tokens", ""),
    ("traceloop", "attr", "gen_ai.is_streaming", ""),  # OpenLLMetry 0.5x+: on every LLM span
    ("traceloop", "attr", "llm.is_streaming", ""),
    ("traceloop", "scope", "traceloop", ""),
    ("vercel_ai", "attr", AI_SDK_OPERATION, ""),  # before otel_genai: its model calls carry gen_ai.system too
    ("otel_genai", "attr", "gen_ai.operation.name", ""),
    ("otel_genai", "attr", "gen_ai.provider.name", ""),
    ("otel_genai", "attr", "gen_ai.system", ""),
]
DEFAULT_DIALECT = "otel"

# --------------------------------------------------------------------------- content

# Where prompt (input) and completion (output) content is found, newest convention first.
# The format names a parser in llmscope.normalize:
#   semconv_messages  gen_ai.input/output.messages: [{role, parts:[{type, content|...}]}] (JSON string or list)
#   semconv_system    gen_ai.system_instructions: [{type, content}] or text, prepended as a system message
#   indexed           flattened  <prefix>.N.role / .content / .tool_calls.M.name|arguments (OpenLLMetry, OpenInference)
#   text              a plain string (or JSON that is shown as-is)
#   ai_messages       AI SDK ai.prompt.messages: [{role, content}] (ChatML-like), content parts text, tool-call
#                     {toolCallId, toolName, input} and tool-result {toolCallId, toolName, output {type, value}}
#   json_text         JSON text of a value, or a list of such texts (AI SDK ai.values): each decoded, one user message
#   ai_tool_calls     AI SDK ai.response.toolCalls [{toolCallId, toolName, input|args}] (JSON), with the
#                     response text (AI_SDK_RESPONSE_TEXT) as the same assistant message's content
INPUT_SOURCES: list[tuple[str, str]] = [
    ("gen_ai.input.messages", "semconv_messages"),
    ("llm.input_messages", "indexed"),
    ("embedding.embeddings", "indexed"),  # OpenInference: embedding.embeddings.N.embedding.text
    ("gen_ai.prompt", "indexed"),
    ("gen_ai.prompt", "text"),  # deprecated full-prompt string
    ("gen_ai.tool.call.arguments", "text"),
    ("tool.parameters", "text"),
    ("gen_ai.retrieval.query.text", "text"),
    ("traceloop.entity.input", "text"),
    ("input.value", "text"),
    ("gen_ai.content.prompt", "text"),
    ("ai.prompt.messages", "ai_messages"),  # Vercel AI SDK model call: ChatML-like messages with tool parts (JSON)
    ("ai.values", "json_text"),  # its embedding call: the values, each as JSON
    ("ai.toolCall.args", "text"),
    ("ai.prompt", "text"),  # its span of the whole call: {system, prompt | messages} as JSON
    ("ai.value", "json_text"),
]
OUTPUT_SOURCES: list[tuple[str, str]] = [
    ("gen_ai.output.messages", "semconv_messages"),
    ("llm.output_messages", "indexed"),
    ("gen_ai.completion", "indexed"),
    ("gen_ai.completion", "text"),
    ("gen_ai.tool.call.result", "text"),
    ("gen_ai.retrieval.documents", "text"),
    ("retrieval.documents", "documents"),
    ("traceloop.entity.output", "text"),
    ("output.value", "text"),
    ("gen_ai.content.completion", "text"),
    ("ai.response.toolCalls", "ai_tool_calls"),  # Vercel AI SDK
    ("ai.response.text", "text"),
    ("ai.response.object", "text"),  # generateObject / streamObject: the object as JSON
    ("ai.toolCall.result", "text"),
]
AI_SDK_RESPONSE_TEXT = "ai.response.text"  # read with ai.response.toolCalls (ai_tool_calls)
SYSTEM_SOURCES: list[str] = ["gen_ai.system_instructions"]

# Tools offered to the model on an LLM call, newest convention first:
#   semconv   gen_ai.tool.definitions: JSON [{type, name, description, parameters}] (or OpenAI's {function: {...}})
#   json_each OpenInference llm.tools.N.tool.json_schema: one JSON object per index
#   fields    OpenLLMetry llm.request.functions.N.{name, description, parameters}
# (a definition's parameters may be spelled inputSchema, as the Vercel AI SDK does)
TOOL_DEFINITION_SOURCES: list[tuple[str, str]] = [
    ("gen_ai.tool.definitions", "semconv"),
    ("ai.prompt.tools", "semconv"),  # Vercel AI SDK: a list of JSON definitions
    ("llm.tools", "json_each"),
    ("llm.request.functions", "fields"),
]

# Span types whose output is not text (an embedding's output is a vector).
NO_OUTPUT_TEXT = {"embedding"}

# Span events (and log records) that carry messages, in the older OTel GenAI event conventions.
# event name -> (direction, role); role None means take it from the body.
MESSAGE_EVENTS: dict[str, tuple[str, str | None]] = {
    "gen_ai.system.message": ("input", "system"),
    "gen_ai.user.message": ("input", "user"),
    "gen_ai.assistant.message": ("input", "assistant"),
    "gen_ai.tool.message": ("input", "tool"),
    "gen_ai.choice": ("output", "assistant"),
}
# Event whose attributes hold the full semconv content (newest conventions).
DETAILS_EVENT = "gen_ai.client.inference.operation.details"
# Older span-event style: an event whose attribute of the same name holds the content.
CONTENT_EVENTS: dict[str, str] = {"gen_ai.content.prompt": "input", "gen_ai.content.completion": "output"}
# Streaming chunk events, joined in time order into one response text.
CHUNK_EVENTS: dict[str, str] = {
    "llm.content.completion.chunk": "llm.content.completion.chunk",
    "gen_ai.content.completion.chunk": "gen_ai.content.completion.chunk",
}
# First-token events: TTFT = event time - span start.
# Span names that carry the agent or tool when no attribute does ("invoke_agent planner",
# "search.tool"): column -> (prefixes, suffixes) stripped from the name.
NAME_CARRIES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "agent_name": (("invoke_agent ", "create_agent "), (".agent",)),
    "tool_name": (("execute_tool ", "tools/call "), (".tool",)),
}
CHOICE_EVENT = "gen_ai.choice"  # a message event whose body nests the message under "message"

# An evaluator's verdict on a GenAI operation (semantic-conventions-genai, events.yaml): a log record (or, from
# older emitters, a span event) parented to the evaluated span, else naming its gen_ai.response.id. Stored as an
# external score in `evals` (source EVALUATION_EVENT, judge "external"); each key below is read as given.
EVALUATION_EVENT = "gen_ai.evaluation.result"
EVALUATION_KEYS: dict[str, str] = {
    "metric": "gen_ai.evaluation.name",
    "score": "gen_ai.evaluation.score.value",
    "label": "gen_ai.evaluation.score.label",
    "explanation": "gen_ai.evaluation.explanation",
    "response_id": "gen_ai.response.id",
    "error": "error.type",
}
EXCEPTION_EVENT = "exception"  # OTel's exception span event (exception.type, exception.message)
# Guardrail activations an instrumentation records: an attribute with one of these values (the
# value names the guardrail kind), a span name holding one of these words, or a finish reason /
# error type among these.
GUARDRAIL_ATTRIBUTES: dict[str, tuple[str, ...]] = {"openinference.span.kind": ("GUARDRAIL",)}
GUARDRAIL_NAME_WORDS: tuple[str, ...] = ("guardrail",)
GUARDRAIL_OUTCOMES: tuple[str, ...] = ("content_filter",)

FIRST_TOKEN_EVENTS = ("First Token Stream Event", "gen_ai.first_token", "llm.first_token")

# --------------------------------------------------------------------------- errors

# Error classes a user can tell apart (issue: rate limits vs timeouts vs server vs client errors).
# Matched case-insensitively as substrings of error.type / exception.type / status message, in order.
ERROR_CLASS_PATTERNS: list[tuple[str, str]] = [
    ("ratelimit", "rate_limit"),
    ("rate_limit", "rate_limit"),
    ("toomanyrequests", "rate_limit"),
    ("quota", "rate_limit"),
    ("429", "rate_limit"),
    ("timeout", "timeout"),
    ("timedout", "timeout"),
    ("deadline", "timeout"),
    ("authentication", "auth_error"),
    ("permissiondenied", "auth_error"),
    ("unauthorized", "auth_error"),
    ("contentfilter", "content_filter"),
    ("content_filter", "content_filter"),
    ("internalserver", "server_error"),
    ("serviceunavailable", "server_error"),
    ("overloaded", "server_error"),
    ("badgateway", "server_error"),
    ("apiconnection", "server_error"),
    ("connectionerror", "server_error"),
    ("badrequest", "client_error"),
    ("notfound", "client_error"),
    ("unprocessable", "client_error"),
    ("invalidrequest", "client_error"),
    ("conflict", "client_error"),
]
# HTTP status -> class, when no name matched.
# Error types that wrap whatever the provider's API answered (the Vercel AI SDK's AI_APICallError
# records no status code on the span): for these the message is classified first, then the type.
WRAPPER_ERROR_TYPES: tuple[str, ...] = ("AI_APICallError", "AI_RetryError")
HTTP_STATUS_CLASSES: dict[int, str] = {
    429: "rate_limit",
    408: "timeout",
    504: "timeout",
    401: "auth_error",
    403: "auth_error",
}

# Keys that are understood even though they fill no column directly (so the coverage report in
# `stats` does not list them as unmapped). Indexed keys use N for the index.
KNOWN_UNMAPPED_OK: list[str] = [
    "gen_ai.tool.definitions",
    "gen_ai.request.stop_sequences",
    "gen_ai.request.frequency_penalty",
    "gen_ai.request.presence_penalty",
    "gen_ai.request.seed",
    "gen_ai.request.top_k",
    "gen_ai.output.type",
    "gen_ai.request.choice.count",
    "gen_ai.request.encoding_formats",
    "llm.tools.N.tool.json_schema",
    "llm.request.functions.N.name",
    "llm.request.functions.N.description",
    "llm.request.functions.N.parameters",
    "openinference.span.kind",
    "llm.invocation_parameters",
    "input.mime_type",
    "output.mime_type",
]


def known_attribute_keys() -> set[str]:
    """Every attribute key (indexed keys as .N.) that the table above reads."""
    keys: set[str] = set()
    for sources in COLUMN_SOURCES.values():
        for s in sources:
            if not s.key.startswith("resource:"):
                keys.add(s.key.split("#", 1)[0])
    for srcs in CONTEXT_DEFAULTS.values():
        keys.update(k.split("#", 1)[0] for k in srcs if not k.startswith("resource:"))
    keys.update(k for k, _ in SPAN_TYPE_RULES)
    keys.update(k for k, _ in INPUT_SOURCES + OUTPUT_SOURCES)
    keys.update(SYSTEM_SOURCES)
    keys.update(k for k, _ in TOOL_DEFINITION_SOURCES)
    keys.update(KNOWN_UNMAPPED_OK)
    return keys


# Prefixes of flattened content keys: any key under them counts as read.
INDEXED_PREFIXES = (
    "llm.input_messages.",
    "llm.output_messages.",
    "gen_ai.prompt.",
    "gen_ai.completion.",
    "retrieval.documents.",
    "llm.tools.",
    "llm.request.functions.",
    "embedding.embeddings.",
)
# Attribute families the coverage report watches for unmapped keys.
COVERAGE_PREFIXES = ("gen_ai.", "llm.", "openinference.", "traceloop.", "embedding.", "retrieval.", "tool.")
