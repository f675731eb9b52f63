"""What every question returns: a :class:`Result`, an Arrow table with a title and notes.

    >>> import llmscope
    >>> with llmscope.open("llmscope.duckdb") as store:
    ...     result = store.report("latency", by="model")
    >>> result.to_polars()          # zero-copy from Arrow
    >>> result.to_dicts()[0]["p99_ms"]

Reports with more than one table (``cost`` with ``top``, ``errors`` with its top messages, ``loops``
with runaways, ``stats``) carry the others by name: ``result.tables`` lists them, ``result["name"]``
returns one as a Result of its own. The first table is the result itself.
"""

from __future__ import annotations

import html
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from .errors import LlmscopeError

if TYPE_CHECKING:  # optional dependencies, imported when asked for
    import pandas
    import polars


def arrow_without_pandas() -> None:
    """For a process that never hands Arrow to pandas (the command line, pool workers): pyarrow imports
    pandas, when installed, on its first conversion of a Python list (``pa.array``), to ask whether the
    list is a pandas object. Answered "no pandas" once here, that costs nothing; pandas stays importable
    by anything else, only pyarrow's own pandas conversions (``to_pandas``) are off in this process.
    Measured: 0.55 s CPU of a 2.4 s ``llmscope ingest`` of five spans with pandas installed."""
    if "pandas" in sys.modules:
        return

    class _HidePandas:
        def find_spec(self, name: str, path: Any, target: Any = None) -> None:
            if name == "pandas" or name.startswith("pandas."):
                raise ImportError("pandas hidden from pyarrow's first look")

    finder = _HidePandas()
    sys.meta_path.insert(0, finder)
    try:
        pa.array([])  # pyarrow's pandas shim looks once per process, and remembers
    finally:
        sys.meta_path.remove(finder)


def _rows(table: pa.Table) -> list[dict[str, Any]]:
    return table.to_pylist()


@dataclass
class Result:
    """An Arrow table and what it means.

    ``name``: the table's name (``latency``, ``top_requests``, …); ``title``: a heading for people;
    ``notes``: lines a reader should see (an empty answer says why; what was assumed);
    ``meta``: figures about the question itself (the window used, counts); ``keep``: the columns a
    narrow terminal must keep (the groups, the figure the report exists for).
    """

    table: pa.Table
    name: str = "result"
    title: str | None = None
    notes: list[str] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)
    keep: tuple[str, ...] = ()
    others: dict[str, Result] = field(default_factory=dict)

    # ------------------------------------------------------------------ conversions

    def to_arrow(self) -> pa.Table:
        """The Arrow table itself."""
        return self.table

    def to_polars(self) -> polars.DataFrame:
        """A polars DataFrame (zero-copy where Arrow allows)."""
        import polars

        return polars.from_arrow(self.table)  # type: ignore[return-value]

    def to_pandas(self) -> pandas.DataFrame:
        """A pandas DataFrame; pandas is optional (``pip install pandas``)."""
        try:
            import pandas  # noqa: F401
        except ImportError:
            raise LlmscopeError(
                "to_pandas() needs pandas: pip install pandas (to_polars() needs nothing more)"
            ) from None
        return self.table.to_pandas()

    def to_dicts(self) -> list[dict[str, Any]]:
        """One dict per row, column name to value."""
        return _rows(self.table)

    # ------------------------------------------------------------------ shape

    @property
    def columns(self) -> list[str]:
        return self.table.column_names

    @property
    def num_rows(self) -> int:
        return self.table.num_rows

    def __len__(self) -> int:
        return self.table.num_rows

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return iter(_rows(self.table))

    @property
    def tables(self) -> list[str]:
        """The names of every table in this result, this one first."""
        return [self.name, *self.others]

    def __getitem__(self, name: str) -> Result:
        if name == self.name:
            return self
        try:
            return self.others[name]
        except KeyError:
            raise KeyError(f"{name!r}: this result has the tables {', '.join(self.tables)}") from None

    # ------------------------------------------------------------------ display

    def __repr__(self) -> str:
        head = f"<Result {self.name}: {self.num_rows:,} rows × {len(self.columns)} columns"
        extra = f"; also {', '.join(self.others)}" if self.others else ""
        return head + extra + ">\n" + _text_preview(self.table)

    def _repr_html_(self) -> str:
        """A small table in a notebook (the first 20 rows)."""
        title = f"<b>{html.escape(self.title or self.name)}</b> " if (self.title or self.name) else ""
        size = f"<small>{self.num_rows:,} rows × {len(self.columns)} columns</small>"
        head = "".join(f"<th>{html.escape(c)}</th>" for c in self.columns)
        body = "".join(
            "<tr>" + "".join(f"<td>{html.escape(_cell(v))}</td>" for v in row.values()) + "</tr>"
            for row in _rows(self.table.slice(0, 20))
        )
        more = f"<p><small>… {self.num_rows - 20:,} more rows</small></p>" if self.num_rows > 20 else ""
        notes = "".join(f"<p><small>{html.escape(n)}</small></p>" for n in self.notes)
        return (
            f"<div>{title}{size}<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>{more}{notes}</div>"
        )


def _cell(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, float):
        return f"{v:.6g}"
    return str(v)


def _text_preview(table: pa.Table, rows: int = 10, width: int = 24) -> str:
    cols = table.column_names
    lines = ["  ".join(c[:width] for c in cols)]
    for row in _rows(table.slice(0, rows)):
        lines.append("  ".join(_cell(v)[:width] for v in row.values()))
    if table.num_rows > rows:
        lines.append(f"… {table.num_rows - rows:,} more rows")
    return "\n".join(lines)


def of_rows(rows: list[dict[str, Any]], name: str, **kw: Any) -> Result:
    """A Result from row dicts (columns in first-seen order)."""
    cols: list[str] = []
    for r in rows:
        cols.extend(k for k in r if k not in cols)
    table = pa.Table.from_pylist([{c: r.get(c) for c in cols} for r in rows]) if rows else pa.table({})
    return Result(table, name=name, **kw)


__all__ = ["Result", "of_rows"]
