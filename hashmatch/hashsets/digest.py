"""A file's SHA-256, and a hash-set file's computed in a thread while it is imported.

The store keys each set by its file's SHA-256 (re-importing the same file is a no-op).
Hashing a file first, then importing it, reads it twice in turn; hashlib releases the
GIL while it hashes, so a thread can hash the file on a free core while the import
reads it (a tenth to a fifth of an import's time, measured on 2 cores). Being the first
to read the file, the thread also asks the kernel to read it ahead (``page_cache``).
"""

from __future__ import annotations

import hashlib
import threading
from pathlib import Path

from hashmatch.page_cache import Prefetch

#: Bytes read at a time.
_BLOCK = 1 << 20


def file_sha256(path: Path) -> tuple[str, int]:
    """(SHA-256 hex digest, size in bytes) of a file."""
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as stream:
        ahead = Prefetch(stream.fileno())
        while True:
            ahead.reached(size)
            chunk = stream.read(_BLOCK)
            if not chunk:
                break
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


class FileDigest:
    """The SHA-256 of ``path``, computed in a daemon thread from the moment this is made
    (a daemon: a program stopping on an error does not wait for it)."""

    def __init__(self, path: Path) -> None:
        #: The file as it was when its digest began (``file_identity``).
        self.identity = file_identity(path)
        self._done = threading.Event()
        self._sha256 = ""
        self._error: OSError | None = None
        threading.Thread(target=self._run, args=(path,), name="sha256", daemon=True).start()

    def _run(self, path: Path) -> None:
        try:
            self._sha256 = file_sha256(path)[0]
        except OSError as exc:
            self._error = exc
        finally:
            self._done.set()

    def done(self) -> bool:
        return self._done.is_set()

    def sha256(self) -> str:
        """The digest, once computed (this waits); OSError if the file could not be read."""
        self._done.wait()
        if self._error is not None:
            raise self._error
        return self._sha256


def file_identity(path: Path) -> tuple[int, int, int] | None:
    """What tells whether a file changed: its size, modification time and inode."""
    try:
        found = path.stat()
    except OSError:
        return None
    return found.st_size, found.st_mtime_ns, found.st_ino
