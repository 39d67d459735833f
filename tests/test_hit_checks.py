"""An exact hit on a set entry that disagrees with the file: the entry records another
file size, or another value of one of the file's other hashes (the MD5 is the entry's,
the SHA-1 is not). The same hash for another file, a collision or a wrong entry, is
reported hit by hit and in a list of its own, whatever the set's category; a case made
before hits kept these checks is rendered as it is, not migrated."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

from hashmatch.casedb import CaseDatabase
from hashmatch.casedb.schema import HIT_CHECKS
from hashmatch.cli import cli
from hashmatch.errors import CaseError, StoreError
from hashmatch.hashing import FileHashes, HashValue
from hashmatch.hashsets import Category, HashSetStore
from hashmatch.hashsets.formats.hashdeep import Hashdeep
from hashmatch.hashsets.store import packed_dir
from hashmatch.matching import Matcher, Thresholds
from hashmatch.report.vics_report import DISAGREEING_ONLY, DISAGREEING_SOME
from hashmatch.scan import ScanOptions, scan

from .conftest import interrupted
from .test_exports import CONTEXT_US

#: The evidence: file name → bytes.
FILES = {
    "same.bin": b"the known file, as the set records it",
    "other.bin": b"a file whose hash the set lists with another size",
    "good.bin": b"a known-good file the set lists with another size",
    "vics.bin": b"a file a VICS medium lists with another MediaSize",
    "plain.bin": b"a file an md5sum list names, which records no size",
    "sha1.bin": b"a file whose MD5 a set lists with another SHA-1",
    "vics-sha1.bin": b"a file whose MD5 a VICS medium lists with another SHA1",
    "no-sha1.bin": b"a file whose MD5 a VICS medium lists without a SHA1",
}


def md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


def sha1(data: bytes) -> str:
    return hashlib.sha1(data).hexdigest()


def hashdeep(path: Path, rows: list[tuple[int, bytes, str]]) -> Path:
    """A hashdeep file of size, md5 and sha1; a row's SHA-1 is another file's where its
    name starts with ``!``."""
    lines = [
        f"{size},{md5(data)},{sha1(b'another file' if name[0] == '!' else data)},{name}"
        for size, data, name in rows
    ]
    path.write_text(
        "%%%% HASHDEEP-1.0\n%%%% size,md5,sha1,filename\n## x\n" + "\n".join(lines) + "\n"
    )
    return path


def medium(data: bytes, **fields: object) -> dict[str, object]:
    return {"MD5": md5(data), "Category": 1, "MediaFiles": [{"FileName": "v.jpg"}], **fields}


@pytest.fixture
def evidence(tmp_path: Path) -> Path:
    root = tmp_path / "evidence"
    root.mkdir()
    for name, data in FILES.items():
        (root / name).write_bytes(data)
    return root


@pytest.fixture
def sets(tmp_path: Path) -> Path:
    """A store with a known-bad hashdeep set (right; another size; another SHA-1), a
    known-good one (another size), a VICS set (another MediaSize; another SHA1; no SHA1)
    and an md5sum list (nothing to compare)."""
    bad = hashdeep(tmp_path / "bad.txt", [
        (len(FILES["same.bin"]), FILES["same.bin"], "same.bin"),
        (len(FILES["other.bin"]) + 1, FILES["other.bin"], "other.bin"),
        (len(FILES["sha1.bin"]), FILES["sha1.bin"], "!sha1.bin"),
    ])  # fmt: skip
    good = hashdeep(tmp_path / "good.txt", [(3, FILES["good.bin"], "setup.dll")])
    media = [
        medium(FILES["vics.bin"], MediaSize="7", SHA1=sha1(FILES["vics.bin"])),
        medium(FILES["vics-sha1.bin"], SHA1=sha1(b"another file").upper()),
        medium(FILES["no-sha1.bin"]),
    ]
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


def checks(store: HashSetStore, data: bytes) -> list[tuple[str, int | None, tuple[str, ...]]]:
    """(algorithm, known size, hash mismatch) of each exact hit of a file of ``data``."""
    matcher = Matcher(store, store.list_sets(), Thresholds.with_overrides())
    hashes = (HashValue("md5", md5(data)), HashValue("sha1", sha1(data)))
    (verdict,) = matcher.match([FileHashes(len(data), hashes)])
    return [(h.algorithm, h.known_size, h.hash_mismatch) for h in verdict.hits]


def test_each_hit_gets_its_entrys_size_and_the_hashes_it_disagrees_on(sets: Path) -> None:
    with HashSetStore(sets) as store:
        found = {name: checks(store, data) for name, data in FILES.items()}
    assert found == {
        # Found by both of its hashes: the entry agrees.
        "same.bin": [("md5", len(FILES["same.bin"]), ()), ("sha1", len(FILES["same.bin"]), ())],
        "other.bin": [("md5", len(FILES["other.bin"]) + 1, ()),
                      ("sha1", len(FILES["other.bin"]) + 1, ())],
        "good.bin": [("md5", 3, ()), ("sha1", 3, ())],
        "vics.bin": [("md5", 7, ()), ("sha1", 7, ())],  # (its record's MediaSize)
        "plain.bin": [("md5", None, ())],
        # Found by its MD5 alone: the entry has a SHA-1, another.
        "sha1.bin": [("md5", len(FILES["sha1.bin"]), ("sha1",))],
        "vics-sha1.bin": [("md5", None, ("sha1",))],
        # Found by its MD5 alone, and the medium has no SHA1: nothing to disagree on.
        "no-sha1.bin": [("md5", None, ())],
    }  # fmt: skip


@pytest.mark.parametrize("packs", [True, False], ids=["packed", "rows"])
def test_a_set_that_did_not_record_what_its_entries_hold_checks_sizes_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, packs: bool
) -> None:
    """A packed set imported before ``holds`` was kept (its file removed here), or a
    row set: no entry is said to disagree on a hash it may not have."""
    monkeypatch.setattr(Hashdeep, "packs", lambda self: packs)
    data = FILES["sha1.bin"]
    source = hashdeep(tmp_path / "bad.txt", [(len(data) + 1, data, "!sha1.bin")])
    with HashSetStore(tmp_path / "store") as store:
        info = store.import_file(source, name="bad").info
        holds = packed_dir(tmp_path / "store", info.id) / "holds"
        assert holds.is_file() is packs
        holds.unlink(missing_ok=True)
    with HashSetStore(tmp_path / "store") as store:
        assert checks(store, data) == [("md5", len(data) + 1, ())]


#: A medium and the same medium saved again: its alternative MD5 and SHA-256.
FIRST, AGAIN = b"a medium as first found", b"the same medium, saved again"


def alternative_medium(tmp_path: Path) -> Path:
    """A VICS set of one medium with two MD5s: its own (with SHA1 and MediaSize of the
    first file) and an alternative one, with the SHA-256 of the second file."""
    alternatives = [
        {"HashName": "MD5", "HashValue": md5(AGAIN)},
        {"HashName": "SHA256", "HashValue": hashlib.sha256(AGAIN).hexdigest()},
    ]
    media = [medium(FIRST, SHA1=sha1(FIRST), MediaSize=len(FIRST),
                    AlternativeHashes=alternatives)]  # fmt: skip
    source = tmp_path / "v.json"
    source.write_text(json.dumps({"@odata.context": CONTEXT_US, "value": media}))
    return source


def full_checks(store: HashSetStore, data: bytes) -> list[tuple[str, int | None, bool, tuple]]:
    """(algorithm, known size, size mismatch, hash mismatch) of each exact hit of a file
    of ``data`` hashed by MD5, SHA-1 and SHA-256."""
    matcher = Matcher(store, store.list_sets(), Thresholds.with_overrides())
    hashes = tuple(HashValue(a, hashlib.new(a, data).hexdigest())
                   for a in ("md5", "sha1", "sha256"))  # fmt: skip
    (verdict,) = matcher.match([FileHashes(len(data), hashes)])
    return [(h.algorithm, h.known_size, h.size_mismatch, h.hash_mismatch) for h in verdict.hits]


@pytest.mark.parametrize("holds", [True, False], ids=["holds", "imported-before-holds"])
def test_an_entry_of_two_files_is_not_compared(tmp_path: Path, holds: bool) -> None:
    """A medium with an alternative MD5 of its own describes two files: neither is
    flagged, neither by its size (which is the first file's) nor by the SHA-1 or SHA-256
    (each one file's), whether the set says so (``holds``) or its record does (a set
    imported before ``holds`` was kept)."""
    with HashSetStore(tmp_path / "store") as store:
        info = store.import_file(alternative_medium(tmp_path), name="v").info
        path = packed_dir(tmp_path / "store", info.id) / "holds"
        assert path.read_bytes() == bytes([0x80 | 0b111])  # MD5, SHA-1, SHA-256, several
        if not holds:
            path.unlink()
    with HashSetStore(tmp_path / "store") as store:
        assert full_checks(store, FIRST) == [("md5", None, False, ()), ("sha1", None, False, ())]
        assert full_checks(store, AGAIN) == [("md5", None, False, ()),
                                             ("sha256", None, False, ())]  # fmt: skip


def test_a_holds_file_cut_short_is_damage(sets: Path) -> None:
    with HashSetStore(sets) as store:
        info = store.get("bad")
    os.truncate(packed_dir(sets, info.id) / "holds", 2)
    with (
        HashSetStore(sets) as store,
        pytest.raises(StoreError, match="holds does not hold one item for each of 3 entries"),
    ):
        store.lookup(info, "md5", [bytes.fromhex(md5(FILES["same.bin"]))])


def scanned(sets: Path, evidence: Path, case: Path) -> dict:
    with HashSetStore(sets) as store:
        scan(ScanOptions(sources=(evidence,), case_dir=case, jobs=1), store)
    return json.loads((case / "report.json").read_text())


def test_a_disagreeing_hit_is_flagged_and_listed(
    sets: Path, evidence: Path, tmp_path: Path
) -> None:
    report = scanned(sets, evidence, tmp_path / "case")
    flags = {m["path"]: {(h["algorithm"], h["known_size"], h["size_mismatch"],
                          tuple(h["hash_mismatch"])) for h in m["hits"]}
             for m in report["matches"]}  # fmt: skip
    same, other, sha = (len(FILES[n]) for n in ("same.bin", "other.bin", "sha1.bin"))
    assert flags == {
        "same.bin": {("md5", same, False, ()), ("sha1", same, False, ())},
        "other.bin": {("md5", other + 1, True, ()), ("sha1", other + 1, True, ())},
        "vics.bin": {("md5", 7, True, ()), ("sha1", 7, True, ())},
        "plain.bin": {("md5", None, False, ())},
        "sha1.bin": {("md5", sha, False, ("sha1",))},
        "vics-sha1.bin": {("md5", None, False, ("sha1",))},
        "no-sha1.bin": {("md5", None, False, ())},
    }
    checked = {h["name"]: h["hash_checks"] for h in report["hashsets"]}
    assert checked == {"bad": True, "good": True, "vics": True, "plain": None}
    # The known-good hit still makes good.bin known-good, and is listed with the others.
    assert report["summary"]["known_good"] == 1
    assert report["summary"]["mismatched_files"] == 5
    listed = [(m["path"], m["algorithm"], m["hashset"], m["category"], m["known_size"],
               m["size_mismatch"], m["hash_mismatch"]) for m in report["mismatches"]]  # fmt: skip
    assert listed == [
        ("good.bin", "md5", "good", "known-good", 3, True, []),
        ("good.bin", "sha1", "good", "known-good", 3, True, []),
        ("other.bin", "md5", "bad", "known-bad", other + 1, True, []),
        ("other.bin", "sha1", "bad", "known-bad", other + 1, True, []),
        ("sha1.bin", "md5", "bad", "known-bad", sha, False, ["sha1"]),
        ("vics-sha1.bin", "md5", "vics", "known-bad", None, False, ["sha1"]),
        ("vics.bin", "md5", "vics", "known-bad", 7, True, []),
        ("vics.bin", "sha1", "vics", "known-bad", 7, True, []),
    ]

    rows = list(csv.DictReader(io.StringIO((tmp_path / "case" / "matches.csv").read_text())))
    cells = {(r["path"], r["algorithm"]): (r["known_size"], r["size_mismatch"],
                                           r["hash_mismatch"]) for r in rows}  # fmt: skip
    assert cells[("same.bin", "md5")] == (str(same), "no", "")
    assert cells[("other.bin", "md5")] == (str(other + 1), "yes", "")
    assert cells[("sha1.bin", "md5")] == (str(sha), "no", "sha1")
    assert cells[("plain.bin", "md5")] == ("", "no", "")
    html = (tmp_path / "case" / "report.html").read_text()
    assert html.count("Not the known file: the set records") == 6
    assert html.count("the set records another sha1 for it") == 2
    assert "Same hash, another file (8)" in html


def make_older(case: Path) -> None:
    """Make the case as an earlier hashmatch wrote it: hits without the checks."""
    with sqlite3.connect(case / "case.sqlite") as db:
        for column in ("known_size", "size_mismatch", "hash_mismatch"):
            db.execute(f"ALTER TABLE hit DROP COLUMN {column}")
        db.execute("DELETE FROM migration WHERE name = ?", (HIT_CHECKS,))
    db.close()


def test_a_case_made_before_is_rendered_as_it_is(
    sets: Path, evidence: Path, tmp_path: Path
) -> None:
    """``report`` reads a case made by an earlier hashmatch without migrating it, so its
    database, which the manifest covers, is left byte for byte as it was."""
    case = tmp_path / "case"
    scanned(sets, evidence, case)
    make_older(case)
    before = (case / "case.sqlite").read_bytes()
    result = CliRunner().invoke(cli, ["report", str(case), "--format", "json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert {m["path"] for m in report["matches"]} == set(FILES) - {"good.bin"}
    assert all(h["known_size"] is None and not h["size_mismatch"] and not h["hash_mismatch"]
               for m in report["matches"] for h in m["hits"])  # fmt: skip
    assert report["summary"]["mismatched_files"] == 0 and report["mismatches"] == []
    assert (case / "case.sqlite").read_bytes() == before


def test_resuming_a_case_made_before_brings_it_up_to_date(
    sets: Path, evidence: Path, tmp_path: Path
) -> None:
    """``--resume`` migrates: the hits it adds are checked, the earlier ones read as
    unchecked."""
    case = tmp_path / "case"
    scanned(sets, evidence, case)
    make_older(case)
    interrupted(case)
    (evidence / "other-copy.bin").write_bytes(FILES["other.bin"])
    (evidence / "sha1-copy.bin").write_bytes(FILES["sha1.bin"])
    with HashSetStore(sets) as store:
        scan(ScanOptions(sources=(evidence,), case_dir=case, jobs=1, resume=True), store)
    report = json.loads((case / "report.json").read_text())
    flags = {m["path"]: {(h["algorithm"], h["size_mismatch"], tuple(h["hash_mismatch"]))
                         for h in m["hits"]} for m in report["matches"]}  # fmt: skip
    assert flags["other-copy.bin"] == {("md5", True, ()), ("sha1", True, ())}
    assert flags["sha1-copy.bin"] == {("md5", False, ("sha1",))}
    assert flags["other.bin"] == {("md5", False, ()), ("sha1", False, ())}
    assert [m["path"] for m in report["mismatches"]] == ["other-copy.bin", "other-copy.bin",
                                                         "sha1-copy.bin"]  # fmt: skip


def test_a_refused_resume_leaves_a_case_made_before_as_it_was(
    sets: Path, evidence: Path, tmp_path: Path
) -> None:
    """The case is brought up to date only once its resume is accepted: refused (other
    algorithms), its database is left byte for byte as it was."""
    case = tmp_path / "case"
    scanned(sets, evidence, case)
    make_older(case)
    interrupted(case)
    before = (case / "case.sqlite").read_bytes()
    options = ScanOptions(sources=(evidence,), case_dir=case, jobs=1, resume=True,
                          algorithms=("md5",))  # fmt: skip
    with HashSetStore(sets) as store, pytest.raises(CaseError, match="algorithms"):
        scan(options, store)
    assert (case / "case.sqlite").read_bytes() == before


def exported_media(sets: Path, evidence: Path, case: Path) -> dict[str, dict]:
    """The evidence scanned, the case exported as VICS: its media by file name."""
    scanned(sets, evidence, case)
    result = CliRunner().invoke(cli, ["report", str(case), "--format", "vics"])
    assert result.exit_code == 0, result.output
    return {m["MediaFiles"][0]["FileName"]: m
            for m in json.loads(result.output)["value"][0]["Media"]}  # fmt: skip


def test_the_vics_export_does_not_categorise_a_medium_its_entry_disagrees_with(
    sets: Path, evidence: Path, tmp_path: Path
) -> None:
    """Exported as categorised, another tool would take a collision (or a wrong entry)
    for a known medium."""
    media = exported_media(sets, evidence, tmp_path / "case")
    assert media["vics.bin"].get("Category") is None  # its MediaSize is another
    assert media["vics.bin"]["Comments"] == DISAGREEING_ONLY
    assert media["vics-sha1.bin"].get("Category") is None  # its SHA1 is another
    assert media["no-sha1.bin"]["Category"] == 1 and "Comments" not in media["no-sha1.bin"]


def test_the_vics_export_says_which_entry_disagrees_when_another_agrees(
    sets: Path, evidence: Path, tmp_path: Path
) -> None:
    """An md5sum list records nothing to compare, so its hit agrees: the medium still
    gets no category from the VICS entry that disagrees, and its comment says why (it
    had neither)."""
    listed = tmp_path / "also.md5"
    listed.write_text(f"{md5(FILES['vics.bin'])}  vics.bin\n")
    with HashSetStore(sets) as store:
        store.import_file(listed, name="also", category=Category.KNOWN_BAD)
    media = exported_media(sets, evidence, tmp_path / "case")
    assert media["vics.bin"].get("Category") is None
    assert media["vics.bin"]["Comments"] == DISAGREEING_SOME.format(sets="vics")
    assert "Comments" not in media["same.bin"]


def test_show_says_whether_hits_are_checked_against_other_hashes(sets: Path) -> None:
    def shown(name: str, *more: str) -> str:
        result = CliRunner().invoke(cli, ["--store", str(sets), "hashset", "show", name, *more])
        assert result.exit_code == 0, result.output
        return result.output

    assert "hash checks: a hit's entry is checked against the file's other hashes" in shown("bad")
    assert "hash checks: none needed (one hash an entry)" in shown("plain")
    assert json.loads(shown("plain", "--json"))["hash_checks"] is None
    with HashSetStore(sets) as store:
        info = store.get("bad")
    (packed_dir(sets, info.id) / "holds").unlink()  # (as a set imported before 0.2.0)
    assert "hash checks: none: the set does not record which hashes each entry has" in shown("bad")
    assert "remove it and import it again" in shown("bad")
    assert json.loads(shown("bad", "--json"))["hash_checks"] is False


def test_a_size_of_zero_is_not_compared(tmp_path: Path) -> None:
    """Some exporters write a MediaSize of 0 for "not known": a file of other bytes is
    not flagged for it."""
    data = FILES["vics.bin"]
    source = tmp_path / "v.json"
    media = [medium(data, MediaSize=0)]
    source.write_text(json.dumps({"@odata.context": CONTEXT_US, "value": media}))
    with HashSetStore(tmp_path / "store") as store:
        store.import_file(source, name="v")
        assert full_checks(store, data) == [("md5", 0, False, ())]


def first_run(case: Path, **changes: object) -> None:
    """Change what the first run of a case recorded of itself."""
    with sqlite3.connect(case / "case.sqlite") as db:
        for key, value in changes.items():
            db.execute("UPDATE meta SET value = ? WHERE key = ?", (json.dumps(value), key))
    db.close()
    interrupted(case)


def test_a_resume_by_another_hashmatch_or_with_sets_checked_otherwise_is_refused(
    sets: Path, evidence: Path, tmp_path: Path
) -> None:
    """One report names one hashmatch, and its hits must all be checked alike."""
    case = tmp_path / "case"
    scanned(sets, evidence, case)
    with CaseDatabase.open(case) as opened:
        meta = opened.meta()
    older = {**meta["tool"], "version": "0.1.0"}
    first_run(case, tool=older)
    with (
        HashSetStore(sets) as store,
        pytest.raises(CaseError, match=r"hashmatch: first run 0\.1\.0"),
    ):
        scan(ScanOptions(sources=(evidence,), case_dir=case, jobs=1, resume=True), store)
    first_run(case, tool=meta["tool"], hash_checks={**meta["hash_checks"], "bad": False})
    with HashSetStore(sets) as store, pytest.raises(CaseError, match="hash checks: first run"):
        scan(ScanOptions(sources=(evidence,), case_dir=case, jobs=1, resume=True), store)


def test_the_scan_command_says_how_many_files_hit_an_entry_that_disagrees(
    sets: Path, evidence: Path, tmp_path: Path
) -> None:
    args = ["--store", str(sets), "scan", str(evidence), "-o", str(tmp_path / "case"), "-q"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert "same hash, another file: 5 (the report's mismatches" in result.stdout


def test_a_damaged_record_of_the_checks_reads_as_not_checked(
    sets: Path, evidence: Path, tmp_path: Path
) -> None:
    case = tmp_path / "case"
    scanned(sets, evidence, case)
    with sqlite3.connect(case / "case.sqlite") as db:
        db.execute("UPDATE meta SET value = ? WHERE key = 'hash_checks'",
                   (json.dumps({"bad": "yes", "vics": [1]}),))  # fmt: skip
    db.close()
    rendered = {}
    for fmt in ("json", "html"):
        result = CliRunner().invoke(cli, ["report", str(case), "--format", fmt])
        assert result.exit_code == 0, result.output
        rendered[fmt] = result.stdout
    hashsets = json.loads(rendered["json"])["hashsets"]
    checked = {h["name"]: h["hash_checks"] for h in hashsets}
    assert checked == {"bad": False, "good": False, "vics": False, "plain": False}
