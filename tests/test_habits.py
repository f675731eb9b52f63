"""Habits CI enforces: the code is ruff-clean and ruff-formatted (lint rules in pyproject.toml)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
TREES = ["src", "tests", "benchmarks", "scripts"]


def _ruff(*args: str) -> subprocess.CompletedProcess:
    exe = shutil.which("ruff") or str(Path(sys.executable).with_name("ruff"))
    return subprocess.run([exe, *args, *TREES], cwd=REPO, capture_output=True, text=True)


def test_ruff_lint_is_clean():
    res = _ruff("check", "--output-format", "concise")
    assert res.returncode == 0, res.stdout + res.stderr


def test_ruff_format_is_applied():
    res = _ruff("format", "--check")
    assert res.returncode == 0, "run `ruff format src tests benchmarks scripts`:\n" + res.stdout + res.stderr


PUBLIC_API = ["__init__.py", "api.py", "result.py", "query.py", "errors.py", "schema.py", "reports.py"]


def test_the_public_api_type_checks():
    exe = shutil.which("mypy") or str(Path(sys.executable).with_name("mypy"))
    files = [f"src/llmscope/{name}" for name in PUBLIC_API]
    res = subprocess.run(
        [exe, "--ignore-missing-imports", "--follow-imports=silent", "--python-version", "3.11", *files],
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    assert res.returncode == 0, res.stdout + res.stderr
