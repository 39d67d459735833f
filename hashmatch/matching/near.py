"""Near matching: exact Hamming range queries, through multi-index hashing when the index
is large, by a vectorised scan when it is small.

Values are held as an ``(N, bits/64)`` array of unsigned 64-bit words. A brute-force
query XORs against every row and counts bits with ``numpy.bitwise_count``.

Multi-index hashing (Norouzi, Punjani & Fleet): every value is cut into ``m`` 16-bit
substrings. If two values differ in at most ``r`` bits, at least one of their ``m``
substrings differs in at most ``r // m`` bits (the differing bits are shared out among
the substrings). So the candidates for a query are the entries whose substring ``j``
lies within ``r // m`` bits of the query's substring ``j``, for some ``j``: a handful of
sorted-array lookups (one ``searchsorted`` for all of them) instead of a scan. Every
candidate is then checked at its full distance, so the answer is exactly the brute
force's (a hypothesis test compares the two). Substring radius 0, 1 or 2 is probed (1,
17 or 137 keys per substring); a larger radius falls back to the scan.
"""

from __future__ import annotations

from collections.abc import Iterable
from itertools import combinations

import numpy as np

SUBSTRING_BITS = 16
#: Below this many entries a scan is as fast as the multi-index and needs no building.
MIH_MIN_ENTRIES = 4096
MAX_SUBSTRING_RADIUS = 2


def _masks(radius: int) -> np.ndarray:
    """Every 16-bit mask with at most ``radius`` bits set."""
    masks = [0]
    for k in range(1, radius + 1):
        for bits in combinations(range(SUBSTRING_BITS), k):
            masks.append(sum(1 << b for b in bits))
    return np.asarray(masks, dtype=np.uint32)


_MASKS = [_masks(k) for k in range(MAX_SUBSTRING_RADIUS + 1)]


class _MultiIndex:
    """Rows grouped by (substring number, substring value), with a table of where each
    group starts: a key's rows are ``rows[starts[key]:starts[key + 1]]``."""

    def __init__(self, values: np.ndarray) -> None:
        chunks = _substrings(values).astype(np.uint16)  # (N, m)
        self.m = chunks.shape[1]
        row_type = np.int32 if len(values) < 2**31 else np.int64
        # Substring by substring: a stable sort of 16-bit keys is a radix sort in numpy.
        self.rows = np.concatenate(
            [np.argsort(chunks[:, j], kind="stable").astype(row_type) for j in range(self.m)]
        )
        counts = np.concatenate(
            [np.bincount(chunks[:, j], minlength=1 << SUBSTRING_BITS) for j in range(self.m)]
        )
        self.starts = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)

    def candidates(self, probe: np.ndarray, radius: int) -> np.ndarray:
        """Rows that may lie within ``radius`` of ``probe`` (a superset, never missing one)."""
        masks = _MASKS[radius // self.m]
        parts = _substrings(probe.reshape(1, -1))[0]  # (m,)
        base = (np.arange(self.m, dtype=np.uint32) << SUBSTRING_BITS) | parts
        wanted = (base[:, None] ^ masks[None, :]).ravel()
        lo = self.starts[wanted]
        lengths = self.starts[wanted + 1] - lo
        total = int(lengths.sum())
        if total == 0:
            return np.empty(0, dtype=np.int64)
        starts = np.repeat(lo - (np.cumsum(lengths) - lengths), lengths)
        # A row may come back through several substrings; the caller removes repeats
        # among the few that are within the radius, which is cheaper than here.
        found: np.ndarray = self.rows[starts + np.arange(total)]
        return found


def _substrings(values: np.ndarray) -> np.ndarray:
    """(N, words) uint64 → (N, words*4) 16-bit substrings, most significant first."""
    shifts = np.array([48, 32, 16, 0], dtype=np.uint64)
    parts = (values[:, :, None] >> shifts) & np.uint64(0xFFFF)
    chunks: np.ndarray = parts.reshape(values.shape[0], -1).astype(np.uint32)
    return chunks


class NearIndex:
    """Every stored value within a radius of a query, with its distance."""

    def __init__(
        self, bits: int, values: np.ndarray, keys: np.ndarray, *, multi_index: bool | None = None
    ) -> None:
        if bits % 64:
            raise ValueError("near matching works on multiples of 64 bits")
        self.bits = bits
        self._values = values.reshape(-1, bits // 64)
        self._keys = keys
        use = len(keys) >= MIH_MIN_ENTRIES if multi_index is None else multi_index
        self._mih = _MultiIndex(self._values) if use and len(keys) else None

    @classmethod
    def build(
        cls, bits: int, rows: Iterable[tuple[int, bytes]], *, multi_index: bool | None = None
    ) -> NearIndex:
        """Index ``(key, raw value)`` pairs; every value must be ``bits`` long.

        ``multi_index``: force (True) or forbid (False) multi-index hashing; by default it
        is used from MIH_MIN_ENTRIES entries on.
        """
        width = bits // 8
        keys: list[int] = []
        packed = bytearray()
        for key, value in rows:
            if len(value) != width:
                raise ValueError(f"value of {len(value)} bytes in a {bits}-bit index")
            keys.append(key)
            packed += value
        words = np.frombuffer(bytes(packed), dtype=">u8").astype(np.uint64)
        return cls(bits, words, np.asarray(keys, dtype=np.int64), multi_index=multi_index)

    def __len__(self) -> int:
        return len(self._keys)

    @property
    def uses_multi_index(self) -> bool:
        return self._mih is not None

    def query(self, value: bytes, radius: int) -> list[tuple[int, int]]:
        """``(key, distance)`` of every value within ``radius``, nearest first."""
        if not len(self._keys):
            return []
        probe = np.frombuffer(value, dtype=">u8").astype(np.uint64)
        mih = self._mih
        if mih is not None and radius // mih.m <= MAX_SUBSTRING_RADIUS:
            rows = mih.candidates(probe, radius)
            distances = np.bitwise_count(self._values[rows] ^ probe).sum(axis=1, dtype=np.int64)
            keep = distances <= radius
            rows, first = np.unique(rows[keep], return_index=True)
            distances = distances[keep][first]
        else:
            all_distances = np.bitwise_count(self._values ^ probe).sum(axis=1, dtype=np.int64)
            rows = np.flatnonzero(all_distances <= radius)
            distances = all_distances[rows]
        order = np.lexsort((self._keys[rows], distances))
        return [(int(self._keys[rows[i]]), int(distances[i])) for i in order]
