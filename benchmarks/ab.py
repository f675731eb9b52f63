"""Old code against new on the same data, alternated in one run: did a change cost speed?

    python benchmarks/ab.py --old /tmp/old/src --data spans.jsonl --rounds 3

``--old`` is the ``src`` folder of another checkout (e.g. ``git worktree add /tmp/old COMMIT``, with its C
parts built in place); the new side is the package this interpreter imports. Each round ingests ``--data``
into a fresh store with each side (the order alternates between rounds, so drifting load hits both alike),
then runs each report on that side's own store. Prints wall and CPU seconds (the command and its workers),
best of the rounds, and new/old ratios. Machines here are shared: trust the CPU column and the ratios.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
from pathlib import Path
from time import perf_counter

REPORTS = ["summary", "latency", "errors", "cost", "drift", "agents", "stats"]


def timed(cmd: list[str], env: dict) -> tuple[float, float]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    wall = perf_counter() - t
    if proc.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed: {proc.stderr[-1500:]}")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--old", required=True, help="src folder of the old checkout")
    ap.add_argument("--data", required=True, help="an OTLP JSON-lines file (benchmarks/ingest.py writes one)")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--reports", default=",".join(REPORTS))
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="llmscope-ab-"))
    # the new side without its opt-in mypyc module, as the old side has none built
    sides = {
        "old": {**os.environ, "PYTHONPATH": str(Path(args.old).resolve())},
        "new": {**os.environ, "LLMSCOPE_PURE_PYTHON": "normalize.builder"},
    }
    tasks = ["ingest", *args.reports.split(",")]
    best: dict[tuple[str, str], tuple[float, float]] = {}
    for r in range(args.rounds):
        for side in ("old", "new") if r % 2 == 0 else ("new", "old"):
            db = work / f"{side}.duckdb"
            for p in (db, Path(f"{db}.wal")):
                p.unlink(missing_ok=True)
            base = [sys.executable, "-m", "llmscope", "--db", str(db)]
            for task in tasks:
                if task in ("ingest", "stats"):  # top-level commands on both sides
                    cmd = [*base, task, *([args.data] if task == "ingest" else ["--format", "json"])]
                else:
                    cmd = [*base, "report", task, "--format", "json"]
                wall, cpu = timed(cmd, sides[side])
                w0, c0 = best.get((side, task), (wall, cpu))
                best[side, task] = (min(w0, wall), min(c0, cpu))
    print(f"{args.rounds} alternated rounds on {args.data}; best of each (seconds)")
    print(f"{'task':10s} {'old wall':>9s} {'new wall':>9s} {'old CPU':>8s} {'new CPU':>8s} {'CPU new/old':>12s}")
    for task in tasks:
        (ow, oc), (nw, nc) = best["old", task], best["new", task]
        print(f"{task:10s} {ow:9.2f} {nw:9.2f} {oc:8.2f} {nc:8.2f} {nc / oc:12.2f}")


if __name__ == "__main__":
    main()
