"""The bulk VICS reader (msgspec pieces, numpy columns, worker processes) gives what the
streaming reader gives, medium for medium: values, labels, records and messages, for
any flat document; and it hands over to the streaming reader where it must."""

from __future__ import annotations

import codecs
import hashlib
import io
import json
import os
import platform
import re
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, BinaryIO, cast

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hashmatch.errors import HashSetFormatError
from hashmatch.hashsets import HashSetStore
from hashmatch.hashsets.formats import vics_bulk, vics_chunks
from hashmatch.hashsets.formats.vics import Vics
from hashmatch.hashsets.formats.vics_bulk import BulkReader, NotBulk
from hashmatch.hashsets.formats.vics_halves import readable_text
from hashmatch.hashsets.formats.vics_media import shown_record
from hashmatch.hashsets.formats.vics_piece import Holds
from hashmatch.hashsets.formats.vics_stream import Rewindable
from hashmatch.hashsets.packed import entries
from hashmatch.hashsets.packed.entries import entry_blocks
from tests.unrolled import BlockEntry, from_blocks

CONTEXT = "http://github.com/VICSDATAMODEL/ProjectVic/DataModels/2.0.xml/US/$metadata#Media"
PDQ = "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22"

hex32 = st.text("0123456789abcdefABCDEF", min_size=32, max_size=32)
hex40 = st.text("0123456789abcdef", min_size=40, max_size=40)
#: Texts as they come, and some holding half of a surrogate pair alone (a Windows file
#: name can), which both readers read as "?" (``vics_halves``).
text = st.text(max_size=6) | st.sampled_from(
    ["IMG\ud83d.jpg", "\udbff", "a\ud800 b", "\udc00x", "\ud800\ud801", "\ud83d\ude00"]
)
odd_scalars = st.none() | st.booleans() | st.integers(-5, 10**6) | text | st.floats(-9, 9)
names = st.sampled_from(["SHA256", "sha-256", "PDQ", "PhotoDNA", "MD5", "Sha_1", "x", "pdq\\"])
hash_values = st.sampled_from(
    [PDQ, PDQ.upper(), "00" * 32, "zz", hashlib.md5(b"a").hexdigest(), " " + PDQ[1:], "\u00e9" * 64]
)
# As exporters write them (msgspec's structs take them), and any other way (read as any
# JSON): other key orders, other keys, values that are not text.
alternative = (
    st.fixed_dictionaries({"HashName": names, "HashValue": hash_values})
    | st.fixed_dictionaries({"HashValue": hash_values, "HashName": names})
    | st.fixed_dictionaries(
        {"HashName": names | odd_scalars, "HashValue": hash_values}, optional={"x": odd_scalars}
    )
    | odd_scalars
)
alternatives = st.lists(alternative, max_size=3) | odd_scalars
media = st.fixed_dictionaries(
    {"MD5": hex32 | st.sampled_from([" " + "ab" * 16, "ab" * 15, "", "g" * 32]) | odd_scalars},
    optional={
        "MediaID": st.integers(0, 10**9) | text,
        "Category": st.integers(0, 6) | st.sampled_from(["1", " 2", "", "x"]) | odd_scalars,
        "SHA1": hex40 | st.sampled_from(["", "  ", "x" * 40]) | odd_scalars,
        "AlternativeHashes": alternatives,
        "MediaFiles": st.lists(st.fixed_dictionaries({"FileName": text}), max_size=2),
        "odata.id": text,
        "Series": text,
        "Note": st.lists(odd_scalars, max_size=2)
        | st.dictionaries(st.text(max_size=4), odd_scalars, max_size=2),  # no "Media" key
    },
)
items = st.lists(media | odd_scalars, max_size=12)
styles = st.sampled_from(
    [
        {"separators": (",", ":")},
        {"indent": 2},
        {"ensure_ascii": False},
        {"separators": (" ,", " : ")},
    ]
)


def document(value: list[Any], style: dict[str, Any]) -> bytes:
    """The file; a lone half of a surrogate pair is written as its escape whatever the
    style (UTF-8 cannot hold it: exporters write the escape)."""
    text = json.dumps({"@odata.context": CONTEXT, "value": value}, **style)
    return re.sub("[\ud800-\udfff]", lambda half: f"\\u{ord(half[0]):04x}", text).encode()


def shape(entry: BlockEntry) -> tuple[object, ...]:
    label = (entry.label.label, entry.label.category) if entry.label else None
    # (A lone half of a surrogate pair: kept as written, read as "?" when read.)
    return tuple(sorted(entry.values)), label, json.loads(readable_text(entry.record or "null"))


def streamed(data: bytes) -> list[object]:
    """What the streaming reader gives, as packed blocks would hold it."""
    return from_blocks(entry_blocks(Vics().read(io.BytesIO(data))), shape)


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(value=items, style=styles, piece=st.sampled_from([64, 300, vics_chunks.CHUNK_BYTES]))
def test_bulk_reading_gives_what_streaming_gives(
    value: list[Any], style: dict[str, Any], piece: int
) -> None:
    data = document(value, style)
    usual = vics_chunks.CHUNK_BYTES
    vics_chunks.CHUNK_BYTES = piece  # pieces of a few media, or all in one
    try:
        bulk = BulkReader(Vics()._categorise()).blocks(io.BytesIO(data), {})  # never NotBulk
        found = from_blocks(bulk, shape)
    finally:
        vics_chunks.CHUNK_BYTES = usual
    assert found == streamed(data)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(value=items, style=styles, codec=st.sampled_from(["utf-16", "utf-16-be", "utf-16-le"]))
def test_utf16_files_are_read_in_bulk_as_streamed(
    value: list[Any], style: dict[str, Any], codec: str
) -> None:
    """Older exporters write UTF-16: transcoded, it is read in bulk all the same."""
    data = document(value, style).decode("utf-8")
    bom = {"utf-16": "", "utf-16-be": "\ufeff", "utf-16-le": "\ufeff"}[codec]
    raw = (bom + data).encode(codec)
    source = Rewindable(io.BytesIO(raw))
    bulk = BulkReader(Vics()._categorise()).blocks(cast(BinaryIO, source), {})  # never NotBulk
    assert from_blocks(bulk, shape) == streamed(raw) == streamed(data.encode())


def test_utf16_heads_too_long_to_read_again_are_streamed(monkeypatch: Any) -> None:
    monkeypatch.setattr(Rewindable, "KEPT_BYTES", 100)
    value = [{"MD5": f"{i:032x}", "Note": "n" * 50} for i in range(20)]
    raw = document(value, {}).decode().encode("utf-16")
    with pytest.raises(NotBulk):
        list(
            BulkReader(Vics()._categorise()).blocks(cast(BinaryIO, Rewindable(io.BytesIO(raw))), {})
        )
    found = from_blocks(Vics().blocks(io.BytesIO(raw)), shape)
    assert found == streamed(raw) and len(found) == 20


def test_text_that_is_not_utf16_after_all_is_named(tmp_path: Path) -> None:
    raw = document([{"MD5": "a" * 32}], {}).decode().encode("utf-16-le")
    path = tmp_path / "bad.json"
    path.write_bytes(b"\xff\xfe" + raw[:-2] + b"\x00\xd8" + raw[-2:])  # a lone surrogate
    with pytest.raises(HashSetFormatError, match="not valid UTF-8/UTF-16 text"):
        HashSetStore(tmp_path / "store").import_file(path)


def test_rewinding_is_refused_past_the_kept_head(monkeypatch: Any) -> None:
    monkeypatch.setattr(Rewindable, "KEPT_BYTES", 100_000)
    text = "0123456789" * 20_000  # made 64 K characters at a time: kept, then not
    source = Rewindable(io.BytesIO(text.encode("utf-16")))
    assert source.read(4) == b"0123" and source.seek(1) == 1 and source.read(3) == b"123"
    assert source.tell() == 4 and source.read() == text[4:].encode()
    with pytest.raises(io.UnsupportedOperation):
        source.seek(0)


# A case's keys around Media: scalars, and arrays and objects as the schema's
# CaseMetadata and Identifiers are (holding the word Media, brackets in strings, a
# nested "Media" key the streaming reader does not read as the case's).
case_values = st.recursive(
    odd_scalars | st.sampled_from(['"Media": [', "]}, {", "]"]),
    lambda inner: (
        st.lists(inner, max_size=2)
        | st.dictionaries(st.sampled_from(["PropertyName", "Media", "]},{"]), inner, max_size=2)
    ),
    max_leaves=5,
)
case_keys = st.dictionaries(
    st.sampled_from(["CaseNumber", "SourceApplicationName", "x", "CaseMetadata"]),
    case_values,
    max_size=3,
)
cases = st.builds(
    lambda head, media, tail: {**head, "Media": media, **tail},
    case_keys,
    st.lists(media, max_size=5),
    st.dictionaries(
        st.sampled_from(["After", "SourceApplicationVersion", "Identifiers"]), case_values
    ),
)


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(value=st.lists(cases, min_size=1, max_size=4), style=styles,
       piece=st.sampled_from([64, 300, vics_chunks.CHUNK_BYTES]))  # fmt: skip
def test_case_files_are_read_in_bulk_as_streamed(
    value: list[Any], style: dict[str, Any], piece: int
) -> None:
    data = document(value, style).replace(b"#Media", b"#Cases")
    usual = vics_chunks.CHUNK_BYTES
    vics_chunks.CHUNK_BYTES = piece
    try:
        provenance: dict[str, str] = {}
        bulk = BulkReader(Vics()._categorise()).blocks(io.BytesIO(data), provenance)
        found = from_blocks(bulk, shape)  # never NotBulk: cases of keys and media
    finally:
        vics_chunks.CHUNK_BYTES = usual
    vics = Vics()
    assert found == from_blocks(entry_blocks(vics.read(io.BytesIO(data))), shape)
    assert provenance == {k: v for k, v in vics.provenance().items() if k != "category_scheme"}


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(first=cases, rest=st.lists(cases | case_keys, max_size=4), style=styles,
       piece=st.sampled_from([64, 300, vics_chunks.CHUNK_BYTES]))  # fmt: skip
def test_cases_without_a_media_key_are_read_as_streamed(
    first: dict[str, Any], rest: list[Any], style: dict[str, Any], piece: int
) -> None:
    """An item of neither Media nor MD5 after a case: a case without media (a serializer
    leaves out a null Media), in bulk (or by the streaming reader it hands over to) as
    streamed. It was a medium without an MD5: the import stopped there."""
    data = document([first, *rest], style).replace(b"#Media", b"#Cases")
    usual = vics_chunks.CHUNK_BYTES
    vics_chunks.CHUNK_BYTES = piece
    try:
        vics = Vics()
        found = from_blocks(vics.blocks(io.BytesIO(data)), shape)
    finally:
        vics_chunks.CHUNK_BYTES = usual
    streamed = Vics()
    assert found == from_blocks(entry_blocks(streamed.read(io.BytesIO(data))), shape)
    assert vics.provenance() == streamed.provenance()
    assert int(streamed.provenance()["cases"]) == 1 + len(rest)


def test_plain_media_are_read_in_bulk() -> None:
    value = [{"MD5": f"{i:032X}", "Category": i % 5, "SHA1": f"{i:040x}"} for i in range(50)]
    value[7]["AlternativeHashes"] = [{"HashName": "PDQ", "HashValue": PDQ}]
    value[9]["odata.id"] = "Media(9)"
    data = document(value, {"indent": 1})
    provenance: dict[str, str] = {}
    reader = BulkReader(Vics()._categorise())
    found = from_blocks(reader.blocks(io.BytesIO(data), provenance), shape)
    assert found == streamed(data) and len(found) == 50
    assert reader.progress.media == 50 and provenance["vics_version"] == "2.0"
    assert found[7][0] == (("md5", f"{7:032x}"), ("pdq", PDQ), ("sha1", f"{7:040x}"))
    assert found[9][2]["odata.id"] == "Media(9)"  # kept as read, as in streaming


def test_invalid_media_are_numbered_in_the_file_across_pieces(monkeypatch: Any) -> None:
    monkeypatch.setattr(vics_chunks, "CHUNK_BYTES", 200)
    value = [{"MD5": f"{i:032x}", "Category": 1} for i in range(40)]
    value[31]["MD5"] = "not hex"
    data = document(value, {})
    reader = BulkReader(Vics()._categorise())
    found = from_blocks(reader.blocks(io.BytesIO(data), {}), shape)
    assert found == streamed(data)
    assert (None, "medium 32: MD5 missing or not 32 hex digits: 'not hex'") in found


def _in_cases(media: list[Any]) -> list[Any]:
    """The media in cases of 150, 1, 2... (a large case, then small ones)."""
    cases, at = [], 0
    for size in [150, *range(1, 20)]:
        cases.append({"CaseNumber": f"C-{len(cases)}", "Media": media[at : at + size]})
        at += size
    return [case for case in cases if case["Media"]]


@pytest.mark.parametrize("piece_bytes", [150, 400, 5000])
@pytest.mark.parametrize("cases", [False, True], ids=["flat", "cases"])
def test_worker_processes_give_the_same_blocks(
    tmp_path: Path, monkeypatch: Any, piece_bytes: int, cases: bool
) -> None:
    """Workers read each piece from the file itself, where it is."""
    monkeypatch.setattr(vics_chunks, "CHUNK_BYTES", piece_bytes)
    monkeypatch.setattr(vics_chunks, "HEAD_BYTES", 1024)  # (the file is read in parts)
    monkeypatch.setattr(vics_bulk, "WORKER_MIN_BYTES", 0)
    value: list[Any] = [
        {"MediaID": i, "MD5": f"{i:032x}", "Category": i % 3,
         "MediaFiles": [{"FileName": "a"}, {"FileName": "b"}]}
        for i in range(300)
    ]  # fmt: skip
    value[100]["MD5"] = 5  # invalid
    data = document(_in_cases(value) if cases else value, {"separators": (",", ":")})
    path = tmp_path / "set.json"
    path.write_bytes(codecs.BOM_UTF8 + (data.replace(b"#Media", b"#Cases") if cases else data))
    pieces = list(vics_chunks.Pieces(io.BytesIO(path.read_bytes()), {}))
    stretches = [p for p in pieces if p.start is not None]
    assert len(stretches) > len(pieces) / 2
    assert all(path.read_bytes()[p.start : p.start + len(p.text)] == p.text for p in stretches)
    reader = BulkReader(Vics()._categorise())
    with path.open("rb") as stream:
        monkeypatch.setattr(vics_bulk, "_workers", lambda stream: 2)  # even on one core
        found = from_blocks(reader.blocks(stream, {}), shape)
    assert found == streamed(path.read_bytes())
    assert reader.progress.media == 300


_FAULTS_SCRIPT = """
import resource, sys
from hashmatch.hashsets.formats import workers

def faults():
    # Page faults while 20 buffers of 3 MB are made, written and freed in turn.
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for i in range(20):
        buffer = b"x" * ((3 << 20) + i * 4096)
        del buffer
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before

pool = workers.start_pool(1)
if pool is None:
    print("none")
    sys.exit(0)
with pool:
    print(pool.submit(faults).result())
"""


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="the setting is glibc's mallopt")
def test_worker_processes_keep_the_memory_they_free() -> None:
    """A worker reuses the memory of the large buffers it frees, instead of having each
    next one faulted in again page by page (a third of its time on large files). The
    worker is forked from a small process of its own: forked from this one, it could
    reuse free memory of this process's heap, each page of it faulted once when first
    written (copy on write), which made the count depend on the tests run before."""
    found = subprocess.run([sys.executable, "-c", _FAULTS_SCRIPT], capture_output=True,
                           text=True, check=True, timeout=60).stdout.strip()  # fmt: skip
    if found == "none":
        pytest.skip("this machine cannot make worker processes")
    one_buffer = (3 << 20) // resource.getpagesize()
    assert int(found) < 2 * one_buffer  # (glibc's defaults: about 20 buffers' worth)


_ORPHAN_SCRIPT = """
import os, sys, time
from hashmatch.hashsets.formats import workers
pool = workers.start_pool(2)
if pool is None:
    print("none", flush=True)
    sys.exit(0)
pids = {pool.submit(os.getpid).result() for _ in range(8)}
print(" ".join(map(str, pids)), flush=True)
time.sleep(60)
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="prctl is Linux's")
def test_worker_processes_die_with_the_importing_process() -> None:
    """Killed with kill -9, the importer left its workers running for minutes, holding
    the hash-set file and the store open."""
    importer = subprocess.Popen([sys.executable, "-c", _ORPHAN_SCRIPT], stdout=subprocess.PIPE,
                                text=True)  # fmt: skip
    assert importer.stdout is not None
    line = importer.stdout.readline().strip()
    if line == "none":
        importer.wait()
        pytest.skip("this machine cannot make worker processes")
    workers = [int(p) for p in line.split()]
    importer.kill()
    importer.wait()
    for _ in range(100):  # (the kernel's signal arrives at once; reaping takes a moment)
        alive = [pid for pid in workers if _running(pid)]
        if not alive:
            break
        time.sleep(0.1)
    assert alive == []


def _running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split()[2]
    except OSError:
        return False
    return state != "Z"


def test_many_small_cases_are_read_in_bulk_whole(monkeypatch: Any) -> None:
    """Small cases are given to the workers whole, several a piece (a piece a case, and
    each case's ends found in this process, made 5-medium cases the slowest VICS)."""
    monkeypatch.setattr(vics_chunks, "CHUNK_BYTES", 1000)
    value = [{"CaseNumber": f"C-{c}", "Media": [{"MD5": f"{c * 5 + i:032x}"} for i in range(5)]}
             for c in range(120)]  # fmt: skip
    value[3]["SourceApplicationName"] = "Exporter"
    data = document(value, {}).replace(b"#Media", b"#Cases")
    pieces = list(vics_chunks.Pieces(io.BytesIO(data), {}))
    whole = [json.loads(b"[" + bytes(p.text) + b"]") for p in pieces if p.holds is Holds.CASES]
    assert len(value) / 5 < len(whole) < len(value) / 3  # about 215 bytes a case
    assert sum(map(len, whole)) == len(value) - 1  # (the first is read medium by medium)
    provenance: dict[str, str] = {}
    reader = BulkReader(Vics()._categorise())
    found = from_blocks(reader.blocks(io.BytesIO(data), provenance), shape)
    assert found == streamed(data) and len(found) == 5 * len(value)
    vics = Vics()
    list(vics.read(io.BytesIO(data)))
    assert provenance["cases"] == str(len(value))
    assert provenance == {k: v for k, v in vics.provenance().items() if k != "category_scheme"}


@pytest.mark.parametrize("piece", [64, 300, 5000])
def test_a_case_key_that_starts_nested_objects_too_keeps_cases_in_bulk(
    monkeypatch: Any, piece: int
) -> None:
    """A cut before the case key inside a medium's AlternativeHashes does not parse: the
    cases are read medium by medium, never handed to the streaming reader."""
    monkeypatch.setattr(vics_chunks, "CHUNK_BYTES", piece)
    alternatives = [{"x": None, "HashName": "SHA256", "HashValue": "ab" * 32}] * 2
    value: list[Any] = [{"x": f"C-{c}", "Media": [
        {"MD5": f"{c * 3 + i:032x}", "AlternativeHashes": alternatives} for i in range(3)
    ]} for c in range(40)]  # fmt: skip
    data = document(value, {"separators": (",", ":")}).replace(b"#Media", b"#Cases")
    provenance: dict[str, str] = {}
    found = from_blocks(
        BulkReader(Vics()._categorise()).blocks(io.BytesIO(data), provenance), shape
    )
    assert found == streamed(data) and len(found) == 120 and provenance["cases"] == "40"


@pytest.mark.parametrize("style", [{"separators": (",", ":")}, {"indent": 1}])
def test_media_whose_nested_objects_start_with_their_key_stay_in_bulk(
    monkeypatch: Any, style: dict[str, Any]
) -> None:
    """Written in the schema's order, MediaFiles and AlternativeHashes objects start with
    MD5 as the media do: a cut before that key can fall inside a medium. Such files went
    to the streaming reader whole (35,000 media/s, not 200,000)."""
    monkeypatch.setattr(vics_chunks, "CHUNK_BYTES", 400)
    value = [{"MD5": f"{i:032x}", "MediaID": i,
              "MediaFiles": [{"MD5": f"{i:032x}", "FileName": f"f{i}.jpg"}] * 2,
              "AlternativeHashes": [{"MD5": f"{i:032x}", "HashName": "PDQ", "HashValue": PDQ}]}
             for i in range(60)]  # fmt: skip
    data = document(value, style)
    reader = BulkReader(Vics()._categorise())
    found = from_blocks(reader.blocks(io.BytesIO(data), {}), shape)  # (no NotBulk)
    assert found == streamed(data) and len(found) == 60


def test_a_case_key_that_starts_nested_objects_only_later_is_read_as_streamed(
    monkeypatch: Any,
) -> None:
    """Cases are cut whole without parsing here once the first cut parsed: a later cut
    before the case key inside a medium does not parse in the worker, and the rest of
    the file is read by the streaming reader: nothing lost, nothing twice."""
    monkeypatch.setattr(vics_chunks, "CHUNK_BYTES", 300)
    nested = [{"x": None, "HashName": "SHA256", "HashValue": "ab" * 32}] * 2
    value: list[Any] = [{"x": f"C-{c}", "Media": [
        {"MD5": f"{c * 3 + i:032x}"} | ({"AlternativeHashes": nested} if c >= 20 else {})
        for i in range(3)
    ]} for c in range(40)]  # fmt: skip
    data = document(value, {"separators": (",", ":")}).replace(b"#Media", b"#Cases")
    pieces = vics_chunks.Pieces(io.BytesIO(data), {})
    cut_whole = [p for p in pieces if p.holds is Holds.CASES]
    assert len(cut_whole) > 5  # (cut without parsing: the later ones do not all parse)
    reader = BulkReader(Vics()._categorise())
    with pytest.raises(NotBulk):
        list(reader.blocks(io.BytesIO(data), {}))
    assert 0 < reader.progress.media < 120
    vics = Vics()
    found = from_blocks(vics.blocks(io.BytesIO(data)), shape)
    assert found == streamed(data) and len(found) == 120
    assert vics.provenance()["cases"] == "40"


@pytest.mark.parametrize("key", ['"Media"', '"Medi\\u0061"', '"\\u004Dedia"'])
def test_a_second_media_array_in_a_whole_case_hands_it_to_the_stream(key: str) -> None:
    """msgspec keeps the last of a repeated key; the streaming reader reads both."""
    value = [{"CaseNumber": f"C-{c}", "Media": [{"MD5": f"{c:032x}"}]} for c in range(3)]
    last = f'"{2:032x}"}}]'
    second = ", " + key + ': [{"MD5": "' + "e" * 32 + '"}]'
    data = document(value, {}).replace(b"#Media", b"#Cases")
    data = data.replace(last.encode(), (last + second).encode())
    pieces = list(vics_chunks.Pieces(io.BytesIO(data), {}))
    assert pieces[-1].holds is Holds.CASES and key.encode() in bytes(pieces[-1].text)
    with pytest.raises(NotBulk):
        list(BulkReader(Vics()._categorise()).blocks(io.BytesIO(data), {}))
    found = from_blocks(Vics().blocks(io.BytesIO(data)), shape)
    assert found == streamed(data) and len(found) == 4


@pytest.mark.parametrize("piece", [64, 300, 5000])
def test_cases_with_metadata_arrays_are_read_in_bulk(monkeypatch: Any, piece: int) -> None:
    """The schema's CaseMetadata and Identifiers around Media (they sent the whole file to
    the streaming reader, at a ninth of the speed, before)."""
    monkeypatch.setattr(vics_chunks, "CHUNK_BYTES", piece)
    media = [{"MD5": f"{i:032x}", "MediaFiles": [{"FileName": "]}, {"}]} for i in range(30)]
    value = [
        {"CaseNumber": f"C-{c}", "CaseMetadata": [{"PropertyName": "Agency", "PropertyValue": "X"}],
         "Media": media[c * 10 : c * 10 + 10], "Identifiers": [{"Value": "Media"}]}
        for c in range(3)
    ]  # fmt: skip
    data = document(value, {"indent": 1}).replace(b"#Media", b"#Cases")
    provenance: dict[str, str] = {}
    found = from_blocks(
        BulkReader(Vics()._categorise()).blocks(io.BytesIO(data), provenance), shape
    )
    assert found == streamed(data) and len(found) == 30
    assert provenance["cases"] == "3" and provenance["case_CaseNumber"] == "C-0"


@pytest.mark.parametrize("piece", [64, 300, 5000])
def test_a_case_end_is_found_when_the_next_case_s_media_come_late(
    monkeypatch: Any, piece: int
) -> None:
    """The end of a case is looked for once the next case's "Media" key, or the end of
    the file, has been read: a long case head in between does not hide it."""
    monkeypatch.setattr(vics_chunks, "CHUNK_BYTES", piece)
    media = [{"MD5": f"{i:032x}", "MediaFiles": [{"FileName": "x"}]} for i in range(40)]
    value = [
        {"CaseNumber": "A", "Media": media[:20], "After": 1},
        {"CaseNumber": "B", "Note": "n" * 3000, "Media": media[20:]},
    ]
    data = document(value, {}).replace(b"#Media", b"#Cases")
    provenance: dict[str, str] = {}
    found = from_blocks(
        BulkReader(Vics()._categorise()).blocks(io.BytesIO(data), provenance), shape
    )
    assert found == streamed(data) and len(found) == 40 and provenance["cases"] == "2"


def test_a_case_after_the_first_piece_hands_the_rest_to_the_stream(monkeypatch: Any) -> None:
    monkeypatch.setattr(vics_chunks, "CHUNK_BYTES", 300)
    value: list[Any] = [{"MD5": f"{i:032x}", "Category": 1} for i in range(30)]
    value.append({"CaseNumber": "C", "Media": [{"MD5": "ff" * 16, "Category": 2}]})
    data = document(value, {})
    reader = BulkReader(Vics()._categorise())
    given_out = []
    with pytest.raises(NotBulk):
        for block in reader.blocks(io.BytesIO(data), {}):
            given_out.append(block)
    assert 0 < reader.progress.media < 31 and given_out
    # The format goes on with the streaming reader from there: all media, once each.
    vics = Vics()
    assert from_blocks(vics.blocks(io.BytesIO(data)), shape) == streamed(data)
    assert vics.provenance()["cases"] == "1"


def test_progress_never_goes_back_when_the_stream_takes_over(
    monkeypatch: Any, tmp_path: Path
) -> None:
    monkeypatch.setattr(vics_chunks, "CHUNK_BYTES", 1 << 15)
    monkeypatch.setattr(vics_bulk, "WORKER_MIN_BYTES", 0)  # workers: pieces cut ahead
    monkeypatch.setattr(entries, "BLOCK_ENTRIES", 100)  # the stream's blocks: small ones
    value: list[Any] = [{"MD5": f"{i:032x}", "Category": 1} for i in range(5_000)]
    value.append({"CaseNumber": "C", "Media": [{"MD5": "ff" * 16, "Category": 2}]})
    value += [{"MD5": f"{i:032x}", "Category": 1} for i in range(10_000, 25_000)]
    path = tmp_path / "case-among-media.json"
    path.write_bytes(document(value, {}))  # ~1 MB: the stream starts again from its head
    seen: list[int] = []
    result = HashSetStore(tmp_path / "store").import_file(path, progress=seen.append)
    assert result.info.entries == 20_001
    assert seen == sorted(seen) and seen[-1] == path.stat().st_size


@pytest.mark.parametrize(
    "data",
    [
        b'{"value": [{"MD5": "'
        + b"a" * 32
        + b'"}], "@odata.context": "'
        + CONTEXT.encode()
        + b'"}',
        b"\xff\xfe" + json.dumps({"@odata.context": CONTEXT, "value": []}).encode("utf-16-le"),
        # a Category beyond a float's range (msgspec refuses it)
        document([{"MD5": "a" * 32}], {}).replace(b'"}', b'", "Category": 1e400}'),
    ],
    ids=["value-first", "utf-16-not-transcoded", "huge-category"],
)
def test_what_bulk_reading_does_not_take_is_streamed(data: bytes) -> None:
    with pytest.raises(NotBulk):
        list(BulkReader(Vics()._categorise()).blocks(io.BytesIO(data), {}))
    assert from_blocks(Vics().blocks(io.BytesIO(data)), shape) == streamed(data)


def test_numbers_beyond_64_bits_are_read_in_bulk() -> None:
    value = [{"MD5": "a" * 32, "Big": 10**30, "Category": 10**25}, {"MD5": "b" * 32}]
    data = document(value, {})
    found = from_blocks(BulkReader(Vics()._categorise()).blocks(io.BytesIO(data), {}), shape)
    assert found == streamed(data) and [f[2] for f in found] == value


@pytest.mark.parametrize(
    "value",
    [
        # a separator inside a string, and a medium ending in a nested array of objects
        [
            {"MD5": "a" * 32, "Note": '},{"MD5":"' + "b" * 32 + '"}'},
            {"MD5": "c" * 32, "MediaFiles": [{"FileName": "x"}, {"FileName": "y"}]},
            {"MD5": "d" * 32},
        ],
        # arrays of arrays of objects: wrapped parts that still parse
        [{"MD5": "a" * 32, "F": [[{"a": 1}, {"b": 2}]]}, {"MD5": "e" * 32, "F": [[{"c": 3}]]}],
        # the first medium's nested objects give the first separator
        [{"MD5": "a" * 32, "F": [{"a": 1}, {"b": 2}]}, {"MD5": "f" * 32}],
    ],
    ids=["separator-in-string", "arrays-of-arrays", "nested-first"],
)
def test_separators_inside_media_do_not_split_them(value: list[Any]) -> None:
    data = document(value, {"separators": (",", ":")})
    found = from_blocks(BulkReader(Vics()._categorise()).blocks(io.BytesIO(data), {}), shape)
    assert found == streamed(data) and len(found) == len(value)
    assert [json.loads(json.dumps(m)) for m in value] == [f[2] for f in found]


def test_media_with_escapes_keep_their_text_and_escaped_annotations_are_not_given_out() -> None:
    written = [
        '{"MD5": "' + "a" * 32 + r'", "Name": "caf\u00e9 \u0027x\u0027", "Category": 1}',
        # an OData annotation whose key is spelled with escapes ("odata." hidden)
        '{"MD5": "'
        + "b" * 32
        + r'", "MediaFiles@\u006fdata.navigationLinkUrl": "x", '
        + '"Category": 2}',
        '{"MD5": "' + "c" * 32 + r'", "Path": "C:\\Users\\x.jpg", "Category": 1}',
    ]
    head = json.dumps({"@odata.context": CONTEXT})[:-1]
    data = (head + ', "value": [' + ", ".join(written) + "]}").encode()
    blocks = list(BulkReader(Vics()._categorise()).blocks(io.BytesIO(data), {}))
    assert from_blocks(blocks, shape) == streamed(data)
    records = from_blocks(blocks, lambda e: e.record)
    assert records == written  # as written
    assert json.loads(shown_record(written[1])) == {"MD5": "b" * 32, "Category": 2}


def test_a_record_is_the_medium_as_written(tmp_path: Path) -> None:
    media = [{"MediaID": i, "MD5": f"{i:032X}", "Category": "1"} for i in range(5)]
    written = [json.dumps(m, indent=2) for m in media]
    head = json.dumps({"@odata.context": CONTEXT})[:-1]
    data = (head + ', "value": [\n' + ",\n".join(written) + "\n]}").encode()
    blocks = list(BulkReader(Vics()._categorise()).blocks(io.BytesIO(data), {}))
    found = from_blocks(blocks, lambda e: e.record)
    assert found == written


def _die(categorise: Any, document: bytes, holds: Any = None, slot: Any = None) -> Any:
    os._exit(1)  # a worker killed, as by the kernel when memory runs out


def test_a_worker_that_dies_hands_the_rest_to_the_stream(tmp_path: Path, monkeypatch: Any) -> None:
    monkeypatch.setattr(vics_chunks, "CHUNK_BYTES", 400)
    monkeypatch.setattr(vics_bulk, "WORKER_MIN_BYTES", 0)
    monkeypatch.setattr(vics_bulk, "_workers", lambda stream: 2)  # even on one core
    monkeypatch.setattr(vics_bulk, "_read_document", _die)  # (what every worker task calls)
    streaming = []
    read = Vics._read
    monkeypatch.setattr(Vics, "_read", lambda *args: streaming.append(1) or read(*args))
    path = tmp_path / "set.json"
    path.write_bytes(document([{"MD5": f"{i:032x}", "Category": 2} for i in range(60)], {}))
    with path.open("rb") as stream:
        found = from_blocks(Vics().blocks(stream), shape)
    assert streaming == [1]  # the worker died: the streaming reader took the file
    monkeypatch.undo()
    assert found == streamed(path.read_bytes()) and len(found) == 60


def test_odd_media_files_do_not_stop_the_import() -> None:
    """MediaFiles as a number or a string: kept in the record, no file name taken."""
    value = [{"MD5": "a" * 32, "MediaFiles": 5, "MediaID": 1},
             {"MD5": "b" * 32, "MediaFiles": "x.jpg", "MediaID": 2}]  # fmt: skip
    data = document(value, {})
    assert from_blocks(Vics().blocks(io.BytesIO(data)), shape) == streamed(data)
    assert [e.reference for e in Vics().read(io.BytesIO(data))] == ["MediaID 1", "MediaID 2"]


@pytest.mark.parametrize("piece", [64, 300, 5000])
@pytest.mark.parametrize(
    "value",
    [
        # a medium with an empty Media array (once taken for an empty case and lost)
        [{"MD5": "a" * 32, "Media": []}, {"MD5": "b" * 32}],
        # an item with an MD5 and media: a medium holding media, all read
        [{"MD5": "a" * 32, "Media": [{"MD5": "b" * 32}]}, {"MD5": "c" * 32}],
        # the same among cases, before and after its Media array
        [{"CaseNumber": "1", "Media": [{"MD5": "b" * 32}]},
         {"MD5": "a" * 32, "Media": [{"MD5": "c" * 32}]},
         {"Media": [{"MD5": "d" * 32}] * 3, "MD5": "e" * 32}],
        # a case's medium holding media (and they media): all read, as in a flat set
        # (a case file lost them, their MD5s kept only in the medium's record)
        [{"CaseNumber": "1", "Media": [
            {"MD5": "a" * 32, "Media": [{"MD5": "b" * 32, "Media": [{"MD5": "c" * 32}]}]},
            {"MD5": "d" * 32}]}],
    ],
    ids=["flat-empty-media", "flat-media-holding-media", "among-cases", "nested-in-a-case"],
)  # fmt: skip
def test_an_item_with_an_md5_is_a_medium_whatever_else_it_holds(
    value: list[Any], piece: int
) -> None:
    expected = sorted({m for item in value for m in _all_md5(item)})
    for context in (CONTEXT, CONTEXT.replace("#Media", "#Cases")):
        data = json.dumps({"@odata.context": context, "value": value}).encode()
        usual = vics_chunks.CHUNK_BYTES
        vics_chunks.CHUNK_BYTES = piece
        try:
            found = from_blocks(Vics().blocks(io.BytesIO(data)), shape)
        finally:
            vics_chunks.CHUNK_BYTES = usual
        assert found == streamed(data)
        assert sorted({v for entry in found for a, v in entry[0] if a == "md5"}) == expected


def _all_md5(item: dict[str, Any]) -> list[str]:
    own = [item["MD5"]] if "MD5" in item else []
    return own + [md5 for medium in item.get("Media", []) for md5 in _all_md5(medium)]


def test_a_case_end_after_a_false_one_inside_a_later_key_is_still_found() -> None:
    """Hypothesis found it: the places that may end a case were given region by region,
    and a region reaching back from a nested "Media" key gave a ']' inside the string
    key ']},{' before the Media array's own ']'; once that failed to parse, the real end
    (before it) was never tried and the file went to the streaming reader."""
    value = [
        {
            "Media": [],
            "After": {"]},{": None, "Media": []},
            "SourceApplicationVersion": -5.856842970395665e-187,
        }
    ]
    data = document(value, {"separators": (" ,", " : ")}).replace(b"#Media", b"#Cases")
    usual = vics_chunks.CHUNK_BYTES
    vics_chunks.CHUNK_BYTES = 64
    try:
        provenance: dict[str, str] = {}
        found = from_blocks(
            BulkReader(Vics()._categorise()).blocks(io.BytesIO(data), provenance), shape
        )  # fmt: skip  (NotBulk before the fix)
    finally:
        vics_chunks.CHUNK_BYTES = usual
    assert found == [] and provenance["cases"] == "1"
