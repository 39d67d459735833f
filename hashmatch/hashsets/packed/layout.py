"""The files of a packed set, and the block of parsed values that feeds them.

A packed set lives in its own directory of the store (an entry has at most one value
per algorithm, and needs none of the others):

- ``<algorithm>.values``: every value of that algorithm, raw bytes, fixed width,
  sorted bytewise (so ``numpy.searchsorted`` finds a value in a memory map);
- ``<algorithm>.entries``: the entry number (1-based, file order) of each value, in
  the same order;
- ``refs.data`` and ``refs.offsets``: each entry's reference (the file name a list gives
  it), UTF-8 bytes back to back, and ``entries + 1`` offsets into them; absent when
  no entry has one (a bare list);
- ``labels.codes`` and ``labels.json``: each entry's label code (``<u2``; 0: none of its
  own, the set's label and category apply) and what each code means
  (``[[label, category or null], ...]``, code 1 first); absent when no entry has one;
- ``records.data`` and ``records.offsets``: each entry's original record (JSON, UTF-8),
  laid out like the references; absent when the format keeps none (all but VICS).
- ``qualities``: each entry's quality (``u1``, 0-100; ``QUALITY_NONE``: none given), for
  formats that give one (PDQ lists); absent otherwise.
- ``sizes``: each entry's file size in bytes (``<u8``; ``SIZE_NONE``: none given), for
  formats that give one (hashdeep, NSRL, HashKeeper, CSV); absent otherwise.
- ``holds``: which cryptographic algorithms each entry has a value of (``u1``, bit
  ``k`` for ``HOLD_ALGORITHMS[k]``; 0: not recorded, as for the entries of a block with
  one such algorithm only), so that a hit can tell "the entry's SHA-1 is another" from
  "the entry has no SHA-1"; bit 7 (``HOLDS_SEVERAL``) for an entry with two values of
  one algorithm (a VICS medium with an alternative MD5 of its own), which describes more
  than one file; absent when no block had two of them or such an entry (a hash list).

An entry may have more than one value of an algorithm (a VICS medium whose alternative
MD5 differs from its own); a lookup finds it by each of them.

Only plain arrays, little-endian, no pickle: any numpy can read them back.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from hashmatch.hashsets.categories import Category

ENTRY_DTYPE = np.dtype("<u8")
OFFSET_DTYPE = np.dtype("<u8")
LABEL_CODE_DTYPE = np.dtype("<u2")
QUALITY_DTYPE = np.dtype("u1")
#: An entry without a quality of its own.
QUALITY_NONE = 255
SIZE_DTYPE = np.dtype("<u8")
#: An entry without a file size.
SIZE_NONE = (1 << 64) - 1
#: The largest file size kept (hashdeep reads sizes as signed 64-bit numbers).
MAX_SIZE = (1 << 63) - 1
HOLDS_DTYPE = np.dtype("u1")
#: The algorithms ``holds`` records, bit 0 first (new ones go at the end).
HOLD_ALGORITHMS = ("md5", "sha1", "sha256")
#: The ``holds`` bit of an entry with two or more values of one of them.
HOLDS_SEVERAL = 0x80
#: Distinct labels a packed set can hold (code 0 means none of its own).
MAX_LABELS = 65_535


@dataclass(frozen=True)
class PackedLabel:
    """An entry's own label, and its own category (None: the set's)."""

    label: str
    category: Category | None = None


@dataclass(frozen=True)
class PackedColumn:
    """One algorithm's values in a block: ``values`` is ``(k, width)`` uint8 and ``rows``
    the block's entries (0-based, ascending) they belong to."""

    algorithm: str
    values: np.ndarray
    rows: np.ndarray


@dataclass(frozen=True)
class PackedBlock:
    """Consecutive entries parsed in bulk, each with at most one value per algorithm.

    Entry ``i``'s reference is ``ref_data[ref_offsets[i]:ref_offsets[i + 1]]`` (empty:
    none); ``ref_offsets`` has ``entries + 1`` items.
    """

    entries: int
    columns: tuple[PackedColumn, ...]
    ref_data: bytes
    ref_offsets: np.ndarray
    #: Per entry, 0 (no label of its own) or ``k``: ``label_table[k - 1]``.
    label_codes: np.ndarray | None = None
    label_table: tuple[PackedLabel, ...] = ()
    #: Entry ``i``'s original record is ``record_data[record_offsets[i]:...[i + 1]]``
    #: (None: the block keeps no records). A view is valid only until the next block
    #: is asked for (a reader's buffer, used again: ``formats/shared_slots.py``).
    record_data: bytes | memoryview = b""
    record_offsets: np.ndarray | None = None
    #: Per entry, its quality (``QUALITY_DTYPE``; None: no entry has one).
    qualities: np.ndarray | None = None
    #: Per entry, its file size (``SIZE_DTYPE``; None: no entry has one).
    sizes: np.ndarray | None = None

    @classmethod
    def single(
        cls, algorithm: str, values: np.ndarray, ref_data: bytes, ref_offsets: np.ndarray
    ) -> PackedBlock:
        """Entries of one value each, all of ``algorithm`` (a hash list)."""
        rows = np.arange(len(values), dtype=np.int64)
        return cls(len(values), (PackedColumn(algorithm, values, rows),), ref_data, ref_offsets)


def split_around(n: int, singled: Iterable[int]) -> Iterator[tuple[int, int, int | None]]:
    """Rows ``0`` to ``n - 1`` cut around the ``singled`` ones (ascending, each below
    ``n``): for each, and once more at the end, ``(low, high, row)``: the run of rows
    ``low`` to ``high - 1`` before it (perhaps empty), then the row (None at the end).
    How a block reader puts each row it cannot take in bulk in its place."""
    done = 0
    for row in [*singled, n]:
        yield done, row, (row if row < n else None)
        done = row + 1


def values_path(directory: Path, algorithm: str) -> Path:
    return directory / f"{algorithm}.values"


def entries_path(directory: Path, algorithm: str) -> Path:
    return directory / f"{algorithm}.entries"


def ref_data_path(directory: Path) -> Path:
    return directory / "refs.data"


def ref_offsets_path(directory: Path) -> Path:
    return directory / "refs.offsets"


def label_codes_path(directory: Path) -> Path:
    return directory / "labels.codes"


def label_table_path(directory: Path) -> Path:
    return directory / "labels.json"


def record_data_path(directory: Path) -> Path:
    return directory / "records.data"


def record_offsets_path(directory: Path) -> Path:
    return directory / "records.offsets"


def qualities_path(directory: Path) -> Path:
    return directory / "qualities"


def sizes_path(directory: Path) -> Path:
    return directory / "sizes"


def holds_path(directory: Path) -> Path:
    return directory / "holds"


def block_holds(block: PackedBlock) -> np.ndarray | None:
    """Per entry of ``block``, the bits of ``HOLD_ALGORITHMS`` it has values of and
    ``HOLDS_SEVERAL`` if two of one; None when the block has values of one of them at
    most, one an entry (nothing to compare a hit with, nothing ambiguous)."""
    rows: dict[str, list[np.ndarray]] = {}
    for column in block.columns:
        if column.algorithm in HOLD_ALGORITHMS and len(column.rows):
            rows.setdefault(column.algorithm, []).append(column.rows)
    counts = {name: np.bincount(np.concatenate(parts), minlength=block.entries)
              for name, parts in rows.items()}  # fmt: skip
    several = [count > 1 for count in counts.values()]
    if len(counts) < 2 and not any(s.any() for s in several):
        return None
    holds = np.zeros(block.entries, HOLDS_DTYPE)
    for name, count in counts.items():
        holds[count > 0] |= 1 << HOLD_ALGORITHMS.index(name)
    for many in several:
        holds[many] |= HOLDS_SEVERAL
    return holds


def held(bits: int) -> frozenset[str]:
    """The algorithms a ``holds`` item names (not ``HOLDS_SEVERAL``)."""
    return frozenset(name for k, name in enumerate(HOLD_ALGORITHMS) if bits >> k & 1)
