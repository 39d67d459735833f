"""Bare hash lists: one hash per line and nothing else (Griffeye/X-Ways style exports).

With ``--format auto`` the algorithm follows from the length: 32 hex digits are MD5, 40
are SHA-1. A 64-digit list is refused as ambiguous (SHA-256 and PDQ are both 64 hex
digits), and the user names it: ``--format sha256`` or ``--format pdq``. Naming any
registered algorithm (``md5``, ``sha1``, ``sha256``, ``phash``, ``dhash``, ``ahash``,
``whash``) reads a bare list of that algorithm. An optional first line naming the
algorithm (``MD5``, ``SHA-1``, as X-Ways text imports carry) is accepted.
"""

from __future__ import annotations

import re
from typing import ClassVar

from hashmatch.hashing import get_algorithm
from hashmatch.hashsets.formats.base import Sample, fraction
from hashmatch.hashsets.formats.bulklines import LineFormat, LineStyle
from hashmatch.hashsets.formats.pdq import unsure as pdq_unsure
from hashmatch.hashsets.formats.sums import is_data
from hashmatch.hashsets.model import InvalidRecord, ParsedEntry

_HEX_LINE = re.compile(r"^[0-9A-Fa-f]+$")
_HEADER_NAMES = frozenset({"md5", "sha1", "sha-1", "sha256", "sha-256"})
_AUTO_LENGTHS = {32: "md5", 40: "sha1"}


def _is_header(line: str) -> bool:
    return line.strip().lower() in _HEADER_NAMES


def has_ambiguous_values(sample: Sample) -> bool:
    """Whether the sample holds 64-hex-digit values without a quality or a checksum
    tool's layout (SHA-256 or PDQ: unknowable)."""
    return any(
        (_HEX_LINE.match(line) and len(line) == 64) or pdq_unsure(line)
        for line in sample.data_lines
    )


class HashList(LineFormat):
    """A bare list whose algorithm is read from each value's length (MD5 or SHA-1)."""

    name: ClassVar[str] = "hashlist"
    line_style: ClassVar[LineStyle] = LineStyle.HASH_ONLY
    description: ClassVar[str] = "bare list, one MD5 or SHA-1 per line (algorithm by length)"

    def sniff(self, sample: Sample) -> float:
        lines = [line for line in sample.data_lines if not _is_header(line)]
        return fraction(
            Sample(sample.head, tuple(lines)),
            lambda line: _HEX_LINE.match(line) is not None and len(line) in _AUTO_LENGTHS,
        )

    def bulk_widths(self) -> dict[int, str]:
        return dict(_AUTO_LENGTHS)

    def parse_line(self, number: int, line: str) -> ParsedEntry | InvalidRecord | None:
        value = line.strip()
        if not is_data(value) or (number == 1 and _is_header(value)):
            return None
        algorithm = _AUTO_LENGTHS.get(len(value)) if _HEX_LINE.match(value) else None
        if algorithm is None:
            return InvalidRecord(number, f"not an MD5 or SHA-1 value: {value!r:.80}")
        return ParsedEntry((get_algorithm(algorithm).value(value),))


class AlgorithmList(LineFormat):
    """A bare list of one named algorithm (``--format sha256``, ``--format phash``...)."""

    description: ClassVar[str] = "bare list of one algorithm, named by --format"
    line_style: ClassVar[LineStyle] = LineStyle.HASH_ONLY

    def __init__(self, algorithm: str) -> None:
        super().__init__()
        self._algorithm = get_algorithm(algorithm)
        self.name = self._algorithm.name  # type: ignore[misc]

    def sniff(self, sample: Sample) -> float:
        return 0.0  # never guessed: the user names the algorithm

    def bulk_widths(self) -> dict[int, str]:
        return {self._algorithm.bits // 4: self._algorithm.name}

    def parse_line(self, number: int, line: str) -> ParsedEntry | InvalidRecord | None:
        algorithm = self._algorithm
        value = line.strip()
        if not is_data(value) or (number == 1 and _is_header(value)):
            return None
        if not algorithm.is_valid(value):
            return InvalidRecord(number, f"not a valid {algorithm.name} value: {value!r:.80}")
        return ParsedEntry((algorithm.value(value),))
