"""The files of a packed set written an entry at a time, in entry order: references and
records (texts: bytes back to back, and offsets), label codes and qualities (an item an
entry). Each is made when the first entry that has one comes; texts are flushed to disk
in the background as they grow, so that the sync before the set is named has little
left to write.
"""

from __future__ import annotations

import os
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import BinaryIO

import numpy as np

from hashmatch.bufwrite import write_in_pieces
from hashmatch.hashsets.packed.layout import OFFSET_DTYPE

#: Bytes of texts written between two flushes to disk in the background.
FLUSH_BYTES = 32 << 20


class _Flusher:
    """Writes a file's data to disk in a thread while more is appended, so that the
    sync before the catalogue names the set (``load``) has little left to write: the
    records of a large VICS set are most of its bytes, and that sync was an eighth of
    its import. An error is kept and raised by ``wait`` (after a failed sync, Linux may
    mark the pages clean: a later sync would not report it)."""

    def __init__(self) -> None:
        self._thread: ThreadPoolExecutor | None = None
        self._pending: Future[None] | None = None
        self._error: OSError | None = None

    def request(self, fd: int) -> None:
        """Start writing ``fd``'s data out, unless a write is still under way."""
        if self._pending is not None and not self._pending.done():
            return
        self._collect()
        if self._thread is None:
            self._thread = ThreadPoolExecutor(1, thread_name_prefix="hashmatch-flush")
        self._pending = self._thread.submit(os.fdatasync, fd)

    def wait(self) -> None:
        """Wait for the write under way (before its file is closed); raise its error."""
        self._collect()
        if self._thread is not None:
            self._thread.shutdown(wait=True)
            self._thread = None
        if self._error is not None:
            error, self._error = self._error, None
            raise error

    def _collect(self) -> None:
        if self._pending is not None:
            try:
                self._pending.result()
            except OSError as exc:
                self._error = self._error or exc
            self._pending = None


#: Items written at a time when a file is filled with empty ones.
_FILL_ITEMS = 1 << 20


def _fill(stream: BinaryIO, dtype: np.dtype, empty: int, count: int) -> None:
    """Write ``count`` items of ``empty``."""
    for low in range(0, count, _FILL_ITEMS):
        stream.write(np.full(min(_FILL_ITEMS, count - low), empty, dtype).tobytes())


class PerEntry:
    """A file of one item an entry (label codes, qualities), made when the first block
    that has items comes (the entries before it get ``empty``): a set whose entries have
    none gets no file. (Such files used to be written in full for every set and then
    removed: a 100 M-line bare list wrote 200 MB of label codes and 100 MB of
    qualities for nothing.)"""

    def __init__(self, path: Path, dtype: np.dtype, empty: int) -> None:
        self._path = path
        self._dtype = dtype
        self._empty = empty
        self._file: BinaryIO | None = None
        self._entries = 0

    def add(self, entries: int, items: np.ndarray | None) -> None:
        if items is not None and self._file is None:
            self._file = self._path.open("wb")
            _fill(self._file, self._dtype, self._empty, self._entries)
        if self._file is not None:
            if items is None:
                _fill(self._file, self._dtype, self._empty, entries)
            else:
                write_in_pieces(self._file, items.astype(self._dtype))
        self._entries += entries

    def close(self) -> None:
        if self._file is not None:
            self._file.close()


class Texts:
    """One text per entry (references, records): bytes back to back, and offsets; made
    when the first text comes (a set whose entries have none gets no files: a bare
    list of 100 M hashes wrote 800 MB of offsets, then removed them)."""

    def __init__(self, data: Path, offsets: Path) -> None:
        self._paths = data, offsets
        self._data: BinaryIO | None = None
        self._offsets: BinaryIO | None = None
        self._entries = 0
        self.end = 0
        self._flusher = _Flusher()
        self._flushed = 0

    def add(self, entries: int, data: bytes | memoryview, offsets: np.ndarray | None) -> None:
        if self._data is None or self._offsets is None:
            if not data:  # (no text yet: every entry's is empty)
                self._entries += entries
                return
            self._data, self._offsets = self._paths[0].open("wb"), self._paths[1].open("wb")
            _fill(self._offsets, OFFSET_DTYPE, 0, self._entries + 1)
        if offsets is None:  # the block has none: every entry's is empty
            offsets = np.zeros(entries + 1, OFFSET_DTYPE)
        write_in_pieces(self._data, np.frombuffer(data, np.uint8))
        self._offsets.write((offsets[1:].astype(OFFSET_DTYPE) + self.end).tobytes())
        self.end += len(data)
        self._entries += entries
        if self.end - self._flushed >= FLUSH_BYTES:
            self._data.flush()
            self._flusher.request(self._data.fileno())
            self._flushed = self.end

    def close(self) -> None:
        """Close the files (there are none when no entry had a text)."""
        if self._data is None or self._offsets is None:
            return
        try:
            self._flusher.wait()
        finally:
            self._data.close()
            self._offsets.close()
