"""A VICS medium holding half of a UTF-16 surrogate pair alone (a Windows file name can):
read as "?" by both readers, its record kept as written. msgspec refused such a piece,
and the whole file went to the streaming reader (one such name made a 300,000-media
import 7-9 s instead of 0.6-0.8), which read a first half as "?" and stopped at a
second half alone."""

from __future__ import annotations

import io
import itertools
import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from hashmatch.cli import cli
from hashmatch.hashsets import HashSetStore
from hashmatch.hashsets.formats import vics_chunks, vics_halves
from hashmatch.hashsets.formats.vics import Vics
from hashmatch.hashsets.formats.vics_bulk import BulkReader
from hashmatch.hashsets.formats.vics_halves import readable, readable_text
from hashmatch.hashsets.formats.vics_media import reference_of_record
from hashmatch.hashsets.packed.entries import entry_blocks
from tests.test_vics_bulk import document
from tests.unrolled import BlockEntry, from_blocks

PDQ = "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22"


def _values_and_label(entry: BlockEntry) -> tuple[object, ...]:
    label = (entry.label.label, entry.label.category) if entry.label else None
    return tuple(sorted(entry.values)), label


def _media() -> list[dict[str, Any]]:
    value: list[dict[str, Any]] = [
        {"MD5": f"{i:032x}", "Category": 1, "MediaFiles": [{"FileName": f"f{i}.jpg"}]}
        for i in range(40)
    ]
    value[3]["MediaFiles"][0]["FileName"] = "IMG\ud83d.jpg"  # (json.dumps: "\ud83d")
    value[4]["Category"] = "x\ud800"  # a label read as yajl reads it: "x?"
    value[5]["MD5"] = "00112233445566778899aabbccdd\udbff"  # invalid, said as streamed
    value[6]["AlternativeHashes"] = [{"HashName": "PDQ\ud800", "HashValue": PDQ}]
    value[7]["MediaFiles"][0]["FileName"] = "pair \ud83d\ude00 and \\ud800 as text"
    value[8]["Note"] = "\ud800 \ud800\n"  # (then another escape: no second half either)
    value[9]["MediaFiles"][0]["FileName"] = "\udc00\ud800\ud801"  # (second, first, first)
    return value


def _in_cases(media: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The media in a large case and small ones, their keys with lone halves too."""
    return [{"CaseNumber": "C\ud83d1", "Media": media[:30], "After": "\udbff"},
            *({"CaseNumber": f"C{k}\ud800", "Media": media[k : k + 2]} for k in (30, 32, 34)),
            {"CaseNumber": "C4", "Media": media[36:]}]  # fmt: skip


@pytest.mark.parametrize("piece", [300, vics_chunks.CHUNK_BYTES])
@pytest.mark.parametrize("cases", [False, True], ids=["flat", "cases"])
def test_lone_halves_are_read_in_bulk_as_streamed(
    monkeypatch: pytest.MonkeyPatch, piece: int, cases: bool
) -> None:
    data = document(_in_cases(_media()) if cases else _media(), {"indent": 1})
    assert b"\\ud83d.jpg" in data and b"\\\\ud800 as text" in data
    monkeypatch.setattr(vics_chunks, "CHUNK_BYTES", piece)
    provenance: dict[str, str] = {}
    bulk = BulkReader(Vics()._categorise()).blocks(io.BytesIO(data), provenance)
    found = from_blocks(bulk, lambda e: e)  # (NotBulk: the test fails)
    vics = Vics()
    streamed = from_blocks(entry_blocks(vics.read(io.BytesIO(data))), lambda e: e)
    assert provenance == {k: v for k, v in vics.provenance().items() if k != "category_scheme"}
    assert len(found) == len(streamed) == 40  # 39 entries, then medium 6's message
    assert [_values_and_label(e) if isinstance(e, BlockEntry) else e for e in found] == [
        _values_and_label(e) if isinstance(e, BlockEntry) else e for e in streamed
    ]
    records = [e.record for e in found if isinstance(e, BlockEntry)]
    assert records[3] is not None and '"IMG\\ud83d.jpg"' in records[3]  # as written
    assert json.loads(records[3]) == _media()[3]
    assert records[4] is not None and json.loads(readable_text(records[4]))["Category"] == "x?"


def test_a_name_s_lone_half_is_shown_as_read(store: HashSetStore, tmp_path: Path) -> None:
    path = tmp_path / "half.json"
    path.write_bytes(document(_media(), {}))
    result = store.import_file(path, skip_invalid=True)
    info = store.get(result.info.name)
    assert info.entries == 39 and result.skipped == 1
    record = store.record(info, 4)  # (medium 4: entry 4)
    assert record is not None and '"IMG\\ud83d.jpg"' in record
    reference = reference_of_record(record)
    assert reference == "IMG?.jpg"
    assert reference is not None and reference.encode("utf-8")  # (a lone surrogate: no)


def test_escaped_backslashes_are_not_escapes_and_pairs_are_kept() -> None:
    text = (rb'"a\\ud800" "\ud800" "\\\ud800" "\ud800\udc00" "\ud800\\udc00" "\udc00"'
            rb' "\\\udc00" "\ud800\ud801\udc00"')  # fmt: skip
    assert readable(text) == (
        rb'"a\\ud800" "\u003f" "\\\u003f" "\ud800\udc00" "\u003f\\udc00" "\u003f"'
        rb' "\\\u003f" "\u003f\ud801\udc00"'
    )


def test_a_set_with_a_name_s_lone_half_is_exported_and_imported_again(tmp_path: Path) -> None:
    """Its record, read back with the lone surrogate, was written to a UTF-8 file: the
    export stopped (UnicodeEncodeError)."""
    source, out = tmp_path / "half.json", tmp_path / "out.json"
    source.write_bytes(document(_media(), {}))
    runner = CliRunner()
    store = ["--store", str(tmp_path / "store")]
    imported = runner.invoke(cli, [*store, "hashset", "import", str(source), "--name", "h",
                                   "--skip-invalid", "-q"])  # fmt: skip
    assert imported.exit_code == 0, imported.output
    exported = runner.invoke(cli, [*store, "hashset", "export", "h", "--format", "vics",
                                   "-o", str(out)])  # fmt: skip
    assert exported.exit_code == 0, exported.output
    assert '"IMG\\ud83d.jpg"' in out.read_text(encoding="utf-8")
    again = runner.invoke(cli, [*store, "hashset", "import", str(out), "--name", "a", "-q"])
    assert again.exit_code == 0, again.output
    with HashSetStore(tmp_path / "store") as opened:
        assert opened.get("a").entries == opened.get("h").entries == 39


#: Halves of pairs, other escapes and backslashes, in any order.
ESCAPE_BYTES = st.lists(
    st.sampled_from(
        [
            b"\\ud83d",
            b"\\uDBFF",
            b"\\udc00",
            b"\\uDC0f",
            b"\\u0041",
            b"\\",
            b"\\\\",
            b"\\" * 19,  # (a run across the bytes a chunk's end is looked for in)
            b"u",
            b"d8",
            b"x",
            b'"',
        ]
    ),
    max_size=120,
)


@settings(max_examples=1000, deadline=None)
@given(parts=ESCAPE_BYTES, reads=st.lists(st.integers(1, 70), min_size=1, max_size=20))
def test_reading_through_as_read_is_reading_the_whole_text(
    parts: list[bytes], reads: list[int]
) -> None:
    """Whatever the chunks (25 bytes here) and the reads: escapes, pairs and runs of
    backslashes cut by a chunk's end are read as in the whole text."""
    text = b"".join(parts)
    stream = vics_halves.AsRead(io.BytesIO(text))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(vics_halves, "_CHUNK", 25)
        got = b""
        for size in itertools.cycle(reads):
            piece = stream.read(size)
            if not piece:
                break
            got += piece
            assert stream.tell() == len(got)
        assert got == readable(text)
        stream.seek(0)
        assert stream.read() == readable(text)
