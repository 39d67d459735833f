"""The file-system search for images without a partition table (sources/image/fssearch)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from hashmatch.sources.image import fssearch
from hashmatch.sources.image.fssearch import SECTOR, candidate_offsets, search


def disk(size: int, boot_sectors: dict[int, bytes]) -> bytes:
    data = bytearray(size)
    for offset, signature in boot_sectors.items():
        data[offset + 3 : offset + 3 + len(signature)] = signature
    return bytes(data)


def test_signatures_count_only_on_sector_boundaries() -> None:
    data = disk(8 * SECTOR, {SECTOR: b"NTFS    ", 3 * SECTOR + 7: b"NTFS    "})
    assert candidate_offsets(data, 1000 * SECTOR, len(data)) == [1001 * SECTOR]
    assert candidate_offsets(data, 0, SECTOR) == []  # beyond the limit


def test_search_goes_on_after_each_file_system_and_skips_what_tsk_refuses(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(fssearch, "SEARCH_WINDOW", 64 * SECTOR)
    # File systems at sectors 8 (16 sectors long) and 30; a false signature at 12 (inside
    # the first) and one TSK refuses at 26.
    data = disk(200 * SECTOR, {s * SECTOR: b"EXFAT   " for s in (8, 12, 26, 30)})
    sizes = {8 * SECTOR: 16 * SECTOR, 30 * SECTOR: 4 * SECTOR}
    tried: list[int] = []

    def open_fs(offset: int) -> object:
        tried.append(offset)
        if offset not in sizes:
            raise OSError("not a file system")
        blocks = sizes[offset] // SECTOR
        return SimpleNamespace(info=SimpleNamespace(block_size=SECTOR, block_count=blocks))

    found = search(lambda offset, length: data[offset : offset + length], len(data), open_fs)
    assert [(f.offset, f.size) for f in found] == [
        (8 * SECTOR, 16 * SECTOR),
        (30 * SECTOR, 4 * SECTOR),
    ]
    assert tried == [8 * SECTOR, 26 * SECTOR, 30 * SECTOR]
    first = search(lambda o, n: data[o : o + n], len(data), open_fs, first_only=True)
    assert [f.offset for f in first] == [8 * SECTOR]


def test_a_file_system_beyond_the_window_is_not_searched_for(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(fssearch, "SEARCH_WINDOW", 16 * SECTOR)
    data = disk(100 * SECTOR, {40 * SECTOR: b"EXFAT   "})
    info = SimpleNamespace(info=SimpleNamespace(block_size=SECTOR, block_count=1))
    assert search(lambda o, n: data[o : o + n], len(data), lambda o: info) == []


def test_an_unreadable_window_ends_the_search() -> None:
    def read(offset: int, length: int) -> bytes:
        raise OSError("bad sector")

    assert search(read, 100 * SECTOR, lambda o: None) == []
