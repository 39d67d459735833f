"""The Sleuth Kit's and Autopsy's hash databases, read into packed sets.

- ``.kdb``: SQLite with ``hashes(id, md5 BLOB, ...)``, ``file_names(name, hash_id)`` and
  ``db_properties``. Each hash is named by its first name; rows are read a fetch at a
  time and their MD5 blobs joined into one array.
- ``.idx``: ``md5|offset`` lines (what ``hfind -i`` writes), after two header lines of 41
  digits naming the database's type and name. A line format: the usual line is checked
  and decoded by numpy (``LineStyle.HASH_PIPE``), any other by ``parse_line``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import BinaryIO, ClassVar, cast

import numpy as np

from hashmatch.errors import HashSetFormatError
from hashmatch.hashing import get_algorithm
from hashmatch.hashsets.formats.base import (
    SQLITE_MAGIC,
    SQLITE_UNREADABLE,
    HashSetFormat,
    Sample,
    expected_rows,
    fetches,
    sqlite_readonly,
)
from hashmatch.hashsets.formats.bulklines import LineFormat, LineStyle
from hashmatch.hashsets.formats.columns import references
from hashmatch.hashsets.model import InvalidRecord, ParsedEntry
from hashmatch.hashsets.packed.layout import PackedBlock, PackedColumn, split_around

#: Rows of a ``.kdb`` read at once.
FETCH_ROWS = 50_000
_MD5_LINE = re.compile(r"^[0-9a-fA-F]{32}$")
_IDX_HEADER = re.compile(r"0{40}[01](?:\||$)")
# Each hash's first name, from one pass over file_names grouped (TSK's key is (name,
# hash_id): a lookup per hash scanned the table each time, and a million-entry database
# took hours). MIN(rowid) picks the name beside it.
_KDB_QUERY = (
    "SELECT h.md5, f.name FROM hashes h LEFT JOIN (SELECT hash_id, MIN(rowid), name "
    "FROM file_names GROUP BY hash_id) f ON f.hash_id = h.id ORDER BY h.id"
)

_KdbRows = list[tuple[object, object]]


class TskKdb(HashSetFormat):
    name: ClassVar[str] = "tsk-kdb"
    description: ClassVar[str] = "TSK/Autopsy .kdb SQLite hash database"

    def sniff(self, sample: Sample) -> float:
        head = sample.head
        if not head.startswith(SQLITE_MAGIC):
            return 0.0
        if sample.tables is not None:
            return 1.0 if {"hashes", "file_names"} <= sample.tables else 0.0
        return 1.0 if b"hashes" in head and b"file_names" in head else 0.0

    def __init__(self) -> None:
        super().__init__()
        self._read_bytes: int | None = None

    def read(self, stream: BinaryIO) -> Iterator[ParsedEntry | InvalidRecord]:
        for first, rows in self._fetches(stream):
            for number, row in enumerate(rows, first):
                yield _kdb_entry(number, row)

    def packs(self) -> bool:
        return True

    def blocks(self, stream: BinaryIO) -> Iterator[PackedBlock | InvalidRecord]:
        for first, rows in self._fetches(stream):
            yield from _kdb_blocks(first, rows)

    def bytes_read(self) -> int | None:
        return self._read_bytes

    def _fetches(self, stream: BinaryIO) -> Iterator[tuple[int, _KdbRows]]:
        """(number of the first row, rows) per fetch; the share of the hashes read, as
        a share of the file's bytes, for the progress bar."""
        try:
            with sqlite_readonly(stream) as db:
                expected = expected_rows(db, "hashes")
                cursor = db.execute(_KDB_QUERY)
                for first, rows, done in fetches(stream, cursor, expected, FETCH_ROWS):
                    yield first, cast(_KdbRows, rows)
                    self._read_bytes = done
        except SQLITE_UNREADABLE as exc:
            raise HashSetFormatError(f"not a readable TSK hash database: {exc}") from exc


def _kdb_entry(number: int, row: tuple[object, object]) -> ParsedEntry | InvalidRecord:
    raw, file_name = row
    if not isinstance(raw, bytes) or len(raw) != 16:
        return InvalidRecord(None, f"hash row {number}: md5 is not 16 bytes")
    reference = None if file_name is None else str(file_name)
    return ParsedEntry((get_algorithm("md5").value(raw.hex()),), reference=reference)


def _kdb_blocks(first: int, rows: _KdbRows) -> Iterator[PackedBlock | InvalidRecord]:
    """One fetch as blocks: the rows whose md5 is 16 bytes packed, each other one
    described by the row reader in its place."""
    hashes, names = zip(*rows, strict=True)
    fit = np.fromiter((type(h) is bytes and len(h) == 16 for h in hashes), bool, len(rows))
    for low, high, row in split_around(len(rows), np.flatnonzero(~fit).tolist()):
        if high > low:
            values = np.frombuffer(b"".join(hashes[low:high]), np.uint8).reshape(-1, 16)
            data, offsets = references(names[low:high], np.arange(high - low))
            column = PackedColumn("md5", values, np.arange(high - low, dtype=np.int64))
            yield PackedBlock(high - low, (column,), data, offsets.astype(np.int64))
        if row is not None:
            invalid = _kdb_entry(first + row, rows[row])
            assert isinstance(invalid, InvalidRecord)
            yield invalid


class TskIdx(LineFormat):
    name: ClassVar[str] = "tsk-idx"
    description: ClassVar[str] = "TSK .idx index (md5|offset lines)"
    line_style: ClassVar[LineStyle] = LineStyle.HASH_PIPE

    def sniff(self, sample: Sample) -> float:
        lines = [line for line in sample.data_lines[:2] if not _IDX_HEADER.match(line)]
        lines += sample.data_lines[2:]
        if not lines:
            return 0.0
        fits = sum(1 for line in lines if "|" in line and _MD5_LINE.match(line.split("|")[0]))
        return 0.9 * fits / len(lines)

    def bulk_widths(self) -> dict[int, str]:
        return {32: "md5"}

    def read(self, stream: BinaryIO) -> Iterator[ParsedEntry | InvalidRecord]:
        self._provenance = {}
        return super().read(stream)

    def blocks(self, stream: BinaryIO) -> Iterator[PackedBlock | InvalidRecord]:
        self._provenance = {}
        return super().blocks(stream)

    def parse_line(self, number: int, line: str) -> ParsedEntry | InvalidRecord | None:
        value, _, rest = line.strip().partition("|")
        value = value.split(maxsplit=1)[0] if value.strip() else ""
        if not value:
            return None
        if number <= 2 and _IDX_HEADER.match(value):
            # TSK's two header lines: 41 digits, 0 then the database's type, 1 then its
            # name ("00...0|nsrl", "00...1|NSRL RDS 2.50 modern").
            key = "tsk_idx_type" if value.endswith("0") else "tsk_idx_name"
            self._provenance[key] = rest.strip()
            return None
        if not get_algorithm("md5").is_valid(value):
            if number == 1 and not _MD5_LINE.match(value):
                return None  # another header line
            return InvalidRecord(number, f"not an MD5: {value!r:.60}")
        return ParsedEntry((get_algorithm("md5").value(value),))
