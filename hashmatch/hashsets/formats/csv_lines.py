"""Quoted CSV files read a chunk of lines at a time by numpy, with the CSV module's answers.

``line_blocks`` cuts a file into chunks of whole lines and hands each chunk to a format's
``FastLines``: which lines it takes (``plain``) and the block of the taken lines between
two line numbers. Every other line that holds anything is read by the ``csv`` module on
its own, in its place, and given to the format's row reader. A line with an odd number
of quotes (a field spanning lines), or with an even number that leaves it inside a
quoted field (``a"b,"c``), is read by ``csv`` with the lines that field runs on to, and
the lines after them in bulk again, as ``csv`` starts a row there too; a field running
past the chunk, or a carriage return that ends no line, hands the rest of the file to
the ``csv`` module. Entries, messages and line numbers are the ``csv`` reader's whatever
the file holds. On a large plain file the chunks are read by worker processes
(``line_workers``), each as it would be read here.

``plain_fields`` finds the fields of lines that have a given number of them and in
which every quote opens or closes a field (``"a","b,c",1``): a doubled quote, a quote
inside an unquoted field or a space before an opening quote leaves a line to ``csv``.
What is read as ``csv`` reads it (the dialect, the header row, whether a line is a row
of its own) is ``csv_rows``'.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Generator, Iterator, Sequence
from dataclasses import dataclass
from typing import BinaryIO, cast

import numpy as np

from hashmatch.hashsets.formats.csv_rows import (
    FIELD_LIMIT,
    Chained,
    Dialect,
    RowReader,
    Rows,
    one_row,
)
from hashmatch.hashsets.formats.line_workers import ChunkRead, chunk_lines, drained
from hashmatch.hashsets.model import InvalidRecord
from hashmatch.hashsets.packed.entries import around_entries, merged_blocks
from hashmatch.hashsets.packed.layout import PackedBlock

CHUNK_BYTES = 8 << 20
QUOTE, NEWLINE, RETURN = 34, 10, 13


@dataclass(frozen=True)
class Lines:
    """A chunk of whole lines: its bytes, where each line starts and ends (without its
    CR LF), where its quotes are and how many each line holds (an even number)."""

    data: bytes
    arr: np.ndarray
    starts: np.ndarray
    ends: np.ndarray
    quotes: np.ndarray
    quote_counts: np.ndarray


@dataclass(frozen=True)
class Taken:
    """What a format takes of a chunk: which lines, and the block of those among lines
    ``low`` to ``high - 1`` (None: there are none)."""

    plain: np.ndarray
    block: Callable[[int, int], PackedBlock | None]


FastLines = Callable[[Lines], Taken]
#: A format's batch reader of CSV rows ((line number, fields) of rows that hold
#: anything), for chunks most of whose lines the fast check does not take.
RowBatches = Callable[[Iterator[tuple[int, list[str]]]], Iterator[PackedBlock | InvalidRecord]]
#: Beyond this share of lines not taken, a chunk goes to the format's ``RowBatches``.
SLOW_SHARE = 0.125


def line_blocks(
    raw: BinaryIO,
    first_line: int,
    fast: FastLines,
    read_row: RowReader,
    dialect: Dialect,
    batches: RowBatches | None = None,
) -> Iterator[PackedBlock | InvalidRecord]:
    """The entries of the rest of ``raw`` (its next line is ``first_line``), in order;
    ``batches``: how the format reads a chunk most of whose lines ``fast`` does not take
    (None: each of those lines by ``read_row``). Chunks are read by worker processes
    where it pays (``line_workers``)."""

    def read_chunk(data: bytes, line: int) -> ChunkRead:
        items, (stop, at) = drained(_whole(data, line, fast, read_row, dialect, batches))
        return ChunkRead(items, None if at is None else (at, line + stop))

    def sequential(stream: BinaryIO, line: int) -> Iterator[PackedBlock | InvalidRecord]:
        return _sequential(stream, line, fast, read_row, dialect, batches)

    def rest(stream: BinaryIO, line: int) -> Iterator[PackedBlock | InvalidRecord]:
        return _csv_rest(cast(BinaryIO, Chained(b"", stream)), line, read_row, dialect)

    return chunk_lines(raw, first_line, read_chunk, sequential, rest)


def _sequential(
    raw: BinaryIO,
    first_line: int,
    fast: FastLines,
    read_row: RowReader,
    dialect: Dialect,
    batches: RowBatches | None,
) -> Iterator[PackedBlock | InvalidRecord]:
    """``line_blocks`` in this process: a chunk after another."""
    pending = b""
    line = first_line
    while True:
        chunk = raw.read(CHUNK_BYTES)
        data = pending + chunk
        if not chunk:
            if data:
                yield from _chunk(data + b"\n", line, raw, fast, read_row, dialect, batches,
                                  added_lf=True)  # fmt: skip
            return
        end = data.rfind(b"\n") + 1
        if end == 0:
            pending = data
            continue
        pending = data[end:]
        done = yield from _chunk(data[:end], line, raw, fast, read_row, dialect, batches, pending)
        if done is None:
            return  # the rest went to the CSV reader
        line = done


def _chunk(
    data: bytes,
    first_line: int,
    raw: BinaryIO,
    fast: FastLines,
    read_row: RowReader,
    dialect: Dialect,
    batches: RowBatches | None,
    pending: bytes = b"",
    added_lf: bool = False,
) -> Generator[PackedBlock | InvalidRecord, None, int | None]:
    """A chunk of whole lines; returns the next line's number, or None when a field
    running past it or a lone CR sent it and the rest of the file to ``csv``.
    ``added_lf``: the file's last line ended without one (``csv`` reads it as it is: a
    quote left open there would hold the LF added)."""
    stop, at = yield from _whole(data, first_line, fast, read_row, dialect, batches)
    if at is not None:
        rest = cast(BinaryIO, Chained((data[at:-1] if added_lf else data[at:]) + pending, raw))
        yield from _csv_rest(rest, first_line + stop, read_row, dialect)
        return None
    return first_line + stop


def _whole(
    data: bytes,
    first_line: int,
    fast: FastLines,
    read_row: RowReader,
    dialect: Dialect,
    batches: RowBatches | None,
) -> Generator[PackedBlock | InvalidRecord, None, tuple[int, int | None]]:
    """The entries of a chunk of whole lines, a stretch between two lines that leave the
    CSV reader in a quoted field at a time; each such line is read by ``csv`` with the
    lines its field runs on to (``_run_on``). Returns how many lines were read and the
    byte at which the first line not read starts (None: every line was read): a field
    running past the chunk, or a lone CR (after which ``csv`` reads the rest of the
    file as a whole)."""
    arr = np.frombuffer(data, np.uint8)
    ends = np.flatnonzero(arr == NEWLINE)
    starts = np.concatenate(([0], ends[:-1] + 1))
    crlf = (ends > starts) & (arr[np.maximum(ends - 1, 0)] == RETURN)
    ends = ends - crlf
    quotes = np.flatnonzero(arr == QUOTE)
    counts = np.searchsorted(quotes, ends) - np.searchsorted(quotes, starts)
    below = np.concatenate(([0], np.cumsum(counts)))  # the quotes before each line
    odd = np.flatnonzero(counts % 2)
    n = len(starts)
    # A carriage return that ends no line here ends one (or sits in a quoted field) for
    # the CSV reader: from such a line on, it reads the rest.
    lone = n
    if int(np.count_nonzero(arr == RETURN)) != int(np.count_nonzero(crlf)):
        returns = np.flatnonzero(arr == RETURN)
        found = np.flatnonzero(np.searchsorted(returns, ends) > np.searchsorted(returns, starts))
        lone = int(found[0]) if len(found) else n
    begin = 0
    while True:
        after = int(np.searchsorted(odd, begin))
        stop = min(int(odd[after]) if after < len(odd) else n, lone)
        if stop > begin:
            lines = _stretch(data, arr, starts, ends, quotes, counts, below, begin, stop)
            taken = fast(lines)
            count = _first_open(lines, taken.plain, dialect)
            if count and batches is not None and _mostly_others(lines, count, taken):
                yield from batches(_rows(lines, count, first_line + begin, dialect))
            else:
                yield from _place(lines, count, first_line + begin, taken, read_row, dialect)
            stop = begin + count
        if stop == n:
            return n, None
        took = None if stop == lone else (
            yield from _run_on(data, starts, stop, first_line + stop, read_row, dialect)
        )  # fmt: skip
        if took is None:
            return stop, int(starts[stop])
        begin = stop + took


def _stretch(
    data: bytes,
    arr: np.ndarray,
    starts: np.ndarray,
    ends: np.ndarray,
    quotes: np.ndarray,
    counts: np.ndarray,
    below: np.ndarray,
    begin: int,
    stop: int,
) -> Lines:
    """Lines ``begin`` to ``stop - 1`` of a chunk as lines of their own (positions from
    the first's start: a format's check looks at all of ``arr``, and each stretch of a
    chunk with many fields running on looking at the whole chunk made it quadratic)."""
    low = int(starts[begin])
    high = int(starts[stop]) if stop < len(starts) else len(data)
    text = data if (low, high) == (0, len(data)) else data[low:high]
    return Lines(text, arr[low:high], starts[begin:stop] - low, ends[begin:stop] - low,
                 quotes[below[begin] : below[stop]] - low, counts[begin:stop])  # fmt: skip


class _PastTheChunk(Exception):
    """A field runs on past the chunk's lines, or over a lone CR."""


def _run_on(
    data: bytes, starts: np.ndarray, row: int, line: int, read_row: RowReader, dialect: Dialect
) -> Generator[PackedBlock | InvalidRecord, None, int | None]:
    """Line ``row`` of the chunk (file line ``line``), which leaves the CSV reader in a
    quoted field, read by ``csv`` with the lines that field runs on to; returns how many
    lines that took, or None (nothing given) where they are not all in the chunk or one
    holds a lone CR. (Handing the rest of the file to ``csv`` there instead, one name
    with a stray quote made a 1 M-line NSRL file nine times slower.) The lines after
    it start a row, as they do for ``csv`` once it has read that one."""

    def texts() -> Iterator[str]:
        for k in range(row, len(starts)):  # (pulled one by one: few are)
            high = int(starts[k + 1]) if k + 1 < len(starts) else len(data)
            text = data[int(starts[k]) : high]
            body = text[:-2] if text.endswith(b"\r\n") else text[:-1]
            if b"\r" in body:
                raise _PastTheChunk
            yield text.decode(dialect.encoding, dialect.errors)
        raise _PastTheChunk

    reader = csv.reader(texts(), delimiter=dialect.delimiter)
    try:
        fields = next(reader)
    except (_PastTheChunk, csv.Error):  # (csv says what is wrong when it reads the rest)
        return None
    yield from merged_blocks([read_row(line + reader.line_num - 1, fields)])
    return reader.line_num


def _mostly_others(lines: Lines, count: int, taken: Taken) -> bool:
    """Whether more than ``SLOW_SHARE`` of the first ``count`` lines hold anything the
    fast check did not take."""
    blank = lines.ends[:count] == lines.starts[:count]
    others = int(np.count_nonzero(~taken.plain[:count] & ~blank))
    return others > SLOW_SHARE * count


def _rows(
    lines: Lines, count: int, first_line: int, dialect: Dialect
) -> Iterator[tuple[int, list[str]]]:
    """(line number, fields) of the first ``count`` lines that hold anything, read by
    one ``csv`` reader (each line is whole: none leaves a quoted field open)."""
    text = lines.data[: int(lines.ends[count - 1])].decode(dialect.encoding, dialect.errors)
    rows = Rows(text.split("\n"), dialect.delimiter, first_line)  # (a CR ends a row)
    for number, row in enumerate(rows, first_line):
        if any(cell.strip() for cell in row):
            yield number, row


def _first_open(lines: Lines, plain: np.ndarray, dialect: Dialect) -> int:
    """The first line (of those not taken) that leaves the CSV reader inside a quoted
    field although it holds an even number of quotes (``a"b,"c``: the first quote is
    a character of an unquoted field), or the number of lines if none does."""
    for row in np.flatnonzero((lines.quote_counts > 0) & ~plain).tolist():
        if one_row(_text(lines, row, dialect), dialect.delimiter) is None:
            return int(row)  # (the field took the next line in)
    return len(lines.starts)


def _text(lines: Lines, row: int, dialect: Dialect) -> str:
    line = lines.data[int(lines.starts[row]) : int(lines.ends[row])]
    return line.decode(dialect.encoding, dialect.errors)


def _place(
    lines: Lines, count: int, first_line: int, taken: Taken, read_row: RowReader,
    dialect: Dialect,
) -> Iterator[PackedBlock | InvalidRecord]:  # fmt: skip
    """The entries of the chunk's first ``count`` lines in order: runs of taken lines as
    blocks, every other line that holds anything read by the CSV module in its place
    (an invalid one ahead: ``around_entries``)."""
    blank = lines.ends[:count] == lines.starts[:count]
    others = np.flatnonzero(~taken.plain[:count] & ~blank).tolist()
    read = {row: read_row(first_line + row, next(Rows([_text(lines, row, dialect)],
                                                      dialect.delimiter, first_line + row)))
            for row in others}  # fmt: skip
    return merged_blocks(around_entries(count, read, taken.block))


def _csv_rest(
    rest: BinaryIO, first_line: int, read_row: RowReader, dialect: Dialect
) -> Iterator[PackedBlock | InvalidRecord]:
    text = io.TextIOWrapper(rest, dialect.encoding, dialect.errors, newline="")
    rows = Rows(text, dialect.delimiter, first_line)
    return merged_blocks(read_row(first_line + rows.line_num - 1, row) for row in rows)


def plain_fields(
    lines: Lines, delimiter: int, width: int, wanted: Sequence[int], more: bool = False
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Which lines have ``width`` fields (``more``: at least that many) and quotes only
    at fields' edges, and for each line the bounds of each ``wanted`` field without its
    quotes: ``(n, len(wanted))`` start and end arrays (meaningless on lines not plain)."""
    arr, starts, ends, quotes = lines.arr, lines.starts, lines.ends, lines.quotes
    plain = (ends > starts) & (ends - starts <= FIELD_LIMIT)  # (longer: ``csv`` says)
    # Every line before a quote holds an even number: the 1st, 3rd... quote of the chunk
    # opens a field, the others close one. An opening one follows a delimiter or starts
    # a line; a closing one is followed by a delimiter or the line's end (CR LF or LF:
    # these lines hold no other CR).
    opening, closing = quotes[0::2], quotes[1::2]
    before = arr.take(opening - 1, mode="clip")
    after = arr.take(closing + 1, mode="clip")
    fits_open = (before == delimiter) | (before == NEWLINE) | (opening == 0)
    fits_close = (after == delimiter) | (after == NEWLINE) | (after == RETURN)
    misplaced = np.concatenate((opening[~fits_open], closing[~fits_close]))
    plain[np.searchsorted(starts, misplaced, "right") - 1] = False
    # The delimiters outside quotes: an even number of quotes before them.
    used = arr[: int(ends[-1]) if len(ends) else 0]
    special = np.flatnonzero((used == QUOTE) | (used == delimiter))
    is_quote = used[special] == QUOTE
    inside = np.cumsum(is_quote, dtype=np.uint8) & 1  # (parity survives wrapping at 256)
    inside |= is_quote  # (and the quotes themselves)
    commas = special[inside == 0]
    first = np.searchsorted(commas, starts)
    count = np.searchsorted(commas, ends) - first  # (delimiters: fields - 1)
    plain &= (count >= width - 1) if more else (count == width - 1)
    if len(commas) == 0:
        commas = np.zeros(1, np.int64)
    field_starts = np.empty((len(starts), len(wanted)), np.int64)
    field_ends = np.empty_like(field_starts)
    for k, field in enumerate(wanted):
        begin = starts if field == 0 else commas.take(first + field - 1, mode="clip") + 1
        end = np.where(count > field, commas.take(first + field, mode="clip"), ends)
        quoted = (end - begin >= 2) & (arr.take(begin, mode="clip") == QUOTE)
        field_starts[:, k] = begin + quoted
        field_ends[:, k] = end - quoted
    return plain, field_starts, field_ends
