"""Packed sets: big hash sets (plain lists, NSRL, VICS) kept as sorted arrays on disk,
not as SQLite rows.

A list of millions of MD5s is imported at the speed of numpy instead of one SQLite row
per hash, and looked up with a binary search in a memory map. ``layout`` describes the
files, ``writer`` builds them in bounded memory, ``reader`` reads them, ``entries``
gathers entries read one at a time into blocks.
"""

from collections.abc import Iterable, Iterator
from dataclasses import replace

from hashmatch.hashsets.model import InvalidRecord
from hashmatch.hashsets.packed.layout import PackedBlock, PackedLabel
from hashmatch.hashsets.packed.reader import PackedHit, PackedSet
from hashmatch.hashsets.packed.writer import PackedWriter

__all__ = ["PackedBlock", "PackedHit", "PackedLabel", "PackedSet", "PackedWriter",
           "without_categories"]  # fmt: skip


def without_categories(
    blocks: Iterable[PackedBlock | InvalidRecord],
) -> Iterator[PackedBlock | InvalidRecord]:
    """The blocks with their entries' own categories dropped (labels kept): what an
    import with an explicit ``--category`` stores."""
    for block in blocks:
        if isinstance(block, PackedBlock) and block.label_table:
            own = tuple(PackedLabel(label.label) for label in block.label_table)
            yield replace(block, label_table=own)
        else:
            yield block
