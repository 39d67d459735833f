"""VICS 1.x files as OData wrote them: ``odata.id`` starts every case, medium and file,
``*@odata.navigationLinkUrl`` before each array. They are read in bulk (not handed to
the streaming reader)."""

from __future__ import annotations

import io
import json
import re
from typing import Any

import pytest

from hashmatch.hashsets.formats import vics_chunks
from hashmatch.hashsets.formats.vics import Vics
from hashmatch.hashsets.formats.vics_bulk import BulkReader
from hashmatch.hashsets.formats.vics_places import first_keys, separator_before
from tests.test_vics_bulk import shape, streamed
from tests.unrolled import from_blocks

CONTEXT_1X = "http://github.com/ICMEC/ProjectVic/DataModels/1.3.xml#Cases"


def _medium(n: int) -> dict[str, Any]:
    md5 = f"{n:032X}"
    files = [{"odata.id": f"MediaFiles({n}{k})", "MediaFileID": k, "MD5": md5,
              "FileName": f"IMG_{n}_{k}.JPG"} for k in range(1 + n % 3)]  # fmt: skip
    return {
        "odata.id": f"http://localhost/Media('{md5}')", "MediaID": n, "Category": n % 5,
        "MD5": md5, "SHA1": f"{n:040x}", "IsDistributed": False,
        "MediaFiles@odata.navigationLinkUrl": f"http://localhost/Media('{md5}')/MediaFiles",
        "MediaFiles": files,
        "Exifs@odata.navigationLinkUrl": f"http://localhost/Media('{md5}')/Exifs", "Exifs": [],
    }  # fmt: skip


def _case_file(cases: int, per_case: int) -> bytes:
    value = [{"odata.id": f"http://localhost/Cases({c})", "CaseID": c,
              "CaseNumber": f"C-{c}", "Media@odata.navigationLinkUrl": f"Cases({c})/Media",
              "Media": [_medium(c * per_case + i) for i in range(per_case)]}
             for c in range(cases)]  # fmt: skip
    return json.dumps({"odata.metadata": CONTEXT_1X, "value": value}).encode()


@pytest.mark.parametrize("per_case", [2, 15], ids=["small cases", "large cases"])
def test_a_case_file_with_odata_ids_everywhere_is_read_in_bulk(
    monkeypatch: Any, per_case: int
) -> None:
    """Cases, media and files all start with ``odata.id``: taken for a medium's start,
    a case's end was cut inside a piece, and the whole file went to the streaming reader
    (300,000 media in 30 cases: 28 s instead of 1.5)."""
    monkeypatch.setattr(vics_chunks, "CHUNK_BYTES", 2000)
    data = _case_file(20, per_case)
    provenance: dict[str, str] = {}
    reader = BulkReader(Vics()._categorise())
    found = from_blocks(reader.blocks(io.BytesIO(data), provenance), shape)  # (no NotBulk)
    assert found == streamed(data) and len(found) == 20 * per_case
    assert provenance["cases"] == "20" and provenance["case_CaseNumber"] == "C-0"


def test_two_keys_tell_a_case_from_a_medium_that_start_with_the_same_key() -> None:
    data = _case_file(2, 2)
    start = data.index(b'{"odata.id": "http://localhost/Media')
    keys = first_keys(data, start)
    assert keys == (b'"odata.id"', b'"MediaID"')
    places = [m.start() for m in separator_before(*keys).finditer(data)]
    media = [m.start() for m in re.finditer(rb'\{"odata.id": "http://localhost/Media', data)]
    # ("}, {" before) each case's second medium; not the second case's start
    assert [p + 3 for p in places] == [media[1], media[3]]
    assert first_keys(b'{"MD5": {"x": 1}, "SHA1": "a"}') == (b'"MD5"',)  # (not a scalar)
