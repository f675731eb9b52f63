"""Builds the optional compiled parts; everything else is in pyproject.toml.

* three C accelerators (OTLP decoding, column resolution, Arrow buffers), each beside the Python
  code it stands in for;
* ``normalize/builder.py`` compiled with mypyc, only when asked (``LLMSCOPE_MYPYC=1 pip install -e .``): the
  same source, no second implementation. It costs ~115 s more CPU at install (166 s vs 50 s,
  measured; O1 and O3 alike) for ~1 % of ingest CPU (the README's table), so the default install leaves it out.

All optional: without a C compiler (or without mypy) the install still succeeds and ingest runs the
plain Python (same results, slower; ``llmscope --version`` says what is in use). A compiled module
records the hash of the source it was built from (``_compiled.json``): after an edit of that source
(an editable install not rebuilt) ``llmscope`` imports the edited ``.py`` rather than stale code.
"""

import hashlib
import json
import os
from pathlib import Path

from setuptools import Extension, setup

FLAGS = ["-O2", "-Wall", "-Wextra", "-Wno-unused-parameter"]
# CI sets LLMSCOPE_REQUIRE_NATIVE=1: a compiled part that fails to build fails the install instead of
# leaving a slower pure-Python one behind.
REQUIRED = os.environ.get("LLMSCOPE_REQUIRE_NATIVE", "") not in ("", "0")
MYPYC = os.environ.get("LLMSCOPE_MYPYC", "") not in ("", "0")  # build_backend.py adds mypy to the build then
SRC = Path(__file__).resolve().parent / "src" / "llmscope"
NATIVE = SRC / "_native"
COMPILED_PY = ("normalize.builder",)  # dotted below llmscope; llmscope._native.COMPILED_PY names the same


def _source(name: str) -> str:
    return "src/llmscope/" + name.replace(".", "/") + ".py"


def c_accelerators() -> list[Extension]:
    return [Extension(f"llmscope._native.{name}", [f"src/llmscope/_native/{name}.c"], optional=not REQUIRED,
                      extra_compile_args=FLAGS)
            for name in ("otlp", "resolve", "columns", "classify")]


def mypyc_modules() -> list[Extension]:
    (NATIVE / "compiled.json").unlink(missing_ok=True)  # a record of an earlier build would name stale code
    if not MYPYC:
        # an editable install keeps extensions in src/: one left from an earlier mypyc build would shadow the .py
        for name in COMPILED_PY:
            folder, stem = (SRC / name.replace(".", "/")).parent, name.rpartition(".")[2]
            for stale in [*folder.glob(f"{stem}.*.so"), *folder.glob(f"{stem}__mypyc.*.so")]:
                stale.unlink()
        return []
    try:
        from mypyc.build import mypycify
    except ImportError:
        return []
    try:
        exts = mypycify(["--ignore-missing-imports", "--follow-imports=silent",
                         *(_source(name) for name in COMPILED_PY)], opt_level="3")
    except (Exception, SystemExit) as e:  # mypy reports type errors by exiting
        if REQUIRED:
            raise
        print(f"llmscope: not compiling {', '.join(COMPILED_PY)} with mypyc ({e}); plain Python is used")
        return []
    for ext in exts:
        ext.optional = not REQUIRED
    digests = {name: hashlib.sha256(Path(_source(name)).read_bytes()).hexdigest() for name in COMPILED_PY}
    (NATIVE / "compiled.json").write_text(json.dumps(digests, indent=1) + "\n")
    return exts


setup(ext_modules=c_accelerators() + mypyc_modules())
