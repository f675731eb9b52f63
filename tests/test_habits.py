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


MAX_FUNCTION_LINES = 80
# typer commands carry long signatures; the migrations are SQL history, kept as written
LONG_FUNCTIONS_ALLOWED = ("cli/", "store/migrations.py")


def test_no_function_is_longer_than_a_screen():
    """An orchestration function reads as the steps of its flow (issue 17 item 5): named helpers or a small
    class holding state, not one long body with closures. Lines count from ``def`` to the last line."""
    import ast

    root = REPO / "src" / "llmscope"
    offenders = []
    for path in sorted(root.rglob("*.py")):
        rel = path.relative_to(root).as_posix()
        if rel.startswith(LONG_FUNCTIONS_ALLOWED):
            continue
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                n = node.end_lineno - node.lineno + 1
                if n > MAX_FUNCTION_LINES:
                    offenders.append(f"src/llmscope/{rel}:{node.lineno} {node.name}: {n} lines")
    assert not offenders, f"functions over {MAX_FUNCTION_LINES} lines:\n" + "\n".join(offenders)
