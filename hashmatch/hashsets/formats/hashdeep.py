"""hashdeep audit files: ``%%%% HASHDEEP-1.0``, a column line, ``#`` comments, CSV rows.

The second header line names the columns (``%%%% size,md5,sha256,filename``; any
subset and order). The file name is always the last column and may itself contain
commas, so each row is split at most ``len(columns) - 1`` times. Each entry keeps its
file's size (what a hashdeep export writes back). Columns of algorithms hashmatch does
not compute (tiger, whirlpool, sha3...) are read past and noted in the set's provenance.
"""

from __future__ import annotations

import codecs
import io
from collections.abc import Iterator
from typing import BinaryIO, ClassVar

import numpy as np

from hashmatch.errors import HashSetFormatError
from hashmatch.hashing import get_algorithm
from hashmatch.hashsets.formats.base import SAMPLE_BYTES, Sample, text_encoding
from hashmatch.hashsets.formats.bulklines import Fast, LineFormat, LineStyle, gather_bytes, hex_rows
from hashmatch.hashsets.formats.file_sizes import digit_sizes, size_of
from hashmatch.hashsets.model import InvalidRecord, ParsedEntry
from hashmatch.hashsets.name_decoding import NAME_ERRORS
from hashmatch.hashsets.packed.layout import SIZE_NONE, PackedBlock, PackedColumn

MAGIC = "%%%% HASHDEEP-1.0"
_SUPPORTED = ("md5", "sha1", "sha256")
_COMMA = 44


class Hashdeep(LineFormat):
    name: ClassVar[str] = "hashdeep"
    description: ClassVar[str] = "hashdeep audit file (%%%% HASHDEEP-1.0 header)"
    gives_sizes: ClassVar[bool] = True
    line_style: ClassVar[LineStyle] = LineStyle.OWN

    def __init__(self) -> None:
        super().__init__()
        self._columns_read: list[str] | None = None  # (from line 2)
        self._layout: list[str] | None = None  # (the columns the bulk reader checks by)

    def sniff(self, sample: Sample) -> float:
        return 1.0 if sample.lines and sample.lines[0].strip() == MAGIC else 0.0

    def packs(self) -> bool:
        return True

    def read(self, stream: BinaryIO) -> Iterator[ParsedEntry | InvalidRecord]:
        self._columns_read = None
        yield from super().read(stream)
        self._check_columns()

    def blocks(self, stream: BinaryIO) -> Iterator[PackedBlock | InvalidRecord]:
        """Rows checked and decoded a chunk at a time (``fast_lines``), every other line
        read by ``parse_line`` in its place (a hypothesis test compares both)."""
        self._columns_read = None
        self._layout = _peek_columns(stream)
        yield from super().blocks(stream)
        self._check_columns()

    def _check_columns(self) -> None:
        if self._columns_read is None:
            raise HashSetFormatError("no column line after the HASHDEEP header", line=2)

    def parse_line(self, number: int, line: str) -> ParsedEntry | InvalidRecord | None:
        stripped = line.strip()
        if number == 1:
            if stripped != MAGIC:
                raise HashSetFormatError(f"first line must be {MAGIC!r}", line=1)
            return None
        if number == 2:
            self._columns_read = self._columns(number, stripped)
            return None
        # Comments, as hashdeep skips them (a row starts with a size or a hash).
        if not stripped or stripped.startswith("#"):
            if stripped.startswith("## Invoked from:"):
                self._provenance["invoked_from"] = stripped[len("## Invoked from:") :].strip()
            return None
        assert self._columns_read is not None
        return self._row(number, line, self._columns_read)

    def fast_lines(self, arr: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> Fast | None:
        if self._layout is None or len(starts) == 0:
            return None
        return _FastRows(self._layout, arr, starts, ends)

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
        sizes = []
        for column, field in zip(columns, fields, strict=True):
            if column == "size":
                if not field.strip().isdigit():
                    return InvalidRecord(number, f"size is not a number: {field!r:.40}")
                sizes.append(size_of(field))  # (None: beyond 63 bits, or digits not ASCII)
            if column in _SUPPORTED:
                algorithm = get_algorithm(column)
                if not algorithm.is_valid(field):
                    return InvalidRecord(number, f"not a valid {column} value: {field!r:.80}")
                values.append(algorithm.value(field))
        size = sizes[0] if sizes else None  # (the first size column, as the bulk reader's)
        return ParsedEntry(tuple(values), reference=fields[-1], size=size)


def _peek_columns(stream: BinaryIO) -> list[str] | None:
    """The columns line 2 names, read from the file's head as ``parse_line`` will read
    them (None: no such line there, or not one ``parse_line`` takes; the bulk reader
    then checks no row itself)."""
    head = stream.read(SAMPLE_BYTES)
    stream.seek(0)
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return None  # (read line by line)
    text = io.StringIO(head.decode(text_encoding(head), NAME_ERRORS), newline=None)
    lines = text.readlines()
    if len(lines) < 3 or lines[0].strip() != MAGIC:  # (line 2 whole: a line 3 begins)
        return None
    try:
        return Hashdeep()._columns(2, lines[1].strip())
    except HashSetFormatError:
        return None


class _FastRows:
    """The rows of a chunk with the columns' number of fields (the name, last, takes
    the rest), the size 1 to ``BULK_DIGITS`` ASCII digits and every hash of its
    algorithm's number of hex digits, decoded."""

    def __init__(
        self, columns: list[str], arr: np.ndarray, starts: np.ndarray, ends: np.ndarray
    ) -> None:
        commas = np.flatnonzero(arr == _COMMA)
        first = np.searchsorted(commas, starts)
        width = len(columns)
        ok = np.searchsorted(commas, ends) - first >= width - 1
        if len(commas) == 0:
            commas = np.zeros(1, np.int64)
        self._values: list[tuple[str, np.ndarray]] = []
        self._sizes: np.ndarray | None = None
        for j, column in enumerate(columns[:-1]):
            begin = starts if j == 0 else commas.take(first + j - 1, mode="clip") + 1
            end = commas.take(first + j, mode="clip")
            if column == "size":  # (each one checked, as the row reader does; the first kept)
                decided, sizes = digit_sizes(arr, begin, end)
                ok &= decided & (sizes != SIZE_NONE)
                if self._sizes is None:
                    self._sizes = sizes
            elif column in _SUPPORTED:
                digits = get_algorithm(column).bits // 4
                ok &= end - begin == digits
                rows = np.flatnonzero(ok)
                good, decoded = hex_rows(arr, begin[rows], digits)
                ok[rows[~good]] = False
                values = np.zeros((len(starts), digits // 2), np.uint8)
                values[rows[good]] = decoded
                self._values.append((column, values))
        self._name_starts = commas.take(first + width - 2, mode="clip") + 1
        self._arr, self._ends = arr, ends
        self.ok = ok

    def block(self, low: int, high: int) -> PackedBlock:
        kept = low + np.flatnonzero(self.ok[low:high])
        rows = np.arange(len(kept), dtype=np.int64)
        columns = tuple(PackedColumn(algorithm, values[kept], rows)
                        for algorithm, values in self._values)  # fmt: skip
        starts = self._name_starts[kept]
        data, offsets = gather_bytes(self._arr, starts, self._ends[kept] - starts)
        sizes = self._sizes[kept] if self._sizes is not None else None
        return PackedBlock(len(kept), columns, data, offsets, sizes=sizes)
