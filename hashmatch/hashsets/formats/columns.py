"""Table-shaped hash sets read a batch of rows at a time (NSRL RDSv3 and RDS 2.x).

``hex_column`` checks and decodes one column of hex texts with numpy (``exact_hex``,
also used by the VICS bulk reader): values of exactly the algorithm's number of digits
as one array, any other non-empty text through the algorithm's own validator (which
strips spaces). ``batch_blocks`` turns a batch into
packed blocks, in row order, split around the rows the format's row reader must
describe (the invalid ones), so that both readers give the same entries, messages and
order.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import cast

import numpy as np

from hashmatch.hashing import get_algorithm
from hashmatch.hashsets.formats.bulklines import all_hex, decode_hex
from hashmatch.hashsets.model import InvalidRecord, ParsedEntry
from hashmatch.hashsets.packed.entries import around_entries, gather
from hashmatch.hashsets.packed.layout import PackedBlock, PackedColumn, PackedLabel


@dataclass(frozen=True)
class HexColumn:
    """One column of a batch: which rows have a value, the values as ``(n, bytes)``
    uint8 (zeros where there is none), and which rows hold text that is not valid."""

    algorithm: str
    present: np.ndarray
    values: np.ndarray
    invalid: np.ndarray

    @property
    def valid(self) -> np.ndarray:
        good: np.ndarray = self.present & ~self.invalid
        return good


@dataclass(frozen=True)
class Labels:
    """Each row's label code (0: none of its own) and what the codes mean."""

    codes: np.ndarray
    table: tuple[PackedLabel, ...]


def exact_hex(texts: Sequence[str], digits: int) -> tuple[np.ndarray, np.ndarray]:
    """Which texts are exactly ``digits`` ASCII hex digits (no spaces), and every text's
    value decoded as ``(n, digits // 2)`` uint8 (zeros where it is not such a text)."""
    n = len(texts)
    every = _every_exact(texts, digits)
    if every is not None:
        return np.ones(n, bool), every
    values = np.zeros((n, digits // 2), np.uint8)
    good = np.zeros(n, bool)
    rows = np.flatnonzero(np.fromiter(map(len, texts), np.int64, count=n) == digits)
    if len(rows) == 0:
        return good, values
    picked = texts if len(rows) == n else [texts[i] for i in rows.tolist()]
    text = "".join(picked)
    # The usual case, all hex: decoded from the text as it is.
    whole = all_hex(text, len(rows) * (digits // 2)) if text.isascii() else None
    if whole is not None:
        values[rows] = np.frombuffer(whole, np.uint8).reshape(len(rows), digits // 2)
        good[rows] = True
        return good, values
    # One byte a character ('?' for any other than ASCII), so rows stay aligned.
    joined = text.encode("ascii", "replace")
    ok, decoded = decode_hex(np.frombuffer(joined, np.uint8).reshape(len(rows), digits))
    values[rows[ok]] = decoded
    good[rows[ok]] = True
    return good, values


def _every_exact(texts: Sequence[str], digits: int) -> np.ndarray | None:
    """Every text decoded as ``(n, digits // 2)`` uint8, if each is exactly ``digits``
    hex digits (None else). The texts are joined with spaces, which bytes.fromhex passes
    over between two digits and nowhere else: if the joined text has the length and
    the spaces (every ``digits + 1``-th character) of n texts of ``digits`` characters,
    and decodes to n values, it holds no other white space, so no text holds any, and
    each text is the ``digits`` hex digits between two of those spaces. (Checked this
    way, not text by text: asking each text's length cost more than the decoding, as
    the texts are scattered in memory.)"""
    n = len(texts)
    if n == 0:
        return None
    joined = " ".join(texts)
    if len(joined) != n * (digits + 1) - 1 or joined[digits :: digits + 1] != " " * (n - 1):
        return None
    whole = all_hex(joined, n * (digits // 2))
    if whole is None:
        return None
    return np.frombuffer(bytearray(whole), np.uint8).reshape(n, digits // 2)


def hex_column(column: Sequence[object], algorithm: str) -> HexColumn:
    checker = get_algorithm(algorithm)
    texts = cast(Sequence[str], column)
    if not set(map(type, column)) <= {str}:  # a missing value, or one stored as a number
        texts = [c if isinstance(c, str) else ("" if c is None else str(c)) for c in column]
    present = np.fromiter(map(bool, texts), bool, count=len(texts))
    good, values = exact_hex(texts, checker.bits // 4)
    invalid = np.zeros(len(texts), bool)
    for i in np.flatnonzero(present & ~good).tolist():  # spaces, other lengths, bad digits
        if checker.is_valid(texts[i]):
            values[i] = np.frombuffer(checker.value(texts[i]).to_bytes(), np.uint8)
        else:
            invalid[i] = True
    return HexColumn(algorithm, present, values, invalid)


def batch_blocks(
    columns: Sequence[HexColumn],
    names: Sequence[object] | None,
    keep: np.ndarray,
    described: Sequence[int],
    describe: Callable[[int], ParsedEntry | InvalidRecord],
    labels: Labels | None = None,
    qualities: np.ndarray | None = None,
    sizes: np.ndarray | None = None,
) -> Iterator[PackedBlock | InvalidRecord]:
    """The ``keep`` rows of a batch as entries, and ``describe(i)`` (the row reader's
    reading) for each row of ``described`` (ascending, none of them kept), entries in
    row order, invalid records ahead (``around_entries``); ``qualities`` and ``sizes``:
    each row's (``QUALITY_NONE``, ``SIZE_NONE``: none). A described row the reader
    takes after all is taken as the reader says."""
    read = {row: describe(row) for row in described}

    def bulk(low: int, high: int) -> PackedBlock:
        return _block(columns, names, keep, low, high, labels, qualities, sizes)

    for item in around_entries(len(keep), read, bulk):
        yield gather([item]) if isinstance(item, ParsedEntry) else item


def references(column: Sequence[object] | None, kept: np.ndarray) -> tuple[bytes, np.ndarray]:
    """The references (file names) of the ``kept`` rows back to back (UTF-8), and their
    offsets."""
    if column is None:
        return b"", np.zeros(len(kept) + 1, np.int64)
    picked = column if len(kept) == len(column) else [column[i] for i in kept.tolist()]
    try:
        text = "".join(cast(Sequence[str], picked))
        if text.isascii():  # the usual case: one length per name, no encoding per name
            lengths = np.fromiter(map(len, cast(Sequence[str], picked)), np.int64, len(picked))
            return text.encode("ascii"), np.concatenate(([0], np.cumsum(lengths)))
    except TypeError:  # a missing name, or one stored as a number
        pass
    encoded = [b"" if c is None else str(c).encode("utf-8", "backslashreplace") for c in picked]
    lengths = np.fromiter(map(len, encoded), np.int64, len(encoded))
    return b"".join(encoded), np.concatenate(([0], np.cumsum(lengths)))


def _block(
    columns: Sequence[HexColumn],
    names: Sequence[object] | None,
    keep: np.ndarray,
    low: int,
    high: int,
    labels: Labels | None,
    qualities: np.ndarray | None = None,
    sizes: np.ndarray | None = None,
) -> PackedBlock:
    """The kept rows among rows ``low`` to ``high - 1``, as consecutive entries."""
    kept = low + np.flatnonzero(keep[low:high])
    rank = np.full(high - low, -1, np.int64)
    rank[kept - low] = np.arange(len(kept))
    packed = []
    for column in columns:
        rows = kept[column.present[kept]]
        packed.append(PackedColumn(column.algorithm, column.values[rows], rank[rows - low]))
    data, offsets = references(names, kept)
    codes = labels.codes[kept] if labels is not None else None
    table = labels.table if labels is not None else ()
    own = qualities[kept] if qualities is not None else None
    own_sizes = sizes[kept] if sizes is not None else None
    return PackedBlock(len(kept), tuple(packed), data, offsets.astype(np.int64), codes, table,
                       qualities=own, sizes=own_sizes)  # fmt: skip
