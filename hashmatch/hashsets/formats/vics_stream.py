"""Reading a VICS file as a stream of media and cases, with memory bounded by one medium:
the reference reader, and what reads the files the bulk reader (``vics_bulk``) does not
take.

Two readers give the same objects:

* **Flat hash sets** (``value`` holds media: how CAID and Project VIC sets are shipped)
  are read by ijson's C item builder, which turns each medium into a dict without a
  Python step per JSON event: about 5x faster than the event loop.
* **Case files** (``value`` holds cases whose ``Media`` arrays hold the media) go through
  the event loop, which builds each medium alone while a case's ``Media`` array is
  still open, so a case with a million media costs the memory of one.

Which reader is used is decided by peeking at the first item of ``value``: a medium sends
the file to the item builder, anything else (a case: an item with a ``Media`` key) to
the event loop. Both take an item whose ``Media`` is an array for a case, by structure,
unless it has an ``MD5`` of its own (``is_case``); in a file whose first item is a case,
an item of neither key is a case too (without media: ``_events``).
A file whose data-model key comes after ``value``, or that cannot be rewound (UTF-16,
transcoded), takes the event loop.
"""

from __future__ import annotations

import codecs
import enum
import io
from collections.abc import Iterator
from typing import Any, BinaryIO, cast

import ijson

from hashmatch.errors import HashSetFormatError
from hashmatch.hashsets.formats.json_depth import depth_limited
from hashmatch.hashsets.formats.vics_halves import as_read

ROOT_KEYS = ("odata.metadata", "@odata.context")
#: JSON events the peek reads at most before leaving the decision to the event loop.
PEEK_EVENTS = 10_000


class Shape(enum.Enum):
    """What a file's head says ``value`` holds."""

    MEDIA = "media"  # media (or nothing): a flat hash set
    CASES = "cases"  # its first item is a case (an object with a Media key)
    UNDECIDED = "undecided"  # the data model is named after the media, or the head is odd


def objects(source: BinaryIO, provenance: dict[str, str]) -> Iterator[tuple[str, Any]]:
    """("media", obj) for every medium and ("case", fields) for every case, streaming.

    ``provenance`` receives the data model's ``context`` and ``vics_version``.
    """
    start = _position(source)
    if start is not None and _peek(source, provenance) is Shape.MEDIA:
        source.seek(start)
        yield from _flat(source)
        return
    if start is not None:
        source.seek(start)
    yield from _events(source, provenance)


def _position(source: BinaryIO) -> int | None:
    try:
        return source.tell() if source.seekable() else None
    except (OSError, ValueError):
        return None


def shape_of(source: BinaryIO) -> Shape:
    """What ``value`` holds, as far as the file's head tells. Reads the head."""
    try:
        return _peek(depth_limited(as_read(source)), {})
    except (ijson.JSONError, HashSetFormatError):  # (too deep: the streaming reader says)
        return Shape.UNDECIDED


def _peek(source: BinaryIO, provenance: dict[str, str]) -> Shape:
    """MEDIA when the data-model key comes first and ``value``'s first item is a medium."""
    for number, (prefix, event, value) in enumerate(ijson.parse(source)):
        if number > PEEK_EVENTS:
            break
        if prefix in ROOT_KEYS and event == "string":
            note_context(provenance, value)
        elif prefix == "value" and event == "start_array" and "context" not in provenance:
            break  # the data model is named after the media, if at all
        elif prefix == "value" and event == "end_array":
            return Shape.MEDIA  # no media at all
        elif prefix == "value.item" and event == "map_key" and value == "Media":
            return Shape.CASES
        elif prefix == "value.item" and event == "end_map":
            return Shape.MEDIA
    return Shape.UNDECIDED


def _flat(source: BinaryIO) -> Iterator[tuple[str, Any]]:
    """Decides as ``_events`` does (``is_case``)."""
    for item in ijson.items(source, "value.item"):
        if not isinstance(item, dict):
            continue
        keyed = "Media" in item
        media = item.pop("Media", None)  # the event loop never keeps it either
        if isinstance(media, list):  # a case among media: its media, then the case
            for medium in media:
                if isinstance(medium, dict):
                    yield from _with_own_media(medium)
        yield ("case" if is_case(item, media, keyed) else "media"), item


def is_case(item: dict[str, Any], media: object, keyed: bool = True) -> bool:
    """Whether an item of ``value`` is a case: it has a ``Media`` array (``media``), or a
    ``Media`` of null (``keyed``: the key is there; a case without media, as serializers
    write an empty collection), and no ``MD5`` of its own. An item with both is a medium
    whose array's media are read too: no MD5 in the file is dropped (an exporter's
    medium with an empty ``Media`` array was once taken for an empty case and lost).
    (An empty case with a null ``Media`` was once a medium without an MD5, which
    stopped the import.)"""
    empty = keyed and media is None
    return (isinstance(media, list) or empty) and "MD5" not in item


def _events(source: BinaryIO, provenance: dict[str, str]) -> Iterator[tuple[str, Any]]:
    """The event loop: a medium is built alone even inside a case. An item of ``value``
    whose ``Media`` is an array (or null) is a case, unless it has an MD5 (``is_case``);
    so is one with neither key where the first item is a case (a case without media,
    written by a serializer that leaves out what is null); any other item is a medium."""
    builder: ijson.ObjectBuilder | None = None
    case_builder: ijson.ObjectBuilder | None = None
    in_case = False
    first_is_case: bool | None = None  # (the file's first item of value: a case?)
    for prefix, event, value in ijson.parse(source):
        if prefix in ROOT_KEYS and event == "string":
            note_context(provenance, value)
            continue
        if builder is not None:
            builder.event(event, value)
            if prefix in ("value.item", "value.item.Media.item") and event == "end_map":
                yield from _with_own_media(builder.value)
                builder = None
            continue
        if prefix == "value.item.Media.item" and event == "start_map":
            in_case = True
            builder = ijson.ObjectBuilder()
            builder.event(event, value)
        elif prefix == "value.item" and event == "start_map":
            case_builder, in_case = ijson.ObjectBuilder(), False
            case_builder.event(event, value)
        elif prefix == "value.item" and event == "end_map" and case_builder is not None:
            case_builder.event(event, value)
            fields = case_builder.value
            case_builder = None
            keyed = in_case or "Media" in fields
            case = "MD5" not in fields and (keyed or bool(first_is_case))
            first_is_case = case if first_is_case is None else first_is_case
            yield ("case" if case else "media"), fields
        elif case_builder is not None and not _in_media_array(prefix):
            case_builder.event(event, value)
        elif (
            prefix == "value.item.Media"
            and event in ("start_array", "null")  # (null: a case without media)
            and case_builder is not None
        ):
            in_case = True


def _with_own_media(medium: dict[str, Any]) -> Iterator[tuple[str, Any]]:
    """A medium, after the media of a ``Media`` array of its own (and theirs), as a flat
    set's item holding media is read (``is_case``). In a case file they were lost,
    their MD5s with them, kept only in the medium's record."""
    media = medium.get("Media")
    if isinstance(media, list):  # (anything else is kept in the record, as it was)
        del medium["Media"]
        for held in media:
            if isinstance(held, dict):
                yield from _with_own_media(held)
    yield "media", medium


def note_context(provenance: dict[str, str], context: str) -> None:
    provenance["context"] = context[:300]
    provenance["vics_version"] = _version(context)


def _in_media_array(prefix: str) -> bool:
    """Inside a case's ``Media`` array (not ``MediaFiles``, ``MediaID``... of a medium)."""
    return prefix == "value.item.Media" or prefix.startswith("value.item.Media.")


#: The keys of a case kept in the provenance (from the first case that has each).
CASE_KEYS = ("CaseNumber", "SourceApplicationName", "SourceApplicationVersion")


def note_case(provenance: dict[str, str], case: dict[str, Any]) -> None:
    """Count a case, and keep the first case's number and exporting application."""
    note_cases(provenance, 1, case)


def note_cases(provenance: dict[str, str], count: int, firsts: dict[str, Any]) -> None:
    """Count ``count`` cases, ``firsts`` holding the first value (not null) each of
    ``CASE_KEYS`` has among them."""
    provenance["cases"] = str(int(provenance.get("cases", "0")) + count)
    for key in CASE_KEYS:
        if firsts.get(key) is not None and f"case_{key}" not in provenance:
            provenance[f"case_{key}"] = str(firsts[key])[:200]


def _version(context: str) -> str:
    for version in ("2.0", "1.3", "1.2", "1.1", "1.0"):
        if f"/{version}.xml" in context:
            return version
    return "unknown"


def utf8(stream: BinaryIO) -> BinaryIO:
    """The stream as UTF-8 bytes without a byte-order mark (UTF-16 files are transcoded)."""
    head = stream.read(4)
    stream.seek(0)
    if head.startswith(codecs.BOM_UTF8):
        stream.seek(3)
        return stream
    if is_utf16(head):
        return cast(BinaryIO, _Transcoded(stream))
    return stream


def is_utf16(head: bytes) -> bool:
    return head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE))


class _Transcoded(io.RawIOBase):
    """UTF-8 bytes read from a UTF-16 file (its byte-order mark decides the byte order);
    cannot be rewound. The file itself is left open."""

    def __init__(self, stream: BinaryIO) -> None:
        self._stream = stream
        self._decoder = codecs.getincrementaldecoder("utf-16")()
        self._ended = False
        self._pending = bytearray()  # made, not yet given out (appended to in place)
        self.position = 0

    def readable(self) -> bool:
        return True

    def fileno(self) -> int:
        return self._stream.fileno()

    def readinto(self, buffer: Any) -> int:
        while len(self._pending) < len(buffer):
            chunk = self._more()
            if not chunk:
                break
            self._pending += chunk
        size = min(len(buffer), len(self._pending))
        buffer[:size] = self._pending[:size]
        del self._pending[:size]
        self.position += size
        return size

    def _more(self) -> bytes:
        """More of the text (empty at its end); lone surrogates and a cut-off last code
        unit raise UnicodeDecodeError."""
        text = ""
        while not text and not self._ended:
            raw = self._stream.read(1 << 17)
            self._ended = not raw
            text = self._decoder.decode(raw, final=self._ended)
        return text.encode("utf-8")


class Rewindable(_Transcoded):
    """UTF-8 bytes read from a UTF-16 file, which can be rewound (``seek``) anywhere
    within its first ``KEPT_BYTES``, as long as no more than those have been read: what
    the bulk reader needs to look at a file's head."""

    KEPT_BYTES = 8 << 20

    def __init__(self, stream: BinaryIO) -> None:
        super().__init__(stream)
        self._kept = bytearray()  # everything made so far, while it fits
        self._made = 0
        self._replay = b""  # kept bytes to give out again after a seek

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self.position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        target = offset + (self.position if whence == io.SEEK_CUR else 0)
        if whence == io.SEEK_END or not 0 <= target <= self._made:
            raise io.UnsupportedOperation("UTF-16 text: only its head can be read again")
        if target < self._made and self._made > len(self._kept):
            raise io.UnsupportedOperation("UTF-16 text: only its head can be read again")
        self._pending = bytearray()
        self._replay = bytes(self._kept[target:])
        self.position = target
        return target

    def _more(self) -> bytes:
        if self._replay:
            chunk, self._replay = self._replay, b""
            return chunk
        chunk = super()._more()
        self._made += len(chunk)
        if self._made <= self.KEPT_BYTES:
            self._kept += chunk
        else:
            self._kept = bytearray()
        return chunk


def tell(source: BinaryIO) -> int | str:
    """Where the reader is, for an error message."""
    try:
        return source.tell()
    except (OSError, ValueError):
        return "?"
