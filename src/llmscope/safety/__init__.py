"""Safety detectors over prompt/response text: PII and secrets, prompt injection, toxicity.

Pure Python (``re``, ``ipaddress``, ``phonenumbers``, ``python-stdnum``), no network; the one model is
a small linear classifier shipped as package data (:mod:`llmscope.safety.classifier`).

* :mod:`llmscope.safety.pii` — ``find_pii``, ``mask_value``, ``masked_excerpt`` (kinds, validators
  and masking rules are documented in that module).
* :mod:`llmscope.safety.injection` — ``detect`` (rules + classifier: one score, one reason; what
  ``llmscope scan`` uses), ``find_injection``, ``injection_score``, ``THRESHOLD``, the versioned rule
  table ``RULES`` / ``RULESET_VERSION``.
* :mod:`llmscope.safety.classifier` — the trained classifier (``load``, ``score``, ``explain``).
* :mod:`llmscope.safety.calibrate` — thresholds on your own labelled texts (``llmscope scan calibrate``).
* :mod:`llmscope.safety.toxicity` — ``toxicity`` lexicon baseline, ``LEXICON_VERSION``. The function
  is not re-exported here (it would shadow the submodule): use
  ``from llmscope.safety.toxicity import toxicity``.

Measured precision/recall on the labelled sets in ``tests/fixtures/safety/`` are asserted by
``tests/test_safety_detectors.py`` and printed by ``benchmarks/detectors.py``.
"""

from .injection import (
    RULES,
    RULESET_VERSION,
    THRESHOLD,
    InjectionHit,
    Verdict,
    detect,
    find_injection,
    injection_score,
)
from .pii import KINDS, PiiMatch, find_pii, mask_value, masked_excerpt
from .toxicity import LEXICON_VERSION

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
    "Verdict",
    "detect",
    "find_injection",
    "injection_score",
    "LEXICON_VERSION",
]
