"""Cutting a flat VICS file's ``value`` array into pieces of whole media.

A piece ends at a ``}`` followed by ``,`` and ``{``. Such a place can also fall inside a
string or a nested array; then the piece, wrapped in ``[...]``, is not valid JSON (a
string left open, brackets that do not balance), simdjson says so, and the place
before it is tried. A piece that parses therefore ends exactly at a medium's end, and
the next one starts at a medium's start.

Exporters write every medium's keys in one order, so a place followed by the key the
first medium starts with is a medium's start: it cannot be inside a string (the key's
quote would be escaped there), and a nested object would have to start with the same
key. Such a place is taken without parsing the piece here (the worker that reads it
parses it anyway; should it not parse, the rest of the file goes to the streaming
reader). Without one, places are tried, last first, by parsing.

Only what the bulk reader is sure of is cut: a UTF-8 file whose root object names the
data model before ``value`` (scalar keys only) and holds nothing after it. Anything else
raises ``NotBulk`` before the piece concerned is given out, as does a piece that
finds no place to cut within ``MAX_MEDIUM_BYTES``.
"""

from __future__ import annotations

import codecs
import json
import re
from collections.abc import Iterator
from typing import BinaryIO

import simdjson

from hashmatch.hashsets.formats.vics_stream import ROOT_KEYS, note_context, starts_with_media

#: Bytes of media in a piece.
CHUNK_BYTES = 2 << 20
#: Bytes at a piece's end searched for places to cut.
CUT_WINDOW = 1 << 20
#: Places that do not parse tried in a piece before the rest is left to the streaming
#: reader (a place found not to parse is not tried again when more is read).
CUT_TRIES = 32
#: A medium this large (no place to cut this far) is left to the streaming reader.
MAX_MEDIUM_BYTES = 64 << 20
#: How much of the file's head may hold the root keys before ``value``.
HEAD_BYTES = 64 * 1024

_WS = rb"[ \t\r\n]*"
_STRING = rb'"(?:[^"\\]|\\.)*"'
_SCALAR = rb"(?:" + _STRING + rb"|-?\d[\d.eE+-]*|true|false|null)"
#: The root object up to ``value``'s ``[``, when only scalar keys come before it.
_HEAD = re.compile(
    _WS + rb"\{" + _WS + rb"((?:" + _STRING + _WS + rb":" + _WS + _SCALAR + _WS + rb"," + _WS
    + rb")*)\"value\"" + _WS + rb":" + _WS + rb"\[",
    re.S,
)  # fmt: skip
_FIRST_KEY = re.compile(_WS + rb"\{" + _WS + rb"(" + _STRING + rb")", re.S)
_CUT = re.compile(rb"\}" + _WS + rb"," + _WS + rb"\{")
_SPACE = b" \t\r\n"


class NotBulk(Exception):
    """The file, from the piece being read on, is for the streaming reader."""


class Pieces:
    """The pieces of one file, in order; ``provenance`` gets the data model."""

    def __init__(self, stream: BinaryIO, provenance: dict[str, str]) -> None:
        self._stream = stream
        self._provenance = provenance
        self._parser = simdjson.Parser()
        self._keyed: re.Pattern[bytes] | None = None
        self._tried_until = 0  # places before this in ``pending`` were found not to parse
        self._failures = 0  # places that did not parse in the piece being cut

    def __iter__(self) -> Iterator[bytes]:
        start = self._stream.tell()
        if not starts_with_media(self._stream):
            raise NotBulk("a case file, or the data model named after the media")
        self._stream.seek(start)
        head = self._stream.read(HEAD_BYTES)
        if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            raise NotBulk("UTF-16")
        start = len(codecs.BOM_UTF8) if head.startswith(codecs.BOM_UTF8) else 0
        found = _HEAD.match(head, start)
        if found is None:
            raise NotBulk("the root object does not start with scalar keys and value")
        self._note_head(found[1])
        pending = head[found.end() :]
        ended = False
        while True:
            if not ended and len(pending) < CHUNK_BYTES:
                more = self._stream.read(CHUNK_BYTES)
                ended = not more
                pending += more
                continue
            if ended:
                last = _last_media(pending)
                if last:
                    yield last
                return
            cut = self._cut(pending)
            if cut is None:
                if len(pending) > MAX_MEDIUM_BYTES:
                    raise NotBulk("no place to cut")
                more = self._stream.read(CHUNK_BYTES)
                ended = not more
                pending += more
                continue
            piece, pending = pending[: cut + 1], pending[pending.index(b"{", cut + 1) :]
            self._tried_until = self._failures = 0
            yield piece

    def _note_head(self, keys: bytes) -> None:
        try:
            root = json.loads(
                b"{" + keys.rstrip(_SPACE).rstrip(b",") + b"}", object_pairs_hook=list
            )
        except ValueError as exc:
            raise NotBulk("root keys") from exc
        for key, value in root:
            if key in ROOT_KEYS and isinstance(value, str):
                note_context(self._provenance, value)
        if "context" not in self._provenance:
            raise NotBulk("no data model named before value")

    def _cut(self, pending: bytes) -> int | None:
        """Where, near the end of ``pending``, the last whole medium ends (its ``}``)."""
        if self._keyed is None:
            first = _FIRST_KEY.match(pending)
            if first is not None:
                self._keyed = re.compile(_CUT.pattern + _WS + re.escape(first[1]))
        low = max(0, len(pending) - CUT_WINDOW)
        if self._keyed is not None:
            keyed = [m.start() for m in self._keyed.finditer(pending, low)]
            if keyed:
                return keyed[-1]
        places = [m.start() for m in _CUT.finditer(pending, max(low, self._tried_until))]
        # A place whose separator was cut off by the end of ``pending`` is found next time.
        self._tried_until = max(places[-1] + 1 if places else 0, len(pending) - 4096)
        for place in reversed(places):
            if self._valid(pending[: place + 1]):
                return place
            self._failures += 1
            if self._failures >= CUT_TRIES:
                raise NotBulk("no place to cut parses")
        return None  # none here (all inside one medium?): read on

    def _valid(self, piece: bytes) -> bool:
        try:
            self._parser.parse(b"[" + piece + b"]")
        except (ValueError, RuntimeError):
            return False
        return True


def _last_media(pending: bytes) -> bytes:
    """The media before the end of ``value`` and of the root object (which must be all
    that is left); empty when there are none."""
    body = pending.rstrip(_SPACE)
    if not body.endswith(b"}"):
        raise NotBulk("the file does not end with the root object")
    body = body[:-1].rstrip(_SPACE)
    if not body.endswith(b"]"):
        raise NotBulk("keys after value")
    return body[:-1].rstrip(_SPACE)  # the parse of the piece checks what it holds
