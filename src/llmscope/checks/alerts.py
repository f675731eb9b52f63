"""Alert rules: `llmscope check` evaluates them against the store and speaks CI and on-call.

Rules live in llmscope.toml as ``[[alerts]]`` tables::

    [[alerts]]
    name = "anthropic errors"
    kind = "error_rate"          # see KINDS below
    severity = "critical"        # info | warning | critical
    where = "provider = 'anthropic'"   # optional SQL filter on span columns
    by = "provider"              # optional group-by: evaluated per segment, the worst one reported
    window = "1h"                # the window that ends at the evaluation time (--at, default now)
    threshold = 0.2

Kinds and their options:

=================== ==========================================================================
latency_p99         P99 of LLM-call duration (ms) over the window above ``threshold``;
                    ``min_count`` calls at least (default 20)
error_rate          share of LLM calls in error above ``threshold``; ``error_type`` to count one
                    class only (rate_limit, timeout, …); ``min_count`` (default 20)
cost_anomaly        cost per call in the window against a robust baseline learned per segment
                    and per hour of day (``seasonality = "hour_of_day"``, or ``"day_of_week"``,
                    ``"none"``) over the previous ``baseline_days`` (7): fires when the robust
                    z-score (distance to the median in MAD units, sigma = 1.4826 MAD, floored at
                    5% of the median) is ≥ ``z`` (3) and the ratio to the median ≥ ``min_ratio`` (1.5)
quality_drop        mean eval score of ``metric`` in the window more than ``drop_pct`` % below its
                    mean over the previous ``baseline_days`` (7)
hallucination_rate  share of groundedness scores below ``below`` (default ``[eval] hallucination_threshold``) above ``threshold``
budget              spend in the current ``period`` (day | week) against ``amount_usd``: fires at
                    each of ``levels`` (default 0.5, 0.8, 1.0) reached, the highest one reported
injection           any prompt-injection finding (direct or indirect) in the window
pii_leak_rate       PII-leak findings per scanned LLM call above ``threshold`` (default 0: any)
agent_loops         traces in the window that loop (exact repeats, cycles) or run away
                    (more than ``max_steps`` steps, default 25)
drift               JSD or PSI of the window against the window before it above ``jsd`` / ``psi``
                    (defaults 0.2 / 0.25) for any of ``features`` (default input_tokens,
                    output_tokens, request_model)
=================== ==========================================================================
"""

from __future__ import annotations

import os
import re
import statistics
import tomllib
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb

from ..config import HALLUCINATION_THRESHOLD
from ..errors import ConfigError
from ..query import QueryError, SpanFilter, Where, group_exprs, parse_duration

SEVERITIES = ("info", "warning", "critical")
KINDS = (
    "latency_p99",
    "error_rate",
    "cost_anomaly",
    "quality_drop",
    "hallucination_rate",
    "budget",
    "injection",
    "pii_leak_rate",
    "agent_loops",
    "drift",
)
COMMON = {"name", "kind", "severity", "where", "by", "window"}
OPTIONS = {
    "latency_p99": {"threshold", "min_count"},
    "error_rate": {"threshold", "min_count", "error_type"},
    "cost_anomaly": {"z", "min_ratio", "baseline_days", "seasonality", "min_count"},
    "quality_drop": {"metric", "drop_pct", "baseline_days", "judge", "min_count"},
    "hallucination_rate": {"threshold", "min_count", "below"},
    "budget": {"amount_usd", "period", "levels"},
    "injection": set(),
    "pii_leak_rate": {"threshold"},
    "agent_loops": {"max_steps", "min_repeats"},
    "drift": {"jsd", "psi", "features"},
}
REQUIRED = {
    "latency_p99": {"threshold"},
    "error_rate": {"threshold"},
    "quality_drop": {"metric", "drop_pct"},
    "hallucination_rate": {"threshold"},
    "budget": {"amount_usd"},
}


_NAME = re.compile(r"[\w.:/-]+")


class RulesError(ConfigError):
    """A bad rules file: the message names the file, the line and the reason."""


@dataclass
class Rule:
    name: str
    kind: str
    severity: str = "warning"
    where: Where | None = None
    by: str | None = None
    window: timedelta = timedelta(hours=1)
    options: dict[str, Any] = field(default_factory=dict)
    line: int = 0


@dataclass
class Alert:
    rule: str
    kind: str
    severity: str
    group: str
    value: float | None
    baseline: float | None
    threshold: float | None
    window_start: datetime
    window_end: datetime
    examples: list[str]
    message: str

    @property
    def key(self) -> str:
        return f"{self.rule}|{self.group}"

    def as_dict(self) -> dict:
        return {
            "rule": self.rule,
            "kind": self.kind,
            "severity": self.severity,
            "group": self.group,
            "value": self.value,
            "baseline": self.baseline,
            "threshold": self.threshold,
            "window_start": self.window_start,
            "window_end": self.window_end,
            "example_trace_ids": self.examples,
            "message": self.message,
        }


# --------------------------------------------------------------------------- loading


def load_rules(path: str | os.PathLike) -> list[Rule]:
    p = Path(path)
    try:
        text = p.read_text()
    except FileNotFoundError:
        raise RulesError(
            f"{p}: no such rules file (start one with `llmscope check --example-rules > {p.name}`, "
            "or pass --rules FILE)"
        ) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise RulesError(f"{p}: {e}") from None
    lines = [i + 1 for i, line in enumerate(text.splitlines()) if re.match(r"\s*\[\[\s*alerts\s*\]\]", line)]
    raw_rules = data.get("alerts", [])
    if not isinstance(raw_rules, list):
        raise RulesError(f"{p}: alerts must be written as [[alerts]] tables")
    rules = []
    for i, raw in enumerate(raw_rules):
        line = lines[i] if i < len(lines) else 0
        where = f"{p}:{line}"
        kind = raw.get("kind")
        if kind not in KINDS:
            raise RulesError(f"{where}: kind {kind!r} is not one of {', '.join(KINDS)}")
        unknown = set(raw) - COMMON - OPTIONS[kind]
        if unknown:
            raise RulesError(
                f"{where}: unknown option(s) {', '.join(sorted(unknown))} for kind {kind}; "
                f"allowed: {', '.join(sorted(COMMON | OPTIONS[kind]))}"
            )
        missing = REQUIRED.get(kind, set()) - set(raw)
        if missing:
            raise RulesError(f"{where}: kind {kind} needs {', '.join(sorted(missing))}")
        severity = raw.get("severity", "warning")
        if severity not in SEVERITIES:
            raise RulesError(f"{where}: severity {severity!r} is not one of {', '.join(SEVERITIES)}")
        try:
            window = parse_duration(str(raw.get("window", "1h")))
            if raw.get("by"):
                group_exprs(raw["by"])
            rule_where = Where.parse(raw.get("where"))
            for k in ("threshold", "z", "min_ratio", "drop_pct", "amount_usd", "jsd", "psi"):
                if k in raw and (isinstance(raw[k], bool) or not isinstance(raw[k], (int, float))):
                    raise QueryError(f"{k} must be a number")
            if "below" in raw and (isinstance(raw["below"], bool) or not isinstance(raw["below"], (int, float))
                                   or not 0 <= raw["below"] <= 1):  # fmt: skip
                raise QueryError("below must be a groundedness score between 0 and 1")
            for k in ("min_count", "baseline_days", "max_steps", "min_repeats"):
                if k in raw and (isinstance(raw[k], bool) or not isinstance(raw[k], int) or raw[k] < 1):
                    raise QueryError(f"{k} must be a whole number ≥ 1")
            for k in ("error_type", "metric", "judge", "seasonality", "period"):  # they become SQL literals
                if k in raw and not (isinstance(raw[k], str) and _NAME.fullmatch(raw[k])):
                    raise QueryError(f"{k} {raw[k]!r} must be a name (letters, digits, _ . : / -)")
        except QueryError as e:
            raise RulesError(f"{where}: {e}") from None
        opts = {k: v for k, v in raw.items() if k not in COMMON}
        rules.append(
            Rule(
                name=str(raw.get("name") or f"{kind}-{i + 1}"),
                kind=kind,
                severity=severity,
                where=rule_where,
                by=raw.get("by"),
                window=window,
                options=opts,
                line=line,
            )
        )
    return rules


# --------------------------------------------------------------------------- evaluation


def _flt(rule: Rule, start: datetime, end: datetime) -> SpanFilter:
    return SpanFilter(since=start, until=end, where=rule.where)


def _group_sql(rule: Rule) -> str:
    """One SQL expression naming a rule's segment ('all' without --by)."""
    groups = group_exprs(rule.by)
    if not groups:
        return "'all'"
    return " || ' · ' || ".join(f"coalesce(CAST({e} AS VARCHAR), '(none)')" for _, e in groups)


def _rows(con, sql: str, params: list) -> list[dict]:
    cur = con.execute(sql, params)
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r)) for r in cur.fetchall()]


def evaluate(con: duckdb.DuckDBPyConnection, rules: list[Rule], at: datetime | None = None) -> list[Alert]:
    """Every alert that fires at ``at`` (default: now), worst group per rule."""
    at = at or datetime.utcnow()
    fired: list[Alert] = []
    for rule in rules:
        fired += globals()[f"_eval_{rule.kind}"](con, rule, at)
    order = {s: i for i, s in enumerate(SEVERITIES)}
    return sorted(fired, key=lambda a: (-order[a.severity], a.rule, a.group))


def _alert(rule: Rule, group: str, value, baseline, threshold, start, end, examples, message) -> Alert:
    return Alert(
        rule.name,
        rule.kind,
        rule.severity,
        group,
        value,
        baseline,
        threshold,
        start,
        end,
        [e for e in (examples or []) if e][:5],
        message,
    )


def _window_rows(
    con, rule: Rule, at: datetime, select: str, span_type: str = "llm", having: str = "TRUE"
) -> list[dict]:
    start = at - rule.window
    where, params = _flt(rule, start, at).sql()
    g = _group_sql(rule)
    sql = f"""SELECT {g} AS grp, {select} FROM spans WHERE span_type = '{span_type}' AND {where}
              GROUP BY 1 HAVING {having} ORDER BY 1"""
    return _rows(con, sql, params)


def _eval_latency_p99(con, rule, at):
    t, n = float(rule.options["threshold"]), int(rule.options.get("min_count", 20))
    out = []
    for r in _window_rows(
        con,
        rule,
        at,
        "count(*) AS n, quantile_cont(duration_ms, 0.99) AS v, arg_max(trace_id, duration_ms) AS ex",
        having=f"count(*) >= {n}",
    ):
        if r["v"] > t:
            out.append(
                _alert(
                    rule,
                    r["grp"],
                    r["v"],
                    None,
                    t,
                    at - rule.window,
                    at,
                    [r["ex"]],
                    f"P99 latency {r['v']:,.0f} ms > {t:,.0f} ms over {r['n']} calls",
                )
            )
    return out


def _eval_error_rate(con, rule, at):
    t, n = float(rule.options["threshold"]), int(rule.options.get("min_count", 20))
    et = rule.options.get("error_type")
    cond = "status = 'error'" + (f" AND error_type = '{str(et).replace(chr(39), '')}'" if et else "")
    out = []
    for r in _window_rows(
        con,
        rule,
        at,
        f"count(*) AS n, avg(CASE WHEN {cond} THEN 1.0 ELSE 0.0 END) AS v, list(trace_id) FILTER (WHERE {cond}) AS ex",
        having=f"count(*) >= {n}",
    ):
        if r["v"] > t:
            out.append(
                _alert(
                    rule,
                    r["grp"],
                    r["v"],
                    None,
                    t,
                    at - rule.window,
                    at,
                    r["ex"],
                    f"{'%s ' % et if et else ''}error rate {r['v']:.1%} > {t:.1%} over {r['n']} calls",
                )
            )
    return out


# what a cost anomaly's baseline windows are, per seasonality (the message says it in words)
SEASON_WORDS = {
    "hour_of_day": "same windows on past days",
    "day_of_week": "same windows on past weeks",
    "none": "windows before",
}


def _usd(v: float) -> str:
    from ..render.tables import fmt_value

    return fmt_value(float(v), "cost_usd")


def _eval_cost_anomaly(con, rule, at):
    z_min, ratio_min = float(rule.options.get("z", 3.0)), float(rule.options.get("min_ratio", 1.5))
    days = int(rule.options.get("baseline_days", 7))
    season = rule.options.get("seasonality", "hour_of_day")
    n = int(rule.options.get("min_count", 5))
    current = {
        r["grp"]: r
        for r in _window_rows(
            con,
            rule,
            at,
            "count(cost_usd) AS n, avg(cost_usd) AS v, arg_max(trace_id, cost_usd) AS ex",
            having=f"count(cost_usd) >= {n}",
        )
    }
    out = []
    for grp, cur in current.items():
        history = []
        for d in range(1, days + 1):
            step = timedelta(days=d * (7 if season == "day_of_week" else 1))
            if season == "none":
                step = rule.window * d
            past = [
                r
                for r in _window_rows(
                    con, rule, at - step, "count(cost_usd) AS n, avg(cost_usd) AS v", having="count(cost_usd) > 0"
                )
                if r["grp"] == grp
            ]
            if past:
                history.append(past[0]["v"])
        if len(history) < 3:
            continue
        med = statistics.median(history)
        mad = statistics.median(abs(h - med) for h in history)
        sigma = max(1.4826 * mad, 0.05 * med, 1e-12)
        z = (cur["v"] - med) / sigma
        if z >= z_min and med > 0 and cur["v"] / med >= ratio_min:
            out.append(
                _alert(
                    rule,
                    grp,
                    cur["v"],
                    med,
                    ratio_min,
                    at - rule.window,
                    at,
                    [cur["ex"]],
                    f"cost per call {_usd(cur['v'])} is {cur['v'] / med:.2f}x its baseline {_usd(med)} "
                    f"(median of {len(history)} {SEASON_WORDS.get(season, season)}; robust z {z:.1f})",
                )
            )
    return out


def _evals_rows(con, rule, start, end, select: str, metric_cond: str) -> list[dict]:
    where, params = _flt(rule, start, end).sql("s")
    g = _group_sql(rule)
    g = g.replace('"', 's."') if rule.by else g
    sql = f"""SELECT {g} AS grp, {select}
              FROM evals e JOIN spans s USING (trace_id, span_id)
              WHERE {metric_cond} AND e.error IS NULL AND coalesce(e.repeat_index, 0) = 0 AND {where}
              GROUP BY 1 ORDER BY 1"""
    return _rows(con, sql, params)


def _eval_quality_drop(con, rule, at):
    metric = str(rule.options["metric"]).replace("'", "")
    drop = float(rule.options["drop_pct"]) / 100
    days = int(rule.options.get("baseline_days", 7))
    n = int(rule.options.get("min_count", 10))
    cond = f"e.metric = '{metric}' AND e.score IS NOT NULL"
    if rule.options.get("judge"):
        cond += f" AND e.judge = '{str(rule.options['judge']).replace(chr(39), '')}'"
    cur = {
        r["grp"]: r
        for r in _evals_rows(
            con,
            rule,
            at - rule.window,
            at,
            "count(*) AS n, avg(e.score) AS v, arg_min(e.trace_id, e.score) AS ex",
            cond,
        )
        if r["n"] >= n
    }
    base = {
        r["grp"]: r
        for r in _evals_rows(
            con,
            rule,
            at - rule.window - timedelta(days=days),
            at - rule.window,
            "count(*) AS n, avg(e.score) AS v",
            cond,
        )
        if r["n"] >= n
    }
    out = []
    for grp, c in cur.items():
        b = base.get(grp)
        if b and b["v"] and c["v"] < b["v"] * (1 - drop):
            out.append(
                _alert(
                    rule,
                    grp,
                    c["v"],
                    b["v"],
                    drop,
                    at - rule.window,
                    at,
                    [c["ex"]],
                    f"{metric} mean {c['v']:.3f} is {1 - c['v'] / b['v']:.0%} below its {days}-day mean {b['v']:.3f}",
                )
            )
    return out


def _eval_hallucination_rate(con, rule, at):
    t, n = float(rule.options["threshold"]), int(rule.options.get("min_count", 10))
    below = float(rule.options.get("below", HALLUCINATION_THRESHOLD))  # the store's setting, filled by Store.check
    out = []
    for r in _evals_rows(
        con,
        rule,
        at - rule.window,
        at,
        f"count(*) AS n, avg(CASE WHEN e.score < {below!r} THEN 1.0 ELSE 0.0 END) AS v, "
        f"list(e.trace_id) FILTER (WHERE e.score < {below!r}) AS ex",
        "e.metric LIKE 'groundedness%' AND e.score IS NOT NULL",
    ):
        if r["n"] >= n and r["v"] > t:
            out.append(
                _alert(
                    rule,
                    r["grp"],
                    r["v"],
                    None,
                    t,
                    at - rule.window,
                    at,
                    r["ex"],
                    f"hallucination rate {r['v']:.1%} > {t:.1%} over {r['n']} scored answers (groundedness < {below:g})",
                )
            )
    return out


def _eval_budget(con, rule, at):
    amount = float(rule.options["amount_usd"])
    period = rule.options.get("period", "day")
    levels = sorted(float(x) for x in rule.options.get("levels", [0.5, 0.8, 1.0]))
    start = datetime(at.year, at.month, at.day)
    if period == "week":
        start -= timedelta(days=at.weekday())
    where, params = SpanFilter(since=start, until=at, where=rule.where).sql()
    g = _group_sql(rule)
    out = []
    for r in _rows(
        con,
        f"SELECT {g} AS grp, sum(cost_usd) AS v, arg_max(trace_id, cost_usd) AS ex FROM spans WHERE {where} GROUP BY 1",
        params,
    ):
        spent = r["v"] or 0.0
        reached = [lv for lv in levels if spent >= lv * amount]
        if reached:
            out.append(
                _alert(
                    rule,
                    r["grp"],
                    spent,
                    amount,
                    reached[-1],
                    start,
                    at,
                    [r["ex"]],
                    f"{period} spend ${spent:,.2f} reached {reached[-1]:.0%} of the ${amount:,.2f} budget",
                )
            )
    return out


def _findings_rows(con, rule, at, kinds: tuple[str, ...]) -> list[dict]:
    where, params = _flt(rule, at - rule.window, at).sql("s")
    g = _group_sql(rule)
    g = g.replace('"', 's."') if rule.by else g
    kind_list = ", ".join(f"'{k}'" for k in kinds)
    try:
        return _rows(
            con,
            f"""SELECT {g} AS grp, count(*) AS n, list(DISTINCT f.trace_id) AS ex
                              FROM findings f JOIN spans s USING (trace_id, span_id)
                              WHERE f.kind IN ({kind_list}) AND {where} GROUP BY 1 ORDER BY 1""",
            params,
        )
    except duckdb.CatalogException:
        return []


def _eval_injection(con, rule, at):
    return [
        _alert(rule, r["grp"], r["n"], None, 0, at - rule.window, at, r["ex"], f"{r['n']} prompt-injection finding(s)")
        for r in _findings_rows(con, rule, at, ("injection", "indirect_injection"))
    ]


def _eval_pii_leak_rate(con, rule, at):
    t = float(rule.options.get("threshold", 0.0))
    leaks = {r["grp"]: r for r in _findings_rows(con, rule, at, ("pii_leak",))}
    out = []
    for r in _window_rows(con, rule, at, "count(*) AS n"):
        leak = leaks.get(r["grp"])
        if leak and leak["n"] / r["n"] > t:
            out.append(
                _alert(
                    rule,
                    r["grp"],
                    leak["n"] / r["n"],
                    None,
                    t,
                    at - rule.window,
                    at,
                    leak["ex"],
                    f"{leak['n']} PII leak(s) in {r['n']} LLM calls",
                )
            )
    return out


def _eval_agent_loops(con, rule, at):
    from ..analyses.agents import loops, runaways

    flt = _flt(rule, at - rule.window, at)
    found = loops(con, flt, int(rule.options.get("min_repeats", 3))).to_pylist()
    run = runaways(con, flt, int(rule.options.get("max_steps", 25))).to_pylist()
    if not found and not run:
        return []
    traces = list(dict.fromkeys([r["trace_id"] for r in found] + [r["trace_id"] for r in run]))
    kinds = ", ".join(f"{r['kind']}×{r['repeats']}" for r in found[:3])
    return [
        _alert(
            rule,
            "all",
            len(traces),
            None,
            0,
            at - rule.window,
            at,
            traces,
            f"{len(found)} loop(s) ({kinds}) and {len(run)} runaway run(s)",
        )
    ]


def _eval_drift(con, rule, at):
    from ..analyses.drift import drift

    jsd_t, psi_t = float(rule.options.get("jsd", 0.2)), float(rule.options.get("psi", 0.25))
    feats = list(rule.options.get("features", ["input_tokens", "output_tokens", "request_model"]))
    rows = drift(
        con,
        SpanFilter(at - 2 * rule.window, at - rule.window, rule.where),
        SpanFilter(at - rule.window, at, rule.where),
        rule.by,
        "llm",
        feats,
    ).to_pylist()
    out = []
    for r in rows:
        if r["verdict"] == "insufficient data" or r["jsd"] is None:
            continue
        if r["jsd"] >= jsd_t or r["psi"] >= psi_t:
            grp = " · ".join(str(r[a if a != "feature" else "by_feature"]) for a, _ in group_exprs(rule.by)) or "all"
            out.append(
                _alert(
                    rule,
                    f"{grp} · {r['feature']}",
                    r["jsd"],
                    None,  # a distance from the baseline window: that window is in the message, not a number
                    jsd_t,
                    at - rule.window,
                    at,
                    [],
                    f"{r['feature']} drifted: JSD {r['jsd']:.3f}, PSI {r['psi']:.3f} "
                    f"(baseline {r['baseline_summary']} → {r['current_summary']})",
                )
            )
    return out


def fails(alerts: list[Alert], fail_on: str) -> bool:
    level = SEVERITIES.index(fail_on)
    return any(SEVERITIES.index(a.severity) >= level for a in alerts)


# --------------------------------------------------------------------------- watching


def notify(url: str, event: str, alert: Alert, attempts: int = 4) -> bool:
    """POST one fired/resolved alert as JSON, retrying with backoff; False if it never got through."""
    import time

    import httpx
    import orjson

    body = orjson.dumps({"event": event, **alert.as_dict()}, default=str, option=orjson.OPT_NAIVE_UTC)
    for i in range(attempts):
        try:
            r = httpx.post(url, content=body, headers={"Content-Type": "application/json"}, timeout=10)
            if r.status_code < 300:
                return True
            if 400 <= r.status_code < 500 and r.status_code != 429:
                return False
        except httpx.HTTPError:
            pass
        time.sleep(min(5.0, 0.2 * 2**i))
    return False


def watch_once(
    con, rules: list[Rule], firing: dict[str, Alert], url: str | None, at: datetime | None = None
) -> tuple[list[Alert], dict[str, Alert]]:
    """Evaluate once; post newly fired and resolved alerts (not the ones still firing)."""
    alerts = evaluate(con, rules, at)
    now = {a.key: a for a in alerts}
    if url:
        for key, a in now.items():
            if key not in firing:
                notify(url, "fired", a)
        for key, a in firing.items():
            if key not in now:
                notify(url, "resolved", a)
    return alerts, now
