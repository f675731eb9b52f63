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
