"""Folders and single files as evidence: a sorted walk that never follows links.

The walk works on raw bytes paths, so file names that are not valid UTF-8 are found and
reported with backslash escapes instead of being lost. Symbolic links, FIFOs, sockets
and devices are recorded as items with a reason and never opened (opening a FIFO would
hang the scan; following a link could leave the evidence). Files are opened read-only,
without following links, and without updating the access time where the OS allows it.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from hashmatch.sources.base import (
    Item,
    ItemKind,
    Source,
    SourceInfo,
    SourceKind,
    SourceSpec,
    Times,
    WalkError,
    display_path,
    unique_key,
)
from hashmatch.timeutil import utc_iso

_READ_FLAGS = (
    os.O_RDONLY
    | getattr(os, "O_NOFOLLOW", 0)
    | getattr(os, "O_NONBLOCK", 0)
    | getattr(os, "O_BINARY", 0)
)
_NOATIME = getattr(os, "O_NOATIME", 0)


def open_readonly(path: bytes | str) -> BinaryIO:
    """Open a regular file for reading only; never follows a symlink, never blocks on a FIFO."""
    try:
        fd = os.open(path, _READ_FLAGS | _NOATIME)
    except PermissionError:
        if not _NOATIME:
            raise
        fd = os.open(path, _READ_FLAGS)  # O_NOATIME needs ownership; fall back without it
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise OSError(errno.ELOOP, "is a symbolic link (not followed)") from exc
        raise
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise OSError(errno.EINVAL, "not a regular file")
        return os.fdopen(fd, "rb", buffering=0)
    except BaseException:
        os.close(fd)
        raise


def _times(st: os.stat_result) -> Times:
    birth = getattr(st, "st_birthtime", None)
    return Times(
        modified=utc_iso(st.st_mtime),
        accessed=utc_iso(st.st_atime),
        changed=utc_iso(st.st_ctime),
        created=utc_iso(birth),
    )


def _special_reason(st: os.stat_result, raw: bytes) -> tuple[ItemKind, str | None]:
    mode = st.st_mode
    if stat.S_ISREG(mode):
        return ItemKind.FILE, None
    if stat.S_ISLNK(mode):
        try:
            target = display_path(os.readlink(raw))
        except OSError:
            target = "?"
        return ItemKind.SYMLINK, f"symbolic link to {target!r}: recorded, not followed"
    for test, what in (
        (stat.S_ISFIFO, "named pipe (FIFO)"),
        (stat.S_ISSOCK, "socket"),
        (stat.S_ISCHR, "character device"),
        (stat.S_ISBLK, "block device"),
    ):
        if test(mode):
            return ItemKind.SPECIAL, f"{what}: not a regular file, not read"
    return ItemKind.SPECIAL, "not a regular file, not read"


#: Names of disk images and evidence containers. A file named so that hashmatch does not
#: recognise as an image (a damaged EWF header, a container it does not read) is
#: examined as one file, and the report says so: the image's contents were not.
IMAGE_SUFFIXES = frozenset({
    ".e01", ".ex01", ".s01", ".l01", ".lx01", ".dd", ".raw", ".img", ".001", ".dmg",
    ".vmdk", ".vhd", ".vhdx", ".vdi", ".aff", ".aff4", ".qcow2",
})  # fmt: skip


def _not_an_image(suffix: str) -> str:
    return (
        f"named like a disk image or evidence container ({suffix}) but not one hashmatch "
        "reads (no EWF signature, no partition table or file system found; VMDK, VHD, "
        "AFF and logical L01 containers are not read): examined as one file, nothing "
        "inside it was examined; convert it to raw or E01, or check it is not damaged"
    )


class DirectorySource(Source):
    """A folder of evidence (or a single file: then the only item is that file)."""

    def __init__(self, spec: SourceSpec) -> None:
        super().__init__(spec)
        self._root = os.fsencode(spec.path)
        self._size: int | None = None

    def info(self) -> SourceInfo:
        if self._size is None:
            self._size = sum(i.size for i in self.walk() if isinstance(i, Item))
        return SourceInfo(self.spec.source_id, self.spec.path, self.spec.kind, self._size)

    def walk(self) -> Iterator[Item | WalkError]:
        if self.spec.kind is SourceKind.FILE:
            name = os.path.basename(self._root)
            yield self._item(self._root, name, os.lstat(self._root))
            suffix = Path(self.spec.path).suffix.lower()
            if suffix in IMAGE_SUFFIXES:
                yield WalkError(self.spec.source_id, display_path(name), _not_an_image(suffix))
            return
        yield from self._walk_dir(self._root, b"")

    def _walk_dir(self, directory: bytes, relative: bytes) -> Iterator[Item | WalkError]:
        try:
            with os.scandir(directory) as listing:
                entries = sorted((e.name, e.path) for e in listing)
        except OSError as exc:
            shown = display_path(relative) if relative else "."
            reason = exc.strerror or str(exc)
            yield WalkError(self.spec.source_id, shown, f"cannot list directory: {reason}")
            return
        for name, full in entries:
            rel = relative + b"/" + name if relative else name
            try:
                st = os.lstat(full)
            except OSError as exc:
                reason = exc.strerror or str(exc)
                yield WalkError(self.spec.source_id, display_path(rel), f"cannot stat: {reason}")
                continue
            if stat.S_ISDIR(st.st_mode):
                yield from self._walk_dir(full, rel)
            else:
                yield self._item(full, rel, st)

    def _item(self, full: bytes, rel: bytes, st: os.stat_result) -> Item:
        kind, reason = _special_reason(st, full)
        return Item(
            source_id=self.spec.source_id,
            key=unique_key(rel),
            path=display_path(rel),
            size=st.st_size if kind is ItemKind.FILE else 0,
            locator=full,
            kind=kind,
            times=_times(st),
            inode=st.st_ino,
            skip_reason=reason,
        )

    def open(self, item: Item) -> BinaryIO:
        if not isinstance(item.locator, bytes):
            raise TypeError("directory items are located by their bytes path")
        return open_readonly(item.locator)


def is_directory(path: Path) -> bool:
    """A folder the user named (a link the user named is followed; links inside are not)."""
    return path.is_dir()
