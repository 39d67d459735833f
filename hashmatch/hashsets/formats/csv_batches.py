"""Generic CSV hash sets read in batches of rows: each hash column checked and decoded by
numpy (``columns.hex_column``), the PDQ quality, category, name and size columns read
as columns, and the rows the check refuses described by the row reader in their place, so
that both give the same entries, labels, qualities and messages (a hypothesis test
compares them)."""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from hashmatch.errors import UsageError
from hashmatch.hashsets.categories import Category
from hashmatch.hashsets.formats.columns import HexColumn, Labels, batch_blocks, hex_column
from hashmatch.hashsets.formats.file_sizes import sizes_of
from hashmatch.hashsets.model import InvalidRecord, ParsedEntry
from hashmatch.hashsets.packed.layout import (
    LABEL_CODE_DTYPE,
    QUALITY_DTYPE,
    QUALITY_NONE,
    PackedBlock,
    PackedLabel,
)

#: Rows checked and decoded together.
BATCH_ROWS = 50_000
#: A PDQ quality as the row reader takes it (ASCII digits; at most 100).
_QUALITY = re.compile(r"[0-9]{1,3}")

#: (line number, row) of each row that holds anything.
Rows = Iterator[tuple[int, list[str]]]
#: The row reader's reading of one row.
RowReader = Callable[[int, list[str]], ParsedEntry | InvalidRecord]


@dataclass(frozen=True)
class CsvLayout:
    """Where a file's fields are: the header's width, each hash column (index,
    algorithm), and the name, PDQ quality, category and file size columns (None:
    none)."""

    width: int
    columns: list[tuple[int, str]]
    name: int | None
    quality: int | None
    category: int | None
    size: int | None = None


def csv_blocks(
    rows: Rows, layout: CsvLayout, read_row: RowReader
) -> Iterator[PackedBlock | InvalidRecord]:
    for batch in iter(lambda: list(itertools.islice(rows, BATCH_ROWS)), []):
        yield from _batch(batch, layout, read_row)


def _batch(
    batch: list[tuple[int, list[str]]], layout: CsvLayout, read_row: RowReader
) -> Iterator[PackedBlock | InvalidRecord]:
    n = len(batch)
    rows = [row if len(row) >= layout.width else [""] * layout.width for _, row in batch]
    keep = np.fromiter((len(row) >= layout.width for _, row in batch), bool, n)
    hashed: list[HexColumn] = []
    holds_value = np.zeros(n, bool)
    holds_pdq = np.zeros(n, bool)
    for index, algorithm in layout.columns:
        found = hex_column([row[index].strip() for row in rows], algorithm)
        keep &= ~found.invalid
        holds_value |= found.present
        if algorithm == "pdq":
            holds_pdq |= found.present
        hashed.append(found)
    keep &= holds_value  # (a row without a value: "no hash value in this row")
    qualities = None
    if layout.quality is not None and holds_pdq.any():
        written = [row[layout.quality].strip() for row in rows]
        scores = np.full(n, QUALITY_NONE, np.int64)
        for i in np.flatnonzero(holds_pdq).tolist():
            if written[i]:
                fits = _QUALITY.fullmatch(written[i]) is not None and int(written[i]) <= 100
                scores[i] = int(written[i]) if fits else QUALITY_NONE
                keep[i] &= fits
        qualities = scores.astype(QUALITY_DTYPE)
    names = [row[layout.name].strip() for row in rows] if layout.name is not None else None
    sizes = sizes_of([row[layout.size] for row in rows]) if layout.size is not None else None

    described = np.flatnonzero(~keep).tolist()
    labels = _labels(rows, layout.category) if layout.category is not None else None
    yield from batch_blocks(hashed, names, keep, described, lambda row: read_row(*batch[row]),
                            labels, qualities, sizes)  # fmt: skip


def _labels(rows: list[list[str]], column: int) -> Labels | None:
    """Each row's category as written (its label) and as hashmatch reads it."""
    codes, table = label_codes([row[column].strip() for row in rows])
    return Labels(codes, table) if table else None


def label_codes(labels: Sequence[str]) -> tuple[np.ndarray, tuple[PackedLabel, ...]]:
    """Each label's code (0: an empty label) and what the codes mean: the category as
    written and as hashmatch reads it (``category_of``)."""
    table: dict[PackedLabel, int] = {}
    codes = np.zeros(len(labels), LABEL_CODE_DTYPE)
    known: dict[str, int] = {}
    for i, label in enumerate(labels):
        if not label:
            continue
        code = known.get(label)
        if code is None:
            own = PackedLabel(label, category_of(label))
            code = known[label] = table.setdefault(own, len(table) + 1)
        codes[i] = code
    return codes, tuple(table)


def category_of(label: str) -> Category | None:
    """The category a CSV category column's text names (None: none hashmatch knows; it
    is kept as the label, and the set's category applies)."""
    try:
        return Category.parse(label)
    except UsageError:
        return None
