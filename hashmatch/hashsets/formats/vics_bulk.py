"""Reading a flat VICS hash set in bulk: pieces of media parsed by simdjson, hashes
checked by numpy, straight into packed blocks.

The streaming reader (``vics_stream``) builds every medium with ijson and reads it in
Python: about 55,000 media a second. Here a piece of some megabytes of the ``value``
array (``vics_chunks`` cuts them) is parsed at once by simdjson, which also checks that
it is valid JSON and UTF-8; each medium gives its MD5, SHA1 and Category and its
minified JSON (its record) in C, and the MD5 and SHA1 columns of the whole piece are
checked and decoded by numpy. On a machine with more than one core, pieces are read
by worker processes while this one cuts the file and writes the set.

Media whose fields are not plain (alternative hashes, hex with spaces, an odd
category, OData annotations, an invalid hash) are read by ``Media.entry``, the reference
reading, so both readers give the same entries, labels, records and messages. Anything
the bulk reader does not take (a case among the media, JSON simdjson refuses) raises
``NotBulk`` before the piece concerned is given out; the caller reads the rest with the
streaming reader.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import re
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, replace
from typing import Any, BinaryIO, cast

import numpy as np
import simdjson

from hashmatch.hashsets.formats.bulklines import HEX_NIBBLE
from hashmatch.hashsets.formats.vics_chunks import CHUNK_BYTES, NotBulk, Pieces
from hashmatch.hashsets.formats.vics_media import Categorise, Media
from hashmatch.hashsets.model import InvalidRecord, ParsedEntry
from hashmatch.hashsets.packed.layout import (
    LABEL_CODE_DTYPE,
    PackedBlock,
    PackedColumn,
    PackedLabel,
)

__all__ = ["BulkReader", "NotBulk"]

#: Files smaller than this are read in this process (starting workers costs more).
WORKER_MIN_BYTES = 4 * CHUNK_BYTES
#: Worker processes at most.
MAX_WORKERS = 2


@dataclass
class _Progress:
    media: int = 0  # media given out so far (valid or not), in file order


#: An invalid medium, numbered within its piece (0-based) until the piece is placed.
_Numbered = tuple[int, InvalidRecord]
_Piece = tuple[int, list["PackedBlock | _Numbered"]]


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
        if workers < 2:
            results: Iterable[_Piece] = (read_piece(self._categorise, p) for p in pieces)
            yield from self._placed(results)
            return
        context = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(workers, mp_context=context) as pool:
            try:
                yield from self._placed(_in_order(pool, self._categorise, pieces, workers))
            finally:
                pool.shutdown(wait=True, cancel_futures=True)

    def _placed(self, results: Iterable[_Piece]) -> Iterator[PackedBlock | InvalidRecord]:
        for count, items in results:
            first = self.progress.media + 1
            for item in items:
                yield _renumbered(item, first) if isinstance(item, tuple) else item
            self.progress.media += count


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


def _in_order(
    pool: ProcessPoolExecutor, categorise: Categorise, pieces: Iterable[bytes], workers: int
) -> Iterator[_Piece]:
    """Each piece read by the pool, in order, with a few in flight (memory stays bounded).
    If cutting stops (``NotBulk``), the pieces already cut are given out first."""
    flight: deque[Future[_Piece]] = deque()
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
            flight.append(pool.submit(read_piece, categorise, piece))
        if not flight:
            break
        yield flight.popleft().result()
    if stopped is not None:
        raise stopped


def _renumbered(item: _Numbered, first: int) -> InvalidRecord:
    """An invalid medium's record with its number in the file, not in its piece."""
    row, record = item
    prefix = f"medium {row + 1}"
    if record.reason.startswith(prefix):
        return replace(record, reason=f"medium {first + row}{record.reason[len(prefix) :]}")
    return record


_parser: simdjson.Parser | None = None  # one per process: its first parse allocates


def read_piece(categorise: Categorise, piece: bytes) -> _Piece:
    """(media read, blocks and invalid media in order) of one piece."""
    global _parser
    if _parser is None:
        _parser = simdjson.Parser()
    try:
        document = _parser.parse(b"[" + piece + b"]")
    except (ValueError, RuntimeError) as exc:
        raise NotBulk(str(exc)) from exc
    failure = None
    try:
        chunk = _fields(document, piece)
    except NotBulk as exc:
        failure = str(exc)
    finally:
        del document  # no proxy may outlive the document: the parser is reused
    if failure is not None:  # raised here, so that no traceback keeps _fields' proxies
        raise NotBulk(failure)
    return len(chunk.records), list(_interpret(Media(categorise), chunk))


def _interpret(media: Media, chunk: _Chunk) -> Iterator[PackedBlock | _Numbered]:
    n = len(chunk.records)
    md5 = _hex_column(chunk.md5, 32)
    sha1 = _hex_column(chunk.sha1, 40)
    sha1_none = np.fromiter((t is None for t in chunk.sha1), bool, n)
    labels = _Labels()
    codes, odd_category = _categories(media, chunk.category, labels)
    odd = ~md5.good | ~(sha1.good | sha1_none) | odd_category
    odd[list(chunk.odd)] = True
    if chunk.annotated:
        odd[[i for i, r in enumerate(chunk.records) if b"odata." in r]] = True
    extra: list[tuple[int, str, bytes]] = []  # (row, algorithm, value) of odd media
    invalid: dict[int, _Numbered] = {}
    sha1_present = sha1.good.copy()
    records = chunk.records
    for i in np.flatnonzero(odd).tolist():
        # An odd medium: the reference reading (its record cleaned if annotated).
        text = records[i].decode("utf-8")
        medium = json.loads(text)  # what simdjson read, to the last field
        entry = media.entry(i + 1, medium, record=None if "odata." in text else text)
        if isinstance(entry, InvalidRecord):
            invalid[i] = (i, entry)
            continue
        _place(i, entry, md5.values, sha1.values, sha1_present, extra)
        codes[i] = labels.code(PackedLabel(entry.label or "", entry.category))
        if entry.record is not None and entry.record != text:
            records[i] = entry.record.encode("utf-8")
    yield from _split(n, md5.values, sha1.values, sha1_present, extra, codes,
                      labels.table(), records, invalid)  # fmt: skip


def _categories(media: Media, raw: list[object], labels: _Labels) -> tuple[np.ndarray, np.ndarray]:
    """Each medium's label code, and which media the reference reading must take (an
    odd ``Category``: a boolean, a number with a fraction, a list...)."""
    n = len(raw)
    codes = np.zeros(n, LABEL_CODE_DTYPE)
    odd = np.zeros(n, bool)
    if set(map(type, raw)) <= _PLAIN_CATEGORY:  # no two of these compare equal
        known = {v: labels.code(PackedLabel(*media.label(v))) for v in set(raw)}
        codes[:] = np.fromiter(map(known.__getitem__, raw), LABEL_CODE_DTYPE, n)
        return codes, odd
    for i, value in enumerate(raw):
        if type(value) in _PLAIN_CATEGORY:
            codes[i] = labels.code(PackedLabel(*media.label(value)))
        else:
            odd[i] = True
    return codes, odd


#: Category value types whose values can share a dict without being confused.
_PLAIN_CATEGORY = frozenset({int, str, type(None)})


@dataclass
class _Chunk:
    """The fields a chunk's media are read by, one item per medium."""

    md5: list[object]
    sha1: list[object]
    category: list[object]
    records: list[bytes]  # each medium's minified JSON
    odd: set[int]  # media the reference reading takes (alternative hashes, nested values)
    annotated: bool = False  # some record may hold "odata." (an OData annotation)


_PROXIES = frozenset({simdjson.Object, simdjson.Array})
_MEDIA_KEY = re.compile(rb'"Media"[ \t\r\n]*:')
_ALTERNATIVE_KEY = re.compile(rb'"AlternativeHashes"[ \t\r\n]*:')


def _fields(document: Any, piece: bytes) -> _Chunk:
    """Each medium's MD5, SHA1 and Category, and its record.

    Keys are looked for in the whole piece first, and in each record only if the piece
    may hold them (a ``\\u`` escape can spell a key the piece does not show as it is).
    """
    escaped = b"\\u" in piece
    if not escaped and _MEDIA_KEY.search(piece):
        raise NotBulk("perhaps a case among the media")
    chunk = _Chunk([], [], [], [], set(), escaped or b"odata." in piece)
    records = chunk.records
    alternatives = escaped or _ALTERNATIVE_KEY.search(piece) is not None
    md5, sha1, category = chunk.md5.append, chunk.sha1.append, chunk.category.append
    # simdjson is slow to say a key is missing: once a medium lacked one (or held null),
    # each record is asked first whether it names the key.
    guard_md5 = guard_sha1 = guard_category = False
    obj = simdjson.Object
    for item in document:
        if type(item) is not obj:
            continue  # the streaming reader skips what is not an object too
        record = cast(bytes, item.mini)  # bytes, whatever pysimdjson's stubs say
        # In minified JSON, '"KEY":' is that key (a quote inside a string is escaped).
        if guard_md5 and b'"MD5":' not in record:
            md5(None)
        else:
            md5(value := item.get("MD5"))
            guard_md5 = guard_md5 or value is None
        if guard_sha1 and b'"SHA1":' not in record:
            sha1(None)
        else:
            sha1(value := item.get("SHA1"))
            guard_sha1 = guard_sha1 or value is None
        if guard_category and b'"Category":' not in record:
            category(None)
        else:
            category(value := item.get("Category"))
            guard_category = guard_category or value is None
        if alternatives and b'"AlternativeHashes":' in record:
            chunk.odd.add(len(records))
        if escaped and b'"Media":' in record:
            raise NotBulk("perhaps a case among the media")
        records.append(record)
    for column in (chunk.md5, chunk.sha1, chunk.category):
        if not _PROXIES.isdisjoint(map(type, column)):  # an object or array where a
            for i, held in enumerate(column):  # value belongs: the reference reads it
                if type(held) in _PROXIES:
                    column[i] = None
                    chunk.odd.add(i)
    return chunk


class _Labels:
    """A chunk's label table, and each label's code in it."""

    def __init__(self) -> None:
        self._codes: dict[PackedLabel, int] = {}

    def code(self, label: PackedLabel) -> int:
        return self._codes.setdefault(label, len(self._codes) + 1)

    def table(self) -> tuple[PackedLabel, ...]:
        return tuple(self._codes)


def _place(
    row: int,
    entry: ParsedEntry,
    md5: np.ndarray,
    sha1: np.ndarray,
    sha1_present: np.ndarray,
    extra: list[tuple[int, str, bytes]],
) -> None:
    """An odd medium's values, as the reference reading gives them."""
    placed = set()
    for value in entry.hashes:
        if value.algorithm == "md5" and "md5" not in placed:
            md5[row] = np.frombuffer(value.to_bytes(), np.uint8)
        elif value.algorithm == "sha1" and "sha1" not in placed:
            sha1[row] = np.frombuffer(value.to_bytes(), np.uint8)
            sha1_present[row] = True
        else:
            extra.append((row, value.algorithm, value.to_bytes()))
        placed.add(value.algorithm)


@dataclass(frozen=True)
class _Hex:
    """A column of hex texts: ``good`` rows hold exactly the digits (ASCII, no spaces),
    decoded into ``values``; every other row is left to the reference reading."""

    good: np.ndarray
    values: np.ndarray


def _hex_column(texts: list[object], digits: int) -> _Hex:
    n = len(texts)
    values = np.zeros((n, digits // 2), np.uint8)
    try:
        joined = "".join(cast(list[str], texts))
        strings = cast(list[str], texts)
    except TypeError:  # some are missing (None) or not text
        strings = [t if type(t) is str else "" for t in texts]
        joined = None
    lengths = np.fromiter(map(len, strings), np.int64, n)
    fit = lengths == digits
    good = np.zeros(n, bool)
    if not fit.any():
        return _Hex(good, values)
    rows = np.flatnonzero(fit)
    if joined is None or len(rows) < n:
        joined = "".join([strings[i] for i in rows.tolist()])
    if joined.isascii():
        try:  # the usual case: every text is hex, decoded at C speed
            decoded = bytes.fromhex(joined)
        except ValueError:
            decoded = b""
        # fromhex passes over spaces between pairs: then fewer bytes come out.
        if len(decoded) == len(rows) * (digits // 2):
            values[rows] = np.frombuffer(decoded, np.uint8).reshape(len(rows), -1)
            good[rows] = True
            return _Hex(good, values)
    raw = np.frombuffer(joined.encode("utf-8", "replace"), np.uint8)
    if len(raw) != len(rows) * digits:  # not all ASCII: leave them all to the reference
        return _Hex(good, values)
    nibbles = HEX_NIBBLE[raw.reshape(len(rows), digits)]
    ok = (nibbles < 16).all(axis=1)
    values[rows[ok]] = (nibbles[ok, 0::2] << 4) | nibbles[ok, 1::2]
    good[rows[ok]] = True
    return _Hex(good, values)


def _split(
    n: int,
    md5: np.ndarray,
    sha1: np.ndarray,
    sha1_present: np.ndarray,
    extra: list[tuple[int, str, bytes]],
    codes: np.ndarray,
    table: tuple[PackedLabel, ...],
    records: list[bytes],
    invalid: dict[int, _Numbered],
) -> Iterator[PackedBlock | _Numbered]:
    """The chunk's entries as blocks, each invalid medium in its place between them."""
    done = 0
    for row in [*sorted(invalid), n]:
        if row > done:
            yield _block(done, row, md5, sha1, sha1_present, extra, codes, table, records)
        if row < n:
            yield invalid[row]
        done = row + 1


def _block(
    low: int,
    high: int,
    md5: np.ndarray,
    sha1: np.ndarray,
    sha1_present: np.ndarray,
    extra: list[tuple[int, str, bytes]],
    codes: np.ndarray,
    table: tuple[PackedLabel, ...],
    records: list[bytes],
) -> PackedBlock:
    """Rows ``low`` to ``high - 1`` (all valid) as consecutive entries."""
    count = high - low
    columns = [PackedColumn("md5", md5[low:high], np.arange(count, dtype=np.int64))]
    with_sha1 = np.flatnonzero(sha1_present[low:high])
    if len(with_sha1):
        columns.append(PackedColumn("sha1", sha1[low + with_sha1], with_sha1))
    grouped: dict[str, tuple[list[int], list[bytes]]] = {}
    for row, algorithm, value in extra:
        if low <= row < high:
            rows, values = grouped.setdefault(algorithm, ([], []))
            rows.append(row - low)
            values.append(value)
    for algorithm, (rows, values) in grouped.items():
        raw = np.frombuffer(b"".join(values), np.uint8).reshape(len(values), -1)
        columns.append(PackedColumn(algorithm, raw, np.array(rows, np.int64)))
    picked = records[low:high]
    lengths = np.fromiter(map(len, picked), np.int64, count)
    offsets = np.concatenate(([0], np.cumsum(lengths))).astype(np.int64)
    return PackedBlock(
        count,
        tuple(columns),
        b"",
        np.zeros(count + 1, np.int64),
        codes[low:high],
        table,
        b"".join(picked),
        offsets,
    )
