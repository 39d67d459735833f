"""Chunks of whole lines read by worker processes side by side, given out in order.

``chunk_lines`` cuts a plain file into chunks of whole lines (about ``CHUNK_BYTES``
each) and has forked workers read them with a format's ``ChunkReader`` while this
process takes the blocks, in file order, and writes the set. The quoted CSV formats
(``csv_lines``: HashKeeper, NSRL RDS 2.x, generic CSV), whose chunks numpy reads at
about 120 MB/s, import 12-23 % faster on two cores; plain hash lists, read at several
times that speed, are bound by the writing in this process and stay in it. Each
worker reads its chunk from the file descriptor it shares with this process; only the
chunk's place and first line number go to it (this process counts the lines), and only
its blocks and invalid records come back.

A chunk reader may stop at a line after which the file must be read as a whole (a
quoted CSV field that runs on past the chunk): the rest of the file from there goes
to ``rest`` in this process. A small file, a stream that is no plain file, a line
longer than a chunk, or a worker that fails (a chunk it cannot read, a worker killed)
sends the file from that chunk on to ``sequential``, the reading in this process,
which raises the same errors at the same lines as it always does.
"""

from __future__ import annotations

import io
import itertools
import os
from collections import deque
from collections.abc import Callable, Generator, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import BinaryIO, TypeVar, cast

import numpy as np

from hashmatch.hashsets.formats.read_ahead import ReadAhead
from hashmatch.hashsets.formats.workers import file_descriptor, start_pool, worker_count
from hashmatch.hashsets.model import InvalidRecord
from hashmatch.hashsets.packed.layout import PackedBlock
from hashmatch.page_cache import release

#: Bytes of a chunk. Each worker holds what it makes of one, and this process what it
#: gets back of up to three: with chunks of 8 MB, a generic CSV whose every other line
#: is invalid took 295-302 MB (the importer's peak plus a worker's, 1 M lines); with
#: 2 MB, 177 MB and no slower (valid NSRL, HashKeeper and CSV files neither).
CHUNK_BYTES = 2 << 20
#: Files smaller than this are read in this process (starting workers costs more).
WORKER_MIN_BYTES = 32 << 20
#: Bytes a zip member's decompression is read ahead at a time: what the reading in this
#: process asks for at once (``csv_lines.CHUNK_BYTES``), measured with it.
READ_AHEAD_BYTES = 8 << 20

NEWLINE = 10

Item = PackedBlock | InvalidRecord
_R = TypeVar("_R")


@dataclass(frozen=True)
class ChunkRead:
    """What a chunk reader made of a chunk of whole lines: its blocks and invalid
    records in order, and where it stopped: None when it read every line, else the
    byte of the chunk and the line number from which ``rest`` must read the file."""

    items: list[Item]
    stop: tuple[int, int] | None = None


#: Reads one chunk of whole lines (each ending in LF), given its first line's number.
ChunkReader = Callable[[bytes, int], ChunkRead]
#: Reads a stream from its position, a line start, to its end: (stream, its line number).
StreamReader = Callable[[BinaryIO, int], Iterator[Item]]

#: The chunk readers of the reads under way, by token: set before the workers are
#: forked, they inherit them (nothing about the format is pickled).
_READERS: dict[int, ChunkReader] = {}
_TOKENS = itertools.count()


def chunk_lines(
    raw: BinaryIO,
    first_line: int,
    read_chunk: ChunkReader,
    sequential: StreamReader,
    rest: StreamReader,
) -> Iterator[Item]:
    """The entries of ``raw`` from its position (a line start, line ``first_line``) to
    its end, in order: read by workers where it pays, else by ``sequential``."""
    file = file_descriptor(raw)
    workers = worker_count(raw, WORKER_MIN_BYTES) if file is not None else 0
    pool = start_pool(workers) if workers >= 2 else None
    if file is None and not isinstance(raw, io.BytesIO):  # (a zip member: decompressed)
        with ReadAhead(raw, READ_AHEAD_BYTES) as ahead:
            yield from sequential(cast(BinaryIO, ahead), first_line)
        return
    if pool is None or file is None:
        yield from sequential(raw, first_line)
        return
    token = next(_TOKENS)
    _READERS[token] = read_chunk  # (before the first task forks the workers)
    try:
        with pool:
            try:
                yield from _in_order(pool, token, raw, file, workers, first_line,
                                     sequential, rest)  # fmt: skip
            finally:
                pool.shutdown(wait=True, cancel_futures=True)
    finally:
        del _READERS[token]


def _in_order(
    pool: ProcessPoolExecutor,
    token: int,
    raw: BinaryIO,
    file: int,
    workers: int,
    line: int,
    sequential: StreamReader,
    rest: StreamReader,
) -> Iterator[Item]:
    """Each chunk read by the pool, in order, a few in flight (memory stays bounded)."""
    flight: deque[tuple[int, int, int, Future[ChunkRead]]] = deque()
    cut_all = False
    next_cut = line
    while True:
        while not cut_all and len(flight) < workers + 1:
            start = raw.tell()
            cut = _cut(raw)
            if cut is None:  # the end, or a line longer than a chunk: not cut
                raw.seek(start)
                cut_all = True
                break
            size, lines = cut
            try:
                task = pool.submit(_read, token, file, start, size, next_cut)
            except BrokenProcessPool:  # (a worker died: the chunks in flight say so)
                raw.seek(start)
                cut_all = True
                break
            flight.append((start, size, next_cut, task))
            next_cut += lines
        if not flight:
            break
        start, size, line, future = flight.popleft()
        try:
            read = future.result()
        except Exception:  # (a worker killed, a chunk it cannot read: read it here)
            read = None
        if read is None:
            raw.seek(start)
            yield from sequential(raw, line)
            return
        yield from read.items
        if read.stop is not None:
            at, line = read.stop
            raw.seek(start + at)
            yield from rest(raw, line)
            return
        release(file, start, size)  # (read once: its pages may go, as in ``bulklines``)
    if raw.read(1):  # (a line longer than a chunk: the rest is read here)
        raw.seek(-1, os.SEEK_CUR)
        yield from sequential(raw, next_cut)


def _cut(raw: BinaryIO) -> tuple[int, int] | None:
    """The size of the next chunk of whole lines from the stream's position and its
    number of lines, the stream left after it; None at the end or before a line longer
    than a chunk. (The last line of a file may end without LF.)"""
    data = raw.read(CHUNK_BYTES)
    if not data:
        return None
    size = data.rfind(b"\n") + 1
    if size == 0:
        if len(data) == CHUNK_BYTES and raw.read(1):
            return None
        return len(data), 1  # (the last line)
    if size < len(data):
        raw.seek(size - len(data), os.SEEK_CUR)
    return size, int(np.count_nonzero(np.frombuffer(data, np.uint8, size) == NEWLINE))


def _read(token: int, file: int, start: int, size: int, first_line: int) -> ChunkRead:
    """In a worker: the chunk of ``size`` bytes of ``file`` from ``start``, read."""
    data = os.pread(file, size, start)
    if len(data) != size:
        raise EOFError("the file is shorter than when it was cut")
    return _READERS[token](data if data.endswith(b"\n") else data + b"\n", first_line)


def drained(items: Generator[Item, None, _R]) -> tuple[list[Item], _R]:
    """A generator's items as a list, and what it returned."""
    given = []
    while True:
        try:
            given.append(next(items))
        except StopIteration as end:
            return given, end.value
