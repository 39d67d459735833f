"""Near matching: exact Hamming range queries, through multi-index hashing when the index
is large, by a vectorised scan when it is small.

Values are held as an ``(N, bits/64)`` array of unsigned 64-bit words. A brute-force
query XORs against every row and counts bits with ``numpy.bitwise_count``.

Multi-index hashing (Norouzi, Punjani & Fleet): every value is cut into ``m`` 16-bit
substrings. If two values differ in at most ``r`` bits, at least one of their ``m``
substrings differs in at most ``r // m`` bits (the differing bits are shared out among
the substrings). So the candidates for a query are the entries whose substring ``j``
lies within ``r // m`` bits of the query's substring ``j``, for some ``j``: a handful of
lookups in a table of where each (substring, value) key's rows start, instead of a
scan. Every candidate is then checked at its full distance (candidates sorted by row,
so the values are read in memory order), so the answer is exactly the brute force's (a
hypothesis test compares the two). Substring radius 0, 1 or 2 is probed (1,
17 or 137 keys per substring); a larger radius falls back to the scan.
"""

from __future__ import annotations

import heapq
import json
import os
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from itertools import combinations
from pathlib import Path

import numpy as np

SUBSTRING_BITS = 16
#: Below this many entries a scan is as fast as the multi-index and needs no building.
MIH_MIN_ENTRIES = 4096
MAX_SUBSTRING_RADIUS = 2
#: Probes answered together by ``query_many`` at most, and candidates a batch aims at
#: (about 40 bytes each while it is checked). Small batches stay in cache: 128 probes,
#: 530,000 candidates, for 1 M PDQ.
QUERY_BATCH = 128
BATCH_CANDIDATES = 4_000_000
#: Bumped whenever what ``NearIndex.save`` writes changes meaning.
INDEX_FORMAT = 1


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

    def __init__(
        self, values: np.ndarray, tables: tuple[np.ndarray, np.ndarray] | None = None
    ) -> None:
        if tables is not None:  # loaded from disk
            self.rows, self.starts = tables
            self.m = values.shape[1] * 64 // SUBSTRING_BITS
            return
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

    def candidates_many(self, probes: np.ndarray, radius: int) -> tuple[np.ndarray, np.ndarray]:
        """(number of candidates of each probe, rows): every row that may lie within
        ``radius`` of each probe (a superset, never missing one), one probe's after the
        other's. A row may come back through several substrings; the caller drops repeats
        among the few within the radius, which is cheaper than here."""
        masks = _MASKS[radius // self.m]
        parts = _substrings(probes)  # (B, m)
        base = (np.arange(self.m, dtype=np.uint32) << SUBSTRING_BITS)[None, :] | parts
        wanted = (base[:, :, None] ^ masks[None, None, :]).reshape(len(probes), -1)
        lo = self.starts[wanted]
        lengths = self.starts[wanted + 1] - lo
        per_probe = lengths.sum(axis=1)
        flat_lo, flat_lengths = lo.ravel(), lengths.ravel()
        total = int(flat_lengths.sum())
        if total == 0:
            return per_probe, np.empty(0, dtype=np.int64)
        shift = np.repeat(flat_lo - (np.cumsum(flat_lengths) - flat_lengths), flat_lengths)
        rows = self.rows[shift + np.arange(total)]
        return per_probe, rows


def _substrings(values: np.ndarray) -> np.ndarray:
    """(N, words) uint64 → (N, words*4) 16-bit substrings, most significant first."""
    # A word's 16-bit substrings, most significant first, are its big-endian bytes in
    # pairs (fifteen times faster than shifting and masking).
    big_endian = np.ascontiguousarray(values, dtype=">u8")
    pairs = big_endian.view(">u2").reshape(len(values), values.shape[1] * 4)
    chunks: np.ndarray = pairs.astype(np.uint32)
    return chunks


def _as_records(values: np.ndarray) -> np.ndarray:
    """(N, words) uint64 → N items of ``words * 8`` bytes, the same memory: numpy gathers
    whole items several times faster than rows of a 2-D array."""
    contiguous = np.ascontiguousarray(values)
    records: np.ndarray = contiguous.view(np.dtype((np.void, contiguous.shape[1] * 8)))
    return records.reshape(-1)


def _bit_distances(records: np.ndarray, probes: np.ndarray) -> np.ndarray:
    """Hamming distance of each record to the probe at the same place (or to the one
    probe): a uint16 array (at most 65,535 bits)."""
    words = records.dtype.itemsize // 8
    counts = np.bitwise_count(
        records.view(np.uint64).reshape(-1, words) ^ probes.view(np.uint64).reshape(-1, words)
    )
    # Column by column in 16 bits: several times faster than ``sum(axis=1)``.
    total: np.ndarray = counts[:, 0].astype(np.uint16)
    for j in range(1, words):
        total += counts[:, j]
    return total


def write_info(
    directory: Path, name: str, meta: dict[str, object], bits: int, entries: int,
    parts: Iterable[str],
) -> None:  # fmt: skip
    """``name.json``: ``meta`` plus what ``NearIndex.load`` checks (written last: an
    index is whole once it is there)."""
    info = {**meta, "bits": bits, "entries": entries, "format": INDEX_FORMAT,
            "substring_bits": SUBSTRING_BITS, "parts": sorted(parts)}  # fmt: skip
    (directory / f"{name}.json").write_text(json.dumps(info, sort_keys=True))


class NearIndex:
    """Every stored value within a radius of a query, with its distance."""

    def __init__(
        self,
        bits: int,
        values: np.ndarray,
        keys: np.ndarray,
        *,
        multi_index: bool | None = None,
        tables: tuple[np.ndarray, np.ndarray] | None = None,
    ) -> None:
        if bits % 64:
            raise ValueError("near matching works on multiples of 64 bits")
        self.bits = bits
        self._values = np.ascontiguousarray(values.reshape(-1, bits // 64))
        self._records = _as_records(self._values)
        self._keys = keys
        self._sorted_keys: np.ndarray | None = None  # built on the first ``distances``
        self._key_order = np.empty(0, dtype=np.int64)
        use = len(keys) >= MIH_MIN_ENTRIES if multi_index is None else multi_index
        if tables is not None:
            self._mih: _MultiIndex | None = _MultiIndex(self._values, tables)
        else:
            self._mih = _MultiIndex(self._values) if use and len(keys) else None

    def save(self, directory: Path, name: str, meta: dict[str, object]) -> None:
        """Write the index as ``name.*.npy`` arrays (no pickle) and ``name.json`` (``meta``
        plus what ``load`` checks)."""
        arrays = {"values": self._values, "keys": self._keys}
        if self._mih is not None:
            arrays |= {"rows": self._mih.rows, "starts": self._mih.starts}
        for part, array in arrays.items():
            np.save(directory / f"{name}.{part}.npy", np.ascontiguousarray(array))
        write_info(directory, name, meta, self.bits, len(self._keys), arrays)

    @classmethod
    def load(cls, directory: Path, name: str, meta: dict[str, object]) -> NearIndex | None:
        """The index ``save`` wrote, memory-mapped; None when there is none, or it was
        written with other ``meta`` or by another index format (then it is rebuilt)."""
        try:
            info = json.loads((directory / f"{name}.json").read_text())
            if info.get("format") != INDEX_FORMAT or info.get("substring_bits") != SUBSTRING_BITS:
                return None
            if any(info.get(k) != v for k, v in meta.items()):
                return None
            # Plain arrays over the maps: numpy's memmap subclass costs ~40 µs an indexing.
            arrays = {
                part: np.asarray(
                    np.load(directory / f"{name}.{part}.npy", mmap_mode="r", allow_pickle=False)
                )
                for part in info["parts"]
            }
        except (OSError, ValueError, KeyError, TypeError):
            return None
        tables = (arrays["rows"], arrays["starts"]) if "rows" in arrays else None
        index = cls(int(info["bits"]), arrays["values"], arrays["keys"], multi_index=False,
                    tables=tables)  # fmt: skip
        return index if len(index) == info.get("entries") else None

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

    def query_many(
        self, values: Sequence[bytes], radius: int, *, threads: int | None = None
    ) -> list[list[tuple[int, int]]]:
        """``query`` of each value, answered together: one pass of numpy calls per batch of
        values instead of one per value, the same answers.

        ``threads``: batches answered at once (default: one per core). numpy releases the
        GIL in its gathers and bit counts, so two threads nearly double the rate.
        """
        mih = self._mih
        if not values or mih is None or radius // mih.m > MAX_SUBSTRING_RADIUS:
            return [self.query(v, radius) for v in values]
        probes = np.frombuffer(b"".join(values), dtype=">u8").astype(np.uint64)
        probes = probes.reshape(len(values), -1)
        keys_probed = len(_MASKS[radius // mih.m]) * mih.m
        expected = keys_probed * len(self._keys) / (1 << SUBSTRING_BITS)  # per probe
        step = int(max(1, min(QUERY_BATCH, BATCH_CANDIDATES // max(expected, 1.0))))
        workers = max(1, min(threads or os.cpu_count() or 1, -(-len(values) // step)))
        batches = [probes[start : start + step] for start in range(0, len(values), step)]
        if workers == 1:
            answered = [self._answer_batch(mih, batch, radius) for batch in batches]
        else:
            with ThreadPoolExecutor(workers) as pool:
                answered = list(pool.map(lambda b: self._answer_batch(mih, b, radius), batches))
        return [answers for batch in answered for answers in batch]

    def _answer_batch(
        self, mih: _MultiIndex, batch: np.ndarray, radius: int
    ) -> list[list[tuple[int, int]]]:
        per_probe, rows = mih.candidates_many(batch, radius)
        shift = len(batch).bit_length()  # probe numbers fit below this bit
        # Sorted by row, the gather walks the values in order (the processor's prefetch
        # follows it: 6x faster than random order at 1 M PDQ), and a row met through
        # several substrings lands next to itself.
        pairs = (rows.astype(np.int64) << shift) | np.repeat(
            np.arange(len(batch), dtype=np.int64), per_probe
        )
        pairs.sort()
        rows, which = pairs >> shift, pairs & ((1 << shift) - 1)
        distances = _bit_distances(self._records[rows], _as_records(batch)[which])
        keep = np.flatnonzero(distances <= radius)
        pairs, distances = pairs[keep], distances[keep].astype(np.int64)
        first = np.ones(len(pairs), dtype=bool)
        first[1:] = pairs[1:] != pairs[:-1]
        pairs, distances = pairs[first], distances[first]
        which, keys = pairs & ((1 << shift) - 1), self._keys[pairs >> shift]
        order = np.lexsort((keys, distances, which))
        which, keys, distances = which[order], keys[order], distances[order]
        bounds = np.searchsorted(which, np.arange(len(batch) + 1)).tolist()
        found = list(zip(keys.tolist(), distances.tolist(), strict=True))
        return [found[bounds[i] : bounds[i + 1]] for i in range(len(batch))]

    def distances(self, value: bytes, keys: Sequence[int]) -> list[int | None]:
        """Distance from ``value`` to the entry of each key (None: no such key)."""
        if self._sorted_keys is None:
            self._key_order = np.argsort(self._keys, kind="stable")
            self._sorted_keys = self._keys[self._key_order]
        wanted = np.asarray(keys, dtype=np.int64)
        at = np.minimum(np.searchsorted(self._sorted_keys, wanted), len(self._sorted_keys) - 1)
        present = self._sorted_keys[at] == wanted if len(self._sorted_keys) else at < 0
        probe = np.frombuffer(value, dtype=">u8").astype(np.uint64).reshape(1, -1)
        rows = self._key_order[at[present]] if len(self._sorted_keys) else at[present]
        found = _bit_distances(self._records[rows], _as_records(probe))
        out: list[int | None] = [None] * len(wanted)
        for i, distance in zip(np.flatnonzero(present).tolist(), found.tolist(), strict=True):
            out[i] = int(distance)
        return out

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
            return self._answer_batch(mih, probe.reshape(1, -1), radius)[0]
        all_distances = _bit_distances(self._records, _as_records(probe.reshape(1, -1)))
        rows = np.flatnonzero(all_distances <= radius)
        distances = all_distances[rows].astype(np.int64)
        order = np.lexsort((self._keys[rows], distances))
        return [(int(self._keys[rows[i]]), int(distances[i])) for i in order]


class IndexGroup:
    """Several indexes queried as one: index ``i``'s keys come back as ``(i << shift) | key``.

    Each hash set keeps its own index (persisted with the store); a scan queries the group
    of the sets it uses.
    """

    def __init__(self, indexes: Sequence[NearIndex], shift: int) -> None:
        self._indexes = list(indexes)
        self._shift = shift

    def __len__(self) -> int:
        return sum(len(i) for i in self._indexes)

    def distances(self, value: bytes, keys: Sequence[int]) -> list[int | None]:
        """Distance from ``value`` to the entry of each (group) key (None: no such key)."""
        out: list[int | None] = [None] * len(keys)
        mask = (1 << self._shift) - 1
        by_index: dict[int, list[int]] = {}
        for i, key in enumerate(keys):
            by_index.setdefault(key >> self._shift, []).append(i)
        for position, places in by_index.items():
            if position >= len(self._indexes):
                continue
            found = self._indexes[position].distances(value, [keys[i] & mask for i in places])
            for i, distance in zip(places, found, strict=True):
                out[i] = distance
        return out

    def query_many(self, values: Sequence[bytes], radius: int) -> list[list[tuple[int, int]]]:
        """``query`` of each value, each index answering them together."""
        per_index = [index.query_many(values, radius) for index in self._indexes]
        out = []
        for i in range(len(values)):
            found = [
                [(d, (position << self._shift) | key) for key, d in answers[i]]
                for position, answers in enumerate(per_index)
            ]
            out.append([(key, d) for d, key in heapq.merge(*found)])
        return out

    def query(self, value: bytes, radius: int) -> list[tuple[int, int]]:
        """``(key, distance)`` of every value within ``radius``, nearest first."""
        found = [
            [
                (distance, (position << self._shift) | key)
                for key, distance in index.query(value, radius)
            ]
            for position, index in enumerate(self._indexes)
        ]
        return [(key, distance) for distance, key in heapq.merge(*found)]
