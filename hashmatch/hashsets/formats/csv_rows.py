"""Quoted CSV read as the ``csv`` module reads it: how a format's rows are decoded and
delimited (``Dialect``), the header row, whether a line's text is a row of its own,
and a stream that gives bytes already read before the rest of a file (for ``csv`` to
read on from where a bulk reader stopped). The bulk reading of the lines between is
``csv_lines``'.
"""

from __future__ import annotations

import codecs
import csv
import io
import itertools
from collections.abc import Callable
from dataclasses import dataclass
from typing import BinaryIO

from hashmatch.hashsets.model import InvalidRecord, ParsedEntry

#: The longest header line the bulk readers read (a file with a longer one is left to csv).
HEADER_BYTES = 1 << 16

#: The row reader: one CSV row (its line number, its fields) as an entry, an invalid
#: record, or None (a row without a record).
RowReader = Callable[[int, list[str]], ParsedEntry | InvalidRecord | None]


@dataclass(frozen=True)
class Dialect:
    """How the row reader reads the file: its bytes' decoding, and the CSV delimiter."""

    encoding: str
    errors: str = "strict"
    delimiter: str = ","


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
    sentinel line after it)."""
    rows = list(itertools.islice(csv.reader([text, "\x00"], delimiter=delimiter), 2))
    return rows[0] if len(rows) == 2 else None


class Chained(io.RawIOBase):
    """Bytes already read, then the rest of a stream."""

    def __init__(self, head: bytes, rest: BinaryIO) -> None:
        self._head = head
        self._rest = rest

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        if self._head:
            size = min(len(buffer), len(self._head))
            buffer[:size] = self._head[:size]
            self._head = self._head[size:]
            return size
        data = self._rest.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)
