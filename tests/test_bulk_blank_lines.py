"""Blank lines between a list's lines keep it in the bulk reader: they are not read one
by one by the line reader (a list with a blank line after each record went to the line
reader whole, 7-22 times slower), and the entries are the line reader's."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest

from hashmatch.hashsets.formats import bulklines
from hashmatch.hashsets.formats.pdq import PdqList
from hashmatch.hashsets.formats.sums import Md5sum
from hashmatch.hashsets.formats.tsk import TskIdx
from hashmatch.hashsets.model import ParsedEntry
from hashmatch.hashsets.packed.layout import PackedBlock
from tests.unrolled import BlockEntry, from_blocks

PDQ = "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22"


def _line(fmt: Any, i: int) -> str:
    md5 = f"{i:032x}"
    if isinstance(fmt, PdqList):
        return f"{PDQ[:-5]}{i:05x},90,img{i}.jpg"
    if isinstance(fmt, TskIdx):
        return f"{md5}|{i:016d}"
    return f"{md5}  f{i}"


@pytest.mark.parametrize("fmt", [Md5sum(), PdqList(), TskIdx()], ids=["md5sum", "pdq", "idx"])
@pytest.mark.parametrize("end", ["\n", "\r\n"])
def test_blank_lines_are_passed_over_in_bulk(
    monkeypatch: pytest.MonkeyPatch, fmt: Any, end: str
) -> None:
    text = "".join(_line(fmt, i) + end + end for i in range(400)) + "not a hash line" + end
    data = text.encode()
    read = [e for e in fmt.read(io.BytesIO(data)) if isinstance(e, ParsedEntry)]
    calls: list[int] = []
    parse = type(fmt).parse_line

    def counted(self: Any, number: int, line: str) -> Any:
        calls.append(number)
        return parse(self, number, line)

    monkeypatch.setattr(type(fmt), "parse_line", counted)
    found = from_blocks(fmt.blocks(io.BytesIO(data)), lambda e: e)
    entries = [e for e in found if isinstance(e, BlockEntry)]
    assert [sorted(e.values) for e in entries] == [
        sorted((v.algorithm, v.hex) for v in e.hashes) for e in read
    ]
    assert len(entries) == 400 and len(found) == 401  # (the last line: invalid, in place)
    assert len(calls) <= 2  # (the last line, and one blank line to learn it holds nothing)


def test_a_plain_list_is_released_behind_its_reading(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The pages of a list read in bulk are let go as it is read: the whole file, in
    order, once (``page_cache.release``); the entries are the same."""
    monkeypatch.setattr(bulklines, "CHUNK_BYTES", 100)
    released: list[tuple[int, int]] = []
    monkeypatch.setattr(bulklines, "release", lambda _, start, size: released.append((start, size)))
    data = b"".join(b"%032x  file%d.jpg\n" % (n, n) for n in range(40))
    path = tmp_path / "list.md5"
    path.write_bytes(data)
    with path.open("rb") as stream:
        bulk = list(Md5sum().blocks(stream))
    assert sum(block.entries for block in bulk if isinstance(block, PackedBlock)) == 40
    assert len(released) > 5
    assert b"".join(data[start : start + size] for start, size in released) == data
