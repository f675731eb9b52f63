"""Judge throughput: is the client ever the bottleneck?

    python benchmarks/eval_judge.py --traces 400 --latency 0.05 --concurrency 8

Ingests realistic RAG traces (benchmarks/ingest.py's generator), starts the test judge server on
127.0.0.1 with a fixed latency per request, and times `llmscope eval --judge` on groundedness.
The ceiling is concurrency / latency (8 / 0.05 s = 160 calls/s); the target is at least 40
judged spans/s. A second run shows the cache: zero judge calls.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))
sys.path.insert(0, str(HERE))


def main() -> None:
    import ingest as gen  # benchmarks/ingest.py
    from judge_server import JudgeServer

    from llmscope import store
    from llmscope.evals import judges
    from llmscope.evals.runner import EvalOptions, run_eval
    from llmscope.ingest.pipeline import ingest

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--traces", type=int, default=400)
    ap.add_argument("--latency", type=float, default=0.05)
    ap.add_argument("--concurrency", type=int, default=8)
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="llmscope-evalbench-"))
    data = work / "rag.jsonl"
    gen.write_file(data, args.traces * 5)
    db = work / "e.duckdb"
    ingest([str(data)], db)
    with JudgeServer(delay=args.latency) as server:
        judge = judges.resolve(
            "bench",
            {"judges": {"bench": {"base_url": server.url, "model": "judge", "max_concurrency": args.concurrency}}},
        )
        con = store.connect(db)
        try:
            t = time.perf_counter()
            rep = run_eval(con, EvalOptions(metrics=["groundedness"]), judge)
            dt = time.perf_counter() - t
            t = time.perf_counter()
            again = run_eval(con, EvalOptions(metrics=["groundedness"], rescore=True), judge)
            dt2 = time.perf_counter() - t
        finally:
            con.close()
    ceiling = args.concurrency / args.latency
    rate = rep.scored / dt
    print(f"items {rep.items}, scored {rep.scored}, errors {rep.errors}, judge calls {rep.calls}, {dt:.2f}s")
    print(
        f"judged spans/s: {rate:,.1f}  (ceiling {ceiling:,.0f}/s = concurrency {args.concurrency} / latency "
        f"{args.latency * 1000:.0f} ms; ratio {rate / ceiling:.2f}; target >= 40/s: {'OK' if rate >= 40 else 'SLOW'})"
    )
    print(f"rerun with --rescore: {again.cached} from cache, {again.calls} judge calls, {dt2:.2f}s")


if __name__ == "__main__":
    main()
