"""Importing one hash-set file into the store: one transaction, all or nothing.

The file's format is detected from its head (or named); a packing format is read in
bulk into ``packed/<id>``, any other into SQLite rows; perceptual values get a near
index in ``near/<id>``. The file's SHA-256 is computed in a thread meanwhile
(``digest``): a file already imported stops the import as soon as it is known, and is
a no-op whatever the import made of it (an error included).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import sqlite3
import stat
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np

from hashmatch.dbutil import transaction
from hashmatch.errors import (
    HashmatchError,
    HashSetError,
    HashSetExistsError,
    HashSetFormatError,
    StoreError,
    UsageError,
)
from hashmatch.hashing import get_algorithm
from hashmatch.hashsets import near_indexes, packed, rows
from hashmatch.hashsets.categories import DEFAULT_CATEGORY, Category
from hashmatch.hashsets.digest import FileDigest, file_identity
from hashmatch.hashsets.formats import HashSetFormat, detect_format, get_format, make_sample
from hashmatch.hashsets.formats.base import SAMPLE_BYTES
from hashmatch.hashsets.migrations import create_set_tables, index_set_table
from hashmatch.hashsets.model import HashSetInfo, ImportResult, InvalidRecord, SetLayout
from hashmatch.hashsets.packed.load import load as load_packed
from hashmatch.timeutil import utc_now

PACKED_DIRNAME = "packed"
NEAR_DIRNAME = "near"

ByteProgress = Callable[[int], None]


def packed_dir(directory: Path, set_id: int) -> Path:
    return directory / PACKED_DIRNAME / str(int(set_id))


def near_dir(directory: Path, set_id: int) -> Path:
    return directory / NEAR_DIRNAME / str(int(set_id))


def packed_arrays(
    found: packed.PackedSet,
) -> Callable[[str, int], tuple[np.ndarray, bytes]]:
    """A packed set's values of at least a quality (those without one are kept), in
    memory."""

    def arrays(algorithm: str, min_quality: int) -> tuple[np.ndarray, bytes]:
        return found.value_arrays(algorithm, get_algorithm(algorithm).bits // 8, min_quality)

    return arrays


def packed_values(found: packed.PackedSet) -> near_indexes.ValueSource:
    """A packed set's values of at least a quality (those without one are kept) for a
    near index, read from its files in chunks; their keys are their positions."""

    def values(algorithm: str, min_quality: int) -> near_indexes.Values:
        width = get_algorithm(algorithm).bits // 8
        kept = found.kept_positions(algorithm, min_quality)
        if kept is None:
            return near_indexes.Values(found.value_count(algorithm, width),
                                       lambda: found.value_chunks(algorithm, width))  # fmt: skip
        return near_indexes.Values(len(kept), lambda: found.value_chunks(algorithm, width, kept),
                                   kept)  # fmt: skip

    return values


def row_values(db: sqlite3.Connection, set_id: int) -> near_indexes.ValueSource:
    """A row set's values for a near index (of at least the algorithm's quality)."""

    def values(algorithm: str, min_quality: int) -> near_indexes.Values:
        return near_indexes.Values.of(*rows.value_arrays(db, set_id, algorithm, min_quality))

    return values


@dataclass(frozen=True)
class Catalogue:
    """What an import needs of the store."""

    db: sqlite3.Connection
    directory: Path
    find_by_sha256: Callable[[str], HashSetInfo | None]
    get: Callable[[str], HashSetInfo]


@dataclass(frozen=True)
class ImportOptions:
    name: str | None = None  # (the file's name without its suffix)
    format_name: str | None = None  # (detected)
    category: Category | None = None  # (the format's, else the default)
    skip_invalid: bool = False
    category_scheme: str | None = None


class _AlreadyImported(Exception):
    """The file being imported is that of a set already in the store."""

    def __init__(self, info: HashSetInfo) -> None:
        super().__init__(info.name)
        self.info = info


def import_file(
    store: Catalogue, path: Path, options: ImportOptions, progress: ByteProgress | None
) -> ImportResult:
    try:
        mode = path.stat().st_mode
        if not stat.S_ISREG(mode):  # (opening a pipe would wait for a writer for ever)
            raise HashSetError(
                f"{path} is not a regular file (a pipe, a device or a socket): an import "
                "reads its file more than once; save it to a file and import that"
            )
        with path.open("rb") as stream:
            head = stream.read(SAMPLE_BYTES)
    except OSError as exc:
        raise HashSetError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    digest = FileDigest(path)  # computed while the file is imported
    try:
        return _import(store, path, head, digest, options, progress)
    except _AlreadyImported as found:
        return ImportResult(found.info, already_imported=True)
    except HashmatchError:
        # A file already imported is a no-op, whatever this import made of it.
        existing = _imported_before(store, path, digest)
        if existing is not None:
            return ImportResult(existing, already_imported=True)
        raise


def _imported_before(store: Catalogue, path: Path, digest: FileDigest) -> HashSetInfo | None:
    """The set already imported from the same file, if any (waits for the digest)."""
    try:
        return store.find_by_sha256(digest.sha256())
    except OSError as exc:
        raise HashSetError(f"{path}: cannot read: {exc.strerror or exc}") from exc


def _import(
    store: Catalogue,
    path: Path,
    head: bytes,
    digest: FileDigest,
    options: ImportOptions,
    progress: ByteProgress | None,
) -> ImportResult:
    set_name = options.name if options.name is not None else path.stem or path.name
    if not set_name.strip():
        raise HashSetError("a hash set needs a non-empty name")
    try:
        reader = _reader(options.format_name, head, path)
    except HashSetFormatError as exc:
        raise HashSetFormatError(exc.reason, path=str(path), line=exc.line) from exc
    if options.category_scheme is not None and not reader.takes_category_scheme:
        raise UsageError(f"--category-scheme does not apply to {reader.name} files")
    reader.configure(category_scheme=options.category_scheme)
    try:
        with transaction(store.db):
            return _Load(store, path, reader, digest, options, progress).run(set_name)
    except sqlite3.Error as exc:  # the store's (readers name their own files' errors)
        if "locked" in str(exc):
            raise StoreError(
                f"another import or removal is writing the hash-set store in "
                f"{store.directory}: try again when it has ended"
            ) from exc
        raise StoreError(f"writing the hash-set store failed: {exc}") from exc


def _reader(format_name: str | None, head: bytes, path: Path) -> HashSetFormat:
    if format_name is None or format_name.lower() == "auto":
        return detect_format(make_sample(head, path))
    return get_format(format_name)


class _Load:
    """One import's work inside its transaction."""

    def __init__(
        self,
        store: Catalogue,
        path: Path,
        reader: HashSetFormat,
        digest: FileDigest,
        options: ImportOptions,
        progress: ByteProgress | None,
    ) -> None:
        self.store = store
        self.path = path
        self.reader = reader
        self.digest = digest
        self.options = options
        self.progress = progress
        self.set_id = 0
        self._compared = False  # with the sets in the store, once the digest was known
        self._new_folders: list[str] = []
        self._furthest = 0

    def run(self, name: str) -> ImportResult:
        db, path, reader, options = self.store.db, self.path, self.reader, self.options
        if db.execute("SELECT 1 FROM hashset WHERE name = ?", (name,)).fetchone():
            raise HashSetExistsError(f"a hash set named {name!r} is already in the store")
        layout = SetLayout.PACKED if reader.packs() else SetLayout.ROWS
        category = options.category or reader.default_category or DEFAULT_CATEGORY
        # Before the new set takes its id: SQLite gives a removed set's id to the next
        # one, and the folders a killed import or removal left under that id (a near
        # index above all) would otherwise pass for the new set's. (Not yet catalogued,
        # the new id's own folders are strays too.)
        remove_strays(db, self.store.directory)
        cursor = db.execute(
            "INSERT INTO hashset (name, format, category, source_name, sha256, entries, hashes, "
            "algorithms, imported_at, layout) VALUES (?, ?, ?, ?, ?, 0, 0, '', ?, ?)",
            (name, reader.name, category.value, path.name, "", utc_now(), layout.value),
        )  # (the file's SHA-256 once it is known)
        self.set_id = int(cursor.lastrowid or 0)
        # (The folders of the sets' files this import makes, the store's first: removed
        # with its files if it fails. One there before, empty or not, stays.)
        parents = (PACKED_DIRNAME, NEAR_DIRNAME)
        self._new_folders = [p for p in parents if not (self.store.directory / p).exists()]
        try:
            counts = self._load(layout)
        except BaseException:
            self._remove_files()
            raise
        self._stop_if_imported()
        if file_identity(path) != self.digest.identity:  # (the digest may be of another)
            self._remove_files()
            raise HashSetError(
                f"{path} changed while it was imported (nothing was kept): import it again "
                "once nothing writes to it"
            )
        entries, hashes, algorithms, skipped = counts
        if entries == 0:
            self._remove_files()
            raise HashSetFormatError("the file holds no valid hash values", path=str(path))
        provenance = reader.provenance()
        if skipped:
            provenance["skipped_records"] = str(skipped)
        db.execute(
            "UPDATE hashset SET sha256 = ?, entries = ?, hashes = ?, algorithms = ?, "
            "provenance = ? WHERE id = ?",
            (self.digest.sha256(), entries, hashes, ",".join(sorted(algorithms)),
             json.dumps(provenance, sort_keys=True), self.set_id),
        )  # fmt: skip
        return ImportResult(self.store.get(name), skipped=skipped)

    def _load(self, layout: SetLayout) -> tuple[int, int, set[str], int]:
        """(entries, hashes, algorithms, skipped) of the file read into the set."""
        path = self.path
        try:
            with path.open("rb") as stream:
                load = self._packed if layout is SetLayout.PACKED else self._rows
                return load(stream)
        except OSError as exc:
            raise HashSetError(f"{path}: read failed: {exc.strerror or exc}") from exc
        except HashSetFormatError as exc:
            if exc.path is None:
                raise HashSetFormatError(exc.reason, path=str(path), line=exc.line) from exc
            raise

    def _packed(self, stream: BinaryIO) -> tuple[int, int, set[str], int]:
        """(entries, hashes, algorithms, skipped) of a packed import into ``packed/<id>``."""
        blocks: Iterable[packed.PackedBlock | InvalidRecord] = self.reader.blocks(stream)
        if self.options.category is not None:  # the user's category replaces the file's
            blocks = packed.without_categories(blocks)
        target = packed_dir(self.store.directory, self.set_id)
        target.parent.mkdir(exist_ok=True)
        counts = load_packed(target, blocks, skip_invalid=self.options.skip_invalid,
                             path=str(self.path),
                             after_block=lambda: self._advance(stream))  # fmt: skip
        algorithms = set(counts.values)
        if counts.entries:
            near_indexes.save_all(near_dir(self.store.directory, self.set_id), algorithms,
                                  packed_values(packed.PackedSet(target)))  # fmt: skip
        return counts.entries, sum(counts.values.values()), algorithms, counts.skipped

    def _rows(self, stream: BinaryIO) -> tuple[int, int, set[str], int]:
        """(entries, hashes, algorithms, skipped) of an import as SQLite rows."""
        db, set_id = self.store.db, self.set_id
        create_set_tables(db, set_id)
        counts = rows.Counts()
        rows.load(db, set_id, self.reader.read(stream), counts,
                  skip_invalid=self.options.skip_invalid, path=str(self.path),
                  own_categories=self.options.category is None,
                  after_batch=lambda: self._advance(stream))  # fmt: skip
        if counts.entries:
            index_set_table(db, set_id)
            near_indexes.save_all(near_dir(self.store.directory, set_id), counts.algorithms,
                                  row_values(db, set_id))  # fmt: skip
        return counts.entries, counts.hashes, counts.algorithms, counts.skipped

    def _advance(self, stream: BinaryIO) -> None:
        """After each block: stop if the file was imported before (as soon as the digest
        says so), and report how far the file is read."""
        if not self._compared and self.digest.done():
            self._compared = True
            self._stop_if_imported()
        if self.progress is not None:
            # Never backwards: a reader that starts the file again (the VICS bulk reader
            # handing over to the streaming one) passes over what was done with the bar
            # standing still.
            done = self.reader.bytes_read()
            self._furthest = max(self._furthest, _position(stream) if done is None else done)
            self.progress(self._furthest)

    def _stop_if_imported(self) -> None:
        """Raise ``_AlreadyImported`` (this import's files removed) if a set in the store
        was imported from the same file."""
        existing = _imported_before(self.store, self.path, self.digest)
        if existing is not None:
            self._remove_files()
            raise _AlreadyImported(existing)

    def _remove_files(self) -> None:
        """Remove this import's files (its catalogue row goes with the rollback), and the
        folders that hold them if this import made them."""
        directory = self.store.directory
        for made in (packed_dir(directory, self.set_id), near_dir(directory, self.set_id)):
            shutil.rmtree(made, ignore_errors=True)
        for folder in self._new_folders:
            with contextlib.suppress(OSError):  # (never made, or another set's since)
                (directory / folder).rmdir()


def remove_strays(db: sqlite3.Connection, directory: Path) -> None:
    """Remove packed and index directories no catalogued set owns (an import killed
    before its commit, a removal killed after). Called with the write lock held, so no
    other import is under way."""
    known = {str(r[0]) for r in db.execute("SELECT id FROM hashset")}
    for dirname in (PACKED_DIRNAME, NEAR_DIRNAME):
        parent = directory / dirname
        if not parent.is_dir():
            continue
        for child in parent.iterdir():
            if child.name not in known:
                shutil.rmtree(child, ignore_errors=True)


def _position(stream: object) -> int:
    try:
        return int(os.lseek(stream.fileno(), 0, os.SEEK_CUR))  # type: ignore[attr-defined]
    except (OSError, AttributeError, ValueError):
        return 0
