"""A CSV field longer than the ``csv`` module reads (131,072 characters: a quote left open,
whose field takes in the lines after it) stops the import with a message naming its
line, in every quoted-CSV format and whichever reader meets it: the line-by-line
reading of a plain file, its worker processes, ``csv`` for UTF-16 or a field running
over lines. It stopped the import with an internal error (``_csv.Error``), or imported
the same line where it came in a plain UTF-8 file."""

from __future__ import annotations

import codecs
import io
from pathlib import Path

import pytest

from hashmatch.errors import HashSetFormatError
from hashmatch.hashsets import HashSetStore
from hashmatch.hashsets.formats import line_workers
from hashmatch.hashsets.formats.csv_rows import FIELD_LIMIT, Chained

from .conftest import DATA

# Each format's header and a valid line whose name is {name} (its own quotes around it).
LINES = {
    "csv": ("md5,name", "00112233445566778899aabbccddeeff,{name}"),
    "hashkeeper": (
        (DATA / "hashsets" / "set.hsh").read_text().splitlines()[0],
        '17,5,{name},"C:\\PICS","00112233445566778899AABBCCDDEEFF",20480,7/1/03 0:00:00,'
        '7/1/03 0:00:00,"EST",,,',
    ),
    "nsrl-rds2": (
        '"SHA-1","MD5","CRC32","FileName","FileSize","ProductCode","OpSystemCode","SpecialCode"',
        '"0123456789ABCDEF0123456789ABCDEF01234567","00112233445566778899AABBCCDDEEFF",'
        '"1234ABCD",{name},512,1001,"358",""',
    ),
}


def write(path: Path, fmt: str, long_name: str, shape: str) -> None:
    """Ten valid lines, then one whose name is ``long_name``, then ten more."""
    header, line = LINES[fmt]
    lines = [header] + [line.format(name=f'"n{k}"') for k in range(10)]
    lines += [line.format(name=long_name)] + [line.format(name=f'"m{k}"') for k in range(10)]
    text = "\r\n".join(lines) + "\r\n"
    if shape == "utf-16":
        path.write_bytes(codecs.BOM_UTF16_LE + text.encode("utf-16-le"))
    else:
        path.write_text(text, encoding="latin-1" if fmt == "nsrl-rds2" else "utf-8", newline="")


# (NSRL RDS 2.x is ISO-8859-1 by its specification: no UTF-16 file of it.)
@pytest.mark.parametrize(
    ("fmt", "shape"),
    [(f, s) for f in sorted(LINES) for s in ("utf-8", "utf-16", "workers")
     if (f, s) != ("nsrl-rds2", "utf-16")],
)  # fmt: skip
@pytest.mark.parametrize(
    "long_name",
    [
        '"' + "a" * (FIELD_LIMIT + 1) + '"',  # one line
        '"' + "b\r\n" * (FIELD_LIMIT // 3 + 1) + '"',  # a quoted field over many lines
    ],
    ids=["one-line", "over-lines"],
)
def test_a_field_longer_than_csv_reads_stops_the_import_at_its_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fmt: str, shape: str, long_name: str
) -> None:
    if shape == "workers":  # (one chunk holds the whole file: a worker meets the line)
        monkeypatch.setattr(line_workers, "worker_count", lambda stream, least: 2)
        monkeypatch.setattr(line_workers, "CHUNK_BYTES", 3 * FIELD_LIMIT)
    path = tmp_path / "set.txt"
    write(path, fmt, long_name, shape)
    with HashSetStore(tmp_path / "store") as store:
        for skip_invalid in (False, True):
            with pytest.raises(HashSetFormatError) as raised:
                store.import_file(path, format_name=fmt, skip_invalid=skip_invalid)
            assert f"longer than {FIELD_LIMIT:,} characters" in raised.value.reason
            assert raised.value.line == 12  # (where the row starts: the header, ten rows)
            assert store.list_sets() == []


@pytest.mark.parametrize("fmt", sorted(LINES))
@pytest.mark.parametrize("line_bytes", [FIELD_LIMIT, FIELD_LIMIT + 1])
def test_a_field_as_long_as_csv_reads_is_imported(
    tmp_path: Path, fmt: str, line_bytes: int
) -> None:
    """A line of the limit's length is read in bulk, one byte longer by ``csv``: both
    take its name, as long as the limit (or just under)."""
    line = LINES[fmt][1]
    short = len(line.format(name='""'))  # (the line with an empty quoted name)
    name = "a" * min(FIELD_LIMIT, line_bytes - short)
    path = tmp_path / "set.txt"
    write(path, fmt, f'"{name}"', "utf-8")
    assert len(line.format(name=f'"{name}"')) == line_bytes
    with HashSetStore(tmp_path / "store") as store:
        info = store.import_file(path, format_name=fmt).info
        assert info.entries == 21
        assert max(len(e.reference or "") for e in store.iter_entries(info)) >= len(name)


@pytest.mark.parametrize("buffer", [1, 7, 8192])
def test_bytes_read_ahead_are_given_once_in_order_then_the_rest(buffer: int) -> None:
    """``Chained`` (what ``csv`` reads on from where a bulk reader stopped: a long line
    held) gives its head through a cursor, in pieces of any size, then the stream."""
    head = bytes(range(256)) * 40
    chained = io.BufferedReader(Chained(head, io.BytesIO(b"the rest")), buffer_size=buffer)
    pieces = []
    while piece := chained.read(buffer):
        pieces.append(piece)
    assert b"".join(pieces) == head + b"the rest"
