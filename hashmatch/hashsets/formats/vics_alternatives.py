"""The AlternativeHashes of a piece's media, read in bulk: per algorithm, the media
holding a value of it and the values decoded, and the media the reference reading must
take itself.

Exporters write every object of the array alike: ``HashName`` then ``HashValue``, both
text, perhaps after the medium's ``MD5`` (as the schema has it, and hashmatch exports).
simdjson gives each medium's array as minified JSON (one call a medium). When the
arrays hold only such objects, all laid out alike, and no backslash, numpy reads them
from the places of their quotes: eight an object (twelve with the MD5), at distances
the layout fixes, checked byte by byte, and the bytes outside the objects counted
against what the arrays' lengths allow (brackets and commas only). Without a backslash
quotes open and close strings in turn, so an object found this way is a whole object
of an array; with the count, every element is one. Any other array (another key, a
number, an escape) has its objects' fields asked through simdjson's proxies.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import chain, repeat
from operator import attrgetter, is_, methodcaller
from typing import Any

import numpy as np
import simdjson
from numpy.lib.stride_tricks import sliding_window_view

from hashmatch.hashing import get_algorithm
from hashmatch.hashsets.formats.bulklines import hex_rows
from hashmatch.hashsets.formats.columns import exact_hex
from hashmatch.hashsets.formats.vics_media import algorithm_named

#: A proxy's minified JSON; the types of simdjson's proxies (an object, an array).
MINIFIED = attrgetter("mini")
PROXIES = frozenset({simdjson.Object, simdjson.Array})
#: An object as exporters write it, minified: ``{"HashName":"N","HashValue":"V"}``.
_OPENING = np.frombuffer(b'{"HashName":"', np.uint8)
_MIDDLE = np.frombuffer(b'","HashValue":"', np.uint8)
#: The same with the medium's MD5 first, as the schema has it and hashmatch exports it:
#: ``{"MD5":"…","HashName":"N","HashValue":"V"}``.
_MD5_OPENING = np.frombuffer(b'{"MD5":"', np.uint8)
_AFTER_MD5 = np.frombuffer(b',"HashName":"', np.uint8)
#: Names longer than this (none that names an algorithm), or more distinct names than
#: this in one piece, send the piece to the proxies.
_NAME_WIDTH = 32
_NAMES = 64
#: Zeros after the text: more than any name or value read from it is wide.
_PADDING = 256


@dataclass
class Alternatives:
    """Per algorithm, the rows (ascending) of the media with one plain value of it and
    those values; and the media the reference reading takes (an array that is not one,
    a value that is not plain hex, an alternative MD5 or SHA1, two values of one
    algorithm, a name that is not text)."""

    values: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)
    odd: set[int] = field(default_factory=set)


def alternatives(column: list[Any]) -> Alternatives:
    """What every medium's ``AlternativeHashes`` (None: missing) holds."""
    types = list(map(type, column))
    odd: set[int] = set()
    if types.count(simdjson.Array) == len(column):
        rows, arrays = list(range(len(column))), column
    else:
        rows = [i for i, kind in enumerate(types) if kind is simdjson.Array]
        arrays = [column[i] for i in rows]
        odd = {i for i, value in enumerate(column)
               if value is not None and types[i] is not simdjson.Array}  # fmt: skip
    lengths = np.fromiter(map(len, arrays), np.int64, len(arrays))
    objects = np.repeat(np.array(rows, np.int64), lengths)  # each object's medium
    found = _minified(arrays, lengths, objects)
    if found is None:
        found = _proxied(arrays, objects)
    groups, more_odd = found
    odd |= more_odd
    return _one_each(groups, odd)


_Groups = dict[str, list[tuple[np.ndarray, np.ndarray]]]


@dataclass(frozen=True)
class _Places:
    """Where each object's name and value lie in the arrays' text (``chars``)."""

    chars: np.ndarray
    name_start: np.ndarray
    name_end: np.ndarray  # (its closing quote)
    value_start: np.ndarray  # (its opening quote)
    value_end: np.ndarray  # (its closing quote)


def _minified(
    arrays: list[Any], lengths: np.ndarray, objects: np.ndarray
) -> tuple[_Groups, set[int]] | None:
    """The values, read from the arrays' minified text, if every object is written as
    exporters write them (None otherwise)."""
    if not len(objects):
        return {}, set()
    places = _places(b"\n".join(map(MINIFIED, arrays)), lengths, len(objects))
    if places is None:
        return None
    chars, name_start, name_end = places.chars, places.name_start, places.name_end
    value_start, value_end = places.value_start, places.value_end
    widths = name_end - name_start
    width = int(widths.max())
    if width > _NAME_WIDTH:
        return None
    if width == 0:
        return {}, set()  # every name empty: none names an algorithm
    names = _gathered(chars, name_start, width)
    names[np.arange(width) >= widths[:, None]] = 0  # a name ends at its quote
    distinct, which = np.unique(names.view(f"V{width}").ravel(), return_inverse=True)
    if len(distinct) > _NAMES:
        return None  # (each name is one pass over the objects below)
    groups: _Groups = {}
    odd: set[int] = set()
    for number, name in enumerate(distinct.tolist()):
        algorithm = algorithm_named(bytes(name).rstrip(b"\0").decode("utf-8"))
        if algorithm is None:
            continue  # PhotoDNA and others: carried in the record
        picked = np.flatnonzero(which.ravel() == number)
        if algorithm in ("md5", "sha1"):
            odd.update(objects[picked].tolist())
            continue
        digits = get_algorithm(algorithm).bits // 4
        exact = value_end[picked] - value_start[picked] - 1 == digits
        odd.update(objects[picked[~exact]].tolist())
        picked = picked[exact]
        good, decoded = hex_rows(chars, value_start[picked] + 1, digits)
        odd.update(objects[picked[~good]].tolist())
        groups.setdefault(algorithm, []).append((objects[picked[good]], decoded))
    return groups, odd


def _places(text: bytes, lengths: np.ndarray, count: int) -> _Places | None:
    """Every object's places, if all ``count`` objects are laid out alike (the pair
    alone, or the MD5 first, as the first object is) and nothing but brackets and
    commas lies between them."""
    if b"\\" in text:
        return None
    first = text.find(b"{")
    lead = 4 if text[first : first + len(_MD5_OPENING)] == _MD5_OPENING.tobytes() else 0
    per = 8 + lead
    if text.count(b'"') != per * count:
        return None
    chars = np.frombuffer(text + bytes(_PADDING), np.uint8)
    quotes = np.flatnonzero(chars == ord('"')).reshape(count, per)
    start = quotes[:, 0] - 1  # each object's '{'
    if lead:  # {"MD5":"…", then the pair
        if not (np.diff(quotes[:, :5], axis=1)[:, [0, 1, 3]] == [4, 2, 2]).all():
            return None
        if not _at(chars, start, _MD5_OPENING).all():
            return None
    pair = quotes[:, lead:]
    opening, name_end, value_start, value_end = (pair[:, k] for k in (0, 3, 6, 7))
    if not (np.diff(pair, axis=1)[:, [0, 1, 3, 4, 5]] == [9, 2, 2, 10, 2]).all():
        return None
    before = _AFTER_MD5 if lead else _OPENING
    if not (_at(chars, opening - 1, before) & _at(chars, name_end, _MIDDLE)).all():
        return None
    if not (chars[value_end + 1] == ord("}")).all():
        return None
    inside = int((value_end + 2 - start).sum())
    allowed = len(lengths) - 1 + int((2 + np.maximum(lengths - 1, 0)).sum())
    if len(text) - inside != allowed:
        return None
    return _Places(chars, opening + 12, name_end, value_start, value_end)


def _at(chars: np.ndarray, starts: np.ndarray, expected: np.ndarray) -> np.ndarray:
    """Which places ``starts`` hold ``expected``."""
    held: np.ndarray = (_gathered(chars, starts, len(expected)) == expected).all(axis=1)
    return held


def _gathered(chars: np.ndarray, starts: np.ndarray, width: int) -> np.ndarray:
    """``width`` bytes from each start, as rows (``chars`` ends in ``_PADDING`` zeros,
    so that a row from a place inside the text stays inside ``chars``)."""
    rows: np.ndarray = sliding_window_view(chars, width)[starts]
    return rows


def of_objects(column: list[list[Any] | None]) -> Alternatives:
    """What every medium's ``AlternativeHashes`` (None: missing) holds, each read as a
    list of objects whose ``HashName`` and ``HashValue`` are texts or None (msgspec's
    structs)."""
    arrays = [() if array is None else array for array in column]
    lengths = np.fromiter(map(len, arrays), np.int64, len(arrays))
    objects = np.repeat(np.arange(len(arrays), dtype=np.int64), lengths)
    elements = list(chain.from_iterable(arrays))
    names = list(map(attrgetter("HashName"), elements))
    texts = list(map(attrgetter("HashValue"), elements))
    return _one_each(*grouped(objects, names, texts, frozenset()))


def _proxied(arrays: list[Any], objects: np.ndarray) -> tuple[_Groups, set[int]]:
    """The values, each object's fields asked through simdjson's proxies."""
    elements = list(chain.from_iterable(arrays))
    if not {type(e) for e in elements} <= {simdjson.Object}:  # the reference skips others
        kept = [k for k, e in enumerate(elements) if type(e) is simdjson.Object]
        elements = [elements[k] for k in kept]
        objects = objects[kept]
    names = list(map(methodcaller("get", "HashName"), elements))
    texts = list(map(methodcaller("get", "HashValue"), elements))
    return grouped(objects, names, texts, PROXIES)


def grouped(
    objects: np.ndarray, names: list[Any], texts: list[Any], nested: frozenset[type]
) -> tuple[_Groups, set[int]]:
    """The values of objects whose name (``HashName``) names an algorithm, each object's
    medium in ``objects``; ``nested``: the types of an object or array read as a name
    (the reference reading takes such a medium)."""
    odd: set[int] = set()
    if nested and not nested.isdisjoint(map(type, names)):
        inside = np.fromiter((type(name) in nested for name in names), bool, len(names))
        odd.update(objects[inside].tolist())  # the reference would read str() of it
        names = [None if flag else name for flag, name in zip(inside.tolist(), names, strict=True)]
    # Only a text names an algorithm (no str() of a number or a boolean does).
    named = {name: algorithm_named(name) for name in set(names) if type(name) is str}
    algorithms = sorted({a for a in named.values() if a is not None})
    code = {name: algorithms.index(a) for name, a in named.items() if a is not None}
    codes = np.fromiter(map(code.get, names, repeat(-1)), np.int64, len(names))
    text = np.fromiter(map(is_, map(type, texts), repeat(str)), bool, len(texts))
    groups: _Groups = {}
    for number, algorithm in enumerate(algorithms):
        picked = np.flatnonzero((codes == number) & text)
        if algorithm in ("md5", "sha1"):
            odd.update(objects[picked].tolist())
            continue
        values = [texts[k] for k in picked.tolist()]
        good, decoded = exact_hex(values, get_algorithm(algorithm).bits // 4)
        odd.update(objects[picked[~good]].tolist())
        groups[algorithm] = [(objects[picked[good]], decoded[good])]
    return groups, odd


def _one_each(groups: _Groups, odd: set[int]) -> Alternatives:
    """The groups as one (rows, values) per algorithm, rows ascending; a medium with two
    values of one algorithm is left to the reference reading."""
    found = Alternatives(odd=odd)
    for algorithm, parts in groups.items():
        rows = np.concatenate([r for r, _ in parts])
        values = np.concatenate([v for _, v in parts])
        order = np.argsort(rows, kind="stable")
        rows, values = rows[order], values[order]
        if len(rows):
            odd.update(np.flatnonzero(np.bincount(rows) > 1).tolist())
        found.values[algorithm] = rows, values
    return found
