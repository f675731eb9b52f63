"""Safety scan speed over realistic spans.

    python benchmarks/scan.py --spans 1000000

Writes N spans of realistic RAG traces (benchmarks/ingest.py's generator: system prompt, three
context documents, question and answer on every chat span; retrieved documents on every retrieval
span), ingests them, then times `llmscope scan` over all of them on every core. A baseline in the
same run: reading the same text columns out of the store. Target: 1,000,000 spans in under 60 s.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))


def main() -> None:
    import ingest as gen  # benchmarks/ingest.py

    from llmscope import store
    from llmscope.ingest.pipeline import ingest
    from llmscope.safety.scan import scan

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--spans", type=int, default=1_000_000)
    ap.add_argument("--workdir", default=None)
    args = ap.parse_args()
    work = Path(args.workdir or tempfile.mkdtemp(prefix="llmscope-scanbench-"))
    work.mkdir(parents=True, exist_ok=True)
    db = work / f"scan-{args.spans}.duckdb"
    if not db.exists():
        data = work / f"otlp-{args.spans}.jsonl"
        if not data.exists():
            gen.write_file(data, args.spans)
        ingest([str(data)], db)
    con = store.connect(db)
    con.execute("DELETE FROM findings")
    con.execute("DELETE FROM scanned_spans")
    t = time.perf_counter()
    n_text = con.execute("SELECT count(*), sum(length(input_text)), sum(length(output_text)) FROM spans").fetchall()[0]
    con.sql("SELECT input_text, output_text FROM spans").to_arrow_table() if hasattr(
        con.sql("SELECT 1"), "to_arrow_table"
    ) else None
    base = time.perf_counter() - t
    t = time.perf_counter()
    rep = scan(con)
    dt = time.perf_counter() - t
    con.close()
    print(f"spans {n_text[0]:,}; text {((n_text[1] or 0) + (n_text[2] or 0)) / 1e6:,.0f} MB; cores {os.cpu_count()}")
    print(f"baseline (read the text columns): {base:.2f}s")
    print(
        f"scan: {dt:.1f}s, {rep.spans_scanned / dt:,.0f} spans/s, {dt / base:.0f}x baseline; findings {rep.findings:,} "
        f"{rep.by_kind}; target < 60 s for 1M: {'OK' if dt * 1_000_000 / max(rep.spans_scanned, 1) < 60 else 'SLOW'}"
    )


if __name__ == "__main__":
    main()
