"""The canonical ``spans`` relation over the Collector exporter's ``otel_traces``, as ClickHouse SQL
generated from the dialect table (:mod:`llmscope.normalize.dialects`): the same sources in the same
precedence, the same span types, dialects, error classes and content rules that
:mod:`llmscope.normalize.builder` applies at ingest, applied here at query time to the exporter's
rows (attributes in ``Map(String, String)``: every value a string, cast as the column needs).

Only the columns a query names are generated (a report on latency never pays for content or the
trace-level context join). Costs come from a small rate table priced by :mod:`llmscope.store.pricing`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from ... import schema
from ...normalize import dialects as D


def lit(s: str) -> str:
    """A ClickHouse string literal."""
    return "'" + s.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _arr(items: Iterable[str]) -> str:
    return "[" + ", ".join(lit(i) for i in items) + "]"


SA, RA = "SpanAttributes", "ResourceAttributes"
START_NS = "toUnixTimestamp64Nano(Timestamp)"


def _get(key: str, on_resource: bool = False) -> str:
    """A present, non-empty attribute value (the exporter writes a missing key as '')."""
    return f"nullIf({RA if on_resource else SA}[{lit(key)}], '')"


def _json_text(doc: str, field: str) -> str:
    """A field of a JSON object as text: strings unquoted, other values as JSON; NULL when absent."""
    f = lit(field)
    return (
        f"if(JSONType({doc}, {f}) = 'String', nullIf(JSONExtractString({doc}, {f}), ''), "
        f"nullIf(nullIf(JSONExtractRaw({doc}, {f}), ''), 'null'))"
    )


def _transform(v: str, t: str) -> str:
    """The builder's transforms (builder._transform) over a string value."""
    if t in ("", "str"):
        return v
    if t == "lower":
        return f"lower({v})"
    if t == "int":  # int(float(v)) for text; NaN/Infinity and values beyond int64 give NULL
        return (
            f"coalesce(toInt64OrNull({v}), if(isFinite(toFloat64OrNull({v})) AND abs(toFloat64OrNull({v})) < 9.2e18, "
            f"toInt64(toFloat64OrNull({v})), NULL))"
        )
    if t == "float":
        return f"toFloat64OrNull({v})"
    if t == "s_to_ms":
        return f"toFloat64OrNull({v}) * 1000.0"
    if t == "bool":
        return f"if({v} IS NULL, NULL, lower({v}) IN ('true', '1'))"
    if t == "first":  # the first element of a JSON list, else the value
        return (
            f"if(startsWith({v}, '[') AND isValidJSON({v}), "
            f"if(JSONLength({v}) = 0, NULL, if(JSONType({v}, 1) = 'String', JSONExtractString({v}, 1), JSONExtractRaw({v}, 1))), {v})"
        )
    if t == "reason":  # "first", with "-" as "_"
        return f"replaceAll({_transform(v, 'first')}, '-', '_')"
    if t == "head":  # the part before the first dot, lower case
        return f"nullIf(lower(splitByChar('.', {v})[1]), '')"
    raise ValueError(f"unknown transform {t!r}")


def _source(key: str, transform: str = "", when: tuple[str, str | tuple[str, ...]] | None = None) -> str:
    on_res = key.startswith("resource:")
    key = key.removeprefix("resource:")
    key, _, sub = key.partition("#")
    v = _get(key, on_res)
    if sub:
        v = _json_text(v, sub)
    e = _transform(v, transform)
    if when is not None:
        allowed = (when[1],) if isinstance(when[1], str) else when[1]
        e = f"if({SA}[{lit(when[0])}] IN ({', '.join(lit(a) for a in allowed)}), {e}, NULL)"
    return e


def _first_of(exprs: list[str]) -> str:
    return exprs[0] if len(exprs) == 1 else f"coalesce({', '.join(exprs)})"


def column_expr(column: str) -> str:
    return _first_of([_source(s.key, s.transform, s.when) for s in D.COLUMN_SOURCES[column]])


# --------------------------------------------------------------------------- derived columns


def span_type_expr() -> str:
    parts = []
    for key, table in D.SPAN_TYPE_RULES:
        cases = " ".join(f"WHEN {lit(k)} THEN {lit(v)}" for k, v in table.items())
        parts.append(f"CASE lower({SA}[{lit(key)}]) {cases} END")
    return f"coalesce({', '.join(parts)}, 'other')"


def dialect_expr(scope: str) -> str:
    conds = []
    for dialect, test, key, value in D.DIALECT_RULES:
        if test == "attr":
            conds.append(f"mapContains({SA}, {lit(key)})")
        elif test == "resource":
            conds.append(f"{RA}[{lit(key)}] = {lit(value)}")
        else:
            conds.append(f"startsWith({scope}, {lit(key)})")
        conds.append(lit(dialect))
    return f"multiIf({', '.join(conds)}, {lit(D.DEFAULT_DIALECT)})"


def _by_name_expr(raw: str) -> str:
    """The class of the first name pattern found in raw ('' when none is)."""
    pats = [p for p, _ in D.ERROR_CLASS_PATTERNS]
    classes = [c for _, c in D.ERROR_CLASS_PATTERNS]
    low = f"lower(replaceAll(ifNull({raw}, ''), ' ', ''))"
    return f"arrayElement({_arr(classes)}, arrayFirstIndex(p -> p > 0, multiSearchAllPositions({low}, {_arr(pats)})))"


def classify_expr(raw: str, http: str, message: str = "NULL") -> str:
    """builder.classify_error: for a wrapper error type the message's patterns, then name patterns in
    table order, then the HTTP status, then the raw name."""
    by_name = _by_name_expr(raw)
    tail = f"arrayElement(splitByChar('.', trimBoth(ifNull({raw}, ''))), -1)"
    by_message = _by_name_expr(message)
    wrapped = f"{raw} IS NOT NULL AND {message} IS NOT NULL AND {tail} IN {_arr(D.WRAPPER_ERROR_TYPES)} AND {by_message} != ''"
    codes = ", ".join(str(c) for c in D.HTTP_STATUS_CLASSES)
    by_http = (
        f"multiIf({http} IN ({codes}), arrayElement({_arr(D.HTTP_STATUS_CLASSES.values())}, indexOf([{codes}], {http})), "
        f"{http} >= 500 AND {http} < 600, 'server_error', {http} >= 400 AND {http} < 500, 'client_error', NULL)"
    )
    s = f"trimBoth(ifNull({raw}, ''))"
    s = f"if(startsWith({s}, '<class \\'') AND endsWith({s}, '\\'>'), substring({s}, 9, length({s}) - 10), {s})"
    by_raw = (
        f"if(match({s}, '^[0-9]+$'), multiIf(toUInt64OrZero({s}) >= 500, 'server_error', toUInt64OrZero({s}) >= 400, "
        f"'client_error', {s}), arrayElement(splitByChar('.', {s}), -1))"
    )
    return (
        f"multiIf({wrapped}, {by_message}, {raw} IS NOT NULL AND nullIf({by_name}, '') IS NOT NULL, {by_name}, "
        f"coalesce({http}, 0) != 0 AND {by_http} IS NOT NULL, {by_http}, {raw} IS NOT NULL, {by_raw}, NULL)"
    )


def _strip_name_expr(name: str, prefixes: tuple[str, ...], suffixes: tuple[str, ...]) -> str:
    conds = []
    for p in prefixes:
        conds += [f"startsWith({name}, {lit(p)})", f"nullIf(substring({name}, {len(p) + 1}), '')"]
    for s in suffixes:
        conds += [f"endsWith({name}, {lit(s)})", f"nullIf(substring({name}, 1, length({name}) - {len(s)}), '')"]
    return f"multiIf({', '.join(conds)}, nullIf({name}, ''))"


# --------------------------------------------------------------------------- content


def _event_attr_of_last(name: str, key: str) -> str:
    return f"nullIf(arrayFilter((a, n) -> n = {lit(name)}, Events.Attributes, Events.Name)[-1][{lit(key)}], '')"


def _indexed_text(prefix: str) -> str:
    """Flattened ``prefix.N.content`` / ``prefix.N.message.content`` / tool calls ``prefix.N.tool_calls.M.name``
    back into messages_text: per message in index order, its content, then its calls as ``name(arguments)``."""
    probes = " OR ".join(f"mapContains({SA}, {lit(prefix + s)})" for s in _PROBES)
    items = (
        f"arrayConcat("
        f"arrayMap(k -> (toUInt32(extract(k, {lit(_re(prefix, 'content'))})), -1, {SA}[k]), "
        f"arrayFilter(k -> match(k, {lit(_re(prefix, 'content'))}) AND {SA}[k] != '', mapKeys({SA}))), "
        f"arrayMap(k -> (toUInt32(extract(k, {lit(_re(prefix, 'call'))})), toInt64(extract(k, {lit(_re(prefix, 'call_index'))})), "
        f"concat({SA}[k], '(', {SA}[replaceRegexpOne(k, 'name$', 'arguments')], ')')), "
        f"arrayFilter(k -> match(k, {lit(_re(prefix, 'call_name'))}), mapKeys({SA}))))"
    )
    return f"if({probes}, nullIf(arrayStringConcat(arrayMap(t -> t.3, arraySort({items})), '\\n'), ''), NULL)"


_PROBES = (".0.role", ".0.content", ".0.message.role", ".0.message.content", ".0.tool_calls.0.name")


def _re(prefix: str, what: str) -> str:
    p = prefix.replace(".", "\\.")
    if what == "content":
        return f"^{p}\\.([0-9]+)\\.(?:message\\.|embedding\\.|document\\.)?(?:content|text)$"
    if what == "call":
        return f"^{p}\\.([0-9]+)\\.(?:message\\.)?tool_calls\\."
    if what == "call_index":
        return f"^{p}\\.[0-9]+\\.(?:message\\.)?tool_calls\\.([0-9]+)\\."
    return f"^{p}\\.[0-9]+\\.(?:message\\.)?tool_calls\\.[0-9]+\\.(?:tool_call\\.)?(?:function\\.)?name$"


def _json_field_text(doc: str, *path: str) -> str:
    """JSON value at path as text (strings unquoted; other values as JSON); '' when absent."""
    args = ", ".join(lit(p) for p in path)
    return (
        f"if(JSONType({doc}, {args}) = 'String', JSONExtractString({doc}, {args}), "
        f"if(JSONType({doc}, {args}) IN ('Null', ''), '', JSONExtractRaw({doc}, {args})))"
    )


def _message_text(m: str) -> str:
    """builder._parts_message then messages_text for one semconv / ChatML message (raw JSON)."""
    parts = f"JSONExtractArrayRaw({m}, 'parts')"
    part_text = (
        f"multiIf(JSONExtractString(p, 'type') = 'tool_call', "
        f"concat(JSONExtractString(p, 'name'), '(', {_json_field_text('p', 'arguments')}, ')'), "
        f"JSONExtractString(p, 'type') = 'tool_call_response', "
        f"if(JSONHas(p, 'result'), {_json_field_text('p', 'result')}, {_json_field_text('p', 'response')}), "
        f"JSONHas(p, 'content'), {_json_field_text('p', 'content')}, '')"
    )
    # content parts first, then calls (the builder lists a message's calls after its text)
    from_parts = (
        f"arrayStringConcat(arrayFilter(x -> x != '', arrayConcat("
        f"arrayMap(p -> if(JSONExtractString(p, 'type') = 'tool_call', '', {part_text}), {parts}), "
        f"arrayMap(p -> if(JSONExtractString(p, 'type') = 'tool_call', {part_text}, ''), {parts}))), '\\n')"
    )
    content = (
        f"if(JSONType({m}, 'content') = 'Array', arrayStringConcat(arrayFilter(x -> x != '', "
        f"arrayMap(x -> if(JSONType(x) = 'Object', {_json_field_text('x', 'text')}, if(JSONType(x) = 'String', "
        f"JSONExtractString(x), JSONExtractRaw(x))), JSONExtractArrayRaw({m}, 'content'))), '\\n'), "
        f"{_json_field_text(m, 'content')})"
    )
    calls = (
        f"arrayStringConcat(arrayMap(tc -> if(JSONType(tc, 'function') = 'Object', "
        f"concat(JSONExtractString(tc, 'function', 'name'), '(', {_json_field_text('tc', 'function', 'arguments')}, ')'), "
        f"concat(JSONExtractString(tc, 'name'), '(', {_json_field_text('tc', 'arguments')}, ')')), "
        f"JSONExtractArrayRaw({m}, 'tool_calls')), '\\n')"
    )
    chatml = f"arrayStringConcat(arrayFilter(x -> x != '', [{content}, {calls}]), '\\n')"
    return f"if(JSONType({m}, 'parts') = 'Array', {from_parts}, {chatml})"


def _semconv_text(v: str) -> str:
    nn = f"ifNull({v}, '')"  # array functions take no Nullable
    msgs = f"if(JSONType({nn}) = 'Array', JSONExtractArrayRaw({nn}), [{nn}])"
    joined = (
        f"nullIf(arrayStringConcat(arrayFilter(x -> x != '', arrayMap(m -> {_message_text('m')}, {msgs})), '\\n'), '')"
    )
    return f"if({v} IS NULL, NULL, if(isValidJSON({v}), {joined}, {v}))"


def _documents_text(prefix: str) -> str:
    r = f"^{prefix.replace('.', chr(92) + '.')}\\.([0-9]+)\\.document\\.content$"
    items = f"arrayMap(k -> (toUInt32(extract(k, {lit(r)})), {SA}[k]), arrayFilter(k -> match(k, {lit(r)}) AND {SA}[k] != '', mapKeys({SA})))"
    return f"nullIf(arrayStringConcat(arrayMap(t -> t.2, arraySort({items})), '\\n\\n'), '')"


def _json_text_items(v: str) -> str:
    """builder._json_text_messages' texts: the elements of a JSON list (else the value), each decoded
    once more when it is JSON (a string as itself, anything else as JSON)."""
    nn = f"ifNull({v}, '')"
    items = (
        f"if(isValidJSON({nn}) AND JSONType({nn}) = 'Array', "
        f"arrayMap(x -> if(JSONType(x) = 'String', JSONExtractString(x), x), JSONExtractArrayRaw({nn})), [{nn}])"
    )
    decoded = (
        "if(isValidJSON(t), multiIf(JSONType(t) = 'String', JSONExtractString(t), JSONType(t) = 'Null', '', t), t)"
    )
    return f"arrayFilter(t -> t != '', arrayMap(t -> {decoded}, {items}))"


def _json_text_text(v: str) -> str:
    return f"if({v} IS NULL, NULL, nullIf(arrayStringConcat({_json_text_items(v)}, '\\n'), ''))"


def _json_text_json(v: str) -> str:
    msgs = f'arrayMap(t -> concat(\'{{"role":"user","content":\', toJSONString(t), \'}}\'), {_json_text_items(v)})'
    return f"if({v} IS NULL, NULL, nullIf(concat('[', arrayStringConcat({msgs}, ','), ']'), '[]'))"


def _ai_calls(v: str) -> str:
    return f"arrayFilter(c -> JSONType(c) = 'Object', {_ai_list(v)})"


def _ai_tool_calls_text(v: str) -> str:
    """builder._ai_tool_calls_messages then messages_text: the response text, then name(arguments) per call."""
    args = f"if(JSONHas(c, 'input'), {_json_field_text('c', 'input')}, {_json_field_text('c', 'args')})"
    calls = f"arrayMap(c -> concat(JSONExtractString(c, 'toolName'), '(', {args}, ')'), {_ai_calls(v)})"
    text = f"ifNull({_get(D.AI_SDK_RESPONSE_TEXT)}, '')"
    return (
        f"if(empty({_ai_calls(v)}), NULL, "
        f"arrayStringConcat(arrayFilter(x -> x != '', arrayConcat([{text}], {calls})), '\\n'))"
    )


def _ai_tool_calls_json(v: str) -> str:
    args = f"if(JSONHas(c, 'input'), {_text_or_null('c', 'input')}, {_text_or_null('c', 'args')})"
    calls = f"arrayMap(c -> {_call_json(_raw_or_null('c', 'toolCallId'), _raw_or_null('c', 'toolName'), args)}, {_ai_calls(v)})"
    text = _get(D.AI_SDK_RESPONSE_TEXT)
    content = f"if({text} IS NULL, 'null', toJSONString({text}))"
    return (
        f'if(empty({_ai_calls(v)}), NULL, concat(\'[{{"role":"assistant","content":\', {content}, '
        f"{_calls_member(calls)}, '}}]'))"
    )


# builder._ai_messages: AI SDK ai.prompt.messages, whose content parts may be tool calls and tool results
_AI_PARTS = "('tool-call', 'tool-result')"


def _ai_is_part(kind: str) -> str:
    return f"p -> JSONType(p) = 'Object' AND JSONExtractString(p, 'type') = {lit(kind)}"


def _ai_parts(m: str) -> str:
    return f"if(JSONType({m}, 'content') = 'Array', JSONExtractArrayRaw({m}, 'content'), [])"


def _ai_has_tool_parts(m: str) -> str:
    return f"arrayExists(p -> JSONType(p) = 'Object' AND JSONExtractString(p, 'type') IN {_AI_PARTS}, {_ai_parts(m)})"


def _ai_part_text(x: str) -> str:
    """One content part's text: an object's ``text``, a string itself, anything else as its JSON."""
    return (
        f"if(JSONType({x}) = 'Object', {_json_field_text(x, 'text')}, "
        f"if(JSONType({x}) = 'String', JSONExtractString({x}), JSONExtractRaw({x})))"
    )


def _ai_part_texts(m: str) -> str:
    """The texts of a message's parts other than tool calls and results ('' for a part without one)."""
    return (
        f"arrayMap(p -> {_ai_part_text('p')}, arrayFilter(p -> NOT (JSONType(p) = 'Object' AND "
        f"JSONExtractString(p, 'type') IN {_AI_PARTS}), {_ai_parts(m)}))"
    )


def _ai_result_text(p: str) -> str:
    """builder._ai_result_text as text ('' for none): output.value (a content list: its texts), else result."""
    value_texts = f"arrayMap(x -> {_ai_part_text('x')}, JSONExtractArrayRaw({p}, 'output', 'value'))"
    return (
        f"multiIf(JSONType({p}, 'output') = 'Object' AND JSONHas({p}, 'output', 'value'), "
        f"if(JSONExtractString({p}, 'output', 'type') = 'content' AND JSONType({p}, 'output', 'value') = 'Array', "
        f"arrayStringConcat(arrayFilter(x -> x != '', {value_texts}), '\\n'), {_json_field_text(p, 'output', 'value')}), "
        f"JSONHas({p}, 'result'), {_json_field_text(p, 'result')}, {_json_field_text(p, 'output')})"
    )


def _ai_result_content(p: str) -> str:
    """builder._ai_result_text as a JSON member value (null when absent or empty)."""
    return (
        f"multiIf(JSONType({p}, 'output') = 'Object' AND JSONHas({p}, 'output', 'value'), "
        f"if(JSONExtractString({p}, 'output', 'type') = 'content' AND JSONType({p}, 'output', 'value') = 'Array', "
        f"if({_ai_result_text(p)} = '', 'null', toJSONString({_ai_result_text(p)})), {_text_or_null(p, 'output', 'value')}), "
        f"JSONHas({p}, 'result'), {_text_or_null(p, 'result')}, {_text_or_null(p, 'output')})"
    )


def _ai_message_list(m: str) -> str:
    """builder._ai_message: [the message (text, tool_calls) unless it only carries results, then a tool message per result]."""
    parts = _ai_parts(m)
    args = f"if(JSONHas(p, 'input'), {_text_or_null('p', 'input')}, {_text_or_null('p', 'args')})"
    calls = f"arrayMap(p -> {_call_json(_raw_or_null('p', 'toolCallId'), _raw_or_null('p', 'toolName'), args)}, arrayFilter({_ai_is_part('tool-call')}, {parts}))"
    results = (
        f'arrayMap(p -> concat(\'{{"role":"tool","content":\', {_ai_result_content("p")}, '
        f"',\"tool_call_id\":', {_raw_or_null('p', 'toolCallId')}, '}}'), arrayFilter({_ai_is_part('tool-result')}, {parts}))"
    )
    texts = _ai_part_texts(m)
    role = f"toJSONString(if(JSONExtractString({m}, 'role') = '', 'user', JSONExtractString({m}, 'role')))"
    main = f"concat('{{\"role\":', {role}, ',\"content\":', {_content_member(texts)}, {_calls_member(calls)}, '}}')"
    keep = f"(arrayExists(x -> x != '', {texts}) OR NOT empty({calls}) OR empty({results}))"
    return f"if({_ai_has_tool_parts(m)}, arrayConcat(if({keep}, [{main}], []), {results}), [{_message_json(m)}])"


def _ai_message_texts(m: str) -> str:
    """messages_text of builder._ai_message's messages: text, name(arguments) per call, each result."""
    parts = _ai_parts(m)
    args = f"if(JSONHas(p, 'input'), {_json_field_text('p', 'input')}, {_json_field_text('p', 'args')})"
    calls = f"arrayMap(p -> concat(JSONExtractString(p, 'toolName'), '(', {args}, ')'), arrayFilter({_ai_is_part('tool-call')}, {parts}))"
    results = f"arrayMap(p -> {_ai_result_text('p')}, arrayFilter({_ai_is_part('tool-result')}, {parts}))"
    text = f"arrayStringConcat(arrayFilter(x -> x != '', {_ai_part_texts(m)}), '\\n')"
    return f"if({_ai_has_tool_parts(m)}, arrayConcat([{text}], {calls}, {results}), [{_message_text(m)}])"


def _ai_list(v: str) -> str:
    return f"if({_ai_is_list(v)}, JSONExtractArrayRaw(ifNull({v}, '')), [])"


def _ai_is_list(v: str) -> str:
    return f"(isValidJSON(ifNull({v}, '')) AND JSONType(ifNull({v}, '')) = 'Array')"


def _ai_messages_json(v: str) -> str:
    listed = f"nullIf(concat('[', arrayStringConcat(arrayFlatten(arrayMap(m -> {_ai_message_list('m')}, {_ai_list(v)})), ','), ']'), '[]')"
    return f"if({_ai_is_list(v)}, {listed}, {_semconv_json(v)})"


def _ai_messages_text(v: str) -> str:
    joined = f"arrayStringConcat(arrayFilter(x -> x != '', arrayFlatten(arrayMap(m -> {_ai_message_texts('m')}, {_ai_list(v)}))), '\\n')"
    return f"if({_ai_is_list(v)}, nullIf({joined}, ''), {_semconv_text(v)})"


def _attr_content(sources: list[tuple[str, str]]) -> str:
    exprs = []
    for key, fmt in sources:
        if fmt == "text":
            exprs.append(_get(key))
        elif fmt == "json_text":
            exprs.append(_json_text_text(_get(key)))
        elif fmt == "ai_tool_calls":
            exprs.append(_ai_tool_calls_text(_get(key)))
        elif fmt == "semconv_messages":
            exprs.append(_semconv_text(_get(key)))
        elif fmt == "ai_messages":
            exprs.append(_ai_messages_text(_get(key)))
        elif fmt == "indexed":
            exprs.append(_indexed_text(key))
        elif fmt == "documents":
            exprs.append(_documents_text(key))
    return _first_of(exprs)


def _event_content(direction: str) -> str:
    """Content of message events (gen_ai.user.message, gen_ai.choice, …) and gen_ai.content.* events."""
    names = [n for n, (d, _) in D.MESSAGE_EVENTS.items() if d == direction]
    content_events = [n for n, d in D.CONTENT_EVENTS.items() if d == direction]
    text_of = (
        "if(mapContains(a, 'content'), a['content'], if(mapContains(a, 'message'), "
        "if(isValidJSON(a['message']), " + _json_field_text("a['message']", "content") + ", a['message']), ''))"
    )
    msg = f"arrayMap((a, n) -> if(n IN {_arr(content_events)}, if(mapContains(a, replaceOne(n, 'content.', '')), a[replaceOne(n, 'content.', '')], mapValues(a)[1]), {text_of}), Events.Attributes, Events.Name)"
    keep = f"arrayMap(n -> n IN {_arr(names + content_events)}, Events.Name)"
    return f"nullIf(arrayStringConcat(arrayFilter((t, k) -> k AND t != '', {msg}, {keep}), '\\n'), '')"


def _chunk_content() -> str:
    names = list(D.CHUNK_EVENTS)
    chunks = (
        f"arraySort((t, ts) -> ts, arrayMap((a, n) -> if(mapContains(a, n), a[n], mapValues(a)[1]), "
        f"arrayFilter((a, n) -> n IN {_arr(names)}, Events.Attributes, Events.Name), "
        f"arrayFilter(n -> n IN {_arr(names)}, Events.Name)), "
        f"arrayFilter((ts, n) -> n IN {_arr(names)}, Events.Timestamp, Events.Name))"
    )
    return f"nullIf(arrayStringConcat({chunks}, ''), '')"


# --------------------------------------------------------------------------- the relation


@dataclass(frozen=True)
class Tables:
    """Where the exporter's data is, and what its traces table looks like."""

    traces: str = "otel_traces"
    logs: str | None = "otel_logs"
    has_scope_column: bool = True  # exporters before 0.10x put the scope in SpanAttributes only
    has_event_name: bool = True  # otel_logs.EventName (newer exporters; else LogAttributes['event.name'])
    rates: str | None = None  # a relation with the rate table's columns (pricing.RATE_FIELDS)
    normalized: str | None = None  # llmscope's table of the per-row columns (materialize.py), when ready
    normalized_logs: str | None = None  # llmscope's table of the logs relation (materialize.py), when ready


CONTENT = ("input_text", "output_text", "input_messages", "output_messages", "tool_definitions")
CONTEXT = D.TRACE_INHERITED


class SpansSQL:
    """Generates ``SELECT … FROM otel_traces`` with the canonical span columns a query needs."""

    def __init__(self, tables: Tables, context_keys: dict[str, list[str]] | None = None):
        self.t = tables
        ctx = {c: list(D.CONTEXT_DEFAULTS[c]) for c in D.CONTEXT_DEFAULTS}
        for col, keys in (context_keys or {}).items():
            ctx[col] = list(keys) + [k for k in ctx[col] if k not in keys]
        self.context_keys = ctx

    # base: one row of otel_traces -> the columns that need no other row
    def _base_columns(self) -> dict[str, str]:
        scope = "nullIf(ScopeName, '')" if self.t.has_scope_column else "NULL"
        scope = f"coalesce({scope}, nullIf({SA}['otel.scope.name'], ''))"
        cols: dict[str, str] = {
            "trace_id": "TraceId",
            "span_id": "SpanId",
            "parent_span_id": "nullIf(ParentSpanId, '')",
            "name": "toString(SpanName)",
            "kind": "if(SpanKind = '', 'unspecified', lower(replaceOne(toString(SpanKind), 'SPAN_KIND_', '')))",
            "start_ns": START_NS,
            "start_time": f"fromUnixTimestamp64Micro(intDiv({START_NS}, 1000), 'UTC')",
            "end_time": f"fromUnixTimestamp64Micro(intDiv({START_NS} + toInt64(Duration), 1000), 'UTC')",
            "duration_ms": "toInt64(Duration) / 1e6",
            "status": "multiIf(lower(replaceOne(toString(StatusCode), 'STATUS_CODE_', '')) IN ('ok', 'error'), "
            "lower(replaceOne(toString(StatusCode), 'STATUS_CODE_', '')), 'unset')",
            "status_message": "nullIf(StatusMessage, '')",
            "scope_name": scope,
            "span_type": span_type_expr(),
        }
        cols["dialect"] = dialect_expr(scope)
        for c in D.COLUMN_SOURCES:
            cols[c] = column_expr(c)
        first_token = f"arrayFirstIndex(n -> n IN {_arr(D.FIRST_TOKEN_EVENTS)}, Events.Name)"
        cols["ttft_ms"] = (
            f"coalesce({cols['ttft_ms']}, if({first_token} > 0 AND toUnixTimestamp64Nano(Events.Timestamp[{first_token}]) != 0, "
            f"(toUnixTimestamp64Nano(Events.Timestamp[{first_token}]) - {START_NS}) / 1e6, NULL))"
        )
        cols["total_tokens"] = (
            f"coalesce({cols['total_tokens']}, if(({cols['input_tokens']}) IS NOT NULL OR ({cols['output_tokens']}) IS NOT NULL, "
            f"coalesce({cols['input_tokens']}, 0) + coalesce({cols['output_tokens']}, 0), NULL))"
        )
        cols["service_name"] = f"coalesce({cols['service_name']}, nullIf(toString(ServiceName), ''))"
        for c, keys in self.context_keys.items():
            cols[c] = _first_of([_source(k) for k in keys])
        # errors
        cols["_raw_err"] = f"coalesce({_get('error.type')}, {_event_attr_of_last('exception', 'exception.type')})"
        is_err = "(status = 'error' OR _raw_err IS NOT NULL)"
        cls_in = "coalesce(_raw_err, nullIf(StatusMessage, ''))"
        msg = f"coalesce({_event_attr_of_last('exception', 'exception.message')}, nullIf(StatusMessage, ''))"
        cols["error_type"] = f"if({is_err}, coalesce({classify_expr(cls_in, 'http_status_code', msg)}, 'error'), NULL)"
        cols["error_message"] = (
            f"if({is_err}, coalesce({_event_attr_of_last('exception', 'exception.message')}, nullIf(StatusMessage, '')), NULL)"
        )
        cols["agent_name"] = (
            f"coalesce({cols['agent_name']}, if(span_type = 'agent', {_strip_name_expr('toString(SpanName)', ('invoke_agent ', 'create_agent '), ('.agent',))}, NULL))"
        )
        cols["tool_name"] = (
            f"coalesce({cols['tool_name']}, if(span_type = 'tool', {_strip_name_expr('toString(SpanName)', ('execute_tool ',), ('.tool',))}, NULL))"
        )
        # content
        # content: helper columns (aliases) so no expression is written twice
        cols["_sys"] = _first_of([f"if({_get(k)} IS NULL, NULL, {_system_text(_get(k))})" for k in D.SYSTEM_SOURCES])
        cols["_in"] = f"coalesce({_attr_content(D.INPUT_SOURCES)}, {_event_content('input')})"
        cols["input_text"] = (
            "multiIf(_sys IS NULL, _in, _in IS NULL, _sys, "
            f"position(coalesce({_get(D.INPUT_SOURCES[0][0])}, ''), '\"system\"') > 0, _in, concat(_sys, '\\n', _in))"
        )
        cols["_out_ev"] = f"coalesce({_event_content('output')}, {_chunk_content()})"
        cols["output_text"] = (
            f"if(span_type IN {_arr(D.NO_OUTPUT_TEXT)}, _out_ev, coalesce({_attr_content(D.OUTPUT_SOURCES)}, _out_ev))"
        )
        cols["_in_msgs"] = _attr_messages(D.INPUT_SOURCES)
        cols["input_messages"] = input_messages_expr()
        cols["output_messages"] = output_messages_expr()
        cols["tool_definitions"] = (
            f"if(span_type = 'llm', {_get('gen_ai.tool.definitions')}, NULL)"  # the semconv list, as recorded
        )
        cols["attributes"] = f"toJSONString({SA})"
        cols["resource_attributes"] = f"toJSONString({RA})"
        cols["events"] = (
            "if(empty(Events.Name), NULL, toJSONString(arrayMap((n, t, a) -> map('name', toString(n), 'time_unix_nano', "
            "toString(toUnixTimestamp64Nano(t)), 'attributes', toJSONString(a)), Events.Name, Events.Timestamp, Events.Attributes)))"
        )
        cols["reported_cost_usd"] = column_expr("reported_cost_usd")
        cols["source"] = lit(self.t.traces)
        cols["source_line"] = "CAST(NULL AS Nullable(Int64))"
        cols["ingested_at"] = "CAST(NULL AS Nullable(DateTime64(6, 'UTC')))"
        return cols

    def sql(self, needed: Iterable[str] | None = None) -> str:
        """The relation with the ``needed`` span columns (all when None)."""
        names = [c.name for c in schema.SPANS]
        want = set(names if needed is None else needed) & set(names)
        if not want:
            want = {"trace_id"}
        base = self._base_columns()
        # what each derived column reads from others in the same row
        deps = {
            "error_type": {"status", "http_status_code", "_raw_err"},
            "error_message": {"status", "_raw_err"},
            "input_text": {"_sys", "_in"},
            "input_messages": {"_in_msgs"},
            "output_messages": {"span_type"},
            "agent_name": {"span_type"},
            "tool_name": {"span_type"},
            "output_text": {"span_type", "_out_ev"},
            "tool_definitions": {"span_type"},
            "cost_usd": {"provider", "request_model", "response_model", "start_time", "input_tokens", "output_tokens",
                         "cache_read_tokens", "cache_write_tokens", "span_type"},
            "price_version": {"provider", "request_model", "response_model", "start_time", "input_tokens",
                              "output_tokens", "span_type"},
        }  # fmt: skip
        ctx_needed = want & set(CONTEXT)
        inner = set(want)
        for c in list(want):
            inner |= deps.get(c, set())
        if ctx_needed:
            inner |= {"trace_id", "parent_span_id", "start_ns"}
        if self.t.logs and inner & {"input_text", "output_text", "finish_reason"}:
            inner |= {"trace_id", "span_id"}
        inner -= {"cost_usd", "price_version"}
        # base columns in dependency order: first those others read
        first = [
            c
            for c in ("status", "span_type", "http_status_code", "_raw_err", "_sys", "_in", "_out_ev", "_in_msgs")
            if c in inner
        ]
        rest = [c for c in names + ["start_ns"] if c in inner and c not in first and c in base]
        public = ", ".join(c for c in first + rest if not c.startswith("_"))
        if self.t.normalized:  # the per-row columns were computed once, as spans arrived: read them
            sql = f"SELECT {public} FROM {self.t.normalized}"
        else:
            select = ",\n    ".join(f"{base[c]} AS {c}" for c in first + rest)
            sql = f"SELECT {public} FROM (SELECT\n    {select}\nFROM {self.t.traces})"
        inner = {c for c in inner if not c.startswith("_")}
        if self.t.logs and inner & {"input_text", "output_text", "finish_reason"}:
            sql = self._with_logs(sql, inner)
        if ctx_needed:
            sql = self._with_context(sql, inner, ctx_needed)
        if want & {"cost_usd", "price_version"}:
            sql = self._with_cost(sql, want)
        return sql

    def row_columns(self) -> dict[str, str]:
        """Every column computed from one row of the traces table alone (no other span, no log, no
        price): what :mod:`.materialize` stores, in dependency order (helpers first, then the rest)."""
        base = self._base_columns()
        names = [c.name for c in schema.SPANS if c.name not in ("cost_usd", "price_version")] + ["start_ns"]
        first = ["status", "span_type", "http_status_code", "_raw_err", "_sys", "_in", "_out_ev", "_in_msgs"]
        return {c: base[c] for c in first + [c for c in names if c not in first and c in base]}

    def logs_sql(self) -> str:
        """The logs relation: llmscope's table of it when ready, else generated over otel_logs."""
        from .tables import LOG_COLUMNS, logs_relation

        if self.t.normalized_logs:
            return f"SELECT {', '.join(LOG_COLUMNS)} FROM {self.t.normalized_logs}"
        return logs_relation(self.t.logs, self.t.has_event_name)

    def _with_logs(self, sql: str, inner: set[str]) -> str:
        """Content of spans that carry none themselves, from their log records (store.loader.attach_log_content)."""

        def agg(direction: str) -> str:
            return (
                f"nullIf(arrayStringConcat(arrayMap(x -> x.2, arraySort(groupArrayIf((time_ns, seq, content), "
                f"direction = '{direction}' AND content IS NOT NULL))), '\\n'), '')"
            ).replace("x -> x.2", "x -> x.3")

        finish = (
            "argMinIf(nullIf(JSONExtractString(message, 'finish_reason'), ''), (time_ns, seq), direction = 'output' "
            "AND JSONExtractString(message, 'finish_reason') != '')"
        )
        logs = (
            f"SELECT trace_id, span_id, {agg('input')} AS l_in, {agg('output')} AS l_out, {finish} AS l_finish "
            f"FROM ({self.logs_sql()}) GROUP BY trace_id, span_id"
        )
        cols = []
        for c in sorted(inner):
            if c == "input_text":
                cols.append("coalesce(s.input_text, l.l_in) AS input_text")
            elif c == "output_text":
                cols.append("coalesce(s.output_text, l.l_out) AS output_text")
            elif c == "finish_reason":
                cols.append("coalesce(s.finish_reason, l.l_finish) AS finish_reason")
            else:
                cols.append(f"s.{c} AS {c}")
        need = {"trace_id", "span_id"} - inner
        base = sql if not need else sql  # trace_id/span_id are always selected for the join below
        return (
            f"SELECT {', '.join(cols)} FROM ({base}) AS s LEFT JOIN ({logs}) AS l "
            "ON l.trace_id = s.trace_id AND l.span_id = s.span_id"
        )

    def _with_context(self, sql: str, inner: set[str], ctx: set[str]) -> str:
        """Each span gets its trace's context (the root span's value, else the earliest span's):
        user and session always (D.TRACE_LEVEL), feature and prompt version where it has none."""
        agg = ", ".join(
            f"argMinIf({c}, (parent_span_id IS NOT NULL, start_ns), {c} IS NOT NULL) AS t_{c}" for c in sorted(ctx)
        )
        has_any = " OR ".join(f"{c} IS NOT NULL" for c in sorted(ctx))
        cols = []
        for c in sorted(inner):
            if c in ctx:
                v = f"coalesce(t.t_{c}, s.{c})" if c in D.TRACE_LEVEL else f"coalesce(s.{c}, t.t_{c})"
                cols.append(f"{v} AS {c}")
            else:
                cols.append(f"s.{c} AS {c}")
        return (
            f"SELECT {', '.join(cols)} FROM ({sql}) AS s\n"
            f"LEFT JOIN (SELECT trace_id, {agg} FROM ({sql}) WHERE {has_any} GROUP BY trace_id) AS t "
            f"ON t.trace_id = s.trace_id SETTINGS join_use_nulls = 1"
        ).replace(" SETTINGS join_use_nulls = 1", "")

    def _with_cost(self, sql: str, want: set[str]) -> str:
        """Cost from the rate table (pricing.COST_EXPR's formula), NULL when unpriced; tiers by input tokens."""
        if self.t.rates is None:
            cost = "CAST(NULL AS Nullable(Float64)) AS cost_usd, CAST(NULL AS Nullable(String)) AS price_version"
            return f"SELECT s.*, {cost} FROM ({sql}) AS s"
        key = "(coalesce({p}provider, '\\0'), coalesce({p}request_model, '\\0'), coalesce({p}response_model, '\\0'), {day})"
        rates = (
            f"SELECT {key.format(p='', day='day')} AS k, groupArray((min_input_tokens, max_input_tokens, input_rate, "
            f"output_rate, cache_read_rate, cache_write_rate, price_version)) AS tiers FROM {self.t.rates} GROUP BY k"
        )
        tier = "arrayFirst(x -> coalesce(s.input_tokens, 0) >= x.1 AND coalesce(s.input_tokens, 0) < x.2, r.tiers)"
        priced = f"(notEmpty(r.tiers) AND {tier}.2 > 0 AND s.span_type IN ('llm', 'embedding') AND (s.input_tokens IS NOT NULL OR s.output_tokens IS NOT NULL))"
        cost = (
            f"if({priced}, greatest(coalesce(s.input_tokens, 0) - coalesce(s.cache_read_tokens, 0) - coalesce(s.cache_write_tokens, 0), 0) * {tier}.3 "
            f"+ coalesce(s.cache_read_tokens, 0) * {tier}.5 + coalesce(s.cache_write_tokens, 0) * {tier}.6 "
            f"+ coalesce(s.output_tokens, 0) * {tier}.4, NULL)"
        )
        version = f"if(notEmpty(r.tiers) AND {tier}.2 > 0 AND s.span_type IN ('llm', 'embedding') AND (s.input_tokens IS NOT NULL OR s.output_tokens IS NOT NULL), {tier}.7, NULL)"
        outer = [f"s.{c}" for c in ()] + ["s.*"]
        return (
            f"SELECT {', '.join(outer)}, {cost} AS cost_usd, {version} AS price_version FROM ({sql}) AS s "
            f"LEFT JOIN ({rates}) AS r ON r.k = {key.format(p='s.', day='toDate(s.start_time)')}"
        )


def _system_text(v: str) -> str:
    """builder._system_messages + messages_text: the system instructions as one text."""
    nn = f"ifNull({v}, '')"  # array functions take no Nullable
    items = f"if(JSONType({nn}) = 'Array', JSONExtractArrayRaw({nn}), [{nn}])"
    texts = f"arrayMap(p -> if(JSONType(p) = 'Object', {_json_field_text('p', 'content')}, if(JSONType(p) = 'String', JSONExtractString(p), JSONExtractRaw(p))), {items})"
    return f"if(isValidJSON({v}), nullIf(arrayStringConcat(arrayFilter(x -> x != '', {texts}), '\\n'), ''), {v})"


# --------------------------------------------------------------------------- messages as JSON
# builder._parts_message / _semconv_messages / _system_messages / _indexed_messages, written as JSON
# text (keys as the builder writes them; compare parsed: escapes may differ, values do not).


def _json_or_null(cond_absent: str, value: str) -> str:
    return f"if({cond_absent}, 'null', toJSONString({value}))"


def _raw_or_null(doc: str, *path: str) -> str:
    """The JSON value at path as JSON (null when absent)."""
    args = ", ".join(lit(p) for p in path)
    return f"if(JSONType({doc}, {args}) IN ('Null', ''), 'null', JSONExtractRaw({doc}, {args}))"


def _text_or_null(doc: str, *path: str) -> str:
    """builder._text of the value at path, as a JSON string (null when absent or null)."""
    args = ", ".join(lit(p) for p in path)
    return _json_or_null(f"JSONType({doc}, {args}) IN ('Null', '')", _json_field_text(doc, *path))


def _call_json(id_: str, name: str, arguments: str) -> str:
    return f"concat('{{\"id\":', {id_}, ',\"name\":', {name}, ',\"arguments\":', {arguments}, '}}')"


def _calls_member(calls: str) -> str:
    """',"tool_calls":[...]' from an array of call objects' JSON, '' when there are none."""
    return f"if(empty({calls}), '', concat(',\"tool_calls\":[', arrayStringConcat({calls}, ','), ']'))"


def _content_member(texts: str) -> str:
    joined = f"arrayStringConcat(arrayFilter(x -> x != '', {texts}), '\\n')"
    return f"if({joined} = '', 'null', toJSONString({joined}))"


def _message_json(m: str) -> str:
    """builder._parts_message for one semconv {role, parts} / ChatML {role, content, tool_calls} message."""
    parts = f"JSONExtractArrayRaw({m}, 'parts')"
    part_text = (
        "multiIf(JSONType(p) != 'Object', if(JSONType(p) = 'String', JSONExtractString(p), JSONExtractRaw(p)), "
        "JSONExtractString(p, 'type') = 'tool_call', '', JSONExtractString(p, 'type') = 'tool_call_response', "
        f"if(JSONHas(p, 'result'), {_json_field_text('p', 'result')}, {_json_field_text('p', 'response')}), "
        f"JSONHas(p, 'content'), {_json_field_text('p', 'content')}, '')"
    )
    part_calls = (
        f"arrayMap(p -> {_call_json(_raw_or_null('p', 'id'), _raw_or_null('p', 'name'), _text_or_null('p', 'arguments'))}, "
        f"arrayFilter(p -> JSONType(p) = 'Object' AND JSONExtractString(p, 'type') = 'tool_call', {parts}))"
    )
    responses = (
        f"arrayFilter(p -> JSONType(p) = 'Object' AND JSONExtractString(p, 'type') = 'tool_call_response', {parts})"
    )
    call_id = f"if(empty({responses}), '', concat(',\"tool_call_id\":', {_raw_or_null(f'{responses}[-1]', 'id')}))"
    from_parts = (
        f"concat({call_id}, ',\"content\":', {_content_member(f'arrayMap(p -> {part_text}, {parts})')}, "
        f"{_calls_member(part_calls)})"
    )
    content = (
        f"if(JSONType({m}, 'content') = 'Array', arrayMap(x -> if(JSONType(x) = 'Object', {_json_field_text('x', 'text')}, "
        f"if(JSONType(x) = 'String', JSONExtractString(x), JSONExtractRaw(x))), JSONExtractArrayRaw({m}, 'content')), "
        f"[{_json_field_text(m, 'content')}])"
    )
    fn = "if(JSONType(tc, 'function') = 'Object', JSONExtractRaw(tc, 'function'), tc)"
    chatml_calls = (
        f"arrayMap(tc -> {_call_json(_raw_or_null('tc', 'id'), _raw_or_null(fn, 'name'), _text_or_null(fn, 'arguments'))}, "
        f"arrayFilter(tc -> JSONType(tc) = 'Object', JSONExtractArrayRaw({m}, 'tool_calls')))"
    )
    chatml = f"concat(',\"content\":', {_content_member(content)}, {_calls_member(chatml_calls)})"
    role = f"toJSONString(if(JSONExtractString({m}, 'role') = '', 'user', JSONExtractString({m}, 'role')))"
    finish = (
        f"if(JSONType({m}, 'finish_reason') IN ('Null', '') OR JSONExtractRaw({m}, 'finish_reason') IN ('\"\"', 'false', '0'), '', "
        f"concat(',\"finish_reason\":', JSONExtractRaw({m}, 'finish_reason')))"
    )
    obj = f"concat('{{\"role\":', {role}, if(JSONType({m}, 'parts') = 'Array', {from_parts}, {chatml}), {finish}, '}}')"
    plain = f"concat('{{\"role\":\"user\",\"content\":', toJSONString(if(JSONType({m}) = 'String', JSONExtractString({m}), {m})), '}}')"
    return f"if(JSONType({m}) = 'Object', {obj}, {plain})"


def _semconv_json(v: str) -> str:
    """builder._semconv_messages: a JSON list of messages (a lone message, a list; not JSON: one user message)."""
    nn = f"ifNull({v}, '')"
    msgs = f"if(JSONType({nn}) = 'Array', JSONExtractArrayRaw({nn}), [{nn}])"
    listed = f"nullIf(concat('[', arrayStringConcat(arrayMap(m -> {_message_json('m')}, {msgs}), ','), ']'), '[]')"
    return (
        f'multiIf({v} IS NULL, NULL, NOT isValidJSON({v}), concat(\'[{{"role":"user","content":\', toJSONString({v}), \'}}]\'), '
        f"JSONType({v}) IN ('Array', 'Object'), {listed}, NULL)"
    )


def _system_json(v: str) -> str:
    """builder._system_messages: one system message of the instructions' texts."""
    return f"if({v} IS NULL, NULL, concat('{{\"role\":\"system\",\"content\":', toJSONString(ifNull({_system_text(v)}, '')), '}}'))"


def _attr_messages(sources: list[tuple[str, str]]) -> str:
    """builder._extract's messages: those of the first source that has content (a text source has none)."""
    conds = []
    for key, fmt in sources:
        if fmt in ("semconv_messages", "ai_messages"):
            v = (_semconv_json if fmt == "semconv_messages" else _ai_messages_json)(_get(key))
            conds += [f"({v}) IS NOT NULL", v]
        elif fmt == "indexed":
            conds += [_indexed_probe(key), _indexed_json(key)]
        elif fmt == "documents":
            conds += [f"({_documents_text(key)}) IS NOT NULL", "CAST(NULL AS Nullable(String))"]
        elif fmt in ("json_text", "ai_tool_calls"):
            v = (_json_text_json if fmt == "json_text" else _ai_tool_calls_json)(_get(key))
            conds += [f"({v}) IS NOT NULL", v]
        else:
            conds += [f"{_get(key)} IS NOT NULL", "CAST(NULL AS Nullable(String))"]
    return f"multiIf({', '.join(conds)}, CAST(NULL AS Nullable(String)))"


def _indexed_probe(prefix: str) -> str:
    return "(" + " OR ".join(f"mapContains({SA}, {lit(prefix + s)})" for s in _PROBES) + ")"


def input_messages_expr() -> str:
    """The input messages, with the system instructions first when the messages carry none (builder.add_span)."""
    sys_key = next((k for k in reversed(D.SYSTEM_SOURCES)), None)
    if sys_key is None:
        return "_in_msgs"
    sys = _system_json(_get(sys_key))
    has_system = "arrayExists(m -> JSONExtractString(m, 'role') = 'system', JSONExtractArrayRaw(ifNull(_in_msgs, '')))"
    return (
        f"multiIf({_get(sys_key)} IS NULL, _in_msgs, _in_msgs IS NULL, concat('[', {sys}, ']'), "
        f"{has_system}, _in_msgs, concat('[', {sys}, ',', substring(_in_msgs, 2)))"
    )


def output_messages_expr() -> str:
    return f"if(span_type IN {_arr(D.NO_OUTPUT_TEXT)}, NULL, {_attr_messages(D.OUTPUT_SOURCES)})"


def _indexed_json(prefix: str) -> str:
    """builder._indexed_messages: flattened ``prefix.N.field`` keys back into a JSON list of messages."""
    p = prefix.replace(".", "\\.")
    wrap = "(?:(?:message|embedding|document)\\.)?"
    re_field = lit(f"^{p}\\.([0-9]+)\\.{wrap}(role|content|text|finish_reason|tool_call_id|name)$")
    re_part = lit(f"^{p}\\.([0-9]+)\\.{wrap}contents\\..*message_content\\.text$")
    re_call = lit(
        f"^{p}\\.([0-9]+)\\.{wrap}tool_calls\\.([0-9]+)\\.(?:tool_call\\.)?(?:function\\.)?(name|arguments|id)$"
    )
    keys = f"mapKeys({SA})"
    fields = f"arrayMap(k -> (toUInt32(extract(k, {re_field})), replaceRegexpOne(k, {re_field}, '\\\\2'), {SA}[k]), arrayFilter(k -> match(k, {re_field}), {keys}))"
    parts = (
        f"arrayMap(k -> (toUInt32(extract(k, {re_part})), k, {SA}[k]), arrayFilter(k -> match(k, {re_part}), {keys}))"
    )
    calls = (
        f"arrayMap(k -> (toUInt32(extract(k, {re_call})), toUInt32(replaceRegexpOne(k, {re_call}, '\\\\2')), "
        f"replaceRegexpOne(k, {re_call}, '\\\\3'), {SA}[k]), arrayFilter(k -> match(k, {re_call}), {keys}))"
    )
    default_role = "assistant" if "completion" in prefix or "output" in prefix else "user"

    def field(f: str) -> str:  # the message's value of a field; the last key spelled for it wins, as in the builder
        return f"arrayLast(t -> t.1 = i AND t.2 = {lit(f)}, __F__).3"

    def has(f: str) -> str:
        return f"arrayExists(t -> t.1 = i AND t.2 = {lit(f)}, __F__)"

    content = (
        f"multiIf(({has('content')} OR {has('text')}) AND arrayLast(t -> t.1 = i AND t.2 IN ('content', 'text'), __F__).3 != '', "
        f"toJSONString(arrayLast(t -> t.1 = i AND t.2 IN ('content', 'text'), __F__).3), "
        f"arrayExists(t -> t.1 = i, __P__), toJSONString(arrayStringConcat(arrayMap(t -> t.3, arraySort(t -> t.2, arrayFilter(t -> t.1 = i, __P__))), '\\n')), "
        f"{has('content')} OR {has('text')}, '\"\"', 'null')"
    )

    def call_field(f: str) -> str:
        return (
            f"if(arrayExists(t -> t.1 = i AND t.2 = c AND t.3 = {lit(f)}, __C__), "
            f"toJSONString(arrayLast(t -> t.1 = i AND t.2 = c AND t.3 = {lit(f)}, __C__).4), 'null')"
        )

    call_list = (
        f"arrayMap(c -> {_call_json(call_field('id'), call_field('name'), call_field('arguments'))}, "
        f"arraySort(arrayDistinct(arrayMap(t -> t.2, arrayFilter(t -> t.1 = i, __C__)))))"
    )
    extras = "".join(
        f"if({field(x)} != '', concat(',\"{x}\":', toJSONString({field(x)})), ''), "
        for x in ("finish_reason", "tool_call_id")
    )
    msg = (
        f"concat('{{\"role\":', toJSONString(if({field('role')} != '', {field('role')}, {lit(default_role)})), "
        f"',\"content\":', {content}, {_calls_member(call_list)}, {extras}'}}')"
    )
    indices = "arraySort(arrayDistinct(arrayConcat(arrayMap(t -> t.1, __F__), arrayMap(t -> t.1, __P__), arrayMap(t -> t.1, __C__))))"
    body = f"nullIf(concat('[', arrayStringConcat(arrayMap(i -> {msg}, {indices}), ','), ']'), '[]')"
    body = body.replace("__F__", fields).replace("__P__", parts).replace("__C__", calls)
    return f"if({_indexed_probe(prefix)}, {body}, NULL)"
