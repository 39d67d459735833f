"""Files and folders the examiner's account cannot read are reported, and the scan goes on.

Permissions do not stop root, so under root the scan runs in a forked child that has
dropped to the unprivileged user ``nobody``; otherwise it runs in this process.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
import traceback
from collections.abc import Iterator
from pathlib import Path

import pytest

from hashmatch.hashsets import HashSetStore
from hashmatch.report.provenance import tool_info
from hashmatch.scan import ScanOptions, scan

from .conftest import GOLDEN

NOBODY = 65534


@pytest.fixture
def shared_dir() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="hashmatch-perm-"))
    path.chmod(0o777)
    try:
        yield path
    finally:
        for dirpath, dirnames, _ in os.walk(path):
            for name in dirnames:
                Path(dirpath, name).chmod(0o755)
        shutil.rmtree(path)


def _scan(base: Path) -> None:
    with HashSetStore(base / "store") as store:
        scan(ScanOptions((base / "evidence",), base / "case", jobs=1), store)


def _scan_as_nobody(base: Path) -> None:
    tool_info()  # read package metadata while still allowed to
    pid = os.fork()
    if pid == 0:  # child: drop privileges for good, scan, report through the exit status
        status = 1
        try:
            os.setgroups([])
            os.setgid(NOBODY)
            os.setuid(NOBODY)
            _scan(base)
            status = 0
        except BaseException:
            traceback.print_exc(file=sys.stderr)
        finally:
            os._exit(status)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0, "the scan as nobody failed (see stderr)"


def test_unreadable_file_and_folder(shared_dir: Path) -> None:
    evidence = shared_dir / "evidence"
    evidence.mkdir()
    evidence.chmod(0o755)
    (evidence / "ok.jpg").write_bytes((GOLDEN / "scene.jpg").read_bytes())
    (evidence / "ok.jpg").chmod(0o644)
    secret = evidence / "secret.jpg"
    secret.write_bytes((GOLDEN / "scene.png").read_bytes())
    secret.chmod(0)
    locked = evidence / "locked"
    locked.mkdir()
    (locked / "inside.jpg").write_bytes(b"x")
    locked.chmod(0)

    if os.geteuid() == 0:
        _scan_as_nobody(shared_dir)
    else:
        _scan(shared_dir)

    report = json.loads((shared_dir / "case" / "report.json").read_text())
    errors = {(e["path"], e["stage"]) for e in report["errors"]}
    assert ("secret.jpg", "read") in errors
    assert ("locked", "walk") in errors
    assert report["summary"]["files"] == 2  # ok.jpg and secret.jpg (locked/ cannot be listed)
    assert report["summary"]["unreadable"] == 1 and report["summary"]["hashed"] == 1
