"""What one VICS medium means: its hashes, its category label, its record, its name.

``Media.entry`` is the reference reading of a medium, whichever reader found it (the
streaming one or the bulk one, which hands it every medium it does not take itself).

A medium's record is kept as read, OData annotations (1.x ``odata.id``,
``*@odata.navigationLinkUrl``) included: they are left out when a record is given out
(``shown_record``). Cutting them out at import cost a 1.x file, where every medium and
file has them, a JSON reading of each medium: 7-9 s for 300,000 media instead of 1-2.
"""

from __future__ import annotations

import functools
import json
import math
import re
import string
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from hashmatch.hashing import HashValue, get_algorithm
from hashmatch.hashsets.categories import Category
from hashmatch.hashsets.formats.vics_halves import readable_text
from hashmatch.hashsets.model import InvalidRecord, ParsedEntry

#: AlternativeHashes names (compared in lower case, without '-' and '_') → algorithm.
ALTERNATIVE_NAMES = {"md5": "md5", "sha1": "sha1", "sha256": "sha256", "sha2256": "sha256",
                     "pdq": "pdq"}  # fmt: skip
#: Keys that only repeat what the structure says (OData annotations): not given out.
_ANNOTATION_SUFFIXES = ("@odata.navigationLinkUrl", "@odata.associationLinkUrl")
#: Distinct ``Category`` values whose labels are remembered.
LABEL_CACHE = 1000

Categorise = Callable[[object], tuple[str, Category]]


class Media:
    """Reads media with one category scheme (``categorise``: value → label, category)."""

    def __init__(self, categorise: Categorise) -> None:
        self._categorise = categorise
        self._labels: dict[tuple[type, object], tuple[str, Category]] = {}

    def label(self, raw: object) -> tuple[str, Category]:
        """(label, category) of a ``Category`` value as written."""
        # Labels repeat: cached by type and value (True must not be taken for 1).
        key = (type(raw), raw)
        try:
            return self._labels[key]
        except (KeyError, TypeError):  # TypeError: an unhashable value (a list, an object)
            found = self._categorise(raw)
            if len(self._labels) < LABEL_CACHE and type(raw) in (str, int, type(None)):
                self._labels[key] = found
            return found

    def entry(
        self, number: int, media: dict[str, Any], *, record: str | None = None
    ) -> ParsedEntry | InvalidRecord:
        """Medium ``number`` (1-based, in file order); ``record``: its JSON, if known."""
        md5 = hex_text(media.get("MD5"), 32)
        if md5 is None:
            return InvalidRecord(
                None,
                f"medium {number}: MD5 missing or not 32 hex digits: {shown(media.get('MD5')):.60}",
            )
        values = [HashValue("md5", md5)]
        sha1 = media.get("SHA1")
        if isinstance(sha1, str) and sha1.strip():
            checked = hex_text(sha1, 40)
            if checked is None:
                return InvalidRecord(
                    None, f"medium {number}: SHA1 is not 40 hex digits: {sha1!r:.60}"
                )
            values.append(HashValue("sha1", checked))
        for alternative in _objects(media.get("AlternativeHashes")):
            if not isinstance(alternative, dict):
                continue
            raw_name = str(alternative.get("HashName", ""))
            algorithm = algorithm_named(raw_name)
            value = alternative.get("HashValue")
            if algorithm is None or not isinstance(value, str):
                continue  # PhotoDNA and others: carried in the record, never computed
            if not get_algorithm(algorithm).is_valid(value):
                return InvalidRecord(
                    None, f"medium {number}: {raw_name} value is not valid: {value!r:.80}"
                )
            hashed = get_algorithm(algorithm).value(value)
            if all(v != hashed for v in values):
                values.append(hashed)
        label, category = self.label(media.get("Category"))
        return ParsedEntry(
            tuple(values),
            reference=reference(media),
            label=label,
            category=category,
            record=record if record is not None else record_text(media),
        )


#: The cryptographic algorithms a medium's hashes are compared by, and their hex digits.
_CRYPTO_DIGITS = {"md5": 32, "sha1": 40, "sha256": 64}


def describes_several(media: dict[str, Any]) -> bool:
    """Whether a medium gives two values of one cryptographic algorithm (an alternative
    MD5 other than its own, two SHA-256s): it describes more than one file, and its
    MediaSize is not every one's."""
    values: dict[str, set[str]] = {name: set() for name in _CRYPTO_DIGITS}
    for key, algorithm in (("MD5", "md5"), ("SHA1", "sha1")):
        if (value := hex_text(media.get(key), _CRYPTO_DIGITS[algorithm])) is not None:
            values[algorithm].add(value)
    for alternative in _objects(media.get("AlternativeHashes")):
        if not isinstance(alternative, dict):
            continue
        named = algorithm_named(str(alternative.get("HashName", "")))
        if named is not None and named in _CRYPTO_DIGITS:
            digits = _CRYPTO_DIGITS[named]
            if (value := hex_text(alternative.get("HashValue"), digits)) is not None:
                values[named].add(value)
    return any(len(found) > 1 for found in values.values())


def _objects(alternatives: object) -> list[Any]:
    """An AlternativeHashes array; a lone object is taken as one; anything else (a
    number, a text) holds none (it stays in the record)."""
    if isinstance(alternatives, dict):
        return [alternatives]
    return alternatives if isinstance(alternatives, list) else []


@functools.lru_cache(maxsize=1024)  # names repeat; a hostile file's cannot fill memory
def algorithm_named(name: str) -> str | None:
    """The algorithm an AlternativeHashes ``HashName`` names, if any (case, ``-`` and
    ``_`` do not count)."""
    return ALTERNATIVE_NAMES.get(name.lower().replace("-", "").replace("_", ""))


_HEX_DIGITS = frozenset(string.hexdigits)


def hex_text(text: object, length: int) -> str | None:
    """``text`` as lowercase hex of ``length`` digits, or None."""
    if not isinstance(text, str):
        return None
    value = text.strip().lower()
    return value if len(value) == length and _HEX_DIGITS.issuperset(value) else None


def record_text(media: dict[str, Any]) -> str:
    """The medium as JSON (its record, when its text as written is not known)."""
    text: str = _ENCODER.encode(media)
    return text


def shown_record(record: str) -> str:
    """A record as it is given out: without OData annotations, which only repeat the
    structure (the record itself is given as kept where it has none; one Python cannot
    read back, an integer of 4,300 digits or more, is given as kept)."""
    if "odata." not in record and not _SPELLS_ODATA.search(record):
        return record
    try:
        media = json.loads(readable_text(record), parse_float=Decimal)
    except ValueError:
        return record
    return _ENCODER.encode(_clean(media))


def file_names(media: dict[str, Any]) -> list[str]:
    """The names of a medium's files (each one's ``FileName``, else its ``Name``)."""
    files = media.get("MediaFiles") or []
    if not isinstance(files, list):
        return []
    return [str(f.get("FileName") or f.get("Name")) for f in files if isinstance(f, dict)
            and (f.get("FileName") or f.get("Name"))]  # fmt: skip


def read_record(record: str) -> dict[str, Any] | None:
    """A medium kept as its record, as an export reads it: a half of a surrogate pair
    alone as ``?`` (as the file was read), every number as its text (no digit limit, no
    infinity); None for a record that is not an object."""
    try:
        media = json.loads(
            readable_text(record), parse_int=str, parse_float=str, parse_constant=str
        )
    except ValueError:
        return None
    return media if isinstance(media, dict) else None


def reference(media: dict[str, Any]) -> str | None:
    """What names a medium: its MediaID, first file name and series."""
    names = file_names(media)
    media_id = media.get("MediaID")
    parts = [f"MediaID {media_id}"] if media_id not in (None, "") else []
    if names:
        parts.append(names[0])
    series = media.get("Series")
    if series:
        parts.append(f"series {series}")
    return "; ".join(parts) or None


def reference_of_record(record: str) -> str | None:
    """``reference`` of a medium kept as its record (None for a record that is not one)."""
    try:  # (a name's lone half of a surrogate pair read as "?", as the file was read)
        media = json.loads(readable_text(record), parse_int=_long_as_text)
    except ValueError:
        return None
    return reference(media) if isinstance(media, dict) else None


def _long_as_text(digits: str) -> int | str:
    """An integer as ``json`` reads it, or its digits where Python will not convert it
    (4,300 digits or more: a MediaID the bulk reader kept as written)."""
    return int(digits) if len(digits) < 4000 else digits


def shown(value: object) -> str:
    """A value as a message shows it: text quoted, anything else as JSON, numbers as
    their value (the same whichever reader parsed them)."""
    if isinstance(value, str):
        return repr(value)
    plain = _plain(value)
    if isinstance(plain, str):  # (a number no float holds, as its text)
        return plain
    return _ENCODER.encode(plain)


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        value = _decimal(value)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _clean(value: Any) -> Any:
    """The record without OData annotations (which only repeat the structure)."""
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()
                if not k.endswith(_ANNOTATION_SUFFIXES) and k != "odata.id"}  # fmt: skip
    if isinstance(value, list):
        return [_clean(v) for v in value]
    return value


def _number(value: object) -> object:
    if isinstance(value, Decimal):
        return _decimal(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


#: Digits of a whole number written out as one (Python refuses to write 4,300 or more).
_MAX_DIGITS = 1000


def _decimal(value: Decimal) -> int | float | str:
    """A number ijson read, as JSON can hold it: whole numbers as integers, others as
    floats; one no float holds (1e999999) as its text, rather than failing the import."""
    if value.is_finite() and value == value.to_integral_value() and value.adjusted() < _MAX_DIGITS:
        return int(value)
    number = float(value)
    return number if math.isfinite(number) else str(value)


_ENCODER = json.JSONEncoder(ensure_ascii=False, default=_number)
#: An escape of a character of "odata.": a key may spell an annotation its text does
#: not show.
_SPELLS_ODATA = re.compile(r"\\u00(?:6[14fF]|74|2[eE])")
