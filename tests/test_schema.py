"""One schema: the store's tables, the normalized batches and the README all follow llmscope.schema."""

from __future__ import annotations

from pathlib import Path

import duckdb

from llmscope import schema
from llmscope.normalize.builder import LOG_FIELDS, SPAN_FIELDS
from llmscope.store import connect

README = Path(__file__).resolve().parent.parent / "README.md"


def _columns(db: Path, table: str) -> list[tuple[str, str]]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return [(r[0], r[1]) for r in con.execute(f"DESCRIBE {table}").fetchall()]
    finally:
        con.close()


def test_a_migrated_store_has_exactly_the_defined_columns(tmp_path):
    db = tmp_path / "s.duckdb"
    connect(db).close()
    assert _columns(db, "spans") == [(c.name, c.type) for c in schema.SPANS]
    assert _columns(db, "logs") == [(c.name, c.type) for c in schema.LOGS]


def test_normalized_batches_carry_every_staged_column_with_its_type():
    staged = {c.name: c.arrow_type for c in schema.SPANS if c.staged}
    fields = dict(SPAN_FIELDS)
    assert set(fields) - {"start_ns", "end_ns"} == set(staged)
    assert all(fields[n] == t for n, t in staged.items())
    assert dict(LOG_FIELDS) == {c.name: c.arrow_type for c in schema.LOGS if c.staged}


def test_the_readme_schema_table_is_the_definition():
    assert schema.markdown_table() in README.read_text(), (
        "regenerate it: python -c 'import llmscope.schema as s; print(s.markdown_table())'"
    )
