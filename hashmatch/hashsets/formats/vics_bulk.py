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

import functools
import json
import multiprocessing
import os
import signal
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, replace
from typing import BinaryIO, cast

import numpy as np
import simdjson

from hashmatch.hashing import get_algorithm
from hashmatch.hashsets.formats.bulklines import HEX_NIBBLE
from hashmatch.hashsets.formats.vics_chunks import CHUNK_BYTES, NotBulk, Pieces
from hashmatch.hashsets.formats.vics_fields import Fields, Records, fields
from hashmatch.hashsets.formats.vics_media import ALTERNATIVE_NAMES, Categorise, Media
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
        pool = _pool(workers) if workers >= 2 else None
        if pool is None:
            results: Iterable[_Piece] = (read_piece(self._categorise, p) for p in pieces)
            yield from self._placed(results)
            return
        with pool:
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


def _pool(workers: int) -> ProcessPoolExecutor | None:
    """Forked workers (they only compute; a fork server's start-up would cost a third of
    the time), or None where processes cannot be made (no semaphores in some sandboxes)."""
    try:
        context = multiprocessing.get_context("fork")
        return ProcessPoolExecutor(workers, mp_context=context, initializer=_quiet)
    except (OSError, ValueError, NotImplementedError):
        return None


def _quiet() -> None:
    """A worker leaves Ctrl-C to the importing process, which stops the pool."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


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
        try:
            done = flight.popleft().result()
        except BrokenProcessPool:  # a worker killed (out of memory?): stream the rest
            done = None
        if done is None:
            raise NotBulk("a worker process stopped")
        yield done
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
    failure = None
    try:
        found = fields(_parser, piece)
    except NotBulk as exc:
        failure = str(exc)
    if failure is not None:  # raised here: no traceback keeps simdjson's proxies alive,
        raise NotBulk(failure)  # which would stop the parser from being used again
    return len(found.records), list(_interpret(Media(categorise), found))


def _interpret(media: Media, chunk: Fields) -> Iterator[PackedBlock | _Numbered]:
    n = len(chunk.records)
    md5 = _hex_column(chunk.md5, 32)
    sha1 = _hex_column(chunk.sha1, 40)
    sha1_none = np.fromiter((t is None for t in chunk.sha1), bool, n)
    labels = _Labels()
    codes, odd_category = _categories(media, chunk.category, labels)
    odd = ~md5.good | ~(sha1.good | sha1_none) | odd_category
    odd[list(chunk.odd | chunk.annotated)] = True
    alternatives, odd_alternatives = _alternatives(chunk.alternatives)
    odd[list(odd_alternatives)] = True
    extra = _Extra()
    for algorithm, (rows, values) in alternatives.items():
        plain = ~odd[rows]  # an odd medium's values all come from the reference reading
        extra.add(algorithm, rows[plain], values[plain])
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
            records.replace(i, entry.record.encode("utf-8"))
    yield from _split(n, md5.values, sha1.values, sha1_present, extra.arrays(), codes,
                      labels.table(), records, invalid)  # fmt: skip


def _alternatives(
    found: dict[int, object],
) -> tuple[dict[str, tuple[np.ndarray, np.ndarray]], set[int]]:
    """The SHA-256 and PDQ values of media's AlternativeHashes, read as the reference
    reading reads them ((rows, values) per algorithm), and the media it must read
    itself (an alternative MD5 or SHA1, a value that is not plain hex, a duplicate)."""
    texts: dict[str, tuple[list[int], list[object]]] = {}
    odd: set[int] = set()
    for row, value in found.items():
        if value is None:
            continue
        if not isinstance(value, list):
            odd.add(row)
            continue
        for alternative in value:
            if not isinstance(alternative, dict):
                continue
            name = alternative.get("HashName", "")
            algorithm = _algorithm_named(name) if type(name) is str else _algorithm_named(str(name))
            text = alternative.get("HashValue")
            if algorithm is None or not isinstance(text, str):
                continue  # PhotoDNA and others: carried in the record
            if algorithm in ("md5", "sha1"):
                odd.add(row)
                break
            rows, values = texts.setdefault(algorithm, ([], []))
            rows.append(row)
            values.append(text)
    arrays = {}
    for algorithm, (rows, values) in texts.items():
        decoded = _hex_column(values, get_algorithm(algorithm).bits // 4)
        where = np.array(rows, np.int64)
        odd.update(where[~decoded.good].tolist())
        # A medium with two values of one algorithm (the same twice: the reference
        # keeps one) is left to the reference reading.
        counted = np.bincount(where)
        odd.update(np.flatnonzero(counted > 1).tolist())
        arrays[algorithm] = where, decoded.values
    return arrays, odd


@functools.lru_cache(maxsize=1024)  # names repeat; a hostile file's cannot fill memory
def _algorithm_named(name: str) -> str | None:
    """The algorithm an AlternativeHashes ``HashName`` names (as the reference reads it)."""
    return ALTERNATIVE_NAMES.get(name.lower().replace("-", "").replace("_", ""))


class _Extra:
    """Values beyond a medium's MD5 and SHA1, per algorithm: (rows, values) arrays."""

    def __init__(self) -> None:
        self._parts: dict[str, list[tuple[np.ndarray, np.ndarray]]] = {}

    def add(self, algorithm: str, rows: np.ndarray, values: np.ndarray) -> None:
        if len(rows):
            self._parts.setdefault(algorithm, []).append((rows, values))

    def add_one(self, algorithm: str, row: int, value: bytes) -> None:
        raw = np.frombuffer(value, np.uint8).reshape(1, -1)
        self.add(algorithm, np.array([row], np.int64), raw)

    def arrays(self) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """Per algorithm, rows ascending (in the order added within a row) and values."""
        out = {}
        for algorithm, parts in self._parts.items():
            rows = np.concatenate([r for r, _ in parts])
            values = np.concatenate([v for _, v in parts])
            order = np.argsort(rows, kind="stable")
            out[algorithm] = rows[order], values[order]
        return out


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
    extra: _Extra,
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
            extra.add_one(value.algorithm, row, value.to_bytes())
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
    extra: dict[str, tuple[np.ndarray, np.ndarray]],
    codes: np.ndarray,
    table: tuple[PackedLabel, ...],
    records: Records,
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
    extra: dict[str, tuple[np.ndarray, np.ndarray]],
    codes: np.ndarray,
    table: tuple[PackedLabel, ...],
    records: Records,
) -> PackedBlock:
    """Rows ``low`` to ``high - 1`` (all valid) as consecutive entries."""
    count = high - low
    columns = [PackedColumn("md5", md5[low:high], np.arange(count, dtype=np.int64))]
    with_sha1 = np.flatnonzero(sha1_present[low:high])
    if len(with_sha1):
        columns.append(PackedColumn("sha1", sha1[low + with_sha1], with_sha1))
    for algorithm, (rows, values) in extra.items():
        first, last = np.searchsorted(rows, [low, high])
        if last > first:
            columns.append(PackedColumn(algorithm, values[first:last], rows[first:last] - low))
    data, offsets = records.block(low, high)
    return PackedBlock(
        count,
        tuple(columns),
        b"",
        np.zeros(count + 1, np.int64),
        codes[low:high],
        table,
        data,
        offsets,
    )
