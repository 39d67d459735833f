"""Who is using a hash-set store, across processes: every open store holds a shared
lock on ``hashsets.lock`` in it, and removing a set needs the lock alone.

A scan reads a set's packed files for as long as it runs (each lookup maps them
again); a set removed meanwhile, or another set given its id, made the scan miss
matches or name the wrong set, silently. SQLite's own locks cover the catalogue, not
those files. Imports add files under new ids and take nothing away, so they need no
more than SQLite gives them.

Advisory ``flock`` locks: where they do not exist (not POSIX, a file system without
locks) or the lock file cannot be made (a store on read-only media, where nothing can
be removed anyway), there is no lock and every operation goes ahead as before.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from hashmatch.errors import StoreError

try:
    import fcntl
except ImportError:  # (Windows)
    fcntl = None  # type: ignore[assignment]

LOCK_FILENAME = "hashsets.lock"


class StoreLock:
    """The shared lock of one open store (held until ``close``)."""

    def __init__(self, directory: Path) -> None:
        self._fd: int | None = None
        if fcntl is None:
            return
        try:
            self._fd = os.open(directory / LOCK_FILENAME, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError:
            return  # (read-only media: nothing will be removed)
        try:  # (waits only while a removal runs: a moment)
            fcntl.flock(self._fd, fcntl.LOCK_SH)
        except OSError:  # a file system without locks (some network shares)
            os.close(self._fd)
            self._fd = None

    def alone(self, doing: str) -> _Alone:
        """A context in which this process alone has the store open (else StoreError)."""
        return _Alone(self._fd, doing)

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # (closing releases the lock)
            self._fd = None


class _Alone:
    def __init__(self, fd: int | None, doing: str) -> None:
        self._fd = fd
        self._doing = doing

    def __enter__(self) -> None:
        if self._fd is None or fcntl is None:
            return
        try:  # (the shared lock this process holds, made exclusive if no other holds one)
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            raise StoreError(
                f"another hashmatch command (a scan?) is using the hash-set store: cannot "
                f"{self._doing} while it runs; try again when it has ended"
            ) from exc

    def __exit__(self, *exc: object) -> None:
        if self._fd is not None and fcntl is not None:
            with contextlib.suppress(OSError):
                fcntl.flock(self._fd, fcntl.LOCK_SH)
