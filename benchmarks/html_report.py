"""Speed of `llmscope report html` on a large store, and of opening the page in a browser, in one run.

    python benchmarks/html_report.py --spans 1000000 --workdir /tmp/llmscope-html

1. builds (or reuses) the generated store of ``benchmarks/reports.py`` with N spans (~5-span traces,
   8 models, 30 days, errors of four classes, agents and tools);
2. renders the report in a fresh process per run (``python -c`` calling ``html_report``; imports and the
   vega bundle's disk cache included, as a user's ``llmscope report html`` pays them), ``--runs`` times;
   baseline in the same run: a full-column scan of the store (``count(*), sum(duration_ms)``) in such a
   process, and the same process that only imports llmscope and altair;
3. opens the page ``--runs`` times in Debian's headless Chromium (fresh profile, networking blocked):
   navigation start until every chart is drawn (``html[data-charts=ready]``); baseline in the same run:
   a page holding only the same inlined vega bundle and one small chart.

Targets (issue 19): render under 10 s, open under 3 s. Machines here are noisy: compare with the baselines.
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
CHROMIUM = "/usr/bin/chromium"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

RENDER = """
import sys, time
t = time.perf_counter()
from llmscope.result import arrow_without_pandas
arrow_without_pandas()  # as the `llmscope` command does first
from llmscope import store
from llmscope.render.html import html_report
con = store.connect(sys.argv[1], read_only=True)
page = html_report(con)
open(sys.argv[2], "w").write(page)
print(time.perf_counter() - t)
"""
SCAN = """
import sys, time
t = time.perf_counter()
from llmscope import store
import altair  # noqa: F401  (the report's imports, without the report)
con = store.connect(sys.argv[1], read_only=True)
con.execute("SELECT count(*), sum(duration_ms) FROM spans").fetchall()
print(time.perf_counter() - t)
"""


def _reports_module():
    spec = importlib.util.spec_from_file_location("bench_reports", HERE / "reports.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def timed(code: str, *args: str) -> float:
    out = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, check=True)
    return float(out.stdout.strip().splitlines()[-1])


def open_times(pages: list[Path], runs: int) -> dict[Path, list[float]]:
    from playwright.sync_api import sync_playwright

    times: dict[Path, list[float]] = {p: [] for p in pages}
    with sync_playwright() as p:
        for _ in range(runs):
            for page_path in pages:
                ctx = p.chromium.launch_persistent_context(
                    tempfile.mkdtemp(prefix="llmscope-bench-"), executable_path=CHROMIUM, args=FLAGS, headless=True
                )
                try:
                    ctx.route("**/*", lambda r: r.continue_() if r.request.url.startswith("file://") else r.abort())
                    page = ctx.new_page()
                    page.goto(page_path.as_uri())
                    page.wait_for_selector("html[data-charts=ready]", timeout=60_000)
                    # navigation start -> charts drawn, measured by the page's own clock
                    times[page_path].append(page.evaluate("performance.now()") / 1000)
                finally:
                    ctx.close()
    return times


def baseline_page(path: Path) -> None:
    from llmscope.render.html import vega_bundle

    spec = '{"data": {"values": [{"a": 1}, {"a": 2}]}, "mark": "bar", "encoding": {"x": {"field": "a", "type": "ordinal"}}}'
    path.write_text(
        f"<!doctype html><html><body><div class='chart' id='c'></div><script>{vega_bundle()}</script>"
        f"<script>vegaEmbed('#c', {spec}, {{renderer: 'svg', actions: false}})"
        ".then(() => document.documentElement.setAttribute('data-charts', 'ready'))</script></body></html>"
    )


def span(values: list[float]) -> str:
    return f"{min(values):.2f}-{max(values):.2f} s (median {statistics.median(values):.2f})"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--spans", type=int, default=1_000_000)
    ap.add_argument("--workdir", default="/tmp/llmscope-html-bench")
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    work = Path(args.workdir)
    work.mkdir(parents=True, exist_ok=True)
    reports = _reports_module()
    path = reports.store_path(work, args.spans)
    if reports.existing_count(path) != args.spans:
        subprocess.run(
            [
                sys.executable,
                str(HERE / "reports.py"),
                "--build-only",
                "--spans",
                str(args.spans),
                "--workdir",
                str(work),
            ],
            check=True,
        )
    print(f"store: {path} ({args.spans:,} spans, {reports.store_size(path) / 1e6:,.0f} MB)")

    page = work / "report.html"
    render, scan = [], []
    for _ in range(args.runs):
        scan.append(timed(SCAN, str(path)))
        render.append(timed(RENDER, str(path), str(page)))
    size = page.stat().st_size
    print(f"render  (fresh process each): {span(render)}   target < 10 s")
    print(f"  baseline, same processes: imports + one full-column scan {span(scan)}")
    print(f"  page size {size / 1e6:.2f} MB")

    if not Path(CHROMIUM).exists():
        print(f"no {CHROMIUM}: browser timing skipped (apt-get install chromium)")
        return
    base_page = work / "baseline.html"
    baseline_page(base_page)
    times = open_times([page, base_page], args.runs)
    print(f"open in Chromium until every chart is drawn: {span(times[page])}   target < 3 s")
    print(f"  baseline, same browser: the vega bundle alone with one chart {span(times[base_page])}")


if __name__ == "__main__":
    main()
