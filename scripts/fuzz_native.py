"""Fuzz the C accelerators under AddressSanitizer and UBSan against the Python code they stand in for.

    python scripts/fuzz_native.py --seconds 60

Builds ``src/llmscope/_native/*.c`` with ``-fsanitize=address,undefined`` into a temporary copy of the
package, then, in a child process with the sanitizer runtimes preloaded, (1) runs the C-vs-Python
oracle tests of ``tests/test_native.py`` and ``tests/test_native_classify.py`` and (2) mutates every captured and sample line and protobuf
message for ``--seconds``, checking each time that the C path either hands the input back or gives
exactly what the Python path gives. Any sanitizer report, crash or disagreement fails the run (exit 1).
CI runs it after the tests (``.ci/run``).
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SRC = REPO / "src" / "llmscope"
# the sanitized copy holds the C parts only: the tests of the mypyc-compiled modules do not apply there
C_ONLY_TESTS = "not compiled_and_plain and not stale_compiled_module"
SANITIZE = ["-fsanitize=address,undefined", "-fno-sanitize-recover=undefined", "-fno-omit-frame-pointer", "-O1", "-g"]


def build(out: Path) -> Path:
    """A copy of the package with sanitized C accelerators (and no other compiled part)."""
    pkg = out / "llmscope"
    shutil.copytree(SRC, pkg, ignore=shutil.ignore_patterns("__pycache__", "*.so", "compiled.json", "*.egg-info"))
    include = sysconfig.get_paths()["include"]
    suffix = sysconfig.get_config_var("EXT_SUFFIX")
    for c in sorted((SRC / "_native").glob("*.c")):
        target = pkg / "_native" / f"{c.stem}{suffix}"
        cmd = ["gcc", "-shared", "-fPIC", *SANITIZE, f"-I{include}", str(c), "-o", str(target)]
        subprocess.run(cmd, check=True)
    return out


def runtime_preload() -> str:
    libs = []
    for name in ("libasan.so", "libubsan.so"):
        path = subprocess.run(["gcc", f"-print-file-name={name}"], capture_output=True, text=True).stdout.strip()
        if not os.path.isabs(path):
            raise SystemExit(f"fuzz_native: gcc has no {name} (install gcc's sanitizer runtimes)")
        libs.append(path)
    return ":".join(libs)


def child(seconds: float, seed: int) -> int:
    """Runs inside the sanitized environment: the oracle tests, then timed mutation rounds."""
    sys.path.insert(0, str(REPO / "tests"))
    import llmscope._native.otlp as sanitized
    import pytest

    assert "fuzz" in sanitized.__file__, sanitized.__file__  # the sanitized build, not the installed one
    code = pytest.main(
        ["-q", "-x", "-n0", "-p", "no:cacheprovider", "-k", C_ONLY_TESTS]
        + [str(REPO / "tests" / name) for name in ("test_native.py", "test_native_classify.py")]
    )
    if code != 0:
        return int(code)
    import test_native as oracle

    lines, messages = oracle._corpus(), oracle._pb_corpus()
    rng = random.Random(seed)
    deadline = time.monotonic() + seconds
    checked = handled = 0
    while time.monotonic() < deadline:
        for line in oracle._mutations(rng.choice(lines), rng, 20):
            handled += oracle.check_line(line)
            checked += 1
        m = rng.choice(messages)
        for _ in range(20):
            pos = rng.randrange(len(m))
            r = rng.random()
            x = (
                m[:pos]
                if r < 0.3
                else (m[:pos] + bytes([rng.randrange(256)]) + m[pos + 1 :] if r < 0.6 else m[:pos] + m[pos + 1 :])
            )
            handled += oracle.check_pb(x)
            checked += 1
    print(f"fuzz_native: {checked:,} mutated inputs, {handled:,} decoded by C and equal to Python; no sanitizer report")
    return 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        return child(args.seconds, args.seed)
    with tempfile.TemporaryDirectory(prefix="llmscope-fuzz-") as tmp:
        build(Path(tmp))
        env = {
            **os.environ,
            "PYTHONPATH": tmp,
            "LD_PRELOAD": runtime_preload(),
            # CPython's allocator pools and interned objects look like leaks to LeakSanitizer
            "ASAN_OPTIONS": "detect_leaks=0:abort_on_error=1:allocator_may_return_null=1",
            "UBSAN_OPTIONS": "print_stacktrace=1:halt_on_error=1",
            "LLMSCOPE_PURE_PYTHON": "0",
        }
        proc = subprocess.run(
            [sys.executable, __file__, "--child", "--seconds", str(args.seconds), "--seed", str(args.seed)],
            env=env,
            cwd=REPO,
        )
        return proc.returncode


if __name__ == "__main__":
    sys.exit(main())
