"""Places in the text of a VICS file that the cutting of its media into pieces looks
for: the root object's head up to ``value``'s array, and the separator between two
media (or cases) followed by the key they start with. Text alone tells where they may
be; whether a place really is a medium's end is for msgspec's parse to say
(``vics_chunks`` gives it), and ``last_parsing`` asks it as seldom as it can.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

_WS = rb"[ \t\r\n]*"
_STRING = rb'"(?:[^"\\]|\\.)*"'
_SCALAR = rb"(?:" + _STRING + rb"|-?\d[\d.eE+-]*|true|false|null)"
#: The root object up to ``value``'s ``[``, when only scalar keys come before it.
HEAD = re.compile(
    _WS + rb"\{" + _WS + rb"((?:" + _STRING + _WS + rb":" + _WS + _SCALAR + _WS + rb"," + _WS
    + rb")*)\"value\"" + _WS + rb":" + _WS + rb"\[",
    re.S,
)  # fmt: skip
_FIRST_KEY = re.compile(_WS + rb"\{" + _WS + rb"(" + _STRING + rb")", re.S)
CUT = re.compile(rb"\}" + _WS + rb"," + _WS + rb"\{")


def first_key(media: bytes, at: int = 0) -> bytes | None:
    """The key (quoted, as written) the medium that ``media`` starts with (from ``at``)
    starts with."""
    found = _FIRST_KEY.match(media, at)
    return found[1] if found else None


def separator_before(key: bytes) -> re.Pattern[bytes]:
    """``}``, ``,`` and ``{`` (white space between) followed by ``key``: between two
    media that start with it, and never inside a string (its quote would be escaped)."""
    return re.compile(CUT.pattern + _WS + re.escape(key))


SPACE = b" \t\r\n"
SPACE_RUN = re.compile(_WS)
#: How long a separator before a case's first key may be (its white space) to be found.
SEPARATOR_BYTES = 256


def cuts_back(
    pending: bytes, key: bytes, cut: re.Pattern[bytes], low: int, high: int
) -> Iterator[int]:
    """Where each ``cut`` (a separator before ``key``) from ``low`` to about ``high``
    starts, last first, looked for back from ``key``'s occurrences."""
    end = high + len(key) + SEPARATOR_BYTES
    while (found := pending.rfind(key, low, end)) >= 0:
        for place in cut.finditer(pending, max(low, found - SEPARATOR_BYTES), found + len(key)):
            if place.end() == found + len(key):
                yield place.start()
        end = found + len(key) - 1


def last_parsing(
    pending: bytes, at: int, places: list[int], valid: Callable[[bytes], bool], tries: int
) -> tuple[int | None, bool]:
    """The last of ``places`` (separators before a medium's first key, ascending) where
    the media from ``at`` end, as parsing them proves, and whether one did not parse.

    At most ``tries`` are parsed, last first. One that does not parse is inside a
    medium, between two objects of an array of it (such a separator, its key's quotes
    unescaped, cannot be inside a string): no medium ends between that array's ``[``
    and it, and the places there are passed over without parsing. (Tried one by one,
    the last medium's MediaFiles objects written with MD5 first cost a parse of the
    whole piece each, and 32 of them sent the file to the streaming reader.)"""
    failed = False
    bound = len(pending)
    parsed = 0
    for place in reversed(places):
        if place >= bound:
            continue
        if parsed == tries:
            break
        parsed += 1
        if valid(pending[at : place + 1]):
            return place, failed
        failed = True
        bound = pending.rfind(b"[", at, place)  # (-1: none, no place before is tried)
    return None, failed
