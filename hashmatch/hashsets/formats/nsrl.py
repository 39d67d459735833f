"""NIST NSRL Reference Data Set v3 (SQLite); RDS 2.x text is ``nsrl_text``.

NSRL lists known *software*; its role is data reduction. Sets default to ``known-good``:
a file that only hits NSRL is counted, not listed, and a known-bad hit always wins.

RDSv3 is read straight from its SQLite file, opened read-only and immutable, in one
streaming pass (``DISTINCT_HASH`` when the database has it, as minimal sets do, else
``FILE``); columns are chosen by name because an early release has no ``crc32``. Its
rows become a packed set: each fetch of rows is checked and hex-decoded by numpy as a
whole (``blocks``), so a full RDS of 10^8 rows never becomes Python objects one by one;
``read`` is the row-by-row reference the bulk reader is tested against. Each ``FILE``
row's ``file_size`` is its entry's size. The ``VERSION`` row goes into the set's
provenance.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import BinaryIO, ClassVar

import numpy as np

from hashmatch.errors import HashSetFormatError
from hashmatch.hashing import get_algorithm
from hashmatch.hashsets.categories import Category
from hashmatch.hashsets.formats.base import (
    SQLITE_MAGIC,
    SQLITE_UNREADABLE,
    HashSetFormat,
    Sample,
    expected_rows,
    fetches,
    sqlite_readonly,
)
from hashmatch.hashsets.formats.columns import batch_blocks, hex_column
from hashmatch.hashsets.formats.file_sizes import size_of, sizes_of
from hashmatch.hashsets.model import InvalidRecord, ParsedEntry
from hashmatch.hashsets.packed.layout import PackedBlock

NSRL_LABEL = "NSRL"
FETCH_ROWS = 50_000


@dataclass(frozen=True)
class _Selected:
    """The columns a row holds, in order: the hash columns, then ``file_name`` if
    ``named``, then ``file_size`` if ``sized``."""

    wanted: list[str]
    named: bool
    sized: bool

    def name(self, row: Sequence[object]) -> object:
        return row[len(self.wanted)] if self.named else None

    def size(self, row: Sequence[object]) -> object:
        return row[len(self.wanted) + self.named] if self.sized else None


class NsrlV3(HashSetFormat):
    name: ClassVar[str] = "nsrl-rdsv3"
    description: ClassVar[str] = "NIST NSRL RDSv3 SQLite database (minimal or full)"
    default_category: ClassVar[Category | None] = Category.KNOWN_GOOD
    entry_label: ClassVar[str | None] = NSRL_LABEL
    gives_sizes: ClassVar[bool] = True

    def __init__(self) -> None:
        super().__init__()
        self._read_bytes: int | None = None

    def sniff(self, sample: Sample) -> float:
        head = sample.head
        if not head.startswith(SQLITE_MAGIC):
            return 0.0
        if sample.tables is not None:  # (its schema read: names in the data do not count)
            return 1.0 if "FILE" in sample.tables and sample.tables & {"PKG", "VERSION"} else 0.0
        has = [marker in head for marker in (b"FILE", b"PKG", b"VERSION")]
        return 1.0 if all(has) else 0.0

    def read(self, stream: BinaryIO) -> Iterator[ParsedEntry | InvalidRecord]:
        for first, selected, rows in self._fetches(stream):
            for number, row in enumerate(rows, first):
                yield _entry(number, selected, row)

    def packs(self) -> bool:
        return True

    def blocks(self, stream: BinaryIO) -> Iterator[PackedBlock | InvalidRecord]:
        for first, selected, rows in self._fetches(stream):
            yield from _blocks(first, selected, rows)

    def bytes_read(self) -> int | None:
        return self._read_bytes

    def _fetches(
        self, stream: BinaryIO
    ) -> Iterator[tuple[int, _Selected, list[tuple[object, ...]]]]:
        """(number of the first row, the columns selected, rows) per fetch."""
        try:
            with sqlite_readonly(stream) as db:
                cursor, selected = self._select(db)
                expected = expected_rows(db, "FILE")
                for first, rows, done in fetches(stream, cursor, expected, FETCH_ROWS):
                    yield first, selected, rows
                    self._read_bytes = done
        except SQLITE_UNREADABLE as exc:
            raise HashSetFormatError(f"not a readable NSRL RDSv3 database: {exc}") from exc

    def _select(self, db: sqlite3.Connection) -> tuple[sqlite3.Cursor, _Selected]:
        names = {str(r[0]) for r in db.execute("SELECT name FROM sqlite_master")}
        if "FILE" not in names:
            raise HashSetFormatError("no FILE table or view: not an NSRL RDSv3 database")
        self._provenance = {"nsrl": "RDSv3"}
        if "VERSION" in names:
            # Every row (a delta applied adds one): each column's values in row order,
            # so that the n-th of each belong together.
            version_columns = [c[1] for c in db.execute("PRAGMA table_info(VERSION)")]
            kept: dict[str, list[str]] = {}
            for row in db.execute("SELECT * FROM VERSION LIMIT 100"):
                for column, value in zip(version_columns, row, strict=False):
                    kept.setdefault(f"rds_{column}", []).append(str(value))
            self._provenance |= {key: "; ".join(values) for key, values in kept.items()}
        source = "DISTINCT_HASH" if "DISTINCT_HASH" in names else "FILE"
        columns = {str(c[1]).lower() for c in db.execute(f"PRAGMA table_info({source})")}
        wanted: list[str] = [c for c in ("sha256", "sha1", "md5") if c in columns]
        if not wanted:
            raise HashSetFormatError(f"{source} has no sha256, sha1 or md5 column")
        named = source == "FILE" and "file_name" in columns
        sized = source == "FILE" and "file_size" in columns
        select = ", ".join(wanted + (["file_name"] if named else []) + (["file_size"] * sized))
        self._provenance["read_from"] = f"{source}({select})"
        return db.execute(f"SELECT {select} FROM {source}"), _Selected(wanted, named, sized)


def _blocks(
    first: int, selected: _Selected, rows: list[tuple[object, ...]]
) -> Iterator[PackedBlock | InvalidRecord]:
    """One fetch of rows as packed blocks, invalid rows described by ``_entry`` as the
    row reader describes them. Rows without any value are no entry."""
    n = len(rows)
    wanted = selected.wanted
    columns = list(zip(*rows, strict=True)) if n else []
    decoded = [hex_column(columns[j], algorithm) for j, algorithm in enumerate(wanted)]
    invalid = np.zeros(n, bool)
    has_value = np.zeros(n, bool)
    for column in decoded:
        invalid |= column.invalid
        has_value |= column.present

    def describe(row: int) -> InvalidRecord:
        record = _entry(first + row, selected, rows[row])
        assert isinstance(record, InvalidRecord)
        return record

    names = columns[len(wanted)] if selected.named and n else None
    sizes = sizes_of(columns[-1]) if selected.sized and n else None
    described = np.flatnonzero(invalid).tolist()
    yield from batch_blocks(decoded, names, has_value & ~invalid, described, describe,
                            sizes=sizes)  # fmt: skip


def _entry(
    number: int, selected: _Selected, row: tuple[object, ...]
) -> ParsedEntry | InvalidRecord:
    values = []
    for algorithm, raw in zip(selected.wanted, row, strict=False):
        if raw is None or raw == "":
            continue
        text = str(raw)
        if not get_algorithm(algorithm).is_valid(text):
            return InvalidRecord(None, f"row {number}: {algorithm} is not valid: {text!r:.80}")
        values.append(get_algorithm(algorithm).value(text))
    name = selected.name(row)
    reference = str(name) if name is not None else None
    return ParsedEntry(tuple(values), reference=reference, label=NSRL_LABEL,
                       size=size_of(selected.size(row)))  # fmt: skip
