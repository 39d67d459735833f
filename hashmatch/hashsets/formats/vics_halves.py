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

#: The first half of a pair with no ``\\u`` escape after it: an escape (an odd number of
#: backslashes before the ``u``: after an escaped backslash, ``\\\\ud800`` is text), the
#: backslashes before it in group 1. (yajl takes any ``\\u`` escape after a first half
#: for its second; where it is none, msgspec refuses the text and so does this reader.)
_PATTERN = r"((?<!\\)(?:\\\\)*)\\u[dD][89abAB][0-9a-fA-F]{2}(?!\\u)"
LONE_FIRST_HALF = re.compile(_PATTERN.encode())
_LONE_FIRST_HALF_TEXT = re.compile(_PATTERN)
#: What it is read as: ``?``, as yajl reads it.
AS_READ = rb"\u003f"
_AS_READ_TEXT = AS_READ.decode()


def readable(text: bytes) -> bytes:
    """``text`` with each lone first half read as ``?`` (the same length)."""
    return LONE_FIRST_HALF.sub(lambda found: found[1] + AS_READ, text)


def readable_text(record: str) -> str:
    """A record's text with each lone first half read as ``?``: what Python's JSON reader
    reads in it is then text that can be written out (a lone surrogate cannot)."""
    return _LONE_FIRST_HALF_TEXT.sub(lambda found: found[1] + _AS_READ_TEXT, record)


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
