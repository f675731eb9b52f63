"""Offline claim-level groundedness: does each claim of the answer stand on the retrieved context?

    >>> rep = claim_groundedness("The tower is 330 m tall and opened in 1889.", context)
    >>> rep.score, [c.problems for c in rep.claims if not c.supported]

No model weights, no network: every sentence of the answer is a claim, checked against the context at
the level where an answer usually goes wrong, and every unsupported claim says why:

* **numbers** -- every figure in the claim (digits with thousands separators and decimals, number
  words up to twenty, "2.5 million", percentages, ordinals such as "3rd") must occur in the context
  as the same value;
* **dates** -- month names and years as numbers above;
* **named entities** -- capitalised words and acronyms (not at the start of a sentence unless they are
  capitalised in the context too), and multi-word names, must occur in the context;
* **negation and polarity** -- the context sentence that best supports the claim must agree with it on
  negation ("not", "never", "no", "n't", "without", "none", "neither"; "kein", "pas", "nunca"...);
* **antonyms** -- a claim word whose antonym (a built-in list: increase/decrease, before/after,
  higher/lower, allowed/prohibited, ...) is in that best sentence, while the word itself is not, is a
  contradiction;
* **novel content words** -- content words absent from the context, each weighted by its rarity in the
  context's language (long, capitalised or digit-bearing words weigh more than short common ones);
  a claim whose weighted novel share is above :data:`NOVEL_LIMIT` is unsupported (an appended sentence
  the context never speaks of).

A claim fails on any hard problem (number, date, entity, negation, antonym) and otherwise scores
``1 - weighted novel share``. The answer's score is the mean claim score, pulled down by its worst
claim: ``0.5 * mean + 0.5 * min`` -- one invented figure in a long answer still shows.

What it cannot see: a paraphrase with none of the context's words ("excluded" for "not eligible") reads
as novel content; a wrong causal or temporal link between two facts that are both in the context; an
entity swap between two entities that the context both mentions ("Paris" for "Lyon" when the context
names both) is caught only through the best-supporting sentence; meaning that depends on world
knowledge. For those, use an LLM judge (``llmscope eval --judge ... --metrics groundedness``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

__all__ = ["Claim", "ClaimReport", "claim_groundedness", "NOVEL_LIMIT"]

NOVEL_LIMIT = 0.5  # weighted share of novel content words above which a claim is unsupported

_SENT_RE = re.compile(r"(?<=[.!?])[\"'’”)\]]*\s+(?=[A-Z0-9\"“(])|\s*\n\s*")
_WORD_RE = re.compile(r"[A-Za-zÀ-ÖØ-öø-ÿ][\w'’-]*|\d[\d,.]*\d|\d")
_NUM_RE = re.compile(
    r"(?<![\w.])(\d{1,3}(?:[,\u202f ]\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)(?:\s*(%|percent|per cent))?"
    r"(?:\s*(thousand|million|billion|trillion|k|m|bn))?(?![\w])",
    re.I,
)
_ORD_RE = re.compile(r"\b(\d+)(?:st|nd|rd|th)\b", re.I)
_NUM_WORDS = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
    "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16,
    "seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50,
    "hundred": 100, "dozen": 12, "first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6,
    "seventh": 7, "eighth": 8, "ninth": 9, "tenth": 10, "half": 0.5, "twice": 2, "once": 1,
}  # fmt: skip
_SCALE = {"thousand": 1e3, "k": 1e3, "million": 1e6, "m": 1e6, "billion": 1e9, "bn": 1e9, "trillion": 1e12}
_MONTHS = {
    "january", "february", "march", "april", "may", "june", "july", "august", "september", "october", "november",
    "december", "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec",
    "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday",
}  # fmt: skip
_NEGATIONS = {
    "not", "no", "never", "none", "nobody", "nothing", "neither", "nor", "without", "cannot", "nowhere",
    "kein", "keine", "nicht", "nie", "pas", "jamais", "aucun", "aucune", "nunca", "ningún", "ninguna", "nada",
}  # fmt: skip
_ANTONYM_PAIRS = [
    ("increase", "decrease"), ("increased", "decreased"), ("increases", "decreases"), ("rise", "fall"),
    ("rose", "fell"), ("risen", "fallen"), ("rising", "falling"), ("up", "down"), ("higher", "lower"),
    ("high", "low"), ("more", "less"), ("more", "fewer"), ("most", "least"), ("larger", "smaller"),
    ("largest", "smallest"), ("bigger", "smaller"), ("biggest", "smallest"), ("longer", "shorter"),
    ("longest", "shortest"), ("before", "after"), ("earlier", "later"), ("first", "last"), ("early", "late"),
    ("open", "closed"), ("opened", "closed"), ("allowed", "prohibited"), ("allowed", "forbidden"),
    ("permitted", "prohibited"), ("accept", "reject"), ("accepted", "rejected"), ("include", "exclude"),
    ("included", "excluded"), ("includes", "excludes"), ("win", "lose"), ("won", "lost"), ("success", "failure"),
    ("successful", "unsuccessful"), ("approved", "denied"), ("approved", "rejected"), ("gain", "loss"),
    ("profit", "loss"), ("positive", "negative"), ("maximum", "minimum"), ("max", "min"), ("above", "below"),
    ("over", "under"), ("north", "south"), ("east", "west"), ("northern", "southern"), ("eastern", "western"),
    ("left", "right"), ("hot", "cold"), ("warm", "cool"), ("wet", "dry"), ("fast", "slow"), ("faster", "slower"),
    ("cheap", "expensive"), ("cheaper", "more expensive"), ("safe", "dangerous"), ("safe", "unsafe"),
    ("legal", "illegal"), ("true", "false"), ("always", "never"), ("all", "none"), ("start", "end"),
    ("started", "ended"), ("begin", "end"), ("began", "ended"), ("born", "died"), ("enable", "disable"),
    ("enabled", "disabled"), ("required", "optional"), ("mandatory", "optional"), ("public", "private"),
    ("free", "paid"), ("internal", "external"), ("entry", "exit"), ("import", "export"), ("imports", "exports"),
    ("buy", "sell"), ("bought", "sold"), ("add", "remove"), ("added", "removed"), ("strong", "weak"),
    ("stronger", "weaker"), ("young", "old"), ("younger", "older"), ("new", "old"), ("newer", "older"),
    ("cheapest", "most expensive"), ("lowest", "highest"), ("lower", "raise"), ("cut", "raised"),
    ("supports", "opposes"), ("support", "oppose"), ("agree", "disagree"), ("same", "different"),
    ("inside", "outside"), ("domestic", "foreign"), ("majority", "minority"), ("rural", "urban"),
]  # fmt: skip
_ANTONYMS: dict[str, set[str]] = {}
for _a, _b in _ANTONYM_PAIRS:
    _ANTONYMS.setdefault(_a, set()).add(_b)
    _ANTONYMS.setdefault(_b, set()).add(_a)
_STOP = {
    "a", "an", "the", "of", "in", "on", "at", "to", "for", "from", "by", "with", "about", "into", "over", "and", "or",
    "but", "so", "if", "then", "than", "as", "is", "are", "was", "were", "be", "been", "being", "am", "do", "does",
    "did", "has", "have", "had", "it", "its", "this", "that", "these", "those", "there", "here", "which", "who",
    "whom", "whose", "what", "when", "where", "while", "also", "very", "just", "can", "could", "will", "would",
    "shall", "should", "may", "might", "must", "they", "them", "their", "he", "she", "his", "her", "him", "we",
    "our", "you", "your", "i", "me", "my", "according", "context", "document", "documents", "text", "passage",
    "article", "source", "says", "said", "states", "stated", "mentions", "mentioned", "based", "provided",
    "answer", "yes", "however", "because", "such", "some", "any", "each", "other", "another", "only", "both",
    "many", "much", "all", "most", "per", "around", "approximately", "roughly", "nearly", "almost",
    "up", "out", "one", "now", "new", "year", "years", "time", "well", "like", "make", "made",
}  # fmt: skip


@dataclass
class Claim:
    sentence: str
    supported: bool
    score: float  # 0..1
    problems: list[str] = field(default_factory=list)  # why it is not supported, one entry per problem
    evidence: str = ""  # the best-supporting context sentence


@dataclass
class ClaimReport:
    score: float | None  # None: nothing checkable in the answer
    claims: list[Claim]

    @property
    def unsupported(self) -> list[Claim]:
        return [c for c in self.claims if not c.supported]

    def explanation(self, limit: int = 600) -> str:
        if self.score is None:
            return "no checkable claim"
        bad = self.unsupported
        head = f"{len(self.claims) - len(bad)}/{len(self.claims)} claims supported"
        if bad:
            head += "; " + "; ".join(f'"{_short(c.sentence, 80)}": {", ".join(c.problems)}' for c in bad)
        return head if len(head) <= limit else head[: limit - 1] + "…"


def _short(s: str, n: int) -> str:
    s = " ".join(s.split())
    return s if len(s) <= n else s[: n - 1] + "…"


def _sentences(text: str) -> list[str]:
    return [s.strip(" -*•\t") for s in _SENT_RE.split(text) if s and s.strip(" -*•\t")]


def _numbers(text: str) -> set[float]:
    out: set[float] = set()
    for m in _NUM_RE.finditer(text):
        raw = m.group(1).replace(",", "").replace("\u202f", "").replace(" ", "")
        try:
            v = float(raw)
        except ValueError:
            continue
        if m.group(3):
            out.add(round(v, 6))  # "2.5 million" also matches a context that says 2.5 million
            v *= _SCALE[m.group(3).lower()]
        out.add(round(v, 6))
    for m in _ORD_RE.finditer(text):
        out.add(float(m.group(1)))
    for w in re.findall(r"[a-z]+", text.lower()):
        if w in _NUM_WORDS:
            out.add(float(_NUM_WORDS[w]))
    return out


def _claim_numbers(text: str) -> list[tuple[str, float]]:
    """(as written, value) of the figures a claim states (number words only from three up: 'one of',
    'first' and 'second' are too often not figures)."""
    out = []
    for m in _NUM_RE.finditer(text):
        raw = m.group(1).replace(",", "").replace("\u202f", "").replace(" ", "")
        try:
            v = float(raw)
        except ValueError:
            continue
        if m.group(3):
            v *= _SCALE[m.group(3).lower()]
        out.append((m.group(0).strip(), round(v, 6)))
    for m in _ORD_RE.finditer(text):
        out.append((m.group(0), float(m.group(1))))
    for w in re.findall(r"[a-z]+", text.lower()):
        if w in _NUM_WORDS and _NUM_WORDS[w] >= 3 and w not in ("third",):
            out.append((w, float(_NUM_WORDS[w])))
    return out


def _words(text: str) -> list[str]:
    return _WORD_RE.findall(text)


def _norm(w: str) -> str:
    w = w.lower().replace("’", "'")
    if w.endswith("'s"):
        w = w[:-2]
    for suf in ("ies", "es", "s", "ed", "ing", "ly"):
        if len(w) > len(suf) + 3 and w.endswith(suf):
            return w[: -len(suf)] + ("y" if suf == "ies" else "")
    return w


class _Context:
    def __init__(self, context: str) -> None:
        self.text = context
        self.low = context.lower()
        self.sentences = _sentences(context) or [context]
        self.sent_words = [{_norm(w) for w in _words(s)} for s in self.sentences]
        self.words = set().union(*self.sent_words) if self.sent_words else set()
        self.numbers = _numbers(context)
        self.cased = {w for w in _words(context) if w[:1].isupper()}
        self.prefixes = {w[:5].lower() for w in _words(context) if len(w) >= 5}
        self.freq: dict[str, int] = {}
        for w in _words(context):
            n = _norm(w)
            self.freq[n] = self.freq.get(n, 0) + 1

    def best(self, claim_words: set[str]) -> int:
        best_i, best_v = 0, -1.0
        for i, ws in enumerate(self.sent_words):
            v = len(claim_words & ws) / (len(claim_words) or 1)
            if v > best_v:
                best_i, best_v = i, v
        return best_i


def _in_context(word: str, ctx: _Context) -> bool:
    """The word, its stem, or (names: Europe/European, Norway/Norwegian) a 5-letter prefix of it occurs."""
    if _norm(word) in ctx.words or word.lower() in ctx.low:
        return True
    return len(word) >= 6 and word[:5].lower() in ctx.prefixes


def _entities(sentence: str) -> list[str]:
    """Capitalised words and runs of them, acronyms; the sentence's first word is not taken (it is
    capitalised anyway)."""
    toks = _words(sentence)
    out: list[str] = []
    run: list[str] = []
    for i, t in enumerate(toks):
        cap = t[:1].isupper() and not t.isupper() or (t.isupper() and len(t) >= 2 and t.isalpha())
        if cap and i > 0:
            run.append(t)
        else:
            if run:
                out.append(" ".join(run))
            run = []
    if run:
        out.append(" ".join(run))
    return out


_CLAUSE_RE = re.compile(r"[;,:]\s+|\s+(?:and|but|while|whereas|although|though)\s+")


def _negated(words: list[str]) -> bool:
    low = [w.lower() for w in words]
    return any(w in _NEGATIONS or w.endswith("n't") for w in low)


def _rarity(w: str, ctx: _Context) -> float:
    if any(c.isdigit() for c in w):
        return 2.0
    if w[:1].isupper():
        return 1.5
    n = len(w)
    return 1.25 if n >= 8 else 1.0 if n >= 5 else 0.6


def _check(sentence: str, ctx: _Context) -> Claim | None:
    words = _words(sentence)
    content = [w for w in words if w.lower() not in _STOP and not w.replace(".", "").replace(",", "").isdigit()]
    nums = _claim_numbers(sentence)
    if not content and not nums:
        return None
    problems: list[str] = []
    # numbers and dates
    for raw, v in nums:
        if v not in ctx.numbers:
            problems.append(f"number {raw!r} not in the context")
    for w in words:
        if w.lower() in _MONTHS and w.lower() not in ctx.low:
            problems.append(f"date {w!r} not in the context")
    # named entities
    for ent in _entities(sentence):
        parts = [p for p in ent.split() if p.lower() not in _STOP]
        missing = [p for p in parts if not _in_context(p, ctx)]
        if missing and ent.lower() not in ctx.low and ent.lower() not in _MONTHS:
            problems.append(f"name {ent!r} not in the context")
    cw = {_norm(w) for w in content}
    best_sentence = ctx.sentences[ctx.best(cw)]
    # negation / polarity and antonyms, clause by clause against the clause's best-supporting sentence
    for clause in _CLAUSE_RE.split(sentence):
        cwords = _words(clause)
        ccontent = {_norm(w) for w in cwords if w.lower() not in _STOP}
        if len(ccontent) < 2:
            continue
        bi = ctx.best(ccontent)
        bwords = _words(ctx.sentences[bi])
        overlap = len(ccontent & ctx.sent_words[bi]) / len(ccontent)
        if overlap >= 0.5 and _negated(cwords) != _negated(bwords):
            problems.append("negation differs from the context" if _negated(cwords) else "the context negates this")
        low_words = {w.lower() for w in cwords}
        best_low = {w.lower() for w in bwords}
        if overlap >= 0.3:
            for w in low_words:
                for a in _ANTONYMS.get(w, ()):
                    if a in best_low and w not in best_low:
                        problems.append(f"{w!r} where the context says {a!r}")
    # novel content words, weighted by rarity
    total = novel = 0.0
    missing_words = []
    for w in content:
        r = _rarity(w, ctx)
        total += r
        if _norm(w) not in ctx.words and w.lower() not in ctx.low:
            novel += r
            missing_words.append(w)
    share = novel / total if total else 0.0
    if share > NOVEL_LIMIT:
        problems.append(f"mostly new content ({', '.join(missing_words[:4])})")
    score = 0.0 if problems else round(1.0 - share, 4)
    return Claim(sentence, not problems, score, problems, best_sentence)


def claim_groundedness(answer: str | None, context: str | None) -> ClaimReport:
    """Check every claim of ``answer`` against ``context``; see the module docstring."""
    if not answer or not answer.strip() or not context or not context.strip():
        return ClaimReport(None, [])
    ctx = _Context(context)
    claims = [c for s in _sentences(answer) if not s.endswith("?") and (c := _check(s, ctx)) is not None]
    if not claims:
        return ClaimReport(None, [])
    scores = [c.score for c in claims]
    score = round(0.5 * sum(scores) / len(scores) + 0.5 * min(scores), 4)
    return ClaimReport(score, claims)
