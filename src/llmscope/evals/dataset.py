"""Regression datasets: the calls that failed or nearly failed, as the JSONL ``eval --dataset`` reads.

    >>> rep = export(con, "regression.jsonl", DatasetOptions(flt=SpanFilter.of(since="7d")))
    >>> rep.written, rep.reasons

A line is one LLM call chosen for a reason (``why``), with what an eval needs (``input`` is the last
user message where the messages are recorded, else the prompt text)::

    {"id": "3f9a…", "input": "…", "output": "…", "context": "…", "reference": null,
     "trace_id": "…", "span_id": "…", "why": ["hallucination: groundedness 0.40 [small-model]"], …}

Reasons, selectable: ``low_score`` (an eval said fail, or scored below ``score_below``: the
borderline ones), ``hallucination`` (groundedness label), ``finding`` (a safety finding on the call,
or on another span of its trace such as a retrieved document, then given to the trace's last LLM
call), ``error`` (the call failed: no output, kept for its input), ``loop`` (the trace loops: its last
LLM call). ``id`` is a digest of input, output and context: the same exchange seen in many traces is
one item (``occurrences`` counts them), and :func:`add` appends only ids not in the file yet.
Content is redacted by default (PII -> typed placeholders, :mod:`llmscope.normalize.privacy`).

The first line is a header, ``{"llmscope_dataset": {...}}``: format version, when and how the
file was made (filter, reasons, threshold, redaction), counts; ``add`` records each addition in its
``history``. :func:`llmscope.evals.runner.load_dataset` skips it.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import orjson

from ..errors import EvalError
from ..query import SpanFilter, Where
from ..store import query_arrow

FORMAT = "llmscope-dataset/1"
HEADER_KEY = "llmscope_dataset"
REASONS = ("low_score", "hallucination", "finding", "error", "loop")

# The LLM calls of the filter with their context; the reasons each was chosen for, as rows; one row
# per chosen call with its reasons aggregated. Trace-level reasons (a finding on a retriever span, a
# loop) go to the trace's last LLM call.
SELECT_SQL = """
WITH calls AS (
    SELECT trace_id, span_id, start_time, status, error_type, input_text, output_text, request_model,
           feature, prompt_version,
           json_extract_string(input_messages, '$[*].role') AS roles,
           json_extract_string(input_messages, '$[*].content') AS contents,
           row_number() OVER (PARTITION BY trace_id ORDER BY start_time DESC, span_id DESC) = 1 AS last_call
    FROM spans WHERE span_type = 'llm' AND {where}
),
llm AS (  -- the question is the last user message where the messages are known, else the prompt text
    SELECT * EXCLUDE (roles, contents),
           coalesce(CASE WHEN list_position(list_reverse(roles), 'user') > 0
                         THEN contents[len(contents) - list_position(list_reverse(roles), 'user') + 1] END,
                    input_text) AS question
    FROM calls
),
ctx AS (
    SELECT trace_id, string_agg(output_text, chr(10) || chr(10) ORDER BY start_time) AS context
    FROM spans WHERE span_type = 'retriever' AND output_text IS NOT NULL
      AND trace_id IN (SELECT trace_id FROM llm) GROUP BY trace_id
),
ev AS (
    SELECT * FROM evals
    WHERE error IS NULL AND coalesce(repeat_index, 0) = 0 AND label IS DISTINCT FROM 'not_applicable'
      AND trace_id IN (SELECT trace_id FROM llm)
),
reasons AS (
    SELECT trace_id, span_id, 'hallucination' AS reason,
           'hallucination: ' || metric || ' ' || coalesce(printf('%.2f', score), '?') || ' [' || judge || ']' AS detail
    FROM ev WHERE label = 'hallucination'
    UNION ALL
    SELECT trace_id, span_id, 'low_score',
           'low_score: ' || metric || ' ' || coalesce(printf('%.2f', score), '?') || ' [' || judge || ']'
    FROM ev WHERE label IS DISTINCT FROM 'hallucination' AND (passed = false OR score < ?)
    UNION ALL
    SELECT l.trace_id, l.span_id, 'finding',
           'finding: ' || f.kind || coalesce('/' || f.subkind, '') || ' in ' || coalesce(f.location, '?')
    FROM findings f JOIN llm l ON l.trace_id = f.trace_id
    WHERE f.span_id = l.span_id
       OR (l.last_call AND NOT EXISTS (SELECT 1 FROM llm o WHERE o.trace_id = f.trace_id AND o.span_id = f.span_id))
    UNION ALL
    SELECT trace_id, span_id, 'error', 'error: ' || coalesce(error_type, 'error') FROM llm WHERE status = 'error'
    UNION ALL
    SELECT trace_id, span_id, 'loop', 'loop: the trace repeats tool calls'
    FROM llm WHERE last_call AND list_contains(?::VARCHAR[], trace_id)
),
chosen AS (
    SELECT trace_id, span_id, list(DISTINCT reason ORDER BY reason) AS reasons,
           list(DISTINCT detail ORDER BY detail) AS why
    FROM reasons WHERE list_contains(?::VARCHAR[], reason)
    GROUP BY ALL
)
SELECT l.trace_id, l.span_id, l.start_time, l.question AS input, l.output_text AS output, ctx.context,
       l.request_model AS model, l.feature, l.prompt_version, c.reasons, c.why
FROM chosen c JOIN llm l USING (trace_id, span_id) LEFT JOIN ctx USING (trace_id)
ORDER BY l.start_time, l.trace_id, l.span_id
"""


@dataclass
class DatasetOptions:
    flt: SpanFilter = field(default_factory=SpanFilter)
    reasons: tuple[str, ...] = REASONS
    score_below: float = 0.6
    redact: bool = True
    limit: int | None = None


@dataclass
class DatasetReport:
    path: str
    candidates: int = 0  # calls chosen for a reason
    duplicates: int = 0  # of an item already chosen (same input, output and context)
    already_present: int = 0  # add: items the file held already
    written: int = 0
    total: int = 0  # items in the file afterwards
    reasons: dict[str, int] = field(default_factory=dict)
    header: dict = field(default_factory=dict)


def check_reasons(reasons: tuple[str, ...] | list[str]) -> tuple[str, ...]:
    unknown = [r for r in reasons if r not in REASONS]
    if unknown or not reasons:
        raise EvalError(f"{', '.join(unknown) or 'no reason'}: choose reasons among {', '.join(REASONS)}")
    return tuple(reasons)


def item_id(input_text: str | None, output: str | None, context: str | None) -> str:
    h = hashlib.sha256()
    for part in (input_text, output, context):
        h.update((part or "").strip().encode() + b"\0")
    return h.hexdigest()[:16]


def select(con: duckdb.DuckDBPyConnection, opts: DatasetOptions) -> tuple[list[dict], int]:
    """The chosen calls as dataset items (redacted, de-duplicated) and the number of duplicates."""
    from ..analyses.agents import loops

    check_reasons(opts.reasons)
    where, params = opts.flt.sql()
    looping = sorted(set(loops(con, opts.flt).column("trace_id").to_pylist())) if "loop" in opts.reasons else []
    rows = query_arrow(
        con, SELECT_SQL.format(where=where), params + [opts.score_below, looping, list(opts.reasons)]
    ).to_pylist()
    scrub = None
    if opts.redact:
        from ..normalize.privacy import Privacy, Scrubber

        scrub = Scrubber(Privacy(redact_pii=True))
    items: dict[str, dict] = {}
    for r in rows:
        if scrub is not None:
            for k in ("input", "output", "context"):
                r[k] = scrub.text(r["trace_id"], r[k])
        key = item_id(r["input"], r["output"], r["context"])
        if key in items:
            items[key]["occurrences"] += 1
            items[key]["why"] = sorted(set(items[key]["why"]) | set(r["why"]))
            continue
        items[key] = {
            "id": key,
            "input": r["input"],
            "output": r["output"],
            "context": r["context"],
            "reference": None,
            "trace_id": r["trace_id"],
            "span_id": r["span_id"],
            "start_time": r["start_time"].isoformat() if r["start_time"] else None,
            "model": r["model"],
            "feature": r["feature"],
            "prompt_version": r["prompt_version"],
            "reasons": r["reasons"],
            "why": r["why"],
            "occurrences": 1,
        }
    out = list(items.values())
    if opts.limit is not None:
        out = out[: opts.limit]
    return out, len(rows) - len(items)


def read(path: str | os.PathLike) -> tuple[dict | None, list[dict]]:
    """(header or None, items) of a dataset file; a bad line is an EvalError naming it."""
    from .runner import read_jsonl

    header: dict | None = None
    items: list[dict] = []
    for p, n, obj in read_jsonl(os.fspath(path), "dataset"):
        if HEADER_KEY in obj:
            if header is not None or items:
                raise EvalError(f"{p}:{n}: a dataset header belongs on the first line")
            header = obj[HEADER_KEY]
        else:
            items.append(obj)
    return header, items


def _describe(opts: DatasetOptions) -> dict:
    flt = opts.flt
    return {
        "since": flt.since.isoformat() if flt.since else None,
        "until": flt.until.isoformat() if flt.until else None,
        "where": flt.where.text if isinstance(flt.where, Where) else flt.where,
        "reasons": list(opts.reasons),
        "score_below": opts.score_below,
        "redaction": "pii placeholders" if opts.redact else "none",
        "limit": opts.limit,
    }


def _write(path: Path, header: dict, items: list[dict]) -> None:
    """All or nothing: a temporary file beside the target, renamed over it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(orjson.dumps({HEADER_KEY: header}) + b"\n")
            for it in items:
                f.write(orjson.dumps(it) + b"\n")
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _count_reasons(items: list[dict]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for it in items:
        for r in it.get("reasons") or ():
            counts[r] = counts.get(r, 0) + 1
    return dict(sorted(counts.items()))


def export(
    con: duckdb.DuckDBPyConnection, path: str | os.PathLike, opts: DatasetOptions, source: str = ""
) -> DatasetReport:
    """Write a new dataset file (replacing one there) from the calls chosen by ``opts``."""
    items, dups = select(con, opts)
    now = datetime.now(UTC).replace(microsecond=0).isoformat()
    header = {
        "format": FORMAT,
        "created_at": now,
        "store": source,
        "made_by": _describe(opts),
        "items": len(items),
        "reasons": _count_reasons(items),
        "history": [{"at": now, "action": "export", "added": len(items), **_describe(opts)}],
    }
    _write(Path(path), header, items)
    return DatasetReport(
        os.fspath(path), len(items) + dups, dups, 0, len(items), len(items), _count_reasons(items), header
    )


def add(
    con: duckdb.DuckDBPyConnection, path: str | os.PathLike, opts: DatasetOptions, source: str = ""
) -> DatasetReport:
    """Append the chosen calls whose id the file does not hold yet (a new file if there is none)."""
    p = Path(path)
    if not p.exists():
        return export(con, p, opts, source)
    header, existing = read(p)
    header = dict(header or {"format": FORMAT, "created_at": None, "store": source, "made_by": None, "history": []})
    known = {
        str(it.get("id") or item_id(it.get("input"), it.get("output"), _ctx(it.get("context")))) for it in existing
    }
    items, dups = select(con, opts)
    new = [it for it in items if it["id"] not in known]
    now = datetime.now(UTC).replace(microsecond=0).isoformat()
    header["history"] = list(header.get("history") or []) + [
        {"at": now, "action": "add", "added": len(new), **_describe(opts)}
    ]
    all_items = existing + new
    header["items"] = len(all_items)
    header["reasons"] = _count_reasons(all_items)
    _write(p, header, all_items)
    return DatasetReport(
        os.fspath(p),
        len(items) + dups,
        dups,
        len(items) - len(new),
        len(new),
        len(all_items),
        _count_reasons(new),
        header,
    )


def _ctx(v) -> str | None:
    from .runner import _text

    return _text(v)
