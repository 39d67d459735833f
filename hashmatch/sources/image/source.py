"""A disk image as evidence: container → volume system → file systems → files.

The identity of every item is the chain dfvfs uses: the image (the source), the
partition (TSK's partition address, byte offset, description), the file system type,
and the path inside it. An image without a partition table is tried as one file system,
and when there is none at its start, its file systems are searched for (``fssearch``:
a wiped partition table loses no partition that follows another).
A partition with no recognisable file system is noted in the source's details (it is
not scanned, and it does not stop the scan); a container that cannot be opened raises
``ImageError`` naming the image and the problem.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, cast

import pytsk3

from hashmatch.errors import ImageError
from hashmatch.sources.base import (
    Item,
    Partition,
    Source,
    SourceInfo,
    SourceKind,
    SourceSpec,
    WalkError,
)
from hashmatch.sources.image.fssearch import FoundFileSystem, search
from hashmatch.sources.image.fswalk import FileSystemWalk, Locator, TskStream, fs_type_name
from hashmatch.sources.image.imgio import OpenedImage, open_container

VERIFY_CHUNK = 4 << 20


@dataclass
class _FileSystem:
    partition: Partition
    fs: Any  # pytsk3.FS_Info


def probe_raw(path: Path) -> bool:
    """True when TSK finds a partition table or a file system at the start of ``path``,
    or a file system by searching it (a disk whose partition table was wiped)."""
    try:
        img = pytsk3.Img_Info(str(path))
    except (OSError, RuntimeError):
        return False
    try:
        for opener in (_volume_system, _file_system_at_start):
            try:
                opener(img)
                return True
            except (OSError, RuntimeError):
                continue
        return bool(_search(img, int(img.get_size()), first_only=True))
    finally:
        img.close()


def _search(img: Any, size: int, *, first_only: bool = False) -> list[FoundFileSystem]:
    return search(img.read, size, lambda offset: pytsk3.FS_Info(img, offset=offset),
                  first_only=first_only)  # fmt: skip


def _volume_system(img: Any) -> Any:
    return pytsk3.Volume_Info(img)


def _file_system_at_start(img: Any) -> Any:
    return pytsk3.FS_Info(img, offset=0)


class ImageSource(Source):
    """A raw, split raw or EWF image, read through TSK."""

    def __init__(self, spec: SourceSpec) -> None:
        super().__init__(spec)
        self._image: OpenedImage | None = None
        self._filesystems: list[_FileSystem] | None = None
        self._notes: list[tuple[str, str]] = []
        self._verification: tuple[tuple[str, str], ...] = ()

    # -- opening ---------------------------------------------------------------------

    @property
    def image(self) -> OpenedImage:
        if self._image is None:
            self._image = open_container(Path(self.spec.path), self.spec.kind)
        return self._image

    def check(self) -> None:
        self.image  # noqa: B018  (opening the container is the check)

    def filesystems(self) -> list[_FileSystem]:
        if self._filesystems is None:
            self._filesystems = self._find_filesystems()
        return self._filesystems

    def _find_filesystems(self) -> list[_FileSystem]:
        img = self.image.img
        try:
            volumes = pytsk3.Volume_Info(img)
        except (OSError, RuntimeError):
            volumes = None
        if volumes is None:
            try:
                fs = pytsk3.FS_Info(img, offset=0)
            except (OSError, RuntimeError) as exc:
                return self._searched(img, exc)
            whole = Partition(0, 0, "whole image (no partition table)", fs_type_name(fs))
            return [_FileSystem(whole, fs)]
        block = int(volumes.info.block_size)
        self._notes.append(("partition table", _vs_name(volumes)))
        found = []
        for part in volumes:
            if not int(part.flags) & int(pytsk3.TSK_VS_PART_FLAG_ALLOC):
                continue
            offset = int(part.start) * block
            desc = bytes(part.desc).decode("utf-8", "replace").strip()
            label = f"partition {int(part.addr)}"
            where = f"offset {offset}, {int(part.len) * block} bytes, {desc}"
            try:
                fs = pytsk3.FS_Info(img, offset=offset)
            except (OSError, RuntimeError) as exc:
                self._notes.append((label, f"{where}: no recognisable file system, not "
                                           f"scanned ({_tsk_reason(exc)})"))  # fmt: skip
                continue
            fs_type = fs_type_name(fs)
            self._notes.append((label, f"{where}: {fs_type}"))
            found.append(_FileSystem(Partition(int(part.addr), offset, desc, fs_type), fs))
        return found

    def _searched(self, img: Any, exc: BaseException) -> list[_FileSystem]:
        """File systems found by searching an image with no partition table and no file
        system at its start."""
        found = _search(img, self.image.size)
        if not found:
            self._notes.append(("file system", f"none recognised ({_tsk_reason(exc)}); "
                                "none found by searching sector boundaries either"))  # fmt: skip
            return []
        self._notes.append(("partition table", "none; file systems found by searching "
                            "sector boundaries (see fssearch in docs/disk-images.md)"))  # fmt: skip
        out = []
        for number, hit in enumerate(found, 1):
            fs_type = fs_type_name(hit.fs)
            self._notes.append((f"partition {number}", f"offset {hit.offset}, {hit.size} bytes, "
                                f"{fs_type}, found by search"))  # fmt: skip
            partition = Partition(number, hit.offset, "found by search (no partition table)",
                                  fs_type)  # fmt: skip
            out.append(_FileSystem(partition, hit.fs))
        return out

    # -- the Source interface ---------------------------------------------------------

    def info(self) -> SourceInfo:
        image = self.image
        self.filesystems()  # fills the partition notes
        details = [*image.details]
        details += [(f"stored {name}", value) for name, value in image.stored_hashes]
        details += self._notes
        details += self._verification
        return SourceInfo(self.spec.source_id, self.spec.path, self.spec.kind, image.size,
                          tuple(details))  # fmt: skip

    def walk(self) -> Iterator[Item | WalkError]:
        filesystems = self.filesystems()
        if self.image.problem:
            yield WalkError(self.spec.source_id, ".", f"the image is {self.image.problem}")
        if not filesystems:
            why = dict(self._notes).get("file system", "")
            message = "no file system recognised in the image" + (f": {why}" if why else "")
            yield WalkError(self.spec.source_id, ".", message)
        partitioned = not (len(filesystems) == 1 and filesystems[0].partition.offset == 0)
        for entry in filesystems:
            prefix = f"p{entry.partition.index}/" if partitioned else ""
            walker = FileSystemWalk(entry.fs, self.spec.source_id, entry.partition,
                                    self.image.size, prefix)  # fmt: skip
            yield from walker.walk()

    def open(self, item: Item) -> BinaryIO:
        locator = item.locator
        if not isinstance(locator, Locator):
            raise TypeError("image items are located by a Locator")
        for entry in self.filesystems():
            if entry.partition.index == locator.partition:
                try:
                    file = entry.fs.open_meta(inode=locator.inode)
                except (OSError, RuntimeError) as exc:
                    raise OSError(f"cannot open inode {locator.inode}: {exc}") from exc
                return cast(BinaryIO, TskStream(file, item.size, locator))
        raise OSError(f"no file system at partition {locator.partition}")

    def verify(self) -> tuple[tuple[str, str], ...]:
        """Re-hash the whole image; compare with the hashes stored at acquisition (EWF)."""
        image = self.image
        stored = dict(image.stored_hashes)
        names = ["md5", "sha1", "sha256"]
        digests = {name: hashlib.new(name) for name in names}
        offset = 0
        try:
            while offset < image.size:
                chunk = image.img.read(offset, min(VERIFY_CHUNK, image.size - offset))
                if not chunk:
                    raise OSError(f"no data at offset {offset}")
                for digest in digests.values():
                    digest.update(chunk)
                offset += len(chunk)
        except (OSError, RuntimeError) as exc:
            result = (("verification", f"FAILED: the image could not be read: {exc}"),)
            self._verification = result
            return result
        computed = {name: digest.hexdigest() for name, digest in digests.items()}
        lines = [(f"computed {name}", computed[name]) for name in names]
        checks = [
            f"{name.upper()} {'matches' if computed[name] == value else 'DOES NOT MATCH'}"
            for name, value in sorted(stored.items())
        ]
        if checks:
            verdict = "; ".join(checks)
            ok = all("DOES NOT" not in c for c in checks)
            lines.append(("verification", ("verified: " if ok else "MISMATCH: ") + verdict))
        else:
            lines.append(("verification", "no hash stored in the image; computed hashes recorded"))
        self._verification = tuple(lines)
        return self._verification

    def close(self) -> None:
        if self._image is not None:
            self._image.img.close()
            self._image = None
            self._filesystems = None


def _vs_name(volumes: Any) -> str:
    names = {
        int(getattr(pytsk3, n)): n.removeprefix("TSK_VS_TYPE_").lower()
        for n in dir(pytsk3)
        if n.startswith("TSK_VS_TYPE_") and isinstance(getattr(pytsk3, n), int)
    }
    return names.get(int(volumes.info.vstype), "unknown")


def _tsk_reason(exc: BaseException) -> str:
    """TSK's own reason, without the binding's source location."""
    text = " ".join(str(exc).split())
    if "error: " in text:
        text = text.rsplit("error: ", 1)[1]
    return text[:200] or type(exc).__name__


__all__ = ["ImageError", "ImageSource", "SourceKind", "probe_raw"]
