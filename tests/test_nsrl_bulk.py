"""NSRL RDSv3 read in bulk into a packed set: the same entries as the row reader, at the
speed of numpy (benchmarks/bench_hashsets.py)."""

from __future__ import annotations

import hashlib
import json
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hashmatch.errors import HashSetFormatError
from hashmatch.hashsets import Category, HashSetStore
from hashmatch.hashsets.formats import nsrl
from hashmatch.hashsets.model import SetLayout
from hashmatch.scan import ScanOptions, scan

from .unrolled import Invalid, from_blocks, from_records

Entry = tuple[tuple[tuple[str, str], ...], str | None, int | None]


def make_rds(
    path: Path, rows: list[tuple[Any, ...]], named: bool = True, sizes: list[Any] | None = None
) -> Path:
    """An RDSv3 FILE table of ``rows`` (sha256, sha1, md5, name); ``sizes``: a
    ``file_size`` column (declared without a type: each value kept as given)."""
    path.unlink(missing_ok=True)
    db = sqlite3.connect(path)
    name = "file_name VARCHAR, " if named else ""
    size = "file_size, " if sizes is not None else ""
    db.executescript(
        f"CREATE TABLE FILE (sha256 VARCHAR, sha1 VARCHAR, md5 VARCHAR, {name}{size}"
        "package_id INTEGER);"
        "CREATE TABLE PKG (package_id INTEGER, name VARCHAR);"
        "CREATE TABLE VERSION (version VARCHAR, build_set VARCHAR);"
        "INSERT INTO VERSION VALUES ('2025.06.1', 'modern');"
    )
    table = [(*r, 1) if named else (*r[:3], 1) for r in rows]
    if sizes is not None:
        table = [(*r[:-1], s, 1) for r, s in zip(table, sizes, strict=True)]
    marks = ",".join("?" * (4 + named + (sizes is not None)))
    db.executemany(f"INSERT INTO FILE VALUES ({marks})", table)
    db.commit()
    db.close()
    return path


def by_rows(path: Path) -> list[Entry | Invalid]:
    with path.open("rb") as stream:
        return from_records(
            nsrl.NsrlV3().read(stream),
            lambda r: (tuple((v.algorithm, v.hex) for v in r.hashes), r.reference or None, r.size),
        )


def by_blocks(path: Path) -> list[Entry | Invalid]:
    with path.open("rb") as stream:
        return from_blocks(nsrl.NsrlV3().blocks(stream), lambda e: (e.values, e.reference, e.size))


def hex_text(digits: int) -> st.SearchStrategy[Any]:
    good = st.text("0123456789abcdefABCDEF", min_size=digits, max_size=digits)
    odd = st.sampled_from(
        ["", " " + "a" * digits + " ", "z" * digits, "é" * digits, "a" * (digits - 1)]
    )
    return st.none() | good | good | good | odd | st.integers(0, 10)


row = st.tuples(hex_text(64), hex_text(40), hex_text(32), st.none() | st.text(max_size=6))
size = (
    st.none()
    | st.integers(-5, 1 << 63 - 1)
    | st.sampled_from(["12", " 12", "x", "", "²", 1.5, True, b"\x01"])
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    rows=st.lists(st.tuples(row, size), max_size=30),
    named=st.booleans(),
    sized=st.booleans(),
    fetch=st.integers(1, 7),
)
def test_bulk_reader_gives_the_row_readers_entries(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    rows: list[tuple[tuple[Any, ...], Any]],
    named: bool,
    sized: bool,
    fetch: int,
) -> None:
    monkeypatch.setattr(nsrl, "FETCH_ROWS", fetch)
    sizes = [s for _, s in rows] if sized else None
    path = make_rds(tmp_path / "rds.db", [r for r, _ in rows], named, sizes)
    assert by_blocks(path) == by_rows(path)


SHA256, SHA1, MD5 = "AB" * 32, "CD" * 20, "EF" * 16


def test_rdsv3_becomes_a_packed_set_labelled_nsrl(store: HashSetStore, tmp_path: Path) -> None:
    rows = [(SHA256, SHA1, MD5, "setup.dll"), (None, SHA1.lower(), "12" * 16, "b.exe"),
            ("", "", "", "nothing.txt"), (" " + "34" * 32 + " ", None, None, None)]  # fmt: skip
    info = store.import_file(make_rds(tmp_path / "rds.db", rows), name="nsrl").info
    assert info.layout is SetLayout.PACKED and info.entries == 3 and info.hashes == 6
    assert dict(info.provenance)["rds_version"] == "2025.06.1"
    assert store.breakdown(info) == [("known-good", "NSRL", 3)]
    hit = store.lookup(info, "sha1", [bytes.fromhex(SHA1)])[bytes.fromhex(SHA1)]
    assert [(h.reference, h.label, h.category.value) for h in hit] == [
        ("setup.dll", "NSRL", "known-good"), ("b.exe", "NSRL", "known-good")]  # fmt: skip
    assert store.lookup(info, "sha256", [bytes.fromhex("34" * 32)])
    exported = [(e.entry, sorted(e.values), e.reference) for e in store.iter_entries(info)]
    assert exported == [(1, ["md5", "sha1", "sha256"], "setup.dll"), (2, ["md5", "sha1"], "b.exe"),
                        (3, ["sha256"], None)]  # fmt: skip


def test_an_invalid_row_stops_the_import_or_is_skipped(store: HashSetStore, tmp_path: Path) -> None:
    rows = [(SHA256, SHA1, MD5, "a"), (SHA256, "not hex", MD5, "b"), (SHA256, SHA1, MD5, "c")]
    path = make_rds(tmp_path / "rds.db", rows)
    with pytest.raises(HashSetFormatError, match="row 2: sha1 is not valid"):
        store.import_file(path, name="nsrl")
    assert store.list_sets() == []
    assert not any((store.directory / "packed").glob("*/*"))
    result = store.import_file(path, name="nsrl", skip_invalid=True)
    assert result.skipped == 1 and result.info.entries == 2


def test_a_file_in_many_nsrl_packages_gets_one_hit_per_algorithm(
    store: HashSetStore, tmp_path: Path
) -> None:
    evidence = tmp_path / "evidence"
    evidence.mkdir()
    data = b"a file NIST lists in three packages, and someone listed as known-bad"
    (evidence / "setup.dll").write_bytes(data)
    digests = [hashlib.new(a, data).hexdigest().upper() for a in ("sha256", "sha1", "md5")]
    rows = [(*digests, "setup.dll")] * 3 + [(*digests, "renamed.dll")]
    store.import_file(make_rds(tmp_path / "rds.db", rows), name="nsrl")
    bad = tmp_path / "bad.md5"
    bad.write_text(f"{digests[2].lower()}  setup.dll\n")
    store.import_file(bad, name="bad", category=Category.KNOWN_BAD)
    scan(ScanOptions(sources=(evidence,), case_dir=tmp_path / "case", jobs=1), store)
    report = json.loads((tmp_path / "case" / "report.json").read_text())
    (match,) = report["matches"]
    nsrl_hits = sorted((h["algorithm"], h["reference"]) for h in match["hits"]
                       if h["hashset"] == "nsrl")  # fmt: skip
    assert nsrl_hits == [(a, name) for a in ("md5", "sha1", "sha256")
                         for name in ("renamed.dll", "setup.dll")]  # fmt: skip


def test_progress_follows_the_rows_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(nsrl, "FETCH_ROWS", 2)
    path = make_rds(tmp_path / "rds.db", [(SHA256, SHA1, MD5, f"f{i}") for i in range(6)])
    reader = nsrl.NsrlV3()
    seen = []
    with path.open("rb") as stream:
        for _ in reader.blocks(stream):
            seen.append(reader.bytes_read())
    size = path.stat().st_size
    assert seen == [None, size // 3, (2 * size) // 3]  # read before each fetch is counted
    assert reader.bytes_read() == size


def test_rows_still_in_a_write_ahead_log_stop_the_import(
    store: HashSetStore, tmp_path: Path
) -> None:
    """Read immutable, SQLite ignores the log: the set was imported short, silently."""
    path = make_rds(tmp_path / "RDS.db", [("ab" * 32, "cd" * 20, "ef" * 16, "a")])
    writer = sqlite3.connect(path)
    writer.execute("PRAGMA journal_mode=WAL")
    writer.execute("PRAGMA wal_autocheckpoint=0")
    writer.execute(
        "INSERT INTO FILE VALUES (?, ?, ?, ?, 1)", ("12" * 32, "34" * 20, "56" * 16, "b")
    )
    writer.commit()  # (the row is in RDS.db-wal while the connection stays open)
    try:
        with pytest.raises(HashSetFormatError, match=r"RDS\.db-wal beside it holds changes"):
            store.import_file(path)
        assert store.list_sets() == []
    finally:
        writer.close()  # (closing checks the log in)
    assert store.import_file(path).info.entries == 2


def test_every_version_row_is_recorded(store: HashSetStore, tmp_path: Path) -> None:
    path = make_rds(tmp_path / "RDS.db", [("ab" * 32, "cd" * 20, "ef" * 16, "a")])
    with sqlite3.connect(path) as db:
        db.execute("INSERT INTO VERSION VALUES ('2025.09.1', 'modern')")  # (a delta applied)
    provenance = dict(store.import_file(path).info.provenance)
    assert provenance["rds_version"] == "2025.06.1; 2025.09.1"
    assert provenance["rds_build_set"] == "modern; modern"  # (the n-th values go together)


def test_only_a_journal_of_an_interrupted_transaction_stops_the_import(
    store: HashSetStore, tmp_path: Path
) -> None:
    """A journal kept after its transaction (journal_mode PERSIST) has its header zeroed
    and holds nothing: such a database was refused too."""
    path = make_rds(tmp_path / "RDS.db", [("ab" * 32, "cd" * 20, "ef" * 16, "a")])
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA journal_mode=PERSIST")
        db.execute(
            "INSERT INTO FILE VALUES (?, ?, ?, ?, 1)", ("12" * 32, "34" * 20, "56" * 16, "b")
        )
    journal = tmp_path / "RDS.db-journal"
    assert journal.stat().st_size > 0
    assert store.import_file(path, name="persist").info.entries == 2
    interrupted = make_rds(tmp_path / "cut.db", [("ab" * 32, "cd" * 20, "ef" * 16, "a")])
    script = (
        "import os, sqlite3, sys\n"
        "db = sqlite3.connect(sys.argv[1])\n"
        "db.execute('PRAGMA cache_size=1')\n"
        "db.execute('BEGIN')\n"
        "db.executemany('INSERT INTO FILE VALUES (?, ?, ?, ?, 1)',"
        " [('%064x' % n, None, None, 'x' * 500) for n in range(3000)])\n"
        "os._exit(0)\n"  # (killed in the middle of the transaction: its journal is hot)
    )
    subprocess.run([sys.executable, "-c", script, str(interrupted)], check=True)
    with pytest.raises(HashSetFormatError, match=r"cut\.db-journal beside it holds a transaction"):
        store.import_file(interrupted, name="cut")


@pytest.mark.parametrize("fixture", ["rdsv3-minimal.db", "set.kdb"])
@pytest.mark.parametrize("fmt", [None, "nsrl-rdsv3", "tsk-kdb"])
def test_a_schema_naming_a_table_in_bytes_that_are_not_utf8_is_named(
    store: HashSetStore, tmp_path: Path, fixture: str, fmt: str | None
) -> None:
    """SQLite keeps names as bytes: a table whose name in the schema is not UTF-8 and
    not the one its SQL creates makes SQLite's message about it undecodable, and the
    import stopped on an internal error (Python's UnicodeDecodeError, not an SQLite
    error), detected or not."""
    path = tmp_path / fixture
    path.write_bytes((Path(__file__).parent / "data" / "hashsets" / fixture).read_bytes())
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE zzzz_extra (x INTEGER)")
    db.close()
    schema_row = b"tablezzzz_extrazzzz_extra"  # (type, name, table name; then its SQL)
    assert schema_row in path.read_bytes()
    path.write_bytes(path.read_bytes().replace(schema_row, b"table\xffzzz_extra\xffzzz_extra"))
    with pytest.raises(HashSetFormatError, match=r"not a readable .*database.*utf-8"):
        store.import_file(path, format_name=fmt)
    assert store.list_sets() == []
