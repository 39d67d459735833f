"""SQLite plumbing shared by the hash-set store and the case database: named
migrations, all-or-nothing transactions, and read-only connections."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Migration:
    """One schema change, known by a constant name once it has shipped."""

    name: str
    apply: Callable[[sqlite3.Connection], None]


def connect(path: str) -> sqlite3.Connection:
    """A connection in autocommit mode; callers group writes with ``transaction``."""
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    return db


def connect_read_only(path: Path, *, immutable: bool = True) -> sqlite3.Connection:
    """A connection that never writes. Immutable (a database on read-only media, a file
    being imported or verified): SQLite takes no locks and makes no ``-shm`` file beside
    it; the file must not change meanwhile, and a write-ahead log beside it is not read.
    The path goes into the URI percent-encoded: a name with ``#``, ``?`` or ``%`` (a
    hash-set file, a case folder) would otherwise open another file."""
    uri = f"{path.resolve().as_uri()}?mode=ro{'&immutable=1' if immutable else ''}"
    return sqlite3.connect(uri, uri=True, isolation_level=None)


def pending(db: sqlite3.Connection, migrations: Sequence[Migration]) -> list[str]:
    """The migrations not yet applied to ``db`` (read without writing)."""
    try:
        done = {row[0] for row in db.execute("SELECT name FROM migration")}
    except sqlite3.OperationalError:  # (no migration table: none applied)
        done = set()
    return [m.name for m in migrations if m.name not in done]


@contextmanager
def transaction(db: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """Everything inside commits together, or nothing does."""
    db.execute("BEGIN IMMEDIATE")
    try:
        yield db
    except BaseException:
        if db.in_transaction:  # (SQLite rolls back by itself on a full disk, an I/O error)
            db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")


def migrate(db: sqlite3.Connection, migrations: Sequence[Migration]) -> list[str]:
    """Apply, in order and in one transaction, every migration not yet recorded. With
    none to apply, nothing is locked: opening a store or case while another process
    writes it (an import of minutes) does not wait for it."""
    if not pending(db, migrations):
        return []
    with transaction(db):
        db.execute(
            "CREATE TABLE IF NOT EXISTS migration (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)"
        )
        done = {row[0] for row in db.execute("SELECT name FROM migration")}
        applied = []
        for migration in migrations:
            if migration.name in done:
                continue
            migration.apply(db)
            db.execute(
                "INSERT INTO migration VALUES (?, strftime('%Y-%m-%dT%H:%M:%SZ'))",
                (migration.name,),
            )
            applied.append(migration.name)
    return applied


def run_script(db: sqlite3.Connection, script: str) -> None:
    """Run ``;``-separated statements inside the caller's transaction (no executescript,
    which would commit it)."""
    for statement in script.split(";"):
        if statement.strip():
            db.execute(statement)
