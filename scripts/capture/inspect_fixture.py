#!/usr/bin/env python3
"""Print a readable summary of a captured fixture directory (stdlib only).

python3 scripts/capture/inspect_fixture.py tests/fixtures/captured/<name> [--width 100]
"""

from __future__ import annotations

import argparse
import json
import os


def any_value(v):
    if not isinstance(v, dict):
        return v
    for k in ("stringValue", "boolValue", "doubleValue", "bytesValue"):
        if k in v:
            return v[k]
    if "intValue" in v:
        return int(v["intValue"])
    if "arrayValue" in v:
        return [any_value(x) for x in v["arrayValue"].get("values", [])]
    if "kvlistValue" in v:
        return {kv["key"]: any_value(kv.get("value", {})) for kv in v["kvlistValue"].get("values", [])}
    return None


def attrs(lst):
    return {a["key"]: any_value(a.get("value", {})) for a in lst or []}


def short(v, width):
    s = json.dumps(v, ensure_ascii=False) if not isinstance(v, str) else repr(v)
    return s if len(s) <= width else s[: width - 3] + "..."


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dir")
    ap.add_argument("--width", type=int, default=110)
    a = ap.parse_args()
    w = a.width
    with open(os.path.join(a.dir, "traces.otlp.jsonl")) as f:
        for ln, line in enumerate(f, 1):
            for rs in json.loads(line).get("resourceSpans", []):
                print(f"== line {ln} resource {short(attrs(rs.get('resource', {}).get('attributes')), w)}")
                for ss in rs.get("scopeSpans", []):
                    print(f"  -- scope {ss.get('scope', {}).get('name')} {ss.get('scope', {}).get('version', '')}")
                    for sp in ss.get("spans", []):
                        print(
                            f"  SPAN {sp['name']!r} kind={sp.get('kind', 0)} status={sp.get('status', {})} "
                            f"trace={sp['traceId'][:8]} span={sp['spanId'][:8]} parent={sp.get('parentSpanId', '-')[:8]}"
                        )
                        for k, v in attrs(sp.get("attributes")).items():
                            print(f"      {k} = {short(v, w)}")
                        for ev in sp.get("events", []):
                            print(f"      EVENT {ev['name']}: {short(attrs(ev.get('attributes')), w)}")
    lp = os.path.join(a.dir, "logs.otlp.jsonl")
    if os.path.exists(lp):
        with open(lp) as f:
            for ln, line in enumerate(f, 1):
                for rl in json.loads(line).get("resourceLogs", []):
                    for sl in rl.get("scopeLogs", []):
                        print(f"== logs line {ln} scope {sl.get('scope', {}).get('name')}")
                        for lr in sl.get("logRecords", []):
                            print(
                                f"  LOG eventName={lr.get('eventName')!r} sev={lr.get('severityNumber')} "
                                f"span={lr.get('spanId', '-')[:8]} attrs={short(attrs(lr.get('attributes')), w)}"
                            )
                            print(f"      body={short(any_value(lr.get('body', {})), w * 2)}")


if __name__ == "__main__":
    main()
