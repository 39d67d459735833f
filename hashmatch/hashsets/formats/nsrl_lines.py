"""NSRL RDS 2.x lines read by numpy: the usual 8-column ``NSRLFile.txt`` without a CSV
parser per line.

NIST writes every line the same way: ``"SHA-1","MD5","CRC32","name",size,product,"os",
"special"`` (the numbers quoted or not). The SHA-1, MD5 and CRC32 sit at fixed offsets,
so a chunk of lines is checked and hex-decoded as a whole; the name runs from offset 90
to the quote before the fourth comma from the line's end (the last four fields hold no
comma), and a line is taken only if it holds no quote but those of its fields' edges
(counted per line) and a FileSize ``file_sizes.digit_sizes`` decides. Every other line
(a doubled quote in a name, a missing field, a bad digit) is read by the CSV module
(``csv_lines``), so entries, messages and line numbers are the CSV reader's.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import BinaryIO

import numpy as np

from hashmatch.hashsets.formats import csv_lines, csv_rows
from hashmatch.hashsets.formats.bulklines import gather_bytes, hex_rows
from hashmatch.hashsets.formats.csv_rows import RowReader
from hashmatch.hashsets.formats.file_sizes import digit_sizes
from hashmatch.hashsets.model import InvalidRecord
from hashmatch.hashsets.packed.layout import PackedBlock, PackedColumn, PackedLabel

#: Where each quote of the fixed start of a line is: "sha1","md5","crc32","name...
_PREFIX_QUOTES = (0, 41, 43, 76, 78, 87, 89)
_PREFIX_COMMAS = (42, 77, 88)
_NAME_START = 90
_QUOTE, _COMMA = 34, 44

#: A label for a SpecialCode (None: none of its own).
Labeller = Callable[[str], PackedLabel | None]


def line_blocks(
    raw: BinaryIO, read_row: RowReader, label: Labeller
) -> Iterator[PackedBlock | InvalidRecord]:
    """The entries of the lines after the header (already read), in order."""
    return csv_lines.line_blocks(
        raw, 2, lambda lines: _taken(lines, label), read_row, csv_rows.Dialect("latin-1")
    )


def _taken(lines: csv_lines.Lines, label: Labeller) -> csv_lines.Taken:
    fast, sha1, md5, names, specials, sizes = _plain(
        lines.arr, lines.starts, lines.ends, lines.quote_counts
    )

    def block(low: int, high: int) -> PackedBlock | None:
        return _block(lines.data, low, high, fast, sha1, md5, names, specials, sizes, label)

    return csv_lines.Taken(fast, block)


def _hex(arr: np.ndarray, starts: np.ndarray, digits: int, fit: np.ndarray) -> np.ndarray:
    """The hex runs at ``starts`` of the lines still fit, decoded (zeros elsewhere);
    the lines whose run is not hex become unfit."""
    values = np.zeros((len(starts), digits // 2), np.uint8)
    fit &= starts + digits <= len(arr)
    rows = np.flatnonzero(fit)
    good, decoded = hex_rows(arr, starts[rows], digits)
    values[rows[good]] = decoded
    fit[rows[~good]] = False
    return values


def _plain(
    arr: np.ndarray, starts: np.ndarray, ends: np.ndarray, counted: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Which lines are plain, their SHA-1 and MD5 values, where their name and
    special code are ((start, end) pairs), and their sizes."""
    lengths = ends - starts
    fit = lengths >= _NAME_START + 8  # a name's closing quote and four short fields
    fit &= lengths <= csv_rows.FIELD_LIMIT  # (a longer line: what ``csv`` says of it)
    base = np.where(fit, starts, 0)

    def at(where: np.ndarray) -> np.ndarray:
        taken: np.ndarray = arr.take(where, mode="clip")  # clipped: short lines are unfit
        return taken

    for offset in _PREFIX_QUOTES:
        fit &= at(base + offset) == _QUOTE
    for offset in _PREFIX_COMMAS:
        fit &= at(base + offset) == _COMMA
    sha1, md5 = (_hex(arr, base + offset, digits, fit) for offset, digits in ((1, 40), (44, 32)))
    # The last four commas of each line end the name and part the four last fields.
    commas = np.flatnonzero(arr == _COMMA)
    last = np.searchsorted(commas, ends) - 1
    fit &= (last - 3 >= 0) & (len(commas) > 0)
    if len(commas) == 0:
        commas = np.zeros(1, np.int64)
    tail = np.stack([commas.take(last - k, mode="clip") for k in (3, 2, 1, 0)], axis=1)
    fit &= tail[:, 0] > base + _NAME_START
    fit &= at(tail[:, 0] - 1) == _QUOTE  # the name's closing quote
    bounds = np.concatenate([tail, ends[:, None]], axis=1)
    field_starts, field_ends = bounds[:, :4] + 1, bounds[:, 1:]
    quoted = (field_ends - field_starts >= 2) & (at(field_starts) == _QUOTE)
    quoted &= at(field_ends - 1) == _QUOTE
    # No other quote anywhere: 7 at the start, the name's closing one, and the quoted
    # last fields' own.
    fit &= counted == 8 + 2 * quoted.sum(axis=1)
    names = np.stack([base + _NAME_START, tail[:, 0] - 1], axis=1)
    special = np.stack([field_starts[:, 3] + quoted[:, 3], field_ends[:, 3] - quoted[:, 3]], axis=1)
    decided, sizes = digit_sizes(
        arr, field_starts[:, 0] + quoted[:, 0], field_ends[:, 0] - quoted[:, 0]
    )
    fit &= decided
    return fit & (lengths > 0), sha1, md5, names, special, sizes


def _block(
    data: bytes,
    low: int,
    high: int,
    fast: np.ndarray,
    sha1: np.ndarray,
    md5: np.ndarray,
    names: np.ndarray,
    specials: np.ndarray,
    sizes: np.ndarray,
    label: Labeller,
) -> PackedBlock | None:
    """The plain lines among rows ``low`` to ``high - 1`` (the others are blank)."""
    kept = low + np.flatnonzero(fast[low:high])
    count = len(kept)
    if count == 0:
        return None
    rows = np.arange(count, dtype=np.int64)
    columns = (PackedColumn("sha1", sha1[kept], rows), PackedColumn("md5", md5[kept], rows))
    first, last = names[kept, 0], names[kept, 1]
    ref_data, offsets = gather_bytes(np.frombuffer(data, np.uint8), first, last - first)
    if not ref_data.isascii():  # Latin-1 names: stored as UTF-8, as the CSV reader's are
        picked = [data[a:b].decode("latin-1").encode("utf-8")
                  for a, b in zip(first.tolist(), last.tolist(), strict=True)]  # fmt: skip
        ref_data = b"".join(picked)
        offsets = np.concatenate(([0], np.cumsum(np.fromiter(map(len, picked), np.int64))))
    codes = np.zeros(count, np.uint16)
    table: dict[PackedLabel, int] = {}
    has_code = specials[kept, 1] > specials[kept, 0]
    for k in np.flatnonzero(has_code).tolist():
        a, b = specials[kept[k]].tolist()
        own = label(data[a:b].decode("latin-1"))
        if own is not None:
            codes[k] = table.setdefault(own, len(table) + 1)
    return PackedBlock(count, columns, ref_data, offsets, codes if table else None, tuple(table),
                       sizes=sizes[kept])  # fmt: skip
