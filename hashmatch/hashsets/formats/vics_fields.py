"""What simdjson gives of one piece of VICS media: each medium's MD5, SHA1 and Category
and its record, asked of all media at once (``map``: no Python step per medium).

A medium's record is its own text from the file when the piece can be split into media
by the separator between its first two (``}`` ``,`` ``{``, the white space between and
the first medium's first key): the parts between separators are parsed, each wrapped in
``[...]``, as one document, which parses, with one object in each wrapper and as many
wrappers as parts, only if every separator lies between two media. Otherwise
(separators that differ, a piece of one medium, ``\\u`` escapes that could spell a key)
the record is simdjson's minified JSON of the medium.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from itertools import chain
from operator import attrgetter, methodcaller
from typing import Any, cast

import msgspec
import numpy as np
import simdjson

from hashmatch.hashsets.formats.vics_alternatives import (
    MINIFIED,
    PROXIES,
    Alternatives,
    alternatives,
    of_objects,
)
from hashmatch.hashsets.formats.vics_chunks import NotBulk, first_key, separator_before

_MEDIA_KEY = re.compile(rb'"Media"[ \t\r\n]*:')


class Records:
    """Each medium's record: bytes back to back and ``len + 1`` offsets; a record can
    be replaced (an annotated one, cleaned)."""

    def __init__(self, data: bytes, offsets: np.ndarray) -> None:
        self.data = data
        self.offsets = offsets
        self._replaced: dict[int, bytes] = {}

    @classmethod
    def of(cls, items: list[bytes]) -> Records:
        lengths = np.fromiter(map(len, items), np.int64, len(items))
        return cls(b"".join(items), np.concatenate(([0], np.cumsum(lengths))))

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def __getitem__(self, row: int) -> bytes:
        if row in self._replaced:
            return self._replaced[row]
        return self.data[int(self.offsets[row]) : int(self.offsets[row + 1])]

    def replace(self, row: int, record: bytes) -> None:
        self._replaced[row] = record

    def matching(self, pattern: re.Pattern[bytes]) -> set[int]:
        """Rows whose record holds a match of ``pattern`` (not found in replaced ones)."""
        found = [m.start() for m in pattern.finditer(self.data)]
        if not found:
            return set()
        return set((np.searchsorted(self.offsets, np.array(found), "right") - 1).tolist())

    def holding(self, needle: bytes) -> set[int]:
        """Rows whose record holds ``needle`` (looked for in all the records at once:
        quick when none does, as for the rare keys it is asked about)."""
        if needle not in self.data:
            return set()
        return self.matching(re.compile(re.escape(needle)))

    def block(self, low: int, high: int) -> tuple[bytes, np.ndarray]:
        """Rows ``low`` to ``high - 1`` as (bytes, offsets from 0)."""
        if any(low <= row < high for row in self._replaced):
            return _joined([self[row] for row in range(low, high)])
        start, end = int(self.offsets[low]), int(self.offsets[high])
        return self.data[start:end], self.offsets[low : high + 1] - start


def _joined(items: list[bytes]) -> tuple[bytes, np.ndarray]:
    records = Records.of(items)
    return records.data, records.offsets


@dataclass
class Fields:
    """The fields a piece's media are read by, one item per medium."""

    md5: list[object]
    sha1: list[object]
    category: list[object]
    records: Records
    odd: set[int]  # media the reference reading takes (nested values where text belongs)
    #: Media whose record holds "odata." (an OData annotation), or may spell it.
    annotated: set[int]
    #: What the media's AlternativeHashes arrays hold.
    alternatives: Alternatives = field(default_factory=lambda: Alternatives())


def fields(parser: simdjson.Parser, piece: bytes) -> Fields:
    """The fields of every medium of a piece (which holds whole media, comma-separated)."""
    piece = piece.lstrip(b" \t\r\n")
    # An escape can spell a key the piece does not show. (A lone backslash is found by
    # memchr; a two-byte search runs at a tenth of its speed through JSON's quotes.)
    escaped = b"\\" in piece and b"\\u" in piece
    if (decoded := _decoded(piece, escaped)) is not None:
        return decoded
    if not escaped and b'"Media"' in piece and _MEDIA_KEY.search(piece):
        raise NotBulk("perhaps a case among the media")
    split = None if escaped else _split(piece)
    if split is not None:
        parts, opener = split
        found = _parse_wrapped(parser, parts, opener)
        if found is not None:
            return _read(found, _spans(parts, opener), escaped)
    try:
        document: Any = parser.parse(b"[" + piece + b"]")
    except (ValueError, RuntimeError) as exc:
        raise NotBulk(str(exc)) from exc
    items = [i for i in document if type(i) is simdjson.Object]  # streaming skips others
    # Minified, '"KEY":' is that key (no space; a quote inside a string is escaped).
    records = Records.of(cast(list[bytes], list(map(MINIFIED, items))))
    if escaped and records.holding(b'"Media":'):
        raise NotBulk("perhaps a case among the media")
    return _read(items, records, escaped)


class _Alternative(msgspec.Struct, gc=False):
    """One object of an AlternativeHashes array (None: missing or null)."""

    HashName: str | None = None
    HashValue: str | None = None


class _Medium(msgspec.Struct, gc=False):
    """What a medium is read by (None: missing or null). A value of another type fails
    the piece's decoding, and the piece goes to simdjson: numbers where texts belong,
    an AlternativeHashes that is not an array of objects, a float or boolean Category."""

    MD5: str | None = None
    SHA1: str | None = None
    Category: int | str | None = None
    AlternativeHashes: list[_Alternative] | None = None
    Media: msgspec.Raw = msgspec.Raw(b"")  # (its text, if the key is there at all)


_MEDIA = msgspec.json.Decoder(list[_Medium])
_TEXTS = msgspec.json.Decoder(list[msgspec.Raw])


def _decoded(piece: bytes, escaped: bool) -> Fields | None:
    """The fields of a piece whose every medium ``_Medium`` takes, each record the
    medium's text as written; None for any other piece. msgspec checks the UTF-8 of
    what it decodes, not of what it skips: a piece not in ASCII is checked first.
    msgspec reads keys through their escapes; a record's annotations are looked for in
    its text, and in the reference reading where an escape may spell one."""
    if not piece.isascii():
        try:
            piece.decode("utf-8")
        except UnicodeDecodeError:
            return None
    document = b"[" + piece + b"]"
    try:
        media = _MEDIA.decode(document)
        texts = _TEXTS.decode(document)
    except (msgspec.MsgspecError, RecursionError):
        return None
    if any(map(len, map(_CASE_MEDIA, media))):
        raise NotBulk("a case among the media")
    records = Records.of(cast(list[bytes], texts))
    md5, sha1, category = (list(map(attrgetter(key), media)) for key in ("MD5", "SHA1", "Category"))
    annotated = records.holding(b"odata.")
    if escaped:
        annotated |= records.matching(_SPELLS_ODATA)
    found = Fields(md5, sha1, category, records, set(), annotated)
    column = list(map(_ALTERNATIVES, media))
    if column.count(None) < len(column):
        found.alternatives = of_objects(column)
    return found


#: An escape of a character of "odata.": only a record holding one can spell an
#: annotation its text does not show.
_SPELLS_ODATA = re.compile(rb"\\u00(?:6[14fF]|74|2[eE])")
_CASE_MEDIA = attrgetter("Media")
_ALTERNATIVES = attrgetter("AlternativeHashes")


def _split(piece: bytes) -> tuple[list[bytes], bytes] | None:
    """The piece split at the separator before its second medium, with the medium's
    first key (so that an array of objects inside a medium rarely matches it), and what
    each part after the first lost of its medium (``{`` and that key)."""
    key = first_key(piece)
    if key is None:
        return None
    separator = separator_before(key).search(piece)
    if separator is None:
        return None
    return piece.split(separator[0]), separator[0][separator[0].index(b"{") :]


def _parse_wrapped(parser: simdjson.Parser, parts: list[bytes], opener: bytes) -> list[Any] | None:
    """The media, if every part is exactly one object."""
    try:
        document: Any = parser.parse(b"[[" + (b"}],[" + opener).join(parts) + b"]]")
    except (ValueError, RuntimeError):
        return None
    # Every wrapper holds at least one value (a part starts a medium), so as many values
    # as wrappers, and wrappers as parts, means exactly one in each.
    media: list[Any] = list(chain.from_iterable(document))
    if len(document) != len(parts) or len(media) != len(parts):
        return None
    if set(map(type, media)) != {simdjson.Object}:
        return None
    return media


def _spans(parts: list[bytes], opener: bytes) -> Records:
    """Each medium's own text: a part with what the separators took (its ``}``, and the
    next one's ``{`` and first key)."""
    data = (b"}" + opener).join(parts)
    lengths = np.fromiter(map(len, parts), np.int64, len(parts)) + 1 + len(opener)
    lengths[0] -= len(opener)  # the first keeps its opening
    lengths[-1] -= 1  # the last keeps its '}'
    return Records(data, np.concatenate(([0], np.cumsum(lengths))))


def _read(items: list[Any], records: Records, escaped: bool) -> Fields:
    md5, sha1, category = (_column(items, records, key) for key in ("MD5", "SHA1", "Category"))
    found = Fields(md5, sha1, category, records, set(), records.holding(b"odata."))
    if b'"AlternativeHashes"' in records.data:
        found.alternatives = alternatives(_column(items, records, "AlternativeHashes"))
    if escaped:  # an escape may spell "odata.": every record is looked at when read
        found.annotated = set(range(len(records)))
    for column in (found.md5, found.sha1, found.category):
        if not PROXIES.isdisjoint(map(type, column)):  # an object or array where a
            for i, held in enumerate(column):  # value belongs: the reference reads it
                if type(held) in PROXIES:
                    column[i] = None
                    found.odd.add(i)
    return found


def _column(items: list[Any], records: Records, key: str) -> list[object]:
    """One key's value in every medium (None: missing). simdjson is slow to say a key
    is missing: unless the first, middle and last media all name the key, only the
    media whose record names it are asked."""
    needle = b'"' + key.encode() + b'"'
    n = len(items)
    if n and all(needle in records[i] for i in {0, n // 2, n - 1}):
        return list(map(methodcaller("get", key), items))
    named = records.holding(needle)
    return [item.get(key) if i in named else None for i, item in enumerate(items)]
