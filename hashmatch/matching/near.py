"""Near matching: Hamming range queries over packed hashes, vectorised with numpy.

Values are held as an ``(N, bits/64)`` array of unsigned 64-bit words; a query XORs
against every row and counts bits with ``numpy.bitwise_count``. No Python loop runs
over the entries.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np


class NearIndex:
    """Every stored value within a radius of a query, with its distance."""

    def __init__(self, bits: int, values: np.ndarray, keys: np.ndarray) -> None:
        if bits % 64:
            raise ValueError("near matching works on multiples of 64 bits")
        self.bits = bits
        self._values = values.reshape(-1, bits // 64)
        self._keys = keys

    @classmethod
    def build(cls, bits: int, rows: Iterable[tuple[int, bytes]]) -> NearIndex:
        """Index ``(key, raw value)`` pairs; every value must be ``bits`` long."""
        width = bits // 8
        keys: list[int] = []
        packed = bytearray()
        for key, value in rows:
            if len(value) != width:
                raise ValueError(f"value of {len(value)} bytes in a {bits}-bit index")
            keys.append(key)
            packed += value
        words = np.frombuffer(bytes(packed), dtype=">u8").astype(np.uint64)
        return cls(bits, words, np.asarray(keys, dtype=np.int64))

    def __len__(self) -> int:
        return len(self._keys)

    def query(self, value: bytes, radius: int) -> list[tuple[int, int]]:
        """``(key, distance)`` of every value within ``radius``, nearest first."""
        if not len(self._keys):
            return []
        probe = np.frombuffer(value, dtype=">u8").astype(np.uint64)
        distances = np.bitwise_count(self._values ^ probe).sum(axis=1, dtype=np.int64)
        rows = np.flatnonzero(distances <= radius)
        order = np.lexsort((self._keys[rows], distances[rows]))
        return [(int(self._keys[rows[i]]), int(distances[rows[i]])) for i in order]
