"""`llmscope report html` opened in a real browser (Debian's headless Chromium through playwright), offline.

The page is built from the sample traces (ingested, scanned and scored), opened from file:// with
every other request blocked, and checked as a user would see it: no console errors, each section
drawn (screenshots not blank, kept under $LLMSCOPE_TEST_ARTIFACTS or the test's tmp dir), and the
figures printed in the page equal to the analysis functions' results on the same store.

Without chromium (or playwright) the browser tests skip, unless LLMSCOPE_REQUIRE_BROWSER=1 (CI), where they fail.
"""

from __future__ import annotations

import base64
import json
import os
import re
import tempfile
from pathlib import Path

import pytest
from helpers import copy_store
from markupsafe import escape
from typer.testing import CliRunner

from llmscope import store
from llmscope.analyses import agents as A
from llmscope.analyses import cost as C
from llmscope.analyses import drift as D
from llmscope.analyses import errors as E
from llmscope.analyses import latency as L
from llmscope.analyses import quality as Q
from llmscope.analyses import safety as S
from llmscope.analyses.summary import summary
from llmscope.cli.app import app
from llmscope.render.tables import fmt_value, rows_of, to_json

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
SECTIONS = ["overview", "latency", "errors", "cost", "drift", "agents", "safety", "traces"]
ENV = {"NO_COLOR": "1", "COLUMNS": "200"}


def _need_browser():
    """playwright's sync API, or skip (fail when LLMSCOPE_REQUIRE_BROWSER=1) with what to install."""
    why = None
    if not os.path.exists(CHROMIUM):
        why = f"no Chromium at {CHROMIUM}: apt-get install chromium"
    else:
        try:
            from playwright.sync_api import sync_playwright
        except ImportError:
            why = "playwright is not installed: pip install -e '.[test]'"
    if why:
        if os.environ.get("LLMSCOPE_REQUIRE_BROWSER") == "1":
            pytest.fail(f"the HTML report must be tested in a real browser (LLMSCOPE_REQUIRE_BROWSER=1): {why}")
        pytest.skip(why)
    return sync_playwright


@pytest.fixture(scope="module")
def db(tmp_path_factory, sample_master) -> Path:
    db = copy_store(sample_master, tmp_path_factory.mktemp("html") / "sample.duckdb")
    runner = CliRunner()
    for args in (["scan"], ["eval"]):
        res = runner.invoke(app, ["--db", str(db), *args], env=ENV)
        assert res.exit_code == 0, (args, res.output)
    return db


@pytest.fixture(scope="module")
def con(db):
    c = store.connect(db, read_only=True)
    yield c
    c.close()


@pytest.fixture(scope="module")
def artifacts(tmp_path_factory) -> Path:
    where = os.environ.get("LLMSCOPE_TEST_ARTIFACTS")
    out = Path(where) / "html-report" if where else tmp_path_factory.mktemp("html-shots")
    out.mkdir(parents=True, exist_ok=True)
    return out


@pytest.fixture(scope="module")
def page_file(db, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("page") / "report.html"
    res = CliRunner().invoke(app, ["--db", str(db), "report", "html", "-o", str(out)], env=ENV)
    assert res.exit_code == 0, res.output
    assert f"wrote {out}" in res.stderr
    return out


@pytest.fixture(scope="module")
def opened(page_file, artifacts):
    """The page opened offline in Chromium: its DOM figures, chart specs, console messages, screenshots."""
    sync_playwright = _need_browser()
    blocked, console, errors = [], [], []
    with sync_playwright() as p:
        ctx = p.chromium.launch_persistent_context(
            tempfile.mkdtemp(prefix="llmscope-chromium-"),
            executable_path=CHROMIUM,
            args=FLAGS,
            headless=True,
            viewport={"width": 1280, "height": 900},
        )
        try:

            def route(r):
                if r.request.url.startswith("file://"):
                    r.continue_()
                else:
                    blocked.append(r.request.url)
                    r.abort()

            ctx.route("**/*", route)
            page = ctx.new_page()
            page.on("console", lambda m: console.append((m.type, m.text)))
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(page_file.as_uri())
            page.wait_for_selector("html[data-charts=ready]", timeout=20_000)
            shots = {}
            for sid in SECTIONS:
                png = page.locator(f"section#{sid}").screenshot()
                (artifacts / f"{sid}.png").write_bytes(png)
                shots[sid] = png
            figures = page.evaluate(
                """() => Object.fromEntries([...document.querySelectorAll('figure.figures')].map(f => [
                    f.dataset.figure,
                    [...f.querySelectorAll('tbody tr')].map(tr => Object.fromEntries(
                        [...tr.querySelectorAll('td')].map(td => [td.dataset.col, [td.dataset.v, td.textContent]])))
                ]))"""
            )
            charts = page.evaluate(
                """() => [...document.querySelectorAll('.chart')].map(c => ({
                    source: c.dataset.source, drawn: c.querySelectorAll('svg .mark-rect path, svg .mark-line path, svg .mark-symbol path, svg path').length,
                    error: c.classList.contains('chart-error'),
                    spec: JSON.parse(document.getElementById(c.id + '-spec').textContent)}))"""
            )
            # a waterfall opens to its span details
            first = page.locator("section#traces details.trace").first
            span = first.locator("details.span").first
            span.locator("summary").click()
            span_details = span.locator("dl").inner_text()
            page.emulate_media(color_scheme="dark")
            dark_bg = page.evaluate("getComputedStyle(document.documentElement).backgroundColor")
            dark_png = page.locator("section#latency").screenshot()
            (artifacts / "latency-dark.png").write_bytes(dark_png)
            page.emulate_media(media="print", color_scheme="light")
            print_nav = page.evaluate("getComputedStyle(document.querySelector('nav')).display")
            shots["latency-dark"] = dark_png
            variance = _pixel_spread(ctx, shots)
        finally:
            ctx.close()
    return {
        "blocked": blocked,
        "console": console,
        "errors": errors,
        "figures": figures,
        "charts": charts,
        "span_details": span_details,
        "dark_bg": dark_bg,
        "print_nav": print_nav,
        "variance": variance,
    }


def _pixel_spread(ctx, shots: dict[str, bytes]) -> dict[str, dict]:
    """The browser decodes each screenshot: standard deviation of the grey level, share of non-background pixels."""
    page = ctx.new_page()
    try:
        return {name: _spread(page, png) for name, png in shots.items()}
    finally:
        page.close()


def _spread(page, png: bytes) -> dict:
    return page.evaluate(
        """async (src) => {
            const img = new Image(); img.src = src; await img.decode();
            const c = document.createElement('canvas'); c.width = img.width; c.height = img.height;
            const g = c.getContext('2d'); g.drawImage(img, 0, 0);
            const d = g.getImageData(0, 0, c.width, c.height).data;
            const bg = [d[0], d[1], d[2]];
            let n = 0, sum = 0, sq = 0, ink = 0;
            for (let i = 0; i < d.length; i += 4) {
                const v = 0.299 * d[i] + 0.587 * d[i + 1] + 0.114 * d[i + 2];
                n++; sum += v; sq += v * v;
                if (Math.abs(d[i] - bg[0]) + Math.abs(d[i + 1] - bg[1]) + Math.abs(d[i + 2] - bg[2]) > 30) ink++;
            }
            const mean = sum / n;
            return {std: Math.sqrt(sq / n - mean * mean), ink: ink / n, width: c.width, height: c.height};
        }""",
        "data:image/png;base64," + base64.b64encode(png).decode(),
    )


# ---------------------------------------------------------------------------- the page in the browser


def test_opens_offline_without_console_errors(opened, page_file):
    assert opened["blocked"] == []  # nothing but the file itself was requested
    assert opened["errors"] == []
    assert [m for m in opened["console"] if m[0] in ("error", "warning")] == []
    assert all(not c["error"] and c["drawn"] > 0 for c in opened["charts"]), [
        (c["source"], c["drawn"]) for c in opened["charts"]
    ]
    assert len(opened["charts"]) >= 10
    html = page_file.read_text()
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html)  # no external script, style or image
    assert "default-src 'none'" in html  # and the browser would refuse to fetch one
    assert page_file.stat().st_size < 3_000_000  # a few MB at most for the samples


def test_every_section_is_drawn(opened, artifacts):
    for sid in SECTIONS:
        v = opened["variance"][sid]
        assert v["height"] > 150 and v["std"] > 10 and v["ink"] > 0.01, (sid, v)
        assert (artifacts / f"{sid}.png").stat().st_size > 10_000
    assert opened["variance"]["latency-dark"]["std"] > 10


def test_dark_mode_print_and_span_details(opened):
    r, g, b = (int(x) for x in re.findall(r"\d+", opened["dark_bg"])[:3])
    assert r + g + b < 150  # the page follows prefers-color-scheme: dark
    assert opened["print_nav"] == "none"  # printing drops the navigation bar
    details = opened["span_details"]
    assert "duration" in details and "span type" in details


# ---------------------------------------------------------------------------- the figures equal the reports'


def _expected(con) -> dict[str, list[dict]]:
    """What each table of the page must show, computed here from the analysis functions."""
    base, cur = D.latest_windows(con)
    daily = C.cost_anomalies(con, every="1d").to_pylist()
    by_feature = C.cost_anomalies(con, by="feature", every="1d").to_pylist()
    return {
        "summary": summary(con),
        "latency": L.latency(con, by="model"),
        "errors": E.errors(con, by="provider"),
        "top_messages": E.top_messages(con, limit=10),
        "cost_by_feature": C.cost(con, by="feature"),
        "cost_by_prompt_version": C.cost(con, by="prompt_version"),
        "cost_anomalies": [r for r in daily if r["anomaly"]],
        "cost_anomalies_by_feature": [r for r in by_feature if r["anomaly"]],
        "top_requests": C.top_requests(con, n=10),
        "drift": D.drift(con, base, cur),
        "agents": A.agents(con),
        "loops": A.loops(con),
        "runaways": A.runaways(con),
        "safety": S.safety(con, by="feature"),
        "findings": S.findings(con, limit=20),
        "quality": Q.quality(con, by="prompt_version"),
    }


# columns whose text is not fmt_value of the value: (what it shows instead)
SHOWN_OTHERWISE = {"message", "pattern", "value", "baseline", "baseline_summary", "current_summary"}


def test_figures_in_the_page_equal_the_analyses(opened, con):
    figures = opened["figures"]
    expected = _expected(con)
    assert set(expected) <= set(figures), set(expected) - set(figures)
    for fid, data in expected.items():
        want = json.loads(to_json(rows_of(data)[1]))
        got = figures[fid]
        assert len(got) == len(want), fid
        for i, (g, w) in enumerate(zip(got, want)):
            for col, (raw, text) in g.items():
                value = json.loads(raw)
                if isinstance(w[col], float):
                    assert value == pytest.approx(w[col], rel=1e-12), (fid, i, col)
                else:
                    assert value == w[col], (fid, i, col)
                if col in SHOWN_OTHERWISE:
                    continue
                py = rows_of(data)[1][i][col]
                shown = fmt_value(py, col)
                if isinstance(py, str) and (col == "trace_id" or col.endswith("trace_id")):
                    shown = py[:12]
                assert text == shown, (fid, i, col, text, shown)
    assert len(figures["loops"]) == 2 and len(figures["findings"]) >= 4  # the planted problems are there
    # the summary's values as the terminal prints them, and the masked PII stays masked
    assert {tuple(json.loads(r[c][0]) for c in ("family", "signal")) for r in figures["summary"]} >= {
        ("safety", "safety findings"),
        ("quality", "mean groundedness lexical score"),
    }


def test_the_page_shows_what_the_json_reports_print(opened, db):
    """The CLI's --format json, row by row, for the headline tables."""
    runner = CliRunner()
    for fid, args in (
        ("latency", ["report", "latency", "--by", "model"]),
        ("cost_by_feature", ["report", "cost", "--by", "feature"]),
        ("summary", ["report", "summary"]),
    ):
        res = runner.invoke(app, ["--db", str(db), *args, "--format", "json"], env=ENV)
        assert res.exit_code == 0, res.output
        want = json.loads(res.stdout)
        got = opened["figures"][fid]
        assert len(got) == len(want)
        for g, w in zip(got, want):
            for col, (raw, _) in g.items():
                assert json.loads(raw) == (pytest.approx(w[col]) if isinstance(w[col], float) else w[col]), (fid, col)


def test_charts_are_drawn_from_the_analysis_rows(opened, con):
    def values(chart) -> list[dict]:
        """Every row of inline data in the spec (top-level datasets or data.values of any layer)."""
        out = []

        def walk(node):
            if isinstance(node, dict):
                for k, v in node.items():
                    if k == "datasets":
                        out.extend(r for rows in v.values() for r in rows)
                    elif k == "data" and isinstance(v, dict) and "values" in v:
                        out.extend(v["values"])
                    else:
                        walk(v)
            elif isinstance(node, list):
                for x in node:
                    walk(x)

        walk(chart["spec"])
        return out

    by_source = {c["source"]: c for c in opened["charts"]}
    latency = next(c for s, c in by_source.items() if s.startswith("latency.latency_series"))
    every = re.search(r"every='(\w+)'", latency["source"]).group(1)
    want = json.loads(to_json(rows_of(L.latency_series(con, every, by="model"))[1]))
    got = [{k: v for k, v in r.items() if k != "group"} for r in values(latency)]
    assert got == want
    errors = next(c for s, c in by_source.items() if s.startswith("errors.errors_series"))
    assert values(errors) == json.loads(to_json(rows_of(E.errors_series(con, every))[1]))
    cost = by_source["cost.cost_anomalies(every='1d')"]
    assert values(cost) == json.loads(to_json(rows_of(C.cost_anomalies(con, every="1d"))[1]))
    assert sum(r["anomaly"] for r in values(cost)) == 2  # the breaks marked on the series


# ---------------------------------------------------------------------------- privacy


def test_privacy_by_default_and_content_on_request(con, db, page_file, tmp_path):
    tool_args = "quantum error correction surface code threshold 2025"  # the looping agent's web_search query
    user = con.execute(
        "SELECT user_id FROM spans WHERE trace_id = 'ee7cc7d19c3e60c196feabf8dadd1f6f' LIMIT 1"
    ).fetchall()
    answer = con.execute(
        "SELECT output_text FROM spans WHERE trace_id = 'ee7cc7d19c3e60c196feabf8dadd1f6f' AND span_type = 'llm' "
        "AND output_text IS NOT NULL ORDER BY start_time LIMIT 1"
    ).fetchall()[0][0]
    plain = page_file.read_text()
    assert "jane.doe@example.com" not in plain and "j***@example.com" in plain  # the leak, masked
    answer = str(escape(answer[:60]))  # as the page writes it
    assert tool_args not in plain and answer not in plain
    assert user[0][0] and f">{user[0][0]}<" not in plain
    assert "(terms hidden: --content)" in plain
    out = tmp_path / "with-content.html"
    res = CliRunner().invoke(app, ["--db", str(db), "report", "html", "--content", "-o", str(out)], env=ENV)
    assert res.exit_code == 0, res.output
    full = out.read_text()
    assert tool_args in full and answer in full and "(terms hidden" not in full


def test_filters_and_bad_options(db, tmp_path):
    runner = CliRunner()
    out = tmp_path / "incident.html"
    res = runner.invoke(
        app,
        [
            "--db",
            str(db),
            "report",
            "html",
            "-o",
            str(out),
            "--since",
            "2025-11-12T09:00",
            "--until",
            "2025-11-12T10:00",
            "--by",
            "provider",
        ],
        env=ENV,
    )
    assert res.exit_code == 0, res.output
    page = out.read_text()
    assert "2025-11-12 09:00:00" in page and 'data-figure="latency"' in page
    assert 'data-col="provider" data-v="&#34;anthropic&#34;"' in page  # --by replaced the model grouping
    res = runner.invoke(app, ["--db", str(db), "report", "html", "--by", "nonsense", "-o", str(out)], env=ENV)
    assert res.exit_code == 2 and "not a groupable column" in res.output and "Traceback" not in res.output
    res = runner.invoke(
        app, ["--db", str(db), "report", "html", "-o", str(tmp_path / "no" / "such" / "dir.html")], env=ENV
    )
    assert res.exit_code == 2 and "cannot write" in res.output
