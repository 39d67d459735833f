"""What a hash-set format is, and the text-file plumbing the line-based formats share.

A format sniffs a ``Sample`` of a file's head and says how well it fits; it reads a file
as a stream of ``ParsedEntry`` (good records) and ``InvalidRecord`` (bad ones, with the
line number and reason). It never loads the whole file. A format whose entries carry
nothing but hash values and a reference (hash lists, NSRL RDSv3) also reads in bulk
(``packs``/``blocks``): numpy blocks for a packed set, the same entries in the same
order. SQLite-based formats open the file by its path, read-only (``sqlite_readonly``).
Whether an invalid record stops the import or is skipped is the importer's decision,
not the format's.
"""

from __future__ import annotations

import abc
import codecs
import io
import os
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, ClassVar

from hashmatch.dbutil import connect_read_only
from hashmatch.errors import HashSetFormatError
from hashmatch.hashsets.categories import Category
from hashmatch.hashsets.model import InvalidRecord, ParsedEntry
from hashmatch.hashsets.name_decoding import NAME_ERRORS
from hashmatch.hashsets.packed.layout import PackedBlock

SAMPLE_BYTES = 64 * 1024
SAMPLE_LINES = 200


@dataclass(frozen=True)
class Sample:
    """The head of a hash-set file: raw bytes, and its first lines decoded as text."""

    head: bytes
    lines: tuple[str, ...]
    #: An SQLite file's tables and views, when it could be opened to read them.
    tables: frozenset[str] | None = None

    @property
    def data_lines(self) -> tuple[str, ...]:
        """Lines that carry data: not blank and not ``#`` comments."""
        return tuple(s for s in (line.strip() for line in self.lines) if s and s[0] != "#")


def text_encoding(head: bytes) -> str:
    """The text encoding a byte-order mark announces (UTF-8 without one)."""
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith(codecs.BOM_UTF16_LE) or head.startswith(codecs.BOM_UTF16_BE):
        return "utf-16"
    return "utf-8"


def make_sample(head: bytes, path: Path | None = None) -> Sample:
    """The sample of a file whose first bytes are ``head``; ``path``: the file, whose
    tables are read if it is an SQLite database."""
    encoding = text_encoding(head)
    text = head.decode(encoding, "replace")
    lines = text.splitlines()
    if len(head) >= SAMPLE_BYTES and len(lines) > 1:
        # The last line was probably cut by the sample size (kept when it is the only
        # one: a line longer than the sample, a long name, still shows its format).
        lines = lines[:-1]
    tables = _tables(path) if path is not None and head.startswith(SQLITE_MAGIC) else None
    return Sample(head, tuple(lines[:SAMPLE_LINES]), tables)


#: What reading a damaged SQLite file raises: SQLite's errors, and Python's for text the
#: file holds that is not UTF-8 (a table's name in its schema).
SQLITE_UNREADABLE = (sqlite3.DatabaseError, UnicodeDecodeError)


def _tables(path: Path) -> frozenset[str] | None:
    """The tables and views of an SQLite file (None if it cannot be read: the format's
    reader then says what is wrong with it)."""
    try:
        with closing(connect_read_only(path)) as db:
            return frozenset(str(r[0]) for r in db.execute("SELECT name FROM sqlite_master"))
    except (sqlite3.Error, UnicodeDecodeError):
        return None


def text_lines(stream: BinaryIO) -> Iterator[tuple[int, str]]:
    """(line number, line without its end) for every line of a seekable text stream.

    The encoding comes from the byte-order mark; bytes that are not valid UTF-8 are read
    as Windows-1252 (``NAME_ERRORS``) instead of failing the import.
    """
    encoding = text_encoding(stream.read(4))
    stream.seek(0)
    text = io.TextIOWrapper(stream, encoding=encoding, errors=NAME_ERRORS, newline=None)
    for number, line in enumerate(text, 1):
        yield number, line.rstrip("\n")


def csv_text(stream: BinaryIO) -> io.TextIOWrapper:
    """A seekable stream as text for the ``csv`` module (line ends kept), in the encoding
    its byte-order mark announces; bytes that are not UTF-8 read as ``NAME_ERRORS`` says."""
    encoding = text_encoding(stream.read(4))
    stream.seek(0)
    return io.TextIOWrapper(stream, encoding=encoding, errors=NAME_ERRORS, newline="")


class HashSetFormat(abc.ABC):
    """One hash-set file format, registered by its constant name."""

    name: ClassVar[str]
    description: ClassVar[str]
    #: Category a set of this format gets when the user names none (None: the default).
    default_category: ClassVar[Category | None] = None
    #: The label every entry of a packed set of this format has (its records carry none).
    entry_label: ClassVar[str | None] = None
    #: Whether the format gives each known file's size (kept, for the hashdeep export).
    gives_sizes: ClassVar[bool] = False

    @abc.abstractmethod
    def sniff(self, sample: Sample) -> float:
        """How well the sample fits this format, from 0 (not at all) to 1 (certainly)."""

    @abc.abstractmethod
    def read(self, stream: BinaryIO) -> Iterator[ParsedEntry | InvalidRecord]:
        """Every record of the file, in order."""

    def bytes_read(self) -> int | None:
        """How far into the file reading has come, for a progress bar, when the stream's
        position does not say (SQLite files are read through their own connection)."""
        return None

    def reference_of_record(self, record: str) -> str | None:
        """What names an entry, read from its original record (formats that keep records
        in a packed set derive it when asked instead of storing it too)."""
        return None

    def size_of_record(self, record: str) -> int | None:
        """The file size an entry's original record gives (VICS: its MediaSize)."""
        return None

    def shown_record(self, record: str) -> str:
        """An entry's record as it is given out (VICS leaves out the OData annotations
        the record keeps as read)."""
        return record

    def packs(self) -> bool:
        """Whether ``blocks`` reads this file (into a packed set) instead of ``read``."""
        return False

    def blocks(self, stream: BinaryIO) -> Iterator[PackedBlock | InvalidRecord]:
        """The entries ``read`` gives, in bulk: same values, references and order."""
        raise NotImplementedError(f"{self.name} has no bulk reader")

    def __init__(self) -> None:
        #: What ``read`` learns about where the set comes from; formats fill it in.
        self._provenance: dict[str, str] = {}

    def provenance(self) -> dict[str, str]:
        """What the last ``read`` learned about where the set comes from (versions...)."""
        return dict(self._provenance)

    #: Whether the format reads a category scheme (``configure(category_scheme=...)``).
    takes_category_scheme: ClassVar[bool] = False

    def configure(self, *, category_scheme: str | None = None) -> None:  # noqa: B027
        """Options of the import; formats that take none ignore them."""


SQLITE_MAGIC = b"SQLite format 3\x00"


def sqlite_readonly(stream: BinaryIO) -> closing[sqlite3.Connection]:
    """The SQLite database a hash-set file is, opened read-only and immutable by its path."""
    name = getattr(stream, "name", None)
    if not isinstance(name, str):
        raise HashSetFormatError("an SQLite hash set must be imported from a file")
    path = Path(name)
    # Opened immutable, SQLite reads neither: the set would be imported short, silently.
    wal = path.with_name(path.name + "-wal")
    if wal.is_file() and wal.stat().st_size > 0:
        raise HashSetFormatError(
            f"the write-ahead log {wal.name} beside it holds changes not yet in the "
            f"database (an update applied, the database still open?): let SQLite finish "
            f"them (close what has it open, or run: sqlite3 {path.name} 'PRAGMA "
            f"wal_checkpoint(TRUNCATE)') and import again"
        )
    if _hot_journal(path.with_name(path.name + "-journal")):
        raise HashSetFormatError(
            f"the rollback journal {path.name}-journal beside it holds a transaction that "
            f"was interrupted: let SQLite roll it back (run: sqlite3 {path.name} 'PRAGMA "
            f"integrity_check') and import again"
        )
    return closing(connect_read_only(path))


def expected_rows(db: sqlite3.Connection, table: str) -> int | None:
    """About how many rows a read of ``table`` gives, for a progress bar: its largest
    rowid (one index lookup; a view or a table without rowids gives no estimate)."""
    try:
        (last,) = db.execute(f"SELECT max(rowid) FROM {table}").fetchone()
    except SQLITE_UNREADABLE:
        return None
    return int(last) if isinstance(last, int) and last > 0 else None


def fetches(
    stream: BinaryIO, cursor: sqlite3.Cursor, expected: int | None, at_once: int
) -> Iterator[tuple[int, list[tuple[object, ...]], int | None]]:
    """(number of the first row, ``at_once`` rows, how far into the file's bytes the
    rows read up to the end of these are: their share of ``expected``, None without an
    estimate) per fetch of a query over an SQLite hash set."""
    size = os.fstat(stream.fileno()).st_size
    first = 1
    while rows := cursor.fetchmany(at_once):
        first += len(rows)
        done = int(size * min(1.0, (first - 1) / expected)) if expected else None
        yield first - len(rows), rows, done


#: The first bytes of a rollback journal that holds a transaction (one kept after its
#: transaction, in journal_mode PERSIST, has them zeroed).
_JOURNAL_MAGIC = bytes.fromhex("d9d505f920a163d7")


def _hot_journal(journal: Path) -> bool:
    try:
        with journal.open("rb") as stream:
            return stream.read(len(_JOURNAL_MAGIC)) == _JOURNAL_MAGIC
    except OSError:
        return False


def fraction(sample: Sample, matches: Callable[[str], object]) -> float:
    """Share of the sample's data lines for which ``matches(line)`` is true."""
    lines = sample.data_lines
    if not lines:
        return 0.0
    return sum(1 for line in lines if matches(line)) / len(lines)
