"""The hash-set formats investigators arrive with: VICS, NSRL, HashKeeper, TSK, EnCase, CSV.

Fixtures are in tests/data/hashsets (made by make_hashsets.py; README.md there lists the
quirk each one carries).
"""

from __future__ import annotations

import json
import random
import shutil
import sqlite3
import zipfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hashmatch.errors import HashmatchError, HashSetFormatError, UsageError
from hashmatch.hashsets import Category, HashSetStore
from hashmatch.hashsets.formats import format_names

DATA = Path(__file__).parent / "data" / "hashsets"
MD5 = ["00112233445566778899aabbccddeeff", "ffeeddccbbaa99887766554433221100"]
CONTEXT = "http://github.com/VICSDATAMODEL/ProjectVic/DataModels/2.0.xml/US/$metadata#Media"


def labels(store: HashSetStore, name: str) -> dict[str | None, tuple[str, int]]:
    return {label: (str(category), n) for category, label, n in store.breakdown(store.get(name))}


@pytest.mark.parametrize("fixture", ["vics2-case.json", "vics2-mislabeled.json"])
def test_vics_case_file(store: HashSetStore, fixture: str) -> None:
    info = store.import_file(DATA / fixture, name="vics").info
    assert info.format == "vics" and info.entries == 5
    assert set(info.algorithms) == {"md5", "sha1", "sha256", "pdq"}
    assert labels(store, "vics") == {
        "VICS 0 (Non-Pertinent)": ("known-good", 1),
        "VICS 1 (Child Abuse Material)": ("known-bad", 1),
        "VICS 2 (Child Exploitive (non-CAM) / Age Difficult)": ("known-bad", 1),
        "VICS 4 (Comparison Images)": ("alert", 1),
        "VICS uncategorized": ("alert", 1),
    }
    provenance = dict(info.provenance)
    assert provenance["vics_version"] == "2.0" and provenance["case_CaseNumber"] == "CASE-42"
    found = store.lookup(info, "md5", [bytes.fromhex(MD5[0])])[bytes.fromhex(MD5[0])][0]
    assert found.reference == "MediaID 1; IMG_0001.JPG; series S-1"
    assert store.lookup(info, "sha256", [bytes.fromhex("ab" * 32)])  # from AlternativeHashes


def test_vics_keeps_the_original_record(store: HashSetStore) -> None:
    info = store.import_file(DATA / "vics2-case.json", name="vics").info
    record = store.record(info, 1)
    assert record is not None
    medium = json.loads(record)  # every field, unknown keys too, values as written
    assert medium["VendorSpecificKey"] == {"x": 1} and medium["PhotoDNA"].startswith("AAAA")
    assert medium["VictimIdentified"] == "true"


@pytest.mark.parametrize("fixture", ["vics13-flat.json", "vics13-flat-utf16.json"])
def test_vics_flat_1_3_in_utf8_and_utf16(store: HashSetStore, fixture: str) -> None:
    info = store.import_file(DATA / fixture, name="flat").info
    assert info.entries == 2 and dict(info.provenance)["vics_version"] == "1.3"
    assert labels(store, "flat")["VICS 1 (Child Abuse Material)"] == ("known-bad", 1)
    hit = store.lookup(info, "md5", [bytes.fromhex("aa" * 16)])[bytes.fromhex("aa" * 16)][0]
    assert hit.reference == "MediaID 10; old-name.jpg"


def test_vics_alternative_hashes_that_are_not_an_array(store: HashSetStore, tmp_path: Path) -> None:
    """A lone object counts as one; a number or a text holds none (and stopped the
    import with a Python error before)."""
    media = [
        {"MD5": "11" * 16, "AlternativeHashes": {"HashName": "SHA256", "HashValue": "ab" * 32}},
        {"MD5": "22" * 16, "AlternativeHashes": 7},
        {"MD5": "33" * 16, "AlternativeHashes": "SHA256"},
    ]
    path = tmp_path / "odd.json"
    path.write_text(json.dumps({"@odata.context": CONTEXT, "value": media}))
    info = store.import_file(path).info
    assert info.entries == 3
    assert set(store.lookup(info, "sha256", [bytes.fromhex("ab" * 32)])) == {
        bytes.fromhex("ab" * 32)
    }
    assert json.loads(store.record(info, 2) or "")["AlternativeHashes"] == 7


def test_vics_dhs_scheme_reads_numbers_differently(store: HashSetStore) -> None:
    store.import_file(DATA / "vics13-flat.json", name="dhs", category_scheme="vics-dhs")
    assert labels(store, "dhs")["VICS 5 (Non-Pertinent)"] == ("known-good", 1)
    store.import_file(DATA / "vics2-case.json", name="dhs2", category_scheme="vics-dhs")
    assert labels(store, "dhs2")["VICS 0 (Uncategorized)"] == ("alert", 1)


def test_category_scheme_only_for_vics(store: HashSetStore) -> None:
    with pytest.raises(UsageError, match="does not apply"):
        store.import_file(DATA / "set.hsh", category_scheme="vics-us")


@pytest.mark.parametrize(
    ("fixture", "message"),
    [("vics2-bad-md5.json", "medium 1: MD5 missing or not 32 hex digits"),
     ("vics2-truncated.json", "not valid JSON")],
)  # fmt: skip
def test_malformed_vics_leaves_the_store_unchanged(
    store: HashSetStore, fixture: str, message: str
) -> None:
    files_before = sorted(store.directory.rglob("*"))
    with pytest.raises(HashSetFormatError, match=message) as error:
        store.import_file(DATA / fixture)
    assert str(DATA / fixture) in str(error.value)
    assert "\n" not in str(error.value)  # (one line: no drawing of the place by the parser)
    assert store.list_sets() == []
    # (Not even the folder of the sets' files, which the first import made and left.)
    assert sorted(store.directory.rglob("*")) == files_before


def test_skip_invalid_vics_imports_the_rest(store: HashSetStore, tmp_path: Path) -> None:
    text = (DATA / "vics2-case.json").read_text(encoding="utf-8-sig")
    broken = tmp_path / "one-bad.json"
    broken.write_text(text.replace('"2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d"', '"zz"'))
    result = store.import_file(broken, skip_invalid=True)
    assert result.skipped == 1 and result.info.entries == 4


@pytest.mark.parametrize("fixture", ["rdsv3-minimal.db", "rdsv3-no-crc32.db"])
def test_nsrl_rdsv3(store: HashSetStore, fixture: str) -> None:
    info = store.import_file(DATA / fixture, name="nsrl").info
    assert info.format == "nsrl-rdsv3" and info.category is Category.KNOWN_GOOD
    assert set(info.algorithms) == {"md5", "sha1", "sha256"}
    provenance = dict(info.provenance)
    assert provenance["rds_version"] == "2024.03.1" and provenance["rds_build_set"] == "modern"
    key = bytes.fromhex(MD5[0])
    assert store.lookup(info, "md5", [key])[key][0].label == "NSRL"
    minimal = fixture == "rdsv3-minimal.db"
    assert info.entries == (3 if minimal else 6)  # DISTINCT_HASH de-duplicates packages
    assert provenance["read_from"].startswith("DISTINCT_HASH" if minimal else "FILE")


def test_an_sqlite_hash_set_named_with_uri_characters_is_read(
    store: HashSetStore, tmp_path: Path
) -> None:
    """An RDSv3 file whose name holds ``#``, ``?`` or ``%`` is the file read (SQLite files
    are opened by a URI; such a name opened another file, or none)."""
    named = tmp_path / "RDS #2024? 100%20.db"
    shutil.copyfile(DATA / "rdsv3-no-crc32.db", named)
    info = store.import_file(named, name="nsrl").info
    assert info.format == "nsrl-rdsv3" and info.entries == 6


@pytest.mark.parametrize("fixture", ["NSRLFile.txt", "NSRLFile.txt.zip"])
def test_nsrl_rds2_text_and_zip(store: HashSetStore, fixture: str) -> None:
    info = store.import_file(DATA / fixture, name="rds2").info
    assert info.format == "nsrl-rds2" and info.entries == 2
    key = bytes.fromhex(MD5[0])
    assert store.lookup(info, "md5", [key])[key][0].reference == 'café, "menu".txt'
    assert labels(store, "rds2")["NSRL special M"] == ("alert", 1)


def _zip(path: Path, members: dict[str, bytes], method: int = zipfile.ZIP_DEFLATED) -> Path:
    with zipfile.ZipFile(path, "w", method) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def _patched(path: Path, marker: bytes, offset: int, value: bytes) -> Path:
    """Every local and central header of ``path`` with ``value`` at ``offset``."""
    data = bytearray(path.read_bytes())
    at = data.find(marker)
    while at >= 0:
        data[at + offset : at + offset + len(value)] = value
        at = data.find(marker, at + 1)
    path.write_bytes(bytes(data))
    return path


def test_nsrl_zips_with_the_set_anywhere_in_them(store: HashSetStore, tmp_path: Path) -> None:
    text = (DATA / "NSRLFile.txt").read_bytes()
    noise = random.Random(1).randbytes(3000)  # (the set's header is not in the zip's head)
    after = _zip(tmp_path / "rds.zip", {"RDS/": b"", "RDS/NSRLMfg.txt": noise,
                                        "RDS/NSRLFile.txt": text})  # fmt: skip
    info = store.import_file(after, name="after").info
    assert info.format == "nsrl-rds2" and info.entries == 2
    assert dict(info.provenance)["zip_member"] == "RDS/NSRLFile.txt"


def test_nsrl_zips_that_cannot_be_read_say_why(store: HashSetStore, tmp_path: Path) -> None:
    """Each was an internal error (zlib's, zipfile's NotImplementedError or RuntimeError)."""
    text = (DATA / "NSRLFile.txt").read_bytes() * 50
    corrupt = _zip(tmp_path / "corrupt.zip", {"NSRLFile.txt": text})
    data = bytearray(corrupt.read_bytes())
    data[60:70] = b"\xff" * 10  # (inside the deflated data)
    corrupt.write_bytes(bytes(data))
    deflate64 = _patched(_zip(tmp_path / "d64.zip", {"NSRLFile.txt": text}), b"PK\x03\x04", 8,
                         b"\x09\x00")  # fmt: skip
    deflate64 = _patched(deflate64, b"PK\x01\x02", 10, b"\x09\x00")
    encrypted = _patched(_zip(tmp_path / "enc.zip", {"NSRLFile.txt": text}), b"PK\x01\x02", 8,
                         b"\x01")  # fmt: skip
    two = _zip(tmp_path / "two.zip", {"a/NSRLFile.txt": text, "b/NSRLFile.txt": text})
    none = _zip(tmp_path / "none.zip", {"readme.txt": b"hello"})
    for path, message in [(corrupt, "damaged zip file"), (deflate64, "Deflate64"),
                          (encrypted, "encrypted"), (two, "2 NSRLFile.txt"),
                          (none, "no NSRLFile.txt")]:  # fmt: skip
        with pytest.raises(HashSetFormatError, match=message):
            store.import_file(path)
    assert store.list_sets() == []


@pytest.mark.parametrize(
    ("fixture", "fmt", "entries", "reference"),
    [
        ("set.hsh", "hashkeeper", 2, "C:\\PICS\\IMG1.JPG"),
        ("set.kdb", "tsk-kdb", 2, "known0.jpg"),
        ("set.idx", "tsk-idx", 2, None),
        ("set.hash", "encase", 2, None),
        ("generic.csv", "csv", 2, "a.jpg"),
    ],
)
def test_suite_formats(
    store: HashSetStore, fixture: str, fmt: str, entries: int, reference: str | None
) -> None:
    info = store.import_file(DATA / fixture, name="s").info
    assert (info.format, info.entries) == (fmt, entries)
    key = bytes.fromhex(MD5[0])
    assert store.lookup(info, "md5", [key])[key][0].reference == reference


def test_encase_header_goes_into_provenance(store: HashSetStore) -> None:
    info = store.import_file(DATA / "set.hash").info
    assert dict(info.provenance)["encase_set_name"] == "Test set"
    assert dict(info.provenance)["encase_category"] == "Notable"


def test_generic_csv_category_column(store: HashSetStore) -> None:
    store.import_file(DATA / "generic.csv", name="g")
    assert labels(store, "g") == {"known-bad": ("known-bad", 1), "Grade B": ("alert", 1)}


def test_explicit_category_replaces_the_files_own(store: HashSetStore) -> None:
    store.import_file(DATA / "vics13-flat.json", name="all-good", category=Category.KNOWN_GOOD)
    assert {c for c, _ in labels(store, "all-good").values()} == {"known-good"}


def test_existing_formats_stay_detected(store: HashSetStore, tmp_path: Path) -> None:
    pdq = tmp_path / "tool.txt"
    pdq.write_text(f"{'f0' * 32},100,a.jpg\n{'0f' * 32},90,b.jpg\n")
    assert store.import_file(pdq).info.format == "pdq"
    sums = tmp_path / "list.md5"
    sums.write_text(f"{MD5[0]}  a.jpg\n")
    assert store.import_file(sums).info.format == "md5sum"


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.binary(max_size=2048), fmt=st.sampled_from(["auto", *format_names()]))
def test_any_bytes_give_a_result_or_a_hashmatch_error(
    tmp_path_factory: pytest.TempPathFactory, data: bytes, fmt: str
) -> None:
    folder = tmp_path_factory.mktemp("fuzz")
    path = folder / "input"
    path.write_bytes(data)
    with HashSetStore(folder / "store") as store:
        try:
            store.import_file(path, format_name=fmt)
        except HashmatchError:
            assert store.list_sets() == []


VICS_TEXT = json.dumps(
    {
        "@odata.context": CONTEXT,
        "value": [
            {"MediaID": i, "Category": i % 3, "MD5": f"{i:032x}", "SHA1": f"{i:040x}",
             "AlternativeHashes": [{"MD5": f"{i:032x}", "HashName": "PDQ", "HashValue": "ab" * 32}],
             "MediaFiles": [{"FileName": f"IMG_{i}.JPG"}]}
            for i in range(40)
        ],
    }
)  # fmt: skip


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    codec=st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "utf-16-be"]),
    cuts=st.lists(st.tuples(st.integers(0, 10_000), st.binary(max_size=3)), max_size=4),
)
def test_damaged_vics_gives_a_result_or_a_hashmatch_error(
    tmp_path_factory: pytest.TempPathFactory, codec: str, cuts: list[tuple[int, bytes]]
) -> None:
    """VICS in every encoding the bulk and streaming readers take, damaged at random."""
    bom = "\ufeff" if codec == "utf-16-be" else ""  # (the others write their own)
    data = bytearray((bom + VICS_TEXT).encode(codec))
    for place, replacement in cuts:
        at = place % (len(data) + 1)
        data[at : at + len(replacement)] = replacement
    folder = tmp_path_factory.mktemp("damaged")
    path = folder / "input.json"
    path.write_bytes(bytes(data))
    with HashSetStore(folder / "store") as store:
        try:
            store.import_file(path, format_name="vics")
        except HashmatchError:
            assert store.list_sets() == []


def test_tsk_idx_with_its_two_header_lines(store: HashSetStore, tmp_path: Path) -> None:
    """What hfind writes: each import failed at line 2 before."""
    path = tmp_path / "NSRLFile.txt-md5.idx"
    path.write_text(f"{'0' * 41}|nsrl\n{'0' * 40}1|NSRL RDS 2.50 modern\n"
                    f"{MD5[0].upper()}|0000000000000000\n{MD5[1]}|0000000000000160\n")  # fmt: skip
    info = store.import_file(path).info
    assert info.format == "tsk-idx" and info.entries == 2
    provenance = dict(info.provenance)
    assert provenance["tsk_idx_name"] == "NSRL RDS 2.50 modern"
    assert provenance["tsk_idx_type"] == "nsrl"


def test_tsk_kdb_names_each_hash_by_its_first_name(store: HashSetStore, tmp_path: Path) -> None:
    path = tmp_path / "many.kdb"
    shutil.copyfile(DATA / "set.kdb", path)
    with sqlite3.connect(path) as db:
        for n in range(3, 300):
            db.execute("INSERT INTO hashes (md5) VALUES (?)", (n.to_bytes(16, "big"),))
        db.executemany("INSERT INTO file_names VALUES (?, ?)",
                       [(f"later-{n}.jpg", n) for n in range(1, 300, 2)])  # fmt: skip
        db.executemany("INSERT INTO file_names VALUES (?, ?)",
                       [(f"first-{n}.jpg", n) for n in range(3, 300)])  # fmt: skip
    info = store.import_file(path, name="k").info
    names = {e.values["md5"]: e.reference for e in store.iter_entries(info)}
    assert len(names) == 299
    assert names[MD5[0]] == "known0.jpg" and names[MD5[1]] == "known1.jpg"
    assert names[(3).to_bytes(16, "big").hex()] == "later-3.jpg"  # (inserted before first-3)
    assert names[(4).to_bytes(16, "big").hex()] == "first-4.jpg"


def test_hashdeep_comments_with_one_hash_sign(store: HashSetStore, tmp_path: Path) -> None:
    path = tmp_path / "hd.txt"
    path.write_text(f"%%%% HASHDEEP-1.0\n%%%% size,md5,filename\n## Invoked from: /x\n"
                    f"# a comment\n\n5,{MD5[0]},/x/a.jpg\n")  # fmt: skip
    info = store.import_file(path).info
    assert info.format == "hashdeep" and info.entries == 1


def test_an_encase_set_shorter_than_its_header_says(store: HashSetStore, tmp_path: Path) -> None:
    data = (DATA / "set.hash").read_bytes()
    cut = tmp_path / "cut.hash"
    cut.write_bytes(data[: len(data) - 18])  # (the last record gone, at a record's end)
    with pytest.raises(HashSetFormatError, match="counts 2 records, the file holds 1"):
        store.import_file(cut)
    result = store.import_file(cut, skip_invalid=True)
    assert result.info.entries == 1 and result.skipped == 1


def test_vics_that_is_not_utf8_is_named_in_words(store: HashSetStore, tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_bytes(
        f'{{"@odata.context": "{CONTEXT}", "value": [{{"MD5": "{MD5[0]}", "x": "'.encode()
        + b'\xff\xfe"}]}'
    )
    with pytest.raises(HashSetFormatError) as raised:
        store.import_file(path)
    message = str(raised.value)
    assert "invalid bytes in UTF8 string" in message and "in bytes 0-" in message
    assert "b'" not in message and "right here" not in message and "\n" not in message


def test_sqlite_sets_are_told_apart_by_their_tables(store: HashSetStore, tmp_path: Path) -> None:
    """Not by words in their data: a .kdb naming VERSION.DLL, PKGMGR.EXE and FILEMGMT.DLL
    was taken for an RDS; an RDS whose schema lay past the head was not recognised."""
    kdb = tmp_path / "windows.kdb"
    shutil.copyfile(DATA / "set.kdb", kdb)
    with sqlite3.connect(kdb) as db:
        db.executemany("INSERT INTO file_names VALUES (?, 1)",
                       [("VERSION.DLL",), ("PKGMGR.EXE",), ("FILEMGMT.DLL",)])  # fmt: skip
    assert store.import_file(kdb, name="k").info.format == "tsk-kdb"
    rds = tmp_path / "late-schema.db"
    shutil.copyfile(DATA / "rdsv3-minimal.db", rds)
    with sqlite3.connect(rds) as db:
        db.execute("CREATE TABLE padding (x BLOB)")
        db.executemany("INSERT INTO padding VALUES (?)", [(b"\0" * 4000,)] * 40)
        for n in range(60):  # (the schema grows past the first pages)
            db.execute(f"CREATE VIEW extra_view_{n}_{'x' * 200} AS SELECT * FROM padding")
    assert store.import_file(rds, name="r").info.format == "nsrl-rdsv3"


@pytest.mark.parametrize("stream", [False, True], ids=["bulk", "streaming"])
def test_vics_categories_are_whole_numbers_exactly_or_alerts(
    store: HashSetStore, tmp_path: Path, stream: bool
) -> None:
    """0.99999999999999999999 was read as 1 (CAM), 1e-400 and "\\u0660" (an Arabic-Indic
    zero) as 0 (non-pertinent: the file left out of the matches)."""
    written = {"1": "1", "2.0": "2.0", "1E0": "1E0", '"01"': '"01"', "0.99999999999999999999": 0,
               "1e-400": 0, '"\\u0660"': 0, '"0_1"': 0, '"-0"': 0, '" 3 "': '" 3 "'}  # fmt: skip
    media = ",".join(f'{{"MD5": "{n:032x}", "Category": {value}}}' for n, value in
                     enumerate(written))  # fmt: skip
    head = f'"@odata.context": "{CONTEXT}"'
    body = f'"value": [{media}]'
    path = tmp_path / "categories.json"  # (the data model named after value: streamed)
    path.write_text("{" + (f"{body}, {head}" if stream else f"{head}, {body}") + "}")
    info = store.import_file(path, name="c").info
    found = {e.values["md5"]: (e.category.value, e.label) for e in store.iter_entries(info)}
    by_value = {value: found[f"{n:032x}"] for n, value in enumerate(written)}
    assert by_value["1"] == ("known-bad", "VICS 1 (Child Abuse Material)")
    assert by_value["2.0"][1].startswith("VICS 2 (") and by_value["1E0"][1].startswith("VICS 1 (")
    assert by_value['"01"'][1].startswith("VICS 1 (")
    assert by_value['" 3 "'][1].startswith("VICS 3 (")
    for odd in ("0.99999999999999999999", "1e-400", '"\\u0660"', '"0_1"', '"-0"'):
        assert by_value[odd][0] == "alert" and by_value[odd][1].startswith('VICS category "'), odd


def test_vics_with_half_a_surrogate_pair_alone_is_imported(
    store: HashSetStore, tmp_path: Path
) -> None:
    """A second half alone (a Windows name can hold one) stopped the import: yajl wrote
    it as bytes that are not UTF-8. It is read as '?' (``vics_halves``)."""
    path = tmp_path / "surrogate.json"
    medium = f'{{"MD5": "{MD5[0]}", "MediaFiles": [{{"FileName": "a\\udc00x.jpg"}}]}}'
    path.write_text(f'{{"@odata.context": "{CONTEXT}", "value": [{medium}]}}')
    info = store.import_file(path).info
    assert store.record(info, 1) == medium  # as written
    assert [e.reference for e in store.iter_entries(info)] == ["a?x.jpg"]
