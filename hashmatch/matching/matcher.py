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
from typing import TYPE_CHECKING

import numpy as np

from hashmatch.hashing import (
    CryptographicAlgorithm,
    FileHashes,
    PerceptualAlgorithm,
    algorithm_names,
    get_algorithm,
    get_perceptual,
)
from hashmatch.hashing.variants import Transform, Variant
from hashmatch.hashsets.categories import Category
from hashmatch.hashsets.model import EntryDetails, HashSetInfo
from hashmatch.matching.near import IndexGroup, NearIndex
from hashmatch.matching.thresholds import Thresholds

if TYPE_CHECKING:  # the store saves near indexes: importing it here would be circular
    from hashmatch.hashsets.store import HashSetStore

_ROWID_BITS = 40
#: Algorithms in the registry's order (md5, sha1, sha256, ...).
_ALGORITHM_ORDER = {name: k for k, name in enumerate(algorithm_names())}


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
    #: The size of the file the set's entry describes, where the set records one.
    known_size: int | None = None
    #: For an exact hit, whether the entry records another size than the bytes hashed:
    #: the same hash for another size, a collision or a wrong entry (hashdeep calls it a
    #: hash collision and does not count the match).
    size_mismatch: bool = False
    #: For an exact hit, the file's other hashes the entry gives another value of (it
    #: has one, and the file's is not it): a collision of this hit's algorithm, or a
    #: wrong entry (hashdeep's "partial hash match").
    hash_mismatch: tuple[str, ...] = ()

    @property
    def disagrees(self) -> bool:
        """Whether the entry of this exact hit is not the file: it records another size,
        or another value of one of the file's other hashes."""
        return self.size_mismatch or bool(self.hash_mismatch)

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
        self._near: dict[str, IndexGroup] = {}
        for name, _ in thresholds.values:
            if any(name in s.algorithms for s in self._sets):
                self._near[name] = self._build_near(get_perceptual(name))

    def _build_near(self, algorithm: PerceptualAlgorithm) -> IndexGroup:
        """The chosen sets' indexes: loaded as saved with the set, or built here (small
        sets, and sets imported before indexes were saved). References too flat to match
        are left out of both."""
        indexes = []
        for info in self._sets:
            index = self._store.near_index(info, algorithm.name)
            if index is None:
                rowids, values = self._store.value_arrays(
                    info, algorithm.name, algorithm.min_quality
                )
                words = np.frombuffer(values, dtype=">u8").astype(np.uint64)
                index = NearIndex(algorithm.bits, words, rowids)
            indexes.append(index)
        return IndexGroup(indexes, _ROWID_BITS)

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
        # Identical hits say nothing more than one (NSRL's FILE table lists a file once
        # for every package that ships it, often under the same name): kept once.
        return [
            Verdict(tuple(sorted(dict.fromkeys(h), key=Hit.sort_key)), tuple(n))
            for h, n in zip(hits, notes, strict=True)
        ]

    def _exact(self, batch: Sequence[FileHashes], hits: list[list[Hit]]) -> None:
        wanted: dict[str, dict[bytes, list[int]]] = defaultdict(lambda: defaultdict(list))
        for i, hashed in enumerate(batch):
            for value in hashed.hashes:
                if isinstance(get_algorithm(value.algorithm), CryptographicAlgorithm):
                    wanted[value.algorithm][value.to_bytes()].append(i)
        found_by: list[list[tuple[str, EntryDetails]]] = [[] for _ in batch]
        for algorithm, by_value in wanted.items():
            for info in self._sets:
                found = self._store.lookup(info, algorithm, by_value)
                for raw, entries in found.items():
                    for i in by_value[raw]:
                        found_by[i].extend((algorithm, e) for e in entries)
        for hashed, found_here, into in zip(batch, found_by, hits, strict=True):
            into.extend(_exact_hits(hashed, found_here))

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
            answers = index.query_many([raw for _, raw in queries], radius)
            for (transform, _), answer in zip(queries, answers, strict=True):
                for key, distance in answer:
                    if key not in best or distance < best[key][0]:
                        best[key] = (distance, transform)
            confirming = [v for v in mine if v.transform.confirm_only]
            if confirming:
                self._confirm(index, value.to_bytes(), confirming, radius, algorithm, best)
            by_set: dict[int, list[tuple[int, int, Transform | None]]] = defaultdict(list)
            for key, (distance, transform) in best.items():
                rowid = key & ((1 << _ROWID_BITS) - 1)
                by_set[key >> _ROWID_BITS].append((rowid, distance, transform))
            for position, found in by_set.items():
                details = self._store.details(self._sets[position], (r for r, _, _ in found), name)
                for rowid, distance, transform in found:
                    hit = _hit(HitType.NEAR, name, distance, radius, details[rowid])
                    if transform is not None:
                        hit = dataclasses.replace(hit, transform=transform.value)
                    hits.append(hit)

    @staticmethod
    def _confirm(
        index: IndexGroup,
        picture: bytes,
        confirming: Sequence[Variant],
        radius: int,
        algorithm: PerceptualAlgorithm,
        best: dict[int, tuple[int, Transform | None]],
    ) -> None:
        """Let crop variants confirm entries, never find them: an entry a crop comes within
        ``radius`` of counts only if the picture itself is within the algorithm's
        candidate threshold of it. The crops are queried first (a small radius, answered
        by the multi-index) and the picture's distance is checked on their few hits,
        instead of a query of the picture at the candidate threshold, which at PDQ's 96
        bits would scan the whole index."""
        proposals: dict[int, tuple[int, Transform | None]] = {}
        answers = index.query_many([v.to_bytes() for v in confirming], radius)
        for variant, answer in zip(confirming, answers, strict=True):
            for key, distance in answer:
                if key in best and best[key][0] <= distance:
                    continue
                if key not in proposals or distance < proposals[key][0]:
                    proposals[key] = (distance, variant.transform)
        if not proposals:
            return
        keys = list(proposals)
        for key, apart in zip(keys, index.distances(picture, keys), strict=True):
            if apart is not None and apart <= algorithm.candidate_threshold:
                best[key] = proposals[key]


def _exact_hits(hashed: FileHashes, found: list[tuple[str, EntryDetails]]) -> list[Hit]:
    """A file's exact hits, each checked against its entry: the size it records, and
    the file's other hashes it gives another value of (an entry found by one of the
    file's hashes and not by another it has a value of: the lookups found every entry
    that has the file's value)."""
    mine = {value.algorithm for value in hashed.hashes}
    by_entry: dict[tuple[str, int], set[str]] = defaultdict(set)
    for algorithm, entry in found:
        if entry.entry is not None:
            by_entry[entry.hashset, entry.entry].add(algorithm)
    hits = []
    for algorithm, entry in found:
        others: list[str] = []
        if entry.holds is not None and entry.entry is not None:
            agreeing = by_entry[entry.hashset, entry.entry]
            others = sorted((entry.holds & mine) - agreeing, key=_ALGORITHM_ORDER.__getitem__)
        hit = _hit(HitType.EXACT, algorithm, 0, None, entry)
        # (A size of 0 for a file that is not empty is how some exporters write "not
        # known": it is not compared.)
        differs = bool(entry.size) and entry.size != hashed.bytes_read
        hits.append(dataclasses.replace(hit, size_mismatch=differs, hash_mismatch=tuple(others)))
    return hits


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
        known_size=entry.size,
    )
