"""NIST NSRL RDS 2.x ``NSRLFile.txt`` (quoted CSV, ISO-8859-1 names), plain or zipped.

Read with a real CSV parser (names hold commas and quotes). ``read`` goes row by row;
``blocks`` reads batches of rows into a packed set: the SHA-1 and MD5 columns of a
batch are checked and hex-decoded by numpy, each SpecialCode becomes a label code
(``M``, software NIST marks as malicious, is an alert: flagged, not filtered), each
FileSize the entry's size (``file_sizes``), and the rows the batch check refuses are
described by ``read``'s own row logic, so both give the same entries, messages and line
numbers.
"""

from __future__ import annotations

import codecs
import io
import lzma
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from itertools import islice
from typing import BinaryIO, ClassVar, TypeVar, cast

import numpy as np

from hashmatch.errors import HashSetFormatError
from hashmatch.hashing import get_algorithm
from hashmatch.hashsets.categories import Category
from hashmatch.hashsets.formats.base import HashSetFormat, Sample
from hashmatch.hashsets.formats.columns import Labels, batch_blocks, hex_column
from hashmatch.hashsets.formats.csv_rows import Chained, Rows
from hashmatch.hashsets.formats.file_sizes import size_of, sizes_of
from hashmatch.hashsets.formats.nsrl import NSRL_LABEL
from hashmatch.hashsets.formats.nsrl_lines import line_blocks
from hashmatch.hashsets.model import InvalidRecord, ParsedEntry
from hashmatch.hashsets.name_decoding import NAME_ERRORS
from hashmatch.hashsets.packed.layout import PackedBlock, PackedLabel

RDS2_HEADER = (
    '"SHA-1","MD5","CRC32","FileName","FileSize","ProductCode","OpSystemCode","SpecialCode"'
)
RDS15_HEADER = (
    '"SHA-1","FileName","FileSize","ProductCode","OpSystemCode","MD4","MD5","CRC32","SpecialCode"'
)
BATCH_ROWS = 50_000

_T = TypeVar("_T")


@dataclass(frozen=True)
class _Columns:
    """Where the fields are in this file's rows."""

    width: int
    sha1: int
    md5: int
    name: int
    special: int | None
    size: int | None


class NsrlText(HashSetFormat):
    name: ClassVar[str] = "nsrl-rds2"
    description: ClassVar[str] = "NIST NSRL RDS 2.x NSRLFile.txt (quoted CSV), also zipped"
    default_category: ClassVar[Category | None] = Category.KNOWN_GOOD
    entry_label: ClassVar[str | None] = NSRL_LABEL
    gives_sizes: ClassVar[bool] = True

    def sniff(self, sample: Sample) -> float:
        if sample.head.startswith(b"PK\x03\x04"):
            # (only NSRL 2.x sets are read from zip files; whatever member comes first, the
            # reader looks for NSRLFile.txt in the zip's directory, and says if it is not there)
            return 1.0
        first = sample.lines[0].lstrip("\ufeff").strip() if sample.lines else ""
        return 1.0 if first in (RDS2_HEADER, RDS15_HEADER) else 0.0

    def read(self, stream: BinaryIO) -> Iterator[ParsedEntry | InvalidRecord]:
        return self._member(stream, _rows)

    def packs(self) -> bool:
        return True

    def blocks(self, stream: BinaryIO) -> Iterator[PackedBlock | InvalidRecord]:
        return self._member(stream, _batches, bulk=True)

    def _member(
        self,
        stream: BinaryIO,
        reader: Callable[[Rows, _Columns], Iterator[_T]],
        *,
        bulk: bool = False,
    ) -> Iterator[_T]:
        """``reader`` over the file's rows, or over those of the NSRLFile.txt in a zip."""
        if stream.read(4) == b"PK\x03\x04":
            stream.seek(0)
            try:
                archive = zipfile.ZipFile(stream)
                member = _member(archive)
                self._provenance = {"nsrl": "RDS 2.x", "zip_member": member.filename}
                with archive.open(member) as inner:
                    yield from _read(cast(BinaryIO, inner), reader, bulk)
            except (zipfile.BadZipFile, EOFError, zlib.error, lzma.LZMAError) as exc:
                raise HashSetFormatError(f"damaged zip file: {exc}") from exc
            return
        stream.seek(0)
        self._provenance = {"nsrl": "RDS 2.x"}
        yield from _read(stream, reader, bulk)


#: Compression methods Python's zipfile reads (Windows zips files over 2 GB with
#: Deflate64, which it does not).
_READABLE = {zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA}


def _member(archive: zipfile.ZipFile) -> zipfile.ZipInfo:
    """The zip's one NSRLFile.txt, if it can be read."""
    members = [i for i in archive.infolist() if i.filename.rsplit("/", 1)[-1] == "NSRLFile.txt"]
    if not members:
        raise HashSetFormatError(
            "the zip file holds no NSRLFile.txt (only NSRL RDS 2.x sets are read from zips)"
        )
    if len(members) > 1:
        names = ", ".join(i.filename for i in members)
        raise HashSetFormatError(
            f"the zip file holds {len(members)} NSRLFile.txt ({names}): unzip it and import "
            "each on its own"
        )
    (member,) = members
    if member.flag_bits & 0x1:
        raise HashSetFormatError(f"{member.filename} is encrypted in the zip: unzip it first")
    if member.compress_type not in _READABLE:
        raise HashSetFormatError(
            f"{member.filename} is compressed with a method Python cannot read (zip method "
            f"{member.compress_type}; Windows uses Deflate64 for large files): unzip it first"
        )
    return member


def _read(
    raw: BinaryIO, reader: Callable[[Rows, _Columns], Iterator[_T]], bulk: bool
) -> Iterator[_T]:
    """The usual 8-column file line by line with numpy (``nsrl_lines``) when ``bulk``;
    any other through the CSV module."""
    header = raw.readline()
    # (One line end: CR CR LF ends two lines for ``csv``, which reads such a file.)
    line = header.removeprefix(codecs.BOM_UTF8).removesuffix(b"\n").removesuffix(b"\r")
    if bulk and line == RDS2_HEADER.encode():
        columns = _Columns(8, 0, 1, 3, 7, 4)
        yield from cast(
            Iterator[_T],
            line_blocks(raw, lambda line, row: _record(line, row, columns), _label),
        )
        return
    # ISO-8859-1, as NIST writes it; UTF-16 where its byte-order mark says so (a file
    # saved again by a Windows editor: recognised as NSRL, then refused).
    utf16 = header.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE))
    text = io.TextIOWrapper(cast(BinaryIO, Chained(header, raw)),
                            encoding="utf-16" if utf16 else "latin-1",
                            errors=NAME_ERRORS, newline="")  # fmt: skip
    yield from _csv(text, reader)


def _csv(text: io.TextIOWrapper, reader: Callable[[Rows, _Columns], Iterator[_T]]) -> Iterator[_T]:
    rows = Rows(text)
    try:
        header = [h.lstrip("\ufeff\xef\xbb\xbf") for h in next(rows)]
    except StopIteration:
        raise HashSetFormatError("empty file") from None
    lower = [h.lower() for h in header]
    try:
        sha1, md5, name = lower.index("sha-1"), lower.index("md5"), lower.index("filename")
    except ValueError:
        shown = ",".join(header)[:120]
        raise HashSetFormatError(f"not an NSRL header: {shown!r}", line=1) from None
    special = lower.index("specialcode") if "specialcode" in lower else None
    size = lower.index("filesize") if "filesize" in lower else None
    yield from reader(rows, _Columns(len(header), sha1, md5, name, special, size))


def _rows(rows: Rows, columns: _Columns) -> Iterator[ParsedEntry | InvalidRecord]:
    for row in rows:
        record = _record(rows.line_num, row, columns)
        if record is not None:
            yield record


def _record(line: int, row: list[str], columns: _Columns) -> ParsedEntry | InvalidRecord | None:
    """The entry of one row (None for a blank line): the reference behaviour."""
    if not row:
        return None
    if len(row) != columns.width:
        return InvalidRecord(line, f"expected {columns.width} fields, found {len(row)}")
    values = []
    for column, algorithm in ((columns.sha1, "sha1"), (columns.md5, "md5")):
        if not get_algorithm(algorithm).is_valid(row[column]):
            return InvalidRecord(line, f"not a valid {algorithm}: {row[column]!r:.60}")
        values.append(get_algorithm(algorithm).value(row[column]))
    own = _label(row[columns.special] if columns.special is not None else "")
    size = size_of(row[columns.size]) if columns.size is not None else None
    return ParsedEntry(tuple(values), reference=row[columns.name],
                       label=own.label if own else NSRL_LABEL,
                       category=own.category if own else None, size=size)  # fmt: skip


def _label(special: str) -> PackedLabel | None:
    """An entry's own label from its SpecialCode (None: no code, plain ``NSRL``)."""
    code = special.strip()
    if not code:
        return None
    # 'M' marks software NIST lists as malicious (hacker tools): flag, not filter.
    return PackedLabel(f"{NSRL_LABEL} special {code}", Category.ALERT if code == "M" else None)


def _batches(rows: Rows, columns: _Columns) -> Iterator[PackedBlock | InvalidRecord]:
    while True:
        batch: list[list[str]] = []
        lines: list[int] = []
        for row in islice(rows, BATCH_ROWS):
            batch.append(row)
            lines.append(rows.line_num)
        if not batch:
            return
        yield from _batch(batch, lines, columns)


def _batch(
    batch: list[list[str]], lines: list[int], columns: _Columns
) -> Iterator[PackedBlock | InvalidRecord]:
    n = len(batch)
    shaped = np.fromiter((len(row) == columns.width for row in batch), bool, n)
    blank = np.fromiter((not row for row in batch), bool, n)

    def field(k: int) -> list[str]:
        return [row[k] if len(row) == columns.width else "" for row in batch]

    sha1, md5 = hex_column(field(columns.sha1), "sha1"), hex_column(field(columns.md5), "md5")
    keep = shaped & sha1.valid & md5.valid
    described = np.flatnonzero(~blank & ~keep).tolist()

    def describe(row: int) -> InvalidRecord:
        record = _record(lines[row], batch[row], columns)
        assert isinstance(record, InvalidRecord)
        return record

    labels = None
    if columns.special is not None:
        specials = field(columns.special)
        codes = np.zeros(n, np.uint16)
        table: dict[PackedLabel, int] = {}
        for row in (i for i, code in enumerate(specials) if code and not code.isspace()):
            own = _label(specials[row])
            if own is not None:
                codes[row] = table.setdefault(own, len(table) + 1)
        labels = Labels(codes, tuple(table)) if table else None
    sizes = sizes_of(field(columns.size)) if columns.size is not None else None
    yield from batch_blocks((sha1, md5), field(columns.name), keep, described, describe, labels,
                            sizes=sizes)  # fmt: skip
