"""The matcher: compare a file's hashes with the chosen hash sets and explain every hit.

Cryptographic values are looked up exactly through the store's indexes, a batch of
files at a time. Perceptual values are compared by Hamming distance against an
in-memory ``NearIndex`` per algorithm, built once per scan from every chosen set. A
perceptual value whose quality is below its algorithm's minimum gives no perceptual
verdict: it is never a hit, and the verdict says so.
"""

from __future__ import annotations

import dataclasses
import enum
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from hashmatch.hashing import (
    CryptographicAlgorithm,
    FileHashes,
    PerceptualAlgorithm,
    get_algorithm,
    get_perceptual,
)
from hashmatch.hashing.variants import Transform
from hashmatch.hashsets.categories import Category
from hashmatch.hashsets.model import EntryDetails, HashSetInfo
from hashmatch.hashsets.store import HashSetStore
from hashmatch.matching.near import NearIndex
from hashmatch.matching.thresholds import Thresholds

_ROWID_BITS = 40


class HitType(enum.Enum):
    EXACT = "exact"
    NEAR = "near"


@dataclass(frozen=True)
class Hit:
    """One reason a file matched: which algorithm, how close, which set entry."""

    type: HitType
    algorithm: str
    distance: int
    threshold: int | None
    hashset: str
    category: Category
    label: str | None
    reference: str | None
    matched_value: str
    transform: str | None = None

    def sort_key(self) -> tuple[object, ...]:
        return (
            self.type is not HitType.EXACT,
            self.distance,
            self.algorithm,
            self.hashset,
            self.reference or "",
            self.matched_value,
        )


@dataclass(frozen=True)
class Verdict:
    hits: tuple[Hit, ...] = ()
    #: Why part of the file gave no verdict, e.g. a PDQ quality under 50.
    notes: tuple[str, ...] = ()

    @property
    def listed(self) -> bool:
        """At least one hit against a set that is not known-good: a match to report."""
        return any(hit.category.listed for hit in self.hits)

    @property
    def known_good_only(self) -> bool:
        return bool(self.hits) and not self.listed


class Matcher:
    """Matches batches of hashed files against a fixed choice of sets."""

    def __init__(
        self, store: HashSetStore, sets: Sequence[HashSetInfo], thresholds: Thresholds
    ) -> None:
        self._store = store
        self._sets = list(sets)
        self.thresholds = thresholds
        self._near: dict[str, NearIndex] = {}
        for name, _ in thresholds.values:
            if any(name in s.algorithms for s in self._sets):
                self._near[name] = self._build_near(get_perceptual(name))

    def _build_near(self, algorithm: PerceptualAlgorithm) -> NearIndex:
        """One index over every chosen set; references too flat to match are left out."""
        keys, packed = [], []
        for position, info in enumerate(self._sets):
            rowids, values = self._store.value_arrays(info, algorithm.name, algorithm.min_quality)
            keys.append((np.int64(position) << _ROWID_BITS) | rowids)
            packed.append(values)
        words = np.frombuffer(b"".join(packed), dtype=">u8").astype(np.uint64)
        all_keys = np.concatenate(keys) if keys else np.empty(0, dtype=np.int64)
        return NearIndex(algorithm.bits, words, all_keys)

    @property
    def near_algorithms(self) -> tuple[str, ...]:
        return tuple(self._near)

    def near_index_size(self, algorithm: str) -> int:
        index = self._near.get(algorithm)
        return len(index) if index is not None else 0

    def match(self, batch: Sequence[FileHashes]) -> list[Verdict]:
        hits: list[list[Hit]] = [[] for _ in batch]
        notes: list[list[str]] = [[] for _ in batch]
        self._exact(batch, hits)
        for i, hashed in enumerate(batch):
            self._near_hits(hashed, hits[i], notes[i])
        return [
            Verdict(tuple(sorted(h, key=Hit.sort_key)), tuple(n))
            for h, n in zip(hits, notes, strict=True)
        ]

    def _exact(self, batch: Sequence[FileHashes], hits: list[list[Hit]]) -> None:
        wanted: dict[str, dict[bytes, list[int]]] = defaultdict(lambda: defaultdict(list))
        for i, hashed in enumerate(batch):
            for value in hashed.hashes:
                if isinstance(get_algorithm(value.algorithm), CryptographicAlgorithm):
                    wanted[value.algorithm][value.to_bytes()].append(i)
        for algorithm, by_value in wanted.items():
            for info in self._sets:
                found = self._store.lookup(info, algorithm, by_value)
                for raw, entries in found.items():
                    for i in by_value[raw]:
                        hits[i].extend(_hit(HitType.EXACT, algorithm, 0, None, e) for e in entries)

    def _near_hits(self, hashed: FileHashes, hits: list[Hit], notes: list[str]) -> None:
        for name, index in self._near.items():
            value = hashed.get(name)
            if value is None:
                continue
            algorithm = get_perceptual(name)
            if value.quality is not None and value.quality < algorithm.min_quality:
                notes.append(
                    f"{name} quality {value.quality} is below {algorithm.min_quality}: "
                    "too little detail for a perceptual verdict"
                )
                continue
            radius = self.thresholds.of(name)
            # The picture as it is first, then its variants: an entry keeps the closest
            # match, and the picture as it is wins a tie.
            best: dict[int, tuple[int, Transform | None]] = {}
            queries: list[tuple[Transform | None, bytes]] = [(None, value.to_bytes())]
            mine = [v for v in hashed.variants if v.algorithm == name]
            queries += [(v.transform, v.to_bytes()) for v in mine if not v.transform.confirm_only]
            for transform, raw in queries:
                for key, distance in index.query(raw, radius):
                    if key not in best or distance < best[key][0]:
                        best[key] = (distance, transform)
            confirming = [v for v in mine if v.transform.confirm_only]
            if confirming:
                # Only entries the picture itself comes near may be confirmed by a crop
                # variant: it never finds an unrelated entry on its own.
                candidates = {k for k, _ in index.query(value.to_bytes(),
                                                        algorithm.candidate_threshold)}  # fmt: skip
                for variant in confirming:
                    for key, distance in index.query(variant.to_bytes(), radius):
                        if key in candidates and (key not in best or distance < best[key][0]):
                            best[key] = (distance, variant.transform)
            by_set: dict[int, list[tuple[int, int, Transform | None]]] = defaultdict(list)
            for key, (distance, transform) in best.items():
                rowid = key & ((1 << _ROWID_BITS) - 1)
                by_set[key >> _ROWID_BITS].append((rowid, distance, transform))
            for position, found in by_set.items():
                details = self._store.details(self._sets[position], (r for r, _, _ in found))
                for rowid, distance, transform in found:
                    hit = _hit(HitType.NEAR, name, distance, radius, details[rowid])
                    if transform is not None:
                        hit = dataclasses.replace(hit, transform=transform.value)
                    hits.append(hit)


def _hit(
    kind: HitType, algorithm: str, distance: int, threshold: int | None, entry: EntryDetails
) -> Hit:
    return Hit(
        type=kind,
        algorithm=algorithm,
        distance=distance,
        threshold=threshold,
        hashset=entry.hashset,
        category=entry.category,
        label=entry.label,
        reference=entry.reference,
        matched_value=entry.value,
    )
