"""Making a set's files durable: flushed to disk before the catalogue names the set, so
that a power cut after an import leaves either no set or a whole one."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path


def sync_folder(directory: Path) -> None:
    """Flush every file in ``directory`` to disk, then the folder itself (its names)."""
    for child in directory.iterdir():
        if child.is_file():
            _fsync(child)
    # Not every platform opens a folder for syncing (Windows does not); where it cannot,
    # the files' own sync is what there is.
    with contextlib.suppress(OSError):
        _fsync(directory)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
