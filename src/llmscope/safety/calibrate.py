"""``llmscope scan calibrate``: choose the injection threshold on your own labelled traffic.

    >>> rep = calibrate(rows, location="input", target_fpr=0.01)       # rows: [{"text", "label"}, ...]
    >>> rep.threshold, rep.table[0]
    >>> write_threshold("llmscope.toml", rep)                           # [scan.injection] threshold = ...

Every text is scored once with :func:`llmscope.safety.injection.detect` (rules + classifier, the same
score ``llmscope scan`` thresholds); the report gives precision, recall and false-positive rate at each
candidate threshold, and the chosen one: the lowest threshold whose false-positive rate on the file's
benign rows (label 0) is at most ``target_fpr``. Users' traffic differs from any training set, which
is why this exists: a few hundred labelled rows of your own move the threshold to where your benign
text sits.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from .injection import detect

__all__ = ["CalibrationReport", "calibrate", "load_labels", "write_threshold"]

GRID = (0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99)


@dataclass
class CalibrationReport:
    location: str
    target_fpr: float
    threshold: float
    n_pos: int
    n_neg: int
    table: list[dict] = field(default_factory=list)  # threshold, precision, recall, fpr, tp, fp, fn, tn
    chosen: dict = field(default_factory=dict)


def load_labels(path: str | Path) -> list[dict]:
    """JSONL with ``text`` and ``label`` (1/0, or true/false) per line; blank lines skipped. ValueError
    names the line of a malformed row."""
    rows = []
    for i, line in enumerate(Path(path).read_text(encoding="utf-8").split("\n"), 1):
        if not line.strip():
            continue
        try:
            r = json.loads(line)
        except ValueError as e:
            raise ValueError(f"{path}:{i}: not JSON ({e})") from None
        if not isinstance(r, dict) or not isinstance(r.get("text"), str) or "label" not in r:
            raise ValueError(f"{path}:{i}: each line needs a string 'text' and a 'label'")
        lab = r["label"]
        if isinstance(lab, str):
            lab = lab.strip().lower() in ("1", "true", "injection", "yes")
        rows.append({"text": r["text"], "label": int(bool(lab))})
    if not rows:
        raise ValueError(f"{path}: no labelled rows")
    return rows


def _counts(scores: list[float], labels: list[int], t: float) -> dict:
    tp = sum(1 for s, y in zip(scores, labels) if y and s >= t)
    fp = sum(1 for s, y in zip(scores, labels) if not y and s >= t)
    fn = sum(labels) - tp
    tn = len(labels) - sum(labels) - fp
    return {
        "threshold": round(t, 6),
        "precision": round(tp / (tp + fp), 4) if tp + fp else None,
        "recall": round(tp / (tp + fn), 4) if tp + fn else None,
        "fpr": round(fp / (fp + tn), 4) if fp + tn else None,
        "tp": tp,
        "fp": fp,
        "fn": fn,
        "tn": tn,
    }


def calibrate(rows: list[dict], location: str = "input", target_fpr: float = 0.01) -> CalibrationReport:
    """Score ``rows`` and pick the lowest threshold with FPR <= ``target_fpr`` on their benign rows."""
    if location not in ("input", "document"):
        raise ValueError("location must be 'input' (user text) or 'document' (retrieved documents, tool output)")
    if not 0.0 <= target_fpr < 1.0:
        raise ValueError("target FPR must be in [0, 1)")
    scores = [detect(r["text"], location=location).score for r in rows]
    labels = [r["label"] for r in rows]
    neg = sorted((s for s, y in zip(scores, labels) if not y), reverse=True)
    allowed = int(target_fpr * len(neg))  # benign rows that may score at or above the threshold
    if not neg:
        chosen = 0.5
    else:
        chosen = neg[allowed] + 1e-6 if allowed < len(neg) else 1e-6
        chosen = round(min(max(chosen, 1e-6), 1.0), 6)
    grid = sorted(set(GRID) | {chosen})
    rep = CalibrationReport(location, target_fpr, chosen, sum(labels), len(labels) - sum(labels))
    rep.table = [_counts(scores, labels, t) for t in grid]
    rep.chosen = _counts(scores, labels, chosen)
    return rep


_KEY = {"input": "threshold", "document": "document_threshold"}


def write_threshold(config: str | Path, rep: CalibrationReport) -> Path:
    """Set ``[scan.injection] threshold`` (or ``document_threshold``) in the TOML file, keeping the
    rest of it as written; the section and the file are created when missing."""
    path = Path(config)
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    key = _KEY[rep.location]
    line = f"{key} = {rep.threshold}  # llmscope scan calibrate: FPR <= {rep.target_fpr} on {rep.n_neg} benign rows"
    lines = text.split("\n")
    start = next((i for i, x in enumerate(lines) if x.strip() == "[scan.injection]"), None)
    if start is None:
        if text and not text.endswith("\n"):
            text += "\n"
        text += ("\n" if text.strip() else "") + "[scan.injection]\n" + line + "\n"
    else:
        end = next((i for i in range(start + 1, len(lines)) if lines[i].lstrip().startswith("[")), len(lines))
        rx = re.compile(rf"^\s*{key}\s*=")
        at = next((i for i in range(start + 1, end) if rx.match(lines[i])), None)
        if at is None:
            lines.insert(start + 1, line)
        else:
            lines[at] = line
        text = "\n".join(lines)
    path.write_text(text, encoding="utf-8")
    return path
