"""`compare`: figures checked against an independent computation (plain SQL, a bootstrap written out in
Python with its own random numbers), verdicts on the differences planted in sample_traces/."""

from __future__ import annotations

import json
import math
import random

import pytest
from helpers import query
from typer.testing import CliRunner

import llmscope
from llmscope.cli.app import app
from llmscope.errors import QueryError

SUPPORT = "service_name = 'support-bot'"
runner = CliRunner()
ENV = {"NO_COLOR": "1", "COLUMNS": "200"}


def pct(values: list[float], q: float) -> float:
    xs = sorted(values)
    pos = (len(xs) - 1) * q
    lo, hi = math.floor(pos), math.ceil(pos)
    return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)


def _side_rows(db, version: str) -> dict[str, list[tuple]]:
    """The LLM and priced calls of the support-bot traces of one prompt version, per trace."""
    rows = query(
        db,
        f"""SELECT trace_id, span_type, duration_ms, cost_usd, input_tokens, status FROM spans
            WHERE trace_id IN (SELECT trace_id FROM spans WHERE {SUPPORT} AND prompt_version = ?)""",
        [version],
    )
    per: dict[str, list[tuple]] = {}
    for r in rows:
        per.setdefault(r[0], []).append(r[1:])
    return per


def _stats(traces: list[list[tuple]]) -> dict[str, float]:
    llm = [c for t in traces for c in t if c[0] == "llm"]
    priced = [c for t in traces for c in t if c[0] in ("llm", "embedding") and c[2] is not None]
    tokens = [c[3] for c in llm if c[3] is not None]
    return {
        "latency_p95_ms": pct([c[1] for c in llm], 0.95),
        "cost_per_call_usd": sum(c[2] for c in priced) / len(priced),
        "input_tokens_per_call": sum(tokens) / len(tokens),
        "error_rate": sum(c[4] == "error" for c in llm) / len(llm),
    }


@pytest.fixture(scope="module")
def by_version(sample_master):
    res = llmscope.open(sample_master).compare(by="prompt_version", a="v2", b="v3", where=SUPPORT, resamples=2000)
    return res, {r["metric"]: r for r in res.to_dicts()}


def test_point_estimates_match_plain_sql(sample_master, by_version):
    _, rows = by_version
    for version, col in (("v2", "baseline"), ("v3", "current")):
        expected = _stats(list(_side_rows(sample_master, version).values()))
        for metric, value in expected.items():
            assert rows[metric][col] == pytest.approx(value, rel=1e-9), (version, metric)
    (ttft,) = query(
        sample_master,
        f"""SELECT quantile_cont(ttft_ms, 0.5) FROM spans WHERE span_type = 'llm' AND trace_id IN
            (SELECT trace_id FROM spans WHERE {SUPPORT} AND prompt_version = 'v3')""",
    )
    assert rows["ttft_p50_ms"]["current"] == pytest.approx(ttft[0])


def test_intervals_match_a_bootstrap_written_out(sample_master, by_version):
    """The same bootstrap over traces, written as a Python loop with Python's own generator: the
    interval ends agree within Monte Carlo error (a tenth of the interval's width)."""
    _, rows = by_version
    sides = {v: list(_side_rows(sample_master, v).values()) for v in ("v2", "v3")}
    rng = random.Random(12345)
    diffs: dict[str, list[float]] = {m: [] for m in ("latency_p95_ms", "cost_per_call_usd", "input_tokens_per_call")}
    for _ in range(2000):
        drawn = {v: _stats(rng.choices(ts, k=len(ts))) for v, ts in sides.items()}
        for m in diffs:
            diffs[m].append(drawn["v3"][m] - drawn["v2"][m])
    for m, ds in diffs.items():
        lo, hi = pct(ds, 0.025), pct(ds, 0.975)
        width = hi - lo
        assert rows[m]["change_low"] == pytest.approx(lo, abs=0.1 * width), m
        assert rows[m]["change_high"] == pytest.approx(hi, abs=0.1 * width), m


def test_the_planted_prompt_change_is_worse_in_cost_and_input_tokens_only(by_version):
    res, rows = by_version
    assert rows["input_tokens_per_call"]["relative_change"] == pytest.approx(1255.1 / 574.6 - 1, abs=0.005)
    assert rows["cost_per_request_usd"]["relative_change"] == pytest.approx(0.209 / 0.130 - 1, abs=0.03)
    worse = {m for m, r in rows.items() if r["verdict"] == "worse"}
    assert worse == {"input_tokens_per_call", "cost_per_call_usd", "cost_per_request_usd"}
    for m in ("output_tokens_per_call", "error_rate", "latency_p50_ms", "latency_p95_ms"):
        assert rows[m]["verdict"] == "no detectable change", m
        assert rows[m]["change_low"] < 0 < rows[m]["change_high"]
    assert res.meta["worse"] == 3 and res.meta["baseline_traces"] == 618 and res.meta["current_traces"] == 512


def test_a_side_against_itself_changes_nothing_and_the_seed_fixes_the_intervals(sample_master):
    store = llmscope.open(sample_master)
    same = store.compare(by="prompt_version", a="v2", b="v2", where=SUPPORT, resamples=300, seed=7).to_dicts()
    assert all(r["verdict"] == "no detectable change" for r in same if r["baseline_n"])
    assert all(r["change"] == 0 for r in same if r["baseline"] is not None)
    again = store.compare(by="prompt_version", a="v2", b="v2", where=SUPPORT, resamples=300, seed=7).to_dicts()
    other = store.compare(by="prompt_version", a="v2", b="v2", where=SUPPORT, resamples=300, seed=8).to_dicts()
    assert [r["change_low"] for r in again] == [r["change_low"] for r in same]
    assert [r["change_low"] for r in other] != [r["change_low"] for r in same]


def test_windows_find_the_anthropic_burst_by_error_class(sample_master):
    res = llmscope.open(sample_master).compare(
        baseline="2025-11-01..2025-11-07",
        current="2025-11-12T09:00..2025-11-12T10:00",
        where="service_name = 'code-assist'",
    )
    rows = {r["metric"]: r for r in res.to_dicts()}
    assert rows["error_rate"]["verdict"] == "worse"
    assert rows["error_rate_rate_limit"]["verdict"] == "worse" and rows["error_rate_rate_limit"]["current"] > 0.15
    assert res.meta["current_traces"] == 42
    # no server error in the 42 traces of the hour says little: the bootstrap alone would call it better
    server = rows["error_rate_server_error"]
    assert server["current"] == 0 and server["change_high"] < 0 and server["verdict"] == "no detectable change"
    assert res.title.startswith("2025-11-12 09:00..2025-11-12 10:00 against 2025-11-01..2025-11-07")


def test_quality_safety_and_loop_rates_come_from_evals_findings_and_the_trace_structure(sample_store):
    store = llmscope.open(sample_store)
    store.evaluate(metrics="groundedness_lexical", where=SUPPORT)
    store.scan(where=SUPPORT + " AND start_time >= '2025-11-10'")
    res = store.compare(baseline="2025-11-01..2025-11-07", current="2025-11-08..2025-11-14", resamples=300)
    rows = {r["metric"]: r for r in res.to_dicts()}
    (expected,) = query(
        sample_store,
        """SELECT avg(score), avg((label = 'hallucination')::INT) FROM evals WHERE metric = 'groundedness_lexical'
           AND score IS NOT NULL AND trace_id IN (SELECT trace_id FROM spans
               WHERE start_time >= '2025-11-08' AND start_time < '2025-11-15')""",
    )
    assert rows["score:groundedness_lexical[builtin]"]["current"] == pytest.approx(expected[0])
    assert rows["hallucination_rate:groundedness_lexical[builtin]"]["current"] == pytest.approx(expected[1])
    assert rows["score:groundedness_lexical[builtin]"]["better"] == "higher"
    # findings per scanned LLM call: only week 2 was scanned, so the baseline has no rate
    injection = rows["finding_rate:injection"]
    assert injection["baseline"] is None and injection["verdict"] == "no data" and injection["current"] > 0
    # loops: the planted loops of research-agent are all in week 2
    loops = rows["loop_rate"]
    assert loops["baseline"] == 0 and loops["current"] > 0 and loops["current_n"] == 83


def test_cli_markdown_fail_on_and_json(sample_master):
    base = ["--db", str(sample_master), "compare", "--by", "prompt", "--a", "v2", "--b", "v3", "--where", SUPPORT]
    res = runner.invoke(app, [*base, "--format", "markdown", "--fail-on", "worse", "--resamples", "200"], env=ENV)
    assert res.exit_code == 1, res.output
    md = res.stdout
    assert md.startswith("### llmscope compare: `prompt_version=v3` against `prompt_version=v2`")
    assert "**3 metric(s) worse:** cost_per_call_usd, cost_per_request_usd, input_tokens_per_call" in md
    assert "| metric | baseline | current | change | interval | verdict |" in md
    assert "| input_tokens_per_call | 574.6 | 1,255.1 | +680.6 (+118%) |" in md
    assert "compare failed: 3 metric(s) worse" in res.stderr
    res = runner.invoke(app, [*base, "--format", "json", "--resamples", "200"], env=ENV)
    assert res.exit_code == 0
    out = json.loads(res.stdout)
    assert out["worse"] == 3 and {m["metric"] for m in out["metrics"]} >= {"latency_p99_ms", "error_rate"}
    res = runner.invoke(app, [*base, "--fail-on", "worse", "--where", SUPPORT + " AND false"], env=ENV)
    assert res.exit_code == 0 and "no traces with" in res.stderr  # nothing to compare is not a failure


@pytest.mark.parametrize(
    "kw, message",
    [
        ({"by": "prompt_version", "a": "v2"}, "give two windows"),
        ({"baseline": "2025-11-01..2025-11-07"}, "both baseline and current"),
        ({"baseline": "x", "current": "2025-11-08..2025-11-09"}, "START..END"),
        ({"by": "model,feature", "a": "x", "b": "y"}, "one column"),
        ({"by": "nope", "a": "x", "b": "y"}, "not a groupable column"),
        ({"by": "model", "a": "x", "b": "y", "baseline": "1d..0d"}, "not both"),
        ({"by": "model", "a": "x", "b": "y", "level": 1.5}, "confidence level"),
        ({"by": "model", "a": "x", "b": "y", "resamples": 10}, "at least 100"),
    ],
)
def test_bad_questions_are_refused_with_the_reason(sample_master, kw, message):
    with pytest.raises(QueryError, match=message):
        llmscope.open(sample_master).compare(**kw)
