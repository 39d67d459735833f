"""Writing a packed set: blocks of parsed values in, sorted files out, in bounded memory.

Values arrive in file order. Each one is appended, with its entry number, to one of 256
bucket files chosen by its first byte; at the end every bucket is sorted on its own and
appended to the set's value file, so the whole file comes out sorted although no more
than one bucket is ever in memory. Cryptographic hashes spread evenly over the buckets;
a bucket that is still too large (crafted input) is split again on the next byte.
References and label codes are appended in entry order as they come; each block's own
label table is mapped onto the set's, which is written at the end.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import BinaryIO

import numpy as np

from hashmatch.errors import HashSetFormatError
from hashmatch.hashsets.packed.layout import (
    ENTRY_DTYPE,
    LABEL_CODE_DTYPE,
    MAX_LABELS,
    OFFSET_DTYPE,
    PackedBlock,
    PackedLabel,
    entries_path,
    label_codes_path,
    label_table_path,
    ref_data_path,
    ref_offsets_path,
    values_path,
)

#: Records a bucket may hold before it is split on the next byte instead of sorted
#: (at 24-40 bytes a record, a few tens of MB).
SORT_LIMIT = 2_000_000


def record_dtype(width: int) -> np.dtype:
    return np.dtype([("v", f"S{width}"), ("e", ENTRY_DTYPE)])


class PackedWriter:
    """Builds a packed set in ``directory`` (which it creates and owns)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        directory.mkdir(parents=True)
        self._work = directory / "work"
        self._work.mkdir()
        self._buckets: dict[str, list[BinaryIO]] = {}
        self._widths: dict[str, int] = {}
        self._counts: dict[str, int] = {}
        self._ref_data = ref_data_path(directory).open("wb")
        self._ref_offsets = ref_offsets_path(directory).open("wb")
        self._ref_offsets.write(np.zeros(1, OFFSET_DTYPE).tobytes())
        self._ref_end = 0
        self._label_codes = label_codes_path(directory).open("wb")
        self._labels: dict[PackedLabel, int] = {}
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
            self._spill(column.algorithm, records, column.values[:, 0])
            self._counts[column.algorithm] = self._counts.get(column.algorithm, 0) + n
        self.entries += block.entries
        self._label_codes.write(self._codes(block).tobytes())
        self._ref_data.write(block.ref_data)
        offsets = block.ref_offsets[1:].astype(OFFSET_DTYPE) + self._ref_end
        self._ref_offsets.write(offsets.tobytes())
        self._ref_end += len(block.ref_data)

    def _codes(self, block: PackedBlock) -> np.ndarray:
        """The block's label codes in the set's numbering."""
        if block.label_codes is None or not block.label_table:
            return np.zeros(block.entries, LABEL_CODE_DTYPE)
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

    def _spill(self, algorithm: str, records: np.ndarray, first: np.ndarray) -> None:
        files = self._buckets.get(algorithm)
        if files is None:
            bucket_dir = self._work / algorithm
            bucket_dir.mkdir()
            files = [(bucket_dir / f"{b:02x}").open("wb") for b in range(256)]
            self._buckets[algorithm] = files
        _write_buckets(records, first, files)

    def finish(self) -> None:
        """Sort every algorithm's buckets into its final files and remove the work files."""
        self._ref_data.close()
        self._ref_offsets.close()
        self._label_codes.close()
        if self._ref_end == 0:  # a bare list: no entry has a reference
            ref_data_path(self.directory).unlink()
            ref_offsets_path(self.directory).unlink()
        if not self._labels:  # no entry has a label of its own
            label_codes_path(self.directory).unlink()
        else:
            table = [[label.label, label.category.value if label.category else None]
                     for label in sorted(self._labels, key=self._labels.__getitem__)]  # fmt: skip
            label_table_path(self.directory).write_text(json.dumps(table, ensure_ascii=False))
        for algorithm, files in self._buckets.items():
            for stream in files:
                stream.close()
            dtype = record_dtype(self._widths[algorithm])
            with (
                values_path(self.directory, algorithm).open("wb") as values,
                entries_path(self.directory, algorithm).open("wb") as entries,
            ):
                for stream in files:
                    _sort_bucket(Path(stream.name), dtype, 1, values, entries)
        shutil.rmtree(self._work)

    def abort(self) -> None:
        for files in self._buckets.values():
            for stream in files:
                stream.close()
        self._ref_data.close()
        self._ref_offsets.close()
        self._label_codes.close()
        shutil.rmtree(self.directory, ignore_errors=True)


def _write_buckets(records: np.ndarray, key: np.ndarray, files: Sequence[BinaryIO]) -> None:
    order = np.argsort(key, kind="stable")
    ends = np.cumsum(np.bincount(key, minlength=256))
    ordered = records[order]
    start = 0
    for bucket, end in enumerate(ends.tolist()):
        if end > start:
            files[bucket].write(ordered[start:end].tobytes())
        start = end


def _sort_bucket(
    path: Path, dtype: np.dtype, depth: int, values: BinaryIO, entries: BinaryIO
) -> None:
    """Append one bucket's records, sorted by value, to the final files; then delete it."""
    count = path.stat().st_size // dtype.itemsize
    width = dtype["v"].itemsize
    if count > SORT_LIMIT and depth < width:
        _split_bucket(path, dtype, depth, values, entries)
        return
    records = np.fromfile(path, dtype)
    path.unlink()
    if count == 0:
        return
    # A stable sort keeps equal values in entry order.
    records = records[np.argsort(records["v"], kind="stable")]
    values.write(records["v"].tobytes())
    entries.write(records["e"].tobytes())


def _split_bucket(
    path: Path, dtype: np.dtype, depth: int, values: BinaryIO, entries: BinaryIO
) -> None:
    sub_dir = path.with_name(path.name + ".split")
    sub_dir.mkdir()
    files = [(sub_dir / f"{b:02x}").open("wb") for b in range(256)]
    with path.open("rb") as source:
        while chunk := source.read(dtype.itemsize * max(1, SORT_LIMIT // 4)):
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
