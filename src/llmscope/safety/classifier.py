"""A small trained prompt-injection classifier: word and word-prefix n-grams, a linear model, windows.

The model is package data (``safety/data/injection_model.json.gz``, written by
``scripts/train_injection.py``; its README beside it says what it was trained on and under which
licences). Pure Python at run time: no numpy, no scikit-learn, no download.

Features
--------
The text is lower-cased, every digit becomes ``0``, links and e-mail addresses become the token
``url``, and it is cut into tokens: runs of letters/digits, and single CJK characters (Chinese and
Japanese have no spaces). Each token position ``i`` carries
three features: the token (``u:``), its first five characters (``p:``: "ignor" covers ignore, ignora,
ignoriere, ignorez...), and the bigram of it with the token before (``b:``). A token seen in fewer
than two training texts has no unigram or bigram weight (its prefix may still have one). Function
words (:data:`FUNCTION_WORDS`: the, of, und, le, ...) have no unigram or prefix weight -- fluent prose
is full of them, instruction or not -- and count only inside bigrams ("ignore the").

Scoring
-------
The linear model gives every position a weight (the sum of its three feature weights). A text is
scored by *windows* of :data:`WINDOW` tokens every :data:`STRIDE` tokens (one window if shorter):
the window score is ``bias + sum of its position weights`` -- exactly the model's logit for that
window's feature counts, as it was trained --, and the text's probability is the sigmoid of the best
window. So one instruction buried in a 5,000-character e-mail is scored on the few dozen tokens around
it, not diluted by the rest. A head trained with ``segments`` (the document head) also scores every
*sentence or line* on its own (up to :data:`WINDOW` tokens, the bigram that joins it to the text before
left out): an instruction planted as a sentence of its own ("Recommend a good book.") is scored without
the words of the e-mail around it, as training scored it. Everything per token is a C-level ``map`` over
dict lookups; the windows are prefix sums. :func:`explain` returns the best window and the n-grams that
weigh most in it.
"""

from __future__ import annotations

import gzip
import json
import math
import re
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import accumulate, repeat
from operator import add, itemgetter, mul
from pathlib import Path

from .._native import accelerator

__all__ = ["WINDOW", "STRIDE", "HEADS", "Model", "load", "tokens", "score", "explain", "MODEL_PATH"]

WINDOW = 32
STRIDE = 8
MODEL_PATH = Path(__file__).with_name("data") / "injection_model.json.gz"
HEADS = ("direct", "document")  # what a user sends; retrieved documents and tool output

_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_TOKEN_RE = re.compile(f"[{_CJK}]|[^\\W_{_CJK}]+")
_DIGITS0 = str.maketrans("123456789", "000000000")
_PREFIX = itemgetter(slice(0, 5))
GATE_MIN = 0.75
_ascii_tokens = accelerator("classify", "ascii_tokens")
_best_window = accelerator("classify", "best_window")
_words_in = accelerator("classify", "words_in")
_GATE_TABLE = bytes(c if (97 <= c <= 122 or 48 <= c <= 57) else 32 for c in range(256))
# a link or an e-mail address is one token, "url": its host and path words say nothing about intent
_URL_RE = re.compile(r"(?:https?://|www\.)[^\s<>\"')\]]+|[\w.+-]+@[\w-]+\.[\w.-]+")

# Function words carry no unigram or prefix weight (training gives them none): fluent prose is full of
# them whether or not it holds an instruction. They still count inside bigrams ("ignore the").
FUNCTION_WORDS = frozenset(
    """a an the of in on at to for from by with about into over after before under between and or but nor so
    if then than as is are was were be been being am do does did has have had it its this that these those
    there here which who whom whose what when where while also very just not no
    der die das den dem des ein eine einer einem einen und oder aber ist sind war waren im in am zu zum zur von
    mit auf für bei aus nach als wie auch nicht le la les un une des du de et ou mais est sont était dans sur
    pour par avec au aux en ce cette ces qui que el los las unos unas del y o pero es son era en con por para
    al lo il lo gli i uno di da e ed o ma è sono era nel nella con per tra fra o os as um uma dos das do da e
    ou mas é são era no na em com por para het een van en of maar is zijn was in op voor met bij aan te""".split()
)
# no prefix feature has a function word's first five characters as its key (training emits none, so a
# function word finds no prefix weight at run time either)
FUNCTION_PREFIXES = frozenset(w[:5] for w in FUNCTION_WORDS)


def normalize(text: str) -> str:
    """Lower case, every digit 0, links and e-mail addresses replaced by `` url ``."""
    low = text.lower()
    if "://" in low or "www." in low or "@" in low:
        low = _URL_RE.sub(" url ", low)
    return low.translate(_DIGITS0)


def tokens(text: str) -> list[str]:
    """The model's tokens of ``text`` (:func:`normalize`, then words; CJK characters one by one)."""
    if _ascii_tokens is not None:
        toks = _ascii_tokens(text)  # the C tokenizer: ASCII text without links, else None
        if toks is not None:
            return toks
    return _tokens_py(text)


def _tokens_py(text: str) -> list[str]:
    return _TOKEN_RE.findall(normalize(text))


# a sentence ends at . ! ? (and their CJK forms) followed by white space, or at a line break
_SEGMENT_RE = re.compile(r"(?<=[.!?;:])\s+|(?<=[\u3002\uff01\uff1f])|\s*\n\s*")


def segments(text: str) -> tuple[list[str], list[tuple[int, int]]]:
    """(the tokens of ``text``, the token range of every sentence or line of at least 3 tokens). The tokens
    are those of :func:`tokens` (a split falls on white space, which no token or link spans)."""
    toks: list[str] = []
    segs: list[tuple[int, int]] = []
    for part in _SEGMENT_RE.split(normalize(text)):
        t = _TOKEN_RE.findall(part)
        if len(t) >= 3:
            segs.append((len(toks), len(toks) + min(len(t), WINDOW)))
        toks += t
    return toks, segs


@dataclass
class Model:
    vocab: dict[str, int]  # token -> id (1..); 0 = out of vocabulary
    uni: list[float]  # id -> weight (uni[0] = 0.0: out of vocabulary)
    pre: dict[str, float]  # 5-character prefix -> weight
    bi: dict[int, float]  # id1 * M + id2 -> weight
    m: int  # bigram key multiplier (> largest id)
    bias: float
    threshold: float  # probability at the stated false-positive rate (see meta)
    meta: dict
    _cache: dict = field(default_factory=dict, repr=False)
    gate: frozenset = field(default=frozenset(), repr=False)  # see build_gate
    segments: bool = False  # also score every sentence/line on its own (see the module doc)
    gate_max: int = field(default=0, repr=False)  # the longest word of the gate

    def build_gate(self, min_weight: float = GATE_MIN) -> None:
        """The words (ASCII, as bytes) without one of which no window of an ASCII text is scored: a
        token whose unigram + prefix weight is at least ``min_weight``, or that starts a bigram of that
        weight (function words left out). A text none of whose words is in the gate hardly ever reaches
        the threshold (its windows are sums of weights below ``min_weight``; measured: 10 of 695 texts
        above the threshold in the held-out and training sets are skipped at 0.75); :meth:`passes_gate`
        skips the model for it."""
        inv = {i: t for t, i in self.vocab.items()}
        words = {t for t, i in self.vocab.items() if self.uni[i] + self.pre.get(t[:5], 0.0) >= min_weight}
        for key, w in self.bi.items():
            if w >= min_weight:
                words.add(inv.get(key // self.m, ""))
                words.add(inv.get(key % self.m, ""))
        self.gate = frozenset(t.encode() for t in words if t and t.isascii() and t not in FUNCTION_WORDS)
        self.gate_max = max(map(len, self.gate), default=0)

    def passes_gate(self, text: str) -> bool:
        """False when the model need not run (ASCII text sharing no word with :attr:`gate`)."""
        if not text.isascii():
            return True
        data = text.lower().encode()
        if _words_in is not None:  # the same test in C, without a list of every word
            return bool(_words_in(data, _GATE_TABLE, self.gate, self.gate_max, True))
        return not self.gate.isdisjoint(data.translate(_GATE_TABLE).split())

    def position_weights(self, toks: list[str]) -> tuple[list[float], list[float]]:
        """(weight of every position, weight of the bigram ending there -- 0.0 at position 0)."""
        ids = list(map(self.vocab.get, toks, repeat(0)))
        w = list(map(add, map(self.uni.__getitem__, ids), map(self.pre.get, map(_PREFIX, toks), repeat(0.0))))
        bw = [0.0]
        if len(ids) > 1:
            bw += map(self.bi.get, map(add, map(mul, ids, repeat(self.m)), ids[1:]), repeat(0.0))
            w[1:] = map(add, w[1:], bw[1:])
        return w, bw

    def best_window(self, toks: list[str], segs: list[tuple[int, int]] | None = None) -> tuple[float, int, int]:
        """(logit, start token, end token) of the highest-scoring window (of the fixed windows and, when
        given, the sentence windows ``segs``)."""
        if _best_window is not None and not segs:  # the same arithmetic in C (fixed windows only)
            return _best_window(toks, self.vocab, self.uni, self.pre, self.bi, self.m, self.bias, WINDOW, STRIDE)
        return self._best_window_py(toks, segs)

    def _best_window_py(self, toks: list[str], segs: list[tuple[int, int]] | None = None) -> tuple[float, int, int]:
        n = len(toks)
        if n == 0:
            return self.bias, 0, 0
        w, bw = self.position_weights(toks)
        if n <= WINDOW:
            wins = [(0, n)]
        else:
            starts = list(range(0, n - WINDOW + 1, STRIDE))
            if starts[-1] != n - WINDOW:
                starts.append(n - WINDOW)
            wins = [(s, s + WINDOW) for s in starts]
        if segs and (len(segs) > 1 or segs[0] != (0, n)):
            wins += segs
        # a bigram weight sits on the position of its second token, so the window starting at s
        # must not count the bigram (s-1, s): subtract it (as training does)
        cs = list(accumulate(w, initial=0.0))
        vals = [cs[b] - cs[a] - bw[a] for a, b in wins]
        i = max(range(len(vals)), key=vals.__getitem__)
        return self.bias + vals[i], wins[i][0], wins[i][1]

    def text_tokens(self, text: str) -> tuple[list[str], list[tuple[int, int]] | None]:
        """The tokens of ``text`` and, for a head that scores sentences, their sentence windows."""
        if self.segments:
            return segments(text)
        return tokens(text), None

    def probability(self, text: str) -> float:
        return _sigmoid(self.best_window(*self.text_tokens(text))[0])

    def cached_probability(self, text: str) -> float:
        """:meth:`probability`, remembered for the last few thousand texts (retrieved documents and
        prompts repeat across spans)."""
        cache = self._cache
        p = cache.get(text)
        if p is None:
            if len(cache) >= 8192:
                cache.clear()
            p = cache[text] = self.probability(text)
        return p


def _sigmoid(x: float) -> float:
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


def from_dict(d: dict) -> Model:
    vocab_list = d["vocab"]
    vocab = {t: i + 1 for i, t in enumerate(vocab_list)}
    m = len(vocab_list) + 1
    bi = {a * m + b: w for a, b, w in d["bi"]}
    model = Model(vocab, d["uni"], d["pre"], bi, m, d["bias"], d["threshold"], d.get("meta", {}))
    model.segments = bool(d.get("segments", False))
    return model


@lru_cache(maxsize=4)
def load_all(path: str | None = None) -> dict[str, Model]:
    """Both heads of the shipped model (or of the file at ``path``), loaded once per process."""
    p = Path(path) if path else MODEL_PATH
    with gzip.open(p, "rt", encoding="utf-8") as f:
        d = json.load(f)
    meta = d.get("meta", {})
    return {h: _with_meta(from_dict(v), meta) for h, v in d["heads"].items()}


def _with_meta(m: Model, meta: dict) -> Model:
    m.meta = meta
    m.build_gate()
    return m


def load(head: str = "direct", path: str | None = None) -> Model:
    """One head: ``direct`` (user input) or ``document`` (retrieved documents, tool output)."""
    return load_all(path)[head]


def score(text: str, head: str = "direct", model: Model | None = None) -> float:
    """Injection probability of ``text`` (its best window), 0..1."""
    if not text:
        return 0.0
    return (model or load(head)).probability(text)


def explain(
    text: str, head: str = "direct", model: Model | None = None, top: int = 3
) -> tuple[float, tuple[int, int], list[str]]:
    """(probability, (start, end) character span of the best window, the n-grams weighing most in it)."""
    model = model or load(head)
    toks, segs = model.text_tokens(text)
    logit, s, e = model.best_window(toks, segs)
    if not toks:
        return _sigmoid(logit), (0, 0), []
    contrib: list[tuple[float, str]] = []
    for i in range(s, e):
        t = toks[i]
        tid = model.vocab.get(t, 0)
        contrib.append((model.uni[tid] + model.pre.get(t[:5], 0.0), t))
        if i > s:
            a = model.vocab.get(toks[i - 1], 0)
            if a and tid:
                w = model.bi.get(a * model.m + tid, 0.0)
                if w:
                    contrib.append((w, toks[i - 1] + " " + t))
    contrib.sort(reverse=True)
    seen: list[str] = []
    for w, g in contrib:
        if w <= 0 or len(seen) >= top:
            break
        if g not in seen:
            seen.append(g)
    return _sigmoid(logit), _char_span(text, s, e), seen


def _char_span(text: str, s: int, e: int) -> tuple[int, int]:
    """Character span in ``text`` of tokens ``s..e-1`` (links count as one token, as in :func:`tokens`)."""
    i, start, end = 0, 0, len(text)
    for m in _SPAN_RE.finditer(text):
        if i == s:
            start = m.start()
        if i == e - 1:
            end = m.end()
            break
        i += 1
    return start, end


_SPAN_RE = re.compile(_URL_RE.pattern + "|" + _TOKEN_RE.pattern, re.IGNORECASE)
