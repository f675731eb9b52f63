"""Fixtures the tests share. Importable helpers are in helpers.py."""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

import pytest
from helpers import REPO, SAMPLES, copy_store

# Some shells here export PYTHONDONTWRITEBYTECODE=1: then every llmscope process the tests start compiles
# the package's ~50 modules from source again (~0.25 s CPU of a ~1.2 s start, measured). Installed copies
# have their bytecode written by pip; for the source tree the tests run, let Python cache it.
os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
sys.dont_write_bytecode = False


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "store.duckdb"


@pytest.fixture(scope="session")
def sample_master(tmp_path_factory) -> Path:
    """sample_traces/ ingested once per test session; take a copy (``sample_store``) to write to it."""
    from llmscope.ingest.pipeline import ingest

    path = tmp_path_factory.mktemp("sample-master") / "sample.duckdb"
    rep = ingest([str(SAMPLES)], path)
    assert rep.bad_records == 0 and rep.spans_added > 10_000
    return path


@pytest.fixture
def sample_store(sample_master: Path, tmp_path: Path) -> Path:
    """A private copy of the sample store for one test."""
    return copy_store(sample_master, tmp_path / "sample.duckdb")


def _load_benchmark_module():
    """benchmarks/ingest.py writes realistic OTLP files; tests reuse its generator."""
    spec = importlib.util.spec_from_file_location("benchmarks_ingest", REPO / "benchmarks" / "ingest.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules["benchmarks_ingest"] = mod
    spec.loader.exec_module(mod)


_load_benchmark_module()
