"""Reading a packed set through memory maps: exact lookups, the values a near index is
built from, and export in entry order.

Nothing is loaded up front: a lookup sorts its queries and binary-searches the sorted
value file, so it touches a few pages per query however large the set is. A near index
knows a value by its position in the sorted value file (``value_arrays``), which leads
straight back to the value and its entry (``at``).
"""

from __future__ import annotations

import heapq
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from itertools import groupby
from operator import itemgetter
from pathlib import Path

import numpy as np
import numpy.typing as npt

from hashmatch.hashsets.categories import Category
from hashmatch.hashsets.name_decoding import NAME_ERRORS
from hashmatch.hashsets.packed.layout import (
    ENTRY_DTYPE,
    HOLDS_DTYPE,
    HOLDS_SEVERAL,
    LABEL_CODE_DTYPE,
    OFFSET_DTYPE,
    QUALITY_DTYPE,
    QUALITY_NONE,
    SIZE_DTYPE,
    SIZE_NONE,
    PackedLabel,
    entries_path,
    held,
    holds_path,
    label_codes_path,
    label_table_path,
    qualities_path,
    record_data_path,
    record_offsets_path,
    ref_data_path,
    ref_offsets_path,
    sizes_path,
    values_path,
)

#: Entries gathered per pass when a set is read back in entry order.
EXPORT_RANGE = 2_000_000
#: Values read at a time for a near index (4 MB of PDQ values).
CHUNK_VALUES = 1 << 17


@dataclass(frozen=True)
class PackedHit:
    entry: int
    reference: str | None
    label: PackedLabel | None = None  # None: the set's own label and category


def _size(path: Path) -> int | None:
    try:
        return path.stat().st_size
    except OSError:
        return None


def _map(path: Path, dtype: npt.DTypeLike) -> np.ndarray:
    """The file's whole items, memory-mapped (a file cut inside an item, which numpy
    refuses to map, is mapped without its last part: ``damage`` says it is not whole)."""
    size = _size(path) or 0
    items = size // np.dtype(dtype).itemsize
    if items == 0:
        return np.empty(0, dtype)
    return np.memmap(path, dtype=dtype, mode="r", shape=(items,))


class PackedSet:
    """A packed set's directory, opened read-only."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._refs = _MappedTexts(ref_data_path(directory), ref_offsets_path(directory))
        self._records = _MappedTexts(record_data_path(directory), record_offsets_path(directory))
        self._label_codes = _map(label_codes_path(directory), LABEL_CODE_DTYPE)
        self._label_table = _label_table(label_table_path(directory))
        self._qualities = _map(qualities_path(directory), QUALITY_DTYPE)
        self._sizes = _map(sizes_path(directory), SIZE_DTYPE)
        self._holds = _map(holds_path(directory), HOLDS_DTYPE)

    def damage(self, widths: Mapping[str, int], entries: int, hashes: int) -> str | None:
        """What is wrong with the set's files, measured against what the catalogue says
        it holds (``widths``: each algorithm's value size; ``entries``; ``hashes``: values
        of all algorithms); None if nothing. A file missing, cut short or grown would
        otherwise read as fewer values, labels or names, and lookups miss silently."""
        found = 0
        for algorithm, width in widths.items():
            values, numbers = (
                values_path(self.directory, algorithm),
                entries_path(self.directory, algorithm),
            )
            size = _size(values)
            if size is None or size == 0 or size % width:
                return f"{values.name} is missing or not whole ({size} bytes)"
            count = size // width
            if _size(numbers) != count * np.dtype(ENTRY_DTYPE).itemsize:
                return f"{numbers.name} does not match {values.name} ({count} values)"
            found += count
        if found != hashes:
            return f"its value files hold {found} values, the catalogue {hashes}"
        codes, table = label_codes_path(self.directory), label_table_path(self.directory)
        if table.exists() != codes.exists():
            return f"{codes.name} or {table.name} is missing"
        if codes.exists() and _size(codes) != entries * np.dtype(LABEL_CODE_DTYPE).itemsize:
            return f"{codes.name} does not hold one label for each of {entries} entries"
        qualities = qualities_path(self.directory)
        if qualities.exists() and _size(qualities) != entries:
            return f"{qualities.name} does not hold one quality for each of {entries} entries"
        sizes = sizes_path(self.directory)
        if sizes.exists() and _size(sizes) != entries * SIZE_DTYPE.itemsize:
            return f"{sizes.name} does not hold one file size for each of {entries} entries"
        holds = holds_path(self.directory)
        if holds.exists() and _size(holds) != entries:
            return f"{holds.name} does not hold one item for each of {entries} entries"
        for texts in (self._refs, self._records):
            if (problem := texts.damage(entries)) is not None:
                return problem
        return None

    def quality(self, entry: int) -> int | None:
        """The entry's quality, if its format gave one (PDQ lists)."""
        if len(self._qualities) == 0:
            return None
        found = int(self._qualities[entry - 1])
        return None if found == QUALITY_NONE else found

    def sized_entries(self) -> int:
        """How many entries have a file size (counted a part of the file at a time)."""
        return sum(int(np.count_nonzero(self._sizes[low : low + EXPORT_RANGE] != SIZE_NONE))
                   for low in range(0, len(self._sizes), EXPORT_RANGE))  # fmt: skip

    def size(self, entry: int) -> int | None:
        """The entry's file size, if its format gave one (hashdeep, NSRL, HashKeeper, CSV)."""
        if len(self._sizes) == 0:
            return None
        found = int(self._sizes[entry - 1])
        return None if found == SIZE_NONE else found

    def holds(self, entry: int) -> frozenset[str] | None:
        """The cryptographic algorithms the entry has values of; None where the set did
        not record it (a hash list, a set imported before it was kept) or the entry
        has two values of one (``several``)."""
        if len(self._holds) == 0:
            return None
        found = int(self._holds[entry - 1])
        return held(found) if found and not found & HOLDS_SEVERAL else None

    def records_holds(self) -> bool:
        """Whether the set records which algorithms each entry has values of."""
        return len(self._holds) > 0

    def several(self, entry: int) -> bool:
        """Whether the entry has two values of one algorithm (a VICS medium with an
        alternative MD5 of its own): it describes more than one file."""
        return len(self._holds) > 0 and bool(int(self._holds[entry - 1]) & HOLDS_SEVERAL)

    def kept_positions(self, algorithm: str, min_quality: int) -> np.ndarray | None:
        """Positions among one algorithm's sorted values of those of at least
        ``min_quality`` (values without a quality are kept); None: every value is."""
        if len(self._qualities) == 0 or min_quality <= 0:
            return None
        entries = _map(entries_path(self.directory, algorithm), ENTRY_DTYPE)
        kept = []
        for low in range(0, len(entries), EXPORT_RANGE):
            found = self._qualities[entries[low : low + EXPORT_RANGE].astype(np.int64) - 1]
            kept.append(np.flatnonzero(found >= min_quality) + low)  # (QUALITY_NONE: 255)
        return np.concatenate(kept) if kept else np.empty(0, np.int64)

    def _columns(self, algorithm: str, width: int) -> tuple[np.ndarray, np.ndarray]:
        return (
            _map(values_path(self.directory, algorithm), f"S{width}"),
            _map(entries_path(self.directory, algorithm), ENTRY_DTYPE),
        )

    def reference(self, entry: int) -> str | None:
        return self._refs.get(entry)

    def record(self, entry: int) -> str | None:
        """The entry's original record (JSON), if the format keeps records."""
        return self._records.get(entry)

    def label(self, entry: int) -> PackedLabel | None:
        """The entry's own label (None: it has none, the set's applies)."""
        if len(self._label_codes) == 0:
            return None
        code = int(self._label_codes[entry - 1])
        return self._label_table[code - 1] if code else None

    def label_counts(self, total_entries: int) -> list[tuple[PackedLabel | None, int]]:
        """How many entries have each label (None: no label of their own)."""
        if len(self._label_codes) == 0:
            return [(None, total_entries)] if total_entries else []
        counts = np.bincount(self._label_codes, minlength=len(self._label_table) + 1)
        return [(self._label_table[code - 1] if code else None, int(n))
                for code, n in enumerate(counts.tolist()) if n]  # fmt: skip

    def lookup(
        self, algorithm: str, width: int, values: Iterable[bytes]
    ) -> dict[bytes, list[PackedHit]]:
        """Every entry holding each of ``values`` (raw bytes of ``width``), in entry order."""
        found: dict[bytes, list[PackedHit]] = {}
        wanted = sorted({v for v in values if len(v) == width})
        if not wanted:
            return found
        stored, entries = self._columns(algorithm, width)
        if len(stored) == 0:
            return found
        queries = np.frombuffer(b"".join(wanted), f"S{width}")
        left = np.searchsorted(stored, queries, "left")
        right = np.searchsorted(stored, queries, "right")
        for i in np.flatnonzero(right > left).tolist():
            numbers = entries[left[i] : right[i]].tolist()
            found[wanted[i]] = [
                PackedHit(int(e), self.reference(int(e)), self.label(int(e))) for e in numbers
            ]
        return found

    def value_arrays(
        self, algorithm: str, width: int, min_quality: int = 0
    ) -> tuple[np.ndarray, bytes]:
        """(positions, raw values) of one algorithm's values of at least ``min_quality``
        (values without one are kept), in value order: what a near index is built from.
        ``at(algorithm, width, position)`` reads one back."""
        stored, _ = self._columns(algorithm, width)
        kept = self.kept_positions(algorithm, min_quality)
        if kept is None:
            return np.arange(len(stored), dtype=np.int64), stored.tobytes()
        return kept, stored[kept].tobytes()

    def value_count(self, algorithm: str, width: int) -> int:
        """How many values of one algorithm the set holds."""
        return (_size(values_path(self.directory, algorithm)) or 0) // width

    def value_chunks(
        self, algorithm: str, width: int, kept: np.ndarray | None = None
    ) -> Iterator[bytes]:
        """One algorithm's values in value order (only those at the positions ``kept``,
        if given), ``CHUNK_VALUES`` at a time, read from the file (not mapped: a near
        index is written from them in bounded memory)."""
        path = values_path(self.directory, algorithm)
        if not path.exists():
            return
        with path.open("rb") as stream:
            low = 0
            while chunk := stream.read(width * CHUNK_VALUES):
                high = low + len(chunk) // width
                if kept is not None:
                    first, last = np.searchsorted(kept, [low, high])
                    rows = np.frombuffer(chunk, np.uint8).reshape(-1, width)
                    chunk = rows[kept[first:last] - low].tobytes()
                low = high
                if chunk:
                    yield chunk

    def at(self, algorithm: str, width: int, position: int) -> tuple[int, bytes]:
        """(entry, raw value) at ``position`` of one algorithm's sorted values."""
        stored, entries = self._columns(algorithm, width)
        # Through uint8: a numpy bytes scalar would lose the value's trailing zero bytes.
        raw = stored.view(np.uint8)[position * width : (position + 1) * width]
        return int(entries[position]), raw.tobytes()

    def iter_values(
        self, algorithm: str, width: int, total_entries: int
    ) -> Iterator[tuple[int, bytes]]:
        """(entry, value) of one algorithm in entry order, ``EXPORT_RANGE`` entries a pass."""
        stored, entries = self._columns(algorithm, width)
        raw = stored.view(np.uint8).reshape(-1, width) if len(stored) else stored
        for low in range(1, total_entries + 1, EXPORT_RANGE):
            high = low + EXPORT_RANGE
            where = np.flatnonzero((entries >= low) & (entries < high))
            if len(where) == 0:
                continue
            order = np.argsort(entries[where], kind="stable")
            picked = where[order]
            numbers = entries[picked].tolist()
            block = np.ascontiguousarray(raw[picked]).tobytes()
            for k, entry in enumerate(numbers):
                yield int(entry), block[k * width : (k + 1) * width]

    def iter_entries(
        self, widths: Mapping[str, int], total_entries: int
    ) -> Iterator[tuple[int, dict[str, bytes], list[tuple[str, bytes]], str | None,
                        PackedLabel | None]]:  # fmt: skip
        """(entry, algorithm → value, further values of an algorithm, reference, own
        label) of every entry, in entry order; ``widths`` gives each algorithm's value
        size in bytes."""
        streams = [self._tagged(name, width, total_entries) for name, width in widths.items()]
        for entry, group in groupby(heapq.merge(*streams), key=itemgetter(0)):
            values: dict[str, bytes] = {}
            more: list[tuple[str, bytes]] = []
            for _, name, value in group:
                if name in values:
                    more.append((name, value))
                else:
                    values[name] = value
            yield entry, values, more, self.reference(entry), self.label(entry)

    def _tagged(self, name: str, width: int, total: int) -> Iterator[tuple[int, str, bytes]]:
        for entry, value in self.iter_values(name, width, total):
            yield entry, name, value


class _MappedTexts:
    """One text per entry (references, records), memory-mapped; none when absent."""

    def __init__(self, data: Path, offsets: Path) -> None:
        self._data_path, self._offsets_path = data, offsets
        self._data = _map(data, np.uint8)
        self._offsets = _map(offsets, OFFSET_DTYPE)

    def damage(self, entries: int) -> str | None:
        """What is wrong with the texts' two files (None: nothing, or the set has none)."""
        if len(self._offsets) == 0:
            return None if len(self._data) == 0 else f"{self._offsets_path.name} is missing"
        if len(self._offsets) != entries + 1 or int(self._offsets[-1]) != len(self._data):
            return f"{self._offsets_path.name} or {self._data_path.name} is not whole"
        return None

    def get(self, entry: int) -> str | None:
        if len(self._offsets) == 0:  # the set keeps none
            return None
        start, end = (int(x) for x in self._offsets[entry - 1 : entry + 1])
        if end <= start:
            return None
        return bytes(self._data[start:end]).decode("utf-8", NAME_ERRORS)


def _label_table(path: Path) -> list[PackedLabel]:
    if not path.exists():
        return []
    table = json.loads(path.read_text())
    return [PackedLabel(str(label), Category(category) if category else None)
            for label, category in table]  # fmt: skip
