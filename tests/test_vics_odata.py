"""VICS 1.x files as OData wrote them: ``odata.id`` starts every case, medium and file,
``*@odata.navigationLinkUrl`` before each array. They are read in bulk (not handed to
the streaming reader), their records kept as read, the annotations left out when a
record is given out (export)."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path
from typing import Any

import pytest

from hashmatch.hashsets import HashSetStore
from hashmatch.hashsets.export import export_set
from hashmatch.hashsets.formats import vics_chunks
from hashmatch.hashsets.formats.vics import Vics
from hashmatch.hashsets.formats.vics_bulk import BulkReader
from hashmatch.hashsets.formats.vics_media import shown_record
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
    assert first_keys(b'{"odata.id": {"x": 1}, "SHA1": "a"}') == (b'"odata.id"',)
    # (An exporter may leave out a second field: another first key is taken alone.)
    assert first_keys(b'{"MediaID": 1, "Category": 2}') == (b'"MediaID"',)


def test_annotations_are_kept_as_read_and_left_out_when_given_out(tmp_path: Path) -> None:
    data = _case_file(3, 4)
    records = from_blocks(
        BulkReader(Vics()._categorise()).blocks(io.BytesIO(data), {}), lambda e: e.record
    )
    assert all('"odata.id"' in str(r) and "@odata.navigationLinkUrl" in str(r) for r in records)
    path = tmp_path / "cases.json"
    path.write_bytes(data)
    with HashSetStore(tmp_path / "store") as store:
        store.import_file(path, name="v13")
        info = store.list_sets()[0]
        given = [store.record(info, entry) for entry in range(1, info.entries + 1)]
        out = tmp_path / "out.json"
        with out.open("w") as stream:
            export_set(store, info, "vics", stream)
    expected = [_without_annotations(_medium(n)) for n in range(12)]
    assert sorted((json.loads(str(r)) for r in given), key=lambda m: m["MediaID"]) == expected
    exported = json.loads(out.read_text())["value"]
    assert sorted(m["MD5"] for m in exported) == sorted(m["MD5"] for m in expected)
    assert not any("odata." in json.dumps(m) for m in exported)


def _without_annotations(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_annotations(v) for k, v in value.items()
                if k != "odata.id" and not k.endswith("@odata.navigationLinkUrl")}  # fmt: skip
    if isinstance(value, list):
        return [_without_annotations(v) for v in value]
    return value


def test_a_record_is_given_out_without_annotations_however_they_are_spelt() -> None:
    written = '{"MD5": "AB", "Size": 1.50, "Path": "C:\\\\odata"}'
    assert shown_record(written) is written
    spelt = '{"MD5": "AB", "\\u006fdata.id": "x", "N": [{"odata.id": 1, "K": 2}]}'
    assert json.loads(shown_record(spelt)) == {"MD5": "AB", "N": [{"K": 2}]}
    long_number = '{"odata.id": "x", "MediaID": ' + "9" * 5000 + "}"
    assert shown_record(long_number) == long_number  # (Python cannot read it back)


def test_media_whose_second_key_varies_keep_a_case_file_in_bulk(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Only an annotation's next key is part of a medium's start: an exporter that
    leaves out an uncategorised medium's Category starts that one differently, and a
    start of two keys learnt from it matched hardly any media."""
    monkeypatch.setattr(vics_chunks, "CHUNK_BYTES", 2000)
    value = [{"CaseNumber": f"C-{c}", "Media": [
        {"MediaID": c * 40 + i, "MD5": f"{c * 40 + i:032x}"} if i % 20 == 0 else
        {"MediaID": c * 40 + i, "Category": 1, "MD5": f"{c * 40 + i:032x}",
         "MediaFiles": [{"FileName": f"IMG_{i}.JPG"}], "Exifs": []}
        for i in range(40)
    ]} for c in range(12)]  # fmt: skip
    data = json.dumps({"@odata.context": CONTEXT_1X.replace("1.3.xml", "1.2.xml"),
                       "value": value}).encode()  # fmt: skip
    found = from_blocks(BulkReader(Vics()._categorise()).blocks(io.BytesIO(data), {}), shape)
    assert found == streamed(data) and len(found) == 480
