"""The spine's done criteria: a seized folder scanned end to end, every outcome checked."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from hashmatch.errors import CaseError, CaseExistsError, HashmatchError
from hashmatch.hashsets import Category, HashSetStore
from hashmatch.matching import Thresholds
from hashmatch.scan import ScanOptions, scan

from .conftest import interrupted
from .evidence import Evidence, build


@pytest.fixture(scope="module")
def evidence(tmp_path_factory: pytest.TempPathFactory) -> Evidence:
    return build(tmp_path_factory.mktemp("e2e"))


@pytest.fixture
def loaded(store: HashSetStore, evidence: Evidence) -> HashSetStore:
    store.import_file(evidence.known_md5, name="ref", category=Category.KNOWN_BAD)
    store.import_file(evidence.known_pdq, name="ref-pdq", format_name="pdq",
                      category=Category.KNOWN_BAD)  # fmt: skip
    store.import_file(evidence.known_good, name="good", category=Category.KNOWN_GOOD)
    return store


def run(store: HashSetStore, evidence: Evidence, case_dir: Path, **options: object) -> dict:
    scan(ScanOptions(sources=(evidence.root,), case_dir=case_dir, **options), store)
    return json.loads((case_dir / "report.json").read_text())


def test_finds_every_copy_and_variant_and_nothing_unrelated(
    loaded: HashSetStore, evidence: Evidence, tmp_path: Path
) -> None:
    report = run(loaded, evidence, tmp_path / "case", case_id="001", examiner="A. Smith", jobs=1)
    matches = {m["path"]: m for m in report["matches"]}

    for path in evidence.copies:
        hits = matches[path]["hits"]
        assert any(h["type"] == "exact" and h["algorithm"] == "md5" and h["hashset"] == "ref"
                   for h in hits), path  # fmt: skip
    for path in evidence.variants:
        assert path in matches, f"variant not found: {path}"
        near = [h for h in matches[path]["hits"] if h["type"] == "near"]
        assert near and all(h["distance"] <= h["threshold"] for h in near), path
    assert set(matches) == set(evidence.copies) | set(evidence.variants)

    summary = report["summary"]
    assert summary["files"] == evidence.file_count
    assert summary["matched_files"] == len(evidence.copies) + len(evidence.variants)
    assert summary["known_good"] == 1
    assert summary["skipped"] == 1
    error_paths = {e["path"] for e in report["errors"]}
    assert error_paths == set(evidence.broken)
    assert all(e["stage"] == "decode" for e in report["errors"])
    assert [s["path"] for s in report["skipped"]] == evidence.links
    for name in ("report.json", "report.html", "matches.csv", "case.sqlite"):
        assert (tmp_path / "case" / name).is_file()
    assert report["case"]["id"] == "001" and report["case"]["examiner"] == "A. Smith"
    assert {h["name"] for h in report["hashsets"]} == {"ref", "ref-pdq", "good"}
    assert all(m["thumbnail"] for m in report["matches"])


def test_broken_files_are_still_crypto_hashed(
    loaded: HashSetStore, evidence: Evidence, tmp_path: Path
) -> None:
    import sqlite3

    run(loaded, evidence, tmp_path / "case", jobs=1)
    db = sqlite3.connect(tmp_path / "case" / "case.sqlite")
    rows = db.execute(
        "SELECT path, count(file_hash.algorithm) FROM file LEFT JOIN file_hash ON file.id = "
        "file_hash.file_id WHERE path LIKE 'broken/%' GROUP BY path"
    ).fetchall()
    assert dict(rows) == dict.fromkeys(evidence.broken, 3)


def _without_times(report: dict) -> dict:
    report = json.loads(json.dumps(report))
    for key in ("started", "finished", "command"):
        report["case"].pop(key)
    for match in report["matches"]:
        match.pop("times")
    return report


def test_two_workers_give_the_same_report(
    loaded: HashSetStore, evidence: Evidence, tmp_path: Path
) -> None:
    one = run(loaded, evidence, tmp_path / "one", jobs=1, case_id="x")
    two = run(loaded, evidence, tmp_path / "two", jobs=2, case_id="x")
    assert _without_times(one) == _without_times(two)


def test_existing_case_is_not_overwritten(
    loaded: HashSetStore, evidence: Evidence, tmp_path: Path
) -> None:
    run(loaded, evidence, tmp_path / "case", jobs=1)
    before = (tmp_path / "case" / "report.json").read_bytes()
    with pytest.raises(CaseExistsError, match="--resume"):
        run(loaded, evidence, tmp_path / "case", jobs=1)
    assert (tmp_path / "case" / "report.json").read_bytes() == before
    run(loaded, evidence, tmp_path / "case", jobs=1, force=True)


def test_case_folder_inside_the_evidence_is_refused(
    loaded: HashSetStore, evidence: Evidence
) -> None:
    with pytest.raises(CaseError, match="inside the evidence"):
        run(loaded, evidence, evidence.root / "case", jobs=1)
    assert not (evidence.root / "case").exists()


def test_evidence_is_not_modified(loaded: HashSetStore, evidence: Evidence, tmp_path: Path) -> None:
    def snapshot() -> dict[str, tuple[int, int, bytes]]:
        out = {}
        for dirpath, _, files in os.walk(evidence.root):
            for name in files:
                path = Path(dirpath) / name
                st = path.lstat()
                content = b"" if path.is_symlink() else path.read_bytes()
                out[str(path)] = (st.st_mtime_ns, st.st_size, content)
        return out

    before = snapshot()
    run(loaded, evidence, tmp_path / "case", jobs=1)
    assert snapshot() == before


def test_scan_without_hash_sets_still_accounts_for_every_file(
    store: HashSetStore, evidence: Evidence, tmp_path: Path
) -> None:
    report = run(store, evidence, tmp_path / "case", jobs=1)
    assert report["matches"] == [] and report["summary"]["files"] == evidence.file_count


def test_resume_refuses_other_settings(loaded: HashSetStore, evidence: Evidence,
                                       tmp_path: Path) -> None:  # fmt: skip
    case = tmp_path / "case"
    scan(ScanOptions(sources=(evidence.root,), case_dir=case, jobs=1), loaded)
    interrupted(case)
    for changed in ({"algorithms": ("md5", "pdq")}, {"variants": False},
                    {"thresholds": Thresholds.with_overrides({"pdq": 20})}):  # fmt: skip
        options = ScanOptions(sources=(evidence.root,), case_dir=case, jobs=1, resume=True,
                              **changed)  # type: ignore[arg-type]  # fmt: skip
        with pytest.raises(CaseError, match="settings of the first run"):
            scan(options, loaded)
    scan(ScanOptions(sources=(evidence.root,), case_dir=case, jobs=1, resume=True), loaded)


def test_a_source_that_cannot_be_opened_leaves_no_case_behind(
    loaded: HashSetStore, evidence: Evidence, tmp_path: Path
) -> None:
    damaged = tmp_path / "seized.E01"
    damaged.write_bytes(b"EVF\x09\x0d\x0a\xff\x00" + bytes(200))
    case_dir = tmp_path / "case"
    options = ScanOptions(sources=(evidence.root, damaged), case_dir=case_dir)
    with pytest.raises(HashmatchError, match=r"seized\.E01"):
        scan(options, loaded)
    assert not case_dir.exists()
    # A finished case is not replaced by a --force run whose source is damaged.
    run(loaded, evidence, case_dir)
    before = (case_dir / "report.json").read_bytes()
    with pytest.raises(HashmatchError, match=r"seized\.E01"):
        scan(ScanOptions(sources=(damaged,), case_dir=case_dir, force=True), loaded)
    assert (case_dir / "report.json").read_bytes() == before
