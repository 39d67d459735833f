"""What one piece of VICS media becomes: its invalid media, then a packed block.

The MD5 and SHA1 columns of a piece are checked and decoded by numpy, categories are
labelled once per distinct value, AlternativeHashes' SHA-256 and PDQ values decoded in
bulk. A medium that is not plain is read by ``Media.entry``, the reference reading, and
put in its place; an invalid one is given ahead of the piece's block, which leaves it
out. One Python's decoder cannot read (an integer of 4,300 digits or more) raises
``NotBulk``: the streaming reader refuses it.
"""

from __future__ import annotations

import json
import operator
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from itertools import repeat
from typing import cast

import numpy as np

from hashmatch.hashsets.formats.columns import exact_hex
from hashmatch.hashsets.formats.vics_fields import Fields, Records
from hashmatch.hashsets.formats.vics_media import Media
from hashmatch.hashsets.formats.vics_piece import NotBulk
from hashmatch.hashsets.model import InvalidRecord, ParsedEntry
from hashmatch.hashsets.packed.layout import (
    LABEL_CODE_DTYPE,
    PackedBlock,
    PackedColumn,
    PackedLabel,
)

#: An invalid medium, numbered within its piece (0-based) until the piece is placed.
Numbered = tuple[int, InvalidRecord]
#: Python's reading of a medium (fractions exact, as ijson gives them).
_DECODER = json.JSONDecoder(parse_float=Decimal)


def interpret(media: Media, chunk: Fields) -> Iterator[PackedBlock | Numbered]:
    n = len(chunk.records)
    md5 = _hex_column(chunk.md5, 32)
    sha1 = _hex_column(chunk.sha1, 40)
    sha1_none = np.fromiter(map(operator.is_, chunk.sha1, repeat(None)), bool, n)
    labels = _Labels()
    codes, odd_category = _categories(media, chunk.category, labels)
    odd = ~md5.good | ~(sha1.good | sha1_none) | odd_category
    odd[list(chunk.odd)] = True
    odd[list(chunk.alternatives.odd)] = True
    extra = _Extra()
    for algorithm, (rows, values) in chunk.alternatives.values.items():
        plain = ~odd[rows]  # an odd medium's values all come from the reference reading
        extra.add(algorithm, rows[plain], values[plain])
    invalid: dict[int, Numbered] = {}
    sha1_present = sha1.good.copy()
    records = chunk.records
    for i in np.flatnonzero(odd).tolist():
        # An odd medium: the reference reading (its record as written).
        text = records[i].decode("utf-8")
        # What the piece's decoder read, to the last field; fractions exact, as ijson
        # gives them (a Category of 0.99999999999999999999 is no 1).
        read = chunk.read.get(i)
        try:
            medium = _DECODER.decode(text if read is None else read.decode("utf-8"))
        except (ValueError, RecursionError) as exc:
            # An integer Python will not convert (4,300 digits or more), nesting its
            # decoder will not follow: the streaming reader refuses such a file, and
            # says why.
            raise NotBulk(f"medium {i + 1} of its piece: {exc}") from exc
        entry = media.entry(i + 1, medium, record=text)
        if isinstance(entry, InvalidRecord):
            invalid[i] = (i, entry)
            continue
        _place(i, entry, md5.values, sha1.values, sha1_present, extra)
        codes[i] = labels.code(PackedLabel(entry.label or "", entry.category))
    columns = _Columns(md5.values, sha1.values, sha1_present, extra.arrays(), codes,
                       labels.table(), records)  # fmt: skip
    # The invalid media ahead of the piece's entries (``packed.entries`` says why): cut
    # around each, a piece with one medium in two invalid was blocks of one entry.
    yield from (invalid[row] for row in sorted(invalid))
    if len(invalid) < n:
        yield columns.without(sorted(invalid))


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
    strings = cast(list[str], texts)
    if not set(map(type, texts)) <= {str}:  # missing or not text: not plain
        strings = [t if type(t) is str else "" for t in texts]
    return _Hex(*exact_hex(strings, digits))


@dataclass(frozen=True)
class _Columns:
    """A piece's values, labels and records, row by row: what its blocks are cut from."""

    md5: np.ndarray
    sha1: np.ndarray
    sha1_present: np.ndarray
    extra: dict[str, tuple[np.ndarray, np.ndarray]]  # algorithm → (rows, values)
    codes: np.ndarray
    table: tuple[PackedLabel, ...]
    records: Records

    def without(self, left_out: list[int]) -> PackedBlock:
        """Every row but ``left_out`` (ascending; the invalid media) as consecutive
        entries."""
        kept = np.ones(len(self.md5), bool)
        kept[left_out] = False
        rows = np.flatnonzero(kept)
        count = len(rows)
        columns = [PackedColumn("md5", self.md5[rows], np.arange(count, dtype=np.int64))]
        with_sha1 = np.flatnonzero(self.sha1_present[rows])
        if len(with_sha1):
            columns.append(PackedColumn("sha1", self.sha1[rows[with_sha1]], with_sha1))
        rank = np.full(len(self.md5), -1, np.int64)
        rank[rows] = np.arange(count)
        for algorithm, (at, values) in self.extra.items():
            new = rank[at]
            taken = new >= 0
            if taken.any():
                columns.append(PackedColumn(algorithm, values[taken], new[taken]))
        data = self.records.kept(kept)
        offsets = np.concatenate(([0], np.cumsum(self.records.lengths()[rows]))).astype(np.int64)
        return PackedBlock(count, tuple(columns), b"", np.zeros(count + 1, np.int64),
                           self.codes[rows], self.table, data, offsets)  # fmt: skip
