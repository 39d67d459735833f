"""Exports: ``hashset export`` and ``report --format vics``, checked by importing them again."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from click.testing import CliRunner

from hashmatch.cli import cli
from hashmatch.cli.errors import ExitCode
from hashmatch.hashsets import HashSetStore

DATA = Path(__file__).parent / "data" / "hashsets"


def invoke(runner: CliRunner, store: Path, *args: str):
    return runner.invoke(cli, ["--store", str(store), *args], catch_exceptions=False)


def breakdown(store_dir: Path, name: str) -> list[tuple[str, str | None, int]]:
    with HashSetStore(store_dir) as store:
        return store.breakdown(store.get(name))


def md5s(store_dir: Path, name: str) -> set[str]:
    with HashSetStore(store_dir) as store:
        return {e.values["md5"] for e in store.iter_entries(store.get(name))}


def test_vics_set_round_trip(runner: CliRunner, tmp_path: Path) -> None:
    store = tmp_path / "store"
    invoke(runner, store, "hashset", "import", str(DATA / "vics2-case.json"), "--name", "v", "-q")
    out = tmp_path / "v.json"
    result = invoke(runner, store, "hashset", "export", "v", "--format", "vics", "-o", str(out))
    assert result.exit_code == 0, result.output
    assert json.loads(out.read_text())["@odata.context"].endswith("2.0.xml/US/$metadata#Media")
    invoke(runner, store, "hashset", "import", str(out), "--name", "again", "-q")
    assert breakdown(store, "again") == breakdown(store, "v")
    assert md5s(store, "again") == md5s(store, "v")
    with HashSetStore(store) as opened:
        again = opened.get("again")
    assert set(again.algorithms) == {"md5", "sha1", "sha256", "pdq"}


def test_md5sum_and_hashdeep_exports_import_again(runner: CliRunner, tmp_path: Path) -> None:
    store = tmp_path / "store"
    invoke(runner, store, "hashset", "import", str(DATA / "rdsv3-minimal.db"), "--name", "n", "-q")
    for fmt in ("md5sum", "hashdeep"):
        out = tmp_path / f"n.{fmt}"
        assert invoke(runner, store, "hashset", "export", "n", "--format", fmt, "-o",
                      str(out)).exit_code == 0  # fmt: skip
        imported = invoke(runner, store, "hashset", "import", str(out), "--name", fmt, "-q")
        assert f"format {fmt}" in imported.output
        assert md5s(store, fmt) == md5s(store, "n")


def test_hashdeep_leaves_out_incomplete_entries(runner: CliRunner, tmp_path: Path) -> None:
    store = tmp_path / "store"
    invoke(runner, store, "hashset", "import", str(DATA / "vics2-case.json"), "--name", "v", "-q")
    result = invoke(runner, store, "hashset", "export", "v", "--format", "hashdeep", "-o",
                    str(tmp_path / "v.hd"))  # fmt: skip
    assert "left out 4 entries" in result.output
    assert (tmp_path / "v.hd").read_text().count("\n") == 5  # 4 header lines + 1 entry


def test_export_never_overwrites(runner: CliRunner, tmp_path: Path) -> None:
    store = tmp_path / "store"
    invoke(runner, store, "hashset", "import", str(DATA / "set.hsh"), "--name", "h", "-q")
    (tmp_path / "exists").write_text("keep")
    result = invoke(runner, store, "hashset", "export", "h", "--format", "md5sum", "-o",
                    str(tmp_path / "exists"))  # fmt: skip
    assert result.exit_code == ExitCode.USAGE
    assert (tmp_path / "exists").read_text() == "keep"


def test_export_to_standard_output(runner: CliRunner, tmp_path: Path) -> None:
    store = tmp_path / "store"
    invoke(runner, store, "hashset", "import", str(DATA / "set.hsh"), "--name", "h", "-q")
    result = CliRunner().invoke(cli, ["--store", str(store), "hashset", "export", "h",
                                      "--format", "md5sum", "-o", "-"])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "00112233445566778899aabbccddeeff  C:\\PICS\\IMG1.JPG",
        "ffeeddccbbaa99887766554433221100  C:\\PICS\\IMG2.JPG",
    ]
    assert "exported 2 entries of 'h' as md5sum to standard output" in result.stderr
    assert not (Path.cwd() / "-").exists()


def test_report_as_vics_round_trip(runner: CliRunner, tmp_path: Path) -> None:
    store = tmp_path / "store"
    evidence = tmp_path / "evidence"
    (evidence / "sub").mkdir(parents=True)
    known, other = b"known picture bytes", b"another known file"
    (evidence / "a.jpg").write_bytes(known)
    (evidence / "sub" / "copy-of-a.bin").write_bytes(known)
    (evidence / "b.dat").write_bytes(other)
    (evidence / "unrelated.txt").write_text("nothing")
    vics = {
        "@odata.context": "http://github.com/VICSDATAMODEL/ProjectVic/DataModels/2.0.xml/US/"
        "$metadata#Media",
        "value": [{"MediaID": 1, "Category": 1, "MD5": hashlib.md5(known).hexdigest()},
                  {"MediaID": 2, "Category": 2, "MD5": hashlib.md5(other).hexdigest()}],
    }  # fmt: skip
    (tmp_path / "set.json").write_text(json.dumps(vics))
    invoke(runner, store, "hashset", "import", str(tmp_path / "set.json"), "--name", "vics", "-q")
    case = tmp_path / "case"
    scanned = invoke(runner, store, "scan", str(evidence), "-o", str(case), "--case-id", "C-9",
                     "--examiner", "A. Smith", "-q", "--jobs", "1")  # fmt: skip
    assert scanned.exit_code == 0, scanned.output
    out = tmp_path / "case.vics.json"
    invoke(runner, store, "report", str(case), "--format", "vics", "-o", str(out))
    document = json.loads(out.read_text())
    (exported_case,) = document["value"]
    assert exported_case["CaseNumber"] == "C-9" and exported_case["TotalMediaFiles"] == 3
    media = {m["MD5"]: m for m in exported_case["Media"]}
    first = media[hashlib.md5(known).hexdigest()]
    assert first["Category"] == 1 and first["SHA1"] == hashlib.sha1(known).hexdigest()
    assert sorted(f["FilePath"] for f in first["MediaFiles"]) == ["a.jpg", "sub/copy-of-a.bin"]
    assert all(f["Deleted"] is False and f["SourceID"] == "S1" for f in first["MediaFiles"])
    assert first["AlternativeHashes"][0]["HashName"] == "SHA256"
    imported = invoke(runner, store, "hashset", "import", str(out), "--name", "back", "-q")
    assert "imported 2 entries" in imported.output  # one per unique matched MD5
    assert {label for _, label, _ in breakdown(store, "back")} == {
        "VICS 1 (Child Abuse Material)",
        "VICS 2 (Child Exploitive (non-CAM) / Age Difficult)",
    }
