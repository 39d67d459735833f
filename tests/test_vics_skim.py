"""Cutting a flat VICS set without reading its media (``Pieces(skim=True)``): once the
places before a medium's first key are trusted, only a window around where each piece
is to end is read. The pieces must still be whole media, one after the other, all of
them; a medium longer than the window, or the file's end, is read as without skimming;
and the workers, which read each piece from the file, give what streaming gives."""

from __future__ import annotations

import io
import json
import os
from pathlib import Path
from typing import Any

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hashmatch.hashsets.formats import vics_bulk, vics_chunks
from hashmatch.hashsets.formats.vics import Vics
from hashmatch.hashsets.formats.vics_bulk import BulkReader
from hashmatch.hashsets.formats.vics_piece import Holds, NotBulk, Piece
from tests.test_vics_bulk import CONTEXT, shape, streamed
from tests.unrolled import from_blocks


def _file(fillers: list[int], indent: int | None) -> bytes:
    """A flat set: medium ``i`` with a file name ``fillers[i]`` long."""
    value = [
        {"MediaID": i, "MD5": f"{i:032x}", "Category": i % 3,
         "MediaFiles": [{"MediaID": i, "FileName": "x" * size}]}
        for i, size in enumerate(fillers)
    ]  # fmt: skip
    return json.dumps({"@odata.context": CONTEXT, "value": value}, indent=indent).encode()


@pytest.fixture
def small_windows(monkeypatch: pytest.MonkeyPatch) -> None:
    """Pieces of about 600 bytes, cut in windows of 2 x 150 (media of 100-400 bytes)."""
    monkeypatch.setattr(vics_chunks, "CHUNK_BYTES", 600)
    monkeypatch.setattr(vics_chunks, "CUT_WINDOW", 150)
    monkeypatch.setattr(vics_chunks, "CHECK_BYTES", 600)
    monkeypatch.setattr(vics_chunks, "HEAD_BYTES", 1024)


def _media_of(data: bytes, pieces: list[Piece]) -> list[Any]:
    """The media the pieces hold, read from the file where each says it is; checking
    that they follow each other with nothing but separators between them."""
    media: list[Any] = []
    end = data.index(b"[") + 1
    for piece in pieces:
        assert piece.start is not None
        assert data[end : piece.start].strip(b" \n,") == b""
        text = data[piece.start : piece.start + piece.size]
        assert piece.text in (b"", text)
        media += msgspec.json.decode(b"[" + text + b"]")
        end = piece.start + piece.size
    assert data[end:].replace(b" ", b"").replace(b"\n", b"") == b"]}"
    return media


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow,
          HealthCheck.function_scoped_fixture])  # fmt: skip
@given(
    fillers=st.lists(st.sampled_from([10, 40, 200, 400]), min_size=1, max_size=60),
    indent=st.sampled_from([None, 2]),
)
def test_skimmed_pieces_are_every_medium_whole_in_order(
    small_windows: None, fillers: list[int], indent: int | None
) -> None:
    data = _file(fillers, indent)
    pieces = list(vics_chunks.Pieces(io.BytesIO(data), {}, skim=True))
    assert _media_of(data, pieces) == json.loads(data)["value"]


def test_most_of_a_large_set_is_not_read(small_windows: None) -> None:
    data = _file([40] * 400, None)
    pieces = list(vics_chunks.Pieces(io.BytesIO(data), {}, skim=True))
    assert _media_of(data, pieces) == json.loads(data)["value"]
    skimmed = [piece for piece in pieces if piece.skipped is not None]
    assert len(skimmed) > len(pieces) * 3 / 4
    assert all(piece.text == b"" and piece.size > 300 for piece in skimmed)


def test_a_medium_longer_than_the_window_is_read_through(small_windows: None) -> None:
    fillers = [40] * 50 + [2000] + [40] * 50 + [2000, 2000] + [40] * 20
    data = _file(fillers, None)
    pieces = list(vics_chunks.Pieces(io.BytesIO(data), {}, skim=True))
    assert _media_of(data, pieces) == json.loads(data)["value"]
    assert any(piece.skipped is None and piece.size > 2000 for piece in pieces)
    assert sum(piece.skipped is not None for piece in pieces) > 5


def test_without_skimming_every_piece_is_read(small_windows: None) -> None:
    data = _file([40] * 400, None)
    pieces = list(vics_chunks.Pieces(io.BytesIO(data), {}))
    assert all(piece.skipped is None and piece.size == len(piece.text) for piece in pieces)
    assert _media_of(data, pieces) == json.loads(data)["value"]


@pytest.mark.parametrize("fillers", [[40] * 300, [10, 400, 40, 2000, 200] * 40])
def test_workers_read_skimmed_pieces_as_streamed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, small_windows: None, fillers: list[int]
) -> None:
    monkeypatch.setattr(vics_bulk, "WORKER_MIN_BYTES", 0)
    monkeypatch.setattr(vics_bulk, "_workers", lambda stream: 2)  # even on one core
    cut = []
    made = vics_chunks.Pieces.__init__

    def noted(self: vics_chunks.Pieces, *args: Any, **kwargs: Any) -> None:
        cut.append(kwargs.get("skim"))
        made(self, *args, **kwargs)

    monkeypatch.setattr(vics_chunks.Pieces, "__init__", noted)
    released: list[tuple[int, int]] = []
    monkeypatch.setattr(vics_bulk, "release", lambda _, start, size: released.append((start, size)))
    data = _file(fillers, 2)
    path = tmp_path / "set.json"
    path.write_bytes(data)
    reader = BulkReader(Vics()._categorise())
    with path.open("rb") as stream:
        found = from_blocks(reader.blocks(stream, {}), shape)
    assert cut == [True]
    assert found == streamed(data)
    assert reader.progress.media == len(fillers)
    # Each piece's pages are let go once read: every medium, in order, once.
    media = []
    for start, size in released:
        media += json.loads(b"[" + data[start : start + size] + b"]")
    assert media == json.loads(data)["value"]


@pytest.mark.parametrize("preadv", [True, False], ids=["preadv", "pread"])
def test_a_worker_reads_a_stretch_of_the_file_or_says_it_is_shorter(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, preadv: bool
) -> None:
    if not preadv:
        monkeypatch.delattr(os, "preadv", raising=False)
    data = _file([40] * 30, None)
    path = tmp_path / "set.json"
    path.write_bytes(data)
    start = data.index(b"[") + 1
    size = data.rindex(b"]") - start
    categorise = Vics()._categorise()
    whole = vics_bulk.read_piece(categorise, data[start : start + size])
    with path.open("rb") as stream:
        read = vics_bulk.read_stretch(categorise, stream.fileno(), start, size, Holds.MEDIA, None)
        assert read.count == whole.count == 30
        assert from_blocks(read.items, shape) == from_blocks(whole.items, shape)  # type: ignore[arg-type]
        with pytest.raises(NotBulk, match="shorter than when it was cut"):
            vics_bulk.read_stretch(categorise, stream.fileno(), start, size + 5, Holds.MEDIA, None)
