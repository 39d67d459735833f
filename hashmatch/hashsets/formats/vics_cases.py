"""Where a case of a VICS case file starts its media and where it ends, for the bulk
reader (``vics_chunks``): the case's own keys around its ``Media`` array, read as JSON.

Exporters put a case's scalar keys (``CaseNumber``, ``SourceApplicationName``...) and,
as the schema allows, arrays and objects (``CaseMetadata``, ``Identifiers``) around
``Media``.

- The head, from the case's ``{`` to its ``Media`` array's ``[``, is the text before the
  first ``"Media" : [`` that, closed by ``}``, is a JSON object: a ``"Media"`` nested in
  an earlier value leaves that text open; one inside a string would have its quotes
  escaped.
- The end is a ``]`` followed by ``,`` key ``:`` value pairs (each value read by Python's
  JSON decoder), ``}``, then ``,`` and a case that is not a medium, or the ``]`` ending
  ``value`` (then the root's ``}``, or its last keys and ``}``: ``vics_tail``). Only
  the last medium before the next case's ``Media`` key (or the end of
  the file) holds such places; the caller proves each by parsing the media before it.

A ``Media`` key among the keys after the array (a second array) is refused, and a
next case whose keys before ``Media`` hold objects starting with the media's first key
hides its case's end: in both the streaming reader takes the rest of the file.
"""

from __future__ import annotations

import bisect
import json
import re
from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from hashmatch.hashsets.formats import vics_tail
from hashmatch.hashsets.formats.vics_halves import readable, readable_text

_WS = rb"[ \t\r\n]*"
_SPACE = b" \t\r\n"
_MEDIA_OPEN = re.compile(rb'"Media"' + _WS + rb":" + _WS + rb"\[")
_SPACES = " \t\r\n"


_DECODER = json.JSONDecoder(parse_float=Decimal, parse_constant=vics_tail.refuse_constant)


@dataclass(frozen=True)
class CaseEnd:
    """The end of a case's media: its ``Media`` array's ``]`` (``start``), where the
    case's ``,`` or ``]`` that follows it is (``end - 1``), and the keys after Media."""

    start: int
    end: int
    keys: dict[str, Any]


def head(pending: bytes, at: int = 0) -> tuple[dict[str, Any], int] | None:
    """The keys of the case ``pending`` starts with at ``at`` (its ``{``) before its
    ``Media`` array, and where its media start; None if the head is not in ``pending``
    or not one the bulk reader takes."""
    if not pending.startswith(b"{", at):
        return None
    for found in _MEDIA_OPEN.finditer(pending, at):
        keys = pending[at + 1 : found.start()].strip(_SPACE)
        if keys and not keys.endswith(b","):
            continue  # (a "Media" string as a value)
        try:
            fields = _object(keys[:-1] if keys else b"")
        except ValueError:
            continue  # inside an earlier value
        # (An MD5 makes it a medium holding media: the streaming reader's, ``is_case``.)
        return (fields, found.end()) if "Media" not in fields and "MD5" not in fields else None
    return None


def ends(
    pending: bytes,
    since: int,
    ended: bool,
    medium: re.Pattern[bytes] | None,
    keys: Sequence[int] | None = None,
) -> Iterator[CaseEnd]:
    """Places in ``pending`` from ``since`` on that end the current case as far as the
    text after them tells, first first (the caller proves one by parsing the media
    before it). ``medium`` finds a separator followed by a medium's start (None: not
    known yet); ``keys``: where the ``"Media"`` keys from ``since`` on start, if known
    (``MediaKeys``)."""
    # Regions overlap (each reaches back from a "Media" key, their starts in order), and
    # a place may not be decided yet (the text after it not all read). Places are given
    # in order: a place the next region reaches is left to it (it reads further), and
    # an undecided place ends the search. Given region by region, a ']' inside a later
    # key's string came before the case's real end, undecided then; once it failed to
    # parse, the caller looked only beyond it, and the file was streamed.
    # Regions are made as they are needed, one ahead: the case's end is usually in the
    # first, and each one looks back up to ``_LOOK_BACK`` bytes for a medium's start (made
    # all at once for a buffer of small cases, 1,700 of them took half a second).
    if keys is None:
        keys = [key.start() for key in MEDIA_KEY.finditer(pending, since)]
    regions = _regions(pending, since, ended, medium, keys)
    following = next(regions, None)
    given = -1
    while following is not None:
        (low, high), following = following, next(regions, None)
        reach = following[0] if following is not None else high
        place = pending.find(b"]", max(low, given + 1), min(high, reach))
        while place >= 0:
            found = _end_at(pending, place, high, medium, ended)
            if found is _UNDECIDED:
                return
            if isinstance(found, CaseEnd):
                given = place
                yield found
            place = pending.find(b"]", place + 1, min(high, reach))
        given = max(given, min(high, reach) - 1)


def _regions(
    pending: bytes, since: int, ended: bool, medium: re.Pattern[bytes] | None, keys: Sequence[int]
) -> Iterator[tuple[int, int]]:
    """Stretches that may hold the case's end, first first: from the last medium's start
    before each ``"Media"`` key read (the next case's, unless a nested object has one),
    and before the end of the file once it is read. (The word as a value, as in
    ``"Tags": ["Media"]``, starts none: in a case of 300,000 media each holding it, each
    piece looked back from all of them, and 82 MB took two minutes.)"""
    for key in keys:
        yield _region(pending, since, key, medium)
    if ended:
        yield _region(pending, since, len(pending), medium)


def _region(
    pending: bytes, since: int, high: int, medium: re.Pattern[bytes] | None
) -> tuple[int, int]:
    low = max(since, high - _LOOK_BACK)
    if medium is not None:
        low = _last_start(pending, medium, low, high, _LOOK_NEAR)
    return low, high


def _last_start(pending: bytes, medium: re.Pattern[bytes], low: int, high: int, near: int) -> int:
    """Where the last medium from ``low`` to ``high`` starts (``low`` if none does): looked
    for in the last ``near`` bytes first, then in four times as many, and so on. (The
    last found is the last there is: a separator holds one ``}``, its first byte, unless
    its key is as odd as ``"},{"``; and the caller parses what it finds anyway.)"""
    while True:
        start = max(low, high - near)
        last = deque(medium.finditer(pending, start, high), maxlen=1)
        if last or start == low:
            return last[0].start() if last else low
        near *= 4


#: How far before the next case's ``Media`` key its case's end is looked for when no
#: medium starts there (a head and a last medium, each at most the head's 64 KB).
_LOOK_BACK = 4 * 64 * 1024
#: How far back a medium's start is looked for first.
_LOOK_NEAR = 4096
#: A ``Media`` key (not the word as a value).
MEDIA_KEY = re.compile(rb'"Media"' + _WS + rb":")


class MediaKeys:
    """Where the ``"Media"`` keys of the text read ahead start, each found once. (Found
    anew each time a case's end was looked for, once a piece, most of the text was
    searched twice: one search of 184 MB takes 0.13 s, the file's MediaID, MediaFiles
    and MediaSize keys each stopping it.)"""

    def __init__(self) -> None:
        self._found: list[int] = []
        self._until = 0  # keys that start before this are found

    def shift(self, by: int) -> None:
        """The text read ahead lost its first ``by`` bytes."""
        self._found = [key - by for key in self._found if key >= by]
        self._until = max(0, self._until - by)

    def since(self, pending: bytes, since: int) -> list[int]:
        """Where the keys from ``since`` on start (``pending``: the text read ahead, the
        same as before or longer)."""
        found = self._found
        for key in MEDIA_KEY.finditer(pending, self._until):
            found.append(key.start())
            self._until = key.end()
        # A key cut off by the end of the text is found when more is read: its start
        # may be in the last 6 bytes, or all of it but white space and its colon.
        end = len(pending)
        while end > self._until and pending[end - 1] in _SPACE:
            end -= 1
        tail = end - (7 if pending.endswith(b'"Media"', 0, end) else 6)
        self._until = max(self._until, tail)
        return found[bisect.bisect_left(found, since) :]


def _end_at(
    pending: bytes, place: int, high: int, medium: re.Pattern[bytes] | None, ended: bool
) -> CaseEnd | object | None:
    """The case's end at ``place`` (a ``]``), if the keys, ``}`` and ``,`` or ``]``
    that a case's end has follow it; ``_UNDECIDED`` if the text after it is not all read
    (``ended``: it is). They are read up to just past ``high`` (the next case's
    ``Media`` key), and only when that is too short (the keys themselves hold the word
    Media) up to ``_LOOK_BACK`` past it."""
    for stop in (high + 64, high + _LOOK_BACK):
        # (lone halves of surrogate pairs read as "?": ``vics_halves``; the same length)
        text = readable_text(pending[place + 1 : stop].decode("utf-8", "surrogateescape"))
        tail = _tail(text)
        if tail is not _SHORT or stop >= len(pending):
            break
    if tail is _SHORT and stop >= len(pending) and not ended:
        return _UNDECIDED
    if not isinstance(tail, tuple):
        return None
    keys, brace, after = tail
    brace_at = place + 1 + _bytes(text, brace)
    if text[after - 1] == "," and medium is not None and medium.match(pending, brace_at):
        return None  # a medium follows: the end of an array inside the last medium
    return CaseEnd(place, place + 1 + _bytes(text, after), keys)


#: ``_end_at``'s answer when more of the file must be read to tell.
_UNDECIDED = object()
#: ``_tail``'s answer when the text ends before it can tell.
_SHORT = object()


def _tail(text: str) -> tuple[dict[str, Any], int, int] | object | None:
    """What follows a case's ``Media`` array: its keys, where its ``}`` is and where the
    ``,`` or ``]`` after it ends; None if ``text`` does not start so, ``_SHORT`` if it
    ends too soon to tell."""
    at = _skip(text, 0)
    keys: dict[str, Any] = {}
    try:
        while text.startswith(",", at):
            key, at = _DECODER.raw_decode(text, _skip(text, at + 1))
            at = _skip(text, at)
            if not isinstance(key, str) or not text.startswith(":", at):
                return _SHORT if at >= len(text) else None
            keys[key], at = _DECODER.raw_decode(text, _skip(text, at + 1))
            at = _skip(text, at)
    except json.JSONDecodeError as exc:
        return _SHORT if exc.pos >= len(text) - 128 else None
    except ValueError:  # NaN and the like
        return None
    if at >= len(text):
        return _SHORT
    if text[at] != "}" or "Media" in keys or "MD5" in keys:
        return None
    brace = at
    at = _skip(text, at + 1)
    if at >= len(text):
        return _SHORT
    if text[at] not in ",]":
        return None
    if text[at] == "]":  # the end of value: only the root's last keys and "}" may follow
        after = _skip(text, at + 1)
        ends_root = after >= len(text) or (
            text[after] == "}" and _skip(text, after + 1) >= len(text)
        )
        if not ends_root and (text[after] != "," or not _root_keys(text[at + 1 :])):
            return None  # (as the end of an array in the case's last medium does)
    return keys, brace, at + 1


def _root_keys(text: str) -> bool:
    """Whether ``text`` is the root's last keys and its ``}`` (``vics_tail``)."""
    try:
        vics_tail.keys_after(text.encode("utf-8", "surrogateescape"))
    except ValueError:
        return False
    return True


def _bytes(text: str, chars: int) -> int:
    """How many bytes of the file the first ``chars`` characters of ``text`` were."""
    return len(text[:chars].encode("utf-8", "surrogateescape"))


def _skip(text: str, at: int) -> int:
    while at < len(text) and text[at] in _SPACES:
        at += 1
    return at


def _object(keys: bytes) -> dict[str, Any]:
    """``"key": value`` pairs (comma-separated) as the streaming reader reads them
    (fractions as Decimal); ValueError if they are not."""
    text = "{" + readable(keys).decode("utf-8") + "}"
    found, at = _DECODER.raw_decode(text)
    if not isinstance(found, dict) or at != len(text):
        raise ValueError("not one object")
    return found


def value(text: bytes) -> Any:
    """One JSON value (UTF-8, checked) as the streaming reader reads it (fractions as
    Decimal)."""
    return _DECODER.decode(readable(text).decode("utf-8"))
