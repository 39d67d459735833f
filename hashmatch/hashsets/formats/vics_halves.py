"""A ``\\u`` escape of the first half of a UTF-16 surrogate pair with no second half after
it (``"IMG\\ud83d.jpg"``): what an exporter writes for a Windows file name holding an
unpaired surrogate, which NTFS allows.

JSON's grammar allows such an escape; msgspec refuses the text that holds one, and the
streaming reader's parser (yajl) reads it as ``?``. Each is read here as a ``\\u003f``
escape (``?``, as the streaming reader reads it) put in its place: an escape of the same
length, so every value of the text stays where it was, and the records are taken from
the text as written. (Half a pair's second half alone is no text yajl reads at all: such
a file stops its import with a message, ``vics._undecodable``.)
"""

from __future__ import annotations

import re

#: The first half of a pair with no ``\\u`` escape after it, and the run of backslashes
#: it ends (an escape only after an odd number: ``\\\\ud800`` is text). (yajl takes any
#: ``\\u`` escape after a first half for its second; where it is none, msgspec refuses
#: the text and so does this reader.)
LONE_FIRST_HALF = re.compile(rb"(\\+)u[dD][89abAB][0-9a-fA-F]{2}(?!\\u)")
#: What a text needs to hold one: looked for first (1 us a 1 KB record with Windows
#: paths, where looking for ``LONE_FIRST_HALF`` tries every backslash: 15 us).
_FIRST_HALF = re.compile(rb"\\u[dD][89abAB]")
_FIRST_HALF_TEXT = re.compile(r"\\u[dD][89abAB]")
#: What it is read as: ``?``, as yajl reads it.
AS_READ = rb"\u003f"


def has_lone_half(text: bytes) -> bool:
    """Whether ``text`` holds a lone first half of a surrogate pair."""
    if _FIRST_HALF.search(text) is None:
        return False
    return any(len(found[1]) % 2 for found in LONE_FIRST_HALF.finditer(text))


def readable(text: bytes) -> bytes:
    """``text`` with each lone first half read as ``?`` (the same length)."""
    if _FIRST_HALF.search(text) is None:
        return text
    return LONE_FIRST_HALF.sub(_as_read, text)


def _as_read(found: re.Match[bytes]) -> bytes:
    backslashes = found[1]
    return found[0] if len(backslashes) % 2 == 0 else backslashes[:-1] + AS_READ


def readable_text(record: str) -> str:
    """A record's text with each lone first half read as ``?``: what Python's JSON reader
    reads in it is then text that can be written out (a lone surrogate cannot)."""
    if _FIRST_HALF_TEXT.search(record) is None:
        return record
    return readable(record.encode("utf-8", "surrogatepass")).decode("utf-8", "surrogatepass")


def as_written(document: bytes, read: bytes, texts: list[bytes]) -> list[bytes]:
    """``texts``, values decoded in order from ``read`` (``readable(document)``), as
    ``document`` has them: in its place, each is the first text equal to it in ``read``
    from the end of the one before. (In an array of media only separators come between
    two, so it is theirs; in a piece of cases, a case's keys before its first medium
    could hold an equal text, which differs from it as written at most in its lone
    halves.)"""
    found = []
    at = 0
    for text in texts:
        start = read.index(text, at)
        found.append(document[start : start + len(text)])
        at = start + len(text)
    return found
