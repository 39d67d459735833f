"""Read a case database back into a ``CaseReport``, in a stable, sorted order."""

from __future__ import annotations

import json
import sqlite3
from collections import defaultdict

from hashmatch.casedb.database import CaseDatabase
from hashmatch.errors import CaseError
from hashmatch.hashing import HashValue, ImageInfo, algorithm_names
from hashmatch.hashsets import Category
from hashmatch.matching import Hit, HitType
from hashmatch.report.model import (
    CaseFacts,
    CaseReport,
    ErrorRecord,
    FileRecord,
    HashSetRecord,
    MismatchRecord,
    NoVerdictRecord,
    SkippedRecord,
    SourceRecord,
    Summary,
    ToolInfo,
)
from hashmatch.sources import Partition, Times

_ORDER = {name: i for i, name in enumerate(algorithm_names())}


def _pairs(text: str) -> tuple[tuple[str, str], ...]:
    return tuple(sorted((str(k), str(v)) for k, v in json.loads(text or "{}").items()))


def read_report(case: CaseDatabase) -> CaseReport:
    db = case.connection
    try:
        meta = case.meta()
        return CaseReport(
            tool=_tool(meta),
            case=_facts(meta),
            sources=_sources(db),
            hashsets=_hashsets(db, meta.get("hash_checks")),
            summary=_summary(db),
            matches=_matches(db),
            errors=tuple(
                ErrorRecord(*row)
                for row in db.execute(
                    "SELECT source_id, path, stage, message FROM error "
                    "ORDER BY source_id, path, stage, message"
                )
            ),
            skipped=tuple(
                SkippedRecord(*row)
                for row in db.execute(
                    "SELECT source_id, path, skip_reason FROM file WHERE status = 'skipped' "
                    "ORDER BY source_id, path"
                )
            ),
            no_perceptual_verdict=tuple(
                NoVerdictRecord(*row)
                for row in db.execute(
                    "SELECT source_id, path, no_verdict FROM file WHERE no_verdict IS NOT NULL "
                    "ORDER BY source_id, path"
                )
            ),
            mismatches=_mismatches(db),
        )
    except (KeyError, ValueError, TypeError, sqlite3.Error) as exc:
        raise CaseError(f"{case.path}: the case database is incomplete or damaged: {exc}") from exc


def _tool(meta: dict[str, object]) -> ToolInfo:
    tool = meta["tool"]
    assert isinstance(tool, dict)
    return ToolInfo(
        name=str(tool["name"]),
        version=str(tool["version"]),
        libraries=tuple(sorted((str(k), str(v)) for k, v in dict(tool["libraries"]).items())),
        python=str(tool["python"]),
        platform=str(tool["platform"]),
    )


def _facts(meta: dict[str, object]) -> CaseFacts:
    thresholds = meta.get("thresholds") or {}
    assert isinstance(thresholds, dict)
    command = meta.get("command") or []
    algorithms = meta.get("algorithms") or []
    assert isinstance(command, list) and isinstance(algorithms, list)
    examiner = meta.get("examiner")
    finished = meta.get("finished")
    return CaseFacts(
        id=str(meta["case_id"]),
        examiner=str(examiner) if examiner is not None else None,
        started=str(meta["started"]),
        finished=str(finished) if finished is not None else None,
        command=tuple(str(c) for c in command),
        host=str(meta.get("host", "")),
        user=str(meta.get("user", "")),
        algorithms=tuple(str(a) for a in algorithms),
        thresholds=tuple(sorted((str(k), int(v)) for k, v in thresholds.items())),
        thumbnails=str(meta.get("thumbnails", "none")),
        resumed=tuple(str(t) for t in _list(meta.get("resumed"))),
    )


def _list(value: object) -> list[object]:
    return value if isinstance(value, list) else []


def _sources(db: sqlite3.Connection) -> tuple[SourceRecord, ...]:
    rows = db.execute("SELECT id, path, kind, size, details FROM source ORDER BY id")
    records = [SourceRecord(i, p, k, int(s), _pairs(d)) for i, p, k, s, d in rows]
    return tuple(sorted(records, key=lambda r: (len(r.id), r.id)))


def _hashsets(db: sqlite3.Connection, checks: object) -> tuple[HashSetRecord, ...]:
    """The sets, each with whether its hits were checked against other hashes
    (``checks``: the case's record of it, absent in a case made before 0.2.0)."""
    checked = checks if isinstance(checks, dict) else {}
    rows = db.execute(
        "SELECT name, format, category, source_name, entries, sha256, imported_at, provenance "
        "FROM hashset ORDER BY name"
    )
    return tuple(
        HashSetRecord(n, f, c, s, int(e), h, i, _pairs(p), _checked(checked.get(n, False)))
        for n, f, c, s, e, h, i, p in rows
    )


def _checked(value: object) -> bool | None:
    """A set's recorded ``hash_checks`` (anything but true or null reads as false)."""
    return value if value is None or isinstance(value, bool) else False


def _has_checks(db: sqlite3.Connection) -> bool:
    """Whether the case's hits keep their checks (``0002_hit_checks``: a report does not
    migrate the case it renders)."""
    return "known_size" in {str(row[1]) for row in db.execute("PRAGMA table_info(hit)")}


def _checks(db: sqlite3.Connection) -> str:
    """``hit.known_size, hit.size_mismatch, hit.hash_mismatch``, or what a case made
    before hits kept them reads as."""
    if _has_checks(db):
        return "hit.known_size, hit.size_mismatch, hit.hash_mismatch"
    return "NULL, 0, NULL"


def _disagreeing(db: sqlite3.Connection) -> str:
    """The join and condition of exact hits whose entry disagrees with the file."""
    found = "hit.size_mismatch != 0 OR hit.hash_mismatch IS NOT NULL"
    return f"FROM hit JOIN file ON file.id = hit.file_id WHERE {found if _has_checks(db) else 0}"


def _mismatches(db: sqlite3.Connection) -> tuple[MismatchRecord, ...]:
    rows = db.execute(
        "SELECT file.source_id, file.path, file.size, file.deleted, file.inode, "
        "file.partition, hit.hashset, hit.category, hit.algorithm, hit.reference, "
        f"{_checks(db)} {_disagreeing(db)} "
        "ORDER BY file.source_id, file.path, file.key, hit.seq"
    ).fetchall()
    return tuple(
        MismatchRecord(source, path, size, bool(deleted), inode, _partition(partition),
                       hashset, category, algorithm, reference, known, bool(differs),
                       _names(named))
        for (source, path, size, deleted, inode, partition, hashset, category, algorithm,
             reference, known, differs, named) in rows
    )  # fmt: skip


def _partition(text: str | None) -> Partition | None:
    return Partition(**json.loads(text)) if text else None


def _names(text: str | None) -> tuple[str, ...]:
    return tuple(text.split()) if text else ()


def _count(db: sqlite3.Connection, where: str = "1") -> int:
    return int(db.execute(f"SELECT count(*) FROM file WHERE {where}").fetchone()[0])


def _summary(db: sqlite3.Connection) -> Summary:
    by_category = db.execute(
        "SELECT category, count(DISTINCT hit.file_id) FROM hit JOIN file ON file.id = hit.file_id "
        "WHERE file.listed = 1 AND category != ? GROUP BY category ORDER BY category",
        (Category.KNOWN_GOOD.value,),
    ).fetchall()
    by_source = db.execute(
        "SELECT source_id, count(*) FROM file GROUP BY source_id ORDER BY source_id"
    ).fetchall()
    return Summary(
        files=_count(db),
        hashed=_count(db, "status = 'hashed'"),
        errors=int(db.execute("SELECT count(*) FROM error").fetchone()[0]),
        matched_files=_count(db, "listed = 1"),
        known_good=_count(db, "known_good = 1"),
        skipped=_count(db, "status = 'skipped'"),
        unreadable=_count(db, "status = 'unreadable'"),
        images=_count(db, "image IS NOT NULL"),
        no_perceptual_verdict=_count(db, "no_verdict IS NOT NULL"),
        matched_by_category=tuple((str(c), int(n)) for c, n in by_category),
        files_by_source=tuple((str(s), int(n)) for s, n in by_source),
        mismatched_files=int(
            db.execute(f"SELECT count(DISTINCT hit.file_id) {_disagreeing(db)}").fetchone()[0]
        ),
    )


def _matches(db: sqlite3.Connection) -> tuple[FileRecord, ...]:
    files = db.execute(
        "SELECT id, source_id, path, size, deleted, inode, partition, times, image, notes "
        "FROM file WHERE listed = 1 ORDER BY source_id, path, key"
    ).fetchall()
    ids = [row[0] for row in files]
    checks = _checks(db)
    hashes: dict[int, list[HashValue]] = defaultdict(list)
    hits: dict[int, list[Hit]] = defaultdict(list)
    thumbs: dict[int, bytes] = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        marks = ",".join("?" * len(chunk))
        for fid, algorithm, value, quality in db.execute(
            f"SELECT file_id, algorithm, value, quality FROM file_hash WHERE file_id IN ({marks})",
            chunk,
        ):
            hashes[fid].append(HashValue(algorithm, value, quality))
        for (fid, kind, algorithm, distance, threshold, hashset, category, label, reference,
             matched, transform, known, differs, named) in db.execute(
            "SELECT file_id, type, algorithm, distance, threshold, hashset, category, label, "
            f"reference, matched_value, transform, {checks} FROM hit "
            f"WHERE file_id IN ({marks}) ORDER BY file_id, seq",
            chunk,
        ):  # fmt: skip
            hits[fid].append(Hit(HitType(kind), algorithm, distance, threshold, hashset,
                                 Category(category), label, reference, matched, transform,
                                 known, bool(differs), _names(named)))  # fmt: skip
        for fid, jpeg in db.execute(
            f"SELECT file_id, jpeg FROM thumbnail WHERE file_id IN ({marks})", chunk
        ):
            thumbs[fid] = bytes(jpeg)
    return tuple(
        FileRecord(
            source=source,
            path=path,
            size=int(size),
            deleted=bool(deleted),
            inode=inode,
            partition=_partition(partition),
            times=Times(**json.loads(times)),
            hashes=tuple(sorted(hashes[fid], key=lambda v: _ORDER.get(v.algorithm, 99))),
            hits=tuple(hits[fid]),
            image=ImageInfo(**json.loads(image)) if image else None,
            notes=tuple(json.loads(notes)),
            thumbnail=thumbs.get(fid),
        )
        for fid, source, path, size, deleted, inode, partition, times, image, notes in files
    )
