"""Recompute every span's cost from today's price tables, without re-ingesting."""

from __future__ import annotations

import duckdb

from . import pricing
from .loader import RateCache, load_user_prices, save_user_prices


def reprice(con: duckdb.DuckDBPyConnection, user_prices: list[pricing.UserPrice] | None = None) -> dict:
    """Recompute ``cost_usd`` and ``price_version`` of every span from today's price tables."""
    con.execute("BEGIN TRANSACTION")
    try:
        if user_prices:
            save_user_prices(con, user_prices)
        keys = con.execute("""
            SELECT DISTINCT provider, request_model, response_model, CAST(start_time AS DATE) FROM spans
            WHERE span_type IN ('llm', 'embedding') AND (input_tokens IS NOT NULL OR output_tokens IS NOT NULL)
        """).fetchall()
        rates = RateCache(con, load_user_prices(con))
        rates.add_keys(keys)
        before = con.execute("SELECT coalesce(sum(cost_usd), 0), count(cost_usd) FROM spans").fetchall()[0]
        con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _repriced AS
        SELECT s.trace_id, s.span_id, {pricing.COST_EXPR} AS cost_usd, r.price_version
        FROM (SELECT trace_id, span_id, provider, request_model, response_model, start_time, input_tokens,
                     output_tokens, cache_read_tokens, cache_write_tokens
              FROM spans WHERE span_type IN ('llm', 'embedding')) s {pricing.RATE_JOIN}
        """)
        con.execute("""
        UPDATE spans SET cost_usd = p.cost_usd, price_version = p.price_version
        FROM _repriced p WHERE spans.trace_id = p.trace_id AND spans.span_id = p.span_id
        """)
        rates.close()
        con.execute("DROP TABLE _repriced")
        after = con.execute("SELECT coalesce(sum(cost_usd), 0), count(cost_usd) FROM spans").fetchall()[0]
        unpriced = con.execute("""SELECT count(*) FROM spans WHERE span_type IN ('llm', 'embedding')
            AND (input_tokens IS NOT NULL OR output_tokens IS NOT NULL) AND cost_usd IS NULL""").fetchall()[0][0]
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return {
        "cost_before_usd": before[0],
        "cost_after_usd": after[0],
        "priced_spans": after[1],
        "unpriced_spans": unpriced,
        "price_table": pricing.genai_prices_version(),
    }
