"""Project VIC "VICS" JSON (OData), versions 1.1-1.3 and 2.0, case files and hash sets.

What Griffeye, Magnet AXIOM, IPED and XAMN exchange, and how CAID is shipped. The root
object names the data model (``odata.metadata`` in 1.x, ``@odata.context`` in 2.0);
``value`` holds either media (a hash set) or cases whose ``Media`` arrays hold them. The
shape is decided by structure, not by the ``#Media``/``#Cases`` suffix, which some
exporters get wrong.

Files reach gigabytes and hundreds of thousands of media. A set is packed (sorted arrays,
each medium's record kept beside them): flat hash sets are read in bulk, a chunk of
media at a time (``vics_bulk``); case files and anything the bulk reader does not take
are read as a stream (``vics_stream``), one medium at a time. Memory does not grow
with the file, nor with the number of media in one case. What a medium means is
decided in one place (``vics_media``).

Real exporters write booleans and numbers as strings, mix upper- and lower-case hex, put
a UTF-8 or UTF-16 byte-order mark first, and write odd dates: all accepted; dates and
unknown keys are kept as written.

Categories: the number in ``Category`` means different things in different schemes
(``CategoryScheme``); the original number is kept as the entry's label (``VICS 1``) and
mapped onto hashmatch's categories (docs/categories.md).
"""

from __future__ import annotations

import enum
import functools
import itertools
import re
from collections.abc import Iterator
from dataclasses import replace
from decimal import Decimal
from typing import BinaryIO, ClassVar, cast

import ijson

from hashmatch.errors import HashSetFormatError, UsageError
from hashmatch.hashsets.categories import Category
from hashmatch.hashsets.formats.base import HashSetFormat, Sample, text_encoding
from hashmatch.hashsets.formats.file_sizes import size_of
from hashmatch.hashsets.formats.json_depth import depth_limited
from hashmatch.hashsets.formats.vics_bulk import BulkReader, NotBulk
from hashmatch.hashsets.formats.vics_halves import as_read
from hashmatch.hashsets.formats.vics_media import (
    Categorise,
    Media,
    describes_several,
    read_record,
    reference_of_record,
    shown,
    shown_record,
)
from hashmatch.hashsets.formats.vics_stream import (
    ROOT_KEYS,
    Rewindable,
    is_utf16,
    note_case,
    objects,
    tell,
    utf8,
)
from hashmatch.hashsets.model import InvalidRecord, ParsedEntry
from hashmatch.hashsets.packed.entries import entry_blocks
from hashmatch.hashsets.packed.layout import PackedBlock

MODEL_MARKS = ("ProjectVic", "VICSDATAMODEL", "projectvic")


class CategoryScheme(enum.Enum):
    """How a VICS ``Category`` number is read."""

    VICS_US = "vics-us"  # current Project VIC US
    VICS_DHS = "vics-dhs"  # the older DHS numbering

    @classmethod
    def parse(cls, text: str) -> CategoryScheme:
        for scheme in cls:
            if scheme.value == text.strip().lower():
                return scheme
        known = ", ".join(s.value for s in cls)
        raise UsageError(f"unknown category scheme {text!r} (known: {known})")


#: number → (name, hashmatch category), per scheme.
SCHEMES: dict[CategoryScheme, dict[int, tuple[str, Category]]] = {
    CategoryScheme.VICS_US: {
        0: ("Non-Pertinent", Category.KNOWN_GOOD),
        1: ("Child Abuse Material", Category.KNOWN_BAD),
        2: ("Child Exploitive (non-CAM) / Age Difficult", Category.KNOWN_BAD),
        3: ("CGI/Animation - Child Exploitive", Category.KNOWN_BAD),
        4: ("Comparison Images", Category.ALERT),
    },
    CategoryScheme.VICS_DHS: {
        0: ("Uncategorized", Category.ALERT),
        1: ("Child Exploitation (Illegal)", Category.KNOWN_BAD),
        2: ("Non-Illegal / Age Difficult", Category.KNOWN_BAD),
        3: ("CGI/Animation", Category.KNOWN_BAD),
        4: ("Exemplar/Comparison", Category.ALERT),
        5: ("Non-Pertinent", Category.KNOWN_GOOD),
    },
}
DEFAULT_SCHEME = CategoryScheme.VICS_US


def category_of(value: object, scheme: CategoryScheme) -> tuple[str, Category]:
    """(original label, hashmatch category) of a ``Category`` value as written: a whole
    number (``1``, ``"1"``, ``1.0``, ``1E0``) by its scheme; anything else (``"1.5"``,
    ``0.99999999999999999999``, ``1e-400``, ``"0_1"``, ``"-0"``, Arabic-Indic digits) is
    an alert with the value quoted in its label, never rounded to a number."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return "VICS uncategorized", Category.ALERT
    number = _whole_number(value)
    if number is None:
        if isinstance(value, str):
            text = value.strip()
        else:
            text = str(value) if isinstance(value, Decimal) else shown(value)
        return f'VICS category "{text[:40]}"', Category.ALERT
    name, category = SCHEMES[scheme].get(number, (UNKNOWN_NUMBER, Category.ALERT))
    return f"VICS {number} ({name})", category


#: A category written as text: ASCII digits only (``int`` also takes signs, ``_`` and
#: other scripts' digits).
_DIGITS = re.compile(r"[0-9]{1,18}")


def _whole_number(value: object) -> int | None:
    """The whole number a ``Category`` value is exactly, if it is one. Fractions come
    as Decimal from both readers (ijson; json with ``parse_float``), so nothing is
    rounded on the way."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, Decimal):
        exact = value.is_finite() and value == value.to_integral_value()
        return int(value) if exact and value.adjusted() < 18 else None
    if isinstance(value, float):
        return int(value) if value.is_integer() and abs(value) < 2**53 else None
    if isinstance(value, str) and _DIGITS.fullmatch(value.strip()):
        return int(value.strip())
    return None


#: The name of a number the scheme does not define, in its label.
UNKNOWN_NUMBER = "unknown in this scheme"
#: What a DHS number is in the current US scheme (exports write US numbers): the same
#: meaning, except Non-Pertinent (5 in DHS, 0 in US) and Uncategorized (DHS 0: no
#: category at all in US).
_US_OF_DHS: dict[int, int | None] = {0: None, 1: 1, 2: 2, 3: 3, 4: 4, 5: 0}
#: (number, name) as a label holds them → the US number; names tell the schemes apart.
_US_NUMBERS: dict[tuple[int, str], int | None] = {
    **{(n, name): n for n, (name, _) in SCHEMES[CategoryScheme.VICS_US].items()},
    **{(n, name): _US_OF_DHS[n] for n, (name, _) in SCHEMES[CategoryScheme.VICS_DHS].items()},
}
_LABEL_NUMBER = re.compile(r"VICS (\d+) \((.*)\)", re.S)


def numbered(label: str | None) -> bool:
    """Whether ``label`` holds a VICS category number (whatever it means)."""
    return _LABEL_NUMBER.fullmatch(label or "") is not None


def vics_number(label: str | None) -> int | None:
    """The VICS category a label ``category_of`` wrote stands for, as a number of the
    current US scheme (what exports write); None for uncategorized media, for values
    that were no number, and for labels not from VICS. A number its scheme did not
    define is given as it was."""
    found = _LABEL_NUMBER.fullmatch(label or "")
    if found is None:
        return None
    number, name = int(found[1]), found[2]
    if name == UNKNOWN_NUMBER:
        return number
    return _US_NUMBERS.get((number, name))


class Vics(HashSetFormat):
    name: ClassVar[str] = "vics"
    description: ClassVar[str] = "Project VIC VICS JSON (1.x odata.metadata, 2.0 @odata.context)"
    gives_sizes: ClassVar[bool] = True

    takes_category_scheme: ClassVar[bool] = True

    def __init__(self) -> None:
        super().__init__()
        self.scheme = DEFAULT_SCHEME

    def configure(self, *, category_scheme: str | None = None) -> None:
        if category_scheme is not None:
            self.scheme = CategoryScheme.parse(category_scheme)

    def sniff(self, sample: Sample) -> float:
        # The raw head, not its lines: a file written on one line has no whole line in it.
        text = sample.head[:8192].decode(text_encoding(sample.head), "replace")
        text = text.lstrip("\ufeff").lstrip()
        if not text.startswith("{"):
            return 0.0
        head = text[:2000]
        if any(f'"{key}"' in head for key in ROOT_KEYS) and any(m in head for m in MODEL_MARKS):
            return 1.0
        if '"value"' in head and ('"MD5"' in head or '"Media"' in head):
            return 0.8
        return 0.0

    def packs(self) -> bool:
        return True

    def blocks(self, stream: BinaryIO) -> Iterator[PackedBlock | InvalidRecord]:
        """In bulk as far as the bulk reader takes the file; the rest as a stream (which
        reads the file again from its start, passing over the media already given)."""
        bulk = BulkReader(self._categorise())
        self._provenance = {"category_scheme": self.scheme.value}
        head = stream.read(2)
        stream.seek(0)
        source = cast(BinaryIO, Rewindable(stream)) if is_utf16(head) else stream
        try:
            yield from bulk.blocks(source, self._provenance)
            return
        except NotBulk:
            pass
        stream.seek(0)
        media = Media(self._categorise())
        rest = itertools.islice(self._read(stream, media), bulk.progress.media, None)
        # Both readers keep no reference: it is read from the record when asked.
        yield from entry_blocks(
            replace(e, reference=None) if isinstance(e, ParsedEntry) else e for e in rest
        )

    def reference_of_record(self, record: str) -> str | None:
        return reference_of_record(record)

    def size_of_record(self, record: str) -> int | None:
        """The medium's MediaSize; None for a medium of two MD5s (an alternative one),
        whose size is not both files'."""
        medium = read_record(record)
        if medium is None or describes_several(medium):
            return None
        return size_of(medium.get("MediaSize"))

    def shown_record(self, record: str) -> str:
        return shown_record(record)

    def read(self, stream: BinaryIO) -> Iterator[ParsedEntry | InvalidRecord]:
        return self._read(stream, Media(self._categorise()))

    def _categorise(self) -> Categorise:
        """``category_of`` in this import's scheme (picklable: worker processes use it)."""
        return functools.partial(category_of, scheme=self.scheme)

    def _read(self, stream: BinaryIO, media: Media) -> Iterator[ParsedEntry | InvalidRecord]:
        self._provenance = {"category_scheme": self.scheme.value}
        source = depth_limited(as_read(utf8(stream)))  # (halves of pairs alone: ``?``)
        count = 0
        try:
            for kind, obj in objects(source, self._provenance):
                if kind == "case":
                    note_case(self._provenance, obj)
                    continue
                count += 1
                yield media.entry(count, obj)
        except ijson.JSONError as exc:
            raise HashSetFormatError(
                f"not valid JSON {_where(count)}{_bytes_read(tell(source))}: {_first_line(exc)}"
            ) from exc
        except UnicodeDecodeError as exc:
            raise HashSetFormatError(_undecodable(exc)) from exc
        if "context" not in self._provenance:
            raise HashSetFormatError("no odata.metadata / @odata.context: not a VICS file")


def _where(count: int) -> str:
    """Where a reading error is, by the media read whole before it."""
    return f"after medium {count}" if count else "in or before the first medium"


#: How much ijson reads at a time: where in it the parser stopped, it does not say.
_PARSER_READS = 64 * 1024


def _bytes_read(position: int | str) -> str:
    """Where the error is, as near as the streaming parser tells: in the last stretch of
    the file it read."""
    if not isinstance(position, int):
        return ""
    return f" (in bytes {max(0, position - _PARSER_READS):,}-{position:,})"


def _first_line(exc: Exception) -> str:
    """The parser's reason, without the drawing yajl adds (its message can be bytes)."""
    message = exc.args[0] if exc.args else ""
    if isinstance(message, bytes):
        message = message.decode("utf-8", "replace")
    return (str(message).strip().splitlines() or [type(exc).__name__])[0]


def _undecodable(error: UnicodeDecodeError) -> str:
    """What a decoding error means: the file's bytes are no UTF-8 or UTF-16 text. (An
    escape of half a surrogate pair alone, which the parser wrote as bytes that are not
    UTF-8, is read as ``?`` before it: ``vics_halves``.)"""
    return f"not valid UTF-8/UTF-16 text: {error}"
