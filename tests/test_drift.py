"""Drift on a real store: PSI/JSD recomputed independently, the planted week-2 drift found, the
quiet week left alone, identical windows at zero, and empty bins kept finite."""

from __future__ import annotations

import bisect
import math
from datetime import datetime

import duckdb
import pytest
from helpers import export_line, kv, otlp_span, s, write_lines

from llmscope.analyses import drift as D
from llmscope.ingest.pipeline import ingest
from llmscope.query import QueryError, SpanFilter

WEEK1 = SpanFilter(datetime(2025, 11, 1), datetime(2025, 11, 8))
WEEK2 = SpanFilter(datetime(2025, 11, 8), datetime(2025, 11, 15))
QUIET_A = SpanFilter(datetime(2025, 11, 1), datetime(2025, 11, 4))
QUIET_B = SpanFilter(datetime(2025, 11, 4), datetime(2025, 11, 8))


@pytest.fixture(scope="module")
def con(sample_master):
    c = duckdb.connect(str(sample_master), read_only=True)
    yield c
    c.close()


def rows(table, **match) -> list[dict]:
    return [r for r in table.to_pylist() if all(r[k] == v for k, v in match.items())]


def one(table, **match) -> dict:
    found = rows(table, **match)
    assert len(found) == 1, (match, found)
    return found[0]


# ---------------------------------------------------------------- an independent implementation


def quantile_cont(sorted_values: list[float], q: float) -> float:
    """Linear interpolation between closest ranks (DuckDB's quantile_cont, numpy's default)."""
    pos = q * (len(sorted_values) - 1)
    lo = math.floor(pos)
    hi = min(lo + 1, len(sorted_values) - 1)
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (pos - lo)


def reference_psi_jsd(base: list[float], cur: list[float], eps: float = 1e-4) -> tuple[float, float]:
    """Baseline deciles as edges, bins (-inf,e1],...,(ek,+inf), eps smoothing, PSI (ln) and JS distance (log2)."""
    sb = sorted(base)
    edges = sorted({quantile_cont(sb, q / 10) for q in range(1, 10)})
    k = len(edges) + 1

    def dist(values):
        counts = [0] * k
        for v in values:
            counts[bisect.bisect_left(edges, v)] += 1  # number of edges strictly below v
        return [(c / len(values) + eps) / (1 + k * eps) for c in counts]

    b, c = dist(base), dist(cur)
    psi = sum((ci - bi) * math.log(ci / bi) for bi, ci in zip(b, c))
    m = [(bi + ci) / 2 for bi, ci in zip(b, c)]
    js = 0.5 * sum(bi * math.log2(bi / mi) for bi, mi in zip(b, m)) + 0.5 * sum(
        ci * math.log2(ci / mi) for ci, mi in zip(c, m)
    )
    return psi, math.sqrt(js)


@pytest.mark.parametrize("column", ["input_tokens", "duration_ms"])
def test_numeric_psi_jsd_match_an_independent_computation(con, column):
    def values(flt: SpanFilter) -> list[float]:
        return [
            float(r[0])
            for r in con.execute(
                f"SELECT {column} FROM spans WHERE span_type = 'llm' AND service_name = 'support-bot' "
                f"AND start_time >= ? AND start_time < ? AND {column} IS NOT NULL",
                [flt.since, flt.until],
            ).fetchall()
        ]

    base, cur = values(WEEK1), values(WEEK2)
    want_psi, want_jsd = reference_psi_jsd(base, cur)
    t = D.drift(con, WEEK1, WEEK2, by="service_name", features=[column])
    got = one(t, service_name="support-bot", feature=column)
    assert (got["baseline_n"], got["current_n"]) == (len(base), len(cur))
    assert got["psi"] == pytest.approx(want_psi, rel=1e-9)
    assert got["jsd"] == pytest.approx(want_jsd, rel=1e-9)
    assert got["kind"] == "numeric"


# ---------------------------------------------------------------- the sample traces


@pytest.fixture(scope="module")
def weekly(con):
    return D.drift(con, WEEK1, WEEK2, by="service_name")


def test_output_shape(weekly):
    assert weekly.column_names == [
        "service_name",
        "feature",
        "kind",
        "baseline_n",
        "current_n",
        "jsd",
        "psi",
        "baseline_summary",
        "current_summary",
        "verdict",
    ]
    sb = {r["feature"]: r for r in rows(weekly, service_name="support-bot")}
    assert set(sb) == {
        "input_tokens",
        "output_tokens",
        "duration_ms",
        "request_model",
        "feature",
        "finish_reason",
        "prompt_terms",
    }  # no tool spans in support-bot: no tool_name row
    assert {r["kind"] for r in weekly.to_pylist()} == {"numeric", "categorical", "text"}
    assert all(0 <= r["jsd"] <= 1 and r["psi"] >= 0 for r in weekly.to_pylist())
    tools = one(weekly, service_name="research-agent", feature="tool_name")
    assert tools["baseline_n"] > 0 and "web_search" in tools["baseline_summary"]
    triage = one(weekly, service_name="ticket-triage", feature="input_tokens")
    assert triage["baseline_n"] < D.MIN_SAMPLES and triage["verdict"] == "insufficient data"


def test_planted_week2_drift_is_significant(weekly):
    tokens = one(weekly, service_name="support-bot", feature="input_tokens")
    terms = one(weekly, service_name="support-bot", feature="prompt_terms")
    topic = one(weekly, service_name="support-bot", feature="feature")
    for r in (tokens, terms, topic):
        assert r["verdict"] == "significant", r
        assert r["psi"] >= D.PSI_SIGNIFICANT or r["jsd"] >= D.JSD_SIGNIFICANT
    assert tokens["psi"] > 1 and tokens["jsd"] > 0.5  # v2 -> v3 doubled the prompt: barely any overlap
    assert tokens["baseline_summary"].startswith("p50 5") and tokens["current_summary"].startswith("p50 1,2")
    assert topic["baseline_summary"].startswith("billing") and topic["current_summary"].startswith("account")
    assert "password" in terms["current_summary"] or "2fa" in terms["current_summary"]
    model = one(weekly, service_name="support-bot", feature="request_model")
    assert model["verdict"] == "stable" and model["psi"] == pytest.approx(0, abs=1e-12)


def test_quiet_week_is_not_significant(con):
    t = D.drift(con, QUIET_A, QUIET_B, by="service_name", features=["input_tokens", "request_model"])
    for feature in ("input_tokens", "request_model"):
        r = one(t, service_name="support-bot", feature=feature)
        assert r["verdict"] in ("stable", "moderate"), r
        assert r["psi"] < D.PSI_SIGNIFICANT and r["jsd"] < D.JSD_SIGNIFICANT


def test_identical_windows_give_zero(con):
    t = D.drift(con, WEEK1, WEEK1, by="service_name")
    assert t.num_rows > 0
    for r in t.to_pylist():
        assert r["psi"] == pytest.approx(0, abs=1e-12) and r["jsd"] == pytest.approx(0, abs=1e-6), r
        assert r["verdict"] in ("stable", "insufficient data")
        assert r["baseline_n"] == r["current_n"]


def test_overall_row_where_and_by_feature(con):
    overall = D.drift(con, WEEK1, WEEK2, features=["input_tokens"])
    assert overall.column_names[0] == "feature" and overall.num_rows == 1
    n_llm = con.execute(
        "SELECT count(input_tokens) FROM spans WHERE span_type = 'llm' AND start_time < '2025-11-08'"
    ).fetchall()[0][0]
    assert overall.to_pylist()[0]["baseline_n"] == n_llm

    sb_only = D.drift(
        con,
        SpanFilter(WEEK1.since, WEEK1.until, "service_name = 'support-bot'"),
        SpanFilter(WEEK2.since, WEEK2.until, "service_name = 'support-bot'"),
        features=["input_tokens"],
    )
    by_service = D.drift(con, WEEK1, WEEK2, by="service_name", features=["input_tokens"])
    assert sb_only.to_pylist()[0]["psi"] == pytest.approx(one(by_service, service_name="support-bot")["psi"])

    by_feature = D.drift(con, WEEK1, WEEK2, by="feature", features=["prompt_terms"])
    assert by_feature.column_names[:2] == ["by_feature", "feature"]
    assert {"billing", "account", None} <= set(by_feature.column("by_feature").to_pylist())
    with pytest.raises(QueryError):
        D.drift(con, WEEK1, WEEK2, features=["embeddings"])


# ---------------------------------------------------------------- a tiny store with an empty bin


def _chat(i: int, day: int, model: str) -> dict:
    start = 1_762_000_000_000_000_000 + day * 86_400 * 10**9 + i * 10**9
    return otlp_span(
        f"{i:032x}",
        f"{i:016x}",
        name=f"chat {model}",
        start_ns=start,
        kind=3,
        attrs=[
            kv("gen_ai.operation.name", s("chat")),
            kv("gen_ai.system", s("openai")),
            kv("gen_ai.request.model", s(model)),
            kv("gen_ai.usage.input_tokens", {"intValue": str(100 + i % 7)}),
            kv("gen_ai.usage.output_tokens", {"intValue": "10"}),
        ],
    )


def test_empty_bin_stays_finite(tmp_path):
    # baseline (day 0): 40 calls to model-a; current (day 7): 20 to model-a and 20 to model-b
    spans = [_chat(i, 0, "model-a") for i in range(1, 41)]  # all-zero ids are invalid
    spans += [_chat(100 + i, 7, "model-a" if i % 2 else "model-b") for i in range(40)]
    f = write_lines(tmp_path / "tiny.jsonl", [export_line(spans)])
    db = tmp_path / "tiny.duckdb"
    ingest([str(f)], db)
    con = duckdb.connect(str(db), read_only=True)
    base = SpanFilter(datetime(2025, 11, 1), datetime(2025, 11, 5))
    cur = SpanFilter(datetime(2025, 11, 5), datetime(2025, 11, 12))
    t = D.drift(con, base, cur, features=["request_model", "output_tokens"])
    model = one(t, feature="request_model")
    assert (model["baseline_n"], model["current_n"]) == (40, 40)
    assert math.isfinite(model["psi"]) and math.isfinite(model["jsd"])
    # closed form: b = smoothed [1, 0], c = smoothed [.5, .5]
    eps, k = D.EPSILON, 2
    b = [(1 + eps) / (1 + k * eps), eps / (1 + k * eps)]
    c = [(0.5 + eps) / (1 + k * eps)] * 2
    assert model["psi"] == pytest.approx(sum((ci - bi) * math.log(ci / bi) for bi, ci in zip(b, c)))
    assert model["verdict"] == "significant" and 0 < model["jsd"] <= 1
    out = one(t, feature="output_tokens")  # a constant: one edge, two bins, no drift
    assert out["psi"] == pytest.approx(0, abs=1e-12) and out["verdict"] == "stable"

    few = D.drift(
        con,
        base,
        SpanFilter(datetime(2025, 11, 8), datetime(2025, 11, 8, 12, 28, 40)),  # 20 calls
        features=["request_model"],
    )
    assert one(few, feature="request_model")["current_n"] == 20
    assert one(few, feature="request_model")["verdict"] == "insufficient data"
    con.close()


def test_formulas_help_names_the_thresholds():
    for needle in ("PSI", "JSD", "deciles", str(D.PSI_SIGNIFICANT), str(D.JSD_SIGNIFICANT), str(D.MIN_SAMPLES)):
        assert needle in D.FORMULAS_HELP


def test_default_windows_are_the_last_week_of_data_and_the_week_before(con):
    """Anchored at the newest span, not at today: the samples end on 2025-11-14."""
    base, cur = D.latest_windows(con)
    assert (cur.since, cur.until) == (WEEK2.since, WEEK2.until)
    assert (base.since, base.until) == (WEEK1.since, WEEK1.until)
    assert D.latest_windows(con, days=3)[1].since == datetime(2025, 11, 12)
    assert D.latest_windows(con, where="service_name = 'no such service'") is None


def test_report_drift_without_windows_compares_the_last_two_weeks(con, sample_store):
    from typer.testing import CliRunner

    from llmscope.cli.app import app

    db = sample_store
    env = {"NO_COLOR": "1", "COLUMNS": "200"}
    res = CliRunner().invoke(app, ["--db", str(db), "report", "drift", "--format", "json"], env=env)
    assert res.exit_code == 0, res.output
    import json

    got = {(r["feature"], r["verdict"]) for r in json.loads(res.output)}
    want = {(r["feature"], r["verdict"]) for r in D.drift(con, WEEK1, WEEK2).to_pylist()}
    assert got == want and ("prompt_terms", "significant") in got  # the planted topic shift
    table = CliRunner().invoke(app, ["--db", str(db), "report", "drift"], env=env)
    assert "Drift 2025-11-01..2025-11-07 → 2025-11-08..2025-11-14" in table.output
    half = CliRunner().invoke(
        app, ["--db", str(db), "report", "drift", "--baseline", "2025-11-01..2025-11-07"], env=env
    )
    assert half.exit_code == 2 and "--baseline: give both baseline and current, or neither" in half.output


def test_drift_bins_are_the_distributions_behind_psi_and_jsd(con):
    """The shares drift_bins returns are the ones compared: an independent binning gives the same
    shares, and PSI/JSD recomputed from them equal the drift table's."""
    table, bins = D.drift_bins(con, WEEK1, WEEK2, by="service_name", features=["input_tokens", "feature"])
    assert table.equals(D.drift(con, WEEK1, WEEK2, by="service_name", features=["input_tokens", "feature"]))
    assert bins.column_names == ["service_name", "feature", "bin", "label", "baseline_share", "current_share"]
    for feature in ("input_tokens", "feature"):
        got = rows(bins, service_name="support-bot", feature=feature)
        assert [r["bin"] for r in got] == list(range(len(got)))
        b = D.smooth([r["baseline_share"] for r in got])
        c = D.smooth([r["current_share"] for r in got])
        drift_row = one(table, service_name="support-bot", feature=feature)
        assert D.psi(b, c) == pytest.approx(drift_row["psi"], rel=1e-9)
        assert D.js_distance(b, c) == pytest.approx(drift_row["jsd"], rel=1e-9)
    got = rows(bins, service_name="support-bot", feature="input_tokens")
    base = sorted(
        float(v)
        for (v,) in con.execute(
            "SELECT input_tokens FROM spans WHERE span_type = 'llm' AND service_name = 'support-bot' "
            "AND start_time >= ? AND start_time < ? AND input_tokens IS NOT NULL",
            [WEEK1.since, WEEK1.until],
        ).fetchall()
    )
    edges = sorted({quantile_cont(base, q / 10) for q in range(1, 10)})
    counts = [0] * (len(edges) + 1)
    for v in base:
        counts[bisect.bisect_left(edges, v)] += 1
    assert [r["baseline_share"] for r in got] == pytest.approx([n / len(base) for n in counts])
    assert got[0]["label"].startswith("≤ ") and got[-1]["label"].startswith("> ") and " – " in got[1]["label"]
    topics = {r["label"]: r for r in rows(bins, service_name="support-bot", feature="feature")}
    assert topics["account"]["current_share"] > 2 * topics["account"]["baseline_share"]  # the planted topic drift
