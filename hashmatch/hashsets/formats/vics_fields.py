"""What msgspec gives of one piece of VICS media: each medium's MD5, SHA1, Category and
AlternativeHashes, and its record (its text as written), all decoded in C with no
Python step per medium.

A piece (whole media, or whole cases, comma-separated) is decoded twice, wrapped in
``[...]``: into a list of ``msgspec.Raw``, each medium's text as written, and into
small structs that hold only the fields the media are read by (msgspec skips every
other key); a case's media are its ``Media`` array's, and of its keys only those the
provenance keeps are read. The structs take each field as exporters write it (texts,
an integer or text Category, an array of ``HashName``/``HashValue`` objects); a piece
where some medium holds another type is decoded again with every field as any JSON,
and such values are left to the reference reading. msgspec checks the UTF-8 of what it
decodes, not of what it skips: a piece not in ASCII is checked first. A value among
the media that is not an object is skipped, as the streaming reader skips it.
Anything else (JSON that does not parse, a medium with a ``Media`` key: a case among
the media, a case with an ``MD5``: a medium holding media, a case with two ``Media``
keys: msgspec keeps the last) raises ``NotBulk``.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from itertools import chain
from operator import attrgetter
from typing import Any, cast

import msgspec
import numpy as np

from hashmatch.hashsets.formats import vics_cases, vics_halves
from hashmatch.hashsets.formats.vics_alternatives import Alternatives, of_objects, of_values
from hashmatch.hashsets.formats.vics_piece import TEXTS, Holds, NotBulk
from hashmatch.hashsets.formats.vics_stream import CASE_KEYS

#: Runs of records up to which ``Records.kept`` slices each.
_SLICED_RUNS = 64


class Records:
    """Each medium's record: bytes back to back and ``len + 1`` offsets."""

    def __init__(self, data: bytes, offsets: np.ndarray) -> None:
        self.data = data
        self.offsets = offsets

    @classmethod
    def of(cls, items: list[bytes]) -> Records:
        lengths = np.fromiter(map(len, items), np.int64, len(items))
        return cls(b"".join(items), np.concatenate(([0], np.cumsum(lengths))))

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def __getitem__(self, row: int) -> bytes:
        return self.data[int(self.offsets[row]) : int(self.offsets[row + 1])]

    def lengths(self) -> np.ndarray:
        """Each record's length."""
        return np.diff(self.offsets)

    def kept(self, kept: np.ndarray) -> bytes:
        """The records of the rows ``kept`` (a mask) holds, back to back. Many runs of
        consecutive rows are gathered by a mask of the bytes (a slice a run took half of
        a worker's time where every other medium was invalid)."""
        # (where runs of kept rows start and end, in turn: where ``kept`` changes)
        edges = np.flatnonzero(np.diff(kept, prepend=False, append=False))
        if len(edges) // 2 > _SLICED_RUNS:
            wanted = np.repeat(kept, self.lengths())
            return bytes(np.frombuffer(self.data, np.uint8)[wanted])
        bounds = self.offsets[edges].tolist()
        return b"".join(
            self.data[low:high] for low, high in zip(bounds[::2], bounds[1::2], strict=True)
        )


@dataclass
class Fields:
    """The fields a piece's media are read by, one item per medium."""

    md5: list[object]
    sha1: list[object]
    category: list[object]
    records: Records
    odd: set[int]  # media the reference reading takes (nested values where text belongs)
    #: What the media's AlternativeHashes arrays hold.
    alternatives: Alternatives = field(default_factory=lambda: Alternatives())
    #: The piece's cases, when it holds whole cases.
    cases: CaseNotes | None = None
    #: The texts of the media whose text is not read as written (``vics_halves``), as
    #: read: the reference reading reads them (their records are as written).
    read: dict[int, bytes] = field(default_factory=dict)


@dataclass(frozen=True)
class CaseNotes:
    """What the provenance keeps of a piece's cases: how many, and the first value (not
    null) each of ``CASE_KEYS`` has among them."""

    count: int
    firsts: dict[str, Any]


def _decoded(
    document: bytes | bytearray,
    typed: msgspec.json.Decoder[Any],
    untyped: msgspec.json.Decoder[Any],
) -> tuple[Any, bool]:
    """``document`` decoded by ``typed``, or if a value is not of its type by
    ``untyped``; and whether ``typed`` took it."""
    try:
        return typed.decode(document), True
    except msgspec.ValidationError:
        return untyped.decode(document), False


def _of_cases(
    document: bytes | bytearray, escaped: bool
) -> tuple[list[Any], list[Any], bool, CaseNotes]:
    """The texts and fields of the media of a piece of whole cases (objects with one
    ``Media`` array each), flattened, whether the typed decoder took them, and what the
    provenance keeps of the cases (``escaped``: the piece holds ``\\u`` escapes)."""
    texts = list(chain.from_iterable(map(_media_of, _CASE_TEXTS.decode(document))))
    cases, typed = _decoded(document, _CASES, _ANY_CASES)
    if any(map(len, map(_CASE_MD5, cases))):
        raise NotBulk("a case with an MD5: a medium holding media")  # (``is_case``)
    # msgspec keeps the last of a repeated key: there must be one Media key a case.
    media_key = _ESCAPED_MEDIA_KEY if escaped else vics_cases.MEDIA_KEY
    if len(media_key.findall(document)) != len(cases):
        _one_media_key_each(document, media_key)
    return texts, list(chain.from_iterable(map(_media_of, cases))), typed, _notes(cases)


def _media_of(case: Any) -> list[Any]:
    """A case's media (none where its ``Media`` is null: ``vics_stream.is_case``)."""
    media: list[Any] | None = case.Media
    return media if media is not None else []


def _one_media_key_each(document: bytes | bytearray, media_key: re.Pattern[bytes]) -> None:
    """Check that each case (there are more Media keys than cases) has one Media key:
    others may be nested in its other values (a case with two raises ``NotBulk``)."""
    for text in TEXTS.decode(document):
        if len(media_key.findall(text)) > 1:
            try:
                keys = json.loads(bytes(text), object_pairs_hook=_keys)
            except (ValueError, RecursionError) as exc:  # (as msgspec did not)
                raise NotBulk(f"a case: {exc}") from exc
            if keys.count("Media") != 1:
                raise NotBulk("a case with more than one Media key")


def _keys(pairs: list[tuple[str, Any]]) -> list[str]:
    return [key for key, _ in pairs]


def _notes(cases: list[Any]) -> CaseNotes:
    firsts: dict[str, Any] = {}
    for key in CASE_KEYS:
        for case in cases:
            text = bytes(getattr(case, key))
            try:
                found = vics_cases.value(text) if text else None
            except (ValueError, RecursionError) as exc:  # (as msgspec did not)
                raise NotBulk(f"a case's {key}: {exc}") from exc
            if found is not None:
                firsts[key] = found
                break
    return CaseNotes(len(cases), firsts)


def _escaped(piece: bytes | bytearray) -> bool:
    """Whether ``piece`` (or its document) holds a ``\\u`` escape (which could spell a
    ``Media`` key). (A lone backslash is found by memchr. Past one, re's search for the
    two bytes is twice as fast as ``in``; made for every piece, it was a seventh of a
    worker's reading of media with Windows paths, and only whole cases need it.)"""
    return b"\\" in piece and _ESCAPE.search(piece) is not None


def _piece_media(
    document: bytes | bytearray, holds: Holds
) -> tuple[list[Any], list[Any], bool, CaseNotes | None]:
    """The texts and fields of a piece's media (``document``: the piece in ``[...]``),
    whether the typed decoder took them, and its cases' notes if it holds cases."""
    if holds is Holds.CASES:
        return _of_cases(document, _escaped(document))
    texts = TEXTS.decode(document)
    media, typed = _decoded(document, _MEDIA, _ANY_MEDIA)
    return texts, media, typed, None


def _with_lone_halves(
    document: bytes | bytearray, holds: Holds
) -> tuple[list[bytes], list[bytes], list[Any], bool, CaseNotes | None]:
    """``_piece_media`` of a piece that holds halves of surrogate pairs alone
    (``vics_halves``), each read as ``?``; with the media's texts as written, then as
    read."""
    written = bytes(document)  # (as_written's slices of it are records)
    document_read = vics_halves.readable(written)
    try:
        texts, media, typed, notes = _piece_media(document_read, holds)
    except (msgspec.MsgspecError, RecursionError) as exc:
        raise NotBulk(str(exc)) from exc
    read = list(map(bytes, texts))
    return vics_halves.as_written(written, document_read, read), read, media, typed, notes


def fields(document: bytes | bytearray, holds: Holds = Holds.MEDIA) -> Fields:
    """The fields of every medium of a piece (of media, or of whole cases), given as
    its ``document``: the piece wrapped in ``[...]`` (bytes, or a bytearray a worker
    read the piece into: wrapping 2 MB of bytes again cost 5 % of a worker's time)."""
    if not document.isascii():
        try:
            document.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise NotBulk(f"text that is not UTF-8: {exc}") from exc
    read: list[bytes] | None = None  # the texts as read, where they are not as written
    try:
        texts, media, typed, notes = _piece_media(document, holds)
    except (msgspec.MsgspecError, RecursionError) as exc:
        if not vics_halves.has_lone_half(document):
            raise NotBulk(str(exc)) from exc
        texts, read, media, typed, notes = _with_lone_halves(document, holds)
    if not typed and not set(map(type, media)) <= {_AnyMedium}:
        # The streaming reader skips what is not an object, and does not count it.
        kept = [k for k, medium in enumerate(media) if type(medium) is _AnyMedium]
        media, texts = [media[k] for k in kept], [texts[k] for k in kept]
        read = None if read is None else [read[k] for k in kept]
    if any(map(len, map(_CASE_MEDIA, media))):
        raise NotBulk("a case among the media")
    records = Records.of(cast(list[bytes], texts))
    md5, sha1, category = (list(map(attrgetter(key), media)) for key in ("MD5", "SHA1", "Category"))
    found = Fields(md5, sha1, category, records, set(), cases=notes)
    if read is not None:  # (the reference reading takes those media, read as read)
        found.read = {k: text for k, text in enumerate(read) if text != texts[k]}
        found.odd.update(found.read)
    column = list(map(_ALTERNATIVES, media))
    if column.count(None) < len(column):
        found.alternatives = of_objects(column) if typed else of_values(column)
    if not typed:
        for values in (found.md5, found.sha1, found.category):
            if not _NESTED.isdisjoint(map(type, values)):  # an object or array where a
                for i, held in enumerate(values):  # value belongs: the reference reads it
                    if type(held) in _NESTED:
                        values[i] = None
                        found.odd.add(i)
    return found


class _Alternative(msgspec.Struct, gc=False):
    """One object of an AlternativeHashes array (None: missing or null)."""

    HashName: str | None = None
    HashValue: str | None = None


class _Medium(msgspec.Struct, gc=False):
    """What a medium is read by, as exporters write it (None: missing or null)."""

    MD5: str | None = None
    SHA1: str | None = None
    Category: int | str | None = None
    AlternativeHashes: list[_Alternative] | None = None
    Media: msgspec.Raw = msgspec.Raw(b"")  # (its text, if the key is there at all)


class _AnyMedium(msgspec.Struct, gc=False):
    """What a medium is read by, whatever JSON each field holds."""

    MD5: Any = None
    SHA1: Any = None
    Category: Any = None
    AlternativeHashes: Any = None
    Media: msgspec.Raw = msgspec.Raw(b"")


_MEDIA = msgspec.json.Decoder(list[_Medium])
#: (A value among the media that is not an object is skipped.)
_ANY_MEDIUM = _AnyMedium | bool | int | float | str | list[Any] | None
_ANY_MEDIA = msgspec.json.Decoder(list[_ANY_MEDIUM])


def _case(name: str, media: Any) -> type[msgspec.Struct]:
    """A case: its Media array (null or missing: a case without media, as the streaming
    reader reads an item of neither Media nor MD5 in a file of cases) and ``CASE_KEYS``
    and ``MD5`` as written (empty: missing)."""
    keys = [(key, msgspec.Raw, msgspec.Raw(b"")) for key in (*CASE_KEYS, "MD5")]
    return msgspec.defstruct(name, [("Media", media | None, None), *keys], gc=False)


_CASE_TEXTS = msgspec.json.Decoder(list[_case("_CaseTexts", list[msgspec.Raw])])  # type: ignore[misc]
_CASES = msgspec.json.Decoder(list[_case("_Case", list[_Medium])])  # type: ignore[misc]
_ANY_CASES = msgspec.json.Decoder(list[_case("_AnyCase", list[_ANY_MEDIUM])])  # type: ignore[misc]
#: A Media key that may be spelt with escapes (as msgspec reads keys; without any:
#: ``vics_cases.MEDIA_KEY``).
_ESCAPED_MEDIA_KEY = re.compile(
    rb'"(?:M|\\u004[dD])(?:e|\\u0065)(?:d|\\u0064)(?:i|\\u0069)(?:a|\\u0061)"[ \t\r\n]*:'
)
#: A ``\u`` escape.
_ESCAPE = re.compile(rb"\\u")
_CASE_MEDIA = attrgetter("Media")
_CASE_MD5 = attrgetter("MD5")
_ALTERNATIVES = attrgetter("AlternativeHashes")
#: What an object or an array decoded from JSON is.
_NESTED = frozenset({dict, list})
