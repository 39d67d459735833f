"""The root object's keys around a VICS file's ``value`` array, for the bulk reader's
cutting (``vics_chunks``): those before it (the data model), and the end of ``value``
and what may follow it, the root's last keys (an OData next link or count) and its
``}``, where the last media end.

Keys after ``value`` once sent the whole file to the streaming reader, which read it
all again to pass over the media already given (300,000 media: 6.3 s instead of 0.9).
"""

from __future__ import annotations

import json
import re
from typing import Any

from hashmatch.hashsets.formats.json_depth import MAX_DIGITS
from hashmatch.hashsets.formats.vics_halves import readable
from hashmatch.hashsets.formats.vics_places import SPACE

#: Python's JSON reader, to find where ``value`` ends when keys follow it.
_JSON = json.JSONDecoder()

Keys = list[tuple[str, Any]]
#: More digits than the streaming reader takes in one number (``json_depth``): such a
#: tail is left to it (digits in a string too, rather than telling them apart).
_LONG_NUMBER = re.compile(rb"[0-9]{%d}" % (MAX_DIGITS + 1))


def refuse_constant(constant: str) -> Any:
    """For Python's JSON reader: NaN and the infinities are no JSON (ijson refuses them)."""
    raise ValueError(f"{constant} is not JSON")


def keys_before(keys: bytes) -> Keys:
    """The root's keys in ``keys``, the scalar keys before ``value`` as written (with
    the comma after the last); ValueError where they are not JSON."""
    text = b"{" + readable(keys.rstrip(SPACE).rstrip(b",")) + b"}"
    found: Keys = json.loads(text, object_pairs_hook=list)
    return found


def last_media(rest: bytes) -> tuple[bytes, Keys]:
    """The media (or cases) before the end of ``value`` in ``rest``, all that is left
    of the file, and the root's keys after ``value`` (in order); ValueError where
    ``rest`` does not end so. The media's own parse (a worker's) checks them."""
    body = rest.rstrip(SPACE)
    if not body.endswith(b"}"):
        raise ValueError("the file does not end with the root object")
    inner = body[:-1].rstrip(SPACE)
    if inner.endswith(b"]"):
        return inner[:-1].rstrip(SPACE), []
    # Keys after value: where value ends, Python's parse of the last media says.
    text = rest.decode("utf-8", "surrogateescape")
    try:
        _, end = _JSON.raw_decode("[" + text)
    except (ValueError, RecursionError) as exc:
        raise ValueError(f"the last media: {exc}") from exc
    keys = keys_after(text[end - 1 :].encode("utf-8", "surrogateescape"))
    return text[: end - 2].encode("utf-8", "surrogateescape").rstrip(SPACE), keys


def keys_after(tail: bytes) -> Keys:
    """The root's keys in ``tail``, what follows ``value``'s ``]`` to the end of the
    file: any JSON values, none of them a second ``value`` (whose media the streaming
    reader would read too), then the root's ``}``. ValueError where it is not that."""
    rest = tail.strip(SPACE)
    if rest == b"}":
        return []
    if not rest.startswith(b","):
        raise ValueError("keys after value")
    if _LONG_NUMBER.search(rest):
        raise ValueError("a number too long for the streaming reader")  # (it says so)
    try:
        text = b"{" + readable(rest[1:])
        keys = json.loads(text, object_pairs_hook=list, parse_constant=refuse_constant)
    except (ValueError, RecursionError) as exc:
        raise ValueError(f"keys after value: {exc}") from exc
    if not isinstance(keys, list) or any(key == "value" for key, _ in keys):
        raise ValueError("a second value")
    return keys
