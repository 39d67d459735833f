"""Sets kept as SQLite rows: one row per hash value in the set's own table.

This layout takes every format: per-entry categories and labels, original records, PDQ
qualities and the perceptual values the near index loads. Functions here work inside
the store's connection and transactions; the store decides which layout a set uses.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from itertools import islice

import numpy as np

from hashmatch.errors import HashSetFormatError
from hashmatch.hashsets.categories import Category
from hashmatch.hashsets.migrations import set_table
from hashmatch.hashsets.model import EntryDetails, HashSetInfo, InvalidRecord, ParsedEntry

BATCH_ROWS = 20_000
#: SQLite's smallest default limit on bound parameters is 999.
LOOKUP_CHUNK = 900

_Row = tuple[str, bytes, "int | None", int, "str | None", "str | None", "str | None", "int | None"]


def load(
    db: sqlite3.Connection,
    info_id: int,
    records: Iterable[ParsedEntry | InvalidRecord],
    counts: Counts,
    *,
    skip_invalid: bool,
    path: str,
    own_categories: bool,
    after_batch: Callable[[], None],
) -> None:
    """Insert a file's records into set ``info_id``'s (new, unindexed) tables."""
    table = set_table(info_id)
    rows = _rows(records, counts, skip_invalid, path, own_categories)
    insert = f"INSERT INTO {table} VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
    insert_records = f"INSERT INTO {table}_record (entry, data) VALUES (?, ?)"
    while batch := list(islice(rows, BATCH_ROWS)):
        db.executemany(insert, (row for row, _ in batch))
        kept = [(row[3], rec) for row, rec in batch if rec is not None]
        if kept:
            db.executemany(insert_records, dict(kept).items())
        after_batch()


def breakdown(db: sqlite3.Connection, info: HashSetInfo) -> list[tuple[str, str | None, int]]:
    rows = db.execute(
        f"SELECT coalesce(category, ?), label, count(DISTINCT entry) FROM {set_table(info.id)} "
        "GROUP BY 1, 2 ORDER BY 1, 2",
        (info.category.value,),
    ).fetchall()
    return [(str(c), label, int(n)) for c, label, n in rows]


def lookup(
    db: sqlite3.Connection, info: HashSetInfo, algorithm: str, values: Iterable[bytes]
) -> dict[bytes, list[EntryDetails]]:
    """Exact lookup of raw hash values in one set, through its index."""
    found: dict[bytes, list[EntryDetails]] = {}
    if algorithm not in info.algorithms:
        return found
    unique = list(dict.fromkeys(values))
    table = set_table(info.id)
    size = _size_column(db, info)
    for start in range(0, len(unique), LOOKUP_CHUNK):
        chunk = unique[start : start + LOOKUP_CHUNK]
        marks = ",".join("?" * len(chunk))
        rows = db.execute(
            f"SELECT value, quality, category, label, reference, {size} FROM {table} "
            f"WHERE algorithm = ? AND value IN ({marks}) ORDER BY value, entry",
            (algorithm, *chunk),
        )
        for value, *rest in rows:
            found.setdefault(value, []).append(_details(info, bytes(value), *rest))
    return found


def value_arrays(
    db: sqlite3.Connection, set_id: int, algorithm: str, min_quality: int = 0
) -> tuple[np.ndarray, bytes]:
    """(row ids, packed raw values) of one algorithm's values of at least ``min_quality``
    (values without a quality are kept), read in bulk for the near index."""
    rows = db.execute(
        f"SELECT rowid, value FROM {set_table(set_id)} WHERE algorithm = ? "
        "AND (quality IS NULL OR quality >= ?)",
        (algorithm, min_quality),
    ).fetchall()
    ids = np.fromiter((r for r, _ in rows), dtype=np.int64, count=len(rows))
    return ids, b"".join(v for _, v in rows)


def details(
    db: sqlite3.Connection, info: HashSetInfo, rowids: Iterable[int]
) -> dict[int, EntryDetails]:
    """Entry details for row ids that ``value_arrays`` gave (near hits)."""
    wanted = list(dict.fromkeys(rowids))
    out: dict[int, EntryDetails] = {}
    table = set_table(info.id)
    size = _size_column(db, info)
    for start in range(0, len(wanted), LOOKUP_CHUNK):
        chunk = wanted[start : start + LOOKUP_CHUNK]
        marks = ",".join("?" * len(chunk))
        for rowid, value, *rest in db.execute(
            f"SELECT rowid, value, quality, category, label, reference, {size} FROM {table} "
            f"WHERE rowid IN ({marks})",
            chunk,
        ):
            out[int(rowid)] = _details(info, bytes(value), *rest)
    return out


def _size_column(db: sqlite3.Connection, info: HashSetInfo) -> str:
    """The set table's size column, or NULL for a table made before sizes were kept."""
    columns = {str(row[1]) for row in db.execute(f"PRAGMA table_info({set_table(info.id)})")}
    return "size" if "size" in columns else "NULL"


def iter_entries(db: sqlite3.Connection, info: HashSetInfo) -> Iterator[StoredEntry]:
    """Every entry of a set, in import order, with all its values (streaming)."""
    rows = db.execute(
        f"SELECT entry, algorithm, value, quality, category, label, reference, "
        f"{_size_column(db, info)} FROM {set_table(info.id)} ORDER BY entry, rowid"
    )
    current: StoredEntry | None = None
    for entry, algorithm, value, quality, category, label, reference, size in rows:
        if current is None or current.entry != entry:
            if current is not None:
                yield current
            mapped = Category(str(category)) if category else info.category
            current = StoredEntry(int(entry), {}, {}, mapped, label, reference,
                                  size=int(size) if size is not None else None)  # fmt: skip
        if str(algorithm) in current.values:  # (the first is the entry's own)
            current.more.append((str(algorithm), bytes(value).hex()))
        else:
            current.values[str(algorithm)] = bytes(value).hex()
        if quality is not None:
            current.quality[str(algorithm)] = int(quality)
    if current is not None:
        yield current


def sized_entries(db: sqlite3.Connection, info: HashSetInfo) -> int:
    column = _size_column(db, info)
    found = db.execute(
        f"SELECT count(DISTINCT entry) FROM {set_table(info.id)} WHERE {column} IS NOT NULL"
    )
    return int(found.fetchone()[0])


def record(db: sqlite3.Connection, info: HashSetInfo, entry: int) -> str | None:
    row = db.execute(
        f"SELECT data FROM {set_table(info.id)}_record WHERE entry = ?", (entry,)
    ).fetchone()
    return str(row[0]) if row else None


@dataclass
class StoredEntry:
    """One entry of an imported set, as ``iter_entries`` gives it back."""

    entry: int
    values: dict[str, str]  # algorithm → lowercase hex
    quality: dict[str, int]
    category: Category
    label: str | None
    reference: str | None
    #: Further values of an algorithm the entry has more than one of (a VICS medium's
    #: alternative MD5 that is not its own).
    more: list[tuple[str, str]] = field(default_factory=list)
    #: The known file's size in bytes, where its format gave one.
    size: int | None = None


class Counts:
    def __init__(self) -> None:
        self.entries = 0
        self.hashes = 0
        self.skipped = 0
        self.algorithms: set[str] = set()


def _rows(
    records: Iterable[ParsedEntry | InvalidRecord],
    counts: Counts,
    skip_invalid: bool,
    path: str,
    own_categories: bool = True,
) -> Iterator[tuple[_Row, str | None]]:
    """Rows to insert; ``own_categories`` False: the user's --category replaces the file's."""
    for record in records:
        if isinstance(record, InvalidRecord):
            if not skip_invalid:
                raise HashSetFormatError(record.reason, path=path, line=record.line)
            counts.skipped += 1
            continue
        if not record.hashes:
            continue
        counts.entries += 1
        entry = counts.entries
        category = record.category.value if record.category and own_categories else None
        for value in record.hashes:
            counts.hashes += 1
            counts.algorithms.add(value.algorithm)
            row: _Row = (
                value.algorithm,
                value.to_bytes(),
                value.quality,
                entry,
                category,
                record.label,
                record.reference,
                record.size,
            )
            yield row, record.record


def _details(
    info: HashSetInfo,
    value: bytes,
    quality: object,
    category: object,
    label: object,
    reference: object,
    size: object,
) -> EntryDetails:
    return EntryDetails(
        hashset=info.name,
        category=Category(str(category)) if category else info.category,
        label=str(label) if label is not None else None,
        reference=str(reference) if reference is not None else None,
        value=value.hex(),
        quality=int(str(quality)) if quality is not None else None,
        size=int(str(size)) if size is not None else None,
    )
