"""The importing process and its workers keep the memory they free (glibc's malloc
thresholds raised): a bulk reader frees and makes buffers of megabytes a chunk, which
glibc otherwise gives back to the system and faults in again, page by page."""

from __future__ import annotations

import io
import os

import pytest

from hashmatch.hashsets.formats import bulklines, workers
from hashmatch.hashsets.formats.sums import Md5sum
from tests.unrolled import from_blocks


@pytest.mark.skipif(
    not (os.confstr("CS_GNU_LIBC_VERSION") or "").startswith("glibc"), reason="glibc only"
)
def test_glibc_takes_the_thresholds() -> None:
    assert workers.keep_freed_memory() is True


def test_a_line_list_is_read_keeping_freed_memory(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[bool] = []
    monkeypatch.setattr(bulklines, "keep_freed_memory", lambda: calls.append(True) or True)
    data = "".join(f"{i:032x}  f{i}\n" for i in range(50)).encode()
    entries = from_blocks(Md5sum().blocks(io.BytesIO(data)), lambda e: e.values)
    assert calls == [True]
    assert entries == [(("md5", f"{i:032x}"),) for i in range(50)]
