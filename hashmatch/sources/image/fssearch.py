"""Finding file systems in a disk image whose partition table is gone (wiped or damaged).

When TSK finds neither a partition table nor a file system at offset 0, the image is
searched as partition-recovery tools do it: every 512-byte sector boundary of a window
is checked for the signature of a boot sector or superblock (NTFS, exFAT, FAT, ext,
HFS+, ISO 9660), and TSK is asked to open a file system at each candidate, in order; a
candidate it cannot open is ignored. The search starts at the beginning of the image
and, after each file system found, goes on from where that file system ends, so
partitions laid out one after another are all found without reading the whole image.
A file system that starts more than ``SEARCH_WINDOW`` bytes after the end of the
previous one (or after the start of the image) is not found.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

SECTOR = 512
#: How far past the start of the image, or the end of the last file system found, the
#: search looks for the next one.
SEARCH_WINDOW = 64 << 20
#: (offset from the file system's start, bytes): what a file system's first sectors hold.
FS_SIGNATURES = (
    (3, b"NTFS    "),  # NTFS boot sector
    (3, b"EXFAT   "),
    (54, b"FAT1"),  # FAT12/16 boot sector file-system type
    (82, b"FAT32   "),
    (1080, b"\x53\xef\x01\x00"),  # ext2/3/4 superblock magic, state "clean"
    (1080, b"\x53\xef\x02\x00"),  # ... state "errors"
    (1024, b"H+"),  # HFS+
    (1024, b"HX"),  # HFSX
    (32769, b"CD001"),  # ISO 9660
)
_REACH = max(at + len(magic) for at, magic in FS_SIGNATURES)


@dataclass(frozen=True)
class FoundFileSystem:
    offset: int
    size: int
    fs: Any  # pytsk3.FS_Info


def candidate_offsets(data: bytes, base: int, limit: int) -> list[int]:
    """Sector boundaries ``base + k * SECTOR`` below ``base + limit`` where ``data`` (the
    image from ``base`` on) holds a file-system signature, in order."""
    arr = np.frombuffer(data, np.uint8)
    found: set[int] = set()
    for at, magic in FS_SIGNATURES:
        last = min(len(arr) - at - len(magic), limit - 1)
        if last < 0:
            continue
        starts = np.arange(0, last + 1, SECTOR)
        ok = np.ones(len(starts), bool)
        for k, byte in enumerate(magic):
            ok &= arr[starts + at + k] == byte
        found.update((base + starts[ok]).tolist())
    return sorted(found)


def search(
    read: Callable[[int, int], bytes],
    size: int,
    open_fs: Callable[[int], Any],
    *,
    first_only: bool = False,
) -> list[FoundFileSystem]:
    """File systems found by searching the image (``read(offset, length)``, ``size``
    bytes); ``open_fs(offset)`` opens one or raises ``OSError``/``RuntimeError``. The
    search stops at a window that cannot be read (a damaged image)."""
    found: list[FoundFileSystem] = []
    offset = 0
    while offset < size:
        try:
            data = read(offset, min(SEARCH_WINDOW + _REACH, size - offset))
        except (OSError, RuntimeError):  # a damaged image: what cannot be read is not searched
            break
        if not data:
            break
        hit = None
        for candidate in candidate_offsets(data, offset, SEARCH_WINDOW):
            try:
                fs = open_fs(candidate)
            except (OSError, RuntimeError):
                continue
            length = int(fs.info.block_size) * int(fs.info.block_count)
            hit = FoundFileSystem(candidate, length, fs)
            break
        if hit is None:
            break
        found.append(hit)
        if first_only:
            break
        end = hit.offset + max(hit.size, SECTOR)
        offset = -(-end // SECTOR) * SECTOR
    return found
