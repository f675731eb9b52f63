"""``llmscope.toml``: project settings. Read from ``--config`` or ``./llmscope.toml`` if present.

Example::

    [attributes]
    # attribute keys tried first for each context column (the built-in defaults follow)
    user_id = ["app.user"]
    session_id = ["app.conversation"]
    feature = ["app.route"]
    prompt_version = ["app.prompt_rev"]
    # "metadata#feature" reads the field of a JSON attribute; "resource:team" a resource attribute
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import ConfigError
from .normalize import dialects as D

DEFAULT_CONFIG = "llmscope.toml"

# A hallucination is a groundedness score below this ([eval] hallucination_threshold): one setting that
# `report quality`, `report summary` and the hallucination_rate alert all count by.
HALLUCINATION_THRESHOLD = 0.8


@dataclass
class Config:
    path: Path | None = None
    context_keys: dict[str, list[str]] = field(default_factory=dict)
    raw: dict[str, Any] = field(default_factory=dict)


def load_config(path: str | os.PathLike | None = None) -> Config:
    p = Path(path) if path else Path(DEFAULT_CONFIG)
    if not p.exists():
        if path:
            raise ConfigError(f"{p}: no such config file")
        return Config()
    try:
        raw = tomllib.loads(p.read_text())
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{p}: {e}") from None
    ctx = {}
    for col, keys in (raw.get("attributes") or {}).items():
        if col not in D.CONTEXT_DEFAULTS:
            raise ConfigError(
                f"{p}: [attributes] {col}: unknown column; expected one of {', '.join(D.CONTEXT_DEFAULTS)}"
            )
        if isinstance(keys, str):
            keys = [keys]
        if not isinstance(keys, list) or not all(isinstance(k, str) for k in keys):
            raise ConfigError(f"{p}: [attributes] {col} must be a string or a list of strings")
        ctx[col] = keys
    raw["_config_dir"] = str(p.parent)  # relative paths in the config (JSON schemas) resolve from here
    return Config(path=p, context_keys=ctx, raw=raw)


def hallucination_threshold(raw: dict[str, Any]) -> float:
    """``[eval] hallucination_threshold`` of a loaded config (default 0.8), checked to lie in [0, 1]."""
    value = ((raw or {}).get("eval") or {}).get("hallucination_threshold", HALLUCINATION_THRESHOLD)
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
        raise ConfigError(f"[eval] hallucination_threshold must be a number between 0 and 1, got {value!r}")
    return float(value)
