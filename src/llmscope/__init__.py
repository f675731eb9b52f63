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
from .evals.runner import EvalReport  # noqa: E402
from .ingest.pipeline import IngestReport  # noqa: E402
from .query import Grouping, SpanFilter, Where  # noqa: E402
from .reports import REPORTS  # noqa: E402
from .result import Result  # noqa: E402
from .safety.scan import ScanReport  # noqa: E402

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
