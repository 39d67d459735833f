"""Packed sets: the bulk line reader against the line reader, the bucketed sort, and the
store's all-or-nothing import of big plain lists."""

from __future__ import annotations

import errno
import hashlib
import io
import os
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hashmatch.errors import HashSetFormatError, StoreError
from hashmatch.hashing import HashValue
from hashmatch.hashsets import Category, HashSetStore
from hashmatch.hashsets.formats import bulklines
from hashmatch.hashsets.formats.bulklines import LineFormat, read_blocks
from hashmatch.hashsets.formats.lists import AlgorithmList, HashList
from hashmatch.hashsets.formats.sums import Md5sum
from hashmatch.hashsets.model import InvalidRecord, ParsedEntry, SetLayout
from hashmatch.hashsets.name_decoding import NAME_ERRORS
from hashmatch.hashsets.packed import PackedBlock, PackedSet, PackedWriter, entry_files, writer
from hashmatch.hashsets.packed.concat import concat
from hashmatch.hashsets.packed.entries import gather
from hashmatch.hashsets.packed.layout import QUALITY_NONE, PackedColumn, PackedLabel

Entry = tuple[str, str, str | None]  # algorithm, hex, reference


def by_lines(fmt: LineFormat, data: bytes) -> list[Entry | tuple[int | None, str]]:
    """Entries, then invalid records (``tests.unrolled`` says why)."""
    out: list[Entry | tuple[int | None, str]] = []
    invalid: list[Entry | tuple[int | None, str]] = []
    for record in fmt.read(io.BytesIO(data)):
        if isinstance(record, InvalidRecord):
            invalid.append((record.line, record.reason))
            continue
        assert isinstance(record, ParsedEntry)
        (value,) = record.hashes
        out.append((value.algorithm, value.to_bytes().hex(), record.reference or None))
    return out + invalid


def by_blocks(fmt: LineFormat, data: bytes) -> list[Entry | tuple[int | None, str]]:
    out: list[Entry | tuple[int | None, str]] = []
    invalid: list[Entry | tuple[int | None, str]] = []
    for block in read_blocks(fmt, io.BytesIO(data)):
        if isinstance(block, InvalidRecord):
            invalid.append((block.line, block.reason))
            continue
        assert isinstance(block, PackedBlock)
        for i in range(block.entries):
            (value,) = [(c.algorithm, bytes(c.values[k]).hex()) for c in block.columns
                        for k in (c.rows == i).nonzero()[0].tolist()]  # (one a line)  # fmt: skip
            name = block.ref_data[block.ref_offsets[i] : block.ref_offsets[i + 1]]
            reference = name.decode("utf-8", NAME_ERRORS) or None  # (as the store reads it)
            out.append((*value, reference))
    return out + invalid


HEX = st.text("0123456789abcdefABCDEF", min_size=32, max_size=32)
NAME = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="\n\r"),
    min_size=1,
    max_size=12,
)
GOOD_SUM = st.builds(
    lambda h, n, sep: f"{h}{sep}{n}", HEX, NAME, st.sampled_from(["  ", " *", "\t"])
)
ODD = st.sampled_from(
    [
        "",
        "# comment",
        "   ",
        "\\" + "a" * 32 + "  back\\\\slash",
        "a" * 40 + "  sha1.bin",
        "b" * 64 + " *sha256.bin",
        "a" * 31 + "  short",
        "g" * 32 + "  not hex",
        "a" * 32 + " *",
        "a" * 32 + "  ",
        "MD5",
        "a" * 32,
        "A" * 40,
        " " + "c" * 32 + "  lead",
        "d" * 32 + "  trail  ",
    ]
)
LINES = st.lists(st.one_of(GOOD_SUM, ODD, HEX), min_size=1, max_size=40)
ENDINGS = st.sampled_from(["\n", "\r\n", "\r"])


def render(lines: list[str], ending: str, bom: bool, last_end: bool, raw_byte: bool) -> bytes:
    text = ending.join(lines) + (ending if last_end else "")
    data = text.encode("utf-8")
    if raw_byte:
        data = data.replace(b"e", b"\xff", 1)  # a byte that is not UTF-8
    return (b"\xef\xbb\xbf" if bom else b"") + data


@pytest.mark.parametrize(
    "fmt",
    [Md5sum(), HashList(), AlgorithmList("md5"), AlgorithmList("sha256")],
    ids=lambda f: f.name,
)
@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    lines=LINES,
    ending=ENDINGS,
    bom=st.booleans(),
    last_end=st.booleans(),
    raw_byte=st.booleans(),
    chunk=st.sampled_from([64, 200, 1 << 20]),
)
def test_the_bulk_reader_gives_what_the_line_reader_gives(
    monkeypatch: pytest.MonkeyPatch,
    fmt: LineFormat,
    lines: list[str],
    ending: str,
    bom: bool,
    last_end: bool,
    raw_byte: bool,
    chunk: int,
) -> None:
    monkeypatch.setattr(bulklines, "CHUNK_BYTES", chunk)
    data = render(lines, ending, bom, last_end, raw_byte)
    assert by_blocks(fmt, data) == by_lines(fmt, data)


@settings(max_examples=150, deadline=None)
@given(
    good=st.lists(GOOD_SUM, min_size=9, max_size=40),
    odd=st.lists(st.tuples(st.integers(0, 40), ODD), min_size=1, max_size=2),
    ending=ENDINGS,
)
def test_a_few_odd_lines_among_many_keep_every_value_on_its_line(
    good: list[str], odd: list[tuple[int, str]], ending: str
) -> None:
    """A chunk with few odd lines stays on the fast path around them. A line of hex the
    fast path refused for what followed it (``<hex>  `` with an empty name, which the
    line reader takes) shifted every later value of the chunk onto the next line."""
    lines = list(good)
    for at, line in odd:
        lines.insert(at % (len(lines) + 1), line)
    data = render(lines, ending, bom=False, last_end=True, raw_byte=False)
    assert by_blocks(Md5sum(), data) == by_lines(Md5sum(), data)


def test_clean_lists_take_the_fast_path(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []
    original = Md5sum.parse_line

    def counted(self: Md5sum, number: int, line: str) -> object:
        calls.append(number)
        return original(self, number, line)

    monkeypatch.setattr(Md5sum, "parse_line", counted)
    lines = [f"{hashlib.md5(str(i).encode()).hexdigest()}  f{i}.jpg" for i in range(1000)]
    lines[500] = "# a comment in the middle"
    data = ("\r\n".join(lines) + "\r\n").encode()
    entries = by_blocks(Md5sum(), data)
    assert len(entries) == 999 and entries[0][2] == "f0.jpg" and entries[-1][2] == "f999.jpg"
    assert calls == [501]  # only the comment went through the line parser


def _values(n: int, first: bytes = b"") -> np.ndarray:
    raw = b"".join(first + hashlib.md5(str(i).encode()).digest()[len(first) :] for i in range(n))
    return np.frombuffer(raw, np.uint8).reshape(n, 16)


def _block(values: np.ndarray, start: int) -> PackedBlock:
    names = [f"n{start + i}".encode() for i in range(len(values))]
    offsets = np.concatenate(([0], np.cumsum([len(x) for x in names])))
    return PackedBlock.single("md5", values, b"".join(names), offsets)


@pytest.mark.parametrize("hold", [0, writer.HOLD_BYTES], ids=["buckets", "in-memory"])
@pytest.mark.parametrize("first", [b"", b"\x00\x00\x07", b"\xff" * 16], ids=repr)
def test_buckets_come_out_sorted_even_when_one_holds_everything(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, first: bytes, hold: int
) -> None:
    monkeypatch.setattr(writer, "SORT_LIMIT", 50)  # force splitting on later bytes
    monkeypatch.setattr(writer, "_COPY_RECORDS", 64)  # (and copying in pieces)
    monkeypatch.setattr(writer, "HOLD_BYTES", hold)  # 0: every value goes to buckets
    sorted_at_once: list[int] = []
    write_sorted = writer._write_sorted
    monkeypatch.setattr(writer, "_write_sorted",
                        lambda records, *files: (sorted_at_once.append(len(records)),
                                                 write_sorted(records, *files)))  # fmt: skip
    values = _values(700, first)
    out = PackedWriter(tmp_path / "set")
    for start in range(0, 700, 128):
        out.add(_block(values[start : start + 128], start))
    out.finish()
    assert sorted(p.name for p in (tmp_path / "set").iterdir()) == [
        "md5.entries", "md5.values", "refs.data", "refs.offsets"
    ]  # fmt: skip
    stored = (tmp_path / "set" / "md5.values").read_bytes()
    rows = [stored[i : i + 16] for i in range(0, len(stored), 16)]
    expected = sorted((bytes(v), i + 1) for i, v in enumerate(values))
    assert rows == [v for v, _ in expected]
    entries = np.fromfile(tmp_path / "set" / "md5.entries", "<u8").tolist()
    assert entries == [e for _, e in expected]  # equal values keep entry order
    packed = PackedSet(tmp_path / "set")
    wanted = [bytes(values[3]), bytes(values[699]), b"\x01" * 16]
    found = packed.lookup("md5", 16, wanted)
    if first == b"\xff" * 16:  # every value is the same: every entry holds it
        assert [h.entry for h in found[wanted[0]]] == list(range(1, 701))
    else:
        assert [(h.entry, h.reference) for h in found[wanted[0]]] == [(4, "n3")]
        assert [(h.entry, h.reference) for h in found[wanted[1]]] == [(700, "n699")]
    assert b"\x01" * 16 not in found
    # Memory stays bounded: no more records are sorted at once than the limit (one
    # value 700 times was read whole, at every byte of it: 16 M times one MD5, 2.3 GB).
    assert max(sorted_at_once, default=0) <= (50 if hold == 0 else 700)


@pytest.mark.parametrize("parallel", [0, writer.PARALLEL_BUCKET_BYTES], ids=["one", "two"])
def test_spilled_algorithms_come_out_as_sorted_in_memory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, parallel: int
) -> None:
    """Several algorithms spilled to their runs files (sorted one or two at a time) give
    the files a set held in memory gives, byte for byte."""
    md5 = _values(900)
    sha256 = np.frombuffer(b"".join(hashlib.sha256(bytes(v)).digest() for v in md5), np.uint8)
    sha256 = sha256.reshape(900, 32)
    monkeypatch.setattr(writer, "PARALLEL_BUCKET_BYTES", parallel)

    def written(name: str, hold: int) -> dict[str, bytes]:
        monkeypatch.setattr(writer, "HOLD_BYTES", hold)
        out = PackedWriter(tmp_path / name)
        for start in range(0, 900, 100):
            block = _block(md5[start : start + 100], start)
            rows = np.arange(0, 100, 3, dtype=np.int64)  # a SHA-256 for every third
            extra = PackedColumn("sha256", sha256[start + rows], rows)
            out.add(PackedBlock(100, (*block.columns, extra), block.ref_data, block.ref_offsets))
        out.finish()
        return {p.name: p.read_bytes() for p in (tmp_path / name).iterdir()}

    spilled, held = written("spilled", 0), written("held", writer.HOLD_BYTES)
    assert spilled == held
    assert sorted(spilled) == ["holds", "md5.entries", "md5.values", "refs.data",
                               "refs.offsets", "sha256.entries", "sha256.values"]  # fmt: skip
    assert len(spilled["sha256.values"]) == 9 * 34 * 32  # (rows 0, 3 ... 99 of each block)
    # Each entry has an MD5 (bit 0), every third a SHA-256 (bit 2).
    assert spilled["holds"] == bytes(5 if row % 3 == 0 else 1 for row in range(100)) * 9


@settings(max_examples=200, deadline=None)
@given(
    width=st.integers(1, 40),
    rows=st.lists(st.binary(min_size=0, max_size=40), max_size=60),
    prefix=st.binary(max_size=12),
)
def test_value_order_is_bytewise_then_entry(width: int, rows: list[bytes], prefix: bytes) -> None:
    """Values sharing long prefixes (ties in the first 64-bit word) and repeated ones
    sort bytewise, equal values in entry order."""
    values = [(prefix + r)[:width].ljust(width, b"\x00") for r in rows + rows[:5]]
    records = np.empty(len(values), writer.record_dtype(width))
    records["v"] = np.frombuffer(b"".join(values), f"S{width}") if values else []
    records["e"] = np.arange(1, len(values) + 1)
    order = writer.value_order(records)
    expected = sorted(range(len(values)), key=lambda i: (values[i], i))
    assert order.tolist() == expected


def md5_file(path: Path, n: int, extra: str = "") -> Path:
    lines = [f"{hashlib.md5(str(i).encode()).hexdigest()}  dir/f{i}.jpg" for i in range(n)]
    path.write_text("\n".join(lines) + "\n" + extra)
    return path


def test_plain_lists_are_packed_and_found(tmp_path: Path) -> None:
    source = md5_file(tmp_path / "big.md5", 5000, extra=hashlib.md5(b"7").hexdigest() + "  dup\n")
    with HashSetStore(tmp_path / "store") as store:
        info = store.import_file(source).info
        assert info.layout is SetLayout.PACKED and info.entries == 5001 and info.hashes == 5001
        key = hashlib.md5(b"7").digest()
        hits = store.lookup(info, "md5", [key, b"\x00" * 16])
        assert [d.reference for d in hits[key]] == ["dir/f7.jpg", "dup"]
        assert hits[key][0].value == key.hex() and hits[key][0].category is info.category
        entries = list(store.iter_entries(info))
        assert [e.entry for e in entries] == list(range(1, 5002))
        assert entries[9].values == {"md5": hashlib.md5(b"9").hexdigest()}
        assert entries[9].reference == "dir/f9.jpg"
        assert store.breakdown(info) == [(info.category.value, None, 5001)]
        keys, raw = store.value_arrays(info, "md5")
        assert len(keys) == 5001 and len(raw) == 5001 * 16
        # A key leads back to its value and entry (what a near hit reports).
        where = raw.index(key) // 16
        assert store.details(info, [int(keys[where])], "md5")[int(keys[where])].reference in {
            "dir/f7.jpg",
            "dup",
        }


def test_a_malformed_line_leaves_no_trace(tmp_path: Path) -> None:
    source = md5_file(tmp_path / "bad.md5", 3000, extra="not a hash line\n")
    store_dir = tmp_path / "store"
    with HashSetStore(store_dir) as store:
        with pytest.raises(HashSetFormatError) as failed:
            store.import_file(source)
        assert failed.value.line == 3001
        assert store.list_sets() == []
        assert not (store_dir / "packed").exists()  # (the first import's: gone with it)
        result = store.import_file(source, skip_invalid=True)
        assert result.skipped == 1 and result.info.entries == 3000


def test_removing_a_set_removes_its_files_and_strays_are_cleared(tmp_path: Path) -> None:
    store_dir = tmp_path / "store"
    with HashSetStore(store_dir) as store:
        info = store.import_file(md5_file(tmp_path / "a.md5", 10)).info
        assert (store_dir / "packed" / str(info.id)).is_dir()
        store.remove(info.name)
        assert not (store_dir / "packed" / str(info.id)).exists()
        stray = store_dir / "packed" / "99"  # an import killed before its commit
        stray.mkdir()
        store.import_file(md5_file(tmp_path / "b.md5", 10))
        assert not stray.exists()


def test_a_bare_list_keeps_no_reference_files(tmp_path: Path) -> None:
    values = [hashlib.sha1(str(i).encode()).hexdigest().upper() for i in range(300)]
    (tmp_path / "bare.txt").write_text("SHA1\n" + "\n".join(values) + "\n")
    with HashSetStore(tmp_path / "store") as store:
        info = store.import_file(tmp_path / "bare.txt").info
        assert info.layout is SetLayout.PACKED and info.algorithms == ("sha1",)
        files = sorted(p.name for p in (tmp_path / "store" / "packed" / str(info.id)).iterdir())
        assert files == ["sha1.entries", "sha1.values"]
        key = bytes.fromhex(values[42])
        hit = store.lookup(info, "sha1", [key])[key]
        assert [(d.reference, d.value) for d in hit] == [(None, values[42].lower())]


def test_texts_are_written_to_disk_while_the_set_is_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The references (and records) go to disk in the background as they come, so the
    sync before the catalogue names the set has little left to write."""
    out = PackedWriter(tmp_path / "set")
    refs = tmp_path / "set" / "refs.data"
    asked: list[int] = []  # entries written when a flush was asked for
    flushed: list[bool] = []  # whether each flush was of refs.data
    ask = entry_files._Flusher.request

    def request(self: entry_files._Flusher, fd: int) -> None:
        asked.append(out.entries)
        ask(self, fd)

    monkeypatch.setattr(entry_files, "FLUSH_BYTES", 1000)
    monkeypatch.setattr(entry_files._Flusher, "request", request)
    monkeypatch.setattr(
        entry_files.os,
        "fdatasync",
        lambda fd: flushed.append(os.path.samefile(f"/proc/self/fd/{fd}", refs)),
    )
    values = _values(700)
    for start in range(0, 700, 128):
        out.add(_block(values[start : start + 128], start))
    out.finish()
    assert len(asked) == 2 and max(asked) < 700  # (about 2,600 bytes of names)
    assert 1 <= len(flushed) <= 2 and all(flushed)  # (one is skipped if the last is not done)
    assert refs.read_bytes() == b"".join(f"n{i}".encode() for i in range(700))


def test_a_failed_background_write_fails_the_import(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An I/O error while the texts were written out in the background stops the import
    with a message about the store, and the store is left as it was."""

    def fdatasync(fd: int) -> None:
        raise OSError(errno.EIO, os.strerror(errno.EIO))

    monkeypatch.setattr(entry_files, "FLUSH_BYTES", 1000)
    monkeypatch.setattr(entry_files.os, "fdatasync", fdatasync)
    store_dir = tmp_path / "store"
    with HashSetStore(store_dir) as store:
        with pytest.raises(StoreError, match=r"writing the hash-set store failed .*Input/output"):
            store.import_file(md5_file(tmp_path / "a.md5", 3000))
        assert store.list_sets() == []
        assert not (store_dir / "packed").exists()  # (the first import's: gone with it)


@pytest.mark.parametrize(
    ("damage", "said"),
    [
        (lambda d: (d / "md5.values").unlink(), "md5.values is missing"),
        (lambda d: os.truncate(d / "md5.values", 16 * 100), "md5.entries does not match"),
        (lambda d: os.truncate(d / "md5.values", 16 * 100 + 3), "md5.values is missing or not"),
        (lambda d: (d / "md5.entries").unlink(), "md5.entries does not match"),
        (lambda d: (d / "refs.data").unlink(), "refs.offsets or refs.data is not whole"),
    ],
    ids=["values-gone", "values-cut", "values-cut-mid-value", "entries-gone", "names-gone"],
)
def test_a_damaged_set_is_said_to_be_damaged(
    tmp_path: Path, damage: Callable[[Path], None], said: str
) -> None:
    """Files missing or cut short read as fewer values: lookups missed every match (or
    some) and the scan went on as if the set held them."""
    source = md5_file(tmp_path / "a.md5", 300)
    with HashSetStore(tmp_path / "store") as store:
        info = store.import_file(source).info
    damage(tmp_path / "store" / "packed" / str(info.id))
    with (
        HashSetStore(tmp_path / "store") as store,
        pytest.raises(StoreError, match=f"damaged: set 'a': {said}"),
    ):
        store.lookup(info, "md5", [hashlib.md5(b"7").digest()])


def test_per_entry_files_are_made_when_the_first_entry_needs_them(tmp_path: Path) -> None:
    """Names, label codes and qualities are filled in for the entries before the first
    that has one; a set none of whose entries has one gets no file (they used to be
    written in full for every set and removed: hundreds of MB for a bare list)."""
    values = _values(6)
    bare = PackedBlock.single("md5", values[:3], b"", np.zeros(4, np.int64))
    named = PackedBlock(
        3, PackedBlock.single("md5", values[3:], b"", np.zeros(4, np.int64)).columns,
        b"abc", np.array([0, 1, 1, 3]), np.array([1, 0, 1], np.uint16),
        (PackedLabel("x"),), qualities=np.array([90, QUALITY_NONE, 30], np.uint8),
    )  # fmt: skip
    out = PackedWriter(tmp_path / "bare")
    out.add(bare)
    out.finish()
    assert sorted(p.name for p in (tmp_path / "bare").iterdir()) == ["md5.entries", "md5.values"]
    out = PackedWriter(tmp_path / "set")
    out.add(bare)
    out.add(named)
    out.finish()
    folder = tmp_path / "set"
    assert np.fromfile(folder / "refs.offsets", "<u8").tolist() == [0, 0, 0, 0, 1, 1, 3]
    assert (folder / "refs.data").read_bytes() == b"abc"
    assert np.fromfile(folder / "labels.codes", "<u2").tolist() == [0, 0, 0, 1, 0, 1]
    assert (folder / "qualities").read_bytes() == bytes([255, 255, 255, 90, 255, 30])
    packed = PackedSet(folder)
    assert [packed.reference(e) for e in range(1, 7)] == [None] * 3 + ["a", None, "bc"]
    assert [packed.quality(e) for e in range(1, 7)] == [None] * 3 + [90, None, 30]


def test_comments_and_odd_lines_do_not_cut_a_chunk_into_small_blocks(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A comment on the first line once sent a whole chunk to the line reader, and each
    line the fast check left cut the lines around it into blocks of their own (a list
    with one such line in nine: 9.7 s and 334 MB a million lines for comments, 18.6 s
    and 475 MB for escaped names)."""
    lines = []
    for i in range(3000):
        if i % 9 == 0:
            lines.append("# a comment" if i % 18 else "\\" + f"{i:032x}  dir\\\\f{i}.jpg")
        lines.append(f"{i + 5000:032x}  f{i}.jpg")
    data = ("# made by a script\n" + "\n".join(lines) + "\n").encode()
    by_line_reader = bulklines._slow_text
    monkeypatch.setattr(bulklines, "_slow_text", None)  # (the chunk must be read in bulk)
    blocks = list(read_blocks(Md5sum(), io.BytesIO(data)))
    monkeypatch.setattr(bulklines, "_slow_text", by_line_reader)
    assert sum(b.entries for b in blocks if isinstance(b, PackedBlock)) == 3000 + 167
    assert len(blocks) == 1
    assert by_blocks(Md5sum(), data) == by_lines(Md5sum(), data)


def test_joined_blocks_are_the_block_of_all_their_entries() -> None:
    """``concat`` of blocks gathered from entries is the block gathered from all of them:
    values of several algorithms, names, labels with categories, records, qualities."""

    def entry(i: int) -> ParsedEntry:
        values = [HashValue("md5", f"{i:032x}")]
        if i % 2:
            values.append(HashValue("pdq", f"{i:064x}", 40 + i))
        return ParsedEntry(tuple(values), reference=f"f{i}" if i % 3 else None,
                           label=["a", "b", None][i % 3],
                           category=Category.ALERT if i % 3 == 0 else None,
                           record=f'{{"n": {i}}}' if i % 4 else None)  # fmt: skip

    entries = [entry(i) for i in range(12)]
    parts = [gather(entries[a:b]) for a, b in ((0, 1), (1, 5), (5, 6), (6, 12))]

    def shape(block: PackedBlock) -> list[object]:
        out: list[object] = []
        for i in range(block.entries):
            values = sorted((c.algorithm, bytes(c.values[k]).hex()) for c in block.columns
                            for k in (c.rows == i).nonzero()[0].tolist())  # fmt: skip
            code = int(block.label_codes[i]) if block.label_codes is not None else 0
            assert block.record_offsets is not None and block.qualities is not None
            out.append((values, block.ref_data[block.ref_offsets[i] : block.ref_offsets[i + 1]],
                        block.label_table[code - 1] if code else None,
                        block.record_data[block.record_offsets[i] : block.record_offsets[i + 1]],
                        int(block.qualities[i])))  # fmt: skip
        return out

    assert shape(concat(parts)) == shape(gather(entries))


@pytest.mark.parametrize("limit", [50, 10**9], ids=["in-files", "in-memory"])
def test_one_value_in_two_columns_comes_out_in_entry_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, limit: int
) -> None:
    """A VICS medium's alternative MD5 is a second md5 column of its block: one value,
    the odd entries' MD5 and the even entries' alternative, reaches the writer as
    (2, 4, ..., 1, 3, ...) a block. Sorted in files (one value: no byte to split on),
    it came out in that order; lookups give a value's entries in entry order."""
    monkeypatch.setattr(writer, "SORT_LIMIT", limit)
    monkeypatch.setattr(writer, "_COPY_RECORDS", 64)
    monkeypatch.setattr(writer, "_ENTRY_BINS", 8)  # (several ranges of entries)
    monkeypatch.setattr(writer, "HOLD_BYTES", 0)  # every value goes to buckets
    same = np.frombuffer(b"\x42" * 16, np.uint8).reshape(1, 16)
    out = PackedWriter(tmp_path / "set")
    for start in range(0, 400, 100):
        rows = np.arange(100)
        other = _values(100, bytes([start // 100 + 1]))  # each entry's other value
        main = np.where((rows % 2 == 0)[:, None], same, other)  # entries 1, 3...: same
        alternative = np.where((rows % 2 == 1)[:, None], same, other)  # 2, 4...: same
        block = _block(main, start)
        columns = (*block.columns, PackedColumn("md5", alternative, rows))
        out.add(replace(block, columns=columns))
    out.finish()
    found = PackedSet(tmp_path / "set").lookup("md5", 16, [b"\x42" * 16])[b"\x42" * 16]
    assert [h.entry for h in found] == list(range(1, 401))
