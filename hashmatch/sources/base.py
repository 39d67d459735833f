"""What every evidence source yields: items with a stable identity, and walk problems.

An ``Item`` is one file found in a source. Its identity is the chain from the evidence
to the file (source id → partition → path, plus a ``key`` unique inside the source that
survives a restart), its metadata (size, times in UTC, inode, deleted), and a
``locator`` the source uses to reopen its bytes, read-only, in any worker process.

A ``Source`` is opened from a picklable ``SourceSpec`` so that worker processes can open
the same evidence themselves; nothing unpicklable crosses processes.
"""

from __future__ import annotations

import abc
import enum
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import BinaryIO


class SourceKind(enum.Enum):
    DIRECTORY = "directory"
    FILE = "file"
    RAW = "raw"
    SPLIT_RAW = "split-raw"
    EWF = "ewf"


class ItemKind(enum.Enum):
    """What the walk found. Only regular files are read; the rest are recorded."""

    FILE = "file"
    SYMLINK = "symlink"
    SPECIAL = "special"


def display_path(raw: bytes) -> str:
    """A path for people and reports: UTF-8, invalid bytes as ``\\xNN`` escapes."""
    return raw.decode("utf-8", "backslashreplace")


def unique_key(raw: bytes) -> str:
    """An injective text form of raw path bytes (backslashes doubled, then escaped)."""
    return raw.replace(b"\\", b"\\\\").decode("utf-8", "backslashreplace")


@dataclass(frozen=True)
class Times:
    """MAC(B) times as ISO-8601 UTC strings; None where the file system keeps none."""

    modified: str | None = None
    accessed: str | None = None
    changed: str | None = None
    created: str | None = None


@dataclass(frozen=True)
class Partition:
    """Where a file system sits inside a disk image."""

    index: int
    offset: int
    description: str
    fs_type: str | None = None


@dataclass(frozen=True)
class Item:
    """One file found in a source."""

    source_id: str
    key: str
    path: str
    size: int
    locator: object
    kind: ItemKind = ItemKind.FILE
    deleted: bool = False
    times: Times = field(default_factory=Times)
    inode: int | None = None
    partition: Partition | None = None
    skip_reason: str | None = None

    @property
    def name(self) -> str:
        return self.path.rsplit("/", 1)[-1]


@dataclass(frozen=True)
class WalkError:
    """A part of the source that could not be walked (a directory, a partition)."""

    source_id: str
    path: str
    message: str


@dataclass(frozen=True)
class SourceInfo:
    id: str
    path: str
    kind: SourceKind
    size: int
    details: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class SourceSpec:
    """A picklable recipe for opening a source: enough for a worker process."""

    source_id: str
    path: str
    kind: SourceKind


class Source(abc.ABC):
    """An opened piece of evidence."""

    def __init__(self, spec: SourceSpec) -> None:
        self.spec = spec

    @abc.abstractmethod
    def info(self) -> SourceInfo:
        """Describe the source for the report (kind, size, acquisition details)."""

    @abc.abstractmethod
    def walk(self) -> Iterator[Item | WalkError]:
        """Every file in a stable, sorted order; problems are yielded, not raised."""

    @abc.abstractmethod
    def open(self, item: Item) -> BinaryIO:
        """The item's bytes, read-only. Raises ``OSError`` if they cannot be read."""

    def check(self) -> None:  # noqa: B027  (sources with nothing to open need not override)
        """Open what the source needs now, so that a damaged container is refused before
        the scan starts (raises a ``SourceError``/``ImageError`` saying why)."""

    def verify(self) -> tuple[tuple[str, str], ...]:
        """Re-hash the evidence container and compare with stored hashes (disk images).

        Returns lines for the report; the result also appears in later ``info()``.
        """
        return ()

    def count(self) -> int:
        """How many items ``walk`` will yield (for a progress bar with a known total)."""
        return sum(1 for entry in self.walk() if isinstance(entry, Item))

    def close(self) -> None:  # noqa: B027  (sources without resources need not override)
        """Release open handles."""

    def __enter__(self) -> Source:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
