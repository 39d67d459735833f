"""gather_bytes, the one way the bulk readers copy names out of a chunk: ranges back to
back with their offsets, empty ranges anywhere."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from hashmatch.hashsets.formats import bulklines
from hashmatch.hashsets.formats.bulklines import gather_bytes


@st.composite
def ranges(draw: st.DrawFn) -> tuple[bytes, list[tuple[int, int]]]:
    data = draw(st.binary(min_size=0, max_size=300))
    spans = []
    for _ in range(draw(st.integers(0, 30))):
        start = draw(st.integers(0, len(data)))
        spans.append((start, draw(st.integers(0, len(data) - start))))
    return data, spans


@given(ranges())
def test_ranges_come_back_to_back_with_their_offsets(
    drawn: tuple[bytes, list[tuple[int, int]]],
) -> None:
    data, spans = drawn
    starts = np.array([s for s, _ in spans], np.int64)
    lengths = np.array([n for _, n in spans], np.int64)
    gathered, offsets = gather_bytes(np.frombuffer(data, np.uint8), starts, lengths)
    assert gathered == b"".join(data[s : s + n] for s, n in spans)
    assert offsets.tolist() == [0, *np.cumsum([n for _, n in spans]).tolist()]


def test_one_long_range_among_short_ones_and_an_empty_one_past_the_end() -> None:
    data = bytes(range(256)) * 4
    starts = np.array([5, 900, 0, len(data) + 7, 1000], np.int64)  # (an empty one past)
    lengths = np.array([3, 120, 1, 0, 24], np.int64)
    gathered, offsets = gather_bytes(np.frombuffer(data, np.uint8), starts, lengths)
    assert gathered == data[5:8] + data[900:1020] + data[0:1] + data[1000:1024]
    assert offsets.tolist() == [0, 3, 123, 124, 124, 148]


def test_like_ranges_and_an_empty_one_past_the_end() -> None:
    data = b"abcdefghij"
    starts = np.array([0, 99, 6, 8], np.int64)
    lengths = np.array([3, 0, 4, 2], np.int64)
    gathered, offsets = gather_bytes(np.frombuffer(data, np.uint8), starts, lengths)
    assert gathered == b"abc" + b"ghij" + b"ij"
    assert offsets.tolist() == [0, 3, 3, 7, 9]


@given(ranges(), st.integers(1, 40))
def test_ranges_gathered_in_parts_come_back_the_same(
    drawn: tuple[bytes, list[tuple[int, int]]], part: int
) -> None:
    """Ranges of more than ``GATHER_BYTES`` in all are gathered in parts, one longer than
    a part sliced: the same bytes, the same offsets."""
    data, spans = drawn
    starts = np.array([s for s, _ in spans], np.int64)
    lengths = np.array([n for _, n in spans], np.int64)
    usual = bulklines.GATHER_BYTES
    bulklines.GATHER_BYTES = part
    try:
        gathered, offsets = gather_bytes(np.frombuffer(data, np.uint8), starts, lengths)
    finally:
        bulklines.GATHER_BYTES = usual
    assert gathered == b"".join(data[s : s + n] for s, n in spans)
    assert offsets.tolist() == [0, *np.cumsum([n for _, n in spans]).tolist()]
