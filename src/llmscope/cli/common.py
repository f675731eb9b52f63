"""What every command shares: the global options, the options reports take, opening the store, errors
as one line with exit code 2, and printing a Result in the chosen format.

The CLI talks to the library only through :mod:`llmscope`'s public API (``llmscope.open`` and what
its Store returns); tests/test_cli_layer.py checks that no CLI module touches DuckDB or SQL.
"""

from __future__ import annotations

import sys
from typing import Annotated, Any, NoReturn, Optional

import typer
from typer.core import TyperGroup

try:  # typer vendors click since 0.2x; older releases use click itself
    from typer import _click as click  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover
    import click  # type: ignore[no-redef]  # noqa: F401

from .. import api
from ..errors import LlmscopeError
from ..render import tables as render
from ..result import Result

EXIT_OK, EXIT_CHECK_FAILED, EXIT_USAGE = 0, 1, 2


class State:
    db: Optional[str] = None
    config: Optional[str] = None


state = State()


def open_store() -> api.Store:
    """The store named by --db / LLMSCOPE_DB (default ./llmscope.duckdb), with --config."""
    return api.open(state.db, config=state.config)


# --------------------------------------------------------------------------- errors

# Arguments that are not options: an error about them names them without dashes.
_POSITIONAL = {"query", "paths", "trace_id", "kind", "labels", "out_dir"}


def one_line(e: LlmscopeError) -> str:
    if e.param and e.param not in _POSITIONAL:
        return f"--{e.param.replace('_', '-')}: {e.message}"
    return e.message


def redacted_line(redacted: dict[str, int]) -> str:
    """``redacted 37 values: 20 email, 12 phone, 5 ip_address`` (the most frequent kind first)."""
    kinds = sorted(redacted.items(), key=lambda kv: (-kv[1], kv[0]))
    total = sum(redacted.values())
    return f"redacted {total:,} value{'s' if total != 1 else ''}: " + ", ".join(f"{n:,} {k}" for k, n in kinds)


def fail(msg: str, code: int = EXIT_USAGE) -> NoReturn:
    render.console(stderr=True).print(f"[bold red]error:[/bold red] {render.escape(msg)}")
    raise typer.Exit(code)


def note(msg: str, style: str = "yellow") -> None:
    """A line for the reader on stderr (stdout stays the answer, for pipes)."""
    render.console(stderr=True).print(f"[{style}]{render.escape(msg)}[/{style}]")


class Group(TyperGroup):
    """Library errors and usage errors end as one line on stderr with exit code 2, never a traceback
    or a boxed panel."""

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra) -> Any:  # type: ignore[override]
        _types_in_words(self)
        try:
            rv = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except typer.Exit as e:
            rv = e.exit_code
        except typer.Abort:
            render.console(stderr=True).print("interrupted: nothing of the current command was written")
            rv = 130
        except click.exceptions.NoArgsIsHelpError as e:  # `llmscope report`: its help, as click would
            render.console(stderr=True).print(e.format_message(), markup=False, highlight=False)
            rv = EXIT_USAGE
        except click.exceptions.UsageError as e:
            hint = f" (see `{e.ctx.command_path if e.ctx is not None else prog_name or 'llmscope'} --help`)"
            render.console(stderr=True).print(f"[bold red]error:[/bold red] {render.escape(e.format_message())}{hint}")
            rv = EXIT_USAGE
        except click.exceptions.ClickException as e:
            render.console(stderr=True).print(f"[bold red]error:[/bold red] {render.escape(e.format_message())}")
            rv = e.exit_code
        if standalone_mode:
            sys.exit(rv or 0)
        return rv

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except LlmscopeError as e:
            fail(one_line(e))


_TYPE_WORDS = {"int": "N", "float": "NUMBER", "str": "TEXT", "Path": "PATH", "bool": ""}


def _word(bare: str) -> str:
    if bare.startswith("list[") and bare.endswith("]"):
        return f"{_word(bare[5:-1])}, repeatable"
    return _TYPE_WORDS.get(bare, bare.upper())


def _types_in_words(group: Any) -> None:
    """Option types as words in --help (N, NUMBER, TEXT, PATH; "TEXT, repeatable"), not <list[str]>."""
    for cmd in getattr(group, "commands", {}).values():
        for param in cmd.params:
            if param.param_type_name != "option" or param.metavar is not None or not hasattr(param, "bare_type"):
                continue
            param.metavar = "" if getattr(param, "is_flag", False) else _word(param.bare_type())
        _types_in_words(cmd)


def typer_app(**kw: Any) -> typer.Typer:
    kw.setdefault("no_args_is_help", True)
    return typer.Typer(cls=Group, rich_markup_mode="markdown", **kw)


# --------------------------------------------------------------------------- options

FormatOpt = Annotated[str, typer.Option("--format", "-f", help="Output: table, json, csv or markdown.")]
TableOpt = Annotated[
    Optional[str],
    typer.Option(
        "--table",
        help="Reports with several tables: which one json and csv print (default the first; the table and "
        "markdown formats print them all).",
    ),
]
ByOpt = Annotated[
    Optional[str],
    typer.Option(
        "--by",
        help="Group by, comma-separated: model, provider, feature, user, session, prompt, service, agent, tool, "
        "error, type (short names), any span column (request_model, user_id, …), hour/day/week, "
        "or raw attributes attr:KEY / resource:KEY.",
    ),
]
SinceOpt = Annotated[Optional[str], typer.Option(help="Start of the window: 2d, 12h, or 2025-11-08[T09:00].")]
UntilOpt = Annotated[Optional[str], typer.Option(help="End of the window (exclusive), same forms as --since.")]
WhereOpt = Annotated[Optional[str], typer.Option(help="One condition on span columns, e.g. \"feature = 'billing'\".")]


def check_format(fmt: str, extra: tuple[str, ...] = ()) -> str:
    allowed = render.FORMATS + extra
    if fmt not in allowed:
        fail(f"--format: one of {', '.join(allowed)}, not {fmt!r}")
    return fmt


def short_ids(rows: list[dict]) -> list[dict]:
    """Rows with 12-character trace and span id prefixes, for tables people read."""
    return [
        {k: (v[:12] if k.endswith(("trace_id", "span_id")) and isinstance(v, str) else v) for k, v in r.items()}
        for r in rows
    ]


def show(result: Result, fmt: str, table: str | None = None, *, shorten_ids: bool = False) -> None:
    """Print a Result: every table (table, markdown) or one (json, csv: the first, or ``--table``),
    then its notes on stderr."""
    check_format(fmt)
    if table is not None:
        if table not in result.tables:
            fail(f"--table: {table!r} is not a table of this report; it has {', '.join(result.tables)}")
    if fmt in ("json", "csv"):
        chosen = result[table] if table else result
        render.emit(chosen.table, fmt)
    else:
        parts = [result[table]] if table else [result[name] for name in result.tables]
        for part in parts:
            if part.num_rows == 0 and (part is not result or result.notes):  # the note says why, not an empty box
                continue
            rows: Any = part.table
            if fmt == "table" and shorten_ids:
                rows = short_ids(part.to_dicts())
            title = part.title
            if fmt == "table" and title and part.num_rows:
                title = f"{title} ({part.num_rows:,})" if part.name in ("loops", "runaways", "traces") else title
            render.emit(rows, fmt, title=title if fmt in ("table", "markdown") else None, keep=part.keep)
    for n in result.notes:
        note(n)
