"""Disk-image containers: recognise them by content and read them as one run of bytes.

Three containers: EnCase EWF (``.E01`` and its segments ``.E02``...; read with pyewf,
the libewf-python binding), split raw images (``.001/.002``... or ``.aa/.ab``...), and a
single raw/dd file. Each is handed to The Sleuth Kit as a ``pytsk3.Img_Info`` subclass
that overrides ``read`` and ``get_size`` (the pytsk3 wheel cannot read EWF itself).
Every file is opened read-only.
"""

from __future__ import annotations

import os
import re
import string
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import pyewf
import pytsk3

from hashmatch.errors import ImageError
from hashmatch.sources.base import SourceKind
from hashmatch.sources.image.fssearch import FS_SIGNATURES

EWF_MAGIC = b"EVF\x09\x0d\x0a\xff\x00"
EWF2_MAGIC = b"EVF2\x0d\x0a\x81\x00"
_NUMBERED = re.compile(r"^(?P<stem>.*\.)(?P<num>\d{3})$")
_LETTERED = re.compile(r"^(?P<stem>.*\.)(?P<let>[a-z]{2})$")

#: Acquisition header values worth a line in the report, in this order.
EWF_HEADERS = (
    ("case_number", "case number"),
    ("evidence_number", "evidence number"),
    ("examiner_name", "examiner"),
    ("description", "description"),
    ("notes", "notes"),
    ("acquiry_date", "acquired"),
    ("acquiry_software", "acquisition software"),
    ("acquiry_software_version", "acquisition software version"),
    ("acquiry_operating_system", "acquisition OS"),
    ("model", "model"),
    ("serial_number", "serial number"),
)


def sniff_container(path: Path) -> SourceKind | None:
    """EWF by its signature, split raw by its segment names; None for anything else."""
    try:
        with path.open("rb") as stream:
            head = stream.read(8)
    except OSError:
        return None
    if head in (EWF_MAGIC, EWF2_MAGIC):
        return SourceKind.EWF
    if len(split_segments(path)) > 1:
        return SourceKind.SPLIT_RAW
    return None


#: (offset, bytes) that mark the start of a disk or a file system: a file holding one is
#: taken for a disk image even when TSK cannot open it (truncated, damaged), so the
#: report says what is wrong instead of hashing the image as one opaque file.
#: What a disk image holds at its very start: a file system's first sectors, or a GPT
#: header (at 512, after the protective MBR).
DISK_SIGNATURES = (*FS_SIGNATURES, (512, b"EFI PART"))


def has_disk_signature(path: Path) -> bool:
    try:
        with path.open("rb") as stream:
            head = stream.read(32774)
    except OSError:
        return False
    return any(head[at : at + len(magic)] == magic for at, magic in DISK_SIGNATURES)


def split_segments(first: Path) -> list[Path]:
    """``x.001, x.002, ...`` or ``x.aa, x.ab, ...``: the consecutive segments from ``first``."""
    name = first.name
    numbered, lettered = _NUMBERED.match(name), _LETTERED.match(name)
    if numbered and numbered["num"] in ("000", "001"):
        start, stem = int(numbered["num"]), numbered["stem"]
        names = (f"{stem}{n:03d}" for n in range(start, 1000))
    elif lettered and lettered["let"] == "aa":
        stem = lettered["stem"]
        names = (f"{stem}{a}{b}" for a in string.ascii_lowercase for b in string.ascii_lowercase)
    else:
        return [first]
    found = []
    for candidate in names:
        path = first.with_name(candidate)
        if not path.is_file():
            break
        found.append(path)
    return found


class _Adapter(pytsk3.Img_Info):  # type: ignore[misc]
    """Hand TSK an image it cannot open itself: reads go to ``_read_at``."""

    def __init__(self, size: int) -> None:
        self._size = size
        super().__init__(url="", type=pytsk3.TSK_IMG_TYPE_EXTERNAL)

    def get_size(self) -> int:
        return self._size

    def read(self, offset: int, size: int) -> bytes:
        if offset >= self._size or size <= 0:
            return b""
        return self._read_at(offset, min(size, self._size - offset))

    def _read_at(self, offset: int, size: int) -> bytes:
        raise NotImplementedError

    def close(self) -> None:
        """Release the underlying files."""


class EwfImage(_Adapter):
    """An EWF segment set through pyewf."""

    def __init__(self, handle: Any) -> None:
        self._handle = handle
        super().__init__(int(handle.get_media_size()))

    def _read_at(self, offset: int, size: int) -> bytes:
        data: bytes = self._handle.read_buffer_at_offset(size, offset)
        return data

    def close(self) -> None:
        self._handle.close()


class SplitRawImage(_Adapter):
    """Raw segments read as one image."""

    def __init__(self, segments: list[Path]) -> None:
        self._files: list[BinaryIO] = []
        self._starts: list[int] = []
        total = 0
        try:
            for segment in segments:
                stream = _open_ro(segment)
                self._files.append(stream)
                self._starts.append(total)
                total += os.fstat(stream.fileno()).st_size
        except OSError:
            self.close()
            raise
        super().__init__(total)

    def _read_at(self, offset: int, size: int) -> bytes:
        out = bytearray()
        index = max(i for i, start in enumerate(self._starts) if start <= offset)
        while size > 0 and index < len(self._files):
            stream = self._files[index]
            stream.seek(offset - self._starts[index])
            chunk = stream.read(size)
            if not chunk:
                index += 1
                continue
            out += chunk
            offset += len(chunk)
            size -= len(chunk)
            if index + 1 < len(self._starts) and offset >= self._starts[index + 1]:
                index += 1
        return bytes(out)

    def close(self) -> None:
        for stream in self._files:
            stream.close()


def _open_ro(path: Path) -> BinaryIO:
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_BINARY", 0))
    return os.fdopen(fd, "rb")


@dataclass
class OpenedImage:
    """An image ready for TSK, with what the report says about the container."""

    img: Any  # a pytsk3.Img_Info
    size: int
    segments: tuple[str, ...]
    details: tuple[tuple[str, str], ...]
    stored_hashes: tuple[tuple[str, str], ...] = ()
    problem: str | None = None  # what is wrong with the container, if anything


def open_container(path: Path, kind: SourceKind) -> OpenedImage:
    """Open ``path`` as an image of ``kind``; ``ImageError`` says what is wrong."""
    if kind is SourceKind.EWF:
        return _open_ewf(path)
    segments = split_segments(path) if kind is SourceKind.SPLIT_RAW else [path]
    try:
        if kind is SourceKind.SPLIT_RAW:
            img: Any = SplitRawImage(segments)
        else:
            img = pytsk3.Img_Info(str(path))
    except (OSError, RuntimeError) as exc:
        raise ImageError(f"{path}: cannot open the image: {exc}") from exc
    names = tuple(str(s) for s in segments)
    details = (("segments", str(len(segments))),) if len(segments) > 1 else ()
    return OpenedImage(img, int(img.get_size()), names, details)


def _open_ewf(path: Path) -> OpenedImage:
    try:
        segments = pyewf.glob(str(path))
    except (OSError, RuntimeError, ValueError) as exc:
        raise ImageError(f"{path}: cannot find the segments of this EWF image: {exc}") from exc
    handle = pyewf.handle()
    try:
        handle.open(segments)
    except (OSError, RuntimeError, ValueError) as exc:
        raise ImageError(
            f"{path}: cannot open the EWF image ({len(segments)} segment(s) found): {exc}; "
            "a segment may be missing or truncated"
        ) from exc
    details = [("segments", str(len(segments))), ("format", "EWF (EnCase)")]
    for key, label in EWF_HEADERS:
        try:
            value = handle.get_header_value(key)
        except (OSError, RuntimeError, ValueError):
            value = None
        if value:
            details.append((label, str(value)))
    stored = []
    for name in ("MD5", "SHA1"):
        try:
            value = handle.get_hash_value(name)
        except (OSError, RuntimeError, ValueError):
            value = None
        if value:
            stored.append((name.lower(), str(value).lower()))
    image = EwfImage(handle)
    problem = _ewf_problem(handle, image.get_size(), len(segments))
    if problem:
        details.append(("integrity", problem))
    return OpenedImage(
        image, image.get_size(), tuple(segments), tuple(details), tuple(stored), problem
    )


def _ewf_problem(handle: Any, size: int, segments: int) -> str | None:
    """Read the first and the last sector: a missing or truncated segment shows there."""
    for offset in (0, max(0, size - 512)):
        try:
            handle.read_buffer_at_offset(min(512, size), offset)
        except (OSError, RuntimeError) as exc:
            reason = " ".join(str(exc).split())
            if ". " in reason:
                reason = reason.split(". ", 1)[1]
            return (
                f"incomplete or damaged: data at offset {offset} cannot be read with the "
                f"{segments} segment(s) found (a segment is missing or truncated; "
                f"libewf: {reason[:160]})"
            )
    return None
