"""Entries read one at a time (``ParsedEntry``) gathered into packed blocks.

For a format that packs but reads some files record by record (a VICS file its bulk
reader does not take): the same values, labels, references and records as the bulk
reader would give, in the same order. An entry's quality is its first value's that has
one (the formats that give qualities give one perceptual value an entry).

Invalid records are given as soon as they are read, ahead of the entries read before
them and not yet given in a block: an import only counts them, or stops at the first,
so their places among the entries do not matter, and cutting a block at each one made
a file with one line in two invalid into blocks of one entry (1 M md5sum lines: 30 s; a
generic CSV: 56 s and 428 MB, with 316 MB more in a worker). Their order among
themselves, and the entries', is the file's.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import cast

import numpy as np

from hashmatch.hashsets.model import InvalidRecord, ParsedEntry
from hashmatch.hashsets.packed.concat import concat
from hashmatch.hashsets.packed.layout import (
    LABEL_CODE_DTYPE,
    QUALITY_DTYPE,
    QUALITY_NONE,
    SIZE_DTYPE,
    SIZE_NONE,
    PackedBlock,
    PackedColumn,
    PackedLabel,
    split_around,
)

#: Entries gathered into one block.
BLOCK_ENTRIES = 20_000


def entry_blocks(
    records: Iterable[ParsedEntry | InvalidRecord],
) -> Iterator[PackedBlock | InvalidRecord]:
    """Blocks of consecutive entries, each invalid record as it comes (ahead of the
    entries held). Entries without a value are left out, as the row layout leaves them
    out."""
    return merged_blocks(records)


def merged_blocks(
    items: Iterable[PackedBlock | ParsedEntry | InvalidRecord | None],
) -> Iterator[PackedBlock | InvalidRecord]:
    """Blocks and entries (read one at a time: the lines a bulk reader leaves to the line
    reader) in order, joined into blocks of about ``BLOCK_ENTRIES`` (a block an entry, or
    a block for each few lines between two such lines, made a file of many of them 20
    times slower); invalid records as they come (ahead of the entries held); None (no
    record) passed over."""
    held: list[PackedBlock] = []
    entries: list[ParsedEntry] = []
    count = 0

    def flush() -> Iterator[PackedBlock]:
        nonlocal count
        if entries:
            held.append(gather(entries))
            entries.clear()
        if held:
            yield concat(held)
            held.clear()
        count = 0

    for item in items:
        if item is None:
            continue
        if isinstance(item, InvalidRecord):
            yield item  # (ahead of the entries held)
            continue
        if isinstance(item, ParsedEntry):
            if not item.hashes:
                continue
            entries.append(item)
        elif item.entries >= BLOCK_ENTRIES:  # (large enough: not copied into another)
            yield from flush()
            yield item
            continue
        else:
            if entries:
                held.append(gather(entries))
                entries.clear()
            held.append(item)
        count += 1 if isinstance(item, ParsedEntry) else item.entries
        if count >= BLOCK_ENTRIES:
            yield from flush()
    yield from flush()


Reading = ParsedEntry | InvalidRecord | None


def around_entries(
    count: int, read: Mapping[int, Reading], bulk: Callable[[int, int], PackedBlock | None]
) -> Iterator[PackedBlock | ParsedEntry | InvalidRecord]:
    """Rows ``0`` to ``count - 1`` of a chunk, some read one by one (``read``: each one's
    reading, in row order), the rest taken in bulk (``bulk(low, high)``: the block of
    rows ``low`` to ``high - 1`` not in ``read``, or None if none holds an entry): the
    invalid records first, then the blocks, cut only around the rows read as entries
    (for ``merged_blocks`` to join)."""
    yield from (r for r in read.values() if isinstance(r, InvalidRecord))
    cuts = [row for row, r in read.items() if isinstance(r, ParsedEntry)]
    for low, high, row in split_around(count, cuts):
        if high > low and (block := bulk(low, high)) is not None:
            yield block
        if row is not None:
            yield cast(ParsedEntry, read[row])


def gather(entries: Sequence[ParsedEntry]) -> PackedBlock:
    """One block of ``entries``, in their order."""
    by_algorithm: dict[str, tuple[list[int], list[bytes]]] = {}
    for row, entry in enumerate(entries):
        for value in entry.hashes:
            rows, raw = by_algorithm.setdefault(value.algorithm, ([], []))
            rows.append(row)
            raw.append(value.to_bytes())
    columns = tuple(
        PackedColumn(
            algorithm,
            np.frombuffer(b"".join(raw), np.uint8).reshape(len(raw), -1),
            np.array(rows, np.int64),
        )
        for algorithm, (rows, raw) in by_algorithm.items()
    )
    labels: dict[PackedLabel, int] = {}
    codes = np.zeros(len(entries), LABEL_CODE_DTYPE)
    for row, entry in enumerate(entries):
        if entry.label is not None or entry.category is not None:
            own = PackedLabel(entry.label or "", entry.category)
            codes[row] = labels.setdefault(own, len(labels) + 1)
    ref_data, ref_offsets = texts([e.reference for e in entries])
    record_data, record_offsets = texts([e.record for e in entries])
    scores = [next((v.quality for v in e.hashes if v.quality is not None), None) for e in entries]
    qualities = None
    if any(q is not None for q in scores):
        qualities = np.array([QUALITY_NONE if q is None else q for q in scores], QUALITY_DTYPE)
    sizes = None
    if any(e.size is not None for e in entries):
        sizes = np.array([SIZE_NONE if e.size is None else e.size for e in entries], SIZE_DTYPE)
    return PackedBlock(
        len(entries),
        columns,
        ref_data,
        ref_offsets,
        codes if labels else None,
        tuple(labels),
        record_data,
        record_offsets if record_data else None,
        qualities,
        sizes,
    )


def texts(items: Sequence[str | None]) -> tuple[bytes, np.ndarray]:
    """Texts as UTF-8 back to back (None: empty), and their ``len + 1`` offsets."""
    encoded = [b"" if t is None else t.encode("utf-8", "backslashreplace") for t in items]
    lengths = np.fromiter(map(len, encoded), np.int64, len(encoded))
    return b"".join(encoded), np.concatenate(([0], np.cumsum(lengths))).astype(np.int64)
