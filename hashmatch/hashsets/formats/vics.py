"""Project VIC "VICS" JSON (OData), versions 1.1-1.3 and 2.0, case files and hash sets.

What Griffeye, Magnet AXIOM, IPED and XAMN exchange, and how CAID is shipped. The root
object names the data model (``odata.metadata`` in 1.x, ``@odata.context`` in 2.0);
``value`` holds either media (a hash set) or cases whose ``Media`` arrays hold them. The
shape is decided by structure, not by the ``#Media``/``#Cases`` suffix, which some
exporters get wrong.

Files reach gigabytes: they are read as a stream (``vics_stream``), one medium at a
time, so memory does not grow with the file, nor with the number of media in one case.
Real exporters write booleans and numbers as strings, mix upper- and lower-case hex, put
a UTF-8 or UTF-16 byte-order mark first, and write odd dates: all accepted; dates and
unknown keys are kept as written.

Categories: the number in ``Category`` means different things in different schemes
(``CategoryScheme``); the original number is kept as the entry's label (``VICS 1``) and
mapped onto hashmatch's categories (docs/categories.md).
"""

from __future__ import annotations

import enum
import json
import re
import string
from collections.abc import Iterator
from decimal import Decimal
from typing import Any, BinaryIO, ClassVar

import ijson

from hashmatch.errors import HashSetFormatError, UsageError
from hashmatch.hashing import HashValue, get_algorithm
from hashmatch.hashsets.categories import Category
from hashmatch.hashsets.formats.base import HashSetFormat, Sample
from hashmatch.hashsets.formats.vics_stream import ROOT_KEYS, objects, tell, utf8
from hashmatch.hashsets.model import InvalidRecord, ParsedEntry

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

#: AlternativeHashes names (compared in lower case, without '-' and '_') → algorithm.
ALTERNATIVE_NAMES = {"md5": "md5", "sha1": "sha1", "sha256": "sha256", "sha2256": "sha256",
                     "pdq": "pdq"}  # fmt: skip
#: Keys that only repeat what the structure says (OData annotations): not kept.
_ANNOTATION_SUFFIXES = ("@odata.navigationLinkUrl", "@odata.associationLinkUrl")


def category_of(value: object, scheme: CategoryScheme) -> tuple[str, Category]:
    """(original label, hashmatch category) of a ``Category`` value as written."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return "VICS uncategorized", Category.ALERT
    try:
        number = int(str(value).strip())
    except ValueError:
        return f"VICS {str(value).strip()[:40]}", Category.ALERT
    name, category = SCHEMES[scheme].get(number, ("unknown in this scheme", Category.ALERT))
    return f"VICS {number} ({name})", category


_LABEL_NUMBER = re.compile(r"^VICS (\d+)\b")


def vics_number(label: str | None) -> int | None:
    """The original VICS category number kept in a label ``category_of`` wrote, if any."""
    found = _LABEL_NUMBER.match(label or "")
    return int(found[1]) if found else None


class Vics(HashSetFormat):
    name: ClassVar[str] = "vics"
    description: ClassVar[str] = "Project VIC VICS JSON (1.x odata.metadata, 2.0 @odata.context)"

    takes_category_scheme: ClassVar[bool] = True

    def __init__(self) -> None:
        super().__init__()
        self.scheme = DEFAULT_SCHEME

    def configure(self, *, category_scheme: str | None = None) -> None:
        if category_scheme is not None:
            self.scheme = CategoryScheme.parse(category_scheme)

    def sniff(self, sample: Sample) -> float:
        text = "\n".join(sample.lines).lstrip("\ufeff").lstrip()
        if not text.startswith("{"):
            return 0.0
        head = text[:2000]
        if any(f'"{key}"' in head for key in ROOT_KEYS) and any(m in head for m in MODEL_MARKS):
            return 1.0
        if '"value"' in head and ('"MD5"' in head or '"Media"' in head):
            return 0.8
        return 0.0

    def read(self, stream: BinaryIO) -> Iterator[ParsedEntry | InvalidRecord]:
        self._provenance = {"category_scheme": self.scheme.value}
        source = utf8(stream)
        count = 0
        self._labels: dict[tuple[type, object], tuple[str, Category]] = {}
        try:
            for kind, obj in objects(source, self._provenance):
                if kind == "case":
                    self._note_case(obj)
                    continue
                count += 1
                yield self._entry(count, obj)
        except ijson.JSONError as exc:
            where = f"after medium {count}" if count else "before the first medium"
            raise HashSetFormatError(
                f"not valid JSON {where} (byte {tell(source)}): {exc}"
            ) from exc
        except UnicodeDecodeError as exc:
            raise HashSetFormatError(f"not valid UTF-8/UTF-16 text: {exc}") from exc
        if "context" not in self._provenance:
            raise HashSetFormatError("no odata.metadata / @odata.context: not a VICS file")

    def _note_case(self, case: dict[str, Any]) -> None:
        cases = int(self._provenance.get("cases", "0")) + 1
        self._provenance["cases"] = str(cases)
        for key in ("CaseNumber", "SourceApplicationName", "SourceApplicationVersion"):
            if case.get(key) is not None and f"case_{key}" not in self._provenance:
                self._provenance[f"case_{key}"] = str(case[key])[:200]

    def _entry(self, number: int, media: dict[str, Any]) -> ParsedEntry | InvalidRecord:
        md5 = _hex(media.get("MD5"), 32)
        if md5 is None:
            return InvalidRecord(
                None, f"medium {number}: MD5 missing or not 32 hex digits: {media.get('MD5')!r:.60}"
            )
        values = [HashValue("md5", md5)]
        sha1 = media.get("SHA1")
        if isinstance(sha1, str) and sha1.strip():
            checked = _hex(sha1, 40)
            if checked is None:
                return InvalidRecord(
                    None, f"medium {number}: SHA1 is not 40 hex digits: {sha1!r:.60}"
                )
            values.append(HashValue("sha1", checked))
        for alternative in media.get("AlternativeHashes") or ():
            if not isinstance(alternative, dict):
                continue
            raw_name = str(alternative.get("HashName", ""))
            key = raw_name.lower().replace("-", "").replace("_", "")
            algorithm = ALTERNATIVE_NAMES.get(key)
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
        raw_category = media.get("Category")
        # Labels repeat: cached by type and value (True must not be taken for 1).
        cache_key = (type(raw_category), raw_category)
        try:
            label, category = self._labels[cache_key]
        except (KeyError, TypeError):  # TypeError: an unhashable value (a list, an object)
            label, category = category_of(raw_category, self.scheme)
            if len(self._labels) < 1000 and type(raw_category) in (str, int, type(None)):
                self._labels[cache_key] = label, category
        return ParsedEntry(
            tuple(values),
            reference=_reference(media),
            label=label,
            category=category,
            record=_record(media),
        )


_HEX_DIGITS = frozenset(string.hexdigits)


def _hex(text: object, length: int) -> str | None:
    """``text`` as lowercase hex of ``length`` digits, or None."""
    if not isinstance(text, str):
        return None
    value = text.strip().lower()
    return value if len(value) == length and _HEX_DIGITS.issuperset(value) else None


def _record(media: dict[str, Any]) -> str:
    """The medium as JSON, without OData annotations (looked for in the text first: most
    files have none, and cleaning costs more than encoding)."""
    text: str = _ENCODER.encode(media)
    return _ENCODER.encode(_clean(media)) if "odata." in text else text


def _reference(media: dict[str, Any]) -> str | None:
    files = media.get("MediaFiles") or []
    names = [str(f.get("FileName") or f.get("Name")) for f in files if isinstance(f, dict)
             and (f.get("FileName") or f.get("Name"))]  # fmt: skip
    media_id = media.get("MediaID")
    parts = [f"MediaID {media_id}"] if media_id not in (None, "") else []
    if names:
        parts.append(names[0])
    series = media.get("Series")
    if series:
        parts.append(f"series {series}")
    return "; ".join(parts) or None


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
        return int(value) if value == value.to_integral_value() else float(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


_ENCODER = json.JSONEncoder(ensure_ascii=False, default=_number)
