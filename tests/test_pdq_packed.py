"""PDQ lists are packed: read in bulk as the line reader reads them, each entry's
quality kept, values under the near-matching quality kept out of the near index only."""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hashmatch.errors import StoreError
from hashmatch.hashsets import HashSetStore
from hashmatch.hashsets.formats import bulklines
from hashmatch.hashsets.formats.bulklines import read_blocks
from hashmatch.hashsets.formats.pdq import PdqList
from hashmatch.hashsets.model import InvalidRecord, ParsedEntry, SetLayout
from hashmatch.hashsets.packed import PackedBlock
from hashmatch.hashsets.packed.layout import QUALITY_NONE
from hashmatch.matching.near import MIH_MIN_ENTRIES

HEX = st.text("0123456789abcdefABCDEF", min_size=64, max_size=64)
NAME = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\n\r"),
               max_size=10)  # fmt: skip
GOOD = st.builds(lambda h, q, n: f"{h},{q}" + (f",{n}" if n is not None else ""),
                 HEX, st.integers(0, 100), st.none() | NAME)  # fmt: skip
ODD = st.builds(
    lambda h, form: form.format(h=h),
    HEX,
    st.sampled_from([
        "{h}", "{h},", "{h},101", "{h},1000", "{h},090,x", "{h}, 90, spaced", "{h}\t90\tname",
        "{h},90,x ", "{h},90, x", "pdq {h}", "hash={h},quality=80,filename=a.jpg",
        "3,{h},88,1.5", " {h},90", "# comment", "", "{h},-1", "{h},49.0", "{h}x,90",
        "{h},9a", "{h},,name",
    ]),
)  # fmt: skip


def entries(records: Any) -> list[tuple[object, ...]]:
    """Entries, then invalid records (``tests.unrolled`` says why)."""
    out: list[tuple[object, ...]] = []
    invalid: list[tuple[object, ...]] = []
    for record in records:
        if isinstance(record, InvalidRecord):
            invalid.append((record.line, record.reason))
        elif isinstance(record, ParsedEntry):
            (value,) = record.hashes
            out.append((value.hex, value.quality, record.reference or None))
        else:
            assert isinstance(record, PackedBlock)
            (column,) = record.columns
            for i, raw in enumerate(column.values):
                name = record.ref_data[record.ref_offsets[i] : record.ref_offsets[i + 1]]
                quality = None if record.qualities is None else int(record.qualities[i])
                quality = None if quality == QUALITY_NONE else quality
                out.append((bytes(raw).hex(), quality, name.decode("utf-8") or None))
    return out + invalid


@settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    good=st.lists(GOOD, min_size=1, max_size=40),
    odd=st.lists(st.tuples(st.integers(0, 40), ODD), max_size=3),
    ending=st.sampled_from(["\n", "\r\n"]),
    chunk=st.sampled_from([100, 1 << 20]),
)
def test_the_bulk_reader_gives_what_the_line_reader_gives(
    monkeypatch: pytest.MonkeyPatch,
    good: list[str],
    odd: list[tuple[int, str]],
    ending: str,
    chunk: int,
) -> None:
    monkeypatch.setattr(bulklines, "CHUNK_BYTES", chunk)
    lines = list(good)
    for at, line in odd:
        lines.insert(at % (len(lines) + 1), line)
    data = (ending.join(lines) + ending).encode("utf-8")
    fmt = PdqList()
    assert entries(read_blocks(fmt, io.BytesIO(data))) == entries(fmt.read(io.BytesIO(data)))


def pdq_list(path: Path, count: int) -> list[bytes]:
    """``count`` PDQ values, quality 30 for every third (kept, never near-matched)."""
    values = [bytes(v) for v in np.random.default_rng(3).integers(0, 256, (count, 32), np.uint8)]
    lines = [f"{v.hex()},{30 if i % 3 == 0 else 90},img{i}.jpg" for i, v in enumerate(values)]
    path.write_text("\n".join(lines) + "\n")
    return values


@pytest.mark.parametrize("count", [MIH_MIN_ENTRIES * 3 // 2 + 60, 40], ids=["saved-index", "small"])
def test_a_pdq_list_is_packed_with_its_qualities(tmp_path: Path, count: int) -> None:
    values = pdq_list(tmp_path / "set.pdq", count)
    with HashSetStore(tmp_path / "store") as store:
        info = store.import_file(tmp_path / "set.pdq").info
        assert info.layout is SetLayout.PACKED and info.format == "pdq"
        stored = list(store.iter_entries(info))
        assert [e.quality for e in stored[:3]] == [{"pdq": 30}, {"pdq": 90}, {"pdq": 90}]
        assert [e.reference for e in stored[:2]] == ["img0.jpg", "img1.jpg"]
        # Near matching uses the quality-90 values only; exact lookup finds them all.
        keys, raw = store.value_arrays(info, "pdq", 50)
        kept = {raw[i : i + 32] for i in range(0, len(raw), 32)}
        assert kept == {v for i, v in enumerate(values) if i % 3}
        assert len(keys) == len(kept)
        hits = store.lookup(info, "pdq", [values[0]])[values[0]]
        assert [(h.quality, h.reference) for h in hits] == [(30, "img0.jpg")]
        index = store.near_index(info, "pdq")
        saved = (tmp_path / "store" / "near" / str(info.id) / "pdq.json").exists()
        assert saved == (index is not None) == (count >= MIH_MIN_ENTRIES)
        if index is not None:
            for row, found in ((1, True), (3, False)):  # quality 90, quality 30
                answers = index.query(values[row], 0)
                assert bool(answers) is found
                if found:
                    (details,) = store.details(info, [answers[0][0]], "pdq").values()
                    assert (details.quality, details.reference) == (90, f"img{row}.jpg")


def test_a_pdq_list_s_qualities_cut_short_are_damage(tmp_path: Path) -> None:
    values = pdq_list(tmp_path / "set.pdq", 50)
    with HashSetStore(tmp_path / "store") as store:
        info = store.import_file(tmp_path / "set.pdq").info
    os.truncate(tmp_path / "store" / "packed" / str(info.id) / "qualities", 49)
    with (
        HashSetStore(tmp_path / "store") as store,
        pytest.raises(StoreError, match="qualities does not hold one quality for each of 50"),
    ):
        store.lookup(info, "pdq", [values[0]])


def test_sets_without_qualities_keep_no_quality_file(tmp_path: Path) -> None:
    (tmp_path / "a.md5").write_text("".join(f"{i:032x}  f{i}\n" for i in range(20)))
    with HashSetStore(tmp_path / "store") as store:
        info = store.import_file(tmp_path / "a.md5").info
    assert not (tmp_path / "store" / "packed" / str(info.id) / "qualities").exists()
