"""The JSON nesting limit: the depth a chunked read finds is the text's, whatever the
strings hold and wherever the chunks end; VICS nested too deeply is refused with a
message, not a crash or gigabytes of memory."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hashmatch.errors import HashSetFormatError
from hashmatch.hashsets import HashSetStore
from hashmatch.hashsets.formats import vics_bulk, vics_chunks
from hashmatch.hashsets.formats.json_depth import MAX_DEPTH, DepthLimited

# Strings full of what a scanner could take for structure: quotes, backslashes, brackets.
tricky = st.text(st.sampled_from(list('"\\[]{}ab\u00e9')), max_size=8)
values = st.recursive(
    st.none() | st.integers() | tricky,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(tricky, inner, max_size=3),
    max_leaves=30,
)


def depth(value: Any) -> int:
    if isinstance(value, list):
        return 1 + max(map(depth, value), default=0)
    if isinstance(value, dict):
        return 1 + max(map(depth, value.values()), default=0)
    return 0


def refused(text: bytes, limit: int, chunk: int) -> bool:
    stream = DepthLimited(io.BytesIO(text), limit)
    try:
        while stream.read(chunk):
            pass
    except HashSetFormatError:
        return True
    return False


@settings(max_examples=400, deadline=None)
@given(value=values, limit=st.integers(0, 8), chunk=st.integers(1, 16), ascii_only=st.booleans())
def test_the_depth_read_in_chunks_is_the_text_s(
    value: Any, limit: int, chunk: int, ascii_only: bool
) -> None:
    text = json.dumps(value, ensure_ascii=ascii_only).encode()
    assert refused(text, limit, chunk) == (depth(value) > limit)


def test_reading_through_gives_the_text_unchanged() -> None:
    text = json.dumps({"a": ['x\\"[', {"b": None}]}).encode()
    stream = DepthLimited(io.BytesIO(text))
    assert b"".join(iter(lambda: stream.read(3), b"")) == text


@pytest.mark.parametrize("levels", [MAX_DEPTH + 1, 100_000])
def test_vics_nested_too_deeply_is_refused(tmp_path: Path, levels: int) -> None:
    """100,000 levels in 200 KB once took ijson to 24 GB; a thousand crashed the encoder."""
    context = "http://github.com/VICSDATAMODEL/ProjectVic/DataModels/2.0.xml/US/$metadata#Media"
    deep = "[" * levels + "]" * levels
    path = tmp_path / "deep.json"
    path.write_text(
        f'{{"@odata.context": "{context}", "value": [{{"MD5": "{"ab" * 16}", "x": {deep}}}]}}'
    )
    with HashSetStore(tmp_path / "store") as store:
        with pytest.raises(HashSetFormatError, match=f"nested more than {MAX_DEPTH} levels"):
            store.import_file(path, skip_invalid=True)
        assert store.list_sets() == []


@pytest.mark.parametrize("at_head", [True, False])
def test_vics_numbers_too_long_for_the_streaming_parser_are_refused(
    tmp_path: Path, at_head: bool
) -> None:
    """ijson's C parser crashed the process (a segmentation fault) on an integer of more
    than 4,300 digits: the streaming reader refuses it first; digits in strings are
    text."""
    long_number, long_text = "9" * 5000, '"' + "7" * 5000 + '"'
    context = "http://github.com/VICSDATAMODEL/ProjectVic/DataModels/2.0.xml/US/$metadata#Media"
    media = [f'{{"MD5": "{n:032x}", "Note": {long_text}}}' for n in range(3)]
    media.insert(0 if at_head else 3, f'{{"MD5": "{"ab" * 16}", "MediaID": {long_number}}}')
    body = f'"value": [{", ".join(media)}]'
    path = tmp_path / "long.json"  # (the data model after value: the streaming reader)
    path.write_text(f'{{{body}, "@odata.context": "{context}"}}')
    with HashSetStore(tmp_path / "store") as store:
        with pytest.raises(HashSetFormatError, match="more than 1,000 digits"):
            store.import_file(path)
        text_only = tmp_path / "text.json"
        text_only.write_text(f'{{"value": [{", ".join(media[1:] if at_head else media[:3])}], '
                             f'"@odata.context": "{context}"}}')  # fmt: skip
        assert store.import_file(text_only).info.entries == 3


@pytest.mark.parametrize("workers", [False, True], ids=["in-process", "workers"])
def test_vics_media_the_bulk_reader_must_read_itself_with_such_numbers_are_refused(
    tmp_path: Path, monkeypatch: Any, workers: bool
) -> None:
    """A medium the bulk reader hands to Python's decoder (an MD5 written with a space
    before it) holding an integer of 5,000 digits, in a middle piece: Python
    will not convert it, and the import stopped on an internal error. The streaming
    reader refuses the file, as it refuses such a number anywhere."""
    monkeypatch.setattr(vics_chunks, "CHUNK_BYTES", 4000)
    if workers:
        monkeypatch.setattr(vics_bulk, "WORKER_MIN_BYTES", 0)
        monkeypatch.setattr(vics_bulk, "_workers", lambda stream: 2)  # even on one core
    context = "http://github.com/VICSDATAMODEL/ProjectVic/DataModels/2.0.xml/US/$metadata#Media"
    # (Past the head the streaming parser reads to tell the file's shape, 64 KB.)
    media = [f'{{"MD5": "{n:032x}", "Category": 1}}' for n in range(3000)]
    media.insert(2000, f'{{"MD5": " {"AB" * 16}", "MediaSize": {"9" * 5000}}}')
    path = tmp_path / "long.json"
    path.write_text(f'{{"@odata.context": "{context}", "value": [{", ".join(media)}]}}')
    with HashSetStore(tmp_path / "store") as store:
        with pytest.raises(HashSetFormatError, match="more than 1,000 digits"):
            store.import_file(path, skip_invalid=True)
        assert store.list_sets() == []
