"""Evidence sources: turn what the user named into items, read-only, always.

``describe_source`` recognises a source by its content: a folder; an EWF image (by its
signature) or a split raw image (``.001``/``.aa`` segments); a raw image (a file in which
The Sleuth Kit finds a partition table or a file system); otherwise a single file that is
examined as one item. ``open_source`` opens a ``SourceSpec`` in any process.
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
from hashmatch.sources.image import ImageSource, has_disk_signature, probe_raw, sniff_container

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
        container = sniff_container(path)
        if container is not None:
            return SourceSpec(source_id, str(path), container)
        if probe_raw(path) or has_disk_signature(path):
            return SourceSpec(source_id, str(path), SourceKind.RAW)
        return SourceSpec(source_id, str(path), SourceKind.FILE)
    raise SourceError(f"{path}: not a folder, a regular file or a disk image")


def open_source(spec: SourceSpec) -> Source:
    if spec.kind in (SourceKind.DIRECTORY, SourceKind.FILE):
        return DirectorySource(spec)
    if spec.kind in (SourceKind.RAW, SourceKind.SPLIT_RAW, SourceKind.EWF):
        return ImageSource(spec)
    raise SourceError(f"{spec.path}: no reader for sources of kind {spec.kind.value}")
