"""HashKeeper, TSK (.idx, .kdb), EnCase and BSD-tag sets are packed: their bulk readers give what
their record readers give (values, names, messages and line numbers, in order), whatever
the file holds."""

from __future__ import annotations

import io
import sqlite3
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hashmatch.hashsets import HashSetStore
from hashmatch.hashsets.formats import bulklines, csv_lines, encase, tsk
from hashmatch.hashsets.formats.base import HashSetFormat
from hashmatch.hashsets.formats.encase import EnCaseHash
from hashmatch.hashsets.formats.hashkeeper import HASHKEEPER_HEADER, HashKeeper
from hashmatch.hashsets.formats.nsrl_text import NsrlText
from hashmatch.hashsets.formats.sums import BsdTag
from hashmatch.hashsets.formats.tsk import TskIdx, TskKdb
from hashmatch.hashsets.model import ParsedEntry, SetLayout

from .unrolled import BlockEntry, Invalid, from_blocks, from_records

DATA = Path(__file__).parent / "data" / "hashsets"
MD5 = "00112233445566778899AABBCCDDEEFF"

Found = tuple[tuple[tuple[str, str], ...], str | None, int | None]


def both(fmt: HashSetFormat, data: bytes, path: Path | None = None) -> tuple[list[Any], list[Any]]:
    """(what ``blocks`` gives, what ``read`` gives) for a file of ``data``."""

    def record(entry: ParsedEntry) -> Found:
        return (
            tuple((v.algorithm, v.hex) for v in entry.hashes),
            entry.reference or None,
            entry.size,
        )

    def block(entry: BlockEntry) -> Found:
        return entry.values, entry.reference, entry.size

    def opened() -> io.BufferedReader | io.BytesIO:
        return path.open("rb") if path is not None else io.BytesIO(data)

    with opened() as stream:
        bulk: list[Found | Invalid] = from_blocks(fmt.blocks(stream), block)
    with opened() as stream:
        rows: list[Found | Invalid] = from_records(fmt.read(stream), record)
    return bulk, rows


# A HashKeeper line's fields as written: well-formed, or each of the ways a file can
# surprise a CSV reader (commas and doubled quotes in quoted names, a quote inside an
# unquoted field, a space before a quote, bytes that are not UTF-8, a name over lines).
NAMES = st.sampled_from([b'"IMG1.JPG"', b"IMG2.JPG", b'""', b"", b'"a,b.jpg"', b'"say ""hi"".jpg"',
                         b'a"b', b' "c.jpg"', b'"caf\xc3\xa9.jpg"', b'"caf\xe9.jpg"', b"\xe9t\xe9",
                         b'"two\nlines"', b'"x"y', b'"\xc3"'])  # fmt: skip
FOLDERS = st.sampled_from([b'"C:\\PICS"', b"C:\\PICS", b'""', b"", b'"D:\\a,b"', b'"E:\\""q"""'])
HASHES = st.sampled_from([f'"{MD5}"'.encode(), MD5.lower().encode(), f'" {MD5}"'.encode(),
                          b'"nothex"', b'""', b"", f'"{MD5[:-1]}"'.encode(),
                          f'"{MD5[:-2]}""x"'.encode(), f'"{MD5[:-1]}\xe9"'.encode()])  # fmt: skip
ENDS = st.sampled_from([b"\r\n", b"\r\n", b"\n", b"\r"])
SIZES = st.sampled_from([b"20480", b"20480", b'"20480"', b"", b'""', b" 7", b"x", b'"1,5"',
                         b"9" * 18, b"9" * 19, b"-1", b'"\xc2\xb2"'])  # fmt: skip


@st.composite
def hashkeeper_files(draw: Any) -> bytes:
    head = draw(st.sampled_from([b"", b"\xef\xbb\xbf"]))
    out = [head + HASHKEEPER_HEADER.encode() + b"\r\n"]
    for n in range(draw(st.integers(0, 20))):
        fields = [str(n).encode(), b"5", draw(NAMES), draw(FOLDERS), draw(HASHES), draw(SIZES),
                  b"7/1/03 0:00:00", b"7/1/03 0:00:00", b'"EST"', b"", b"", b""]  # fmt: skip
        width = draw(st.sampled_from([12, 12, 12, 5, 4, 13, 1]))
        line = b",".join(fields[:width] + [b"x"] * (width - 12))
        out.append(draw(st.sampled_from([line, line, line, b"", b"   "])) + draw(ENDS))
    return b"".join(out)


@settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(data=hashkeeper_files(), chunk=st.sampled_from([64, 300, csv_lines.CHUNK_BYTES]))
def test_hashkeeper_bulk_reader_gives_the_row_readers_entries(
    monkeypatch: pytest.MonkeyPatch, data: bytes, chunk: int
) -> None:
    monkeypatch.setattr(csv_lines, "CHUNK_BYTES", chunk)
    bulk, rows = both(HashKeeper(), data)
    assert bulk == rows


def test_hashkeeper_plain_lines_are_read_in_bulk(store: HashSetStore, tmp_path: Path) -> None:
    """Names joined as folder\\name, Latin-1 names read as such, and a quote inside an
    unquoted field before a quoted one that runs on: the CSV reader reads the next line
    into that field (an even number of quotes on the line, yet not a line of its own)."""
    rest = ',1,,,"EST",,,'
    lines = [HASHKEEPER_HEADER.encode(),
             f'1,5,"IMG1.JPG","C:\\PICS","{MD5}"{rest}'.encode(),
             f'2,5,"caf\xe9.jpg","","{"ab" * 16}"{rest}'.encode("latin-1"),
             f'3,5,"","D:\\x","{"cd" * 16}"{rest}'.encode(),
             f'4,5,a"b,"c.jpg,D:\\,{"ef" * 16},1,,,EST,,,'.encode(),
             f'5,5,"d.jpg","D:\\y","{"12" * 16}"{rest}'.encode(),
             f'6,5,"e.jpg","D:\\y","{"34" * 16}"{rest}'.encode()]  # fmt: skip
    path = tmp_path / "set.hsh"
    path.write_bytes(b"\r\n".join(lines) + b"\r\n")
    bulk, rows = both(HashKeeper(), b"", path)
    assert bulk == rows
    assert bulk == [((("md5", MD5.lower()),), "C:\\PICS\\IMG1.JPG", 1),
                    ((("md5", "ab" * 16),), "café.jpg", 1),
                    ((("md5", "cd" * 16),), "D:\\x", 1),
                    ((("md5", "34" * 16),), "D:\\y\\e.jpg", 1),
                    (6, "hash is not an MD5: 'D:\\\\y'")]  # (lines 5 and 6: one row)  # fmt: skip
    info = store.import_file(path, name="hk", skip_invalid=True).info
    assert info.layout is SetLayout.PACKED and info.format == "hashkeeper"
    assert info.entries == 4
    key = bytes.fromhex("ab" * 16)  # (a Latin-1 name, kept as written, read as the rows are)
    assert store.lookup(info, "md5", [key])[key][0].reference == "café.jpg"


@st.composite
def idx_files(draw: Any) -> bytes:
    header = draw(st.sampled_from([b"", b"0" * 41 + b"|nsrl\n" + b"0" * 40 + b"1|NSRL 2.50\n"]))
    values = st.sampled_from([MD5, MD5.lower(), " " + MD5, MD5 + " ", "z" * 32, MD5[:-1], "",
                              "0" * 41, "# x", "md5"])  # fmt: skip
    rests = st.sampled_from(["|0000000000000160", "|", "", "|x|y", " |1", "\t1"])
    lines = [f"{draw(values)}{draw(rests)}".encode() for _ in range(draw(st.integers(0, 20)))]
    ends = [draw(st.sampled_from([b"\n", b"\r\n", b"\r"])) for _ in lines]
    return header + b"".join(line + end for line, end in zip(lines, ends, strict=True))


@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=idx_files(), chunk=st.sampled_from([40, 100, bulklines.CHUNK_BYTES]))
def test_tsk_idx_bulk_reader_gives_the_line_readers_entries(
    monkeypatch: pytest.MonkeyPatch, data: bytes, chunk: int
) -> None:
    monkeypatch.setattr(bulklines, "CHUNK_BYTES", chunk)
    fmt = TskIdx()
    bulk, rows = both(fmt, data)
    assert bulk == rows


def test_tsk_idx_header_lines_go_into_the_provenance_when_read_in_bulk() -> None:
    data = f"{'0' * 41}|nsrl\n{'0' * 40}1|NSRL RDS 2.50\n{MD5}|0000000000000000\n".encode()
    fmt = TskIdx()
    assert from_blocks(fmt.blocks(io.BytesIO(data)), lambda e: e.values) == [
        (("md5", MD5.lower()),)
    ]
    assert fmt.provenance() == {"tsk_idx_type": "nsrl", "tsk_idx_name": "NSRL RDS 2.50"}


@pytest.mark.parametrize("cut", [0, 5, 18, 18 * 3 + 7])
def test_encase_bulk_reader_gives_the_record_readers_entries(
    monkeypatch: pytest.MonkeyPatch, cut: int
) -> None:
    monkeypatch.setattr(encase, "CHUNK_RECORDS", 2)  # (blocks of two records)
    records = b"".join(bytes([n]) * 16 + b"\0\0" for n in range(7))
    data = (DATA / "set.hash").read_bytes()[: encase.ENCASE_RECORDS] + records
    data = data[: len(data) - cut]
    bulk, rows = both(EnCaseHash(), data)
    assert bulk == rows
    assert len([f for f in bulk if f[0] is not None and not isinstance(f[0], int)]) == (
        7 - (cut + 17) // 18
    )


def test_tsk_kdb_bulk_reader_gives_the_row_readers_entries(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(tsk, "FETCH_ROWS", 3)
    path = tmp_path / "set.kdb"
    path.write_bytes((DATA / "set.kdb").read_bytes())
    with sqlite3.connect(path) as db:
        for n in range(3, 12):
            md5 = n.to_bytes(16, "big") if n % 4 else b"short%d" % n  # (every fourth one bad)
            db.execute("INSERT INTO hashes (md5) VALUES (?)", (md5,))
        db.executemany("INSERT INTO file_names VALUES (?, ?)",
                       [(f"f{n}.jpg", n) for n in range(3, 12, 2)])  # fmt: skip
        db.execute("INSERT INTO hashes (md5) VALUES (NULL)")
    bulk, rows = both(TskKdb(), b"", path)
    assert bulk == rows
    assert len(bulk) == 12 and sum(1 for f in bulk if isinstance(f[0], int | None)) == 3
    assert ((("md5", (5).to_bytes(16, "big").hex()),), "f5.jpg", None) in bulk


def test_nsrl_line_that_leaves_a_quoted_field_open_goes_to_the_csv_reader(tmp_path: Path) -> None:
    """A quote inside an unquoted field, then a quoted one that runs to the next line:
    an even number of quotes, yet the CSV reader reads both lines as one row."""
    head = '"SHA-1","MD5","CRC32","FileName","FileSize","ProductCode","OpSystemCode","SpecialCode"'
    good = f'"{"AB" * 20}","{"CD" * 16}","0","a.dll",1,2,"358",""'
    odd = f'"{"12" * 20}","{"34" * 16}","0",x"y,"1,2,358,'  # (8 quotes)
    path = tmp_path / "NSRLFile.txt"
    path.write_text("\r\n".join([head, good, odd, good, good]) + "\r\n", encoding="latin-1")
    bulk, rows = both(NsrlText(), b"", path)
    assert bulk == rows
    assert len(bulk) == 3  # (the second good line is inside the odd line's last field)


@st.composite
def bsd_files(draw: Any) -> bytes:
    """Tagged lines as the tools write them, and the variants only the line reader takes
    (lower-case tags, no spaces, a hex of the wrong length, a ') = ' inside the name)."""
    tags = {"MD5": MD5, "SHA1": "ab" * 20, "SHA256": "cd" * 32}
    names = st.sampled_from(["a.jpg", "x (1).jpg", "b) = c", "", "caf\u00e9", " sp "])
    lines = []
    for _ in range(draw(st.integers(0, 20))):
        tag = draw(st.sampled_from(list(tags)))
        value = draw(st.sampled_from([tags[tag], tags[tag].lower(), tags[tag][:-1], MD5]))
        form = draw(st.sampled_from(["{t} ({n}) = {v}"] * 4 + ["{t}({n})={v}", "{t} ({n})={v}",
                                     "{t} ({n}) ={v}", "md5 ({n}) = {v}", " {t} ({n}) = {v} ",
                                     "# {t}", ""]))  # fmt: skip
        lines.append(form.format(t=tag, n=draw(names), v=value))
    ends = draw(st.sampled_from(["\n", "\r\n"]))
    return ends.join(lines).encode("utf-8") + (ends.encode() if lines else b"")


@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=bsd_files(), chunk=st.sampled_from([40, 100, bulklines.CHUNK_BYTES]))
def test_bsd_bulk_reader_gives_the_line_readers_entries(
    monkeypatch: pytest.MonkeyPatch, data: bytes, chunk: int
) -> None:
    monkeypatch.setattr(bulklines, "CHUNK_BYTES", chunk)
    bulk, rows = both(BsdTag(), data)
    assert bulk == rows


def test_bsd_tagged_lines_are_packed(store: HashSetStore, tmp_path: Path) -> None:
    path = tmp_path / "sums.txt"
    path.write_text(f"MD5 (x (1).jpg) = {MD5}\nSHA256 (b) = c.jpg) = {'cd' * 32}\n" * 20)
    info = store.import_file(path, name="bsd").info
    assert (info.format, info.layout, info.entries) == ("bsd", SetLayout.PACKED, 40)
    key = bytes.fromhex("cd" * 32)
    assert store.lookup(info, "sha256", [key])[key][0].reference == "b) = c.jpg"


def test_tsk_kdb_progress_follows_the_hashes_read(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A .kdb is read through SQLite, not the stream: its progress is the share of its
    hashes read (it stood at 0 until the end)."""
    monkeypatch.setattr(tsk, "FETCH_ROWS", 1)
    path = tmp_path / "set.kdb"
    path.write_bytes((DATA / "set.kdb").read_bytes())
    reader = TskKdb()
    seen = []
    with path.open("rb") as stream:
        for _ in reader.blocks(stream):
            seen.append(reader.bytes_read())
    size = path.stat().st_size
    assert seen == [None, size // 2] and reader.bytes_read() == size


def test_hashkeeper_copies_a_chunk_once_however_many_lines_split_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Lines read alone (here a comment every tenth line) split a chunk into many blocks;
    the chunk with a backslash after it, to join folders and names, is made once (made
    for each block, a file with such a comment every ten lines took 45 s)."""
    rest = ',1,,,"EST",,,'
    lines = [HASHKEEPER_HEADER.encode()]
    for n in range(2000):
        lines.append(b"# comment" if n % 10 == 9 else
                     f'{n},5,"f{n}.jpg","C:\\PICS","{n:032x}"{rest}'.encode())  # fmt: skip
    data = b"\r\n".join(lines) + b"\r\n"
    large: list[int] = []
    concatenate = np.concatenate

    def counted(arrays: Any, *args: Any, **kwargs: Any) -> Any:
        if any(np.size(a) >= len(data) // 2 for a in arrays):
            large.append(1)
        return concatenate(arrays, *args, **kwargs)

    monkeypatch.setattr(np, "concatenate", counted)
    bulk, rows = both(HashKeeper(), data)
    assert bulk == rows and len([b for b in bulk if isinstance(b[0], tuple)]) == 1800
    assert len(large) == 1  # (one chunk)
