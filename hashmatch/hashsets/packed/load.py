"""Importing a file's blocks into a new packed set, all or nothing."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path

from hashmatch.errors import HashSetFormatError, StoreError
from hashmatch.hashsets.durable import sync_folder
from hashmatch.hashsets.model import InvalidRecord
from hashmatch.hashsets.packed.concat import concat
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
    small = _Small(writer)
    try:
        for block in blocks:
            if isinstance(block, InvalidRecord):
                if not skip_invalid:
                    raise HashSetFormatError(block.reason, path=path, line=block.line)
                counts.skipped += 1
                continue
            with _writing(directory):
                small.add(block)
            after_block()
        with _writing(directory):
            small.flush()
            writer.finish()
            sync_folder(directory)
    except BaseException:
        writer.abort()
        raise
    counts.entries = writer.entries
    counts.values = writer.counts
    return counts


#: Blocks of fewer entries than this are joined before they are written,
SMALL_BLOCK = 4096
#: unless their records take this many bytes (a VICS piece of media of 1 KB or more:
#: joining copied its records twice more, out of the worker's slot and into the join).
LARGE_RECORDS = 1 << 20


class _Small:
    """Small blocks joined up to ``SMALL_BLOCK`` entries, in order, before the writer
    takes them: a reader's small blocks (a VICS piece short of media, the fast lines
    between lines the line reader reads as entries), each written on its own and held as
    arrays of its own, took 500-950 MB for 1 M lines when each invalid line also ended
    one (174 MB joined; invalid records no longer cut blocks: ``packed.entries``). A
    block with ``LARGE_RECORDS`` bytes of records or more is written alone: a file has
    few such blocks."""

    def __init__(self, writer: PackedWriter) -> None:
        self._writer = writer
        self._held: list[PackedBlock] = []
        self._entries = 0

    def add(self, block: PackedBlock) -> None:
        if block.entries >= SMALL_BLOCK or len(block.record_data) >= LARGE_RECORDS:
            self.flush()
            self._writer.add(block)
            return
        if isinstance(block.record_data, memoryview):  # (a reader's buffer, used again)
            block = replace(block, record_data=bytes(block.record_data))
        self._held.append(block)
        self._entries += block.entries
        if self._entries >= SMALL_BLOCK:
            self.flush()

    def flush(self) -> None:
        if self._held:
            self._writer.add(concat(self._held))
            self._held.clear()
            self._entries = 0


@contextmanager
def _writing(directory: Path) -> Iterator[None]:
    """A failure to write the set (a full disk, an I/O error) named as such: an
    ``OSError`` from reading the file being imported is the caller's to name."""
    try:
        yield
    except OSError as exc:
        raise StoreError(f"writing the hash-set store failed ({directory}): {exc}") from exc
