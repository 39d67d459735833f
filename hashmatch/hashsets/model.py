"""The records a hash-set file holds, and what the store knows about an imported set."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from hashmatch.hashing.algorithms import HashValue
from hashmatch.hashsets.categories import Category


@dataclass(frozen=True)
class ParsedEntry:
    """One record of a hash-set file: one or more hashes of the same known file.

    ``category`` and ``label`` override the set's own when the format carries them per
    record (``label`` is the original text, e.g. ``VICS 1``); ``reference`` names the
    known file (a file name, a media id); ``record`` keeps the original record as JSON
    for formats whose extra fields must stay available to the report; ``size`` is the
    known file's size in bytes where the format gives one (hashdeep, NSRL, HashKeeper, CSV).
    """

    hashes: tuple[HashValue, ...]
    reference: str | None = None
    label: str | None = None
    category: Category | None = None
    record: str | None = None
    size: int | None = None


@dataclass(frozen=True)
class InvalidRecord:
    """A record that could not be read: where it is and why."""

    line: int | None  # None for formats without lines (JSON, SQLite): the reason says where
    reason: str


class SetLayout(enum.Enum):
    """How a set's values are kept in the store."""

    ROWS = "rows"  # SQLite rows: any format, per-entry categories, records, qualities
    PACKED = "packed"  # sorted arrays on disk, at scale: hash lists, NSRL, VICS


@dataclass(frozen=True)
class HashSetInfo:
    """An imported hash set as the store describes it."""

    id: int
    name: str
    format: str
    category: Category
    source_name: str
    sha256: str
    entries: int
    hashes: int
    imported_at: str
    algorithms: tuple[str, ...]
    provenance: tuple[tuple[str, str], ...] = ()
    layout: SetLayout = SetLayout.ROWS


@dataclass(frozen=True)
class EntryDetails:
    """What a hit reports about the set entry it matched."""

    hashset: str
    category: Category
    label: str | None
    reference: str | None
    value: str
    quality: int | None
    #: The size of the file the entry describes, where its set records one.
    size: int | None = None
    #: The entry's number in its set, and the cryptographic algorithms it has values
    #: of (None: not recorded): what tells a hit on one of its hashes whether the
    #: entry gives another value of the file's other hashes.
    entry: int | None = None
    holds: frozenset[str] | None = None


@dataclass(frozen=True)
class ImportResult:
    info: HashSetInfo
    skipped: int = 0
    already_imported: bool = False
