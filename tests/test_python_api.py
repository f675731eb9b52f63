"""The library API as a notebook user meets it: the README's Python example runs as written, Results
convert, errors are the library's own, and the CLI's reports equal the library's."""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

import polars
import pytest
from typer.testing import CliRunner

import llmscope
from llmscope.cli.app import app

REPO = Path(__file__).resolve().parent.parent
README = REPO / "README.md"


def _python_example() -> str:
    text = README.read_text()
    section = text[text.index("### Python") :]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


def test_the_readme_python_example_runs_as_written(tmp_path, monkeypatch):
    # run from a copy of the repository layout the example names (sample_traces/, the example rules)
    shutil.copytree(REPO / "sample_traces", tmp_path / "sample_traces")
    (tmp_path / "src" / "llmscope").mkdir(parents=True)
    shutil.copy(REPO / "src" / "llmscope" / "example_alerts.toml", tmp_path / "src" / "llmscope")
    monkeypatch.chdir(tmp_path)
    scope: dict = {}
    exec(compile(_python_example(), "README.md#python", "exec"), scope)
    assert scope["report"].spans_added > 10_000 and scope["report"].bad_records == 0
    assert isinstance(scope["p99"], polars.DataFrame) and scope["p99"].height >= 4
    assert len(scope["top"]) == 10 and scope["errors"].num_rows > 0
    assert scope["scan"].findings > 0 and scope["scores"].scored > 0
    assert {a.rule for a in scope["alerts"]} >= {"provider errors"}


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    db = tmp_path_factory.mktemp("api") / "s.duckdb"
    s = llmscope.open(db)
    s.ingest([str(REPO / "sample_traces")])
    return s


def test_results_convert_and_show_themselves(store):
    res = store.report("latency", by=["model"], since="2025-11-01", until="2025-11-15")
    assert res.to_arrow().num_rows == res.num_rows == len(res.to_dicts()) == res.to_polars().height
    assert res.columns[0] == "model" and "p99_ms" in res.columns
    assert "<table>" in res._repr_html_() and "p99_ms" in repr(res)
    cost = store.report("cost", top=3)
    assert cost.tables == ["cost", "top_requests"] and cost["top_requests"].num_rows == 3
    with pytest.raises(KeyError, match="top_requests"):
        cost["nope"]


def test_library_errors_are_typed_and_speak_of_keywords(store):
    with pytest.raises(llmscope.QueryError) as e:
        store.report("latency", by="banana")
    assert e.value.param == "by" and "--" not in str(e.value)
    with pytest.raises(llmscope.QueryError, match="not an option of the latency report"):
        store.report("latency", top=3)
    with pytest.raises(llmscope.QueryError, match="not a report"):
        store.report("nope")
    with pytest.raises(llmscope.StoreError, match="is a JSON file"):
        llmscope.open(REPO / "sample_traces" / "manifest.json")


def test_the_cli_prints_what_the_library_returns(store):
    env = {"NO_COLOR": "1", "COLUMNS": "200"}
    for args, kind, kw in (
        (["report", "latency", "--by", "model"], "latency", {"by": "model"}),
        (["report", "cost", "--by", "feature,prompt_version"], "cost", {"by": ["feature", "prompt_version"]}),
        (["report", "errors", "--by", "provider"], "errors", {"by": "provider"}),
    ):
        out = CliRunner().invoke(app, ["--db", str(store.path), *args, "--format", "json"], env=env)
        assert out.exit_code == 0, out.output
        # the same rows; sums of floats may differ in their last bits between two runs of a parallel engine
        assert _rounded(json.loads(out.stdout)) == _rounded(json.loads(_json(store, kind, kw)))


def _rounded(rows: list[dict]) -> list[dict]:
    return [{k: float(f"{v:.9g}") if isinstance(v, float) else v for k, v in r.items()} for r in rows]


def _json(store, kind, kw) -> str:
    from llmscope.render.tables import to_json

    return to_json(store.report(kind, **kw).to_dicts())


def test_public_surface_is_chosen():
    assert set(llmscope.__all__) >= {"open", "Store", "Result", "LlmscopeError", "QueryError", "StoreError", "REPORTS"}
    assert all(hasattr(llmscope, name) for name in llmscope.__all__)
    assert os.path.exists(Path(llmscope.__file__).parent / "py.typed")
