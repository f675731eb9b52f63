"""Toxicity: a small, versioned lexicon baseline (no model).

``toxicity(text) -> (score, terms)``: ``score`` in 0..1 is ``1 - prod(1 - w)`` over the distinct
matched lexicon entries, ``terms`` the matched entries (canonical spelling, in order of first
appearance). It is a *baseline* for spotting abusive traffic in traces, not a classifier.

Lexicon (``LEXICON``: term -> (category, weight))
    ``profanity`` (0.2-0.3): common swear words; alone they stay well below 0.5 ("this fucking
    bug") — profanity is not abuse.
    ``insult`` (0.45-0.55): idiot, moron, stupid, loser, ...; an insult aimed at someone
    ("you are an idiot", "you idiot", "you're useless") also matches the ``targeted insult``
    pattern (0.5), which lifts it over 0.5.
    ``harassment`` (0.5-0.8): "shut up", "nobody likes you", "you are worthless",
    "go to hell", ...
    ``threat`` (0.9): "I will kill you", "kill yourself", "I know where you live", ...
    Identity slurs are deliberately not shipped in this file; a deployment can add its own
    terms with :func:`register_terms`.

Matching: lower-casing, light leetspeak normalisation inside tokens that mix letters with
``0 1 3 4 5 7 @ $ !`` (``1d10t`` -> ``idiot``, ``sh1t`` -> ``shit``; a token needs two letters,
so product codes like ``A55`` are left alone), word-boundary matching through one trie-shaped
regex over the whole lexicon, run only when a lexicon word occurs in the text's word set.
Not handled: stretched spellings (``stuuupid``), spaced-out letters (``i d i o t``), sarcasm,
and any abuse that uses no lexicon word.
``LEXICON_VERSION`` changes with the lexicon or the scoring.
"""

from __future__ import annotations

import re

from .._native import accelerator

_words_in = accelerator("classify", "words_in")

__all__ = ["LEXICON_VERSION", "LEXICON", "toxicity", "register_terms"]

LEXICON_VERSION = "2026.11.1"

_PROFANITY = 0.25
LEXICON: dict[str, tuple[str, float]] = {}


def _add(category: str, weight: float, terms: str) -> None:
    for t in terms.split("|"):
        t = t.strip()
        if t:
            LEXICON[t] = (category, weight)


_add(
    "profanity",
    _PROFANITY,
    "fuck|fucking|fucked|fucker|motherfucker|shit|shitty|bullshit|crap|crappy|damn|goddamn|"
    "ass|asshole|arsehole|bastard|bitch|bitches|dick|dickhead|piss|pissed|prick|wanker|bollocks|"
    "douche|douchebag|jackass|screw you|wtf|stfu",
)
_add(
    "insult",
    0.5,
    "idiot|idiots|idiotic|moron|morons|moronic|imbecile|stupid|dumb|dumbass|dumber|retard|retarded|"
    "loser|losers|pathetic|worthless|useless piece of|incompetent|clown|buffoon|halfwit|dimwit|"
    "nitwit|numbskull|cretin|scumbag|scum|lowlife|trash human|piece of garbage|piece of shit|"
    "ignoramus|brainless|braindead|brain dead|clueless idiot|jerk|twat|cunt",
)
_add(
    "harassment",
    0.55,
    "shut up|shut the fuck up|nobody likes you|no one likes you|no one cares about you|"
    "you are worthless|you're worthless|you are pathetic|you're pathetic|you are disgusting|"
    "you're disgusting|go to hell|go die|drop dead|get lost loser|you should be ashamed|"
    "waste of space|waste of oxygen|kys",
)
_add(
    "threat",
    0.9,
    "i will kill you|i'll kill you|i am going to kill you|i'm going to kill you|gonna kill you|"
    "kill yourself|go kill yourself|i will hurt you|i'll hurt you|i'm going to hurt you|"
    "i will find you|i know where you live|you will regret this|you'll pay for this|"
    "i will destroy you|i'll beat you up|i will beat you|watch your back|you deserve to die|"
    "hope you die|i hope you die|i'll make you suffer|i will make you suffer",
)

_TARGETED = re.compile(
    r"\b(?:you(?:'re|\s+are|\s+r)?|ur|u\s+r|you\s+stupid|you\s+absolute|you\s+complete|what\s+an?)\s+"
    r"(?:an?\s+)?(?:\w+\s+)?(?:idiot|moron|imbecile|stupid|dumb|dumbass|retard|loser|pathetic|worthless|useless|"
    r"incompetent|clown|jerk|cretin|scumbag|disgusting|trash|garbage|joke)\b"
)
_TARGETED_WEIGHT = 0.5

_LEET = str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s", "!": "i"})
_LEET_SEED = re.compile(r"[0134579@$!](?:(?=[a-z])|(?<=[a-z].))")
_TOKEN_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789@$!")
_REPEAT = re.compile(r"([a-z])\1+")

_regex: re.Pattern | None = None
_by_key: dict[str, str] = {}


def _key(s: str) -> str:
    """Lookup key of a matched span: single spaces, runs of a letter collapsed to one."""
    return _REPEAT.sub(r"\1", re.sub(r"\s+", " ", s))


def _trie_regex(words: list[str]) -> str:
    trie: dict = {}
    for w in words:
        node = trie
        for ch in w:
            node = node.setdefault(ch, {})
        node[""] = {}

    def build(node: dict) -> str:
        end = "" in node
        alts = []
        for ch, child in sorted(node.items()):
            if ch == "":
                continue
            atom = r"\s+" if ch == " " else re.escape(ch)  # a space is any whitespace run
            alts.append(atom + build(child))
        if not alts:
            return ""
        body = alts[0] if len(alts) == 1 else "(?:" + "|".join(alts) + ")"
        return "(?:" + body + ")?" if end else body

    return build(trie)


_first_words: frozenset = frozenset()
_first_max = 0  # the longest of _first_words
_WORD_TABLE = bytes(c if (97 <= c <= 122 or c == 39) else 32 for c in range(256))


def _compiled() -> re.Pattern:
    global _regex, _by_key, _first_words, _first_max
    if _regex is None:
        _by_key = {_key(t): t for t in LEXICON}
        _first_words = frozenset(max(t.split(), key=len).encode() for t in LEXICON)
        _first_max = max(map(len, _first_words), default=0)
        _regex = re.compile(r"(?<![a-z0-9'])" + _trie_regex(sorted(LEXICON)) + r"(?![a-z0-9])")
    return _regex


def register_terms(terms: list[str] | tuple[str, ...], category: str = "insult", weight: float = 0.5) -> None:
    """Add deployment-specific terms (lower-case, spaces between words) to the lexicon."""
    global _regex
    for t in terms:
        LEXICON[" ".join(t.lower().split())] = (category, weight)
    _regex = None


def _normalise(text: str) -> str:
    low = text.lower()
    if "\u2019" in low:
        low = low.replace("\u2019", "'")
    if any(c in low for c in "0134579@$!"):
        spans = []
        last = -1
        n = len(low)
        for m in _LEET_SEED.finditer(low):
            i = m.start()
            if i < last:
                continue
            a = i
            while a > 0 and low[a - 1] in _TOKEN_CHARS:
                a -= 1
            b = i + 1
            while b < n and low[b] in _TOKEN_CHARS:
                b += 1
            last = b
            tok = low[a:b]
            if sum(c.isalpha() for c in tok) >= 2:
                spans.append((a, b, tok.translate(_LEET)))
        if spans:
            parts, pos = [], 0
            for a, b, rep in spans:
                parts.append(low[pos:a])
                parts.append(rep)
                pos = b
            parts.append(low[pos:])
            low = "".join(parts)
    return low


def toxicity(text: str) -> tuple[float, list[str]]:
    """(score 0..1, matched lexicon terms)."""
    if not text:
        return 0.0, []
    norm = _normalise(text)
    terms: list[str] = []
    weights: dict[str, float] = {}
    rx = _compiled()
    # gate: the regex runs only if some entry's longest word is a word of the text
    data = norm.encode("utf-8", "surrogatepass")
    if _words_in is not None:  # the same test in C, without a list of every word
        if not _words_in(data, _WORD_TABLE, _first_words, _first_max, True):
            return 0.0, []
    elif _first_words.isdisjoint(data.translate(_WORD_TABLE).split()):
        return 0.0, []
    for m in rx.finditer(norm):
        span = m.group(0)
        t = span if span in LEXICON else _by_key.get(_key(span), " ".join(span.split()))
        if t not in weights:
            weights[t] = LEXICON.get(t, ("", 0.0))[1]
            terms.append(t)
    if terms and _TARGETED.search(norm):
        weights["<targeted insult>"] = _TARGETED_WEIGHT
    p = 1.0
    for w in weights.values():
        p *= 1.0 - w
    return round(1.0 - p, 6), terms
