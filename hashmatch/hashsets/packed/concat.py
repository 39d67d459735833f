"""Consecutive packed blocks joined into one: their entries one after the other.

A bulk reader cut around the lines it leaves to the line reader makes a block of each
run of lines between them; where such lines are frequent the runs are a few lines
long, and a block of a few entries cost more than its lines' parsing (a file with one
such line in nine took 10 s a million lines). ``concat`` joins them back.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from hashmatch.errors import HashSetFormatError
from hashmatch.hashsets.packed.layout import (
    LABEL_CODE_DTYPE,
    MAX_LABELS,
    QUALITY_DTYPE,
    QUALITY_NONE,
    SIZE_DTYPE,
    SIZE_NONE,
    PackedBlock,
    PackedColumn,
    PackedLabel,
)


def concat(blocks: Sequence[PackedBlock]) -> PackedBlock:
    """One block of ``blocks``' entries, in order."""
    if len(blocks) == 1:
        return blocks[0]
    firsts = np.cumsum([0] + [b.entries for b in blocks])
    columns: dict[str, tuple[list[np.ndarray], list[np.ndarray]]] = {}
    for block, first in zip(blocks, firsts.tolist(), strict=False):
        for column in block.columns:
            values, rows = columns.setdefault(column.algorithm, ([], []))
            values.append(column.values)
            rows.append(column.rows + first)
    joined = tuple(
        PackedColumn(algorithm, np.concatenate(values), np.concatenate(rows))
        for algorithm, (values, rows) in columns.items()
    )
    ref_data, ref_offsets = _texts([(b.ref_data, b.ref_offsets) for b in blocks])
    codes, table = _labels(blocks)
    records = None
    record_data = b""
    if any(b.record_offsets is not None for b in blocks):
        record_data, records = _texts([(b.record_data, _offsets(b.record_offsets, b.entries))
                                       for b in blocks])  # fmt: skip
    qualities = _per_entry(blocks, [b.qualities for b in blocks], QUALITY_DTYPE, QUALITY_NONE)
    sizes = _per_entry(blocks, [b.sizes for b in blocks], SIZE_DTYPE, SIZE_NONE)
    return PackedBlock(int(firsts[-1]), joined, ref_data, ref_offsets, codes, table,
                       record_data, records, qualities, sizes)  # fmt: skip


def _per_entry(blocks: Sequence[PackedBlock], items: Sequence[np.ndarray | None],
               dtype: np.dtype, empty: int) -> np.ndarray | None:  # fmt: skip
    """The blocks' items of one kind an entry joined (``empty`` for a block without any;
    None: no block has any)."""
    if all(i is None for i in items):
        return None
    return np.concatenate([i if i is not None else np.full(b.entries, empty, dtype)
                           for b, i in zip(blocks, items, strict=True)])  # fmt: skip


def _offsets(offsets: np.ndarray | None, entries: int) -> np.ndarray:
    return offsets if offsets is not None else np.zeros(entries + 1, np.int64)


def _texts(parts: Sequence[tuple[bytes | memoryview, np.ndarray]]) -> tuple[bytes, np.ndarray]:
    """Texts laid out as data and ``entries + 1`` offsets, joined."""
    shifted = [np.zeros(1, np.int64)]
    at = 0
    for _, offsets in parts:
        base = np.asarray(offsets, np.int64)
        shifted.append(base[1:] - base[0] + at)
        at += int(base[-1] - base[0])
    data = b"".join(data[int(o[0]) : int(o[-1])] for data, o in parts)
    return data, np.concatenate(shifted)


def _labels(blocks: Sequence[PackedBlock]) -> tuple[np.ndarray | None, tuple[PackedLabel, ...]]:
    """Every entry's label code in one table of the labels the blocks use."""
    if all(b.label_codes is None or not b.label_table for b in blocks):
        return None, ()
    table: dict[PackedLabel, int] = {}
    parts = []
    for block in blocks:
        if block.label_codes is None or not block.label_table:
            parts.append(np.zeros(block.entries, LABEL_CODE_DTYPE))
            continue
        mapping = np.zeros(len(block.label_table) + 1, LABEL_CODE_DTYPE)
        for k, label in enumerate(block.label_table, 1):
            code = table.setdefault(label, len(table) + 1)
            if code > MAX_LABELS:  # (as the writer says it)
                raise HashSetFormatError(f"more than {MAX_LABELS:,} distinct labels")
            mapping[k] = code
        parts.append(mapping[block.label_codes])
    return np.concatenate(parts), tuple(table)
