"""Offline scorers (judge ``builtin``): no network, no key, no model. Pure functions (stdlib + orjson).

Every score is a float in [0, 1] or ``None`` ("not applicable"); never NaN.

Metrics written by :func:`score_span` (names in :data:`BUILTIN_METRICS`):

``groundedness_lexical`` (only when the span has a retrieved context)
    Share of the answer's *checkable* sentences that are lexically supported by the context.
    Sentences: the answer is split after ``.``/``!``/``?`` followed by white space (but not before a
    lower-case letter, so "e.g. the" holds together), and at line breaks (list markers such as ``-``,
    ``*``, ``1.`` are dropped). Content words of a sentence: ``\\w+`` tokens,
    lower-cased, minus English stopwords, RAG meta-words ("according", "context", "provided",
    "document", ...) and interjections ("sure", "certainly", ...) and single letters, then simple suffix stemming (:func:`stem`: plural ``-s/-es/-ies``, ``-ed``,
    ``-ing``, ``-ly``, a final ``-e``, a doubled final consonant). Numbers are content words, so a
    changed figure counts against the sentence. A sentence is *supported* when at least
    :data:`SUPPORT_THRESHOLD` (0.6) of its distinct content words occur (stemmed) anywhere in the
    context. Not checked: sentences without content words, questions (ending with ``?``), refusals and
    "the context does not say" statements, pleasantries ("Hope this helps", "Let me know ...").
    score = supported / checked. Range [0, 1]. label ``grounded`` when score >= threshold
    (``groundedness_threshold``, default 0.5), else ``hallucination``; passed = score >= threshold.
    N/A (score None, label ``not_applicable``, passed None): no output, or no checkable sentence
    (empty answer, a refusal such as "I don't know." / "I can't help with that.").
    This is a lexical proxy: it catches invented facts, names and numbers absent from the context;
    it misses a sentence that inverts the meaning with the context's own words, and it can flag a
    faithful paraphrase made of synonyms ("excluded" for "not eligible"). Use an LLM judge for those.
    With ``groundedness = "claims"`` in ``[eval.builtin]`` the same metric is computed by the offline
    claim checker (:mod:`llmscope.evals.claims`): numbers, dates, names, negation, antonyms and novel
    content words per claim, each unsupported claim explained.

``format`` (only when a length, pattern or JSON-schema rule is configured)
    1.0 when every configured rule holds, else 0.0; label ``pass``/``fail``; passed = score == 1;
    explanation lists the failed rules. N/A when the span recorded no output (output_text NULL:
    content capture off), so such spans never count as format failures.
    * length (:func:`check_length`): characters of the stripped output against min_chars/max_chars,
      white-space separated words against max_words;
    * patterns (:func:`check_patterns`): each ``required_patterns`` regex must match (``re.search``),
      no ``prohibited_patterns`` regex may match. Use ``(?i)`` for case-insensitive. The explanation
      names the pattern and the offset of a prohibited match, never the matched text (it may be PII);
    * JSON (:func:`check_json`): the whole stripped output must parse as strict JSON (RFC 8259: no
      NaN, no comments; a ```json code fence is a failure, reported as such) and validate against
      ``json_schema``. Supported schema keywords: type (object, array, string, number, integer,
      boolean, null, or a list of them; integer accepts 2.0; booleans are not numbers), properties,
      required, items (one schema for every element), enum, additionalProperties (bool or schema),
      minimum, maximum, minLength, maxLength; annotations ($schema, $id, title, description,
      default, examples, $comment) are ignored. Any other keyword is refused with ValueError rather
      than silently not checked.

Reference metrics (only when a reference answer is given); passed None, label ``""``; N/A when the
span recorded no output:

``exact_match``
    1.0 when output and reference are equal after SQuAD normalisation (:func:`normalize_answer`:
    lower case, punctuation removed (ASCII plus common Unicode quotes/dashes), articles a/an/the
    removed, white space collapsed), else 0.0.
``token_f1``
    SQuAD token F1 on the normalised tokens: multiset overlap; P = overlap/|output|,
    R = overlap/|reference|, F1 = 2PR/(P+R); 0 when nothing overlaps. If either side has no token,
    1.0 when both have none, else 0.0 (SQuAD v2 convention).
``rouge_l``
    ROUGE-L F-measure with beta = 1 over ``\\w+`` tokens of the lower-cased texts (no stemming, no
    stopword removal): LCS = longest common subsequence, P = LCS/|output|, R = LCS/|reference|,
    F = 2PR/(P+R); 0 when either side is empty. The LCS is computed bit-parallel (Hyyrö 2004), exact.
``bleu``
    Sentence BLEU (Papineni et al. 2002) over the same tokens, uniform weights over n = 1..max_n
    (4), clipped n-gram precisions, brevity penalty BP = 1 if c > r else exp(1 - r/c) (c, r: output
    and reference lengths). Smoothing: "add-one for n > 1" (Lin & Och 2004, "BLEU+1"):
    p1 = m1/l1 unsmoothed, pn = (mn + 1)/(ln + 1) for n > 1 (an output shorter than n has ln = 0, so
    pn = 1). Hence 0.0 when no unigram matches or the output is empty, and 1.0 for identical texts of
    any length.
"""

from __future__ import annotations

import json
import math
import re
import string
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import orjson

__all__ = [
    "BUILTIN_METRICS",
    "SUPPORT_THRESHOLD",
    "OfflineConfig",
    "Score",
    "bleu",
    "check_json",
    "check_length",
    "check_patterns",
    "exact_match",
    "lexical_groundedness",
    "normalize_answer",
    "rouge_l",
    "score_span",
    "stem",
    "token_f1",
]

BUILTIN_METRICS: tuple[str, ...] = (
    "groundedness_lexical",
    "format",
    "exact_match",
    "token_f1",
    "rouge_l",
    "bleu",
)

SUPPORT_THRESHOLD = 0.6  # share of a sentence's distinct content words that must occur in the context
NOT_APPLICABLE = "not_applicable"
_MAX_SENTENCE_CHARS = 160  # per unsupported sentence in an explanation
_MAX_EXPLANATION_CHARS = 600

# ---------------------------------------------------------------------------------------------
# Configuration
# ---------------------------------------------------------------------------------------------

_INT_KEYS = ("min_chars", "max_chars", "max_words")
_PATTERN_KEYS = ("required_patterns", "prohibited_patterns")
_CONFIG_KEYS = (*_INT_KEYS, *_PATTERN_KEYS, "json_schema", "groundedness_threshold", "groundedness")
GROUNDEDNESS_METHODS = ("lexical", "claims")
_SECTION = "[eval.builtin]"


@dataclass(frozen=True)
class OfflineConfig:
    """Rules of the offline scorers; ``from_config`` reads the ``[eval.builtin]`` table::

        [eval.builtin]
        min_chars = 1
        max_chars = 4000
        max_words = 600
        required_patterns = ["(?i)order id"]
        prohibited_patterns = ["(?i)as an ai language model", "\\\\b\\\\d{3}-\\\\d{2}-\\\\d{4}\\\\b"]
        json_schema = {type = "object", required = ["intent"], properties = {intent = {enum = ["refund", "other"]}}}
        # or json_schema = "schemas/intent.json" (a path, relative to base_dir) or a JSON string
        groundedness_threshold = 0.5

    Construction validates everything (regexes compile, schema uses only supported keywords,
    threshold in [0, 1], min <= max) and raises ValueError naming the key.
    """

    min_chars: int | None = None
    max_chars: int | None = None
    max_words: int | None = None
    required_patterns: tuple[str, ...] = ()
    prohibited_patterns: tuple[str, ...] = ()
    json_schema: dict | None = None
    groundedness_threshold: float = 0.5
    groundedness: str = "lexical"  # or "claims": llmscope.evals.claims (numbers, dates, names, negation...)
    _required_re: tuple[re.Pattern, ...] = field(default=(), init=False, repr=False, compare=False)
    _prohibited_re: tuple[re.Pattern, ...] = field(default=(), init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        for key in _INT_KEYS:
            v = getattr(self, key)
            if v is not None and (isinstance(v, bool) or not isinstance(v, int) or v < 0):
                raise ValueError(f"{_SECTION} {key} must be a non-negative integer, got {v!r}")
        if self.min_chars is not None and self.max_chars is not None and self.min_chars > self.max_chars:
            raise ValueError(f"{_SECTION} min_chars ({self.min_chars}) must not exceed max_chars ({self.max_chars})")
        if self.groundedness not in GROUNDEDNESS_METHODS:
            raise ValueError(
                f"{_SECTION} groundedness must be one of {', '.join(GROUNDEDNESS_METHODS)}, got {self.groundedness!r}"
            )
        t = self.groundedness_threshold
        if isinstance(t, bool) or not isinstance(t, (int, float)) or not 0.0 <= t <= 1.0:
            raise ValueError(f"{_SECTION} groundedness_threshold must be a number in [0, 1], got {t!r}")
        for key, attr in (("required_patterns", "_required_re"), ("prohibited_patterns", "_prohibited_re")):
            pats = getattr(self, key)
            if isinstance(pats, str) or not isinstance(pats, (tuple, list)):
                raise ValueError(f"{_SECTION} {key} must be a list of strings, got {pats!r}")
            compiled = []
            for i, p in enumerate(pats):
                if not isinstance(p, str):
                    raise ValueError(f"{_SECTION} {key}[{i}] must be a string, got {p!r}")
                try:
                    compiled.append(re.compile(p))
                except re.error as e:
                    raise ValueError(f"{_SECTION} {key}[{i}] {p!r} is not a valid regular expression: {e}") from None
            object.__setattr__(self, key, tuple(pats))
            object.__setattr__(self, attr, tuple(compiled))
        if self.json_schema is not None:
            if not isinstance(self.json_schema, dict):
                raise ValueError(
                    f"{_SECTION} json_schema must be a table (a JSON Schema object), got {self.json_schema!r}"
                )
            problem = _schema_problem(self.json_schema, "json_schema")
            if problem:
                raise ValueError(f"{_SECTION} {problem}")

    @property
    def has_format_rules(self) -> bool:
        return bool(
            self.min_chars is not None
            or self.max_chars is not None
            or self.max_words is not None
            or self.required_patterns
            or self.prohibited_patterns
            or self.json_schema is not None
        )

    @classmethod
    def from_config(cls, raw: dict | None, base_dir: str | Path | None = None) -> OfflineConfig:
        """Build from the ``[eval.builtin]`` table (a dict; None or {} gives the defaults).

        ``json_schema`` may be a table, a JSON string (starting with ``{``) or the path of a JSON
        file, relative to ``base_dir`` (the config file's directory; default the working directory).
        Unknown keys are refused (a typo would otherwise silently disable a rule).
        """
        if raw is None:
            return cls()
        if not isinstance(raw, dict):
            raise ValueError(f"{_SECTION} must be a table, got {type(raw).__name__}")
        unknown = sorted(set(raw) - set(_CONFIG_KEYS))
        if unknown:
            raise ValueError(f"{_SECTION} {unknown[0]}: unknown key; expected one of {', '.join(_CONFIG_KEYS)}")
        kw: dict[str, Any] = {}
        for key in _INT_KEYS:
            if key in raw:
                v = raw[key]
                if isinstance(v, bool) or not isinstance(v, int) or v < 0:
                    raise ValueError(f"{_SECTION} {key} must be a non-negative integer, got {v!r} ({type(v).__name__})")
                kw[key] = v
        for key in _PATTERN_KEYS:
            if key in raw:
                v = raw[key]
                if isinstance(v, str):
                    v = [v]
                if not isinstance(v, list) or not all(isinstance(p, str) for p in v):
                    raise ValueError(f"{_SECTION} {key} must be a string or a list of strings, got {v!r}")
                kw[key] = tuple(v)
        if "groundedness" in raw:
            kw["groundedness"] = raw["groundedness"]
        if "groundedness_threshold" in raw:
            v = raw["groundedness_threshold"]
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not 0.0 <= v <= 1.0:
                raise ValueError(f"{_SECTION} groundedness_threshold must be a number between 0 and 1, got {v!r}")
            kw["groundedness_threshold"] = float(v)
        if "json_schema" in raw:
            kw["json_schema"] = _load_schema(raw["json_schema"], base_dir)
        return cls(**kw)


def _load_schema(v: Any, base_dir: str | Path | None) -> dict:
    if isinstance(v, dict):
        return v
    if not isinstance(v, str):
        raise ValueError(
            f"{_SECTION} json_schema must be a table, a JSON string or a file path, got {type(v).__name__}"
        )
    if v.lstrip().startswith("{"):
        text, where = v, "json_schema"
    else:
        p = Path(v)
        if not p.is_absolute() and base_dir is not None:
            p = Path(base_dir) / p
        try:
            text, where = p.read_text(encoding="utf-8"), f"json_schema file {p}"
        except OSError as e:
            raise ValueError(f"{_SECTION} json_schema: cannot read {p}: {e.strerror or e}") from None
    try:
        schema = json.loads(text)
    except ValueError as e:
        raise ValueError(f"{_SECTION} {where} is not valid JSON: {e}") from None
    if not isinstance(schema, dict):
        raise ValueError(f"{_SECTION} {where} must be a JSON object")
    return schema


# ---------------------------------------------------------------------------------------------
# Score
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Score:
    metric: str
    score: float | None  # [0, 1]; None = not applicable
    label: str
    passed: bool | None
    explanation: str


# ---------------------------------------------------------------------------------------------
# Tokenisation
# ---------------------------------------------------------------------------------------------

_UNICODE_PUNCT = "‘’‚‛“”„‟–—―…«»‹›¿¡·•′″"
_PUNCT_TABLE = str.maketrans("", "", string.punctuation + _UNICODE_PUNCT)
_ARTICLES = frozenset(("a", "an", "the"))
_WORD_RE = re.compile(r"\w+")


def _squad_tokens(s: str) -> list[str]:
    return [t for t in s.lower().translate(_PUNCT_TABLE).split() if t not in _ARTICLES]


def normalize_answer(s: str) -> str:
    """SQuAD normalisation: lower case, drop punctuation, drop articles, collapse white space."""
    return " ".join(_squad_tokens(s))


def _words(s: str) -> list[str]:
    return _WORD_RE.findall(s.lower())


# ---------------------------------------------------------------------------------------------
# Reference metrics
# ---------------------------------------------------------------------------------------------


def exact_match(output: str, reference: str) -> float:
    return 1.0 if normalize_answer(output) == normalize_answer(reference) else 0.0


def _f1(pred: list[str], gold: list[str]) -> float:
    if not pred or not gold:
        return 1.0 if pred == gold else 0.0
    common = Counter(pred) & Counter(gold)
    same = sum(common.values())
    if same == 0:
        return 0.0
    p = same / len(pred)
    r = same / len(gold)
    return 2 * p * r / (p + r)


def token_f1(output: str, reference: str) -> float:
    return _f1(_squad_tokens(output), _squad_tokens(reference))


def _lcs_len(a: list[str], b: list[str]) -> int:
    """Length of the longest common subsequence, bit-parallel (Hyyrö 2004): O(|a| * |b| / 64)."""
    if len(a) < len(b):
        a, b = b, a
    if not b:
        return 0
    masks: dict[str, int] = {}
    for i, tok in enumerate(b):
        masks[tok] = masks.get(tok, 0) | (1 << i)
    full = (1 << len(b)) - 1
    v = full
    get = masks.get
    for tok in a:
        m = get(tok)
        if m:
            u = v & m
            v = ((v + u) | (v - u)) & full
    return len(b) - v.bit_count()


def _rouge_l(out: list[str], ref: list[str]) -> float:
    if not out or not ref:
        return 0.0
    lcs = _lcs_len(out, ref)
    if lcs == 0:
        return 0.0
    p = lcs / len(out)
    r = lcs / len(ref)
    return 2 * p * r / (p + r)


def rouge_l(output: str, reference: str) -> float:
    return _rouge_l(_words(output), _words(reference))


def _ngrams(toks: list[str], n: int) -> Counter:
    if n == 1:
        return Counter(toks)
    return Counter(zip(*(toks[i:] for i in range(n))))


def _bleu(out: list[str], ref: list[str], max_n: int = 4) -> float:
    c, r = len(out), len(ref)
    if c == 0 or r == 0 or max_n < 1:
        return 0.0
    log_sum = 0.0
    for n in range(1, max_n + 1):
        total = c - n + 1
        if total <= 0:  # output shorter than n: (0 + 1) / (0 + 1)
            continue
        o = _ngrams(out, n)
        rc = _ngrams(ref, n) if n <= r else {}
        matched = 0
        for g in o.keys() & rc.keys():  # clipped counts over the shared n-grams only
            k, m = o[g], rc[g]
            matched += k if k < m else m
        if n == 1:
            if matched == 0:
                return 0.0
            log_sum += math.log(matched / total)
        else:
            log_sum += math.log((matched + 1) / (total + 1))
    bp = 1.0 if c > r else math.exp(1.0 - r / c)
    return min(1.0, bp * math.exp(log_sum / max_n))


def bleu(output: str, reference: str, max_n: int = 4) -> float:
    return _bleu(_words(output), _words(reference), max_n)


# ---------------------------------------------------------------------------------------------
# Lexical groundedness
# ---------------------------------------------------------------------------------------------

STOPWORDS = frozenset(
    """
    a about above after again against all almost also although am among an and any anyone anything are
    aren around as at be because been before being below between both but by can cannot could couldn
    did didn do does doesn doing don done down during each either else etc even ever every few for from
    further get gets got had hadn has hasn have haven having he her here hers herself him himself his
    how however i if in into is isn it its itself just least less let like ll m may me might mine more
    most much must mustn my myself need neither no nor not now o of off often on once one only or other
    others otherwise our ours ourselves out over own per quite rather re really s same shall shan she
    should shouldn since so some something still such t than that thats the their theirs them
    themselves then there therefore these they thing things this those though through thus to too
    toward towards under unless until up upon us ve very via was wasn we well were weren what whatever
    when whenever where whereas wherever whether which while who whom whose why will with within
    without won would wouldn yes yet you your yours yourself yourselves
    according accordingly additionally answer based context contexts document documents excerpt
    furthermore given information mention mentioned mentions moreover note noted passage passages
    provide provided provides retrieved say says shown snippet snippets source sources specifically
    state stated states text overall summary generally typically usually
    sure certainly absolutely course okay ok hello hi thanks thank please welcome great
    """.split()
)


@lru_cache(maxsize=1 << 16)
def stem(word: str) -> str:
    """Tiny suffix stripper, applied identically to answer and context (consistency over linguistics):
    cities->city, boxes->box, created/creates/creating/create->creat, stopped->stop, quickly->quick."""
    w = word
    if len(w) <= 3 or not w.isalpha():
        return w
    if w.endswith("ies") and len(w) > 4:
        w = w[:-3] + "y"
    elif w.endswith("ied") and len(w) > 4:
        w = w[:-3] + "y"
    elif w.endswith("sses"):
        w = w[:-2]
    elif w.endswith(("ches", "shes", "xes", "zes")):
        w = w[:-2]
    elif w.endswith("s") and not w.endswith(("ss", "us", "is")):
        w = w[:-1]
    if w.endswith("ing") and len(w) > 5:
        w = w[:-3]
    elif w.endswith("ed") and len(w) > 4:
        w = w[:-2]
    elif w.endswith("ly") and len(w) > 4:
        w = w[:-2]
    if len(w) > 3 and w[-1] == w[-2] and w[-1] not in "lsz" and w[-1] not in "aeiou":
        w = w[:-1]
    if w.endswith("e") and len(w) > 3:
        w = w[:-1]
    return w


# Sentence boundaries: after . ! ? (optionally followed by closing quotes/brackets) and white space; line breaks.
# No split before a lower-case letter, so "e.g. the" and "approx. five" stay in one sentence.
_SENT_SPLIT_RE = re.compile(r"(?<=[.!?])[\"'’”)\]]*\s+(?![a-z])|\s*\n\s*")
_LIST_MARKER_RE = re.compile(r"^\s*(?:[-*•+>]+|\d{1,3}[.)]|[a-zA-Z][.)](?=\s))\s*")
# Sentences that make no factual claim: refusals, "the context does not say", pleasantries.
_NON_CLAIM_RE = re.compile(
    r"\b(?:"
    # refusals and hedges in the first person
    r"i\s+(?:do\s*not|don'?t|cannot|can'?t|can\s+not|couldn'?t|could\s+not|have\s+no|"
    r"am\s+(?:not\s+(?:able|sure)|unable|afraid))|"
    r"i'm\s+(?:unable|afraid|not\s+(?:able|sure))|"
    r"^(?:i'm\s+|i\s+am\s+)?(?:so\s+|very\s+)?sorry\b|^(?:i\s+)?apologi[sz]e|as\s+an\s+ai\b|"
    # "the context does not say": only with a meta subject, so "the plan does not include X" stays a claim
    r"(?:context|documents?|text|passages?|sources?|information|excerpts?|snippets?|results?)\s+"
    r"(?:does|do|did)\s*(?:not|n'?t)\s+(?:contain|mention|provide|specify|include|say|state|cover|"
    r"indicate|discuss|address|give)|"
    r"(?:is|are|was|were)\s+not\s+(?:mentioned|specified|stated|discussed|provided\s+in)|"
    r"no\s+(?:mention|information|details?)\s+(?:about|on|regarding|of)\b|no\s+relevant\b|"
    r"not\s+enough\s+information|unable\s+to\s+(?:find|answer|determine|help)|"
    # pleasantries
    r"hope\s+(?:this|that|it)\s+helps|let\s+me\s+know|feel\s+free|happy\s+to\s+help|glad\s+to\s+help"
    r")"
)
_APOSTROPHES = str.maketrans({"’": "'", "‘": "'", "`": "'"})


def _split_sentences_lower(text: str) -> list[tuple[str, str]]:
    """[(sentence, its lower-cased form with apostrophes normalised)], list markers removed."""
    low_all = text.lower().translate(_APOSTROPHES)
    same_len = len(low_all) == len(text)  # lower() can change lengths (rare); then lower per sentence
    out = []
    pos = 0
    bounds = [(m.start(), m.end()) for m in _SENT_SPLIT_RE.finditer(text)]
    bounds.append((len(text), len(text)))
    for start, end in bounds:
        if start > pos:
            part = text[pos:start]
            m = _LIST_MARKER_RE.match(part)
            a = pos + (m.end() if m else 0)
            sent = text[a:start].strip()
            if sent:
                low = low_all[a:start].strip() if same_len else sent.lower().translate(_APOSTROPHES)
                out.append((sent, low))
        pos = end
    return out


class _ContentCache(dict):
    """token -> its stem, or "" for a stopword or a single letter; filled on first sight."""

    def __missing__(self, w: str) -> str:
        if len(self) >= 1 << 18:  # bounded: an adversarial stream of unique tokens cannot grow it forever
            self.clear()
        c = "" if w in STOPWORDS or (len(w) == 1 and not w.isdigit()) else stem(w)
        self[w] = c
        return c


_CONTENT = _ContentCache()


def _content_words(sentence_lower: str) -> set[str]:
    out = set(map(_CONTENT.__getitem__, _WORD_RE.findall(sentence_lower)))
    out.discard("")
    return out


def _context_vocab(context: str) -> set[str]:
    return set(map(_CONTENT.__getitem__, set(_WORD_RE.findall(context.lower()))))


def _groundedness(answer: str, vocab: set[str]) -> tuple[float | None, list[str], int]:
    supported = checked = 0
    unsupported: list[str] = []
    for sent, low in _split_sentences_lower(answer):
        if sent.endswith("?"):
            continue
        if _NON_CLAIM_RE.search(low):
            continue
        words = _content_words(low)
        if not words:
            continue
        checked += 1
        hits = sum(1 for w in words if w in vocab)
        if hits >= SUPPORT_THRESHOLD * len(words) - 1e-9:
            supported += 1
        else:
            unsupported.append(sent)
    if checked == 0:
        return None, [], 0
    return supported / checked, unsupported, checked


def lexical_groundedness(answer: str, context: str) -> tuple[float | None, list[str]]:
    """(share of checkable answer sentences supported by the context, the unsupported sentences).

    None when nothing is checkable (empty answer, refusal, no content words). See module docstring.
    """
    if not answer or not answer.strip():
        return None, []
    score, unsupported, _ = _groundedness(answer, _context_vocab(context or ""))
    return score, unsupported


# ---------------------------------------------------------------------------------------------
# Format checks
# ---------------------------------------------------------------------------------------------

_TYPES = ("object", "array", "string", "number", "integer", "boolean", "null")
_ANNOTATIONS = frozenset(("$schema", "$id", "id", "title", "description", "default", "examples", "$comment"))
_SUPPORTED = frozenset(
    (
        "type",
        "properties",
        "required",
        "items",
        "enum",
        "additionalProperties",
        "minimum",
        "maximum",
        "minLength",
        "maxLength",
    )
)
_schema_ok_cache: dict[int, tuple[dict, str]] = {}


def _schema_problem(schema: Any, where: str) -> str:
    """'' when the schema only uses supported keywords with sane values, else a message naming the spot."""
    if isinstance(schema, bool):
        return ""
    if not isinstance(schema, dict):
        return f"{where} must be an object, got {type(schema).__name__}"
    for k, v in schema.items():
        at = f"{where}.{k}"
        if k in _ANNOTATIONS:
            continue
        if k not in _SUPPORTED:
            return f"{at}: unsupported JSON Schema keyword {k!r}; supported: {', '.join(sorted(_SUPPORTED))}"
        if k == "type":
            types = v if isinstance(v, list) else [v]
            bad = [t for t in types if t not in _TYPES]
            if bad or not types:
                return f"{at}: unknown type {bad[0] if bad else v!r}; expected one of {', '.join(_TYPES)}"
        elif k == "properties":
            if not isinstance(v, dict):
                return f"{at} must be an object"
            for name, sub in v.items():
                p = _schema_problem(sub, f"{at}.{name}")
                if p:
                    return p
        elif k == "required":
            if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
                return f"{at} must be a list of strings"
        elif k in ("items", "additionalProperties"):
            if not isinstance(v, (dict, bool)):
                return f"{at} must be a schema object or a boolean"
            p = _schema_problem(v, at)
            if p:
                return p
        elif k == "enum":
            if not isinstance(v, list) or not v:
                return f"{at} must be a non-empty list"
        elif k in ("minimum", "maximum"):
            if isinstance(v, bool) or not isinstance(v, (int, float)):
                return f"{at} must be a number"
        elif k in ("minLength", "maxLength"):
            if isinstance(v, bool) or not isinstance(v, int) or v < 0:
                return f"{at} must be a non-negative integer"
    return ""


def _type_of(v: Any) -> str:
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "boolean"
    if isinstance(v, int):
        return "integer"
    if isinstance(v, float):
        return "number"
    if isinstance(v, str):
        return "string"
    if isinstance(v, list):
        return "array"
    return "object"


def _is_type(v: Any, t: str) -> bool:
    actual = _type_of(v)
    if t == actual:
        return True
    if t == "number":
        return actual == "integer"
    if t == "integer":
        return actual == "number" and math.isfinite(v) and float(v).is_integer()
    return False


def _json_key(v: Any) -> Any:
    """Type-aware key for enum comparison (in JSON, true != 1 and 1 == 1.0)."""
    t = _type_of(v)
    if t in ("integer", "number"):
        return ("number", v)
    if t == "array":
        return ("array", tuple(_json_key(x) for x in v))
    if t == "object":
        return ("object", tuple(sorted((k, _json_key(x)) for k, x in v.items())))
    return (t, v)


def _short(v: Any, limit: int = 40) -> str:
    s = json.dumps(v, ensure_ascii=False)
    return s if len(s) <= limit else s[: limit - 1] + "…"


def _validate(v: Any, schema: Any, path: str, errors: list[str], limit: int = 5) -> None:
    if len(errors) >= limit:
        return
    if schema is True:
        return
    if schema is False:
        errors.append(f"{path}: not allowed")
        return
    t = schema.get("type")
    if t is not None:
        types = t if isinstance(t, list) else [t]
        if not any(_is_type(v, x) for x in types):
            errors.append(f"{path}: expected {' or '.join(types)}, got {_type_of(v)}")
            return
    if "enum" in schema:
        key = _json_key(v)
        if not any(_json_key(e) == key for e in schema["enum"]):
            errors.append(f"{path}: {_short(v)} is not one of {_short(schema['enum'], 80)}")
    if isinstance(v, dict):
        props = schema.get("properties") or {}
        for name in schema.get("required") or ():
            if name not in v:
                errors.append(f"{path}: missing required property {name!r}")
        for name, sub in v.items():
            if name in props:
                _validate(sub, props[name], f"{path}.{name}", errors, limit)
            elif "additionalProperties" in schema:
                ap = schema["additionalProperties"]
                if ap is False:
                    errors.append(f"{path}: additional property {name!r} not allowed")
                else:
                    _validate(sub, ap, f"{path}.{name}", errors, limit)
    elif isinstance(v, list):
        items = schema.get("items")
        if items is not None:
            for i, x in enumerate(v):
                _validate(x, items, f"{path}[{i}]", errors, limit)
    elif isinstance(v, str):
        n = len(v)
        if "minLength" in schema and n < schema["minLength"]:
            errors.append(f"{path}: string of {n} chars is shorter than minLength {schema['minLength']}")
        if "maxLength" in schema and n > schema["maxLength"]:
            errors.append(f"{path}: string of {n} chars is longer than maxLength {schema['maxLength']}")
    elif isinstance(v, (int, float)) and not isinstance(v, bool):
        if "minimum" in schema and v < schema["minimum"]:
            errors.append(f"{path}: {v} is less than minimum {schema['minimum']}")
        if "maximum" in schema and v > schema["maximum"]:
            errors.append(f"{path}: {v} is greater than maximum {schema['maximum']}")


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _parse_json(text: str) -> tuple[bool, Any, str]:
    try:
        return True, orjson.loads(text), ""
    except orjson.JSONDecodeError as e:
        first_error = str(e)
    try:  # orjson refuses integers beyond 64 bits, which JSON allows
        return True, json.loads(text, parse_constant=_reject_constant), ""
    except ValueError:
        return False, None, first_error


def _checked_schema(schema: dict) -> None:
    hit = _schema_ok_cache.get(id(schema))
    if hit is not None and hit[0] is schema:
        problem = hit[1]
    else:
        problem = _schema_problem(schema, "json_schema")
        if len(_schema_ok_cache) > 256:
            _schema_ok_cache.clear()
        _schema_ok_cache[id(schema)] = (schema, problem)
    if problem:
        raise ValueError(problem)


def check_json(output: str, schema: dict | None) -> tuple[bool, str]:
    """(ok, message). The stripped output must be strict JSON; if ``schema`` is given, valid against it.

    message is "" when ok, else the parse error or up to 5 schema violations with their JSON path
    (``$.items[2].price: expected number, got string``). Raises ValueError on an unsupported schema.
    """
    if schema is not None:
        _checked_schema(schema)
    text = (output or "").strip()
    if not text:
        return False, "output is empty, not JSON"
    if text.startswith("```"):
        return False, "output is wrapped in a ``` code fence, not bare JSON"
    ok, value, err = _parse_json(text)
    if not ok:
        return False, f"output is not valid JSON: {err}"
    if schema is None:
        return True, ""
    errors: list[str] = []
    _validate(value, schema, "$", errors)
    if errors:
        return False, "JSON does not match the schema: " + "; ".join(errors)
    return True, ""


def check_length(output: str, cfg: OfflineConfig) -> tuple[bool, str]:
    """(ok, message): characters of the stripped output vs min/max_chars, words (split on white space)
    vs max_words. message is "" when ok, else the broken rules joined with '; '."""
    text = (output or "").strip()
    problems = []
    if cfg.min_chars is not None or cfg.max_chars is not None:
        n = len(text)
        if cfg.min_chars is not None and n < cfg.min_chars:
            problems.append(f"{n} chars < min_chars {cfg.min_chars}")
        if cfg.max_chars is not None and n > cfg.max_chars:
            problems.append(f"{n} chars > max_chars {cfg.max_chars}")
    if cfg.max_words is not None:
        w = len(text.split())
        if w > cfg.max_words:
            problems.append(f"{w} words > max_words {cfg.max_words}")
    return (not problems), "; ".join(problems)


def check_patterns(output: str, cfg: OfflineConfig) -> tuple[bool, str]:
    """(ok, message): every required regex found (re.search), no prohibited regex found. message is
    "" when ok; a prohibited hit is reported by pattern and offset, not by the matched text."""
    text = output or ""
    problems = []
    for rx in cfg._required_re:
        if rx.search(text) is None:
            problems.append(f"required pattern {rx.pattern!r} not found")
    for rx in cfg._prohibited_re:
        m = rx.search(text)
        if m is not None:
            problems.append(f"prohibited pattern {rx.pattern!r} found at char {m.start()}")
    return (not problems), "; ".join(problems)


# ---------------------------------------------------------------------------------------------
# score_span
# ---------------------------------------------------------------------------------------------


def _truncate(s: str, limit: int) -> str:
    s = " ".join(s.split())
    return s if len(s) <= limit else s[: limit - 1] + "…"


def _na(metric: str, why: str) -> Score:
    return Score(metric, None, NOT_APPLICABLE, None, why)


def _as_text(v: Any) -> str | None:
    if v is None:
        return None
    if isinstance(v, str):
        return v
    if isinstance(v, (list, tuple)):  # several retrieved documents
        return "\n".join(str(x) for x in v if x is not None)
    return str(v)


def _groundedness_score(output: str | None, context: str, threshold: float, method: str = "lexical") -> Score:
    metric = "groundedness_lexical"
    if output is None or not output.strip():
        return _na(metric, "no answer to check")
    if method == "claims":
        from .claims import claim_groundedness

        rep = claim_groundedness(output, context)
        if rep.score is None:
            return _na(metric, "no checkable claim")
        passed = rep.score >= threshold
        return Score(
            metric, rep.score, "grounded" if passed else "hallucination", passed, "claims: " + rep.explanation()
        )
    score, unsupported, checked = _groundedness(output, _context_vocab(context))
    if score is None:
        return _na(metric, "no checkable sentence (refusal, question or no content words)")
    passed = score >= threshold
    head = (
        f"{checked - len(unsupported)}/{checked} sentences supported "
        f"(>= {SUPPORT_THRESHOLD:.0%} of content words found in the context)"
    )
    if unsupported:
        quoted = "; ".join('"' + _truncate(s, _MAX_SENTENCE_CHARS) + '"' for s in unsupported)
        head = _truncate(f"{head}; unsupported: {quoted}", _MAX_EXPLANATION_CHARS)
    return Score(metric, score, "grounded" if passed else "hallucination", passed, head)


def _format_score(output: str | None, cfg: OfflineConfig) -> Score:
    if output is None:
        return _na("format", "no output recorded")
    problems = []
    if cfg.min_chars is not None or cfg.max_chars is not None or cfg.max_words is not None:
        ok, msg = check_length(output, cfg)
        if not ok:
            problems.append(msg)
    if cfg._required_re or cfg._prohibited_re:
        ok, msg = check_patterns(output, cfg)
        if not ok:
            problems.append(msg)
    if cfg.json_schema is not None:
        ok, msg = check_json(output, cfg.json_schema)
        if not ok:
            problems.append(msg)
    if problems:
        return Score("format", 0.0, "fail", False, _truncate("; ".join(problems), _MAX_EXPLANATION_CHARS))
    return Score("format", 1.0, "pass", True, "")


def _reference_scores(output: str | None, reference: str) -> list[Score]:
    names = ("exact_match", "token_f1", "rouge_l", "bleu")
    if output is None:
        return [_na(n, "no output recorded") for n in names]
    sq_out, sq_ref = normalize_answer(output), normalize_answer(reference)
    w_out, w_ref = _words(output), _words(reference)
    return [
        Score("exact_match", 1.0 if sq_out == sq_ref else 0.0, "", None, ""),
        Score("token_f1", _f1(sq_out.split(), sq_ref.split()), "", None, ""),
        Score("rouge_l", _rouge_l(w_out, w_ref), "", None, ""),
        Score("bleu", _bleu(w_out, w_ref), "", None, ""),
    ]


def score_span(row: dict, cfg: OfflineConfig, reference: str | None = None) -> list[Score]:
    """All applicable offline scores of one span.

    ``row``: ``output_text`` (the answer; None = not recorded), ``context`` (retrieved documents'
    text, a list of texts, or None), ``input_text`` (unused for now). Returns, in this order:
    ``groundedness_lexical`` if the context is non-blank; ``format`` if ``cfg`` has any format rule;
    ``exact_match``, ``token_f1``, ``rouge_l``, ``bleu`` if ``reference`` is not None.
    """
    output = _as_text(row.get("output_text"))
    context = _as_text(row.get("context"))
    scores: list[Score] = []
    if context is not None and context.strip():
        scores.append(_groundedness_score(output, context, cfg.groundedness_threshold, cfg.groundedness))
    if cfg.has_format_rules:
        scores.append(_format_score(output, cfg))
    if reference is not None:
        scores.extend(_reference_scores(output, reference))
    return scores
