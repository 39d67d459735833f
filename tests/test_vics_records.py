"""A piece's records without its invalid media's: the same bytes whether each run of
kept records is sliced or the bytes are gathered by a mask (many runs)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from hashmatch.hashsets.formats import vics_fields
from hashmatch.hashsets.formats.vics_fields import Records


@given(
    rows=st.lists(st.tuples(st.binary(max_size=12), st.booleans()), max_size=40),
    sliced_runs=st.sampled_from([0, 1, 3, 64]),
)
def test_kept_records_are_those_of_the_kept_rows(
    rows: list[tuple[bytes, bool]], sliced_runs: int
) -> None:
    records = Records.of([text for text, _ in rows])
    kept = np.array([keep for _, keep in rows], bool)
    usual = vics_fields._SLICED_RUNS
    vics_fields._SLICED_RUNS = sliced_runs  # (both ways, whatever the count)
    try:
        got = records.kept(kept)
    finally:
        vics_fields._SLICED_RUNS = usual
    assert got == b"".join(text for text, keep in rows if keep)
    assert records.lengths().tolist() == [len(text) for text, _ in rows]


@pytest.mark.parametrize("sliced_runs", [2000, 64])  # (1,000 runs: sliced, then a mask)
def test_every_other_record_left_out(monkeypatch: pytest.MonkeyPatch, sliced_runs: int) -> None:
    monkeypatch.setattr(vics_fields, "_SLICED_RUNS", sliced_runs)
    texts = [b"{%d}" % i for i in range(2000)]
    kept = np.arange(2000) % 2 == 0
    assert Records.of(texts).kept(kept) == b"".join(texts[::2])
