"""NSRL RDS 2.x (NSRLFile.txt) read in bulk into a packed set: the same entries, labels,
categories, messages and line numbers as the row reader."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hashmatch.errors import HashSetFormatError
from hashmatch.hashsets import Category, HashSetStore
from hashmatch.hashsets.formats import csv_lines, nsrl_text
from hashmatch.hashsets.model import ParsedEntry, SetLayout

from .unrolled import BlockEntry, Invalid, from_blocks, from_records

HEADER = ["SHA-1", "MD5", "CRC32", "FileName", "FileSize", "ProductCode", "OpSystemCode",
          "SpecialCode"]  # fmt: skip
SHA1, MD5 = "AB" * 20, "CD" * 16

Found = tuple[tuple[tuple[str, str], ...], str | None, str | None, str | None, int | None]


def write(
    path: Path, rows: list[list[str]], blank_lines: tuple[int, ...] = (), nist: bool = False
) -> Path:
    """An NSRLFile.txt; ``nist``: the numbers unquoted and LF, as NIST writes them."""
    path.parent.mkdir(exist_ok=True)
    out = io.StringIO(newline="")
    quoting = csv.QUOTE_NONNUMERIC if nist else csv.QUOTE_ALL
    writer = csv.writer(out, quoting=quoting, lineterminator="\n" if nist else "\r\n")
    csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator="\r\n").writerow(HEADER)
    if nist:
        rows = [[int(f) if k in (4, 5) and f.isdigit() else f for k, f in enumerate(r)]
                for r in rows]  # type: ignore[misc]  # fmt: skip
    for n, row in enumerate(rows):
        if n in blank_lines:
            out.write("\r\n")
        writer.writerow(row)
    path.write_bytes(out.getvalue().encode("latin-1"))
    return path


def by_rows(path: Path) -> list[Found | Invalid]:
    def shape(record: ParsedEntry) -> Found:
        category = record.category.value if record.category else None
        values = tuple((v.algorithm, v.hex) for v in record.hashes)
        return values, record.reference or None, record.label, category, record.size

    with path.open("rb") as stream:
        return from_records(nsrl_text.NsrlText().read(stream), shape)


def by_blocks(path: Path) -> list[Found | Invalid]:
    def shape(entry: BlockEntry) -> Found:
        own = entry.label
        category = own.category.value if own and own.category else None
        return entry.values, entry.reference, own.label if own else "NSRL", category, entry.size

    with path.open("rb") as stream:
        return from_blocks(nsrl_text.NsrlText().blocks(stream), shape)


hexes = st.sampled_from([SHA1, SHA1.lower(), " " + SHA1, "zz" * 20, "", SHA1[:-1]])
md5s = st.sampled_from([MD5, MD5.lower(), "nothex", "", MD5 + " "])
names = st.text(st.characters(codec="latin-1", exclude_characters="\r\x00"), max_size=8)
specials = st.sampled_from(["", "", "", "M", "S", " ", "M "])
sizes = st.sampled_from(["512", "512", "0", "", " 7", "x", "-1", "00042", "9" * 18, "9" * 19,
                         str(1 << 63), "1,5"])  # fmt: skip


def row(sha1: str, md5: str, name: str, special: str, short: bool, size: str) -> list[str]:
    return [sha1, md5, "C0FFEE00", name, size, "1001", "358", special][: 7 if short else 8]


rows = st.lists(st.builds(row, hexes, md5s, names, specials, st.booleans(), sizes), max_size=25)


@settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    rows=rows,
    batch=st.integers(1, 6),
    blanks=st.sets(st.integers(0, 25), max_size=3),
    chunk=st.sampled_from([64, 300, csv_lines.CHUNK_BYTES]),
    nist=st.booleans(),
)
def test_bulk_reader_gives_the_row_readers_entries(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    rows: list[list[str]],
    batch: int,
    blanks: set[int],
    chunk: int,
    nist: bool,
) -> None:
    """Names with commas, quotes, Latin-1 letters and line ends; numbers quoted or not;
    lines cut anywhere by the chunk size."""
    monkeypatch.setattr(nsrl_text, "BATCH_ROWS", batch)
    monkeypatch.setattr(csv_lines, "CHUNK_BYTES", chunk)
    path = write(tmp_path / "NSRLFile.txt", rows, tuple(blanks), nist)
    assert by_blocks(path) == by_rows(path)


def test_special_codes_are_labels_and_m_is_an_alert(store: HashSetStore, tmp_path: Path) -> None:
    rows = [[SHA1, MD5, "0", "a.exe", "1", "1", "358", ""],
            [SHA1, "EF" * 16, "0", "nc.exe", "1", "1", "358", "M"],
            ["12" * 20, "34" * 16, "0", "b.dll", "1", "1", "358", "S"]]  # fmt: skip
    path = write(tmp_path / "NSRLFile.txt", rows)
    info = store.import_file(path, name="rds2").info
    assert info.layout is SetLayout.PACKED
    assert store.breakdown(info) == [("alert", "NSRL special M", 1), ("known-good", "NSRL", 1),
                                     ("known-good", "NSRL special S", 1)]  # fmt: skip
    hit = store.lookup(info, "md5", [bytes.fromhex("EF" * 16)])[bytes.fromhex("EF" * 16)]
    assert [(h.label, h.category, h.reference) for h in hit] == [
        ("NSRL special M", Category.ALERT, "nc.exe")]  # fmt: skip
    exported = [(e.label, e.category) for e in store.iter_entries(info)]
    assert exported == [("NSRL", Category.KNOWN_GOOD), ("NSRL special M", Category.ALERT),
                        ("NSRL special S", Category.KNOWN_GOOD)]  # fmt: skip
    # An explicit --category replaces the file's categories and keeps its labels.
    again = write(tmp_path / "again" / "NSRLFile.txt", rows, blank_lines=(1,))  # another file
    chosen = store.import_file(again, name="chosen", category=Category.KNOWN_BAD).info
    assert store.breakdown(chosen) == [("known-bad", "NSRL", 1), ("known-bad", "NSRL special M", 1),
                                       ("known-bad", "NSRL special S", 1)]  # fmt: skip


def _lines(changed: dict[int, str]) -> bytes:
    """20 rows as NIST writes them (CRLF), with some rows replaced as written."""
    head = ",".join(f'"{h}"' for h in HEADER)
    rows = [f'"{SHA1[:-2]}{i:02X}","{MD5}","C0FFEE00","f{i}",12,345,"358",""' for i in range(20)]
    for at, text in changed.items():
        rows[at] = text
    return ("\r\n".join([head, *rows]) + "\r\n").encode("latin-1")


@pytest.mark.parametrize(
    "changed",
    [
        {3: f'"{SHA1}","{MD5}","C0FFEE00","a\rb",12,345,"358",""', 10: f'"{"Z" * 40}","{MD5}"'},
        {3: f'"{SHA1}","{MD5}","C0FFEE00","f3",12,345,"358",M\rX'},
        {3: f'"{"Z" * 40}","{MD5}","C0FFEE00","f3",12,345,"358",M\rX'},
    ],
    ids=["in-a-quoted-name", "in-a-special-code", "in-a-refused-row"],
)
def test_a_carriage_return_inside_a_line_is_read_as_the_csv_reader_reads_it(
    tmp_path: Path, changed: dict[int, str]
) -> None:
    """The bulk reader split lines at LF only; the CSV reader ends a line at a CR too.
    Later rows got other line numbers, an entry lost its SpecialCode's alert, and a CR
    in a refused row stopped the import with csv's own error."""
    path = tmp_path / "NSRLFile.txt"
    path.write_bytes(_lines(changed))
    assert by_blocks(path) == by_rows(path)


def test_a_header_ending_in_two_carriage_returns_is_read_as_the_csv_reader_reads_it(
    tmp_path: Path,
) -> None:
    """The CSV reader ends a line at the first CR (an empty line follows); the bulk
    reader took the header's two for one line end, and every later line number was one
    too low."""
    path = tmp_path / "NSRLFile.txt"
    data = _lines({5: f'"{"Z" * 40}","{MD5}","C0FFEE00","f5",12,345,"358",""'})
    path.write_bytes(data.replace(b'"SpecialCode"\r\n', b'"SpecialCode"\r\r\n', 1))
    found = by_blocks(path)
    assert found == by_rows(path)
    assert [item[0] for item in found if len(item) == 2] == [8]  # (invalid: line, reason)


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be"])
def test_a_utf16_nsrl_file_is_read(store: HashSetStore, tmp_path: Path, encoding: str) -> None:
    """Saved again by a Windows editor: recognised as NSRL, it was then refused as "not
    an NSRL header" (its bytes, NULs and all, printed in the message)."""
    plain = write(tmp_path / "NSRLFile.txt", [[SHA1, MD5, "C0FFEE00", "réadme.txt", "512",
                                               "1001", "358", ""]])  # fmt: skip
    path = tmp_path / "u16.txt"
    path.write_bytes(("\ufeff" + plain.read_text(encoding="latin-1")).encode(encoding))
    info = store.import_file(path).info
    assert (info.format, info.entries, info.category) == ("nsrl-rds2", 1, Category.KNOWN_GOOD)
    (hit,) = store.lookup(info, "md5", [bytes.fromhex(MD5)])[bytes.fromhex(MD5)]
    assert (hit.reference, hit.size) == ("réadme.txt", 512)


def test_a_header_that_is_not_nsrls_is_shown_escaped(store: HashSetStore, tmp_path: Path) -> None:
    """Its text went into the message as read: a terminal ran the escape sequences."""
    path = tmp_path / "esc.txt"
    path.write_bytes(b'"SHA-1","MD5"\x1b[31mRED\x07\n')
    with pytest.raises(HashSetFormatError, match=r"not an NSRL header: 'SHA-1,MD5\\x1b\[31mRED"):
        store.import_file(path, format_name="nsrl-rds2")
    assert store.list_sets() == []
