"""Known files' sizes: kept from the formats that give them (hashdeep, NSRL, HashKeeper,
VICS), and written back by the hashdeep export, which hashdeep itself then reads."""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from hashmatch.cli import cli
from hashmatch.cli.errors import ExitCode
from hashmatch.errors import StoreError
from hashmatch.hashsets import HashSetStore
from hashmatch.hashsets.export import export_set
from hashmatch.hashsets.formats.file_sizes import BULK_DIGITS, digit_sizes, size_of
from hashmatch.hashsets.formats.hashdeep import Hashdeep
from hashmatch.hashsets.model import SetLayout
from hashmatch.hashsets.packed.layout import SIZE_NONE

from .test_nsrl_bulk import by_blocks, by_rows, make_rds
from .test_nsrl_text_bulk import write as write_nsrl

MD5 = [f"{n:032x}" for n in range(1, 6)]
SHA256 = [f"{n:064x}" for n in range(1, 6)]
CONTEXT = "http://github.com/VICSDATAMODEL/ProjectVic/DataModels/2.0.xml/US/$metadata#Media"


def run(store: Path, *args: str) -> object:
    return CliRunner().invoke(cli, ["--store", str(store), *args], catch_exceptions=False)


def sizes(store_dir: Path, name: str) -> list[int | None]:
    with HashSetStore(store_dir) as store:
        return [e.size for e in store.iter_entries(store.get(name))]


@pytest.mark.parametrize(
    ("field", "size"),
    [("0", 0), ("4096", 4096), (" 12 ", 12), ("00042", 42), (4096, 4096),
     (str((1 << 63) - 1), (1 << 63) - 1), (str(1 << 63), None), (-1, None), ("-1", None),
     ("", None), ("x", None), ("1,5", None), ("²", None), ("١٢", None), (True, None),
     (1.5, None), (None, None), ("9" * 5000, None), ("0" * 5000 + "7", 7)],
)  # fmt: skip
def test_a_size_is_ascii_digits_or_an_integer(field: object, size: int | None) -> None:
    """Anything else is no size (the entry is still read for its hashes); '²' and
    Arabic-Indic digits pass str.isdigit, and were once numbers; 5,000 digits made
    int() raise (Python refuses 4,300 or more), a traceback out of an import."""
    assert size_of(field) == size


def test_a_size_of_thousands_of_digits_is_no_size_in_every_format(tmp_path: Path) -> None:
    """It reached int() from the row readers, which refuses 4,300 digits or more: a
    traceback out of the import."""
    huge = "9" * 5000
    files = {
        "hd.txt": f"%%%% HASHDEEP-1.0\n%%%% size,md5,filename\n{huge},{MD5[0]},a.jpg\n",
        "NSRLFile.txt": '"SHA-1","MD5","CRC32","FileName","FileSize","ProductCode",'
        f'"OpSystemCode","SpecialCode"\r\n"{"AB" * 20}","{MD5[0]}","0","a",{huge},1,"358",""\r\n',
        "set.hsh": '"file_id","hashset_id","file_name","directory","hash","file_size",'
        '"date_modified","time_modified","time_zone","comments","date_accessed",'
        f'"time_accessed"\r\n1,5,"a.jpg","","{MD5[0]}",{huge},,,,,,\r\n',
    }
    for n, (name, text) in enumerate(files.items()):
        (tmp_path / name).write_text(text)
        store = tmp_path / f"store{n}"
        run(store, "hashset", "import", str(tmp_path / name), "--name", "s", "-q")
        assert sizes(store, "s") == [None]


def test_the_vectorised_reader_decides_plain_fields_and_leaves_the_rest() -> None:
    """Digits (up to 18): the number; nothing, or no digit at all: no size; anything
    else (a space, digits and more, 19 digits) is left to the row reader."""
    fields = [b"123", b"", b"abc", b" 12", b"12a", b"9" * 18, b"9" * 19, b"0", b"x" * 30]
    data = b",".join(fields)
    ends = np.cumsum([len(f) + 1 for f in fields]) - 1
    begins = ends - [len(f) for f in fields]
    decided, found = digit_sizes(np.frombuffer(data, np.uint8), begins, ends)
    none = SIZE_NONE
    assert decided.tolist() == [True, True, True, False, False, True, False, True, False]
    assert [int(v) for v, d in zip(found, decided, strict=True) if d] == [
        123, none, none, int("9" * 18), 0
    ]  # fmt: skip


def reference(field: bytes) -> tuple[bool, int | None]:
    """What ``digit_sizes`` decides of a field, one field at a time."""
    if len(field) > BULK_DIGITS:
        return False, None
    if not field or not any(48 <= b <= 57 for b in field):
        return True, None
    if all(48 <= b <= 57 for b in field):
        return True, int(field)
    return False, None


#: Digits, and the bytes next to them ('/' and ':'), those whose high nibble is 3 ('<',
#: '?') and others.
NEAR_DIGITS = st.lists(st.sampled_from(b"0123456789/:<? x\x00\xff\xb0"), max_size=22).map(bytes)
FIELDS = (st.binary(max_size=22) | st.text("0123456789", max_size=22).map(str.encode)
          | NEAR_DIGITS | NEAR_DIGITS.filter(lambda f: 0 < len(f) <= 8))  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(st.lists(FIELDS, max_size=40))
def test_the_vectorised_reader_decides_as_one_field_at_a_time(fields: list[bytes]) -> None:
    """Fields of any bytes, the first ones near the chunk's start (the word of 8 bytes
    a field ends would begin before it)."""
    data = b",".join(fields)
    ends = np.cumsum([len(f) + 1 for f in fields], dtype=np.int64) - 1
    begins = ends - np.array([len(f) for f in fields], np.int64)
    decided, found = digit_sizes(np.frombuffer(data, np.uint8), begins, ends)
    for field, made, size in zip(fields, decided.tolist(), found.tolist(), strict=True):
        expected, value = reference(field)
        assert made == expected, field
        if made:
            assert size == (SIZE_NONE if value is None else value), field


def hashdeep_file(path: Path) -> Path:
    rows = [f"{10 * (n + 1)},{MD5[n]},{SHA256[n]},C:\\pics\\img{n}.jpg" for n in range(3)]
    path.write_text("%%%% HASHDEEP-1.0\n%%%% size,md5,sha256,filename\n## x\n"
                    + "\n".join(rows) + "\n")  # fmt: skip
    return path


@pytest.mark.parametrize("packs", [True, False], ids=["packed", "rows"])
def test_a_hashdeep_set_is_exported_as_it_was_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, packs: bool
) -> None:
    """Packed (the usual) or as SQLite rows: the same sizes, the same lines back."""
    monkeypatch.setattr(Hashdeep, "packs", lambda self: packs)
    source = hashdeep_file(tmp_path / "known.txt")
    store = tmp_path / "store"
    run(store, "hashset", "import", str(source), "--name", "h", "-q")
    with HashSetStore(store) as opened:
        assert opened.get("h").layout is (SetLayout.PACKED if packs else SetLayout.ROWS)
        assert opened.sized_entries(opened.get("h")) == 3
    assert sizes(store, "h") == [10, 20, 30]
    out = tmp_path / "out.txt"
    run(store, "hashset", "export", "h", "--format", "hashdeep", "-o", str(out))
    written = out.read_text().splitlines()
    assert written[1] == "%%%% size,md5,sha256,filename"
    data = [line for line in source.read_text().splitlines() if line[0].isdigit()]
    assert [line for line in written if line[0].isdigit()] == data


def test_sizes_go_through_a_vics_export_and_back_to_hashdeep(tmp_path: Path) -> None:
    """hashdeep -> VICS (each size its medium's MediaSize) -> hashdeep: the same lines."""
    source = hashdeep_file(tmp_path / "known.txt")
    store = tmp_path / "store"
    run(store, "hashset", "import", str(source), "--name", "h", "-q")
    run(store, "hashset", "export", "h", "--format", "vics", "-o", str(tmp_path / "v.json"))
    media = json.loads((tmp_path / "v.json").read_text())["value"]
    assert [m["MediaSize"] for m in media] == [10, 20, 30]
    run(store, "hashset", "import", str(tmp_path / "v.json"), "--name", "v", "-q")
    run(store, "hashset", "export", "v", "--format", "hashdeep", "-o", str(tmp_path / "v.txt"))
    back = [line for line in (tmp_path / "v.txt").read_text().splitlines() if line[0].isdigit()]
    assert back == [line for line in source.read_text().splitlines() if line[0].isdigit()]


def test_nsrl_rds2_and_hashkeeper_sizes_are_kept(tmp_path: Path) -> None:
    rows = [["AB" * 20, MD5[0], "C0FFEE00", "setup.exe", "1536", "1", "358", ""],
            ["CD" * 20, MD5[1], "C0FFEE00", "odd.dll", "not a size", "1", "358", ""]]  # fmt: skip
    nsrl = write_nsrl(tmp_path / "NSRLFile.txt", rows, nist=True)
    hashkeeper = tmp_path / "set.hsh"
    hashkeeper.write_text(
        '"file_id","hashset_id","file_name","directory","hash","file_size","date_modified",'
        '"time_modified","time_zone","comments","date_accessed","time_accessed"\r\n'
        f'1,5,"a.jpg","C:\\PICS","{MD5[2]}",20480,,,"EST",,,\r\n'
    )
    store = tmp_path / "store"
    run(store, "hashset", "import", str(nsrl), "--name", "n", "-q")
    run(store, "hashset", "import", str(hashkeeper), "--name", "k", "-q")
    assert sizes(store, "n") == [1536, None]
    assert sizes(store, "k") == [20480]
    out = tmp_path / "n.txt"
    shown = run(store, "hashset", "export", "n", "--format", "hashdeep", "-o", str(out))
    assert "left out 1 entry without a file size" in shown.output  # type: ignore[attr-defined]
    assert out.read_text().splitlines()[1:] == [
        "%%%% size,md5,sha1,filename", '## exported by hashmatch from hash set "n"', "##",
        f"1536,{MD5[0]},{'ab' * 20},setup.exe"]  # fmt: skip


def test_a_generic_csv_size_column_is_kept(tmp_path: Path) -> None:
    """A forensic suite's CSV export: 'File Size' beside the hashes and the name."""
    source = tmp_path / "export.csv"
    source.write_text(f"Name,MD5 Hash,File Size\na.jpg,{MD5[0]},2048\nb.jpg,{MD5[1]},\n")
    store = tmp_path / "store"
    run(store, "hashset", "import", str(source), "--name", "c", "-q")
    assert sizes(store, "c") == [2048, None]
    out = tmp_path / "c.txt"
    shown = run(store, "hashset", "export", "c", "--format", "hashdeep", "-o", str(out))
    assert out.read_text().splitlines()[-1] == f"2048,{MD5[0]},a.jpg"
    assert "left out 1 entry without a file size" in shown.output  # type: ignore[attr-defined]


def test_show_says_how_many_entries_have_a_size(tmp_path: Path) -> None:
    """What a hashdeep export of the set can write; a VICS set's are in its records."""
    (tmp_path / "l.md5").write_text(f"{MD5[0]}  a.jpg\n")
    (tmp_path / "v.json").write_text(
        json.dumps({"@odata.context": CONTEXT, "value": [{"MD5": MD5[1], "MediaSize": 9}]})
    )
    store = tmp_path / "store"
    for name, source in (("h", hashdeep_file(tmp_path / "known.txt")), ("l", tmp_path / "l.md5"),
                         ("v", tmp_path / "v.json")):  # fmt: skip
        run(store, "hashset", "import", str(source), "--name", name, "-q")
    shown = {name: run(store, "hashset", "show", name).output  # type: ignore[attr-defined]
             for name in "hlv"}  # fmt: skip
    assert "file sizes:  3 of 3 entries" in shown["h"]
    assert "file sizes:  0 of 1 entries" in shown["l"]
    assert "file sizes:  each medium's MediaSize" in shown["v"]
    as_json = {name: json.loads(run(store, "hashset", "show", name, "--json").output)  # type: ignore[attr-defined]
               for name in "hlv"}  # fmt: skip
    assert [as_json[name]["file_sizes"] for name in "hlv"] == [3, 0, None]


def test_rdsv3_sizes_read_in_bulk_as_row_by_row(tmp_path: Path) -> None:
    """Integers all (read by numpy at once), a negative one being no size (-5: -1 as
    64 bits unsigned is the mark of none itself)."""
    rows = [(None, None, MD5[n], f"f{n}.dll") for n in range(4)]
    path = make_rds(tmp_path / "rds.db", rows, sizes=[4096, -5, 0, 1 << 40])
    assert by_blocks(path) == by_rows(path)
    assert [entry[2] for entry in by_blocks(path)] == [4096, None, 0, 1 << 40]


def test_vics_media_sizes_come_from_their_records(tmp_path: Path) -> None:
    media = [{"MD5": MD5[0], "MediaSize": "2048", "MediaFiles": [{"FileName": "a.jpg"}]},
             {"MD5": MD5[1], "MediaFiles": [{"FileName": "b.jpg"}]}]  # fmt: skip
    source = tmp_path / "v.json"
    source.write_text(json.dumps({"@odata.context": CONTEXT, "value": media}))
    store = tmp_path / "store"
    run(store, "hashset", "import", str(source), "--name", "v", "-q")
    out = tmp_path / "v.txt"
    shown = run(store, "hashset", "export", "v", "--format", "hashdeep", "-o", str(out))
    assert out.read_text().splitlines()[-1] == f"2048,{MD5[0]},a.jpg"
    assert "left out 1 entry without a file size" in shown.output  # type: ignore[attr-defined]


def test_a_set_without_sizes_is_refused_for_hashdeep(tmp_path: Path) -> None:
    """An md5sum list gives none; a VICS set whose media have none is found out at the
    end: no file is left either way."""
    (tmp_path / "l.md5").write_text(f"{MD5[0]}  a.jpg\n")
    (tmp_path / "v.json").write_text(
        json.dumps({"@odata.context": CONTEXT, "value": [{"MD5": MD5[1]}]})
    )
    store = tmp_path / "store"
    for name, source in (("l", "l.md5"), ("v", "v.json")):
        run(store, "hashset", "import", str(tmp_path / source), "--name", name, "-q")
        out = tmp_path / f"{name}.txt"
        refused = CliRunner().invoke(cli, ["--store", str(store), "hashset", "export", name,
                                           "--format", "hashdeep", "-o", str(out)])  # fmt: skip
        assert refused.exit_code == ExitCode.USAGE
        assert "keeps no file sizes" in refused.output and "as md5sum" in refused.output
        assert ("md5sum gives none" in refused.output) == (name == "l")
        assert ("none of its media has a MediaSize" in refused.output) == (name == "v")
        assert not out.exists() and not list(tmp_path.glob("*.partial"))


def test_a_long_name_is_cut_to_a_line_hashdeep_reads_whole(tmp_path: Path) -> None:
    """hashdeep reads a line in pieces of 2,047 bytes: the rest of a longer one is a line
    of its own. A name ending in a size and an MD5 at that place made hashdeep take the
    MD5 for one of the set's (found in review)."""
    folder = tmp_path / "files"
    folder.mkdir()
    (folder / "plain.txt").write_bytes(b"plain\n")
    planted = hashlib.md5(b"plain\n").hexdigest()
    line_start = f"10,{MD5[0]},"  # (the line's size and hash, before the name)
    name = "x" * (2047 - len(line_start)) + f"6,{planted},injected"
    (tmp_path / "set.csv").write_text(f'md5,size,name\n{MD5[0]},10,"{name}"\n')
    store = tmp_path / "store"
    run(store, "hashset", "import", str(tmp_path / "set.csv"), "--name", "c", "-q")
    out = tmp_path / "c.txt"
    shown = run(store, "hashset", "export", "c", "--format", "hashdeep", "-o", str(out))
    assert "wrote 1 name cut short to fit a line hashdeep reads whole" in shown.output  # type: ignore[attr-defined]
    lines = out.read_bytes().split(b"\n")[:-1]
    assert max(len(line) + 1 for line in lines) <= 2047
    assert lines[-1] == (line_start + "x" * (2047 - 1 - len(line_start))).encode()
    # The set's name in the header too (escaped to ASCII, 12 bytes a character here).
    long_name = "\U0001f600" * 400
    run(store, "hashset", "import", str(hashdeep_file(tmp_path / "k.txt")), "--name", long_name,
        "-q")  # fmt: skip
    with HashSetStore(store) as opened:
        written = io.StringIO()
        export_set(opened, opened.get(long_name), "hashdeep", written)
    assert max(len(line.encode()) + 1 for line in written.getvalue().splitlines()) <= 2047
    if shutil.which("hashdeep"):
        command = ["hashdeep", "-c", "md5", "-m", "-k", str(out), "-b", str(folder / "plain.txt")]
        matched = subprocess.run(command, capture_output=True, text=True)
        assert matched.stdout == ""


def test_a_refused_export_to_standard_output_writes_nothing(tmp_path: Path) -> None:
    """A VICS set's sizes are known only once its media are read: the header went out
    before the refusal."""
    (tmp_path / "v.json").write_text(
        json.dumps({"@odata.context": CONTEXT, "value": [{"MD5": MD5[1]}]})
    )
    store = tmp_path / "store"
    run(store, "hashset", "import", str(tmp_path / "v.json"), "--name", "v", "-q")
    refused = CliRunner().invoke(cli, ["--store", str(store), "hashset", "export", "v",
                                       "--format", "hashdeep", "-o", "-"])  # fmt: skip
    assert refused.exit_code == ExitCode.USAGE
    assert refused.stdout == "" and "keeps no file sizes" in refused.stderr


@pytest.mark.parametrize("cut", [16, 13], ids=["between-sizes", "inside-a-size"])
def test_a_sizes_file_cut_short_is_damage(tmp_path: Path, cut: int) -> None:
    """Cut inside a size, it made numpy refuse to map it: an internal error, not the
    store's message."""
    source = hashdeep_file(tmp_path / "known.txt")
    with HashSetStore(tmp_path / "store") as store:
        info = store.import_file(source).info
    os.truncate(tmp_path / "store" / "packed" / str(info.id) / "sizes", cut)
    with (
        HashSetStore(tmp_path / "store") as store,
        pytest.raises(StoreError, match="sizes does not hold one file size for each of 3"),
    ):
        store.lookup(info, "md5", [bytes.fromhex(MD5[0])])


@pytest.mark.skipif(
    shutil.which("hashdeep") is None or shutil.which("md5deep") is None,
    reason="needs hashdeep and md5deep (Debian's hashdeep, installed by .ci/run)",
)
def test_hashdeep_itself_reads_the_export(tmp_path: Path) -> None:
    """hashdeep's own file of a folder, imported and exported again: hashdeep's matching
    mode finds the known files by it, and its audit passes; md5deep's matching mode
    finds them by the md5sum export."""
    folder = tmp_path / "files"
    folder.mkdir()
    for n in range(4):
        (folder / f"file{n}.jpg").write_bytes(bytes([n]) * (n * 1000 + 1))
    known = subprocess.run(["hashdeep", "-c", "md5,sha256", "-r", str(folder)],
                           capture_output=True, check=True).stdout  # fmt: skip
    (tmp_path / "known.txt").write_bytes(known)
    (folder / "new.jpg").write_bytes(b"not known")
    store = tmp_path / "store"
    run(store, "hashset", "import", str(tmp_path / "known.txt"), "--name", "k", "-q")
    out = tmp_path / "exported.txt"
    run(store, "hashset", "export", "k", "--format", "hashdeep", "-o", str(out))
    matched = subprocess.run(["hashdeep", "-c", "md5,sha256", "-m", "-k", str(out), "-r",
                              str(folder)], capture_output=True, text=True)  # fmt: skip
    assert matched.stderr == ""
    assert sorted(Path(line).name for line in matched.stdout.splitlines()) == [
        f"file{n}.jpg" for n in range(4)
    ]
    # The md5sum export, which a set without sizes is pointed to, for md5deep's -m.
    md5sum = tmp_path / "exported.md5"
    run(store, "hashset", "export", "k", "--format", "md5sum", "-o", str(md5sum))
    by_md5 = subprocess.run(["md5deep", "-m", str(md5sum), "-r", str(folder)],
                            capture_output=True, text=True)  # fmt: skip
    assert by_md5.stderr == ""
    assert sorted(Path(line).name for line in by_md5.stdout.splitlines()) == [
        f"file{n}.jpg" for n in range(4)
    ]
    (folder / "new.jpg").unlink()
    audit = subprocess.run(["hashdeep", "-c", "md5,sha256", "-a", "-k", str(out), "-r",
                            str(folder)], capture_output=True, text=True)  # fmt: skip
    assert "Audit passed" in audit.stdout, audit.stdout + audit.stderr
