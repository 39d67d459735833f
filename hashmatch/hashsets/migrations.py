"""Named, ordered schema migrations for the hash-set store.

Each migration has a constant name recorded in the ``migration`` table once applied; a
store is brought up to date by applying, in order, those it has not seen. Never edit
or reorder a migration that has shipped: add a new one.

Layout: one ``hashset`` row per imported set, and per set one table ``hs_<id>`` holding
its hash values (``algorithm``, raw ``value`` bytes, PDQ ``quality``, the ``entry``
number of the record it came from, and per-record ``category``/``label``/``reference``
and file ``size``; a table made before sizes were kept, 2026-12-03, has no ``size``
column, and is read as it is: no migration, so that a store on read-only media made
before still opens),
indexed on ``(algorithm, value)`` once the bulk load is done; ``hs_<id>_record`` keeps
original records (JSON) for formats whose fields must reach the report. A set per table
makes removing a set a ``DROP`` and keeps a huge import from slowing the others.
A set whose ``layout`` is ``packed`` has no tables: its values are sorted arrays in the
store's ``packed/<id>`` directory (see ``hashmatch.hashsets.packed``).
"""

from __future__ import annotations

import sqlite3

from hashmatch.dbutil import Migration


def _initial(db: sqlite3.Connection) -> None:
    db.execute(
        """
        CREATE TABLE hashset (
            id          INTEGER PRIMARY KEY,
            name        TEXT NOT NULL UNIQUE,
            format      TEXT NOT NULL,
            category    TEXT NOT NULL,
            source_name TEXT NOT NULL,
            sha256      TEXT NOT NULL,
            entries     INTEGER NOT NULL,
            hashes      INTEGER NOT NULL,
            algorithms  TEXT NOT NULL,
            imported_at TEXT NOT NULL,
            provenance  TEXT NOT NULL DEFAULT '{}'
        )
        """
    )


def _packed_layout(db: sqlite3.Connection) -> None:
    db.execute("ALTER TABLE hashset ADD COLUMN layout TEXT NOT NULL DEFAULT 'rows'")


MIGRATIONS: tuple[Migration, ...] = (
    Migration("0001_initial", _initial),
    Migration("0002_packed_layout", _packed_layout),
)


def set_table(hashset_id: int) -> str:
    return f"hs_{int(hashset_id)}"


def create_set_tables(db: sqlite3.Connection, hashset_id: int) -> None:
    table = set_table(hashset_id)
    db.execute(
        f"""
        CREATE TABLE {table} (
            algorithm TEXT NOT NULL,
            value     BLOB NOT NULL,
            quality   INTEGER,
            entry     INTEGER NOT NULL,
            category  TEXT,
            label     TEXT,
            reference TEXT,
            size      INTEGER
        )
        """
    )
    db.execute(f"CREATE TABLE {table}_record (entry INTEGER PRIMARY KEY, data TEXT NOT NULL)")


def index_set_table(db: sqlite3.Connection, hashset_id: int) -> None:
    table = set_table(hashset_id)
    db.execute(f"CREATE INDEX {table}_lookup ON {table} (algorithm, value)")


def drop_set_tables(db: sqlite3.Connection, hashset_id: int) -> None:
    table = set_table(hashset_id)
    db.execute(f"DROP TABLE IF EXISTS {table}")
    db.execute(f"DROP TABLE IF EXISTS {table}_record")
