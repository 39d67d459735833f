"""Exports: ``hashset export`` and ``report --format vics``, checked by importing them again."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from hashmatch.cli import cli
from hashmatch.cli.errors import ExitCode
from hashmatch.hashing import HashValue
from hashmatch.hashsets import Category, HashSetStore
from hashmatch.hashsets.formats.vics import vics_number
from hashmatch.matching.matcher import Hit, HitType
from hashmatch.report.model import FileRecord
from hashmatch.report.vics_report import _media as vics_media
from hashmatch.report.vics_report import vics_category
from hashmatch.sources import Times

DATA = Path(__file__).parent / "data" / "hashsets"
CONTEXT_US = "http://github.com/VICSDATAMODEL/ProjectVic/DataModels/2.0.xml/US/$metadata#Media"


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
    """An RDSv3 FILE table keeps each file's size, which the hashdeep export writes; a
    minimal set's DISTINCT_HASH has none: its hashdeep export is refused, md5sum works."""
    store = tmp_path / "store"
    invoke(runner, store, "hashset", "import", str(DATA / "rdsv3-minimal.db"), "--name", "m", "-q")
    invoke(runner, store, "hashset", "import", str(DATA / "rdsv3-no-crc32.db"), "--name", "n", "-q")
    for name, fmt in (("m", "md5sum"), ("n", "md5sum"), ("n", "hashdeep")):
        out = tmp_path / f"{name}.{fmt}"
        assert invoke(runner, store, "hashset", "export", name, "--format", fmt, "-o",
                      str(out)).exit_code == 0  # fmt: skip
        imported = invoke(runner, store, "hashset", "import", str(out), "--name", name + fmt, "-q")
        assert f"format {fmt}" in imported.output
        assert md5s(store, name + fmt) == md5s(store, name)
    assert "4096,00112233445566778899aabbccddeeff," in (tmp_path / "n.hashdeep").read_text()
    refused = invoke(runner, store, "hashset", "export", "m", "--format", "hashdeep", "-o",
                     str(tmp_path / "m.hashdeep"))  # fmt: skip
    assert refused.exit_code == ExitCode.USAGE
    assert "keeps no file sizes (its nsrl-rdsv3 file gave none, or it was imported before" in (
        refused.output
    )
    assert "export it as md5sum" in refused.output
    assert not (tmp_path / "m.hashdeep").exists()


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


def test_export_to_dot_slash_dash_is_a_file_named_dash(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = tmp_path / "store"
    invoke(runner, store, "hashset", "import", str(DATA / "set.hsh"), "--name", "h", "-q")
    monkeypatch.chdir(tmp_path)
    result = invoke(runner, store, "hashset", "export", "h", "--format", "md5sum", "-o", "./-")
    assert result.exit_code == 0, result.output
    assert "exported 2 entries of 'h' as md5sum to ./-" in result.output
    assert (tmp_path / "-").read_text().splitlines()[0].startswith("00112233445566778899")


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


VICS_SETS = frozenset({"set"})


def _hit(label: str | None, category: Category, kind: HitType = HitType.EXACT) -> Hit:
    return Hit(kind, "md5" if kind is HitType.EXACT else "pdq", 0 if kind is HitType.EXACT
               else 18, None, "set", category, label, None, "00" * 16)  # fmt: skip


def _record(*hits: Hit) -> FileRecord:
    return FileRecord("S1", "a.jpg", 3, False, None, None, Times(),
                      (HashValue("md5", "ab" * 16),), hits)  # fmt: skip


def test_a_report_exports_the_category_of_the_hits_that_list_the_file() -> None:
    """Never a known-good hit's number (the file would come back as non-pertinent), never
    a near hit's (the file is not that medium); DHS numbers as the US scheme has them."""
    good = _hit("VICS 0 (Non-Pertinent)", Category.KNOWN_GOOD)
    cam = _hit("VICS 1 (Child Abuse Material)", Category.KNOWN_BAD)
    listed_elsewhere = _hit(None, Category.KNOWN_BAD)
    assert vics_category(_record(good, cam), VICS_SETS) == 1
    assert vics_category(_record(good, listed_elsewhere), VICS_SETS) is None
    dhs_comparison = _hit("VICS 4 (Exemplar/Comparison)", Category.ALERT)
    assert vics_category(_record(dhs_comparison), VICS_SETS) == 4
    assert vics_category(_record(_hit("VICS 0 (Uncategorized)", Category.ALERT)), VICS_SETS) is None
    assert vics_category(_record(_hit('VICS category "1.5"', Category.ALERT)), VICS_SETS) is None
    assert vics_category(_record(cam), frozenset({"another"})) is None  # not a VICS set
    near = _hit("VICS 1 (Child Abuse Material)", Category.KNOWN_BAD, HitType.NEAR)
    assert vics_category(_record(near), VICS_SETS) is None
    medium = vics_media("ab" * 16, [_record(near)], 1, VICS_SETS)
    assert "Category" not in medium and "near" in medium["Comments"]
    assert "Comments" not in vics_media("ab" * 16, [_record(cam)], 1, VICS_SETS)


def test_labels_give_back_only_the_numbers_they_were_read_from() -> None:
    assert vics_number("VICS 2 (Child Exploitive (non-CAM) / Age Difficult)") == 2
    assert vics_number("VICS 5 (Non-Pertinent)") == 0  # DHS 5 is US 0
    assert vics_number("VICS 7 (unknown in this scheme)") == 7
    for label in ('VICS category "1.5"', 'VICS category "0 (Non-Pertinent)"',
                  "VICS uncategorized", "NSRL", None, "VICS 1-2"):  # fmt: skip
        assert vics_number(label) is None, label


def test_odd_category_values_keep_their_alert_through_a_round_trip(
    runner: CliRunner, tmp_path: Path
) -> None:
    store = tmp_path / "store"
    values = [0.5, "1.5", "0 (Non-Pertinent)", "1-2"]
    vics = {"@odata.context": CONTEXT_US,
            "value": [{"MediaID": 10 + i, "MD5": f"{i:032x}", "Category": v}
                      for i, v in enumerate(values)]}  # fmt: skip
    (tmp_path / "odd.json").write_text(json.dumps(vics))
    invoke(runner, store, "hashset", "import", str(tmp_path / "odd.json"), "--name", "odd", "-q")
    assert {c for c, _, _ in breakdown(store, "odd")} == {"alert"}
    assert 'VICS category "0 (Non-Pertinent)"' in {label for _, label, _ in breakdown(store, "odd")}
    invoke(runner, store, "hashset", "export", "odd", "--format", "vics", "-o",
           str(tmp_path / "out.json"))  # fmt: skip
    invoke(runner, store, "hashset", "import", str(tmp_path / "out.json"), "--name", "back", "-q")
    assert {c for c, _, _ in breakdown(store, "back")} == {"alert"}


def test_a_dhs_set_is_exported_in_us_numbers(runner: CliRunner, tmp_path: Path) -> None:
    store = tmp_path / "store"
    vics = {"@odata.context": CONTEXT_US,
            "value": [{"MediaID": 1, "MD5": "01" * 16, "Category": 0},
                      {"MediaID": 2, "MD5": "02" * 16, "Category": 5},
                      {"MediaID": 3, "MD5": "03" * 16, "Category": 1}]}  # fmt: skip
    (tmp_path / "dhs.json").write_text(json.dumps(vics))
    invoke(runner, store, "hashset", "import", str(tmp_path / "dhs.json"), "--name", "d",
           "--category-scheme", "vics-dhs", "-q")  # fmt: skip
    invoke(runner, store, "hashset", "export", "d", "--format", "vics", "-o",
           str(tmp_path / "out.json"))  # fmt: skip
    exported = {m["MD5"]: m.get("Category") for m in
                json.loads((tmp_path / "out.json").read_text())["value"]}  # fmt: skip
    assert exported == {"01" * 16: None, "02" * 16: 0, "03" * 16: 1}
    invoke(runner, store, "hashset", "import", str(tmp_path / "out.json"), "--name", "us", "-q")
    categories = {label: c for c, label, _ in breakdown(store, "us")}
    assert categories == {"VICS uncategorized": "alert", "VICS 0 (Non-Pertinent)": "known-good",
                          "VICS 1 (Child Abuse Material)": "known-bad"}  # fmt: skip


def test_a_vics_set_is_exported_as_its_media_were_written(
    runner: CliRunner, tmp_path: Path
) -> None:
    """Its own MD5 (not an alternative one), MediaID, files and every other field; an
    md5sum export has a line for each MD5 an entry matches by."""
    store = tmp_path / "store"
    own, other = "0a" * 16, "0b" * 16
    medium = {"MediaID": 101, "MD5": own, "Category": 1, "Series": "SerA", "IsDistributed": True,
              "MediaSize": "2048",
              "PhotoDNA": "AAAA", "MediaFiles": [{"MD5": own, "FileName": "orig01.jpg"}],
              "AlternativeHashes": [{"HashName": "MD5", "HashValue": other}]}  # fmt: skip
    (tmp_path / "v.json").write_text(json.dumps({"@odata.context": CONTEXT_US, "value": [medium]}))
    invoke(runner, store, "hashset", "import", str(tmp_path / "v.json"), "--name", "v", "-q")
    first, second = tmp_path / "first.json", tmp_path / "second.json"
    invoke(runner, store, "hashset", "export", "v", "--format", "vics", "-o", str(first))
    assert json.loads(first.read_text())["value"] == [medium]
    invoke(runner, store, "hashset", "import", str(first), "--name", "again", "-q")
    invoke(runner, store, "hashset", "export", "again", "--format", "vics", "-o", str(second))
    assert second.read_bytes() == first.read_bytes()  # (it does not grow round after round)
    md5sum = tmp_path / "v.md5"
    invoke(runner, store, "hashset", "export", "v", "--format", "md5sum", "-o", str(md5sum))
    assert sorted(line.split()[0] for line in md5sum.read_text().splitlines()) == [own, other]
    hashdeep = tmp_path / "v.hd"  # (it once wrote the entry's own MD5 only)
    invoke(runner, store, "hashset", "export", "v", "--format", "hashdeep", "-o", str(hashdeep))
    rows = [line for line in hashdeep.read_text().splitlines() if not line.startswith(("%", "#"))]
    # Its first file's name: its reference, "MediaID 101; orig01.jpg; series SerA", was
    # written as a name, and came back as one; its size, its MediaSize.
    assert rows == [f"2048,{own},orig01.jpg", f"2048,{other},orig01.jpg"]


def test_a_label_that_reads_like_vics_from_another_format_gives_no_category(
    runner: CliRunner, tmp_path: Path
) -> None:
    """A CSV set made from hashmatch's own matches.csv carries labels such as 'VICS 1
    (Child Abuse Material)' on alert entries: exported, they became CAM."""
    store, evidence = tmp_path / "store", tmp_path / "evidence"
    evidence.mkdir()
    (evidence / "a.bin").write_bytes(b"flagged, not categorised")
    md5 = hashlib.md5(b"flagged, not categorised").hexdigest()
    (tmp_path / "set.csv").write_text(
        f"md5,name,category\n{md5},a.jpg,VICS 1 (Child Abuse Material)\n"
    )
    invoke(runner, store, "hashset", "import", str(tmp_path / "set.csv"), "--name", "lab", "-q")
    invoke(runner, store, "scan", str(evidence), "-o", str(tmp_path / "case"), "-q")
    report = invoke(runner, store, "report", str(tmp_path / "case"), "--format", "vics")
    (medium,) = json.loads(report.output)["value"][0]["Media"]
    assert medium["MD5"] == md5 and "Category" not in medium
    exported = invoke(runner, store, "hashset", "export", "lab", "--format", "vics", "-o", "-")
    (entry,) = json.loads(exported.stdout)["value"]
    assert entry["MD5"] == md5 and "Category" not in entry


def test_media_python_cannot_read_back_are_exported_as_written(
    runner: CliRunner, tmp_path: Path
) -> None:
    """A 5,000-digit MediaID (the bulk reader keeps it as written) and a MediaSize of
    1e999999 (infinity once read back) made the export drop the record, or write
    'Infinity', which is not JSON."""
    store = tmp_path / "store"
    plain = ", ".join(f'{{"MD5": "{n:032x}", "Category": 1}}' for n in range(3000))
    odd = (f'{{"MD5": "{"ab" * 16}", "Category": 1, "MediaID": {"9" * 5000}, '
           '"MediaSize": 1e999999, "MediaFiles": [{"FileName": "x.jpg"}]}')  # fmt: skip
    (tmp_path / "odd.json").write_text(
        f'{{"@odata.context": "{CONTEXT_US}", "value": [{plain}, {odd}]}}'
    )
    invoke(runner, store, "hashset", "import", str(tmp_path / "odd.json"), "--name", "o", "-q")
    out = tmp_path / "out.json"
    invoke(runner, store, "hashset", "export", "o", "--format", "vics", "-o", str(out))
    text = out.read_text()
    assert "Infinity" not in text and odd in text
    again = invoke(runner, store, "hashset", "import", str(out), "--name", "again", "-q")
    assert again.exit_code == 0 and "imported 3001 entries" in again.output
    md5sum = invoke(runner, store, "hashset", "export", "o", "--format", "md5sum", "-o", "-")
    assert f"{'ab' * 16}  x.jpg\n" in md5sum.stdout  # (its first file's name)


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full (Linux)")
def test_export_to_a_full_standard_output_says_so(runner: CliRunner, tmp_path: Path) -> None:
    store = tmp_path / "store"
    invoke(runner, store, "hashset", "import", str(DATA / "set.hsh"), "--name", "h", "-q")
    with open("/dev/full", "w") as full:
        done = subprocess.run(
            [sys.executable, "-m", "hashmatch", "--store", str(store), "hashset", "export", "h",
             "--format", "md5sum", "-o", "-"],
            stdout=full, stderr=subprocess.PIPE, text=True, check=False,
        )  # fmt: skip
    assert done.returncode == ExitCode.CASE_OR_STORE, done.stderr
    assert "cannot write to standard output" in done.stderr and "Traceback" not in done.stderr


def test_exports_say_which_perceptual_values_they_leave_out(
    runner: CliRunner, tmp_path: Path
) -> None:
    """A PDQ under quality 50 is kept but never used for near matching; VICS has no
    quality, so exported it came back as one without quality, and was used. md5sum and
    hashdeep hold no PDQ: they dropped them without a word."""
    store = tmp_path / "store"
    pdq = "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22"
    rows = [f"{n:032x},{pdq[:-2]}{n:02x},{q},f{n}.jpg" for n, q in enumerate([90, 30, 100])]
    (tmp_path / "set.csv").write_text("md5,pdq,quality,name\n" + "\n".join(rows) + "\n")
    invoke(runner, store, "hashset", "import", str(tmp_path / "set.csv"), "--name", "c", "-q")
    vics = CliRunner().invoke(cli, ["--store", str(store), "hashset", "export", "c",
                                    "--format", "vics", "-o", "-"])  # fmt: skip
    alternatives = [m.get("AlternativeHashes", []) for m in json.loads(vics.stdout)["value"]]
    assert [len(a) for a in alternatives] == [1, 0, 1]  # (the quality-30 PDQ left out)
    assert "left out 1 pdq (quality under 50) value" in vics.stderr
    md5sum = CliRunner().invoke(cli, ["--store", str(store), "hashset", "export", "c",
                                      "--format", "md5sum", "-o", "-"])  # fmt: skip
    assert len(md5sum.stdout.splitlines()) == 3 and "left out 3 pdq values" in md5sum.stderr
