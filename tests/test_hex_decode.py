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


HEX8 = st.text(st.sampled_from(string.hexdigits), min_size=8, max_size=8)
#: Changes that keep a list's joined length (what the all-exact path checks first).
SHIFTS = st.sampled_from(["move", "space", "tab", "swap-space"])


@given(st.lists(HEX8, min_size=2, max_size=12), SHIFTS, st.data())
def test_texts_that_only_add_up_to_the_length_are_each_checked(
    texts: list[str], shift: str, data: st.DataObject
) -> None:
    """Lists whose texts together have n times 8 characters, all hex or white space:
    only the per-text answer may come out (a misaligned decoding would pass a check of
    the total alone)."""
    i = data.draw(st.integers(0, len(texts) - 1))
    j = data.draw(st.integers(0, len(texts) - 1).filter(lambda k: k != i))
    if shift == "move":  # two digits from one text to another
        texts[j], texts[i] = texts[j] + texts[i][:2], texts[i][2:]
    elif shift == "space":
        texts[i] = texts[i][:4] + " " + texts[i][5:]
    elif shift == "tab":  # a text one shorter, another one longer with a tab
        texts[i], texts[j] = texts[i][:7], texts[j] + "\t"
    else:  # the separator's place taken by a text's own space
        texts[i], texts[j] = texts[i] + " ", texts[j][:7]
    good, values = exact_hex(texts, 8)
    expected = [len(t) == 8 and all(c in string.hexdigits for c in t) for t in texts]
    assert good.tolist() == expected
    assert [bytes(v) for v in values] == [
        bytes.fromhex(t) if ok else bytes(4) for t, ok in zip(texts, expected, strict=True)
    ]


def test_all_exact_texts_decode_into_a_writable_array() -> None:
    good, values = exact_hex(["00ff00ff", "0A0b0C0d"], 8)
    assert good.tolist() == [True, True]
    assert values.tolist() == [[0, 255, 0, 255], [10, 11, 12, 13]]
    values[0] = 1  # (the VICS reader puts the reference reading's values in place)
    assert values[0].tolist() == [1, 1, 1, 1]
