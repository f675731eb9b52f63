"""Which C accelerators this install has: each is optional and does exactly what the Python code
beside it does (tests compare both), so a missing one only makes ingest slower.

They are built by ``setup.py`` when a C compiler is present; ``LLMSCOPE_PURE_PYTHON=1`` switches all
of them off (to compare, or to rule them out).
"""

from __future__ import annotations

import importlib
import os
from typing import Any


def accelerator(module: str, name: str) -> Any:
    """``llmscope.<module>.<name>`` if that extension was built and not switched off; else None."""
    if os.environ.get("LLMSCOPE_PURE_PYTHON", "") not in ("", "0"):
        return None
    try:
        return getattr(importlib.import_module(f"llmscope.{module}"), name)
    except ImportError:  # installed without a C compiler
        return None


# what each extension speeds up, for `llmscope --version`
ACCELERATORS = {"_otlp_native": "OTLP decoding", "_resolve_native": "column resolution",
                "_columns_native": "Arrow batches"}


def report() -> str:
    """One line: which accelerators are in use (or why none)."""
    if os.environ.get("LLMSCOPE_PURE_PYTHON", "") not in ("", "0"):
        return "C accelerators: off (LLMSCOPE_PURE_PYTHON)"
    built = [what for module, what in ACCELERATORS.items() if _importable(module)]
    if not built:
        return "C accelerators: none built (no C compiler at install): pure Python, slower ingest"
    return "C accelerators: " + ", ".join(built)


def _importable(module: str) -> bool:
    try:
        importlib.import_module(f"llmscope.{module}")
    except ImportError:
        return False
    return True
