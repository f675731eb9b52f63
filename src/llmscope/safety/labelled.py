"""Scoring the detectors against a labelled set (used by the tests and benchmarks/detectors.py)."""

from __future__ import annotations

from collections import Counter

from .pii import KINDS, find_pii


def pii_scores(rows: list[dict]) -> dict[str, tuple[int, int, int]]:
    """kind -> (tp, fp, fn), matching on (kind, value) multisets per text.

    ``rows``: ``{"text": ..., "pii": [{"kind": ..., "value": ...}, ...]}`` as in
    tests/fixtures/safety/pii_labelled.jsonl."""
    tp: Counter = Counter()
    fp: Counter = Counter()
    fn: Counter = Counter()
    for r in rows:
        got = Counter((m.kind, m.value) for m in find_pii(r["text"]))
        exp = Counter((p["kind"], p["value"]) for p in r["pii"])
        for (k, _), c in (got & exp).items():
            tp[k] += c
        for (k, _), c in (got - exp).items():
            fp[k] += c
        for (k, _), c in (exp - got).items():
            fn[k] += c
    return {k: (tp[k], fp[k], fn[k]) for k in KINDS}
