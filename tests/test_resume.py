"""Crash safety: a scan killed with SIGKILL at any point, then resumed, gives the same report.

The scan runs as a real ``hashmatch scan`` process (with its worker processes) in its own
process group; the whole group is killed with SIGKILL once the case database holds a
chosen number of files, which is as abrupt as a power cut for everything but the disk.
"""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from .evidence import Evidence, build

FILLER = 3000
SEED = int(os.environ.get("HASHMATCH_TEST_SEED", "20261122"))


@pytest.fixture(scope="module")
def evidence(tmp_path_factory: pytest.TempPathFactory) -> Evidence:
    evidence = build(tmp_path_factory.mktemp("resume"))
    filler = evidence.root / "filler"
    for n in range(FILLER):
        folder = filler / f"{n // 100:02d}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"note-{n:05d}.txt").write_text(f"document number {n}\n" * (1 + n % 7))
    return evidence


def cli(store: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "hashmatch", "--store", str(store), *args]


@pytest.fixture(scope="module")
def store(evidence: Evidence, tmp_path_factory: pytest.TempPathFactory) -> Path:
    store = tmp_path_factory.mktemp("store")
    for path, name, extra in (
        (evidence.known_md5, "ref", ()),
        (evidence.known_pdq, "ref-pdq", ("--format", "pdq")),
        (evidence.known_good, "good", ("--category", "known-good")),
    ):
        category = () if extra[:1] == ("--category",) else ("--category", "known-bad")
        args = ("hashset", "import", str(path), "--name", name, *category, *extra, "-q")
        subprocess.run(cli(store, *args), check=True)
    return store


def scan_args(evidence: Evidence, case: Path) -> list[str]:
    return ["scan", str(evidence.root), "-o", str(case), "--case-id", "R-1", "--jobs", "2", "-q"]


def stable(case: Path) -> dict[str, object]:
    """report.json without what legitimately differs between runs (times, command)."""
    report = json.loads((case / "report.json").read_text())
    for key in ("started", "finished", "command", "resumed"):
        report["case"].pop(key, None)
    return report


@pytest.fixture(scope="module")
def uninterrupted(evidence: Evidence, store: Path, tmp_path_factory: pytest.TempPathFactory):
    case = tmp_path_factory.mktemp("whole") / "case"
    subprocess.run(cli(store, *scan_args(evidence, case)), check=True)
    return stable(case)


def files_recorded(database: Path) -> int:
    try:
        with sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=0.1) as db:
            return int(db.execute("SELECT count(*) FROM file").fetchone()[0])
    except sqlite3.Error:
        return 0  # not created yet, or its tables not yet


def kill_when(command: list[str], database: Path, files: int) -> int:
    """Run ``command``; SIGKILL its process group once ``files`` rows are committed."""
    process = subprocess.Popen(command, start_new_session=True)
    try:
        while process.poll() is None:
            if database.exists() and files_recorded(database) >= files:
                os.killpg(process.pid, signal.SIGKILL)
                break
            time.sleep(0.005)
        return process.wait(timeout=60)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)


KILL_POINTS = [0, *sorted(random.Random(SEED).sample(range(1, FILLER), 2))]


@pytest.mark.slow
@pytest.mark.parametrize("files", KILL_POINTS, ids=[f"after-{n}-files" for n in KILL_POINTS])
def test_killed_scan_resumes_to_the_uninterrupted_report(
    files: int, evidence: Evidence, store: Path, uninterrupted: dict[str, object], tmp_path: Path
) -> None:
    case = tmp_path / "case"
    status = kill_when(cli(store, *scan_args(evidence, case)), case / "case.sqlite", files)
    assert status == -signal.SIGKILL, f"scan finished before the kill (seed {SEED})"
    assert not (case / "report.json").exists()

    refused = subprocess.run(cli(store, *scan_args(evidence, case)), capture_output=True, text=True)
    assert refused.returncode == 4
    assert "--resume" in refused.stderr

    subprocess.run(cli(store, *scan_args(evidence, case), "--resume"), check=True)
    resumed = stable(case)
    assert resumed == uninterrupted
    assert resumed["summary"]["files"] == evidence.file_count + FILLER
    with sqlite3.connect(case / "case.sqlite") as db:
        keys = db.execute("SELECT count(*), count(DISTINCT source_id || key) FROM file").fetchone()
    assert keys[0] == keys[1] == evidence.file_count + FILLER


def test_resumed_case_says_it_was_resumed(evidence: Evidence, store: Path, tmp_path: Path) -> None:
    case = tmp_path / "case"
    kill_when(cli(store, *scan_args(evidence, case)), case / "case.sqlite", 300)
    subprocess.run(cli(store, *scan_args(evidence, case), "--resume"), check=True)
    report = json.loads((case / "report.json").read_text())
    assert len(report["case"]["resumed"]) == 1
    assert report["case"]["resumed"][0].endswith("Z")
