"""``_native/classify.c`` (the injection classifier's tokenizer and best window) against the Python
code it stands in for: the same tokens, and the same (logit, start, end) -- the same doubles, not
close ones -- on every labelled safety text, the bundled samples' texts and thousands of mutated ones,
with both heads."""

from __future__ import annotations

import json
import os
import random
from pathlib import Path

import pytest

from llmscope._native import accelerator
from llmscope.safety import classifier as C

ROOT = Path(__file__).resolve().parent.parent
REQUIRED = os.environ.get("LLMSCOPE_REQUIRE_NATIVE", "") not in ("", "0")
if accelerator("classify", "best_window") is None and REQUIRED:
    pytest.fail("LLMSCOPE_REQUIRE_NATIVE=1 but the classify accelerator was not built", pytrace=False)
pytestmark = pytest.mark.skipif(
    accelerator("classify", "best_window") is None, reason="the C accelerator was not built (no compiler)"
)


def _texts() -> list[str]:
    out: list[str] = []
    for f in sorted((ROOT / "tests" / "fixtures" / "safety").glob("*.jsonl")):
        for line in f.read_text(encoding="utf-8").splitlines():
            if line.strip():
                d = json.loads(line)
                out += [d[k] for k in ("text", "context", "answer") if isinstance(d.get(k), str)]
    for f in sorted((ROOT / "sample_traces").glob("*.jsonl")):
        for line in f.read_text(encoding="utf-8").splitlines():
            for s in _strings(json.loads(line)) if line.strip() else ():
                out.append(s)
    rng = random.Random(16)
    alphabet = "abcXYZ0189 _-.:/@wW\n\t'\"é中ßİ\u200b"
    base = list(out)
    for _ in range(3000):
        out.append("".join(rng.choice(alphabet) for _ in range(rng.randint(0, 90))))
        t = rng.choice(base)
        i = rng.randint(0, len(t))
        out.append(t[:i] + rng.choice(["://", "www.", "WwW.", "@", "é", " 42 ", "İ", "\x00", "a" * 300]) + t[i:])
    return out


def _strings(v):
    if isinstance(v, str):
        if len(v) > 3:
            yield v
    elif isinstance(v, dict):
        for x in v.values():
            yield from _strings(x)
    elif isinstance(v, list):
        for x in v:
            yield from _strings(x)


TEXTS = _texts()


def test_c_tokens_equal_python_tokens_whenever_c_accepts_the_text():
    accepted = 0
    for t in TEXTS:
        toks = C._ascii_tokens(t)
        if toks is not None:
            accepted += 1
            assert toks == C._tokens_py(t), t[:200]
        else:  # handed back: not ASCII, or a link the Python normalizer replaces
            assert not t.isascii() or "://" in t or "www." in t.lower() or "@" in t
    assert accepted > len(TEXTS) // 3


@pytest.mark.parametrize("head", C.HEADS)
def test_c_best_window_is_the_python_one_to_the_bit(head):
    model = C.load(head)
    rng = random.Random(head)
    for t in TEXTS:
        toks = C._tokens_py(t)
        for part in (toks, toks[: rng.randint(0, 40)], toks[rng.randint(0, 8) :]):
            assert model.best_window(part) == model._best_window_py(part), t[:200]


def test_window_edges_and_bad_arguments():
    model = C.load("direct")
    for n in (0, 1, C.WINDOW - 1, C.WINDOW, C.WINDOW + 1, C.WINDOW + C.STRIDE, C.WINDOW + C.STRIDE + 3, 200):
        toks = (["ignore", "previous", "instructions", "zzqx", "the"] * 60)[:n]
        assert model.best_window(toks) == model._best_window_py(toks)
    native = accelerator("classify", "best_window")
    with pytest.raises(TypeError):
        native([b"bytes"], model.vocab, model.uni, model.pre, model.bi, model.m, model.bias, C.WINDOW, C.STRIDE)
    with pytest.raises(ValueError):
        native(["a"], model.vocab, model.uni, model.pre, model.bi, model.m, model.bias, 0, C.STRIDE)
    with pytest.raises(TypeError):
        accelerator("classify", "ascii_tokens")(b"bytes")


def test_words_in_is_the_intersection_of_the_split_words():
    from llmscope.safety import injection, toxicity

    toxicity._compiled()
    words_in = accelerator("classify", "words_in")
    gates = [
        (injection._WORD_TABLE, injection._GATE_WORDS),
        (C._GATE_TABLE, C.load("direct").gate),
        (C._GATE_TABLE, C.load("document").gate),
        (toxicity._WORD_TABLE, toxicity._first_words),
        (bytes(range(256)), frozenset({b"a", b"\xc3\xa9t\xc3\xa9", b"x" * 300})),  # split on whitespace only
    ]
    for t in TEXTS + ["a été", "x" * 300 + " b", "\t\x0b\x0c\r\n a \x1c"]:
        data = t.lower().encode("utf-8", "surrogatepass")
        for table, words in gates:
            want = words.intersection(data.translate(table).split())
            longest = max(map(len, words))
            assert words_in(data, table, words, longest, False) == want, t[:200]
            assert bool(words_in(data, table, words, longest, True)) == bool(want)
    with pytest.raises(ValueError):
        words_in(b"a", b"short", frozenset(), 1, False)
