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
#: A key's scalar value and the comma before the next key.
_PAIR_END = _WS + rb":" + _WS + _SCALAR + _WS + rb"," + _WS
#: An object's first key and, where its value is a scalar, its second key.
_FIRST_KEYS = re.compile(
    _WS + rb"\{" + _WS + rb"(" + _STRING + rb")(?:" + _PAIR_END + rb"(" + _STRING + rb"))?",
    re.S,
)  # fmt: skip
CUT = re.compile(rb"\}" + _WS + rb"," + _WS + rb"\{")


def first_keys(media: bytes, at: int = 0) -> tuple[bytes, ...] | None:
    """The keys (quoted, as written) the object ``media`` starts with at ``at`` starts
    with: its first, and, where that is an OData annotation with a scalar value
    (``"odata.id": "Media('...')"``), its second.

    An annotation says nothing of what the object is: OData's ``odata.id`` starts a 1.x
    file's cases, media and media's files alike (then ``CaseID``, ``MediaID``,
    ``MediaFileID``...). With it alone, the end of a case was taken for the end of a
    medium, and such files went to the streaming reader (300,000 media in 30 cases:
    28 s). Any other first key is taken alone: the second may be a field an exporter
    leaves out (a missing ``Category``), and a start that matched few media would
    leave a case's end unfound."""
    found = _FIRST_KEYS.match(media, at)
    if found is None:
        return None
    annotation = found[1].startswith((b'"odata.', b'"@odata.'))
    return (found[1], found[2]) if found[2] and annotation else (found[1],)


def separator_before(key: bytes, second: bytes | None = None) -> re.Pattern[bytes]:
    """``}``, ``,`` and ``{`` (white space between) followed by ``key`` (and ``second``
    after ``key``'s scalar value): between two objects that start so, and never inside
    a string (the quotes would be escaped)."""
    then = b"" if second is None else _PAIR_END + re.escape(second)
    return re.compile(CUT.pattern + _WS + re.escape(key) + then, re.S)


SPACE = b" \t\r\n"
SPACE_RUN = re.compile(_WS)
#: How long a separator before a case's first key may be (its white space) to be found.
SEPARATOR_BYTES = 256
#: How long a case's first key and its value may be to find its second key's separator.
FIRST_PAIR_BYTES = 4096


def reach(keys: tuple[bytes, ...]) -> int:
    """How far before its last key a separator before ``keys`` may start, to be found."""
    return SEPARATOR_BYTES + (FIRST_PAIR_BYTES if len(keys) > 1 else 0) + len(keys[-1])


def cuts_back(
    pending: bytes, keys: tuple[bytes, ...], cut: re.Pattern[bytes], low: int, high: int
) -> Iterator[int]:
    """Where each ``cut`` (a separator before ``keys``) from ``low`` to about ``high``
    (``SEPARATOR_BYTES`` past it) starts, last first, looked for back from the
    occurrences of the last key."""
    key, back = keys[-1], reach(keys)
    end = high + back
    while (found := pending.rfind(key, low, end)) >= 0:
        for place in cut.finditer(pending, max(low, found + len(key) - back), found + len(key)):
            if place.end() == found + len(key) and place.start() <= high + SEPARATOR_BYTES:
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
