"""The hash-set store: atomic imports, lookups, catalogue, migrations."""

from __future__ import annotations

import errno
import os
import sqlite3
from pathlib import Path
from typing import BinaryIO

import numpy as np
import pytest

from hashmatch.errors import (
    HashSetError,
    HashSetExistsError,
    HashSetFormatError,
    HashSetNotFoundError,
    StoreError,
)
from hashmatch.hashsets import Category, HashSetStore, importing
from hashmatch.hashsets import store as store_module
from hashmatch.hashsets.digest import FileDigest
from hashmatch.hashsets.packed import writer
from hashmatch.hashsets.store import STORE_FILENAME

from .conftest import write_protected

MD5 = "0123456789abcdef0123456789abcdef"
PDQ = "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22"


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def md5_lines(count: int) -> str:
    return "".join(f"{i:032x}  file{i}.jpg\n" for i in range(count))


def dump(store_dir: Path) -> list[tuple[object, ...]]:
    db = sqlite3.connect(store_dir / STORE_FILENAME)
    try:
        tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master ORDER BY name")]
        rows: list[tuple[object, ...]] = [("tables", *tables)]
        for table in tables:
            if table.startswith(("hashset", "hs_")) and "lookup" not in table:
                rows += db.execute(f"SELECT * FROM {table} ORDER BY 1").fetchall()
        return rows
    finally:
        db.close()


def test_import_list_show_remove(store: HashSetStore, tmp_path: Path) -> None:
    result = store.import_file(
        write(tmp_path, "known.md5", md5_lines(3)), category=Category.KNOWN_BAD
    )
    info = result.info
    assert (info.name, info.format, info.category, info.entries) == (
        "known",
        "md5sum",
        Category.KNOWN_BAD,
        3,
    )
    assert info.algorithms == ("md5",)
    assert len(info.sha256) == 64 and info.imported_at.endswith("Z")
    assert [s.name for s in store.list_sets()] == ["known"]
    assert store.breakdown(info) == [("known-bad", None, 3)]
    store.remove("known")
    assert store.list_sets() == []
    with pytest.raises(HashSetNotFoundError):
        store.get("known")


def test_default_category_is_alert(store: HashSetStore, tmp_path: Path) -> None:
    info = store.import_file(write(tmp_path, "x.md5", md5_lines(1))).info
    assert info.category is Category.ALERT


def test_malformed_line_leaves_the_store_exactly_as_it_was(
    store: HashSetStore, tmp_path: Path
) -> None:
    store.import_file(write(tmp_path, "first.md5", md5_lines(5)), name="first")
    before = dump(store.directory)
    bad = md5_lines(30_000) + "this line is not a checksum\n" + md5_lines(2)
    with pytest.raises(HashSetFormatError) as caught:
        store.import_file(write(tmp_path, "bad.md5", bad), name="bad")
    assert caught.value.line == 30_001
    assert "bad.md5:30001" in str(caught.value)
    assert dump(store.directory) == before


def test_a_full_store_stops_the_import_and_keeps_the_store(
    store: HashSetStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The disk fills while a set's files are written: the import says the store could
    not be written, the store is as it was (catalogue and files) and goes on working."""
    store.import_file(write(tmp_path, "first.md5", md5_lines(5)), name="first")
    before = dump(store.directory), sorted(p.name for p in (store.directory / "packed").iterdir())
    hashes = write(tmp_path, "big.txt", "".join(f"{i:016x}\n" for i in range(1, 3001)))
    real = writer.write_in_pieces

    def full(stream: BinaryIO, array: np.ndarray) -> None:
        if array.nbytes > 1000:  # (the values: the disk is full)
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        real(stream, array)

    monkeypatch.setattr(writer, "write_in_pieces", full)
    with pytest.raises(StoreError, match=r"writing the hash-set store failed .*No space left"):
        store.import_file(hashes, name="big", format_name="phash")
    assert (dump(store.directory),
            sorted(p.name for p in (store.directory / "packed").iterdir())) == before  # fmt: skip
    monkeypatch.setattr(writer, "write_in_pieces", real)
    assert store.import_file(hashes, name="big", format_name="phash").info.entries == 3000


def test_skip_invalid_imports_the_rest(store: HashSetStore, tmp_path: Path) -> None:
    text = md5_lines(2) + "garbage\n" + md5_lines(1)
    result = store.import_file(write(tmp_path, "s.md5", text), skip_invalid=True)
    assert result.skipped == 1 and result.info.entries == 3
    assert dict(result.info.provenance)["skipped_records"] == "1"


def test_reimport_of_the_same_file_is_a_no_op(store: HashSetStore, tmp_path: Path) -> None:
    path = write(tmp_path, "k.md5", md5_lines(2))
    store.import_file(path)
    again = store.import_file(path, name="other")
    assert again.already_imported and again.info.name == "k"
    assert len(store.list_sets()) == 1


def test_reimport_is_a_no_op_whatever_the_import_would_have_said(
    store: HashSetStore, tmp_path: Path
) -> None:
    path = write(tmp_path, "k.md5", md5_lines(2) + "garbage\n")
    store.import_file(path, skip_invalid=True)
    assert store.import_file(path).already_imported  # same name; an invalid line
    assert store.import_file(path, name="other", format_name="hashdeep").already_imported
    assert [s.name for s in store.list_sets()] == ["k"]


class _Digested(FileDigest):
    """The digest known before the import starts (a thread that was quick)."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.sha256()


def test_reimport_stops_as_soon_as_the_digest_is_known(
    store: HashSetStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write(tmp_path, "big.md5", md5_lines(1_000_000))  # 33 MB: blocks of 8 MB
    seen: list[int] = []
    store.import_file(path, progress=seen.append)
    assert len(seen) > 2
    monkeypatch.setattr(importing, "FileDigest", _Digested)
    seen.clear()
    again = store.import_file(path, name="other", progress=seen.append)
    assert again.already_imported and seen == []  # stopped at the first block
    assert [s.name for s in store.list_sets()] == ["big"]
    assert len(list((store.directory / "packed").iterdir())) == 1  # nothing left behind


def test_duplicate_name_is_refused(store: HashSetStore, tmp_path: Path) -> None:
    store.import_file(write(tmp_path, "a.md5", md5_lines(1)), name="same")
    with pytest.raises(HashSetExistsError):
        store.import_file(write(tmp_path, "b.md5", md5_lines(2)), name="same")


def test_file_without_values_is_refused(store: HashSetStore, tmp_path: Path) -> None:
    with pytest.raises(HashSetFormatError):
        store.import_file(write(tmp_path, "e.txt", "\n"))
    assert store.list_sets() == []


def test_exact_lookup(store: HashSetStore, tmp_path: Path) -> None:
    info = store.import_file(write(tmp_path, "k.md5", md5_lines(2000))).info
    wanted = [bytes.fromhex(f"{i:032x}") for i in (0, 1999, 5000)]
    found = store.lookup(info, "md5", wanted)
    assert set(found) == set(wanted[:2])
    assert found[wanted[1]][0].reference == "file1999.jpg"
    assert store.lookup(info, "sha1", wanted) == {}


def test_perceptual_values_and_details(store: HashSetStore, tmp_path: Path) -> None:
    info = store.import_file(write(tmp_path, "p.txt", f"{PDQ},80,a.jpg\n"), format_name="pdq").info
    rowids, values = store.value_arrays(info, "pdq", min_quality=80)
    assert values.hex() == PDQ and len(rowids) == 1
    assert len(store.value_arrays(info, "pdq", min_quality=81)[0]) == 0  # quality 80 kept
    details = store.details(info, [int(rowids[0])], "pdq")
    assert details[int(rowids[0])].reference == "a.jpg"
    assert details[int(rowids[0])].quality == 80


def test_store_survives_reopening(tmp_path: Path) -> None:
    with HashSetStore(tmp_path / "s") as store:
        store.import_file(write(tmp_path, "k.md5", md5_lines(1)))
    with HashSetStore(tmp_path / "s") as store:
        assert [s.name for s in store.list_sets()] == ["k"]
        applied = store._db.execute("SELECT name FROM migration").fetchall()
        assert applied == [("0001_initial",), ("0002_packed_layout",)]


def test_a_store_from_before_packed_sets_keeps_its_sets_as_rows(tmp_path: Path) -> None:
    """A set of that time is read as rows; its table, made before sizes were kept, has
    no size column, and is read as one whose entries have none."""
    from hashmatch.dbutil import connect, migrate
    from hashmatch.hashsets.migrations import MIGRATIONS, index_set_table
    from hashmatch.hashsets.model import SetLayout

    (tmp_path / "s").mkdir()
    db = connect(str(tmp_path / "s" / STORE_FILENAME))
    migrate(db, MIGRATIONS[:1])
    db.execute(
        "INSERT INTO hashset VALUES (1, 'old', 'md5sum', 'known-bad', 'old.md5', 'x', 1, 1, "
        "'md5', '2026-01-01T00:00:00Z', '{}')"
    )
    # (The set's tables as the first migration's code made them.)
    db.execute(
        "CREATE TABLE hs_1 (algorithm TEXT NOT NULL, value BLOB NOT NULL, quality "
        "INTEGER, entry INTEGER NOT NULL, category TEXT, label TEXT, reference TEXT)"
    )
    db.execute("CREATE TABLE hs_1_record (entry INTEGER PRIMARY KEY, data TEXT NOT NULL)")
    db.execute("INSERT INTO hs_1 VALUES ('md5', ?, NULL, 1, NULL, NULL, 'a.jpg')", (b"\x01" * 16,))
    index_set_table(db, 1)
    db.close()
    with HashSetStore(tmp_path / "s") as store:
        info = store.get("old")
        assert info.layout is SetLayout.ROWS
        assert store.lookup(info, "md5", [b"\x01" * 16])[b"\x01" * 16][0].reference == "a.jpg"
        assert [e.size for e in store.iter_entries(info)] == [None]
        assert store.sized_entries(info) == 0


def test_a_store_on_read_only_media_is_read_and_never_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A store on media that cannot be written is opened read-only: its sets can be
    listed and looked up (a scan against it works); importing or removing is refused
    with a message that says why, and nothing is written."""
    store_dir = tmp_path / "store"
    with HashSetStore(store_dir) as writable:
        writable.import_file(write(tmp_path, "rows.txt", f"pdq {PDQ}\n"), name="rows")
        writable.import_file(write(tmp_path, "packed.md5", md5_lines(50)), name="packed")
    before = dump(store_dir)
    files = sorted(p.relative_to(store_dir) for p in store_dir.rglob("*"))
    write_protected(monkeypatch, store_module)
    with HashSetStore(store_dir) as store:
        assert store.read_only
        assert [info.name for info in store.list_sets()] == ["packed", "rows"]
        key = bytes.fromhex(f"{7:032x}")
        hits = store.lookup(store.get("packed"), "md5", [key])
        assert [d.reference for d in hits[key]] == ["file7.jpg"]
        assert len(store.value_arrays(store.get("rows"), "pdq")[0]) == 1
        with pytest.raises(StoreError, match="cannot be written: cannot import a hash set"):
            store.import_file(write(tmp_path, "more.md5", md5_lines(3)), name="more")
        with pytest.raises(StoreError, match="cannot be written: cannot remove a hash set"):
            store.remove("rows")
    assert dump(store_dir) == before
    assert sorted(p.relative_to(store_dir) for p in store_dir.rglob("*")) == files


def test_a_read_only_store_with_changes_in_its_log_or_old_schema_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A store whose last changes are still in its write-ahead log (copied while in
    use), or made by an older hashmatch, cannot be read as it is without writing: the
    message says what to do."""
    store_dir = tmp_path / "store"
    open_store = HashSetStore(store_dir)  # (while it is open, its log holds the import)
    open_store.import_file(write(tmp_path, "a.md5", md5_lines(5)), name="a")
    with monkeypatch.context() as patched:
        write_protected(patched, store_module)
        with pytest.raises(StoreError, match=r"still in hashsets\.sqlite-wal: open it once where"):
            HashSetStore(store_dir)
    open_store._db.execute("DELETE FROM migration WHERE rowid = (SELECT max(rowid) FROM migration)")
    open_store.close()
    write_protected(monkeypatch, store_module)
    with pytest.raises(StoreError, match="made by an older hashmatch"):
        HashSetStore(store_dir)


def test_a_file_that_changes_while_it_is_imported_is_not_kept(tmp_path: Path) -> None:
    """The digest is read beside the import: appended to meanwhile, the set was kept
    with the SHA-256 of other bytes, and the unchanged file was then refused as
    'already imported'."""
    path = tmp_path / "growing.md5"
    path.write_text("".join(f"{i:032x}  f{i}.jpg\n" for i in range(1000)))
    appended = []

    def append_once(done: int) -> None:
        if not appended:
            with path.open("a") as more:
                more.write(f"{'ab' * 16}  late.jpg\n")
            appended.append(done)

    with HashSetStore(tmp_path / "store") as store:
        with pytest.raises(HashSetError, match="changed while it was imported"):
            store.import_file(path, progress=append_once)
        assert appended and store.list_sets() == []
        assert not (tmp_path / "store" / "packed").exists()  # (its only set's folder gone)
        assert store.import_file(path).info.entries == 1001  # (now it holds still)


def test_the_store_opens_and_reads_while_an_import_writes(tmp_path: Path) -> None:
    """Every open took the write lock to check migrations: during an import of minutes,
    list, show and scans failed with 'database is locked'; a second import now says why."""
    (tmp_path / "a.md5").write_text(f"{'ab' * 16}  a.jpg\n")
    (tmp_path / "b.md5").write_text(f"{'cd' * 16}  b.jpg\n")
    with HashSetStore(tmp_path / "store") as first:
        first.import_file(tmp_path / "a.md5")
    writer = sqlite3.connect(tmp_path / "store" / STORE_FILENAME, timeout=0.1)
    writer.execute("BEGIN IMMEDIATE")  # (as an import holds it)
    try:
        with HashSetStore(tmp_path / "store") as reader:
            assert [s.name for s in reader.list_sets()] == ["a"]
            reader._db.execute("PRAGMA busy_timeout = 100")
            with pytest.raises(StoreError, match="another import or removal is writing"):
                reader.import_file(tmp_path / "b.md5")
    finally:
        writer.rollback()
        writer.close()


def test_a_set_is_not_removed_while_another_command_has_the_store_open(tmp_path: Path) -> None:
    """A scan maps a set's files for as long as it runs: removed meanwhile (or its id
    given to a new set), the scan missed matches, or named the wrong set, silently."""
    (tmp_path / "a.md5").write_text(f"{'ab' * 16}  a.jpg\n")
    with HashSetStore(tmp_path / "store") as remover:
        remover.import_file(tmp_path / "a.md5")
        scanning = HashSetStore(tmp_path / "store")  # (as a scan in another process)
        try:
            with pytest.raises(StoreError, match="is using the hash-set store"):
                remover.remove("a")
            assert [s.name for s in scanning.list_sets()] == ["a"]
        finally:
            scanning.close()
        remover.remove("a")
        assert remover.list_sets() == []


def test_a_store_on_a_file_system_without_locks_still_opens(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import errno

    from hashmatch.hashsets import store_lock

    def no_locks(fd: int, operation: int) -> None:
        raise OSError(errno.ENOLCK, os.strerror(errno.ENOLCK))

    monkeypatch.setattr(store_lock.fcntl, "flock", no_locks)
    (tmp_path / "a.md5").write_text(f"{'ab' * 16}  a.jpg\n")
    with HashSetStore(tmp_path / "store") as store:
        store.import_file(tmp_path / "a.md5")
        store.remove("a")
        assert store.list_sets() == []


def test_a_failed_import_leaves_the_folders_it_did_not_make(tmp_path: Path) -> None:
    """The folder of the sets' files is removed with a failed import's files only if
    that import made it: one left empty by a removed set is the store as it was."""
    good, bad = tmp_path / "a.md5", tmp_path / "bad.md5"
    good.write_text(f"{'ab' * 16}  a.jpg\n")
    bad.write_text("".join(f"{n:032x}  f{n}.jpg\n" for n in range(20)) + "not a hash line\n")
    with HashSetStore(tmp_path / "store") as store:
        store.import_file(good, name="a")
        store.remove("a")
        before = sorted(p.relative_to(tmp_path) for p in (tmp_path / "store").rglob("*"))
        assert Path("store/packed") in before
        with pytest.raises(HashSetFormatError, match=":21: "):
            store.import_file(bad)
        after = sorted(p.relative_to(tmp_path) for p in (tmp_path / "store").rglob("*"))
    assert after == before
