"""Importing a file's blocks into a new packed set, all or nothing."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from hashmatch.errors import HashSetFormatError
from hashmatch.hashsets.model import InvalidRecord
from hashmatch.hashsets.packed.layout import PackedBlock
from hashmatch.hashsets.packed.writer import PackedWriter


@dataclass
class PackedCounts:
    entries: int = 0
    skipped: int = 0
    values: dict[str, int] = field(default_factory=dict)


def load(
    directory: Path,
    blocks: Iterable[PackedBlock | InvalidRecord],
    *,
    skip_invalid: bool,
    path: str,
    after_block: Callable[[], None],
) -> PackedCounts:
    """Write every block into ``directory``; on any error nothing is left behind."""
    counts = PackedCounts()
    writer = PackedWriter(directory)
    try:
        for block in blocks:
            if isinstance(block, InvalidRecord):
                if not skip_invalid:
                    raise HashSetFormatError(block.reason, path=path, line=block.line)
                counts.skipped += 1
                continue
            writer.add(block)
            after_block()
        writer.finish()
        _sync(directory)
    except BaseException:
        writer.abort()
        raise
    counts.entries = writer.entries
    counts.values = writer.counts
    return counts


def _sync(directory: Path) -> None:
    """Flush the finished files to disk before the catalogue names the set."""
    for child in directory.iterdir():
        fd = os.open(child, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
