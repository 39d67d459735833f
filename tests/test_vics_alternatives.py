"""AlternativeHashes read in bulk: from the arrays' minified text when every object is
written as exporters write them, and through simdjson's proxies otherwise; both give
the same, and the text is refused whenever it could be read wrong."""

from __future__ import annotations

import json
from itertools import chain
from typing import Any

import numpy as np
import simdjson
from hypothesis import given, settings
from hypothesis import strategies as st

from hashmatch.hashsets.formats import vics_alternatives as va

PDQ = "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22"
SHA256 = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"


def arrays(*values: object) -> tuple[simdjson.Parser, list[Any]]:
    """Each value as simdjson gives it (the parser must outlive the proxies)."""
    parser = simdjson.Parser()
    return parser, list(parser.parse(json.dumps(list(values)).encode()))


def read(column: list[Any]) -> dict[str, tuple[list[int], list[str]]]:
    found = va.alternatives(column)
    return {a: (rows.tolist(), [v.tobytes().hex() for v in values])
            for a, (rows, values) in found.values.items()}  # fmt: skip


def minified(column: list[Any]) -> object:
    lengths = np.fromiter(map(len, column), np.int64, len(column))
    return va._minified(column, lengths, np.repeat(np.arange(len(column)), lengths))


def test_arrays_as_exporters_write_them_are_read_from_their_text() -> None:
    _parser, column = arrays(
        [{"HashName": "SHA256", "HashValue": SHA256}, {"HashName": "PDQ", "HashValue": PDQ}],
        [],
        [{"HashName": "PhotoDNA", "HashValue": "not hex"}, {"HashName": "pdq", "HashValue": PDQ}],
    )
    assert minified(column) is not None
    assert read(column) == {"sha256": ([0], [SHA256]), "pdq": ([0, 2], [PDQ, PDQ])}
    assert va.alternatives(column).odd == set()


def test_arrays_with_the_medium_s_md5_first_are_read_from_their_text() -> None:
    md5 = "00112233445566778899aabbccddeeff"  # as the schema has it, and hashmatch exports
    exported = [
        [{"MD5": md5, "HashName": "SHA256", "HashValue": SHA256}],
        [{"MD5": md5, "HashName": "PDQ", "HashValue": PDQ}],
    ]
    _parser, column = arrays(*exported)
    assert minified(column) is not None
    assert read(column) == {"sha256": ([0], [SHA256]), "pdq": ([1], [PDQ])}
    # Both layouts in one piece: the proxies read it, to the same values.
    _parser, mixed = arrays([{"HashName": "PDQ", "HashValue": PDQ}], *exported)
    assert minified(mixed) is None
    assert read(mixed) == {"sha256": ([1], [SHA256]), "pdq": ([0, 2], [PDQ, PDQ])}


def test_media_the_reference_must_read_are_named() -> None:
    _parser, column = arrays(
        [{"HashName": "MD5", "HashValue": "0" * 32}],  # an alternative MD5
        [{"HashName": "PDQ", "HashValue": PDQ[:-1]}],  # too short
        [{"HashName": "PDQ", "HashValue": "g" * 64}],  # not hex
        [{"HashName": "PDQ", "HashValue": PDQ}, {"HashName": "PDQ", "HashValue": PDQ}],
        [{"HashName": "PDQ", "HashValue": PDQ}],
    )
    assert minified(column) is not None
    found = va.alternatives(column)
    assert found.odd == {0, 1, 2, 3}
    assert found.values["pdq"][0].tolist() == [3, 3, 4]  # the doubled one is odd


def test_text_that_could_be_read_wrong_is_left_to_the_proxies() -> None:
    nested = [[{"HashName": "PDQ", "HashValue": PDQ}], {"HashName": "SHA256", "HashValue": SHA256}]
    escaped = [{"HashName": 'PDQ"', "HashValue": PDQ}]
    other_order = [{"HashValue": PDQ, "HashName": "PDQ"}]
    extra_key = [{"HashName": "PDQ", "HashValue": PDQ, "x": "yyyyy"}]
    for value, expected in [
        (nested, {"sha256": ([0], [SHA256])}),  # the reference skips what is not an object
        (escaped, {}),
        (other_order, {"pdq": ([0], [PDQ])}),
        (extra_key, {"pdq": ([0], [PDQ])}),
    ]:
        _parser, column = arrays(value)
        assert minified(column) is None, value
        assert read(column) == expected, value


def test_a_medium_whose_alternative_hashes_is_not_an_array_is_odd() -> None:
    _parser, column = arrays([{"HashName": "PDQ", "HashValue": PDQ}], "PDQ", {"x": 1})
    found = va.alternatives([*column, None])
    assert found.odd == {1, 2}
    assert found.values["pdq"][0].tolist() == [0]


scalars = st.none() | st.booleans() | st.integers(-3, 3) | st.text(max_size=3)
names = st.sampled_from(["SHA256", "sha_256", "PDQ", "MD5", "PhotoDNA", "Ωmega", "x" * 40])
values = st.sampled_from([PDQ, SHA256.upper(), "0" * 63, "zz", "q" * 64, '"', "é" * 64])
PAIR = ["HashName", "HashValue"]
objects = (
    st.fixed_dictionaries({"HashName": names, "HashValue": values})
    | st.fixed_dictionaries(
        {"MD5": st.sampled_from(["ab" * 16, "x"]), "HashName": names, "HashValue": values}
    )
    | st.fixed_dictionaries({"HashValue": values, "HashName": names | scalars})
    | st.fixed_dictionaries({"HashName": names, "HashValue": values}, optional={"x": scalars})
    | st.fixed_dictionaries({"MD5": scalars, "HashName": names, "HashValue": values})
)
elements = objects | scalars | st.lists(objects, max_size=1)


def layout(element: object) -> str | None:
    """How an element is laid out when exporters write it (None: any other way): the
    pair alone or after the MD5, text without escapes in minified JSON, a short name."""
    if not isinstance(element, dict) or list(element) not in (PAIR, ["MD5", *PAIR]):
        return None
    if not all(isinstance(v, str) for v in element.values()):
        return None
    if len(element["HashName"].encode()) > 32:
        return None
    if any(c in '"\\' or c < " " for c in "".join(element.values())):
        return None
    return "md5" if "MD5" in element else "pair"


@settings(max_examples=300, deadline=None)
@given(st.lists(st.lists(elements, max_size=3), max_size=6))
def test_text_when_taken_gives_what_the_proxies_give(value: list[list[object]]) -> None:
    _parser, column = arrays(*value)
    lengths = np.fromiter(map(len, column), np.int64, len(column))
    objects_rows = np.repeat(np.arange(len(column)), lengths)
    from_text = va._minified(column, lengths, objects_rows)
    layouts = set(map(layout, chain(*value)))
    assert (from_text is not None) == (None not in layouts and len(layouts) <= 1)
    if from_text is None:
        return  # the proxies read it (compared with the streaming reader elsewhere)
    groups, odd = from_text
    proxied_groups, proxied_odd = va._proxied(column, objects_rows)
    expected = va._one_each(proxied_groups, proxied_odd)
    found = va._one_each(groups, odd)
    assert found.odd == expected.odd
    assert found.values.keys() == expected.values.keys()
    for algorithm, (rows, decoded) in found.values.items():
        assert rows.tolist() == expected.values[algorithm][0].tolist()
        assert decoded.tolist() == expected.values[algorithm][1].tolist()
