"""Apply the dialect table (:mod:`llmscope.normalize.dialects`) to decoded spans and log records.

:class:`Batch` is the sink the OTLP decoders write into. It keeps one Python list per canonical
column and turns them into an Arrow record batch; the store then does the rest (times, duration,
cost, trace-level context, de-duplication) in SQL.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable
from typing import Any

import orjson
import pyarrow as pa

from .. import schema
from .._native import accelerator
from . import dialects as D

KIND_NAMES = ("unspecified", "internal", "server", "client", "producer", "consumer")
STATUS_NAMES = ("unset", "ok", "error")

# Columns of a staged span batch, in order, with Arrow types (from the one schema, llmscope.schema).
# Times stay integer nanoseconds here; the store converts them (and derives duration) in SQL.
SPAN_FIELDS: list[tuple[str, pa.DataType]] = schema.staged_fields(
    [*schema.STAGED_HEAD, *D.COLUMN_SOURCES, *D.CONTEXT_DEFAULTS, *schema.STAGED_TAIL]
)
SPAN_SCHEMA = pa.schema(SPAN_FIELDS)
SPAN_COLUMNS = [n for n, _ in SPAN_FIELDS]

LOG_FIELDS: list[tuple[str, pa.DataType]] = schema.staged_log_fields()
LOG_SCHEMA = pa.schema(LOG_FIELDS)

_TABLE_COLUMNS = list(D.COLUMN_SOURCES)
_CONTEXT_COLUMNS = list(D.CONTEXT_DEFAULTS)
# where add_span reads resolved values (Mapping.resolve returns them in this order)
_TTFT_MS, _HTTP_STATUS_CODE, _AGENT_NAME, _TOOL_NAME, _SERVICE_NAME = (
    (_TABLE_COLUMNS + _CONTEXT_COLUMNS).index(c)
    for c in ("ttft_ms", "http_status_code", "agent_name", "tool_name", "service_name")
)
# Token counts the store adds and subtracts in SQL (total tokens, cost): beyond this (or negative) a
# count is no count, and would overflow there; the raw value stays in attributes.
_TOKEN_COLUMNS = tuple(i for i, c in enumerate(_TABLE_COLUMNS + _CONTEXT_COLUMNS) if c.endswith("_tokens"))
MAX_TOKENS = 1 << 53
# add_span builds rows positionally: the resolved columns must sit in SPAN_FIELDS in table order.
assert SPAN_COLUMNS[14 : 14 + len(_TABLE_COLUMNS) + len(_CONTEXT_COLUMNS)] == _TABLE_COLUMNS + _CONTEXT_COLUMNS


def _compile(
    sources: Iterable[D.Source],
) -> list[tuple[bool, str, str | None, str, tuple[str, tuple[str, ...]] | None]]:
    out = []
    for s in sources:
        key = s.key
        on_resource = key.startswith("resource:")
        if on_resource:
            key = key[len("resource:") :]
        key, _, sub = key.partition("#")
        when = None
        if s.when is not None:  # the values it may take, always a tuple (`in` on a str would match substrings)
            allowed = s.when[1]
            when = (s.when[0], (allowed,) if isinstance(allowed, str) else tuple(allowed))
        out.append((on_resource, key, sub or None, s.transform, when))
    return out


class Mapping:
    """The compiled dialect table plus the user's context-key configuration.

    Spans from one instrumentation carry the same attribute keys over and over, so everything
    that depends only on which keys are present (the candidate sources of each column, the span
    type and dialect rules that can apply, where content can come from) is worked out once per
    key set and cached as a :class:`_Shape`; a span then only reads its own values.
    """

    MAX_SHAPES = 4096  # indexed keys (gen_ai.prompt.N.*) make many shapes; start over past this

    def __init__(self, context_keys: dict[str, list[str]] | None = None, privacy=None):
        self.privacy = privacy  # llmscope.privacy.Privacy: redact or hash content before it is stored
        ctx = {c: list(D.CONTEXT_DEFAULTS[c]) for c in _CONTEXT_COLUMNS}
        for col, keys in (context_keys or {}).items():
            if col not in ctx:
                raise ValueError(f"unknown context column {col!r}; expected one of {', '.join(ctx)}")
            ctx[col] = list(keys) + [k for k in ctx[col] if k not in keys]
        self.context_keys = ctx
        self.all_columns = _TABLE_COLUMNS + _CONTEXT_COLUMNS
        compiled = [(c, _compile(D.COLUMN_SOURCES[c])) for c in _TABLE_COLUMNS]
        compiled += [(c, _compile(D.Source(k) for k in ctx[c])) for c in _CONTEXT_COLUMNS]
        self.sources = dict(compiled)
        self._shapes: dict[tuple, _Shape] = {}
        self._last_resource: dict | None = None
        self._last_resource_keys: tuple = ()
        self._resource_of_values: dict | None = None
        self._resource_values: dict[str, Any] = {}

    def __reduce__(self):  # shipped to worker processes: rebuilt there, with empty caches
        return (Mapping, (self.context_keys, self.privacy))

    def shape(self, attrs: dict, resource: dict) -> _Shape:
        if resource is not self._last_resource:  # spans of one resourceSpans share the dict
            self._last_resource, self._last_resource_keys = resource, tuple(resource)
        key = (tuple(attrs), self._last_resource_keys)
        shape = self._shapes.get(key)
        if shape is None:
            if len(self._shapes) >= self.MAX_SHAPES:
                self._shapes.clear()
            shape = self._shapes[key] = _Shape(self, attrs.keys(), resource.keys())
        return shape

    def resolve(self, attrs: dict, resource: dict, shape: _Shape | None = None) -> list[Any]:
        """Canonical column values for one span, in ``all_columns`` order (None where no source is
        present): per column, the best-ranked source that is present, non-empty, meets its
        condition and converts."""
        shape = shape or self.shape(attrs, resource)
        values = [None] * len(self.all_columns)
        # Most columns: the best source is a plain attribute that already has the column's type
        # (or, for lower-cased columns, is already lower case).
        _fill_direct(values, attrs, resource, shape.direct, shape.direct_lower, _first_usable)
        if shape.resource_only:  # the same for every span of a resource: worked out once
            if resource is not self._resource_of_values:
                self._resource_of_values, self._resource_values = resource, {}
            cached = self._resource_values
            for col, candidates in shape.resource_only:
                v = cached.get(col, _UNPARSED)
                if v is _UNPARSED:
                    v = cached[col] = _first_usable(candidates, attrs, resource, {})
                values[col] = v
        parsed: dict = {}  # JSON attributes several columns read (llm.invocation_parameters): parsed once
        for col, candidates in shape.general:
            values[col] = _first_usable(candidates, attrs, resource, parsed)
        return values


def _fill_direct_py(
    values: list, attrs: dict, resource: dict, direct: tuple, direct_lower: tuple, first_usable
) -> None:
    """Columns whose best source is a plain attribute: its value if it already has the column's
    type (lower-case, for lower-cased columns), else the first usable candidate. The C version
    (``_native/resolve.c``) does exactly this."""
    for col, key, typ, candidates in direct:
        v = attrs[key]
        usable = type(v) is typ and v != "" and (typ is not int or _INT64_MIN <= v <= _INT64_MAX)
        values[col] = v if usable else first_usable(candidates, attrs, resource, {})
    for col, key, candidates in direct_lower:
        v = attrs[key]
        values[col] = v if type(v) is str and v.islower() else first_usable(candidates, attrs, resource, {})


_fill_direct = accelerator("resolve", "fill_direct") or _fill_direct_py


def _first_usable(candidates: list[tuple], attrs: dict, resource: dict, parsed: dict) -> Any:
    """The value of the best-ranked candidate that is present, non-empty, meets its condition and
    converts; None if none does. ``parsed`` memoizes JSON attributes read through ``key#field``."""
    for on_res, key, sub, transform, when in candidates:
        src = resource if on_res else attrs
        v = src[key]
        if v is None or v == "" or (when is not None and src.get(when[0]) not in when[1]):
            continue
        if sub is not None:
            obj = parsed.get((on_res, key), _UNPARSED)
            if obj is _UNPARSED:
                obj = parsed[(on_res, key)] = _json_object(v)
            v = obj.get(sub) if obj is not None else None
            if v is None or v == "":
                continue
        elif _AS_IS.get(transform) is type(v) and (type(v) is not int or _INT64_MIN <= v <= _INT64_MAX):
            return v  # already the column's type (and, for ints, within int64)
        try:
            v = _transform(v, transform)
        except (TypeError, ValueError):
            continue  # a wrong type in one source; the raw value stays in attributes
        if v is not None:
            return v
    return None


_UNPARSED = object()


def _json(obj: Any) -> str:
    """JSON text of decoded values. orjson refuses integers beyond 64 bits, which OTLP's decimal
    ``intValue`` strings can carry: those are written as strings of their digits, so the span (and
    every other attribute) is kept instead of the whole span being dropped."""
    try:
        return orjson.dumps(obj).decode()
    except orjson.JSONEncodeError:
        return orjson.dumps(_big_ints_as_text(obj)).decode()


def _big_ints_as_text(v: Any) -> Any:
    if type(v) is int and not -(2**63) <= v < 2**64:
        return str(v)
    if isinstance(v, dict):
        return {k: _big_ints_as_text(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_big_ints_as_text(x) for x in v]
    return v


def _json_object(raw: Any) -> dict | None:
    if isinstance(raw, str) and raw[:1] == "{":
        try:
            raw = orjson.loads(raw)
        except orjson.JSONDecodeError:
            return None
    return raw if isinstance(raw, dict) else None


_AS_IS = {"": str, "int": int, "float": float, "bool": bool}
_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1  # integer columns are int64


class _Shape:
    """What can apply to a span with a given set of attribute (and resource) keys."""

    __slots__ = (
        "direct",
        "direct_lower",
        "resource_only",
        "general",
        "type_rules",
        "attr_dialect",
        "input_sources",
        "output_sources",
        "system_keys",
        "tool_sources",
    )

    def __init__(self, mapping: Mapping, ordered_keys, resource_keys):
        keys, resource_keys = set(ordered_keys), set(resource_keys)
        # columns by their index in mapping.all_columns
        direct: list[tuple] = []  # (column, key, type, candidates): best source plain, unconditional
        direct_lower: list[tuple] = []  # (column, key, candidates): the same, lower-cased
        self.resource_only: list[tuple] = []  # (column, candidates): only resource attributes can fill it
        self.general: list[tuple] = []  # (column, candidates): the rest
        for col, sources in enumerate(mapping.sources.values()):
            present = [
                (on_res, key, sub, transform, when)
                for on_res, key, sub, transform, when in sources
                if key in (resource_keys if on_res else keys)
            ]
            if not present:
                continue
            on_res, key, sub, transform, when = present[0]
            plain = not on_res and sub is None and when is None
            if plain and transform in _AS_IS:
                direct.append((col, key, _AS_IS[transform], present))
            elif plain and transform == "lower":
                direct_lower.append((col, key, present))
            elif all(c[0] for c in present):
                self.resource_only.append((col, present))
            else:
                self.general.append((col, present))
        self.direct, self.direct_lower = tuple(direct), tuple(direct_lower)  # tuples: read by _fill_direct
        self.type_rules = [(key, table) for key, table in D.SPAN_TYPE_RULES if key in keys]
        self.attr_dialect = next(((i, d) for i, key, d in _ATTR_DIALECT_RULES if key in keys), None)
        self.input_sources = _possible_sources(D.INPUT_SOURCES, keys, ordered_keys)
        self.output_sources = _possible_sources(D.OUTPUT_SOURCES, keys, ordered_keys)
        self.system_keys = [k for k in D.SYSTEM_SOURCES if k in keys]
        self.tool_sources = _tool_sources(keys)


def _possible_sources(sources: list[tuple[str, str]], keys: set[str], ordered_keys) -> list[tuple]:
    """The content sources that can yield anything for these keys (indexed lists need index 0);
    indexed ones carry their key layout."""
    out: list[tuple] = []
    for key, fmt in sources:
        if fmt == "indexed":
            layout = _indexed_layout(ordered_keys, key)
            if layout:
                out.append((key, fmt, layout))
        elif fmt == "documents":
            if any(key + p in keys for p in _PROBE_SUFFIXES):
                out.append((key, fmt))
        elif key in keys:
            out.append((key, fmt))
    return out


# --------------------------------------------------------------------------- value helpers


def _transform(v: Any, t: str) -> Any:
    if v is None or v == "":
        return None
    if t == "":
        return v if isinstance(v, str) else (_json(v) if isinstance(v, (list, dict)) else str(v))
    if t == "int":
        if isinstance(v, bool):
            return None
        if type(v) is not int:
            f = float(v)
            if not math.isfinite(f):  # "Infinity" tokens: no count (int() would raise OverflowError)
                return None
            v = int(f)
        return v if _INT64_MIN <= v <= _INT64_MAX else None  # beyond an int64 column: stays in attributes only
    if t == "float":
        return float(v)
    if t == "s_to_ms":
        return float(v) * 1000.0
    if t == "lower":
        return str(v).lower()
    if t == "bool":
        return v if isinstance(v, bool) else str(v).lower() in ("true", "1")
    if t == "first" or t == "reason":
        if isinstance(v, str) and v[:1] == "[":
            try:
                v = orjson.loads(v)
            except orjson.JSONDecodeError:
                return v.replace("-", "_") if t == "reason" else v
        if isinstance(v, list):
            if not v:
                return None
            v = v[0]
        v = str(v)
        return v.replace("-", "_") if t == "reason" else v
    if t == "head":  # "openai.chat" -> "openai"
        return str(v).split(".", 1)[0].lower() or None
    raise ValueError(f"unknown transform {t!r}")


# --------------------------------------------------------------------------- content


def _text(v: Any) -> str | None:
    if v is None:
        return None
    if isinstance(v, str):
        return v
    return _json(v)


def _parts_message(m: Any) -> dict:
    """A semconv message {role, parts:[...]} (or a ChatML {role, content}) -> canonical message."""
    if not isinstance(m, dict):
        return {"role": "user", "content": _text(m)}
    out: dict[str, Any] = {"role": m.get("role") or "user"}
    texts, calls = [], []
    parts = m.get("parts")
    if isinstance(parts, list):
        for p in parts:
            if not isinstance(p, dict):
                texts.append(_text(p))
                continue
            ptype = p.get("type")
            if ptype == "tool_call":
                calls.append({"id": p.get("id"), "name": p.get("name"), "arguments": _text(p.get("arguments"))})
            elif ptype == "tool_call_response":
                out["tool_call_id"] = p.get("id")
                texts.append(_text(p.get("result", p.get("response"))))
            elif "content" in p:
                texts.append(_text(p.get("content")))
    else:
        c = m.get("content")
        if isinstance(c, list):  # OpenAI content parts
            texts.extend(_text(x.get("text")) if isinstance(x, dict) else _text(x) for x in c)
        elif c is not None:
            texts.append(_text(c))
        for tc in m.get("tool_calls") or []:
            if isinstance(tc, dict):
                fn: dict = tc["function"] if isinstance(tc.get("function"), dict) else tc
                calls.append({"id": tc.get("id"), "name": fn.get("name"), "arguments": _text(fn.get("arguments"))})
    content = "\n".join(t for t in texts if t)
    out["content"] = content if content else None
    if calls:
        out["tool_calls"] = calls
    if m.get("finish_reason"):
        out["finish_reason"] = m["finish_reason"]
    return out


def _semconv_messages(v: Any) -> list[dict] | None:
    if isinstance(v, str):
        try:
            v = orjson.loads(v)
        except orjson.JSONDecodeError:
            return [{"role": "user", "content": v}]
    if isinstance(v, dict):
        v = [v]
    if not isinstance(v, list):
        return None
    return [m for m in (_parts_message(x) for x in v) if m]


def _system_messages(v: Any) -> list[dict]:
    if isinstance(v, str):
        try:
            v = orjson.loads(v)
        except orjson.JSONDecodeError:
            return [{"role": "system", "content": v}]
    if isinstance(v, dict):
        v = [v]
    if isinstance(v, list):
        texts = [(_text(p.get("content")) if isinstance(p, dict) else _text(p)) for p in v]
        return [{"role": "system", "content": "\n".join(t for t in texts if t)}]
    return []


# A flattened message list is recognised by its first message (every library writes index 0).
_PROBE_SUFFIXES = (
    ".0.role",
    ".0.content",
    ".0.message.role",
    ".0.message.content",
    ".0.tool_calls.0.name",
    ".0.document.content",
    ".0.document.id",
)
_PROBES: dict[str, tuple[str, ...]] = {}


def _indexed_layout(keys: Iterable[str], prefix: str) -> tuple:
    """Where each flattened ``prefix.N.field`` key goes: ((key, N, slot, call index, call field), ...).
    Depends on the keys only, so a span shape works it out once. Empty: no message list here."""
    probes = _PROBES.get(prefix)
    if probes is None:
        probes = _PROBES[prefix] = tuple(prefix + p for p in _PROBE_SUFFIXES)
    keys = list(keys)
    if not any(p in keys for p in probes):
        return ()
    out: list[tuple] = []
    plen = len(prefix) + 1
    for k in keys:
        if not k.startswith(prefix) or len(k) <= plen or k[plen - 1] != ".":
            continue
        idx_s, _, rest = k[plen:].partition(".")
        if not idx_s.isdigit():
            continue
        for wrapper in ("message.", "embedding.", "document."):
            if rest.startswith(wrapper):
                rest = rest[len(wrapper) :]
                break
        if rest in ("role", "content", "finish_reason", "tool_call_id", "name"):
            out.append((k, int(idx_s), rest, None, None))
        elif rest == "text":  # OpenInference embedding.embeddings.N.embedding.text
            out.append((k, int(idx_s), "content", None, None))
        elif rest.startswith("contents."):  # OpenInference multi-part content
            if rest.endswith("message_content.text"):
                out.append((k, int(idx_s), "_parts", None, None))
        elif rest.startswith("tool_calls."):
            cidx, _, field = rest[11:].partition(".")
            field = field.removeprefix("tool_call.").removeprefix("function.")
            if cidx.isdigit() and field in ("name", "arguments", "id"):
                out.append((k, int(idx_s), "_calls", int(cidx), field))
    return tuple(out)


def _indexed_messages(attrs: dict, prefix: str, layout: tuple | None = None) -> list[dict] | None:
    """Flattened ``prefix.N.field`` keys (OpenLLMetry ``gen_ai.prompt.0.content``, OpenInference
    ``llm.input_messages.0.message.content``) back into a list of messages."""
    if layout is None:
        layout = _indexed_layout(attrs, prefix)
    if not layout:
        return None
    msgs: dict[int, dict] = {}
    for k, idx, slot, cidx, field in layout:
        v = attrs[k]
        m = msgs.get(idx)
        if m is None:
            m = msgs[idx] = {}
        if cidx is not None:
            m.setdefault("_calls", {}).setdefault(cidx, {})[field] = v
        elif slot == "_parts":
            m.setdefault("_parts", []).append((k, v))
        else:
            m[slot] = v
    out = []
    for i in sorted(msgs):
        m = msgs[i]
        parts = m.pop("_parts", None)
        if parts and not m.get("content"):
            m["content"] = "\n".join(_text(v) or "" for _, v in sorted(parts))
        calls = m.pop("_calls", None)
        msg: dict[str, Any] = {
            "role": m.get("role") or ("assistant" if "completion" in prefix or "output" in prefix else "user"),
            "content": _text(m.get("content")),
        }
        if calls:
            msg["tool_calls"] = [
                {"id": c.get("id"), "name": c.get("name"), "arguments": _text(c.get("arguments"))}
                for _, c in sorted(calls.items())
            ]
        for extra in ("finish_reason", "tool_call_id"):
            if m.get(extra):
                msg[extra] = m[extra]
        out.append(msg)
    return out or None


def _documents_text(attrs: dict, prefix: str) -> str | None:
    docs = _indexed_messages(attrs, prefix)  # same flattening: retrieval.documents.N.document.content
    if docs is None:
        return None
    texts = []
    plen = len(prefix) + 1
    for k, v in attrs.items():
        if k.startswith(prefix + ".") and k.endswith(".document.content") and k[plen:].split(".", 1)[0].isdigit():
            texts.append((int(k[plen:].split(".", 1)[0]), _text(v)))
    return "\n\n".join(t for _, t in sorted(texts) if t) or None


def _load(v: Any) -> Any:
    if isinstance(v, str) and v[:1] in "[{":
        try:
            return orjson.loads(v)
        except orjson.JSONDecodeError:
            return None
    return v


def _tool_def(d: Any) -> dict | None:
    """{name, parameters} from an OpenAI-style definition ({type, function: {...}} or flat)."""
    d = _load(d)
    if not isinstance(d, dict):
        return None
    fn: dict = d["function"] if isinstance(d.get("function"), dict) else d
    name = fn.get("name")
    if not name:
        return None
    params = _load(fn["parameters"] if "parameters" in fn else fn.get("inputSchema"))  # AI SDK: inputSchema
    return {"name": name, "parameters": params if isinstance(params, dict) else None}


def _tool_sources(keys: set[str]) -> list[tuple[str, str]]:
    """The tool-definition sources present in a key set (flattened lists need index 0)."""
    return [
        (key, fmt)
        for key, fmt in D.TOOL_DEFINITION_SOURCES
        if (key in keys if fmt == "semconv" else key + ".0.tool.json_schema" in keys or key + ".0.name" in keys)
    ]


def _tool_definitions(attrs: dict, sources: list[tuple[str, str]]) -> str | None:
    """The tools offered on an LLM call, as JSON [{name, parameters}], or None."""
    for key, fmt in sources:
        defs: list = []
        if fmt == "semconv":
            v = _load(attrs.get(key))
            if isinstance(v, list):
                defs = [t for t in (_tool_def(x) for x in v) if t]
        elif key + ".0.tool.json_schema" in attrs or key + ".0.name" in attrs:
            i = 0
            while True:
                if fmt == "json_each":
                    raw = attrs.get(f"{key}.{i}.tool.json_schema")
                    if raw is None:
                        break
                    t = _tool_def(raw)
                else:
                    name = attrs.get(f"{key}.{i}.name")
                    if name is None:
                        break
                    t = _tool_def({"name": name, "parameters": attrs.get(f"{key}.{i}.parameters")})
                if t:
                    defs.append(t)
                i += 1
        if defs:
            return _json(defs)
    return None


def _json_text_messages(v: Any) -> list[dict] | None:
    """JSON text of a value, or a list of such texts (AI SDK ``ai.values``): one user message each,
    a string as itself, anything else as JSON."""
    out = []
    for x in v if isinstance(v, list) else [v]:
        if isinstance(x, str):
            try:
                x = orjson.loads(x)
            except orjson.JSONDecodeError:
                pass
        text = _text(x)
        if text:
            out.append({"role": "user", "content": text})
    return out or None


def _ai_tool_calls_messages(v: Any, text: Any) -> list[dict] | None:
    """AI SDK ``ai.response.toolCalls`` ([{toolCallId, toolName, input}], ``args`` before 5.0) and the
    response text beside it: one assistant message."""
    calls_raw = _load(v)
    if not isinstance(calls_raw, list):
        return None
    calls = [
        {"id": c.get("toolCallId"), "name": c.get("toolName"), "arguments": _text(c.get("input", c.get("args")))}
        for c in calls_raw
        if isinstance(c, dict)
    ]
    if not calls:
        return None
    return [{"role": "assistant", "content": _text(text) or None, "tool_calls": calls}]


_AI_TOOL_PARTS = ("tool-call", "tool-result")


def _ai_result_text(p: dict) -> str | None:
    """A tool-result part's output: ``output`` {type: json | text | error-json | error-text, value} (5.0+), or
    {type: content, value: [parts]}; ``result`` before 5.0."""
    out = p.get("output")
    if isinstance(out, dict) and "value" in out:
        val = out["value"]
        if out.get("type") == "content" and isinstance(val, list):
            texts = (_text(x.get("text")) if isinstance(x, dict) else _text(x) for x in val)
            return "\n".join(t for t in texts if t) or None
        return _text(val)
    return _text(p.get("result", out))


def _ai_message(m: dict, parts: list) -> list[dict]:
    """One AI SDK message whose content parts hold tool calls or results: the message (text and calls, as
    ``tool_calls``), then one ``tool`` message per result (``tool_call_id``), as OpenAI's messages have it."""
    texts, calls, results = [], [], []
    for p in parts:
        if not isinstance(p, dict):
            texts.append(_text(p))
        elif p.get("type") == "tool-call":
            args = _text(p.get("input", p.get("args")))
            calls.append({"id": p.get("toolCallId"), "name": p.get("toolName"), "arguments": args})
        elif p.get("type") == "tool-result":
            results.append({"role": "tool", "content": _ai_result_text(p), "tool_call_id": p.get("toolCallId")})
        else:
            texts.append(_text(p.get("text")))
    content = "\n".join(t for t in texts if t) or None
    out: list[dict] = []
    if content or calls or not results:
        msg: dict[str, Any] = {"role": m.get("role") or "user", "content": content}
        if calls:
            msg["tool_calls"] = calls
        out.append(msg)
    return out + results


def _ai_messages(v: Any) -> list[dict] | None:
    """AI SDK ``ai.prompt.messages``: [{role, content}] with content a string or parts (``text``, ``tool-call``
    {toolCallId, toolName, input}, ``tool-result`` {toolCallId, toolName, output}); a message without tool
    parts reads as ChatML (_parts_message)."""
    msgs = v
    if isinstance(v, str):
        try:
            msgs = orjson.loads(v)
        except orjson.JSONDecodeError:
            msgs = None
    if not isinstance(msgs, list):
        return _semconv_messages(v)
    out: list[dict] = []
    for m in msgs:
        parts = m.get("content") if isinstance(m, dict) else None
        if isinstance(parts, list) and any(isinstance(p, dict) and p.get("type") in _AI_TOOL_PARTS for p in parts):
            out += _ai_message(m, parts)
        else:
            out.append(_parts_message(m))
    return out


def messages_text(msgs: list[dict]) -> str | None:
    """Flatten messages to text: contents, and tool calls as ``name(arguments)``."""
    out = []
    for m in msgs:
        if m.get("content"):
            out.append(m["content"])
        for c in m.get("tool_calls") or ():
            out.append(f"{c.get('name')}({c.get('arguments') or ''})")
    return "\n".join(out) if out else None


def _extract(attrs: dict, sources: list[tuple]) -> tuple[str | None, list[dict] | None]:
    """Text and messages from the first source that has any: (key, format[, indexed layout])."""
    for key, fmt, *layout in sources:
        if fmt == "indexed":
            msgs = _indexed_messages(attrs, key, layout[0] if layout else None)
            if msgs:
                return messages_text(msgs), msgs
            continue
        if fmt == "documents":
            t = _documents_text(attrs, key)
            if t:
                return t, None
            continue
        v = attrs.get(key)
        if v is None or v == "":
            continue
        if fmt == "semconv_messages":
            msgs = _semconv_messages(v)
            if msgs:
                return messages_text(msgs), msgs
        elif fmt == "text":
            return _text(v), None
        elif fmt == "ai_messages":
            msgs = _ai_messages(v)
            if msgs:
                return messages_text(msgs), msgs
        elif fmt == "json_text":
            msgs = _json_text_messages(v)
            if msgs:
                return messages_text(msgs), msgs
        elif fmt == "ai_tool_calls":
            msgs = _ai_tool_calls_messages(v, attrs.get(D.AI_SDK_RESPONSE_TEXT))
            if msgs:
                return messages_text(msgs), msgs
    return None, None


def event_message(event_name: str, body: Any, attrs: dict) -> list[tuple[str, dict]]:
    """(direction, message) pairs from one message event (span event or log record)."""
    if event_name == D.DETAILS_EVENT:
        out = []
        for key in D.SYSTEM_SOURCES:
            if attrs.get(key):
                out += [("input", m) for m in _system_messages(attrs[key])]
        for key, direction in (("gen_ai.input.messages", "input"), ("gen_ai.output.messages", "output")):
            if attrs.get(key) is not None:
                out += [(direction, m) for m in _semconv_messages(attrs[key]) or []]
        return out
    direction, role = D.MESSAGE_EVENTS[event_name]
    if body is None:  # span events carry the body in attributes
        body = attrs.get("gen_ai.event.content") or {
            k: v for k, v in attrs.items() if k in ("content", "role", "tool_calls", "message", "finish_reason")
        }
    if isinstance(body, str):
        try:
            body = orjson.loads(body)
        except orjson.JSONDecodeError:
            body = {"content": body}
    if not isinstance(body, dict):
        body = {"content": body}
    if event_name == D.CHOICE_EVENT and isinstance(body.get("message"), dict):
        msg = dict(body["message"])
        if body.get("finish_reason"):
            msg["finish_reason"] = body["finish_reason"]
    else:
        msg = dict(body)
    msg.setdefault("role", role or "user")
    if not msg.get("role"):
        msg["role"] = role or "user"
    return [(direction, _parts_message(msg))]


# --------------------------------------------------------------------------- errors


def classify_error(raw: str | None, http_status: int | None, message: str | None = None) -> str | None:
    """Error class a user can tell apart: rate_limit, timeout, server_error, client_error, ...
    For an error type that only wraps the API's answer (D.WRAPPER_ERROR_TYPES), the message first."""
    if raw and isinstance(message, str) and raw.strip().rsplit(".", 1)[-1] in D.WRAPPER_ERROR_TYPES:
        low = message.lower().replace(" ", "")
        for pattern, cls in D.ERROR_CLASS_PATTERNS:
            if pattern in low:
                return cls
    if raw:
        low = raw.lower().replace(" ", "")
        for pattern, cls in D.ERROR_CLASS_PATTERNS:
            if pattern in low:
                return cls
    if http_status:
        if http_status in D.HTTP_STATUS_CLASSES:
            return D.HTTP_STATUS_CLASSES[http_status]
        if 500 <= http_status < 600:
            return "server_error"
        if 400 <= http_status < 500:
            return "client_error"
    if raw:
        s = raw.strip()
        if s.startswith("<class '") and s.endswith("'>"):
            s = s[8:-2]
        if s.isdigit():
            code = int(s)
            return "server_error" if code >= 500 else "client_error" if code >= 400 else s
        return s.rsplit(".", 1)[-1]
    return None


# --------------------------------------------------------------------------- the batch sink


# rows -> Arrow buffers in C (``_native/columns.c``); None: pyarrow converts the rows itself
_build_columns = accelerator("columns", "build_columns")
_KIND_OF_TYPE = {pa.string(): "s", pa.int64(): "i", pa.float64(): "f", pa.bool_(): "b"}
_SPAN_KINDS = "".join(
    _KIND_OF_TYPE[t.storage_type if isinstance(t, pa.BaseExtensionType) else t] for _, t in SPAN_FIELDS
)


def _from_buffers(t: pa.DataType, n: int, built: tuple) -> pa.Array:
    validity, nulls, offsets, data = built
    storage = t.storage_type if isinstance(t, pa.BaseExtensionType) else t
    buffers = [pa.py_buffer(validity) if validity is not None else None]
    if offsets is not None:
        buffers.append(pa.py_buffer(offsets))
    buffers.append(pa.py_buffer(data))
    arr = pa.Array.from_buffers(storage, n, buffers, null_count=nulls)
    return pa.ExtensionArray.from_storage(t, arr) if storage is not t else arr


class Batch:
    """Collects normalized spans and log-borne messages for one chunk of input."""

    def __init__(self, mapping: Mapping, source: str = ""):
        self.mapping = mapping
        self.source = source
        self.line = 0
        self.rows: list[tuple] = []  # one tuple per span in SPAN_COLUMNS order; transposed once at the end
        self._last_resource: dict | None = None
        self._rule_resource: dict | None = None
        self._rule_scope: str | None = None
        self._rule_ctx: tuple[int, str] = (0, D.DEFAULT_DIALECT)
        self._last_resource_json = "{}"
        self._last_resource_trace: str | None = None
        self.logs: dict[str, list] = {n: [] for n, _ in LOG_FIELDS}
        self.errors: list[tuple[int, str]] = []  # (line, reason); the first few only are shipped back
        self.n_bad = 0
        self.line_count = 0
        self.unattached_logs = 0
        self._log_seq = 0
        self.scrubber = None
        if mapping.privacy is not None and mapping.privacy.active:
            from .privacy import Scrubber

            self.scrubber = Scrubber(mapping.privacy)
        self.skipped_note: str | None = None
        self.dropped: list[tuple[str, int, str]] = []  # (source, line, reason) of records no column could hold

    def __len__(self) -> int:
        return len(self.rows)

    # Sink protocol --------------------------------------------------------
    def bad(self, reason: str) -> None:
        self.n_bad += 1
        self.errors.append((self.line, self._scrubbed_reason(reason)))

    def _scrubbed_reason(self, reason: str) -> str:
        """A bad record's reason may quote the record (its name, a value): it says no more than the
        store would hold. Never an unencodable text either: it is printed and shipped between processes."""
        if self.scrubber is not None:
            reason = self.scrubber.metadata("", reason)
        return _printable_text(reason)

    def add_span(
        self,
        trace_id,
        span_id,
        parent_span_id,
        name,
        kind,
        start_ns,
        end_ns,
        status_code,
        status_message,
        attrs,
        events,
        resource,
        scope_name,
    ) -> None:
        if not (0 <= start_ns <= _INT64_MAX and 0 <= end_ns <= _INT64_MAX):
            raise _time_error(name, start_ns, end_ns)
        m = self.mapping
        shape = m.shape(attrs, resource)
        values = m.resolve(attrs, resource, shape)
        for i in _TOKEN_COLUMNS:
            v = values[i]
            if v is not None and not 0 <= v < MAX_TOKENS:
                values[i] = None
        span_type = _span_type(shape, attrs)
        dialect = self._dialect(shape, resource, scope_name)
        in_text, in_msgs, out_text, out_msgs, exc_type, exc_msg = _content(
            shape, attrs, events, span_type, values, start_ns
        )
        status = STATUS_NAMES[status_code] if 0 <= status_code <= 2 else "unset"
        raw_err = attrs.get("error.type") or exc_type
        error_type = error_message = None
        if status == "error" or raw_err:
            error_type, error_message = _error_fields(raw_err, status_message, exc_msg, values[_HTTP_STATUS_CODE])
        _names_from_span(values, span_type, name, resource)
        if events:
            self._span_evaluations(trace_id, span_id, events)

        sc = self.scrubber
        if sc is not None:  # every value was read from the raw data; store only the scrubbed ones
            in_text, out_text, in_msgs, out_msgs, attrs, events = _scrub_content(
                sc, trace_id, in_text, out_text, in_msgs, out_msgs, attrs, events
            )
        row: tuple = (
            trace_id,
            span_id,
            parent_span_id,
            name,
            KIND_NAMES[kind] if 0 <= kind <= 5 else "unspecified",
            start_ns,
            end_ns,
            status,
            status_message or None,
            error_type,
            error_message,
            span_type,
            dialect,
            scope_name or None,
            *values,
            in_text,
            out_text,
            _json(in_msgs) if in_msgs else None,
            _json(out_msgs) if out_msgs else None,
            _tool_definitions(attrs, shape.tool_sources) if span_type == "llm" and shape.tool_sources else None,
            _json(attrs),
            self._resource_json(resource, trace_id),
            _json([{"name": n, "time_unix_nano": t, "attributes": a} for n, t, a in events]) if events else None,
            self.source,
            self.line,
        )
        self.rows.append(row if sc is None else _scrub_columns(sc, trace_id, row))

    def _resource_json(self, resource: dict, trace_id: Any) -> str:
        """The resource's attributes as stored JSON: spans of one resourceSpans share the dict, so it is
        dumped once (scrubbed: once per trace, as placeholders are)."""
        if resource is not self._last_resource or (self.scrubber is not None and trace_id != self._last_resource_trace):
            self._last_resource, self._last_resource_trace = resource, trace_id
            sc = self.scrubber
            self._last_resource_json = _json(sc.attributes(trace_id, resource) if sc is not None else resource)
        return self._last_resource_json

    def _dialect(self, shape: _Shape, resource: dict, scope_name: Any) -> str:
        """The span's dialect: resource and scope rules (the same for every span of a scope: decided once
        per scope), unless an attribute rule ranked before them matches."""
        if resource is not self._rule_resource or scope_name != self._rule_scope:
            self._rule_resource, self._rule_scope = resource, scope_name
            self._rule_ctx = _context_dialect(resource, scope_name)
        ctx_index, dialect = self._rule_ctx
        if shape.attr_dialect is not None and shape.attr_dialect[0] <= ctx_index:
            dialect = shape.attr_dialect[1]
        return dialect

    def add_log(self, trace_id, span_id, time_ns, event_name, body, attrs, resource) -> None:
        if event_name not in D.MESSAGE_EVENTS and event_name != D.DETAILS_EVENT:
            if event_name == D.EVALUATION_EVENT:
                self.add_evaluation(trace_id, span_id, time_ns, attrs)
            return  # only message-bearing log events are attached to spans
        if not 0 <= time_ns <= _INT64_MAX:
            raise ValueError(f"log record: time {str(time_ns)[:24]} is not Unix nanoseconds (1970 to 2262)")
        if trace_id is None or span_id is None:
            # seen in real exports (openlit's streaming calls): not malformed, just unattachable
            self.unattached_logs += 1
            return
        sc = self.scrubber
        messages = event_message(event_name, body, attrs)  # read from the raw values; stored scrubbed
        if sc is not None:
            # the body is content; with a hash key its messages' hashes stand for it
            body = None if sc.privacy.hash_key is not None else sc.content(trace_id, body)
            attrs = sc.attributes(trace_id, attrs)
            event_name = sc.column("event_name", trace_id, event_name)
        for direction, msg in messages:
            if sc is not None:
                msg = (sc.messages(trace_id, [msg]) or [msg])[0]  # a list in, a list out
            self._append_log(
                trace_id, span_id, time_ns, event_name, direction, msg.get("role"), messages_text([msg]), _json(msg),
                _json(attrs), _json(body) if body is not None else None,
            )  # fmt: skip

    def _append_log(
        self, trace_id, span_id, time_ns, event_name, direction, role, content, message, attributes, body
    ) -> None:
        """One row of the logs batch; ``seq`` keeps the order of the input for records without times."""
        lg = self.logs
        lg["trace_id"].append(trace_id)
        lg["span_id"].append(span_id)
        lg["time_ns"].append(time_ns)
        lg["seq"].append(self._log_seq)
        self._log_seq += 1
        lg["event_name"].append(event_name)
        lg["direction"].append(direction)
        lg["role"].append(role)
        lg["content"].append(content)
        lg["message"].append(message)
        lg["attributes"].append(attributes)
        lg["body"].append(body)
        lg["source"].append(self.source)
        lg["source_line"].append(self.line)

    def _span_evaluations(self, trace_id, span_id, events: Any) -> None:
        """gen_ai.evaluation.result as span events: verdicts about the span carrying them, as a log record
        parented to it would be. An unusable one is a bad record of its own; the span is kept."""
        for ename, etime, eattrs in events:
            if ename == D.EVALUATION_EVENT:
                try:
                    self.add_evaluation(trace_id, span_id, etime, eattrs)
                except (ValueError, TypeError) as e:
                    self.bad(str(e))

    def add_evaluation(self, trace_id, span_id, time_ns, attrs: dict) -> None:
        """A gen_ai.evaluation.result event as a log row (direction "evaluation", the verdict as its message); the
        loader turns it into an `evals` row. Without span ids it waits for the loader to find its response id."""
        if not 0 <= time_ns <= _INT64_MAX:
            raise ValueError(f"evaluation event: time {str(time_ns)[:24]} is not Unix nanoseconds (1970 to 2262)")
        verdict = {key: attrs.get(name) for key, name in D.EVALUATION_KEYS.items()}
        if not isinstance(verdict["metric"], str) or not verdict["metric"]:
            raise ValueError("evaluation event: gen_ai.evaluation.name (required) is missing")
        verdict["score"] = _score(verdict["score"])
        if (trace_id is None or span_id is None) and not verdict["response_id"]:
            self.unattached_logs += 1  # names neither a span nor a response: nothing it could be about
            return
        if not (trace_id and span_id):
            trace_id = span_id = ""  # the loader finds the span by the response id
        sc = self.scrubber
        if sc is not None:
            verdict["explanation"] = sc.content(trace_id, verdict["explanation"])
            attrs = sc.attributes(trace_id, attrs)
        explanation = verdict["explanation"] if isinstance(verdict["explanation"], str) else None
        self._append_log(
            trace_id, span_id, time_ns, D.EVALUATION_EVENT, "evaluation", None, explanation, _json(verdict),
            _json(attrs), None,
        )  # fmt: skip

    # output ------------------------------------------------------------------
    def span_record_batch(self) -> pa.RecordBatch:
        """The spans as one Arrow batch. A span holding a value its column cannot store (a lone
        surrogate in a text, a list where a number belongs: anything normalize let through) is
        dropped as a bad record of its own line (``dropped``), never the end of the batch."""
        try:
            return self._span_batch()
        except UNSTORABLE:
            self.rows = self._storable_rows()
            return self._span_batch()

    def _storable_rows(self) -> list[tuple]:
        kept = []
        for row in self.rows:
            why = _unstorable(row, SPAN_FIELDS)
            if why is None:
                kept.append(row)
            else:
                self._drop(row[_SOURCE], row[_SOURCE_LINE], f"span {row[1]}: {why}")
        return kept

    def _drop(self, source: str, line: int, reason: str) -> None:
        reason = self._scrubbed_reason(reason)
        self.n_bad += 1
        self.errors.append((line, reason))
        self.dropped.append((source, line, reason))

    def _span_batch(self) -> pa.RecordBatch:
        if _build_columns is not None and self.rows:  # in C: the same arrays, built without pyarrow's converter
            built = _build_columns(self.rows, _SPAN_KINDS)
            if built is not None:  # None: a value pyarrow must convert (or reject) itself
                n = len(self.rows)
                return pa.RecordBatch.from_arrays(
                    [_from_buffers(t, n, b) for (_, t), b in zip(SPAN_FIELDS, built)], schema=SPAN_SCHEMA
                )
        columns = list(zip(*self.rows)) if self.rows else [() for _ in SPAN_FIELDS]
        return pa.RecordBatch.from_arrays(
            [pa.array(col, type=t) for col, (_, t) in zip(columns, SPAN_FIELDS)], schema=SPAN_SCHEMA
        )

    def log_record_batch(self) -> pa.RecordBatch:
        """The log-borne messages as one Arrow batch; unstorable ones are dropped as in :meth:`span_record_batch`."""
        try:
            return self._log_batch()
        except UNSTORABLE:
            names = [n for n, _ in LOG_FIELDS]
            rows = list(zip(*(self.logs[n] for n in names)))
            kept = []
            for row in rows:
                why = _unstorable(row, LOG_FIELDS)
                if why is None:
                    kept.append(row)
                else:
                    lg = dict(zip(names, row))
                    self._drop(lg["source"], lg["source_line"], f"log record of span {lg['span_id']}: {why}")
            columns = list(zip(*kept)) if kept else [() for _ in names]
            self.logs = {n: list(c) for n, c in zip(names, columns)}
            return self._log_batch()

    def _log_batch(self) -> pa.RecordBatch:
        return pa.RecordBatch.from_arrays([pa.array(self.logs[n], type=t) for n, t in LOG_FIELDS], schema=LOG_SCHEMA)

    def n_logs(self) -> int:
        return len(self.logs["trace_id"])

    def redacted(self) -> dict[str, int]:
        """Values redaction replaced in this batch's stored spans and log messages, by PII kind (empty with
        privacy off). Call it after :meth:`span_record_batch` and :meth:`log_record_batch`: rows they drop
        are not stored, so not counted."""
        if self.scrubber is None:
            return {}
        texts = itertools.chain(itertools.chain.from_iterable(self.rows), *self.logs.values())
        return self.scrubber.count_placeholders(texts)


# --------------------------------------------------------------------------- the steps of add_span


def _score(v: Any) -> float | None:
    """gen_ai.evaluation.score.value as a number (attribute maps may hold it as text); else a bad record."""
    if v is None:
        return None
    if not isinstance(v, bool):
        try:
            score = float(v)
            if math.isfinite(score):
                return score
        except (TypeError, ValueError):
            pass
    raise ValueError(f"evaluation event: score {str(v)[:40]!r} is not a number")


def _time_error(name: Any, start_ns: Any, end_ns: Any) -> ValueError:
    """The store derives times and durations from these in SQL: beyond int64 (or before 1970, where
    end - start can overflow) a span would end the whole load there, not here."""
    t = str(min(start_ns, end_ns) if min(start_ns, end_ns) < 0 else max(start_ns, end_ns))
    where = "before 1970" if t.startswith("-") else "beyond int64 nanoseconds (the year 2262)"
    return ValueError(f"span {name!r}: time {t if len(t) <= 24 else t[:20] + '…'} is {where}: not Unix nanoseconds")


def _span_type(shape: _Shape, attrs: dict) -> str:
    """The first type rule of the span's shape whose attribute names a type; else ``other``."""
    for key, table in shape.type_rules:
        v = attrs[key]
        if v is not None:
            found = table.get(v.lower() if type(v) is str else str(v).lower())
            if found:
                return found
    return "other"


def _content(shape: _Shape, attrs: dict, events: Any, span_type: str, values: list, start_ns: Any) -> tuple:
    """(input text, input messages, output text, output messages, exception type, exception message):
    content from attributes, then from span events, with the system prompt put first. Sets the
    time to first token in ``values`` from an event that marks it."""
    in_text, in_msgs = _extract(attrs, shape.input_sources) if shape.input_sources else (None, None)
    out_text, out_msgs = (
        (None, None)
        if span_type in D.NO_OUTPUT_TEXT or not shape.output_sources
        else _extract(attrs, shape.output_sources)
    )
    sys_msgs: list[dict] = []
    for key in shape.system_keys:
        if attrs.get(key):
            sys_msgs = _system_messages(attrs[key])
    exc_type = exc_msg = None
    if events:
        ev_in, ev_out, chunks, exc_type, exc_msg = _read_events(events, values, start_ns)
        if in_text is None and ev_in:
            in_msgs = ev_in
            in_text = messages_text(ev_in)
        if out_text is None and ev_out:
            out_msgs = ev_out
            out_text = messages_text(ev_out)
        if out_text is None and chunks:
            chunks.sort(key=lambda c: c[0])
            out_text = "".join(c for _, c in chunks)
            out_msgs = [{"role": "assistant", "content": out_text}]
    if sys_msgs and in_msgs is not None and not any(x.get("role") == "system" for x in in_msgs):
        in_msgs = sys_msgs + in_msgs
        in_text = messages_text(in_msgs)
    elif sys_msgs and in_msgs is None:
        in_msgs = sys_msgs
        in_text = messages_text(sys_msgs)
    return in_text, in_msgs, out_text, out_msgs, exc_type, exc_msg


def _read_events(events: Any, values: list, start_ns: Any) -> tuple:
    """(input messages, output messages, streamed chunks, exception type, exception message) from span events."""
    ev_in: list[dict] = []
    ev_out: list[dict] = []
    chunks: list[tuple[int, str]] = []
    exc_type = exc_msg = None
    for ename, etime, eattrs in events:
        if ename in D.MESSAGE_EVENTS or ename == D.DETAILS_EVENT:
            for direction, msg in event_message(ename, None, eattrs):
                (ev_in if direction == "input" else ev_out).append(msg)
        elif ename in D.CONTENT_EVENTS:
            text = eattrs.get(ename.replace("content.", "")) or next(iter(eattrs.values()), None)
            if text:
                is_input = D.CONTENT_EVENTS[ename] == "input"
                (ev_in if is_input else ev_out).append(
                    {"role": "user" if is_input else "assistant", "content": _text(text)}
                )
        elif ename in D.CHUNK_EVENTS:
            chunk = eattrs.get(D.CHUNK_EVENTS[ename])
            if chunk is None:
                chunk = next((v for v in eattrs.values() if isinstance(v, str)), None)
            if chunk is not None:
                chunks.append((etime, chunk))
        elif ename == D.EXCEPTION_EVENT:
            exc_type = eattrs.get("exception.type")
            exc_msg = eattrs.get("exception.message")
        elif ename in D.FIRST_TOKEN_EVENTS and values[_TTFT_MS] is None and etime and start_ns:
            values[_TTFT_MS] = (etime - start_ns) / 1e6
    return ev_in, ev_out, chunks, exc_type, exc_msg


def _names_from_span(values: list, span_type: str, name: Any, resource: dict) -> None:
    """Agent and tool names from the span name when no attribute gave them; the service from the resource."""
    if values[_AGENT_NAME] is None and span_type == "agent":
        values[_AGENT_NAME] = _strip_name(name, *D.NAME_CARRIES["agent_name"])
    if values[_TOOL_NAME] is None and span_type == "tool":
        values[_TOOL_NAME] = _strip_name(name, *D.NAME_CARRIES["tool_name"])
    if values[_SERVICE_NAME] is None:
        values[_SERVICE_NAME] = resource.get("service.name")


def _error_fields(raw_err: Any, status_message: Any, exc_msg: Any, http_status: Any) -> tuple:
    """(error type, error message) of a span that failed or names an error type."""
    # the message too: a wrapper error type (the AI SDK's AI_APICallError) is classified by what it says
    error_type = classify_error(
        str(raw_err) if raw_err else (status_message or None), http_status, exc_msg or status_message or None
    )
    return error_type if error_type is not None else "error", exc_msg or status_message or None


def _scrub_columns(sc: Any, trace_id: Any, row: tuple) -> tuple:
    """The plain text columns of a span row (names, status, models, context) scrubbed by their policy."""
    return tuple(
        sc.column(n, trace_id, v) if i in _SCRUBBED_SPAN_POSITIONS else v
        for i, (n, v) in enumerate(zip(SPAN_COLUMNS, row))
    )


def _scrub_content(sc: Any, trace_id: Any, in_text, out_text, in_msgs, out_msgs, attrs: dict, events: Any) -> tuple:
    """The content read from the raw values, scrubbed for storing (privacy on)."""
    in_text, out_text = sc.content(trace_id, in_text), sc.content(trace_id, out_text)
    in_msgs, out_msgs = sc.messages(trace_id, in_msgs), sc.messages(trace_id, out_msgs)
    attrs = sc.attributes(trace_id, attrs)
    events = sc.events(trace_id, events) if events else events
    return in_text, out_text, in_msgs, out_msgs, attrs, events


# Plain text columns of a span row that the scrubber sees one by one (content texts and JSON columns
# are scrubbed as structures before they are written).
_SCRUBBED_SPAN_POSITIONS = frozenset(
    i for i, (n, t) in enumerate(SPAN_FIELDS) if t == pa.string() and n not in ("input_text", "output_text")
)

# What building an Arrow array raises for a value its column cannot hold.
UNSTORABLE = (pa.ArrowException, UnicodeError, TypeError, ValueError, OverflowError)
_SOURCE, _SOURCE_LINE = SPAN_COLUMNS.index("source"), SPAN_COLUMNS.index("source_line")
assert (_SOURCE, _SOURCE_LINE) == (len(SPAN_COLUMNS) - 2, len(SPAN_COLUMNS) - 1)


def _unstorable(row: tuple, fields: list[tuple[str, pa.DataType]]) -> str | None:
    """Why one row cannot go into its Arrow columns (the first column that cannot hold its value), or None."""
    for v, (name, t) in zip(row, fields):
        if v is None:
            continue
        storage = t.storage_type if isinstance(t, pa.BaseExtensionType) else t
        if storage == pa.string():
            if type(v) is not str:
                return f"{name} is a {type(v).__name__}, not text"
            try:
                v.encode("utf-8")
            except UnicodeEncodeError:
                return f"{name} is not valid Unicode text (a lone surrogate)"
        elif storage == pa.int64():
            if type(v) is not int:
                return f"{name} is a {type(v).__name__}, not an integer"
            if not _INT64_MIN <= v <= _INT64_MAX:
                return f"{name} is beyond a 64-bit integer"
        elif storage == pa.float64():
            if type(v) is not float and type(v) is not int:
                return f"{name} is a {type(v).__name__}, not a number"
            try:
                float(v)
            except OverflowError:
                return f"{name} is beyond a 64-bit float"
        elif storage == pa.bool_() and type(v) is not bool:
            return f"{name} is a {type(v).__name__}, not true/false"
    return None


def _printable_text(s: str) -> str:
    """``s`` with lone surrogates made visible (\\ud800) rather than left to break encoders."""
    try:
        s.encode("utf-8")
        return s
    except UnicodeEncodeError:
        return s.encode("utf-8", "backslashreplace").decode("utf-8")


_ATTR_DIALECT_RULES = [(i, key, d) for i, (d, test, key, _) in enumerate(D.DIALECT_RULES) if test == "attr"]
_CONTEXT_DIALECT_RULES = [
    (i, test, key, val, d) for i, (d, test, key, val) in enumerate(D.DIALECT_RULES) if test != "attr"
]


def _context_dialect(resource: dict, scope_name: str) -> tuple[int, str]:
    """(index of the first resource/scope rule that matches, its dialect); attribute rules before
    that index still win. No match: (infinity, default)."""
    for i, test, key, val, d in _CONTEXT_DIALECT_RULES:
        if (test == "resource" and resource.get(key) == val) or (test == "scope" and scope_name.startswith(key)):
            return i, d
    return 1 << 30, D.DEFAULT_DIALECT


def _strip_name(name: str, prefixes: tuple[str, ...], suffixes: tuple[str, ...]) -> str | None:
    for p in prefixes:
        if name.startswith(p):
            return name[len(p) :] or None
    for s in suffixes:
        if name.endswith(s):
            return name[: -len(s)] or None
    return name or None
