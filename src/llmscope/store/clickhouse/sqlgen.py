"""One SQL text per analysis: DuckDB SQL in, ClickHouse SQL out (sqlglot), plus the few named
functions whose meaning sqlglot's ClickHouse writer does not keep.

The analyses write DuckDB SQL with ``?`` / ``$1`` / ``$name`` parameters. Here the parameters
become literals (rendered by sqlglot, so quoting is its job), the text is parsed as DuckDB and
written as ClickHouse by :class:`ClickHouseSQL`, whose ``TRANSFORMS`` is the registry of functions
that differ: exact percentiles, ``FILTER (WHERE …)`` aggregates as ``-If`` combinators, ordered
``first``/``string_agg``/``list``, DuckDB's rounding and bucket origin, and so on. Every entry keeps
DuckDB's result (tests/test_clickhouse.py compares every report on both engines). A CTE the query
reads more than once is written ``AS MATERIALIZED`` where the engine has it (ClickHouse inlines CTEs
per reference; DuckDB computes such a CTE once), so one SQL text stays fast on both.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import sqlglot
from sqlglot import exp
from sqlglot.dialects.clickhouse import ClickHouse
from sqlglot.tokens import TokenType

from ...errors import QueryError

# ClickHouse's quantileExactInclusive interpolates linearly between the closest ranks
# (R-7, (n - 1) * q), as DuckDB's quantile_cont does; quantileExact and quantile do not
# (nearest rank / sampled). tests/test_clickhouse.py checks this with numbers.
EXACT_QUANTILE = "quantileExactInclusive"


# --------------------------------------------------------------------------- parameters


def _literal(v) -> str:
    """A Python value as DuckDB SQL (before transpiling)."""
    if v is None:
        return "NULL"
    if isinstance(v, bool):
        return "TRUE" if v else "FALSE"
    if isinstance(v, int | float | Decimal):
        return repr(float(v)) if isinstance(v, float) else str(v)
    if isinstance(v, datetime):
        if v.tzinfo is not None:  # the store's times are naive UTC
            v = v.astimezone(UTC).replace(tzinfo=None)
        # exact to the µs; clamped to ClickHouse's DateTime64 range (an open-ended window's far bound)
        v = min(max(v, datetime(1900, 1, 1)), datetime(2262, 4, 11))
        return f"llmscope_timestamp('{v.isoformat(sep=' ', timespec='microseconds')}')"  # see _function
    if isinstance(v, date):
        return f"CAST('{v.isoformat()}' AS DATE)"
    if isinstance(v, timedelta):
        return f"INTERVAL {int(v.total_seconds())} SECOND"
    if isinstance(v, list | tuple):
        return "[" + ", ".join(_literal(x) for x in v) + "]"
    return exp.Literal.string(str(v)).sql(dialect="duckdb")


def bind(sql: str, params: list | tuple | dict | None) -> str:
    """Replace ``?``, ``$1`` and ``$name`` by literals, token by token (never inside strings)."""
    if not params:
        return sql
    tokens = sqlglot.tokenize(sql, read="duckdb")
    out, pos, n, skip = [], 0, 0, False
    for i, tok in enumerate(tokens):
        if skip:
            skip = False
            continue
        suffix = ""
        if tok.token_type in (TokenType.PLACEHOLDER, TokenType.QDCOLON) and tok.text.startswith("?"):
            value, n, suffix = params[n], n + 1, tok.text[1:]  # '?::' is one token
            end = tok.end
        elif tok.token_type == TokenType.PARAMETER and i + 1 < len(tokens):
            key = tokens[i + 1].text
            value = params[int(key) - 1] if key.isdigit() and not isinstance(params, dict) else params[key]
            end, skip = tokens[i + 1].end, True
        else:
            continue
        out.append(sql[pos : tok.start])
        out.append(_literal(value) + suffix)
        pos = end + 1
    out.append(sql[pos:])
    return "".join(out)


# --------------------------------------------------------------------------- the writer


def _agg(name: str) -> Callable:
    """An aggregate that may carry ``FILTER (WHERE c)``: ``nameIf(args…, c)``."""

    def gen(self, e: exp.Expression) -> str:
        return self.func(name, *[a for a in e.args.values() if isinstance(a, exp.Expression)])

    return gen


def _duck_round(self, e: exp.Round) -> str:
    # DuckDB rounds doubles half away from zero (std::round(x * 10^n) / 10^n); ClickHouse's round
    # is banker's rounding on floats, which turns 12.25 into 12.2 where DuckDB says 12.3.
    x = self.sql(e, "this")
    n = e.args.get("decimals")
    p = f"pow(10, {self.sql(n)})" if n is not None else "1"
    return f"(sign({x}) * floor(abs({x}) * {p} + 0.5) / {p})"


def _epoch(self, e: exp.Expression) -> str:
    return f"(toUnixTimestamp64Micro(toDateTime64({self.sql(e, 'this')}, 6)) / 1e6)"


def _str_to_time(self, e: exp.Expression) -> str:
    return f"parseDateTime64BestEffort({self.sql(e, 'this')}, 6, 'UTC')"


class ClickHouseSQL(ClickHouse):
    """sqlglot's ClickHouse dialect with llmscope's registry of functions that must keep DuckDB's meaning."""

    class Generator(ClickHouse.Generator):
        TRANSFORMS = {
            **ClickHouse.Generator.TRANSFORMS,
            exp.ArrayOverlaps: lambda self, e: self.func("hasAny", e.this, e.expression),
            exp.LogicalOr: lambda self, e: f"toBool(max({self.sql(e, 'this')}))",
            exp.LogicalAnd: lambda self, e: f"toBool(min({self.sql(e, 'this')}))",
            exp.Round: _duck_round,
            exp.TimeToUnix: _epoch,
            exp.StrToTime: _str_to_time,
        }


def _rewrite(
    tree: exp.Expression, tables: Callable[[exp.Table], exp.Expression | None] | None, materialize: bool = False
) -> exp.Expression:
    """Rewrite DuckDB constructs that have no one-to-one ClickHouse function (on the parse tree)."""
    if materialize:
        _materialize_shared_ctes(tree)
    for node in list(tree.walk()):
        if isinstance(node, exp.Filter):  # agg(x) FILTER (WHERE c)  ->  aggIf(x, c)
            node.replace(_filtered(node.this, node.expression.this))
    for sel in list(tree.find_all(exp.Select)):
        _name_qualified_columns(sel)
        _order_by_alias(sel)
    for node in list(tree.walk()):
        repl = _function(node)
        if repl is not None:
            node.replace(repl)
    if tables is not None:
        for t in list(tree.find_all(exp.Table)):
            repl = tables(t)
            if repl is not None:
                t.replace(repl)
    return tree


def _materialize_shared_ctes(tree: exp.Expression) -> None:
    """A CTE read more than once is ``AS MATERIALIZED``: ClickHouse otherwise inlines a CTE at each
    reference, so a chain of CTEs that read each other twice runs its first ones many times over
    (DuckDB materializes them itself). Needs ``enable_materialized_cte`` (ClickHouse 26.3+)."""
    for with_ in list(tree.find_all(exp.With)):
        if with_.args.get("recursive"):
            continue
        scope = with_.parent or tree
        names = {c.alias_or_name: c for c in with_.expressions}
        uses = dict.fromkeys(names, 0)
        for t in scope.find_all(exp.Table):
            if not t.args.get("db") and t.name in uses:
                uses[t.name] += 1
        for name, cte in names.items():
            if uses[name] > 1:
                cte.set("materialized", True)


def _order_by_alias(sel: exp.Select) -> None:
    """DuckDB's ORDER BY names an output column first; ClickHouse (set to prefer columns, as DuckDB's
    SELECT list does) would read the input column: order by the output's position instead."""
    order = sel.args.get("order")
    if order is None:
        return
    aliases = {p.alias: i + 1 for i, p in enumerate(sel.expressions) if isinstance(p, exp.Alias)}
    for o in order.expressions:
        col = o.this
        if isinstance(col, exp.Column) and not col.table and col.name in aliases:
            o.set("this", exp.Literal.number(aliases[col.name]))


def _name_qualified_columns(sel: exp.Select) -> None:
    """``SELECT b.trace_id`` is named ``trace_id`` in DuckDB; ClickHouse keeps ``b.trace_id`` when the
    joined tables share the name: alias it as DuckDB names it."""
    for p in list(sel.expressions):
        if isinstance(p, exp.Column) and p.table and not isinstance(p.this, exp.Star):
            p.replace(exp.alias_(p.copy(), p.name, quoted=False))


def _anon(name: str, *args: exp.Expression) -> exp.Anonymous:
    return exp.Anonymous(this=name, expressions=list(args))


def _param_agg(name: str, params: list[exp.Expression], args: list[exp.Expression]) -> exp.Expression:
    """A parametric aggregate ``name(p…)(a…)`` as raw SQL (sqlglot has ClickHouse's form for few)."""
    return exp.ParameterizedAgg(this=name, params=args, expressions=params)  # printed name(expressions)(params)


def _ordered_args(agg: exp.Expression) -> tuple[exp.Expression, list[exp.Expression]]:
    """(value, order keys) of ``first(x ORDER BY a, b)`` / ``string_agg(x, sep ORDER BY a)``."""
    this = agg.this
    keys: list[exp.Expression] = []
    if isinstance(this, exp.Order):
        keys = [o.this if not o.args.get("desc") else exp.Neg(this=o.this) for o in this.expressions]
        this = this.this
    return this, keys


def _order_key(keys: list[exp.Expression]) -> exp.Expression:
    keys = [exp.Cast(this=k, to=exp.DataType.build("Int8")) if _is_boolean(k) else k for k in keys]
    return keys[0] if len(keys) == 1 else exp.Tuple(expressions=keys)


def _is_boolean(e: exp.Expression) -> bool:
    return isinstance(e, exp.Not | exp.Is | exp.EQ | exp.NEQ | exp.GT | exp.LT | exp.GTE | exp.LTE | exp.And | exp.Or)


def _filtered(agg: exp.Expression, cond: exp.Expression) -> exp.Expression:
    """``agg FILTER (WHERE cond)`` as a ClickHouse ``-If`` aggregate."""
    if isinstance(agg, exp.Count):
        inner = agg.this
        if isinstance(inner, exp.Star) or inner is None:
            return _anon("countIf", cond)
        if isinstance(inner, exp.Distinct):
            return _anon("uniqExactIf", *inner.expressions, cond)
        return _anon("countIf", exp.and_(exp.Not(this=exp.Is(this=inner, expression=exp.Null())), cond))
    if isinstance(agg, exp.Sum | exp.Avg | exp.Max | exp.Min):
        name = {exp.Sum: "sumIf", exp.Avg: "avgIf", exp.Max: "maxIf", exp.Min: "minIf"}[type(agg)]
        return _anon(name, agg.this, cond)
    if isinstance(agg, exp.PercentileCont | exp.Quantile):
        return _param_agg(EXACT_QUANTILE + "If", [agg.expression], [agg.this, cond])
    if isinstance(agg, exp.First | exp.AnyValue) or (isinstance(agg, exp.Anonymous) and agg.name.lower() == "first"):
        value, keys = _ordered_args(agg)
        if not keys:
            return _anon("anyIf", value, cond)
        return _anon("argMinIf", value, _order_key(keys), cond)
    if isinstance(agg, exp.GroupConcat | exp.ArrayAgg):
        return _string_or_list(agg, cond)
    if isinstance(agg, exp.ArgMax | exp.ArgMin):
        name = "argMaxIf" if isinstance(agg, exp.ArgMax) else "argMinIf"
        return _anon(name, agg.this, agg.expression, cond)
    raise QueryError(f"no ClickHouse form for {agg.sql('duckdb')} FILTER (…)")


def _string_or_list(agg: exp.Expression, cond: exp.Expression | None = None) -> exp.Expression:
    value, keys = _ordered_args(agg)
    if isinstance(value, exp.Distinct) and (not keys or keys == value.expressions[:1]):  # DISTINCT x [ORDER BY x]
        inner = value.expressions[0]
        uniq = _anon("groupUniqArrayIf", inner, cond) if cond is not None else _anon("groupUniqArray", inner)
        collect = _anon("arraySort", uniq)
        if isinstance(agg, exp.GroupConcat):
            sep = agg.args.get("separator") or exp.Literal.string(",")
            return _anon("nullIf", _anon("arrayStringConcat", collect, sep), exp.Literal.string(""))
        return collect
    pairs = exp.Tuple(expressions=[_order_key(keys), value]) if keys else value
    collect = _anon("groupArrayIf", pairs, cond) if cond is not None else _anon("groupArray", pairs)
    if keys:
        collect = _anon("arrayMap", exp.Lambda(this=_anon("tupleElement", exp.column("_p"), exp.Literal.number(2)),
                                               expressions=[exp.to_identifier("_p")]),
                        _anon("arraySort", collect))  # fmt: skip
    if isinstance(agg, exp.GroupConcat):
        sep = agg.args.get("separator") or exp.Literal.string(",")
        return _anon("nullIf", _anon("arrayStringConcat", collect, sep), exp.Literal.string(""))
    return collect


# DuckDB's time_bucket counts buckets shorter than a month from 2000-01-03 00:00 (a Monday), not from 1970.
_BUCKET_ORIGIN_US = 946_857_600_000_000
_UNIT_SECONDS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400, "week": 604800}


def _interval_us(e: exp.Expression) -> int:
    """Microseconds of an interval literal: INTERVAL 1 HOUR, '3600 seconds'::INTERVAL."""
    if isinstance(e, exp.Cast) and isinstance(e.this, exp.Literal):
        num, _, unit = e.this.name.strip().partition(" ")
    elif isinstance(e, exp.Interval):
        num, unit = e.this.name, e.unit.name if e.unit else "second"
    else:
        raise QueryError(f"time buckets need a fixed interval, not {e.sql('duckdb')}")
    unit = unit.strip().lower().rstrip("s") or "second"
    if unit not in _UNIT_SECONDS:
        raise QueryError(f"time buckets of {unit}s are not supported here; use seconds to weeks")
    return int(float(num) * _UNIT_SECONDS[unit] * 1_000_000)


def _time_bucket(node: exp.DateBin) -> exp.Expression:
    step = _interval_us(node.this)
    ts = node.expression.sql(dialect=ClickHouseSQL)
    return sqlglot.parse_one(
        f"fromUnixTimestamp64Micro(toInt64({_BUCKET_ORIGIN_US} + floor((toUnixTimestamp64Micro(toDateTime64({ts}, 6))"
        f" - {_BUCKET_ORIGIN_US}) / {step}) * {step}), 'UTC')",
        read="clickhouse",
    )


def _json_path(path: exp.Expression) -> list[exp.Expression]:
    """'$.a."b.c"' -> ['a', 'b.c'] (keys for ClickHouse's JSONExtract*)."""
    text = path.name if isinstance(path, exp.Literal) else ""
    if isinstance(path, exp.JSONPath):
        return [exp.Literal.string(p.name) for p in path.expressions if isinstance(p, exp.JSONPathKey)]
    text = text.removeprefix("$").lstrip(".")
    keys, cur, quoted = [], "", False
    for ch in text:
        if ch == '"':
            quoted = not quoted
        elif ch == "." and not quoted:
            keys.append(cur)
            cur = ""
        else:
            cur += ch
    keys.append(cur)
    return [exp.Literal.string(k) for k in keys if k]


def _json_scalar(doc: exp.Expression, path: exp.Expression) -> exp.Expression:
    """json_extract_string: the value as text (strings unquoted), NULL when absent or null."""
    keys = _json_path(path)
    typ = _anon("JSONType", doc, *keys)
    return exp.If(
        this=exp.In(this=typ, expressions=[exp.Literal.string("Null"), exp.Literal.string("")]).not_(),
        true=exp.If(this=exp.EQ(this=typ.copy(), expression=exp.Literal.string("String")),
                    true=_anon("JSONExtractString", doc.copy(), *[k.copy() for k in keys]),
                    false=_anon("JSONExtractRaw", doc.copy(), *[k.copy() for k in keys])),
        false=exp.Null(),
    )  # fmt: skip


# DuckDB functions sqlglot reads as anonymous calls: their ClickHouse names (same arguments, same meaning).
# hash(): ClickHouse's cityHash64 is another hash than DuckDB's; it only ever picks a sample.
_RENAMED = {
    "list_has_all": "hasAll",
    "json_valid": "isValidJSON",
    "hash": "cityHash64",
    "list_distinct": "arrayDistinct",
    "array_distinct": "arrayDistinct",
}


def _is_json(t: exp.DataType) -> bool:
    return t.this == exp.DataType.Type.JSON or (
        t.this == exp.DataType.Type.ARRAY and bool(t.expressions) and t.expressions[0].this == exp.DataType.Type.JSON
    )


def _json_wildcards(doc: exp.Expression, path: exp.JSONPath) -> exp.Expression:
    """json_extract(doc, '$[*].key[*]'): the raw JSON values the path reaches, as an array of strings."""
    acc: exp.Expression = _anon("array", _anon("ifNull", doc, exp.Literal.string("")))  # the documents reached
    keys: list[exp.Expression] = []
    for part in path.expressions:
        if isinstance(part, exp.JSONPathKey):
            keys.append(exp.Literal.string(part.name))
        elif isinstance(part, exp.JSONPathSubscript) and isinstance(part.this, exp.JSONPathWildcard):
            lam = exp.Lambda(
                this=_anon("JSONExtractArrayRaw", exp.column("_j"), *keys), expressions=[exp.to_identifier("_j")]
            )
            acc, keys = _anon("arrayFlatten", _anon("arrayMap", lam, acc)), []
    if keys:
        lam = exp.Lambda(this=_anon("JSONExtractRaw", exp.column("_j"), *keys), expressions=[exp.to_identifier("_j")])
        acc = _anon("arrayMap", lam, acc)
    return acc


def _function(node: exp.Expression) -> exp.Expression | None:
    """DuckDB functions (outside FILTER) that need another ClickHouse spelling or meaning."""
    # JSON is text here: casts to JSON / JSON[] keep the value; to VARCHAR[] parse a JSON list
    if isinstance(node, exp.Cast) and _is_json(node.to):
        return node.this
    if (
        isinstance(node, exp.Cast)
        and node.to.this == exp.DataType.Type.ARRAY
        and isinstance(node.this, exp.JSONExtract)
    ):
        doc = _function(node.this) or node.this  # arrays cannot be Nullable in ClickHouse: NULL reads as ''
        return _anon("JSONExtract", _anon("ifNull", doc, exp.Literal.string("")), exp.Literal.string("Array(String)"))
    if (
        isinstance(node, exp.JSONExtract)
        and isinstance(node.expression, exp.JSONPath)
        and any(isinstance(p, exp.JSONPathSubscript) for p in node.expression.expressions)
    ):
        return _json_wildcards(node.this, node.expression)
    if isinstance(node, exp.JSONType):  # DuckDB names the types in capitals (OBJECT, ARRAY, …)
        return _anon("upper", _anon("toString", _anon("JSONType", node.this)))
    if isinstance(node, exp.DateBin):
        return _time_bucket(node)
    if isinstance(node, exp.Lag | exp.Lead) and not isinstance(node.this, exp.Anonymous):
        # DuckDB's lag is NULL before the first row (ClickHouse's: the type's default, '' or 0, unless
        # the value is Nullable); with a default, ClickHouse wants both of one type
        node.set("this", _anon("toNullable", node.this))
        return None
    if isinstance(node, exp.ArrayContains):  # list_contains(list, NULL) is NULL in DuckDB; has() says false
        value = node.expression
        return exp.If(this=exp.Is(this=value.copy(), expression=exp.Null()), true=exp.Null(),
                      false=_anon("has", node.this, value))  # fmt: skip
    if isinstance(node, exp.Anonymous) and node.name.lower() == "llmscope_timestamp":  # a bound datetime
        return _anon("toDateTime64", *node.expressions, exp.Literal.number(6), exp.Literal.string("UTC"))
    if isinstance(node, exp.Anonymous) and node.name.lower() in _RENAMED:
        return _anon(_RENAMED[node.name.lower()], *node.expressions)
    if isinstance(node, exp.ArraySort):
        return _anon("arraySort", node.this)
    if isinstance(node, exp.GenerateSeries):
        end = node.args["end"]
        if not node.args.get("is_end_exclusive"):
            end = exp.Add(this=end, expression=exp.Literal.number(1))
        return _anon("range", node.args["start"], end)
    if isinstance(node, exp.RegexpFullMatch):
        pattern = exp.Literal.string("^(?:" + node.expression.name + ")$")
        return _anon("match", node.this, pattern)
    if isinstance(node, exp.RegexpReplace):
        mods = node.args.get("modifiers")
        name = "replaceRegexpAll" if mods is not None and "g" in mods.name else "replaceRegexpOne"
        return _anon(name, node.this, node.expression, node.args["replacement"])
    if isinstance(node, exp.RegexpExtractAll):
        return _anon("extractAll", node.this, node.expression)
    if isinstance(node, exp.UnixToTime) and node.args.get("scale") is not None:  # epoch_ms(timestamp): ms, rounded
        us = _anon("toUnixTimestamp64Micro", _anon("toDateTime64", node.this, exp.Literal.number(6)))
        return _anon("intDiv", exp.Add(this=us, expression=exp.Literal.number(500)), exp.Literal.number(1000))
    if isinstance(node, exp.JSONKeys):  # arrays cannot be Nullable in ClickHouse: NULL reads as ''
        return _anon("JSONExtractKeys", _anon("ifNull", node.this, exp.Literal.string("")))
    if isinstance(node, exp.JSONExtractScalar):
        return _json_scalar(node.this, node.expression)
    if isinstance(node, exp.PercentileCont | exp.Quantile) and not isinstance(node.parent, exp.Filter):
        if isinstance(node.expression, exp.Array):  # several levels at once: a list, as DuckDB returns
            return _param_agg(EXACT_QUANTILE.replace("quantile", "quantiles"), node.expression.expressions, [node.this])
        return _param_agg(EXACT_QUANTILE, [node.expression], [node.this])
    if isinstance(node, exp.Median):
        return _param_agg(EXACT_QUANTILE, [exp.Literal.number("0.5")], [node.this])
    if isinstance(node, exp.First) or (isinstance(node, exp.Anonymous) and node.name.lower() == "first"):
        value, keys = _ordered_args(node)
        return _anon("argMin", value, _order_key(keys)) if keys else _anon("any", value)
    if isinstance(node, exp.GroupConcat | exp.ArrayAgg) and not isinstance(node.parent, exp.Filter):
        return _string_or_list(node)
    return None


def to_clickhouse(
    sql: str,
    params: list | tuple | dict | None = None,
    tables: Callable[[exp.Table], exp.Expression | None] | None = None,
    prepare: Callable[[exp.Expression], None] | None = None,
    materialize: bool = False,
) -> str:
    """DuckDB SQL (with parameters) -> one ClickHouse statement. ``tables`` may replace table references;
    ``prepare`` sees the parsed tree first; ``materialize``: the engine runs ``AS MATERIALIZED`` CTEs."""
    text = bind(sql, params)
    try:
        tree = sqlglot.parse_one(text, read="duckdb")
    except sqlglot.errors.ParseError as e:
        raise QueryError(f"cannot read the query: {str(e).splitlines()[0]}") from None
    if prepare is not None:
        prepare(tree)
    tree = _rewrite(tree, tables, materialize)
    return tree.sql(dialect=ClickHouseSQL)
