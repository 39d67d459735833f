"""Hash-set file formats, registered by constant name, and detection by content.

``detect_format`` reads only a file's head and picks the format whose grammar fits it
best; a bare list of 64-hex-digit values is refused as ambiguous. ``get_format`` returns
a fresh reader for a name the user gave with ``--format``: a format name, or the name of
any registered algorithm for a bare list of that algorithm.
"""

from __future__ import annotations

from collections.abc import Callable

from hashmatch.errors import HashmatchError, HashSetFormatError, UnknownAlgorithmError, UsageError
from hashmatch.hashing import algorithm_names
from hashmatch.hashsets.formats.base import HashSetFormat, Sample, make_sample
from hashmatch.hashsets.formats.encase import EnCaseHash
from hashmatch.hashsets.formats.generic_csv import GenericCsv
from hashmatch.hashsets.formats.hashdeep import Hashdeep
from hashmatch.hashsets.formats.hashkeeper import HashKeeper
from hashmatch.hashsets.formats.lists import AlgorithmList, HashList, has_ambiguous_values
from hashmatch.hashsets.formats.nsrl import NsrlV3
from hashmatch.hashsets.formats.nsrl_text import NsrlText
from hashmatch.hashsets.formats.pdq import PdqList
from hashmatch.hashsets.formats.sums import BsdTag, Md5sum
from hashmatch.hashsets.formats.tsk import TskIdx, TskKdb
from hashmatch.hashsets.formats.vics import Vics

__all__ = [
    "HashSetFormat",
    "Sample",
    "detect_format",
    "format_names",
    "get_format",
    "known_format",
    "make_sample",
]

#: Formats in detection order (most specific first).
_DETECTABLE: tuple[Callable[[], HashSetFormat], ...] = (
    Vics,
    NsrlV3,
    TskKdb,
    EnCaseHash,
    NsrlText,
    HashKeeper,
    Hashdeep,
    BsdTag,
    PdqList,
    Md5sum,
    TskIdx,
    GenericCsv,
    HashList,
)
_NAMED: dict[str, Callable[[], HashSetFormat]] = {
    factory().name: factory for factory in _DETECTABLE
}
#: The least share of sampled lines a format must explain to be chosen automatically.
MIN_FIT = 0.5


def format_names() -> tuple[str, ...]:
    bare = tuple(n for n in algorithm_names() if n not in _NAMED)
    return (*_NAMED, *bare)


def get_format(name: str) -> HashSetFormat:
    key = name.strip().lower()
    if key in _NAMED:
        return _NAMED[key]()
    try:
        return AlgorithmList(key)
    except UnknownAlgorithmError:
        known = ", ".join(format_names())
        raise UsageError(f"unknown hash-set format {name!r} (known: auto, {known})") from None


def known_format(name: str) -> HashSetFormat | None:
    """The format named, or None for one this version does not know (a set imported by
    another version)."""
    try:
        return get_format(name)
    except HashmatchError:
        return None


def detect_format(sample: Sample) -> HashSetFormat:
    best: HashSetFormat | None = None
    best_fit = 0.0
    for factory in _DETECTABLE:
        candidate = factory()
        fit = candidate.sniff(sample)
        if fit > best_fit:
            best, best_fit = candidate, fit
    if best is not None and best_fit >= MIN_FIT:
        return best
    if has_ambiguous_values(sample):
        raise HashSetFormatError(
            "64-hex-digit values without a PDQ quality could be SHA-256 or PDQ: say which "
            "with --format pdq, or --format sha256 for a bare list (SHA-256 with names: "
            "write them as sha256sum does, '<hex>  <name>')"
        )
    if not sample.data_lines:
        raise HashSetFormatError("the file holds no hash values")
    raise HashSetFormatError(
        "format not recognised; name it with --format (one of: " + ", ".join(format_names()) + ")"
    )
