"""Cost: genai-prices rates in SQL, NULL for unknown models, user price files, tiers, reprice."""

from __future__ import annotations

from datetime import UTC, date, datetime

import genai_prices
import pytest
from helpers import export_line, kv, otlp_span, query, s, write_lines

from llmscope import store
from llmscope.ingest.pipeline import ingest
from llmscope.store import pricing

T = "4bf92f3577b34da6a3ce929d0e0e4736"


def _llm(i: int, provider: str, model: str, tin: int, tout: int, cache_read: int = 0) -> dict:
    attrs = [
        kv("gen_ai.operation.name", s("chat")),
        kv("gen_ai.provider.name", s(provider)),
        kv("gen_ai.request.model", s(model)),
        kv("gen_ai.usage.input_tokens", {"intValue": str(tin)}),
        kv("gen_ai.usage.output_tokens", {"intValue": str(tout)}),
    ]
    if cache_read:
        attrs.append(kv("gen_ai.usage.cache_read.input_tokens", {"intValue": str(cache_read)}))
    return otlp_span(T, f"{i:016x}", name=f"chat {model}", attrs=attrs, kind=3)


def _genai(model, provider, tin, tout, cache_read=0) -> float:
    u = genai_prices.Usage(input_tokens=tin, output_tokens=tout, cache_read_tokens=cache_read)
    return float(
        genai_prices.calc_price(
            u,
            model,
            provider_id=provider,
            genai_request_timestamp=datetime(2025, 11, 1, 12, tzinfo=UTC),
        ).total_price
    )


def test_costs_match_genai_prices_and_unknown_models_stay_null(tmp_path, db):
    spans = [
        _llm(1, "openai", "gpt-4o-mini", 1200, 340, cache_read=1000),
        _llm(2, "anthropic", "claude-3-5-sonnet-20241022", 5000, 800),
        _llm(3, "vllm", "llama-3.1-8b-instruct", 900, 100),
        _llm(4, "openai", "no-such-model-xyz", 10, 10),
    ]
    rep = ingest([str(write_lines(tmp_path / "a.jsonl", [export_line(spans)]))], db)
    assert rep.unpriced == 2
    got = dict(query(db, "SELECT request_model, cost_usd FROM spans"))
    assert got["gpt-4o-mini"] == pytest.approx(_genai("gpt-4o-mini", "openai", 1200, 340, 1000), rel=1e-12)
    assert got["claude-3-5-sonnet-20241022"] == pytest.approx(
        _genai("claude-3-5-sonnet-20241022", "anthropic", 5000, 800), rel=1e-12
    )
    assert got["llama-3.1-8b-instruct"] is None  # self-hosted: no public price applies, never a guessed 0
    assert got["no-such-model-xyz"] is None
    assert query(db, "SELECT DISTINCT price_version FROM spans WHERE cost_usd IS NOT NULL") == [
        (pricing.genai_prices_version(),)
    ]


def test_tiered_prices_apply_above_the_threshold():
    """gemini-2.5-pro charges more for all tokens once the prompt exceeds 200k tokens."""
    rates = pricing.rate_table([("google", "gemini-2.5-pro", None, date(2025, 11, 1))], []).to_pylist()
    assert len(rates) >= 2 and rates[0]["min_input_tokens"] == 0
    for tin in (1000, 250_000):
        tier = [r for r in rates if r["min_input_tokens"] <= tin][-1]
        mine = tin * tier["input_rate"] + 1000 * tier["output_rate"]
        u = genai_prices.Usage(input_tokens=tin, output_tokens=1000)
        want = genai_prices.calc_price(
            u,
            "gemini-2.5-pro",
            provider_id="google",
            genai_request_timestamp=datetime(2025, 11, 1, 12, tzinfo=UTC),
        ).total_price
        assert mine == pytest.approx(float(want), rel=1e-9)


def test_user_price_file_prices_self_hosted_and_reprice_updates(tmp_path, db):
    spans = [_llm(1, "vllm", "llama-3.1-8b-instruct", 1_000_000, 500_000), _llm(2, "openai", "gpt-4o-mini", 1000, 1000)]
    ingest([str(write_lines(tmp_path / "a.jsonl", [export_line(spans)]))], db)
    assert query(db, "SELECT cost_usd FROM spans WHERE provider = 'vllm'") == [(None,)]
    prices = tmp_path / "prices.toml"
    prices.write_text(
        '[[model]]\nmodel = "llama-3.1-8b-instruct"\nprovider = "vllm"\ninput_mtok = 0.05\noutput_mtok = 0.10\n'
    )
    con = store.connect(db)
    try:
        res = store.reprice(con, pricing.load_price_file(prices))
    finally:
        con.close()
    assert res["unpriced_spans"] == 0
    ((cost, version),) = query(db, "SELECT cost_usd, price_version FROM spans WHERE provider = 'vllm'")
    assert cost == pytest.approx(0.05 + 0.05) and version.startswith("user:")
    # a later plain reprice keeps the user's price (it lives in the store)
    con = store.connect(db)
    try:
        store.reprice(con)
    finally:
        con.close()
    assert query(db, "SELECT cost_usd FROM spans WHERE provider = 'vllm'")[0][0] == pytest.approx(0.10)
    # a user price can override a public one, and new ingests use it
    prices.write_text('[models."gpt-4o-mini"]\ninput_mtok = 1.0\noutput_mtok = 2.0\n')
    ingest(
        [str(write_lines(tmp_path / "b.jsonl", [export_line([_llm(3, "openai", "gpt-4o-mini", 1000, 1000)])]))],
        db,
        user_prices=pricing.load_price_file(prices),
    )
    assert query(db, "SELECT cost_usd FROM spans WHERE span_id = '0000000000000003'")[0][0] == pytest.approx(0.003)


def test_bad_price_file_is_a_clear_error(tmp_path):
    bad = tmp_path / "p.toml"
    bad.write_text('[[model]]\nmodel = "x"\n')
    with pytest.raises(pricing.PriceFileError, match="input_mtok"):
        pricing.load_price_file(bad)
    bad.write_text("[[model]\n")
    with pytest.raises(pricing.PriceFileError, match="p.toml"):
        pricing.load_price_file(bad)


def test_instrumentation_cost_is_kept_apart(tmp_path, db):
    sp = _llm(1, "openai", "gpt-4o-mini", 100, 100)
    sp["attributes"].append(kv("gen_ai.usage.cost", {"doubleValue": 0.123}))
    ingest([str(write_lines(tmp_path / "a.jsonl", [export_line([sp])]))], db)
    ((cost, reported),) = query(db, "SELECT cost_usd, reported_cost_usd FROM spans")
    assert reported == 0.123 and cost == pytest.approx(_genai("gpt-4o-mini", "openai", 100, 100))
