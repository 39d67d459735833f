"""Keys after a VICS file's ``value`` (an OData next link or count): the bulk reader
reads the file to its end, as the streaming reader does, instead of handing it over at
the last piece (which made the streaming reader read it all again: 300,000 media 6.3 s
instead of 0.9)."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest

from hashmatch.hashsets.formats import vics_chunks
from hashmatch.hashsets.formats.vics import Vics
from hashmatch.hashsets.formats.vics_bulk import BulkReader, NotBulk
from tests.test_vics_bulk import CONTEXT, shape, streamed
from tests.unrolled import from_blocks

TAILS = [
    {"@odata.count": 90, "@odata.nextLink": "http://x/Media?$skip=90"},
    {"odata.count": "90", "notes": {"a": ["]", "}"]}},  # brackets in strings and arrays
    {"@odata.context": CONTEXT.replace("/US/", "/UK/")},  # the data model named again
]


def _file(tail: dict[str, Any], cases: bool) -> bytes:
    media = [{"MediaID": i, "Category": i % 5, "MD5": f"{i:032x}",
              "MediaFiles": [{"FileName": f"IMG_{i}.JPG"}]} for i in range(90)]  # fmt: skip
    if cases:
        value: list[Any] = [{"CaseNumber": f"C-{c}", "Media": media[c * 30 : c * 30 + 30]}
                            for c in range(3)]  # fmt: skip
        context = CONTEXT.replace("#Media", "#Cases")
    else:
        value, context = media, CONTEXT
    return json.dumps({"@odata.context": context, "value": value, **tail}).encode()


@pytest.mark.parametrize("cases", [False, True], ids=["media", "cases"])
@pytest.mark.parametrize("tail", TAILS, ids=["next link", "nested", "context again"])
def test_keys_after_value_are_read_in_bulk(
    monkeypatch: pytest.MonkeyPatch, tail: dict[str, Any], cases: bool
) -> None:
    monkeypatch.setattr(vics_chunks, "CHUNK_BYTES", 1500)
    data = _file(tail, cases)
    provenance: dict[str, str] = {}
    found = from_blocks(BulkReader(Vics()._categorise()).blocks(io.BytesIO(data), provenance),
                        shape)  # (no NotBulk)  # fmt: skip
    assert found == streamed(data) and len(found) == 90
    vics = Vics()
    list(vics.read(io.BytesIO(data)))
    assert provenance == {k: v for k, v in vics.provenance().items() if k != "category_scheme"}


@pytest.mark.parametrize("cases", [False, True], ids=["media", "cases"])
def test_a_second_value_after_value_is_left_to_the_streaming_reader(cases: bool) -> None:
    data = _file({}, cases)[:-1] + b', "value": [{"MD5": "' + b"e" * 32 + b'"}]}'
    with pytest.raises(NotBulk):
        list(BulkReader(Vics()._categorise()).blocks(io.BytesIO(data), {}))
    assert from_blocks(Vics().blocks(io.BytesIO(data)), shape) == streamed(data)


@pytest.mark.parametrize("tail", [b', "x": NaN}', b', "x": ' + b"7" * 1001 + b"}"],
                         ids=["NaN", "a long number"])  # fmt: skip
def test_keys_after_value_the_streaming_reader_refuses_are_left_to_it(tail: bytes) -> None:
    """(Python's reader takes what ijson refuses: the import must fail as it does.)"""
    data = _file({}, False)[:-1] + tail
    with pytest.raises(NotBulk):
        list(BulkReader(Vics()._categorise()).blocks(io.BytesIO(data), {}))
