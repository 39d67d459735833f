"""Writing a packed set: blocks of parsed values in, sorted files out, in bounded memory.

Values arrive in file order and are held in memory, with their entry numbers, while
they fit in ``HOLD_BYTES``; a set that small is sorted in memory at the end. Past that,
whenever ``HOLD_BYTES`` are held, the held values of each algorithm are grouped into 64
buckets by their first bits and appended to that algorithm's work file as one *run*
(``_Runs``: the run's bucket boundaries are kept in memory); at the end every bucket is
read back from each run, sorted on its own and appended to the set's value file, so the
whole file comes out sorted although no more than one bucket is ever in memory.
Cryptographic hashes spread evenly over the buckets; a bucket that is still too large
(crafted input) is split again, on the first byte its values differ in, in files of its
own, and one of a single value (the empty file's MD5 on every line of a disk's list)
is written in entry order a range of entries at a time: memory stays bounded.
References, records, label codes, qualities and sizes are appended in entry order as they come
(``entry_files``); each block's own label table is mapped onto the set's, which is
written at the end.
"""

from __future__ import annotations

import contextlib
import json
import shutil
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import BinaryIO

import numpy as np

from hashmatch.bufwrite import write_in_pieces
from hashmatch.errors import HashSetFormatError
from hashmatch.hashsets.packed.entry_files import PerEntry, Texts
from hashmatch.hashsets.packed.layout import (
    ENTRY_DTYPE,
    HOLDS_DTYPE,
    LABEL_CODE_DTYPE,
    MAX_LABELS,
    QUALITY_DTYPE,
    QUALITY_NONE,
    SIZE_DTYPE,
    SIZE_NONE,
    PackedBlock,
    PackedLabel,
    block_holds,
    entries_path,
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

#: Records a bucket may hold before it is split on the next byte instead of sorted
#: (at 24-40 bytes a record, a few tens of MB).
SORT_LIMIT = 2_000_000
#: Bytes of (value, entry) records held in memory before they go to bucket files. Past
#: a few MB, holding more costs time and memory: 1 M PDQ values (40 MB) took 0.81-1.11 s
#: and 176 MB held 16 MB at a time, 0.67-0.84 s and 140-158 MB held 4-8 MB; held all
#: and sorted at once, 1.26-1.64 s and 297 MB (alternated, 2026-12-03).
HOLD_BYTES = 8 << 20
#: Bucket files per algorithm, chosen by the top bits of a value's first byte (64: four
#: algorithms, as a VICS set with SHA-256 and PDQ has, stay far below the usual limit
#: of 1,024 open files).
BUCKETS = 64
_BUCKET_SHIFT = 8 - BUCKETS.bit_length() + 1


#: Records copied at a time where a bucket is too large to be sorted in memory.
_COPY_RECORDS = SORT_LIMIT // 4
#: Ranges of entries a bucket of one value out of entry order is counted in.
_ENTRY_BINS = 1 << 16
#: The largest bucket for which two algorithms' buckets are sorted at once.
PARALLEL_BUCKET_BYTES = 8 << 20


def record_dtype(width: int) -> np.dtype:
    return np.dtype([("v", f"S{width}"), ("e", ENTRY_DTYPE)])


class PackedWriter:
    """Builds a packed set in ``directory`` (which it creates and owns)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        directory.mkdir(parents=True)
        self._work = directory / "work"
        self._work.mkdir()
        self._runs: dict[str, _Runs] = {}
        self._held: dict[str, list[np.ndarray]] = {}
        self._held_bytes = 0
        self._widths: dict[str, int] = {}
        self._counts: dict[str, int] = {}
        self._refs = Texts(ref_data_path(directory), ref_offsets_path(directory))
        self._records = Texts(record_data_path(directory), record_offsets_path(directory))
        self._label_codes = PerEntry(label_codes_path(directory), LABEL_CODE_DTYPE, 0)
        self._labels: dict[PackedLabel, int] = {}
        self._qualities = PerEntry(qualities_path(directory), QUALITY_DTYPE, QUALITY_NONE)
        self._sizes = PerEntry(sizes_path(directory), SIZE_DTYPE, SIZE_NONE)
        self._holds = PerEntry(holds_path(directory), HOLDS_DTYPE, 0)
        self.entries = 0

    @property
    def counts(self) -> dict[str, int]:
        """Values written per algorithm."""
        return dict(self._counts)

    def add(self, block: PackedBlock) -> None:
        """Append a block: its entries become ``entries + 1 ...``."""
        if block.entries == 0:
            return
        for column in block.columns:
            n = len(column.values)
            if n == 0:
                continue
            width = column.values.shape[1]
            known = self._widths.setdefault(column.algorithm, width)
            if known != width:
                raise ValueError(f"{column.algorithm} values of {width} and {known} bytes")
            records = np.empty(n, record_dtype(width))
            records["v"] = np.ascontiguousarray(column.values).view(f"S{width}").ravel()
            records["e"] = column.rows.astype(ENTRY_DTYPE) + (self.entries + 1)
            self._hold(column.algorithm, records)
            self._counts[column.algorithm] = self._counts.get(column.algorithm, 0) + n
        self.entries += block.entries
        self._label_codes.add(block.entries, self._codes(block))
        self._qualities.add(block.entries, block.qualities)
        self._sizes.add(block.entries, block.sizes)
        self._holds.add(block.entries, block_holds(block))
        self._refs.add(block.entries, block.ref_data, block.ref_offsets)
        self._records.add(block.entries, block.record_data, block.record_offsets)

    def _codes(self, block: PackedBlock) -> np.ndarray | None:
        """The block's label codes in the set's numbering (None: it has no labels)."""
        if block.label_codes is None or not block.label_table:
            return None
        mapping = np.zeros(len(block.label_table) + 1, LABEL_CODE_DTYPE)
        for k, label in enumerate(block.label_table, 1):
            code = self._labels.get(label)
            if code is None:
                if len(self._labels) >= MAX_LABELS:
                    raise HashSetFormatError(f"more than {MAX_LABELS:,} distinct labels")
                code = self._labels[label] = len(self._labels) + 1
            mapping[k] = code
        codes: np.ndarray = mapping[block.label_codes]
        return codes

    def _hold(self, algorithm: str, records: np.ndarray) -> None:
        self._held.setdefault(algorithm, []).append(records)
        self._held_bytes += records.nbytes
        if self._held_bytes > HOLD_BYTES:
            self._spill_held()

    def _spill_held(self) -> None:
        """Put what is held into the bucket files: a few large writes a bucket, however
        small the blocks (from the first spill on, every value goes to buckets)."""
        for algorithm, held in self._held.items():
            self._spill(algorithm, np.concatenate(held))
        self._held.clear()
        self._held_bytes = 0

    def _spill(self, algorithm: str, records: np.ndarray) -> None:
        # The value is the record's first field: its first byte's top bits pick the bucket.
        raw = records.view(np.uint8).reshape(len(records), records.dtype.itemsize)
        first = np.ascontiguousarray(raw[:, 0] >> _BUCKET_SHIFT)
        runs = self._runs.get(algorithm)
        if runs is None:
            runs = self._runs[algorithm] = _Runs(self._work / f"{algorithm}.runs", records.dtype)
        runs.add(records, first)

    def finish(self) -> None:
        """Sort every algorithm's buckets into its final files and remove the work files."""
        self._refs.close()  # a bare list: no entry has a reference, no file is kept
        self._records.close()
        self._label_codes.close()  # (made with the first label: with the table's entries)
        self._qualities.close()
        self._sizes.close()
        self._holds.close()
        if self._labels:
            table = [[label.label, label.category.value if label.category else None]
                     for label in sorted(self._labels, key=self._labels.__getitem__)]  # fmt: skip
            label_table_path(self.directory).write_text(json.dumps(table, ensure_ascii=False))
        if self._runs:  # a large set: all its values are sorted bucket by bucket
            self._spill_held()
        # A small set is sorted in memory, one thread an algorithm (numpy sorts and
        # gathers without the GIL).
        with ThreadPoolExecutor(max(1, len(self._held))) as pool:
            for _ in pool.map(self._write_held, self._held.items()):
                pass
        # A large one's algorithms too, two at a time, when their buckets are small
        # (a VICS set's: two buckets sorted at once would double the memory of a huge set).
        small = all(runs.largest_bucket_bytes() <= PARALLEL_BUCKET_BYTES
                    for runs in self._runs.values())  # fmt: skip
        if small and len(self._runs) > 1:
            with ThreadPoolExecutor(2) as pool:
                for _ in pool.map(self._write_runs, self._runs.items()):
                    pass
        else:  # (in this thread: a thread of its own would sort in a malloc arena of its own)
            for item in self._runs.items():
                self._write_runs(item)
        shutil.rmtree(self._work)

    def _write_runs(self, item: tuple[str, _Runs]) -> None:
        algorithm, runs = item
        with (
            runs,
            values_path(self.directory, algorithm).open("wb") as values,
            entries_path(self.directory, algorithm).open("wb") as entries,
        ):
            for bucket in range(BUCKETS):
                runs.sort_bucket(bucket, values, entries)

    def _write_held(self, item: tuple[str, list[np.ndarray]]) -> None:
        algorithm, held = item
        with (
            values_path(self.directory, algorithm).open("wb") as values,
            entries_path(self.directory, algorithm).open("wb") as entries,
        ):
            _write_sorted(np.concatenate(held), values, entries)

    def abort(self) -> None:
        for runs in self._runs.values():
            runs.close()
        for texts in (self._refs, self._records):
            with contextlib.suppress(OSError):  # (the import fails already)
                texts.close()
        self._label_codes.close()
        self._qualities.close()
        self._sizes.close()
        self._holds.close()
        shutil.rmtree(self.directory, ignore_errors=True)


def value_order(records: np.ndarray) -> np.ndarray:
    """The order that sorts (value, entry) records bytewise by value, equal values in
    entry order. Values are compared as big-endian 64-bit words (the same order, and
    much faster than numpy's sort of byte strings)."""
    width = records.dtype["v"].itemsize
    words = -(-width // 8)
    padded = np.zeros((len(records), words * 8), np.uint8)
    raw = records.view(np.uint8).reshape(len(records), records.dtype.itemsize)
    padded[:, :width] = raw[:, :width]  # the value is the first field
    columns = padded.view(">u8")
    # By the first word (a radix sort; stable: equal values stay in entry order)...
    order: np.ndarray = np.argsort(columns[:, 0], kind="stable")
    first = columns[order, 0]
    ties = np.flatnonzero(first[1:] == first[:-1])
    if len(ties) == 0 or words == 1:
        return order
    # ...then runs of equal first words by every word and the entry (lexsort's last
    # key sorts first). Runs are contiguous and stay in place.
    tied = np.zeros(len(records), bool)
    tied[ties] = tied[ties + 1] = True
    slots = np.flatnonzero(tied)
    members = order[slots]
    keys = [records["e"][members], *(columns[members, k] for k in reversed(range(words)))]
    order[slots] = members[np.lexsort(keys)]
    return order


def taken(records: np.ndarray, order: np.ndarray) -> np.ndarray:
    """``records[order]``, gathered as opaque rows: numpy gathers a structured array
    field by field, five to eight times slower."""
    rows = np.take(np.ascontiguousarray(records).view(f"V{records.dtype.itemsize}"), order)
    gathered: np.ndarray = rows.view(records.dtype)
    return gathered


def _grouped(records: np.ndarray, key: np.ndarray, buckets: int) -> tuple[np.ndarray, np.ndarray]:
    """The records grouped by ``key`` (each record's bucket; a stable sort), and where
    each bucket's group ends."""
    ordered = taken(records, np.argsort(key, kind="stable"))
    return ordered, np.cumsum(np.bincount(key, minlength=buckets))


def _write_buckets(records: np.ndarray, key: np.ndarray, files: Sequence[BinaryIO]) -> None:
    ordered, ends = _grouped(records, key, len(files))
    start = 0
    for bucket, end in enumerate(ends.tolist()):
        if end > start:
            files[bucket].write(ordered[start:end].tobytes())
        start = end


class _Runs:
    """One algorithm's spilled records: runs appended to one work file, each grouped by
    bucket, and where each run's buckets end. (One file an algorithm, not one a bucket:
    creating 256 bucket files while the records were flushed to disk took a VICS import
    a tenth of its time on a busy disk.)"""

    def __init__(self, path: Path, dtype: np.dtype) -> None:
        self._path = path
        self._dtype = dtype
        self._file = path.open("w+b")
        self._starts: list[int] = []  # each run's first record in the file
        self._ends: list[np.ndarray] = []  # each run's bucket ends (cumulative counts)
        self._records = 0

    def add(self, records: np.ndarray, key: np.ndarray) -> None:
        """Append ``records`` as a run, grouped by ``key`` (their buckets)."""
        ordered, ends = _grouped(records, key, BUCKETS)
        write_in_pieces(self._file, ordered)
        self._starts.append(self._records)
        self._ends.append(ends)
        self._records += len(records)

    def largest_bucket_bytes(self) -> int:
        if not self._ends:
            return 0
        ends = np.stack(self._ends)
        counts = np.diff(ends, axis=1, prepend=0).sum(axis=0)
        return int(counts.max()) * self._dtype.itemsize

    def sort_bucket(self, bucket: int, values: BinaryIO, entries: BinaryIO) -> None:
        """Append the bucket's records, sorted by value, to the final files."""
        spans = []
        for start, ends in zip(self._starts, self._ends, strict=True):
            low = int(ends[bucket - 1]) if bucket else 0
            if int(ends[bucket]) > low:
                spans.append((start + low, int(ends[bucket]) - low))
        count = sum(n for _, n in spans)
        if not count:
            return
        size = self._dtype.itemsize
        if count > SORT_LIMIT:  # crafted input (or one value many times): sorted in files
            path = self._path.with_name(f"{self._path.name}.{bucket:02x}")
            with path.open("wb") as out:
                for first, n in spans:  # (copied a piece at a time: memory stays bounded)
                    for low in range(0, n, _COPY_RECORDS):
                        out.write(self._read(first + low, min(_COPY_RECORDS, n - low)))
            _sort_bucket(path, self._dtype, 0, values, entries)
            return
        records = np.empty(count, self._dtype)
        view, at = memoryview(records.view(np.uint8).data), 0
        for first, n in spans:
            self._file.seek(first * size)
            if self._file.readinto(view[at : at + n * size]) != n * size:
                raise OSError(f"{self._path}: shorter than written")
            at += n * size
        del view
        _write_sorted(records, values, entries)

    def _read(self, first: int, count: int) -> bytes:
        size = self._dtype.itemsize
        self._file.seek(first * size)
        data = self._file.read(count * size)
        if len(data) != count * size:
            raise OSError(f"{self._path}: shorter than written")
        return data

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> _Runs:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _sort_bucket(
    path: Path, dtype: np.dtype, depth: int, values: BinaryIO, entries: BinaryIO
) -> None:
    """Append one bucket's records, sorted by value, to the final files; then delete it.
    Its records share their values' first ``depth`` bytes."""
    count = path.stat().st_size // dtype.itemsize
    width = dtype["v"].itemsize
    if count > SORT_LIMIT:
        # Split on the first byte the values differ in (a thousand times one value, or
        # values sharing their first bytes, made a folder a byte, each a copy of all).
        depth = _shared_bytes(path, dtype, depth)
        if depth < width:
            _split_bucket(path, dtype, depth, values, entries)
        else:  # one value throughout: its records in entry order
            _one_value(path, dtype, values, entries)
        return
    records = np.fromfile(path, dtype)
    path.unlink()
    if count:
        _write_sorted(records, values, entries)


def _write_sorted(records: np.ndarray, values: BinaryIO, entries: BinaryIO) -> None:
    """Append (value, entry) records, sorted by value, to the value and entry files."""
    records = taken(records, value_order(records))
    write_in_pieces(values, records["v"])
    write_in_pieces(entries, records["e"])


def _chunks(path: Path, dtype: np.dtype) -> Iterator[np.ndarray]:
    """A bucket file's records, ``_COPY_RECORDS`` at a time."""
    with path.open("rb") as source:
        while chunk := source.read(dtype.itemsize * _COPY_RECORDS):
            yield np.frombuffer(chunk, dtype)


def _shared_bytes(path: Path, dtype: np.dtype, depth: int) -> int:
    """How many first bytes every value of a bucket file has in common (at least
    ``depth``, which they are known to share)."""
    width = dtype["v"].itemsize
    shared, first = width, None
    for records in _chunks(path, dtype):
        raw = records.view(np.uint8).reshape(len(records), dtype.itemsize)[:, :width]
        if first is None:
            first = raw[0].copy()
        differing = np.flatnonzero((raw != first).any(axis=0))
        if len(differing):
            shared = min(shared, int(differing[0]))
            if shared <= depth:
                return depth
    return shared


def _one_value(path: Path, dtype: np.dtype, values: BinaryIO, entries: BinaryIO) -> None:
    """Append a bucket file of one value, its records in entry order; delete it.

    They are in entry order as written, unless a block gave one algorithm in two
    columns (a VICS medium's alternative MD5: its value among the next media's MD5s):
    then they are gathered by ranges of entries, each no more than ``SORT_LIMIT``
    records, one read of the file a range."""
    low, high, ordered, last = None, 0, True, -1
    for records in _chunks(path, dtype):
        found = records["e"]
        ordered = ordered and int(found[0]) >= last and bool(np.all(found[1:] >= found[:-1]))
        last = int(found[-1])
        low = int(found.min()) if low is None else min(low, int(found.min()))
        high = max(high, int(found.max()))
    if low is None or ordered:
        for records in _chunks(path, dtype):
            write_in_pieces(values, records["v"])
            write_in_pieces(entries, records["e"])
        path.unlink()
        return
    width = -(-(high - low + 1) // _ENTRY_BINS)
    counts = np.zeros(_ENTRY_BINS, np.int64)
    for records in _chunks(path, dtype):
        counts += np.bincount((records["e"] - low) // width, minlength=_ENTRY_BINS)
    first = 0
    while first < _ENTRY_BINS:  # bins first..last-1: as many as fit SORT_LIMIT (one at least)
        ends = np.cumsum(counts[first:])
        last = first + max(1, int(np.searchsorted(ends, SORT_LIMIT, side="right")))
        lowest, highest = low + first * width, low + last * width
        part = [r[(r["e"] >= lowest) & (r["e"] < highest)] for r in _chunks(path, dtype)]
        gathered = np.concatenate(part)
        gathered = taken(gathered, np.argsort(gathered["e"], kind="stable"))
        write_in_pieces(values, gathered["v"])
        write_in_pieces(entries, gathered["e"])
        first = last
    path.unlink()


def _split_bucket(
    path: Path, dtype: np.dtype, depth: int, values: BinaryIO, entries: BinaryIO
) -> None:
    sub_dir = path.with_name(path.name + ".split")
    sub_dir.mkdir()
    files = [(sub_dir / f"{b:02x}").open("wb") for b in range(256)]
    with path.open("rb") as source:
        while chunk := source.read(dtype.itemsize * _COPY_RECORDS):
            records = np.frombuffer(chunk, dtype)
            # The value is the record's first field: its bytes start each record.
            key = np.frombuffer(chunk, np.uint8).reshape(len(records), -1)[:, depth]
            _write_buckets(records, np.ascontiguousarray(key), files)
    path.unlink()
    for stream in files:
        stream.close()
    for stream in files:
        _sort_bucket(Path(stream.name), dtype, depth + 1, values, entries)
    sub_dir.rmdir()
