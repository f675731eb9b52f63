"""Model prices: genai-prices plus a user price file, turned into per-token rates SQL can apply.

Pricing one span at a time through genai-prices costs ~60 us a call (a minute per million spans),
so instead we price each distinct (provider, model, day) once: probe genai-prices for the per-token
rate of each usage kind, including the rates above each volume tier, and hand DuckDB a small
rate table. Cost is then one ASOF join:

    cost = (input - cache_read - cache_write) * input_rate + cache_read * cache_read_rate
           + cache_write * cache_write_rate + output * output_rate

using the tier whose [min, max) input-token range holds the span's input tokens (genai-prices'
"cliff" tiers apply the tier rate to all tokens). It is an equi-join on the key plus a range filter,
which DuckDB runs as a hash join (an ASOF join measured 25% slower on wide batches: it sorts the
payload). Input tokens include cached tokens, as in the OTel GenAI conventions
and genai-prices.

Unknown models, and models served by a self-hosted runtime (vLLM, Ollama, ...), get no rate, so
their cost stays NULL: never a guessed zero.
"""

from __future__ import annotations

import functools
import hashlib
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa

from ..errors import ConfigError

# How instrumentations spell providers -> genai-prices provider ids.
PROVIDER_ALIASES: dict[str, str] = {
    "openai": "openai",
    "azure.ai.openai": "azure",
    "az.ai.openai": "azure",
    "azure_openai": "azure",
    "azure": "azure",
    "az.ai.inference": "azure",
    "anthropic": "anthropic",
    "aws.bedrock": "aws",
    "bedrock": "aws",
    "aws": "aws",
    "gcp.gemini": "google",
    "gcp.vertex_ai": "google",
    "gcp.gen_ai": "google",
    "google": "google",
    "vertex_ai": "google",
    "vertexai": "google",
    "gemini": "google",
    "google_genai": "google",
    "mistral_ai": "mistral",
    "mistralai": "mistral",
    "mistral": "mistral",
    "groq": "groq",
    "cohere": "cohere",
    "deepseek": "deepseek",
    "x_ai": "x-ai",
    "xai": "x-ai",
    "x-ai": "x-ai",
    "perplexity": "perplexity",
    "openrouter": "openrouter",
    "together": "together",
    "together_ai": "together",
    "fireworks": "fireworks",
    "fireworks_ai": "fireworks",
    "cerebras": "cerebras",
    "meta": "meta",
}
# Runtimes that serve a user's own weights: no public price applies.
SELF_HOSTED = {
    "vllm",
    "ollama",
    "llama.cpp",
    "llamacpp",
    "lmstudio",
    "lm_studio",
    "tgi",
    "local",
    "self-hosted",
    "self_hosted",
    "huggingface_local",
    "localai",
    "sglang",
    "triton",
}

RATE_FIELDS: list[tuple[str, pa.DataType]] = [
    ("provider", pa.string()),
    ("request_model", pa.string()),
    ("response_model", pa.string()),
    ("day", pa.date32()),
    ("min_input_tokens", pa.int64()),
    ("max_input_tokens", pa.int64()),
    ("input_rate", pa.float64()),
    ("output_rate", pa.float64()),
    ("cache_read_rate", pa.float64()),
    ("cache_write_rate", pa.float64()),
    ("price_version", pa.string()),
    ("priced_model", pa.string()),
]
RATE_SCHEMA = pa.schema(RATE_FIELDS)


@functools.cache  # the installed package does not change under a running process; the lookup reads metadata files (~1 ms)
def genai_prices_version() -> str:
    from importlib.metadata import version

    return f"genai-prices {version('genai-prices')}"


@dataclass(frozen=True)
class UserPrice:
    """A price the user gives for a model (self-hosted, fine-tuned, negotiated)."""

    model: str
    provider: str | None
    input_mtok: float
    output_mtok: float
    cache_read_mtok: float | None = None
    cache_write_mtok: float | None = None

    @property
    def version(self) -> str:
        h = hashlib.sha1(repr(self).encode()).hexdigest()[:8]
        return f"user:{h}"


class PriceFileError(ConfigError):
    """A price file that cannot be read, with its line."""


def load_price_file(path: str | Path) -> list[UserPrice]:
    """Read a user price file (TOML). Example::

    [[model]]                         # or: [models."llama-3.1-8b-instruct"]
    model = "llama-3.1-8b-instruct"   # matched to the request or response model, case-insensitive
    provider = "vllm"                 # optional: only for this provider
    input_mtok = 0.05                 # USD per million input tokens
    output_mtok = 0.10
    cache_read_mtok = 0.01            # optional, defaults to input_mtok
    """
    p = Path(path)
    try:
        data = tomllib.loads(p.read_text())
    except FileNotFoundError:
        raise PriceFileError(f"{p}: no such price file") from None
    except tomllib.TOMLDecodeError as e:
        raise PriceFileError(f"{p}: {e}") from None
    entries = data.get("model", [])
    if isinstance(entries, dict):
        entries = [entries]
    # also accepted: [models."name"] tables
    entries = list(entries) + [dict(v, model=k) for k, v in (data.get("models") or {}).items() if isinstance(v, dict)]
    if not entries:
        raise PriceFileError(f"{p}: no prices found; write [[model]] entries (model, input_mtok, output_mtok)")
    out = []
    for i, e in enumerate(entries, 1):
        try:
            out.append(
                UserPrice(
                    model=str(e["model"]),
                    provider=(str(e["provider"]).lower() if e.get("provider") else None),
                    input_mtok=float(e["input_mtok"]),
                    output_mtok=float(e.get("output_mtok", 0.0)),
                    cache_read_mtok=float(e["cache_read_mtok"]) if "cache_read_mtok" in e else None,
                    cache_write_mtok=float(e["cache_write_mtok"]) if "cache_write_mtok" in e else None,
                )
            )
        except (KeyError, TypeError, ValueError) as err:
            raise PriceFileError(f"{p}: [[model]] entry {i}: needs model and input_mtok as numbers ({err})") from None
    return out


def _user_match(prices: Iterable[UserPrice], provider: str | None, models: list[str]) -> UserPrice | None:
    for m in models:
        for up in prices:
            if up.model.lower() == m.lower() and (up.provider is None or up.provider == (provider or "")):
                return up
    return None


def _probe(calc, usage_kwargs: dict) -> Decimal:
    from genai_prices import Usage

    return calc(Usage(**usage_kwargs)).total_price


def _genai_rates(
    provider: str | None, models: list[str], day: date
) -> list[tuple[int, float, float, float, float, str]] | None:
    """[(min_input_tokens, in, out, cache_read, cache_write)] per tier, or None if unpriced."""
    import genai_prices

    pid = PROVIDER_ALIASES.get(provider or "")
    if provider and pid is None and provider in SELF_HOSTED:
        return None
    when = datetime.combine(day, time(12), tzinfo=UTC)
    for model in models:

        def calc(usage, model=model):
            return genai_prices.calc_price(usage, model, provider_id=pid, genai_request_timestamp=when)

        try:
            first = calc(genai_prices.Usage(input_tokens=1000))
        except (LookupError, ValueError):
            continue
        thresholds = [0]
        for v in vars(first.model_price).values():
            for tier in getattr(v, "tiers", None) or ():
                thresholds.append(int(tier.start))
        rows = []
        for t in sorted(set(thresholds)):
            n = max(t + 1, 1000) if t else 1000  # probe inside the tier
            base = _probe(calc, {"input_tokens": n})
            rate_in = base / n
            rate_out = (_probe(calc, {"input_tokens": n, "output_tokens": 1000}) - base) / 1000
            k = min(1000, n)
            rate_cr = (_probe(calc, {"input_tokens": n, "cache_read_tokens": k}) - (n - k) * rate_in) / k
            rate_cw = (_probe(calc, {"input_tokens": n, "cache_write_tokens": k}) - (n - k) * rate_in) / k
            rows.append((t, float(rate_in), float(rate_out), float(rate_cr), float(rate_cw), first.model.id))
        return rows
    return None


def rate_table(
    keys: Iterable[tuple[str | None, str | None, str | None, date]], user_prices: list[UserPrice]
) -> pa.Table:
    """Per-token rates for each distinct (provider, request_model, response_model, day)."""
    gp_version = genai_prices_version()
    cols: dict[str, list[Any]] = {n: [] for n, _ in RATE_FIELDS}
    for provider, req, resp, day in keys:
        models = [m for m in (resp, req) if m]
        if not models or day is None:
            continue
        up = _user_match(user_prices, provider, models)
        if up is not None:
            tiers = [
                (
                    0,
                    up.input_mtok / 1e6,
                    up.output_mtok / 1e6,
                    (up.cache_read_mtok if up.cache_read_mtok is not None else up.input_mtok) / 1e6,
                    (up.cache_write_mtok if up.cache_write_mtok is not None else up.input_mtok) / 1e6,
                    up.model,
                )
            ]
            version = up.version
        else:
            tiers = _genai_rates(provider, models, day)
            version = gp_version
        if not tiers:
            continue
        starts = [t[0] for t in tiers] + [2**62]
        for i, (t, r_in, r_out, r_cr, r_cw, priced) in enumerate(tiers):
            for name, v in zip(
                (
                    "provider",
                    "request_model",
                    "response_model",
                    "day",
                    "min_input_tokens",
                    "max_input_tokens",
                    "input_rate",
                    "output_rate",
                    "cache_read_rate",
                    "cache_write_rate",
                    "price_version",
                    "priced_model",
                ),
                (provider, req, resp, day, t, starts[i + 1], r_in, r_out, r_cr, r_cw, version, priced),
            ):
                cols[name].append(v)
    return pa.table({n: pa.array(cols[n], type=t) for n, t in RATE_FIELDS}, schema=RATE_SCHEMA)


# The SQL that applies a rate table named `_rates` to a relation aliased `s`; the store owns the
# statements around it. NULL-safe join keys, since provider or one of the models may be absent.
RATE_JOIN = """
LEFT JOIN _rates r
  ON r.provider IS NOT DISTINCT FROM s.provider
 AND r.request_model IS NOT DISTINCT FROM s.request_model
 AND r.response_model IS NOT DISTINCT FROM s.response_model
 AND r.day = CAST(s.start_time AS DATE)
 AND coalesce(s.input_tokens, 0) >= r.min_input_tokens
 AND coalesce(s.input_tokens, 0) < r.max_input_tokens
"""

COST_EXPR = """
CASE WHEN r.input_rate IS NULL OR (s.input_tokens IS NULL AND s.output_tokens IS NULL) THEN NULL ELSE
  greatest(coalesce(s.input_tokens, 0) - coalesce(s.cache_read_tokens, 0) - coalesce(s.cache_write_tokens, 0), 0) * r.input_rate
  + coalesce(s.cache_read_tokens, 0) * r.cache_read_rate
  + coalesce(s.cache_write_tokens, 0) * r.cache_write_rate
  + coalesce(s.output_tokens, 0) * r.output_rate
END
"""
