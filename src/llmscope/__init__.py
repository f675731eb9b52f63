"""llmscope: find the silent failures of LLM applications in their OpenTelemetry traces.

    >>> import llmscope
    >>> with llmscope.open("llmscope.duckdb") as store:
    ...     store.ingest(["sample_traces/"])
    ...     store.report("latency", by="model").to_polars()

:func:`open` returns a :class:`Store`; its methods (``ingest``, ``report``, ``spans``, ``traces``,
``trace``, ``sql``, ``scan``, ``evaluate``, ``check``, …) return a :class:`Result` (an Arrow table
with ``to_polars()``, ``to_arrow()``, ``to_pandas()``, ``to_dicts()``) or a report of what was
done. Errors are :class:`LlmscopeError` subclasses.
"""

import importlib
from typing import TYPE_CHECKING, Any

from ._native import use_fresh_sources

use_fresh_sources()  # a compiled module whose source was edited since the build: run the source

from .api import CheckResult, Store, open  # noqa: E402
from .errors import (  # noqa: E402
    CollectorError,
    ConfigError,
    EvalError,
    InputError,
    LlmscopeError,
    QueryError,
    StoreBusy,
    StoreError,
    StrictAbort,
)
from .query import Grouping, SpanFilter, Where  # noqa: E402
from .result import Result  # noqa: E402

if TYPE_CHECKING:
    from .evals.runner import EvalReport
    from .ingest.pipeline import IngestReport
    from .reports import REPORTS
    from .safety.scan import ScanReport

# Imported on first use: each pulls in its whole pipeline (the scan its detectors, the eval its HTTP
# client), which a command such as `llmscope report latency` never needs (start-up measured in the README).
_LAZY = {
    "EvalReport": ".evals.runner",
    "IngestReport": ".ingest.pipeline",
    "REPORTS": ".reports",
    "ScanReport": ".safety.scan",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name], __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'llmscope' has no attribute {name!r}")


__all__ = [
    "REPORTS",
    "CheckResult",
    "CollectorError",
    "ConfigError",
    "EvalError",
    "EvalReport",
    "Grouping",
    "IngestReport",
    "InputError",
    "LlmscopeError",
    "QueryError",
    "Result",
    "ScanReport",
    "SpanFilter",
    "Store",
    "StoreBusy",
    "StoreError",
    "StrictAbort",
    "Where",
    "open",
]
