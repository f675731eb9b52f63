"""The ``llmscope`` command: a thin layer that parses options, calls the library API, renders.

Exit codes: 0 ok; 1 a check or gate failed; 2 usage or input error (one-line reason on stderr).
One module per command group (ingest, report, trace, eval, check, scan, collect, store); this one
holds the global options and puts the groups together.
"""

from __future__ import annotations

import sys
from typing import Annotated, Optional

import typer

from ..render import tables as render
from ..result import arrow_without_pandas
from .common import state, typer_app

app = typer_app(
    name="llmscope",
    help="Find the silent failures of LLM applications in OpenTelemetry traces.\n\n"
    "Start with `llmscope ingest sample_traces/` then `llmscope report summary`.",
    add_completion=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _print_version(value: bool) -> None:
    if value:
        from importlib.metadata import version as dist_version

        from .._native import report

        render.console().print(f"llmscope {dist_version('llmscope')}; {render.escape(report())}", highlight=False)
        raise typer.Exit()


@app.callback()
def main_options(
    db: Annotated[
        Optional[str],
        typer.Option("--db", envvar="LLMSCOPE_DB", help="Store file (default ./llmscope.duckdb; env LLMSCOPE_DB)."),
    ] = None,
    config: Annotated[
        Optional[str], typer.Option("--config", help="Settings file (default ./llmscope.toml if present).")
    ] = None,
    version: Annotated[
        bool,
        typer.Option(
            "--version", is_eager=True, callback=_print_version, help="Print the version and the compiled parts in use."
        ),
    ] = False,
) -> None:
    state.db = db
    state.config = config


# Each module registers its commands on the app (or on a sub-app it adds).
from . import annotate, checks, collect, compare, dataset, evals, ingest, reports, scan, store, traces  # noqa: E402

for module in (ingest, reports, traces, compare, evals, dataset, annotate, scan, checks, collect, store):
    module.register(app)


def main() -> None:
    _name_the_main_module()
    arrow_without_pandas()
    try:
        app()
    except KeyboardInterrupt:
        render.console(stderr=True).print("interrupted: nothing of the current command was written")
        sys.exit(130)


def _name_the_main_module() -> None:
    """Run from the ``llmscope`` console script, ``__main__`` is that script, and every spawned worker (ingest,
    scan, eval pools) would import it, and with it the whole CLI, before its first task. Named as this package's
    ``__main__`` module, it is skipped, as for ``python -m llmscope`` (multiprocessing never re-runs one)."""
    import importlib.util

    main_module = sys.modules.get("__main__")
    if main_module is not None and getattr(main_module, "__spec__", None) is None:
        main_module.__spec__ = importlib.util.find_spec("llmscope.__main__")
