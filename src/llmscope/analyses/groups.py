"""``--by``: group by canonical columns or raw attributes, safely turned into SQL expressions.

    >>> group_exprs("request_model,attr:organization.id")
    [('request_model', '"request_model"'), ('organization.id', 'json_extract_string(attributes, ...)')]
    >>> group_exprs("model,user")
    [('model', 'coalesce(request_model, response_model)'), ('user_id', '"user_id"')]

Canonical columns are checked against the ``spans`` schema; attribute keys are quoted, so a
``--by`` can never inject SQL.
"""

from __future__ import annotations

import re

from .filters import FilterError

# Canonical columns a report may group by (the public schema of DESIGN.md plus llmscope's extras).
GROUPABLE = {
    "trace_id",
    "span_id",
    "parent_span_id",
    "name",
    "kind",
    "service_name",
    "status",
    "error_type",
    "span_type",
    "operation",
    "provider",
    "request_model",
    "response_model",
    "finish_reason",
    "user_id",
    "session_id",
    "feature",
    "prompt_version",
    "agent_name",
    "tool_name",
    "dialect",
    "scope_name",
    "source",
    "http_status_code",
    "is_stream",
    "price_version",
    "temperature",
    "max_tokens",
}
# Short names people reach for first (--by model, --by user): (output column, SQL expression).
# "model" is the model asked for, else the one that answered (some instrumentations record only that).
ALIASES = {
    "model": ("model", "coalesce(request_model, response_model)"),
    "user": ("user_id", '"user_id"'),
    "session": ("session_id", '"session_id"'),
    "prompt": ("prompt_version", '"prompt_version"'),
    "service": ("service_name", '"service_name"'),
    "agent": ("agent_name", '"agent_name"'),
    "tool": ("tool_name", '"tool_name"'),
    "error": ("error_type", '"error_type"'),
    "type": ("span_type", '"span_type"'),
}
# Time buckets usable as groups: --by day
TIME_GROUPS = {
    "hour": "date_trunc('hour', start_time)",
    "day": "date_trunc('day', start_time)",
    "week": "date_trunc('week', start_time)",
}

_SAFE_ALIAS = re.compile(r"[^a-zA-Z0-9_]+")


def _json_path_key(key: str) -> str:
    # JSON path with the key quoted: '$."gen_ai.request.model"'; single quotes doubled for SQL
    return "'$.\"" + key.replace("\\", "\\\\").replace('"', '\\"').replace("'", "''") + "\"'"


def group_exprs(by: str | None) -> list[tuple[str, str]]:
    """``--by`` text -> [(output column name, SQL expression)]."""
    if not by:
        return []
    out = []
    for raw in by.split(","):
        item = raw.strip()
        if not item:
            continue
        if item.startswith(("attr:", "resource:")):
            source, key = item.split(":", 1)
            if not key:
                raise FilterError(f"--by {item}: give the attribute key, e.g. attr:organization.id")
            column = "attributes" if source == "attr" else "resource_attributes"
            alias = _SAFE_ALIAS.sub("_", key).strip("_") or "attribute"
            out.append((alias, f"json_extract_string({column}, {_json_path_key(key)})"))
        elif item in ALIASES:
            out.append(ALIASES[item])
        elif item in TIME_GROUPS:
            out.append((item, TIME_GROUPS[item]))
        elif item in GROUPABLE:
            out.append((item, f'"{item}"'))
        else:
            raise FilterError(
                f"--by {item}: not a groupable column; use one of {', '.join(sorted(ALIASES))} (short names), "
                f"{', '.join(sorted(GROUPABLE))}, hour/day/week, attr:KEY or resource:KEY"
            )
    return out


def select_list(groups: list[tuple[str, str]]) -> str:
    return "".join(f'{expr} AS "{alias}", ' for alias, expr in groups)


def group_by_clause(groups: list[tuple[str, str]]) -> str:
    return ("GROUP BY " + ", ".join(str(i + 1) for i in range(len(groups)))) if groups else ""
