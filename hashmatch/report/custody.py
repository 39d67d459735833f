"""Chain of custody for a case folder: the manifest of its outputs, its check, the audit log.

``manifest.json`` lists the SHA-256 of every file the scan wrote (the case database and
the reports), written after the database is closed; ``manifest.sha256`` holds the same
in ``sha256sum`` format so that anyone can check it with standard tools
(``sha256sum -c manifest.sha256`` in the case folder). ``verify_case`` re-checks every
file, the database's integrity, and that each report (JSON, CSV, HTML) is what the
database renders.
``audit.log`` is append-only JSON lines, one per hashmatch command run on the case; it
changes with every command and is therefore not in the manifest.
"""

from __future__ import annotations

import json
import os
import sqlite3
from contextlib import closing
from dataclasses import asdict, dataclass
from pathlib import Path

from hashmatch import __version__
from hashmatch.casedb.database import CaseDatabase
from hashmatch.casedb.reader import read_report
from hashmatch.casedb.schema import CASE_DB
from hashmatch.dbutil import connect_read_only
from hashmatch.errors import CaseError, HashmatchError, VerificationError
from hashmatch.hashsets.digest import file_sha256
from hashmatch.report.outputs import OUTPUT_FILES, RENDERERS, write_text
from hashmatch.timeutil import utc_now

MANIFEST = "manifest.json"
MANIFEST_SUMS = "manifest.sha256"
AUDIT_LOG = "audit.log"
COVERED = (CASE_DB, *OUTPUT_FILES)


def write_manifest(case_dir: Path) -> Path:
    """Record the SHA-256 and size of every output now in ``case_dir``."""
    files = []
    for name in COVERED:
        if (case_dir / name).is_file():
            digest, size = file_sha256(case_dir / name)
            files.append({"name": name, "size": size, "sha256": digest})
    document = {"manifest_version": 1, "written": utc_now(), "hashmatch": __version__,
                "algorithm": "sha256", "files": files}  # fmt: skip
    write_text(case_dir / MANIFEST, json.dumps(document, indent=2) + "\n")
    sums = "".join(f"{f['sha256']}  {f['name']}\n" for f in files)
    write_text(case_dir / MANIFEST_SUMS, sums)
    return case_dir / MANIFEST


@dataclass(frozen=True)
class Check:
    subject: str
    ok: bool
    detail: str


def verify_case(case_dir: Path) -> tuple[Check, ...]:
    """Every check made; raises ``VerificationError`` (listing the failures) if one failed."""
    manifest = case_dir / MANIFEST
    try:
        document = json.loads(manifest.read_text(encoding="utf-8"))
        listed = {str(f["name"]): str(f["sha256"]) for f in document["files"]}
    except FileNotFoundError as exc:
        raise VerificationError(f"{manifest} is missing: the case was not completed, or "
                                "the manifest was removed") from exc  # fmt: skip
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise VerificationError(f"{manifest} cannot be read: {exc}") from exc
    checks = [_check_file(case_dir, name, expected) for name, expected in sorted(listed.items())]
    checks += [Check(n, False, "missing from the manifest") for n in COVERED
               if n not in listed and (case_dir / n).exists()]  # fmt: skip
    checks.append(_check_sums(case_dir, listed))
    wal = case_dir / f"{CASE_DB}-wal"
    if wal.exists() and wal.stat().st_size > 0:
        checks.append(Check(wal.name, False, "the case database has unwritten changes: it was "
                                             "modified after the scan"))  # fmt: skip
    if CASE_DB in listed and (case_dir / CASE_DB).is_file():
        checks.extend(_check_database(case_dir))
    failed = [c for c in checks if not c.ok]
    if failed:
        raise VerificationError("; ".join(f"{c.subject}: {c.detail}" for c in failed),
                                checks=tuple(checks))  # fmt: skip
    return tuple(checks)


def _check_file(case_dir: Path, name: str, expected: str) -> Check:
    path = case_dir / name
    if not path.is_file():
        return Check(name, False, "listed in the manifest but missing")
    found, _ = file_sha256(path)
    if found != expected:
        return Check(name, False, f"SHA-256 {found} differs from the manifest's {expected}")
    return Check(name, True, f"SHA-256 {found}")


def _check_sums(case_dir: Path, listed: dict[str, str]) -> Check:
    try:
        lines = (case_dir / MANIFEST_SUMS).read_text(encoding="utf-8").splitlines()
    except OSError:
        return Check(MANIFEST_SUMS, False, "missing")
    sums = {}
    for line in lines:
        digest, _, name = line.partition("  ")
        sums[name] = digest
    if sums != listed:
        return Check(MANIFEST_SUMS, False, "does not agree with manifest.json")
    return Check(MANIFEST_SUMS, True, "agrees with manifest.json")


def _check_database(case_dir: Path) -> list[Check]:
    try:
        with closing(connect_read_only(case_dir / CASE_DB)) as db:
            (result,) = db.execute("PRAGMA integrity_check").fetchone()
            if result != "ok":
                return [Check(CASE_DB, False, f"SQLite integrity check: {result}")]
            report = read_report(CaseDatabase(db, case_dir / CASE_DB))
    except (sqlite3.Error, HashmatchError) as exc:
        return [Check(CASE_DB, False, f"cannot be read: {exc}")]
    checks = [Check(CASE_DB, True, "SQLite integrity check passed")]
    # The version is the case database's, never an output's own say: an output forged
    # with its version removed or changed would otherwise escape being rendered again.
    made_by = report.tool.version
    for name, renderer in RENDERERS.values():
        path = case_dir / name
        if name not in OUTPUT_FILES or not path.is_file():
            continue
        if made_by != __version__:
            why = f"not re-rendered: hashmatch {made_by} made the case, this is {__version__}"
            checks.append(Check(name, True, why))
        elif path.read_bytes() != renderer(report).encode("utf-8"):
            checks.append(Check(name, False, "differs from what the case database renders"))
        else:
            checks.append(Check(name, True, "equals what the case database renders"))
    return checks


@dataclass(frozen=True)
class AuditEntry:
    time: str
    user: str
    host: str
    hashmatch: str
    command: tuple[str, ...]
    exit_status: int


def append_audit(case_dir: Path, entry: AuditEntry) -> None:
    """Append one line to the case's audit log (created on first use)."""
    line = json.dumps(asdict(entry), ensure_ascii=False) + "\n"
    try:
        fd = os.open(case_dir / AUDIT_LOG, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        with os.fdopen(fd, "a", encoding="utf-8") as log:
            log.write(line)
    except OSError as exc:
        raise CaseError(f"cannot write {case_dir / AUDIT_LOG}: {exc.strerror or exc}") from exc
