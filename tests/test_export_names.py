"""What exports write of names, set names and records they cannot write as they are,
and where they write (found by a fuzzer of export round trips): names with line breaks,
a VICS medium's file name, a set's name in a hashdeep header, a record Python cannot
read back from a set imported with the DHS scheme, output paths that cannot be made."""

from __future__ import annotations

import io
from pathlib import Path

from click.testing import CliRunner, Result

from hashmatch.cli import cli
from hashmatch.cli.errors import ExitCode
from hashmatch.hashsets import HashSetStore
from hashmatch.hashsets.export import export_set
from hashmatch.hashsets.formats.hashkeeper import HASHKEEPER_HEADER

CONTEXT = "http://github.com/VICSDATAMODEL/ProjectVic/DataModels/2.0.xml/US/$metadata#Media"
MD5 = ["0" * 31 + str(n) for n in range(4)]


def run(store: Path, *args: str) -> object:
    return CliRunner().invoke(cli, ["--store", str(store), *args], catch_exceptions=False)


def attempt(store: Path, *args: str) -> Result:
    """A command expected to fail: its exit code and output, not an exception."""
    return CliRunner().invoke(cli, ["--store", str(store), *args])


def references(store_dir: Path, name: str) -> list[str | None]:
    with HashSetStore(store_dir) as store:
        return sorted(str(e.reference) for e in store.iter_entries(store.get(name)))


def test_md5sum_names_with_line_breaks_are_escaped_as_gnu_md5sum_does(tmp_path: Path) -> None:
    """They were written with a space for the break: a different name, read back by
    ``md5sum -c`` as a file that is not there."""
    source = tmp_path / "in.md5"
    source.write_text(
        f"\\{MD5[0]}  new\\nline.jpg\n"  # (GNU's escapes: the name holds a line break)
        f"{MD5[1]}  C:\\PICS\\b.jpg\n"  # (a backslash alone is written as it is)
        f"\\{MD5[2]}  a\\\\b\\rc.jpg\n",
        newline="",
    )
    store = tmp_path / "store"
    run(store, "hashset", "import", str(source), "--name", "s", "-q")
    assert references(store, "s") == ["C:\\PICS\\b.jpg", "a\\b\rc.jpg", "new\nline.jpg"]
    out = tmp_path / "out.md5"
    run(store, "hashset", "export", "s", "--format", "md5sum", "-o", str(out))
    # Written back as GNU md5sum wrote them: the same bytes (re-imported, the same file).
    assert out.read_bytes() == source.read_bytes()


def test_hashdeep_names_with_line_breaks_and_a_set_name_with_one(tmp_path: Path) -> None:
    """hashdeep has no escapes: a name's line break is written as a space and counted.
    A set's name (from a file's name) went into the header as it is: a line break in it
    wrote a line of its own, read back as one more hash."""
    source = tmp_path / "in.hsh"  # (HashKeeper: names with line breaks, and sizes)
    source.write_text(
        f"{HASHKEEPER_HEADER}\r\n"
        f'1,5,"new\nline.jpg","","{MD5[0]}",10,,,,,,\r\n1,5,"b.jpg","","{MD5[1]}",20,,,,,,\r\n',
        newline="",
    )
    set_name = f"received\n{MD5[3]},injected.jpg"
    with HashSetStore(tmp_path / "store") as store:
        info = store.import_file(source, name=set_name).info
        out = io.StringIO()
        result = export_set(store, info, "hashdeep", out)
    lines = out.getvalue().splitlines()
    assert [line for line in lines if not line.startswith(("%%%%", "##"))] == [
        f"10,{MD5[0]},new line.jpg", f"20,{MD5[1]},b.jpg"
    ]  # fmt: skip
    assert result.renamed == 1 and result.written == 2
    shown = run(tmp_path / "store", "hashset", "export", set_name, "--format", "hashdeep", "-o",
                str(tmp_path / "out.hd"))  # fmt: skip
    assert "wrote 1 name with a space for a line break" in shown.output  # type: ignore[attr-defined]


def test_a_nul_in_a_name_is_written_as_a_question_mark_and_counted(tmp_path: Path) -> None:
    """No file name holds one: md5sum -c stopped the name there, and nothing was said."""
    source = tmp_path / "in.json"
    source.write_text(
        f'{{"@odata.context": "{CONTEXT}", "value": [{{"MD5": "{MD5[0]}", "MediaSize": 5, '
        '"MediaFiles": [{"FileName": "bad\\u0000name.jpg"}]}]}'
    )
    store = tmp_path / "store"
    run(store, "hashset", "import", str(source), "--name", "v", "-q")
    for fmt, line in (
        ("md5sum", f"{MD5[0]}  bad?name.jpg"),
        ("hashdeep", f"5,{MD5[0]},bad?name.jpg"),
    ):
        out = tmp_path / f"out.{fmt}"
        shown = run(store, "hashset", "export", "v", "--format", fmt, "-o", str(out))
        assert line in out.read_text().splitlines()
        assert "wrote 1 name with a space for a line break or ? for a NUL" in shown.output  # type: ignore[attr-defined]


def test_a_vics_medium_is_named_by_its_first_file_in_md5sum_lines(tmp_path: Path) -> None:
    """Not by its reference ('MediaID 7; IMG_1.JPG; series S'), which came back as a
    file name; a medium without files by its reference; a name holding half of a
    surrogate pair alone (a Windows name's) as it was read, with '?'."""
    source = tmp_path / "in.json"
    source.write_text(
        f'{{"@odata.context": "{CONTEXT}", "value": [{{"MD5": "{MD5[0]}", "MediaID": 7, '
        '"Series": "S", "MediaFiles": [{"FileName": "IMG_1.JPG"}, {"FileName": "b.jpg"}]}, '
        f'{{"MD5": "{MD5[1]}", "MediaID": 8}}, '
        f'{{"MD5": "{MD5[2]}", "MediaFiles": [{{"FileName": "IMG\\ud800.JPG"}}]}}]}}'
    )
    store = tmp_path / "store"
    run(store, "hashset", "import", str(source), "--name", "v", "-q")
    out = tmp_path / "out.md5"
    run(store, "hashset", "export", "v", "--format", "md5sum", "-o", str(out))
    assert out.read_text().splitlines() == [
        f"{MD5[0]}  IMG_1.JPG", f"{MD5[1]}  MediaID 8", f"{MD5[2]}  IMG?.JPG"
    ]  # fmt: skip


def test_a_record_python_cannot_read_back_is_left_out_where_its_category_would_change(
    tmp_path: Path,
) -> None:
    """A medium holding a 5,000-digit integer is written as it is (Python cannot read it
    back to rewrite it): from a set imported with the DHS scheme, its Category 0
    (uncategorized, an alert) would come back as US 0, non-pertinent (known-good)."""
    plain = ", ".join(f'{{"MD5": "{n:032x}", "Category": 1}}' for n in range(3000))
    odd = f'{{"MD5": "{"ab" * 16}", "Category": 0, "MediaID": {"9" * 5000}}}'
    source = tmp_path / "dhs.json"
    source.write_text(f'{{"@odata.context": "{CONTEXT}", "value": [{plain}, {odd}]}}')
    store = tmp_path / "store"
    run(store, "hashset", "import", str(source), "--name", "d", "--category-scheme", "vics-dhs",
        "-q")  # fmt: skip
    out = tmp_path / "out.json"
    shown = run(store, "hashset", "export", "d", "--format", "vics", "-o", str(out))
    assert "left out 1 entry" in shown.output  # type: ignore[attr-defined]
    assert "ab" * 16 not in out.read_text() and f"{2999:032x}" in out.read_text()


def test_export_paths_that_cannot_be_made_are_named_and_a_partial_file_is_kept(
    tmp_path: Path,
) -> None:
    """Under a file: an internal error (the clean-up failed too). A file of the user's
    named ``<output>.partial`` was overwritten, then renamed to the output. An output
    name near the file system's limit left no room for ``.partial``. An export refused
    once under way (no column for hashdeep) left its partial file."""
    store = tmp_path / "store"
    source = tmp_path / "in.md5"
    source.write_text(f"{MD5[0]}  a.jpg\n")
    run(store, "hashset", "import", str(source), "--name", "s", "-q")
    under_a_file = attempt(
        store, "hashset", "export", "s", "--format", "md5sum", "-o", str(source / "out.md5")
    )
    assert under_a_file.exit_code == ExitCode.CASE_OR_STORE, under_a_file.output
    assert "cannot write" in under_a_file.output
    mine = tmp_path / "out.md5.partial"
    mine.write_text("the user's")
    run(store, "hashset", "export", "s", "--format", "md5sum", "-o", str(tmp_path / "out.md5"))
    assert mine.read_text() == "the user's"
    assert (tmp_path / "out.md5").read_text() == f"{MD5[0]}  a.jpg\n"
    long_name = tmp_path / ("\U0001f600" * 60 + ".txt")  # (244 bytes: 64 characters more)
    run(store, "hashset", "export", "s", "--format", "md5sum", "-o", str(long_name))
    assert long_name.read_text() == f"{MD5[0]}  a.jpg\n"
    pdq = tmp_path / "in.pdq"
    pdq.write_text(f"{'ab' * 32},90,a.jpg\n")
    run(store, "hashset", "import", str(pdq), "--name", "p", "-q")
    refused = attempt(
        store, "hashset", "export", "p", "--format", "hashdeep", "-o", str(tmp_path / "p.hd")
    )
    assert refused.exit_code == ExitCode.USAGE and "no md5, sha1 or sha256" in refused.output
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        ["in.md5", "in.pdq", "store", "out.md5", "out.md5.partial", long_name.name]
    )  # (no partial file of hashmatch's left, the refused export's neither)
