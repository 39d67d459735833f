"""EnCase 3-6 ``.hash`` hash sets: binary, read into a packed set a chunk of records at once.

Layout (little-endian): magic ``HASH\\r\\n\\xff\\x00``; at 0x10 the record count (uint32);
set name and category as UTF-16LE at 0x408 and 0x458; from 0x480, 18-byte records (a
16-byte MD5 and 2 bytes) to the end of the file. The record reader (``read``) and the
bulk one (``blocks``) give the same entries and the same messages: a record cut short
at the end, and fewer records than the header counts (a file cut at a record's end).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import BinaryIO, ClassVar

import numpy as np

from hashmatch.errors import HashSetFormatError
from hashmatch.hashing import get_algorithm
from hashmatch.hashsets.formats.base import HashSetFormat, Sample
from hashmatch.hashsets.model import InvalidRecord, ParsedEntry
from hashmatch.hashsets.packed.layout import PackedBlock

ENCASE_MAGIC = b"HASH\r\n\xff\x00"
ENCASE_RECORDS = 0x480
ENCASE_RECORD = 18
#: Records read (and packed) at once.
CHUNK_RECORDS = 1 << 18


class EnCaseHash(HashSetFormat):
    name: ClassVar[str] = "encase"
    description: ClassVar[str] = "EnCase 3-6 .hash (binary)"

    def sniff(self, sample: Sample) -> float:
        return 1.0 if sample.head.startswith(ENCASE_MAGIC) else 0.0

    def read(self, stream: BinaryIO) -> Iterator[ParsedEntry | InvalidRecord]:
        count = self._header(stream)
        md5 = get_algorithm("md5")
        number = 0
        while record := stream.read(ENCASE_RECORD):
            number += 1
            if len(record) != ENCASE_RECORD:
                yield _cut_record(number, len(record))
                return
            yield ParsedEntry((md5.value(record[:16].hex()),))
        if number < count:
            yield _fewer(count, number)

    def packs(self) -> bool:
        return True

    def blocks(self, stream: BinaryIO) -> Iterator[PackedBlock | InvalidRecord]:
        count = self._header(stream)
        number = 0
        while data := stream.read(CHUNK_RECORDS * ENCASE_RECORD):
            whole = len(data) // ENCASE_RECORD
            if whole:
                records = np.frombuffer(data, np.uint8, whole * ENCASE_RECORD)
                values = np.ascontiguousarray(records.reshape(whole, ENCASE_RECORD)[:, :16])
                yield PackedBlock.single("md5", values, b"", np.zeros(whole + 1, np.int64))
                number += whole
            if len(data) % ENCASE_RECORD:  # (only the file's last read ends inside one)
                yield _cut_record(number + 1, len(data) % ENCASE_RECORD)
                return
        if number < count:
            yield _fewer(count, number)

    def _header(self, stream: BinaryIO) -> int:
        """Read the header into the provenance; the record count it gives."""
        header = stream.read(ENCASE_RECORDS)
        if not header.startswith(ENCASE_MAGIC) or len(header) < ENCASE_RECORDS:
            raise HashSetFormatError("not an EnCase hash file (magic or header missing)")
        count = int.from_bytes(header[0x10:0x14], "little")
        self._provenance = {
            "encase_set_name": _utf16z(header[0x408:0x458]),
            "encase_category": _utf16z(header[0x458:0x480]),
            "encase_count": str(count),
        }
        return count


def _cut_record(number: int, size: int) -> InvalidRecord:
    return InvalidRecord(None, f"record {number} is cut short ({size} bytes)")


def _fewer(count: int, number: int) -> InvalidRecord:
    # (A file cut at a record's end: nothing else would say so.)
    return InvalidRecord(
        None, f"the header counts {count} records, the file holds {number}: cut short?"
    )


def _utf16z(raw: bytes) -> str:
    return raw.decode("utf-16-le", "replace").split("\x00", 1)[0].strip()
