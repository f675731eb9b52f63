"""Builds the optional C accelerators (OTLP decoding, column resolution, Arrow buffers); everything
else is in pyproject.toml.

`optional=True`: without a C compiler the install still succeeds and ingest runs the Python code
they stand in for (same results, slower; see llmscope/native.py).
"""

from setuptools import Extension, setup

FLAGS = ["-O2", "-Wall", "-Wextra", "-Wno-unused-parameter"]

setup(ext_modules=[
    Extension(f"llmscope.{name}", [f"src/llmscope/{name}.c"], optional=True, extra_compile_args=FLAGS)
    for name in ("_otlp_native", "_resolve_native", "_columns_native")
])
