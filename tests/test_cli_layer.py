"""The CLI is a thin layer over the public API: no DuckDB, no SQL, no reaching into the engine."""

from __future__ import annotations

import ast
import re
from pathlib import Path

CLI = Path(__file__).resolve().parent.parent / "src" / "llmscope" / "cli"
# What a command module may import from llmscope: the API and its values, and the renderers.
ALLOWED = re.compile(r"^\.\.(api|errors|result|reports|render(\.\w+)?|_native)?$|^\.(\w+)?$")
SQL = re.compile(r"\b(SELECT|INSERT|UPDATE|DELETE)\s+\S+.*\b(FROM|INTO|SET|WHERE)\b")


def test_cli_modules_use_only_the_public_api():
    problems = []
    for path in sorted(CLI.glob("*.py")):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                problems += [f"{path.name}: import {a.name}" for a in node.names if a.name.split(".")[0] == "duckdb"]
            elif isinstance(node, ast.ImportFrom):
                mod = "." * node.level + (node.module or "")
                if node.level == 0 and (node.module or "").split(".")[0] in ("duckdb", "pyarrow", "llmscope"):
                    problems.append(f"{path.name}: from {mod}")
                elif node.level and not ALLOWED.match(mod):
                    problems.append(f"{path.name}: from {mod} import …")
            elif isinstance(node, ast.Constant) and isinstance(node.value, str) and SQL.search(node.value):
                problems.append(f"{path.name}:{node.lineno}: SQL text")
    assert not problems, "\n".join(problems)
