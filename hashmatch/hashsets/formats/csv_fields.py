"""Generic CSV lines read a chunk at a time by numpy (``csv_lines``), as the row reader
reads them.

A line is taken when it has at least the header's number of fields (more are read past,
as the row reader reads past them) with quotes only at their edges
(``csv_lines.plain_fields``), each hash field is empty or exactly its algorithm's hex
digits, at least one is not empty, a PDQ quality (where a PDQ is given) is one to three
ASCII digits up to 100, the name and category fields start and end with a printable
ASCII character (so that the row reader's ``strip`` leaves them as they are), and the
file size is one ``file_sizes.digit_sizes`` decides. Every other line is read by the row
reader in its place.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import BinaryIO

import numpy as np

from hashmatch.hashing import get_algorithm
from hashmatch.hashsets.formats import csv_lines, csv_rows
from hashmatch.hashsets.formats.bulklines import gather_bytes, hex_rows
from hashmatch.hashsets.formats.csv_batches import CsvLayout, label_codes
from hashmatch.hashsets.formats.file_sizes import digit_sizes
from hashmatch.hashsets.model import InvalidRecord
from hashmatch.hashsets.name_decoding import NAME_ERRORS
from hashmatch.hashsets.packed.layout import (
    LABEL_CODE_DTYPE,
    QUALITY_DTYPE,
    QUALITY_NONE,
    PackedBlock,
    PackedColumn,
    PackedLabel,
)


def csv_line_blocks(
    stream: BinaryIO,
    layout: CsvLayout,
    read_row: csv_rows.RowReader,
    dialect: csv_rows.Dialect,
    batches: csv_lines.RowBatches,
) -> Iterator[PackedBlock | InvalidRecord]:
    """The entries of the lines after the header (already read), in order; a chunk
    most of whose lines the check does not take goes to ``batches`` as rows."""
    delimiter = ord(dialect.delimiter)
    return csv_lines.line_blocks(
        stream, 2, lambda lines: _taken(lines, layout, delimiter), read_row, dialect, batches
    )


def _taken(lines: csv_lines.Lines, layout: CsvLayout, delimiter: int) -> csv_lines.Taken:
    arr = lines.arr
    extras = [f for f in (layout.name, layout.quality, layout.category) if f is not None]
    wanted = [index for index, _ in layout.columns] + extras
    if layout.size is not None:  # (last: the others' places do not move)
        wanted.append(layout.size)
    plain, starts, ends = csv_lines.plain_fields(lines, delimiter, layout.width, wanted, True)
    lengths = ends - starts
    n = len(plain)
    given = np.zeros(n, bool)
    with_pdq = np.zeros(n, bool)
    hashed: list[tuple[str, np.ndarray, np.ndarray]] = []  # algorithm, present, values
    for k, (_, algorithm) in enumerate(layout.columns):
        digits = get_algorithm(algorithm).bits // 4
        present = lengths[:, k] > 0
        plain &= ~present | (lengths[:, k] == digits)
        rows = np.flatnonzero(plain & present)
        good, decoded = hex_rows(arr, starts[rows, k], digits)
        plain[rows[~good]] = False
        values = np.zeros((n, digits // 2), np.uint8)
        values[rows[good]] = decoded
        hashed.append((algorithm, present, values))
        given |= present
        if algorithm == "pdq":
            with_pdq |= present
    plain &= given  # (a row without a value: "no hash value in this row")
    at = len(layout.columns)
    qualities = None
    if layout.quality is not None and with_pdq.any():
        k = at + (layout.name is not None)
        qualities = _qualities(arr, starts[:, k], lengths[:, k], with_pdq, plain)
    for k in range(at, at + len(extras)):  # (the size is checked as digits, below)
        if wanted[k] != layout.quality:
            plain &= _unstripped(arr, starts[:, k], lengths[:, k])
    sizes = None
    if layout.size is not None:
        decided, sizes = digit_sizes(arr, starts[:, -1], ends[:, -1])
        plain &= decided
    names = _column(layout.name, wanted, starts, lengths)
    labels = None
    if layout.category is not None:
        k = wanted.index(layout.category)
        labels = _labels(lines, starts[:, k], lengths[:, k], plain)

    def block(low: int, high: int) -> PackedBlock | None:
        kept = low + np.flatnonzero(plain[low:high])
        if len(kept) == 0:
            return None
        rank = np.arange(len(kept), dtype=np.int64)
        columns = tuple(
            PackedColumn(algorithm, values[kept[present[kept]]], rank[present[kept]])
            for algorithm, present, values in hashed
        )
        if names is None:
            data, offsets = b"", np.zeros(len(kept) + 1, np.int64)
        else:
            data, offsets = gather_bytes(arr, names[0][kept], names[1][kept])
        codes, table = (labels[0][kept], labels[1]) if labels is not None else (None, ())
        own = qualities[kept] if qualities is not None else None
        own_sizes = sizes[kept] if sizes is not None else None
        return PackedBlock(len(kept), columns, data, offsets, codes, table, qualities=own,
                           sizes=own_sizes)  # fmt: skip

    return csv_lines.Taken(plain, block)


def _column(
    field: int | None, wanted: list[int], starts: np.ndarray, lengths: np.ndarray
) -> tuple[np.ndarray, np.ndarray] | None:
    if field is None:
        return None
    k = wanted.index(field)
    return starts[:, k], lengths[:, k]


def _unstripped(arr: np.ndarray, starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Which fields are empty, or start and end with printable ASCII (a field ``strip``
    would change, Unicode spaces too, is left to the row reader)."""
    first = arr.take(starts, mode="clip")
    last = arr.take(starts + lengths - 1, mode="clip")
    printable = (first > 32) & (first < 127) & (last > 32) & (last < 127)
    fits: np.ndarray = (lengths == 0) | printable
    return fits


def _qualities(
    arr: np.ndarray,
    starts: np.ndarray,
    lengths: np.ndarray,
    with_pdq: np.ndarray,
    plain: np.ndarray,
) -> np.ndarray:
    """Each line's PDQ quality (``QUALITY_NONE``: none given, or no PDQ); lines with a
    PDQ and a quality that is not 1-3 ASCII digits up to 100 stop being plain."""
    checked = with_pdq & (lengths > 0)
    plain &= ~checked | (lengths <= 3)
    score = np.zeros(len(starts), np.int64)
    for k in range(3):
        inside = k < lengths
        digit = arr.take(starts + k, mode="clip").astype(np.int64) - 48
        plain &= ~(checked & inside) | ((digit >= 0) & (digit <= 9))
        score = np.where(inside, score * 10 + digit, score)
    plain &= ~checked | (score <= 100)
    return np.where(checked, score, QUALITY_NONE).clip(0, 255).astype(QUALITY_DTYPE)


def _labels(
    lines: csv_lines.Lines, starts: np.ndarray, lengths: np.ndarray, plain: np.ndarray
) -> tuple[np.ndarray, tuple[PackedLabel, ...]]:
    """Each plain line's label code (0: none) and what the codes mean: the category as
    written (its label) and as hashmatch reads it."""
    rows = np.flatnonzero(plain & (lengths > 0))
    codes = np.zeros(len(plain), LABEL_CODE_DTYPE)
    if len(rows) == 0:
        return codes, ()
    # One text of all of them, a newline between (no field of a line holds one).
    pieces = np.stack([starts[rows], np.full(len(rows), len(lines.arr) - 1)], axis=1)
    sizes = np.stack([lengths[rows], np.ones(len(rows), np.int64)], axis=1)
    data, _ = gather_bytes(lines.arr, pieces.ravel(), sizes.ravel())
    texts = data.decode("utf-8", NAME_ERRORS).split("\n")[:-1]
    found, table = label_codes(texts)
    codes[rows] = found
    return codes, table
