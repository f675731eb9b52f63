"""The execution graph of one trace: agents and their steps, with repeated sub-sequences folded.

    >>> g = trace_graph(trace_tree(con, trace_id))
    >>> g["nodes"][0]    # {"id": ..., "label": "planner", "type": "agent", "repeat": 1, ...}

Folding: among one parent's children (in time order), a block of 1-4 consecutive steps that
repeats back to back is shown once with ``repeat = N`` (``web_search → fetch_page ×5``). Steps are
the same when type, name, tool and normalised arguments match; an LLM call matches another LLM
call of the same model (prompts grow each round).
"""

from __future__ import annotations

import re

_WS = re.compile(r"\s+")


def _key(r: dict) -> tuple:
    if r["span_type"] == "tool":
        return ("tool", r.get("tool_name") or r["name"], _WS.sub("", (r.get("input_text") or "").lower()))
    if r["span_type"] == "llm":
        return ("llm", r.get("request_model") or r["name"])
    return (r["span_type"], r["name"], r["span_id"])  # structure nodes never fold with each other


def fold(items: list, key=lambda x: x, max_period: int = 4) -> list[tuple[list, int]]:
    """Greedy folding of back-to-back repeats: [(block, times)], preferring the longest coverage."""
    out: list[tuple[list, int]] = []
    i, n = 0, len(items)
    keys = [key(x) for x in items]
    while i < n:
        best_p, best_times = 1, 1
        for p in range(1, max_period + 1):
            if i + 2 * p > n:
                break
            times = 1
            while i + (times + 1) * p <= n and keys[i + times * p : i + (times + 1) * p] == keys[i : i + p]:
                times += 1
            if times > 1 and times * p > best_times * best_p:
                best_p, best_times = p, times
        out.append((items[i : i + best_p], best_times))
        i += best_p * best_times
    return out


def trace_graph(rows: list[dict]) -> dict:
    """Nodes and edges for a trace tree (rows of :func:`traces.trace_tree`), folded.

    Edges: ``child`` from a parent to its first-level steps, ``next`` between consecutive steps.
    """
    by_parent: dict[str | None, list[dict]] = {}
    ids = {r["span_id"] for r in rows}
    for r in rows:
        parent = r["parent_span_id"] if r["parent_span_id"] in ids else None
        by_parent.setdefault(parent, []).append(r)
    nodes: list[dict] = []
    edges: list[dict] = []

    def visit(parent_id: str | None, parent_node: str | None, depth: int) -> None:
        children = sorted(by_parent.get(parent_id, []), key=lambda r: (r["offset_ms"], r["span_id"]))
        previous: list[str] = []
        for block, times in fold(children, _key):
            block_ids = []
            for r in block:
                node_id = r["span_id"]
                label = (
                    r.get("agent_name")
                    if r["span_type"] == "agent"
                    else (r.get("tool_name") if r["span_type"] == "tool" else r["name"])
                )
                nodes.append(
                    {
                        "id": node_id,
                        "label": label or r["name"],
                        "type": r["span_type"],
                        "depth": depth,
                        "repeat": times,
                        "block_size": len(block),
                        "status": r["status"],
                        "model": r.get("request_model"),
                        "duration_ms": r["duration_ms"],
                    }
                )
                if parent_node is not None:
                    edges.append({"from": parent_node, "to": node_id, "kind": "child"})
                for p in previous or []:
                    edges.append({"from": p, "to": node_id, "kind": "next"})
                previous = [node_id]
                block_ids.append(node_id)
                visit(r["span_id"], node_id, depth + 1)
            if times > 1 and len(block_ids) > 1:
                edges.append({"from": block_ids[-1], "to": block_ids[0], "kind": "repeat", "times": times})
            elif times > 1:
                edges.append({"from": block_ids[0], "to": block_ids[0], "kind": "repeat", "times": times})

    visit(None, None, 0)
    return {"nodes": nodes, "edges": edges}
