"""Invalid lines do not cut the entries around them into blocks: each reader gives an
invalid record ahead of the entries read with it. With one line in two invalid, blocks
of one entry each took 30 s for 1 M md5sum lines (56 s and 428 + 316 MB for a generic
CSV); the entries and messages are the line reader's, in the file's order."""

from __future__ import annotations

import io
from collections.abc import Iterable

import pytest

from hashmatch.hashsets.formats import csv_batches
from hashmatch.hashsets.formats.bulklines import read_blocks
from hashmatch.hashsets.formats.generic_csv import GenericCsv
from hashmatch.hashsets.formats.sums import Md5sum
from hashmatch.hashsets.formats.vics import Vics
from hashmatch.hashsets.formats.vics_bulk import BulkReader, read_piece
from hashmatch.hashsets.model import InvalidRecord, ParsedEntry
from hashmatch.hashsets.packed import PackedBlock
from hashmatch.hashsets.packed.entries import merged_blocks
from tests.test_vics_bulk import document, shape, streamed
from tests.unrolled import from_blocks

LINES = 2000


def _counts(items: Iterable[PackedBlock | InvalidRecord]) -> tuple[int, int, list[int]]:
    """(blocks, entries, the invalid records' lines)."""
    blocks = entries = 0
    lines: list[int] = []
    for item in items:
        if isinstance(item, InvalidRecord):
            lines.append(item.line or 0)
        else:
            blocks += 1
            entries += item.entries
    return blocks, entries, lines


def test_every_other_md5sum_line_invalid_makes_one_block() -> None:
    text = "".join(f"{n:032x}  f{n}\n" if n % 2 == 0 else f"zz{n:030x}  bad{n}\n"
                   for n in range(LINES))  # fmt: skip
    blocks, entries, lines = _counts(read_blocks(Md5sum(), io.BytesIO(text.encode())))
    assert (blocks, entries) == (1, LINES // 2)
    assert lines == list(range(2, LINES + 1, 2))  # (1-based, in order)


@pytest.mark.parametrize("batch", [False, True], ids=["numpy lines", "row batches"])
def test_every_other_csv_line_invalid_makes_one_block(
    monkeypatch: pytest.MonkeyPatch, batch: bool
) -> None:
    if batch:  # (the rows a numpy reading does not take: read in batches of columns)
        monkeypatch.setattr(csv_batches, "BATCH_ROWS", LINES)
    rows = ["md5,name"] + [f"{n:032x},f{n}" if n % 2 == 0 else f'zz{n:030x},"b""{n}"'
                           for n in range(LINES)]  # fmt: skip
    data = ("\n".join(rows) + "\n").encode("utf-16" if batch else "utf-8")
    blocks, entries, lines = _counts(GenericCsv().blocks(io.BytesIO(data)))
    assert entries == LINES // 2 and blocks <= 2
    assert lines == list(range(3, LINES + 2, 2))


def test_an_invalid_record_comes_ahead_of_the_entries_held() -> None:
    items = list(merged_blocks([_entry(1), InvalidRecord(2, "bad"), _entry(3)]))
    assert [type(i) for i in items] == [InvalidRecord, PackedBlock]
    assert isinstance(items[1], PackedBlock) and items[1].entries == 2


def _entry(n: int) -> ParsedEntry:
    return Md5sum().parse_line(n, f"{n:032x}  f{n}")  # type: ignore[return-value]


def test_every_other_vics_medium_invalid_makes_one_block_a_piece() -> None:
    """(21.5 s for 300,000 media, 3.0 s now.)"""
    sha256 = {"HashName": "SHA256", "HashValue": "ab" * 32}
    media = [{"MD5": f"{i:032x}" if i % 2 == 0 else "x", "MediaID": i,
              "AlternativeHashes": [sha256] if i % 3 == 0 else []} for i in range(300)]  # fmt: skip
    data = document(media, {})
    read = read_piece(Vics()._categorise(), data.split(b'"value": [', 1)[1].rsplit(b"]", 1)[0])
    blocks = [item for item in read.items if isinstance(item, PackedBlock)]
    assert len(blocks) == 1 and blocks[0].entries == 150 and len(read.items) == 151
    assert from_blocks(BulkReader(Vics()._categorise()).blocks(io.BytesIO(data), {}), shape) == (
        streamed(data)
    )
