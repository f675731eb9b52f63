"""`llmscope scan`: run the safety detectors over spans not scanned yet and store the findings.

What becomes a finding (kinds, in the ``findings`` table; excerpts are masked, never raw):

* ``pii_leak``    PII in an LLM call's output that does not appear in that call's input;
* ``pii_input``   PII in an input, or in retrieved documents / tool output (``location = document``);
* ``injection``   a prompt-injection attempt in what the user sent (the user messages of an LLM call);
* ``indirect_injection``  an injection inside retrieved documents or tool results (retriever/tool spans,
                  and tool-result messages in an LLM call's input); subkind ``answer_followed``
                  (location ``output``) when that call's answer repeats what the injected text asked
                  for (its link, address or quoted phrase);
* ``toxicity``    lexicon hits in inputs or outputs;
* ``policy``      rules from ``[policy]`` in llmscope.toml: prohibited phrases and competitor names in
                  outputs, required disclaimers missing from a feature's outputs;
* ``guardrail``   guardrail activations the instrumentation already recorded (OpenInference GUARDRAIL
                  spans, guardrail-named spans, ``content_filter`` finish reasons or errors).

Detectors live in :mod:`llmscope.safety`; spans are read in Arrow batches and scanned on every core.
"""

from __future__ import annotations

import gc
import os
import re
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import duckdb
import orjson
import pyarrow as pa

from ..normalize import dialects as D
from ..pools import process_pool
from ..query import SpanFilter

BATCH_ROWS = 20_000
PARALLEL_MIN_ROWS = 40_000


@dataclass
class Policy:
    """``[policy]`` in llmscope.toml, and the injection thresholds of ``[scan.injection]``::

    [scan.injection]
    threshold = 0.5            # user input (direct); `llmscope scan calibrate` writes these
    document_threshold = 0.5   # retrieved documents and tool output (indirect)
    classifier = true          # false: the rules alone
    """

    prohibited: list[str] = field(default_factory=list)
    competitors: list[str] = field(default_factory=list)
    disclaimers: dict[str, str] = field(default_factory=dict)  # feature -> text its outputs must contain
    injection_threshold: float = 0.5
    document_threshold: float = 0.5
    injection_model: bool = True

    @classmethod
    def from_config(cls, raw: dict) -> Policy:
        p = raw.get("policy") or {}
        inj = (raw.get("scan") or {}).get("injection") or {}
        for key in ("threshold", "document_threshold"):
            v = inj.get(key, 0.5)
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not 0.0 < v <= 1.0:
                from .config import ConfigError

                raise ConfigError(f"[scan.injection] {key} must be a number in (0, 1], got {v!r}")
        return cls(
            prohibited=[str(x) for x in p.get("prohibited", [])],
            competitors=[str(x) for x in p.get("competitors", [])],
            disclaimers={str(k): str(v) for k, v in (p.get("disclaimers") or {}).items()},
            injection_threshold=float(inj.get("threshold", 0.5)),
            document_threshold=float(inj.get("document_threshold", 0.5)),
            injection_model=bool(inj.get("classifier", True)),
        )

    def version(self) -> str:
        import hashlib

        parts = [self.prohibited, self.competitors, self.disclaimers]
        if (self.injection_threshold, self.document_threshold, self.injection_model) != (0.5, 0.5, True):
            parts.append([self.injection_threshold, self.document_threshold, self.injection_model])
        return hashlib.sha1(orjson.dumps(parts)).hexdigest()[:8]


def detector_version(policy: Policy) -> str:
    from . import injection, pii, toxicity

    return (
        f"pii:{getattr(pii, 'VERSION', '1')} injection:{injection.RULESET_VERSION}+{injection.DETECTOR_VERSION} "
        f"toxicity:{toxicity.LEXICON_VERSION} policy:{policy.version()}"
    )


@dataclass
class ScanReport:
    spans_scanned: int = 0
    findings: int = 0
    by_kind: dict[str, int] = field(default_factory=dict)
    elapsed_s: float = 0.0
    run_id: str = ""

    @property
    def spans_per_s(self) -> float:
        return self.spans_scanned / self.elapsed_s if self.elapsed_s else 0.0


CANDIDATES_SQL = """
SELECT s.trace_id, s.span_id, s.start_time, s.span_type, s.name, s.feature, s.finish_reason, s.error_type,
       s.input_text, s.output_text,
       CASE WHEN s.span_type = 'llm' THEN s.input_messages END AS input_messages,
       {guardrail_mark} AS guardrail_mark
FROM spans s
WHERE {where} AND NOT EXISTS (
    SELECT 1 FROM scanned_spans k WHERE k.trace_id = s.trace_id AND k.span_id = s.span_id AND k.detector_version = ?)
"""


def _sql_text(s: str) -> str:
    return "'" + s.replace("'", "''") + "'"


def _guardrail_mark_sql() -> str:
    """The guardrail value an instrumentation recorded in an attribute (D.GUARDRAIL_ATTRIBUTES), or NULL."""
    cases = []
    for key, values in D.GUARDRAIL_ATTRIBUTES.items():
        value = f"upper(json_extract_string(s.attributes, {_sql_text('$.' + chr(34) + key + chr(34))}))"
        cases.append(f"CASE WHEN {value} IN ({', '.join(_sql_text(v.upper()) for v in values)}) THEN {value} END")
    return "coalesce(" + ", ".join([*cases, "NULL"]) + ")"


FINDING_FIELDS = [
    ("trace_id", pa.string()),
    ("span_id", pa.string()),
    ("start_time", pa.timestamp("us")),
    ("kind", pa.string()),
    ("subkind", pa.string()),
    ("location", pa.string()),
    ("score", pa.float64()),
    ("rule", pa.string()),
    ("excerpt", pa.string()),
]

_DIGITS = re.compile(r"\D+")


def _norm(kind: str, value: str) -> str:
    """Compare PII across input and output by what matters: digits for numbers, lower case otherwise."""
    if kind in ("phone", "credit_card", "us_ssn"):
        return _DIGITS.sub("", value)
    return value.lower().replace(" ", "")


def _tool_text(input_messages: str | None) -> str | None:
    """Tool results inside an LLM call's input (role ``tool``/``function``): text the model reads that
    no user typed -- checked as indirect injection."""
    if not input_messages or '"tool"' not in input_messages and '"function"' not in input_messages:
        return None
    try:
        msgs = orjson.loads(input_messages)
    except orjson.JSONDecodeError:
        return None
    texts = [
        m.get("content")
        for m in msgs
        if isinstance(m, dict) and m.get("role") in ("tool", "function") and isinstance(m.get("content"), str)
    ]
    return "\n".join(t for t in texts if t) or None


def _user_text(input_messages: str | None, fallback: str | None) -> str | None:
    """What the user typed: the user-role messages of an LLM call (the system prompt and tool results
    are not the user's)."""
    if not input_messages:
        return fallback
    try:
        msgs = orjson.loads(input_messages)
    except orjson.JSONDecodeError:
        return fallback
    texts = [m.get("content") for m in msgs if isinstance(m, dict) and m.get("role") == "user" and m.get("content")]
    return "\n".join(texts) if texts else None


class _Memo:
    """A detector's result per text, for the texts seen more than once in this process (answers,
    prompts and retrieved documents repeat across spans). A text is remembered the second time it comes:
    texts seen once (most of them) fill only a set of hashes. Both are emptied when full; texts longer than
    MAX_LEN are never remembered, so each memo stays under ~130 MB whatever the traffic."""

    MAX_TEXTS = 32_768
    MAX_SEEN = 1_000_000
    MAX_LEN = 4_000

    def __init__(self, fn: Callable[[str], Any]):
        self.fn, self.results, self.seen = fn, {}, set()

    def __call__(self, text: str) -> Any:
        r = self.results.get(text)
        if r is not None:
            return r
        r = self.fn(text)
        if len(text) > self.MAX_LEN:
            return r
        h = hash(text)
        if h in self.seen:
            if len(self.results) >= self.MAX_TEXTS:
                self.results.clear()
            self.results[text] = r
        else:
            if len(self.seen) >= self.MAX_SEEN:
                self.seen.clear()
            self.seen.add(h)
        return r


_MEMOS: dict[tuple, _Memo] = {}


def _memo(name: str, fn: Callable[[str], Any], *key: Any) -> _Memo:
    """The process's memo of detector ``name`` (with settings ``key``)."""
    m = _MEMOS.get((name, *key))
    if m is None:
        m = _MEMOS[(name, *key)] = _Memo(fn)
    return m


def scan_rows(rows: list[dict], policy: Policy) -> list[tuple]:
    """Findings for a list of span rows (runs in a worker). Each finding is a tuple in FINDING_FIELDS order."""
    out: list[tuple] = []
    for r in rows:
        key = (r["trace_id"], r["span_id"], r["start_time"])
        llm = r["span_type"] == "llm"
        user = _user_text(r["input_messages"], r["input_text"]) if llm else None  # what the user sent
        _guardrail_findings(out, key, r)
        _pii_findings(out, key, r)
        _injection_findings(out, key, r, user, policy)
        if llm:
            _toxicity_findings(out, key, user, r["output_text"])
            _policy_findings(out, key, r["output_text"], r["feature"], policy)
    return out


def _guardrail_findings(out: list, key: tuple, r: dict) -> None:
    """Guardrails the instrumentation recorded."""
    if (
        r["guardrail_mark"]
        or any(w in (r["name"] or "").lower() for w in D.GUARDRAIL_NAME_WORDS)
        or r["finish_reason"] in D.GUARDRAIL_OUTCOMES
        or r["error_type"] in D.GUARDRAIL_OUTCOMES
    ):
        subkind = r["guardrail_mark"] or r["finish_reason"] or r["error_type"] or "guardrail"
        out.append((*key, "guardrail", subkind, "output", 1.0, "recorded", None))


def _pii_findings(out: list, key: tuple, r: dict) -> None:
    """PII in inputs and documents, and leaks: PII in an LLM call's output that is absent from its input."""
    from . import pii

    span_type, inp, outp = r["span_type"], r["input_text"], r["output_text"]
    find_pii = _memo("pii", pii.find_pii)
    in_matches = find_pii(inp) if inp else []
    seen_in = {_norm(m.kind, m.value) for m in in_matches}
    for m in in_matches:
        out.append((*key, "pii_input", m.kind, "input", 1.0, m.detail or m.kind, pii.masked_excerpt(inp, m)))
    if not outp:
        return
    for m in find_pii(outp):
        if span_type in ("retriever", "tool"):
            out.append((*key, "pii_input", m.kind, "document", 1.0, m.detail or m.kind, pii.masked_excerpt(outp, m)))
        elif span_type == "llm" and _norm(m.kind, m.value) not in seen_in and m.value not in (inp or ""):
            out.append((*key, "pii_leak", m.kind, "output", 1.0, m.detail or m.kind, pii.masked_excerpt(outp, m)))


def _injection_findings(out: list, key: tuple, r: dict, user: str | None, policy: Policy) -> None:
    """Prompt injection in what the user sent; indirect injection in documents and tool results, and an
    answer that followed it."""
    from . import injection

    outp = r["output_text"]
    if r["span_type"] == "llm":
        _injections(out, key, user, "injection", "input", injection, policy)
        tools = _tool_text(r["input_messages"])
        v = _injections(out, key, tools, "indirect_injection", "document", injection, policy)
        if v is not None and outp:
            _followed(out, key, tools, v, outp, user)
    elif r["span_type"] in ("retriever", "tool") and outp:
        _injections(out, key, outp, "indirect_injection", "document", injection, policy)


def _toxicity_findings(out: list, key: tuple, user: str | None, outp: str | None) -> None:
    """Toxicity (lexicon baseline) in what the user sent and what the model answered."""
    from . import toxicity

    lexicon = _memo("toxicity", toxicity.toxicity)
    for text, where in ((user, "input"), (outp, "output")):
        if text:
            score, terms = lexicon(text)
            if terms:
                rule = ", ".join(sorted(set(terms)))[:200]
                out.append((*key, "toxicity", "lexicon", where, score, rule, _around(text, terms[0])))


def _policy_findings(out: list, key: tuple, outp: str | None, feature: str | None, policy: Policy) -> None:
    """The ``[policy]`` rules on the model's answer."""
    if not outp:
        return
    low = outp.lower()
    for phrase in policy.prohibited:
        if phrase.lower() in low:
            out.append((*key, "policy", "prohibited_phrase", "output", 1.0, phrase, _around(outp, phrase)))
    for name in policy.competitors:
        if re.search(r"\b" + re.escape(name.lower()) + r"\b", low):
            out.append((*key, "policy", "competitor_mention", "output", 1.0, name, _around(outp, name)))
    need = policy.disclaimers.get(feature or "")
    if need and need.lower() not in low:
        out.append((*key, "policy", "missing_disclaimer", "output", 1.0, need[:80], None))


def _injections(out: list, key: tuple, text: str | None, kind: str, location: str, injection, policy: Policy):
    """Rules + classifier (:func:`llmscope.safety.injection.detect`); a finding when flagged. Returns the
    verdict when flagged, else None."""
    if not text:
        return None
    thr = policy.document_threshold if location == "document" else policy.injection_threshold
    model = policy.injection_model
    v = _memo(
        "injection",
        lambda t: injection.detect(t, location=location, threshold=thr, use_model=model),
        location,
        thr,
        model,
    )(text)
    if not v.flagged:
        return None
    a, b = v.start, v.end
    if b - a > 240:  # a classifier window: show its start
        b = a + 240
    excerpt = text[max(0, a - 40) : b + 40].replace("\n", " ")
    out.append((*key, kind, v.category, location, v.score, v.reason[:200], _mask_all(excerpt)))
    return v


_URL_RE = re.compile(r"https?://[^\s\)\]\"'<>]+|\b[\w.+-]+@[\w-]+\.[\w.]+\b")
_QUOTED_RE = re.compile(r"[\"“'‘]([^\"“”'‘’\n]{8,80})[\"”'’]")


def _followed(out: list, key: tuple, injected: str, v, answer: str, user: str | None) -> None:
    """The answer repeats what the injected text asked for: a link or address from the flagged part, or a
    phrase it quoted, that the user did not type."""
    part = injected[max(0, v.start - 200) : v.end + 200]
    low_answer = answer.lower()
    low_user = (user or "").lower()
    for m in list(_URL_RE.finditer(part)) + list(_QUOTED_RE.finditer(part)):
        needle = (m.group(1) if m.lastindex else m.group(0)).rstrip(".,;:").lower()
        if len(needle) >= 8 and needle in low_answer and needle not in low_user:
            i = low_answer.find(needle)
            excerpt = answer[max(0, i - 40) : i + len(needle) + 40].replace("\n", " ")
            out.append(
                (
                    *key,
                    "indirect_injection",
                    "answer_followed",
                    "output",
                    v.score,
                    f"answer repeats {needle[:60]!r}",
                    _mask_all(excerpt),
                )
            )
            return


def _around(text: str, needle: str, context: int = 40) -> str:
    i = text.lower().find(needle.lower())
    if i < 0:
        return _mask_all(text[: 2 * context])
    return _mask_all(text[max(0, i - context) : i + len(needle) + context].replace("\n", " "))


def _mask_all(excerpt: str) -> str:
    """Excerpts of injection/toxicity/policy findings may hold PII too: mask it."""
    from . import pii

    matches = pii.find_pii(excerpt)
    for m in sorted(matches, key=lambda m: m.start, reverse=True):
        excerpt = excerpt[: m.start] + pii.mask_value(m.kind, m.value) + excerpt[m.end :]
    return excerpt


def _scan_batch(source: Any, policy: Policy) -> list[tuple]:
    """Worker entry: a batch (or the path of one in shared memory) -> findings."""
    if isinstance(source, str):
        try:
            batch = pa.ipc.open_file(pa.memory_map(source)).get_batch(0)
        finally:
            os.unlink(source)
    else:
        batch = source
    gc.disable()
    try:
        return scan_rows(batch.to_pylist(), policy)
    finally:
        gc.enable()


def scan(
    con: duckdb.DuckDBPyConnection,
    flt: SpanFilter | None = None,
    policy: Policy | None = None,
    workers: int | None = None,
    rescan: bool = False,
    on_progress: Callable[[int, int], None] | None = None,
) -> ScanReport:
    """Scan the spans not scanned yet with the current detectors (all of them with ``rescan``)."""
    policy = policy or Policy()
    version = detector_version(policy)
    report = ScanReport(run_id=uuid.uuid4().hex[:12])
    started = time.perf_counter()
    where, params = (flt or SpanFilter()).sql("s")
    sql = CANDIDATES_SQL.format(where=where, guardrail_mark=_guardrail_mark_sql())
    if rescan:
        _forget_scans(con, where, params)
    total = con.execute(f"SELECT count(*) FROM ({sql})", params + [version]).fetchall()[0][0]
    n_workers = workers if workers is not None else (os.cpu_count() or 1)
    rel = con.sql(sql, params=params + [version])
    reader = rel.to_arrow_reader(BATCH_ROWS) if hasattr(rel, "to_arrow_reader") else rel.fetch_record_batch(BATCH_ROWS)
    progress = _ScanProgress(total, on_progress)
    if n_workers > 1 and total >= PARALLEL_MIN_ROWS:
        findings = _scan_in_workers(reader, policy, n_workers, progress)
    else:
        findings = _scan_here(reader, policy, progress)
    report.spans_scanned = progress.done
    _store_findings(con, sql, params, version, findings, report.run_id)
    report.findings = len(findings)
    for f in findings:
        report.by_kind[f[3]] = report.by_kind.get(f[3], 0) + 1
    report.elapsed_s = time.perf_counter() - started
    return report


class _ScanProgress:
    """Spans scanned so far, told to ``on_progress(done, total)``."""

    def __init__(self, total: int, on_progress: Callable[[int, int], None] | None):
        self.done, self.total, self.on_progress = 0, total, on_progress

    def add(self, n: int) -> None:
        self.done += n
        if self.on_progress:
            self.on_progress(self.done, self.total)


def _scan_here(reader, policy: Policy, progress: _ScanProgress) -> list[tuple]:
    findings: list[tuple] = []
    for batch in reader:
        findings += _scan_batch(batch, policy)
        progress.add(batch.num_rows)
    return findings


def _scan_in_workers(reader, policy: Policy, n_workers: int, progress: _ScanProgress) -> list[tuple]:
    """The batches scanned on every core; they travel through files in shared memory."""
    findings: list[tuple] = []
    spill = tempfile.TemporaryDirectory(prefix="llmscope-scan-", dir="/dev/shm" if os.path.isdir("/dev/shm") else None)
    with spill, process_pool(n_workers) as pool:
        pending = []
        for batch in reader:
            path = os.path.join(spill.name, f"{uuid.uuid4().hex}.arrow")
            with pa.OSFile(path, "wb") as sink, pa.ipc.new_file(sink, batch.schema) as w:
                w.write_batch(batch)
            pending.append((batch.num_rows, pool.submit(_scan_batch, path, policy)))
            while len(pending) > 2 * n_workers:
                n, fut = pending.pop(0)
                findings += fut.result()
                progress.add(n)
        for n, fut in pending:
            findings += fut.result()
            progress.add(n)
    return findings


def _forget_scans(con: duckdb.DuckDBPyConnection, where: str, params: list) -> None:
    """``rescan``: the findings and scan marks of the matching spans go, in one transaction."""
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute(
            f"DELETE FROM findings WHERE (trace_id, span_id) IN (SELECT trace_id, span_id FROM spans s WHERE {where})",
            params,
        )
        con.execute(
            f"DELETE FROM scanned_spans WHERE (trace_id, span_id) IN (SELECT trace_id, span_id FROM spans s WHERE {where})",
            params,
        )
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise


def _store_findings(
    con: duckdb.DuckDBPyConnection, sql: str, params: list, version: str, findings: list[tuple], run_id: str
) -> None:
    """The findings, and the candidate spans marked scanned with ``version``, in one transaction."""
    con.execute("BEGIN TRANSACTION")
    try:
        # spans scanned again (new detector version): their old findings go
        con.execute(
            f"DELETE FROM findings WHERE (trace_id, span_id) IN (SELECT trace_id, span_id FROM ({sql}))",
            params + [version],
        )
        con.execute(
            f"DELETE FROM scanned_spans WHERE (trace_id, span_id) IN (SELECT trace_id, span_id FROM ({sql}))",
            params + [version],
        )
        if findings:
            cols = list(zip(*findings))
            tbl = pa.table({name: pa.array(col, type=t) for (name, t), col in zip(FINDING_FIELDS, cols)})
            con.register("_findings", tbl)
            con.execute("INSERT INTO findings SELECT *, ?, now()::TIMESTAMP, ? FROM _findings", [version, run_id])
            con.unregister("_findings")
        con.execute(
            f"INSERT INTO scanned_spans SELECT trace_id, span_id, ?, now()::TIMESTAMP FROM ({sql})",
            [version] + params + [version],
        )
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
