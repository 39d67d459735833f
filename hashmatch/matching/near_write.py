"""Writing a near index to disk a part at a time, from values read in chunks: the files
``NearIndex.save`` writes and ``NearIndex.load`` maps, byte for byte.

Built whole, an index holds every value several times over (as 64-bit words, as 16-bit
substrings, each substring's order): importing a VICS set of 2 M PDQ values took 620 MB.
Here the values are read again for each group of substrings, each group's orders are
written out before the next is made, and memory grows by about 10 bytes a value.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import BinaryIO

import numpy as np

from hashmatch.bufwrite import write_in_pieces
from hashmatch.matching.near import MIH_MIN_ENTRIES, SUBSTRING_BITS, write_info

#: Raw values (big-endian, whole values back to back) in order, read afresh each call.
Chunks = Callable[[], Iterator[bytes]]
#: Substrings whose orders are made from one read of the values (one 64-bit word's).
_GROUP = 64 // SUBSTRING_BITS
_KEYS_CHUNK = 1 << 20


def write_index(
    directory: Path,
    name: str,
    meta: dict[str, object],
    bits: int,
    count: int,
    chunks: Chunks,
    keys: np.ndarray | None = None,
) -> None:
    """What ``NearIndex(bits, values, keys).save(directory, name, meta)`` writes, for the
    ``count`` values ``chunks`` gives; ``keys`` None: each value's position (0, 1...)."""
    if bits % 64:
        raise ValueError("near matching works on multiples of 64 bits")
    words = bits // 64
    values = (np.frombuffer(raw, ">u8").astype(np.uint64).reshape(-1, words) for raw in chunks())
    _write_npy(directory / f"{name}.values.npy", np.dtype(np.uint64), (count, words), values)
    _write_npy(directory / f"{name}.keys.npy", np.dtype(np.int64), (count,),
               _positions(count) if keys is None else [keys])  # fmt: skip
    parts = ["keys", "values"]
    if count >= MIH_MIN_ENTRIES:
        _write_tables(directory, name, bits, count, chunks)
        parts += ["rows", "starts"]
    write_info(directory, name, meta, bits, count, parts)


def _positions(count: int) -> Iterator[np.ndarray]:
    for low in range(0, count, _KEYS_CHUNK):
        yield np.arange(low, min(count, low + _KEYS_CHUNK), dtype=np.int64)


def _write_tables(directory: Path, name: str, bits: int, count: int, chunks: Chunks) -> None:
    """The multi-index's tables (``_MultiIndex``): each substring's rows in the order of
    its 16-bit values (a stable sort), one after the other, and where each (substring,
    value) group starts."""
    substrings = bits // SUBSTRING_BITS
    row_type = np.dtype(np.int32 if count < 2**31 else np.int64)
    starts = []
    path = directory / f"{name}.rows.npy"
    with path.open("wb") as out:
        _header(out, row_type, (substrings * count,))
        for first in range(0, substrings, _GROUP):
            group = _columns(chunks, substrings, first, count)
            for k in range(group.shape[0]):
                column = group[k]
                order = np.argsort(column, kind="stable")
                write_in_pieces(out, order.astype(row_type))
                del order
                # Where each value's group starts: how many values are below it.
                below = np.cumsum(np.bincount(column, minlength=1 << SUBSTRING_BITS))[:-1]
                starts.append(np.concatenate(([0], below)) + (first + k) * count)
            del group
    starts.append(np.array([substrings * count], np.int64))
    _write_npy(directory / f"{name}.starts.npy", np.dtype(np.int64),
               (substrings * (1 << SUBSTRING_BITS) + 1,), starts)  # fmt: skip


def _columns(chunks: Chunks, substrings: int, first: int, count: int) -> np.ndarray:
    """Substrings ``first`` to ``first + _GROUP - 1`` (most significant first) of every
    value, as a (group, count) uint16 array: a value's substrings are its big-endian
    bytes in pairs."""
    last = min(substrings, first + _GROUP)
    group = np.empty((last - first, count), np.uint16)
    at = 0
    for raw in chunks():
        pairs = np.frombuffer(raw, ">u2").reshape(-1, substrings)
        group[:, at : at + len(pairs)] = pairs[:, first:last].T
        at += len(pairs)
    if at != count:
        raise ValueError(f"{at} values read, {count} expected")
    return group


def _header(out: BinaryIO, dtype: np.dtype, shape: tuple[int, ...]) -> None:
    header = {"descr": np.lib.format.dtype_to_descr(dtype), "fortran_order": False,
              "shape": shape}  # fmt: skip
    np.lib.format.write_array_header_1_0(out, header)


def _write_npy(
    path: Path, dtype: np.dtype, shape: tuple[int, ...], parts: Iterable[np.ndarray]
) -> None:
    """An ``.npy`` file as ``np.save`` writes it, its array given in parts (rows in order)."""
    written = 0
    with path.open("wb") as out:
        _header(out, dtype, shape)
        for part in parts:
            write_in_pieces(out, np.ascontiguousarray(part, dtype))
            written += len(part)
    if written != shape[0]:
        raise ValueError(f"{path.name}: {written} rows written, {shape[0]} expected")
