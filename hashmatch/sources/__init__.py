"""Evidence sources: turn what the user named into items, read-only, always.

``describe_source`` recognises a source by its content (a folder, or a file that is
examined as a single item); ``open_source`` opens a ``SourceSpec`` in any process.
"""

from __future__ import annotations

from pathlib import Path

from hashmatch.errors import SourceError
from hashmatch.sources.base import (
    Item,
    ItemKind,
    Partition,
    Source,
    SourceInfo,
    SourceKind,
    SourceSpec,
    Times,
    WalkError,
)
from hashmatch.sources.directory import DirectorySource, is_directory, open_readonly

__all__ = [
    "Item",
    "ItemKind",
    "Partition",
    "Source",
    "SourceInfo",
    "SourceKind",
    "SourceSpec",
    "Times",
    "WalkError",
    "describe_source",
    "open_readonly",
    "open_source",
]


def describe_source(path: Path, source_id: str) -> SourceSpec:
    """Recognise what ``path`` is by looking at it, and return how to open it."""
    if not path.exists() and not path.is_symlink():
        raise SourceError(f"{path}: no such file or folder")
    if is_directory(path):
        return SourceSpec(source_id, str(path), SourceKind.DIRECTORY)
    if path.is_file():
        return SourceSpec(source_id, str(path), SourceKind.FILE)
    raise SourceError(f"{path}: not a folder, a regular file or a disk image")


def open_source(spec: SourceSpec) -> Source:
    if spec.kind in (SourceKind.DIRECTORY, SourceKind.FILE):
        return DirectorySource(spec)
    raise SourceError(f"{spec.path}: no reader for sources of kind {spec.kind.value}")
