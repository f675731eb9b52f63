"""ClickHouse as a store engine: ``clickhouse://`` / ``clickhouses://`` (a server, over HTTP through
clickhouse-connect) and ``chdb:DIR`` (the embedded engine on a local directory).

The analyses talk to a :class:`Connection` exactly as to a DuckDB connection (``execute``, ``sql``,
``register``): each statement is transpiled (:mod:`.sqlgen`), the ``spans`` relation is generated
over the exporter's ``otel_traces`` (:mod:`.spans`), and llmscope's own tables are the
``llmscope_*`` tables of that database (:mod:`.tables`). Results come back as Arrow with DuckDB's
types (counts int64, times naive UTC microseconds, text as strings).
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from urllib.parse import parse_qs, unquote, urlsplit

import pyarrow as pa
import pyarrow.compute as pc
from sqlglot import exp

from ...errors import ConfigError, QueryError, StoreError
from . import materialize, sqlgen, tables
from .spans import SpansSQL, Tables, lit

PASSWORD_ENV = "LLMSCOPE_CLICKHOUSE_PASSWORD"
INSTALL_HINT = "pip install 'llmscope[clickhouse]'"
# Every query runs in UTC (the store's times are naive UTC) with Arrow output DuckDB-like.
SETTINGS = {
    "session_timezone": "UTC",
    "output_format_arrow_string_as_string": 1,
    "output_format_arrow_low_cardinality_as_dictionary": 0,
    "join_use_nulls": 1,
    "prefer_column_name_to_alias": 1,
    "allow_experimental_join_condition": 1,  # range joins (histogram bins: v > lo AND v <= hi)
    "allow_suspicious_types_in_group_by": 1,
    "allow_experimental_correlated_subqueries": 1,
    "allow_suspicious_types_in_order_by": 1,  # `sum(cost_usd) AS cost_usd` then `cost_usd` means the column, as in DuckDB
    "short_circuit_function_evaluation": "force_enable",  # content rules gate heavy JSON work on cheap tests
    "allow_experimental_analyzer": 1,
}
# Servers that run `WITH x AS MATERIALIZED (…)` (sqlgen marks CTEs read more than once): older ones
# reject the keyword, so it is written only where the version has it.
MATERIALIZED_CTE_SINCE = (26, 3)
MATERIALIZED_CTE_SETTING = {"enable_materialized_cte": 1}
PARSE_SETTINGS = {
    "max_query_size": 64 * 1024 * 1024,
    "max_ast_elements": 10_000_000,
    "max_expanded_ast_elements": 10_000_000,
}


@dataclass
class Target:
    """A parsed store address."""

    kind: str  # "chdb" or "http"
    path: str = ""  # chdb directory
    host: str = "localhost"
    port: int = 8123
    user: str = "default"
    password: str = ""
    database: str = "default"
    secure: bool = False
    table: str = "otel_traces"
    logs: str = "otel_logs"
    spans: str = "table"  # "table": llmscope_spans (materialize.py); "view": the relation over otel_traces
    url: str = ""

    def describe(self) -> str:
        if self.kind == "chdb":
            return f"chdb:{self.path}"
        scheme = "clickhouses" if self.secure else "clickhouse"
        return f"{scheme}://{self.user}@{self.host}:{self.port}/{self.database}"


_IDENT_OK = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.")


def _ident(value: str, what: str, url: str) -> str:
    if not value or not set(value) <= _IDENT_OK or value[0].isdigit():
        raise ConfigError(f"{url}: {what} {value!r} is not a table name (letters, digits, _ and one . for a database)")
    return value


def parse_url(url: str) -> Target:
    """``clickhouse[s]://USER[:PASSWORD]@HOST[:PORT]/DATABASE?table=…&logs=…`` or ``chdb:DIR?table=…``."""
    scheme, _, rest = url.partition(":")
    scheme = scheme.lower()
    if scheme == "chdb":
        path, _, query = rest.partition("?")
        path = path.removeprefix("//")
        if not path:
            raise ConfigError(f"{url}: give a directory, as chdb:./traces-db")
        t = Target("chdb", path=os.path.expanduser(path), url=url)
    elif scheme in ("clickhouse", "clickhouses"):
        parts = urlsplit(url)
        query = parts.query
        try:
            port = parts.port
        except ValueError:
            raise ConfigError(f"{url}: the port is not a number") from None
        if not parts.hostname:
            raise ConfigError(f"{url}: no host; give clickhouse://USER:PASSWORD@HOST:8123/DATABASE")
        secure = scheme == "clickhouses"
        database = parts.path.strip("/") or "default"
        t = Target(
            "http",
            host=parts.hostname,
            port=port or (8443 if secure else 8123),
            user=unquote(parts.username) if parts.username else "default",
            password=unquote(parts.password) if parts.password is not None else os.environ.get(PASSWORD_ENV, ""),
            database=_ident(database, "database", url),
            secure=secure,
            url=url,
        )
    else:
        raise ConfigError(f"{url}: not a ClickHouse address (clickhouse://, clickhouses:// or chdb:)")
    q = parse_qs(query, keep_blank_values=True)
    unknown = set(q) - {"table", "logs", "spans"}
    if unknown:
        raise ConfigError(f"{url}: unknown parameter {sorted(unknown)[0]!r}; use table=, logs= and spans=")
    if "spans" in q:
        if q["spans"][-1] not in ("table", "view"):
            raise ConfigError(f"{url}: spans= is 'table' (llmscope_spans, the default) or 'view' (read otel_traces)")
        t.spans = q["spans"][-1]
    if "table" in q:
        t.table = _ident(q["table"][-1], "table", url)
    if "logs" in q:
        t.logs = _ident(q["logs"][-1], "logs table", url)
    return t


# --------------------------------------------------------------------------- clients


class _ChdbClient:
    """One chdb session per directory and process (chdb allows a single open session)."""

    _sessions: dict[str, object] = {}
    _lock = threading.Lock()

    def __init__(self, target: Target):
        try:
            from chdb import session
        except ImportError:
            raise StoreError(
                f"{target.describe()}: the embedded ClickHouse engine needs chdb: {INSTALL_HINT}"
            ) from None
        path = os.path.abspath(target.path)
        with self._lock:
            s = self._sessions.get(path)
            if s is None:
                os.makedirs(path, exist_ok=True)
                for other in list(self._sessions):  # chdb keeps one session per process
                    self._sessions.pop(other).close()
                s = self._sessions[path] = session.Session(path)
        self.session = s
        # session settings: every statement (the long generated relation is parsed before a SETTINGS clause applies)
        for k, v in {**PARSE_SETTINGS, **SETTINGS}.items():
            s.query(f"SET {k} = {v!r}")
        self.materialized_cte = _has_materialized_cte(self.query_arrow("SELECT version()").column(0)[0].as_py())
        if self.materialized_cte:
            for k, v in MATERIALIZED_CTE_SETTING.items():
                s.query(f"SET {k} = {v!r}")

    def query_arrow(self, sql: str) -> pa.Table:
        res = self.session.query(sql, "ArrowTable")
        return res if isinstance(res, pa.Table) else pa.table({})

    def command(self, sql: str) -> None:
        self.session.query(sql)

    def close(self) -> None:
        pass


class _HttpClient:
    def __init__(self, target: Target):
        try:
            import clickhouse_connect
        except ImportError:
            raise StoreError(
                f"{target.describe()}: ClickHouse over HTTP needs clickhouse-connect: {INSTALL_HINT}"
            ) from None
        try:
            self.client = clickhouse_connect.get_client(
                host=target.host,
                port=target.port,
                username=target.user,
                password=target.password,
                database=target.database,
                secure=target.secure,
                settings={
                    **{k: v for k, v in SETTINGS.items() if k != "allow_experimental_analyzer"},
                    **PARSE_SETTINGS,
                },
                connect_timeout=10,
                send_receive_timeout=300,
            )
        except Exception as e:  # clickhouse_connect raises its own errors and OSErrors
            raise StoreError(f"{target.describe()}: {_first_line(e)}") from None
        self.materialized_cte = _has_materialized_cte(getattr(self.client, "server_version", "") or "")
        self._settings = MATERIALIZED_CTE_SETTING if self.materialized_cte else None

    def query_arrow(self, sql: str) -> pa.Table:
        return self.client.query_arrow(sql, settings=self._settings)

    def command(self, sql: str) -> None:
        self.client.command(sql)

    def close(self) -> None:
        self.client.close()


def _has_materialized_cte(version: str | bytes) -> bool:
    if isinstance(version, bytes):
        version = version.decode()
    try:
        return tuple(int(x) for x in str(version).split(".")[:2]) >= MATERIALIZED_CTE_SINCE
    except ValueError:
        return False


def _first_line(e: BaseException) -> str:
    text = str(e).strip() or type(e).__name__
    for line in text.splitlines():
        line = line.strip()
        if line:
            # the server's message, without the stack trace ClickHouse appends
            return line.split(" (version ")[0].split(". Stack trace")[0]
    return text


# --------------------------------------------------------------------------- results


def _duck_types(t: pa.Table) -> pa.Table:
    """ClickHouse's Arrow types as DuckDB's: int64 counts, naive UTC microsecond times, strings, floats."""
    cols, changed = [], False
    for col in t.columns:
        typ = col.type
        target = None
        if pa.types.is_dictionary(typ):
            col, typ, changed = col.cast(typ.value_type), typ.value_type, True
        if pa.types.is_unsigned_integer(typ) or typ in (pa.int8(), pa.int16(), pa.int32()):
            target = pa.int64()
        elif pa.types.is_binary(typ) or pa.types.is_large_binary(typ) or pa.types.is_large_string(typ):
            target = pa.string()
        elif pa.types.is_timestamp(typ) and (typ.tz is not None or typ.unit != "us"):
            col = pc.cast(col.cast(pa.timestamp(typ.unit, "UTC")), pa.timestamp("us", "UTC"), safe=False)
            target = pa.timestamp("us")
        elif pa.types.is_float32(typ):
            target = pa.float64()
        elif pa.types.is_decimal(typ):
            target = pa.float64()
        if target is not None:
            col = col.cast(target) if not pa.types.is_timestamp(typ) else col.cast(target, safe=False)
            changed = True
        cols.append(col)
    return pa.table(cols, names=t.column_names) if changed else t


class Cursor:
    """What ``execute`` returns: ``fetchall``, ``fetchone``, ``description`` (as DuckDB's)."""

    def __init__(self, table: pa.Table):
        self.table = table
        self._rows: list[tuple] | None = None
        self._pos = 0
        self.description = [
            (n, str(t), None, None, None, None, None) for n, t in zip(table.column_names, table.schema.types)
        ]

    def _all(self) -> list[tuple]:
        if self._rows is None:
            cols = [c.to_pylist() for c in self.table.columns]
            self._rows = list(zip(*cols)) if cols else []
        return self._rows

    def fetchall(self) -> list[tuple]:
        rows = self._all()[self._pos :]
        self._pos = len(self._all())
        return rows

    def fetchone(self) -> tuple | None:
        rows = self._all()
        if self._pos >= len(rows):
            return None
        self._pos += 1
        return rows[self._pos - 1]

    def to_arrow_table(self) -> pa.Table:
        return self.table

    arrow = to_arrow_table
    fetch_arrow_table = to_arrow_table

    def fetch_record_batch(self, rows_per_batch: int = 100_000) -> pa.RecordBatchReader:
        return pa.RecordBatchReader.from_batches(self.table.schema, self.table.to_batches(max_chunksize=rows_per_batch))


# Statements that mean nothing to ClickHouse here: each write is one INSERT (atomic per block).
_NO_OPS = ("BEGIN", "COMMIT", "ROLLBACK", "SET ", "CHECKPOINT", "PRAGMA", "FORCE CHECKPOINT")


class Connection:
    """The subset of DuckDB's connection API the analyses use, over a ClickHouse database."""

    def __init__(self, client, target: Target, spans: SpansSQL, rates: pa.Table | None, info=None):
        self.client = client
        self.info = info
        self.target = target
        self.spans = spans
        self._registered: dict[str, pa.Table] = {}
        if rates is not None:
            self._registered["_llmscope_rates"] = rates

    # DuckDB's API ------------------------------------------------------------
    def execute(self, sql: str, params=None) -> Cursor:
        head = sql.lstrip().upper()
        if head.startswith(_NO_OPS):
            return Cursor(pa.table({}))
        return Cursor(self._run(sql, params))

    def sql(self, sql: str, params=None) -> Cursor:
        return Cursor(self._run(sql, params))

    def register(self, name: str, table) -> None:
        if not isinstance(table, pa.Table):
            table = pa.Table.from_batches([table]) if isinstance(table, pa.RecordBatch) else pa.table(table)
        self._registered[name] = table

    def unregister(self, name: str) -> None:
        self._registered.pop(name, None)

    def close(self) -> None:
        self._registered.clear()

    def extract_statements(self, sql: str):
        import sqlglot

        try:
            trees = [t for t in sqlglot.parse(sql, read="duckdb") if t is not None]
        except sqlglot.errors.ParseError as e:
            raise QueryError(str(e).splitlines()[0], param="query") from None
        return [_Statement(t) for t in trees]

    # the translation ---------------------------------------------------------
    def translate(self, sql: str, params=None) -> str:
        self._subs: dict[str, str] = {}
        text = sqlgen.to_clickhouse(
            sql, params, tables=self._table_for, prepare=self._prepare,
            materialize=getattr(self.client, "materialized_cte", False),
        )  # fmt: skip
        for key, sub in self._subs.items():
            text = text.replace(key, sub)
        return text

    def _prepare(self, tree: exp.Expression) -> None:
        self._needed = _referenced_columns(tree)
        self._needed_by_ref = _columns_per_reference(tree)

    def _table_for(self, t: exp.Table) -> exp.Expression | None:
        if isinstance(t.this, exp.Anonymous) and t.this.name.lower() == "duckdb_tables":
            # the catalog as DuckDB names it: llmscope's tables present here, under their DuckDB names
            present = [k for k, v in tables.OWN_TABLES.items() if self.info is not None and v in self.info.tables]
            present += ["spans"] + (["logs"] if self.info is not None and self.info.has_logs else [])
            rows = " UNION ALL ".join(f"SELECT {lit(n)} AS table_name" for n in present)
            return self._placeholder(rows, t.alias or "duckdb_tables")
        name = t.name
        if t.args.get("db") or t.args.get("catalog"):
            return None
        alias = t.alias or name
        if name == "spans":
            sub = self.spans.sql(self._needed_by_ref.get(id(t), self._needed))
        elif name in self._registered:
            sub = _inline(self._registered[name])
        elif name == "_rates":  # pricing's name for the rate table
            sub = _inline(self._registered.get("_llmscope_rates", _empty_rates()))
        elif name in tables.OWN_TABLES:
            own = tables.OWN_TABLES[name]
            if self.info is None or own in self.info.tables:
                return exp.Table(this=exp.to_identifier(own), alias=t.args.get("alias"))
            sub = tables.empty_relation(own)  # nothing written yet: an empty table of the right columns
        elif name == "logs":
            sub = self.spans.logs_sql() if self.info.has_logs else tables.logs_relation(None)
        else:
            return None
        return self._placeholder(sub, alias)

    def _placeholder(self, sub: str, alias: str) -> exp.Table:
        # a placeholder table, replaced by the generated text after sqlglot has written the query
        # (parsing the generated relation back would cost seconds)
        key = f"__llmscope_rel_{len(self._subs)}__"
        self._subs[key] = f"({sub}) AS `{alias}`"
        return exp.Table(this=exp.to_identifier(key))

    def _run(self, sql: str, params=None) -> pa.Table:
        t0 = time.perf_counter()
        text = self.translate(sql, params)
        if os.environ.get("LLMSCOPE_TIME_SQL"):  # where a report's time goes: translation vs the engine
            t1 = time.perf_counter()
            try:
                return self._send(text)
            finally:
                print(f"[sql] translate {t1 - t0:.2f} s, run {time.perf_counter() - t1:.2f} s, {len(text):,} chars: "
                      f"{' '.join(sql.split())[:100]}", file=sys.stderr)  # fmt: skip
        return self._send(text)

    def _send(self, text: str) -> pa.Table:
        try:
            if text.lstrip()[:6].upper() in ("INSERT", "CREATE", "DELETE", "ALTER ", "DROP T", "UPDATE", "TRUNCA"):
                self.client.command(text)
                return pa.table({"Count": pa.array([0], pa.int64())})
            return _duck_types(self.client.query_arrow(text))
        except (QueryError, StoreError):
            raise
        except Exception as e:
            if os.environ.get("LLMSCOPE_DEBUG_SQL"):
                print(text)
            raise QueryError(f"{self.target.describe()}: {_first_line(e)}") from None


class _Statement:
    def __init__(self, tree: exp.Expression):
        kind = "SELECT" if isinstance(tree, exp.Query | exp.Describe) else type(tree).__name__.upper()
        self.type = type("T", (), {"name": kind})()


def _columns_per_reference(tree: exp.Expression) -> dict[int, set[str] | None]:
    """For each ``spans`` in the query, the columns read from that reference (None: all, for a star):
    those its SELECT names with its alias or unqualified, and any named with its alias elsewhere
    (a correlated subquery). A query that reads spans five times then generates five narrow
    relations, not five with every column (content and cost joins included) the whole query names."""
    from sqlglot.optimizer.scope import traverse_scope

    out: dict[int, set[str] | None] = {}
    try:
        scopes = traverse_scope(tree)
    except Exception:  # a construct the scope walker does not know: the whole query's columns
        return out
    for scope in scopes:
        for alias, source in scope.sources.items():
            if not isinstance(source, exp.Table) or source.name != "spans":
                continue
            sel = scope.expression
            stars = [s for s in sel.find_all(exp.Star) if s.find_ancestor(exp.Select) is sel]
            if any(isinstance(s.parent, exp.Select) or (isinstance(s.parent, exp.Column) and s.parent.table in ("", alias))
                   for s in stars):  # fmt: skip
                out[id(source)] = None
                continue
            names = {c.name for c in scope.columns if c.table in ("", alias)}
            for join in sel.args.get("joins") or []:  # JOIN … USING (a, b) names its columns as identifiers
                names |= {i.name for i in join.args.get("using") or []}
            names |= {c.name for c in tree.find_all(exp.Column) if c.table == alias}
            out[id(source)] = names
    return out


def _referenced_columns(tree: exp.Expression) -> set[str] | None:
    """Every column name the query mentions (None: a star over spans, so all of them)."""
    names = {c.name for c in tree.find_all(exp.Column)} | {i.name for i in tree.find_all(exp.Identifier)}
    for star in tree.find_all(exp.Star):
        if not isinstance(star.parent, exp.Select | exp.Column):  # count(*) reads no column
            continue
        sel = star.find_ancestor(exp.Select)
        if sel is not None and any(t.name == "spans" for t in sel.find_all(exp.Table)):
            return None
    for col in tree.find_all(exp.Column):
        if isinstance(col.this, exp.Star):
            return None
    return names


_CH_TYPES = {
    pa.string(): "Nullable(String)",
    pa.large_string(): "Nullable(String)",
    pa.int64(): "Nullable(Int64)",
    pa.int32(): "Nullable(Int32)",
    pa.float64(): "Nullable(Float64)",
    pa.bool_(): "Nullable(Bool)",
    pa.date32(): "Nullable(Date)",
    pa.timestamp("us"): "Nullable(DateTime64(6, 'UTC'))",
}


def _ch_type(t: pa.DataType) -> str:
    if isinstance(t, pa.BaseExtensionType):
        t = t.storage_type
    if pa.types.is_list(t):
        return f"Array({_ch_type(t.value_type).removeprefix('Nullable(').removesuffix(')')})"
    if pa.types.is_timestamp(t):
        return "Nullable(DateTime64(6, 'UTC'))"
    return _CH_TYPES.get(t, "Nullable(String)")


def _json_default(v):
    if isinstance(v, datetime):
        return v.isoformat(sep=" ")
    if isinstance(v, date):
        return v.isoformat()
    return str(v)


def _inline(table: pa.Table) -> str:
    """A small Arrow table as a ClickHouse relation (works the same on a server and in chdb)."""
    structure = ", ".join(f"`{f.name}` {_ch_type(f.type)}" for f in table.schema)
    rows = table.to_pylist()
    if not rows:
        nulls = ", ".join(f"CAST(NULL AS {_ch_type(f.type)}) AS `{f.name}`" for f in table.schema)
        return f"SELECT {nulls} WHERE 0"
    data = "\n".join(json.dumps(r, default=_json_default, ensure_ascii=False) for r in rows)
    return f"SELECT * FROM format(JSONEachRow, {lit(structure)}, {lit(data)})"


def _empty_rates() -> pa.Table:
    from ..pricing import rate_table

    return rate_table([], [])


# --------------------------------------------------------------------------- the engine


@dataclass
class ClickHouseEngine:
    """A store in ClickHouse: the exporter's tables, read; llmscope's own tables, written."""

    target: Target
    context_keys: dict[str, list[str]] = field(default_factory=dict)
    name: str = "clickhouse"

    path = None

    def describe(self) -> str:
        return self.target.describe()

    def exists(self) -> bool:
        return True

    def _client(self):
        return _ChdbClient(self.target) if self.target.kind == "chdb" else _HttpClient(self.target)

    def _connection(self, client) -> Connection:
        info = tables.inspect(client, self.target)
        tbl = Tables(self.target.table, self.target.logs if info.has_logs else None, info.has_scope_column,
                     info.has_event_name)  # fmt: skip
        if info.has_traces and self.target.spans == "table":
            spans_table, logs_table = materialize.ensure(client, SpansSQL(tbl, self.context_keys), self.target.url)
            tbl = dataclasses.replace(tbl, normalized=spans_table, normalized_logs=logs_table)
        rates = tables.rates(client, self.target, SpansSQL(tbl, self.context_keys)) if info.has_traces else None
        if rates is not None:
            tbl = dataclasses.replace(tbl, rates=f"({_inline(rates)})")
        return Connection(client, self.target, SpansSQL(tbl, self.context_keys), rates, info)

    @contextlib.contextmanager
    def reader(self, sandbox: bool = True) -> Iterator[Connection]:
        client = self._client()
        try:
            yield self._connection(client)
        finally:
            client.close()

    @contextlib.contextmanager
    def writer(self, wait_s: float | None = None) -> Iterator[Connection]:
        client = self._client()
        try:
            tables.migrate(client, self.target)
            yield self._connection(client)
        finally:
            client.close()


def engine(url: str) -> ClickHouseEngine:
    """The ENGINES entry for ``clickhouse://``, ``clickhouses://`` and ``chdb:``."""
    return ClickHouseEngine(parse_url(url), name="chdb" if url.lower().startswith("chdb:") else "clickhouse")
