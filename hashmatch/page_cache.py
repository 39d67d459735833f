"""Telling the kernel how a file is read in order: ahead of its reader (``Prefetch``), and
what it is done with (``release``). (``formats.read_ahead`` is a thread reading a stream
ahead.)

Linux reads a file read in order ahead by itself, but only a window at a time: a hash
set just written, dropped from the page cache, and read at once took 0.68 s (525 MB/s)
for 352 MB on the 2-core VM, and 0.19 s when the reader asked for the 32 MB ahead of it
with ``posix_fadvise(WILLNEED)`` in steps of 8 MB. Behind it, the pages of a set read
once are of no more use, but stay cached until the kernel reclaims them: a 3.5 GB VICS
set imported in 10.6-12.4 s, 5.9-9.3 s of it the importing process's system time, and
in 8.4-8.7 s (2.4-2.7 s) when each piece's pages were dropped once the workers had read
it (``POSIX_FADV_DONTNEED``), their memory then reused for the set's own files
(measured 2026-12-03; docs/benchmarks-hashsets.md). Where the call is missing (not Linux) or
refused (a pipe), nothing is asked and the file is read as before.
"""

from __future__ import annotations

import contextlib
import os

#: How far ahead of the reader the kernel is asked to have read.
AHEAD_BYTES = 32 << 20
#: Bytes asked for at a time (the kernel reads at most its read-ahead window a call).
STEP_BYTES = 8 << 20


class Prefetch:
    """Keeps the kernel reading ``descriptor`` ``AHEAD_BYTES`` ahead of where its reader
    has got to (``reached``)."""

    def __init__(self, descriptor: int) -> None:
        self._descriptor = descriptor
        self._asked = 0  # bytes from the start asked for
        self._on = hasattr(os, "posix_fadvise")

    def reached(self, position: int) -> None:
        """The reader is at ``position``: ask for what is not yet asked for up to
        ``AHEAD_BYTES`` past it."""
        while self._on and self._asked < position + AHEAD_BYTES:
            try:
                os.posix_fadvise(self._descriptor, self._asked, STEP_BYTES,
                                 os.POSIX_FADV_WILLNEED)  # fmt: skip
            except OSError:  # (not a file the kernel reads ahead: a pipe, a FIFO)
                self._on = False
            self._asked += STEP_BYTES


def release(descriptor: int, start: int, length: int) -> None:
    """Tell the kernel that the ``length`` bytes of ``descriptor`` from ``start`` have
    been read and will not be again: their pages may go (if nobody changed them). (No
    bytes: nothing is asked; to the kernel, a length of 0 means the rest of the file.)"""
    if length > 0 and hasattr(os, "posix_fadvise"):
        with contextlib.suppress(OSError):  # (not a file: a pipe)
            os.posix_fadvise(descriptor, start, length, os.POSIX_FADV_DONTNEED)
