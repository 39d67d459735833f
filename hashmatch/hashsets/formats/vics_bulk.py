"""Reading a VICS file in bulk: pieces of media decoded by msgspec, hashes checked by
numpy, straight into packed blocks.

The streaming reader (``vics_stream``) builds every medium with ijson and reads it in
Python: about 45,000 media a second. Here pieces of about 2 MB of media (cut by
``vics_chunks``, from a flat hash set or a case file's cases) are each decoded at once
by msgspec, into the few fields the media are read by and each medium's text, after a
check of their UTF-8 (``vics_fields``), and turned into packed blocks
(``vics_blocks``). On a machine with more than one core, two worker processes read the
pieces while this one cuts the file and writes the set; the media's records (their
texts, most of the bytes) come back through memory shared with them
(``shared_slots``), the rest through the pool's pipe. The workers read each piece from
the file themselves, straight into ``[...]`` as it is decoded, and this process reads
only the stretches it cuts the pieces in (``Pieces(skim=True)``).

Media whose fields are not plain (hex with spaces, an odd category, an invalid hash,
an alternative MD5) are read by ``Media.entry``, the reference reading, so both
readers give the same entries, labels, records and messages. Anything the bulk reader
does not take (a case among the media, JSON that does not parse) raises ``NotBulk``
before the piece concerned is given out; the caller reads the rest with the streaming
reader.
"""

from __future__ import annotations

import gc
import os
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, replace
from typing import BinaryIO

from hashmatch.hashsets.formats.shared_slots import Slot, Slots, put, shared_slots
from hashmatch.hashsets.formats.vics_blocks import Numbered, interpret
from hashmatch.hashsets.formats.vics_chunks import CHUNK_BYTES, Pieces
from hashmatch.hashsets.formats.vics_fields import CaseNotes, fields
from hashmatch.hashsets.formats.vics_media import Categorise, Media
from hashmatch.hashsets.formats.vics_piece import Holds, NotBulk, Piece
from hashmatch.hashsets.formats.vics_stream import note_case, note_cases
from hashmatch.hashsets.formats.workers import file_descriptor, start_pool, worker_count
from hashmatch.hashsets.model import InvalidRecord
from hashmatch.hashsets.packed.layout import (
    PackedBlock,
)
from hashmatch.page_cache import release

__all__ = ["BulkReader", "NotBulk"]

#: Files smaller than this are read in this process (starting workers costs more).
WORKER_MIN_BYTES = 4 * CHUNK_BYTES
#: Bytes of records a shared slot holds (a piece's that do not fit come by the pipe).
SLOT_BYTES = 2 * CHUNK_BYTES
#: Pieces given to the pool beyond one a worker. With one, a worker often waited while
#: this process wrote the records of the piece before: with three, media of 1.2 KB took
#: 1.34-1.47 s instead of 1.44-1.49 s, with a SHA-256 and a PDQ 1.13-1.17 s instead of
#: 1.15-1.19 s (alternated, 4 pairs a file), for 4-10 MB more here.
AHEAD = 3


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
    #: Where the blocks' records are: in the blocks (None), or put in the task's slot
    #: back to back, these many bytes of each block's (``record_data`` left empty).
    shared: tuple[int, ...] | None = None


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
        workers = _workers(stream)
        pool = start_pool(workers) if workers >= 2 else None
        # (where the workers read the pieces from the file, the cutting need not)
        file = file_descriptor(stream) if pool is not None else None
        pieces = Pieces(stream, provenance, skim=file is not None)
        if pool is None:
            results = ((p, _read_document(self._categorise, _wrapped(p.text), p.holds, None), None)
                       for p in pieces)  # fmt: skip
            yield from self._placed(results, provenance)
            return
        # (the slots before the first task, which forks the workers)
        with pool, shared_slots(workers + AHEAD + 1, SLOT_BYTES) as slots:
            try:
                read = _in_order(pool, self._categorise, pieces, workers, file, slots)
                yield from self._placed(read, provenance, slots)
            finally:
                pool.shutdown(wait=True, cancel_futures=True)

    def _placed(
        self,
        results: Iterable[tuple[Piece, _Read, Slot | None]],
        provenance: dict[str, str],
        slots: Slots | None = None,
    ) -> Iterator[PackedBlock | InvalidRecord]:
        """Each piece's blocks and invalid media, in order. A block whose records are
        in a shared slot holds views of them, valid until the next item is asked for
        (then the slot is given back)."""
        for piece, read, slot in results:
            for case in piece.notes:
                note_case(provenance, case)
            if read.cases is not None:
                note_cases(provenance, read.cases.count, read.cases.firsts)
            first = self.progress.media + 1
            views: list[memoryview] = []
            items = read.items
            if slots is not None and slot is not None and read.shared is not None:
                views = slots.views(slot, read.shared)
                items = _with_views(items, views)
            for item in items:
                yield _renumbered(item, first) if isinstance(item, tuple) else item
            self.progress.media += read.count
            if slots is not None and slot is not None:
                slots.give_back(slot, views)


def _with_views(
    items: list[PackedBlock | Numbered], views: list[memoryview]
) -> list[PackedBlock | Numbered]:
    """The items, each block with its records' view (in order)."""
    given = iter(views)
    return [replace(item, record_data=next(given)) if isinstance(item, PackedBlock) else item
            for item in items]  # fmt: skip


def _workers(stream: BinaryIO) -> int:
    """Worker processes for this file: none for a small one, or where fork is missing."""
    return worker_count(stream, WORKER_MIN_BYTES)


def _in_order(
    pool: ProcessPoolExecutor,
    categorise: Categorise,
    pieces: Iterable[Piece],
    workers: int,
    file: int | None,
    slots: Slots | None,
) -> Iterator[tuple[Piece, _Read, Slot | None]]:
    """Each piece read by the pool, in order, with a few in flight (memory stays bounded),
    and the slot its records may be in (the caller gives it back once they are used).
    If cutting stops (``NotBulk``), the pieces already cut are given out first.

    A piece that is a stretch of ``file`` (a descriptor the forked workers share) is
    read from it by the worker: sending its text through a pipe cost this process as
    much as reading it."""
    flight: deque[tuple[Piece, Slot | None, Future[_Read]]] = deque()
    stopped: NotBulk | None = None
    source = iter(pieces)
    while True:
        while stopped is None and len(flight) < workers + AHEAD:
            try:
                piece = next(source)
            except StopIteration:
                break
            except NotBulk as exc:
                stopped = exc
                break
            slot = slots.take() if slots is not None else None
            if file is not None and piece.start is not None:
                task = pool.submit(
                    read_stretch, categorise, file, piece.start, piece.size, piece.holds, slot
                )
            else:
                # (a piece the cutting did not read is read from the file, never here)
                assert piece.skipped is None, "a skimmed piece without the file"
                document = _wrapped(piece.text)  # (a view cannot be pickled)
                task = pool.submit(_read_document, categorise, document, piece.holds, slot)
            flight.append((piece, slot, task))
        if not flight:
            break
        piece, slot, future = flight.popleft()
        try:
            done = future.result()
        except BrokenProcessPool:  # a worker killed (out of memory?): stream the rest
            done = None
        if done is None:
            raise NotBulk("a worker process stopped")
        if file is not None and piece.start is not None:
            # (read once: its pages are of no more use, and their memory serves the set's
            # files; left to the kernel, a 3.5 GB set took 10.6-12.4 s, not 8.4-8.7 s)
            release(file, piece.start, piece.size)
        yield piece, done, slot
    if stopped is not None:
        raise stopped


def _renumbered(item: Numbered, first: int) -> InvalidRecord:
    """An invalid medium's record with its number in the file, not in its piece."""
    row, record = item
    prefix = f"medium {row + 1}"
    if record.reason.startswith(prefix):
        # (made anew: ``dataclasses.replace`` took a third of this process's time for a
        # file of which every other medium is invalid)
        return InvalidRecord(record.line, f"medium {first + row}{record.reason[len(prefix) :]}")
    return record


def read_stretch(
    categorise: Categorise, file: int, start: int, size: int, holds: Holds, slot: Slot | None
) -> _Read:
    """What the ``size`` bytes of ``file`` from ``start`` hold (a piece as cut), read
    in ``[...]`` as they are decoded (where ``os.preadv`` is missing, wrapped after)."""
    if not hasattr(os, "preadv"):
        text = os.pread(file, size, start)
        if len(text) != size:
            raise NotBulk("the file is shorter than when it was cut")
        return read_piece(categorise, text, holds, slot)
    document = bytearray(size + 2)
    document[0], document[-1] = ord("["), ord("]")
    with memoryview(document) as whole, whole[1:-1] as stretch:
        if os.preadv(file, [stretch], start) != size:
            raise NotBulk("the file is shorter than when it was cut")
    return _read_document(categorise, document, holds, slot)


def read_piece(
    categorise: Categorise, text: bytes, holds: Holds = Holds.MEDIA, slot: Slot | None = None
) -> _Read:
    """What one piece holds; with a ``slot``, its records put in it where they fit."""
    return _read_document(categorise, _wrapped(text), holds, slot)


def _wrapped(text: bytes | memoryview) -> bytes:
    """A piece's text in ``[...]``, as it is decoded."""
    return b"".join((b"[", text, b"]"))


def _read_document(
    categorise: Categorise, document: bytes | bytearray, holds: Holds, slot: Slot | None
) -> _Read:
    """``read_piece`` of the piece wrapped in ``[...]``.

    Python's cycle collector is paused meanwhile: decoding a piece makes hundreds of
    thousands of objects (a list per medium's AlternativeHashes), none in a cycle, and
    the collections they set off cost 5-10 % of the time."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        found = fields(document, holds)
        read = _Read(len(found.records), list(interpret(Media(categorise), found)), found.cases)
        return read if slot is None else _shared(read, slot)
    finally:
        if enabled:
            gc.enable()


def _shared(read: _Read, slot: Slot) -> _Read:
    """``read`` with its blocks' records put in ``slot``, if they fit."""
    records = [item.record_data for item in read.items if isinstance(item, PackedBlock)]
    if not put(slot, records):
        return read
    items = [replace(item, record_data=b"") if isinstance(item, PackedBlock) else item
             for item in read.items]  # fmt: skip
    return replace(read, items=items, shared=tuple(map(len, records)))
