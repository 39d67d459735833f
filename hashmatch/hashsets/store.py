"""The hash-set store: imported sets in one SQLite database, changed only atomically.

An import is one transaction: a malformed record (unless skipping was asked for), an
unreadable file or an interruption leaves the store exactly as it was. Files are
streamed, never loaded whole. Lookups go through each set's ``(algorithm, value)``
index; perceptual values are streamed out for the near-match index.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from itertools import islice
from pathlib import Path

import numpy as np

from hashmatch.dbutil import connect, migrate, transaction
from hashmatch.errors import (
    HashSetError,
    HashSetExistsError,
    HashSetFormatError,
    HashSetNotFoundError,
    StoreError,
    UsageError,
)
from hashmatch.hashsets.categories import DEFAULT_CATEGORY, Category
from hashmatch.hashsets.formats import HashSetFormat, detect_format, get_format, make_sample
from hashmatch.hashsets.formats.base import SAMPLE_BYTES
from hashmatch.hashsets.migrations import (
    MIGRATIONS,
    create_set_tables,
    drop_set_tables,
    index_set_table,
    set_table,
)
from hashmatch.hashsets.model import (
    EntryDetails,
    HashSetInfo,
    ImportResult,
    InvalidRecord,
    ParsedEntry,
)
from hashmatch.timeutil import utc_now

STORE_FILENAME = "hashsets.sqlite"
BATCH_ROWS = 20_000
#: SQLite's smallest default limit on bound parameters is 999.
LOOKUP_CHUNK = 900

ByteProgress = Callable[[int], None]
_Row = tuple[str, bytes, "int | None", int, "str | None", "str | None", "str | None"]


def file_sha256(path: Path) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as stream:
        while chunk := stream.read(1 << 20):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


class HashSetStore:
    """The store in ``directory`` (created on first use)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        try:
            directory.mkdir(parents=True, exist_ok=True)
            self._db = connect(str(directory / STORE_FILENAME))
            migrate(self._db, MIGRATIONS)
        except (OSError, sqlite3.Error) as exc:
            raise StoreError(f"cannot open the hash-set store in {directory}: {exc}") from exc

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> HashSetStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- reading the catalogue -------------------------------------------------------

    def list_sets(self) -> list[HashSetInfo]:
        rows = self._db.execute(f"SELECT {_COLUMNS} FROM hashset ORDER BY name").fetchall()
        return [_info(row) for row in rows]

    def get(self, name: str) -> HashSetInfo:
        row = self._db.execute(f"SELECT {_COLUMNS} FROM hashset WHERE name = ?", (name,)).fetchone()
        if row is None:
            raise HashSetNotFoundError(f"no hash set named {name!r} in the store")
        return _info(row)

    def resolve(self, names: Sequence[str]) -> list[HashSetInfo]:
        """The named sets (every set when ``names`` is empty), in name order."""
        if not names:
            return self.list_sets()
        return sorted((self.get(n) for n in dict.fromkeys(names)), key=lambda i: i.name)

    def find_by_sha256(self, sha256: str) -> HashSetInfo | None:
        row = self._db.execute(
            f"SELECT {_COLUMNS} FROM hashset WHERE sha256 = ?", (sha256,)
        ).fetchone()
        return _info(row) if row else None

    def breakdown(self, info: HashSetInfo) -> list[tuple[str, str | None, int]]:
        """(category, original label, number of entries) of one set."""
        rows = self._db.execute(
            f"SELECT coalesce(category, ?), label, count(DISTINCT entry) FROM {set_table(info.id)} "
            "GROUP BY 1, 2 ORDER BY 1, 2",
            (info.category.value,),
        ).fetchall()
        return [(str(c), label, int(n)) for c, label, n in rows]

    # -- importing -------------------------------------------------------------------

    def import_file(
        self,
        path: Path,
        *,
        name: str | None = None,
        format_name: str | None = None,
        category: Category | None = None,
        skip_invalid: bool = False,
        progress: ByteProgress | None = None,
        category_scheme: str | None = None,
    ) -> ImportResult:
        """Import one hash-set file as one set, all or nothing.

        ``category_scheme`` says how a format's own category numbers are read (VICS).
        """
        try:
            sha256, _ = file_sha256(path)
            with path.open("rb") as stream:
                head = stream.read(SAMPLE_BYTES)
        except OSError as exc:
            raise HashSetError(f"{path}: cannot read: {exc.strerror or exc}") from exc
        existing = self.find_by_sha256(sha256)
        if existing is not None:
            return ImportResult(existing, already_imported=True)
        set_name = name if name is not None else path.stem or path.name
        if not set_name.strip():
            raise HashSetError("a hash set needs a non-empty name")
        try:
            reader = self._reader(format_name, head)
        except HashSetFormatError as exc:
            raise HashSetFormatError(exc.reason, path=str(path), line=exc.line) from exc
        if category_scheme is not None and not reader.takes_category_scheme:
            raise UsageError(f"--category-scheme does not apply to {reader.name} files")
        reader.configure(category_scheme=category_scheme)
        chosen = category or reader.default_category or DEFAULT_CATEGORY
        with transaction(self._db):
            return self._load(path, set_name, reader, chosen, sha256, skip_invalid, progress,
                              own_categories=category is None)  # fmt: skip

    def _reader(self, format_name: str | None, head: bytes) -> HashSetFormat:
        if format_name is None or format_name.lower() == "auto":
            return detect_format(make_sample(head))
        return get_format(format_name)

    def _load(
        self,
        path: Path,
        name: str,
        reader: HashSetFormat,
        category: Category,
        sha256: str,
        skip_invalid: bool,
        progress: ByteProgress | None,
        *,
        own_categories: bool = True,
    ) -> ImportResult:
        if self._db.execute("SELECT 1 FROM hashset WHERE name = ?", (name,)).fetchone():
            raise HashSetExistsError(f"a hash set named {name!r} is already in the store")
        cursor = self._db.execute(
            "INSERT INTO hashset (name, format, category, source_name, sha256, entries, hashes, "
            "algorithms, imported_at) VALUES (?, ?, ?, ?, ?, 0, 0, '', ?)",
            (name, reader.name, category.value, path.name, sha256, utc_now()),
        )
        set_id = int(cursor.lastrowid or 0)
        create_set_tables(self._db, set_id)
        table = set_table(set_id)
        counts = _Counts()
        try:
            with path.open("rb") as stream:
                rows = _rows(reader.read(stream), counts, skip_invalid, str(path), own_categories)
                insert = f"INSERT INTO {table} VALUES (?, ?, ?, ?, ?, ?, ?)"
                records = f"INSERT INTO {table}_record (entry, data) VALUES (?, ?)"
                while batch := list(islice(rows, BATCH_ROWS)):
                    self._db.executemany(insert, (row for row, _ in batch))
                    kept = [(row[3], rec) for row, rec in batch if rec is not None]
                    if kept:
                        self._db.executemany(records, dict(kept).items())
                    if progress is not None:
                        progress(_position(stream))
        except OSError as exc:
            raise HashSetError(f"{path}: read failed: {exc.strerror or exc}") from exc
        except HashSetFormatError as exc:
            if exc.path is None:
                raise HashSetFormatError(exc.reason, path=str(path), line=exc.line) from exc
            raise
        if counts.entries == 0:
            raise HashSetFormatError("the file holds no valid hash values", path=str(path))
        index_set_table(self._db, set_id)
        provenance = reader.provenance()
        if counts.skipped:
            provenance["skipped_records"] = str(counts.skipped)
        self._db.execute(
            "UPDATE hashset SET entries = ?, hashes = ?, algorithms = ?, provenance = ? "
            "WHERE id = ?",
            (
                counts.entries,
                counts.hashes,
                ",".join(sorted(counts.algorithms)),
                json.dumps(provenance, sort_keys=True),
                set_id,
            ),
        )
        return ImportResult(self.get(name), skipped=counts.skipped)

    # -- removing --------------------------------------------------------------------

    def remove(self, name: str) -> HashSetInfo:
        info = self.get(name)
        with transaction(self._db):
            drop_set_tables(self._db, info.id)
            self._db.execute("DELETE FROM hashset WHERE id = ?", (info.id,))
        return info

    # -- lookups ---------------------------------------------------------------------

    def lookup(
        self, info: HashSetInfo, algorithm: str, values: Iterable[bytes]
    ) -> dict[bytes, list[EntryDetails]]:
        """Exact lookup of raw hash values in one set, through its index."""
        found: dict[bytes, list[EntryDetails]] = {}
        if algorithm not in info.algorithms:
            return found
        unique = list(dict.fromkeys(values))
        table = set_table(info.id)
        for start in range(0, len(unique), LOOKUP_CHUNK):
            chunk = unique[start : start + LOOKUP_CHUNK]
            marks = ",".join("?" * len(chunk))
            rows = self._db.execute(
                f"SELECT value, quality, category, label, reference FROM {table} "
                f"WHERE algorithm = ? AND value IN ({marks}) ORDER BY value, entry",
                (algorithm, *chunk),
            )
            for value, quality, category, label, reference in rows:
                found.setdefault(value, []).append(
                    _details(info, bytes(value), quality, category, label, reference)
                )
        return found

    def value_arrays(
        self, info: HashSetInfo, algorithm: str, min_quality: int = 0
    ) -> tuple[np.ndarray, bytes]:
        """(row ids, packed raw values) of one algorithm's values of at least ``min_quality``
        (values without a quality are kept), read in bulk for the near index."""
        if algorithm not in info.algorithms:
            return np.empty(0, dtype=np.int64), b""
        rows = self._db.execute(
            f"SELECT rowid, value FROM {set_table(info.id)} WHERE algorithm = ? "
            "AND (quality IS NULL OR quality >= ?)",
            (algorithm, min_quality),
        ).fetchall()
        ids = np.fromiter((r for r, _ in rows), dtype=np.int64, count=len(rows))
        return ids, b"".join(v for _, v in rows)

    def details(self, info: HashSetInfo, rowids: Iterable[int]) -> dict[int, EntryDetails]:
        """Entry details for row ids that ``value_arrays`` gave (near hits)."""
        wanted = list(dict.fromkeys(rowids))
        out: dict[int, EntryDetails] = {}
        table = set_table(info.id)
        for start in range(0, len(wanted), LOOKUP_CHUNK):
            chunk = wanted[start : start + LOOKUP_CHUNK]
            marks = ",".join("?" * len(chunk))
            for rowid, value, quality, category, label, reference in self._db.execute(
                f"SELECT rowid, value, quality, category, label, reference FROM {table} "
                f"WHERE rowid IN ({marks})",
                chunk,
            ):
                out[int(rowid)] = _details(info, bytes(value), quality, category, label, reference)
        return out

    def iter_entries(self, info: HashSetInfo) -> Iterator[StoredEntry]:
        """Every entry of a set, in import order, with all its values (streaming)."""
        rows = self._db.execute(
            f"SELECT entry, algorithm, value, quality, category, label, reference "
            f"FROM {set_table(info.id)} ORDER BY entry, rowid"
        )
        current: StoredEntry | None = None
        for entry, algorithm, value, quality, category, label, reference in rows:
            if current is None or current.entry != entry:
                if current is not None:
                    yield current
                mapped = Category(str(category)) if category else info.category
                current = StoredEntry(int(entry), {}, {}, mapped, label, reference)
            current.values[str(algorithm)] = bytes(value).hex()
            if quality is not None:
                current.quality[str(algorithm)] = int(quality)
        if current is not None:
            yield current

    def record(self, info: HashSetInfo, entry: int) -> str | None:
        row = self._db.execute(
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


class _Counts:
    def __init__(self) -> None:
        self.entries = 0
        self.hashes = 0
        self.skipped = 0
        self.algorithms: set[str] = set()


def _rows(
    records: Iterable[ParsedEntry | InvalidRecord],
    counts: _Counts,
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
            )
            yield row, record.record


def _position(stream: object) -> int:
    try:
        return int(os.lseek(stream.fileno(), 0, os.SEEK_CUR))  # type: ignore[attr-defined]
    except (OSError, AttributeError, ValueError):
        return 0


_COLUMNS = (
    "id, name, format, category, source_name, sha256, entries, hashes, imported_at, "
    "algorithms, provenance"
)


def _info(row: Sequence[object]) -> HashSetInfo:
    provenance: Mapping[str, object] = json.loads(str(row[10]) or "{}")
    return HashSetInfo(
        id=int(str(row[0])),
        name=str(row[1]),
        format=str(row[2]),
        category=Category(str(row[3])),
        source_name=str(row[4]),
        sha256=str(row[5]),
        entries=int(str(row[6])),
        hashes=int(str(row[7])),
        imported_at=str(row[8]),
        algorithms=tuple(a for a in str(row[9]).split(",") if a),
        provenance=tuple(sorted((str(k), str(v)) for k, v in provenance.items())),
    )


def _details(
    info: HashSetInfo,
    value: bytes,
    quality: object,
    category: object,
    label: object,
    reference: object,
) -> EntryDetails:
    return EntryDetails(
        hashset=info.name,
        category=Category(str(category)) if category else info.category,
        label=str(label) if label is not None else None,
        reference=str(reference) if reference is not None else None,
        value=value.hex(),
        quality=int(str(quality)) if quality is not None else None,
    )
