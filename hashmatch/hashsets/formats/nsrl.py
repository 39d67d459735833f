"""NIST NSRL Reference Data Sets: RDSv3 (SQLite) and RDS 2.x (``NSRLFile.txt``, also zipped).

NSRL lists known *software*; its role is data reduction. Sets default to ``known-good``:
a file that only hits NSRL is counted, not listed, and a known-bad hit always wins.

RDSv3 is read straight from its SQLite file, opened read-only and immutable, in one
streaming pass (``DISTINCT_HASH`` when the database has it, as minimal sets do, else
``FILE``); columns are chosen by name because an early release has no ``crc32``. Its
rows become a packed set: each fetch of rows is checked and hex-decoded by numpy as a
whole (``blocks``), so a full RDS of 10^8 rows never becomes Python objects one by one;
``read`` is the row-by-row reference the bulk reader is tested against. The
``VERSION`` row goes into the set's provenance. RDS 2.x is quoted CSV with ISO-8859-1
file names, read with a real CSV parser (names hold commas and quotes).
"""

from __future__ import annotations

import csv
import io
import os
import sqlite3
import zipfile
from collections.abc import Iterator, Sequence
from typing import BinaryIO, ClassVar, cast

import numpy as np

from hashmatch.errors import HashSetFormatError
from hashmatch.hashing import get_algorithm
from hashmatch.hashsets.categories import Category
from hashmatch.hashsets.formats.base import SQLITE_MAGIC, HashSetFormat, Sample, sqlite_readonly
from hashmatch.hashsets.formats.bulklines import HEX_NIBBLE
from hashmatch.hashsets.model import InvalidRecord, ParsedEntry
from hashmatch.hashsets.packed.layout import PackedBlock, PackedColumn

RDS2_HEADER = (
    '"SHA-1","MD5","CRC32","FileName","FileSize","ProductCode","OpSystemCode","SpecialCode"'
)
RDS15_HEADER = (
    '"SHA-1","FileName","FileSize","ProductCode","OpSystemCode","MD4","MD5","CRC32","SpecialCode"'
)
NSRL_LABEL = "NSRL"
FETCH_ROWS = 50_000


class NsrlV3(HashSetFormat):
    name: ClassVar[str] = "nsrl-rdsv3"
    description: ClassVar[str] = "NIST NSRL RDSv3 SQLite database (minimal or full)"
    default_category: ClassVar[Category | None] = Category.KNOWN_GOOD
    entry_label: ClassVar[str | None] = NSRL_LABEL

    def __init__(self) -> None:
        super().__init__()
        self._read_bytes: int | None = None

    def sniff(self, sample: Sample) -> float:
        head = sample.head
        if not head.startswith(SQLITE_MAGIC):
            return 0.0
        has = [marker in head for marker in (b"FILE", b"PKG", b"VERSION")]
        return 1.0 if all(has) else 0.0

    def read(self, stream: BinaryIO) -> Iterator[ParsedEntry | InvalidRecord]:
        for first, wanted, rows, named in self._fetches(stream):
            for number, row in enumerate(rows, first):
                yield _entry(number, wanted, row, named)

    def packs(self) -> bool:
        return True

    def blocks(self, stream: BinaryIO) -> Iterator[PackedBlock | InvalidRecord]:
        for first, wanted, rows, named in self._fetches(stream):
            yield from _blocks(first, wanted, rows, named)

    def bytes_read(self) -> int | None:
        return self._read_bytes

    def _fetches(
        self, stream: BinaryIO
    ) -> Iterator[tuple[int, list[str], list[tuple[object, ...]], bool]]:
        """(number of the first row, hash columns, rows, has a file name) per fetch."""
        try:
            with sqlite_readonly(stream) as db:
                cursor, wanted, named = self._select(db)
                expected = _expected_rows(db)
                size = os.fstat(stream.fileno()).st_size
                first = 1
                while rows := cursor.fetchmany(FETCH_ROWS):
                    yield first, wanted, rows, named
                    first += len(rows)
                    if expected:
                        self._read_bytes = int(size * min(1.0, (first - 1) / expected))
        except sqlite3.DatabaseError as exc:
            raise HashSetFormatError(f"not a readable NSRL RDSv3 database: {exc}") from exc

    def _select(self, db: sqlite3.Connection) -> tuple[sqlite3.Cursor, list[str], bool]:
        names = {str(r[0]) for r in db.execute("SELECT name FROM sqlite_master")}
        if "FILE" not in names:
            raise HashSetFormatError("no FILE table or view: not an NSRL RDSv3 database")
        self._provenance = {"nsrl": "RDSv3"}
        if "VERSION" in names:
            row = db.execute("SELECT * FROM VERSION LIMIT 1").fetchone()
            version_columns = [c[1] for c in db.execute("PRAGMA table_info(VERSION)")]
            if row is not None:
                for column, value in zip(version_columns, row, strict=False):
                    self._provenance[f"rds_{column}"] = str(value)
        source = "DISTINCT_HASH" if "DISTINCT_HASH" in names else "FILE"
        columns = {str(c[1]).lower() for c in db.execute(f"PRAGMA table_info({source})")}
        wanted: list[str] = [c for c in ("sha256", "sha1", "md5") if c in columns]
        if not wanted:
            raise HashSetFormatError(f"{source} has no sha256, sha1 or md5 column")
        named = source == "FILE" and "file_name" in columns
        select = ", ".join(wanted + (["file_name"] if named else []))
        self._provenance["read_from"] = f"{source}({select})"
        return db.execute(f"SELECT {select} FROM {source}"), wanted, named


def _expected_rows(db: sqlite3.Connection) -> int | None:
    """About how many rows the read will give, for a progress bar: FILE's largest rowid
    (one index lookup; a view or a table without rowids gives no estimate)."""
    try:
        (last,) = db.execute("SELECT max(rowid) FROM FILE").fetchone()
    except sqlite3.DatabaseError:
        return None
    return int(last) if isinstance(last, int) and last > 0 else None


def _blocks(
    first: int, wanted: list[str], rows: list[tuple[object, ...]], named: bool
) -> Iterator[PackedBlock | InvalidRecord]:
    """One fetch of rows as packed blocks, split around invalid rows (which ``_entry``
    describes, as the row reader would). Rows without any value are no entry."""
    n = len(rows)
    columns = list(zip(*rows, strict=True)) if n else []
    decoded = [_hex_column(columns[j], a) for j, a in enumerate(wanted)]
    invalid = np.zeros(n, bool)
    for _, _, bad in decoded:
        invalid |= bad
    has_value = np.zeros(n, bool)
    for present, _, _ in decoded:
        has_value |= present
    keep = has_value & ~invalid
    names = columns[len(wanted)] if named else None
    done = 0
    for row in [*np.flatnonzero(invalid).tolist(), n]:
        if row > done:
            yield _block(wanted, decoded, keep, names, done, row)
        if row < n:
            record = _entry(first + row, wanted, rows[row], named)
            assert isinstance(record, InvalidRecord)
            yield record
        done = row + 1


def _hex_column(
    column: Sequence[object], algorithm: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(has a value, the values as ``(n, bytes)`` uint8, is invalid) of one column.

    Values of exactly the algorithm's number of hex digits are decoded by numpy; any
    other non-empty text is checked by the algorithm's own validator (which strips
    spaces).
    """
    checker = get_algorithm(algorithm)
    digits = checker.bits // 4
    n = len(column)
    try:  # every value text: the usual case, joined at C speed
        joined = "".join(cast(Sequence[str], column))
        texts = cast(Sequence[str], column)
    except TypeError:
        joined = None
        texts = [c if isinstance(c, str) else ("" if c is None else str(c)) for c in column]
    lengths = np.fromiter(map(len, texts), np.int64, count=n)
    present = lengths > 0
    values = np.zeros((n, digits // 2), np.uint8)
    fast = np.flatnonzero(lengths == digits)
    if len(fast):
        if joined is None or len(fast) < n:
            joined = "".join([texts[i] for i in fast.tolist()])
        ascii_digits = np.frombuffer(joined.encode("ascii", "replace"), np.uint8)
        nibbles = HEX_NIBBLE[ascii_digits.reshape(len(fast), digits)]
        good = (nibbles < 16).all(axis=1)
        values[fast[good]] = (nibbles[good, 0::2] << 4) | nibbles[good, 1::2]
        slow = np.concatenate([fast[~good], np.flatnonzero(present & (lengths != digits))])
    else:
        slow = np.flatnonzero(present)
    invalid = np.zeros(n, bool)
    for i in slow.tolist():
        if checker.is_valid(texts[i]):
            values[i] = np.frombuffer(checker.value(texts[i]).to_bytes(), np.uint8)
        else:
            invalid[i] = True
    return present, values, invalid


def _references(column: Sequence[object] | None, kept: np.ndarray) -> tuple[bytes, np.ndarray]:
    """The file names of the ``kept`` rows back to back (UTF-8), and their offsets."""
    if column is None:
        return b"", np.zeros(len(kept) + 1, np.int64)
    picked = column if len(kept) == len(column) else [column[i] for i in kept.tolist()]
    try:
        text = "".join(cast(Sequence[str], picked))
        if text.isascii():  # the usual case: one length per name, no encoding per name
            lengths = np.fromiter(map(len, cast(Sequence[str], picked)), np.int64, len(picked))
            return text.encode("ascii"), np.concatenate(([0], np.cumsum(lengths)))
    except TypeError:  # a missing name, or one stored as a number
        pass
    encoded = [b"" if c is None else str(c).encode("utf-8", "backslashreplace") for c in picked]
    lengths = np.fromiter(map(len, encoded), np.int64, len(encoded))
    return b"".join(encoded), np.concatenate(([0], np.cumsum(lengths)))


def _block(
    wanted: list[str],
    decoded: list[tuple[np.ndarray, np.ndarray, np.ndarray]],
    keep: np.ndarray,
    names: Sequence[object] | None,
    low: int,
    high: int,
) -> PackedBlock:
    """The kept rows among rows ``low`` to ``high - 1``, as consecutive entries."""
    kept = low + np.flatnonzero(keep[low:high])
    rank = np.full(high - low, -1, np.int64)
    rank[kept - low] = np.arange(len(kept))
    columns = []
    for algorithm, (present, values, _) in zip(wanted, decoded, strict=True):
        rows = kept[present[kept]]
        columns.append(PackedColumn(algorithm, values[rows], rank[rows - low]))
    data, offsets = _references(names, kept)
    return PackedBlock(len(kept), tuple(columns), data, offsets.astype(np.int64))


def _entry(number: int, wanted: list[str], row: tuple[object, ...], named: bool
           ) -> ParsedEntry | InvalidRecord:  # fmt: skip
    values = []
    for algorithm, raw in zip(wanted, row, strict=False):
        if raw is None or raw == "":
            continue
        text = str(raw)
        if not get_algorithm(algorithm).is_valid(text):
            return InvalidRecord(None, f"row {number}: {algorithm} is not valid: {text!r:.80}")
        values.append(get_algorithm(algorithm).value(text))
    reference = str(row[len(wanted)]) if named and row[len(wanted)] is not None else None
    return ParsedEntry(tuple(values), reference=reference, label=NSRL_LABEL)


class NsrlText(HashSetFormat):
    name: ClassVar[str] = "nsrl-rds2"
    description: ClassVar[str] = "NIST NSRL RDS 2.x NSRLFile.txt (quoted CSV), also zipped"
    default_category: ClassVar[Category | None] = Category.KNOWN_GOOD

    def sniff(self, sample: Sample) -> float:
        if sample.head.startswith(b"PK\x03\x04"):
            return 1.0 if b"NSRLFile.txt" in sample.head[:300] else 0.0
        first = sample.lines[0].lstrip("\ufeff").strip() if sample.lines else ""
        return 1.0 if first in (RDS2_HEADER, RDS15_HEADER) else 0.0

    def read(self, stream: BinaryIO) -> Iterator[ParsedEntry | InvalidRecord]:
        if stream.read(4) == b"PK\x03\x04":
            stream.seek(0)
            try:
                archive = zipfile.ZipFile(stream)
                member = next((n for n in archive.namelist()
                               if n.rsplit("/", 1)[-1] == "NSRLFile.txt"), None)  # fmt: skip
                if member is None:
                    raise HashSetFormatError("the zip file holds no NSRLFile.txt")
                self._provenance = {"nsrl": "RDS 2.x", "zip_member": member}
                with archive.open(member) as inner:
                    yield from self._text(cast(BinaryIO, inner))
            except (zipfile.BadZipFile, EOFError) as exc:
                raise HashSetFormatError(f"damaged zip file: {exc}") from exc
            return
        stream.seek(0)
        self._provenance = {"nsrl": "RDS 2.x"}
        yield from self._text(stream)

    def _text(self, raw: BinaryIO) -> Iterator[ParsedEntry | InvalidRecord]:
        text = io.TextIOWrapper(raw, encoding="latin-1", newline="")
        reader = csv.reader(text)
        try:
            header = [h.lstrip("\ufeff\xef\xbb\xbf") for h in next(reader)]
        except StopIteration:
            raise HashSetFormatError("empty file") from None
        lower = [h.lower() for h in header]
        try:
            sha1, md5, name = lower.index("sha-1"), lower.index("md5"), lower.index("filename")
        except ValueError:
            raise HashSetFormatError(
                f"not an NSRL header: {','.join(header)[:120]}", line=1
            ) from None
        special = lower.index("specialcode") if "specialcode" in lower else None
        for row in reader:
            line = reader.line_num
            if not row:
                continue
            if len(row) != len(header):
                yield InvalidRecord(line, f"expected {len(header)} fields, found {len(row)}")
                continue
            values = []
            for column, algorithm in ((sha1, "sha1"), (md5, "md5")):
                if not get_algorithm(algorithm).is_valid(row[column]):
                    yield InvalidRecord(line, f"not a valid {algorithm}: {row[column]!r:.60}")
                    break
                values.append(get_algorithm(algorithm).value(row[column]))
            else:
                code = row[special].strip() if special is not None else ""
                label = f"{NSRL_LABEL} special {code}" if code else NSRL_LABEL
                # 'M' marks software NIST lists as malicious (hacker tools): flag, not filter.
                category = Category.ALERT if code == "M" else None
                yield ParsedEntry(tuple(values), reference=row[name], label=label,
                                  category=category)  # fmt: skip
