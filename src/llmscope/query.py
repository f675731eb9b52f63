"""What a question asks, parsed once at the edge into typed values: a time window, a filter, a grouping.

    >>> from llmscope.query import Grouping, SpanFilter, Where
    >>> SpanFilter.of(since="2025-11-10", until="2025-11-12", where="status = 'error'").where.sql
    "status = 'error'"
    >>> Grouping.of(["model", "attr:organization.id"]).names
    ('model', 'organization_id')

A ``where`` is exactly one boolean expression over the span columns, parsed (sqlglot) and written
back as SQL from the parse tree: text that closes the surrounding parenthesis, adds a statement or
a subquery, or names anything but a span column is refused with the reason. A grouping key is a
short name, a span column, a time bucket or a raw attribute whose key is quoted, so neither can
change the question the report asks. (The store also runs every read sandboxed: no file access,
settings locked.)
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from .errors import QueryError
from .schema import SPAN_COLUMN_NAMES, SPANS

# --------------------------------------------------------------------------- times

_REL = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|sec|m|min|h|hr|d|day|days|w|wk|weeks?)\s*$", re.I)
_UNITS = {
    "s": 1,
    "sec": 1,
    "m": 60,
    "min": 60,
    "h": 3600,
    "hr": 3600,
    "d": 86400,
    "day": 86400,
    "days": 86400,
    "w": 604800,
    "wk": 604800,
    "week": 604800,
    "weeks": 604800,
}


def parse_duration(text: str | timedelta, *, param: str | None = None, positive: bool = True) -> timedelta:
    """``90s``, ``15m``, ``2h``, ``2d``, ``1w`` (or a timedelta) -> timedelta; zero is refused by default."""
    if isinstance(text, timedelta):
        value = text
    else:
        m = _REL.match(text)
        if not m:
            raise QueryError(f"{text!r} is not a duration like 30m, 2h, 2d or 1w", param=param)
        value = timedelta(seconds=float(m.group(1)) * _UNITS[m.group(2).lower()])
    if positive and value <= timedelta(0):
        raise QueryError(f"{text!r}: the duration must be more than zero", param=param)
    return value


def now_utc() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def parse_time(value: str | datetime | date, now: datetime | None = None, *, param: str | None = None) -> datetime:
    """A point in time: a duration ago (``2d``), ISO-8601 (``2025-11-08``, ``2025-11-12T09:00``), or a
    ``datetime`` / ``date``. Returned in UTC, naive (the store's times are UTC)."""
    if isinstance(value, datetime):
        dt = value
    elif isinstance(value, date):
        dt = datetime.combine(value, datetime.min.time())
    elif _REL.match(value):
        return (now or now_utc()) - parse_duration(value, param=param)
    else:
        try:
            dt = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            raise QueryError(
                f"{value!r} is neither a duration (2d, 12h) nor a date/time (2025-11-08, 2025-11-12T09:00)",
                param=param,
            ) from None
    if dt.tzinfo is not None:
        dt = dt.astimezone(UTC).replace(tzinfo=None)
    return dt


def parse_window(text: str, *, param: str | None = None, now: datetime | None = None) -> tuple[datetime, datetime]:
    """``A..B`` -> (since, until); a date-only ``B`` includes that whole day."""
    if ".." not in text:
        raise QueryError(f"{text!r}: give START..END, e.g. 2025-11-01..2025-11-07 or 14d..7d", param=param)
    a, b = text.split("..", 1)
    since, until = parse_time(a, now, param=param), parse_time(b, now, param=param)
    if len(b.strip()) == 10 and b.strip()[4] == "-":
        until += timedelta(days=1)
    if since >= until:
        raise QueryError(f"{text!r}: the start must come before the end", param=param)
    return since, until


# --------------------------------------------------------------------------- where

# Functions that reach outside the store's tables. The store's sandbox refuses them too; naming them
# here gives the user a reason instead of a permission error.
_OUTSIDE = re.compile(r"^(read_\w+|glob|sniff_csv|parquet_\w+|iceberg_\w+|delta_scan|query(_table)?|getenv|"
                      r"current_setting|duckdb_\w+|pragma_\w+|which_secret|load_extension)$", re.I)  # fmt: skip


_BOOLEAN_COLUMNS = frozenset(c.name for c in SPANS if c.type == "BOOLEAN")


def _boolean(node) -> bool:
    """Whether an expression can be a filter: a comparison, a connective, a function (DuckDB checks
    its type) or a BOOLEAN column, not a bare value (``1``, ``status``, ``input_tokens + 1``)."""
    from sqlglot import exp

    while isinstance(node, exp.Paren):
        node = node.this
    if isinstance(node, exp.Column):
        return node.name in _BOOLEAN_COLUMNS
    if isinstance(node, exp.Boolean | exp.Predicate | exp.Connector | exp.Not | exp.Func):
        return True
    return False


@dataclass(frozen=True)
class Where:
    """One boolean expression over span columns; ``sql`` is generated from its parse tree."""

    sql: str
    text: str

    @classmethod
    def parse(
        cls, text: str | Where | None, *, param: str = "where", columns: frozenset[str] = SPAN_COLUMN_NAMES
    ) -> Where | None:
        """Parse user text; None for an empty filter. Raises :class:`QueryError` with the reason."""
        if text is None or isinstance(text, Where):
            return text
        if not text.strip():
            return None
        import sqlglot
        from sqlglot import exp
        from sqlglot.dialects.dialect import Dialect
        from sqlglot.tokens import TokenType

        try:
            tokens = Dialect.get_or_raise("duckdb").tokenize(text)
            # a comment hides the rest of the text from the filter; a ';' starts another statement
            if any(t.comments for t in tokens):
                raise QueryError(f"{text!r}: a filter cannot hold comments (-- or /* */)", param=param)
            if any(t.token_type == TokenType.SEMICOLON for t in tokens):
                raise QueryError(f"{text!r}: give one condition (no ';')", param=param)
            trees = sqlglot.parse(text, read="duckdb")
        except (sqlglot.errors.ParseError, sqlglot.errors.TokenError) as e:
            first = str(e).splitlines()[0]
            raise QueryError(
                f"{text!r} is not one SQL condition ({first}); unbalanced parentheses or quotes?", param=param
            ) from None
        trees = [t for t in trees if t is not None]
        if len(trees) != 1:
            raise QueryError(f"{text!r}: give one condition (no ';')", param=param)
        tree = trees[0]
        if not isinstance(tree, exp.Condition) or isinstance(tree, exp.Query):
            raise QueryError(f"{text!r} is a statement, not a condition on span columns", param=param)
        if not _boolean(tree):
            raise QueryError(
                f"{text!r} is a value, not a condition (compare it: status = 'error', input_tokens > 1000)",
                param=param,
            )
        for node in tree.walk():
            if isinstance(node, exp.Query | exp.Subquery | exp.Table):
                raise QueryError(f"{text!r}: a filter cannot hold a subquery", param=param)
            if isinstance(node, exp.Placeholder | exp.Parameter):
                raise QueryError(f"{text!r}: a filter cannot hold parameters (?, $1)", param=param)
            if isinstance(node, exp.Func) and _OUTSIDE.match(node.name or type(node).__name__):
                raise QueryError(f"{text!r}: {node.name}() reaches outside the store's spans", param=param)
            if isinstance(node, exp.Column):
                if node.table:
                    raise QueryError(f"{text!r}: name span columns without a table ({node.sql()})", param=param)
                if node.name not in columns:
                    raise QueryError(
                        f'{text!r}: {node.name!r} is not a span column (see `llmscope sql "describe spans"`)',
                        param=param,
                    )
        return cls(tree.sql(dialect="duckdb"), text)

    def qualified(self, alias: str) -> str:
        """The condition with every column prefixed by ``alias`` (for queries that join spans)."""
        import sqlglot
        from sqlglot import exp

        tree = sqlglot.parse_one(self.sql, read="duckdb")
        tree = tree.transform(lambda n: exp.column(n.name, table=alias) if isinstance(n, exp.Column) else n)
        return tree.sql(dialect="duckdb")


# --------------------------------------------------------------------------- filter


@dataclass(frozen=True)
class SpanFilter:
    """A time window and a condition over the canonical ``spans`` columns.

    ``where`` is a parsed :class:`Where`, or a SQL string that llmscope itself wrote (trusted as is);
    user text goes through :meth:`of`, which parses it."""

    since: datetime | None = None
    until: datetime | None = None
    where: Where | str | None = None

    @classmethod
    def of(
        cls,
        since: str | datetime | date | None = None,
        until: str | datetime | date | None = None,
        where: str | Where | None = None,
        *,
        now: datetime | None = None,
    ) -> SpanFilter:
        """Parse user values (the CLI's forms, or datetimes) into a checked filter."""
        now = now or now_utc()
        s = parse_time(since, now, param="since") if since is not None and since != "" else None
        u = parse_time(until, now, param="until") if until is not None and until != "" else None
        if s is not None and u is not None and s >= u:
            raise QueryError(f"{s:%Y-%m-%d %H:%M} is not before until ({u:%Y-%m-%d %H:%M})", param="since")
        return cls(s, u, Where.parse(where))

    from_options = of  # the CLI's name

    @property
    def where_sql(self) -> str | None:
        return self.where.sql if isinstance(self.where, Where) else self.where

    @property
    def empty(self) -> bool:
        return self.since is None and self.until is None and not self.where

    def sql(self, alias: str = "") -> tuple[str, list]:
        """A WHERE body (always valid, ``TRUE`` when empty) and its parameters."""
        p = f"{alias}." if alias else ""
        parts: list[str] = []
        params: list = []
        if self.since:
            parts.append(f"{p}start_time >= ?")
            params.append(self.since)
        if self.until:
            parts.append(f"{p}start_time < ?")
            params.append(self.until)
        if isinstance(self.where, Where):
            parts.append(f"({self.where.qualified(alias) if alias else self.where.sql})")
        elif self.where:
            parts.append(f"({self.where})")
        return (" AND ".join(parts) or "TRUE"), params

    def describe(self) -> str:
        """The filter in words, for messages about an empty answer."""
        bits = []
        if self.since:
            bits.append(f"since {self.since:%Y-%m-%d %H:%M}")
        if self.until:
            bits.append(f"until {self.until:%Y-%m-%d %H:%M}")
        if self.where:
            bits.append(f"where {self.where.text if isinstance(self.where, Where) else self.where}")
        return ", ".join(bits) or "no filter"


# --------------------------------------------------------------------------- grouping

# Canonical columns a report may group by.
GROUPABLE = frozenset(
    {
        "trace_id", "span_id", "parent_span_id", "name", "kind", "service_name", "status", "error_type",
        "span_type", "operation", "provider", "request_model", "response_model", "finish_reason", "user_id",
        "session_id", "feature", "prompt_version", "agent_name", "tool_name", "dialect", "scope_name", "source",
        "http_status_code", "is_stream", "price_version", "temperature", "max_tokens",
    }
)  # fmt: skip
# Short names people reach for first (--by model, --by user): (output column, SQL expression).
# "model" is the model asked for, else the one that answered (some instrumentations record only that).
ALIASES = {
    "model": ("model", "coalesce(request_model, response_model)"),
    "user": ("user_id", '"user_id"'),
    "session": ("session_id", '"session_id"'),
    "prompt": ("prompt_version", '"prompt_version"'),
    "service": ("service_name", '"service_name"'),
    "agent": ("agent_name", '"agent_name"'),
    "tool": ("tool_name", '"tool_name"'),
    "error": ("error_type", '"error_type"'),
    "type": ("span_type", '"span_type"'),
}
# Time buckets usable as groups: --by day
TIME_GROUPS = {
    "hour": "date_trunc('hour', start_time)",
    "day": "date_trunc('day', start_time)",
    "week": "date_trunc('week', start_time)",
}

_SAFE_ALIAS = re.compile(r"[^a-zA-Z0-9_]+")


def _json_path_key(key: str) -> str:
    # JSON path with the key quoted: '$."gen_ai.request.model"'; single quotes doubled for SQL
    return "'$.\"" + key.replace("\\", "\\\\").replace('"', '\\"').replace("'", "''") + "\"'"


def _key(item: str, param: str) -> tuple[str, str]:
    if item.startswith(("attr:", "resource:")):
        source, key = item.split(":", 1)
        if not key:
            raise QueryError(f"{item}: give the attribute key, e.g. attr:organization.id", param=param)
        if any(ord(c) < 32 for c in key):
            raise QueryError(f"{item!r}: an attribute key has no control characters", param=param)
        column = "attributes" if source == "attr" else "resource_attributes"
        alias = _SAFE_ALIAS.sub("_", key).strip("_") or "attribute"
        return alias, f"json_extract_string({column}, {_json_path_key(key)})"
    if item in ALIASES:
        return ALIASES[item]
    if item in TIME_GROUPS:
        return item, TIME_GROUPS[item]
    if item in GROUPABLE:
        return item, f'"{item}"'
    raise QueryError(
        f"{item!r} is not a groupable column; use one of {', '.join(sorted(ALIASES))} (short names), "
        f"{', '.join(sorted(GROUPABLE))}, hour/day/week, attr:KEY or resource:KEY",
        param=param,
    )


@dataclass(frozen=True)
class Grouping:
    """The keys a report groups by: (output column, SQL expression) pairs, in order."""

    keys: tuple[tuple[str, str], ...] = ()
    items: tuple[str, ...] = field(default=(), compare=False)  # as the user wrote them

    @classmethod
    def of(cls, by: str | Sequence[str] | Grouping | None, *, param: str = "by") -> Grouping:
        """``"model,feature"``, ``["model", "attr:org.id"]``, a Grouping or None."""
        if by is None or isinstance(by, Grouping):
            return by or cls()
        items = by.split(",") if isinstance(by, str) else [part for b in by for part in str(b).split(",")]
        items = [i.strip() for i in items if i.strip()]
        return cls(tuple(_key(i, param) for i in items), tuple(items))

    @property
    def text(self) -> str:
        """The grouping as ``by`` text (``model,attr:org.id``)."""
        return ",".join(self.items)

    def __iter__(self) -> Iterator[tuple[str, str]]:
        return iter(self.keys)

    def __len__(self) -> int:
        return len(self.keys)

    def __bool__(self) -> bool:
        return bool(self.keys)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(a for a, _ in self.keys)


GroupingLike = str | Sequence[str] | Grouping | None  # what analyses accept for ``by``


def group_exprs(by: GroupingLike) -> list[tuple[str, str]]:
    """``by`` -> [(output column name, SQL expression)]."""
    return list(Grouping.of(by))


def select_list(groups: Sequence[tuple[str, str]] | Grouping) -> str:
    return "".join(f'{expr} AS "{alias}", ' for alias, expr in groups)


def group_by_clause(groups: Sequence[tuple[str, str]] | Grouping) -> str:
    groups = list(groups)
    return ("GROUP BY " + ", ".join(str(i + 1) for i in range(len(groups)))) if groups else ""


def positive_int(value: int, param: str, *, zero: bool = False) -> int:
    """An option that counts things: a positive int (or zero where that means "none")."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 0 or (value == 0 and not zero):
        raise QueryError(f"{value!r}: give a whole number{' ≥ 0' if zero else ' ≥ 1'}", param=param)
    return value


__all__ = [
    "Grouping",
    "GroupingLike",
    "SpanFilter",
    "Where",
    "group_by_clause",
    "group_exprs",
    "parse_duration",
    "parse_time",
    "parse_window",
    "positive_int",
    "select_list",
]
