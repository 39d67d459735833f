"""Shared slots: what a forked worker puts in one is what the importing process reads,
a slot is used again only once its views are released, and VICS records that come
back through slots (or, too large for one, through the pipe) are the records the
streaming reader keeps."""

from __future__ import annotations

import os
import pickle
from pathlib import Path
from typing import Any

import pytest

from hashmatch.hashsets.formats import shared_slots, vics_bulk, vics_chunks
from hashmatch.hashsets.formats.shared_slots import put
from hashmatch.hashsets.formats.vics import Vics
from hashmatch.hashsets.formats.vics_bulk import BulkReader, read_piece
from hashmatch.hashsets.packed.layout import PackedBlock
from tests.test_vics_bulk import document, shape, streamed
from tests.unrolled import from_blocks

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="slots are shared by fork")


def test_what_a_forked_worker_puts_is_read_here() -> None:
    with shared_slots.shared_slots(2, 64) as slots:
        slot = slots.take()
        assert slot is not None
        child = os.fork()
        if child == 0:  # (the worker)
            os._exit(0 if put(slot, [b"abc", memoryview(b"de"), b""]) else 1)
        _, status = os.waitpid(child, 0)
        assert os.waitstatus_to_exitcode(status) == 0
        views = slots.views(slot, [3, 2, 0])
        assert [bytes(v) for v in views] == [b"abc", b"de", b""]


def test_texts_that_do_not_fit_are_not_put() -> None:
    with shared_slots.shared_slots(1, 8) as slots:
        slot = slots.take()
        assert slot is not None
        assert put(slot, [b"12345", b"6789"]) is False
        assert bytes(slots.views(slot, [8])[0]) == bytes(8)  # nothing copied
        assert put(slot, [b"12345", b"678"]) is True


def test_a_slot_is_used_again_only_once_its_views_are_released() -> None:
    with shared_slots.shared_slots(2, 16) as slots:
        first, second = slots.take(), slots.take()
        assert first is not None and second is not None and slots.take() is None
        views = slots.views(first, [4, 4])
        slots.give_back(first, views)
        assert slots.take() == first
        with pytest.raises(ValueError):  # (a view given back is released: no stale reads)
            bytes(views[0])
        held = slots.views(second, [4])
        exported = pickle.PickleBuffer(held[0])  # a buffer still reading the slot
        slots.give_back(second, held)
        assert slots.take() is None  # (kept out of use: its text must not change)
        assert len(exported.raw()) == 4


def test_a_piece_s_records_are_put_in_its_slot_where_they_fit() -> None:
    media = [{"MD5": f"{i:032x}", "Category": 1, "MediaID": i} for i in range(5)]
    media[2]["MD5"] = "x"  # invalid: given ahead, left out of the block
    text = document(media, {}).split(b'"value": [', 1)[1].rsplit(b"]", 1)[0]
    categorise = Vics()._categorise()
    alone = read_piece(categorise, text)
    with shared_slots.shared_slots(1, 1024) as slots:
        slot = slots.take()
        assert slot is not None
        read = read_piece(categorise, text, slot=slot)
        blocks = [b for b in read.items if isinstance(b, PackedBlock)]
        assert len(blocks) == 1 and all(b.record_data == b"" for b in blocks)
        assert blocks[0].entries == 4 and isinstance(read.items[0], tuple)
        assert read.shared is not None
        kept = [bytes(v) for v in slots.views(slot, read.shared)]
    assert kept == [b.record_data for b in alone.items if isinstance(b, PackedBlock)]
    with shared_slots.shared_slots(1, 64) as slots:  # too small: in the result
        read = read_piece(categorise, text, slot=slots.take())
    assert read.shared is None
    assert [b.record_data for b in read.items if isinstance(b, PackedBlock)] == kept


@pytest.mark.parametrize("slot_bytes", [vics_bulk.SLOT_BYTES, 64], ids=["slots", "pipe"])
def test_records_through_slots_or_the_pipe_are_the_streamed_ones(
    tmp_path: Path, monkeypatch: Any, slot_bytes: int
) -> None:
    monkeypatch.setattr(vics_chunks, "CHUNK_BYTES", 300)
    monkeypatch.setattr(vics_bulk, "WORKER_MIN_BYTES", 0)
    monkeypatch.setattr(vics_bulk, "SLOT_BYTES", slot_bytes)
    monkeypatch.setattr(vics_bulk, "_workers", lambda stream: 2)  # even on one core
    value: list[Any] = [
        {"MediaID": i, "MD5": f"{i:032x}", "Category": i % 3, "odata.id": "x" if i == 7 else 1,
         "MediaFiles": [{"FileName": f"IMG_{i}\u00e9.jpg"}]}
        for i in range(80)
    ]  # fmt: skip
    value[30]["MD5"] = 5  # invalid
    path = tmp_path / "set.json"
    path.write_bytes(document(value, {"indent": 1}))
    reader = BulkReader(Vics()._categorise())
    with path.open("rb") as stream:
        found = from_blocks(reader.blocks(stream, {}), shape)
    assert found == streamed(path.read_bytes())
    assert reader.progress.media == 80


def test_without_shared_memory_records_come_through_the_pipe(
    tmp_path: Path, monkeypatch: Any
) -> None:
    """Where the mapping cannot be made (a sandbox, no memory), the import goes on."""
    monkeypatch.setattr(vics_chunks, "CHUNK_BYTES", 300)
    monkeypatch.setattr(vics_bulk, "WORKER_MIN_BYTES", 0)
    monkeypatch.setattr(vics_bulk, "_workers", lambda stream: 2)

    def refused(*args: object) -> None:
        raise OSError(12, "Cannot allocate memory")

    monkeypatch.setattr(shared_slots.mmap, "mmap", refused)
    path = tmp_path / "set.json"
    path.write_bytes(document([{"MD5": f"{i:032x}", "Category": 1} for i in range(60)], {}))
    with path.open("rb") as stream:
        blocks = list(BulkReader(Vics()._categorise()).blocks(stream, {}))
    assert all(isinstance(b, PackedBlock) and type(b.record_data) is bytes for b in blocks)
    assert from_blocks(blocks, shape) == streamed(path.read_bytes())


def test_a_block_s_records_are_released_once_the_next_piece_is_asked_for(
    tmp_path: Path, monkeypatch: Any
) -> None:
    """A view of a slot is valid until the next item: one kept longer fails loudly
    instead of showing the text of a later piece."""
    monkeypatch.setattr(vics_chunks, "CHUNK_BYTES", 300)
    monkeypatch.setattr(vics_bulk, "WORKER_MIN_BYTES", 0)
    monkeypatch.setattr(vics_bulk, "_workers", lambda stream: 2)
    path = tmp_path / "set.json"
    path.write_bytes(document([{"MD5": f"{i:032x}", "Category": 1} for i in range(60)], {}))
    with path.open("rb") as stream:
        blocks = BulkReader(Vics()._categorise()).blocks(stream, {})
        first = next(blocks)
        assert isinstance(first, PackedBlock)
        assert isinstance(first.record_data, memoryview) and bytes(first.record_data)
        later = list(blocks)
    assert later and all(isinstance(b, PackedBlock) for b in later)
    with pytest.raises(ValueError):
        bytes(first.record_data)


def test_slots_are_unregistered_after_the_read() -> None:
    with shared_slots.shared_slots(1, 8) as slots:
        assert shared_slots._REGISTERED[slots.token] is slots
    assert slots.token not in shared_slots._REGISTERED
