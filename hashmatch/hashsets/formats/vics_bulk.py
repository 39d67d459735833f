"""Reading a VICS file in bulk: pieces of media decoded by msgspec, hashes checked by
numpy, straight into packed blocks.

The streaming reader (``vics_stream``) builds every medium with ijson and reads it in
Python: about 45,000 media a second. Here pieces of about 2 MB of media (cut by
``vics_chunks``, from a flat hash set or a case file's cases) are each decoded at once
by msgspec, into the few fields the media are read by and each medium's text, after a
check of their UTF-8 (``vics_fields``), and turned into packed blocks
(``vics_blocks``). On a machine with more than one core, two worker processes read the
pieces while this one cuts the file and writes the set.

Media whose fields are not plain (hex with spaces, an odd category, OData annotations,
an invalid hash, an alternative MD5) are read by ``Media.entry``, the reference
reading, so both readers give the same entries, labels, records and messages. Anything
the bulk reader does not take (a case among the media, JSON that does not parse)
raises ``NotBulk`` before the piece concerned is given out; the caller reads the rest
with the streaming reader.
"""

from __future__ import annotations

import ctypes
import gc
import io
import multiprocessing
import os
import signal
import sys
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, replace
from typing import BinaryIO

from hashmatch.hashsets.formats.vics_blocks import Numbered, interpret
from hashmatch.hashsets.formats.vics_chunks import CHUNK_BYTES, Holds, NotBulk, Piece, Pieces
from hashmatch.hashsets.formats.vics_fields import CaseNotes, fields
from hashmatch.hashsets.formats.vics_media import Categorise, Media
from hashmatch.hashsets.formats.vics_stream import note_case, note_cases
from hashmatch.hashsets.model import InvalidRecord
from hashmatch.hashsets.packed.layout import (
    PackedBlock,
)

__all__ = ["BulkReader", "NotBulk"]

#: Files smaller than this are read in this process (starting workers costs more).
WORKER_MIN_BYTES = 4 * CHUNK_BYTES
#: Worker processes at most.
MAX_WORKERS = 2
#: glibc's ``mallopt`` parameters, and what the workers set them to: buffers below 32 MB
#: come from the heap, and the heap keeps up to 128 MB of freed memory.
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3
_WORKER_MALLOC = ((_M_MMAP_THRESHOLD, 32 << 20), (_M_TRIM_THRESHOLD, 128 << 20))


@dataclass
class _Progress:
    media: int = 0  # media given out so far (valid or not), in file order


@dataclass(frozen=True)
class _Read:
    """What a worker read of a piece: how many media, its blocks and invalid media in
    order, and its cases if it holds whole cases."""

    count: int
    items: list[PackedBlock | Numbered]
    cases: CaseNotes | None


class BulkReader:
    """Reads one flat VICS file's media into packed blocks."""

    def __init__(self, categorise: Categorise) -> None:
        self._categorise = categorise
        self.progress = _Progress()

    def blocks(
        self, stream: BinaryIO, provenance: dict[str, str]
    ) -> Iterator[PackedBlock | InvalidRecord]:
        """The file's entries and invalid media, in order. Raises ``NotBulk`` (before
        giving out anything of the piece concerned) where the file is not for it."""
        pieces = Pieces(stream, provenance)
        workers = _workers(stream)
        pool = _pool(workers) if workers >= 2 else None
        if pool is None:
            results: Iterable[tuple[Piece, _Read]] = (
                (p, read_piece(self._categorise, p.text, p.holds)) for p in pieces
            )
            yield from self._placed(results, provenance)
            return
        with pool:
            try:
                read = _in_order(pool, self._categorise, pieces, workers, _file(stream))
                yield from self._placed(read, provenance)
            finally:
                pool.shutdown(wait=True, cancel_futures=True)

    def _placed(
        self, results: Iterable[tuple[Piece, _Read]], provenance: dict[str, str]
    ) -> Iterator[PackedBlock | InvalidRecord]:
        for piece, read in results:
            for case in piece.notes:
                note_case(provenance, case)
            if read.cases is not None:
                note_cases(provenance, read.cases.count, read.cases.firsts)
            first = self.progress.media + 1
            for item in read.items:
                yield _renumbered(item, first) if isinstance(item, tuple) else item
            self.progress.media += read.count


def _workers(stream: BinaryIO) -> int:
    """Worker processes for this file: none for a small one, or where fork is missing."""
    try:
        size = os.fstat(stream.fileno()).st_size
    except (OSError, AttributeError, ValueError):
        return 0
    if size < WORKER_MIN_BYTES or "fork" not in multiprocessing.get_all_start_methods():
        return 0
    return min(MAX_WORKERS, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
               else (os.cpu_count() or 1))  # fmt: skip


def _pool(workers: int) -> ProcessPoolExecutor | None:
    """Forked workers (they only compute; a fork server's start-up would cost a third of
    the time), or None where processes cannot be made (no semaphores in some sandboxes)."""
    try:
        context = multiprocessing.get_context("fork")
        return ProcessPoolExecutor(
            workers, mp_context=context, initializer=_started, initargs=(os.getpid(),)
        )
    except (OSError, ValueError, NotImplementedError):
        return None


def _started(parent: int) -> None:
    """A worker leaves Ctrl-C to the importing process, which stops the pool; dies with
    it (``die_with``); and keeps the memory it frees (``keep_freed_memory``)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    die_with(parent)
    keep_freed_memory()


#: Linux's prctl option that has a signal sent to a process when its parent dies.
_PR_SET_PDEATHSIG = 1


def die_with(parent: int) -> bool:
    """Have the kernel kill this worker when ``parent``, the importing process, dies
    (whether it could: Linux only). Killed with kill -9, the importer left its workers
    running for minutes, holding the hash-set file and the store's files open (a drive
    that could not be unmounted)."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        prctl = ctypes.CDLL(None).prctl
    except (OSError, AttributeError):
        return False
    if prctl(_PR_SET_PDEATHSIG, signal.SIGKILL) != 0:
        return False
    if os.getppid() != parent:  # (it died before the request was made)
        os._exit(1)
    return True


def keep_freed_memory() -> bool:
    """Have glibc keep the large buffers a worker frees for its next piece (whether it
    could: not on other C libraries).

    A worker allocates and frees several buffers of megabytes a piece (the piece, the
    records, the pickled result). glibc gives each back to the system when it is freed
    and the next one is faulted in again, page by page, zeroed: on a 350 MB file of
    media of about 1 KB, 400,000 page faults and a third of the workers' time. With
    the buffers kept, 13,000, and the import is a fifth shorter.
    """
    try:  # (the parameters' numbers are glibc's)
        if not (os.confstr("CS_GNU_LIBC_VERSION") or "").startswith("glibc"):
            return False
        mallopt = ctypes.CDLL(None).mallopt  # (this process's C library)
    except (OSError, ValueError, AttributeError, TypeError):
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    return all(mallopt(parameter, value) == 1 for parameter, value in _WORKER_MALLOC)


def _file(stream: BinaryIO) -> int | None:
    """The descriptor of the file ``stream`` reads as it is (not transcoded), if any."""
    if not isinstance(stream, io.BufferedReader | io.FileIO):
        return None
    try:
        return stream.fileno()
    except (OSError, ValueError):
        return None


def _in_order(
    pool: ProcessPoolExecutor,
    categorise: Categorise,
    pieces: Iterable[Piece],
    workers: int,
    file: int | None,
) -> Iterator[tuple[Piece, _Read]]:
    """Each piece read by the pool, in order, with a few in flight (memory stays bounded).
    If cutting stops (``NotBulk``), the pieces already cut are given out first.

    A piece that is a stretch of ``file`` (a descriptor the forked workers share) is
    read from it by the worker: sending its text through a pipe cost this process as
    much as reading it."""
    flight: deque[tuple[Piece, Future[_Read]]] = deque()
    stopped: NotBulk | None = None
    source = iter(pieces)
    while True:
        while stopped is None and len(flight) < workers + 1:
            try:
                piece = next(source)
            except StopIteration:
                break
            except NotBulk as exc:
                stopped = exc
                break
            if file is not None and piece.start is not None:
                size = len(piece.text)
                task = pool.submit(read_stretch, categorise, file, piece.start, size, piece.holds)
            else:
                task = pool.submit(read_piece, categorise, piece.text, piece.holds)
            flight.append((piece, task))
        if not flight:
            break
        piece, future = flight.popleft()
        try:
            done = future.result()
        except BrokenProcessPool:  # a worker killed (out of memory?): stream the rest
            done = None
        if done is None:
            raise NotBulk("a worker process stopped")
        yield piece, done
    if stopped is not None:
        raise stopped


def _renumbered(item: Numbered, first: int) -> InvalidRecord:
    """An invalid medium's record with its number in the file, not in its piece."""
    row, record = item
    prefix = f"medium {row + 1}"
    if record.reason.startswith(prefix):
        return replace(record, reason=f"medium {first + row}{record.reason[len(prefix) :]}")
    return record


def read_stretch(categorise: Categorise, file: int, start: int, size: int, holds: Holds) -> _Read:
    """What the ``size`` bytes of ``file`` from ``start`` hold (a piece as cut)."""
    text = os.pread(file, size, start)
    if len(text) != size:
        raise NotBulk("the file is shorter than when it was cut")
    return read_piece(categorise, text, holds)


def read_piece(categorise: Categorise, text: bytes, holds: Holds = Holds.MEDIA) -> _Read:
    """What one piece holds.

    Python's cycle collector is paused meanwhile: decoding a piece makes hundreds of
    thousands of objects (a list per medium's AlternativeHashes), none in a cycle, and
    the collections they set off cost 5-10 % of the time."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        found = fields(text, holds)
        return _Read(len(found.records), list(interpret(Media(categorise), found)), found.cases)
    finally:
        if enabled:
            gc.enable()
