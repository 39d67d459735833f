"""The hash-set store: imported sets catalogued in one SQLite database, changed only
atomically.

An import is one transaction: a malformed record (unless skipping was asked for), an
unreadable file or an interruption leaves the store exactly as it was. Files are
streamed, never loaded whole. Plain lists of cryptographic hashes (md5sum output, bare
lists), NSRL (RDSv3 and 2.x) and VICS files are read in bulk into a packed set (sorted
arrays in ``packed/<id>``, see ``hashsets.packed``); every other format becomes SQLite
rows (``hashsets.rows``), looked up through an ``(algorithm, value)`` index. Perceptual
values of either layout feed a near-match index saved with the set. A set's files are
complete on disk before the catalogue names it. How a file is imported: ``importing``.
"""

from __future__ import annotations

import functools
import json
import os
import shutil
import sqlite3
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path

import numpy as np

from hashmatch.dbutil import connect, connect_read_only, migrate, pending, transaction
from hashmatch.errors import (
    HashSetNotFoundError,
    StoreError,
)
from hashmatch.hashing import AlgorithmKind, get_algorithm
from hashmatch.hashsets import near_indexes, packed, rows
from hashmatch.hashsets.categories import Category
from hashmatch.hashsets.formats import known_format
from hashmatch.hashsets.importing import (
    ByteProgress,
    Catalogue,
    ImportOptions,
    import_file,
    near_dir,
    packed_arrays,
    packed_dir,
    packed_values,
    row_values,
)
from hashmatch.hashsets.migrations import (
    MIGRATIONS,
    drop_set_tables,
)
from hashmatch.hashsets.model import (
    EntryDetails,
    HashSetInfo,
    ImportResult,
    SetLayout,
)
from hashmatch.hashsets.packed.layout import HOLD_ALGORITHMS
from hashmatch.hashsets.rows import StoredEntry
from hashmatch.hashsets.store_lock import StoreLock
from hashmatch.matching.near import NearIndex

STORE_FILENAME = "hashsets.sqlite"

__all__ = ["STORE_FILENAME", "HashSetStore", "StoredEntry"]


class HashSetStore:
    """The store in ``directory`` (created on first use).

    A store on media that cannot be written (a write-protected drive, a read-only
    share) is opened read-only: its sets can be listed, shown, exported and scanned
    against; importing or removing one is refused (``read_only``).
    """

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._packed: dict[int, packed.PackedSet] = {}
        self.read_only = False
        db = None
        try:
            directory.mkdir(parents=True, exist_ok=True)
            db = connect(str(directory / STORE_FILENAME))
            migrate(db, MIGRATIONS)
        except (OSError, sqlite3.Error) as exc:
            if db is not None:
                db.close()
            if not _unwritable(directory):
                raise StoreError(f"cannot open the hash-set store in {directory}: {exc}") from exc
            db = _opened_read_only(directory, exc)
            self.read_only = True
        self._db = db
        self._lock = StoreLock(directory)

    def close(self) -> None:
        self._lock.close()
        self._db.close()

    def __enter__(self) -> HashSetStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _writable(self, doing: str) -> None:
        if self.read_only:
            raise StoreError(
                f"the hash-set store in {self.directory} is on media that cannot be "
                f"written: cannot {doing}"
            )

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
        if info.layout is SetLayout.PACKED:
            counted: dict[tuple[str, str | None], int] = {}
            for own, count in self._packed_set(info).label_counts(info.entries):
                category, label = _label_of(info, own)
                key = (category.value, label)
                counted[key] = counted.get(key, 0) + count
            return sorted(
                ((c, label, n) for (c, label), n in counted.items()),
                key=lambda row: (row[0], row[1] or ""),
            )
        return rows.breakdown(self._db, info)

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
        """Import one hash-set file as one set, all or nothing; a file already imported
        (the same SHA-256) is a no-op.

        ``category_scheme`` says how a format's own category numbers are read (VICS).
        """
        self._writable("import a hash set")
        catalogue = Catalogue(self._db, self.directory, self.find_by_sha256, self.get)
        options = ImportOptions(name, format_name, category, skip_invalid, category_scheme)
        return import_file(catalogue, path, options, progress)

    # -- removing --------------------------------------------------------------------

    def remove(self, name: str) -> HashSetInfo:
        self._writable("remove a hash set")
        info = self.get(name)
        try:
            with self._lock.alone(f"remove {name!r}"), transaction(self._db):
                drop_set_tables(self._db, info.id)
                self._db.execute("DELETE FROM hashset WHERE id = ?", (info.id,))
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc):
                raise StoreError(f"removing {name!r} failed: {exc}") from exc
            raise StoreError(
                f"another import or removal is writing the hash-set store in "
                f"{self.directory}: try again when it has ended"
            ) from exc
        self._packed.pop(info.id, None)
        shutil.rmtree(packed_dir(self.directory, info.id), ignore_errors=True)
        shutil.rmtree(near_dir(self.directory, info.id), ignore_errors=True)
        return info

    # -- lookups ---------------------------------------------------------------------

    def _packed_set(self, info: HashSetInfo) -> packed.PackedSet:
        found = self._packed.get(info.id)
        if found is None:
            found = packed.PackedSet(packed_dir(self.directory, info.id))
            widths = {name: get_algorithm(name).bits // 8 for name in info.algorithms}
            problem = found.damage(widths, info.entries, info.hashes)
            if problem is not None:
                raise StoreError(
                    f"the hash-set store in {self.directory} is damaged: set {info.name!r}: "
                    f"{problem}; remove the set and import it again"
                )
            self._packed[info.id] = found
        return found

    def lookup(
        self, info: HashSetInfo, algorithm: str, values: Iterable[bytes]
    ) -> dict[bytes, list[EntryDetails]]:
        """Exact lookup of raw hash values in one set, in entry order."""
        if algorithm not in info.algorithms:
            return {}
        if info.layout is SetLayout.ROWS:
            return rows.lookup(self._db, info, algorithm, values)
        width = get_algorithm(algorithm).bits // 8
        found = self._packed_set(info)
        hits = found.lookup(algorithm, width, values)
        return {
            raw: [self._packed_details(info, found, h.entry, h.reference, h.label, raw)
                  for h in entries]
            for raw, entries in hits.items()
        }  # fmt: skip

    def _packed_details(
        self,
        info: HashSetInfo,
        found: packed.PackedSet,
        entry: int,
        reference: str | None,
        own: packed.PackedLabel | None,
        raw: bytes,
    ) -> EntryDetails:
        # An entry with two values of one algorithm describes more than one file: no
        # size is its own (``holds`` says the same of its hashes).
        several = found.several(entry)
        size = None if several else found.size(entry)
        if reference is None or (size is None and not several):
            # A set that keeps records (VICS) names its entries from them, and reads the
            # file's size there.
            record = found.record(entry)
            if record is not None:
                if reference is None:
                    reference = _format_reference(info.format, record)
                if size is None and not several:
                    size = _format_size(info.format, record)
        quality = found.quality(entry)
        return EntryDetails(info.name, *_label_of(info, own), reference, raw.hex(), quality,
                            size, entry, found.holds(entry))  # fmt: skip

    def value_arrays(
        self, info: HashSetInfo, algorithm: str, min_quality: int = 0
    ) -> tuple[np.ndarray, bytes]:
        """(keys, packed raw values) of one algorithm's values of at least ``min_quality``
        (values without a quality are kept), read in bulk for the near index; a key is
        what ``details`` takes back (a row id, or a position among a packed set's values)."""
        if algorithm not in info.algorithms:
            return np.empty(0, dtype=np.int64), b""
        if info.layout is SetLayout.PACKED:
            return packed_arrays(self._packed_set(info))(algorithm, min_quality)
        return rows.value_arrays(self._db, info.id, algorithm, min_quality)

    def near_index(self, info: HashSetInfo, algorithm: str) -> NearIndex | None:
        """The near index of a set (saved at import, memory-mapped; or built and saved
        now for a set that has none), or None for a small set."""
        if algorithm not in info.algorithms:
            return None
        if info.layout is SetLayout.PACKED:
            source = packed_values(self._packed_set(info))
        else:
            source = row_values(self._db, info.id)
        return near_indexes.load_or_build(near_dir(self.directory, info.id), algorithm, source)

    def details(
        self, info: HashSetInfo, keys: Iterable[int], algorithm: str
    ) -> dict[int, EntryDetails]:
        """Entry details for keys of ``algorithm`` that ``value_arrays`` gave (near hits)."""
        if info.layout is SetLayout.ROWS:
            return rows.details(self._db, info, keys)
        found = self._packed_set(info)
        width = get_algorithm(algorithm).bits // 8
        details = {}
        for key in keys:
            entry, raw = found.at(algorithm, width, key)
            details[key] = self._packed_details(info, found, entry, found.reference(entry),
                                                found.label(entry), raw)  # fmt: skip
        return details

    def sized_entries(self, info: HashSetInfo) -> int | None:
        """How many of the set's entries have a file size; None for a VICS set (each
        medium's MediaSize is in its record, read when exported)."""
        if info.format == "vics":
            return None
        if info.layout is SetLayout.PACKED:
            return self._packed_set(info).sized_entries()
        return rows.sized_entries(self._db, info)

    def checks_hashes(self, info: HashSetInfo) -> bool | None:
        """Whether an exact hit on the set is checked against its entry's other hashes
        (the set records which each entry has: packed sets imported since 0.2.0); None
        for a set of one cryptographic algorithm, where there is nothing to check."""
        if sum(name in HOLD_ALGORITHMS for name in info.algorithms) < 2:
            return None
        if info.layout is SetLayout.ROWS:
            return False
        return self._packed_set(info).records_holds()

    def iter_entries(self, info: HashSetInfo, *, references: bool = True) -> Iterator[StoredEntry]:
        """Every entry of a set, in import order, with all its values (streaming);
        without ``references``, no reference is read from a record (None instead: a
        caller that reads the records itself)."""
        if info.layout is SetLayout.ROWS:
            yield from rows.iter_entries(self._db, info)
            return
        widths = {name: get_algorithm(name).bits // 8 for name in info.algorithms}
        found = self._packed_set(info)
        for entry, values, more, reference, own in found.iter_entries(widths, info.entries):
            hexed = {name: value.hex() for name, value in values.items()}
            if references and reference is None and (record := found.record(entry)) is not None:
                reference = _format_reference(info.format, record)
            category, label = _label_of(info, own)
            further = [(name, value.hex()) for name, value in more]
            quality = found.quality(entry)
            # (An entry's quality is its perceptual value's: one an entry.)
            qualities = {name: quality for name in hexed if quality is not None
                         and get_algorithm(name).kind is AlgorithmKind.PERCEPTUAL}  # fmt: skip
            yield StoredEntry(entry, hexed, qualities, category, label, reference, further,
                              found.size(entry))  # fmt: skip

    def record(self, info: HashSetInfo, entry: int) -> str | None:
        """The entry's original record (JSON), for formats that keep one (VICS), as its
        format gives it out (VICS: without OData annotations)."""
        if info.layout is SetLayout.PACKED:
            record = self._packed_set(info).record(entry)
        else:
            record = rows.record(self._db, info, entry)
        return None if record is None else _shown_record(info.format, record)


def _unwritable(directory: Path) -> bool:
    """Whether the store in ``directory`` exists on media this process cannot write."""
    store = directory / STORE_FILENAME
    return store.is_file() and not (os.access(directory, os.W_OK) and os.access(store, os.W_OK))


def _opened_read_only(directory: Path, why: BaseException) -> sqlite3.Connection:
    """The store's database opened read-only, if it can be read as it is."""
    where = f"the hash-set store in {directory} cannot be written ({why})"
    log = directory / f"{STORE_FILENAME}-wal"
    if log.is_file() and log.stat().st_size > 0:
        raise StoreError(
            f"{where}, and its last changes are still in {log.name}: open it once where it "
            "can be written (hashmatch hashset list), then use it read-only"
        )
    try:
        db = connect_read_only(directory / STORE_FILENAME)
        missing = pending(db, MIGRATIONS)
    except sqlite3.Error as exc:
        raise StoreError(f"{where}, and cannot be read: {exc}") from exc
    if missing:
        db.close()
        raise StoreError(
            f"{where}, and was made by an older hashmatch: open it once where it can be "
            "written to bring it up to date"
        )
    return db


def _label_of(info: HashSetInfo, own: packed.PackedLabel | None) -> tuple[Category, str | None]:
    """(category, label) of a packed entry: its own, or its set's and its format's."""
    if own is None:
        return info.category, _format_label(info.format)
    return own.category or info.category, own.label or None


@functools.cache
def _format_label(format_name: str) -> str | None:
    """The label of a packed set's entries: its format's (e.g. ``NSRL``), if any. Cached:
    it is asked for every hit, and NSRL sets give many."""
    found = known_format(format_name)
    return found.entry_label if found is not None else None


def _shown_record(format_name: str, record: str) -> str:
    found = known_format(format_name)
    return found.shown_record(record) if found is not None else record


def _format_size(format_name: str, record: str) -> int | None:
    """The file size an entry's record gives (VICS: its MediaSize)."""
    found = known_format(format_name)
    return found.size_of_record(record) if found is not None else None


def _format_reference(format_name: str, record: str) -> str | None:
    """What names an entry, taken from its record by its format (VICS: media id, file
    name, series)."""
    found = known_format(format_name)
    return found.reference_of_record(record) if found is not None else None


_COLUMNS = (
    "id, name, format, category, source_name, sha256, entries, hashes, imported_at, "
    "algorithms, provenance, layout"
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
        layout=SetLayout(str(row[11])),
    )
