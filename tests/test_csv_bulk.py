"""Generic CSV sets are packed: read in batches, each hash column checked by numpy,
giving what the row reader gives (values, names, labels, categories, PDQ qualities and
messages, in order)."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hashmatch.hashsets.formats import csv_batches, csv_lines
from hashmatch.hashsets.formats.generic_csv import GenericCsv
from hashmatch.hashsets.model import InvalidRecord, ParsedEntry
from hashmatch.hashsets.name_decoding import NAME_ERRORS
from hashmatch.hashsets.packed import PackedBlock
from hashmatch.hashsets.packed.layout import QUALITY_NONE, SIZE_NONE

HEADERS = {
    "md5": ["md5", "MD5 Hash"], "sha1": ["sha1", "SHA-1"], "sha256": ["sha256"],
    "pdq": ["pdq", "PDQ Hash"], "name": ["name", "File Name", "path"], "quality": ["quality"],
    "category": ["category"], "size": ["size", "File Size", "logical_size"],
    "other": ["notes", "comment"],
}  # fmt: skip
DIGITS = {"md5": 32, "sha1": 40, "sha256": 64, "pdq": 64}
TEXT = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=6)


def unrolled(records: Any) -> list[object]:
    """Entries, then invalid records (``tests.unrolled`` says why)."""
    out: list[object] = []
    invalid: list[object] = []
    for record in records:
        if isinstance(record, InvalidRecord):
            invalid.append((record.line, record.reason))
        elif isinstance(record, ParsedEntry):
            if record.hashes:
                values = tuple(sorted((v.algorithm, v.hex) for v in record.hashes))
                qualities = {v.quality for v in record.hashes if v.quality is not None}
                quality = qualities.pop() if qualities else None
                out.append((values, record.reference or None, record.label, record.category,
                            quality, record.size))  # fmt: skip
        else:
            assert isinstance(record, PackedBlock)
            for i in range(record.entries):
                values = tuple(sorted((c.algorithm, bytes(c.values[k]).hex())
                                      for c in record.columns
                                      for k in (c.rows == i).nonzero()[0].tolist()))  # fmt: skip
                name = record.ref_data[record.ref_offsets[i] : record.ref_offsets[i + 1]]
                code = int(record.label_codes[i]) if record.label_codes is not None else 0
                own = record.label_table[code - 1] if code else None
                quality = int(record.qualities[i]) if record.qualities is not None else None
                reference = name.decode("utf-8", NAME_ERRORS) or None  # (as the store reads)
                size = int(record.sizes[i]) if record.sizes is not None else None
                out.append((values, reference, own.label if own else None,
                            own.category if own else None,
                            None if quality == QUALITY_NONE else quality,
                            None if size == SIZE_NONE else size))  # fmt: skip
    return out + invalid


@st.composite
def documents(draw: Any) -> str:
    """A CSV file as csv.writer writes it (quoting as needed, or every field), with now
    and then a line written by hand that a CSV reader reads in its own way."""
    kinds = draw(st.lists(st.sampled_from(list(HEADERS)), min_size=1, max_size=6, unique=True)
                 .filter(lambda k: bool(set(k) & set(DIGITS))))  # fmt: skip
    header = [draw(st.sampled_from(HEADERS[k])) for k in kinds]
    delimiter = draw(st.sampled_from([",", ";", "\t"]))
    out = io.StringIO()
    quoting = draw(st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_ALL]))
    writer = csv.writer(out, delimiter=delimiter, quoting=quoting,
                        lineterminator=draw(st.sampled_from(["\n", "\r\n"])))  # fmt: skip
    writer.writerow(header)
    for _ in range(draw(st.integers(1, 25))):
        row = []
        for kind in kinds:
            if kind in DIGITS:
                good = draw(st.text("0123456789abcdefABCDEF", min_size=DIGITS[kind],
                                    max_size=DIGITS[kind]))  # fmt: skip
                row.append(draw(st.sampled_from([good, good, good, f" {good} ", "", good[1:],
                                                 "z" * DIGITS[kind]])))  # fmt: skip
            elif kind == "quality":
                row.append(draw(st.sampled_from(["90", "30", "0", "100", "", "101", "x", "²",
                                                 "090", " 7"])))  # fmt: skip
            elif kind == "size":
                sizes = ["4096", "4096", "0", "", " 12", "x", "-1", "00042", "9" * 18, "9" * 19,
                         "²", "1.5"]  # fmt: skip
                row.append(draw(st.sampled_from(sizes)))
            elif kind == "category":
                row.append(draw(st.sampled_from(["known-bad", "alert", "known-good", "", "foo",
                                                 "KNOWN-BAD"])))  # fmt: skip
            else:
                row.append(draw(TEXT))
        if draw(st.integers(0, 9)) == 0:
            row = row[: max(0, len(row) - 1)]  # a short row
        elif draw(st.integers(0, 9)) == 0:
            row = [*row, draw(st.sampled_from(["", "extra", '"q"']))]  # a long row
        if draw(st.integers(0, 9)) == 0:  # a quote inside a field, a quoted field running on
            odd = draw(st.sampled_from(['a"b', '"x"y', ' "z"', '"open', "\u00a0n ", "\r"]))
            out.write(delimiter.join([*row[:-1], odd]) + "\n")
            continue
        writer.writerow(row)
    return out.getvalue()


@settings(
    max_examples=250,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    document=documents(),
    batch=st.sampled_from([1, 4, 50_000]),
    chunk=st.sampled_from([64, 300, csv_lines.CHUNK_BYTES]),
    encoding=st.sampled_from(["utf-8", "utf-8", "utf-8-sig", "utf-16", "cp1252"]),
)
def test_the_bulk_reader_gives_what_the_row_reader_gives(
    monkeypatch: pytest.MonkeyPatch, document: str, batch: int, chunk: int, encoding: str
) -> None:
    """Lines read by numpy (cut anywhere by the chunk size) or, in UTF-16, in batches of
    rows; bytes that are not UTF-8 (cp1252)."""
    monkeypatch.setattr(csv_batches, "BATCH_ROWS", batch)
    monkeypatch.setattr(csv_lines, "CHUNK_BYTES", chunk)
    data = document.encode(encoding, "replace")
    fmt = GenericCsv()
    assert unrolled(fmt.blocks(io.BytesIO(data))) == unrolled(fmt.read(io.BytesIO(data)))


@pytest.mark.parametrize("quality", ["101", "100", "090", "0", " 7", "x", "", "²", "1000", "-1"])
def test_a_pdq_quality_is_read_in_bulk_as_by_rows(quality: str) -> None:
    pdq = "ab" * 32
    data = f"md5,pdq,quality,name\n,{pdq},{quality},a.jpg\n{'cd' * 16},,{quality},b.jpg\n"
    fmt = GenericCsv()
    bulk = unrolled(fmt.blocks(io.BytesIO(data.encode())))
    assert bulk == unrolled(fmt.read(io.BytesIO(data.encode())))
    assert len(bulk) == 2  # (a quality is read only beside a PDQ)


def test_rows_the_bulk_reader_leaves_to_the_row_reader_are_gathered_into_blocks() -> None:
    """Every name ends in a space (which the row reader strips): each line goes to the row
    reader, and their entries come back in a few blocks, not one a line (which took a
    million-line file 100 s and 640 MB); a trailing delimiter on every line (a field more
    than the header) is read in bulk."""
    rows = "".join(f"{i:032x},f{i}.jpg \n" for i in range(3000))
    fmt = GenericCsv()
    blocks = list(fmt.blocks(io.BytesIO(f"md5,name\n{rows}".encode())))
    assert sum(b.entries for b in blocks if isinstance(b, PackedBlock)) == 3000
    assert len(blocks) <= 3000 // 20_000 + 1
    trailing = "".join(f"{i:032x},f{i}.jpg,\n" for i in range(3000))
    data = f"md5,name\n{trailing}".encode()
    assert unrolled(fmt.blocks(io.BytesIO(data))) == unrolled(fmt.read(io.BytesIO(data)))
