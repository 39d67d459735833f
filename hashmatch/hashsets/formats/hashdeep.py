"""hashdeep audit files: ``%%%% HASHDEEP-1.0``, a column line, ``#`` comments, CSV rows.

The second header line names the columns (``%%%% size,md5,sha256,filename``; any
subset and order). The file name is always the last column and may itself contain
commas, so each row is split at most ``len(columns) - 1`` times. Columns of algorithms
hashmatch does not compute (tiger, whirlpool, sha3...) are read past and noted in the
set's provenance.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import BinaryIO, ClassVar

from hashmatch.errors import HashSetFormatError
from hashmatch.hashing import get_algorithm
from hashmatch.hashsets.formats.base import HashSetFormat, Sample, text_lines
from hashmatch.hashsets.model import InvalidRecord, ParsedEntry

MAGIC = "%%%% HASHDEEP-1.0"
_SUPPORTED = ("md5", "sha1", "sha256")


class Hashdeep(HashSetFormat):
    name: ClassVar[str] = "hashdeep"
    description: ClassVar[str] = "hashdeep audit file (%%%% HASHDEEP-1.0 header)"

    def sniff(self, sample: Sample) -> float:
        return 1.0 if sample.lines and sample.lines[0].strip() == MAGIC else 0.0

    def read(self, stream: BinaryIO) -> Iterator[ParsedEntry | InvalidRecord]:
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
            yield self._row(number, raw, columns)
        if columns is None:
            raise HashSetFormatError("no column line after the HASHDEEP header", line=2)

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
