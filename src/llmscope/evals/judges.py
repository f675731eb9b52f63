"""Judge profiles: which model scores, where it is served, and what it costs.

``llmscope.toml``::

    [judges.small-model]              # overrides the built-in profile of that name
    base_url = "http://127.0.0.1:11434/v1"
    model = "qwen2.5:1.5b-instruct"
    api_key_env = ""                  # name of the env variable holding the key ("" = none)
    max_concurrency = 8
    timeout_s = 60
    price_in = 0.0                    # USD per million input tokens (optional)
    price_out = 0.0
    response_format = true            # ask for the metric's JSON schema (structured output); a server
                                      # that refuses it is remembered per profile and asked without
    tolerant_parsing = true           # read single quotes, trailing commas, "Score: 4", <think>… before
                                      # spending a repair call

Shortcuts: ``builtin`` (offline scorers, no network), ``openai:MODEL`` (api.openai.com, key in
``OPENAI_API_KEY``, priced from genai-prices), ``ollama:MODEL`` (``http://127.0.0.1:11434/v1``), and
any profile name from the config — vLLM, llama.cpp server, LM Studio or a LiteLLM proxy all speak
the same OpenAI-compatible ``/chat/completions``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace

from ..errors import ConfigError

OLLAMA_URL = "http://127.0.0.1:11434/v1"
SMALL_MODEL_DEFAULT = "qwen2.5:1.5b-instruct"


class JudgeConfigError(ConfigError):
    """A judge name or profile that does not resolve to an endpoint."""


@dataclass(frozen=True)
class Judge:
    name: str
    base_url: str | None  # None: the builtin offline scorers
    model: str
    api_key_env: str = ""
    max_concurrency: int = 8
    timeout_s: float = 60.0
    price_in: float | None = None  # USD per million tokens
    price_out: float | None = None
    response_format: bool = True  # send the metric's JSON schema as response_format
    tolerant_parsing: bool = True

    @property
    def builtin(self) -> bool:
        return self.base_url is None

    @property
    def api_key(self) -> str | None:
        return os.environ.get(self.api_key_env) if self.api_key_env else None

    def cost(self, input_tokens: int, output_tokens: int) -> float | None:
        if self.price_in is None and self.price_out is None:
            return None
        return (input_tokens * (self.price_in or 0.0) + output_tokens * (self.price_out or 0.0)) / 1e6

    def help_unreachable(self) -> str:
        if self.base_url and self.base_url.startswith(OLLAMA_URL[:22]):
            return (
                f"no judge server answers at {self.base_url}: start one with `ollama serve` and "
                f"`ollama pull {self.model}`, or point [judges.{self.name}] base_url in llmscope.toml "
                "at any OpenAI-compatible server (vLLM, llama.cpp, LM Studio, LiteLLM)"
            )
        return (
            f"no judge server answers at {self.base_url}: check that it is running, or set "
            f"[judges.{self.name}] base_url in llmscope.toml"
        )


BUILTIN = Judge("builtin", None, "builtin", max_concurrency=1)
PREDEFINED = {
    "builtin": BUILTIN,
    "small-model": Judge("small-model", OLLAMA_URL, SMALL_MODEL_DEFAULT, price_in=0.0, price_out=0.0),
}


def _openai_prices(model: str) -> tuple[float | None, float | None]:
    try:
        import genai_prices

        calc = genai_prices.calc_price(
            genai_prices.Usage(input_tokens=1_000_000, output_tokens=0), model, provider_id="openai"
        )
        calc_out = genai_prices.calc_price(
            genai_prices.Usage(input_tokens=0, output_tokens=1_000_000), model, provider_id="openai"
        )
        return float(calc.total_price), float(calc_out.total_price)
    except (LookupError, ValueError):
        return None, None


def _flag(profile: dict, key: str, default: bool) -> bool:
    value = profile.get(key, default)
    if not isinstance(value, bool):
        raise TypeError(f"{key} is true or false, not {value!r}")
    return value


def resolve(name: str, config: dict | None = None) -> Judge:
    """A judge by profile name or shortcut; config profiles override the predefined ones."""
    profiles = (config or {}).get("judges") or {}
    if name in profiles:
        p = profiles[name]
        if not isinstance(p, dict):
            raise JudgeConfigError(f"[judges.{name}] must be a table")
        base = PREDEFINED.get(name, Judge(name, None, ""))
        try:
            judge = replace(
                base,
                name=name,
                base_url=str(p.get("base_url", base.base_url or "")).rstrip("/") or None,
                model=str(p.get("model", base.model)),
                api_key_env=str(p.get("api_key_env", base.api_key_env)),
                max_concurrency=int(p.get("max_concurrency", base.max_concurrency)),
                timeout_s=float(p.get("timeout_s", base.timeout_s)),
                price_in=float(p["price_in"]) if "price_in" in p else base.price_in,
                price_out=float(p["price_out"]) if "price_out" in p else base.price_out,
                response_format=_flag(p, "response_format", base.response_format),
                tolerant_parsing=_flag(p, "tolerant_parsing", base.tolerant_parsing),
            )
        except (TypeError, ValueError) as e:
            raise JudgeConfigError(f"[judges.{name}]: {e}") from None
        if judge.base_url is None or not judge.model:
            raise JudgeConfigError(f"[judges.{name}] needs base_url and model")
        return judge
    if name in PREDEFINED:
        return PREDEFINED[name]
    if name.startswith("openai:"):
        model = name.split(":", 1)[1]
        pin, pout = _openai_prices(model)
        return Judge(
            name, "https://api.openai.com/v1", model, api_key_env="OPENAI_API_KEY", price_in=pin, price_out=pout
        )
    if name.startswith("ollama:"):
        return Judge(name, OLLAMA_URL, name.split(":", 1)[1], price_in=0.0, price_out=0.0)
    known = ", ".join(sorted(set(PREDEFINED) | set(profiles)))
    raise JudgeConfigError(
        f"unknown judge {name!r}: use one of {known}, openai:MODEL, ollama:MODEL, "
        "or define [judges.NAME] in llmscope.toml"
    )
