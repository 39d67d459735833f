"""Making hostile text harmless to show: names from evidence and hash sets may hold
control characters (terminal escape sequences, newlines) or Unicode bidirectional
overrides (U+202E makes ``gpj.exe`` display as ``exe.jpg``). ``visible`` turns each of
them into a ``\\uXXXX`` escape so the name shows what it really is."""

from __future__ import annotations

import re

_INVISIBLE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\ufeff]")


def visible(text: str) -> str:
    return _INVISIBLE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)
