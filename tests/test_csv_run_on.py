"""A line whose quoted field runs on (a stray quote in a name) is read by ``csv`` with
the lines it takes in, and the lines after it in bulk again: one such line sent the
whole rest of a 1 M-line NSRL file to the ``csv`` module (18 s instead of 2). What the
bulk reader gives stays what the row reader gives."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest

from hashmatch.hashsets.formats import csv_lines, get_format
from hashmatch.hashsets.formats.generic_csv import GenericCsv
from hashmatch.hashsets.formats.hashkeeper import HASHKEEPER_HEADER
from tests.test_csv_bulk import unrolled
from tests.test_nsrl_text_bulk import by_blocks, by_rows

NSRL_HEADER = ('"SHA-1","MD5","CRC32","FileName","FileSize","ProductCode","OpSystemCode",'
               '"SpecialCode"')  # fmt: skip


def _nsrl(count: int, odd: dict[int, str]) -> bytes:
    lines = [NSRL_HEADER]
    for n in range(count):
        name = odd.get(n, f'"file{n}.dll"')
        lines.append(f'"{n:040X}","{n:032X}","C0FFEE00",{name},4096,{n % 7},"358",""')
    return ("\r\n".join(lines) + "\r\n").encode("latin-1")


def _no_rest(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Where the rest of a file was handed to ``csv`` (a list that stays empty)."""
    handed: list[int] = []
    rest = csv_lines._csv_rest

    def counted(stream: Any, first_line: int, *args: Any) -> Any:
        handed.append(first_line)
        return rest(stream, first_line, *args)

    monkeypatch.setattr(csv_lines, "_csv_rest", counted)
    return handed


@pytest.mark.parametrize(
    "odd",
    [
        {5: '"fi"le5.dll"'},  # a stray quote: csv reads the line as one row
        {5: '"two\r\nlines.dll"'},  # a quoted field over two lines
        {5: '"open.dll', 9: 'shut.dll"'},  # a field open over four lines
        {3: '"a"b.dll"', 700: '"c"d.dll"', 1500: '"e"f.dll"'},
    ],
    ids=["stray quote", "two lines", "four lines", "three"],
)
def test_a_field_running_on_is_read_by_csv_and_the_rest_in_bulk(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, odd: dict[int, str]
) -> None:
    monkeypatch.setattr(csv_lines, "CHUNK_BYTES", 64 * 1024)
    path = tmp_path / "NSRLFile.txt"
    path.write_bytes(_nsrl(2000, odd))
    handed = _no_rest(monkeypatch)
    bulk = by_blocks(path)
    assert handed == []
    assert bulk == by_rows(path) and len(bulk) >= 2000 - 4


def test_a_field_running_past_the_chunk_hands_the_rest_to_csv(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(csv_lines, "CHUNK_BYTES", 4096)
    text = "md5,name\n" + "".join(
        f'{n:032x},"open\n' if n == 100 else f"{n:032x},f{n}\n" for n in range(500)
    )  # (no quote after it closes the field: it runs to the end of the file)
    handed = _no_rest(monkeypatch)
    data = text.encode()
    assert unrolled(GenericCsv().blocks(io.BytesIO(data))) == unrolled(
        GenericCsv().read(io.BytesIO(data))
    )
    assert handed == [102]  # (the file's line of the open field: the header is line 1)


def test_a_lone_carriage_return_in_a_field_running_on_hands_the_rest_to_csv(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    text = "md5,name\n" + "".join(
        f'{n:032x},"a\rb\nc"\n' if n == 3 else f"{n:032x},f{n}\n" for n in range(50)
    )
    handed = _no_rest(monkeypatch)
    data = text.encode()
    assert unrolled(GenericCsv().blocks(io.BytesIO(data))) == unrolled(
        GenericCsv().read(io.BytesIO(data))
    )
    assert handed == [5]


def test_each_stretch_between_fields_running_on_is_looked_at_alone(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A format's check is given each stretch's bytes only: given the whole chunk for
    each, a file with one such line in a hundred took longer than ``csv`` reading it
    all (31 s against 21 s for 1 M lines; 5.5 s now)."""
    path = tmp_path / "NSRLFile.txt"
    path.write_bytes(_nsrl(3000, {n: f'"a"b{n}.dll"' for n in range(5, 3000, 100)}))
    looked_at: list[int] = []
    stretch = csv_lines._stretch

    def recorded(*args: Any) -> csv_lines.Lines:
        lines = stretch(*args)
        looked_at.append(len(lines.arr))
        return lines

    monkeypatch.setattr(csv_lines, "_stretch", recorded)
    assert by_blocks(path) == by_rows(path)
    assert len(looked_at) == 31 and sum(looked_at) < path.stat().st_size


@pytest.mark.parametrize(
    ("fmt", "lines", "message"),
    [
        ("csv", ["name,md5", f"a.jpg,{'a' * 32}", 'b.jpg,"ffee'], "not a valid md5: 'ffee'"),
        ("hashkeeper",
         [HASHKEEPER_HEADER, f'17,5,"A.JPG","C:\\PICS","{"ab" * 16}",1,,,,,,',
          '18,5,"B.JPG","C:\\PICS","ffee'],
         "hash is not an MD5: 'ffee'"),
    ],
)  # fmt: skip
def test_a_quote_left_open_at_the_end_of_a_file_without_a_line_end_is_read_as_csv_does(
    tmp_path: Path, fmt: str, lines: list[str], message: str
) -> None:
    """The bulk reader ends the last line with an LF of its own; handed to ``csv`` with
    a quote left open, the LF was read into the field: ``'ffee\\n'`` in the message
    where the row reader said ``'ffee'``."""
    path = tmp_path / "set.txt"
    path.write_text("\r\n".join(lines))  # (no line end after the open quote)
    reader = get_format(fmt)
    with path.open("rb") as stream:
        rows = unrolled(reader.read(stream))
    with path.open("rb") as stream:
        assert unrolled(reader.blocks(stream)) == rows
    assert rows[-1] == (3, message)
