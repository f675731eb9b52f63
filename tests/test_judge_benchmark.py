"""`eval benchmark`: three judges served on 127.0.0.1 that answer deterministically differently (exact,
say-pass-to-everything, flipping on repeats), scored against labels whose right answers are known."""

from __future__ import annotations

import csv
import io
import json

import pytest
from judge_server import JudgeServer
from typer.testing import CliRunner

import llmscope
from llmscope.cli.app import app
from llmscope.errors import EvalError

CONTEXT = "The Eiffel Tower is in Paris. It opened in 1889 and is about 330 metres tall."
GOOD = ["The Eiffel Tower is in Paris.", "It opened in 1889.", "The tower is about 330 metres tall."]
BAD = ["It was designed by Leonardo.", "The Eiffel Tower is in Rome.", "It opened in 1920 in Berlin."]


def _labels(path):
    items = []
    for i in range(4):  # 12 good, 12 bad groundedness items; 4 relevancy items
        for k, text in enumerate(GOOD):
            items.append({"id": f"g{i}{k}", "output": text, "context": f"{CONTEXT} Copy {i}.", "label": "pass"})
        for k, text in enumerate(BAD):
            items.append(
                {"id": f"b{i}{k}", "output": text, "context": f"{CONTEXT} Copy {i}.", "label": "hallucination"}
            )
    items += [
        {"id": "r1", "metric": "answer_relevancy", "input": "When did the tower open?", "output": "The tower opened in 1889.", "label": "pass"},
        {"id": "r2", "metric": "answer_relevancy", "input": "When did the tower open?", "output": "Bananas are yellow.", "label": "fail"},
        {"id": "r3", "metric": "answer_relevancy", "input": "How tall is the tower?", "output": "The tower is 330 metres.", "label": "pass"},
        {"id": "r4", "metric": "answer_relevancy", "input": "How tall is the tower?", "output": "Paris has cafes.", "label": "fail"},
    ]  # fmt: skip
    path.write_text("\n".join(json.dumps(x) for x in items) + "\n")
    return path


@pytest.fixture
def three_judges(tmp_path):
    with (
        JudgeServer() as exact,
        JudgeServer(persona="lenient") as lenient,
        JudgeServer(persona="flaky", delay=0.05) as flaky,
    ):
        cfg = tmp_path / "llmscope.toml"
        cfg.write_text(
            f'[judges.big]\nbase_url = "{exact.url}"\nmodel = "big-70b"\nprice_in = 2.5\nprice_out = 10.0\n'
            f'[judges.yes]\nbase_url = "{lenient.url}"\nmodel = "tiny-1b"\nprice_in = 0.1\nprice_out = 0.2\n'
            f'[judges.flaky]\nbase_url = "{flaky.url}"\nmodel = "mid-8b"\nprice_in = 0.2\nprice_out = 0.4\n'
        )
        yield cfg, {"big": exact, "yes": lenient, "flaky": flaky}


def test_accuracy_kappa_confusion_flips_cost_and_latency_per_judge(tmp_path, three_judges):
    cfg, servers = three_judges
    labels = _labels(tmp_path / "labels.jsonl")
    res = llmscope.open(tmp_path / "none.duckdb", config=cfg).benchmark_judges("big,yes,flaky", labels, repeat=2)
    rows = {(r["judge"], r["metric"]): r for r in res.to_dicts()}
    big, yes, flaky = (rows[(j, "groundedness")] for j in ("big", "yes", "flaky"))
    assert big["items"] == big["judged"] == 24 and big["errors"] == 0
    assert (big["accuracy"], big["balanced_accuracy"], big["cohen_kappa"], big["flip_rate"]) == (1.0, 1.0, 1.0, 0.0)
    # says pass to everything: half right, no better than chance
    assert (yes["accuracy"], yes["balanced_accuracy"], yes["cohen_kappa"]) == (0.5, 0.5, 0.0)
    # right on the first request, and every one-claim verdict flips on the second
    assert flaky["accuracy"] == 1.0 and flaky["flip_rate"] == 1.0
    assert flaky["latency_p50_ms"] >= 50 and big["latency_p50_ms"] > 0  # the flaky server sleeps 50 ms
    assert big["cost_per_item_usd"] > 10 * yes["cost_per_item_usd"] > 0
    relevancy = rows[("yes", "answer_relevancy")]
    assert relevancy["items"] == 4 and relevancy["balanced_accuracy"] == 0.5
    assert rows[("big", "answer_relevancy")]["accuracy"] == 1.0
    confusion = {
        (r["expected"], r["predicted"]): r["count"]
        for r in res["confusion"].to_dicts()
        if r["judge"] == "yes" and r["metric"] == "groundedness"
    }
    assert confusion == {("fail", "fail"): 0, ("fail", "pass"): 12, ("pass", "fail"): 0, ("pass", "pass"): 12}
    per_class = {(r["judge"], r["class"]): r for r in res["per_class"].to_dicts() if r["metric"] == "groundedness"}
    assert per_class[("yes", "fail")]["recall"] == 0.0 and per_class[("yes", "pass")]["precision"] == 0.5
    # two requests for each of the 28 items, nothing from a cache
    assert servers["big"].requests == servers["flaky"].requests == 56


def test_cli_tables_and_bad_labels(tmp_path, three_judges):
    cfg, _ = three_judges
    labels = _labels(tmp_path / "labels.jsonl")
    runner = CliRunner()
    base = ["--db", str(tmp_path / "none.duckdb"), "--config", str(cfg), "eval", "benchmark", "--labels", str(labels)]
    env = {"NO_COLOR": "1", "COLUMNS": "80"}
    res = runner.invoke(app, [*base, "--judge", "big,yes", "--repeat", "1"], env=env)
    assert res.exit_code == 0, res.output
    assert "balanced" in res.stdout and "Confusion" in res.stdout
    res = runner.invoke(app, [*base, "--judge", "yes", "--repeat", "1", "--table", "confusion", "--format", "csv"])
    got = list(csv.DictReader(io.StringIO(res.stdout)))
    assert {"judge", "metric", "expected", "predicted", "count"} == set(got[0])
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({"output": "x", "label": "maybe"}) + "\n")
    res = runner.invoke(app, [*base[:-1], str(bad), "--judge", "big"], env=env)
    assert res.exit_code == 2 and "bad.jsonl:1: label 'maybe' is not pass/fail" in res.stderr
    with pytest.raises(EvalError, match="builtin scorers are not a judge"):
        llmscope.open(tmp_path / "none.duckdb").benchmark_judges("builtin", labels)
