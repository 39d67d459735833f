"""A generic CSV hash set: a header row naming any of md5, sha1, sha256, pdq (also
``SHA-1``, ``SHA256 hash``...), optionally a category column, a name column and a file
size column (``size``, ``File Size``, ``Logical Size``); comma, semicolon or tab
separated. Read in batches of rows (``csv_batches``) into a packed set.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace
from typing import BinaryIO, ClassVar

from hashmatch.errors import HashSetFormatError
from hashmatch.hashing import get_algorithm
from hashmatch.hashsets.formats import csv_rows
from hashmatch.hashsets.formats.base import HashSetFormat, Sample, csv_text
from hashmatch.hashsets.formats.csv_batches import CsvLayout, category_of, csv_blocks
from hashmatch.hashsets.formats.csv_fields import csv_line_blocks
from hashmatch.hashsets.formats.file_sizes import size_of
from hashmatch.hashsets.model import InvalidRecord, ParsedEntry
from hashmatch.hashsets.name_decoding import NAME_ERRORS
from hashmatch.hashsets.packed.layout import PackedBlock

#: Header names (lower case, without spaces, '-' and '_') that hold each algorithm.
_COLUMN_NAMES = {
    "md5": "md5", "md5hash": "md5", "hashmd5": "md5",
    "sha1": "sha1", "sha1hash": "sha1", "hashsha1": "sha1",
    "sha256": "sha256", "sha256hash": "sha256", "sha2256": "sha256", "hashsha256": "sha256",
    "pdq": "pdq", "pdqhash": "pdq",
}  # fmt: skip
_NAME_COLUMNS = ("filename", "name", "file", "path", "reference", "filepath")
_QUALITY_COLUMNS = ("quality", "pdqquality")
_SIZE_COLUMNS = ("filesize", "size", "logicalsize", "sizeinbytes")
_QUALITY = re.compile(r"[0-9]{1,3}")
_DELIMITERS = ",;\t"
_DIALECT = csv_rows.Dialect("utf-8", NAME_ERRORS)


def _key(header: str) -> str:
    return re.sub(r"[\s_\-]", "", header.strip().lstrip("\ufeff").lower())


class GenericCsv(HashSetFormat):
    name: ClassVar[str] = "csv"
    description: ClassVar[str] = "CSV with a header naming md5/sha1/sha256/pdq columns"
    gives_sizes: ClassVar[bool] = True  # (where its header names a size column)

    def sniff(self, sample: Sample) -> float:
        if not sample.lines:
            return 0.0
        first = sample.lines[0]
        for delimiter in (",", ";", "\t"):
            keys = [_key(h.strip('"')) for h in first.split(delimiter)]
            if len(keys) > 1 and any(k in _COLUMN_NAMES for k in keys):
                # A header naming a hash column says more than data lines that also fit
                # a line format ('<sha1>\t<path>\t<size>' fits md5sum's grammar): all
                # but formats whose own header is checked first (NSRL, HashKeeper).
                return 1.0
        return 0.0

    def read(self, stream: BinaryIO) -> Iterator[ParsedEntry | InvalidRecord]:
        rows, layout = _csv_rows(stream)
        for line, row in rows:
            yield _csv_row(line, row, layout)

    def packs(self) -> bool:
        return True

    def blocks(self, stream: BinaryIO) -> Iterator[PackedBlock | InvalidRecord]:
        """The usual lines a chunk at a time by numpy (``csv_fields``); a file in UTF-16
        or whose header is no single line of CSV, in batches of rows (``csv_batches``)."""
        found = csv_rows.header_row(stream, _DIALECT, _DELIMITERS)
        if found is None:
            stream.seek(0)
            rows, layout = _csv_rows(stream)
            return csv_blocks(rows, layout, lambda line, row: _csv_row(line, row, layout))
        header, delimiter = found
        layout = _layout(header)

        def read_row(line: int, row: list[str]) -> ParsedEntry | InvalidRecord | None:
            return _csv_row(line, row, layout) if any(c.strip() for c in row) else None

        def batches(rows: Iterator[tuple[int, list[str]]]) -> Iterator[PackedBlock | InvalidRecord]:
            return csv_blocks(rows, layout, lambda line, row: _csv_row(line, row, layout))

        dialect = replace(_DIALECT, delimiter=delimiter)
        return csv_line_blocks(stream, layout, read_row, dialect, batches)


def _csv_rows(stream: BinaryIO) -> tuple[Iterator[tuple[int, list[str]]], CsvLayout]:
    """The rows that hold anything, with their line numbers, and where the fields are."""
    text = csv_text(stream)
    first = text.readline()
    delimiter = max(_DELIMITERS, key=first.count)
    text.seek(0)
    reader = csv_rows.Rows(text, delimiter)
    layout = _layout(next(reader, []))

    def rows() -> Iterator[tuple[int, list[str]]]:
        for row in reader:
            if any(cell.strip() for cell in row):
                yield reader.line_num, row

    return rows(), layout


def _layout(row: list[str]) -> CsvLayout:
    """Where the fields are, from the header row."""
    header = [_key(h) for h in row]
    columns = [(i, _COLUMN_NAMES[k]) for i, k in enumerate(header) if k in _COLUMN_NAMES]
    if not columns:
        raise HashSetFormatError("no md5, sha1, sha256 or pdq column in the header", line=1)
    return CsvLayout(
        len(header),
        columns,
        next((header.index(k) for k in _NAME_COLUMNS if k in header), None),
        next((header.index(k) for k in _QUALITY_COLUMNS if k in header), None),
        header.index("category") if "category" in header else None,
        next((header.index(k) for k in _SIZE_COLUMNS if k in header), None),
    )


def _csv_row(line: int, row: list[str], layout: CsvLayout) -> ParsedEntry | InvalidRecord:
    """One row as the row reader reads it."""
    if len(row) < layout.width:
        return InvalidRecord(line, f"expected {layout.width} fields, found {len(row)}")
    found = _csv_entry(line, row, layout.columns, layout.name, layout.quality, layout.category)
    if layout.size is None or isinstance(found, InvalidRecord):
        return found
    return replace(found, size=size_of(row[layout.size]))


def _csv_entry(
    line: int,
    row: list[str],
    columns: list[tuple[int, str]],
    name: int | None,
    quality: int | None,
    category: int | None,
) -> ParsedEntry | InvalidRecord:
    values = []
    for index, algorithm in columns:
        cell = row[index].strip()
        if not cell:
            continue
        if not get_algorithm(algorithm).is_valid(cell):
            return InvalidRecord(line, f"not a valid {algorithm}: {cell!r:.80}")
        score = None
        if algorithm == "pdq" and quality is not None and row[quality].strip():
            written = row[quality].strip()
            # (ASCII digits: isdigit() also takes "²", which int() refuses)
            if not _QUALITY.fullmatch(written) or int(written) > 100:
                return InvalidRecord(
                    line, f"PDQ quality must be a whole number 0-100: {row[quality]!r:.20}"
                )
            score = int(written)
        values.append(get_algorithm(algorithm).value(cell, score))
    if not values:
        return InvalidRecord(line, "no hash value in this row")
    label, mapped = None, None
    if category is not None and row[category].strip():
        label = row[category].strip()
        mapped = category_of(label)
    reference = row[name].strip() if name is not None else None
    return ParsedEntry(tuple(values), reference=reference or None, label=label, category=mapped)
