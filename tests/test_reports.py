"""Reports checked against independent computations on the same data (sample traces, captured fixtures)."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime

import genai_prices
import pytest
from helpers import CAPTURED, SAMPLES, export_line, kv, otlp_span, s, write_lines
from typer.testing import CliRunner

from llmscope import store
from llmscope.analyses import cost as C
from llmscope.analyses import errors as E
from llmscope.analyses import latency as L
from llmscope.analyses import traces as T
from llmscope.analyses.summary import summary
from llmscope.cli.app import app
from llmscope.ingest.pipeline import ingest
from llmscope.query import QueryError, SpanFilter
from llmscope.store import pricing


@pytest.fixture(scope="module")
def con(tmp_path_factory):
    db = tmp_path_factory.mktemp("reports") / "s.duckdb"
    ingest([str(SAMPLES), str(CAPTURED / "openlit-1.45.0")], db)
    c = store.connect(db, read_only=True)
    yield c
    c.close()


def pct(values: list[float], q: float) -> float:
    """Linear interpolation between closest ranks (what quantile_cont computes), written out."""
    xs = sorted(values)
    pos = (len(xs) - 1) * q
    lo, hi = math.floor(pos), math.ceil(pos)
    return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)


def test_latency_percentiles_match_an_independent_computation(con):
    rows = {r["request_model"]: r for r in L.latency(con, by="request_model").to_pylist()}
    raw: dict[str, list[float]] = {}
    for model, d in con.execute("SELECT request_model, duration_ms FROM spans WHERE span_type = 'llm'").fetchall():
        raw.setdefault(model, []).append(d)
    assert set(rows) == set(raw)
    for model, ds in raw.items():
        r = rows[model]
        assert r["requests"] == len(ds)
        for q, col in ((0.5, "p50_ms"), (0.95, "p95_ms"), (0.99, "p99_ms")):
            assert r[col] == pytest.approx(pct(ds, q), abs=0.05), (model, col)
        assert r["max_ms"] == pytest.approx(max(ds), abs=0.05)


def test_request_rate_of_a_quiet_group_is_not_rounded_to_zero(con):
    rows = L.latency(con, by="request_model").to_pylist()
    for r in rows:
        n, first, last = con.execute(
            """SELECT count(*), epoch(min(start_time)), epoch(max(end_time)) FROM spans
                                        WHERE span_type = 'llm' AND request_model = ?""",
            [r["request_model"]],
        ).fetchall()[0]
        assert r["req_per_s"] == pytest.approx(n / (last - first)) and r["req_per_s"] > 0


def test_small_costs_print_with_two_significant_digits_not_e_notation():
    from llmscope.render.tables import fmt_value

    assert fmt_value(9.0e-05, "cost_per_call_usd") == "$0.000090"
    assert fmt_value(0.00018, "cost_per_request_usd") == "$0.00018"
    assert fmt_value(0.0123, "cost_usd") == "$0.0123"
    assert fmt_value(1234.5, "cost_usd") == "$1,234.50"


def test_a_rare_event_rate_is_not_printed_as_zero():
    from llmscope.render.tables import fmt_value

    assert fmt_value(1 / 3308, "pii_leak_rate") == "0.03%"  # one leak in the samples' 3,308 calls
    assert fmt_value(0.0, "pii_leak_rate") == "0.0%"
    assert fmt_value(0.25, "error_rate") == "25.0%"


def test_ttft_and_error_rate(con):
    r = L.latency(con, SpanFilter(where="service_name = 'support-bot'")).to_pylist()[0]
    ttfts = [
        t
        for (t,) in con.execute(
            "SELECT ttft_ms FROM spans WHERE span_type='llm' AND service_name='support-bot' AND ttft_ms IS NOT NULL"
        ).fetchall()
    ]
    assert r["ttft_known"] == len(ttfts) > 0
    assert r["ttft_p95_ms"] == pytest.approx(pct(ttfts, 0.95), abs=0.05)
    n_err, n = con.execute(
        "SELECT count(*) FILTER (WHERE status='error'), count(*) FROM spans WHERE span_type='llm' AND service_name='support-bot'"
    ).fetchall()[0]
    assert r["error_rate"] == pytest.approx(n_err / n, abs=1e-4)


def test_latency_series_shows_the_planted_anthropic_incident(con):
    flt = SpanFilter.from_options(since="2025-11-12", until="2025-11-13", where="provider = 'anthropic'")
    rows = {r["bucket"]: r for r in L.latency_series(con, "1h", flt).to_pylist()}
    incident = rows[datetime(2025, 11, 12, 9)]
    assert incident["error_rate"] >= 0.35  # ~40% planted
    assert all(r["error_rate"] < 0.2 for b, r in rows.items() if b != datetime(2025, 11, 12, 9))
    assert incident["p99_ms"] > 25_000  # the timeouts


def test_latency_series_p95_and_ttft_p50_match_an_independent_computation(con):
    flt = SpanFilter.from_options(since="2025-11-12", until="2025-11-13", where="provider = 'anthropic'")
    rows = {r["bucket"]: r for r in L.latency_series(con, "1h", flt).to_pylist()}
    at9 = rows[datetime(2025, 11, 12, 9)]
    raw = con.execute(
        "SELECT duration_ms, ttft_ms FROM spans WHERE span_type = 'llm' AND provider = 'anthropic' "
        "AND start_time >= '2025-11-12 09:00' AND start_time < '2025-11-12 10:00'"
    ).fetchall()
    assert at9["p95_ms"] == pytest.approx(pct([d for d, _ in raw], 0.95), abs=0.05)
    ttfts = [t for _, t in raw if t is not None]
    assert ttfts and at9["ttft_p50_ms"] == pytest.approx(pct(ttfts, 0.5), abs=0.05)


def test_errors_series_counts_each_class_per_bucket(con):
    flt = SpanFilter.from_options(since="2025-11-12", until="2025-11-13", where="provider = 'anthropic'")
    series = E.errors_series(con, "1h", flt).to_pylist()
    assert [r["bucket"] for r in series] == sorted(r["bucket"] for r in series)
    at9 = {r["bucket"]: r for r in series}[datetime(2025, 11, 12, 9)]
    assert (at9["rate_limit"], at9["timeout"]) == (8, 4)  # the planted burst
    # every bucket together: the same counts as the report without buckets
    total = E.errors(con, flt).to_pylist()[0]
    for col in ("requests", "errors", *E.CLASSES, "other_errors"):
        assert sum(r[col] for r in series) == total[col], col


def test_slowest_traces_come_first(con):
    slow = T.list_traces(con, limit=3, order="slowest").to_pylist()
    longest = con.execute(
        "SELECT epoch_ms(max(end_time)) - epoch_ms(min(start_time)) AS d FROM spans GROUP BY trace_id ORDER BY d DESC LIMIT 3"
    ).fetchall()
    assert [r["duration_ms"] for r in slow] == pytest.approx([d for (d,) in longest], abs=0.05)
    with pytest.raises(ValueError, match="slowest"):
        T.list_traces(con, order="cheapest")


def test_errors_split_by_class_match_raw_counts(con):
    got = {r["provider"]: r for r in E.errors(con, by="provider").to_pylist()}
    raw = con.execute(
        "SELECT provider, error_type, count(*) FROM spans WHERE span_type='llm' AND status='error' GROUP BY ALL"
    ).fetchall()
    for provider, etype, n in raw:
        assert got[provider][etype] == n, (provider, etype)
    anth = got["anthropic"]
    # the planted 09:00-10:00 burst (manifest: 8 RateLimitError, 4 APITimeoutError)
    incident = E.errors(
        con, SpanFilter.from_options(since="2025-11-12T09:00", until="2025-11-12T10:00"), by="provider"
    ).to_pylist()
    assert {r["provider"]: (r["rate_limit"], r["timeout"]) for r in incident}["anthropic"] == (8, 4)
    assert anth["rate_limit"] >= 8
    msgs = E.top_messages(con, limit=3).to_pylist()
    assert msgs[0]["count"] >= msgs[-1]["count"] and len(msgs[0]["example_trace_id"]) == 32


def test_cost_matches_hand_summed_genai_prices(con):
    rows = con.execute("""SELECT feature, provider, coalesce(response_model, request_model), start_time, input_tokens,
                                 output_tokens, cache_read_tokens, cost_usd
                          FROM spans WHERE span_type IN ('llm', 'embedding') AND cost_usd IS NOT NULL""").fetchall()
    by_feature: dict[str, float] = {}
    for feature, provider, model, ts, tin, tout, cache, _ in rows:
        pid = pricing.PROVIDER_ALIASES.get(provider)
        price = genai_prices.calc_price(
            genai_prices.Usage(input_tokens=tin or 0, output_tokens=tout or 0, cache_read_tokens=cache or 0),
            model,
            provider_id=pid,
            genai_request_timestamp=datetime.combine(ts.date(), datetime.min.time()).replace(hour=12, tzinfo=UTC),
        )
        by_feature[feature] = by_feature.get(feature, 0.0) + float(price.total_price)
    got = {r["feature"]: r for r in C.cost(con, by="feature").to_pylist()}
    for feature, total in by_feature.items():
        assert got[feature]["cost_usd"] == pytest.approx(total, rel=1e-9), feature
    assert sum(r["share_of_total"] for r in got.values()) == pytest.approx(1.0, abs=1e-3)
    # self-hosted llama calls are counted as unpriced, never as $0
    assert (
        got["autocomplete"]["unpriced_calls"]
        == con.execute(
            "SELECT count(*) FROM spans WHERE request_model = 'llama-3.1-8b-instruct' AND input_tokens IS NOT NULL"
        ).fetchall()[0][0]
    )


def test_cost_distribution_and_top_requests(con):
    overall = C.cost(con).to_pylist()[0]
    tokens = [
        t
        for (t,) in con.execute(
            "SELECT coalesce(input_tokens,0)+coalesce(output_tokens,0) FROM spans WHERE span_type IN ('llm','embedding')"
        ).fetchall()
    ]
    assert overall["p95_tokens"] == pytest.approx(pct(tokens, 0.95), abs=0.05)
    costs = sorted(
        (
            c
            for (c,) in con.execute(
                "SELECT cost_usd FROM spans WHERE span_type IN ('llm','embedding') AND cost_usd IS NOT NULL"
            ).fetchall()
        ),
        reverse=True,
    )
    threshold = pct(costs, 0.99)
    assert overall["top1pct_cost_share"] == pytest.approx(
        sum(c for c in costs if c >= threshold) / sum(costs), abs=1e-4
    )
    top = C.top_requests(con, n=5).to_pylist()
    assert [t["cost_usd"] for t in top] == sorted((t["cost_usd"] for t in top), reverse=True)
    assert top[0]["trace_id"] == "ee7cc7d19c3e60c196feabf8dadd1f6f"  # the planted 70-step runaway agent


def test_cost_anomaly_marks_the_prompt_version_change_and_not_the_quiet_week(con):
    rows = C.cost_anomalies(con, SpanFilter(where="service_name = 'support-bot'")).to_pylist()
    flagged = {r["bucket"].date().isoformat() for r in rows if r["anomaly"]}
    assert "2025-11-10" in flagged  # v2 -> v3 doubled the input tokens
    assert not any(d < "2025-11-08" for d in flagged)


def test_group_by_raw_attributes_and_bad_group(con):
    rows = L.latency(con, by="attr:gen_ai.request.model").to_pylist()
    assert any(r["gen_ai_request_model"] == "gpt-4o-mini" for r in rows)
    rows = C.cost(con, by="resource:service.name").to_pylist()
    assert {r["service_name"] for r in rows} >= {"support-bot", "code-assist"}
    with pytest.raises(QueryError):
        L.latency(con, by="drop table spans")


def test_latency_histogram_buckets_every_call_once(con, tmp_path):
    by_model = {r["model"]: r["requests"] for r in L.latency(con, by="model").to_pylist()}
    hist = L.latency_histogram(con, by="model").to_pylist()
    for model, n in by_model.items():
        rows = [r for r in hist if r["model"] == model]
        assert sum(r["requests"] for r in rows) == n and abs(sum(r["share"] for r in rows) - 1) < 0.01
    # hand-made durations land in the right 1-2-5 buckets; the last bucket is open
    db = tmp_path / "h.duckdb"
    durations_ms = [5, 15, 150, 199.9, 1500, 250_000, 600_000]
    spans = [
        otlp_span(f"{i + 1:032x}", f"{i + 1:016x}", dur_ns=int(d * 1e6), attrs=[kv("gen_ai.operation.name", s("chat"))])
        for i, d in enumerate(durations_ms)
    ]
    ingest([str(write_lines(tmp_path / "h.jsonl", [export_line(spans)]))], db)
    c = store.connect(db, read_only=True)
    try:
        got = [(r["lo_ms"], r["hi_ms"], r["requests"]) for r in L.latency_histogram(c).to_pylist()]
    finally:
        c.close()
    assert got == [(0, 10, 1), (10, 20, 1), (100, 200, 2), (1000, 2000, 1), (200_000, 500_000, 1), (500_000, None, 1)]


def test_latency_histogram_in_the_terminal_and_as_data(con):
    db = con.execute("SELECT path FROM duckdb_databases() WHERE database_name = current_database()").fetchall()[0][0]
    runner = CliRunner()
    env = {"NO_COLOR": "1", "COLUMNS": "120"}
    res = runner.invoke(app, ["--db", db, "report", "latency", "--by", "model", "--histogram"], env=env)
    assert res.exit_code == 0, res.output
    assert "model=gpt-4o-mini" in res.stdout and "◀ p50" in res.stdout and "█" in res.stdout
    rows = json.loads(
        runner.invoke(
            app, ["--db", db, "report", "latency", "--histogram", "--ttft", "--format", "json"], env=env
        ).stdout
    )
    assert rows and set(rows[0]) == {"bucket", "lo_ms", "hi_ms", "requests", "share"}


def test_short_group_names(con):
    """--by model / user / session, as people type them: the same groups as the column names."""
    by_model = {r["model"]: r["requests"] for r in L.latency(con, by="model").to_pylist()}
    by_column = {r["request_model"]: r["requests"] for r in L.latency(con, by="request_model").to_pylist()}
    assert by_model == by_column and "gpt-4o-mini" in by_model
    users = C.cost(con, by="user,session").to_pylist()
    assert users and set(users[0]) >= {"user_id", "session_id", "cost_usd"}


def test_tables_fit_a_narrow_terminal_and_say_what_they_left_out(con):
    from rich.console import Console

    from llmscope.render import tables as render

    out = Console(width=80, force_terminal=True, no_color=True, record=True)
    keep = ["feature", "calls", "cost_usd", "share_of_total", "cost_per_request"]
    render.emit(C.cost(con, by="feature"), "table", out=out, keep=keep)
    text = out.export_text()
    lines = text.splitlines()
    assert all(len(line) <= 80 for line in lines)
    header = " ".join(lines[:4])
    assert all(k.replace("_", " ").split()[0] in header for k in keep)
    assert "more column(s) at this width" in text and "p99_tokens" in text
    assert "research" in text and "$2.0147" in text  # whole values, not folded into slivers
    # a pipe (not a terminal) gets every column at full width, one line per row
    piped = Console(width=80, force_terminal=False, no_color=True, record=True)
    render.emit(C.cost(con, by="feature"), "table", out=piped, keep=keep)
    text = piped.export_text()
    assert "more column(s)" not in text and "top1pct cost share" in text and "unpriced calls" in text
    assert len([line for line in text.splitlines() if line.startswith("│")]) == len(C.cost(con, by="feature"))


def test_summary_covers_five_families(con):
    from llmscope.query import SpanFilter

    # the summary's period: the sample's second week (the captured OpenLIT spans are newer)
    rows = summary(con, SpanFilter.of("2025-11-08", "2025-11-15"))
    families = {r["family"] for r in rows}
    assert families == {"performance", "quality", "cost", "safety", "agentic"}
    quality = [r for r in rows if r["family"] == "quality"]
    assert quality[0]["note"].startswith("not evaluated yet") and quality[0]["value"] is None
    agent = {r["key"]: r["value"] for r in rows if r["family"] == "agentic"}
    # one definition with `report agents`: a run is an agent span, its steps the LLM and tool spans under it
    # (the planted 70-span runaway trace is a planner run of 69 steps and a writer run of 1)
    from llmscope.analyses.agents import agents

    per_agent = agents(con, SpanFilter.of("2025-11-08", "2025-11-15")).to_pylist()
    assert agent["max_steps_in_a_run"] == max(a["max_steps"] for a in per_agent) == 69
    assert agent["agent_runs"] == sum(a["runs"] for a in per_agent)
    # the store has a findings table from its first migration, but nothing was scanned: say so, not "0 findings"
    safety = [(r["key"], r["value"], r["note"]) for r in rows if r["family"] == "safety"]
    assert safety == [("findings", None, "not scanned yet: run `llmscope scan`")]


def test_report_cli_formats(con, tmp_path):
    db = con.execute("SELECT path FROM duckdb_databases() WHERE database_name = current_database()").fetchall()[0][0]
    runner = CliRunner()
    env = {"NO_COLOR": "1", "COLUMNS": "200"}
    for args in (
        ["report", "latency", "--by", "request_model"],
        ["report", "errors", "--by", "provider,error_type"],
        ["report", "cost", "--by", "feature", "--top", "3"],
        ["report", "summary"],
        ["report", "cost", "--anomalies", "--by", "service_name"],
        ["report", "latency", "--every", "1h", "--since", "2025-11-12", "--until", "2025-11-13"],
    ):
        for fmt in ("table", "json", "csv", "markdown"):
            res = runner.invoke(app, ["--db", db, *args, "--format", fmt], env=env)
            assert res.exit_code == 0, (args, fmt, res.output)
            if fmt == "json":
                json.loads(res.stdout)
    res = runner.invoke(
        app,
        ["--db", db, "report", "latency", "--every", "1h", "--since", "2025-11-12", "--until", "2025-11-13"],
        env=env,
    )
    assert "P99 latency" in res.stdout and "█" in res.stdout
    res = runner.invoke(app, ["--db", db, "report", "latency", "--by", "nonsense"], env=env)
    assert res.exit_code == 2 and "not a groupable column" in res.output


def test_summary_trends_in_one_pass_equal_each_point_measured_alone(sample_store):
    """The sparklines come from one GROUP BY over the points; each point must read as `measure` on it alone."""
    import llmscope
    from llmscope.analyses import summary as summary_mod
    from llmscope.query import SpanFilter

    with llmscope.open(sample_store) as s:
        s.evaluate(judge="builtin", metrics=["groundedness_lexical"])  # scores, so the hallucination trend has points
    c = store.connect(sample_store, read_only=True)
    try:
        for flt in (SpanFilter(), SpanFilter(where="service_name = 'support-bot'")):
            p = summary_mod.period(c, flt)
            keys = {k for _, k, _, _, trend in summary_mod.SIGNALS if trend}
            keys |= {k for k in summary_mod.measure(c, p.current) if k.endswith("hallucination_rate")}
            assert any(k.endswith("hallucination_rate") for k in keys)
            fast = summary_mod.trends(c, p)
            slow = [summary_mod.measure(c, b) for b in summary_mod._buckets(p)]
            assert len(fast) == len(slow) == 7
            for one, alone in zip(fast, slow):
                for k in keys:
                    got, want = one.get(k, (None,))[0], alone.get(k, (None,))[0]
                    assert got == pytest.approx(want) if want is not None else got is None, (k, got, want)
            assert sum(pt["llm_calls"][0] for pt in fast) > 0
    finally:
        c.close()
