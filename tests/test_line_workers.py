"""Chunks of CSV lines read by worker processes (``line_workers``) give what the reading
in this process gives, in order, line numbers included: wherever the chunks are cut,
and when a chunk stops (a quoted field running on), holds a line longer than a chunk,
or kills its worker."""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hashmatch.errors import HashSetFormatError
from hashmatch.hashsets import HashSetStore
from hashmatch.hashsets.formats import csv_lines, line_workers
from hashmatch.hashsets.formats.base import HashSetFormat
from hashmatch.hashsets.formats.generic_csv import GenericCsv
from hashmatch.hashsets.formats.hashkeeper import HASHKEEPER_HEADER, HashKeeper
from hashmatch.hashsets.formats.line_workers import ChunkRead, Item, chunk_lines
from hashmatch.hashsets.model import InvalidRecord

from .test_csv_bulk import documents, unrolled
from .test_nsrl_text_bulk import by_blocks as nsrl_by_blocks
from .test_nsrl_text_bulk import by_rows as nsrl_by_rows
from .test_nsrl_text_bulk import rows as nsrl_rows
from .test_nsrl_text_bulk import write as write_nsrl
from .test_suite_formats_bulk import hashkeeper_files

EXAMPLES = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
CHUNKS = st.sampled_from([16, 64, 300])


@pytest.fixture
def workers(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """Two workers for any file, even on one core."""
    monkeypatch.setattr(line_workers, "worker_count", lambda stream, least: 2)
    return monkeypatch


# A toy format: each line that holds anything an invalid record of its text. Reading it,
# a line STOP hands the rest of the file to the ``rest`` reader; in a worker, a line DIE
# kills the worker (read here, it is text).
def _record(number: int, text: str, prefix: str = "") -> InvalidRecord:
    return InvalidRecord(number, prefix + text)


def _read_chunk(data: bytes, first: int) -> ChunkRead:
    items: list[Item] = []
    at = 0
    for number, line in enumerate(data.split(b"\n")[:-1], first):
        if line == b"DIE":
            os._exit(1)
        if line == b"STOP":
            return ChunkRead(items, (at, number))
        if line:
            items.append(_record(number, line.decode()))
        at += len(line) + 1
    return ChunkRead(items)


def _sequential(stream: BinaryIO, first: int) -> Iterator[Item]:
    prefix = ""
    for number, line in enumerate(stream.read().split(b"\n"), first):
        prefix = "rest:" if line == b"STOP" else prefix
        if line:
            yield _record(number, line.decode(), prefix)


def _rest(stream: BinaryIO, first: int) -> Iterator[Item]:
    for number, line in enumerate(stream.read().split(b"\n"), first):
        if line:
            yield _record(number, line.decode(), "rest:")


WORDS = st.sampled_from(["a", "bb", "ccc" * 7, "d" * 40, "", "DIE", "STOP", "e" * 400])


@EXAMPLES
@given(words=st.lists(WORDS, max_size=60), chunk=CHUNKS, newline_at_end=st.booleans())
def test_chunks_come_back_in_order_whatever_happens_to_them(
    workers: pytest.MonkeyPatch, tmp_path: Path, words: list[str], chunk: int,
    newline_at_end: bool,
) -> None:  # fmt: skip
    workers.setattr(line_workers, "CHUNK_BYTES", chunk)
    data = "\n".join(["first", *words]).encode() + (b"\n" if newline_at_end else b"")
    path = tmp_path / "lines.txt"
    path.write_bytes(data)
    with path.open("rb") as stream:
        read = list(chunk_lines(stream, 1, _read_chunk, _sequential, _rest))
    assert read == list(_sequential(io.BytesIO(data), 1))


def _both(fmt: HashSetFormat, data: bytes, path: Path) -> tuple[list[object], list[object]]:
    """(what ``blocks`` gives with workers, what ``read`` gives) for a file of ``data``."""
    path.write_bytes(data)
    with path.open("rb") as stream:
        bulk = unrolled(fmt.blocks(stream))
    return bulk, unrolled(fmt.read(io.BytesIO(data)))


CSV_FILES = st.one_of(
    hashkeeper_files().map(lambda data: (HashKeeper(), data)),
    documents().map(lambda document: (GenericCsv(), document.encode())),
)


@settings(EXAMPLES, max_examples=80)
@given(fmt_data=CSV_FILES, chunk=CHUNKS)
def test_csv_chunks_in_workers_give_the_row_readers_entries(
    workers: pytest.MonkeyPatch, tmp_path: Path, fmt_data: tuple[HashSetFormat, bytes],
    chunk: int,
) -> None:  # fmt: skip
    """HashKeeper and generic CSV files, the chunks cut anywhere (in the workers and in
    this process's reading after a stop)."""
    workers.setattr(line_workers, "CHUNK_BYTES", chunk)
    workers.setattr(csv_lines, "CHUNK_BYTES", chunk)
    fmt, data = fmt_data
    bulk, rows = _both(fmt, data, tmp_path / "set.txt")
    assert bulk == rows


def test_workers_read_a_file_they_share_and_only_a_plain_file(
    workers: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The chunks are read by other processes (the reader sees their ids); a stream that
    is no file is read here."""
    workers.setattr(line_workers, "CHUNK_BYTES", 64)
    path = tmp_path / "lines.txt"
    path.write_bytes(b"".join(b"line %d\n" % n for n in range(100)))

    def by_whom(data: bytes, first: int) -> ChunkRead:
        return ChunkRead([InvalidRecord(first, str(os.getpid()))])

    def here(stream: BinaryIO, first: int) -> Iterator[Any]:
        yield InvalidRecord(first, "here")

    with path.open("rb") as stream:
        read = list(chunk_lines(stream, 1, by_whom, here, here))
    assert len(read) > 10 and [r.line for r in read] == sorted(r.line for r in read)
    assert {r.reason for r in read} - {str(os.getpid()), "here"}  # (other processes)
    assert str(os.getpid()) not in {r.reason for r in read}
    with io.BytesIO(path.read_bytes()) as stream:
        assert list(chunk_lines(stream, 1, by_whom, here, here)) == [InvalidRecord(1, "here")]


@EXAMPLES
@given(rows=nsrl_rows, blanks=st.sets(st.integers(0, 25), max_size=3), chunk=CHUNKS,
       nist=st.booleans())  # fmt: skip
def test_nsrl_chunks_in_workers_give_the_row_readers_entries(
    workers: pytest.MonkeyPatch, tmp_path: Path, rows: list[list[str]], blanks: set[int],
    chunk: int, nist: bool,
) -> None:  # fmt: skip
    workers.setattr(line_workers, "CHUNK_BYTES", chunk)
    path = write_nsrl(tmp_path / "NSRLFile.txt", rows, tuple(blanks), nist)
    assert nsrl_by_blocks(path) == nsrl_by_rows(path)


def test_an_import_read_by_workers_keeps_what_one_read_here_keeps(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Through the store: the same entries and names, and the same count of invalid rows
    skipped, with workers (small chunks) as in this process; a malformed row stops
    either import at the same line."""
    rows = [HASHKEEPER_HEADER]
    for n in range(400):
        hash_field = "nothex" if n % 97 == 5 else f"{n:032x}"
        rows.append(f'{n},5,"IMG{n}.JPG","C:\\PICS\\{n % 7}","{hash_field}",1,,,"EST",,,')
    path = tmp_path / "set.hsh"
    path.write_bytes(("\r\n".join(rows) + "\r\n").encode())

    def imported(store: HashSetStore) -> tuple[int, list[tuple[str, str | None]]]:
        result = store.import_file(path, skip_invalid=True)
        kept = [(e.values["md5"], e.reference) for e in store.iter_entries(result.info)]
        return result.skipped, kept

    def refused(store: HashSetStore) -> HashSetFormatError:
        with pytest.raises(HashSetFormatError) as error:
            store.import_file(path)
        return error.value

    with HashSetStore(tmp_path / "here") as store, HashSetStore(tmp_path / "here2") as other:
        here, here_error = imported(store), refused(other)
    monkeypatch.setattr(line_workers, "worker_count", lambda stream, least: 2)
    monkeypatch.setattr(line_workers, "CHUNK_BYTES", 512)
    with HashSetStore(tmp_path / "work") as store, HashSetStore(tmp_path / "work2") as other:
        assert imported(store) == here
        workers_error = refused(other)
    assert here[0] == 5 and len(here[1]) == 395
    assert str(workers_error) == str(here_error)
    assert workers_error.line == 7


def test_each_chunk_read_by_a_worker_is_released_once(
    workers: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A chunk's pages are let go once its worker's reading is used: every chunk, in
    order, once (``page_cache.release``)."""
    workers.setattr(line_workers, "CHUNK_BYTES", 64)
    released: list[tuple[int, int]] = []
    workers.setattr(line_workers, "release", lambda _, start, size: released.append((start, size)))
    data = b"".join(b"line %d\n" % n for n in range(100))
    path = tmp_path / "lines.txt"
    path.write_bytes(data)
    with path.open("rb") as stream:
        read = list(chunk_lines(stream, 1, _read_chunk, _sequential, _rest))
    assert read == list(_sequential(io.BytesIO(data), 1))
    assert len(released) > 5
    assert b"".join(data[start : start + size] for start, size in released) == data
