"""decode_hex, the one hex decoder of the bulk readers: a row is good exactly when every
byte of it is a hex digit, whatever the other rows hold (spaces, which bytes.fromhex
would pass over, and bytes that are not ASCII included); and exact_hex, its twin for
texts, the same for each text of the right length."""

from __future__ import annotations

import string

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from hashmatch.hashsets.formats.bulklines import decode_hex, hex_rows
from hashmatch.hashsets.formats.columns import exact_hex

ROW_BYTES = st.sampled_from([*string.hexdigits.encode(), ord(" "), ord("g"), 0xFF, ord("\t")])


@given(st.lists(st.lists(ROW_BYTES, min_size=8, max_size=8), max_size=20))
def test_a_row_is_good_exactly_when_all_hex(rows: list[list[int]]) -> None:
    window = np.array(rows, np.uint8).reshape(len(rows), 8)
    good, decoded = decode_hex(window)
    expected = [all(chr(b) in string.hexdigits for b in row) for row in rows]
    assert good.tolist() == expected
    assert [bytes(d) for d in decoded] == [
        bytes.fromhex(bytes(row).decode()) for row, ok in zip(rows, expected, strict=True) if ok
    ]


def test_runs_are_read_where_they_start() -> None:
    text = np.frombuffer(b"xx00ffAB..  0a0B--zz", np.uint8)
    good, decoded = hex_rows(text, np.array([2, 12, 16]), 4)
    assert good.tolist() == [True, True, False]
    assert decoded.tolist() == [[0x00, 0xFF], [0x0A, 0x0B]]


TEXT_CHARS = st.sampled_from([*string.hexdigits, " ", "g", "\u00e9", "\t", "\u0660", "\n"])


@given(st.lists(st.text(TEXT_CHARS, min_size=4, max_size=10) | st.just("0a1B2c3D"), max_size=20))
def test_a_text_is_good_exactly_when_all_hex_of_its_length(texts: list[str]) -> None:
    good, values = exact_hex(texts, 8)
    expected = [len(t) == 8 and all(c in string.hexdigits for c in t) for t in texts]
    assert good.tolist() == expected
    assert [bytes(v) for v in values] == [
        bytes.fromhex(t) if ok else bytes(4) for t, ok in zip(texts, expected, strict=True)
    ]
