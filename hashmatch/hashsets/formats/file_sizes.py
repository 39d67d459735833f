"""Known files' sizes as hash-set formats write them (hashdeep, NSRL, HashKeeper, CSV,
VICS).

A size is a count of bytes written in ASCII digits (spaces around it allowed, or a JSON
or SQLite integer); anything else, or a number beyond ``MAX_SIZE``, is no size at all:
an entry is still read for its hashes, as before sizes were kept. ``size_of`` is the
reference; ``digit_sizes`` reads a chunk's fields with numpy and leaves the fields it
cannot decide (spaces, more than ``BULK_DIGITS`` digits) to its caller's row reader, so
both give the same size.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from hashmatch.hashsets.packed.layout import MAX_SIZE, SIZE_DTYPE, SIZE_NONE

#: The most digits the vectorised reader decodes (any such number fits in 63 bits).
BULK_DIGITS = 18
_ZERO = 48
#: The digits of the largest size.
_MAX_DIGITS = len(str(MAX_SIZE))


def size_of(value: object) -> int | None:
    """The size a field gives (None: it gives none)."""
    if isinstance(value, bool):  # (JSON true is no size)
        return None
    if isinstance(value, int):
        return value if 0 <= value <= MAX_SIZE else None
    if not isinstance(value, str):
        return None
    text = value.strip()
    if not text.isascii() or not text.isdigit():  # (isdigit alone takes '²' and '١')
        return None
    digits = text.lstrip("0") or "0"
    if len(digits) > _MAX_DIGITS:  # (int() refuses 4,300 digits or more: not read at all)
        return None
    number = int(digits)
    return number if number <= MAX_SIZE else None


def sizes_of(values: Sequence[object]) -> np.ndarray:
    """``size_of`` of each value, as ``SIZE_DTYPE`` (``SIZE_NONE``: none): a column of a
    batch of rows. A column of integers only (an SQLite ``INTEGER`` column) is taken
    whole by numpy."""
    if len(values) and set(map(type, values)) == {int}:  # (no bool, no text among them)
        numbers = np.fromiter(values, np.int64, len(values))  # (SQLite's: 64 bits, signed)
        sizes = numbers.astype(SIZE_DTYPE)
        sizes[numbers < 0] = SIZE_NONE
        return sizes
    found = (size_of(value) for value in values)
    return np.fromiter((SIZE_NONE if v is None else v for v in found), SIZE_DTYPE, len(values))


def digit_sizes(
    arr: np.ndarray, begin: np.ndarray, end: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """For each field ``arr[begin[i]:end[i]]``: whether the vectorised reader decides
    its size (1 to ``BULK_DIGITS`` ASCII digits: that number; no digit at all but other
    bytes, or nothing: no size), and the sizes (``SIZE_NONE`` where none). A field of
    digits mixed with anything else, or of more digits, is left undecided."""
    length = end - begin
    decided = length == 0
    sizes = np.full(len(begin), SIZE_NONE, SIZE_DTYPE)
    # The usual field, 1 to 8 digits, read as one 64-bit word (the 8 bytes it ends).
    rows = np.flatnonzero((length >= 1) & (length <= 8) & (end >= 8))
    found, values = _eight_digits(arr, end[rows], length[rows])
    decided[rows[found]] = True
    sizes[rows[found]] = values[found]
    # Any other, digit by digit.
    rows = np.flatnonzero(~decided & (length <= BULK_DIGITS))
    found, values = _digit_by_digit(arr, begin[rows], length[rows])
    decided[rows] = found
    sizes[rows] = values
    return decided, sizes


_EACH = np.uint64(0x0101010101010101)
_ASCII_ZEROS, _HIGH_NIBBLES = _EACH * np.uint64(0x30), _EACH * np.uint64(0xF0)
_SIXES = _EACH * np.uint64(6)
_OFFSETS = np.arange(-8, 0)


def _eight_digits(
    arr: np.ndarray, end: np.ndarray, length: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Fields of 1 to 8 bytes ending at ``end`` (at least 8): which are all ASCII
    digits, and their numbers. The 8 bytes are one little-endian word, the first byte
    lowest; the bytes before the field become '0'; a byte is a digit if its high nibble
    is 3 before and after adding 6; the digits are summed in pairs, then fours, then
    eights, each step one multiplication of the whole word."""
    # (Clipped: a caller's bounds of a line it does not take may be anywhere.)
    window = arr.take(end[:, None] + _OFFSETS, mode="clip")
    window = np.ascontiguousarray(window).view("<u8").ravel()
    kept = ~np.uint64(0) << ((8 - length) * 8).astype(np.uint64)
    word = (window & kept) | (_ASCII_ZEROS & ~kept)
    digits = (word & _HIGH_NIBBLES) == _ASCII_ZEROS
    digits &= ((word + _SIXES) & _HIGH_NIBBLES) == _ASCII_ZEROS
    word = word - _ASCII_ZEROS
    word = word * np.uint64(10) + (word >> np.uint64(8))  # pairs: each in bytes 0, 2, 4, 6
    low = word & np.uint64(0x000000FF000000FF)
    high = (word >> np.uint64(16)) & np.uint64(0x000000FF000000FF)
    number = low * np.uint64(100 + (1_000_000 << 32)) + high * np.uint64(1 + (10_000 << 32))
    return digits, (number >> np.uint64(32)).astype(SIZE_DTYPE)


def _digit_by_digit(
    arr: np.ndarray, begin: np.ndarray, length: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """``digit_sizes`` of fields of at most ``BULK_DIGITS`` bytes, a digit at a time."""
    sizes = np.zeros(len(begin), np.int64)  # (18 digits fit)
    digits = np.zeros(len(begin), np.int64)
    at = begin.copy()
    for k in range(int(length.max()) if len(length) else 0):
        digit_value = arr.take(at, mode="clip") - np.uint8(_ZERO)  # (any other byte: >= 10)
        digit = digit_value < 10
        digit &= k < length
        digits += digit
        np.multiply(sizes, 10, out=sizes, where=digit)
        np.add(sizes, digit_value, out=sizes, where=digit)
        at += 1
    number = (digits == length) & (length >= 1)
    out = sizes.astype(SIZE_DTYPE)
    out[~number] = SIZE_NONE
    return number | (digits == 0), out
