"""hashdeep audit files: ``%%%% HASHDEEP-1.0``, a column line, ``#`` comments, CSV rows.

The second header line names the columns (``%%%% size,md5,sha256,filename``; any
subset and order). The file name is always the last column and may itself contain
commas, so each row is split at most ``len(columns) - 1`` times. Columns of algorithms
hashmatch does not compute (tiger, whirlpool, sha3...) are read past and noted in the
set's provenance.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import BinaryIO, ClassVar

import numpy as np

from hashmatch.errors import HashSetFormatError
from hashmatch.hashing import get_algorithm
from hashmatch.hashsets.formats.base import HashSetFormat, Sample, text_lines
from hashmatch.hashsets.formats.columns import batch_blocks, hex_column
from hashmatch.hashsets.model import InvalidRecord, ParsedEntry
from hashmatch.hashsets.packed.layout import PackedBlock

MAGIC = "%%%% HASHDEEP-1.0"
_SUPPORTED = ("md5", "sha1", "sha256")
#: Rows checked and decoded together.
BATCH_ROWS = 50_000


class Hashdeep(HashSetFormat):
    name: ClassVar[str] = "hashdeep"
    description: ClassVar[str] = "hashdeep audit file (%%%% HASHDEEP-1.0 header)"

    def sniff(self, sample: Sample) -> float:
        return 1.0 if sample.lines and sample.lines[0].strip() == MAGIC else 0.0

    def read(self, stream: BinaryIO) -> Iterator[ParsedEntry | InvalidRecord]:
        columns: list[str] | None = None
        for number, raw, found in self._lines(stream):
            if columns is None:
                columns = found
            yield self._row(number, raw, columns)

    def packs(self) -> bool:
        return True

    def blocks(self, stream: BinaryIO) -> Iterator[PackedBlock | InvalidRecord]:
        """The rows in batches: each hash column checked and decoded by numpy, the rows
        it refuses (and those of the wrong shape) described by ``_row`` in their place,
        as ``read`` describes them (a hypothesis test compares both)."""
        lines = self._lines(stream)
        for batch in iter(lambda: list(itertools.islice(lines, BATCH_ROWS)), []):
            yield from self._batch(batch)

    def _lines(self, stream: BinaryIO) -> Iterator[tuple[int, str, list[str]]]:
        """(number, line as read, columns) of every row, the headers and comments read."""
        columns: list[str] | None = None
        for number, raw in text_lines(stream):
            line = raw.strip()
            if number == 1:
                if line != MAGIC:
                    raise HashSetFormatError(f"first line must be {MAGIC!r}", line=1)
                continue
            if columns is None:
                columns = self._columns(number, line)
                continue
            # Comments, as hashdeep skips them (a row starts with a size or a hash).
            if not line or line.startswith("#"):
                if line.startswith("## Invoked from:"):
                    self._provenance["invoked_from"] = line[len("## Invoked from:") :].strip()
                continue
            yield number, raw, columns
        if columns is None:
            raise HashSetFormatError("no column line after the HASHDEEP header", line=2)

    def _batch(
        self, batch: list[tuple[int, str, list[str]]]
    ) -> Iterator[PackedBlock | InvalidRecord]:
        columns = batch[0][2]
        width = len(columns)
        split = [raw.split(",", width - 1) for _, raw, _ in batch]
        keep = np.fromiter(map(len, split), np.int64, len(split)) == width
        rows = [fields if len(fields) == width else [""] * width for fields in split]
        hashed = []
        for index, column in enumerate(columns):
            texts = [fields[index] for fields in rows]
            if column == "size":
                keep &= np.fromiter((t.strip().isdigit() for t in texts), bool, len(texts))
            elif column in _SUPPORTED:
                found = hex_column(texts, column)
                keep &= found.valid  # (an empty field is no value: the row is invalid)
                hashed.append(found)
        names = [fields[-1] for fields in rows]

        def describe(row: int) -> ParsedEntry | InvalidRecord:
            number, raw, _ = batch[row]
            return self._row(number, raw, columns)

        yield from batch_blocks(hashed, names, keep, np.flatnonzero(~keep).tolist(), describe)

    def _columns(self, number: int, line: str) -> list[str]:
        if not line.startswith("%%%%"):
            raise HashSetFormatError(
                "second line must list the columns (%%%% size,...)", line=number
            )
        columns = [c.strip().lower() for c in line[4:].split(",")]
        if not columns or columns[-1] != "filename":
            raise HashSetFormatError("the last column must be 'filename'", line=number)
        if not any(c in _SUPPORTED for c in columns):
            raise HashSetFormatError("no md5, sha1 or sha256 column", line=number)
        ignored = [c for c in columns if c not in (*_SUPPORTED, "size", "filename")]
        self._provenance["columns"] = ",".join(columns)
        if ignored:
            self._provenance["ignored_columns"] = ",".join(ignored)
        return columns

    def _row(self, number: int, raw: str, columns: list[str]) -> ParsedEntry | InvalidRecord:
        fields = raw.split(",", len(columns) - 1)
        if len(fields) != len(columns):
            return InvalidRecord(number, f"expected {len(columns)} fields, found {len(fields)}")
        values = []
        for column, field in zip(columns, fields, strict=True):
            if column == "size" and not field.strip().isdigit():
                return InvalidRecord(number, f"size is not a number: {field!r:.40}")
            if column in _SUPPORTED:
                algorithm = get_algorithm(column)
                if not algorithm.is_valid(field):
                    return InvalidRecord(number, f"not a valid {column} value: {field!r:.80}")
                values.append(algorithm.value(field))
        return ParsedEntry(tuple(values), reference=fields[-1])
