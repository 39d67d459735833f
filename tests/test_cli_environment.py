"""The command starts numpy with one OpenBLAS thread (its idle threads spun 0.2 s of
CPU on every command), unless the user chose otherwise."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

_THREADS = (
    "import os, hashmatch.cli, numpy\n"
    "print(len(os.listdir('/proc/self/task')), os.environ['OPENBLAS_NUM_THREADS'])"
)


def _run(env: dict[str, str]) -> list[str]:
    done = subprocess.run([sys.executable, "-c", _THREADS], env=env, check=True,
                          capture_output=True, text=True)  # fmt: skip
    return done.stdout.split()


pytestmark = pytest.mark.skipif(
    not os.path.isdir("/proc/self/task"), reason="threads are counted in /proc (Linux)"
)


def test_the_command_imports_numpy_with_one_blas_thread() -> None:
    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_NUM_THREADS"}
    assert _run(env) == ["1", "1"]  # (one thread in all: no OpenBLAS thread of its own)


def test_a_thread_count_the_user_set_is_kept() -> None:
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "2"}
    assert _run(env)[1] == "2"
