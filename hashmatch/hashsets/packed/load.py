"""Importing a file's blocks into a new packed set, all or nothing."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from hashmatch.errors import HashSetFormatError, StoreError
from hashmatch.hashsets.durable import sync_folder
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
            with _writing(directory):
                writer.add(block)
            after_block()
        with _writing(directory):
            writer.finish()
            sync_folder(directory)
    except BaseException:
        writer.abort()
        raise
    counts.entries = writer.entries
    counts.values = writer.counts
    return counts


@contextmanager
def _writing(directory: Path) -> Iterator[None]:
    """A failure to write the set (a full disk, an I/O error) named as such: an
    ``OSError`` from reading the file being imported is the caller's to name."""
    try:
        yield
    except OSError as exc:
        raise StoreError(f"writing the hash-set store failed ({directory}): {exc}") from exc
