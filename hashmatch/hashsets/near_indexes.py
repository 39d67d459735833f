"""The near-match indexes a store keeps for its perceptual sets, in ``near/<set id>/``.

At import, each perceptual algorithm of a set with ``MIH_MIN_ENTRIES`` or more usable
values gets its index built and saved (``save_all``); a scan memory-maps it instead of
building it (``load_or_build``). A set that has no saved index although it is large
enough (imported before indexes were saved, or saved by another index format) gets one
built and saved the first time a scan asks, so that the next scan maps it. Late saves
are staged in a scratch folder and moved into place arrays first, description last: a
scan reading at the same moment finds no index or a whole one. A store that cannot be
written (read-only media) still gets the index, for that scan only.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np

from hashmatch.hashing import PerceptualAlgorithm, get_algorithm
from hashmatch.hashsets.durable import sync_folder
from hashmatch.matching.near import MIH_MIN_ENTRIES, NearIndex

#: (keys, packed raw values) of one algorithm's values of at least a quality: a set's
#: values as its layout gives them (row ids, or positions in a packed value file).
ValueArrays = Callable[[str, int], tuple[np.ndarray, bytes]]


def meta(algorithm: str) -> dict[str, object]:
    """What a saved index must have been built with to be used as it is."""
    found = get_algorithm(algorithm)
    min_quality = found.min_quality if isinstance(found, PerceptualAlgorithm) else 0
    return {"algorithm": algorithm, "min_quality": min_quality}


def save_all(target: Path, algorithms: Iterable[str], arrays: ValueArrays) -> None:
    """Build and save the index of each perceptual algorithm of a newly imported set
    that is large enough (small sets are scanned directly)."""
    for name in sorted(algorithms):
        index = _build(arrays, name)
        if index is not None:
            target.mkdir(parents=True, exist_ok=True)
            index.save(target, name, meta(name))
    if target.is_dir():
        sync_folder(target)  # (before the import's commit names the set)


def load_or_build(target: Path, algorithm: str, arrays: ValueArrays) -> NearIndex | None:
    """The saved index (memory-mapped); else, for a set large enough, one built now and
    saved for the next scan; None for a small set (the scan builds its own)."""
    index = NearIndex.load(target, algorithm, meta(algorithm))
    if index is not None:
        return index
    index = _build(arrays, algorithm)
    if index is None:
        return None
    try:
        _save_late(index, target, algorithm)
    except OSError:
        return index  # a read-only store: this scan uses the index it built
    return NearIndex.load(target, algorithm, meta(algorithm)) or index


def _build(arrays: ValueArrays, name: str) -> NearIndex | None:
    algorithm = get_algorithm(name)
    if not isinstance(algorithm, PerceptualAlgorithm):
        return None
    ids, values = arrays(name, algorithm.min_quality)
    if len(ids) < MIH_MIN_ENTRIES:
        return None
    words = np.frombuffer(values, dtype=">u8").astype(np.uint64)
    return NearIndex(algorithm.bits, words, ids)


def _save_late(index: NearIndex, target: Path, algorithm: str) -> None:
    target.mkdir(parents=True, exist_ok=True)
    # The scratch folder's name is no set id: an import's clean-up may remove it.
    staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=target.parent))
    try:
        index.save(staging, algorithm, meta(algorithm))
        sync_folder(staging)
        for part in sorted(staging.glob(f"{algorithm}.*.npy")):
            os.replace(part, target / part.name)
        os.replace(staging / f"{algorithm}.json", target / f"{algorithm}.json")
        sync_folder(target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
