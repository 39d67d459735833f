"""Hash-set formats of the spine: detection by content and reading every quirk."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from hashmatch.errors import HashSetFormatError, UsageError
from hashmatch.hashsets import HashSetStore
from hashmatch.hashsets.formats import detect_format, get_format, make_sample
from hashmatch.hashsets.model import InvalidRecord, ParsedEntry

DATA = Path(__file__).parent / "data" / "hashsets"
MD5 = "0123456789abcdef0123456789abcdef"
SHA1 = "0123456789abcdef0123456789abcdef01234567"
SHA256 = "ab" * 32
PDQ = "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22"


def detect(text: str | bytes) -> str:
    data = text.encode() if isinstance(text, str) else text
    return detect_format(make_sample(data)).name


def read(fmt: str, text: str | bytes) -> list[ParsedEntry | InvalidRecord]:
    data = text.encode() if isinstance(text, str) else text
    return list(get_format(fmt).read(io.BytesIO(data)))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f"{MD5}  a.jpg\n{SHA1} *b.jpg\n", "md5sum"),
        (f"{SHA256}  photo.jpg\n", "md5sum"),
        (f"MD5 (a.jpg) = {MD5}\nSHA256 (b.jpg) = {SHA256}\n", "bsd"),
        (f"%%%% HASHDEEP-1.0\n%%%% size,md5,filename\n## x\n1,{MD5},a\n", "hashdeep"),
        (f"{MD5}\n{SHA1}\n", "hashlist"),
        (f"{PDQ},100,a.jpg\n{PDQ},87\n", "pdq"),
        (f"pdq {PDQ}\n", "pdq"),
        (f"0,{PDQ},100,0.000\n1,{PDQ},98,0.033\n", "pdq"),
        (f"# exported list\n\n{MD5}\n", "hashlist"),
        (f"{SHA256}\tphoto.jpg\n", "md5sum"),  # (a checksum tool's tab: SHA-256, not PDQ)
        # A header naming hash columns is CSV, even where the rows fit a line format.
        ("sha1\tpath\tsize\n" + f"{SHA1}\t/x/a.jpg\t10\n" * 9, "csv"),
        ("pdq,quality,name\n" + f"{PDQ},90,a.jpg\n" * 9, "csv"),
        ("SHA256,Size,FileName\n" + f"{SHA256},10,a.jpg\n" * 9, "csv"),
    ],
)
def test_detects_format_by_content(text: str, expected: str) -> None:
    assert detect(text) == expected


@pytest.mark.parametrize("text", [f"{SHA256}\n{PDQ}\n", f"{SHA256},a.jpg\n{PDQ},b.jpg\n"])
def test_sha256_or_pdq_without_a_quality_is_ambiguous(text: str) -> None:
    """Once taken for PDQ: a known-bad SHA-256 list with names never matched a file."""
    with pytest.raises(HashSetFormatError, match="SHA-256 or PDQ"):
        detect(text)
    (entry,) = read("pdq", text.splitlines()[0])  # said to be PDQ, it is read as such
    assert isinstance(entry, ParsedEntry) and entry.hashes[0].algorithm == "pdq"


@pytest.mark.parametrize("text", ["", "\n\n# only a comment\n"])
def test_empty_file_is_refused(text: str) -> None:
    with pytest.raises(HashSetFormatError, match="no hash values"):
        detect(text)


def test_unknown_content_is_refused() -> None:
    with pytest.raises(HashSetFormatError, match="not recognised"):
        detect("name,size\nfoo,12\n")


def test_md5sum_reads_text_binary_upper_case_and_escaped_names() -> None:
    text = (
        f"{MD5.upper()}  a b.jpg\n{SHA1} *bin.jpg\n\\{MD5}  new\\nline\\\\.jpg\n{SHA256}\tc.jpg\r\n"
    )
    entries = read("md5sum", text)
    assert all(isinstance(e, ParsedEntry) for e in entries)
    assert [(e.hashes[0].algorithm, e.hashes[0].hex, e.reference) for e in entries] == [
        ("md5", MD5, "a b.jpg"),
        ("sha1", SHA1, "bin.jpg"),
        ("md5", MD5, "new\nline\\.jpg"),
        ("sha256", SHA256, "c.jpg"),
    ]


def test_md5sum_reports_the_bad_line() -> None:
    entries = read("md5sum", f"{MD5}  a\nnot a checksum line\n{'a' * 128}  sha512.bin\n")
    assert isinstance(entries[1], InvalidRecord) and entries[1].line == 2
    assert isinstance(entries[2], InvalidRecord) and "128-digit" in entries[2].reason


def test_bsd_tags() -> None:
    entries = read("bsd", f"MD5 (x (1).jpg) = {MD5}\nSHA1 (y) = {SHA1}\nSHA256 (z) = 12\n")
    assert entries[0].reference == "x (1).jpg"
    assert entries[1].hashes[0].algorithm == "sha1"
    assert isinstance(entries[2], InvalidRecord)


def test_hashdeep_any_columns_commas_in_names_and_crlf() -> None:
    text = (
        "%%%% HASHDEEP-1.0\r\n%%%% size,sha256,md5,tiger,filename\r\n"
        "## Invoked from: C:\\cases\\42\r\n## $ hashdeep -r\r\n##\r\n"
        f"5120,{SHA256},{MD5},{'0' * 48},C:\\evidence\\a,b.jpg\r\n"
    )
    fmt = get_format("hashdeep")
    entries = list(fmt.read(io.BytesIO(text.encode())))
    assert len(entries) == 1
    entry = entries[0]
    assert [v.algorithm for v in entry.hashes] == ["sha256", "md5"]
    assert entry.reference == "C:\\evidence\\a,b.jpg"
    assert fmt.provenance()["ignored_columns"] == "tiger"
    assert fmt.provenance()["invoked_from"] == "C:\\cases\\42"


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("%%%% HASHDEEP-1.0\n%%%% size,filename\n", "no md5"),
        ("%%%% HASHDEEP-1.0\n%%%% size,md5\n", "filename"),
        ("%%%% HASHDEEP-1.0\n", "column line"),
    ],
)
def test_hashdeep_bad_headers(text: str, reason: str) -> None:
    with pytest.raises(HashSetFormatError, match=reason):
        read("hashdeep", text)


def test_hashdeep_bad_row() -> None:
    entries = read("hashdeep", f"%%%% HASHDEEP-1.0\n%%%% size,md5,filename\nx,{MD5},a\n1,zz,b\n")
    assert [e.line for e in entries if isinstance(e, InvalidRecord)] == [3, 4]


def test_bare_list_with_bom_header_and_mixed_lengths() -> None:
    data = "\ufeffMD5\n".encode() + f"{MD5.upper()}\n{SHA1}\n".encode()
    entries = read("hashlist", data)
    assert [(e.hashes[0].algorithm, e.hashes[0].hex) for e in entries] == [
        ("md5", MD5),
        ("sha1", SHA1),
    ]


def test_utf16_list() -> None:
    data = f"{MD5}\r\n".encode("utf-16")
    assert detect(data) == "hashlist"
    assert read("hashlist", data)[0].hashes[0].hex == MD5


def test_named_algorithm_list() -> None:
    entries = read("sha256", f"{SHA256}\n{MD5}\n")
    assert entries[0].hashes[0].algorithm == "sha256"
    assert isinstance(entries[1], InvalidRecord)
    assert read("phash", "f0e1d2c3b4a59687\n")[0].hashes[0].algorithm == "phash"


def test_pdq_line_forms() -> None:
    text = (
        f"{PDQ.upper()}\n{PDQ},87,dir/a,b.jpg\n{PDQ}\t55\tb.jpg\npdq {PDQ}\n"
        f"hash={PDQ},norm=1,delta=2,quality=90,filename=c.jpg\n3,{PDQ},91,0.100\n"
    )
    entries = read("pdq", text)
    got = [(e.hashes[0].hex, e.hashes[0].quality, e.reference) for e in entries]
    assert got == [
        (PDQ, None, None),
        (PDQ, 87, "dir/a,b.jpg"),
        (PDQ, 55, "b.jpg"),
        (PDQ, None, None),
        (PDQ, 90, "c.jpg"),
        (PDQ, 91, "frame 3 at 0.100 s"),
    ]


def test_pdq_bad_lines() -> None:
    entries = read("pdq", f"{PDQ},101\n{MD5}\n")
    assert [e.line for e in entries if isinstance(e, InvalidRecord)] == [1, 2]


def test_unknown_format_name() -> None:
    with pytest.raises(UsageError, match="unknown hash-set format"):
        get_format("nope")


def test_windows_1252_names_are_read_as_such(tmp_path: Path) -> None:
    """Names that are not UTF-8 (Windows tools write Windows-1252) read as that, not as
    backslash escapes ('caf\\xe9.jpg'): in every text format and both set layouts."""
    data = f"{MD5}  caf".encode() + b"\xe9 \x80.jpg\n"
    assert read("md5sum", data)[0].reference == "café €.jpg"
    hashkeeper = (DATA / "set.hsh").read_bytes().replace(b"IMG1.JPG", b"IMG1\xe9.JPG")
    assert any(e.reference == "C:\\PICS\\IMG1é.JPG" for e in read("hashkeeper", hashkeeper))
    (tmp_path / "names.md5").write_bytes(data * 3000)  # (packed, read in bulk)
    with HashSetStore(tmp_path / "store") as store:
        info = store.import_file(tmp_path / "names.md5").info
        assert {e.reference for e in store.iter_entries(info)} == {"café €.jpg"}


def test_a_first_line_longer_than_the_sample_is_still_recognised(tmp_path: Path) -> None:
    """A 70 KB name on the first line left the sample without a line: 'no hash values'."""
    path = tmp_path / "long.md5"
    path.write_text(f"{MD5}  {'n' * 70_000}.jpg\n{SHA1}  short.jpg\n")
    with HashSetStore(tmp_path / "store") as store:
        info = store.import_file(path).info
    assert info.format == "md5sum" and info.entries == 2


@pytest.mark.parametrize(
    "line",
    [f"{PDQ},-1,x.jpg", f"{PDQ},1000,x.jpg", f"{PDQ},49.0,x.jpg", f"{PDQ},101",
     f"hash={PDQ},quality=1000", f"hash={PDQ},quality=-3"],
)  # fmt: skip
def test_a_pdq_quality_that_is_no_0_to_100_is_an_invalid_line(line: str) -> None:
    """'-1' and '49.0' were taken for the start of a name: the entry had no quality
    and was used for near matching, where quality 49 is not."""
    (entry,) = read("pdq", line + "\n")
    assert (
        isinstance(entry, InvalidRecord) and "quality must be a whole number 0-100" in entry.reason
    )


@pytest.mark.parametrize("quality", ["150", "\u00b2", "-5", "4.5"])
def test_a_csv_pdq_quality_that_is_no_0_to_100_is_an_invalid_row(quality: str) -> None:
    (entry,) = read("csv", f"pdq,quality,name\n{PDQ},{quality},a.jpg\n")
    assert (
        isinstance(entry, InvalidRecord) and "quality must be a whole number 0-100" in entry.reason
    )
