"""Fired alerts for CI and people: a JUnit XML test report and a Markdown pull-request comment."""

from __future__ import annotations

from typing import Any


def junit(alerts: list[Any], rules: list[Any]) -> str:
    """One test case per rule; each fired alert is a failure with its evidence."""
    from xml.sax.saxutils import escape, quoteattr

    by_rule: dict[str, list[Any]] = {}
    for a in alerts:
        by_rule.setdefault(a.rule, []).append(a)
    cases = []
    for rule in rules:
        fired = by_rule.get(rule.name, [])
        body = "".join(
            f"<failure type={quoteattr(a.severity)} message={quoteattr(a.message)}>"
            f"{escape(a.group)}: {escape(a.message)}; traces: {escape(', '.join(a.examples))}</failure>"
            for a in fired
        )
        cases.append(f'  <testcase classname="llmscope.{rule.kind}" name={quoteattr(rule.name)}>{body}</testcase>')
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<testsuite name="llmscope check" tests="{len(rules)}" failures="{len(by_rule)}">\n'
        + "\n".join(cases)
        + "\n</testsuite>\n"
    )


def markdown(alerts: list[Any]) -> str:
    """A table of fired alerts that reads well as a pull-request comment."""
    if not alerts:
        return "### llmscope check\n\nNo alert fired. ✅\n"
    lines = [
        "### llmscope check",
        "",
        f"{len(alerts)} alert(s) fired.",
        "",
        "| severity | rule | group | value | baseline | message | example traces |",
        "|---|---|---|---:|---:|---|---|",
    ]
    for a in alerts:
        lines.append(
            f"| {a.severity} | {a.rule} | {a.group} | {_num(a.value)} | {_num(a.baseline)} | "
            f"{a.message.replace('|', '/')} | {', '.join(x[:12] for x in a.examples[:3])} |"
        )
    return "\n".join(lines) + "\n"


def _num(v) -> str:
    if v is None:
        return ""
    return f"{v:.4g}" if isinstance(v, float) else str(v)
