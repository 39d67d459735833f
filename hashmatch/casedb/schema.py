"""Named migrations of the case database (``case.sqlite`` in the case folder).

The case database is the record every report is rendered from: case facts (``meta``),
the sources and hash sets used, one ``file`` row per item the walk found (hashed,
skipped or unreadable), its hashes, its hits, every error, and the blurred thumbnails of
matched images. ``(source_id, key)`` identifies a file across a resumed scan.
"""

from __future__ import annotations

import sqlite3

from hashmatch.dbutil import Migration, run_script

CASE_DB = "case.sqlite"


_INITIAL = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE source (
    id      TEXT PRIMARY KEY,
    path    TEXT NOT NULL,
    kind    TEXT NOT NULL,
    size    INTEGER NOT NULL,
    details TEXT NOT NULL DEFAULT '{}',
    walked  INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE hashset (
    name        TEXT PRIMARY KEY,
    format      TEXT NOT NULL,
    category    TEXT NOT NULL,
    source_name TEXT NOT NULL,
    entries     INTEGER NOT NULL,
    sha256      TEXT NOT NULL,
    imported_at TEXT NOT NULL,
    provenance  TEXT NOT NULL DEFAULT '{}'
);
CREATE TABLE file (
    id          INTEGER PRIMARY KEY,
    source_id   TEXT NOT NULL,
    key         TEXT NOT NULL,
    path        TEXT NOT NULL,
    size        INTEGER NOT NULL,
    kind        TEXT NOT NULL,
    status      TEXT NOT NULL,
    deleted     INTEGER NOT NULL DEFAULT 0,
    inode       INTEGER,
    partition   TEXT,
    times       TEXT NOT NULL DEFAULT '{}',
    image       TEXT,
    notes       TEXT NOT NULL DEFAULT '[]',
    no_verdict  TEXT,
    skip_reason TEXT,
    listed      INTEGER NOT NULL DEFAULT 0,
    known_good  INTEGER NOT NULL DEFAULT 0,
    UNIQUE (source_id, key)
);
CREATE INDEX file_listed ON file (listed) WHERE listed = 1;
CREATE TABLE file_hash (
    file_id   INTEGER NOT NULL,
    algorithm TEXT NOT NULL,
    value     TEXT NOT NULL,
    quality   INTEGER,
    PRIMARY KEY (file_id, algorithm)
) WITHOUT ROWID;
CREATE TABLE hit (
    file_id       INTEGER NOT NULL,
    seq           INTEGER NOT NULL,
    type          TEXT NOT NULL,
    algorithm     TEXT NOT NULL,
    distance      INTEGER NOT NULL,
    threshold     INTEGER,
    hashset       TEXT NOT NULL,
    category      TEXT NOT NULL,
    label         TEXT,
    reference     TEXT,
    matched_value TEXT NOT NULL,
    transform     TEXT,
    PRIMARY KEY (file_id, seq)
) WITHOUT ROWID;
CREATE TABLE error (
    id        INTEGER PRIMARY KEY,
    file_id   INTEGER,
    source_id TEXT NOT NULL,
    path      TEXT NOT NULL,
    stage     TEXT NOT NULL,
    message   TEXT NOT NULL
);
CREATE UNIQUE INDEX error_walk ON error (source_id, path, stage, message) WHERE file_id IS NULL;
CREATE TABLE thumbnail (
    file_id INTEGER PRIMARY KEY,
    style   TEXT NOT NULL,
    jpeg    BLOB NOT NULL
);
"""


def _initial(db: sqlite3.Connection) -> None:
    run_script(db, _INITIAL)


def _hit_checks(db: sqlite3.Connection) -> None:
    """What an exact hit is checked by: the file size its entry records (hashdeep, NSRL,
    HashKeeper, a CSV size column, a VICS MediaSize), whether that is not the size of
    the bytes hashed (1), and the file's other hashes the entry gives another value of
    (names, space-separated; NULL: none). A case made before has none of these
    columns, and is read as it is (``HIT_CHECKS``)."""
    db.execute("ALTER TABLE hit ADD COLUMN known_size INTEGER")
    db.execute("ALTER TABLE hit ADD COLUMN size_mismatch INTEGER NOT NULL DEFAULT 0")
    db.execute("ALTER TABLE hit ADD COLUMN hash_mismatch TEXT")


#: The migration that added ``hit.known_size``, ``size_mismatch`` and ``hash_mismatch``.
HIT_CHECKS = "0002_hit_checks"

MIGRATIONS: tuple[Migration, ...] = (
    Migration("0001_initial", _initial),
    Migration(HIT_CHECKS, _hit_checks),
)
