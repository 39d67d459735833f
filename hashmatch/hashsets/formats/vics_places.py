"""Places in the text of a VICS file that the cutting of its media into pieces looks
for: the root object's head up to ``value``'s array, and the separator between two
media (or cases) followed by the key they start with. Only what text alone can tell:
whether a place really is a medium's end is for msgspec's parse to say
(``vics_chunks``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

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
