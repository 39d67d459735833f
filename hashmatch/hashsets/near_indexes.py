"""The near-match indexes a store keeps for its perceptual sets, in ``near/<set id>/``.

At import, each perceptual algorithm of a set with ``MIH_MIN_ENTRIES`` or more usable
values gets its index built and saved (``save_all``); a scan memory-maps it instead of
building it (``load_or_build``). A set that has no saved index although it is large
enough (imported before indexes were saved, or saved by another index format) gets one
built and saved the first time a scan asks, so that the next scan maps it. Late saves
are staged in a scratch folder and moved into place arrays first, description last: a
scan reading at the same moment finds no index or a whole one. A store that cannot be
written (read-only media) still gets the index, built in memory for that scan only.
Indexes are written a part at a time from values read in chunks (``near_write``): a
packed set's index costs memory in proportion to one group of substrings, not to the
whole index.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from hashmatch.hashing import PerceptualAlgorithm, get_algorithm
from hashmatch.hashsets.durable import sync_folder
from hashmatch.matching.near import MIH_MIN_ENTRIES, NearIndex
from hashmatch.matching.near_write import write_index


@dataclass(frozen=True)
class Values:
    """One algorithm's values for an index: how many, their raw bytes in order (read in
    chunks, afresh at each call: a packed set's from its file, so that an index is
    written in bounded memory), and their keys (None: their positions 0, 1...; what
    a set's ``details`` takes back)."""

    count: int
    chunks: Callable[[], Iterator[bytes]]
    keys: np.ndarray | None = None

    @classmethod
    def of(cls, keys: np.ndarray, raw: bytes) -> Values:
        """Values already in memory (a row set's)."""
        return cls(len(keys), lambda: iter([raw] if raw else []), keys)


#: The values of one algorithm of at least a quality, as a set's layout gives them.
ValueSource = Callable[[str, int], Values]


def meta(algorithm: str) -> dict[str, object]:
    """What a saved index must have been built with to be used as it is."""
    found = get_algorithm(algorithm)
    min_quality = found.min_quality if isinstance(found, PerceptualAlgorithm) else 0
    return {"algorithm": algorithm, "min_quality": min_quality}


def save_all(target: Path, algorithms: Iterable[str], source: ValueSource) -> None:
    """Save the index of each perceptual algorithm of a newly imported set that is large
    enough (small sets are scanned directly)."""
    for name in sorted(algorithms):
        values = _values(source, name)
        if values is not None:
            target.mkdir(parents=True, exist_ok=True)
            _write(target, name, values)
    if target.is_dir():
        sync_folder(target)  # (before the import's commit names the set)


def load_or_build(target: Path, algorithm: str, source: ValueSource) -> NearIndex | None:
    """The saved index (memory-mapped); else, for a set large enough, one written now
    for this scan and the next; None for a small set (the scan builds its own)."""
    index = NearIndex.load(target, algorithm, meta(algorithm))
    if index is not None:
        return index
    values = _values(source, algorithm)
    if values is None:
        return None
    try:
        _save_late(values, target, algorithm)
    except OSError:  # a read-only store: this scan builds the index in memory
        return _built(values, algorithm)
    return NearIndex.load(target, algorithm, meta(algorithm)) or _built(values, algorithm)


def _values(source: ValueSource, name: str) -> Values | None:
    """The values an index of ``name`` is made of; None if it gets none (not
    perceptual, or too few values)."""
    algorithm = get_algorithm(name)
    if not isinstance(algorithm, PerceptualAlgorithm):
        return None
    values = source(name, algorithm.min_quality)
    return values if values.count >= MIH_MIN_ENTRIES else None


def _write(directory: Path, name: str, values: Values) -> None:
    bits = get_algorithm(name).bits
    write_index(directory, name, meta(name), bits, values.count, values.chunks, values.keys)


def _built(values: Values, name: str) -> NearIndex:
    words = np.frombuffer(b"".join(values.chunks()), dtype=">u8").astype(np.uint64)
    keys = np.arange(values.count, dtype=np.int64) if values.keys is None else values.keys
    return NearIndex(get_algorithm(name).bits, words, keys)


def _save_late(values: Values, target: Path, algorithm: str) -> None:
    target.mkdir(parents=True, exist_ok=True)
    # The scratch folder's name is no set id: an import's clean-up may remove it.
    staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=target.parent))
    try:
        _write(staging, algorithm, values)
        sync_folder(staging)
        for part in sorted(staging.glob(f"{algorithm}.*.npy")):
            os.replace(part, target / part.name)
        os.replace(staging / f"{algorithm}.json", target / f"{algorithm}.json")
        sync_folder(target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
