"""Quoted CSV read as the ``csv`` module reads it: how a format's rows are decoded and
delimited (``Dialect``), its rows (``Rows``: a row ``csv`` cannot read stops the
import, naming its line), the header row, whether a line's text is a row of its own,
and a stream that gives bytes already read before the rest of a file (for ``csv`` to
read on from where a bulk reader stopped). The bulk reading of the lines between is
``csv_lines``'.
"""

from __future__ import annotations

import codecs
import csv
import io
import itertools
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import BinaryIO

from hashmatch.errors import HashSetFormatError
from hashmatch.hashsets.model import InvalidRecord, ParsedEntry

#: The longest header line the bulk readers read (a file with a longer one is left to csv).
HEADER_BYTES = 1 << 16

#: The longest field ``csv`` reads (its own limit, 131,072 characters, kept: a quote
#: left open would take the rest of a file, gigabytes, into one field). The bulk
#: readers leave a longer line to ``csv``, so that both say the same of it.
FIELD_LIMIT = csv.field_size_limit()

#: The row reader: one CSV row (its line number, its fields) as an entry, an invalid
#: record, or None (a row without a record).
RowReader = Callable[[int, list[str]], ParsedEntry | InvalidRecord | None]


@dataclass(frozen=True)
class Dialect:
    """How the row reader reads the file: its bytes' decoding, and the CSV delimiter."""

    encoding: str
    errors: str = "strict"
    delimiter: str = ","


class Rows:
    """The rows ``csv`` reads of ``lines`` (``line_num``: the line the last one ended
    on, counted from 1 as ``csv`` counts, whatever ``first_line``). A row it cannot
    read (a field longer than ``FIELD_LIMIT``: a quote left open, most likely, whose
    field took in the lines after it) raises ``HashSetFormatError`` naming the line in
    the file it starts on (``first_line``: the file's number of the first of
    ``lines``) and the one it was read to. The import stops there, ``--skip-invalid``
    or not: the rows after it cannot be told apart."""

    def __init__(self, lines: Iterable[str], delimiter: str = ",", first_line: int = 1) -> None:
        self._reader = csv.reader(lines, delimiter=delimiter)
        self._first_line = first_line

    @property
    def line_num(self) -> int:
        return self._reader.line_num

    def __iter__(self) -> Rows:
        return self

    def __next__(self) -> list[str]:
        start = self._reader.line_num + 1  # (the line the row starts on)
        try:
            return next(self._reader)
        except csv.Error as exc:
            end = self._first_line + self._reader.line_num - 1
            if "field limit" in str(exc):
                reason = f"a field longer than {FIELD_LIMIT:,} characters"
                if end > self._first_line + start - 1:
                    reason += f", read to line {end:,} (a quote left open there?)"
            else:
                reason = f"not readable as CSV: {exc}"
            raise HashSetFormatError(reason, line=self._first_line + start - 1) from exc


def header_row(
    stream: BinaryIO, dialect: Dialect, delimiters: str = ","
) -> tuple[list[str], str] | None:
    """The first line as a CSV row and its delimiter (of ``delimiters``, the one it
    holds most of; the first on a tie), the stream left at the next line. None for a
    file the bulk reader leaves to the ``csv`` module: UTF-16, or a first line ``csv``
    does not read as one row (a lone CR, a quoted field running on) or that is longer
    than ``HEADER_BYTES``."""
    head = stream.read(4)
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return None
    stream.seek(len(codecs.BOM_UTF8) if head.startswith(codecs.BOM_UTF8) else 0)
    first = stream.readline(HEADER_BYTES)
    if len(first) == HEADER_BYTES and not first.endswith(b"\n"):
        return None
    line = first[:-1] if first.endswith(b"\n") else first
    line = line[:-1] if line.endswith(b"\r") else line
    if b"\r" in line:
        return None
    text = line.decode(dialect.encoding, dialect.errors)
    delimiter = max(delimiters, key=text.count)
    row = one_row(text, delimiter)
    return None if row is None else (row, delimiter)


def one_row(text: str, delimiter: str) -> list[str] | None:
    """A line's text as ``csv`` reads it, when it is a row of its own; None when a quoted
    field runs on past its end (``csv`` would read the next line into it: tried with a
    sentinel line after it), or that ``csv`` cannot read (``Rows`` says why)."""
    try:
        rows = list(itertools.islice(csv.reader([text, "\x00"], delimiter=delimiter), 2))
    except csv.Error:
        return None
    return rows[0] if len(rows) == 2 else None


class Chained(io.RawIOBase):
    """Bytes already read, then the rest of a stream."""

    def __init__(self, head: bytes, rest: BinaryIO) -> None:
        self._head = memoryview(head)
        self._at = 0  # (a cursor: a line of 100 MB held here, cut at each read, took minutes)
        self._rest = rest

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        if self._at < len(self._head):
            size = min(len(buffer), len(self._head) - self._at)
            buffer[:size] = self._head[self._at : self._at + size]
            self._at += size
            return size
        data = self._rest.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)
