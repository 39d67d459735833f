"""How names in hash-set files are decoded: UTF-8, and bytes that are not UTF-8 read as
Windows-1252 (an error handler registered under ``NAME_ERRORS``)."""

from __future__ import annotations

import codecs

#: The error handler text formats decode names with: bytes that are not UTF-8 are read as
#: Windows-1252 (what HashKeeper, EnCase exports and Windows tools write names in), so
#: 'IMG\xe9.JPG' is "IMGé.JPG", not a backslash escape. Other encodings' errors are
#: kept as backslash escapes.
NAME_ERRORS = "hashmatch-windows-1252"


def _windows_1252(error: UnicodeError) -> tuple[str, int]:
    if not isinstance(error, UnicodeDecodeError) or error.encoding not in ("utf-8", "utf-8-sig"):
        replaced, end = codecs.backslashreplace_errors(error)
        return str(replaced), end
    raw = error.object[error.start : error.end]
    # (five bytes Windows-1252 leaves undefined are read as Latin-1's control characters)
    text = "".join(_one_1252(byte) for byte in raw)
    return text, error.end


def _one_1252(byte: int) -> str:
    try:
        return bytes([byte]).decode("cp1252")
    except UnicodeDecodeError:
        return chr(byte)


codecs.register_error(NAME_ERRORS, _windows_1252)
