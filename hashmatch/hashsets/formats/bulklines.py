"""Line formats read in bulk: whole chunks of a hash list parsed by numpy, not line by line.

A line format (bare lists, ``md5sum`` output) defines how one line is parsed
(``parse_line``); that is the reference behaviour. ``read_blocks`` gives the same
entries much faster: it cuts the file into chunks of whole lines, and checks and decodes
every line of a chunk at once (fixed-width hex digits, then the separator and file name
for ``md5sum``). Any line the fast check does not accept (a comment, an escaped name,
a bad digit, another hash length) goes through ``parse_line``, in its place, so
entries, their order, line numbers and error messages are those of the line reader
(an invalid line's message comes ahead of its chunk's entries: ``packed.entries``).
"""

from __future__ import annotations

import abc
import codecs
import enum
import io
from collections.abc import Generator, Iterator
from dataclasses import replace
from typing import BinaryIO, ClassVar, Protocol

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from hashmatch.hashsets.formats.base import HashSetFormat, text_lines
from hashmatch.hashsets.formats.workers import file_descriptor, keep_freed_memory
from hashmatch.hashsets.model import InvalidRecord, ParsedEntry
from hashmatch.hashsets.name_decoding import NAME_ERRORS
from hashmatch.hashsets.packed.entries import around_entries, entry_blocks, merged_blocks
from hashmatch.hashsets.packed.layout import PackedBlock
from hashmatch.page_cache import release

CHUNK_BYTES = 8 << 20
#: Lines of a chunk whose hex width decides the chunk's (``_usual_width``).
_WIDTH_SAMPLE = 64
#: Beyond this share of slow lines in a chunk, the whole chunk is read line by line.
SLOW_SHARE = 0.125

#: ASCII byte → its hex digit's value, 16 for any other byte.
HEX_NIBBLE = np.full(256, 16, np.uint8)
for _i, _c in enumerate(b"0123456789abcdef"):
    HEX_NIBBLE[_c] = _i
for _i, _c in enumerate(b"ABCDEF", 10):
    HEX_NIBBLE[_c] = _i


#: Blocks of one chunk; the generator returns the next chunk's first line number.
_Blocks = Generator[PackedBlock | InvalidRecord, None, int]


class LineStyle(enum.Enum):
    HASH_ONLY = "hash"  # the line is the hex value
    HASH_NAME = "hash-name"  # <hex><space or tab>[ or *]<name>
    HASH_QUALITY = "hash-quality"  # <hex>,<quality 0-100>[,<name>] (PDQ tools)
    HASH_PIPE = "hash-pipe"  # <hex>|<anything, not kept> (TSK .idx); one width only
    OWN = "own"  # checked by the format's own ``fast_lines`` (hashdeep, BSD tags)


class LineFormat(HashSetFormat):
    """A format with one record per text line."""

    line_style: ClassVar[LineStyle]

    @abc.abstractmethod
    def parse_line(self, number: int, line: str) -> ParsedEntry | InvalidRecord | None:
        """The record on one line (without its end), or None for a line without one."""

    def bulk_widths(self) -> dict[int, str]:
        """Hex digits → cryptographic algorithm, for values the bulk reader may decode."""
        return {}

    def fast_lines(self, arr: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> Fast | None:
        """The lines (``arr[starts[i]:ends[i]]``, of one chunk) the vectorised check
        accepts, decoded (None: none); by default as the ``line_style`` says."""
        return _Fast.parse(self, arr, starts, ends)

    def packs(self) -> bool:
        return bool(self.bulk_widths())

    def blocks(self, stream: BinaryIO) -> Iterator[PackedBlock | InvalidRecord]:
        return read_blocks(self, stream)

    def read(self, stream: BinaryIO) -> Iterator[ParsedEntry | InvalidRecord]:
        for number, line in text_lines(stream):
            record = self.parse_line(number, line)
            if record is not None:
                yield record


def read_blocks(fmt: LineFormat, stream: BinaryIO) -> Iterator[PackedBlock | InvalidRecord]:
    """Every entry of a line-format file, in order, as blocks (and invalid records).

    The process keeps the memory it frees from then on (``keep_freed_memory``, as the
    VICS and CSV workers do): each chunk's bytes and arrays, megabytes each, were given
    back to the system when freed and faulted in again for the next chunk, zeroed page
    by page (1 M md5sum lines: 33,000 page faults against 20,000, and a tenth to a
    third of the time)."""
    keep_freed_memory()
    head = stream.read(4)
    stream.seek(0)
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        yield from entry_blocks(fmt.read(stream))  # the line reader decodes UTF-16
        return
    if head.startswith(codecs.BOM_UTF8):
        stream.seek(len(codecs.BOM_UTF8))
    number = 1
    rest = b""
    file = file_descriptor(stream)
    released = stream.tell()
    while True:
        data = stream.read(CHUNK_BYTES)
        if file is not None:  # (read once and held here, its pages may go: left cached, a
            # 3.3 GB list's made the kernel reclaim memory for the set's files; 100 M lines
            # 36.7-38.7 s -> 30.1-32.2 s)
            release(file, released, stream.tell() - released)
            released = stream.tell()
        buf = rest + data
        if not data:
            if buf:
                yield from _chunk(fmt, buf + b"\n", number)
            return
        cut = buf.rfind(b"\n") + 1
        if cut == 0:
            rest = buf  # a line longer than a chunk: keep reading
            continue
        rest = buf[cut:]
        number = yield from _chunk(fmt, buf[:cut], number)


def _chunk(fmt: LineFormat, buf: bytes, first: int) -> _Blocks:
    """Blocks of one chunk of whole lines; returns the next chunk's first line number."""
    arr = np.frombuffer(buf, np.uint8)
    ends = np.flatnonzero(arr == 10)
    starts = np.concatenate(([0], ends[:-1] + 1))
    n = len(ends)
    has_cr = arr[np.maximum(ends - 1, 0)] == 13
    has_cr &= ends > starts
    if int(np.count_nonzero(arr == 13)) != int(np.count_nonzero(has_cr)):
        # A carriage return inside a line ends a line for the line reader: let it count.
        return (yield from _slow_text(fmt, buf, first))
    ends = ends - has_cr
    fast = fmt.fast_lines(arr, starts, ends)
    if fast is None:
        return (yield from _slow_text(fmt, buf, first))
    slow = np.flatnonzero(~fast.ok)
    if len(slow):
        slow = _without_blank(fmt, slow, starts, ends, first)
    # The line reader's reading of each slow line first: a line without an entry (a
    # comment, a blank line, an invalid line) need not cut the fast lines around it.
    read = {line: fmt.parse_line(first + line,
                                 buf[starts[line] : ends[line]].decode("utf-8", NAME_ERRORS))
            for line in slow.tolist()}  # fmt: skip
    if sum(isinstance(record, ParsedEntry) for record in read.values()) > SLOW_SHARE * n:
        # Many entries the fast check did not take (names with escapes): the fast lines
        # between them would be a block each.
        return (yield from _slow_text(fmt, buf, first))

    def bulk(low: int, high: int) -> PackedBlock | None:
        return fast.block(low, high) if fast.ok[low:high].any() else None

    # (the line reader's entries gathered into blocks)
    yield from merged_blocks(around_entries(n, read, bulk))
    return first + n


def _without_blank(
    fmt: LineFormat, slow: np.ndarray, starts: np.ndarray, ends: np.ndarray, first: int
) -> np.ndarray:
    """The slow lines but the empty ones, where the line reader finds no record in an
    empty line: they are not read one by one (a list with a blank line after each went
    to the line reader whole, 7-22 times slower)."""
    blank = ends[slow] == starts[slow]
    if not blank.any() or fmt.parse_line(first + int(slow[blank][0]), "") is not None:
        return slow
    kept: np.ndarray = slow[~blank]
    return kept


def _one(fmt: LineFormat, number: int, line: str) -> Iterator[ParsedEntry | InvalidRecord]:
    record = fmt.parse_line(number, line)
    if record is not None:
        yield record


def _slow_text(fmt: LineFormat, buf: bytes, first: int) -> _Blocks:
    text = io.StringIO(buf.decode("utf-8", NAME_ERRORS), newline=None)
    last = [first]

    def records() -> Iterator[ParsedEntry | InvalidRecord]:
        for number, line in enumerate(text, first):
            last[0] = number
            yield from _one(fmt, number, line.rstrip("\n"))

    yield from entry_blocks(records())
    return last[0] + 1


class Fast(Protocol):
    """The lines of a chunk a format's vectorised check accepts (``ok``, one flag a
    line), and the block of those among lines ``low`` to ``high - 1``."""

    ok: np.ndarray

    def block(self, low: int, high: int) -> PackedBlock: ...


class _Fast:
    """The lines of a chunk the check of a ``line_style`` accepts, decoded."""

    def __init__(
        self,
        algorithm: str,
        ok: np.ndarray,
        values: np.ndarray,
        names: tuple[bytes, np.ndarray],
        qualities: np.ndarray | None = None,
    ) -> None:
        self.algorithm = algorithm
        self.ok = ok
        self._rank = np.cumsum(ok) - ok  # index among accepted lines
        self._values = values
        self._name_data, self._name_offsets = names
        self._qualities = qualities  # (of the accepted lines)

    @classmethod
    def parse(
        cls, fmt: LineFormat, arr: np.ndarray, starts: np.ndarray, ends: np.ndarray
    ) -> _Fast | None:
        widths = fmt.bulk_widths()
        lengths = ends - starts
        if not widths or len(starts) == 0:
            return None
        style = fmt.line_style
        if style is LineStyle.HASH_QUALITY:
            return cls._with_quality(fmt, arr, starts, ends)
        if style is LineStyle.HASH_ONLY:
            counts = {w: int(np.count_nonzero(lengths == w)) for w in widths}
            digits = max(counts, key=lambda w: counts[w])
            ok = lengths == digits
        elif style is LineStyle.HASH_PIPE:
            (digits,) = widths  # (not the first line's: TSK's header lines are longer)
            ok = lengths >= digits + 1
        else:
            usual = _usual_width(arr, starts, ends, widths)
            if usual is None:
                return None
            digits = usual
            ok = lengths >= digits + 2
        rows = np.flatnonzero(ok)
        first = starts[rows]
        good, values = hex_rows(arr, first, digits)
        hex_good = good.copy()  # (the rows ``values`` holds)
        name_start = ends.copy()
        if style is LineStyle.HASH_NAME:
            sep = arr[first + digits]
            good &= (sep == 32) | (sep == 9)
            second = arr[first + digits + 1]
            begin = first + digits + 1 + ((second == 32) | (second == 42))
            good &= begin < ends[rows]  # the name is not empty
            name_start[rows] = begin
        elif style is LineStyle.HASH_PIPE:
            good &= arr[first + digits] == 124  # (what follows is no name: not kept)
        ok[rows[~good]] = False
        # Only the accepted lines' values: a line of hex refused for what follows it
        # (an empty name) once shifted every later value of its chunk onto the next line.
        values = values[good[hex_good]]
        return cls(
            widths[digits], ok, values, gather_bytes(arr, name_start[ok], ends[ok] - name_start[ok])
        )

    @classmethod
    def _with_quality(
        cls, fmt: LineFormat, arr: np.ndarray, starts: np.ndarray, ends: np.ndarray
    ) -> _Fast | None:
        """``<hex>,<quality>[,<name>]`` lines, strictly: one comma each side of a quality of
        one to three digits, 0-100, no white space around the fields (anything else goes
        to ``parse_line``)."""
        ((digits, algorithm),) = fmt.bulk_widths().items()
        ok = ends - starts >= digits + 2
        rows = np.flatnonzero(ok)
        first, end = starts[rows], ends[rows]
        good, values = hex_rows(arr, first, digits)
        hex_good = good.copy()  # (the rows ``values`` holds)
        at = first + digits  # the comma
        good &= arr[at] == 44
        quality = np.zeros(len(rows), np.int64)
        count = np.zeros(len(rows), np.int64)  # digits of the quality
        going = good.copy()
        for k in range(1, 5):  # (a fourth digit: no quality 0-100)
            place = np.minimum(at + k, len(arr) - 1)
            digit = arr[place].astype(np.int64) - 48
            going &= (at + k < end) & (digit >= 0) & (digit <= 9)
            quality = np.where(going, quality * 10 + digit, quality)
            count += going
        good &= (count >= 1) & (count <= 3) & (quality <= 100)
        after = at + 1 + count  # the line's end, or the comma before the name
        comma = arr[np.minimum(after, len(arr) - 1)] == 44
        good &= (after == end) | comma
        name_start = np.where(after == end, end, after + 1)
        # What the line reader would strip (white space, Unicode's too) around the name
        # and at the line's end: a name must start and end with printable ASCII here.
        last = arr[np.maximum(end - 1, 0)]
        good &= (last > 32) & (last < 127)
        lead = arr[np.minimum(name_start, len(arr) - 1)]
        good &= (name_start == end) | ((lead > 32) & (lead < 127))
        ok[rows[~good]] = False
        begin = ends.copy()
        begin[rows] = name_start
        names = gather_bytes(arr, begin[ok], ends[ok] - begin[ok])
        values = values[good[hex_good]]
        return cls(algorithm, ok, values, names, quality[good].astype(np.uint8))

    def block(self, low: int, high: int) -> PackedBlock:
        """The accepted lines among lines ``low`` to ``high - 1``."""
        a, b = int(self._rank[low]), int(self._rank[high - 1] + self.ok[high - 1])
        offsets = self._name_offsets[a : b + 1]
        data = self._name_data[int(offsets[0]) : int(offsets[-1])]
        block = PackedBlock.single(self.algorithm, self._values[a:b], data, offsets - offsets[0])
        if self._qualities is None:
            return block
        return replace(block, qualities=self._qualities[a:b])


def hex_rows(arr: np.ndarray, starts: np.ndarray, digits: int) -> tuple[np.ndarray, np.ndarray]:
    """``decode_hex`` of the ``digits``-long runs of ``arr`` at ``starts`` (each inside
    ``arr``)."""
    if len(starts) == 0:
        return np.zeros(0, bool), np.zeros((0, digits // 2), np.uint8)
    return decode_hex(sliding_window_view(arr, digits)[starts])  # one gather


def all_hex(text: str, size: int) -> bytes | None:
    """``text`` decoded, if it is nothing but hex digits making ``size`` bytes (None
    else: bytes.fromhex passes over white space, which gives fewer bytes)."""
    try:
        decoded = bytes.fromhex(text)
    except ValueError:
        return None
    return decoded if len(decoded) == size else None


def decode_hex(window: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Which rows of ``window`` (uint8, one text a row, an even number of columns) are
    all hex digits, and those rows decoded (only the good ones, in order)."""
    width = window.shape[1] // 2
    try:  # the usual case, every row hex: decoded at C speed
        decoded = all_hex(window.tobytes().decode("ascii"), len(window) * width)
    except UnicodeDecodeError:
        decoded = None
    if decoded is not None:
        return np.ones(len(window), bool), np.frombuffer(decoded, np.uint8).reshape(-1, width)
    nibbles = HEX_NIBBLE[window]
    good = (nibbles < 16).all(axis=1)
    accepted = nibbles[good]
    return good, (accepted[:, 0::2] << 4) | accepted[:, 1::2]


def _usual_width(
    arr: np.ndarray, starts: np.ndarray, ends: np.ndarray, widths: dict[int, str]
) -> int | None:
    """The hex width most of a chunk's first lines use before a space or a tab (None:
    none does). Not the first line's alone: a comment or an escaped name there sent the
    whole chunk to the line reader."""
    sample = slice(0, _WIDTH_SAMPLE)
    begin, end = starts[sample], ends[sample]
    counts = {}
    for digits in widths:
        sep = arr.take(begin + digits, mode="clip")
        fits = (end - begin >= digits + 2) & ((sep == 32) | (sep == 9))
        counts[digits] = int(np.count_nonzero(fits))
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else None


def gather_bytes(
    arr: np.ndarray, starts: np.ndarray, lengths: np.ndarray
) -> tuple[bytes, np.ndarray]:
    """The ranges ``[starts, starts + lengths)`` of ``arr`` back to back, and their
    ``len + 1`` offsets: one gather, or one for each ``GATHER_BYTES`` of them (a gather's
    index is 8 bytes a byte: one name of 50 MB took 1 GB), a longer range sliced."""
    offsets = np.concatenate(([0], np.cumsum(lengths))).astype(np.int64)
    total = int(offsets[-1])
    if total <= GATHER_BYTES:
        return _gathered(arr, starts, lengths, offsets), offsets
    parts = []
    low = 0
    while low < len(starts):
        end = int(np.searchsorted(offsets, offsets[low] + GATHER_BYTES, "right")) - 1
        if end <= low:  # a range longer than a gather's: sliced
            at = int(starts[low])
            parts.append(arr[at : at + int(lengths[low])].tobytes())
            end = low + 1
        else:
            part = offsets[low : end + 1] - offsets[low]
            parts.append(_gathered(arr, starts[low:end], lengths[low:end], part))
        low = end
    return b"".join(parts), offsets


#: Bytes gathered at once (its index takes eight times as many).
GATHER_BYTES = 16 << 20


def _gathered(
    arr: np.ndarray, starts: np.ndarray, lengths: np.ndarray, offsets: np.ndarray
) -> bytes:
    total = int(offsets[-1])
    if total == 0:
        return b""
    index = np.arange(total, dtype=np.int64) + np.repeat(starts - offsets[:-1], lengths)
    gathered: bytes = arr[index].tobytes()
    return gathered
