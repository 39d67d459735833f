"""Reading a stream ahead in a thread, for the line readers of a stream that is no plain
file: a zip member (NSRL RDS 2.x is shipped zipped) is decompressed as it is read, and
zlib and its CRC let go of the GIL, so the next chunk's decompression overlaps the
parsing of the one before (1 M lines: 0.6-0.8 s of decompressing in a 1.8-2.1 s import,
1.3-1.5 s so; 30 MB more memory).

Whatever reading the stream raises (a damaged zip) is raised to the reader where it
would have been; closing the reader stops the thread (the stream itself stays open).
"""

from __future__ import annotations

import io
import queue
import threading
from typing import BinaryIO

#: Chunks read ahead and waiting (and one more being read): two were no faster than one
#: (1 M NSRL lines zipped: 1.2-1.5 s either way) and held 8 MB more.
DEPTH = 1


class ReadAhead(io.RawIOBase):
    """``stream`` read ``chunk`` bytes at a time by a thread, ``DEPTH`` chunks ahead."""

    def __init__(self, stream: BinaryIO, chunk: int) -> None:
        super().__init__()
        self._stream = stream
        self._chunk = chunk
        self._queue: queue.Queue[bytes | BaseException] = queue.Queue(DEPTH)
        self._stop = threading.Event()
        self._held = b""  # the chunk being read, from ``at`` on
        self._at = 0
        self._ended = False
        self._thread = threading.Thread(target=self._fill, name="hashmatch-read-ahead",
                                        daemon=True)  # fmt: skip
        self._thread.start()

    def _fill(self) -> None:
        try:
            while not self._stop.is_set():
                data = self._stream.read(self._chunk)
                self._put(data)
                if not data:
                    return
        except BaseException as exc:  # (handed to the reader, raised there)
            self._put(exc)

    def _put(self, item: bytes | BaseException) -> None:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.1)
                return
            except queue.Full:
                continue

    def readable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> bytes:
        """Up to ``size`` bytes (all that is left if None or negative); empty at the end."""
        parts = []
        wanted = size if size is not None and size >= 0 else None
        while wanted is None or wanted > 0:
            if self._at == len(self._held) and not self._next():
                break
            left = len(self._held) - self._at
            take = left if wanted is None else min(wanted, left)
            whole = take == len(self._held)  # (a chunk read whole: not copied)
            parts.append(self._held if whole else self._held[self._at : self._at + take])
            self._at += take
            if wanted is not None:
                wanted -= take
        return parts[0] if len(parts) == 1 else b"".join(parts)

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def _next(self) -> bool:
        """The next chunk into ``held``; False at the end."""
        if self._ended:
            return False
        item = self._queue.get()
        if isinstance(item, BaseException):
            self._ended = True
            raise item
        self._ended = not item
        self._held, self._at = item, 0
        return bool(item)

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        super().close()
