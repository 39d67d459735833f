"""``hashmatch batch``: one case per manifest row, failures recorded, re-runs finish the rest."""

from __future__ import annotations

import csv
import hashlib
import json
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

from hashmatch.batch import case_status, read_manifest
from hashmatch.cli import cli
from hashmatch.cli.errors import ExitCode
from hashmatch.errors import ManifestError

KNOWN = b"a known file\n"


def invoke(runner: CliRunner, store: Path, *args: str):
    return runner.invoke(cli, ["--store", str(store), *args], catch_exceptions=False)


@pytest.fixture
def lab(tmp_path: Path, runner: CliRunner) -> Path:
    """Two evidence folders (one holding a known file), a store, and a manifest."""
    for name, extra in (("item1", KNOWN), ("item2", b"nothing known\n")):
        folder = tmp_path / "evidence" / name
        folder.mkdir(parents=True)
        (folder / "a.txt").write_bytes(extra)
        (folder / "b.txt").write_bytes(name.encode())
    known = tmp_path / "known.md5"
    known.write_text(f"{hashlib.md5(KNOWN).hexdigest()}  known.txt\n")
    imported = invoke(runner, tmp_path / "store", "hashset", "import", str(known), "--name",
                      "ref", "--category", "known-bad", "-q")  # fmt: skip
    assert imported.exit_code == 0, imported.output
    (tmp_path / "manifest.csv").write_text(
        "case_id,evidence,examiner,output,hashsets\n"
        "C-1,evidence/item1,A. Smith,cases/c1,ref\n"
        "C-2,evidence/item2,A. Smith,cases/c2,\n"
        "C-3,evidence/missing,B. Jones,cases/c3,\n"
    )
    return tmp_path


def outcomes(lab: Path) -> dict[str, str]:
    with (lab / "manifest-summary.csv").open(newline="") as stream:
        return {row["case_id"]: row["outcome"] for row in csv.DictReader(stream)}


def test_batch_runs_every_row_and_goes_on_past_a_failure(lab: Path, runner: CliRunner) -> None:
    result = invoke(runner, lab / "store", "batch", str(lab / "manifest.csv"), "--jobs", "1", "-q")
    assert result.exit_code == ExitCode.BATCH_INCOMPLETE
    assert outcomes(lab) == {"C-1": "completed", "C-2": "completed", "C-3": "failed"}
    summary = json.loads((lab / "manifest-summary.json").read_text())
    assert summary["rows"] == 3 and summary["failed"] == 1
    failed = summary["results"][2]
    assert "missing" in failed["message"] and failed["files"] is None
    report = json.loads((lab / "cases/c1/report.json").read_text())
    assert report["case"]["id"] == "C-1" and report["case"]["examiner"] == "A. Smith"
    assert [m["path"] for m in report["matches"]] == ["a.txt"]
    assert summary["results"][0]["matched_files"] == 1
    assert json.loads((lab / "cases/c2/report.json").read_text())["summary"]["files"] == 2
    audit = [json.loads(line) for line in (lab / "cases/c1/audit.log").read_text().splitlines()]
    assert audit[0]["command"][-1] == "(row 2: completed)" and audit[0]["exit_status"] == 0


def test_rerun_skips_completed_rows_and_finishes_the_rest(lab: Path, runner: CliRunner) -> None:
    invoke(runner, lab / "store", "batch", str(lab / "manifest.csv"), "--jobs", "1", "-q")
    before = (lab / "cases/c1/report.json").read_bytes()
    missing = lab / "evidence" / "missing"
    missing.mkdir()
    (missing / "c.txt").write_bytes(KNOWN)
    result = invoke(runner, lab / "store", "batch", str(lab / "manifest.csv"), "--jobs", "1", "-q")
    assert result.exit_code == 0, result.output
    assert outcomes(lab) == {"C-1": "already-complete", "C-2": "already-complete",
                             "C-3": "completed"}  # fmt: skip
    assert (lab / "cases/c1/report.json").read_bytes() == before
    # C-3 had no hashsets column: it used every imported set.
    assert len(json.loads((lab / "cases/c3/report.json").read_text())["matches"]) == 1


def test_an_interrupted_case_is_resumed(lab: Path, runner: CliRunner) -> None:
    invoke(runner, lab / "store", "batch", str(lab / "manifest.csv"), "--jobs", "1", "-q")
    case = lab / "cases" / "c2"
    with sqlite3.connect(case / "case.sqlite") as db:  # as a kill would have left it
        db.execute("UPDATE meta SET value = '\"running\"' WHERE key = 'status'")
        (file_id,) = db.execute("SELECT id FROM file WHERE path = 'b.txt'").fetchone()
        for table in ("file_hash", "hit", "error", "thumbnail"):
            db.execute(f"DELETE FROM {table} WHERE file_id = ?", (file_id,))
        db.execute("DELETE FROM file WHERE id = ?", (file_id,))
    (case / "report.json").unlink()
    db.close()
    assert case_status(case) == "running"
    invoke(runner, lab / "store", "batch", str(lab / "manifest.csv"), "--jobs", "1", "-q")
    assert outcomes(lab)["C-2"] == "resumed"
    assert json.loads((case / "report.json").read_text())["summary"]["files"] == 2
    assert case_status(case) == "complete"


def test_a_complete_case_without_its_manifest_is_resumed(lab: Path, runner: CliRunner) -> None:
    """Stopped after the case was marked complete, before its outputs and manifest were
    written: the next run writes them, as ``scan --resume`` does."""
    invoke(runner, lab / "store", "batch", str(lab / "manifest.csv"), "--jobs", "1", "-q")
    case = lab / "cases" / "c2"
    for name in ("report.json", "manifest.json"):
        (case / name).unlink()
    assert case_status(case) == "complete"
    invoke(runner, lab / "store", "batch", str(lab / "manifest.csv"), "--jobs", "1", "-q")
    assert outcomes(lab)["C-1"] == "already-complete"
    assert outcomes(lab)["C-2"] == "resumed"
    assert json.loads((case / "report.json").read_text())["summary"]["files"] == 2
    verified = invoke(runner, lab / "store", "verify", str(case))
    assert verified.exit_code == 0, verified.output


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("case_id,evidence,output\nC-1,e,o\n", "missing column(s) examiner"),
        ("case_id,evidence,examiner,output\n", "lists no evidence"),
        ("case_id,evidence,examiner,output\nC-1,,X,o\n", "line 2: empty evidence"),
        ("case_id,evidence,examiner,output\nC-1,e,X,o\nC-2,f,X,o\n", "same output folder"),
        ("case_id,evidence,examiner,output\nC-1,e,X,o,extra\n", "more cells than columns"),
    ],
)
def test_a_bad_manifest_runs_nothing(tmp_path: Path, text: str, message: str) -> None:
    manifest = tmp_path / "m.csv"
    manifest.write_text(text)
    with pytest.raises(ManifestError, match=message.replace("(", r"\(").replace(")", r"\)")):
        read_manifest(manifest)


def test_a_bad_manifest_exits_3_with_a_message(tmp_path: Path, runner: CliRunner) -> None:
    manifest = tmp_path / "m.csv"
    manifest.write_bytes(b"case_id,evidence\n\xff\xfe,x\n")
    result = invoke(runner, tmp_path / "store", "batch", str(manifest))
    assert result.exit_code == ExitCode.BAD_INPUT
    assert "hashmatch: error:" in result.output and "Traceback" not in result.output
    assert not list(tmp_path.glob("*summary*"))


def test_summary_cells_are_spreadsheet_safe(lab: Path, runner: CliRunner) -> None:
    (lab / "manifest.csv").write_text(
        'case_id,evidence,examiner,output\n=HYPERLINK("http://x"),evidence/item2,X,cases/h\n'
    )
    invoke(runner, lab / "store", "batch", str(lab / "manifest.csv"), "--jobs", "1", "-q")
    assert list(outcomes(lab)) == ['\'=HYPERLINK("http://x")']
