"""A ``\\u`` escape of half of a UTF-16 surrogate pair without the other half
(``"IMG\\ud83d.jpg"``): what an exporter writes for a Windows file name holding an
unpaired surrogate, which NTFS allows.

JSON's grammar allows such an escape, but it is no Unicode text: msgspec refuses the
text that holds one, the streaming reader's parser (yajl) read a first half as ``?``
and could not read a second half at all (the import stopped). Both readers now read
each such escape as ``\\u003f`` (``?``) put in its place: an escape of the same length,
so every value of the text stays where it was, positions in messages are the file's,
and the records are taken from the text as written (``readable``; the streaming reader
reads the file through ``AsRead``).
"""

from __future__ import annotations

import io
import re
from typing import Any, BinaryIO, cast

#: Half of a pair, after the run of backslashes it ends (an escape only after an odd
#: number: ``\\\\ud800`` is text): a first half and the second that follows it
#: (group 2), or a first or a second half alone.
HALF = re.compile(
    rb"(\\+)u(?:[dD][89abAB][0-9a-fA-F]{2}(\\u[dD][c-fC-F][0-9a-fA-F]{2})?"
    rb"|[dD][c-fC-F][0-9a-fA-F]{2})"
)
#: What a text needs to hold one: looked for first (1 us a 1 KB record with Windows
#: paths, where looking for ``HALF`` tries every backslash: 15 us).
_ANY_HALF = re.compile(rb"\\u[dD][89a-fA-F]")
#: What a half alone is read as: ``?``.
AS_READ = rb"\u003f"


def _alone(found: re.Match[bytes]) -> bool:
    return len(found[1]) % 2 == 1 and found[2] is None


def has_lone_half(text: bytes | bytearray) -> bool:
    """Whether ``text`` holds half of a surrogate pair alone."""
    if _ANY_HALF.search(text) is None:
        return False
    return any(map(_alone, HALF.finditer(text)))


def readable(text: bytes) -> bytes:
    """``text`` with each half of a pair alone read as ``?`` (the same length)."""
    if _ANY_HALF.search(text) is None:
        return text
    return HALF.sub(_as_read, text)


def _as_read(found: re.Match[bytes]) -> bytes:
    return found[1][:-1] + AS_READ if _alone(found) else found[0]


def readable_text(record: str) -> str:
    """A record's text with each half of a pair alone read as ``?``: what Python's JSON
    reader reads in it is then text that can be written out (a lone surrogate cannot)."""
    written = record.encode("utf-8", "surrogatepass")
    read = readable(written)
    return record if read is written else read.decode("utf-8", "surrogatepass")


def as_written(document: bytes, read: bytes, texts: list[bytes]) -> list[bytes]:
    """``texts``, values decoded in order from ``read`` (``readable(document)``), as
    ``document`` has them: in its place, each is the first text equal to it in ``read``
    from the end of the one before. (In an array of media only separators come between
    two, so it is theirs; in a piece of cases, a case's keys before its first medium
    could hold an equal text, which differs from it as written at most in its lone
    halves.)"""
    found = []
    at = 0
    for text in texts:
        start = read.index(text, at)
        found.append(document[start : start + len(text)])
        at = start + len(text)
    return found


#: Bytes read past what is given out: a pair's second half is seen with its first.
_REACH = 32
#: Bytes made readable at a time, at least (more than 24: a chunk ends at most 24
#: bytes before its end, to leave an escape or a pair whole).
_CHUNK = 1 << 16
#: A first half's escape (where a chunk given out may not end: before its second).
_FIRST_HALF = re.compile(rb"\\u[dD][89abAB][0-9a-fA-F]{2}")


def as_read(stream: BinaryIO) -> BinaryIO:
    """``stream`` read through ``AsRead``."""
    return cast(BinaryIO, AsRead(stream))


class AsRead(io.RawIOBase):
    """``stream`` read with each half of a pair alone read as ``?`` (``readable``), a
    chunk at a time: a chunk is read with ``_REACH`` bytes after it, it ends before any
    backslash among its last 18 bytes (no escape, and no pair, is cut in two), and the
    next one starts with one backslash more where the run of backslashes before it is
    odd (the escape after it is one). Seeking starts over."""

    def __init__(self, stream: BinaryIO) -> None:
        self._stream = stream
        self._raw = b""  # read, not made readable yet
        self._ready = b""  # made readable, not given out yet
        self._odd = False  # an odd run of backslashes ends right before ``_raw``
        self._ended = False

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return self._stream.seekable()

    def fileno(self) -> int:
        return self._stream.fileno()

    def tell(self) -> int:
        return self._stream.tell() - len(self._raw) - len(self._ready)

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if whence == io.SEEK_CUR:
            offset, whence = self.tell() + offset, io.SEEK_SET
        position = self._stream.seek(offset, whence)
        self._raw = self._ready = b""
        self._odd = self._ended = False
        return position

    def readinto(self, buffer: Any) -> int:
        if not self._ready:
            self._ready = self._more(max(len(buffer), _CHUNK))
        size = min(len(buffer), len(self._ready))
        buffer[:size] = self._ready[:size]
        self._ready = self._ready[size:]
        return size

    def _more(self, want: int) -> bytes:
        while len(self._raw) < want + _REACH and not self._ended:
            more = self._stream.read(want + _REACH - len(self._raw))
            self._ended = not more
            self._raw += more
        prefix = b"\\" if self._odd else b""
        window = prefix + self._raw
        cut = len(window)
        if not self._ended:
            cut = len(prefix) + want
            backslash = window.find(b"\\", cut - 18, cut)
            if backslash != -1:
                cut = backslash
                if _FIRST_HALF.match(window, cut - 6):  # (its second: not without it)
                    cut -= 6
        self._odd = (cut - len(window[:cut].rstrip(b"\\"))) % 2 == 1  # (the trailing run)
        self._raw = window[cut:]
        return readable(window)[len(prefix) : cut]
