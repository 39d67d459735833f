"""PDQ hash lists as Meta's tools and ThreatExchange exchanges write them.

Accepted lines (comma or tab between fields):

* ``<hex64>``, ``<hex64>,<name>``: only with ``--format pdq`` (without a quality, the
  values could as well be SHA-256);
* ``<hex64>,<quality>[,<name>]``: the C++ ``pdq-photo-hasher`` output;
* ``pdq <hex64>``: python-threatexchange's local signal files;
* ``hash=<hex64>,...``: the prefixed form the C++ loader accepts;
* ``<frame>,<hex64>,<quality>,<seconds>``: vPDQ features of a video (each frame a PDQ).

Upper-case hex is normalised to the lower case Meta's tools use. Quality, when given,
must be 0-100; entries with quality below 50 are kept but never used for near matching.
Sets are packed (since 2026-12-02), each entry's quality kept beside its value; the
tools' lines are read in bulk (``bulklines``), any other in its place by ``parse_line``.
"""

from __future__ import annotations

import re
from typing import ClassVar

from hashmatch.hashing import get_algorithm
from hashmatch.hashsets.formats.base import Sample, fraction
from hashmatch.hashsets.formats.bulklines import LineFormat, LineStyle
from hashmatch.hashsets.formats.sums import is_data
from hashmatch.hashsets.model import InvalidRecord, ParsedEntry

_PDQ = get_algorithm("pdq")

_HEX64 = r"([0-9A-Fa-f]{64})"
_SEP = r"\s*[,\t]\s*"
_SIGNAL = re.compile(r"^pdq\s+" + _HEX64 + r"\s*$", re.IGNORECASE)
_PREFIXED = re.compile(r"^hash=" + _HEX64 + r"(?:,(.*))?$")
_VPDQ = re.compile(r"^(\d+)" + _SEP + _HEX64 + _SEP + r"(\d{1,3})" + _SEP + r"(\d+(?:\.\d*)?)\s*$")
_TOOL = re.compile(r"^" + _HEX64 + r"(?:" + _SEP + r"(\d{1,3}))?(?:" + _SEP + r"(.*))?$")
_QUALITY_FIELD = re.compile(r"quality=(\d{1,3})\b(?!\.)")
#: A second field that is a number, but no quality (a sign, a fraction, 4 digits).
_NUMBER_FIELD = re.compile(r"[+-]?[0-9]*\.?[0-9]+(?:[eE][+-]?[0-9]+)?\s*(?:[,\t]|$)")
#: What ``_parse`` gives for a quality field that is not a whole number from 0 to 100.
_BAD_QUALITY = -1


def _parse(line: str) -> tuple[str, int | None, str | None] | None:
    """(hex, quality, reference) of one PDQ line, or None if it is not one."""
    if m := _SIGNAL.match(line):
        return m.group(1), None, None
    if m := _PREFIXED.match(line):
        rest = m.group(2) or ""
        q = _QUALITY_FIELD.search(rest)
        name = rest.split("filename=", 1)[1] if "filename=" in rest else None
        if q is None and "quality=" in rest:
            return m.group(1), _BAD_QUALITY, name
        return m.group(1), int(q.group(1)) if q else None, name
    if m := _VPDQ.match(line):
        frame, hex_value, quality, seconds = m.groups()
        return hex_value, int(quality), f"frame {frame} at {seconds} s"
    if m := _TOOL.match(line):
        hex_value, quality, name = m.groups()
        if quality is None and name and _NUMBER_FIELD.match(name):
            return hex_value, _BAD_QUALITY, None  # (a quality that is no 0-100: "-1", "49.0")
        return hex_value, int(quality) if quality is not None else None, name or None
    return None


def unsure(line: str) -> bool:
    """Whether a line is a 64-digit value that could as well be SHA-256: no quality, no
    PDQ marker (bare, or followed by a name)."""
    found = _TOOL.match(line)
    return found is not None and found.group(2) is None


class PdqList(LineFormat):
    name: ClassVar[str] = "pdq"
    description: ClassVar[str] = "PDQ lists: hex64[,quality[,name]], 'pdq <hex64>', vPDQ lines"
    #: The PDQ tools' lines, ``<hex64>,<quality>[,<name>]``, are read in bulk (packed,
    #: each entry's quality kept); any other line by ``parse_line``, in its place.
    line_style: ClassVar[LineStyle] = LineStyle.HASH_QUALITY

    def sniff(self, sample: Sample) -> float:
        # A 64-digit value without a quality (bare, or with a name after a comma or tab)
        # could be SHA-256, so it does not count for PDQ here.
        return fraction(sample, lambda line: _parse(line) is not None and not unsure(line))

    def bulk_widths(self) -> dict[int, str]:
        return {64: "pdq"}

    def parse_line(self, number: int, line: str) -> ParsedEntry | InvalidRecord | None:
        text = line.strip()
        if not is_data(text):
            return None
        parsed = _parse(text)
        if parsed is None:
            return InvalidRecord(number, "expected a PDQ line: <64 hex>[,<quality>[,<name>]]")
        hex_value, quality, reference = parsed
        if quality is not None and not 0 <= quality <= 100:
            shown = f", not {quality}" if quality != _BAD_QUALITY else ""
            return InvalidRecord(number, f"PDQ quality must be a whole number 0-100{shown}")
        return ParsedEntry((_PDQ.value(hex_value, quality),), reference=reference)
