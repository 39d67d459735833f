"""NIST NSRL Reference Data Sets: RDSv3 (SQLite) and RDS 2.x (``NSRLFile.txt``, also zipped).

NSRL lists known *software*; its role is data reduction. Sets default to ``known-good``:
a file that only hits NSRL is counted, not listed, and a known-bad hit always wins.

RDSv3 is read straight from its SQLite file, opened read-only and immutable, in one
streaming pass (``DISTINCT_HASH`` when the database has it, as minimal sets do, else
``FILE``); columns are chosen by name because an early release has no ``crc32``. The
``VERSION`` row goes into the set's provenance. RDS 2.x is quoted CSV with ISO-8859-1
file names, read with a real CSV parser (names hold commas and quotes).
"""

from __future__ import annotations

import csv
import io
import sqlite3
import zipfile
from collections.abc import Iterator
from typing import BinaryIO, ClassVar, cast

from hashmatch.errors import HashSetFormatError
from hashmatch.hashing import get_algorithm
from hashmatch.hashsets.categories import Category
from hashmatch.hashsets.formats.base import SQLITE_MAGIC, HashSetFormat, Sample, sqlite_readonly
from hashmatch.hashsets.model import InvalidRecord, ParsedEntry

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

    def sniff(self, sample: Sample) -> float:
        head = sample.head
        if not head.startswith(SQLITE_MAGIC):
            return 0.0
        has = [marker in head for marker in (b"FILE", b"PKG", b"VERSION")]
        return 1.0 if all(has) else 0.0

    def read(self, stream: BinaryIO) -> Iterator[ParsedEntry | InvalidRecord]:
        try:
            with sqlite_readonly(stream) as db:
                yield from self._rows(db)
        except sqlite3.DatabaseError as exc:
            raise HashSetFormatError(f"not a readable NSRL RDSv3 database: {exc}") from exc

    def _rows(self, db: sqlite3.Connection) -> Iterator[ParsedEntry | InvalidRecord]:
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
        cursor = db.execute(f"SELECT {select} FROM {source}")
        number = 0
        while rows := cursor.fetchmany(FETCH_ROWS):
            for row in rows:
                number += 1
                yield _entry(number, wanted, row, named)


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
