"""The errors llmscope raises for a user to act on.

Every one is an :class:`LlmscopeError`; its text is one line that names the problem (and the file
and line where there is one) without command-line wording, so a notebook shows it as it is and the
CLI prints it as ``error: …`` with exit code 2. ``param`` names the argument a value came from
(``by``, ``since``, …): the CLI shows it as the option (``--by``), the library as the keyword.

    >>> import llmscope
    >>> try:
    ...     llmscope.open("sample_traces/README.md")
    ... except llmscope.StoreError as e:
    ...     print(e)   # names the file and what it is
"""

from __future__ import annotations


class LlmscopeError(Exception):
    """Base of every error llmscope raises on purpose."""

    def __init__(self, message: str, *, param: str | None = None):
        super().__init__(message)
        self.message = message
        self.param = param

    def __str__(self) -> str:
        return f"{self.param}: {self.message}" if self.param else self.message


class StoreError(LlmscopeError):
    """The store cannot be used as asked: missing, not a database, held by another process, newer schema,
    a full disk."""


class StoreBusy(StoreError):
    """Another process holds the store file (a writer, or a reader while this one wants to write)."""


class InputError(LlmscopeError):
    """An input (a trace file, a directory, standard input) that cannot be read."""


def located(src: str, line: int) -> str:
    """``file:line``, or the file alone when the fault is the whole file (line 0: not one record of it)."""
    return f"{src}:{line}" if line else src


class StrictAbort(InputError):
    """``strict=True``: a bad record stopped the ingest before anything was written."""

    def __init__(self, example: tuple[str, int, str]):
        self.example = example
        src, line, reason = example
        super().__init__(f"{located(src, line)}: {reason}")


class QueryError(LlmscopeError, ValueError):
    """A value that does not make a question: a filter, a grouping, a time, a limit, a report option or
    a SQL query the store cannot run."""


class ConfigError(LlmscopeError, ValueError):
    """A settings file (``llmscope.toml``), a rules file, a price file or a privacy setting that is wrong."""


class EvalError(LlmscopeError):
    """An evaluation that cannot run: a missing dataset, a judge that cannot be reached, a bad gate."""


class CollectorError(LlmscopeError):
    """The OTLP receiver cannot start or go on (port in use, spool not writable)."""


__all__ = [
    "CollectorError",
    "ConfigError",
    "EvalError",
    "InputError",
    "LlmscopeError",
    "QueryError",
    "StoreBusy",
    "StoreError",
    "StrictAbort",
]
