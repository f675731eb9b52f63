"""Speed of the offline (builtin) scorers, single process, in µs per span.

    python benchmarks/offline_scorers.py [--spans 5000] [--seed 1] [--processes 2]

Target: 100,000 spans (answers ~100-300 words, contexts ~1-3 KB) scored in under 60 s on 2 cores,
i.e. <= 1,200 µs per span per process for everything ``score_span`` does.

1. generates N synthetic RAG calls deterministically (``random.Random(seed)``): a context of 1-3 KB
   made of 8-24 sentences over a Zipf-distributed vocabulary of pseudo-words, numbers and English
   function words; an answer of ~100-300 words built from context sentences (some reworded with
   inflections or synonyms), invented sentences, a few refusals, list items and a closing pleasantry;
   a reference answer of ~30-150 words overlapping the answer; and, for the JSON check, a small
   JSON object per span (10% of them invalid);
2. times each public scorer over all spans (each call tokenises its own inputs, as a caller using one
   metric would), then ``score_span`` with a context, a length+patterns rule set and a reference: the
   full builtin run of one span;
3. prints µs/span per metric and in total, and projects 100k spans on 1 and 2 processes (the scorers
   are pure CPU and share nothing, so 2 processes ~ half). ``--processes 2`` also measures it with a
   ``multiprocessing`` pool.
"""

from __future__ import annotations

import argparse
import itertools
import json
import multiprocessing as mp
import os
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from llmscope.evals import offline as O  # noqa: E402

TARGET_SPANS = 100_000
TARGET_S = 60.0

FUNCTION_WORDS = (
    "the a an of to in and is are was for on with by as at from that this it be has have "
    "which or not can will its their also after before during per than"
).split()
SYLLABLES = (
    "ka lo mi ra ten vor pel dun sha bri cor mat ev ion ul tra nex gal fin po ser vik "
    "lan tor dre qua zen hol bar mus ter ock"
).split()
SUFFIXES = ("", "", "", "s", "ed", "ing", "ly", "ion", "es")
REFUSALS = ("I don't know.", "I'm sorry, I can't help with that.", "The context does not mention the exact figure.")
CLOSINGS = ("Hope this helps!", "Let me know if you need anything else.", "Would you like more details?", "")


def _vocab(rng: random.Random, size: int = 6000) -> list[str]:
    words = set()
    while len(words) < size:
        words.add("".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4))))
    return sorted(words)


class Gen:
    def __init__(self, seed: int):
        self.rng = random.Random(seed)
        self.vocab = _vocab(self.rng)
        # Zipf-ish weights: a few topical words recur, a long tail is rare
        self.cum = list(itertools.accumulate(1.0 / (i + 1) ** 0.9 for i in range(len(self.vocab))))

    def word(self) -> str:
        r = self.rng
        if r.random() < 0.42:
            return r.choice(FUNCTION_WORDS)
        if r.random() < 0.04:
            return str(r.randint(1, 2030))
        return r.choices(self.vocab, cum_weights=self.cum)[0]

    def sentence(self, lo: int = 8, hi: int = 22) -> str:
        words = [self.word() for _ in range(self.rng.randint(lo, hi))]
        return words[0].capitalize() + " " + " ".join(words[1:]) + "."

    def reword(self, s: str) -> str:
        r = self.rng
        out = []
        for w in s.rstrip(".").split():
            x = r.random()
            if x < 0.10 and w.isalpha():
                w = w + r.choice(SUFFIXES)  # inflection
            elif x < 0.16:
                w = self.word()  # a synonym / invented word
            elif x < 0.19:
                continue  # dropped word
            out.append(w)
        return " ".join(out) + "."

    def span(self) -> dict:
        r = self.rng
        ctx_sents = []
        target = r.randint(1000, 3000)
        while sum(len(s) + 1 for s in ctx_sents) < target:
            ctx_sents.append(self.sentence())
        context = " ".join(ctx_sents)
        if r.random() < 0.03:
            answer = r.choice(REFUSALS)
        else:
            parts: list[str] = []
            n_words = r.randint(100, 300)
            while sum(len(p.split()) for p in parts) < n_words:
                x = r.random()
                if x < 0.55:
                    parts.append(self.reword(r.choice(ctx_sents)))
                elif x < 0.75:
                    parts.append(self.sentence())  # invented
                elif x < 0.9:
                    parts.append("\n- " + self.reword(r.choice(ctx_sents)))
                else:
                    parts.append(r.choice(ctx_sents))  # verbatim
            parts.append(r.choice(CLOSINGS))
            answer = " ".join(parts).strip()
        ref_words = answer.split()
        k = r.randint(30, 150)
        start = r.randint(0, max(0, len(ref_words) - k))
        reference = " ".join(self.word() if r.random() < 0.25 else w for w in ref_words[start : start + k])
        obj = {
            "intent": r.choice(["refund", "shipping", "other"]),
            "confidence": round(r.random(), 3),
            "order_id": str(r.randint(100000, 999999)),
            "items": [{"sku": self.word(), "qty": r.randint(1, 5)}],
        }
        js = json.dumps(obj)
        if r.random() < 0.1:
            js = js[:-1]  # truncated: invalid
        return {
            "input_text": self.sentence(6, 14).rstrip(".") + "?",
            "output_text": answer,
            "context": context,
            "reference": reference,
            "json": js,
        }


SCHEMA = {
    "type": "object",
    "required": ["intent", "confidence"],
    "additionalProperties": False,
    "properties": {
        "intent": {"enum": ["refund", "shipping", "other"]},
        "confidence": {"type": "number", "minimum": 0, "maximum": 1},
        "order_id": {"type": "string", "minLength": 6, "maxLength": 12},
        "items": {
            "type": "array",
            "items": {"type": "object", "required": ["sku"], "properties": {"qty": {"type": "integer", "minimum": 1}}},
        },
    },
}
CFG = O.OfflineConfig(
    min_chars=20,
    max_chars=4000,
    max_words=600,
    required_patterns=(r"\w",),
    prohibited_patterns=(r"(?i)as an ai language model", r"\b\d{3}-\d{2}-\d{4}\b"),
)
CFG_JSON = O.OfflineConfig(json_schema=SCHEMA)


def _timed(fn, spans) -> float:
    t0 = time.perf_counter()
    for s in spans:
        fn(s)
    return (time.perf_counter() - t0) / len(spans) * 1e6


def _full(s: dict):
    return O.score_span(s, CFG, s["reference"])


def _chunk_worker(chunk: list[dict]) -> int:
    return sum(len(_full(s)) for s in chunk)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--spans", type=int, default=5000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument(
        "--processes", type=int, default=0, help="also measure score_span with a pool of this many processes"
    )
    a = ap.parse_args()

    t0 = time.perf_counter()
    g = Gen(a.seed)
    spans = [g.span() for _ in range(a.spans)]
    gen_s = time.perf_counter() - t0
    aw = sum(len(s["output_text"].split()) for s in spans) / len(spans)
    cb = sum(len(s["context"].encode()) for s in spans) / len(spans)
    rw = sum(len(s["reference"].split()) for s in spans) / len(spans)
    print(
        f"{a.spans} synthetic spans in {gen_s:.1f}s: answers {aw:.0f} words, contexts {cb:.0f} bytes, "
        f"references {rw:.0f} words (seed {a.seed}); python {sys.version.split()[0]}, {os.cpu_count()} cpus"
    )

    # warm-up: fills the stemmer cache as a long run would
    for s in spans[:200]:
        _full(s)

    rows = [
        ("groundedness_lexical", lambda s: O.lexical_groundedness(s["output_text"], s["context"])),
        ("format: length", lambda s: O.check_length(s["output_text"], CFG)),
        ("format: patterns (3)", lambda s: O.check_patterns(s["output_text"], CFG)),
        ("format: json_schema", lambda s: O.check_json(s["json"], SCHEMA)),
        ("exact_match", lambda s: O.exact_match(s["output_text"], s["reference"])),
        ("token_f1", lambda s: O.token_f1(s["output_text"], s["reference"])),
        ("rouge_l", lambda s: O.rouge_l(s["output_text"], s["reference"])),
        ("bleu", lambda s: O.bleu(s["output_text"], s["reference"])),
    ]
    print(f"\n{'metric (public function, own tokenisation)':<44}{'µs/span':>10}")
    for name, fn in rows:
        print(f"{name:<44}{_timed(fn, spans):>10.1f}")

    full = _timed(_full, spans)
    ground_only = _timed(lambda s: O.score_span(s, O.OfflineConfig()), spans)
    json_only = _timed(lambda s: O.score_span({"output_text": s["json"]}, CFG_JSON), spans)
    print(f"\n{'score_span: groundedness only':<44}{ground_only:>10.1f}")
    print(f"{'score_span: format with json_schema only':<44}{json_only:>10.1f}")
    print(f"{'score_span TOTAL: context+length+patterns+ref':<44}{full:>10.1f}   (6 scores per span)")

    one = full * TARGET_SPANS / 1e6
    print(
        f"\nprojected for {TARGET_SPANS:,} spans: {one:.1f} s on 1 process, {one / 2:.1f} s on 2 processes "
        f"(target {TARGET_S:.0f} s on 2 cores: {'OK' if one / 2 <= TARGET_S else 'SLOW'})"
    )

    if a.processes > 1:
        n = a.processes
        chunks = [spans[i :: n * 8] for i in range(n * 8)]
        ctx = mp.get_context("fork" if sys.platform != "win32" else "spawn")
        t0 = time.perf_counter()
        with ctx.Pool(n) as pool:
            total = sum(pool.map(_chunk_worker, chunks))
        dt = time.perf_counter() - t0
        per = dt / len(spans) * 1e6
        print(
            f"measured with {n} processes (incl. pool start and pickling): {per:.1f} µs/span wall, "
            f"{per * TARGET_SPANS / 1e6:.1f} s per {TARGET_SPANS:,} spans ({total} scores)"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
