"""Safety detectors over prompt/response text: PII and secrets, prompt injection, toxicity.

Pure Python (``re``, ``ipaddress``, ``phonenumbers``), no model weights, no network.

* :mod:`llmscope.safety.pii` — ``find_pii``, ``mask_value``, ``masked_excerpt`` (kinds, validators
  and masking rules are documented in that module).
* :mod:`llmscope.safety.injection` — ``find_injection``, ``injection_score``, ``THRESHOLD``, the
  versioned rule table ``RULES`` / ``RULESET_VERSION``.
* :mod:`llmscope.safety.toxicity` — ``toxicity`` lexicon baseline, ``LEXICON_VERSION``. The function
  is not re-exported here (it would shadow the submodule): use
  ``from llmscope.safety.toxicity import toxicity``.

Measured precision/recall on the labelled sets in ``tests/fixtures/safety/`` are asserted by
``tests/test_safety_detectors.py`` and printed by ``benchmarks/detectors.py``.
"""

from llmscope.safety.injection import (
    RULES,
    RULESET_VERSION,
    THRESHOLD,
    InjectionHit,
    find_injection,
    injection_score,
)
from llmscope.safety.pii import KINDS, PiiMatch, find_pii, mask_value, masked_excerpt
from llmscope.safety.toxicity import LEXICON_VERSION

__all__ = [
    "KINDS",
    "PiiMatch",
    "find_pii",
    "mask_value",
    "masked_excerpt",
    "RULES",
    "RULESET_VERSION",
    "THRESHOLD",
    "InjectionHit",
    "find_injection",
    "injection_score",
    "LEXICON_VERSION",
]
