"""setuptools' build backend, asking for mypy only when the build compiles with it (``LLMSCOPE_MYPYC=1``).

mypy is a 10+ MB download into pip's isolated build environment: a default install (no mypyc) skips it.
"""

import os

from setuptools import build_meta as _setuptools
from setuptools.build_meta import *  # noqa: F403  (the rest of the PEP 517/660 interface, unchanged)


def _mypyc() -> list[str]:
    return ["mypy>=1.10"] if os.environ.get("LLMSCOPE_MYPYC", "") not in ("", "0") else []


def get_requires_for_build_wheel(config_settings=None):
    return _setuptools.get_requires_for_build_wheel(config_settings) + _mypyc()


def get_requires_for_build_editable(config_settings=None):
    return _setuptools.get_requires_for_build_editable(config_settings) + _mypyc()
