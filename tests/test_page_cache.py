"""The prefetch asks the kernel for the bytes ahead of its reader, each once, and gives
up quietly where the kernel refuses (a pipe); a file's digest is the same with it; a
stretch released is asked to be dropped, a pipe's quietly not."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from hashmatch import page_cache
from hashmatch.hashsets.digest import file_sha256
from hashmatch.page_cache import AHEAD_BYTES, STEP_BYTES, Prefetch, release

needs_fadvise = pytest.mark.skipif(
    not hasattr(os, "posix_fadvise"), reason="os.posix_fadvise is missing on this system"
)


@needs_fadvise
def test_it_asks_for_each_step_ahead_of_the_reader_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    asked: list[tuple[int, int, int, int]] = []
    monkeypatch.setattr(page_cache.os, "posix_fadvise", lambda *call: asked.append(call))
    ahead = Prefetch(7)
    ahead.reached(0)
    steps = AHEAD_BYTES // STEP_BYTES
    assert asked == [(7, k * STEP_BYTES, STEP_BYTES, os.POSIX_FADV_WILLNEED)
                     for k in range(steps)]  # fmt: skip
    ahead.reached(1)  # one step more keeps the whole distance ahead
    ahead.reached(STEP_BYTES)  # (covered by that step)
    ahead.reached(STEP_BYTES // 2)
    assert asked[steps:] == [(7, AHEAD_BYTES, STEP_BYTES, os.POSIX_FADV_WILLNEED)]
    ahead.reached(3 * STEP_BYTES + 1)
    assert [at for _, at, _, _ in asked] == [k * STEP_BYTES for k in range(steps + 4)]


@needs_fadvise
def test_a_pipe_is_read_without_it(tmp_path: Path) -> None:
    reading, writing = os.pipe()
    try:
        ahead = Prefetch(reading)
        ahead.reached(0)  # refused by the kernel (ESPIPE): no error
        ahead.reached(10 * AHEAD_BYTES)
    finally:
        os.close(reading)
        os.close(writing)


def test_the_digest_of_a_file_longer_than_what_is_asked_for(tmp_path: Path) -> None:
    data = os.urandom(1 << 16) * (AHEAD_BYTES // (1 << 16) + 3)
    path = tmp_path / "set.txt"
    path.write_bytes(data)
    assert file_sha256(path) == (hashlib.sha256(data).hexdigest(), len(data))


@needs_fadvise
def test_a_released_stretch_is_asked_to_be_dropped(monkeypatch: pytest.MonkeyPatch) -> None:
    asked: list[tuple[int, int, int, int]] = []
    monkeypatch.setattr(page_cache.os, "posix_fadvise", lambda *call: asked.append(call))
    release(5, 100, 2000)
    release(5, 2100, 0)  # (nothing: 0 would be the rest of the file)
    assert asked == [(5, 100, 2000, os.POSIX_FADV_DONTNEED)]


@needs_fadvise
def test_releasing_a_pipe_is_no_error() -> None:
    reading, writing = os.pipe()
    try:
        release(reading, 0, 10)
    finally:
        os.close(reading)
        os.close(writing)
