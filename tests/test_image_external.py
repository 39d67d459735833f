"""Disk images made by other people, with published ground truth (../shared/testdata/external).

The expected values come from the images' own documentation (DFTT index.html MD5s) and the
README of the test-data folder; nothing here was computed by hashmatch first.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from hashmatch.hashsets import Category, HashSetStore
from hashmatch.scan import ScanOptions, scan
from hashmatch.sources import Item, SourceKind, WalkError, describe_source, open_source

from .conftest import external

# DFTT #8: every JPEG with its published MD5, path inside NTFS and allocation state.
DFTT8_JPEGS = {
    "alloc/file1.jpg": ("75b8d00568815a36c3809b46fc84ba6d", False),
    "alloc/file2.dat": ("de5d83153339931371719f4e5c924eba", False),
    "del1/file6.jpg": ("afd55222024a4e22f7f5a3a665320763", True),
    "del2/file7.hmm": ("0c452c5800fcfa7c66027ae89c4f068a", True),
    "misc/file13.dll:here": ("9b787e63e3b64562730c5aecaab1e1f8", False),
}


def walk_md5(path: Path) -> dict[str, tuple[str, bool]]:
    """path → (md5 of the bytes read through the source, deleted) for every readable item."""
    spec = describe_source(path, "S1")
    found = {}
    with open_source(spec) as source:
        for entry in source.walk():
            if isinstance(entry, Item) and entry.skip_reason is None:
                with source.open(entry) as stream:
                    found[entry.path] = (hashlib.md5(stream.read()).hexdigest(), entry.deleted)
    return found


def test_dftt8_every_jpeg_with_its_published_md5_including_deleted_and_ads() -> None:
    found = walk_md5(external("dftt", "8-jpeg-search", "8-jpeg-search.dd"))
    for path, expected in DFTT8_JPEGS.items():
        assert found[path] == expected, path
    assert not any(p.startswith("$") and not p.startswith("$OrphanFiles") for p in found)


def test_dftt8_scan_finds_every_jpeg_with_path_deleted_flag_and_identity(
    store: HashSetStore, tmp_path: Path
) -> None:
    image = external("dftt", "8-jpeg-search", "8-jpeg-search.dd")
    before = hashlib.sha256(image.read_bytes()).hexdigest()
    known = tmp_path / "dftt8.md5"
    known.write_text("".join(f"{md5}  {p}\n" for p, (md5, _) in DFTT8_JPEGS.items()))
    store.import_file(known, name="dftt8", category=Category.KNOWN_BAD)
    case = tmp_path / "case"
    scan(ScanOptions(sources=(image,), case_dir=case, jobs=2), store)
    report = json.loads((case / "report.json").read_text())
    matches = {m["path"]: m for m in report["matches"]}
    assert set(matches) == set(DFTT8_JPEGS)
    for path, (md5, deleted) in DFTT8_JPEGS.items():
        assert matches[path]["hashes"]["md5"] == md5
        assert matches[path]["deleted"] is deleted
        assert matches[path]["partition"]["fs_type"] == "ntfs"
        assert matches[path]["inode"] is not None
    assert matches["alloc/file1.jpg"]["inode"] == 29
    assert matches["alloc/file1.jpg"]["times"]["modified"].endswith("Z")
    assert report["sources"][0]["kind"] == "raw"
    decoys = {e["path"] for e in report["errors"] if e["stage"] == "decode"}
    assert decoys == {"invalid/file3.jpg", "invalid/file4.jpg"}
    # Read-only: the image is byte-identical after the scan.
    assert hashlib.sha256(image.read_bytes()).hexdigest() == before


def test_dftt6_fat_deleted_files() -> None:
    found = walk_md5(external("dftt", "6-undel-fat", "6-fat-undel.dd"))
    # index.html: sing1, mult1, mult2 are recoverable; every deleted name starts with '_'.
    assert found["_ing.dat"] == ("59b20779f69ff9f0ac5fcd2c38835a79", True)
    assert found["_ult1.dat"] == ("ffd27bd782bdce67750b6b9ee069d2ef", True)
    assert found["_ir1/mult2.dat"] == ("59cf0e9cd107bc1e75afb7374f6e05bb", True)
    # FAT keeps no fragment map: every tool gets these wrong, and the README lists the values.
    assert found["_rag1.dat"][0].startswith("c4f3b9a0")
    assert not any("Volume Label" in p for p in found)


def test_dftt7_ntfs_orphan_and_deleted_ads() -> None:
    found = walk_md5(external("dftt", "7-undel-ntfs", "7-ntfs-undel.dd"))
    assert "$OrphanFiles/sing2.dat" in found and found["$OrphanFiles/sing2.dat"][1]
    assert found["mult1.dat:ADS"][1] is True
    assert found["sing1.dat"] == ("59b20779f69ff9f0ac5fcd2c38835a79", True)


def test_e01_split_e01_and_raw_of_one_disk_give_identical_results() -> None:
    raw = external("plaso", "tsk_volume_system.raw")
    split = external("plaso", "image-split.E01")
    external("plaso", "image-split.E02")
    specs = [describe_source(raw, "S1"), describe_source(split, "S1")]
    assert [s.kind for s in specs] == [SourceKind.RAW, SourceKind.EWF]
    walks = []
    for spec in specs:
        with open_source(spec) as source:
            details = dict(source.info().details)
            walks.append([(e.key, e.path, e.size) for e in source.walk() if isinstance(e, Item)])
            assert "no recognisable file system" in details["partition 2"]  # the empty one
            assert details["partition 6"].endswith("ext2")
    assert walks[0] == walks[1]


def test_e01_acquisition_metadata_and_verification(tmp_path: Path, store: HashSetStore) -> None:
    image = external("plaso", "image.E01")
    case = tmp_path / "case"
    scan(ScanOptions(sources=(image,), case_dir=case, jobs=1, verify_image=True), store)
    source = json.loads((case / "report.json").read_text())["sources"][0]
    assert source["kind"] == "ewf" and source["size"] == 102400
    details = source["details"]
    assert details["case number"] == "PyVFS"
    assert details["stored md5"] == "d73c51f10c7ee6a681b7b619ccc6f1c4"
    assert details["computed md5"] == "d73c51f10c7ee6a681b7b619ccc6f1c4"
    assert details["verification"] == "verified: MD5 matches"


def test_e01_with_a_missing_segment_says_so(tmp_path: Path) -> None:
    lone = tmp_path / "lone.E01"
    lone.write_bytes(external("plaso", "image-split.E01").read_bytes())
    with open_source(describe_source(lone, "S1")) as source:
        errors = [e.message for e in source.walk() if isinstance(e, WalkError)]
        assert "a segment is missing or truncated" in dict(source.info().details)["integrity"]
    assert any("segment is missing or truncated" in m for m in errors)


@pytest.mark.parametrize("keep", [3000, 9000])
def test_truncated_e01_is_reported_not_raised(tmp_path: Path, keep: int) -> None:
    cut = tmp_path / "cut.E01"
    cut.write_bytes(external("dfvfs", "ext2.E01").read_bytes()[:keep])
    with open_source(describe_source(cut, "S1")) as source:
        errors = [e.message for e in source.walk() if isinstance(e, WalkError)]
    assert any("missing or truncated" in m or "no file system" in m for m in errors), errors
