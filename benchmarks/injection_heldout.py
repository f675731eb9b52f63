"""Prompt injection on held-out labelled data: recall and FPR per source and kind, rules + classifier and rules alone.

    python benchmarks/injection_heldout.py DIR [--model PATH ...] [--json OUT]

``DIR`` holds JSONL files of ``{"text", "label": 1|0, "kind", "source"}`` (kind ``direct`` | ``indirect`` |
``benign`` | ``hard_negative`` | ``benign_document``). Documents (``indirect``, ``benign_document``) are scored as
retrieved documents (the document head), the rest as user input. Each ``--model`` file is measured in the same run
(default: the shipped model), so an old and a new model can be compared side by side. Keep third-party held-out data
out of this repository; point DIR at it.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "src"))

from llmscope.safety import classifier, injection  # noqa: E402

DOC_KINDS = ("indirect", "benign_document")
POS_KINDS = ("direct", "indirect")


def load_dir(d: Path) -> list[dict]:
    rows = []
    for p in sorted(d.glob("*.jsonl")):
        for i, line in enumerate(p.read_text(encoding="utf-8").split("\n"), 1):
            if line.strip():
                try:
                    r = json.loads(line)
                except json.JSONDecodeError as e:
                    raise SystemExit(f"{p}:{i}: not JSON ({e.msg})") from None
                r.setdefault("kind", "direct" if r.get("label") else "benign")
                r.setdefault("source", p.stem)
                rows.append(r)
    return rows


def _use_model(path: str | None) -> None:
    """Make detect() use the model file at ``path`` (None: the shipped one)."""
    classifier.load_all.cache_clear()
    if path:
        heads = classifier.load_all(path)
        classifier.load = lambda head="direct", path=None, _h=heads: _h[head]  # type: ignore[assignment]
    else:
        classifier.load = _ORIG_LOAD  # type: ignore[assignment]


_ORIG_LOAD = classifier.load


def measure(rows: list[dict], use_model: bool) -> dict:
    agg: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    t0 = time.perf_counter()
    for r in rows:
        loc = "document" if r["kind"] in DOC_KINDS else "input"
        flagged = injection.detect(r["text"], location=loc, use_model=use_model).flagged
        src = r["source"].split(":")[0]
        for key in ((r["kind"], "all"), (r["kind"], src)):
            agg[key][0] += flagged
            agg[key][1] += 1
    dt = time.perf_counter() - t0
    return {"cells": {f"{k}|{s}": v for (k, s), v in agg.items()}, "seconds": dt}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("dir", type=Path)
    ap.add_argument("--model", action="append", default=[], help="model file(s) to compare (default: shipped)")
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args()
    if not args.dir.is_dir():
        raise SystemExit(f"{args.dir}: not a directory")
    rows = load_dir(args.dir)
    models = args.model or [None]
    results = {"rules": measure(rows, use_model=False)}
    for m in models:
        _use_model(m)
        results[m or "shipped"] = measure(rows, use_model=True)
    _use_model(None)
    names = list(results)
    keys = sorted(
        {k for r in results.values() for k in r["cells"]},
        key=lambda k: (k.split("|")[0] not in POS_KINDS, k.split("|")[0], k.split("|")[1] != "all", k),
    )
    short = [Path(n).name[:18] for n in names]
    print(f"{len(rows)} texts from {args.dir}  (recall for direct/indirect, FPR otherwise)")
    print(f"  {'kind':<16} {'source':<26} {'n':>5} " + " ".join(f"{s:>18}" for s in short))
    for k in keys:
        kind, src = k.split("|")
        n = results[names[0]]["cells"][k][1]
        vals = " ".join(f"{results[nm]['cells'][k][0] / n:>18.3f}" for nm in names)
        print(f"  {kind if src == 'all' else '':<16} {src:<26} {n:>5} {vals}")
    print("  texts/s " + " ".join(f"{len(rows) / results[nm]['seconds']:>18,.0f}" for nm in names))
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
