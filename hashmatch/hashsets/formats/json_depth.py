"""Limits on how deeply a JSON text nests and how long its numbers are, checked as it
is read.

ijson keeps the path of every open array and object, each as long as the one before
it: a text nested a hundred thousand levels deep (200 KB) grows that to gigabytes, and
Python's own encoder gives up at about a thousand. No exporter nests VICS more than ten
levels; a text deeper than ``MAX_DEPTH`` is refused as it is read, before the parser
sees it.

A number of more than ``MAX_DIGITS`` digits is refused the same way: ijson's C parser
crashed the whole process (a segmentation fault) on one of more than 4,300.

The text is read a chunk at a time, with numpy: quotes not escaped by a backslash
start and end strings, and brackets outside strings open and close levels. What a chunk
ends inside (a string, a run of backslashes, its depth) carries to the next.
"""

from __future__ import annotations

import io
from typing import BinaryIO, cast

import numpy as np

from hashmatch.errors import HashSetFormatError

#: Levels of arrays and objects a text may nest (Python's json reads about a thousand).
MAX_DEPTH = 512

_QUOTE, _BACKSLASH = ord('"'), ord("\\")
#: Digits a number may have (ijson's C parser crashes the process on an integer of more
#: than 4,300, where Python refuses to convert it; msgspec takes them).
MAX_DIGITS = 1000
_DIGIT = np.zeros(256, dtype=bool)
_DIGIT[ord("0") : ord("9") + 1] = True
_STEP = np.zeros(256, dtype=np.int8)
_STEP[[ord("["), ord("{")]] = 1
_STEP[[ord("]"), ord("}")]] = -1


def depth_limited(stream: BinaryIO, limit: int = MAX_DEPTH) -> BinaryIO:
    """``stream`` read through ``DepthLimited``."""
    return cast(BinaryIO, DepthLimited(stream, limit))


class DepthLimited(io.RawIOBase):
    """``stream`` as it is, read through; raises ``HashSetFormatError`` where its text
    nests deeper than ``limit``. Seeking (to where the text starts) starts over."""

    def __init__(self, stream: BinaryIO, limit: int = MAX_DEPTH) -> None:
        self._stream = stream
        self._limit = limit
        self._depth = 0
        self._in_string = False
        self._backslashes = 0  # the run of them the text read so far ends with
        self._digits = 0  # the run of digits the text read so far ends with

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return self._stream.seekable()

    def tell(self) -> int:
        return self._stream.tell()

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        self._depth, self._in_string, self._backslashes, self._digits = 0, False, 0, 0
        return self._stream.seek(offset, whence)

    def fileno(self) -> int:
        return self._stream.fileno()

    def read(self, size: int | None = -1) -> bytes:
        data = self._stream.read(-1 if size is None else size)
        self._check(data)
        return data

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def _check(self, data: bytes) -> None:
        if not data:
            return
        text = np.frombuffer(data, dtype=np.uint8)
        quotes = np.flatnonzero(text == _QUOTE)
        # (Backslashes are rare: most chunks have none, and every quote is real.)
        real = quotes if not self._backslashes and b"\\" not in data else self._real(text, quotes)
        steps = _STEP[text]
        brackets = np.flatnonzero(steps)
        # A bracket is inside a string when an odd number of real quotes come before it.
        inside = (np.searchsorted(real, brackets) + self._in_string) % 2 == 1
        depths = self._depth + np.cumsum(steps[brackets[~inside]], dtype=np.int64)
        if len(depths) and int(depths.max()) > self._limit:
            raise HashSetFormatError(
                f"JSON nested more than {self._limit} levels deep (no VICS file nests more "
                f"than ten): refused"
            )
        if len(depths):
            self._depth = int(depths[-1])
        self._check_numbers(text, real)
        self._in_string = (len(real) + self._in_string) % 2 == 1
        tail = len(data) - len(data.rstrip(b"\\"))
        self._backslashes = tail + (self._backslashes if tail == len(data) else 0)

    def _check_numbers(self, text: np.ndarray, real: np.ndarray) -> None:
        """Refuse a run of more than ``MAX_DIGITS`` digits outside strings (a number)."""
        digits = _DIGIT[text].view(np.int8)
        edges = np.flatnonzero(np.diff(digits, prepend=np.int8(0), append=np.int8(0)))
        starts, ends = edges[::2], edges[1::2]
        lengths = ends - starts
        if len(lengths) and starts[0] == 0:
            lengths[0] += self._digits  # (a run going on from the chunk before)
        long = starts[lengths > MAX_DIGITS]
        # (a run has no quote in it: whether it is in a string is decided where it starts)
        if len(long) and ((np.searchsorted(real, long) + self._in_string) % 2 == 0).any():
            raise HashSetFormatError(
                f"a number more than {MAX_DIGITS:,} digits long (no VICS field holds one): refused"
            )
        ends_in_run = len(ends) > 0 and int(ends[-1]) == len(text)
        self._digits = int(lengths[-1]) if ends_in_run else 0

    def _real(self, text: np.ndarray, quotes: np.ndarray) -> np.ndarray:
        """The quotes not escaped: those after an even run of backslashes."""
        slashes = np.flatnonzero(text == _BACKSLASH)
        if not len(slashes):
            escaped_first = self._backslashes % 2 == 1 and len(quotes) and quotes[0] == 0
            return quotes[1:] if escaped_first else quotes
        # Where the run of backslashes each one is in starts.
        starts = np.ones(len(slashes), dtype=bool)
        starts[1:] = slashes[1:] != slashes[:-1] + 1
        run_start = slashes[np.maximum.accumulate(np.where(starts, np.arange(len(slashes)), 0))]
        last = np.searchsorted(slashes, quotes) - 1  # the last backslash before each quote
        safe = np.maximum(last, 0)
        after_run = (last >= 0) & (slashes[safe] == quotes - 1)
        run = np.where(after_run, quotes - run_start[safe], 0)
        # A run from the chunk's start (or a quote first in it) goes on from the chunk before.
        run += np.where((after_run & (run_start[safe] == 0)) | (quotes == 0), self._backslashes, 0)
        real: np.ndarray = quotes[run % 2 == 0]
        return real
