"""A limit on how deeply a JSON text nests, checked as it is read.

ijson keeps the path of every open array and object, each as long as the one before
it: a text nested a hundred thousand levels deep (200 KB) grows that to gigabytes, and
Python's own encoder gives up at about a thousand. No exporter nests VICS more than ten
levels; a text deeper than ``MAX_DEPTH`` is refused as it is read, before the parser
sees it.

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

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return self._stream.seekable()

    def tell(self) -> int:
        return self._stream.tell()

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        self._depth, self._in_string, self._backslashes = 0, False, 0
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
        self._in_string = (len(real) + self._in_string) % 2 == 1
        tail = len(data) - len(data.rstrip(b"\\"))
        self._backslashes = tail + (self._backslashes if tail == len(data) else 0)

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
