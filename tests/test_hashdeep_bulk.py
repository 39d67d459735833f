"""hashdeep files are packed: read in batches, each hash column checked by numpy, giving
what the row reader gives (entries, references, messages, in order)."""

from __future__ import annotations

import io
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hashmatch.hashsets.formats import bulklines
from hashmatch.hashsets.formats.hashdeep import Hashdeep
from tests.unrolled import from_blocks, from_records

HASHES = {"md5", "sha1", "sha256"}
COLUMNS = st.lists(
    st.sampled_from(["size", "md5", "sha1", "sha256", "tiger"]), min_size=1, max_size=4, unique=True
).filter(lambda columns: bool(HASHES & set(columns))) | st.just(["size", "size", "md5"])
DIGITS = {"md5": 32, "sha1": 40, "sha256": 64, "tiger": 48}
NAME = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\n\r"),
               max_size=10)  # fmt: skip


def field(column: str, draw: Any) -> str:
    if column == "size":
        return draw(
            st.sampled_from(
                [
                    "0",
                    "123",
                    " 7",
                    "x",
                    "",
                    "-1",
                    "00042",
                    "²",
                    "9" * 18,
                    "9" * 19,
                    str(1 << 63),
                    "0" * 25 + "5",
                ]
            )
        )
    digits = DIGITS[column]
    good = draw(st.text("0123456789abcdefABCDEF", min_size=digits, max_size=digits))
    return draw(st.sampled_from([good, good, good, f" {good}", "", good[:-1], "g" * digits]))


@st.composite
def documents(draw: Any) -> tuple[str, list[str]]:
    columns = [*draw(COLUMNS), "filename"]
    rows = []
    for _ in range(draw(st.integers(1, 30))):
        kind = draw(st.sampled_from(["row"] * 6 + ["comment", "short", "blank"]))
        if kind == "comment":
            rows.append(draw(st.sampled_from(["## x", "# y", "## Invoked from: C:\\cases"])))
        elif kind == "blank":
            rows.append("")
        else:
            fields = [field(c, draw) for c in columns[:-1]] + [draw(NAME)]
            rows.append(",".join(fields[:-2] if kind == "short" else fields))
    head = ["%%%% HASHDEEP-1.0", "%%%% " + ",".join(columns)]
    return "\n".join(head + rows) + "\n", columns


def shape(entry: Any) -> tuple[object, ...]:
    values = entry.hashes if hasattr(entry, "hashes") else entry.values
    pairs = sorted((v.algorithm, v.hex) if hasattr(v, "hex") else v for v in values)
    return tuple(pairs), entry.reference or None, entry.size


@settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    document=documents(),
    chunk=st.sampled_from([64, 300, bulklines.CHUNK_BYTES]),
    ending=st.sampled_from(["\n", "\r\n", "\r"]),
    bom=st.booleans(),
    raw_byte=st.booleans(),
)
def test_the_bulk_reader_gives_what_the_row_reader_gives(
    monkeypatch: pytest.MonkeyPatch,
    document: tuple[str, list[str]],
    chunk: int,
    ending: str,
    bom: bool,
    raw_byte: bool,
) -> None:
    """Lines cut anywhere by the chunk size, any line end, a byte-order mark, a byte
    that is not UTF-8."""
    monkeypatch.setattr(bulklines, "CHUNK_BYTES", chunk)
    text, _ = document
    header, rows_text = text.split("\n", 2)[:2], text.split("\n", 2)[2]
    body = rows_text.replace("\n", ending).encode("utf-8")
    if raw_byte:  # (in a row: the headers' errors are tested apart)
        body = body.replace(b"a", b"\xe9", 1)
    data = (b"\xef\xbb\xbf" if bom else b"") + (ending.join(header) + ending).encode() + body
    bulk, rows = Hashdeep(), Hashdeep()
    found = from_blocks(bulk.blocks(io.BytesIO(data)), shape)
    assert found == from_records(rows.read(io.BytesIO(data)), shape)
    assert bulk.provenance() == rows.provenance()
