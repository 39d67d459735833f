"""What a bulk reader and a row reader give, unrolled into comparable lists: one item
per entry (shaped by the test), in order, then ``(line, reason)`` per invalid record, in
order. (Readers give an invalid record ahead of the entries read before it and not yet
given in a block: only the two orders are the file's, not how they interleave.)"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TypeVar

from hashmatch.hashsets.model import InvalidRecord, ParsedEntry
from hashmatch.hashsets.name_decoding import NAME_ERRORS
from hashmatch.hashsets.packed import PackedBlock, PackedLabel
from hashmatch.hashsets.packed.layout import SIZE_NONE

T = TypeVar("T")
Invalid = tuple[int | None, str]


@dataclass(frozen=True)
class BlockEntry:
    """One entry of a packed block: its values as ``(algorithm, hex)``, its reference,
    its own label (None: the set's), its record (None: it keeps none) and its file size
    (None: none given)."""

    values: tuple[tuple[str, str], ...]
    reference: str | None
    label: PackedLabel | None
    record: str | None = None
    size: int | None = None


def from_records(
    records: Iterable[ParsedEntry | InvalidRecord], shape: Callable[[ParsedEntry], T]
) -> list[T | Invalid]:
    """The row reader's entries (those with a value: the store skips the rest)."""
    out: list[T | Invalid] = []
    invalid: list[T | Invalid] = []
    for record in records:
        if isinstance(record, InvalidRecord):
            invalid.append((record.line, record.reason))
        elif record.hashes:
            out.append(shape(record))
    return out + invalid


def from_blocks(
    blocks: Iterable[PackedBlock | InvalidRecord], shape: Callable[[BlockEntry], T]
) -> list[T | Invalid]:
    out: list[T | Invalid] = []
    invalid: list[T | Invalid] = []
    for block in blocks:
        if isinstance(block, InvalidRecord):
            invalid.append((block.line, block.reason))
            continue
        for i in range(block.entries):
            values = tuple((c.algorithm, bytes(c.values[k]).hex()) for c in block.columns
                           for k in (c.rows == i).nonzero()[0].tolist())  # fmt: skip
            name = block.ref_data[block.ref_offsets[i] : block.ref_offsets[i + 1]]
            code = int(block.label_codes[i]) if block.label_codes is not None else 0
            own = block.label_table[code - 1] if code else None
            reference = name.decode("utf-8", NAME_ERRORS) or None  # (as the store reads it)
            record = None
            if block.record_offsets is not None:
                start, end = block.record_offsets[i], block.record_offsets[i + 1]
                record = bytes(block.record_data[start:end]).decode("utf-8") or None
            size = int(block.sizes[i]) if block.sizes is not None else None
            size = None if size == SIZE_NONE else size
            out.append(shape(BlockEntry(values, reference, own, record, size)))
    return out + invalid
