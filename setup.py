"""Builds the optional C accelerator for OTLP/JSON decoding; everything else is in pyproject.toml.

`optional=True`: without a C compiler the install still succeeds and ingest uses the pure-Python
decoder (same results, slower).
"""

from setuptools import Extension, setup

setup(ext_modules=[Extension("llmscope._otlp_native", ["src/llmscope/_otlp_native.c"], optional=True,
                             extra_compile_args=["-O2", "-Wall", "-Wextra", "-Wno-unused-parameter"])])
