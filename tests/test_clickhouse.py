"""The ClickHouse store on a real ClickHouse engine (chdb): the exporter's ``otel_traces`` / ``otel_logs``
filled from the same OTLP files as a DuckDB store (by tests/otel_exporter.py, written from the exporter's
documented behaviour, not from llmscope's normalizer), then every figure compared, span by span and
report by report. Plus the ``clickhouse://`` path (URL, auth, errors) against an HTTP stand-in.
"""

from __future__ import annotations

import base64
import json
import math
import threading
from datetime import datetime
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import duckdb
import pytest
from helpers import CAPTURED, SAMPLES

import llmscope
from llmscope import schema
from llmscope.errors import ConfigError, LlmscopeError, StoreError

chdb = pytest.importorskip("chdb")

import otel_exporter  # noqa: E402

from llmscope.store.clickhouse import sqlgen  # noqa: E402
from llmscope.store.clickhouse.engine import _ChdbClient, parse_url  # noqa: E402

# Two of the sample apps (one whose content is only in log records) and every captured library: each
# dialect and content rule, at a size that keeps this module quick (each ClickHouse query pays for
# analysing the generated relation, a second or so on a loaded 2-core machine, whatever the data).
FILES = [
    SAMPLES / "ticket-triage.traces.jsonl",
    SAMPLES / "ticket-triage.logs.jsonl",
    SAMPLES / "support-bot.traces.jsonl.gz",
    CAPTURED,
]
LATER = [SAMPLES / "research-agent.traces.jsonl.gz"]  # the agent app (planted loops, a runaway)


@pytest.fixture(scope="module")
def stores(tmp_path_factory) -> tuple[llmscope.Store, llmscope.Store, Path]:
    d = tmp_path_factory.mktemp("clickhouse")
    duck = llmscope.open(d / "store.duckdb")
    duck.ingest([str(f) for f in FILES + LATER])
    client = _ChdbClient(parse_url(f"chdb:{d / 'ch'}"))
    n_spans, n_logs = otel_exporter.load(client.session, FILES)
    assert n_spans > 3_000 and n_logs > 50
    ch = llmscope.open(f"chdb:{d / 'ch'}")
    # the first open copies those spans into llmscope_spans; spans the exporter inserts after that
    # reach it through llmscope's materialized view on otel_traces: the comparisons cover both paths
    assert ch.sql("SELECT count(*) AS n FROM spans").to_dicts() == [{"n": n_spans}]
    n_later, _ = otel_exporter.load(client.session, LATER)
    assert n_later > 2_000
    return duck, ch, d


def _one_unit_apart(a: float, b: float) -> bool:
    """Both rounded to k decimals and one unit of the k-th decimal apart: a value on a rounding tie.
    DuckDB interpolates percentiles in extended precision; ClickHouse's quantileExactInclusive (the
    same definition) in double, so about one value in ten differs in its last bit (measured), and a
    percentile that lands exactly on x.x5 can show one decimal unit apart after round()."""
    for k in range(5):
        unit = 10.0**-k
        if round(a, k) == a and round(b, k) == b and abs(a - b) <= unit * 1.0001:
            return True
    return False


def _same(a, b) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        # sums in another order: equal to 1e-9 relative (the figures shown are rounded far coarser)
        if math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12) or (math.isnan(a) and math.isnan(b)):
            return True
        return _one_unit_apart(a, b)
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    return a == b


def _key(row: dict) -> tuple:
    return tuple((k, repr(v) if not isinstance(v, float) else "") for k, v in sorted(row.items()))


def assert_same_rows(a: list[dict], b: list[dict], what: str, ignore: tuple[str, ...] = ()) -> None:
    """Same rows; rows that tie on a report's sort key may come in either order on either engine."""
    assert len(a) == len(b), f"{what}: {len(a)} rows on DuckDB, {len(b)} on ClickHouse"
    if [_key(x) for x in a] != [_key(y) for y in b]:
        a, b = sorted(a, key=_key), sorted(b, key=_key)
    for i, (x, y) in enumerate(zip(a, b)):
        x = {k: v for k, v in x.items() if k not in ignore}
        y = {k: v for k, v in y.items() if k not in ignore}
        diff = {k: (x.get(k), y.get(k)) for k in x.keys() | y.keys() if not _same(x.get(k), y.get(k))}
        assert not diff, f"{what} row {i}: (DuckDB, ClickHouse) differ in {diff}"


# --------------------------------------------------------------------------- functions


def test_exact_percentiles_match_duckdb_quantile_cont():
    """quantileExactInclusive interpolates as DuckDB's quantile_cont; quantileExact (nearest rank) does not."""
    values = [1, 2, 3, 4, 10, 100, 7.5, 8, 9.25, 12.25]
    arr = "[" + ", ".join(map(str, values)) + "]"
    s = chdb.session.Session()
    try:
        for q in (0.1, 0.33, 0.5, 0.95, 0.99):
            duck = duckdb.sql(f"SELECT quantile_cont(x, {q}) FROM unnest({arr}::DOUBLE[]) t(x)").fetchall()[0][0]
            row = s.query(
                f"SELECT {sqlgen.EXACT_QUANTILE}({q})(x), quantileExact({q})(x) FROM (SELECT arrayJoin({arr}) AS x)",
                "CSV",
            ).data()
            exact, nearest = (float(v) for v in row.strip().split(","))
            assert exact == duck
            if q == 0.95:
                assert nearest != duck  # why the other function is not the one
    finally:
        s.close()


def test_duckdb_rounding_and_buckets_are_kept(stores):
    """round() ties away from zero (ClickHouse rounds float ties to even) and week buckets from DuckDB's origin."""
    _, ch, _ = stores
    row = ch.sql(
        "SELECT round(12.25, 1) AS a, round(2.5) AS b, round(-0.125, 2) AS c, "
        "time_bucket(INTERVAL 7 DAY, TIMESTAMP '2025-11-13 10:00:00') AS w FROM spans LIMIT 1"
    ).to_dicts()[0]
    duck = duckdb.sql(
        "SELECT round(12.25, 1), round(2.5), round(-0.125, 2), time_bucket(INTERVAL 7 DAY, TIMESTAMP '2025-11-13 10:00:00')"
    ).fetchall()[0]
    assert (row["a"], row["b"], row["c"], row["w"]) == (float(duck[0]), float(duck[1]), float(duck[2]), duck[3])


def test_filter_aggregates_and_ordered_first_transpile():
    sql = sqlgen.to_clickhouse(
        "SELECT count(*) FILTER (WHERE status = 'error'), first(x ORDER BY t) FILTER (WHERE x IS NOT NULL), "
        "quantile_cont(d, 0.5) FROM spans WHERE start_time >= ?",
        [datetime(2025, 11, 1, 12, 0, 0, 123456)],
    )
    assert "countIf(status = 'error')" in sql
    assert "argMinIf(x, t, NOT (x IS NULL))" in sql
    assert f"{sqlgen.EXACT_QUANTILE}(0.5)(d)" in sql
    assert "toDateTime64('2025-11-01 12:00:00.123456', 6, 'UTC')" in sql  # parameters bound exactly


def test_a_cte_read_twice_is_materialized_where_the_engine_can():
    sql = "WITH a AS (SELECT 1 AS x), b AS (SELECT x FROM a), once AS (SELECT 2 AS y) SELECT * FROM a, b, b AS c, once"
    out = sqlgen.to_clickhouse(sql, materialize=True)
    # a: read by b and by the query; b: twice; once: once (inlined, as ClickHouse would anyway)
    assert "a AS MATERIALIZED (" in out and "b AS MATERIALIZED (" in out
    assert "once AS (SELECT" in out
    assert "MATERIALIZED" not in sqlgen.to_clickhouse(sql)  # servers before 26.3 reject the keyword


def test_a_cte_read_twice_is_one_relation(stores):
    # as in DuckDB, both readers of a CTE see the same rows: a random column agrees with itself
    _, ch, _ = stores
    row = ch.sql(
        "WITH r AS (SELECT trace_id, span_id, random() AS x FROM spans) "
        "SELECT count(*) AS n, count(*) FILTER (WHERE a.x <> b.x) AS differ "
        "FROM r a JOIN r b ON a.trace_id = b.trace_id AND a.span_id = b.span_id"
    ).to_dicts()[0]
    assert row["n"] > 3_000 and row["differ"] == 0


# --------------------------------------------------------------------------- the spans relation

# Raw JSON columns keep the exporter's spelling (every value a string), so they are compared by content elsewhere.
_RAW = {"attributes", "resource_attributes", "events", "input_messages", "output_messages", "tool_definitions"}
_LOAD = {"source", "source_line", "ingested_at"}  # where a row came from: a file here, the exporter's table there


def test_spans_relation_equals_the_normalizer_span_by_span(stores):
    duck, ch, _ = stores
    cols = [c.name for c in schema.SPANS if c.name not in _RAW | _LOAD]
    sql = f"SELECT {', '.join(cols)} FROM spans ORDER BY trace_id, span_id"
    a = duck.sql(sql).to_dicts()
    b = ch.sql(sql).to_dicts()
    assert len(a) > 3_000
    assert_same_rows(a, b, "spans")
    dialects = {r["dialect"] for r in a}
    assert {"otel_genai", "openinference", "openlit", "traceloop"} <= dialects  # every captured library is in


def test_message_columns_equal_the_normalizer(stores):
    """input_messages / output_messages parsed (ClickHouse escapes '/' and orders nothing differently, but
    compare values, not spellings). Spans with log records (ticket-triage, a captured library) are not compared:
    ClickHouse does not build their messages yet (its logs relation's message column is the raw body)."""
    duck, ch, _ = stores
    sql = (
        "SELECT trace_id, span_id, dialect, input_messages, output_messages FROM spans "
        "WHERE (trace_id, span_id) NOT IN (SELECT trace_id, span_id FROM logs) ORDER BY trace_id, span_id"
    )
    a, b = duck.sql(sql).to_dicts(), ch.sql(sql).to_dicts()
    assert len(a) == len(b) > 3_000
    built, tool_results = set(), set()
    for x, y in zip(a, b):
        assert (x["trace_id"], x["span_id"]) == (y["trace_id"], y["span_id"])
        for c in ("input_messages", "output_messages"):
            parsed = (json.loads(x[c]) if x[c] else None), (json.loads(y[c]) if y[c] else None)
            assert parsed[0] == parsed[1], f"{x['dialect']} span {x['span_id']} {c}: (DuckDB, ClickHouse) {parsed}"
            if parsed[0]:
                built.add(x["dialect"])
                if any(m.get("tool_call_id") for m in parsed[0]):
                    tool_results.add(x["dialect"])
    assert {"otel_genai", "openinference", "traceloop", "vercel_ai"} <= built  # semconv, both indexed spellings, AI SDK
    assert "vercel_ai" in tool_results  # the AI SDK's tool-result parts (the tool run's second step) read alike


def test_scan_findings_equal_duckdb(stores):
    duck, ch, _ = stores
    # the support bot's LLM spans were all marked as injection while their messages were NULL here
    a, b = duck.scan(), ch.scan()
    assert a.spans_scanned == b.spans_scanned > 3_000
    assert (a.findings, a.by_kind) == (b.findings, b.by_kind)


def test_context_keys_come_from_the_configuration(stores, tmp_path):
    _, _, d = stores
    cfg = tmp_path / "llmscope.toml"
    cfg.write_text('[attributes]\nfeature = ["resource:service.version"]\n', encoding="utf-8")
    ch = llmscope.open(f"chdb:{d / 'ch'}", config=cfg)
    rows = ch.sql("SELECT feature, count(*) AS n FROM spans WHERE service_name = 'ticket-triage' GROUP BY 1").to_dicts()
    assert rows == [{"feature": "1.2.0", "n": rows[0]["n"]}]


# --------------------------------------------------------------------------- reports

REPORTS = [
    ("summary", {}),
    ("latency", {"by": "model", "every": "1d"}),
    ("latency", {"histogram": True}),
    ("errors", {"by": "provider,error_type"}),
    ("cost", {"by": "feature", "top": 5}),
    ("safety", {}),
    ("quality", {}),
    ("stats", {}),
    ("agents", {}),
    ("agents", {"by": "agent_name,request_model"}),
    ("loops", {}),
    ("tools", {}),
]
# The model's requested tool calls are read from output_messages, which the ClickHouse relation builds
# from span attributes only so far (not from span events or log records, where the research agent's and
# a captured library's calls are): that one table of the tools report is not compared yet.
NOT_ON_CLICKHOUSE = {"requested_by_model"}


@pytest.mark.parametrize(("kind", "options"), REPORTS, ids=[f"{k}-{'-'.join(o)}" for k, o in REPORTS])
def test_report_figures_equal_duckdb(stores, kind, options):
    duck, ch, _ = stores
    a, b = duck.report(kind, **options), ch.report(kind, **options)
    # the ClickHouse store is filled by the Collector, not by `llmscope ingest`: it has no ingest runs
    ignore = ("ingests",) if kind == "stats" else ()
    assert_same_rows(a.to_dicts(), b.to_dicts(), kind, ignore)
    assert a.num_rows > 0 or kind in ("safety", "quality"), f"{kind}: nothing compared"
    for name in a.others:
        if name not in NOT_ON_CLICKHOUSE:
            assert_same_rows(a[name].to_dicts(), b[name].to_dicts(), f"{kind}[{name}]")


def test_drift_figures_equal_duckdb(stores):
    duck, ch, _ = stores
    a, b = duck.report("drift"), ch.report("drift")
    assert a.num_rows > 0
    assert_same_rows(a.to_dicts(), b.to_dicts(), "drift")


def test_alert_rules_equal_duckdb(stores):
    duck, ch, _ = stores
    rules = Path(llmscope.__file__).parent / "example_alerts.toml"
    at = datetime(2025, 11, 12, 10)
    a, b = duck.check(rules, at=at), ch.check(rules, at=at)
    assert a.alerts, "nothing compared"
    assert_same_rows([x.__dict__ for x in a.alerts], [x.__dict__ for x in b.alerts], "alerts")  # sums: to 1e-9


def test_traces_and_one_trace_equal_duckdb(stores):
    duck, ch, _ = stores
    a, b = duck.traces(limit=20), ch.traces(limit=20)
    assert_same_rows(a.to_dicts(), b.to_dicts(), "trace list")
    tid = a.to_dicts()[0]["trace_id"]
    assert_same_rows(duck.trace(tid).to_dicts(), ch.trace(tid[:12]).to_dicts(), "trace")


# --------------------------------------------------------------------------- clickhouse:// over HTTP


def test_url_handling():
    t = parse_url("clickhouse://ana:s%40cret@ch.example:9000/otel?table=traces_v2&logs=logs_v2")
    assert (t.host, t.port, t.user, t.password, t.database, t.table, t.logs, t.secure) == (
        "ch.example", 9000, "ana", "s@cret", "otel", "traces_v2", "logs_v2", False,
    )  # fmt: skip
    assert parse_url("clickhouses://u@h/db").port == 8443 and parse_url("clickhouses://u@h/db").secure
    assert parse_url("clickhouse://h").database == "default"
    assert parse_url("chdb:./x?table=t").table == "t"
    assert "s@cret" not in parse_url("clickhouse://ana:s%40cret@h/db").describe()  # never printed
    for bad, words in (
        ("clickhouse://h/db?tabel=x", "unknown parameter 'tabel'"),
        ("clickhouse://h/db?table=x;drop", "is not a table name"),
        ("clickhouse:///db", "no host"),
        ("clickhouse://h:port/db", "port is not a number"),
        ("chdb:", "give a directory"),
    ):
        with pytest.raises(ConfigError, match=words):
            parse_url(bad)


def test_password_from_environment(monkeypatch):
    monkeypatch.setenv("LLMSCOPE_CLICKHOUSE_PASSWORD", "from-env")
    assert parse_url("clickhouse://bob@h/db").password == "from-env"
    assert parse_url("clickhouse://bob:inline@h/db").password == "inline"  # the URL's wins


class _StandIn(BaseHTTPRequestHandler):
    """Answers as a ClickHouse server does when the password is wrong, and records the credentials sent."""

    seen: list[tuple[str, str]] = []

    def _answer(self):
        auth = self.headers.get("Authorization", "")
        user = self.headers.get("X-ClickHouse-User", "")
        key = self.headers.get("X-ClickHouse-Key", "")
        if auth.startswith("Basic "):
            user, _, key = base64.b64decode(auth[6:]).decode().partition(":")
        type(self).seen.append((user, key))
        body = (
            f"Code: 516. DB::Exception: {user}: Authentication failed: password is incorrect, or there is no user "
            "with such name. (AUTHENTICATION_FAILED) (version 24.8.1.1)\n"
        ).encode()
        self.send_response(401)
        self.send_header("X-ClickHouse-Exception-Code", "516")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = _answer

    def log_message(self, *args):
        pass


@pytest.fixture
def standin():
    server = HTTPServer(("127.0.0.1", 0), _StandIn)
    _StandIn.seen = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def test_http_auth_failure_is_one_line_naming_the_store(standin, monkeypatch):
    monkeypatch.setenv("LLMSCOPE_CLICKHOUSE_PASSWORD", "env-secret")
    store = llmscope.open(f"clickhouse://reader@127.0.0.1:{standin}/otel")
    with pytest.raises(LlmscopeError) as e:
        store.report("latency")
    msg = str(e.value)
    assert "\n" not in msg and f"clickhouse://reader@127.0.0.1:{standin}/otel" in msg
    assert "Authentication failed" in msg and "env-secret" not in msg
    assert ("reader", "env-secret") in _StandIn.seen  # the password went to the server, from the environment


def test_unreachable_server_is_a_store_error():
    store = llmscope.open("clickhouse://u:p@127.0.0.1:9/otel")  # nothing listens on the discard port
    with pytest.raises(StoreError, match=r"clickhouse://u@127\.0\.0\.1:9/otel"):
        store.report("latency")


def test_not_an_exporter_table_is_refused(stores):
    _, _, d = stores
    client = _ChdbClient(parse_url(f"chdb:{d / 'ch'}"))
    client.command("CREATE TABLE IF NOT EXISTS not_traces (x Int64) ENGINE = MergeTree ORDER BY x")
    with pytest.raises(StoreError, match="not an OpenTelemetry Collector exporter table"):
        llmscope.open(f"chdb:{d / 'ch'}?table=not_traces").report("latency")


# --------------------------------------------------------------------------- export clickhouse


def test_export_clickhouse_gives_the_same_reports(stores):
    duck, _, d = stores
    url = f"chdb:{d / 'exported'}"
    assert duck.export_clickhouse(url) == {
        "spans": duck.time_range()[2],
        "logs": duck.sql("SELECT count(*) AS n FROM logs").to_dicts()[0]["n"],
    }
    assert duck.export_clickhouse(url)["spans"] == 0  # spans already there are not written twice
    up = llmscope.open(url)
    # the DuckDB store keeps times to the microsecond, so an exported span ends up to 1 µs off: req_per_s
    # (spans over a time range) agrees to 1e-6, every other figure exactly
    a, b = duck.report("latency", by="model").to_dicts(), up.report("latency", by="model").to_dicts()
    assert_same_rows(a, b, "latency", ignore=("req_per_s",))
    assert all(math.isclose(x["req_per_s"], y["req_per_s"], rel_tol=1e-6) for x, y in zip(a, b))


# --------------------------------------------------------------------------- the HTML report


class _PageTables(__import__("html.parser").parser.HTMLParser):
    """Every table row of the page as {column: raw value} (each cell's data-v), by section and table."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[tuple[str, int], list[dict]] = {}
        self._section, self._n, self._row = "", 0, None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "section":
            self._section, self._n = a.get("id", ""), 0
        elif tag == "table":
            self._n += 1
            self.tables[(self._section, self._n)] = []
        elif tag == "tr":
            self._row = {}
        elif tag == "td" and self._row is not None and "data-v" in a:
            self._row[a["data-col"]] = json.loads(a["data-v"])

    def handle_endtag(self, tag):
        if tag == "tr" and self._row:
            self.tables[(self._section, self._n)].append(self._row)
        if tag == "tr":
            self._row = None


def _page_tables(store: llmscope.Store) -> dict[tuple[str, int], list[dict]]:
    pytest.importorskip("altair")
    parser = _PageTables()
    parser.feed(store.report("html").meta["html"])
    return parser.tables


def test_the_html_report_shows_the_same_figures_on_clickhouse(stores):
    duck, ch, _ = stores
    on_duck, on_ch = _page_tables(duck), _page_tables(ch)
    assert on_duck.keys() == on_ch.keys()
    sections = {section for section, _ in on_duck}
    assert {"overview", "latency", "errors", "cost", "drift", "agents"} <= sections, sections
    assert sum(len(rows) for rows in on_duck.values()) > 50  # the page has figures to compare
    for key, rows in on_duck.items():
        assert_same_rows(rows, on_ch[key], f"html {key[0]} table {key[1]}")
