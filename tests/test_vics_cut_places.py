"""Where a piece of media is cut when a medium's first key also starts its nested
objects (media written in the schema's order: MD5 first in the medium and in each of
its MediaFiles): the last place that parses, found without parsing the piece once per
nested object (a medium with 40 MediaFiles sent its file to the streaming reader)."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hashmatch.hashsets.formats import vics_chunks
from hashmatch.hashsets.formats.vics import Vics
from hashmatch.hashsets.formats.vics_bulk import BulkReader
from hashmatch.hashsets.formats.vics_piece import parses
from hashmatch.hashsets.formats.vics_places import last_parsing, separator_before
from tests.test_vics_bulk import document, shape, streamed
from tests.unrolled import from_blocks


def _medium(i: int, files: int, tags: int = 0) -> dict[str, Any]:
    md5 = f"{i:032x}"
    files_of = [{"MD5": md5, "FileName": f"f{i}-{k}.jpg"} for k in range(files)]
    return {"MD5": md5, "MediaID": i, "Tags": ["[x]"] * tags, "MediaFiles": files_of}


def test_a_medium_with_many_nested_objects_costs_fewparses() -> None:
    media = [_medium(i, 40) for i in range(3)]
    pending = b",".join(json.dumps(m).encode() for m in media)
    places = [m.start() for m in separator_before(b'"MD5"').finditer(pending)]
    parsed: list[int] = []

    def valid(text: bytes) -> bool:
        parsed.append(len(text))
        return parses(text)

    place, failed = last_parsing(pending, 0, places, valid, vics_chunks.CUT_TRIES)
    last_start = pending.index(json.dumps(media[2]).encode())
    assert place is not None and pending[place + 1 :].lstrip(b", ").startswith(b'{"MD5"')
    assert pending.index(b"{", place) == last_start  # (the last medium's start)
    assert failed and len(parsed) == 2  # (one inside the last medium, then its start)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 6), st.integers(0, 2)), min_size=1, max_size=8))
def test_the_place_found_is_the_last_thatparses(shapes: list[tuple[int, int]]) -> None:
    media = [_medium(i, files, tags) for i, (files, tags) in enumerate(shapes)]
    pending = b", ".join(json.dumps(m).encode() for m in media) + b', {"MD5": "x", "Media'
    places = [m.start() for m in separator_before(b'"MD5"').finditer(pending)]
    every = [p for p in places if parses(pending[: p + 1])]
    place, _ = last_parsing(pending, 0, places, parses, vics_chunks.CUT_TRIES)
    assert place == (every[-1] if every else None)


@pytest.mark.parametrize("files", [3, 40])
def test_media_with_many_files_in_schema_order_stay_in_bulk(
    monkeypatch: pytest.MonkeyPatch, files: int
) -> None:
    monkeypatch.setattr(vics_chunks, "CHUNK_BYTES", 20_000)  # (media of about 4 KB)
    value = [_medium(i, files) for i in range(40)]
    data = document(value, {"indent": 1})
    found = from_blocks(BulkReader(Vics()._categorise()).blocks(io.BytesIO(data), {}), shape)
    assert found == streamed(data) and len(found) == 40  # (no NotBulk: read in bulk)
