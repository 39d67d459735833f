"""AlternativeHashes read in bulk, from msgspec's structs (arrays as exporters write
them) or from any JSON: both give what a plain reading, medium by medium and object by
object, gives; media the reference reading must take are named."""

from __future__ import annotations

import json
import string
from typing import Any

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hashmatch.hashing import get_algorithm
from hashmatch.hashsets.formats import vics_alternatives as va
from hashmatch.hashsets.formats import vics_fields
from hashmatch.hashsets.formats.vics_media import algorithm_named

PDQ = "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22"
SHA256 = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"

Read = tuple[dict[str, tuple[list[int], list[str]]], set[int]]


def document(column: list[Any]) -> bytes:
    """A piece of media, each holding one AlternativeHashes value (None: no key)."""
    media = [{} if value is None else {"AlternativeHashes": value} for value in column]
    return json.dumps(media).encode()


def read(found: va.Alternatives) -> Read:
    values = {a: (rows.tolist(), [v.tobytes().hex() for v in decoded])
              for a, (rows, decoded) in found.values.items()}  # fmt: skip
    return values, found.odd


def from_structs(column: list[Any]) -> Read | None:
    """What ``of_objects`` reads, if the structs take every medium."""
    try:
        media = vics_fields._MEDIA.decode(document(column))
    except msgspec.ValidationError:
        return None
    return read(va.of_objects([m.AlternativeHashes for m in media]))


def from_values(column: list[Any]) -> Read:
    media = vics_fields._ANY_MEDIA.decode(document(column))
    return read(va.of_values([m.AlternativeHashes for m in media]))


def plainly(column: list[Any]) -> Read:
    """The same, read one medium and one object at a time, as the reference does."""
    values: dict[str, tuple[list[int], list[str]]] = {}
    odd: set[int] = set()
    for row, array in enumerate(column):
        if array is None:
            continue
        if not isinstance(array, list):
            odd.add(row)  # one object, a number, a text: the reference reads it
            continue
        for element in array:
            if not isinstance(element, dict):
                continue  # the reference skips it
            name, text = element.get("HashName"), element.get("HashValue")
            if isinstance(name, dict | list):
                odd.add(row)
                continue
            algorithm = algorithm_named(name) if isinstance(name, str) else None
            if algorithm is None or not isinstance(text, str):
                continue
            digits = get_algorithm(algorithm).bits // 4
            hex_digits = len(text) == digits and set(text) <= set(string.hexdigits)
            if algorithm in ("md5", "sha1") or not hex_digits:
                odd.add(row)
                continue
            rows, texts = values.setdefault(algorithm, ([], []))
            if row in rows:
                odd.add(row)  # two values of one algorithm
            rows.append(row)
            texts.append(text.lower())
    return values, odd


def test_arrays_as_exporters_write_them() -> None:
    md5 = "00112233445566778899aabbccddeeff"  # the medium's MD5 first, as the schema has it
    column = [
        [{"HashName": "SHA256", "HashValue": SHA256}, {"HashName": "PDQ", "HashValue": PDQ}],
        [],
        None,
        [{"HashName": "PhotoDNA", "HashValue": "not hex"}, {"HashName": "pdq", "HashValue": PDQ}],
        [{"MD5": md5, "HashName": "SHA-256", "HashValue": SHA256.upper()}],
    ]
    expected = ({"pdq": ([0, 3], [PDQ, PDQ]), "sha256": ([0, 4], [SHA256, SHA256])}, set())
    assert from_structs(column) == expected == from_values(column) == plainly(column)


def test_media_the_reference_must_read_are_named() -> None:
    column = [
        [{"HashName": "MD5", "HashValue": "0" * 32}],  # an alternative MD5
        [{"HashName": "PDQ", "HashValue": PDQ[:-1]}],  # too short
        [{"HashName": "PDQ", "HashValue": "g" * 64}],  # not hex
        [{"HashName": "PDQ", "HashValue": PDQ}, {"HashName": "PDQ", "HashValue": PDQ}],
        [{"HashName": "PDQ", "HashValue": PDQ}],
    ]
    found = from_structs(column)
    assert found is not None and found == from_values(column) == plainly(column)
    assert found[1] == {0, 1, 2, 3}
    assert found[0]["pdq"][0] == [3, 3, 4]  # the doubled one is odd


@pytest.mark.parametrize(
    "column",
    [
        [[{"HashName": "PDQ", "HashValue": PDQ}], {"HashName": "PDQ", "HashValue": PDQ}],
        [[{"HashName": "PDQ", "HashValue": PDQ}], "PDQ", 7],
        [[{"HashName": {"x": 1}, "HashValue": PDQ}, {"HashName": "PDQ", "HashValue": PDQ}]],
        [[[{"HashName": "PDQ", "HashValue": PDQ}], 3, {"HashName": "PDQ", "HashValue": PDQ}]],
        [[{"HashName": "PDQ", "HashValue": 5}], [{"HashName": 5, "HashValue": PDQ}]],
    ],
    ids=["one-object", "not-arrays", "nested-name", "not-objects", "numbers"],
)
def test_what_the_structs_do_not_take_is_read_as_any_json(column: list[Any]) -> None:
    assert from_structs(column) is None
    assert from_values(column) == plainly(column)


scalars = st.none() | st.booleans() | st.integers(-3, 3) | st.text(max_size=3)
names = st.sampled_from(["SHA256", "sha_256", "PDQ", "MD5", "sha1", "PhotoDNA", "Ωmega"])
values = st.sampled_from([PDQ, SHA256.upper(), "0" * 63, "zz", "q" * 64, "é" * 64, "0" * 40])
objects = st.fixed_dictionaries(
    {}, optional={"HashName": names | scalars, "HashValue": values | scalars, "MD5": scalars}
)
elements = objects | scalars | st.lists(objects, max_size=1) | st.just({"HashName": {"a": 1}})
arrays = st.none() | st.lists(elements, max_size=3) | objects | scalars


@settings(max_examples=300, deadline=None)
@given(st.lists(arrays, max_size=6))
def test_both_readings_give_the_plain_reading(column: list[Any]) -> None:
    expected = plainly(column)
    assert from_values(column) == expected
    structs = from_structs(column)
    assert structs is None or structs == expected
