"""An exact hit on a set entry that records another file size than the file's: the same
hash for another size (a collision or a wrong entry) is reported, hit by hit and in a
list of its own, whatever the set's category; a case made before hits kept the entry's
size is rendered as it is, not migrated."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

from hashmatch.casedb.schema import HIT_KNOWN_SIZE
from hashmatch.cli import cli
from hashmatch.hashing import FileHashes, HashValue
from hashmatch.hashsets import Category, HashSetStore
from hashmatch.matching import Matcher, Thresholds
from hashmatch.scan import ScanOptions, scan

from .test_exports import CONTEXT_US

#: The evidence: file name → bytes.
FILES = {
    "same.bin": b"the known file, as the set records it",
    "other.bin": b"a file whose hash the set lists with another size",
    "good.bin": b"a known-good file the set lists with another size",
    "vics.bin": b"a file a VICS medium lists with another MediaSize",
    "plain.bin": b"a file an md5sum list names, which records no size",
}


def md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


def hashdeep(path: Path, rows: list[tuple[int, bytes, str]]) -> Path:
    lines = [f"{size},{md5(data)},{name}" for size, data, name in rows]
    path.write_text("%%%% HASHDEEP-1.0\n%%%% size,md5,filename\n## x\n" + "\n".join(lines) + "\n")
    return path


@pytest.fixture
def evidence(tmp_path: Path) -> Path:
    root = tmp_path / "evidence"
    root.mkdir()
    for name, data in FILES.items():
        (root / name).write_bytes(data)
    return root


@pytest.fixture
def sets(tmp_path: Path) -> Path:
    """A store with a known-bad hashdeep set (one right size, one wrong), a known-good
    one (wrong), a VICS set (wrong MediaSize) and an md5sum list (no sizes)."""
    bad = hashdeep(tmp_path / "bad.txt", [
        (len(FILES["same.bin"]), FILES["same.bin"], "same.bin"),
        (len(FILES["other.bin"]) + 1, FILES["other.bin"], "other.bin"),
    ])  # fmt: skip
    good = hashdeep(tmp_path / "good.txt", [(3, FILES["good.bin"], "setup.dll")])
    media = [{"MD5": md5(FILES["vics.bin"]), "Category": 1, "MediaSize": "7",
              "MediaFiles": [{"FileName": "v.jpg"}]}]  # fmt: skip
    vics = tmp_path / "v.json"
    vics.write_text(json.dumps({"@odata.context": CONTEXT_US, "value": media}))
    plain = tmp_path / "plain.md5"
    plain.write_text(f"{md5(FILES['plain.bin'])}  plain.bin\n")
    store = tmp_path / "store"
    with HashSetStore(store) as opened:
        opened.import_file(bad, name="bad", category=Category.KNOWN_BAD)
        opened.import_file(good, name="good", category=Category.KNOWN_GOOD)
        opened.import_file(vics, name="vics")
        opened.import_file(plain, name="plain", category=Category.KNOWN_BAD)
    return store


def scanned(sets: Path, evidence: Path, case: Path) -> dict:
    with HashSetStore(sets) as store:
        scan(ScanOptions(sources=(evidence,), case_dir=case, jobs=1), store)
    return json.loads((case / "report.json").read_text())


def test_the_store_gives_each_hit_the_size_its_entry_records(sets: Path) -> None:
    with HashSetStore(sets) as store:
        matcher = Matcher(store, store.list_sets(), Thresholds.with_overrides())
        batch = [FileHashes(len(data), (HashValue("md5", md5(data)),)) for data in FILES.values()]
        verdicts = matcher.match(batch)
    known = {name: [h.known_size for h in v.hits] for name, v in zip(FILES, verdicts, strict=True)}
    assert known == {
        "same.bin": [len(FILES["same.bin"])],
        "other.bin": [len(FILES["other.bin"]) + 1],
        "good.bin": [3],
        "vics.bin": [7],  # (its record's MediaSize)
        "plain.bin": [None],
    }


def test_a_hit_of_another_size_is_flagged_and_listed(
    sets: Path, evidence: Path, tmp_path: Path
) -> None:
    report = scanned(sets, evidence, tmp_path / "case")
    hits = {m["path"]: m["hits"] for m in report["matches"]}
    assert set(hits) == {"same.bin", "other.bin", "vics.bin", "plain.bin"}
    flags = {path: [(h["known_size"], h["size_mismatch"]) for h in found]
             for path, found in hits.items()}  # fmt: skip
    assert flags == {
        "same.bin": [(len(FILES["same.bin"]), False)],
        "other.bin": [(len(FILES["other.bin"]) + 1, True)],
        "vics.bin": [(7, True)],
        "plain.bin": [(None, False)],
    }
    # The known-good hit still makes good.bin known-good, and is listed with the others.
    assert report["summary"]["known_good"] == 1
    assert report["summary"]["size_mismatches"] == 3
    listed = [(m["path"], m["size"], m["known_size"], m["hashset"], m["category"])
              for m in report["size_mismatches"]]  # fmt: skip
    assert listed == [
        ("good.bin", len(FILES["good.bin"]), 3, "good", "known-good"),
        ("other.bin", len(FILES["other.bin"]), len(FILES["other.bin"]) + 1, "bad", "known-bad"),
        ("vics.bin", len(FILES["vics.bin"]), 7, "vics", "known-bad"),
    ]

    rows = list(csv.DictReader(io.StringIO((tmp_path / "case" / "matches.csv").read_text())))
    assert {r["path"]: (r["known_size"], r["size_mismatch"]) for r in rows} == {
        "same.bin": (str(len(FILES["same.bin"])), "no"),
        "other.bin": (str(len(FILES["other.bin"]) + 1), "yes"),
        "vics.bin": ("7", "yes"),
        "plain.bin": ("", "no"),
    }
    html = (tmp_path / "case" / "report.html").read_text()
    assert html.count("Size differs: the set records") == 2
    assert "Same hash, another size (3)" in html


def test_a_case_made_before_is_rendered_as_it_is(
    sets: Path, evidence: Path, tmp_path: Path
) -> None:
    """A case whose hits have no known_size (made by an earlier hashmatch): ``report``
    reads it without migrating it, so its database, which the manifest covers, is left
    byte for byte as it was."""
    case = tmp_path / "case"
    scanned(sets, evidence, case)
    database = case / "case.sqlite"
    with sqlite3.connect(database) as db:
        db.execute("ALTER TABLE hit DROP COLUMN known_size")
        db.execute("DELETE FROM migration WHERE name = ?", (HIT_KNOWN_SIZE,))
    db.close()
    before = database.read_bytes()
    result = CliRunner().invoke(cli, ["report", str(case), "--format", "json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert {m["path"] for m in report["matches"]} == {"same.bin", "other.bin", "vics.bin",
                                                      "plain.bin"}  # fmt: skip
    assert all(h["known_size"] is None and h["size_mismatch"] is False
               for m in report["matches"] for h in m["hits"])  # fmt: skip
    assert report["summary"]["size_mismatches"] == 0 and report["size_mismatches"] == []
    assert database.read_bytes() == before


def test_resuming_a_case_made_before_brings_it_up_to_date(
    sets: Path, evidence: Path, tmp_path: Path
) -> None:
    """``--resume`` migrates: the hits it adds keep their entry's size, the earlier ones
    read as null."""
    case = tmp_path / "case"
    scanned(sets, evidence, case)
    with sqlite3.connect(case / "case.sqlite") as db:
        db.execute("ALTER TABLE hit DROP COLUMN known_size")
        db.execute("DELETE FROM migration WHERE name = ?", (HIT_KNOWN_SIZE,))
    db.close()
    (evidence / "other-copy.bin").write_bytes(FILES["other.bin"])
    with HashSetStore(sets) as store:
        scan(ScanOptions(sources=(evidence,), case_dir=case, jobs=1, resume=True), store)
    report = json.loads((case / "report.json").read_text())
    flags = {m["path"]: [(h["known_size"], h["size_mismatch"]) for h in m["hits"]]
             for m in report["matches"]}  # fmt: skip
    assert flags["other-copy.bin"] == [(len(FILES["other.bin"]) + 1, True)]
    assert flags["other.bin"] == [(None, False)]
    assert [m["path"] for m in report["size_mismatches"]] == ["other-copy.bin"]
