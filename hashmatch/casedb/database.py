"""The case database: created once per case, written in batches, safe to stop at any time.

Every batch of files is one transaction, so a scan killed at any point leaves a
consistent database holding every file completed before the last commit; a resumed
scan asks ``done_keys`` which of the files it walks again it can skip. Writing is done
by one process only.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

from hashmatch.casedb.schema import CASE_DB, MIGRATIONS
from hashmatch.dbutil import connect, connect_read_only, migrate, pending, transaction
from hashmatch.errors import CaseError
from hashmatch.hashing import FileHashes, Problem, Stage
from hashmatch.matching import Verdict
from hashmatch.report.model import HashSetRecord, SourceRecord
from hashmatch.sources import Item, WalkError


@dataclass(frozen=True)
class Thumbnail:
    style: str
    jpeg: bytes


@dataclass(frozen=True)
class FileOutcome:
    """What the scan concluded about one item."""

    item: Item
    hashed: FileHashes | None
    verdict: Verdict = field(default_factory=Verdict)
    thumbnail: Thumbnail | None = None
    problems: tuple[Problem, ...] = ()


_CHUNK = 500  # keys per look-up, below SQLite's limit on bound parameters


def _writable(case_dir: Path, path: Path) -> bool:
    return os.access(case_dir, os.W_OK) and os.access(path, os.W_OK)


def _json(value: object) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


class CaseDatabase:
    """``case.sqlite`` inside a case folder."""

    def __init__(self, db: sqlite3.Connection, path: Path) -> None:
        self._db = db
        self.path = path

    @classmethod
    def create(cls, case_dir: Path) -> CaseDatabase:
        path = case_dir / CASE_DB
        if path.exists():
            raise CaseError(f"{path} already exists")
        return cls._open(path, upgrade=True)

    @classmethod
    def open(cls, case_dir: Path) -> CaseDatabase:
        """The case in ``case_dir``, as it is: a case made by an earlier hashmatch is not
        migrated (its database is one of the files its manifest covers) until a scan
        that resumes it calls ``upgrade``; one killed before its first commit is."""
        path = case_dir / CASE_DB
        if not path.is_file():
            raise CaseError(f"{case_dir} holds no case database ({CASE_DB})")
        return cls._open(path, upgrade=False)

    @classmethod
    def read(cls, case_dir: Path) -> CaseDatabase:
        """The case in ``case_dir`` to render a report from: as ``open``, and on media
        this process cannot write (a case archived to a write-protected drive) opened
        read-only, if nothing of it is left in its write-ahead log."""
        try:
            return cls.open(case_dir)
        except CaseError as exc:
            path = case_dir / CASE_DB
            if not path.is_file() or _writable(case_dir, path):
                raise
            cause = exc.__cause__ or exc
        log = path.with_name(path.name + "-wal")
        where = f"case database {path} cannot be written ({cause})"
        if log.is_file() and log.stat().st_size > 0:
            raise CaseError(
                f"{where}, and its last changes are still in {log.name}: the scan that "
                "wrote it did not finish; copy the case folder to where it can be written"
            ) from cause
        try:
            return cls(connect_read_only(path), path)
        except sqlite3.Error as error:
            raise CaseError(f"{where}, and cannot be read: {error}") from error

    @classmethod
    def _open(cls, path: Path, *, upgrade: bool) -> CaseDatabase:
        try:
            db = connect(str(path))
            # (A case killed before its first commit holds no table: nothing to keep.)
            if upgrade or len(pending(db, MIGRATIONS)) == len(MIGRATIONS):
                migrate(db, MIGRATIONS)
        except sqlite3.Error as exc:
            raise CaseError(f"cannot open case database {path}: {exc}") from exc
        return cls(db, path)

    def upgrade(self) -> None:
        """Apply the migrations an earlier hashmatch's case lacks (a resumed scan, once
        it is accepted: a refused one leaves the case as its manifest knows it)."""
        try:
            migrate(self._db, MIGRATIONS)
        except sqlite3.Error as exc:
            raise CaseError(f"cannot bring case database {self.path} up to date: {exc}") from exc

    @property
    def connection(self) -> sqlite3.Connection:
        return self._db

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> CaseDatabase:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- case facts ------------------------------------------------------------------

    def set_meta(self, values: Mapping[str, object]) -> None:
        with transaction(self._db):
            self._db.executemany(
                "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
                ((k, _json(v)) for k, v in values.items()),
            )

    def meta(self) -> dict[str, object]:
        return {k: json.loads(v) for k, v in self._db.execute("SELECT key, value FROM meta")}

    def set_sources(self, sources: Iterable[SourceRecord]) -> None:
        with transaction(self._db):
            self._db.executemany(
                "INSERT OR REPLACE INTO source (id, path, kind, size, details) VALUES (?,?,?,?,?)",
                ((s.id, s.path, s.kind, s.size, _json(dict(s.details))) for s in sources),
            )

    def set_hashsets(self, hashsets: Iterable[HashSetRecord]) -> None:
        with transaction(self._db):
            self._db.executemany(
                "INSERT OR REPLACE INTO hashset VALUES (?,?,?,?,?,?,?,?)",
                (
                    (
                        h.name,
                        h.format,
                        h.category,
                        h.source_name,
                        h.entries,
                        h.sha256,
                        h.imported_at,
                        _json(dict(h.provenance)),
                    )
                    for h in hashsets
                ),
            )

    def mark_walked(self, source_id: str) -> None:
        with transaction(self._db):
            self._db.execute("UPDATE source SET walked = 1 WHERE id = ?", (source_id,))

    # -- resuming --------------------------------------------------------------------

    def done_count(self) -> int:
        """Number of files already recorded (by an earlier, interrupted run)."""
        (count,) = self._db.execute("SELECT count(*) FROM file").fetchone()
        return int(count)

    def done_keys(self, source_id: str, keys: Sequence[str]) -> set[str]:
        """Which of ``keys`` are already recorded; asked per chunk so memory stays bounded."""
        found: set[str] = set()
        for start in range(0, len(keys), _CHUNK):
            chunk = keys[start : start + _CHUNK]
            marks = ",".join("?" * len(chunk))
            rows = self._db.execute(
                f"SELECT key FROM file WHERE source_id = ? AND key IN ({marks})",
                (source_id, *chunk),
            )
            found.update(str(key) for (key,) in rows)
        return found

    # -- writing results -------------------------------------------------------------

    def write(self, outcomes: Sequence[FileOutcome], walk_errors: Sequence[WalkError] = ()) -> None:
        """Record a batch of outcomes (and walk problems) in one transaction."""
        with transaction(self._db):
            for outcome in outcomes:
                self._write_one(outcome)
            self._db.executemany(
                "INSERT OR IGNORE INTO error (file_id, source_id, path, stage, message) "
                "VALUES (NULL, ?, ?, ?, ?)",
                ((e.source_id, e.path, Stage.WALK.value, e.message) for e in walk_errors),
            )

    def _write_one(self, outcome: FileOutcome) -> None:
        item, hashed, verdict = outcome.item, outcome.hashed, outcome.verdict
        if item.skip_reason is not None or hashed is None:
            status = "skipped"
        elif not hashed.read_ok or not hashed.hashes:
            status = "unreadable"  # not examined: its bytes could not be read or hashed
        else:
            status = "hashed"
        notes = list(hashed.notes) if hashed else []
        cursor = self._db.execute(
            "INSERT INTO file (source_id, key, path, size, kind, status, deleted, inode, "
            "partition, times, image, notes, no_verdict, skip_reason, listed, known_good) "
            "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (
                item.source_id,
                item.key,
                item.path,
                item.size,
                item.kind.value,
                status,
                int(item.deleted),
                item.inode,
                _json(asdict(item.partition)) if item.partition else None,
                _json(asdict(item.times)),
                _json(asdict(hashed.image)) if hashed and hashed.image else None,
                _json(notes),
                "; ".join(verdict.notes) if verdict.notes else None,
                item.skip_reason,
                int(verdict.listed),
                int(verdict.known_good_only),
            ),
        )
        file_id = cursor.lastrowid
        if hashed is not None:
            self._db.executemany(
                "INSERT INTO file_hash VALUES (?,?,?,?)",
                ((file_id, v.algorithm, v.hex, v.quality) for v in hashed.hashes),
            )
        self._db.executemany(
            "INSERT INTO hit VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (
                (
                    file_id,
                    seq,
                    h.type.value,
                    h.algorithm,
                    h.distance,
                    h.threshold,
                    h.hashset,
                    h.category.value,
                    h.label,
                    h.reference,
                    h.matched_value,
                    h.transform,
                    h.known_size,
                    int(h.size_mismatch),
                    " ".join(h.hash_mismatch) or None,
                )
                for seq, h in enumerate(verdict.hits)
            ),
        )
        problems = (*(hashed.problems if hashed else ()), *outcome.problems)
        self._db.executemany(
            "INSERT INTO error (file_id, source_id, path, stage, message) VALUES (?,?,?,?,?)",
            ((file_id, item.source_id, item.path, p.stage.value, p.message) for p in problems),
        )
        if outcome.thumbnail is not None:
            self._db.execute(
                "INSERT INTO thumbnail VALUES (?,?,?)",
                (file_id, outcome.thumbnail.style, outcome.thumbnail.jpeg),
            )
