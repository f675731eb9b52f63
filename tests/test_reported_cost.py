"""Reported vs computed cost: where an instrumentation records its own cost, `report cost` and `stats` say how
often and by how much it disagrees with the price table (> 5%), by model -- on the OpenLIT capture (which
agrees) and on spans whose reported cost charges cached input tokens at the full price (which do not)."""

from __future__ import annotations

import pytest
from helpers import CAPTURED, export_line, kv, otlp_span, query, write_lines

import llmscope
from llmscope.ingest.pipeline import ingest


def _call(i: int, cached: int, reported: float) -> dict:
    attrs = [
        kv("gen_ai.operation.name", {"stringValue": "chat"}),
        kv("gen_ai.provider.name", {"stringValue": "openai"}),
        kv("gen_ai.request.model", {"stringValue": "gpt-4o-mini"}),
        kv("gen_ai.usage.input_tokens", {"intValue": "2000"}),
        kv("gen_ai.usage.output_tokens", {"intValue": "100"}),
        kv("gen_ai.usage.cost", {"doubleValue": reported}),
    ]
    if cached:
        attrs.append(kv("gen_ai.usage.cache_read.input_tokens", {"intValue": str(cached)}))
    return otlp_span(f"{i:032x}", f"{i:016x}", name="chat gpt-4o-mini", kind=3, attrs=attrs)


def test_openlit_reports_the_price_tables_cost(tmp_path):
    db = tmp_path / "o.duckdb"
    ingest([str(CAPTURED / "openlit-1.45.0" / "traces.otlp.jsonl")], db)
    rows = llmscope.open(db).report("cost")["reported_cost"].to_dicts()
    assert {r["model"] for r in rows} == {"gpt-4o-mini", "text-embedding-3-small"}
    assert all(r["disagreeing"] == 0 and r["both_known"] == r["reported_calls"] for r in rows)


def test_cache_tokens_charged_in_full_are_counted_as_disagreeing(tmp_path):
    full = (2000 * 0.15 + 100 * 0.6) / 1e6  # every input token at the full price
    spans = [_call(1, 1024, full), _call(2, 1024, full), _call(3, 0, full), _call(4, 0, full * 1.03)]
    db = tmp_path / "c.duckdb"
    ingest([str(write_lines(tmp_path / "c.jsonl", [export_line(spans)]))], db)
    computed = dict(query(db, "SELECT span_id, cost_usd FROM spans"))
    expected = [sid for sid, c in computed.items() if abs(full * (1.03 if sid.endswith("4") else 1) - c) > 0.05 * c]
    assert sorted(expected) == [f"{1:016x}", f"{2:016x}"]  # the cached ones; 3% off is within tolerance
    store = llmscope.open(db)
    (row,) = store.report("cost")["reported_cost"].to_dicts()
    assert (row["reported_calls"], row["both_known"], row["disagreeing"], row["disagreeing_with_cache_tokens"]) == (
        4, 4, 2, 2,
    )  # fmt: skip
    assert row["disagreement_rate"] == 0.5
    assert row["median_ratio_when_disagreeing"] == pytest.approx(full / computed[f"{1:016x}"], abs=1e-4)
    assert row["median_ratio_when_disagreeing"] > 1
    assert row["reported_cost_usd"] == pytest.approx(full * 3 + full * 1.03)
    assert store.stats()["reported_cost"].to_dicts() == [row]
