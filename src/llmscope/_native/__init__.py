"""Which compiled parts this install has: C accelerators (the ``.c`` files in this folder), each doing
exactly what the Python code it stands in for does (tests compare both), and modules compiled from
their own source by mypyc. All are optional, so a missing one only makes ingest slower.

They are built by ``setup.py`` when a C compiler is present (the mypyc part only when asked:
``LLMSCOPE_MYPYC=1``); ``LLMSCOPE_PURE_PYTHON=1`` switches all of them off, ``LLMSCOPE_PURE_PYTHON=otlp,columns``
only the named ones (to compare, or to rule them out).
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import json
import os
import sys
from pathlib import Path
from typing import Any


def _pure(part: str | None = None) -> bool:
    """Whether compiled parts are switched off: ``LLMSCOPE_PURE_PYTHON=1`` turns off all of them; a
    comma-separated list of part names (``otlp,normalize.builder``) only those (to measure each one's worth).
    Without ``part``: whether all are off."""
    value = os.environ.get("LLMSCOPE_PURE_PYTHON", "").strip()
    if value in ("", "0"):
        return False
    if value == "1":
        return True
    return part is not None and part in {name.strip() for name in value.split(",")}


PACKAGE = __package__.rpartition(".")[0]  # llmscope
ROOT = Path(__file__).resolve().parent.parent
COMPILED_RECORD = Path(__file__).resolve().parent / "compiled.json"  # written by setup.py


def use_fresh_sources() -> None:
    """Import the ``.py`` of a mypyc-compiled module instead of its extension when the extension was
    built from other source (the file was edited after an editable install) or when compiled parts
    are switched off. Runs when the package is imported, before anything imports those modules."""
    try:
        built = json.loads(COMPILED_RECORD.read_text())
    except (OSError, ValueError):
        return  # nothing compiled from Python source
    for name, digest in built.items():  # name: dotted, below the package (normalize.builder)
        full = f"{PACKAGE}.{name}"
        src = ROOT.joinpath(*name.split(".")).with_suffix(".py")
        if full in sys.modules or not src.exists():
            continue
        if not _pure(name) and hashlib.sha256(src.read_bytes()).hexdigest() == digest:
            continue
        spec = importlib.util.spec_from_file_location(full, src)
        module = importlib.util.module_from_spec(spec)
        sys.modules[full] = module
        try:
            spec.loader.exec_module(module)
        except BaseException:  # as the import system does: no half-made module stays behind
            del sys.modules[full]
            raise


def compiled(module: str) -> bool:
    """Whether ``llmscope.<module>`` (dotted, e.g. ``normalize.builder``) runs as compiled code."""
    return not getattr(sys.modules.get(f"{PACKAGE}.{module}"), "__file__", "x.py").endswith(".py")


def accelerator(module: str, name: str) -> Any:
    """``llmscope._native.<module>.<name>`` if that extension was built and not switched off; else None."""
    if _pure(module):
        return None
    try:
        return getattr(importlib.import_module(f"{__package__}.{module}"), name)
    except ImportError:  # installed without a C compiler
        return None


# what each extension speeds up, for `llmscope --version`
ACCELERATORS = {
    "otlp": "OTLP decoding",
    "resolve": "column resolution",
    "columns": "Arrow batches",
    "classify": "injection classifier",
}
# modules compiled with mypyc when the build can (setup.py), and what each speeds up
COMPILED_PY = {"normalize.builder": "normalization"}


def report() -> str:
    """One line: which compiled parts are in use (or why none)."""
    if _pure():
        return "C accelerators: off (LLMSCOPE_PURE_PYTHON)"
    built = [what for module, what in ACCELERATORS.items() if not _pure(module) and _importable(module)]
    for name, what in COMPILED_PY.items():
        importlib.import_module(f"{PACKAGE}.{name}")
        if compiled(name):
            built.append(f"{what} (mypyc)")
    if not built:
        return "C accelerators: none built (no C compiler at install): pure Python, slower ingest"
    return "C accelerators: " + ", ".join(built)


def _importable(module: str) -> bool:
    try:
        importlib.import_module(f"{__package__}.{module}")
    except ImportError:
        return False
    return True
