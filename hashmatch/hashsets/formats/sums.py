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
from collections.abc import Iterator
from typing import BinaryIO, ClassVar

from hashmatch.hashing import get_algorithm
from hashmatch.hashsets.formats.base import HashSetFormat, Sample, fraction, text_lines
from hashmatch.hashsets.formats.bulklines import LineFormat, LineStyle
from hashmatch.hashsets.model import InvalidRecord, ParsedEntry

BY_LENGTH = {32: "md5", 40: "sha1", 64: "sha256"}

_GNU = re.compile(r"^(\\?)([0-9A-Fa-f]{32,128})[ \t][ *]?(.+)$")
_BSD = re.compile(
    r"^(MD5|SHA1|SHA-1|SHA256|SHA-256|SHA2-256) ?\((.*)\) ?= ?([0-9A-Fa-f]+)$", re.IGNORECASE
)
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


class BsdTag(HashSetFormat):
    name: ClassVar[str] = "bsd"
    description: ClassVar[str] = "BSD-style tagged lines: MD5 (<name>) = <hex>"

    def sniff(self, sample: Sample) -> float:
        return fraction(sample, _BSD.match)

    def read(self, stream: BinaryIO) -> Iterator[ParsedEntry | InvalidRecord]:
        for number, line in text_lines(stream):
            if not is_data(line):
                continue
            m = _BSD.match(line.strip())
            if m is None:
                yield InvalidRecord(number, "expected 'MD5 (<file name>) = <hex>'")
                continue
            tag, file_name, hex_value = m.groups()
            algorithm = get_algorithm(_BSD_NAMES[tag.lower()])
            if not algorithm.is_valid(hex_value):
                yield InvalidRecord(
                    number, f"not a valid {algorithm.name} value: {hex_value!r:.80}"
                )
                continue
            yield ParsedEntry((algorithm.value(hex_value),), reference=file_name)
