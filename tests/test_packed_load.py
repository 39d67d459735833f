"""Loading blocks into a packed set: small blocks (split by the invalid lines between
them) are joined before they are written, and the set is the one written block by
block; a view of a reader's buffer is copied before it is held; a block of large
records is written as it comes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from hashmatch.hashsets import HashSetStore
from hashmatch.hashsets.model import InvalidRecord
from hashmatch.hashsets.packed import PackedBlock, PackedSet, load, writer
from hashmatch.hashsets.packed.layout import PackedColumn


def _block(first: int, count: int, record: bytes | memoryview = b"") -> PackedBlock:
    values = np.array([list(f"{first + i:032x}".encode()[:16]) for i in range(count)], np.uint8)
    names = b"".join(f"n{first + i}".encode() for i in range(count))
    offsets = np.cumsum([0] + [len(f"n{first + i}") for i in range(count)])
    records = np.arange(count + 1) * (len(record) // count) if record else None
    return PackedBlock(count, (PackedColumn("md5", values, np.arange(count)),), names, offsets,
                       record_data=record, record_offsets=records)  # fmt: skip


def _written(directory: Path, items: list[Any], monkeypatch: pytest.MonkeyPatch) -> int:
    added: list[int] = []
    add = writer.PackedWriter.add

    def counted(self: writer.PackedWriter, block: PackedBlock) -> None:
        added.append(block.entries)
        add(self, block)

    monkeypatch.setattr(writer.PackedWriter, "add", counted)
    counts = load.load(directory, items, skip_invalid=True, path="x", after_block=lambda: None)
    assert counts.entries == sum(added)
    return len(added)


def test_small_blocks_are_joined_and_the_set_is_the_same(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    items: list[Any] = []
    for k in range(3000):  # blocks of one entry, an invalid record after each
        items += [_block(k, 1), InvalidRecord(k + 1, "bad")]
    items.append(_block(5000, 5000))  # a large block: written as it is
    writes = _written(tmp_path / "joined", items, monkeypatch)
    monkeypatch.setattr(load, "SMALL_BLOCK", 1)  # (nothing is joined)
    one_by_one = _written(tmp_path / "alone", items, monkeypatch)
    assert writes == 2 and one_by_one == 3001
    joined, alone = PackedSet(tmp_path / "joined"), PackedSet(tmp_path / "alone")
    for entry in (1, 2999, 3000, 3001, 8000):
        assert joined.reference(entry) == alone.reference(entry) is not None
    for name in ("md5.values", "md5.entries", "refs.data", "refs.offsets"):
        assert (tmp_path / "joined" / name).read_bytes() == (tmp_path / "alone" / name).read_bytes()


def test_a_held_block_s_view_is_copied(tmp_path: Path) -> None:
    """A reader may use its buffer again once the next item is asked for."""
    buffer = bytearray(b'{"a":1}{"a":2}')
    view = memoryview(buffer)

    def items() -> Any:
        yield _block(0, 2, view)
        buffer[:] = b"x" * len(buffer)  # (the reader's next piece)
        yield _block(2, 1, b'{"a":3}')

    load.load(tmp_path / "s", items(), skip_invalid=True, path="x", after_block=lambda: None)
    assert (tmp_path / "s" / "records.data").read_bytes() == b'{"a":1}{"a":2}{"a":3}'


def test_a_few_large_records_are_written_as_they_come(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A block of few entries whose records are large (a VICS piece of large media) is
    not held to be joined; its view is written before the reader uses its buffer again."""
    medium = b'{"a":"' + b"x" * (load.LARGE_RECORDS // 2) + b'"}'
    buffer = bytearray(medium * 2)

    def items() -> Any:
        yield _block(0, 2, memoryview(buffer))
        buffer[:] = b"y" * len(buffer)  # (the reader's next piece)
        yield _block(2, 2, b'{"a":3}{"a":4}')

    assert _written(tmp_path / "s", items(), monkeypatch) == 2  # (joined: 1)
    data = (tmp_path / "s" / "records.data").read_bytes()
    assert data == medium * 2 + b'{"a":3}{"a":4}'


def test_every_other_line_invalid_is_imported(store: HashSetStore, tmp_path: Path) -> None:
    path = tmp_path / "half.md5"
    path.write_text("".join(f"{i:032x}  f{i}\nnot a hash line\n" for i in range(5000)))
    result = store.import_file(path, skip_invalid=True)
    assert result.info.entries == 5000 and result.skipped == 5000
    key = bytes.fromhex(f"{4321:032x}")
    assert store.lookup(result.info, "md5", [key])[key][0].reference == "f4321"
