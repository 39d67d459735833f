"""Known files' sizes as hash-set formats write them (hashdeep, NSRL, HashKeeper, VICS).

A size is a count of bytes written in ASCII digits (spaces around it allowed, or a JSON
or SQLite integer); anything else, or a number beyond ``MAX_SIZE``, is no size at all:
an entry is still read for its hashes, as before sizes were kept. ``size_of`` is the
reference; ``digit_sizes`` reads a chunk's fields with numpy and leaves the fields it
cannot decide (spaces, more than ``BULK_DIGITS`` digits) to its caller's row reader, so
both give the same size.
"""

from __future__ import annotations

import numpy as np

from hashmatch.hashsets.packed.layout import MAX_SIZE, SIZE_DTYPE, SIZE_NONE

#: The most digits the vectorised reader decodes (any such number fits in 63 bits).
BULK_DIGITS = 18
_ZERO = 48


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
    number = int(text)
    return number if number <= MAX_SIZE else None


def digit_sizes(
    arr: np.ndarray, begin: np.ndarray, end: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """For each field ``arr[begin[i]:end[i]]``: whether the vectorised reader decides
    its size (1 to ``BULK_DIGITS`` ASCII digits: that number; no digit at all but other
    bytes, or nothing: no size), and the sizes (``SIZE_NONE`` where none). A field of
    digits mixed with anything else, or of more digits, is left undecided."""
    length = end - begin
    sizes = np.zeros(len(begin), np.int64)  # (18 digits fit)
    digits = np.zeros(len(begin), np.int64)
    at = begin.copy()
    # (Fields of more digits are left undecided whatever they hold: not read further.)
    for k in range(int(min(length.max(), BULK_DIGITS)) if len(length) else 0):
        digit_value = arr.take(at, mode="clip") - np.uint8(_ZERO)  # (any other byte: >= 10)
        digit = digit_value < 10
        digit &= k < length
        digits += digit
        np.multiply(sizes, 10, out=sizes, where=digit)
        np.add(sizes, digit_value, out=sizes, where=digit)
        at += 1
    number = (digits == length) & (length >= 1) & (length <= BULK_DIGITS)
    none = (digits == 0) & (length <= BULK_DIGITS)
    out = sizes.astype(SIZE_DTYPE)
    out[~number] = SIZE_NONE
    return number | none, out
