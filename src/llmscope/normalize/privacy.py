"""Privacy on ingest: redact PII or keep only keyed hashes of content, so llmscope does not become
the place where sensitive data piles up.

* ``redact = "pii"``: every PII value found (see :mod:`llmscope.safety.pii`) in prompts, responses,
  messages and attribute strings becomes a typed placeholder with a short keyed digest of the value:
  ``<EMAIL_3fa91c>``, ``<CREDIT_CARD_07be2d>``. The same value reads the same everywhere in its trace,
  even when the trace is split across ingest batches and worker processes, and different values
  differ. The digest key is random per ingest run (or collector run) and never stored, so nobody can
  test a guessed value against a placeholder; the same value in another trace gets another digest.
* ``hash_content = true``: prompt and response text, messages, and the content-bearing attributes
  are replaced by ``hmac:<hex>`` — HMAC-SHA256 under a key from an environment variable
  (``LLMSCOPE_HASH_KEY`` by default) — so equal prompts still group together but cannot be read.

Both are set per ingest (``--redact pii``, ``--hash-content``) or in llmscope.toml, so a team
cannot forget them::

    [privacy]
    redact = "pii"
    hash_content = true
    hash_key_env = "LLMSCOPE_HASH_KEY"
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import os
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from ..errors import ConfigError
from . import dialects as D


class PrivacyError(ConfigError):
    """Privacy settings that cannot be applied (an unknown --redact mode, a missing hash key)."""


@dataclass
class Privacy:
    redact_pii: bool = False
    hash_key: bytes | None = None
    # keys the placeholders' digests; one per run, shipped to the workers with the mapping
    placeholder_key: bytes = field(default_factory=lambda: secrets.token_bytes(16), repr=False, compare=False)

    @property
    def active(self) -> bool:
        return self.redact_pii or self.hash_key is not None

    @classmethod
    def from_settings(
        cls, redact: str | None = None, hash_content: bool = False, raw_config: dict | None = None
    ) -> Privacy:
        cfg = (raw_config or {}).get("privacy") or {}
        redact = redact or cfg.get("redact")
        if redact not in (None, "", "pii", "none"):
            raise PrivacyError(f"redact takes 'pii', not {redact!r}")
        hash_content = hash_content or bool(cfg.get("hash_content"))
        key = None
        if hash_content:
            env = cfg.get("hash_key_env", "LLMSCOPE_HASH_KEY")
            value = os.environ.get(env)
            if not value:
                raise PrivacyError(f"hashing content needs a key: set the environment variable {env}")
            key = value.encode()
        return cls(redact_pii=(redact == "pii"), hash_key=key)


# attribute keys (and flattened prefixes) that carry prompt / response content
CONTENT_KEYS = frozenset(k for k, _ in D.INPUT_SOURCES + D.OUTPUT_SOURCES) | frozenset(D.SYSTEM_SOURCES)
CONTENT_PREFIXES = tuple(p for p in D.INDEXED_PREFIXES if p not in ("llm.tools.", "llm.request.functions."))


def is_content_key(key: str) -> bool:
    return (
        key in CONTENT_KEYS
        or key.startswith(CONTENT_PREFIXES)
        or key.startswith(("gen_ai.prompt", "gen_ai.completion"))
    )


# Which stored text fields keep their value as is, on purpose (README, "Privacy"): ids llmscope checks
# are hex, names of its own enumerations, and the input file's path, which is the user's own. Every
# other text field is scrubbed: content (prompts, responses, messages, content attributes, log
# bodies) by :meth:`Scrubber.content`, everything else (names, keys, status and error text, model and
# context columns, resource attributes) by :meth:`Scrubber.metadata`.
KEPT_COLUMNS = frozenset(
    ("trace_id", "span_id", "parent_span_id", "kind", "status", "span_type", "dialect", "direction", "source")
)
# Context columns that identify someone: with a hash key they are kept as keyed hashes (so a user's
# traces still group together, across runs too) rather than per-trace placeholders.
ID_COLUMNS = frozenset(("user_id", "session_id"))
# what a placeholder looks like in a stored text (see Scrubber.placeholder)
_PLACEHOLDER = re.compile(r"<[A-Z_]+_[0-9a-f]{6}>")


@functools.cache
def _find_pii() -> Any:
    """The PII finder, imported on first use (phone and IBAN tables weigh on every start) and then once:
    an import statement in ``redact`` cost ~1 µs on each of its ~40 calls per span (10 % of a redacting ingest)."""
    from ..safety.pii import find_pii

    return find_pii


class Scrubber:
    """Applies a :class:`Privacy` setting to one batch of spans: the one place stored text is scrubbed.

    * content (:meth:`content`): PII redacted with ``redact = "pii"``, then hashed with a hash key;
    * metadata (:meth:`metadata`): PII redacted whenever privacy is on at all, so ``--hash-content``
      alone stores no e-mail address in clear in a span name, an attribute key or a status message;
    * ids (:data:`ID_COLUMNS`) hashed with a hash key, else as metadata.
    """

    PLACEHOLDER_HEX = 6  # 24 bits: two different values of one trace collide with odds of 1 in 16 million

    # Names, keys and model ids repeat span after span: short texts found free of PII are remembered
    # (most metadata is), so each is searched once per batch.
    CLEAN_CACHE_MAX_LEN, CLEAN_CACHE_SIZE = 256, 50_000

    def __init__(self, privacy: Privacy):
        self.privacy = privacy
        self._placeholders: dict[tuple[str, str, str], str] = {}
        self._clean: set[str] = set()

    def placeholder(self, trace_id: str, kind: str, value: str) -> str:
        key = (trace_id, kind, value)
        token = self._placeholders.get(key)
        if token is None:
            raw = "\0".join(key).encode("utf-8", "surrogatepass")
            digest = hmac.new(self.privacy.placeholder_key, raw, hashlib.sha256).hexdigest()
            token = self._placeholders[key] = f"<{kind.upper()}_{digest[: self.PLACEHOLDER_HEX]}>"
        return token

    def count_placeholders(self, values: Iterable[Any]) -> dict[str, int]:
        """How many of this scrubber's placeholders the texts among ``values`` hold, by kind: the values
        redaction replaced in what is stored. Counted in the rows as built (not as replaced), since one
        replaced text can be stored more than once (a resource's JSON in each of its spans) or not at all
        (a bad record's reason, a row dropped as unstorable); text that only looks like a placeholder
        (a store exported redacted and ingested again) is not one of ours and is not counted."""
        kinds = {token: kind for (_, kind, _), token in self._placeholders.items()}
        counts: dict[str, int] = {}
        if not kinds:
            return counts
        for v in values:
            if type(v) is str and "<" in v:
                for token in _PLACEHOLDER.findall(v):
                    kind = kinds.get(token)
                    if kind is not None:
                        counts[kind] = counts.get(kind, 0) + 1
        return counts

    # --- hashing
    def hash(self, value: str) -> str:
        raw = value.encode("utf-8", "surrogatepass")
        return "hmac:" + hmac.new(self.privacy.hash_key, raw, hashlib.sha256).hexdigest()[:32]

    # --- redaction
    def redact(self, trace_id: str, text: str) -> str:
        if text in self._clean:
            return text
        matches = _find_pii()(text)
        if not matches:
            if len(text) <= self.CLEAN_CACHE_MAX_LEN:
                if len(self._clean) >= self.CLEAN_CACHE_SIZE:
                    self._clean.clear()
                self._clean.add(text)
            return text
        out, last = [], 0
        for m in matches:
            out.append(text[last : m.start])
            out.append(self.placeholder(trace_id, m.kind, m.value))
            last = m.end
        out.append(text[last:])
        return "".join(out)

    def _walk(self, trace_id: str, v: Any) -> Any:
        """PII redacted in every text of a decoded value, dict keys included."""
        if isinstance(v, str):
            return self.redact(trace_id, v)
        if isinstance(v, list):
            return [self._walk(trace_id, x) for x in v]
        if isinstance(v, dict):
            return {self._walk(trace_id, k): self._walk(trace_id, x) for k, x in v.items()}
        return v

    # --- the two policies
    def metadata(self, trace_id: str, v: Any) -> Any:
        """A name, key, status text, model or context value (or a structure of them): PII redacted."""
        return self._walk(trace_id, v) if v is not None else None

    def content(self, trace_id: str, v: Any) -> Any:
        """Content, as text or a decoded structure: PII redacted (redact mode), then hashed (hash mode)."""
        if v is None:
            return None
        if self.privacy.redact_pii:
            v = self._walk(trace_id, v)
        if self.privacy.hash_key is not None:
            v = self.hash(v if isinstance(v, str) else repr(v))
        return v

    def text(self, trace_id: str, text: str | None) -> str | None:
        return self.content(trace_id, text)

    def identifier(self, trace_id: str, v: Any) -> Any:
        """A user or session id: a keyed hash with a hash key (still groups), else as metadata."""
        if v is not None and self.privacy.hash_key is not None:
            return self.hash(v if isinstance(v, str) else repr(v))
        return self.metadata(trace_id, v)

    def column(self, name: str, trace_id: str, v: Any) -> Any:
        """A plain text column of a span or log row, by the policy its name has."""
        if v is None or name in KEPT_COLUMNS:
            return v
        if name in ID_COLUMNS:
            return self.identifier(trace_id, v)
        return self.metadata(trace_id, v)

    def messages(self, trace_id: str, msgs: list[dict] | None) -> list[dict] | None:
        if not msgs:
            return msgs
        out = []
        for m in msgs:
            m = {k: (x if k in ("content", "tool_calls") else self.metadata(trace_id, x)) for k, x in m.items()}
            if m.get("content"):
                m["content"] = self.content(trace_id, m["content"])
            if isinstance(m.get("tool_calls"), list):
                m["tool_calls"] = [self._tool_call(trace_id, c) for c in m["tool_calls"]]
            out.append(m)
        return out

    def _tool_call(self, trace_id: str, c: Any) -> Any:
        if not isinstance(c, dict):
            return self.content(trace_id, c)
        c = {k: self.metadata(trace_id, x) for k, x in c.items() if k != "arguments"} | {
            "arguments": self.content(trace_id, c.get("arguments")) if c.get("arguments") else None
        }
        return c

    def attributes(self, trace_id: str, attrs: dict) -> dict:
        """Keys as metadata; values of content keys as content, the others as metadata."""
        out = {}
        for k, v in attrs.items():
            content = is_content_key(k) if isinstance(k, str) else False
            out[self.metadata(trace_id, k)] = self.content(trace_id, v) if content else self.metadata(trace_id, v)
        return out

    def events(self, trace_id: str, events: list) -> list:
        return [(self.metadata(trace_id, n), t, self.attributes(trace_id, a)) for n, t, a in events]
