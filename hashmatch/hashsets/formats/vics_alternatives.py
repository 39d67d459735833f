"""The AlternativeHashes of a piece's media, read in bulk: per algorithm, the media
holding a value of it and the values decoded, and the media the reference reading must
take itself.

The arrays come as msgspec decodes them: lists of small structs with a text or None
as ``HashName`` and ``HashValue`` (``of_objects``, what exporters write), or, for a
piece msgspec's types refuse, whatever JSON each medium holds (``of_values``). Each
medium's objects are counted, and their names and values gathered in one list each,
with no Python step per object: a name is looked up once per distinct name, and the
values of each algorithm are checked and decoded together by numpy.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import chain, repeat
from operator import attrgetter, is_, methodcaller
from typing import Any

import numpy as np

from hashmatch.hashing import get_algorithm
from hashmatch.hashsets.formats.columns import exact_hex
from hashmatch.hashsets.formats.vics_media import algorithm_named


@dataclass
class Alternatives:
    """Per algorithm, the rows (ascending) of the media with one plain value of it and
    those values; and the media the reference reading takes (an array that is not one,
    a value that is not plain hex, an alternative MD5 or SHA1, two values of one
    algorithm, a name that is not text)."""

    values: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)
    odd: set[int] = field(default_factory=set)


def of_objects(column: list[list[Any] | None]) -> Alternatives:
    """What every medium's ``AlternativeHashes`` (None: missing) holds, each read as a
    list of objects whose ``HashName`` and ``HashValue`` are texts or None (msgspec's
    structs)."""
    objects, elements = _elements([() if array is None else array for array in column])
    names = list(map(attrgetter("HashName"), elements))
    texts = list(map(attrgetter("HashValue"), elements))
    return _one_each(*grouped(objects, names, texts, frozenset()))


def of_values(column: list[Any]) -> Alternatives:
    """What every medium's ``AlternativeHashes`` (None: missing) holds, each as JSON
    decodes it. Only an array is read here; anything else (one object, a number...) is
    the reference reading's, as is an object or array where a name belongs. The
    reference reading skips an element that is not an object, as is done here."""
    types = list(map(type, column))
    odd = {i for i, kind in enumerate(types) if kind is not list and column[i] is not None}
    arrays = [value if kind is list else () for value, kind in zip(column, types, strict=True)]
    objects, elements = _elements(arrays)
    if not set(map(type, elements)) <= {dict}:
        kept = [k for k, element in enumerate(elements) if type(element) is dict]
        elements = [elements[k] for k in kept]
        objects = objects[kept]
    names = list(map(methodcaller("get", "HashName"), elements))
    texts = list(map(methodcaller("get", "HashValue"), elements))
    groups, more_odd = grouped(objects, names, texts, _NESTED)
    return _one_each(groups, odd | more_odd)


#: What an object or an array decoded from JSON is.
_NESTED = frozenset({dict, list})


def _elements(arrays: list[Any]) -> tuple[np.ndarray, list[Any]]:
    """(each element's medium, the elements) of the media's arrays, in order."""
    lengths = np.fromiter(map(len, arrays), np.int64, len(arrays))
    objects = np.repeat(np.arange(len(arrays), dtype=np.int64), lengths)
    return objects, list(chain.from_iterable(arrays))


#: Per algorithm, (rows ascending, values).
_Groups = dict[str, tuple[np.ndarray, np.ndarray]]


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
        if good.any():
            groups[algorithm] = objects[picked[good]], decoded[good]
    return groups, odd


def _one_each(groups: _Groups, odd: set[int]) -> Alternatives:
    """The groups, a medium with two values of one algorithm left to the reference
    reading."""
    for rows, _values in groups.values():
        if len(rows):
            odd.update(np.flatnonzero(np.bincount(rows) > 1).tolist())
    return Alternatives(groups, odd)
