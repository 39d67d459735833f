"""Checksum-tool output: GNU ``md5sum``/``sha1sum``/``sha256sum`` and BSD ``--tag`` lines.

GNU: ``<hex>  <name>`` (text mode) or ``<hex> *<name>`` (binary mode); a leading ``\\``
marks a name with ``\\\\`` and ``\\n`` escapes. Some tools write one space or a tab; both
are accepted. The algorithm follows from the hex length (32 MD5, 40 SHA-1, 64 SHA-256),
which is safe here because a checksum tool never writes perceptual hashes.
BSD: ``MD5 (<name>) = <hex>``, ``SHA1 (...)``, ``SHA256 (...)``, as written by
``md5 -r``'s sibling tools and ``sha256sum --tag``.
"""

from __future__ import annotations

import re
from typing import ClassVar

import numpy as np

from hashmatch.hashing import get_algorithm
from hashmatch.hashsets.formats.base import Sample, fraction
from hashmatch.hashsets.formats.bulklines import Fast, LineFormat, LineStyle, gather_bytes, hex_rows
from hashmatch.hashsets.model import InvalidRecord, ParsedEntry
from hashmatch.hashsets.packed.layout import PackedBlock, PackedColumn

BY_LENGTH = {32: "md5", 40: "sha1", 64: "sha256"}

_GNU = re.compile(r"^(\\?)([0-9A-Fa-f]{32,128})[ \t][ *]?(.+)$")
_BSD = re.compile(
    r"^(MD5|SHA1|SHA-1|SHA256|SHA-256|SHA2-256) ?\((.*)\) ?= ?([0-9A-Fa-f]+)$", re.IGNORECASE
)
#: The tags the tools write.
_TAGS = ((b"SHA256 (", "sha256"), (b"SHA1 (", "sha1"), (b"MD5 (", "md5"))
_EQUALS = b") = "
_BSD_NAMES = {"md5": "md5", "sha1": "sha1", "sha-1": "sha1"} | dict.fromkeys(
    ("sha256", "sha-256", "sha2-256"), "sha256"
)


def _unescape(name: str) -> str:
    out: list[str] = []
    chars = iter(name)
    for ch in chars:
        if ch == "\\":
            nxt = next(chars, "")
            out.append("\n" if nxt == "n" else "\r" if nxt == "r" else nxt)
        else:
            out.append(ch)
    return "".join(out)


def is_data(line: str) -> bool:
    """Not blank and not a ``#`` comment."""
    stripped = line.strip()
    return bool(stripped) and not stripped.startswith("#")


class Md5sum(LineFormat):
    name: ClassVar[str] = "md5sum"
    description: ClassVar[str] = "md5sum/sha1sum/sha256sum lines: <hex>  <name> or <hex> *<name>"
    line_style: ClassVar[LineStyle] = LineStyle.HASH_NAME

    def sniff(self, sample: Sample) -> float:
        def fits(line: str) -> bool:
            m = _GNU.match(line)
            return m is not None and len(m.group(2)) in BY_LENGTH

        return fraction(sample, fits)

    def bulk_widths(self) -> dict[int, str]:
        return dict(BY_LENGTH)

    def parse_line(self, number: int, line: str) -> ParsedEntry | InvalidRecord | None:
        if not is_data(line):
            return None
        m = _GNU.match(line.lstrip())
        if m is None:
            return InvalidRecord(number, "expected '<hex>  <file name>'")
        escaped, hex_value, file_name = m.groups()
        algorithm = BY_LENGTH.get(len(hex_value))
        if algorithm is None:
            return InvalidRecord(number, f"a {len(hex_value)}-digit hash is not MD5/SHA-1/SHA-256")
        name = _unescape(file_name) if escaped else file_name
        value = get_algorithm(algorithm).value(hex_value)
        return ParsedEntry((value,), reference=name)


class BsdTag(LineFormat):
    name: ClassVar[str] = "bsd"
    description: ClassVar[str] = "BSD-style tagged lines: MD5 (<name>) = <hex>"
    line_style: ClassVar[LineStyle] = LineStyle.OWN

    def sniff(self, sample: Sample) -> float:
        return fraction(sample, _BSD.match)

    def packs(self) -> bool:
        return True

    def parse_line(self, number: int, line: str) -> ParsedEntry | InvalidRecord | None:
        if not is_data(line):
            return None
        m = _BSD.match(line.strip())
        if m is None:
            return InvalidRecord(number, "expected 'MD5 (<file name>) = <hex>'")
        tag, file_name, hex_value = m.groups()
        algorithm = get_algorithm(_BSD_NAMES[tag.lower()])
        if not algorithm.is_valid(hex_value):
            return InvalidRecord(number, f"not a valid {algorithm.name} value: {hex_value!r:.80}")
        return ParsedEntry((algorithm.value(hex_value),), reference=file_name)

    def fast_lines(self, arr: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> Fast | None:
        return _TaggedLines(arr, starts, ends) if len(starts) else None


class _TaggedLines:
    """The lines of a chunk written as the tools write them: ``MD5 (<name>) = <hex>``
    (or ``SHA1``, ``SHA256``), the hex of exactly the tag's length, decoded."""

    def __init__(self, arr: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> None:
        n = len(starts)
        self.ok = np.zeros(n, bool)
        self._arr = arr
        self._name_starts = np.zeros(n, np.int64)
        self._name_ends = np.zeros(n, np.int64)
        self._found: list[tuple[str, np.ndarray, np.ndarray]] = []  # algorithm, rows, values
        for prefix, algorithm in _TAGS:
            digits = get_algorithm(algorithm).bits // 4
            fits = ends - starts >= len(prefix) + len(_EQUALS) + digits
            for k, byte in enumerate(prefix):
                fits &= arr.take(starts + k, mode="clip") == byte
            equals = ends - digits - len(_EQUALS)  # (where ") = " is)
            for k, byte in enumerate(_EQUALS):
                fits &= arr.take(equals + k, mode="clip") == byte
            rows = np.flatnonzero(fits)
            good, values = hex_rows(arr, ends[rows] - digits, digits)
            rows = rows[good]
            self.ok[rows] = True
            self._name_starts[rows] = starts[rows] + len(prefix)
            self._name_ends[rows] = equals[rows]
            self._found.append((algorithm, rows, values))

    def block(self, low: int, high: int) -> PackedBlock:
        kept = low + np.flatnonzero(self.ok[low:high])
        rank = np.full(high - low, -1, np.int64)
        rank[kept - low] = np.arange(len(kept))
        columns = []
        for algorithm, rows, values in self._found:
            inside = (rows >= low) & (rows < high)
            if inside.any():
                columns.append(PackedColumn(algorithm, values[inside], rank[rows[inside] - low]))
        starts, ends = self._name_starts[kept], self._name_ends[kept]
        data, offsets = gather_bytes(self._arr, starts, ends - starts)
        return PackedBlock(len(kept), tuple(columns), data, offsets)
