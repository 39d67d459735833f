"""HashKeeper ``.hsh`` hash sets: quoted CSV with an exact 12-column header, read into a
packed set.

The hash column is found by name (``hash``), as Autopsy does; an entry is named by its
``directory`` and ``file_name`` joined with a backslash, and keeps its ``file_size``.
``read`` goes row by row with the ``csv`` module. ``blocks`` reads the usual lines (the
header's twelve fields or more, quotes only at the fields' edges, a hash of 32 hex
digits, a size of digits) a chunk at a time with numpy (``csv_lines``), and every other
line with ``read``'s own row logic in its place: the same entries, messages and line
numbers (a hypothesis test compares them).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import BinaryIO, ClassVar

import numpy as np

from hashmatch.errors import HashSetFormatError
from hashmatch.hashing import get_algorithm
from hashmatch.hashsets.formats import csv_lines, csv_rows
from hashmatch.hashsets.formats.base import HashSetFormat, Sample, csv_text
from hashmatch.hashsets.formats.bulklines import gather_bytes, hex_rows
from hashmatch.hashsets.formats.file_sizes import digit_sizes, size_of
from hashmatch.hashsets.model import InvalidRecord, ParsedEntry
from hashmatch.hashsets.name_decoding import NAME_ERRORS
from hashmatch.hashsets.packed.entries import entry_blocks
from hashmatch.hashsets.packed.layout import PackedBlock, PackedColumn

HASHKEEPER_HEADER = (
    '"file_id","hashset_id","file_name","directory","hash","file_size","date_modified",'
    '"time_modified","time_zone","comments","date_accessed","time_accessed"'
)
_COMMA, _BACKSLASH = 44, 92
_BACKSLASH_BYTE = np.array([_BACKSLASH], np.uint8)
_DIALECT = csv_rows.Dialect("utf-8", NAME_ERRORS)


@dataclass(frozen=True)
class Layout:
    """Where a file's fields are: the header's width, the hash column, and the file
    name, directory and size columns (None: the header has none)."""

    width: int
    hash: int
    name: int | None
    folder: int | None
    size: int | None = None


class HashKeeper(HashSetFormat):
    name: ClassVar[str] = "hashkeeper"
    description: ClassVar[str] = "HashKeeper .hsh (12-column quoted CSV)"
    gives_sizes: ClassVar[bool] = True

    def sniff(self, sample: Sample) -> float:
        first = sample.lines[0].lstrip("\ufeff").strip() if sample.lines else ""
        return 1.0 if first == HASHKEEPER_HEADER else 0.0

    def read(self, stream: BinaryIO) -> Iterator[ParsedEntry | InvalidRecord]:
        reader = csv_rows.Rows(csv_text(stream))
        layout = _layout(next(reader, []))
        for row in reader:
            record = _row(reader.line_num, row, layout)
            if record is not None:
                yield record

    def packs(self) -> bool:
        return True

    def blocks(self, stream: BinaryIO) -> Iterator[PackedBlock | InvalidRecord]:
        found = csv_rows.header_row(stream, _DIALECT)
        if found is None:  # (UTF-16, or a header that is not one line of CSV)
            stream.seek(0)
            yield from entry_blocks(self.read(stream))
            return
        layout = _layout(found[0])
        yield from csv_lines.line_blocks(
            stream, 2, lambda lines: _taken(lines, layout),
            lambda line, row: _row(line, row, layout), _DIALECT,
        )  # fmt: skip


def _layout(header: list[str]) -> Layout:
    names = [h.lstrip("\ufeff").strip().lower() for h in header]
    if "hash" not in names:
        raise HashSetFormatError("no 'hash' column in the HashKeeper header", line=1)
    return Layout(
        len(names),
        names.index("hash"),
        names.index("file_name") if "file_name" in names else None,
        names.index("directory") if "directory" in names else None,
        names.index("file_size") if "file_size" in names else None,
    )


def _row(line: int, row: list[str], layout: Layout) -> ParsedEntry | InvalidRecord | None:
    """One row as the row reader reads it (None: a blank line)."""
    if not row:
        return None
    at, name, folder = layout.hash, layout.name, layout.folder
    md5 = get_algorithm("md5")
    if len(row) <= at or not md5.is_valid(row[at]):
        value = row[at] if len(row) > at else ""
        return InvalidRecord(line, f"hash is not an MD5: {value!r:.60}")
    reference = None
    if name is not None and len(row) > name:
        parts = [row[folder]] if folder is not None and len(row) > folder else []
        reference = "\\".join(p for p in (*parts, row[name]) if p)
    size = size_of(row[layout.size]) if layout.size is not None and len(row) > layout.size else None
    return ParsedEntry((md5.value(row[at]),), reference=reference, size=size)


def _taken(lines: csv_lines.Lines, layout: Layout) -> csv_lines.Taken:
    """The lines of a chunk with at least the header's number of fields, quotes only at their
    edges, a hash of 32 hex digits and a size ``digit_sizes`` decides; each one's value,
    name and size."""
    wanted = [layout.hash, *(f for f in (layout.folder, layout.name) if f is not None)]
    if layout.size is not None:
        wanted.append(layout.size)
    plain, starts, ends = csv_lines.plain_fields(lines, _COMMA, layout.width, wanted, True)
    sizes = None
    if layout.size is not None:
        decided, sizes = digit_sizes(lines.arr, starts[:, -1], ends[:, -1])
        plain &= decided
        starts, ends = starts[:, :-1], ends[:, :-1]
    plain &= ends[:, 0] - starts[:, 0] == 32
    rows = np.flatnonzero(plain)
    good, decoded = hex_rows(lines.arr, starts[rows, 0], 32)
    plain[rows[~good]] = False
    values = np.zeros((len(plain), 16), np.uint8)
    values[rows[good]] = decoded
    # Each line's name: the folder (if any), a backslash when both are there, the name.
    empty = np.zeros((len(plain), 1), np.int64)
    folder = (starts[:, 1:2], ends[:, 1:2]) if layout.folder is not None else (empty, empty)
    name = (starts[:, -1:], ends[:, -1:]) if layout.name is not None else (empty, empty)

    # The chunk with a backslash after it (to join folders and names), made once: made
    # for each block, a chunk split by many lines read alone (comments, names with "")
    # was copied once per block, 45 s for a file with a comment every ten lines.
    padded = functools.cache(lambda: np.concatenate((lines.arr, _BACKSLASH_BYTE)))

    def block(low: int, high: int) -> PackedBlock | None:
        kept = low + np.flatnonzero(plain[low:high])
        if len(kept) == 0:
            return None
        column = PackedColumn("md5", values[kept], np.arange(len(kept), dtype=np.int64))
        if layout.name is None:
            data, offsets = b"", np.zeros(len(kept) + 1, np.int64)
        else:
            data, offsets = _names(lines, kept, folder, name, padded)
        own = sizes[kept] if sizes is not None else None
        return PackedBlock(len(kept), (column,), data, offsets, sizes=own)

    return csv_lines.Taken(plain, block)


def _names(
    lines: csv_lines.Lines,
    kept: np.ndarray,
    folder: tuple[np.ndarray, np.ndarray],
    name: tuple[np.ndarray, np.ndarray],
    padded: Callable[[], np.ndarray],
) -> tuple[bytes, np.ndarray]:
    """The ``kept`` lines' names (``folder\\name``) back to back, and their offsets
    (``padded``: the chunk's bytes and a backslash after them)."""
    folder_at, folder_end = folder[0][kept, 0], folder[1][kept, 0]
    name_at, name_end = name[0][kept, 0], name[1][kept, 0]
    folder_length, name_length = folder_end - folder_at, name_end - name_at
    both = (folder_length > 0) & (name_length > 0)
    arr = padded() if both.any() else lines.arr
    where = np.stack([folder_at, np.full(len(kept), len(lines.arr)), name_at], axis=1)
    lengths = np.stack([folder_length, both.astype(np.int64), name_length], axis=1)
    data, offsets = gather_bytes(arr, where.ravel(), lengths.ravel())
    # (Bytes that are not UTF-8 are kept: the store reads each name back with
    # NAME_ERRORS, as the row reader decodes it.)
    return data, offsets[::3]
