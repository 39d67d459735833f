"""The report as typed data: what every output format (JSON, CSV, HTML) renders.

It is read from the case database (``hashmatch.casedb.reader``) so that every output,
whenever it is rendered, tells the same story.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from hashmatch.hashing import HashValue, ImageInfo
from hashmatch.matching import Hit
from hashmatch.sources import Partition, Times


@dataclass(frozen=True)
class ToolInfo:
    name: str
    version: str
    libraries: tuple[tuple[str, str], ...]
    python: str
    platform: str


@dataclass(frozen=True)
class CaseFacts:
    id: str
    examiner: str | None
    started: str
    finished: str | None
    command: tuple[str, ...]
    host: str
    user: str
    algorithms: tuple[str, ...]
    thresholds: tuple[tuple[str, int], ...]
    thumbnails: str
    resumed: tuple[str, ...] = ()  # UTC times at which an interrupted scan was resumed


@dataclass(frozen=True)
class SourceRecord:
    id: str
    path: str
    kind: str
    size: int
    details: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class HashSetRecord:
    name: str
    format: str
    category: str
    source_name: str
    entries: int
    sha256: str
    imported_at: str
    provenance: tuple[tuple[str, str], ...] = ()
    #: Whether exact hits on the set were checked against the entry's other hashes
    #: (None: one hash an entry, nothing to check; False in a case made before 0.2.0).
    hash_checks: bool | None = False


@dataclass(frozen=True)
class Summary:
    files: int
    hashed: int
    errors: int
    matched_files: int
    known_good: int
    skipped: int
    unreadable: int
    images: int
    no_perceptual_verdict: int
    matched_by_category: tuple[tuple[str, int], ...] = ()
    files_by_source: tuple[tuple[str, int], ...] = ()
    #: Files with an exact hit whose entry disagrees with the file (``MismatchRecord``).
    mismatched_files: int = 0


@dataclass(frozen=True)
class FileRecord:
    """One file with at least one hit against a set that is not known-good."""

    source: str
    path: str
    size: int
    deleted: bool
    inode: int | None
    partition: Partition | None
    times: Times
    hashes: tuple[HashValue, ...]
    hits: tuple[Hit, ...]
    image: ImageInfo | None = None
    notes: tuple[str, ...] = ()
    thumbnail: bytes | None = field(default=None, repr=False)


@dataclass(frozen=True)
class ErrorRecord:
    source: str
    path: str
    stage: str
    message: str


@dataclass(frozen=True)
class SkippedRecord:
    source: str
    path: str
    reason: str


@dataclass(frozen=True)
class NoVerdictRecord:
    """A file whose perceptual hashes could not give a verdict (too little detail)."""

    source: str
    path: str
    reason: str


@dataclass(frozen=True)
class MismatchRecord:
    """An exact hit whose set entry disagrees with the file: it records another file
    size, or another value of one of the file's other hashes. The same hash for another
    file: a collision of the hit's algorithm, or a wrong entry in the set. Listed
    whatever the set's category (a known-good hit of this kind is not in ``matches``)."""

    source: str
    path: str
    size: int
    deleted: bool
    inode: int | None
    partition: Partition | None
    hashset: str
    category: str
    algorithm: str
    reference: str | None
    known_size: int | None
    size_mismatch: bool
    hash_mismatch: tuple[str, ...]


@dataclass(frozen=True)
class CaseReport:
    tool: ToolInfo
    case: CaseFacts
    sources: tuple[SourceRecord, ...]
    hashsets: tuple[HashSetRecord, ...]
    summary: Summary
    matches: tuple[FileRecord, ...]
    errors: tuple[ErrorRecord, ...]
    skipped: tuple[SkippedRecord, ...]
    no_perceptual_verdict: tuple[NoVerdictRecord, ...]
    mismatches: tuple[MismatchRecord, ...] = ()
