"""Near indexes saved with the store: written at import, memory-mapped by a scan, and
answering exactly as an index built in memory."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import tracemalloc
from pathlib import Path

import numpy as np
import pytest

from hashmatch.hashsets import Category, HashSetStore, durable, near_indexes
from hashmatch.hashsets.store import STORE_FILENAME
from hashmatch.matching.near import MIH_MIN_ENTRIES, IndexGroup, NearIndex
from hashmatch.matching.near_write import write_index


def pdq_values(count: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 2**63, size=(count, 4), dtype=np.uint64)


def write_pdq(path: Path, values: np.ndarray) -> None:
    """A PDQ list of ``values``, each of quality 90."""
    path.write_text("".join(f"{v.astype('>u8').tobytes().hex()},90\n" for v in values))


def near(values: np.ndarray, row: int, flips: int, seed: int) -> bytes:
    raw = bytearray(values[row].astype(">u8").tobytes())
    rng = np.random.default_rng(seed)
    for bit in rng.choice(256, flips, replace=False).tolist():
        raw[bit // 8] ^= 1 << (bit % 8)
    return bytes(raw)


@pytest.mark.parametrize("multi_index", [True, False])
def test_a_saved_index_answers_as_the_one_it_was_saved_from(
    tmp_path: Path, multi_index: bool
) -> None:
    values = pdq_values(5000, 1)
    keys = np.arange(100, 5100, dtype=np.int64)
    built = NearIndex(256, values, keys, multi_index=multi_index)
    built.save(tmp_path, "pdq", {"min_quality": 50})
    loaded = NearIndex.load(tmp_path, "pdq", {"min_quality": 50})
    assert loaded is not None and loaded.uses_multi_index == multi_index
    assert isinstance(np.load(tmp_path / "pdq.values.npy", mmap_mode="r"), np.memmap)
    for i, row in enumerate([0, 17, 4999]):
        query = near(values, row, 20, i)
        assert loaded.query(query, 31) == built.query(query, 31)
        assert (keys[row], 20) in built.query(query, 31)
    assert NearIndex.load(tmp_path, "pdq", {"min_quality": 60}) is None  # other settings
    meta = json.loads((tmp_path / "pdq.json").read_text())
    (tmp_path / "pdq.json").write_text(json.dumps(meta | {"format": 999}))
    assert NearIndex.load(tmp_path, "pdq", {"min_quality": 50}) is None  # other format
    assert NearIndex.load(tmp_path, "phash", {}) is None  # none saved


def test_a_group_answers_as_one_index_over_all_its_members() -> None:
    a, b = pdq_values(300, 2), pdq_values(300, 3)
    b[7] = a[5]  # the same value in both
    shift = 40
    group = IndexGroup(
        [NearIndex(256, a, np.arange(300, dtype=np.int64)),
         NearIndex(256, b, np.arange(300, dtype=np.int64))], shift
    )  # fmt: skip
    keys = np.concatenate([np.arange(300), (1 << shift) | np.arange(300)]).astype(np.int64)
    whole = NearIndex(256, np.concatenate([a, b]), keys)
    for i, row in enumerate([5, 6, 299]):
        query = near(a, row, 10, i)
        assert group.query(query, 31) == whole.query(query, 31)
    assert len(group) == 600


def test_import_saves_the_index_of_a_big_perceptual_set_and_remove_deletes_it(
    tmp_path: Path,
) -> None:
    values = pdq_values(MIH_MIN_ENTRIES + 10, 4)
    listing = tmp_path / "big.pdq"
    listing.write_text(
        "".join(f"{v.astype('>u8').tobytes().hex()},{60 if i % 2 else 40}\n"
                for i, v in enumerate(values)) + "".join(
        f"{v.astype('>u8').tobytes().hex()},90\n" for v in pdq_values(MIH_MIN_ENTRIES, 5))
    )  # fmt: skip
    small = tmp_path / "small.pdq"
    small.write_text(f"{values[0].astype('>u8').tobytes().hex()},90\n")
    with HashSetStore(tmp_path / "store") as store:
        info = store.import_file(listing, format_name="pdq", category=Category.KNOWN_BAD).info
        little = store.import_file(small, format_name="pdq").info
        saved = store.near_index(info, "pdq")
        assert saved is not None and saved.uses_multi_index
        assert store.near_index(little, "pdq") is None  # small: scanned, not indexed
        rowids, raw = store.value_arrays(info, "pdq", 50)  # quality 40 values left out
        assert len(saved) == len(rowids) == (MIH_MIN_ENTRIES + 10) // 2 + MIH_MIN_ENTRIES
        built = NearIndex(256, np.frombuffer(raw, ">u8").astype(np.uint64), rowids)
        query = near(values, 1, 25, 9)
        assert saved.query(query, 31) == built.query(query, 31) != []
        store.remove(info.name)
        assert not (tmp_path / "store" / "near" / str(info.id)).exists()


def test_a_set_without_a_saved_index_gets_one_at_its_first_scan(tmp_path: Path) -> None:
    values = pdq_values(MIH_MIN_ENTRIES, 6)
    listing = tmp_path / "big.pdq"
    write_pdq(listing, values)
    with HashSetStore(tmp_path / "store") as store:
        info = store.import_file(listing, format_name="pdq").info
        target = tmp_path / "store" / "near" / str(info.id)
        shutil.rmtree(target)  # as a store made before indexes were saved
        first = store.near_index(info, "pdq")
        assert first is not None and (target / "pdq.json").is_file()
        assert isinstance(np.load(target / "pdq.values.npy", mmap_mode="r"), np.memmap)
        assert not [p for p in target.parent.iterdir() if p.name.startswith(".")]  # no scratch
        again = store.near_index(info, "pdq")
        query = near(values, 3, 20, 1)
        assert again is not None and again.query(query, 31) == first.query(query, 31) != []


@pytest.mark.parametrize(("picture_bits", "confirmed"), [(60, True), (96, True), (97, False)])
def test_crops_confirm_through_a_saved_index_exactly_at_the_candidate_threshold(
    tmp_path: Path, picture_bits: int, confirmed: bool
) -> None:
    from hashmatch.hashing import FileHashes, HashValue, get_perceptual
    from hashmatch.hashing.variants import Transform, Variant
    from hashmatch.matching import Matcher, Thresholds

    assert get_perceptual("pdq").candidate_threshold == 96
    reference = "0" * 64
    others = "".join(f"{v.astype('>u8').tobytes().hex()},100\n" for v in pdq_values(5000, 7))
    (tmp_path / "ref.pdq").write_text(f"{reference},100,ref.jpg\n" + others)
    with HashSetStore(tmp_path / "store") as store:
        info = store.import_file(tmp_path / "ref.pdq", format_name="pdq").info
        assert store.near_index(info, "pdq") is not None  # the saved multi-index is used
        matcher = Matcher(store, [info], Thresholds.with_overrides())
        picture = hex(int("1" * picture_bits + "0" * (256 - picture_bits), 2))[2:].zfill(64)
        crop = Variant("pdq", Transform.CROPPED, reference)
        hashed = FileHashes(1, (HashValue("pdq", picture, 100),), variants=(crop,))
        (verdict,) = matcher.match([hashed])
    found = [h for h in verdict.hits if h.reference == "ref.jpg"]
    assert [(h.transform, h.distance) for h in found] == ([("cropped", 0)] if confirmed else [])


def test_a_saved_index_is_on_disk_before_the_catalogue_names_its_set(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A power cut just after an import must not leave a set whose index is not whole:
    every file of the index is synced while the set is not yet in the catalogue."""
    synced: dict[str, int] = {}  # path synced -> sets the catalogue named then
    real_fsync = durable.os.fsync

    def fsync(fd: int) -> None:
        path = os.readlink(f"/proc/self/fd/{fd}")
        with sqlite3.connect(tmp_path / "store" / STORE_FILENAME) as reader:
            (named,) = reader.execute("SELECT count(*) FROM hashset WHERE entries > 0").fetchone()
        synced[path] = named
        real_fsync(fd)

    monkeypatch.setattr(durable.os, "fsync", fsync)
    values = pdq_values(MIH_MIN_ENTRIES, 7)
    listing = tmp_path / "big.pdq"
    write_pdq(listing, values)
    with HashSetStore(tmp_path / "store") as store:
        info = store.import_file(listing, format_name="pdq").info
    target = tmp_path / "store" / "near" / str(info.id)
    files = {str(p) for p in target.iterdir()}
    assert files and {"pdq.json", "pdq.values.npy"} <= {Path(p).name for p in files}
    assert files | {str(target)} <= set(synced)
    assert all(synced[p] == 0 for p in files | {str(target)})


def test_a_killed_import_s_index_never_passes_for_the_next_set_s(tmp_path: Path) -> None:
    """SQLite gives a removed set's id to the next set: the near index a killed removal
    (or import) left under that id was used for the new set, whose scans then missed
    its images or reported other sets' entries."""
    big = tmp_path / "big.pdq"
    write_pdq(big, pdq_values(MIH_MIN_ENTRIES, 8))
    small_values = pdq_values(3, 9)
    small = tmp_path / "small.pdq"
    write_pdq(small, small_values)
    store_dir = tmp_path / "store"
    with HashSetStore(store_dir) as store:
        old = store.import_file(big, format_name="pdq").info
        kept = tmp_path / "kept"
        shutil.copytree(store_dir / "near" / str(old.id), kept)
        store.remove(old.name)
        shutil.copytree(kept, store_dir / "near" / str(old.id))  # (the removal killed)
        new = store.import_file(small, format_name="pdq").info
        assert new.id == old.id  # (the case this is about)
        assert store.near_index(new, "pdq") is None  # small: scanned directly, as it is
        assert not (store_dir / "near" / str(new.id)).exists()
        query = small_values[1].astype(">u8").tobytes()
        (found,) = store.lookup(new, "pdq", [query])[query]
        assert found.value == query.hex()


@pytest.mark.parametrize("count", [MIH_MIN_ENTRIES - 1, MIH_MIN_ENTRIES, MIH_MIN_ENTRIES + 77])
@pytest.mark.parametrize("chunk", [1, 1000, 10**6])
@pytest.mark.parametrize("positions", [True, False], ids=["positions", "keys"])
def test_an_index_written_in_parts_is_the_one_saved_whole(
    tmp_path: Path, count: int, chunk: int, positions: bool
) -> None:
    """``write_index`` reads the values in chunks and writes the files ``save`` writes,
    byte for byte (``load`` maps either)."""
    raw = pdq_values(count, 11).astype(">u8").tobytes()
    keys = np.arange(count, dtype=np.int64) * (1 if positions else 3)
    whole, parts = tmp_path / "whole", tmp_path / "parts"
    whole.mkdir(), parts.mkdir()
    words = np.frombuffer(raw, ">u8").astype(np.uint64)
    NearIndex(256, words, keys).save(whole, "pdq", {"algorithm": "pdq"})
    step = chunk * 32
    write_index(parts, "pdq", {"algorithm": "pdq"}, 256, count,
                lambda: (raw[at : at + step] for at in range(0, len(raw), step)),
                None if positions else keys)  # fmt: skip
    names = sorted(p.name for p in whole.iterdir())
    assert names == sorted(p.name for p in parts.iterdir())
    assert ("pdq.rows.npy" in names) == (count >= MIH_MIN_ENTRIES)
    assert all((whole / n).read_bytes() == (parts / n).read_bytes() for n in names)


def test_writing_an_index_holds_a_few_bytes_a_value_not_the_index(tmp_path: Path) -> None:
    """Built whole, an index of 2 M PDQ values took an import to 620 MB (its values as
    words, its substrings, each substring's order: about 300 bytes a value)."""
    count = 400_000
    raw = pdq_values(count, 12).astype(">u8").tobytes()
    step = 4 << 20
    tracemalloc.start()
    try:
        write_index(tmp_path, "pdq", {"algorithm": "pdq"}, 256, count,
                    lambda: (raw[at : at + step] for at in range(0, len(raw), step)))  # fmt: skip
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    starts = 16 * (1 << 16) * 8  # (where each substring's groups start: fixed)
    # About 30 bytes a value (four substrings, an order) and two chunks read.
    assert peak < 40 * count + 2 * step + starts
    assert NearIndex.load(tmp_path, "pdq", {"algorithm": "pdq"}) is not None


def test_a_packed_set_s_index_written_late_is_the_one_written_at_import(tmp_path: Path) -> None:
    """A scan that finds no saved index writes one from the set's files, read in chunks."""
    values = pdq_values(MIH_MIN_ENTRIES + 5, 13)
    media = [{"MD5": f"{i:032x}", "AlternativeHashes": [
        {"HashName": "PDQ", "HashValue": v.astype(">u8").tobytes().hex()}]}
        for i, v in enumerate(values)]  # fmt: skip
    source = tmp_path / "set.json"
    context = "http://github.com/VICSDATAMODEL/ProjectVic/DataModels/2.0.xml/US/$metadata#Media"
    source.write_text(json.dumps({"@odata.context": context, "value": media}))
    with HashSetStore(tmp_path / "store") as store:
        info = store.import_file(source).info
        target = tmp_path / "store" / "near" / str(info.id)
        at_import = {p.name: p.read_bytes() for p in target.iterdir()}
        shutil.rmtree(target)
        assert store.near_index(info, "pdq") is not None
        assert {p.name: p.read_bytes() for p in target.iterdir()} == at_import


def test_an_unwritable_store_gets_its_index_in_memory_for_the_scan(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    values = pdq_values(MIH_MIN_ENTRIES, 14)
    listing = tmp_path / "big.pdq"
    write_pdq(listing, values)
    with HashSetStore(tmp_path / "store") as store:
        info = store.import_file(listing, format_name="pdq").info
        shutil.rmtree(tmp_path / "store" / "near" / str(info.id))

        def unwritable(*args: object) -> None:
            raise PermissionError(13, "Read-only file system")

        monkeypatch.setattr(near_indexes, "write_index", unwritable)
        index = store.near_index(info, "pdq")
        assert index is not None and index.uses_multi_index
        query = near(values, 5, 12, 2)
        assert [d for _, d in index.query(query, 31)] == [12]
        assert not (tmp_path / "store" / "near" / str(info.id) / "pdq.json").exists()


def test_a_bare_phash_list_is_packed_and_near_searched(tmp_path: Path) -> None:
    """A bare list of imagehash values is a packed set, its near index saved at import:
    a value a few bits from one in the list finds that entry."""
    values = np.random.default_rng(5).integers(0, 2**63, size=MIH_MIN_ENTRIES + 10, dtype=np.uint64)
    path = tmp_path / "list.txt"
    path.write_text("".join(f"{int(v):016x}\n" for v in values))
    with HashSetStore(tmp_path / "store") as store:
        info = store.import_file(path, name="ph", format_name="phash").info
        assert info.layout.value == "packed" and info.entries == len(values)
        assert (tmp_path / "store" / "near" / str(info.id) / "phash.json").is_file()
        index = store.near_index(info, "phash")
        assert index is not None and index.uses_multi_index
        probe = int(values[1234]) ^ 0b1011  # (3 bits off)
        ((key, distance),) = index.query(probe.to_bytes(8, "big"), 4)
        (found,) = store.details(info, [key], "phash").values()
        assert distance == 3 and found.value == f"{int(values[1234]):016x}"
