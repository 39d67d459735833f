"""Where a case of a case file ends: found from the text just after the case, however
many cases are read ahead (the look-back for each later case's last medium is made
only when the search reaches it: made for every case read ahead, reading a 17 MB file
of small cases whose media were cut medium by medium took more than ten minutes), and
however often its media hold the word ``Media`` as a value."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hashmatch.hashsets.formats import vics_cases, vics_chunks
from hashmatch.hashsets.formats.vics import Vics
from hashmatch.hashsets.formats.vics_bulk import BulkReader
from hashmatch.hashsets.formats.vics_places import separator_before
from tests.test_vics_bulk import document, shape, streamed
from tests.unrolled import from_blocks


def _cases(count: int) -> bytes:
    """``count`` cases of three media, comma-separated, as a case file's value holds."""
    return b",".join(
        json.dumps({"CaseNumber": f"C-{c}", "Media": [{"MD5": f"{c * 3 + i:032x}"}
                                                       for i in range(3)]}).encode()
        for c in range(count)
    )  # fmt: skip


def _regions_made(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Where each region the search for a case's end looks back from ends, as made."""
    made: list[int] = []
    region = vics_cases._region

    def counted(*args: Any) -> tuple[int, int]:
        made.append(args[2])
        return region(*args)

    monkeypatch.setattr(vics_cases, "_region", counted)
    return made


def test_the_first_case_end_is_found_where_it_is() -> None:
    pending = _cases(2000) + b"]}"
    head = vics_cases.head(pending)
    assert head is not None
    keys, media_start = head
    end = next(vics_cases.ends(pending, media_start, True, separator_before(b'"MD5"')))
    first = json.loads(pending[: pending.index(b"},{", end.start) + 1])
    assert keys == {"CaseNumber": "C-0"}
    assert json.loads(b"[" + pending[media_start : end.start] + b"]") == first["Media"]
    assert pending[end.end - 1 : end.end] == b","


def test_finding_a_case_end_looks_at_the_cases_after_it_only_as_far_as_needed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    made = _regions_made(monkeypatch)
    pending = _cases(2000) + b"]}"
    head = vics_cases.head(pending)
    assert head is not None
    next(vics_cases.ends(pending, head[1], True, separator_before(b'"MD5"')))
    assert 1 <= len(made) <= 2  # (the next case's region, and the one after for its reach)


def test_the_word_media_as_a_value_starts_no_region(monkeypatch: pytest.MonkeyPatch) -> None:
    """A case of media each tagged ``"Media"``: only the next case's key is looked back
    from (each tag was: 82 MB of such media took two minutes)."""
    made = _regions_made(monkeypatch)
    media = [{"MD5": f"{i:032x}", "Tags": ["Media"], "Kind": "Media"} for i in range(500)]
    first = json.dumps({"CaseNumber": "C-1", "Media": media}).encode()
    pending = first + b"," + _cases(1) + b"]}"
    head = vics_cases.head(pending)
    assert head is not None
    end = next(vics_cases.ends(pending, head[1], True, separator_before(b'"MD5"')))
    assert json.loads(b"[" + pending[head[1] : end.start] + b"]") == media
    # (the next case's key, and the file's end after it, which gives that region's reach)
    assert made == [pending.index(b'"Media":', len(first)), len(pending)]


@settings(max_examples=200)
@given(
    st.lists(st.sampled_from([b'},{"MD5"', b"}, {", b'"MD5"', b"x" * 50, b"}", b" ,\n"]),
             max_size=60),
    st.integers(0, 40),
    st.integers(1, 64),
)  # fmt: skip
def test_the_last_medium_start_is_the_last_of_all(parts: list[bytes], cut: int, near: int) -> None:
    pending = b"".join(parts)
    medium = separator_before(b'"MD5"')
    low = min(cut, len(pending))
    every = [m.start() for m in medium.finditer(pending, low, len(pending))]
    expected = every[-1] if every else low
    assert vics_cases._last_start(pending, medium, low, len(pending), near) == expected


@pytest.mark.parametrize("objects", [3, 40])
def test_keys_after_the_last_case_s_media_are_read_before_it_is_cut(
    monkeypatch: pytest.MonkeyPatch, objects: int
) -> None:
    """The last case's CaseMetadata after its Media array: a cut looked for before it was
    read to the file's end tried each of its objects, and 32 sent the file to the
    streaming reader. (Keys after Media longer than a piece still would.)"""
    monkeypatch.setattr(vics_chunks, "CHUNK_BYTES", 4000)  # (more than the keys after)
    monkeypatch.setattr(vics_chunks, "HEAD_BYTES", 1024)  # (the file is read in parts)
    metadata = [{"PropertyName": f"P{k}", "PropertyValue": "x"} for k in range(objects)]
    value = [{"CaseNumber": f"C-{c}",
              "Media": [{"MediaID": c * 100 + i, "MD5": f"{c * 100 + i:032x}"} for i in range(60)],
              "CaseMetadata": metadata} for c in range(3)]  # fmt: skip
    data = document(value, {"indent": 1}).replace(b"#Media", b"#Cases")
    provenance: dict[str, str] = {}
    reader = BulkReader(Vics()._categorise())
    found = from_blocks(reader.blocks(io.BytesIO(data), provenance), shape)  # (no NotBulk)
    assert found == streamed(data) and len(found) == 180 and provenance["cases"] == "3"


@settings(max_examples=300, deadline=None)
@given(
    parts=st.lists(
        st.sampled_from([b'"Media"', b'"Media" :', b":", b" ", b"\n", b'"MediaID":', b"x", b'"']),
        max_size=40,
    ),
    reads=st.lists(st.integers(1, 12), min_size=1, max_size=20),
    shifts=st.lists(st.integers(0, 9), max_size=20),
)
def test_media_keys_are_found_once_each_as_the_text_grows(
    parts: list[bytes], reads: list[int], shifts: list[int]
) -> None:
    """Where the "Media" keys are, kept as more is read (a key cut off by the end of
    what is read included) and the text before is dropped: as searching it all anew."""
    text = b"".join(parts)
    keys = vics_cases.MediaKeys()
    origin, read = 0, 0
    for step, size in enumerate(reads):
        read = min(len(text), read + size)
        shift = shifts[step] if step < len(shifts) else 0
        shift = min(shift, read - origin)
        if shift:
            keys.shift(shift)
            origin += shift
        pending = text[origin:read]
        for since in (0, len(pending) // 2):
            fresh = [m.start() for m in vics_cases.MEDIA_KEY.finditer(pending, since)]
            assert keys.since(pending, since) == fresh


@pytest.mark.parametrize("piece", [300, vics_chunks.CHUNK_BYTES])
def test_a_case_whose_media_is_null_is_an_empty_case(
    monkeypatch: pytest.MonkeyPatch, piece: int
) -> None:
    """As serializers write an empty collection: once a medium without an MD5, which
    stopped the import (and handed the file to the streaming reader)."""
    monkeypatch.setattr(vics_chunks, "CHUNK_BYTES", piece)
    value: list[Any] = [{"CaseNumber": f"C-{c}", "Media": [{"MD5": f"{c * 3 + i:032x}"}
                                                            for i in range(3)]}
                        for c in range(12)]  # fmt: skip
    value[0]["SourceApplicationName"] = "Exporter"
    value[5]["Media"] = None
    data = document(value, {}).replace(b"#Media", b"#Cases")
    provenance: dict[str, str] = {}
    found = from_blocks(BulkReader(Vics()._categorise()).blocks(io.BytesIO(data), provenance),
                        shape)  # (no NotBulk)  # fmt: skip
    assert found == streamed(data) and len(found) == 33
    assert all(not isinstance(f[0], int) for f in found)  # (no invalid record)
    vics = Vics()
    list(vics.read(io.BytesIO(data)))
    assert provenance["cases"] == vics.provenance()["cases"] == "12"


def test_an_item_with_a_null_media_among_media_is_an_empty_case_too() -> None:
    value: list[Any] = [{"MD5": f"{i:032x}"} for i in range(4)]
    value.insert(2, {"CaseNumber": "C-1", "Media": None})
    data = document(value, {})
    vics = Vics()
    found = from_blocks(vics.blocks(io.BytesIO(data)), shape)
    assert found == streamed(data) and len(found) == 4
    assert vics.provenance()["cases"] == "1"
