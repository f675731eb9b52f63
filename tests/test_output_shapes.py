"""One output shape per report (issue 14, item 11): `--format json` is an array of row objects, `--format csv`
one table with one header; a report with several tables prints its main one and names the others, which
`--table NAME` selects -- the same rule for every report kind and variant."""

from __future__ import annotations

import csv
import io
import json

import pytest
from typer.testing import CliRunner

import llmscope
from llmscope.cli.app import app

runner = CliRunner()

# every report kind, and the variants that add tables (html writes a file and has no table output)
VARIANTS = [
    ("summary",),
    ("latency", "--by", "model"),
    ("latency", "--by", "model", "--histogram"),
    ("latency", "--every", "1d"),
    ("errors", "--by", "provider,error_type"),
    ("cost", "--by", "feature"),
    ("cost", "--by", "feature", "--top", "5"),
    ("cost", "--anomalies"),
    ("drift",),
    ("agents",),
    ("loops",),
    ("tools",),
    ("safety",),
    ("quality",),
]


def _run(db, *args: str):
    res = runner.invoke(app, ["--db", str(db), *args], env={"NO_COLOR": "1", "COLUMNS": "200"})
    assert res.exit_code == 0, (args, res.output, res.exception)
    return res


def test_every_report_kind_is_covered():
    assert {v[0] for v in VARIANTS} | {"html", "stats"} == set(llmscope.REPORTS)


@pytest.mark.parametrize("variant", VARIANTS, ids=[" ".join(v) for v in VARIANTS])
def test_json_is_an_array_of_row_objects_and_csv_one_table(sample_master, variant):
    out = _run(sample_master, "report", *variant, "--format", "json").stdout
    rows = json.loads(out)
    assert isinstance(rows, list) and all(isinstance(r, dict) for r in rows), out[:300]
    if len(rows) > 1:
        assert all(r.keys() == rows[0].keys() for r in rows)  # one table: the same columns in every row
    text = _run(sample_master, "report", *variant, "--format", "csv").stdout
    table = list(csv.reader(io.StringIO(text)))
    header = table[0] if table else []
    assert header == (list(rows[0]) if rows else header)  # the same table as the JSON, one header line
    assert all(len(line) == len(header) for line in table)  # no second table with other columns


def test_other_tables_come_one_at_a_time_by_name(sample_master):
    store = llmscope.open(sample_master)
    for variant, kind, options in (
        (("cost", "--by", "feature", "--top", "5"), "cost", {"by": "feature", "top": 5}),
        (("summary",), "summary", {}),
    ):
        result = store.report(kind, **options)
        assert result.others, kind  # a report that has several tables
        for name in result.others:
            rows = json.loads(_run(sample_master, "report", *variant, "--table", name, "--format", "json").stdout)
            lib = result[name].to_dicts()  # the library's rows (times as datetime; the CLI prints ISO 8601)
            assert [list(r) for r in rows] == [list(r) for r in lib], (kind, name)
            first = result[name].to_arrow().column_names[0]
            assert [r[first] for r in rows] == [str(r[first]) if r[first] is not None else None for r in lib]
    stats = json.loads(_run(sample_master, "stats", "--format", "json").stdout)
    assert isinstance(stats, list) and all(isinstance(r, dict) for r in stats)
    table = list(csv.reader(io.StringIO(_run(sample_master, "stats", "--format", "csv").stdout)))
    assert table[0] == list(stats[0]) and all(len(line) == len(table[0]) for line in table)  # not four tables
