"""SQLite plumbing shared by the hash-set store and the case database: named
migrations and all-or-nothing transactions."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass


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
    """Apply, in order and in one transaction, every migration not yet recorded."""
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
